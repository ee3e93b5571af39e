/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Prometheus text exposition (for node_exporter's textfile collector,
 * or stdout with -o prom). Counters stay monotonic for the life of the
 * process: a flow evicted from the table keeps its series. At most
 * max_series (comm, daddr, dport) have series of their own, the busiest:
 * the others are folded into their process's daddr="other", dport="other"
 * series; at most max_series processes have one, the rest share
 * comm="other". A busier flow takes the slot of the least busy own series,
 * which is folded into its process's "other" for good.
 */
#ifndef CT_PROM_H
#define CT_PROM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "export.h"
#include "flows.h"

struct prom;
struct snap_hook;

/* Registers itself as t's eviction callback. NULL and errno on failure. */
struct prom *prom_new(struct ct_flows *t, size_t max_series);
void prom_free(struct prom *p);
/* the hook p's snapshot refreshes call (snap.h), copied; NULL: none */
void prom_set_hook(struct prom *p, const struct snap_hook *h);
/* the exposition of the table now; 0 or -errno of the failed write */
int prom_write(struct prom *p, FILE *out, struct ct_flows *t, const struct ct_stats *st);
/* the same, atomically replacing path; a failure is counted (see
 * prom_write_errors and the connecttop_prometheus_write_errors_total metric) */
int prom_write_file(struct prom *p, const char *path, struct ct_flows *t,
		    const struct ct_stats *st);
/* prom_write from snap, a snapshot of p's table that the caller brought up to
 * date (prom_write keeps its own). The rows' tags are p's: they are set in
 * snap (and in the table) when a flow is first seen. Exposed for tests. */
int prom_write_snap(struct prom *p, FILE *out, struct ct_snap *snap, const struct ct_stats *st);
/* Can prom_write_file write path at all (a file name, not too long for its
 * temporary name)? 0, or -EINVAL or -ENAMETOOLONG with what and why in err
 * (one line, without the option's name). Whether the directory exists and
 * is writable is the caller's to check. */
int prom_check_path(const char *path, char *err, size_t errlen);
/* failed prom_write_file calls so far */
uint64_t prom_write_errors(const struct prom *p);

#endif
