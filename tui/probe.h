/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The BPF side seen from user space: open, configure, load and attach the
 * skeleton (with fallbacks), hand each event to a callback, report drops.
 */
#ifndef CT_PROBE_H
#define CT_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ct_event;

struct probe_opts {
	uint32_t self_tgid;	/* never traced (0: trace ourselves too) */
	uint32_t filter_tgid;	/* 0: all */
	uint16_t filter_port;	/* 0: all */
	uint16_t filter_family; /* 0, 4 or 6 */
	uint64_t ringbuf_bytes; /* power of two, >= page size */
	uint64_t wakeup_bytes;	/* wake user space when this much is queued */
	int force_raw;		/* use the raw syscall tracepoints even with tracefs */
	int force_hash;		/* stash calls in a hash by tid even where task storage works */
	int entry_args;		/* stash connect()'s arguments at its entry even on 5.15+ */
	int unix_socks;		/* AF_UNIX connects too (each event followed by a struct ct_path) */
	int want_cmdline; /* CT_EV_CMDLINE records: each process's command line at its first connect */
	uint32_t inflight_max; /* TCP sockets followed through their handshake at once (0: 65536) */
	uint16_t skip_port;    /* tests: the resolution skips sockets to this port (0: none) */
	int verbose;	       /* libbpf's debug output to stderr (before the screen is up) */
};

/* called for each ring buffer record (a struct ct_event, with --unix maybe
 * followed by a struct ct_path), of size bytes, not checked (decode.h) */
typedef void (*probe_event_fn)(void *ctx, const void *data, size_t size);

struct probe;

/* Check the kernel, load and attach. NULL on failure with errno set and one
 * line in err saying what is missing and what to do. */
struct probe *probe_new(const struct probe_opts *o, probe_event_fn fn, void *ctx, char *err,
			size_t errlen);
void probe_free(struct probe *p);
/* on: the next UDP connect to port 53 wakes the reader at once, not in a
 * batch (for the DNS capture to arm: dnscap.h); cleared by that connect */
void probe_dns_wake(struct probe *p, int on);
/* fd to wait on (epoll) for queued events */
int probe_fd(const struct probe *p);
/* hand queued events to the callback: at most max of them, or with max 0
 * a budget of some milliseconds' work. 0 when none is left, 1 when the
 * budget ran out first (call again after the other work), or -errno. */
int probe_drain(struct probe *p, long max);
/* how many probe_drain() calls ended on their budget */
uint64_t probe_drains_cut(const struct probe *p);

struct probe_counters {
	uint64_t rb_drops, call_drops, sock_drops, outcomes;
	/* outcomes the ring buffer had no room for, delivered by probe_sweep
	 * instead (late, but to the right connect) */
	uint64_t outcomes_late;
	/* outcomes found only when the socket was destroyed (tcp_destroy_sock):
	 * the state change's run was skipped, or could not take its entry */
	uint64_t outcomes_destroy;
	/* runs of our programs the kernel skipped because one of them was
	 * already running on that CPU (bpf_prog_info.recursion_misses, 5.12+) */
	uint64_t missed;
	uint64_t swept; /* stale in-flight sockets deleted by probe_sweep */
};
void probe_counters(const struct probe *p, struct probe_counters *c);

/* Delete the in-flight TCP sockets (map "socks") that went to SYN_SENT more
 * than max_age_ns ago: their resolution was missed (a skipped BPF run), and
 * they would stay for ever. A connect counted as pending gets its outcome
 * through the callback: a CT_EV_OUTCOME with ret -EINPROGRESS ("other": not
 * seen). First delivers the outcomes BPF could not queue (the ring buffer
 * was full: map "late"). Returns how many stale ones were deleted. */
size_t probe_sweep(struct probe *p, uint64_t now_ns, uint64_t max_age_ns);
/* 1 if outcomes wait in the map for probe_sweep to deliver them */
int probe_late_waiting(const struct probe *p);

/* 1 if the events count SYN retransmits (tcp:tcp_retransmit_skb attached),
 * else 0: their syn_retrans is then 0 and means nothing */
int probe_syn_retrans(const struct probe *p);
/* how we attached: "tracepoint" or "raw_tp (no tracefs)" */
const char *probe_mode(const struct probe *p);
/* ns from probe_new() start to attached */
uint64_t probe_attach_ns(const struct probe *p);

/* Print what the running kernel offers and what connecttop uses of it. */
void probe_features(FILE *out);

#endif
