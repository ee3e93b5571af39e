// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Restoring the terminal from a signal handler. endwin() is not
 * async-signal-safe, so the handler uses only tcsetattr() and write():
 * the saved termios, then the terminal's own sequences (captured from
 * terminfo while the screen came up) to leave the alternate screen, show
 * the cursor and reset attributes. Then the signal's default action runs
 * (SA_RESETHAND | SA_NODEFER and raise()), so the exit status stays
 * 128 + signal and a crash still dumps core.
 */
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "termsave.h"
#include "util.h"

/* the signals whose default action ends the process and that the
 * program does not handle itself (SIGINT, SIGTERM, SIGHUP quit cleanly;
 * SIGPIPE is ignored; SIGTSTP and SIGWINCH are ncurses') */
static const int fatal_signals[] = {
	SIGQUIT,   SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ,
	SIGSEGV,   SIGBUS,  SIGFPE,  SIGILL,  SIGABRT,	 SIGTRAP, SIGSYS,  SIGPWR,
#ifdef SIGSTKFLT
	SIGSTKFLT,
#endif
};

/* what each had before termsave_arm(), put back by termsave_disarm() */
static struct sigaction before[ARRAY_SIZE(fatal_signals)];
static int armed;
static struct termios saved;
static int saved_fd = -1;
static char seq[256]; /* what to write to leave the screen */
static size_t seq_len;

void termsave_init(int fd)
{
	if (tcgetattr(fd, &saved) == 0)
		saved_fd = fd;
}

void termsave_add(const char *s)
{
	size_t n = s && s != (const char *)-1 ? strlen(s) : 0;

	if (n && seq_len + n < sizeof(seq)) {
		memcpy(seq + seq_len, s, n);
		seq_len += n;
	}
}

static void on_fatal(int sig)
{
	if (seq_len) {
		ssize_t w = write(STDOUT_FILENO, seq, seq_len);
		(void)w;
	}
	if (saved_fd >= 0)
		tcsetattr(saved_fd, TCSAFLUSH, &saved);
	raise(sig); /* the default action, now that the handler is reset */
}

void termsave_arm(void)
{
	struct sigaction sa = { 0 };

	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(fatal_signals); i++) {
		sigaction(fatal_signals[i], NULL, &before[i]);
		/* a signal ignored by the parent (SIGQUIT of a job started
		 * with &) stays ignored: it ends nothing */
		if (before[i].sa_handler != SIG_IGN)
			sigaction(fatal_signals[i], &sa, NULL);
	}
	armed = 1;
}

void termsave_disarm(void)
{
	if (!armed)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(fatal_signals); i++)
		sigaction(fatal_signals[i], &before[i], NULL);
	armed = 0;
}
