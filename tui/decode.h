/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Event decoding: a ring buffer record (struct ct_event, with --unix
 * followed by a struct ct_path) becomes a flow sample. AF_UNIX paths are
 * interned (ct_unix_path_id); connects and outcomes are counted; a pid seen
 * making a connect is handed to a callback that reads what /proc knows of
 * it while it still exists. No libbpf, no curses, no clock.
 */
#ifndef CT_DECODE_H
#define CT_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "flows.h"

/* pid, running as comm (16 bytes, maybe without a NUL), in the cgroup v2
 * cgroup_id made a connect */
typedef void (*decode_pid_fn)(void *ctx, uint32_t pid, const char *comm, uint64_t cgroup_id);

/* pid, running as comm, had the command line cmd of len bytes (a
 * CT_EV_CMDLINE record: NUL after each argument) */
typedef void (*decode_cmdline_fn)(void *ctx, uint32_t pid, const char *comm, uint64_t cgroup_id,
				  const char *cmd, size_t len);

struct decoder {
	uint64_t events;		/* CT_EV_CONNECT records decoded, since start */
	uint64_t outcomes;		/* CT_EV_OUTCOME records decoded, since start */
	decode_pid_fn pid_seen;		/* NULL: nobody wants to know */
	decode_cmdline_fn cmdline_seen; /* NULL: nobody wants to know; its ctx is pid_ctx */
	void *pid_ctx;
	int synrt; /* the records count SYN retransmits (probe_syn_retrans()) */
};

/* Decode the size bytes at data (as the ring buffer holds them: 8-byte
 * aligned) into *s and count it in d. 0, or -EINVAL for a record too short
 * for its family (a record from a different build: neither *s nor d is
 * touched). 1 for a CT_EV_CMDLINE record: no sample, handed to
 * d->cmdline_seen. A kind other than CT_EV_OUTCOME or CT_EV_CMDLINE is
 * decoded as a connect. */
int decode_event(struct decoder *d, const void *data, size_t size, struct ct_sample *s);

#endif
