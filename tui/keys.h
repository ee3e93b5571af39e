/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The key bindings, htop style: one table of key -> action, each action a
 * small function that changes struct ui_state and returns what its caller
 * must do next (UI_* bits). The help screen lists the same table.
 */
#ifndef CT_KEYS_H
#define CT_KEYS_H

#include <stddef.h>

#include "rows.h"
#include "ui_state.h"

/* what an action may read besides the state */
struct keys_ctx {
	const struct ct_rows *rows; /* the rows shown, NULL: none derived */
	size_t page;		    /* rows a page key moves */
};

#define KEYS_NONE (-1) /* keys_read(): nothing typed */

/* the next key typed (curses' key codes), KEYS_NONE when none; an escape
 * sequence the terminfo entry does not know is read whole (0 if it means
 * nothing) */
int keys_read(void);
/* act on key ch in the state's mode; UI_* bits */
unsigned keys_handle(struct ui_state *s, const struct keys_ctx *k, int ch);
/* the help screen's line i: 1 with the keys' names and what they do, 0
 * past the last */
int keys_help(size_t i, const char **names, const char **help);

#endif
