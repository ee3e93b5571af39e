# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# tests/prom/lib.sh: shared helpers of chain.sh and promtool.sh (sourced, not
# run). Everything here talks to 127.0.0.1 only.
#
# After sourcing: tests/lib.sh (REPO_ROOT, CONNECTTOP, LOADGEN, pass/fail,
# t_track, t_stop, t_wait, now_ms, need_tools), TMP (T_TMP: a fresh temp dir
# that the EXIT trap removes, kept with KEEP_TMP=1), finish, start_bg
# (processes the EXIT trap stops, newest first: connecttop before prometheus
# before node_exporter), free_port, wait_http, prom_* query helpers,
# prom_file_* checks.

PROM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$PROM_DIR/../lib.sh"
t_init connecttop-prom
TMP=$T_TMP
# shellcheck disable=SC2034 # read by need_tools (tests/lib.sh)
T_TOOLS_HINT="run tests/prom/setup.sh"
# shellcheck disable=SC2034 # used by the scripts that source this
FIXTURE=$PROM_DIR/fixture.prom
SCRIPT_NAME=$(basename "$0")

info() {
	echo "info: $*"
}

# Prints the closing line ("NAME: N passed, N failed") and exits 1 if a
# check failed or none passed.
finish() { t_finish "$SCRIPT_NAME"; }

# start_bg LOGFILE CMD ARGS...: runs CMD in the background, stdin from
# /dev/null, stdout+stderr to LOGFILE; sets BG_PID and remembers it for the
# EXIT trap (t_track). SIGINT is reset to its default in the child (a non-interactive
# shell starts background jobs with SIGINT ignored), so `kill -INT` acts as a
# Ctrl-C would.
start_bg() {
	local log=$1

	shift
	env --default-signal=INT "$@" </dev/null >"$log" 2>&1 &
	BG_PID=$!
	t_track "$BG_PID"
}

# daemon_up NAME LOG URL SECS CMD ARGS...: start CMD in the background
# (start_bg: BG_PID) and wait up to SECS for URL to answer. 0 when it does;
# else CMD is stopped, and why it failed said.
daemon_up() {
	local name=$1 log=$2 url=$3 secs=$4

	shift 4
	start_bg "$log" "$@"
	wait_http "$url" "$secs" "$BG_PID" && return 0
	t_stop "$BG_PID"
	t_untrack "$BG_PID"
	info "$name at $url did not come up: $(tail -n 3 "$log" | tr '\n' ' ')"
	return 1
}

# parse_mode "$@": MODE=fixture with --fixture, MODE=connecttop without an
# argument; anything else is a usage error (exit 2).
parse_mode() {
	MODE=connecttop
	case "${1:-}" in
	--fixture) MODE=fixture ;;
	"") ;;
	*)
		echo "usage: $0 [--fixture]" >&2
		exit 2
		;;
	esac
}

port_listening() {
	[ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ]
}

# free_port: prints a TCP port with no listener on this machine, below the
# kernel's ephemeral range (so an outgoing connect can't be holding it).
free_port() {
	local lo hi p i

	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
	hi=$((lo - 1))
	lo=20000
	[ "$hi" -gt "$lo" ] || hi=30000
	for i in $(seq 100); do
		p=$(shuf -i "$lo-$hi" -n 1)
		if ! port_listening "$p"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# http_get URL: body on stdout; 127.0.0.1 only.
http_get() {
	case "$1" in
	http://127.0.0.1:*) ;;
	*)
		echo "http_get: refusing non-loopback URL $1" >&2
		return 2
		;;
	esac
	curl -fsS --noproxy '*' --max-time 5 "$1"
}

# wait_http URL TIMEOUT_S PID: waits until URL answers 2xx: 0; 1 on time-out,
# 2 as soon as PID has died.
wait_http() {
	t_wait_pid "$3" "$2" http_get "$1" >/dev/null 2>&1
}

# --- Prometheus HTTP API ---------------------------------------------------

# prom_query EXPR: raw JSON of an instant query against $PROM_URL.
prom_query() {
	case "$PROM_URL" in
	http://127.0.0.1:*) ;;
	*) return 2 ;;
	esac
	curl -fsS --noproxy '*' --max-time 5 -G "$PROM_URL/api/v1/query" --data-urlencode "query=$1"
}

# prom_vector EXPR LABEL: one line per sample, "LABELVALUE VALUE", sorted; the
# label value is JSON-encoded (so "x\ny" stays on one line).
prom_vector() {
	prom_query "$1" | jq -r --arg l "$2" \
		'select(.status=="success") | .data.result[] | "\(.metric[$l] // "" | tojson) \(.value[1])"' | sort
}

# prom_scalar EXPR: the value of a one-sample result, or nothing.
prom_scalar() {
	prom_query "$1" | jq -r 'select(.status=="success") | .data.result | if length==1 then .[0].value[1] else empty end'
}

# prom_expect NAME EXPR EXPECTED [TIMEOUT_S [SETTLE_S]]: polls EXPR (a
# one-sample expression) until its value reaches EXPECTED (numerically) or
# TIMEOUT_S pass; then waits SETTLE_S (default 2.2: two scrape intervals) and
# asserts it is exactly EXPECTED (a counter that overshoots later still fails).
prom_expect() {
	local name=$1 expr=$2 want=$3 timeout=${4:-15} settle=${5:-2.2} deadline v=""

	deadline=$(($(now_ms) + timeout * 1000))
	while :; do
		v=$(prom_scalar "$expr" 2>/dev/null || true)
		if [ -n "$v" ] && awk -v a="$v" -v b="$want" 'BEGIN { exit !(a + 0 >= b + 0) }'; then
			break
		fi
		if [ "$(now_ms)" -ge "$deadline" ]; then
			fail "$name" "after ${timeout}s: $expr = '${v:-<no data>}', want $want"
			return 0
		fi
		sleep 0.5
	done
	sleep "$settle"
	v=$(prom_scalar "$expr" 2>/dev/null || true)
	if [ -n "$v" ] && awk -v a="$v" -v b="$want" 'BEGIN { exit !(a + 0 == b + 0) }'; then
		pass "$name"
	else
		fail "$name" "$expr = '${v:-<no data>}', want exactly $want"
	fi
}

vec_show() {
	if [ -z "$1" ]; then
		echo "<no data>"
	else
		printf '%s' "$1" | paste -sd ';'
	fi
}

# prom_expect_vector NAME EXPR LABEL EXPECTED [TIMEOUT_S [SETTLE_S]]: like
# prom_expect, for a whole vector: EXPECTED is the exact prom_vector output
# ("\"ok\" 25"). Polls until it matches, then re-checks after SETTLE_S.
prom_expect_vector() {
	local name=$1 expr=$2 label=$3 want=$4 timeout=${5:-15} settle=${6:-2.2} deadline v=""

	deadline=$(($(now_ms) + timeout * 1000))
	while :; do
		v=$(prom_vector "$expr" "$label" 2>/dev/null || true)
		[ "$v" = "$want" ] && break
		if [ "$(now_ms)" -ge "$deadline" ]; then
			fail "$name" "after ${timeout}s: $expr by $label = [$(vec_show "$v")], want [$(vec_show "$want")]"
			return 0
		fi
		sleep 0.5
	done
	sleep "$settle"
	v=$(prom_vector "$expr" "$label" 2>/dev/null || true)
	if [ "$v" = "$want" ]; then
		pass "$name"
	else
		fail "$name" "$expr by $label = [$(vec_show "$v")], want exactly [$(vec_show "$want")]"
	fi
}

# --- exposition files --------------------------------------------------------

# prom_file_problems FILE: prints what `promtool check metrics` does not catch
# but node_exporter's textfile collector or Prometheus reject: duplicate
# series, sample timestamps, samples with no TYPE, invalid UTF-8, a missing
# final newline. Prints nothing for a good file.
prom_file_problems() {
	local f=$1

	if ! iconv -f UTF-8 -t UTF-8 "$f" >/dev/null 2>&1; then
		echo "not valid UTF-8"
	fi
	if [ -s "$f" ] && [ "$(tail -c1 "$f" | od -An -c | tr -d ' ')" != '\n' ]; then
		echo "no newline at end of file"
	fi
	LC_ALL=C awk '
	/^#[ \t]+TYPE[ \t]/ {
		type[$3] = $4
		next
	}
	/^#/ || /^[ \t]*$/ { next }
	{
		# series key = the line up to the value; label values may hold
		# spaces, so split at the closing brace when there are labels
		line = $0
		if ((b = index(line, "{")) > 0) {
			name = substr(line, 1, b - 1)
			e = lastbrace(line)
			key = substr(line, 1, e)
			rest = substr(line, e + 1)
		} else {
			split(line, w, /[ \t]+/)
			name = w[1]
			key = name
			rest = substr(line, length(name) + 1)
		}
		n = split(rest, w, /[ \t]+/)
		vals = 0
		for (i = 1; i <= n; i++)
			if (w[i] != "")
				vals++
		if (vals != 1)
			printf "line %d: %d fields after the series (a timestamp?): %s\n", NR, vals, line
		if (seen[key]++)
			printf "line %d: duplicate series %s\n", NR, key
		fam = name
		sub(/_(bucket|sum|count)$/, "", fam)
		if (!(name in type) && !((fam in type) && type[fam] == "histogram"))
			printf "line %d: sample %s has no TYPE line before it\n", NR, name
	}
	function lastbrace(s,   i) {
		for (i = length(s); i > 0; i--)
			if (substr(s, i, 1) == "}")
				return i
		return length(s)
	}' "$f"
}

# prom_file_check NAME FILE: promtool check metrics plus prom_file_problems.
prom_file_check() {
	local name=$1 f=$2 out rc=0 extra

	if [ ! -s "$f" ]; then
		fail "$name" "$f is missing or empty"
		return 0
	fi
	out=$(promtool check metrics <"$f" 2>&1) || rc=$?
	extra=$(prom_file_problems "$f")
	if [ "$rc" = 0 ] && [ -z "$extra" ]; then
		pass "$name"
	else
		fail "$name" "promtool rc=$rc: $(printf '%s %s' "$out" "$extra" | tr '\n' ' ' | cut -c1-600)"
	fi
}

# prom_file_sum FILE METRIC [LABELMATCH]: sum of METRIC's samples whose label
# set contains LABELMATCH literally (e.g. 'comm="promevict"').
prom_file_sum() {
	# ENVIRON, not -v: awk -v would process the backslashes in the match
	PFS_METRIC=$2 PFS_MATCH=${3:-} LC_ALL=C awk '
	BEGIN { m = ENVIRON["PFS_METRIC"]; lm = ENVIRON["PFS_MATCH"] }
	/^#/ { next }
	{
		b = index($0, "{")
		name = b ? substr($0, 1, b - 1) : $1
		if (name != m)
			next
		if (lm != "" && index($0, "{" lm) == 0 && index($0, "," lm) == 0)
			next
		s += $NF
		n++
	}
	END { if (n) printf "%.17g\n", s; else print "" }' "$1"
}

# prom_file_counter_series FILE: "KEY<FS>VALUE" (FS = \034) for every sample of a counter or
# histogram family (the values that must never go down), by the file's TYPE lines.
prom_file_counter_series() {
	LC_ALL=C awk '
	/^#[ \t]+TYPE[ \t]/ { type[$3] = $4; next }
	/^#/ || /^[ \t]*$/ { next }
	{
		b = index($0, "{")
		name = b ? substr($0, 1, b - 1) : $1
		fam = name
		sub(/_(bucket|sum|count)$/, "", fam)
		if (type[name] == "counter" || ((fam in type) && type[fam] == "histogram" && fam != name)) {
			key = $0
			sub(/[ \t]+[^ \t]+$/, "", key)
			printf "%s\034%s\n", key, $NF
		}
	}' "$1"
}

# counters_never_decrease OLD NEW: prints each counter/histogram series of
# both files whose value went down from OLD to NEW; and, since a series of
# its own may leave (demoted into its process's daddr="other" series; zero
# counters are not written, so a reset to 0 also shows as a series leaving),
# each daddr="other" series that left, and each process (comm) whose
# connecttop_connects_total summed over all its series went down, unless
# comm="other" (where processes beyond the cap fold) grew at least as much.
counters_never_decrease() {
	LC_ALL=C awk -F'\034' -v old="$1" -v new="$2" '
	function comm(k,   i, c, v) {
		i = index(k, "{comm=\"")
		if (!i)
			return ""
		k = substr(k, i + 7)
		v = ""
		while (length(k)) {
			c = substr(k, 1, 1)
			if (c == "\\") {
				v = v substr(k, 1, 2)
				k = substr(k, 3)
				continue
			}
			if (c == "\"")
				break
			v = v c
			k = substr(k, 2)
		}
		return v
	}
	FNR == NR {
		v[$1] = $2
		if ($1 ~ /^connecttop_connects_total\{/)
			ot[comm($1)] += $2
		next
	}
	{
		seen[$1] = 1
		if ($1 ~ /^connecttop_connects_total\{/)
			nt[comm($1)] += $2
	}
	($1 in v) && ($2 + 0 < v[$1] + 0) { printf "%s: %s -> %s (%s -> %s)\n", $1, v[$1], $2, old, new }
	END {
		for (k in v)
			if (!(k in seen) && index(k, "daddr=\"other\""))
				printf "%s: %s -> gone (%s -> %s)\n", k, v[k], old, new
		grew = nt["other"] - ot["other"]
		for (c in ot)
			if (c != "other" && nt[c] + 0 < ot[c] + 0) {
				grew -= ot[c] - nt[c]
				down = down sprintf("comm=\"%s\" total: %s -> %s (%s -> %s)\n", c, ot[c], nt[c] + 0, old, new)
			}
		if (grew < 0)
			printf "%s", down
	}
	' <(prom_file_counter_series "$1") <(prom_file_counter_series "$2")
}

# ensure_loadgen: LOADGEN, or builds tests/loadgen.c into $TMP if it is missing.
ensure_loadgen() {
	if [ -x "$LOADGEN" ]; then
		return 0
	fi
	if [ -f "$REPO_ROOT/tests/loadgen.c" ] &&
		gcc -O2 -static -pthread "$REPO_ROOT/tests/loadgen.c" -o "$TMP/loadgen" 2>"$TMP/loadgen-build.log"; then
		info "$LOADGEN missing: built $TMP/loadgen"
		LOADGEN=$TMP/loadgen
		return 0
	fi
	return 1
}

# wait_file FILE TIMEOUT_S PID: waits until FILE exists and is non-empty: 0;
# 1 on time-out, 2 as soon as PID has died.
wait_file() {
	t_wait_pid "$3" "$2" test -s "$1"
}

# sigint_and_wait NAME PID TIMEOUT_S: SIGINT, then asserts PID exits 0 in time.
sigint_and_wait() {
	local name=$1 pid=$2 timeout=$3 rc=0

	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" || rc=$?
		t_untrack "$pid"
		fail "$name" "exited before SIGINT (rc=$rc)"
		return 0
	fi
	kill -INT "$pid"
	wait_exit_0 "$name" "$pid" "$timeout" "after SIGINT"
}

# wait_exit_0 NAME PID TIMEOUT_S WHEN: asserts PID exits 0 within TIMEOUT_S
# (WHEN says after what, for the message)
wait_exit_0() {
	local name=$1 pid=$2 timeout=$3 when=$4 rc=0

	if ! t_wait "$timeout" t_gone "$pid"; then
		fail "$name" "still running ${timeout}s $when"
		return 0
	fi
	wait "$pid" || rc=$?
	t_untrack "$pid"
	if [ "$rc" = 0 ]; then
		pass "$name"
	else
		fail "$name" "exit status $rc $when, want 0"
	fi
}
