// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The DNS response parser (dns.c): hand-built answers (A, AAAA, a CNAME
 * chain, many addresses, compression), every kind of hostile packet the
 * parser must refuse (pointer loops, forward pointers, lengths past the
 * end, labels over 63, names over 255, TC set), then a fuzz run: random
 * bytes and mutations of valid packets, built under ASan/UBSan, where the
 * only pass condition is no crash and a sane result.
 */
#include <sys/socket.h>

#include "check.h"
#include "dns.h"

struct pkt {
	uint8_t b[1024];
	size_t n;
};

static void put8(struct pkt *p, unsigned v)
{
	p->b[p->n++] = (uint8_t)v;
}

static void put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8);
	put8(p, v & 0xff);
}

static void put32(struct pkt *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

static void putname(struct pkt *p, const char *dotted)
{
	while (*dotted) {
		const char *d = strchr(dotted, '.');
		size_t l = d ? (size_t)(d - dotted) : strlen(dotted);

		put8(p, (unsigned)l);
		memcpy(p->b + p->n, dotted, l);
		p->n += l;
		dotted += l + (d ? 1 : 0);
	}
	put8(p, 0);
}

static void hdr(struct pkt *p, unsigned flags, unsigned an)
{
	p->n = 0;
	put16(p, 0x1234);
	put16(p, flags);
	put16(p, 1);
	put16(p, an);
	put16(p, 0);
	put16(p, 0);
}

static void rr_head(struct pkt *p, unsigned type, unsigned rdlen)
{
	put16(p, type);
	put16(p, 1);
	put32(p, 300);
	put16(p, rdlen);
}

/* www.Example.COM A? -> www CNAME edge.cdn.test, edge.cdn.test A 192.0.2.7,
 * AAAA 2001:db8::7; names after the question compressed to offset 12 */
static void build_chain(struct pkt *p)
{
	size_t edge;

	hdr(p, 0x8180, 3);
	putname(p, "www.Example.COM");
	put16(p, 1);
	put16(p, 1);
	put16(p, 0xc00c);
	rr_head(p, 5, 15);
	edge = p->n;
	putname(p, "edge.cdn.test");
	put16(p, 0xc000 | (unsigned)edge);
	rr_head(p, 1, 4);
	put32(p, 0xc0000207);
	put16(p, 0xc000 | (unsigned)edge);
	rr_head(p, 28, 16);
	put32(p, 0x20010db8);
	put32(p, 0);
	put32(p, 0);
	put32(p, 7);
}

static void test_valid(void)
{
	struct ct_dns_msg m;
	struct pkt p;
	int r;

	build_chain(&p);
	r = ct_dns_parse(p.b, p.n, &m);
	ck(r == CT_DNS_OK, "chain parses", "got %d", r);
	ck_str("qname lower-case", "www.example.com", m.qname);
	ck(m.n_cnames == 1, "one cname", "got %d", m.n_cnames);
	ck_str("cname target", "edge.cdn.test", m.cname[0]);
	ck(m.n_addrs == 2, "two addresses", "got %d", m.n_addrs);
	ck(m.addrs[0].family == AF_INET && m.addrs[0].addr[0] == 192 && m.addrs[0].addr[3] == 7,
	   "A via chain", "family %d", m.addrs[0].family);
	ck(m.addrs[1].family == AF_INET6 && m.addrs[1].addr[15] == 7, "AAAA via chain", "family %d",
	   m.addrs[1].family);
	ck(m.addrs[0].ttl == 300, "ttl", "got %u", m.addrs[0].ttl);

	/* many addresses: 20 A records, 16 kept, 4 counted */
	hdr(&p, 0x8180, 20);
	putname(&p, "many.test");
	put16(&p, 1);
	put16(&p, 1);
	for (unsigned i = 0; i < 20; i++) {
		put16(&p, 0xc00c);
		rr_head(&p, 1, 4);
		put32(&p, 0x0a000000 + i);
	}
	r = ct_dns_parse(p.b, p.n, &m);
	ck(r == CT_DNS_OK && m.n_addrs == CT_DNS_MAX_ADDRS && m.n_addrs_dropped == 4,
	   "many addresses bounded", "r %d n %d dropped %d", r, m.n_addrs, m.n_addrs_dropped);

	/* a record for another owner lends no name */
	hdr(&p, 0x8180, 1);
	putname(&p, "asked.test");
	put16(&p, 1);
	put16(&p, 1);
	putname(&p, "other.test");
	rr_head(&p, 1, 4);
	put32(&p, 0x0a000001);
	r = ct_dns_parse(p.b, p.n, &m);
	ck(r == CT_DNS_OK && m.n_addrs == 0, "stray owner ignored", "r %d n %d", r, m.n_addrs);

	/* hostile bytes in a label come out escaped */
	hdr(&p, 0x8180, 0);
	put8(&p, 5);
	memcpy(p.b + p.n, "a.\033[m", 5);
	p.n += 5;
	put8(&p, 0);
	put16(&p, 1);
	put16(&p, 1);
	r = ct_dns_parse(p.b, p.n, &m);
	ck(r == CT_DNS_OK, "escaped name parses", "got %d", r);
	ck_str("escaped name", "a\\046\\027\\091m", m.qname);

	/* NXDOMAIN: ok, no addresses */
	hdr(&p, 0x8183, 0);
	putname(&p, "nx.test");
	put16(&p, 1);
	put16(&p, 1);
	r = ct_dns_parse(p.b, p.n, &m);
	ck(r == CT_DNS_OK && m.rcode == 3 && m.n_addrs == 0, "nxdomain", "r %d", r);
}

static void test_hostile(void)
{
	struct ct_dns_msg m;
	struct pkt p;
	int r;

	build_chain(&p);
	for (size_t n = 0; n < p.n; n++) {
		r = ct_dns_parse(p.b, n, &m);
		if (r != CT_DNS_MALFORMED) {
			ck(0, nm("truncated at %zu refused", n), "got %d", r);
			return;
		}
	}
	ck(1, "every truncation refused", "%s", "");

	/* TC set: counted as unseen, not parsed */
	build_chain(&p);
	p.b[2] |= 0x02;
	r = ct_dns_parse(p.b, p.n, &m);
	ck(r == CT_DNS_TRUNCATED, "tc bit", "got %d", r);

	/* a query is not a response */
	build_chain(&p);
	p.b[2] &= 0x7f;
	r = ct_dns_parse(p.b, p.n, &m);
	ck(r == CT_DNS_NOT_RESPONSE, "query refused", "got %d", r);

	/* a question name that points at itself */
	hdr(&p, 0x8180, 0);
	put16(&p, 0xc00c);
	put16(&p, 1);
	put16(&p, 1);
	r = ct_dns_parse(p.b, p.n, &m);
	ck(r == CT_DNS_MALFORMED, "self pointer", "got %d", r);

	/* two answers' names pointing at each other: forward pointer refused */
	hdr(&p, 0x8180, 1);
	putname(&p, "a.test");
	put16(&p, 1);
	put16(&p, 1);
	put16(&p, 0xc000 | (unsigned)(p.n + 2));
	put16(&p, 0xc000 | (unsigned)(p.n - 2));
	r = ct_dns_parse(p.b, p.n, &m);
	ck(r == CT_DNS_MALFORMED, "pointer loop", "got %d", r);

	/* a label of 64 bytes (0x40: an extended label type) */
	hdr(&p, 0x8180, 0);
	put8(&p, 64);
	memset(p.b + p.n, 'a', 64);
	p.n += 64;
	put8(&p, 0);
	put16(&p, 1);
	put16(&p, 1);
	r = ct_dns_parse(p.b, p.n, &m);
	ck(r == CT_DNS_MALFORMED, "label over 63", "got %d", r);

	/* a name of 4 x 63-byte labels: 257 wire bytes */
	hdr(&p, 0x8180, 0);
	for (int i = 0; i < 4; i++) {
		put8(&p, 63);
		memset(p.b + p.n, 'b', 63);
		p.n += 63;
	}
	put8(&p, 0);
	put16(&p, 1);
	put16(&p, 1);
	r = ct_dns_parse(p.b, p.n, &m);
	ck(r == CT_DNS_MALFORMED, "name over 255", "got %d", r);

	/* rdlength past the end */
	build_chain(&p);
	p.n -= 1;
	r = ct_dns_parse(p.b, p.n, &m);
	ck(r == CT_DNS_MALFORMED, "rdlength past end", "got %d", r);

	/* an A record of 5 bytes */
	hdr(&p, 0x8180, 1);
	putname(&p, "a.test");
	put16(&p, 1);
	put16(&p, 1);
	put16(&p, 0xc00c);
	rr_head(&p, 1, 5);
	put32(&p, 1);
	put8(&p, 1);
	r = ct_dns_parse(p.b, p.n, &m);
	ck(r == CT_DNS_MALFORMED, "A of 5 bytes", "got %d", r);
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static int sane(const struct ct_dns_msg *m)
{
	if (m->n_addrs < 0 || m->n_addrs > CT_DNS_MAX_ADDRS || m->n_cnames < 0 ||
	    m->n_cnames > CT_DNS_MAX_CNAMES)
		return 0;
	if (strlen(m->qname) >= CT_DNS_NAME_MAX)
		return 0;
	for (const char *c = m->qname; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			return 0;
	return 1;
}

static void test_fuzz(void)
{
	struct ct_dns_msg m;
	struct pkt p, v;
	int bad = 0, ok = 0;

	for (int i = 0; i < 200000; i++) {
		size_t n = rnd() % 600;

		for (size_t j = 0; j < n; j++)
			p.b[j] = (uint8_t)rnd();
		/* half of them look like responses, to get past the header */
		if (i & 1 && n >= 4) {
			p.b[2] = 0x81;
			p.b[4] = 0;
			p.b[5] = 1;
		}
		if (ct_dns_parse(p.b, n, &m) == CT_DNS_OK && !sane(&m))
			bad++;
	}
	ck(!bad, "random packets", "%d insane results", bad);

	build_chain(&v);
	bad = 0;
	for (int i = 0; i < 200000; i++) {
		int flips = 1 + (int)(rnd() % 4);

		p = v;
		for (int f = 0; f < flips; f++) {
			size_t at = rnd() % p.n;

			switch (rnd() % 3) {
			case 0:
				p.b[at] = (uint8_t)rnd();
				break;
			case 1:
				p.b[at] ^= (uint8_t)(1u << (rnd() % 8));
				break;
			default:
				p.b[at] = (uint8_t)(0xc0 | (rnd() & 0x3f));
				break;
			}
		}
		if (rnd() % 4 == 0)
			p.n = rnd() % (p.n + 1);
		if (ct_dns_parse(p.b, p.n, &m) == CT_DNS_OK) {
			ok++;
			if (!sane(&m))
				bad++;
		}
	}
	ck(!bad, "mutated packets", "%d insane results", bad);
	ck(ok > 0, "some mutations still parse", "none did");
}

int main(void)
{
	test_valid();
	test_hostile();
	test_fuzz();
	return ck_done();
}
