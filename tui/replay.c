// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Replay: the records of a recording (record.h) into the struct app, the
 * way app.c's event path fed them live: an event is decoded and added to
 * the flow table; a process fact or user name goes into the names cache;
 * a tick's counters and wall clock become the app's, and the caller is
 * told. No clock is read: the recording's time is the app's (a->now_ns).
 */
#include "replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "decode.h"
#include "dnsattr.h"
#include "dnscap.h"
#include "names.h"
#include "util.h"

struct replay {
	struct rec_reader *rd;
	struct rec_header h;
	struct app *a;
	struct rec_record next; /* read ahead: the next record to feed */
	int have_next;		/* 1: next holds one; 0: none read yet; -1: end or error */
	int next_rc;		/* what reading it gave (0 end, -EBADMSG) */
	char next_err[512];
	uint64_t last_t;
};

static void read_ahead(struct replay *rp)
{
	int rc = rec_next(rp->rd, &rp->next, rp->next_err, sizeof(rp->next_err));

	rp->have_next = rc == 1 ? 1 : -1;
	rp->next_rc = rc < 0 ? rc : 0;
}

struct replay *replay_open(const char *path, struct app *a, char *err, size_t errlen)
{
	struct replay *rp = calloc(1, sizeof(*rp));

	if (!rp) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	rp->rd = rec_reader_open(path, &rp->h, err, errlen);
	if (!rp->rd) {
		free(rp);
		return NULL;
	}
	rp->a = a;
	a->replay = 1;
	a->start_ns = rp->h.start_mono_ns;
	a->now_ns = rp->h.start_mono_ns;
	a->mono_to_unix_ns = rp->h.mono_to_unix_ns;
	a->cnt = (struct app_counters){ .now_unix_ns = rp->h.start_unix_ns };
	a->dec.synrt = !!(rp->h.flags & REC_F_SYNRT);
	/* the recording's facts only: this host's /proc is not the recorded one's */
	names_set_offline(a->res);
	/* the names processes resolved, from the answers recorded (a jump
	 * back starts them again with the file) */
	app_free_dns(a);
	if (rp->h.flags & REC_F_DNS) {
		a->dns = dnsattr_new(0);
		a->dnspkt = malloc(sizeof(*a->dnspkt));
		if (!a->dns || !a->dnspkt) {
			app_free_dns(a);
			rec_reader_free(rp->rd);
			free(rp);
			snprintf(err, errlen, "out of memory");
			errno = ENOMEM;
			return NULL;
		}
	} else {
		snprintf(a->dns_why, sizeof(a->dns_why), "%s",
			 rp->h.version < 2 ? "not in this recording (format version 1)" :
					     "not in this recording (its capture was off)");
	}
	rp->last_t = rp->h.start_mono_ns;
	read_ahead(rp);
	return rp;
}

const struct rec_header *replay_header(const struct replay *rp)
{
	return &rp->h;
}

uint64_t replay_next_t(const struct replay *rp)
{
	return rp->have_next == 1 ? rp->next.t : UINT64_MAX;
}

uint64_t replay_last_t(const struct replay *rp)
{
	return rp->last_t;
}

int replay_closed(const struct replay *rp)
{
	return rec_reader_closed(rp->rd);
}

/* one record into the app: 1 if it was a tick whose callback said stop */
static int feed(struct replay *rp, const struct rec_record *r, replay_tick_fn fn, void *ctx)
{
	struct app *a = rp->a;
	struct ct_sample s;

	a->now_ns = r->t;
	rp->last_t = r->t;
	switch (r->type) {
	case REC_EVENT:
		/* a record the capture's decoder refused is refused again */
		if (!decode_event(&a->dec, r->data, r->size, &s)) {
			if (a->dns)
				app_dns_sample(a, &s);
			flows_add(a->flows, &s);
		}
		return 0;
	case REC_DNS:
		if (a->dns)
			app_dns_answer(a, &r->dns);
		return 0;
	case REC_PID:
		names_put_pid(a->res, r->pid.pid, r->pid.comm, r->pid.cmdline, r->pid.cgroup);
		return 0;
	case REC_USER:
		names_put_user(a->res, r->uid, r->user);
		return 0;
	case REC_TICK:
		a->cnt = (struct app_counters){ .rb_drops = r->tick.rb_drops,
						.call_drops = r->tick.call_drops,
						.sock_drops = r->tick.sock_drops,
						.outcomes_late = r->tick.outcomes_late,
						.outcomes_destroy = r->tick.outcomes_destroy,
						.missed = r->tick.missed,
						.swept = r->tick.swept,
						.dns_cut = r->tick.dns_cut,
						.dns_drops = r->tick.dns_drops,
						.dns_arms = r->tick.dns_arms,
						.dns_capturing = r->tick.dns_capturing,
						.now_unix_ns = r->tick.now_unix_ns };
		return fn ? fn(ctx, r->flags, r->t) : 0;
	default:
		return 0;
	}
}

int replay_run(struct replay *rp, uint64_t until, replay_tick_fn fn, void *ctx, char *err,
	       size_t errlen)
{
	while (rp->have_next == 1 && rp->next.t <= until) {
		/* the record is copied out: its data lives in the reader's block
		 * until the next read, which feed() no longer needs */
		struct rec_record r = rp->next;
		int stop;

		stop = feed(rp, &r, fn, ctx);
		read_ahead(rp);
		if (stop)
			return 1;
	}
	if (rp->have_next == 1)
		return 1;
	if (rp->next_rc)
		snprintf(err, errlen, "%s", rp->next_err);
	return rp->next_rc;
}

void replay_free(struct replay *rp)
{
	if (!rp)
		return;
	rec_reader_free(rp->rd);
	free(rp);
}
