/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A queue of ring buffer records kept aside, in the order they came, while
 * the flow table must not change (a snapshot of it is being taken:
 * snap.h's hook): the ring buffer is read on during that work instead of
 * filling up, and the records are fed to the table after it.
 *
 * Bounded by memory: a record past the bound is refused and counted,
 * never lost silently. No libbpf, no clock: a pure module.
 */
#ifndef CT_SPILL_H
#define CT_SPILL_H

#include <stddef.h>
#include <stdint.h>

struct ct_spill;

/* a queue holding at most max_bytes of records (their bytes, a header of 8
 * each, rounded up to 8), or NULL with errno set */
struct ct_spill *spill_new(size_t max_bytes);
void spill_free(struct ct_spill *q); /* accepts NULL */
/* size bytes of data at the queue's end: 0, -ENOSPC past the bound or
 * -ENOMEM (both counted in spill_refused) */
int spill_push(struct ct_spill *q, const void *data, size_t size);
/* how many more records of size bytes the bound has room for */
size_t spill_room(const struct ct_spill *q, size_t size);
typedef void (*spill_fn)(void *ctx, const void *data, size_t size);
/* hand every record to fn in the order pushed, and empty q (the memory
 * of all but one of its chunks given back); fn must not push to q */
void spill_feed(struct ct_spill *q, spill_fn fn, void *ctx);
/* the same for the first max records at most: how many were fed. Records
 * may be pushed between two calls (not from fn): they come after. */
size_t spill_feed_some(struct ct_spill *q, spill_fn fn, void *ctx, size_t max);
size_t spill_len(const struct ct_spill *q); /* records queued */
uint64_t spill_refused(const struct ct_spill *q);
uint64_t spill_pushed(const struct ct_spill *q); /* records ever queued */

#endif
