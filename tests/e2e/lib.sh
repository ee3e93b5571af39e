# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers of the end-to-end tests (sourced).
# Checks print "PASS: name" / "FAIL: name: why".
set -u
: "${CONNECTTOP:?}" "${LOADGEN:?}"
T_TMP=$(mktemp -d /tmp/ct-e2e.XXXXXX)
T_PIDS=""
CG_DIRS="" # cgroups made by cg_make
t_cleanup() {
	local d
	for p in $T_PIDS; do kill -KILL "$p" 2>/dev/null; done
	for d in $(printf '%s\n' $CG_DIRS | tac); do # children first
		# its processes are gone (or going): move what is left to the parent
		while read -r p; do echo "$p" >"$(dirname "$d")/cgroup.procs"; done <"$d/cgroup.procs" 2>/dev/null
		rmdir "$d" 2>/dev/null
	done
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
check() { # name expected actual
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}

# A test that needs BPF: skip outside CI when it cannot be had, fail in CI.
need_bpf() {
	if [ "$(id -u)" != 0 ]; then
		if [ "${CI:-}" = true ]; then fail "bpf available" "not root in CI"; exit 1; fi
		echo "SKIP: not root"; exit 0
	fi
	if ! "$CONNECTTOP" --probe >/dev/null 2>&1; then
		fail "bpf available" "connecttop --probe failed"; exit 1
	fi
}

# a free-ish TCP port base for this run (loopback only)
# below the ephemeral range (32768+ by default): a refused connect to a port in it
# can, once in thousands, pick that same port as its source and connect to itself
port_base() { echo $((20000 + (RANDOM % 100) * 100)); }

# ct_start OUT ERR ARGS...: start connecttop in the background (as a script
# does: SIGINT arrives ignored) and wait until it has attached.
ct_start() {
	local out=$1 err=$2
	shift 2
	"$CONNECTTOP" -v "$@" >"$out" 2>"$err" &
	CT_PID=$!
	T_PIDS="$T_PIDS $CT_PID"
	for _ in $(seq 1 100); do
		grep -q '^connecttop: attached' "$err" 2>/dev/null && return 0
		kill -0 "$CT_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "connecttop attaches" "$(grep -v '^libbpf: ' "$err" | tail -3)"
	return 1
}

# the ids of this connecttop's own maps (other instances have maps of the same names)
map_id() { # NAME
	local fd id
	for fd in /proc/"$CT_PID"/fdinfo/*; do
		id=$(awk '/^map_id:/ { print $2 }' "$fd" 2>/dev/null)
		[ -n "$id" ] || continue
		[ "$(bpftool map show id "$id" -j 2>/dev/null | jq -r .name)" = "$1" ] && echo "$id" && return 0
	done
	return 1
}
# ct_stop: SIGINT, wait, return its exit status
ct_stop() {
	kill -INT "$CT_PID"
	local rc=0
	wait "$CT_PID" || rc=$?
	return $rc
}

# cg_make NAME: a cgroup NAME in each hierarchy connecttop reads a
# process's unit from (cgroup v2, and v1's name=systemd where mounted);
# removed on exit
cg_make() {
	local m
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

# jq on the last JSON line of a file
last_json() { tail -n 1 "$1"; }
# sum of a field over the rows of a comm in the last object: rowsum FILE COMM EXPR
rowsum() { last_json "$1" | jq -r --arg c "$2" "[.rows[] | select(.comm == \$c) | $3] | add // 0"; }

# the load generator; its own verdict is checked, so that a connect that did
# not end as intended is reported as such and not blamed on connecttop
lg() { "$LOADGEN" -q "$@" || fail "loadgen $*" "loadgen saw connects end otherwise than asked"; }
