/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Derived rows: what a screen, a batch interval or an export shows of a
 * snapshot: its flows filtered, grouped (by process, destination or port)
 * and put in order.
 *
 * Ownership: struct ct_rows is the caller's; what it points to (the rows,
 * the group rows, their pids) belongs to it and to the snapshot it was
 * derived from, which must outlive it. Free with rows_free().
 */
#ifndef CT_ROWS_H
#define CT_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "row.h"
#include "snap.h"
#include "sort.h"

struct ct_filter; /* filter.h */
struct rows_work;

struct ct_rows {
	const struct ct_row **rows; /* point into the snapshot or into agg */
	size_t n;
	size_t sorted;	    /* rows[0..sorted) are in order; the rest are not */
	size_t total;	    /* flows in the snapshot, before filtering */
	uint64_t epoch;	    /* the snapshot's, for ct_row_history() */
	struct ct_row *agg; /* the group rows (groupings other than flow) */
	/* private: buffers kept for the next rows_refresh */
	struct ct_more_buf *agg_more; /* by group, for those that need it */
	uint32_t *pid_pool;	      /* the group rows' pids */
	size_t rows_cap, agg_cap, more_cap, pool_cap;
	struct rows_work *work;
};

/* Filter the snapshot's flows, group them, sort. filter may be NULL.
 * desc sorts descending; ties are always broken on the row's key ascending so
 * equal rows keep their order from one refresh to the next. With limit > 0
 * only the first `limit` rows are put in order (sort_rows); 0 sorts all. In
 * groupings other than flow, rows past `sorted` have only the fields that
 * sorting reads: their `more` is empty (no history, errors or pids; latency
 * buckets only when sorted by latency), and npids is an upper bound.
 * 0 or -ENOMEM (out is then freed). */
int rows_derive(const struct ct_snap *s, enum ct_group g, const struct ct_filter *f,
		enum ct_sort sort, int desc, size_t limit, struct ct_rows *out);
/* The same into rows from an earlier call (or zeroed), whose buffers are
 * reused (a refresh then writes into memory already mapped) and whose
 * groups are updated by the difference when s is the snapshot they were
 * derived from, refreshed once since. On -ENOMEM out holds no rows and
 * still needs rows_free. */
int rows_refresh(const struct ct_snap *s, enum ct_group g, const struct ct_filter *f,
		 enum ct_sort sort, int desc, size_t limit, struct ct_rows *out);
/* Kept rows. Figure (viewbench -O2, 2 cores, a key switching to a grouping,
 * 100,000 flows): 0.0-1.3 ms to rows kept aside and followed, 2.3-6.9 ms
 * derived anew (dest 6.3, one process's flows by process 6.9); following
 * costs 0.3-0.8 ms per kept grouping per refresh. 32,768 flows: at most
 * 0.6 against 1.1-4.3 ms.
 *
 * Bring out, rows of s as it was one refresh ago (s->prev_clock), up to
 * date with s without putting them in order: grouped rows kept aside (not
 * the ones shown) then cost what changed, and are ready when shown again
 * (rows_refresh orders them). When they cannot be (s copied whole, refreshed
 * twice since, another filter), their next rows_refresh derives them anew. */
void rows_follow(const struct ct_snap *s, enum ct_group g, const struct ct_filter *f,
		 struct ct_rows *out);
/* 1 if out holds what it derived from s as it is now, in grouping g with
 * filter f: a rows_refresh of it then only orders */
int rows_ready(const struct ct_rows *out, const struct ct_snap *s, enum ct_group g,
	       const struct ct_filter *f);
void rows_free(struct ct_rows *r);
/* Put n rows more (in order among themselves, owned by the caller, who
 * keeps them alive as long as out) after out's rows; they count as in
 * order when all of out's were. The next rows_refresh leaves them out.
 * 0 or -ENOMEM (out unchanged). */
int rows_append(struct ct_rows *out, const struct ct_row *const *extra, size_t n);
/* the key of the group of grouping g a flow of key in belongs to (the
 * fields that do not apply are zero) */
void rows_group_key(enum ct_group g, const struct flow_key *in, struct flow_key *out);

#endif
