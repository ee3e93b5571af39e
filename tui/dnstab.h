/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The names processes resolved (dnstab.c): a bounded table of
 * (pid, address) -> the name asked for. pid 0 holds answers no process
 * could be credited with (a local resolver such as systemd-resolved or
 * nscd asked for them): those are host-wide and say so. A lookup tries
 * the process's own answer first, then the host-wide one; it never
 * guesses. The table holds at most cap entries; when full, the entry
 * added or refreshed longest ago goes (FIFO on last answer) and is
 * counted in evicted. Names longer than CT_DNSTAB_NAME - 1 bytes are not
 * kept (never shown cut short) and are counted in too_long. No clock,
 * no I/O.
 */
#ifndef CT_DNSTAB_H
#define CT_DNSTAB_H

#include <stdint.h>

#define CT_DNSTAB_DEFAULT 4096
#define CT_DNSTAB_NAME 256

struct ct_dnstab;

struct ct_dnstab_stats {
	uint64_t added;
	uint64_t evicted;
	uint64_t too_long;
};

struct ct_dnstab *ct_dnstab_new(unsigned cap);
void ct_dnstab_free(struct ct_dnstab *t);
/* family AF_INET (4 bytes of addr) or AF_INET6 (16) */
void ct_dnstab_add(struct ct_dnstab *t, uint32_t pid, int family, const uint8_t *addr,
		   const char *name);
/* the name pid resolved addr to, else the host-wide one (*hostwide = 1),
 * else NULL */
const char *ct_dnstab_get(const struct ct_dnstab *t, uint32_t pid, int family, const uint8_t *addr,
			  int *hostwide);
struct ct_dnstab_stats ct_dnstab_stats(const struct ct_dnstab *t);

#endif
