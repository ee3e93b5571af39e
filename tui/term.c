// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Terminal setup for the view (term.h).
 */
#include "term.h"

#include <curses.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "termsave.h"
#include "util.h"

/* The host has no terminfo database at all (a container, an initramfs):
 * the entries built in, written to a private folder that TERMINFO points
 * at while the terminal is set up, then removed. TERM itself if it is one
 * of them, else the first that works. 1 if the terminal is set up. */
static int newterm_builtin(const char *term)
{
	char dir[] = "/tmp/connecttop-terminfo.XXXXXX", path[sizeof(dir) + 80];
	const struct ct_terminfo *e;
	int ok = 0;

	if (!mkdtemp(dir))
		return 0;
	for (e = ct_terminfos; e->name; e++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%c", dir, e->name[0]);
		mkdir(path, 0700);
		snprintf(path, sizeof(path), "%s/%c/%s", dir, e->name[0], e->name);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, e->data, e->len) != (ssize_t)e->len) {
			if (fd >= 0)
				close(fd);
			goto out;
		}
		close(fd);
	}
	setenv("TERMINFO", dir, 1);
	/* TERM as it is, then each entry in turn */
	if (term && *term) {
		setenv("TERM", term, 1);
		ok = newterm(NULL, stdout, stdin) != NULL;
	}
	for (e = ct_terminfos; !ok && e->name; e++) {
		setenv("TERM", e->name, 1);
		ok = newterm(NULL, stdout, stdin) != NULL;
	}
	unsetenv("TERMINFO");
out:
	for (e = ct_terminfos; e->name; e++) {
		snprintf(path, sizeof(path), "%s/%c/%s", dir, e->name[0], e->name);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%c", dir, e->name[0]);
		rmdir(path);
	}
	rmdir(dir);
	return ok;
}

int term_open(char *err, size_t errlen)
{
	const char *term = getenv("TERM");

	/* A static binary reads the host's terminfo; if it lacks this TERM,
	 * fall back to entries every terminfo has rather than failing. */
	if (!term || !*term)
		setenv("TERM", "vt100", 1);
	termsave_init(STDIN_FILENO);
	if (!newterm(NULL, stdout, stdin)) {
		const char *fallbacks[] = { "xterm", "vt100", "dumb" };
		int ok = 0;

		for (size_t i = 0; i < ARRAY_SIZE(fallbacks) && !ok; i++) {
			setenv("TERM", fallbacks[i], 1);
			ok = newterm(NULL, stdout, stdin) != NULL;
		}
		if (!ok)
			ok = newterm_builtin(term);
		if (!ok) {
			snprintf(err, errlen,
				 "cannot initialize the terminal (TERM=%s): no terminfo entry",
				 term ? term : "");
			return -1;
		}
	}
	cbreak(); /* ^C and ^Z still signal: SIGINT quits cleanly, ^Z suspends */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	/* what endwin() would write, for a signal that ends the program */
	termsave_add(tigetstr("sgr0"));
	termsave_add(tigetstr("cnorm"));
	termsave_add(tigetstr("rmkx"));
	termsave_add(tigetstr("rmcup"));
	termsave_arm();
	return 0;
}

void term_close(void)
{
	/* without an alternate screen (vt100, linux) what is drawn stays:
	 * leave a clean screen behind */
	erase();
	refresh();
	termsave_disarm();
	endwin();
}

int term_lines(void)
{
	return LINES;
}
