/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Recordings (-w FILE, --read FILE): what was captured, event by event,
 * with the time user space handled it, in a versioned file of independent
 * zlib-compressed blocks. man/connecttop.8 (RECORDING FORMAT) is the
 * format's reference; in short, all integers little-endian:
 *
 *   header   magic "\x89CTREC\r\n", u16 version, u16 header length, the
 *            fields of struct rec_header, u32 CRC-32 of the bytes before it
 *   blocks   u32 "CTBK", u32 stored length, u32 raw length, u32 CRC-32 of
 *            these 12 bytes and the stored ones; then the stored bytes: a
 *            zlib stream (or raw, flag REC_F_ZLIB clear) of records
 *   record   u16 body length, u8 type, u8 flags, body: u64 t (monotonic ns
 *            of the recording host) then the type's fields
 *
 * A block holds at most REC_BLOCK_NS of records and is written with one
 * write(2) when that time is up (rec_writer_due), so a process killed with
 * SIGKILL loses at most that much. Pure: no clock (callers pass times), no
 * libbpf, no curses.
 */
#ifndef CT_RECORD_H
#define CT_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* 2: DNS answers (REC_DNS), the tick's DNS counters, the header's
 * counts before its file (a rotation's); version 1 files read as before */
#define REC_VERSION 2
#define REC_MAGIC \
	"\x89"    \
	"CTREC\r\n"
#define REC_HEADER_LEN 244 /* version 2's; version 1's had 228 */
#define REC_HEADER_LEN_V1 228
#define REC_BLOCK_HEAD 16
#define REC_BLOCK_MAX (16u << 20) /* stored or raw bytes of one block, at most */
/* a block is written once its first record is this old (or it is full) */
#define REC_BLOCK_NS 500000000ULL
#define REC_BLOCK_RAW (1u << 20) /* raw bytes that close a block early */

/* rec_header.flags */
#define REC_F_ZLIB 0x1	 /* blocks are zlib streams */
#define REC_F_SYNRT 0x2	 /* events count SYN retransmits (probe_syn_retrans) */
#define REC_F_UNIX 0x4	 /* --unix: AF_UNIX events carry their path */
#define REC_F_LITTLE 0x8 /* events (struct ct_event) are little-endian */
#define REC_F_DNS 0x10	 /* DNS answers were captured: REC_DNS records (version 2) */
#define REC_F_KNOWN 0x1f

struct rec_header {
	uint16_t version;
	uint32_t flags;		 /* REC_F_* */
	uint64_t start_unix_ns;	 /* wall clock when capture started */
	uint64_t start_mono_ns;	 /* CLOCK_MONOTONIC then */
	int64_t mono_to_unix_ns; /* add to a monotonic time for unix time */
	uint32_t interval_us;	 /* -d of the recording */
	uint32_t event_size;	 /* sizeof(struct ct_event) of the recorder */
	uint32_t max_flows;	 /* --max-flows of the recording */
	uint32_t seq;		 /* file number in a rotation (0: the first) */
	uint32_t filter_pid;	 /* -p, 0: none (applied in the kernel) */
	uint16_t filter_port;	 /* -P, 0: none */
	uint8_t filter_family;	 /* -4/-6: 4 or 6, 0: both */
	char host[64];		 /* gethostname(), NUL-terminated */
	char kernel[64];	 /* uname -r */
	char tool[32];		 /* "connecttop 0.1.0" */
	/* version 2: the events and outcomes in the files of the rotation
	 * before this one (0 in the first), for a replay whose first files
	 * --max-files deleted to say what it lacks */
	uint64_t events_before, outcomes_before;
};

/* record types */
enum rec_type {
	REC_EVENT = 1, /* a ring buffer record as captured (struct ct_event [+ ct_path]) */
	REC_TICK = 2,  /* an interval ended (flag REC_TICK_ENDED) or stats were taken */
	REC_PID = 3,   /* what was read of a process: command line, cgroup */
	REC_USER = 4,  /* a user name */
	REC_END = 5, /* the recording was closed (flag REC_END_ROTATED: goes on in the next file) */
	REC_DNS = 6, /* a DNS answer as captured (version 2) */
};
#define REC_TICK_ENDED 0x1
#define REC_TICK_SHOWN 0x2 /* stats-only (not ENDED), printed by batch mode (its last output) */
#define REC_END_ROTATED 0x1

/* the probe's counters, as a tick saw them */
struct rec_tick {
	uint64_t now_unix_ns; /* the stats' wall clock */
	uint64_t rb_drops, call_drops, sock_drops, outcomes_late, missed, swept;
	/* the flow table's: evicted and folded since start, flows held (a
	 * replay with the same --max-flows makes the same again) */
	uint64_t evicted, folded, flows;
	uint64_t outcomes_destroy; /* outcomes found when the socket was destroyed */
	/* version 2: the DNS capture's (dnscap.h), which no answer record
	 * carries: answers too large for a frame, answers the kernel dropped */
	uint64_t dns_cut, dns_drops;
	/* and whether it was armed, how often it was armed again */
	uint64_t dns_arms, dns_capturing;
};

/* the largest DNS payload a record holds (a capture frame's worth) */
#define REC_DNS_MAX 2048

/* a DNS answer: what dnsattr.h decides from (the capture's time, the
 * client's port and address) and the UDP payload, parsed again on replay */
struct rec_dns {
	uint64_t ts_ns;	    /* the capture's time (monotonic) */
	uint8_t family;	    /* of the client: 4 or 6 */
	uint16_t port;	    /* the client's (the answer's destination) port */
	uint8_t client[16]; /* its address (4 bytes for IPv4) */
	const uint8_t *payload;
	uint16_t len; /* of payload, at most REC_DNS_MAX */
};

struct rec_pid {
	uint32_t pid;
	uint64_t cgroup_id;
	char comm[17];	   /* NUL-terminated */
	char cmdline[256]; /* as names.c read it (sanitized there), NUL-terminated */
	char cgroup[256];
};

struct rec_record {
	uint8_t type, flags;
	uint64_t t;	  /* monotonic ns on the recording host */
	const void *data; /* REC_EVENT: the ring buffer record, 8-byte aligned */
	size_t size;
	struct rec_tick tick; /* REC_TICK */
	struct rec_dns dns;   /* REC_DNS: payload valid until the next record */
	struct rec_pid pid;   /* REC_PID */
	uint32_t uid;	      /* REC_USER */
	char user[64];	      /* REC_USER */
	uint64_t offset;      /* byte offset in the file of the block holding it */
};

/* ---- writing ---- */

struct rec_limits {
	uint64_t max_file_bytes; /* 0: one file; else go on in FILE.1, FILE.2, ... */
	uint32_t max_files;	 /* with max_file_bytes: keep the newest this many, 0: all */
	int no_zlib;		 /* store blocks raw (tests) */
};

struct rec_writer;

/* Create path (truncating it) and write the header. NULL with errno and a
 * line in err on failure. h->seq, version and length fields are set here. */
struct rec_writer *rec_writer_new(const char *path, const struct rec_header *h,
				  const struct rec_limits *lim, char *err, size_t errlen);
/* Append a record; the block is written when full. 0, or -errno once the
 * recording has stopped (rec_writer_error says why; the capture goes on). */
int rec_write_event(struct rec_writer *w, uint64_t t, const void *data, size_t size);
/* flags: REC_TICK_* */
int rec_write_tick(struct rec_writer *w, uint64_t t, unsigned flags, const struct rec_tick *tk);
int rec_write_pid(struct rec_writer *w, uint64_t t, const struct rec_pid *p);
int rec_write_user(struct rec_writer *w, uint64_t t, uint32_t uid, const char *name);
/* d->len bytes of d->payload, at most REC_DNS_MAX (-EINVAL past) */
int rec_write_dns(struct rec_writer *w, uint64_t t, const struct rec_dns *d);
/* monotonic ns when the open block must be written (UINT64_MAX: none open) */
uint64_t rec_writer_due(const struct rec_writer *w);
/* write the open block now (at the due time, or before exit) */
int rec_writer_flush(struct rec_writer *w);
/* NULL while recording; else one line saying why it stopped */
const char *rec_writer_error(const struct rec_writer *w);
/* bytes written to the files so far */
uint64_t rec_writer_bytes(const struct rec_writer *w);
/* write the end record, flush, close; NULL is fine. 0 or the first -errno. */
int rec_writer_close(struct rec_writer *w, uint64_t t);

/* ---- reading ---- */

struct rec_reader;

/* Read the header from f (owned by the reader from then on; name is for
 * messages). NULL with errno and a line in err: EPROTONOSUPPORT for a newer
 * version, EINVAL for a file that is no recording or whose header is
 * corrupt, or the read's errno. */
struct rec_reader *rec_reader_new(FILE *f, const char *name, struct rec_header *h, char *err,
				  size_t errlen);
struct rec_reader *rec_reader_open(const char *path, struct rec_header *h, char *err,
				   size_t errlen);
/* The next record into *r (its data valid until the next call): 1, or 0 at
 * the end of the file, or -EBADMSG for a corrupt or truncated block, with a
 * line in err naming the byte offset; the records before it were good. */
int rec_next(struct rec_reader *rd, struct rec_record *r, char *err, size_t errlen);
/* 1 if the file ended with its end record (0: cut short, e.g. kill -9) */
int rec_reader_closed(const struct rec_reader *rd);
void rec_reader_free(struct rec_reader *rd);

/* A time of --from/--to/g: RFC 3339 ("2026-12-03T10:15:00Z", a fraction
 * and an offset allowed) or relative to the recording's start ("+30s",
 * "+5m", "+1h", "+90" seconds), to the recording's monotonic clock. 0 or
 * -EINVAL. */
int rec_parse_time(const struct rec_header *h, const char *s, uint64_t *mono_ns);

#endif
