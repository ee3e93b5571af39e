// SPDX-License-Identifier: GPL-2.0
/*
 * connecttop: every connect() of an AF_INET/AF_INET6 socket, with its result,
 * and for TCP the handshake's true outcome and latency. Tracepoints only
 * (kprobes and fentry are missing on many hosts).
 *
 * Per connect():
 *  sys_enter_connect  stash {entry time, fd, user sockaddr} per thread: in
 *                     task storage (5.11+), else in a hash keyed by tid
 *  inet_sock_set_state CLOSE->SYN_SENT runs inside connect() in the caller's
 *                     context: note the socket in the stash, and track it
 *                     in "socks" (keyed by its address) if connect() may
 *                     return before the handshake resolves (O_NONBLOCK or
 *                     a send timeout); else (blocking) emit the connect as
 *                     pending now, so that it is seen while it waits
 *  inet_sock_set_state SYN_SENT->ESTABLISHED/CLOSE may run in softirq
 *                     context, so `current` means nothing there: everything
 *                     about the caller comes from the entry made at SYN_SENT
 *  sys_exit_connect   read the sockaddr, emit one CT_EV_CONNECT
 *
 * A blocking connect() returns once the handshake resolved, so its result
 * and its exit time are the final word: its exit emits the outcome of the
 * pending connect emitted at SYN_SENT, and nothing but the stash is touched
 * (each map update or delete costs about as much as the ring buffer event,
 * and the refused-connect rate on loopback shows every one of them). Only
 * one that returns with the handshake still under way (a signal) has its
 * socket tracked then, as a non-blocking one is.
 *
 * A tracked socket's handshake resolves either before connect() returns
 * (often on loopback) or after it returned EINPROGRESS. The exit and the
 * resolution race when they run on different CPUs. A token put in "tokens" at SYN_SENT decides who came second: each
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

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define EINPROGRESS 115
#define ECONNABORTED 103
#define EINTR 4
#define ETIMEDOUT 110
#define EALREADY 114
#define EISCONN 106
#define ENOTSOCK 88
#define ECONNREFUSED 111
#define SHUTDOWN_MASK 3
#define SS_DISCONNECTING 4
#define IPPROTO_TCP 6
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7
#define O_NONBLOCK 04000
#define MAX_SCHEDULE_TIMEOUT 0x7fffffffffffffffL

char LICENSE[] SEC("license") = "GPL";

/* load-time configuration, set by user space before load */
const volatile __u32 self_tgid = 0;	   /* never trace this process (the tool itself) */
const volatile __u32 filter_tgid = 0;	   /* 0: all processes */
const volatile __u16 filter_port = 0;	   /* 0: all ports */
const volatile __u16 filter_family = 0;	   /* 0: both, else AF_INET or AF_INET6 */
const volatile __u64 wakeup_bytes = 65536; /* wake user space when this much is queued */
/* tests only (--test-skip-resolution): the state changes and error reports
 * of tracked sockets to this port are passed by, as a skipped run is */
const volatile __u16 test_skip_port = 0;
const volatile __u32 wake_every = 1; /* look at the fill every this many records */
/* __NR_connect and __NR_getsockopt for the raw_tp fallback: user space
 * sets them from its own headers (built for the same arch); these defaults
 * are each arch's numbers (arm64: the generic table, asm-generic/unistd.h) */
#if defined(bpf_target_arm64)
const volatile __s64 connect_nr = 203;
const volatile __s64 getsockopt_nr = 209;
#else
const volatile __s64 connect_nr = 42;
const volatile __s64 getsockopt_nr = 55;
#endif
/* 5.11+: "calls" is task storage, the current task is read through BTF
 * (bpf_get_current_task_btf), and the socket's state changes come through
 * tp_btf with the socket as a BTF pointer: plain loads instead of probe
 * reads, which cost 80-170 ns each. Else a hash by tid and probe reads. */
const volatile bool task_calls = false;
/* --unix: AF_UNIX connects too, each with its path (struct ct_path) */
const volatile bool trace_unix = false;
/* 5.15+ with task_calls and the syscall tracepoints: no program at the
 * entry of connect() or getsockopt(). Their exits read the arguments from
 * the user registers the syscall entry saved (bpf_task_pt_regs), which the
 * kernel leaves as they were; the SYN_SENT of a connect() makes its stash.
 * Under a storm of UDP connects the entry program was a fifth of the BPF
 * time, and the tracepoint's own work (the perf record of the arguments)
 * came on top. */
const volatile bool exit_args = false;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by user space (--ringbuf-size) */
} events SEC(".maps");

/* a connect() in progress, per thread */
struct call {
	__u64 ts;		 /* ns, entry time; 0 when no connect() is in progress */
	__u64 sk;		 /* socket that went to SYN_SENT inside this call, or 0 */
	__u64 syn_ts;		 /* ns, when it did */
	__u64 uaddr;		 /* user pointer to the sockaddr */
	__u8 daddr[CT_ADDR_LEN]; /* valid once family is set */
	__u32 fd;
	__u16 family;
	__u16 dport;	/* host order */
	__u8 tracked;	/* sk is in socks and tokens */
	__u8 untracked; /* it could not be (a map was full: counted once) */
	__u8 announced; /* blocking: counted as pending at SYN_SENT, outcome at exit */
	__u8 pad;
	__u32 alen;	/* AF_UNIX: bytes of sun_path passed (addrlen - 2) */
	__u32 scope_id; /* IPv6 link-local: the interface index, else 0 */
};

/* an IPv6 address that means nothing without an interface, as the kernel's
 * __ipv6_addr_needs_scope_id(): link-local unicast (fe80::/10), or multicast
 * of interface- or link-local scope (ff01::/16, ff02::/16 and their flags) */
static __always_inline int needs_scope(const __u8 a[16])
{
	return (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
	       (a[0] == 0xff && ((a[1] & 0x0f) == 1 || (a[1] & 0x0f) == 2));
}

/* Task storage where the kernel has it: found through the task itself, no
 * hash to update and delete per call. Before 5.11 user space turns this into
 * a BPF_MAP_TYPE_HASH keyed by tid (max_entries 16384, no flags); the
 * task_calls branches below are then dead code the verifier never walks. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct call);
} calls SEC(".maps");

#define RESOLVED_LAT 1	 /* resolved, lat_ns is the handshake time */
#define RESOLVED_NOLAT 2 /* resolved, found out late: no handshake time */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);		   /* struct sock * */
	__type(value, struct ct_inflight); /* connecttop.h */
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* struct sock * */
	__type(value, __u8);
} tokens SEC(".maps");

/* Resolved entries of socks whose outcome found the ring buffer full
 * (take_outcome), for user space to deliver; keyed apart from socks so that
 * a new socket at the address is tracked meanwhile. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct late_key);	   /* connecttop.h */
	__type(value, struct ct_inflight); /* resolved: CT_INF_UNSENT | flags */
} late SEC(".maps");

/* Sockets whose connect was counted while its handshake was under way (the
 * exit or the resolution that came second emitted the final result), by
 * address, with their inode. A program then calls connect() again on the
 * socket to learn the result (EALREADY while under way, then 0, EISCONN or
 * the error), and a blocking connect() interrupted by a signal is restarted
 * by the kernel: those calls are the same connect, not new ones. LRU: an
 * entry lost to eviction only means a repeat counted as a connect. */
struct counted_val {
	__u64 ino; /* the socket's inode */
	__s32 err; /* the result counted, or ERR_ANY when it was not followed */
	__u32 pad;
};
#define ERR_ANY 0x7fffffff

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* struct sock * */
	__type(value, struct counted_val);
} counted SEC(".maps");

/* the connect on socket key (inode ino) was counted with result err */
static __always_inline void note_counted(__u64 key, __u64 ino, __s32 err)
{
	struct counted_val v = { .ino = ino, .err = err };

	bpf_map_update_elem(&counted, &key, &v, BPF_ANY);
}

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

/* records each CPU submits between two looks at the ring buffer's fill
 * (user space: wakeup_bytes / 2 spread over the CPUs; 1: every record) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} wake_ticks SEC(".maps");

static __always_inline __u64 wake_flags(void)
{
	__u32 zero = 0, *ticks;

	/* Batch wake-ups: waking user space per event costs more than the
	 * event. The fill is read only every wake_every-th record of a CPU:
	 * it reads consumer_pos, which the consumer writes on another CPU
	 * (a cache miss per look, about 30 ns under the UDP storm); the
	 * wake-up comes at most wakeup_bytes / 2 later for it. */
	if (wake_every > 1) {
		ticks = bpf_map_lookup_elem(&wake_ticks, &zero);
		if (ticks && ++*ticks < wake_every)
			return BPF_RB_NO_WAKEUP;
		if (ticks)
			*ticks = 0;
	}
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP :
									       BPF_RB_NO_WAKEUP;
}

/* A syscall's arguments and number in the user registers its entry saved,
 * as the syscall ABI passes them (x86_64: di, si, dx, r10; arm64: orig_x0,
 * which keeps x0 after the return value replaced it, then regs[1..3]):
 * plain loads from the BTF pointer bpf_task_pt_regs() gives. */
#if defined(bpf_target_x86)
#define SYSCALL_ARG1(r) ((r)->di)
#define SYSCALL_ARG2(r) ((r)->si)
#define SYSCALL_ARG3(r) ((r)->dx)
#define SYSCALL_ARG4(r) ((r)->r10)
#define SYSCALL_NR(r) ((long)(r)->orig_ax)
#elif defined(bpf_target_arm64)
#define SYSCALL_ARG1(r) ((r)->orig_x0)
#define SYSCALL_ARG2(r) ((r)->regs[1])
#define SYSCALL_ARG3(r) ((r)->regs[2])
#define SYSCALL_ARG4(r) ((r)->regs[3])
#define SYSCALL_NR(r) ((long)(r)->syscallno)
#else
#error "exit_args: the syscall registers are known for x86 and arm64 only"
#endif

static __always_inline struct pt_regs *cur_regs(struct task_struct *task)
{
	return (struct pt_regs *)bpf_task_pt_regs(task);
}

/* a process traced (not the tool itself, and the -p filter's) */
static __always_inline int traced_tgid(__u32 tgid)
{
	return tgid != self_tgid && (!filter_tgid || tgid == filter_tgid);
}

/* a connect()'s arguments into a fresh call */
static __always_inline void call_args(struct call *c, __u64 fd, __u64 uaddr, __u64 addrlen)
{
	__builtin_memset(c, 0, sizeof(*c));
	c->fd = (__u32)fd;
	c->uaddr = uaddr;
	/* the kernel rejects addrlen > sizeof(struct sockaddr_storage) */
	c->alen = (int)addrlen > 2 ? (__u32)addrlen - 2 : 0;
}

/* the current thread's connect() in progress, or NULL */
static __always_inline struct call *call_cur(__u32 tid)
{
	struct call *c;

	if (task_calls) {
		c = bpf_task_storage_get(&calls, bpf_get_current_task_btf(), 0, 0);
		return c && c->ts ? c : NULL;
	}
	return bpf_map_lookup_elem(&calls, &tid);
}

/* exit_args: the connect() returning now, into c: the stash its SYN_SENT
 * made, else its arguments (c->ts 0: the exit's time is taken). 0 when the
 * process is not traced. */
static __always_inline int call_at_exit(struct call *c, __u64 id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct call *cp = bpf_task_storage_get(&calls, task, 0, 0);
	struct pt_regs *regs;

	if (cp && cp->ts) {
		*c = *cp;
		cp->ts = 0;
		return 1;
	}
	if (!traced_tgid(id >> 32))
		return 0;
	regs = cur_regs(task);
	call_args(c, SYSCALL_ARG1(regs), SYSCALL_ARG2(regs), SYSCALL_ARG3(regs));
	return 1;
}

/* exit_args: the stash of the connect() whose socket goes to SYN_SENT now,
 * made here from its arguments; NULL when the caller is in no traced
 * connect() (a send with MSG_FASTOPEN, a kernel socket, io_uring) */
static __always_inline struct call *call_at_syn(__u64 now)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = cur_regs(task);
	struct call *cp;

	if (SYSCALL_NR(regs) != connect_nr || !traced_tgid(bpf_get_current_pid_tgid() >> 32))
		return NULL;
	cp = bpf_task_storage_get(&calls, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!cp) {
		count(CT_CNT_CALL_DROP);
		return NULL;
	}
	call_args(cp, SYSCALL_ARG1(regs), SYSCALL_ARG2(regs), SYSCALL_ARG3(regs));
	cp->ts = now;
	return cp;
}

/* the destination from the user's sockaddr into c: 0, or -1 when it is
 * not AF_INET/AF_INET6 (nor AF_UNIX with --unix), or unreadable. An
 * AF_UNIX path is read at exit, straight into the event. */
static __always_inline int read_sockaddr(struct call *c)
{
	struct sockaddr_in sin = {};

	/* 16 bytes is the least AF_INET and AF_INET6 accept; a shorter buffer
	 * at the end of a page fails the read, the family alone not */
	if (bpf_probe_read_user(&sin, sizeof(sin), (void *)c->uaddr) &&
	    bpf_probe_read_user(&sin.sin_family, sizeof(sin.sin_family), (void *)c->uaddr))
		return -1;
	if (sin.sin_family == AF_INET)
		__builtin_memcpy(c->daddr, &sin.sin_addr, 4);
	else if (sin.sin_family == AF_INET6) { /* sin6_addr is at 8..24 */
		bpf_probe_read_user(c->daddr, sizeof(c->daddr), (void *)(c->uaddr + 8));
		/* sin6_scope_id (24..28) only where it matters and the caller
		 * passed it: the kernel takes a 24-byte sockaddr_in6 too */
		if (c->alen + 2 >= 28 && needs_scope(c->daddr))
			bpf_probe_read_user(&c->scope_id, sizeof(c->scope_id),
					    (void *)(c->uaddr + 24));
	} else if (sin.sin_family != AF_UNIX || !trace_unix)
		return -1;
	c->family = sin.sin_family;
	c->dport = sin.sin_family == AF_UNIX ? 0 : __builtin_bswap16(sin.sin_port);
	return 0;
}

/* the load-time filters on the destination */
static __always_inline int filtered_out(const struct call *c)
{
	return (filter_family && c->family != filter_family) ||
	       (filter_port && c->dport != filter_port);
}

static __always_inline int on_enter(__u64 fd, __u64 uaddr, __u64 addrlen)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct call c;

	if (!traced_tgid(tgid))
		return 0;
	call_args(&c, fd, uaddr, addrlen);
	if (task_calls) {
		/* The stash costs less than reading the sockaddr from user
		 * memory: the address comes from the socket at SYN_SENT, or
		 * from the sockaddr at exit when there is no SYN_SENT. */
		struct call *cp = bpf_task_storage_get(&calls, bpf_get_current_task_btf(), 0,
						       BPF_LOCAL_STORAGE_GET_F_CREATE);

		if (!cp) {
			count(CT_CNT_CALL_DROP);
			return 0;
		}
		c.ts = bpf_ktime_get_ns();
		*cp = c;
		return 0;
	}
	/* A hash update costs more than the read: AF_UNIX and others are
	 * left out first. The kernel reads the sockaddr at entry too. */
	if (read_sockaddr(&c) || filtered_out(&c))
		return 0;
	c.ts = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&calls, &tid, &c, BPF_ANY))
		count(CT_CNT_CALL_DROP);
	return 0;
}

/* The socket through fd -> file -> socket -> sock, for connects that never
 * reached SYN_SENT (UDP, AF_UNIX, or TCP failing before it); NULL if none. */
static __always_inline struct sock *fd_sock(__u32 fd)
{
	struct file **fds;
	struct file *file;
	struct socket *sock;
	unsigned int max_fds;

	if (task_calls) {
		/* 5.11+: the task is a BTF pointer, and its fd table is
		 * reached with plain loads (four instead of six probe reads,
		 * each 15-25 ns under the UDP storm) */
		struct fdtable *fdt = bpf_get_current_task_btf()->files->fdt;

		fds = fdt->fd;
		max_fds = fdt->max_fds;
	} else {
		struct task_struct *task = (void *)bpf_get_current_task();

		fds = BPF_CORE_READ(task, files, fdt, fd);
		max_fds = BPF_CORE_READ(task, files, fdt, max_fds);
	}
	if (!fds || fd >= max_fds)
		return NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return BPF_CORE_READ(sock, sk);
}

/* the inode of a socket's file (unique while it is open), or 0 */
static __always_inline __u64 sock_ino(struct sock *sk)
{
	return BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
}

/* connect() returned while the connection attempt goes on: EINPROGRESS
 * (non-blocking), EINTR, or a restart (ERESTARTSYS..ERESTART_RESTARTBLOCK,
 * seen here before the kernel turns them into EINTR or a restart) */
static __always_inline int still_connecting(long ret)
{
	return ret == -EINPROGRESS || ret == -EINTR || (ret <= -512 && ret >= -516);
}

static __always_inline int take_outcome(__u64 key, struct ct_inflight *inf, int err, __u64 lat_ns,
					__u8 flags, const int keep);

/* This connect() moved no socket to SYN_SENT: is it a repeat of a connect
 * already counted on this very socket (still under way, or resolved)? */
static __always_inline int repeated(struct sock *sk, long ret)
{
	__u64 key = (__u64)sk, ino = sock_ino(sk);
	struct ct_inflight *inf = bpf_map_lookup_elem(&socks, &key);
	struct counted_val *v;

	if (!ino)
		return 0;
	if (inf && inf->ino == ino) {
		/* Its outcome is still to come, unless this call returns it:
		 * a connect() the kernel restarted after a signal, or one
		 * called again to poll (EALREADY until then), returns the
		 * result once the socket left SYN_SENT, which is after the
		 * state change's run. An entry still unresolved here had that
		 * run skipped: the result the program was told is the
		 * outcome (no handshake time), once the socket is out of
		 * SYN_SENT (a bad argument to the call is refused before the
		 * state is looked at). With the ring buffer full the entry
		 * stays, for the socket's destroy (raw_destroy). */
		if (ret != -EALREADY && !still_connecting(ret) && inf->ev.kind && !inf->resolved &&
		    BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_SYN_SENT)
			take_outcome(key, inf, ret == -EISCONN ? 0 : (int)ret,
				     bpf_ktime_get_ns() - inf->syn_ts, 0, 0);
		return 1;
	}
	v = bpf_map_lookup_elem(&counted, &key);
	if (!v || v->ino != ino)
		return 0;
	/* the answers a program gets for that same connect: a new attempt
	 * on the socket that fails before SYN_SENT is counted */
	if (ret != -EALREADY && ret != -EISCONN && ret != v->err && v->err != ERR_ANY)
		return 0;
	if (ret != -EALREADY)
		bpf_map_delete_elem(&counted, &key); /* the program has its answer */
	return 1;
}

/* The handshake of socket sk (in SYN_SENT inside this connect()) goes on
 * after connect() returned ret: still_connecting(), or TCP_FASTOPEN_CONNECT
 * with a cookie, where connect() returns 0 at once and the SYN goes out
 * with the first write (tcp_fastopen_defer_connect()): the socket is then
 * still in SYN_SENT. The state is read only for a 0 (a connect() that
 * returned established: the state is read once, 80-170 ns). */
static __always_inline int goes_on(long ret, __u64 sk)
{
	if (still_connecting(ret))
		return 1;
	return !ret && BPF_CORE_READ((struct sock *)sk, __sk_common.skc_state) == TCP_SYN_SENT;
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

/* handshake_err(): the application closed or shut down the socket in
 * SYN_SENT with no error reported to it. Not an errno: emitted as
 * CT_F_ABANDONED (positive, so never taken for 0 or -errno). */
#define ERR_ABANDONED 1

/* The result of a handshake that left SYN_SENT for newstate, read from the
 * socket: 0, -errno or ERR_ABANDONED. lat_ns: the time it spent in SYN_SENT.
 * reported: the error the application read while it was in SYN_SENT
 * (on_getsockopt_exit) or the kernel reported (raw_sk_error, 5.14+), else 0. */
static __always_inline int handshake_err(struct sock *sk, int newstate, __u64 lat_ns, const int btf,
					 int reported)
{
	struct socket *so;
	int err, soft, ss;

	if (newstate != TCP_CLOSE)
		return 0;
	/* RST sets sk_err to ECONNREFUSED, the SYN retransmit timer to
	 * ETIMEDOUT, ICMP to EHOSTUNREACH etc. before the state change */
	err = btf ? sk->sk_err : BPF_CORE_READ(sk, sk_err);
	if (err)
		return -err;
	/* 0: the application read the error (getsockopt SO_ERROR clears
	 * sk_err without the socket lock) in the gap between the kernel
	 * setting it and changing the state, or it closed the socket (close()
	 * sets sk_shutdown to SHUTDOWN_MASK before the state change; the
	 * kernel's own close only after) or shut it down (shutdown() marks
	 * the socket disconnecting; the error comes after the state change).
	 * An ICMP error that arrives while connect() holds the socket lock
	 * goes to sk_err_soft only and the socket stays in SYN_SENT; the
	 * owner is woken, SO_ERROR returns (and clears) sk_err_soft when
	 * sk_err is 0, and an epoll client (node, Go, nginx) closes the
	 * socket: the error it read is `reported`. */
	soft = btf ? sk->sk_err_soft : BPF_CORE_READ(sk, sk_err_soft);
	so = btf ? sk->sk_socket : BPF_CORE_READ(sk, sk_socket);
	ss = !so ? 0 : btf ? so->state : BPF_CORE_READ(so, state);
	if ((btf ? BPF_CORE_READ_BITFIELD(sk, sk_shutdown) :
		   BPF_CORE_READ_BITFIELD_PROBED(sk, sk_shutdown)) == SHUTDOWN_MASK ||
	    ss == SS_DISCONNECTING) {
		/* closed by the application: after reading an error
		 * (on_getsockopt_exit), that error is what it saw; else it
		 * gave up waiting (its own timeout) */
		return reported ? reported : ERR_ABANDONED;
	}
	if (reported)
		return reported;
	/* before 5.14 (no report): the SYN timeout gives sk_err_soft ?:
	 * ETIMEDOUT (tcp_write_err()), and an ICMP error seen under the
	 * socket lock stays in sk_err_soft */
	if (soft > 0 && soft < 4096)
		return -soft;
	/* then the handshake time tells: a SYN timeout takes at least one
	 * initial RTO (1 s, TCP_TIMEOUT_INIT), an RST comes within a round
	 * trip */
	return lat_ns >= 1000000000ULL ? -ETIMEDOUT : -ECONNREFUSED;
}

/* An event's result from a resolution's (err, lat_ns, flags) */
static __always_inline void set_result(struct ct_event *e, int err, __u64 lat_ns, __u8 flags)
{
	if (err == ERR_ABANDONED) {
		err = -ECONNABORTED;
		flags = CT_F_ABANDONED; /* lat_ns: how long it waited */
	}
	e->ret = err;
	e->lat_ns = lat_ns;
	e->flags = flags;
}

/* The exit's side of the arbitration for a tracked socket: e is the event
 * about to be submitted. */
static __always_inline void claim(struct ct_event *e, __u64 sk, struct ct_inflight *inf, int on)
{
	/* the SYNs retransmitted so far (on_retransmit; track_late: e has
	 * those from before the socket was tracked) stay in inf->ev through
	 * the copy below */
	__u32 n = e->syn_rt + inf->ev.syn_rt;

	e->syn_rt = n > 255 ? 255 : n;
	if (!on) {
		/* connect() returned with the handshake resolved (a socket
		 * with a send timeout that did not expire, or a race with
		 * fcntl): its result is the final word. This does not depend
		 * on having seen the resolution, which a BPF program can
		 * miss: a softirq that changes a socket's state while this
		 * CPU is already inside raw_sock_state is not traced (the
		 * recursion guard; user space reports those runs as
		 * "missed"). */
		if (!inf->resolved) {
			forget(sk);
			return;
		}
		if (inf->resolved == RESOLVED_LAT) {
			e->lat_ns = inf->lat_ns;
			e->flags = CT_F_HANDSHAKE;
		}
		bpf_map_delete_elem(&socks, &sk); /* its token went at resolution */
		return;
	}
	/* the event (and the inode) are written before the token goes: the
	 * resolution reads them as soon as it finds the token gone */
	inf->ino = sock_ino((struct sock *)sk);
	__builtin_memcpy(&inf->ev, e, sizeof(*e));
	if (bpf_map_delete_elem(&tokens, &sk) == 0) {
		/* first: the handshake is still under way, its resolution
		 * will emit CT_EV_OUTCOME */
		e->flags = CT_F_PENDING;
	} else {
		/* second: the handshake already resolved */
		if (inf->resolved == RESOLVED_LAT)
			set_result(e, inf->err, inf->lat_ns, CT_F_HANDSHAKE);
		else
			set_result(e, inf->err, e->lat_ns, 0);
		note_counted(sk, inf->ino, inf->err);
		forget(sk);
	}
}

/* Take the entry of socket key out of socks and emit the outcome of the
 * connect counted as pending from it (err: 0, -errno or ERR_ABANDONED).
 * Whoever deletes the entry emits: the resolution, the exit that tracked the
 * socket late, a new socket tracked at the same address, or the user-space
 * sweep of old entries; so an outcome is never emitted twice. 0 if this took
 * it, -1 if another one did (or, not keep, the ring buffer was full: the
 * entry stays as it was).
 *
 * keep (the resolution): with the ring buffer full the entry, its outcome
 * written in and marked CT_INF_UNSENT, moves to "late", where user space
 * takes it and delivers the outcome (probe_sweep). Deleting it instead lost
 * the outcome of a connect user space had counted as pending, which then
 * stayed pending for ever; keeping it in socks would make each new socket at
 * that address go untracked. Only the resolution may write into the entry:
 * nothing else takes a resolved entry meanwhile (the sweep leaves those,
 * and no new socket has this address while the old one changes state).
 *
 * The record is reserved and released in one block: older verifiers (5.10,
 * 6.1) lose a reservation tested for NULL twice. */
static __always_inline int take_outcome(__u64 key, struct ct_inflight *inf, int err, __u64 lat_ns,
					__u8 flags, const int keep)
{
	struct ct_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		struct late_key lk = { .sk = key, .syn_ts = inf->syn_ts };

		if (!keep)
			return -1;
		if (err == ERR_ABANDONED) {
			err = -ECONNABORTED;
			flags = CT_F_ABANDONED;
		}
		inf->err = err;
		inf->lat_ns = lat_ns;
		inf->resolved = CT_INF_UNSENT | flags;
		if (bpf_map_update_elem(&late, &lk, inf, BPF_NOEXIST)) {
			/* late is full too: lost, counted */
			if (bpf_map_delete_elem(&socks, &key))
				return -1;
			count(CT_CNT_RB_DROP);
			return 0;
		}
		if (bpf_map_delete_elem(&socks, &key)) {
			bpf_map_delete_elem(&late, &lk);
			return -1;
		}
		count(CT_CNT_OUTCOME_LATE);
		return 0;
	}
	__builtin_memcpy(e, &inf->ev, sizeof(*e)); /* before the delete: inf may be reused after */
	e->kind = CT_EV_OUTCOME;
	set_result(e, err, lat_ns, flags);
	e->ts_ns = bpf_ktime_get_ns();
	if (bpf_map_delete_elem(&socks, &key)) {
		bpf_ringbuf_discard(e, 0);
		return -1;
	}
	bpf_ringbuf_submit(e, wake_flags());
	count(CT_CNT_OUTCOMES);
	return 0;
}

/* An entry left at a socket address by a socket whose resolution was
 * missed, found when a new socket there is tracked: a connect counted as
 * pending gets the outcome "not seen" (-EINPROGRESS), as the sweep gives.
 * With the ring buffer full the entry stays for the sweep (the new socket
 * goes untracked, counted). */
static __always_inline void settle_stale(__u64 key)
{
	struct ct_inflight *old = bpf_map_lookup_elem(&socks, &key);

	int taken;

	if (!old)
		return;
	if (old->ev.kind)
		taken = !take_outcome(key, old, -EINPROGRESS, 0, 0, 0);
	else /* its connect() was never counted */
		taken = !bpf_map_delete_elem(&socks, &key);
	if (taken)
		bpf_map_delete_elem(&tokens, &key);
}

/* put a socket in socks and tokens: 0, or -1 (counted) when a map is full */
static __always_inline int track(__u64 key, __u64 syn_ts)
{
	struct ct_inflight fresh = {};
	__u8 one = 1;

	fresh.syn_ts = syn_ts;
	if (bpf_map_update_elem(&socks, &key, &fresh, BPF_NOEXIST)) {
		settle_stale(key);
		if (bpf_map_update_elem(&socks, &key, &fresh, BPF_NOEXIST)) {
			count(CT_CNT_SOCK_DROP);
			return -1;
		}
	}
	if (bpf_map_update_elem(&tokens, &key, &one, BPF_ANY)) {
		bpf_map_delete_elem(&socks, &key);
		count(CT_CNT_SOCK_DROP);
		return -1;
	}
	return 0;
}

/* A blocking connect() that returned with its handshake still under way
 * (a signal: EINTR or a restart; or O_NONBLOCK set by another thread in
 * between): track the socket now. A resolution that ran before the entry
 * existed has already changed the state, which the state read after the
 * token delete sees; one running at the very moment of the insert may
 * still miss it, and the socket's move to CLOSE resolves it then. */
static __always_inline void track_late(struct ct_event *e, struct sock *sk, __u64 syn_ts, __u64 now)
{
	__u64 key = (__u64)sk, ino;
	struct ct_inflight *inf;
	int state, reported, err;

	if (track(key, syn_ts))
		return;
	inf = bpf_map_lookup_elem(&socks, &key);
	if (!inf)
		return;
	claim(e, key, inf, 1);
	if (!(e->flags & CT_F_PENDING))
		return;
	state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (state == TCP_SYN_SENT)
		return;
	/* resolved before it was tracked: this is the resolution, unless
	 * one ran meanwhile and took the entry (then it emits the outcome);
	 * a restarted connect() will return it again */
	ino = inf->ino;
	reported = inf->err;
	if (bpf_map_delete_elem(&socks, &key))
		return;
	bpf_map_delete_elem(&tokens, &key);
	err = handshake_err(sk, state, now - syn_ts, 0, reported);
	set_result(e, err, err == ERR_ABANDONED ? now - syn_ts : e->lat_ns, 0);
	note_counted(key, ino, err);
}

/* what every CT_EV_CONNECT says: the caller and the call */
static __always_inline void fill_event(struct ct_event *e, const struct call *c, __u64 id, long ret,
				       __u64 now)
{
	struct task_struct *task;

	__builtin_memcpy(e->daddr, c->daddr, sizeof(e->daddr));
	e->dport = c->dport;
	e->ts_ns = now;
	e->lat_ns = now - c->ts;
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->start_ns = c->ts;
	e->ret = ret;
	e->family = c->family;
	e->syn_rt = 0;
	e->kind = CT_EV_CONNECT;
	e->flags = 0;
	e->scope_id = c->scope_id;
	e->sport = 0;
	__builtin_memset(e->spare, 0, sizeof(e->spare));
	if (task_calls) {
		/* plain loads: bpf_get_current_comm() is a helper call and a
		 * strscpy (about 25 ns under the UDP storm); the bytes after
		 * the NUL are not ours to trust either way */
		task = bpf_get_current_task_btf();
		if (e->tid == e->tgid)
			__builtin_memcpy(e->comm, task->comm, sizeof(e->comm));
		else
			__builtin_memcpy(e->comm, task->group_leader->comm, sizeof(e->comm));
		return;
	}
	if (e->tid == e->tgid) {
		bpf_get_current_comm(e->comm, sizeof(e->comm)); /* the leader itself */
	} else {
		task = (void *)bpf_get_current_task();
		BPF_CORE_READ_STR_INTO(&e->comm, task, group_leader, comm);
	}
}

struct unix_record {
	struct ct_event ev;
	struct ct_path to;
};

/* --unix: one record with the path the caller passed */
static __always_inline void emit_unix(const struct call *c, __u64 id, long ret, __u64 now)
{
	struct unix_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	struct sock *sk;
	__u32 n = c->alen;

	if (!r) {
		count(CT_CNT_RB_DROP);
		return;
	}
	fill_event(&r->ev, c, id, ret, now);
	sk = fd_sock(c->fd);
	r->ev.proto = sk ? BPF_CORE_READ_BITFIELD_PROBED(sk, sk_type) : 0;
	if (n > CT_PATH_LEN)
		n = CT_PATH_LEN;
	/* sun_path starts at byte 2; a failed read leaves zeros */
	r->to.len = bpf_probe_read_user(r->to.path, n, (void *)(c->uaddr + 2)) ? 0 : n;
	bpf_ringbuf_submit(r, wake_flags());
}

/* SYN retransmits of sockets in SYN_SENT that are not in socks: those of
 * blocking connects (announce(): no map is touched for them), taken by
 * their exit (blocking_retrans()). Written only when a SYN is retransmitted
 * (rare); LRU: an entry nobody takes (a kernel socket, a process filtered
 * out) goes in time, and one lost to eviction loses only that count. */
struct synrt_val {
	__u64 first_ts; /* bpf_ktime_get_ns() of its first retransmit */
	__u64 ino;	/* the socket's inode: tells a new socket at the address */
	__u32 n;	/* SYNs retransmitted */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64); /* struct sock * */
	__type(value, struct synrt_val);
} synrt SEC(".maps");

/* 1 while user space's DNS capture is disarmed (tui/dnscap.h): the next
 * UDP connect to port 53 wakes it at once, not at the next batch, so that
 * it arms before the answer comes back. Set by user space, cleared here. */
__u32 dns_wake = 0;

/* entries put in synrt minus those taken: while 0 (no SYN was lost), the
 * exit of a blocking connect looks nothing up. Evicted entries keep it
 * above 0: then every blocking exit looks up, which is only slower. */
__u64 synrt_live = 0;

/* The SYNs the blocking connect c (its socket c->sk went to SYN_SENT at
 * c->syn_ts) retransmitted: taken out of synrt. */
static __always_inline __u8 blocking_retrans(const struct call *c)
{
	__u64 key = c->sk;
	struct synrt_val *v;
	__u32 n;

	if (!synrt_live)
		return 0;
	v = bpf_map_lookup_elem(&synrt, &key);
	/* an entry from before this SYN_SENT is an older socket's */
	if (!v || v->first_ts < c->syn_ts)
		return 0;
	n = v->n;
	if (!bpf_map_delete_elem(&synrt, &key))
		__sync_fetch_and_add(&synrt_live, -1);
	return n > 255 ? 255 : n;
}

/* A blocking connect() whose socket just went to SYN_SENT (c->sk): counted
 * now as pending, so that it is seen while it waits (up to 127 s with the
 * default tcp_syn_retries, like a non-blocking one); its exit emits the
 * outcome. No map is touched: the stash has all the exit needs. With the
 * ring buffer full it is counted at its exit instead, as before. */
static __always_inline void announce(struct call *c, __u64 now)
{
	struct ct_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return;
	fill_event(e, c, bpf_get_current_pid_tgid(), -EINPROGRESS, now);
	e->proto = IPPROTO_TCP;
	e->flags = CT_F_PENDING;
	bpf_ringbuf_submit(e, wake_flags());
	c->announced = 1;
}

/* An announced connect() returned with its handshake still under way (a
 * signal: EINTR or a restart; O_NONBLOCK or a send timeout set by another
 * thread meanwhile; TCP_FASTOPEN_CONNECT): its socket is tracked now, with
 * its event claimed, so that the resolution emits the outcome. A restarted
 * connect() is then a repeat (repeated()). As in track_late(), a resolution
 * that ran before the entry existed is seen in the state read after the
 * token delete. */
static __always_inline void follow_announced(const struct call *c, __u64 id, long ret, __u64 now)
{
	__u64 key = c->sk, ino;
	struct sock *sk = (struct sock *)key;
	struct ct_inflight *inf = NULL;
	struct ct_event *e;
	int state, err;

	if (!track(key, c->syn_ts))
		inf = bpf_map_lookup_elem(&socks, &key);
	if (!inf) {
		/* not followed (a full map, counted): the outcome is "not
		 * seen" now rather than never, and the calls for its result
		 * are no new connects */
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (e) {
			fill_event(e, c, id, ret, now);
			e->kind = CT_EV_OUTCOME;
			e->proto = IPPROTO_TCP;
			bpf_ringbuf_submit(e, wake_flags());
			count(CT_CNT_OUTCOMES);
		} else {
			count(CT_CNT_RB_DROP);
		}
		note_counted(key, sock_ino(sk), ERR_ANY);
		return;
	}
	fill_event(&inf->ev, c, id, -EINPROGRESS, now);
	inf->ev.syn_rt = blocking_retrans(c); /* those before it was tracked */
	inf->ev.proto = IPPROTO_TCP;
	inf->ev.flags = CT_F_PENDING;
	inf->ino = ino = sock_ino(sk);
	if (bpf_map_delete_elem(&tokens, &key)) {
		/* second: it resolved between track() and here */
		err = inf->err;
		if (!take_outcome(key, inf, err, inf->lat_ns,
				  inf->resolved == RESOLVED_LAT ? CT_F_HANDSHAKE : 0, 0))
			note_counted(key, ino, err);
		return;
	}
	state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (state == TCP_SYN_SENT)
		return;
	/* resolved before it was tracked: this is the resolution, unless
	 * one ran meanwhile and took the entry */
	err = handshake_err(sk, state, now - c->syn_ts, 0, inf->err);
	if (!take_outcome(key, inf, err, err == ERR_ABANDONED ? now - c->syn_ts : 0, 0, 0))
		note_counted(key, ino, err);
}

/* the exit of an announced connect(): its outcome. on: the handshake goes
 * on (goes_on()). */
static __always_inline void finish_announced(const struct call *c, __u64 id, long ret, int on,
					     __u64 now)
{
	struct ct_event *e;

	if (on) {
		follow_announced(c, id, ret, now);
		return;
	}
	/* returned with the handshake resolved: what it returned, and the
	 * time in SYN_SENT, as for any blocking connect */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(CT_CNT_RB_DROP);
		return;
	}
	fill_event(e, c, id, ret, now);
	e->kind = CT_EV_OUTCOME;
	e->proto = IPPROTO_TCP;
	e->lat_ns = now - c->syn_ts;
	e->flags = CT_F_HANDSHAKE;
	e->syn_rt = blocking_retrans(c);
	bpf_ringbuf_submit(e, wake_flags());
	count(CT_CNT_OUTCOMES);
}

/* CT_EV_CMDLINE: the command line of each process, sent once (again after
 * an exec, or when its pid is reused), read here while the process exists */
const volatile bool want_cmdline = false;

struct cmdline_sent {
	__u64 start_time; /* the process's (its leader's task start_time): a reused pid differs */
	union {
		char comm[CT_COMM_LEN];
		__u64 comm_w[CT_COMM_LEN / 8]; /* compared as words (no memcmp in BPF) */
	};
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32); /* tgid */
	__type(value, struct cmdline_sent);
} cmdlines SEC(".maps");

static __always_inline void send_cmdline(__u64 id, __u64 now)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct cmdline_sent cur = {}, *was;
	__u32 tgid = id >> 32;
	struct ct_cmdline *cl;
	struct ct_event *e;
	__u64 start, end, len;

	cur.start_time = BPF_CORE_READ(task, group_leader, start_time);
	BPF_CORE_READ_STR_INTO(&cur.comm, task, group_leader, comm);
	was = bpf_map_lookup_elem(&cmdlines, &tgid);
	if (was && was->start_time == cur.start_time && was->comm_w[0] == cur.comm_w[0] &&
	    was->comm_w[1] == cur.comm_w[1])
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e) + sizeof(*cl), 0);
	if (!e)
		return; /* no connect lost: user space reads /proc instead */
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = CT_EV_CMDLINE;
	e->ts_ns = now;
	e->tgid = tgid;
	e->tid = (__u32)id;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->cgroup_id = bpf_get_current_cgroup_id();
	__builtin_memcpy(e->comm, cur.comm, sizeof(e->comm));
	cl = (void *)(e + 1);
	start = BPF_CORE_READ(task, mm, arg_start);
	end = BPF_CORE_READ(task, mm, arg_end);
	len = end > start ? end - start : 0;
	cl->full_len = (__u32)len;
	/* at most CT_CMDLINE_LEN - 1, by a mask too: older verifiers must
	 * see the bound on the very register passed */
	if (len > CT_CMDLINE_LEN - 1)
		len = CT_CMDLINE_LEN - 1;
	len &= CT_CMDLINE_LEN - 1;
	if (len && bpf_probe_read_user(cl->buf, len, (void *)start))
		len = 0;
	cl->len = (__u32)len;
	bpf_ringbuf_submit(e, wake_flags());
	bpf_map_update_elem(&cmdlines, &tgid, &cur, BPF_ANY);
}

static __always_inline int on_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct call *cp, c;
	struct ct_event *e;
	__u64 now, sk = 0, wake = 0;
	__u16 proto;
	int on = 0;

	if (exit_args) {
		if (!call_at_exit(&c, id))
			return 0;
	} else {
		cp = call_cur(tid);
		if (!cp)
			return 0;
		c = *cp;
		if (task_calls)
			cp->ts = 0;
		else
			bpf_map_delete_elem(&calls, &tid);
	}

	if (!c.family && read_sockaddr(&c))
		return 0; /* not traced (c.family is set at SYN_SENT) */
	if (filtered_out(&c)) {
		if (c.tracked)
			forget(c.sk);
		return 0;
	}
	now = bpf_ktime_get_ns();
	if (!c.ts)
		c.ts = now; /* exit_args: no SYN_SENT, no time before this */
	if (want_cmdline)
		send_cmdline(id, now);
	if (c.family == AF_UNIX) {
		emit_unix(&c, id, ret, now);
		return 0;
	}
	if (c.sk) {
		sk = c.sk;
		proto = IPPROTO_TCP;
		on = goes_on(ret, sk);
		if (c.announced) {
			finish_announced(&c, id, ret, on, now);
			return 0;
		}
	} else {
		struct sock *s = fd_sock(c.fd);

		sk = (__u64)s;
		/* sk_protocol was a bitfield before 5.6 (commit
		 * bf9765145b85): read it in a way that works for both. A
		 * file that is no socket has no struct socket to read. */
		proto = s && ret != -ENOTSOCK ? BPF_CORE_READ_BITFIELD_PROBED(s, sk_protocol) : 0;
		if (proto == IPPROTO_TCP && repeated(s, ret))
			return 0;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(CT_CNT_RB_DROP);
		if (c.tracked)
			forget(c.sk);
		return 0;
	}
	fill_event(e, &c, id, ret, now);
	e->proto = proto;
	/* a UDP socket connected to port 53: its local port is what DNS
	 * answers come back to, how user space credits them to this pid.
	 * One read, only for these; every other event pays a compare. */
	if (proto == IPPROTO_UDP && c.dport == 53 && !ret) {
		e->sport = BPF_CORE_READ((struct sock *)sk, __sk_common.skc_num);
		if (dns_wake) {
			dns_wake = 0;
			wake = BPF_RB_FORCE_WAKEUP;
		}
	}
	if (c.tracked) {
		struct ct_inflight *inf = bpf_map_lookup_elem(&socks, &sk);

		if (inf)
			claim(e, sk, inf, on);
	} else if (c.sk) {
		if (!on) {
			/* blocking: returned when the handshake resolved */
			e->lat_ns = now - c.syn_ts;
			e->flags = CT_F_HANDSHAKE;
			e->syn_rt = blocking_retrans(&c);
		} else if (!c.untracked) {
			e->syn_rt = blocking_retrans(&c);
			track_late(e, (struct sock *)c.sk, c.syn_ts, now);
		} else {
			/* not followed: later calls for its result are not
			 * new connects either */
			note_counted(sk, sock_ino((struct sock *)sk), ERR_ANY);
		}
	}
	bpf_ringbuf_submit(e, wake ? wake : wake_flags());
	return 0;
}

/* a tracked socket's handshake resolved: whoever comes second emits */
static __always_inline void resolve(__u64 key, struct ct_inflight *inf, int err, __u64 lat_ns,
				    __u32 how)
{
	__u64 ino;

	inf->lat_ns = lat_ns;
	inf->err = err;
	inf->resolved = how;
	if (bpf_map_delete_elem(&tokens, &key) == 0)
		return; /* first: sys_exit_connect will emit the final result */

	/* second: connect() already returned and was counted as pending */
	ino = inf->ino; /* inf may be reused once deleted */
	if (!take_outcome(key, inf, err, lat_ns, how == RESOLVED_LAT ? CT_F_HANDSHAKE : 0, 1))
		note_counted(key, ino, err);
}

/* --test-skip-resolution: the resolution passes inf by, as a skipped run */
static __always_inline int test_skipped(const struct ct_inflight *inf)
{
	return test_skip_port && inf->ev.dport == test_skip_port;
}

/* 0 if inf was left at sk's address by another socket, whose resolution
 * was missed: left to the sweep (or to the next socket tracked there) */
static __always_inline int same_socket(const struct ct_inflight *inf, struct sock *sk)
{
	__u64 ino;

	if (!inf->ino)
		return 1; /* not claimed yet: the socket's own exit is to come */
	ino = sock_ino(sk);
	return !ino || ino == inf->ino; /* no file any more: cannot tell */
}

/* connect() on this socket may return before the handshake resolves.
 * btf: sk is a BTF pointer (tp_btf), read with plain loads. */
static __always_inline int may_return_early(struct sock *sk, const int btf)
{
	unsigned int f_flags;
	long timeo;

	if (btf) {
		struct socket *so = sk->sk_socket;

		f_flags = so && so->file ? so->file->f_flags : 0;
		timeo = sk->sk_sndtimeo;
	} else {
		f_flags = BPF_CORE_READ(sk, sk_socket, file, f_flags);
		timeo = BPF_CORE_READ(sk, sk_sndtimeo);
	}
	return (f_flags & O_NONBLOCK) || timeo != MAX_SCHEDULE_TIMEOUT;
}

/* the destination from a socket in SYN_SENT into c. btf: sk is a BTF
 * pointer, read with plain loads. */
static __always_inline void sock_daddr(struct sock *sk, struct call *c, const int btf)
{
	__u32 a4;

	if (!btf) {
		c->family = BPF_CORE_READ(sk, __sk_common.skc_family);
		c->dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (c->family == AF_INET6 && bpf_core_field_exists(sk->__sk_common.skc_v6_daddr)) {
			BPF_CORE_READ_INTO(&c->daddr, sk, __sk_common.skc_v6_daddr);
			if (needs_scope(c->daddr))
				c->scope_id = BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if);
		} else if (c->family != AF_INET6) {
			a4 = BPF_CORE_READ(sk, __sk_common.skc_daddr);
			__builtin_memcpy(c->daddr, &a4, 4);
		}
		return;
	}
	c->family = sk->__sk_common.skc_family;
	c->dport = __builtin_bswap16(sk->__sk_common.skc_dport);
	/* skc_v6_daddr exists only in kernels built with IPv6: without
	 * the check the program would not load on one without (and there
	 * no socket is AF_INET6) */
	if (c->family == AF_INET6 && bpf_core_field_exists(sk->__sk_common.skc_v6_daddr)) {
		__builtin_memcpy(c->daddr, &sk->__sk_common.skc_v6_daddr, sizeof(c->daddr));
		/* tcp_v6_connect() binds the socket to the scope's interface */
		if (needs_scope(c->daddr))
			c->scope_id = sk->__sk_common.skc_bound_dev_if;
	} else if (c->family != AF_INET6) {
		__builtin_memcpy(c->daddr, &sk->__sk_common.skc_daddr, 4);
	}
}

/* TCP Fast Open by sendto()/sendmsg() with MSG_FASTOPEN: the socket goes to
 * SYN_SENT in the caller's context too, inside tcp_sendmsg_fastopen(), which
 * has set its fastopen_req; there is no connect() and no stash (hooking the
 * send syscalls would cost every send on the host). Counted as a pending
 * connect from now, the socket tracked with its event already claimed (no
 * token): its resolution emits the outcome. The record is reserved before
 * the socket is tracked, so that the outcome, which a resolution on
 * another CPU may emit at once, comes after it in the ring buffer. */
static __always_inline void tfo_sent(struct sock *sk, __u64 key, const int btf)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct ct_inflight fresh = {};
	struct call c = {};
	struct ct_event *e;

	if (!traced_tgid(tgid))
		return;
	/* not TFO: a kernel socket (NFS, ...) or an io_uring connect */
	if (!BPF_CORE_READ((struct tcp_sock *)sk, fastopen_req))
		return;
	sock_daddr(sk, &c, btf);
	if (filtered_out(&c))
		return;
	c.ts = bpf_ktime_get_ns();
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(CT_CNT_RB_DROP);
		return;
	}
	fill_event(e, &c, id, -EINPROGRESS, c.ts);
	e->proto = IPPROTO_TCP;
	e->flags = CT_F_PENDING;
	__builtin_memcpy(&fresh.ev, e, sizeof(*e));
	fresh.syn_ts = c.ts;
	fresh.ino = sock_ino(sk);
	if (bpf_map_update_elem(&socks, &key, &fresh, BPF_NOEXIST)) {
		settle_stale(key);
		if (bpf_map_update_elem(&socks, &key, &fresh, BPF_NOEXIST)) {
			bpf_ringbuf_discard(e, 0);
			count(CT_CNT_SOCK_DROP);
			return;
		}
	}
	bpf_ringbuf_submit(e, wake_flags());
}

static __always_inline int on_state(struct sock *sk, int oldstate, int newstate, const int btf)
{
	__u64 key = (__u64)sk, lat;
	struct ct_inflight *inf;

	if (newstate == TCP_SYN_SENT) {
		/* inside connect(), in the caller's context */
		struct call *c;
		__u64 now;

		if ((btf ? BPF_CORE_READ_BITFIELD(sk, sk_protocol) :
			   BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol)) != IPPROTO_TCP)
			return 0;
		now = bpf_ktime_get_ns();
		c = exit_args ? call_at_syn(now) : call_cur((__u32)bpf_get_current_pid_tgid());
		if (!c) {
			tfo_sent(sk, key, btf); /* or no traced call at all */
			return 0;
		}
		c->sk = key;
		c->syn_ts = now;
		if (btf) {
			sock_daddr(sk, c, btf);
			if (filtered_out(c))
				return 0; /* its exit drops it */
		}
		if (!may_return_early(sk, btf)) {
			announce(c, c->syn_ts);
			return 0;
		}
		if (!track(key, c->syn_ts))
			c->tracked = 1;
		else
			c->untracked = 1;
		return 0;
	}
	if (oldstate == TCP_SYN_SENT) {
		if (newstate != TCP_ESTABLISHED && newstate != TCP_CLOSE)
			return 0;
		inf = bpf_map_lookup_elem(&socks, &key);
		if (!inf)
			return 0;
		if (!same_socket(inf, sk) || test_skipped(inf))
			return 0;
		lat = bpf_ktime_get_ns() - inf->syn_ts;
		resolve(key, inf, handshake_err(sk, newstate, lat, btf, inf->err), lat,
			RESOLVED_LAT);
		return 0;
	}
	if (newstate != TCP_CLOSE)
		return 0;
	/* A socket's last state change. One still tracked and unresolved left
	 * SYN_SENT unseen (a skipped run, or the race in track_late) for a
	 * state other than CLOSE: it was established. */
	inf = bpf_map_lookup_elem(&socks, &key);
	if (inf && !inf->resolved && same_socket(inf, sk) && !test_skipped(inf))
		resolve(key, inf, 0, 0, RESOLVED_NOLAT);
	return 0;
}

/* A getsockopt(SOL_SOCKET, SO_ERROR) in progress, per thread (by tid):
 * where the result goes. Rare enough (about once per non-blocking connect)
 * for a hash in both stash modes. */
struct soerr_call {
	__u64 optval; /* user pointer to the int */
	__u32 fd;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct soerr_call);
} soerr_calls SEC(".maps");

#define SOL_SOCKET 1
#define SO_ERROR 4

static __always_inline int on_getsockopt_enter(__u64 fd, __u64 level, __u64 optname, __u64 optval)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct soerr_call c = { .optval = optval, .fd = (__u32)fd };

	if (level != SOL_SOCKET || optname != SO_ERROR || !traced_tgid(tgid))
		return 0;
	bpf_map_update_elem(&soerr_calls, &tid, &c, BPF_ANY);
	return 0;
}

/*
 * The error an application read with getsockopt(SO_ERROR) from a socket
 * still tracked in SYN_SENT: the result it saw, which the read cleared
 * (sk_err, or sk_err_soft when sk_err is 0). An epoll client (node, Go,
 * nginx) that is told of an ICMP error reads it and closes the socket, and
 * the resolution then finds no error but the close: without this it was
 * taken for an abandoned connect (ECONNABORTED before). Works on every
 * kernel: it needs only the syscall tracepoints.
 */
static __always_inline int on_getsockopt_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct soerr_call *cp, c;
	struct ct_inflight *inf;
	struct sock *sk;
	__u64 key, ino;
	int val = 0;

	if (exit_args) {
		struct pt_regs *regs = cur_regs(bpf_get_current_task_btf());

		/* level and optname are ints: the registers' upper halves
		 * are not the caller's */
		if ((__u32)SYSCALL_ARG2(regs) != SOL_SOCKET ||
		    (__u32)SYSCALL_ARG3(regs) != SO_ERROR || !traced_tgid(id >> 32))
			return 0;
		c.fd = (__u32)SYSCALL_ARG1(regs);
		c.optval = SYSCALL_ARG4(regs);
	} else {
		cp = bpf_map_lookup_elem(&soerr_calls, &tid);
		if (!cp)
			return 0;
		c = *cp;
		bpf_map_delete_elem(&soerr_calls, &tid);
	}
	if (ret || bpf_probe_read_user(&val, sizeof(val), (void *)c.optval) || val <= 0 ||
	    val >= 4096)
		return 0;
	sk = fd_sock(c.fd);
	key = (__u64)sk;
	inf = sk ? bpf_map_lookup_elem(&socks, &key) : NULL;
	if (!inf || inf->resolved || !same_socket(inf, sk))
		return 0;
	inf->err = -val;
	/* The socket is closed and its entry unresolved: the kernel changed
	 * its state without the runs of the state change and the error
	 * report (the tracepoint reaches neither BPF nor perf for some of
	 * the SYN timeouts that expire together: seen on 6.18, with no
	 * recursion miss counted). The error the application read is the
	 * outcome, settled now rather than at the socket's destroy; no
	 * handshake time. In SYN_SENT the read is only kept (the state
	 * change comes after it: tcp_done_with_error()). */
	if (!inf->ev.kind || BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_CLOSE)
		return 0; /* not counted yet (its exit settles it), or in SYN_SENT */
	ino = inf->ino;	  /* inf may be reused once taken */
	if (!take_outcome(key, inf, -val, bpf_ktime_get_ns() - inf->syn_ts, 0, 1)) {
		note_counted(key, ino, -val);
		count(CT_CNT_OUTCOME_DESTROY);
	}
	return 0;
}

SEC("tp/syscalls/sys_enter_getsockopt")
int tp_enter_getsockopt(struct trace_event_raw_sys_enter *ctx)
{
	return on_getsockopt_enter(ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3]);
}

SEC("tp/syscalls/sys_exit_getsockopt")
int tp_exit_getsockopt(struct trace_event_raw_sys_exit *ctx)
{
	return on_getsockopt_exit(ctx->ret);
}

SEC("tp/syscalls/sys_enter_connect")
int tp_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(ctx->args[0], ctx->args[1], ctx->args[2]);
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
 * first. The arguments are read from the user registers the syscall entry
 * saved, through libbpf's per-arch names (x86_64: di, si, dx and r10 for the
 * 4th, as the syscall ABI passes it instead of cx; arm64: orig_x0, which
 * keeps x0 after the return value replaced it, then regs[1..3]).
 */
#if defined(bpf_target_x86)
#define SYSCALL_NR_CORE(regs) BPF_CORE_READ(regs, orig_ax)
#elif defined(bpf_target_arm64)
/* the number the syscall was entered with (-1 when none: a signal return) */
#define SYSCALL_NR_CORE(regs) BPF_CORE_READ(regs, syscallno)
#else
#error "raw_tp sys_exit: the syscall number's register is known for x86 and arm64 only"
#endif

SEC("raw_tp/sys_enter")
int BPF_PROG(raw_enter, struct pt_regs *regs, long nr)
{
	if (nr == getsockopt_nr)
		return on_getsockopt_enter(PT_REGS_PARM1_CORE_SYSCALL(regs),
					   PT_REGS_PARM2_CORE_SYSCALL(regs),
					   PT_REGS_PARM3_CORE_SYSCALL(regs),
					   PT_REGS_PARM4_CORE_SYSCALL(regs));
	if (nr != connect_nr)
		return 0;
	return on_enter(PT_REGS_PARM1_CORE_SYSCALL(regs), PT_REGS_PARM2_CORE_SYSCALL(regs),
			PT_REGS_PARM3_CORE_SYSCALL(regs));
}

SEC("raw_tp/sys_exit")
int BPF_PROG(raw_exit, struct pt_regs *regs, long ret)
{
	long nr = SYSCALL_NR_CORE(regs);

	if (nr == getsockopt_nr)
		return on_getsockopt_exit(ret);
	if (nr != connect_nr)
		return 0;
	return on_exit(ret);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(btf_sock_state, struct sock *sk, int oldstate, int newstate)
{
	return on_state(sk, oldstate, newstate, 1);
}

/* before 5.11 (with the hash stash): sk is a plain number here */
SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(raw_sock_state, struct sock *sk, int oldstate, int newstate)
{
	return on_state(sk, oldstate, newstate, 0);
}

/*
 * A segment retransmitted (tcp:tcp_retransmit_skb, every kernel we support;
 * user space loads one of the two programs below only where BTF shows the
 * tracepoint, with the arguments that program expects). In SYN_SENT it is
 * the SYN (or a TCP Fast Open SYN with data). Timer context: nothing about
 * the caller here. A tracked socket counts in its entry, which its outcome
 * copies; a blocking connect's socket (not tracked) counts in synrt. The
 * retransmit timer holds the socket lock: no two runs for one socket race.
 */
static __always_inline int on_retransmit(struct sock *sk)
{
	__u64 key = (__u64)sk, ino;
	struct ct_inflight *inf;
	struct synrt_val *v, fresh = {};

	if (BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_SYN_SENT)
		return 0;
	inf = bpf_map_lookup_elem(&socks, &key);
	if (inf && !inf->resolved && same_socket(inf, sk)) {
		if (inf->ev.syn_rt < 255)
			inf->ev.syn_rt++;
		return 0;
	}
	ino = sock_ino(sk);
	v = bpf_map_lookup_elem(&synrt, &key);
	if (v && v->ino == ino) {
		v->n++;
		return 0;
	}
	fresh.first_ts = bpf_ktime_get_ns();
	fresh.ino = ino;
	fresh.n = 1;
	if (v) { /* an older socket's, never taken */
		*v = fresh;
		return 0;
	}
	if (!bpf_map_update_elem(&synrt, &key, &fresh, BPF_NOEXIST))
		__sync_fetch_and_add(&synrt_live, 1);
	return 0;
}

/* 5.10, 6.1, 6.12: trace_tcp_retransmit_skb(sk, skb), only when it was sent */
SEC("raw_tp/tcp_retransmit_skb")
int BPF_PROG(raw_retrans, struct sock *sk)
{
	return on_retransmit(sk);
}

/* 6.18 (and some release before it): (sk, skb, err), for failed ones too */
SEC("raw_tp/tcp_retransmit_skb")
int BPF_PROG(raw_retrans_err, struct sock *sk, struct sk_buff *skb, int err)
{
	return err ? 0 : on_retransmit(sk);
}

/*
 * A TCP socket destroyed (tcp:tcp_destroy_sock, from tcp_v4_destroy_sock for
 * IPv4 and IPv6, since 4.15: every kernel we run on). The backstop of the
 * resolution, so that nothing stays pending once its socket is gone: an entry
 * still in socks here had its resolution skipped (a run of the state change
 * the kernel did not make, or one whose entry could not be taken), and is
 * settled now. The state changes and the destroy hold the socket lock, and
 * connect() holds the file: no resolution or exit of this socket runs
 * meanwhile. The socket is orphaned by now (no inode to compare): an entry
 * at this address is this socket's, or one of a socket freed before whose
 * own destroy found nothing; either is settled. Once per TCP socket on the
 * host: one lookup when nothing is tracked.
 */
SEC("raw_tp/tcp_destroy_sock")
int BPF_PROG(raw_destroy, struct sock *sk)
{
	__u64 key = (__u64)sk, lat;
	struct ct_inflight *inf = bpf_map_lookup_elem(&socks, &key);
	__u32 how;
	int err;

	if (!inf)
		return 0;
	bpf_map_delete_elem(&tokens, &key);
	if (!inf->ev.kind) {
		/* its connect() was never counted: nothing is owed */
		bpf_map_delete_elem(&socks, &key);
		return 0;
	}
	how = inf->resolved;
	lat = bpf_ktime_get_ns() - inf->syn_ts;
	if (how) {
		/* resolved, its outcome not sent (CT_INF_UNSENT: written in,
		 * then neither sent nor moved to late) */
		err = inf->err;
		lat = inf->lat_ns;
	} else if (BPF_CORE_READ((struct tcp_sock *)sk, srtt_us)) {
		/* an RTT was measured: a SYN-ACK came, it was established */
		err = 0;
		how = RESOLVED_NOLAT;
	} else {
		err = handshake_err(sk, TCP_CLOSE, lat, 0, inf->err);
		how = RESOLVED_NOLAT;
	}
	if (!take_outcome(key, inf, err, lat,
			  how & CT_INF_UNSENT ? how & 0xff :
			  how == RESOLVED_LAT ? CT_F_HANDSHAKE :
						0,
			  1))
		count(CT_CNT_OUTCOME_DESTROY);
	return 0;
}

/*
 * An error reported to a socket's owner (sk_error_report(), 5.14+: user
 * space loads this only where the tracepoint exists). Before 6.10 a fatal
 * error is reported before the state change (tcp_reset, tcp_write_err), and
 * an application woken on another CPU may read it (SO_ERROR clears sk_err)
 * before that change: the resolution then takes the error kept here (since
 * tcp_done_with_error(), 6.10, the report comes after the change). Rare
 * (errors only), so one raw_tp with probe reads for both stashes.
 */
SEC("raw_tp/inet_sk_error_report")
int BPF_PROG(raw_sk_error, struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct ct_inflight *inf = bpf_map_lookup_elem(&socks, &key);
	int err;

	/* a resolved entry has its result (6.x reports a fatal error after
	 * the state change, which read it) */
	if (!inf || inf->resolved || !same_socket(inf, sk) || test_skipped(inf))
		return 0;
	err = BPF_CORE_READ(sk, sk_err);
	if (!err)
		err = BPF_CORE_READ(sk, sk_err_soft);
	if (err <= 0 || err >= 4096)
		return 0;
	inf->err = -err;
	/* From 6.10 a SYN timeout or an RST is reported after tcp_done():
	 * an entry still unresolved in CLOSE had the run of the state change
	 * skipped (the kernel skips a program's run nested in its own on the
	 * same CPU: a timer's softirq during a process-context run; counted
	 * in recursion_misses, shown as missed). This is a program of its
	 * own, not skipped with it: the resolution, with the real error. */
	if (BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_CLOSE)
		resolve(key, inf, -err, bpf_ktime_get_ns() - inf->syn_ts, RESOLVED_LAT);
	return 0;
}
