/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The terminal for curses: set up with fallbacks down to terminfo entries
 * built into the binary, and put back (also by a signal, termsave.h).
 */
#ifndef CT_TERM_H
#define CT_TERM_H

#include <stddef.h>

/* Take over the terminal: 0, or -1 with a message in err (the terminal is
 * left as it was). */
int term_open(char *err, size_t errlen);
/* leave a clean screen and put the terminal back */
void term_close(void);
int term_lines(void); /* the terminal's height */

/* compiled terminfo entries built in (terminfo.c, made by
 * tui/embed-terminfo.sh), for hosts without a terminfo database; the list
 * ends with a NULL name */
struct ct_terminfo {
	const char *name;
	const unsigned char *data;
	unsigned len;
};
extern const struct ct_terminfo ct_terminfos[];

#endif
