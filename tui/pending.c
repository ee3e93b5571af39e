// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A sorted array with room at both ends: connects come in nearly in order
 * of their start (an insert lands at or near the end), and resolve mostly
 * oldest first (timeouts) or newest first (a burst refused at once), so
 * that an insert or a delete moves only the few values on its near side.
 */
#include "pending.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct pending_starts {
	uint32_t lo, hi, cap; /* v[lo..hi) in ascending order */
	uint32_t pad;
	uint64_t v[];
};

/* the first index in [lo, hi) whose value is >= x (hi if none) */
static uint32_t lower_bound(const struct pending_starts *s, uint64_t x)
{
	uint32_t a = s->lo, b = s->hi;

	while (a < b) {
		uint32_t m = a + (b - a) / 2;

		if (s->v[m] < x)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

int pending_add(struct pending_starts **p, uint64_t start_ns)
{
	struct pending_starts *s = *p;
	uint32_t i;

	if (!s || (s->hi == s->cap && s->lo < s->cap / 4)) {
		/* doubled (the values stay where they are) */
		uint32_t cap = s ? 2 * s->cap : 4;
		struct pending_starts *ns = realloc(s, sizeof(*s) + (size_t)cap * sizeof(s->v[0]));

		if (!ns)
			return -ENOMEM;
		if (!s)
			ns->lo = ns->hi = ns->pad = 0;
		ns->cap = cap;
		*p = s = ns;
	} else if (s->hi == s->cap) {
		/* a quarter or more free at the front: everything moves there
		 * (at most once per cap/4 inserts) */
		memmove(s->v, s->v + s->lo, (s->hi - s->lo) * sizeof(s->v[0]));
		s->hi -= s->lo;
		s->lo = 0;
	}
	i = s->hi;
	if (s->lo < s->hi && s->v[s->hi - 1] > start_ns)
		i = lower_bound(s, start_ns + 1); /* after its equals */
	memmove(s->v + i + 1, s->v + i, (s->hi - i) * sizeof(s->v[0]));
	s->v[i] = start_ns;
	s->hi++;
	return 0;
}

void pending_del(struct pending_starts **p, uint64_t start_ns)
{
	struct pending_starts *s = *p;
	uint32_t i;

	if (!s || s->lo == s->hi)
		return;
	i = lower_bound(s, start_ns);
	if (i == s->hi || s->v[i] != start_ns)
		i = s->lo;
	if (i - s->lo < s->hi - 1 - i) {
		memmove(s->v + s->lo + 1, s->v + s->lo, (i - s->lo) * sizeof(s->v[0]));
		s->lo++;
	} else {
		memmove(s->v + i, s->v + i + 1, (s->hi - 1 - i) * sizeof(s->v[0]));
		s->hi--;
	}
	if (s->lo == s->hi)
		pending_free(p); /* most flows have none in flight most of the time */
}

uint64_t pending_oldest(const struct pending_starts *s)
{
	return s && s->lo < s->hi ? s->v[s->lo] : 0;
}

uint32_t pending_count(const struct pending_starts *s)
{
	return s ? s->hi - s->lo : 0;
}

void pending_free(struct pending_starts **p)
{
	free(*p);
	*p = NULL;
}
