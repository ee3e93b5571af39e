/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Snapshots of the flow table: a copy of every flow at one moment, to read
 * (derive rows from, export) while the table goes on.
 *
 * Ownership: snap_new() returns a snapshot the caller frees with
 * snap_free(); snap_refresh() consumes the snapshot it is given and returns
 * the new one. Both return NULL with errno set on failure.
 */
#ifndef CT_SNAP_H
#define CT_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "row.h"

struct ct_flows;

/* Each flow keeps its row from one snapshot to the next (rows are not in
 * any particular order). */
struct ct_snap {
	struct ct_row *rows;
	size_t n;
	uint64_t taken_ns; /* monotonic time of the snapshot */
	double interval_s; /* length of the last complete interval */
	uint64_t epoch;	   /* the table's current interval (flows_interval) */
	/* Set by the caller before a refresh: keep what the rows it rewrites
	 * held (old_rows), so that grouped rows can update their groups by
	 * the difference (rows.c). Costs a copy of each row rewritten. */
	int keep_old;
	unsigned full; /* 1 if the last refresh copied every flow */
	/* private: the buffers and what a refresh of this snapshot needs */
	struct ct_row_more *more; /* by row */
	uint32_t *pid_pool;	  /* backing store of the rows' pids */
	size_t rows_cap, pids_cap, pids_used;
	uint32_t *pid_off, *pid_room; /* by row: where its pids are, room there */
	uint32_t *todo;		      /* the rows the last refresh wrote (ntodo), in order */
	size_t ntodo;
	/* what those rows held before (old_rows[k] for todo[k]; nflows 0: a
	 * new row), when keep_old asked for it and few rows changed (has_old) */
	int has_old;
	struct ct_row *old_rows;
	struct ct_more_buf *old_more; /* each with its own copy of what it points at */
	size_t old_cap;
	/* by row: its latency histogram's and history ring's place in the
	 * pools (+ 1; 0: none yet), valid for rows below slots_n. Only the
	 * flows that have one take a place: a cold flow has neither. */
	uint32_t *lat_slot, *ring_slot;
	size_t slots_n;
	struct snap_pool {
		void **chunk; /* of SNAP_CHUNK elements each: never moved */
		size_t nchunk, used, elem;
	} lat_pool, ring_pool;
	struct ct_row_more *cold; /* the cold flows' shared mores (snap.c) */
	uint64_t table_id, gen, clock;
	uint64_t prev_clock;	      /* the clock of the state the last refresh started from */
	const struct snap_hook *hook; /* the refresh's, while it runs */
};

/* Called now and then during a refresh (every SNAP_HOOK_ROWS rows written,
 * 16 times as many looked at), for work that must not wait so long: reading
 * the ring buffer on (spill.h). It must not change the table. */
struct snap_hook {
	void (*fn)(void *ctx);
	void *ctx;
};
#define SNAP_HOOK_ROWS 4096

/* a copy of every flow of t at now_ns */
struct ct_snap *snap_new(struct ct_flows *t, uint64_t now_ns);
/* The same, reusing old (which is consumed, and may be NULL). When old is
 * this table's earlier snapshot, only the rows of flows that changed since
 * (or whose last-interval count did) are written again: a refresh of a
 * large, mostly idle table costs what changed, not the table. */
struct ct_snap *snap_refresh(struct ct_flows *t, uint64_t now_ns, struct ct_snap *old);
/* the same, calling h (which may be NULL) as it goes */
struct ct_snap *snap_refresh_hook(struct ct_flows *t, uint64_t now_ns, struct ct_snap *old,
				  const struct snap_hook *h);
void snap_free(struct ct_snap *s);

#endif
