// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Event decoding (decode.c): crafted ring buffer records in, flow samples
 * out. IPv4, IPv6 (IPv4-mapped too), AF_UNIX paths, outcome records,
 * records too short for their family, unknown kinds, and the counters and
 * pid callback each one drives.
 */
#include <errno.h>
#include <linux/types.h>
#include <sys/socket.h>

#include "check.h"
#include "connecttop.h"
#include "decode.h"

/* a record as the ring buffer holds it: 8-byte aligned, the path after */
struct rec {
	struct ct_event e;
	struct ct_path p;
};

static struct {
	int calls;
	uint32_t pid;
	char comm[CT_COMM_LEN + 1];
	uint64_t cgroup_id;
	void *ctx;
} seen;

static void on_pid(void *ctx, uint32_t pid, const char *comm, uint64_t cgroup_id)
{
	seen.calls++;
	seen.pid = pid;
	memcpy(seen.comm, comm, CT_COMM_LEN);
	seen.cgroup_id = cgroup_id;
	seen.ctx = ctx;
}

static struct ct_event ev(int family, const char *addr, unsigned dport, unsigned proto)
{
	struct ct_event e;

	memset(&e, 0, sizeof(e));
	e.ts_ns = 5 * NS_PER_S;
	e.start_ns = 4 * NS_PER_S;
	e.lat_ns = 3 * NS_PER_MS;
	e.tgid = 4242;
	e.tid = 4243;
	e.uid = 1000;
	e.cgroup_id = 777;
	e.family = (uint8_t)family;
	e.dport = (uint16_t)dport;
	e.proto = (uint16_t)proto;
	e.kind = CT_EV_CONNECT;
	if (addr && inet_pton(family, addr, e.daddr) != 1)
		abort();
	memcpy(e.comm, "curl", 5);
	/* the kernel leaves bytes after the NUL as they were */
	memset(e.comm + 5, 'X', sizeof(e.comm) - 5);
	return e;
}

static int same_key(const struct flow_key *a, const struct flow_key *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static void test_ipv4(void)
{
	struct decoder d = { .pid_seen = on_pid, .pid_ctx = &seen };
	struct ct_event e = ev(AF_INET, "10.1.2.3", 5432, P_TCP);
	struct flow_key want = key("curl", "10.1.2.3", 5432, P_TCP);
	struct ct_sample s;

	memset(&seen, 0, sizeof(seen));
	e.flags = CT_F_PENDING;
	e.ret = -EINPROGRESS;
	CHECK_I("ipv4.rc", 0, decode_event(&d, &e, sizeof(e), &s));
	CHECK("ipv4.key", same_key(&want, &s.key));
	CHECK_U("ipv4.family", 4, s.key.family);
	CHECK_U("ipv4.ts", 5 * NS_PER_S, s.ts_ns);
	CHECK_U("ipv4.start", 4 * NS_PER_S, s.start_ns);
	CHECK_U("ipv4.lat", 3 * NS_PER_MS, s.lat_ns);
	CHECK_U("ipv4.pid", 4242, s.pid);
	CHECK_U("ipv4.uid", 1000, s.uid);
	CHECK_I("ipv4.ret", -EINPROGRESS, s.ret);
	CHECK_U("ipv4.pending", 1, s.pending);
	CHECK_U("ipv4.has_lat", 0, s.has_lat);
	CHECK_U("ipv4.abandoned", 0, s.abandoned);
	CHECK_U("ipv4.outcome", 0, s.outcome);
	CHECK_U("ipv4.events", 1, d.events);
	CHECK_U("ipv4.outcomes", 0, d.outcomes);
	CHECK_U("ipv4.pid_seen.calls", 1, seen.calls);
	CHECK_U("ipv4.pid_seen.pid", 4242, seen.pid);
	CHECK_U("ipv4.pid_seen.cgroup", 777, seen.cgroup_id);
	CHECK_S("ipv4.pid_seen.comm", "curl", seen.comm);
	CHECK("ipv4.pid_seen.ctx", seen.ctx == &seen);
}

static void test_ipv6(void)
{
	struct decoder d = { 0 }; /* no pid callback: nothing to call */
	struct ct_event e = ev(AF_INET6, "2001:db8::1", 443, P_TCP);
	struct flow_key want = key("curl", "2001:db8::1", 443, P_TCP);
	struct ct_sample s;

	CHECK_I("ipv6.rc", 0, decode_event(&d, &e, sizeof(e), &s));
	CHECK("ipv6.key", same_key(&want, &s.key));
	CHECK_U("ipv6.family", 6, s.key.family);
	/* an IPv4-mapped destination is the IPv4 flow */
	e = ev(AF_INET6, "::ffff:192.0.2.7", 53, P_UDP);
	want = key("curl", "192.0.2.7", 53, P_UDP);
	CHECK_I("ipv6.mapped.rc", 0, decode_event(&d, &e, sizeof(e), &s));
	CHECK_U("ipv6.mapped.family", 4, s.key.family);
	CHECK("ipv6.mapped.key", same_key(&want, &s.key));
	CHECK_U("ipv6.events", 2, d.events);
}

static void test_unix(void)
{
	struct decoder d = { .pid_seen = on_pid, .pid_ctx = &seen };
	struct rec r, r2;
	struct ct_sample s, s2;
	static const char path[] = "/run/decode-test.sock";

	memset(&seen, 0, sizeof(seen));
	memset(&r, 0, sizeof(r));
	r.e = ev(AF_UNIX, NULL, 0, SOCK_STREAM);
	r.p.len = sizeof(path) - 1;
	memcpy(r.p.path, path, sizeof(path) - 1);
	memset(r.p.path + r.p.len, 'Z', sizeof(r.p.path) - r.p.len); /* undefined bytes */
	CHECK_I("unix.rc", 0, decode_event(&d, &r, sizeof(r), &s));
	CHECK_U("unix.family", CT_FAMILY_UNIX, s.key.family);
	CHECK_U("unix.proto", CT_PROTO_UNIX | SOCK_STREAM, s.key.proto);
	CHECK("unix.proto_is_unix", CT_PROTO_IS_UNIX(s.key.proto));
	CHECK_U("unix.dport", 0, s.key.dport);
	CHECK_S("unix.path", path, ct_unix_path(ct_unix_key_id(s.key.daddr)));
	CHECK_U("unix.pid_seen", 1, seen.calls);
	/* the same path again: the same id, so the same flow */
	r2 = r;
	CHECK_I("unix.again.rc", 0, decode_event(&d, &r2, sizeof(r2), &s2));
	CHECK("unix.again.same_key", same_key(&s.key, &s2.key));
	/* an abstract name: a leading NUL, shown as '@' */
	memset(&r2.p, 0, sizeof(r2.p));
	memcpy(r2.p.path, "\0decode", 7);
	r2.p.len = 7;
	r2.e.proto = SOCK_DGRAM;
	CHECK_I("unix.abstract.rc", 0, decode_event(&d, &r2, sizeof(r2), &s2));
	CHECK_S("unix.abstract.path", "@decode", ct_unix_path(ct_unix_key_id(s2.key.daddr)));
	CHECK_U("unix.abstract.proto", CT_PROTO_UNIX | SOCK_DGRAM, s2.key.proto);
	CHECK("unix.abstract.other_flow", !same_key(&s.key, &s2.key));
	CHECK_U("unix.events", 3, d.events);
}

static void test_outcome(void)
{
	struct decoder d = { .pid_seen = on_pid, .pid_ctx = &seen };
	struct ct_event e = ev(AF_INET, "10.9.8.7", 80, P_TCP);
	struct ct_sample s;

	memset(&seen, 0, sizeof(seen));
	e.kind = CT_EV_OUTCOME;
	e.ret = -ECONNREFUSED;
	e.flags = CT_F_HANDSHAKE;
	CHECK_I("outcome.rc", 0, decode_event(&d, &e, sizeof(e), &s));
	CHECK_U("outcome.outcome", 1, s.outcome);
	CHECK_U("outcome.pending", 0, s.pending);
	CHECK_U("outcome.has_lat", 1, s.has_lat);
	CHECK_I("outcome.ret", -ECONNREFUSED, s.ret);
	CHECK_U("outcome.start", 4 * NS_PER_S, s.start_ns);
	CHECK_U("outcome.outcomes", 1, d.outcomes);
	CHECK_U("outcome.events", 0, d.events);
	/* its connect was seen already: the pid is not looked at again */
	CHECK_U("outcome.pid_seen", 0, seen.calls);
	/* an application's own timeout */
	e.flags = CT_F_ABANDONED;
	CHECK_I("outcome.abandoned.rc", 0, decode_event(&d, &e, sizeof(e), &s));
	CHECK_U("outcome.abandoned", 1, s.abandoned);
	CHECK_U("outcome.abandoned.has_lat", 0, s.has_lat);
	CHECK_U("outcome.outcomes2", 2, d.outcomes);
}

/* SYN retransmits: a TCP connect's final result carries its count when the
 * probe counts them; a pending connect, UDP, or no tracepoint: not counted */
static void test_syn_rt(void)
{
	struct decoder d = { .synrt = 1 };
	struct ct_event e = ev(AF_INET, "10.9.8.7", 80, P_TCP);
	struct ct_sample s;

	e.kind = CT_EV_OUTCOME;
	e.syn_rt = 2;
	CHECK_I("synrt.rc", 0, decode_event(&d, &e, sizeof(e), &s));
	CHECK_U("synrt.outcome.has", 1, s.has_synrt);
	CHECK_U("synrt.outcome.n", 2, s.syn_rt);
	e.kind = CT_EV_CONNECT;
	e.syn_rt = 0;
	CHECK_I("synrt.connect.rc", 0, decode_event(&d, &e, sizeof(e), &s));
	CHECK_U("synrt.connect.has", 1, s.has_synrt);
	CHECK_U("synrt.connect.n", 0, s.syn_rt);
	e.flags = CT_F_PENDING;
	decode_event(&d, &e, sizeof(e), &s);
	CHECK_U("synrt.pending.has", 0, s.has_synrt);
	/* a connect whose outcome could not be followed (or was swept) */
	e.flags = 0;
	e.kind = CT_EV_OUTCOME;
	e.ret = -EINPROGRESS;
	decode_event(&d, &e, sizeof(e), &s);
	CHECK_U("synrt.not_followed.has", 0, s.has_synrt);
	e = ev(AF_INET, "10.9.8.7", 53, P_UDP);
	decode_event(&d, &e, sizeof(e), &s);
	CHECK_U("synrt.udp.has", 0, s.has_synrt);
	d.synrt = 0;
	e = ev(AF_INET, "10.9.8.7", 80, P_TCP);
	decode_event(&d, &e, sizeof(e), &s);
	CHECK_U("synrt.no_tracepoint.has", 0, s.has_synrt);
}

static void test_short(void)
{
	struct decoder d = { .pid_seen = on_pid, .pid_ctx = &seen };
	struct ct_event e = ev(AF_INET, "10.1.2.3", 5432, P_TCP);
	struct rec r;
	struct ct_sample s, before;

	memset(&seen, 0, sizeof(seen));
	memset(&s, 0xa5, sizeof(s));
	before = s;
	CHECK_I("short.empty", -EINVAL, decode_event(&d, &e, 0, &s));
	CHECK_I("short.one_less", -EINVAL, decode_event(&d, &e, sizeof(e) - 1, &s));
	CHECK_I("short.exact", 0, decode_event(&d, &e, sizeof(e), &before));
	/* AF_UNIX needs its path after the event */
	memset(&r, 0, sizeof(r));
	r.e = ev(AF_UNIX, NULL, 0, SOCK_STREAM);
	CHECK_I("short.unix_no_path", -EINVAL, decode_event(&d, &r, sizeof(r.e), &s));
	CHECK_I("short.unix_path_cut", -EINVAL, decode_event(&d, &r, sizeof(r) - 1, &s));
	memset(&before, 0xa5, sizeof(before));
	CHECK("short.sample_untouched", !memcmp(&s, &before, sizeof(s)));
	CHECK_U("short.events", 1, d.events); /* the exact one only */
	CHECK_U("short.outcomes", 0, d.outcomes);
	CHECK_U("short.pid_seen", 1, seen.calls);
}

static struct {
	int calls;
	uint32_t pid;
	char comm[CT_COMM_LEN + 1];
	char cmd[CT_CMDLINE_LEN + 1];
	size_t len;
} cmdl;

static void on_cmdline(void *ctx, uint32_t pid, const char *comm, uint64_t cgroup_id,
		       const char *cmd, size_t len)
{
	(void)ctx;
	(void)cgroup_id;
	cmdl.calls++;
	cmdl.pid = pid;
	memcpy(cmdl.comm, comm, CT_COMM_LEN);
	memcpy(cmdl.cmd, cmd, len);
	cmdl.len = len;
}

/* CT_EV_CMDLINE: handed to the callback, no sample, not a connect */
static void test_cmdline(void)
{
	struct {
		struct ct_event e;
		struct ct_cmdline c;
	} r;
	struct decoder d = { .pid_seen = on_pid, .cmdline_seen = on_cmdline };
	struct ct_sample s;

	memset(&seen, 0, sizeof(seen));
	memset(&r, 0, sizeof(r));
	r.e = ev(AF_INET, "10.1.2.3", 22, P_TCP);
	r.e.kind = CT_EV_CMDLINE;
	memcpy(r.c.buf, "py\0-c\0x\0", 8);
	r.c.len = 8;
	r.c.full_len = 8;
	memset(&s, 0x5a, sizeof(s));
	CHECK_I("cmdline.rc", 1, decode_event(&d, &r, sizeof(r), &s));
	CHECK_U("cmdline.calls", 1, cmdl.calls);
	CHECK_U("cmdline.pid", 4242, cmdl.pid);
	CHECK_S("cmdline.comm", "curl", cmdl.comm);
	CHECK_U("cmdline.len", 8, cmdl.len);
	CHECK("cmdline.bytes", !memcmp(cmdl.cmd, "py\0-c\0x\0", 8));
	CHECK_U("cmdline.not_an_event", 0, d.events);
	CHECK_U("cmdline.not_pid_seen", 0, seen.calls);
	/* a length past the buffer (a different build): cut to it */
	r.c.len = 1000;
	CHECK_I("cmdline.long.rc", 1, decode_event(&d, &r, sizeof(r), &s));
	CHECK_U("cmdline.long.len", CT_CMDLINE_LEN, cmdl.len);
	/* too short for its command line: ignored */
	CHECK_I("cmdline.short.rc", -EINVAL, decode_event(&d, &r, sizeof(r) - 1, &s));
	CHECK_U("cmdline.short.calls", 2, cmdl.calls);
	/* nobody wants it: still no sample */
	d.cmdline_seen = NULL;
	CHECK_I("cmdline.unwanted.rc", 1, decode_event(&d, &r, sizeof(r), &s));
	CHECK_U("cmdline.unwanted.events", 0, d.events);
}

static void test_unknown_kind(void)
{
	struct decoder d = { 0 };
	struct ct_event e = ev(AF_INET, "10.1.2.3", 22, P_TCP);
	struct ct_sample s;

	/* not an outcome: counted and decoded as a connect (as before
	 * decoding had a module of its own) */
	e.kind = 0;
	CHECK_I("kind0.rc", 0, decode_event(&d, &e, sizeof(e), &s));
	CHECK_U("kind0.outcome", 0, s.outcome);
	e.kind = 200;
	CHECK_I("kind200.rc", 0, decode_event(&d, &e, sizeof(e), &s));
	CHECK_U("kind200.outcome", 0, s.outcome);
	CHECK_U("kind200.dport", 22, s.key.dport);
	CHECK_U("unknown_kind.events", 2, d.events);
	CHECK_U("unknown_kind.outcomes", 0, d.outcomes);
}

int main(void)
{
	test_ipv4();
	test_ipv6();
	test_unix();
	test_outcome();
	test_syn_rt();
	test_short();
	test_unknown_kind();
	test_cmdline();
	return ck_done();
}
