// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The screen drawn from the state (draw.h): header, table, bottom lines,
 * help, details, sort menu. Redraws use erase() and let ncurses send only
 * what changed, which keeps a slow ssh link usable.
 */
#define _XOPEN_SOURCE_EXTENDED 1
#include "draw.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "baseline.h"
#include "export.h"
#include "keys.h"
#include "names.h"
#include "qnames.h"
#include "util.h"

#define MIN_COLS 40
#define MIN_LINES 10

/* the colour pairs: semantic roles, with a monochrome fallback (attr_of);
 * since a baseline, a worse row takes the failure colour, a new one P_NEW
 * and a gone one is dimmed (P_GONE, no pair of its own) */
enum pair { P_HEADER = 1, P_COLHDR, P_SELECT, P_FAIL, P_ALERT, P_FROZEN, P_STATUS, P_NEW, P_GONE };

int draw_colors(void)
{
	if (!has_colors())
		return 0;
	start_color();
	use_default_colors();
	init_pair(P_HEADER, COLOR_BLACK, COLOR_CYAN);
	init_pair(P_COLHDR, COLOR_BLACK, COLOR_GREEN);
	init_pair(P_SELECT, COLOR_BLACK, COLOR_CYAN);
	init_pair(P_FAIL, COLOR_RED, -1);
	init_pair(P_ALERT, COLOR_WHITE, COLOR_RED);
	init_pair(P_FROZEN, COLOR_BLACK, COLOR_YELLOW);
	init_pair(P_STATUS, COLOR_YELLOW, -1);
	init_pair(P_NEW, COLOR_GREEN, -1);
	return 1;
}

/* the table's rows below its title, above the two bottom lines */
int draw_table_height(void)
{
	return LINES - 4 - 2 > 0 ? LINES - 4 - 2 : 0;
}

static int too_small(void)
{
	return COLS < MIN_COLS || LINES < MIN_LINES;
}

int draw_shows_table(const struct ui_state *s)
{
	return !too_small() && s->mode != UI_HELP && s->mode != UI_DETAILS;
}

static attr_t attr_of(struct draw_ctx *v, enum pair p)
{
	if (p == P_GONE)
		return A_DIM;
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
	case P_NEW: /* bold is worse's: new rows are told apart */
		return A_UNDERLINE;
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

static void sparkline(struct draw_ctx *v, const struct ct_row *r, int w)
{
	static const char *const blocks[] = { " ",	"\u2581", "\u2582", "\u2583", "\u2584",
					      "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[] = " .:-=+*#%@";
	uint32_t max = 0, hist[CT_HIST];

	if (w > CT_HIST)
		w = CT_HIST;
	ct_row_history(r, v->rows->epoch, hist);
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

static const char *row_dest(struct draw_ctx *v, const struct ct_row *r, char *buf, size_t len)
{
	const char *name;

	if (r->key.family == CT_FAMILY_FOLDED) { /* with the flows folded in */
		snprintf(buf, len, "*(%u)", r->more->folded);
		return buf;
	}
	/* names on: the name the process resolved the address from, before
	 * what reverse DNS says of it ("~" marks one another process's answer
	 * gave: it resolved through a daemon, or not at all); only a flow has
	 * one */
	if (v->s->names && r->more->qname && v->s->group == GROUP_FLOW) {
		size_t hw = !!(r->more->qname & CT_QNAME_HOSTWIDE);

		buf[0] = '~';
		ct_qname_str(r->more->qname, buf + hw, len - hw);
		if (buf[hw])
			return buf;
	}
	ct_addr_scope_str(r->key.family, r->key.daddr, r->key.scope, buf, len);
	if (v->s->names && r->key.family != CT_FAMILY_UNIX &&
	    (name = names_host(v->res, r->key.family, r->key.daddr)))
		return name;
	return buf;
}

static const char *row_port(struct draw_ctx *v, const struct ct_row *r, char *buf, size_t len)
{
	const char *name;

	if (v->s->names && (name = names_service(v->res, r->key.dport, r->key.proto)))
		return name;
	snprintf(buf, len, "%u", r->key.dport);
	return buf;
}

/* choose the columns that fit */
static void layout(struct draw_ctx *v, int width)
{
	int dest_w = 0, pending = 0;

	/* the destination column fits the rows put in order (those shown and
	 * the next), not the whole table: a wide address far down does not
	 * widen it */
	for (size_t i = 0; v->rows_valid && i < v->rows->sorted && i < 256; i++) {
		char buf[CT_ADDR_STRLEN];
		size_t b;
		int w = text_fit(row_dest(v, v->rows->rows[i], buf, sizeof(buf)), 200, &b);

		if (w > dest_w)
			dest_w = w;
	}
	/* the PENDING column while a row in order has connects in flight */
	for (size_t i = 0; v->rows_valid && i < v->rows->sorted && !pending; i++)
		pending = v->rows->rows[i]->results[RES_PENDING] > 0;
	columns_layout(&v->lay, v->s->group, width, v->s->show_cgroup,
		       (pending ? COLUMNS_PENDING : 0) | (v->change ? COLUMNS_CHANGE : 0), dest_w);
}

static void draw_header(struct draw_ctx *v)
{
	const struct ct_stats *st = v->stats;
	uint64_t up = v->up_secs;
	char line[512];
	int x;

	attrset(attr_of(v, P_HEADER));
	move(0, 0);
	if (v->replay) /* the recorded host's, and the replay clock */
		snprintf(line, sizeof(line),
			 " connecttop  %s  %s  replay %s +%llu:%02llu:%02llu  %s", v->host,
			 v->kernel, v->replay, (unsigned long long)up / 3600,
			 (unsigned long long)up / 60 % 60, (unsigned long long)up % 60,
			 v->replay_state);
	else
		snprintf(line, sizeof(line),
			 " connecttop  %s  %s  up %llu:%02llu:%02llu  refresh %gs", v->host,
			 v->kernel, (unsigned long long)up / 3600, (unsigned long long)up / 60 % 60,
			 (unsigned long long)up % 60, v->s->delay);
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
	/* DNS answers read for the names processes resolved, and what was
	 * lost of them (the ring full, the table full) */
	if (st->dns_on) {
		snprintf(line, sizeof(line), "  dns %llu", (unsigned long long)st->dns_answers);
		addnstr(line, COLS - getcurx(stdscr));
		/* answers not read: TC set, malformed, too large, and lookups
		 * over TCP (never read) */
		if (st->dns_unseen || st->dns_tcp) {
			snprintf(line, sizeof(line), " (unseen %llu tcp %llu)",
				 (unsigned long long)st->dns_unseen,
				 (unsigned long long)st->dns_tcp);
			addnstr(line, COLS - getcurx(stdscr));
		}
		if (!st->dns_capturing)
			addnstr(" idle", COLS - getcurx(stdscr));
		if (st->dns_drops || st->dns_evicted) {
			attrset(st->dns_drops ? attr_of(v, P_ALERT) : A_NORMAL);
			snprintf(line, sizeof(line), " (drops %llu evicted %llu)",
				 (unsigned long long)st->dns_drops,
				 (unsigned long long)st->dns_evicted);
			addnstr(line, COLS - getcurx(stdscr));
			attrset(A_NORMAL);
		}
	}
	/* the rows shown (after the filter, in the grouping), the flows in
	 * the table and its bound */
	snprintf(line, sizeof(line), "  evicted %llu  rows %zu  flows %zu of max %zu",
		 (unsigned long long)st->evicted, v->rows_valid ? v->rows->n : 0,
		 v->snap ? v->snap->n : 0, v->max_flows);
	addnstr(line, COLS - getcurx(stdscr));
	move(2, 0);
	snprintf(line, sizeof(line), " view %s  sort %s %s  filter %s", ct_group_names[v->s->group],
		 ct_sort_names[v->s->sort],
		 v->desc ? (v->utf8 ? "\u25bc" : "desc") : (v->utf8 ? "\u25b2" : "asc"),
		 v->s->filter_text[0] ? "" : "-");
	addnstr(line, COLS - 1);
	if (v->s->filter_text[0]) {
		char clean[256];

		ct_sanitize(v->s->filter_text, strlen(v->s->filter_text), clean, sizeof(clean));
		put_field(clean, COLS - getcurx(stdscr) > 40 ? 40 : COLS - getcurx(stdscr) - 1, 0);
	}
	if (v->s->frozen && COLS - getcurx(stdscr) > 10) {
		addstr("  ");
		attrset(attr_of(v, P_FROZEN));
		addstr(" FROZEN ");
		attrset(A_NORMAL);
	}
	if (v->s->names && COLS - getcurx(stdscr) > 8)
		addstr("  names");
}

static void draw_row(struct draw_ctx *v, int y, const struct ct_row *r, int selected)
{
	const enum col *gc = columns_of_group[v->s->group];
	uint64_t fails = ct_row_failures(r), done = r->count - r->results[RES_PENDING];
	struct ct_change_info ci;
	enum ct_change kind = v->change ? v->change(v->change_ctx, r, &ci) : CHG_NONE;
	/* the row's change marks all of it; a cell's own colour (FAIL,
	 * ERROR) is left out of a selected row and of a gone one */
	attr_t base = selected		? attr_of(v, P_SELECT) :
		      kind == CHG_WORSE ? attr_of(v, P_FAIL) :
		      kind == CHG_NEW	? attr_of(v, P_NEW) :
					  A_NORMAL;
	int plain = selected || kind == CHG_GONE;

	if (kind == CHG_GONE)
		base |= attr_of(v, P_GONE);

	move(y, 0);
	attrset(base);
	for (int i = 0; gc[i] != C_END; i++) {
		enum col c = gc[i];
		char buf[192], tmp[CT_ADDR_STRLEN];
		const char *s = buf;
		int w = columns_width(&v->lay, c);

		if (!v->lay.shown[c])
			continue;
		if (getcurx(stdscr) + w > COLS)
			break;
		buf[0] = 0;
		switch (c) {
		case C_PROC: {
			char comm[80];

			ct_sanitize(r->key.comm, sizeof(r->key.comm), comm, sizeof(comm));
			if (v->s->group == GROUP_FLOW && r->npids > 1)
				snprintf(buf, sizeof(buf), "%s/%u(%u)", comm, r->pid, r->npids);
			else if (v->s->group == GROUP_FLOW)
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
			s = names_user(v->res, r->uid);
			break;
		case C_CGROUP:
			s = names_cgroup(v->res, r->pid, r->key.comm);
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
			if (fails && !plain)
				attrset(attr_of(v, P_FAIL));
			break;
		case C_PEND:
			fmt_count(r->results[RES_PENDING], buf, sizeof(buf));
			break;
		case C_FAILPCT:
			snprintf(buf, sizeof(buf), "%.0f", done ? 100.0 * fails / done : 0.0);
			break;
		case C_CHANGE: {
			baseline_cell(&ci, buf, sizeof(buf));
			/* an ASCII arrow where the terminal has no UTF-8 */
			if (!v->utf8) {
				char *a = strstr(buf, "\u2192");

				if (a) {
					a[0] = '>';
					memmove(a + 1, a + 3, strlen(a + 3) + 1);
				}
			}
			break;
		}
		case C_ERROR:
			s = ct_row_top_error(r, tmp, sizeof(tmp));
			if (*s && !plain)
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
		put_field(s, w, columns[c].right);
		attrset(base);
		if (getcurx(stdscr) < COLS - 1)
			addch(' ');
	}
	if (selected)
		for (int x = getcurx(stdscr); x < COLS && getcury(stdscr) == y; x++)
			addch(' ');
	attrset(A_NORMAL);
}

static void draw_table(struct draw_ctx *v)
{
	const enum col *gc = columns_of_group[v->s->group];
	int first = 4, height = draw_table_height();

	layout(v, COLS);
	move(3, 0);
	attrset(attr_of(v, P_COLHDR));
	for (int i = 0; gc[i] != C_END; i++) {
		enum col c = gc[i];
		int w = columns_width(&v->lay, c);
		char title[32];

		if (!v->lay.shown[c])
			continue;
		if (getcurx(stdscr) + w > COLS)
			break;
		snprintf(title, sizeof(title), "%s%s", columns[c].title,
			 columns[c].sort == v->s->sort ? (v->utf8 ? "\u2195" : "*") : "");
		put_field(title, w, columns[c].right);
		if (getcurx(stdscr) < COLS - 1)
			addch(' ');
	}
	for (int x = getcurx(stdscr); x < COLS && getcury(stdscr) == 3; x++)
		addch(' ');
	attrset(A_NORMAL);
	if (!v->rows_valid)
		return;
	for (int i = 0; i < height && v->s->top + i < v->rows->n; i++)
		draw_row(v, first + i, v->rows->rows[v->s->top + i], v->s->top + i == v->s->sel);
	if (!v->rows->n) {
		move(first + 1, 2);
		addstr(v->snap && v->snap->n ? "no row matches the filter" :
					       "no connect() seen yet");
	}
}

/* the rows are sorted by a column not on the screen: say which (1) */
static int sort_hint(struct draw_ctx *v, char *buf, size_t len)
{
	const enum col *gc = columns_of_group[v->s->group];

	for (int i = 0; gc[i] != C_END; i++)
		if (columns[gc[i]].sort == v->s->sort) {
			if (v->lay.shown[gc[i]])
				return 0;
			snprintf(buf, len, "sorted by %s (hidden at this width)",
				 columns[gc[i]].title);
			return 1;
		}
	snprintf(buf, len, "sorted by %s (not a column of this view)", ct_sort_names[v->s->sort]);
	return 1;
}

static void draw_bottom(struct draw_ctx *v)
{
	static const struct {
		const char *key, *label;
	} bar[] = { { "F1", "Help" },	  { "/", "Filter" },   { "Tab", "View" },
		    { "F6", "Sort" },	  { "Spc", "Freeze" }, { "e", "Export" },
		    { "Ent", "Details" }, { "n", "Names" },    { "q", "Quit" } };
	int y = LINES - 1, cursor_x = -1;
	char hint_buf[300];

	move(LINES - 2, 0);
	if (v->s->mode == UI_FILTER) {
		addstr("filter: ");
		addnstr(v->s->filter_edit, COLS - 10);
		if (v->s->filter_error[0] && COLS - getcurx(stdscr) > 12) {
			char clean[256];
			int x = getcurx(stdscr);

			ct_sanitize(v->s->filter_error, strlen(v->s->filter_error), clean,
				    sizeof(clean));
			attrset(attr_of(v, P_ALERT));
			addstr("  ");
			addnstr(clean, COLS - x - 3);
			attrset(A_NORMAL);
		}
		curs_set(1);
	} else if (v->s->mode == UI_DELAY || v->s->mode == UI_GOTO) {
		const char *edit = v->s->mode == UI_DELAY ? v->s->delay_edit : v->s->goto_edit;
		char clean[200];
		int x;

		ct_sanitize(edit, strlen(edit), clean, sizeof(clean));
		addnstr(v->s->mode == UI_DELAY ? "refresh interval in seconds: " :
						 "jump to (2026-12-03T10:15:00Z, +30s): ",
			COLS - 1);
		addnstr(clean, COLS - getcurx(stdscr) - 1);
		x = getcurx(stdscr);
		if (v->s->status_err && v->s->status[0] && time(NULL) < v->s->status_until &&
		    COLS - x > 12) {
			ct_sanitize(v->s->status, strlen(v->s->status), hint_buf, sizeof(hint_buf));
			attrset(attr_of(v, P_ALERT));
			addstr("  ");
			addnstr(hint_buf, COLS - x - 3);
			attrset(A_NORMAL);
		}
		cursor_x = x;
		curs_set(1);
	} else {
		char hint[80];

		curs_set(0);
		if (v->s->status[0] && time(NULL) < v->s->status_until) {
			char clean[300];

			attrset(v->s->status_err ? attr_of(v, P_ALERT) : attr_of(v, P_STATUS));
			ct_sanitize(v->s->status, strlen(v->s->status), clean, sizeof(clean));
			addnstr(clean, COLS - 1);
			attrset(A_NORMAL);
		} else if (sort_hint(v, hint, sizeof(hint))) {
			attrset(attr_of(v, P_STATUS));
			addnstr(hint, COLS - 1);
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
	if (cursor_x >= 0)
		move(LINES - 2, cursor_x);
	else if (v->s->mode == UI_FILTER)
		move(LINES - 2, 8 + (int)strlen(v->s->filter_edit) < COLS ?
					8 + (int)strlen(v->s->filter_edit) :
					COLS - 1);
}

/* the help's lines: line n of them drawn when it is one that fits */
struct help_out {
	size_t n, top, room;
};

static void help_line(struct help_out *o, int x, const char *names, const char *text, int len)
{
	if (o->n < o->top || o->n - o->top >= o->room) {
		o->n++;
		return;
	}
	move(1 + (int)(o->n++ - o->top), x);
	if (names) {
		attrset(A_BOLD);
		put_field(names, 14, 0);
		attrset(A_NORMAL);
	}
	addnstr(text, len);
}

/* text from column x to the screen's edge, wrapped at spaces onto lines
 * of its own at that column: nothing cut at 80 columns */
static void help_text(struct help_out *o, int x, const char *names, const char *text)
{
	int w = COLS - x - 1 > 10 ? COLS - x - 1 : 10;

	while ((int)strlen(text) > w) {
		int cut = w;

		while (cut > 0 && text[cut] != ' ')
			cut--;
		if (!cut)
			cut = w;
		help_line(o, names ? 1 : x, names, text, cut);
		names = names ? "" : NULL;
		text += cut;
		while (*text == ' ')
			text++;
	}
	help_line(o, names ? 1 : x, names, text, w);
}

static void draw_help(struct draw_ctx *v)
{
	const char *names, *help;
	struct help_out o = { 0, 0, LINES > 3 ? (size_t)LINES - 2 : 1 };
	char title[128];

	/* twice: the lines counted first (none drawn), to know where the
	 * last screenful starts, then drawn from the first shown */
	for (int pass = 0; pass < 2; pass++) {
		size_t last;

		o.n = 0;
		o.top = pass ? o.top : (size_t)-1;
		for (size_t i = 0; keys_help(i, &names, &help); i++)
			help_text(&o, 15, names, help);
		help_line(&o, 1, NULL, "", 0);
		help_text(&o, 1, NULL,
			  "Columns: RATE/s last interval, FAIL refused+timeout+unreachable+other, "
			  "P50/P99/MAX TCP handshake ms, HISTORY one mark per interval");
		last = o.n > o.room ? o.n - o.room : 0;
		v->help_lines = o.n;
		v->help_room = o.room;
		o.top = v->s->help_top < last ? v->s->help_top : last;
	}
	attrset(attr_of(v, P_HEADER));
	if (o.n > o.room)
		snprintf(title, sizeof(title),
			 " connecttop help: lines %zu-%zu of %zu, Up/Down PgUp/PgDn scroll, other "
			 "keys return",
			 o.top + 1, o.top + o.room, o.n);
	else
		snprintf(title, sizeof(title), " connecttop help: keys (any key returns)");
	/* by position: a title as wide as the screen leaves the cursor on
	 * the next line */
	for (int x = 0; x < COLS; x++)
		mvaddch(0, x, x < (int)strlen(title) ? (chtype)(unsigned char)title[x] : ' ');
	attrset(A_NORMAL);
}

static const struct ct_row *find_detail(struct draw_ctx *v)
{
	for (size_t i = 0; v->rows_valid && i < v->rows->n; i++)
		if (!memcmp(&v->rows->rows[i]->key, &v->s->detail_key, sizeof(v->s->detail_key)))
			return v->rows->rows[i];
	return NULL;
}

/* NAME: the name the process resolved the address from, its CNAME chain,
 * whose answer it was; or why there is none */
static void detail_name(struct draw_ctx *v, const struct ct_row *r, int y)
{
	const char *rec = ct_qname_rec(r->more->qname), *arrow = v->utf8 ? " \u2192 " : " > ";
	char buf[1024];
	size_t n;

	move(y, 1);
	addstr("NAME ");
	if (!rec) {
		if (r->key.family == CT_FAMILY_UNIX || r->key.family == CT_FAMILY_FOLDED ||
		    v->s->group != GROUP_FLOW)
			snprintf(buf, sizeof(buf), "-");
		else if (v->dns_why && v->dns_why[0])
			snprintf(buf, sizeof(buf), "- (DNS answers not captured: %s)", v->dns_why);
		else
			snprintf(buf, sizeof(buf), "- (no DNS answer seen for this address)");
		addnstr(buf, COLS - getcurx(stdscr) - 1);
		return;
	}
	/* "qname\tcname..." (qnames.h), the tabs shown as arrows */
	n = 0;
	for (const char *p = rec; *p && n < sizeof(buf) - 8; p++) {
		if (*p != '\t') {
			buf[n++] = *p;
			continue;
		}
		if (p[1] == '+') { /* links left out */
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s(%s more)", arrow,
					      p + 2);
			break;
		}
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", arrow);
	}
	buf[n < sizeof(buf) ? n : sizeof(buf) - 1] = 0;
	if (r->more->qname & CT_QNAME_HOSTWIDE)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
			 "  (host-wide: another process's answer)");
	addnstr(buf, COLS - getcurx(stdscr) - 1);
}

static void draw_details(struct draw_ctx *v)
{
	const struct ct_row *r = find_detail(v);
	char buf[768], tmp[CT_ADDR_STRLEN], comm[80], t1[40], t2[40];
	int y = 2;

	v->detail_room = 0;
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
	ct_addr_scope_str(r->key.family, r->key.daddr, r->key.scope, tmp, sizeof(tmp));
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
			 names_user(v->res, r->uid));
	}
	mvaddnstr(1, 1, buf, COLS - 2);
	ct_rfc3339(r->first_ns + v->mono_to_unix_ns, t1, sizeof(t1));
	ct_rfc3339(r->last_ns + v->mono_to_unix_ns, t2, sizeof(t2));
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
	detail_name(v, r, y++);
	/* rate history: 6 rows high, one column per interval, newest right */
	{
		int h = 6, w = COLS - 12 < CT_HIST ? COLS - 12 : CT_HIST;
		uint32_t max = 1, hist[CT_HIST];

		ct_row_history(r, v->rows->epoch, hist);
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
	/* the pids keep a header and up to 3 lines below the histogram */
	int keep = 2 + (r->npids < 3 ? (int)r->npids : 3);

	if (r->lat_n && y < LINES - 2 - keep) {
		struct ct_lat h = *ct_more_lat(r->more);
		uint32_t max = 1;

		while (h.n > LINES - 3 - keep - y && !ct_lat_coarsen(&h))
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
		for (unsigned i = 0; i < h.n && y < LINES - 1 - keep; i++, y++) {
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
	/* pids and their command lines: those that fit, from detail_top (the
	 * selection keys scroll them) */
	if (y < LINES - 2) {
		const uint32_t *pids = ct_row_pids(r);
		size_t n = pids ? r->npids : 0, room = (size_t)(LINES - 1 - (y + 2)), top;
		int len;

		top = n > room ? n - room : 0;
		if (v->s->detail_top < top)
			top = v->s->detail_top;
		v->detail_room = room;
		len = snprintf(buf, sizeof(buf), "pids (%u%s):", r->npids,
			       r->npids >= CT_MAX_PIDS ? "+" : "");
		if (n > room && room)
			snprintf(buf + len, sizeof(buf) - (size_t)len,
				 "  %zu-%zu shown, Up/Down PgUp/PgDn scroll", top + 1, top + room);
		mvaddnstr(++y, 1, buf, COLS - 2);
		y++;
		for (size_t i = top; i < n && y < LINES - 1; i++, y++) {
			snprintf(buf, sizeof(buf), "%7u %-12s ", pids[i],
				 names_cgroup(v->res, pids[i], r->key.comm));
			mvaddnstr(y, 1, buf, COLS - 2);
			put_field(names_cmdline(v->res, pids[i], r->key.comm),
				  COLS - getcurx(stdscr) - 1, 0);
		}
	}
}

/* the sort menu: a box over the table, its background and a margin of
 * one column each side cleared so that the rows do not show through */
static void draw_sort_menu(struct draw_ctx *v)
{
	int h = SORT_MAX + 3, w = 20, y0 = 4, x0 = 2;
	const char *vline = v->utf8 ? "\u2502" : "|";

	for (int i = 0; i < h && y0 + i < LINES - 1; i++) {
		int y = y0 + i, last = i == h - 1;

		attrset(A_NORMAL);
		mvaddch(y, x0 - 1, ' ');
		mvaddch(y, x0 + w + 2, ' ');
		move(y, x0);
		if (i == 0 || last) {
			addstr(v->utf8 ? (i ? "\u2514" : "\u250c") : "+");
			for (int x = 0; x < w; x++)
				addstr(v->utf8 ? "\u2500" : "-");
			addstr(v->utf8 ? (i ? "\u2518" : "\u2510") : "+");
			if (i == 0) {
				attrset(attr_of(v, P_HEADER));
				mvaddstr(y, x0 + 2, " sort by ");
			}
			continue;
		}
		addstr(vline);
		attrset(i - 1 == v->s->sort_menu_sel ? attr_of(v, P_SELECT) : A_NORMAL);
		addch(' ');
		put_field(i <= SORT_MAX ? ct_sort_names[i - 1] : "Enter/Esc", w - 1, 0);
		attrset(A_NORMAL);
		addstr(vline);
	}
	attrset(A_NORMAL);
}

void draw_screen(struct draw_ctx *v)
{
	erase();
	if (too_small()) {
		char msg[80];

		mvaddnstr(0, 0, "terminal too small", COLS);
		snprintf(msg, sizeof(msg), "%dx%d, need %dx%d", COLS, LINES, MIN_COLS, MIN_LINES);
		mvaddnstr(1, 0, msg, COLS);
		refresh();
		return;
	}
	switch (v->s->mode) {
	case UI_HELP:
		draw_help(v);
		break;
	case UI_DETAILS:
		draw_details(v);
		break;
	default:
		draw_header(v);
		draw_table(v);
		if (v->s->mode == UI_SORTMENU)
			draw_sort_menu(v);
		draw_bottom(v);
	}
	refresh();
}
