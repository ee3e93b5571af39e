// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's minimal ring-buffer consumer (tests/bench/rbpeer.c): what
 * a plain libbpf connect tracer does, as a yardstick for connecttop's BPF
 * cost. Entry: the sockaddr pointer by tid in a hash. Exit: the sockaddr
 * read, one record with the caller, the result and the destination, the
 * wake-up batched (only once 64 KiB are queued). No socket, no TCP outcome.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct rec {
	__u32 tgid;
	__s32 ret;
	__u16 family;
	__u16 port; /* network order */
	__u8 addr[4];
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} uaddr SEC(".maps");

__u64 lost = 0; /* records the ring had no room for */

SEC("tp/syscalls/sys_enter_connect")
int rb_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 a = ctx->args[1];

	bpf_map_update_elem(&uaddr, &tid, &a, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_exit_connect")
int rb_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	__u64 *a = bpf_map_lookup_elem(&uaddr, &tid);
	struct sockaddr_in sin = {};
	struct rec *r;

	if (!a)
		return 0;
	bpf_probe_read_user(&sin, sizeof(sin), (void *)*a);
	bpf_map_delete_elem(&uaddr, &tid);
	r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&lost, 1);
		return 0;
	}
	r->tgid = id >> 32;
	r->ret = ctx->ret;
	r->family = sin.sin_family;
	r->port = sin.sin_port;
	__builtin_memcpy(r->addr, &sin.sin_addr, 4);
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	bpf_ringbuf_submit(r, bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) >= 65536 ?
				      BPF_RB_FORCE_WAKEUP :
				      BPF_RB_NO_WAKEUP);
	return 0;
}
