// SPDX-License-Identifier: GPL-2.0-or-later
#include "flows.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "filter.h"
#include "util.h"

#define ECONNREFUSED_ 111
#define ETIMEDOUT_ 110
#define ENETUNREACH_ 101
#define EHOSTUNREACH_ 113
#define EINPROGRESS_ 115

const char *const ct_result_names[RES_MAX] = { "ok", "refused", "timeout", "unreachable", "pending", "other" };
const char *const ct_group_names[GROUP_MAX] = { "flow", "process", "dest", "port" };
const char *const ct_sort_names[SORT_MAX] = { "comm", "pid",  "daddr",	 "dport", "proto", "rate",
					      "count", "fail", "failpct", "lat",   "last" };

struct ct_flow {
	struct flow_key key;
	struct ct_flow *hnext;	     /* hash chain */
	struct ct_flow *prev, *next; /* recency list: head is the most recently seen */
	uint64_t count, errs_other;
	uint64_t results[RES_MAX];
	uint64_t first_ns, last_ns;
	uint64_t lat_n, lat_sum_ns, lat_max_ns;
	uint64_t epoch; /* the interval hist[epoch % (CT_HIST + 1)] counts */
	uint32_t lat[CT_LAT_BUCKETS];
	/* the current interval and CT_HIST complete ones */
	uint32_t hist[CT_HIST + 1];
	struct ct_errcount errs[CT_FLOW_ERRS];
	uint32_t uid, pid, tag;
	uint32_t row; /* its row in snapshots, stable while it lives */
	uint32_t npids, pidcap; /* pidcap 0: pids live in pid_inline */
	uint32_t pid_inline[2];
	uint32_t *pidtab; /* open addressing, pidcap slots, 0 = empty */
};

struct ct_flows {
	struct ct_flow **buckets;
	size_t nbuckets; /* power of two */
	size_t n, max;
	struct ct_flow *head, *tail; /* recency list */
	struct ct_flow *free_list;   /* evicted flows kept for reuse */
	uint64_t evicted;
	size_t pids_total; /* sum of the flows' npids */
	uint64_t epoch;	  /* current (incomplete) interval */
	uint64_t tick_ns; /* when the current interval started */
	uint64_t last_interval_ns;
	flows_evict_fn evict_fn;
	void *evict_ctx;
	/* What lets a snapshot be brought up to date instead of copied again.
	 * A flow keeps its row (rows[f->row].f == f); a new flow takes the row
	 * of the flow it evicts, or the next one. clock counts snapshots; a
	 * change to a flow stamps its row with the clock (and a connect with
	 * the interval), so that finding the rows changed since a snapshot is
	 * a walk of this compact array. gen changes when rows are given out
	 * again from 0 (flows_clear). */
	struct flow_row {
		struct ct_flow *f;
		uint64_t clock; /* of its last change */
		uint64_t epoch; /* of its last connect */
	} *rows;
	size_t rows_cap;
	uint64_t id, gen, clock;
};

enum ct_result ct_classify(int ret)
{
	switch (-ret) {
	case 0:
		return RES_OK;
	case ECONNREFUSED_:
		return RES_REFUSED;
	case ETIMEDOUT_:
		return RES_TIMEOUT;
	case ENETUNREACH_:
	case EHOSTUNREACH_:
		return RES_UNREACH;
	case EINPROGRESS_:
		return RES_PENDING;
	default:
		return RES_OTHER;
	}
}

static uint64_t next_table_id;

struct ct_flows *flows_new(size_t max_flows)
{
	struct ct_flows *t;

	if (!max_flows) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->nbuckets = 1024;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	t->max = max_flows;
	t->clock = 1;
	t->id = __atomic_add_fetch(&next_table_id, 1, __ATOMIC_RELAXED);
	return t;
}

static void flow_release(struct ct_flow *f)
{
	free(f->pidtab);
}

void flows_free(struct ct_flows *t)
{
	struct ct_flow *f, *next;

	if (!t)
		return;
	for (f = t->head; f; f = next) {
		next = f->next;
		flow_release(f);
		free(f);
	}
	for (f = t->free_list; f; f = next) {
		next = f->next;
		free(f);
	}
	free(t->buckets);
	free(t->rows);
	free(t);
}

void flows_set_evict_cb(struct ct_flows *t, flows_evict_fn fn, void *ctx)
{
	t->evict_fn = fn;
	t->evict_ctx = ctx;
}

size_t flows_count(const struct ct_flows *t)
{
	return t->n;
}

uint64_t flows_evicted(const struct ct_flows *t)
{
	return t->evicted;
}

uint64_t flows_interval(const struct ct_flows *t)
{
	return t->epoch;
}

double flows_last_interval_s(const struct ct_flows *t)
{
	return t->last_interval_ns / 1e9;
}

static size_t bucket_of(const struct ct_flows *t, const struct flow_key *k)
{
	return ct_hash(k, sizeof(*k)) & (t->nbuckets - 1);
}

static void lru_unlink(struct ct_flows *t, struct ct_flow *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		t->head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		t->tail = f->prev;
	f->prev = f->next = NULL;
}

static void lru_push_head(struct ct_flows *t, struct ct_flow *f)
{
	f->prev = NULL;
	f->next = t->head;
	if (t->head)
		t->head->prev = f;
	t->head = f;
	if (!t->tail)
		t->tail = f;
}

static struct ct_flow *lookup(const struct ct_flows *t, const struct flow_key *k, struct ct_flow ***slot)
{
	struct ct_flow **pp = &t->buckets[bucket_of(t, k)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (!memcmp(&(*pp)->key, k, sizeof(*k))) {
			if (slot)
				*slot = pp;
			return *pp;
		}
	}
	if (slot)
		*slot = pp;
	return NULL;
}

/* A ring of CT_HIST + 1 per-interval counts whose newest interval is
 * ring_epoch (interval e is in slot e % (CT_HIST + 1), valid for
 * ring_epoch - CT_HIST <= e <= ring_epoch), as seen in the interval `epoch`:
 * the most recent complete interval first. ring_epoch may be the current
 * interval, which is not shown. */
static void ring_history(const uint32_t *ring, uint64_t ring_epoch, uint64_t epoch, uint32_t out[CT_HIST])
{
	uint64_t newest = epoch - 1; /* the last complete interval */
	uint64_t skip, n, slot;
	size_t o = 0;

	if (!epoch || ring_epoch + CT_HIST < newest) {
		memset(out, 0, CT_HIST * sizeof(*out));
		return;
	}
	/* intervals after ring_epoch saw nothing */
	skip = newest > ring_epoch ? newest - ring_epoch : 0;
	memset(out, 0, skip * sizeof(*out));
	o = skip;
	/* then the ring's intervals newest first, down to interval 0 or the ring's end */
	n = CT_HIST - skip;
	if (n > newest - skip + 1)
		n = newest - skip + 1;
	if (n > CT_HIST + 1 - (ring_epoch - (newest - skip)))
		n = CT_HIST + 1 - (ring_epoch - (newest - skip));
	slot = (newest - skip) % (CT_HIST + 1);
	for (uint64_t i = 0; i < n; i++) {
		out[o++] = ring[slot];
		slot = slot ? slot - 1 : CT_HIST;
	}
	memset(out + o, 0, (CT_HIST - o) * sizeof(*out));
}

/* the full interval number of a row's newest history slot: it is at most
 * `epoch`, and less than 2^32 intervals before it (136 years at 1 s) */
static uint64_t row_hist_epoch(const struct ct_row *r, uint64_t epoch)
{
	uint32_t back = (uint32_t)epoch - r->hist_epoch;

	return back <= epoch ? epoch - back : 0;
}

void ct_row_history(const struct ct_row *r, uint64_t epoch, uint32_t out[CT_HIST])
{
	ring_history(r->hist_ring, row_hist_epoch(r, epoch), epoch, out);
}

static void flow_to_row(const struct ct_flows *t, const struct ct_flow *f, struct ct_row *r, double interval_s)
{
	/* every field is written: no memset of the whole row first */
	r->key = f->key;
	r->count = f->count;
	memcpy(r->results, f->results, sizeof(r->results));
	r->errs_other = f->errs_other;
	r->first_ns = f->first_ns;
	r->last_ns = f->last_ns;
	r->lat_n = f->lat_n;
	r->lat_sum_ns = f->lat_sum_ns;
	r->lat_max_ns = f->lat_max_ns;
	memcpy(r->lat, f->lat, sizeof(r->lat));
	memcpy(r->errs, f->errs, sizeof(r->errs));
	memcpy(r->hist_ring, f->hist, sizeof(r->hist_ring));
	r->hist_epoch = (uint32_t)f->epoch;
	/* the last complete interval, when the ring has it */
	r->interval_count = t->epoch && f->epoch + 1 >= t->epoch ? f->hist[(t->epoch - 1) % (CT_HIST + 1)] : 0;
	r->rate = interval_s > 0 ? r->interval_count / interval_s : 0;
	r->uid = f->uid;
	r->pid = f->pid;
	r->npids = f->npids;
	r->nflows = 1;
	r->tag = f->tag;
	r->pids = NULL;
}

static size_t flow_pids(const struct ct_flow *f, uint32_t *out)
{
	size_t n = 0;

	if (!f->pidcap) {
		for (uint32_t i = 0; i < f->npids; i++)
			out[n++] = f->pid_inline[i];
		return n;
	}
	for (uint32_t i = 0; i < f->pidcap; i++)
		if (f->pidtab[i])
			out[n++] = f->pidtab[i];
	return n;
}

static void evict(struct ct_flows *t, struct ct_flow *f)
{
	struct ct_flow **slot;

	if (t->evict_fn) {
		uint32_t pids[CT_MAX_PIDS];
		struct ct_row r;

		flow_to_row(t, f, &r, 0);
		flow_pids(f, pids);
		r.pids = pids;
		t->evict_fn(t->evict_ctx, &r);
	}
	lookup(t, &f->key, &slot);
	*slot = f->hnext;
	t->pids_total -= f->npids;
	lru_unlink(t, f);
	flow_release(f);
	t->n--;
	f->next = t->free_list;
	t->free_list = f;
}

static void grow_buckets(struct ct_flows *t)
{
	size_t nb = t->nbuckets * 2;
	struct ct_flow **b = calloc(nb, sizeof(*b));

	if (!b)
		return; /* keep the longer chains: slower, still correct */
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct ct_flow *f = t->buckets[i], *next;

		for (; f; f = next) {
			size_t j = ct_hash(&f->key, sizeof(f->key)) & (nb - 1);

			next = f->hnext;
			f->hnext = b[j];
			b[j] = f;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

static struct ct_flow *flow_get(struct ct_flows *t, const struct flow_key *k, uint64_t ts)
{
	struct ct_flow **slot, *f = lookup(t, k, &slot);

	uint32_t row;

	if (f) {
		if (t->head != f) {
			lru_unlink(t, f);
			lru_push_head(t, f);
		}
		return f;
	}
	if (t->n >= t->rows_cap) {
		size_t cap = t->rows_cap ? t->rows_cap * 2 : 1024;
		struct flow_row *b;

		if (cap > t->max)
			cap = t->max;
		b = realloc(t->rows, cap * sizeof(*b));
		if (!b)
			return NULL;
		t->rows = b;
		t->rows_cap = cap;
	}
	if (t->n >= t->max) {
		row = t->tail->row; /* the new flow takes the evicted one's row */
		evict(t, t->tail);
		t->evicted++;
		lookup(t, k, &slot); /* the chain may have changed */
	} else {
		row = (uint32_t)t->n;
	}
	if (t->free_list) { /* never empty after an eviction */
		f = t->free_list;
		t->free_list = f->next;
	} else {
		f = malloc(sizeof(*f));
		if (!f)
			return NULL;
	}
	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->first_ns = ts;
	f->epoch = t->epoch;
	f->row = row;
	t->rows[row].f = f;
	f->hnext = *slot;
	*slot = f;
	lru_push_head(t, f);
	t->n++;
	if (t->n > t->nbuckets && t->nbuckets < (t->max | 1023))
		grow_buckets(t);
	return f;
}

static void pidtab_insert(uint32_t *tab, uint32_t cap, uint32_t pid)
{
	uint32_t i = (pid * 2654435761u) & (cap - 1);

	while (tab[i] && tab[i] != pid)
		i = (i + 1) & (cap - 1);
	tab[i] = pid;
}

static int pidtab_has(const uint32_t *tab, uint32_t cap, uint32_t pid)
{
	uint32_t i = (pid * 2654435761u) & (cap - 1);

	while (tab[i]) {
		if (tab[i] == pid)
			return 1;
		i = (i + 1) & (cap - 1);
	}
	return 0;
}

static void flow_add_pid(struct ct_flow *f, uint32_t pid)
{
	if (!pid || pid == f->pid)
		return;
	if (!f->pidcap) {
		for (uint32_t i = 0; i < f->npids; i++)
			if (f->pid_inline[i] == pid)
				return;
		if (f->npids < ARRAY_SIZE(f->pid_inline)) {
			f->pid_inline[f->npids++] = pid;
			return;
		}
		/* third distinct pid: move to a table */
		uint32_t *tab = calloc(8, sizeof(*tab));

		if (!tab)
			return;
		for (uint32_t i = 0; i < f->npids; i++)
			pidtab_insert(tab, 8, f->pid_inline[i]);
		f->pidtab = tab;
		f->pidcap = 8;
	}
	if (pidtab_has(f->pidtab, f->pidcap, pid) || f->npids >= CT_MAX_PIDS)
		return;
	if ((f->npids + 1) * 2 > f->pidcap) {
		uint32_t ncap = f->pidcap * 2;
		uint32_t *tab = calloc(ncap, sizeof(*tab));

		if (!tab)
			return;
		for (uint32_t i = 0; i < f->pidcap; i++)
			if (f->pidtab[i])
				pidtab_insert(tab, ncap, f->pidtab[i]);
		free(f->pidtab);
		f->pidtab = tab;
		f->pidcap = ncap;
	}
	pidtab_insert(f->pidtab, f->pidcap, pid);
	f->npids++;
}

static void add_err(struct ct_errcount *errs, uint64_t *other, int err, uint64_t n)
{
	for (int i = 0; i < CT_FLOW_ERRS; i++) {
		if (errs[i].err == err) {
			errs[i].count += n;
			return;
		}
		if (!errs[i].err) {
			errs[i].err = err;
			errs[i].count = n;
			return;
		}
	}
	*other += n;
}

static unsigned lat_bucket(uint64_t lat_ns)
{
	uint64_t us = lat_ns / 1000;
	unsigned b = 0;

	while (us > 1 && b < CT_LAT_BUCKETS - 1) {
		us >>= 1;
		b++;
	}
	return b;
}

void flows_add(struct ct_flows *t, const struct ct_sample *s)
{
	struct ct_flow *f = flow_get(t, &s->key, s->ts_ns);
	enum ct_result res;

	if (!f)
		return;
	t->rows[f->row].clock = t->clock;
	t->rows[f->row].epoch = t->epoch;
	if (f->epoch < t->epoch) {
		uint64_t gap = t->epoch - f->epoch;

		for (uint64_t i = 1; i <= gap && i <= CT_HIST + 1; i++)
			f->hist[(f->epoch + i) % (CT_HIST + 1)] = 0;
		f->epoch = t->epoch;
	}
	if (s->ts_ns > f->last_ns)
		f->last_ns = s->ts_ns;
	res = ct_classify(s->ret);
	if (s->outcome && f->results[RES_PENDING]) {
		/* resolves a connect already counted as pending */
		f->results[RES_PENDING]--;
	} else {
		/* a connect (or the outcome of one whose flow was evicted since) */
		f->count++;
		f->hist[f->epoch % (CT_HIST + 1)]++;
		t->pids_total -= f->npids;
		flow_add_pid(f, s->pid);
		t->pids_total += f->npids;
		f->pid = s->pid;
		f->uid = s->uid;
	}
	if (s->pending)
		res = RES_PENDING;
	f->results[res]++;
	if (res != RES_OK && res != RES_PENDING)
		add_err(f->errs, &f->errs_other, -s->ret, 1);
	/* handshake time of connects that were established or refused: a
	 * timeout's "latency" would only measure the kernel's SYN timeout */
	if (s->has_lat && (res == RES_OK || res == RES_REFUSED)) {
		f->lat[lat_bucket(s->lat_ns)]++;
		f->lat_n++;
		f->lat_sum_ns += s->lat_ns;
		if (s->lat_ns > f->lat_max_ns)
			f->lat_max_ns = s->lat_ns;
	}
}

void flows_tick(struct ct_flows *t, uint64_t now_ns)
{
	if (t->tick_ns) {
		t->last_interval_ns = now_ns > t->tick_ns ? now_ns - t->tick_ns : 0;
		t->epoch++;
	}
	t->tick_ns = now_ns;
}

void flows_clear(struct ct_flows *t)
{
	while (t->tail)
		evict(t, t->tail);
	t->gen++; /* rows are given out from 0 again */
}

int flows_tag_set(struct ct_flows *t, const struct flow_key *k, uint32_t tag)
{
	struct ct_flow *f = lookup(t, k, NULL);

	if (!f)
		return -ENOENT;
	f->tag = tag;
	t->rows[f->row].clock = t->clock;
	return 0;
}

uint64_t ct_row_failures(const struct ct_row *r)
{
	return r->results[RES_REFUSED] + r->results[RES_TIMEOUT] + r->results[RES_UNREACH] +
	       r->results[RES_OTHER];
}

double ct_row_lat_pct(const struct ct_row *r, double p)
{
	uint64_t want, seen = 0;

	if (!r->lat_n)
		return -1;
	want = (uint64_t)(p * r->lat_n + 0.999999);
	if (want < 1)
		want = 1;
	for (int b = 0; b < CT_LAT_BUCKETS; b++) {
		double lo = b ? (double)(1ULL << b) : 0, hi = (double)(1ULL << (b + 1)), v;

		if (!r->lat[b])
			continue;
		if (seen + r->lat[b] >= want) {
			v = lo + (hi - lo) * (double)(want - seen) / r->lat[b];
			if (v > r->lat_max_ns / 1000.0)
				v = r->lat_max_ns / 1000.0;
			return v;
		}
		seen += r->lat[b];
	}
	return r->lat_max_ns / 1000.0;
}

/* Rows for a snapshot: a large table goes on 2 MiB pages where the kernel
 * has transparent huge pages on request (Debian's default: madvise), so
 * that walking it costs no TLB miss per row. free() releases it. */
static struct ct_row *rows_alloc(size_t n)
{
	size_t bytes = n * sizeof(struct ct_row), huge = 2u << 20;
	void *p;

	if (bytes < huge)
		return malloc(bytes);
	bytes = (bytes + huge - 1) & ~(huge - 1);
	if (posix_memalign(&p, huge, bytes))
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, bytes, MADV_HUGEPAGE); /* advice only: without it, 4K pages */
#endif
	return p;
}

/* Rows are written at random places from flows at random places: asking
 * for the lines of a few rows ahead keeps several misses in flight. */
#define SNAP_AHEAD 6

static inline void prefetch_flow_row(const struct ct_flows *t, struct ct_snap *s, size_t row)
{
	const char *f = (const char *)t->rows[row].f;
	char *r = (char *)&s->rows[row];

	for (size_t o = 0; o < sizeof(struct ct_flow); o += 64)
		__builtin_prefetch(f + o);
	for (size_t o = 0; o < sizeof(struct ct_row); o += 64)
		__builtin_prefetch(r + o, 1);
}

/* write the row `row` of s with its pids: -1 when the pid pool has no room */
static int snap_write_row(const struct ct_flows *t, struct ct_snap *s, size_t row)
{
	const struct ct_flow *f = t->rows[row].f;
	struct ct_row *r = &s->rows[row];

	if (f->npids > s->pid_room[row]) {
		size_t room = f->npids < 2 ? 2 : 2 * (size_t)f->npids;

		if (room > CT_MAX_PIDS)
			room = CT_MAX_PIDS;
		if (s->pids_used + room > s->pids_cap)
			return -1;
		s->pid_off[row] = (uint32_t)s->pids_used;
		s->pid_room[row] = (uint32_t)room;
		s->pids_used += room;
	}
	flow_to_row(t, f, r, s->interval_s);
	r->pids = s->pid_pool + s->pid_off[row];
	flow_pids(f, s->pid_pool + s->pid_off[row]);
	return 0;
}

/* Bring s, taken from t earlier, up to date: rewrite the rows changed
 * after it, and when an interval ended since, those with connects in its
 * last two intervals (what they show as the last complete one changes).
 * -1 when s has no room for it. */
static int snap_update(const struct ct_flows *t, struct ct_snap *s)
{
	int ticked = t->epoch != s->epoch;
	uint32_t *todo = s->todo;
	size_t n = 0;

	for (size_t row = 0; row < t->n; row++) {
		const struct flow_row *fr = &t->rows[row];

		if (fr->clock > s->clock || (ticked && fr->epoch + 1 >= s->epoch))
			todo[n++] = (uint32_t)row;
	}
	for (size_t i = 0; i < n; i++) {
		if (i + SNAP_AHEAD < n)
			prefetch_flow_row(t, s, todo[i + SNAP_AHEAD]);
		if (snap_write_row(t, s, todo[i]))
			return -1;
	}
	return 0;
}

/* copy every flow into s; room: leave room to update s later */
static int snap_fill(const struct ct_flows *t, struct ct_snap *s, int room)
{
	size_t rows = t->n, pids = t->pids_total;

	if (room) {
		rows += rows / 4 + 64;
		if (rows > t->max)
			rows = t->max;
		pids += pids / 2 + 1024;
	}
	if (rows < t->n || !rows)
		rows = t->n ? t->n : 1;
	if (s->rows_cap < rows || !s->rows) {
		free(s->rows);
		free(s->pid_off);
		free(s->pid_room);
		free(s->todo);
		s->rows_cap = rows;
		s->rows = rows_alloc(rows);
		s->pid_off = malloc(rows * sizeof(*s->pid_off));
		s->pid_room = malloc(rows * sizeof(*s->pid_room));
		s->todo = malloc(rows * sizeof(*s->todo));
	}
	if (s->pids_cap < pids || !s->pid_pool) {
		free(s->pid_pool);
		s->pids_cap = pids ? pids : 1;
		s->pid_pool = malloc(s->pids_cap * sizeof(*s->pid_pool));
	}
	if (!s->rows || !s->pid_pool || !s->pid_off || !s->pid_room || !s->todo)
		return -1;
	s->pids_used = 0;
	for (size_t i = 0; i < t->n; i++) {
		s->pid_off[i] = (uint32_t)s->pids_used;
		s->pid_room[i] = t->rows[i].f->npids;
		s->pids_used += s->pid_room[i];
	}
	/* rows for flows to come have no pids yet */
	memset(s->pid_room + t->n, 0, (s->rows_cap - t->n) * sizeof(*s->pid_room));
	for (size_t i = 0; i < t->n; i++) {
		if (i + SNAP_AHEAD < t->n)
			prefetch_flow_row(t, s, i + SNAP_AHEAD);
		snap_write_row(t, s, i); /* cannot fail: the room is there */
	}
	return 0;
}

struct ct_snap *flows_snapshot_reuse(struct ct_flows *t, uint64_t now_ns, struct ct_snap *s)
{
	int reuse = s != NULL;

	if (!s && !(s = calloc(1, sizeof(*s))))
		return NULL;
	s->taken_ns = now_ns;
	s->interval_s = t->last_interval_ns / 1e9;
	s->full = !(reuse && s->table_id == t->id && s->gen == t->gen && s->rows && s->rows_cap >= t->n &&
		    s->epoch <= t->epoch && !snap_update(t, s));
	if (s->full && snap_fill(t, s, reuse)) {
		snap_free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->n = t->n;
	s->epoch = t->epoch;
	s->table_id = t->id;
	s->gen = t->gen;
	s->clock = t->clock++;
	return s;
}

struct ct_snap *flows_snapshot(struct ct_flows *t, uint64_t now_ns)
{
	return flows_snapshot_reuse(t, now_ns, NULL);
}

void snap_free(struct ct_snap *s)
{
	if (!s)
		return;
	free(s->rows);
	free(s->pid_pool);
	free(s->pid_off);
	free(s->pid_room);
	free(s->todo);
	free(s);
}

int ct_sort_parse(const char *name)
{
	for (int i = 0; i < SORT_MAX; i++)
		if (!strcmp(name, ct_sort_names[i]))
			return i;
	return -1;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_dbl(double a, double b)
{
	return a < b ? -1 : a > b;
}

static int key_cmp(const struct flow_key *a, const struct flow_key *b)
{
	int c = strncmp(a->comm, b->comm, sizeof(a->comm));

	if (c)
		return c;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->daddr, b->daddr, sizeof(a->daddr));
	if (c)
		return c;
	if (a->dport != b->dport)
		return a->dport < b->dport ? -1 : 1;
	return cmp_u64(a->proto, b->proto);
}

static double fail_share(const struct ct_row *r)
{
	uint64_t done = r->count - r->results[RES_PENDING];

	return done ? (double)ct_row_failures(r) / done : 0;
}

int ct_row_cmp(const struct ct_row *a, const struct ct_row *b, enum ct_sort sort, int desc)
{
	int c = 0;

	switch (sort) {
	case SORT_COMM:
		c = strncmp(a->key.comm, b->key.comm, sizeof(a->key.comm));
		break;
	case SORT_PID:
		c = cmp_u64(a->pid, b->pid);
		break;
	case SORT_DADDR:
		c = a->key.family != b->key.family ? (a->key.family < b->key.family ? -1 : 1)
						   : memcmp(a->key.daddr, b->key.daddr, 16);
		break;
	case SORT_DPORT:
		c = cmp_u64(a->key.dport, b->key.dport);
		break;
	case SORT_PROTO:
		c = cmp_u64(a->key.proto, b->key.proto);
		break;
	case SORT_RATE:
		c = cmp_dbl(a->rate, b->rate);
		break;
	case SORT_COUNT:
		c = cmp_u64(a->count, b->count);
		break;
	case SORT_FAIL:
		c = cmp_u64(ct_row_failures(a), ct_row_failures(b));
		break;
	case SORT_FAILPCT:
		c = cmp_dbl(fail_share(a), fail_share(b));
		break;
	case SORT_LAT:
		c = cmp_dbl(ct_row_lat_pct(a, 0.99), ct_row_lat_pct(b, 0.99));
		break;
	case SORT_LAST:
		c = cmp_u64(a->last_ns, b->last_ns);
		break;
	default:
		break;
	}
	if (c)
		return desc ? -c : c;
	return key_cmp(&a->key, &b->key); /* stable tie-break, always ascending */
}

/* qsort has no context argument in C11: the sort order travels in statics,
 * which is fine in this single-threaded program */
static enum ct_sort qsort_key;
static int qsort_desc;

static int qsort_cmp(const void *a, const void *b)
{
	return ct_row_cmp(*(const struct ct_row *const *)a, *(const struct ct_row *const *)b, qsort_key,
			  qsort_desc);
}

static void group_key(enum ct_group g, const struct flow_key *in, struct flow_key *out)
{
	memset(out, 0, sizeof(*out));
	switch (g) {
	case GROUP_PROCESS:
		memcpy(out->comm, in->comm, sizeof(out->comm));
		break;
	case GROUP_DEST:
		out->family = in->family;
		memcpy(out->daddr, in->daddr, sizeof(out->daddr));
		break;
	case GROUP_PORT:
		out->dport = in->dport;
		out->proto = in->proto;
		break;
	default:
		*out = *in;
	}
}

/* Grouping is done in two passes, so that a view of 100,000 flows costs
 * little more than what it shows: every member adds its counters to its
 * group (merge_light), then only the groups put in order get what only a
 * shown row needs (merge_heavy: history, error list, latency buckets unless
 * sorting by latency needs them for all, distinct pids). */
static void merge_light(struct ct_row *g, const struct ct_row *r, int lat_buckets)
{
	if (!g->nflows || r->last_ns >= g->last_ns) {
		g->pid = r->pid;
		g->uid = r->uid;
	}
	if (!g->nflows || r->first_ns < g->first_ns)
		g->first_ns = r->first_ns;
	if (r->last_ns > g->last_ns)
		g->last_ns = r->last_ns;
	g->count += r->count;
	g->interval_count += r->interval_count;
	g->rate += r->rate;
	for (int i = 0; i < RES_MAX; i++)
		g->results[i] += r->results[i];
	g->errs_other += r->errs_other;
	g->lat_n += r->lat_n;
	g->lat_sum_ns += r->lat_sum_ns;
	if (r->lat_max_ns > g->lat_max_ns)
		g->lat_max_ns = r->lat_max_ns;
	if (lat_buckets)
		for (int i = 0; i < CT_LAT_BUCKETS; i++)
			g->lat[i] += r->lat[i];
	g->npids += r->npids; /* an upper bound until merge_heavy counts them */
	g->nflows++;
}

/* g's history ring ends at interval epoch - 1, the last complete one; its
 * slot of interval `epoch` is cleared when every member is in */
static void merge_heavy(struct ct_row *g, const struct ct_row *r, int lat_buckets, uint64_t epoch)
{
	for (int i = 0; i < CT_FLOW_ERRS && r->errs[i].err; i++)
		add_err(g->errs, &g->errs_other, r->errs[i].err, r->errs[i].count);
	if (lat_buckets)
		for (int i = 0; i < CT_LAT_BUCKETS; i++)
			g->lat[i] += r->lat[i];
	if (!epoch)
		return;
	if (row_hist_epoch(r, epoch) + 1 >= epoch) {
		/* r's ring holds every interval g shows, in the same slots */
		for (int i = 0; i < CT_HIST + 1; i++)
			g->hist_ring[i] += r->hist_ring[i];
	} else {
		uint32_t h[CT_HIST];
		size_t slot = (epoch - 1) % (CT_HIST + 1);

		ring_history(r->hist_ring, row_hist_epoch(r, epoch), epoch, h);
		for (int i = 0; i < CT_HIST; i++) {
			g->hist_ring[slot] += h[i];
			slot = slot ? slot - 1 : CT_HIST;
		}
	}
}

/* A view walks 100,000 rows of 576 bytes: bound by memory latency, which
 * the hardware prefetcher does not hide for such strides. Asking for the
 * lines a few rows ahead keeps several misses in flight. */
#define PREFETCH_AHEAD 8

static inline void prefetch_light(const struct ct_row *r)
{
	const char *p = (const char *)r;

	__builtin_prefetch(p);
	__builtin_prefetch(p + 64);
	__builtin_prefetch(p + 128);
	__builtin_prefetch(p + 191);
}

static inline void prefetch_heavy(const struct ct_row *r)
{
	const char *p = (const char *)&r->errs;

	for (size_t o = 0; o < sizeof(*r) - offsetof(struct ct_row, errs); o += 64)
		__builtin_prefetch(p + o);
}

static inline uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* the hash of the fields of a flow's key that make its group: cheaper
 * than hashing whole keys */
static inline uint32_t group_hash(enum ct_group g, const struct flow_key *k)
{
	uint64_t w[2];

	switch (g) {
	case GROUP_PROCESS:
		memcpy(w, k->comm, 16);
		break;
	case GROUP_DEST:
		memcpy(w, k->daddr, 16);
		w[1] ^= (uint64_t)k->family << 56;
		break;
	default: /* GROUP_PORT */
		w[0] = k->dport | (uint64_t)k->proto << 16;
		w[1] = 0;
	}
	return (uint32_t)mix64(w[0] * 0x9e3779b97f4a7c15ULL ^ w[1]);
}

/* does flow key k belong to the group whose key (group_key) is gk? */
static inline int group_has(enum ct_group g, const struct flow_key *gk, const struct flow_key *k)
{
	switch (g) {
	case GROUP_PROCESS:
		return !memcmp(gk->comm, k->comm, sizeof(k->comm));
	case GROUP_DEST:
		return gk->family == k->family && !memcmp(gk->daddr, k->daddr, sizeof(k->daddr));
	default: /* GROUP_PORT */
		return gk->dport == k->dport && gk->proto == k->proto;
	}
}

/* a slot of the group index: the group's index in agg + 1 (0: empty) and
 * its hash, so that a probe reads one array and then the group's row,
 * which the merge reads anyway */
struct group_slot {
	uint32_t idx1, hash;
};

/* the view's buffers: kept from one view to the next (snap_view_reuse),
 * so that a refresh with 100,000 groups does not fault in fresh memory */
struct ct_view_work {
	const struct ct_row **members; /* the filtered flows */
	uint32_t *gidx;		       /* members[i] is in group gidx[i] of agg */
	struct group_slot *slot;       /* open addressing, twice the groups */
	size_t *off;		       /* by group: where its pids go in pid_pool */
	uint8_t *want;		       /* by group: put in order, to be filled */
	uint32_t *list;		       /* the members of the groups to fill */
	uint64_t *set;		       /* (group, pid) pairs seen */
	size_t members_cap, gidx_cap, slot_cap, off_cap, want_cap, list_cap, set_cap;
	size_t nmembers, ngroups;
};

/* make *p hold at least `need` elements, keeping what it holds */
static int grow_buf(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 64;
	void *np;

	if (*p && need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	np = realloc(*p, c * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = c;
	return 0;
}
#define GROW(p, cap, need) grow_buf((void **)&(p), &(cap), (need), sizeof(*(p)))

/* the group index is twice the groups, a power of two */
static int group_index_resize(struct ct_view_work *w, size_t cap)
{
	struct group_slot *slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < w->slot_cap; i++) {
		size_t h;

		if (!w->slot[i].idx1)
			continue;
		h = w->slot[i].hash & (cap - 1);
		while (slot[h].idx1)
			h = (h + 1) & (cap - 1);
		slot[h] = w->slot[i];
	}
	free(w->slot);
	w->slot = slot;
	w->slot_cap = cap;
	return 0;
}

/* pass 1: v->agg and v->rows get one row per group, light fields only
 * (and the latency buckets when the sort needs them) */
static int build_groups(enum ct_group g, size_t nsel, int lat_buckets, struct ct_view *v)
{
	struct ct_view_work *w = v->work;
	size_t ng = 0;

	if (GROW(w->members, w->members_cap, nsel) || GROW(w->gidx, w->gidx_cap, nsel))
		return -ENOMEM;
	if (!w->slot && group_index_resize(w, 1024))
		return -ENOMEM;
	memcpy(w->members, v->rows, nsel * sizeof(*v->rows));
	memset(w->slot, 0, w->slot_cap * sizeof(*w->slot));
	for (size_t i = 0; i < nsel; i++) {
		const struct ct_row *m = w->members[i];
		uint32_t hk;
		size_t h, idx;

		if (i + PREFETCH_AHEAD < nsel)
			prefetch_light(w->members[i + PREFETCH_AHEAD]);
		hk = group_hash(g, &m->key);
		h = hk & (w->slot_cap - 1);
		while (w->slot[h].idx1 &&
		       (w->slot[h].hash != hk || !group_has(g, &v->agg[w->slot[h].idx1 - 1].key, &m->key)))
			h = (h + 1) & (w->slot_cap - 1);
		if (w->slot[h].idx1) {
			idx = w->slot[h].idx1 - 1;
		} else {
			struct ct_row *n;

			if (GROW(v->agg, v->agg_cap, ng + 1))
				return -ENOMEM;
			n = &v->agg[ng];
			memset(n, 0, offsetof(struct ct_row, errs)); /* the rest: fill_groups */
			if (lat_buckets)
				memset(n->lat, 0, sizeof(n->lat));
			group_key(g, &m->key, &n->key);
			idx = ng++;
			w->slot[h] = (struct group_slot){ .idx1 = (uint32_t)ng, .hash = hk };
			if (ng * 2 >= w->slot_cap && group_index_resize(w, w->slot_cap * 2))
				return -ENOMEM;
		}
		w->gidx[i] = (uint32_t)idx;
		merge_light(&v->agg[idx], m, lat_buckets);
	}
	for (size_t i = 0; i < ng; i++)
		v->rows[i] = &v->agg[i];
	v->n = ng;
	w->nmembers = nsel;
	w->ngroups = ng;
	return 0;
}

/* pass 2: the groups in v->rows[0..upto) get their heavy fields and their
 * distinct pids (an open-addressing set of (group, pid)); the latency
 * buckets too unless pass 1 added them. */
static int fill_groups(struct ct_view *v, size_t upto, int lat_buckets)
{
	struct ct_view_work *w = v->work;
	size_t total = 0, cap = 16, nlist = 0, ng = w->ngroups;

	if (GROW(w->off, w->off_cap, ng + 1) || GROW(w->want, w->want_cap, ng + 1) ||
	    GROW(w->list, w->list_cap, w->nmembers + 1))
		return -ENOMEM;
	memset(w->off, 0, (ng + 1) * sizeof(*w->off));
	memset(w->want, 0, ng + 1);
	for (size_t i = 0; i < upto; i++) {
		struct ct_row *g = &v->agg[v->rows[i] - v->agg];

		w->want[g - v->agg] = 1;
		memset(g->errs, 0, sizeof(g->errs));
		memset(g->hist_ring, 0, sizeof(g->hist_ring));
		if (lat_buckets)
			memset(g->lat, 0, sizeof(g->lat));
	}
	/* the members of those groups, in order */
	for (size_t i = 0; i < w->nmembers; i++)
		if (w->want[w->gidx[i]])
			w->list[nlist++] = (uint32_t)i;
	for (size_t k = 0; k < nlist; k++) {
		size_t i = w->list[k], gi = w->gidx[i];

		if (k + PREFETCH_AHEAD < nlist)
			prefetch_heavy(w->members[w->list[k + PREFETCH_AHEAD]]);
		merge_heavy(&v->agg[gi], w->members[i], lat_buckets, v->epoch);
		w->off[gi + 1] += w->members[i]->npids;
		total += w->members[i]->npids;
	}
	for (size_t gi = 0; gi < ng; gi++)
		w->off[gi + 1] += w->off[gi];
	while (cap < total * 2)
		cap *= 2;
	if (GROW(w->set, w->set_cap, cap) || GROW(v->pid_pool, v->pool_cap, total + 1))
		return -ENOMEM;
	memset(w->set, 0, cap * sizeof(*w->set));
	for (size_t gi = 0; gi < ng; gi++) {
		if (!w->want[gi])
			continue;
		v->agg[gi].pids = v->pid_pool + w->off[gi];
		v->agg[gi].npids = 0;
		/* what merge_heavy added for the current interval is not shown */
		v->agg[gi].hist_epoch = (uint32_t)(v->epoch ? v->epoch - 1 : 0);
		v->agg[gi].hist_ring[v->epoch % (CT_HIST + 1)] = 0;
	}
	for (size_t k = 0; k < nlist; k++) {
		const struct ct_row *m = w->members[w->list[k]];
		size_t gi = w->gidx[w->list[k]];
		struct ct_row *g = &v->agg[gi];

		for (uint32_t j = 0; j < m->npids; j++) {
			uint64_t key = ((uint64_t)(gi + 1) << 32) | m->pids[j];
			size_t h = mix64(key) & (cap - 1);

			while (w->set[h] && w->set[h] != key)
				h = (h + 1) & (cap - 1);
			if (w->set[h])
				continue;
			w->set[h] = key;
			if (g->npids < CT_MAX_PIDS)
				v->pid_pool[w->off[gi] + g->npids++] = m->pids[j];
		}
	}
	return 0;
}

/* move the `limit` first rows (in sort order) to the front, in order:
 * a max-heap of the best `limit` seen so far, whose top is the worst of them */
static void select_top(const struct ct_row **rows, size_t n, size_t limit)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct ct_row *r = rows[i];
		size_t j;

		if (k < limit) {
			/* sift up */
			rows[i] = rows[k];
			j = k++;
			while (j && qsort_cmp(&r, &rows[(j - 1) / 2]) > 0) {
				rows[j] = rows[(j - 1) / 2];
				j = (j - 1) / 2;
			}
			rows[j] = r;
			continue;
		}
		if (qsort_cmp(&r, &rows[0]) >= 0)
			continue; /* not better than the worst kept */
		rows[i] = rows[0];
		/* sift r down from the top */
		j = 0;
		for (;;) {
			size_t c = 2 * j + 1;

			if (c >= k)
				break;
			if (c + 1 < k && qsort_cmp(&rows[c + 1], &rows[c]) > 0)
				c++;
			if (qsort_cmp(&rows[c], &r) <= 0)
				break;
			rows[j] = rows[c];
			j = c;
		}
		rows[j] = r;
	}
	qsort(rows, k, sizeof(*rows), qsort_cmp);
}

int snap_view_reuse(const struct ct_snap *s, enum ct_group g, const struct ct_filter *f, enum ct_sort sort,
		    int desc, size_t limit, struct ct_view *out)
{
	size_t nsel = 0;
	int rc;

	out->n = out->sorted = 0;
	out->total = s->n;
	out->epoch = s->epoch;
	if (GROW(out->rows, out->rows_cap, s->n + 1))
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		if (filter_match(f, &s->rows[i]))
			out->rows[nsel++] = &s->rows[i];
	out->n = nsel;
	if (g != GROUP_FLOW) {
		if (!out->work && !(out->work = calloc(1, sizeof(*out->work))))
			return -ENOMEM;
		/* build_groups rewrites out->rows in place: it keeps its own copy */
		if ((rc = build_groups(g, nsel, sort == SORT_LAT, out))) {
			out->n = 0;
			return rc;
		}
	}
	qsort_key = sort;
	qsort_desc = desc;
	if (limit && limit < out->n) {
		select_top(out->rows, out->n, limit);
		out->sorted = limit;
	} else {
		qsort(out->rows, out->n, sizeof(*out->rows), qsort_cmp);
		out->sorted = out->n;
	}
	if (g != GROUP_FLOW && (rc = fill_groups(out, out->sorted, sort != SORT_LAT))) {
		out->n = out->sorted = 0;
		return rc;
	}
	return 0;
}

int snap_view(const struct ct_snap *s, enum ct_group g, const struct ct_filter *f, enum ct_sort sort, int desc,
	      size_t limit, struct ct_view *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = snap_view_reuse(s, g, f, sort, desc, limit, out);
	if (rc)
		view_rows_free(out);
	return rc;
}

void view_rows_free(struct ct_view *v)
{
	struct ct_view_work *w;

	if (!v)
		return;
	w = v->work;
	if (w) {
		free(w->members);
		free(w->gidx);
		free(w->slot);
		free(w->off);
		free(w->want);
		free(w->list);
		free(w->set);
		free(w);
	}
	free(v->rows);
	free(v->agg);
	free(v->pid_pool);
	memset(v, 0, sizeof(*v));
}
