// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The application's state and the pieces of its loop: events into the flow
 * table, the end of an interval (drain, sweep, tick, stats). main.c owns
 * the struct app and the loop itself; the view and batch mode read it.
 */
#include "app.h"

#include <errno.h>
#include <linux/types.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>

#include "connecttop.h"
#include "decode.h"
#include "dnsattr.h"
#include "dnscap.h"
#include "names.h"
#include "qnames.h"
#include "probe.h"
#include "record.h"
#include "spill.h"
#include "util.h"

/* the answers captured at or before until_ns, in the order they came;
 * -w records each where it is fed, between the events, so that a replay
 * feeds dnsattr.c the same story in the same order */
static void dns_answers(struct app *a, uint64_t until_ns)
{
	struct ct_dnscap_pkt *p = a->dnspkt;
	uint64_t ts;

	while (ct_dnscap_next(a->dnscap, until_ns, p, &ts)) {
		if (a->rec) {
			struct rec_dns d = { .ts_ns = ts,
					     .family = p->family == AF_INET6 ? 6 : 4,
					     .port = p->client_port,
					     .payload = p->payload,
					     .len = p->payload_len };

			memcpy(d.client, p->client, sizeof(d.client));
			rec_write_dns(a->rec, a->now_ns, &d);
		}
		dnsattr_answer(a->dns, p, ts);
	}
}

void app_dns_answer(struct app *a, const struct rec_dns *d)
{
	ct_dnscap_payload(a->dnspkt, d->family == 6 ? AF_INET6 : AF_INET, d->client, d->port,
			  d->payload, d->len);
	dnsattr_answer(a->dns, a->dnspkt, d->ts_ns);
}

void app_dns_sample(struct app *a, struct ct_sample *s)
{
	if (s->outcome)
		return;
	if (s->sport && s->key.proto == IPPROTO_UDP && s->key.dport == 53)
		dnsattr_port(a->dns, s->pid, s->sport, s->ts_ns);
	if (s->key.proto == IPPROTO_TCP && s->key.dport == 53)
		a->dns_tcp++;
	s->qname = dnsattr_lookup(a->dns, s->pid, s->key.family, s->key.daddr);
}

/*
 * The ring buffer and the capture are two queues of one story: a UDP
 * connect to port 53 (ring), its answer (capture), the connect to the
 * address it gave (ring). Before each event the answers captured up to
 * its time are taken, so that a port is known before its answer and an
 * answer before the connect it led to; an answer captured after the
 * connect waits in the capture's ring for the events after it.
 */
static void dns_event(struct app *a, struct ct_sample *s)
{
	dns_answers(a, s->ts_ns);
	if (s->outcome || !s->sport || s->key.proto != IPPROTO_UDP || s->key.dport != 53)
		return;
	/* disarmed, BPF woke us for this one (probe_dns_wake): its answer
	 * races the bind, and an answer captured before this connect's time
	 * would wait for nothing; counted in arms */
	if (!ct_dnscap_armed(a->dnscap))
		ct_dnscap_arm(a->dnscap);
	a->dns_last_ns = s->ts_ns;
}

static void on_pid_seen(void *names, uint32_t pid, const char *comm, uint64_t cgroup_id)
{
	names_pid_seen(names, pid, comm, cgroup_id);
}

/* a record into the table (and the DNS names, the recording) */
static void take_event(void *ctx, const void *data, size_t size)
{
	struct app *a = ctx;
	struct ct_sample s;
	int rc = decode_event(&a->dec, data, size, &s);

	/* the answers captured before it first, then the event as captured
	 * (also one the decoder refused) */
	if (!rc && a->dnscap)
		dns_event(a, &s);
	if (a->rec)
		rec_write_event(a->rec, a->now_ns, data, size);
	if (!rc) {
		if (a->dnscap)
			app_dns_sample(a, &s);
		flows_add(a->flows, &s);
		/* the user's name once, for the recording (a cache hit after) */
		if (a->rec && !s.outcome)
			names_user(a->res, s.uid);
	}
}

/* held: kept aside as read, all of it (decoding, DNS, recording) done at
 * app_release, in this order; one the queue could not take is counted
 * with the drops (app_stats) */
static void on_event(void *ctx, const void *data, size_t size)
{
	struct app *a = ctx;

	if (a->held)
		spill_push(a->spill, data, size);
	else
		take_event(a, data, size);
}

/* Capture DNS answers unless --no-dns; without the capture (no
 * CAP_NET_RAW, no AF_PACKET) connecttop runs on without names, and says
 * why in the header */
static void dns_start(struct app *a)
{
	if (a->opt.no_dns) {
		snprintf(a->dns_why, sizeof(a->dns_why), "off (--no-dns)");
		return;
	}
	a->dns = dnsattr_new(0);
	a->dnspkt = malloc(sizeof(*a->dnspkt));
	if (!a->dns || !a->dnspkt) {
		snprintf(a->dns_why, sizeof(a->dns_why), "off: out of memory");
		app_free_dns(a);
		return;
	}
	a->dnscap = ct_dnscap_new(a->dns_why, sizeof(a->dns_why));
	if (!a->dnscap)
		app_free_dns(a);
	a->dns_last_ns = ct_now_ns();
}

/*
 * The capture costs every received packet of the host while armed
 * (dnscap.h), so it is armed only while processes do DNS: from the start,
 * and again at a UDP connect to port 53, until opt.dns_idle seconds pass
 * without one. A UDP connect to port 53 while disarmed wakes the loop at
 * once (probe_dns_wake), the bind follows in microseconds, but its
 * answer may come back before: that lookup is counted (arms) and its
 * answer may be unseen; the lookups after it are read.
 */
static void dns_idle_check(struct app *a, uint64_t now)
{
	if (!a->dnscap || a->opt.dns_idle <= 0 || !ct_dnscap_armed(a->dnscap) ||
	    now - a->dns_last_ns < (uint64_t)(a->opt.dns_idle * 1e9))
		return;
	/* woken first: a connect from here on arms it again at once */
	probe_dns_wake(a->probe, 1);
	dns_answers(a, UINT64_MAX);
	ct_dnscap_disarm(a->dnscap);
}

void app_free_dns(struct app *a)
{
	ct_dnscap_free(a->dnscap);
	dnsattr_free(a->dns);
	free(a->dnspkt);
	a->dnscap = NULL;
	a->dns = NULL;
	a->dnspkt = NULL;
}

int app_dns_fd(const struct app *a)
{
	return a->dnscap ? ct_dnscap_fd(a->dnscap) : -1;
}

static void learn_pid(void *ctx, uint32_t pid, const char *comm, uint64_t cgroup_id,
		      const char *cmdline, const char *cgroup)
{
	struct app *a = ctx;
	struct rec_pid p = { .pid = pid, .cgroup_id = cgroup_id };

	if (!a->rec)
		return;
	memcpy(p.comm, comm, strnlen(comm, 16));
	snprintf(p.cmdline, sizeof(p.cmdline), "%s", cmdline);
	snprintf(p.cgroup, sizeof(p.cgroup), "%s", cgroup);
	rec_write_pid(a->rec, a->now_ns, &p);
}

static void learn_user(void *ctx, uint32_t uid, const char *name)
{
	struct app *a = ctx;

	if (a->rec)
		rec_write_user(a->rec, a->now_ns, uid, name);
}

void app_record_start(struct app *a)
{
	a->dec.pid_seen = on_pid_seen;
	a->dec.pid_ctx = a->res;
	names_set_learn(a->res, learn_pid, learn_user, a);
}

void app_record_tick(struct app *a, unsigned flags)
{
	const struct app_counters *c = &a->cnt;
	struct rec_tick tk = { .now_unix_ns = c->now_unix_ns,
			       .rb_drops = c->rb_drops,
			       .call_drops = c->call_drops,
			       .sock_drops = c->sock_drops,
			       .outcomes_late = c->outcomes_late,
			       .outcomes_destroy = c->outcomes_destroy,
			       .missed = c->missed,
			       .swept = c->swept,
			       .evicted = a->stats.evicted,
			       .folded = a->stats.folded,
			       .flows = a->stats.flows,
			       .dns_cut = c->dns_cut,
			       .dns_drops = c->dns_drops,
			       .dns_arms = c->dns_arms,
			       .dns_capturing = c->dns_capturing };

	if (a->rec)
		rec_write_tick(a->rec, a->now_ns, flags, &tk);
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
	/* before the probe: no connect is read before the capture is up */
	dns_start(a);
	a->probe = probe_new(po, on_event, a, err, errlen);
	if (!a->probe && po->want_cmdline) {
		/* the command lines are an extra: a kernel whose verifier
		 * refuses their read (EACCES, as a lack of privilege: tried
		 * again either way) still gets the capture, and /proc's */
		struct probe_opts plain = *po;

		plain.want_cmdline = 0;
		a->probe = probe_new(&plain, on_event, a, err, errlen);
	}
	if (!a->probe) {
		int e = errno;

		app_free_dns(a);
		return -e;
	}
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

static struct timespec secs_ts(double secs)
{
	struct timespec ts = { (time_t)secs, (long)((secs - (time_t)secs) * 1e9) };

	if (!ts.tv_sec && !ts.tv_nsec)
		ts.tv_nsec = 1;
	return ts;
}

void app_timer_arm(int tfd, double first, double secs)
{
	struct itimerspec its = { .it_interval = secs_ts(secs), .it_value = secs_ts(first) };

	timerfd_settime(tfd, 0, &its, NULL);
}

uint64_t app_now(const struct app *a)
{
	return a->replay ? a->now_ns : ct_now_ns();
}

void app_drain(struct app *a)
{
	uint64_t before;

	a->now_ns = before = ct_now_ns();
	if (!a->probe)
		return;
	/* the answers captured before this read of the ring buffer: their
	 * ports' connects were in it (a connect's event is queued before
	 * its socket sends the query); later ones wait for the next read,
	 * whose connects may come first */
	if (!probe_drain(a->probe, 0) && a->dnscap)
		dns_answers(a, before);
}

/* the largest ring buffer record: an event and what may follow it */
#define REC_MAX                                                                          \
	(sizeof(struct ct_event) + (sizeof(struct ct_cmdline) > sizeof(struct ct_path) ? \
					    sizeof(struct ct_cmdline) :                  \
					    sizeof(struct ct_path)))
/* records one app_hold_read takes at most (some 2 ms of copying, and the
 * snapshot goes on between them even when the ring buffer refills); it
 * reads in steps of what the queue's room takes of the largest records,
 * so that the bound is not exceeded whatever the records are */
#define HOLD_READ_MAX 16384

void app_hold(struct app *a)
{
	if (!a->probe)
		return;
	/* out of memory: no hold, the ring buffer waits as it did */
	if (!a->spill && !(a->spill = spill_new(4 * a->opt.ringbuf_bytes)))
		return;
	a->held = 1;
}

void app_hold_read(void *app)
{
	struct app *a = app;
	size_t room;

	if (!a->held)
		return;
	/* only what the queue has room for leaves the ring buffer: what it
	 * cannot take waits there, and its overflow is BPF's to count (an
	 * outcome then waits in its map for the sweep, not lost) */
	for (size_t taken = 0; taken < HOLD_READ_MAX; taken += room) {
		room = spill_room(a->spill, REC_MAX);
		if (room > HOLD_READ_MAX - taken)
			room = HOLD_READ_MAX - taken;
		/* 0: the ring buffer is empty (or in error: app_drain's) */
		if (!room || probe_drain(a->probe, (long)room) != 1)
			break;
	}
}

/* records fed between two reads of the ring buffer in app_release */
#define RELEASE_STEP 4096

void app_release(struct app *a)
{
	size_t n, rounds;

	if (!a->held)
		return;
	a->held = 0;
	n = spill_len(a->spill);
	if (n > a->held_most)
		a->held_most = n;
	a->now_ns = ct_now_ns();
	/* Feeding what was kept takes as long as reading it would have, and
	 * meanwhile the ring buffer fills again: it is read on into the
	 * queue's end between steps, until the queue is empty, for at most
	 * twice the steps the kept records take (then the rest is fed, and
	 * the loop's reads take over: under a flood, its timer and signals
	 * are not held off for long). */
	rounds = 2 * (n / RELEASE_STEP) + 2;
	while (spill_feed_some(a->spill, take_event, a, RELEASE_STEP) && spill_len(a->spill)) {
		if (!rounds)
			continue;
		rounds--;
		a->held = 1;
		app_hold_read(a);
		a->held = 0;
		a->now_ns = ct_now_ns();
	}
}

void app_stats(struct app *a, struct ct_stats *st)
{
	struct app_counters *c = &a->cnt;

	if (!a->replay) {
		struct probe_counters pc = { 0 };
		struct timespec rt;

		if (a->probe)
			probe_counters(a->probe, &pc);
		clock_gettime(CLOCK_REALTIME, &rt);
		/* a record read while held that the queue could not take
		 * (out of memory) is lost as one the ring buffer had no
		 * room for */
		*c = (struct app_counters){ .rb_drops = pc.rb_drops +
							(a->spill ? spill_refused(a->spill) : 0),
					    .call_drops = pc.call_drops,
					    .sock_drops = pc.sock_drops,
					    .outcomes_late = pc.outcomes_late,
					    .outcomes_destroy = pc.outcomes_destroy,
					    .missed = pc.missed,
					    .swept = pc.swept,
					    .now_unix_ns = rt.tv_sec * 1000000000ULL + rt.tv_nsec };
		if (a->dnscap) {
			struct ct_dnscap_stats cs;

			ct_dnscap_stats(a->dnscap, &cs);
			c->dns_cut = cs.cut;
			c->dns_drops = cs.drops;
			c->dns_arms = cs.arms;
			c->dns_capturing = ct_dnscap_armed(a->dnscap);
		}
	}
	st->events = a->dec.events;
	st->outcomes = a->dec.outcomes;
	st->outcomes_late = c->outcomes_late;
	st->outcomes_destroy = c->outcomes_destroy;
	st->drops = c->rb_drops + c->call_drops + c->sock_drops;
	st->missed = c->missed;
	st->evicted = flows_evicted(a->flows);
	st->folded = flows_folded(a->flows);
	st->flows = flows_count(a->flows);
	st->now_unix_ns = c->now_unix_ns;
	st->mono_to_unix_ns = a->mono_to_unix_ns;
	/* a replay of a recording with answers has dns, not dnscap */
	st->dns_on = a->dnscap || (a->replay && a->dns);
	if (st->dns_on) {
		struct ct_dnsattr_stats d;

		dnsattr_stats(a->dns, &d);
		st->dns_answers = d.answers;
		st->dns_hostwide = d.hostwide;
		st->dns_unseen = d.malformed + d.truncated + c->dns_cut;
		st->dns_drops = c->dns_drops;
		st->dns_evicted = d.tab.evicted;
		st->dns_not_kept = d.tab.too_long + ct_qnames_full();
		st->dns_truncated = d.truncated;
		st->dns_tcp = a->dns_tcp;
		st->dns_capturing = c->dns_capturing;
		st->dns_arms = c->dns_arms;
	}
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
	if (a->probe)
		dns_idle_check(a, now);
	a->now_ns = ct_now_ns();
	flows_tick(a->flows, a->now_ns);
	app_stats(a, &a->stats);
	a->stats.interval_s = flows_last_interval_s(a->flows);
	a->stats.events_rate = a->stats.interval_s > 0 ?
				       (a->dec.events - a->events_at_tick) / a->stats.interval_s :
				       0;
	a->events_at_tick = a->dec.events;
	app_record_tick(a, REC_TICK_ENDED);
}
