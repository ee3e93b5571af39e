/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A view of the flow table as text: the table, CSV, or JSON (schema version
 * CT_SCHEMA_VERSION, documented in man/connecttop.8), to a FILE *, or
 * atomically to a file. Pure: no curses, no libbpf.
 */
#ifndef CT_EXPORT_H
#define CT_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "baseline.h"
#include "rows.h"

#define CT_SCHEMA_VERSION 1

/* what the header of each interval says */
struct ct_stats {
	uint64_t events;	   /* connect events seen since start */
	uint64_t outcomes;	   /* handshake outcomes seen since start */
	uint64_t outcomes_late;	   /* of those, delivered late (the ring buffer was full) */
	uint64_t outcomes_destroy; /* of those, found when the socket was destroyed */
	uint64_t drops;		   /* events lost (ring buffer full, maps full) */
	uint64_t missed;	   /* BPF program runs the kernel skipped (recursion guard):
				  * each may have lost a connect or an outcome */
	uint64_t evicted;	   /* flows evicted from the table */
	uint64_t folded;	   /* of those, folded into their process's (process, *) row */
	uint64_t flows;		   /* flows in the table */
	double interval_s;	   /* length of the last interval */
	double events_rate;	   /* connect events per second over it */
	uint64_t now_unix_ns;	   /* wall-clock time of this output */
	int64_t mono_to_unix_ns;   /* add to a monotonic timestamp to get unix time */
	/* DNS answers (dnsattr.h), when captured (dns_on) */
	int dns_on;
	uint64_t dns_answers;	/* answers with addresses put in the name table */
	uint64_t dns_hostwide;	/* of those, credited to no process */
	uint64_t dns_unseen;	/* answers not read: malformed, truncated (TC), too large */
	uint64_t dns_drops;	/* answers lost: the capture's ring was full */
	uint64_t dns_evicted;	/* (process, address) names evicted from the full table */
	uint64_t dns_not_kept;	/* names not kept: too long, or the name table full */
	uint64_t dns_truncated; /* of unseen, answers with TC set (the retry goes over TCP) */
	uint64_t dns_tcp;	/* TCP connects to port 53: their answers are not read */
	int dns_capturing;	/* the capture is armed now (dnscap.h) */
	uint64_t dns_arms;	/* times a lookup armed it again: its answer may be unseen */
};

enum ct_format { FMT_TABLE = 0, FMT_CSV, FMT_JSON, FMT_PROM, FMT_MAX };
extern const char *const ct_format_names[FMT_MAX];

/* Return 0 or -errno of the failed write (e.g. -EPIPE, -ENOSPC). */
int export_json(FILE *out, const struct ct_rows *v, enum ct_group g, const struct ct_stats *st);

/* What a baseline (the view's b) says of each row, for the exports of a
 * screen that shows one: fn fills c for the row (the CHANGE column's
 * answer, also for a gone row, one of the baseline's own); taken_unix_ns
 * is when the baseline was taken. */
struct export_changes {
	enum ct_change (*fn)(void *ctx, const struct ct_row *r, struct ct_change_info *c);
	void *ctx;
	uint64_t taken_unix_ns;
};
/* as export_json, export_csv_header and export_csv, with ch (NULL: none):
 * JSON gains "baseline" (its time) and on each row "change", "why",
 * "before" and "since" as --diff writes them; CSV the same as the last
 * columns (change, before_completed, ..., since_lat_p99_us) */
int export_json_changes(FILE *out, const struct ct_rows *v, enum ct_group g,
			const struct ct_stats *st, const struct export_changes *ch);
int export_csv_header_changes(FILE *out, enum ct_group g, const struct export_changes *ch);
int export_csv_changes(FILE *out, const struct ct_rows *v, enum ct_group g,
		       const struct ct_stats *st, const struct export_changes *ch);
/* a sanitized string as a JSON string: quoted, quotes and backslashes escaped */
void export_json_str(FILE *out, const char *clean);
/* a sanitized string as a CSV field: quoted when it needs to be, and
 * one a spreadsheet would take for a formula (= + - @) made text */
void export_csv_str(FILE *out, const char *clean);
int export_csv_header(FILE *out, enum ct_group g);
int export_csv(FILE *out, const struct ct_rows *v, enum ct_group g, const struct ct_stats *st);
/* max_rows 0: all rows */
int export_table(FILE *out, const struct ct_rows *v, enum ct_group g, const struct ct_stats *st,
		 size_t max_rows);

/* Short text forms shared by the table, the view and the exporters. The top
 * error is the most frequent errno, or "app timeout 3.0s" when abandoned
 * connects (RES_ABANDONED, the longest wait shown) outnumber each errno. */
/* a latency in microseconds as milliseconds for a column ("0.05", "3050";
 * "-" for a negative value, i.e. no sample) */
void ct_fmt_ms(double us, char *buf, size_t len);
/* "ECONNREFUSED" of the most frequent error of the row, or "" */
const char *ct_row_top_error(const struct ct_row *r, char *buf, size_t len);

/*
 * Write a file atomically: a temporary file created with O_EXCL in the same
 * directory (never following a planted symlink), filled by fn, flushed,
 * fsynced, then renamed over path. On any error the temporary file is
 * removed and path is untouched. 0 or -errno.
 */
typedef int (*export_writer_fn)(FILE *out, void *ctx);
int export_atomic(const char *path, export_writer_fn fn, void *ctx);

#endif
