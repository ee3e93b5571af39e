/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * DNS answers off the wire (dnscap.c): an AF_PACKET socket whose classic
 * BPF filter passes only UDP from source port 53 (IPv4 without fragments,
 * IPv6 without extension headers), on every interface, loopback included.
 * The kernel runs the filter only on packets, never on a recv(): a host
 * that does no DNS pays nothing. The destination port of an answer is the
 * local port of the socket that asked, which the connect events of UDP
 * sockets to port 53 (ct_event.sport) tie to a pid.
 */
#ifndef CT_DNSCAP_H
#define CT_DNSCAP_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"

struct ct_dnscap_pkt {
	int family; /* of the client (the answer's destination) */
	uint8_t client[16];
	uint16_t client_port;
	int parsed; /* ct_dns_parse's result */
	struct ct_dns_msg msg;
};

/* the IPv4 (ipv6 = 0) or IPv6 socket, non-blocking, or -errno (EPERM
 * without CAP_NET_RAW); the filter handles both, one socket per family */
int ct_dnscap_open(int ipv6);
/* one packet from the network header on: 0 and *p filled (p->parsed says
 * whether the DNS payload parsed), or -1 if it is no UDP answer from port 53 */
int ct_dnscap_packet(const uint8_t *buf, size_t len, struct ct_dnscap_pkt *p);

#endif
