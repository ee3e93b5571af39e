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

const char *const ct_result_names[RES_MAX] = { "ok",	  "refused", "timeout",	 "unreachable",
					       "pending", "other",   "abandoned" };
const char *const ct_group_names[GROUP_MAX] = { "flow", "process", "dest", "port" };
const char *const ct_sort_names[SORT_MAX] = { "comm",  "pid",  "daddr",	  "dport", "proto", "rate",
					      "count", "fail", "failpct", "lat",   "last" };

struct ct_flow {
	struct flow_key key;
	struct ct_flow *hnext;	     /* hash chain */
	struct ct_flow *prev, *next; /* recency list: head is the most recently seen */
	uint64_t count;
	uint64_t results[RES_MAX];
	uint64_t first_ns, last_ns;
	uint64_t lat_n, lat_sum_ns, lat_max_ns;
	uint64_t epoch; /* the interval hist[epoch % (CT_HIST + 1)] counts */
	uint32_t lat[CT_LAT_BUCKETS];
	/* the current interval and CT_HIST complete ones */
	uint32_t hist[CT_HIST + 1];
	struct ct_errcount errs[CT_FLOW_ERRS];
	uint64_t abandon_max_ns;
	uint32_t errs_other;
	uint32_t uid, pid, tag;
	uint32_t row;		/* its row in snapshots, stable while it lives */
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
	uint64_t epoch;	   /* current (incomplete) interval */
	uint64_t tick_ns;  /* when the current interval started */
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
	} * rows;
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
	default:
		/* EINPROGRESS too: a connect is pending only when its outcome
		 * is to follow (ct_sample.pending); one that returned
		 * EINPROGRESS without it could not be followed (the BPF map
		 * of sockets in SYN_SENT was full, counted as a drop), and
		 * left as pending it would stay so forever */
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

static struct ct_flow *lookup(const struct ct_flows *t, const struct flow_key *k,
			      struct ct_flow ***slot)
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
static void ring_history(const uint32_t *ring, uint64_t ring_epoch, uint64_t epoch,
			 uint32_t out[CT_HIST])
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

/* views walk rows by the 100,000: keep them to three whole cache lines */
_Static_assert(sizeof(struct ct_row) == 192, "struct ct_row is not 192 bytes");

/* the full interval number of a row's newest history slot: it is at most
 * `epoch`, and less than 2^32 intervals before it (136 years at 1 s) */
static uint64_t row_hist_epoch(const struct ct_row *r, uint64_t epoch)
{
	uint32_t back = (uint32_t)epoch - r->hist_epoch;

	return back <= epoch ? epoch - back : 0;
}

void ct_row_history(const struct ct_row *r, uint64_t epoch, uint32_t out[CT_HIST])
{
	ring_history(r->more->hist_ring, row_hist_epoch(r, epoch), epoch, out);
}

/* a ring whose newest interval is `from` moves on to `to`: the slots of the
 * intervals in between saw nothing */
static void ring_advance(uint32_t *ring, uint64_t from, uint64_t to)
{
	for (uint64_t i = 1; from + i <= to && i <= CT_HIST + 1; i++)
		ring[(from + i) % (CT_HIST + 1)] = 0;
}

/* add (sign 1) or take away (-1) n intervals of a history h[] (h[0] the
 * interval `newest`, h[1] the one before, ...) into a ring */
static void ring_put(uint32_t *ring, uint64_t newest, const uint32_t *h, size_t n, int sign)
{
	size_t slot = newest % (CT_HIST + 1);

	for (size_t i = 0; i < n; i++) {
		ring[slot] += sign > 0 ? h[i] : -h[i];
		slot = slot ? slot - 1 : CT_HIST;
	}
}

/* connects per second over an interval of interval_s (0 if none ended yet) */
static double rate_of(uint64_t count, double interval_s)
{
	return interval_s > 0 ? count / interval_s : 0;
}

/* f into the row r and its more m (whose pids the caller sets) */
static void flow_to_row(const struct ct_flows *t, const struct ct_flow *f, struct ct_row *r,
			struct ct_row_more *m, double interval_s)
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
	r->hist_epoch = (uint32_t)f->epoch;
	/* the last complete interval, when the ring has it */
	r->interval_count =
		t->epoch && f->epoch + 1 >= t->epoch ? f->hist[(t->epoch - 1) % (CT_HIST + 1)] : 0;
	r->rate = rate_of(r->interval_count, interval_s);
	r->uid = f->uid;
	r->pid = f->pid;
	r->npids = f->npids;
	r->nflows = 1;
	r->tag = f->tag;
	r->more = m;
	m->pids = NULL;
	memcpy(m->lat, f->lat, sizeof(m->lat));
	memcpy(m->errs, f->errs, sizeof(m->errs));
	m->abandon_max_ns = f->abandon_max_ns;
	memcpy(m->hist_ring, f->hist, sizeof(m->hist_ring));
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
		struct ct_row_more m;

		flow_to_row(t, f, &r, &m, 0);
		flow_pids(f, pids);
		m.pids = pids;
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

static void add_err(struct ct_errcount *errs, uint32_t *other, int err, uint64_t n)
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
		ring_advance(f->hist, f->epoch, t->epoch);
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
	else if (s->abandoned)
		res = RES_ABANDONED;
	f->results[res]++;
	if (res == RES_ABANDONED && s->lat_ns > f->abandon_max_ns)
		f->abandon_max_ns = s->lat_ns;
	if (res != RES_OK && res != RES_PENDING && res != RES_ABANDONED)
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
	       r->results[RES_OTHER] + r->results[RES_ABANDONED];
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

		if (!r->more->lat[b])
			continue;
		if (seen + r->more->lat[b] >= want) {
			v = lo + (hi - lo) * (double)(want - seen) / r->more->lat[b];
			if (v > r->lat_max_ns / 1000.0)
				v = r->lat_max_ns / 1000.0;
			return v;
		}
		seen += r->more->lat[b];
	}
	return r->lat_max_ns / 1000.0;
}

/* Rows for a snapshot: a large table goes on 2 MiB pages where the kernel
 * has transparent huge pages on request (Debian's default: madvise), so
 * that walking it costs no TLB miss per row. free() releases it. */
static void *rows_alloc(size_t n, size_t size)
{
	size_t bytes = n * size, huge = 2u << 20;
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
	char *r = (char *)&s->rows[row], *m = (char *)&s->more[row];

	for (size_t o = 0; o < sizeof(struct ct_flow); o += 64)
		__builtin_prefetch(f + o);
	for (size_t o = 0; o < sizeof(struct ct_row); o += 64)
		__builtin_prefetch(r + o, 1);
	for (size_t o = 0; o < sizeof(struct ct_row_more); o += 64)
		__builtin_prefetch(m + o, 1);
}

/* The pid pool of s has no room left for `need` more: make it twice as
 * large and point the rows' pids into the new one (the rows written so far:
 * those with room; rows for flows to come have none). -1 when out of
 * memory. */
static int snap_pool_grow(const struct ct_flows *t, struct ct_snap *s, size_t need)
{
	size_t cap = s->pids_cap * 2;
	uint32_t *pool;

	while (cap < s->pids_used + need)
		cap *= 2;
	pool = realloc(s->pid_pool, cap * sizeof(*pool));
	if (!pool)
		return -1;
	s->pid_pool = pool;
	s->pids_cap = cap;
	for (size_t row = 0; row < t->n; row++)
		if (s->pid_room[row])
			s->more[row].pids = pool + s->pid_off[row];
	return 0;
}

/* write the row `row` of s with its pids: -1 when out of memory */
static int snap_write_row(const struct ct_flows *t, struct ct_snap *s, size_t row)
{
	const struct ct_flow *f = t->rows[row].f;
	struct ct_row *r = &s->rows[row];

	if (f->npids > s->pid_room[row]) {
		/* a new place with room to grow: a flow's pids only grow */
		size_t room = f->npids < 2 ? 2 : 2 * (size_t)f->npids;

		if (room > CT_MAX_PIDS)
			room = CT_MAX_PIDS;
		if (s->pids_used + room > s->pids_cap && snap_pool_grow(t, s, room))
			return -1;
		s->pid_off[row] = (uint32_t)s->pids_used;
		s->pid_room[row] = (uint32_t)room;
		s->pids_used += room;
	}
	flow_to_row(t, f, r, &s->more[row], s->interval_s);
	s->more[row].pids = s->pid_pool + s->pid_off[row];
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
	s->ntodo = n;
	/* what the rows held, for grouped views (not worth it when most change) */
	s->has_old = s->keep_old && n <= t->n / 4 + 64;
	if (s->has_old && s->old_cap < n) {
		size_t cap = n + n / 2 + 64;

		free(s->old_rows);
		free(s->old_more);
		s->old_rows = malloc(cap * sizeof(*s->old_rows));
		s->old_more = malloc(cap * sizeof(*s->old_more));
		s->old_cap = s->old_rows && s->old_more ? cap : 0;
		s->has_old = s->old_cap > 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (i + SNAP_AHEAD < n)
			prefetch_flow_row(t, s, todo[i + SNAP_AHEAD]);
		if (s->has_old) {
			if (todo[i] < s->n) {
				s->old_rows[i] = s->rows[todo[i]];
				s->old_more[i] = s->more[todo[i]];
			} else {
				s->old_rows[i].nflows = 0;
			}
		}
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
		free(s->more);
		free(s->pid_off);
		free(s->pid_room);
		free(s->todo);
		s->rows_cap = rows;
		s->rows = rows_alloc(rows, sizeof(*s->rows));
		s->more = rows_alloc(rows, sizeof(*s->more));
		s->pid_off = malloc(rows * sizeof(*s->pid_off));
		s->pid_room = malloc(rows * sizeof(*s->pid_room));
		s->todo = malloc(rows * sizeof(*s->todo));
	}
	if (s->pids_cap < pids || !s->pid_pool) {
		free(s->pid_pool);
		s->pids_cap = pids ? pids : 1;
		s->pid_pool = malloc(s->pids_cap * sizeof(*s->pid_pool));
	}
	if (!s->rows || !s->more || !s->pid_pool || !s->pid_off || !s->pid_room || !s->todo)
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
	s->has_old = 0;
	s->full = !(reuse && s->table_id == t->id && s->gen == t->gen && s->rows &&
		    s->rows_cap >= t->n && s->epoch <= t->epoch && !snap_update(t, s));
	if (s->full && snap_fill(t, s, reuse)) {
		snap_free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->n = t->n;
	s->epoch = t->epoch;
	s->table_id = t->id;
	s->gen = t->gen;
	s->prev_clock = s->full ? 0 : s->clock;
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
	free(s->more);
	free(s->pid_pool);
	free(s->pid_off);
	free(s->pid_room);
	free(s->todo);
	free(s->old_rows);
	free(s->old_more);
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

/* destinations in order: AF_UNIX paths by name, then IPv4, then IPv6 */
static int addr_cmp(const struct flow_key *a, const struct flow_key *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->family == CT_FAMILY_UNIX)
		return strcmp(ct_unix_path(ct_unix_key_id(a->daddr)),
			      ct_unix_path(ct_unix_key_id(b->daddr)));
	return memcmp(a->daddr, b->daddr, sizeof(a->daddr));
}

static int key_cmp(const struct flow_key *a, const struct flow_key *b)
{
	int c = strncmp(a->comm, b->comm, sizeof(a->comm));

	if (c)
		return c;
	c = addr_cmp(a, b);
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
		c = addr_cmp(&a->key, &b->key);
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
	return ct_row_cmp(*(const struct ct_row *const *)a, *(const struct ct_row *const *)b,
			  qsort_key, qsort_desc);
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
 * little more than what it shows: every member adds its light fields to
 * its group (merge_light), then only the groups put in order get what only
 * a shown row needs (merge_heavy: history, error list, latency buckets,
 * and the distinct pids). */
/* r's light fields into its group g */
static void merge_light(struct ct_row *g, const struct ct_row *r)
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
	g->interval_count += r->interval_count; /* the rate follows: group_rates() */
	for (int i = 0; i < RES_MAX; i++)
		g->results[i] += r->results[i];
	g->errs_other += r->errs_other;
	g->lat_n += r->lat_n;
	g->lat_sum_ns += r->lat_sum_ns;
	if (r->lat_max_ns > g->lat_max_ns)
		g->lat_max_ns = r->lat_max_ns;
	g->npids += r->npids; /* an upper bound until merge_heavy counts them */
	g->nflows++;
}

/* gm, g's more, gets r's: g's history ring ends at interval epoch - 1,
 * the last complete one; its slot of interval `epoch` is cleared when
 * every member is in */
static void merge_heavy(struct ct_row *g, struct ct_row_more *gm, const struct ct_row *r,
			uint64_t epoch)
{
	const struct ct_row_more *rm = r->more;

	for (int i = 0; i < CT_FLOW_ERRS && rm->errs[i].err; i++)
		add_err(gm->errs, &g->errs_other, rm->errs[i].err, rm->errs[i].count);
	if (rm->abandon_max_ns > gm->abandon_max_ns)
		gm->abandon_max_ns = rm->abandon_max_ns;
	for (int i = 0; i < CT_LAT_BUCKETS && r->lat_n; i++)
		gm->lat[i] += rm->lat[i];
	if (!epoch)
		return;
	if (row_hist_epoch(r, epoch) + 1 >= epoch) {
		/* r's ring holds every interval g shows, in the same slots */
		for (int i = 0; i < CT_HIST + 1; i++)
			gm->hist_ring[i] += rm->hist_ring[i];
	} else {
		uint32_t h[CT_HIST];

		ring_history(rm->hist_ring, row_hist_epoch(r, epoch), epoch, h);
		ring_put(gm->hist_ring, epoch - 1, h, CT_HIST, 1);
	}
}

/* A view walks 100,000 rows: bound by memory latency where the hardware
 * prefetcher does not follow. Asking for the lines a few rows ahead keeps
 * several misses in flight. */
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
	const char *p = (const char *)r->more;

	for (size_t o = 0; o < sizeof(*r->more); o += 64)
		__builtin_prefetch(p + o);
}

/* the more of a group row that has none of its own (yet) */
static const struct ct_row_more empty_more;

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

/* The view's buffers and what it derived, kept from one view to the next
 * (snap_view_reuse): a refresh with 100,000 groups does not fault in fresh
 * memory; a view of the same snapshot, grouping and filter (a key that
 * changes the sort or moves the selection) only sorts its groups again and
 * fills those that come into view; and a view of the snapshot brought up
 * to date since only makes again the groups of the rows that changed. */
#define NO_GROUP UINT32_MAX
struct ct_view_work {
	uint32_t *row_gid;	 /* by snapshot row: its group in agg, or NO_GROUP (filtered out) */
	struct group_slot *slot; /* open addressing, twice the groups */
	uint8_t *filled;	 /* by group: its more is made */
	uint8_t *want;		 /* by group: to be made now (fill) or again (update) */
	size_t *pid_off;	 /* by group: where its pids are in pid_pool */
	uint32_t *list;		 /* the rows of the groups to fill */
	uint64_t *set;		 /* (group + 1, pid) pairs seen: open addressing */
	uint64_t *cand;		 /* (group, pid) pairs to keep, in order */
	size_t row_gid_cap, slot_cap, filled_cap, want_cap, pid_off_cap, list_cap, set_cap, set_n,
		cand_cap, pool_used, pids_live;
	size_t nsel, ngroups;
	int lat_all; /* every group's more has its latency buckets (sort by latency) */
	/* what the rows were derived from */
	int valid;
	const struct ct_snap *snap;
	uint64_t table_id, clock, filter, epoch;
	size_t snap_n;
	enum ct_group group;
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

#define GROUP_AHEAD 16

/* the group of key k in the index, or a new one (a row of agg with the
 * group's key, nothing merged yet); NO_GROUP when out of memory */
static uint32_t group_of(enum ct_group g, const struct flow_key *k, uint32_t hk, struct ct_view *v)
{
	struct ct_view_work *w = v->work;
	size_t h = hk & (w->slot_cap - 1);
	struct ct_row *n;

	while (w->slot[h].idx1 &&
	       (w->slot[h].hash != hk || !group_has(g, &v->agg[w->slot[h].idx1 - 1].key, k)))
		h = (h + 1) & (w->slot_cap - 1);
	if (w->slot[h].idx1)
		return w->slot[h].idx1 - 1;
	if (GROW(v->agg, v->agg_cap, w->ngroups + 1) ||
	    GROW(w->filled, w->filled_cap, w->ngroups + 1) ||
	    GROW(w->want, w->want_cap, w->ngroups + 1) ||
	    GROW(w->pid_off, w->pid_off_cap, w->ngroups + 1))
		return NO_GROUP;
	n = &v->agg[w->ngroups];
	memset(n, 0, sizeof(*n));
	n->more = &empty_more;
	group_key(g, k, &n->key);
	w->filled[w->ngroups] = 0;
	w->want[w->ngroups] = 0;
	w->slot[h] = (struct group_slot){ .idx1 = (uint32_t)++w->ngroups, .hash = hk };
	if (w->ngroups * 2 >= w->slot_cap && group_index_resize(w, w->slot_cap * 2))
		return NO_GROUP;
	return (uint32_t)(w->ngroups - 1);
}

/* a group's rate, from its connects in the last interval: as a flow's,
 * and the same whatever the order its members came in */
static void group_rates(const struct ct_snap *s, struct ct_view *v)
{
	for (size_t gi = 0; gi < v->work->ngroups; gi++)
		v->agg[gi].rate = rate_of(v->agg[gi].interval_count, s->interval_s);
}

/* Pass 1: v->agg gets one row per group with all its light fields (so that
 * any sort can order the groups), w->row_gid each row's group. The rows
 * are those of v->rows[0..nsel), the filtered ones, in the snapshot's order. */
static int build_groups(enum ct_group g, const struct ct_snap *s, size_t nsel, struct ct_view *v)
{
	struct ct_view_work *w = v->work;
	const struct ct_row **sel = v->rows;

	if (GROW(w->row_gid, w->row_gid_cap, s->n + 1))
		return -ENOMEM;
	if (!w->slot && group_index_resize(w, 1024))
		return -ENOMEM;
	memset(w->slot, 0, w->slot_cap * sizeof(*w->slot));
	for (size_t i = 0; i < s->n; i++)
		w->row_gid[i] = NO_GROUP;
	w->ngroups = 0;
	/* A pipeline, so that memory works ahead: the row of member i + 2D
	 * is asked for, the hash of member i + D computed (the member's
	 * row_gid holds it until its group is known) and its index slot asked
	 * for, member i merged. With many groups each probe would be a miss. */
	for (size_t i = 0; i < nsel && i < 2 * GROUP_AHEAD; i++)
		prefetch_light(sel[i]);
	for (size_t i = 0; i < nsel && i < GROUP_AHEAD; i++)
		w->row_gid[sel[i] - s->rows] = group_hash(g, &sel[i]->key);
	for (size_t i = 0; i < nsel; i++) {
		const struct ct_row *m = sel[i];
		uint32_t *gid = &w->row_gid[m - s->rows];

		if (i + 2 * GROUP_AHEAD < nsel)
			prefetch_light(sel[i + 2 * GROUP_AHEAD]);
		if (i + GROUP_AHEAD < nsel) {
			uint32_t hk = group_hash(g, &sel[i + GROUP_AHEAD]->key);

			w->row_gid[sel[i + GROUP_AHEAD] - s->rows] = hk;
			__builtin_prefetch(&w->slot[hk & (w->slot_cap - 1)]);
		}
		if ((*gid = group_of(g, &m->key, *gid, v)) == NO_GROUP)
			return -ENOMEM;
		merge_light(&v->agg[*gid], m);
	}
	group_rates(s, v);
	w->nsel = nsel;
	w->pool_used = w->pids_live = 0;
	w->lat_all = 0;
	return 0;
}

/* agg_more holds every group's more: point the groups' rows at theirs
 * (those not filled yet at the empty one, unless the latency buckets of
 * all are there) and their pids into pid_pool; both may have moved */
static void point_groups(struct ct_view *v)
{
	struct ct_view_work *w = v->work;

	for (size_t gi = 0; gi < w->ngroups; gi++) {
		v->agg[gi].more = w->filled[gi] || w->lat_all ? &v->agg_more[gi] : &empty_more;
		if (w->filled[gi])
			v->agg_more[gi].pids = v->pid_pool + w->pid_off[gi];
	}
}

/* Group gi gets the change of one member (o, om: the row as it was; r: as
 * it is now, the same flow) instead of being made again from all its
 * members: the counters add up, the maxima only grow. -1 when the result
 * could differ from making the group again (its latest member or its list
 * of errors or pids depends on its members' order): then it is. */
static int group_delta(const struct ct_snap *s, struct ct_view *v, size_t gi,
		       const struct ct_row *o, const struct ct_row_more *om, const struct ct_row *r)
{
	struct ct_view_work *w = v->work;
	struct ct_row *g = &v->agg[gi];
	struct ct_row_more *gm = w->filled[gi] ? &v->agg_more[gi] :
						 NULL; /* only a filled group has one */
	const struct ct_row_more *rm = r->more;
	uint64_t e = s->epoch, e_was = w->epoch; /* now, and when the group last took o */

	/* the latest member's pid: a tie with another member is settled by
	 * their order */
	if (r->last_ns == g->last_ns &&
	    (r->last_ns != o->last_ns || r->pid != o->pid || r->uid != o->uid))
		return -1;
	if (gm) {
		if (r->npids != o->npids)
			return -1;
		/* an errno new to the group would take its place by order */
		for (int i = 0; i < CT_FLOW_ERRS && rm->errs[i].err; i++) {
			int k = 0;

			while (k < CT_FLOW_ERRS && gm->errs[k].err &&
			       gm->errs[k].err != rm->errs[i].err)
				k++;
			if (k == CT_FLOW_ERRS || gm->errs[k].err != rm->errs[i].err)
				return -1;
		}
	}
	if (r->last_ns > g->last_ns) {
		g->pid = r->pid;
		g->uid = r->uid;
		g->last_ns = r->last_ns;
	}
	g->count += r->count - o->count;
	g->interval_count += r->interval_count - o->interval_count;
	for (int i = 0; i < RES_MAX; i++)
		g->results[i] += r->results[i] - o->results[i];
	g->errs_other += r->errs_other - o->errs_other;
	g->lat_n += r->lat_n - o->lat_n;
	g->lat_sum_ns += r->lat_sum_ns - o->lat_sum_ns;
	if (r->lat_max_ns > g->lat_max_ns)
		g->lat_max_ns = r->lat_max_ns;
	g->npids += r->npids - o->npids;
	if (!gm)
		return 0;
	for (int i = 0; i < CT_FLOW_ERRS && rm->errs[i].err; i++) {
		uint32_t was = 0;
		int k = 0;

		for (int j = 0; j < CT_FLOW_ERRS && om->errs[j].err; j++)
			if (om->errs[j].err == rm->errs[i].err)
				was = om->errs[j].count;
		while (gm->errs[k].err != rm->errs[i].err)
			k++;
		gm->errs[k].count += rm->errs[i].count - was;
	}
	if (rm->abandon_max_ns > gm->abandon_max_ns) /* a flow's only grows */
		gm->abandon_max_ns = rm->abandon_max_ns;
	for (int b = 0; b < CT_LAT_BUCKETS && (r->lat_n || o->lat_n); b++)
		gm->lat[b] += rm->lat[b] - om->lat[b];
	if (e) {
		/* The group's ring moves on to the last complete interval (its
		 * other members had no connect since: those that did changed).
		 * The member's history as the group took it (at e_was, what
		 * is still in the window) goes, as it is now comes in. */
		uint64_t h = row_hist_epoch(g, e);
		uint32_t was[CT_HIST], now[CT_HIST];

		if (e - 1 > h) {
			ring_advance(gm->hist_ring, h, e - 1);
			g->hist_epoch = (uint32_t)(e - 1);
		}
		if (e_was && e - e_was < CT_HIST) {
			ring_history(om->hist_ring, row_hist_epoch(o, e_was), e_was, was);
			ring_put(gm->hist_ring, e_was - 1, was, CT_HIST - (e - e_was), -1);
		}
		ring_history(rm->hist_ring, row_hist_epoch(r, e), e, now);
		ring_put(gm->hist_ring, e - 1, now, CT_HIST, 1);
	}
	return 0;
}

/* Bring the groups up to date with a snapshot updated once since they
 * were made (s->todo: the rows it wrote): the groups those rows left or
 * joined are made again from all their members, the others stay as they
 * are (an unchanged member had no connect in the last two intervals: its
 * counts and last-interval rate are what they were, its history only
 * moves on, which the group's ring does by itself). -1 when a group would
 * be left empty or the filter can change its mind without a row changing:
 * then everything is made again. */
static int update_groups(enum ct_group g, const struct ct_snap *s, const struct ct_filter *f,
			 struct ct_view *v)
{
	struct ct_view_work *w = v->work;
	int remake = 0; /* some group is made again from all its members */

	if (!filter_rows_only(f) || GROW(w->row_gid, w->row_gid_cap, s->n + 1))
		return -1;
	for (size_t i = w->snap_n; i < s->n; i++)
		w->row_gid[i] = NO_GROUP;
	/* want: 1, the group is made again; 2, it took differences */
	if (w->ngroups)
		memset(w->want, 0, w->ngroups);
	for (size_t k = 0; k < s->ntodo; k++) {
		size_t row = s->todo[k];
		const struct ct_row *r = &s->rows[row], *o = s->has_old ? &s->old_rows[k] : NULL;
		uint32_t old = w->row_gid[row], now = NO_GROUP;

		if (filter_match(f, r) &&
		    (now = group_of(g, &r->key, group_hash(g, &r->key), v)) == NO_GROUP)
			return -1;
		if (old == NO_GROUP && now == NO_GROUP)
			continue;
		/* the same flow in the same group: its difference only */
		if (o && o->nflows && now == old && w->want[now] != 1 &&
		    o->first_ns == r->first_ns && !memcmp(&o->key, &r->key, sizeof(r->key)) &&
		    !group_delta(s, v, now, o, &s->old_more[k], r)) {
			w->want[now] = 2;
			continue;
		}
		if (old != NO_GROUP)
			w->want[old] = 1;
		if (now != NO_GROUP)
			w->want[now] = 1;
		remake = 1;
		w->row_gid[row] = now;
	}
	/* the groups to make again: their light fields from all their members
	 * (the other groups' rows are not touched: with 100,000 of them that
	 * is what a refresh would cost) */
	for (size_t gi = 0; remake && gi < w->ngroups; gi++) {
		if (w->want[gi] != 1)
			continue;
		if (w->filled[gi]) /* its pids in the pool are stale now */
			w->pids_live -= v->agg[gi].npids < w->pids_live ? v->agg[gi].npids :
									  w->pids_live;
		memset(&v->agg[gi].count, 0,
		       sizeof(struct ct_row) - offsetof(struct ct_row, count));
		v->agg[gi].more = &empty_more;
		w->filled[gi] = 0;
	}
	for (size_t row = 0; remake && row < s->n; row++) {
		uint32_t gi = w->row_gid[row];

		if (gi != NO_GROUP && w->want[gi] == 1)
			merge_light(&v->agg[gi], &s->rows[row]);
	}
	for (size_t gi = 0; gi < w->ngroups; gi++) {
		if (!w->want[gi])
			continue;
		if (!v->agg[gi].nflows)
			return -1; /* a group left empty: a fresh view would not have it */
		v->agg[gi].rate = rate_of(v->agg[gi].interval_count, s->interval_s);
	}
	/* the pids of groups made again go after the others: start afresh
	 * before the pool holds mostly stale ones */
	if (w->pool_used > 2 * w->pids_live + 4096) {
		memset(w->filled, 0, w->ngroups);
		w->pool_used = w->pids_live = 0;
		point_groups(v);
	}
	if (w->lat_all) { /* the groups not filled point at no latency buckets again */
		w->lat_all = 0;
		point_groups(v);
	}
	return 0;
}

/* the latency buckets of every group, for sorting by latency */
static int group_latency(const struct ct_snap *s, struct ct_view *v)
{
	struct ct_view_work *w = v->work;

	if (w->lat_all)
		return 0;
	if (GROW(v->agg_more, v->more_cap, w->ngroups + 1))
		return -ENOMEM;
	for (size_t gi = 0; gi < w->ngroups; gi++)
		if (!w->filled[gi])
			memset(v->agg_more[gi].lat, 0, sizeof(v->agg_more[gi].lat));
	for (size_t row = 0; row < s->n; row++) {
		const struct ct_row *m = &s->rows[row];
		uint32_t gi = w->row_gid[row];

		if (gi == NO_GROUP || w->filled[gi] || !m->lat_n)
			continue;
		for (int b = 0; b < CT_LAT_BUCKETS; b++)
			v->agg_more[gi].lat[b] += m->more->lat[b];
	}
	w->lat_all = 1;
	point_groups(v);
	return 0;
}

/* add (group gi, pid) to the set w->set of w->set_n pairs: 1 if new */
static int pidset_add(struct ct_view_work *w, size_t gi, uint32_t pid)
{
	uint64_t key = ((uint64_t)(gi + 1) << 32) | pid;
	size_t h;

	if ((w->set_n + 1) * 2 > w->set_cap) {
		size_t cap = w->set_cap ? w->set_cap * 2 : 4096;
		uint64_t *set = calloc(cap, sizeof(*set));

		if (!set)
			return -ENOMEM;
		for (size_t i = 0; i < w->set_cap; i++) {
			if (!w->set[i])
				continue;
			h = mix64(w->set[i]) & (cap - 1);
			while (set[h])
				h = (h + 1) & (cap - 1);
			set[h] = w->set[i];
		}
		free(w->set);
		w->set = set;
		w->set_cap = cap;
	}
	h = mix64(key) & (w->set_cap - 1);
	while (w->set[h] && w->set[h] != key)
		h = (h + 1) & (w->set_cap - 1);
	if (w->set[h])
		return 0;
	w->set[h] = key;
	w->set_n++;
	return 1;
}

/* Pass 2: the groups in v->rows[0..upto) not filled yet get their more
 * (history, errors, latency buckets) and their distinct pids, in one walk
 * of their members, in the snapshot's order (as pass 1). */
static int fill_groups(const struct ct_snap *s, struct ct_view *v, size_t upto)
{
	struct ct_view_work *w = v->work;
	size_t nlist = 0, ncand = 0, ng = w->ngroups, nwant = 0;

	if (!ng)
		return 0;
	if (GROW(v->agg_more, v->more_cap, ng + 1))
		return -ENOMEM;
	memset(w->want, 0, ng);
	for (size_t i = 0; i < upto; i++) {
		size_t gi = v->rows[i] - v->agg;

		if (w->filled[gi] || w->want[gi])
			continue;
		w->want[gi] = 1;
		nwant++;
		memset(&v->agg_more[gi], 0, sizeof(v->agg_more[gi]));
		v->agg[gi].npids = 0;
	}
	if (!nwant)
		return 0;
	if (GROW(w->list, w->list_cap, s->n + 1))
		return -ENOMEM;
	if (w->set_cap)
		memset(w->set, 0, w->set_cap * sizeof(*w->set));
	w->set_n = 0;
	/* the members of those groups, in order */
	for (size_t row = 0; row < s->n; row++)
		if (w->row_gid[row] != NO_GROUP && w->want[w->row_gid[row]])
			w->list[nlist++] = (uint32_t)row;
	for (size_t k = 0; k < nlist; k++) {
		size_t gi = w->row_gid[w->list[k]];
		const struct ct_row *m = &s->rows[w->list[k]];
		const uint32_t *pids = m->more->pids;

		if (k + PREFETCH_AHEAD < nlist)
			prefetch_heavy(&s->rows[w->list[k + PREFETCH_AHEAD]]);
		merge_heavy(&v->agg[gi], &v->agg_more[gi], m, v->epoch);
		/* distinct pids: the new (group, pid) pairs, in order, in cand */
		for (uint32_t j = 0; pids && j < m->npids; j++) {
			int rc = pidset_add(w, gi, pids[j]);

			if (rc < 0 || (rc && GROW(w->cand, w->cand_cap, ncand + 1)))
				return -ENOMEM;
			if (rc && v->agg[gi].npids < CT_MAX_PIDS) {
				w->cand[ncand++] = ((uint64_t)gi << 32) | pids[j];
				v->agg[gi].npids++;
			}
		}
	}
	/* the groups' pids go after those of the groups filled before */
	if (GROW(v->pid_pool, v->pool_cap, w->pool_used + ncand + 1))
		return -ENOMEM;
	for (size_t gi = 0; gi < ng; gi++) {
		if (!w->want[gi])
			continue;
		w->pid_off[gi] = w->pool_used;
		w->pool_used += v->agg[gi].npids;
		w->pids_live += v->agg[gi].npids;
		v->agg[gi].npids = 0;
		/* what merge_heavy added for the current interval is not shown */
		v->agg[gi].hist_epoch = (uint32_t)(v->epoch ? v->epoch - 1 : 0);
		v->agg_more[gi].hist_ring[v->epoch % (CT_HIST + 1)] = 0;
		w->filled[gi] = 1;
	}
	for (size_t c = 0; c < ncand; c++) {
		size_t gi = w->cand[c] >> 32;

		v->pid_pool[w->pid_off[gi] + v->agg[gi].npids++] = (uint32_t)w->cand[c];
	}
	point_groups(v);
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

/* w was derived from snapshot s (in some state of it), in grouping g with
 * filter f */
static int derived_from(const struct ct_view_work *w, const struct ct_snap *s, enum ct_group g,
			const struct ct_filter *f)
{
	return w && w->valid && w->snap == s && w->table_id == s->table_id && w->group == g &&
	       w->filter == filter_id(f);
}

/* ... and from s as it is now */
static int derived_from_now(const struct ct_view_work *w, const struct ct_snap *s, enum ct_group g,
			    const struct ct_filter *f)
{
	return derived_from(w, s, g, f) && w->clock == s->clock && w->snap_n == s->n;
}

int snap_view_reuse(const struct ct_snap *s, enum ct_group g, const struct ct_filter *f,
		    enum ct_sort sort, int desc, size_t limit, struct ct_view *out)
{
	struct ct_view_work *w = out->work;
	int rc, same, next;

	if (!w && !(w = out->work = calloc(1, sizeof(*out->work))))
		return -ENOMEM;
	/* the snapshot as derived, or brought up to date once since */
	same = derived_from_now(w, s, g, f);
	next = derived_from(w, s, g, f) && !s->full && s->prev_clock == w->clock &&
	       s->n >= w->snap_n;
	w->valid = 0;
	out->sorted = 0;
	out->total = s->n;
	out->epoch = s->epoch;
	if (GROW(out->rows, out->rows_cap, s->n + 1))
		return -ENOMEM;
	if (!same && !(next && g != GROUP_FLOW && !update_groups(g, s, f, out))) {
		size_t nsel = 0;

		for (size_t i = 0; i < s->n; i++)
			if (filter_match(f, &s->rows[i]))
				out->rows[nsel++] = &s->rows[i];
		w->nsel = nsel;
		if (g != GROUP_FLOW && (rc = build_groups(g, s, nsel, out)))
			return rc;
	}
	w->snap = s;
	w->table_id = s->table_id;
	w->clock = s->clock;
	w->epoch = s->epoch;
	w->snap_n = s->n;
	w->group = g;
	w->filter = filter_id(f);
	/* the rows to order: the filtered flows (in the order the last sort
	 * left them: any order will do), or every group */
	if (g == GROUP_FLOW) {
		out->n = w->nsel;
	} else {
		out->n = w->ngroups;
		for (size_t gi = 0; gi < w->ngroups; gi++)
			out->rows[gi] = &out->agg[gi];
		if (sort == SORT_LAT && (rc = group_latency(s, out)))
			return rc;
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
	if (g != GROUP_FLOW && (rc = fill_groups(s, out, out->sorted)))
		return rc;
	w->valid = 1;
	return 0;
}

int snap_view_ready(const struct ct_view *out, const struct ct_snap *s, enum ct_group g,
		    const struct ct_filter *f)
{
	return derived_from_now(out->work, s, g, f);
}

void snap_view_follow(const struct ct_snap *s, enum ct_group g, const struct ct_filter *f,
		      struct ct_view *out)
{
	struct ct_view_work *w = out->work;

	if (!w || !w->valid || derived_from_now(w, s, g, f))
		return;		  /* nothing to follow, or up to date already */
	out->n = out->sorted = 0; /* not in order: snap_view_reuse puts it */
	if (g == GROUP_FLOW || !derived_from(w, s, g, f) || s->full || s->prev_clock != w->clock ||
	    s->n < w->snap_n || update_groups(g, s, f, out)) {
		w->valid = 0; /* derived again when next used */
		return;
	}
	w->clock = s->clock;
	w->snap_n = s->n;
	w->epoch = s->epoch;
	out->total = s->n;
	out->epoch = s->epoch;
}

int snap_view(const struct ct_snap *s, enum ct_group g, const struct ct_filter *f,
	      enum ct_sort sort, int desc, size_t limit, struct ct_view *out)
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
		free(w->row_gid);
		free(w->slot);
		free(w->filled);
		free(w->pid_off);
		free(w->want);
		free(w->list);
		free(w->set);
		free(w->cand);
		free(w);
	}
	free(v->rows);
	free(v->agg);
	free(v->agg_more);
	free(v->pid_pool);
	memset(v, 0, sizeof(*v));
}
