/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Batch mode (like top -b): one table, CSV block or JSON line per interval. */
#ifndef CT_BATCH_H
#define CT_BATCH_H

struct app;
struct batch;

/* batch mode's state: NULL with errno set when out of memory; batch_free()
 * accepts NULL */
struct batch *batch_new(void);
void batch_free(struct batch *b);
/* print one interval of a as its options say. 0 or -errno (-EPIPE). */
int batch_print(struct batch *b, struct app *a);

#endif
