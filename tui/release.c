// SPDX-License-Identifier: GPL-2.0-or-later
#include "release.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RELEASE_STACK (64 * 1024)

/* What the child keeps, sorted, its end of the socket pair among them.
 * Written before the clone and only read after it: the child sees it in
 * the shared memory. */
static struct {
	int keep[RELEASE_MAX_FDS + 1];
	size_t n;
	int sock;
} rel;
static int started;

/* The child: raw system calls only (it shares the parent's memory, malloc
 * state and thread pointer), every signal blocked since before the clone
 * (so that no handler of the parent's runs here). */
__attribute__((no_sanitize("address"))) static int releaser(void *arg)
{
	unsigned int lo = 0;
	char c = 'r';

	(void)arg;
	syscall(SYS_prctl, PR_SET_NAME, "connecttop-exit", 0, 0, 0);
	/* everything but the fds to hold: the parent's stdout is not kept
	 * open behind its back (a pipe's reader waits for its end) */
	for (size_t i = 0; i < rel.n; i++) {
		if ((unsigned int)rel.keep[i] > lo)
			syscall(SYS_close_range, lo, (unsigned int)rel.keep[i] - 1, 0);
		lo = (unsigned int)rel.keep[i] + 1;
	}
	syscall(SYS_close_range, lo, ~0U, 0);
	syscall(SYS_write, rel.sock, &c, 1);
	/* 0 (end of file) once the parent's end is closed: at its exit */
	syscall(SYS_read, rel.sock, &c, 1);
	return 0; /* the clone wrapper exits; the fds close here */
}

int release_after_exit(const int *fds, size_t n)
{
	sigset_t all, old;
	int sv[2], pid, err;
	void *stack;
	char c;

	if (started)
		return -EALREADY;
	if (n > RELEASE_MAX_FDS)
		return -E2BIG;
	/* the child closes the rest with close_range (5.9+) */
	if (syscall(SYS_close_range, ~0U, ~0U, 0))
		return -errno;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	rel.n = 0;
	rel.sock = sv[1];
	for (size_t i = 0; i <= n; i++) {
		int fd = i < n ? fds[i] : sv[1];
		size_t j = rel.n++;

		for (; j > 0 && rel.keep[j - 1] > fd; j--)
			rel.keep[j] = rel.keep[j - 1];
		rel.keep[j] = fd;
	}
	stack = mmap(NULL, RELEASE_STACK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = clone(releaser, (char *)stack + RELEASE_STACK, CLONE_VM | SIGCHLD, NULL);
	err = -errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		munmap(stack, RELEASE_STACK);
		goto fail;
	}
	started = 1;
	close(sv[1]);
	/* until the child holds only what it should (or died: then end of
	 * file, and the fds it held are closed already). The stack stays
	 * mapped: the child runs on it until it exits. */
	while (read(sv[0], &c, 1) < 0 && errno == EINTR)
		;
	/* sv[0] stays open, unused, until this process exits */
	return pid;
fail:
	close(sv[0]);
	close(sv[1]);
	return err;
}
