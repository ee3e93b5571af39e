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
	int unix_socks; /* --unix */
	int verbose;
	const char *timing_path; /* --timing-file (hidden): the view's refresh times */
	/* the hidden options for the tests (--test-*) */
	long inflight_max;     /* map of sockets in SYN_SENT, 0: the default */
	double sweep_secs;     /* look for stale in-flight sockets this often */
	double sweep_age_secs; /* stale past this age, 0: syn_age_limit_ns() */
	uint16_t skip_port;    /* state changes of sockets to this port unseen */
};

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
	volatile sig_atomic_t quit;
};

struct probe_opts;

/* Attach the probe with po, its events going into a->flows (a->flows,
 * a->res and the sweep settings made already), and start the clocks. 0, or
 * -errno with one line in err saying why. */
int app_start(struct app *a, const struct probe_opts *po, char *err, size_t errlen);
void app_drain(struct app *a); /* pull every queued event into the flow table */
/* the stats header of the current moment (without ending the interval) */
void app_stats(struct app *a, struct ct_stats *st);
/* end the interval: drain, sweep when due, tick, a->stats of the interval
 * just ended */
void app_end_interval(struct app *a);

#endif
