// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * flows.c: counts per flow, pids, results, pending/outcome, rates and
 * history, eviction, latency percentiles, grouping, sorting, snapshots and
 * views. Synthetic samples with explicit timestamps; flows_tick() with
 * explicit times (the core has no clock).
 */
#include <errno.h>

#include "check.h"
#include "filter.h"

#define T0 (1000 * NS_PER_S)

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* the pids of a row, sorted, as text: "100 101" */
static const char *pids_str(const struct ct_row *r)
{
	static char buf[256];
	uint32_t tmp[64];
	size_t n = r->npids < 64 ? r->npids : 64;

	buf[0] = 0;
	if (!ct_row_pids(r))
		return "(no pids array)";
	memcpy(tmp, ct_row_pids(r), n * sizeof(*tmp));
	qsort(tmp, n, sizeof(*tmp), cmp_u32);
	for (size_t i = 0; i < n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%u", i ? " " : "",
			 tmp[i]);
	return buf;
}

/* a row's history as its snapshot or view (of interval epoch) shows it */
static uint32_t hist_at(const struct ct_row *r, uint64_t epoch, int i)
{
	uint32_t h[CT_HIST];

	ct_row_history(r, epoch, h);
	return h[i];
}

static void check_hist(const char *name, const struct ct_row *r, uint64_t epoch,
		       const uint32_t want[CT_HIST])
{
	uint32_t h[CT_HIST];

	ct_row_history(r, epoch, h);
	for (int i = 0; i < CT_HIST; i++) {
		if (h[i] != want[i]) {
			ck(0, name, "hist[%d]: expected %u, got %u", i, want[i], h[i]);
			return;
		}
	}
	ck(1, name, " ");
}

/* ---- counts per key ---- */

/* the samples' count in the bucket of h that holds us (0: none holds it) */
static uint32_t lat_at(const struct ct_lat *h, uint64_t us)
{
	uint64_t lo, hi;

	for (unsigned i = 0; i < h->n; i++) {
		ct_lat_bounds(h, i, &lo, &hi);
		if (lo <= us && us < hi)
			return h->count[i];
	}
	return 0;
}

static void test_counts(void)
{
	struct ct_flows *t = flows_new(100);
	struct flow_key a = key("curl", "10.0.0.1", 80, P_TCP),
			b = key("curl", "10.0.0.1", 443, P_TCP),
			c = key("wget", "10.0.0.1", 80, P_TCP),
			d = key("curl", "10.0.0.1", 80, P_UDP),
			e = key("curl", "fd00::1", 80, P_TCP),
			f = key("curl", "10.0.0.2", 80, P_TCP);
	struct ct_snap *s;
	const struct ct_row *r;

	add_n(t, a, 1, T0 + 1, 10, 0);
	add_n(t, a, 1, T0 + 3, 10, 0);
	add_n(t, a, 1, T0 + 2, 10, 0); /* out of order: last_ns stays */
	add_n(t, b, 2, T0 + 4, 10, 0);
	add_n(t, c, 1, T0 + 5, 11, 0);
	add_n(t, d, 1, T0 + 6, 10, 0);
	add_n(t, e, 1, T0 + 7, 10, 0);
	add_n(t, f, 4, T0 + 8, 10, 0);
	CHECK_U("counts.flows", 6, flows_count(t));
	CHECK_U("counts.evicted", 0, flows_evicted(t));
	s = snap_new(t, T0 + 9);
	CHECK_U("counts.snap_n", 6, s->n);
	CHECK_U("counts.snap_taken", T0 + 9, s->taken_ns);
	r = find_row(s->rows, s->n, &a);
	CHECK("counts.a_found", r);
	if (r) {
		CHECK_U("counts.a", 3, r->count);
		CHECK_U("counts.a_first_ns", T0 + 1, r->first_ns);
		CHECK_U("counts.a_last_ns", T0 + 3, r->last_ns);
		CHECK_U("counts.a_nflows", 1, r->nflows);
		CHECK_U("counts.a_npids", 1, r->npids);
		CHECK_U("counts.a_pid", 10, r->pid);
		CHECK_U("counts.a_uid", 1000, r->uid);
		CHECK_U("counts.a_ok", 3, r->results[RES_OK]);
	}
	r = find_row(s->rows, s->n, &b);
	CHECK_U("counts.b_port_differs", 2, r ? r->count : 0);
	r = find_row(s->rows, s->n, &c);
	CHECK_U("counts.c_comm_differs", 1, r ? r->count : 0);
	r = find_row(s->rows, s->n, &d);
	CHECK_U("counts.d_proto_differs", 1, r ? r->count : 0);
	r = find_row(s->rows, s->n, &e);
	CHECK_U("counts.e_v6_differs", 1, r ? r->count : 0);
	r = find_row(s->rows, s->n, &f);
	CHECK_U("counts.f_addr_differs", 4, r ? r->count : 0);
	snap_free(s);
	flows_free(t);
}

/* ---- a shell loop: one flow, many pids ---- */

static void test_pids(void)
{
	struct ct_flows *t = flows_new(10);
	struct flow_key k = key("sh", "10.0.0.1", 80, P_TCP);
	struct ct_snap *s;
	int ok = 1;

	for (uint32_t pid = 1000; pid < 2000; pid++)
		add_n(t, k, 1, T0 + pid, pid, 0);
	CHECK_U("pids.shell_loop_one_flow", 1, flows_count(t));
	s = snap_new(t, T0 + 5000);
	CHECK_U("pids.shell_loop_count", 1000, s->rows[0].count);
	CHECK_U("pids.shell_loop_npids", 1000, s->rows[0].npids);
	CHECK_U("pids.shell_loop_last_pid", 1999, s->rows[0].pid);
	if (ct_row_pids(&s->rows[0]) && s->rows[0].npids == 1000) {
		uint32_t tmp[1000];

		memcpy(tmp, ct_row_pids(&s->rows[0]), sizeof(tmp));
		qsort(tmp, 1000, sizeof(*tmp), cmp_u32);
		for (uint32_t i = 0; i < 1000; i++)
			ok &= tmp[i] == 1000 + i;
		CHECK("pids.shell_loop_pid_list", ok);
	} else {
		CHECK("pids.shell_loop_pid_list", 0);
	}
	snap_free(s);

	/* a pid seen again is not a new pid */
	add_n(t, k, 3, T0 + 6000, 1500, 0);
	s = snap_new(t, T0 + 6001);
	CHECK_U("pids.repeat_count", 1003, s->rows[0].count);
	CHECK_U("pids.repeat_npids", 1000, s->rows[0].npids);
	snap_free(s);

	/* saturation at CT_MAX_PIDS */
	for (uint32_t pid = 2000; pid < 3000; pid++)
		add_n(t, k, 1, T0 + 7000 + pid, pid, 0);
	s = snap_new(t, T0 + 20000);
	CHECK_U("pids.saturated_count", 2003, s->rows[0].count);
	CHECK_U("pids.saturated_npids", CT_MAX_PIDS, s->rows[0].npids);
	CHECK_U("pids.saturated_last_pid", 2999, s->rows[0].pid);
	if (ct_row_pids(&s->rows[0]) && s->rows[0].npids == CT_MAX_PIDS) {
		uint32_t tmp[CT_MAX_PIDS];

		memcpy(tmp, ct_row_pids(&s->rows[0]), sizeof(tmp));
		qsort(tmp, CT_MAX_PIDS, sizeof(*tmp), cmp_u32);
		ok = tmp[0] >= 1000 && tmp[CT_MAX_PIDS - 1] <= 2999;
		for (int i = 1; i < CT_MAX_PIDS; i++)
			ok &= tmp[i] > tmp[i - 1];
		CHECK("pids.saturated_list_distinct", ok);
	} else {
		CHECK("pids.saturated_list_distinct", 0);
	}
	snap_free(s);
	flows_free(t);

	/* 2000 distinct pids on a fresh flow */
	t = flows_new(10);
	for (uint32_t pid = 1; pid <= 2000; pid++)
		add_n(t, k, 1, T0 + pid, pid, 0);
	s = snap_new(t, T0 + 3000);
	CHECK_U("pids.2000_count", 2000, s->rows[0].count);
	CHECK_U("pids.2000_npids", 1024, s->rows[0].npids);
	snap_free(s);
	flows_free(t);

	/* few pids: the small (inline) representation and the move to a table */
	t = flows_new(10);
	add_n(t, k, 1, T0 + 1, 5, 0);
	add_n(t, k, 1, T0 + 2, 6, 0);
	add_n(t, k, 1, T0 + 3, 5, 0);
	add_n(t, k, 1, T0 + 4, 6, 0);
	s = snap_new(t, T0 + 5);
	CHECK_U("pids.two_npids", 2, s->rows[0].npids);
	CHECK_S("pids.two_list", "5 6", pids_str(&s->rows[0]));
	snap_free(s);
	add_n(t, k, 1, T0 + 5, 7, 0);
	add_n(t, k, 1, T0 + 6, 5, 0);
	s = snap_new(t, T0 + 7);
	CHECK_U("pids.three_npids", 3, s->rows[0].npids);
	CHECK_S("pids.three_list", "5 6 7", pids_str(&s->rows[0]));
	CHECK_U("pids.three_last", 5, s->rows[0].pid);
	snap_free(s);
	flows_free(t);
}

/* ---- results and errors ---- */

static void test_results(void)
{
	struct ct_flows *t = flows_new(10);
	struct flow_key k = key("curl", "10.0.0.1", 80, P_TCP),
			k2 = key("nc", "10.0.0.1", 81, P_TCP);
	static const int rets[] = {
		0,	 -ECONNREFUSED, 0, -ECONNREFUSED, -ETIMEDOUT, -ENETUNREACH, -EHOSTUNREACH,
		-EACCES, -ECONNREFUSED
	};
	struct ct_snap *s;
	const struct ct_row *r;

	CHECK_I("classify.ok", RES_OK, ct_classify(0));
	CHECK_I("classify.refused", RES_REFUSED, ct_classify(-ECONNREFUSED));
	CHECK_I("classify.timeout", RES_TIMEOUT, ct_classify(-ETIMEDOUT));
	CHECK_I("classify.netunreach", RES_UNREACH, ct_classify(-ENETUNREACH));
	CHECK_I("classify.hostunreach", RES_UNREACH, ct_classify(-EHOSTUNREACH));
	/* pending only with ct_sample.pending: see test_untracked */
	CHECK_I("classify.inprogress", RES_OTHER, ct_classify(-EINPROGRESS));
	CHECK_I("classify.eacces", RES_OTHER, ct_classify(-EACCES));
	CHECK_I("classify.econnreset", RES_OTHER, ct_classify(-ECONNRESET));
	CHECK_I("classify.eperm", RES_OTHER, ct_classify(-EPERM));
	CHECK_S("result_names.0", "ok", ct_result_names[RES_OK]);
	CHECK_S("result_names.1", "refused", ct_result_names[RES_REFUSED]);
	CHECK_S("result_names.2", "timeout", ct_result_names[RES_TIMEOUT]);
	CHECK_S("result_names.3", "unreachable", ct_result_names[RES_UNREACH]);
	CHECK_S("result_names.4", "pending", ct_result_names[RES_PENDING]);
	CHECK_S("result_names.5", "other", ct_result_names[RES_OTHER]);

	for (size_t i = 0; i < ARRAY_SIZE(rets); i++)
		add_n(t, k, 1, T0 + i, 1, rets[i]);
	add_n(t, k2, 2, T0 + 20, 1, -EACCES);
	add_n(t, k2, 1, T0 + 21, 1, -EPERM);
	s = snap_new(t, T0 + 100);
	r = find_row(s->rows, s->n, &k);
	if (!CHECK("results.found", r)) {
		snap_free(s);
		flows_free(t);
		return;
	}
	CHECK_U("results.count", 9, r->count);
	CHECK_U("results.ok", 2, r->results[RES_OK]);
	CHECK_U("results.refused", 3, r->results[RES_REFUSED]);
	CHECK_U("results.timeout", 1, r->results[RES_TIMEOUT]);
	CHECK_U("results.unreach", 2, r->results[RES_UNREACH]);
	CHECK_U("results.pending", 0, r->results[RES_PENDING]);
	CHECK_U("results.other", 1, r->results[RES_OTHER]);
	CHECK_U("results.failures", 7, ct_row_failures(r));
	/* the first four distinct errnos, in order of first appearance */
	CHECK_I("errs.0.err", ECONNREFUSED, r->more->errs[0].err);
	CHECK_U("errs.0.count", 3, r->more->errs[0].count);
	CHECK_I("errs.1.err", ETIMEDOUT, r->more->errs[1].err);
	CHECK_U("errs.1.count", 1, r->more->errs[1].count);
	CHECK_I("errs.2.err", ENETUNREACH, r->more->errs[2].err);
	CHECK_U("errs.2.count", 1, r->more->errs[2].count);
	CHECK_I("errs.3.err", EHOSTUNREACH, r->more->errs[3].err);
	CHECK_U("errs.3.count", 1, r->more->errs[3].count);
	CHECK_U("errs.other", 1, r->errs_other); /* EACCES, the fifth */
	r = find_row(s->rows, s->n, &k2);
	CHECK_U("errs.other_class_count", 3, r ? r->results[RES_OTHER] : 0);
	CHECK_I("errs.other_class_eacces", EACCES, r ? r->more->errs[0].err : 0);
	CHECK_U("errs.other_class_eacces_n", 2, r ? r->more->errs[0].count : 0);
	CHECK_I("errs.other_class_eperm", EPERM, r ? r->more->errs[1].err : 0);
	CHECK_U("errs.other_class_eperm_n", 1, r ? r->more->errs[1].count : 0);
	CHECK_U("errs.other_class_no_overflow", 0, r ? r->errs_other : 1);
	snap_free(s);
	flows_free(t);
}

/* ---- pending connects and their outcome ---- */

static void test_pending(void)
{
	struct ct_flows *t = flows_new(10);
	struct flow_key k = key("curl", "10.0.0.1", 443, P_TCP),
			k2 = key("curl", "10.0.0.9", 443, P_TCP);
	struct ct_sample p, o;
	struct ct_snap *s;

	flows_tick(t, T0);
	p = sample(k, T0 + 1 * NS_PER_MS, 7, -EINPROGRESS);
	p.pending = 1;
	flows_add(t, &p);
	s = snap_new(t, T0 + 2 * NS_PER_MS);
	CHECK_U("pending.count", 1, s->rows[0].count);
	CHECK_U("pending.pending", 1, s->rows[0].results[RES_PENDING]);
	CHECK_U("pending.ok", 0, s->rows[0].results[RES_OK]);
	CHECK_U("pending.other", 0, s->rows[0].results[RES_OTHER]);
	CHECK_U("pending.not_a_failure", 0, ct_row_failures(&s->rows[0]));
	CHECK_I("pending.no_errno", 0, s->rows[0].more->errs[0].err);
	snap_free(s);

	o = sample(k, T0 + 5 * NS_PER_MS, 7, 0);
	o.outcome = 1;
	o.has_lat = 1;
	o.lat_ns = 1500000; /* 1500 us: bucket [1024, 2048) */
	flows_add(t, &o);
	s = snap_new(t, T0 + 6 * NS_PER_MS);
	CHECK_U("outcome.count_stays", 1, s->rows[0].count);
	CHECK_U("outcome.pending_0", 0, s->rows[0].results[RES_PENDING]);
	CHECK_U("outcome.ok_1", 1, s->rows[0].results[RES_OK]);
	CHECK_U("outcome.lat_n", 1, s->rows[0].lat_n);
	CHECK_U("outcome.lat_sum", 1500000, s->rows[0].lat_sum_ns);
	CHECK_U("outcome.lat_max", 1500000, s->rows[0].lat_max_ns);
	CHECK_U("outcome.lat_bucket_1500us", 1, lat_at(ct_more_lat(s->rows[0].more), 1500));
	CHECK_U("outcome.last_ns", T0 + 5 * NS_PER_MS, s->rows[0].last_ns);
	CHECK_U("outcome.npids", 1, s->rows[0].npids);
	snap_free(s);

	/* a second pending connect that is refused */
	p.ts_ns = T0 + 10 * NS_PER_MS;
	flows_add(t, &p);
	o = sample(k, T0 + 11 * NS_PER_MS, 7, -ECONNREFUSED);
	o.outcome = 1;
	flows_add(t, &o);
	flows_tick(t, T0 + NS_PER_S);
	s = snap_new(t, T0 + NS_PER_S);
	CHECK_U("outcome_refused.count", 2, s->rows[0].count);
	CHECK_U("outcome_refused.pending", 0, s->rows[0].results[RES_PENDING]);
	CHECK_U("outcome_refused.refused", 1, s->rows[0].results[RES_REFUSED]);
	CHECK_I("outcome_refused.errno", ECONNREFUSED, s->rows[0].more->errs[0].err);
	CHECK_U("outcome_refused.errno_n", 1, s->rows[0].more->errs[0].count);
	/* outcomes are not connects: the interval saw 2 */
	CHECK_U("outcome.interval_count", 2, s->rows[0].interval_count);
	CHECK_U("outcome.hist0", 2, hist_at(&s->rows[0], s->epoch, 0));
	snap_free(s);

	/* pending in one interval, resolved in the next */
	flows_add(t, &p);
	flows_tick(t, T0 + 2 * NS_PER_S);
	o = sample(k, T0 + 2 * NS_PER_S + 1, 7, -ETIMEDOUT);
	o.outcome = 1;
	flows_add(t, &o);
	flows_tick(t, T0 + 3 * NS_PER_S);
	s = snap_new(t, T0 + 3 * NS_PER_S);
	CHECK_U("outcome_later.count", 3, s->rows[0].count);
	CHECK_U("outcome_later.hist0", 0, hist_at(&s->rows[0], s->epoch, 0));
	CHECK_U("outcome_later.hist1", 1, hist_at(&s->rows[0], s->epoch, 1));
	CHECK_U("outcome_later.timeout", 1, s->rows[0].results[RES_TIMEOUT]);
	CHECK_U("outcome_later.pending", 0, s->rows[0].results[RES_PENDING]);
	snap_free(s);

	/* an outcome for a flow that does not exist counts a new connect */
	o = sample(k2, T0 + 4 * NS_PER_S, 8, 0);
	o.outcome = 1;
	flows_add(t, &o);
	s = snap_new(t, T0 + 4 * NS_PER_S);
	{
		const struct ct_row *r = find_row(s->rows, s->n, &k2);

		CHECK_U("outcome_unknown.flows", 2, flows_count(t));
		CHECK_U("outcome_unknown.count", 1, r ? r->count : 0);
		CHECK_U("outcome_unknown.ok", 1, r ? r->results[RES_OK] : 0);
		CHECK_U("outcome_unknown.pending", 0, r ? r->results[RES_PENDING] : 1);
		CHECK_U("outcome_unknown.npids", 1, r ? r->npids : 0);
	}
	snap_free(s);
	/* an outcome on a flow with nothing pending: also a new connect */
	o.ret = -ETIMEDOUT;
	flows_add(t, &o);
	s = snap_new(t, T0 + 4 * NS_PER_S);
	{
		const struct ct_row *r = find_row(s->rows, s->n, &k2);

		CHECK_U("outcome_nothing_pending.count", 2, r ? r->count : 0);
		CHECK_U("outcome_nothing_pending.timeout", 1, r ? r->results[RES_TIMEOUT] : 0);
	}
	snap_free(s);
	flows_free(t);
}

/* ---- the age of the connects in flight ---- */

/* a connect of k that began at start, pending or (outcome) its outcome */
static void add_flight(struct ct_flows *t, struct flow_key k, uint64_t ts, uint64_t start,
		       int outcome, int ret)
{
	struct ct_sample s = sample(k, ts, 7, ret);

	s.start_ns = start;
	s.pending = !outcome;
	s.outcome = (uint8_t)outcome;
	flows_add(t, &s);
}

static void test_pending_age(void)
{
	struct ct_flows *t = flows_new(10);
	struct flow_key a = key("svc", "10.0.0.1", 443, P_TCP),
			b = key("svc", "10.0.0.2", 443, P_TCP);
	struct ct_rows v = { 0 };
	struct ct_snap *s;
	const struct ct_row *r;

	flows_tick(t, T0);
	/* three in flight on a, begun at 1, 2 and 3 s; one on b at 5 s */
	add_flight(t, a, T0 + 1 * NS_PER_S, T0 + 1 * NS_PER_S, 0, -EINPROGRESS);
	add_flight(t, a, T0 + 2 * NS_PER_S, T0 + 2 * NS_PER_S, 0, -EINPROGRESS);
	add_flight(t, a, T0 + 3 * NS_PER_S, T0 + 3 * NS_PER_S, 0, -EINPROGRESS);
	add_flight(t, b, T0 + 5 * NS_PER_S, T0 + 5 * NS_PER_S, 0, -EINPROGRESS);
	s = snap_new(t, T0 + 6 * NS_PER_S);
	r = find_row(s->rows, s->n, &a);
	CHECK_U("age.pending", 3, r ? r->results[RES_PENDING] : 0);
	CHECK_U("age.oldest", T0 + 1 * NS_PER_S, r ? r->more->pending_since_ns : 0);
	/* the process group: its oldest of all */
	CHECK_I("age.group_view", 0, rows_refresh(s, GROUP_PROCESS, NULL, SORT_COUNT, 1, 0, &v));
	CHECK_U("age.group_oldest", T0 + 1 * NS_PER_S, v.n ? v.rows[0]->more->pending_since_ns : 0);

	/* the oldest resolves (its outcome carries its start): the next one
	 * is the oldest; the group, updated by difference, follows */
	add_flight(t, a, T0 + 7 * NS_PER_S, T0 + 1 * NS_PER_S, 1, -ETIMEDOUT);
	s->keep_old = 1;
	s = snap_refresh(t, T0 + 8 * NS_PER_S, s);
	r = find_row(s->rows, s->n, &a);
	CHECK_U("age.after_outcome.pending", 2, r ? r->results[RES_PENDING] : 0);
	CHECK_U("age.after_outcome.oldest", T0 + 2 * NS_PER_S, r ? r->more->pending_since_ns : 0);
	CHECK_I("age.group_view2", 0, rows_refresh(s, GROUP_PROCESS, NULL, SORT_COUNT, 1, 0, &v));
	CHECK_U("age.group_oldest2", T0 + 2 * NS_PER_S,
		v.n ? v.rows[0]->more->pending_since_ns : 0);

	/* one in the middle resolves: the oldest stays */
	add_flight(t, a, T0 + 8 * NS_PER_S, T0 + 3 * NS_PER_S, 1, 0);
	s = snap_refresh(t, T0 + 9 * NS_PER_S, s);
	r = find_row(s->rows, s->n, &a);
	CHECK_U("age.middle.oldest", T0 + 2 * NS_PER_S, r ? r->more->pending_since_ns : 0);

	/* all of a resolved: none there; the group's oldest is b's */
	add_flight(t, a, T0 + 9 * NS_PER_S, T0 + 2 * NS_PER_S, 1, 0);
	s = snap_refresh(t, T0 + 10 * NS_PER_S, s);
	r = find_row(s->rows, s->n, &a);
	CHECK_U("age.none.pending", 0, r ? r->results[RES_PENDING] : 1);
	CHECK_U("age.none.since", 0, r ? r->more->pending_since_ns : 1);
	CHECK_I("age.group_view3", 0, rows_refresh(s, GROUP_PROCESS, NULL, SORT_COUNT, 1, 0, &v));
	CHECK_U("age.group_oldest3", T0 + 5 * NS_PER_S,
		v.n ? v.rows[0]->more->pending_since_ns : 0);
	CHECK_U("age.group_pending3", 1, v.n ? v.rows[0]->results[RES_PENDING] : 0);
	rows_free(&v);
	snap_free(s);
	flows_free(t); /* b's set is freed with it (ASan) */
}

/* ---- rates and history ---- */

struct hook_count {
	const struct ct_flows *t;
	size_t calls, n_seen; /* the table's size at each call: it stays */
	int changed;
};

static void count_hook(void *ctx)
{
	struct hook_count *h = ctx;

	if (h->calls++ && flows_count(h->t) != h->n_seen)
		h->changed = 1;
	h->n_seen = flows_count(h->t);
}

/* A refresh calls its hook every SNAP_HOOK_ROWS rows written (the ring
 * buffer is read on meanwhile: app.h), in a full copy and in a catch-up,
 * and not when few rows changed. */
static void test_snap_hook(void)
{
	struct ct_flows *t = flows_new(100000);
	struct hook_count h = { .t = t };
	struct snap_hook hook = { count_hook, &h };
	struct ct_snap *s;
	uint64_t now = T0;
	char addr[32];
	int n = 50000;

	flows_tick(t, now);
	add_n(t, key("hook", "10.0.0.1", 80, P_UDP), 1, now + 1, 1, 0);
	s = snap_new(t, now + 1);
	for (int i = 1; i < n; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", 1 + i / 62500, i / 250 % 250,
			 i % 250 + 1);
		add_n(t, key("hook", addr, 80, P_UDP), 1, now + 1, 1, 0);
	}
	/* outgrew it: copied, with the bound's room */
	s = snap_refresh_hook(t, now + 2, s, &hook);
	CHECK("snap_hook.refresh", s != NULL);
	CHECK_U("snap_hook.full_calls", n / SNAP_HOOK_ROWS, h.calls);
	CHECK_U("snap_hook.table_still", 0, h.changed);
	CHECK("snap_hook.cleared", s && !s->hook);
	/* 20,000 new flows written in a catch-up */
	for (int i = n; i < n + 20000; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", 1 + i / 62500, i / 250 % 250,
			 i % 250 + 1);
		add_n(t, key("hook", addr, 80, P_UDP), 1, now + 3, 1, 0);
	}
	h.calls = 0;
	s = snap_refresh_hook(t, now + 4, s, &hook);
	CHECK("snap_hook.refresh_inc", s && !s->full);
	CHECK("snap_hook.inc_calls", h.calls >= 20000 / SNAP_HOOK_ROWS);
	/* nothing changed: a look at each row, no write, at most a call or
	 * two for the look */
	h.calls = 0;
	s = snap_refresh_hook(t, now + 5, s, &hook);
	CHECK("snap_hook.idle_calls", h.calls <= 2);
	CHECK_U("snap_hook.rows", n + 20000, s ? s->n : 0);
	snap_free(s);
	flows_free(t);
}

/* A large table's refreshed snapshot has room for the table's bound: the
 * flows growing past its first size are written in, not copied anew. */
static void test_snap_bound_room(void)
{
	struct ct_flows *t = flows_new(70000);
	struct ct_snap *s;
	uint64_t now = T0, sum = 0;
	char addr[32];

	flows_tick(t, now);
	for (int i = 0; i < 100; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", 1 + i / 62500, i / 250 % 250,
			 i % 250 + 1);
		add_n(t, key("scan", addr, 80, P_UDP), 1, now + 1, 1, 0);
	}
	s = snap_new(t, now + 2);
	s = snap_refresh(t, now + 3, s); /* now with room */
	CHECK("snap_bound.refresh", s != NULL);
	for (int i = 100; i < 60000; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", 1 + i / 62500, i / 250 % 250,
			 i % 250 + 1);
		add_n(t, key("scan", addr, 80, P_UDP), 1, now + 4, 1, 0);
	}
	s = snap_refresh(t, now + 5, s); /* outgrew its room: copied, with the bound's */
	CHECK("snap_bound.refresh_grown", s != NULL);
	if (s)
		CHECK_U("snap_bound.copied_once", 1, s->full);
	for (int i = 60000; i < 69000; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", 1 + i / 62500, i / 250 % 250,
			 i % 250 + 1);
		add_n(t, key("scan", addr, 80, P_UDP), 1, now + 6, 1, 0);
	}
	s = snap_refresh(t, now + 7, s);
	CHECK("snap_bound.refresh_grown_again", s != NULL);
	if (s) {
		/* a quarter more room would have been outgrown again */
		CHECK_U("snap_bound.not_copied", 0, s->full);
		CHECK_U("snap_bound.rows", 69000, s->n);
		for (size_t i = 0; i < s->n; i++)
			sum += s->rows[i].count;
		CHECK_U("snap_bound.counts", 69000, sum);
	}
	snap_free(s);
	flows_free(t);
}

/* A flow with connects in one interval only keeps its history compact (no
 * ring): it goes cold, hot again, cold past the window, and hot once more,
 * its counts, history and latency histogram exact all the way. */
/* A snapshot's row points at copies of its own: the table going on (more
 * samples, a new interval, the flow evicted and its memory reused) leaves
 * the latency buckets and history it shows as they were */
static void test_snap_own_copies(void)
{
	struct ct_flows *t = flows_new(1);
	struct flow_key k = key("curl", "10.0.0.1", 443, P_TCP), o = key("x", "10.0.0.9", 1, P_TCP);
	uint32_t want[CT_HIST];
	struct ct_snap *s;
	uint64_t now = T0;

	flows_tick(t, now);
	add_lat(t, k, now + 1, 1, 0, 1000000);
	flows_tick(t, now += NS_PER_S);
	add_lat(t, k, now + 1, 1, 0, 2000000); /* a second interval: a ring */
	flows_tick(t, now += NS_PER_S);
	s = snap_new(t, now);
	CHECK("own.has_ring", s->rows[0].more->hist_ring && s->rows[0].more->lat);
	add_lat(t, k, now + 1, 1, 0, 500000000);
	flows_tick(t, now += NS_PER_S);
	flows_clear(t); /* k's memory goes back to the table */
	add_lat(t, o, now + 1, 1, 0, 9000000);
	add_lat(t, o, now + 2, 1, 0, 9000000);
	CHECK_U("own.lat_n", 2, s->rows[0].lat_n);
	CHECK_U("own.lat_buckets", 2, ct_more_lat(s->rows[0].more)->n);
	CHECK_D("own.p100", 2000.0, ct_row_lat_pct(&s->rows[0], 1.0), 1e-9);
	memset(want, 0, sizeof(want));
	want[0] = 1;
	want[1] = 1;
	check_hist("own.hist", &s->rows[0], s->epoch, want);
	snap_free(s);
	flows_free(t);
}

/* Cold flows (one pid, connects in one interval, nothing else) share
 * their snapshot's mores; what the row shows is the same as for any flow:
 * its pid, its history. One that warms up (a second pid, an error, a
 * second interval) gets a more of its own, in a refresh as in a copy. */
static void test_cold_rows(void)
{
	struct ct_flows *t = flows_new(100);
	struct flow_key a = key("dig", "10.0.0.1", 53, P_UDP),
			b = key("dig", "10.0.0.2", 53, P_UDP);
	struct flow_key c = key("dig", "10.0.0.3", 53, P_UDP);
	const struct ct_row *ra, *rb, *rc;
	uint32_t want[CT_HIST];
	struct ct_snap *s;
	uint64_t now = T0;

	flows_tick(t, now);
	add_n(t, a, 2, now + 1, 7, 0);
	add_n(t, b, 2, now + 2, 8, 0);
	add_n(t, c, 1, now + 3, 9, -ECONNREFUSED);
	flows_tick(t, now += NS_PER_S);
	s = snap_new(t, now);
	ra = find_row(s->rows, s->n, &a);
	rb = find_row(s->rows, s->n, &b);
	rc = find_row(s->rows, s->n, &c);
	CHECK("cold.rows", ra && rb && rc);
	if (!ra || !rb || !rc)
		return;
	CHECK("cold.shared", ra->more == rb->more);
	CHECK("cold.failed_own", rc->more != ra->more);
	CHECK_S("cold.pid_a", "7", pids_str(ra));
	CHECK_S("cold.pid_b", "8", pids_str(rb));
	CHECK_I("cold.err", ECONNREFUSED, rc->more->errs[0].err);
	memset(want, 0, sizeof(want));
	want[0] = 2;
	check_hist("cold.hist", ra, s->epoch, want);
	/* a: a second pid; b: a connect in a second interval */
	add_n(t, a, 1, now + 1, 70, 0);
	add_n(t, b, 1, now + 2, 8, 0);
	flows_tick(t, now += NS_PER_S);
	s = snap_refresh(t, now, s);
	CHECK_U("cold.refreshed", 0, s->full);
	ra = find_row(s->rows, s->n, &a);
	rb = find_row(s->rows, s->n, &b);
	CHECK("cold.warm_own",
	      ra && rb && ra->more != rb->more && ra->more->pids && rb->more->hist_ring);
	if (ra && rb) {
		CHECK_S("cold.warm_pids", "7 70", pids_str(ra));
		CHECK_S("cold.warm_pid_b", "8", pids_str(rb));
		want[0] = 1;
		want[1] = 2;
		check_hist("cold.warm_hist", rb, s->epoch, want);
	}
	snap_free(s);
	flows_free(t);
}

static void test_history_compact(void)
{
	struct ct_flows *t = flows_new(10);
	struct flow_key k = key("curl", "10.0.0.2", 443, P_TCP);
	uint32_t want[CT_HIST];
	struct ct_snap *s;
	uint64_t now = T0;

	flows_tick(t, now);
	add_n(t, k, 3, now + 1, 1, 0);
	add_lat(t, k, now + 2, 1, 0, 1000000); /* 1 ms */
	flows_tick(t, now += NS_PER_S);
	s = snap_new(t, now);
	CHECK_U("compact.count", 4, s->rows[0].count);
	CHECK_U("compact.interval_count", 4, s->rows[0].interval_count);
	memset(want, 0, sizeof(want));
	want[0] = 4;
	check_hist("compact.one_interval", &s->rows[0], s->epoch, want);
	snap_free(s);
	/* cold for 5 intervals, then hot: the 4 stay where they were */
	for (int i = 0; i < 5; i++)
		flows_tick(t, now += NS_PER_S);
	add_lat(t, k, now + 1, 2, 0, 3000000); /* 3 ms */
	add_n(t, k, 1, now + 2, 2, -ECONNREFUSED);
	flows_tick(t, now += NS_PER_S);
	s = snap_new(t, now);
	CHECK_U("compact.hot.count", 6, s->rows[0].count);
	CHECK_U("compact.hot.interval_count", 2, s->rows[0].interval_count);
	CHECK_U("compact.hot.ok", 5, s->rows[0].results[RES_OK]);
	CHECK_U("compact.hot.refused", 1, s->rows[0].results[RES_REFUSED]);
	memset(want, 0, sizeof(want));
	want[0] = 2;
	want[6] = 4;
	check_hist("compact.hot", &s->rows[0], s->epoch, want);
	CHECK_U("compact.hot.lat_n", 2, s->rows[0].lat_n);
	CHECK_D("compact.hot.lat_max", 3000.0, ct_row_lat_pct(&s->rows[0], 1.0), 1e-9);
	CHECK_D("compact.hot.lat_min", 1000.0, ct_row_lat_pct(&s->rows[0], 0.5), 1e-9);
	snap_free(s);
	/* cold past the whole window, then one connect: history of that one */
	for (int i = 0; i < CT_HIST + 5; i++)
		flows_tick(t, now += NS_PER_S);
	s = snap_new(t, now);
	memset(want, 0, sizeof(want));
	check_hist("compact.cold_clears", &s->rows[0], s->epoch, want);
	CHECK_U("compact.cold.count", 6, s->rows[0].count);
	snap_free(s);
	add_n(t, k, 1, now + 1, 3, 0);
	flows_tick(t, now += NS_PER_S);
	s = snap_new(t, now);
	memset(want, 0, sizeof(want));
	want[0] = 1;
	check_hist("compact.hot_again", &s->rows[0], s->epoch, want);
	CHECK_U("compact.hot_again.count", 7, s->rows[0].count);
	CHECK_U("compact.hot_again.lat_n", 2, s->rows[0].lat_n);
	CHECK_U("compact.hot_again.npids", 3, s->rows[0].npids);
	snap_free(s);
	flows_free(t);
}

/* A one-off flow folded into its (process, *) row: its connects go into
 * that row's history in their interval. */
static void test_history_compact_fold(void)
{
	struct ct_flows *t = flows_new(1);
	struct flow_key a = key("nc", "10.0.0.3", 1, P_UDP), b = key("nc", "10.0.0.4", 2, P_UDP);
	uint32_t want[CT_HIST];
	struct ct_snap *s;
	uint64_t now = T0;
	const struct ct_row *g = NULL;

	flows_tick(t, now);
	add_n(t, a, 2, now + 1, 1, 0);
	flows_tick(t, now += NS_PER_S);
	flows_tick(t, now += NS_PER_S);
	add_n(t, b, 1, now + 1, 1, 0); /* evicts a */
	flows_tick(t, now += NS_PER_S);
	s = snap_new(t, now);
	for (size_t i = 0; i < s->n; i++)
		if (s->rows[i].key.family == CT_FAMILY_FOLDED)
			g = &s->rows[i];
	CHECK("compact_fold.row", g != NULL);
	if (g) {
		memset(want, 0, sizeof(want));
		want[2] = 2;
		check_hist("compact_fold.hist", g, s->epoch, want);
		CHECK_U("compact_fold.count", 2, g->count);
	}
	snap_free(s);
	flows_free(t);
}

static void test_history(void)
{
	struct ct_flows *t = flows_new(10);
	struct flow_key k = key("curl", "10.0.0.1", 80, P_TCP);
	uint32_t want[CT_HIST];
	struct ct_snap *s;
	uint64_t now;

	flows_tick(t, T0); /* baseline */
	CHECK_U("history.baseline_interval", 0, flows_interval(t));
	add_n(t, k, 10, T0 + NS_PER_S / 2, 1, 0);
	flows_tick(t, T0 + 2 * NS_PER_S);
	CHECK_U("history.interval_1", 1, flows_interval(t));
	CHECK_D("history.last_interval_s", 2.0, flows_last_interval_s(t), 1e-12);
	s = snap_new(t, T0 + 2 * NS_PER_S);
	CHECK_D("rate.snap_interval_s", 2.0, s->interval_s, 1e-12);
	CHECK_D("rate.10_in_2s", 5.0, s->rows[0].rate, 1e-12);
	CHECK_U("rate.interval_count", 10, s->rows[0].interval_count);
	memset(want, 0, sizeof(want));
	want[0] = 10;
	check_hist("history.after_1", &s->rows[0], s->epoch, want);
	snap_free(s);

	add_n(t, k, 4, T0 + 2 * NS_PER_S + NS_PER_S / 2, 1, 0);
	flows_tick(t, T0 + 3 * NS_PER_S);
	s = snap_new(t, T0 + 3 * NS_PER_S);
	CHECK_D("rate.4_in_1s", 4.0, s->rows[0].rate, 1e-12);
	want[0] = 4;
	want[1] = 10;
	check_hist("history.after_2", &s->rows[0], s->epoch, want);
	snap_free(s);

	flows_tick(t, T0 + 4 * NS_PER_S); /* idle */
	s = snap_new(t, T0 + 4 * NS_PER_S);
	CHECK_D("rate.idle", 0.0, s->rows[0].rate, 0);
	CHECK_U("rate.idle_interval_count", 0, s->rows[0].interval_count);
	CHECK_U("history.idle_count", 14, s->rows[0].count);
	memset(want, 0, sizeof(want));
	want[1] = 4;
	want[2] = 10;
	check_hist("history.after_idle", &s->rows[0], s->epoch, want);
	snap_free(s);

	/* the 10 of interval 0 stay visible as hist[59] at interval 60 */
	now = T0 + 4 * NS_PER_S;
	while (flows_interval(t) < 60)
		flows_tick(t, now += NS_PER_S);
	s = snap_new(t, now);
	memset(want, 0, sizeof(want));
	want[58] = 4;
	want[59] = 10;
	check_hist("history.interval_60", &s->rows[0], s->epoch, want);
	snap_free(s);
	flows_tick(t, now += NS_PER_S);
	s = snap_new(t, now);
	memset(want, 0, sizeof(want));
	want[59] = 4; /* 59 idle intervals after the last busy one */
	check_hist("history.interval_61", &s->rows[0], s->epoch, want);
	snap_free(s);
	flows_tick(t, now += NS_PER_S);
	s = snap_new(t, now);
	memset(want, 0, sizeof(want));
	check_hist("history.60_idle_clears", &s->rows[0], s->epoch, want);
	CHECK_U("history.cleared_count_stays", 14, s->rows[0].count);
	snap_free(s);
	/* busy again: stale slots of the ring must not come back */
	add_n(t, k, 1, now + 1, 1, 0);
	flows_tick(t, now += NS_PER_S);
	s = snap_new(t, now);
	memset(want, 0, sizeof(want));
	want[0] = 1;
	check_hist("history.reuse_after_long_idle", &s->rows[0], s->epoch, want);
	snap_free(s);
	flows_free(t);

	/* a gap shorter than the ring: the old interval stays where it was */
	t = flows_new(10);
	flows_tick(t, T0);
	add_n(t, k, 10, T0 + 1, 1, 0);
	for (int i = 1; i <= 5; i++)
		flows_tick(t, T0 + i * NS_PER_S);
	add_n(t, k, 3, T0 + 5 * NS_PER_S + 1, 1, 0);
	flows_tick(t, T0 + 6 * NS_PER_S);
	s = snap_new(t, T0 + 6 * NS_PER_S);
	memset(want, 0, sizeof(want));
	want[0] = 3;
	want[5] = 10;
	check_hist("history.gap_5", &s->rows[0], s->epoch, want);
	snap_free(s);
	flows_free(t);

	/* a gap that wraps the ring onto an old slot */
	t = flows_new(10);
	now = T0;
	flows_tick(t, now);
	add_n(t, k, 10, now + 1, 1, 0); /* interval 0 */
	flows_tick(t, now += NS_PER_S);
	add_n(t, k, 4, now + 1, 1, 0); /* interval 1 */
	while (flows_interval(t) < 60)
		flows_tick(t, now += NS_PER_S);
	add_n(t, k, 2, now + 1, 1, 0); /* interval 60: the slot of interval 0 */
	flows_tick(t, now += NS_PER_S);
	s = snap_new(t, now);
	memset(want, 0, sizeof(want));
	want[0] = 2;
	want[59] = 4;
	check_hist("history.wrap_onto_old_slot", &s->rows[0], s->epoch, want);
	CHECK_D("rate.wrap", 2.0, s->rows[0].rate, 1e-12);
	snap_free(s);
	flows_free(t);

	/* a flow busy in every interval: all 60 complete intervals are shown,
	 * also while the current (incomplete) one already has connects */
	t = flows_new(10);
	now = T0;
	flows_tick(t, now);
	for (int i = 0; i < 70; i++) {
		add_n(t, k, 1, now + 1, 1, 0);
		flows_tick(t, now += NS_PER_S);
	}
	s = snap_new(t, now);
	for (int i = 0; i < CT_HIST; i++)
		want[i] = 1;
	check_hist("history.busy_all_60", &s->rows[0], s->epoch, want);
	snap_free(s);
	add_n(t, k, 5, now + 1, 1, 0); /* the current interval */
	s = snap_new(t, now + 2);
	check_hist("history.busy_all_60_with_current", &s->rows[0], s->epoch, want);
	CHECK_U("history.busy_current_not_shown", 1, s->rows[0].interval_count);
	snap_free(s);
	flows_free(t);

	/* an interval of zero length gives rate 0, not inf or nan */
	t = flows_new(10);
	flows_tick(t, T0);
	add_n(t, k, 5, T0, 1, 0);
	flows_tick(t, T0);
	s = snap_new(t, T0);
	CHECK_D("rate.zero_interval", 0.0, s->rows[0].rate, 0);
	CHECK_U("rate.zero_interval_count", 5, s->rows[0].interval_count);
	snap_free(s);
	flows_free(t);
}

/* ---- eviction ---- */

#define MAX_SEEN 8
struct evict_log {
	size_t n;
	struct ct_row rows[MAX_SEEN];
	struct ct_more_buf more[MAX_SEEN]; /* the rows' (the callback's is gone after it) */
	uint64_t total_count;
};

static void on_evict(void *ctx, const struct ct_row *r)
{
	struct evict_log *l = ctx;

	if (l->n < MAX_SEEN) {
		struct ct_more_buf *b = &l->more[l->n];

		l->rows[l->n] = *r;
		b->m = *r->more;
		b->m.pids = NULL;
		if (b->m.lat) {
			b->lat = *b->m.lat;
			b->m.lat = &b->lat;
		}
		if (b->m.hist_ring) {
			memcpy(b->hist_ring, b->m.hist_ring, sizeof(b->hist_ring));
			b->m.hist_ring = b->hist_ring;
		}
		l->rows[l->n].more = &b->m;
	}
	l->n++;
	l->total_count += r->count;
}

/* the (process, *) row of comm in rows */
static const struct ct_row *find_folded(const struct ct_row *rows, size_t n, const char *comm)
{
	struct flow_key k = { 0 };

	snprintf(k.comm, sizeof(k.comm), "%s", comm);
	k.family = CT_FAMILY_FOLDED;
	return find_row(rows, n, &k);
}

static uint64_t sum_counts(const struct ct_snap *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->rows[i].count;
	return n;
}

static void test_eviction(void)
{
	struct ct_flows *t = flows_new(3);
	struct flow_key a = key("p", "10.0.0.1", 1, P_TCP), b = key("p", "10.0.0.1", 2, P_TCP),
			c = key("p", "10.0.0.1", 3, P_TCP), d = key("p", "10.0.0.1", 4, P_TCP),
			e = key("p", "10.0.0.1", 5, P_TCP), g = key("g", "10.0.0.1", 80, P_TCP);
	struct evict_log log = { 0 };
	const struct ct_row *r;
	struct ct_snap *s;

	flows_set_evict_cb(t, on_evict, &log);
	add_n(t, a, 1, T0 + 1, 1, 0);
	add_n(t, b, 1, T0 + 2, 2, 0);
	add_n(t, b, 1, T0 + 3, 2, -ECONNREFUSED);
	add_n(t, c, 1, T0 + 4, 3, 0);
	add_n(t, a, 1, T0 + 5, 1, 0); /* touch: a is no longer the oldest */
	CHECK_U("evict.none_yet", 0, log.n);
	add_n(t, d, 1, T0 + 6, 4, 0);
	CHECK_U("evict.count", 3, flows_count(t));
	CHECK_U("evict.evicted", 1, flows_evicted(t));
	CHECK_U("evict.folded", 1, flows_folded(t));
	CHECK_U("evict.callback_once", 1, log.n);
	CHECK("evict.callback_saw_b", !memcmp(&log.rows[0].key, &b, sizeof(b)));
	CHECK_U("evict.callback_b_count", 2, log.rows[0].count);
	CHECK_U("evict.callback_b_ok", 1, log.rows[0].results[RES_OK]);
	CHECK_U("evict.callback_b_refused", 1, log.rows[0].results[RES_REFUSED]);
	CHECK_I("evict.callback_b_errno", ECONNREFUSED, log.rows[0].more->errs[0].err);
	CHECK_U("evict.callback_b_last_ns", T0 + 3, log.rows[0].last_ns);
	CHECK_U("evict.callback_b_pid", 2, log.rows[0].pid);
	s = snap_new(t, T0 + 7);
	CHECK("evict.a_kept", find_row(s->rows, s->n, &a));
	CHECK("evict.b_gone", !find_row(s->rows, s->n, &b));
	CHECK("evict.c_kept", find_row(s->rows, s->n, &c));
	CHECK("evict.d_kept", find_row(s->rows, s->n, &d));
	CHECK_U("evict.a_count_kept", 2,
		find_row(s->rows, s->n, &a) ? find_row(s->rows, s->n, &a)->count : 0);
	/* b's counts are in (p, *) */
	r = find_folded(s->rows, s->n, "p");
	CHECK_U("evict.rows_with_folded", 4, s->n);
	CHECK_U("fold.count", 2, r ? r->count : 0);
	CHECK_U("fold.folded", 1, r ? r->more->folded : 0);
	CHECK_U("fold.ok", 1, r ? r->results[RES_OK] : 0);
	CHECK_U("fold.refused", 1, r ? r->results[RES_REFUSED] : 0);
	CHECK_I("fold.errno", ECONNREFUSED, r ? r->more->errs[0].err : 0);
	CHECK_U("fold.first_ns", T0 + 2, r ? r->first_ns : 0);
	CHECK_U("fold.last_ns", T0 + 3, r ? r->last_ns : 0);
	CHECK_U("fold.pid", 2, r ? r->pid : 0);
	CHECK_U("fold.npids", 1, r ? r->npids : 0);
	CHECK_U("fold.nflows", 1, r ? r->nflows : 0);
	CHECK_U("fold.totals_conserved", 6, sum_counts(s));
	snap_free(s);

	add_n(t, e, 1, T0 + 8, 5, 0); /* now c is the oldest */
	CHECK_U("evict.second", 2, flows_evicted(t));
	CHECK("evict.second_is_c", log.n == 2 && !memcmp(&log.rows[1].key, &c, sizeof(c)));

	/* b comes back: a new flow, counted from zero */
	add_n(t, b, 1, T0 + 9, 2, 0);
	s = snap_new(t, T0 + 10);
	CHECK_U("evict.b_back_count", 1,
		find_row(s->rows, s->n, &b) ? find_row(s->rows, s->n, &b)->count : 0);
	CHECK_U("evict.b_back_refused", 0,
		find_row(s->rows, s->n, &b) ? find_row(s->rows, s->n, &b)->results[RES_REFUSED] :
					      1);
	CHECK("evict.third_is_a", log.n == 3 && !memcmp(&log.rows[2].key, &a, sizeof(a)));
	r = find_folded(s->rows, s->n, "p");
	CHECK_U("fold.three_count", 5, r ? r->count : 0);
	CHECK_U("fold.three_folded", 3, r ? r->more->folded : 0);
	CHECK_U("fold.three_pids", 3, r ? r->npids : 0);
	CHECK_U("fold.sum_is_evicted_counts", log.total_count, r ? r->count : 0);
	CHECK_U("fold.totals_conserved_again", 8, sum_counts(s));
	snap_free(s);

	/* clear: the callback sees every flow and the (process, *) row, the
	 * table is empty and usable */
	log.n = 0;
	log.total_count = 0;
	flows_clear(t);
	CHECK_U("clear.callbacks", 4, log.n);
	CHECK_U("clear.callback_counts", 8, log.total_count);
	CHECK_U("clear.empty", 0, flows_count(t));
	CHECK_U("clear.evicted_unchanged", 3, flows_evicted(t));
	s = snap_new(t, T0 + 11);
	CHECK_U("clear.snap_empty", 0, s->n);
	snap_free(s);
	add_n(t, g, 2, T0 + 12, 9, -ETIMEDOUT);
	s = snap_new(t, T0 + 13);
	CHECK_U("clear.reuse_n", 1, s->n);
	CHECK_U("clear.reuse_count", 2, s->n ? s->rows[0].count : 0);
	CHECK_U("clear.reuse_ok_zero", 0, s->n ? s->rows[0].results[RES_OK] : 1);
	CHECK_U("clear.reuse_npids", 1, s->n ? s->rows[0].npids : 0);
	CHECK_I("clear.reuse_errs", ETIMEDOUT, s->n ? s->rows[0].more->errs[0].err : 0);
	CHECK_I("clear.reuse_errs_only_one", 0, s->n ? s->rows[0].more->errs[1].err : 1);
	snap_free(s);
	flows_free(t);
}

static void count_evict(void *ctx, const struct ct_row *r)
{
	uint64_t *n = ctx;

	if (r->key.family == CT_FAMILY_FOLDED)
		return;
	n[0]++;
	n[1] += r->count;
}

/* A scan of 100,000 one-off destinations against a table of 1000 beside a
 * busy flow that connects once every 2000 of them (after a burst of 5):
 * with pure LRU it was evicted every time, its count back to 1. The scan
 * churns probation alone; what it evicts folds into (nmap, *). */
/* The flows' hash (open addressing): every flow is found again after the
 * table grew many times, and after many evictions in a table kept near its
 * fullest (entries moved back over the freed slots) */
static void test_hash(void)
{
	struct flow_key k = key("h", "10.0.0.0", 0, P_UDP);
	struct ct_flows *t = flows_new(40000);
	struct ct_snap *s;
	uint64_t twice = 0;

	for (int round = 0; round < 2; round++)
		for (uint32_t i = 0; i < 40000; i++) {
			k.daddr[2] = (uint8_t)(i >> 8);
			k.daddr[3] = (uint8_t)i;
			k.dport = (uint16_t)(i % 7);
			add_n(t, k, 1, T0 + i, 1, 0);
		}
	CHECK_U("hash.grown.count", 40000, flows_count(t));
	CHECK_U("hash.grown.evicted", 0, flows_evicted(t));
	s = snap_new(t, T0 + 50000);
	for (size_t i = 0; i < s->n; i++)
		twice += s->rows[i].count == 2;
	CHECK_U("hash.grown.found_again", 40000, twice);
	snap_free(s);
	flows_free(t);

	/* 3000 flows and their (process, *) rows: 27,000 evictions */
	t = flows_new(3000);
	for (uint32_t i = 0; i < 30000; i++) {
		memset(k.comm, 0, sizeof(k.comm)); /* keys are compared as bytes */
		snprintf(k.comm, sizeof(k.comm), "p%u", i % 150);
		k.daddr[2] = (uint8_t)(i >> 8);
		k.daddr[3] = (uint8_t)i;
		add_n(t, k, 1, T0 + i, 1, 0);
	}
	CHECK_U("hash.churn.evicted", 27000, flows_evicted(t));
	for (uint32_t i = 28000; i < 30000; i++) {
		memset(k.comm, 0, sizeof(k.comm)); /* keys are compared as bytes */
		snprintf(k.comm, sizeof(k.comm), "p%u", i % 150);
		k.daddr[2] = (uint8_t)(i >> 8);
		k.daddr[3] = (uint8_t)i;
		add_n(t, k, 1, T0 + 30000 + i, 1, 0);
	}
	CHECK_U("hash.churn.no_new_flow", 27000, flows_evicted(t));
	s = snap_new(t, T0 + 70000);
	twice = 0;
	for (size_t i = 0; i < s->n; i++)
		twice += s->rows[i].key.family == 4 && s->rows[i].count == 2;
	CHECK_U("hash.churn.found_again", 2000, twice);
	CHECK_U("hash.churn.folded_rows", 150, s->n - flows_count(t));
	snap_free(s);
	flows_free(t);
}

/* While the slots grow, their entries move over a few at a time: every
 * flow is found again at each step of the move (a flow not found becomes a
 * second one, or evicts one), with evictions (and their (process, *) rows)
 * under way in the middle of a move: 1600 flows, and the table grows at
 * 1536. Every row held in the middle of it is found too. */
static void test_hash_growing(void)
{
	struct flow_key k = key("g", "10.0.0.0", 0, P_UDP);
	struct ct_flows *t = flows_new(1600);
	uint64_t missed = 0;

	for (uint32_t i = 0; i < 6000; i++) {
		uint32_t again = i - i % 37;
		size_t n;
		uint64_t ev;

		k.daddr[2] = (uint8_t)(i >> 8);
		k.daddr[3] = (uint8_t)i;
		add_n(t, k, 1, T0 + i, 1, 0);
		n = flows_count(t);
		ev = flows_evicted(t);
		/* one of the last 37 flows: never the one evicted */
		k.daddr[2] = (uint8_t)(again >> 8);
		k.daddr[3] = (uint8_t)again;
		add_n(t, k, 1, T0 + i, 1, 0);
		missed += flows_count(t) != n || flows_evicted(t) != ev;
		if (i == 1700) { /* in the middle of the move: every row held is found */
			struct ct_snap *s = snap_new(t, T0 + i);

			for (size_t r = 0; r < s->n; r++)
				missed += flows_tag_set(t, &s->rows[r].key, 1) != 0;
			CHECK_U("hash.growing.mid.rows", 1601, s->n);
			snap_free(s);
		}
	}
	CHECK_U("hash.growing.found_again", 0, missed);
	CHECK_U("hash.growing.evicted", 6000 - 1600, flows_evicted(t));
	flows_free(t);
}

static void test_port_scan(void)
{
	struct ct_flows *t = flows_new(1000);
	uint64_t seen[2] = { 0, 0 }, web_n = 0;
	struct flow_key k = key("nmap", "10.0.0.0", 0, P_TCP),
			web = key("web", "10.9.9.9", 443, P_TCP);
	const struct ct_row *r;
	struct ct_snap *s;
	int ok = 1;

	flows_set_evict_cb(t, count_evict, seen);
	flows_tick(t, T0);
	for (uint32_t i = 0; i < 100000; i++) {
		struct ct_sample smp;

		if (i % 2000 == 0) {
			add_n(t, web, i ? 1 : 5, T0 + i, 80, 0);
			web_n += i ? 1 : 5;
		}
		if (i % 10000 == 9999)
			flows_tick(t, T0 + i);
		k.daddr[3] = (uint8_t)(i >> 16);
		k.dport = (uint16_t)i;
		smp = sample(k, T0 + i, 4242, -ECONNREFUSED);
		flows_add(t, &smp);
	}
	CHECK_U("scan.count", 1000, flows_count(t));
	CHECK_U("scan.evicted", 99001, flows_evicted(t));
	CHECK_U("scan.folded", 99001, flows_folded(t));
	CHECK_U("scan.callbacks", 99001, seen[0]);
	CHECK_U("scan.callback_connects", 99001, seen[1]);
	s = snap_new(t, T0 + 100000);
	CHECK_U("scan.snap_n", 1001, s->n);
	r = find_row(s->rows, s->n, &web);
	CHECK_U("scan.busy_flow_exact", web_n, r ? r->count : 0);
	CHECK_U("scan.busy_flow_ok", web_n, r ? r->results[RES_OK] : 0);
	for (size_t i = 0; i < s->n; i++) {
		uint32_t id = ((uint32_t)s->rows[i].key.daddr[3] << 16) | s->rows[i].key.dport;

		if (s->rows[i].key.family != 4 || !strcmp(s->rows[i].key.comm, "web"))
			continue;
		ok &= id >= 99001 && id < 100000 && s->rows[i].count == 1;
	}
	CHECK("scan.newest_kept", ok);
	r = find_folded(s->rows, s->n, "nmap");
	CHECK_U("scan.folded_row_count", 99001, r ? r->count : 0);
	CHECK_U("scan.folded_row_refused", 99001, r ? r->results[RES_REFUSED] : 0);
	CHECK_U("scan.folded_row_flows", 99001, r ? r->more->folded : 0);
	CHECK_U("scan.folded_row_sums_evicted", seen[1], r ? r->count : 0);
	CHECK_U("scan.totals_conserved", 100000 + web_n, sum_counts(s));
	snap_free(s);
	flows_free(t);

	errno = 0;
	CHECK("flows_new.zero_fails", flows_new(0) == NULL);
	CHECK_I("flows_new.zero_einval", EINVAL, errno);
}

static int keep_match(void *ctx, const struct ct_row *r)
{
	return filter_match(ctx, r);
}

/* Flows the keep predicate matches (the screen's filter) outlive a scan
 * even as one-offs; with everything kept, eviction still works. */
static void test_keep(void)
{
	struct ct_flows *t = flows_new(100);
	char err[128];
	struct ct_filter *f = filter_new("port:5432", err, sizeof(err)), *all;
	struct flow_key k = key("nmap", "10.0.0.0", 0, P_UDP);
	struct ct_snap *s;
	int kept = 0, gone = 0;

	flows_set_keep(t, keep_match, f);
	for (int i = 0; i < 10; i++) {
		struct flow_key db = key("app", "10.1.0.1", 5432, P_TCP);

		db.daddr[3] = (uint8_t)(i + 1);
		add_n(t, db, 1, T0 + i, 50, 0);
	}
	for (uint32_t i = 0; i < 10000; i++) {
		k.dport = (uint16_t)(i + 1);
		k.daddr[2] = (uint8_t)(i >> 8);
		add_n(t, k, 1, T0 + 100 + i, 60, 0);
	}
	s = snap_new(t, T0 + 20000);
	for (int i = 0; i < 10; i++) {
		struct flow_key db = key("app", "10.1.0.1", 5432, P_TCP);
		const struct ct_row *r;

		db.daddr[3] = (uint8_t)(i + 1);
		r = find_row(s->rows, s->n, &db);
		kept += r && r->count == 1;
	}
	CHECK_I("keep.matching_one_offs_kept", 10, kept);
	CHECK_U("keep.bound_held", 100, flows_count(t));
	CHECK_U("keep.totals_conserved", 10010, sum_counts(s));
	CHECK("keep.no_app_folded", !find_folded(s->rows, s->n, "app"));
	snap_free(s);

	/* no predicate: they are one-offs like any other */
	flows_set_keep(t, NULL, NULL);
	for (uint32_t i = 0; i < 200; i++) {
		k.dport = (uint16_t)(i + 20001);
		add_n(t, k, 1, T0 + 30000 + i, 60, 0);
	}
	s = snap_new(t, T0 + 40000);
	for (int i = 0; i < 10; i++) {
		struct flow_key db = key("app", "10.1.0.1", 5432, P_TCP);

		db.daddr[3] = (uint8_t)(i + 1);
		gone += !find_row(s->rows, s->n, &db);
	}
	CHECK_I("keep.unkept_evicted", 10, gone);
	CHECK_U("keep.unkept_folded", 10,
		find_folded(s->rows, s->n, "app") ? find_folded(s->rows, s->n, "app")->count : 0);
	snap_free(s);

	/* every flow kept: the least recent kept one goes */
	all = filter_new("nmap", err, sizeof(err));
	flows_set_keep(t, keep_match, all);
	for (uint32_t i = 0; i < 500; i++) {
		k.dport = (uint16_t)(i + 30001);
		add_n(t, k, 1, T0 + 50000 + i, 60, 0);
	}
	CHECK_U("keep.all_kept_bound_held", 100, flows_count(t));
	s = snap_new(t, T0 + 60000);
	k.dport = 30500;
	CHECK("keep.all_kept_newest_there", find_row(s->rows, s->n, &k));
	CHECK_U("keep.all_kept_totals_conserved", 10710, sum_counts(s));
	snap_free(s);
	flows_free(t);
	filter_free(f);
	filter_free(all);
}

/* A connect in flight when its flow is folded settles in (process, *) when
 * its outcome comes: no new row, no second count; the evict callback gets
 * the outcome as a row of the flow's key with count 0. */
static void test_fold_outcome(void)
{
	struct ct_flows *t = flows_new(2);
	struct flow_key a = key("p", "10.0.0.1", 1, P_TCP), b = key("p", "10.0.0.1", 2, P_TCP),
			c = key("p", "10.0.0.1", 3, P_TCP);
	struct evict_log log = { 0 };
	const struct ct_row *r;
	struct ct_snap *s;

	flows_set_evict_cb(t, on_evict, &log);
	add_flight(t, a, T0 + 1, T0 + 1, 0, -EINPROGRESS);
	add_n(t, b, 1, T0 + 2, 7, 0);
	add_n(t, c, 1, T0 + 3, 7, 0); /* a goes, in flight */
	s = snap_new(t, T0 + 4);
	r = find_folded(s->rows, s->n, "p");
	CHECK_U("fold_outcome.pending_folded", 1, r ? r->results[RES_PENDING] : 0);
	CHECK("fold_outcome.pending_age_kept", r && r->more->pending_since_ns == T0 + 1);
	snap_free(s);
	add_flight(t, a, T0 + 5, T0 + 1, 1, -ETIMEDOUT);
	s = snap_new(t, T0 + 6);
	r = find_folded(s->rows, s->n, "p");
	CHECK("fold_outcome.no_new_row", !find_row(s->rows, s->n, &a));
	CHECK_U("fold_outcome.settled", 0, r ? r->results[RES_PENDING] : 1);
	CHECK_U("fold_outcome.timeout", 1, r ? r->results[RES_TIMEOUT] : 0);
	CHECK_U("fold_outcome.count_once", 1, r ? r->count : 0);
	CHECK_U("fold_outcome.totals", 3, sum_counts(s));
	CHECK_U("fold_outcome.callbacks", 2, log.n);
	CHECK("fold_outcome.callback_key", log.n == 2 && !memcmp(&log.rows[1].key, &a, sizeof(a)));
	CHECK_U("fold_outcome.callback_count0", 0, log.n == 2 ? log.rows[1].count : 1);
	CHECK_U("fold_outcome.callback_timeout", 1,
		log.n == 2 ? log.rows[1].results[RES_TIMEOUT] : 0);
	snap_free(s);
	flows_free(t);
}

/* ---- latency percentiles ---- */

static struct ct_row lat_row(const uint64_t *lat_ns, const int *times, int n)
{
	struct ct_flows *t = flows_new(1);
	struct flow_key k = key("lat", "10.0.0.1", 80, P_TCP);
	struct ct_snap *s;
	struct ct_row r;

	add_n(t, k, 1, T0, 1, 0); /* a connect without a latency */
	for (int i = 0; i < n; i++)
		for (int j = 0; j < times[i]; j++)
			add_lat(t, k, T0 + 1, 1, 0, lat_ns[i]);
	static struct ct_more_buf m; /* outlives the snapshot: the caller's row points to it */

	s = snap_new(t, T0 + 2);
	r = s->rows[0];
	m.m = *r.more;
	m.m.pids = NULL;
	m.lat = *ct_more_lat(r.more);
	m.m.lat = &m.lat;
	r.more = &m.m;
	snap_free(s);
	flows_free(t);
	return r;
}

static void test_latency(void)
{
	struct ct_row r;

	{
		/* 100 x 1000 us, 1 x 1,000,000 us */
		static const uint64_t l[] = { 1000000ULL, 1000000000ULL };
		static const int n[] = { 100, 1 };

		r = lat_row(l, n, 2);
		CHECK_U("lat.bucket_1000us", 100,
			lat_at(ct_more_lat(r.more), 1000)); /* [992, 1008) */
		CHECK_U("lat.bucket_1s", 1,
			lat_at(ct_more_lat(r.more), 1000000)); /* [999424, 1015808) */
		CHECK_U("lat.buckets", 2, ct_more_lat(r.more)->n);
		CHECK_U("lat.finest", 0, ct_more_lat(r.more)->coarse);
		CHECK_U("lat.min", 1000000, ct_more_lat(r.more)->min_ns);
		CHECK_U("lat.n", 101, r.lat_n);
		CHECK_U("lat.sum", 1100000000ULL, r.lat_sum_ns);
		CHECK_U("lat.max_ns", 1000000000ULL, r.lat_max_ns);
		/* rank 51 of the 100 in [992, 1008), which starts at the
		 * minimum: 1000 + 8 * (51 - 1) / 100 */
		CHECK_D("lat.p50", 1004.0, ct_row_lat_pct(&r, 0.5), 1e-9);
		CHECK_D("lat.p99", 1000 + 8 * 99 / 100.0, ct_row_lat_pct(&r, 0.99), 1e-9);
		/* rank 101: the last bucket ends at the maximum */
		CHECK_D("lat.p999", 1000000.0, ct_row_lat_pct(&r, 0.999), 1e-9);
		CHECK_D("lat.p100_is_max", 1000000.0, ct_row_lat_pct(&r, 1.0), 1e-9);
		CHECK_D("lat.p_tiny_is_min", 1000.0, ct_row_lat_pct(&r, 0.001), 1e-9);
	}
	{
		/* 100 us x 4: one bucket, [100, 102), from the minimum to the
		 * maximum: each rank is 100 */
		static const uint64_t l[] = { 100000ULL };
		static const int n[] = { 4 };

		r = lat_row(l, n, 1);
		CHECK_U("lat4.bucket", 4, lat_at(ct_more_lat(r.more), 100));
		CHECK_D("lat4.p25", 100.0, ct_row_lat_pct(&r, 0.25), 1e-9);
		CHECK_D("lat4.p50", 100.0, ct_row_lat_pct(&r, 0.5), 1e-9);
		CHECK_D("lat4.p75", 100.0, ct_row_lat_pct(&r, 0.75), 1e-9);
	}
	{
		/* the rank is ceil(p * n): p25 of 100, 110, 120, 130, 140 us is
		 * the 2nd; 5 buckets [100, 102) ... [140, 142) */
		static const uint64_t l[] = { 100000ULL, 110000ULL, 120000ULL, 130000ULL,
					      140000ULL };
		static const int n[] = { 1, 1, 1, 1, 1 };

		r = lat_row(l, n, 5);
		CHECK_U("lat5.buckets", 5, ct_more_lat(r.more)->n);
		/* a bucket neither first nor last: its middle */
		CHECK_D("lat5.p25_rank_ceil", 111.0, ct_row_lat_pct(&r, 0.25), 1e-9);
		CHECK_D("lat5.p10_rank_1_min", 100.0, ct_row_lat_pct(&r, 0.1), 1e-9);
		CHECK_D("lat5.p100_max", 140.0, ct_row_lat_pct(&r, 1), 1e-9);
	}
	{
		static const uint64_t l[] = { 3000ULL };
		static const int n[] = { 1 };

		r = lat_row(l, n, 1);
		CHECK_U("lat_3us.bucket", 1, lat_at(ct_more_lat(r.more), 3)); /* [3, 4) */
		CHECK_D("lat_3us.p50", 3.0, ct_row_lat_pct(&r, 0.5), 1e-9);
	}
	{
		static const uint64_t l[] = { 500ULL };
		static const int n[] = { 1 };

		r = lat_row(l, n, 1);
		CHECK_U("lat_sub_us.bucket0", 1, lat_at(ct_more_lat(r.more), 0));
		CHECK_D("lat_sub_us.p50", 0.5, ct_row_lat_pct(&r, 0.5), 1e-9);
	}
	{
		static const uint64_t l[] = { 200ULL * NS_PER_S };
		static const int n[] = { 1 };
		uint64_t lo, hi;

		r = lat_row(l, n, 1);
		ct_lat_bounds(ct_more_lat(r.more), 0, &lo, &hi);
		CHECK_U("lat_huge.last_bucket_end", 1ULL << CT_LAT_OCTAVES, hi);
		CHECK_D("lat_huge.p50", 200e6, ct_row_lat_pct(&r, 0.5), 1e-6);
	}
	{
		static const uint64_t l[] = { 1000000ULL };
		static const int n[] = { 0 };

		r = lat_row(l, n, 1);
		CHECK_D("lat_none.p50", -1.0, ct_row_lat_pct(&r, 0.5), 0);
		CHECK_D("lat_none.p99", -1.0, ct_row_lat_pct(&r, 0.99), 0);
	}
}

/* ---- latency of SYN retransmits (issue 12 bug 7) ---- */

static const double pcts[] = { 0.01, 0.1, 0.25, 0.5, 0.7, 0.75, 0.9, 0.95, 0.99, 1.0 };

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* what a client computes from its own n samples: the ceil(p * n)-th */
static double true_pct(const uint64_t *sorted_ns, size_t n, double p)
{
	size_t rank = (size_t)(p * n + 0.999999);

	return sorted_ns[(rank ? rank : 1) - 1] / 1000.0;
}

/* a flow with the handshakes lat_ns[0..n), in that order */
static struct ct_row lat_row_of(const uint64_t *lat_ns, size_t n)
{
	struct ct_flows *t = flows_new(1);
	struct flow_key k = key("lat", "10.0.0.1", 80, P_TCP);
	static struct ct_more_buf m;
	struct ct_snap *s;
	struct ct_row r;

	for (size_t i = 0; i < n; i++)
		add_lat(t, k, T0 + i, 1, 0, lat_ns[i]);
	s = snap_new(t, T0 + n);
	r = s->rows[0];
	m.m = *r.more;
	m.m.pids = NULL;
	m.lat = *ct_more_lat(r.more);
	m.m.lat = &m.lat;
	r.more = &m.m;
	snap_free(s);
	flows_free(t);
	return r;
}

/* n samples: `slow` of them at base_ns + i * step_ns (the SYN retransmit's
 * wait and a little), the others at 2-5 ms; mixed up as connects come */
static size_t retx_samples(uint64_t *out, size_t n, size_t slow, uint64_t base_ns, uint64_t step_ns)
{
	for (size_t i = 0; i < n; i++)
		out[i] = i < slow ? base_ns + i * step_ns :
				    2000000 + (i - slow) * 3000000 / (n - slow);
	for (size_t i = 0; i + 1 < n; i += 2) { /* slow, fast, slow, fast, ... */
		uint64_t x = out[i];

		out[i] = out[n - 1 - i];
		out[n - 1 - i] = x;
	}
	return n;
}

static void check_pcts(const char *name, const uint64_t *lat_ns, size_t n, double tol)
{
	uint64_t sorted[256];
	struct ct_row r = lat_row_of(lat_ns, n);

	memcpy(sorted, lat_ns, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u64);
	for (size_t i = 0; i < ARRAY_SIZE(pcts); i++) {
		double want = true_pct(sorted, n, pcts[i]), got = ct_row_lat_pct(&r, pcts[i]);

		ck(fabs(got - want) <= tol * want, nm("%s.p%g", name, pcts[i] * 100),
		   "expected %.1f us within %g%%, got %.1f (%+.2f%%)", want, tol * 100, got,
		   (got / want - 1) * 100);
	}
	CHECK_U(nm("%s.max_exact", name), sorted[n - 1], r.lat_max_ns);
	CHECK_D(nm("%s.p100_is_max", name), sorted[n - 1] / 1000.0, ct_row_lat_pct(&r, 1), 0);
	CHECK_D(nm("%s.p0_is_min", name), sorted[0] / 1000.0, ct_row_lat_pct(&r, 1e-9), 0);
}

static void test_latency_retransmit(void)
{
	uint64_t l[64];

	/* the report: 20 connects, 14 of them finished on the SYN
	 * retransmit; the clients' p50 1.024 s, connecttop's 0.674 s (the
	 * middle of the log2 bucket [0.52 s, 1.05 s)) */
	retx_samples(l, 20, 14, 1020000000, 700000);
	check_pcts("retx.14_of_20", l, 20, 0.02);
	/* half of them: p50 is the slowest fast one, p90 and p99 ~1.03 s */
	retx_samples(l, 20, 10, 1020000000, 1000000);
	check_pcts("retx.10_of_20", l, 20, 0.02);
	/* a SYN dropped twice: 1 s + 2 s */
	retx_samples(l, 20, 14, 3000000000, 6000000);
	check_pcts("retx.3s_14_of_20", l, 20, 0.02);
	retx_samples(l, 20, 10, 3000000000, 9000000);
	check_pcts("retx.3s_10_of_20", l, 20, 0.02);
	/* and both, with more fast ones: 40 at 2-5 ms, 10 at 1.01-1.02 s,
	 * 10 at 3.01-3.03 s */
	retx_samples(l, 60, 20, 1010000000, 1000000);
	for (int i = 0; i < 60; i++)
		if (l[i] >= 1015000000)
			l[i] += 2000000000 + (l[i] - 1015000000) * 3;
	check_pcts("retx.1s_3s", l, 60, 0.02);
	/* a single sample: every percentile is it */
	{
		static const uint64_t one[] = { 500,	    3000,	100000,
						1024000000, 3001000000, 200 * NS_PER_S };

		for (size_t i = 0; i < ARRAY_SIZE(one); i++) {
			struct ct_row r = lat_row_of(&one[i], 1);

			for (size_t j = 0; j < ARRAY_SIZE(pcts); j++)
				CHECK_D(nm("retx.single_%llu.p%g", (unsigned long long)one[i],
					   pcts[j] * 100),
					one[i] / 1000.0, ct_row_lat_pct(&r, pcts[j]), 0);
		}
	}
}

/* the percentiles of group rows equal those of one flow with all the
 * samples: derived anew, and updated by differences (group_delta) */
static void test_latency_groups(void)
{
	struct ct_flows *t = flows_new(100);
	struct flow_key a = key("grp", "10.0.0.1", 80, P_TCP),
			b = key("grp", "10.0.0.2", 80, P_TCP);
	struct flow_key all = key("all", "10.0.0.9", 80, P_TCP);
	struct ct_snap *s = NULL;
	struct ct_rows v = { 0 };
	uint64_t ts = T0;
	const struct ct_row *g, *one;

	flows_tick(t, T0);
	/* round 0: a few samples; round 1: a few more; round 2: samples over
	 * 8 octaves, more buckets than a histogram keeps at the finest */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 40; i++) {
			uint64_t ns = round < 2 ? 2000000 + (uint64_t)(i * 7 + round) * 91000 :
						  30000 + (uint64_t)i * i * i * 4111;

			add_lat(t, i % 3 ? a : b, ++ts, 1, 0, ns);
			add_lat(t, all, ++ts, 1, 0, ns);
		}
		if (round == 1) { /* a retransmit in flow b only */
			add_lat(t, b, ++ts, 1, 0, 1031000000);
			add_lat(t, all, ++ts, 1, 0, 1031000000);
		}
		flows_tick(t, ts + NS_PER_S);
		s = snap_refresh(t, ts + NS_PER_S, s);
		s->keep_old = 1;
		if (round)
			CHECK(nm("lat_groups.%d.incremental", round), !s->full);
		CHECK_I(nm("lat_groups.%d.rc", round), 0,
			rows_refresh(s, GROUP_PROCESS, NULL, SORT_LAT, 1, 0, &v));
		g = NULL;
		one = NULL;
		for (size_t i = 0; i < v.n; i++) {
			if (!strcmp(v.rows[i]->key.comm, "grp"))
				g = v.rows[i];
			if (!strcmp(v.rows[i]->key.comm, "all"))
				one = v.rows[i];
		}
		if (!CHECK(nm("lat_groups.%d.rows", round), g && one))
			break;
		CHECK_U(nm("lat_groups.%d.n", round), one->lat_n, g->lat_n);
		CHECK_U(nm("lat_groups.%d.nflows", round), 2, g->nflows);
		for (size_t i = 0; i < ARRAY_SIZE(pcts); i++)
			CHECK_D(nm("lat_groups.%d.p%g", round, pcts[i] * 100),
				ct_row_lat_pct(one, pcts[i]), ct_row_lat_pct(g, pcts[i]), 0);
	}
	if (g && one) {
		CHECK(nm("lat_groups.coarser"), ct_more_lat(one->more)->coarse > 0);
		CHECK_U("lat_groups.same_resolution", ct_more_lat(one->more)->coarse,
			ct_more_lat(g->more)->coarse);
		CHECK_U("lat_groups.same_buckets", ct_more_lat(one->more)->n,
			ct_more_lat(g->more)->n);
		CHECK_U("lat_groups.same_min", ct_more_lat(one->more)->min_ns,
			ct_more_lat(g->more)->min_ns);
	}
	rows_free(&v);
	snap_free(s);
	flows_free(t);
}

static int lat_eq(const struct ct_lat *a, const struct ct_lat *b)
{
	return !memcmp(a, b, sizeof(*a)); /* unused buckets are zero: one form per content */
}

/* the histogram itself: the same samples in any order give the same
 * histogram; merging gives what one histogram of them all has; taking a
 * merged one away gives back the rest */
static void test_lat_hist(void)
{
	struct ct_lat up, down, x, y, m, a;
	uint64_t lo, hi, total = 0;
	int ok = 1;

	memset(&up, 0, sizeof(up));
	memset(&down, 0, sizeof(down));
	memset(&x, 0, sizeof(x));
	memset(&y, 0, sizeof(y));
	for (int i = 0; i < 500; i++) {
		uint64_t ns = 1000 + (uint64_t)i * i * i * 997;

		ct_lat_add(&up, ns, 1);
		ct_lat_add(i % 2 ? &x : &y, ns, 1);
	}
	for (int i = 499; i >= 0; i--)
		ct_lat_add(&down, 1000 + (uint64_t)i * i * i * 997, 1);
	CHECK("lat_hist.order_alike", lat_eq(&up, &down));
	CHECK("lat_hist.coarsened", up.coarse > 0 && up.n <= CT_LAT_CELLS);
	m = x;
	ct_lat_merge(&m, &y);
	CHECK("lat_hist.merge_alike", lat_eq(&m, &up));
	for (unsigned i = 0; i < up.n; i++) {
		total += up.count[i];
		ct_lat_bounds(&up, i, &lo, &hi);
		ok &= up.count[i] > 0 && lo < hi && (!i || up.b[i - 1] < up.b[i]);
	}
	CHECK("lat_hist.buckets_ordered", ok);
	CHECK_U("lat_hist.total", 500, total);
	CHECK_U("lat_hist.min", 1000, up.min_ns);
	/* x and y at the finest they fit, then y taken away again */
	memset(&x, 0, sizeof(x));
	memset(&y, 0, sizeof(y));
	for (int i = 0; i < 10; i++) {
		ct_lat_add(&x, 2000000 + (uint64_t)i * 100000, 1);
		ct_lat_add(&y, 1020000000 + (uint64_t)i * 1000000, 2);
	}
	a = x;
	ct_lat_merge(&a, &y);
	ct_lat_sub(&a, &y);
	a.min_ns = x.min_ns;
	CHECK("lat_hist.sub", lat_eq(&a, &x));
	/* powers of two (prom.c's bounds) are boundaries at every
	 * resolution: of 2^k - 1, 2^k and 2^k + 1 us, one is below 2^k */
	for (unsigned k = 1; k < CT_LAT_OCTAVES; k++) {
		int res_ok = 1, nres = 0;

		memset(&x, 0, sizeof(x));
		for (int d = -1; d <= 1; d++)
			ct_lat_add(&x, ((1ULL << k) + d) * 1000, 1);
		do {
			res_ok &= ct_lat_below(&x, k) == 1 && ct_lat_below(&x, k + 1) == 3;
			nres++;
		} while (!ct_lat_coarsen(&x));
		CHECK(nm("lat_hist.below_exact.2^%u", k), res_ok && nres == CT_LAT_RES_MAX + 1);
	}
	/* at log2, every bucket fits */
	memset(&x, 0, sizeof(x));
	ct_lat_add(&x, 0, 1);
	for (unsigned k = 0; k < CT_LAT_OCTAVES; k++) {
		ct_lat_add(&x, (1ULL << k) * 1000, 1);
		ct_lat_add(&x, (3ULL << k) * 500, 1); /* the middle of the octave */
	}
	CHECK_U("lat_hist.log2_res", CT_LAT_RES_MAX, x.coarse);
	CHECK_U("lat_hist.log2_fits", CT_LAT_OCTAVES + 1, x.n);
}

/* ---- grouping ---- */

static struct flow_key F1, F2, F3, F4;

static struct ct_flows *group_table(void)
{
	struct ct_flows *t = flows_new(100);
	struct ct_sample s;

	F1 = key("curl", "10.0.0.1", 80, P_TCP);
	F2 = key("curl", "10.0.0.2", 443, P_TCP);
	F3 = key("wget", "10.0.0.1", 80, P_TCP);
	F4 = key("wget", "10.0.0.2", 53, P_UDP);
	flows_tick(t, T0);
	add_lat(t, F1, T0 + 100 * NS_PER_MS, 100, 0, 1000000);
	add_n(t, F1, 1, T0 + 200 * NS_PER_MS, 101, 0);
	add_n(t, F2, 1, T0 + 300 * NS_PER_MS, 100, -ECONNREFUSED);
	add_n(t, F3, 1, T0 + 400 * NS_PER_MS, 200, -ETIMEDOUT);
	flows_tick(t, T0 + NS_PER_S);
	add_n(t, F1, 1, T0 + 1100 * NS_PER_MS, 100, 0);
	add_n(t, F2, 1, T0 + 1200 * NS_PER_MS, 100, -ECONNREFUSED);
	for (int i = 0; i < 4; i++) {
		s = sample(F4, T0 + (1300 + 100 * i) * NS_PER_MS, 200, 0);
		s.uid = 53;
		flows_add(t, &s);
	}
	flows_tick(t, T0 + 2 * NS_PER_S);
	return t;
}

static void test_grouping(void)
{
	struct ct_flows *t = group_table();
	struct ct_snap *s = snap_new(t, T0 + 2 * NS_PER_S);
	struct ct_rows v;
	struct flow_key g;
	const struct ct_row *r;

	CHECK_I("group.names", 0,
		strcmp(ct_group_names[0], "flow") | strcmp(ct_group_names[1], "process") |
			strcmp(ct_group_names[2], "dest") | strcmp(ct_group_names[3], "port"));

	CHECK_I("group.flow.rc", 0, rows_derive(s, GROUP_FLOW, NULL, SORT_COUNT, 1, 0, &v));
	CHECK_U("group.flow.n", 4, v.n);
	CHECK_U("group.flow.total", 4, v.total);
	r = find_view_row(&v, &F1);
	CHECK_U("group.flow.f1_count", 3, r ? r->count : 0);
	CHECK_U("group.flow.f1_hist0", 1, r ? hist_at(r, v.epoch, 0) : 0);
	CHECK_U("group.flow.f1_hist1", 2, r ? hist_at(r, v.epoch, 1) : 0);
	CHECK_S("group.flow.f1_pids", "100 101", r ? pids_str(r) : "");
	CHECK_U("group.flow.f1_nflows", 1, r ? r->nflows : 0);
	rows_free(&v);

	/* process */
	CHECK_I("group.process.rc", 0, rows_derive(s, GROUP_PROCESS, NULL, SORT_COMM, 0, 0, &v));
	CHECK_U("group.process.n", 2, v.n);
	CHECK_U("group.process.total", 4, v.total);
	memset(&g, 0, sizeof(g));
	memcpy(g.comm, "curl", 4);
	r = v.n == 2 ? v.rows[0] : NULL;
	CHECK("group.process.key_only_comm", r && !memcmp(&r->key, &g, sizeof(g)));
	if (r) {
		CHECK_U("group.process.curl_count", 5, r->count);
		CHECK_U("group.process.curl_ok", 3, r->results[RES_OK]);
		CHECK_U("group.process.curl_refused", 2, r->results[RES_REFUSED]);
		CHECK_U("group.process.curl_nflows", 2, r->nflows);
		/* pid 100 made connects in both flows: counted once */
		CHECK_U("group.process.curl_npids", 2, r->npids);
		CHECK_S("group.process.curl_pids", "100 101", pids_str(r));
		CHECK_U("group.process.curl_hist0", 2, hist_at(r, v.epoch, 0));
		CHECK_U("group.process.curl_hist1", 3, hist_at(r, v.epoch, 1));
		CHECK_U("group.process.curl_interval_count", 2, r->interval_count);
		CHECK_D("group.process.curl_rate", 2.0, r->rate, 1e-12);
		CHECK_I("group.process.curl_err", ECONNREFUSED, r->more->errs[0].err);
		CHECK_U("group.process.curl_err_n", 2, r->more->errs[0].count);
		CHECK_U("group.process.curl_first_ns", T0 + 100 * NS_PER_MS, r->first_ns);
		CHECK_U("group.process.curl_last_ns", T0 + 1200 * NS_PER_MS, r->last_ns);
		CHECK_U("group.process.curl_pid_of_latest", 100, r->pid);
		CHECK_U("group.process.curl_lat_n", 1, r->lat_n);
		CHECK_U("group.process.curl_lat_bucket", 1, lat_at(ct_more_lat(r->more), 1000));
	}
	r = v.n == 2 ? v.rows[1] : NULL;
	if (r) {
		CHECK_S("group.process.wget_comm", "wget", r->key.comm);
		CHECK_U("group.process.wget_count", 5, r->count);
		CHECK_U("group.process.wget_ok", 4, r->results[RES_OK]);
		CHECK_U("group.process.wget_timeout", 1, r->results[RES_TIMEOUT]);
		CHECK_U("group.process.wget_npids", 1, r->npids);
		CHECK_U("group.process.wget_hist0", 4, hist_at(r, v.epoch, 0));
		CHECK_U("group.process.wget_hist1", 1, hist_at(r, v.epoch, 1));
		CHECK_D("group.process.wget_rate", 4.0, r->rate, 1e-12);
		CHECK_U("group.process.wget_uid_of_latest", 53, r->uid);
		CHECK_U("group.process.wget_first_ns", T0 + 400 * NS_PER_MS, r->first_ns);
		CHECK_U("group.process.wget_last_ns", T0 + 1600 * NS_PER_MS, r->last_ns);
	}
	rows_free(&v);

	/* destination */
	CHECK_I("group.dest.rc", 0, rows_derive(s, GROUP_DEST, NULL, SORT_DADDR, 0, 0, &v));
	CHECK_U("group.dest.n", 2, v.n);
	memset(&g, 0, sizeof(g));
	g.family = 4;
	inet_pton(AF_INET, "10.0.0.1", g.daddr);
	r = find_view_row(&v, &g);
	CHECK("group.dest.key_only_addr", r != NULL);
	if (r) {
		CHECK("group.dest.first_sorted", v.rows[0] == r);
		CHECK_U("group.dest.1_count", 4, r->count);
		CHECK_U("group.dest.1_ok", 3, r->results[RES_OK]);
		CHECK_U("group.dest.1_timeout", 1, r->results[RES_TIMEOUT]);
		CHECK_U("group.dest.1_nflows", 2, r->nflows);
		CHECK_U("group.dest.1_npids", 3, r->npids);
		CHECK_S("group.dest.1_pids", "100 101 200", pids_str(r));
		CHECK_U("group.dest.1_hist0", 1, hist_at(r, v.epoch, 0));
		CHECK_U("group.dest.1_hist1", 3, hist_at(r, v.epoch, 1));
	}
	inet_pton(AF_INET, "10.0.0.2", g.daddr);
	r = find_view_row(&v, &g);
	if (CHECK("group.dest.2_found", r)) {
		CHECK_U("group.dest.2_count", 6, r->count);
		CHECK_U("group.dest.2_refused", 2, r->results[RES_REFUSED]);
		CHECK_U("group.dest.2_ok", 4, r->results[RES_OK]);
		CHECK_U("group.dest.2_npids", 2, r->npids);
		CHECK_S("group.dest.2_pids", "100 200", pids_str(r));
		CHECK_U("group.dest.2_hist0", 5, hist_at(r, v.epoch, 0));
		CHECK_U("group.dest.2_hist1", 1, hist_at(r, v.epoch, 1));
		CHECK_D("group.dest.2_rate", 5.0, r->rate, 1e-12);
	}
	rows_free(&v);

	/* port */
	CHECK_I("group.port.rc", 0, rows_derive(s, GROUP_PORT, NULL, SORT_DPORT, 0, 0, &v));
	CHECK_U("group.port.n", 3, v.n);
	if (v.n == 3) {
		CHECK_U("group.port.0_dport", 53, v.rows[0]->key.dport);
		CHECK_U("group.port.0_proto", P_UDP, v.rows[0]->key.proto);
		CHECK_U("group.port.0_count", 4, v.rows[0]->count);
		CHECK_U("group.port.0_family_zero", 0, v.rows[0]->key.family);
		CHECK_U("group.port.0_comm_empty", 0, v.rows[0]->key.comm[0]);
		CHECK_U("group.port.1_dport", 80, v.rows[1]->key.dport);
		CHECK_U("group.port.1_count", 4, v.rows[1]->count);
		CHECK_U("group.port.1_nflows", 2, v.rows[1]->nflows);
		CHECK_U("group.port.1_npids", 3, v.rows[1]->npids);
		CHECK_U("group.port.1_timeout", 1, v.rows[1]->results[RES_TIMEOUT]);
		CHECK_U("group.port.2_dport", 443, v.rows[2]->key.dport);
		CHECK_U("group.port.2_count", 2, v.rows[2]->count);
		CHECK_U("group.port.2_nflows", 1, v.rows[2]->nflows);
	}
	rows_free(&v);

	/* filters apply to the flows, before grouping */
	{
		char err[128];
		struct ct_filter *f = filter_new("port:80", err, sizeof(err));

		CHECK_I("group.filtered.rc", 0,
			rows_derive(s, GROUP_PROCESS, f, SORT_COMM, 0, 0, &v));
		CHECK_U("group.filtered.n", 2, v.n);
		CHECK_U("group.filtered.total", 4, v.total);
		if (v.n == 2) {
			CHECK_U("group.filtered.curl_count", 3, v.rows[0]->count);
			CHECK_U("group.filtered.curl_nflows", 1, v.rows[0]->nflows);
			CHECK_U("group.filtered.curl_npids", 2, v.rows[0]->npids);
			CHECK_U("group.filtered.curl_refused", 0, v.rows[0]->results[RES_REFUSED]);
			CHECK_U("group.filtered.wget_count", 1, v.rows[1]->count);
		}
		rows_free(&v);
		filter_free(f);

		f = filter_new("fail", err, sizeof(err));
		rows_derive(s, GROUP_PROCESS, f, SORT_COMM, 0, 0, &v);
		CHECK_U("group.filtered_fail.n", 2, v.n);
		if (v.n == 2) {
			CHECK_U("group.filtered_fail.curl_count", 2, v.rows[0]->count);
			CHECK_U("group.filtered_fail.curl_npids", 1, v.rows[0]->npids);
			CHECK_U("group.filtered_fail.wget_count", 1, v.rows[1]->count);
		}
		rows_free(&v);
		filter_free(f);

		f = filter_new("proto:udp", err, sizeof(err));
		rows_derive(s, GROUP_PROCESS, f, SORT_COMM, 0, 0, &v);
		CHECK_U("group.filtered_udp.n", 1, v.n);
		CHECK_U("group.filtered_udp.wget_count", 4, v.n ? v.rows[0]->count : 0);
		rows_free(&v);
		filter_free(f);

		f = filter_new("pid:101", err, sizeof(err));
		rows_derive(s, GROUP_DEST, f, SORT_COUNT, 1, 0, &v);
		CHECK_U("group.filtered_pid.n", 1, v.n);
		CHECK_U("group.filtered_pid.count", 3, v.n ? v.rows[0]->count : 0);
		rows_free(&v);
		filter_free(f);

		f = filter_new("nothing-matches-this", err, sizeof(err));
		CHECK_I("group.filtered_none.rc", 0,
			rows_derive(s, GROUP_PORT, f, SORT_COUNT, 1, 0, &v));
		CHECK_U("group.filtered_none.n", 0, v.n);
		rows_free(&v);
		filter_free(f);
	}

	/* the snapshot stays unchanged while the table goes on */
	add_n(t, F1, 50, T0 + 3 * NS_PER_S, 999, 0);
	flows_tick(t, T0 + 4 * NS_PER_S);
	r = find_row(s->rows, s->n, &F1);
	CHECK_U("snap.unchanged_count", 3, r ? r->count : 0);
	CHECK_S("snap.unchanged_pids", "100 101", r ? pids_str(r) : "");
	snap_free(s);
	s = snap_new(t, T0 + 4 * NS_PER_S);
	r = find_row(s->rows, s->n, &F1);
	CHECK_U("snap.new_count", 53, r ? r->count : 0);
	snap_free(s);

	/* tags */
	CHECK_I("tag.set", 0, flows_tag_set(t, &F2, 7));
	g = key("nope", "10.0.0.1", 1, P_TCP);
	CHECK_I("tag.missing", -ENOENT, flows_tag_set(t, &g, 7));
	s = snap_new(t, T0 + 4 * NS_PER_S);
	CHECK_U("tag.in_snapshot", 7,
		find_row(s->rows, s->n, &F2) ? find_row(s->rows, s->n, &F2)->tag : 0);
	CHECK_U("tag.default_zero", 0,
		find_row(s->rows, s->n, &F1) ? find_row(s->rows, s->n, &F1)->tag : 1);
	snap_free(s);
	flows_free(t);
}

/* ---- sorting ---- */

/*
 * Five flows, the row number carried in uid. Key order (the tie-break):
 * R1 < R2 < R4 < R3 < R5.
 *        comm daddr     dport proto pid  prev last fail lat(us) last_ns
 *   R1   a    10.0.0.1  80    tcp   300  3    2    1    100     1.5s
 *   R2   a    10.0.0.2  80    tcp   100  1    4    0    -       1.6s
 *   R3   b    10.0.0.1  443   tcp   300  2    2    1    100     1.5s
 *   R4   b    10.0.0.1  53    udp   200  0    4    0    -       1.6s
 *   R5   c    10.0.0.3  80    tcp   100  3    2    1    1000    1.7s
 */
static struct ct_flows *sort_table(int reverse)
{
	static const struct {
		const char *comm, *addr;
		unsigned dport, proto;
		uint32_t pid;
		int prev, last, fail;
		uint64_t lat_ns, last_ms;
	} R[5] = {
		{ "a", "10.0.0.1", 80, P_TCP, 300, 3, 2, 1, 100000, 1500 },
		{ "a", "10.0.0.2", 80, P_TCP, 100, 1, 4, 0, 0, 1600 },
		{ "b", "10.0.0.1", 443, P_TCP, 300, 2, 2, 1, 100000, 1500 },
		{ "b", "10.0.0.1", 53, P_UDP, 200, 0, 4, 0, 0, 1600 },
		{ "c", "10.0.0.3", 80, P_TCP, 100, 3, 2, 1, 1000000, 1700 },
	};
	/* SYNs the first of its last connects retransmitted; -1: not counted
	 * (UDP) */
	static const int synrt[5] = { 2, 0, 2, -1, 5 };
	struct ct_flows *t = flows_new(10);

	flows_tick(t, T0);
	for (int j = 0; j < 5; j++) {
		int i = reverse ? 4 - j : j;
		struct flow_key k = key(R[i].comm, R[i].addr, R[i].dport, R[i].proto);

		for (int n = 0; n < R[i].prev; n++) {
			struct ct_sample s = sample(k, T0 + 100 * NS_PER_MS, R[i].pid, 0);

			s.uid = i + 1;
			flows_add(t, &s);
		}
	}
	flows_tick(t, T0 + NS_PER_S);
	for (int j = 0; j < 5; j++) {
		int i = reverse ? 4 - j : j;
		struct flow_key k = key(R[i].comm, R[i].addr, R[i].dport, R[i].proto);

		for (int n = 0; n < R[i].last; n++) {
			int final = n == R[i].last - 1;
			struct ct_sample s = sample(
				k, final ? T0 + R[i].last_ms * NS_PER_MS : T0 + 1100 * NS_PER_MS,
				R[i].pid, n < R[i].fail ? -ECONNREFUSED : 0);

			s.uid = i + 1;
			s.has_synrt = synrt[i] >= 0;
			s.syn_rt = n == 0 && synrt[i] > 0 ? (uint8_t)synrt[i] : 0;
			if (n == 0 && R[i].lat_ns) {
				s.has_lat = 1;
				s.lat_ns = R[i].lat_ns;
			}
			flows_add(t, &s);
		}
	}
	flows_tick(t, T0 + 2 * NS_PER_S);
	return t;
}

static const char *order(const struct ct_rows *v)
{
	static char buf[32];

	for (size_t i = 0; i < v->n && i < sizeof(buf) - 1; i++)
		buf[i] = (char)('0' + v->rows[i]->uid);
	buf[v->n < sizeof(buf) - 1 ? v->n : sizeof(buf) - 1] = 0;
	return buf;
}

static void test_sort(void)
{
	static const char *const names[SORT_MAX] = { "comm",	"pid",	"daddr", "dport",
						     "proto",	"rate", "count", "fail",
						     "failpct", "lat",	"last",	 "synrt" };
	static const char *const asc[SORT_MAX] = {
		[SORT_COMM] = "12435",	[SORT_PID] = "25413",	[SORT_DADDR] = "14325",
		[SORT_DPORT] = "41253", [SORT_PROTO] = "12354", [SORT_RATE] = "13524",
		[SORT_COUNT] = "43125", [SORT_FAIL] = "24135",	[SORT_FAILPCT] = "24153",
		[SORT_LAT] = "24135",	[SORT_LAST] = "13245",	[SORT_SYNRT] = "42135",
	};
	static const char *const desc[SORT_MAX] = {
		[SORT_COMM] = "54312",	[SORT_PID] = "13425",	[SORT_DADDR] = "52143",
		[SORT_DPORT] = "31254", [SORT_PROTO] = "41235", [SORT_RATE] = "24135",
		[SORT_COUNT] = "12543", [SORT_FAIL] = "13524",	[SORT_FAILPCT] = "31524",
		[SORT_LAT] = "51324",	[SORT_LAST] = "52413",	[SORT_SYNRT] = "51324",
	};
	struct ct_flows *t = sort_table(0), *t2 = sort_table(1);
	struct ct_snap *s = snap_new(t, T0 + 2 * NS_PER_S), *s2 = snap_new(t2, T0 + 2 * NS_PER_S);
	struct ct_rows v, v2;

	for (int i = 0; i < SORT_MAX; i++) {
		CHECK_S(nm("sort.name.%d", i), names[i], ct_sort_names[i]);
		CHECK_I(nm("sort.parse.%s", names[i]), i, ct_sort_parse(names[i]));
	}
	CHECK_I("sort.parse.unknown", -1, ct_sort_parse("bogus"));
	CHECK_I("sort.parse.case_sensitive", -1, ct_sort_parse("RATE"));

	/* sanity of the data set */
	rows_derive(s, GROUP_FLOW, NULL, SORT_COMM, 0, 0, &v);
	CHECK_U("sort.rows", 5, v.n);
	if (v.n == 5) {
		const struct ct_row *r1 = NULL, *r3 = NULL, *r5 = NULL;

		for (size_t i = 0; i < 5; i++) {
			if (v.rows[i]->uid == 1)
				r1 = v.rows[i];
			if (v.rows[i]->uid == 3)
				r3 = v.rows[i];
			if (v.rows[i]->uid == 5)
				r5 = v.rows[i];
		}
		CHECK_D("sort.data.r1_rate", 2.0, r1 ? r1->rate : -1, 1e-12);
		CHECK_U("sort.data.r1_count", 5, r1 ? r1->count : 0);
		CHECK_U("sort.data.r3_fail", 1, r3 ? ct_row_failures(r3) : 0);
		CHECK_D("sort.data.r5_p99", 1000.0, r5 ? ct_row_lat_pct(r5, 0.99) : -1, 1e-9);
		CHECK_D("sort.data.r1_p99", 100.0, r1 ? ct_row_lat_pct(r1, 0.99) : -1, 1e-9);
		if (r1 && r3) {
			CHECK("sort.cmp_tie_asc", ct_row_cmp(r1, r3, SORT_RATE, 0) < 0);
			CHECK("sort.cmp_tie_desc", ct_row_cmp(r1, r3, SORT_RATE, 1) < 0);
			CHECK("sort.cmp_tie_desc_reverse", ct_row_cmp(r3, r1, SORT_RATE, 1) > 0);
			CHECK_I("sort.cmp_self", 0, ct_row_cmp(r1, r1, SORT_RATE, 1));
		}
	}
	rows_free(&v);

	for (int i = 0; i < SORT_MAX; i++) {
		for (int d = 0; d <= 1; d++) {
			const char *want = d ? desc[i] : asc[i];

			rows_derive(s, GROUP_FLOW, NULL, i, d, 0, &v);
			CHECK_S(nm("sort.%s.%s", names[i], d ? "desc" : "asc"), want, order(&v));
			/* the same flows seen in another order sort the same */
			rows_derive(s2, GROUP_FLOW, NULL, i, d, 0, &v2);
			CHECK_S(nm("sort.%s.%s.stable", names[i], d ? "desc" : "asc"), want,
				order(&v2));
			rows_free(&v);
			rows_free(&v2);
		}
	}

	/* groups sort and tie-break the same way: process rows a (5+5=10),
	 * b (4+4=8), c (5): by count descending; port rows 80/tcp (15 connects),
	 * 443/tcp (4) and 53/udp (4) tie on count and go by key: 53 first */
	rows_derive(s, GROUP_PROCESS, NULL, SORT_COUNT, 1, 0, &v);
	CHECK_U("sort.group_process.n", 3, v.n);
	CHECK_S("sort.group_process.first", "a", v.n == 3 ? v.rows[0]->key.comm : "");
	CHECK_S("sort.group_process.last", "c", v.n == 3 ? v.rows[2]->key.comm : "");
	rows_free(&v);
	rows_derive(s, GROUP_PORT, NULL, SORT_COUNT, 1, 0, &v);
	CHECK_U("sort.group_port.n", 3, v.n);
	if (v.n == 3) {
		CHECK_U("sort.group_port.0", 80, v.rows[0]->key.dport);
		CHECK_U("sort.group_port.0_count", 15, v.rows[0]->count);
		CHECK_U("sort.group_port.1_tie_by_key", 53, v.rows[1]->key.dport);
		CHECK_U("sort.group_port.2_tie_by_key", 443, v.rows[2]->key.dport);
	}
	rows_free(&v);

	snap_free(s);
	snap_free(s2);
	flows_free(t);
	flows_free(t2);
}

/* the share of failures leaves pending connects out of the denominator */
static void test_failpct_pending(void)
{
	struct ct_flows *t = flows_new(10);
	struct flow_key x = key("x", "10.0.0.1", 80, P_TCP), y = key("y", "10.0.0.1", 80, P_TCP);
	struct ct_sample s;
	struct ct_snap *sn;
	struct ct_rows v;

	/* x: 1 refused, 3 ok, 1 pending: 1/4; y: 1 refused, 4 ok: 1/5 */
	add_n(t, x, 1, T0 + 1, 1, -ECONNREFUSED);
	add_n(t, x, 3, T0 + 2, 1, 0);
	s = sample(x, T0 + 3, 1, -EINPROGRESS);
	s.pending = 1;
	flows_add(t, &s);
	add_n(t, y, 1, T0 + 4, 2, -ECONNREFUSED);
	add_n(t, y, 4, T0 + 5, 2, 0);
	sn = snap_new(t, T0 + 6);
	rows_derive(sn, GROUP_FLOW, NULL, SORT_FAILPCT, 0, 0, &v);
	CHECK_S("failpct.pending_excluded_asc", "y",
		v.n == 2 ? nm("%.1s", v.rows[0]->key.comm) : "");
	rows_free(&v);
	rows_derive(sn, GROUP_FLOW, NULL, SORT_FAILPCT, 1, 0, &v);
	CHECK_S("failpct.pending_excluded_desc", "x",
		v.n == 2 ? nm("%.1s", v.rows[0]->key.comm) : "");
	rows_free(&v);
	snap_free(sn);
	flows_free(t);
}

/* a group's pid and uid are those of its most recent connect (by time),
 * whatever the order its flows were last touched in */
static void test_group_latest(void)
{
	struct ct_flows *t = flows_new(10);
	struct flow_key x1 = key("x", "10.0.0.1", 80, P_TCP), x2 = key("x", "10.0.0.2", 80, P_TCP);
	struct ct_sample s;
	struct ct_snap *sn;
	struct ct_rows v;

	s = sample(x1, T0 + 5 * NS_PER_S, 11, 0);
	s.uid = 111;
	flows_add(t, &s);
	s = sample(x2, T0 + 1 * NS_PER_S, 22, 0);
	s.uid = 222;
	flows_add(t, &s); /* touched last, but the older connect */
	sn = snap_new(t, T0 + 6 * NS_PER_S);
	rows_derive(sn, GROUP_PROCESS, NULL, SORT_COUNT, 1, 0, &v);
	CHECK_U("group_latest.n", 1, v.n);
	if (v.n == 1) {
		CHECK_U("group_latest.pid", 11, v.rows[0]->pid);
		CHECK_U("group_latest.uid", 111, v.rows[0]->uid);
		CHECK_U("group_latest.first_ns", T0 + 1 * NS_PER_S, v.rows[0]->first_ns);
		CHECK_U("group_latest.last_ns", T0 + 5 * NS_PER_S, v.rows[0]->last_ns);
		CHECK_U("group_latest.npids", 2, v.rows[0]->npids);
	}
	rows_free(&v);
	rows_derive(sn, GROUP_PORT, NULL, SORT_COUNT, 1, 0, &v);
	CHECK_U("group_latest.port_pid", 11, v.n == 1 ? v.rows[0]->pid : 0);
	rows_free(&v);
	snap_free(sn);
	flows_free(t);
}

/* ---- a limit: only the first rows put in order ---- */

/* a view's rows are a permutation of the snapshot's (or group) rows */
static int all_rows_once(const struct ct_rows *v, const struct ct_snap *s)
{
	char *seen = calloc(s->n ? s->n : 1, 1);
	int ok = v->n == s->n;

	for (size_t i = 0; ok && i < v->n; i++) {
		size_t idx = (size_t)(v->rows[i] - s->rows);

		ok = idx < s->n && !seen[idx];
		if (ok)
			seen[idx] = 1;
	}
	free(seen);
	return ok;
}

/* every field of two rows and of their more, the pids as sets, the
 * history as seen in interval `epoch` (two rings can hold the same history
 * from different newest intervals) */
static int rows_same(const struct ct_row *a, const struct ct_row *b, uint64_t epoch)
{
	struct ct_row x = *a, y = *b;
	struct ct_row_more xm = *a->more, ym = *b->more;
	uint32_t pa[CT_MAX_PIDS], pb[CT_MAX_PIDS], ha[CT_HIST], hb[CT_HIST];

	if (a->npids != b->npids || a->npids > CT_MAX_PIDS ||
	    (a->npids && (!ct_row_pids(a) || !ct_row_pids(b))))
		return 0;
	if (a->npids) {
		memcpy(pa, ct_row_pids(a), a->npids * sizeof(*pa));
		memcpy(pb, ct_row_pids(b), b->npids * sizeof(*pb));
	}
	qsort(pa, a->npids, sizeof(*pa), cmp_u32);
	qsort(pb, b->npids, sizeof(*pb), cmp_u32);
	ct_row_history(a, epoch, ha);
	ct_row_history(b, epoch, hb);
	x.more = y.more = NULL;
	x.hist_epoch = y.hist_epoch = 0;
	xm.pids = ym.pids = NULL;
	xm.pid_is_row = ym.pid_is_row = 0;
	/* what the mores point at, by value (the history is ha, hb) */
	if (memcmp(ct_more_lat(&xm), ct_more_lat(&ym), sizeof(struct ct_lat)))
		return 0;
	xm.lat = ym.lat = NULL;
	xm.hist_ring = ym.hist_ring = NULL;
	xm.hist_cur = ym.hist_cur = 0;
	return !memcmp(&x, &y, sizeof(x)) && !memcmp(&xm, &ym, sizeof(xm)) &&
	       !memcmp(pa, pb, a->npids * sizeof(*pa)) && !memcmp(ha, hb, sizeof(ha));
}

/* the rows a view derived put in order are those of a fresh view of s */
static int same_as_fresh(const struct ct_snap *s, enum ct_group g, const struct ct_filter *f,
			 enum ct_sort so, int desc, size_t lim, const struct ct_rows *kept)
{
	struct ct_rows v;
	int ok = !rows_derive(s, g, f, so, desc, lim, &v) && kept->n == v.n &&
		 kept->sorted == v.sorted && kept->total == v.total;

	for (size_t i = 0; ok && i < v.sorted; i++)
		ok = rows_same(kept->rows[i], v.rows[i], v.epoch);
	rows_free(&v);
	return ok;
}

static void test_limit(void)
{
	struct ct_flows *t = sort_table(0);
	struct ct_snap *s = snap_new(t, T0 + 2 * NS_PER_S);
	struct ct_rows full, v;
	int bad = 0;

	/* the five rows of the sort test: every limit gives the prefix of the full order */
	for (int i = 0; i < SORT_MAX; i++) {
		for (int d = 0; d <= 1; d++) {
			char want[8];

			rows_derive(s, GROUP_FLOW, NULL, i, d, 0, &full);
			CHECK_U(nm("limit.%s.%d.full_sorted", ct_sort_names[i], d), 5, full.sorted);
			snprintf(want, sizeof(want), "%s", order(&full));
			for (size_t lim = 1; lim <= 6; lim++) {
				char got[8];
				size_t k = lim < 5 ? lim : 5;

				rows_derive(s, GROUP_FLOW, NULL, i, d, lim, &v);
				snprintf(got, sizeof(got), "%s", order(&v));
				ck(v.n == 5 && v.sorted == k && !strncmp(got, want, k) &&
					   all_rows_once(&v, s),
				   nm("limit.%s.%s.%zu", ct_sort_names[i], d ? "desc" : "asc", lim),
				   "expected n 5, sorted %zu, prefix of \"%s\"; got n %zu, sorted %zu, order \"%s\"",
				   k, want, v.n, v.sorted, got);
				rows_free(&v);
			}
			rows_free(&full);
		}
	}
	snap_free(s);
	flows_free(t);

	/* 600 flows with few distinct values (many ties), every column */
	t = flows_new(1000);
	flows_tick(t, T0);
	{
		uint32_t x = 12345;

		for (int i = 0; i < 600; i++) {
			struct flow_key k = key("", "10.0.0.0", 0, P_TCP);
			int n;

			x = x * 1103515245u + 12345u;
			k.comm[0] = (char)('a' + (x >> 16) % 3);
			k.daddr[3] = (uint8_t)((x >> 8) % 5);
			k.dport = (uint16_t)i;
			n = 1 + (int)((x >> 20) % 4);
			add_n(t, k, n, T0 + ((x >> 12) % 7) * NS_PER_MS, 100 + (x >> 24) % 5,
			      (x >> 18) % 3 ? 0 : -ECONNREFUSED);
		}
	}
	flows_tick(t, T0 + NS_PER_S);
	s = snap_new(t, T0 + NS_PER_S);
	for (int g = GROUP_FLOW; g < GROUP_MAX; g++) {
		for (int i = 0; i < SORT_MAX; i++) {
			for (int d = 0; d <= 1; d++) {
				static const size_t lims[] = { 1, 2, 7, 50, 299, 599, 600, 601 };

				rows_derive(s, g, NULL, i, d, 0, &full);
				for (size_t li = 0; li < ARRAY_SIZE(lims); li++) {
					size_t lim = lims[li], k = lim < full.n ? lim : full.n;
					int ok;

					rows_derive(s, g, NULL, i, d, lim, &v);
					ok = v.n == full.n && v.sorted == k;
					/* the rows put in order are complete: all that a
					 * full view has, history and pids included */
					for (size_t j = 0; ok && j < k; j++)
						ok = rows_same(v.rows[j], full.rows[j], v.epoch);
					if (ok && g == GROUP_FLOW)
						ok = all_rows_once(&v, s);
					if (!ok && bad++ < 5)
						ck(0,
						   nm("limit.many.%s.%s.%s.%zu", ct_group_names[g],
						      ct_sort_names[i], d ? "desc" : "asc", lim),
						   "the first %zu rows differ from the full sort (n %zu, sorted %zu)",
						   k, v.n, v.sorted);
					rows_free(&v);
				}
				rows_free(&full);
			}
		}
	}
	ck(!bad, "limit.many_prefixes", "%d views differ from the prefix of the full sort", bad);
	snap_free(s);
	flows_free(t);
}

/* ---- snapshots that reuse their buffers ---- */

static void test_snapshot_reuse(void)
{
	struct ct_flows *t = flows_new(100);
	struct flow_key a = key("a", "10.0.0.1", 80, P_TCP), b = key("b", "10.0.0.1", 80, P_TCP);
	struct ct_snap *s;
	const struct ct_row *r;

	add_n(t, a, 1, T0 + 1, 1, 0);
	s = snap_refresh(t, T0 + 2, NULL);
	CHECK_U("reuse.null_old_n", 1, s ? s->n : 0);
	/* more flows and pids than the old buffers hold */
	for (uint32_t pid = 10; pid < 60; pid++)
		add_n(t, b, 1, T0 + 3, pid, 0);
	for (int i = 0; i < 20; i++) {
		struct flow_key k = key("c", "10.0.0.2", 1000 + i, P_TCP);

		add_n(t, k, 2, T0 + 4, 70 + i, 0);
		add_n(t, k, 1, T0 + 4, 170 + i, 0);
	}
	s = snap_refresh(t, T0 + 5, s);
	CHECK_U("reuse.grown_n", 22, s->n);
	CHECK_U("reuse.taken", T0 + 5, s->taken_ns);
	r = find_row(s->rows, s->n, &b);
	CHECK_U("reuse.grown_b_count", 50, r ? r->count : 0);
	CHECK_U("reuse.grown_b_npids", 50, r ? r->npids : 0);
	if (r && ct_row_pids(r)) {
		uint32_t tmp[50];
		int ok = 1;

		memcpy(tmp, ct_row_pids(r), sizeof(tmp));
		qsort(tmp, 50, sizeof(*tmp), cmp_u32);
		for (int i = 0; i < 50; i++)
			ok &= tmp[i] == (uint32_t)(10 + i);
		CHECK("reuse.grown_b_pids", ok);
	}
	{
		struct flow_key k = key("c", "10.0.0.2", 1019, P_TCP);

		r = find_row(s->rows, s->n, &k);
		CHECK_S("reuse.grown_c_pids", "89 189", r ? pids_str(r) : "");
	}
	/* fewer flows than the buffers hold */
	flows_clear(t);
	add_n(t, a, 3, T0 + 6, 5, 0);
	s = snap_refresh(t, T0 + 7, s);
	CHECK_U("reuse.shrunk_n", 1, s->n);
	CHECK_U("reuse.shrunk_count", 3, s->n ? s->rows[0].count : 0);
	CHECK_S("reuse.shrunk_pids", "5", s->n ? pids_str(&s->rows[0]) : "");
	/* and an empty table */
	flows_clear(t);
	s = snap_refresh(t, T0 + 8, s);
	CHECK_U("reuse.empty_n", 0, s->n);
	snap_free(s);
	flows_free(t);
}

/* same rows, row by row (snapshot rows keep their place) */
static int snaps_same(const struct ct_snap *a, const struct ct_snap *b, size_t *bad_row)
{
	if (a->n != b->n || a->epoch != b->epoch)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		uint32_t ha[CT_HIST], hb[CT_HIST], ra[CT_RING], rb[CT_RING];

		ct_row_history(&a->rows[i], a->epoch, ha);
		ct_row_history(&b->rows[i], b->epoch, hb);
		ct_more_ring(&a->rows[i], a->rows[i].more, a->epoch, ra);
		ct_more_ring(&b->rows[i], b->rows[i].more, b->epoch, rb);
		if (!rows_same(&a->rows[i], &b->rows[i], a->epoch) || memcmp(ha, hb, sizeof(ha)) ||
		    memcmp(ra, rb, sizeof(ra)) || a->rows[i].hist_epoch != b->rows[i].hist_epoch) {
			*bad_row = i;
			return 0;
		}
	}
	return 1;
}

/* A snapshot brought up to date must equal a fresh copy, whatever happened
 * in between: connects to old and new flows, evictions, intervals ending,
 * long idle gaps, tags, clears; and it must really be brought up to date
 * (not copied whole) when little changed. */
static void test_snapshot_update(void)
{
	struct ct_flows *t = flows_new(64);
	struct ct_snap *inc = NULL, *other = NULL;
	uint64_t now = T0;
	uint32_t x = 777;
	int steps = 0, bad = 0, updated = 0, full_after_clear = 1, vbad = 0, vn = 0;
	/* a view per grouping follows the snapshot, as the screen does; and
	 * another per grouping is only kept up to date (rows_follow),
	 * shown one refresh in four */
	struct ct_rows views[GROUP_MAX] = { 0 }, kept[GROUP_MAX] = { 0 };
	int kbad = 0, kn = 0;
	char err[128];
	struct ct_filter *filt = filter_new("!port:3 !refused", err, sizeof(err));

	flows_tick(t, now);
	for (int round = 0; round < 400; round++) {
		int op, nadd;

		x = x * 1103515245u + 12345u;
		op = (x >> 16) % 100;
		nadd = op < 60 ? 1 + (x >> 8) % 3 : op < 75 ? 40 + (x >> 4) % 60 : 0;
		for (int i = 0; i < nadd; i++) {
			/* 100 keys over 64 places: evictions; pids from a small set */
			struct flow_key k;
			char comm[8];
			int ret;

			x = x * 1103515245u + 12345u;
			snprintf(comm, sizeof(comm), "p%u", (x >> 8) % 7);
			k = key(comm, "10.0.0.1", 1 + (x >> 12) % 15,
				(x >> 20) % 2 ? P_TCP : P_UDP);
			ret = (x >> 22) % 4 == 0 ? -ECONNREFUSED :
			      (x >> 22) % 4 == 1 ? -ETIMEDOUT :
						   0;
			if ((x >> 24) % 3)
				add_lat(t, k, now + i, 100 + (x >> 26) % 5, ret,
					1000 + (x >> 6) % 100000);
			else
				add_n(t, k, 1, now + i, 100 + (x >> 26) % 5, ret);
			/* connects in flight, and outcomes of some (begun up
			 * to 3 us before: there or not) */
			if ((x >> 3) % 8 == 0)
				add_flight(t, k, now + i, now + i, 0, -EINPROGRESS);
			else if ((x >> 3) % 8 == 1)
				add_flight(t, k, now + i, now + i - (x >> 9) % 4 * 1000, 1, ret);
		}
		if (op >= 75 && op < 90) { /* intervals end, sometimes many */
			int ticks = op < 87 ? 1 : 30 + (x >> 9) % 50;

			for (int i = 0; i < ticks; i++)
				flows_tick(t, now += NS_PER_S);
		} else if (op >= 90 && op < 97) { /* a tag, as the Prometheus exposition sets */
			struct flow_key k = key("p1", "10.0.0.1", 1 + (x >> 5) % 15, P_TCP);

			flows_tag_set(t, &k, 1 + (x >> 3) % 3);
		} else if (op >= 97 && op < 99) {
			flows_clear(t);
		} else if (op == 99) { /* another reader's snapshot in between */
			snap_free(other);
			other = snap_new(t, now);
		}
		now += 1000;
		{
			struct ct_snap *fresh = snap_new(t, now);
			size_t row = 0;

			inc = snap_refresh(t, now, inc);
			if (inc) /* the grouped views below take the rows' differences */
				inc->keep_old = 1;
			if (!inc || !fresh || !snaps_same(inc, fresh, &row)) {
				if (bad++ < 3)
					ck(0, nm("snap_update.round_%d", round),
					   "op %d: row %zu differs from a fresh snapshot", op, row);
			}
			if (inc && !inc->full)
				updated++;
			for (int g = GROUP_FLOW; inc && g < GROUP_MAX; g++) {
				enum ct_sort so = (enum ct_sort)((round + g) % SORT_MAX);
				const struct ct_filter *ff = round % 50 < 25 ? NULL : filt;
				size_t lim = (size_t)(round % 4) * 3;
				int ok = !rows_refresh(inc, g, ff, so, round % 2, lim, &views[g]) &&
					 same_as_fresh(inc, g, ff, so, round % 2, lim, &views[g]);

				if (!ok && vbad++ < 3)
					ck(0,
					   nm("snap_update.view.%d.%s", round, ct_group_names[g]),
					   "the view kept up to date differs from a fresh one");
				vn++;
			}
			for (int g = GROUP_FLOW; inc && g < GROUP_MAX; g++) {
				const struct ct_filter *ff = round % 50 < 25 ? NULL : filt;

				if ((round + g) % 4) {
					rows_follow(inc, g, ff, &kept[g]);
					continue;
				}
				if ((rows_refresh(inc, g, ff, SORT_COUNT, 1, 6, &kept[g]) ||
				     !same_as_fresh(inc, g, ff, SORT_COUNT, 1, 6, &kept[g])) &&
				    kbad++ < 3)
					ck(0,
					   nm("snap_update.kept.%d.%s", round, ct_group_names[g]),
					   "a view kept aside differs from a fresh one");
				kn++;
			}
			if (inc && op >= 97 && op < 99 && !inc->full)
				full_after_clear = 0;
			snap_free(fresh);
			steps++;
		}
	}
	ck(!bad, "snap_update.equals_fresh", "%d of %d refreshes differ from a fresh snapshot", bad,
	   steps);
	ck(!vbad, "snap_update.views_equal_fresh", "%d of %d views differ from fresh ones", vbad,
	   vn);
	ck(!kbad, "snap_update.kept_views_equal_fresh",
	   "%d of %d views kept aside differ from fresh ones", kbad, kn);
	for (int g = GROUP_FLOW; g < GROUP_MAX; g++) {
		rows_free(&views[g]);
		rows_free(&kept[g]);
	}
	filter_free(filt);
	ck(updated > steps / 2, "snap_update.mostly_updated",
	   "only %d of %d refreshes were updates", updated, steps);
	CHECK("snap_update.full_after_clear", full_after_clear);
	snap_free(inc);
	snap_free(other);
	flows_free(t);

	/* every flow gets a new pid at every refresh (a loop of short-lived
	 * processes): the pid pool runs out of room and grows, and the update
	 * goes on instead of copying the table */
	t = flows_new(400);
	flows_tick(t, T0);
	inc = NULL;
	bad = 0;
	updated = 0;
	for (int round = 0; round < 40; round++) {
		struct ct_snap *fresh;
		size_t row = 0;

		for (int i = 0; i < 300; i++)
			add_n(t, key("loop", "10.0.0.3", 1 + i, P_UDP), 1, T0 + round,
			      1000 + round * 7 + i % 7, 0);
		inc = snap_refresh(t, T0 + round + 1, inc);
		fresh = snap_new(t, T0 + round + 1);
		if (!inc || !fresh || !snaps_same(inc, fresh, &row))
			bad++;
		if (inc && !inc->full)
			updated++;
		snap_free(fresh);
	}
	CHECK_I("snap_update.pids_grow.equal", 0, bad);
	CHECK_I("snap_update.pids_grow.updated", 39, updated);
	snap_free(inc);
	flows_free(t);

	/* an idle table of many flows: a refresh writes nothing; one connect: one row */
	t = flows_new(1000);
	flows_tick(t, T0);
	for (int i = 0; i < 500; i++)
		add_n(t, key("idle", "10.0.0.2", 1 + i, P_TCP), 1, T0 + i, 9, 0);
	flows_tick(t, T0 + NS_PER_S);
	flows_tick(t, T0 + 2 * NS_PER_S);
	inc = snap_refresh(t, T0 + 2 * NS_PER_S, NULL);
	flows_tick(t, T0 + 3 * NS_PER_S);
	add_n(t, key("idle", "10.0.0.2", 7, P_TCP), 1, T0 + 3 * NS_PER_S + 1, 9, 0);
	inc = snap_refresh(t, T0 + 3 * NS_PER_S + 2, inc);
	CHECK_U("snap_update.idle.updated", 0, inc->full);
	{
		const struct flow_key k = key("idle", "10.0.0.2", 7, P_TCP);
		const struct ct_row *r = find_row(inc->rows, inc->n, &k);

		CHECK_U("snap_update.idle.count", 2, r ? r->count : 0);
		CHECK_U("snap_update.idle.n", 500, inc->n);
	}
	snap_free(inc);
	flows_free(t);
}

/* One view reused across groupings, sorts, limits and filters gives what
 * a fresh view gives. */
static void test_view_reuse(void)
{
	struct ct_flows *t = sort_table(0);
	struct ct_snap *s;
	struct ct_rows reused = { 0 };
	char err[128];
	struct ct_filter *f = filter_new("!port:2", err, sizeof(err));
	int bad = 0, n = 0;

	/* more flows, so that group counts go up and down between views */
	for (int i = 0; i < 300; i++) {
		char comm[8];

		snprintf(comm, sizeof(comm), "q%d", i % 13);
		add_lat(t, key(comm, i % 2 ? "10.9.0.1" : "fd00::9", 1 + i % 40, P_TCP), T0 + i,
			50 + i % 9, i % 5 ? 0 : -ECONNREFUSED, 1000 + 777 * i);
	}
	flows_tick(t, T0 + NS_PER_S);
	s = snap_new(t, T0 + NS_PER_S);
	for (int round = 0; round < 3; round++) {
		for (int g = GROUP_MAX - 1; g >= GROUP_FLOW; g--) {
			for (int so = 0; so < SORT_MAX; so++) {
				size_t lim = (size_t)((so * 7 + g * 3 + round) % 5) * 10;
				const struct ct_filter *ff = (so + round) % 3 ? NULL : f;

				if ((rows_refresh(s, g, ff, so, so % 2, lim, &reused) ||
				     !same_as_fresh(s, g, ff, so, so % 2, lim, &reused)) &&
				    bad++ < 3)
					ck(0,
					   nm("view_reuse.%s.%s.%zu", ct_group_names[g],
					      ct_sort_names[so], lim),
					   "a reused view differs from a fresh one");
				n++;
			}
		}
	}
	ck(!bad, "view_reuse.equals_fresh", "%d of %d reused views differ", bad, n);
	/* the same snapshot object brought up to date: the view must see the change */
	for (int g = GROUP_FLOW; g < GROUP_MAX; g++) {
		int ok;

		s = snap_refresh(t, T0 + NS_PER_S + 1, s);
		ok = !rows_refresh(s, g, NULL, SORT_COUNT, 1, 5, &reused);
		add_n(t, key("q3", "10.9.0.1", 3, P_TCP), 1000 + g, T0 + NS_PER_S + 2, 77, 0);
		s = snap_refresh(t, T0 + NS_PER_S + 3, s);
		ok = ok && !rows_refresh(s, g, NULL, SORT_COUNT, 1, 5, &reused) &&
		     same_as_fresh(s, g, NULL, SORT_COUNT, 1, 5, &reused);
		ck(ok, nm("view_reuse.refreshed.%s", ct_group_names[g]),
		   "a view of the refreshed snapshot is stale");
	}
	rows_free(&reused);
	filter_free(f);
	snap_free(s);
	flows_free(t);
}

/* a connect that returned EINPROGRESS and whose outcome could not be
 * followed (no pending flag: the BPF map was full): "other", never pending */
static void test_untracked(void)
{
	struct ct_flows *t = flows_new(10);
	struct flow_key k = key("go", "10.0.0.1", 443, P_TCP);
	struct ct_sample p = sample(k, T0 + 1, 7, -EINPROGRESS);
	struct ct_snap *s;

	flows_add(t, &p);
	s = snap_new(t, T0 + 2);
	CHECK_U("untracked.count", 1, s->rows[0].count);
	CHECK_U("untracked.not_pending", 0, s->rows[0].results[RES_PENDING]);
	CHECK_U("untracked.other", 1, s->rows[0].results[RES_OTHER]);
	CHECK_I("untracked.errno", EINPROGRESS, s->rows[0].more->errs[0].err);
	snap_free(s);
	flows_free(t);
}

/* SYN retransmits per flow: the histogram 0, 1, 2, 3+ and the total of the
 * final results counted; pending connects and those not counted (UDP, no
 * tracepoint) stay out; groups sum their flows */
static void test_syn_retrans(void)
{
	struct flow_key tcp = key("curl", "10.0.0.1", 443, P_TCP),
			tcp2 = key("curl", "10.0.0.2", 443, P_TCP),
			udp = key("curl", "10.0.0.1", 53, P_UDP);
	static const uint8_t per_connect[] = { 0, 0, 0, 1, 1, 2, 3, 7 };
	struct ct_flows *t = flows_new(10);
	struct ct_snap *s;
	struct ct_rows v;

	flows_tick(t, T0);
	for (size_t i = 0; i < ARRAY_SIZE(per_connect); i++) {
		struct ct_sample x = sample(tcp, T0 + 100 * NS_PER_MS, 42, 0);

		x.has_synrt = 1;
		x.syn_rt = per_connect[i];
		flows_add(t, &x);
	}
	{
		/* a pending connect is counted by its outcome, not twice */
		struct ct_sample x = sample(tcp, T0 + 200 * NS_PER_MS, 42, -EINPROGRESS);

		x.pending = 1;
		x.has_synrt = 1; /* as a decoder might say: still left out */
		x.syn_rt = 1;
		flows_add(t, &x);
		x.pending = 0;
		x.outcome = 1;
		x.ret = 0;
		x.syn_rt = 1;
		flows_add(t, &x);
	}
	{
		struct ct_sample x = sample(udp, T0 + 300 * NS_PER_MS, 42, 0);

		flows_add(t, &x);
		x = sample(tcp2, T0 + 300 * NS_PER_MS, 42, 0);
		x.has_synrt = 1;
		x.syn_rt = 1;
		flows_add(t, &x);
		/* one not counted (the tracepoint missing): not a 0 */
		x.has_synrt = 0;
		x.syn_rt = 0;
		flows_add(t, &x);
	}
	flows_tick(t, T0 + NS_PER_S);
	s = snap_new(t, T0 + NS_PER_S);
	rows_derive(s, GROUP_FLOW, NULL, SORT_SYNRT, 1, 0, &v);
	CHECK_U("synrt.rows", 3, v.n);
	if (v.n == 3) {
		const struct ct_row *a = v.rows[0], *b = v.rows[1], *u = v.rows[2];

		CHECK_U("synrt.flow.port", 443, a->key.dport);
		CHECK_U("synrt.flow.hist0", 3, a->syn_rt_hist[0]);
		CHECK_U("synrt.flow.hist1", 3, a->syn_rt_hist[1]); /* with the outcome's */
		CHECK_U("synrt.flow.hist2", 1, a->syn_rt_hist[2]);
		CHECK_U("synrt.flow.hist3plus", 2, a->syn_rt_hist[3]);
		CHECK_U("synrt.flow.total", 1 + 1 + 2 + 3 + 7 + 1, a->syn_rt);
		CHECK_U("synrt.flow.conns", 6, ct_row_syn_rt_conns(a));
		CHECK_I("synrt.flow.known", 1, ct_row_syn_rt_known(a));
		CHECK_U("synrt.flow.count", 9, a->count); /* the outcome is no new connect */
		CHECK_U("synrt.flow2.daddr", 2, b->key.daddr[3]);
		CHECK_U("synrt.flow2.total", 1, b->syn_rt);
		CHECK_U("synrt.flow2.hist", 1, b->syn_rt_hist[1] + b->syn_rt_hist[0]);
		CHECK_U("synrt.flow2.count", 2, b->count);
		CHECK_U("synrt.udp.port", 53, u->key.dport);
		CHECK_I("synrt.udp.unknown", 0, ct_row_syn_rt_known(u));
		CHECK_U("synrt.udp.total", 0, u->syn_rt);
	}
	rows_free(&v);
	rows_derive(s, GROUP_PROCESS, NULL, SORT_SYNRT, 1, 0, &v);
	CHECK_U("synrt.group.rows", 1, v.n);
	if (v.n == 1) {
		CHECK_U("synrt.group.total", 16, v.rows[0]->syn_rt);
		CHECK_U("synrt.group.conns", 7, ct_row_syn_rt_conns(v.rows[0]));
		CHECK_U("synrt.group.hist0", 3, v.rows[0]->syn_rt_hist[0]);
		CHECK_U("synrt.group.hist1", 4, v.rows[0]->syn_rt_hist[1]);
	}
	rows_free(&v);
	snap_free(s);
	flows_free(t);

	/* an evicted flow's counts go to (process, *) with the rest */
	{
		struct flow_key fa = key("q", "10.0.0.1", 1, P_TCP),
				fb = key("q", "10.0.0.1", 2, P_TCP),
				fc = key("q", "10.0.0.1", 3, P_TCP),
				fd = key("q", "10.0.0.1", 4, P_TCP);
		const struct {
			const struct flow_key *k;
			int ret;
			uint8_t n;
		} seq[] = { { &fa, 0, 1 }, { &fb, 0, 2 }, { &fb, -ECONNREFUSED, 0 },
			    { &fc, 0, 0 }, { &fa, 0, 0 }, { &fd, 0, 3 } };
		const struct ct_row *r;
		uint64_t total = 0;

		t = flows_new(3);
		for (size_t i = 0; i < ARRAY_SIZE(seq); i++) {
			struct ct_sample x = sample(*seq[i].k, T0 + 1 + i, 7, seq[i].ret);

			x.has_synrt = 1;
			x.syn_rt = seq[i].n;
			flows_add(t, &x);
		}
		s = snap_new(t, T0 + 10);
		r = find_folded(s->rows, s->n, "q");
		CHECK("synrt.fold.row", r != NULL);
		CHECK_U("synrt.fold.total", 2, r ? r->syn_rt : 0);
		CHECK_U("synrt.fold.hist0", 1, r ? r->syn_rt_hist[0] : 0);
		CHECK_U("synrt.fold.hist2", 1, r ? r->syn_rt_hist[2] : 0);
		for (size_t i = 0; i < s->n; i++)
			total += s->rows[i].syn_rt;
		CHECK_U("synrt.fold.none_lost", 1 + 2 + 3, total);
		snap_free(s);
		flows_free(t);
	}
}

int main(void)
{
	test_counts();
	test_pids();
	test_results();
	test_pending();
	test_pending_age();
	test_untracked();
	test_history();
	test_history_compact();
	test_cold_rows();
	test_snap_own_copies();
	test_history_compact_fold();
	test_snap_bound_room();
	test_snap_hook();
	test_eviction();
	test_hash();
	test_hash_growing();
	test_port_scan();
	test_keep();
	test_fold_outcome();
	test_latency();
	test_latency_retransmit();
	test_latency_groups();
	test_lat_hist();
	test_grouping();
	test_sort();
	test_syn_retrans();
	test_failpct_pending();
	test_group_latest();
	test_limit();
	test_snapshot_reuse();
	test_snapshot_update();
	test_view_reuse();
	return ck_done();
}
