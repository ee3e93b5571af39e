/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The flow table's insides, for the two modules that read them: the table
 * itself (flows.c) and its snapshots (snap.c), which copy rows straight out
 * of it. Nothing else includes this.
 */
#ifndef CT_FLOWS_TABLE_H
#define CT_FLOWS_TABLE_H

#include "flows.h"

/* What few flows have, kept out of every flow: results other than ok,
 * errors, SYN retransmit counts, handshake latencies, a third pid,
 * connects in flight, folding.
 * Allocated at a flow's first need (and freed with it): a million cold
 * UDP flows have none. */
struct flow_ext {
	/* connects by result, but for RES_OK (0 here): the flow's count
	 * less the others (flows_to_row) */
	uint64_t results[RES_MAX];
	struct ct_errcount errs[CT_FLOW_ERRS];
	uint32_t errs_other;
	uint32_t syn_rt;
	uint32_t syn_rt_hist[CT_SYN_RT_HIST]; /* as ct_row's */
	uint64_t abandon_max_ns;
	uint64_t lat_n, lat_sum_ns, lat_max_ns;
	/* NULL until the first latency sample: a TCP flow's 208 bytes */
	struct ct_lat *lat;
	uint32_t folded;	     /* a (process, *) row: flows folded into it */
	uint32_t pidcap;	     /* 0: pids live in the flow's pid_inline */
	uint32_t *pidtab;	     /* open addressing, pidcap slots, 0 = empty */
	struct pending_starts *pend; /* start times of its connects in flight */
};

/* A flow: 144 bytes (328 with all of flow_ext in it, 568 with its history ring too): a
 * million cold ones, whose connects are all ok, keep no results of their own. */
struct ct_flow {
	struct flow_key key;
	uint32_t row;	     /* its row in snapshots, stable while it lives */
	uint32_t prev, next; /* ids in its segment's list (head: the most recently seen), 0: none */
	uint64_t count;	     /* connects: ok unless ext->results says otherwise */
	uint64_t first_ns, last_ns;
	uint64_t epoch; /* the interval hist[epoch % CT_RING] counts */
	/* The current interval and CT_HIST complete ones, allocated once a
	 * flow has connects in two intervals of the window (or an event in a
	 * later one). NULL: the ring is all zero but for interval `epoch`,
	 * which holds `cur` connects. A million one-off flows then keep 4
	 * bytes of history each, not 244. */
	uint32_t *hist;
	struct flow_ext *ext; /* NULL: all of it zero */
	uint32_t id;	      /* its place among the flows (flow_slot.id) */
	uint32_t cur;
	uint32_t uid, pid, tag;
	uint32_t qname;	  /* qnames.h: the name of its latest connect that had one, or 0 */
	uint16_t npids;	  /* distinct pids (pid_inline, or ext->pidtab), at most CT_MAX_PIDS */
	uint8_t seg;	  /* enum flow_seg: the list it is on */
	uint8_t promoted; /* it was protected once (kept or not) */
	uint32_t pid_inline[2];
};

/* a slot of the flows' hash: the low 32 bits of the key's hash, and the
 * flow's id (0: empty) */
struct flow_slot {
	uint32_t tag, id;
};

/*
 * Eviction by value: a segmented LRU. A new flow is on probation; a second
 * connect in a later interval, or FLOWS_PROMOTE connects, make it protected.
 * Victims come from probation's tail first, so that a scan of one-off
 * destinations churns probation alone. A candidate the keep predicate
 * matches goes to the kept list instead, taken only when nothing else is
 * left. An evicted flow is folded into its process's (process, *) row, on
 * the folded list, which has a bound of its own.
 */
enum flow_seg { SEG_PROBATION = 0, SEG_PROTECTED, SEG_KEPT, SEG_FOLDED, SEG_MAX };

struct flow_list {
	struct ct_flow *head, *tail;
	size_t n;
};

/* A flow's place in snapshots: rows[f->row].id == f->id. 12 bytes a
 * flow: the clock and the interval are kept modulo 2^32, and read as
 * differences (flow_row_since), which are right for the rows that
 * changed; a row untouched for 2^31 snapshots may be taken for a changed
 * one, which costs its copy only. */
struct flow_row {
	uint32_t id;	/* its flow's */
	uint32_t clock; /* of its last change */
	uint32_t epoch; /* of its last connect */
};

/* a is after b, of two clocks or intervals modulo 2^32 */
static inline int flow_row_after(uint32_t a, uint64_t b)
{
	return (int32_t)(a - (uint32_t)b) > 0;
}

struct ct_flows {
	struct flow_slot *slots;
	size_t nslots; /* power of two */
	/* while the slots grow: the old ones, whose entries below mig have
	 * moved to slots (grow_slots), their memory below old_freed given back */
	struct flow_slot *old_slots;
	size_t old_nslots, mig, old_freed;
	size_t n, max;	   /* n: rows, folded ones included; max: flows */
	size_t max_folded; /* (process, *) rows, beyond max */
	struct flow_list seg[SEG_MAX];
	struct ct_flow *free_list; /* evicted flows kept for reuse */
	struct ct_flow **slabs;	   /* where flows come from (flow_alloc) */
	size_t nslabs, slab_used;  /* slab_used: flows given out of the last one */
	uint64_t evicted, folded;  /* folded: evicted flows whose counts a (process, *) row kept */
	flows_keep_fn keep_fn;
	void *keep_ctx;
	size_t pids_total; /* sum of the flows' npids */
	uint64_t epoch;	   /* current (incomplete) interval */
	uint64_t tick_ns;  /* when the current interval started */
	uint64_t last_interval_ns;
	flows_evict_fn evict_fn;
	void *evict_ctx;
	/* What lets a snapshot be brought up to date instead of copied again.
	 * A flow keeps its row; a new flow takes the row of the flow it
	 * evicts, or the next one. clock counts snapshots; a change to a flow
	 * stamps its row with the clock (and a connect with the interval), so
	 * that finding the rows changed since a snapshot is a walk of this
	 * compact array. gen changes when rows are given out again from 0
	 * (flows_clear). id tells tables apart. */
	struct flow_row *rows;
	size_t rows_cap;
	uint64_t id, gen, clock;
};

#define FLOW_SLAB 4096 /* flows allocated at once (576 KiB) */

/* the flow of id (flow_slot.id, flow_row.id) */
static inline struct ct_flow *flows_of_id(const struct ct_flows *t, uint32_t id)
{
	return &t->slabs[(id - 1) / FLOW_SLAB][(id - 1) % FLOW_SLAB];
}

/* f into the row r and its more m; m->pids is left NULL (flows_pids) */
void flows_to_row(const struct ct_flows *t, const struct ct_flow *f, struct ct_row *r,
		  struct ct_row_more *m, double interval_s);
/* f's distinct pids into out (room for f->npids): how many */
size_t flows_pids(const struct ct_flow *f, uint32_t *out);

#endif
