/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Drawing the screen with ncurses, from what draw_ctx gives: it reads the
 * screen's state and the rows and changes neither.
 */
#ifndef CT_DRAW_H
#define CT_DRAW_H

#include <stddef.h>
#include <stdint.h>

#include "baseline.h"
#include "columns.h"
#include "export.h"
#include "rows.h"
#include "ui_state.h"

struct resolve;

/* what a frame shows; the caller's, refreshed before each frame */
struct draw_ctx {
	const struct ui_state *s;
	const struct ct_snap *snap; /* NULL: none yet */
	const struct ct_rows *rows; /* derived from snap, if rows_valid */
	int rows_valid;
	int desc; /* the rows are in descending order */
	const struct ct_stats *stats;
	/* the CHANGE column's: what changed for a row since the baseline
	 * (baseline.h), NULL while none is kept */
	enum ct_change (*change)(void *ctx, const struct ct_row *r, struct ct_change_info *c);
	void *change_ctx;
	struct names *res; /* names, users, cgroups, command lines */
	uint64_t up_secs;
	size_t max_flows; /* the flow table's bound (--max-flows) */
	int64_t mono_to_unix_ns;
	const char *host, *kernel;
	int color, utf8;
	struct columns_layout lay;    /* draw_screen's: the columns that fit this frame */
	size_t detail_room;	      /* draw_screen's: the details pane's lines for pids */
	size_t help_room, help_lines; /* draw_screen's: the help's lines that fit, and all */
};

/* the colour pairs, once the terminal is up: 1 if it has colours */
int draw_colors(void);
/* how many rows the table shows on this terminal */
int draw_table_height(void);
/* 1 if the next frame shows the table (not a pane, not too small) */
int draw_shows_table(const struct ui_state *s);
void draw_screen(struct draw_ctx *d);

#endif
