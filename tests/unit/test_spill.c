// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spill.c: the records kept aside while the flow table is held. Order kept
 * across chunks and feeds, the memory bound (room, refusals counted), and
 * the queue reused after a feed.
 */
#include <errno.h>

#include "check.h"
#include "spill.h"

/* record i: i % 300 + 1 bytes, each byte (i + j) & 0xff */
static size_t rec_make(unsigned i, unsigned char *buf)
{
	size_t n = i % 300 + 1;

	for (size_t j = 0; j < n; j++)
		buf[j] = (unsigned char)(i + j);
	return n;
}

struct fed {
	unsigned next; /* the record expected next */
	unsigned bad;  /* records out of order or with wrong bytes */
	const char *first_bad;
};

static void on_rec(void *ctx, const void *data, size_t size)
{
	struct fed *f = ctx;
	unsigned char want[512];
	size_t n = rec_make(f->next, want);

	if (n != size || memcmp(want, data, n))
		f->bad++;
	f->next++;
}

static void test_order(void)
{
	/* some 40 chunks of 256 KiB: records cross no chunk, order kept */
	struct ct_spill *q = spill_new(64u << 20);
	unsigned char buf[512];
	struct fed f = { 0 };
	unsigned n = 60000, pushed = 0;

	for (unsigned i = 0; i < n; i++)
		pushed += !spill_push(q, buf, rec_make(i, buf));
	CHECK_U("order.pushed", n, pushed);
	CHECK_U("order.len", n, spill_len(q));
	spill_feed(q, on_rec, &f);
	CHECK_U("order.fed", n, f.next);
	CHECK_U("order.in_order", 0, f.bad);
	CHECK_U("order.empty", 0, spill_len(q));
	/* used again after a feed: from record n on, in order */
	for (unsigned i = n; i < n + 5000; i++)
		spill_push(q, buf, rec_make(i, buf));
	spill_feed(q, on_rec, &f);
	CHECK_U("order.again_fed", n + 5000, f.next);
	CHECK_U("order.again_in_order", 0, f.bad);
	CHECK_U("order.refused", 0, spill_refused(q));
	CHECK_U("order.pushed_total", n + 5000, spill_pushed(q));
	spill_free(q);
}

static void test_bound(void)
{
	/* records of 100 bytes take 112 (8 of header, rounded up to 8) */
	struct ct_spill *q = spill_new(112 * 1000);
	unsigned char buf[100] = { 0 };
	unsigned ok = 0, nospc = 0;

	CHECK_U("bound.room", 1000, spill_room(q, 100));
	CHECK_U("bound.room_small", 1000 * 112 / 16, spill_room(q, 1));
	for (unsigned i = 0; i < 1200; i++) {
		int rc = spill_push(q, buf, sizeof(buf));

		ok += !rc;
		nospc += rc == -ENOSPC;
	}
	CHECK_U("bound.kept", 1000, ok);
	CHECK_U("bound.refused_enospc", 200, nospc);
	CHECK_U("bound.refused_counted", 200, spill_refused(q));
	CHECK_U("bound.no_room", 0, spill_room(q, 100));
	CHECK_U("bound.len", 1000, spill_len(q));
	CHECK_I("bound.small_refused_too", -ENOSPC, spill_push(q, buf, 1));
	CHECK_U("bound.refused_counted_small", 201, spill_refused(q));
	spill_free(q);
}

/* records whose number says their place: a feed after pushes past the
 * bound keeps the first ones, in order, and the room comes back */
static void on_num(void *ctx, const void *data, size_t size)
{
	struct fed *f = ctx;
	unsigned v;

	if (size != sizeof(v)) {
		f->bad++;
		return;
	}
	memcpy(&v, data, sizeof(v));
	if (v != f->next)
		f->bad++;
	f->next++;
}

static void test_bound_feed(void)
{
	/* 4-byte records take 16 */
	struct ct_spill *q = spill_new(16 * 500);
	struct fed f = { 0 };

	for (unsigned v = 0; v < 700; v++)
		spill_push(q, &v, sizeof(v));
	CHECK_U("bound_feed.refused", 200, spill_refused(q));
	spill_feed(q, on_num, &f);
	CHECK_U("bound_feed.fed_first", 500, f.next);
	CHECK_U("bound_feed.in_order", 0, f.bad);
	CHECK_U("bound_feed.room_back", 500, spill_room(q, sizeof(unsigned)));
	f.next = 1000;
	for (unsigned v = 1000; v < 1500; v++)
		spill_push(q, &v, sizeof(v));
	CHECK_U("bound_feed.refused_after", 200, spill_refused(q));
	spill_feed(q, on_num, &f);
	CHECK_U("bound_feed.fed_again", 1500, f.next);
	CHECK_U("bound_feed.in_order_again", 0, f.bad);
	spill_free(q);
}

/* fed in steps with records pushed between them (as app_release reads
 * the ring buffer on): every record once, in the order pushed, across
 * chunks, and the queue empty at the end */
static void test_feed_some(void)
{
	struct ct_spill *q = spill_new(8u << 20);
	unsigned char buf[512];
	struct fed f = { 0 };
	unsigned next = 0, steps = 0;
	size_t fed;

	for (; next < 10000; next++)
		spill_push(q, buf, rec_make(next, buf));
	fed = spill_feed_some(q, on_rec, &f, 4096);
	CHECK_U("feed_some.step", 4096, fed);
	CHECK_U("feed_some.left", 10000 - 4096, spill_len(q));
	while (spill_len(q)) {
		/* 3000 more after each of the first 5 steps */
		if (steps++ < 5)
			for (unsigned k = 0; k < 3000; k++, next++)
				spill_push(q, buf, rec_make(next, buf));
		spill_feed_some(q, on_rec, &f, 4096);
	}
	CHECK_U("feed_some.all_fed", 25000, f.next);
	CHECK_U("feed_some.in_order", 0, f.bad);
	CHECK_U("feed_some.nothing_more", 0, spill_feed_some(q, on_rec, &f, 4096));
	/* and again from empty */
	for (unsigned k = 0; k < 100; k++, next++)
		spill_push(q, buf, rec_make(next, buf));
	spill_feed(q, on_rec, &f);
	CHECK_U("feed_some.again", 25100, f.next);
	CHECK_U("feed_some.again_in_order", 0, f.bad);
	spill_free(q);
}

int main(void)
{
	test_order();
	test_bound();
	test_bound_feed();
	test_feed_some();
	spill_free(NULL);
	return ck_done();
}
