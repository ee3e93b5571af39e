/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The start times of one flow's connects in flight: a multiset that knows
 * its oldest, for the age of a flow's pending connects. Pure: no clock.
 *
 * A set is a pointer, NULL when empty; pending_add() allocates it and
 * pending_free() releases it. Nothing else is owned.
 */
#ifndef CT_PENDING_H
#define CT_PENDING_H

#include <stdint.h>

struct pending_starts;

/* Add start_ns. 0, or -ENOMEM (the set is then unchanged). */
int pending_add(struct pending_starts **p, uint64_t start_ns);
/* Take start_ns out; when it is not there (an outcome whose connect was
 * counted by a flow since evicted), the oldest goes instead, so that the
 * set keeps as many as the flow counts pending. Empty: nothing. */
void pending_del(struct pending_starts **p, uint64_t start_ns);
/* the oldest start time, 0 when empty */
uint64_t pending_oldest(const struct pending_starts *p);
uint32_t pending_count(const struct pending_starts *p);
void pending_free(struct pending_starts **p);

#endif
