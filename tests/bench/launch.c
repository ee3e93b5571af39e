// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * launch: a tracer's start-up and shut-down as the program that runs it
 * sees them, for the benchmark.
 *
 *   launch [-w MS] [-h MS] [-l] TEXT CMD [ARGS...]
 *
 * Starts CMD with its stdout and stderr on a pipe, reads the pipe until a
 * line contains TEXT (the tool's own "attached" or "ready" line), holds for
 * -h MS (default 0), sends SIGINT and waits for CMD to exit, reading the
 * pipe all along so that CMD never blocks on it. With -l, ready is instead
 * when CMD holds a file descriptor whose link reads TEXT, such as
 * anon_inode:bpf_link for a tool that prints nothing once attached, or
 * whose stdout is block-buffered (libbpf-tools' tcpstates). Prints one line:
 *
 *   ready_ms=X exit_ms=Y status=S
 *
 * ready_ms: fork+exec until the line with TEXT was read; exit_ms: SIGINT
 * until waitpid() returned; status: the exit code, or "sig N". Without TEXT
 * within -w MS (default 10000) CMD is killed and ready_ms is "nan".
 * Exits 0 when CMD was ready and exited 0 after SIGINT, else 1; 2 on usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void usage(void)
{
	fprintf(stderr, "usage: launch [-w MS] [-h MS] [-l] TEXT CMD [ARGS...]\n");
	exit(2);
}

/* Read what the pipe has within timeout_ms; keeps the last partial line in
 * buf. Returns 1 once a complete line with text was seen (text NULL: never),
 * -1 at end of file, else 0. */
static int drain(int fd, char *buf, size_t *len, size_t cap, const char *text, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char *nl;
	ssize_t n;
	int found = 0;

	if (poll(&p, 1, timeout_ms) <= 0)
		return 0;
	n = read(fd, buf + *len, cap - 1 - *len);
	if (n <= 0)
		return n == 0 || errno != EINTR ? -1 : 0;
	*len += n;
	buf[*len] = 0;
	while ((nl = strchr(buf, '\n'))) {
		*nl = 0;
		if (text && strstr(buf, text))
			found = 1;
		*len -= nl + 1 - buf;
		memmove(buf, nl + 1, *len + 1);
	}
	if (*len == cap - 1)
		*len = 0; /* a line longer than the buffer: not the one sought */
	return found;
}

/* 1 if process pid has a file descriptor whose link reads target */
static int holds_fd(pid_t pid, const char *target)
{
	char dir[64], path[320], link[256];
	struct dirent *d;
	int found = 0;
	ssize_t n;
	DIR *dp;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	dp = opendir(dir);
	if (!dp)
		return 0;
	while (!found && (d = readdir(dp))) {
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = 0;
			found = !strcmp(link, target);
		}
	}
	closedir(dp);
	return found;
}

int main(int argc, char **argv)
{
	long wait_ms = 10000, hold_ms = 0;
	char buf[65536];
	size_t len = 0;
	double t0, t_ready = -1, t_int, t_exit;
	int pfd[2], c, st, ready = 0, eof = 0, by_fd = 0;
	pid_t pid;

	while ((c = getopt(argc, argv, "+w:h:l")) != -1) {
		if (c == 'w')
			wait_ms = strtol(optarg, NULL, 10);
		else if (c == 'h')
			hold_ms = strtol(optarg, NULL, 10);
		else if (c == 'l')
			by_fd = 1;
		else
			usage();
	}
	if (argc - optind < 2 || wait_ms <= 0 || hold_ms < 0)
		usage();
	if (pipe2(pfd, O_CLOEXEC)) {
		perror("launch: pipe");
		return 1;
	}
	t0 = now_ms();
	pid = fork();
	if (pid < 0) {
		perror("launch: fork");
		return 1;
	}
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execvp(argv[optind + 1], argv + optind + 1);
		perror("launch: exec");
		_exit(127);
	}
	close(pfd[1]);
	while (!eof && now_ms() - t0 < wait_ms) {
		int r = drain(pfd[0], buf, &len, sizeof(buf), by_fd ? NULL : argv[optind],
			      by_fd ? 1 : 50);

		if (r == 1 || (by_fd && holds_fd(pid, argv[optind]))) {
			t_ready = now_ms();
			ready = 1;
			break;
		}
		eof = r < 0;
	}
	if (ready) {
		while (!eof && now_ms() - t_ready < hold_ms)
			eof = drain(pfd[0], buf, &len, sizeof(buf), NULL, 10) < 0;
	}
	t_int = now_ms();
	kill(pid, ready ? SIGINT : SIGKILL);
	/* until the pipe closes (CMD and whatever it started are gone), at
	 * most 10 s, then the exit status */
	while (!eof && now_ms() - t_int < 10000)
		eof = drain(pfd[0], buf, &len, sizeof(buf), NULL, 50) < 0;
	if (!eof)
		kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	t_exit = now_ms();
	if (ready)
		printf("ready_ms=%.1f exit_ms=%.1f ", t_ready - t0, t_exit - t_int);
	else
		printf("ready_ms=nan exit_ms=nan ");
	if (WIFEXITED(st))
		printf("status=%d\n", WEXITSTATUS(st));
	else
		printf("status=sig%d\n", WTERMSIG(st));
	return ready && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
