/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one record shared by the BPF programs and user space. Fixed-width
 * fields only, larger first, no implicit padding: tests/unit/test_event.c
 * pins the size and every offset.
 */
#ifndef CONNECTTOP_H
#define CONNECTTOP_H

#define CT_COMM_LEN 16
#define CT_ADDR_LEN 16
#define CT_PATH_LEN 108 /* sizeof(sockaddr_un.sun_path) */

/* ct_event.kind */
enum ct_event_kind {
	/* connect() returned; ret is its result, or the handshake's final
	 * result when the handshake finished before the syscall returned.
	 * Or, with CT_F_PENDING, a TCP connect whose handshake is under way:
	 * a non-blocking one that returned, a blocking one that is waiting
	 * (sent when its socket went to SYN_SENT), a TCP Fast Open by
	 * sendto/sendmsg */
	CT_EV_CONNECT = 1,
	/* a connect counted as pending (CT_F_PENDING) has now resolved: ret
	 * is 0 or -errno (a blocking connect's: what connect() returned) */
	CT_EV_OUTCOME = 2,
	/* a process's command line, read in its context at its first traced
	 * connect (the record before that connect's): the header's tgid, tid,
	 * uid, cgroup_id, comm and ts_ns, then a struct ct_cmdline. Sent only
	 * when user space asks (the rodata want_cmdline), for the view's
	 * details of a process gone by the time its connect is read. */
	CT_EV_CMDLINE = 3,
};

/* ct_event.flags */
#define CT_F_PENDING 0x1   /* CT_EV_CONNECT: outcome follows as CT_EV_OUTCOME */
#define CT_F_HANDSHAKE 0x2 /* lat_ns is the TCP handshake time (SYN_SENT to ESTABLISHED or CLOSE) */
/* The application gave up on the connect: it closed or shut down the socket
 * in SYN_SENT before any error was reported to it. lat_ns is how long it
 * waited (SYN_SENT to the close); ret is -ECONNABORTED, which no application
 * saw: readers go by this flag. */
#define CT_F_ABANDONED 0x4

/* per-CPU counters (map "counters"), summed by user space */
enum ct_counter {
	CT_CNT_RB_DROP = 0, /* event could not be reserved in the ring buffer */
	CT_CNT_CALL_DROP,   /* connect() entry could not be stashed (map full) */
	CT_CNT_SOCK_DROP,   /* TCP socket could not be tracked (map full) */
	CT_CNT_OUTCOMES,    /* CT_EV_OUTCOME events submitted */
	/* outcomes the ring buffer had no room for: put in the map "late"
	 * for user space to take and deliver */
	CT_CNT_OUTCOME_LATE,
	/* outcomes found only when the socket was destroyed (its resolution
	 * was skipped or could not take its entry): counted in OUTCOMES too */
	CT_CNT_OUTCOME_DESTROY,
	CT_CNT_MAX,
};

struct ct_event {
	__u64 ts_ns;	 /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) when the event was made */
	__u64 lat_ns;	 /* ns: handshake time with CT_F_HANDSHAKE, else time in connect() */
	__u64 cgroup_id; /* the caller's cgroup v2 id (its folder's inode number) */
	__u64 start_ns;	 /* bpf_ktime_get_ns() when connect() was entered (TCP Fast Open
			  * by sendto/sendmsg: when the socket went to SYN_SENT); an
			  * outcome carries its connect's, which tells the connects in
			  * flight apart and gives their age */
	__u32 tgid;	 /* process id */
	__u32 tid;	 /* thread id */
	__u32 uid;	 /* real uid of the caller */
	__s32 ret;	 /* 0 or -errno */
	__u16 dport;	 /* destination port, host byte order */
	__u8 family;	 /* AF_INET or AF_INET6, as the caller passed it (AF_* < 256) */
	__u8 syn_rt;	 /* SYNs retransmitted (tcp_retransmit_skb in SYN_SENT), at most
			  * 255; 0 if not TCP or without that tracepoint (probe_syn_retrans) */
	__u16 proto;	 /* IPPROTO_TCP, IPPROTO_UDP, ... (the socket's sk_protocol) */
	__u8 kind;	 /* enum ct_event_kind */
	__u8 flags;	 /* CT_F_* */
	__u8 daddr[CT_ADDR_LEN]; /* network byte order; IPv4 uses the first 4 bytes */
	char comm[CT_COMM_LEN];	 /* thread-group leader's comm (the process name) */
	__u32 scope_id;		 /* IPv6 sin6_scope_id as the caller passed it, or 0 */
	__u16 sport;		 /* local port after connect(), host order, or 0 */
	__u8 spare[10];		 /* zero; room for fields to come */
};

/* A TCP socket between SYN_SENT and its resolution (BPF map "socks", by
 * socket address), for a connect() that may return before it resolves.
 * User space reads it only to sweep entries whose resolution was missed. */
struct ct_inflight {
	struct ct_event ev; /* the event as sys_exit_connect emitted it; kind 0 until then */
	__u64 syn_ts;	    /* bpf_ktime_get_ns() when it went to SYN_SENT */
	__u64 lat_ns;	    /* handshake time, set at resolution */
	__s32 err;	    /* 0 (established) or -errno, set at resolution;
			     * before it, an error reported to the
			     * application (inet_sk_error_report), or 0 */
	__u32 resolved;	    /* 0 until resolved; then how (BPF side), or
			     * CT_INF_UNSENT | the outcome's CT_F_* flags */
	__u64 ino;	    /* the socket's inode, set with ev: tells a later
			     * connect() on this very socket from one on a new
			     * socket at the same address */
};

/* ct_inflight.resolved of an entry in the BPF map "late": its outcome (err,
 * lat_ns, the CT_F_* flags in the low byte) found no room in the ring
 * buffer; user space deletes the entry and delivers the outcome. */
#define CT_INF_UNSENT 0x100

/* the key of "late": the socket's address and when it went to SYN_SENT (an
 * address is reused by the next socket, maybe before user space looks) */
struct late_key {
	__u64 sk;
	__u64 syn_ts;
};

/* With --unix, the CT_EV_CONNECT of an AF_UNIX socket (family 1) is
 * followed in the same ring buffer record by its destination. dport is 0,
 * proto is the socket type (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET). */
struct ct_path {
	__u32 len; /* bytes of sun_path the caller passed (addrlen - 2), at most CT_PATH_LEN */
	char path[CT_PATH_LEN]; /* an abstract name starts with a NUL byte; bytes past len are undefined */
};

/* follows a CT_EV_CMDLINE header in the same record */
#define CT_CMDLINE_LEN 128
struct ct_cmdline {
	__u32 len;		  /* bytes of buf read: 0 when unreadable (paged out) */
	__u32 full_len;		  /* the whole command line's length (arg_end - arg_start) */
	char buf[CT_CMDLINE_LEN]; /* its first len bytes (at most CT_CMDLINE_LEN - 1): the
				   * arguments, each NUL-terminated */
};

#endif /* CONNECTTOP_H */
