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
 * display); flow rows only (a grouped row's key is not a flow's) */
struct ct_baseline *baseline_new(const struct ct_row *rows, size_t n, uint64_t taken_ns);
void baseline_free(struct ct_baseline *b);
size_t baseline_count(const struct ct_baseline *b);
uint64_t baseline_taken_ns(const struct ct_baseline *b);

/* Start a pass over the current rows: baseline_classify() marks the
 * entries it finds, baseline_gone() then lists the others. */
void baseline_pass(struct ct_baseline *b);
/* what changed for the current row r; b NULL gives CHG_NONE */
enum ct_change baseline_classify(struct ct_baseline *b, const struct ct_row *r,
				 struct ct_change_info *out);
/* the same without marking (b may be shared) */
enum ct_change baseline_compare(const struct ct_baseline *b, const struct ct_row *r,
				struct ct_change_info *out);
/* each baseline flow with connects that the pass did not see, as a row
 * valid until the next call on b (its more holds the latency only) */
typedef void (*baseline_gone_fn)(void *ctx, const struct ct_row *r, const struct ct_change_info *c);
size_t baseline_gone(const struct ct_baseline *b, baseline_gone_fn fn, void *ctx);

/* The worse rules on c's before and since values (kind and why set when
 * they hold), with lat_before / lat_since latency samples on each side */
enum ct_change baseline_judge(struct ct_change_info *c, uint64_t lat_before, uint64_t lat_since);

/* The short CHANGE cell: "new", "silent", "gone", "worse 2%→40%",
 * "p99 3ms→1.0s" (UTF-8 arrow); "" for CHG_NONE. Returns buf. */
const char *baseline_cell(const struct ct_change_info *c, char *buf, size_t len);

#endif
