/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The filter language shared by batch mode (-f) and the view ('/'):
 * whitespace-separated terms, all of which must match (AND).
 *   TEXT          process name or destination address contains TEXT (any case)
 *   port:N        destination port N (port:N-M for a range)
 *   proto:tcp|udp protocol
 *   net:CIDR      destination inside CIDR (10.0.0.0/8, fd00::/8, or one address;
 *                 ::ffff:10.0.0.0/104 is 10.0.0.0/8)
 *   pid:N         pid N made a connect of the row
 *   uid:N         last uid N
 *   fail          the row has failures
 *   RESULT        the row has connects of this result class, by its name in
 *                 ct_result_names (ok, refused, timeout, unreachable, pending,
 *                 other); "unreach" is unreachable, "timeout" also an
 *                 application's own timeout (abandoned)
 *   err:NAME      one of the row's errnos is NAME (ECONNREFUSED, any case),
 *                 or E123 / 123
 *   cgroup:TEXT   the last pid's systemd unit or container id contains TEXT
 *                 (needs filter_set_cgroup_fn; without it nothing matches)
 *   new, worse, silent, gone   what changed since the baseline
 *                 (baseline.h): silent also matches gone (needs
 *                 filter_set_change_fn; without it nothing matches)
 *   !TERM         negation of any term (once: "!!TERM" is an error)
 */
#ifndef CT_FILTER_H
#define CT_FILTER_H

#include <stddef.h>
#include <stdint.h>

struct ct_row;
struct ct_filter;

/* Parse expr. NULL on error, with errno set and a message saying which term
 * is wrong and why written to err. An empty expression gives a filter that
 * matches everything. Free with filter_free(). */
struct ct_filter *filter_new(const char *expr, char *err, size_t errlen);
void filter_free(struct ct_filter *f);
/* a number no other filter made by filter_new has (0 for NULL): a view of
 * the same filter can keep what it derived */
uint64_t filter_id(const struct ct_filter *f);
/* 1 if whether a row matches depends on the row alone (no cgroup: term,
 * whose answer can arrive later) */
int filter_rows_only(const struct ct_filter *f);
int filter_match(const struct ct_filter *f, const struct ct_row *r);
int filter_empty(const struct ct_filter *f);
/* A flows_keep_fn (flows.h) for the filter f (a struct ct_filter *): the
 * rows it matches are kept; NULL or an empty filter keeps nothing, which
 * leaves eviction to recency and use alone (better not set at all then: the
 * table builds a row for each candidate it asks about). */
int filter_keeps(void *f, const struct ct_row *r);
/* how cgroup: terms learn a pid's cgroup (the owner keeps ctx alive) */
typedef const char *(*filter_cgroup_fn)(void *ctx, unsigned pid, const char *comm);
void filter_set_cgroup_fn(struct ct_filter *f, filter_cgroup_fn fn, void *ctx);
/* how new/worse/silent learn a row's change: an enum ct_change (baseline.h) */
typedef int (*filter_change_fn)(void *ctx, const struct ct_row *r);
void filter_set_change_fn(struct ct_filter *f, filter_change_fn fn, void *ctx);
/* 1 if f has a new, worse, silent or gone term */
int filter_uses_change(const struct ct_filter *f);

#endif
