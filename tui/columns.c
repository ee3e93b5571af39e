// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The table's columns and the choice of those that fit (columns.h).
 */
#include "columns.h"

#include <string.h>

const struct colspec columns[C_END] = {
	[C_PROC] = { "PROCESS", 22, 0, 0, SORT_COMM },
	[C_PIDS] = { "PIDS", 5, 1, 10, SORT_MAX },
	[C_FLOWS] = { "FLOWS", 5, 1, 9, SORT_MAX },
	[C_USER] = { "USER", 8, 0, 14, SORT_MAX },
	[C_CGROUP] = { "CGROUP", 20, 0, 13, SORT_MAX },
	[C_DEST] = { "DESTINATION", 0, 0, 0, SORT_DADDR },
	[C_PORT] = { "PORT", 5, 1, 0, SORT_DPORT },
	[C_PROTO] = { "PROTO", 5, 0, 6, SORT_PROTO },
	[C_RATE] = { "RATE/s", 8, 1, 2, SORT_RATE }, /* goes before the failures */
	[C_TOTAL] = { "TOTAL", 8, 1, 1, SORT_COUNT },
	[C_FAIL] = { "FAIL", 7, 1, 1, SORT_FAIL },
	[C_PEND] = { "PENDING", 7, 1, 3, SORT_MAX }, /* only while a row has one */
	[C_FAILPCT] = { "FAIL%", 5, 1, 5, SORT_FAILPCT },
	/* kept at any width, as the failures are: "worse 100%→100%" is 15
	 * columns; at 80 the rate gives way to it */
	[C_CHANGE] = { "CHANGE", 15, 0, 1, SORT_MAX },
	[C_ERROR] = { "ERROR", 16, 0, 4, SORT_MAX }, /* "app timeout 3.0s" */
	[C_P50] = { "P50ms", 7, 1, 8, SORT_MAX },
	[C_P99] = { "P99ms", 7, 1, 7, SORT_LAT },
	[C_MAX] = { "MAXms", 7, 1, 11, SORT_MAX },
	[C_SYNRT] = { "SYNRT", 5, 1, 15, SORT_SYNRT }, /* SYNs retransmitted */
	[C_SPARK] = { "HISTORY", COLUMNS_SPARK_W, 0, 8, SORT_MAX },
	[C_LAST] = { "LAST", 8, 1, 12, SORT_LAST },
};

const enum col columns_of_group[GROUP_MAX][C_END + 1] = {
	[GROUP_FLOW] = { C_PROC,  C_USER, C_CGROUP, C_DEST,  C_PORT,	C_PROTO, C_RATE,
			 C_TOTAL, C_FAIL, C_CHANGE, C_PEND,  C_FAILPCT, C_ERROR, C_P50,
			 C_P99,	  C_MAX,  C_SYNRT,  C_SPARK, C_LAST,	C_END },
	[GROUP_PROCESS] = { C_PROC, C_PIDS, C_FLOWS, C_USER, C_CGROUP, C_RATE, C_TOTAL, C_FAIL,
			    C_CHANGE, C_PEND, C_FAILPCT, C_ERROR, C_P50, C_P99, C_MAX, C_SYNRT,
			    C_SPARK, C_LAST, C_END },
	[GROUP_DEST] = { C_DEST, C_FLOWS, C_PIDS, C_RATE, C_TOTAL, C_FAIL, C_CHANGE, C_PEND,
			 C_FAILPCT, C_ERROR, C_P50, C_P99, C_MAX, C_SYNRT, C_SPARK, C_LAST, C_END },
	[GROUP_PORT] = { C_PORT, C_PROTO, C_FLOWS, C_PIDS, C_RATE, C_TOTAL, C_FAIL, C_CHANGE,
			 C_PEND, C_FAILPCT, C_ERROR, C_P50, C_P99, C_MAX, C_SYNRT, C_SPARK, C_LAST,
			 C_END },
};

/* a column the user asked for counts as priority 2 */
static int col_prio(int show_cgroup, enum col c)
{
	return c == C_CGROUP && show_cgroup ? 2 : columns[c].prio;
}

int columns_width(const struct columns_layout *l, enum col c)
{
	/* a sortable column has room for its whole title and the sort mark */
	int title = (int)strlen(columns[c].title) + (columns[c].sort != SORT_MAX);

	if (c == C_DEST)
		return l->dest_w;
	return columns[c].width > title ? columns[c].width : title;
}

static int row_width(const struct columns_layout *l, const enum col *gc)
{
	int total = 0;

	for (int i = 0; gc[i] != C_END; i++)
		if (l->shown[gc[i]])
			total += columns_width(l, gc[i]) + 1;
	return total ? total - 1 : 0; /* no space after the last */
}

void columns_layout(struct columns_layout *l, enum ct_group g, int width, int show_cgroup,
		    int pending, int dest_w)
{
	const enum col *gc = columns_of_group[g];
	int total, maxp = 0;

	l->dest_w = dest_w < 15 ? 15 : dest_w > 46 ? 46 : dest_w;
	memset(l->shown, 0, sizeof(l->shown));
	for (int i = 0; gc[i] != C_END; i++) {
		l->shown[gc[i]] = 1;
		if (columns[gc[i]].prio > maxp)
			maxp = columns[gc[i]].prio;
	}
	l->shown[C_CGROUP] = show_cgroup && l->shown[C_CGROUP];
	l->shown[C_PEND] = (pending & COLUMNS_PENDING) && l->shown[C_PEND];
	l->shown[C_CHANGE] = (pending & COLUMNS_CHANGE) && l->shown[C_CHANGE];
	/* drop columns of lower priority first; before P99, the protocol,
	 * the failures or the essential columns go, narrow the destination
	 * (down to 15), and last to 8: a long address gives way to them, and
	 * only the median latency and the history give way to it */
	for (int p = maxp; p > 0; p--) {
		int excess = row_width(l, gc) - width;

		if (excess <= 0)
			break;
		if (p <= columns[C_P99].prio && l->shown[C_DEST] && l->dest_w > 15) {
			l->dest_w -= excess < l->dest_w - 15 ? excess : l->dest_w - 15;
			if (row_width(l, gc) <= width)
				break;
		}
		for (int i = 0; gc[i] != C_END; i++)
			if (col_prio(show_cgroup, gc[i]) == p)
				l->shown[gc[i]] = 0;
	}
	total = row_width(l, gc);
	if (total > width && l->shown[C_DEST])
		l->dest_w -= total - width < l->dest_w - 8 ? total - width : l->dest_w - 8;
}

int columns_sorts(enum ct_group g, enum ct_sort *order)
{
	const enum col *gc = columns_of_group[g];
	int n = 0;

	for (int i = 0; gc[i] != C_END; i++)
		if (columns[gc[i]].sort != SORT_MAX)
			order[n++] = columns[gc[i]].sort;
	return n;
}
