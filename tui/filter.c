// SPDX-License-Identifier: GPL-2.0-or-later
#include "filter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qnames.h"
#include "row.h"
#include "util.h"

enum term_type {
	T_TEXT,
	T_PORT,
	T_PROTO,
	T_NET,
	T_PID,
	T_UID,
	T_FAIL,
	T_RESULT,
	T_ERR,
	T_CGROUP,
	T_CHANGE,
	T_HOST
};

_Static_assert(RES_MAX <= 32, "a term's result classes are a 32-bit mask");

struct term {
	enum term_type type;
	int negate;
	char text[64];	  /* T_TEXT, lower case */
	long lo, hi;	  /* T_PORT range, T_PROTO number, T_PID, T_UID, T_ERR errno */
	uint32_t results; /* T_RESULT: a bit per enum ct_result */
	int family;	  /* T_NET */
	uint8_t net[16];
	int prefix;
	char glob[128]; /* T_HOST, lower case (a term has at most 127 characters) */
};

struct ct_filter {
	filter_cgroup_fn cgroup_fn;
	void *cgroup_ctx;
	filter_change_fn change_fn;
	void *change_ctx;
	uint64_t id; /* unique among the filters made (filter_id) */
	size_t n;
	struct term terms[];
};

/*
 * The words for result classes: each name of ct_result_names ("refused",
 * "timeout", "pending", ...) is a term of its own, so a class added there
 * is one at once. Here, the other words a user says and the classes they
 * also stand for: "timeout" is also an application's own timeout (the
 * class "abandoned", once flows.c has it: until then the line adds
 * nothing). A result a name does not find is simply not in the mask.
 */
static const struct {
	const char *word, *result;
} result_words[] = {
	{ "timeout", "abandoned" },
	{ "unreach", "unreachable" },
};

static uint32_t result_mask(const char *w)
{
	uint32_t mask = 0;

	for (int i = 0; i < RES_MAX; i++) {
		if (!strcmp(w, ct_result_names[i]))
			mask |= 1u << i;
		for (size_t j = 0; j < ARRAY_SIZE(result_words); j++)
			if (!strcmp(w, result_words[j].word) &&
			    !strcmp(ct_result_names[i], result_words[j].result))
				mask |= 1u << i;
	}
	return mask;
}

/* 0, -1 (not an address or prefix) or -2 (IPv4-mapped, prefix below 96) */
static int parse_net(const char *v, struct term *t)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char buf[64], *slash;
	int is_mapped = 0;
	long prefix;

	if (strlen(v) >= sizeof(buf))
		return -1;
	strcpy(buf, v);
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	memset(t->net, 0, sizeof(t->net));
	if (inet_pton(AF_INET, buf, t->net) == 1)
		t->family = 4;
	else if (inet_pton(AF_INET6, buf, t->net) == 1)
		t->family = 6, is_mapped = !memcmp(t->net, mapped, sizeof(mapped));
	else
		return -1;
	prefix = t->family == 4 ? 32 : 128;
	if (slash && ct_parse_long(slash + 1, 0, prefix, &prefix))
		return -1;
	/* An IPv4-mapped network (::ffff:10.0.0.0/104) is the IPv4 network
	 * (10.0.0.0/8): IPv6 sockets' connects to mapped addresses are
	 * counted as IPv4 (ct_addr_normalize), so it matches those and the
	 * IPv4 sockets' alike. Below /96 it would hold IPv6 addresses too. */
	if (is_mapped) {
		if (prefix < 96)
			return -2;
		prefix -= 96;
	}
	t->family = ct_addr_normalize(t->family, t->net);
	t->prefix = (int)prefix;
	return 0;
}

static int parse_term(const char *w, struct term *t, char *err, size_t errlen)
{
	const char *v;

	memset(t, 0, sizeof(*t));
	if (*w == '!') {
		t->negate = 1;
		w++;
	}
	if (!*w) {
		snprintf(err, errlen, "'!' needs a term after it");
		return -1;
	}
	/* "!!curl" read as "not containing !curl" nobody means; as "curl" it
	 * is a typo kept silently: an error, and the two ways to say it */
	if (*w == '!') {
		snprintf(err, errlen, "'!%s': a term is negated once: write '%s' or '!%s'", w,
			 w + strspn(w, "!"), w + strspn(w, "!"));
		return -1;
	}
	if (!strcmp(w, "fail")) {
		t->type = T_FAIL;
		return 0;
	}
	/* what changed since a baseline (baseline.h): 1 new, 2 worse, 3
	 * silent (which takes in gone), 4 gone; the numbers are enum
	 * ct_change's */
	for (int c = 0; c < 4; c++) {
		static const char *const words[4] = { "new", "worse", "silent", "gone" };
		size_t n = strlen(words[c]);

		if (strncmp(w, words[c], n) || (w[n] && w[n] != ':'))
			continue;
		if (w[n]) {
			snprintf(err, errlen, "'%s': the term %s takes no value", w, words[c]);
			return -1;
		}
		t->type = T_CHANGE;
		t->lo = c + 1;
		return 0;
	}
	if ((t->results = result_mask(w))) {
		t->type = T_RESULT;
		return 0;
	}
	v = strchr(w, ':');
	/* an IPv6 address (fd00::53, ::1) is text, not key:value */
	if (v && strspn(w, "0123456789abcdefABCDEF:.") == strlen(w))
		v = NULL;
	if (!v) {
		size_t n = strlen(w);

		if (n >= sizeof(t->text)) {
			snprintf(err, errlen, "text term '%.20s...' is too long (max %zu)", w,
				 sizeof(t->text) - 1);
			return -1;
		}
		t->type = T_TEXT;
		for (size_t i = 0; i <= n; i++)
			t->text[i] = (w[i] >= 'A' && w[i] <= 'Z') ? w[i] + 32 : w[i];
		return 0;
	}
	v++;
	if (!strncmp(w, "port:", 5)) {
		char buf[16], *dash;

		t->type = T_PORT;
		if (strlen(v) >= sizeof(buf))
			goto bad_port;
		strcpy(buf, v);
		dash = strchr(buf, '-');
		if (dash)
			*dash = 0;
		if (ct_parse_long(buf, 0, 65535, &t->lo))
			goto bad_port;
		t->hi = t->lo;
		if (dash && (ct_parse_long(dash + 1, t->lo, 65535, &t->hi)))
			goto bad_port;
		return 0;
bad_port:
		snprintf(err, errlen, "bad port in '%s': expected port:N or port:N-M with 0..65535",
			 w);
		return -1;
	}
	if (!strncmp(w, "proto:", 6)) {
		t->type = T_PROTO;
		if (!strcasecmp(v, "unix"))
			t->lo = -1; /* any AF_UNIX type */
		else if ((t->lo = ct_proto_of_name(v)) < 0) {
			snprintf(
				err, errlen,
				"bad protocol in '%s': expected proto:tcp, udp, udplite, mptcp, icmp, "
				"icmpv6, unix, u_str, u_dgr or u_seq",
				w);
			return -1;
		}
		return 0;
	}
	if (!strncmp(w, "net:", 4)) {
		int rc = parse_net(v, t);

		t->type = T_NET;
		if (rc == -2) {
			snprintf(
				err, errlen,
				"bad network in '%s': an IPv4-mapped network needs a prefix of 96 to "
				"128 (::ffff:10.0.0.0/104 is 10.0.0.0/8)",
				w);
			return -1;
		}
		if (rc) {
			snprintf(err, errlen,
				 "bad network in '%s': expected net:ADDR or net:ADDR/PREFIX", w);
			return -1;
		}
		return 0;
	}
	if (!strncmp(w, "err:", 4)) {
		t->type = T_ERR;
		t->lo = ct_errno_parse(v);
		if (t->lo <= 0) {
			snprintf(err, errlen,
				 "bad errno in '%s': expected a name as the ERROR column shows it "
				 "(err:ECONNREFUSED, err:E123) or a number",
				 w);
			return -1;
		}
		return 0;
	}
	if (!strncmp(w, "pid:", 4)) {
		t->type = T_PID;
		if (ct_parse_long(v, 1, CT_PID_MAX, &t->lo)) {
			snprintf(err, errlen, "bad pid in '%s': expected pid:N with N 1..%d", w,
				 CT_PID_MAX);
			return -1;
		}
		return 0;
	}
	if (!strncmp(w, "uid:", 4)) {
		t->type = T_UID;
		if (ct_parse_long(v, 0, 4294967295L, &t->lo)) {
			snprintf(err, errlen, "bad uid in '%s': expected uid:N", w);
			return -1;
		}
		return 0;
	}
	if (!strncmp(w, "cgroup:", 7)) {
		size_t n = strlen(v);

		t->type = T_CGROUP;
		if (!n || n >= sizeof(t->text)) {
			snprintf(err, errlen,
				 "bad cgroup in '%s': expected cgroup:TEXT (1..%zu characters)", w,
				 sizeof(t->text) - 1);
			return -1;
		}
		for (size_t i = 0; i <= n; i++)
			t->text[i] = (v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i];
		return 0;
	}
	if (!strncmp(w, "host:", 5)) {
		size_t n = strlen(v);

		t->type = T_HOST;
		/* a name written absolute (www.example.com.) is the same name */
		if (n > 1 && v[n - 1] == '.' && v[n - 2] != '\\')
			n--;
		if (!n || n >= sizeof(t->glob)) {
			snprintf(
				err, errlen,
				"bad host in '%s': expected host:GLOB, the name a process resolved or "
				"a pattern such as host:*.example.com (1..%zu characters)",
				w, sizeof(t->glob) - 1);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			t->glob[i] = (v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i];
		t->glob[n] = 0;
		return 0;
	}
	snprintf(
		err, errlen,
		"unknown filter '%.*s': use port:, proto:, net:, pid:, uid:, cgroup:, host:, err:, fail, a result "
		"(refused, timeout, ...) or text",
		(int)(v - w), w);
	return -1;
}

static uint64_t filters_made;

uint64_t filter_id(const struct ct_filter *f)
{
	return f ? f->id : 0;
}

int filter_rows_only(const struct ct_filter *f)
{
	for (size_t i = 0; f && i < f->n; i++)
		if (f->terms[i].type == T_CGROUP || f->terms[i].type == T_CHANGE)
			return 0;
	return 1;
}

struct ct_filter *filter_new(const char *expr, char *err, size_t errlen)
{
	size_t cap = 0, len = expr ? strlen(expr) : 0;
	struct ct_filter *f;
	char word[128];

	for (size_t i = 0; i < len; i++)
		if (expr[i] != ' ' && expr[i] != '\t' &&
		    (i == 0 || expr[i - 1] == ' ' || expr[i - 1] == '\t'))
			cap++;
	f = calloc(1, sizeof(*f) + cap * sizeof(f->terms[0]));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->id = ++filters_made;
	for (const char *p = expr; p && *p;) {
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, " \t");
		if (!n)
			break;
		if (n >= sizeof(word)) {
			snprintf(err, errlen, "filter term too long (max %zu characters)",
				 sizeof(word) - 1);
			goto fail;
		}
		memcpy(word, p, n);
		word[n] = 0;
		if (parse_term(word, &f->terms[f->n], err, errlen))
			goto fail;
		f->n++;
		p += n;
	}
	return f;
fail:
	free(f);
	errno = EINVAL;
	return NULL;
}

void filter_free(struct ct_filter *f)
{
	free(f);
}

int filter_empty(const struct ct_filter *f)
{
	return !f || f->n == 0;
}

int filter_keeps(void *f, const struct ct_row *r)
{
	return !filter_empty(f) && filter_match(f, r);
}

static int contains_ci(const char *hay, size_t haylen, const char *needle)
{
	size_t n = strlen(needle);

	if (!n)
		return 1;
	for (size_t i = 0; i + n <= haylen; i++) {
		size_t j = 0;

		while (j < n) {
			char c = hay[i + j];

			if (c >= 'A' && c <= 'Z')
				c += 32;
			if (c != needle[j])
				break;
			j++;
		}
		if (j == n)
			return 1;
	}
	return 0;
}

static int in_net(const struct term *t, const struct ct_row *r)
{
	int full, rest;

	if (r->key.family != t->family)
		return 0;
	full = t->prefix / 8;
	rest = t->prefix % 8;
	if (memcmp(r->key.daddr, t->net, full))
		return 0;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		return (r->key.daddr[full] & mask) == (t->net[full] & mask);
	}
	return 1;
}

void filter_set_cgroup_fn(struct ct_filter *f, filter_cgroup_fn fn, void *ctx)
{
	if (f) {
		f->cgroup_fn = fn;
		f->cgroup_ctx = ctx;
	}
}

void filter_set_change_fn(struct ct_filter *f, filter_change_fn fn, void *ctx)
{
	if (f) {
		f->change_fn = fn;
		f->change_ctx = ctx;
	}
}

int filter_uses_change(const struct ct_filter *f)
{
	for (size_t i = 0; f && i < f->n; i++)
		if (f->terms[i].type == T_CHANGE)
			return 1;
	return 0;
}

/* the name asked for, or a name of its CNAME chain, matches the glob (a
 * record is "qname\tcname...", qnames.h; "+N" marks links left out) */
static int host_match(const char *glob, const char *rec)
{
	char name[256];

	while (rec && *rec) {
		size_t n = strcspn(rec, "\t");

		if (n < sizeof(name) && *rec != '+') {
			memcpy(name, rec, n);
			name[n] = 0;
			if (!fnmatch(glob, name, FNM_CASEFOLD))
				return 1;
		}
		rec += n + (rec[n] == '\t');
	}
	return 0;
}

static int term_match(const struct ct_filter *f, const struct term *t, const struct ct_row *r)
{
	switch (t->type) {
	case T_TEXT: {
		char addr[CT_ADDR_STRLEN];

		if (contains_ci(r->key.comm, strnlen(r->key.comm, sizeof(r->key.comm)), t->text))
			return 1;
		if (!r->key.family)
			return 0;
		ct_addr_scope_str(r->key.family, r->key.daddr, r->key.scope, addr, sizeof(addr));
		return contains_ci(addr, strlen(addr), t->text);
	}
	case T_PORT:
		return r->key.dport >= t->lo && r->key.dport <= t->hi;
	case T_PROTO:
		return t->lo < 0 ? CT_PROTO_IS_UNIX(r->key.proto) : r->key.proto == t->lo;
	case T_NET:
		return in_net(t, r);
	case T_PID:
		for (uint32_t i = 0; i < r->npids && ct_row_pids(r); i++)
			if (ct_row_pids(r)[i] == (uint32_t)t->lo)
				return 1;
		return r->pid == (uint32_t)t->lo;
	case T_UID:
		return r->uid == (uint32_t)t->lo;
	case T_FAIL:
		return ct_row_failures(r) > 0;
	case T_RESULT:
		for (int i = 0; i < RES_MAX; i++)
			if ((t->results >> i & 1) && r->results[i])
				return 1;
		return 0;
	case T_ERR:
		for (int i = 0; i < CT_FLOW_ERRS && r->more->errs[i].err; i++)
			if (r->more->errs[i].err == t->lo && r->more->errs[i].count)
				return 1;
		return 0;
	case T_CGROUP: {
		const char *cg = f->cgroup_fn ? f->cgroup_fn(f->cgroup_ctx, r->pid, r->key.comm) :
						NULL;

		return cg && contains_ci(cg, strlen(cg), t->text);
	}
	case T_CHANGE: {
		int c = f->change_fn ? f->change_fn(f->change_ctx, r) : 0;

		return c == t->lo || (t->lo == 3 && c == 4); /* silent: and gone */
	}
	case T_HOST:
		return host_match(t->glob, ct_qname_rec(r->more->qname));
	}
	return 0;
}

int filter_match(const struct ct_filter *f, const struct ct_row *r)
{
	if (!f)
		return 1;
	for (size_t i = 0; i < f->n; i++)
		if (term_match(f, &f->terms[i], r) == f->terms[i].negate)
			return 0;
	return 1;
}
