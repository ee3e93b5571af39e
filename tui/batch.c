// SPDX-License-Identifier: GPL-2.0-or-later
/* Batch mode (like top -b): one table, CSV block or JSON line per interval. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"

#include "app.h"
#include "prom.h"
#include "timing.h"
#include "util.h"

struct batch {
	/* the last interval's snapshot and rows, brought up to date each
	 * interval */
	struct ct_snap *snap;
	struct ct_rows rows;
	int csv_header_done;
	/* --timing-file (hidden): each interval's work, and its snapshot's
	 * refresh alone; written at batch_free */
	struct timing *timing;
	int timing_asked;
};

struct batch *batch_new(void)
{
	return calloc(1, sizeof(struct batch));
}

/* A reader gone (| head -c 10) is seen by a write failing with EPIPE; an
 * interval that writes nothing (CSV with no rows) would never see it, and
 * connecttop ran on unread. Ask stdout each interval: a pipe without
 * readers polls POLLERR, a socket or terminal hung up POLLHUP; a file
 * neither. */
static int stdout_gone(void)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

/* --test-hold-ms: the interval's work made ms longer, the table held,
 * the hook called as a refresh calls it; said on stderr as it starts (the
 * tests make their connects then) */
static void test_hold(long ms, const struct snap_hook *hook)
{
	uint64_t end = ct_now_ns() + (uint64_t)ms * 1000000;
	struct timespec step = { 0, 2 * 1000000 };

	fprintf(stderr, "connecttop: holding the table %ld ms\n", ms);
	while (ct_now_ns() < end) {
		nanosleep(&step, NULL);
		hook->fn(hook->ctx);
	}
}

static int batch_output(struct batch *b, struct app *a, uint64_t t0, const struct snap_hook *hook)
{
	const struct options *o = &a->opt;
	struct ct_snap *snap;
	struct ct_rows *v = &b->rows;
	size_t n;
	int rc;

	/* the last interval's snapshot and rows, brought up to date: with many
	 * flows an interval costs what changed, not a copy of the table */
	snap = snap_refresh_hook(a->flows, t0, b->snap, hook);
	b->snap = snap;
	if (!snap)
		return -ENOMEM;
	timing_add(b->timing, TIMING_SNAP, ct_now_ns() - t0, snap->n);
	hook->fn(hook->ctx);
	snap->keep_old = o->group != GROUP_FLOW; /* groups update by the rows' differences */
	rc = rows_refresh(snap, o->group, o->filter, o->sort,
			  ct_sort_default_desc(o->sort) ^ o->reverse, (size_t)o->max_rows, v);
	if (rc)
		return rc;
	hook->fn(hook->ctx);
	if (o->hold_ms)
		test_hold(o->hold_ms, hook);
	/* the formats print v->n rows: at most -m of them */
	n = v->n;
	if (o->max_rows && (size_t)o->max_rows < v->n && o->format != FMT_TABLE)
		v->n = o->max_rows;
	switch (o->format) {
	case FMT_JSON:
		rc = export_json(stdout, v, o->group, &a->stats);
		break;
	case FMT_CSV:
		if (!b->csv_header_done) {
			rc = export_csv_header(stdout, o->group);
			b->csv_header_done = 1;
			if (rc)
				break;
		}
		rc = export_csv(stdout, v, o->group, &a->stats);
		break;
	default:
		rc = export_table(stdout, v, o->group, &a->stats, o->max_rows);
	}
	v->n = n;
	return rc;
}

int batch_print(struct batch *b, struct app *a)
{
	const struct snap_hook hook = { app_hold_read, a };
	uint64_t t0;
	int rc;

	if (stdout_gone())
		return -EPIPE;
	if (a->opt.format == FMT_PROM) {
		app_hold(a);
		rc = prom_write(a->prom, stdout, a->flows, &a->stats);
		app_release(a);
		return rc;
	}
	if (!b->timing_asked) {
		b->timing = timing_new(a->opt.timing_path);
		b->timing_asked = 1;
	}
	/* the table held still while its snapshot, rows and output are
	 * made (64-280 ms under load at a million flows), the ring buffer
	 * read on meanwhile: at 300k new flows/s the default 8 MiB holds
	 * some 250 ms */
	app_hold(a);
	t0 = ct_now_ns();
	rc = batch_output(b, a, t0, &hook);
	timing_add(b->timing, TIMING_BATCH, ct_now_ns() - t0, b->snap ? b->snap->n : 0);
	app_release(a);
	return rc;
}

void batch_free(struct batch *b)
{
	if (!b)
		return;
	timing_write(b->timing);
	timing_free(b->timing);
	rows_free(&b->rows);
	snap_free(b->snap);
	free(b);
}
