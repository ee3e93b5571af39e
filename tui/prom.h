/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Prometheus text exposition (for node_exporter's textfile collector,
 * or stdout with -o prom). Counters stay monotonic for the life of the
 * process: a flow evicted from the table keeps its series (its counts move
 * to a base), and flows beyond --prometheus-max-series are folded, for good,
 * into one series per process with daddr="other", dport="other".
 */
#ifndef CT_PROM_H
#define CT_PROM_H

#include <stddef.h>
#include <stdio.h>

#include "export.h"
#include "flows.h"

struct prom;

/* Registers itself as t's eviction callback. NULL and errno on failure. */
struct prom *prom_new(struct ct_flows *t, size_t max_series);
void prom_free(struct prom *p);
/* the exposition of the table now; 0 or -errno of the failed write */
int prom_write(struct prom *p, FILE *out, struct ct_flows *t, const struct ct_stats *st);
/* the same, atomically replacing path */
int prom_write_file(struct prom *p, const char *path, struct ct_flows *t, const struct ct_stats *st);

#endif
