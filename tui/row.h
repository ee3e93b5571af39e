/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A row: one flow, or a group of flows, as the flow table hands it out and
 * as snapshots, derived rows, the exporters and the screen read it. Plain
 * types and the small functions that read them; no allocation here.
 */
#ifndef CT_ROW_H
#define CT_ROW_H

#include <stddef.h>
#include <stdint.h>

#define CT_HIST 60	      /* per-interval counts kept per flow */
#define CT_RING (CT_HIST + 1) /* slots of a history ring: the current interval too */
#define CT_FLOW_ERRS 4	      /* distinct errnos kept per flow; more go to errs_other */
#define CT_MAX_PIDS 1024      /* distinct pids kept per flow; the count saturates there */
#define CT_SYN_RT_HIST 4      /* connects with 0, 1, 2, 3+ SYN retransmits */

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
	uint32_t scope;	   /* IPv6 link-local: the interface index passed, else 0 */
};

/* flow_key.proto of an AF_UNIX flow: this | SOCK_STREAM, SOCK_DGRAM, ... */
#define CT_PROTO_UNIX 0x8000
#define CT_PROTO_IS_UNIX(p) (((p)&0xff00) == CT_PROTO_UNIX)

/* A protocol's name (flow_key.proto): lower case, the AF_UNIX types as
 * ss(8) names them; one not in the table as ipproto-N or unix-N in buf. */
const char *ct_proto_name(unsigned proto, char *buf, size_t len);
/* the protocol of a name in that table (any case), or -1 */
long ct_proto_of_name(const char *name);

/*
 * A latency histogram, log-linear as HDR histograms are: of microseconds; at
 * resolution s (2^s buckets per octave) a value below 2^s us has a bucket of
 * its own, and each octave [2^k, 2^(k+1)) above is cut into 2^s buckets of
 * equal width: 1.6-3.1 % of the value at the finest, s = CT_LAT_RES_MAX.
 * Every power of two is a bucket boundary at any resolution (the Prometheus
 * histogram's bounds are, prom.c). Values from 2^CT_LAT_OCTAVES us (134 s)
 * on share the last bucket.
 *
 * Only the buckets in use are kept, in order: at most CT_LAT_CELLS. A sample
 * that needs one more halves the resolution (buckets merge in pairs) until
 * it fits; samples within 1 octave keep 32 buckets per octave, within 2
 * octaves 16, within 4 octaves 8. What comes out depends on the samples
 * alone, not on their order: a histogram's resolution is the finest at
 * which its samples fit, so that merging histograms gives what one with
 * all the samples would have. At s = 0 (log2 buckets) there are at most
 * CT_LAT_OCTAVES + 1 buckets: everything fits.
 * Size: 208 bytes (27 log2 buckets took 108; 8 dense buckets per octave
 * would take 864).
 */
#define CT_LAT_RES_MAX 5  /* 32 buckets per octave */
#define CT_LAT_OCTAVES 27 /* 2^27 us: 134 s */
#define CT_LAT_CELLS 32	  /* buckets in use kept; at least CT_LAT_OCTAVES + 1 */

struct ct_lat {
	uint64_t min_ns; /* the shortest sample, exact (0 while n is 0) */
	uint8_t n;	 /* buckets in use: b[0..n), ascending, each count > 0 */
	uint8_t coarse;	 /* resolution CT_LAT_RES_MAX - coarse: all-zero is empty */
	uint8_t pad[6];
	uint16_t b[CT_LAT_CELLS];     /* bucket numbers at that resolution */
	uint32_t count[CT_LAT_CELLS]; /* samples in each; wraps at 2^32 */
};

/* add n samples of lat_ns */
void ct_lat_add(struct ct_lat *h, uint64_t lat_ns, uint32_t n);
/* dst gets src's samples too */
void ct_lat_merge(struct ct_lat *dst, const struct ct_lat *src);
/* dst loses src's samples, which it has (src is an earlier state of one of
 * the histograms merged into dst; a bucket with fewer than src's empties):
 * dst's min_ns stays */
void ct_lat_sub(struct ct_lat *dst, const struct ct_lat *src);
/* halve the resolution (for a shorter display); 0, or -1 at log2 already */
int ct_lat_coarsen(struct ct_lat *h);
/* the bounds of its bucket i in microseconds: [*lo_us, *hi_us) */
void ct_lat_bounds(const struct ct_lat *h, unsigned i, uint64_t *lo_us, uint64_t *hi_us);
/* samples below 2^k microseconds (exact: a bucket boundary), k <= CT_LAT_OCTAVES */
uint64_t ct_lat_below(const struct ct_lat *h, unsigned k);

struct ct_errcount {
	int32_t err; /* positive errno */
	uint32_t count;
};

enum ct_group { GROUP_FLOW = 0, GROUP_PROCESS, GROUP_DEST, GROUP_PORT, GROUP_MAX };
extern const char *const ct_group_names[GROUP_MAX]; /* "flow", "process", "dest", "port" */

/* What only a shown row needs, kept apart from the row: derived rows walk
 * 100,000 rows of 216 bytes, not of 304. Its latency buckets and history
 * are pointed at, not held, and a snapshot's cold flows (one pid, nothing
 * but connects in one interval) share theirs (snap.c): a million of them
 * take no memory here, not 512 bytes each. */
struct ct_row_more {
	/* npids pids (at most CT_MAX_PIDS), or NULL: read them with
	 * ct_row_pids() */
	const uint32_t *pids;
	/* the latency histogram; NULL: empty (read it with ct_more_lat()) */
	const struct ct_lat *lat;
	/* connects per interval: interval e is in hist_ring[e % CT_RING]
	 * for hist_epoch - CT_HIST <= e <= hist_epoch. A ring, not a list
	 * ordered from now, so that a flow idle since the last snapshot keeps
	 * the same row: read it with ct_row_history(). NULL: all zero but
	 * for the newest interval (the row's hist_epoch), which holds
	 * hist_cur. */
	const uint32_t *hist_ring;
	uint32_t hist_cur;
	/* flows folded into the row: a (process, *) row's evicted flows, a
	 * group's sum; 0 for a flow (here, not in ct_row, so that a row stays
	 * three cache lines) */
	uint32_t folded;
	struct ct_errcount errs[CT_FLOW_ERRS];
	uint64_t abandon_max_ns; /* the longest wait of its RES_ABANDONED connects */
	/* a flow's name resolved (qnames.h: the name of its latest connect
	 * that had one, CT_QNAME_HOSTWIDE if another process's answer), 0
	 * when none; 0 in groups */
	uint32_t qname;
	uint32_t spare; /* 0: no hidden padding (rows are compared as bytes) */
	/* monotonic start of the oldest of the row's connects in flight
	 * (results[RES_PENDING] of them, each counted when it began: a
	 * non-blocking one at connect(), a blocking one while it waits), 0
	 * when none: its age is taken_ns minus this */
	uint64_t pending_since_ns;
	uint32_t pid_is_row; /* pids NULL: the row's pid is its one pid */
	uint32_t pad;	     /* zero: mores are compared as bytes in tests */
};

/* a more with room for what it points at, for those that make rows of
 * their own (groups, tests): ct_more_buf_bind() points m at lat and
 * hist_ring (again after the buffer moved) */
struct ct_more_buf {
	struct ct_row_more m;
	struct ct_lat lat;
	uint32_t hist_ring[CT_RING];
};

static inline void ct_more_buf_bind(struct ct_more_buf *b)
{
	b->m.lat = &b->lat;
	b->m.hist_ring = b->hist_ring;
}

extern const struct ct_lat ct_lat_none; /* no sample */

/* m's latency histogram, never NULL */
static inline const struct ct_lat *ct_more_lat(const struct ct_row_more *m)
{
	return m->lat ? m->lat : &ct_lat_none;
}

/* a row of a snapshot or of derived rows: one flow, or a group of flows.
 * What sorting, filtering and grouping read: 216 bytes (three cache lines
 * until the SYN retransmit counts, which a column sorts by, came in). */
struct ct_row {
	struct flow_key key; /* fields that do not apply to the grouping are zero */
	uint32_t syn_rt;     /* SYNs retransmitted by its connects (syn_rt_hist) */
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
	/* TCP connects by the SYNs they retransmitted: 0, 1, 2, 3 or more;
	 * all 0 when none was counted (no tracepoint tcp:tcp_retransmit_skb,
	 * or no TCP connect resolved): the counts are then unknown */
	uint32_t syn_rt_hist[CT_SYN_RT_HIST];
	const struct ct_row_more *more; /* never NULL; owned by the snapshot or the rows */
};

/* r's npids distinct pids, or NULL when it has none or they are not kept */
static inline const uint32_t *ct_row_pids(const struct ct_row *r)
{
	return r->more->pids ? r->more->pids : r->more->pid_is_row ? &r->pid : NULL;
}

/* 1 if r's SYN retransmit counts are known (see syn_rt_hist) */
static inline int ct_row_syn_rt_known(const struct ct_row *r)
{
	return r->syn_rt_hist[0] || r->syn_rt_hist[1] || r->syn_rt_hist[2] || r->syn_rt_hist[3];
}

/* its connects that needed at least one SYN retransmit */
static inline uint32_t ct_row_syn_rt_conns(const struct ct_row *r)
{
	return r->syn_rt_hist[1] + r->syn_rt_hist[2] + r->syn_rt_hist[3];
}

/* latency percentile (0 < p <= 1) in microseconds from the histogram: the
 * samples of a bucket taken as spread evenly over it, the first bucket
 * starting at the exact minimum and the last ending at the exact maximum
 * (so that a single sample, or one bucket's worth, comes out exact). -1 when
 * the row has no latency sample; the maximum when it has but its more holds
 * no histogram (a group row not filled, rows.h). */
double ct_row_lat_pct(const struct ct_row *r, double p);
uint64_t ct_row_failures(const struct ct_row *r); /* refused+timeout+unreach+other */
/* The row's connects per complete interval as seen from interval `epoch`
 * (the snapshot's or the rows' epoch): out[0] is the last complete interval
 * (epoch - 1), out[1] the one before, ... */
void ct_row_history(const struct ct_row *r, uint64_t epoch, uint32_t out[CT_HIST]);
/* the full interval number of r's newest history slot, seen from `epoch` */
uint64_t ct_row_hist_epoch(const struct ct_row *r, uint64_t epoch);
/* r's history as ct_row_history() reads it, from m (r's more, or an
 * earlier state of it whose row r was) */
void ct_more_history(const struct ct_row *r, const struct ct_row_more *m, uint64_t epoch,
		     uint32_t out[CT_HIST]);
/* m's history ring (r's more, or an earlier state of it) into ring */
void ct_more_ring(const struct ct_row *r, const struct ct_row_more *m, uint64_t epoch,
		  uint32_t ring[CT_RING]);

/* connects per second over an interval of interval_s (0 if none ended yet) */
double ct_rate(uint64_t count, double interval_s);
/* count n failures with errno err in a list of CT_FLOW_ERRS (the first
 * distinct ones keep their place; the others go to *other) */
void ct_errs_add(struct ct_errcount *errs, uint32_t *other, int err, uint64_t n);

/* History rings (CT_RING per-interval counts, interval e in slot e %
 * CT_RING), shared by flows, snapshots and groups. */
/* the ring whose newest interval is ring_epoch as seen in interval `epoch`:
 * out[0] the last complete interval, ... (ring_epoch may be the current
 * interval, which is not shown) */
void ct_ring_read(const uint32_t *ring, uint64_t ring_epoch, uint64_t epoch, uint32_t out[CT_HIST]);
/* the ring's newest interval moves on from `from` to `to`: the slots of the
 * intervals in between saw nothing */
void ct_ring_advance(uint32_t *ring, uint64_t from, uint64_t to);
/* add (sign 1) or take away (-1) n intervals of a history h[] (h[0] the
 * interval `newest`, h[1] the one before, ...) into a ring */
void ct_ring_add(uint32_t *ring, uint64_t newest, const uint32_t *h, size_t n, int sign);

#endif
