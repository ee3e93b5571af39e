// SPDX-License-Identifier: GPL-2.0-or-later
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/*
 * The one syntax of numbers, for options and filter terms alike: decimal
 * digits, a '-' only in front of a negative number, nothing else. strtol()
 * and strtod() alone also take leading white space, a '+', hex ("0x10")
 * and, for strtod(), "inf" and "nan": " 5", "pid:+5" and "-d 0x10" (16 s)
 * would be taken. A '-' before a number where none may be negative is out
 * of range ("uid:-0" too), as a too large one is.
 */
static int decimal_syntax(const char *s, int fraction)
{
	size_t digits, i = *s == '-';

	digits = strspn(s + i, "0123456789");
	i += digits;
	if (fraction && s[i] == '.') {
		size_t more = strspn(s + i + 1, "0123456789");

		digits += more;
		i += 1 + more;
	}
	if (!digits)
		return -EINVAL;
	if (fraction && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1 + (s[i + 1] == '+' || s[i + 1] == '-'), e;

		e = strspn(s + j, "0123456789");
		if (!e)
			return -EINVAL;
		i = j + e;
	}
	return s[i] ? -EINVAL : 0;
}

int ct_parse_long(const char *s, long lo, long hi, long *out)
{
	long v;

	if (!s || decimal_syntax(s, 0))
		return -EINVAL;
	if (*s == '-' && lo >= 0)
		return -ERANGE;
	errno = 0;
	v = strtol(s, NULL, 10);
	if (errno == ERANGE || v < lo || v > hi)
		return -ERANGE;
	*out = v;
	return 0;
}

int ct_parse_double(const char *s, double lo, double hi, double *out)
{
	double v;

	if (!s || decimal_syntax(s, 1))
		return -EINVAL;
	if (*s == '-' && lo >= 0)
		return -ERANGE;
	errno = 0;
	v = strtod(s, NULL);
	if (errno == ERANGE || v < lo || v > hi)
		return -ERANGE;
	*out = v;
	return 0;
}

int ct_parse_size(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char num[32];
	size_t n;
	uint64_t mult = 1;
	long v;
	int rc;

	if (!s || !*s || (n = strlen(s)) >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 'k':
	case 'K':
		mult = 1024;
		break;
	case 'm':
	case 'M':
		mult = 1024 * 1024;
		break;
	case 'g':
	case 'G':
		mult = 1024ULL * 1024 * 1024;
		break;
	}
	if (mult != 1)
		num[n - 1] = 0;
	rc = ct_parse_long(num, 0,
			   hi / mult >= (uint64_t)LONG_MAX ? LONG_MAX : (long)(hi / mult) + 1, &v);
	if (rc)
		return rc;
	if ((uint64_t)v * mult < lo || (uint64_t)v * mult > hi)
		return -ERANGE;
	*out = (uint64_t)v * mult;
	return 0;
}

static const struct {
	int err;
	const char *name;
} errnames[] = {
	{ EPERM, "EPERM" },
	{ ENOENT, "ENOENT" },
	{ EINTR, "EINTR" },
	{ EBADF, "EBADF" },
	{ EAGAIN, "EAGAIN" },
	{ ENOMEM, "ENOMEM" },
	{ EACCES, "EACCES" },
	{ EFAULT, "EFAULT" },
	{ EINVAL, "EINVAL" },
	{ EMFILE, "EMFILE" },
	{ ENFILE, "ENFILE" },
	{ ENOTSOCK, "ENOTSOCK" },
	{ EPROTOTYPE, "EPROTOTYPE" },
	{ EAFNOSUPPORT, "EAFNOSUPPORT" },
	{ EADDRINUSE, "EADDRINUSE" },
	{ EADDRNOTAVAIL, "EADDRNOTAVAIL" },
	{ ENETDOWN, "ENETDOWN" },
	{ ENETUNREACH, "ENETUNREACH" },
	{ ENETRESET, "ENETRESET" },
	{ ECONNABORTED, "ECONNABORTED" },
	{ ECONNRESET, "ECONNRESET" },
	{ ENOBUFS, "ENOBUFS" },
	{ EISCONN, "EISCONN" },
	{ ETIMEDOUT, "ETIMEDOUT" },
	{ ECONNREFUSED, "ECONNREFUSED" },
	{ EHOSTDOWN, "EHOSTDOWN" },
	{ EHOSTUNREACH, "EHOSTUNREACH" },
	{ EALREADY, "EALREADY" },
	{ EINPROGRESS, "EINPROGRESS" },
	{ EPROTO, "EPROTO" },
	{ EOPNOTSUPP, "EOPNOTSUPP" },
	{ ENOPROTOOPT, "ENOPROTOOPT" },
	{ ENONET, "ENONET" },
	{ ERESTART, "ERESTART" },
	{ 512, "ERESTARTSYS" },
	{ 513, "ERESTARTNOINTR" },
};

const char *ct_errno_name(int err, char *buf, size_t len)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < ARRAY_SIZE(errnames); i++)
		if (errnames[i].err == err)
			return errnames[i].name;
	snprintf(buf, len, "E%d", err);
	return buf;
}

int ct_errno_parse(const char *name)
{
	long n;

	for (size_t i = 0; i < ARRAY_SIZE(errnames); i++)
		if (!strcasecmp(errnames[i].name, name))
			return errnames[i].err;
	if ((name[0] == 'E' || name[0] == 'e') && !ct_parse_long(name + 1, 1, 4095, &n))
		return (int)n;
	return ct_parse_long(name, 1, 4095, &n) ? -1 : (int)n;
}

void ct_addr_str(int family, const uint8_t addr[16], char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];

	if (family == CT_FAMILY_UNIX) {
		snprintf(buf, len, "%s", ct_unix_path(ct_unix_key_id(addr)));
		return;
	}
	if (family == CT_FAMILY_FOLDED) {
		snprintf(buf, len, "*");
		return;
	}
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, tmp, sizeof(tmp)))
		snprintf(tmp, sizeof(tmp), "?");
	snprintf(buf, len, "%s", tmp);
}

void ct_addr_scope_str(int family, const uint8_t addr[16], uint32_t scope, char *buf, size_t len)
{
	char name[IF_NAMESIZE] = "", tmp[INET6_ADDRSTRLEN];
	size_t i;

	if (family != 6 || !scope) {
		ct_addr_str(family, addr, buf, len);
		return;
	}
	ct_addr_str(family, addr, tmp, sizeof(tmp));
	/* a name the kernel took may still hold bytes a terminal acts on
	 * (it refuses only '/', ':' and spaces): the index then */
	if (if_indextoname(scope, name))
		for (i = 0; name[i]; i++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789_.-@+",
				    name[i])) {
				name[0] = 0;
				break;
			}
	if (name[0])
		snprintf(buf, len, "%s%%%s", tmp, name);
	else
		snprintf(buf, len, "%s%%%u", tmp, (unsigned)scope);
}

int ct_addr_normalize(int family, uint8_t addr[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (family == 4)
		return 4;
	if (!memcmp(addr, mapped, sizeof(mapped))) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		return 4;
	}
	return 6;
}

/* length of the valid UTF-8 sequence at s (1..4), or 0 if invalid */
static size_t utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t need;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		need = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		need = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		need = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return need;
}

/*
 * Code points that are not shown as they are. Unicode's format characters
 * (general category Cf, Unicode 15) draw nothing or reorder what follows:
 * zero width space and joiners, the byte order mark, soft hyphen, the
 * bidirectional marks, embeddings, overrides and isolates, invisible
 * operators, tag characters. "\u200bzw" would look like "zw", and U+202E
 * turns "exe.txt" around. U+2028 and U+2029 (the line and paragraph
 * separators, Zl and Zp) break a line in some terminals and in JavaScript.
 * Sorted, so the search can stop early.
 */
static const struct {
	uint32_t lo, hi;
} hidden_cps[] = {
	{ 0x00ad, 0x00ad },   { 0x0600, 0x0605 },   { 0x061c, 0x061c },	  { 0x06dd, 0x06dd },
	{ 0x070f, 0x070f },   { 0x0890, 0x0891 },   { 0x08e2, 0x08e2 },	  { 0x180e, 0x180e },
	{ 0x200b, 0x200f },   { 0x2028, 0x202e },   { 0x2060, 0x2064 },	  { 0x2066, 0x206f },
	{ 0xfeff, 0xfeff },   { 0xfff9, 0xfffb },   { 0x110bd, 0x110bd }, { 0x110cd, 0x110cd },
	{ 0x13430, 0x1343f }, { 0x1bca0, 0x1bca3 }, { 0x1d173, 0x1d17a }, { 0xe0001, 0xe0001 },
	{ 0xe0020, 0xe007f },
};

static int unsafe_cp(uint32_t c)
{
	/* C0 controls, DEL, C1 controls */
	if (c < 0x20 || (c >= 0x7f && c < 0xa0))
		return 1;
	for (size_t i = 0; i < ARRAY_SIZE(hidden_cps) && c >= hidden_cps[i].lo; i++)
		if (c <= hidden_cps[i].hi)
			return 1;
	return 0;
}

/* what ct_sanitize does besides, for ct_unix_path_id */
enum {
	SAN_AT_FIRST = 1, /* an '@' as the first byte shows as \x40 */
	SAN_AT_ALL = 2,	  /* every '@' shows as \x40, and a NUL as '@' */
};

static size_t sanitize(const char *in, size_t inlen, char *out, size_t outlen, int how)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, o = 0;

	if (!outlen)
		return 0;
	while (i < inlen && (s[i] || (how & SAN_AT_ALL))) {
		uint32_t cp;
		size_t n = utf8_len(s + i, inlen - i, &cp);
		char esc[12];
		size_t elen;

		if (s[i] == '@' && ((how & SAN_AT_ALL) || (i == 0 && (how & SAN_AT_FIRST)))) {
			elen = snprintf(esc, sizeof(esc), "\\x40");
		} else if (!s[i]) {
			elen = snprintf(esc, sizeof(esc), "@");
		} else if (s[i] == '\\') {
			elen = snprintf(esc, sizeof(esc), "\\\\");
		} else if (n && !unsafe_cp(cp)) {
			if (o + n >= outlen)
				break;
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
			continue;
		} else if (!n) {
			/* a byte that is not UTF-8: always 0x80 or above, so
			 * never confused with an ASCII control */
			elen = snprintf(esc, sizeof(esc), "\\x%02x", s[i]), n = 1;
		} else if (cp < 0x80) {
			elen = snprintf(esc, sizeof(esc), "\\x%02x", cp);
		} else {
			/* a whole character, even a C1 control: \u0085 is
			 * U+0085 (C2 85), \x85 the lone byte 85 */
			elen = snprintf(esc, sizeof(esc), cp > 0xffff ? "\\U%08x" : "\\u%04x", cp);
		}
		if (o + elen >= outlen)
			break;
		memcpy(out + o, esc, elen);
		o += elen;
		i += n;
	}
	out[o] = 0;
	return o;
}

size_t ct_sanitize(const char *in, size_t inlen, char *out, size_t outlen)
{
	return sanitize(in, inlen, out, outlen, 0);
}

/* the interned AF_UNIX paths: ids index `str`, `slot` is an open-addressing
 * index of them by hash (ids + 1, 0 empty), at most half full */
static struct {
	char **str;
	uint32_t *slot;
	size_t n, cap, nslots;
} upaths;

static int upaths_grow(void)
{
	size_t nslots = upaths.nslots ? upaths.nslots * 2 : 256;
	uint32_t *slot = calloc(nslots, sizeof(*slot));
	char **str = realloc(upaths.str, nslots / 2 * sizeof(*str));

	if (!slot || !str) {
		free(slot);
		if (str)
			upaths.str = str;
		return -1;
	}
	upaths.str = str;
	upaths.cap = nslots / 2;
	for (size_t id = 0; id < upaths.n; id++) {
		size_t i = ct_hash(str[id], strlen(str[id])) & (nslots - 1);

		while (slot[i])
			i = (i + 1) & (nslots - 1);
		slot[i] = id + 1;
	}
	free(upaths.slot);
	upaths.slot = slot;
	upaths.nslots = nslots;
	return 0;
}

uint32_t ct_unix_path_id(const char *path, size_t len)
{
	char shown[CT_ADDR_STRLEN];
	size_t n = 0, i;
	uint64_t h;

	if (len > 108)
		len = 108;
	if (!len) {
		snprintf(shown, sizeof(shown), "(unnamed)");
	} else if (path[0]) {
		/* a path may start with '@': \x40 keeps it apart from the
		 * abstract name */
		sanitize(path, strnlen(path, len), shown, sizeof(shown), SAN_AT_FIRST);
	} else {
		/* abstract: a leading '@' and every other NUL as '@', as ss(8)
		 * shows them; a real '@' is \x40, so "\0a\0b" and "\0a@b" differ */
		shown[0] = '@';
		sanitize(path + 1, len - 1, shown + 1, sizeof(shown) - 1, SAN_AT_ALL);
	}
	n = strlen(shown);
	h = ct_hash(shown, n);
	if (upaths.nslots)
		for (i = h & (upaths.nslots - 1); upaths.slot[i]; i = (i + 1) & (upaths.nslots - 1))
			if (!strcmp(upaths.str[upaths.slot[i] - 1], shown))
				return upaths.slot[i] - 1;
	if (upaths.n >= CT_UNIX_PATHS_MAX)
		return CT_UNIX_PATH_FULL;
	if (upaths.n >= upaths.cap && upaths_grow())
		return CT_UNIX_PATH_FULL;
	upaths.str[upaths.n] = strdup(shown);
	if (!upaths.str[upaths.n])
		return CT_UNIX_PATH_FULL;
	for (i = h & (upaths.nslots - 1); upaths.slot[i]; i = (i + 1) & (upaths.nslots - 1))
		;
	upaths.slot[i] = upaths.n + 1;
	return upaths.n++;
}

const char *ct_unix_path(uint32_t id)
{
	return id < upaths.n ? upaths.str[id] : "(path table full)";
}

uint32_t ct_unix_key_id(const uint8_t daddr[16])
{
	uint32_t id;

	memcpy(&id, daddr, sizeof(id));
	return id;
}

void ct_unix_key_set(uint8_t daddr[16], uint32_t id)
{
	memset(daddr, 0, 16);
	memcpy(daddr, &id, sizeof(id));
}

void ct_rfc3339(uint64_t unix_ns, char *buf, size_t len)
{
	time_t secs = unix_ns / 1000000000ULL;
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(unix_ns % 1000000000ULL / 1000000));
}

uint64_t ct_hash(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;

	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
		p += 8;
		len -= 8;
	}
	while (len--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

uint64_t ct_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}
