// SPDX-License-Identifier: GPL-2.0-or-later
/* DNS responses parsed for their names (see dns.h: hostile input) */
#include <string.h>
#include <sys/socket.h>

#include "dns.h"

#define DNS_HDR 12
#define T_A 1
#define T_CNAME 5
#define T_AAAA 28
#define C_IN 1

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int plain(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*';
}

int ct_dns_name(const uint8_t *buf, size_t len, size_t *off, char *out)
{
	size_t pos = *off, end = 0, o = 0, wire = 0;
	/* a pointer must point before the label that holds it: each jump goes
	 * strictly backwards, so the walk ends; limit is that bound */
	size_t limit = pos;
	int jumped = 0;

	for (;;) {
		uint8_t l;

		if (pos >= len)
			return -1;
		l = buf[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t to;

			if (pos + 1 >= len)
				return -1;
			to = (size_t)(l & 0x3f) << 8 | buf[pos + 1];
			if (to >= limit)
				return -1;
			if (!jumped)
				end = pos + 2;
			jumped = 1;
			limit = to;
			pos = to;
			continue;
		}
		if (l & 0xc0) /* 0x40, 0x80: extended and reserved label types */
			return -1;
		wire += 1u + l;
		if (wire > 255)
			return -1;
		if (l == 0) {
			pos++;
			break;
		}
		if (pos + 1 + l > len)
			return -1;
		if (o)
			out[o++] = '.';
		for (size_t i = 1; i <= l; i++) {
			uint8_t c = buf[pos + i];

			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c - 'A' + 'a');
			if (plain(c)) {
				out[o++] = (char)c;
			} else {
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + c / 10 % 10);
				out[o++] = (char)('0' + c % 10);
			}
		}
		pos += 1u + l;
	}
	if (!o)
		out[o++] = '.';
	out[o] = '\0';
	*off = jumped ? end : pos;
	return 0;
}

int ct_dns_parse(const uint8_t *buf, size_t len, struct ct_dns_msg *m)
{
	char owner[CT_DNS_NAME_MAX], target[CT_DNS_NAME_MAX];
	unsigned qd, an, flags;
	size_t off = DNS_HDR;

	if (len < DNS_HDR)
		return CT_DNS_MALFORMED;
	flags = get16(buf + 2);
	/* QR set, opcode 0 (QUERY) */
	if (!(flags & 0x8000) || (flags >> 11 & 0xf) != 0)
		return CT_DNS_NOT_RESPONSE;
	if (flags & 0x0200)
		return CT_DNS_TRUNCATED;
	qd = get16(buf + 4);
	an = get16(buf + 6);
	if (qd != 1)
		return CT_DNS_MALFORMED;
	m->id = get16(buf);
	m->rcode = (uint8_t)(flags & 0xf);
	m->n_cnames = 0;
	m->n_addrs = 0;
	m->n_addrs_dropped = 0;
	if (ct_dns_name(buf, len, &off, m->qname) < 0 || off + 4 > len)
		return CT_DNS_MALFORMED;
	off += 4;
	for (unsigned i = 0; i < an; i++) {
		unsigned type, class, rdlen;
		uint32_t ttl;
		const char *want;

		if (ct_dns_name(buf, len, &off, owner) < 0 || off + 10 > len)
			return CT_DNS_MALFORMED;
		type = get16(buf + off);
		class = get16(buf + off + 2);
		ttl = get32(buf + off + 4);
		rdlen = get16(buf + off + 8);
		off += 10;
		if (off + rdlen > len)
			return CT_DNS_MALFORMED;
		/* only records on the chain from qname count: a stray record
		 * for another owner must not lend its name */
		want = m->n_cnames ? m->cname[m->n_cnames - 1] : m->qname;
		if (class != C_IN || strcmp(owner, want)) {
			off += rdlen;
			continue;
		}
		if (type == T_CNAME) {
			size_t t = off;

			if (ct_dns_name(buf, off + rdlen, &t, target) < 0 || t != off + rdlen)
				return CT_DNS_MALFORMED;
			if (m->n_cnames == CT_DNS_MAX_CNAMES)
				return CT_DNS_MALFORMED;
			memcpy(m->cname[m->n_cnames++], target, sizeof(target));
		} else if ((type == T_A && rdlen == 4) || (type == T_AAAA && rdlen == 16)) {
			if (m->n_addrs == CT_DNS_MAX_ADDRS) {
				m->n_addrs_dropped++;
			} else {
				struct ct_dns_addr *a = &m->addrs[m->n_addrs++];

				memset(a, 0, sizeof(*a));
				a->family = type == T_A ? AF_INET : AF_INET6;
				memcpy(a->addr, buf + off, rdlen);
				a->ttl = ttl;
			}
		} else if (type == T_A || type == T_AAAA) {
			return CT_DNS_MALFORMED;
		}
		off += rdlen;
	}
	return CT_DNS_OK;
}
