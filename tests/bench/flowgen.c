// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * flowgen: the benchmark's generator of many distinct flows. It makes COUNT
 * UDP connect()s, each to a different (address, port) pair in 127.0.0.0/8,
 * so that connecttop sees COUNT distinct flows. A UDP connect() sends no
 * packet: it only picks a route and sets the socket's peer, so this is
 * cheap and nothing needs to listen.
 *
 *   flowgen [-s] [-p BASEPORT] [-n PORTS] [-r RATE] COUNT
 *
 * Pair i goes to 127.0.0.0 + 1 + i / PORTS, port BASEPORT + i % PORTS.
 *   -p BASEPORT  first port (default 40000)
 *   -n PORTS     ports per address (default 1000)
 *   -r RATE      at most RATE connects per second (default: as fast as possible)
 *   -s           wait for a line on stdin before starting (the benchmark
 *                starts connecttop -p PID in between)
 *
 * Prints "connects=N failed=N seconds=S rate=R/s". Exit 0 if every connect
 * succeeded, 1 otherwise, 2 on usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "flowgen: invalid number '%s' (expected %ld..%ld)\n", s, lo, hi);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	long count, base = 40000, ports = 1000, rate = 0, fails = 0;
	int c, sync = 0, fd = -1;
	double t0, dt;

	while ((c = getopt(argc, argv, "p:n:r:s")) != -1) {
		switch (c) {
		case 'p':
			base = num(optarg, 1, 65535);
			break;
		case 'n':
			ports = num(optarg, 1, 65535);
			break;
		case 'r':
			rate = num(optarg, 1, 100000000);
			break;
		case 's':
			sync = 1;
			break;
		default:
			fprintf(stderr,
				"usage: flowgen [-s] [-p BASEPORT] [-n PORTS] [-r RATE] COUNT\n");
			return 2;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: flowgen [-s] [-p BASEPORT] [-n PORTS] [-r RATE] COUNT\n");
		return 2;
	}
	count = num(argv[optind], 1, 100000000);
	if (base + ports - 1 > 65535) {
		fprintf(stderr, "flowgen: BASEPORT + PORTS - 1 must be at most 65535\n");
		return 2;
	}
	/* only 127.0.0.0/8: 127.0.0.1 .. 127.255.255.254 */
	if ((count - 1) / ports + 1 > 0xfffffeL) {
		fprintf(stderr, "flowgen: COUNT / PORTS leaves 127.0.0.0/8\n");
		return 2;
	}
	if (sync) {
		char line[64];

		if (!fgets(line, sizeof(line), stdin))
			return 2;
	}
	t0 = now_s();
	for (long i = 0; i < count; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET };

		/* connect() again on the same UDP socket is cheaper than a
		 * socket per connect; a fresh one every 1024 all the same */
		if (i % 1024 == 0) {
			if (fd >= 0)
				close(fd);
			fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (fd < 0) {
				perror("flowgen: socket");
				return 1;
			}
		}
		sa.sin_addr.s_addr = htonl((127UL << 24) + 1 + (unsigned long)(i / ports));
		sa.sin_port = htons((uint16_t)(base + i % ports));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			fails++;
		if (rate && i % 256 == 255) {
			double ahead = (i + 1) / (double)rate - (now_s() - t0);

			if (ahead > 0) {
				struct timespec ts = { (time_t)ahead,
						       (long)((ahead - (time_t)ahead) * 1e9) };

				nanosleep(&ts, NULL);
			}
		}
	}
	dt = now_s() - t0;
	if (fd >= 0)
		close(fd);
	printf("connects=%ld failed=%ld seconds=%.3f rate=%.0f/s\n", count, fails, dt,
	       dt > 0 ? count / dt : 0.0);
	return fails ? 1 : 0;
}
