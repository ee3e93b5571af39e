// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Answers credited to the processes that asked (dnsattr.c) and the names
 * flows keep (qnames.c): an answer to a port a pid connected from is that
 * pid's, and host-wide too; an answer to a port nobody connected from,
 * or past the port's time, is host-wide only; each process sees its own
 * name for a shared address; a CNAME chain is kept with the name asked
 * for; nothing is invented; answers that say nothing are counted by why;
 * the table of names is bounded and says when it is full.
 */
#include <sys/socket.h>

#include "check.h"
#include "dnsattr.h"
#include "qnames.h"

#define S 1000000000ULL

static struct ct_dnscap_pkt pkt;

/* an answer to client port `port`: qname, its CNAME chain (NULL-ended),
 * the IPv4 addresses 10.0.0.x for each x in addrs (0-ended) */
static const struct ct_dnscap_pkt *answer(uint16_t port, const char *qname, const char *const *cn,
					  const int *addrs)
{
	memset(&pkt, 0, sizeof(pkt));
	pkt.family = AF_INET;
	pkt.client_port = port;
	pkt.parsed = CT_DNS_OK;
	snprintf(pkt.msg.qname, sizeof(pkt.msg.qname), "%s", qname);
	for (int i = 0; cn && cn[i]; i++)
		snprintf(pkt.msg.cname[pkt.msg.n_cnames++], CT_DNS_NAME_MAX, "%s", cn[i]);
	for (int i = 0; addrs && addrs[i]; i++) {
		struct ct_dns_addr *a = &pkt.msg.addrs[pkt.msg.n_addrs++];

		a->family = AF_INET;
		a->addr[0] = 10, a->addr[3] = (uint8_t)addrs[i];
	}
	return &pkt;
}

static const uint8_t *ip(int x)
{
	static uint8_t b[4][16];
	static int i;
	uint8_t *p = b[i++ % 4];

	memset(p, 0, 16);
	p[0] = 10, p[3] = (uint8_t)x;
	return p;
}

/* the record of a flow value, "" for 0 */
static const char *rec(uint32_t v)
{
	const char *r = ct_qname_rec(v);

	return r ? r : "";
}

int main(void)
{
	struct ct_dnsattr *a = dnsattr_new(64);
	struct ct_dnsattr_stats st;
	static const char *const chain[] = { "cdn.test", "edge.test", NULL };
	char buf[64], longname[300];
	uint32_t v, w;

	/* pid 100 asks from port 4000, pid 200 from 4001: the same address,
	 * two names */
	dnsattr_port(a, 100, 4000, 10 * S);
	dnsattr_port(a, 200, 4001, 10 * S);
	dnsattr_answer(a, answer(4000, "a.test", NULL, (int[]){ 1, 0 }), 11 * S);
	dnsattr_answer(a, answer(4001, "b.test", NULL, (int[]){ 1, 0 }), 11 * S);
	v = dnsattr_lookup(a, 100, 4, ip(1));
	ck(!strcmp(rec(v), "a.test") && !(v & CT_QNAME_HOSTWIDE), "pid 100 sees its own name",
	   "got '%s' %x", rec(v), v);
	v = dnsattr_lookup(a, 200, 4, ip(1));
	ck(!strcmp(rec(v), "b.test") && !(v & CT_QNAME_HOSTWIDE), "pid 200 sees its own name",
	   "got '%s' %x", rec(v), v);
	/* pid 300 resolved nothing itself: the latest answer anyone got,
	 * marked host-wide */
	v = dnsattr_lookup(a, 300, 4, ip(1));
	ck(!strcmp(rec(v), "b.test") && (v & CT_QNAME_HOSTWIDE), "another pid: host-wide, marked",
	   "got '%s' %x", rec(v), v);
	ck(!dnsattr_lookup(a, 100, 4, ip(9)), "no name for an address nobody resolved", "%s", "");
	ck(!dnsattr_lookup(a, 100, 6, ip(1)), "the family is part of the key", "%s", "");
	ck(!dnsattr_lookup(a, 100, 1, ip(1)), "an AF_UNIX flow has no name", "%s", "");

	/* a later answer replaces the pid's name (the most recent before the
	 * connect is what the caller's order gives) */
	dnsattr_port(a, 100, 4002, 12 * S);
	dnsattr_answer(a, answer(4002, "a2.test", NULL, (int[]){ 1, 0 }), 12 * S + 1000);
	v = dnsattr_lookup(a, 100, 4, ip(1));
	ck(!strcmp(rec(v), "a2.test"), "the latest answer wins", "got '%s'", rec(v));

	/* a CNAME chain with several addresses: every address gets the name
	 * asked for, with the chain after it */
	dnsattr_port(a, 100, 4003, 13 * S);
	dnsattr_answer(a, answer(4003, "www.test", chain, (int[]){ 2, 3, 4, 0 }), 13 * S + 1);
	for (int x = 2; x <= 4; x++) {
		v = dnsattr_lookup(a, 100, 4, ip(x));
		ck(!strcmp(rec(v), "www.test\tcdn.test\tedge.test"), nm("chain, address %d", x),
		   "got '%s'", rec(v));
	}
	ck(!strcmp(ct_qname_str(v, buf, sizeof(buf)), "www.test"), "qname_str: the name asked for",
	   "got '%s'", buf);
	ck(!strcmp(ct_qname_str(v, buf, 4), "www"), "qname_str: cut to its buffer", "got '%s'",
	   buf);
	ck(!strcmp(ct_qname_str(0, buf, sizeof(buf)), ""), "qname_str of none", "got '%s'", buf);
	w = dnsattr_lookup(a, 100, 4, ip(3));
	ck(v == w, "one record, one value", "%x vs %x", v, w);

	/* an answer to a port nobody connected from (a resolver's own
	 * socket, or one that sent without connect): host-wide only */
	dnsattr_answer(a, answer(5000, "h.test", NULL, (int[]){ 5, 0 }), 14 * S);
	v = dnsattr_lookup(a, 100, 4, ip(5));
	ck(!strcmp(rec(v), "h.test") && (v & CT_QNAME_HOSTWIDE), "unknown port: host-wide",
	   "got '%s' %x", rec(v), v);
	/* a port's connect too long ago: the port may have been reused */
	dnsattr_answer(a, answer(4000, "late.test", NULL, (int[]){ 6, 0 }),
		       10 * S + DNSATTR_PORT_TTL_NS + 1);
	v = dnsattr_lookup(a, 100, 4, ip(6));
	ck(!strcmp(rec(v), "late.test") && (v & CT_QNAME_HOSTWIDE), "stale port: host-wide",
	   "got '%s' %x", rec(v), v);
	/* an answer before the port's connect is not that connect's */
	dnsattr_port(a, 400, 4100, 20 * S);
	dnsattr_answer(a, answer(4100, "early.test", NULL, (int[]){ 7, 0 }), 19 * S);
	v = dnsattr_lookup(a, 400, 4, ip(7));
	ck(v & CT_QNAME_HOSTWIDE, "answer older than the port's connect: host-wide", "got %x", v);

	/* answers that say nothing: counted by why, nothing added */
	dnsattr_answer(a, answer(4000, "nx.test", NULL, NULL), 21 * S);
	answer(4000, "tc.test", NULL, (int[]){ 8, 0 });
	pkt.parsed = CT_DNS_TRUNCATED;
	dnsattr_answer(a, &pkt, 21 * S);
	answer(4000, "bad.test", NULL, (int[]){ 8, 0 });
	pkt.parsed = CT_DNS_MALFORMED;
	dnsattr_answer(a, &pkt, 21 * S);
	ck(!dnsattr_lookup(a, 100, 4, ip(8)), "a truncated or malformed answer adds nothing", "%s",
	   "");
	/* a name too long for the table is not kept, never cut short */
	memset(longname, 'x', 280);
	longname[280] = 0;
	dnsattr_answer(a, answer(5000, longname, NULL, (int[]){ 9, 0 }), 22 * S);
	ck(!dnsattr_lookup(a, 100, 4, ip(9)), "a name over 255 bytes is not kept", "%s", "");
	/* a chain too long for an entry ends in +N (N links left out) */
	{
		static char l1[200], l2[200];
		const char *const lc[] = { l1, l2, "x.test", NULL };

		memset(l1, 'a', 150);
		memset(l2, 'b', 150);
		dnsattr_answer(a, answer(5000, "c.test", lc, (int[]){ 10, 0 }), 23 * S);
		v = dnsattr_lookup(a, 100, 4, ip(10));
		ck(!strncmp(rec(v), "c.test\taaa", 10) && strstr(rec(v), "\t+2") &&
			   strlen(rec(v)) < CT_DNSTAB_NAME,
		   "a long chain is cut with +N", "got '%s'", rec(v));
	}
	dnsattr_stats(a, &st);
	ck(st.answers == 9, "answers counted", "got %llu", (unsigned long long)st.answers);
	ck(st.hostwide == 5, "host-wide answers counted", "got %llu",
	   (unsigned long long)st.hostwide);
	ck(st.no_addr == 1 && st.truncated == 1 && st.malformed == 1, "answers without a name",
	   "no_addr %llu truncated %llu malformed %llu", (unsigned long long)st.no_addr,
	   (unsigned long long)st.truncated, (unsigned long long)st.malformed);
	ck(st.tab.too_long == 1, "too long: counted (host-wide only: port unknown)", "got %llu",
	   (unsigned long long)st.tab.too_long);
	dnsattr_free(a);
	dnsattr_free(NULL);

	/* the table of names flows keep is bounded, and says so */
	{
		uint64_t full0 = ct_qnames_full();
		uint32_t last = 0;

		for (int i = 0; i < CT_QNAMES_MAX + 10; i++) {
			snprintf(buf, sizeof(buf), "n%d.test", i);
			last = ct_qname_value(buf, 0);
		}
		ck(!last && ct_qnames_full() - full0 > 0, "qnames: full gives 0, counted",
		   "last %x full %llu", last, (unsigned long long)(ct_qnames_full() - full0));
		v = ct_qname_value("www.test\tcdn.test\tedge.test", 1);
		ck(v && (v & CT_QNAME_HOSTWIDE) && !strcmp(rec(v), "www.test\tcdn.test\tedge.test"),
		   "qnames: a known record is found when full", "got %x", v);
		ck(!ct_qname_rec(0x7fffffff), "qnames: an id never given", "%s", "");
	}
	return ck_done();
}
