// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The view's and batch mode's refresh times for make bench (timing.h).
 */
#include "timing.h"

#include <stdio.h>
#include <stdlib.h>

/* bounded: a day of 1 s ticks */
#define TIMING_MAX 100000

struct timing {
	const char *path;
	struct timing_kind_ms {
		double *ms;
		size_t n, cap;
		size_t rows_max; /* the most flows in a snapshot while timed */
	} k[TIMING_KINDS];
};

struct timing *timing_new(const char *path)
{
	struct timing *t;

	if (!path || !(t = calloc(1, sizeof(*t))))
		return NULL;
	t->path = path;
	return t;
}

void timing_add(struct timing *t, enum timing_kind kind, uint64_t ns, size_t flows)
{
	struct timing_kind_ms *k;

	if (!t)
		return;
	k = &t->k[kind];
	if (k->n >= TIMING_MAX)
		return;
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 1024;
		double *ms = realloc(k->ms, cap * sizeof(*ms));

		if (!ms)
			return;
		k->ms = ms;
		k->cap = cap;
	}
	k->ms[k->n++] = ns / 1e6;
	if (flows > k->rows_max)
		k->rows_max = flows;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void timing_write(struct timing *t)
{
	static const char *const names[TIMING_KINDS] = { "tick", "key", "prep", "batch", "snap" };
	FILE *f;

	if (!t || !(f = fopen(t->path, "w")))
		return;
	for (int i = 0; i < TIMING_KINDS; i++) {
		const struct timing_kind_ms *k = &t->k[i];

		if (k->n)
			qsort(k->ms, k->n, sizeof(*k->ms), cmp_double);
		fprintf(f, "%s %zu %.3f %.3f %.3f %zu\n", names[i], k->n,
			k->n ? k->ms[k->n / 2] : 0, k->n ? k->ms[k->n * 9 / 10] : 0,
			k->n ? k->ms[k->n - 1] : 0, k->rows_max);
	}
	fclose(f);
}

void timing_free(struct timing *t)
{
	if (!t)
		return;
	for (int i = 0; i < TIMING_KINDS; i++)
		free(t->k[i].ms);
	free(t);
}
