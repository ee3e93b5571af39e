// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * How long the view's work takes with N flows, with the real core code: the
 * snapshot of the table (a full copy, and the refresh each interval brings up
 * to date), and deriving the rows shown (filter, group, sort) from it, both
 * after a refresh (once per interval), after a key that re-sorts the same
 * snapshot, and after a key that switches to the grouping from another one
 * (derived anew in that one's buffers, or ready in a view kept aside and
 * followed at each refresh, whose following is timed too). Two tables: many processes with a few flows each, and one
 * process with every flow (as a scan looks: the grouped views then have to
 * merge every flow into the rows shown). Prints medians in ms.
 *   viewbench [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter.h"
#include "flows.h"
#include "rows.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define ROUNDS 9
#define SCREEN 80 /* rows put in order, as for a tall screen */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(double), cmp_d);
	return v[n / 2];
}

/* flow i of table `scan` (0: 500 processes; 1: one process, 100 addresses
 * x 1000 ports) */
static void fill(struct ct_sample *s, long i, int scan)
{
	memset(s, 0, sizeof(*s));
	s->key.family = 4;
	s->key.proto = 6;
	s->key.daddr[0] = 10;
	if (scan) {
		snprintf(s->key.comm, sizeof(s->key.comm), "scanner");
		s->key.daddr[3] = 1 + i / 1000;
		s->key.dport = 1 + i % 1000;
		s->pid = 4242;
	} else {
		snprintf(s->key.comm, sizeof(s->key.comm), "proc%ld", i % 500);
		s->key.daddr[1] = i >> 16;
		s->key.daddr[2] = i >> 8;
		s->key.daddr[3] = i;
		s->key.dport = 1 + i % 1000;
		s->pid = 1000 + i % 5000;
	}
	s->ret = i % 3 ? 0 : -111;
	s->has_lat = !s->ret;
	s->lat_ns = 20000 + i % 7 * 1000;
}

/* one interval in which `step`-th flows had a connect */
static void interval(struct ct_flows *t, long n, long step, long phase, int scan, uint64_t *now)
{
	struct ct_sample s;

	for (long i = phase % step; i < n; i += step) {
		fill(&s, i, scan);
		s.ts_ns = ++*now;
		flows_add(t, &s);
	}
	*now += 1000000000;
	flows_tick(t, *now);
}

#define NVIEWS 6
static const char *const what[NVIEWS] = { "flow, sort rate",	   "flow, sort comm",
					  "flow, filter port:443", "process, sort count",
					  "dest, sort count",	   "port, sort fail" };
static const enum ct_group vg[NVIEWS] = { GROUP_FLOW,	 GROUP_FLOW, GROUP_FLOW,
					  GROUP_PROCESS, GROUP_DEST, GROUP_PORT };
static const enum ct_sort vs[NVIEWS] = { SORT_RATE,  SORT_COMM,	 SORT_RATE,
					 SORT_COUNT, SORT_COUNT, SORT_FAIL };

static void table(long n, int scan, int snaps)
{
	struct ct_flows *t = flows_new(n);
	struct ct_sample s;
	struct ct_snap *snap = NULL;
	struct ct_rows v = { 0 };
	char err[128];
	struct ct_filter *f = filter_new("port:443", err, sizeof(err));
	uint64_t now = 1;
	double ms[ROUNDS], first[NVIEWS], tick[NVIEWS], key[NVIEWS], sw[NVIEWS], kept[NVIEWS],
		follow[NVIEWS], t0;

	flows_tick(t, now);
	for (long i = 0; i < n; i++) {
		fill(&s, i, scan);
		s.ts_ns = ++now;
		for (int k = 0; k < 1 + i % 4; k++)
			flows_add(t, &s);
	}
	now += 1000000000;
	flows_tick(t, now);
	if (snaps) {
		static const int active_pct[] = { 1, 10, 100 };

		/* a full copy of the table: batch mode and --prometheus take these */
		for (int r = 0; r < ROUNDS; r++) {
			struct ct_snap *fresh;

			t0 = now_ms();
			fresh = snap_new(t, now);
			ms[r] = now_ms() - t0;
			snap_free(fresh);
		}
		printf("  snapshot, a full copy of the table            %8.2f ms\n",
		       median(ms, ROUNDS));
		/* the screen refreshes its snapshot once per interval: what that
		 * costs depends on how many flows had connects since */
		snap = snap_refresh(t, now, NULL);
		for (size_t a = 0; a < ARRAY_LEN(active_pct); a++) {
			for (int r = 0; r < ROUNDS + 2; r++) {
				interval(t, n, 100 / active_pct[a], r, scan, &now);
				t0 = now_ms();
				snap = snap_refresh(t, now, snap);
				/* the first two rounds catch up with the previous setting */
				if (r >= 2)
					ms[r - 2] = now_ms() - t0;
			}
			printf("  snapshot refresh, %3d%% of the flows active    %8.2f ms\n",
			       active_pct[a], median(ms, ROUNDS));
		}
		snap_free(snap);
		filter_free(f);
		flows_free(t);
		return;
	}
	/* the rows: after each refresh (1% of the flows active), and after a
	 * key that reverses the order of the same snapshot, into one view
	 * reused throughout, as the screen does */
	snap = snap_refresh(t, now, snap);
	for (int k = 0; k < NVIEWS; k++) {
		const struct ct_filter *kf = k == 2 ? f : NULL;
		double km[ROUNDS], fm[ROUNDS], sm[ROUNDS], pm[ROUNDS], fw[ROUNDS];
		struct ct_rows other = { 0 }, aside = { 0 };
		enum ct_group og = (vg[k] + 1) % GROUP_MAX;

		/* the first display of a view: derived from nothing */
		for (int r = 0; r < ROUNDS; r++) {
			struct ct_rows fresh = { 0 };

			t0 = now_ms();
			rows_refresh(snap, vg[k], kf, vs[k], 1, SCREEN, &fresh);
			fm[r] = now_ms() - t0;
			rows_free(&fresh);
		}
		first[k] = median(fm, ROUNDS);
		/* a view of this grouping kept aside, as the screen keeps the
		 * groupings not shown */
		rows_refresh(snap, vg[k], kf, vs[k], 1, SCREEN, &aside);
		for (int r = 0; r < ROUNDS; r++) {
			interval(t, n, 100, r, scan, &now);
			snap = snap_refresh(t, now, snap);
			/* as the screen: grouped views take the rows' differences */
			snap->keep_old = vg[k] != GROUP_FLOW;
			t0 = now_ms();
			rows_follow(snap, vg[k], kf, &aside);
			fw[r] = now_ms() - t0;
			t0 = now_ms();
			rows_refresh(snap, vg[k], kf, vs[k], 1, SCREEN, &v);
			ms[r] = now_ms() - t0;
			t0 = now_ms();
			rows_refresh(snap, vg[k], kf, vs[k], r % 2, SCREEN, &v);
			km[r] = now_ms() - t0;
			/* a key that switches to this grouping from another, in
			 * the buffers that other one used */
			rows_refresh(snap, og, NULL, vs[k], 1, SCREEN, &other);
			t0 = now_ms();
			rows_refresh(snap, vg[k], kf, vs[k], 1, SCREEN, &other);
			sm[r] = now_ms() - t0;
			/* the same key to the view kept aside */
			t0 = now_ms();
			rows_refresh(snap, vg[k], kf, vs[k], 1, SCREEN, &aside);
			pm[r] = now_ms() - t0;
		}
		tick[k] = median(ms, ROUNDS);
		key[k] = median(km, ROUNDS);
		sw[k] = median(sm, ROUNDS);
		kept[k] = median(pm, ROUNDS);
		follow[k] = median(fw, ROUNDS);
		rows_free(&other);
		rows_free(&aside);
	}
	for (int k = 0; k < NVIEWS; k++)
		printf("    %-24s %7.2f %7.2f %7.2f %7.2f %7.2f %7.2f ms\n", what[k], first[k],
		       tick[k], key[k], sw[k], kept[k], follow[k]);
	rows_free(&v);
	snap_free(snap);
	filter_free(f);
	flows_free(t);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;

	if (n < 1000) {
		fprintf(stderr, "viewbench: N must be at least 1000\n");
		return 2;
	}
	printf("view work with %ld flows (medians of %d rounds)\n", n, ROUNDS);
	table(n, 0, 1);
	printf("  rows (filter, group, the %d first put in order): first display / after a refresh /\n"
	       "  after a key / a key switching to it / the same to a kept view / following a kept view\n",
	       SCREEN);
	printf("   %ld flows of 500 processes:\n", n);
	table(n, 0, 0);
	printf("   %ld flows of one process, to %ld addresses x 1000 ports (a scan):\n", n,
	       (n + 999) / 1000);
	table(n, 1, 0);
	return 0;
}
