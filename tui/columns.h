/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The table's columns: what each shows, how wide, which sort it selects,
 * which a grouping has, and which of them fit a terminal's width. No
 * curses: the drawing reads the layout, the sort keys read the sort order.
 */
#ifndef CT_COLUMNS_H
#define CT_COLUMNS_H

#include "row.h"
#include "sort.h"

#define COLUMNS_SPARK_W 20

enum col {
	C_PROC,
	C_PIDS,
	C_FLOWS,
	C_USER,
	C_CGROUP,
	C_DEST,
	C_PORT,
	C_PROTO,
	C_RATE,
	C_TOTAL,
	C_FAIL,
	C_PEND,
	C_FAILPCT,
	C_CHANGE, /* since the baseline (baseline.h): only while one is kept */
	C_ERROR,
	C_P50,
	C_P99,
	C_MAX,
	C_SYNRT,
	C_SPARK,
	C_LAST,
	C_END,
};

struct colspec {
	const char *title;
	int width;	   /* 0: computed */
	int right;	   /* right-aligned */
	int prio;	   /* lower goes first when the terminal is narrow */
	enum ct_sort sort; /* the sort it selects (SORT_MAX: none) */
};

extern const struct colspec columns[C_END];
/* each grouping's columns, left to right, ending with C_END */
extern const enum col columns_of_group[GROUP_MAX][C_END + 1];

/* the columns of one frame */
struct columns_layout {
	int shown[C_END]; /* 1: the column fits */
	int dest_w;	  /* the destination column's width */
};

/* Choose the columns of grouping g that fit width: drop the lowest
 * priority until they do (show_cgroup: the user asked for the cgroup
 * column; pending: a row has connects in flight, which the PENDING column
 * shows; a set of COLUMNS_* bits, COLUMNS_CHANGE for the baseline's
 * CHANGE column). dest_w is the width the destination column would like. */
#define COLUMNS_PENDING 1 /* a row has connects in flight: the PENDING column */
#define COLUMNS_CHANGE 2  /* a baseline is kept: the CHANGE column */
void columns_layout(struct columns_layout *l, enum ct_group g, int width, int show_cgroup,
		    int pending, int dest_w);
/* a column's width in this layout */
int columns_width(const struct columns_layout *l, enum col c);
/* the sorts the columns of g select, left to right, into order (C_END
 * entries at most); their number */
int columns_sorts(enum ct_group g, enum ct_sort *order);

#endif
