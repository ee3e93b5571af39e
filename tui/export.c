// SPDX-License-Identifier: GPL-2.0-or-later
#include "export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qnames.h"
#include "util.h"

const char *const ct_format_names[FMT_MAX] = { "table", "csv", "json", "prom" };

enum field {
	F_COMM,
	F_PID,
	F_PIDS,
	F_UID,
	F_DADDR,
	F_DPORT,
	F_PROTO,
	F_FAMILY,
	F_FLOWS,
	F_COUNT,
	F_ICOUNT,
	F_RATE,
	F_RESULTS,
	F_ERRORS,
	F_P50,
	F_P99,
	F_MAX,
	F_FIRST,
	F_LAST,
	F_FOLDED,
	F_SYNRT,
	F_QNAME,
	F_END,
};

static const char *const field_names[F_END] = {
	"comm",	     "pid",    "pids",	      "uid",	    "daddr",	      "dport",
	"proto",     "family", "flows",	      "count",	    "interval_count", "rate",
	"results",   "errors", "lat_p50_us",  "lat_p99_us", "lat_max_us",     "first_seen",
	"last_seen", "folded", "syn_retrans", "qname",
};

#define COMMON                                                                                \
	F_COUNT, F_ICOUNT, F_RATE, F_RESULTS, F_ERRORS, F_P50, F_P99, F_MAX, F_FIRST, F_LAST, \
		F_FOLDED, F_SYNRT
/* fields added to schema version 1 come last (CSV columns keep their
 * places) and are absent from JSON where unknown: version 1 as first
 * written stays a strict subset */
static const enum field group_fields[GROUP_MAX][24] = {
	[GROUP_FLOW] = { F_COMM, F_PID, F_PIDS, F_UID, F_DADDR, F_DPORT, F_PROTO, F_FAMILY, COMMON,
			 F_QNAME, F_END },
	[GROUP_PROCESS] = { F_COMM, F_PID, F_PIDS, F_UID, F_FLOWS, COMMON, F_END },
	[GROUP_DEST] = { F_DADDR, F_FAMILY, F_FLOWS, F_PIDS, COMMON, F_END },
	[GROUP_PORT] = { F_DPORT, F_PROTO, F_FLOWS, F_PIDS, COMMON, F_END },
};

const char *ct_row_top_error(const struct ct_row *r, char *buf, size_t len)
{
	const struct ct_errcount *best = NULL;

	for (int i = 0; i < CT_FLOW_ERRS && r->more->errs[i].err; i++)
		if (!best || r->more->errs[i].count > best->count)
			best = &r->more->errs[i];
	/* a connect the application gave up on has no errno: its own timeout
	 * (a grouped row not shown has no more: just "app timeout") */
	if (r->results[RES_ABANDONED] && (!best || r->results[RES_ABANDONED] >= best->count)) {
		if (!r->more->abandon_max_ns)
			snprintf(buf, len, "app timeout");
		else if (r->more->abandon_max_ns < 1000000000ULL)
			snprintf(buf, len, "app timeout %.0fms", r->more->abandon_max_ns / 1e6);
		else
			snprintf(buf, len, "app timeout %.1fs", r->more->abandon_max_ns / 1e9);
		return buf;
	}
	if (!best)
		return "";
	return ct_errno_name(best->err, buf, len);
}

/*
 * The text fields are sanitized once, where they are read (ct_sanitize:
 * valid UTF-8, no control character, a backslash already "\\"), and only
 * quoted here: sanitizing again would turn "\x0a" into "\\x0a" and a
 * newline and the text \x0a would read alike.
 */

/* JSON string: quotes and backslashes escaped (the controls are gone) */
void export_json_str(FILE *out, const char *clean)
{
	fputc('"', out);
	for (const char *p = clean; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', out);
		fputc(*p, out);
	}
	fputc('"', out);
}

/*
 * A text field of CSV: quoted when it holds a comma, quote or space, quotes
 * doubled. One that a spreadsheet would take for a formula (it starts with
 * = + - or @: a process can name itself "=cmd|'/c x'!A") gets a leading
 * apostrophe, which spreadsheets read as "text", and quotes (OWASP's advice
 * for CSV injection); JSON keeps the name as it is.
 */
void export_csv_str(FILE *out, const char *clean)
{
	int formula = clean[0] && strchr("=+-@", clean[0]);

	if (!formula && !strpbrk(clean, ",\" ")) {
		fputs(clean, out);
		return;
	}
	fputc('"', out);
	if (formula)
		fputc('\'', out);
	for (const char *p = clean; *p; p++) {
		if (*p == '"')
			fputc('"', out);
		fputc(*p, out);
	}
	fputc('"', out);
}

static void put_time(FILE *out, uint64_t mono_ns, const struct ct_stats *st, int json)
{
	char buf[40];

	if (!mono_ns) {
		fputs(json ? "null" : "", out);
		return;
	}
	ct_rfc3339(mono_ns + st->mono_to_unix_ns, buf, sizeof(buf));
	fprintf(out, json ? "\"%s\"" : "%s", buf);
}

static void put_lat(FILE *out, double us, int json)
{
	if (us < 0)
		fputs(json ? "null" : "", out);
	else
		fprintf(out, "%.0f", us);
}

/*
 * The name the flow's process resolved (qnames.h), escaped by the DNS
 * parser already (\DDD: no quote, comma or space is left). JSON: the
 * string, then "qname_hostwide":true when it came from another process's
 * answer and "qname_chain":[...] with the CNAME chain it went through
 * ("qname_chain_cut":N for the links that did not fit); export_json
 * leaves the key out when there is no name. CSV: the columns qname,
 * qname_hostwide (1 or 0) and qname_chain (the names separated by
 * '>'), empty when there is none.
 */
static void put_qname(FILE *out, uint32_t v, int json)
{
	const char *rec = ct_qname_rec(v), *p;
	int n = 0, cut = 0;

	if (!rec) {
		if (!json)
			fputs(",,", out);
		return;
	}
	p = rec + strcspn(rec, "\t");
	if (json) {
		fputc('"', out);
		for (const char *c = rec; c < p; c++) {
			if (*c == '\\' || *c == '"')
				fputc('\\', out);
			fputc(*c, out);
		}
		fputc('"', out);
		if (v & CT_QNAME_HOSTWIDE)
			fputs(",\"qname_hostwide\":true", out);
	} else {
		fprintf(out, "%.*s,%d,", (int)(p - rec), rec, !!(v & CT_QNAME_HOSTWIDE));
	}
	while (*p == '\t') {
		const char *s = p + 1;

		p = s + strcspn(s, "\t");
		if (*s == '+') {
			cut = atoi(s + 1);
			continue;
		}
		if (json) {
			fputs(n ? "," : ",\"qname_chain\":[", out);
			fputc('"', out);
			for (const char *c = s; c < p; c++) {
				if (*c == '\\' || *c == '"')
					fputc('\\', out);
				fputc(*c, out);
			}
			fputc('"', out);
		} else {
			fprintf(out, "%s%.*s", n ? ">" : "", (int)(p - s), s);
		}
		n++;
	}
	if (json && n)
		fputc(']', out);
	if (json && cut)
		fprintf(out, ",\"qname_chain_cut\":%d", cut);
}

static void put_field(FILE *out, enum field f, const struct ct_row *r, const struct ct_stats *st,
		      int json)
{
	char buf[64];

	switch (f) {
	case F_COMM: {
		char comm[4 * sizeof(r->key.comm) + 1];

		ct_sanitize(r->key.comm, sizeof(r->key.comm), comm, sizeof(comm));
		(json ? export_json_str : export_csv_str)(out, comm);
		break;
	}
	case F_PID:
		fprintf(out, "%u", r->pid);
		break;
	case F_PIDS:
		fprintf(out, "%u", r->npids);
		break;
	case F_UID:
		fprintf(out, "%u", r->uid);
		break;
	case F_DADDR: {
		char addr[CT_ADDR_STRLEN];

		/* an AF_UNIX path can hold quotes, commas, a leading '@';
		 * ct_addr_str gives it sanitized already */
		ct_addr_scope_str(r->key.family, r->key.daddr, r->key.scope, addr, sizeof(addr));
		(json ? export_json_str : export_csv_str)(out, addr);
		break;
	}
	case F_DPORT:
		fprintf(out, "%u", r->key.dport);
		break;
	case F_PROTO:
		fprintf(out, json ? "\"%s\"" : "%s", ct_proto_name(r->key.proto, buf, sizeof(buf)));
		break;
	case F_FAMILY:
		if (r->key.family == CT_FAMILY_UNIX)
			fputs(json ? "\"unix\"" : "unix", out);
		else if (r->key.family == CT_FAMILY_FOLDED)
			fputs(json ? "\"*\"" : "*", out);
		else
			fprintf(out, json ? "\"ipv%u\"" : "ipv%u", r->key.family);
		break;
	case F_FLOWS:
		fprintf(out, "%u", r->nflows);
		break;
	case F_COUNT:
		fprintf(out, "%llu", (unsigned long long)r->count);
		break;
	case F_ICOUNT:
		fprintf(out, "%llu", (unsigned long long)r->interval_count);
		break;
	case F_RATE:
		fprintf(out, "%.2f", r->rate);
		break;
	case F_RESULTS:
		for (int i = 0; i < RES_MAX; i++) {
			if (json)
				fprintf(out, "%s\"%s\":%llu", i ? "," : "{", ct_result_names[i],
					(unsigned long long)r->results[i]);
			else
				fprintf(out, "%s%llu", i ? "," : "",
					(unsigned long long)r->results[i]);
		}
		if (json)
			fputc('}', out);
		break;
	case F_ERRORS: {
		/* JSON: {"ECONNREFUSED":3}; CSV: ECONNREFUSED=3;ETIMEDOUT=1 */
		int n = 0;

		if (json)
			fputc('{', out);
		for (int i = 0; i < CT_FLOW_ERRS && r->more->errs[i].err; i++, n++)
			fprintf(out, json ? "%s\"%s\":%u" : "%s%s=%u", n ? (json ? "," : ";") : "",
				ct_errno_name(r->more->errs[i].err, buf, sizeof(buf)),
				r->more->errs[i].count);
		if (r->errs_other)
			fprintf(out, json ? "%s\"other\":%llu" : "%sother=%llu",
				n ? (json ? "," : ";") : "", (unsigned long long)r->errs_other);
		if (json)
			fputc('}', out);
		break;
	}
	case F_P50:
		put_lat(out, ct_row_lat_pct(r, 0.5), json);
		break;
	case F_P99:
		put_lat(out, ct_row_lat_pct(r, 0.99), json);
		break;
	case F_MAX:
		put_lat(out, r->lat_n ? r->lat_max_ns / 1000.0 : -1, json);
		break;
	case F_FIRST:
		put_time(out, r->first_ns, st, json);
		break;
	case F_LAST:
		put_time(out, r->last_ns, st, json);
		break;
	case F_FOLDED:
		fprintf(out, "%u", r->more->folded);
		break;
	case F_SYNRT:
		/* JSON: {"connects":C,"total":T,"hist":[0,1,2,3+]}, absent when
		 * unknown (export_json); CSV: connects,total, empty when unknown */
		if (json) {
			fprintf(out, "{\"connects\":%u,\"total\":%u,\"hist\":[%u,%u,%u,%u]}",
				ct_row_syn_rt_conns(r), r->syn_rt, r->syn_rt_hist[0],
				r->syn_rt_hist[1], r->syn_rt_hist[2], r->syn_rt_hist[3]);
		} else if (ct_row_syn_rt_known(r)) {
			fprintf(out, "%u,%u", ct_row_syn_rt_conns(r), r->syn_rt);
		} else {
			fputc(',', out);
		}
		break;
	case F_QNAME:
		put_qname(out, r->more->qname, json);
		break;
	case F_END:
		break;
	}
}

static int stream_status(FILE *out)
{
	if (fflush(out) || ferror(out))
		return errno ? -errno : -EIO;
	return 0;
}

/* JSON: the age in seconds of the row's oldest connect in flight, as the
 * last key of a row that has any. Against the same clocks as first_seen
 * and last_seen. */
static void pending_age(FILE *out, const struct ct_row *r, const struct ct_stats *st)
{
	int64_t now_mono = (int64_t)st->now_unix_ns - st->mono_to_unix_ns;
	int64_t age = now_mono - (int64_t)r->more->pending_since_ns;

	if (!r->results[RES_PENDING] || !r->more->pending_since_ns)
		return;
	fprintf(out, ",\"pending_oldest_s\":%.3f", age > 0 ? age / 1e9 : 0.0);
}

/* a row's change since the baseline: JSON keys after its others, or the
 * CSV columns after its others (the names and forms of --diff's) */
static void put_change(FILE *out, const struct ct_row *r, const struct export_changes *ch, int json)
{
	struct ct_change_info c;
	char p1[32], p2[32];

	ch->fn(ch->ctx, r, &c);
	snprintf(p1, sizeof(p1), "%.1f", c.p99_before_us);
	snprintf(p2, sizeof(p2), "%.1f", c.p99_after_us);
	if (!json) {
		fprintf(out, ",%s,%llu,%llu,%llu,%llu,%.4f,%.4f,%s,%s", ct_change_names[c.kind],
			(unsigned long long)c.before_n, (unsigned long long)c.before_fail,
			(unsigned long long)c.since_n, (unsigned long long)c.since_fail,
			c.share_before, c.share_after, c.p99_before_us < 0 ? "" : p1,
			c.p99_after_us < 0 ? "" : p2);
		return;
	}
	if (c.kind == CHG_NONE)
		fputs(",\"change\":null,\"why\":[]", out);
	else
		fprintf(out, ",\"change\":\"%s\",\"why\":[%s%s%s]", ct_change_names[c.kind],
			c.why & CHG_WHY_FAIL ? "\"fail\"" : "",
			(c.why & CHG_WHY_FAIL) && (c.why & CHG_WHY_P99) ? "," : "",
			c.why & CHG_WHY_P99 ? "\"p99\"" : "");
	fprintf(out,
		",\"before\":{\"completed\":%llu,\"failures\":%llu,\"fail_share\":%.4f,"
		"\"lat_p99_us\":%s},\"since\":{\"completed\":%llu,\"failures\":%llu,"
		"\"fail_share\":%.4f,\"lat_p99_us\":%s}",
		(unsigned long long)c.before_n, (unsigned long long)c.before_fail, c.share_before,
		c.p99_before_us < 0 ? "null" : p1, (unsigned long long)c.since_n,
		(unsigned long long)c.since_fail, c.share_after, c.p99_after_us < 0 ? "null" : p2);
}

int export_json(FILE *out, const struct ct_rows *v, enum ct_group g, const struct ct_stats *st)
{
	return export_json_changes(out, v, g, st, NULL);
}

int export_json_changes(FILE *out, const struct ct_rows *v, enum ct_group g,
			const struct ct_stats *st, const struct export_changes *ch)
{
	char now[40];

	ct_rfc3339(st->now_unix_ns, now, sizeof(now));
	fprintf(out,
		"{\"version\":%d,\"time\":\"%s\",\"interval_s\":%.3f,\"group\":\"%s\",\"events\":%llu,"
		"\"outcomes\":%llu,\"outcomes_late\":%llu,\"outcomes_at_destroy\":%llu,\"drops\":%llu,\"missed\":%llu,\"evicted\":%llu,"
		"\"folded\":%llu,\"flows\":%llu,",
		CT_SCHEMA_VERSION, now, st->interval_s, ct_group_names[g],
		(unsigned long long)st->events, (unsigned long long)st->outcomes,
		(unsigned long long)st->outcomes_late, (unsigned long long)st->outcomes_destroy,
		(unsigned long long)st->drops, (unsigned long long)st->missed,
		(unsigned long long)st->evicted, (unsigned long long)st->folded,
		(unsigned long long)st->flows);
	if (st->dns_on)
		fprintf(out,
			"\"dns\":{\"answers\":%llu,\"hostwide\":%llu,\"unseen\":%llu,\"drops\":%llu,"
			"\"evicted\":%llu,\"not_kept\":%llu,\"truncated\":%llu,\"tcp\":%llu,"
			"\"capturing\":%s,\"arms\":%llu},",
			(unsigned long long)st->dns_answers, (unsigned long long)st->dns_hostwide,
			(unsigned long long)st->dns_unseen, (unsigned long long)st->dns_drops,
			(unsigned long long)st->dns_evicted, (unsigned long long)st->dns_not_kept,
			(unsigned long long)st->dns_truncated, (unsigned long long)st->dns_tcp,
			st->dns_capturing ? "true" : "false", (unsigned long long)st->dns_arms);
	if (ch) {
		char taken[40];

		ct_rfc3339(ch->taken_unix_ns, taken, sizeof(taken));
		fprintf(out, "\"baseline\":\"%s\",", taken);
	}
	fputs("\"rows\":[", out);
	for (size_t i = 0; i < v->n; i++) {
		fputs(i ? ",{" : "{", out);
		for (int k = 0; group_fields[g][k] != F_END; k++) {
			enum field f = group_fields[g][k];

			if (f == F_FOLDED && !v->rows[i]->more->folded)
				continue; /* JSON: only on the rows that have folded flows */

			if (f == F_SYNRT && !ct_row_syn_rt_known(v->rows[i]))
				continue; /* unknown is absent, not 0 */
			if (f == F_QNAME && !ct_qname_rec(v->rows[i]->more->qname))
				continue;
			fprintf(out, "%s\"%s\":", k ? "," : "", field_names[f]);
			put_field(out, f, v->rows[i], st, 1);
		}
		pending_age(out, v->rows[i], st);
		if (ch)
			put_change(out, v->rows[i], ch, 1);
		fputc('}', out);
	}
	fputs("]}\n", out);
	return stream_status(out);
}

int export_csv_header(FILE *out, enum ct_group g)
{
	return export_csv_header_changes(out, g, NULL);
}

int export_csv_header_changes(FILE *out, enum ct_group g, const struct export_changes *ch)
{
	fputs("time", out);
	for (int k = 0; group_fields[g][k] != F_END; k++) {
		enum field f = group_fields[g][k];

		if (f == F_RESULTS) {
			for (int i = 0; i < RES_MAX; i++)
				fprintf(out, ",results.%s", ct_result_names[i]);
		} else if (f == F_SYNRT) {
			fputs(",syn_retrans.connects,syn_retrans.total", out);
		} else if (f == F_QNAME) {
			fputs(",qname,qname_hostwide,qname_chain", out);
		} else {
			fprintf(out, ",%s", field_names[f]);
		}
	}
	if (ch)
		fputs(",change,before_completed,before_failures,since_completed,since_failures,"
		      "before_fail_share,since_fail_share,before_lat_p99_us,since_lat_p99_us",
		      out);
	fputc('\n', out);
	return stream_status(out);
}

int export_csv(FILE *out, const struct ct_rows *v, enum ct_group g, const struct ct_stats *st)
{
	return export_csv_changes(out, v, g, st, NULL);
}

int export_csv_changes(FILE *out, const struct ct_rows *v, enum ct_group g,
		       const struct ct_stats *st, const struct export_changes *ch)
{
	char now[40];

	ct_rfc3339(st->now_unix_ns, now, sizeof(now));
	for (size_t i = 0; i < v->n; i++) {
		fputs(now, out);
		for (int k = 0; group_fields[g][k] != F_END; k++) {
			fputc(',', out);
			put_field(out, group_fields[g][k], v->rows[i], st, 0);
		}
		if (ch)
			put_change(out, v->rows[i], ch, 0);
		fputc('\n', out);
	}
	return stream_status(out);
}

void ct_fmt_ms(double us, char *buf, size_t len)
{
	if (us < 0)
		snprintf(buf, len, "-");
	else if (us < 10000)
		snprintf(buf, len, "%.2f", us / 1000);
	else
		snprintf(buf, len, "%.0f", us / 1000);
}

int export_table(FILE *out, const struct ct_rows *v, enum ct_group g, const struct ct_stats *st,
		 size_t max_rows)
{
	char now[40], buf[64];
	size_t n = max_rows && max_rows < v->n ? max_rows : v->n;

	ct_rfc3339(st->now_unix_ns, now, sizeof(now));
	fprintf(out,
		"%s  events/s %.1f  events %llu  drops %llu  missed %llu  evicted %llu  flows %llu  group %s",
		now, st->events_rate, (unsigned long long)st->events, (unsigned long long)st->drops,
		(unsigned long long)st->missed, (unsigned long long)st->evicted,
		(unsigned long long)st->flows, ct_group_names[g]);
	/* the name table's counts at the end of the line: readers of the
	 * fields before it are not moved */
	if (st->dns_on)
		fprintf(out, "  dns answers %llu unseen %llu drops %llu evicted %llu tcp %llu",
			(unsigned long long)st->dns_answers, (unsigned long long)st->dns_unseen,
			(unsigned long long)st->dns_drops, (unsigned long long)st->dns_evicted,
			(unsigned long long)st->dns_tcp);
	fputc('\n', out);
	switch (g) {
	case GROUP_FLOW:
		fprintf(out, "%-16s %7s %5s %-39s %5s %-5s", "PROCESS", "PID", "PIDS",
			"DESTINATION", "PORT", "PROTO");
		break;
	case GROUP_PROCESS:
		fprintf(out, "%-16s %7s %5s %5s", "PROCESS", "PID", "PIDS", "FLOWS");
		break;
	case GROUP_DEST:
		fprintf(out, "%-39s %5s %5s", "DESTINATION", "FLOWS", "PIDS");
		break;
	default:
		fprintf(out, "%5s %-5s %5s %5s", "PORT", "PROTO", "FLOWS", "PIDS");
	}
	fprintf(out, " %9s %9s %7s %5s %-14s %8s %8s\n", "RATE/s", "TOTAL", "FAIL", "FAIL%",
		"ERROR", "P50ms", "P99ms");
	for (size_t i = 0; i < n; i++) {
		const struct ct_row *r = v->rows[i];
		char comm[80], addr[CT_ADDR_STRLEN], p50[16], p99[16], err[32];
		uint64_t fails = ct_row_failures(r), done = r->count - r->results[RES_PENDING];

		ct_sanitize(r->key.comm, sizeof(r->key.comm), comm, sizeof(comm));
		ct_addr_scope_str(r->key.family, r->key.daddr, r->key.scope, addr, sizeof(addr));
		if (r->key.family == CT_FAMILY_FOLDED) /* with the flows folded in */
			snprintf(addr, sizeof(addr), "*(%u)", r->more->folded);
		switch (g) {
		case GROUP_FLOW:
			fprintf(out, "%-16s %7u %5u %-39s %5u %-5s", comm, r->pid, r->npids, addr,
				r->key.dport, ct_proto_name(r->key.proto, buf, sizeof(buf)));
			break;
		case GROUP_PROCESS:
			fprintf(out, "%-16s %7u %5u %5u", comm, r->pid, r->npids, r->nflows);
			break;
		case GROUP_DEST:
			fprintf(out, "%-39s %5u %5u", addr, r->nflows, r->npids);
			break;
		default:
			fprintf(out, "%5u %-5s %5u %5u", r->key.dport,
				ct_proto_name(r->key.proto, buf, sizeof(buf)), r->nflows, r->npids);
		}
		ct_fmt_ms(ct_row_lat_pct(r, 0.5), p50, sizeof(p50));
		ct_fmt_ms(ct_row_lat_pct(r, 0.99), p99, sizeof(p99));
		fprintf(out, " %9.1f %9llu %7llu %5.1f %-14s %8s %8s\n", r->rate,
			(unsigned long long)r->count, (unsigned long long)fails,
			done ? 100.0 * fails / done : 0.0, ct_row_top_error(r, err, sizeof(err)),
			p50, p99);
	}
	if (n < v->n)
		fprintf(out, "(%zu more rows)\n", v->n - n);
	fputc('\n', out);
	return stream_status(out);
}

int export_atomic(const char *path, export_writer_fn fn, void *ctx)
{
	size_t len = strlen(path);
	char *tmp = malloc(len + 16);
	FILE *out = NULL;
	int fd, rc;

	if (!tmp)
		return -ENOMEM;
	/* same directory, so rename() is atomic; the name starts with a dot so
	 * node_exporter's textfile collector (*.prom) never reads it half-written */
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;

	snprintf(tmp, len + 16, "%.*s.%s.XXXXXX", (int)dirlen, path, path + dirlen);
	fd = mkostemp(tmp, O_CLOEXEC); /* O_EXCL: never opens what an attacker planted */
	if (fd < 0) {
		rc = -errno;
		free(tmp);
		return rc;
	}
	/* mkostemp makes it 0600: the collector may run as another user */
	if (fchmod(fd, 0644)) {
		rc = -errno;
		close(fd);
		goto fail;
	}
	out = fdopen(fd, "w");
	if (!out) {
		rc = -errno;
		close(fd);
		goto fail;
	}
	rc = fn(out, ctx);
	if (!rc && (fflush(out) || ferror(out)))
		rc = -(errno ? errno : EIO);
	if (!rc && fsync(fileno(out)))
		rc = -errno;
	if (fclose(out) && !rc)
		rc = -(errno ? errno : EIO);
	if (rc)
		goto fail;
	if (rename(tmp, path)) {
		rc = -errno;
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	unlink(tmp);
	free(tmp);
	return rc;
}
