// SPDX-License-Identifier: GPL-2.0-or-later
/* A row's results, latency percentiles and history rings. */
#include "row.h"

#include <errno.h>
#include <string.h>

const char *const ct_result_names[RES_MAX] = { "ok",	      "refused", "timeout",
					       "unreachable", "pending", "other" };
const char *const ct_group_names[GROUP_MAX] = { "flow", "process", "dest", "port" };

/* derived rows walk rows by the 100,000: keep them to three whole cache lines */
_Static_assert(sizeof(struct ct_row) == 192, "struct ct_row is not 192 bytes");

enum ct_result ct_classify(int ret)
{
	switch (-ret) {
	case 0:
		return RES_OK;
	case ECONNREFUSED:
		return RES_REFUSED;
	case ETIMEDOUT:
		return RES_TIMEOUT;
	case ENETUNREACH:
	case EHOSTUNREACH:
		return RES_UNREACH;
	default:
		/* EINPROGRESS too: a connect is pending only when its outcome
		 * is to follow (ct_sample.pending); one that returned
		 * EINPROGRESS without it could not be followed (the BPF map
		 * of sockets in SYN_SENT was full, counted as a drop), and
		 * left as pending it would stay so forever */
		return RES_OTHER;
	}
}

void ct_ring_read(const uint32_t *ring, uint64_t ring_epoch, uint64_t epoch, uint32_t out[CT_HIST])
{
	uint64_t newest = epoch - 1; /* the last complete interval */
	uint64_t skip, n, slot;
	size_t o = 0;

	if (!epoch || ring_epoch + CT_HIST < newest) {
		memset(out, 0, CT_HIST * sizeof(*out));
		return;
	}
	/* intervals after ring_epoch saw nothing */
	skip = newest > ring_epoch ? newest - ring_epoch : 0;
	memset(out, 0, skip * sizeof(*out));
	o = skip;
	/* then the ring's intervals newest first, down to interval 0 or the ring's end */
	n = CT_HIST - skip;
	if (n > newest - skip + 1)
		n = newest - skip + 1;
	if (n > CT_RING - (ring_epoch - (newest - skip)))
		n = CT_RING - (ring_epoch - (newest - skip));
	slot = (newest - skip) % CT_RING;
	for (uint64_t i = 0; i < n; i++) {
		out[o++] = ring[slot];
		slot = slot ? slot - 1 : CT_HIST;
	}
	memset(out + o, 0, (CT_HIST - o) * sizeof(*out));
}

/* it is at most `epoch`, and less than 2^32 intervals before it (136 years
 * at 1 s) */
uint64_t ct_row_hist_epoch(const struct ct_row *r, uint64_t epoch)
{
	uint32_t back = (uint32_t)epoch - r->hist_epoch;

	return back <= epoch ? epoch - back : 0;
}

void ct_row_history(const struct ct_row *r, uint64_t epoch, uint32_t out[CT_HIST])
{
	ct_ring_read(r->more->hist_ring, ct_row_hist_epoch(r, epoch), epoch, out);
}

void ct_ring_advance(uint32_t *ring, uint64_t from, uint64_t to)
{
	for (uint64_t i = 1; from + i <= to && i <= CT_RING; i++)
		ring[(from + i) % CT_RING] = 0;
}

void ct_ring_add(uint32_t *ring, uint64_t newest, const uint32_t *h, size_t n, int sign)
{
	size_t slot = newest % CT_RING;

	for (size_t i = 0; i < n; i++) {
		ring[slot] += sign > 0 ? h[i] : -h[i];
		slot = slot ? slot - 1 : CT_HIST;
	}
}

double ct_rate(uint64_t count, double interval_s)
{
	return interval_s > 0 ? count / interval_s : 0;
}

void ct_errs_add(struct ct_errcount *errs, uint64_t *other, int err, uint64_t n)
{
	for (int i = 0; i < CT_FLOW_ERRS; i++) {
		if (errs[i].err == err) {
			errs[i].count += n;
			return;
		}
		if (!errs[i].err) {
			errs[i].err = err;
			errs[i].count = n;
			return;
		}
	}
	*other += n;
}

uint64_t ct_row_failures(const struct ct_row *r)
{
	return r->results[RES_REFUSED] + r->results[RES_TIMEOUT] + r->results[RES_UNREACH] +
	       r->results[RES_OTHER];
}

#define NS_PER_US 1000.0
/* p * n samples rounded up, but not past a whole number float error put
 * a hair above it */
#define PCT_ROUND_UP 0.999999

double ct_row_lat_pct(const struct ct_row *r, double p)
{
	uint64_t want, seen = 0;

	if (!r->lat_n)
		return -1;
	want = (uint64_t)(p * r->lat_n + PCT_ROUND_UP);
	if (want < 1)
		want = 1;
	for (int b = 0; b < CT_LAT_BUCKETS; b++) {
		double lo = b ? (double)(1ULL << b) : 0, hi = (double)(1ULL << (b + 1)), v;

		if (!r->more->lat[b])
			continue;
		if (seen + r->more->lat[b] >= want) {
			v = lo + (hi - lo) * (double)(want - seen) / r->more->lat[b];
			if (v > r->lat_max_ns / NS_PER_US)
				v = r->lat_max_ns / NS_PER_US;
			return v;
		}
		seen += r->more->lat[b];
	}
	return r->lat_max_ns / NS_PER_US;
}
