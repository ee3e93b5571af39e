/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small pure helpers shared by every module: parsing, text, addresses. */
#ifndef CT_UTIL_H
#define CT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* the highest pid there can be: the kernel's PID_MAX_LIMIT on 64-bit
 * (include/linux/threads.h), for -p and pid: filter terms */
#define CT_PID_MAX 4194304

/*
 * Strict number parsing, the one parser of options and filter terms: the
 * whole string in decimal (digits, '-' only for a negative number; no
 * white space, '+', hex, "inf" or "nan"), within [lo, hi]. A double may
 * have a fraction and an exponent ("0.5", "2.5e1"). 0, -EINVAL (not such
 * a number) or -ERANGE (out of range: also a '-' where lo >= 0); *out is
 * written only on success.
 */
int ct_parse_long(const char *s, long lo, long hi, long *out);
int ct_parse_double(const char *s, double lo, double hi, double *out);
/* A size: ct_parse_long's digits with an optional k/K, m/M or g/G suffix
 * (powers of 1024). */
int ct_parse_size(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/* "ECONNREFUSED" for 111, or "E123" for an errno without a name here. The
 * returned string is static, or written to buf for unknown numbers. */
const char *ct_errno_name(int err, char *buf, size_t len);
/* The other way: "ECONNREFUSED" (any case), "E111" or "111" to 111; -1 for
 * a name not in the table or a number outside 1..4095. */
int ct_errno_parse(const char *name);

/* flow_key.family of an AF_UNIX destination (--unix): daddr holds a path id */
#define CT_FAMILY_UNIX 1
/* flow_key.family of a (process, *) row (flows.h): daddr is zero, shown "*" */
#define CT_FAMILY_FOLDED 2

/* Text form of an address: family 4 or 6, addr in network order. IPv4 uses
 * the first 4 bytes; CT_FAMILY_UNIX: the path (ct_unix_path_id). Writes at
 * most len bytes, NUL included. CT_ADDR_STRLEN holds any of them. */
#define CT_ADDR_STRLEN 512
void ct_addr_str(int family, const uint8_t addr[16], char *buf, size_t len);
/* the same, with "%interface" after an IPv6 address of a nonzero scope (as
 * ping and ss write a link-local one): its name as this network namespace
 * knows it, or the index where it has none (another namespace's, or gone) */
void ct_addr_scope_str(int family, const uint8_t addr[16], uint32_t scope, char *buf, size_t len);
/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) turned into IPv4: returns 4 and
 * moves the 4 bytes to the front, else returns 6 and leaves addr alone. */
int ct_addr_normalize(int family, uint8_t addr[16]);

/*
 * Make untrusted bytes (a process name, a DNS name, a path) safe to print
 * on a terminal or in a file, and tell every two inputs apart: valid
 * printable UTF-8 is kept; a backslash becomes "\\"; C0 controls and DEL
 * "\xNN" (newline "\x0a"); a byte that is not UTF-8 "\xNN" (always 80 or
 * above); C1 controls (U+0080..U+009F), Unicode format characters (Cf: zero
 * width space, BOM, bidi overrides, tags...) and U+2028/U+2029 "\uNNNN", or
 * "\UNNNNNNNN" above U+FFFF. The input ends at inlen or its first NUL. The
 * result holds no control or invisible character; JSON, CSV and Prometheus
 * quote it once more in their own way, and nothing sanitizes it twice (the
 * backslashes would double). Always NUL-terminates; truncates on whole characters (at most 4
 * output bytes an input byte). Returns the number of bytes written (without
 * the NUL).
 */
size_t ct_sanitize(const char *in, size_t inlen, char *out, size_t outlen);

/*
 * AF_UNIX destinations. A flow's key holds a 32-bit id of its path, not the
 * path. The id of the sun_path bytes a caller passed (len of them, as the
 * kernel reads them: a path name ends at its first NUL; an abstract name
 * starts with a NUL). Shown sanitized (ct_sanitize); an abstract name with a
 * leading '@', its other NULs as '@' too and a real '@' in it as "\x40"; a
 * path that starts with '@' with "\x40" instead, so that it never looks
 * abstract: the path "@x" and the abstract "\0x" are two ids. Paths are
 * kept for the life of the process, at most CT_UNIX_PATHS_MAX of them:
 * further ones all get CT_UNIX_PATH_FULL, shown as "(path table full)".
 * Not thread-safe: the main thread's.
 */
#define CT_UNIX_PATHS_MAX 16384 /* at most about 7 MB of hostile paths */
#define CT_UNIX_PATH_FULL UINT32_MAX
uint32_t ct_unix_path_id(const char *path, size_t len);
/* the display form of a path id (sanitized, printable): never NULL */
const char *ct_unix_path(uint32_t id);
/* the id in a flow key's daddr, and back */
uint32_t ct_unix_key_id(const uint8_t daddr[16]);
void ct_unix_key_set(uint8_t daddr[16], uint32_t id);

/* RFC 3339 UTC time with milliseconds, e.g. 2026-11-24T22:50:01.123Z */
void ct_rfc3339(uint64_t unix_ns, char *buf, size_t len);

/* ns on CLOCK_MONOTONIC, the clock of the BPF side's timestamps */
uint64_t ct_now_ns(void);

/* 64-bit hash of a byte string (FNV-1a folded with a final mix). */
uint64_t ct_hash(const void *data, size_t len);

#endif
