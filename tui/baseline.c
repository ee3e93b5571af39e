// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * baseline.c: a snapshot's flows kept aside, and what changed since them
 * (see baseline.h for the rules). An open-addressing hash on the flow key
 * (keys are compared as bytes, as the flow table does).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "util.h"

const char *const ct_change_names[CHG_MAX] = { "", "new", "worse", "silent", "gone" };

struct base_ent {
	struct flow_key key;
	uint64_t count, pending, fail;
	uint64_t lat_n, lat_max_ns;
	uint64_t seen; /* the pass that last saw it */
	struct ct_lat lat;
};

struct ct_baseline {
	struct base_ent *ents;
	size_t n;
	uint32_t *slot; /* index + 1 into ents, 0 empty; nslot a power of two */
	size_t nslot;
	uint64_t taken_ns, pass;
	/* baseline_gone()'s row */
	struct ct_row row;
	struct ct_row_more more;
};

static size_t slot_of(const struct ct_baseline *b, const struct flow_key *k)
{
	size_t i = (size_t)ct_hash(k, sizeof(*k)) & (b->nslot - 1);

	while (b->slot[i] && memcmp(&b->ents[b->slot[i] - 1].key, k, sizeof(*k)))
		i = (i + 1) & (b->nslot - 1);
	return i;
}

struct ct_baseline *baseline_new(const struct ct_row *rows, size_t n, uint64_t taken_ns)
{
	struct ct_baseline *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->taken_ns = taken_ns;
	b->nslot = 16;
	while (b->nslot < 2 * n + 2)
		b->nslot *= 2;
	b->ents = calloc(n ? n : 1, sizeof(*b->ents));
	b->slot = calloc(b->nslot, sizeof(*b->slot));
	if (!b->ents || !b->slot || n >= UINT32_MAX) {
		baseline_free(b);
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ct_row *r = &rows[i];
		size_t s = slot_of(b, &r->key);
		struct base_ent *e;

		if (b->slot[s]) /* the same key twice: keep the first */
			continue;
		e = &b->ents[b->n];
		e->key = r->key;
		e->count = r->count;
		e->pending = r->results[RES_PENDING];
		e->fail = ct_row_failures(r);
		e->lat_n = r->lat_n;
		e->lat_max_ns = r->lat_max_ns;
		if (r->lat_n && r->more)
			e->lat = *ct_more_lat(r->more);
		b->slot[s] = (uint32_t)++b->n;
	}
	return b;
}

void baseline_free(struct ct_baseline *b)
{
	if (!b)
		return;
	free(b->ents);
	free(b->slot);
	free(b);
}

size_t baseline_count(const struct ct_baseline *b)
{
	return b ? b->n : 0;
}

uint64_t baseline_taken_ns(const struct ct_baseline *b)
{
	return b ? b->taken_ns : 0;
}

void baseline_pass(struct ct_baseline *b)
{
	if (b)
		b->pass++;
}

/* completed connects: the count without those in flight */
static uint64_t completed(uint64_t count, uint64_t pending)
{
	return count > pending ? count - pending : 0;
}

static double share(uint64_t fail, uint64_t n)
{
	return n ? (double)fail / (double)n : 0;
}

/* p99 of a histogram with n samples, its minimum and its maximum */
static double p99_of(const struct ct_lat *h, uint64_t n, uint64_t max_ns)
{
	struct ct_row_more m;
	struct ct_row r;

	if (!n)
		return -1;
	memset(&m, 0, sizeof(m));
	memset(&r, 0, sizeof(r));
	m.lat = h;
	r.more = &m;
	r.lat_n = n;
	r.lat_max_ns = max_ns;
	return ct_row_lat_pct(&r, 0.99);
}

static enum ct_change compare(const struct base_ent *e, const struct ct_row *r,
			      struct ct_change_info *c)
{
	uint64_t cur_n = completed(r->count, r->results[RES_PENDING]);
	uint64_t cur_fail = ct_row_failures(r);
	int reset;

	memset(c, 0, sizeof(*c));
	c->p99_before_us = c->p99_after_us = -1;
	if (!e) {
		c->kind = CHG_NEW;
		c->since_n = cur_n;
		c->since_fail = cur_fail;
		c->share_after = share(cur_fail, cur_n);
		c->p99_after_us = r->lat_n ? ct_row_lat_pct(r, 0.99) : -1;
		return c->kind;
	}
	c->before_n = completed(e->count, e->pending);
	c->before_fail = e->fail;
	c->share_before = share(c->before_fail, c->before_n);
	c->p99_before_us = p99_of(&e->lat, e->lat_n, e->lat_max_ns);
	/* cleared since (c): what it has now all came after the baseline */
	reset = r->count < e->count || cur_fail < e->fail || r->lat_n < e->lat_n;
	if (reset) {
		c->since_n = cur_n;
		c->since_fail = cur_fail;
	} else {
		/* connects in flight at the baseline that completed since
		 * count on the side they completed on */
		c->since_n = cur_n > c->before_n ? cur_n - c->before_n : 0;
		c->since_fail = cur_fail - e->fail;
	}
	c->share_after = share(c->since_fail, c->since_n);
	if (r->lat_n && r->more) {
		if (reset) {
			c->p99_after_us = ct_row_lat_pct(r, 0.99);
		} else if (r->lat_n > e->lat_n) {
			struct ct_lat h = *ct_more_lat(r->more);

			ct_lat_sub(&h, &e->lat);
			c->p99_after_us = p99_of(&h, r->lat_n - e->lat_n, r->lat_max_ns);
		}
	}
	if (r->count == (reset ? 0 : e->count)) {
		c->kind = e->count ? CHG_SILENT : CHG_NONE;
		return c->kind;
	}
	if (r->key.family == CT_FAMILY_FOLDED)
		return c->kind; /* never worse: see baseline.h */
	return baseline_judge(c, e->lat_n, reset ? r->lat_n : r->lat_n - e->lat_n);
}

enum ct_change baseline_judge(struct ct_change_info *c, uint64_t lat_before, uint64_t lat_since)
{
	if (c->since_fail >= CT_BASE_MIN_FAILS &&
	    (c->share_after - c->share_before) * 100 >= CT_BASE_FAIL_POINTS)
		c->why |= CHG_WHY_FAIL;
	if (c->p99_before_us >= 0 && c->p99_after_us >= 0 && lat_before >= CT_BASE_P99_MIN_N &&
	    lat_since >= CT_BASE_P99_MIN_N &&
	    c->p99_after_us >= c->p99_before_us * CT_BASE_P99_RATIO &&
	    c->p99_after_us - c->p99_before_us >= CT_BASE_P99_MIN_US)
		c->why |= CHG_WHY_P99;
	if (c->why)
		c->kind = CHG_WORSE;
	return c->kind;
}

enum ct_change baseline_compare(const struct ct_baseline *b, const struct ct_row *r,
				struct ct_change_info *out)
{
	size_t s;

	if (!b) {
		memset(out, 0, sizeof(*out));
		out->p99_before_us = out->p99_after_us = -1;
		return CHG_NONE;
	}
	s = slot_of(b, &r->key);
	return compare(b->slot[s] ? &b->ents[b->slot[s] - 1] : NULL, r, out);
}

enum ct_change baseline_classify(struct ct_baseline *b, const struct ct_row *r,
				 struct ct_change_info *out)
{
	if (b) {
		size_t s = slot_of(b, &r->key);

		if (b->slot[s])
			b->ents[b->slot[s] - 1].seen = b->pass;
	}
	return baseline_compare(b, r, out);
}

size_t baseline_gone(const struct ct_baseline *b, baseline_gone_fn fn, void *ctx)
{
	struct ct_baseline *w = (struct ct_baseline *)b; /* its row buffer only */
	size_t k = 0;

	if (!b)
		return 0;
	for (size_t i = 0; i < b->n; i++) {
		const struct base_ent *e = &b->ents[i];
		struct ct_change_info c;

		if (e->seen == b->pass || !e->count)
			continue;
		memset(&w->row, 0, sizeof(w->row));
		memset(&w->more, 0, sizeof(w->more));
		w->row.key = e->key;
		w->row.count = e->count;
		w->row.lat_n = e->lat_n;
		w->row.lat_max_ns = e->lat_max_ns;
		w->row.nflows = 1;
		w->more.lat = &e->lat;
		w->row.more = &w->more;
		memset(&c, 0, sizeof(c));
		c.kind = CHG_GONE;
		c.before_n = completed(e->count, e->pending);
		c.before_fail = e->fail;
		c.share_before = share(e->fail, c.before_n);
		c.p99_before_us = p99_of(&e->lat, e->lat_n, e->lat_max_ns);
		c.p99_after_us = -1;
		k++;
		if (fn)
			fn(ctx, &w->row, &c);
	}
	return k;
}

/* a latency for a narrow cell: 850us, 3ms, 1.0s, 12s */
static void fmt_lat(double us, char *buf, size_t len)
{
	if (us < 0)
		snprintf(buf, len, "-");
	else if (us < 1000)
		snprintf(buf, len, "%.0fus", us);
	else if (us < 1e6)
		snprintf(buf, len, "%.0fms", us / 1000);
	else if (us < 1e7)
		snprintf(buf, len, "%.1fs", us / 1e6);
	else
		snprintf(buf, len, "%.0fs", us / 1e6);
}

/* a share for a narrow cell: 0%, 2%, 40%, 100% (rounded; a share above
 * zero never shows as 0%) */
static void fmt_share(double s, char *buf, size_t len)
{
	double pc = s * 100;

	if (pc > 0 && pc < 1)
		snprintf(buf, len, "<1%%");
	else
		snprintf(buf, len, "%.0f%%", pc);
}

const char *baseline_cell(const struct ct_change_info *c, char *buf, size_t len)
{
	char a[16], z[16];

	if (!len)
		return buf;
	switch (c->kind) {
	case CHG_WORSE:
		if (c->why & CHG_WHY_FAIL) {
			fmt_share(c->share_before, a, sizeof(a));
			fmt_share(c->share_after, z, sizeof(z));
			snprintf(buf, len, "worse %s\u2192%s", a, z);
		} else {
			fmt_lat(c->p99_before_us, a, sizeof(a));
			fmt_lat(c->p99_after_us, z, sizeof(z));
			snprintf(buf, len, "p99 %s\u2192%s", a, z);
		}
		break;
	case CHG_NEW:
	case CHG_SILENT:
	case CHG_GONE:
		snprintf(buf, len, "%s", ct_change_names[c->kind]);
		break;
	default:
		buf[0] = 0;
	}
	return buf;
}
