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
		"connecttop_connects_total{comm=\"a\\\"b\\\\\\\\c\\\\x0ad\",daddr=\"10.0.0.1\",dport=\"80\",proto=\"tcp\","
		"result=\"ok\"}",
		3);
	ck_contains(
		"prom.escape.histogram", out,
		"connecttop_connect_latency_seconds_count{comm=\"a\\\"b\\\\\\\\c\\\\x0ad\",daddr=\"10.0.0.1\",dport=\"80\"} 1\n");
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

	/* AF_UNIX: the path "@x" is not the abstract "\0x"; a backslash in a
	 * path is escaped once (\\ in the name, \\\\ in the label); U+200B */
	t = flows_new(100);
	p = prom_new(t, 100);
	{
		static const struct {
			const char *path;
			size_t len;
			int n;
		} D[] = { { "@x", 2, 1 }, { "\0x", 2, 2 }, { "/tmp/a\\b", 8, 3 } };

		for (size_t i = 0; i < ARRAY_SIZE(D); i++) {
			struct flow_key u = key("\xe2\x80\x8bzw", "0.0.0.0", 0, CT_PROTO_UNIX | 1);

			u.family = CT_FAMILY_UNIX;
			ct_unix_key_set(u.daddr, ct_unix_path_id(D[i].path, D[i].len));
			add_n(t, u, D[i].n, T0 + 1 + i, 1, 0);
		}
	}
	out = expose(p, t, "prom.escape_unix");
	check_value("prom.escape.unix_at_path", out,
		    "connecttop_connects_total{comm=\"\\\\u200bzw\",daddr=\"\\\\x40x\",dport=\"0\","
		    "proto=\"u_str\",result=\"ok\"}",
		    1);
	check_value("prom.escape.unix_abstract", out,
		    "connecttop_connects_total{comm=\"\\\\u200bzw\",daddr=\"@x\",dport=\"0\","
		    "proto=\"u_str\",result=\"ok\"}",
		    2);
	check_value(
		"prom.escape.unix_backslash_once", out,
		"connecttop_connects_total{comm=\"\\\\u200bzw\",daddr=\"/tmp/a\\\\\\\\b\",dport=\"0\","
		"proto=\"u_str\",result=\"ok\"}",
		3);
	ck_lacks("prom.escape.no_raw_zwsp", out, "\xe2\x80\x8b");
	check_well_formed("prom.escape_unix.well_formed", out);
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

	/* C evicts B (A, busy, is protected from one-offs: flows.c), D evicts
	 * C (which was never written), A connects again, then a pending
	 * connect of D */
	add_n(t, C, 2, T0 + 4, 3, 0);
	add_n(t, D, 1, T0 + 5, 4, -ETIMEDOUT);
	add_n(t, A, 1, T0 + 6, 1, 0);
	add_lat(t, A, T0 + 7, 1, 0, 3000000);
	fed += 5;
	s = sample(D, T0 + 8, 4, -EINPROGRESS);
	s.pending = 1;
	flows_add(t, &s);
	CHECK_U("prom.mono.evicted", 2, flows_evicted(t));
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

/* names that differ in bytes are written differently: a series each, and
 * never two with the same labels (node_exporter rejects the whole file) */
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
		"prom.collide.newline", out,
		"connecttop_connects_total{comm=\"a\\\\x0ab\",daddr=\"10.0.0.1\",dport=\"80\",proto=\"tcp\",result=\"ok\"}",
		1);
	check_value(
		"prom.collide.text_x0a", out,
		"connecttop_connects_total{comm=\"a\\\\\\\\x0ab\",daddr=\"10.0.0.1\",dport=\"80\",proto=\"tcp\",result=\"ok\"}",
		2);
	check_value(
		"prom.collide.newline_hist", out,
		"connecttop_connect_latency_seconds_count{comm=\"a\\\\x0ab\",daddr=\"10.0.0.1\",dport=\"80\"}",
		1);
	check_value(
		"prom.collide.text_x0a_hist", out,
		"connecttop_connect_latency_seconds_count{comm=\"a\\\\\\\\x0ab\",daddr=\"10.0.0.1\",dport=\"80\"}",
		2);
	check_value(
		"prom.collide.c1", out,
		"connecttop_connects_total{comm=\"c\\\\u0080\",daddr=\"10.0.0.1\",dport=\"80\",proto=\"tcp\",result=\"ok\"}",
		2);
	check_value(
		"prom.collide.byte_80", out,
		"connecttop_connects_total{comm=\"c\\\\x80\",daddr=\"10.0.0.1\",dport=\"80\",proto=\"tcp\",result=\"ok\"}",
		3);
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
	/* two processes now: the busier (the text, 5) gets the one daddr="other"
	 * series, the newline's 3 + 1 go to comm="other" */
	check_value("prom.collide_folded.text_other", out,
		    "connecttop_connects_total{comm=\"x\\\\\\\\x0ay\",daddr=\"other\",dport="
		    "\"other\",proto=\"tcp\",result=\"ok\"}",
		    5);
	CHECK_D("prom.collide_folded.newline_in_other", 4,
		value(out, "connecttop_connects_total{comm=\"other\",daddr=\"other\",dport="
			   "\"other\",proto=\"tcp\",result=\"ok\"}") +
			value(out, "connecttop_connects_total{comm=\"other\",daddr=\"other\",dport="
				   "\"other\",proto=\"udp\",result=\"ok\"}"),
		0);
	ck_lacks("prom.collide_folded.no_newline_other", out, "comm=\"x\\\\x0ay\"");
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
	struct ct_more_buf more;
	struct ck_mem m;
	char *out;

	memset(&snap, 0, sizeof(snap));
	memset(&row, 0, sizeof(row));
	memset(&more, 0, sizeof(more));
	row.key = key("curl", "10.0.0.1", 443, P_TCP);
	ct_more_buf_bind(&more);
	row.more = &more.m;
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

/* ---- flow churn: many new flows in one write ---- */

/* A port scan: thousands of flows the exporter has not seen, all in one
 * write. Each needs a state, so the states' array grows (and moves) while
 * the flows to place are being gathered: nothing may still point into the
 * old one (issue 12: a heap-use-after-free, SIGSEGV in the exporter). The
 * table holds them all: eviction is the fuzz's (test_fuzz). */
static void test_churn(void)
{
	static const int waves[] = { 5000, 20000, 300 };
	struct ct_flows *t = flows_new(30000);
	struct prom *p = prom_new(t, 1000);
	uint64_t total = 0;
	int port = 10000;

	for (size_t w = 0; w < ARRAY_SIZE(waves); w++) {
		char *out;

		for (int i = 0; i < waves[w]; i++, port++) {
			add_n(t, key("scan", "127.0.0.99", 10000 + port % 50000, P_UDP), 1,
			      T0 + port, 7, 0);
			total++;
		}
		out = expose(p, t, nm("prom.churn_scan.%zu", w));
		check_value(
			nm("prom.churn_scan.%zu.sum", w), out,
			"connecttop_connects_total{comm=\"scan\",daddr=\"other\",dport=\"other\","
			"proto=\"udp\",result=\"ok\"}",
			(double)total - value(out, "connecttop_series"));
		check_value(nm("prom.churn_scan.%zu.series", w), out, "connecttop_series", 1000);
		check_well_formed(nm("prom.churn_scan.%zu.well_formed", w), out);
		free(out);
	}
	prom_free(p);
	flows_free(t);
}

/* ---- a fuzz of the state handling: random churn ---- */

/* one sample line of an exposition: the series (name and labels), its value */
struct fz_line {
	char *series;
	double v;
};

struct fz_expo {
	struct fz_line *l;
	size_t n;
};

/* what was fed since the round began, and what a round exercised */
struct fz_model {
	uint64_t connects;  /* finished connects (a pending one counts at its outcome) */
	uint64_t latencies; /* finished connects with a handshake time (ok, refused) */
	uint64_t samples;
};

struct fz_seen {
	double max_demoted, max_folded, max_evicted, max_new_in_write;
	unsigned clears;
};

static uint64_t fz_rand(uint64_t *s)
{
	/* xorshift64*: small, and the same sequence on every machine */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static unsigned fz_below(uint64_t *s, unsigned n)
{
	return (unsigned)(fz_rand(s) % n);
}

static int fz_line_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fz_line *)a)->series, ((const struct fz_line *)b)->series);
}

static void fz_expo_free(struct fz_expo *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->l[i].series);
	free(e->l);
	e->l = NULL;
	e->n = 0;
}

/* every sample line of text, sorted by series */
static void fz_parse(const char *text, struct fz_expo *e)
{
	size_t cap = 0;

	e->l = NULL;
	e->n = 0;
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *end = strchr(l, '\n'), *sp;

		if (*l == '#' || !end)
			continue;
		for (sp = end; sp > l && *sp != ' ';)
			sp--;
		if (e->n == cap) {
			cap = cap ? 2 * cap : 256;
			e->l = realloc(e->l, cap * sizeof(*e->l));
			if (!e->l)
				abort();
		}
		e->l[e->n].series = strndup(l, sp - l);
		e->l[e->n].v = strtod(sp + 1, NULL);
		if (!e->l[e->n].series)
			abort();
		e->n++;
	}
	qsort(e->l, e->n, sizeof(*e->l), fz_line_cmp);
}

static const struct fz_line *fz_find(const struct fz_expo *e, const char *series)
{
	struct fz_line k = { (char *)series, 0 };

	return bsearch(&k, e->l, e->n, sizeof(*e->l), fz_line_cmp);
}

static double fz_value(const struct fz_expo *e, const char *series)
{
	const struct fz_line *l = fz_find(e, series);

	return l ? l->v : -1;
}

/* a counter or a histogram's sample: what may never go down */
static int fz_is_counter(const char *series)
{
	static const char *const sfx[] = { "_total", "_bucket", "_sum", "_count" };
	size_t n = strcspn(series, "{");

	for (size_t i = 0; i < ARRAY_SIZE(sfx); i++) {
		size_t k = strlen(sfx[i]);

		if (n > k && !strncmp(series + n - k, sfx[i], k))
			return 1;
	}
	return 0;
}

static int fz_starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* the (comm, daddr, dport) labels of a series: "{comm=...,dport=\"..\"", in buf */
static const char *fz_labels(const char *series, char *buf, size_t len)
{
	const char *b = strchr(series, '{'), *d = b ? strstr(b, "\",dport=\"") : NULL, *e;

	buf[0] = 0;
	if (!d || !(e = strchr(d + 9, '"')))
		return buf;
	snprintf(buf, len, "%.*s", (int)(e + 1 - b), b);
	return buf;
}

static int fz_str_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

struct fz_comm {
	char comm[128];
	double before, after;
};

/* the invariants of one write (cur), against the one before (prev, n 0 for
 * none): 1 if they hold, else 0 and why */
static int fz_check(const struct fz_expo *prev, const struct fz_expo *cur, const struct fz_model *m,
		    size_t cap, char *why, size_t whylen)
{
	struct fz_comm comms[64];
	size_t ncomms = 0, nown = 0, nother = 0;
	char(*own)[256] = calloc(cur->n + 1, sizeof(*own));
	double connects = 0, lat = 0, down = 0, grew = 0;
	int ok = 0;

	if (!own)
		abort();
	for (size_t i = 0; i + 1 < cur->n; i++)
		if (!strcmp(cur->l[i].series, cur->l[i + 1].series)) {
			snprintf(why, whylen, "duplicate series %.200s", cur->l[i].series);
			goto out;
		}
	/* counters: never down; a series may leave only when it had one
	 * (comm, daddr, dport) of its own, demoted into its process's "other" */
	for (size_t i = 0; i < prev->n; i++) {
		const struct fz_line *a = &prev->l[i], *b = fz_find(cur, a->series);

		if (!fz_is_counter(a->series))
			continue;
		if (b && b->v < a->v) {
			snprintf(why, whylen, "%.200s went down from %.17g to %.17g", a->series,
				 a->v, b->v);
			goto out;
		}
		if (!b && (!strchr(a->series, '{') || strstr(a->series, "daddr=\"other\""))) {
			snprintf(why, whylen, "%.200s (%.17g) is gone", a->series, a->v);
			goto out;
		}
	}
	/* the totals: every finished connect is in exactly one series */
	for (int w = 0; w < 2; w++) {
		const struct fz_expo *e = w ? cur : prev;

		for (size_t i = 0; i < e->n; i++) {
			char c[256];
			size_t j;

			if (!fz_starts(e->l[i].series, "connecttop_connects_total{"))
				continue;
			comm_of(e->l[i].series, c, sizeof(c));
			for (j = 0; j < ncomms && strcmp(comms[j].comm, c); j++)
				;
			if (j == ncomms) {
				if (ncomms == ARRAY_SIZE(comms))
					abort(); /* a test bug: more names than the fuzz makes */
				snprintf(comms[j].comm, sizeof(comms[j].comm), "%.127s", c);
				comms[j].before = comms[j].after = 0;
				ncomms++;
			}
			*(w ? &comms[j].after : &comms[j].before) += e->l[i].v;
		}
	}
	for (size_t j = 0; j < ncomms; j++) {
		if (!strcmp(comms[j].comm, "other"))
			grew = comms[j].after - comms[j].before;
		else if (comms[j].after < comms[j].before)
			down += comms[j].before - comms[j].after;
	}
	/* a process's total goes down only by what its demoted series took to
	 * comm="other" (its own "other" series were not to be had) */
	if (down > grew) {
		snprintf(why, whylen, "processes lost %.17g connects, comm=\"other\" gained %.17g",
			 down, grew);
		goto out;
	}
	for (size_t i = 0; i < cur->n; i++) {
		const char *s = cur->l[i].series;
		int other = strstr(s, "daddr=\"other\"") != NULL;

		if (fz_starts(s, "connecttop_connects_total{"))
			connects += cur->l[i].v;
		else if (fz_starts(s, "connecttop_connect_latency_seconds_count{"))
			lat += cur->l[i].v;
		else
			continue;
		if (!other)
			fz_labels(s, own[nown++], sizeof(own[0]));
	}
	if (connects != (double)m->connects || lat != (double)m->latencies) {
		snprintf(why, whylen,
			 "%.17g connects and %.17g latencies written, %llu and %llu fed", connects,
			 lat, (unsigned long long)m->connects, (unsigned long long)m->latencies);
		goto out;
	}
	/* the cap: at most cap label sets of their own, cap processes' "other" */
	qsort(own, nown, sizeof(*own), fz_str_cmp);
	{
		size_t distinct = 0;

		for (size_t i = 0; i < nown; i++)
			distinct += !i || strcmp(own[i], own[i - 1]);
		nown = distinct;
	}
	/* processes with a daddr="other" series written (comm="other" aside) */
	for (size_t j = 0; j < ncomms; j++) {
		char k[160];

		snprintf(k, sizeof(k), "{comm=\"%s\",daddr=\"other\"", comms[j].comm);
		if (strcmp(comms[j].comm, "other"))
			for (size_t i = 0; i < cur->n; i++)
				if (fz_starts(cur->l[i].series, "connecttop_connects_total") &&
				    strstr(cur->l[i].series, k)) {
					nother++;
					break;
				}
	}
	if (nown > cap || fz_value(cur, "connecttop_series") > (double)cap ||
	    fz_value(cur, "connecttop_series") < (double)nown || nother > cap ||
	    fz_value(cur, "connecttop_other_series") > (double)cap ||
	    fz_value(cur, "connecttop_other_series") < (double)nother) {
		snprintf(why, whylen,
			 "cap %zu: %zu label sets of their own written, connecttop_series %.17g; "
			 "%zu processes' other written, connecttop_other_series %.17g",
			 cap, nown, fz_value(cur, "connecttop_series"), nother,
			 fz_value(cur, "connecttop_other_series"));
		goto out;
	}
	ok = 1;
out:
	free(own);
	return ok;
}

/* names that sanitized alike before backslashes were escaped, "other"
 * itself, 16 bytes with no NUL */
static const struct {
	const char *s;
	size_t len;
} fz_comms[] = {
	{ "curl", 4 },
	{ "wget", 4 },
	{ "a\nb", 3 },
	{ "a\\x0ab", 6 },
	{ "other", 5 },
	{ "c\x80", 2 },
	{ "0123456789abcdef", 16 },
	{ "scan", 4 },
	{ "a\"b\\c", 5 },
	{ "nginx", 5 },
};
static const uint16_t fz_protos[] = { P_TCP, P_UDP, 132, 33, 136, 1 };

static struct flow_key fz_key(uint64_t *rs, unsigned ncomm, unsigned naddr, unsigned nport)
{
	struct flow_key k;
	unsigned c = fz_below(rs, ncomm), a = fz_below(rs, naddr);

	memset(&k, 0, sizeof(k));
	memcpy(k.comm, fz_comms[c].s, fz_comms[c].len);
	if (fz_below(rs, 8)) {
		k.family = 4;
		k.daddr[0] = 10;
		k.daddr[1] = (uint8_t)(a >> 16);
		k.daddr[2] = (uint8_t)(a >> 8);
		k.daddr[3] = (uint8_t)a;
	} else {
		k.family = 6;
		k.daddr[0] = 0xfd;
		k.daddr[13] = (uint8_t)(a >> 16);
		k.daddr[14] = (uint8_t)(a >> 8);
		k.daddr[15] = (uint8_t)a;
	}
	k.dport = (uint16_t)(1 + fz_below(rs, nport));
	k.proto = fz_protos[fz_below(rs, fz_below(rs, 4) ? 2 : ARRAY_SIZE(fz_protos))];
	return k;
}

static void fz_feed(struct ct_flows *t, struct fz_model *m, uint64_t *rs, struct flow_key k,
		    uint64_t *now, int pending, int outcome)
{
	static const int rets[] = { 0, 0, 0, -ECONNREFUSED, -ETIMEDOUT, -ENETUNREACH, -EACCES };
	struct ct_sample s = sample(k, (*now)++, 1 + fz_below(rs, 5), rets[fz_below(rs, 7)]);

	s.pending = (uint8_t)pending;
	s.outcome = (uint8_t)outcome;
	if (pending)
		s.ret = -EINPROGRESS;
	if (fz_below(rs, 2)) {
		s.has_lat = 1;
		s.lat_ns = fz_rand(rs) % (1ULL << fz_below(rs, 40));
	}
	flows_add(t, &s);
	m->samples++;
	if (!pending) {
		m->connects++;
		m->latencies += s.has_lat && (s.ret == 0 || s.ret == -ECONNREFUSED);
	}
}

/* One round: a table and an exporter of random sizes, random churn, a
 * check after every write. 1 if every write held, else 0 and why. */
static int fz_round(uint64_t seed, struct fz_seen *seen, char *why, size_t whylen)
{
	static const size_t tables[] = { 1, 2, 5, 50, 300, 1000 };
	/* a large cap only costs time here: the states grow with flows, not series */
	static const size_t caps[] = { 1, 2, 3, 5, 10, 40 };
	static const unsigned addrs[] = { 3, 50, 2000, 100000 };
	uint64_t rs = seed | 1, now = T0;
	size_t max_flows = tables[fz_below(&rs, ARRAY_SIZE(tables))],
	       cap = caps[fz_below(&rs, ARRAY_SIZE(caps))];
	unsigned ncomm = 1 + fz_below(&rs, ARRAY_SIZE(fz_comms)),
		 naddr = addrs[fz_below(&rs, ARRAY_SIZE(addrs))], nport = 1 + fz_below(&rs, 40),
		 steps = 100 + fz_below(&rs, 600), writes = 0;
	struct ct_flows *t = flows_new(max_flows);
	struct prom *p = prom_new(t, cap);
	struct fz_expo prev = { NULL, 0 }, cur;
	struct fz_model m = { 0, 0, 0 };
	struct flow_key pend[64], hot[3];
	size_t npend = 0, flows_before = 0;
	int ok = 1;

	if (!t || !p)
		abort();
	for (size_t i = 0; i < ARRAY_SIZE(hot); i++)
		hot[i] = fz_key(&rs, ncomm, naddr, nport);
	for (unsigned step = 0; ok && step <= steps; step++) {
		unsigned op = step == steps ? 99 : fz_below(&rs, 100);

		if (op < 50) { /* a few connects of some flow */
			struct flow_key k = fz_key(&rs, ncomm, naddr, nport);

			for (unsigned n = 1 + fz_below(&rs, 5); n; n--)
				fz_feed(t, &m, &rs, k, &now, 0, 0);
		} else if (op < 56) { /* a scan: many flows, most of them new */
			unsigned n = 1 + fz_below(&rs, fz_below(&rs, 3) ? 100 : 1500);

			for (; n; n--)
				fz_feed(t, &m, &rs, fz_key(&rs, ncomm, naddr, nport), &now, 0, 0);
		} else if (op < 62) { /* a busy flow */
			unsigned h = fz_below(&rs, ARRAY_SIZE(hot));

			for (unsigned n = 5 + fz_below(&rs, 60); n; n--)
				fz_feed(t, &m, &rs, hot[h], &now, 0, 0);
		} else if (op < 64) { /* the busy flows change */
			hot[fz_below(&rs, ARRAY_SIZE(hot))] = fz_key(&rs, ncomm, naddr, nport);
		} else if (op < 70) { /* a connect whose outcome comes later */
			struct flow_key k = fz_below(&rs, 2) && npend ?
						    pend[fz_below(&rs, npend)] :
						    fz_key(&rs, ncomm, naddr, nport);

			fz_feed(t, &m, &rs, k, &now, 1, 0);
			if (npend < ARRAY_SIZE(pend))
				pend[npend++] = k;
		} else if (op < 76) { /* an outcome, maybe after its flow was evicted */
			if (npend) {
				size_t i = fz_below(&rs, npend);

				fz_feed(t, &m, &rs, pend[i], &now, 0, 1);
				pend[i] = pend[--npend];
			}
		} else if (op < 80) {
			now += NS_PER_S;
			flows_tick(t, now);
		} else if (op < 81) {
			flows_clear(t);
			flows_before = 0;
			seen->clears++;
		} else if (op < 90) { /* one connect of a busy flow */
			fz_feed(t, &m, &rs, hot[fz_below(&rs, ARRAY_SIZE(hot))], &now, 0, 0);
		} else { /* a write */
			struct ct_stats st = stats(t);
			struct ck_mem mem;
			char *out;
			int rc;

			st.events = m.samples;
			rc = prom_write(p, mem_open(&mem), t, &st);
			out = mem_close(&mem);
			writes++;
			if (rc) {
				snprintf(why, whylen, "write %u: %s", writes, strerror(-rc));
				ok = 0;
			} else {
				fz_parse(out, &cur);
				if (!fz_check(&prev, &cur, &m, cap, why, whylen))
					ok = 0;
				if (fz_value(&cur, "connecttop_demoted_series_total") >
				    seen->max_demoted)
					seen->max_demoted =
						fz_value(&cur, "connecttop_demoted_series_total");
				if (fz_value(&cur, "connecttop_folded_flows_total") >
				    seen->max_folded)
					seen->max_folded =
						fz_value(&cur, "connecttop_folded_flows_total");
				if (fz_value(&cur, "connecttop_evicted_flows_total") >
				    seen->max_evicted)
					seen->max_evicted =
						fz_value(&cur, "connecttop_evicted_flows_total");
				/* at least this many flows are new to the exporter */
				if (flows_count(t) > flows_before &&
				    (double)(flows_count(t) - flows_before) >
					    seen->max_new_in_write)
					seen->max_new_in_write =
						(double)(flows_count(t) - flows_before);
				fz_expo_free(&prev);
				prev = cur;
			}
			free(out);
			flows_before = flows_count(t);
			if (!ok) {
				char tmp[512];

				snprintf(tmp, sizeof(tmp),
					 "table %zu, cap %zu, %u names, %u addresses, %u ports, "
					 "write %u: %.400s",
					 max_flows, cap, ncomm, naddr, nport, writes, why);
				snprintf(why, whylen, "%s", tmp);
			}
		}
	}
	fz_expo_free(&prev);
	prom_free(p);
	flows_free(t);
	return ok;
}

/* Random churn under ASan: flows appear, grow, are evicted and cleared,
 * with random caps; after every write the invariants hold (fz_check). The
 * seeds are fixed: a failure names its round, and test_prom SEED runs
 * other ones. */
static void test_fuzz(uint64_t base)
{
	struct fz_seen seen = { 0, 0, 0, 0, 0 };
	char why[512] = "";
	int failed = 0;

	for (unsigned round = 0; round < 40; round++) {
		uint64_t seed = base + round * 0x9e3779b97f4a7c15ULL;

		if (!fz_round(seed, &seen, why, sizeof(why))) {
			ck(0, nm("prom.fuzz.round_%u", round), "seed 0x%llx: %s",
			   (unsigned long long)seed, why);
			failed = 1;
			break;
		}
	}
	if (!failed)
		ck(1, "prom.fuzz.invariants", " ");
	/* the fuzz reached what it is for: a test that cannot fail is a defect */
	ck(seen.max_demoted > 0 && seen.max_folded > 0 && seen.max_evicted > 0 &&
		   seen.max_new_in_write > 256 && seen.clears > 0,
	   "prom.fuzz.coverage",
	   "demoted %.0f, folded %.0f, evicted %.0f, new flows in a write %.0f, clears %u",
	   seen.max_demoted, seen.max_folded, seen.max_evicted, seen.max_new_in_write, seen.clears);
}

/* --prometheus names that no write could ever use are refused up front */
static void test_check_path(void)
{
	char err[256], name[300], path[4200];

	CHECK_I("prom.path.plain", 0, prom_check_path("/tmp/connecttop.prom", err, sizeof(err)));
	CHECK_I("prom.path.relative", 0, prom_check_path("connecttop.prom", err, sizeof(err)));
	CHECK_I("prom.path.empty", -EINVAL, prom_check_path("", err, sizeof(err)));
	ck_contains("prom.path.empty.why", err, "an empty file name");
	CHECK_I("prom.path.dir", -EINVAL, prom_check_path("/tmp/", err, sizeof(err)));
	ck_contains("prom.path.dir.why", err, "ends in '/'");
	/* ".NAME.XXXXXX" must fit in NAME_MAX (255 on /tmp's file systems) */
	memset(name, 'x', sizeof(name));
	snprintf(path, sizeof(path), "/tmp/%.*s", 247, name);
	CHECK_I("prom.path.name_247", 0, prom_check_path(path, err, sizeof(err)));
	snprintf(path, sizeof(path), "/tmp/%.*s", 248, name);
	CHECK_I("prom.path.name_248", -ENAMETOOLONG, prom_check_path(path, err, sizeof(err)));
	ck_contains("prom.path.name_248.why", err, "is 248 bytes, at most 247");
	/* and the temporary file's path, with its NUL, in PATH_MAX */
	for (size_t i = 0; i < 4087; i += 2)
		memcpy(path + i, "./", 2);
	memcpy(path + 4087 - 1, "x", 2);
	CHECK_I("prom.path.path_4087", 0, prom_check_path(path, err, sizeof(err)));
	memcpy(path + 4087 - 1, "xy", 3);
	CHECK_I("prom.path.path_4088", -ENAMETOOLONG, prom_check_path(path, err, sizeof(err)));
	ck_contains("prom.path.path_4088.why", err, "is 4088 bytes, at most 4087");
}

/* test_prom SEED: the fuzz alone, from another seed */
int main(int argc, char **argv)
{
	if (argc > 1) {
		test_fuzz(strtoull(argv[1], NULL, 0));
		return ck_done();
	}
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
	test_churn();
	test_check_path();
	test_fuzz(0x5eed0c0ffee);
	return ck_done();
}
