// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * export.c: JSON and CSV byte for byte, hostile process names in every
 * format, the table, and export_atomic (temporary files, writer failure,
 * planted symlinks).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "qnames.h"
#include "export.h"

#define T0 (1000 * NS_PER_S)
/* monotonic T0 is unix 1700000000 s = 2023-11-14T22:13:20Z */
#define UNIX0 (1700000000ULL * NS_PER_S)
#define TIME_NOW "2023-11-14T22:13:20.123Z"

static struct ct_stats stats(void)
{
	struct ct_stats st;

	memset(&st, 0, sizeof(st));
	st.events = 4;
	st.outcomes = 0;
	st.drops = 5;
	st.evicted = 0;
	st.flows = 2;
	st.interval_s = 2.0;
	st.events_rate = 2.0;
	st.now_unix_ns = UNIX0 + 123 * NS_PER_MS;
	st.mono_to_unix_ns = (int64_t)(UNIX0 - T0);
	return st;
}

/* curl -> 10.0.0.1:443 (2 ok with 1 ms handshakes, 1 refused),
 * wget -> [fd00::1]:80 (1 timeout), one interval of 2 s */
static struct ct_flows *table(const char *curl_comm, size_t curl_len)
{
	struct ct_flows *t = flows_new(10);
	struct flow_key c = key_raw(curl_comm, curl_len, "10.0.0.1", 443, P_TCP),
			w = key("wget", "fd00::1", 80, P_TCP);
	struct ct_sample s;

	flows_tick(t, T0);
	add_lat(t, c, T0 + 500 * NS_PER_MS, 4242, 0, 1000000);
	add_lat(t, c, T0 + 600 * NS_PER_MS, 4242, 0, 1000000);
	add_n(t, c, 1, T0 + 700 * NS_PER_MS, 4242, -ECONNREFUSED);
	s = sample(w, T0 + 800 * NS_PER_MS, 77, -ETIMEDOUT);
	s.uid = 0;
	flows_add(t, &s);
	flows_tick(t, T0 + 2 * NS_PER_S);
	return t;
}

struct out {
	char *json, *csv, *table;
};

static struct out render(const char *curl_comm, size_t curl_len, enum ct_group g)
{
	struct ct_flows *t = table(curl_comm, curl_len);
	struct ct_snap *s = snap_new(t, T0 + 2 * NS_PER_S);
	struct ct_stats st = stats();
	struct ct_rows v;
	struct ck_mem m;
	struct out o;
	static int calls;

	calls++;
	rows_derive(s, g, NULL, SORT_COUNT, 1, 0, &v);
	CHECK_I(nm("render.%d.%s.json_rc", calls, ct_group_names[g]), 0,
		export_json(mem_open(&m), &v, g, &st));
	o.json = mem_close(&m);
	mem_open(&m);
	CHECK_I(nm("render.%d.%s.csv_header_rc", calls, ct_group_names[g]), 0,
		export_csv_header(m.f, g));
	CHECK_I(nm("render.%d.%s.csv_rc", calls, ct_group_names[g]), 0,
		export_csv(m.f, &v, g, &st));
	o.csv = mem_close(&m);
	CHECK_I(nm("render.%d.%s.table_rc", calls, ct_group_names[g]), 0,
		export_table(mem_open(&m), &v, g, &st, 0));
	o.table = mem_close(&m);
	rows_free(&v);
	snap_free(s);
	flows_free(t);
	return o;
}

static void out_free(struct out *o)
{
	free(o->json);
	free(o->csv);
	free(o->table);
}

static const char *const csv_header_flow =
	"time,comm,pid,pids,uid,daddr,dport,proto,family,count,interval_count,rate,results.ok,results.refused,"
	"results.timeout,results.unreachable,results.pending,results.other,results.abandoned,errors,lat_p50_us,lat_p99_us,"
	"lat_max_us,first_seen,last_seen,folded,syn_retrans.connects,syn_retrans.total,qname,"
	"qname_hostwide,qname_chain\n";

static void test_json_csv(void)
{
	struct out o = render("curl", 4, GROUP_FLOW);

	CHECK_S("json.flow_bytes",
		"{\"version\":1,\"time\":\"" TIME_NOW
		"\",\"interval_s\":2.000,\"group\":\"flow\",\"events\":4,"
		"\"outcomes\":0,\"outcomes_late\":0,\"outcomes_at_destroy\":0,\"drops\":5,\"missed\":0,\"evicted\":0,\"folded\":0,\"flows\":2,\"rows\":["
		"{\"comm\":\"curl\",\"pid\":4242,\"pids\":1,\"uid\":1000,\"daddr\":\"10.0.0.1\",\"dport\":443,"
		"\"proto\":\"tcp\",\"family\":\"ipv4\",\"count\":3,\"interval_count\":3,\"rate\":1.50,"
		"\"results\":{\"ok\":2,\"refused\":1,\"timeout\":0,\"unreachable\":0,\"pending\":0,\"other\":0,\"abandoned\":0},"
		"\"errors\":{\"ECONNREFUSED\":1},\"lat_p50_us\":1000,\"lat_p99_us\":1000,\"lat_max_us\":1000,"
		"\"first_seen\":\"2023-11-14T22:13:20.500Z\",\"last_seen\":\"2023-11-14T22:13:20.700Z\"},"
		"{\"comm\":\"wget\",\"pid\":77,\"pids\":1,\"uid\":0,\"daddr\":\"fd00::1\",\"dport\":80,"
		"\"proto\":\"tcp\",\"family\":\"ipv6\",\"count\":1,\"interval_count\":1,\"rate\":0.50,"
		"\"results\":{\"ok\":0,\"refused\":0,\"timeout\":1,\"unreachable\":0,\"pending\":0,\"other\":0,\"abandoned\":0},"
		"\"errors\":{\"ETIMEDOUT\":1},\"lat_p50_us\":null,\"lat_p99_us\":null,\"lat_max_us\":null,"
		"\"first_seen\":\"2023-11-14T22:13:20.800Z\",\"last_seen\":\"2023-11-14T22:13:20.800Z\"}]}\n",
		o.json);
	CHECK_S("csv.flow_bytes",
		"time,comm,pid,pids,uid,daddr,dport,proto,family,count,interval_count,rate,results.ok,"
		"results.refused,results.timeout,results.unreachable,results.pending,results.other,results.abandoned,errors,"
		"lat_p50_us,lat_p99_us,lat_max_us,first_seen,last_seen,folded,syn_retrans.connects,"
		"syn_retrans.total,qname,qname_hostwide,qname_chain\n" TIME_NOW
		",curl,4242,1,1000,10.0.0.1,443,tcp,ipv4,3,3,1.50,2,1,0,0,0,0,0,ECONNREFUSED=1,1000,1000,1000,"
		"2023-11-14T22:13:20.500Z,2023-11-14T22:13:20.700Z,0,,,,,\n" TIME_NOW
		",wget,77,1,0,fd00::1,80,tcp,ipv6,1,1,0.50,0,0,1,0,0,0,0,ETIMEDOUT=1,,,,"
		"2023-11-14T22:13:20.800Z,2023-11-14T22:13:20.800Z,0,,,,,\n",
		o.csv);
	out_free(&o);

	/* a comm with a comma and a quote is quoted, the quote doubled */
	o = render("a,b\"c", 5, GROUP_FLOW);
	ck_contains("csv.quoted_comm", o.csv,
		    "\n" TIME_NOW ",\"a,b\"\"c\",4242,1,1000,10.0.0.1,443,");
	ck_contains("json.quoted_comm", o.json, "{\"comm\":\"a,b\\\"c\",\"pid\":4242,");
	out_free(&o);
	o = render("my app", 6, GROUP_FLOW);
	ck_contains("csv.space_quoted", o.csv, "\n" TIME_NOW ",\"my app\",4242,");
	out_free(&o);
	/* names a spreadsheet would run as a formula are written as text */
	{
		static const char *const formulas[][2] = {
			{ "=cmd|'/c x'!A", "\"'=cmd|'/c x'!A\"" },
			{ "+1+1", "\"'+1+1\"" },
			{ "-bash", "\"'-bash\"" },
			{ "@SUM(A1)", "\"'@SUM(A1)\"" },
			{ "=a,\"b", "\"'=a,\"\"b\"" },
		};

		for (size_t i = 0; i < ARRAY_SIZE(formulas); i++) {
			char want[64];

			o = render(formulas[i][0], strlen(formulas[i][0]), GROUP_FLOW);
			snprintf(want, sizeof(want), "\n" TIME_NOW ",%s,4242,", formulas[i][1]);
			ck_contains(nm("csv.formula_as_text.%zu", i), o.csv, want);
			out_free(&o);
		}
		o = render("a=b", 3, GROUP_FLOW);
		ck_contains("csv.equals_inside_plain", o.csv, "\n" TIME_NOW ",a=b,4242,");
		out_free(&o);
	}
	o = render("back\\slash", 10, GROUP_FLOW);
	/* sanitized to back\\slash, then each of those backslashes quoted */
	ck_contains("json.backslash_escaped", o.json, "\"comm\":\"back\\\\\\\\slash\"");
	ck_contains("csv.backslash_escaped", o.csv,
		    ","
		    "back\\\\slash"
		    ",");
	out_free(&o);
	/* a full 16-byte comm without NUL stays 16 bytes */
	o = render("0123456789abcdefXYZ", 19, GROUP_FLOW);
	ck_contains("json.comm_16_bytes", o.json, "\"comm\":\"0123456789abcdef\",");
	out_free(&o);

	/* the CSV headers of the groupings, and the JSON of the process grouping */
	{
		static const char *const hdr[GROUP_MAX] = {
			[GROUP_PROCESS] = "time,comm,pid,pids,uid,flows,count,",
			[GROUP_DEST] = "time,daddr,family,flows,pids,count,",
			[GROUP_PORT] = "time,dport,proto,flows,pids,count,",
		};
		struct ck_mem m;
		char *h;

		CHECK_I("csv.header_flow_rc", 0, export_csv_header(mem_open(&m), GROUP_FLOW));
		h = mem_close(&m);
		CHECK_S("csv.header_flow", csv_header_flow, h);
		free(h);
		for (int g = GROUP_PROCESS; g < GROUP_MAX; g++) {
			size_t hl,
				common = strlen(
					"count,interval_count,rate,results.ok,results.refused,"
					"results.timeout,results.unreachable,results.pending,"
					"results.other,results.abandoned,errors,lat_p50_us,lat_p99_us,lat_max_us,"
					"first_seen,last_seen,folded,syn_retrans.connects,syn_retrans.total\n");

			export_csv_header(mem_open(&m), g);
			h = mem_close(&m);
			hl = strlen(h);
			CHECK(nm("csv.header_%s_start", ct_group_names[g]),
			      !strncmp(h, hdr[g], strlen(hdr[g])));
			/* the flow grouping's qname columns come after these */
			CHECK(nm("csv.header_%s_end", ct_group_names[g]),
			      hl > common &&
				      !strncmp(h + hl - common,
					       strstr(csv_header_flow, ",count,") + 1,
					       common - 1) &&
				      h[hl - 1] == '\n');
			free(h);
		}
	}
	o = render("curl", 4, GROUP_PROCESS);
	CHECK_S("json.process_bytes",
		"{\"version\":1,\"time\":\"" TIME_NOW
		"\",\"interval_s\":2.000,\"group\":\"process\",\"events\":4,"
		"\"outcomes\":0,\"outcomes_late\":0,\"outcomes_at_destroy\":0,\"drops\":5,\"missed\":0,\"evicted\":0,\"folded\":0,\"flows\":2,\"rows\":["
		"{\"comm\":\"curl\",\"pid\":4242,\"pids\":1,\"uid\":1000,\"flows\":1,\"count\":3,"
		"\"interval_count\":3,\"rate\":1.50,"
		"\"results\":{\"ok\":2,\"refused\":1,\"timeout\":0,\"unreachable\":0,\"pending\":0,\"other\":0,\"abandoned\":0},"
		"\"errors\":{\"ECONNREFUSED\":1},\"lat_p50_us\":1000,\"lat_p99_us\":1000,\"lat_max_us\":1000,"
		"\"first_seen\":\"2023-11-14T22:13:20.500Z\",\"last_seen\":\"2023-11-14T22:13:20.700Z\"},"
		"{\"comm\":\"wget\",\"pid\":77,\"pids\":1,\"uid\":0,\"flows\":1,\"count\":1,"
		"\"interval_count\":1,\"rate\":0.50,"
		"\"results\":{\"ok\":0,\"refused\":0,\"timeout\":1,\"unreachable\":0,\"pending\":0,\"other\":0,\"abandoned\":0},"
		"\"errors\":{\"ETIMEDOUT\":1},\"lat_p50_us\":null,\"lat_p99_us\":null,\"lat_max_us\":null,"
		"\"first_seen\":\"2023-11-14T22:13:20.800Z\",\"last_seen\":\"2023-11-14T22:13:20.800Z\"}]}\n",
		o.json);
	out_free(&o);
	o = render("curl", 4, GROUP_DEST);
	ck_contains(
		"json.dest_row", o.json,
		"\"rows\":[{\"daddr\":\"10.0.0.1\",\"family\":\"ipv4\",\"flows\":1,\"pids\":1,\"count\":3,");
	ck_contains("csv.dest_row", o.csv,
		    "\n" TIME_NOW ",fd00::1,ipv6,1,1,1,1,0.50,0,0,1,0,0,0,0,ETIMEDOUT=1,,,,");
	out_free(&o);
	o = render("curl", 4, GROUP_PORT);
	ck_contains(
		"json.port_row", o.json,
		"\"rows\":[{\"dport\":443,\"proto\":\"tcp\",\"flows\":1,\"pids\":1,\"count\":3,");
	out_free(&o);
}

/* the number of CSV fields of each line, quotes respected, all equal? */
static int csv_rectangular(const char *csv, int *fields)
{
	int q = 0, n = 1, want = -1;

	for (const char *p = csv; *p; p++) {
		if (*p == '"')
			q = !q;
		else if (*p == ',' && !q)
			n++;
		else if (*p == '\n' && !q) {
			if (want < 0)
				want = n;
			else if (n != want)
				return 0;
			n = 1;
		}
	}
	*fields = want;
	return !q;
}

static int have_jq(void)
{
	return system("command -v jq >/dev/null 2>&1") == 0;
}

/* run jq with a filter on text; its stdout (caller frees) or NULL */
static char *jq(const char *filter, const char *text)
{
	char path[] = "/tmp/ct-test-json.XXXXXX", cmd[512];
	int fd = mkstemp(path);
	FILE *p;
	char *out = NULL;
	size_t n = 0;
	struct ck_mem m;

	if (fd < 0)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		unlink(path);
		return NULL;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "jq -r '%s' %s 2>&1", filter, path);
	p = popen(cmd, "r");
	if (p) {
		char buf[4096];

		mem_open(&m);
		while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
			fwrite(buf, 1, n, m.f);
		out = mem_close(&m);
		if (pclose(p) != 0) {
			free(out);
			out = NULL;
		}
	}
	unlink(path);
	return out;
}

static void test_parse_with_jq(void)
{
	struct out o = render("curl", 4, GROUP_FLOW);
	char *r;
	int fields;

	if (!have_jq()) {
		ck(0, "json.jq",
		   "jq is not installed: cannot validate the JSON (apt-get install jq)");
		out_free(&o);
		return;
	}
	r = jq(".rows[0].comm + \" \" + (.rows[1].lat_p50_us|tostring) + \" \" + (.rows|length|tostring)",
	       o.json);
	CHECK_S("json.jq_parses", "curl null 2\n", r);
	free(r);
	r = jq("[.rows[0]|keys_unsorted[]]|join(\",\")", o.json);
	CHECK_S("json.jq_flow_fields",
		"comm,pid,pids,uid,daddr,dport,proto,family,count,interval_count,rate,results,errors,lat_p50_us,"
		"lat_p99_us,lat_max_us,first_seen,last_seen\n",
		r);
	free(r);
	CHECK("csv.rectangular", csv_rectangular(o.csv, &fields));
	CHECK_I("csv.fields", 31, fields); /* 28, and qname, qname_hostwide, qname_chain */
	out_free(&o);
	for (int g = GROUP_PROCESS; g < GROUP_MAX; g++) {
		o = render("curl", 4, g);
		r = jq(".group + \" \" + (.rows|length|tostring)", o.json);
		CHECK_S(nm("json.jq_parses_%s", ct_group_names[g]), nm("%s 2\n", ct_group_names[g]),
			r);
		free(r);
		CHECK(nm("csv.rectangular_%s", ct_group_names[g]), csv_rectangular(o.csv, &fields));
		out_free(&o);
	}
}

/* ESC [31m, a newline, an invalid byte and U+202E RIGHT-TO-LEFT OVERRIDE */
#define HOSTILE "\x1b[31mX\n\xff\xe2\x80\xae"

static void safe_text(const char *name, const char *s, size_t lines)
{
	long c = ck_first_control(s, strlen(s));

	ck(c < 0, nm("hostile.%s.no_controls", name), "control byte 0x%02x at %ld",
	   c < 0 ? 0 : (unsigned char)s[c], c);
	CHECK(nm("hostile.%s.valid_utf8", name),
	      ck_utf8_valid((const unsigned char *)s, strlen(s)));
	ck_lacks(nm("hostile.%s.no_raw_rlo", name), s, "\xe2\x80\xae");
	CHECK_U(nm("hostile.%s.lines", name), lines, ck_count_char(s, '\n'));
}

static void test_hostile(void)
{
	struct out o = render(HOSTILE, strlen(HOSTILE), GROUP_FLOW);
	char *r;

	safe_text("json", o.json, 1);
	safe_text("csv", o.csv, 3);
	safe_text("table", o.table, 5);
	ck_contains("hostile.json.escaped", o.json,
		    "\"comm\":\"\\\\x1b[31mX\\\\x0a\\\\xff\\\\u202e\"");
	ck_contains("hostile.csv.escaped", o.csv,
		    ","
		    "\\x1b[31mX\\x0a\\xff\\u202e"
		    ",4242,");
	ck_contains("hostile.table.escaped", o.table, "\\x1b[31mX\\x0a\\xff\\u202e");
	if (have_jq()) {
		/* decoded, the JSON string still holds no control and no U+202E */
		r = jq(".rows[0].comm", o.json);
		CHECK_S("hostile.json.jq_decodes_to_text", "\\x1b[31mX\\x0a\\xff\\u202e\n", r);
		free(r);
	} else {
		ck(0, "hostile.json.jq_decodes_to_text", "jq is not installed");
	}
	out_free(&o);

	o = render(HOSTILE, strlen(HOSTILE), GROUP_PROCESS);
	safe_text("json_process", o.json, 1);
	safe_text("csv_process", o.csv, 3);
	safe_text("table_process", o.table, 5);
	out_free(&o);
}

/* names that must not look alike in any format, and invisible characters */
static void test_distinct(void)
{
	static const struct {
		const char *name, *in, *json, *text;
	} cases[] = {
		/* a newline, and the six characters a\x0ab */
		{ "newline", "a\nb", "\"comm\":\"a\\\\x0ab\"", "a\\x0ab" },
		{ "literal_x0a", "a\\x0ab", "\"comm\":\"a\\\\\\\\x0ab\"", "a\\\\x0ab" },
		/* U+200B ZERO WIDTH SPACE, U+FEFF BOM: "zw" on a screen */
		{ "zwsp_bom", "\xe2\x80\x8bzw\xef\xbb\xbf", "\"comm\":\"\\\\u200bzw\\\\ufeff\"",
		  "\\u200bzw\\ufeff" },
		/* U+0085 (a C1 control) and the byte 85 */
		{ "c1", "c\xc2\x85", "\"comm\":\"c\\\\u0085\"", "c\\u0085" },
		{ "byte_85", "c\x85", "\"comm\":\"c\\\\x85\"", "c\\x85" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct out o = render(cases[i].in, strlen(cases[i].in), GROUP_FLOW);
		char want[64], *r;

		ck_contains(nm("distinct.%s.json", cases[i].name), o.json, cases[i].json);
		snprintf(want, sizeof(want), "\n" TIME_NOW ",%s,4242,", cases[i].text);
		ck_contains(nm("distinct.%s.csv", cases[i].name), o.csv, want);
		snprintf(want, sizeof(want), "\n%-16s ", cases[i].text);
		ck_contains(nm("distinct.%s.table", cases[i].name), o.table, want);
		if (have_jq()) {
			r = jq(".rows[0].comm", o.json);
			snprintf(want, sizeof(want), "%s\n", cases[i].text);
			CHECK_S(nm("distinct.%s.jq", cases[i].name), want, r);
			free(r);
		} else {
			ck(0, nm("distinct.%s.jq", cases[i].name), "jq is not installed");
		}
		out_free(&o);
	}
}

/* AF_UNIX: a path "@x" and the abstract name "\0x" are two rows, and a
 * path's backslash is escaped once, not once per layer */
static void test_unix_names(void)
{
	static const struct {
		const char *path;
		size_t len;
		const char *json, *csv;
	} dests[] = {
		{ "@x", 2, "\"daddr\":\"\\\\x40x\"", ",\\x40x," },
		{ "\0x", 2, "\"daddr\":\"@x\"", ",\"'@x\"," },
		{ "/tmp/a\\b", 8, "\"daddr\":\"/tmp/a\\\\\\\\b\"", ",/tmp/a\\\\b," },
	};
	struct ct_flows *t = flows_new(10);
	struct ct_stats st = stats();
	struct ct_snap *s;
	struct ct_rows v;
	struct ck_mem m;
	char *json, *csv, *r;

	flows_tick(t, T0);
	for (size_t i = 0; i < ARRAY_SIZE(dests); i++) {
		struct flow_key k = key("psql", "0.0.0.0", 0, CT_PROTO_UNIX | 1);

		k.family = CT_FAMILY_UNIX;
		ct_unix_key_set(k.daddr, ct_unix_path_id(dests[i].path, dests[i].len));
		add_n(t, k, (int)i + 1, T0 + NS_PER_MS, 4242, 0);
	}
	flows_tick(t, T0 + 2 * NS_PER_S);
	s = snap_new(t, T0 + 2 * NS_PER_S);
	rows_derive(s, GROUP_FLOW, NULL, SORT_COUNT, 1, 0, &v);
	CHECK_U("unix_names.rows", ARRAY_SIZE(dests), v.n);
	CHECK_I("unix_names.json_rc", 0, export_json(mem_open(&m), &v, GROUP_FLOW, &st));
	json = mem_close(&m);
	mem_open(&m);
	CHECK_I("unix_names.csv_rc", 0, export_csv(m.f, &v, GROUP_FLOW, &st));
	csv = mem_close(&m);
	for (size_t i = 0; i < ARRAY_SIZE(dests); i++) {
		ck_contains(nm("unix_names.%zu.json", i), json, dests[i].json);
		ck_contains(nm("unix_names.%zu.csv", i), csv, dests[i].csv);
	}
	if (have_jq()) {
		r = jq("[.rows[] | \"\\(.daddr) \\(.count)\"] | join(\" \")", json);
		CHECK_S("unix_names.jq", "/tmp/a\\\\b 3 @x 2 \\x40x 1\n", r);
		free(r);
	} else {
		ck(0, "unix_names.jq", "jq is not installed");
	}
	free(json);
	free(csv);
	rows_free(&v);
	snap_free(s);
	flows_free(t);
}

static void test_table(void)
{
	struct ct_flows *t = table("curl", 4);
	struct ct_snap *s = snap_new(t, T0 + 2 * NS_PER_S);
	struct ct_stats st = stats();
	struct ct_rows v;
	struct ck_mem m;
	char *out, *line, *save, *tok[20];
	int n = 0, ln = 0;
	char buf[32];

	rows_derive(s, GROUP_FLOW, NULL, SORT_COUNT, 1, 0, &v);
	CHECK_I("table.rc", 0, export_table(mem_open(&m), &v, GROUP_FLOW, &st, 0));
	out = mem_close(&m);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), ln++) {
		if (ln == 0)
			CHECK_S("table.header",
				TIME_NOW
				"  events/s 2.0  events 4  drops 5  missed 0  evicted 0  flows 2  group flow",
				line);
		if (ln == 1) {
			CHECK("table.columns",
			      !strncmp(line, "PROCESS", 7) && strstr(line, " DESTINATION ") &&
				      strstr(line, " RATE/s ") && strstr(line, "P99ms"));
		}
		if (ln == 2 || ln == 3) {
			char *p, *sv;
			char joined[256] = "";

			n = 0;
			for (p = strtok_r(line, " ", &sv); p && n < 20;
			     p = strtok_r(NULL, " ", &sv))
				tok[n++] = p;
			for (int i = 0; i < n; i++)
				snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined),
					 "%s%s", i ? "|" : "", tok[i]);
			if (ln == 2)
				CHECK_S("table.row_curl",
					"curl|4242|1|10.0.0.1|443|tcp|1.5|3|1|33.3|ECONNREFUSED|1.00|1.00",
					joined);
			else
				CHECK_S("table.row_wget",
					"wget|77|1|fd00::1|80|tcp|0.5|1|1|100.0|ETIMEDOUT|-|-",
					joined);
		}
	}
	CHECK_I("table.lines", 4, ln);
	free(out);

	export_table(mem_open(&m), &v, GROUP_FLOW, &st, 1);
	out = mem_close(&m);
	ck_contains("table.max_rows_more", out, "\n(1 more rows)\n\n");
	ck_lacks("table.max_rows_cut", out, "wget");
	free(out);
	rows_free(&v);

	rows_derive(s, GROUP_PORT, NULL, SORT_COUNT, 1, 0, &v);
	export_table(mem_open(&m), &v, GROUP_PORT, &st, 0);
	out = mem_close(&m);
	ck_contains("table.port_header", out, "group port\n PORT PROTO FLOWS  PIDS ");
	free(out);
	rows_free(&v);
	snap_free(s);
	flows_free(t);

	CHECK_S("proto_name.tcp", "tcp", ct_proto_name(6, buf, sizeof(buf)));
	CHECK_S("proto_name.udp", "udp", ct_proto_name(17, buf, sizeof(buf)));
	CHECK_S("proto_name.mptcp", "mptcp", ct_proto_name(262, buf, sizeof(buf)));
	CHECK_S("proto_name.unknown", "ipproto-99", ct_proto_name(99, buf, sizeof(buf)));
	{
		struct ct_row r;
		struct ct_row_more m;

		memset(&r, 0, sizeof(r));
		memset(&m, 0, sizeof(m));
		r.more = &m;
		CHECK_S("top_error.none", "", ct_row_top_error(&r, buf, sizeof(buf)));
		m.errs[0].err = ETIMEDOUT;
		m.errs[0].count = 1;
		m.errs[1].err = ECONNREFUSED;
		m.errs[1].count = 5;
		m.errs[2].err = 4242;
		m.errs[2].count = 2;
		CHECK_S("top_error.most_frequent", "ECONNREFUSED",
			ct_row_top_error(&r, buf, sizeof(buf)));
		m.errs[2].count = 9;
		CHECK_S("top_error.unknown_errno", "E4242", ct_row_top_error(&r, buf, sizeof(buf)));
		/* connects the application gave up on: its timeout, no errno */
		r.results[RES_ABANDONED] = 9;
		m.abandon_max_ns = 3000 * NS_PER_MS;
		CHECK_S("top_error.abandoned_tie", "app timeout 3.0s",
			ct_row_top_error(&r, buf, sizeof(buf)));
		r.results[RES_ABANDONED] = 8;
		CHECK_S("top_error.abandoned_fewer", "E4242",
			ct_row_top_error(&r, buf, sizeof(buf)));
		memset(&m, 0, sizeof(m));
		m.abandon_max_ns = 250 * NS_PER_MS;
		CHECK_S("top_error.abandoned_ms", "app timeout 250ms",
			ct_row_top_error(&r, buf, sizeof(buf)));
	}
	{
		/* an abandoned connect (CT_F_ABANDONED): its own class, a
		 * failure, no errno (its ret is not looked at), the longest wait */
		struct ct_flows *t = flows_new(4);
		struct flow_key k = key("node", "10.0.0.9", 81, P_TCP);
		struct ct_sample s = sample(k, T0, 7, -ECONNABORTED);
		struct ct_snap *sn;

		s.abandoned = 1;
		s.lat_ns = 3000 * NS_PER_MS;
		flows_add(t, &s);
		s.lat_ns = 1000 * NS_PER_MS;
		flows_add(t, &s);
		sn = snap_new(t, T0 + NS_PER_S);
		CHECK_U("abandoned.results", 2, sn->rows[0].results[RES_ABANDONED]);
		CHECK_U("abandoned.other", 0, sn->rows[0].results[RES_OTHER]);
		CHECK_U("abandoned.failures", 2, ct_row_failures(&sn->rows[0]));
		CHECK_I("abandoned.no_errno", 0, sn->rows[0].more->errs[0].err);
		CHECK_U("abandoned.longest_wait", 3000 * NS_PER_MS,
			sn->rows[0].more->abandon_max_ns);
		CHECK_S("abandoned.top_error", "app timeout 3.0s",
			ct_row_top_error(&sn->rows[0], buf, sizeof(buf)));
		CHECK_S("abandoned.result_name", "abandoned", ct_result_names[RES_ABANDONED]);
		snap_free(sn);
		flows_free(t);
	}
	CHECK_S("format_names", "table csv json prom",
		nm("%s %s %s %s", ct_format_names[0], ct_format_names[1], ct_format_names[2],
		   ct_format_names[3]));
}

static void test_write_errors(void)
{
	FILE *full = fopen("/dev/full", "w");
	struct ct_flows *t = table("curl", 4);
	struct ct_snap *s = snap_new(t, T0 + 2 * NS_PER_S);
	struct ct_stats st = stats();
	struct ct_rows v;

	rows_derive(s, GROUP_FLOW, NULL, SORT_COUNT, 1, 0, &v);
	if (!full) {
		ck(0, "write_error.json_enospc", "cannot open /dev/full: %s", strerror(errno));
	} else {
		CHECK_I("write_error.json_enospc", -ENOSPC, export_json(full, &v, GROUP_FLOW, &st));
		clearerr(full);
		CHECK_I("write_error.csv_enospc", -ENOSPC, export_csv(full, &v, GROUP_FLOW, &st));
		clearerr(full);
		CHECK_I("write_error.table_enospc", -ENOSPC,
			export_table(full, &v, GROUP_FLOW, &st, 0));
		fclose(full);
	}
	rows_free(&v);
	snap_free(s);
	flows_free(t);
}

/* ---- export_atomic ---- */

static char dir[] = "/tmp/ct-test-export.XXXXXX";

static char *path_in(const char *name)
{
	static char ring[4][512];
	static int i;
	char *b = ring[i++ % 4];

	snprintf(b, sizeof(ring[0]), "%s/%s", dir, name);
	return b;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *b;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = calloc(1, n + 1);
	if (fread(b, 1, n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

/* the directory's entries, sorted, as "a b c" */
static const char *listing(void)
{
	static char buf[1024];
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);

	buf[0] = 0;
	for (int i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, ".."))
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
				 *buf ? " " : "", ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	return buf;
}

static int write_text(FILE *out, void *ctx)
{
	fputs(ctx, out);
	return 0;
}

static int write_then_fail(FILE *out, void *ctx)
{
	fputs(ctx, out);
	fflush(out);
	return -ENOSPC;
}

static int write_json(FILE *out, void *ctx)
{
	struct ct_stats st = stats();

	return export_json(out, ctx, GROUP_FLOW, &st);
}

static void test_atomic(void)
{
	char *b;
	struct stat st;
	char cwd[512];

	if (!mkdtemp(dir)) {
		ck(0, "atomic.mkdtemp", "%s", strerror(errno));
		return;
	}
	CHECK_I("atomic.new_rc", 0,
		export_atomic(path_in("out.txt"), write_text, (void *)"hello\n"));
	b = slurp(path_in("out.txt"));
	CHECK_S("atomic.new_content", "hello\n", b);
	free(b);
	CHECK_S("atomic.new_no_temp_left", "out.txt", listing());
	CHECK("atomic.new_mode_0644",
	      !stat(path_in("out.txt"), &st) && (st.st_mode & 07777) == 0644);

	CHECK_I("atomic.replace_rc", 0,
		export_atomic(path_in("out.txt"), write_text, (void *)"second\n"));
	b = slurp(path_in("out.txt"));
	CHECK_S("atomic.replace_content", "second\n", b);
	free(b);
	CHECK_S("atomic.replace_no_temp_left", "out.txt", listing());

	/* the writer fails: file untouched, no temporary left, its error returned */
	CHECK_I("atomic.writer_fails_rc", -ENOSPC,
		export_atomic(path_in("out.txt"), write_then_fail, (void *)"partial"));
	b = slurp(path_in("out.txt"));
	CHECK_S("atomic.writer_fails_untouched", "second\n", b);
	free(b);
	CHECK_S("atomic.writer_fails_no_temp_left", "out.txt", listing());
	CHECK_I("atomic.writer_fails_new_rc", -ENOSPC,
		export_atomic(path_in("new.txt"), write_then_fail, (void *)"x"));
	CHECK_S("atomic.writer_fails_not_created", "out.txt", listing());

	/* a symlink planted at the path is replaced, never written through */
	put(path_in("target"), "secret\n");
	CHECK_I("atomic.symlink_planted", 0, symlink(path_in("target"), path_in("link.prom")));
	CHECK_I("atomic.symlink_rc", 0,
		export_atomic(path_in("link.prom"), write_text, (void *)"metrics\n"));
	b = slurp(path_in("target"));
	CHECK_S("atomic.symlink_target_unchanged", "secret\n", b);
	free(b);
	CHECK("atomic.symlink_replaced_by_file",
	      !lstat(path_in("link.prom"), &st) && S_ISREG(st.st_mode));
	b = slurp(path_in("link.prom"));
	CHECK_S("atomic.symlink_path_content", "metrics\n", b);
	free(b);
	CHECK_S("atomic.symlink_no_temp_left", "link.prom out.txt target", listing());

	/* a dangling symlink to a file that does not exist: not created */
	CHECK_I("atomic.dangling_planted", 0,
		symlink(path_in("created-by-attacker"), path_in("d.prom")));
	CHECK_I("atomic.dangling_rc", 0,
		export_atomic(path_in("d.prom"), write_text, (void *)"x\n"));
	CHECK("atomic.dangling_target_not_created",
	      access(path_in("created-by-attacker"), F_OK) != 0);
	CHECK("atomic.dangling_replaced", !lstat(path_in("d.prom"), &st) && S_ISREG(st.st_mode));

	/* no such directory */
	CHECK_I("atomic.no_dir", -ENOENT,
		export_atomic(path_in("nodir/x.prom"), write_text, (void *)"x\n"));

	/* a relative path without a directory part */
	if (getcwd(cwd, sizeof(cwd)) && !chdir(dir)) {
		CHECK_I("atomic.relative_rc", 0,
			export_atomic("rel.txt", write_text, (void *)"rel\n"));
		b = slurp("rel.txt");
		CHECK_S("atomic.relative_content", "rel\n", b);
		free(b);
		CHECK_S("atomic.relative_no_temp_left", "d.prom link.prom out.txt rel.txt target",
			listing());
		if (chdir(cwd))
			ck(0, "atomic.chdir_back", "%s", strerror(errno));
	} else {
		ck(0, "atomic.relative_rc", "cannot chdir to %s", dir);
	}

	/* a real export through it */
	{
		struct ct_flows *t = table("curl", 4);
		struct ct_snap *s = snap_new(t, T0 + 2 * NS_PER_S);
		struct ct_rows v;

		rows_derive(s, GROUP_FLOW, NULL, SORT_COUNT, 1, 0, &v);
		CHECK_I("atomic.json_rc", 0, export_atomic(path_in("out.json"), write_json, &v));
		b = slurp(path_in("out.json"));
		CHECK("atomic.json_content",
		      b && !strncmp(b, "{\"version\":1,", 13) && b[strlen(b) - 1] == '\n');
		free(b);
		rows_free(&v);
		snap_free(s);
		flows_free(t);
	}

	/* clean up */
	{
		static const char *const names[] = { "out.txt", "target",  "link.prom",
						     "d.prom",	"rel.txt", "out.json" };

		for (size_t i = 0; i < ARRAY_SIZE(names); i++)
			unlink(path_in(names[i]));
		CHECK_S("atomic.all_cleaned", "", listing());
		rmdir(dir);
	}
}

/* a row with connects in flight: the age of its oldest, last in the row
 * (JSON only: the CSV columns stay as they are) */
static void test_pending_age(void)
{
	struct ct_flows *t = flows_new(10);
	struct flow_key k = key("svc", "10.0.0.1", 443, P_TCP);
	struct ct_sample p = sample(k, T0 + 100 * NS_PER_MS, 9, -EINPROGRESS);
	struct ct_stats st = stats();
	struct ct_snap *s;
	struct ct_rows v;
	struct ck_mem m;
	char *json;

	flows_tick(t, T0);
	p.pending = 1;
	p.start_ns = T0 - 1500 * NS_PER_MS; /* 1.623 s before the output */
	flows_add(t, &p);
	p.start_ns = T0 - 500 * NS_PER_MS;
	flows_add(t, &p);
	s = snap_new(t, T0 + 123 * NS_PER_MS);
	rows_derive(s, GROUP_FLOW, NULL, SORT_COUNT, 1, 0, &v);
	export_json(mem_open(&m), &v, GROUP_FLOW, &st);
	json = mem_close(&m);
	CHECK("pending_age.results", strstr(json, "\"pending\":2,") != NULL);
	CHECK_S("pending_age.key_last", ",\"pending_oldest_s\":1.623}]}\n",
		strstr(json, ",\"pending_oldest_s\"") ? strstr(json, ",\"pending_oldest_s\"") :
							json);
	free(json);
	mem_open(&m);
	export_csv(m.f, &v, GROUP_FLOW, &st);
	json = mem_close(&m);
	CHECK("pending_age.not_in_csv", strstr(json, "1.623") == NULL);
	free(json);
	rows_free(&v);
	snap_free(s);
	flows_free(t);
}

/* syn_retrans: the object in JSON, two columns in CSV, for a flow whose SYN
 * retransmits were counted; a flow whose were not has none (JSON) or empty
 * columns (CSV), never zeros */
static void test_syn_retrans(void)
{
	struct ct_flows *t = flows_new(10);
	struct flow_key c = key("curl", "10.0.0.1", 443, P_TCP),
			d = key("dig", "10.0.0.2", 53, P_UDP);
	static const uint8_t n[] = { 0, 2, 1, 0, 4 };
	struct ct_stats st = stats();
	struct ct_sample x;
	struct ct_snap *s;
	struct ct_rows v;
	struct ck_mem m;
	char *out;

	flows_tick(t, T0);
	for (size_t i = 0; i < ARRAY_SIZE(n); i++) {
		x = sample(c, T0 + 500 * NS_PER_MS, 4242, 0);
		x.has_synrt = 1;
		x.syn_rt = n[i];
		flows_add(t, &x);
	}
	x = sample(d, T0 + 600 * NS_PER_MS, 4243, 0);
	flows_add(t, &x);
	flows_tick(t, T0 + 2 * NS_PER_S);
	s = snap_new(t, T0 + 2 * NS_PER_S);
	rows_derive(s, GROUP_FLOW, NULL, SORT_COUNT, 1, 0, &v);
	export_json(mem_open(&m), &v, GROUP_FLOW, &st);
	out = mem_close(&m);
	CHECK("synrt.json.counted",
	      strstr(out, "\"last_seen\":\"2023-11-14T22:13:20.500Z\",\"syn_retrans\":"
			  "{\"connects\":3,\"total\":7,\"hist\":[2,1,1,1]}}") != NULL);
	CHECK("synrt.json.udp_absent",
	      strstr(out, "\"last_seen\":\"2023-11-14T22:13:20.600Z\"}]}") != NULL);
	free(out);
	export_csv(mem_open(&m), &v, GROUP_FLOW, &st);
	out = mem_close(&m);
	CHECK("synrt.csv.counted", strstr(out, ",2023-11-14T22:13:20.500Z,0,3,7,,,\n") != NULL);
	CHECK("synrt.csv.udp_empty", strstr(out, ",2023-11-14T22:13:20.600Z,0,,,,,\n") != NULL);
	free(out);
	rows_free(&v);
	snap_free(s);
	flows_free(t);
}

/* The name a flow's process resolved: JSON "qname" with its chain and the
 * host-wide mark, absent without one (a later connect without a name
 * keeps it); CSV's three columns; the header's dns counts. */
static void test_qname(void)
{
	struct ct_flows *t = flows_new(10);
	struct flow_key a = key("curl", "10.0.0.1", 443, P_TCP),
			b = key("wget", "10.0.0.2", 80, P_TCP),
			c = key("nc", "10.0.0.3", 80, P_TCP);
	struct ct_stats st = stats();
	struct ct_sample x;
	struct ct_snap *s;
	struct ct_rows v;
	struct ck_mem m;
	char *out;

	flows_tick(t, T0);
	x = sample(a, T0 + 500 * NS_PER_MS, 4242, 0);
	x.qname = ct_qname_value("www.test\tcdn.test\tedge.test", 0);
	flows_add(t, &x);
	x = sample(a, T0 + 510 * NS_PER_MS, 4242, 0); /* no name this time: kept */
	flows_add(t, &x);
	x = sample(b, T0 + 600 * NS_PER_MS, 4243, 0);
	x.qname = ct_qname_value("odd\\092name.test\t+3", 1);
	flows_add(t, &x);
	x = sample(c, T0 + 700 * NS_PER_MS, 4244, 0);
	flows_add(t, &x);
	flows_tick(t, T0 + 2 * NS_PER_S);
	s = snap_new(t, T0 + 2 * NS_PER_S);
	rows_derive(s, GROUP_FLOW, NULL, SORT_COMM, 0, 0, &v);
	st.dns_on = 1;
	st.dns_answers = 7;
	st.dns_hostwide = 1;
	st.dns_unseen = 2;
	st.dns_drops = 3;
	st.dns_evicted = 4;
	st.dns_not_kept = 5;
	st.dns_truncated = 1;
	st.dns_tcp = 8;
	st.dns_capturing = 1;
	st.dns_arms = 6;
	export_json(mem_open(&m), &v, GROUP_FLOW, &st);
	out = mem_close(&m);
	CHECK("qname.json.header",
	      strstr(out, "\"flows\":2,\"dns\":{\"answers\":7,\"hostwide\":1,\"unseen\":2,"
			  "\"drops\":3,\"evicted\":4,\"not_kept\":5,\"truncated\":1,"
			  "\"tcp\":8,\"capturing\":true,"
			  "\"arms\":6},\"rows\":[") != NULL);
	CHECK("qname.json.chain",
	      strstr(out, "\"last_seen\":\"2023-11-14T22:13:20.510Z\",\"qname\":\"www.test\","
			  "\"qname_chain\":[\"cdn.test\",\"edge.test\"]}") != NULL);
	CHECK("qname.json.hostwide_cut",
	      strstr(out, "\"qname\":\"odd\\\\092name.test\",\"qname_hostwide\":true,"
			  "\"qname_chain_cut\":3}") != NULL);
	CHECK("qname.json.absent",
	      strstr(out, "\"last_seen\":\"2023-11-14T22:13:20.700Z\"}") != NULL);
	free(out);
	export_csv(mem_open(&m), &v, GROUP_FLOW, &st);
	out = mem_close(&m);
	CHECK("qname.csv.chain",
	      strstr(out, ",2023-11-14T22:13:20.510Z,0,,,www.test,0,cdn.test>edge.test\n") != NULL);
	CHECK("qname.csv.hostwide", strstr(out, ",0,,,odd\\092name.test,1,\n") != NULL);
	CHECK("qname.csv.none", strstr(out, ",2023-11-14T22:13:20.700Z,0,,,,,\n") != NULL);
	free(out);
	export_table(mem_open(&m), &v, GROUP_FLOW, &st, 0);
	out = mem_close(&m);
	CHECK("qname.table.dns",
	      strstr(out, "group flow  dns answers 7 unseen 2 drops 3 evicted 4 tcp 8\n") != NULL);
	free(out);
	rows_free(&v);
	snap_free(s);
	flows_free(t);
}

/* A (process, *) row: its destination "*" with the flows folded into it,
 * in every format; its header count. */
static void test_folded(void)
{
	struct ct_flows *t = flows_new(2);
	struct ct_stats st = stats();
	struct ct_snap *s;
	struct ct_rows v;
	struct ck_mem m;
	char *json, *csv, *tab;

	flows_tick(t, T0);
	for (int i = 0; i < 5; i++) /* 3 one-offs go to (scan, *) */
		add_n(t, key("scan", "10.0.0.1", 1 + i, P_UDP), 1, T0 + i, 9, 0);
	s = snap_new(t, T0 + NS_PER_S);
	st.evicted = flows_evicted(t);
	st.folded = flows_folded(t);
	st.flows = flows_count(t);
	rows_derive(s, GROUP_FLOW, NULL, SORT_COUNT, 1, 0, &v);
	export_json(mem_open(&m), &v, GROUP_FLOW, &st);
	json = mem_close(&m);
	export_csv(mem_open(&m), &v, GROUP_FLOW, &st);
	csv = mem_close(&m);
	export_table(mem_open(&m), &v, GROUP_FLOW, &st, 0);
	tab = mem_close(&m);
	ck_contains("folded.json_header", json, "\"evicted\":3,\"folded\":3,\"flows\":2,");
	ck_contains(
		"folded.json_row", json,
		"{\"comm\":\"scan\",\"pid\":9,\"pids\":1,\"uid\":1000,\"daddr\":\"*\",\"dport\":0,");
	ck_contains("folded.json_family", json, "\"family\":\"*\",\"count\":3,");
	ck_contains("folded.json_folded_last", json, "Z\",\"folded\":3}");
	CHECK("folded.json_only_on_its_row",
	      strstr(json, "\"folded\":") &&
		      !strstr(strstr(json, "\"folded\":3}") + 1, "\"folded\""));
	ck_contains("folded.csv_row", csv, ",scan,9,1,1000,*,0,*,*,3,");
	ck_contains("folded.csv_folded", csv, "Z,3,,,,,\n");
	ck_contains("folded.csv_others_0", csv, "Z,0,,,,,\n");
	ck_contains("folded.table_dest", tab, "*(3)");
	free(json);
	free(csv);
	free(tab);
	rows_free(&v);
	snap_free(s);
	flows_free(t);
}

/* a baseline's marks, as the view gives them: worse for port 443, none
 * for the other (its p99s unknown) */
static enum ct_change mark_of(void *ctx, const struct ct_row *r, struct ct_change_info *c)
{
	(void)ctx;
	memset(c, 0, sizeof(*c));
	c->p99_before_us = c->p99_after_us = -1;
	if (r->key.dport != 443)
		return CHG_NONE;
	*c = (struct ct_change_info){ .kind = CHG_WORSE,
				      .why = CHG_WHY_FAIL | CHG_WHY_P99,
				      .before_n = 50,
				      .before_fail = 1,
				      .since_n = 10,
				      .since_fail = 4,
				      .share_before = 0.02,
				      .share_after = 0.4,
				      .p99_before_us = 1000,
				      .p99_after_us = 25000.5 };
	return c->kind;
}

/* the e key's files with a baseline: its time, each row's change after
 * the row's own keys (JSON) or columns (CSV) */
static void test_changes(void)
{
	struct ct_flows *t = table("curl", 4);
	struct ct_snap *s = snap_new(t, T0 + 2 * NS_PER_S);
	struct ct_stats st = stats();
	struct export_changes ch = { mark_of, NULL, UNIX0 };
	struct ct_rows v;
	struct ck_mem m;
	char *out;

	rows_derive(s, GROUP_FLOW, NULL, SORT_COUNT, 1, 0, &v);
	CHECK_I("changes.json_rc", 0, export_json_changes(mem_open(&m), &v, GROUP_FLOW, &st, &ch));
	out = mem_close(&m);
	CHECK("changes.json_baseline",
	      strstr(out, "\"flows\":2,\"baseline\":\"2023-11-14T22:13:20.000Z\",\"rows\":[") !=
		      NULL);
	ck(strstr(out,
		  ",\"change\":\"worse\",\"why\":[\"fail\",\"p99\"],\"before\":{"
		  "\"completed\":50,\"failures\":1,\"fail_share\":0.0200,\"lat_p99_us\":1000.0},"
		  "\"since\":{\"completed\":10,\"failures\":4,\"fail_share\":0.4000,"
		  "\"lat_p99_us\":25000.5}}") != NULL,
	   "changes.json_worse", "%s", out);
	ck(strstr(out, ",\"change\":null,\"why\":[],\"before\":{\"completed\":0,\"failures\":0,"
		       "\"fail_share\":0.0000,\"lat_p99_us\":null},\"since\":{") != NULL,
	   "changes.json_none", "%s", out);
	free(out);
	/* without: the file as before, no key of the marks */
	export_json_changes(mem_open(&m), &v, GROUP_FLOW, &st, NULL);
	out = mem_close(&m);
	CHECK("changes.json_without", !strstr(out, "baseline") && !strstr(out, "change"));
	free(out);
	mem_open(&m);
	export_csv_header_changes(m.f, GROUP_FLOW, &ch);
	export_csv_changes(m.f, &v, GROUP_FLOW, &st, &ch);
	out = mem_close(&m);
	CHECK("changes.csv_header",
	      strstr(out, ",qname_chain,change,before_completed,before_failures,since_completed,"
			  "since_failures,before_fail_share,since_fail_share,before_lat_p99_us,"
			  "since_lat_p99_us\n") != NULL);
	ck(strstr(out, ",worse,50,1,10,4,0.0200,0.4000,1000.0,25000.5\n") != NULL,
	   "changes.csv_worse", "%s", out);
	ck(strstr(out, ",,0,0,0,0,0.0000,0.0000,,\n") != NULL, "changes.csv_none", "%s", out);
	{
		int fields = 0;

		CHECK("changes.csv_rectangular", csv_rectangular(out, &fields));
	}
	free(out);
	rows_free(&v);
	snap_free(s);
	flows_free(t);
}

int main(void)
{
	test_changes();
	test_json_csv();
	test_syn_retrans();
	test_qname();
	test_pending_age();
	test_parse_with_jq();
	test_hostile();
	test_distinct();
	test_unix_names();
	test_table();
	test_write_errors();
	test_atomic();
	test_folded();
	return ck_done();
}
