/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --diff A B: what changed from one export to another, by the baseline's
 * rules (baseline.h). A side is a JSON export (the screen's e, or -b -o
 * json; of those one object a line, the last is read), flow view only.
 * Pure: no BPF, no root, no terminal.
 *
 * The seam for recordings: a side is a struct diff_side, whatever made
 * it; diff_load() reads exports only today, and a recording reader would
 * fill the same struct (each flow's totals at the end of the recording).
 *
 * Exports keep no histogram: p99 before is A's, p99 after is B's p99 of
 * all its connects (not of those since A), and the sample counts the p99
 * rule needs are the accepted connects (results.ok).
 */
#ifndef CT_DIFF_H
#define CT_DIFF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "baseline.h"

#define DIFF_MAX_BYTES (256u << 20) /* a side's file */
#define DIFF_MAX_DEPTH 32	    /* JSON nesting (an export has 4) */

struct diff_row {
	char comm[80], daddr[200], proto[24], family[16]; /* as the export wrote them */
	uint64_t dport;
	uint64_t count, ok, pending, fail;
	double p99_us; /* -1: null */
};

struct diff_side {
	struct diff_row *rows;
	size_t n;
};

/* one export object (len bytes, no NUL needed): 0, or -EINVAL with what
 * and where in err; out is the caller's to free then too */
int diff_parse(const char *text, size_t len, struct diff_side *out, char *err, size_t errlen);
/* a file: its last non-empty line; errors name the file */
int diff_load(const char *path, struct diff_side *out, char *err, size_t errlen);
void diff_side_free(struct diff_side *s);
/* what changed for b's row r (a's row of the same flow, or NULL) */
enum ct_change diff_compare(const struct diff_row *a, const struct diff_row *r,
			    struct ct_change_info *c);
enum diff_fmt { DIFF_TEXT, DIFF_JSON, DIFF_CSV };
/* every changed flow of b against a, and a's flows absent from b (gone);
 * 0 or -errno of the stream */
int diff_write(FILE *out, const struct diff_side *a, const struct diff_side *b, enum diff_fmt f);

#endif
