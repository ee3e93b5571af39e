// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The interactive view's glue (view.h): it owns the snapshot shown and
 * the rows derived from it, feeds keys (keys.c) to the screen's state
 * (ui_state.c), does what a change asks (derive, snapshot, clear,
 * export) and hands each frame to draw.c; term.c sets the terminal up.
 * Capture goes on in main.c's loop whatever the view does.
 */
#include "view.h"

#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "baseline.h"
#include "draw.h"
#include "export.h"
#include "keys.h"
#include "names.h"
#include "term.h"
#include "timing.h"
#include "ui_state.h"
#include "util.h"

struct ct_view_ui {
	struct app *a;
	const struct ct_filter *keep_filter; /* the filter the flow table keeps by */
	struct names *res;
	struct ct_snap *snap; /* what is shown: the latest, or the frozen one */
	struct ct_rows rows;  /* derived from snap in the grouping shown (rows_group) */
	/* the other groupings once shown, kept up to date with each refresh
	 * (rows_follow): switching back to one only orders it */
	struct ct_rows kept[GROUP_MAX];
	enum ct_group rows_group;
	int rows_valid;
	/* the header's and the exports' counters: of the moment of snap (a
	 * frozen screen shows, and exports, one moment), less those at the
	 * last clear (c) */
	struct ct_stats stats, cleared;
	struct ui_state s; /* what the screen shows, and how */
	struct draw_ctx d; /* what the last frame showed */
	int color, utf8;
	size_t limit; /* rows put in order (rows_derive), 0: all */
	char host[64], kernel[80];
	char replay_clock[40], replay_state[64]; /* the header's, in a replay */
	struct timing *timing;			 /* --timing-file, or NULL */
	struct ct_baseline *base;		 /* b's, or NULL */
	/* base's groups, of the flows the filter of id gbase_fid keeps (made
	 * again when the filter changes, or with each pass when it has a
	 * change term); NULL: to make */
	struct ct_baseline *gbase[GROUP_MAX];
	uint64_t gbase_fid[GROUP_MAX], gbase_pass[GROUP_MAX];
	uint64_t pass;		    /* passes of base over the snapshot's rows (base_pass) */
	int pass_full;		    /* the last one classified (not only marked) them */
	const struct ct_row **gone; /* add_gone's list */
	size_t gone_n, gone_cap;
	int gone_oom;
};

/* one refresh took from t0 to now */
static void timed(struct ct_view_ui *v, enum timing_kind k, uint64_t t0)
{
	timing_add(v->timing, k, ct_now_ns() - t0, v->snap ? v->snap->n : 0);
}

/* the details pane's row lies past the rows put in order (it fell in the
 * sort order): a group row there lacks its history, errors and pids */
static int detail_unfilled(const struct ct_view_ui *v)
{
	if (v->s.mode != UI_DETAILS || v->s.group == GROUP_FLOW)
		return 0;
	for (size_t i = v->rows.sorted; i < v->rows.n; i++)
		if (!memcmp(&v->rows.rows[i]->key, &v->s.detail_key, sizeof(v->s.detail_key)))
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

/* A pass of the baseline over the snapshot's flows, each refresh while
 * one is kept: those it has not seen are gone. With a change term in the
 * filter it also keeps what each is now (baseline_now), which the grouped
 * baselines' filter asks. Figure (-O2, 2 shared cores at a load of 7-8,
 * 32,768 flows): 2.1-2.6 ms a pass of marks, 6.4-8.4 ms classifying;
 * taking the baseline (b) 42-49 ms, a grouped baseline 5-10 ms. */
static void base_pass(struct ct_view_ui *v)
{
	int full = filter_uses_change(v->s.filter);
	struct ct_change_info c;

	if (!v->base || !v->snap)
		return;
	baseline_pass(v->base);
	for (size_t i = 0; i < v->snap->n; i++)
		if (full)
			baseline_classify(v->base, &v->snap->rows[i], &c);
		else
			baseline_mark(v->base, &v->snap->rows[i]);
	v->pass++;
	v->pass_full = full;
}

/* the grouped baselines' filter: a baseline flow the filter keeps, its
 * change terms asking what the flow is now */
static int base_keeps(void *ctx, const struct ct_row *r)
{
	struct ct_view_ui *v = ctx;

	return filter_match(v->s.filter, r);
}

static void gone_row(void *ctx, const struct ct_row *r, const struct ct_change_info *c)
{
	struct ct_view_ui *v = ctx;

	(void)c;
	/* a flow's row is filtered as the live ones are; a group's flows
	 * were when its baseline was made */
	if (v->s.group == GROUP_FLOW && !filter_match(v->s.filter, r))
		return;
	if (v->gone_n == v->gone_cap) {
		size_t cap = v->gone_cap ? 2 * v->gone_cap : 64;
		const struct ct_row **g = realloc(v->gone, cap * sizeof(*g));

		if (!g) {
			v->gone_oom = 1; /* add_gone says so */
			return;
		}
		v->gone = g;
		v->gone_cap = cap;
	}
	v->gone[v->gone_n++] = r;
}

/* the baseline of the grouping shown, made for the filter if need be */
static const struct ct_baseline *shown_base(struct ct_view_ui *v)
{
	enum ct_group g = v->s.group;
	uint64_t fid = filter_id(v->s.filter);

	if (g == GROUP_FLOW || !v->base)
		return v->base;
	if (!v->gbase[g] || v->gbase_fid[g] != fid ||
	    (filter_uses_change(v->s.filter) && v->gbase_pass[g] != v->pass)) {
		baseline_free(v->gbase[g]);
		v->gbase[g] = baseline_group(v->base, g, base_keeps, v);
		v->gbase_fid[g] = fid;
		v->gbase_pass[g] = v->pass;
	}
	return v->gbase[g];
}

/* After the rows derived: the flows (or groups) of the baseline that the
 * rows lack, in the rows' order among themselves, after them (the
 * screen's rows, or an export's) */
static void add_gone(struct ct_view_ui *v, int desc, struct ct_rows *rows)
{
	struct ct_baseline *b;

	if (!v->base)
		return;
	b = (struct ct_baseline *)shown_base(v);
	if (!b) {
		ui_state_status(&v->s, 1, "out of memory comparing groups with the baseline");
		return;
	}
	if (v->s.group != GROUP_FLOW) {
		baseline_pass(b);
		for (size_t i = 0; i < rows->n; i++)
			baseline_mark(b, rows->rows[i]);
	}
	v->gone_n = 0;
	v->gone_oom = 0;
	baseline_gone(b, gone_row, v);
	sort_rows(v->gone, v->gone_n, v->s.sort, desc, 0);
	if (rows_append(rows, v->gone, v->gone_n) || v->gone_oom)
		ui_state_status(&v->s, 1, "out of memory listing the rows gone");
}

static void rebuild(struct ct_view_ui *v)
{
	struct ui_state *o = &v->s;
	int desc = ct_sort_default_desc(o->sort) ^ o->reverse;

	/* the selection follows its row (take_snapshot remembered it when
	 * the rows are no longer valid; another grouping has other rows) */
	if (v->rows_valid && o->group == v->rows_group)
		ui_state_select_remember(o, &v->rows);
	else if (o->group != v->rows_group)
		o->sel_keyed = o->sel_reset = 0;
	use_group(v, o->group);
	v->rows_valid = 0;
	if (!v->snap)
		return;
	/* order (and for groups, complete) only the rows the screen shows:
	 * the table's rows end before the selection's row + LINES. A view of
	 * the same snapshot keeps what it derived, so going further only
	 * orders again. */
	if (v->limit)
		v->limit = v->s.sel + (size_t)term_lines();
	/* into the buffers of the last view: nothing to fault in each refresh */
	if (v->base && !v->pass_full && filter_uses_change(v->s.filter))
		base_pass(v);
	if (rows_refresh(v->snap, o->group, v->s.filter, o->sort, desc, v->limit, &v->rows) ||
	    (detail_unfilled(v) &&
	     rows_refresh(v->snap, o->group, v->s.filter, o->sort, desc, 0, &v->rows))) {
		ui_state_status(&v->s, 1, "out of memory building the view");
		return;
	}
	add_gone(v, desc, &v->rows);
	v->rows_valid = 1;
	ui_state_select_find(&v->s, &v->rows);
}

/* v->stats: the counters of this moment, since the last clear; the
 * rate is that of the last interval */
static void take_stats(struct ct_view_ui *v)
{
	struct ct_stats *st = &v->stats;
	const struct ct_stats *c = &v->cleared;

	*st = v->a->stats;
	app_stats(v->a, st);
	st->events -= c->events;
	st->outcomes -= c->outcomes;
	st->outcomes_late -= c->outcomes_late;
	st->outcomes_destroy -= c->outcomes_destroy;
	st->drops -= c->drops;
	st->missed -= c->missed;
	st->evicted -= c->evicted;
}

static void take_snapshot(struct ct_view_ui *v)
{
	const struct snap_hook hook = { app_hold_read, v->a };
	struct ct_snap *s;

	/* the rows point into the snapshot whose buffers are about to be reused */
	if (v->rows_valid && v->s.group == v->rows_group)
		ui_state_select_remember(&v->s, &v->rows);
	v->rows.n = v->rows.sorted = 0;
	v->rows_valid = 0;
	/* the ring buffer read on while the table is held still (app.h) */
	app_hold(v->a);
	s = snap_refresh_hook(v->a->flows, app_now(v->a), v->s.frozen ? NULL : v->snap, &hook);
	app_release(v->a);
	if (!v->s.frozen)
		v->snap = NULL;

	if (!s) {
		ui_state_status(&v->s, 1, "out of memory taking a snapshot");
		return;
	}
	snap_free(v->snap);
	v->snap = s;
	take_stats(v);
	base_pass(v);
	/* the grouped views (shown, kept or prepared: prepare_kept derives
	 * them all) update their groups by the rows' differences */
	s->keep_old = 1;
	for (int g = GROUP_FLOW; g < GROUP_MAX; g++)
		if (g != (int)v->rows_group)
			rows_follow(s, g, v->s.filter, &v->kept[g]);
	rebuild(v);
}

/* the CHANGE column's: a row's change since the baseline, in the
 * grouping shown (a gone row is one of its baseline's own) */
static enum ct_change row_change(void *ctx, const struct ct_row *r, struct ct_change_info *c)
{
	struct ct_view_ui *v = ctx;

	return baseline_compare(v->s.group == GROUP_FLOW ? v->base : v->gbase[v->s.group], r, c);
}

/* draw a frame: the state brought in line with the rows first */
static void draw(struct ct_view_ui *v)
{
	struct draw_ctx *d = &v->d;

	if (draw_shows_table(&v->s)) {
		/* the selection went past the rows put in order: order further
		 * (rebuild grows the limit to cover it) */
		if (v->rows_valid && v->rows.sorted < v->rows.n &&
		    v->s.sel + (size_t)term_lines() > v->rows.sorted)
			rebuild(v);
		if (v->rows_valid)
			ui_state_scroll(&v->s, (size_t)draw_table_height());
	}
	d->s = &v->s;
	d->snap = v->snap;
	d->rows = &v->rows;
	d->rows_valid = v->rows_valid;
	d->desc = ct_sort_default_desc(v->s.sort) ^ v->s.reverse;
	d->stats = &v->stats;
	d->change = v->base ? row_change : NULL;
	d->change_ctx = v;
	d->res = v->res;
	d->up_secs = (app_now(v->a) - v->a->start_ns) / 1000000000ULL;
	d->replay = d->replay_state = NULL;
	if (v->a->replay) {
		char t[40];

		/* the time of day, UTC, to the ms: the date is in the details */
		ct_rfc3339(v->a->now_ns + v->a->mono_to_unix_ns, t, sizeof(t));
		snprintf(v->replay_clock, sizeof(v->replay_clock), "%s",
			 strchr(t, 'T') ? strchr(t, 'T') + 1 : t);
		if (v->a->replay_end)
			snprintf(v->replay_state, sizeof(v->replay_state), "end");
		else if (v->s.frozen)
			snprintf(v->replay_state, sizeof(v->replay_state), "paused");
		else
			snprintf(v->replay_state, sizeof(v->replay_state), "x%g  refresh %gs",
				 v->a->opt.speed ? v->a->opt.speed : 1.0, v->s.delay);
		d->replay = v->replay_clock;
		d->replay_state = v->replay_state;
	}
	d->max_flows = (size_t)v->a->opt.max_flows;
	d->mono_to_unix_ns = v->a->mono_to_unix_ns;
	d->host = v->host;
	d->kernel = v->kernel;
	d->dns_why = v->a->dns_why;
	d->color = v->color;
	d->utf8 = v->utf8;
	draw_screen(d);
	v->s.detail_room = d->detail_room; /* what the pid list's scrolling stops at */
	v->s.help_room = d->help_room;
	v->s.help_lines = d->help_lines;
}

/* the flows the filter shows outlive a flood of others (flows_set_keep);
 * looked at after every state change, as a new filter frees the one before */
static void keep_shown(struct ct_view_ui *v)
{
	/* only for a new filter: flows_set_keep() asks every kept flow
	 * again (a new filter is made before the old one is freed, so its
	 * address always differs) */
	if (v->s.filter == v->keep_filter)
		return;
	v->keep_filter = v->s.filter;
	flows_set_keep(v->a->flows, filter_empty(v->s.filter) ? NULL : filter_keeps, v->s.filter);
}

/* the filter's new, worse, silent, gone: a flow's change (the filter
 * takes flows in every grouping: a grouped view shows the groups of the
 * flows it keeps); a baseline's own row is what its flow is now */
static int change_of(void *ctx, const struct ct_row *r)
{
	struct ct_view_ui *v = ctx;

	if (!v->base)
		return CHG_NONE;
	return baseline_now(v->base, r);
}

/* b: a baseline of the snapshot shown; B: none. The rows derived with a
 * new, worse, silent or gone term are derived again from scratch. */
static void set_baseline(struct ct_view_ui *v, int take)
{
	/* the rows point at gone rows of the baseline about to go: they go
	 * first, the selection remembered by its key */
	if (v->rows_valid && v->s.group == v->rows_group)
		ui_state_select_remember(&v->s, &v->rows);
	v->rows.n = v->rows.sorted = 0;
	v->rows_valid = 0;
	for (int g = GROUP_FLOW; g < GROUP_MAX; g++) {
		baseline_free(v->gbase[g]);
		v->gbase[g] = NULL;
	}
	baseline_free(v->base);
	v->base = NULL;
	v->pass_full = 0;
	if (take && v->snap) {
		v->base = baseline_new(v->snap->rows, v->snap->n, v->snap->taken_ns);
		if (!v->base) {
			v->s.baseline = 0;
			ui_state_status(&v->s, 1, "out of memory taking a baseline");
		} else {
			ui_state_status(&v->s, 0, "baseline: %zu flows%s; B clears it",
					baseline_count(v->base), v->s.frozen ? " (frozen)" : "");
			base_pass(v);
		}
	}
	if (filter_uses_change(v->s.filter)) {
		rows_free(&v->rows);
		memset(&v->rows, 0, sizeof(v->rows));
		for (int g = GROUP_FLOW; g < GROUP_MAX; g++) {
			rows_free(&v->kept[g]);
			memset(&v->kept[g], 0, sizeof(v->kept[g]));
		}
		v->rows_valid = 0;
	}
}

struct ct_view_ui *view_new(struct app *a, char *err, size_t errlen)
{
	struct ct_view_ui *v = calloc(1, sizeof(*v));
	struct utsname u;
	/* the screen's copy of the options: the keys change it, not app->opt */
	const struct ui_config cfg = {
		.group = a->opt.group,
		.sort = a->opt.sort,
		.reverse = a->opt.reverse,
		.delay = a->opt.delay,
		.names = a->opt.names,
		.filter_expr = a->opt.filter_expr,
		.cgroup_fn = names_cgroup_of,
		.cgroup_ctx = a->res,
		.change_fn = change_of,
		.change_ctx = v,
		.replay = a->replay,
	};

	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	v->a = a;
	v->res = a->res;
	if (ui_state_init(&v->s, &cfg, err, errlen)) {
		free(v);
		return NULL;
	}
	uname(&u);
	snprintf(v->kernel, sizeof(v->kernel), "%s", u.release);
	gethostname(v->host, sizeof(v->host) - 1);
	if (a->replay) { /* the recorded host's, sanitized: the file is anyone's */
		ct_sanitize(a->rec_host, strlen(a->rec_host), v->host, sizeof(v->host));
		ct_sanitize(a->rec_kernel, strlen(a->rec_kernel), v->kernel, sizeof(v->kernel));
	}
	v->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	if (term_open(err, errlen)) {
		ui_state_free(&v->s);
		free(v);
		return NULL;
	}
	if (!a->opt.no_color && !getenv("NO_COLOR"))
		v->color = draw_colors();
	v->limit = 4 * (size_t)term_lines();
	v->timing = timing_new(a->opt.timing_path);
	keep_shown(v);
	take_snapshot(v);
	draw(v);
	return v;
}

void view_free(struct ct_view_ui *v)
{
	if (!v)
		return;
	term_close();
	timing_write(v->timing);
	timing_free(v->timing);
	rows_free(&v->rows);
	for (int g = GROUP_FLOW; g < GROUP_MAX; g++)
		rows_free(&v->kept[g]);
	snap_free(v->snap);
	for (int g = GROUP_FLOW; g < GROUP_MAX; g++)
		baseline_free(v->gbase[g]);
	baseline_free(v->base);
	free(v->gone);
	flows_set_keep(v->a->flows, NULL, NULL); /* the filter goes */
	ui_state_free(&v->s);
	free(v);
}

/* Once the screen is drawn: derive one grouping not shown whose kept view
 * is not up to date (the first time, or after the snapshot was copied
 * whole or the filter changed), so that switching to it only orders it;
 * the refreshes keep it up to date by differences. The flow grouping is
 * left out: it derives in a couple of milliseconds. */
static void prepare_kept(struct ct_view_ui *v)
{
	struct ui_state *o = &v->s;
	uint64_t t0 = ct_now_ns();

	if (!v->snap)
		return;
	for (int i = 1; i < GROUP_MAX; i++) {
		enum ct_group g = (enum ct_group)((v->rows_group + i) % GROUP_MAX);

		if (g == GROUP_FLOW || rows_ready(&v->kept[g], v->snap, g, v->s.filter))
			continue;
		rows_refresh(v->snap, g, v->s.filter, o->sort,
			     ct_sort_default_desc(o->sort) ^ o->reverse, (size_t)term_lines(),
			     &v->kept[g]);
		timed(v, TIMING_PREP, t0);
		return;
	}
}

void view_tick(struct ct_view_ui *v)
{
	uint64_t t0 = ct_now_ns();

	if (!v->s.frozen)
		take_snapshot(v);
	draw(v);
	timed(v, TIMING_TICK, t0);
	prepare_kept(v);
}

int view_delay_changed(struct ct_view_ui *v, double *delay)
{
	if (!ui_state_delay_changed(&v->s))
		return 0;
	*delay = v->s.delay;
	return 1;
}

struct export_ctx {
	struct ct_view_ui *v;
	const struct ct_rows *rows;	 /* every row, in order and complete */
	const struct export_changes *ch; /* with a baseline: the CHANGE column's */
	int csv;
};

static int export_cb(FILE *out, void *ctx)
{
	struct export_ctx *c = ctx;
	int rc;

	if (!c->csv)
		return export_json_changes(out, c->rows, c->v->s.group, &c->v->stats, c->ch);
	rc = export_csv_header_changes(out, c->v->s.group, c->ch);
	return rc ? rc : export_csv_changes(out, c->rows, c->v->s.group, &c->v->stats, c->ch);
}

static void do_export(struct ct_view_ui *v)
{
	const char *dir = v->a->opt.export_dir ? v->a->opt.export_dir : ".";
	char stamp[32], path[2][4096];
	struct ui_state *o = &v->s;
	struct export_ctx ctx = { v, NULL, NULL, 0 };
	struct export_changes ch = { row_change, v, 0 };
	int desc = ct_sort_default_desc(o->sort) ^ o->reverse;
	struct ct_rows all;
	time_t now = time(NULL);
	struct tm tm;
	int rc = 0;

	if (!v->rows_valid || !v->snap) {
		ui_state_status(&v->s, 1, "nothing to export");
		return;
	}
	/* the screen's rows are put in order only as far as it reaches (and
	 * grouped rows are complete only that far): the file gets them all */
	if (rows_derive(v->snap, o->group, v->s.filter, o->sort, desc, 0, &all)) {
		ui_state_status(&v->s, 1, "out of memory exporting");
		return;
	}
	/* with a baseline, what the screen shows of it: its gone rows after
	 * the others, and each row's change */
	if (v->base) {
		add_gone(v, desc, &all);
		ch.taken_unix_ns = baseline_taken_ns(v->base) + (uint64_t)v->stats.mono_to_unix_ns;
		ctx.ch = &ch;
	}
	ctx.rows = &all;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	for (int i = 0; i < 2 && !rc; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/connecttop-%s-%s.%s", dir, stamp,
			 ct_group_names[v->s.group], i ? "csv" : "json");
		ctx.csv = i;
		rc = export_atomic(path[i], export_cb, &ctx);
		if (rc)
			ui_state_status(&v->s, 1, "export to %s failed: %s", path[i],
					strerror(-rc));
	}
	if (!rc)
		ui_state_status(&v->s, 0, "exported %zu rows%s to %s and .csv", all.n,
				v->s.frozen ? " (frozen)" : "", path[0]);
	rows_free(&all);
}

/* do what a state change asks for; 1 to quit */
static int apply(struct ct_view_ui *v, unsigned todo)
{
	keep_shown(v);
	if (todo & UI_CLEAR) {
		flows_clear(v->a->flows);
		/* the header's totals count from here too */
		app_stats(v->a, &v->cleared);
	}
	if (todo & (UI_BASELINE | UI_BASELINE_CLEAR))
		set_baseline(v, !!(todo & UI_BASELINE));
	if ((todo & UI_SEEK) && v->a->seek) {
		char err[200];

		if (v->a->seek(v->a, v->s.goto_edit, err, sizeof(err)))
			ui_state_status(&v->s, 1, "%s", err);
		else
			todo |= UI_SNAPSHOT;
	}
	if (todo & (UI_CLEAR | UI_SNAPSHOT))
		take_snapshot(v);
	else if (todo & (UI_REBUILD | UI_BASELINE | UI_BASELINE_CLEAR))
		rebuild(v);
	if (todo & UI_EXPORT)
		do_export(v);
	return !!(todo & UI_QUIT);
}

int view_input(struct ct_view_ui *v)
{
	int ch, quit = 0, keys = 0;
	uint64_t t0 = ct_now_ns();

	while (!quit && (ch = keys_read()) != KEYS_NONE) {
		struct keys_ctx k = {
			.rows = v->rows_valid ? &v->rows : NULL,
			.page = term_lines() - 6 > 1 ? (size_t)term_lines() - 6 : 1,
		};

		keys++;
		quit = apply(v, keys_handle(&v->s, &k, ch));
	}
	if (!quit)
		draw(v); /* also after a signal woke the loop: SIGWINCH, SIGCONT */
	if (keys && !quit)
		timed(v, TIMING_KEY, t0);
	return quit;
}

void view_message(struct ct_view_ui *v, const char *msg)
{
	ui_state_status(&v->s, 1, "%s", msg);
	draw(v);
}

int view_frozen(const struct ct_view_ui *v)
{
	return v && v->s.frozen;
}
