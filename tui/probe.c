// SPDX-License-Identifier: GPL-2.0-or-later
#include "probe.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "connecttop.h"
#include "connecttop.skel.h"
#include "release.h"
#include "util.h"

#define TRACEFS_MAGIC 0x74726163

/* One probe_drain() hands over at most this many records, and stops after
 * DRAIN_NS (the clock read every DRAIN_CLOCK_EVERY records): under a flood
 * ring_buffer__consume() would go on as long as producers keep up, and
 * signals, keys and the interval's timer wait until it returns. The rest
 * stays queued; the ring buffer's fd, level-triggered in epoll, is ready
 * again at once. About 125 ns per record: 65536 take some 8 ms. */
#define DRAIN_RECORDS 65536
#define DRAIN_NS (20 * 1000000ULL)
#define DRAIN_CLOCK_EVERY 256

struct probe {
	struct connecttop_bpf *skel;
	struct ring_buffer *rb;
	/* enter, exit, socket states, error reports (5.14+), and with tracefs
	 * getsockopt enter and exit (else raw_enter/raw_exit take those), SYN
	 * retransmits, socket destroys */
	struct bpf_link *links[8];
	struct bpf_program *progs[8]; /* the attached programs, for their counters */
	probe_event_fn fn;
	void *ctx;
	char mode[64];
	int task_calls; /* the per-thread stash is task storage */
	int exit_args;	/* no entry programs: the exits read the saved arguments */
	int synrt;	/* tcp:tcp_retransmit_skb attached: events count SYN retransmits */
	uint64_t swept; /* stale entries of socks deleted by probe_sweep */
	uint64_t late;	/* outcomes probe_sweep delivered for BPF (CT_INF_UNSENT) */
	uint64_t attach_ns;
	int ncpus;
	/* what is left of the current probe_drain()'s budget */
	long drain_left;
	uint64_t drain_deadline_ns;
	uint64_t drains_cut;	 /* probe_drain() calls that ended on the budget */
	unsigned int perf_links; /* bit i: links[i] is a syscall tracepoint's perf event */
};

static int verbose;
static char last_log[256];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[sizeof(last_log)];
	va_list copy;

	va_copy(copy, ap);
	if (level != LIBBPF_DEBUG) {
		vsnprintf(line, sizeof(line), fmt, copy);
		line[strcspn(line, "\n")] = 0;
		if (*line)
			memcpy(last_log, line, sizeof(line));
	}
	va_end(copy);
	if (verbose)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static const char *const tracefs_dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

static int tp_id(const char *dir, const char *event)
{
	char path[256], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/events/syscalls/%s/id", dir, event);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	return atoi(buf);
}

/* The directory holding the syscall tracepoints, mounting tracefs if nobody
 * did (a minimal system, a container, an initramfs). NULL if it cannot be
 * had: then the raw syscall tracepoints, which need no tracefs, are used. */
static const char *visible_tracefs(void)
{
	for (size_t i = 0; i < sizeof(tracefs_dirs) / sizeof(tracefs_dirs[0]); i++)
		if (tp_id(tracefs_dirs[i], "sys_enter_connect") > 0)
			return tracefs_dirs[i];
	return NULL;
}

static const char *find_tracefs(void)
{
	const char *dir = visible_tracefs();
	struct statfs sfs;

	if (dir)
		return dir;
	if (statfs(tracefs_dirs[0], &sfs) == 0 && sfs.f_type == TRACEFS_MAGIC)
		return NULL; /* mounted, but no syscall tracepoints in this kernel */
	if (mount("tracefs", tracefs_dirs[0], "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return NULL;
	return tp_id(tracefs_dirs[0], "sys_enter_connect") > 0 ? tracefs_dirs[0] : NULL;
}

/* Attach a tp/ program through perf_event_open ourselves, so the tracefs we
 * found (or mounted) is the one used whatever libbpf would look for. */
static struct bpf_link *attach_syscall_tp(struct bpf_program *prog, const char *dir,
					  const char *event)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(attr),
		.sample_period = 1,
		.wakeup_events = 1,
	};
	struct bpf_link *link;
	int id = tp_id(dir, event), pfd;

	if (id < 0) {
		errno = -id;
		return NULL;
	}
	attr.config = id;
	pfd = syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return NULL;
	link = bpf_program__attach_perf_event(prog, pfd);
	if (!link) {
		int err = errno;

		close(pfd);
		errno = err;
	}
	return link;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct probe *p = ctx;

	p->fn(p->ctx, data, size);
	/* a negative return ends ring_buffer__consume() with this record
	 * consumed: libbpf moves past a record before its callback runs */
	if (--p->drain_left <= 0 ||
	    (!(p->drain_left % DRAIN_CLOCK_EVERY) && ct_now_ns() >= p->drain_deadline_ns))
		return -EAGAIN;
	return 0;
}

/* CapEff of this process has CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON */
static int privileged(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	unsigned long long caps = 0;
	char line[256];

	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return (caps >> CAP_SYS_ADMIN & 1) || ((caps >> CAP_BPF & 1) && (caps >> CAP_PERFMON & 1));
}

static const char *perm_hint(void)
{
	return geteuid() ?
		       "needs root or CAP_BPF+CAP_PERFMON: try sudo" :
		       "root but still not permitted: kernel lockdown, seccomp or a container without CAP_BPF?";
}

/*
 * The capture's choices. probe_new() and probe_features() (--probe) both
 * call these, so that --probe reports the very path the capture takes.
 */

/* 0 if this kernel and these privileges can capture at all; else -errno
 * with one line in err: -ENOTSUP (the kernel lacks something), -EPERM. */
static int capture_possible(char *err, size_t errlen)
{
	struct utsname u;
	int rc;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(
			err, errlen,
			"this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): connecttop needs Linux 5.8+ "
			"built with CONFIG_DEBUG_INFO_BTF=y");
		return -ENOTSUP;
	}
	if (!privileged()) {
		snprintf(err, errlen, "cannot use BPF: %s", perm_hint());
		return -EPERM;
	}
	rc = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
	if (rc == 0) {
		uname(&u);
		snprintf(err, errlen,
			 "kernel %s has no BPF ring buffer: connecttop needs Linux 5.8 or later",
			 u.release);
		return -ENOTSUP;
	}
	if (rc == -EPERM || rc == -EACCES) {
		snprintf(err, errlen, "cannot use BPF: %s", perm_hint());
		return -EPERM;
	}
	return 0;
}

/* The per-thread stash in task storage, and with it the socket states read
 * through BTF (tp_btf): task storage for tracing programs and
 * bpf_get_current_task_btf() came with 5.11. 1 yes, 0 no, -errno unknown. */
static int task_storage_usable(void)
{
	int r[3] = {
		libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL),
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_task_storage_get, NULL),
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_get_current_task_btf,
					NULL),
	};

	for (int i = 0; i < 3; i++)
		if (r[i] == 0)
			return 0;
	for (int i = 0; i < 3; i++)
		if (r[i] < 0)
			return r[i];
	return 1;
}

/* Whether a tracepoint program may read a task's saved user registers
 * (bpf_task_pt_regs, 5.15+): the syscall exits then read the arguments
 * there, and the entry programs are left out. 1 yes, 0 no, -errno. */
static int task_regs_usable(void)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_task_pt_regs, NULL);
}

/* Whether the kernel has the tracepoint GROUP:NAME, for a raw_tp program
 * loaded only where it exists (a program for a missing tracepoint fails the
 * whole load, and the capture must work on 5.10): sock:inet_sk_error_report
 * (5.14+), which tells the error a socket's owner was told of. Found in
 * tracefs (the directory the syscall tracepoints came from, or NULL), else in
 * the kernel's BTF, where each tracepoint has a btf_trace_<name> typedef. 1
 * yes, 0 no, -errno unknown. */
static int tracepoint_known(const char *tracefs, const char *group, const char *name)
{
	struct btf *vmlinux;
	char path[256];
	int id;

	/* tracefs lists every trace event: asked there when it is at hand,
	 * since parsing the kernel's BTF here took 35 ms of the start-up
	 * (libbpf parses it again to load the programs) */
	if (tracefs) {
		snprintf(path, sizeof(path), "%s/events/%s/%s", tracefs, group, name);
		if (access(path, F_OK) == 0)
			return 1;
	}
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return -errno;
	snprintf(path, sizeof(path), "btf_trace_%s", name);
	id = btf__find_by_name_kind(vmlinux, path, BTF_KIND_TYPEDEF);
	btf__free(vmlinux);
	return id > 0;
}

static int error_report_usable(const char *tracefs)
{
	return tracepoint_known(tracefs, "sock", "inet_sk_error_report");
}

/* The arguments of the tracepoint tcp:tcp_retransmit_skb, from the kernel's
 * BTF (its btf_trace_ typedef: a pointer to a function of the tracepoint's
 * data pointer then its arguments): 2 (sk, skb) on 5.10, 6.1 and 6.12, 3 (sk,
 * skb, err) on 6.18; 0 when it is missing, -1 when its arguments are neither
 * (then it is not used: --probe says so), -errno unknown. */
static int retrans_args(void)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	const struct btf_type *t;
	const struct btf_param *a;
	int id, n = -1;

	if (!vmlinux)
		return -errno;
	id = btf__find_by_name_kind(vmlinux, "btf_trace_tcp_retransmit_skb", BTF_KIND_TYPEDEF);
	if (id <= 0) {
		btf__free(vmlinux);
		return 0;
	}
	t = btf__type_by_id(vmlinux, id); /* typedef -> pointer -> function */
	t = t ? btf__type_by_id(vmlinux, t->type) : NULL;
	if (t && btf_is_ptr(t))
		t = btf__type_by_id(vmlinux, t->type);
	if (t && btf_is_func_proto(t)) {
		a = btf_params(t);
		/* (void *, sk, skb[, int err]) */
		if ((btf_vlen(t) == 3 || btf_vlen(t) == 4) &&
		    btf_is_ptr(btf__type_by_id(vmlinux, a[1].type)))
			n = btf_vlen(t) - 1;
	}
	btf__free(vmlinux);
	return n;
}

/* the capture path in words, as -v's "attached (...)" line and --probe
 * print it (the tests match it): "SYSCALLS, STASH[, args at exit]"; the
 * socket states go with the stash (task storage: tp_btf, tid hash: raw_tp) */
static void path_name(char *buf, size_t len, int tracefs, int task_calls, int exit_args)
{
	snprintf(buf, len, "%s, %s%s", tracefs ? "tracepoint" : "raw_tp (no tracefs)",
		 task_calls ? "task storage" : "tid hash", exit_args ? ", args at exit" : "");
}

/* How many records a CPU submits between two looks at the ring buffer's
 * fill: together the CPUs then hold back at most half of wakeup_bytes
 * unlooked-at, so that a wake-up comes at most that much late. */
static uint32_t wake_every(uint64_t wakeup_bytes)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t n = wakeup_bytes / 2 / (ncpus > 0 ? ncpus : 1) / (sizeof(struct ct_event) + 8);

	return n > 1 ? (n < 256 ? (uint32_t)n : 256) : 1;
}

/* A syscall's exit tracepoint into links[i + 1] and, without exit_args,
 * its entry into links[i]: the exit first (with exit_args a SYN_SENT makes
 * a stash that only the exit clears). Both or neither: links[i + 1] NULL
 * with errno set when one failed. */
static void attach_syscall_pair(struct probe *p, const char *tracefs, int i,
				struct bpf_program *enter, struct bpf_program *exit,
				const char *name)
{
	char ev[64];
	int err;

	snprintf(ev, sizeof(ev), "sys_exit_%s", name);
	p->links[i + 1] = attach_syscall_tp(exit, tracefs, ev);
	if (!p->links[i + 1] || p->exit_args)
		return;
	snprintf(ev, sizeof(ev), "sys_enter_%s", name);
	p->links[i] = attach_syscall_tp(enter, tracefs, ev);
	if (p->links[i])
		return;
	err = errno;
	bpf_link__destroy(p->links[i + 1]);
	p->links[i + 1] = NULL;
	errno = err;
}

struct probe *probe_new(const struct probe_opts *o, probe_event_fn fn, void *ctx, char *err,
			size_t errlen)
{
	uint64_t t0 = ct_now_ns();
	struct probe *p;
	const char *tracefs = NULL;
	int rc;

	verbose = o->verbose;
	libbpf_set_print(libbpf_print);
	rc = capture_possible(err, errlen);
	if (rc) {
		errno = -rc;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->fn = fn;
	p->ctx = ctx;
	p->skel = connecttop_bpf__open();
	if (!p->skel) {
		rc = -errno;
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(-rc));
		goto fail;
	}
	p->skel->rodata->self_tgid = o->self_tgid;
	p->skel->rodata->filter_tgid = o->filter_tgid;
	p->skel->rodata->filter_port = o->filter_port;
	p->skel->rodata->filter_family = o->filter_family == 4 ? AF_INET :
					 o->filter_family == 6 ? AF_INET6 :
								 0;
	p->skel->rodata->wakeup_bytes = o->wakeup_bytes;
	p->skel->rodata->wake_every = wake_every(o->wakeup_bytes);
	p->skel->rodata->connect_nr = __NR_connect;
	p->skel->rodata->getsockopt_nr = __NR_getsockopt;
	p->skel->rodata->trace_unix = o->unix_socks;
	p->skel->rodata->want_cmdline = o->want_cmdline;
	rc = bpf_map__set_max_entries(p->skel->maps.events, (uint32_t)o->ringbuf_bytes);
	if (rc) {
		snprintf(err, errlen, "cannot size the ring buffer to %llu bytes: %s",
			 (unsigned long long)o->ringbuf_bytes, strerror(-rc));
		goto fail;
	}
	p->skel->rodata->test_skip_port = o->skip_port;
	if (o->inflight_max) {
		bpf_map__set_max_entries(p->skel->maps.socks, o->inflight_max);
		bpf_map__set_max_entries(p->skel->maps.tokens, o->inflight_max);
		bpf_map__set_max_entries(p->skel->maps.late, o->inflight_max);
	}
	/* the per-thread stash: task storage where tracing programs may use
	 * it (5.11+), else a hash keyed by tid */
	p->task_calls = !o->force_hash && task_storage_usable() == 1;
	p->skel->rodata->task_calls = p->task_calls;
	if (!p->task_calls) {
		bpf_map__set_type(p->skel->maps.calls, BPF_MAP_TYPE_HASH);
		bpf_map__set_map_flags(p->skel->maps.calls, 0);
		bpf_map__set_max_entries(p->skel->maps.calls, 16384);
	}
	if (!o->force_raw)
		tracefs = find_tracefs();
	p->exit_args = tracefs && p->task_calls && !o->entry_args && task_regs_usable() == 1;
	p->skel->rodata->exit_args = p->exit_args;
	bpf_program__set_autoload(p->skel->progs.tp_enter_connect, tracefs && !p->exit_args);
	bpf_program__set_autoload(p->skel->progs.tp_exit_connect, tracefs != NULL);
	bpf_program__set_autoload(p->skel->progs.tp_enter_getsockopt, tracefs && !p->exit_args);
	bpf_program__set_autoload(p->skel->progs.tp_exit_getsockopt, tracefs != NULL);
	bpf_program__set_autoload(p->skel->progs.raw_enter, tracefs == NULL);
	bpf_program__set_autoload(p->skel->progs.raw_exit, tracefs == NULL);
	bpf_program__set_autoload(p->skel->progs.btf_sock_state, p->task_calls);
	bpf_program__set_autoload(p->skel->progs.raw_sock_state, !p->task_calls);
	bpf_program__set_autoload(p->skel->progs.raw_sk_error, error_report_usable(tracefs) == 1);
	path_name(p->mode, sizeof(p->mode), tracefs != NULL, p->task_calls, p->exit_args);

	rc = connecttop_bpf__load(p->skel);
	if (rc) {
		if (rc == -EPERM || rc == -EACCES)
			snprintf(err, errlen, "cannot load the BPF programs: %s", perm_hint());
		else
			snprintf(err, errlen, "cannot load the BPF programs: %s%s%s", strerror(-rc),
				 *last_log ? ": libbpf: " : "", last_log);
		goto fail;
	}
	if (tracefs) {
		p->perf_links = 1u << 0 | 1u << 1 | 1u << 4 | 1u << 5;
		attach_syscall_pair(p, tracefs, 0, p->skel->progs.tp_enter_connect,
				    p->skel->progs.tp_exit_connect, "connect");
	} else {
		p->links[0] = bpf_program__attach(p->skel->progs.raw_enter);
		p->links[1] = p->links[0] ? bpf_program__attach(p->skel->progs.raw_exit) : NULL;
	}
	if (p->links[1])
		p->links[2] = bpf_program__attach(p->task_calls ? p->skel->progs.btf_sock_state :
								  p->skel->progs.raw_sock_state);
	p->progs[0] = p->exit_args ? NULL :
		      tracefs	   ? p->skel->progs.tp_enter_connect :
				     p->skel->progs.raw_enter;
	p->progs[1] = tracefs ? p->skel->progs.tp_exit_connect : p->skel->progs.raw_exit;
	p->progs[2] = p->task_calls ? p->skel->progs.btf_sock_state : p->skel->progs.raw_sock_state;
	if (!p->links[2]) {
		rc = -errno;
		snprintf(err, errlen, "cannot attach to the connect tracepoints (%s): %s", p->mode,
			 rc == -EPERM || rc == -EACCES ? perm_hint() : strerror(-rc));
		goto fail;
	}
	if (tracefs) {
		/* the errors applications read (SO_ERROR) */
		p->progs[4] = p->exit_args ? NULL : p->skel->progs.tp_enter_getsockopt;
		p->progs[5] = p->skel->progs.tp_exit_getsockopt;
		attach_syscall_pair(p, tracefs, 4, p->progs[4], p->progs[5], "getsockopt");
		if (!p->links[5]) {
			rc = -errno;
			snprintf(err, errlen, "cannot attach to the getsockopt tracepoints: %s",
				 rc == -EPERM || rc == -EACCES ? perm_hint() : strerror(-rc));
			goto fail;
		}
	}
	if (bpf_program__autoload(p->skel->progs.raw_sk_error)) {
		/* it exists (BTF says so): failing to attach is failing */
		p->progs[3] = p->skel->progs.raw_sk_error;
		p->links[3] = bpf_program__attach(p->progs[3]);
		if (!p->links[3]) {
			rc = -errno;
			snprintf(err, errlen,
				 "cannot attach to the tracepoint sock:inet_sk_error_report: %s",
				 rc == -EPERM || rc == -EACCES ? perm_hint() : strerror(-rc));
			goto fail;
		}
	}
	/* SYN retransmits: without them the counts show as unknown ("-"),
	 * the capture goes on */
	/* Both programs are loaded; the kernel takes the one whose arguments
	 * it has (a raw_tp reading past them is refused at attach): (sk, skb,
	 * err) since 6.18's, else (sk, skb). Asked of the kernel's BTF
	 * instead, that took 35 ms of the start-up (retrans_args(), for
	 * --probe). */
	p->progs[6] = p->skel->progs.raw_retrans_err;
	p->links[6] = bpf_program__attach(p->progs[6]);
	if (!p->links[6]) {
		p->progs[6] = p->skel->progs.raw_retrans;
		p->links[6] = bpf_program__attach(p->progs[6]);
	}
	p->synrt = p->links[6] != NULL;
	/* the backstop that settles what is still tracked of a socket when it
	 * is destroyed (tcp:tcp_destroy_sock, 4.15+): without it, a skipped
	 * resolution waits for probe_sweep(); the capture goes on */
	p->progs[7] = p->skel->progs.raw_destroy;
	p->links[7] = bpf_program__attach(p->progs[7]);
	if (!p->links[7])
		fprintf(stderr,
			"connecttop: cannot attach to tcp:tcp_destroy_sock (%s): an outcome whose "
			"state change is missed waits for the sweep\n",
			strerror(errno));
	p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.events), handle_event, p, NULL);
	if (!p->rb) {
		rc = -errno;
		snprintf(err, errlen, "cannot map the ring buffer: %s", strerror(-rc));
		goto fail;
	}
	p->ncpus = libbpf_num_possible_cpus();
	p->attach_ns = ct_now_ns() - t0;
	return p;
fail:
	probe_free(p);
	errno = rc < 0 ? -rc : EINVAL;
	return NULL;
}

static void *link_destroy(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/* Detaching a syscall tracepoint's perf event waits for the RCU grace
 * periods that end its runs (tracepoint_synchronize_unregister()): 17-28 ms
 * each here, about 90 of the 105 ms from SIGINT to exit when done one after
 * the other. Done in parallel threads, the waits overlap (of the program's
 * detach, synchronize_rcu_tasks_trace() on 6.18; the event's own close is
 * serialised by the kernel's event_mutex). */
static void links_destroy(struct bpf_link **links, size_t n)
{
	pthread_t threads[n];
	int started[n];

	for (size_t i = 0; i < n; i++)
		started[i] = links[i] && !pthread_create(&threads[i], NULL, link_destroy, links[i]);
	for (size_t i = 0; i < n; i++) {
		if (started[i])
			pthread_join(threads[i], NULL);
		else
			bpf_link__destroy(links[i]); /* NULL, or no thread: here */
		links[i] = NULL;
	}
}

/* The syscall tracepoints' links, whose last close waits for the kernel's
 * grace periods (release.h; 109-198 ms from SIGINT to exit on the 2-core
 * test VM, threads or not), are handed to a child that closes them once
 * this process has exited: connecttop's own closes are then quick. Their
 * programs stay attached until then, writing to a ring buffer nobody
 * reads. Without that child (no close_range, 5.8) they are closed here. */
static void perf_links_release(struct probe *p)
{
	int fds[ARRAY_SIZE(p->links)];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(p->links); i++)
		if (p->links[i] && (p->perf_links >> i & 1) && bpf_link__fd(p->links[i]) >= 0)
			fds[n++] = bpf_link__fd(p->links[i]);
	if (n)
		release_after_exit(fds, n);
}

void probe_free(struct probe *p)
{
	if (!p)
		return;
	ring_buffer__free(p->rb);
	perf_links_release(p);
	links_destroy(p->links, sizeof(p->links) / sizeof(p->links[0]));
	connecttop_bpf__destroy(p->skel);
	free(p);
}

void probe_dns_wake(struct probe *p, int on)
{
	/* .bss is memory-mapped (libbpf, Linux 5.5): a plain store */
	if (p->skel->bss)
		__atomic_store_n(&p->skel->bss->dns_wake, on ? 1 : 0, __ATOMIC_RELAXED);
}

int probe_fd(const struct probe *p)
{
	return ring_buffer__epoll_fd(p->rb);
}

int probe_drain(struct probe *p, long max)
{
	int rc;

	p->drain_left = max > 0 ? max : DRAIN_RECORDS;
	p->drain_deadline_ns = max > 0 ? UINT64_MAX : ct_now_ns() + DRAIN_NS;
	rc = ring_buffer__consume(p->rb);
	if (rc == -EAGAIN) {
		p->drains_cut++;
		return 1;
	}
	return rc < 0 ? rc : 0;
}

uint64_t probe_drains_cut(const struct probe *p)
{
	return p->drains_cut;
}

void probe_counters(const struct probe *p, struct probe_counters *c)
{
	uint64_t sums[CT_CNT_MAX] = { 0 };
	uint64_t *vals = calloc(p->ncpus > 0 ? p->ncpus : 1, sizeof(*vals));
	int fd = bpf_map__fd(p->skel->maps.counters);

	for (uint32_t k = 0; vals && k < CT_CNT_MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int cpu = 0; cpu < p->ncpus; cpu++)
			sums[k] += vals[cpu];
	}
	free(vals);
	c->rb_drops = sums[CT_CNT_RB_DROP];
	c->call_drops = sums[CT_CNT_CALL_DROP];
	c->sock_drops = sums[CT_CNT_SOCK_DROP];
	c->outcomes = sums[CT_CNT_OUTCOMES];
	c->outcomes_late = sums[CT_CNT_OUTCOME_LATE];
	c->outcomes_destroy = sums[CT_CNT_OUTCOME_DESTROY];
	c->swept = p->swept;
	c->missed = 0;
	for (size_t i = 0; i < sizeof(p->links) / sizeof(p->links[0]); i++) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		if (!p->links[i])
			continue;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(bpf_program__fd(p->progs[i]), &info, &len))
			c->missed += info.recursion_misses;
	}
}

int probe_late_waiting(const struct probe *p)
{
	uint64_t *vals = calloc(p->ncpus > 0 ? p->ncpus : 1, sizeof(*vals)), sum = 0;
	uint32_t k = CT_CNT_OUTCOME_LATE;

	if (vals && !bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.counters), &k, vals))
		for (int cpu = 0; cpu < p->ncpus; cpu++)
			sum += vals[cpu];
	free(vals);
	return sum > p->late;
}

/* Deliver the outcomes BPF put in "late" (the ring buffer was full): each
 * deleted first (only user space deletes there), then handed over. */
static void deliver_late(struct probe *p, uint64_t now_ns)
{
	int fd = bpf_map__fd(p->skel->maps.late);
	struct late_key key, *cur = NULL, prev;
	struct ct_inflight v;

	/* a walk that deletes the key it stands on starts over: harmless
	 * here, where each key found is deleted */
	while (!bpf_map_get_next_key(fd, cur, &key)) {
		prev = key;
		cur = &prev;
		if (bpf_map_lookup_elem(fd, &key, &v) || bpf_map_delete_elem(fd, &key))
			continue;
		p->late++;
		v.ev.kind = CT_EV_OUTCOME;
		v.ev.flags = v.resolved & 0xff;
		v.ev.ret = v.err;
		v.ev.lat_ns = v.lat_ns;
		v.ev.ts_ns = now_ns;
		p->fn(p->ctx, &v.ev, sizeof(v.ev));
		cur = NULL; /* from the first key again */
	}
}

size_t probe_sweep(struct probe *p, uint64_t now_ns, uint64_t max_age_ns)
{
	int fd = bpf_map__fd(p->skel->maps.socks), tfd = bpf_map__fd(p->skel->maps.tokens);
	size_t n = 0, cap = 0, swept = 0, steps = 0;
	uint64_t key, prev, *cur = NULL, *stale = NULL;
	struct ct_inflight v;

	deliver_late(p, now_ns);
	/* the stale keys first, then each one looked at again and deleted:
	 * a walk that deletes as it goes starts over from the first key (as
	 * it does when BPF deletes the key it stands on: hence the bound) */
	while (steps++ < 2 * (size_t)bpf_map__max_entries(p->skel->maps.socks) &&
	       !bpf_map_get_next_key(fd, cur, &key)) {
		if (!bpf_map_lookup_elem(fd, &key, &v) && v.syn_ts + max_age_ns < now_ns) {
			if (n == cap) {
				uint64_t *more =
					realloc(stale, (cap = cap ? 2 * cap : 64) * sizeof(*stale));

				if (!more)
					break;
				stale = more;
			}
			stale[n++] = key;
		}
		prev = key;
		cur = &prev;
	}
	for (size_t i = 0; i < n; i++) {
		/* one resolved is being taken out by BPF right now; else the
		 * delete decides: BPF emits only when its own delete succeeds */
		if (bpf_map_lookup_elem(fd, &stale[i], &v) || v.syn_ts + max_age_ns >= now_ns ||
		    v.resolved || bpf_map_delete_elem(fd, &stale[i]))
			continue;
		bpf_map_delete_elem(tfd, &stale[i]);
		swept++;
		if (v.ev.kind != CT_EV_CONNECT)
			continue; /* its connect() was never counted */
		/* counted as pending: it gets an outcome, one that says the
		 * real one was not seen */
		v.ev.kind = CT_EV_OUTCOME;
		v.ev.flags = 0;
		v.ev.ret = -EINPROGRESS;
		v.ev.ts_ns = now_ns;
		p->fn(p->ctx, &v.ev, sizeof(v.ev));
	}
	free(stale);
	p->swept += swept;
	return swept;
}

int probe_syn_retrans(const struct probe *p)
{
	return p->synrt;
}

const char *probe_mode(const struct probe *p)
{
	return p->mode;
}

uint64_t probe_attach_ns(const struct probe *p)
{
	return p->attach_ns;
}

static const char *yes(int v)
{
	return v > 0 ? "yes" : v == 0 ? "no" : "unknown (needs privileges)";
}

/* What find_tracefs() would return, without leaving a mount behind: where
 * capture would mount tracefs, it is mounted on a scratch folder instead
 * and taken away again. 1 with *dir set, 0 (the raw syscall tracepoints),
 * -errno when not known. */
static int tracefs_would(const char **dir)
{
	char tmp[] = "/tmp/connecttop-tracefs.XXXXXX";
	struct statfs sfs;
	int ok;

	*dir = visible_tracefs();
	if (*dir)
		return 1;
	if (!privileged())
		return -EPERM; /* tracefs is root's to read and to mount */
	if (statfs(tracefs_dirs[0], &sfs) == 0 && sfs.f_type == TRACEFS_MAGIC)
		return 0; /* mounted, but no syscall tracepoints in this kernel */
	if (access(tracefs_dirs[0], F_OK) || !mkdtemp(tmp))
		return 0;
	ok = mount("tracefs", tmp, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0;
	if (ok) {
		ok = tp_id(tmp, "sys_enter_connect") > 0;
		umount2(tmp, MNT_DETACH);
	}
	rmdir(tmp);
	*dir = tracefs_dirs[0];
	return ok;
}

void probe_features(FILE *out)
{
	struct utsname u;
	const char *tracefs;
	char why[256], path[96];
	int priv, can, ts, tf, er, rt, ra;

	libbpf_set_print(libbpf_print);
	uname(&u);
	can = capture_possible(why, sizeof(why));
	priv = can != -EPERM;
	ts = priv ? task_storage_usable() : -EPERM;
	tf = tracefs_would(&tracefs);
	fprintf(out, "kernel:                  %s %s\n", u.release, u.machine);
	fprintf(out, "BTF (/sys/kernel/btf):   %s\n",
		yes(access("/sys/kernel/btf/vmlinux", R_OK) == 0));
	fprintf(out, "ring buffer map:         %s (required, Linux 5.8+)\n",
		yes(priv ? libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) : -EPERM));
	fprintf(out, "hash map:                %s (required)\n",
		yes(priv ? libbpf_probe_bpf_map_type(BPF_MAP_TYPE_HASH, NULL) : -EPERM));
	fprintf(out,
		"raw tracepoints:         %s (required: sock/inet_sock_set_state before 5.11)\n",
		yes(priv ? libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, NULL) :
			   -EPERM));
	fprintf(out, "tracepoint programs:     %s\n",
		yes(priv ? libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACEPOINT, NULL) : -EPERM));
	/* the three choices probe_new() makes, with the same checks */
	if (tf > 0)
		fprintf(out,
			"connect syscalls:        tracepoints syscalls:sys_{enter,exit}_connect in %s%s\n",
			tracefs, visible_tracefs() ? "" : " (not mounted: connecttop mounts it)");
	else if (tf == 0)
		fprintf(out,
			"connect syscalls:        raw_tp sys_enter/sys_exit (no syscall tracepoints in tracefs)\n");
	else
		fprintf(out, "connect syscalls:        unknown (needs privileges)\n");
	/* the arguments at exit: tracefs, task storage and the registers */
	ra = tf > 0 && ts > 0 ? task_regs_usable() : tf < 0 || ts < 0 ? -EPERM : 0;
	if (ra > 0)
		fprintf(out,
			"connect arguments:       at exit, from the saved registers (bpf_task_pt_regs, Linux 5.15+)\n");
	else if (ra == 0)
		fprintf(out, "connect arguments:       at entry (%s)\n",
			!tf ? "raw_tp sys_enter: no syscall tracepoints" :
			!ts ? "no task storage: before 5.11" :
			      "no bpf_task_pt_regs: before 5.15");
	else
		fprintf(out, "connect arguments:       unknown (needs privileges)\n");
	if (ts >= 0) {
		fprintf(out, "per-thread stash:        %s\n",
			ts ? "task storage (Linux 5.11+)" :
			     "tid hash (no task storage for tracing: before 5.11)");
		fprintf(out, "socket states:           %s\n",
			ts ? "tp_btf inet_sock_set_state (BTF reads)" :
			     "raw_tp inet_sock_set_state (probe reads)");
	} else {
		fprintf(out, "per-thread stash:        unknown (needs privileges)\n");
		fprintf(out, "socket states:           unknown (needs privileges)\n");
	}
	er = priv ? tracepoint_known(visible_tracefs(), "tcp", "tcp_destroy_sock") : -EPERM;
	if (er > 0)
		fprintf(out,
			"socket destroys:         raw_tp tcp_destroy_sock (settles an outcome whose state change was missed)\n");
	else if (er == 0)
		fprintf(out,
			"socket destroys:         no (no tcp:tcp_destroy_sock): a missed outcome waits for the sweep\n");
	else
		fprintf(out, "socket destroys:         unknown (needs privileges)\n");
	er = priv ? error_report_usable(visible_tracefs()) : -EPERM;
	if (er > 0)
		fprintf(out,
			"socket errors:           SO_ERROR reads, raw_tp inet_sk_error_report (Linux 5.14+)\n");
	else if (er == 0)
		fprintf(out,
			"socket errors:           SO_ERROR reads, sk_err_soft (no inet_sk_error_report: before 5.14)\n");
	else
		fprintf(out, "socket errors:           unknown (needs privileges)\n");
	rt = priv ? retrans_args() : -EPERM;
	if (rt > 0)
		fprintf(out, "SYN retransmits:         raw_tp tcp_retransmit_skb (%s)\n",
			rt == 3 ? "sk, skb, err" : "sk, skb");
	else if (rt == 0)
		fprintf(out,
			"SYN retransmits:         no (no tracepoint tcp:tcp_retransmit_skb): shown as -\n");
	else if (rt == -1)
		fprintf(out,
			"SYN retransmits:         no (tcp:tcp_retransmit_skb has unknown arguments): shown as -\n");
	else
		fprintf(out, "SYN retransmits:         unknown (needs privileges)\n");
	if (can == 0 && tf >= 0 && ts >= 0 && ra >= 0) {
		path_name(path, sizeof(path), tf > 0, ts > 0, ra > 0);
		fprintf(out, "capture path:            %s (as -v prints it when attached)\n", path);
	} else if (can == -ENOTSUP) {
		fprintf(out, "capture path:            none: %s\n", why);
	} else {
		fprintf(out,
			"capture path:            unknown (needs privileges: run as root for the answer)\n");
	}
}
