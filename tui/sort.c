// SPDX-License-Identifier: GPL-2.0-or-later
#include "sort.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define SORT_LAT_PCT 0.99 /* sorting by latency is by the 99th percentile */

const char *const ct_sort_names[SORT_MAX] = {
	"comm",	 "pid",	 "daddr",   "dport", "proto", "rate",
	"count", "fail", "failpct", "lat",   "last",  "synrt"
};

int ct_sort_parse(const char *name)
{
	for (int i = 0; i < SORT_MAX; i++)
		if (!strcmp(name, ct_sort_names[i]))
			return i;
	return -1;
}

int ct_sort_default_desc(enum ct_sort s)
{
	return !(s == SORT_COMM || s == SORT_PID || s == SORT_DADDR || s == SORT_DPORT ||
		 s == SORT_PROTO);
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_dbl(double a, double b)
{
	return a < b ? -1 : a > b;
}

/* destinations in order: AF_UNIX paths by name, then IPv4, then IPv6 */
static int addr_cmp(const struct flow_key *a, const struct flow_key *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->family == CT_FAMILY_UNIX)
		return strcmp(ct_unix_path(ct_unix_key_id(a->daddr)),
			      ct_unix_path(ct_unix_key_id(b->daddr)));
	return memcmp(a->daddr, b->daddr, sizeof(a->daddr));
}

static int key_cmp(const struct flow_key *a, const struct flow_key *b)
{
	uint64_t x[2], y[2];
	int c;

	/* the same process's flows tie on it: 16 bytes equal are 0 at once
	 * (a scan's many flows of one process spent a fifth of a top-1
	 * selection in strncmp) */
	memcpy(x, a->comm, sizeof(x));
	memcpy(y, b->comm, sizeof(y));
	c = x[0] == y[0] && x[1] == y[1] ? 0 : strncmp(a->comm, b->comm, sizeof(a->comm));

	if (c)
		return c;
	c = addr_cmp(a, b);
	if (c)
		return c;
	if (a->dport != b->dport)
		return a->dport < b->dport ? -1 : 1;
	return cmp_u64(a->proto, b->proto);
}

static double fail_share(const struct ct_row *r)
{
	uint64_t done = r->count - r->results[RES_PENDING];

	return done ? (double)ct_row_failures(r) / done : 0;
}

int ct_row_cmp(const struct ct_row *a, const struct ct_row *b, enum ct_sort sort, int desc)
{
	int c = 0;

	switch (sort) {
	case SORT_COMM:
		c = strncmp(a->key.comm, b->key.comm, sizeof(a->key.comm));
		break;
	case SORT_PID:
		c = cmp_u64(a->pid, b->pid);
		break;
	case SORT_DADDR:
		c = addr_cmp(&a->key, &b->key);
		break;
	case SORT_DPORT:
		c = cmp_u64(a->key.dport, b->key.dport);
		break;
	case SORT_PROTO:
		c = cmp_u64(a->key.proto, b->key.proto);
		break;
	case SORT_RATE:
		c = cmp_dbl(a->rate, b->rate);
		break;
	case SORT_COUNT:
		c = cmp_u64(a->count, b->count);
		break;
	case SORT_FAIL:
		c = cmp_u64(ct_row_failures(a), ct_row_failures(b));
		break;
	case SORT_FAILPCT:
		c = cmp_dbl(fail_share(a), fail_share(b));
		break;
	case SORT_LAT:
		c = cmp_dbl(ct_row_lat_pct(a, SORT_LAT_PCT), ct_row_lat_pct(b, SORT_LAT_PCT));
		break;
	case SORT_LAST:
		c = cmp_u64(a->last_ns, b->last_ns);
		break;
	case SORT_SYNRT: /* unknown counts as less than 0 */
		c = cmp_u64(ct_row_syn_rt_known(a) ? a->syn_rt + 1ULL : 0,
			    ct_row_syn_rt_known(b) ? b->syn_rt + 1ULL : 0);
		break;
	default:
		break;
	}
	if (c)
		return desc ? -c : c;
	return key_cmp(&a->key, &b->key); /* stable tie-break, always ascending */
}

/* qsort has no context argument in C11: the sort order travels in statics,
 * which is fine in this single-threaded program */
static enum ct_sort qsort_key;
static int qsort_desc;

static int qsort_cmp(const void *a, const void *b)
{
	return ct_row_cmp(*(const struct ct_row *const *)a, *(const struct ct_row *const *)b,
			  qsort_key, qsort_desc);
}

/* move the `limit` first rows (in sort order) to the front, in order:
 * a max-heap of the best `limit` seen so far, whose top is the worst of them */
static void select_top(const struct ct_row **rows, size_t n, size_t limit)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct ct_row *r = rows[i];
		size_t j;

		if (k < limit) {
			/* sift up */
			rows[i] = rows[k];
			j = k++;
			while (j && qsort_cmp(&r, &rows[(j - 1) / 2]) > 0) {
				rows[j] = rows[(j - 1) / 2];
				j = (j - 1) / 2;
			}
			rows[j] = r;
			continue;
		}
		if (qsort_cmp(&r, &rows[0]) >= 0)
			continue; /* not better than the worst kept */
		rows[i] = rows[0];
		/* sift r down from the top */
		j = 0;
		for (;;) {
			size_t c = 2 * j + 1;

			if (c >= k)
				break;
			if (c + 1 < k && qsort_cmp(&rows[c + 1], &rows[c]) > 0)
				c++;
			if (qsort_cmp(&rows[c], &r) <= 0)
				break;
			rows[j] = rows[c];
			j = c;
		}
		rows[j] = r;
	}
	qsort(rows, k, sizeof(*rows), qsort_cmp);
}

size_t sort_rows(const struct ct_row **rows, size_t n, enum ct_sort sort, int desc, size_t limit)
{
	qsort_key = sort;
	qsort_desc = desc;
	if (limit && limit < n) {
		select_top(rows, n, limit);
		return limit;
	}
	qsort(rows, n, sizeof(*rows), qsort_cmp);
	return n;
}
