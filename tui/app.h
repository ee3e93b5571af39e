/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The application's state as main.c owns it, and the options, with the
 * pieces of the event loop (app.c). The batch printer and the view read it;
 * only main.c knows every module.
 */
#ifndef CT_APP_H
#define CT_APP_H

#include <signal.h>
#include <stdint.h>

#include "decode.h"
#include "export.h"
#include "filter.h"
#include "flows.h"
#include "rows.h"

struct options {
	int batch;		 /* -b */
	int quiet;		 /* -q: no table output (with --prometheus) */
	double delay;		 /* -d, seconds */
	long iterations;	 /* -n, 0: forever */
	enum ct_format format;	 /* -o */
	enum ct_group group;	 /* -g */
	enum ct_sort sort;	 /* -s */
	int reverse;		 /* -r: the other order than the column's natural one */
	const char *filter_expr; /* -f */
	struct ct_filter *filter;
	uint32_t pid;  /* -p: kernel-side tgid filter */
	uint16_t port; /* -P: kernel-side port filter */
	int family;    /* -4 / -6 */
	int include_self;
	long max_flows;
	long max_rows; /* -m: rows per interval in batch mode, 0: all */
	uint64_t ringbuf_bytes;
	uint64_t wakeup_bytes;
	const char *prom_path;
	long prom_max_series;
	const char *export_dir;
	int names; /* start with reverse DNS and service names on */
	int no_color;
	int force_raw;
	int force_hash;
	int entry_args;
	int unix_socks;	 /* --unix */
	int no_dns;	 /* --no-dns: no capture of DNS answers, no names resolved */
	double dns_idle; /* --dns-idle: the capture disarms after this many seconds
			  * without a UDP connect to port 53 (dnscap.h); 0: never */
	int verbose;
	const char *timing_path; /* --timing-file (hidden): the view's refresh times */
	const char *write_path;	 /* -w: record to this file */
	uint64_t max_file_bytes; /* --max-file-size, 0: no rotation */
	long max_files;		 /* --max-files, 0: keep all */
	const char *read_path;	 /* --read: replay this recording */
	int delay_given;	 /* -d was given (a replay ticks as recorded without) */
	double speed;		 /* --speed: replay at this many times the recorded pace */
	const char *from, *to;	 /* --from, --to as given */
	/* the hidden options for the tests (--test-*) */
	long inflight_max;     /* map of sockets in SYN_SENT, 0: the default */
	double sweep_secs;     /* look for stale in-flight sockets this often */
	double sweep_age_secs; /* stale past this age, 0: syn_age_limit_ns() */
	uint16_t skip_port;    /* state changes of sockets to this port unseen */
	long hold_ms;	       /* batch mode's interval work this much longer, the table held */
};

struct ct_dnscap;
struct ct_dnsattr;
struct ct_dnscap_pkt;
struct ct_spill;

struct app {
	struct options opt;
	struct ct_flows *flows;
	struct probe *probe;
	struct prom *prom;
	struct names *res;	 /* names, command lines, cgroups */
	int interactive;	 /* the view is up: read new pids' /proc at once */
	int pids_early;		 /* the same for a batch filter with cgroup: terms */
	struct decoder dec;	 /* the events and outcomes since start */
	uint64_t events_at_tick; /* events when the last interval ended */
	uint64_t start_ns;	 /* monotonic */
	/* in-flight sockets whose resolution was missed: looked for every
	 * sweep_every_ns, those older than sweep_age_ns deleted */
	uint64_t sweep_ns, sweep_every_ns, sweep_age_ns;
	int64_t mono_to_unix_ns;
	struct ct_stats stats; /* as of the last tick */
	/* the names processes resolved: answers captured off the wire
	 * (dnscap.h), credited to pids (dnsattr.h); dnscap NULL when off or
	 * unavailable, dns_why says why */
	struct ct_dnscap *dnscap;
	struct ct_dnsattr *dns;
	struct ct_dnscap_pkt *dnspkt;
	char dns_why[256];
	uint64_t dns_last_ns; /* the last UDP connect to port 53 (or the start) */
	uint64_t dns_tcp;     /* TCP connects to port 53: lookups whose answer is unseen */
	/* app_hold: while a snapshot of the table is taken, the ring buffer
	 * is read on into spill (spill.h), fed to the table at app_release */
	int held;
	struct ct_spill *spill;
	uint64_t held_most; /* the most records one hold kept aside (-v says at exit) */
	volatile sig_atomic_t quit;
	/* -w: the recording (NULL when not, or once it has stopped and said
	 * why), and the monotonic time of the work at hand, which each record
	 * is stamped with (the drain's or the tick's) */
	struct rec_writer *rec;
	uint64_t now_ns;
	/* the probe's counters and the wall clock as app_stats last took
	 * them; --read (replay set): the recording's, which stand for them */
	int replay;
	struct app_counters {
		uint64_t rb_drops, call_drops, sock_drops, outcomes_late, missed, swept;
		uint64_t outcomes_destroy;
		uint64_t dns_cut, dns_drops, dns_arms; /* the DNS capture's (dnscap.h) */
		uint64_t dns_capturing;		       /* 1: armed */
		uint64_t now_unix_ns;
	} cnt;
	/* --read with the screen: the recorded host, the end reached, and a
	 * jump to a time (g) as main.c does it: 0, or -EINVAL with err */
	const char *rec_host, *rec_kernel;
	int replay_end;
	int (*seek)(struct app *a, const char *when, char *err, size_t errlen);
};

/* the interval timer (a timerfd): a tick every secs, the first after first */
void app_timer_arm(int tfd, double first, double secs);
/* the monotonic time of now: the clock, or in a replay the replay clock */
uint64_t app_now(const struct app *a);

struct rec_writer;
struct rec_tick;

struct probe_opts;

/* Attach the probe with po, its events going into a->flows (a->flows,
 * a->res and the sweep settings made already), and start the clocks. 0, or
 * -errno with one line in err saying why. */
int app_start(struct app *a, const struct probe_opts *po, char *err, size_t errlen);
void app_drain(struct app *a); /* pull every queued event into the flow table */
/*
 * The flow table held still (a snapshot of it being taken) without the
 * ring buffer filling up meanwhile: from app_hold on, app_hold_read reads
 * it (as snap.h's hook, every few thousand rows) into a queue kept aside,
 * bounded by memory (4 times the ring buffer's size: past that the records
 * stay in the ring buffer, whose overflow BPF counts as drops, as without
 * a hold); app_release feeds that queue to the table in the order read.
 * No-ops without a probe (a replay).
 */
void app_hold(struct app *a);
void app_hold_read(void *app);
void app_release(struct app *a);
/* the stats header of the current moment (without ending the interval) */
void app_stats(struct app *a, struct ct_stats *st);
/* end the interval: drain, sweep when due, tick, a->stats of the interval
 * just ended */
void app_end_interval(struct app *a);
/* the capture's fd to wait on (readable: app_drain), or -1 */
int app_dns_fd(const struct app *a);
void app_free_dns(struct app *a);
struct rec_dns;
/* --read: a recorded answer into a->dns (a->dnspkt its buffer), as the
 * capture fed it */
void app_dns_answer(struct app *a, const struct rec_dns *d);
/* a sample's part in the names (a->dns): a UDP connect to port 53 owns its
 * port; a connect gets the name its process resolved for the address */
void app_dns_sample(struct app *a, struct ct_sample *s);
/* -w: record the stats just taken, at a->now_ns (flags REC_TICK_*: an
 * interval ended with them, or batch mode printed them) */
void app_record_tick(struct app *a, unsigned flags);
/* -w: turn on the recording's hooks (the pid facts, user names); after
 * a->rec is set */
void app_record_start(struct app *a);

#endif
