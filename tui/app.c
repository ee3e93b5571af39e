// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The application's state and the pieces of its loop: events into the flow
 * table, the end of an interval (drain, sweep, tick, stats). main.c owns
 * the struct app and the loop itself; the view and batch mode read it.
 */
#include "app.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "decode.h"
#include "names.h"
#include "probe.h"
#include "util.h"

static void on_event(void *ctx, const void *data, size_t size)
{
	struct app *a = ctx;
	struct ct_sample s;

	if (!decode_event(&a->dec, data, size, &s))
		flows_add(a->flows, &s);
}

static void on_pid_seen(void *names, uint32_t pid, const char *comm, uint64_t cgroup_id)
{
	names_pid_seen(names, pid, comm, cgroup_id);
}

static void on_cmdline(void *names, uint32_t pid, const char *comm, uint64_t cgroup_id,
		       const char *cmd, size_t len)
{
	names_pid_cmdline(names, pid, comm, cgroup_id, cmd, len);
}

/* The longest a TCP handshake can take here: the kernel's SYN timeout for
 * net.ipv4.tcp_syn_retries (the initial RTO of 1 s doubled after each
 * retransmit, at most 120 s), twice over plus a minute. Only a socket with a
 * larger TCP_SYNCNT of its own can take longer. */
static uint64_t syn_age_limit_ns(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_syn_retries", "re");
	int retries = 6;
	uint64_t s = 0;

	if (f) {
		if (fscanf(f, "%d", &retries) != 1 || retries < 1 || retries > 127)
			retries = 6;
		fclose(f);
	}
	for (int i = 0; i <= retries; i++)
		s += i < 7 ? 1ULL << i : 120;
	return (2 * s + 60) * 1000000000ULL;
}

int app_start(struct app *a, const struct probe_opts *po, char *err, size_t errlen)
{
	struct timespec rt;

	/* read a new pid's command line and cgroup now, while it exists: a
	 * short-lived process is gone by the time its row is looked at
	 * (cached per pid, so this is once per process). Its command line
	 * comes from BPF, read at its connect: the event may be read an
	 * interval later, when /proc has nothing left of a process that
	 * connected and exited. */
	if (a->interactive || a->pids_early) {
		a->dec.pid_seen = on_pid_seen;
		a->dec.cmdline_seen = a->interactive ? on_cmdline : NULL;
		a->dec.pid_ctx = a->res;
	}
	a->probe = probe_new(po, on_event, a, err, errlen);
	if (!a->probe && po->want_cmdline) {
		/* the command lines are an extra: a kernel whose verifier
		 * refuses their read (EACCES, as a lack of privilege: tried
		 * again either way) still gets the capture, and /proc's */
		struct probe_opts plain = *po;

		plain.want_cmdline = 0;
		a->probe = probe_new(&plain, on_event, a, err, errlen);
	}
	if (!a->probe)
		return -errno;
	a->dec.synrt = probe_syn_retrans(a->probe);
	a->start_ns = ct_now_ns();
	clock_gettime(CLOCK_REALTIME, &rt);
	a->sweep_ns = a->start_ns;
	a->sweep_every_ns = a->opt.sweep_secs * 1e9;
	/* --test-sweep-age-secs: an entry can be no older than the machine's
	 * uptime, and with the default (314 s with tcp_syn_retries 6) a test
	 * could make none on a machine booted minutes ago */
	a->sweep_age_ns = a->opt.sweep_age_secs > 0 ? a->opt.sweep_age_secs * 1e9 :
						      syn_age_limit_ns();
	a->mono_to_unix_ns =
		(int64_t)(rt.tv_sec * 1000000000ULL + rt.tv_nsec) - (int64_t)a->start_ns;
	flows_tick(a->flows, a->start_ns);
	return 0;
}

void app_drain(struct app *a)
{
	if (a->probe)
		probe_drain(a->probe, 0);
}

void app_stats(struct app *a, struct ct_stats *st)
{
	struct probe_counters c = { 0 };
	struct timespec rt;

	if (a->probe)
		probe_counters(a->probe, &c);
	clock_gettime(CLOCK_REALTIME, &rt);
	st->events = a->dec.events;
	st->outcomes = a->dec.outcomes;
	st->outcomes_late = c.outcomes_late;
	st->outcomes_destroy = c.outcomes_destroy;
	st->drops = c.rb_drops + c.call_drops + c.sock_drops;
	st->missed = c.missed;
	st->evicted = flows_evicted(a->flows);
	st->folded = flows_folded(a->flows);
	st->flows = flows_count(a->flows);
	st->now_unix_ns = rt.tv_sec * 1000000000ULL + rt.tv_nsec;
	st->mono_to_unix_ns = a->mono_to_unix_ns;
}

void app_end_interval(struct app *a)
{
	uint64_t now;

	app_drain(a);
	now = ct_now_ns();
	/* outcomes BPF could not queue wait in its map for the sweep */
	if (a->probe && (now - a->sweep_ns >= a->sweep_every_ns || probe_late_waiting(a->probe))) {
		probe_sweep(a->probe, now, a->sweep_age_ns);
		a->sweep_ns = now;
	}
	flows_tick(a->flows, ct_now_ns());
	app_stats(a, &a->stats);
	a->stats.interval_s = flows_last_interval_s(a->flows);
	a->stats.events_rate = a->stats.interval_s > 0 ?
				       (a->dec.events - a->events_at_tick) / a->stats.interval_s :
				       0;
	a->events_at_tick = a->dec.events;
}
