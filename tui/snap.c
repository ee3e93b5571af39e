// SPDX-License-Identifier: GPL-2.0-or-later
#include "snap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "flows_table.h"

#define HUGE_PAGE (2u << 20)
/* room a full copy leaves for flows to come: a quarter more rows, half
 * more pids, and a little for a small table */
#define ROOM_ROWS(n) ((n) / 4 + 64)
#define ROOM_PIDS(n) ((n) / 2 + 1024)
/* past this many rewritten rows, old_rows are not kept: grouped rows are
 * then derived anew, which costs less than so many differences */
#define OLD_ROWS_MAX(n) ((n) / 4 + 64)
/* tables of at least this many rows get their bound's room at once */
#define SNAP_BOUND_MIN 65536
/* cold flows with fewer connects than this in their one interval share a
 * more (snap_write_row) */
#define SNAP_COLD_CUR 256

/* Rows for a snapshot: a large table goes on 2 MiB pages where the kernel
 * has transparent huge pages on request (Debian's default: madvise), so
 * that walking it costs no TLB miss per row. free() releases it.
 * Figure (viewbench -O2, 2 cores, a fresh full copy, which the first
 * refresh, a growing table and batch mode take): 100,000 flows 10-15 ms
 * with it, 148-194 ms without (some 77 MB faulted in 4K pages); 32,768
 * flows 3.5 ms with, 3.7 ms without. */
static void *rows_alloc(size_t n, size_t size)
{
	size_t bytes = n * size, huge = HUGE_PAGE;
	void *p;

	if (bytes < huge)
		return malloc(bytes);
	bytes = (bytes + huge - 1) & ~(huge - 1);
	if (posix_memalign(&p, huge, bytes))
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, bytes, MADV_HUGEPAGE); /* advice only: without it, 4K pages */
#endif
	return p;
}

/* The pid pool of s has no room left for `need` more: make it twice as
 * large and point the rows' pids into the new one (the rows written so far:
 * those with room; rows for flows to come have none). -1 when out of
 * memory. */
static int snap_pool_grow(const struct ct_flows *t, struct ct_snap *s, size_t need)
{
	size_t cap = s->pids_cap * 2;
	uint32_t *pool;

	while (cap < s->pids_used + need)
		cap *= 2;
	pool = realloc(s->pid_pool, cap * sizeof(*pool));
	if (!pool)
		return -1;
	s->pid_pool = pool;
	s->pids_cap = cap;
	for (size_t row = 0; row < t->n; row++)
		if (s->pid_room[row])
			s->more[row].pids = pool + s->pid_off[row];
	return 0;
}

/* elements of a pool chunk: a histogram chunk is 832 KiB */
#define SNAP_CHUNK 4096

static void *pool_at(const struct snap_pool *p, size_t i)
{
	return (char *)p->chunk[i / SNAP_CHUNK] + (i % SNAP_CHUNK) * p->elem;
}

/* a new element of p: its index + 1, 0 when out of memory */
static uint32_t pool_take(struct snap_pool *p)
{
	if (p->used == p->nchunk * SNAP_CHUNK) {
		void **c = realloc(p->chunk, (p->nchunk + 1) * sizeof(*c));

		if (!c)
			return 0;
		p->chunk = c;
		if (!(c[p->nchunk] = malloc(SNAP_CHUNK * p->elem)))
			return 0;
		p->nchunk++;
	}
	return (uint32_t)++p->used;
}

static void pool_free(struct snap_pool *p)
{
	for (size_t i = 0; i < p->nchunk; i++)
		free(p->chunk[i]);
	free(p->chunk);
	memset(p, 0, sizeof(*p));
}

/* src (size bytes) into row's place in pool p (slot: the row's in
 * the slot array), which it takes the first time: the copy, NULL when out
 * of memory */
static const void *pool_copy(struct snap_pool *p, uint32_t *slot, const void *src, size_t size)
{
	void *dst;

	if (!*slot && !(*slot = pool_take(p)))
		return NULL;
	dst = pool_at(p, *slot - 1);
	memcpy(dst, src, size);
	return dst;
}

/* A cold flow's more (one pid or none, no name, error, latency, connect in
 * flight or history but its connects in one interval, hist_cur of them)
 * is one of the snapshot's shared ones: at a million flows, 88 MB less. */
static int more_is_cold(const struct ct_flow *f, const struct ct_row_more *m)
{
	static const struct ct_errcount no_errs[CT_FLOW_ERRS];

	return !m->lat && !m->hist_ring && m->hist_cur < SNAP_COLD_CUR && !m->folded && !m->qname &&
	       !m->abandon_max_ns && !m->pending_since_ns &&
	       !memcmp(m->errs, no_errs, sizeof(no_errs)) &&
	       (!f->npids ||
		(f->npids == 1 && (!f->ext || !f->ext->pidcap) && f->pid_inline[0] == f->pid));
}

/* the shared mores of cold flows: [pid_is_row][hist_cur] */
static int snap_cold_init(struct ct_snap *s)
{
	if (s->cold)
		return 0;
	s->cold = calloc(2 * SNAP_COLD_CUR, sizeof(*s->cold));
	if (!s->cold)
		return -1;
	for (uint32_t i = 0; i < 2 * SNAP_COLD_CUR; i++) {
		s->cold[i].pid_is_row = i / SNAP_COLD_CUR;
		s->cold[i].hist_cur = i % SNAP_COLD_CUR;
	}
	return 0;
}

/* write the row `row` of s with its pids: -1 when out of memory */
static int snap_write_row(const struct ct_flows *t, struct ct_snap *s, size_t row)
{
	const struct ct_flow *f = flows_of_id(t, t->rows[row].id);
	struct ct_row *r = &s->rows[row];
	struct ct_row_more *m = &s->more[row], c;

	flows_to_row(t, f, r, &c, s->interval_s);
	if (more_is_cold(f, &c)) {
		r->more = &s->cold[(f->npids ? SNAP_COLD_CUR : 0) + c.hist_cur];
		return 0;
	}
	*m = c;
	r->more = m;
	if (f->npids > s->pid_room[row]) {
		/* a new place with room to grow: a flow's pids only grow */
		size_t room = f->npids < 2 ? 2 : 2 * (size_t)f->npids;

		if (room > CT_MAX_PIDS)
			room = CT_MAX_PIDS;
		if (s->pids_used + room > s->pids_cap && snap_pool_grow(t, s, room))
			return -1;
		s->pid_off[row] = (uint32_t)s->pids_used;
		s->pid_room[row] = (uint32_t)room;
		s->pids_used += room;
	}
	m->pids = s->pid_pool + s->pid_off[row];
	flows_pids(f, s->pid_pool + s->pid_off[row]);
	/* what the more points at in the flow gets a copy of its own */
	for (; s->slots_n <= row; s->slots_n++)
		s->lat_slot[s->slots_n] = s->ring_slot[s->slots_n] = 0;
	if (m->lat &&
	    !(m->lat = pool_copy(&s->lat_pool, &s->lat_slot[row], m->lat, sizeof(*m->lat))))
		return -1;
	if (m->hist_ring && !(m->hist_ring = pool_copy(&s->ring_pool, &s->ring_slot[row],
						       m->hist_ring, CT_RING * sizeof(uint32_t))))
		return -1;
	return 0;
}

/* the refresh's hook, every `every` steps (i: the step) */
static void snap_hook_at(const struct ct_snap *s, size_t i, size_t every)
{
	if (s->hook && i && !(i % every))
		s->hook->fn(s->hook->ctx);
}

/* Incremental refresh. Figure (viewbench -O2, 2 cores): 100,000 flows with
 * 1% of them active, a refresh 0.2-0.3 ms, against 5.1 ms copying every
 * flow (10% active: 2.1-3.0 against 5.1 ms); 32,768 flows 0.06 against
 * 1.5 ms. A refresh is this plus deriving the rows (1-2 ms at 100,000).
 *
 * Bring s, taken from t earlier, up to date: rewrite the rows changed
 * after it, and when an interval ended since, those with connects in its
 * last two intervals (what they show as the last complete one changes).
 * -1 when s has no room for it. */
static int snap_catch_up(const struct ct_flows *t, struct ct_snap *s)
{
	int ticked = t->epoch != s->epoch;
	uint32_t *todo = s->todo;
	size_t n = 0;

	for (size_t row = 0; row < t->n; row++) {
		const struct flow_row *fr = &t->rows[row];

		if (flow_row_after(fr->clock, s->clock) ||
		    (ticked && flow_row_after(fr->epoch + 2, s->epoch)))
			todo[n++] = (uint32_t)row;
		/* a look at a row costs some 1/16 of a write */
		snap_hook_at(s, row, 16 * SNAP_HOOK_ROWS);
	}
	s->ntodo = n;
	/* what the rows held, for grouped views (not worth it when most change) */
	s->has_old = s->keep_old && n <= OLD_ROWS_MAX(t->n);
	if (s->has_old && s->old_cap < n) {
		size_t cap = n + n / 2 + 64;

		free(s->old_rows);
		free(s->old_more);
		s->old_rows = malloc(cap * sizeof(*s->old_rows));
		s->old_more = malloc(cap * sizeof(*s->old_more));
		s->old_cap = s->old_rows && s->old_more ? cap : 0;
		s->has_old = s->old_cap > 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (s->has_old) {
			if (todo[i] < s->n) {
				struct ct_more_buf *o = &s->old_more[i];

				s->old_rows[i] = s->rows[todo[i]];
				o->m = *s->rows[todo[i]].more;
				if (o->m.lat) {
					o->lat = *o->m.lat;
					o->m.lat = &o->lat;
				}
				if (o->m.hist_ring) {
					memcpy(o->hist_ring, o->m.hist_ring, sizeof(o->hist_ring));
					o->m.hist_ring = o->hist_ring;
				}
			} else {
				s->old_rows[i].nflows = 0;
			}
		}
		if (snap_write_row(t, s, todo[i]))
			return -1;
		snap_hook_at(s, i + 1, SNAP_HOOK_ROWS);
	}
	return 0;
}

/* copy every flow into s; room: leave room to update s later */
static int snap_fill(const struct ct_flows *t, struct ct_snap *s, int room)
{
	size_t bound = t->max + t->max_folded, rows = t->n, pids = t->pids_total;

	if (room) {
		rows += ROOM_ROWS(rows);
		if (rows > bound)
			rows = bound;
		pids += ROOM_PIDS(pids);
	}
	if (rows < t->n || !rows)
		rows = t->n ? t->n : 1;
	if (s->rows_cap < rows || !s->rows) {
		free(s->rows);
		free(s->more);
		free(s->pid_off);
		free(s->pid_room);
		free(s->todo);
		free(s->lat_slot);
		free(s->ring_slot);
		s->rows = NULL;
		s->more = NULL;
		/* A snapshot to be refreshed gets room for the table's bound
		 * at once: its pages are faulted in only as rows are written,
		 * and a growing table is never copied again into fresh pages
		 * (which the kernel must clear: 39 % of the time at 300k new
		 * flows/s went there). Without that much address space, the
		 * room above. */
		if (room && bound >= SNAP_BOUND_MIN) {
			s->rows = rows_alloc(bound, sizeof(*s->rows));
			s->more = rows_alloc(bound, sizeof(*s->more));
			if (s->rows && s->more) {
				rows = bound;
			} else {
				free(s->rows);
				free(s->more);
				s->rows = NULL;
				s->more = NULL;
			}
		}
		s->rows_cap = rows;
		if (!s->rows) {
			s->rows = rows_alloc(rows, sizeof(*s->rows));
			s->more = rows_alloc(rows, sizeof(*s->more));
		}
		s->pid_off = malloc(rows * sizeof(*s->pid_off));
		s->pid_room = malloc(rows * sizeof(*s->pid_room));
		s->todo = malloc(rows * sizeof(*s->todo));
		s->lat_slot = malloc(rows * sizeof(*s->lat_slot));
		s->ring_slot = malloc(rows * sizeof(*s->ring_slot));
	}
	if (s->pids_cap < pids || !s->pid_pool) {
		free(s->pid_pool);
		s->pids_cap = pids ? pids : 1;
		s->pid_pool = malloc(s->pids_cap * sizeof(*s->pid_pool));
	}
	if (!s->rows || !s->more || !s->pid_pool || !s->pid_off || !s->pid_room || !s->todo ||
	    !s->lat_slot || !s->ring_slot || snap_cold_init(s))
		return -1;
	s->pids_used = 0;
	/* the pools are given out again from their start */
	s->slots_n = 0;
	s->lat_pool.used = s->ring_pool.used = 0;
	s->lat_pool.elem = sizeof(struct ct_lat);
	s->ring_pool.elem = CT_RING * sizeof(uint32_t);
	for (size_t i = 0; i < t->n; i++) {
		s->pid_off[i] = (uint32_t)s->pids_used;
		s->pid_room[i] = flows_of_id(t, t->rows[i].id)->npids;
		s->pids_used += s->pid_room[i];
	}
	/* rows for flows to come have no pids yet */
	memset(s->pid_room + t->n, 0, (s->rows_cap - t->n) * sizeof(*s->pid_room));
	for (size_t i = 0; i < t->n; i++) {
		if (snap_write_row(t, s, i)) /* out of memory for the pools */
			return -1;
		snap_hook_at(s, i + 1, SNAP_HOOK_ROWS);
	}
	return 0;
}

struct ct_snap *snap_refresh_hook(struct ct_flows *t, uint64_t now_ns, struct ct_snap *s,
				  const struct snap_hook *h)
{
	int reuse = s != NULL;

	if (!s && !(s = calloc(1, sizeof(*s))))
		return NULL;
	s->hook = h;
	s->taken_ns = now_ns;
	s->interval_s = t->last_interval_ns / 1e9;
	s->has_old = 0;
	s->full = !(reuse && s->table_id == t->id && s->gen == t->gen && s->rows &&
		    s->rows_cap >= t->n && s->epoch <= t->epoch && !snap_catch_up(t, s));
	if (s->full && snap_fill(t, s, reuse)) {
		snap_free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->n = t->n;
	s->epoch = t->epoch;
	s->table_id = t->id;
	s->gen = t->gen;
	s->prev_clock = s->full ? 0 : s->clock;
	s->clock = t->clock++;
	s->hook = NULL;
	return s;
}

struct ct_snap *snap_refresh(struct ct_flows *t, uint64_t now_ns, struct ct_snap *s)
{
	return snap_refresh_hook(t, now_ns, s, NULL);
}

struct ct_snap *snap_new(struct ct_flows *t, uint64_t now_ns)
{
	return snap_refresh(t, now_ns, NULL);
}

void snap_free(struct ct_snap *s)
{
	if (!s)
		return;
	free(s->rows);
	free(s->more);
	free(s->pid_pool);
	free(s->pid_off);
	free(s->pid_room);
	free(s->todo);
	free(s->old_rows);
	free(s->old_more);
	free(s->lat_slot);
	free(s->ring_slot);
	pool_free(&s->lat_pool);
	pool_free(&s->ring_pool);
	free(s->cold);
	free(s);
}
