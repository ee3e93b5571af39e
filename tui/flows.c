// SPDX-License-Identifier: GPL-2.0-or-later
#include "flows.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "flows_table.h"
#include "pending.h"
#include "util.h"

#define SLOTS_MIN 2048 /* hash slots of an empty table; doubled as it fills */
/* at most 3/4 of the slots taken: a new key's probe stays in a line or two */
#define SLOTS_FULL(n, nslots) ((n)*4 > (nslots)*3)
/* old slots looked at (or entries moved) per new flow while the slots
 * grow: the old ones (nslots / 2, 3 / 8 nslots entries at most) are done
 * after 7 / 128 nslots new flows at most, well before the new ones are
 * full (3 / 8 nslots later) */
#define SLOTS_STEP 16
#define PAGE 4096u
#define SLOTS_RELEASE (64u * PAGE) /* old slots' memory given back at once */
#define NO_POS SIZE_MAX
#define ROWS_MIN 1024	     /* rows array of an empty table; doubled as it fills */
#define PIDTAB_MIN 8	     /* a flow's pid table when a third distinct pid comes */
#define PID_HASH 2654435761u /* Knuth's multiplicative hash (2^32 / golden ratio) */
/* connects that make a flow protected even within one interval: a scan
 * makes one per destination, a retrying client several */
#define FLOWS_PROMOTE 4
/* protected flows: at most this share of max, so that probation keeps room
 * for new flows to prove themselves (SLRU's usual 80/20) */
#define PROTECTED_MAX(max) ((max) - (max) / 5)
/* (process, *) rows beyond max: enough for every process name of a busy
 * host, few enough not to matter beside the flows */
#define FOLDED_MAX(max) ((max) / 16 + 1)

static uint64_t next_table_id;

/* a million flows are a million of these (flows_table.h) */
_Static_assert(sizeof(void *) != 8 || sizeof(struct ct_flow) == 144,
	       "struct ct_flow grew: is it what every flow needs?");
_Static_assert(sizeof(struct flow_row) == 12, "a flow's row index grew");

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
	t->nslots = SLOTS_MIN;
	t->slots = calloc(t->nslots, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	t->max = max_flows;
	t->max_folded = FOLDED_MAX(max_flows);
	t->clock = 1;
	t->id = __atomic_add_fetch(&next_table_id, 1, __ATOMIC_RELAXED);
	return t;
}

/* the flow of a list link (ct_flow.prev, .next): NULL for 0 */
static struct ct_flow *flow_link(const struct ct_flows *t, uint32_t id)
{
	return id ? flows_of_id(t, id) : NULL;
}

static void flow_release(struct ct_flow *f)
{
	struct flow_ext *x = f->ext;

	free(f->hist);
	if (x) {
		free(x->pidtab);
		pending_free(&x->pend);
		free(x->lat);
		free(x);
	}
}

/* f's ext, made at its first need: NULL when out of memory */
static struct flow_ext *flow_ext(struct ct_flow *f)
{
	if (!f->ext)
		f->ext = calloc(1, sizeof(*f->ext));
	return f->ext;
}

static const struct flow_ext no_ext; /* what a flow without one has */

static const struct flow_ext *ext_of(const struct ct_flow *f)
{
	return f->ext ? f->ext : &no_ext;
}

/* a flow's connects whose result is not ok (the rest of its count is) */
static uint64_t flow_not_ok(const struct flow_ext *x)
{
	uint64_t n = 0;

	for (int i = 0; i < RES_MAX; i++)
		n += x->results[i];
	return n;
}

/* f's connects with result res */
static uint64_t flow_results(const struct ct_flow *f, enum ct_result res)
{
	return res == RES_OK ? f->count - flow_not_ok(ext_of(f)) : ext_of(f)->results[res];
}

void flows_free(struct ct_flows *t)
{
	struct ct_flow *f, *next;

	if (!t)
		return;
	for (int seg = 0; seg < SEG_MAX; seg++)
		for (f = t->seg[seg].head; f; f = next) {
			next = flow_link(t, f->next);
			flow_release(f);
		}
	for (size_t i = 0; i < t->nslabs; i++)
		free(t->slabs[i]);
	free(t->slabs);
	free(t->slots);
	free(t->old_slots);
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
	return t->n - t->seg[SEG_FOLDED].n;
}

uint64_t flows_folded(const struct ct_flows *t)
{
	return t->folded;
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

/* A flow key's hash, a word at a time: FNV-1a took a multiply per byte,
 * 13 % of the time at 300k new flows/s. */
_Static_assert(sizeof(struct flow_key) == 44, "key_hash reads 5 words and 4 bytes");
static uint64_t key_hash(const struct flow_key *k)
{
	uint64_t w[5], h;
	uint32_t tail;

	memcpy(w, k, sizeof(w));
	memcpy(&tail, (const char *)k + sizeof(w), sizeof(tail));
	h = 0x9e3779b97f4a7c15ULL ^ tail;
	for (int i = 0; i < 5; i++) {
		h ^= w[i] * 0x87c37b91114253d5ULL;
		h = ((h << 31) | (h >> 33)) * 0x4cf5ad432745937fULL;
	}
	h ^= h >> 33; /* the murmur3 finaliser: every bit of h into the low ones */
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

static void lru_unlink(struct ct_flows *t, struct ct_flow *f)
{
	struct flow_list *l = &t->seg[f->seg];
	struct ct_flow *prev = flow_link(t, f->prev), *next = flow_link(t, f->next);

	if (prev)
		prev->next = f->next;
	else
		l->head = next;
	if (next)
		next->prev = f->prev;
	else
		l->tail = prev;
	f->prev = f->next = 0;
	l->n--;
}

static void lru_push_head(struct ct_flows *t, struct ct_flow *f, enum flow_seg seg)
{
	struct flow_list *l = &t->seg[seg];

	f->seg = (uint8_t)seg;
	f->prev = 0;
	f->next = l->head ? l->head->id : 0;
	if (l->head)
		l->head->prev = f->id;
	l->head = f;
	if (!l->tail)
		l->tail = f;
	l->n++;
}

static void lru_move(struct ct_flows *t, struct ct_flow *f, enum flow_seg seg)
{
	lru_unlink(t, f);
	lru_push_head(t, f, seg);
}

/* protected beyond its share: its least recent go back on probation */
static void protected_trim(struct ct_flows *t)
{
	while (t->seg[SEG_PROTECTED].n > PROTECTED_MAX(t->max))
		lru_move(t, t->seg[SEG_PROTECTED].tail, SEG_PROBATION);
}

static struct ct_flow *flow_of(const struct ct_flows *t, uint32_t id)
{
	return flows_of_id(t, id);
}

/* Open addressing, linear probing: a slot holds the low 32 bits of its
 * key's hash (which say where it belongs) and its flow's id, so that a new
 * key's lookup reads the slots and no flow (one cache miss, where a hash
 * chain took two: the bucket, then its first flow; perf had those at 30 %
 * of the time at 300k new flows/s), and growing the table reads no key.
 * In slots sl (nslots, a power of two): the slot of key k (its hash's low
 * 32 bits: tag), or the empty one where it would go; *f its flow or NULL. */
static size_t probe(const struct ct_flows *t, const struct flow_slot *sl, size_t nslots,
		    const struct flow_key *k, uint32_t tag, struct ct_flow **f)
{
	size_t mask = nslots - 1, i = tag & mask;

	for (; sl[i].id; i = (i + 1) & mask) {
		if (sl[i].tag != tag)
			continue;
		*f = flow_of(t, sl[i].id);
		if (!memcmp(&(*f)->key, k, sizeof(*k)))
			return i;
	}
	*f = NULL;
	return i;
}

/* empty slot i of sl: the entries after it that belong before it move back */
static void slots_clear(struct flow_slot *sl, size_t nslots, size_t i)
{
	size_t mask = nslots - 1, j = i;

	for (;;) {
		size_t home;

		sl[i].id = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (!sl[j].id)
				return;
			home = sl[j].tag & mask;
			/* it stays when its home is cyclically in (i, j] */
			if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
				continue;
			break;
		}
		sl[i] = sl[j];
		i = j;
	}
}

/* The flow of key k, or NULL; *pos: the slot of t->slots it is in, or the
 * empty one where it would go. While the slots grow (grow_slots), a key
 * still in the old ones moves to the new ones as it is found. */
static struct ct_flow *lookup(struct ct_flows *t, const struct flow_key *k, size_t *pos)
{
	uint32_t tag = (uint32_t)key_hash(k);
	struct ct_flow *f;
	size_t i = probe(t, t->slots, t->nslots, k, tag, &f), j;

	if (!f && t->old_slots) {
		j = probe(t, t->old_slots, t->old_nslots, k, tag, &f);
		if (f) {
			t->slots[i] = t->old_slots[j];
			slots_clear(t->old_slots, t->old_nslots, j);
		}
	}
	if (pos)
		*pos = i;
	return f;
}

/* empty slot i of t->slots */
static void slot_clear(struct ct_flows *t, size_t i)
{
	slots_clear(t->slots, t->nslots, i);
}

void flows_to_row(const struct ct_flows *t, const struct ct_flow *f, struct ct_row *r,
		  struct ct_row_more *m, double interval_s)
{
	const struct flow_ext *x = ext_of(f);

	/* every field is written: no memset of the whole row first */
	r->key = f->key;
	r->count = f->count;
	memcpy(r->results, x->results, sizeof(r->results));
	r->results[RES_OK] = f->count - flow_not_ok(x);
	r->errs_other = x->errs_other;
	r->first_ns = f->first_ns;
	r->last_ns = f->last_ns;
	r->lat_n = x->lat_n;
	r->lat_sum_ns = x->lat_sum_ns;
	r->lat_max_ns = x->lat_max_ns;
	memcpy(r->syn_rt_hist, x->syn_rt_hist, sizeof(r->syn_rt_hist));
	r->syn_rt = x->syn_rt;
	r->hist_epoch = (uint32_t)f->epoch;
	/* the last complete interval, when the ring has it */
	r->interval_count = 0;
	if (t->epoch && f->epoch + 1 >= t->epoch)
		r->interval_count = f->hist		     ? f->hist[(t->epoch - 1) % CT_RING] :
				    f->epoch + 1 == t->epoch ? f->cur :
							       0;
	r->rate = ct_rate(r->interval_count, interval_s);
	r->uid = f->uid;
	r->pid = f->pid;
	r->npids = f->npids;
	r->nflows = 1;
	r->tag = f->tag;
	r->more = m;
	m->folded = x->folded;
	m->pids = NULL;
	m->pid_is_row = 0;
	m->pad = 0;
	m->lat = x->lat; /* the flow's own: a snapshot copies them (snap.c) */
	m->hist_ring = f->hist;
	m->hist_cur = f->cur;
	memcpy(m->errs, x->errs, sizeof(m->errs));
	m->abandon_max_ns = x->abandon_max_ns;
	m->pending_since_ns = pending_oldest(x->pend);
	m->qname = f->qname;
	m->spare = 0;
}

size_t flows_pids(const struct ct_flow *f, uint32_t *out)
{
	const struct flow_ext *x = ext_of(f);
	size_t n = 0;

	if (!x->pidcap) {
		for (uint32_t i = 0; i < f->npids; i++)
			out[n++] = f->pid_inline[i];
		return n;
	}
	for (uint32_t i = 0; i < x->pidcap; i++)
		if (x->pidtab[i])
			out[n++] = x->pidtab[i];
	return n;
}

/* f's full row (pids included) into r, m and pids, for a callback */
static void flow_row_full(const struct ct_flows *t, const struct ct_flow *f, struct ct_row *r,
			  struct ct_row_more *m, uint32_t *pids)
{
	flows_to_row(t, f, r, m, 0);
	flows_pids(f, pids);
	m->pids = pids;
}

/* f leaves the table (the evict callback sees it first): its row is free */
static void evict(struct ct_flows *t, struct ct_flow *f)
{
	size_t pos;

	if (t->evict_fn) {
		uint32_t pids[CT_MAX_PIDS];
		struct ct_row r;
		struct ct_row_more m;

		flow_row_full(t, f, &r, &m, pids);
		t->evict_fn(t->evict_ctx, &r);
	}
	lookup(t, &f->key, &pos);
	slot_clear(t, pos);
	t->pids_total -= f->npids;
	lru_unlink(t, f);
	flow_release(f);
	t->n--;
	f->next = t->free_list ? t->free_list->id : 0;
	t->free_list = f;
}

/* Moving the entries of the old slots to the new ones, a few at a time:
 * slot t->mig and on, at most `budget` slots looked at (an entry moved
 * counts as one). Each move is a deletion from the old slots (the entries
 * after it move back, so that they stay a table lookup() can read), and
 * the slots below t->mig are then all empty: when it reaches the end,
 * every entry has moved. 0, or 1 once none is left. */
static int slots_migrate(struct ct_flows *t, size_t budget)
{
	struct flow_slot *old = t->old_slots;
	size_t mask = t->nslots - 1;

	for (; budget && t->mig < t->old_nslots; budget--) {
		size_t j;

		if (!old[t->mig].id) {
			t->mig++;
			continue;
		}
		for (j = old[t->mig].tag & mask; t->slots[j].id; j = (j + 1) & mask)
			;
		t->slots[j] = old[t->mig];
		slots_clear(old, t->old_nslots, t->mig);
	}
	if (t->mig < t->old_nslots) {
		/* the pages of empty slots go back (they read as zeros, empty
		 * slots, again): the two sets of slots together take no more
		 * than the new ones, 8 MB less at a million flows */
		uintptr_t lo = ((uintptr_t)(old + t->old_freed) + PAGE - 1) &
			       ~(uintptr_t)(PAGE - 1),
			  hi = (uintptr_t)(old + t->mig) & ~(uintptr_t)(PAGE - 1);

		if (hi >= lo + SLOTS_RELEASE) {
			madvise((void *)lo, hi - lo, MADV_DONTNEED); /* advice: it may keep them */
			t->old_freed = (size_t)((struct flow_slot *)hi - old);
		}
		return 0;
	}
	free(old);
	t->old_slots = NULL;
	t->old_nslots = 0;
	return 1;
}

/* Twice the slots. The entries move over as new flows come in (a few
 * each, flow_insert), not at once: moving a million of them took 49 ms at
 * 786,432 flows (flowbench, CPU time), 100 ms or more on a loaded machine,
 * during which nothing drained the ring buffer (and a table that size
 * takes 300,000 new flows a second). -1 when out of memory. */
static int grow_slots(struct ct_flows *t)
{
	size_t ns = t->nslots * 2;
	struct flow_slot *sl;

	if (t->old_slots) /* cannot happen: SLOTS_STEP moves them in time */
		slots_migrate(t, SIZE_MAX);
	if (!(sl = calloc(ns, sizeof(*sl))))
		return -1;
	t->old_slots = t->slots;
	t->old_nslots = t->nslots;
	t->mig = t->old_freed = 0;
	t->slots = sl;
	t->nslots = ns;
	return 0;
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
	struct flow_ext *x;

	if (!pid || pid == f->pid)
		return;
	if (!f->ext || !f->ext->pidcap) {
		for (uint32_t i = 0; i < f->npids; i++)
			if (f->pid_inline[i] == pid)
				return;
		if (f->npids < ARRAY_SIZE(f->pid_inline)) {
			f->pid_inline[f->npids++] = pid;
			return;
		}
		/* third distinct pid: move to a table */
		uint32_t *tab = calloc(PIDTAB_MIN, sizeof(*tab));

		if (!tab || !(x = flow_ext(f))) {
			free(tab);
			return;
		}
		for (uint32_t i = 0; i < f->npids; i++)
			pidtab_insert(tab, PIDTAB_MIN, f->pid_inline[i]);
		x->pidtab = tab;
		x->pidcap = PIDTAB_MIN;
	}
	x = f->ext;
	if (pidtab_has(x->pidtab, x->pidcap, pid) || f->npids >= CT_MAX_PIDS)
		return;
	if ((f->npids + 1u) * 2 > x->pidcap) {
		uint32_t ncap = x->pidcap * 2;
		uint32_t *tab = calloc(ncap, sizeof(*tab));

		if (!tab)
			return;
		for (uint32_t i = 0; i < x->pidcap; i++)
			if (x->pidtab[i])
				pidtab_insert(tab, ncap, x->pidtab[i]);
		free(x->pidtab);
		x->pidtab = tab;
		x->pidcap = ncap;
	}
	pidtab_insert(x->pidtab, x->pidcap, pid);
	f->npids++;
}

/* f's history moves on to interval t->epoch. A compact one (f->hist NULL)
 * stays so while its one counted interval has left the window or held
 * nothing; else it gets its ring (without memory for it, the older
 * interval's connects leave the history: the counts stay exact). */
static void flow_hist_advance(const struct ct_flows *t, struct ct_flow *f)
{
	if (f->epoch >= t->epoch)
		return;
	if (!f->hist && f->cur && f->epoch + CT_HIST >= t->epoch) {
		f->hist = calloc(CT_RING, sizeof(*f->hist));
		if (f->hist)
			f->hist[f->epoch % CT_RING] = f->cur;
	}
	if (f->hist)
		ct_ring_advance(f->hist, f->epoch, t->epoch);
	f->cur = 0;
	f->epoch = t->epoch;
}

/* ---- eviction by value, and folding ---- */

static void folded_key(const char comm[16], struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->comm, comm, sizeof(k->comm));
	k->family = CT_FAMILY_FOLDED;
}

/* room in the rows array for row t->n: grown only when full and below its
 * bound, so never reallocated to the size it has. -1 when out of memory. */
static int rows_room(struct ct_flows *t)
{
	size_t bound = t->max + t->max_folded, cap;
	struct flow_row *b;

	if (t->n < t->rows_cap)
		return 0;
	if (t->rows_cap >= bound)
		return -1; /* cannot happen: n never passes the bound */
	cap = t->rows_cap ? t->rows_cap * 2 : ROWS_MIN;
	if (cap > bound)
		cap = bound;
	b = realloc(t->rows, cap * sizeof(*b));
	if (!b)
		return -1;
	t->rows = b;
	t->rows_cap = cap;
	return 0;
}

/* A flow never given out before: flows come FLOW_SLAB at a time, from
 * memory never freed but with the table (evicted ones are reused), which
 * saves malloc's 16 bytes a flow. Its id is its place there + 1. NULL
 * when out of memory. */
static struct ct_flow *flow_alloc(struct ct_flows *t, uint32_t *id)
{
	if (t->slab_used == FLOW_SLAB || !t->nslabs) {
		struct ct_flow **s = realloc(t->slabs, (t->nslabs + 1) * sizeof(*s));

		if (!s)
			return NULL;
		t->slabs = s;
		if (!(s[t->nslabs] = malloc(FLOW_SLAB * sizeof(**s))))
			return NULL;
		t->nslabs++;
		t->slab_used = 0;
	}
	*id = (uint32_t)((t->nslabs - 1) * FLOW_SLAB + t->slab_used + 1);
	return &t->slabs[t->nslabs - 1][t->slab_used++];
}

/* a new flow k in the free row `row`, at the head of seg; pos: the slot
 * lookup() gave it, or NO_POS to look it up */
static struct ct_flow *flow_insert(struct ct_flows *t, const struct flow_key *k, uint64_t ts,
				   uint32_t row, enum flow_seg seg, size_t pos)
{
	struct ct_flow *f;
	uint32_t id;

	/* room for one more (without memory to grow, the slots fill up
	 * further: slower, still correct, until the last one) */
	if (t->old_slots) {
		slots_migrate(t, SLOTS_STEP);
		/* pos was the first empty slot of k's probe: it still is,
		 * unless the move filled it */
		if (pos != NO_POS && t->slots[pos].id)
			pos = NO_POS;
	}
	if (SLOTS_FULL(t->n + 1, t->nslots) && t->nslots < SIZE_MAX / 2 &&
	    t->nslots <= UINT32_MAX) {
		if (!grow_slots(t))
			pos = NO_POS;
		else if (t->n + 2 > t->nslots)
			return NULL;
	}
	if (pos == NO_POS)
		lookup(t, k, &pos);
	if (t->free_list) {
		f = t->free_list;
		t->free_list = flow_link(t, f->next);
		id = f->id;
	} else if (!(f = flow_alloc(t, &id))) {
		return NULL;
	}
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->key = *k;
	f->first_ns = ts;
	f->epoch = t->epoch;
	f->row = row;
	t->rows[row].id = id;
	t->rows[row].clock = (uint32_t)t->clock;
	t->rows[row].epoch = (uint32_t)t->epoch;
	t->slots[pos].tag = (uint32_t)key_hash(k);
	t->slots[pos].id = id;
	lru_push_head(t, f, seg);
	t->n++;
	return f;
}

/* the (process, *) row for fk, new: in the next row, or, with every one of
 * them taken, in the row of the least recently folded into (dropped, its
 * counts with it: the evict callback had them flow by flow). NULL when out
 * of memory. */
static struct ct_flow *folded_new(struct ct_flows *t, const struct flow_key *fk, uint64_t ts)
{
	uint32_t row;

	if (t->seg[SEG_FOLDED].n >= t->max_folded) {
		struct ct_flow *g = t->seg[SEG_FOLDED].tail;

		row = g->row;
		evict(t, g);
	} else {
		if (rows_room(t))
			return NULL;
		row = (uint32_t)t->n;
	}
	return flow_insert(t, fk, ts, row, SEG_FOLDED, NO_POS);
}

static void flow_add_pid(struct ct_flow *f, uint32_t pid);

/* v's counts into its process's (process, *) row g */
static void fold_into(struct ct_flows *t, struct ct_flow *g, struct ct_flow *v)
{
	uint32_t pids[CT_MAX_PIDS];
	struct flow_ext *gx, *vx = NULL;
	size_t npids;

	flow_hist_advance(t, g);
	/* a (process, *) row keeps a ring: it gathers many intervals */
	if (!g->hist && (g->hist = calloc(CT_RING, sizeof(*g->hist))))
		g->hist[g->epoch % CT_RING] = g->cur;
	if (v->hist) {
		if (v->epoch < t->epoch) /* v goes: its ring may be moved on */
			ct_ring_advance(v->hist, v->epoch, t->epoch);
		for (int i = 0; g->hist && i < CT_RING; i++)
			g->hist[i] += v->hist[i];
	} else if (v->cur && v->epoch + CT_HIST >= t->epoch && g->hist) {
		g->hist[v->epoch % CT_RING] += v->cur;
	}
	g->count += v->count;
	if (v->first_ns < g->first_ns)
		g->first_ns = v->first_ns;
	npids = flows_pids(v, pids);
	t->pids_total -= g->npids;
	for (size_t i = 0; i < npids; i++)
		flow_add_pid(g, pids[i]);
	if (v->last_ns >= g->last_ns) {
		flow_add_pid(g, v->pid);
		g->last_ns = v->last_ns;
		g->pid = v->pid;
		g->uid = v->uid;
	}
	t->pids_total += g->npids;
	/* a (process, *) row has an ext: without memory for it, v's errors,
	 * latencies, retransmits and connects in flight are not kept */
	if ((gx = flow_ext(g)) && (vx = v->ext)) {
		for (int i = 0; i < RES_MAX; i++)
			gx->results[i] += vx->results[i];
		for (int i = 0; i < CT_FLOW_ERRS && vx->errs[i].err; i++)
			ct_errs_add(gx->errs, &gx->errs_other, vx->errs[i].err, vx->errs[i].count);
		gx->errs_other += vx->errs_other;
		/* without memory for the histogram the samples are not
		 * counted: lat_n stays the histogram's sum (as in flows_add) */
		if (vx->lat && (gx->lat || (gx->lat = calloc(1, sizeof(*gx->lat))))) {
			ct_lat_merge(gx->lat, vx->lat);
			gx->lat_n += vx->lat_n;
			gx->lat_sum_ns += vx->lat_sum_ns;
			if (vx->lat_max_ns > gx->lat_max_ns)
				gx->lat_max_ns = vx->lat_max_ns;
		}
		if (vx->abandon_max_ns > gx->abandon_max_ns)
			gx->abandon_max_ns = vx->abandon_max_ns;
		for (int i = 0; i < CT_SYN_RT_HIST; i++)
			gx->syn_rt_hist[i] += vx->syn_rt_hist[i];
		gx->syn_rt += vx->syn_rt;
		/* its connects in flight: their outcomes settle them in g
		 * (flows_add) */
		while (pending_count(vx->pend)) {
			uint64_t start = pending_oldest(vx->pend);

			if (pending_add(&gx->pend, start))
				break;
			pending_del(&vx->pend, start);
		}
	}
	if (gx)
		gx->folded++;
	t->rows[g->row].clock = (uint32_t)t->clock;
	t->rows[g->row].epoch = (uint32_t)t->epoch;
	lru_move(t, g, SEG_FOLDED);
}

/* 1 when the keep predicate keeps f */
static int flow_kept(const struct ct_flows *t, const struct ct_flow *f)
{
	uint32_t pids[CT_MAX_PIDS];
	struct ct_row r;
	struct ct_row_more m;

	if (!t->keep_fn)
		return 0;
	flow_row_full(t, f, &r, &m, pids);
	return t->keep_fn(t->keep_ctx, &r);
}

/* The flow to evict: probation's least recent, else protected's; one the
 * keep predicate keeps moves to the kept list on the way (each flow is
 * asked once, until the predicate changes), which gives its least recent
 * only when nothing else is left. Never a (process, *) row. */
static struct ct_flow *victim(struct ct_flows *t)
{
	static const enum flow_seg order[] = { SEG_PROBATION, SEG_PROTECTED };
	struct ct_flow *f;

	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		while ((f = t->seg[order[i]].tail)) {
			if (!flow_kept(t, f))
				return f;
			lru_move(t, f, SEG_KEPT);
		}
	}
	return t->seg[SEG_KEPT].tail;
}

/* evict v, its counts folded into its process's (process, *) row: the row
 * it leaves free */
static uint32_t fold_evict(struct ct_flows *t, struct ct_flow *v)
{
	struct flow_key fk;
	struct ct_flow *g;
	uint32_t row = v->row;

	folded_key(v->key.comm, &fk);
	g = lookup(t, &fk, NULL);
	if (!g)
		g = folded_new(t, &fk, v->first_ns);
	if (g) { /* else out of memory: its counts go with it */
		fold_into(t, g, v);
		t->folded++;
	}
	evict(t, v);
	t->evicted++;
	return row;
}

static struct ct_flow *flow_get(struct ct_flows *t, const struct flow_key *k, uint64_t ts)
{
	size_t pos;
	struct ct_flow *f = lookup(t, k, &pos);
	uint32_t row;

	if (f) {
		if (t->seg[f->seg].head != f)
			lru_move(t, f, f->seg);
		return f;
	}
	if (flows_count(t) >= t->max) {
		row = fold_evict(t, victim(t)); /* the new flow takes the evicted one's row */
		pos = NO_POS;			/* the slots changed: looked up again */
	} else {
		if (rows_room(t))
			return NULL;
		row = (uint32_t)t->n;
	}
	return flow_insert(t, k, ts, row, SEG_PROBATION, pos);
}

void flows_set_keep(struct ct_flows *t, flows_keep_fn fn, void *ctx)
{
	struct ct_flow *f;

	t->keep_fn = fn;
	t->keep_ctx = ctx;
	/* asked again when they come up as victims (order kept), from where
	 * they would be but for the predicate */
	while ((f = t->seg[SEG_KEPT].tail))
		lru_move(t, f, f->promoted ? SEG_PROTECTED : SEG_PROBATION);
	protected_trim(t);
}

/* An outcome settles in a (process, *) row, whose counts the evict
 * callback does not take (they came flow by flow): handed to it as a row of
 * the flow's own key holding this outcome alone (count 0: its connect was
 * handed over with the flow). */
static void settled_in_folded(struct ct_flows *t, const struct ct_sample *s)
{
	struct ct_row r = { 0 };
	struct ct_row_more m = { 0 };
	struct ct_lat lat = { 0 };
	enum ct_result res = s->abandoned ? RES_ABANDONED : ct_classify(s->ret);

	if (!t->evict_fn)
		return;
	r.key = s->key;
	r.results[res] = 1;
	r.first_ns = r.last_ns = s->ts_ns;
	r.pid = s->pid;
	r.uid = s->uid;
	r.npids = 1;
	r.nflows = 1;
	r.more = &m;
	m.pids = &s->pid;
	if (res != RES_OK && res != RES_ABANDONED)
		ct_errs_add(m.errs, &r.errs_other, -s->ret, 1);
	if (s->has_lat && (res == RES_OK || res == RES_REFUSED)) {
		ct_lat_add(&lat, s->lat_ns, 1);
		m.lat = &lat;
		r.lat_n = 1;
		r.lat_sum_ns = r.lat_max_ns = s->lat_ns;
	}
	t->evict_fn(t->evict_ctx, &r);
}

void flows_add(struct ct_flows *t, const struct ct_sample *s)
{
	struct flow_ext *x;
	struct ct_flow *f = NULL;
	enum ct_result res;
	uint64_t seen_epoch;

	if (s->outcome && !lookup(t, &s->key, NULL)) {
		/* the outcome of a connect its flow took along when it was
		 * folded: it settles there */
		struct flow_key fk;
		struct ct_flow *g;

		folded_key(s->key.comm, &fk);
		g = lookup(t, &fk, NULL);
		if (g && flow_results(g, RES_PENDING)) {
			f = g;
			lru_move(t, g, SEG_FOLDED);
		}
	}
	if (!f)
		f = flow_get(t, &s->key, s->ts_ns);
	else
		settled_in_folded(t, s);
	if (!f)
		return;
	t->rows[f->row].clock = (uint32_t)t->clock;
	t->rows[f->row].epoch = (uint32_t)t->epoch;
	seen_epoch = f->epoch;
	flow_hist_advance(t, f);
	if (s->ts_ns > f->last_ns)
		f->last_ns = s->ts_ns;
	res = ct_classify(s->ret);
	if (s->outcome && flow_results(f, RES_PENDING)) {
		/* resolves a connect already counted as pending */
		f->ext->results[RES_PENDING]--;
		pending_del(&f->ext->pend, s->start_ns);
	} else {
		/* a connect (or the outcome of one whose flow was evicted since) */
		f->count++;
		if (f->hist)
			f->hist[f->epoch % CT_RING]++;
		else
			f->cur++;
		t->pids_total -= f->npids;
		flow_add_pid(f, s->pid);
		t->pids_total += f->npids;
		f->pid = s->pid;
		f->uid = s->uid;
		if (s->qname)
			f->qname = s->qname;
		/* seen again in a later interval, or busy: worth keeping */
		if ((f->seg == SEG_PROBATION || f->seg == SEG_KEPT) &&
		    (f->count >= FLOWS_PROMOTE || (f->count > 1 && seen_epoch < t->epoch))) {
			f->promoted = 1;
			if (f->seg == SEG_PROBATION) {
				lru_move(t, f, SEG_PROTECTED);
				protected_trim(t);
			}
		}
	}
	if (s->pending)
		res = RES_PENDING;
	else if (s->abandoned)
		res = RES_ABANDONED;
	/* The rest goes to the flow's ext; without memory for it, it is not
	 * kept (the count is: its connect shows as ok). A connect that is ok,
	 * with no latency or SYN retransmit count, needs none. */
	if (res == RES_OK && !s->has_lat && !s->has_synrt)
		return;
	if (!(x = flow_ext(f)))
		return;
	if (res != RES_OK)
		x->results[res]++;
	/* out of memory: the age shown is that of the others */
	if (res == RES_PENDING)
		pending_add(&x->pend, s->start_ns);
	if (res == RES_ABANDONED && s->lat_ns > x->abandon_max_ns)
		x->abandon_max_ns = s->lat_ns;
	if (s->has_synrt && res != RES_PENDING) {
		x->syn_rt_hist[s->syn_rt < CT_SYN_RT_HIST ? s->syn_rt : CT_SYN_RT_HIST - 1]++;
		x->syn_rt += s->syn_rt;
	}
	if (res != RES_OK && res != RES_PENDING && res != RES_ABANDONED)
		ct_errs_add(x->errs, &x->errs_other, -s->ret, 1);
	/* handshake time of connects that were established or refused: a
	 * timeout's "latency" would only measure the kernel's SYN timeout
	 * (without memory for the histogram the sample is not counted at all:
	 * lat_n stays the histogram's sum) */
	if (s->has_lat && (res == RES_OK || res == RES_REFUSED) &&
	    (x->lat || (x->lat = calloc(1, sizeof(*x->lat))))) {
		ct_lat_add(x->lat, s->lat_ns, 1);
		x->lat_n++;
		x->lat_sum_ns += s->lat_ns;
		if (s->lat_ns > x->lat_max_ns)
			x->lat_max_ns = s->lat_ns;
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
	for (int seg = 0; seg < SEG_MAX; seg++)
		while (t->seg[seg].tail)
			evict(t, t->seg[seg].tail);
	t->gen++; /* rows are given out from 0 again */
}

int flows_tag_set(struct ct_flows *t, const struct flow_key *k, uint32_t tag)
{
	struct ct_flow *f = lookup(t, k, NULL);

	if (!f)
		return -ENOENT;
	f->tag = tag;
	t->rows[f->row].clock = (uint32_t)t->clock;
	return 0;
}
