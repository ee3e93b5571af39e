// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The table of resolved names (dnstab.c): each process sees its own name
 * for a shared address, host-wide answers are marked, nothing is invented,
 * the oldest answer goes first when full (a refresh makes it young), long
 * names are refused and counted, and a churn run keeps the hash consistent.
 */
#include <sys/socket.h>

#include "check.h"
#include "dnstab.h"

static const uint8_t *v4(uint32_t a)
{
	static uint8_t b[8][16];
	static unsigned i;
	uint8_t *p = b[i++ % 8];

	p[0] = (uint8_t)(a >> 24);
	p[1] = (uint8_t)(a >> 16);
	p[2] = (uint8_t)(a >> 8);
	p[3] = (uint8_t)a;
	return p;
}

int main(void)
{
	struct ct_dnstab *t = ct_dnstab_new(3);
	uint8_t six[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	char longname[300];
	const char *n;
	int hw;

	ck(ct_dnstab_new(0) == NULL, "no zero-sized table", "%s", "");
	ct_dnstab_add(t, 100, AF_INET, v4(0x0a000001), "a.test");
	ct_dnstab_add(t, 200, AF_INET, v4(0x0a000001), "b.test");
	n = ct_dnstab_get(t, 100, AF_INET, v4(0x0a000001), &hw);
	ck(n && !strcmp(n, "a.test") && !hw, "pid 100 sees its name", "got %s", n ? n : "NULL");
	n = ct_dnstab_get(t, 200, AF_INET, v4(0x0a000001), &hw);
	ck(n && !strcmp(n, "b.test") && !hw, "pid 200 sees its name", "got %s", n ? n : "NULL");
	n = ct_dnstab_get(t, 300, AF_INET, v4(0x0a000001), &hw);
	ck(!n, "no name invented for pid 300", "got %s", n ? n : "NULL");
	n = ct_dnstab_get(t, 100, AF_INET, v4(0x0a000002), &hw);
	ck(!n, "no name for an unresolved address", "got %s", n ? n : "NULL");

	ct_dnstab_add(t, 0, AF_INET6, six, "host.test");
	n = ct_dnstab_get(t, 300, AF_INET6, six, &hw);
	ck(n && !strcmp(n, "host.test") && hw, "host-wide fallback marked", "got %s hw %d",
	   n ? n : "NULL", hw);
	n = ct_dnstab_get(t, 300, AF_INET, six, &hw);
	ck(!n, "family is part of the key", "got %s", n ? n : "NULL");

	/* full (3): refresh pid 100's entry, then add: pid 200's goes */
	ct_dnstab_add(t, 100, AF_INET, v4(0x0a000001), "a2.test");
	ct_dnstab_add(t, 400, AF_INET, v4(0x0a000009), "d.test");
	n = ct_dnstab_get(t, 200, AF_INET, v4(0x0a000001), &hw);
	ck(!n, "oldest evicted", "got %s", n ? n : "NULL");
	n = ct_dnstab_get(t, 100, AF_INET, v4(0x0a000001), &hw);
	ck(n && !strcmp(n, "a2.test"), "refreshed kept, new name", "got %s", n ? n : "NULL");
	ck(ct_dnstab_stats(t).evicted == 1, "eviction counted", "got %llu",
	   (unsigned long long)ct_dnstab_stats(t).evicted);

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ct_dnstab_add(t, 1, AF_INET, v4(1), longname);
	ck(ct_dnstab_stats(t).too_long == 1 && !ct_dnstab_get(t, 1, AF_INET, v4(1), &hw),
	   "long name refused and counted", "too_long %llu",
	   (unsigned long long)ct_dnstab_stats(t).too_long);
	ct_dnstab_free(t);

	/* churn: 64 entries, 100000 adds over 500 keys; every key found
	 * afterwards is the last name given to it */
	t = ct_dnstab_new(64);
	{
		char last[500][16] = { { 0 } }, nm_[16];
		int bad = 0, found = 0;
		uint32_t r = 7;

		for (int i = 0; i < 100000; i++) {
			r = r * 1103515245u + 12345u;
			unsigned k = (r >> 8) % 500;

			snprintf(nm_, sizeof(nm_), "n%d", i);
			ct_dnstab_add(t, k % 7, AF_INET, v4(k), nm_);
			memcpy(last[k], nm_, sizeof(nm_));
		}
		for (unsigned k = 0; k < 500; k++) {
			n = ct_dnstab_get(t, k % 7, AF_INET, v4(k), &hw);
			if (n) {
				found++;
				if (strcmp(n, last[k]) || (hw && k % 7))
					bad++;
			}
		}
		/* pid 0 keys are host-wide by definition; others are own */
		ck(!bad, "churn: names are the latest", "%d stale", bad);
		ck(found >= 64 - 1 && found <= 64 + 500 / 7, "churn: table holds cap entries",
		   "found %d", found);
	}
	ct_dnstab_free(t);
	return ck_done();
}
