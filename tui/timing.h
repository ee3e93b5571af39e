/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How long the view's refreshes (and batch mode's intervals) take, for
 * make bench: kept when the hidden option --timing-file FILE asks for
 * them, written to FILE at exit
 * as one line per kind, "NAME COUNT P50 P90 MAX FLOWS" (milliseconds;
 * FLOWS: the most flows a snapshot held meanwhile).
 */
#ifndef CT_TIMING_H
#define CT_TIMING_H

#include <stddef.h>
#include <stdint.h>

enum timing_kind {
	TIMING_TICK,  /* an interval's refresh: snapshot, rows, screen drawn and written */
	TIMING_KEY,   /* the redraw after keys */
	TIMING_PREP,  /* a grouping not shown derived aside after a refresh */
	TIMING_BATCH, /* batch mode's work at the end of an interval: snapshot, rows, output */
	TIMING_SNAP,  /* the snapshot brought up to date, alone (batch mode) */
	TIMING_KINDS,
};

struct timing;

/* NULL when path is NULL (not timed) or out of memory */
struct timing *timing_new(const char *path);
/* one refresh of ns nanoseconds with a snapshot of flows flows; t may be NULL */
void timing_add(struct timing *t, enum timing_kind k, uint64_t ns, size_t flows);
/* write the file (a failure is silent: the bench finds no file); t may be NULL */
void timing_write(struct timing *t);
void timing_free(struct timing *t);

#endif
