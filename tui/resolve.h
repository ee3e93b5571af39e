/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Names for numbers: user names (/etc/passwd), service names
 * (/etc/services), a process's command line and cgroup (/proc, read once per
 * pid and cached, so a process that exited keeps what was read), and reverse
 * DNS, looked up by one background thread so the screen never waits. The
 * thread belongs to connecttop, whose own connects are not traced.
 *
 * Returned strings are owned by the cache and stay valid until
 * resolve_free(); they are sanitized (safe to print).
 */
#ifndef CT_RESOLVE_H
#define CT_RESOLVE_H

#include <stdint.h>

struct resolve;

struct resolve *resolve_new(void);
void resolve_free(struct resolve *r);
/* "root", or the number as text */
const char *resolve_user(struct resolve *r, uint32_t uid);
/* "https" for 443/tcp, or NULL */
const char *resolve_service(struct resolve *r, uint16_t port, uint16_t proto);
/* command line of pid ("" if it was gone before it was first asked) */
const char *resolve_cmdline(struct resolve *r, uint32_t pid);
/* systemd unit or container id from the pid's cgroup path, or "-" */
const char *resolve_cgroup(struct resolve *r, uint32_t pid);
/* the name of an address if known; else NULL, and a lookup is queued */
const char *resolve_host(struct resolve *r, int family, const uint8_t addr[16]);

#endif
