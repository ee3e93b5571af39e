// SPDX-License-Identifier: GPL-2.0-or-later
#include "prom.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snap.h"
#include "util.h"

/*
 * How counts get from the table to series. Every flow in the table has a
 * state here (its tag, flows_tag_set, is the state's index + 1) holding what
 * of its counts was already handed to a series. At each write, and when the
 * flow leaves the table, only the difference is added to the series the
 * flow is routed to. Series therefore hold plain 64-bit totals: moving a
 * flow from one series to another, or a whole series into its process's
 * "other", never takes anything back from a series, so every exported
 * counter is monotonic for the life of the process. The histogram's
 * counts below each bound come from the table's 32-bit bucket counts, which
 * wrap; their differences are taken modulo 2^32.
 *
 * Series are keyed by the label values as written (the sanitized name), not
 * by the raw bytes: two names that sanitize alike ("a<newline>b" and the text
 * "a\x0ab") are one series, never two series with equal labels, and a flow
 * always lands in the same one. Flows of any protocol to one (comm, daddr,
 * dport) share a series, with counts by protocol: the histogram has no proto
 * label, so one series per label set is what keeps its label sets unique.
 */

enum { KIND_OWN = 0, KIND_OTHER };

#define COMM_CANON 72	       /* ct_sanitize of 16 bytes: at most 4 characters per byte */
#define PROTOS_MAX 4	       /* protocols counted apart in one series */
#define PROTO_REST 0xffffffffu /* ... the rest, written proto="other" */
#define DECAY 0.9	       /* a score's weight left after one write */
#define DEMOTE_MIN 1024	       /* demoted keys remembered: at least this many */

/* histogram bounds: 2^k microseconds, bucket boundaries of the table's
 * histograms at any resolution (row.h), so that the counts are exact */
static const int le_pow[] = { 6, 8, 10, 12, 14, 16, 18, 20, 22, 24 };
#define LE_N ARRAY_SIZE(le_pow)

struct skey {
	char comm[COMM_CANON]; /* sanitized, zero-filled: compared and hashed as bytes */
	uint8_t daddr[16];     /* as in flow_key; zero in a KIND_OTHER key */
	uint16_t dport;
	uint8_t family;
	uint8_t kind;
	uint32_t scope; /* as in flow_key */
};

struct proto_counts {
	uint32_t proto;		   /* flow_key.proto, or PROTO_REST */
	uint64_t results[RES_MAX]; /* RES_PENDING unused: pending is not a counter */
	struct proto_counts *next;
};

struct series {
	struct skey key;
	struct proto_counts *protos;
	unsigned nprotos;
	uint64_t lat[LE_N]; /* handshakes shorter than 2^le_pow[i] us */
	uint64_t lat_n, lat_sum_ns;
	uint64_t syn_rt;     /* SYNs retransmitted by its TCP connects */
	uint8_t syn_rt_seen; /* 1 once a flow of it had them counted (row.h): written */
	double score;	     /* connects, each write's weighing DECAY times less */
	uint64_t score_at;   /* the write score was last brought to */
	/* a demoted series keeps only its key: its flows' counts go to fwd,
	 * its process's "other" series (or comm="other"), for good */
	struct series *fwd;
	struct series *next; /* hash chain */
};

/* what of a live flow's counts was handed to a series already */
struct flow_state {
	uint64_t results[RES_MAX];
	uint32_t lat[LE_N]; /* as series.lat, modulo 2^32 */
	uint64_t lat_n, lat_sum_ns, count;
	uint32_t syn_rt;      /* as ct_row's */
	struct series *route; /* NULL until placed; may be a demoted series */
	double score;
	uint64_t score_at, dcount; /* dcount: connects since the last write */
	uint32_t next_free;	   /* free list, index + 1 */
	uint8_t used;
};

struct prom {
	struct ct_flows *flows;
	struct ct_snap *snap; /* the last interval's, brought up to date */
	size_t max_series, max_demoted;
	struct series **tab; /* hash of every series, demoted ones included */
	size_t nbuckets, n_own, n_other, n_demoted;
	/* by tag - 1. It moves when it grows (state_new): what must outlive
	 * a state_new holds a tag, never a struct flow_state pointer */
	struct flow_state *st;
	size_t st_cap, st_used;
	uint32_t st_free;
	uint64_t writes, folded_flows, write_errors;
	struct series **order; /* scratch of prom_write */
	size_t order_cap;
	struct snap_hook hook; /* for the snapshot's refresh (fn NULL: none) */
};

static size_t bucket(const struct prom *p, const struct skey *k)
{
	return ct_hash(k, sizeof(*k)) & (p->nbuckets - 1);
}

static struct series *find(struct prom *p, const struct skey *k)
{
	for (struct series *s = p->tab[bucket(p, k)]; s; s = s->next)
		if (!memcmp(&s->key, k, sizeof(*k)))
			return s;
	return NULL;
}

static struct series *create(struct prom *p, const struct skey *k)
{
	struct series *s = calloc(1, sizeof(*s));
	size_t b = bucket(p, k);

	if (!s)
		return NULL;
	s->key = *k;
	s->score_at = p->writes;
	s->next = p->tab[b];
	p->tab[b] = s;
	return s;
}

static void own_key(const struct flow_key *in, struct skey *out)
{
	memset(out, 0, sizeof(*out));
	ct_sanitize(in->comm, sizeof(in->comm), out->comm, sizeof(out->comm));
	memcpy(out->daddr, in->daddr, sizeof(out->daddr));
	out->dport = in->dport;
	out->family = in->family;
	out->scope = in->scope;
	out->kind = KIND_OWN;
}

static void other_key(const char *comm, struct skey *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->comm, sizeof(out->comm), "%s", comm);
	out->kind = KIND_OTHER;
}

/* where a series that was demoted sends its flows' counts */
static struct series *target(struct series *s)
{
	return s && s->fwd ? s->fwd : s;
}

static double score_now(double score, uint64_t at, uint64_t now)
{
	/* no libm in the binary: 0.9^64 is 0.001, near enough to nothing */
	if (now - at > 64)
		return 0;
	for (uint64_t i = at; i < now; i++)
		score *= DECAY;
	return score;
}

/* The "other" series of comm: its own while fewer than max_series processes
 * have one, else the one comm="other" series (which is also the "other"
 * series of a process named "other": same labels, so the same series). NULL
 * when out of memory. */
static struct series *other_of(struct prom *p, const char *comm)
{
	struct skey k;
	struct series *s;

	other_key(comm, &k);
	if ((s = find(p, &k)))
		return s;
	if (strcmp(comm, "other") && p->n_other >= p->max_series)
		return other_of(p, "other");
	if ((s = create(p, &k)) && strcmp(comm, "other"))
		p->n_other++;
	return s;
}

static struct proto_counts *proto_of(struct series *s, uint32_t proto)
{
	struct proto_counts **pp = &s->protos, *pc;

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->proto == proto)
			return *pp;
	if (proto != PROTO_REST && s->nprotos >= PROTOS_MAX)
		return proto_of(s, PROTO_REST);
	pc = calloc(1, sizeof(*pc));
	if (!pc)
		return NULL;
	pc->proto = proto;
	*pp = pc; /* appended: the order written stays the order seen */
	s->nprotos++;
	return pc;
}

/* v's totals go to its process's "other" series, v keeps only its key (a
 * key once demoted stays folded: its own series could only come back lower
 * than it was written, a counter going down). 0 or -ENOMEM. */
static int demote(struct prom *p, struct series *v)
{
	struct series *o = other_of(p, v->key.comm);
	struct proto_counts *pc, *next;

	if (!o)
		return -ENOMEM;
	for (pc = v->protos; pc; pc = pc->next) {
		struct proto_counts *to = proto_of(o, pc->proto);

		if (!to)
			return -ENOMEM;
		for (int i = 0; i < RES_MAX; i++)
			to->results[i] += pc->results[i];
	}
	for (size_t i = 0; i < LE_N; i++)
		o->lat[i] += v->lat[i];
	o->lat_n += v->lat_n;
	o->lat_sum_ns += v->lat_sum_ns;
	o->syn_rt += v->syn_rt;
	o->syn_rt_seen |= v->syn_rt_seen;
	for (pc = v->protos; pc; pc = next) {
		next = pc->next;
		free(pc);
	}
	v->protos = NULL;
	v->nprotos = 0;
	memset(v->lat, 0, sizeof(v->lat));
	v->lat_n = v->lat_sum_ns = 0;
	v->syn_rt = 0;
	v->fwd = o;
	p->n_own--;
	p->n_demoted++;
	return 0;
}

/* add what r holds beyond st (NULL: nothing handed yet) to s; with score,
 * the connects to s's score too (a write scores before it places flows) */
static int account(struct prom *p, struct series *s, const struct ct_row *r,
		   const struct flow_state *st, int score)
{
	struct proto_counts *pc = proto_of(s, r->key.proto);
	uint64_t d;

	if (!pc)
		return -ENOMEM;
	for (int i = 0; i < RES_MAX; i++)
		if (i != RES_PENDING)
			pc->results[i] += r->results[i] - (st ? st->results[i] : 0);
	/* the table's buckets are 32-bit: a difference modulo 2^32 is right
	 * as long as a flow does not take 2^32 samples between two writes */
	for (size_t i = 0; i < LE_N; i++)
		s->lat[i] += (uint32_t)(ct_lat_below(ct_more_lat(r->more), le_pow[i]) -
					(st ? st->lat[i] : 0));
	s->lat_n += r->lat_n - (st ? st->lat_n : 0);
	s->lat_sum_ns += r->lat_sum_ns - (st ? st->lat_sum_ns : 0);
	s->syn_rt += (uint32_t)(r->syn_rt - (st ? st->syn_rt : 0)); /* 32-bit, as the buckets */
	s->syn_rt_seen |= ct_row_syn_rt_known(r);
	d = r->count - (st ? st->count : 0);
	if (score) {
		s->score = score_now(s->score, s->score_at, p->writes) + (double)d;
		s->score_at = p->writes;
	}
	return 0;
}

static void state_take(struct flow_state *st, const struct ct_row *r)
{
	memcpy(st->results, r->results, sizeof(st->results));
	for (size_t i = 0; i < LE_N; i++)
		st->lat[i] = (uint32_t)ct_lat_below(ct_more_lat(r->more), le_pow[i]);
	st->lat_n = r->lat_n;
	st->lat_sum_ns = r->lat_sum_ns;
	st->syn_rt = r->syn_rt;
	st->count = r->count;
}

static struct flow_state *state_of(struct prom *p, uint32_t tag)
{
	return tag && tag <= p->st_used && p->st[tag - 1].used ? &p->st[tag - 1] : NULL;
}

/* a new state, its tag in *tag; NULL when out of memory. It may move every
 * state: pointers from state_of() before it are stale after it. */
static struct flow_state *state_new(struct prom *p, uint32_t *tag)
{
	struct flow_state *st;
	uint32_t i;

	if (p->st_free) {
		i = p->st_free - 1;
		p->st_free = p->st[i].next_free;
	} else {
		if (p->st_used == p->st_cap) {
			size_t cap = p->st_cap ? p->st_cap * 2 : 256;
			struct flow_state *n = realloc(p->st, cap * sizeof(*n));

			if (!n)
				return NULL;
			p->st = n;
			p->st_cap = cap;
		}
		i = (uint32_t)p->st_used++;
	}
	st = &p->st[i];
	memset(st, 0, sizeof(*st));
	st->used = 1;
	st->score_at = p->writes;
	*tag = i + 1;
	return st;
}

static void state_free(struct prom *p, uint32_t tag)
{
	struct flow_state *st = state_of(p, tag);

	if (!st)
		return;
	st->used = 0;
	st->next_free = p->st_free;
	p->st_free = tag;
}

/* A place for a flow seen for the first time: its key's series when there
 * is one (or, when it was demoted, where that goes), a new series of its own
 * while the cap allows, else its process's "other". NULL: out of memory. */
static struct series *place(struct prom *p, const struct flow_key *fk, int may_own)
{
	struct skey k;
	struct series *s;

	own_key(fk, &k);
	if ((s = find(p, &k)))
		return s;
	if (may_own && p->n_own < p->max_series) {
		if ((s = create(p, &k)))
			p->n_own++;
		return s;
	}
	p->folded_flows++;
	return other_of(p, k.comm);
}

static void on_evict(void *ctx, const struct ct_row *r)
{
	struct prom *p = ctx;
	struct flow_state *st;
	struct series *s;

	/* a (process, *) row holds counts its flows handed over as they were
	 * evicted: counted once already */
	if (r->key.family == CT_FAMILY_FOLDED)
		return;
	st = state_of(p, r->tag);
	s = st && st->route ? st->route : place(p, &r->key, 1);

	/* out of memory: these counts are lost, the counters stay monotonic */
	if (s)
		account(p, target(s), r, st, 1);
	state_free(p, r->tag);
}

struct prom *prom_new(struct ct_flows *t, size_t max_series)
{
	struct prom *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->flows = t;
	p->max_series = max_series;
	p->max_demoted = max_series > DEMOTE_MIN ? max_series : DEMOTE_MIN;
	p->nbuckets = 1024;
	while (p->nbuckets < 2 * max_series)
		p->nbuckets *= 2;
	p->tab = calloc(p->nbuckets, sizeof(*p->tab));
	if (!p->tab) {
		prom_free(p);
		errno = ENOMEM;
		return NULL;
	}
	flows_set_evict_cb(t, on_evict, p);
	return p;
}

static void series_free(struct series *s)
{
	struct proto_counts *pc, *next;

	for (pc = s->protos; pc; pc = next) {
		next = pc->next;
		free(pc);
	}
	free(s);
}

void prom_free(struct prom *p)
{
	if (!p)
		return;
	if (p->flows)
		flows_set_evict_cb(p->flows, NULL, NULL);
	for (size_t i = 0; p->tab && i < p->nbuckets; i++) {
		struct series *s = p->tab[i], *next;

		for (; s; s = next) {
			next = s->next;
			series_free(s);
		}
	}
	free(p->tab);
	free(p->st);
	free(p->order);
	snap_free(p->snap);
	free(p);
}

uint64_t prom_write_errors(const struct prom *p)
{
	return p ? p->write_errors : 0;
}

/* ---- placing flows: the busiest get series of their own ---- */

/* a flow to place: its state by tag (p->st may move while they are gathered) */
struct cand {
	uint32_t tag;
	const struct ct_row *r; /* the snapshot's row: the snapshot does not move */
	double score;
};

static int by_score_desc(const void *a, const void *b)
{
	double x = ((const struct cand *)a)->score, y = ((const struct cand *)b)->score;

	return x < y ? 1 : x > y ? -1 : 0;
}

static int by_score_asc(const void *a, const void *b)
{
	const struct series *x = *(struct series *const *)a, *y = *(struct series *const *)b;

	return x->score < y->score ? -1 : x->score > y->score ? 1 : 0;
}

/* own series, least busy first (scores brought to this write), in p->order */
static size_t victims(struct prom *p)
{
	size_t n = 0;

	if (p->order_cap < p->n_own) {
		struct series **o = realloc(p->order, p->n_own * sizeof(*o));

		if (!o)
			return 0;
		p->order = o;
		p->order_cap = p->n_own;
	}
	for (size_t i = 0; i < p->nbuckets; i++)
		for (struct series *s = p->tab[i]; s; s = s->next)
			if (s->key.kind == KIND_OWN && !s->fwd && n < p->n_own) {
				s->score = score_now(s->score, s->score_at, p->writes);
				s->score_at = p->writes;
				p->order[n++] = s;
			}
	qsort(p->order, n, sizeof(*p->order), by_score_asc);
	return n;
}

/*
 * Flows new since the last write, and folded flows that could earn a series
 * of their own, by score (recent connects, older ones weighing less), the
 * busiest first: each takes a free series while the cap allows; then it
 * takes the slot of the least busy own series when it is more than twice as
 * busy (the margin keeps two flows of about the same rate from taking turns),
 * which is demoted into its process's "other". Once max_demoted keys were
 * demoted, no more are: the own series then keep their slots.
 */
static int place_all(struct prom *p, struct cand *c, size_t nc)
{
	size_t nv = 0, v = 0;
	int built = 0;

	qsort(c, nc, sizeof(*c), by_score_desc);
	for (size_t i = 0; i < nc; i++) {
		struct flow_state *st = state_of(p, c[i].tag);
		struct skey k;
		struct series *s = NULL;

		own_key(&c[i].r->key, &k);
		/* a flow placed earlier in this loop made its key's series */
		if ((s = find(p, &k))) {
			st->route = s;
			continue;
		}
		if (p->n_own >= p->max_series && p->n_demoted < p->max_demoted && c[i].score > 0) {
			if (!built) {
				nv = victims(p);
				built = 1;
			}
			if (v < nv && c[i].score > 2 * p->order[v]->score + 1) {
				if (demote(p, p->order[v++]))
					return -ENOMEM;
			}
		}
		if (p->n_own < p->max_series) {
			s = create(p, &k);
			if (!s)
				return -ENOMEM;
			p->n_own++;
			s->score = c[i].score;
			st->route = s;
		} else if (!st->route) {
			p->folded_flows++;
			st->route = other_of(p, k.comm);
			if (!st->route)
				return -ENOMEM;
		}
	}
	return 0;
}

/* ---- the exposition ---- */

static void put_escaped(FILE *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', out);
		fputc(*v, out);
	}
}

static void labels(FILE *out, const struct series *s)
{
	char buf[CT_ADDR_STRLEN];

	/* the comm and the address are sanitized already (no control
	 * character is left), so only \ and " need escaping; sanitizing
	 * again would double every backslash */
	fputs("comm=\"", out);
	put_escaped(out, s->key.comm);
	if (s->key.kind == KIND_OTHER) {
		fputs("\",daddr=\"other\",dport=\"other\"", out);
		return;
	}
	ct_addr_scope_str(s->key.family, s->key.daddr, s->key.scope, buf, sizeof(buf));
	fputs("\",daddr=\"", out);
	put_escaped(out, buf);
	fprintf(out, "\",dport=\"%u\"", s->key.dport);
}

static void put_counts(FILE *out, const struct series *s)
{
	char buf[32];

	for (const struct proto_counts *pc = s->protos; pc; pc = pc->next)
		for (int i = 0; i < RES_MAX; i++) {
			if (i == RES_PENDING || !pc->results[i])
				continue;
			fputs("connecttop_connects_total{", out);
			labels(out, s);
			fputs(",proto=\"", out);
			put_escaped(out, pc->proto == PROTO_REST ?
						 "other" :
						 ct_proto_name(pc->proto, buf, sizeof(buf)));
			fprintf(out, "\",result=\"%s\"} %llu\n", ct_result_names[i],
				(unsigned long long)pc->results[i]);
		}
}

/* 2^k microseconds in seconds, exactly: "0.000064", "1.048576", "16.777216" */
static void le_str(int k, char *buf, size_t len)
{
	unsigned long long us = 1ULL << k;
	int n = snprintf(buf, len, "%llu.%06llu", us / 1000000, us % 1000000);

	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = 0;
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = 0;
}

static void put_hist(FILE *out, const struct series *s)
{
	char le[32];

	if (!s->lat_n)
		return;
	for (size_t i = 0; i < LE_N; i++) {
		/* le="2^k us" counts the handshakes shorter than 2^k us; one
		 * of exactly 2^k us (to the microsecond) falls in the next
		 * bound's bucket */
		le_str(le_pow[i], le, sizeof(le));
		fputs("connecttop_connect_latency_seconds_bucket{", out);
		labels(out, s);
		fprintf(out, ",le=\"%s\"} %llu\n", le, (unsigned long long)s->lat[i]);
	}
	fputs("connecttop_connect_latency_seconds_bucket{", out);
	labels(out, s);
	fprintf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)s->lat_n);
	fputs("connecttop_connect_latency_seconds_sum{", out);
	labels(out, s);
	fprintf(out, "} %.9f\n", s->lat_sum_ns / 1e9);
	fputs("connecttop_connect_latency_seconds_count{", out);
	labels(out, s);
	fprintf(out, "} %llu\n", (unsigned long long)s->lat_n);
}

/* only where counted: no series (not 0) without the tracepoint, nor for
 * flows that made no TCP connect */
static void put_syn_rt(FILE *out, const struct series *s)
{
	if (!s->syn_rt_seen)
		return;
	fputs("connecttop_syn_retransmits_total{", out);
	labels(out, s);
	fprintf(out, "} %llu\n", (unsigned long long)s->syn_rt);
}

static void each_series(struct prom *p, void (*fn)(FILE *, const struct series *), FILE *out)
{
	for (size_t i = 0; i < p->nbuckets; i++)
		for (struct series *s = p->tab[i]; s; s = s->next)
			if (!s->fwd)
				fn(out, s);
}

static void meta(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* a metric without labels: its HELP and TYPE, then its one value */
static void scalar(FILE *out, const char *name, const char *type, const char *help,
		   unsigned long long v)
{
	meta(out, name, type, help);
	fprintf(out, "%s %llu\n", name, v);
}

int prom_write_snap(struct prom *p, FILE *out, struct ct_snap *snap, const struct ct_stats *st)
{
	struct cand *c = malloc((snap->n ? snap->n : 1) * sizeof(*c));
	uint64_t pending = 0;
	size_t nc = 0;
	int rc = 0;

	if (!c)
		return -ENOMEM;
	p->writes++;
	/* each flow's state; the flows to place */
	for (size_t i = 0; i < snap->n; i++) {
		struct ct_row *r = &snap->rows[i];
		struct flow_state *fs = state_of(p, r->tag);

		pending += r->results[RES_PENDING];
		if (r->key.family == CT_FAMILY_FOLDED)
			continue; /* counted flow by flow at eviction (on_evict) */
		if (!fs) {
			fs = state_new(p, &r->tag);
			if (!fs) {
				rc = -ENOMEM;
				goto out;
			}
			/* the table's flow too: its next snapshot row, and
			 * its eviction, carry the tag */
			if (p->flows)
				flows_tag_set(p->flows, &r->key, r->tag);
		}
		fs->dcount = r->count - fs->count;
		fs->score = score_now(fs->score, fs->score_at, p->writes) + (double)fs->dcount;
		fs->score_at = p->writes;
		if (!fs->route || (fs->route->key.kind == KIND_OTHER)) {
			struct skey k;
			struct series *s;

			own_key(&r->key, &k);
			s = find(p, &k);
			if (s) /* its key's series (a demoted one: folded for good) */
				fs->route = s;
			else
				c[nc++] = (struct cand){ r->tag, r, fs->score };
		}
		if (fs->route) { /* placed flows score for their series */
			struct series *s = target(fs->route);

			s->score = score_now(s->score, s->score_at, p->writes) + (double)fs->dcount;
			s->score_at = p->writes;
		}
	}
	rc = place_all(p, c, nc);
	if (rc)
		goto out;
	/* what each flow did since the last write goes to its series */
	for (size_t i = 0; i < snap->n; i++) {
		struct ct_row *r = &snap->rows[i];
		struct flow_state *fs = state_of(p, r->tag);

		if (r->key.family == CT_FAMILY_FOLDED)
			continue;
		rc = account(p, target(fs->route), r, fs, 0);
		if (rc)
			goto out;
		state_take(fs, r);
	}

	meta(out, "connecttop_connects_total", "counter",
	     "Finished connect() calls by process, destination and result (ok, refused, timeout, unreachable, other).");
	each_series(p, put_counts, out);
	meta(out, "connecttop_connect_latency_seconds", "histogram",
	     "TCP handshake time, from SYN sent to established or failed; le=x counts handshakes shorter than x.");
	each_series(p, put_hist, out);
	meta(out, "connecttop_syn_retransmits_total", "counter",
	     "SYNs that TCP connects retransmitted before their handshake resolved (absent where the kernel has no tcp:tcp_retransmit_skb).");
	each_series(p, put_syn_rt, out);
	scalar(out, "connecttop_connects_pending", "gauge",
	       "TCP connects whose outcome is still to come.", pending);
	scalar(out, "connecttop_events_total", "counter", "connect() calls seen.", st->events);
	scalar(out, "connecttop_drops_total", "counter",
	       "Events lost (ring buffer or BPF maps full).", st->drops);
	scalar(out, "connecttop_missed_total", "counter",
	       "BPF program runs the kernel skipped because another was running on that CPU.",
	       st->missed);
	scalar(out, "connecttop_evicted_flows_total", "counter",
	       "Flows evicted from the table (--max-flows).", st->evicted);
	scalar(out, "connecttop_flows", "gauge", "Flows in the table.", st->flows);
	scalar(out, "connecttop_series", "gauge",
	       "(comm, daddr, dport) exported as series of their own (at most --prometheus-max-series).",
	       p->n_own);
	scalar(out, "connecttop_other_series", "gauge",
	       "Processes with a daddr=\"other\" series (at most --prometheus-max-series; the rest share comm=\"other\").",
	       p->n_other);
	scalar(out, "connecttop_folded_flows_total", "counter",
	       "Flows placed in a daddr=\"other\" series when they entered the table (a flow evicted and seen again counts again); demotions are not counted here.",
	       p->folded_flows);
	scalar(out, "connecttop_demoted_series_total", "counter",
	       "Series of their own folded into their process's daddr=\"other\" series to make room for a busier flow.",
	       p->n_demoted);
	scalar(out, "connecttop_prometheus_write_errors_total", "counter",
	       "Writes of the --prometheus file that failed (this file shows them once a write succeeds again).",
	       p->write_errors);
	meta(out, "connecttop_last_interval_seconds", "gauge", "Length of the last interval.");
	fprintf(out, "connecttop_last_interval_seconds %.6f\n", st->interval_s);
	if (fflush(out) || ferror(out))
		rc = -(errno ? errno : EIO);
out:
	free(c);
	return rc;
}

void prom_set_hook(struct prom *p, const struct snap_hook *h)
{
	p->hook = h ? *h : (struct snap_hook){ 0 };
}

int prom_write(struct prom *p, FILE *out, struct ct_flows *t, const struct ct_stats *st)
{
	/* brought up to date: with many flows an interval costs what changed */
	struct ct_snap *snap = p->snap =
		snap_refresh_hook(t, 0, p->snap, p->hook.fn ? &p->hook : NULL);

	if (!snap)
		return -ENOMEM;
	return prom_write_snap(p, out, snap, st);
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

/* what export_atomic's temporary name ("." NAME ".XXXXXX", in FILE's
 * directory) adds to the name and to the path */
#define TMP_NAME_EXTRA 8

int prom_check_path(const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
	size_t len = strlen(path), namelen = strlen(name);
	long name_max = NAME_MAX;

	if (!len) {
		snprintf(err, errlen,
			 "an empty file name: give the file to write, e.g. "
			 "/var/lib/prometheus/node-exporter/connecttop.prom");
		return -EINVAL;
	}
	if (!namelen) {
		snprintf(
			err, errlen,
			"'%.80s' ends in '/': give a file in that directory, e.g. %.80sconnecttop.prom",
			path, path);
		return -EINVAL;
	}
	/* the directory's file system may allow fewer than NAME_MAX bytes */
	if (slash) {
		char *dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
		long n = dir ? pathconf(dir, _PC_NAME_MAX) : -1;

		free(dir);
		if (n > 0 && n < name_max)
			name_max = n;
	} else {
		long n = pathconf(".", _PC_NAME_MAX);

		if (n > 0 && n < name_max)
			name_max = n;
	}
	if (namelen + TMP_NAME_EXTRA > (size_t)name_max) {
		snprintf(err, errlen,
			 "the file name '%.32s...' is %zu bytes, at most %ld are possible: each "
			 "write goes to a temporary file .NAME.XXXXXX first, and a name in that "
			 "directory may have %ld bytes",
			 name, namelen, name_max - TMP_NAME_EXTRA, name_max);
		return -ENAMETOOLONG;
	}
	if (len + TMP_NAME_EXTRA >= PATH_MAX) {
		snprintf(err, errlen,
			 "the path '%.32s...' is %zu bytes, at most %d are possible: each write "
			 "goes to a temporary file .NAME.XXXXXX next to it first, and a path may "
			 "have %d bytes (PATH_MAX, its final NUL included)",
			 path, len, PATH_MAX - TMP_NAME_EXTRA - 1, PATH_MAX);
		return -ENAMETOOLONG;
	}
	return 0;
}

int prom_write_file(struct prom *p, const char *path, struct ct_flows *t, const struct ct_stats *st)
{
	struct file_ctx c = { p, t, st };
	int rc = export_atomic(path, write_cb, &c);

	if (rc)
		p->write_errors++;
	return rc;
}
