// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a burst of new flows costs connecttop's user space, with the real
 * core code and nothing else (no BPF, no ring buffer): COUNT new UDP flows
 * of one process, as flowgen makes them, RATE of them per 1 s interval, and
 * at the end of each interval what batch mode does (-b -o json -m 1: the
 * snapshot brought up to date, the rows filtered and the first one put in
 * order by rate). CPU time, so that a busy machine slows it less than the
 * wall clock would:
 *   - ns per new flow taken in (flows_add, the flow table's part)
 *   - the interval's batch work (median and largest, ms): while it runs
 *     nothing drains the ring buffer, which must hold RATE/s worth of that
 *   - the peak RSS it grew by, per flow
 *   flowbench [COUNT [RATE]]   (defaults: 1000000 300000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flows.h"
#include "rows.h"

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static long vm_kb(const char *field)
{
	char line[256];
	long kb = -1;
	size_t len = strlen(field);
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			kb = atol(line + len + 1);
	fclose(f);
	return kb;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long count = argc > 1 ? atol(argv[1]) : 1000000, rate = argc > 2 ? atol(argv[2]) : 300000;
	long hwm0 = vm_kb("VmHWM"), nint = 0, done = 0;
	struct ct_flows *t;
	struct ct_snap *snap = NULL;
	struct ct_rows v = { 0 };
	struct ct_sample s;
	uint64_t now = 1000000000;
	double add_ns = 0, *work;

	if (count < 1000 || rate < 1000) {
		fprintf(stderr, "flowbench: COUNT and RATE must be at least 1000\n");
		return 2;
	}
	t = flows_new((size_t)count);
	work = calloc((size_t)(count / rate + 2), sizeof(*work));
	if (!t || !work)
		return 1;
	flows_tick(t, now);
	memset(&s, 0, sizeof(s));
	snprintf(s.key.comm, sizeof(s.key.comm), "flowgen");
	s.key.family = 4;
	s.key.proto = 17;
	s.key.daddr[0] = 127;
	s.pid = 4242;
	while (done < count) {
		double t0 = cpu_ns();

		for (long i = 0; i < rate && done < count; i++, done++) {
			/* flowgen's pairs: 127.0.0.0 + 1 + i / 1000, port 40000 + i % 1000 */
			uint32_t a = (uint32_t)(1 + done / 1000);

			s.key.daddr[1] = (uint8_t)(a >> 16);
			s.key.daddr[2] = (uint8_t)(a >> 8);
			s.key.daddr[3] = (uint8_t)a;
			s.key.dport = (uint16_t)(40000 + done % 1000);
			s.ts_ns = now + (uint64_t)i * (1000000000 / rate);
			flows_add(t, &s);
		}
		add_ns += cpu_ns() - t0;
		now += 1000000000;
		flows_tick(t, now);
		t0 = cpu_ns();
		snap = snap_refresh(t, now, snap);
		if (!snap || rows_refresh(snap, GROUP_FLOW, NULL, SORT_RATE, 1, 1, &v)) {
			fprintf(stderr, "flowbench: out of memory\n");
			return 1;
		}
		work[nint++] = (cpu_ns() - t0) / 1e6;
	}
	printf("flows=%ld rate=%ld/s add_ns_per_flow=%.0f", count, rate, add_ns / count);
	qsort(work, (size_t)nint, sizeof(*work), cmp_d);
	printf(" interval_work_ms_median=%.1f interval_work_ms_max=%.1f", work[nint / 2],
	       work[nint - 1]);
	printf(" rss_peak_mb=%.1f bytes_per_flow=%.0f\n", vm_kb("VmHWM") / 1024.0,
	       (vm_kb("VmHWM") - hwm0) * 1024.0 / count);
	rows_free(&v);
	snap_free(snap);
	flows_free(t);
	free(work);
	return 0;
}
