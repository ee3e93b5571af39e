// SPDX-License-Identifier: GPL-2.0-or-later
#include "decode.h"

#include <errno.h>
#include <linux/types.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "connecttop.h"
#include "util.h"

int decode_event(struct decoder *d, const void *data, size_t size, struct ct_sample *s)
{
	const struct ct_event *e = data;
	uint16_t e_proto;
	size_t n;

	/* a record from a different build: ignore it, do not misread it */
	if (size >= sizeof(*e) && e->kind == CT_EV_CMDLINE) {
		const struct ct_cmdline *cl = (const void *)(e + 1);

		if (size < sizeof(*e) + sizeof(*cl))
			return -EINVAL;
		if (d->cmdline_seen)
			d->cmdline_seen(d->pid_ctx, e->tgid, e->comm, e->cgroup_id, cl->buf,
					cl->len < sizeof(cl->buf) ? cl->len : sizeof(cl->buf));
		return 1;
	}
	if (size < sizeof(*e) ||
	    (e->family == AF_UNIX && size < sizeof(*e) + sizeof(struct ct_path)))
		return -EINVAL;
	e_proto = e->proto;
	memset(s, 0, sizeof(*s));
	n = strnlen(e->comm, sizeof(e->comm));
	memcpy(s->key.comm, e->comm, n); /* bytes after the NUL are not cleared by the kernel */
	if (e->family == AF_INET) {
		memcpy(s->key.daddr, e->daddr, 4);
		s->key.family = 4;
	} else if (e->family == AF_UNIX) {
		/* --unix: the path follows (its size checked above) */
		const struct ct_path *to = (const void *)(e + 1);

		ct_unix_key_set(s->key.daddr, ct_unix_path_id(to->path, to->len));
		s->key.family = CT_FAMILY_UNIX;
		e_proto = CT_PROTO_UNIX | (e->proto & 0xff);
	} else {
		memcpy(s->key.daddr, e->daddr, 16);
		s->key.family = ct_addr_normalize(6, s->key.daddr);
		if (s->key.family == 6)
			s->key.scope = e->scope_id;
	}
	s->key.dport = e->dport;
	s->key.proto = e_proto;
	s->ts_ns = e->ts_ns;
	s->lat_ns = e->lat_ns;
	s->start_ns = e->start_ns;
	s->pid = e->tgid;
	s->uid = e->uid;
	s->ret = e->ret;
	s->pending = !!(e->flags & CT_F_PENDING);
	s->has_lat = !!(e->flags & CT_F_HANDSHAKE);
	s->abandoned = !!(e->flags & CT_F_ABANDONED);
	s->outcome = e->kind == CT_EV_OUTCOME;
	/* a TCP connect's final result: its SYN retransmits, when counted
	 * (-EINPROGRESS as a final result: not followed, or swept) */
	s->has_synrt = d->synrt && e->proto == IPPROTO_TCP && e->family != AF_UNIX && !s->pending &&
		       e->ret != -EINPROGRESS;
	s->syn_rt = e->syn_rt;
	if (s->outcome) {
		d->outcomes++;
	} else {
		d->events++;
		if (d->pid_seen)
			d->pid_seen(d->pid_ctx, e->tgid, e->comm, e->cgroup_id);
	}
	return 0;
}
