// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The recording file format (record.h): a writer that never stops the
 * capture (a failed write ends the recording, with a message), and a reader
 * for hostile input: every length is checked before it is used, every block
 * is CRC-checked before it is inflated, and an error names the byte offset.
 */
#include "record.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "connecttop.h"
#include "util.h"

#define BLOCK_MAGIC 0x4b425443u /* "CTBK" as a little-endian u32 */
#define REC_HEAD 4		/* u16 body length, u8 type, u8 flags */
#define TICK_BODY_V1 (8 + 11 * 8)
#define TICK_BODY (TICK_BODY_V1 + 4 * 8)
/* t, ts_ns, family, a pad byte, port, client, payload length */
#define DNS_FIXED (8 + 8 + 1 + 1 + 2 + 16 + 2)
#define PID_FIXED (8 + 4 + 4 + 8 + 16 + 2)

/* ---- little-endian fields ---- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static uint16_t get16(const uint8_t *p)
{
	return p[0] | (uint16_t)p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* a NUL-terminated copy of at most n bytes of a fixed field */
static void get_str(char *out, size_t outlen, const uint8_t *p, size_t n)
{
	size_t len = strnlen((const char *)p, n);

	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, p, len);
	out[len] = 0;
}

static void header_encode(const struct rec_header *h, uint8_t *b)
{
	memset(b, 0, REC_HEADER_LEN);
	memcpy(b, REC_MAGIC, 8);
	put16(b + 8, REC_VERSION);
	put16(b + 10, REC_HEADER_LEN);
	put32(b + 12, h->flags);
	put64(b + 16, h->start_unix_ns);
	put64(b + 24, h->start_mono_ns);
	put64(b + 32, (uint64_t)h->mono_to_unix_ns);
	put32(b + 40, h->interval_us);
	put32(b + 44, h->event_size);
	put32(b + 48, h->max_flows);
	put32(b + 52, h->seq);
	put32(b + 56, h->filter_pid);
	put16(b + 60, h->filter_port);
	b[62] = h->filter_family;
	memcpy(b + 64, h->host, strnlen(h->host, 63));
	memcpy(b + 128, h->kernel, strnlen(h->kernel, 63));
	memcpy(b + 192, h->tool, strnlen(h->tool, 31));
	put64(b + 224, h->events_before);
	put64(b + 232, h->outcomes_before);
	put32(b + REC_HEADER_LEN - 4, crc32(0, b, REC_HEADER_LEN - 4));
}

/* ---- writing ---- */

struct rec_writer {
	char *path;
	int fd;
	struct rec_header h;
	struct rec_limits lim;
	uint8_t *raw, *out; /* the open block's records; its stored form */
	size_t raw_len;
	/* raw bytes that close a block: REC_BLOCK_RAW, or with rotation a
	 * quarter of a file, so that a block (which zlib can grow by a few
	 * bytes at worst) always fits in a file of its own */
	size_t block_raw;
	uint64_t first_t; /* t of the open block's first record, UINT64_MAX: none */
	uint64_t last_t;  /* of the last record written to the file */
	uint64_t file_bytes, total_bytes;
	/* events and outcomes: in the files written (before this one's
	 * header: h.events_before), in this file's blocks, in the open block */
	uint64_t file_events, file_outcomes, block_events, block_outcomes;
	int err; /* -errno once stopped */
	char msg[512];
};

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static char *seq_path(const char *path, uint32_t seq)
{
	char *p;

	if (!seq)
		return strdup(path);
	if (asprintf(&p, "%s.%u", path, seq) < 0)
		return NULL;
	return p;
}

static int file_open(struct rec_writer *w, uint32_t seq)
{
	uint8_t hb[REC_HEADER_LEN];
	char *p = seq_path(w->path, seq);
	int rc;

	if (!p)
		return -ENOMEM;
	w->fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		rc = -errno;
		snprintf(w->msg, sizeof(w->msg), "cannot create %s: %s", p, strerror(-rc));
		free(p);
		return rc;
	}
	w->h.seq = seq;
	w->h.events_before += w->file_events;
	w->h.outcomes_before += w->file_outcomes;
	w->file_events = w->file_outcomes = 0;
	header_encode(&w->h, hb);
	rc = write_all(w->fd, hb, sizeof(hb));
	if (rc)
		snprintf(w->msg, sizeof(w->msg), "cannot write %s: %s", p, strerror(-rc));
	w->file_bytes = rc ? 0 : sizeof(hb);
	w->total_bytes += w->file_bytes;
	/* with --max-files N, the file N before this one goes */
	if (!rc && w->lim.max_files && seq >= w->lim.max_files) {
		char *old = seq_path(w->path, seq - w->lim.max_files);

		if (old)
			unlink(old);
		free(old);
	}
	free(p);
	return rc;
}

/* the recording stops: say why, keep the file as it was before the failed
 * write (a whole number of blocks, readable to its end) */
static int writer_stop(struct rec_writer *w, int rc)
{
	char when[40];

	if (w->fd >= 0) {
		/* if this fails too the file ends in a cut block: the
		 * reader says so */
		int unused = ftruncate(w->fd, (off_t)w->file_bytes);

		(void)unused;
		close(w->fd);
		w->fd = -1;
	}
	ct_rfc3339(w->last_t + w->h.mono_to_unix_ns, when, sizeof(when));
	if (!w->msg[0])
		snprintf(w->msg, sizeof(w->msg),
			 "recording to %s stopped: %s (%llu bytes written, up to %s; the capture "
			 "goes on)",
			 w->path, strerror(-rc), (unsigned long long)w->total_bytes,
			 w->last_t ? when : "its start");
	w->err = rc;
	w->raw_len = 0;
	w->first_t = UINT64_MAX;
	return rc;
}

/* The open block, stored (compressed), with its head: into w->out. zlib's
 * fastest level: a UDP connect() storm of ~300k events/s (loadgen -r -T 2)
 * costs connecttop 0.59-0.75 us of CPU per event with -w against 0.17-0.28
 * without, and the file takes 9.3-10 bytes per 104-byte event (three runs
 * each on a shared 2-core VM, 2026-12-03). */
static int block_make(struct rec_writer *w, size_t *len)
{
	uLongf n = compressBound(w->raw_len);

	if (w->lim.no_zlib) {
		memcpy(w->out + REC_BLOCK_HEAD, w->raw, w->raw_len);
		n = w->raw_len;
	} else if (compress2(w->out + REC_BLOCK_HEAD, &n, w->raw, w->raw_len, Z_BEST_SPEED) !=
		   Z_OK) {
		return -ENOMEM;
	}
	put32(w->out, BLOCK_MAGIC);
	put32(w->out + 4, (uint32_t)n);
	put32(w->out + 8, (uint32_t)w->raw_len);
	put32(w->out + 12, crc32(crc32(0, w->out, 12), w->out + REC_BLOCK_HEAD, n));
	*len = REC_BLOCK_HEAD + n;
	return 0;
}

/* The end block of a file that the next one goes on from (REC_END_ROTATED),
 * into end (REC_BLOCK_HEAD + 64 bytes): its length, or -errno */
static int end_block(struct rec_writer *w, uint8_t *end, size_t *elen)
{
	uint8_t rec[REC_HEAD + 8];
	uint8_t *raw = w->raw, *out = w->out;
	size_t raw_len = w->raw_len;
	int rc;

	put16(rec, 8);
	rec[2] = REC_END;
	rec[3] = REC_END_ROTATED;
	put64(rec + 4, w->last_t);
	/* made with the block code, on side buffers */
	w->raw = rec;
	w->raw_len = sizeof(rec);
	w->out = end;
	rc = block_make(w, elen);
	w->raw = raw;
	w->raw_len = raw_len;
	w->out = out;
	return rc;
}

int rec_writer_flush(struct rec_writer *w)
{
	uint8_t end[REC_BLOCK_HEAD + 64];
	size_t len, elen;
	int rc;

	if (w->err)
		return w->err;
	if (!w->raw_len)
		return 0;
	rc = block_make(w, &len);
	if (rc)
		return writer_stop(w, rc);
	/* rotation: a file that would grow past its bound with this block
	 * and the end record a later rotation adds (at most its record's
	 * compressBound) is closed now, with that end record (saying the
	 * next file goes on), and the next begun */
	if (w->lim.max_file_bytes && w->file_bytes > REC_HEADER_LEN &&
	    w->file_bytes + len + REC_BLOCK_HEAD + compressBound(REC_HEAD + 8) >
		    w->lim.max_file_bytes) {
		rc = end_block(w, end, &elen);
		if (!rc)
			rc = write_all(w->fd, end, elen);
		if (rc)
			return writer_stop(w, rc);
		close(w->fd);
		w->fd = -1;
		w->total_bytes += elen;
		rc = file_open(w, w->h.seq + 1);
		if (rc)
			return writer_stop(w, rc);
		rc = block_make(w, &len); /* the same bytes again */
		if (rc)
			return writer_stop(w, rc);
	}
	rc = write_all(w->fd, w->out, len);
	if (rc)
		return writer_stop(w, rc);
	w->file_bytes += len;
	w->total_bytes += len;
	w->file_events += w->block_events;
	w->file_outcomes += w->block_outcomes;
	w->block_events = w->block_outcomes = 0;
	w->raw_len = 0;
	w->first_t = UINT64_MAX;
	return 0;
}

/* room for a record of body bytes in the open block, which starts at t */
static uint8_t *rec_put(struct rec_writer *w, uint64_t t, uint8_t type, uint8_t flags, size_t body)
{
	uint8_t *p;

	if (w->err || body > UINT16_MAX)
		return NULL;
	if (w->raw_len + REC_HEAD + body > w->block_raw && rec_writer_flush(w))
		return NULL;
	p = w->raw + w->raw_len;
	put16(p, (uint16_t)body);
	p[2] = type;
	p[3] = flags;
	put64(p + REC_HEAD, t);
	w->raw_len += REC_HEAD + body;
	if (w->first_t == UINT64_MAX)
		w->first_t = t;
	w->last_t = t;
	return p + REC_HEAD + 8;
}

int rec_write_event(struct rec_writer *w, uint64_t t, const void *data, size_t size)
{
	uint8_t *p = rec_put(w, t, REC_EVENT, 0, 8 + size);

	if (!p)
		return w->err ? w->err : -EINVAL;
	memcpy(p, data, size);
	/* counted as decode.c counts them (a command line record is neither) */
	if (size >= sizeof(struct ct_event)) {
		const struct ct_event *e = data;

		if (e->kind == CT_EV_CMDLINE ||
		    (e->family == AF_UNIX && size < sizeof(*e) + sizeof(struct ct_path)))
			;
		else if (e->kind == CT_EV_OUTCOME)
			w->block_outcomes++;
		else
			w->block_events++;
	}
	return 0;
}

int rec_write_tick(struct rec_writer *w, uint64_t t, unsigned flags, const struct rec_tick *tk)
{
	uint8_t *p = rec_put(w, t, REC_TICK, (uint8_t)flags, TICK_BODY);

	if (!p)
		return w->err;
	put64(p, tk->now_unix_ns);
	put64(p + 8, tk->rb_drops);
	put64(p + 16, tk->call_drops);
	put64(p + 24, tk->sock_drops);
	put64(p + 32, tk->outcomes_late);
	put64(p + 40, tk->missed);
	put64(p + 48, tk->swept);
	put64(p + 56, tk->evicted);
	put64(p + 64, tk->folded);
	put64(p + 72, tk->flows);
	put64(p + 80, tk->outcomes_destroy);
	put64(p + 88, tk->dns_cut);
	put64(p + 96, tk->dns_drops);
	put64(p + 104, tk->dns_arms);
	put64(p + 112, tk->dns_capturing);
	return 0;
}

int rec_write_dns(struct rec_writer *w, uint64_t t, const struct rec_dns *d)
{
	uint8_t *p;

	if (d->len > REC_DNS_MAX)
		return -EINVAL;
	p = rec_put(w, t, REC_DNS, 0, DNS_FIXED + d->len);
	if (!p)
		return w->err;
	put64(p, d->ts_ns);
	p[8] = d->family;
	p[9] = 0;
	put16(p + 10, d->port);
	memcpy(p + 12, d->client, 16);
	put16(p + 28, d->len);
	memcpy(p + 30, d->payload, d->len);
	return 0;
}

int rec_write_pid(struct rec_writer *w, uint64_t t, const struct rec_pid *pi)
{
	size_t lc = strnlen(pi->cmdline, 255), lg = strnlen(pi->cgroup, 255);
	uint8_t *p = rec_put(w, t, REC_PID, 0, PID_FIXED + lc + lg);

	if (!p)
		return w->err;
	put32(p, pi->pid);
	put32(p + 4, 0);
	put64(p + 8, pi->cgroup_id);
	memset(p + 16, 0, 16);
	memcpy(p + 16, pi->comm, strnlen(pi->comm, 16));
	p[32] = (uint8_t)lc;
	p[33] = (uint8_t)lg;
	memcpy(p + 34, pi->cmdline, lc);
	memcpy(p + 34 + lc, pi->cgroup, lg);
	return 0;
}

int rec_write_user(struct rec_writer *w, uint64_t t, uint32_t uid, const char *name)
{
	size_t n = strnlen(name, 63);
	uint8_t *p = rec_put(w, t, REC_USER, 0, 8 + 4 + n);

	if (!p)
		return w->err;
	put32(p, uid);
	memcpy(p + 4, name, n);
	return 0;
}

uint64_t rec_writer_due(const struct rec_writer *w)
{
	return !w || w->err || w->first_t == UINT64_MAX ? UINT64_MAX : w->first_t + REC_BLOCK_NS;
}

const char *rec_writer_error(const struct rec_writer *w)
{
	return w && w->err ? w->msg : NULL;
}

uint64_t rec_writer_bytes(const struct rec_writer *w)
{
	return w ? w->total_bytes : 0;
}

struct rec_writer *rec_writer_new(const char *path, const struct rec_header *h,
				  const struct rec_limits *lim, char *err, size_t errlen)
{
	struct rec_writer *w = calloc(1, sizeof(*w));
	int rc;

	if (!w || !(w->path = strdup(path)) || !(w->raw = malloc(REC_BLOCK_RAW)) ||
	    !(w->out = malloc(REC_BLOCK_HEAD + compressBound(REC_BLOCK_RAW)))) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	w->h = *h;
	w->h.version = REC_VERSION;
	if (!lim->no_zlib)
		w->h.flags |= REC_F_ZLIB;
	w->lim = *lim;
	w->block_raw = REC_BLOCK_RAW;
	if (lim->max_file_bytes && lim->max_file_bytes / 4 < REC_BLOCK_RAW)
		w->block_raw = lim->max_file_bytes / 4 > 512 ? lim->max_file_bytes / 4 : 512;
	w->fd = -1;
	w->first_t = UINT64_MAX;
	rc = file_open(w, 0);
	if (rc) {
		snprintf(err, errlen, "-w: %s", w->msg);
		goto fail;
	}
	return w;
fail:
	if (w) {
		if (w->fd >= 0)
			close(w->fd);
		free(w->path);
		free(w->raw);
		free(w->out);
		free(w);
	}
	errno = -rc;
	return NULL;
}

int rec_writer_close(struct rec_writer *w, uint64_t t)
{
	int rc;

	if (!w)
		return 0;
	if (!w->err && rec_put(w, t, REC_END, 0, 8))
		rec_writer_flush(w);
	rc = w->err;
	if (w->fd >= 0 && close(w->fd) && !rc)
		rc = -errno;
	free(w->path);
	free(w->raw);
	free(w->out);
	free(w);
	return rc;
}

/* ---- reading ---- */

struct rec_reader {
	FILE *f;
	char name[256];
	uint8_t *stored, *raw;
	size_t cap; /* of both */
	size_t raw_len, pos;
	uint64_t off;	    /* of the next block */
	uint64_t block_off; /* of the block being read */
	uint32_t flags;	    /* the header's */
	/* a rotation's series (rec_reader_open): the first file's name (of
	 * seq 0), the number of the file being read, its first header */
	char *base;
	uint32_t seq;
	uint64_t start_unix_ns, start_mono_ns;
	int closed; /* the end record was read */
	int err;    /* sticky -EBADMSG */
	char msg[512];
	/* an event's bytes, 8-byte aligned as the ring buffer had them
	 * (records in a block are packed: decode_event reads a struct) */
	uint64_t ev[(UINT16_MAX + 7) / 8];
};

/* fread that tells how much it got */
static size_t read_n(FILE *f, void *buf, size_t n)
{
	return fread(buf, 1, n, f);
}

/* the header of f into *h: its length, or -errno with a line in err */
static int header_read(FILE *f, const char *name, struct rec_header *h, char *err, size_t errlen)
{
	uint8_t b[4096];
	size_t n, hlen;
	uint32_t crc;
	int rc = -EINVAL;

	n = read_n(f, b, 12);
	if (ferror(f)) {
		rc = -EIO;
		snprintf(err, errlen, "%s: cannot read: %s", name, strerror(errno));
		goto fail;
	}
	if (n < 8 || memcmp(b, REC_MAGIC, 8)) {
		snprintf(err, errlen,
			 "%s: not a connecttop recording (no \\x89CTREC magic at byte 0; -w "
			 "writes recordings)",
			 name);
		goto fail;
	}
	if (n < 12) {
		snprintf(err, errlen, "%s: truncated at byte %zu, in its header of %d bytes", name,
			 n, REC_HEADER_LEN);
		goto fail;
	}
	memset(h, 0, sizeof(*h));
	h->version = get16(b + 8);
	if (h->version > REC_VERSION) {
		snprintf(err, errlen,
			 "%s: recording format version %u (byte 8); this connecttop reads versions "
			 "up to %d: a newer connecttop wrote it",
			 name, h->version, REC_VERSION);
		rc = -EPROTONOSUPPORT;
		goto fail;
	}
	hlen = get16(b + 10);
	if (h->version == 0 || hlen < (h->version >= 2 ? REC_HEADER_LEN : REC_HEADER_LEN_V1) ||
	    hlen > sizeof(b)) {
		snprintf(err, errlen, "%s: corrupt header: version %u, length %zu (byte 8)", name,
			 h->version, hlen);
		goto fail;
	}
	n = read_n(f, b + 12, hlen - 12);
	if (n < hlen - 12) {
		snprintf(err, errlen, "%s: truncated at byte %zu, in its header of %zu bytes", name,
			 12 + n, hlen);
		goto fail;
	}
	crc = crc32(0, b, hlen - 4);
	if (crc != get32(b + hlen - 4)) {
		snprintf(
			err, errlen,
			"%s: corrupt header: CRC-32 %08x at byte %zu, the header's bytes give %08x",
			name, get32(b + hlen - 4), hlen - 4, crc);
		goto fail;
	}
	h->flags = get32(b + 12);
	h->start_unix_ns = get64(b + 16);
	h->start_mono_ns = get64(b + 24);
	h->mono_to_unix_ns = (int64_t)get64(b + 32);
	h->interval_us = get32(b + 40);
	h->event_size = get32(b + 44);
	h->max_flows = get32(b + 48);
	h->seq = get32(b + 52);
	h->filter_pid = get32(b + 56);
	h->filter_port = get16(b + 60);
	h->filter_family = b[62];
	get_str(h->host, sizeof(h->host), b + 64, 64);
	get_str(h->kernel, sizeof(h->kernel), b + 128, 64);
	get_str(h->tool, sizeof(h->tool), b + 192, 32);
	if (h->version >= 2) {
		h->events_before = get64(b + 224);
		h->outcomes_before = get64(b + 232);
	}
	if (h->flags & ~REC_F_KNOWN) {
		snprintf(err, errlen,
			 "%s: header flags 0x%x at byte 12 are unknown to this connecttop (a newer "
			 "one wrote it)",
			 name, h->flags);
		rc = -EPROTONOSUPPORT;
		goto fail;
	}
	if (!(h->flags & REC_F_LITTLE) || h->event_size != sizeof(struct ct_event)) {
		snprintf(err, errlen,
			 "%s: events of %u bytes%s (byte 44); this connecttop reads little-endian "
			 "events of %zu bytes",
			 name, h->event_size, h->flags & REC_F_LITTLE ? "" : ", big-endian",
			 sizeof(struct ct_event));
		rc = -EPROTONOSUPPORT;
		goto fail;
	}
	return (int)hlen;
fail:
	return rc;
}

struct rec_reader *rec_reader_new(FILE *f, const char *name, struct rec_header *h, char *err,
				  size_t errlen)
{
	struct rec_reader *rd = calloc(1, sizeof(*rd));
	int rc = -ENOMEM;

	if (!rd) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	snprintf(rd->name, sizeof(rd->name), "%s", name);
	rc = header_read(f, name, h, err, errlen);
	if (rc < 0)
		goto fail;
	rd->f = f;
	rd->flags = h->flags;
	rd->off = (uint64_t)rc;
	rd->seq = h->seq;
	rd->start_unix_ns = h->start_unix_ns;
	rd->start_mono_ns = h->start_mono_ns;
	return rd;
fail:
	free(rd);
	fclose(f);
	errno = -rc;
	return NULL;
}

/* The lowest n of an existing "path.n" (the oldest file --max-files left
 * of a rotation whose first is gone), 0 for none */
static uint32_t series_oldest(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *file = slash ? slash + 1 : path;
	size_t flen = strlen(file);
	char *dir = slash ? strndup(path, (size_t)(slash - path + 1)) : strdup(".");
	uint32_t best = 0;
	struct dirent *de;
	DIR *d;

	if (!dir)
		return 0;
	d = opendir(dir);
	free(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		const char *p = de->d_name + flen + 1;
		unsigned long n;
		char *end;

		if (strncmp(de->d_name, file, flen) || de->d_name[flen] != '.' || *p < '1' ||
		    *p > '9')
			continue;
		n = strtoul(p, &end, 10);
		if (!*end && n <= UINT32_MAX && (!best || n < best))
			best = (uint32_t)n;
	}
	closedir(d);
	return best;
}

static FILE *open_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rbe");
	struct stat st;

	if (!f) {
		int e = errno;

		snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	if (!fstat(fileno(f), &st) && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is a directory, not a recording", path);
		fclose(f);
		errno = EISDIR;
		return NULL;
	}
	return f;
}

struct rec_reader *rec_reader_open(const char *path, struct rec_header *h, char *err, size_t errlen)
{
	FILE *f = open_file(path, err, errlen);
	struct rec_reader *rd;
	char *base, *name = NULL;
	size_t plen = strlen(path);
	uint32_t oldest;
	int found;

	/* the first file of a rotation gone (--max-files): its oldest left */
	if (!f && errno == ENOENT && (oldest = series_oldest(path))) {
		name = seq_path(path, oldest);
		if (!name) {
			snprintf(err, errlen, "out of memory");
			errno = ENOMEM;
			return NULL;
		}
		f = open_file(name, err, errlen);
	}
	if (!f) {
		free(name);
		return NULL;
	}
	rd = rec_reader_new(f, name ? name : path, h, err, errlen);
	found = name != NULL;
	free(name);
	if (!rd)
		return NULL;
	/* the series this file is of: path, or path less its ".N" */
	base = strdup(path);
	if (base && h->seq && !found) {
		char suffix[16];
		size_t n = (size_t)snprintf(suffix, sizeof(suffix), ".%u", h->seq);

		if (plen > n && !strcmp(path + plen - n, suffix))
			base[plen - n] = 0;
		else
			*base = 0; /* renamed: the files after it cannot be found */
	}
	if (!base) {
		rec_reader_free(rd);
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	rd->base = base;
	return rd;
}

__attribute__((format(printf, 2, 3))) static int bad(struct rec_reader *rd, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(rd->msg, sizeof(rd->msg), "%s: ", rd->name);

	va_start(ap, fmt);
	vsnprintf(rd->msg + n, sizeof(rd->msg) - n, fmt, ap);
	va_end(ap);
	rd->err = -EBADMSG;
	return rd->err;
}

/* the next block into rd->raw: 1, 0 at the end of the file, or -EBADMSG */
static int block_read(struct rec_reader *rd)
{
	uint8_t head[REC_BLOCK_HEAD];
	uint32_t stored, raw, crc;
	size_t n = read_n(rd->f, head, sizeof(head));
	uLongf out;

	rd->block_off = rd->off;
	if (n == 0 && !ferror(rd->f))
		return 0;
	if (n < sizeof(head))
		return bad(rd,
			   "truncated at byte %llu: a block head of %d bytes, %zu of them present "
			   "(the records before it were replayed)",
			   (unsigned long long)(rd->off + n), REC_BLOCK_HEAD, n);
	if (get32(head) != BLOCK_MAGIC)
		return bad(rd, "corrupt at byte %llu: no block starts there (bad magic)",
			   (unsigned long long)rd->off);
	stored = get32(head + 4);
	raw = get32(head + 8);
	if (stored > REC_BLOCK_MAX || raw > REC_BLOCK_MAX)
		return bad(rd, "corrupt at byte %llu: a block of %u bytes (%u raw), at most %u",
			   (unsigned long long)rd->off, stored, raw, REC_BLOCK_MAX);
	if (stored > rd->cap || raw > rd->cap) {
		size_t cap = stored > raw ? stored : raw;
		uint8_t *s = realloc(rd->stored, cap), *r = s ? realloc(rd->raw, cap) : NULL;

		if (s)
			rd->stored = s;
		if (r)
			rd->raw = r;
		if (!s || !r)
			return bad(rd, "out of memory for a block of %zu bytes", cap);
		rd->cap = cap;
	}
	n = read_n(rd->f, rd->stored, stored);
	if (n < stored)
		return bad(rd,
			   "truncated at byte %llu: the block at byte %llu has %u bytes, %zu of "
			   "them present (the records before it were replayed)",
			   (unsigned long long)(rd->off + sizeof(head) + n),
			   (unsigned long long)rd->off, stored, n);
	crc = crc32(crc32(0, head, 12), rd->stored, stored);
	if (crc != get32(head + 12))
		return bad(rd,
			   "corrupt block at byte %llu: CRC-32 %08x, its bytes give %08x (the "
			   "records before it were replayed)",
			   (unsigned long long)rd->off, get32(head + 12), crc);
	if (!(rd->flags & REC_F_ZLIB)) {
		if (stored != raw)
			return bad(rd, "corrupt block at byte %llu: %u bytes stored, %u raw",
				   (unsigned long long)rd->off, stored, raw);
		memcpy(rd->raw, rd->stored, stored);
	} else {
		out = raw;
		if (uncompress(rd->raw, &out, rd->stored, stored) != Z_OK || out != raw)
			return bad(rd,
				   "corrupt block at byte %llu: its zlib stream does not inflate "
				   "to %u bytes",
				   (unsigned long long)rd->off, raw);
	}
	rd->off += sizeof(head) + stored;
	rd->raw_len = raw;
	rd->pos = 0;
	return 1;
}

/* one record of the block at rd->pos into *r: 0 or -EBADMSG */
static int record_parse(struct rec_reader *rd, struct rec_record *r)
{
	const uint8_t *p = rd->raw + rd->pos, *b;
	size_t left = rd->raw_len - rd->pos, len;

	if (left < REC_HEAD || (len = get16(p)) > left - REC_HEAD || len < 8)
		return bad(rd, "corrupt block at byte %llu: a record at its byte %zu overruns it",
			   (unsigned long long)rd->block_off, rd->pos);
	memset(r, 0, offsetof(struct rec_record, pid));
	r->type = p[2];
	r->flags = p[3];
	b = p + REC_HEAD;
	r->t = get64(b);
	r->offset = rd->block_off;
	r->data = b + 8;
	r->size = len - 8;
	switch (r->type) {
	case REC_EVENT:
		memcpy(rd->ev, b + 8, r->size);
		r->data = rd->ev;
		break;
	case REC_TICK:
		if (len < TICK_BODY_V1)
			goto short_rec;
		r->tick.now_unix_ns = get64(b + 8);
		r->tick.rb_drops = get64(b + 16);
		r->tick.call_drops = get64(b + 24);
		r->tick.sock_drops = get64(b + 32);
		r->tick.outcomes_late = get64(b + 40);
		r->tick.missed = get64(b + 48);
		r->tick.swept = get64(b + 56);
		r->tick.evicted = get64(b + 64);
		r->tick.folded = get64(b + 72);
		r->tick.flows = get64(b + 80);
		r->tick.outcomes_destroy = get64(b + 88);
		if (len >= TICK_BODY) {
			r->tick.dns_cut = get64(b + 96);
			r->tick.dns_drops = get64(b + 104);
			r->tick.dns_arms = get64(b + 112);
			r->tick.dns_capturing = get64(b + 120);
		}
		break;
	case REC_DNS:
		if (len < DNS_FIXED || len < DNS_FIXED + (size_t)get16(b + 8 + 28))
			goto short_rec;
		if (get16(b + 8 + 28) > REC_DNS_MAX)
			return bad(rd,
				   "corrupt block at byte %llu: a DNS answer at its byte %zu of %u "
				   "bytes, at most %d",
				   (unsigned long long)rd->block_off, rd->pos, get16(b + 8 + 28),
				   REC_DNS_MAX);
		r->dns.ts_ns = get64(b + 8);
		r->dns.family = b[16];
		r->dns.port = get16(b + 18);
		memcpy(r->dns.client, b + 20, 16);
		r->dns.len = get16(b + 36);
		r->dns.payload = b + 38;
		break;
	case REC_PID:
		if (len < PID_FIXED || len < PID_FIXED + (size_t)b[8 + 32] + b[8 + 33])
			goto short_rec;
		r->pid.pid = get32(b + 8);
		r->pid.cgroup_id = get64(b + 16);
		get_str(r->pid.comm, sizeof(r->pid.comm), b + 24, 16);
		get_str(r->pid.cmdline, sizeof(r->pid.cmdline), b + 8 + 34, b[8 + 32]);
		get_str(r->pid.cgroup, sizeof(r->pid.cgroup), b + 8 + 34 + b[8 + 32], b[8 + 33]);
		break;
	case REC_USER:
		if (len < 12)
			goto short_rec;
		r->uid = get32(b + 8);
		get_str(r->user, sizeof(r->user), b + 12, len - 12);
		break;
	case REC_END:
		rd->closed = 1;
		break;
	default:
		break; /* a type of a later version: skipped by the caller */
	}
	rd->pos += REC_HEAD + len;
	return 0;
short_rec:
	return bad(rd, "corrupt block at byte %llu: a record of type %u at its byte %zu is short",
		   (unsigned long long)rd->block_off, r->type, rd->pos);
}

/* the file after the one read to its rotation's end record: 0 or -EBADMSG */
static int next_file(struct rec_reader *rd)
{
	char *path = *rd->base ? seq_path(rd->base, rd->seq + 1) : NULL;
	char err[512], prev[256];
	struct rec_header h;
	FILE *f;
	int rc;

	snprintf(prev, sizeof(prev), "%s", rd->name);
	if (!*rd->base)
		return bad(rd,
			   "its end record says the recording goes on in file %u of the rotation, "
			   "which a renamed file cannot find (read the series by its first name)",
			   rd->seq + 1);
	if (!path)
		return bad(rd, "out of memory");
	f = open_file(path, err, sizeof(err));
	if (!f) {
		rc = bad(rd, "%s (the recording goes on there, says its end record)", err);
		free(path);
		return rc;
	}
	rc = header_read(f, path, &h, err, sizeof(err));
	if (rc >= 0 && (h.seq != rd->seq + 1 || h.start_unix_ns != rd->start_unix_ns ||
			h.start_mono_ns != rd->start_mono_ns || h.flags != rd->flags)) {
		snprintf(err, sizeof(err),
			 "%s: file %u of another recording, not file %u of this one's rotation",
			 path, h.seq, rd->seq + 1);
		rc = -EINVAL;
	}
	if (rc < 0) {
		fclose(f);
		free(path);
		snprintf(rd->msg, sizeof(rd->msg), "%.300s (after %.180s)", err, prev);
		rd->err = -EBADMSG;
		return rd->err;
	}
	fclose(rd->f);
	rd->f = f;
	snprintf(rd->name, sizeof(rd->name), "%s", path);
	free(path);
	rd->seq = h.seq;
	rd->off = (uint64_t)rc;
	rd->pos = rd->raw_len = 0;
	return 0;
}

int rec_next(struct rec_reader *rd, struct rec_record *r, char *err, size_t errlen)
{
	int rc;

	for (;;) {
		if (rd->err)
			break;
		while (rd->pos >= rd->raw_len) {
			rc = block_read(rd);
			if (rc <= 0)
				goto out;
		}
		if (record_parse(rd, r))
			break;
		/* a rotation goes on in the next file: read on there */
		if (r->type == REC_END && (r->flags & REC_END_ROTATED) && rd->base) {
			rd->closed = 0;
			if (next_file(rd))
				break;
			continue;
		}
		if (r->type >= REC_EVENT && r->type <= REC_DNS)
			return 1;
	}
	rc = rd->err;
out:
	if (rc < 0)
		snprintf(err, errlen, "%s", rd->msg);
	return rc;
}

int rec_reader_closed(const struct rec_reader *rd)
{
	return rd->closed;
}

void rec_reader_free(struct rec_reader *rd)
{
	if (!rd)
		return;
	if (rd->f)
		fclose(rd->f);
	free(rd->base);
	free(rd->stored);
	free(rd->raw);
	free(rd);
}

int rec_parse_time(const struct rec_header *h, const char *s, uint64_t *mono_ns)
{
	struct tm tm = { 0 };
	double secs, frac = 0;
	char *end;
	time_t t;
	int off = 0;

	if (*s == '+') {
		size_t n = strlen(s + 1);
		char num[64];
		double mult = 1;

		if (!n || n >= sizeof(num))
			return -EINVAL;
		memcpy(num, s + 1, n + 1);
		switch (num[n - 1]) {
		case 'h':
			mult = 3600;
			num[--n] = 0;
			break;
		case 'm':
			mult = 60;
			num[--n] = 0;
			break;
		case 's':
			num[--n] = 0;
			break;
		}
		if (ct_parse_double(num, 0, 1e9, &secs))
			return -EINVAL;
		*mono_ns = h->start_mono_ns + (uint64_t)(secs * mult * 1e9);
		return 0;
	}
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -EINVAL;
	if (*end == '.') {
		char *f;

		frac = strtod(end, &f);
		if (f == end + 1)
			return -EINVAL;
		end = f;
	}
	if (*end == 'Z' || *end == 'z') {
		end++;
	} else if ((*end == '+' || *end == '-') && strlen(end) == 6 && end[3] == ':') {
		int hh = (end[1] - '0') * 10 + (end[2] - '0'),
		    mm = (end[4] - '0') * 10 + (end[5] - '0');

		if (hh > 23 || mm > 59)
			return -EINVAL;
		off = (hh * 3600 + mm * 60) * (*end == '+' ? 1 : -1);
		end += 6;
	} else {
		return -EINVAL; /* RFC 3339 times say their offset */
	}
	if (*end)
		return -EINVAL;
	t = timegm(&tm) - off;
	secs = (double)t + frac;
	if (secs * 1e9 < (double)h->mono_to_unix_ns)
		*mono_ns = 0;
	else
		*mono_ns = (uint64_t)(secs * 1e9 - (double)h->mono_to_unix_ns);
	return 0;
}
