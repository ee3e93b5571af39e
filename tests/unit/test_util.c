// SPDX-License-Identifier: GPL-2.0-or-later
/* util.c: strict number parsing, errno names, addresses, sanitizing hostile
 * text, time formatting, hashing. */
#include <errno.h>
#include <limits.h>

#include "check.h"

static void test_parse_long(void)
{
	long v;

	v = 77;
	CHECK_I("parse_long.empty", -EINVAL, ct_parse_long("", 0, 10, &v));
	CHECK_I("parse_long.null", -EINVAL, ct_parse_long(NULL, 0, 10, &v));
	CHECK_I("parse_long.empty_leaves_out", 77, v);
	CHECK_I("parse_long.plain_rc", 0, ct_parse_long("12", 0, 100, &v));
	CHECK_I("parse_long.plain_value", 12, v);
	v = 77;
	CHECK_I("parse_long.trailing_junk", -EINVAL, ct_parse_long("12x", 0, 100, &v));
	CHECK_I("parse_long.trailing_space", -EINVAL, ct_parse_long("12 ", 0, 100, &v));
	CHECK_I("parse_long.junk_leaves_out", 77, v);
	CHECK_I("parse_long.letters", -EINVAL, ct_parse_long("abc", 0, 100, &v));
	CHECK_I("parse_long.sign_only", -EINVAL, ct_parse_long("-", -10, 100, &v));
	CHECK_I("parse_long.hex_is_not_decimal", -EINVAL, ct_parse_long("0x10", 0, 100, &v));
	CHECK_I("parse_long.fraction", -EINVAL, ct_parse_long("1.5", 0, 100, &v));
	CHECK_I("parse_long.overflow", -ERANGE,
		ct_parse_long("99999999999999999999", 0, LONG_MAX, &v));
	CHECK_I("parse_long.underflow", -ERANGE,
		ct_parse_long("-99999999999999999999", LONG_MIN, 0, &v));
	CHECK_I("parse_long.overflow_leaves_out", 77, v);
	CHECK_I("parse_long.below_range", -ERANGE, ct_parse_long("-1", 0, 10, &v));
	CHECK_I("parse_long.above_range", -ERANGE, ct_parse_long("11", 0, 10, &v));
	CHECK_I("parse_long.hi_inclusive_rc", 0, ct_parse_long("10", 0, 10, &v));
	CHECK_I("parse_long.hi_inclusive_value", 10, v);
	CHECK_I("parse_long.lo_inclusive_rc", 0, ct_parse_long("-3", -3, 10, &v));
	CHECK_I("parse_long.lo_inclusive_value", -3, v);
	CHECK_I("parse_long.long_max_rc", 0, ct_parse_long("9223372036854775807", 0, LONG_MAX, &v));
	CHECK_I("parse_long.long_max_value", LONG_MAX, v);
	CHECK_I("parse_long.long_min_rc", 0,
		ct_parse_long("-9223372036854775808", LONG_MIN, 0, &v));
	CHECK_I("parse_long.long_min_value", LONG_MIN, v);
	CHECK_I("parse_long.port_range", -ERANGE, ct_parse_long("65536", 0, 65535, &v));
	/* one syntax, decimal digits only: what strtol() alone also takes is
	 * not a number (leading space, '+'), nor is a '-' where none may be */
	v = 77;
	CHECK_I("parse_long.leading_space", -EINVAL, ct_parse_long(" 5", 0, 100, &v));
	CHECK_I("parse_long.leading_tab", -EINVAL, ct_parse_long("\t5", 0, 100, &v));
	CHECK_I("parse_long.leading_newline", -EINVAL, ct_parse_long("\n5", 0, 100, &v));
	CHECK_I("parse_long.plus", -EINVAL, ct_parse_long("+5", 0, 100, &v));
	CHECK_I("parse_long.plus_signed_range", -EINVAL, ct_parse_long("+5", -10, 100, &v));
	CHECK_I("parse_long.space_after_minus", -EINVAL, ct_parse_long("- 5", -10, 100, &v));
	CHECK_I("parse_long.double_minus", -EINVAL, ct_parse_long("--5", -10, 100, &v));
	CHECK_I("parse_long.minus_zero_unsigned", -ERANGE, ct_parse_long("-0", 0, 100, &v));
	CHECK_I("parse_long.hex_upper", -EINVAL, ct_parse_long("0X10", 0, 100, &v));
	CHECK_I("parse_long.exponent", -EINVAL, ct_parse_long("1e2", 0, 1000, &v));
	CHECK_I("parse_long.strict_leaves_out", 77, v);
	CHECK_I("parse_long.leading_zero_is_decimal_rc", 0, ct_parse_long("010", 0, 100, &v));
	CHECK_I("parse_long.leading_zero_is_decimal_value", 10, v);
	CHECK_I("parse_long.minus_zero_signed_rc", 0, ct_parse_long("-0", -5, 100, &v));
	CHECK_I("parse_long.minus_zero_signed_value", 0, v);
}

static void test_parse_double(void)
{
	double d = 7;

	CHECK_I("parse_double.empty", -EINVAL, ct_parse_double("", 0.1, 3600, &d));
	CHECK_I("parse_double.null", -EINVAL, ct_parse_double(NULL, 0.1, 3600, &d));
	CHECK_I("parse_double.plain_rc", 0, ct_parse_double("1.5", 0.1, 3600, &d));
	CHECK_D("parse_double.plain_value", 1.5, d, 0);
	d = 7;
	CHECK_I("parse_double.trailing_junk", -EINVAL, ct_parse_double("1.5s", 0.1, 3600, &d));
	CHECK_I("parse_double.nan", -EINVAL, ct_parse_double("nan", -1e9, 1e9, &d));
	CHECK_I("parse_double.junk_leaves_out", 7, (long)d);
	CHECK_I("parse_double.overflow", -ERANGE, ct_parse_double("1e999", 0, 1e308, &d));
	CHECK_I("parse_double.inf_not_decimal", -EINVAL, ct_parse_double("inf", 0.1, 3600, &d));
	CHECK_I("parse_double.below_range", -ERANGE, ct_parse_double("0.05", 0.1, 3600, &d));
	CHECK_I("parse_double.above_range", -ERANGE, ct_parse_double("3600.5", 0.1, 3600, &d));
	CHECK_I("parse_double.negative", -ERANGE, ct_parse_double("-1", 0.1, 3600, &d));
	CHECK_I("parse_double.hi_inclusive_rc", 0, ct_parse_double("3600", 0.1, 3600, &d));
	CHECK_D("parse_double.hi_inclusive_value", 3600, d, 0);
	CHECK_I("parse_double.exponent_rc", 0, ct_parse_double("2.5e1", 0.1, 3600, &d));
	CHECK_D("parse_double.exponent_value", 25, d, 0);
	/* decimal only: strtod() alone reads "0x10" as 16 (-d 0x10 was 16 s) */
	d = 7;
	CHECK_I("parse_double.hex", -EINVAL, ct_parse_double("0x10", 0.1, 3600, &d));
	CHECK_I("parse_double.hex_float", -EINVAL, ct_parse_double("0x1p4", 0.1, 3600, &d));
	CHECK_I("parse_double.leading_space", -EINVAL, ct_parse_double(" 1", 0.1, 3600, &d));
	CHECK_I("parse_double.trailing_space", -EINVAL, ct_parse_double("1 ", 0.1, 3600, &d));
	CHECK_I("parse_double.plus", -EINVAL, ct_parse_double("+1", 0.1, 3600, &d));
	CHECK_I("parse_double.inf", -EINVAL, ct_parse_double("inf", -1e9, 1e9, &d));
	CHECK_I("parse_double.infinity", -EINVAL, ct_parse_double("infinity", 0.1, 3600, &d));
	CHECK_I("parse_double.dot_only", -EINVAL, ct_parse_double(".", 0.1, 3600, &d));
	CHECK_I("parse_double.exponent_without_digits", -EINVAL,
		ct_parse_double("1e", 0.1, 3600, &d));
	CHECK_I("parse_double.exponent_sign_only", -EINVAL, ct_parse_double("1e+", 0.1, 3600, &d));
	CHECK_I("parse_double.comma", -EINVAL, ct_parse_double("1,5", 0.1, 3600, &d));
	CHECK_I("parse_double.minus_zero", -ERANGE, ct_parse_double("-0", 0, 3600, &d));
	CHECK_I("parse_double.strict_leaves_out", 7, (long)d);
	CHECK_I("parse_double.leading_dot_rc", 0, ct_parse_double(".5", 0.1, 3600, &d));
	CHECK_D("parse_double.leading_dot_value", 0.5, d, 0);
	CHECK_I("parse_double.trailing_dot_rc", 0, ct_parse_double("2.", 0.1, 3600, &d));
	CHECK_D("parse_double.trailing_dot_value", 2, d, 0);
	CHECK_I("parse_double.negative_exponent_rc", 0, ct_parse_double("5e-1", 0.1, 3600, &d));
	CHECK_D("parse_double.negative_exponent_value", 0.5, d, 0);
	CHECK_I("parse_double.signed_range_rc", 0, ct_parse_double("-2.5", -10, 10, &d));
	CHECK_D("parse_double.signed_range_value", -2.5, d, 0);
}

static void test_parse_size(void)
{
	uint64_t v = 77;

	CHECK_I("parse_size.empty", -EINVAL, ct_parse_size("", 0, 1ULL << 30, &v));
	CHECK_I("parse_size.null", -EINVAL, ct_parse_size(NULL, 0, 1ULL << 30, &v));
	CHECK_I("parse_size.suffix_only", -EINVAL, ct_parse_size("M", 0, 1ULL << 30, &v));
	CHECK_I("parse_size.two_letter_suffix", -EINVAL, ct_parse_size("4MB", 0, 1ULL << 30, &v));
	CHECK_I("parse_size.junk", -EINVAL, ct_parse_size("4x", 0, 1ULL << 30, &v));
	CHECK_I("parse_size.fraction", -EINVAL, ct_parse_size("1.5M", 0, 1ULL << 30, &v));
	CHECK_I("parse_size.errors_leave_out", 77, v);
	CHECK_I("parse_size.4M_rc", 0, ct_parse_size("4M", 64 << 10, 1ULL << 30, &v));
	CHECK_U("parse_size.4M_value", 4194304, v);
	CHECK_I("parse_size.4m_rc", 0, ct_parse_size("4m", 64 << 10, 1ULL << 30, &v));
	CHECK_U("parse_size.4m_value", 4194304, v);
	CHECK_I("parse_size.64K_rc", 0, ct_parse_size("64K", 64 << 10, 1ULL << 30, &v));
	CHECK_U("parse_size.64K_value", 65536, v);
	CHECK_I("parse_size.1k_rc", 0, ct_parse_size("1k", 1, 1ULL << 30, &v));
	CHECK_U("parse_size.1k_value", 1024, v);
	CHECK_I("parse_size.1G_rc", 0, ct_parse_size("1G", 64 << 10, 1ULL << 30, &v));
	CHECK_U("parse_size.1G_value", 1073741824ULL, v);
	CHECK_I("parse_size.bytes_rc", 0, ct_parse_size("65536", 64 << 10, 1ULL << 30, &v));
	CHECK_U("parse_size.bytes_value", 65536, v);
	v = 77;
	CHECK_I("parse_size.below_lo", -ERANGE, ct_parse_size("63K", 64 << 10, 1ULL << 30, &v));
	CHECK_I("parse_size.above_hi", -ERANGE, ct_parse_size("2G", 64 << 10, 1ULL << 30, &v));
	CHECK_I("parse_size.above_hi_by_one_unit", -ERANGE,
		ct_parse_size("1025M", 0, 1ULL << 30, &v));
	CHECK_I("parse_size.above_hi_bytes", -ERANGE,
		ct_parse_size("1073741825", 0, 1ULL << 30, &v));
	CHECK_I("parse_size.negative", -ERANGE, ct_parse_size("-1", 0, 1ULL << 30, &v));
	CHECK_I("parse_size.overflow", -ERANGE,
		ct_parse_size("99999999999999999999G", 0, 1ULL << 30, &v));
	CHECK_I("parse_size.range_errors_leave_out", 77, v);
	CHECK_I("parse_size.leading_space", -EINVAL, ct_parse_size(" 64K", 0, 1ULL << 30, &v));
	CHECK_I("parse_size.space_before_suffix", -EINVAL,
		ct_parse_size("64 K", 0, 1ULL << 30, &v));
	CHECK_I("parse_size.plus", -EINVAL, ct_parse_size("+64K", 0, 1ULL << 30, &v));
	CHECK_I("parse_size.hex", -EINVAL, ct_parse_size("0x10K", 0, 1ULL << 30, &v));
	CHECK_I("parse_size.strict_leaves_out", 77, v);
	/* the whole uint64_t range is a legitimate [lo, hi] */
	CHECK_I("parse_size.hi_uint64_max_rc", 0, ct_parse_size("5", 0, UINT64_MAX, &v));
	CHECK_U("parse_size.hi_uint64_max_value", 5, v);
	CHECK_I("parse_size.hi_uint64_max_k_rc", 0, ct_parse_size("5K", 0, UINT64_MAX, &v));
	CHECK_U("parse_size.hi_uint64_max_k_value", 5120, v);
}

static void test_errno_name(void)
{
	char buf[32];
	const char *s;

	CHECK_S("errno_name.econnrefused", "ECONNREFUSED", ct_errno_name(111, buf, sizeof(buf)));
	CHECK_S("errno_name.negative", "ECONNREFUSED", ct_errno_name(-111, buf, sizeof(buf)));
	CHECK_S("errno_name.etimedout", "ETIMEDOUT", ct_errno_name(ETIMEDOUT, buf, sizeof(buf)));
	CHECK_S("errno_name.enetunreach", "ENETUNREACH",
		ct_errno_name(ENETUNREACH, buf, sizeof(buf)));
	CHECK_S("errno_name.ehostunreach", "EHOSTUNREACH",
		ct_errno_name(EHOSTUNREACH, buf, sizeof(buf)));
	CHECK_S("errno_name.einprogress", "EINPROGRESS",
		ct_errno_name(EINPROGRESS, buf, sizeof(buf)));
	CHECK_S("errno_name.eacces", "EACCES", ct_errno_name(EACCES, buf, sizeof(buf)));
	CHECK_S("errno_name.eperm", "EPERM", ct_errno_name(EPERM, buf, sizeof(buf)));
	CHECK_S("errno_name.eaddrnotavail", "EADDRNOTAVAIL",
		ct_errno_name(EADDRNOTAVAIL, buf, sizeof(buf)));
	CHECK_S("errno_name.erestartsys", "ERESTARTSYS", ct_errno_name(512, buf, sizeof(buf)));
	buf[0] = 0;
	s = ct_errno_name(9999, buf, sizeof(buf));
	CHECK_S("errno_name.unknown", "E9999", s);
	CHECK("errno_name.unknown_in_buf", s == buf);
	CHECK_S("errno_name.unknown_negative", "E4242", ct_errno_name(-4242, buf, sizeof(buf)));
	{
		char small[4] = "zzz";

		CHECK_S("errno_name.unknown_truncated", "E99",
			ct_errno_name(99999, small, sizeof(small)));
	}
	/* and back, for err: filter terms: every name the table gives */
	CHECK_I("errno_parse.name", ECONNREFUSED, ct_errno_parse("ECONNREFUSED"));
	CHECK_I("errno_parse.any_case", ECONNREFUSED, ct_errno_parse("econnRefused"));
	CHECK_I("errno_parse.erestartsys", 512, ct_errno_parse("ERESTARTSYS"));
	CHECK_I("errno_parse.e_number", 111, ct_errno_parse("E111"));
	CHECK_I("errno_parse.number", 111, ct_errno_parse("111"));
	CHECK_I("errno_parse.round_trip_unknown", 4000,
		ct_errno_parse(ct_errno_name(4000, buf, sizeof(buf))));
	CHECK_I("errno_parse.unknown_name", -1, ct_errno_parse("ENOPE"));
	CHECK_I("errno_parse.empty", -1, ct_errno_parse(""));
	CHECK_I("errno_parse.e_only", -1, ct_errno_parse("E"));
	CHECK_I("errno_parse.zero", -1, ct_errno_parse("0"));
	CHECK_I("errno_parse.plus", -1, ct_errno_parse("+111"));
	CHECK_I("errno_parse.e_plus", -1, ct_errno_parse("E+111"));
	CHECK_I("errno_parse.too_big", -1, ct_errno_parse("4096"));
	CHECK_I("errno_parse.prefix_of_name", -1, ct_errno_parse("ECONNREF"));
}

static void test_addr(void)
{
	uint8_t a[16], want[16] = { 1, 2, 3, 4 };
	char buf[64];

	memset(a, 0, sizeof(a));
	inet_pton(AF_INET6, "::ffff:1.2.3.4", a);
	CHECK_I("addr_normalize.mapped_family", 4, ct_addr_normalize(6, a));
	CHECK("addr_normalize.mapped_bytes", !memcmp(a, want, 16));

	inet_pton(AF_INET6, "::1", a);
	{
		uint8_t copy[16];

		memcpy(copy, a, 16);
		CHECK_I("addr_normalize.v6_family", 6, ct_addr_normalize(6, a));
		CHECK("addr_normalize.v6_untouched", !memcmp(a, copy, 16));
		/* IPv4-compatible (::a.b.c.d) and ::ffff:0:a.b.c.d are not mapped */
		inet_pton(AF_INET6, "::1.2.3.4", a);
		CHECK_I("addr_normalize.v4_compatible_stays_v6", 6, ct_addr_normalize(6, a));
		inet_pton(AF_INET6, "::ffff:0:1.2.3.4", a);
		CHECK_I("addr_normalize.v4_translated_stays_v6", 6, ct_addr_normalize(6, a));
		inet_pton(AF_INET6, "fd00::ffff:1.2.3.4", a);
		CHECK_I("addr_normalize.ula_stays_v6", 6, ct_addr_normalize(6, a));
	}
	memset(a, 0, sizeof(a));
	memcpy(a, want, 4);
	a[15] = 9; /* whatever follows is not looked at */
	CHECK_I("addr_normalize.v4_family", 4, ct_addr_normalize(4, a));
	CHECK_I("addr_normalize.v4_untouched", 9, a[15]);

	memset(a, 0, sizeof(a));
	inet_pton(AF_INET, "10.0.0.1", a);
	ct_addr_str(4, a, buf, sizeof(buf));
	CHECK_S("addr_str.v4", "10.0.0.1", buf);
	inet_pton(AF_INET6, "fd00::1", a);
	ct_addr_str(6, a, buf, sizeof(buf));
	CHECK_S("addr_str.v6", "fd00::1", buf);
	inet_pton(AF_INET, "10.0.0.1", a);
	ct_addr_str(4, a, buf, 5);
	CHECK_S("addr_str.truncated", "10.0", buf);

	/* the scope: the interface's name here (lo is index 1 in every
	 * network namespace), its index where there is none, nothing at 0 */
	inet_pton(AF_INET6, "fe80::1", a);
	ct_addr_scope_str(6, a, 1, buf, sizeof(buf));
	CHECK_S("addr_scope_str.name", "fe80::1%lo", buf);
	ct_addr_scope_str(6, a, 0x7ffffff0, buf, sizeof(buf));
	CHECK_S("addr_scope_str.no_such_index", "fe80::1%2147483632", buf);
	ct_addr_scope_str(6, a, 0, buf, sizeof(buf));
	CHECK_S("addr_scope_str.none", "fe80::1", buf);
	ct_addr_scope_str(6, a, 1, buf, 10);
	CHECK_S("addr_scope_str.truncated", "fe80::1%l", buf);
	inet_pton(AF_INET, "10.0.0.1", a);
	ct_addr_scope_str(4, a, 1, buf, sizeof(buf));
	CHECK_S("addr_scope_str.v4_has_none", "10.0.0.1", buf);
}

static void san(const char *name, const char *in, size_t inlen, size_t outlen, const char *want)
{
	char out[256];
	size_t n;

	memset(out, 'Z', sizeof(out));
	n = ct_sanitize(in, inlen, out, outlen);
	CHECK_S(nm("sanitize.%s", name), want, out);
	CHECK_U(nm("sanitize.%s.length", name), strlen(want), n);
}

static void test_sanitize(void)
{
	char out[8] = "keep";

	san("plain", "hello", 5, 64, "hello");
	san("esc", "\x1b[31mred", 8, 64, "\\x1b[31mred");
	san("newline_tab_cr", "a\nb\tc\r", 6, 64, "a\\x0ab\\x09c\\x0d");
	san("del", "a\x7f", 2, 64, "a\\x7f");
	san("invalid_byte",
	    "a\xff"
	    "b",
	    3, 64, "a\\xffb");
	san("rlo",
	    "a\xe2\x80\xae"
	    "b",
	    5, 64, "a\\u202eb");
	san("lro", "\xe2\x80\xad", 3, 64, "\\u202d");
	san("lri", "\xe2\x81\xa6", 3, 64, "\\u2066");
	san("pdi", "\xe2\x81\xa9", 3, 64, "\\u2069");
	san("lrm", "\xe2\x80\x8e", 3, 64, "\\u200e");
	san("alm", "\xd8\x9c", 2, 64, "\\u061c");
	/* a C1 control is a character (\u), a lone byte is \x: told apart */
	san("c1_control", "\xc2\x85", 2, 64, "\\u0085");
	san("c1_first", "\xc2\x80", 2, 64, "\\u0080");
	san("c1_csi",
	    "\xc2\x9b"
	    "31m",
	    5, 64, "\\u009b31m");
	san("c1_lone_byte", "\x85", 1, 64, "\\x85");
	/* invisible: format characters (Cf), as the bidi overrides */
	san("zwsp",
	    "\xe2\x80\x8b"
	    "zw",
	    5, 64, "\\u200bzw");
	san("bom",
	    "\xef\xbb\xbf"
	    "zw",
	    5, 64, "\\ufeffzw");
	san("soft_hyphen", "a\xc2\xad", 3, 64, "a\\u00ad");
	san("word_joiner", "\xe2\x81\xa0", 3, 64, "\\u2060");
	san("line_separator", "\xe2\x80\xa8", 3, 64, "\\u2028");
	san("paragraph_separator", "\xe2\x80\xa9", 3, 64, "\\u2029");
	san("tag_above_ffff", "\xf3\xa0\x80\x81", 4, 64, "\\U000e0001");
	san("tag_last", "\xf3\xa0\x81\xbf", 4, 64, "\\U000e007f");
	san("musical_format", "\xf0\x9d\x85\xb3", 4, 64, "\\U0001d173");
	/* a backslash is escaped, so an escape is never the name's own text */
	san("backslash", "a\\b", 3, 64, "a\\\\b");
	san("literal_x0a", "a\\x0ab", 6, 64, "a\\\\x0ab");
	san("literal_u200b", "\\u200b", 6, 64, "\\\\u200b");
	san("latin1_kept", "caf\xc3\xa9", 5, 64, "caf\xc3\xa9");
	san("nbsp_kept", "\xc2\xa0", 2, 64, "\xc2\xa0");
	san("cjk_kept", "\xe6\x97\xa5\xe6\x9c\xac", 6, 64, "\xe6\x97\xa5\xe6\x9c\xac");
	san("emoji_kept", "\xf0\x9f\x98\x80", 4, 64, "\xf0\x9f\x98\x80");
	san("overlong", "\xc0\x80", 2, 64, "\\xc0\\x80");
	san("overlong_slash", "\xe0\x80\xaf", 3, 64, "\\xe0\\x80\\xaf");
	san("surrogate", "\xed\xa0\x80", 3, 64, "\\xed\\xa0\\x80");
	san("above_max", "\xf4\x90\x80\x80", 4, 64, "\\xf4\\x90\\x80\\x80");
	san("cut_sequence", "a\xe2\x80", 3, 64, "a\\xe2\\x80");
	san("lone_continuation", "\x80", 1, 64, "\\x80");
	san("inlen_limits", "abcdef", 3, 64, "abc");
	san("stops_at_nul", "ab\0cd", 5, 64, "ab");
	/* truncation on whole characters, NUL always written */
	san("trunc_ascii", "abcdef", 6, 4, "abc");
	san("trunc_before_2byte", "a\xc3\xa9", 3, 3, "a");
	san("trunc_2byte_fits", "a\xc3\xa9", 3, 4, "a\xc3\xa9");
	san("trunc_before_3byte", "\xe6\x97\xa5", 3, 3, "");
	san("trunc_before_4byte", "x\xf0\x9f\x98\x80", 5, 5, "x");
	san("trunc_before_escape", "\x1b", 1, 4, "");
	san("trunc_escape_fits", "\x1b", 1, 5, "\\x1b");
	san("trunc_before_u_escape", "a\xe2\x80\xae", 4, 7, "a");
	san("trunc_u_escape_fits", "a\xe2\x80\xae", 4, 8, "a\\u202e");
	san("trunc_before_U_escape", "\xf3\xa0\x80\x81", 4, 10, "");
	san("trunc_U_escape_fits", "\xf3\xa0\x80\x81", 4, 11, "\\U000e0001");
	san("trunc_before_backslash", "ab\\", 3, 4, "ab");
	san("trunc_backslash_fits", "ab\\", 3, 5, "ab\\\\");
	san("outlen_1", "abc", 3, 1, "");
	CHECK_U("sanitize.outlen_0_returns_0", 0, ct_sanitize("abc", 3, out, 0));
	CHECK_S("sanitize.outlen_0_untouched", "keep", out);

	/* every single byte comes out as printable ASCII or valid UTF-8 */
	{
		int bad = -1;

		for (int c = 1; c < 256 && bad < 0; c++) {
			char in[1] = { (char)c }, o[16];
			size_t n = ct_sanitize(in, 1, o, sizeof(o));

			if (ck_first_control(o, n) >= 0 || memchr(o, '\n', n) ||
			    !ck_utf8_valid((unsigned char *)o, n))
				bad = c;
		}
		ck(bad < 0, "sanitize.every_byte_safe", "byte 0x%02x comes out unsafe", bad);
	}
}

/* UTF-8 of one code point; the length */
static size_t utf8_put(uint32_t c, char *o)
{
	if (c < 0x80)
		return o[0] = (char)c, 1;
	if (c < 0x800)
		return o[0] = (char)(0xc0 | c >> 6), o[1] = (char)(0x80 | (c & 0x3f)), 2;
	if (c < 0x10000)
		return o[0] = (char)(0xe0 | c >> 12), o[1] = (char)(0x80 | (c >> 6 & 0x3f)),
		       o[2] = (char)(0x80 | (c & 0x3f)), 3;
	return o[0] = (char)(0xf0 | c >> 18), o[1] = (char)(0x80 | (c >> 12 & 0x3f)),
	       o[2] = (char)(0x80 | (c >> 6 & 0x3f)), o[3] = (char)(0x80 | (c & 0x3f)), 4;
}

/*
 * The reader's side of the escaping: turns ct_sanitize's output back into
 * the bytes it came from, or returns -1 on a backslash that starts no
 * escape. That this exists and round-trips is what "two names never look
 * alike" means.
 */
static long unsanitize(const char *s, char *out)
{
	size_t o = 0;

	while (*s) {
		unsigned long v;
		int digits;
		char hex[9] = "";

		if (*s != '\\') {
			out[o++] = *s++;
			continue;
		}
		switch (s[1]) {
		case '\\':
			out[o++] = '\\';
			s += 2;
			continue;
		case 'x':
			digits = 2;
			break;
		case 'u':
			digits = 4;
			break;
		case 'U':
			digits = 8;
			break;
		default:
			return -1;
		}
		memcpy(hex, s + 2, digits);
		if (strspn(hex, "0123456789abcdef") != (size_t)digits)
			return -1;
		v = strtoul(hex, NULL, 16);
		if (s[1] == 'x')
			out[o++] = (char)v;
		else
			o += utf8_put((uint32_t)v, out + o);
		s += 2 + digits;
	}
	return (long)o;
}

/* Unicode 15's general category Cf, and Zl, Zp: what must not show as is */
static const uint32_t invisible[][2] = {
	{ 0xad, 0xad },	      { 0x600, 0x605 },	    { 0x61c, 0x61c },	  { 0x6dd, 0x6dd },
	{ 0x70f, 0x70f },     { 0x890, 0x891 },	    { 0x8e2, 0x8e2 },	  { 0x180e, 0x180e },
	{ 0x200b, 0x200f },   { 0x2028, 0x2029 },   { 0x202a, 0x202e },	  { 0x2060, 0x2064 },
	{ 0x2066, 0x206f },   { 0xfeff, 0xfeff },   { 0xfff9, 0xfffb },	  { 0x110bd, 0x110bd },
	{ 0x110cd, 0x110cd }, { 0x13430, 0x1343f }, { 0x1bca0, 0x1bca3 }, { 0x1d173, 0x1d17a },
	{ 0xe0001, 0xe0001 }, { 0xe0020, 0xe007f },
};

static int is_invisible(uint32_t c)
{
	for (size_t i = 0; i < ARRAY_SIZE(invisible); i++)
		if (c >= invisible[i][0] && c <= invisible[i][1])
			return 1;
	return 0;
}

static void test_sanitize_unicode(void)
{
	uint32_t wrong = 0, escaped = 0, cf = 0;
	int bad_form = 0;

	/* every code point: escaped exactly when it is a control, a backslash
	 * or invisible, and then as \xNN, \uNNNN or \UNNNNNNNN */
	for (uint32_t c = 1; c <= 0x10ffff; c++) {
		char in[4], out[16], want[16];
		size_t n, on;
		int esc;

		if (c >= 0xd800 && c <= 0xdfff)
			continue;
		n = utf8_put(c, in);
		on = ct_sanitize(in, n, out, sizeof(out));
		esc = c < 0x20 || (c >= 0x7f && c < 0xa0) || c == '\\' || is_invisible(c);
		cf += is_invisible(c);
		if (!esc) {
			if (on != n || memcmp(out, in, n))
				wrong = wrong ? wrong : c;
			continue;
		}
		escaped++;
		if (c == '\\')
			snprintf(want, sizeof(want), "\\\\");
		else if (c < 0x80)
			snprintf(want, sizeof(want), "\\x%02x", c);
		else if (c < 0x10000)
			snprintf(want, sizeof(want), "\\u%04x", c);
		else
			snprintf(want, sizeof(want), "\\U%08x", c);
		if (strcmp(out, want))
			wrong = wrong ? wrong : c, bad_form = 1;
	}
	ck(!wrong, "sanitize.every_code_point", "U+%04X %s", wrong,
	   bad_form ? "escaped in the wrong form" : "escaped or kept wrongly");
	/* 170 Cf and U+2028, U+2029 (Unicode 15) */
	CHECK_U("sanitize.invisible_count", 172, cf);
	/* those, 64 controls (C0 but NUL, DEL, C1) and the backslash */
	CHECK_U("sanitize.escaped_count", 172 + 64 + 1, escaped);

	/* random bytes, biased to the interesting ones: the escaped text reads
	 * back to the name, so no two names are shown alike */
	{
		static const char pieces[][5] = {
			"\\",
			"x",
			"0",
			"a",
			"u",
			"@",
			"\n",
			"\x1b",
			"\xc2\x85",
			"\x85",
			"\xe2\x80\x8b",
			"\xef\xbb\xbf",
			"\xe2",
			"\x80",
			"\xe2\x80",
			"\xf3\xa0\x80",
			"\xc3\xa9",
			"\x7f",
			"\"",
			"U",
			"\xf0\x9f\x98\x80",
		};
		uint64_t seed = 0x2545f4914f6cdd1dULL;
		int fails = 0, first = -1;

		for (int iter = 0; iter < 200000; iter++) {
			char in[64], out[4 * 64 + 1], back[64];
			size_t n = 0;
			long bn;

			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			for (unsigned k = 0, m = seed % 8 + 1; k < m; k++) {
				const char *p = pieces[(seed >> (8 + 5 * k)) % ARRAY_SIZE(pieces)];

				memcpy(in + n, p, strlen(p));
				n += strlen(p);
			}
			ct_sanitize(in, n, out, sizeof(out));
			bn = unsanitize(out, back);
			if (bn != (long)n || memcmp(back, in, n)) {
				if (first < 0)
					first = iter;
				fails++;
			}
		}
		ck(!fails, "sanitize.round_trip", "%d of 200000 names do not read back (first %d)",
		   fails, first);
	}
	/* the two names of the report */
	{
		char a[64], b[64];

		ct_sanitize("a\nb", 3, a, sizeof(a));
		ct_sanitize("a\\x0ab", 6, b, sizeof(b));
		CHECK("sanitize.newline_and_text_differ", strcmp(a, b) != 0);
	}
}

static void test_rfc3339(void)
{
	char buf[40];

	ct_rfc3339(1700000000123456789ULL, buf, sizeof(buf));
	CHECK_S("rfc3339.millis", "2023-11-14T22:13:20.123Z", buf);
	ct_rfc3339(0, buf, sizeof(buf));
	CHECK_S("rfc3339.epoch", "1970-01-01T00:00:00.000Z", buf);
	ct_rfc3339(951782400999999999ULL, buf, sizeof(buf));
	CHECK_S("rfc3339.leap_day_truncates_millis", "2000-02-29T00:00:00.999Z", buf);
}

static void test_hash(void)
{
	uint8_t a[40] = { 1 }, b[40] = { 1 };

	CHECK("hash.deterministic", ct_hash(a, sizeof(a)) == ct_hash(b, sizeof(b)));
	b[39] = 1;
	CHECK("hash.last_byte_matters", ct_hash(a, sizeof(a)) != ct_hash(b, sizeof(b)));
	CHECK("hash.length_matters", ct_hash(a, 39) != ct_hash(a, 40));
	CHECK_U("array_size", 40, ARRAY_SIZE(a));
}

static void test_unix_paths(void)
{
	char big[200], buf[CT_ADDR_STRLEN];
	uint8_t key[16];
	uint32_t a, b, a2, b2, id, used, first_full = 0;

	a = ct_unix_path_id("/run/x.sock\0garbage", 20);
	CHECK_S("unix.path_ends_at_nul", "/run/x.sock", ct_unix_path(a));
	CHECK_U("unix.same_path_same_id", a, ct_unix_path_id("/run/x.sock", 11));
	CHECK_U("unix.trailing_nul_same_id", a, ct_unix_path_id("/run/x.sock", 12));
	b = ct_unix_path_id("\0abs\0x", 6);
	CHECK_S("unix.abstract_at", "@abs@x", ct_unix_path(b));
	CHECK("unix.distinct_ids", a != b);
	CHECK_S("unix.unnamed", "(unnamed)", ct_unix_path(ct_unix_path_id("", 0)));
	CHECK_S("unix.sanitized", "/tmp/a\\x0ab\\x1b[2J",
		ct_unix_path(ct_unix_path_id("/tmp/a\nb\x1b[2J", 13)));
	/* a path that starts with '@' is not the abstract name */
	a2 = ct_unix_path_id("@notabstract", 12);
	b2 = ct_unix_path_id("\0notabstract", 12);
	CHECK_S("unix.path_leading_at", "\\x40notabstract", ct_unix_path(a2));
	CHECK_S("unix.abstract_shown_at", "@notabstract", ct_unix_path(b2));
	CHECK("unix.at_path_and_abstract_differ", a2 != b2);
	CHECK_S("unix.path_inner_at_kept", "/run/a@b",
		ct_unix_path(ct_unix_path_id("/run/a@b", 8)));
	/* in an abstract name '@' is a NUL, a real '@' \x40 */
	a2 = ct_unix_path_id("\0a@b", 4);
	b2 = ct_unix_path_id("\0a\0b", 4);
	CHECK_S("unix.abstract_real_at", "@a\\x40b", ct_unix_path(a2));
	CHECK_S("unix.abstract_nul_at", "@a@b", ct_unix_path(b2));
	CHECK("unix.abstract_at_and_nul_differ", a2 != b2);
	CHECK_S("unix.abstract_leading_at", "@\\x40x", ct_unix_path(ct_unix_path_id("\0@x", 3)));
	CHECK_S("unix.abstract_only_nuls", "@@@", ct_unix_path(ct_unix_path_id("\0\0\0", 3)));
	CHECK_S("unix.abstract_escaped", "@a\\\\b\\x0a\\u200b",
		ct_unix_path(ct_unix_path_id("\0a\\b\n\xe2\x80\x8b", 8)));
	CHECK_S("unix.path_backslash", "/tmp/a\\\\x0ab",
		ct_unix_path(ct_unix_path_id("/tmp/a\\x0ab", 11)));
	{
		/* 108 bytes of the worst kind fit the display form */
		char worst[108];

		memset(worst, 0xff, sizeof(worst));
		worst[0] = 0;
		CHECK_U("unix.worst_abstract_whole", 1 + 107 * 4,
			strlen(ct_unix_path(ct_unix_path_id(worst, sizeof(worst)))));
	}
	memset(big, 'z', sizeof(big));
	big[0] = '/';
	CHECK_U("unix.at_most_sun_path", 108,
		strlen(ct_unix_path(ct_unix_path_id(big, sizeof(big)))));
	ct_unix_key_set(key, b);
	CHECK_U("unix.key_round_trip", b, ct_unix_key_id(key));
	ct_addr_str(CT_FAMILY_UNIX, key, buf, sizeof(buf));
	CHECK_S("unix.addr_str", "@abs@x", buf);
	/* bounded: past CT_UNIX_PATHS_MAX paths every new one shares one id;
	 * ids are given in order, so the next new one is the count so far */
	used = ct_unix_path_id("/many/first", 11) + 1;
	for (uint32_t i = 0; i < CT_UNIX_PATHS_MAX + 10; i++) {
		char p[32];

		snprintf(p, sizeof(p), "/many/%u", i);
		id = ct_unix_path_id(p, strlen(p));
		if (id == CT_UNIX_PATH_FULL && !first_full)
			first_full = i;
	}
	CHECK_U("unix.full_after_max", CT_UNIX_PATHS_MAX - used, first_full);
	CHECK_S("unix.full_shown", "(path table full)", ct_unix_path(id));
	CHECK_U("unix.known_still_found", a, ct_unix_path_id("/run/x.sock", 11));
	CHECK_S("unix.first_still_there", "/run/x.sock", ct_unix_path(a));
}

int main(void)
{
	test_parse_long();
	test_parse_double();
	test_parse_size();
	test_errno_name();
	test_addr();
	test_sanitize();
	test_sanitize_unicode();
	test_rfc3339();
	test_hash();
	test_unix_paths();
	return ck_done();
}
