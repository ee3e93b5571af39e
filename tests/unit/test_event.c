// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The record shared by the BPF programs and user space: its size and every
 * field's offset and size are pinned, both at compile time (the build fails)
 * and at run time (one check per field). A change to struct ct_event must be
 * a deliberate change of this file too.
 */
#include <linux/types.h>
#include <stddef.h>

#include "check.h"
#include "connecttop.h"

#define FIELD_SIZE(type, f) sizeof(((type *)0)->f)

_Static_assert(sizeof(struct ct_event) == 104, "struct ct_event must be 104 bytes");
_Static_assert(offsetof(struct ct_event, ts_ns) == 0, "ts_ns");
_Static_assert(offsetof(struct ct_event, lat_ns) == 8, "lat_ns");
_Static_assert(offsetof(struct ct_event, cgroup_id) == 16, "cgroup_id");
_Static_assert(offsetof(struct ct_event, start_ns) == 24, "start_ns");
_Static_assert(offsetof(struct ct_event, tgid) == 32, "tgid");
_Static_assert(offsetof(struct ct_event, tid) == 36, "tid");
_Static_assert(offsetof(struct ct_event, uid) == 40, "uid");
_Static_assert(offsetof(struct ct_event, ret) == 44, "ret");
_Static_assert(offsetof(struct ct_event, dport) == 48, "dport");
_Static_assert(offsetof(struct ct_event, family) == 50, "family");
_Static_assert(offsetof(struct ct_event, syn_rt) == 51, "syn_rt");
_Static_assert(offsetof(struct ct_event, proto) == 52, "proto");
_Static_assert(offsetof(struct ct_event, kind) == 54, "kind");
_Static_assert(offsetof(struct ct_event, flags) == 55, "flags");
_Static_assert(offsetof(struct ct_event, daddr) == 56, "daddr");
_Static_assert(offsetof(struct ct_event, comm) == 72, "comm");
_Static_assert(offsetof(struct ct_event, scope_id) == 88, "scope_id");
_Static_assert(offsetof(struct ct_event, sport) == 92, "sport");
_Static_assert(offsetof(struct ct_event, spare) == 94, "spare");
_Static_assert(sizeof(struct ct_cmdline) == 136, "struct ct_cmdline must be 136 bytes");
_Static_assert(offsetof(struct ct_cmdline, len) == 0, "ct_cmdline.len");
_Static_assert(offsetof(struct ct_cmdline, full_len) == 4, "ct_cmdline.full_len");
_Static_assert(offsetof(struct ct_cmdline, buf) == 8, "ct_cmdline.buf");

static const struct {
	const char *name;
	size_t off, size, want_off, want_size;
} fields[] = {
#define F(f, o, s)                                                                     \
	{                                                                              \
#f, offsetof(struct ct_event, f), FIELD_SIZE(struct ct_event, f), o, s \
	}
	F(ts_ns, 0, 8),	    F(lat_ns, 8, 8),  F(cgroup_id, 16, 8), F(start_ns, 24, 8),
	F(tgid, 32, 4),	    F(tid, 36, 4),    F(uid, 40, 4),	   F(ret, 44, 4),
	F(dport, 48, 2),    F(family, 50, 1), F(syn_rt, 51, 1),	   F(proto, 52, 2),
	F(kind, 54, 1),	    F(flags, 55, 1),  F(daddr, 56, 16),	   F(comm, 72, 16),
	F(scope_id, 88, 4), F(sport, 92, 2),  F(spare, 94, 10),
#undef F
};

int main(void)
{
	size_t sum = 0;
	struct ct_event e;

	CHECK_U("event.size", 104, sizeof(struct ct_event));
	CHECK_U("event.align", 8, _Alignof(struct ct_event));
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		CHECK_U(nm("event.offset.%s", fields[i].name), fields[i].want_off, fields[i].off);
		CHECK_U(nm("event.size.%s", fields[i].name), fields[i].want_size, fields[i].size);
		sum += fields[i].size;
		/* each field starts where the previous one ends: no padding */
		if (i)
			CHECK_U(nm("event.no_padding_before.%s", fields[i].name),
				fields[i - 1].off + fields[i - 1].size, fields[i].off);
	}
	CHECK_U("event.fields_fill_struct", sizeof(struct ct_event), sum);
	CHECK_U("event.fields_count", 19, ARRAY_SIZE(fields));

	/* signedness: ret is negative errno, the rest unsigned */
	memset(&e, 0, sizeof(e));
	e.ret = -111;
	CHECK("event.ret_signed", e.ret < 0);
	e.dport = 0xffff;
	CHECK("event.dport_unsigned", e.dport > 0);

	CHECK_U("event.comm_len", 16, CT_COMM_LEN);
	CHECK_U("event.addr_len", 16, CT_ADDR_LEN);
	CHECK_U("event.kind_connect", 1, CT_EV_CONNECT);
	CHECK_U("event.kind_outcome", 2, CT_EV_OUTCOME);
	CHECK_U("event.flag_pending", 1, CT_F_PENDING);
	CHECK_U("event.flag_handshake", 2, CT_F_HANDSHAKE);
	CHECK("event.flags_distinct", (CT_F_PENDING & CT_F_HANDSHAKE) == 0);
	CHECK_U("event.counter_rb_drop", 0, CT_CNT_RB_DROP);
	CHECK_U("event.counter_call_drop", 1, CT_CNT_CALL_DROP);
	CHECK_U("event.counter_sock_drop", 2, CT_CNT_SOCK_DROP);
	CHECK_U("event.counter_outcomes", 3, CT_CNT_OUTCOMES);
	CHECK_U("event.counter_outcome_late", 4, CT_CNT_OUTCOME_LATE);
	CHECK_U("event.counter_outcome_destroy", 5, CT_CNT_OUTCOME_DESTROY);
	CHECK_U("event.counter_max", 6, CT_CNT_MAX);

	/* the user-space key holds exactly what the event carries */
	CHECK_U("flow_key.comm_matches_event", CT_COMM_LEN, FIELD_SIZE(struct flow_key, comm));
	CHECK_U("flow_key.daddr_matches_event", CT_ADDR_LEN, FIELD_SIZE(struct flow_key, daddr));
	/* keys are hashed and compared as bytes: no implicit padding */
	CHECK_U("flow_key.size", 44, sizeof(struct flow_key));
	CHECK_U("flow_key.no_padding",
		FIELD_SIZE(struct flow_key, comm) + FIELD_SIZE(struct flow_key, daddr) +
			FIELD_SIZE(struct flow_key, dport) + FIELD_SIZE(struct flow_key, proto) +
			FIELD_SIZE(struct flow_key, family) + FIELD_SIZE(struct flow_key, pad) +
			FIELD_SIZE(struct flow_key, scope),
		sizeof(struct flow_key));
	return ck_done();
}
