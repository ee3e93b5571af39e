// SPDX-License-Identifier: GPL-2.0-or-later
/* A row's results, latency percentiles and history rings. */
#include "row.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *const ct_result_names[RES_MAX] = { "ok",	  "refused", "timeout",	 "unreachable",
					       "pending", "other",   "abandoned" };
const struct ct_lat ct_lat_none;

const char *const ct_group_names[GROUP_MAX] = { "flow", "process", "dest", "port" };

/* derived rows walk rows by the 100,000: keep them to three whole cache lines */
_Static_assert(sizeof(struct ct_row) == 216, "struct ct_row is not 216 bytes");

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

void ct_more_ring(const struct ct_row *r, const struct ct_row_more *m, uint64_t epoch,
		  uint32_t ring[CT_RING])
{
	if (m->hist_ring) {
		memcpy(ring, m->hist_ring, CT_RING * sizeof(*ring));
		return;
	}
	memset(ring, 0, CT_RING * sizeof(*ring));
	ring[ct_row_hist_epoch(r, epoch) % CT_RING] = m->hist_cur;
}

void ct_more_history(const struct ct_row *r, const struct ct_row_more *m, uint64_t epoch,
		     uint32_t out[CT_HIST])
{
	uint32_t ring[CT_RING];
	const uint32_t *p = m->hist_ring;

	if (!p) {
		ct_more_ring(r, m, epoch, ring);
		p = ring;
	}
	ct_ring_read(p, ct_row_hist_epoch(r, epoch), epoch, out);
}

void ct_row_history(const struct ct_row *r, uint64_t epoch, uint32_t out[CT_HIST])
{
	ct_more_history(r, r->more, epoch, out);
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

void ct_errs_add(struct ct_errcount *errs, uint32_t *other, int err, uint64_t n)
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
	       r->results[RES_OTHER] + r->results[RES_ABANDONED];
}

#define NS_PER_US 1000
/* p * n samples rounded up, but not past a whole number float error put
 * a hair above it */
#define PCT_ROUND_UP 0.999999
#define LAT_TOP_US ((1ULL << CT_LAT_OCTAVES) - 1) /* longer ones go here */

static unsigned lat_res(const struct ct_lat *h)
{
	return CT_LAT_RES_MAX - h->coarse;
}

/* the bucket of us at resolution res */
static unsigned lat_index(uint64_t us, unsigned res)
{
	unsigned k;

	if (us > LAT_TOP_US)
		us = LAT_TOP_US;
	if (us < (1ULL << res))
		return (unsigned)us;
	k = 63 - __builtin_clzll(us); /* us in [2^k, 2^(k+1)), k >= res */
	return ((k - res + 1) << res) + (unsigned)((us >> (k - res)) - (1ULL << res));
}

/* bucket i at resolution res, at resolution res - 1: below 2^res the
 * buckets of one microsecond stay, above two neighbours become one */
static unsigned lat_index_coarser(unsigned i, unsigned res)
{
	return i < (1u << res) ? i : (i >> 1) + (1u << (res - 1));
}

void ct_lat_bounds(const struct ct_lat *h, unsigned i, uint64_t *lo_us, uint64_t *hi_us)
{
	unsigned res = lat_res(h), b = h->b[i], q = b >> res;

	if (b < (1u << res)) {
		*lo_us = b;
		*hi_us = b + 1ULL;
		return;
	}
	*lo_us = (uint64_t)((1u << res) + (b & ((1u << res) - 1))) << (q - 1);
	*hi_us = *lo_us + (1ULL << (q - 1));
}

/* buckets from..to are not in use: zero, so that one content has one form
 * (histograms compare as bytes) */
static void lat_cells_clear(uint16_t *b, uint32_t *count, unsigned from, unsigned to)
{
	if (from < to) {
		memset(b + from, 0, (to - from) * sizeof(*b));
		memset(count + from, 0, (to - from) * sizeof(*count));
	}
}

/* buckets b[0..*n) (ascending, with their counts) one resolution coarser,
 * from res: neighbours that become one bucket add up */
static void lat_cells_coarsen(uint16_t *b, uint32_t *count, unsigned *n, unsigned res)
{
	unsigned o = 0;

	for (unsigned i = 0; i < *n; i++) {
		unsigned nb = lat_index_coarser(b[i], res);

		if (o && b[o - 1] == nb) {
			count[o - 1] += count[i];
		} else {
			b[o] = (uint16_t)nb;
			count[o++] = count[i];
		}
	}
	lat_cells_clear(b, count, o, *n);
	*n = o;
}

int ct_lat_coarsen(struct ct_lat *h)
{
	unsigned n = h->n;

	if (!lat_res(h))
		return -1;
	lat_cells_coarsen(h->b, h->count, &n, lat_res(h));
	h->n = (uint8_t)n;
	h->coarse++;
	return 0;
}

void ct_lat_add(struct ct_lat *h, uint64_t lat_ns, uint32_t n)
{
	uint64_t us = lat_ns / NS_PER_US;

	if (!h->n || lat_ns < h->min_ns)
		h->min_ns = lat_ns;
	for (;;) {
		unsigned b = lat_index(us, lat_res(h)), i = 0;

		while (i < h->n && h->b[i] < b)
			i++;
		if (i < h->n && h->b[i] == b) {
			h->count[i] += n;
			return;
		}
		if (h->n < CT_LAT_CELLS) {
			memmove(h->b + i + 1, h->b + i, (h->n - i) * sizeof(*h->b));
			memmove(h->count + i + 1, h->count + i, (h->n - i) * sizeof(*h->count));
			h->b[i] = (uint16_t)b;
			h->count[i] = n;
			h->n++;
			return;
		}
		ct_lat_coarsen(h); /* cannot fail: log2 buckets all fit */
	}
}

/* src's bucket i at dst's resolution (src's is finer or the same) */
static unsigned lat_index_at(const struct ct_lat *src, unsigned i, const struct ct_lat *dst)
{
	unsigned b = src->b[i];

	for (unsigned res = lat_res(src); res > lat_res(dst); res--)
		b = lat_index_coarser(b, res);
	return b;
}

void ct_lat_merge(struct ct_lat *dst, const struct ct_lat *src)
{
	uint16_t b[2 * CT_LAT_CELLS];
	uint32_t count[2 * CT_LAT_CELLS];
	unsigned n = 0, i = 0, j = 0;

	if (!src->n)
		return;
	if (!dst->n || src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
	while (dst->coarse < src->coarse)
		ct_lat_coarsen(dst);
	while (i < dst->n || j < src->n) {
		unsigned sb = j < src->n ? lat_index_at(src, j, dst) : UINT16_MAX + 1u;

		if (i < dst->n && dst->b[i] <= sb) {
			b[n] = dst->b[i];
			count[n] = dst->count[i++];
		} else {
			b[n] = (uint16_t)sb;
			count[n] = src->count[j++];
		}
		/* src's buckets can become one at dst's resolution */
		if (n && b[n - 1] == b[n])
			count[n - 1] += count[n];
		else
			n++;
	}
	while (n > CT_LAT_CELLS) {
		lat_cells_coarsen(b, count, &n, lat_res(dst));
		dst->coarse++;
	}
	/* n is below dst->n when the merge coarsened: those cells are cleared */
	memcpy(dst->b, b, n * sizeof(*b));
	memcpy(dst->count, count, n * sizeof(*count));
	lat_cells_clear(dst->b, dst->count, n, dst->n);
	dst->n = (uint8_t)n;
}

void ct_lat_sub(struct ct_lat *dst, const struct ct_lat *src)
{
	unsigned i = 0, o = 0;

	for (unsigned j = 0; j < src->n; j++) {
		unsigned sb = lat_index_at(src, j, dst);

		while (i < dst->n && dst->b[i] < sb)
			i++;
		/* src not an earlier state of dst after all (a group that
		 * lost a member): a bucket empties, never wraps */
		if (i < dst->n && dst->b[i] == sb)
			dst->count[i] -= src->count[j] < dst->count[i] ? src->count[j] :
									 dst->count[i];
	}
	/* the buckets left empty go */
	for (i = 0; i < dst->n; i++) {
		if (!dst->count[i])
			continue;
		dst->b[o] = dst->b[i];
		dst->count[o++] = dst->count[i];
	}
	lat_cells_clear(dst->b, dst->count, o, dst->n);
	dst->n = (uint8_t)o;
}

uint64_t ct_lat_below(const struct ct_lat *h, unsigned k)
{
	uint64_t n = 0, lo, hi;

	for (unsigned i = 0; i < h->n; i++) {
		ct_lat_bounds(h, i, &lo, &hi);
		if (hi > 1ULL << k)
			break;
		n += h->count[i];
	}
	return n;
}

double ct_row_lat_pct(const struct ct_row *r, double p)
{
	const struct ct_lat *h = ct_more_lat(r->more);
	double max_us = (double)r->lat_max_ns / NS_PER_US;
	uint64_t want, seen = 0;

	if (!r->lat_n)
		return -1;
	want = (uint64_t)(p * r->lat_n + PCT_ROUND_UP);
	if (want < 1)
		want = 1;
	for (unsigned i = 0; i < h->n; i++) {
		uint64_t lo_us, hi_us, j = want - seen, c = h->count[i];
		double a, z, v;
		int first = i == 0, last = i + 1 == h->n;

		if (seen + c < want) {
			seen += c;
			continue;
		}
		ct_lat_bounds(h, i, &lo_us, &hi_us);
		/* the first bucket starts at the minimum, the last ends at the
		 * maximum: both are samples */
		a = first ? (double)h->min_ns / NS_PER_US : (double)lo_us;
		z = last ? max_us : (double)hi_us;
		if (first && last)
			v = c > 1 ? a + (z - a) * (double)(j - 1) / (double)(c - 1) : a;
		else if (first)
			v = a + (z - a) * (double)(j - 1) / (double)c;
		else if (last)
			v = a + (z - a) * (double)j / (double)c;
		else
			v = a + (z - a) * ((double)j - 0.5) / (double)c;
		return v > max_us ? max_us : v;
	}
	return max_us;
}

static const struct {
	unsigned proto;
	const char *name;
} protos[] = {
	{ 0, "*" }, /* a (process, *) row's: any */
	{ 6, "tcp" },
	{ 17, "udp" },
	{ 136, "udplite" },
	{ 262, "mptcp" },
	{ 1, "icmp" },
	{ 58, "icmpv6" },
	{ CT_PROTO_UNIX | 1, "u_str" }, /* SOCK_STREAM */
	{ CT_PROTO_UNIX | 2, "u_dgr" }, /* SOCK_DGRAM */
	{ CT_PROTO_UNIX | 5, "u_seq" }, /* SOCK_SEQPACKET */
};

const char *ct_proto_name(unsigned proto, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].proto == proto)
			return protos[i].name;
	snprintf(buf, len, CT_PROTO_IS_UNIX(proto) ? "unix-%u" : "ipproto-%u",
		 CT_PROTO_IS_UNIX(proto) ? proto & 0xff : proto);
	return buf;
}

long ct_proto_of_name(const char *name)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (!strcasecmp(protos[i].name, name))
			return protos[i].proto;
	return -1;
}
