// SPDX-License-Identifier: GPL-2.0-or-later
#include "prom.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* the flow's tag (flows_tag_set) says where its counts go */
enum { TAG_NONE = 0, TAG_SERIES, TAG_FOLDED };

/* histogram bounds: 2^k microseconds, so they fall on the log2 buckets */
static const int le_pow[] = { 6, 8, 10, 12, 14, 16, 18, 20, 22, 24 };

struct acc {
	uint64_t results[RES_MAX]; /* RES_PENDING unused: pending is not a counter */
	uint64_t lat[CT_LAT_BUCKETS];
	uint64_t lat_n, lat_sum_ns;
};

struct series {
	struct flow_key key; /* a flow's key, or (comm, proto) for a folded series */
	struct acc base;     /* counts of incarnations no longer in the table */
	struct acc live;     /* counts of the ones in it, recomputed at each write */
	struct series *next;
};

struct prom {
	struct ct_flows *flows;
	struct ct_snap *snap; /* the last interval's, brought up to date */
	size_t max_series;
	struct series **own, **other; /* hash buckets */
	size_t nbuckets, n_own, n_other;
	uint64_t folded_flows;
};

static size_t bucket(const struct prom *p, const struct flow_key *k)
{
	return ct_hash(k, sizeof(*k)) & (p->nbuckets - 1);
}

static struct series *find(struct prom *p, struct series **tab, const struct flow_key *k, int create)
{
	size_t b = bucket(p, k);

	for (struct series *s = tab[b]; s; s = s->next)
		if (!memcmp(&s->key, k, sizeof(*k)))
			return s;
	if (!create)
		return NULL;
	struct series *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->key = *k;
	s->next = tab[b];
	tab[b] = s;
	return s;
}

static void other_key(const struct flow_key *in, struct flow_key *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->comm, in->comm, sizeof(out->comm));
	out->proto = in->proto;
}

static void acc_add(struct acc *a, const struct ct_row *r)
{
	for (int i = 0; i < RES_MAX; i++)
		if (i != RES_PENDING)
			a->results[i] += r->results[i];
	for (int i = 0; i < CT_LAT_BUCKETS; i++)
		a->lat[i] += r->more->lat[i];
	a->lat_n += r->lat_n;
	a->lat_sum_ns += r->lat_sum_ns;
}

/* Where a flow's counts belong; NULL only when out of memory. A flow without
 * a place yet (*tag TAG_NONE) gets a series of its own while the cap allows,
 * else it is folded; *tag says which. The callers give new flows their place
 * busiest first at each write, and at eviction a flow that appeared and went
 * between two writes. */
static struct series *route(struct prom *p, const struct ct_row *r, uint32_t *tag)
{
	struct flow_key k;
	struct series *s;

	if (*tag != TAG_FOLDED) {
		s = find(p, p->own, &r->key, 0);
		if (!s && *tag == TAG_NONE && p->n_own < p->max_series && (s = find(p, p->own, &r->key, 1)))
			p->n_own++;
		if (s) {
			*tag = TAG_SERIES;
			return s;
		}
		p->folded_flows++;
		*tag = TAG_FOLDED;
	}
	other_key(&r->key, &k);
	s = find(p, p->other, &k, 0);
	if (!s && (s = find(p, p->other, &k, 1)))
		p->n_other++;
	return s;
}

static void on_evict(void *ctx, const struct ct_row *r)
{
	struct prom *p = ctx;
	uint32_t tag = r->tag;
	struct series *s = route(p, r, &tag);

	if (s)
		acc_add(&s->base, r);
}

struct prom *prom_new(struct ct_flows *t, size_t max_series)
{
	struct prom *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->flows = t;
	p->max_series = max_series;
	p->nbuckets = 1024;
	while (p->nbuckets < max_series)
		p->nbuckets *= 2;
	p->own = calloc(p->nbuckets, sizeof(*p->own));
	p->other = calloc(p->nbuckets, sizeof(*p->other));
	if (!p->own || !p->other) {
		prom_free(p);
		errno = ENOMEM;
		return NULL;
	}
	flows_set_evict_cb(t, on_evict, p);
	return p;
}

static void free_tab(struct series **tab, size_t n)
{
	for (size_t i = 0; tab && i < n; i++) {
		struct series *s = tab[i], *next;

		for (; s; s = next) {
			next = s->next;
			free(s);
		}
	}
	free(tab);
}

void prom_free(struct prom *p)
{
	if (!p)
		return;
	if (p->flows)
		flows_set_evict_cb(p->flows, NULL, NULL);
	free_tab(p->own, p->nbuckets);
	free_tab(p->other, p->nbuckets);
	snap_free(p->snap);
	free(p);
}

static void label(FILE *out, const char *name, const char *val, size_t len, int first)
{
	char clean[CT_ADDR_STRLEN];

	/* sanitized: no control characters remain, so only \ and " need
	 * escaping (a newline is already the text \x0a) */
	ct_sanitize(val, len, clean, sizeof(clean));
	fprintf(out, "%s%s=\"", first ? "" : ",", name);
	for (const char *c = clean; *c; c++) {
		if (*c == '\\' || *c == '"')
			fputc('\\', out);
		fputc(*c, out);
	}
	fputc('"', out);
}

static void labels(FILE *out, const struct series *s, int folded, int with_proto)
{
	char buf[CT_ADDR_STRLEN];

	label(out, "comm", s->key.comm, sizeof(s->key.comm), 1);
	if (folded) {
		label(out, "daddr", "other", 5, 0);
		label(out, "dport", "other", 5, 0);
	} else {
		ct_addr_str(s->key.family, s->key.daddr, buf, sizeof(buf));
		label(out, "daddr", buf, strlen(buf), 0);
		snprintf(buf, sizeof(buf), "%u", s->key.dport);
		label(out, "dport", buf, strlen(buf), 0);
	}
	if (with_proto) {
		const char *pn = ct_proto_name(s->key.proto, buf, sizeof(buf));

		label(out, "proto", pn, strlen(pn), 0);
	}
}

static void each_series(struct prom *p, void (*fn)(FILE *, const struct series *, int), FILE *out)
{
	for (size_t i = 0; i < p->nbuckets; i++)
		for (struct series *s = p->own[i]; s; s = s->next)
			fn(out, s, 0);
	for (size_t i = 0; i < p->nbuckets; i++)
		for (struct series *s = p->other[i]; s; s = s->next)
			fn(out, s, 1);
}

static void put_counts(FILE *out, const struct series *s, int folded)
{
	for (int i = 0; i < RES_MAX; i++) {
		uint64_t v = s->base.results[i] + s->live.results[i];

		if (i == RES_PENDING || !v)
			continue;
		fputs("connecttop_connects_total{", out);
		labels(out, s, folded, 1);
		fprintf(out, ",result=\"%s\"} %llu\n", ct_result_names[i], (unsigned long long)v);
	}
}

static void put_hist(FILE *out, const struct series *s, int folded)
{
	uint64_t n = s->base.lat_n + s->live.lat_n, cum = 0;
	size_t b = 0;

	if (!n)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(le_pow); i++) {
		/* a log2 bucket b holds [2^b, 2^(b+1)) us: all of it is below
		 * 2^k us when b < k */
		for (; b < (size_t)le_pow[i]; b++)
			cum += s->base.lat[b] + s->live.lat[b];
		fputs("connecttop_connect_latency_seconds_bucket{", out);
		labels(out, s, folded, 0);
		fprintf(out, ",le=\"%g\"} %llu\n", (double)(1ULL << le_pow[i]) / 1e6, (unsigned long long)cum);
	}
	fputs("connecttop_connect_latency_seconds_bucket{", out);
	labels(out, s, folded, 0);
	fprintf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)n);
	fputs("connecttop_connect_latency_seconds_sum{", out);
	labels(out, s, folded, 0);
	fprintf(out, "} %.9f\n", (s->base.lat_sum_ns + s->live.lat_sum_ns) / 1e9);
	fputs("connecttop_connect_latency_seconds_count{", out);
	labels(out, s, folded, 0);
	fprintf(out, "} %llu\n", (unsigned long long)n);
}

static void reset_live(FILE *out, const struct series *s, int folded)
{
	(void)out;
	(void)folded;
	memset((void *)&s->live, 0, sizeof(s->live));
}

static int by_count_desc(const void *a, const void *b)
{
	const struct ct_row *x = *(const struct ct_row *const *)a, *y = *(const struct ct_row *const *)b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

static void meta(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int prom_write(struct prom *p, FILE *out, struct ct_flows *t, const struct ct_stats *st)
{
	/* brought up to date: with many flows an interval costs what changed */
	struct ct_snap *snap = p->snap = flows_snapshot_reuse(t, 0, p->snap);
	const struct ct_row **fresh;
	uint64_t pending = 0;
	size_t nfresh = 0;

	if (!snap)
		return -ENOMEM;
	fresh = malloc((snap->n ? snap->n : 1) * sizeof(*fresh));
	if (!fresh)
		return -ENOMEM;
	each_series(p, reset_live, NULL);
	/* flows seen for the first time get series, busiest first, while the
	 * cap allows; the rest are folded for as long as they live */
	for (size_t i = 0; i < snap->n; i++) {
		pending += snap->rows[i].results[RES_PENDING];
		if (snap->rows[i].tag == TAG_NONE)
			fresh[nfresh++] = &snap->rows[i];
	}
	qsort(fresh, nfresh, sizeof(*fresh), by_count_desc);
	for (size_t i = 0; i < nfresh; i++) {
		struct ct_row *r = (struct ct_row *)fresh[i];

		route(p, r, &r->tag);
		flows_tag_set(t, &r->key, r->tag);
	}
	for (size_t i = 0; i < snap->n; i++) {
		struct series *s = route(p, &snap->rows[i], &snap->rows[i].tag);

		if (s)
			acc_add(&s->live, &snap->rows[i]);
	}
	free(fresh);

	meta(out, "connecttop_connects_total", "counter",
	     "Finished connect() calls by process, destination and result (ok, refused, timeout, unreachable, other).");
	each_series(p, put_counts, out);
	meta(out, "connecttop_connect_latency_seconds", "histogram",
	     "TCP handshake time, from SYN sent to established or failed.");
	each_series(p, put_hist, out);
	meta(out, "connecttop_connects_pending", "gauge", "TCP connects whose outcome is still to come.");
	fprintf(out, "connecttop_connects_pending %llu\n", (unsigned long long)pending);
	meta(out, "connecttop_events_total", "counter", "connect() calls seen.");
	fprintf(out, "connecttop_events_total %llu\n", (unsigned long long)st->events);
	meta(out, "connecttop_drops_total", "counter", "Events lost (ring buffer or BPF maps full).");
	fprintf(out, "connecttop_drops_total %llu\n", (unsigned long long)st->drops);
	meta(out, "connecttop_missed_total", "counter",
	     "BPF program runs the kernel skipped because another was running on that CPU.");
	fprintf(out, "connecttop_missed_total %llu\n", (unsigned long long)st->missed);
	meta(out, "connecttop_evicted_flows_total", "counter", "Flows evicted from the table (--max-flows).");
	fprintf(out, "connecttop_evicted_flows_total %llu\n", (unsigned long long)st->evicted);
	meta(out, "connecttop_flows", "gauge", "Flows in the table.");
	fprintf(out, "connecttop_flows %llu\n", (unsigned long long)st->flows);
	meta(out, "connecttop_series", "gauge", "Flows exported as series of their own (--prometheus-max-series).");
	fprintf(out, "connecttop_series %zu\n", p->n_own);
	meta(out, "connecttop_folded_flows_total", "counter",
	     "Flows folded into their process's daddr=\"other\" series because of the series cap.");
	fprintf(out, "connecttop_folded_flows_total %llu\n", (unsigned long long)p->folded_flows);
	meta(out, "connecttop_last_interval_seconds", "gauge", "Length of the last interval.");
	fprintf(out, "connecttop_last_interval_seconds %.6f\n", st->interval_s);
	if (fflush(out) || ferror(out))
		return -(errno ? errno : EIO);
	return 0;
}

struct file_ctx {
	struct prom *p;
	struct ct_flows *t;
	const struct ct_stats *st;
};

static int write_cb(FILE *out, void *ctx)
{
	struct file_ctx *c = ctx;

	return prom_write(c->p, out, c->t, c->st);
}

int prom_write_file(struct prom *p, const char *path, struct ct_flows *t, const struct ct_stats *st)
{
	struct file_ctx c = { p, t, st };

	return export_atomic(path, write_cb, &c);
}
