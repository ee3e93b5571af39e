// SPDX-License-Identifier: GPL-2.0-or-later
/* (pid, address) -> name, bounded, oldest answer evicted first (dnstab.h) */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dnstab.h"

#define NIL UINT32_MAX

struct ent {
	uint32_t pid;
	uint8_t family;
	uint8_t used;
	uint8_t addr[16];
	uint32_t hnext;	       /* next in the hash bucket */
	uint32_t older, newer; /* the age list */
	char name[CT_DNSTAB_NAME];
};

struct ct_dnstab {
	unsigned cap, n, nbuckets;
	uint32_t oldest, newest, free_next;
	uint32_t *bucket;
	struct ent *e;
	struct ct_dnstab_stats st;
};

static uint32_t hash(uint32_t pid, int family, const uint8_t *addr)
{
	uint32_t h = 2166136261u ^ pid ^ (uint32_t)family << 24;
	size_t n = family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < n; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h;
}

struct ct_dnstab *ct_dnstab_new(unsigned cap)
{
	struct ct_dnstab *t;

	if (!cap)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cap = cap;
	for (t->nbuckets = 1; t->nbuckets < cap; t->nbuckets <<= 1)
		;
	t->bucket = malloc(sizeof(*t->bucket) * t->nbuckets);
	t->e = calloc(cap, sizeof(*t->e));
	if (!t->bucket || !t->e) {
		ct_dnstab_free(t);
		return NULL;
	}
	for (unsigned i = 0; i < t->nbuckets; i++)
		t->bucket[i] = NIL;
	t->oldest = t->newest = NIL;
	return t;
}

void ct_dnstab_free(struct ct_dnstab *t)
{
	if (!t)
		return;
	free(t->bucket);
	free(t->e);
	free(t);
}

static uint32_t find(const struct ct_dnstab *t, uint32_t pid, int family, const uint8_t *addr)
{
	size_t n = family == AF_INET ? 4 : 16;
	uint32_t i = t->bucket[hash(pid, family, addr) & (t->nbuckets - 1)];

	for (; i != NIL; i = t->e[i].hnext)
		if (t->e[i].pid == pid && t->e[i].family == family &&
		    !memcmp(t->e[i].addr, addr, n))
			return i;
	return NIL;
}

static void age_unlink(struct ct_dnstab *t, uint32_t i)
{
	struct ent *e = &t->e[i];

	if (e->older != NIL)
		t->e[e->older].newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer != NIL)
		t->e[e->newer].older = e->older;
	else
		t->newest = e->older;
}

static void age_push(struct ct_dnstab *t, uint32_t i)
{
	t->e[i].older = t->newest;
	t->e[i].newer = NIL;
	if (t->newest != NIL)
		t->e[t->newest].newer = i;
	else
		t->oldest = i;
	t->newest = i;
}

static void hash_unlink(struct ct_dnstab *t, uint32_t i)
{
	struct ent *e = &t->e[i];
	uint32_t *p = &t->bucket[hash(e->pid, e->family, e->addr) & (t->nbuckets - 1)];

	while (*p != i)
		p = &t->e[*p].hnext;
	*p = e->hnext;
}

void ct_dnstab_add(struct ct_dnstab *t, uint32_t pid, int family, const uint8_t *addr,
		   const char *name)
{
	size_t len = strlen(name), n = family == AF_INET ? 4 : 16;
	uint32_t i, b;

	if (family != AF_INET && family != AF_INET6)
		return;
	if (len >= CT_DNSTAB_NAME) {
		t->st.too_long++;
		return;
	}
	t->st.added++;
	i = find(t, pid, family, addr);
	if (i != NIL) {
		age_unlink(t, i);
	} else {
		if (t->n < t->cap) {
			i = t->n++;
		} else {
			i = t->oldest;
			age_unlink(t, i);
			hash_unlink(t, i);
			t->st.evicted++;
		}
		memset(&t->e[i], 0, sizeof(t->e[i]));
		t->e[i].pid = pid;
		t->e[i].family = (uint8_t)family;
		memcpy(t->e[i].addr, addr, n);
		b = hash(pid, family, addr) & (t->nbuckets - 1);
		t->e[i].hnext = t->bucket[b];
		t->bucket[b] = i;
	}
	memcpy(t->e[i].name, name, len + 1);
	age_push(t, i);
}

const char *ct_dnstab_get(const struct ct_dnstab *t, uint32_t pid, int family, const uint8_t *addr,
			  int *hostwide)
{
	uint32_t i;

	*hostwide = 0;
	if (family != AF_INET && family != AF_INET6)
		return NULL;
	if (pid) {
		i = find(t, pid, family, addr);
		if (i != NIL)
			return t->e[i].name;
	}
	i = find(t, 0, family, addr);
	if (i == NIL)
		return NULL;
	*hostwide = 1;
	return t->e[i].name;
}

struct ct_dnstab_stats ct_dnstab_stats(const struct ct_dnstab *t)
{
	return t->st;
}
