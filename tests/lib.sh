# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# tests/lib.sh: the helpers every shell test shares, sourced by the group
# libraries (tests/e2e/lib.sh, tests/tui/lib.sh, tests/prom/lib.sh,
# tests/vm/lib.sh), which add only what is their own. Sourcing it defines
# functions and variables and nothing else (no trap, no folder): t_init
# does that, for the scripts that want it.
#
# Checks print one line each, "PASS: name" or "FAIL: name: why" (tests/run.sh
# counts those lines); T_PREFIX, when set, goes before every name.
#
#   pass NAME, fail NAME WHY      one check (counted in T_PASSED, T_FAILED)
#   check NAME EXPECTED ACTUAL    pass if equal, else fail saying both
#   check_num NAME JQ_TEST VALUE  pass if the number VALUE passes the jq test
#                                 JQ_TEST (e.g. ". >= 5")
#   t_relay                       PASS/FAIL lines on stdin (another
#                                 script's) counted as ours; all echoed
#   t_finish [LABEL]              "[LABEL: ]N passed, N failed"; exit 1 if a
#                                 check failed or none passed, else 0
#   t_init NAME                   CONNECTTOP and LOADGEN (by default the
#                                 ones in .output/), T_TMP (a fresh
#                                 /tmp/NAME.XXXXXX) and the traps: on exit
#                                 the processes in T_PIDS are stopped (newest
#                                 first), the t_on_exit hooks run (last added
#                                 first), T_TMP is removed (kept with
#                                 KEEP_TMP=1); SIGINT/SIGTERM/SIGHUP exit
#                                 (130/143/143)
#   t_on_exit CMD                 a hook for the exit (a command line, eval'd)
#   t_track PID..., t_untrack PID the processes stopped on exit (T_PIDS: a
#                                 test may also append to it itself)
#   t_stop PID [SECS]             SIGTERM, up to SECS (5) to end, then
#                                 SIGKILL; reaped when it is our child
#   t_wait SECS CMD...            until CMD succeeds, tried every 50 ms for at
#                                 least SECS (whole seconds): 0, or 1 when it
#                                 never did
#   t_wait_pid PID SECS CMD...    the same, but 2 as soon as PID has ended
#   now_ms                        milliseconds since the epoch
#   need_bpf, need_tools TOOL...  what a test needs: a skip outside CI, a
#                                 failure in CI (CI=true); T_TOOLS_HINT says
#                                 how to get the tools
#   port_base                     a base for this run's loopback ports
#   ct_start OUT ERR ARGS...      connecttop -v ARGS in the background (its pid
#                                 in CT_PID, tracked), waited for until it has
#                                 attached (ct_wait_attached ERR PID SECS)
#   ct_stop                       SIGINT to CT_PID; its exit status
#   lg ARGS...                    the load generator, its verdict checked
#   cg_make NAME, cg_exec NAME CMD..., cg_run NAME CMD...
#                                 a test cgroup (removed on exit), and a
#                                 command run inside it
T_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$T_LIB_DIR/.." && pwd)
ROOT=${ROOT:-$REPO_ROOT}

T_PASSED=0
T_FAILED=0
T_PREFIX=${T_PREFIX:-}
T_TMP=""
T_PIDS=""
T_HOOKS=()

# --- checks -----------------------------------------------------------------
pass() {
	echo "PASS: $T_PREFIX$1"
	T_PASSED=$((T_PASSED + 1))
}
fail() {
	echo "FAIL: $T_PREFIX$1: $2"
	T_FAILED=$((T_FAILED + 1))
}
check() { # NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}
# check_num NAME JQ_TEST VALUE: VALUE (a number) passes the test, e.g. '. >= 5'
check_num() {
	if [ "$(jq -n --argjson v "$3" "\$v | $2" 2>/dev/null)" = true ]; then pass "$1"; else fail "$1" "got '$3'"; fi
}
t_relay() {
	local l
	while IFS= read -r l; do
		echo "$l"
		case $l in
		PASS:*) T_PASSED=$((T_PASSED + 1)) ;;
		FAIL:*) T_FAILED=$((T_FAILED + 1)) ;;
		esac
	done
}
t_finish() {
	echo "${1:+$1: }$T_PASSED passed, $T_FAILED failed"
	if [ "$T_FAILED" -gt 0 ] || [ "$T_PASSED" -eq 0 ]; then exit 1; fi
	exit 0
}

# --- clean-up -----------------------------------------------------------------
t_init() {
	export CONNECTTOP=${CONNECTTOP:-$REPO_ROOT/.output/connecttop}
	export LOADGEN=${LOADGEN:-$REPO_ROOT/.output/loadgen}
	T_TMP=$(mktemp -d "/tmp/$1.XXXXXX")
	trap t_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
}
t_on_exit() { T_HOOKS+=("$1"); }
t_track() { T_PIDS="$T_PIDS $*"; }
t_untrack() {
	local p keep=""
	for p in $T_PIDS; do [ "$p" = "$1" ] || keep="$keep $p"; done
	T_PIDS=$keep
}
# shellcheck disable=SC2317 # run by the EXIT trap
t_cleanup() {
	local i pids=()
	trap - EXIT INT TERM HUP
	# (each step may fail, also under set -e: the next ones still run)
	read -ra pids <<<"$T_PIDS" || true
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do t_stop "${pids[$i]}"; done
	T_PIDS=""
	for ((i = ${#T_HOOKS[@]} - 1; i >= 0; i--)); do eval "${T_HOOKS[$i]}" || true; done
	if [ -n "${KEEP_TMP:-}" ]; then
		[ -z "$T_TMP" ] || echo "info: kept $T_TMP" >&2
	elif [ -n "$T_TMP" ]; then
		rm -rf "$T_TMP"
	fi
}
t_stop() {
	local pid=$1 secs=${2:-5}
	if kill -TERM "$pid" 2>/dev/null && ! t_wait "$secs" t_gone "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}
t_gone() { ! kill -0 "$1" 2>/dev/null; }

# --- waiting for a condition ----------------------------------------------------
# tries, not a clock: a loaded machine gets more time, never less
t_wait() {
	local n=$(($1 * 20)) i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	"$@"
}
t_wait_pid() {
	local pid=$1 n=$(($2 * 20)) i
	shift 2
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		kill -0 "$pid" 2>/dev/null || return 2
		sleep 0.05
	done
	"$@" && return 0
	return 1
}
now_ms() { date +%s%3N; }

# --- what a test needs ----------------------------------------------------------
need_bpf() {
	if [ "$(id -u)" != 0 ]; then
		if [ "${CI:-}" = true ]; then fail "bpf available" "not root in CI"; exit 1; fi
		echo "SKIP: not root"
		exit 0
	fi
	if ! "$CONNECTTOP" --probe >/dev/null 2>&1; then
		fail "bpf available" "connecttop --probe failed"
		exit 1
	fi
}
need_tools() {
	local t missing=""
	for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing="$missing $t"; done
	[ -z "$missing" ] && return 0
	missing="$missing${T_TOOLS_HINT:+ ($T_TOOLS_HINT)}"
	if [ "${CI:-}" = true ]; then fail "tools available" "missing:$missing"; exit 1; fi
	echo "SKIP: missing:$missing"
	exit 0
}

# a free-ish TCP port base for this run (loopback only)
# below the ephemeral range (32768+ by default): a refused connect to a port in it
# can, once in thousands, pick that same port as its source and connect to itself
port_base() { echo $((20000 + (RANDOM % 100) * 100)); }

# --- connecttop and the load generator ----------------------------------------
# ct_wait_attached ERR PID SECS: until connecttop -v (PID) has written its
# "attached" line to ERR: 0; 1 after SECS, 2 when it ended first
ct_wait_attached() {
	t_wait_pid "$2" "$3" grep -q '^connecttop: attached' "$1" 2>/dev/null
}
# ct_start OUT ERR ARGS...: start connecttop in the background (as a script
# does: SIGINT arrives ignored) and wait until it has attached
ct_start() {
	local out=$1 err=$2
	shift 2
	# a previous run's "attached" line must not be taken for this one's
	rm -f "$out" "$err"
	"$CONNECTTOP" -v "$@" >"$out" 2>"$err" &
	CT_PID=$!
	t_track "$CT_PID"
	ct_wait_attached "$err" "$CT_PID" 10 && return 0
	fail "connecttop attaches" "$(grep -v '^libbpf: ' "$err" | tail -3)"
	return 1
}
# ct_stop: SIGINT, wait, return its exit status
ct_stop() {
	kill -INT "$CT_PID"
	local rc=0
	wait "$CT_PID" || rc=$?
	return $rc
}

# the load generator; its own verdict is checked, so that a connect that did
# not end as intended is reported as such and not blamed on connecttop
lg() { "$LOADGEN" -q "$@" || fail "loadgen $*" "loadgen saw connects end otherwise than asked"; }

# --- test cgroups ---------------------------------------------------------------
CG_DIRS="" # cgroups made by cg_make
# cg_make NAME: a cgroup NAME in each hierarchy connecttop reads a
# process's unit from (cgroup v2, and v1's name=systemd where mounted);
# removed on exit (after T_PIDS have been stopped)
cg_make() {
	local m
	[ -n "$CG_DIRS" ] || t_on_exit cg_cleanup
	for m in $(awk '$3 == "cgroup2" || ($3 == "cgroup" && $4 ~ /(^|,)name=systemd(,|$)/) { print $2 }' /proc/mounts); do
		mkdir -p "$m/$1" && CG_DIRS="$CG_DIRS $m/$1"
	done
	case $CG_DIRS in *"/$1"*) return 0 ;; esac
	fail "cgroup $1" "no cgroup2 or name=systemd hierarchy to make it in"
	return 1
}
# cg_exec NAME CMD...: become CMD inside the cgroup NAME (made by cg_make);
# "cg_exec ... &" gives CMD's pid in $!. cg_run: the same in a subshell.
cg_exec() {
	local name=$1 dirs="" d
	shift
	for d in $CG_DIRS; do case $d in */"$name") dirs="$dirs $d" ;; esac; done
	exec bash -c 'for d in $0; do echo $$ >"$d/cgroup.procs" || exit 1; done; exec "$@"' "$dirs" "$@"
}
cg_run() { (cg_exec "$@"); }
# shellcheck disable=SC2317 # run by t_cleanup
cg_cleanup() {
	local d p
	for d in $(printf '%s\n' $CG_DIRS | tac); do # children first
		# its processes are gone (or going): move what is left to the parent
		while read -r p; do echo "$p" >"$(dirname "$d")/cgroup.procs"; done <"$d/cgroup.procs" 2>/dev/null
		rmdir "$d" 2>/dev/null
	done
	CG_DIRS=""
}
