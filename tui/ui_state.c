// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The screen's state changes (ui_state.h): no curses, no clock but the
 * status line's seconds.
 */
#include "ui_state.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "util.h"

#define STATUS_SECS 5

static const double delays[] = { UI_DELAY_MIN, 0.2, 0.5, 1, 2, 3, 5, 10, 30, UI_DELAY_MAX };

int ui_state_init(struct ui_state *s, const struct ui_config *c, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->group = c->group;
	s->sort = c->sort;
	s->reverse = c->reverse;
	s->delay = c->delay;
	s->replay = c->replay;
	s->names = c->names;
	s->cgroup_fn = c->cgroup_fn;
	s->cgroup_ctx = c->cgroup_ctx;
	s->change_fn = c->change_fn;
	s->change_ctx = c->change_ctx;
	s->filter_text = strdup(c->filter_expr ? c->filter_expr : "");
	s->filter_edit = strdup("");
	if (!s->filter_text || !s->filter_edit) {
		snprintf(err, errlen, "out of memory");
		free(s->filter_text);
		free(s->filter_edit);
		memset(s, 0, sizeof(*s));
		return -ENOMEM;
	}
	if (c->filter_expr) {
		s->filter = filter_new(s->filter_text, err, errlen);
		filter_set_cgroup_fn(s->filter, s->cgroup_fn, s->cgroup_ctx);
		filter_set_change_fn(s->filter, s->change_fn, s->change_ctx);
	}
	return 0;
}

void ui_state_free(struct ui_state *s)
{
	if (!s)
		return;
	filter_free(s->filter);
	free(s->filter_text);
	free(s->filter_edit);
	s->filter = NULL;
	s->filter_text = s->filter_edit = NULL;
}

void ui_state_status(struct ui_state *s, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->status, sizeof(s->status), fmt, ap);
	va_end(ap);
	s->status_err = err;
	s->status_until = time(NULL) + STATUS_SECS;
}

unsigned ui_state_set_sort(struct ui_state *s, enum ct_sort sort)
{
	if (s->sort == sort) {
		s->reverse ^= 1;
	} else {
		s->sort = sort;
		s->reverse = 0;
	}
	return UI_REBUILD;
}

/* < and >: walk the sortable columns shown in this view */
unsigned ui_state_sort_step(struct ui_state *s, int dir)
{
	enum ct_sort order[C_END];
	int n = columns_sorts(s->group, order), cur = -1;

	for (int i = 0; i < n; i++)
		if (order[i] == s->sort)
			cur = i;
	if (!n)
		return 0;
	cur = cur < 0 ? 0 : (cur + dir + n) % n;
	s->sort = order[cur];
	s->reverse = 0;
	return UI_REBUILD;
}

unsigned ui_state_reverse(struct ui_state *s)
{
	s->reverse ^= 1;
	return UI_REBUILD;
}

unsigned ui_state_set_group(struct ui_state *s, enum ct_group g)
{
	s->group = g;
	s->sel = s->top = 0;
	s->sel_reset = 1;
	return UI_REBUILD;
}

unsigned ui_state_next_group(struct ui_state *s)
{
	return ui_state_set_group(s, (s->group + 1) % GROUP_MAX);
}

unsigned ui_state_filter_apply(struct ui_state *s, const char *text)
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
		snprintf(s->filter_error, sizeof(s->filter_error), "%s", err);
		ui_state_status(s, 1, "filter: %s", err);
		return 0;
	}
	s->filter_error[0] = 0;
	filter_free(s->filter);
	filter_set_cgroup_fn(f, s->cgroup_fn, s->cgroup_ctx);
	filter_set_change_fn(f, s->change_fn, s->change_ctx);
	s->filter = f;
	free(s->filter_text);
	s->filter_text = copy;
	s->status[0] = 0;
	s->sel = s->top = 0;
	s->sel_reset = 1;
	return UI_REBUILD;
}

unsigned ui_state_filter_open(struct ui_state *s)
{
	char *e = strdup(s->filter_text);

	if (!e) {
		ui_state_status(s, 1, "out of memory");
		return 0;
	}
	free(s->filter_edit);
	s->filter_edit = e;
	s->mode = UI_FILTER;
	return 0;
}

/* c appended to a prompt's text in a buffer of size bytes, if it fits */
static void edit_type(char *buf, size_t size, char c)
{
	size_t n = strlen(buf);

	if (n + 1 < size) {
		buf[n] = c;
		buf[n + 1] = 0;
	}
}

/* the last character of a prompt's text taken away */
static void edit_erase(char *buf)
{
	size_t n = strlen(buf);

	if (n)
		buf[n - 1] = 0;
}

unsigned ui_state_filter_type(struct ui_state *s, char c)
{
	size_t n = strlen(s->filter_edit);
	char *e = realloc(s->filter_edit, n + 2);

	if (!e)
		return 0;
	s->filter_edit = e;
	s->filter_edit[n] = c;
	s->filter_edit[n + 1] = 0;
	return ui_state_filter_apply(s, s->filter_edit);
}

unsigned ui_state_filter_erase(struct ui_state *s)
{
	edit_erase(s->filter_edit);
	return ui_state_filter_apply(s, s->filter_edit);
}

unsigned ui_state_filter_kill(struct ui_state *s)
{
	s->filter_edit[0] = 0;
	return ui_state_filter_apply(s, "");
}

unsigned ui_state_filter_cancel(struct ui_state *s)
{
	unsigned r = ui_state_filter_kill(s);

	s->mode = UI_TABLE;
	ui_state_status(s, 0, "filter cleared");
	return r;
}

unsigned ui_state_filter_enter(struct ui_state *s)
{
	/* an invalid filter is not silently replaced by the last valid
	 * prefix: the prompt stays open with the error until fixed */
	if (!s->filter_error[0])
		s->mode = UI_TABLE;
	return 0;
}

unsigned ui_state_filter_clear(struct ui_state *s)
{
	unsigned r;

	if (!s->filter_text[0])
		return 0;
	r = ui_state_filter_apply(s, "");
	ui_state_status(s, 0, "filter cleared");
	return r;
}

unsigned ui_state_freeze(struct ui_state *s)
{
	s->frozen = !s->frozen;
	ui_state_status(s, 0,
			s->frozen ?
				(s->replay ? "paused: the replay clock holds still" :
					     "frozen: the display holds still, capture goes on") :
				(s->replay ? "replaying" : "live"));
	/* unfreezing jumps to live */
	return s->frozen ? 0 : UI_SNAPSHOT;
}

unsigned ui_state_select_up(struct ui_state *s)
{
	s->sel_reset = 0; /* on a row again */
	if (s->sel)
		s->sel--;
	return 0;
}

unsigned ui_state_select_down(struct ui_state *s, size_t nrows)
{
	s->sel_reset = 0; /* on a row again */
	if (s->sel + 1 < nrows)
		s->sel++;
	return 0;
}

unsigned ui_state_select_page_up(struct ui_state *s, size_t page)
{
	s->sel_reset = 0; /* on a row again */
	s->sel = s->sel > page ? s->sel - page : 0;
	return 0;
}

unsigned ui_state_select_page_down(struct ui_state *s, size_t nrows, size_t page)
{
	s->sel_reset = 0; /* on a row again */
	if (nrows)
		s->sel = s->sel + page < nrows ? s->sel + page : nrows - 1;
	return 0;
}

unsigned ui_state_select_home(struct ui_state *s)
{
	s->sel = 0;
	s->sel_reset = 0;
	return 0;
}

/* the rows past those put in order must be ordered to show the last */
unsigned ui_state_select_end(struct ui_state *s, size_t nrows)
{
	if (nrows)
		s->sel = nrows - 1;
	s->sel_reset = 0;
	return UI_REBUILD;
}

void ui_state_select_clamp(struct ui_state *s, size_t nrows)
{
	if (s->sel >= nrows)
		s->sel = nrows ? nrows - 1 : 0;
}

void ui_state_select_remember(struct ui_state *s, const struct ct_rows *rows)
{
	/* a row past those in order is at no place of its own yet */
	s->sel_keyed = !s->sel_reset && rows && s->sel < rows->sorted && s->sel < rows->n;
	if (s->sel_keyed)
		s->sel_key = rows->rows[s->sel]->key;
	s->sel_reset = 0;
}

void ui_state_select_find(struct ui_state *s, const struct ct_rows *rows)
{
	size_t n = rows ? rows->n : 0;

	for (size_t i = 0; s->sel_keyed && i < rows->sorted && i < n; i++)
		if (!memcmp(&rows->rows[i]->key, &s->sel_key, sizeof(s->sel_key))) {
			s->sel = i;
			return;
		}
	ui_state_select_clamp(s, n);
}

void ui_state_scroll(struct ui_state *s, size_t height)
{
	if (s->sel < s->top)
		s->top = s->sel;
	if (height > 0 && s->sel >= s->top + height)
		s->top = s->sel - height + 1;
}

unsigned ui_state_change_delay(struct ui_state *s, int dir)
{
	double d = s->delay;
	size_t i = 0;

	/* from -d's value, which need not be one of the steps */
	while (i + 1 < ARRAY_SIZE(delays) && delays[i] < d - 1e-9)
		i++;
	if (dir > 0 && delays[i] <= d + 1e-9 && i + 1 < ARRAY_SIZE(delays))
		i++;
	else if (dir < 0 && i > 0)
		i--;
	s->delay = delays[i];
	s->delay_changed = 1;
	ui_state_status(s, 0, "refresh every %g s", delays[i]);
	return 0;
}

unsigned ui_state_delay_open(struct ui_state *s)
{
	s->delay_edit[0] = 0;
	s->mode = UI_DELAY;
	return 0;
}

unsigned ui_state_delay_type(struct ui_state *s, char c)
{
	edit_type(s->delay_edit, sizeof(s->delay_edit), c);
	return 0;
}

unsigned ui_state_delay_erase(struct ui_state *s)
{
	edit_erase(s->delay_edit);
	return 0;
}

unsigned ui_state_delay_enter(struct ui_state *s)
{
	double d;

	if (ct_parse_double(s->delay_edit, UI_DELAY_LO, UI_DELAY_HI, &d)) {
		ui_state_status(s, 1, "refresh interval '%s': a number of seconds from %g to %g",
				s->delay_edit, UI_DELAY_LO, UI_DELAY_HI);
		return 0;
	}
	s->delay = d;
	s->delay_changed = 1;
	s->mode = UI_TABLE;
	ui_state_status(s, 0, "refresh every %g s", d);
	return 0;
}

unsigned ui_state_goto_open(struct ui_state *s)
{
	s->goto_edit[0] = 0;
	s->mode = UI_GOTO;
	return 0;
}

unsigned ui_state_goto_type(struct ui_state *s, char c)
{
	edit_type(s->goto_edit, sizeof(s->goto_edit), c);
	return 0;
}

unsigned ui_state_goto_erase(struct ui_state *s)
{
	edit_erase(s->goto_edit);
	return 0;
}

unsigned ui_state_goto_enter(struct ui_state *s)
{
	s->mode = UI_TABLE;
	return s->goto_edit[0] ? UI_SEEK : 0;
}

unsigned ui_state_goto_cancel(struct ui_state *s)
{
	s->mode = UI_TABLE;
	return 0;
}

unsigned ui_state_delay_cancel(struct ui_state *s)
{
	s->mode = UI_TABLE;
	ui_state_status(s, 0, "refresh interval unchanged (%g s)", s->delay);
	return 0;
}

int ui_state_delay_changed(struct ui_state *s)
{
	int c = s->delay_changed;

	s->delay_changed = 0;
	return c;
}

unsigned ui_state_clear(struct ui_state *s)
{
	ui_state_status(s, 0, "counters cleared");
	return UI_CLEAR;
}

unsigned ui_state_baseline(struct ui_state *s)
{
	s->baseline = 1;
	return UI_BASELINE;
}

unsigned ui_state_baseline_clear(struct ui_state *s)
{
	if (!s->baseline) {
		ui_state_status(s, 0, "no baseline to clear (b marks one)");
		return 0;
	}
	s->baseline = 0;
	ui_state_status(s, 0, "baseline cleared");
	return UI_BASELINE_CLEAR;
}

unsigned ui_state_names(struct ui_state *s)
{
	s->names = !s->names;
	ui_state_status(s, 0, s->names ? "names on (looked up in the background)" : "names off");
	return 0;
}

unsigned ui_state_cgroup_column(struct ui_state *s)
{
	s->show_cgroup = !s->show_cgroup;
	return 0;
}

unsigned ui_state_export(struct ui_state *s)
{
	(void)s;
	return UI_EXPORT;
}

unsigned ui_state_quit(struct ui_state *s)
{
	(void)s;
	return UI_QUIT;
}

unsigned ui_state_details_open(struct ui_state *s, const struct ct_rows *rows)
{
	if (rows && s->sel < rows->n) {
		s->detail_key = rows->rows[s->sel]->key;
		s->detail_top = 0;
		s->mode = UI_DETAILS;
	}
	return 0;
}

unsigned ui_state_details_scroll(struct ui_state *s, long delta, size_t n)
{
	/* the last pid at the bottom of the room the pane has for them */
	size_t last = n > s->detail_room ? n - s->detail_room : 0;

	if (s->detail_top > last) /* the room grew */
		s->detail_top = last;
	if (delta < 0)
		s->detail_top = (size_t)-delta < s->detail_top ? s->detail_top - (size_t)-delta : 0;
	else if ((size_t)delta < last - s->detail_top)
		s->detail_top += (size_t)delta;
	else
		s->detail_top = last;
	return 0;
}

unsigned ui_state_help_open(struct ui_state *s)
{
	s->mode = UI_HELP;
	s->help_top = 0;
	return 0;
}

int ui_state_help_scroll(struct ui_state *s, long delta)
{
	size_t last = s->help_lines > s->help_room ? s->help_lines - s->help_room : 0;

	if (!last)
		return 0;
	if (s->help_top > last)
		s->help_top = last;
	if (delta < 0)
		s->help_top = (size_t)-delta < s->help_top ? s->help_top - (size_t)-delta : 0;
	else if ((size_t)delta < last - s->help_top)
		s->help_top += (size_t)delta;
	else
		s->help_top = last;
	return 1;
}

unsigned ui_state_close(struct ui_state *s)
{
	s->mode = UI_TABLE;
	return 0;
}

unsigned ui_state_sort_menu_open(struct ui_state *s)
{
	s->sort_menu_sel = s->sort;
	s->mode = UI_SORTMENU;
	return 0;
}

unsigned ui_state_sort_menu_move(struct ui_state *s, int dir)
{
	s->sort_menu_sel = (s->sort_menu_sel + SORT_MAX + dir) % SORT_MAX;
	return 0;
}

unsigned ui_state_sort_menu_choose(struct ui_state *s)
{
	s->sort = s->sort_menu_sel;
	s->reverse = 0;
	s->mode = UI_TABLE;
	return UI_REBUILD;
}
