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

		if (!strncmp(l, "# HELP connecttop_", 18) ||
		    !strncmp(l, "# TYPE connecttop_", 18)) {
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
	struct flow_key k = key("curl", "10.0.0.1", 443, P_TCP),
			k6 = key("curl", "fd00::1", 80, P_TCP);
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
		ck_contains(nm("prom.empty.help.%s", families[i][0]), out,
			    nm("# HELP %s ", families[i][0]));
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
	check_value(
		"prom.counter.ok", out,
		"connecttop_connects_total{comm=\"curl\",daddr=\"10.0.0.1\",dport=\"443\",proto=\"tcp\",result=\"ok\"}",
		3);
	check_value(
		"prom.counter.refused", out,
		"connecttop_connects_total{comm=\"curl\",daddr=\"10.0.0.1\",dport=\"443\",proto=\"tcp\","
		"result=\"refused\"}",
		1);
	check_value(
		"prom.counter.timeout", out,
		"connecttop_connects_total{comm=\"curl\",daddr=\"10.0.0.1\",dport=\"443\",proto=\"tcp\","
		"result=\"timeout\"}",
		1);
	check_value(
		"prom.counter.unreachable", out,
		"connecttop_connects_total{comm=\"curl\",daddr=\"10.0.0.1\",dport=\"443\",proto=\"tcp\","
		"result=\"unreachable\"}",
		2);
	check_value(
		"prom.counter.other", out,
		"connecttop_connects_total{comm=\"curl\",daddr=\"10.0.0.1\",dport=\"443\",proto=\"tcp\","
		"result=\"other\"}",
		1);
	check_value(
		"prom.counter.v6", out,
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
	check_value("prom.hist.le_64us", out,
		    "connecttop_connect_latency_seconds_bucket" HL ",le=\"0.000064\"}", 0);
	/* bounds written exactly, not rounded by %g (1.04858) */
	check_value("prom.hist.le_exact_1s", out,
		    "connecttop_connect_latency_seconds_bucket" HL ",le=\"1.048576\"}", 2);
	check_value("prom.hist.le_exact_16s", out,
		    "connecttop_connect_latency_seconds_bucket" HL ",le=\"16.777216\"}", 2);
	check_value("prom.hist.le_1024us", out,
		    "connecttop_connect_latency_seconds_bucket" HL ",le=\"0.001024\"}", 1);
	check_value("prom.hist.le_65536us", out,
		    "connecttop_connect_latency_seconds_bucket" HL ",le=\"0.065536\"}", 1);
	check_value("prom.hist.le_262144us", out,
		    "connecttop_connect_latency_seconds_bucket" HL ",le=\"0.262144\"}", 2);
	check_value("prom.hist.le_inf", out,
		    "connecttop_connect_latency_seconds_bucket" HL ",le=\"+Inf\"}", 2);
	check_value("prom.hist.sum", out, "connecttop_connect_latency_seconds_sum" HL "}", 0.101);
	check_value("prom.hist.count", out, "connecttop_connect_latency_seconds_count" HL "}", 2);
	CHECK_I("prom.hist.buckets", 11,
		count_lines(out, "connecttop_connect_latency_seconds_bucket" HL));
	ck_lacks("prom.hist.none_without_latency", out,
		 "connecttop_connect_latency_seconds_count{comm=\"curl\",daddr=\"fd00::1\"");
#undef HL
	check_well_formed("prom.basic.well_formed", out);

	/* each family's TYPE comes before its first sample */
	for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
		const char *type = strstr(out, nm("# TYPE %s ", families[i][0]));
		const char *first = strstr(out, nm("\n%s", families[i][0]));

		while (first && first[1 + strlen(families[i][0])] != '{' &&
		       first[1 + strlen(families[i][0])] != ' ' &&
		       first[1 + strlen(families[i][0])] != '_')
			first = strstr(first + 1, nm("\n%s", families[i][0]));
		ck(type && first && type < first, nm("prom.type_before_samples.%s", families[i][0]),
		   "TYPE at %ld, first sample at %ld", type ? (long)(type - out) : -1L,
		   first ? (long)(first - out) : -1L);
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
	check_value(
		"prom.escape.counter", out,
		"connecttop_connects_total{comm=\"a\\\"b\\\\c\\\\x0ad\",daddr=\"10.0.0.1\",dport=\"80\",proto=\"tcp\","
		"result=\"ok\"}",
		3);
	ck_contains(
		"prom.escape.histogram", out,
		"connecttop_connect_latency_seconds_count{comm=\"a\\\"b\\\\c\\\\x0ad\",daddr=\"10.0.0.1\",dport=\"80\"} 1\n");
	ck_contains("prom.escape.hostile", out,
		    "{comm=\"\\\\x1b[31m\\\\xff\\\\u202e\",daddr=\"10.0.0.2\"");
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
#define C(comm, addr, port)                                                            \
	"connecttop_connects_total{comm=\"" comm "\",daddr=\"" addr "\",dport=\"" port \
	"\",proto=\"tcp\",result=\"ok\"}"
	check_value("prom.cap.own_1", out, C("curl", "10.0.0.1", "80"), 10);
	check_value("prom.cap.own_2", out, C("curl", "10.0.0.2", "80"), 8);
	check_value("prom.cap.folded_curl", out, C("curl", "other", "other"), 6);
	check_value("prom.cap.folded_wget", out, C("wget", "other", "other"), 6);
	ck_lacks("prom.cap.no_own_3", out, "daddr=\"10.0.0.3\"");
	ck_lacks("prom.cap.no_own_4", out, "daddr=\"10.0.0.4\"");
	ck_lacks("prom.cap.no_own_5", out, "daddr=\"10.0.0.5\"");
	CHECK_I("prom.cap.series_lines", 4, count_lines(out, "connecttop_connects_total{"));
	CHECK_I("prom.cap.own_lines", 2,
		count_lines(out, "connecttop_connects_total{comm=\"curl\",daddr=\"10.0.0."));
	check_value("prom.cap.series", out, "connecttop_series", 2);
	check_value("prom.cap.folded_flows", out, "connecttop_folded_flows_total", 3);
	check_well_formed("prom.cap.well_formed", out);
	free(out);

	/* later: a new flow far busier than the least busy own series (.2)
	 * takes its slot; .2's total moves to curl's "other" (sums never go
	 * down), the other own series keeps counting */
	add_n(t, key("curl", "10.0.0.6", 80, P_TCP), 100, T0 + 20, 1, 0);
	add_n(t, key("curl", "10.0.0.1", 80, P_TCP), 1, T0 + 21, 1, 0);
	add_n(t, key("wget", "10.0.0.5", 80, P_TCP), 1, T0 + 22, 1, 0);
	out = expose(p, t, "prom.cap2");
	check_value("prom.cap2.own_1", out, C("curl", "10.0.0.1", "80"), 11);
	check_value("prom.cap2.busiest_gets_own", out, C("curl", "10.0.0.6", "80"), 100);
	ck_lacks("prom.cap2.least_busy_demoted", out, "daddr=\"10.0.0.2\"");
	check_value("prom.cap2.folded_curl", out, C("curl", "other", "other"), 14);
	check_value("prom.cap2.folded_wget", out, C("wget", "other", "other"), 7);
	CHECK_I("prom.cap2.series_lines", 4, count_lines(out, "connecttop_connects_total{"));
	check_value("prom.cap2.series", out, "connecttop_series", 2);
	check_value("prom.cap2.folded_flows", out, "connecttop_folded_flows_total", 3);
	check_value("prom.cap2.demoted", out, "connecttop_demoted_series_total", 1);
	free(out);

	/* the demoted key gets busier than anything: it stays folded (its own
	 * series would come back lower than it was written: 8 + 300 < 8) */
	add_n(t, key("curl", "10.0.0.2", 80, P_TCP), 300, T0 + 30, 1, 0);
	out = expose(p, t, "prom.cap3");
	ck_lacks("prom.cap3.demoted_stays_folded", out, "daddr=\"10.0.0.2\"");
	check_value("prom.cap3.folded_curl", out, C("curl", "other", "other"), 314);
	check_value("prom.cap3.series", out, "connecttop_series", 2);
	free(out);
	/* ... also after it leaves the table and comes back */
	flows_clear(t);
	add_n(t, key("curl", "10.0.0.2", 80, P_TCP), 500, T0 + 40, 1, 0);
	out = expose(p, t, "prom.cap4");
	ck_lacks("prom.cap4.demoted_stays_folded_after_eviction", out, "daddr=\"10.0.0.2\"");
	check_value("prom.cap4.folded_curl", out, C("curl", "other", "other"), 814);
	check_value("prom.cap4.own_1_kept", out, C("curl", "10.0.0.1", "80"), 11);
	check_value("prom.cap4.own_6_kept", out, C("curl", "10.0.0.6", "80"), 100);
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
static void check_monotonic(const char *name, const struct sample_line *a, size_t na,
			    const struct sample_line *b, size_t nb)
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

/* the comm label's value (as written, escapes kept) of a series, in buf */
static const char *comm_of(const char *series, char *buf, size_t len)
{
	const char *c = strstr(series, "{comm=\"");
	size_t n = 0;

	buf[0] = 0;
	if (!c)
		return buf;
	for (c += 7; *c && *c != '"' && n + 2 < len; c++) {
		if (*c == '\\' && c[1])
			buf[n++] = *c++;
		buf[n++] = *c;
	}
	buf[n] = 0;
	return buf;
}

/* connecttop_connects_total of comm (as written) summed over its series */
static double comm_total(const struct sample_line *s, size_t n, const char *comm)
{
	char buf[256];
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		if (!strncmp(s[i].series, "connecttop_connects_total{", 26) &&
		    !strcmp(comm_of(s[i].series, buf, sizeof(buf)), comm))
			sum += s[i].v;
	return sum;
}

/* From a to b, with series of their own demoted into their process's
 * "other": no series present in both goes down; a series that disappears
 * is one of its own (daddr is not "other"), and no process's total (own and
 * "other" series summed) goes down. 1 if so, else 0 and why. */
static int monotonic_folding(const struct sample_line *a, size_t na, const struct sample_line *b,
			     size_t nb, char *why, size_t whylen)
{
	char ca[256];

	for (size_t i = 0; i < na; i++) {
		size_t j = 0;

		while (j < nb && strcmp(a[i].series, b[j].series))
			j++;
		if (j < nb && b[j].v < a[i].v) {
			snprintf(why, whylen, "%.200s went down from %.9g to %.9g", a[i].series,
				 a[i].v, b[j].v);
			return 0;
		}
		if (j == nb && strstr(a[i].series, "daddr=\"other\"")) {
			snprintf(why, whylen, "%.200s disappeared", a[i].series);
			return 0;
		}
		comm_of(a[i].series, ca, sizeof(ca));
		if (comm_total(b, nb, ca) < comm_total(a, na, ca)) {
			snprintf(why, whylen, "comm \"%.64s\" went down from %.9g to %.9g", ca,
				 comm_total(a, na, ca), comm_total(b, nb, ca));
			return 0;
		}
	}
	return 1;
}

/* no two samples with the same name and label set */
static void check_unique(const char *name, const char *text)
{
	static struct sample_line l[4096];
	size_t n = 0;

	for (const char *c = text; c && *c; c = strchr(c, '\n') ? strchr(c, '\n') + 1 : NULL) {
		const char *e = strchr(c, '\n'), *sp = e;

		if (*c == '#' || !e)
			continue;
		while (sp > c && *sp != ' ')
			sp--;
		if (n < ARRAY_SIZE(l) && (size_t)(sp - c) < sizeof(l[n].series)) {
			memcpy(l[n].series, c, sp - c);
			l[n++].series[sp - c] = 0;
		}
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (!strcmp(l[i].series, l[j].series)) {
				char *e = ck_esc(l[i].series, strlen(l[i].series));

				ck(0, name, "duplicate series %s", e);
				free(e);
				return;
			}
	ck(1, name, " ");
}

#define MAXL 256

static void test_monotonic(void)
{
	struct ct_flows *t = flows_new(2);
	struct prom *p = prom_new(t, 10);
	struct flow_key A = key("curl", "10.0.0.1", 80, P_TCP),
			B = key("curl", "10.0.0.2", 80, P_TCP),
			C = key("wget", "10.0.0.3", 80, P_TCP),
			D = key("wget", "10.0.0.4", 80, P_TCP), E = key("nc", "10.0.0.5", 9, P_TCP);
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
	check_value(
		"prom.mono.2.a_ok", out,
		"connecttop_connects_total{comm=\"curl\",daddr=\"10.0.0.1\",dport=\"80\",proto=\"tcp\",result=\"ok\"}",
		8);
	check_value(
		"prom.mono.2.a_latency_count", out,
		"connecttop_connect_latency_seconds_count{comm=\"curl\",daddr=\"10.0.0.1\",dport=\"80\"}",
		2);
	check_value(
		"prom.mono.2.b_refused", out,
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
		char why[512] = "";

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
				if (np && ok &&
				    !monotonic_folding(prev, np, cur, nc, why, sizeof(why)))
					ok = 0;
				if (ok && sum_connects(cur, nc) != total) {
					snprintf(why, sizeof(why), "the sum is %.9g, want %d",
						 sum_connects(cur, nc), total);
					ok = 0;
				}
				memcpy(prev, cur, sizeof(cur));
				np = nc;
				free(out);
			}
		}
		ck(ok, "prom.churn.monotonic_and_complete", "%s", why);
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

#define C(addr, port)                                                              \
	"connecttop_connects_total{comm=\"curl\",daddr=\"" addr "\",dport=\"" port \
	"\",proto=\"tcp\",result=\"ok\"}"
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

/* 5000 processes (any user can name one with prctl) and a cap of 1: one
 * series of its own, one process's "other", comm="other" for the rest */
static void test_cardinality(void)
{
	struct ct_flows *t = flows_new(100);
	struct prom *p = prom_new(t, 1);
	static struct sample_line a[MAXL], b[MAXL];
	size_t na = 0, nb;
	char *out, why[512] = "";
	int total = 0, ok = 1, maxsets = 0;

	for (int i = 0; i < 5000; i++) {
		char comm[16];

		snprintf(comm, sizeof(comm), "evil%d", i);
		add_n(t, key(comm, "10.0.0.1", 80, P_TCP), 1 + i % 3, T0 + i, 1, 0);
		total += 1 + i % 3;
		if (i % 50 == 49) {
			out = expose(p, t, nm("prom.card.write_%d", i));
			nb = counters(out, b, MAXL);
			if (count_lines(out, "connecttop_connects_total{") > maxsets)
				maxsets = count_lines(out, "connecttop_connects_total{");
			if (ok && sum_connects(b, nb) != total) {
				snprintf(why, sizeof(why), "sum %.9g, want %d", sum_connects(b, nb),
					 total);
				ok = 0;
			}
			/* what leaves a process's total is in comm="other" */
			if (ok && na && sum_connects(b, nb) < sum_connects(a, na)) {
				snprintf(why, sizeof(why), "the sum went down");
				ok = 0;
			}
			if (ok && na && comm_total(b, nb, "other") < comm_total(a, na, "other")) {
				snprintf(why, sizeof(why), "comm=\"other\" went down");
				ok = 0;
			}
			memcpy(a, b, sizeof(b));
			na = nb;
			free(out);
		}
	}
	ck(ok, "prom.card.complete_and_monotonic", "%s", why);
	CHECK("prom.card.at_most_3_series", maxsets <= 3);
	out = expose(p, t, "prom.card.last");
	check_value("prom.card.series", out, "connecttop_series", 1);
	check_value("prom.card.other_series", out, "connecttop_other_series", 1);
	CHECK("prom.card.catch_all",
	      value(out, "connecttop_connects_total{comm=\"other\",daddr=\"other\",dport="
			 "\"other\",proto=\"tcp\",result=\"ok\"}") > 0);
	check_well_formed("prom.card.well_formed", out);
	free(out);
	prom_free(p);
	flows_free(t);
}

/* names that differ in bytes but are written alike: one series, never two
 * with the same labels (node_exporter rejects the whole file) */
static void test_collisions(void)
{
	struct ct_flows *t = flows_new(100);
	struct prom *p = prom_new(t, 100);
	/* a newline, and the text \x0a; U+0080 (C2 80) and the lone byte 80 */
	struct flow_key nl = key_raw("a\nb", 3, "10.0.0.1", 80, P_TCP),
			txt = key_raw("a\\x0ab", 6, "10.0.0.1", 80, P_TCP),
			c1 = key_raw("c\xc2\x80", 3, "10.0.0.1", 80, P_TCP),
			raw = key_raw("c\x80", 2, "10.0.0.1", 80, P_TCP);
	struct flow_key other1 = key_raw("x\ny", 3, "10.0.0.9", 80, P_TCP),
			other2 = key_raw("x\\x0ay", 6, "10.0.0.8", 80, P_TCP);
	char *out;

	add_lat(t, nl, T0 + 1, 1, 0, 1000000);
	add_lat(t, txt, T0 + 2, 2, 0, 2000000);
	add_lat(t, txt, T0 + 3, 2, 0, 2000000);
	add_n(t, c1, 2, T0 + 4, 3, 0);
	add_n(t, raw, 3, T0 + 5, 4, 0);
	out = expose(p, t, "prom.collide");
	check_unique("prom.collide.unique", out);
	check_value(
		"prom.collide.merged_newline", out,
		"connecttop_connects_total{comm=\"a\\\\x0ab\",daddr=\"10.0.0.1\",dport=\"80\",proto=\"tcp\",result=\"ok\"}",
		3);
	check_value(
		"prom.collide.merged_hist", out,
		"connecttop_connect_latency_seconds_count{comm=\"a\\\\x0ab\",daddr=\"10.0.0.1\",dport=\"80\"}",
		3);
	check_value(
		"prom.collide.merged_c1", out,
		"connecttop_connects_total{comm=\"c\\\\x80\",daddr=\"10.0.0.1\",dport=\"80\",proto=\"tcp\",result=\"ok\"}",
		5);
	check_well_formed("prom.collide.well_formed", out);
	free(out);
	prom_free(p);
	flows_free(t);

	/* the same in the folded series: a cap of 1 */
	t = flows_new(100);
	p = prom_new(t, 1);
	add_n(t, key("busy", "10.0.0.1", 80, P_TCP), 50, T0 + 1, 1, 0);
	add_n(t, other1, 2, T0 + 2, 2, 0);
	add_lat(t, other1, T0 + 3, 2, 0, 1000000);
	add_n(t, other2, 4, T0 + 4, 3, 0);
	add_lat(t, other2, T0 + 5, 3, 0, 1000000);
	/* and a udp flow: the histogram has no proto label */
	add_n(t, key_raw("x\ny", 3, "10.0.0.7", 53, P_UDP), 1, T0 + 6, 2, 0);
	out = expose(p, t, "prom.collide_folded");
	check_unique("prom.collide_folded.unique", out);
	CHECK_D("prom.collide_folded.sum", 59,
		value(out, "connecttop_connects_total{comm=\"x\\\\x0ay\",daddr=\"other\",dport="
			   "\"other\",proto=\"tcp\",result=\"ok\"}") +
			value(out,
			      "connecttop_connects_total{comm=\"x\\\\x0ay\",daddr=\"other\",dport="
			      "\"other\",proto=\"udp\",result=\"ok\"}") +
			50,
		0);
	check_well_formed("prom.collide_folded.well_formed", out);
	free(out);
	prom_free(p);
	flows_free(t);
}

/* Known samples, at and just below every bound and over many octaves, so
 * that the flows' histograms are coarser than the finest: each le count is
 * exactly the samples below it, as they are written and after more come
 * (the differences), and for a flow that leaves the table. */
static void test_hist_bounds(void)
{
	static const int le[] = { 6, 8, 10, 12, 14, 16, 18, 20, 22, 24 };
	struct ct_flows *t = flows_new(10);
	struct prom *p = prom_new(t, 10);
	struct flow_key k = key("curl", "10.0.0.1", 443, P_TCP);
	struct flow_key k2 = key("curl", "10.0.0.1", 443, P_UDP); /* another flow, same series */
	uint64_t below[ARRAY_SIZE(le)] = { 0 }, n = 0;
	char *out;

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 300; i++) {
			uint64_t ns = 900 + (uint64_t)i * i * i * (round + 1) * 311;

			if (i < 2 * 25) /* 2^k - 1 and 2^k us for k < 25 */
				ns = ((1ULL << (i / 2)) - !(i % 2)) * 1000 + round * 7;
			add_lat(t, i % 5 ? k : k2, T0 + n, 10, 0, ns);
			n++;
			for (size_t j = 0; j < ARRAY_SIZE(le); j++)
				below[j] += ns / 1000 < 1ULL << le[j];
		}
		if (round == 2)
			flows_clear(t); /* the flows leave the table: their counts stay */
		out = expose(p, t, nm("prom.bounds.%d", round));
		for (size_t j = 0; j < ARRAY_SIZE(le); j++)
			check_value(nm("prom.bounds.%d.le_2^%d", round, le[j]), out,
				    nm("connecttop_connect_latency_seconds_bucket{comm=\"curl\","
				       "daddr=\"10.0.0.1\",dport=\"443\",le=\"%s\"}",
				       (const char *[]){ "0.000064", "0.000256", "0.001024",
							 "0.004096", "0.016384", "0.065536",
							 "0.262144", "1.048576", "4.194304",
							 "16.777216" }[j]),
				    (double)below[j]);
		check_value(
			nm("prom.bounds.%d.count", round), out,
			"connecttop_connect_latency_seconds_count{comm=\"curl\",daddr=\"10.0.0.1\","
			"dport=\"443\"}",
			(double)n);
		free(out);
	}
	prom_free(p);
	flows_free(t);
}

/* the table's latency buckets are 32-bit: the exported ones are not */
static void test_lat_wrap(void)
{
	struct ct_flows *t = flows_new(10);
	struct prom *p = prom_new(t, 10);
	struct ct_stats st = stats(t);
	struct ct_snap snap;
	struct ct_row row;
	struct ct_row_more more;
	struct ck_mem m;
	char *out;

	memset(&snap, 0, sizeof(snap));
	memset(&row, 0, sizeof(row));
	memset(&more, 0, sizeof(more));
	row.key = key("curl", "10.0.0.1", 443, P_TCP);
	row.more = &more;
	row.nflows = 1;
	snap.rows = &row;
	snap.n = 1;
	/* 2^32 - 16 samples of 1 ms, then 48 more: the bucket wraps to 32 */
	ct_lat_add(&more.lat, 1000000, 0xfffffff0u);
	row.lat_n = row.count = row.results[RES_OK] = 0xfffffff0u;
	row.lat_sum_ns = row.lat_n * 1000000;
	CHECK_I("prom.wrap.1.rc", 0, prom_write_snap(p, mem_open(&m), &snap, &st));
	free(mem_close(&m));
	more.lat.count[0] += 48;
	row.lat_n += 48;
	row.count += 48;
	row.results[RES_OK] += 48;
	row.lat_sum_ns = row.lat_n * 1000000;
	CHECK_I("prom.wrap.2.rc", 0, prom_write_snap(p, mem_open(&m), &snap, &st));
	out = mem_close(&m);
	check_value(
		"prom.wrap.bucket", out,
		"connecttop_connect_latency_seconds_bucket{comm=\"curl\",daddr=\"10.0.0.1\",dport=\"443\",le=\"0.001024\"}",
		4294967296.0 + 32);
	check_value(
		"prom.wrap.count", out,
		"connecttop_connect_latency_seconds_count{comm=\"curl\",daddr=\"10.0.0.1\",dport=\"443\"}",
		4294967296.0 + 32);
	free(out);
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
			hidden += de->d_name[0] == '.' && strcmp(de->d_name, ".") &&
				  strcmp(de->d_name, "..");
		if (d)
			closedir(d);
		CHECK_I("prom.file.no_temp_left", 0, hidden);
	}
	CHECK_I("prom.file.no_dir", -ENOENT,
		prom_write_file(p, "/nonexistent-dir-ct/x.prom", t, &st));
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
	test_cardinality();
	test_collisions();
	test_lat_wrap();
	test_hist_bounds();
	test_file();
	return ck_done();
}
