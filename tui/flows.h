/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The flow table: the pure aggregation core. No curses, no libbpf, no clock:
 * callers pass timestamps. A flow is (process name, destination address,
 * port, protocol), the way people think of "who connects where". The table
 * is bounded: when full, a flow is evicted by value (flows_table.h: one-off
 * destinations first, never one the keep predicate matches while another
 * can go), and its counts fold into its process's (process, *) row: a row
 * whose key has family CT_FAMILY_FOLDED, the process name and nothing else.
 *
 * Ownership: flows_new() returns a table the caller frees with flows_free().
 * Copies of it to read at leisure are snapshots (snap.h); the rows shown
 * are derived from those (rows.h).
 */
#ifndef CT_FLOWS_H
#define CT_FLOWS_H

#include <stddef.h>
#include <stdint.h>

#include "row.h"

/* one connect event, already decoded from the BPF record */
struct ct_sample {
	struct flow_key key;
	uint64_t ts_ns;	   /* monotonic */
	uint64_t lat_ns;   /* handshake latency, 0 if none */
	uint64_t start_ns; /* monotonic: when its connect began (pending and outcome alike) */
	uint32_t pid;
	uint32_t uid;
	int32_t ret;	   /* final result 0/-errno; -EINPROGRESS while pending, or when the
			   * outcome could not be followed ("other") */
	uint8_t pending;   /* a CT_EV_OUTCOME will follow */
	uint8_t outcome;   /* this is that CT_EV_OUTCOME (resolves one pending) */
	uint8_t has_lat;   /* lat_ns is a handshake latency */
	uint8_t abandoned; /* RES_ABANDONED (ret is not looked at); lat_ns: how long it waited */
	uint8_t has_synrt; /* a TCP connect's final result, its SYN retransmits counted: */
	uint8_t syn_rt;	   /* how many SYNs it retransmitted */
	uint16_t sport;	   /* a UDP connect to port 53: its local port, else 0 */
	/* the name the process resolved the address from (qnames.h), 0 if
	 * none; a flow keeps the latest connect's that had one */
	uint32_t qname;
};

struct ct_flows;
typedef void (*flows_evict_fn)(void *ctx, const struct ct_row *flow);
/* 1 when a flow is to be kept (its row, with its pids) */
typedef int (*flows_keep_fn)(void *ctx, const struct ct_row *flow);

/* max_flows: the table's bound on flows; (process, *) rows come beyond it,
 * at most max_flows / 16 + 1 of them. NULL and errno on failure. */
struct ct_flows *flows_new(size_t max_flows);
void flows_free(struct ct_flows *t);
/* Called with each flow just before it is evicted or cleared (used by the
 * Prometheus exposition to keep its counters monotonic); with a (process, *)
 * row too when one is dropped or cleared, whose counts were handed to the
 * callback already, flow by flow; and with the outcome of a connect that
 * settled in a (process, *) row, as a row of its flow's key with count 0
 * holding that outcome alone. */
void flows_set_evict_cb(struct ct_flows *t, flows_evict_fn fn, void *ctx);
/* Flows that fn says to keep (the screen's or batch filter) are evicted only
 * when no other flow is left to evict. ctx is the caller's and must live
 * until the next call; NULL fn keeps nothing. Flows kept so far are looked
 * at again under the new predicate. */
void flows_set_keep(struct ct_flows *t, flows_keep_fn fn, void *ctx);
/* Account one event. Never allocates except for a new flow, a new pid, or
 * what a flow folded into its (process, *) row brings (a histogram, pids,
 * connects in flight). */
void flows_add(struct ct_flows *t, const struct ct_sample *s);
/* End the current interval at now_ns (monotonic): rates and history move on. */
void flows_tick(struct ct_flows *t, uint64_t now_ns);
/* Forget every flow (the evict callback sees each). */
void flows_clear(struct ct_flows *t);

size_t flows_count(const struct ct_flows *t); /* flows, (process, *) rows not counted */
uint64_t flows_evicted(const struct ct_flows *t);
/* evicted flows whose counts went to their (process, *) row (all but
 * those evicted while out of memory). When more processes than the bound
 * on (process, *) rows have one, the least recently folded into is dropped
 * for a new one, and its counts with it. */
uint64_t flows_folded(const struct ct_flows *t);
uint64_t flows_interval(const struct ct_flows *t);	/* intervals ended so far */
double flows_last_interval_s(const struct ct_flows *t); /* length of the last one */

/* Set the exporter's mark on a live flow (the Prometheus exposition marks the
 * flows it folded). 0, or -ENOENT when the flow is gone. */
int flows_tag_set(struct ct_flows *t, const struct flow_key *k, uint32_t tag);

#endif
