/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A baseline: the flows of one snapshot kept aside, so that later rows can
 * say what changed since ("new", "worse", "silent", "gone"). Pure: no
 * curses, no clock; the rows come from a snapshot (snap.h) or, later, from
 * a parsed export.
 *
 * What counts as "worse" (a flow present in both, with connects since):
 *  - failure share: the share of its connects since the baseline that
 *    failed is at least CT_BASE_FAIL_POINTS percentage points above the
 *    share before it, with at least CT_BASE_MIN_FAILS failures since (one
 *    failed connect of one is noise, not a change);
 *  - p99 latency: the p99 of the handshakes since the baseline is at least
 *    CT_BASE_P99_RATIO times the baseline's p99 and at least
 *    CT_BASE_P99_MIN_US above it, with at least CT_BASE_P99_MIN_N samples
 *    on each side (a p99 of three samples is their maximum).
 * Connects in flight (RES_PENDING) are in neither share's denominator.
 * A (process, *) row is never "worse": it takes in an evicted flow's whole
 * history when the flow is evicted, so what it gains since the baseline is
 * not what happened since. A flow whose count went down (the table was
 * cleared, `c`) is compared as if the baseline had none of it.
 *
 * Groups (baseline_group): a grouped row is compared with the same group
 * made of the baseline's flows, by the same rules on the group's totals:
 * its failure share since is the sum of its flows' failures since over the
 * sum of their connects since, its p99 since that of all their handshakes
 * since. So a group is new when none of its flows was in the baseline,
 * silent when none had a connect since, gone when none is left, and never
 * worse when a (process, *) row is among its flows (then or now). A flow
 * evicted since leaves its destination's and port's group for its
 * process's (process, *) row: a group whose count went down by it is
 * compared as after a clear.
 *
 * Ownership: baseline_new() copies what it needs (the rows may go); free
 * with baseline_free() (NULL is fine). NULL and errno on failure.
 */
#ifndef CT_BASELINE_H
#define CT_BASELINE_H

#include <stddef.h>
#include <stdint.h>

#include "row.h"

#define CT_BASE_FAIL_POINTS 5.0 /* percentage points of failure share */
#define CT_BASE_MIN_FAILS 2	/* failures since the baseline */
#define CT_BASE_P99_RATIO 1.5
#define CT_BASE_P99_MIN_US 1000.0 /* 1 ms */
#define CT_BASE_P99_MIN_N 5

enum ct_change {
	CHG_NONE = 0, /* no baseline, or nothing to say */
	CHG_NEW,      /* not in the baseline */
	CHG_WORSE,    /* failure share or p99 rose (why says which) */
	CHG_SILENT,   /* in the baseline with connects, none since */
	CHG_GONE,     /* in the baseline with connects, no longer in the table (evicted, cleared) */
	CHG_MAX,
};
extern const char *const ct_change_names[CHG_MAX]; /* "", "new", "worse", "silent", "gone" */

#define CHG_WHY_FAIL 1u
#define CHG_WHY_P99 2u

struct ct_change_info {
	enum ct_change kind;
	unsigned why; /* CHG_WHY_* for CHG_WORSE */
	/* before: the baseline's cumulative values; since: what came after it */
	uint64_t before_n, before_fail; /* completed connects, failures */
	uint64_t since_n, since_fail;
	double share_before, share_after;   /* failures / completed, 0..1 (0 with none) */
	double p99_before_us, p99_after_us; /* -1: no sample */
};

struct ct_baseline;

/* a baseline of n rows taken at taken_ns (monotonic, for the caller's
 * display); rows of one grouping (flows: the grouped baselines are made
 * with baseline_group) */
struct ct_baseline *baseline_new(const struct ct_row *rows, size_t n, uint64_t taken_ns);
/* the baseline of the groups of grouping g made of the flows of flows
 * that keep takes (NULL: all; it is given the baseline's own rows, of
 * which baseline_now() says what they are now) */
typedef int (*baseline_keep_fn)(void *ctx, const struct ct_row *r);
struct ct_baseline *baseline_group(const struct ct_baseline *flows, enum ct_group g,
				   baseline_keep_fn keep, void *ctx);
void baseline_free(struct ct_baseline *b);
size_t baseline_count(const struct ct_baseline *b);
uint64_t baseline_taken_ns(const struct ct_baseline *b);

/* Start a pass over the current rows: baseline_classify() (or
 * baseline_mark(), which does not compare) marks the entries it finds,
 * baseline_gone() then lists the others. */
void baseline_pass(struct ct_baseline *b);
/* what changed for the current row r; b NULL gives CHG_NONE */
enum ct_change baseline_classify(struct ct_baseline *b, const struct ct_row *r,
				 struct ct_change_info *out);
void baseline_mark(struct ct_baseline *b, const struct ct_row *r);
/* the same without marking (b may be shared). One of b's own rows (a
 * gone row from baseline_gone) is CHG_GONE with its numbers before. */
enum ct_change baseline_compare(const struct ct_baseline *b, const struct ct_row *r,
				struct ct_change_info *out);
/* 1 if r is one of b's own rows */
int baseline_owns(const struct ct_baseline *b, const struct ct_row *r);
/* What r is now: for one of b's own rows, what the last pass found its
 * flow to be (baseline_classify's answer; CHG_NONE if it only marked it,
 * CHG_GONE if it did not see it); for another row, baseline_compare's. */
enum ct_change baseline_now(const struct ct_baseline *b, const struct ct_row *r);
/* each baseline entry with connects that the pass did not see, as b's own
 * row (valid while b is; its more holds no history and no pids) */
typedef void (*baseline_gone_fn)(void *ctx, const struct ct_row *r, const struct ct_change_info *c);
size_t baseline_gone(const struct ct_baseline *b, baseline_gone_fn fn, void *ctx);

/* The worse rules on c's before and since values (kind and why set when
 * they hold), with lat_before / lat_since latency samples on each side */
enum ct_change baseline_judge(struct ct_change_info *c, uint64_t lat_before, uint64_t lat_since);

/* The short CHANGE cell: "new", "silent", "gone", "worse 2%→40%",
 * "p99 3ms→1.0s" (UTF-8 arrow); "" for CHG_NONE. Returns buf. */
const char *baseline_cell(const struct ct_change_info *c, char *buf, size_t len);

#endif
