// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * diff.c: two JSON exports compared (diff.h). The reader is a strict
 * recursive-descent JSON parser for what an export holds, bounded in
 * depth and size: hostile files give an error with the byte offset, never
 * a crash. Unknown fields are skipped (a newer export with more fields
 * still reads), a newer schema version is refused.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diff.h"
#include "export.h"
#include "util.h"

struct jp {
	const char *s;
	size_t len, pos;
	char *err;
	size_t errlen;
	int failed;
};

__attribute__((format(printf, 2, 3))) static int jfail(struct jp *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return -1;
	p->failed = 1;
	n = snprintf(p->err, p->errlen, "at byte %zu: ", p->pos);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static void ws(struct jp *p)
{
	while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos])
		p->pos++;
}

static int peek(struct jp *p)
{
	ws(p);
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int expect(struct jp *p, char c)
{
	if (peek(p) != c)
		return p->pos < p->len ? jfail(p, "expected '%c'", c) :
					 jfail(p, "truncated: expected '%c'", c);
	p->pos++;
	return 0;
}

/* a string into buf (NULL: skipped); too long for buf is an error. The
 * escapes are kept as written but \" and \\ (what export writes). */
static int jstr(struct jp *p, char *buf, size_t cap)
{
	size_t o = 0;

	if (expect(p, '"'))
		return -1;
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->s[p->pos++];

		if (c == '"') {
			if (buf)
				buf[o] = 0;
			return 0;
		}
		if (c < 0x20)
			return jfail(p, "a control byte in a string");
		if (c == '\\') {
			if (p->pos >= p->len)
				break;
			c = (unsigned char)p->s[p->pos++];
			if (!strchr("\"\\/bfnrtu", c) || !c)
				return jfail(p, "a bad escape in a string");
			if (c == 'u') {
				if (p->pos + 4 > p->len)
					break;
				for (int i = 0; i < 4; i++)
					if (!strchr("0123456789abcdefABCDEF", p->s[p->pos + i]) ||
					    !p->s[p->pos + i])
						return jfail(p, "a bad \\u escape");
				p->pos += 4;
				c = '?'; /* an export never writes one: kept as '?' */
			}
		}
		if (buf) {
			if (o + 1 >= cap)
				return jfail(p, "a string longer than %zu bytes", cap - 1);
			buf[o++] = (char)c;
		}
	}
	return jfail(p, "truncated string");
}

/* a number; integers must be whole and in 0..2^53 */
static int jnum(struct jp *p, double *out)
{
	char tmp[64], *end;
	size_t n = 0;

	ws(p);
	while (p->pos + n < p->len && n < sizeof(tmp) - 1 &&
	       strchr("0123456789+-.eE", p->s[p->pos + n]) && p->s[p->pos + n])
		n++;
	if (!n)
		return p->pos < p->len ? jfail(p, "expected a number") :
					 jfail(p, "truncated: expected a number");
	memcpy(tmp, p->s + p->pos, n);
	tmp[n] = 0;
	errno = 0;
	*out = strtod(tmp, &end);
	if (*end || errno == ERANGE || !isfinite(*out))
		return jfail(p, "a bad or out-of-range number '%.20s'", tmp);
	p->pos += n;
	return 0;
}

static int jcount(struct jp *p, uint64_t *out)
{
	double d;

	if (jnum(p, &d))
		return -1;
	if (d < 0 || d > 9007199254740992.0 || d != floor(d))
		return jfail(p, "a count must be a whole number from 0 to 2^53");
	*out = (uint64_t)d;
	return 0;
}

static int jlit(struct jp *p, const char *w)
{
	size_t n = strlen(w);

	ws(p);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n))
		return jfail(p, "expected a value");
	p->pos += n;
	return 0;
}

static int jskip(struct jp *p, int depth)
{
	int c = peek(p);
	double d;

	if (depth > DIFF_MAX_DEPTH)
		return jfail(p, "nested deeper than %d", DIFF_MAX_DEPTH);
	switch (c) {
	case '"':
		return jstr(p, NULL, 0);
	case '{':
	case '[': {
		char close = c == '{' ? '}' : ']';

		p->pos++;
		if (peek(p) == close) {
			p->pos++;
			return 0;
		}
		for (;;) {
			if (c == '{' && (jstr(p, NULL, 0) || expect(p, ':')))
				return -1;
			if (jskip(p, depth + 1))
				return -1;
			if (peek(p) == ',') {
				p->pos++;
				continue;
			}
			return expect(p, close);
		}
	}
	case 't':
		return jlit(p, "true");
	case 'f':
		return jlit(p, "false");
	case 'n':
		return jlit(p, "null");
	case -1:
		return jfail(p, "truncated: expected a value");
	default:
		return jnum(p, &d);
	}
}

/* for each member of an object: its name in key, then fn reads the value */
typedef int (*member_fn)(struct jp *p, const char *key, void *ctx, int depth);
static int jobject(struct jp *p, member_fn fn, void *ctx, int depth)
{
	char key[64];

	if (depth > DIFF_MAX_DEPTH)
		return jfail(p, "nested deeper than %d", DIFF_MAX_DEPTH);
	if (expect(p, '{'))
		return -1;
	if (peek(p) == '}') {
		p->pos++;
		return 0;
	}
	for (;;) {
		if (peek(p) != '"')
			return jfail(p, "expected a member name");
		if (jstr(p, key, sizeof(key)) || expect(p, ':') || fn(p, key, ctx, depth + 1))
			return -1;
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		return expect(p, '}');
	}
}

static int results_member(struct jp *p, const char *key, void *ctx, int depth)
{
	struct diff_row *r = ctx;
	uint64_t v;

	for (int i = 0; i < RES_MAX; i++) {
		if (strcmp(key, ct_result_names[i]))
			continue;
		if (jcount(p, &v))
			return -1;
		if (i == RES_OK)
			r->ok = v;
		else if (i == RES_PENDING)
			r->pending = v;
		else if (r->fail + v < r->fail)
			return jfail(p, "failures overflow");
		else
			r->fail += v;
		return 0;
	}
	return jskip(p, depth);
}

/* a text field: a string, or null (a folded row's daddr) */
static int jtext(struct jp *p, char *buf, size_t cap)
{
	if (peek(p) == 'n') {
		buf[0] = 0;
		return jlit(p, "null");
	}
	if (peek(p) != '"')
		return jfail(p, "expected a string");
	return jstr(p, buf, cap);
}

static int row_member(struct jp *p, const char *key, void *ctx, int depth)
{
	struct diff_row *r = ctx;

	if (!strcmp(key, "comm"))
		return jtext(p, r->comm, sizeof(r->comm));
	if (!strcmp(key, "daddr"))
		return jtext(p, r->daddr, sizeof(r->daddr));
	if (!strcmp(key, "proto"))
		return jtext(p, r->proto, sizeof(r->proto));
	if (!strcmp(key, "family"))
		return jtext(p, r->family, sizeof(r->family));
	if (!strcmp(key, "dport"))
		return jcount(p, &r->dport) ? -1 :
		       r->dport > 65535	    ? jfail(p, "dport above 65535") :
					      0;
	if (!strcmp(key, "count"))
		return jcount(p, &r->count);
	if (!strcmp(key, "lat_p99_us")) {
		if (peek(p) == 'n') {
			r->p99_us = -1;
			return jlit(p, "null");
		}
		if (jnum(p, &r->p99_us))
			return -1;
		return r->p99_us < 0 ? jfail(p, "a negative latency") : 0;
	}
	if (!strcmp(key, "results")) {
		if (peek(p) != '{')
			return jfail(p, "results must be an object");
		return jobject(p, results_member, r, depth);
	}
	return jskip(p, depth);
}

/* a hostile file's text made safe to print: valid UTF-8, no control
 * (as the exporter made it; a file can say anything) */
static void clean(char *s, size_t cap)
{
	char tmp[1024];
	size_t n;

	ct_sanitize(s, strlen(s), tmp, cap < sizeof(tmp) ? cap : sizeof(tmp));
	n = strnlen(tmp, cap - 1);
	memcpy(s, tmp, n);
	s[n] = 0;
}

static void clean_row(struct diff_row *r)
{
	clean(r->comm, sizeof(r->comm));
	clean(r->daddr, sizeof(r->daddr));
	clean(r->proto, sizeof(r->proto));
	clean(r->family, sizeof(r->family));
}

struct top {
	struct diff_side *out;
	int version, rows_seen, group_seen;
};

static int top_member(struct jp *p, const char *key, void *ctx, int depth)
{
	struct top *t = ctx;
	struct diff_side *s = t->out;

	if (!strcmp(key, "version")) {
		uint64_t v;

		if (jcount(p, &v))
			return -1;
		if (v != CT_SCHEMA_VERSION)
			return jfail(p, "schema version %llu, this connecttop reads %d",
				     (unsigned long long)v, CT_SCHEMA_VERSION);
		t->version = (int)v;
		return 0;
	}
	if (!strcmp(key, "group")) {
		char g[16];

		if (peek(p) != '"')
			return jfail(p, "group must be a string");
		if (jstr(p, g, sizeof(g)))
			return -1;
		if (strcmp(g, "flow"))
			return jfail(p,
				     "an export of the %s view: --diff compares flows (export "
				     "with -g flow, or e in the flow view)",
				     g);
		t->group_seen = 1;
		return 0;
	}
	if (strcmp(key, "rows"))
		return jskip(p, depth);
	if (expect(p, '['))
		return -1;
	t->rows_seen = 1;
	if (peek(p) == ']') {
		p->pos++;
		return 0;
	}
	for (;;) {
		size_t cap = s->n + 1;

		if (peek(p) != '{')
			return jfail(p, "a row must be an object");
		if (!(s->n & (s->n - 1)) || !s->rows) {
			struct diff_row *nr =
				realloc(s->rows, (cap < 8 ? 8 : 2 * cap) * sizeof(*nr));

			if (!nr)
				return jfail(p, "out of memory");
			s->rows = nr;
		}
		memset(&s->rows[s->n], 0, sizeof(s->rows[0]));
		s->rows[s->n].p99_us = -1;
		if (jobject(p, row_member, &s->rows[s->n], depth + 1))
			return -1;
		clean_row(&s->rows[s->n]);
		s->n++;
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		return expect(p, ']');
	}
}

int diff_parse(const char *text, size_t len, struct diff_side *out, char *err, size_t errlen)
{
	struct jp p = { text, len, 0, err, errlen, 0 };
	struct top t = { out, 0, 0, 0 };

	memset(out, 0, sizeof(*out));
	if (peek(&p) != '{')
		return jfail(&p, "not a JSON export (expected '{')"), -EINVAL;
	if (jobject(&p, top_member, &t, 1))
		return -EINVAL;
	if (peek(&p) != -1)
		return jfail(&p, "text after the export's object"), -EINVAL;
	if (!t.version)
		return jfail(&p, "no \"version\": not a connecttop export"), -EINVAL;
	if (!t.group_seen || !t.rows_seen)
		return jfail(&p, "no \"group\" or \"rows\": not a connecttop export"), -EINVAL;
	return 0;
}

int diff_load(const char *path, struct diff_side *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, sub[400];
	size_t n = 0, start, end;
	struct stat st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_size > DIFF_MAX_BYTES) {
		snprintf(err, errlen, "%s: not a regular file of at most %u MiB", path,
			 DIFF_MAX_BYTES >> 20);
		fclose(f);
		return -EINVAL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	rc = ferror(f);
	fclose(f);
	if (rc) {
		free(buf);
		snprintf(err, errlen, "%s: read error", path);
		return -EIO;
	}
	/* batch -o json writes an object a line: the last one */
	end = n;
	while (end && strchr(" \t\r\n", buf[end - 1]) && buf[end - 1])
		end--;
	start = end;
	while (start && buf[start - 1] != '\n')
		start--;
	if (start == end) {
		free(buf);
		snprintf(err, errlen, "%s: empty", path);
		return -EINVAL;
	}
	rc = diff_parse(buf + start, end - start, out, sub, sizeof(sub));
	if (rc)
		snprintf(err, errlen, "%s: %s%s", path, start ? "last line, " : "", sub);
	free(buf);
	return rc;
}

void diff_side_free(struct diff_side *s)
{
	if (!s)
		return;
	free(s->rows);
	s->rows = NULL;
	s->n = 0;
}

static int same_flow(const struct diff_row *a, const struct diff_row *b)
{
	return a->dport == b->dport && !strcmp(a->comm, b->comm) && !strcmp(a->daddr, b->daddr) &&
	       !strcmp(a->proto, b->proto) && !strcmp(a->family, b->family);
}

static uint64_t done(const struct diff_row *r)
{
	return r->count > r->pending ? r->count - r->pending : 0;
}

enum ct_change diff_compare(const struct diff_row *a, const struct diff_row *r,
			    struct ct_change_info *c)
{
	uint64_t cur_n = done(r);
	int reset;

	memset(c, 0, sizeof(*c));
	c->p99_before_us = a ? a->p99_us : -1;
	c->p99_after_us = r->p99_us;
	if (!a) {
		c->kind = CHG_NEW;
		c->since_n = cur_n;
		c->since_fail = r->fail;
		c->share_after = cur_n ? (double)r->fail / (double)cur_n : 0;
		return c->kind;
	}
	c->before_n = done(a);
	c->before_fail = a->fail;
	c->share_before = c->before_n ? (double)a->fail / (double)c->before_n : 0;
	/* B from another run, or after a clear: all of it is since */
	reset = r->count < a->count || r->fail < a->fail || r->ok < a->ok;
	c->since_n = reset ? cur_n : cur_n > c->before_n ? cur_n - c->before_n : 0;
	c->since_fail = reset ? r->fail : r->fail - a->fail;
	c->share_after = c->since_n ? (double)c->since_fail / (double)c->since_n : 0;
	if (r->count == (reset ? 0 : a->count)) {
		c->kind = a->count ? CHG_SILENT : CHG_NONE;
		return c->kind;
	}
	if (!strcmp(r->family, "*"))
		return c->kind; /* a (process, *) row: never worse (baseline.h) */
	return baseline_judge(c, a->ok, reset ? r->ok : r->ok - a->ok);
}

static void put_row(FILE *out, const struct diff_row *r, const struct ct_change_info *c,
		    enum diff_fmt f, int *first)
{
	char cell[64], p1[32], p2[32];

	baseline_cell(c, cell, sizeof(cell));
	snprintf(p1, sizeof(p1), c->p99_before_us < 0 ? "null" : "%.1f", c->p99_before_us);
	snprintf(p2, sizeof(p2), c->p99_after_us < 0 ? "null" : "%.1f", c->p99_after_us);
	switch (f) {
	case DIFF_TEXT:
		fprintf(out, "%-16s %-39s %5llu %-5s %-15s %8llu %6llu %8llu %6llu\n", r->comm,
			*r->daddr ? r->daddr : "*", (unsigned long long)r->dport, r->proto, cell,
			(unsigned long long)c->before_n, (unsigned long long)c->before_fail,
			(unsigned long long)c->since_n, (unsigned long long)c->since_fail);
		break;
	case DIFF_CSV:
		/* export's writer, the formula guard with it: a process
		 * named "=cmd|..." reads as text here as in -o csv */
		export_csv_str(out, ct_change_names[c->kind]);
		fputc(',', out);
		export_csv_str(out, r->comm);
		fputc(',', out);
		export_csv_str(out, r->daddr);
		fprintf(out, ",%llu,", (unsigned long long)r->dport);
		export_csv_str(out, r->proto);
		fprintf(out, ",%llu,%llu,%llu,%llu,%.4f,%.4f,%s,%s\n",
			(unsigned long long)c->before_n, (unsigned long long)c->before_fail,
			(unsigned long long)c->since_n, (unsigned long long)c->since_fail,
			c->share_before, c->share_after, c->p99_before_us < 0 ? "" : p1,
			c->p99_after_us < 0 ? "" : p2);
		break;
	case DIFF_JSON:
		fputs(*first ? "{" : ",{", out);
		*first = 0;
		fprintf(out,
			"\"change\":\"%s\",\"why\":[%s%s%s],\"comm\":", ct_change_names[c->kind],
			c->why & CHG_WHY_FAIL ? "\"fail\"" : "",
			(c->why & CHG_WHY_FAIL) && (c->why & CHG_WHY_P99) ? "," : "",
			c->why & CHG_WHY_P99 ? "\"p99\"" : "");
		export_json_str(out, r->comm);
		fputs(",\"daddr\":", out);
		if (*r->daddr)
			export_json_str(out, r->daddr);
		else
			fputs("null", out);
		fprintf(out, ",\"dport\":%llu,\"proto\":", (unsigned long long)r->dport);
		export_json_str(out, r->proto);
		fprintf(out,
			",\"before\":{\"completed\":%llu,\"failures\":%llu,\"fail_share\":%.4f,"
			"\"lat_p99_us\":%s},\"since\":{\"completed\":%llu,\"failures\":%llu,"
			"\"fail_share\":%.4f,\"lat_p99_us\":%s}}",
			(unsigned long long)c->before_n, (unsigned long long)c->before_fail,
			c->share_before, p1, (unsigned long long)c->since_n,
			(unsigned long long)c->since_fail, c->share_after, p2);
		break;
	}
}

int diff_write(FILE *out, const struct diff_side *a, const struct diff_side *b, enum diff_fmt f)
{
	struct ct_change_info c;
	int first = 1;

	if (f == DIFF_TEXT)
		fprintf(out, "%-16s %-39s %5s %-5s %-15s %8s %6s %8s %6s\n", "PROCESS",
			"DESTINATION", "PORT", "PROTO", "CHANGE", "BEFORE", "FAIL", "SINCE",
			"FAIL");
	else if (f == DIFF_CSV)
		fputs("change,comm,daddr,dport,proto,before_completed,before_failures,"
		      "since_completed,since_failures,before_fail_share,since_fail_share,"
		      "before_lat_p99_us,since_lat_p99_us\n",
		      out);
	else
		fprintf(out, "{\"version\":%d,\"rows\":[", CT_SCHEMA_VERSION);
	/* quadratic in the rows: an export of 100,000 flows is a minute's
	 * work; a hash is for when someone diffs such exports */
	for (size_t i = 0; i < b->n; i++) {
		const struct diff_row *old = NULL;

		for (size_t j = 0; j < a->n && !old; j++)
			if (same_flow(&a->rows[j], &b->rows[i]))
				old = &a->rows[j];
		if (diff_compare(old, &b->rows[i], &c) != CHG_NONE)
			put_row(out, &b->rows[i], &c, f, &first);
	}
	for (size_t j = 0; j < a->n; j++) {
		int found = 0;

		for (size_t i = 0; i < b->n && !found; i++)
			found = same_flow(&a->rows[j], &b->rows[i]);
		if (found || !a->rows[j].count)
			continue;
		memset(&c, 0, sizeof(c));
		c.kind = CHG_GONE;
		c.before_n = done(&a->rows[j]);
		c.before_fail = a->rows[j].fail;
		c.share_before = c.before_n ? (double)c.before_fail / (double)c.before_n : 0;
		c.p99_before_us = a->rows[j].p99_us;
		c.p99_after_us = -1;
		put_row(out, &a->rows[j], &c, f, &first);
	}
	if (f == DIFF_JSON)
		fputs("]}\n", out);
	fflush(out);
	return ferror(out) ? -EIO : 0;
}
