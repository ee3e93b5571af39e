// SPDX-License-Identifier: GPL-2.0-or-later
/* interned name records for flows (qnames.h) */
#include "qnames.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static struct {
	char **str;	/* str[id] */
	uint32_t *slot; /* open addressing: id + 1, 0 empty */
	size_t n, cap, nslots;
	uint64_t full;
} qn;

static int grow(void)
{
	size_t nslots = qn.nslots ? qn.nslots * 2 : 256;
	uint32_t *slot = calloc(nslots, sizeof(*slot));
	char **str = realloc(qn.str, nslots / 2 * sizeof(*str));

	if (!slot || !str) {
		free(slot);
		if (str)
			qn.str = str;
		return -1;
	}
	qn.str = str;
	qn.cap = nslots / 2;
	for (size_t id = 0; id < qn.n; id++) {
		size_t i = ct_hash(str[id], strlen(str[id])) & (nslots - 1);

		while (slot[i])
			i = (i + 1) & (nslots - 1);
		slot[i] = id + 1;
	}
	free(qn.slot);
	qn.slot = slot;
	qn.nslots = nslots;
	return 0;
}

uint32_t ct_qname_value(const char *rec, int hostwide)
{
	size_t len = strlen(rec), i;
	uint64_t h = ct_hash(rec, len);
	uint32_t hw = hostwide ? CT_QNAME_HOSTWIDE : 0;

	if (qn.nslots)
		for (i = h & (qn.nslots - 1); qn.slot[i]; i = (i + 1) & (qn.nslots - 1))
			if (!strcmp(qn.str[qn.slot[i] - 1], rec))
				return qn.slot[i] | hw;
	if (qn.n >= CT_QNAMES_MAX || (qn.n >= qn.cap && grow()) || !(qn.str[qn.n] = strdup(rec))) {
		qn.full++;
		return 0;
	}
	for (i = h & (qn.nslots - 1); qn.slot[i]; i = (i + 1) & (qn.nslots - 1))
		;
	qn.slot[i] = (uint32_t)++qn.n;
	return (uint32_t)qn.n | hw;
}

const char *ct_qname_rec(uint32_t value)
{
	uint32_t id = value & ~CT_QNAME_HOSTWIDE;

	return id && id <= qn.n ? qn.str[id - 1] : NULL;
}

const char *ct_qname_str(uint32_t value, char *buf, size_t len)
{
	const char *rec = ct_qname_rec(value);
	size_t n;

	if (!len)
		return buf;
	buf[0] = 0;
	if (!rec)
		return buf;
	n = strcspn(rec, "\t");
	if (n >= len)
		n = len - 1;
	memcpy(buf, rec, n);
	buf[n] = 0;
	return buf;
}

uint64_t ct_qnames_full(void)
{
	return qn.full;
}
