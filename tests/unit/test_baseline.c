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

int main(void)
{
	test_kinds();
	test_fail_edges();
	test_p99();
	test_edges();
	test_pending();
	printf("%d passed, %d failed\n", ck_checks - ck_fails, ck_fails);
	return ck_done();
}
