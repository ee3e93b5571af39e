// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * diff.c: exports read back (the exporter's own output, so that the two
 * cannot drift apart), compared with the baseline's rules, and hostile
 * files: truncated at every byte, wrong types, huge numbers, deep
 * nesting, a newer schema, another view, controls in strings.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "diff.h"
#include "export.h"
#include "snap.h"

#define S 1000000000ULL

/* the JSON export of t's flows, as -b -o json writes it (caller frees) */
static char *export_of(struct ct_flows *t, uint64_t now)
{
	struct ct_snap *s = snap_new(t, now);
	struct ct_stats st = { 0 };
	struct ct_rows v;
	struct ck_mem m;

	if (!s || rows_derive(s, GROUP_FLOW, NULL, SORT_COUNT, 1, 0, &v))
		abort();
	st.now_unix_ns = 1700000000ULL * S;
	export_json(mem_open(&m), &v, GROUP_FLOW, &st);
	rows_free(&v);
	snap_free(s);
	return mem_close(&m);
}

static const struct diff_row *find(const struct diff_side *s, const char *comm, unsigned port)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->rows[i].comm, comm) && s->rows[i].dport == port)
			return &s->rows[i];
	return NULL;
}

static void test_roundtrip(void)
{
	struct ct_flows *t = flows_new(100);
	struct flow_key a = key("curl", "10.0.0.1", 443, 6), n = key("curl", "10.0.0.2", 443, 6);
	struct flow_key q = key("dig", "10.0.0.3", 53, 17);
	struct diff_side A, B;
	struct ct_change_info c;
	char *ja, *jb, *out, err[256] = "";
	struct ck_mem m;

	add_n(t, a, 49, S, 1, 0);
	add_n(t, a, 1, S, 1, -ECONNREFUSED);
	add_n(t, q, 10, S, 2, 0);
	ja = export_of(t, 2 * S);
	add_n(t, a, 6, 3 * S, 1, 0);
	add_n(t, a, 4, 3 * S, 1, -ECONNREFUSED);
	add_n(t, n, 2, 3 * S, 4, 0);
	jb = export_of(t, 4 * S);
	CHECK_I("parse A", 0, diff_parse(ja, strlen(ja), &A, err, sizeof(err)));
	CHECK_I("parse B", 0, diff_parse(jb, strlen(jb), &B, err, sizeof(err)));
	CHECK_U("A: two flows", 2, A.n);
	CHECK_U("B: three flows", 3, B.n);
	CHECK_U("A: curl count", 50, find(&A, "curl", 443) ? find(&A, "curl", 443)->count : 0);
	CHECK_U("A: curl failures", 1, find(&A, "curl", 443) ? find(&A, "curl", 443)->fail : 0);
	CHECK_I("curl: worse", CHG_WORSE,
		diff_compare(find(&A, "curl", 443), &B.rows[0], &c)); /* B sorted by count */
	CHECK_U("curl: since", 10, c.since_n);
	CHECK_U("curl: since fail", 4, c.since_fail);
	out = (diff_write(mem_open(&m), &A, &B, DIFF_JSON), mem_close(&m));
	ck_contains(
		"json: worse with its numbers", out,
		"\"change\":\"worse\",\"why\":[\"fail\"],\"comm\":\"curl\",\"daddr\":\"10.0.0.1\"");
	ck_contains("json: before", out,
		    "\"before\":{\"completed\":50,\"failures\":1,\"fail_share\":0.0200");
	ck_contains("json: since", out,
		    "\"since\":{\"completed\":10,\"failures\":4,\"fail_share\":0.4000");
	ck_contains("json: new", out,
		    "\"change\":\"new\",\"why\":[],\"comm\":\"curl\",\"daddr\":\"10.0.0.2\"");
	ck_contains("json: silent", out, "\"change\":\"silent\",\"why\":[],\"comm\":\"dig\"");
	free(out);
	out = (diff_write(mem_open(&m), &A, &B, DIFF_TEXT), mem_close(&m));
	ck_contains("text: worse cell", out, "worse 2%\u219240%");
	free(out);
	out = (diff_write(mem_open(&m), &A, &B, DIFF_CSV), mem_close(&m));
	ck_contains("csv: worse row", out, "\nworse,curl,10.0.0.1,443,tcp,50,1,10,4,");
	free(out);
	/* B against itself: nothing but silence */
	out = (diff_write(mem_open(&m), &B, &B, DIFF_CSV), mem_close(&m));
	ck_lacks("same file: no worse", out, "worse");
	ck_lacks("same file: no new", out, "\nnew,");
	ck_contains("same file: silent rows", out, "\nsilent,curl,10.0.0.1,443,tcp,");
	free(out);
	/* gone: A's flow absent from B */
	out = (diff_write(mem_open(&m), &B, &A, DIFF_CSV), mem_close(&m));
	ck_contains("reverse: the new flow is gone", out, "\ngone,curl,10.0.0.2,443,tcp,2,0,0,0,");
	free(out);
	/* every truncation of a real export is an error, never a crash */
	for (size_t k = 0; k + 1 < strlen(jb); k++) {
		struct diff_side x;
		int rc = diff_parse(jb, k, &x, err, sizeof(err));

		if (rc != -EINVAL)
			ck(0, nm("truncated at %zu", k), "rc %d", rc);
		diff_side_free(&x);
	}
	CHECK("truncations: all refused", 1);
	diff_side_free(&A);
	diff_side_free(&B);
	free(ja);
	free(jb);
	flows_free(t);
}

static void bad(const char *json, const char *mention)
{
	struct diff_side x;
	char err[256] = "";
	char *e = ck_esc(json, strlen(json) > 60 ? 60 : strlen(json));

	CHECK_I(nm("bad[%s]: refused", e), -EINVAL,
		diff_parse(json, strlen(json), &x, err, sizeof(err)));
	ck(strstr(err, mention) != NULL, nm("bad[%s]: says %s", e, mention), "got \"%s\"", err);
	diff_side_free(&x);
	free(e);
}

#define HEAD "{\"version\":1,\"group\":\"flow\",\"rows\":["

static void test_hostile(void)
{
	char deep[400];
	struct diff_side x;
	char err[256];

	bad("", "expected '{'");
	bad("[]", "expected '{'");
	bad("{\"version\":2,\"group\":\"flow\",\"rows\":[]}", "schema version 2");
	bad("{\"version\":\"1\",\"group\":\"flow\",\"rows\":[]}", "expected a number");
	bad("{\"version\":1,\"group\":\"process\",\"rows\":[]}", "compares flows");
	bad("{\"version\":1,\"group\":\"flow\"}", "no \"group\" or \"rows\"");
	bad("{\"group\":\"flow\",\"rows\":[]}", "no \"version\"");
	bad(HEAD "{\"count\":\"12\"}]}", "expected a number");
	bad(HEAD "{\"count\":-1}]}", "whole number");
	bad(HEAD "{\"count\":1.5}]}", "whole number");
	bad(HEAD "{\"count\":1e300}]}", "whole number");
	bad(HEAD "{\"count\":1e999}]}", "out-of-range");
	bad(HEAD "{\"count\":99999999999999999999}]}", "whole number");
	bad(HEAD "{\"dport\":70000}]}", "above 65535");
	bad(HEAD "{\"comm\":12}]}", "expected a string");
	bad(HEAD "{\"results\":[1]}]}", "results must be an object");
	bad(HEAD "{\"results\":{\"refused\":18446744073709551615}}]}", "whole number");
	bad(HEAD "{\"lat_p99_us\":-5}]}", "negative latency");
	bad(HEAD "{\"comm\":\"a\x1b[2Jb\"}]}", "control byte");
	bad(HEAD
	    "{\"comm\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]}",
	    "longer than");
	bad(HEAD "1]}", "a row must be an object");
	bad(HEAD "]}x", "text after");
	bad(HEAD "]", "truncated");
	bad("{\"version\":1,\"group\":\"flow\",\"rows\":[],\"x\":tru}", "expected a value");
	/* deep nesting in a skipped field */
	strcpy(deep, "{\"version\":1,\"group\":\"flow\",\"rows\":[],\"x\":");
	for (int i = 0; i < 100; i++)
		strcat(deep, "[");
	bad(deep, "nested deeper");
	/* unknown fields of any shape are skipped */
	{
		static const char ok[] = HEAD
			"{\"comm\":\"a\\\"b\",\"dport\":1,"
			"\"new\":{\"x\":[1,true,null,\"s\\u0041\"]}}],\"more\":{}}";

		CHECK_I("unknown fields: read", 0,
			diff_parse(ok, strlen(ok), &x, err, sizeof(err)));
		CHECK_S("escaped quote read", "a\"b", x.n ? x.rows[0].comm : "");
	}
	diff_side_free(&x);
}

/* A process named as a formula (a spreadsheet would run it): --diff -o
 * csv writes its name as -o csv does, made text with a leading
 * apostrophe and quoted, never as it is */
static void test_csv_formula(void)
{
	static const struct {
		const char *comm, *field;
	} names[] = {
		{ "=cmd|' /C calc'", "\"'=cmd|' /C calc'\"" },
		{ "+1+1", "\"'+1+1\"" },
		{ "-2", "\"'-2\"" },
		{ "@SUM(A1)", "\"'@SUM(A1)\"" },
		{ "a,b", "\"a,b\"" },
	};
	struct ct_flows *t = flows_new(100);
	struct diff_side A, B;
	char *ja, *jb, *csv, *out, err[256] = "";
	struct ct_stats st = { 0 };
	struct ct_snap *s;
	struct ct_rows v;
	struct ck_mem m;

	add_n(t, key("curl", "127.0.0.1", 80, 6), 3, S, 1, 0);
	ja = export_of(t, 2 * S);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		add_n(t, key(names[i].comm, "127.0.0.1", 80, 6), 2, 3 * S, 2, -ECONNREFUSED);
	jb = export_of(t, 4 * S);
	/* -o csv of the same flows */
	s = snap_new(t, 4 * S);
	if (!s || rows_derive(s, GROUP_FLOW, NULL, SORT_COUNT, 1, 0, &v))
		abort();
	csv = (export_csv(mem_open(&m), &v, GROUP_FLOW, &st), mem_close(&m));
	rows_free(&v);
	snap_free(s);
	CHECK_I("formula: parse A", 0, diff_parse(ja, strlen(ja), &A, err, sizeof(err)));
	CHECK_I("formula: parse B", 0, diff_parse(jb, strlen(jb), &B, err, sizeof(err)));
	out = (diff_write(mem_open(&m), &A, &B, DIFF_CSV), mem_close(&m));
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char want[96];

		snprintf(want, sizeof(want), ",%s,", names[i].field);
		ck_contains(nm("formula %s: -o csv", names[i].comm), csv, want);
		snprintf(want, sizeof(want), "\nnew,%s,127.0.0.1,80,tcp,0,0,2,2,", names[i].field);
		ck_contains(nm("formula %s: --diff -o csv, the same field", names[i].comm), out,
			    want);
	}
	/* no field of either starts with a formula character unquoted */
	for (const char *p = "=+-@"; *p; p++) {
		char bare[3] = { ',', *p, 0 };

		ck_lacks(nm("formula: no bare ,%c in --diff csv", *p), out, bare);
		ck_lacks(nm("formula: no bare ,%c in -o csv", *p), csv, bare);
	}
	diff_side_free(&A);
	diff_side_free(&B);
	free(ja);
	free(jb);
	free(csv);
	free(out);
	flows_free(t);
}

int main(void)
{
	test_roundtrip();
	test_hostile();
	test_csv_formula();
	printf("%d passed, %d failed\n", ck_checks - ck_fails, ck_fails);
	return ck_done();
}
