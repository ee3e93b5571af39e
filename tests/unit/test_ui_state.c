// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ui_state.c: every change of the screen's state, without a terminal:
 * sort and its direction, grouping, filter (and a bad one), freeze, the
 * selection at its edges, the refresh interval at its limits, the panes
 * and the sort menu, and what each asks its caller to do.
 */
#include <string.h>

#include "check.h"
#include "columns.h"
#include "filter.h"
#include "ui_state.h"

static struct ui_state st;
static int cgroup_ctx;

static const char *no_cgroup(void *ctx, unsigned pid, const char *comm)
{
	(void)ctx;
	(void)pid;
	(void)comm;
	return "";
}

static void start(const char *filter)
{
	struct ui_config c = {
		.group = GROUP_FLOW,
		.sort = SORT_RATE,
		.delay = 1,
		.filter_expr = filter,
		.cgroup_fn = no_cgroup,
		.cgroup_ctx = &cgroup_ctx,
	};
	char err[200] = "";

	ui_state_free(&st);
	CHECK_I(nm("init[%s]", filter ? filter : "none"), 0,
		ui_state_init(&st, &c, err, sizeof(err)));
}

static void test_init(void)
{
	start(NULL);
	CHECK_S("init: no filter text", "", st.filter_text);
	ck(st.filter == NULL, "init: no filter", "expected NULL");
	CHECK_I("init: table", UI_TABLE, st.mode);
	CHECK_I("init: sort", SORT_RATE, st.sort);
	CHECK_D("init: delay", 1, st.delay, 0);
	CHECK_I("init: delay not changed", 0, ui_state_delay_changed(&st));
	start("port:443");
	CHECK_S("init -f: filter text", "port:443", st.filter_text);
	ck(st.filter != NULL, "init -f: filter made", "expected a filter");
}

static void test_sort(void)
{
	start(NULL);
	CHECK_I("set_sort: new column derives", UI_REBUILD, ui_state_set_sort(&st, SORT_COUNT));
	CHECK_I("set_sort: column", SORT_COUNT, st.sort);
	CHECK_I("set_sort: natural order", 0, st.reverse);
	ui_state_set_sort(&st, SORT_COUNT);
	CHECK_I("set_sort twice: reversed", 1, st.reverse);
	ui_state_set_sort(&st, SORT_COUNT);
	CHECK_I("set_sort three times: natural again", 0, st.reverse);
	ui_state_set_sort(&st, SORT_COUNT);
	ui_state_set_sort(&st, SORT_FAIL);
	CHECK_I("set_sort: another column starts natural", 0, st.reverse);
	CHECK_I("reverse: derives", UI_REBUILD, ui_state_reverse(&st));
	CHECK_I("reverse: on", 1, st.reverse);
	ui_state_reverse(&st);
	CHECK_I("reverse twice: off", 0, st.reverse);
}

/* < and > walk the sortable columns of the grouping shown, round */
static void test_sort_step(void)
{
	enum ct_sort order[C_END];
	int n;

	start(NULL);
	n = columns_sorts(GROUP_FLOW, order);
	CHECK_I("sorts of the flow grouping", 11, n);
	CHECK_I("flow sorts start with comm", SORT_COMM, order[0]);
	CHECK_I("flow sorts: synrt before last", SORT_SYNRT, order[n - 2]);
	CHECK_I("flow sorts end with last", SORT_LAST, order[n - 1]);
	st.reverse = 1;
	CHECK_I("sort_step: derives", UI_REBUILD, ui_state_sort_step(&st, 1));
	CHECK_I("sort_step right of rate: count", SORT_COUNT, st.sort);
	CHECK_I("sort_step: natural order", 0, st.reverse);
	ui_state_sort_step(&st, -1);
	ui_state_sort_step(&st, -1);
	CHECK_I("sort_step left twice: proto", SORT_PROTO, st.sort);
	ui_state_set_sort(&st, SORT_COMM);
	ui_state_sort_step(&st, -1);
	CHECK_I("sort_step left of the first: the last", SORT_LAST, st.sort);
	ui_state_sort_step(&st, 1);
	CHECK_I("sort_step right of the last: the first", SORT_COMM, st.sort);
	/* a sort no column of the grouping selects: the first column */
	ui_state_set_group(&st, GROUP_PORT);
	st.sort = SORT_COMM;
	ui_state_sort_step(&st, 1);
	CHECK_I("sort_step from a sort not shown: the first column", SORT_DPORT, st.sort);
}

static void test_group(void)
{
	start(NULL);
	st.sel = 5;
	st.top = 3;
	CHECK_I("set_group: derives", UI_REBUILD, ui_state_set_group(&st, GROUP_DEST));
	CHECK_I("set_group: grouping", GROUP_DEST, st.group);
	CHECK_I("set_group: first row", 0, st.sel);
	CHECK_I("set_group: top", 0, st.top);
	ui_state_next_group(&st);
	CHECK_I("next_group: port", GROUP_PORT, st.group);
	ui_state_next_group(&st);
	CHECK_I("next_group after the last: flow", GROUP_FLOW, st.group);
}

static void test_filter(void)
{
	struct ct_filter *before;

	start(NULL);
	st.sel = 4;
	CHECK_I("filter_apply: derives", UI_REBUILD, ui_state_filter_apply(&st, "port:443"));
	CHECK_S("filter_apply: text", "port:443", st.filter_text);
	CHECK_S("filter_apply: no error", "", st.filter_error);
	CHECK_I("filter_apply: first row", 0, st.sel);
	before = st.filter;
	st.sel = 2;
	/* bad text keeps the filter in force and says why */
	CHECK_I("bad filter: nothing to derive", 0, ui_state_filter_apply(&st, "port:99999"));
	ck(st.filter == before, "bad filter: the old filter stays", "the filter was replaced");
	CHECK_S("bad filter: the old text stays", "port:443", st.filter_text);
	ck_contains("bad filter: error names the term", st.filter_error, "port:99999");
	ck_contains("bad filter: status says it", st.status, "filter: ");
	CHECK_I("bad filter: status is an alert", 1, st.status_err);
	CHECK_I("bad filter: selection stays", 2, st.sel);
	ui_state_filter_apply(&st, "curl");
	CHECK_S("good filter after a bad one: error gone", "", st.filter_error);
	CHECK_S("good filter: status cleared", "", st.status);
	/* Esc on the table */
	CHECK_I("filter_clear: derives", UI_REBUILD, ui_state_filter_clear(&st));
	CHECK_S("filter_clear: no text", "", st.filter_text);
	CHECK_S("filter_clear: status", "filter cleared", st.status);
	CHECK_I("filter_clear without a filter: nothing", 0, ui_state_filter_clear(&st));
}

/* the prompt: each edit applies at once; Enter keeps a bad text open */
static void test_filter_prompt(void)
{
	start("curl");
	ui_state_filter_open(&st);
	CHECK_I("filter_open: prompt", UI_FILTER, st.mode);
	CHECK_S("filter_open: starts from the filter in force", "curl", st.filter_edit);
	CHECK_I("filter_type: derives", UI_REBUILD, ui_state_filter_type(&st, 'x'));
	CHECK_S("filter_type: edit", "curlx", st.filter_edit);
	CHECK_S("filter_type: applied", "curlx", st.filter_text);
	ui_state_filter_kill(&st);
	CHECK_S("filter_kill: edit empty", "", st.filter_edit);
	CHECK_S("filter_kill: no filter", "", st.filter_text);
	for (const char *p = "port:"; *p; p++)
		ui_state_filter_type(&st, *p);
	CHECK_S("typing a bad term: the last good text stays", "port", st.filter_text);
	ck(st.filter_error[0] != 0, "typing a bad term: an error", "no error");
	ui_state_filter_enter(&st);
	CHECK_I("Enter on a bad filter: prompt stays", UI_FILTER, st.mode);
	ui_state_filter_type(&st, '8');
	CHECK_S("fixed: applied", "port:8", st.filter_text);
	ui_state_filter_erase(&st);
	CHECK_S("filter_erase: edit", "port:", st.filter_edit);
	CHECK_S("filter_erase to a bad text: filter stays", "port:8", st.filter_text);
	ui_state_filter_erase(&st);
	CHECK_S("filter_erase: good again", "port", st.filter_text);
	ui_state_filter_enter(&st);
	CHECK_I("Enter on a good filter: closes", UI_TABLE, st.mode);
	ui_state_filter_open(&st);
	ui_state_filter_cancel(&st);
	CHECK_I("filter_cancel: closes", UI_TABLE, st.mode);
	CHECK_S("filter_cancel: no filter", "", st.filter_text);
	CHECK_S("filter_cancel: status", "filter cleared", st.status);
	/* Backspace on an empty prompt */
	ui_state_filter_open(&st);
	CHECK_I("filter_erase on empty: derives", UI_REBUILD, ui_state_filter_erase(&st));
	CHECK_S("filter_erase on empty: still empty", "", st.filter_edit);
}

static void test_freeze(void)
{
	start(NULL);
	CHECK_I("freeze: no new snapshot", 0, ui_state_freeze(&st));
	CHECK_I("freeze: frozen", 1, st.frozen);
	ck_contains("freeze: status", st.status, "frozen");
	CHECK_I("unfreeze: jumps to live", UI_SNAPSHOT, ui_state_freeze(&st));
	CHECK_I("unfreeze: live", 0, st.frozen);
	CHECK_S("unfreeze: status", "live", st.status);
}

static void test_selection(void)
{
	start(NULL);
	/* an empty table: the selection stays on row 0 */
	ui_state_select_down(&st, 0);
	CHECK_I("empty: down stays", 0, st.sel);
	ui_state_select_up(&st);
	CHECK_I("empty: up stays", 0, st.sel);
	ui_state_select_page_down(&st, 0, 10);
	CHECK_I("empty: page down stays", 0, st.sel);
	CHECK_I("empty: end derives", UI_REBUILD, ui_state_select_end(&st, 0));
	CHECK_I("empty: end stays", 0, st.sel);
	ui_state_select_clamp(&st, 0);
	CHECK_I("empty: clamp", 0, st.sel);
	/* 25 rows, pages of 10 */
	ui_state_select_down(&st, 25);
	ui_state_select_down(&st, 25);
	CHECK_I("down twice", 2, st.sel);
	ui_state_select_up(&st);
	CHECK_I("up", 1, st.sel);
	ui_state_select_page_down(&st, 25, 10);
	CHECK_I("page down", 11, st.sel);
	ui_state_select_page_down(&st, 25, 10);
	ui_state_select_page_down(&st, 25, 10);
	CHECK_I("page down past the end: the last row", 24, st.sel);
	ui_state_select_down(&st, 25);
	CHECK_I("down at the last row stays", 24, st.sel);
	ui_state_select_page_up(&st, 10);
	CHECK_I("page up", 14, st.sel);
	ui_state_select_page_up(&st, 10);
	ui_state_select_page_up(&st, 10);
	CHECK_I("page up past the top: the first row", 0, st.sel);
	ui_state_select_up(&st);
	CHECK_I("up at the first row stays", 0, st.sel);
	ui_state_select_end(&st, 25);
	CHECK_I("end", 24, st.sel);
	ui_state_select_home(&st);
	CHECK_I("home", 0, st.sel);
	/* the rows shrank under the selection */
	st.sel = 20;
	ui_state_select_clamp(&st, 7);
	CHECK_I("clamp to fewer rows", 6, st.sel);
	ui_state_select_clamp(&st, 7);
	CHECK_I("clamp inside: stays", 6, st.sel);
	/* scrolling keeps the selection on the screen */
	st.sel = 30;
	st.top = 0;
	ui_state_scroll(&st, 10);
	CHECK_I("scroll down to the selection", 21, st.top);
	st.sel = 5;
	ui_state_scroll(&st, 10);
	CHECK_I("scroll up to the selection", 5, st.top);
	st.sel = 9;
	ui_state_scroll(&st, 10);
	CHECK_I("selection on the screen: no scroll", 5, st.top);
	st.sel = 50;
	ui_state_scroll(&st, 0);
	CHECK_I("no room: no scroll", 5, st.top);
}

/* rows whose keys differ in the port, in the order given */
static void make_rows(struct ct_rows *r, const struct ct_row **ptrs, struct ct_row *rows,
		      const int *ports, size_t n)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		memset(&rows[i], 0, sizeof(rows[i]));
		rows[i].key.dport = (uint16_t)ports[i];
		ptrs[i] = &rows[i];
	}
	r->rows = ptrs;
	r->n = r->sorted = n;
}

/* the selection follows its row across refreshes, as htop's does */
static void test_selection_follows(void)
{
	static const int before[] = { 1, 2, 3, 4, 5 }, after[] = { 4, 1, 5, 3, 2 };
	const struct ct_row *pa[5], *pb[5];
	struct ct_row ra[5], rb[5];
	struct ct_rows a, b;

	start(NULL);
	make_rows(&a, pa, ra, before, 5);
	make_rows(&b, pb, rb, after, 5);
	st.sel = 2; /* port 3 */
	ui_state_select_remember(&st, &a);
	ui_state_select_find(&st, &b);
	CHECK_I("follows: the same row at its new place", 3, st.sel);
	/* gone: the selection stays among the rows */
	make_rows(&b, pb, rb, after, 2);
	st.sel = 2;
	ui_state_select_remember(&st, &a);
	ui_state_select_find(&st, &b);
	CHECK_I("row gone: kept on a row", 1, st.sel);
	/* a row past those in order has no place yet: the index stays */
	make_rows(&b, pb, rb, after, 5);
	a.sorted = 2;
	st.sel = 4;
	ui_state_select_remember(&st, &a);
	ui_state_select_find(&st, &b);
	CHECK_I("past the rows in order: the index", 4, st.sel);
	a.sorted = 5;
	/* found only among the rows in order */
	b.sorted = 1;
	st.sel = 4; /* port 5, at 2 in b but not in order there */
	ui_state_select_remember(&st, &a);
	ui_state_select_find(&st, &b);
	CHECK_I("not among the rows in order: the index", 4, st.sel);
	b.sorted = 5;
	/* Home and End go to a row, then follow it */
	st.sel = 3;
	ui_state_select_home(&st);
	ui_state_select_remember(&st, &a);
	ui_state_select_find(&st, &b);
	CHECK_I("home: the first row, followed", 1, st.sel);
	ui_state_select_end(&st, 5);
	ui_state_select_remember(&st, &a);
	ui_state_select_find(&st, &b);
	CHECK_I("end: the last row, followed", 2, st.sel);
	/* a new grouping or filter: the first row, whichever it is */
	st.sel = 1;
	ui_state_set_group(&st, GROUP_FLOW);
	ui_state_select_remember(&st, &a);
	ui_state_select_find(&st, &b);
	CHECK_I("grouping: the first row", 0, st.sel);
	st.sel = 1;
	ui_state_filter_apply(&st, "tcp");
	ui_state_select_remember(&st, &a);
	ui_state_select_find(&st, &b);
	CHECK_I("filter: the first row", 0, st.sel);
	/* and after that, the row followed again */
	ui_state_select_remember(&st, &a);
	ui_state_select_find(&st, &b);
	CHECK_I("then: followed again", 1, st.sel);
	/* a key that moves it after a new filter: on that row */
	ui_state_filter_apply(&st, "");
	ui_state_select_down(&st, 5); /* port 2 */
	ui_state_select_remember(&st, &a);
	ui_state_select_find(&st, &b);
	CHECK_I("filter, then down: that row followed", 4, st.sel);
}

static void test_delay(void)
{
	start(NULL);
	ui_state_change_delay(&st, 1);
	CHECK_D("slower from 1 s", 2, st.delay, 0);
	CHECK_I("changed: once", 1, ui_state_delay_changed(&st));
	CHECK_I("changed: read", 0, ui_state_delay_changed(&st));
	CHECK_S("status", "refresh every 2 s", st.status);
	ui_state_change_delay(&st, -1);
	ui_state_change_delay(&st, -1);
	CHECK_D("faster twice from 2 s", 0.5, st.delay, 0);
	for (int i = 0; i < 5; i++)
		ui_state_change_delay(&st, -1);
	CHECK_D("faster stops at the shortest", UI_DELAY_MIN, st.delay, 0);
	CHECK_I("at the shortest: still says changed", 1, ui_state_delay_changed(&st));
	for (int i = 0; i < 20; i++)
		ui_state_change_delay(&st, 1);
	CHECK_D("slower stops at the longest", UI_DELAY_MAX, st.delay, 0);
	/* -d's value need not be a step: the next one either way */
	st.delay = 0.1;
	ui_state_change_delay(&st, 1);
	CHECK_D("slower from 0.1 (-d's lowest, the first step)", 0.2, st.delay, 0);
	st.delay = 0.1;
	ui_state_change_delay(&st, -1);
	CHECK_D("faster from 0.1: the shortest", UI_DELAY_MIN, st.delay, 0);
	st.delay = 4;
	ui_state_change_delay(&st, 1);
	CHECK_D("slower from 4", 5, st.delay, 0);
	st.delay = 4;
	ui_state_change_delay(&st, -1);
	CHECK_D("faster from 4", 3, st.delay, 0);
	st.delay = 3600;
	ui_state_change_delay(&st, -1);
	CHECK_D("faster from 3600", 30, st.delay, 0);
	st.delay = 3600;
	ui_state_change_delay(&st, 1);
	CHECK_D("slower from 3600: the longest", UI_DELAY_MAX, st.delay, 0);
	/* - goes down to -d's lowest */
	st.delay = 0.5;
	ui_state_change_delay(&st, -1);
	ui_state_change_delay(&st, -1);
	CHECK_D("faster from 0.5 twice: 0.1", 0.1, st.delay, 0);
	CHECK_D("the shortest step is -d's lowest", UI_DELAY_LO, UI_DELAY_MIN, 0);
}

/* d: the interval typed, as in top */
static void test_delay_prompt(void)
{
	start(NULL);
	ui_state_delay_open(&st);
	CHECK_I("d: the prompt", UI_DELAY, st.mode);
	CHECK_S("d: empty", "", st.delay_edit);
	ui_state_delay_type(&st, '2');
	ui_state_delay_type(&st, '.');
	ui_state_delay_type(&st, '5');
	ui_state_delay_erase(&st);
	ui_state_delay_type(&st, '7');
	CHECK_S("d: typed, one erased", "2.7", st.delay_edit);
	ui_state_delay_enter(&st);
	CHECK_I("d, Enter: closed", UI_TABLE, st.mode);
	CHECK_D("d, Enter: the interval", 2.7, st.delay, 1e-9);
	CHECK_I("d, Enter: changed", 1, ui_state_delay_changed(&st));
	CHECK_S("d, Enter: status", "refresh every 2.7 s", st.status);
	/* out of -d's range, or not a number: the prompt stays, with a message */
	static const char *const bad[] = { "0.05", "3601", "abc", "", "1x", "-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ui_state_delay_open(&st);
		for (const char *c = bad[i]; *c; c++)
			ui_state_delay_type(&st, *c);
		ui_state_delay_enter(&st);
		CHECK_I(nm("d '%s': the prompt stays", bad[i]), UI_DELAY, st.mode);
		CHECK_D(nm("d '%s': the interval unchanged", bad[i]), 2.7, st.delay, 1e-9);
		CHECK_I(nm("d '%s': an error", bad[i]), 1, st.status_err);
		CHECK_I(nm("d '%s': not changed", bad[i]), 0, ui_state_delay_changed(&st));
		ui_state_delay_cancel(&st);
	}
	CHECK_I("Esc: closed", UI_TABLE, st.mode);
	CHECK_S("Esc: status", "refresh interval unchanged (2.7 s)", st.status);
	/* the edges of -d's range are taken */
	ui_state_delay_open(&st);
	ui_state_delay_type(&st, '0');
	ui_state_delay_type(&st, '.');
	ui_state_delay_type(&st, '1');
	ui_state_delay_enter(&st);
	CHECK_D("d 0.1: taken", 0.1, st.delay, 1e-9);
	/* a long text stops at the buffer */
	ui_state_delay_open(&st);
	for (int i = 0; i < 40; i++)
		ui_state_delay_type(&st, '1');
	CHECK_I("d: the text stays in its buffer", sizeof(st.delay_edit) - 1,
		strlen(st.delay_edit));
	ui_state_delay_cancel(&st);
}

static void test_toggles(void)
{
	start(NULL);
	CHECK_I("clear: asks to clear", UI_CLEAR, ui_state_clear(&st));
	CHECK_S("clear: status", "counters cleared", st.status);
	ui_state_names(&st);
	CHECK_I("names on", 1, st.names);
	ui_state_names(&st);
	CHECK_I("names off", 0, st.names);
	CHECK_S("names: status", "names off", st.status);
	ui_state_cgroup_column(&st);
	CHECK_I("cgroup column on", 1, st.show_cgroup);
	ui_state_cgroup_column(&st);
	CHECK_I("cgroup column off", 0, st.show_cgroup);
	CHECK_I("export: asks to export", UI_EXPORT, ui_state_export(&st));
	CHECK_I("quit: asks to quit", UI_QUIT, ui_state_quit(&st));
}

static void test_panes(void)
{
	struct ct_row r[2];
	const struct ct_row *rp[2] = { &r[0], &r[1] };
	struct ct_rows rows = { .rows = rp, .n = 2, .sorted = 2 };

	memset(r, 0, sizeof(r));
	r[0].key = key("curl", "10.0.0.1", 443, P_TCP);
	r[1].key = key("wget", "10.0.0.2", 80, P_TCP);
	start(NULL);
	ui_state_details_open(&st, NULL);
	CHECK_I("details without rows: stays on the table", UI_TABLE, st.mode);
	st.sel = 2;
	ui_state_details_open(&st, &rows);
	CHECK_I("details past the rows: stays on the table", UI_TABLE, st.mode);
	st.sel = 1;
	ui_state_details_open(&st, &rows);
	CHECK_I("details: open", UI_DETAILS, st.mode);
	ck(!memcmp(&st.detail_key, &r[1].key, sizeof(r[1].key)), "details: the selected row's key",
	   "another key");
	ui_state_close(&st);
	CHECK_I("details: closed", UI_TABLE, st.mode);
	ui_state_help_open(&st);
	CHECK_I("help: open", UI_HELP, st.mode);
	ui_state_close(&st);
	CHECK_I("help: closed", UI_TABLE, st.mode);
}

/* a help taller than the screen scrolls within the room the drawing
 * found; one that fits does not, and the key closes it */
static void test_help_scroll(void)
{
	start(NULL);
	st.help_top = 7;
	ui_state_help_open(&st);
	CHECK_I("help: opens at the top", 0, st.help_top);
	st.help_room = 40;
	st.help_lines = 32;
	CHECK_I("help fits: no scroll", 0, ui_state_help_scroll(&st, 1));
	CHECK_I("help fits: still at the top", 0, st.help_top);
	st.help_room = 22;
	CHECK_I("help taller: scrolls", 1, ui_state_help_scroll(&st, 1));
	CHECK_I("help taller: down one", 1, st.help_top);
	ui_state_help_scroll(&st, 21);
	CHECK_I("help taller: the end shows the last 22", 10, st.help_top);
	CHECK_I("help taller: down at the end still scrolls", 1, ui_state_help_scroll(&st, 1));
	CHECK_I("help taller: down at the end stays", 10, st.help_top);
	ui_state_help_scroll(&st, -3);
	CHECK_I("help taller: up three", 7, st.help_top);
	ui_state_help_scroll(&st, -32);
	CHECK_I("help taller: home", 0, st.help_top);
	ui_state_close(&st);
}

/* the details pane's pids scroll within the room the drawing found */
static void test_details_scroll(void)
{
	start(NULL);
	st.detail_top = 0;
	st.detail_room = 10;
	ui_state_details_scroll(&st, 1, 5);
	CHECK_I("5 pids in 10 lines: no scroll", 0, st.detail_top);
	ui_state_details_scroll(&st, 1, 68);
	CHECK_I("68 pids: down one", 1, st.detail_top);
	ui_state_details_scroll(&st, 9, 68);
	CHECK_I("68 pids: a page down", 10, st.detail_top);
	ui_state_details_scroll(&st, 68, 68);
	CHECK_I("68 pids: the end shows the last 10", 58, st.detail_top);
	ui_state_details_scroll(&st, 1, 68);
	CHECK_I("68 pids: down at the end stays", 58, st.detail_top);
	ui_state_details_scroll(&st, -9, 68);
	CHECK_I("68 pids: a page up", 49, st.detail_top);
	ui_state_details_scroll(&st, -68, 68);
	CHECK_I("68 pids: home", 0, st.detail_top);
	ui_state_details_scroll(&st, -1, 68);
	CHECK_I("68 pids: up at the top stays", 0, st.detail_top);
	/* the room grew past the scroll (a resize): back within it */
	st.detail_top = 58;
	st.detail_room = 30;
	ui_state_details_scroll(&st, 1, 68);
	CHECK_I("room grew: within it", 38, st.detail_top);
}

static void test_sort_menu(void)
{
	start(NULL);
	st.reverse = 1;
	ui_state_sort_menu_open(&st);
	CHECK_I("sort menu: open", UI_SORTMENU, st.mode);
	CHECK_I("sort menu: on the sort in force", SORT_RATE, st.sort_menu_sel);
	ui_state_sort_menu_move(&st, 1);
	CHECK_I("sort menu: down", SORT_COUNT, st.sort_menu_sel);
	CHECK_I("sort menu: moving does not sort", SORT_RATE, st.sort);
	st.sort_menu_sel = 0;
	ui_state_sort_menu_move(&st, -1);
	CHECK_I("sort menu: up from the first wraps", SORT_MAX - 1, st.sort_menu_sel);
	ui_state_sort_menu_move(&st, 1);
	CHECK_I("sort menu: down from the last wraps", 0, st.sort_menu_sel);
	CHECK_I("sort menu: choose derives", UI_REBUILD, ui_state_sort_menu_choose(&st));
	CHECK_I("sort menu: chosen", SORT_COMM, st.sort);
	CHECK_I("sort menu: natural order", 0, st.reverse);
	CHECK_I("sort menu: closed", UI_TABLE, st.mode);
	ui_state_sort_menu_open(&st);
	ui_state_sort_menu_move(&st, 1);
	ui_state_close(&st);
	CHECK_I("sort menu: Esc keeps the sort", SORT_COMM, st.sort);
}

/* the columns that fit a narrow terminal */
static void test_layout(void)
{
	static const enum col keep[] = {
		C_PROTO, C_RATE, C_TOTAL, C_FAIL, C_FAILPCT, C_ERROR, C_P99
	};
	struct columns_layout l;
	int total = 0;

	columns_layout(&l, GROUP_FLOW, 400, 0, 0, 30);
	CHECK_I("wide: destination as wide as asked", 30, l.dest_w);
	CHECK_I("wide: every column but cgroup", 0, l.shown[C_CGROUP]);
	CHECK_I("wide: user shown", 1, l.shown[C_USER]);
	columns_layout(&l, GROUP_FLOW, 400, 1, 0, 100);
	CHECK_I("wide: cgroup when asked", 1, l.shown[C_CGROUP]);
	CHECK_I("destination at most 46", 46, l.dest_w);
	CHECK_I("wide: no PENDING column without a pending row", 0, l.shown[C_PEND]);
	columns_layout(&l, GROUP_FLOW, 400, 0, 1, 30);
	CHECK_I("wide: the PENDING column with a pending row", 1, l.shown[C_PEND]);
	/* at 80 columns, in flight and failures stay */
	columns_layout(&l, GROUP_FLOW, 80, 0, 1, 40);
	CHECK_I("80 columns, pending: FAIL", 1, l.shown[C_FAIL]);
	CHECK_I("80 columns, pending: PENDING", 1, l.shown[C_PEND]);
	columns_layout(&l, GROUP_FLOW, 80, 0, 0, 40);
	for (int c = 0; c < C_END; c++)
		if (l.shown[c])
			total += columns_width(&l, c) + 1;
	ck(total - 1 <= 80, "80 columns: the row fits", "%d wide", total - 1);
	CHECK_I("80 columns: the process stays", 1, l.shown[C_PROC]);
	CHECK_I("80 columns: the rate stays", 1, l.shown[C_RATE]);
	CHECK_I("80 columns: the user goes", 0, l.shown[C_USER]);
	CHECK_I("80 columns: a failure column", 1, l.shown[C_FAIL]);
	/* a long address gives way to the failures and P99, not the reverse */
	columns_layout(&l, GROUP_FLOW, 140, 0, 0, 39);
	CHECK_I("140, a long IPv6 address: whole", 39, l.dest_w);
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		ck(l.shown[keep[i]],
		   nm("140, a long IPv6 address: column %s stays", columns[keep[i]].title),
		   "dropped");
	columns_layout(&l, GROUP_FLOW, 140, 0, 1, 46);
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		ck(l.shown[keep[i]],
		   nm("140, 46 wide, pending: column %s stays", columns[keep[i]].title), "dropped");
	CHECK_I("140, 46 wide, pending: PENDING stays", 1, l.shown[C_PEND]);
	/* narrow: the rate goes before the failures */
	columns_layout(&l, GROUP_FLOW, 65, 0, 0, 15);
	CHECK_I("65 columns: FAIL stays", 1, l.shown[C_FAIL]);
	CHECK_I("65 columns: RATE goes", 0, l.shown[C_RATE]);
	/* the baseline's CHANGE column: only with one, kept at 80 with FAIL */
	CHECK_I("no baseline: no CHANGE", 0, l.shown[C_CHANGE]);
	columns_layout(&l, GROUP_FLOW, 80, 0, COLUMNS_CHANGE, 40);
	total = 0;
	for (int c = 0; c < C_END; c++)
		if (l.shown[c])
			total += columns_width(&l, c) + 1;
	ck(total - 1 <= 80, "80 columns, baseline: the row fits", "%d wide", total - 1);
	CHECK_I("80 columns, baseline: CHANGE", 1, l.shown[C_CHANGE]);
	CHECK_I("80 columns, baseline: FAIL", 1, l.shown[C_FAIL]);
	CHECK_I("80 columns, baseline: TOTAL", 1, l.shown[C_TOTAL]);
	columns_layout(&l, GROUP_FLOW, 80, 0, COLUMNS_CHANGE | COLUMNS_PENDING, 40);
	CHECK_I("80 columns, baseline, pending: CHANGE", 1, l.shown[C_CHANGE]);
	CHECK_I("80 columns, baseline, pending: FAIL", 1, l.shown[C_FAIL]);
	/* the grouped views compare their groups too: CHANGE at 80, with FAIL */
	for (int g = GROUP_PROCESS; g < GROUP_MAX; g++) {
		columns_layout(&l, (enum ct_group)g, 80, 0, COLUMNS_CHANGE | COLUMNS_PENDING, 40);
		total = 0;
		for (int c = 0; c < C_END; c++)
			if (l.shown[c])
				total += columns_width(&l, c) + 1;
		ck(total - 1 <= 80,
		   nm("%s view, 80 columns, baseline: the row fits", ct_group_names[g]), "%d wide",
		   total - 1);
		CHECK_I(nm("%s view, 80 columns, baseline: CHANGE", ct_group_names[g]), 1,
			l.shown[C_CHANGE]);
		CHECK_I(nm("%s view, 80 columns, baseline: FAIL", ct_group_names[g]), 1,
			l.shown[C_FAIL]);
		columns_layout(&l, (enum ct_group)g, 200, 0, 0, 40);
		CHECK_I(nm("%s view, no baseline: no CHANGE", ct_group_names[g]), 0,
			l.shown[C_CHANGE]);
	}
}

static void test_baseline(void)
{
	start(NULL);
	CHECK_I("B without a baseline: nothing to do", 0, ui_state_baseline_clear(&st));
	CHECK_I("b: take one", UI_BASELINE, ui_state_baseline(&st));
	CHECK_I("b: kept", 1, st.baseline);
	CHECK_I("b again: a new one", UI_BASELINE, ui_state_baseline(&st));
	CHECK_I("B: forget it", UI_BASELINE_CLEAR, ui_state_baseline_clear(&st));
	CHECK_I("B: none kept", 0, st.baseline);
	CHECK_S("B: the status line", "baseline cleared", st.status);
}

int main(void)
{
	test_init();
	test_sort();
	test_sort_step();
	test_group();
	test_filter();
	test_filter_prompt();
	test_freeze();
	test_selection();
	test_selection_follows();
	test_delay();
	test_delay_prompt();
	test_toggles();
	test_panes();
	test_details_scroll();
	test_help_scroll();
	test_sort_menu();
	test_layout();
	test_baseline();
	ui_state_free(&st);
	ui_state_free(NULL);
	return ck_done();
}
