/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * DNS responses as they come off the wire (dns.c): a parser for hostile
 * input. It reads the question's name, the CNAME chain and the A/AAAA
 * answers of one UDP payload and nothing else; it never reads past len,
 * follows compression pointers only backwards (no loop can form), and
 * rejects labels over 63 bytes and names over 255 bytes on the wire.
 * Names come out lower-case in presentation form, with every byte that is
 * not a letter, digit, '-', '_' or '*' (and a '.' inside a label) escaped
 * as \DDD, so a name is safe to print and two different wire names never
 * print alike. No allocation, no global state.
 */
#ifndef CT_DNS_H
#define CT_DNS_H

#include <stddef.h>
#include <stdint.h>

/* 255 wire bytes, each at worst "\DDD", plus the NUL */
#define CT_DNS_NAME_MAX (4 * 255 + 1)
/* answers kept per response; more are counted in n_addrs_dropped */
#define CT_DNS_MAX_ADDRS 16
/* CNAME links kept per response (the chain from the name asked for) */
#define CT_DNS_MAX_CNAMES 8

struct ct_dns_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint32_t ttl;
};

struct ct_dns_msg {
	uint16_t id;
	uint8_t rcode;
	char qname[CT_DNS_NAME_MAX];
	/* cname[0] is what qname points to, cname[1] what that points to... */
	int n_cnames;
	char cname[CT_DNS_MAX_CNAMES][CT_DNS_NAME_MAX];
	int n_addrs;
	int n_addrs_dropped;
	struct ct_dns_addr addrs[CT_DNS_MAX_ADDRS];
};

enum {
	CT_DNS_OK = 0,
	CT_DNS_NOT_RESPONSE = -1, /* a query, or not a standard query response */
	CT_DNS_MALFORMED = -2,	  /* lengths past the end, a bad name, a loop */
	CT_DNS_TRUNCATED = -3,	  /* TC set: the answer went over TCP, unseen */
};

/* Parse one DNS message (a UDP payload) into *m: CT_DNS_OK or one of the
 * negative codes above; *m is only meaningful on CT_DNS_OK. */
int ct_dns_parse(const uint8_t *buf, size_t len, struct ct_dns_msg *m);

/* Read the name at *off into out (CT_DNS_NAME_MAX bytes); *off moves past
 * the name as it sits at *off (not past compressed targets). 0 or -1. */
int ct_dns_name(const uint8_t *buf, size_t len, size_t *off, char *out);

#endif
