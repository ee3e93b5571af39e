/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Replay (--read FILE): a recording's records fed into the application's
 * flow table, names and counters as the capture fed them, without BPF or
 * root. The caller decides when intervals end: at the recorded ticks (the
 * batch outputs of the same -d), or at its own (another -d, the screen).
 */
#ifndef CT_REPLAY_H
#define CT_REPLAY_H

#include <stdint.h>

#include "record.h"

struct app;
struct replay;

/* Open path and set a up to be fed from it (a->replay, its clocks, names
 * offline). NULL with one line in err; errno EPROTONOSUPPORT for a newer
 * version, EINVAL for a file that is not a recording. */
struct replay *replay_open(const char *path, struct app *a, char *err, size_t errlen);
const struct rec_header *replay_header(const struct replay *rp);
/* called at each recorded tick, after its counters are the app's: flags
 * REC_TICK_*, t its time. Return nonzero to stop replay_run there. */
typedef int (*replay_tick_fn)(void *ctx, unsigned flags, uint64_t t);
/* Feed the records with t <= until. 1: stopped at until or by fn (more
 * remain), 0: the end of the file, -EBADMSG with a line in err. */
int replay_run(struct replay *rp, uint64_t until, replay_tick_fn fn, void *ctx, char *err,
	       size_t errlen);
/* t of the next record to feed, UINT64_MAX when none is left */
uint64_t replay_next_t(const struct replay *rp);
/* t of the last record fed (the recording's start before any) */
uint64_t replay_last_t(const struct replay *rp);
/* 1 if the file ended with its end record */
int replay_closed(const struct replay *rp);
void replay_free(struct replay *rp);

#endif
