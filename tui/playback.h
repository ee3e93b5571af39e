/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --read FILE, driven: the batch outputs of a recording as fast as it can be
 * read (at its recorded intervals, or at another -d), or the screen at the
 * recorded pace with pause, g and --from/--to. The recording is fed through
 * replay.h; the outputs are main.c's, passed in.
 */
#ifndef CT_PLAYBACK_H
#define CT_PLAYBACK_H

#include <stdint.h>

struct app;
struct replay;

/* main.c's outputs: the Prometheus file (verbose: say when writes start or
 * stop failing) and the exit status of a failed write to stdout */
struct playback_out {
	int (*write_prom)(struct app *a, int verbose_errors);
	int (*output_error)(int rc);
};

/* The intervals of *rp (a->flows, a->res, a->prom made, its options
 * set) that end from `from` to `to` (monotonic, of the recording) in the
 * batch format of a->opt. The exit status: 0, also for a file cut short
 * (said on stderr), 1 for a corrupt part (said, after the output before
 * it). *rp stays the caller's. */
int playback_batch(struct app *a, struct replay **rp, uint64_t from, uint64_t to,
		   const struct playback_out *o);
/* The screen (stdin and stdout a terminal): from `from`, held at `to` or
 * the end. A jump back reopens the file: *rp is the replay in use at
 * return, the caller's to free. The exit status, as playback_batch. */
int playback_screen(struct app *a, struct replay **rp, uint64_t from, uint64_t to,
		    const struct playback_out *o);

#endif
