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

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	struct ct_flows *t = flows_new(n);
	struct ct_sample s;
	double snap_ms[ROUNDS], view_ms[ROUNDS][4], t0;
	const char *what[4] = { "flow, sort rate", "flow, sort comm", "process, sort count", "flow, filter port:443" };
	char err[128];
	struct ct_filter *f = filter_new("port:443", err, sizeof(err));
	struct ct_snap *prev = NULL;

	flows_tick(t, 1);
	for (long i = 0; i < n; i++) {
		memset(&s, 0, sizeof(s));
		snprintf(s.key.comm, sizeof(s.key.comm), "proc%ld", i % 500);
		s.key.family = 4;
		s.key.daddr[0] = 10;
		s.key.daddr[1] = i >> 16;
		s.key.daddr[2] = i >> 8;
		s.key.daddr[3] = i;
		s.key.dport = 1 + i % 1000;
		s.key.proto = 6;
		s.pid = 1000 + i % 5000;
		s.ts_ns = 2 + i;
		s.ret = i % 3 ? 0 : -111;
		for (int k = 0; k < 1 + i % 4; k++)
			flows_add(t, &s);
	}
	flows_tick(t, 1000000001);
	for (int r = 0; r < ROUNDS; r++) {
		struct ct_snap *snap;

		t0 = now_ms();
		snap = flows_snapshot_reuse(t, 1000000002, prev);
		prev = NULL;
		snap_ms[r] = now_ms() - t0;
		for (int k = 0; k < 4; k++) {
			struct ct_view v;
			static const enum ct_group g[4] = { GROUP_FLOW, GROUP_FLOW, GROUP_PROCESS, GROUP_FLOW };
			static const enum ct_sort so[4] = { SORT_RATE, SORT_COMM, SORT_COUNT, SORT_RATE };

			t0 = now_ms();
			snap_view(snap, g[k], k == 3 ? f : NULL, so[k], 1, 80, &v);
			view_ms[r][k] = now_ms() - t0;
			view_rows_free(&v);
		}
		if (r < ROUNDS - 1)
			prev = snap; /* reused by the next round, as the view does */
		else
			snap_free(snap);
	}
	qsort(snap_ms, ROUNDS, sizeof(double), cmp_d);
	printf("view work with %ld flows (median of %d; rows: the 80 first put in order, as for a screen):\n", n, ROUNDS);
	printf("  snapshot of the table           %8.2f ms (once per interval, not per key)\n", snap_ms[ROUNDS / 2]);
	for (int k = 0; k < 4; k++) {
		double col[ROUNDS];

		for (int r = 0; r < ROUNDS; r++)
			col[r] = view_ms[r][k];
		qsort(col, ROUNDS, sizeof(double), cmp_d);
		printf("  rows: %-25s %8.2f ms\n", what[k], col[ROUNDS / 2]);
	}
	filter_free(f);
	flows_free(t);
	return 0;
}
