/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The unit tests' tiny harness. Every check prints one line,
 *   PASS: <name>
 *   FAIL: <name>: <why, with expected and actual>
 * and ck_done() gives the exit status (1 if any check failed). Strings are
 * printed escaped, so hostile test data never reaches the terminal raw.
 * Plus helpers to build flow keys and samples with explicit values.
 */
#ifndef CT_TEST_CHECK_H
#define CT_TEST_CHECK_H

#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flows.h"
#include "rows.h"
#include "util.h"

#define CK_UNUSED __attribute__((unused))

static int ck_fails, ck_checks;

__attribute__((constructor)) static void ck_init(void)
{
	/* line buffered: a sanitizer abort must not swallow earlier lines */
	setvbuf(stdout, NULL, _IOLBF, 0);
}

__attribute__((format(printf, 3, 4))) CK_UNUSED static int ck(int ok, const char *name,
							      const char *fmt, ...)
{
	va_list ap;

	ck_checks++;
	if (ok) {
		printf("PASS: %s\n", name);
		return 1;
	}
	ck_fails++;
	printf("FAIL: %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return 0;
}

/* a check name built with printf, from a small ring of buffers */
__attribute__((format(printf, 1, 2))) CK_UNUSED static const char *nm(const char *fmt, ...)
{
	static char ring[8][256];
	static unsigned i;
	char *b = ring[i++ % 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(ring[0]), fmt, ap);
	va_end(ap);
	return b;
}

/* s (n bytes) with every non-printable byte as \xNN; caller frees */
CK_UNUSED static char *ck_esc(const char *s, size_t n)
{
	char *o = malloc(n * 4 + 1), *p = o;

	if (!o)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			*p++ = (char)c;
		else if (c == '\\')
			p += sprintf(p, "\\\\");
		else
			p += sprintf(p, "\\x%02x", c);
	}
	*p = 0;
	return o;
}

CK_UNUSED static int ck_str(const char *name, const char *exp, const char *act)
{
	size_t i = 0;
	char *e, *a;
	int ok;

	if (!act)
		return ck(0, name, "expected \"%s\", got NULL", exp);
	ok = !strcmp(exp, act);
	if (ok)
		return ck(1, name, " ");
	while (exp[i] && exp[i] == act[i])
		i++;
	e = ck_esc(exp, strlen(exp));
	a = ck_esc(act, strlen(act));
	ck(0, name, "first difference at byte %zu; expected \"%s\", got \"%s\"", i, e, a);
	free(e);
	free(a);
	return 0;
}

/* hay contains needle (want 1) or does not (want 0) */
CK_UNUSED static int ck_has(const char *name, const char *hay, const char *needle, int want)
{
	char *h, *n;

	if (hay && !strstr(hay, needle) == !want)
		return ck(1, name, " ");
	h = ck_esc(hay ? hay : "(null)", strlen(hay ? hay : "(null)"));
	n = ck_esc(needle, strlen(needle));
	ck(0, name, "expected %sto contain \"%s\", got \"%s\"", want ? "" : "not ", n, h);
	free(h);
	free(n);
	return 0;
}

CK_UNUSED static int ck_contains(const char *name, const char *hay, const char *needle)
{
	return ck_has(name, hay, needle, 1);
}

CK_UNUSED static int ck_lacks(const char *name, const char *hay, const char *needle)
{
	return ck_has(name, hay, needle, 0);
}

#define CHECK(name, cond) ck(!!(cond), (name), "expected %s", #cond)
#define CHECK_U(name, exp, act)                                                                    \
	do {                                                                                       \
		unsigned long long e_ = (unsigned long long)(exp), a_ = (unsigned long long)(act); \
		ck(e_ == a_, (name), "expected %s == %llu, got %llu", #act, e_, a_);               \
	} while (0)
#define CHECK_I(name, exp, act)                                                      \
	do {                                                                         \
		long long e_ = (long long)(exp), a_ = (long long)(act);              \
		ck(e_ == a_, (name), "expected %s == %lld, got %lld", #act, e_, a_); \
	} while (0)
#define CHECK_D(name, exp, act, eps)                                                             \
	do {                                                                                     \
		double e_ = (exp), a_ = (act);                                                   \
		ck(fabs(e_ - a_) <= (eps), (name), "expected %s == %.9g (+-%g), got %.9g", #act, \
		   e_, (double)(eps), a_);                                                       \
	} while (0)
#define CHECK_S(name, exp, act) ck_str((name), (exp), (act))

CK_UNUSED static int ck_done(void)
{
	if (!ck_checks)
		ck(0, "harness", "no check ran");
	return ck_fails ? 1 : 0;
}

/* output captured in memory */
struct ck_mem {
	char *buf;
	size_t len;
	FILE *f;
};

CK_UNUSED static FILE *mem_open(struct ck_mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	if (!m->f)
		abort();
	return m->f;
}

CK_UNUSED static char *mem_close(struct ck_mem *m)
{
	fclose(m->f);
	m->f = NULL;
	return m->buf;
}

/* is s[0..n) valid UTF-8 (no overlongs, no surrogates)? */
CK_UNUSED static int ck_utf8_valid(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], need;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			need = 2, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			need = 3, cp = c & 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			need = 4, cp = c & 0x07, min = 0x10000;
		else
			return 0;
		if (i + need > n)
			return 0;
		for (unsigned k = 1; k < need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need;
	}
	return 1;
}

/* the first control byte (other than \n) in s, or -1 */
CK_UNUSED static long ck_first_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\n') || c == 0x7f)
			return (long)i;
	}
	return -1;
}

CK_UNUSED static size_t ck_count_char(const char *s, char c)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += *s == c;
	return n;
}

/* ---- flow keys and samples ---- */

#define P_TCP 6
#define P_UDP 17
#define NS_PER_S 1000000000ULL
#define NS_PER_MS 1000000ULL

/* comm is copied up to 16 bytes (no NUL needed); addr is IPv4 or IPv6 text,
 * IPv4-mapped IPv6 is normalized to IPv4 as the app does */
CK_UNUSED static struct flow_key key_raw(const char *comm, size_t commlen, const char *addr,
					 unsigned dport, unsigned proto)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.comm, comm, commlen < sizeof(k.comm) ? commlen : sizeof(k.comm));
	if (inet_pton(AF_INET, addr, k.daddr) == 1) {
		k.family = 4;
	} else if (inet_pton(AF_INET6, addr, k.daddr) == 1) {
		k.family = (uint8_t)ct_addr_normalize(6, k.daddr);
	} else {
		fprintf(stderr, "test bug: bad address '%s'\n", addr);
		abort();
	}
	k.dport = (uint16_t)dport;
	k.proto = (uint16_t)proto;
	return k;
}

CK_UNUSED static struct flow_key key(const char *comm, const char *addr, unsigned dport,
				     unsigned proto)
{
	return key_raw(comm, strlen(comm), addr, dport, proto);
}

CK_UNUSED static struct ct_sample sample(struct flow_key k, uint64_t ts, uint32_t pid, int ret)
{
	struct ct_sample s;

	memset(&s, 0, sizeof(s));
	s.key = k;
	s.ts_ns = ts;
	s.pid = pid;
	s.uid = 1000;
	s.ret = ret;
	return s;
}

/* add n connects of k at ts with result ret from pid (uid 1000) */
CK_UNUSED static void add_n(struct ct_flows *t, struct flow_key k, int n, uint64_t ts, uint32_t pid,
			    int ret)
{
	struct ct_sample s = sample(k, ts, pid, ret);

	for (int i = 0; i < n; i++)
		flows_add(t, &s);
}

/* add one connect with a handshake latency */
CK_UNUSED static void add_lat(struct ct_flows *t, struct flow_key k, uint64_t ts, uint32_t pid,
			      int ret, uint64_t lat_ns)
{
	struct ct_sample s = sample(k, ts, pid, ret);

	s.has_lat = 1;
	s.lat_ns = lat_ns;
	flows_add(t, &s);
}

CK_UNUSED static const struct ct_row *find_row(const struct ct_row *rows, size_t n,
					       const struct flow_key *k)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(&rows[i].key, k, sizeof(*k)))
			return &rows[i];
	return NULL;
}

CK_UNUSED static const struct ct_row *find_view_row(const struct ct_rows *v,
						    const struct flow_key *k)
{
	for (size_t i = 0; i < v->n; i++)
		if (!memcmp(&v->rows[i]->key, k, sizeof(*k)))
			return v->rows[i];
	return NULL;
}

#endif
