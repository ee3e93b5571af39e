// SPDX-License-Identifier: GPL-2.0-or-later
#include "rows.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"

void rows_group_key(enum ct_group g, const struct flow_key *in, struct flow_key *out)
{
	memset(out, 0, sizeof(*out));
	switch (g) {
	case GROUP_PROCESS:
		memcpy(out->comm, in->comm, sizeof(out->comm));
		break;
	case GROUP_DEST:
		out->family = in->family;
		out->scope = in->scope;
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
	for (int i = 0; i < CT_SYN_RT_HIST; i++)
		g->syn_rt_hist[i] += r->syn_rt_hist[i];
	g->syn_rt += r->syn_rt;
	g->lat_n += r->lat_n;
	g->lat_sum_ns += r->lat_sum_ns;
	if (r->lat_max_ns > g->lat_max_ns)
		g->lat_max_ns = r->lat_max_ns;
	g->npids += r->npids; /* an upper bound until merge_heavy counts them */
	g->nflows++;
}

/* gb, g's more, gets r's: g's history ring ends at interval epoch - 1,
 * the last complete one; its slot of interval `epoch` is cleared when
 * every member is in */
static void merge_heavy(struct ct_row *g, struct ct_more_buf *gb, const struct ct_row *r,
			uint64_t epoch)
{
	const struct ct_row_more *rm = r->more;
	struct ct_row_more *gm = &gb->m;

	for (int i = 0; i < CT_FLOW_ERRS && rm->errs[i].err; i++)
		ct_errs_add(gm->errs, &g->errs_other, rm->errs[i].err, rm->errs[i].count);
	if (rm->abandon_max_ns > gm->abandon_max_ns)
		gm->abandon_max_ns = rm->abandon_max_ns;
	gm->folded += rm->folded;
	if (r->lat_n)
		ct_lat_merge(&gb->lat, ct_more_lat(rm));
	if (rm->pending_since_ns &&
	    (!gm->pending_since_ns || rm->pending_since_ns < gm->pending_since_ns))
		gm->pending_since_ns = rm->pending_since_ns;
	if (!epoch)
		return;
	if (ct_row_hist_epoch(r, epoch) + 1 >= epoch) {
		/* r's ring holds every interval g shows, in the same slots */
		if (!rm->hist_ring)
			gb->hist_ring[ct_row_hist_epoch(r, epoch) % CT_RING] += rm->hist_cur;
		for (int i = 0; rm->hist_ring && i < CT_RING; i++)
			gb->hist_ring[i] += rm->hist_ring[i];
	} else {
		uint32_t h[CT_HIST];

		ct_more_history(r, rm, epoch, h);
		ct_ring_add(gb->hist_ring, epoch - 1, h, CT_HIST, 1);
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
		w[1] ^= (uint64_t)k->family << 56 ^ (uint64_t)k->scope << 24;
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
		return gk->family == k->family && gk->scope == k->scope &&
		       !memcmp(gk->daddr, k->daddr, sizeof(k->daddr));
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

/* The buffers of derived rows and what they hold, kept from one call to the next
 * (rows_refresh): a refresh with 100,000 groups does not fault in fresh
 * memory; a view of the same snapshot, grouping and filter (a key that
 * changes the sort or moves the selection) only sorts its groups again and
 * fills those that come into view; and a view of the snapshot brought up
 * to date since only makes again the groups of the rows that changed. */
#define NO_GROUP UINT32_MAX
struct rows_work {
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
static int group_index_resize(struct rows_work *w, size_t cap)
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
static uint32_t group_of(enum ct_group g, const struct flow_key *k, uint32_t hk, struct ct_rows *v)
{
	struct rows_work *w = v->work;
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
	rows_group_key(g, k, &n->key);
	w->filled[w->ngroups] = 0;
	w->want[w->ngroups] = 0;
	w->slot[h] = (struct group_slot){ .idx1 = (uint32_t)++w->ngroups, .hash = hk };
	if (w->ngroups * 2 >= w->slot_cap && group_index_resize(w, w->slot_cap * 2))
		return NO_GROUP;
	return (uint32_t)(w->ngroups - 1);
}

/* a group's rate, from its connects in the last interval: as a flow's,
 * and the same whatever the order its members came in */
static void group_rates(const struct ct_snap *s, struct ct_rows *v)
{
	for (size_t gi = 0; gi < v->work->ngroups; gi++)
		v->agg[gi].rate = ct_rate(v->agg[gi].interval_count, s->interval_s);
}

/* Pass 1: v->agg gets one row per group with all its light fields (so that
 * any sort can order the groups), w->row_gid each row's group. The rows
 * are those of v->rows[0..nsel), the filtered ones, in the snapshot's order. */
static int build_groups(enum ct_group g, const struct ct_snap *s, size_t nsel, struct ct_rows *v)
{
	struct rows_work *w = v->work;
	const struct ct_row **sel = v->rows;

	if (GROW(w->row_gid, w->row_gid_cap, s->n + 1))
		return -ENOMEM;
	if (!w->slot && group_index_resize(w, 1024))
		return -ENOMEM;
	memset(w->slot, 0, w->slot_cap * sizeof(*w->slot));
	for (size_t i = 0; i < s->n; i++)
		w->row_gid[i] = NO_GROUP;
	w->ngroups = 0;
	/* Figure (viewbench -O2, 2 cores, a key switching to the grouping,
	 * 100,000 flows): dest 6.0 ms with the pipeline, 12.0 without;
	 * process 3.8 against 6.2; port 2.3 against 3.9 (32,768 flows:
	 * process 1.1 against 2.1).
	 * A pipeline, so that memory works ahead: the row of member i + 2D
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
static void point_groups(struct ct_rows *v)
{
	struct rows_work *w = v->work;

	for (size_t gi = 0; gi < w->ngroups; gi++) {
		ct_more_buf_bind(&v->agg_more[gi]);
		v->agg[gi].more = w->filled[gi] || w->lat_all ? &v->agg_more[gi].m : &empty_more;
		if (w->filled[gi])
			v->agg_more[gi].m.pids = v->pid_pool + w->pid_off[gi];
	}
}

/* Figure (viewbench -O2, 2 cores, a refresh of grouped rows with 1% of the
 * flows active): 100,000 flows of one process, process grouping 0.5 ms
 * with these differences, 6.5 ms remaking the groups whose members
 * changed; dest 0.4 against 5.5 ms; 100,000 flows of 500 processes, dest
 * 1.6 against 3.5 ms; 32,768 flows of one process 0.25 against 2.1 ms.
 *
 * Group gi gets the change of one member (o, om: the row as it was; r: as
 * it is now, the same flow) instead of being made again from all its
 * members: the counters add up, the maxima only grow. -1 when the result
 * could differ from making the group again (its latest member or its list
 * of errors or pids depends on its members' order): then it is. */
static int group_delta(const struct ct_snap *s, struct ct_rows *v, size_t gi,
		       const struct ct_row *o, const struct ct_row_more *om, const struct ct_row *r)
{
	struct rows_work *w = v->work;
	struct ct_row *g = &v->agg[gi];
	/* only a filled group has one */
	struct ct_more_buf *gb = w->filled[gi] ? &v->agg_more[gi] : NULL;
	struct ct_row_more *gm = gb ? &gb->m : NULL;
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
		/* the group's oldest connect in flight may have been the member's */
		if (om->pending_since_ns && om->pending_since_ns == gm->pending_since_ns &&
		    rm->pending_since_ns != om->pending_since_ns)
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
	for (int i = 0; i < CT_SYN_RT_HIST; i++)
		g->syn_rt_hist[i] += r->syn_rt_hist[i] - o->syn_rt_hist[i];
	g->syn_rt += r->syn_rt - o->syn_rt;
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
	gm->folded += rm->folded - om->folded;
	/* the member's samples as the group took them go, as they are now
	 * come in: the group ends at the resolution its samples fit in, as
	 * when made again (the member's samples only grew) */
	if (r->lat_n != o->lat_n) {
		ct_lat_sub(&gb->lat, ct_more_lat(om));
		ct_lat_merge(&gb->lat, ct_more_lat(rm));
	}
	if (rm->pending_since_ns &&
	    (!gm->pending_since_ns || rm->pending_since_ns < gm->pending_since_ns))
		gm->pending_since_ns = rm->pending_since_ns;
	if (e) {
		/* The group's ring moves on to the last complete interval (its
		 * other members had no connect since: those that did changed).
		 * The member's history as the group took it (at e_was, what
		 * is still in the window) goes, as it is now comes in. */
		uint64_t h = ct_row_hist_epoch(g, e);
		uint32_t was[CT_HIST], now[CT_HIST];

		if (e - 1 > h) {
			ct_ring_advance(gb->hist_ring, h, e - 1);
			g->hist_epoch = (uint32_t)(e - 1);
		}
		if (e_was && e - e_was < CT_HIST) {
			ct_more_history(o, om, e_was, was);
			ct_ring_add(gb->hist_ring, e_was - 1, was, CT_HIST - (e - e_was), -1);
		}
		ct_more_history(r, rm, e, now);
		ct_ring_add(gb->hist_ring, e - 1, now, CT_HIST, 1);
	}
	return 0;
}

/* Figure (viewbench -O2, 2 cores, a refresh of grouped rows with 1% of the
 * flows active): 100,000 flows, 0.4-1.6 ms updated, 5.0-15.4 ms derived
 * anew (500 processes: process 5.0, dest 11.0; one process: process
 * 15.4, dest 11.5); 32,768 flows 0.1-0.7 against 0.9-2.4 ms.
 *
 * Bring the groups up to date with a snapshot updated once since they
 * were made (s->todo: the rows it wrote): the groups those rows left or
 * joined are made again from all their members, the others stay as they
 * are (an unchanged member had no connect in the last two intervals: its
 * counts and last-interval rate are what they were, its history only
 * moves on, which the group's ring does by itself). -1 when a group would
 * be left empty or the filter can change its mind without a row changing:
 * then everything is made again. */
static int update_groups(enum ct_group g, const struct ct_snap *s, const struct ct_filter *f,
			 struct ct_rows *v)
{
	struct rows_work *w = v->work;
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
		    !group_delta(s, v, now, o, &s->old_more[k].m, r)) {
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
		v->agg[gi].rate = ct_rate(v->agg[gi].interval_count, s->interval_s);
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
static int group_latency(const struct ct_snap *s, struct ct_rows *v)
{
	struct rows_work *w = v->work;

	if (w->lat_all)
		return 0;
	if (GROW(v->agg_more, v->more_cap, w->ngroups + 1))
		return -ENOMEM;
	for (size_t gi = 0; gi < w->ngroups; gi++)
		if (!w->filled[gi])
			memset(&v->agg_more[gi].lat, 0, sizeof(v->agg_more[gi].lat));
	for (size_t row = 0; row < s->n; row++) {
		const struct ct_row *m = &s->rows[row];
		uint32_t gi = w->row_gid[row];

		if (gi == NO_GROUP || w->filled[gi] || !m->lat_n)
			continue;
		ct_lat_merge(&v->agg_more[gi].lat, ct_more_lat(m->more));
	}
	w->lat_all = 1;
	point_groups(v);
	return 0;
}

/* add (group gi, pid) to the set w->set of w->set_n pairs: 1 if new */
static int pidset_add(struct rows_work *w, size_t gi, uint32_t pid)
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
static int fill_groups(const struct ct_snap *s, struct ct_rows *v, size_t upto)
{
	struct rows_work *w = v->work;
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
		const uint32_t *pids = ct_row_pids(m);

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
		v->agg_more[gi].hist_ring[v->epoch % CT_RING] = 0;
		w->filled[gi] = 1;
	}
	for (size_t c = 0; c < ncand; c++) {
		size_t gi = w->cand[c] >> 32;

		v->pid_pool[w->pid_off[gi] + v->agg[gi].npids++] = (uint32_t)w->cand[c];
	}
	point_groups(v);
	return 0;
}

/* w was derived from snapshot s (in some state of it), in grouping g with
 * filter f */
static int derived_from(const struct rows_work *w, const struct ct_snap *s, enum ct_group g,
			const struct ct_filter *f)
{
	return w && w->valid && w->snap == s && w->table_id == s->table_id && w->group == g &&
	       w->filter == filter_id(f);
}

/* ... and from s as it is now */
static int derived_from_now(const struct rows_work *w, const struct ct_snap *s, enum ct_group g,
			    const struct ct_filter *f)
{
	return derived_from(w, s, g, f) && w->clock == s->clock && w->snap_n == s->n;
}

int rows_refresh(const struct ct_snap *s, enum ct_group g, const struct ct_filter *f,
		 enum ct_sort sort, int desc, size_t limit, struct ct_rows *out)
{
	struct rows_work *w = out->work;
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
	out->sorted = sort_rows(out->rows, out->n, sort, desc, limit);
	if (g != GROUP_FLOW && (rc = fill_groups(s, out, out->sorted)))
		return rc;
	w->valid = 1;
	return 0;
}

int rows_ready(const struct ct_rows *out, const struct ct_snap *s, enum ct_group g,
	       const struct ct_filter *f)
{
	return derived_from_now(out->work, s, g, f);
}

void rows_follow(const struct ct_snap *s, enum ct_group g, const struct ct_filter *f,
		 struct ct_rows *out)
{
	struct rows_work *w = out->work;

	if (!w || !w->valid || derived_from_now(w, s, g, f))
		return;		  /* nothing to follow, or up to date already */
	out->n = out->sorted = 0; /* not in order: rows_refresh puts it */
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

int rows_derive(const struct ct_snap *s, enum ct_group g, const struct ct_filter *f,
		enum ct_sort sort, int desc, size_t limit, struct ct_rows *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = rows_refresh(s, g, f, sort, desc, limit, out);
	if (rc)
		rows_free(out);
	return rc;
}

int rows_append(struct ct_rows *v, const struct ct_row *const *extra, size_t n)
{
	if (!n)
		return 0;
	if (GROW(v->rows, v->rows_cap, v->n + n + 1))
		return -ENOMEM;
	memcpy(v->rows + v->n, extra, n * sizeof(*extra));
	if (v->sorted == v->n)
		v->sorted += n;
	v->n += n;
	return 0;
}

void rows_free(struct ct_rows *v)
{
	struct rows_work *w;

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
