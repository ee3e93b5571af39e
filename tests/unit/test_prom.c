// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * prom.c: the Prometheus text exposition. HELP/TYPE, counters per result,
 * the histogram, label escaping, the series cap (folding into
 * daddr="other"), and counters that never go down while flows are evicted.
 */
#include <dirent.h>
#include <errno.h>
#include <unistd.h>

#include "check.h"
#include "prom.h"

#define T0 (1000 * NS_PER_S)

static struct ct_stats stats(struct ct_flows *t)
{
	struct ct_stats st;

	memset(&st, 0, sizeof(st));
	st.events = 42;
	st.drops = 3;
	st.evicted = flows_evicted(t);
	st.flows = flows_count(t);
	st.interval_s = 1.0;
	return st;
}

static char *expose(struct prom *p, struct ct_flows *t, const char *name)
{
	struct ct_stats st = stats(t);
	struct ck_mem m;
	int rc = prom_write(p, mem_open(&m), t, &st);

	CHECK_I(nm("%s.rc", name), 0, rc);
	return mem_close(&m);
}

/* the value of the sample line "series value", or -1 when absent */
static double value(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, series, n) && l[n] == ' ')
			return strtod(l + n + 1, NULL);
	return -1;
}

static void check_value(const char *name, const char *text, const char *series, double want)
{
	double got = value(text, series);

	if (got < 0)
		ck(0, name, "no line \"%s <value>\" in the exposition", series);
	else
		ck(got == want, name, "%s: expected %.9g, got %.9g", series, want, got);
}

/* lines starting with prefix */
static int count_lines(const char *text, const char *prefix)
{
	int n = 0;
	size_t len = strlen(prefix);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		n += !strncmp(l, prefix, len);
	return n;
}

/* every line is a comment or a connecttop_ sample "name{...} value" / "name value" */
static int well_formed(const char *text, char *why, size_t whylen)
{
	const char *l = text;
	int ln = 1;

	if (!*text || text[strlen(text) - 1] != '\n') {
		snprintf(why, whylen, "does not end with a newline");
		return 0;
	}
	for (; *l; ln++) {
		const char *e = strchr(l, '\n'), *sp;
		int q = 0;

		if (!strncmp(l, "# HELP connecttop_", 18) || !strncmp(l, "# TYPE connecttop_", 18)) {
			l = e + 1;
			continue;
		}
		if (strncmp(l, "connecttop_", 11)) {
			snprintf(why, whylen, "line %d starts with neither # nor connecttop_", ln);
			return 0;
		}
		/* the value follows the last space outside the labels */
		sp = NULL;
		for (const char *c = l; c < e; c++) {
			if (*c == '\\' && q) {
				c++;
				continue;
			}
			if (*c == '"')
				q = !q;
			else if (*c == ' ' && !q)
				sp = c;
		}
		if (q || !sp) {
			snprintf(why, whylen, "line %d: unbalanced quotes or no value", ln);
			return 0;
		}
		{
			char *end;

			strtod(sp + 1, &end);
			if (end != e) {
				snprintf(why, whylen, "line %d: the value is not a number", ln);
				return 0;
			}
		}
		l = e + 1;
	}
	return 1;
}

static void check_well_formed(const char *name, const char *text)
{
	char why[128] = "";

	ck(well_formed(text, why, sizeof(why)), name, "%s", why);
}

static void test_basic(void)
{
	struct ct_flows *t = flows_new(100);
	struct prom *p = prom_new(t, 100);
	struct flow_key k = key("curl", "10.0.0.1", 443, P_TCP), k6 = key("curl", "fd00::1", 80, P_TCP);
	struct ct_sample s;
	char *out;
	static const char *const families[][2] = {
		{ "connecttop_connects_total", "counter" },
		{ "connecttop_connect_latency_seconds", "histogram" },
		{ "connecttop_connects_pending", "gauge" },
		{ "connecttop_events_total", "counter" },
		{ "connecttop_drops_total", "counter" },
		{ "connecttop_evicted_flows_total", "counter" },
		{ "connecttop_flows", "gauge" },
		{ "connecttop_series", "gauge" },
		{ "connecttop_folded_flows_total", "counter" },
		{ "connecttop_last_interval_seconds", "gauge" },
	};

	/* an empty table still says what it exports */
	out = expose(p, t, "prom.empty");
	for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
		ck_contains(nm("prom.empty.help.%s", families[i][0]), out, nm("# HELP %s ", families[i][0]));
		ck_contains(nm("prom.empty.type.%s", families[i][0]), out,
			    nm("# TYPE %s %s\n", families[i][0], families[i][1]));
	}
	CHECK_I("prom.empty.no_connects", 0, count_lines(out, "connecttop_connects_total{"));
	check_value("prom.empty.pending", out, "connecttop_connects_pending", 0);
	check_well_formed("prom.empty.well_formed", out);
	free(out);

	add_lat(t, k, T0 + 1, 10, 0, 1000000);	 /* 1 ms: bucket [512, 1024) us */
	add_lat(t, k, T0 + 2, 10, 0, 100000000); /* 100 ms: bucket [65536, 131072) us */
	add_n(t, k, 1, T0 + 3, 10, 0);
	add_n(t, k, 1, T0 + 4, 10, -ECONNREFUSED);
	add_n(t, k, 1, T0 + 5, 10, -ETIMEDOUT);
	add_n(t, k, 2, T0 + 6, 10, -EHOSTUNREACH);
	add_n(t, k, 1, T0 + 7, 10, -EACCES);
	s = sample(k, T0 + 8, 10, -EINPROGRESS);
	s.pending = 1;
	flows_add(t, &s);
	add_n(t, k6, 1, T0 + 9, 11, 0);
	out = expose(p, t, "prom.basic");
	check_value("prom.counter.ok", out,
		    "connecttop_connects_total{comm=\"curl\",daddr=\"10.0.0.1\",dport=\"443\",proto=\"tcp\",result=\"ok\"}",
		    3);
	check_value("prom.counter.refused", out,
		    "connecttop_connects_total{comm=\"curl\",daddr=\"10.0.0.1\",dport=\"443\",proto=\"tcp\","
		    "result=\"refused\"}",
		    1);
	check_value("prom.counter.timeout", out,
		    "connecttop_connects_total{comm=\"curl\",daddr=\"10.0.0.1\",dport=\"443\",proto=\"tcp\","
		    "result=\"timeout\"}",
		    1);
	check_value("prom.counter.unreachable", out,
		    "connecttop_connects_total{comm=\"curl\",daddr=\"10.0.0.1\",dport=\"443\",proto=\"tcp\","
		    "result=\"unreachable\"}",
		    2);
	check_value("prom.counter.other", out,
		    "connecttop_connects_total{comm=\"curl\",daddr=\"10.0.0.1\",dport=\"443\",proto=\"tcp\","
		    "result=\"other\"}",
		    1);
	check_value("prom.counter.v6", out,
		    "connecttop_connects_total{comm=\"curl\",daddr=\"fd00::1\",dport=\"80\",proto=\"tcp\",result=\"ok\"}",
		    1);
	ck_lacks("prom.counter.no_pending_result", out, "result=\"pending\"");
	ck_lacks("prom.counter.no_zero_series", out,
		 "daddr=\"fd00::1\",dport=\"80\",proto=\"tcp\",result=\"refused\"");
	CHECK_I("prom.counter.lines", 6, count_lines(out, "connecttop_connects_total{"));
	check_value("prom.pending", out, "connecttop_connects_pending", 1);
	check_value("prom.events", out, "connecttop_events_total", 42);
	check_value("prom.drops", out, "connecttop_drops_total", 3);
	check_value("prom.flows", out, "connecttop_flows", 2);
	check_value("prom.series", out, "connecttop_series", 2);
	check_value("prom.folded_none", out, "connecttop_folded_flows_total", 0);
	check_value("prom.last_interval", out, "connecttop_last_interval_seconds", 1.0);

	/* the histogram: cumulative, bounds 2^k us */
#define HL "{comm=\"curl\",daddr=\"10.0.0.1\",dport=\"443\""
	check_value("prom.hist.le_64us", out, "connecttop_connect_latency_seconds_bucket" HL ",le=\"6.4e-05\"}", 0);
	check_value("prom.hist.le_1024us", out, "connecttop_connect_latency_seconds_bucket" HL ",le=\"0.001024\"}", 1);
	check_value("prom.hist.le_65536us", out, "connecttop_connect_latency_seconds_bucket" HL ",le=\"0.065536\"}", 1);
	check_value("prom.hist.le_262144us", out, "connecttop_connect_latency_seconds_bucket" HL ",le=\"0.262144\"}", 2);
	check_value("prom.hist.le_inf", out, "connecttop_connect_latency_seconds_bucket" HL ",le=\"+Inf\"}", 2);
	check_value("prom.hist.sum", out, "connecttop_connect_latency_seconds_sum" HL "}", 0.101);
	check_value("prom.hist.count", out, "connecttop_connect_latency_seconds_count" HL "}", 2);
	CHECK_I("prom.hist.buckets", 11, count_lines(out, "connecttop_connect_latency_seconds_bucket" HL));
	ck_lacks("prom.hist.none_without_latency", out, "connecttop_connect_latency_seconds_count{comm=\"curl\",daddr=\"fd00::1\"");
#undef HL
	check_well_formed("prom.basic.well_formed", out);

	/* each family's TYPE comes before its first sample */
	for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
		const char *type = strstr(out, nm("# TYPE %s ", families[i][0]));
		const char *first = strstr(out, nm("\n%s", families[i][0]));

		while (first && first[1 + strlen(families[i][0])] != '{' && first[1 + strlen(families[i][0])] != ' ' &&
		       first[1 + strlen(families[i][0])] != '_')
			first = strstr(first + 1, nm("\n%s", families[i][0]));
		ck(type && first && type < first, nm("prom.type_before_samples.%s", families[i][0]), "TYPE at %ld, first sample at %ld",
		   type ? (long)(type - out) : -1L, first ? (long)(first - out) : -1L);
	}
	free(out);
	prom_free(p);
	flows_free(t);
}

static void test_escaping(void)
{
	struct ct_flows *t = flows_new(100);
	struct prom *p = prom_new(t, 100);
	/* a, ", b, \, c, newline, d */
	struct flow_key k = key_raw("a\"b\\c\nd", 7, "10.0.0.1", 80, P_TCP),
			h = key_raw("\x1b[31m\xff\xe2\x80\xae", 9, "10.0.0.2", 80, P_TCP);
	char *out;

	add_n(t, k, 2, T0 + 1, 1, 0);
	add_lat(t, k, T0 + 2, 1, 0, 1000000);
	add_n(t, h, 1, T0 + 3, 2, 0);
	out = expose(p, t, "prom.escape");
	check_value("prom.escape.counter", out,
		    "connecttop_connects_total{comm=\"a\\\"b\\\\c\\\\x0ad\",daddr=\"10.0.0.1\",dport=\"80\",proto=\"tcp\","
		    "result=\"ok\"}",
		    3);
	ck_contains("prom.escape.histogram", out,
		    "connecttop_connect_latency_seconds_count{comm=\"a\\\"b\\\\c\\\\x0ad\",daddr=\"10.0.0.1\",dport=\"80\"} 1\n");
	ck_contains("prom.escape.hostile", out, "{comm=\"\\\\x1b[31m\\\\xff\\\\u202e\",daddr=\"10.0.0.2\"");
	ck_lacks("prom.escape.no_raw_rlo", out, "\xe2\x80\xae");
	CHECK("prom.escape.valid_utf8", ck_utf8_valid((const unsigned char *)out, strlen(out)));
	ck(ck_first_control(out, strlen(out)) < 0, "prom.escape.no_controls", "control byte at %ld",
	   ck_first_control(out, strlen(out)));
	ck_lacks("prom.escape.no_raw_newline", out, "c\nd");
	check_well_formed("prom.escape.well_formed", out);
	free(out);
	prom_free(p);
	flows_free(t);
}

static void test_cap(void)
{
	struct ct_flows *t = flows_new(100);
	struct prom *p = prom_new(t, 2);
	static const struct {
		const char *comm, *addr;
		int n;
	} F[] = {
		{ "curl", "10.0.0.1", 10 }, { "curl", "10.0.0.2", 8 }, { "curl", "10.0.0.3", 6 },
		{ "wget", "10.0.0.4", 4 },  { "wget", "10.0.0.5", 2 },
	};
	char *out;

	/* the quietest flows first: the busiest must still get the series */
	for (int i = 4; i >= 0; i--)
		add_n(t, key(F[i].comm, F[i].addr, 80, P_TCP), F[i].n, T0 + 10 - i, 1, 0);
	out = expose(p, t, "prom.cap");
#define C(comm, addr, port) "connecttop_connects_total{comm=\"" comm "\",daddr=\"" addr "\",dport=\"" port "\",proto=\"tcp\",result=\"ok\"}"
	check_value("prom.cap.own_1", out, C("curl", "10.0.0.1", "80"), 10);
	check_value("prom.cap.own_2", out, C("curl", "10.0.0.2", "80"), 8);
	check_value("prom.cap.folded_curl", out, C("curl", "other", "other"), 6);
	check_value("prom.cap.folded_wget", out, C("wget", "other", "other"), 6);
	ck_lacks("prom.cap.no_own_3", out, "daddr=\"10.0.0.3\"");
	ck_lacks("prom.cap.no_own_4", out, "daddr=\"10.0.0.4\"");
	ck_lacks("prom.cap.no_own_5", out, "daddr=\"10.0.0.5\"");
	CHECK_I("prom.cap.series_lines", 4, count_lines(out, "connecttop_connects_total{"));
	CHECK_I("prom.cap.own_lines", 2, count_lines(out, "connecttop_connects_total{comm=\"curl\",daddr=\"10.0.0."));
	check_value("prom.cap.series", out, "connecttop_series", 2);
	check_value("prom.cap.folded_flows", out, "connecttop_folded_flows_total", 3);
	check_well_formed("prom.cap.well_formed", out);
	free(out);

	/* later: a new, busier flow is folded too (the cap is for good), the
	 * series keep counting, the fold counts once per flow */
	add_n(t, key("curl", "10.0.0.6", 80, P_TCP), 100, T0 + 20, 1, 0);
	add_n(t, key("curl", "10.0.0.1", 80, P_TCP), 1, T0 + 21, 1, 0);
	add_n(t, key("wget", "10.0.0.5", 80, P_TCP), 1, T0 + 22, 1, 0);
	out = expose(p, t, "prom.cap2");
	check_value("prom.cap2.own_1", out, C("curl", "10.0.0.1", "80"), 11);
	check_value("prom.cap2.own_2", out, C("curl", "10.0.0.2", "80"), 8);
	check_value("prom.cap2.folded_curl", out, C("curl", "other", "other"), 106);
	check_value("prom.cap2.folded_wget", out, C("wget", "other", "other"), 7);
	ck_lacks("prom.cap2.no_own_6", out, "daddr=\"10.0.0.6\"");
	CHECK_I("prom.cap2.series_lines", 4, count_lines(out, "connecttop_connects_total{"));
	check_value("prom.cap2.series", out, "connecttop_series", 2);
	check_value("prom.cap2.folded_flows", out, "connecttop_folded_flows_total", 4);
	free(out);
#undef C
	prom_free(p);
	flows_free(t);
}

/* ---- monotonic counters across eviction ---- */

struct sample_line {
	char series[256];
	double v;
};

/* the counter-like samples (_total, _bucket, _sum, _count) of an exposition */
static size_t counters(const char *text, struct sample_line *out, size_t max)
{
	size_t n = 0;

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *e = strchr(l, '\n'), *sp, *name_end;

		if (*l == '#' || !e)
			continue;
		sp = e;
		while (sp > l && *sp != ' ')
			sp--;
		name_end = l + strcspn(l, "{ ");
		if (!((name_end - l > 6 && !strncmp(name_end - 6, "_total", 6)) ||
		      (name_end - l > 7 && !strncmp(name_end - 7, "_bucket", 7)) ||
		      (name_end - l > 4 && !strncmp(name_end - 4, "_sum", 4)) ||
		      (name_end - l > 6 && !strncmp(name_end - 6, "_count", 6))))
			continue;
		if (n < max && (size_t)(sp - l) < sizeof(out[n].series)) {
			memcpy(out[n].series, l, sp - l);
			out[n].series[sp - l] = 0;
			out[n].v = strtod(sp + 1, NULL);
			n++;
		}
	}
	return n;
}

static double sum_connects(const struct sample_line *s, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		if (!strncmp(s[i].series, "connecttop_connects_total{", 26))
			sum += s[i].v;
	return sum;
}

/* no series of a is missing or lower in b */
static void check_monotonic(const char *name, const struct sample_line *a, size_t na, const struct sample_line *b,
			    size_t nb)
{
	for (size_t i = 0; i < na; i++) {
		size_t j = 0;

		while (j < nb && strcmp(a[i].series, b[j].series))
			j++;
		if (j == nb) {
			char *e = ck_esc(a[i].series, strlen(a[i].series));

			ck(0, name, "series %s disappeared", e);
			free(e);
			return;
		}
		if (b[j].v < a[i].v) {
			char *e = ck_esc(a[i].series, strlen(a[i].series));

			ck(0, name, "series %s went down from %.9g to %.9g", e, a[i].v, b[j].v);
			free(e);
			return;
		}
	}
	ck(1, name, " ");
}

#define MAXL 256

static void test_monotonic(void)
{
	struct ct_flows *t = flows_new(2);
	struct prom *p = prom_new(t, 10);
	struct flow_key A = key("curl", "10.0.0.1", 80, P_TCP), B = key("curl", "10.0.0.2", 80, P_TCP),
			C = key("wget", "10.0.0.3", 80, P_TCP), D = key("wget", "10.0.0.4", 80, P_TCP),
			E = key("nc", "10.0.0.5", 9, P_TCP);
	static struct sample_line w1[MAXL], w2[MAXL], w3[MAXL], w4[MAXL];
	size_t n1, n2, n3, n4;
	struct ct_sample s;
	char *out;
	int fed = 0;

	add_n(t, A, 5, T0 + 1, 1, 0);
	add_lat(t, A, T0 + 2, 1, 0, 2000000);
	add_n(t, B, 3, T0 + 3, 2, -ECONNREFUSED);
	fed += 9;
	out = expose(p, t, "prom.mono.1");
	n1 = counters(out, w1, MAXL);
	CHECK_D("prom.mono.1.sum", 9, sum_connects(w1, n1), 0);
	free(out);

	/* C evicts A, D evicts B, A comes back and evicts C (which was never
	 * written), a pending connect of D is evicted before its outcome */
	add_n(t, C, 2, T0 + 4, 3, 0);
	add_n(t, D, 1, T0 + 5, 4, -ETIMEDOUT);
	add_n(t, A, 1, T0 + 6, 1, 0);
	add_lat(t, A, T0 + 7, 1, 0, 3000000);
	fed += 5;
	s = sample(D, T0 + 8, 4, -EINPROGRESS);
	s.pending = 1;
	flows_add(t, &s);
	CHECK_U("prom.mono.evicted", 3, flows_evicted(t));
	out = expose(p, t, "prom.mono.2");
	n2 = counters(out, w2, MAXL);
	check_monotonic("prom.mono.2.never_down", w1, n1, w2, n2);
	CHECK_D("prom.mono.2.sum", fed, sum_connects(w2, n2), 0);
	check_value("prom.mono.2.a_ok", out,
		    "connecttop_connects_total{comm=\"curl\",daddr=\"10.0.0.1\",dport=\"80\",proto=\"tcp\",result=\"ok\"}",
		    8);
	check_value("prom.mono.2.a_latency_count", out,
		    "connecttop_connect_latency_seconds_count{comm=\"curl\",daddr=\"10.0.0.1\",dport=\"80\"}", 2);
	check_value("prom.mono.2.b_refused", out,
		    "connecttop_connects_total{comm=\"curl\",daddr=\"10.0.0.2\",dport=\"80\",proto=\"tcp\","
		    "result=\"refused\"}",
		    3);
	check_value("prom.mono.2.pending", out, "connecttop_connects_pending", 1);
	check_well_formed("prom.mono.2.well_formed", out);
	free(out);

	/* the pending connect's flow is evicted; its outcome comes later */
	add_n(t, E, 4, T0 + 9, 5, 0);
	add_n(t, B, 1, T0 + 10, 2, 0);
	fed += 5;
	s = sample(D, T0 + 11, 4, 0);
	s.outcome = 1;
	flows_add(t, &s);
	fed += 1; /* the pending connect, finished */
	out = expose(p, t, "prom.mono.3");
	n3 = counters(out, w3, MAXL);
	check_monotonic("prom.mono.3.never_down", w2, n2, w3, n3);
	check_monotonic("prom.mono.3.never_down_since_1", w1, n1, w3, n3);
	CHECK_D("prom.mono.3.sum", fed, sum_connects(w3, n3), 0);
	free(out);

	/* clear: every count moves to the base, nothing goes down */
	flows_clear(t);
	out = expose(p, t, "prom.mono.4");
	n4 = counters(out, w4, MAXL);
	check_monotonic("prom.mono.4.clear_never_down", w3, n3, w4, n4);
	CHECK_D("prom.mono.4.sum", fed, sum_connects(w4, n4), 0);
	check_value("prom.mono.4.pending", out, "connecttop_connects_pending", 0);
	free(out);
	prom_free(p);
	flows_free(t);

	/* many evictions with folding: a churning table of 4, 30 distinct flows,
	 * a cap of 5 series, a write after every 7 connects */
	{
		static struct sample_line prev[MAXL], cur[MAXL];
		size_t np = 0, nc;
		int total = 0, ok = 1;

		t = flows_new(4);
		p = prom_new(t, 5);
		for (int i = 0; i < 300; i++) {
			uint32_t x = (uint32_t)i * 2654435761u;
			char comm[8];
			struct flow_key k;

			snprintf(comm, sizeof(comm), "p%u", (x >> 8) % 3);
			k = key(comm, "10.0.0.1", 1000 + (x >> 12) % 10, P_TCP);
			add_n(t, k, 1, T0 + i, 1, (x >> 20) % 4 ? 0 : -ECONNREFUSED);
			total++;
			if (i % 7 == 6 || i == 299) {
				out = expose(p, t, nm("prom.churn.write_%d", i));
				nc = counters(out, cur, MAXL);
				if (np) {
					for (size_t a = 0; ok && a < np; a++) {
						size_t b = 0;

						while (b < nc && strcmp(prev[a].series, cur[b].series))
							b++;
						ok = b < nc && cur[b].v >= prev[a].v;
					}
				}
				ok &= sum_connects(cur, nc) == total;
				memcpy(prev, cur, sizeof(cur));
				np = nc;
				free(out);
			}
		}
		ck(ok, "prom.churn.monotonic_and_complete", "a counter went down or the sum differs from %d", total);
		CHECK("prom.churn.evicted", flows_evicted(t) > 0);
		prom_free(p);
		flows_free(t);
	}
}

/* flows that come and go between two writes: their own series while the
 * cap allows, then folded (and counted as folded) */
static void test_evicted_before_write(void)
{
	struct ct_flows *t = flows_new(1);
	struct prom *p = prom_new(t, 2);
	char *out;

#define C(addr, port) "connecttop_connects_total{comm=\"curl\",daddr=\"" addr "\",dport=\"" port "\",proto=\"tcp\",result=\"ok\"}"
	add_n(t, key("curl", "10.0.0.1", 80, P_TCP), 3, T0 + 1, 1, 0);
	add_n(t, key("curl", "10.0.0.2", 80, P_TCP), 2, T0 + 2, 1, 0); /* evicts .1 */
	add_n(t, key("curl", "10.0.0.3", 80, P_TCP), 1, T0 + 3, 1, 0); /* evicts .2 */
	add_n(t, key("curl", "10.0.0.4", 80, P_TCP), 4, T0 + 4, 1, 0); /* evicts .3 */
	CHECK_U("prom.gone.evicted", 3, flows_evicted(t));
	out = expose(p, t, "prom.gone");
	check_value("prom.gone.own_1", out, C("10.0.0.1", "80"), 3);
	check_value("prom.gone.own_2", out, C("10.0.0.2", "80"), 2);
	check_value("prom.gone.folded", out, C("other", "other"), 5);
	ck_lacks("prom.gone.no_own_3", out, "daddr=\"10.0.0.3\"");
	ck_lacks("prom.gone.no_own_4", out, "daddr=\"10.0.0.4\"");
	check_value("prom.gone.series", out, "connecttop_series", 2);
	check_value("prom.gone.folded_flows", out, "connecttop_folded_flows_total", 2);
	free(out);
#undef C
	prom_free(p);
	flows_free(t);
}

static void test_file(void)
{
	char dir[] = "/tmp/ct-test-prom.XXXXXX", path[64];
	struct ct_flows *t = flows_new(10);
	struct prom *p = prom_new(t, 10);
	struct ct_stats st = stats(t);
	FILE *f;
	char buf[64] = "";
	int entries = 0;
	DIR *d;
	struct dirent *de;

	if (!mkdtemp(dir)) {
		ck(0, "prom.file.mkdtemp", "%s", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/connecttop.prom", dir);
	add_n(t, key("curl", "10.0.0.1", 80, P_TCP), 1, T0, 1, 0);
	CHECK_I("prom.file.rc", 0, prom_write_file(p, path, t, &st));
	f = fopen(path, "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	CHECK("prom.file.content", !strncmp(buf, "# HELP connecttop_connects_total ", 33));
	d = opendir(dir);
	while (d && (de = readdir(d)))
		entries += de->d_name[0] != '.';
	if (d)
		closedir(d);
	CHECK_I("prom.file.only_the_file", 1, entries);
	{
		/* a hidden temporary file would start with '.' */
		int hidden = 0;

		d = opendir(dir);
		while (d && (de = readdir(d)))
			hidden += de->d_name[0] == '.' && strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
		if (d)
			closedir(d);
		CHECK_I("prom.file.no_temp_left", 0, hidden);
	}
	CHECK_I("prom.file.no_dir", -ENOENT, prom_write_file(p, "/nonexistent-dir-ct/x.prom", t, &st));
	unlink(path);
	rmdir(dir);

	f = fopen("/dev/full", "w");
	if (f) {
		CHECK_I("prom.write_enospc", -ENOSPC, prom_write(p, f, t, &st));
		fclose(f);
	} else {
		ck(0, "prom.write_enospc", "cannot open /dev/full");
	}
	prom_free(p);
	/* the table outlives the exporter: no callback into freed memory */
	flows_clear(t);
	CHECK_U("prom.free_unregisters", 0, flows_count(t));
	flows_free(t);
}

int main(void)
{
	test_basic();
	test_escaping();
	test_cap();
	test_monotonic();
	test_evicted_before_write();
	test_file();
	return ck_done();
}
