// SPDX-License-Identifier: GPL-2.0
/*
 * connecttop: every connect() of an AF_INET/AF_INET6 socket, with its result,
 * and for TCP the handshake's true outcome and latency. Tracepoints only
 * (kprobes and fentry are missing on many hosts).
 *
 * Per connect():
 *  sys_enter_connect  stash {entry time, fd, user sockaddr} per thread
 *  inet_sock_set_state CLOSE->SYN_SENT runs inside connect() in the caller's
 *                     context: remember the socket (keyed by its address)
 *  inet_sock_set_state SYN_SENT->ESTABLISHED/CLOSE may run in softirq
 *                     context, so `current` means nothing there: everything
 *                     about the caller comes from the entry made at SYN_SENT
 *  sys_exit_connect   read the sockaddr, emit one CT_EV_CONNECT
 *
 * A TCP handshake resolves either before connect() returns (blocking
 * sockets, and often non-blocking ones on loopback) or after it returned
 * EINPROGRESS. The exit and the resolution race when they run on different
 * CPUs. A token put in "tokens" at SYN_SENT decides who came second: each
 * side writes its part, then deletes the token; the delete that finds it
 * gone (-ENOENT) is the second (atomic under the map's bucket lock, and
 * unlike BPF_FETCH atomics, 5.12+, it exists on 5.8). The second one emits:
 * the exit emits the final result in its CT_EV_CONNECT, or the resolution
 * emits a CT_EV_OUTCOME for a connect that user space counted as pending.
 * So each connect is counted once.
 *
 * Both maps are plain hash maps with explicit cleanup, not LRU: an LRU map
 * may evict a live entry before it is full (its free lists are per CPU),
 * which lost outcomes here; a full plain map instead fails the insert, and
 * that is counted (CT_CNT_SOCK_DROP). A socket in SYN_SENT always leaves it
 * (to ESTABLISHED, or to CLOSE on error, timeout or close()), which is when
 * its entries go.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "connecttop.h"

#define AF_INET 2
#define AF_INET6 10
#define EINPROGRESS 115
#define ECONNABORTED 103
#define EINTR 4
#define ETIMEDOUT 110
#define ECONNREFUSED 111
#define SHUTDOWN_MASK 3
#define IPPROTO_TCP 6
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7

char LICENSE[] SEC("license") = "GPL";

/* load-time configuration, set by user space before load */
const volatile __u32 self_tgid = 0;	/* never trace this process (the tool itself) */
const volatile __u32 filter_tgid = 0;	/* 0: all processes */
const volatile __u16 filter_port = 0;	/* 0: all ports */
const volatile __u16 filter_family = 0; /* 0: both, else AF_INET or AF_INET6 */
const volatile __u64 wakeup_bytes = 65536; /* wake user space when this much is queued */
const volatile __s64 connect_nr = 42;	/* __NR_connect, for the raw_tp fallback */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by user space (--ringbuf-size) */
} events SEC(".maps");

/* a connect() in progress, per thread */
struct call {
	__u64 ts;    /* ns, entry time */
	__u64 uaddr; /* user pointer to the sockaddr */
	__u64 sk;    /* socket that went to SYN_SENT inside this call, or 0 */
	__u32 fd;
	__u16 family;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tid */
	__type(value, struct call);
} calls SEC(".maps");

/* a TCP socket between SYN_SENT and its resolution */
struct inflight {
	struct ct_event ev; /* the event as sys_exit_connect emitted it (valid once claimed) */
	__u64 syn_ts;	    /* ns, when it went to SYN_SENT */
	__u64 lat_ns;	    /* handshake time, set at resolution */
	__s32 err;	    /* 0 (established) or -errno, set at resolution */
	__u32 resolved;	    /* set at resolution */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* struct sock * */
	__type(value, struct inflight);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* struct sock * */
	__type(value, __u8);
} tokens SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CT_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &which);

	if (v)
		*v += 1; /* per-CPU: no atomics needed */
}

static __always_inline __u64 wake_flags(void)
{
	/* Batch wake-ups: waking user space per event costs more than the event. */
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									    : BPF_RB_NO_WAKEUP;
}

static __always_inline int on_enter(__u64 fd, __u64 uaddr)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct call c = {};
	__u16 family = 0;

	if (tgid == self_tgid || (filter_tgid && tgid != filter_tgid))
		return 0;
	/* the family is read here so that AF_UNIX and others cost no map update */
	if (bpf_probe_read_user(&family, sizeof(family), (void *)uaddr))
		return 0;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	if (filter_family && family != filter_family)
		return 0;
	c.ts = bpf_ktime_get_ns();
	c.uaddr = uaddr;
	c.fd = (__u32)fd;
	c.family = family;
	if (bpf_map_update_elem(&calls, &tid, &c, BPF_ANY))
		count(CT_CNT_CALL_DROP);
	return 0;
}

/* The socket's protocol through fd -> file -> socket -> sock, for connects
 * that never reached SYN_SENT (UDP, or TCP failing before it). */
static __always_inline __u16 fd_proto(__u32 fd, __u64 *skp)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct file **fds;
	struct file *file;
	struct socket *sock;
	struct sock *sk;
	unsigned int max_fds;

	fds = BPF_CORE_READ(task, files, fdt, fd);
	max_fds = BPF_CORE_READ(task, files, fdt, max_fds);
	if (!fds || fd >= max_fds)
		return 0;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return 0;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	*skp = (__u64)sk;
	/* sk_protocol was a bitfield before 5.6 (commit bf9765145b85): read it
	 * in a way that works for both layouts */
	return BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
}

static __always_inline void fill_addr(struct ct_event *e, const struct call *c)
{
	if (c->family == AF_INET) {
		struct sockaddr_in sa = {};

		bpf_probe_read_user(&sa, sizeof(sa), (void *)c->uaddr);
		e->dport = __builtin_bswap16(sa.sin_port);
		__builtin_memcpy(e->daddr, &sa.sin_addr, 4);
	} else {
		struct sockaddr_in6 sa = {};

		bpf_probe_read_user(&sa, sizeof(sa), (void *)c->uaddr);
		e->dport = __builtin_bswap16(sa.sin6_port);
		__builtin_memcpy(e->daddr, &sa.sin6_addr, 16);
	}
}

/* connect() returned while the connection attempt goes on: EINPROGRESS
 * (non-blocking), EINTR, or a restart (ERESTARTSYS..ERESTART_RESTARTBLOCK,
 * seen here before the kernel turns them into EINTR or a restart) */
static __always_inline int still_connecting(long ret)
{
	return ret == -EINPROGRESS || ret == -EINTR || (ret <= -512 && ret >= -516);
}

/* drop what is tracked of a socket whose connect() user space never saw, so
 * that its resolution emits no outcome */
static __always_inline void forget(__u64 sk)
{
	if (!sk)
		return;
	bpf_map_delete_elem(&socks, &sk);
	bpf_map_delete_elem(&tokens, &sk);
}

static __always_inline int on_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct task_struct *task;
	struct inflight *inf = NULL;
	struct call *cp, c;
	struct ct_event *e;
	__u64 now, sk = 0;

	cp = bpf_map_lookup_elem(&calls, &tid);
	if (!cp)
		return 0;
	c = *cp;
	bpf_map_delete_elem(&calls, &tid);

	now = bpf_ktime_get_ns();
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(CT_CNT_RB_DROP);
		forget(c.sk);
		return 0;
	}
	fill_addr(e, &c);
	if (filter_port && e->dport != filter_port) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		forget(c.sk);
		return 0;
	}
	e->ts_ns = now;
	e->lat_ns = now - c.ts;
	e->tgid = id >> 32;
	e->tid = tid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->ret = ret;
	e->family = c.family;
	e->kind = CT_EV_CONNECT;
	e->flags = 0;
	bpf_get_current_comm(e->tcomm, sizeof(e->tcomm));
	task = (void *)bpf_get_current_task();
	BPF_CORE_READ_STR_INTO(&e->comm, task, group_leader, comm);

	if (c.sk) {
		sk = c.sk;
		e->proto = IPPROTO_TCP;
		inf = bpf_map_lookup_elem(&socks, &sk);
	} else {
		e->proto = fd_proto(c.fd, &sk);
	}
	e->sock_id = sk;
	if (inf && !still_connecting(ret)) {
		/* A blocking connect() returns once the handshake resolved,
		 * and its result is the final word. This does not depend on
		 * having seen the resolution, which a BPF program can miss: a
		 * softirq that changes a socket's state while this CPU is
		 * already inside raw_sock_state is not traced (the recursion
		 * guard; user space reports those runs as "missed"). */
		if (inf->resolved) {
			e->lat_ns = inf->lat_ns;
			e->flags = CT_F_HANDSHAKE;
			bpf_map_delete_elem(&socks, &sk); /* its token went at resolution */
		} else {
			forget(sk);
		}
	} else if (inf) {
		/* the event is copied before the token goes: the resolution
		 * reads it as soon as it finds the token gone */
		__builtin_memcpy(&inf->ev, e, sizeof(*e));
		if (bpf_map_delete_elem(&tokens, &sk) == 0) {
			/* first: the handshake is still under way, its
			 * resolution will emit CT_EV_OUTCOME */
			e->flags = CT_F_PENDING;
		} else {
			/* second: the handshake already resolved */
			e->ret = inf->err;
			e->lat_ns = inf->lat_ns;
			e->flags = CT_F_HANDSHAKE;
			forget(sk);
		}
	}
	bpf_ringbuf_submit(e, wake_flags());
	return 0;
}

static __always_inline int on_state(struct sock *sk, int oldstate, int newstate)
{
	__u64 key = (__u64)sk;
	struct inflight *inf;
	struct ct_event *e;
	__u8 one = 1;

	if (newstate == TCP_SYN_SENT) {
		/* inside connect(), in the caller's context */
		__u32 tid = (__u32)bpf_get_current_pid_tgid();
		struct call *c = bpf_map_lookup_elem(&calls, &tid);
		struct inflight fresh = {};

		if (!c)
			return 0; /* not a traced connect() (e.g. TCP Fast Open via sendto) */
		if (BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != IPPROTO_TCP)
			return 0;
		fresh.syn_ts = bpf_ktime_get_ns();
		if (bpf_map_update_elem(&socks, &key, &fresh, BPF_ANY)) {
			count(CT_CNT_SOCK_DROP);
			return 0;
		}
		if (bpf_map_update_elem(&tokens, &key, &one, BPF_ANY)) {
			bpf_map_delete_elem(&socks, &key);
			count(CT_CNT_SOCK_DROP);
			return 0;
		}
		c->sk = key;
		return 0;
	}
	if (oldstate != TCP_SYN_SENT || (newstate != TCP_ESTABLISHED && newstate != TCP_CLOSE))
		return 0;
	inf = bpf_map_lookup_elem(&socks, &key);
	if (!inf)
		return 0;
	inf->lat_ns = bpf_ktime_get_ns() - inf->syn_ts;
	inf->resolved = 1;
	if (newstate == TCP_ESTABLISHED) {
		inf->err = 0;
	} else {
		/* RST sets sk_err to ECONNREFUSED, the SYN retransmit timer to
		 * ETIMEDOUT, ICMP to EHOSTUNREACH etc. before the state change */
		int err = BPF_CORE_READ(sk, sk_err);

		if (!err) {
			/* 0: either the application closed the socket (close()
			 * sets sk_shutdown to SHUTDOWN_MASK before the state
			 * change; the kernel's own close only after), or the
			 * application read the error (getsockopt SO_ERROR
			 * clears sk_err without the socket lock) in the gap
			 * between the kernel setting it and changing the
			 * state. Then the handshake time tells: a SYN timeout
			 * takes at least one initial RTO (1 s, TCP_TIMEOUT_INIT),
			 * an RST or ICMP error comes within a round trip. */
			if (BPF_CORE_READ_BITFIELD_PROBED(sk, sk_shutdown) == SHUTDOWN_MASK)
				err = ECONNABORTED;
			else
				err = inf->lat_ns >= 1000000000ULL ? ETIMEDOUT : ECONNREFUSED;
		}
		inf->err = -err;
	}
	if (bpf_map_delete_elem(&tokens, &key) == 0)
		return 0; /* first: sys_exit_connect will emit the final result */

	/* second: connect() already returned and was counted as pending */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		__builtin_memcpy(e, &inf->ev, sizeof(*e));
		e->kind = CT_EV_OUTCOME;
		e->flags = CT_F_HANDSHAKE;
		e->ret = inf->err;
		e->lat_ns = inf->lat_ns;
		e->ts_ns = bpf_ktime_get_ns();
		bpf_ringbuf_submit(e, wake_flags());
		count(CT_CNT_OUTCOMES);
	} else {
		count(CT_CNT_RB_DROP);
	}
	forget(key);
	return 0;
}

SEC("tp/syscalls/sys_enter_connect")
int tp_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(ctx->args[0], ctx->args[1]);
}

SEC("tp/syscalls/sys_exit_connect")
int tp_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx->ret);
}

/*
 * Fallback when tracefs cannot be had (no mount permission, or a kernel
 * without CONFIG_FTRACE_SYSCALLS): the generic syscall raw tracepoints need
 * no tracefs, but run for every syscall, so the syscall number is checked
 * first. x86_64 register names.
 */
SEC("raw_tp/sys_enter")
int BPF_PROG(raw_enter, struct pt_regs *regs, long nr)
{
	if (nr != connect_nr)
		return 0;
	return on_enter(BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si));
}

SEC("raw_tp/sys_exit")
int BPF_PROG(raw_exit, struct pt_regs *regs, long ret)
{
	if (BPF_CORE_READ(regs, orig_ax) != connect_nr)
		return 0;
	return on_exit(ret);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(raw_sock_state, struct sock *sk, int oldstate, int newstate)
{
	return on_state(sk, oldstate, newstate);
}
