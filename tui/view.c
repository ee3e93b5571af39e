// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The interactive view: all ncurses code. It reads snapshots of the flow
 * table (struct ct_snap) and derives the rows shown from them; capture goes
 * on in main.c's loop whatever the view does. Redraws use erase() and let
 * ncurses send only what changed, which keeps a slow ssh link usable.
 */
#define _XOPEN_SOURCE_EXTENDED 1
#include "view.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "app.h"
#include "export.h"
#include "probe.h"
#include "resolve.h"
#include "termsave.h"
#include "util.h"

#define MIN_COLS 40
#define MIN_LINES 10
#define STATUS_SECS 5
#define SPARK_W 20

enum action {
	ACT_NONE,
	ACT_QUIT,
	ACT_HELP,
	ACT_NEXT_VIEW,
	ACT_VIEW_FLOW,
	ACT_VIEW_PROCESS,
	ACT_VIEW_DEST,
	ACT_VIEW_PORT,
	ACT_SORT_LEFT,
	ACT_SORT_RIGHT,
	ACT_SORT_MENU,
	ACT_REVERSE,
	ACT_SORT_COMM,
	ACT_SORT_DEST,
	ACT_SORT_RATE,
	ACT_SORT_FAIL,
	ACT_SORT_COUNT,
	ACT_SORT_LAT,
	ACT_FILTER,
	ACT_FREEZE,
	ACT_EXPORT,
	ACT_UP,
	ACT_DOWN,
	ACT_PGUP,
	ACT_PGDN,
	ACT_HOME,
	ACT_END,
	ACT_DETAILS,
	ACT_ESC,
	ACT_NAMES,
	ACT_CLEAR,
	ACT_CGROUP,
	ACT_FASTER,
	ACT_SLOWER,
};

/* every binding, in the order the help screen lists them */
static const struct binding {
	int key;
	const char *name;
	enum action act;
	const char *help;
} bindings[] = {
	{ 'q', "q F10 ^C", ACT_QUIT, "quit" },
	{ KEY_F(10), NULL, ACT_QUIT, NULL },
	{ 'h', "h ? F1", ACT_HELP, "this help" },
	{ '?', NULL, ACT_HELP, NULL },
	{ KEY_F(1), NULL, ACT_HELP, NULL },
	{ '\t', "Tab", ACT_NEXT_VIEW, "next view: flow, process, destination, port" },
	{ '1', "1 2 3 4", ACT_VIEW_FLOW, "view by flow, process, destination, port" },
	{ '2', NULL, ACT_VIEW_PROCESS, NULL },
	{ '3', NULL, ACT_VIEW_DEST, NULL },
	{ '4', NULL, ACT_VIEW_PORT, NULL },
	{ '<', "< >", ACT_SORT_LEFT, "sort by the column to the left / right" },
	{ '>', NULL, ACT_SORT_RIGHT, NULL },
	{ 's', "s F6", ACT_SORT_MENU, "choose the sort column" },
	{ KEY_F(6), NULL, ACT_SORT_MENU, NULL },
	{ 'r', "r I", ACT_REVERSE, "reverse the sort order" },
	{ 'I', NULL, ACT_REVERSE, NULL },
	{ 'P', "P", ACT_SORT_COMM, "sort by process name" },
	{ 'D', "D", ACT_SORT_DEST, "sort by destination" },
	{ 'R', "R", ACT_SORT_RATE, "sort by rate" },
	{ 'F', "F", ACT_SORT_FAIL, "sort by failures" },
	{ 'T', "T", ACT_SORT_COUNT, "sort by total connects" },
	{ 'L', "L", ACT_SORT_LAT, "sort by latency (p99)" },
	{ '/', "/ \\ F4", ACT_FILTER,
	  "filter: text port:N proto:udp net:CIDR pid:N uid:N cgroup:T err:ENAME fail timeout !t" },
	{ '\\', NULL, ACT_FILTER, NULL },
	{ KEY_F(4), NULL, ACT_FILTER, NULL },
	{ ' ', "Space Z", ACT_FREEZE, "freeze / unfreeze the display (capture goes on)" },
	{ 'Z', NULL, ACT_FREEZE, NULL },
	{ 'e', "e", ACT_EXPORT, "export the rows shown to JSON and CSV files" },
	{ KEY_UP, "Up Down j k", ACT_UP, "move the selection" },
	{ 'k', NULL, ACT_UP, NULL },
	{ KEY_DOWN, NULL, ACT_DOWN, NULL },
	{ 'j', NULL, ACT_DOWN, NULL },
	{ KEY_PPAGE, "PgUp PgDn", ACT_PGUP, "page up / down" },
	{ KEY_NPAGE, NULL, ACT_PGDN, NULL },
	{ KEY_HOME, "Home End g G", ACT_HOME, "first / last row" },
	{ 'g', NULL, ACT_HOME, NULL },
	{ KEY_END, NULL, ACT_END, NULL },
	{ 'G', NULL, ACT_END, NULL },
	{ '\n', "Enter", ACT_DETAILS, "details of the selected row" },
	{ KEY_ENTER, NULL, ACT_DETAILS, NULL },
	{ 27, "Esc", ACT_ESC, "close the pane; clear the filter" },
	{ 'n', "n", ACT_NAMES, "names: reverse DNS and services on/off" },
	{ 'c', "c", ACT_CLEAR, "clear all counters" },
	{ 'C', "C", ACT_CGROUP, "show / hide the cgroup (unit, container) column" },
	{ '+', "+ - d", ACT_SLOWER, "longer / shorter refresh interval" },
	{ '-', NULL, ACT_FASTER, NULL },
	{ 'd', NULL, ACT_SLOWER, NULL },
};

enum pair { P_HEADER = 1, P_COLHDR, P_SELECT, P_FAIL, P_ALERT, P_FROZEN, P_STATUS, P_OK, P_DIM };

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
	C_FAILPCT,
	C_ERROR,
	C_P50,
	C_P99,
	C_MAX,
	C_SYNRT,
	C_SPARK,
	C_LAST,
	C_END,
};

static const struct colspec {
	const char *title;
	int width;	   /* 0: computed */
	int right;	   /* right-aligned */
	int prio;	   /* lower goes first when the terminal is narrow */
	enum ct_sort sort; /* the sort it selects (SORT_MAX: none) */
} cols[C_END] = {
	[C_PROC] = { "PROCESS", 22, 0, 0, SORT_COMM },
	[C_PIDS] = { "PIDS", 5, 1, 9, SORT_MAX },
	[C_FLOWS] = { "FLOWS", 5, 1, 8, SORT_MAX },
	[C_USER] = { "USER", 8, 0, 13, SORT_MAX },
	[C_CGROUP] = { "CGROUP", 20, 0, 12, SORT_MAX },
	[C_DEST] = { "DESTINATION", 0, 0, 0, SORT_DADDR },
	[C_PORT] = { "PORT", 5, 1, 0, SORT_DPORT },
	[C_PROTO] = { "PROTO", 5, 0, 5, SORT_PROTO },
	[C_RATE] = { "RATE/s", 8, 1, 1, SORT_RATE },
	[C_TOTAL] = { "TOTAL", 8, 1, 1, SORT_COUNT },
	[C_FAIL] = { "FAIL", 7, 1, 2, SORT_FAIL },
	[C_FAILPCT] = { "FAIL%", 5, 1, 4, SORT_FAILPCT },
	[C_ERROR] = { "ERROR", 16, 0, 3, SORT_MAX }, /* "app timeout 3.0s" */
	[C_P50] = { "P50ms", 7, 1, 7, SORT_MAX },
	[C_P99] = { "P99ms", 7, 1, 6, SORT_LAT },
	[C_MAX] = { "MAXms", 7, 1, 10, SORT_MAX },
	[C_SYNRT] = { "SYNRT", 5, 1, 14, SORT_SYNRT }, /* SYNs retransmitted */
	[C_SPARK] = { "HISTORY", SPARK_W, 0, 7, SORT_MAX },
	[C_LAST] = { "LAST", 8, 1, 11, SORT_LAST },
};

static const enum col group_cols[GROUP_MAX][C_END + 1] = {
	[GROUP_FLOW] = { C_PROC, C_USER, C_CGROUP, C_DEST, C_PORT, C_PROTO, C_RATE, C_TOTAL, C_FAIL,
			 C_FAILPCT, C_ERROR, C_P50, C_P99, C_MAX, C_SYNRT, C_SPARK, C_LAST, C_END },
	[GROUP_PROCESS] = { C_PROC, C_PIDS, C_FLOWS, C_USER, C_CGROUP, C_RATE, C_TOTAL, C_FAIL,
			    C_FAILPCT, C_ERROR, C_P50, C_P99, C_MAX, C_SYNRT, C_SPARK, C_LAST,
			    C_END },
	[GROUP_DEST] = { C_DEST, C_FLOWS, C_PIDS, C_RATE, C_TOTAL, C_FAIL, C_FAILPCT, C_ERROR,
			 C_P50, C_P99, C_MAX, C_SYNRT, C_SPARK, C_LAST, C_END },
	[GROUP_PORT] = { C_PORT, C_PROTO, C_FLOWS, C_PIDS, C_RATE, C_TOTAL, C_FAIL, C_FAILPCT,
			 C_ERROR, C_P50, C_P99, C_MAX, C_SYNRT, C_SPARK, C_LAST, C_END },
};

enum mode { M_TABLE, M_HELP, M_DETAILS, M_FILTER, M_SORTMENU };

struct ct_view_ui {
	struct app *a;
	struct resolve *res;
	struct ct_snap *snap; /* what is shown: the latest, or the frozen one */
	struct ct_rows rows;  /* derived from snap in the grouping shown (rows_group) */
	/* the other groupings once shown, kept up to date with each refresh
	 * (rows_follow): switching back to one only orders it */
	struct ct_rows kept[GROUP_MAX];
	enum ct_group rows_group;
	int rows_valid;
	int frozen;
	enum mode mode;
	size_t sel, top;
	int names, show_cgroup, color, utf8, delay_changed;
	/* the filter in force ("" for none) and the prompt's text: malloc'd,
	 * of any length, as -f's (a fixed copy dropped the terms past it) */
	char *filter_text, *filter_edit;
	char filter_error[200]; /* why filter_edit does not parse, or "" */
	struct ct_filter *filter;
	char status[256];
	int status_err;
	time_t status_until;
	int sort_menu_sel;
	size_t limit; /* rows put in order (rows_derive), 0: all */
	char host[64], kernel[80];
	struct flow_key detail_key; /* the row the details pane shows */
	int shown[C_END];	    /* columns that fit, this frame */
	int dest_w;
	/* CONNECTTOP_TIMING: how long each refresh took (ms), for make bench */
	const char *timing_path;
	struct timing {
		double *ms;
		size_t n, cap;
		size_t rows_max; /* the most flows in a snapshot while timed */
	} tick_ms, key_ms, prep_ms;
};

/* one refresh's duration, kept when CONNECTTOP_TIMING asks for them
 * (bounded: a day of 1 s ticks) */
static void timing_add(struct ct_view_ui *v, struct timing *t, uint64_t t0)
{
	if (!v->timing_path || t->n >= 100000)
		return;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 1024;
		double *ms = realloc(t->ms, cap * sizeof(*ms));

		if (!ms)
			return;
		t->ms = ms;
		t->cap = cap;
	}
	t->ms[t->n++] = (app_now_ns() - t0) / 1e6;
	if (v->snap && v->snap->n > t->rows_max)
		t->rows_max = v->snap->n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* "NAME COUNT p50 p90 max FLOWS" per kind of refresh, in ms */
static void timing_write(struct ct_view_ui *v)
{
	const struct timing *ts[3] = { &v->tick_ms, &v->key_ms, &v->prep_ms };
	static const char *const names[3] = { "tick", "key", "prep" };
	FILE *f;

	if (!v->timing_path || !(f = fopen(v->timing_path, "w")))
		return;
	for (int i = 0; i < 3; i++) {
		const struct timing *t = ts[i];

		if (t->n)
			qsort(t->ms, t->n, sizeof(*t->ms), cmp_double);
		fprintf(f, "%s %zu %.3f %.3f %.3f %zu\n", names[i], t->n,
			t->n ? t->ms[t->n / 2] : 0, t->n ? t->ms[t->n * 9 / 10] : 0,
			t->n ? t->ms[t->n - 1] : 0, t->rows_max);
	}
	fclose(f);
}

static const double delays[] = { 0.2, 0.5, 1, 2, 3, 5, 10, 30, 60 };

static void set_status(struct ct_view_ui *v, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_status(struct ct_view_ui *v, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->status, sizeof(v->status), fmt, ap);
	va_end(ap);
	v->status_err = err;
	v->status_until = time(NULL) + STATUS_SECS;
}

static attr_t attr_of(struct ct_view_ui *v, enum pair p)
{
	if (v->color)
		return COLOR_PAIR(p) | (p == P_ALERT || p == P_FROZEN ? A_BOLD : 0);
	switch (p) {
	case P_COLHDR:
	case P_SELECT:
	case P_FROZEN:
	case P_HEADER:
		return A_REVERSE;
	case P_ALERT:
	case P_FAIL:
		return A_BOLD;
	case P_DIM:
		return A_DIM;
	default:
		return A_NORMAL;
	}
}

/* display width of a sanitized UTF-8 string, and the byte length that fits in w columns */
static int text_fit(const char *s, int w, size_t *bytes)
{
	mbstate_t st;
	int used = 0;
	size_t i = 0, n = strlen(s);

	memset(&st, 0, sizeof(st));
	while (i < n) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s + i, n - i, &st);
		int cw;

		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			k = 1;
			cw = 1;
			memset(&st, 0, sizeof(st));
		} else {
			cw = wcwidth(wc);
			if (cw < 0)
				cw = 1;
		}
		if (used + cw > w)
			break;
		used += cw;
		i += k;
	}
	*bytes = i;
	return used;
}

/* print s (sanitized already) in a field of w columns at the cursor, padded;
 * a string that does not fit ends with a visible '~' */
static void put_field(const char *s, int w, int right)
{
	size_t bytes;
	int used = text_fit(s, w, &bytes);
	int cut = bytes < strlen(s);

	if (cut && w > 0)
		used = text_fit(s, w - 1, &bytes);
	if (right && !cut)
		for (int i = used; i < w; i++)
			addch(' ');
	addnstr(s, (int)bytes);
	if (cut && w > 0) {
		addch('~');
		used++;
	}
	if (!right || cut)
		for (int i = used; i < w; i++)
			addch(' ');
}

static void fmt_count(uint64_t n, char *buf, size_t len)
{
	if (n < 10000000)
		snprintf(buf, len, "%llu", (unsigned long long)n);
	else if (n < 10000000000ULL)
		snprintf(buf, len, "%lluM", (unsigned long long)(n / 1000000));
	else
		snprintf(buf, len, "%lluG", (unsigned long long)(n / 1000000000));
}

static void fmt_ago(uint64_t last_mono, uint64_t now_mono, char *buf, size_t len)
{
	uint64_t s = now_mono > last_mono ? (now_mono - last_mono) / 1000000000ULL : 0;

	if (!last_mono)
		snprintf(buf, len, "-");
	else if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%llum", (unsigned long long)s / 60);
	else
		snprintf(buf, len, "%lluh", (unsigned long long)s / 3600);
}

static void sparkline(struct ct_view_ui *v, const struct ct_row *r, int w)
{
	static const char *const blocks[] = { " ",	"\u2581", "\u2582", "\u2583", "\u2584",
					      "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[] = " .:-=+*#%@";
	uint32_t max = 0, hist[CT_HIST];

	if (w > CT_HIST)
		w = CT_HIST;
	ct_row_history(r, v->rows.epoch, hist);
	for (int i = 0; i < w; i++)
		if (hist[i] > max)
			max = hist[i];
	/* oldest on the left, the last interval on the right */
	for (int i = w - 1; i >= 0; i--) {
		uint32_t h = hist[i];

		if (v->utf8) {
			int lvl = h ? 1 + (int)((uint64_t)h * 7 / (max ? max : 1)) : 0;

			addstr(blocks[lvl]);
		} else {
			int lvl = h ? 1 + (int)((uint64_t)h * 8 / (max ? max : 1)) : 0;

			addch(ascii[lvl]);
		}
	}
}

static const char *row_dest(struct ct_view_ui *v, const struct ct_row *r, char *buf, size_t len)
{
	const char *name;

	ct_addr_str(r->key.family, r->key.daddr, buf, len);
	if (v->names && r->key.family != CT_FAMILY_UNIX &&
	    (name = resolve_host(v->res, r->key.family, r->key.daddr)))
		return name;
	return buf;
}

static const char *row_port(struct ct_view_ui *v, const struct ct_row *r, char *buf, size_t len)
{
	const char *name;

	if (v->names && (name = resolve_service(v->res, r->key.dport, r->key.proto)))
		return name;
	snprintf(buf, len, "%u", r->key.dport);
	return buf;
}

/* the details pane's row lies past the rows put in order (it fell in the
 * sort order): a group row there lacks its history, errors and pids */
static int detail_unfilled(const struct ct_view_ui *v)
{
	if (v->mode != M_DETAILS || v->a->opt.group == GROUP_FLOW)
		return 0;
	for (size_t i = v->rows.sorted; i < v->rows.n; i++)
		if (!memcmp(&v->rows.rows[i]->key, &v->detail_key, sizeof(v->detail_key)))
			return 1;
	return 0;
}

/* v->rows in grouping g: the kept view of g becomes the one shown */
static void use_group(struct ct_view_ui *v, enum ct_group g)
{
	struct ct_rows t;

	if (g == v->rows_group)
		return;
	t = v->kept[g];
	v->kept[v->rows_group] = v->rows;
	memset(&v->kept[g], 0, sizeof(v->kept[g])); /* now v->rows */
	v->rows = t;
	v->rows_group = g;
}

static void rebuild(struct ct_view_ui *v)
{
	struct options *o = &v->a->opt;
	int desc = ct_sort_default_desc(o->sort) ^ o->reverse;

	use_group(v, o->group);
	v->rows_valid = 0;
	if (!v->snap)
		return;
	/* order (and for groups, complete) only the rows the screen shows:
	 * the table's rows end before the selection's row + LINES. A view of
	 * the same snapshot keeps what it derived, so going further only
	 * orders again. */
	if (v->limit)
		v->limit = v->sel + (size_t)LINES;
	/* into the buffers of the last view: nothing to fault in each refresh */
	if (rows_refresh(v->snap, o->group, v->filter, o->sort, desc, v->limit, &v->rows) ||
	    (detail_unfilled(v) &&
	     rows_refresh(v->snap, o->group, v->filter, o->sort, desc, 0, &v->rows))) {
		set_status(v, 1, "out of memory building the view");
		return;
	}
	v->rows_valid = 1;
	if (v->sel >= v->rows.n)
		v->sel = v->rows.n ? v->rows.n - 1 : 0;
}

static void take_snapshot(struct ct_view_ui *v)
{
	struct ct_snap *s;

	/* the rows point into the snapshot whose buffers are about to be reused */
	v->rows.n = v->rows.sorted = 0;
	v->rows_valid = 0;
	s = snap_refresh(v->a->flows, app_now_ns(), v->frozen ? NULL : v->snap);
	if (!v->frozen)
		v->snap = NULL;

	if (!s) {
		set_status(v, 1, "out of memory taking a snapshot");
		return;
	}
	snap_free(v->snap);
	v->snap = s;
	/* the grouped views (shown, kept or prepared: prepare_kept derives
	 * them all) update their groups by the rows' differences */
	s->keep_old = 1;
	for (int g = GROUP_FLOW; g < GROUP_MAX; g++)
		if (g != (int)v->rows_group)
			rows_follow(s, g, v->filter, &v->kept[g]);
	rebuild(v);
}

static int col_prio(const struct ct_view_ui *v, enum col c)
{
	return c == C_CGROUP && v->show_cgroup ? 2 : cols[c].prio;
}

static int row_width(const struct ct_view_ui *v, const enum col *gc)
{
	int total = 0;

	for (int i = 0; gc[i] != C_END; i++)
		if (v->shown[gc[i]])
			total += (gc[i] == C_DEST ? v->dest_w : cols[gc[i]].width) + 1;
	return total;
}

/* choose the columns that fit: drop the lowest priority until they do */
static void layout(struct ct_view_ui *v, int width)
{
	const enum col *gc = group_cols[v->a->opt.group];
	int total, maxp = 0;

	v->dest_w = 15;
	/* the destination column fits the rows put in order (those shown and
	 * the next), not the whole table: a wide address far down does not
	 * widen it */
	for (size_t i = 0; v->rows_valid && i < v->rows.sorted && i < 256; i++) {
		char buf[CT_ADDR_STRLEN];
		size_t b;
		int w = text_fit(row_dest(v, v->rows.rows[i], buf, sizeof(buf)), 200, &b);

		if (w > v->dest_w)
			v->dest_w = w;
	}
	if (v->dest_w > 46)
		v->dest_w = 46;
	memset(v->shown, 0, sizeof(v->shown));
	for (int i = 0; gc[i] != C_END; i++) {
		v->shown[gc[i]] = 1;
		if (cols[gc[i]].prio > maxp)
			maxp = cols[gc[i]].prio;
	}
	v->shown[C_CGROUP] = v->show_cgroup && v->shown[C_CGROUP];
	/* drop columns of lower priority first (a column the user asked for
	 * counts as priority 2); before the essential ones (priority 1) go,
	 * narrow the destination (down to 15), and last to 8 */
	for (int p = maxp; p > 0; p--) {
		int excess = row_width(v, gc) - width;

		if (excess <= 0)
			break;
		if (p == 1 && v->shown[C_DEST] && v->dest_w > 15) {
			v->dest_w -= excess < v->dest_w - 15 ? excess : v->dest_w - 15;
			if (row_width(v, gc) <= width)
				break;
		}
		for (int i = 0; gc[i] != C_END; i++)
			if (col_prio(v, gc[i]) == p)
				v->shown[gc[i]] = 0;
	}
	total = row_width(v, gc);
	if (total > width && v->shown[C_DEST])
		v->dest_w -= total - width < v->dest_w - 8 ? total - width : v->dest_w - 8;
}

static int col_width(struct ct_view_ui *v, enum col c)
{
	return c == C_DEST ? v->dest_w : cols[c].width;
}

static void draw_header(struct ct_view_ui *v)
{
	struct app *a = v->a;
	const struct ct_stats *st = &a->stats;
	uint64_t up = (app_now_ns() - a->start_ns) / 1000000000ULL;
	char line[512];
	int x;

	attrset(attr_of(v, P_HEADER));
	move(0, 0);
	snprintf(line, sizeof(line), " connecttop  %s  %s  up %llu:%02llu:%02llu", v->host,
		 v->kernel, (unsigned long long)up / 3600, (unsigned long long)up / 60 % 60,
		 (unsigned long long)up % 60);
	addnstr(line, COLS);
	for (x = getcurx(stdscr); x < COLS; x++)
		addch(' ');
	attrset(A_NORMAL);
	move(1, 0);
	snprintf(line, sizeof(line), " events/s %.0f  total %llu  ", st->events_rate,
		 (unsigned long long)st->events);
	addnstr(line, COLS - 1);
	attrset(st->drops ? attr_of(v, P_ALERT) : A_NORMAL);
	snprintf(line, sizeof(line), "drops %llu", (unsigned long long)st->drops);
	addnstr(line, COLS - getcurx(stdscr));
	attrset(A_NORMAL);
	if (st->missed) {
		snprintf(line, sizeof(line), "  missed %llu", (unsigned long long)st->missed);
		addnstr(line, COLS - getcurx(stdscr));
	}
	snprintf(line, sizeof(line), "  evicted %llu  flows %zu/%zu",
		 (unsigned long long)st->evicted, v->rows_valid ? v->rows.n : 0,
		 v->snap ? v->snap->n : 0);
	addnstr(line, COLS - getcurx(stdscr));
	move(2, 0);
	snprintf(line, sizeof(line), " view %s  sort %s %s  filter %s",
		 ct_group_names[a->opt.group], ct_sort_names[a->opt.sort],
		 (ct_sort_default_desc(a->opt.sort) ^ a->opt.reverse) ?
			 (v->utf8 ? "\u25bc" : "desc") :
			 (v->utf8 ? "\u25b2" : "asc"),
		 v->filter_text[0] ? "" : "-");
	addnstr(line, COLS - 1);
	if (v->filter_text[0]) {
		char clean[256];

		ct_sanitize(v->filter_text, strlen(v->filter_text), clean, sizeof(clean));
		put_field(clean, COLS - getcurx(stdscr) > 40 ? 40 : COLS - getcurx(stdscr) - 1, 0);
	}
	if (v->frozen && COLS - getcurx(stdscr) > 10) {
		addstr("  ");
		attrset(attr_of(v, P_FROZEN));
		addstr(" FROZEN ");
		attrset(A_NORMAL);
	}
	if (v->names && COLS - getcurx(stdscr) > 8)
		addstr("  names");
}

static void draw_row(struct ct_view_ui *v, int y, const struct ct_row *r, int selected)
{
	const enum col *gc = group_cols[v->a->opt.group];
	uint64_t fails = ct_row_failures(r), done = r->count - r->results[RES_PENDING];
	attr_t base = selected ? attr_of(v, P_SELECT) : A_NORMAL;

	move(y, 0);
	attrset(base);
	for (int i = 0; gc[i] != C_END; i++) {
		enum col c = gc[i];
		char buf[192], tmp[CT_ADDR_STRLEN];
		const char *s = buf;
		int w = col_width(v, c);

		if (!v->shown[c])
			continue;
		if (getcurx(stdscr) + w > COLS)
			break;
		buf[0] = 0;
		switch (c) {
		case C_PROC: {
			char comm[80];

			ct_sanitize(r->key.comm, sizeof(r->key.comm), comm, sizeof(comm));
			if (v->a->opt.group == GROUP_FLOW && r->npids > 1)
				snprintf(buf, sizeof(buf), "%s/%u(%u)", comm, r->pid, r->npids);
			else if (v->a->opt.group == GROUP_FLOW)
				snprintf(buf, sizeof(buf), "%s/%u", comm, r->pid);
			else
				snprintf(buf, sizeof(buf), "%s", comm);
			break;
		}
		case C_PIDS:
			snprintf(buf, sizeof(buf), "%u", r->npids);
			break;
		case C_FLOWS:
			snprintf(buf, sizeof(buf), "%u", r->nflows);
			break;
		case C_USER:
			s = resolve_user(v->res, r->uid);
			break;
		case C_CGROUP:
			s = resolve_cgroup(v->res, r->pid, r->key.comm);
			break;
		case C_DEST:
			s = row_dest(v, r, tmp, sizeof(tmp));
			break;
		case C_PORT:
			s = row_port(v, r, tmp, sizeof(tmp));
			break;
		case C_PROTO:
			s = ct_proto_name(r->key.proto, tmp, sizeof(tmp));
			break;
		case C_RATE:
			snprintf(buf, sizeof(buf), r->rate < 100 ? "%.1f" : "%.0f", r->rate);
			break;
		case C_TOTAL:
			fmt_count(r->count, buf, sizeof(buf));
			break;
		case C_FAIL:
			fmt_count(fails, buf, sizeof(buf));
			if (fails && !selected)
				attrset(attr_of(v, P_FAIL));
			break;
		case C_FAILPCT:
			snprintf(buf, sizeof(buf), "%.0f", done ? 100.0 * fails / done : 0.0);
			break;
		case C_ERROR:
			s = ct_row_top_error(r, tmp, sizeof(tmp));
			if (*s && !selected)
				attrset(attr_of(v, P_FAIL));
			break;
		case C_P50:
			ct_fmt_ms(ct_row_lat_pct(r, 0.5), buf, sizeof(buf));
			break;
		case C_P99:
			ct_fmt_ms(ct_row_lat_pct(r, 0.99), buf, sizeof(buf));
			break;
		case C_MAX:
			ct_fmt_ms(r->lat_n ? r->lat_max_ns / 1000.0 : -1, buf, sizeof(buf));
			break;
		case C_SYNRT: /* "-": not counted (no tracepoint, or no TCP connect) */
			if (ct_row_syn_rt_known(r))
				fmt_count(r->syn_rt, buf, sizeof(buf));
			else
				snprintf(buf, sizeof(buf), "-");
			break;
		case C_SPARK:
			sparkline(v, r, w);
			addch(' ');
			continue;
		case C_LAST:
			fmt_ago(r->last_ns, v->snap->taken_ns, buf, sizeof(buf));
			break;
		default:
			break;
		}
		put_field(s, w, cols[c].right);
		attrset(base);
		if (getcurx(stdscr) < COLS - 1)
			addch(' ');
	}
	if (selected)
		for (int x = getcurx(stdscr); x < COLS && getcury(stdscr) == y; x++)
			addch(' ');
	attrset(A_NORMAL);
}

static void draw_table(struct ct_view_ui *v)
{
	const enum col *gc = group_cols[v->a->opt.group];
	int first = 4, height = LINES - first - 2;

	layout(v, COLS);
	move(3, 0);
	attrset(attr_of(v, P_COLHDR));
	for (int i = 0; gc[i] != C_END; i++) {
		enum col c = gc[i];
		int w = col_width(v, c);
		char title[32];

		if (!v->shown[c])
			continue;
		if (getcurx(stdscr) + w > COLS)
			break;
		snprintf(title, sizeof(title), "%s%s", cols[c].title,
			 cols[c].sort == v->a->opt.sort ? (v->utf8 ? "\u2195" : "*") : "");
		put_field(title, w, cols[c].right);
		if (getcurx(stdscr) < COLS - 1)
			addch(' ');
	}
	for (int x = getcurx(stdscr); x < COLS && getcury(stdscr) == 3; x++)
		addch(' ');
	attrset(A_NORMAL);
	if (!v->rows_valid)
		return;
	if (v->rows.sorted < v->rows.n && v->sel + (size_t)LINES > v->rows.sorted) {
		rebuild(v); /* grows the limit to cover the selection */
		if (!v->rows_valid)
			return;
	}
	if (v->sel < v->top)
		v->top = v->sel;
	if (height > 0 && v->sel >= v->top + (size_t)height)
		v->top = v->sel - height + 1;
	for (int i = 0; i < height && v->top + i < v->rows.n; i++)
		draw_row(v, first + i, v->rows.rows[v->top + i], v->top + i == v->sel);
	if (!v->rows.n) {
		move(first + 1, 2);
		addstr(v->snap && v->snap->n ? "no row matches the filter" :
					       "no connect() seen yet");
	}
}

static void draw_bottom(struct ct_view_ui *v)
{
	static const struct {
		const char *key, *label;
	} bar[] = { { "F1", "Help" },	  { "/", "Filter" },   { "Tab", "View" },
		    { "F6", "Sort" },	  { "Spc", "Freeze" }, { "e", "Export" },
		    { "Ent", "Details" }, { "n", "Names" },    { "q", "Quit" } };
	int y = LINES - 1;

	move(LINES - 2, 0);
	if (v->mode == M_FILTER) {
		addstr("filter: ");
		addnstr(v->filter_edit, COLS - 10);
		if (v->filter_error[0] && COLS - getcurx(stdscr) > 12) {
			char clean[256];
			int x = getcurx(stdscr);

			ct_sanitize(v->filter_error, strlen(v->filter_error), clean, sizeof(clean));
			attrset(attr_of(v, P_ALERT));
			addstr("  ");
			addnstr(clean, COLS - x - 3);
			attrset(A_NORMAL);
		}
		curs_set(1);
	} else {
		curs_set(0);
		if (v->status[0] && time(NULL) < v->status_until) {
			char clean[300];

			attrset(v->status_err ? attr_of(v, P_ALERT) : attr_of(v, P_STATUS));
			ct_sanitize(v->status, strlen(v->status), clean, sizeof(clean));
			addnstr(clean, COLS - 1);
			attrset(A_NORMAL);
		}
	}
	move(y, 0);
	for (size_t i = 0; i < ARRAY_SIZE(bar); i++) {
		if (getcurx(stdscr) + (int)strlen(bar[i].key) + (int)strlen(bar[i].label) + 1 >=
		    COLS)
			break;
		attrset(A_BOLD);
		addstr(bar[i].key);
		attrset(attr_of(v, P_COLHDR));
		addstr(bar[i].label);
		attrset(A_NORMAL);
		addch(' ');
	}
	if (v->mode == M_FILTER)
		move(LINES - 2, 8 + (int)strlen(v->filter_edit) < COLS ?
					8 + (int)strlen(v->filter_edit) :
					COLS - 1);
}

static void draw_help(struct ct_view_ui *v)
{
	int y = 1;

	attrset(attr_of(v, P_HEADER));
	mvaddnstr(0, 0, " connecttop help: keys (any key returns)", COLS);
	for (int x = getcurx(stdscr); x < COLS; x++)
		addch(' ');
	attrset(A_NORMAL);
	for (size_t i = 0; i < ARRAY_SIZE(bindings) && y < LINES - 1; i++) {
		if (!bindings[i].name)
			continue;
		move(y++, 1);
		attrset(A_BOLD);
		put_field(bindings[i].name, 14, 0);
		attrset(A_NORMAL);
		addnstr(bindings[i].help, COLS - 16 > 0 ? COLS - 16 : 0);
	}
	if (y < LINES - 1)
		mvaddnstr(
			y + 1 < LINES - 1 ? y + 1 : y, 1,
			"Columns: RATE/s last interval, FAIL refused+timeout+unreachable+other, P50/P99/MAX TCP "
			"handshake ms, HISTORY one mark per interval",
			COLS - 2);
}

static const struct ct_row *find_detail(struct ct_view_ui *v)
{
	for (size_t i = 0; v->rows_valid && i < v->rows.n; i++)
		if (!memcmp(&v->rows.rows[i]->key, &v->detail_key, sizeof(v->detail_key)))
			return v->rows.rows[i];
	return NULL;
}

static void draw_details(struct ct_view_ui *v)
{
	const struct ct_row *r = find_detail(v);
	char buf[768], tmp[CT_ADDR_STRLEN], comm[80], t1[40], t2[40];
	int y = 2;

	attrset(attr_of(v, P_HEADER));
	mvaddnstr(0, 0, " details (Esc closes)", COLS);
	for (int x = getcurx(stdscr); x < COLS; x++)
		addch(' ');
	attrset(A_NORMAL);
	if (!r) {
		mvaddnstr(2, 1, "the row is gone (filtered out, evicted or cleared)", COLS - 2);
		return;
	}
	ct_sanitize(r->key.comm, sizeof(r->key.comm), comm, sizeof(comm));
	ct_addr_str(r->key.family, r->key.daddr, tmp, sizeof(tmp));
	{
		char port[24] = " port *";

		/* an AF_UNIX destination has no port */
		if (CT_PROTO_IS_UNIX(r->key.proto))
			port[0] = 0;
		else if (r->key.proto)
			snprintf(port, sizeof(port), " port %u", r->key.dport);
		snprintf(buf, sizeof(buf), "process %s  ->  %s%s %s   user %s",
			 r->key.comm[0] ? comm : "*", r->key.family ? tmp : "*", port,
			 r->key.proto ? ct_proto_name(r->key.proto, t1, sizeof(t1)) : "",
			 resolve_user(v->res, r->uid));
	}
	mvaddnstr(1, 1, buf, COLS - 2);
	ct_rfc3339(r->first_ns + v->a->mono_to_unix_ns, t1, sizeof(t1));
	ct_rfc3339(r->last_ns + v->a->mono_to_unix_ns, t2, sizeof(t2));
	snprintf(buf, sizeof(buf), "connects %llu  first %s  last %s  flows %u",
		 (unsigned long long)r->count, t1, t2, r->nflows);
	mvaddnstr(y++, 1, buf, COLS - 2);
	move(y++, 1);
	for (int i = 0; i < RES_MAX; i++) {
		snprintf(buf, sizeof(buf), "%s %llu  ", ct_result_names[i],
			 (unsigned long long)r->results[i]);
		addnstr(buf, COLS - getcurx(stdscr) - 1);
	}
	move(y++, 1);
	addstr("errors: ");
	for (int i = 0; i < CT_FLOW_ERRS && r->more->errs[i].err; i++) {
		snprintf(buf, sizeof(buf), "%s %u  ",
			 ct_errno_name(r->more->errs[i].err, tmp, sizeof(tmp)),
			 r->more->errs[i].count);
		addnstr(buf, COLS - getcurx(stdscr) - 1);
	}
	if (r->errs_other) {
		snprintf(buf, sizeof(buf), "other %llu", (unsigned long long)r->errs_other);
		addnstr(buf, COLS - getcurx(stdscr) - 1);
	}
	/* rate history: 6 rows high, one column per interval, newest right */
	{
		int h = 6, w = COLS - 12 < CT_HIST ? COLS - 12 : CT_HIST;
		uint32_t max = 1, hist[CT_HIST];

		ct_row_history(r, v->rows.epoch, hist);
		for (int i = 0; i < w; i++)
			if (hist[i] > max)
				max = hist[i];
		snprintf(buf, sizeof(buf), "connects per interval, last %d (max %u)", w, max);
		mvaddnstr(++y, 1, buf, COLS - 2);
		y++;
		for (int row = 0; row < h && y < LINES - 8; row++, y++) {
			move(y, 1);
			for (int i = w - 1; i >= 0; i--) {
				double fill = (double)hist[i] * h / max - (h - 1 - row);

				if (fill >= 1)
					addstr(v->utf8 ? "\u2588" : "#");
				else
					addch(fill > 0 ? '.' : ' ');
			}
		}
	}
	/* SYN retransmits: connects by how many they needed */
	if (y < LINES - 4) {
		if (ct_row_syn_rt_known(r))
			snprintf(
				buf, sizeof(buf),
				"SYN retransmits: %u in %u connects  (connects by retransmits  0: %u"
				"  1: %u  2: %u  3+: %u)",
				r->syn_rt, ct_row_syn_rt_conns(r), r->syn_rt_hist[0],
				r->syn_rt_hist[1], r->syn_rt_hist[2], r->syn_rt_hist[3]);
		else
			snprintf(buf, sizeof(buf), "SYN retransmits: - (not counted)");
		mvaddnstr(++y, 1, buf, COLS - 2);
		y++;
	}
	/* latency histogram: its buckets in use, at a coarser resolution when
	 * they would not fit on the screen (the last lines stay for the pids) */
	if (r->lat_n && y < LINES - 4) {
		struct ct_lat h = r->more->lat;
		uint32_t max = 1;

		while (h.n > LINES - 5 - y && !ct_lat_coarsen(&h))
			;
		for (unsigned i = 0; i < h.n; i++)
			if (h.count[i] > max)
				max = h.count[i];
		ct_fmt_ms(ct_row_lat_pct(r, 0.5), t1, sizeof(t1));
		ct_fmt_ms(ct_row_lat_pct(r, 0.99), t2, sizeof(t2));
		ct_fmt_ms(r->lat_max_ns / 1000.0, tmp, sizeof(tmp));
		snprintf(buf, sizeof(buf), "TCP handshake (ms): p50 %s  p99 %s  max %s  n %llu", t1,
			 t2, tmp, (unsigned long long)r->lat_n);
		mvaddnstr(++y, 1, buf, COLS - 2);
		y++;
		for (unsigned i = 0; i < h.n && y < LINES - 3; i++, y++) {
			int bw = COLS - 30 > 40 ? 40 : COLS - 30;
			uint64_t lo, hi;

			ct_lat_bounds(&h, i, &lo, &hi);
			snprintf(buf, sizeof(buf), "%9.3f-%-9.3f %7u ", lo / 1000.0, hi / 1000.0,
				 h.count[i]);
			mvaddnstr(y, 1, buf, COLS - 2);
			for (int k = 0; bw > 0 && k < (int)((uint64_t)h.count[i] * bw / max); k++)
				addstr(v->utf8 ? "\u2588" : "#");
		}
	}
	/* pids and their command lines */
	if (y < LINES - 2) {
		snprintf(buf, sizeof(buf), "pids (%u%s):", r->npids,
			 r->npids >= CT_MAX_PIDS ? "+" : "");
		mvaddnstr(++y, 1, buf, COLS - 2);
		y++;
	}
	for (uint32_t i = 0; r->more->pids && i < r->npids && y < LINES - 1; i++, y++) {
		snprintf(buf, sizeof(buf), "%7u %-12s ", r->more->pids[i],
			 resolve_cgroup(v->res, r->more->pids[i], r->key.comm));
		mvaddnstr(y, 1, buf, COLS - 2);
		put_field(resolve_cmdline(v->res, r->more->pids[i], r->key.comm),
			  COLS - getcurx(stdscr) - 1, 0);
	}
}

static void draw_sort_menu(struct ct_view_ui *v)
{
	int h = SORT_MAX + 2, w = 20, y0 = 4, x0 = 2;

	for (int i = 0; i < h && y0 + i < LINES - 1; i++) {
		move(y0 + i, x0);
		attrset(i == 0			  ? attr_of(v, P_HEADER) :
			i - 1 == v->sort_menu_sel ? attr_of(v, P_SELECT) :
						    A_NORMAL);
		if (i == 0)
			put_field(" sort by", w, 0);
		else if (i <= SORT_MAX)
			put_field(ct_sort_names[i - 1], w, 0);
		else
			put_field(" Enter/Esc", w, 0);
	}
	attrset(A_NORMAL);
}

static void draw(struct ct_view_ui *v)
{
	erase();
	if (COLS < MIN_COLS || LINES < MIN_LINES) {
		char msg[80];

		mvaddnstr(0, 0, "terminal too small", COLS);
		snprintf(msg, sizeof(msg), "%dx%d, need %dx%d", COLS, LINES, MIN_COLS, MIN_LINES);
		mvaddnstr(1, 0, msg, COLS);
		refresh();
		return;
	}
	switch (v->mode) {
	case M_HELP:
		draw_help(v);
		break;
	case M_DETAILS:
		draw_details(v);
		break;
	default:
		draw_header(v);
		draw_table(v);
		if (v->mode == M_SORTMENU)
			draw_sort_menu(v);
		draw_bottom(v);
	}
	refresh();
}

/* The host has no terminfo database at all (a container, an initramfs):
 * the entries built in, written to a private folder that TERMINFO points
 * at while the terminal is set up, then removed. TERM itself if it is one
 * of them, else the first that works. 1 if the terminal is set up. */
static int newterm_builtin(const char *term)
{
	char dir[] = "/tmp/connecttop-terminfo.XXXXXX", path[sizeof(dir) + 80];
	const struct ct_terminfo *e;
	int ok = 0;

	if (!mkdtemp(dir))
		return 0;
	for (e = ct_terminfos; e->name; e++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%c", dir, e->name[0]);
		mkdir(path, 0700);
		snprintf(path, sizeof(path), "%s/%c/%s", dir, e->name[0], e->name);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, e->data, e->len) != (ssize_t)e->len) {
			if (fd >= 0)
				close(fd);
			goto out;
		}
		close(fd);
	}
	setenv("TERMINFO", dir, 1);
	/* TERM as it is, then each entry in turn */
	if (term && *term) {
		setenv("TERM", term, 1);
		ok = newterm(NULL, stdout, stdin) != NULL;
	}
	for (e = ct_terminfos; !ok && e->name; e++) {
		setenv("TERM", e->name, 1);
		ok = newterm(NULL, stdout, stdin) != NULL;
	}
	unsetenv("TERMINFO");
out:
	for (e = ct_terminfos; e->name; e++) {
		snprintf(path, sizeof(path), "%s/%c/%s", dir, e->name[0], e->name);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%c", dir, e->name[0]);
		rmdir(path);
	}
	rmdir(dir);
	return ok;
}

struct ct_view_ui *view_new(struct app *a, char *err, size_t errlen)
{
	struct ct_view_ui *v = calloc(1, sizeof(*v));
	struct utsname u;
	const char *term = getenv("TERM");

	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	v->a = a;
	v->res = a->res;
	v->names = a->opt.names;
	v->filter_text = strdup(a->opt.filter_expr ? a->opt.filter_expr : "");
	v->filter_edit = strdup("");
	if (!v->filter_text || !v->filter_edit) {
		snprintf(err, errlen, "out of memory");
		free(v->filter_text);
		free(v->filter_edit);
		free(v);
		return NULL;
	}
	if (a->opt.filter_expr) {
		v->filter = filter_new(v->filter_text, err, errlen);
		filter_set_cgroup_fn(v->filter, app_cgroup_of, a);
	}
	uname(&u);
	snprintf(v->kernel, sizeof(v->kernel), "%s", u.release);
	gethostname(v->host, sizeof(v->host) - 1);
	v->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	/* A static binary reads the host's terminfo; if it lacks this TERM,
	 * fall back to entries every terminfo has rather than failing. */
	if (!term || !*term)
		setenv("TERM", "vt100", 1);
	termsave_init(STDIN_FILENO);
	if (!newterm(NULL, stdout, stdin)) {
		const char *fallbacks[] = { "xterm", "vt100", "dumb" };
		int ok = 0;

		for (size_t i = 0; i < ARRAY_SIZE(fallbacks) && !ok; i++) {
			setenv("TERM", fallbacks[i], 1);
			ok = newterm(NULL, stdout, stdin) != NULL;
		}
		if (!ok)
			ok = newterm_builtin(term);
		if (!ok) {
			snprintf(err, errlen,
				 "cannot initialize the terminal (TERM=%s): no terminfo entry",
				 term ? term : "");
			filter_free(v->filter);
			free(v->filter_text);
			free(v->filter_edit);
			free(v);
			return NULL;
		}
	}
	cbreak(); /* ^C and ^Z still signal: SIGINT quits cleanly, ^Z suspends */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	/* what endwin() would write, for a signal that ends the program */
	termsave_add(tigetstr("sgr0"));
	termsave_add(tigetstr("cnorm"));
	termsave_add(tigetstr("rmkx"));
	termsave_add(tigetstr("rmcup"));
	termsave_arm();
	if (has_colors() && !a->opt.no_color && !getenv("NO_COLOR")) {
		start_color();
		use_default_colors();
		v->color = 1;
		init_pair(P_HEADER, COLOR_BLACK, COLOR_CYAN);
		init_pair(P_COLHDR, COLOR_BLACK, COLOR_GREEN);
		init_pair(P_SELECT, COLOR_BLACK, COLOR_CYAN);
		init_pair(P_FAIL, COLOR_RED, -1);
		init_pair(P_ALERT, COLOR_WHITE, COLOR_RED);
		init_pair(P_FROZEN, COLOR_BLACK, COLOR_YELLOW);
		init_pair(P_STATUS, COLOR_YELLOW, -1);
		init_pair(P_OK, COLOR_GREEN, -1);
		init_pair(P_DIM, COLOR_BLUE, -1);
	}
	v->limit = 4 * (size_t)LINES;
	v->timing_path = getenv("CONNECTTOP_TIMING");
	take_snapshot(v);
	draw(v);
	return v;
}

void view_free(struct ct_view_ui *v)
{
	if (!v)
		return;
	/* without an alternate screen (vt100, linux) what is drawn stays:
	 * leave a clean screen behind */
	erase();
	refresh();
	termsave_disarm();
	endwin();
	timing_write(v);
	free(v->tick_ms.ms);
	free(v->key_ms.ms);
	free(v->prep_ms.ms);
	rows_free(&v->rows);
	for (int g = GROUP_FLOW; g < GROUP_MAX; g++)
		rows_free(&v->kept[g]);
	snap_free(v->snap);
	filter_free(v->filter);
	free(v->filter_text);
	free(v->filter_edit);
	free(v);
}

/* Once the screen is drawn: derive one grouping not shown whose kept view
 * is not up to date (the first time, or after the snapshot was copied
 * whole or the filter changed), so that switching to it only orders it;
 * the refreshes keep it up to date by differences. The flow grouping is
 * left out: it derives in a couple of milliseconds. */
static void prepare_kept(struct ct_view_ui *v)
{
	struct options *o = &v->a->opt;
	uint64_t t0 = app_now_ns();

	if (!v->snap)
		return;
	for (int i = 1; i < GROUP_MAX; i++) {
		enum ct_group g = (enum ct_group)((v->rows_group + i) % GROUP_MAX);

		if (g == GROUP_FLOW || rows_ready(&v->kept[g], v->snap, g, v->filter))
			continue;
		rows_refresh(v->snap, g, v->filter, o->sort,
			     ct_sort_default_desc(o->sort) ^ o->reverse, (size_t)LINES,
			     &v->kept[g]);
		timing_add(v, &v->prep_ms, t0);
		return;
	}
}

void view_tick(struct ct_view_ui *v)
{
	uint64_t t0 = app_now_ns();

	if (!v->frozen)
		take_snapshot(v);
	draw(v);
	timing_add(v, &v->tick_ms, t0);
	prepare_kept(v);
}

int view_delay_changed(struct ct_view_ui *v)
{
	int c = v->delay_changed;

	v->delay_changed = 0;
	return c;
}

struct export_ctx {
	struct ct_view_ui *v;
	const struct ct_rows *rows; /* every row, in order and complete */
	int csv;
};

static int export_cb(FILE *out, void *ctx)
{
	struct export_ctx *c = ctx;
	struct app *a = c->v->a;
	int rc;

	if (!c->csv)
		return export_json(out, c->rows, a->opt.group, &a->stats);
	rc = export_csv_header(out, a->opt.group);
	return rc ? rc : export_csv(out, c->rows, a->opt.group, &a->stats);
}

static void do_export(struct ct_view_ui *v)
{
	const char *dir = v->a->opt.export_dir ? v->a->opt.export_dir : ".";
	char stamp[32], path[2][4096];
	struct options *o = &v->a->opt;
	struct export_ctx ctx = { v, NULL, 0 };
	struct ct_rows all;
	time_t now = time(NULL);
	struct tm tm;
	int rc = 0;

	if (!v->rows_valid || !v->snap) {
		set_status(v, 1, "nothing to export");
		return;
	}
	/* the screen's rows are put in order only as far as it reaches (and
	 * grouped rows are complete only that far): the file gets them all */
	if (rows_derive(v->snap, o->group, v->filter, o->sort,
			ct_sort_default_desc(o->sort) ^ o->reverse, 0, &all)) {
		set_status(v, 1, "out of memory exporting");
		return;
	}
	ctx.rows = &all;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	for (int i = 0; i < 2 && !rc; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/connecttop-%s-%s.%s", dir, stamp,
			 ct_group_names[v->a->opt.group], i ? "csv" : "json");
		ctx.csv = i;
		rc = export_atomic(path[i], export_cb, &ctx);
		if (rc)
			set_status(v, 1, "export to %s failed: %s", path[i], strerror(-rc));
	}
	if (!rc)
		set_status(v, 0, "exported %zu rows%s to %s and .csv", all.n,
			   v->frozen ? " (frozen)" : "", path[0]);
	rows_free(&all);
}

static void set_sort(struct ct_view_ui *v, enum ct_sort s)
{
	if (v->a->opt.sort == s)
		v->a->opt.reverse ^= 1;
	else {
		v->a->opt.sort = s;
		v->a->opt.reverse = 0;
	}
	rebuild(v);
}

/* < and >: walk the sortable columns shown in this view */
static void sort_step(struct ct_view_ui *v, int dir)
{
	const enum col *gc = group_cols[v->a->opt.group];
	int n = 0, cur = -1;
	enum ct_sort order[C_END];

	for (int i = 0; gc[i] != C_END; i++)
		if (cols[gc[i]].sort != SORT_MAX) {
			if (cols[gc[i]].sort == v->a->opt.sort)
				cur = n;
			order[n++] = cols[gc[i]].sort;
		}
	if (!n)
		return;
	cur = cur < 0 ? 0 : (cur + dir + n) % n;
	v->a->opt.sort = order[cur];
	v->a->opt.reverse = 0;
	rebuild(v);
}

static void apply_filter_text(struct ct_view_ui *v, const char *text)
{
	char err[200];
	struct ct_filter *f = filter_new(text, err, sizeof(err));
	char *copy = f ? strdup(text) : NULL;

	if (f && !copy) {
		filter_free(f);
		f = NULL;
		snprintf(err, sizeof(err), "out of memory");
	}
	if (!f) {
		snprintf(v->filter_error, sizeof(v->filter_error), "%s", err);
		set_status(v, 1, "filter: %s", err);
		return;
	}
	v->filter_error[0] = 0;
	filter_free(v->filter);
	filter_set_cgroup_fn(f, app_cgroup_of, v->a);
	v->filter = f;
	free(v->filter_text);
	v->filter_text = copy;
	v->status[0] = 0;
	v->sel = v->top = 0;
	rebuild(v);
}

static void change_delay(struct ct_view_ui *v, int dir)
{
	double d = v->a->opt.delay;
	size_t i = 0;

	while (i + 1 < ARRAY_SIZE(delays) && delays[i] < d - 1e-9)
		i++;
	if (dir > 0 && delays[i] <= d + 1e-9 && i + 1 < ARRAY_SIZE(delays))
		i++;
	else if (dir < 0 && i > 0)
		i--;
	v->a->opt.delay = delays[i];
	v->delay_changed = 1;
	set_status(v, 0, "refresh every %g s", delays[i]);
}

static void filter_key(struct ct_view_ui *v, int ch)
{
	size_t n = strlen(v->filter_edit);

	if (ch == 27) { /* Esc: clear the filter */
		v->filter_edit[0] = 0;
		apply_filter_text(v, "");
		v->mode = M_TABLE;
		set_status(v, 0, "filter cleared");
	} else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		/* an invalid filter is not silently replaced by the last valid
		 * prefix: the prompt stays open with the error until fixed */
		if (!v->filter_error[0])
			v->mode = M_TABLE;
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (n)
			v->filter_edit[n - 1] = 0;
		apply_filter_text(v, v->filter_edit);
	} else if (ch == 21) { /* ^U */
		v->filter_edit[0] = 0;
		apply_filter_text(v, "");
	} else if (ch >= 32 && ch < 127) {
		char *e = realloc(v->filter_edit, n + 2);

		if (!e)
			return;
		v->filter_edit = e;
		v->filter_edit[n] = (char)ch;
		v->filter_edit[n + 1] = 0;
		apply_filter_text(v, v->filter_edit);
	}
}

static void sort_menu_key(struct ct_view_ui *v, int ch)
{
	if (ch == KEY_UP || ch == 'k')
		v->sort_menu_sel = (v->sort_menu_sel + SORT_MAX - 1) % SORT_MAX;
	else if (ch == KEY_DOWN || ch == 'j')
		v->sort_menu_sel = (v->sort_menu_sel + 1) % SORT_MAX;
	else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		v->a->opt.sort = v->sort_menu_sel;
		v->a->opt.reverse = 0;
		v->mode = M_TABLE;
		rebuild(v);
	} else if (ch == 27 || ch == 'q')
		v->mode = M_TABLE;
}

/*
 * Esc was read. A CSI or SS3 sequence that the terminfo entry does not know
 * (tmux sends Home/End as ESC[1~ / ESC[4~ under TERM=xterm-256color) must not
 * act as Esc followed by letters: read it to its final byte and map the
 * common ones. A lone Esc, or Esc and a key typed quickly, stay what they are.
 */
static int escape_sequence(void)
{
	char seq[16];
	size_t n = 0;
	int ch = getch();

	if (ch == ERR)
		return 27;
	if (ch != '[' && ch != 'O') {
		ungetch(ch); /* Esc, then a key typed right after it */
		return 27;
	}
	while (n + 1 < sizeof(seq) && (ch = getch()) != ERR) {
		seq[n++] = (char)ch;
		if (ch >= 0x40 && ch <= 0x7e)
			break;
	}
	seq[n] = 0;
	if (!strcmp(seq, "1~") || !strcmp(seq, "7~") || !strcmp(seq, "H"))
		return KEY_HOME;
	if (!strcmp(seq, "4~") || !strcmp(seq, "8~") || !strcmp(seq, "F"))
		return KEY_END;
	if (!strcmp(seq, "5~"))
		return KEY_PPAGE;
	if (!strcmp(seq, "6~"))
		return KEY_NPAGE;
	return 0;
}

static enum action lookup_key(int ch)
{
	if (ch == '\r')
		ch = '\n';
	for (size_t i = 0; i < ARRAY_SIZE(bindings); i++)
		if (bindings[i].key == ch)
			return bindings[i].act;
	return ACT_NONE;
}

/* 1 to quit */
static int table_key(struct ct_view_ui *v, int ch)
{
	struct options *o = &v->a->opt;
	int page = LINES - 6 > 1 ? LINES - 6 : 1;
	enum action act = lookup_key(ch);

	if (v->mode == M_HELP) {
		v->mode = M_TABLE;
		return act == ACT_QUIT && ch != 'q' ? 1 : 0;
	}
	if (v->mode == M_DETAILS && act != ACT_QUIT && act != ACT_FREEZE && act != ACT_EXPORT) {
		if (act == ACT_ESC || act == ACT_DETAILS || ch == KEY_BACKSPACE)
			v->mode = M_TABLE;
		return 0;
	}
	switch (act) {
	case ACT_QUIT:
		return 1;
	case ACT_HELP:
		v->mode = M_HELP;
		break;
	case ACT_NEXT_VIEW:
		o->group = (o->group + 1) % GROUP_MAX;
		v->sel = v->top = 0;
		rebuild(v);
		break;
	case ACT_VIEW_FLOW:
	case ACT_VIEW_PROCESS:
	case ACT_VIEW_DEST:
	case ACT_VIEW_PORT:
		o->group = GROUP_FLOW + (act - ACT_VIEW_FLOW);
		v->sel = v->top = 0;
		rebuild(v);
		break;
	case ACT_SORT_LEFT:
		sort_step(v, -1);
		break;
	case ACT_SORT_RIGHT:
		sort_step(v, 1);
		break;
	case ACT_SORT_MENU:
		v->sort_menu_sel = o->sort;
		v->mode = M_SORTMENU;
		break;
	case ACT_REVERSE:
		o->reverse ^= 1;
		rebuild(v);
		break;
	case ACT_SORT_COMM:
		set_sort(v, SORT_COMM);
		break;
	case ACT_SORT_DEST:
		set_sort(v, SORT_DADDR);
		break;
	case ACT_SORT_RATE:
		set_sort(v, SORT_RATE);
		break;
	case ACT_SORT_FAIL:
		set_sort(v, SORT_FAIL);
		break;
	case ACT_SORT_COUNT:
		set_sort(v, SORT_COUNT);
		break;
	case ACT_SORT_LAT:
		set_sort(v, SORT_LAT);
		break;
	case ACT_FILTER: {
		char *e = strdup(v->filter_text);

		if (e) {
			free(v->filter_edit);
			v->filter_edit = e;
			v->mode = M_FILTER;
		} else {
			set_status(v, 1, "out of memory");
		}
		break;
	}
	case ACT_FREEZE:
		v->frozen = !v->frozen;
		if (!v->frozen)
			take_snapshot(v); /* unfreezing jumps to live */
		set_status(v, 0,
			   v->frozen ? "frozen: the display holds still, capture goes on" : "live");
		break;
	case ACT_EXPORT:
		do_export(v);
		break;
	case ACT_UP:
		if (v->sel)
			v->sel--;
		break;
	case ACT_DOWN:
		if (v->rows_valid && v->sel + 1 < v->rows.n)
			v->sel++;
		break;
	case ACT_PGUP:
		v->sel = v->sel > (size_t)page ? v->sel - page : 0;
		break;
	case ACT_PGDN:
		if (v->rows_valid && v->rows.n)
			v->sel = v->sel + page < v->rows.n ? v->sel + page : v->rows.n - 1;
		break;
	case ACT_HOME:
		v->sel = 0;
		break;
	case ACT_END:
		if (v->rows_valid && v->rows.n)
			v->sel = v->rows.n - 1;
		rebuild(v);
		break;
	case ACT_DETAILS:
		if (v->rows_valid && v->sel < v->rows.n) {
			v->detail_key = v->rows.rows[v->sel]->key;
			v->mode = M_DETAILS;
		}
		break;
	case ACT_ESC:
		if (v->filter_text[0]) {
			apply_filter_text(v, "");
			set_status(v, 0, "filter cleared");
		}
		break;
	case ACT_NAMES:
		v->names = !v->names;
		set_status(v, 0, v->names ? "names on (looked up in the background)" : "names off");
		break;
	case ACT_CLEAR:
		flows_clear(v->a->flows);
		take_snapshot(v);
		set_status(v, 0, "counters cleared");
		break;
	case ACT_CGROUP:
		v->show_cgroup = !v->show_cgroup;
		break;
	case ACT_SLOWER:
		change_delay(v, 1);
		break;
	case ACT_FASTER:
		change_delay(v, -1);
		break;
	case ACT_NONE:
		break;
	}
	return 0;
}

int view_input(struct ct_view_ui *v)
{
	int ch, quit = 0, keys = 0;
	uint64_t t0 = app_now_ns();

	while (!quit && (ch = getch()) != ERR) {
		keys++;
		if (ch == KEY_RESIZE)
			continue; /* the one place: the redraw below uses the new LINES/COLS */
		if (ch == 27)
			ch = escape_sequence();
		if (v->mode == M_FILTER)
			filter_key(v, ch);
		else if (v->mode == M_SORTMENU)
			sort_menu_key(v, ch);
		else
			quit = table_key(v, ch);
	}
	if (!quit)
		draw(v); /* also after a signal woke the loop: SIGWINCH, SIGCONT */
	if (keys && !quit)
		timing_add(v, &v->key_ms, t0);
	return quit;
}
