// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Replay driven (playback.h). Batch: the recorded ticks end the intervals,
 * so the outputs are the capture's byte for byte; another -d cuts them anew
 * from the recording's start. The screen: each refresh moves the replay
 * clock on by the interval times --speed (never by the time that passed),
 * freeze holds it, g jumps (from the start again for a time behind).
 */
#include "playback.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "app.h"
#include "batch.h"
#include "record.h"
#include "replay.h"
#include "util.h"
#include "view.h"

/* the state of a batch replay, for the tick callback */
struct replay_batch {
	struct app *a;
	const struct playback_out *o;
	struct batch *batch;
	struct replay *rp;
	uint64_t from, to; /* monotonic, of the recording; to 0: none */
	long done;
	int rc;		 /* an output error: stop */
	int shown_final; /* a REC_TICK_SHOWN tick: the last output, stats only */
};

/* an interval ended at t: its output, if within --from/--to */
static int replay_output(struct replay_batch *rb, uint64_t t)
{
	struct app *a = rb->a;
	int rc;

	rb->o->write_prom(a, 1);
	if (t < rb->from)
		return 0;
	if (!a->opt.quiet) {
		rc = batch_print(rb->batch, a);
		if (rc) {
			rb->rc = rb->o->output_error(rc);
			return 1;
		}
	}
	return a->opt.iterations && ++rb->done >= a->opt.iterations;
}

/* an interval ends at t (the recording's clock) */
static void tick_at(struct app *a, uint64_t t)
{
	a->now_ns = t;
	flows_tick(a->flows, t);
	app_stats(a, &a->stats);
	a->stats.interval_s = flows_last_interval_s(a->flows);
	a->stats.events_rate = a->stats.interval_s > 0 ?
				       (a->dec.events - a->events_at_tick) / a->stats.interval_s :
				       0;
	a->events_at_tick = a->dec.events;
}

/* the intervals as recorded: the recorded ticks end them */
static int on_recorded_tick(void *ctx, unsigned flags, uint64_t t)
{
	struct replay_batch *rb = ctx;
	struct app *a = rb->a;

	if (t > rb->to)
		return 1;
	if (flags & REC_TICK_ENDED) {
		tick_at(a, t);
		return replay_output(rb, t);
	}
	if (flags & REC_TICK_SHOWN) {
		app_stats(a, &a->stats);
		rb->shown_final = 1;
	}
	return 0;
}

int playback_batch(struct app *a, struct replay **rpp, uint64_t from, uint64_t to,
		   const struct playback_out *o)
{
	struct replay *rp = *rpp;
	const struct rec_header *h = replay_header(rp);
	struct replay_batch rb = { .a = a, .o = o, .rp = rp, .from = from, .to = to };
	uint64_t d_ns = (uint64_t)(a->opt.delay * 1e9), next;
	char err[600], when[40];
	int rc, own_ticks;

	if (!a->opt.quiet) {
		rb.batch = batch_new();
		if (!rb.batch) {
			fprintf(stderr, "connecttop: out of memory\n");
			return 1;
		}
	}
	/* the recorded intervals, unless -d asks for others */
	own_ticks = a->opt.delay_given && d_ns / 1000 != h->interval_us;
	if (!own_ticks) {
		rc = replay_run(rp, UINT64_MAX, on_recorded_tick, &rb, err, sizeof(err));
		/* the capture's last output (interrupted: stats without a tick) */
		if (rc == 0 && !rb.rc && rb.shown_final && !a->opt.quiet &&
		    !(a->opt.iterations && rb.done >= a->opt.iterations)) {
			int prc = batch_print(rb.batch, a);

			if (prc)
				rb.rc = o->output_error(prc);
		}
	} else {
		next = h->start_mono_ns + d_ns;
		for (;;) {
			rc = replay_run(rp, next, NULL, NULL, err, sizeof(err));
			if (rc != 1 || next > rb.to)
				break;
			/* no counters of a tick after the last one recorded */
			a->cnt.now_unix_ns = next + h->mono_to_unix_ns;
			tick_at(a, next);
			if (replay_output(&rb, next))
				break;
			next += d_ns;
		}
		/* the partial interval at the end, as an interrupted capture prints it */
		if (rc == 0 && !rb.rc && !a->opt.quiet && replay_last_t(rp) > next - d_ns &&
		    !(a->opt.iterations && rb.done >= a->opt.iterations)) {
			a->cnt.now_unix_ns = replay_last_t(rp) + h->mono_to_unix_ns;
			app_stats(a, &a->stats);
			rc = batch_print(rb.batch, a);
			if (rc)
				rb.rc = o->output_error(rc);
			rc = 0;
		}
	}
	app_stats(a, &a->stats);
	o->write_prom(a, 1);
	fflush(stdout);
	batch_free(rb.batch);
	if (rb.rc)
		return rb.rc;
	ct_rfc3339(replay_last_t(rp) + h->mono_to_unix_ns, when, sizeof(when));
	if (rc < 0) {
		fprintf(stderr, "connecttop: --read: %s\n", err);
		return 1;
	}
	if (rc == 0 && !replay_closed(rp))
		fprintf(stderr,
			"connecttop: --read %s: no end record: the recording was cut short (kill -9, "
			"a crash or a full disk); replayed up to %s\n",
			a->opt.read_path, when);
	return 0;
}

/* ---- the screen ---- */

static struct replay *screen_rp;
static uint64_t screen_to; /* --to, monotonic of the recording; UINT64_MAX: none */
static int screen_failed;  /* the file is corrupt past some point: exit 1 */
static char screen_err[600];

/* the replay clock to t: the records up to it fed, an interval ended at
 * each step of the refresh interval on the way (from the start again for
 * a time behind); the end of the recording or --to holds it */
static int screen_goto(struct app *a, uint64_t t)
{
	const struct rec_header *h = replay_header(screen_rp);
	uint64_t d = (uint64_t)(a->opt.delay * 1e9), c;
	char err[600];
	int rc;

	if (t > screen_to)
		t = screen_to;
	if (t < h->start_mono_ns)
		t = h->start_mono_ns;
	if (t < a->now_ns) {
		replay_free(screen_rp);
		flows_clear(a->flows);
		a->dec.events = a->dec.outcomes = a->events_at_tick = 0;
		screen_rp = replay_open(a->opt.read_path, a, err, sizeof(err));
		if (!screen_rp) {
			snprintf(screen_err, sizeof(screen_err), "%s", err);
			screen_failed = 1;
			a->quit = 1;
			return -EIO;
		}
		flows_tick(a->flows, a->now_ns);
	}
	a->replay_end = 0;
	for (c = a->now_ns + d; c < t; c += d) {
		rc = replay_run(screen_rp, c, NULL, NULL, err, sizeof(err));
		if (rc <= 0)
			break;
		tick_at(a, c);
	}
	rc = replay_run(screen_rp, t, NULL, NULL, err, sizeof(err));
	if (rc <= 0 && t > replay_last_t(screen_rp))
		t = replay_last_t(screen_rp) > a->now_ns ? replay_last_t(screen_rp) : a->now_ns;
	a->replay_end = rc <= 0 || t >= screen_to;
	a->cnt.now_unix_ns = t + a->mono_to_unix_ns;
	tick_at(a, t);
	if (rc < 0 && !screen_failed) {
		snprintf(screen_err, sizeof(screen_err), "%s", err);
		screen_failed = 1;
	}
	return 0;
}

/* g: a time typed in the view */
static int screen_seek(struct app *a, const char *when, char *err, size_t errlen)
{
	uint64_t t;

	if (rec_parse_time(replay_header(screen_rp), when, &t)) {
		snprintf(err, errlen, "'%.60s': a time is 2026-12-03T10:15:00Z or +30s, +5m, +1h",
			 when);
		return -EINVAL;
	}
	return screen_goto(a, t);
}

int playback_screen(struct app *a, struct replay **rpp, uint64_t from, uint64_t to,
		    const struct playback_out *o)
{
	const struct rec_header *h = replay_header(*rpp);
	struct ct_view_ui *ui;
	struct epoll_event ev, evs[4];
	double speed = a->opt.speed ? a->opt.speed : 1;
	sigset_t mask;
	int epfd, tfd, sfd;
	char err[600];

	screen_rp = *rpp;
	screen_to = to;
	if (from < h->start_mono_ns)
		from = h->start_mono_ns;
	a->rec_host = h->host;
	a->rec_kernel = h->kernel;
	a->seek = screen_seek;
	a->interactive = 1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (epfd < 0 || tfd < 0 || sfd < 0) {
		fprintf(stderr, "connecttop: cannot set up the event loop: %s\n", strerror(errno));
		*rpp = screen_rp;
		return 1;
	}
	/* the state at --from (the recording's start without) first */
	screen_goto(a, from);
	ui = view_new(a, err, sizeof(err));
	if (!ui) {
		fprintf(stderr, "connecttop: %s\n", err);
		*rpp = screen_rp;
		return 1;
	}
	if (screen_failed)
		view_message(ui, screen_err);
	app_timer_arm(tfd, a->opt.delay, a->opt.delay);
	ev.events = EPOLLIN;
	ev.data.fd = tfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
	ev.data.fd = sfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = STDIN_FILENO;
	epoll_ctl(epfd, EPOLL_CTL_ADD, STDIN_FILENO, &ev);
	while (!a->quit) {
		int n = epoll_wait(epfd, evs, ARRAY_SIZE(evs), -1);

		if (n < 0 && errno != EINTR)
			break;
		if (n < 0 && view_input(ui))
			break;
		for (int i = 0; i < n && !a->quit; i++) {
			int fd = evs[i].data.fd;

			if (fd == sfd) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si))
					a->quit = 1;
			} else if (fd == tfd) {
				uint64_t expirations;
				int failed = screen_failed;

				if (read(tfd, &expirations, sizeof(expirations)) < 0)
					continue;
				/* frozen is paused: the clock holds. Each refresh
				 * moves it on by the interval times --speed, not by
				 * the time that passed: the same keys between the
				 * same refreshes give the same screens */
				if (!view_frozen(ui) && !a->replay_end) {
					screen_goto(a, a->now_ns + (uint64_t)(a->opt.delay * speed *
									      1e9));
					o->write_prom(a, 0);
				}
				view_tick(ui);
				if (screen_failed && !failed)
					view_message(ui, screen_err);
			} else if (fd == STDIN_FILENO) {
				if (view_input(ui))
					a->quit = 1;
				if (view_delay_changed(ui, &a->opt.delay))
					app_timer_arm(tfd, a->opt.delay, a->opt.delay);
			}
		}
	}
	view_free(ui);
	close(epfd);
	close(tfd);
	close(sfd);
	*rpp = screen_rp; /* reopened by a jump back */
	if (screen_failed) {
		fprintf(stderr, "connecttop: --read: %s\n", screen_err);
		return 1;
	}
	return 0;
}
