// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * DNS capture (dnscap.c): IPv4 and IPv6 packets from the network header
 * on, the client's address and port taken from them, non-answers and
 * short or lying headers refused; then, when the process may open an
 * AF_PACKET socket, a live answer sent over loopback from port 53 comes
 * back through the filter while one from another port does not.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "dnscap.h"

/* a minimal answer: qname a.test, one A 10.0.0.1 */
static const uint8_t answer[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0,  1, 0, 0,	0,    0, 1, 'a', 4,
				  't',	'e',  's',  't',  0, 0, 1,  0, 1, 0xc0, 0x0c, 0, 1, 0,	 1,
				  0,	0,    1,    0x2c, 0, 4, 10, 0, 0, 1 };

static size_t v4pkt(uint8_t *b, unsigned sport, unsigned dport)
{
	size_t n = 20 + 8 + sizeof(answer);

	memset(b, 0, 28);
	b[0] = 0x45;
	b[9] = 17;
	b[12] = 127, b[15] = 1;
	b[16] = 127, b[17] = 0, b[18] = 0, b[19] = 9;
	b[20] = (uint8_t)(sport >> 8), b[21] = (uint8_t)sport;
	b[22] = (uint8_t)(dport >> 8), b[23] = (uint8_t)dport;
	b[24] = (uint8_t)((8 + sizeof(answer)) >> 8), b[25] = (uint8_t)(8 + sizeof(answer));
	memcpy(b + 28, answer, sizeof(answer));
	return n;
}

static void test_parse(void)
{
	struct ct_dnscap_pkt p;
	uint8_t b[256];
	size_t n = v4pkt(b, 53, 40000);
	int r;

	r = ct_dnscap_packet(b, n, &p);
	ck(r == 0 && p.family == AF_INET && p.client[3] == 9 && p.client_port == 40000 &&
		   p.parsed == CT_DNS_OK && !strcmp(p.msg.qname, "a.test"),
	   "ipv4 answer", "r %d port %u parsed %d", r, p.client_port, p.parsed);
	n = v4pkt(b, 54, 40000);
	ck(ct_dnscap_packet(b, n, &p) == -1, "not from port 53", "%s", "");
	n = v4pkt(b, 53, 40000);
	b[25] += 1; /* UDP length past the end */
	ck(ct_dnscap_packet(b, n, &p) == -1, "udp length lies", "%s", "");
	n = v4pkt(b, 53, 40000);
	b[6] = 0x20; /* more fragments */
	ck(ct_dnscap_packet(b, n, &p) == -1, "fragment refused", "%s", "");
	for (size_t k = 0; k < n; k++)
		ct_dnscap_packet(b, k, &p);
	ck(1, "every truncation survives", "%s", "");

	{
		uint8_t s[256] = { 0x60 };
		size_t m = 40 + 8 + sizeof(answer);

		s[6] = 17;
		s[39] = 1; /* ::1 */
		s[40] = 0, s[41] = 53, s[42] = 0x9c, s[43] = 0x40;
		s[44] = 0, s[45] = (uint8_t)(8 + sizeof(answer));
		memcpy(s + 48, answer, sizeof(answer));
		r = ct_dnscap_packet(s, m, &p);
		ck(r == 0 && p.family == AF_INET6 && p.client[15] == 1 && p.client_port == 40000 &&
			   p.parsed == CT_DNS_OK,
		   "ipv6 answer", "r %d", r);
	}
}

static void test_live(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int cap = ct_dnscap_open(0), srv, srv2, cli, got53 = 0, got_other = 0;
	socklen_t al = sizeof(a);
	uint8_t b[2048];
	uint16_t cport;

	if (cap < 0) {
		printf("note: no AF_PACKET socket (%s): live check not run\n", strerror(-cap));
		return;
	}
	/* the server sends from a bound port: 53 needs privilege, which the
	 * capture socket already proved */
	srv = socket(AF_INET, SOCK_DGRAM, 0);
	srv2 = socket(AF_INET, SOCK_DGRAM, 0);
	cli = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_port = htons(53);
	if (bind(srv, (struct sockaddr *)&a, sizeof(a)) < 0) {
		printf("note: port 53 on 127.0.0.1 busy (%s): live check not run\n",
		       strerror(errno));
		goto out;
	}
	a.sin_port = 0;
	bind(cli, (struct sockaddr *)&a, sizeof(a));
	getsockname(cli, (struct sockaddr *)&a, &al);
	cport = ntohs(a.sin_port);
	sendto(srv2, answer, sizeof(answer), 0, (struct sockaddr *)&a, sizeof(a));
	sendto(srv, answer, sizeof(answer), 0, (struct sockaddr *)&a, sizeof(a));
	/* wait for the condition: the answer from 53 to our port (other
	 * tests' DNS may pass the filter too; those are not ours) */
	for (int tries = 0; tries < 50 && !got53; tries++) {
		struct pollfd pf = { .fd = cap, .events = POLLIN };
		struct ct_dnscap_pkt p;
		ssize_t n;

		if (poll(&pf, 1, 100) <= 0)
			continue;
		while ((n = recv(cap, b, sizeof(b), 0)) > 0) {
			if (ct_dnscap_packet(b, (size_t)n, &p) < 0) {
				got_other++;
				continue;
			}
			if (p.client_port == cport && p.parsed == CT_DNS_OK)
				got53 = 1;
		}
	}
	ck(got53, "live: loopback answer from 53 captured", "port %u not seen", cport);
	ck(!got_other, "live: filter passes only port-53 UDP", "%d others", got_other);
out:
	close(srv);
	close(srv2);
	close(cli);
	close(cap);
}

/* The rings: an answer captured now is not handed out for a time before
 * it (it waits for the connects before it), then is, once; the self-test
 * --probe runs sees its own answer. */
static void test_ring(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static struct ct_dnscap_pkt p;
	socklen_t al = sizeof(a);
	char err[256], msg[320];
	struct ct_dnscap *c = ct_dnscap_new(err, sizeof(err));
	int srv, cli, early = 0, got = 0, again = 0;
	uint64_t before, ts = 0;
	struct timespec now;

	if (!c) {
		printf("note: %s: ring check not run\n", err);
		ck(!ct_dnscap_selftest(msg, sizeof(msg)) && !strncmp(msg, "no: ", 4),
		   "selftest says why not", "got '%s'", msg);
		return;
	}
	srv = socket(AF_INET, SOCK_DGRAM, 0);
	cli = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_port = htons(53);
	if (bind(srv, (struct sockaddr *)&a, sizeof(a)) < 0) {
		printf("note: port 53 on 127.0.0.1 busy (%s): ring check not run\n",
		       strerror(errno));
		goto out;
	}
	a.sin_port = 0;
	bind(cli, (struct sockaddr *)&a, sizeof(a));
	getsockname(cli, (struct sockaddr *)&a, &al);
	clock_gettime(CLOCK_MONOTONIC, &now);
	before = now.tv_sec * 1000000000ULL + now.tv_nsec;
	sendto(srv, answer, sizeof(answer), 0, (struct sockaddr *)&a, sizeof(a));
	for (int tries = 0; tries < 50 && !got; tries++) {
		struct pollfd pf = { .fd = ct_dnscap_fd(c), .events = POLLIN };

		poll(&pf, 1, 100);
		/* older than the answer: not handed out (another test's DNS
		 * may be, if it came before) */
		while (ct_dnscap_next(c, before, &p, &ts))
			early += p.client_port == ntohs(a.sin_port);
		while (ct_dnscap_next(c, UINT64_MAX, &p, &ts))
			if (p.client_port == ntohs(a.sin_port) && p.parsed == CT_DNS_OK &&
			    !strcmp(p.msg.qname, "a.test"))
				got++;
	}
	ck(!early, "ring: not handed out for a time before it", "%d", early);
	ck(got == 1, "ring: handed out once", "got %d", got);
	ck(ts >= before, "ring: its time is on the monotonic clock", "ts %llu before %llu",
	   (unsigned long long)ts, (unsigned long long)before);
	while (ct_dnscap_next(c, UINT64_MAX, &p, &ts))
		again += p.client_port == ntohs(a.sin_port);
	ck(!again, "ring: a frame taken is gone", "%d", again);
	{
		struct ct_dnscap_stats st;

		ct_dnscap_stats(c, &st);
		ck(st.packets >= 1 && st.drops == 0, "ring: counted, no drops",
		   "packets %llu drops %llu", (unsigned long long)st.packets,
		   (unsigned long long)st.drops);
	}
	/* the same socket takes IPv6 answers too */
	{
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
					   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
		socklen_t l6 = sizeof(a6);
		int s6 = socket(AF_INET6, SOCK_DGRAM, 0), c6 = socket(AF_INET6, SOCK_DGRAM, 0);
		int got6 = 0;

		a6.sin6_port = htons(53);
		if (bind(s6, (struct sockaddr *)&a6, sizeof(a6)) < 0) {
			printf("note: port 53 on ::1 busy (%s): IPv6 ring check not run\n",
			       strerror(errno));
		} else {
			a6.sin6_port = 0;
			bind(c6, (struct sockaddr *)&a6, sizeof(a6));
			getsockname(c6, (struct sockaddr *)&a6, &l6);
			sendto(s6, answer, sizeof(answer), 0, (struct sockaddr *)&a6, sizeof(a6));
			for (int tries = 0; tries < 50 && !got6; tries++) {
				struct pollfd pf = { .fd = ct_dnscap_fd(c), .events = POLLIN };

				poll(&pf, 1, 100);
				while (ct_dnscap_next(c, UINT64_MAX, &p, &ts))
					got6 += p.family == AF_INET6 &&
						p.client_port == ntohs(a6.sin6_port) &&
						p.parsed == CT_DNS_OK;
			}
			ck(got6 == 1, "ring: an IPv6 answer on the same socket", "got %d", got6);
		}
		close(s6);
		close(c6);
	}
	close(srv);
	srv = -1;
	/* the self-test binds 127.0.0.1:53 itself */
	ck(ct_dnscap_selftest(msg, sizeof(msg)) && !strncmp(msg, "yes", 3),
	   "selftest: its answer came back", "got '%s'", msg);
out:
	if (srv >= 0)
		close(srv);
	close(cli);
	ct_dnscap_free(c);
}

/* answers to port captured within ms */
static int caught(struct ct_dnscap *c, uint16_t port, int ms)
{
	static struct ct_dnscap_pkt p;
	uint64_t ts;
	int n = 0;

	for (int t = 0; t < ms / 20; t++) {
		struct pollfd pf = { .fd = ct_dnscap_fd(c), .events = POLLIN };

		poll(&pf, 1, 20);
		while (ct_dnscap_next(c, UINT64_MAX, &p, &ts))
			n += p.client_port == port && p.parsed == CT_DNS_OK;
	}
	return n;
}

/* disarmed, nothing is captured (the socket is in no list); armed again,
 * the next answer is, through the new socket */
static void test_arm(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	char err[256];
	struct ct_dnscap *c = ct_dnscap_new(err, sizeof(err));
	int srv = socket(AF_INET, SOCK_DGRAM, 0), cli = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned gen;
	uint16_t port;

	a.sin_port = htons(53);
	if (!c || bind(srv, (struct sockaddr *)&a, sizeof(a)) < 0) {
		printf("note: %s: arm check not run\n", c ? strerror(errno) : err);
		goto out;
	}
	a.sin_port = 0;
	bind(cli, (struct sockaddr *)&a, sizeof(a));
	getsockname(cli, (struct sockaddr *)&a, &al);
	port = ntohs(a.sin_port);
	ck(ct_dnscap_armed(c), "arm: armed when new", "not armed");
	gen = ct_dnscap_gen(c);
	ck(!ct_dnscap_disarm(c) && !ct_dnscap_armed(c), "arm: disarmed", "still armed");
	ck(ct_dnscap_gen(c) == gen + 1 && ct_dnscap_fd(c) >= 0, "arm: a new socket, ready",
	   "gen %u -> %u fd %d", gen, ct_dnscap_gen(c), ct_dnscap_fd(c));
	sendto(srv, answer, sizeof(answer), 0, (struct sockaddr *)&a, sizeof(a));
	ck(caught(c, port, 200) == 0, "arm: nothing captured disarmed", "captured");
	ck(!ct_dnscap_arm(c) && ct_dnscap_armed(c), "arm: armed again", "not armed");
	sendto(srv, answer, sizeof(answer), 0, (struct sockaddr *)&a, sizeof(a));
	ck(caught(c, port, 1000) == 1, "arm: the next answer captured", "not captured");
	{
		struct ct_dnscap_stats st;

		ct_dnscap_stats(c, &st);
		ck(st.arms == 1, "arm: counted", "arms %llu", (unsigned long long)st.arms);
	}
out:
	close(srv);
	close(cli);
	ct_dnscap_free(c);
}

int main(void)
{
	test_parse();
	test_live();
	test_ring();
	test_arm();
	return ck_done();
}
