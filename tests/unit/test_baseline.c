// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * baseline.c: a baseline from a real snapshot of the flow table, then
 * counted connects after it: new, worse by failure share and by p99 (with
 * the before and after values), silent, gone (evicted, cleared), the
 * thresholds at their edges, zero connects, (process, *) rows.
 */
#include <errno.h>
#include <string.h>

#include "baseline.h"
#include "check.h"
#include "filter.h"
#include "rows.h"
#include "snap.h"

#define MS 1000000ULL
#define S 1000000000ULL

static struct ct_baseline *take(struct ct_flows *t, uint64_t now)
{
	struct ct_snap *s = snap_new(t, now);
	struct ct_baseline *b;

	if (!s)
		abort();
	b = baseline_new(s->rows, s->n, now);
	snap_free(s);
	if (!b)
		abort();
	return b;
}

/* classify k's row in a fresh snapshot of t */
static enum ct_change cls(struct ct_baseline *b, struct ct_flows *t, uint64_t now,
			  const struct flow_key *k, struct ct_change_info *c)
{
	struct ct_snap *s = snap_new(t, now);
	const struct ct_row *r;
	enum ct_change ch = CHG_MAX;

	if (!s)
		abort();
	r = find_row(s->rows, s->n, k);
	if (r)
		ch = baseline_compare(b, r, c);
	snap_free(s);
	return ch;
}

static void test_kinds(void)
{
	struct ct_flows *t = flows_new(100);
	struct flow_key a = key("curl", "10.0.0.1", 443, 6), n = key("curl", "10.0.0.2", 443, 6);
	struct flow_key q = key("dig", "10.0.0.3", 53, 17), z = key("ssh", "10.0.0.4", 22, 6);
	struct ct_change_info c;
	struct ct_baseline *b;
	char cell[64];

	/* before: a 50 ok 1 refused (2%), q 10 ok, z 4 ok */
	add_n(t, a, 49, 1 * S, 1, 0);
	add_n(t, a, 1, 1 * S, 1, -ECONNREFUSED);
	add_n(t, q, 10, 1 * S, 2, 0);
	add_n(t, z, 4, 1 * S, 3, 0);
	b = take(t, 2 * S);
	CHECK_U("count: three flows", 3, baseline_count(b));
	/* since: a 6 ok 4 refused (40%), n appears, q nothing, z 3 ok */
	add_n(t, a, 6, 3 * S, 1, 0);
	add_n(t, a, 4, 3 * S, 1, -ECONNREFUSED);
	add_n(t, n, 2, 3 * S, 4, 0);
	add_n(t, z, 3, 3 * S, 3, 0);

	CHECK_I("a: worse", CHG_WORSE, cls(b, t, 4 * S, &a, &c));
	CHECK_U("a: why fail", CHG_WHY_FAIL, c.why);
	CHECK_U("a: before n", 50, c.before_n);
	CHECK_U("a: before fail", 1, c.before_fail);
	CHECK_U("a: since n", 10, c.since_n);
	CHECK_U("a: since fail", 4, c.since_fail);
	CHECK_D("a: share before", 0.02, c.share_before, 1e-12);
	CHECK_D("a: share after", 0.4, c.share_after, 1e-12);
	CHECK_S("a: cell", "worse 2%\u219240%", baseline_cell(&c, cell, sizeof(cell)));
	CHECK_I("n: new", CHG_NEW, cls(b, t, 4 * S, &n, &c));
	CHECK_U("n: since n", 2, c.since_n);
	CHECK_S("n: cell", "new", baseline_cell(&c, cell, sizeof(cell)));
	CHECK_I("q: silent", CHG_SILENT, cls(b, t, 4 * S, &q, &c));
	CHECK_U("q: before n", 10, c.before_n);
	CHECK_U("q: since n", 0, c.since_n);
	CHECK_S("q: cell", "silent", baseline_cell(&c, cell, sizeof(cell)));
	CHECK_I("z: no change", CHG_NONE, cls(b, t, 4 * S, &z, &c));
	CHECK_U("z: since n", 3, c.since_n);
	CHECK_S("z: empty cell", "", baseline_cell(&c, cell, sizeof(cell)));
	CHECK_I("no baseline: none", CHG_NONE, cls(NULL, t, 4 * S, &a, &c));
	baseline_free(b);
	baseline_free(NULL);
	flows_free(t);
}

/* the failure rule at its edges: points and the failures needed */
static void test_fail_edges(void)
{
	struct ct_flows *t = flows_new(100);
	struct flow_key a = key("a", "10.0.0.1", 80, 6), one = key("b", "10.0.0.2", 80, 6);
	struct flow_key edge = key("c", "10.0.0.3", 80, 6), below = key("d", "10.0.0.4", 80, 6);
	struct ct_change_info c;
	struct ct_baseline *b;

	add_n(t, a, 10, S, 1, 0);
	add_n(t, one, 10, S, 1, 0);
	add_n(t, edge, 100, S, 1, 0);
	add_n(t, below, 100, S, 1, 0);
	b = take(t, 2 * S);
	/* one failure of one since: 100%, but a single failure is noise */
	add_n(t, one, 1, 3 * S, 1, -ETIMEDOUT);
	CHECK_I("one failure: not worse", CHG_NONE, cls(b, t, 4 * S, &one, &c));
	CHECK_D("one failure: share after", 1, c.share_after, 1e-12);
	/* exactly 5 points: 2 of 40 */
	add_n(t, edge, 38, 3 * S, 1, 0);
	add_n(t, edge, 2, 3 * S, 1, -ECONNREFUSED);
	CHECK_I("5 points: worse", CHG_WORSE, cls(b, t, 4 * S, &edge, &c));
	/* 2 of 41 is 4.9 points */
	add_n(t, below, 39, 3 * S, 1, 0);
	add_n(t, below, 2, 3 * S, 1, -ECONNREFUSED);
	CHECK_I("4.9 points: not worse", CHG_NONE, cls(b, t, 4 * S, &below, &c));
	/* a flow that fails at the same share as before is not worse */
	add_n(t, a, 5, 3 * S, 1, -ECONNREFUSED);
	CHECK_I("all failing since: worse", CHG_WORSE, cls(b, t, 4 * S, &a, &c));
	CHECK_S("0% to 100%", "worse 0%\u2192100%", baseline_cell(&c, (char[32]){ 0 }, 32));
	baseline_free(b);
	flows_free(t);
}

static void test_p99(void)
{
	struct ct_flows *t = flows_new(100);
	struct flow_key a = key("a", "10.0.0.1", 80, 6), few = key("b", "10.0.0.2", 80, 6);
	struct flow_key small = key("c", "10.0.0.3", 80, 6);
	struct ct_change_info c;
	struct ct_baseline *b;
	char cell[64];

	for (int i = 0; i < 20; i++) {
		add_lat(t, a, S, 1, 0, 3 * MS);
		add_lat(t, small, S, 1, 0, 100000); /* 100 us */
	}
	for (int i = 0; i < 4; i++)
		add_lat(t, few, S, 1, 0, 3 * MS);
	b = take(t, 2 * S);
	for (int i = 0; i < 10; i++) {
		add_lat(t, a, 3 * S, 1, 0, 1000 * MS);
		add_lat(t, few, 3 * S, 1, 0, 1000 * MS);
		add_lat(t, small, 3 * S, 1, 0, 900000); /* 9x, but 0.8 ms */
	}
	CHECK_I("p99: worse", CHG_WORSE, cls(b, t, 4 * S, &a, &c));
	CHECK_U("p99: why", CHG_WHY_P99, c.why);
	CHECK_D("p99: before 3 ms", 3000, c.p99_before_us, 1);
	CHECK_D("p99: after 1 s", 1e6, c.p99_after_us, 1);
	CHECK_S("p99: cell", "p99 3ms\u21921.0s", baseline_cell(&c, cell, sizeof(cell)));
	CHECK_I("p99: too few samples before", CHG_NONE, cls(b, t, 4 * S, &few, &c));
	CHECK_I("p99: below 1 ms of rise", CHG_NONE, cls(b, t, 4 * S, &small, &c));
	CHECK_D("p99: small after", 900, c.p99_after_us, 30);
	baseline_free(b);
	flows_free(t);
}

struct gone_seen {
	int n;
	struct flow_key k[8];
	uint64_t before_n[8];
};

static void on_gone(void *ctx, const struct ct_row *r, const struct ct_change_info *c)
{
	struct gone_seen *g = ctx;

	if (g->n < 8) {
		g->k[g->n] = r->key;
		g->before_n[g->n] = c->before_n;
	}
	g->n++;
}

/* zero connects, evicted flows and their (process, *) row, a clear */
static void test_edges(void)
{
	struct ct_flows *t = flows_new(2);
	struct flow_key a = key("x", "10.0.0.1", 80, 6), b2 = key("x", "10.0.0.2", 80, 6);
	struct flow_key n = key("x", "10.0.0.3", 80, 6), fk;
	struct gone_seen g = { 0 };
	struct ct_change_info c;
	struct ct_baseline *b;
	struct ct_snap *s;
	size_t k;

	/* an empty table: every flow after it is new */
	b = take(t, S);
	CHECK_U("empty: no flows", 0, baseline_count(b));
	add_n(t, a, 1, 2 * S, 1, 0);
	CHECK_I("empty: new", CHG_NEW, cls(b, t, 3 * S, &a, &c));
	baseline_free(b);

	add_n(t, b2, 3, 2 * S, 1, -ECONNREFUSED);
	b = take(t, 3 * S);
	/* a third flow evicts one of the two into (x, *) */
	add_n(t, n, 1, 4 * S, 1, 0);
	s = snap_new(t, 5 * S);
	baseline_pass(b);
	memset(&fk, 0, sizeof(fk));
	for (size_t i = 0; i < s->n; i++) {
		enum ct_change ch = baseline_classify(b, &s->rows[i], &c);

		if (s->rows[i].key.family == CT_FAMILY_FOLDED) {
			fk = s->rows[i].key;
			CHECK_I("folded row: new, never worse", CHG_NEW, ch);
		}
	}
	CHECK_U("folded row present", CT_FAMILY_FOLDED, fk.family);
	k = baseline_gone(b, on_gone, &g);
	CHECK_U("evicted: one gone", 1, k);
	CHECK_I("evicted: callback once", 1, g.n);
	CHECK("evicted: an old flow",
	      !memcmp(&g.k[0], &a, sizeof(a)) || !memcmp(&g.k[0], &b2, sizeof(b2)));
	snap_free(s);
	baseline_free(b);

	/* a folded row in the baseline that gains failures is still not worse */
	s = snap_new(t, 6 * S);
	b = baseline_new(s->rows, s->n, 6 * S);
	snap_free(s);
	add_n(t, key("x", "10.0.0.9", 80, 6), 9, 7 * S, 1, -ECONNREFUSED);
	add_n(t, key("x", "10.0.0.8", 80, 6), 9, 7 * S, 1, -ECONNREFUSED);
	CHECK("folded: baseline has it", fk.family == CT_FAMILY_FOLDED);
	CHECK("folded: not worse", cls(b, t, 8 * S, &fk, &c) != CHG_WORSE);

	/* cleared: what it has now is all since the baseline */
	baseline_free(b);
	flows_clear(t);
	add_n(t, a, 20, 9 * S, 1, 0);
	b = take(t, 10 * S);
	flows_clear(t);
	add_n(t, a, 3, 11 * S, 1, -ECONNREFUSED);
	CHECK_I("cleared: worse", CHG_WORSE, cls(b, t, 12 * S, &a, &c));
	CHECK_U("cleared: since n", 3, c.since_n);
	CHECK_U("cleared: since fail", 3, c.since_fail);
	/* after a clear with nothing since, the flow is gone */
	flows_clear(t);
	s = snap_new(t, 13 * S);
	baseline_pass(b);
	g.n = 0;
	CHECK_U("cleared: gone", 1, baseline_gone(b, on_gone, &g));
	CHECK_U("cleared: gone keeps before", 20, g.before_n[0]);
	snap_free(s);
	baseline_free(b);
	flows_free(t);
}

/* a flow in the baseline with no completed connect (all in flight) */
static void test_pending(void)
{
	struct ct_flows *t = flows_new(10);
	struct flow_key a = key("p", "10.0.0.1", 80, 6);
	struct ct_sample sm = sample(a, S, 1, -EINPROGRESS);
	struct ct_change_info c;
	struct ct_baseline *b;

	sm.pending = 1;
	flows_add(t, &sm);
	b = take(t, 2 * S);
	add_n(t, a, 3, 3 * S, 1, -ECONNREFUSED);
	CHECK_I("pending: worse", CHG_WORSE, cls(b, t, 4 * S, &a, &c));
	CHECK_U("pending: before n 0", 0, c.before_n);
	CHECK_D("pending: share before 0", 0, c.share_before, 0);
	baseline_free(b);
	flows_free(t);
}

/* the gone rows are the baseline's own: compared, they are gone with
 * their numbers before; asked what they are now, the filter's gone term
 * takes them and not the live rows */
static int now_of(void *ctx, const struct ct_row *r)
{
	return baseline_now(ctx, r);
}

static int keep_by(void *ctx, const struct ct_row *r)
{
	return filter_match(ctx, r);
}

static void on_gone_row(void *ctx, const struct ct_row *r, const struct ct_change_info *c)
{
	const struct ct_row **out = ctx;

	(void)c;
	*out = r;
}

static void test_gone_rows(void)
{
	struct ct_flows *t = flows_new(100);
	struct flow_key a = key("curl", "10.0.0.1", 443, 6), q = key("dig", "10.0.0.3", 53, 17);
	const struct ct_row *gone = NULL, *ra;
	struct ct_filter *f = filter_new("gone", NULL, 0), *w = filter_new("worse", NULL, 0);
	struct ct_change_info c;
	struct ct_baseline *b;
	struct ct_snap *s;
	char cell[32];

	add_n(t, a, 20, S, 1, 0);
	add_lat(t, q, S, 2, 0, 3 * MS);
	add_n(t, q, 9, S, 2, -ECONNREFUSED);
	b = take(t, 2 * S);
	/* cleared: a fails since, q has no connect left */
	flows_clear(t);
	add_n(t, a, 3, 3 * S, 1, -ECONNREFUSED);
	s = snap_new(t, 4 * S);
	ra = find_row(s->rows, s->n, &a);
	baseline_pass(b);
	for (size_t i = 0; i < s->n; i++)
		baseline_classify(b, &s->rows[i], &c);
	CHECK_U("one gone", 1, baseline_gone(b, on_gone_row, &gone));
	CHECK("gone: the baseline's own row", gone && baseline_owns(b, gone));
	CHECK("a live row is not the baseline's", ra && !baseline_owns(b, ra));
	if (!gone || !ra)
		abort();
	CHECK("gone: q's key", !memcmp(&gone->key, &q, sizeof(q)));
	CHECK_U("gone: its count before", 10, gone->count);
	CHECK_U("gone: its failures before", 9, ct_row_failures(gone));
	CHECK_U("gone: no rate", 0, (uint64_t)gone->rate);
	CHECK_D("gone: its p99 before", 3000, ct_row_lat_pct(gone, 0.99), 1);
	CHECK_I("gone: compared, gone", CHG_GONE, baseline_compare(b, gone, &c));
	CHECK_U("gone: before n", 10, c.before_n);
	CHECK_U("gone: before fail", 9, c.before_fail);
	CHECK_U("gone: none since", 0, c.since_n);
	CHECK_D("gone: p99 before", 3000, c.p99_before_us, 1);
	CHECK_S("gone: cell", "gone", baseline_cell(&c, cell, sizeof(cell)));
	CHECK_I("now: the gone row is gone", CHG_GONE, baseline_now(b, gone));
	CHECK_I("now: a live row is compared", CHG_WORSE, baseline_now(b, ra));
	/* the filter terms, asking baseline_now */
	filter_set_change_fn(f, now_of, b);
	filter_set_change_fn(w, now_of, b);
	CHECK("filter gone: the gone row", filter_match(f, gone));
	CHECK("filter gone: not the live row", !filter_match(f, ra));
	CHECK("filter worse: the live row", filter_match(w, ra));
	CHECK("filter worse: not the gone row", !filter_match(w, gone));
	/* the baseline's flows a grouped baseline takes by the filter worse:
	 * a's baseline row, by what a is now (the pass classified it) */
	{
		struct ct_baseline *g = baseline_group(b, GROUP_PROCESS, keep_by, w);

		CHECK_U("grouped by worse: curl's group only", 1, baseline_count(g));
		baseline_free(g);
	}
	/* a mark-only pass knows only seen or not */
	baseline_pass(b);
	for (size_t i = 0; i < s->n; i++)
		baseline_mark(b, &s->rows[i]);
	CHECK_U("marked: still one gone", 1, baseline_gone(b, NULL, NULL));
	snap_free(s);
	filter_free(f);
	filter_free(w);
	baseline_free(b);
	flows_free(t);
}

/* the group row of derived rows v with key k (a group key) */
static const struct ct_row *group_row(const struct ct_rows *v, enum ct_group g, struct flow_key k)
{
	struct flow_key gk;

	rows_group_key(g, &k, &gk);
	return find_view_row(v, &gk);
}

/* classify the group of flow key k in grouping g of a fresh snapshot */
static enum ct_change gcls(const struct ct_baseline *gb, struct ct_flows *t, uint64_t now,
			   enum ct_group g, struct flow_key k, struct ct_change_info *c)
{
	struct ct_snap *s = snap_new(t, now);
	const struct ct_row *r;
	enum ct_change ch = CHG_MAX;
	struct ct_rows v;

	if (!s || rows_derive(s, g, NULL, SORT_COUNT, 1, 0, &v))
		abort();
	if ((r = group_row(&v, g, k)))
		ch = baseline_compare(gb, r, c);
	rows_free(&v);
	snap_free(s);
	return ch;
}

static int port_443(void *ctx, const struct ct_row *r)
{
	(void)ctx;
	return r->key.dport == 443;
}

/* grouped views: a group against the same group of the baseline's flows */
static void test_groups(void)
{
	struct ct_flows *t = flows_new(100);
	struct flow_key a1 = key("curl", "10.0.0.1", 443, 6), a2 = key("curl", "10.0.0.2", 443, 6);
	struct flow_key q = key("dig", "10.0.0.3", 53, 17), n = key("wget", "10.0.0.5", 80, 6);
	struct flow_key l1 = key("web", "10.0.0.6", 80, 6), l2 = key("web", "10.0.0.7", 80, 6);
	struct ct_baseline *b, *gp, *gd, *g443;
	struct ct_change_info c;
	char cell[64];

	/* before: curl 99 ok 1 refused over two flows (1%), dig 10 */
	add_n(t, a1, 49, S, 1, 0);
	add_n(t, a1, 1, S, 1, -ECONNREFUSED);
	add_n(t, a2, 50, S, 1, 0);
	add_n(t, q, 10, S, 2, 0);
	for (int i = 0; i < 20; i++) {
		add_lat(t, l1, S, 3, 0, 2 * MS);
		add_lat(t, l2, S, 3, 0, 2 * MS);
	}
	b = take(t, 2 * S);
	gp = baseline_group(b, GROUP_PROCESS, NULL, NULL);
	gd = baseline_group(b, GROUP_DEST, NULL, NULL);
	g443 = baseline_group(b, GROUP_PROCESS, port_443, NULL);
	CHECK_U("process groups: curl dig web", 3, baseline_count(gp));
	CHECK_U("dest groups: five", 5, baseline_count(gd));
	CHECK_U("kept: port 443's flows only, curl", 1, baseline_count(g443));
	/* since: curl 16 ok 4 refused (20%) over both flows, neither worse by
	 * itself (a1 2 of 10, a2 2 of 10: both 20% too, so: one flow only) */
	add_n(t, a1, 6, 3 * S, 1, 0);
	add_n(t, a1, 2, 3 * S, 1, -ECONNREFUSED);
	add_n(t, a2, 10, 3 * S, 1, 0);
	add_n(t, a2, 2, 3 * S, 1, -ECONNREFUSED);
	add_n(t, n, 2, 3 * S, 4, 0);
	/* web: 5 slow handshakes on each flow, 1 s */
	for (int i = 0; i < 5; i++) {
		add_lat(t, l1, 3 * S, 3, 0, 1000 * MS);
		add_lat(t, l2, 3 * S, 3, 0, 1000 * MS);
	}
	CHECK_I("curl: worse on the group's share", CHG_WORSE,
		gcls(gp, t, 4 * S, GROUP_PROCESS, a1, &c));
	CHECK_U("curl: before n, both flows", 100, c.before_n);
	CHECK_U("curl: before fail", 1, c.before_fail);
	CHECK_U("curl: since n, both flows", 20, c.since_n);
	CHECK_U("curl: since fail", 4, c.since_fail);
	CHECK_S("curl: cell", "worse 1%\u219220%", baseline_cell(&c, cell, sizeof(cell)));
	CHECK_I("wget: all its flows new, new", CHG_NEW, gcls(gp, t, 4 * S, GROUP_PROCESS, n, &c));
	CHECK_I("dig: silent", CHG_SILENT, gcls(gp, t, 4 * S, GROUP_PROCESS, q, &c));
	CHECK_I("web: p99 of the group's handshakes since", CHG_WORSE,
		gcls(gp, t, 4 * S, GROUP_PROCESS, l1, &c));
	CHECK_U("web: why p99", CHG_WHY_P99, c.why);
	CHECK_D("web: p99 before", 2000, c.p99_before_us, 60);
	CHECK_D("web: p99 since", 1e6, c.p99_after_us, 1);
	CHECK_I("dest 10.0.0.1: worse (2 of 10 since)", CHG_WORSE,
		gcls(gd, t, 4 * S, GROUP_DEST, a1, &c));
	CHECK_I("dest 10.0.0.5: new", CHG_NEW, gcls(gd, t, 4 * S, GROUP_DEST, n, &c));
	/* the group of the kept flows: dig's flows were not kept, its group
	 * is not in that baseline */
	CHECK_I("kept 443: curl worse", CHG_WORSE, gcls(g443, t, 4 * S, GROUP_PROCESS, a1, &c));
	CHECK_I("kept 443: dig not in it, new", CHG_NEW,
		gcls(g443, t, 4 * S, GROUP_PROCESS, q, &c));
	baseline_free(gp);
	baseline_free(gd);
	baseline_free(g443);
	baseline_free(b);
	flows_free(t);
	CHECK("baseline_group of none: NULL", !baseline_group(NULL, GROUP_DEST, NULL, NULL));
}

/* eviction: a process's group keeps its flows' counts (the (process, *)
 * row is in it), a destination's group is gone, the dest and port groups
 * of (process, *) rows are never worse */
static void test_group_evict(void)
{
	struct ct_flows *t = flows_new(2);
	struct flow_key a = key("x", "10.0.0.1", 80, 6), b2 = key("x", "10.0.0.2", 80, 6);
	struct flow_key n = key("x", "10.0.0.3", 80, 6), fk;
	const struct ct_row *gone = NULL;
	struct ct_baseline *b, *gp, *gd, *gport;
	struct ct_change_info c;
	struct ct_snap *s;
	struct ct_rows v;

	add_n(t, a, 4, S, 1, 0);
	add_n(t, b2, 3, S, 1, 0);
	b = take(t, 2 * S);
	gp = baseline_group(b, GROUP_PROCESS, NULL, NULL);
	gd = baseline_group(b, GROUP_DEST, NULL, NULL);
	add_n(t, n, 1, 3 * S, 1, 0); /* evicts a or b2 into (x, *) */
	CHECK_I("process x: no change (one ok since)", CHG_NONE,
		gcls(gp, t, 4 * S, GROUP_PROCESS, a, &c));
	CHECK_U("process x: its totals kept across the eviction: 1 since", 1, c.since_n);
	CHECK_U("process x: 7 before", 7, c.before_n);
	s = snap_new(t, 4 * S);
	if (!s || rows_derive(s, GROUP_DEST, NULL, SORT_COUNT, 1, 0, &v))
		abort();
	baseline_pass(gd);
	memset(&fk, 0, sizeof(fk));
	for (size_t i = 0; i < v.n; i++) {
		baseline_mark(gd, v.rows[i]);
		if (v.rows[i]->key.family == CT_FAMILY_FOLDED)
			fk = v.rows[i]->key;
	}
	CHECK_U("dest: one gone", 1, baseline_gone(gd, on_gone_row, &gone));
	CHECK("dest: the evicted flow's destination",
	      gone && (gone->key.daddr[3] == 1 || gone->key.daddr[3] == 2));
	CHECK_I("dest: the gone group compares gone", CHG_GONE,
		gone ? baseline_compare(gd, gone, &c) : CHG_MAX);
	CHECK_U("dest: (x, *)'s group present", CT_FAMILY_FOLDED, fk.family);
	rows_free(&v);
	snap_free(s);
	baseline_free(gp);
	baseline_free(gd);
	/* a baseline with (x, *) in it: its port group (port 0) takes the
	 * next evicted flow's whole history, never worse for it */
	s = snap_new(t, 5 * S);
	baseline_free(b);
	b = baseline_new(s->rows, s->n, 5 * S);
	snap_free(s);
	gport = baseline_group(b, GROUP_PORT, NULL, NULL);
	/* each evicts the least recent flow; the failing ones go too */
	add_n(t, key("x", "10.0.0.9", 81, 6), 9, 6 * S, 1, -ECONNREFUSED);
	add_n(t, key("x", "10.0.0.8", 82, 6), 9, 7 * S, 1, -ECONNREFUSED);
	add_n(t, key("x", "10.0.0.7", 83, 6), 1, 8 * S, 1, 0);
	add_n(t, key("x", "10.0.0.6", 84, 6), 1, 9 * S, 1, 0);
	CHECK("port group of (x, *): not worse",
	      gcls(gport, t, 10 * S, GROUP_PORT, fk, &c) != CHG_WORSE);
	/* what would make it worse by the share rule, but for the rule */
	CHECK("port group of (x, *): it took failures in", c.since_fail >= 9);
	CHECK("port group of (x, *): at a share well above before's",
	      (c.share_after - c.share_before) * 100 >= 2 * CT_BASE_FAIL_POINTS);
	baseline_free(gport);
	baseline_free(b);
	flows_free(t);
}

/* a histogram taken from one that is not its earlier state: a bucket
 * empties, it never wraps */
static void test_lat_sub_clamp(void)
{
	struct ct_lat h, more;

	memset(&h, 0, sizeof(h));
	memset(&more, 0, sizeof(more));
	ct_lat_add(&h, 3 * MS, 2);
	ct_lat_add(&more, 3 * MS, 5);
	ct_lat_sub(&h, &more);
	CHECK_U("sub: the bucket emptied", 0, h.n);
}

int main(void)
{
	test_kinds();
	test_fail_edges();
	test_p99();
	test_edges();
	test_pending();
	test_gone_rows();
	test_groups();
	test_group_evict();
	test_lat_sub_clamp();
	printf("%d passed, %d failed\n", ck_checks - ck_fails, ck_fails);
	return ck_done();
}
