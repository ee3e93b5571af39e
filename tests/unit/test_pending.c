// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pending.c: the start times of a flow's connects in flight. Fixed cases
 * (order, duplicates, a value not there, empty), then a long random run
 * against a plain array: the oldest and the count after every step.
 */
#include "check.h"
#include "pending.h"

static void test_fixed(void)
{
	struct pending_starts *p = NULL;

	CHECK_U("empty.oldest", 0, pending_oldest(p));
	CHECK_U("empty.count", 0, pending_count(p));
	pending_del(&p, 5); /* nothing to take: nothing happens */
	CHECK_U("empty_del.count", 0, pending_count(p));
	CHECK_I("add.rc", 0, pending_add(&p, 30));
	pending_add(&p, 10);
	pending_add(&p, 20);
	pending_add(&p, 10);
	CHECK_U("add.count", 4, pending_count(p));
	CHECK_U("add.oldest", 10, pending_oldest(p));
	pending_del(&p, 10);
	CHECK_U("dup_del.oldest", 10, pending_oldest(p)); /* its twin stays */
	pending_del(&p, 10);
	CHECK_U("del.oldest", 20, pending_oldest(p));
	pending_del(&p, 25); /* not there: the oldest goes, the count follows */
	CHECK_U("absent_del.count", 1, pending_count(p));
	CHECK_U("absent_del.oldest", 30, pending_oldest(p));
	pending_del(&p, 30);
	CHECK("emptied.freed", p == NULL);
	pending_free(&p); /* NULL is fine */
}

static uint64_t brute_min(const uint64_t *v, size_t n)
{
	uint64_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (!m || v[i] < m)
			m = v[i];
	return m;
}

static void test_random(void)
{
	enum { N = 3000 };
	static uint64_t ref[N];
	struct pending_starts *p = NULL;
	size_t n = 0;
	uint32_t x = 12345;
	uint64_t now = 1000;
	int bad = 0;

	for (int step = 0; step < 200000; step++) {
		int op;

		x = x * 1103515245u + 12345u;
		op = (x >> 16) % 100;
		/* phases that fill and phases that drain, so that the set
		 * grows, moves within its buffer and empties again */
		if ((step / 5000) % 2 == 0 ? op < 60 : op < 35) {
			uint64_t v = now - (x >> 8) % 50; /* nearly in order */

			if (n == N)
				continue;
			pending_add(&p, v);
			ref[n++] = v;
		} else if (n) {
			/* oldest first, newest first, anywhere, or absent */
			size_t i;
			uint64_t v;

			if (op % 4 == 0) {
				v = brute_min(ref, n);
			} else if (op % 4 == 1) {
				v = ref[n - 1];
			} else if (op % 4 == 2) {
				v = ref[(x >> 4) % n];
			} else {
				v = 1; /* never added: the oldest goes */
			}
			pending_del(&p, v);
			for (i = 0; i < n && ref[i] != v; i++)
				;
			if (i == n) {
				v = brute_min(ref, n);
				for (i = 0; ref[i] != v; i++)
					;
			}
			ref[i] = ref[--n];
		}
		now += 7;
		if ((pending_count(p) != n || pending_oldest(p) != brute_min(ref, n)) && bad++ < 3)
			ck(0, nm("random.step_%d", step), "count %u oldest %llu, expected %zu %llu",
			   pending_count(p), (unsigned long long)pending_oldest(p), n,
			   (unsigned long long)brute_min(ref, n));
	}
	CHECK_I("random.all_steps_agree", 0, bad);
	pending_free(&p);
}

int main(void)
{
	test_fixed();
	test_random();
	return ck_done();
}
