// SPDX-License-Identifier: GPL-2.0-or-later
/* DNS answers captured with AF_PACKET and classic BPF (dnscap.h) */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dnscap.h"

/* offsets from the network header (SOCK_DGRAM strips the link header);
 * the first three look at skb->protocol (host order in cBPF), for the
 * socket that takes every protocol (ct_dnscap_new): IPv4 and IPv6 go on,
 * anything else (ARP, ...) is dropped; then the index of each line is
 * the comment's + 3 */
static struct sock_filter dns_filter[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 1, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 18),
	/* 0 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
	/* 1 */ BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4),
	/* 2 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 4, 0, 8),
	/* IPv4: UDP, not a later fragment, source port 53 */
	/* 3 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
	/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, 13),
	/* 5 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
	/* 6 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 11, 0),
	/* 7 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
	/* 8 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 0),
	/* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 53, 7, 8),
	/* 10 */ BPF_STMT(BPF_JMP | BPF_JA, 0),
	/* IPv6: next header UDP, source port 53 */
	/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 6),
	/* 12 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6),
	/* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, 4),
	/* 14 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 40),
	/* 15 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 53, 1, 2),
	/* 16 */ BPF_STMT(BPF_JMP | BPF_JA, 0),
	/* 17 */ BPF_STMT(BPF_RET | BPF_K, 0xffff),
	/* 18 */ BPF_STMT(BPF_RET | BPF_K, 0),
};

/* bound to proto (ETH_P_IP, ETH_P_IPV6, or ETH_P_ALL: then received
 * packets only, PACKET_IGNORE_OUTGOING; 0: not bound, the same once bound
 * to ETH_P_ALL by ct_dnscap_arm); with req, a TPACKET_V2 receive
 * ring of that size, set up before the bind so that no packet is queued
 * outside it */
static int cap_socket(uint16_t proto, const struct tpacket_req *req)
{
	struct sock_fprog prog = { .len = sizeof(dns_filter) / sizeof(dns_filter[0]),
				   .filter = dns_filter };
	int fd, err;

	/* a socket opened with protocol 0 sees nothing until bound: attach
	 * the filter first, then bind, so no packet gets past unfiltered.
	 * Bound to ETH_P_IP or ETH_P_IPV6, not ETH_P_ALL: an ETH_P_ALL tap
	 * makes the kernel clone every transmitted skb (dev_queue_xmit_nit)
	 * before any filter runs, which measured +35-55% on a loopback UDP
	 * storm; a per-protocol one sees received packets only (a loopback
	 * packet is received too) and costs a filter run on those. */
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (proto == ETH_P_ALL || !proto) {
		int one = 1;

		if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	if (req) {
		int ver = TPACKET_V2;

		if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)) < 0 ||
		    setsockopt(fd, SOL_PACKET, PACKET_RX_RING, req, sizeof(*req)) < 0) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	if (proto) {
		struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(proto) };

		if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	return fd;
}

int ct_dnscap_open(int ipv6)
{
	return cap_socket(ipv6 ? ETH_P_IPV6 : ETH_P_IP, NULL);
}

int ct_dnscap_packet(const uint8_t *buf, size_t len, struct ct_dnscap_pkt *p)
{
	size_t udp;

	if (len < 1)
		return -1;
	memset(p->client, 0, sizeof(p->client));
	if (buf[0] >> 4 == 4) {
		size_t ihl = (size_t)(buf[0] & 0xf) * 4;

		if (ihl < 20 || len < ihl + 8 || buf[9] != 17 || (buf[6] & 0x3f) || buf[7])
			return -1;
		p->family = AF_INET;
		memcpy(p->client, buf + 16, 4);
		udp = ihl;
	} else if (buf[0] >> 4 == 6) {
		if (len < 48 || buf[6] != 17)
			return -1;
		p->family = AF_INET6;
		memcpy(p->client, buf + 24, 16);
		udp = 40;
	} else {
		return -1;
	}
	if ((buf[udp] << 8 | buf[udp + 1]) != 53)
		return -1;
	p->client_port = (uint16_t)(buf[udp + 2] << 8 | buf[udp + 3]);
	{
		/* the UDP length bounds the payload (an Ethernet pad follows) */
		size_t ulen = (size_t)(buf[udp + 4] << 8 | buf[udp + 5]);

		if (ulen < 8 || udp + ulen > len)
			return -1;
		ct_dnscap_payload(p, p->family, p->client, p->client_port, buf + udp + 8, ulen - 8);
	}
	return 0;
}

void ct_dnscap_payload(struct ct_dnscap_pkt *p, int family, const uint8_t client[16], uint16_t port,
		       const uint8_t *payload, size_t len)
{
	if (len > sizeof(p->payload))
		len = sizeof(p->payload);
	p->family = family;
	if (client != p->client)
		memcpy(p->client, client, sizeof(p->client));
	p->client_port = port;
	memcpy(p->payload, payload, len);
	p->payload_len = (uint16_t)len;
	p->parsed = ct_dns_parse(p->payload, len, &p->msg);
}

/*
 * One socket for both families, bound to ETH_P_ALL for received packets
 * only (PACKET_IGNORE_OUTGOING, Linux 4.20), not one per protocol: where
 * the kernel keeps a packet socket's per-protocol hook after IP's (6.18
 * does: the per-netns ptype_specific list), IP's receive sees every
 * packet shared with it and clones it (skb_share_check in ip_rcv_core),
 * which perf showed for each packet of a loopback UDP storm; taps run
 * before the protocols, so IP gets the packet unshared. Without
 * IGNORE_OUTGOING a tap would clone every transmitted packet (the +35-55 %
 * measured before). 8 blocks of 64 KiB: 256 frames; a burst of more
 * answers than that between two reads of the loop is counted in drops.
 *
 * Even so, a tap costs every received packet of the host its delivery
 * (a reference taken and dropped, an indirect call, the filter): +80 ns
 * per datagram of a loopback UDP storm on an idle machine, 300 at load
 * 10. No filter, however short, takes that away; only not being in the
 * list does. So the socket is hooked only while processes do DNS
 * (ct_dnscap_arm, ct_dnscap_disarm: app.c decides when).
 */
#define CAP_BLOCK 65536
#define CAP_BLOCKS 8

struct ct_dnscap {
	int fd; /* -1: none (a rebuild failed; ct_dnscap_arm tries again) */
	int armed;
	uint8_t *map;
	size_t map_len;
	unsigned nframes, head;
	unsigned gen; /* sockets built so far */
	struct ct_dnscap_stats st;
};

static void ring_close(struct ct_dnscap *c)
{
	if (c->map)
		munmap(c->map, c->map_len);
	if (c->fd >= 0)
		close(c->fd);
	c->map = NULL;
	c->fd = -1;
	c->armed = 0;
}

/* a new socket and ring, filtered, bound to no protocol: in no list of
 * the kernel's packet handlers yet, it costs no packet anything */
static int ring_open(struct ct_dnscap *c)
{
	struct tpacket_req req = {
		.tp_block_size = CAP_BLOCK,
		.tp_block_nr = CAP_BLOCKS,
		.tp_frame_size = CT_DNSCAP_FRAME,
		.tp_frame_nr = CAP_BLOCKS * (CAP_BLOCK / CT_DNSCAP_FRAME),
	};
	int rc;

	c->fd = rc = cap_socket(0, &req);
	if (rc < 0) {
		c->fd = -1;
		return rc;
	}
	c->map_len = (size_t)req.tp_block_size * req.tp_block_nr;
	c->map = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (c->map == MAP_FAILED) {
		rc = -errno;
		c->map = NULL;
		ring_close(c);
		return rc;
	}
	c->nframes = req.tp_frame_nr;
	c->head = 0;
	c->gen++;
	return 0;
}

int ct_dnscap_arm(struct ct_dnscap *c)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int rc;

	if (c->armed)
		return 0;
	if (c->fd < 0 && (rc = ring_open(c)))
		return rc;
	/* one system call: the filter, the ring and IGNORE_OUTGOING are set
	 * already (ring_open), so the first packet the hook sees is filtered
	 * into the ring */
	if (bind(c->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	c->armed = 1;
	c->st.arms++;
	return 0;
}

int ct_dnscap_disarm(struct ct_dnscap *c)
{
	if (!c->armed)
		return 0;
	/* a packet socket leaves the kernel's handlers only when closed (a
	 * bind to protocol 0 keeps the one it has): its drop count first,
	 * then a new one, unbound, for the next ct_dnscap_arm */
	ct_dnscap_stats(c, &(struct ct_dnscap_stats){ 0 });
	ring_close(c);
	return ring_open(c);
}

int ct_dnscap_armed(const struct ct_dnscap *c)
{
	return c->armed;
}

unsigned ct_dnscap_gen(const struct ct_dnscap *c)
{
	return c->gen;
}

struct ct_dnscap *ct_dnscap_new(char *err, size_t errlen)
{
	struct ct_dnscap *c = calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->fd = -1;
	rc = ring_open(c);
	if (!rc)
		rc = ct_dnscap_arm(c);
	if (rc) {
		snprintf(err, errlen, "cannot open an AF_PACKET socket for DNS answers: %s%s",
			 strerror(-rc), rc == -EPERM ? " (needs CAP_NET_RAW)" : "");
		ct_dnscap_free(c);
		errno = -rc;
		return NULL;
	}
	c->st.arms = 0; /* the first one is not a lookup's */
	return c;
}

void ct_dnscap_free(struct ct_dnscap *c)
{
	if (!c)
		return;
	ring_close(c);
	free(c);
}

int ct_dnscap_fd(const struct ct_dnscap *c)
{
	return c->fd;
}

/* the ring's oldest frame, if the kernel handed it over */
static struct tpacket2_hdr *ring_head(const struct ct_dnscap *c)
{
	struct tpacket2_hdr *h;

	if (!c->map)
		return NULL;
	h = (void *)(c->map + (size_t)c->head * CT_DNSCAP_FRAME);

	return __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER ? h : NULL;
}

static void ring_release(struct ct_dnscap *c, struct tpacket2_hdr *h)
{
	__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	c->head = (c->head + 1) % c->nframes;
}

int ct_dnscap_next(struct ct_dnscap *c, uint64_t until_ns, struct ct_dnscap_pkt *p, uint64_t *ts_ns)
{
	struct tpacket2_hdr *h;
	struct timespec rt, mono;
	int64_t off;
	uint64_t now;

	if (!ring_head(c))
		return 0;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	off = ((int64_t)rt.tv_sec - mono.tv_sec) * 1000000000LL + (rt.tv_nsec - mono.tv_nsec);
	now = (uint64_t)mono.tv_sec * 1000000000ULL + (uint64_t)mono.tv_nsec;
	while ((h = ring_head(c))) {
		int64_t m = ((int64_t)h->tp_sec * 1000000000LL + h->tp_nsec) - off;
		/* never later than now: after the wall clock was set back, a
		 * frame stamped before would look future and wait (its fd
		 * ready, the loop spinning) until then */
		uint64_t t = m <= 0 ? 0 : (uint64_t)m > now ? now : (uint64_t)m;
		int ok;

		if (t > until_ns)
			return 0;
		c->st.packets++;
		if (h->tp_snaplen < h->tp_len) {
			c->st.cut++;
			ok = 0;
		} else {
			ok = !ct_dnscap_packet((const uint8_t *)h + h->tp_net, h->tp_snaplen, p);
		}
		ring_release(c, h);
		if (ok) {
			*ts_ns = t;
			return 1;
		}
	}
	return 0;
}

void ct_dnscap_stats(struct ct_dnscap *c, struct ct_dnscap_stats *st)
{
	struct tpacket_stats ks;
	socklen_t len = sizeof(ks);

	/* the kernel's counts start again from 0 at each read */
	if (c->fd >= 0 && !getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len))
		c->st.drops += ks.tp_drops;
	*st = c->st;
}

int ct_dnscap_selftest(char *msg, size_t len)
{
	/* an answer: a.test, one A 10.0.0.1 */
	static const uint8_t answer[] = { 0x12, 0x34, 0x81, 0x80, 0,	1,    0,   1,	0,   0,
					  0,	0,    1,    'a',  4,	't',  'e', 's', 't', 0,
					  0,	1,    0,    1,	  0xc0, 0x0c, 0,   1,	0,   1,
					  0,	0,    1,    0x2c, 0,	4,    10,  0,	0,   1 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	struct ct_dnscap_pkt *p = NULL;
	struct ct_dnscap *c;
	int srv = -1, cli = -1, ok = 0;
	char err[256];

	c = ct_dnscap_new(err, sizeof(err));
	if (!c) {
		snprintf(msg, len, "no: %s", err);
		return 0;
	}
	p = malloc(sizeof(*p));
	srv = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cli = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	a.sin_port = htons(53);
	if (!p || srv < 0 || cli < 0) {
		snprintf(msg, len, "unknown: %s", strerror(errno));
		goto out;
	}
	if (bind(srv, (struct sockaddr *)&a, sizeof(a)) < 0) {
		snprintf(msg, len, "sockets open, not checked: 127.0.0.1 port 53 is busy (%s)",
			 strerror(errno));
		goto out;
	}
	a.sin_port = 0;
	if (bind(cli, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(cli, (struct sockaddr *)&a, &al) < 0 ||
	    sendto(srv, answer, sizeof(answer), 0, (struct sockaddr *)&a, sizeof(a)) < 0) {
		snprintf(msg, len, "unknown: cannot send a test answer: %s", strerror(errno));
		goto out;
	}
	for (int tries = 0; tries < 20 && !ok; tries++) {
		struct pollfd pf = { .fd = c->fd, .events = POLLIN };
		uint64_t ts;

		poll(&pf, 1, 50);
		while (!ok && ct_dnscap_next(c, UINT64_MAX, p, &ts))
			ok = p->client_port == ntohs(a.sin_port) && p->parsed == CT_DNS_OK;
	}
	if (ok)
		snprintf(msg, len, "yes (AF_PACKET ring; a test answer over loopback came back)");
	else
		snprintf(msg, len, "no: a test answer sent over loopback was not captured");
out:
	if (srv >= 0)
		close(srv);
	if (cli >= 0)
		close(cli);
	free(p);
	ct_dnscap_free(c);
	return ok;
}
