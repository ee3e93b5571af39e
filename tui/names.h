/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Names for numbers: user names (/etc/passwd), service names
 * (/etc/services), a process's command line and cgroup (/proc, read once per
 * pid and cached, so a process that exited keeps what was read), and reverse
 * DNS, looked up by one background thread so the screen never waits. The
 * thread belongs to connecttop, whose own connects are not traced.
 *
 * Returned strings are owned by the cache and stay valid until
 * names_free(); they are sanitized (safe to print).
 */
#ifndef CT_NAMES_H
#define CT_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct names;

struct names *names_new(void);
void names_free(struct names *r);
/* "root", or the number as text */
const char *names_user(struct names *r, uint32_t uid);
/* "https" for 443/tcp, or NULL */
const char *names_service(struct names *r, uint16_t port, uint16_t proto);
/* pid, running as comm (16 bytes), in the cgroup v2 cgroup_id (0: unknown)
 * made a connect: read its command line and cgroup now if they are not
 * known (a new pid, or one that another program had before). A process
 * gone already gets its cgroup from cgroup_id and no command line. */
void names_pid_seen(struct names *r, uint32_t pid, const char *comm, uint64_t cgroup_id);
/* pid, running as comm, had the command line cmd (len bytes as
 * /proc/pid/cmdline holds them: NUL after each argument) at its connect: read
 * by BPF in its context (CT_EV_CMDLINE), kept for when it is gone */
void names_pid_cmdline(struct names *r, uint32_t pid, const char *comm, uint64_t cgroup_id,
		       const char *cmd, size_t len);
/* command line of pid when it ran as comm: "" if it was gone, or its pid
 * was another program's, before it was first read */
const char *names_cmdline(struct names *r, uint32_t pid, const char *comm);
/* systemd unit or container id from the cgroup path of pid running as
 * comm, or "-" */
const char *names_cgroup(struct names *r, uint32_t pid, const char *comm);
/* names_cgroup() as a filter_cgroup_fn, ctx the struct names (NULL: no
 * cgroup known) */
const char *names_cgroup_of(void *names, unsigned pid, const char *comm);
/* the name of an address if known; else NULL, and a lookup is queued */
const char *names_host(struct names *r, int family, const uint8_t addr[16]);

#endif
