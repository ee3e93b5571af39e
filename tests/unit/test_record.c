// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The recording format (record.c): a file written and read back record by
 * record, raw and compressed; rotation by size and count; a write failing
 * part-way (the file size limit, as a full disk would) stopping the
 * recording and leaving a readable file; and the reader fuzzed: the file
 * cut at every byte, every bit of it flipped, random bytes, and blocks of
 * random records under a valid CRC. Nothing may crash (this runs under
 * ASan and UBSan); a damaged file must give an error, never a silent pass.
 */
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "connecttop.h"
#include "decode.h"
#include "dnsattr.h"
#include "dnscap.h"
#include "record.h"

static char dir[] = "/tmp/test_record.XXXXXX";

static struct rec_header header(void)
{
	struct rec_header h = { 0 };

	h.flags = REC_F_LITTLE | REC_F_SYNRT;
	h.start_unix_ns = 1764700000ULL * NS_PER_S;
	h.start_mono_ns = 1000 * NS_PER_S;
	h.mono_to_unix_ns = (int64_t)h.start_unix_ns - (int64_t)h.start_mono_ns;
	h.interval_us = 1000000;
	h.event_size = sizeof(struct ct_event);
	h.max_flows = 32768;
	h.filter_port = 8080;
	snprintf(h.host, sizeof(h.host), "db-1.example");
	snprintf(h.kernel, sizeof(h.kernel), "6.1.0-27-amd64");
	snprintf(h.tool, sizeof(h.tool), "connecttop test");
	return h;
}

static struct ct_event event(unsigned i)
{
	struct ct_event e;

	memset(&e, 0, sizeof(e));
	e.ts_ns = 1000 * NS_PER_S + i * NS_PER_MS;
	e.start_ns = e.ts_ns - 100;
	e.tgid = 100 + i % 7;
	e.uid = 1000;
	e.ret = i % 3 ? 0 : -111;
	e.family = 2;
	e.dport = 8080;
	e.proto = 6;
	e.kind = CT_EV_CONNECT;
	e.daddr[0] = 127;
	e.daddr[3] = (uint8_t)(1 + i % 5);
	memcpy(e.comm, "loadgen", 8);
	return e;
}

/* a DNS answer for a.test: one A record, 10.0.0.<i> (dnscap.c's self-test's) */
static const uint8_t dns_answer[] = { 0x12, 0x34, 0x81, 0x80, 0,    1,	  0,   1,   0,	 0,
				      0,    0,	  1,	'a',  4,    't',  'e', 's', 't', 0,
				      0,    1,	  0,	1,    0xc0, 0x0c, 0,   1,   0,	 1,
				      0,    0,	  1,	0x2c, 0,    4,	  10,  0,   0,	 1 };

static struct rec_dns dns_rec(unsigned i, uint8_t *buf)
{
	struct rec_dns d = { .ts_ns = 1000 * NS_PER_S + i * NS_PER_MS,
			     .family = 4,
			     .port = (uint16_t)(40000 + i),
			     .payload = buf,
			     .len = sizeof(dns_answer) };

	memcpy(buf, dns_answer, sizeof(dns_answer));
	buf[sizeof(dns_answer) - 1] = (uint8_t)i;
	d.client[0] = 127;
	d.client[3] = 1;
	return d;
}

/* what write_sample() writes: n_events events over as many ms, a tick
 * every 100, a DNS answer every 10, a block every block_every events, one
 * pid, one user, the end */
#define N_EVENTS 400
static unsigned n_events = N_EVENTS, block_every = 1000;
static struct rec_writer *left_open;

static int write_sample(const char *path, const struct rec_limits *lim, int close_it)
{
	struct rec_header h = header();
	struct rec_writer *w;
	struct rec_pid pi = { .pid = 100, .cgroup_id = 77 };
	struct rec_tick tk = { 0 };
	char err[256];
	int rc = 0;

	w = rec_writer_new(path, &h, lim, err, sizeof(err));
	if (!w) {
		printf("# %s\n", err);
		return -errno;
	}
	snprintf(pi.comm, sizeof(pi.comm), "loadgen");
	snprintf(pi.cmdline, sizeof(pi.cmdline), "loadgen -n 400 127.0.0.1:8080");
	snprintf(pi.cgroup, sizeof(pi.cgroup), "session-3.scope");
	rc |= rec_write_pid(w, h.start_mono_ns, &pi);
	rc |= rec_write_user(w, h.start_mono_ns, 1000, "alice");
	for (unsigned i = 0; i < n_events; i++) {
		struct ct_event e = event(i);
		uint64_t t = e.ts_ns + 5000;

		if (i % block_every == block_every - 1)
			rc |= rec_writer_flush(w);

		if (i % 10 == 0) {
			uint8_t buf[64];
			struct rec_dns d = dns_rec(i, buf);

			rc |= rec_write_dns(w, t, &d);
		}
		rc |= rec_write_event(w, t, &e, sizeof(e));
		if (i % 100 == 99) {
			tk.now_unix_ns = t + h.mono_to_unix_ns;
			tk.rb_drops = i / 100;
			tk.missed = 3;
			tk.evicted = i;
			tk.flows = 5;
			tk.dns_cut = i / 100 + 1;
			tk.dns_drops = 2;
			rc |= rec_write_tick(w, t, REC_TICK_ENDED, &tk);
		}
		if (rec_writer_due(w) <= t)
			rc |= rec_writer_flush(w);
	}
	if (close_it)
		rc |= rec_writer_close(w, 1000 * NS_PER_S + N_EVENTS * NS_PER_MS);
	else if (!(rc |= rec_writer_flush(w))) /* as SIGKILL leaves it: blocks, no end */
		left_open = w;		       /* the caller closes it once it has read the file */
	return rc;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = malloc(n + 1);
	*len = fread(b, 1, n, f);
	fclose(f);
	return b;
}

struct result {
	int open_rc; /* 0, or -errno of rec_reader_new */
	int rc;	     /* the last rec_next: 0 (end) or -EBADMSG */
	unsigned events, ticks, pids, users, ends, dns, closed;
	unsigned decoded; /* events the decoder took (into a flow table) */
	char err[512];
};

/* read a recording from memory, counting its records */
static struct result read_mem(const uint8_t *buf, size_t len)
{
	struct result res = { 0 };
	struct rec_header h;
	struct rec_record r;
	struct rec_reader *rd;
	struct decoder dec = { 0 };
	struct ct_flows *fl = flows_new(64);
	struct ct_dnsattr *da = dnsattr_new(64);
	struct ct_dnscap_pkt *pkt = malloc(sizeof(*pkt));
	FILE *f = fmemopen((void *)buf, len ? len : 1, "rb");

	if (!len) { /* fmemopen refuses size 0 */
		fclose(f);
		f = fopen("/dev/null", "rb");
	}
	rd = rec_reader_new(f, "mem", &h, res.err, sizeof(res.err));
	if (!rd) {
		res.open_rc = -errno;
		flows_free(fl);
		dnsattr_free(da);
		free(pkt);
		return res;
	}
	while ((res.rc = rec_next(rd, &r, res.err, sizeof(res.err))) > 0) {
		res.events += r.type == REC_EVENT;
		res.ticks += r.type == REC_TICK;
		res.pids += r.type == REC_PID;
		res.users += r.type == REC_USER;
		res.ends += r.type == REC_END;
		res.dns += r.type == REC_DNS;
		/* as --read does: parsed again, into the name table */
		if (r.type == REC_DNS) {
			ct_dnscap_payload(pkt, r.dns.family == 6 ? AF_INET6 : AF_INET, r.dns.client,
					  r.dns.port, r.dns.payload, r.dns.len);
			dnsattr_answer(da, pkt, r.dns.ts_ns);
		}
		/* as --read does: whatever the size, through the decoder,
		 * which refuses a record too short for its family */
		if (r.type == REC_EVENT) {
			struct ct_sample smp;

			if (!decode_event(&dec, r.data, r.size, &smp)) {
				flows_add(fl, &smp);
				res.decoded++;
			}
		}
		if (r.type == REC_TICK)
			flows_tick(fl, r.t);
	}
	res.closed = rec_reader_closed(rd);
	flows_free(fl);
	dnsattr_free(da);
	free(pkt);
	rec_reader_free(rd);
	return res;
}

static void test_roundtrip(int no_zlib)
{
	struct rec_limits lim = { .no_zlib = no_zlib };
	char path[64];
	const char *z = no_zlib ? "raw" : "zlib";
	struct rec_header h;
	struct rec_record r;
	struct rec_reader *rd;
	char err[512];
	unsigned n = 0, ticks = 0, dns = 0;
	int rc, ok = 1, dns_ok = 1;

	snprintf(path, sizeof(path), "%s/rt-%s", dir, z);
	CHECK_I(nm("%s: written", z), 0, write_sample(path, &lim, 1));
	rd = rec_reader_open(path, &h, err, sizeof(err));
	if (!ck(rd != NULL, nm("%s: opened", z), "%s", err))
		return;
	CHECK_S(nm("%s: host", z), "db-1.example", h.host);
	CHECK_S(nm("%s: kernel", z), "6.1.0-27-amd64", h.kernel);
	CHECK_U(nm("%s: version", z), REC_VERSION, h.version);
	CHECK_U(nm("%s: zlib flag", z), no_zlib ? 0 : REC_F_ZLIB, h.flags & REC_F_ZLIB);
	CHECK_U(nm("%s: start", z), 1764700000ULL * NS_PER_S, h.start_unix_ns);
	CHECK_I(nm("%s: mono_to_unix", z), header().mono_to_unix_ns, h.mono_to_unix_ns);
	CHECK_U(nm("%s: port", z), 8080, h.filter_port);
	CHECK(nm("%s: first record is the pid", z),
	      rec_next(rd, &r, err, sizeof(err)) == 1 && r.type == REC_PID);
	CHECK_S(nm("%s: cmdline", z), "loadgen -n 400 127.0.0.1:8080", r.pid.cmdline);
	CHECK_S(nm("%s: cgroup", z), "session-3.scope", r.pid.cgroup);
	CHECK_S(nm("%s: comm", z), "loadgen", r.pid.comm);
	CHECK_U(nm("%s: cgroup id", z), 77, r.pid.cgroup_id);
	CHECK(nm("%s: then the user", z),
	      rec_next(rd, &r, err, sizeof(err)) == 1 && r.type == REC_USER);
	CHECK_S(nm("%s: user", z), "alice", r.user);
	CHECK_U(nm("%s: uid", z), 1000, r.uid);
	while ((rc = rec_next(rd, &r, err, sizeof(err))) == 1) {
		if (r.type == REC_EVENT) {
			struct ct_event e = event(n);

			ok &= r.size == sizeof(e) && !memcmp(r.data, &e, sizeof(e)) &&
			      r.t == e.ts_ns + 5000;
			n++;
		} else if (r.type == REC_TICK) {
			ok &= r.tick.rb_drops == ticks && r.tick.missed == 3 &&
			      r.tick.evicted == ticks * 100 + 99 && r.tick.flows == 5 &&
			      (r.flags & REC_TICK_ENDED) &&
			      r.tick.now_unix_ns == r.t + (uint64_t)h.mono_to_unix_ns &&
			      r.tick.dns_cut == ticks + 1 && r.tick.dns_drops == 2;
			ticks++;
		} else if (r.type == REC_DNS) {
			uint8_t buf[64];
			struct rec_dns d = dns_rec(dns * 10, buf);

			dns_ok &= r.dns.ts_ns == d.ts_ns && r.dns.family == 4 &&
				  r.dns.port == d.port && !memcmp(r.dns.client, d.client, 16) &&
				  r.dns.len == d.len && !memcmp(r.dns.payload, buf, d.len) &&
				  n == dns * 10; /* before its event */
			dns++;
		} else if (r.type != REC_END) {
			ok = 0;
		}
	}
	CHECK_I(nm("%s: clean end", z), 0, rc);
	CHECK_U(nm("%s: every event", z), N_EVENTS, n);
	CHECK_U(nm("%s: every tick", z), N_EVENTS / 100, ticks);
	CHECK(nm("%s: events and ticks as written", z), ok);
	CHECK_U(nm("%s: every DNS answer", z), N_EVENTS / 10, dns);
	CHECK(nm("%s: DNS answers as written, in their place", z), dns_ok);
	CHECK(nm("%s: closed", z), rec_reader_closed(rd));
	rec_reader_free(rd);
}

/* 400 events over 400 ms, a block due every 500 ms: several blocks once
 * more time passes per event; here times are spread by writing t far apart */
static void test_blocks_and_cut(void)
{
	struct rec_limits lim = { 0 };
	char path[64];
	uint8_t *b;
	size_t len;
	struct result res;

	snprintf(path, sizeof(path), "%s/cut", dir);
	CHECK_I("cut: written", 0, write_sample(path, &lim, 0));
	b = slurp(path, &len);
	res = read_mem(b, len);
	CHECK_I("cut: no end record, yet no error", 0, res.rc);
	CHECK_U("cut: every flushed event replays", N_EVENTS, res.events);
	CHECK_U("cut: not closed", 0, res.closed);
	free(b);
	rec_writer_close(left_open, 0);
}

/* the events of the series read from path on: rec_next's last rc */
static int read_series(const char *path, struct rec_header *h, unsigned *events, int *closed,
		       char *err, size_t errlen)
{
	struct rec_reader *rd = rec_reader_open(path, h, err, errlen);
	struct rec_record r;
	int rc;

	*events = 0;
	*closed = 0;
	if (!rd)
		return -errno;
	while ((rc = rec_next(rd, &r, err, errlen)) == 1)
		*events += r.type == REC_EVENT;
	*closed = rec_reader_closed(rd);
	rec_reader_free(rd);
	return rc;
}

/* --read of a rotation: the series in order from its oldest file kept,
 * saying (events_before) what the files deleted held */
static void test_series(const char *path, unsigned kept, unsigned kept_events)
{
	struct rec_limits lim = { .max_file_bytes = 2400, .no_zlib = 1 };
	struct rec_header h = header(), rh;
	struct rec_writer *w;
	char all[80], p[96], err[512];
	unsigned events, files = 0;
	int closed, rc = 0;

	rc = read_series(path, &rh, &events, &closed, err, sizeof(err));
	ck(rc == 0 && closed, "series: the kept files read as one", "rc %d: %s", rc, err);
	CHECK_U("series: every event of the files kept", kept_events, events);
	CHECK(nm("series: from the oldest kept (file %u)", rh.seq), rh.seq >= kept);
	CHECK_U("series: the deleted files' events said", 200 - kept_events, rh.events_before);
	/* the same by the name of a file of the series: from it on */
	snprintf(p, sizeof(p), "%s.%u", path, rh.seq + 1);
	rc = read_series(p, &rh, &events, &closed, err, sizeof(err));
	ck(rc == 0 && closed && rh.events_before + events == 200, "series: from a later file",
	   "rc %d before %llu events %u: %s", rc, (unsigned long long)rh.events_before, events,
	   err);

	/* all files kept: every event, and the first says none before */
	snprintf(all, sizeof(all), "%s-all", path);
	w = rec_writer_new(all, &h, &lim, err, sizeof(err));
	if (!ck(w != NULL, "series: writer", "%s", err))
		return;
	for (unsigned i = 0; i < 200; i++) {
		struct ct_event e = event(i);

		if (i % 3 == 0) {
			e.kind = CT_EV_OUTCOME;
		}
		rc |= rec_write_event(w, e.ts_ns, &e, sizeof(e));
		if (i % 5 == 4)
			rc |= rec_writer_flush(w);
	}
	rc |= rec_writer_close(w, 2000 * NS_PER_S);
	for (unsigned seq = 1; seq < 100; seq++) {
		snprintf(p, sizeof(p), "%s.%u", all, seq);
		files += !access(p, F_OK);
	}
	CHECK(nm("series: %u files after the first", files), files >= 3);
	rc = read_series(all, &rh, &events, &closed, err, sizeof(err));
	ck(rc == 0 && closed && events == 200 && rh.events_before == 0 && rh.seq == 0,
	   "series: all files, every record", "rc %d events %u: %s", rc, events, err);
	/* the last file's header: the events and outcomes before it */
	snprintf(p, sizeof(p), "%s.%u", all, files);
	rc = read_series(p, &rh, &events, &closed, err, sizeof(err));
	ck(rc == 0 && rh.events_before + rh.outcomes_before + events == 200 &&
		   rh.outcomes_before > 0 && rh.outcomes_before < rh.events_before,
	   "series: outcomes and events counted apart", "before %llu+%llu, %u",
	   (unsigned long long)rh.events_before, (unsigned long long)rh.outcomes_before, events);
	/* a file missing in the middle: an error naming it, after the records before */
	snprintf(p, sizeof(p), "%s.2", all);
	unlink(p);
	rc = read_series(all, &rh, &events, &closed, err, sizeof(err));
	CHECK_I("series: a file missing: EBADMSG", -EBADMSG, rc);
	ck_contains("series: a file missing: named", err, "-all.2: No such file");
	CHECK(nm("series: a file missing: %u events before it", events),
	      events > 0 && events < 200);
}

static void test_rotation(void)
{
	struct rec_limits lim = { .max_file_bytes = 2400, .max_files = 3, .no_zlib = 1 };
	struct rec_header h = header();
	struct rec_writer *w;
	char path[64], p[80], err[256];
	struct stat st;
	unsigned total = 0, files = 0, last_seq = 0;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/rot", dir);
	w = rec_writer_new(path, &h, &lim, err, sizeof(err));
	if (!ck(w != NULL, "rotation: writer", "%s", err))
		return;
	/* 40 blocks of 5 events, about 640 bytes raw each (a file's quarter,
	 * 600, closes one early) */
	for (unsigned i = 0; i < 200; i++) {
		struct ct_event e = event(i);

		rc |= rec_write_event(w, e.ts_ns, &e, sizeof(e));
		if (i % 5 == 4)
			rc |= rec_writer_flush(w);
	}
	rc |= rec_writer_close(w, 2000 * NS_PER_S);
	CHECK_I("rotation: no error", 0, rc);
	for (unsigned seq = 0; seq < 100; seq++) {
		struct result res;
		uint8_t *b;
		size_t len;

		snprintf(p, sizeof(p), seq ? "%s.%u" : "%s", path, seq);
		if (stat(p, &st))
			continue;
		files++;
		last_seq = seq;
		ck(st.st_size <= 2400, nm("rotation: %s within the bound", p + strlen(dir) + 1),
		   "%lld bytes", (long long)st.st_size);
		b = slurp(p, &len);
		res = read_mem(b, len);
		free(b);
		ck(res.rc == 0 && res.closed, nm("rotation: %s reads", p + strlen(dir) + 1),
		   "rc %d closed %u: %s", res.rc, res.closed, res.err);
		total += res.events;
	}
	CHECK_U("rotation: three files kept", 3, files);
	CHECK(nm("rotation: the newest kept (seq %u)", last_seq), last_seq >= 3);
	CHECK(nm("rotation: the newest hold %u events", total), total > 0 && total < 200);
	test_series(path, 3, total);
}

/* a write that fails part-way (RLIMIT_FSIZE: EFBIG, as ENOSPC would): the
 * recording stops with a message, the file ends on a whole block */
static void test_write_fails(void)
{
	struct rec_limits lim = { .no_zlib = 1 };
	struct rec_header h = header();
	struct rlimit old, rl;
	struct rec_writer *w;
	char path[64], err[256];
	struct result res;
	uint8_t *b;
	size_t len;
	int rc = 0, first_err = 0;

	snprintf(path, sizeof(path), "%s/full", dir);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	rl = old;
	rl.rlim_cur = 3000;
	setrlimit(RLIMIT_FSIZE, &rl);
	w = rec_writer_new(path, &h, &lim, err, sizeof(err));
	if (!ck(w != NULL, "write fails: writer", "%s", err)) {
		setrlimit(RLIMIT_FSIZE, &old);
		return;
	}
	for (unsigned i = 0; i < 100; i++) {
		struct ct_event e = event(i);

		rc = rec_write_event(w, e.ts_ns, &e, sizeof(e));
		if (!rc && i % 4 == 3)
			rc = rec_writer_flush(w);
		if (rc && !first_err)
			first_err = rc;
	}
	setrlimit(RLIMIT_FSIZE, &old);
	CHECK_I("write fails: the error is EFBIG", -EFBIG, first_err);
	ck(rec_writer_error(w) && strstr(rec_writer_error(w), "stopped") &&
		   strstr(rec_writer_error(w), "the capture goes on"),
	   "write fails: the message says so", "%s", rec_writer_error(w));
	CHECK_I("write fails: later writes refused", -EFBIG,
		rec_write_event(w, 1, &(struct ct_event){ 0 }, sizeof(struct ct_event)));
	rec_writer_close(w, 0);
	b = slurp(path, &len);
	res = read_mem(b, len);
	CHECK(nm("write fails: file of %zu bytes within the limit", len), len <= 3000);
	ck(res.rc == 0 && res.events > 0 && res.events < 100,
	   "write fails: the file reads to its last whole block", "rc %d events %u: %s", res.rc,
	   res.events, res.err);
	free(b);
}

static void test_errors(void)
{
	struct rec_header h;
	char err[512];
	struct result res;
	uint8_t buf[REC_HEADER_LEN];
	struct rec_header hh = header();
	char path[64];
	uint8_t *b;
	size_t len;

	CHECK("open: missing file", !rec_reader_open("/nonexistent/x", &h, err, sizeof(err)));
	ck_contains("open: missing file says so", err, "No such file");
	CHECK("open: directory", !rec_reader_open("/tmp", &h, err, sizeof(err)));
	res = read_mem((const uint8_t *)"{\"version\":1}\n", 14);
	CHECK_I("not a recording: EINVAL", -EINVAL, res.open_rc);
	ck_contains("not a recording: says so", res.err, "not a connecttop recording");

	/* a newer version: the version named, and its offset */
	snprintf(path, sizeof(path), "%s/v", dir);
	write_sample(path, &(struct rec_limits){ 0 }, 1);
	b = slurp(path, &len);
	b[8] = REC_VERSION + 1;
	res = read_mem(b, len);
	CHECK_I("newer version: EPROTONOSUPPORT", -EPROTONOSUPPORT, res.open_rc);
	ck_contains("newer version: names it", res.err, "version 3 (byte 8)");
	ck_contains("newer version: and ours", res.err, "reads versions up to 2");
	/* a version 1 header (228 bytes: no counts before the file) before
	 * the same blocks: read as before */
	{
		size_t v1 = REC_HEADER_LEN_V1, d = REC_HEADER_LEN - REC_HEADER_LEN_V1;
		uint8_t *o = malloc(len);
		uLong crc;

		memcpy(o, b, v1 - 4);
		o[8] = 1;
		o[9] = 0;
		o[10] = (uint8_t)v1;
		o[11] = (uint8_t)(v1 >> 8);
		crc = crc32(0, o, v1 - 4);
		for (int k = 0; k < 4; k++)
			o[v1 - 4 + k] = (uint8_t)(crc >> (8 * k));
		memcpy(o + v1, b + REC_HEADER_LEN, len - REC_HEADER_LEN);
		res = read_mem(o, len - d);
		ck(!res.open_rc && res.rc == 0 && res.closed && res.events == N_EVENTS,
		   "version 1: still read", "open %d rc %d events %u: %s", res.open_rc, res.rc,
		   res.events, res.err);
		free(o);
	}
	/* a DNS answer longer than a record may hold is refused */
	{
		struct rec_writer *w =
			rec_writer_new(path, &hh, &(struct rec_limits){ 0 }, err, sizeof(err));
		uint8_t big[REC_DNS_MAX + 1] = { 0 };
		struct rec_dns d = { .payload = big, .len = sizeof(big) };

		CHECK_I("dns: too long refused", -EINVAL, rec_write_dns(w, 1, &d));
		rec_writer_close(w, 2);
	}
	free(b);
	(void)buf;
	(void)hh;
}

/* every cut and every bit flip of a real file */
static void fuzz_file(int no_zlib)
{
	struct rec_limits lim = { .no_zlib = no_zlib };
	const char *z = no_zlib ? "raw" : "zlib";
	char path[64];
	uint8_t *b, *c;
	size_t len;
	struct result whole;
	unsigned cut_bad = 0, cut_ok_boundary = 0, flip_silent = 0, flips = 0;
	size_t silent_at = 0;

	snprintf(path, sizeof(path), "%s/fz-%s", dir, z);
	/* small enough to read once per bit: 30 events in 5 blocks */
	n_events = 30;
	block_every = 7;
	write_sample(path, &lim, 1);
	n_events = N_EVENTS;
	block_every = 1000;
	b = slurp(path, &len);
	whole = read_mem(b, len);
	CHECK(nm("fuzz %s: the whole file reads", z), whole.rc == 0 && whole.closed);
	CHECK_U(nm("fuzz %s: every event decodes", z), whole.events, whole.decoded);
	CHECK_U(nm("fuzz %s: its DNS answers read", z), 3, whole.dns);
	/* every length from 0 to len-1: an error, or (cut on a block
	 * boundary) a clean end with fewer records and no end record */
	for (size_t n = 0; n < len; n++) {
		struct result res = read_mem(b, n);

		if (res.open_rc)
			continue; /* cut in the header */
		if (res.rc == -EBADMSG && strstr(res.err, "truncated at byte"))
			continue;
		if (res.rc == 0 && !res.closed && res.events <= whole.events) {
			cut_ok_boundary++;
			continue;
		}
		if (!cut_bad++)
			printf("# cut at %zu: rc %d closed %u: %s\n", n, res.rc, res.closed,
			       res.err);
	}
	CHECK_U(nm("fuzz %s: every cut gives an error or a clean short file", z), 0, cut_bad);
	/* after the header, and after each of the 4 blocks before the last */
	CHECK_U(nm("fuzz %s: the cuts between blocks end cleanly", z), 5, cut_ok_boundary);
	/* every bit of the file flipped: never read as if nothing happened */
	c = malloc(len);
	for (size_t i = 0; i < len; i++)
		for (int bit = 0; bit < 8; bit++) {
			struct result res;

			memcpy(c, b, len);
			c[i] ^= (uint8_t)(1 << bit);
			res = read_mem(c, len);
			flips++;
			if (!res.open_rc && res.rc == 0) {
				if (!flip_silent++)
					silent_at = i;
			}
		}
	ck(flip_silent == 0, nm("fuzz %s: all %u bit flips detected", z, flips),
	   "%u silent, the first at byte %zu", flip_silent, silent_at);
	free(c);
	free(b);
}

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245 + 12345;
	return rnd_state >> 8;
}

/* random bytes after a valid header; then blocks of random records with a
 * valid CRC (the record parser's own checks) */
static void fuzz_random(void)
{
	struct rec_header h = header();
	char path[64];
	uint8_t *hdr, *buf = malloc(1 << 16);
	size_t hlen;
	unsigned events = 0, decoded = 0, errs = 0, dns = 0;

	snprintf(path, sizeof(path), "%s/hdr", dir);
	{
		struct rec_limits lim = { .no_zlib = 1 };
		struct rec_writer *w = rec_writer_new(path, &h, &lim, (char[64]){ 0 }, 64);

		rec_writer_close(w, 0);
	}
	hdr = slurp(path, &hlen);
	hlen = REC_HEADER_LEN;
	for (int iter = 0; iter < 3000; iter++) {
		size_t n = hlen + rnd() % 4000;
		struct result res;

		memcpy(buf, hdr, hlen);
		for (size_t i = hlen; i < n; i++)
			buf[i] = (uint8_t)rnd();
		if (iter % 2) {
			/* a block head with a valid CRC around random records */
			size_t body = n - hlen - REC_BLOCK_HEAD;
			uint8_t *bh = buf + hlen;

			if (n < hlen + REC_BLOCK_HEAD)
				continue;
			/* records of plausible lengths, random contents */
			for (size_t at = 0; at + 4 <= body;) {
				size_t l = 8 + rnd() % 300;

				bh[REC_BLOCK_HEAD + at] = (uint8_t)l;
				bh[REC_BLOCK_HEAD + at + 1] = (uint8_t)(l >> 8);
				/* 1-6 known (REC_DNS the last), 7 unknown */
				bh[REC_BLOCK_HEAD + at + 2] = (uint8_t)(1 + rnd() % 7);
				/* a DNS answer's payload length within the record
				 * mostly (its bytes random: the parser's input) */
				if (bh[REC_BLOCK_HEAD + at + 2] == REC_DNS && l >= 38 &&
				    at + 4 + 38 <= body && rnd() % 4) {
					size_t pl = rnd() % (l - 38 + 1);

					bh[REC_BLOCK_HEAD + at + 4 + 36] = (uint8_t)pl;
					bh[REC_BLOCK_HEAD + at + 4 + 37] = (uint8_t)(pl >> 8);
				}
				at += 4 + l;
			}
			memcpy(bh, "CTBK", 4);
			for (int k = 0; k < 4; k++) {
				bh[4 + k] = (uint8_t)(body >> (8 * k));
				bh[8 + k] = (uint8_t)(body >> (8 * k));
			}
			uint32_t crc = crc32(crc32(0, bh, 12), bh + REC_BLOCK_HEAD, body);

			for (int k = 0; k < 4; k++)
				bh[12 + k] = (uint8_t)(crc >> (8 * k));
		}
		res = read_mem(buf, n);
		errs += res.rc < 0;
		events += res.events;
		decoded += res.decoded;
		dns += res.dns;
	}
	/* records of random sizes and bytes reached the decoder and the flow
	 * table (ASan and UBSan watching), and the short ones were refused */
	CHECK(nm("fuzz random: %u random events, %u decoded", events, decoded),
	      events > 500 && decoded > 0 && decoded < events);
	CHECK(nm("fuzz random: damage found (%u of 3000 inputs)", errs), errs > 1000);
	/* and random DNS records, of lengths that fit, through the parser */
	CHECK(nm("fuzz random: %u random DNS answers read", dns), dns > 20);
	free(hdr);
	free(buf);
}

static void test_parse_time(void)
{
	struct rec_header h = header(); /* starts 2025-12-02T18:26:40Z, mono 1000 s */
	static const struct {
		const char *in;
		int64_t want_s_x4; /* seconds after the start, times 4; -1: refused */
	} cases[] = {
		{ "+30s", 120 },
		{ "+5m", 1200 },
		{ "+1h", 14400 },
		{ "+90", 360 },
		{ "+1.5s", 6 },
		{ "+0", 0 },
		{ "2025-12-02T18:26:50Z", 40 },
		{ "2025-12-02T18:26:50z", 40 },
		{ "2025-12-02T19:26:50+01:00", 40 },
		{ "2025-12-02T17:56:50-00:30", 40 },
		{ "2025-12-02T18:26:50.250Z", 41 },
		{ "yesterday", -1 },
		{ "+", -1 },
		{ "+x", -1 },
		{ "+-5s", -1 },
		{ "30s", -1 },
		{ "2025-12-02T18:26:50", -1 },
		{ "2025-12-02T18:26:50Zjunk", -1 },
		{ "2025-12-02T18:26:50+1:00", -1 },
		{ "2025-12-02T18:26:50+24:00", -1 },
		{ "2025-12-02T18:26:50.Z", -1 },
		{ "", -1 },
	};
	uint64_t t;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = rec_parse_time(&h, cases[i].in, &t);

		if (cases[i].want_s_x4 < 0) {
			CHECK_I(nm("time '%s' refused", cases[i].in), -EINVAL, rc);
			continue;
		}
		int64_t want =
			(int64_t)h.start_mono_ns + cases[i].want_s_x4 * (int64_t)NS_PER_S / 4;

		/* a double holds unix ns to 256 ns */
		ck(!rc && llabs((int64_t)t - want) < 1000, nm("time '%s'", cases[i].in),
		   "rc %d, %lld ns from the start, want %lld", rc,
		   (long long)((int64_t)t - (int64_t)h.start_mono_ns),
		   (long long)(want - (int64_t)h.start_mono_ns));
	}
	CHECK_I("time before the recording: 0", 0, rec_parse_time(&h, "2000-01-01T00:00:00Z", &t));
	CHECK_U("time before the recording: mono 0", 0, t);
}

int main(void)
{
	char cmd[64];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_roundtrip(0);
	test_roundtrip(1);
	test_blocks_and_cut();
	test_rotation();
	test_write_fails();
	test_errors();
	fuzz_file(1);
	fuzz_file(0);
	fuzz_random();
	test_parse_time();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		printf("# could not remove %s\n", dir);
	return ck_done();
}
