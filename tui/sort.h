/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The order of rows: by any column, ascending or descending, ties always
 * broken on the row's key ascending, so that equal rows keep their place
 * from one refresh to the next.
 */
#ifndef CT_SORT_H
#define CT_SORT_H

#include <stddef.h>

#include "row.h"

enum ct_sort {
	SORT_COMM = 0,
	SORT_PID,
	SORT_DADDR,
	SORT_DPORT,
	SORT_PROTO,
	SORT_RATE,
	SORT_COUNT,
	SORT_FAIL,
	SORT_FAILPCT,
	SORT_LAT,
	SORT_LAST,
	SORT_SYNRT, /* SYNs retransmitted; rows where that is unknown after those with 0 */
	SORT_MAX,
};
extern const char *const ct_sort_names[SORT_MAX]; /* option names: "comm", "rate", ... */
int ct_sort_parse(const char *name);		  /* -1 if unknown */
/* a sort column's natural order: numbers descending, names ascending */
int ct_sort_default_desc(enum ct_sort s);

/* compare two rows the way sort_rows orders them: < 0 when a comes first */
int ct_row_cmp(const struct ct_row *a, const struct ct_row *b, enum ct_sort sort, int desc);
/* Put rows[0..n) in order. With 0 < limit < n only the first `limit` are
 * (a selection in O(n log limit): a screen needs only what it shows) and the
 * rest are in no order. Returns how many are in order. */
size_t sort_rows(const struct ct_row **rows, size_t n, enum ct_sort sort, int desc, size_t limit);

#endif
