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
#include "rows.h"
#include "util.h"

const char *const ct_change_names[CHG_MAX] = { "", "new", "worse", "silent", "gone" };

/* an entry's more and the latency buckets it points at (entries never
 * move); no history: a gone row has none */
struct base_more {
	struct ct_row_more m;
	struct ct_lat lat;
};

/* an entry: the row as it was (row.more is &more.m: its latency buckets,
 * errors and folded count; no history, no pids), which is also the row a
 * gone flow or group is shown as */
struct base_ent {
	struct ct_row row;
	struct base_more more;
	uint8_t folded_in; /* a group with a (process, *) member: never worse */
};

/* What a pass reads and writes (the keys, when each was seen) is kept
 * apart from the entries' 528 bytes (744 when measured). Figure (-O2, 2
 * shared cores at a load of 7-8, best of 5): a pass of marks over 32,768
 * flows took 14-16 ms with the keys in the entries, 2.1-2.6 ms apart;
 * 100,000 flows 45 against 13 ms. */
_Static_assert(sizeof(void *) != 8 || sizeof(struct base_ent) == 528, "the figure above");

struct ct_baseline {
	struct base_ent *ents;
	struct flow_key *keys; /* ents[i].row.key */
	uint64_t *seen;	       /* the pass that last saw ents[i] */
	uint8_t *now;	       /* enum ct_change of ents[i] at that pass (baseline_classify) */
	size_t n;
	uint32_t *slot; /* index + 1 into ents, 0 empty; nslot a power of two */
	size_t nslot;
	uint64_t taken_ns, pass;
};

static size_t slot_of(const struct ct_baseline *b, const struct flow_key *k)
{
	size_t i = (size_t)ct_hash(k, sizeof(*k)) & (b->nslot - 1);

	while (b->slot[i] && memcmp(&b->keys[b->slot[i] - 1], k, sizeof(*k)))
		i = (i + 1) & (b->nslot - 1);
	return i;
}

/* an empty baseline with room for n entries */
static struct ct_baseline *alloc_base(size_t n, uint64_t taken_ns)
{
	struct ct_baseline *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->taken_ns = taken_ns;
	b->nslot = 16;
	while (b->nslot < 2 * n + 2)
		b->nslot *= 2;
	b->ents = calloc(n ? n : 1, sizeof(*b->ents));
	b->keys = calloc(n ? n : 1, sizeof(*b->keys));
	b->seen = calloc(n ? n : 1, sizeof(*b->seen));
	b->now = calloc(n ? n : 1, sizeof(*b->now));
	b->slot = calloc(b->nslot, sizeof(*b->slot));
	if (!b->ents || !b->keys || !b->seen || !b->now || !b->slot || n >= UINT32_MAX) {
		baseline_free(b);
		errno = ENOMEM;
		return NULL;
	}
	return b;
}

/* the entry of key k, made (zeroed, its row's more its own) if new */
static struct base_ent *ent_of(struct ct_baseline *b, const struct flow_key *k, int *made)
{
	size_t s = slot_of(b, k);
	struct base_ent *e;

	*made = !b->slot[s];
	if (!*made)
		return &b->ents[b->slot[s] - 1];
	e = &b->ents[b->n];
	e->row.key = *k;
	e->more.m.lat = &e->more.lat;
	e->row.more = &e->more.m;
	b->keys[b->n] = *k;
	b->slot[s] = (uint32_t)++b->n;
	return e;
}

struct ct_baseline *baseline_new(const struct ct_row *rows, size_t n, uint64_t taken_ns)
{
	struct ct_baseline *b = alloc_base(n, taken_ns);

	if (!b)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct ct_row *r = &rows[i];
		int made;
		struct base_ent *e = ent_of(b, &r->key, &made);

		if (!made) /* the same key twice: keep the first */
			continue;
		e->row = *r;
		e->row.more = &e->more.m;
		/* gone, it has no rate, no history and no pids to show */
		e->row.rate = 0;
		e->row.interval_count = 0;
		e->row.hist_epoch = 0;
		if (r->more) {
			memcpy(e->more.m.errs, r->more->errs, sizeof(e->more.m.errs));
			e->more.m.abandon_max_ns = r->more->abandon_max_ns;
			e->more.m.folded = r->more->folded;
			if (r->lat_n)
				e->more.lat = *ct_more_lat(r->more);
		}
		e->folded_in = r->key.family == CT_FAMILY_FOLDED;
	}
	return b;
}

/* flow f's numbers into its group g */
static void group_add(struct base_ent *g, const struct base_ent *f)
{
	struct ct_row *gr = &g->row;
	const struct ct_row *r = &f->row;

	if (!gr->nflows || r->last_ns >= gr->last_ns) {
		gr->pid = r->pid;
		gr->uid = r->uid;
		gr->last_ns = r->last_ns;
	}
	if (!gr->nflows || r->first_ns < gr->first_ns)
		gr->first_ns = r->first_ns;
	gr->nflows++;
	gr->npids += r->npids;
	gr->count += r->count;
	for (int i = 0; i < RES_MAX; i++)
		gr->results[i] += r->results[i];
	gr->lat_n += r->lat_n;
	gr->lat_sum_ns += r->lat_sum_ns;
	if (r->lat_max_ns > gr->lat_max_ns)
		gr->lat_max_ns = r->lat_max_ns;
	gr->syn_rt += r->syn_rt;
	for (int i = 0; i < CT_SYN_RT_HIST; i++)
		gr->syn_rt_hist[i] += r->syn_rt_hist[i];
	gr->errs_other += r->errs_other;
	for (int i = 0; i < CT_FLOW_ERRS && f->more.m.errs[i].err; i++)
		ct_errs_add(g->more.m.errs, &gr->errs_other, f->more.m.errs[i].err,
			    f->more.m.errs[i].count);
	if (f->more.m.abandon_max_ns > g->more.m.abandon_max_ns)
		g->more.m.abandon_max_ns = f->more.m.abandon_max_ns;
	g->more.m.folded += f->more.m.folded;
	if (r->lat_n)
		ct_lat_merge(&g->more.lat, &f->more.lat);
}

struct ct_baseline *baseline_group(const struct ct_baseline *flows, enum ct_group g,
				   baseline_keep_fn keep, void *ctx)
{
	struct ct_baseline *b;

	if (!flows) {
		errno = EINVAL;
		return NULL;
	}
	b = alloc_base(flows->n, flows->taken_ns);
	if (!b)
		return NULL;
	for (size_t i = 0; i < flows->n; i++) {
		const struct base_ent *f = &flows->ents[i];
		struct base_ent *e;
		struct flow_key k;
		int made;

		if (keep && !keep(ctx, &f->row))
			continue;
		rows_group_key(g, &f->row.key, &k);
		e = ent_of(b, &k, &made);
		group_add(e, f);
		/* a process's group keeps its evicted flows' counts (its
		 * (process, *) row is in it); a port's group of (process, *)
		 * rows takes them in whole (the dest view's has its family) */
		if (g != GROUP_PROCESS && f->folded_in)
			e->folded_in = 1;
	}
	return b;
}

void baseline_free(struct ct_baseline *b)
{
	if (!b)
		return;
	free(b->ents);
	free(b->keys);
	free(b->seen);
	free(b->now);
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
	/* the row's latency buckets: a group row not filled has none (rows.h) */
	int hist = r->lat_n && r->more && ct_more_lat(r->more)->n;
	const struct ct_row *o;
	uint64_t o_fail;
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
	o = &e->row;
	o_fail = ct_row_failures(o);
	c->before_n = completed(o->count, o->results[RES_PENDING]);
	c->before_fail = o_fail;
	c->share_before = share(c->before_fail, c->before_n);
	c->p99_before_us = p99_of(&e->more.lat, o->lat_n, o->lat_max_ns);
	/* cleared since (c): what it has now all came after the baseline */
	reset = r->count < o->count || cur_fail < o_fail || r->lat_n < o->lat_n;
	if (reset) {
		c->since_n = cur_n;
		c->since_fail = cur_fail;
	} else {
		/* connects in flight at the baseline that completed since
		 * count on the side they completed on */
		c->since_n = cur_n > c->before_n ? cur_n - c->before_n : 0;
		c->since_fail = cur_fail - o_fail;
	}
	c->share_after = share(c->since_fail, c->since_n);
	if (hist) {
		if (reset) {
			c->p99_after_us = ct_row_lat_pct(r, 0.99);
		} else if (r->lat_n > o->lat_n) {
			struct ct_lat h = *ct_more_lat(r->more);

			ct_lat_sub(&h, &e->more.lat);
			c->p99_after_us = p99_of(&h, r->lat_n - o->lat_n, r->lat_max_ns);
		}
	}
	if (r->count == (reset ? 0 : o->count)) {
		c->kind = o->count ? CHG_SILENT : CHG_NONE;
		return c->kind;
	}
	if (r->key.family == CT_FAMILY_FOLDED || e->folded_in)
		return c->kind; /* never worse: see baseline.h */
	return baseline_judge(c, o->lat_n, reset ? r->lat_n : r->lat_n - o->lat_n);
}

/* an entry's row as gone: its numbers before, none since */
static enum ct_change gone_info(const struct base_ent *e, struct ct_change_info *c)
{
	const struct ct_row *o = &e->row;

	memset(c, 0, sizeof(*c));
	c->kind = o->count ? CHG_GONE : CHG_NONE;
	c->before_n = completed(o->count, o->results[RES_PENDING]);
	c->before_fail = ct_row_failures(o);
	c->share_before = share(c->before_fail, c->before_n);
	c->p99_before_us = p99_of(&e->more.lat, o->lat_n, o->lat_max_ns);
	c->p99_after_us = -1;
	return c->kind;
}

/* r's entry if r is one of b's own rows (a gone row), else NULL */
static const struct base_ent *own(const struct ct_baseline *b, const struct ct_row *r)
{
	const char *p = (const char *)r, *lo = (const char *)b->ents;

	if (p < lo || p >= (const char *)(b->ents + b->n))
		return NULL;
	return &b->ents[(size_t)(p - lo) / sizeof(*b->ents)];
}

int baseline_owns(const struct ct_baseline *b, const struct ct_row *r)
{
	return b && own(b, r);
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
	const struct base_ent *e;
	size_t s;

	if (!b) {
		memset(out, 0, sizeof(*out));
		out->p99_before_us = out->p99_after_us = -1;
		return CHG_NONE;
	}
	if ((e = own(b, r)))
		return gone_info(e, out);
	s = slot_of(b, &r->key);
	return compare(b->slot[s] ? &b->ents[b->slot[s] - 1] : NULL, r, out);
}

/* mark r's entry seen by this pass, with its change k */
static void mark(struct ct_baseline *b, const struct ct_row *r, enum ct_change k)
{
	size_t s;

	if (!b || own(b, r))
		return;
	s = slot_of(b, &r->key);
	if (b->slot[s]) {
		b->seen[b->slot[s] - 1] = b->pass;
		b->now[b->slot[s] - 1] = (uint8_t)k;
	}
}

enum ct_change baseline_classify(struct ct_baseline *b, const struct ct_row *r,
				 struct ct_change_info *out)
{
	enum ct_change k = baseline_compare(b, r, out);

	mark(b, r, k);
	return k;
}

void baseline_mark(struct ct_baseline *b, const struct ct_row *r)
{
	mark(b, r, CHG_NONE);
}

enum ct_change baseline_now(const struct ct_baseline *b, const struct ct_row *r)
{
	const struct base_ent *e = b ? own(b, r) : NULL;
	struct ct_change_info c;

	if (!e)
		return baseline_compare(b, r, &c);
	if (!b->pass)
		return CHG_NONE; /* no pass yet: nothing known */
	if (b->seen[e - b->ents] == b->pass)
		return (enum ct_change)b->now[e - b->ents];
	return e->row.count ? CHG_GONE : CHG_NONE;
}

size_t baseline_gone(const struct ct_baseline *b, baseline_gone_fn fn, void *ctx)
{
	size_t k = 0;

	if (!b)
		return 0;
	for (size_t i = 0; i < b->n; i++) {
		const struct base_ent *e = &b->ents[i];
		struct ct_change_info c;

		if (b->seen[i] == b->pass || !e->row.count)
			continue;
		gone_info(e, &c);
		k++;
		if (fn)
			fn(ctx, &e->row, &c);
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
