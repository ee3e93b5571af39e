// SPDX-License-Identifier: GPL-2.0-or-later
/* filter.c: every term type, negation, AND, and the errors. */
#include <errno.h>

#include "check.h"
#include "filter.h"

#define NROWS 7
static struct ct_row rows[NROWS];
static struct ct_row_more more[NROWS];
static const uint32_t pids_r1[] = { 100, 150 };

static void row(int i, const char *comm, const char *addr, unsigned dport, unsigned proto,
		uint32_t pid, uint32_t uid)
{
	struct ct_row *r = &rows[i];

	memset(r, 0, sizeof(*r));
	memset(&more[i], 0, sizeof(more[i]));
	r->more = &more[i];
	r->key = key(comm, addr, dport, proto);
	r->pid = pid;
	r->uid = uid;
	r->count = 1;
	r->nflows = 1;
}

static void setup(void)
{
	row(0, "curl", "10.1.2.3", 443, P_TCP, 150, 1000); /* r1 */
	more[0].pids = pids_r1;
	rows[0].npids = 2;
	rows[0].results[RES_OK] = 1;
	row(1, "Firefox", "192.168.1.10", 8080, P_TCP, 200, 0); /* r2 */
	rows[1].results[RES_REFUSED] = 1;
	row(2, "dig", "fd00::53", 53, P_UDP, 300, 53); /* r3 */
	rows[2].results[RES_PENDING] = 1;
	row(3, "ssh", "::1", 22, P_TCP, 400, 1000);	   /* r4 */
	row(4, "app", "1.2.3.4", 80, P_TCP, 500, 33);	   /* r5 */
	row(5, "app", "1.2.3.5", 80, P_TCP, 501, 33);	   /* r6 */
	row(6, "web", "2001:db8::80", 80, P_TCP, 600, 33); /* r7 */
	rows[6].results[RES_TIMEOUT] = 1;
}

/* the cgroup of a pid, for cgroup: terms (NULL: no cgroup hook) */
static filter_cgroup_fn cgroup_fn;
static int cgroup_calls;

static const char *cgroup_of(void *ctx, unsigned pid, const char *comm)
{
	(void)comm;
	(*(int *)ctx)++;
	switch (pid) {
	case 150:
		return "/system.slice/nginx.service";
	case 200:
		return "/system.slice/docker-ABC123.scope";
	default:
		return NULL;
	}
}

/* which rows match, as "1 2 5" (row numbers from 1) */
static void matches(const char *expr, const char *want)
{
	char err[256] = "", got[64] = "";
	struct ct_filter *f = filter_new(expr, err, sizeof(err));
	char *e = ck_esc(expr, strlen(expr));

	if (f && cgroup_fn)
		filter_set_cgroup_fn(f, cgroup_fn, &cgroup_calls);

	if (!f) {
		ck(0, nm("filter.match[%s]%s", e, cgroup_fn ? ".hooked" : ""),
		   "filter_new failed: %s", err);
		free(e);
		return;
	}
	for (int i = 0; i < NROWS; i++)
		if (filter_match(f, &rows[i]))
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%d",
				 *got ? " " : "", i + 1);
	ck(!strcmp(got, want), nm("filter.match[%s]%s", e, cgroup_fn ? ".hooked" : ""),
	   "expected rows \"%s\", got \"%s\"", want, got);
	free(e);
	filter_free(f);
}

/* expr must be rejected with EINVAL and a message containing mention */
static void invalid(const char *expr, const char *mention)
{
	char err[256] = "";
	struct ct_filter *f;
	char *e = ck_esc(expr, strlen(expr));

	errno = 0;
	f = filter_new(expr, err, sizeof(err));
	ck(!f, nm("filter.invalid[%s].null", e), "expected NULL, got a filter");
	ck(errno == EINVAL, nm("filter.invalid[%s].errno", e), "expected errno EINVAL (%d), got %d",
	   EINVAL, errno);
	ck(strstr(err, mention) != NULL, nm("filter.invalid[%s].message", e),
	   "expected the message to name \"%s\", got \"%s\"", mention, err);
	filter_free(f);
	free(e);
}

/* --unix rows: proto: terms and text on the path */
static void test_unix(void)
{
	static const struct {
		const char *expr;
		int want[3]; /* stream /run/db.sock, dgram @ns, tcp */
	} cases[] = {
		{ "proto:unix", { 1, 1, 0 } },	{ "proto:UNIX", { 1, 1, 0 } },
		{ "proto:u_str", { 1, 0, 0 } }, { "proto:u_dgr", { 0, 1, 0 } },
		{ "proto:u_seq", { 0, 0, 0 } }, { "!proto:unix", { 0, 0, 1 } },
		{ "db.sock", { 1, 0, 0 } },	{ "@ns", { 0, 1, 0 } },
		{ "proto:tcp", { 0, 0, 1 } },	{ "net:0.0.0.0/0", { 0, 0, 1 } },
		{ "port:0", { 1, 1, 0 } },	{ "proto:icmp", { 0, 0, 0 } },
		{ "proto:TCP", { 0, 0, 1 } },
	};
	struct ct_row_more m[3] = {};
	struct ct_row r[3] = {};
	char err[256];

	r[0].key = key("psql", "1.1.1.1", 0, CT_PROTO_UNIX | 1);
	r[0].key.family = CT_FAMILY_UNIX;
	ct_unix_key_set(r[0].key.daddr, ct_unix_path_id("/run/db.sock", 12));
	r[1].key = key("resolved", "1.1.1.1", 0, CT_PROTO_UNIX | 2);
	r[1].key.family = CT_FAMILY_UNIX;
	ct_unix_key_set(r[1].key.daddr, ct_unix_path_id("\0ns", 3));
	r[2].key = key("curl", "10.0.0.1", 443, P_TCP);
	for (int i = 0; i < 3; i++)
		r[i].more = &m[i];
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		struct ct_filter *f = filter_new(cases[c].expr, err, sizeof(err));

		for (int i = 0; i < 3; i++)
			CHECK_U(nm("filter.unix[%s].row%d", cases[c].expr, i + 1), cases[c].want[i],
				f && filter_match(f, &r[i]));
		filter_free(f);
	}
}

/* result classes by name, errno terms */
static void test_results(void)
{
	static const struct {
		const char *expr;
		const char *want;
	} cases[] = {
		{ "ok", "1 6" },
		{ "refused", "2" },
		{ "timeout", "3" },
		{ "unreach", "4" },
		{ "unreachable", "4" },
		{ "pending", "5" },
		{ "other", "6" },
		{ "!timeout", "1 2 4 5 6" },
		{ "!ok", "2 3 4 5" },
		{ "fail !refused", "3 4 6" },
		{ "refused timeout", "" },
		{ "err:ECONNREFUSED", "2" },
		{ "err:econnrefused", "2" },
		{ "err:E111", "2" },
		{ "err:111", "2" },
		{ "err:ETIMEDOUT", "3" },
		{ "err:EHOSTUNREACH", "4" },
		{ "err:ECONNABORTED", "6" },
		{ "err:ENETUNREACH", "" },
		{ "!err:ECONNREFUSED", "1 3 4 5 6" },
		{ "timeout err:ETIMEDOUT", "3" },
		/* the errno in the second slot is found too */
		{ "err:EACCES", "6" },
	};
	struct ct_row_more m[6] = {};
	struct ct_row r[6] = {};
	char err[256];
	int abandoned = -1;

	for (int i = 0; i < 6; i++) {
		r[i].key = key("app", "10.0.0.1", 80 + i, P_TCP);
		r[i].more = &m[i];
	}
	r[0].results[RES_OK] = 3;
	r[1].results[RES_REFUSED] = 2;
	m[1].errs[0] = (struct ct_errcount){ ECONNREFUSED, 2 };
	r[2].results[RES_TIMEOUT] = 1;
	m[2].errs[0] = (struct ct_errcount){ ETIMEDOUT, 1 };
	r[3].results[RES_UNREACH] = 1;
	m[3].errs[0] = (struct ct_errcount){ EHOSTUNREACH, 1 };
	r[4].results[RES_PENDING] = 1;
	r[5].results[RES_OK] = 1;
	r[5].results[RES_OTHER] = 2;
	m[5].errs[0] = (struct ct_errcount){ ECONNABORTED, 1 };
	m[5].errs[1] = (struct ct_errcount){ EACCES, 1 };
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		struct ct_filter *f = filter_new(cases[c].expr, err, sizeof(err));
		char got[32] = "";

		for (int i = 0; i < 6; i++)
			if (f && filter_match(f, &r[i]))
				snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%d",
					 *got ? " " : "", i + 1);
		ck(f && !strcmp(got, cases[c].want), nm("filter.result[%s]", cases[c].expr),
		   "expected rows \"%s\", got \"%s\" (%s)", cases[c].want, got, f ? "" : err);
		filter_free(f);
	}

	/* "timeout" also means an application's own timeout, the class
	 * "abandoned", once ct_result_names has it; until then "abandoned"
	 * is text like any other word */
	for (int i = 0; i < RES_MAX; i++)
		if (!strcmp(ct_result_names[i], "abandoned"))
			abandoned = i;
	memset(&r[0], 0, sizeof(r[0]));
	r[0].more = &m[0];
	if (abandoned >= 0) {
		r[0].key = key("app", "10.0.0.1", 80, P_TCP);
		r[0].results[abandoned] = 1;
		for (int i = 0; i < 2; i++) {
			struct ct_filter *f =
				filter_new(i ? "abandoned" : "timeout", err, sizeof(err));

			CHECK(nm("filter.result.abandoned_by_%s", i ? "name" : "timeout"),
			      f && filter_match(f, &r[0]));
			filter_free(f);
		}
	} else {
		struct ct_filter *f = filter_new("abandoned", err, sizeof(err));

		r[0].key = key("abandoned-job", "10.0.0.1", 80, P_TCP);
		CHECK("filter.result.abandoned_is_text_until_a_class", f && filter_match(f, &r[0]));
		filter_free(f);
	}
}

/* a long expression is one filter to its last term (the view's copy was
 * cut to 127 bytes: terms after that were dropped without a word) */
static void test_long_expression(void)
{
	char expr[400] = "", err[256];
	struct ct_filter *f;
	int n = 0;

	while (strlen(expr) < 300)
		n += snprintf(expr + n, sizeof(expr) - n, "!nomatch%02d ", n / 12);
	snprintf(expr + n, sizeof(expr) - n, "port:443");
	f = filter_new(expr, err, sizeof(err));
	CHECK("filter.long.parses", f != NULL);
	CHECK("filter.long.over_300_bytes", strlen(expr) > 300);
	CHECK("filter.long.last_term_counts", f && filter_match(f, &rows[0]));
	CHECK("filter.long.last_term_excludes", f && !filter_match(f, &rows[1]));
	filter_free(f);
	/* and a wrong last term is an error, not dropped */
	snprintf(expr + n, sizeof(expr) - n, "port:99999");
	invalid(expr, "port:99999");
}

/* one protocol table: every name it gives for a number reads back as that
 * number, and a number not in it gets a name the table does not read */
static void test_proto_table(void)
{
	static const unsigned nums[] = { 6,
					 17,
					 136,
					 262,
					 1,
					 58,
					 CT_PROTO_UNIX | 1,
					 CT_PROTO_UNIX | 2,
					 CT_PROTO_UNIX | 5,
					 132,
					 CT_PROTO_UNIX | 3 };
	char buf[32];

	for (size_t i = 0; i < ARRAY_SIZE(nums); i++) {
		const char *n = ct_proto_name(nums[i], buf, sizeof(buf));
		long back = ct_proto_of_name(n);

		ck(i < 9 ? back == (long)nums[i] : back == -1, nm("proto_table[%u]", nums[i]),
		   "name \"%s\" reads back as %ld", n, back);
	}
	CHECK_S("proto_table.unknown_ip", "ipproto-132", ct_proto_name(132, buf, sizeof(buf)));
	CHECK_S("proto_table.unknown_unix", "unix-3",
		ct_proto_name(CT_PROTO_UNIX | 3, buf, sizeof(buf)));
	CHECK_U("proto_table.case", 17, ct_proto_of_name("UDP"));
}

/* new, worse, silent: the row's change from a hook (row i: change i % 5,
 * so r2 new, r3 worse, r4 silent, r5 gone, r6 none) */
static int change_of(void *ctx, const struct ct_row *r)
{
	(void)ctx;
	return (int)((r - rows) % 5);
}

static void change(const char *expr, int hooked, const char *want)
{
	char err[256] = "", got[64] = "";
	struct ct_filter *f = filter_new(expr, err, sizeof(err));

	if (!f) {
		ck(0, nm("filter.change[%s]", expr), "filter_new failed: %s", err);
		return;
	}
	CHECK(nm("filter.change[%s].not rows only", expr), !filter_rows_only(f));
	CHECK(nm("filter.change[%s].uses change", expr), filter_uses_change(f));
	if (hooked)
		filter_set_change_fn(f, change_of, NULL);
	for (int i = 0; i < NROWS; i++)
		if (filter_match(f, &rows[i]))
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%d",
				 *got ? " " : "", i + 1);
	ck(!strcmp(got, want), nm("filter.change[%s]%s", expr, hooked ? ".hooked" : ""),
	   "expected rows \"%s\", got \"%s\"", want, got);
	filter_free(f);
}

static void test_change(void)
{
	change("new", 1, "2 7");
	change("worse", 1, "3");
	change("silent", 1, "4 5");
	change("gone", 1, "5");
	change("!gone", 1, "1 2 3 4 6 7");
	change("!new", 1, "1 3 4 5 6");
	change("new worse", 1, "");
	change("new", 0, "");
	change("!worse", 0, "1 2 3 4 5 6 7");
	invalid("new:1", "takes no value");
	invalid("worse:x", "takes no value");
	invalid("!!silent", "negated once");
	invalid("gone:1", "takes no value");
	{
		struct ct_filter *f = filter_new("port:1", NULL, 0);

		CHECK("filter.change: port is not a change term", f && !filter_uses_change(f));
		filter_free(f);
	}
}

int main(void)
{
	char err[256];
	struct ct_filter *f;

	test_unix();
	test_proto_table();

	setup();
	test_change();

	/* empty expressions match everything */
	f = filter_new("", err, sizeof(err));
	CHECK("filter.empty.parses", f != NULL);
	CHECK("filter.empty.is_empty", filter_empty(f));
	filter_free(f);
	f = filter_new(" \t ", err, sizeof(err));
	CHECK("filter.blank.is_empty", f && filter_empty(f));
	filter_free(f);
	CHECK("filter.null_filter_is_empty", filter_empty(NULL));
	CHECK("filter.null_filter_matches", filter_match(NULL, &rows[0]));
	f = filter_new("curl", err, sizeof(err));
	CHECK("filter.term_not_empty", f && !filter_empty(f));
	filter_free(f);
	matches("", "1 2 3 4 5 6 7");

	/* text: process name, any case */
	matches("curl", "1");
	matches("CURL", "1");
	matches("fox", "2");
	matches("FIRE", "2");
	matches("firefox", "2");
	matches("firefoxx", "");
	matches("p", "5 6");
	/* text: destination address */
	matches("192.168", "2");
	matches("1.2.3", "1 5 6");
	matches("FD00", "3");
	matches("db8", "7");
	/* an IPv6 address always has ':' in it: the text term must still find it */
	matches("fd00::53", "3");
	matches("::1", "4");

	/* port */
	matches("port:53", "3");
	matches("port:80", "5 6 7");
	matches("port:80-443", "1 5 6 7");
	matches("port:443-443", "1");
	matches("port:0-65535", "1 2 3 4 5 6 7");
	matches("port:1", "");

	/* protocol */
	matches("proto:udp", "3");
	matches("proto:tcp", "1 2 4 5 6 7");
	matches("proto:TCP", "1 2 4 5 6 7");

	/* networks */
	matches("net:10.0.0.0/8", "1");
	matches("net:192.168.0.0/16", "2");
	matches("net:1.2.3.4", "5");
	matches("net:1.2.3.4/32", "5");
	matches("net:1.2.3.4/31", "5 6");
	matches("net:1.2.3.0/24", "5 6");
	matches("net:10.1.2.0/31", "");
	matches("net:10.1.2.2/31", "1");
	matches("net:0.0.0.0/0", "1 2 5 6");
	matches("net:::1", "4");
	matches("net:::1/128", "4");
	matches("net:fd00::/8", "3");
	matches("net:fc00::/7", "3");
	matches("net:fe00::/8", "");
	matches("net:2001:db8::/32", "7");
	matches("net:::/0", "3 4 7");
	matches("net:::ffff:10.1.2.3", "1"); /* IPv4-mapped is IPv4 */
	/* an IPv4-mapped network: its prefix counts the 96 bits of ::ffff:,
	 * and it matches the IPv4 flows (a mapped connect is counted as one) */
	matches("net:::ffff:10.0.0.0/104", "1");
	matches("net:::FFFF:10.0.0.0/104", "1");
	matches("net:::ffff:1.2.3.4/127", "5 6");
	matches("net:::ffff:1.2.3.5/128", "6");
	matches("net:::ffff:1.2.3.5", "6");
	matches("net:::ffff:0:0/96", "1 2 5 6");
	matches("net:::ffff:a01:0/112", "1");
	matches("!net:::ffff:10.0.0.0/104", "2 3 4 5 6 7");

	/* pid: any pid of the row, not only the last one */
	matches("pid:150", "1");
	matches("pid:100", "1");
	matches("pid:500", "5");
	matches("pid:999", "");

	/* uid: the last uid */
	matches("uid:1000", "1 4");
	matches("uid:0", "2");
	matches("uid:33", "5 6 7");

	/* fail, pending */
	matches("fail", "2 7");
	matches("pending", "3");

	/* negation */
	matches("!fail", "1 3 4 5 6");
	matches("!pending", "1 2 4 5 6 7");
	matches("!curl", "2 3 4 5 6 7");
	matches("!port:80", "1 2 3 4");
	matches("!proto:tcp", "3");
	matches("!net:10.0.0.0/8", "2 3 4 5 6 7");
	matches("!pid:100", "2 3 4 5 6 7");
	matches("!uid:33", "1 2 3 4");

	/* several terms: AND, any whitespace between them */
	matches("app port:80 net:1.2.3.5", "6");
	matches("proto:tcp uid:1000", "1 4");
	matches("uid:1000 !ssh", "1");
	matches("app\tport:80", "5 6");
	matches("  port:80   !app  ", "7");
	matches("fail !refused", "7"); /* refused is the result class */
	matches("fail !refused port:8080", "");
	matches("curl ssh", "");

	/* cgroup: the last pid's cgroup contains the text, any case */
	matches("cgroup:nginx", ""); /* no hook: nothing matches */
	matches("!cgroup:nginx", "1 2 3 4 5 6 7");
	cgroup_fn = cgroup_of;
	matches("cgroup:nginx", "1");
	matches("cgroup:NGINX", "1");
	matches("cgroup:abc123", "2");
	matches("cgroup:system.slice", "1 2");
	matches("!cgroup:nginx", "2 3 4 5 6 7");
	matches("cgroup:slice port:443", "1");
	matches("cgroup:nomatch", "");
	CHECK("filter.cgroup.hook_called", cgroup_calls > 0);
	cgroup_fn = NULL;
	filter_set_cgroup_fn(NULL, cgroup_of, NULL); /* no filter: nothing to do, no crash */
	CHECK("filter.cgroup.null_filter_ok", 1);
	invalid("cgroup:", "cgroup:");

	/* errors: NULL, EINVAL, and the message names the term */
	invalid("port:99999", "port:99999");
	invalid("port:", "port:");
	invalid("port:-1", "port:-1");
	invalid("port:443-80", "port:443-80");
	invalid("port:80-", "port:80-");
	invalid("port:http", "port:http");
	invalid("proto:sctp", "proto:sctp");
	invalid("net:300.1.1.1/8", "net:300.1.1.1/8");
	invalid("net:10.0.0.0/33", "net:10.0.0.0/33");
	invalid("net:10.0.0.0/", "net:10.0.0.0/");
	invalid("net:10.0.0.0/-1", "net:10.0.0.0/-1");
	invalid("net:fd00::/129", "net:fd00::/129");
	invalid("net:", "net:");
	invalid("pid:abc", "pid:abc");
	invalid("pid:0", "pid:0");
	invalid("uid:-1", "uid:-1");
	invalid("foo:bar", "foo:");
	invalid("!", "'!'");
	invalid("curl port:99999 fail", "port:99999");
	invalid("curl !", "'!'");
	invalid("0123456789012345678901234567890123456789012345678901234567890123456789",
		"too long");
	invalid("net:::ffff:10.0.0.0/95", "IPv4-mapped network needs a prefix of 96 to 128");
	invalid("net:::ffff:0:0/0", "IPv4-mapped");
	/* it was taken for 10.0.0.0/8, but written so it is ::/8, IPv6 too */
	invalid("net:::ffff:10.0.0.0/8", "(::ffff:10.0.0.0/104 is 10.0.0.0/8)");
	invalid("net:::ffff:10.0.0.0/129", "net:::ffff:10.0.0.0/129");
	/* negated once: "!!curl" was "not containing !curl" */
	invalid("!!curl", "'!!curl': a term is negated once: write 'curl' or '!curl'");
	invalid("!!!curl", "write 'curl' or '!curl'");
	invalid("port:80 !!port:80", "'!!port:80'");
	/* numbers in terms: decimal digits only, as in options */
	invalid("pid:+5", "pid:+5");
	invalid("pid:0x10", "pid:0x10");
	invalid("pid:\n5", "bad pid");
	invalid("uid:-0", "uid:-0");
	invalid("uid:+0", "uid:+0");
	invalid("port:+80", "port:+80");
	invalid("port:80-+90", "port:80-+90");
	invalid("port:0x50", "port:0x50");
	invalid("net:10.0.0.0/+8", "net:10.0.0.0/+8");
	invalid("net:10.0.0.0/010x", "net:10.0.0.0/010x");
	/* errno terms */
	invalid("err:", "bad errno in 'err:'");
	invalid("err:ENOPE", "err:ENOPE");
	invalid("err:0", "err:0");
	invalid("err:+111", "err:+111");
	invalid("err:E", "err:E");
	invalid("err:4096", "err:4096");
	invalid("foo:bar", "err:");

	test_results();
	test_long_expression();
	return ck_done();
}
