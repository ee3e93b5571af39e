/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The flow table: the pure aggregation core. No curses, no libbpf, no clock:
 * callers pass timestamps. A flow is (process name, destination address,
 * port, protocol), the way people think of "who connects where".
 *
 * Ownership: flows_new() returns a table the caller frees with flows_free().
 * flows_snapshot() returns a copy (struct ct_snap) that stays valid and
 * unchanged while the table goes on; the caller frees it with snap_free().
 * snap_view() derives sorted, filtered, grouped rows from a snapshot into a
 * struct ct_view that the caller frees with view_rows_free().
 */
#ifndef CT_FLOWS_H
#define CT_FLOWS_H

#include <stdint.h>
#include <stddef.h>

#define CT_HIST 60	  /* per-interval counts kept per flow */
#define CT_LAT_BUCKETS 27 /* log2 buckets of microseconds: [2^b, 2^(b+1)), b=0 is [0,2) */
#define CT_FLOW_ERRS 4	  /* distinct errnos kept per flow; more go to errs_other */
#define CT_MAX_PIDS 1024  /* distinct pids kept per flow; the count saturates there */

enum ct_result {
	RES_OK = 0,
	RES_REFUSED,
	RES_TIMEOUT,
	RES_UNREACH,
	RES_PENDING, /* connects whose outcome is still to come (goes down again) */
	RES_OTHER,
	/* the application gave up: it closed or shut down the socket in
	 * SYN_SENT (its own timeout) with no error reported to it; no errno */
	RES_ABANDONED,
	RES_MAX,
};

/* result class of a final connect result (0 or -errno) */
enum ct_result ct_classify(int ret);
extern const char *const ct_result_names[RES_MAX]; /* "ok", "refused", ... */

struct flow_key {
	char comm[16];	   /* not necessarily NUL-terminated */
	uint8_t daddr[16]; /* network order, IPv4 in the first 4 bytes */
	uint16_t dport;	   /* host order */
	uint16_t proto;	   /* IPPROTO_*, or CT_PROTO_UNIX | socket type */
	uint8_t family;	   /* 4 or 6, or CT_FAMILY_UNIX (util.h) */
	uint8_t pad[3];	   /* always zero: keys are compared and hashed as bytes */
};

/* flow_key.proto of an AF_UNIX flow: this | SOCK_STREAM, SOCK_DGRAM, ... */
#define CT_PROTO_UNIX 0x8000
#define CT_PROTO_IS_UNIX(p) (((p)&0xff00) == CT_PROTO_UNIX)

/* one connect event, already decoded from the BPF record */
struct ct_sample {
	struct flow_key key;
	uint64_t ts_ns;	 /* monotonic */
	uint64_t lat_ns; /* handshake latency, 0 if none */
	uint32_t pid;
	uint32_t uid;
	int32_t ret;	   /* final result 0/-errno; -EINPROGRESS while pending, or when the
			   * outcome could not be followed ("other") */
	uint8_t pending;   /* a CT_EV_OUTCOME will follow */
	uint8_t outcome;   /* this is that CT_EV_OUTCOME (resolves one pending) */
	uint8_t has_lat;   /* lat_ns is a handshake latency */
	uint8_t abandoned; /* RES_ABANDONED (ret is not looked at); lat_ns: how long it waited */
};

struct ct_errcount {
	int32_t err; /* positive errno */
	uint32_t count;
};

enum ct_group { GROUP_FLOW = 0, GROUP_PROCESS, GROUP_DEST, GROUP_PORT, GROUP_MAX };
extern const char *const ct_group_names[GROUP_MAX]; /* "flow", "process", "dest", "port" */

/* What only a shown row needs, kept apart from the row: a view walks
 * 100,000 rows of 192 bytes, not of 576. */
struct ct_row_more {
	const uint32_t *pids; /* npids pids (at most CT_MAX_PIDS), or NULL */
	struct ct_errcount errs[CT_FLOW_ERRS];
	uint64_t abandon_max_ns; /* the longest wait of its RES_ABANDONED connects */
	uint32_t lat[CT_LAT_BUCKETS];
	/* connects per interval: interval e is in hist_ring[e % (CT_HIST + 1)]
	 * for hist_epoch - CT_HIST <= e <= hist_epoch. A ring, not a list
	 * ordered from now, so that a flow idle since the last snapshot keeps
	 * the same row: read it with ct_row_history(). */
	uint32_t hist_ring[CT_HIST + 1];
};

/* a row of a snapshot or of a view: one flow, or a group of flows. What
 * sorting, filtering and grouping read, in three cache lines. */
struct ct_row {
	struct flow_key key; /* fields that do not apply to the grouping are zero */
	uint64_t count;	     /* connects since start (or since cleared) */
	double rate;	     /* per second over the last complete interval */
	uint64_t results[RES_MAX];
	uint64_t first_ns, last_ns; /* monotonic */
	uint64_t lat_n, lat_sum_ns, lat_max_ns;
	uint32_t interval_count; /* connects in the last complete interval */
	uint32_t errs_other;	 /* failures with an errno beyond CT_FLOW_ERRS distinct ones */
	uint32_t uid, pid;	 /* last */
	uint32_t npids;		 /* distinct pids (saturates at CT_MAX_PIDS) */
	uint32_t nflows;	 /* flows in this row (1 in the flow grouping) */
	uint32_t tag;		 /* exporter's mark on the flow (flows_tag_set), 0 by default */
	uint32_t hist_epoch;	 /* the newest interval more->hist_ring holds, modulo 2^32 */
	const struct ct_row_more *more; /* never NULL; owned by the snapshot or view */
};

struct ct_flows;
struct ct_flow;
typedef void (*flows_evict_fn)(void *ctx, const struct ct_row *flow);

/* max_flows: the table's bound; when full the least recently seen flow is
 * evicted. NULL and errno on failure. */
struct ct_flows *flows_new(size_t max_flows);
void flows_free(struct ct_flows *t);
/* Called with each flow just before it is evicted or cleared (used by the
 * Prometheus exposition to keep its counters monotonic). */
void flows_set_evict_cb(struct ct_flows *t, flows_evict_fn fn, void *ctx);
/* Account one event. Never allocates except for a new flow or a new pid. */
void flows_add(struct ct_flows *t, const struct ct_sample *s);
/* End the current interval at now_ns (monotonic): rates and history move on. */
void flows_tick(struct ct_flows *t, uint64_t now_ns);
/* Forget every flow (the evict callback sees each). */
void flows_clear(struct ct_flows *t);

size_t flows_count(const struct ct_flows *t);
uint64_t flows_evicted(const struct ct_flows *t);
uint64_t flows_interval(const struct ct_flows *t);	/* intervals ended so far */
double flows_last_interval_s(const struct ct_flows *t); /* length of the last one */

/* Set the exporter's mark on a live flow (the Prometheus exposition marks the
 * flows it folded). 0, or -ENOENT when the flow is gone. */
int flows_tag_set(struct ct_flows *t, const struct flow_key *k, uint32_t tag);

/* latency percentile (0 < p <= 1) in microseconds from the log2 buckets,
 * linearly interpolated inside the bucket and capped at the maximum. Returns
 * -1 when the row has no latency sample. */
double ct_row_lat_pct(const struct ct_row *r, double p);
uint64_t ct_row_failures(const struct ct_row *r); /* refused+timeout+unreach+other+abandoned */
/* The row's connects per complete interval as seen from interval `epoch`
 * (the snapshot's or view's epoch): out[0] is the last complete interval
 * (epoch - 1), out[1] the one before, ... */
void ct_row_history(const struct ct_row *r, uint64_t epoch, uint32_t out[CT_HIST]);

/* a copy of every flow at one moment. Each flow keeps its row from one
 * snapshot to the next (rows are not in any particular order). */
struct ct_snap {
	struct ct_row *rows;
	size_t n;
	uint64_t taken_ns; /* monotonic time of the snapshot */
	double interval_s; /* length of the last complete interval */
	uint64_t epoch;	   /* the table's current interval (flows_interval) */
	/* private: the buffers and what an update of this snapshot needs */
	struct ct_row_more *more; /* by row */
	uint32_t *pid_pool;	  /* backing store of the rows' pids */
	size_t rows_cap, pids_cap, pids_used;
	uint32_t *pid_off, *pid_room; /* by row: where its pids are, room there */
	uint32_t *todo;		      /* the rows the last update wrote (ntodo), in order */
	size_t ntodo;
	/* what those rows held before (old_rows[k] for todo[k]; nflows 0: a
	 * new row), when keep_old asked for it and few rows changed (has_old):
	 * a grouped view then updates its groups by the difference */
	int keep_old, has_old;
	struct ct_row *old_rows;
	struct ct_row_more *old_more;
	size_t old_cap;
	uint64_t table_id, gen, clock;
	uint64_t prev_clock; /* the clock of the state the last update started from */
	unsigned full;	     /* 1 if the last refresh copied every flow */
};
struct ct_snap *flows_snapshot(struct ct_flows *t, uint64_t now_ns);
/* The same, reusing old (which is consumed, and may be NULL). When old is
 * this table's earlier snapshot, only the rows of flows that changed since
 * (or whose last-interval count did) are written again: a refresh of a
 * large, mostly idle table costs what changed, not the table. */
struct ct_snap *flows_snapshot_reuse(struct ct_flows *t, uint64_t now_ns, struct ct_snap *old);
void snap_free(struct ct_snap *s);

enum ct_sort {
	SORT_COMM = 0,
	SORT_PID,
	SORT_DADDR,
	SORT_DPORT,
	SORT_PROTO,
	SORT_RATE,
	SORT_COUNT,
	SORT_FAIL,
	SORT_FAILPCT,
	SORT_LAT,
	SORT_LAST,
	SORT_MAX,
};
extern const char *const ct_sort_names[SORT_MAX]; /* option names: "comm", "rate", ... */
int ct_sort_parse(const char *name);		  /* -1 if unknown */

struct ct_filter; /* filter.h */

struct ct_view_work;

struct ct_view {
	const struct ct_row **rows; /* point into the snapshot or into agg */
	size_t n;
	size_t sorted;	    /* rows[0..sorted) are in order; the rest are not */
	size_t total;	    /* flows in the snapshot, before filtering */
	uint64_t epoch;	    /* the snapshot's, for ct_row_history() */
	struct ct_row *agg; /* the group rows (groupings other than flow) */
	/* private: buffers kept for the next snap_view_reuse */
	struct ct_row_more *agg_more; /* by group, for those that need it */
	uint32_t *pid_pool;	      /* the group rows' pids */
	size_t rows_cap, agg_cap, more_cap, pool_cap;
	struct ct_view_work *work;
};

/* Filter the snapshot's flows, group them, sort. filter may be NULL.
 * desc sorts descending; ties are always broken on the row's key ascending so
 * equal rows keep their order from one refresh to the next. With limit > 0
 * only the first `limit` rows are put in order (a selection in O(n log
 * limit): a screen needs only what it shows); 0 sorts all. In groupings
 * other than flow, rows past `sorted` have only the fields that sorting
 * reads: their `more` is empty (no history, errors or pids; latency
 * buckets only when sorted by latency), and npids is an upper bound.
 * 0 or -ENOMEM (out is then freed). */
int snap_view(const struct ct_snap *s, enum ct_group g, const struct ct_filter *f,
	      enum ct_sort sort, int desc, size_t limit, struct ct_view *out);
/* The same into a view from an earlier call, whose buffers are reused (a
 * refresh then writes into memory already mapped). On -ENOMEM out holds
 * no rows and still needs view_rows_free. */
int snap_view_reuse(const struct ct_snap *s, enum ct_group g, const struct ct_filter *f,
		    enum ct_sort sort, int desc, size_t limit, struct ct_view *out);
/* Bring out, a view of s as it was one update ago (s->prev_clock), up to
 * date with s without putting it in order: a grouped view kept aside (not
 * the one shown) then costs what changed, and is ready when shown again
 * (snap_view_reuse orders it). When it cannot be (s copied whole, updated
 * twice since, another filter), its next snap_view_reuse derives it anew. */
void snap_view_follow(const struct ct_snap *s, enum ct_group g, const struct ct_filter *f,
		      struct ct_view *out);
/* 1 if out holds what it derived from s as it is now, in grouping g with
 * filter f: a snap_view_reuse of it then only orders */
int snap_view_ready(const struct ct_view *out, const struct ct_snap *s, enum ct_group g,
		    const struct ct_filter *f);
void view_rows_free(struct ct_view *v);
/* compare two rows the way snap_view sorts them (exposed for tests) */
int ct_row_cmp(const struct ct_row *a, const struct ct_row *b, enum ct_sort sort, int desc);

#endif
