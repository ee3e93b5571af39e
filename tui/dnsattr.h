/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Answers credited to the processes that asked (dnsattr.c), the pure half
 * of the DNS wiring. A UDP connect() to port 53 tells which pid owns a
 * local port (ct_event.sport); an answer captured off the wire comes back
 * to that port, and its addresses go into the name table (dnstab.h) under
 * that pid. Every answer goes in under pid 0 (host-wide) as well: a
 * process that resolved through a local daemon (systemd-resolved over
 * varlink, nscd) or read /etc/hosts finds the name another process's
 * answer brought, marked host-wide. A port is credited for at most
 * DNSATTR_PORT_TTL_NS after its connect: an answer later than that (the
 * port reused by a socket nobody saw connect) is host-wide only. Callers
 * feed connects and answers in time order (app.c merges the ring buffer
 * and the capture). No clock, no I/O.
 */
#ifndef CT_DNSATTR_H
#define CT_DNSATTR_H

#include <stdint.h>

#include "dnscap.h"
#include "dnstab.h"

#define DNSATTR_PORT_TTL_NS (30 * 1000000000ULL)

struct ct_dnsattr;

struct ct_dnsattr_stats {
	uint64_t answers;	/* answers with at least one address put in the table */
	uint64_t hostwide;	/* of those, credited to no pid (port unknown or stale) */
	uint64_t no_addr;	/* parsed answers without an A/AAAA record (NXDOMAIN, ...) */
	uint64_t malformed;	/* payloads the parser refused */
	uint64_t truncated;	/* TC set: the answer went over TCP, unseen */
	uint64_t addrs_dropped; /* addresses past CT_DNS_MAX_ADDRS in one answer */
	struct ct_dnstab_stats tab;
};

/* a table of cap (pid, address) entries (0: CT_DNSTAB_DEFAULT); NULL and
 * errno on failure */
struct ct_dnsattr *dnsattr_new(unsigned cap);
void dnsattr_free(struct ct_dnsattr *a);
/* pid connected a UDP socket from local port sport to port 53 at ts_ns */
void dnsattr_port(struct ct_dnsattr *a, uint32_t pid, uint16_t sport, uint64_t ts_ns);
/* an answer captured at ts_ns (same clock as the connects') */
void dnsattr_answer(struct ct_dnsattr *a, const struct ct_dnscap_pkt *p, uint64_t ts_ns);
/* the flow value (qnames.h) of the name pid got for addr (family 4 or 6:
 * 4 or 16 bytes), from the most recent answer fed so far; 0 if none */
uint32_t dnsattr_lookup(struct ct_dnsattr *a, uint32_t pid, int family, const uint8_t *addr);
void dnsattr_stats(const struct ct_dnsattr *a, struct ct_dnsattr_stats *st);

#endif
