// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * loadgen: the project's own connect() load generator for tests and the
 * benchmark. It only ever targets the address it is given, and refuses any
 * address that is not loopback (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104) unless -x is given,
 * which the tests pass only inside a network namespace they created.
 *
 *   loadgen [options] KIND ADDR PORT COUNT
 *
 * KIND:
 *   accept   a listener on ADDR:PORT is started by loadgen itself; COUNT TCP
 *            connects are made to it and accepted
 *   refuse   COUNT TCP connects to ADDR:PORT where nothing listens (refused)
 *   udp      COUNT UDP connect()s to ADDR:PORT (no packet is sent)
 *   timeout  COUNT TCP connects that are expected to time out (SYNs dropped)
 *   absent   COUNT connects to an AF_UNIX path where nothing is bound
 *            (ENOENT; ECONNREFUSED for an abstract name)
 *   none     nothing (used with -c to check the process name)
 *
 * ADDR unix:/PATH or unix:@NAME (abstract) makes AF_UNIX connects (PORT 0):
 * accept to a listener loadgen binds there, refuse to a socket loadgen binds
 * without listening, udp to a datagram socket loadgen binds (SOCK_DGRAM).
 * A path loadgen bound is removed at the end.
 *
 * Options:
 *   -c NAME   set the process name (comm) to NAME before connecting
 *   -P N      fork N processes, each doing COUNT connects (default 1)
 *   -T N      N threads per process, COUNT split between them (default 1)
 *   -N        non-blocking connects (EINPROGRESS, then poll for the result)
 *   -R        with -N: learn the result by calling connect() again until it
 *             says (EALREADY while under way), instead of SO_ERROR
 *   -d SECS   with COUNT 0: run for SECS seconds instead of a count
 *   -w MS     wait MS milliseconds for each non-blocking or timeout connect
 *             (default 5000)
 *   -S N      timeout: TCP_SYNCNT N (default 1: given up after 3 s; N: after
 *             2^(N+1)-1 s, the time a blocking connect waits)
 *   -U        udp: after each connect, connect() again with AF_UNSPEC (a
 *             UDP "disconnect", which is no connect)
 *   -r        udp: each thread makes one socket and connect()s it again and
 *             again (a UDP connect() may be repeated on a socket): the
 *             connect() storm alone, without socket() and close() per call
 *   -s N      scan: the connects of a process go to N ports from PORT on in
 *             turn (PORT, PORT+1, ..., PORT+N-1, PORT, ...): N distinct
 *             destinations, a port scan's flood of one-off flows
 *   -D NAME   first resolve NAME to ADDR (IPv4) through DNS, both ends in
 *             this process: a server on 127.0.0.1:53 (which must be free:
 *             root, the kernel matrix's guest) answers the query a UDP
 *             socket connected to it sends, with one A record, ADDR; then
 *             the connects go to the address the answer gave. The name a
 *             process resolved (connecttop's qname), with no resolver
 *             installed
 *   -q        print nothing
 *
 * Prints one line: "connects=N ok=N failed=N seconds=S rate=R/s".
 * Exits 0 when every connect ended as KIND expects, 1 otherwise, 2 on usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum kind { K_ACCEPT, K_REFUSE, K_UDP, K_TIMEOUT, K_ABSENT, K_NONE };

static struct {
	enum kind kind;
	struct sockaddr_storage sa;
	socklen_t salen;
	long count;
	int procs, threads, nonblock, reconnect, quiet, netns_ok;
	double seconds;
	int wait_ms, syncnt, unspec, reuse;
	long scan; /* -s: ports in turn, 0: PORT alone */
	const char *comm;
	const char *dns_name; /* -D */
} opt = { .procs = 1, .threads = 1, .wait_ms = 5000, .syncnt = 1 };

static atomic_long n_ok, n_fail;
static atomic_ulong scan_next; /* -s: the next connect's port, from PORT */
/* -r: this thread's UDP socket, made at its first connect */
static __thread int reuse_fd = -1;
static pid_t main_pid;

static void unlink_path(void)
{
	if (getpid() == main_pid) /* not from a child's exit */
		unlink(((struct sockaddr_un *)&opt.sa)->sun_path);
}
static int listen_fd = -1;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(const char *why)
{
	fprintf(stderr,
		"loadgen: %s\nusage: loadgen [-c NAME] [-P PROCS] [-T THREADS] [-N [-R]] [-d SECS] [-w MS] [-S N] [-U] [-r] [-s N] [-D NAME] [-q] "
		"accept|refuse|udp|timeout|absent|none ADDR PORT COUNT\n",
		why);
	exit(2);
}

static long parse_num(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		char msg[128];

		snprintf(msg, sizeof(msg), "invalid %s '%s' (expected %ld..%ld)", what, s, lo, hi);
		usage(msg);
	}
	return v;
}

static int is_allowed(void)
{
	if (opt.netns_ok || opt.sa.ss_family == AF_UNIX)
		return 1;
	if (opt.sa.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)&opt.sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	const struct sockaddr_in6 *in6 = (const void *)&opt.sa;

	if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
		return in6->sin6_addr.s6_addr[12] == 127;
	return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
}

/* Returns 1 if the connect ended as the kind expects. */
static int one_connect(void)
{
	int type = opt.kind == K_UDP ? SOCK_DGRAM : SOCK_STREAM;
	int fd, rc, err = 0, good;

	if (opt.reuse && reuse_fd >= 0)
		fd = reuse_fd;
	else
		fd = socket(opt.sa.ss_family,
			    type | SOCK_CLOEXEC | (opt.nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0) {
		perror("loadgen: socket");
		exit(1);
	}
	if (opt.kind == K_TIMEOUT) {
		/* keep timeouts short: one SYN retransmit at most (-S) */
		int syn = opt.syncnt;

		setsockopt(fd, IPPROTO_TCP, 7 /* TCP_SYNCNT */, &syn, sizeof(syn));
	}
	if (opt.scan) {
		struct sockaddr_storage to = opt.sa;
		unsigned long i = atomic_fetch_add(&scan_next, 1) % (unsigned long)opt.scan;
		uint16_t *port = to.ss_family == AF_INET ? &((struct sockaddr_in *)&to)->sin_port :
							   &((struct sockaddr_in6 *)&to)->sin6_port;

		*port = htons((uint16_t)(ntohs(*port) + i));
		rc = connect(fd, (struct sockaddr *)&to, opt.salen);
	} else {
		rc = connect(fd, (struct sockaddr *)&opt.sa, opt.salen);
	}
	if (rc < 0)
		err = errno;
	if (rc < 0 && err == EINPROGRESS && opt.reconnect) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		double end = now_s() + opt.wait_ms / 1000.0;

		for (;;) {
			poll(&p, 1, 50);
			if (connect(fd, (struct sockaddr *)&opt.sa, opt.salen) == 0 ||
			    errno == EISCONN) {
				err = 0;
				break;
			}
			err = errno;
			if (err != EALREADY && err != EINPROGRESS)
				break;
			if (now_s() > end) {
				err = ETIMEDOUT;
				break;
			}
		}
	} else if (rc < 0 && err == EINPROGRESS) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		socklen_t len = sizeof(err);

		if (poll(&p, 1, opt.wait_ms) == 1)
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
		else
			err = ETIMEDOUT;
	}
	if (opt.unspec && opt.kind == K_UDP && !err) {
		struct sockaddr unspec = { .sa_family = AF_UNSPEC };

		if (connect(fd, &unspec, sizeof(unspec)))
			err = errno;
	}
	switch (opt.kind) {
	case K_ACCEPT:
	case K_UDP:
		good = err == 0;
		break;
	case K_REFUSE:
		good = err == ECONNREFUSED;
		break;
	case K_TIMEOUT:
		good = err == ETIMEDOUT;
		break;
	case K_ABSENT:
		good = err ==
		       (((struct sockaddr_un *)&opt.sa)->sun_path[0] ? ENOENT : ECONNREFUSED);
		break;
	default:
		good = 0;
	}
	if (opt.reuse)
		reuse_fd = fd;
	else
		close(fd);
	atomic_fetch_add(good ? &n_ok : &n_fail, 1);
	return good;
}

static void *worker(void *arg)
{
	long n = (long)arg;
	double end = now_s() + opt.seconds;

	if (opt.count == 0) {
		while (now_s() < end) {
			for (int i = 0; i < 64; i++)
				one_connect();
		}
		return NULL;
	}
	for (long i = 0; i < n; i++)
		one_connect();
	return NULL;
}

static void *acceptor(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(listen_fd, NULL, NULL);

		if (c >= 0)
			close(c);
		else if (errno != EINTR && errno != ECONNABORTED)
			return NULL;
	}
}

/* -D: NAME to ADDR through a DNS query and answer over loopback, both
 * ends here; 0, or -1 with a message (the answer must carry ADDR) */
static int resolve_self(const char *name)
{
	struct sockaddr_in srv_a = { .sin_family = AF_INET,
				     .sin_port = htons(53),
				     .sin_addr.s_addr = htonl(INADDR_LOOPBACK) },
			   from;
	socklen_t fl = sizeof(from);
	uint8_t q[512], a[512];
	const uint8_t *want = (const uint8_t *)&((struct sockaddr_in *)&opt.sa)->sin_addr;
	size_t n = 12, qlen;
	ssize_t r;
	int srv = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int cli = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;

	memset(q, 0, sizeof(q));
	q[0] = 0x4c, q[1] = 0x47; /* id */
	q[2] = 0x01;		  /* RD */
	q[5] = 1;		  /* one question */
	for (const char *l = name; *l;) {
		size_t k = strcspn(l, ".");

		if (!k || k > 63 || n + k + 6 > sizeof(q))
			goto out;
		q[n++] = (uint8_t)k;
		memcpy(q + n, l, k);
		n += k;
		l += k + (l[k] == '.');
	}
	q[n++] = 0;
	q[n++] = 0, q[n++] = 1; /* A */
	q[n++] = 0, q[n++] = 1; /* IN */
	qlen = n;
	if (srv < 0 || cli < 0 || bind(srv, (struct sockaddr *)&srv_a, sizeof(srv_a)) ||
	    connect(cli, (struct sockaddr *)&srv_a, sizeof(srv_a)) || send(cli, q, qlen, 0) < 0) {
		perror("loadgen: -D");
		goto out;
	}
	r = recvfrom(srv, a, sizeof(a), 0, (struct sockaddr *)&from, &fl);
	if (r != (ssize_t)qlen)
		goto out;
	/* the answer: the query, flags QR RD RA, one answer record, a pointer
	 * to the question's name, A IN, TTL 60, ADDR */
	a[2] = 0x81, a[3] = 0x80;
	a[7] = 1;
	memcpy(a + qlen,
	       (const uint8_t[]){ 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, want[0], want[1],
				  want[2], want[3] },
	       16);
	if (sendto(srv, a, qlen + 16, 0, (struct sockaddr *)&from, fl) < 0) {
		perror("loadgen: -D answer");
		goto out;
	}
	r = recv(cli, q, sizeof(q), 0);
	if (r == (ssize_t)qlen + 16 && q[0] == 0x4c && q[1] == 0x47 &&
	    !memcmp(q + qlen + 12, want, 4))
		rc = 0;
out:
	if (rc)
		fprintf(stderr, "loadgen: -D %s: no answer with the address\n", name);
	if (srv >= 0)
		close(srv);
	if (cli >= 0)
		close(cli);
	return rc;
}

static int run_process(void)
{
	pthread_t th[256];
	double t0;

	if (opt.comm)
		prctl(PR_SET_NAME, opt.comm, 0, 0, 0);
	if (opt.dns_name && resolve_self(opt.dns_name))
		return 1;
	if (opt.kind == K_NONE)
		return 0;
	t0 = now_s();
	for (int i = 0; i < opt.threads; i++) {
		long share = opt.count / opt.threads + (i < opt.count % opt.threads);

		if (pthread_create(&th[i], NULL, worker, (void *)share)) {
			fprintf(stderr, "loadgen: cannot start thread\n");
			exit(1);
		}
	}
	for (int i = 0; i < opt.threads; i++)
		pthread_join(th[i], NULL);
	double dt = now_s() - t0;
	long ok = atomic_load(&n_ok), fail = atomic_load(&n_fail);

	if (!opt.quiet)
		printf("connects=%ld ok=%ld failed=%ld seconds=%.3f rate=%.0f/s\n", ok + fail, ok,
		       fail, dt, dt > 0 ? (ok + fail) / dt : 0.0);
	fflush(stdout);
	return fail ? 1 : 0;
}

int main(int argc, char **argv)
{
	int c, status = 0;

	main_pid = getpid();

	while ((c = getopt(argc, argv, "c:P:T:NRd:w:S:Urs:qxD:")) != -1) {
		switch (c) {
		case 'c':
			opt.comm = optarg;
			break;
		case 's':
			opt.scan = parse_num(optarg, 1, 65535, "scan width");
			break;
		case 'P':
			opt.procs = parse_num(optarg, 1, 256, "process count");
			break;
		case 'T':
			opt.threads = parse_num(optarg, 1, 256, "thread count");
			break;
		case 'N':
			opt.nonblock = 1;
			break;
		case 'R':
			opt.reconnect = 1;
			break;
		case 'd':
			opt.seconds = parse_num(optarg, 1, 3600, "duration");
			break;
		case 'w':
			opt.wait_ms = parse_num(optarg, 1, 600000, "wait");
			break;
		case 'S':
			opt.syncnt = parse_num(optarg, 1, 127, "SYN count");
			break;
		case 'U':
			opt.unspec = 1;
			break;
		case 'r':
			opt.reuse = 1;
			break;
		case 'q':
			opt.quiet = 1;
			break;
		case 'D':
			opt.dns_name = optarg;
			break;
		case 'x':
			/* the caller runs us inside a network namespace it made */
			opt.netns_ok = 1;
			break;
		default:
			usage("unknown option");
		}
	}
	if (argc - optind != 4)
		usage("expected KIND ADDR PORT COUNT");
	const char *k = argv[optind];

	if (!strcmp(k, "accept"))
		opt.kind = K_ACCEPT;
	else if (!strcmp(k, "refuse"))
		opt.kind = K_REFUSE;
	else if (!strcmp(k, "udp"))
		opt.kind = K_UDP;
	else if (!strcmp(k, "timeout"))
		opt.kind = K_TIMEOUT;
	else if (!strcmp(k, "absent"))
		opt.kind = K_ABSENT;
	else if (!strcmp(k, "none"))
		opt.kind = K_NONE;
	else
		usage("KIND must be accept, refuse, udp, timeout, absent or none");

	const char *addr = argv[optind + 1];
	int unix_addr = !strncmp(addr, "unix:", 5);
	int port = parse_num(argv[optind + 2], unix_addr ? 0 : 1, unix_addr ? 0 : 65535, "port");
	struct sockaddr_in *in = (void *)&opt.sa;
	struct sockaddr_in6 *in6 = (void *)&opt.sa;
	struct sockaddr_un *un = (void *)&opt.sa;

	if (unix_addr) {
		size_t n = strlen(addr + 5);

		if (!n || n >= sizeof(un->sun_path))
			usage("unix:PATH must be 1..107 bytes");
		if (opt.kind == K_TIMEOUT)
			usage("an AF_UNIX connect does not time out");
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, addr + 5, n);
		opt.salen = offsetof(struct sockaddr_un, sun_path) + n;
		if (un->sun_path[0] == '@')
			un->sun_path[0] = 0; /* abstract: no trailing NUL either */
		else
			opt.salen++;
	} else if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		opt.salen = sizeof(*in);
	} else if (inet_pton(AF_INET6, argv[optind + 1], &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		opt.salen = sizeof(*in6);
	} else {
		usage("ADDR must be a numeric IPv4 or IPv6 address");
	}
	if (!is_allowed())
		usage("refusing a non-loopback address (use -x only inside a test network namespace)");
	opt.count = parse_num(argv[optind + 3], 0, 1000000000L, "count");
	if (opt.count == 0 && opt.seconds == 0 && opt.kind != K_NONE)
		usage("COUNT 0 needs -d SECS");
	if (opt.dns_name && opt.sa.ss_family != AF_INET)
		usage("-D is for an IPv4 ADDR (its answer is an A record)");
	if (opt.reuse && (opt.kind != K_UDP || unix_addr))
		usage("-r is for udp to an IPv4 or IPv6 address");
	if (opt.scan && ((opt.kind != K_UDP && opt.kind != K_REFUSE) || unix_addr || opt.reuse ||
			 port + opt.scan - 1 > 65535))
		usage("-s is for udp or refuse to an IPv4 or IPv6 address, without -r, within port 65535");

	if (unix_addr && (opt.kind == K_ACCEPT || opt.kind == K_REFUSE || opt.kind == K_UDP)) {
		/* bind the peer: a listener, a socket that does not listen, or
		 * a datagram socket */
		int fd = socket(AF_UNIX,
				(opt.kind == K_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);

		if (un->sun_path[0])
			unlink(un->sun_path);
		if (fd < 0 || bind(fd, (struct sockaddr *)&opt.sa, opt.salen) ||
		    (opt.kind == K_ACCEPT && listen(fd, 4096))) {
			perror("loadgen: bind");
			return 1;
		}
		if (un->sun_path[0])
			atexit(unlink_path);
		if (opt.kind == K_ACCEPT) {
			listen_fd = fd;
			for (int i = 0; i < 2; i++) {
				pthread_t t;

				pthread_create(&t, NULL, acceptor, NULL);
			}
		}
	} else if (opt.kind == K_ACCEPT) {
		int one = 1;

		listen_fd = socket(opt.sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&opt.sa, opt.salen) ||
		    listen(listen_fd, 4096)) {
			perror("loadgen: listen");
			return 1;
		}
		for (int i = 0; i < 2; i++) {
			pthread_t t;

			pthread_create(&t, NULL, acceptor, NULL);
		}
	}
	if (opt.procs == 1)
		return run_process();
	for (int i = 0; i < opt.procs; i++) {
		pid_t p = fork();

		if (p < 0) {
			perror("loadgen: fork");
			return 1;
		}
		if (p == 0) {
			/* children of an accept run share the parent's listener and acceptor threads are
			 * not inherited: give each child its own */
			if (opt.kind == K_ACCEPT) {
				pthread_t t;

				pthread_create(&t, NULL, acceptor, NULL);
			}
			_exit(run_process());
		}
	}
	for (int i = 0; i < opt.procs; i++) {
		int st;

		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			status = 1;
	}
	return status;
}
