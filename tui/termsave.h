/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The terminal as it was before the view, put back by any signal that
 * ends the program (SIGQUIT, SIGUSR1, a crash...), not only by the clean
 * exit of SIGINT/SIGTERM/SIGHUP and q.
 */
#ifndef CT_TERMSAVE_H
#define CT_TERMSAVE_H

/* save fd's terminal modes; the handlers are not armed yet */
void termsave_init(int fd);
/* with the screen up: a sequence the handler writes to leave this
 * terminal's full-screen mode (NULL or (char *)-1 from tigetstr: none),
 * in the order given */
void termsave_add(const char *s);
/* arm the handlers */
void termsave_arm(void);
/* the view is gone: the signals get back what they had before */
void termsave_disarm(void);

#endif
