// SPDX-License-Identifier: GPL-2.0-or-later
/* DNS answers captured with AF_PACKET and classic BPF (dnscap.h) */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnscap.h"

/* offsets from the network header (SOCK_DGRAM strips the link header) */
static struct sock_filter dns_filter[] = {
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

int ct_dnscap_open(int ipv6)
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
	{
		struct sockaddr_ll sll = { .sll_family = AF_PACKET,
					   .sll_protocol = htons(ipv6 ? ETH_P_IPV6 : ETH_P_IP) };

		if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	return fd;
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
		p->parsed = ct_dns_parse(buf + udp + 8, ulen - 8, &p->msg);
	}
	return 0;
}
