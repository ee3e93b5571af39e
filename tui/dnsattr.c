// SPDX-License-Identifier: GPL-2.0-or-later
/* DNS answers credited to pids, into the name table (dnsattr.h) */
#include "dnsattr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "qnames.h"

struct port_owner {
	uint32_t pid;	/* 0: nobody seen */
	uint64_t ts_ns; /* of its connect */
};

struct ct_dnsattr {
	struct ct_dnstab *tab;
	/* by local port: 65536 x 16 bytes, of which only the pages of ports
	 * in use are ever touched (calloc of this size maps zero pages) */
	struct port_owner *port;
	struct ct_dnsattr_stats st;
};

struct ct_dnsattr *dnsattr_new(unsigned cap)
{
	struct ct_dnsattr *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->tab = ct_dnstab_new(cap ? cap : CT_DNSTAB_DEFAULT);
	a->port = calloc(65536, sizeof(*a->port));
	if (!a->tab || !a->port) {
		dnsattr_free(a);
		errno = ENOMEM;
		return NULL;
	}
	return a;
}

void dnsattr_free(struct ct_dnsattr *a)
{
	if (!a)
		return;
	ct_dnstab_free(a->tab);
	free(a->port);
	free(a);
}

void dnsattr_port(struct ct_dnsattr *a, uint32_t pid, uint16_t sport, uint64_t ts_ns)
{
	if (!sport)
		return;
	a->port[sport].pid = pid;
	a->port[sport].ts_ns = ts_ns;
}

/* "qname\tcname1\tcname2...": the CNAME links that fit in a table entry
 * (CT_DNSTAB_NAME bytes with the NUL), then "\t+N" for the N that did not.
 * A name asked for that is too long alone is written whole, for dnstab
 * to refuse and count (never kept cut short). A tab never occurs in a
 * parsed name (dns.h escapes every control byte). out has room for
 * CT_DNS_NAME_MAX bytes. */
static void record(const struct ct_dns_msg *m, char *out)
{
	size_t n = strlen(m->qname), len = CT_DNSTAB_NAME;

	memcpy(out, m->qname, n + 1);
	for (int i = 0; i < m->n_cnames && n < len; i++) {
		size_t c = strlen(m->cname[i]);

		/* room for this one and a "\t+N" after it */
		if (n + 1 + c + 6 >= len) {
			if (n + 4 < len) /* else the chain just ends */
				snprintf(out + n, len - n, "\t+%d", m->n_cnames - i);
			return;
		}
		out[n++] = '\t';
		memcpy(out + n, m->cname[i], c + 1);
		n += c;
	}
}

void dnsattr_answer(struct ct_dnsattr *a, const struct ct_dnscap_pkt *p, uint64_t ts_ns)
{
	const struct port_owner *o = &a->port[p->client_port];
	char rec[CT_DNS_NAME_MAX];
	uint32_t pid = 0;

	if (p->parsed == CT_DNS_TRUNCATED) {
		a->st.truncated++;
		return;
	}
	if (p->parsed != CT_DNS_OK) {
		a->st.malformed++;
		return;
	}
	if (!p->msg.n_addrs) {
		a->st.no_addr++;
		return;
	}
	record(&p->msg, rec);
	if (o->pid && ts_ns >= o->ts_ns && ts_ns - o->ts_ns <= DNSATTR_PORT_TTL_NS)
		pid = o->pid;
	a->st.answers++;
	a->st.hostwide += !pid;
	a->st.addrs_dropped += (uint64_t)p->msg.n_addrs_dropped;
	for (int i = 0; i < p->msg.n_addrs; i++) {
		const struct ct_dns_addr *d = &p->msg.addrs[i];

		if (pid)
			ct_dnstab_add(a->tab, pid, d->family, d->addr, rec);
		ct_dnstab_add(a->tab, 0, d->family, d->addr, rec);
	}
}

uint32_t dnsattr_lookup(struct ct_dnsattr *a, uint32_t pid, int family, const uint8_t *addr)
{
	int hostwide = 0;
	const char *rec;

	if (family != 4 && family != 6)
		return 0;
	rec = ct_dnstab_get(a->tab, pid, family == 4 ? AF_INET : AF_INET6, addr, &hostwide);
	return rec ? ct_qname_value(rec, hostwide) : 0;
}

void dnsattr_stats(const struct ct_dnsattr *a, struct ct_dnsattr_stats *st)
{
	*st = a->st;
	st->tab = ct_dnstab_stats(a->tab);
}
