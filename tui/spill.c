// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The records kept aside while the flow table is held (spill.h): a list of
 * chunks, each filled from its start, read from the first.
 */
#include "spill.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* 256 KiB chunks: some 2,300 records of 112 bytes each */
#define SPILL_CHUNK (256u << 10)
#define SPILL_HDR 8u

struct spill_chunk {
	struct spill_chunk *next;
	size_t used, cap; /* bytes of data[] written, and its size */
	unsigned char data[];
};

struct ct_spill {
	struct spill_chunk *head, *tail; /* read from head, written at tail */
	size_t head_off;		 /* bytes of head read */
	size_t bytes, max_bytes;	 /* of records queued (with headers) */
	size_t n;
	uint64_t refused, pushed;
};

static size_t rec_bytes(size_t size)
{
	return (SPILL_HDR + size + 7) & ~(size_t)7;
}

struct ct_spill *spill_new(size_t max_bytes)
{
	struct ct_spill *q = calloc(1, sizeof(*q));

	if (q)
		q->max_bytes = max_bytes;
	return q;
}

void spill_free(struct ct_spill *q)
{
	if (!q)
		return;
	while (q->head) {
		struct spill_chunk *c = q->head;

		q->head = c->next;
		free(c);
	}
	free(q);
}

size_t spill_room(const struct ct_spill *q, size_t size)
{
	return q->bytes >= q->max_bytes ? 0 : (q->max_bytes - q->bytes) / rec_bytes(size);
}

int spill_push(struct ct_spill *q, const void *data, size_t size)
{
	size_t need = rec_bytes(size);
	struct spill_chunk *c = q->tail;
	uint32_t len = (uint32_t)size;

	if (size > UINT32_MAX || q->bytes + need > q->max_bytes) {
		q->refused++;
		return -ENOSPC;
	}
	if (!c || c->cap - c->used < need) {
		size_t cap = need > SPILL_CHUNK ? need : SPILL_CHUNK;

		struct spill_chunk *nc = malloc(sizeof(*nc) + cap);

		if (!nc) {
			q->refused++;
			return -ENOMEM;
		}
		nc->next = NULL;
		nc->used = 0;
		nc->cap = cap;
		if (c)
			c->next = nc;
		else
			q->head = nc;
		q->tail = c = nc;
	}
	memcpy(c->data + c->used, &len, sizeof(len));
	memcpy(c->data + c->used + SPILL_HDR, data, size);
	c->used += need;
	q->bytes += need;
	q->n++;
	q->pushed++;
	return 0;
}

size_t spill_feed_some(struct ct_spill *q, spill_fn fn, void *ctx, size_t max)
{
	size_t fed = 0;

	while (q->n && fed < max) {
		struct spill_chunk *c = q->head;
		uint32_t len;

		if (q->head_off == c->used) {
			/* read to its end: the next one (there is one: n > 0) */
			q->head = c->next;
			q->head_off = 0;
			free(c);
			continue;
		}
		memcpy(&len, c->data + q->head_off, sizeof(len));
		fn(ctx, c->data + q->head_off + SPILL_HDR, len);
		q->head_off += rec_bytes(len);
		q->bytes -= rec_bytes(len);
		q->n--;
		fed++;
	}
	/* empty: the last chunk is kept for the next records, the others
	 * are gone (no record of it is handed out any more) */
	if (!q->n && q->head) {
		while (q->head != q->tail) {
			struct spill_chunk *c = q->head;

			q->head = c->next;
			free(c);
		}
		q->head->used = q->head_off = 0;
	}
	return fed;
}

void spill_feed(struct ct_spill *q, spill_fn fn, void *ctx)
{
	spill_feed_some(q, fn, ctx, SIZE_MAX);
}

size_t spill_len(const struct ct_spill *q)
{
	return q->n;
}

uint64_t spill_refused(const struct ct_spill *q)
{
	return q->refused;
}

uint64_t spill_pushed(const struct ct_spill *q)
{
	return q->pushed;
}
