// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * How long the view's work takes with N flows: a snapshot of the table, and
 * deriving the rows shown (filter, group, sort) from it. Prints medians in ms.
 *   viewbench [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter.h"
#include "flows.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

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

#define ROUNDS 9

static void fill(struct ct_sample *s, long i)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->key.comm, sizeof(s->key.comm), "proc%ld", i % 500);
	s->key.family = 4;
	s->key.daddr[0] = 10;
	s->key.daddr[1] = i >> 16;
	s->key.daddr[2] = i >> 8;
	s->key.daddr[3] = i;
	s->key.dport = 1 + i % 1000;
	s->key.proto = 6;
	s->pid = 1000 + i % 5000;
	s->ret = i % 3 ? 0 : -111;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(double), cmp_d);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	struct ct_flows *t = flows_new(n);
	struct ct_sample s;
#define NVIEWS 6
	double full_ms[ROUNDS], view_ms[ROUNDS][NVIEWS], t0;
	static const char *const what[NVIEWS] = { "flow, sort rate",	"flow, sort comm",   "flow, filter port:443",
						  "process, sort count", "dest, sort count", "port, sort fail" };
	static const enum ct_group g[NVIEWS] = { GROUP_FLOW, GROUP_FLOW, GROUP_FLOW, GROUP_PROCESS, GROUP_DEST, GROUP_PORT };
	static const enum ct_sort so[NVIEWS] = { SORT_RATE, SORT_COMM, SORT_RATE, SORT_COUNT, SORT_COUNT, SORT_FAIL };
	struct ct_view v = { 0 };
	static const int active_pct[] = { 1, 10, 100 };
	char err[128];
	struct ct_filter *f = filter_new("port:443", err, sizeof(err));
	struct ct_snap *snap = NULL;
	uint64_t now = 1;

	flows_tick(t, now);
	for (long i = 0; i < n; i++) {
		fill(&s, i);
		s.ts_ns = ++now;
		for (int k = 0; k < 1 + i % 4; k++)
			flows_add(t, &s);
	}
	now += 1000000000;
	flows_tick(t, now);
	printf("view work with %ld flows (medians of %d rounds)\n", n, ROUNDS);
	/* a full copy of the table: batch mode and --prometheus take these */
	for (int r = 0; r < ROUNDS; r++) {
		struct ct_snap *fresh;

		t0 = now_ms();
		fresh = flows_snapshot(t, now);
		full_ms[r] = now_ms() - t0;
		snap_free(fresh);
	}
	printf("  snapshot, a full copy of the table         %8.2f ms\n", median(full_ms, ROUNDS));
	/* the screen refreshes its snapshot once per interval: what that
	 * costs depends on how many flows had connects since */
	snap = flows_snapshot_reuse(t, now, NULL);
	for (size_t a = 0; a < ARRAY_LEN(active_pct); a++) {
		long step = 100 / active_pct[a];
		double ms[ROUNDS];

		for (int r = 0; r < ROUNDS + 2; r++) {
			for (long i = r % step; i < n; i += step) {
				fill(&s, i);
				s.ts_ns = ++now;
				flows_add(t, &s);
			}
			now += 1000000000;
			flows_tick(t, now);
			t0 = now_ms();
			snap = flows_snapshot_reuse(t, now, snap);
			/* the first two rounds catch up with the previous setting */
			if (r >= 2)
				ms[r - 2] = now_ms() - t0;
		}
		printf("  snapshot refresh, %3d%% of flows active     %8.2f ms (once per interval)\n", active_pct[a],
		       median(ms, ROUNDS));
	}
	/* as the screen does: each view into the buffers of the last one */
	for (int k = 0; k < NVIEWS; k++) {
		for (int r = 0; r < ROUNDS; r++) {
			t0 = now_ms();
			snap_view_reuse(snap, g[k], k == 2 ? f : NULL, so[k], 1, 80, &v);
			view_ms[r][k] = now_ms() - t0;
		}
	}
	printf("  rows (filter, group, the 80 first put in order, as for a screen):\n");
	for (int k = 0; k < NVIEWS; k++) {
		double col[ROUNDS];

		for (int r = 0; r < ROUNDS; r++)
			col[r] = view_ms[r][k];
		printf("    %-40s %8.2f ms\n", what[k], median(col, ROUNDS));
	}
	view_rows_free(&v);
	snap_free(snap);
	filter_free(f);
	flows_free(t);
	return 0;
}
