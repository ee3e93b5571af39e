/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * DNS answers off the wire (dnscap.c): an AF_PACKET socket whose classic
 * BPF filter passes only UDP from source port 53 (IPv4 without fragments,
 * IPv6 without extension headers), on every interface, loopback included.
 * The kernel runs the filter only on packets, never on a recv(), and only
 * while the socket is armed (below): a host that does no DNS pays nothing. The destination port of an answer is the
 * local port of the socket that asked, which the connect events of UDP
 * sockets to port 53 (ct_event.sport) tie to a pid.
 */
#ifndef CT_DNSCAP_H
#define CT_DNSCAP_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"

#define CT_DNSCAP_FRAME 2048

struct ct_dnscap_pkt {
	int family; /* of the client (the answer's destination) */
	uint8_t client[16];
	uint16_t client_port;
	int parsed; /* ct_dns_parse's result */
	struct ct_dns_msg msg;
	/* the UDP payload parsed (for -w: a replay parses it again) */
	uint16_t payload_len;
	uint8_t payload[CT_DNSCAP_FRAME];
};

/* the IPv4 (ipv6 = 0) or IPv6 socket, non-blocking, or -errno (EPERM
 * without CAP_NET_RAW); the filter handles both, one socket per family */
int ct_dnscap_open(int ipv6);
/* one packet from the network header on: 0 and *p filled (p->parsed says
 * whether the DNS payload parsed), or -1 if it is no UDP answer from port 53 */
int ct_dnscap_packet(const uint8_t *buf, size_t len, struct ct_dnscap_pkt *p);
/* a recorded answer (--read) into *p as ct_dnscap_packet made it: the
 * client (family AF_INET or AF_INET6), its port, the payload parsed again
 * (len at most CT_DNSCAP_FRAME, else it is cut there) */
void ct_dnscap_payload(struct ct_dnscap_pkt *p, int family, const uint8_t client[16], uint16_t port,
		       const uint8_t *payload, size_t len);

/*
 * The capture: one socket for both families (received packets of every
 * protocol, the filter above behind a check of the protocol), with a
 * memory-mapped receive ring (PACKET_RX_RING, TPACKET_V2): whether an
 * answer waits is a load from
 * shared memory, not a system call, so the event loop can look before
 * each connect it reads (app.c) at no cost, and a frame stays in the ring
 * until it is taken, which keeps answers captured after a connect for
 * later. Frames of CT_DNSCAP_FRAME bytes: an answer larger than fits is
 * counted in cut, unseen; answers that found the ring full are counted by
 * the kernel (drops).
 */
struct ct_dnscap;

struct ct_dnscap_stats {
	uint64_t packets; /* frames taken */
	uint64_t cut;	  /* answers larger than a frame: not parsed */
	uint64_t drops;	  /* answers the kernel dropped: the ring was full */
	uint64_t arms;	  /* ct_dnscap_arm calls that hooked the socket, after the first */
};

/* Open the socket and its ring, armed: NULL with errno and one line in
 * err on failure (EPERM without CAP_NET_RAW) */
struct ct_dnscap *ct_dnscap_new(char *err, size_t errlen);
void ct_dnscap_free(struct ct_dnscap *c);
/*
 * Armed, the socket is in the kernel's list of packet taps and every
 * received packet of the host passes its filter; disarmed, it is in no
 * list and costs nothing. ct_dnscap_arm is one bind() (the next socket,
 * its filter and ring are made ready by ct_dnscap_disarm); disarming
 * closes the socket (the only way out of the list: it waits for an RCU
 * grace period, a few ms) and makes the next one, unbound, so the fd
 * changes: ct_dnscap_gen counts the sockets made, for a caller that
 * waits on the fd to add the new one. Frames still in the ring are lost
 * at disarm: take them first. Both 0 or -errno (then the capture stays
 * disarmed, with fd -1, and ct_dnscap_arm tries a new socket again).
 */
int ct_dnscap_arm(struct ct_dnscap *c);
int ct_dnscap_disarm(struct ct_dnscap *c);
int ct_dnscap_armed(const struct ct_dnscap *c);
unsigned ct_dnscap_gen(const struct ct_dnscap *c);
/* the fd to wait on (readable while a frame waits), -1 after a failed
 * rebuild */
int ct_dnscap_fd(const struct ct_dnscap *c);
/* The oldest frame waiting if it was captured at or before until_ns
 * (CLOCK_MONOTONIC; packets carry CLOCK_REALTIME stamps, converted at the
 * clocks' current offset): 1 with *p and *ts_ns filled and the frame
 * given back to the kernel, else 0. A frame that is no answer (-1 from
 * ct_dnscap_packet, or cut) is given back and skipped. */
int ct_dnscap_next(struct ct_dnscap *c, uint64_t until_ns, struct ct_dnscap_pkt *p,
		   uint64_t *ts_ns);
/* --probe: open the socket, send one answer from 127.0.0.1 port 53 to a
 * port of ours over loopback and wait up to a second to see it come back
 * through the ring. 1 if it did, else 0; what happened in msg. */
int ct_dnscap_selftest(char *msg, size_t len);
/* the counts so far (reads the kernel's drop counter) */
void ct_dnscap_stats(struct ct_dnscap *c, struct ct_dnscap_stats *st);

#endif
