// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The key table and its actions (keys.h). Curses only for its key codes
 * and for reading keys.
 */
#include "keys.h"

#include <curses.h>
#include <string.h>

#include "util.h"

/* the actions share one signature; most use part of it */
#define UNUSED __attribute__((unused))

/* the actions: one a key's job, on the state alone */
static unsigned act_quit(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg UNUSED)
{
	return ui_state_quit(s);
}

static unsigned act_help(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg UNUSED)
{
	return ui_state_help_open(s);
}

static unsigned act_next_view(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg UNUSED)
{
	return ui_state_next_group(s);
}

static unsigned act_view(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg)
{
	return ui_state_set_group(s, (enum ct_group)arg);
}

static unsigned act_sort_step(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg)
{
	return ui_state_sort_step(s, arg);
}

static unsigned act_sort_menu(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg UNUSED)
{
	return ui_state_sort_menu_open(s);
}

static unsigned act_reverse(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg UNUSED)
{
	return ui_state_reverse(s);
}

static unsigned act_sort(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg)
{
	return ui_state_set_sort(s, (enum ct_sort)arg);
}

static unsigned act_filter(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg UNUSED)
{
	return ui_state_filter_open(s);
}

static unsigned act_freeze(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg UNUSED)
{
	return ui_state_freeze(s);
}

static unsigned act_export(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg UNUSED)
{
	return ui_state_export(s);
}

static size_t nrows(const struct keys_ctx *k)
{
	return k->rows ? k->rows->n : 0;
}

static unsigned act_up(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg UNUSED)
{
	return ui_state_select_up(s);
}

static unsigned act_down(struct ui_state *s, const struct keys_ctx *k, int arg UNUSED)
{
	return ui_state_select_down(s, nrows(k));
}

static unsigned act_page_up(struct ui_state *s, const struct keys_ctx *k, int arg UNUSED)
{
	return ui_state_select_page_up(s, k->page);
}

static unsigned act_page_down(struct ui_state *s, const struct keys_ctx *k, int arg UNUSED)
{
	return ui_state_select_page_down(s, nrows(k), k->page);
}

static unsigned act_home(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg UNUSED)
{
	return ui_state_select_home(s);
}

static unsigned act_end(struct ui_state *s, const struct keys_ctx *k, int arg UNUSED)
{
	return ui_state_select_end(s, nrows(k));
}

static unsigned act_details(struct ui_state *s, const struct keys_ctx *k, int arg UNUSED)
{
	return ui_state_details_open(s, k->rows);
}

static unsigned act_esc(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg UNUSED)
{
	return ui_state_filter_clear(s);
}

static unsigned act_names(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg UNUSED)
{
	return ui_state_names(s);
}

static unsigned act_clear(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg UNUSED)
{
	return ui_state_clear(s);
}

static unsigned act_baseline(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg UNUSED)
{
	return ui_state_baseline(s);
}

static unsigned act_baseline_clear(struct ui_state *s, const struct keys_ctx *k UNUSED,
				   int arg UNUSED)
{
	return ui_state_baseline_clear(s);
}

static unsigned act_cgroup(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg UNUSED)
{
	return ui_state_cgroup_column(s);
}

static unsigned act_delay(struct ui_state *s, const struct keys_ctx *k UNUSED, int arg)
{
	return ui_state_change_delay(s, arg);
}

static unsigned act_delay_prompt(struct ui_state *s, const struct keys_ctx *k UNUSED,
				 int arg UNUSED)
{
	return ui_state_delay_open(s);
}

/* arg: the binding's, for the actions that several keys share */
typedef unsigned (*key_action)(struct ui_state *s, const struct keys_ctx *k, int arg);

/* the keys that act in the details pane too */
#define K_DETAILS 1

/* every binding, in the order the help screen lists them; a binding with
 * a name starts a help line that names the keys after it too */
static const struct binding {
	int key;
	const char *name;
	key_action act;
	const char *help;
	unsigned flags;
	int arg; /* the action's */
} bindings[] = {
	{ 'q', "q F10 ^C", act_quit, "quit", K_DETAILS },
	{ KEY_F(10), NULL, act_quit, NULL, K_DETAILS },
	{ 'h', "h ? F1", act_help, "this help" },
	{ '?', NULL, act_help, NULL },
	{ KEY_F(1), NULL, act_help, NULL },
	{ '\t', "Tab", act_next_view, "next view: flow, process, destination, port" },
	{ '1', "1 2 3 4", act_view, "view by flow, process, destination, port", 0, GROUP_FLOW },
	{ '2', NULL, act_view, NULL, 0, GROUP_PROCESS },
	{ '3', NULL, act_view, NULL, 0, GROUP_DEST },
	{ '4', NULL, act_view, NULL, 0, GROUP_PORT },
	{ '<', "< >", act_sort_step, "sort by the column to the left / right", 0, -1 },
	{ '>', NULL, act_sort_step, NULL, 0, 1 },
	{ 's', "s F6", act_sort_menu, "choose the sort column" },
	{ KEY_F(6), NULL, act_sort_menu, NULL },
	{ 'r', "r I", act_reverse, "reverse the sort order" },
	{ 'I', NULL, act_reverse, NULL },
	{ 'P', "P", act_sort, "sort by process name", 0, SORT_COMM },
	{ 'D', "D", act_sort, "sort by destination", 0, SORT_DADDR },
	{ 'R', "R", act_sort, "sort by rate", 0, SORT_RATE },
	{ 'F', "F", act_sort, "sort by failures", 0, SORT_FAIL },
	{ 'T', "T", act_sort, "sort by total connects", 0, SORT_COUNT },
	{ 'L', "L", act_sort, "sort by latency (p99)", 0, SORT_LAT },
	{ '/', "/ \\ F4", act_filter,
	  "filter: text port:N proto:udp net:CIDR pid:N uid:N cgroup:T err:ENAME fail timeout pending !t" },
	{ '\\', NULL, act_filter, NULL },
	{ KEY_F(4), NULL, act_filter, NULL },
	{ ' ', "Space Z", act_freeze, "freeze / unfreeze the display (capture goes on)",
	  K_DETAILS },
	{ 'Z', NULL, act_freeze, NULL, K_DETAILS },
	{ 'e', "e", act_export, "export the rows shown to JSON and CSV files", K_DETAILS },
	{ KEY_UP, "Up Down j k", act_up, "move the selection; in the details, scroll the pids" },
	{ 'k', NULL, act_up, NULL },
	{ KEY_DOWN, NULL, act_down, NULL },
	{ 'j', NULL, act_down, NULL },
	{ KEY_PPAGE, "PgUp PgDn", act_page_up, "page up / down" },
	{ KEY_NPAGE, NULL, act_page_down, NULL },
	{ KEY_HOME, "Home End g G", act_home, "first / last row" },
	{ 'g', NULL, act_home, NULL },
	{ KEY_END, NULL, act_end, NULL },
	{ 'G', NULL, act_end, NULL },
	{ '\n', "Enter", act_details, "details of the selected row" },
	{ KEY_ENTER, NULL, act_details, NULL },
	{ 27, "Esc", act_esc, "close the pane; clear the filter" },
	{ 'n', "n", act_names, "names: reverse DNS and services on/off" },
	{ 'c', "c", act_clear, "clear all counters" },
	{ 'b', "b B", act_baseline,
	  "mark a baseline (the frozen snapshot if frozen): CHANGE column; B clears it" },
	{ 'B', NULL, act_baseline_clear, NULL },
	{ 'C', "C", act_cgroup, "show / hide the cgroup (unit, container) column" },
	{ '+', "+ -", act_delay, "longer / shorter refresh interval", 0, 1 },
	{ '-', NULL, act_delay, NULL, 0, -1 },
	{ 'd', "d", act_delay_prompt, "type a refresh interval in seconds (0.1 to 3600)" },
};

int keys_help(size_t i, const char **names, const char **help)
{
	for (size_t b = 0; b < ARRAY_SIZE(bindings); b++)
		if (bindings[b].name && !i--) {
			*names = bindings[b].name;
			*help = bindings[b].help;
			return 1;
		}
	return 0;
}

static const struct binding *lookup_key(int ch)
{
	if (ch == '\r')
		ch = '\n';
	for (size_t i = 0; i < ARRAY_SIZE(bindings); i++)
		if (bindings[i].key == ch)
			return &bindings[i];
	return NULL;
}

/* the details pane: the selection keys scroll its pids */
static void details_scroll_key(struct ui_state *s, const struct keys_ctx *k, key_action act)
{
	const struct ct_row *r = NULL;
	long page = s->detail_room > 1 ? (long)s->detail_room - 1 : 1;
	size_t n;

	for (size_t i = 0; k->rows && i < k->rows->n && !r; i++)
		if (!memcmp(&k->rows->rows[i]->key, &s->detail_key, sizeof(s->detail_key)))
			r = k->rows->rows[i];
	n = r ? r->npids : 0;
	if (act == act_up)
		ui_state_details_scroll(s, -1, n);
	else if (act == act_down)
		ui_state_details_scroll(s, 1, n);
	else if (act == act_page_up)
		ui_state_details_scroll(s, -page, n);
	else if (act == act_page_down)
		ui_state_details_scroll(s, page, n);
	else if (act == act_home)
		ui_state_details_scroll(s, -(long)n, n);
	else if (act == act_end)
		ui_state_details_scroll(s, (long)n, n);
}

/* the table, the help screen and the details pane */
static unsigned table_key(struct ui_state *s, const struct keys_ctx *k, int ch)
{
	const struct binding *b = lookup_key(ch);

	if (s->mode == UI_HELP) { /* any key returns; F10 quits */
		long page = s->help_room > 1 ? (long)s->help_room - 1 : 1,
		     all = (long)s->help_lines;

		/* ... but the selection keys scroll a help taller than the
		 * screen (80x24) */
		if (b &&
		    (b->act == act_up || b->act == act_down || b->act == act_page_up ||
		     b->act == act_page_down || b->act == act_home || b->act == act_end) &&
		    ui_state_help_scroll(s, b->act == act_up	    ? -1 :
					    b->act == act_down	    ? 1 :
					    b->act == act_page_up   ? -page :
					    b->act == act_page_down ? page :
					    b->act == act_home	    ? -all :
								      all))
			return 0;
		ui_state_close(s);
		return b && b->act == act_quit && ch != 'q' ? UI_QUIT : 0;
	}
	if (s->mode == UI_DETAILS && !(b && (b->flags & K_DETAILS))) {
		if ((b && (b->act == act_esc || b->act == act_details)) || ch == KEY_BACKSPACE)
			ui_state_close(s);
		else if (b)
			details_scroll_key(s, k, b->act);
		return 0;
	}
	return b ? b->act(s, k, b->arg) : 0;
}

static unsigned filter_key(struct ui_state *s, int ch)
{
	if (ch == 27) /* Esc: clear the filter */
		return ui_state_filter_cancel(s);
	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER)
		return ui_state_filter_enter(s);
	if (ch == KEY_BACKSPACE || ch == 127 || ch == 8)
		return ui_state_filter_erase(s);
	if (ch == 21) /* ^U */
		return ui_state_filter_kill(s);
	if (ch >= 32 && ch < 127)
		return ui_state_filter_type(s, (char)ch);
	return 0;
}

static unsigned sort_menu_key(struct ui_state *s, int ch)
{
	if (ch == KEY_UP || ch == 'k')
		return ui_state_sort_menu_move(s, -1);
	if (ch == KEY_DOWN || ch == 'j')
		return ui_state_sort_menu_move(s, 1);
	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER)
		return ui_state_sort_menu_choose(s);
	if (ch == 27 || ch == 'q')
		return ui_state_close(s);
	return 0;
}

static unsigned delay_key(struct ui_state *s, int ch)
{
	if (ch == 27)
		return ui_state_delay_cancel(s);
	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER)
		return ui_state_delay_enter(s);
	if (ch == KEY_BACKSPACE || ch == 127 || ch == 8)
		return ui_state_delay_erase(s);
	if (ch >= 32 && ch < 127)
		return ui_state_delay_type(s, (char)ch);
	return 0;
}

unsigned keys_handle(struct ui_state *s, const struct keys_ctx *k, int ch)
{
	/* the one place: the redraw after the keys uses the new LINES/COLS */
	if (ch == KEY_RESIZE)
		return 0;
	if (s->mode == UI_FILTER)
		return filter_key(s, ch);
	if (s->mode == UI_SORTMENU)
		return sort_menu_key(s, ch);
	if (s->mode == UI_DELAY)
		return delay_key(s, ch);
	return table_key(s, k, ch);
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

int keys_read(void)
{
	int ch = getch();

	if (ch == ERR)
		return KEYS_NONE;
	return ch == 27 ? escape_sequence() : ch;
}
