// SPDX-License-Identifier: GPL-2.0-or-later
#include "flows.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flows_table.h"
#include "pending.h"
#include "util.h"

#define BUCKETS_MIN 1024     /* hash buckets of an empty table; doubled as it fills */
#define ROWS_MIN 1024	     /* rows array of an empty table; doubled as it fills */
#define PIDTAB_MIN 8	     /* a flow's pid table when a third distinct pid comes */
#define PID_HASH 2654435761u /* Knuth's multiplicative hash (2^32 / golden ratio) */

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
	t->nbuckets = BUCKETS_MIN;
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
	pending_free(&f->pend);
	free(f->lat);
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

void flows_to_row(const struct ct_flows *t, const struct ct_flow *f, struct ct_row *r,
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
	memcpy(r->syn_rt_hist, f->syn_rt_hist, sizeof(r->syn_rt_hist));
	r->syn_rt = f->syn_rt;
	r->pad2 = 0;
	r->hist_epoch = (uint32_t)f->epoch;
	/* the last complete interval, when the ring has it */
	r->interval_count =
		t->epoch && f->epoch + 1 >= t->epoch ? f->hist[(t->epoch - 1) % CT_RING] : 0;
	r->rate = ct_rate(r->interval_count, interval_s);
	r->uid = f->uid;
	r->pid = f->pid;
	r->npids = f->npids;
	r->nflows = 1;
	r->tag = f->tag;
	r->more = m;
	m->pids = NULL;
	if (f->lat)
		m->lat = *f->lat;
	else
		memset(&m->lat, 0, sizeof(m->lat));
	memcpy(m->errs, f->errs, sizeof(m->errs));
	m->abandon_max_ns = f->abandon_max_ns;
	memcpy(m->hist_ring, f->hist, sizeof(m->hist_ring));
	m->pending_since_ns = pending_oldest(f->pend);
	m->pad = 0;
}

size_t flows_pids(const struct ct_flow *f, uint32_t *out)
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

		flows_to_row(t, f, &r, &m, 0);
		flows_pids(f, pids);
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
		size_t cap = t->rows_cap ? t->rows_cap * 2 : ROWS_MIN;
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
	if (t->n > t->nbuckets && t->nbuckets < (t->max | (BUCKETS_MIN - 1)))
		grow_buckets(t);
	return f;
}

static void pidtab_insert(uint32_t *tab, uint32_t cap, uint32_t pid)
{
	uint32_t i = (pid * PID_HASH) & (cap - 1);

	while (tab[i] && tab[i] != pid)
		i = (i + 1) & (cap - 1);
	tab[i] = pid;
}

static int pidtab_has(const uint32_t *tab, uint32_t cap, uint32_t pid)
{
	uint32_t i = (pid * PID_HASH) & (cap - 1);

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
		uint32_t *tab = calloc(PIDTAB_MIN, sizeof(*tab));

		if (!tab)
			return;
		for (uint32_t i = 0; i < f->npids; i++)
			pidtab_insert(tab, PIDTAB_MIN, f->pid_inline[i]);
		f->pidtab = tab;
		f->pidcap = PIDTAB_MIN;
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

void flows_add(struct ct_flows *t, const struct ct_sample *s)
{
	struct ct_flow *f = flow_get(t, &s->key, s->ts_ns);
	enum ct_result res;

	if (!f)
		return;
	t->rows[f->row].clock = t->clock;
	t->rows[f->row].epoch = t->epoch;
	if (f->epoch < t->epoch) {
		ct_ring_advance(f->hist, f->epoch, t->epoch);
		f->epoch = t->epoch;
	}
	if (s->ts_ns > f->last_ns)
		f->last_ns = s->ts_ns;
	res = ct_classify(s->ret);
	if (s->outcome && f->results[RES_PENDING]) {
		/* resolves a connect already counted as pending */
		f->results[RES_PENDING]--;
		pending_del(&f->pend, s->start_ns);
	} else {
		/* a connect (or the outcome of one whose flow was evicted since) */
		f->count++;
		f->hist[f->epoch % CT_RING]++;
		t->pids_total -= f->npids;
		flow_add_pid(f, s->pid);
		t->pids_total += f->npids;
		f->pid = s->pid;
		f->uid = s->uid;
	}
	if (s->pending) {
		res = RES_PENDING;
		/* out of memory: the age shown is that of the others */
		pending_add(&f->pend, s->start_ns);
	} else if (s->abandoned) {
		res = RES_ABANDONED;
	}
	f->results[res]++;
	if (res == RES_ABANDONED && s->lat_ns > f->abandon_max_ns)
		f->abandon_max_ns = s->lat_ns;
	if (s->has_synrt && res != RES_PENDING) {
		f->syn_rt_hist[s->syn_rt < CT_SYN_RT_HIST ? s->syn_rt : CT_SYN_RT_HIST - 1]++;
		f->syn_rt += s->syn_rt;
	}
	if (res != RES_OK && res != RES_PENDING && res != RES_ABANDONED)
		ct_errs_add(f->errs, &f->errs_other, -s->ret, 1);
	/* handshake time of connects that were established or refused: a
	 * timeout's "latency" would only measure the kernel's SYN timeout
	 * (without memory for the histogram the sample is not counted at all:
	 * lat_n stays the histogram's sum) */
	if (s->has_lat && (res == RES_OK || res == RES_REFUSED) &&
	    (f->lat || (f->lat = calloc(1, sizeof(*f->lat))))) {
		ct_lat_add(f->lat, s->lat_ns, 1);
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
