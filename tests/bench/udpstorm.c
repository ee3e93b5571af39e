// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A loopback UDP recv storm for make bench: one thread, one socket bound to
 * 127.0.0.1:PORT, sending batches of datagrams to itself (sendmmsg) and
 * receiving each batch (recvmmsg), for SECS seconds. Loopback delivers in
 * the sender's own softirq, so the time per datagram is what the host
 * spends on it: socket, IP, UDP, and whatever sees every received packet
 * (an AF_PACKET tap such as connecttop's DNS capture). No connect(), no
 * DNS: a recv-heavy server that does no DNS.
 *
 *   udpstorm PORT SECS [BYTES]
 *       prints "datagrams=N secs=S per_s=R ns_each=T cpu_ns_each=C"
 *   udpstorm -c PORT SECS [BYTES]
 *       the same in slices of 20 ms, every other one with connecttop's DNS
 *       capture sockets open in this process (tui/dnscap.c: the same
 *       sockets, rings and filter), so that both halves share the
 *       machine's load of the moment; prints the median rate of each
 *       half and their ratio, and the thread's CPU time per datagram
 *       (CLOCK_THREAD_CPUTIME_ID: loopback's receive path runs in the
 *       sender's softirq, charged to it unless ksoftirqd takes over;
 *       a busy machine's preemption does not count). Opening and closing
 *       are not timed.
 *   udpstorm -i PORT SECS [BYTES]
 *       as -c, with the capture made and then disarmed (ct_dnscap_disarm:
 *       its next socket ready, bound to no protocol) in the "on" slices:
 *       what connecttop's idle capture costs
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dnscap.h"

#define BATCH 32
#define SLICE 0.02 /* seconds: fine enough that both halves see the same load */

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return n ? (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : 0;
}

/* datagrams sent to itself and received by fd in secs */
static unsigned long long storm(int fd, struct mmsghdr *m, struct iovec *iov, struct sockaddr_in *a,
				size_t bytes, double secs, double *took, double *cpu)
{
	unsigned long long n = 0;
	double t0 = now_s(), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), t;

	do {
		int s = sendmmsg(fd, m, BATCH, 0), got = 0;

		if (s <= 0) {
			perror("udpstorm: sendmmsg");
			exit(1);
		}
		/* each sent datagram is queued already (loopback): take them all */
		while (got < s) {
			int r = recvmmsg(fd, m, (unsigned)(s - got), MSG_DONTWAIT, NULL);

			if (r <= 0)
				break; /* the receive buffer dropped some: not counted */
			got += r;
		}
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_len = bytes;
			m[i].msg_hdr.msg_namelen = sizeof(*a);
		}
		n += (unsigned long long)got;
		t = now_s();
	} while (t - t0 < secs);
	*took = t - t0;
	*cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	return n;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static char buf[BATCH][2048];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	double secs, t;
	unsigned long long n = 0;
	size_t bytes;
	int fd, slices = 0, disarmed = 0;

	if (argc > 1 && (!strcmp(argv[1], "-c") || !strcmp(argv[1], "-i"))) {
		slices = 1;
		disarmed = argv[1][1] == 'i';
		argv++;
		argc--;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: udpstorm [-c|-i] PORT SECS [BYTES]\n");
		return 2;
	}
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	secs = atof(argv[2]);
	bytes = argc > 3 ? (size_t)atoi(argv[3]) : 64;
	if (bytes > sizeof(buf[0]))
		bytes = sizeof(buf[0]);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("udpstorm: socket");
		return 1;
	}
	memset(m, 0, sizeof(m));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = bytes;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
		m[i].msg_hdr.msg_name = &a;
		m[i].msg_hdr.msg_namelen = sizeof(a);
	}
	if (!slices) {
		double cpu;

		n = storm(fd, m, iov, &a, bytes, secs, &t, &cpu);
		printf("datagrams=%llu secs=%.3f per_s=%.0f ns_each=%.1f cpu_ns_each=%.1f\n", n, t,
		       n / t, t * 1e9 / (double)(n ? n : 1), cpu * 1e9 / (double)(n ? n : 1));
	} else {
		size_t k = (size_t)(secs / SLICE / 2) + 1, got[2] = { 0, 0 };
		double *rate[2] = { calloc(k, sizeof(double)), calloc(k, sizeof(double)) },
		       *cns[2] = { calloc(k, sizeof(double)), calloc(k, sizeof(double)) }, r0, r1,
		       cpu;
		char err[256];

		for (size_t i = 0; i < 2 * k; i++) {
			int on = (int)(i & 1);
			struct ct_dnscap *c = NULL;

			if (on && !(c = ct_dnscap_new(err, sizeof(err)))) {
				fprintf(stderr, "udpstorm: %s\n", err);
				return 1;
			}
			if (c && disarmed && ct_dnscap_disarm(c)) {
				fprintf(stderr, "udpstorm: cannot disarm the capture\n");
				return 1;
			}
			n = storm(fd, m, iov, &a, bytes, SLICE, &t, &cpu);
			cns[on][got[on]] = cpu * 1e9 / (double)(n ? n : 1);
			rate[on][got[on]++] = n / t;
			ct_dnscap_free(c);
		}
		r0 = median(rate[0], got[0]);
		r1 = median(rate[1], got[1]);
		printf("slices=%zu off_per_s=%.0f on_per_s=%.0f ratio=%.4f off_cpu_ns=%.1f "
		       "on_cpu_ns=%.1f\n",
		       got[0] + got[1], r0, r1, r1 / r0, median(cns[0], got[0]),
		       median(cns[1], got[1]));
	}
	close(fd);
	return 0;
}
