// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * connecttop: top for connect(). The only module that knows all the others:
 * options, start-up, the event loop (epoll on the ring buffer, the interval
 * timer, signals and the keyboard; what each does is in app.c), shutdown.
 */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "batch.h"
#include "diff.h"
#include "dnscap.h"
#include "connecttop.h"
#include "probe.h"
#include "prom.h"
#include "names.h"
#include "record.h"
#include "playback.h"
#include "replay.h"
#include "snap.h"
#include "spill.h"
#include "util.h"
#include "view.h"

#ifndef CT_VERSION
#define CT_VERSION "0.1.0"
#endif

static struct app app = {
	.opt = {
		.delay = 1.0,
		.format = FMT_TABLE,
		.group = GROUP_FLOW,
		.sort = SORT_RATE,
		.max_flows = 32768,
		.ringbuf_bytes = 8 << 20,
		.wakeup_bytes = 0, /* not given: derived from ringbuf_bytes */
		.prom_max_series = 1000,
		.sweep_secs = 10,
		.dns_idle = 60,
	},
};

/* --test-inflight-max: the most sockets in SYN_SENT the BPF map may be
 * sized for (each takes about 150 bytes of kernel memory) */
#define INFLIGHT_MAX_LIMIT (1L << 22)

enum {
	OPT_MAX_FLOWS = 256,
	OPT_RINGBUF,
	OPT_WAKEUP,
	OPT_PROM,
	OPT_PROM_MAX,
	OPT_EXPORT_DIR,
	OPT_NAMES,
	OPT_NO_COLOR,
	OPT_INCLUDE_SELF,
	OPT_RAW,
	OPT_NO_TASK_STORAGE,
	OPT_ENTRY_ARGS,
	OPT_PROBE,
	OPT_UNIX,
	OPT_NO_DNS,
	OPT_DNS_IDLE,
	OPT_DIFF,
	OPT_TIMING_FILE,
	OPT_MAX_FILE_SIZE,
	OPT_MAX_FILES,
	OPT_READ,
	OPT_SPEED,
	OPT_FROM,
	OPT_TO,
	/* for the tests only: not in --help or the man page */
	OPT_TEST_INFLIGHT_MAX,
	OPT_TEST_SWEEP_SECS,
	OPT_TEST_SWEEP_AGE_SECS,
	OPT_TEST_SKIP_RESOLUTION,
	OPT_TEST_HOLD_MS,
};

static const struct option long_opts[] = {
	{ "batch", no_argument, NULL, 'b' },
	{ "delay", required_argument, NULL, 'd' },
	{ "iterations", required_argument, NULL, 'n' },
	{ "output", required_argument, NULL, 'o' },
	{ "group", required_argument, NULL, 'g' },
	{ "sort", required_argument, NULL, 's' },
	{ "reverse", no_argument, NULL, 'r' },
	{ "filter", required_argument, NULL, 'f' },
	{ "pid", required_argument, NULL, 'p' },
	{ "port", required_argument, NULL, 'P' },
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "max-rows", required_argument, NULL, 'm' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
	{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF },
	{ "wakeup-bytes", required_argument, NULL, OPT_WAKEUP },
	{ "prometheus", required_argument, NULL, OPT_PROM },
	{ "prometheus-max-series", required_argument, NULL, OPT_PROM_MAX },
	{ "export-dir", required_argument, NULL, OPT_EXPORT_DIR },
	{ "names", no_argument, NULL, OPT_NAMES },
	{ "no-color", no_argument, NULL, OPT_NO_COLOR },
	{ "include-self", no_argument, NULL, OPT_INCLUDE_SELF },
	{ "raw-syscalls", no_argument, NULL, OPT_RAW },
	{ "no-task-storage", no_argument, NULL, OPT_NO_TASK_STORAGE },
	{ "entry-args", no_argument, NULL, OPT_ENTRY_ARGS },
	{ "probe", no_argument, NULL, OPT_PROBE },
	{ "unix", no_argument, NULL, OPT_UNIX },
	{ "no-dns", no_argument, NULL, OPT_NO_DNS },
	{ "dns-idle", required_argument, NULL, OPT_DNS_IDLE },
	{ "diff", required_argument, NULL, OPT_DIFF },
	{ "write", required_argument, NULL, 'w' },
	{ "max-file-size", required_argument, NULL, OPT_MAX_FILE_SIZE },
	{ "max-files", required_argument, NULL, OPT_MAX_FILES },
	{ "read", required_argument, NULL, OPT_READ },
	{ "speed", required_argument, NULL, OPT_SPEED },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	/* hidden, not in --help or the man page: a test knob for make bench
	 * (tests/bench.sh), which reads the view's (or batch mode's) refresh times from FILE
	 * at exit (timing.h says its format) */
	{ "timing-file", required_argument, NULL, OPT_TIMING_FILE },
	/* for the tests only, hidden (not in usage() or the man page): a small
	 * map of sockets in SYN_SENT to fill, and sweeps more often for stale
	 * entries of a younger age than a machine booted minutes ago has; the
	 * state changes of sockets to a port passed by, as a skipped run would;
	 * batch mode's end-of-interval work made that much longer (app.h) */
	{ "test-inflight-max", required_argument, NULL, OPT_TEST_INFLIGHT_MAX },
	{ "test-sweep-secs", required_argument, NULL, OPT_TEST_SWEEP_SECS },
	{ "test-sweep-age-secs", required_argument, NULL, OPT_TEST_SWEEP_AGE_SECS },
	{ "test-skip-resolution", required_argument, NULL, OPT_TEST_SKIP_RESOLUTION },
	{ "test-hold-ms", required_argument, NULL, OPT_TEST_HOLD_MS },
	{ 0 },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: connecttop [options]\n"
		"Live table of every connect() on this host: who connects where, how often, how fast,\n"
		"with what result. Needs root (or CAP_BPF+CAP_PERFMON). See connecttop(8).\n"
		"\n"
		"  -b, --batch              print tables to stdout every interval instead of the screen\n"
		"  -d, --delay SECS         interval, 0.1..3600 (default 1)\n"
		"  -n, --iterations N       batch: stop after N intervals\n"
		"  -o, --output FMT         batch: table, csv, json (one object per line) or prom\n"
		"  -g, --group G            flow, process, dest or port (default flow)\n"
		"  -s, --sort COL           comm, pid, daddr, dport, proto, rate, count, fail, failpct,\n"
		"                           lat, last or synrt (default rate)\n"
		"  -r, --reverse            reverse the sort order\n"
		"  -f, --filter EXPR        e.g. 'port:5432 fail', 'net:10.0.0.0/8 !curl' (see man page);\n"
		"                           terms: TEXT port:N[-M] proto:P net:CIDR pid:N uid:N cgroup:TEXT\n"
		"                           host:GLOB (the name the process resolved, e.g. host:*.example.com)\n"
		"                           err:ENAME fail ok refused timeout unreach pending other !TERM\n"
		"  -m, --max-rows N         batch: at most N rows per interval\n"
		"  -p, --pid PID            trace only this process (in the kernel)\n"
		"  -P, --port PORT          trace only this destination port (in the kernel)\n"
		"  -4, --ipv4 / -6, --ipv6  trace only this family\n"
		"  -q, --quiet              no table output (with --prometheus or -w: headless)\n"
		"  -w, --write FILE         record every event to FILE (zlib blocks; --read replays it)\n"
		"      --max-file-size SIZE go on in FILE.1, FILE.2, ... past SIZE (K, M, G)\n"
		"      --max-files N        with --max-file-size: keep the newest N files\n"
		"      --read FILE          replay a recording (no root needed): the screen at the\n"
		"                           recorded pace, or with -b as fast as it goes; a rotated\n"
		"                           one whole (FILE, FILE.1, ...: from the oldest kept)\n"
		"      --speed N            screen replay: N times the recorded pace (default 1)\n"
		"      --from T, --to T     replay from/to T: RFC 3339, or +30s, +5m, +1h from the start\n"
		"      --prometheus FILE    write the Prometheus exposition to FILE every interval\n"
		"      --prometheus-max-series N  at most N series of their own and N processes' other series (default 1000)\n"
		"      --max-flows N        flows kept; one-offs are evicted first, into (process, *) (default 32768)\n"
		"      --ringbuf-size SIZE  BPF ring buffer, power of two (default 8M)\n"
		"      --wakeup-bytes SIZE  wake up when this much is queued (default 64K, at most an\n"
		"                           eighth of --ringbuf-size)\n"
		"      --export-dir DIR     where the view's 'e' writes snapshots (default .)\n"
		"      --names              start with reverse DNS and service names on\n"
		"      --no-color           monochrome (also with NO_COLOR set)\n"
		"      --include-self       trace connecttop's own connects too\n"
		"      --raw-syscalls       attach to raw sys_enter/sys_exit even when tracefs exists\n"
		"      --no-task-storage    stash connect() calls in a hash by thread id even on 5.11+\n"
		"      --entry-args         read connect()'s arguments at its entry even on 5.15+\n"
		"      --unix               AF_UNIX connects too, by path (proto u_str, u_dgr, u_seq)\n"
		"      --no-dns             do not capture DNS answers (no names processes resolved)\n"
		"      --dns-idle SECS      stop capturing after SECS without a UDP lookup (default 60;\n"
		"                           0: never); the next lookup starts it again\n"
		"      --diff A B           what changed from export A to export B (JSON files of e\n"
		"                           or -b -o json; -o table, csv or json); no root needed\n"
		"      --probe              print the kernel features found and exit\n"
		"  -v, --verbose            libbpf's messages to stderr; with -V, the features too\n"
		"  -V, --version            print the version and exit\n"
		"  -h, --help               this help\n");
}

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("connecttop: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'connecttop --help' for more information.\n", stderr);
	exit(2);
}

static int parse_enum(const char *v, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(v, names[i]))
			return i;
	return -1;
}

static long num_arg(const char *opt, const char *v, long lo, long hi)
{
	long n;
	int rc = ct_parse_long(v, lo, hi, &n);

	if (rc)
		die_usage("%s '%s': %s (expected a whole number from %ld to %ld)", opt, v,
			  rc == -ERANGE ? "out of range" : "not a number", lo, hi);
	return n;
}

/* seconds from 0.1 to 3600: -d and the sweep's hidden options */
static double secs_arg(const char *opt, const char *v)
{
	double secs;

	if (ct_parse_double(v, 0.1, 3600, &secs))
		die_usage("%s '%s': expected a decimal number of seconds from 0.1 to 3600", opt, v);
	return secs;
}

static uint64_t size_arg(const char *opt, const char *v, uint64_t lo, uint64_t hi)
{
	uint64_t n;

	if (ct_parse_size(v, lo, hi, &n))
		die_usage(
			"%s '%s': expected a size from %llu to %llu bytes, with an optional K, M or G",
			opt, v, (unsigned long long)lo, (unsigned long long)hi);
	return n;
}

/* "4M" for 4194304, the way --ringbuf-size and --wakeup-bytes are written */
static const char *size_str(uint64_t n, char *buf, size_t len)
{
	static const char units[] = "GMK";

	for (int i = 0; i < 3; i++) {
		uint64_t u = 1ULL << (10 * (3 - i));

		if (n && n % u == 0) {
			snprintf(buf, len, "%llu%c", (unsigned long long)(n / u), units[i]);
			return buf;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)n);
	return buf;
}

/* getopt_long's '?': an unknown option, an abbreviation of several, or a
 * long option given a value it does not take ("--batch=1": getopt_long
 * sets optopt to its val, which the message must not take for "-b") */
static void die_bad_option(const char *arg)
{
	char names[256] = "";
	size_t n, hits = 0;

	for (const struct option *lo = long_opts; optopt && lo->name; lo++)
		if (lo->val == optopt && lo->has_arg == no_argument)
			die_usage("option '--%s' takes no value", lo->name);
	if (optopt)
		die_usage("unknown option '-%c'", optopt);
	n = strncmp(arg, "--", 2) ? 0 : strcspn(arg + 2, "=");
	for (const struct option *lo = long_opts; n && lo->name; lo++)
		if (!strncmp(lo->name, arg + 2, n) && ++hits)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s--%s",
				 hits > 1 ? ", " : "", lo->name);
	if (hits > 1)
		die_usage("option '%.*s' is ambiguous: %s", (int)n + 2, arg, names);
	die_usage("unknown option '%.*s'", n ? (int)n + 2 : (int)strlen(arg), arg);
}

static void check_dir(const char *opt, const char *dir)
{
	struct stat st;

	if (stat(dir, &st))
		die_usage("%s: directory '%s': %s", opt, dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		die_usage("%s: '%s' is not a directory", opt, dir);
	if (access(dir, W_OK))
		die_usage("%s: directory '%s' is not writable: %s", opt, dir, strerror(errno));
}

static int probe_only, show_version, max_flows_given;

/* --diff A B (diff.h): each side a JSON export, or a recording (-w),
 * replayed to its end by a child connecttop --read into a JSON export */
static const char *diff_a, *diff_b;

/* path starts with the recording format's magic: 1, else 0 */
static int is_recording(const char *path)
{
	char head[sizeof(REC_MAGIC) - 1];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return 0;
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	return n == sizeof(head) && !memcmp(head, REC_MAGIC, sizeof(head));
}

/* A recording as a side: replayed by this very binary (--read FILE -b -o
 * json, one interval of an hour, so that few lines are written; the last
 * holds every flow's totals at the recording's end) into a file that
 * diff_load() reads. The table's bound is the largest: a recording holds
 * the whole host's connects, and a live run with a filter kept its flows,
 * which the recording's bound would fold away. The child's complaints go
 * to stderr as they are. */
static int diff_load_recording(const char *path, struct diff_side *out, char *err, size_t errlen)
{
	char tmp[] = "/tmp/connecttop-diff.XXXXXX";
	int fd = mkstemp(tmp), status, rc;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	if (fd < 0) {
		snprintf(err, errlen, "%s: a file for its replay: %s", path, strerror(errno));
		return -errno;
	}
	unlink(tmp);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(fd);
		snprintf(err, errlen, "%s: cannot replay it: %s", path, strerror(-rc));
		return rc;
	}
	if (!pid) {
		dup2(fd, STDOUT_FILENO);
		execl("/proc/self/exe", "connecttop", "--read", path, "-b", "-o", "json", "-d",
		      "3600", "--max-flows", "10000000", (char *)NULL);
		fprintf(stderr, "connecttop: --diff: cannot run a replay of %s: %s\n", path,
			strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		close(fd);
		snprintf(err, errlen, "%s: its replay failed (status %d)", path,
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return -EINVAL;
	}
	snprintf(tmp, sizeof(tmp), "/proc/self/fd/%d", fd);
	rc = diff_load(tmp, out, err, errlen);
	close(fd);
	if (rc) { /* err names the replay's file descriptor: say whose */
		char inner[sizeof(tmp) + 400];

		snprintf(inner, sizeof(inner), "%s", err);
		snprintf(err, errlen, "%s (replayed): %s", path, inner);
	}
	return rc;
}

static int diff_side_load(const char *path, struct diff_side *out, char *err, size_t errlen)
{
	if (is_recording(path))
		return diff_load_recording(path, out, err, errlen);
	return diff_load(path, out, err, errlen);
}

static int run_diff(void)
{
	static const enum diff_fmt fmts[] = {
		[FMT_TABLE] = DIFF_TEXT, [FMT_CSV] = DIFF_CSV, [FMT_JSON] = DIFF_JSON
	};
	struct diff_side a = { 0 }, b = { 0 };
	char err[600];
	int rc;

	if (diff_side_load(diff_a, &a, err, sizeof(err)) ||
	    diff_side_load(diff_b, &b, err, sizeof(err))) {
		fprintf(stderr, "connecttop: --diff: %s\n", err);
		diff_side_free(&a);
		diff_side_free(&b);
		return 2;
	}
	rc = diff_write(stdout, &a, &b, fmts[app.opt.format]);
	diff_side_free(&a);
	diff_side_free(&b);
	if (rc) {
		fprintf(stderr, "connecttop: --diff: writing the output: %s\n", strerror(-rc));
		return 1;
	}
	return 0;
}

static void parse_args(int argc, char **argv)
{
	struct options *o = &app.opt;
	const char *wakeup_arg = NULL;
	int ringbuf_given = 0;
	struct stat st;
	char err[256], ring[32], half[32];
	int c, i;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":bd:n:o:g:s:rf:p:P:46m:qw:vVh", long_opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'b':
			o->batch = 1;
			break;
		case 'd':
			o->delay = secs_arg("-d", optarg);
			o->delay_given = 1;
			break;
		case 'w':
			o->write_path = optarg;
			break;
		case OPT_MAX_FILE_SIZE:
			o->max_file_bytes =
				size_arg("--max-file-size", optarg, 64 << 10, 1ULL << 40);
			break;
		case OPT_MAX_FILES:
			o->max_files = num_arg("--max-files", optarg, 1, 1000000);
			break;
		case OPT_READ:
			o->read_path = optarg;
			break;
		case OPT_SPEED:
			if (ct_parse_double(optarg, 0.01, 10000, &o->speed))
				die_usage("--speed '%s': expected a number from 0.01 to 10000",
					  optarg);
			break;
		case OPT_FROM:
			o->from = optarg;
			break;
		case OPT_TO:
			o->to = optarg;
			break;
		case 'n':
			o->iterations = num_arg("-n", optarg, 1, 1000000000L);
			break;
		case 'o':
			if ((i = parse_enum(optarg, ct_format_names, FMT_MAX)) < 0)
				die_usage("-o '%s': expected table, csv, json or prom", optarg);
			o->format = i;
			break;
		case 'g':
			if ((i = parse_enum(optarg, ct_group_names, GROUP_MAX)) < 0)
				die_usage("-g '%s': expected flow, process, dest or port", optarg);
			o->group = i;
			break;
		case 's':
			if ((i = ct_sort_parse(optarg)) < 0)
				die_usage(
					"-s '%s': expected comm, pid, daddr, dport, proto, rate, count, fail, "
					"failpct, lat, last or synrt",
					optarg);
			o->sort = i;
			break;
		case 'r':
			o->reverse = 1;
			break;
		case 'f':
			o->filter_expr = optarg;
			break;
		case 'p':
			o->pid = num_arg("-p", optarg, 1, CT_PID_MAX);
			break;
		case 'P':
			o->port = num_arg("-P", optarg, 1, 65535);
			break;
		case '4':
		case '6':
			if (o->family && o->family != c - '0')
				die_usage("-4 and -6 exclude each other");
			o->family = c - '0';
			break;
		case 'm':
			o->max_rows = num_arg("-m", optarg, 1, 100000000L);
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'V':
			show_version = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_MAX_FLOWS:
			o->max_flows = num_arg("--max-flows", optarg, 1, 10000000);
			max_flows_given = 1;
			break;
		case OPT_RINGBUF:
			o->ringbuf_bytes = size_arg("--ringbuf-size", optarg, 64 << 10, 1ULL << 30);
			ringbuf_given = 1;
			if (o->ringbuf_bytes & (o->ringbuf_bytes - 1))
				die_usage(
					"--ringbuf-size '%s': must be a power of two (e.g. 4M, 8M, 16M)",
					optarg);
			break;
		case OPT_WAKEUP:
			o->wakeup_bytes = size_arg("--wakeup-bytes", optarg, 1, 1ULL << 29);
			wakeup_arg = optarg;
			break;
		case OPT_PROM:
			o->prom_path = optarg;
			break;
		case OPT_PROM_MAX:
			o->prom_max_series = num_arg("--prometheus-max-series", optarg, 1, 1000000);
			break;
		case OPT_EXPORT_DIR:
			o->export_dir = optarg;
			break;
		case OPT_NAMES:
			o->names = 1;
			break;
		case OPT_NO_COLOR:
			o->no_color = 1;
			break;
		case OPT_INCLUDE_SELF:
			o->include_self = 1;
			break;
		case OPT_RAW:
			o->force_raw = 1;
			break;
		case OPT_NO_TASK_STORAGE:
			o->force_hash = 1;
			break;
		case OPT_ENTRY_ARGS:
			o->entry_args = 1;
			break;
		case OPT_DIFF:
			diff_a = optarg;
			break;
		case OPT_UNIX:
			o->unix_socks = 1;
			break;
		case OPT_NO_DNS:
			o->no_dns = 1;
			break;
		case OPT_DNS_IDLE:
			if (ct_parse_double(optarg, 0, 86400, &o->dns_idle))
				die_usage(
					"--dns-idle '%s': expected seconds from 0 (never idle) to 86400",
					optarg);
			break;
		case OPT_PROBE:
			probe_only = 1;
			break;
		case OPT_TIMING_FILE:
			o->timing_path = optarg;
			break;
		case OPT_TEST_INFLIGHT_MAX:
			o->inflight_max =
				num_arg("--test-inflight-max", optarg, 1, INFLIGHT_MAX_LIMIT);
			break;
		case OPT_TEST_SWEEP_SECS:
			o->sweep_secs = secs_arg("--test-sweep-secs", optarg);
			break;
		case OPT_TEST_SWEEP_AGE_SECS:
			o->sweep_age_secs = secs_arg("--test-sweep-age-secs", optarg);
			break;
		case OPT_TEST_SKIP_RESOLUTION:
			o->skip_port =
				(uint16_t)num_arg("--test-skip-resolution", optarg, 1, 65535);
			break;
		case OPT_TEST_HOLD_MS:
			o->hold_ms = num_arg("--test-hold-ms", optarg, 1, 600000);
			break;
		case ':':
			die_usage("option '%s' needs a value", argv[optind - 1]);
		default:
			die_bad_option(argv[optind - 1]);
		}
	}
	if (diff_a) {
		if (optind >= argc)
			die_usage("--diff A B: two export files, B missing");
		diff_b = argv[optind++];
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (diff_a) {
		if (o->format == FMT_PROM)
			die_usage("--diff: -o table, csv or json (prom is not a diff format)");
		if (o->filter_expr || o->iterations || o->max_rows || o->quiet || o->prom_path ||
		    o->write_path || o->read_path)
			die_usage(
				"--diff takes -o only: -f, -n, -m, -q, -w, --read and --prometheus are for "
				"capture or replay");
		return;
	}
	/* not given: 64K, or an eighth of a smaller ring (--ringbuf-size 64K
	 * alone is valid: a default must not make it fail) */
	if (!wakeup_arg)
		o->wakeup_bytes = o->ringbuf_bytes / 8 < 64 << 10 ? o->ringbuf_bytes / 8 : 64 << 10;
	else if (o->wakeup_bytes > o->ringbuf_bytes / 2)
		die_usage("--wakeup-bytes '%s': more than half of --ringbuf-size %s%s: at most %s",
			  wakeup_arg, size_str(o->ringbuf_bytes, ring, sizeof(ring)),
			  ringbuf_given ? "" : " (the default)",
			  size_str(o->ringbuf_bytes / 2, half, sizeof(half)));
	/* -q without a file to write runs forever showing nothing */
	if (o->quiet && !o->prom_path && !o->write_path)
		die_usage("-q: nothing to show without --prometheus FILE or -w FILE (-q only turns "
			  "output off)");
	if ((o->max_file_bytes || o->max_files) && !o->write_path)
		die_usage("--max-file-size and --max-files are for -w FILE");
	if (o->max_files && !o->max_file_bytes)
		die_usage(
			"--max-files N: needs --max-file-size (the size at which a file is full)");
	if ((o->speed || o->from || o->to) && !o->read_path)
		die_usage("--speed, --from and --to are for --read FILE");
	if (o->read_path && o->write_path)
		die_usage("--read and -w exclude each other (a recording is copied with cp)");
	if (o->read_path &&
	    (o->pid || o->port || o->family || o->force_raw || o->force_hash || o->entry_args ||
	     o->unix_socks || o->include_self || o->ringbuf_bytes != 8 << 20 || wakeup_arg))
		die_usage(
			"--read: -p, -P, -4, -6, --unix, --include-self, --raw-syscalls, "
			"--no-task-storage, --entry-args, --ringbuf-size and --wakeup-bytes are capture options "
			"(-f filters a replay)");
	if (o->read_path && o->speed && o->batch)
		die_usage("--speed is for the screen: -b replays as fast as it can");
	if (o->write_path) {
		char *dir = strdup(o->write_path), *slash = strrchr(dir, '/');

		if (slash)
			slash[slash == dir ? 1 : 0] = 0;
		check_dir("-w", slash ? dir : ".");
		free(dir);
		if (!stat(o->write_path, &st) && S_ISDIR(st.st_mode))
			die_usage("-w: '%s' is a directory: give a file in it", o->write_path);
	}
	if (o->filter_expr) {
		o->filter = filter_new(o->filter_expr, err, sizeof(err));
		if (!o->filter)
			die_usage("-f: %s", err);
	}
	if (o->filter && filter_uses_change(o->filter) && (o->batch || o->quiet))
		die_usage(
			"-f '%s': new, worse, silent and gone compare with a baseline, which only "
			"the screen has (key b)",
			o->filter_expr);
	if (o->prom_path && prom_check_path(o->prom_path, err, sizeof(err)))
		die_usage("--prometheus: %s", err);
	if (o->prom_path) {
		char *dir = strdup(o->prom_path), *slash = strrchr(dir, '/');

		if (slash)
			slash[slash == dir ? 1 : 0] = 0;
		check_dir("--prometheus", slash ? dir : ".");
		free(dir);
		/* rename() over a directory fails at every interval: say so now */
		if (!stat(o->prom_path, &st) && S_ISDIR(st.st_mode))
			die_usage(
				"--prometheus: '%s' is a directory: give a file in it, e.g. %s/connecttop.prom",
				o->prom_path, o->prom_path);
	}
	if (o->export_dir)
		check_dir("--export-dir", o->export_dir);
	if (o->format == FMT_PROM && !o->batch)
		o->batch = 1;
	if (!o->batch && (o->iterations || o->max_rows || o->format != FMT_TABLE) && !o->quiet)
		die_usage("-n, -m and -o are batch options: add -b");
}

/* the last write's error (0: it worked), for saying when writes start
 * failing and when they work again, not at every interval */
static int prom_last_err;

static int write_prom(struct app *a, int verbose_errors)
{
	int rc;

	if (!a->opt.prom_path || !a->prom)
		return 0;
	app_hold(a);
	rc = prom_write_file(a->prom, a->opt.prom_path, a->flows, &a->stats);
	app_release(a);
	/* with the view up nothing may write to stderr: the count is in the
	 * file's connecttop_prometheus_write_errors_total and said at exit */
	if (verbose_errors && rc && rc != prom_last_err)
		fprintf(stderr, "connecttop: cannot write %s: %s (trying again every interval)\n",
			a->opt.prom_path, strerror(-rc));
	else if (verbose_errors && !rc && prom_last_err)
		fprintf(stderr, "connecttop: writing %s works again\n", a->opt.prom_path);
	prom_last_err = rc;
	return rc;
}

/* after the view is gone: the writes that failed, in one line */
static void prom_report(struct app *a)
{
	uint64_t n = prom_write_errors(a->prom);

	if (a->opt.prom_path && n)
		fprintf(stderr, "connecttop: %llu write(s) of %s failed%s%s\n",
			(unsigned long long)n, a->opt.prom_path,
			prom_last_err ? ", the last one too: " : "",
			prom_last_err ? strerror(-prom_last_err) : "");
}

static int output_error(int rc)
{
	if (rc == -EPIPE)
		return 0; /* the reader went away (| head): a normal end */
	fprintf(stderr, "connecttop: cannot write to stdout: %s\n", strerror(-rc));
	return 1;
}

/* --probe, and --version -v after the version line: the kernel's features,
 * then whether DNS answers can be captured (a test answer over loopback) */
static void print_features(void)
{
	char msg[320];

	probe_features(stdout);
	ct_dnscap_selftest(msg, sizeof(msg));
	printf("DNS answers captured:    %s\n", msg);
	printf("DNS not read:            answers over TCP, with TC set (counted: dns.tcp, dns.truncated)\n");
}

/* ---- -w FILE ---- */

/* why the recording stopped, said once (the writer is gone by then) */
static char record_msg[600];

static int record_start(struct app *a, const struct probe_opts *po, char *err, size_t errlen)
{
	struct rec_limits lim = { .max_file_bytes = a->opt.max_file_bytes,
				  .max_files = (uint32_t)a->opt.max_files };
	struct rec_header h = { 0 };
	struct utsname u;

	h.flags = REC_F_LITTLE | (a->dec.synrt ? REC_F_SYNRT : 0) |
		  (po->unix_socks ? REC_F_UNIX : 0) | (a->dnscap ? REC_F_DNS : 0);
	h.start_mono_ns = a->start_ns;
	h.mono_to_unix_ns = a->mono_to_unix_ns;
	h.start_unix_ns = a->start_ns + a->mono_to_unix_ns;
	h.interval_us = (uint32_t)(a->opt.delay * 1e6 + 0.5);
	h.event_size = sizeof(struct ct_event);
	h.max_flows = (uint32_t)a->opt.max_flows;
	h.filter_pid = po->filter_tgid;
	h.filter_port = po->filter_port;
	h.filter_family = (uint8_t)po->filter_family;
	gethostname(h.host, sizeof(h.host) - 1);
	if (!uname(&u))
		snprintf(h.kernel, sizeof(h.kernel), "%.63s", u.release);
	snprintf(h.tool, sizeof(h.tool), "connecttop %s", CT_VERSION);
	a->rec = rec_writer_new(a->opt.write_path, &h, &lim, err, errlen);
	if (!a->rec)
		return -errno;
	app_record_start(a);
	return 0;
}

/* the recording stopped on an error: say so once, where it can be seen,
 * and capture on */
static void record_check(struct app *a, struct ct_view_ui *ui)
{
	const char *msg = rec_writer_error(a->rec);

	if (!msg)
		return;
	snprintf(record_msg, sizeof(record_msg), "%s", msg);
	rec_writer_close(a->rec, a->now_ns);
	a->rec = NULL;
	if (ui)
		view_message(ui, record_msg);
	else
		fprintf(stderr, "connecttop: %s\n", record_msg);
}

/* how long the loop may sleep before the open block is due */
static int record_timeout_ms(struct app *a)
{
	uint64_t due = rec_writer_due(a->rec), now;

	if (due == UINT64_MAX)
		return -1;
	now = ct_now_ns();
	return due > now ? (int)((due - now) / 1000000 + 1) : 0;
}

static void record_flush_due(struct app *a, struct ct_view_ui *ui)
{
	if (!a->rec)
		return;
	if (ct_now_ns() >= rec_writer_due(a->rec))
		rec_writer_flush(a->rec);
	record_check(a, ui);
}

static void record_stop(struct app *a, struct ct_view_ui *ui)
{
	int rc;

	if (!a->rec)
		return;
	record_check(a, ui);
	if (!a->rec)
		return;
	rc = rec_writer_close(a->rec, ct_now_ns());
	a->rec = NULL;
	if (rc && !ui)
		fprintf(stderr, "connecttop: -w %s: closing the recording: %s\n", a->opt.write_path,
			strerror(-rc));
}

/* --read: no BPF, no root; the recorded host's facts */
static int run_replay(void)
{
	const struct playback_out out = { write_prom, output_error };
	char err[600];
	struct replay *rp;
	const struct rec_header *h;
	uint64_t from = 0, to = UINT64_MAX;
	int rc;

	app.res = names_new();
	if (!app.res) {
		fprintf(stderr, "connecttop: out of memory\n");
		return 1;
	}
	rp = replay_open(app.opt.read_path, &app, err, sizeof(err));
	if (!rp) {
		/* nothing replayed: as a bad argument */
		fprintf(stderr, "connecttop: --read: %s\n", err);
		names_free(app.res);
		return 2;
	}
	h = replay_header(rp);
	/* a rotation read from a later file than its first: say what the
	 * files before held, which the totals lack */
	if (h->seq)
		fprintf(stderr,
			"connecttop: --read %s: the replay starts at file %u of the rotation; files "
			"0 to %u are not read (--max-files deleted them, or a later file was "
			"named): their %llu events and %llu outcomes are not in the totals\n",
			app.opt.read_path, h->seq, h->seq - 1, (unsigned long long)h->events_before,
			(unsigned long long)h->outcomes_before);
	if (!max_flows_given && h->max_flows)
		app.opt.max_flows = h->max_flows;
	if (!app.opt.delay_given && h->interval_us)
		app.opt.delay = h->interval_us / 1e6;
	filter_set_cgroup_fn(app.opt.filter, names_cgroup_of, app.res);
	app.flows = flows_new(app.opt.max_flows);
	if (!app.flows) {
		fprintf(stderr, "connecttop: cannot allocate the flow table: %s\n",
			strerror(errno));
		return 1;
	}
	flows_tick(app.flows, h->start_mono_ns);
	if (!filter_empty(app.opt.filter))
		flows_set_keep(app.flows, filter_keeps, app.opt.filter);
	if (app.opt.prom_path || app.opt.format == FMT_PROM) {
		app.prom = prom_new(app.flows, app.opt.prom_max_series);
		if (!app.prom) {
			fprintf(stderr, "connecttop: out of memory\n");
			return 1;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if ((app.opt.from && rec_parse_time(h, app.opt.from, &from)) ||
	    (app.opt.to && rec_parse_time(h, app.opt.to, &to)))
		die_usage(
			"--from/--to '%s': expected RFC 3339 (2026-12-03T10:15:00Z) or +30s, +5m, "
			"+1h from the recording's start",
			app.opt.from && rec_parse_time(h, app.opt.from, &from) ? app.opt.from :
										 app.opt.to);
	if (app.opt.batch || app.opt.quiet) {
		rc = playback_batch(&app, &rp, from, to, &out);
	} else {
		if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
			die_usage("not a terminal: the replay's screen needs one; add -b for batch "
				  "output");
		rc = playback_screen(&app, &rp, from, to, &out);
	}
	replay_free(rp);
	app_free_dns(&app);
	prom_free(app.prom);
	flows_free(app.flows);
	filter_free(app.opt.filter);
	names_free(app.res);
	return rc;
}

int main(int argc, char **argv)
{
	struct probe_opts po = { 0 };
	struct ct_view_ui *ui = NULL;
	struct batch *batch = NULL;
	struct epoll_event ev, evs[8];
	unsigned dns_gen;
	struct sigaction sa = { 0 };
	sigset_t mask;
	int epfd, tfd, sfd, rc = 0;
	long done = 0;
	char err[512];

	setlocale(LC_ALL, "");
	parse_args(argc, argv);
	if (diff_a)
		return run_diff();
	if (show_version) {
		printf("connecttop %s (BPF event schema %zu bytes, JSON schema %d)\n", CT_VERSION,
		       sizeof(struct ct_event), CT_SCHEMA_VERSION);
		if (app.opt.verbose)
			print_features();
		return 0;
	}
	if (probe_only) {
		print_features();
		return 0;
	}
	if (app.opt.read_path) {
		return run_replay();
	}
	app.interactive = !app.opt.batch && !app.opt.quiet;
	if (app.interactive && (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)))
		die_usage("not a terminal: the interactive view needs one; use -b for batch output "
			  "(e.g. connecttop -b -o json)");

	app.res = names_new();
	if (!app.res) {
		fprintf(stderr, "connecttop: out of memory\n");
		return 1;
	}
	filter_set_cgroup_fn(app.opt.filter, names_cgroup_of, app.res);
	/* batch mode with a cgroup: term: each process's cgroup is read when
	 * it connects, not when it may be gone (the view always does) */
	app.pids_early = !filter_rows_only(app.opt.filter);
	app.flows = flows_new(app.opt.max_flows);
	if (!app.flows) {
		fprintf(stderr, "connecttop: cannot allocate the flow table: %s\n",
			strerror(errno));
		return 1;
	}
	/* the flows the output shows outlive a flood of others (the view
	 * sets its own filter) */
	if (!app.interactive && !filter_empty(app.opt.filter))
		flows_set_keep(app.flows, filter_keeps, app.opt.filter);
	if (app.opt.prom_path || app.opt.format == FMT_PROM) {
		const struct snap_hook hold_read = { app_hold_read, &app };

		app.prom = prom_new(app.flows, app.opt.prom_max_series);
		if (!app.prom) {
			fprintf(stderr, "connecttop: out of memory\n");
			return 1;
		}
		/* its snapshot reads the ring buffer on (app_hold) */
		prom_set_hook(app.prom, &hold_read);
	}

	/* signals: blocked and read through a signalfd in the loop. An
	 * ignored signal is discarded, not queued: SIG_DFL again (after the
	 * block, so that it stays pending) for a SIGINT a parent shell had
	 * ignored (a job started with &) */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

	po.self_tgid = app.opt.include_self ? 0 : (uint32_t)getpid();
	po.filter_tgid = app.opt.pid;
	po.filter_port = app.opt.port;
	po.filter_family = app.opt.family;
	po.ringbuf_bytes = app.opt.ringbuf_bytes;
	po.wakeup_bytes = app.opt.wakeup_bytes;
	po.force_raw = app.opt.force_raw;
	po.force_hash = app.opt.force_hash;
	po.entry_args = app.opt.entry_args;
	po.unix_socks = app.opt.unix_socks;
	/* only the view shows command lines (batch output has none) */
	po.want_cmdline = app.interactive;
	po.verbose = app.opt.verbose;
	/* the bound of the map of TCP sockets in SYN_SENT (0: its default) */
	po.inflight_max = (uint32_t)app.opt.inflight_max;
	po.skip_port = app.opt.skip_port;
	if (app_start(&app, &po, err, sizeof(err))) {
		fprintf(stderr, "connecttop: %s\n", err);
		return 1;
	}
	if (app.opt.verbose)
		fprintf(stderr, "connecttop: attached (%s) in %.1f ms\n", probe_mode(app.probe),
			probe_attach_ns(app.probe) / 1e6);
	if (app.opt.write_path && record_start(&app, &po, err, sizeof(err))) {
		fprintf(stderr, "connecttop: %s\n", err);
		probe_free(app.probe);
		return 1;
	}

	epfd = epoll_create1(EPOLL_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (epfd < 0 || tfd < 0 || sfd < 0) {
		fprintf(stderr, "connecttop: cannot set up the event loop: %s\n", strerror(errno));
		probe_free(app.probe);
		return 1;
	}
	/* the screen's first refresh comes at once, with what was captured
	 * in its first half second, whatever the interval (batch output
	 * keeps whole intervals) */
	app_timer_arm(tfd, app.interactive && app.opt.delay > 0.5 ? 0.5 : app.opt.delay,
		      app.opt.delay);
	ev.events = EPOLLIN;
	ev.data.fd = probe_fd(app.probe);
	epoll_ctl(epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = tfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
	ev.data.fd = sfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
	/* DNS answers captured: read with the ring buffer (app_drain) */
	ev.data.fd = app_dns_fd(&app);
	if (ev.data.fd >= 0)
		epoll_ctl(epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	/* said only when it was wanted and failed (-v's stderr stays the
	 * attach line otherwise) */
	if (app.opt.verbose && !app.dnscap && !app.opt.no_dns)
		fprintf(stderr, "connecttop: no names processes resolved: %s\n", app.dns_why);
	if (app.interactive) {
		ui = view_new(&app, err, sizeof(err));
		if (!ui) {
			fprintf(stderr, "connecttop: %s\n", err);
			probe_free(app.probe);
			return 1;
		}
		ev.data.fd = STDIN_FILENO;
		epoll_ctl(epfd, EPOLL_CTL_ADD, STDIN_FILENO, &ev);
	} else if (!app.opt.quiet) {
		batch = batch_new();
		if (!batch) {
			fprintf(stderr, "connecttop: out of memory\n");
			probe_free(app.probe);
			return 1;
		}
	}

	dns_gen = app.dnscap ? ct_dnscap_gen(app.dnscap) : 0;
	while (!app.quit) {
		int n;

		/* the capture disarmed makes a new socket (dnscap.h): the old
		 * one left the epoll set when it was closed */
		if (app.dnscap && ct_dnscap_gen(app.dnscap) != dns_gen) {
			dns_gen = ct_dnscap_gen(app.dnscap);
			ev.events = EPOLLIN;
			ev.data.fd = app_dns_fd(&app);
			if (ev.data.fd >= 0)
				epoll_ctl(epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
		}
		n = epoll_wait(epfd, evs, ARRAY_SIZE(evs), record_timeout_ms(&app));

		record_flush_due(&app, ui);
		if (n < 0 && errno != EINTR)
			break;
		if (n < 0 && ui && view_input(ui)) /* a signal (SIGWINCH, SIGCONT) */
			break;
		for (int i = 0; i < n && !app.quit; i++) {
			int fd = evs[i].data.fd;

			if (fd == sfd) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si))
					app.quit = 1;
			} else if (fd == tfd) {
				uint64_t expirations;

				if (read(tfd, &expirations, sizeof(expirations)) < 0)
					continue;
				app_end_interval(&app);
				write_prom(&app, !ui);
				if (ui) {
					view_tick(ui);
				} else if (!app.opt.quiet) {
					rc = batch_print(batch, &app);
					if (rc) {
						rc = output_error(rc);
						goto out;
					}
				}
				if (app.opt.iterations && ++done >= app.opt.iterations)
					goto out_final;
			} else if (fd == STDIN_FILENO && ui) {
				if (view_input(ui))
					app.quit = 1;
				if (view_delay_changed(ui, &app.opt.delay))
					app_timer_arm(tfd, app.opt.delay, app.opt.delay);
			} else {
				app_drain(&app);
			}
		}
	}
	/* interrupted: flush what was collected since the last interval */
	if (!ui && !app.opt.quiet) {
		/* what is queued now: a full ring buffer's records at most,
		 * so that a flood that goes on cannot hold the exit */
		app.now_ns = ct_now_ns();
		probe_drain(app.probe,
			    (long)(app.opt.ringbuf_bytes / (sizeof(struct ct_event) + 8)));
		app_stats(&app, &app.stats);
		app_record_tick(&app, REC_TICK_SHOWN);
		rc = batch_print(batch, &app);
		if (rc)
			rc = output_error(rc);
	}
out_final:
	app_stats(&app, &app.stats);
	app.now_ns = ct_now_ns();
	app_record_tick(&app, 0);
	write_prom(&app, !ui);
out:
	record_stop(&app, ui);
	view_free(ui);
	if (record_msg[0] && ui)
		fprintf(stderr, "connecttop: %s\n", record_msg);
	if (ui)
		prom_report(&app);
	if (app.opt.verbose && app.probe &&
	    probe_drains_cut(app.probe)) /* a flood was read in steps */
		fprintf(stderr,
			"connecttop: %llu reads of the ring buffer stopped on their budget\n",
			(unsigned long long)probe_drains_cut(app.probe));
	if (app.opt.verbose && app.spill && spill_pushed(app.spill))
		fprintf(stderr,
			"connecttop: %llu records read while a snapshot was taken, at most %llu "
			"at once, %llu refused\n",
			(unsigned long long)spill_pushed(app.spill),
			(unsigned long long)app.held_most,
			(unsigned long long)spill_refused(app.spill));
	batch_free(batch);
	probe_free(app.probe);
	spill_free(app.spill);
	app_free_dns(&app);
	prom_free(app.prom);
	flows_free(app.flows);
	filter_free(app.opt.filter);
	names_free(app.res);
	close(epfd);
	close(tfd);
	close(sfd);
	return rc;
}
