/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The names flows were resolved from (qnames.c): each distinct record
 * "qname[\tcname...]" (the name asked for, then its CNAME chain, as
 * dnsattr.c builds it from one answer) gets a small id once, so that a flow
 * keeps 4 bytes, not the name. A flow's value is that id + 1, with
 * CT_QNAME_HOSTWIDE set when the name came from another process's answer
 * (dnstab.h); 0 is "no name". The table holds at most CT_QNAMES_MAX
 * records for the life of the process (as the AF_UNIX paths, util.h);
 * past that a name is not kept and counted (ct_qnames_full). Not thread
 * safe: the event loop's thread only.
 */
#ifndef CT_QNAMES_H
#define CT_QNAMES_H

#include <stddef.h>
#include <stdint.h>

#define CT_QNAMES_MAX 65536
#define CT_QNAME_HOSTWIDE 0x80000000u

/* the flow value of rec (hostwide: CT_QNAME_HOSTWIDE set), or 0 when the
 * table is full or out of memory */
uint32_t ct_qname_value(const char *rec, int hostwide);
/* the record of a flow value, or NULL for 0 (or a value never given) */
const char *ct_qname_rec(uint32_t value);
/* the name asked for alone into buf (at most len - 1 bytes), or "" */
const char *ct_qname_str(uint32_t value, char *buf, size_t len);
/* records not kept because the table was full */
uint64_t ct_qnames_full(void);

#endif
