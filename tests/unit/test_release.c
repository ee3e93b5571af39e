// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * release_after_exit() with real processes: a "tool" process hands the
 * write end of a pipe to the releaser and closes its own copy. The pipe's
 * reader must see no end of file while the tool lives (the releaser holds
 * it), and one after the tool exits (the releaser let go and is gone).
 * The releaser holds nothing else: a pipe the tool closes right after the
 * call reaches its end of file while the tool still lives.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "release.h"

/* 1 if fd reads end of file within ms, 0 if it has nothing then, -1 if it
 * had data */
static int eof_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, ms) <= 0)
		return 0;
	return read(fd, &c, 1) == 0 ? 1 : -1;
}

static int fd_count(pid_t pid)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

static void comm_of(pid_t pid, char out[16])
{
	char path[64];
	FILE *f;

	memset(out, 0, 16);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(out, 16, f))
			out[strcspn(out, "\n")] = 0;
		fclose(f);
	}
}

int main(void)
{
	int held[2], early[2], report[2], go[2], st = 0, got;
	pid_t tool, rel = 0;
	char name[16];
	char c;

	if (pipe(held) || pipe(early) || pipe(report) || pipe(go)) {
		perror("pipe");
		return 1;
	}
	tool = fork();
	if (tool == 0) {
		int r, fds[1] = { held[1] };

		close(held[0]);
		close(early[0]);
		close(report[0]);
		close(go[1]);
		r = release_after_exit(fds, 1);
		close(held[1]);
		close(early[1]); /* the releaser must not keep this one open */
		if (write(report[1], &r, sizeof(r)) != sizeof(r))
			_exit(3);
		r = release_after_exit(fds, 1); /* a second call: refused */
		if (write(report[1], &r, sizeof(r)) != sizeof(r))
			_exit(3);
		if (read(go[0], &c, 1) < 0)
			_exit(3);
		_exit(0);
	}
	close(held[1]);
	close(early[1]);
	close(report[1]);
	close(go[0]);
	ck(read(report[0], &rel, sizeof(rel)) == sizeof(rel) && rel > 0, "started: its pid",
	   "release_after_exit returned %d", (int)rel);
	ck(read(report[0], &got, sizeof(got)) == sizeof(got) && got == -EALREADY,
	   "a second call is refused", "returned %d", got);
	if (rel > 0) {
		comm_of(rel, name);
		ck(!strcmp(name, "connecttop-exit"), "named connecttop-exit", "comm '%s'", name);
		/* the fd handed over and its end of the socket pair */
		ck(fd_count(rel) == 2, "holds the fd handed over and its socket, nothing else",
		   "%d fds", fd_count(rel));
	}
	ck(eof_within(early[0], 5000) == 1, "an fd closed by the tool reaches end of file",
	   "while the tool lives: the releaser holds it");
	ck(eof_within(held[0], 200) == 0, "the fd handed over is held while the tool lives",
	   "end of file before the tool exited");
	if (write(go[1], "g", 1) != 1)
		perror("write");
	waitpid(tool, &st, 0);
	ck(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the tool exits 0", "status %d", st);
	ck(eof_within(held[0], 5000) == 1, "the fd handed over is closed after the tool's exit",
	   "no end of file within 5 s");
	/* the releaser is the tool's child: reparented, reaped by init */
	for (int i = 0; i < 250 && rel > 0 && kill(rel, 0) == 0; i++) {
		comm_of(rel, name);
		if (strcmp(name, "connecttop-exit"))
			break; /* gone, its pid reused */
		if (fd_count(rel) == 0)
			break; /* exited: a zombie until init reaps it */
		usleep(20000);
	}
	ck(rel > 0 && fd_count(rel) <= 0, "the releaser exits after the tool", "still holds %d fds",
	   fd_count(rel));
	return ck_done();
}
