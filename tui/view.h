/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The interactive view: the glue between the app and the screen's modules
 * (ui_state, keys, draw, term). It reads snapshots of the flow table; it
 * never slows capture.
 */
#ifndef CT_VIEW_H
#define CT_VIEW_H

#include <stddef.h>

struct app;
struct ct_view_ui;

/* Take over the terminal. NULL with a message in err on failure (the
 * terminal is left as it was). view_free() restores it; it accepts NULL. */
struct ct_view_ui *view_new(struct app *a, char *err, size_t errlen);
void view_free(struct ct_view_ui *v);
/* Handle every pending key (and a resize). Returns 1 when the user quits. */
int view_input(struct ct_view_ui *v);
/* A new interval ended: refresh the snapshot (unless frozen) and redraw. */
void view_tick(struct ct_view_ui *v);
/* 1 once after the user changed the refresh interval, with the new one in
 * *delay (seconds); 0 without touching it */
int view_delay_changed(struct ct_view_ui *v, double *delay);

/* 1 while frozen (Space): a replay holds its clock */
int view_frozen(const struct ct_view_ui *v);
/* an alert on the status line (the recording stopped, ...) */
void view_message(struct ct_view_ui *v, const char *msg);

#endif
