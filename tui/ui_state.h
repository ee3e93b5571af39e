/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The screen's state and every change of it, as plain functions: the sort
 * and its direction, the grouping shown, the filter, freeze, the
 * selection, the refresh interval, the panes. No curses and no app: the
 * key table calls these, the drawing only reads the struct, and the unit
 * tests drive them directly (tests/unit/test_ui_state.c).
 *
 * A change that needs more than the state returns what the caller must do
 * next, as UI_* bits: derive the rows again, take a snapshot, clear the
 * counters, export, quit. The caller owns the snapshot and the rows.
 */
#ifndef CT_UI_STATE_H
#define CT_UI_STATE_H

#include <stddef.h>
#include <time.h>

#include "filter.h"
#include "row.h"
#include "rows.h"
#include "sort.h"

/* what a state change asks of its caller */
enum {
	UI_REBUILD = 1 << 0,  /* derive the rows again (sort, grouping, filter, selection) */
	UI_SNAPSHOT = 1 << 1, /* take a new snapshot, then derive */
	UI_CLEAR = 1 << 2,    /* clear the flow table's counters, then take a snapshot */
	UI_EXPORT = 1 << 3,   /* write the rows to files */
	UI_QUIT = 1 << 4,
	UI_BASELINE = 1 << 5,	    /* take a baseline from the snapshot shown, then derive */
	UI_BASELINE_CLEAR = 1 << 6, /* forget the baseline, then derive */
};

enum ui_mode { UI_TABLE, UI_HELP, UI_DETAILS, UI_FILTER, UI_SORTMENU, UI_DELAY };

/* the refresh intervals + and - step through, in seconds (-d's lowest
 * to a minute) */
#define UI_DELAY_MIN 0.1
#define UI_DELAY_MAX 60.0
/* what the d prompt takes: -d's range */
#define UI_DELAY_LO 0.1
#define UI_DELAY_HI 3600.0

struct ui_state {
	/* what the rows are derived with */
	enum ct_group group;
	enum ct_sort sort;
	int reverse;		  /* the other order than the column's natural one */
	struct ct_filter *filter; /* NULL: none */
	/* the filter in force ("" for none) and the prompt's text: malloc'd,
	 * of any length, as -f's (a fixed copy dropped the terms past it) */
	char *filter_text, *filter_edit;
	char filter_error[200];	    /* why filter_edit does not parse, or "" */
	filter_cgroup_fn cgroup_fn; /* given to every filter made */
	void *cgroup_ctx;
	filter_change_fn change_fn; /* the same, for new/worse/silent */
	void *change_ctx;
	int baseline; /* a baseline is kept (b; B forgets it) */

	double delay;	     /* the refresh interval, seconds */
	char delay_edit[16]; /* the d prompt's text */
	int delay_changed;   /* until ui_state_delay_changed() reads it */
	int frozen;	     /* the snapshot shown stays (capture goes on) */
	enum ui_mode mode;
	size_t sel, top; /* the selected row, the first row on the screen */
	/* the selected row's key, found again after the rows change so that
	 * the selection follows its flow (sel_keyed: sel_key holds one);
	 * sel_reset: a new grouping or filter put the selection on the first
	 * row, whichever it is, until a key moves it */
	struct flow_key sel_key;
	int sel_keyed, sel_reset;
	int names; /* reverse DNS and service names */
	int show_cgroup;
	int sort_menu_sel;	    /* the sort the menu points at */
	struct flow_key detail_key; /* the row the details pane shows */
	/* the details pane's pid list: the first shown, and how many fit (the
	 * last frame's, from the drawing) */
	size_t detail_top, detail_room;
	/* the help screen's lines: the first shown, how many fit and how
	 * many there are (the last frame's, from the drawing) */
	size_t help_top, help_room, help_lines;

	char status[256]; /* the status line, shown until status_until */
	int status_err;
	time_t status_until;
};

/* how the screen starts: the command line's options */
struct ui_config {
	enum ct_group group;
	enum ct_sort sort;
	int reverse;
	double delay;
	int names;
	const char *filter_expr; /* NULL: none (already checked by the caller) */
	filter_cgroup_fn cgroup_fn;
	void *cgroup_ctx;
	filter_change_fn change_fn; /* NULL: new, worse, silent match nothing */
	void *change_ctx;
};

/* 0, or -ENOMEM with a message in err (s then holds nothing to free) */
int ui_state_init(struct ui_state *s, const struct ui_config *c, char *err, size_t errlen);
void ui_state_free(struct ui_state *s); /* the struct itself is the caller's */

/* the status line for a few seconds (err: shown as an alert) */
void ui_state_status(struct ui_state *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* sort by s; the column already sorted by turns its direction over */
unsigned ui_state_set_sort(struct ui_state *s, enum ct_sort sort);
/* the next (dir 1) or previous (-1) sortable column of the grouping */
unsigned ui_state_sort_step(struct ui_state *s, int dir);
unsigned ui_state_reverse(struct ui_state *s);
/* show grouping g, from its first row */
unsigned ui_state_set_group(struct ui_state *s, enum ct_group g);
unsigned ui_state_next_group(struct ui_state *s);

/* Put the filter text in force. Text that does not parse leaves the
 * filter as it was, with the reason in filter_error and the status line,
 * and returns 0. */
unsigned ui_state_filter_apply(struct ui_state *s, const char *text);
/* the filter prompt: opened on the filter in force, each edit applied at
 * once */
unsigned ui_state_filter_open(struct ui_state *s);
unsigned ui_state_filter_type(struct ui_state *s, char c); /* a printable character */
unsigned ui_state_filter_erase(struct ui_state *s);	   /* Backspace */
unsigned ui_state_filter_kill(struct ui_state *s);	   /* ^U: the whole line */
unsigned ui_state_filter_cancel(struct ui_state *s);	   /* Esc: no filter, prompt closed */
/* Enter: closes the prompt unless the text does not parse */
unsigned ui_state_filter_enter(struct ui_state *s);
/* Esc on the table: no filter */
unsigned ui_state_filter_clear(struct ui_state *s);

unsigned ui_state_freeze(struct ui_state *s); /* freeze, or go live again */

/* the selection among nrows rows, a page being page rows */
unsigned ui_state_select_up(struct ui_state *s);
unsigned ui_state_select_down(struct ui_state *s, size_t nrows);
unsigned ui_state_select_page_up(struct ui_state *s, size_t page);
unsigned ui_state_select_page_down(struct ui_state *s, size_t nrows, size_t page);
unsigned ui_state_select_home(struct ui_state *s);
unsigned ui_state_select_end(struct ui_state *s, size_t nrows);
/* the rows changed: keep the selection on one of them */
void ui_state_select_clamp(struct ui_state *s, size_t nrows);
/* before the rows change: the selected row's key (of those in order) */
void ui_state_select_remember(struct ui_state *s, const struct ct_rows *rows);
/* after: the selection on that row again, where the rows put it (if it is
 * among those in order), else kept on one of them */
void ui_state_select_find(struct ui_state *s, const struct ct_rows *rows);
/* scroll so that the selection is among the height rows shown */
void ui_state_scroll(struct ui_state *s, size_t height);

/* the next longer (dir 1) or shorter (-1) refresh interval */
unsigned ui_state_change_delay(struct ui_state *s, int dir);
/* d: a prompt for the interval, as top's; typed characters, Backspace,
 * Enter (a number of seconds in -d's range, else the prompt stays with a
 * message), Esc (unchanged) */
unsigned ui_state_delay_open(struct ui_state *s);
unsigned ui_state_delay_type(struct ui_state *s, char c);
unsigned ui_state_delay_erase(struct ui_state *s);
unsigned ui_state_delay_enter(struct ui_state *s);
unsigned ui_state_delay_cancel(struct ui_state *s);
/* 1 once after the interval changed */
int ui_state_delay_changed(struct ui_state *s);

unsigned ui_state_clear(struct ui_state *s); /* every counter to zero */
/* b: a baseline of the snapshot shown (the frozen one when frozen), in
 * place of any other; B: none */
unsigned ui_state_baseline(struct ui_state *s);
unsigned ui_state_baseline_clear(struct ui_state *s);
unsigned ui_state_names(struct ui_state *s); /* names on / off */
unsigned ui_state_cgroup_column(struct ui_state *s);
unsigned ui_state_export(struct ui_state *s);
unsigned ui_state_quit(struct ui_state *s);

/* the details of the selected row of rows (NULL: none derived) */
unsigned ui_state_details_open(struct ui_state *s, const struct ct_rows *rows);
/* scroll the details pane's pids by delta lines, of n pids (a large
 * delta: to an end) */
unsigned ui_state_details_scroll(struct ui_state *s, long delta, size_t n);
unsigned ui_state_help_open(struct ui_state *s);
/* the help screen scrolled by delta lines, when it does not fit: 1 if it
 * did not fit (the key scrolled), 0 if it fits (the key closes it) */
int ui_state_help_scroll(struct ui_state *s, long delta);
/* back to the table from the help, the details or the sort menu */
unsigned ui_state_close(struct ui_state *s);

/* the sort menu: opened on the sort in force, moved up (-1) and down (1)
 * round the list, chosen */
unsigned ui_state_sort_menu_open(struct ui_state *s);
unsigned ui_state_sort_menu_move(struct ui_state *s, int dir);
unsigned ui_state_sort_menu_choose(struct ui_state *s);

#endif
