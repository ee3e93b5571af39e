#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The benchmark: prints numbers, never a verdict. Loopback traffic only
# (127.0.0.0/8), every step bounded in time. Needs root (BPF).
#
#   1. overhead: loadgen's loopback connect rate alone vs with connecttop
#      attached, in alternating rounds (TCP refused, TCP accepted, UDP with
#      a socket per connect, UDP connect() storm on one socket per thread),
#      and with the peers bpftrace and tcpstates in the same rounds when
#      installed and a minimal ring-buffer consumer (tests/bench/rbpeer.c); each tool's BPF run time per program (bpf_stats)
#   2. connecttop's own CPU during those rounds
#   3. highest event rate seen with zero drops; a small ring buffer and
#      other --wakeup-bytes at that load
#   4. peak RSS with 1,000,000 distinct flows (default --max-flows and
#      --max-flows 1000000), a burst of new flows, and the same burst through
#      the core code alone (flowbench: CPU per new flow, interval work)
#   5. start-up: exec to attached, and to the first connect captured; exec
#      to attached and SIGINT to exit as a wrapper sees them, with the peers
#   6. the view's work with 100,000 flows (viewbench: the core code alone)
#   7. the real screen with 100,000 flows: connecttop in tmux, keys sent,
#      every refresh timed by the tool itself (the hidden --timing-file)
#   8. what a --ringbuf-size costs: mapped size, RSS and exec-to-attached
#   9. what the DNS capture costs a host that does no DNS: a loopback UDP
#      recv storm (tests/bench/udpstorm.c) alone, with connecttop --no-dns,
#      with connecttop capturing DNS answers and with connecttop idle (the
#      capture disarmed, as after --dns-idle), in alternating rounds
#
# Environment (defaults in brackets):
#   BENCH_ROUNDS [7]      alternating alone/attached rounds per kind
#   BENCH_SECS [3]        seconds per round
#   BENCH_THREADS [2]     loadgen threads
#   BENCH_BPF_STATS [1]   section 1 with kernel.bpf_stats_enabled=1 (the BPF
#                         ns per program; costs every tool's programs alike)
#   BENCH_PORT [random 12000..12490]  base port: refuse, accept, udp, start-up use
#                         base..base+3 (below the ephemeral range)
#   BENCH_SMALL_RB [256K] the small ring buffer of sections 3 and 4
#   BENCH_WAKEUPS [4K 16K 256K 1M]  --wakeup-bytes values tried in section 3
#                         (empty: skip)
#   BENCH_FLOWS [1000000] distinct flows of section 4
#   BENCH_FLOW_RATE [60000]  flowgen's pace in section 4 (connects/s), so that
#                         the flow table, not the ring buffer, is measured
#   BENCH_IDLE_SECS [3]   section 4: seconds of CPU sampling with the flows held
#   BENCH_BURST [1]       section 4 also runs flowgen unpaced, with the default
#                         and with the small ring buffer, and paced at
#                         BENCH_NEWFLOW_RATE (0: skip)
#   BENCH_NEWFLOW_RATE [300000]  section 4: new flows/s of the paced burst
#   BENCH_STARTS [5]      start-ups measured in section 5
#   BENCH_START_DELAY [0.2]  connecttop -d during the start-up measurement
#   BENCH_SCREEN_FLOWS [100000]  distinct flows of section 7
#   BENCH_RINGBUFS [256K 4M 8M 64M 1G]  the sizes of section 8
#   BENCH_STORM_BYTES [64]  section 9: the datagrams' payload size
#   BENCH_SECTIONS [1 2 3 4 5 6 7 8 9]  the sections to run (2 needs 1)
#   CONNECTTOP, LOADGEN   the binaries (default .output/)
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
CT=${CONNECTTOP:-$ROOT/.output/connecttop}
LG=${LOADGEN:-$ROOT/.output/loadgen}
FG=$ROOT/.output/flowgen
ROUNDS=${BENCH_ROUNDS:-7}
SECS=${BENCH_SECS:-3}
THREADS=${BENCH_THREADS:-2}
BPF_STATS=${BENCH_BPF_STATS:-1}
SMALL_RB=${BENCH_SMALL_RB:-256K}
WAKEUPS=${BENCH_WAKEUPS-4K 16K 256K 1M}
NFLOWS=${BENCH_FLOWS:-1000000}
FLOW_RATE=${BENCH_FLOW_RATE:-60000}
IDLE_SECS=${BENCH_IDLE_SECS:-3}
BURST=${BENCH_BURST:-1}
NEWFLOW_RATE=${BENCH_NEWFLOW_RATE:-300000}
STARTS=${BENCH_STARTS:-5}
START_DELAY=${BENCH_START_DELAY:-0.2}
SCREEN_FLOWS=${BENCH_SCREEN_FLOWS:-100000}
SECTIONS=${BENCH_SECTIONS:-1 2 3 4 5 6 7 8 9}
STORM_BYTES=${BENCH_STORM_BYTES:-64}
RINGBUFS=${BENCH_RINGBUFS:-256K 4M 8M 64M 1G}
HZ=$(getconf CLK_TCK)

die() { echo "bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (BPF): run 'sudo make bench' or 'sudo tests/bench.sh'"
[ -x "$CT" ] && [ -x "$LG" ] || die "build first: make (missing $CT or $LG)"
for t in jq ss awk; do command -v $t >/dev/null || die "needs $t"; done
for v in ROUNDS SECS THREADS BPF_STATS NFLOWS FLOW_RATE NEWFLOW_RATE STARTS IDLE_SECS SCREEN_FLOWS; do
	case ${!v} in '' | *[!0-9]*) die "$v='${!v}' (from BENCH_*): expected a whole number" ;; esac
done
[ "$ROUNDS" -ge 1 ] && [ "$SECS" -ge 1 ] && [ "$THREADS" -ge 1 ] || die "BENCH_ROUNDS, BENCH_SECS and BENCH_THREADS must be >= 1"
"$CT" --probe >/dev/null 2>&1 || die "connecttop --probe failed: no BPF here?"

TMP=$(mktemp -d /tmp/ct-bench.XXXXXX)
PIDS=""
STATS_WAS=""
cleanup() {
	local p
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.2
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -z "$STATS_WAS" ] || sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
track() { PIDS="$PIDS $1"; }
untrack() { PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' '); }

# flowgen: the benchmark's own generator of many distinct flows; launch:
# a tool's start-up and shut-down as a wrapper sees them
LAUNCH=$ROOT/.output/launch
STORM=$ROOT/.output/udpstorm
for b in "$FG:tests/bench/flowgen.c" "$LAUNCH:tests/bench/launch.c"; do
	if [ ! -x "${b%%:*}" ] || [ "${b#*:}" -nt "${b%%:*}" ]; then
		gcc -O2 -Wall -Wextra "${b#*:}" -o "${b%%:*}" || die "cannot build ${b%%:*}"
	fi
done
# udpstorm opens connecttop's own capture sockets (tui/dnscap.c) for -c
gcc -O2 -Wall -Wextra -Itui tests/bench/udpstorm.c tui/dnscap.c tui/dns.c -o "$STORM" ||
	die "cannot build $STORM"

# ---- helpers ---------------------------------------------------------------
# tests/lib.sh: ct_wait_attached (sourcing it defines functions only)
. tests/lib.sh

now_us() { echo "${EPOCHREALTIME/./}"; }
# median of the arguments (mean of the two middle ones for an even count)
median() {
	printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# (parenthesised: a bare ">" in awk's print would redirect to a file)
calc() { awk "BEGIN { print ($*) }"; }
# utime+stime of a process, in clock ticks
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'; }
# its CPU time in ns from the scheduler (finer than the ticks; main thread,
# connecttop has no other)
cpu_ns() { awk '{print $1}' "/proc/$1/schedstat" 2>/dev/null || echo 0; }
vm_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# ct_start OUT ERR ARGS...: start connecttop -v in the background, wait
# until it has attached (tests/lib.sh's ct_wait_attached); sets CT_PID. The
# tests' own ct_start reports a failed check; a benchmark stops instead.
ct_start() {
	local out=$1 err=$2
	shift 2
	# a previous run's "attached" line must not be taken for this one's
	rm -f "$out" "$err"
	"$CT" -v "$@" >"$out" 2>"$err" &
	CT_PID=$!
	track "$CT_PID"
	ct_wait_attached "$err" "$CT_PID" 10 && return 0
	echo "bench: connecttop $* did not attach:" >&2
	grep -v '^libbpf: ' "$err" | tail -3 >&2
	exit 1
}
# SIGINT: connecttop drains, prints a last line and exits
ct_stop() { tool_stop "$CT_PID"; }
last_json() { grep '^{' "$1" | tail -n 1; }

# lg_run KIND PORT COMM: loadgen for SECS seconds; sets LG_N (connects),
# LG_FAIL, LG_S (seconds), LG_RATE
lg_run() {
	local -a args=("$1")
	[ "$1" = udp-reuse ] && args=(-r udp)
	"$LG" -T "$THREADS" -d "$SECS" -c "$3" "${args[@]}" 127.0.0.1 "$2" 0 >"$TMP/lg.out" 2>&1 &
	local p=$!
	track $p
	wait $p
	untrack $p
	local line
	line=$(grep '^connects=' "$TMP/lg.out")
	[ -n "$line" ] || { cat "$TMP/lg.out" >&2; die "loadgen $1 127.0.0.1 $2 printed no result"; }
	LG_N=$(echo "$line" | sed 's/.*connects=\([0-9]*\).*/\1/')
	LG_FAIL=$(echo "$line" | sed 's/.*failed=\([0-9]*\).*/\1/')
	LG_S=$(echo "$line" | sed 's/.*seconds=\([0-9.]*\).*/\1/')
	LG_RATE=$(calc "$LG_N / $LG_S")
}

# pair KIND PORT COMM CT-ARGS...: one alone round, then one attached round
# with connecttop -b -o json -d 1 CT-ARGS. Sets A_RATE, T_RATE, RATIO, DROPS,
# CAPT (events of COMM), EVENTS (all events), TICKS and NS (connecttop's CPU
# during the load), WALL_S (wall time of the load), T_N (connects made
# attached), FAILS
pair() {
	local kind=$1 port=$2 comm=$3 t0 t1 n0 n1 w0 w1 j
	shift 3
	lg_run "$kind" "$port" "$comm"
	A_RATE=$LG_RATE
	FAILS=$LG_FAIL
	ct_start "$TMP/ct.json" "$TMP/ct.err" -b -o json -d 1 "$@"
	t0=$(cpu_ticks "$CT_PID") n0=$(cpu_ns "$CT_PID")
	w0=$(now_us)
	lg_run "$kind" "$port" "$comm"
	w1=$(now_us)
	t1=$(cpu_ticks "$CT_PID") n1=$(cpu_ns "$CT_PID")
	ct_stop
	T_RATE=$LG_RATE
	T_N=$LG_N
	FAILS=$((FAILS + LG_FAIL))
	RATIO=$(calc "$T_RATE / $A_RATE")
	TICKS=$((t1 - t0)) NS=$((n1 - n0))
	WALL_S=$(calc "($w1 - $w0) / 1e6")
	j=$(last_json "$TMP/ct.json")
	[ -n "$j" ] || die "connecttop $* printed no JSON line"
	DROPS=$(echo "$j" | jq -r '.drops')
	EVENTS=$(echo "$j" | jq -r '(.events // 0) + (.outcomes // 0)')
	CAPT=$(echo "$j" | jq -r --arg c "$comm" '[.rows[] | select(.comm == $c) | .count] | add // 0')
}

# ---- set-up ----------------------------------------------------------------

port_free() { # nothing listens on TCP or UDP PORT
	[ -z "$(ss -Hltnu "( sport = :$1 )" 2>/dev/null)" ]
}
if [ -n "${BENCH_PORT:-}" ]; then
	BASE=$BENCH_PORT
else
	for _ in $(seq 1 50); do
		BASE=$((12000 + (RANDOM % 50) * 10))
		port_free $BASE && port_free $((BASE + 1)) && port_free $((BASE + 2)) && port_free $((BASE + 3)) && break
	done
fi
P_REFUSE=$BASE P_ACCEPT=$((BASE + 1)) P_UDP=$((BASE + 2)) P_START=$((BASE + 3))
port_free $P_REFUSE || die "something listens on port $P_REFUSE (the refused-connect target): set BENCH_PORT"

echo "connecttop benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "host: $(uname -r), $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tool: $("$CT" -V)"
echo "load: loadgen -T $THREADS, $ROUNDS rounds x $SECS s per kind, alone and attached alternating; ports $P_REFUSE..$P_START on 127.0.0.1"
# other tracers of connect() on the host make "alone" not alone
others=""
if command -v bpftool >/dev/null; then
	others=$(bpftool prog show 2>/dev/null | grep -cE 'name (tp_exit_connect|raw_exit) ')
fi
procs=$(pgrep -xc connecttop)
if [ "${others:-0}" -gt 0 ] || [ "$procs" -gt 0 ]; then
	echo "WARNING: already attached before the benchmark: $others connecttop BPF program set(s), $procs connecttop process(es);"
	echo "         every round, 'alone' included, pays for them: the overhead below is connecttop's on top of theirs"
fi
echo

on() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }
KINDS="refuse accept udp udp-reuse"
port_of() { case $1 in refuse) echo $P_REFUSE ;; accept) echo $P_ACCEPT ;; udp | udp-reuse) echo $P_UDP ;; esac; }
pct() { calc "100 * $1 / 1e9 / $2"; } # NS WALL_S -> % of a core

# ---- 1. overhead -----------------------------------------------------------

# The peers, run on the same loads in the same rounds when installed: a
# bpftrace script that counts connects keyed as connecttop's flows are
# (comm, family, port, address, and the result sys_exit_connect returns:
# it reads the sockaddr at exit, as connecttop does; no latency, no TCP
# outcome; IPv4 addresses only, as the loads are), and libbpf-tools'
# tcpstates (TCP only: it sees state changes, not connect() calls). Both
# use tracepoints only (kprobes and fentry do not work on every host):
# tcpstates' one program is tracepoint/sock/inet_sock_set_state. make
# bench installs them (Debian packages bpftrace and libbpf-tools, both in
# bookworm's main) and leaves the reason in .output/bench-peer-PKG.log
# when that fails; a peer missing or unable to attach is said below, not
# skipped silently.
BT=$(command -v bpftrace)
TS=$(command -v tcpstates || { [ -x /usr/sbin/tcpstates ] && echo /usr/sbin/tcpstates; })
BT_WHY="" TS_WHY=""
peer_missing() { # PKG: why it is not installed
	local log=$ROOT/.output/bench-peer-$1.log
	if [ -s "$log" ] && grep -q . "$log"; then
		echo "not installed: installing the Debian package $1 failed: $(grep -v '^installing:' "$log" | tail -n 1)"
	else
		echo "not installed (Debian package $1; make bench installs it)"
	fi
}
[ -n "$BT" ] || BT_WHY=$(peer_missing bpftrace)
[ -n "$TS" ] || TS_WHY=$(peer_missing libbpf-tools)
cat >"$TMP/peer.bt" <<'EOF_BT'
tracepoint:syscalls:sys_enter_connect { @sa[tid] = args->uservaddr; }
tracepoint:syscalls:sys_exit_connect /@sa[tid]/ {
	$s = (struct sockaddr_in *)@sa[tid];
	@c[comm, $s->sin_family, bswap($s->sin_port), ntop($s->sin_addr.s_addr), args->ret] = count();
	delete(@sa[tid]);
}
BEGIN { printf("ready\n"); }
END { clear(@sa); }
EOF_BT
# bpftrace's maps hold 4096 keys by default: a shared host's other flows
# fill that, after which the script counts nothing (connecttop's socket
# maps hold 65536)
BT_KEYS=65536
# the minimal ring-buffer consumer (tests/bench/rbpeer.c, built by make
# bench): a plain libbpf tracer's cost, one record per connect, wake-ups
# batched, no socket read, no TCP outcome
RB=$ROOT/.output/rbpeer
[ -x "$RB" ] && [ -f "$RB.bpf.o" ] || RB=""
RB_WHY=""
[ -n "$RB" ] || RB_WHY="not built (make bench builds .output/rbpeer and .output/rbpeer.bpf.o)"
tools_of() { # KIND: the tools run on that load
	local t="ct"
	[ -n "$RB" ] && t+=" rb"
	[ -n "$BT" ] && t+=" bt"
	case $1 in refuse | accept) [ -n "$TS" ] && t+=" ts" ;; esac
	echo "$t"
}
tool_name() { case $1 in ct) echo connecttop ;; bt) echo bpftrace ;; rb) echo rb-minimal ;; ts) echo tcpstates ;; esac; }

# the BPF programs a process holds (by their fds), with their run time and
# run count (kernel.bpf_stats_enabled): lines "ID NAME NS COUNT"
prog_ids() { cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '$1 == "prog_id:" {print $2}' | sort -un; }
bpf_snap() {
	local id
	for id in $(prog_ids "$1"); do
		bpftool prog show id "$id" -j 2>/dev/null | jq -r '"\(.id) \(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"'
	done
}
# tool_wait PID FILE TEXT | tool_wait PID fd LINK: until FILE has TEXT, or
# the process holds an fd whose link reads LINK (tcpstates: its stdout to
# a file is block-buffered, its header comes late)
tool_wait() {
	local pid=$1 i
	for i in $(seq 1 500); do
		if [ "$2" = fd ]; then
			find "/proc/$pid/fd" -lname "$3" 2>/dev/null | grep -q . && return 0
		else
			grep -q "$3" "$2" 2>/dev/null && return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	return 1
}
# tool_stop PID [SECS]: SIGINT, at most SECS (5) for it to exit, then
# SIGKILL; STOP_KILLED=1 when it came to that (what it would have printed
# at exit is then missing)
tool_stop() {
	local i
	kill -INT "$1" 2>/dev/null
	STOP_KILLED=1
	for i in $(seq 1 $((${2:-5} * 50))); do
		kill -0 "$1" 2>/dev/null || { STOP_KILLED=0; break; }
		sleep 0.02
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	untrack "$1"
}

# attached TOOL KIND PORT COMM: one attached run of the load. Sets T_RATE,
# T_N, FAILS, CAPT (connects the tool counted for COMM), GOOD (connecttop:
# of those, the ones with the result KIND gives), DROPS (connecttop: its
# drops; tcpstates: events it reports lost; bpftrace: "-"), TICKS (the
# tool's CPU, all threads), NS and EVENTS (connecttop), WALL_S, and adds
# the tool's BPF run time to BNS/BCNT
attached() {
	local tool=$1 kind=$2 port=$3 comm=$4 pid t0 t1 n0 n1 w0 w1 j before after
	case $tool in
	ct)
		ct_start "$TMP/ct.json" "$TMP/ct.err" -b -o json -d 1
		pid=$CT_PID
		;;
	bt)
		rm -f "$TMP/bt.out"
		BPFTRACE_MAP_KEYS_MAX=$BT_KEYS "$BT" "$TMP/peer.bt" >"$TMP/bt.out" 2>"$TMP/bt.err" &
		pid=$!
		track $pid
		tool_wait $pid "$TMP/bt.out" '^ready' || die "bpftrace did not attach: $(tail -2 "$TMP/bt.err")"
		;;
	rb)
		rm -f "$TMP/rb.out"
		"$RB" "$RB.bpf.o" >"$TMP/rb.out" 2>"$TMP/rb.err" &
		pid=$!
		track $pid
		tool_wait $pid "$TMP/rb.out" '^ready' || die "rbpeer did not attach: $(tail -2 "$TMP/rb.err")"
		;;
	ts)
		"$TS" >"$TMP/ts.out" 2>"$TMP/ts.err" &
		pid=$!
		track $pid
		tool_wait $pid fd 'anon_inode:bpf_link' || die "tcpstates did not attach: $(tail -2 "$TMP/ts.err")"
		sleep 0.2 # its SIGINT handler comes after the attach
		;;
	esac
	before=$(bpf_snap $pid)
	t0=$(cpu_ticks $pid) n0=$(cpu_ns $pid)
	w0=$(now_us)
	lg_run "$kind" "$port" "$comm"
	w1=$(now_us)
	t1=$(cpu_ticks $pid) n1=$(cpu_ns $pid)
	after=$(bpf_snap $pid)
	# bpftrace prints its map at exit: on a busy host with many flows
	# that takes seconds
	tool_stop $pid "$([ "$tool" = bt ] && echo 30 || echo 5)"
	T_RATE=$LG_RATE T_N=$LG_N FAILS=$LG_FAIL
	TICKS=$((t1 - t0)) NS=$((n1 - n0))
	WALL_S=$(calc "($w1 - $w0) / 1e6")
	GOOD=- EVENTS=0
	case $tool in
	ct)
		j=$(last_json "$TMP/ct.json")
		[ -n "$j" ] || die "connecttop printed no JSON line"
		DROPS=$(echo "$j" | jq -r '.drops')
		EVENTS=$(echo "$j" | jq -r '(.events // 0) + (.outcomes // 0)')
		CAPT=$(echo "$j" | jq -r --arg c "$comm" '[.rows[] | select(.comm == $c) | .count] | add // 0')
		GOOD=$(echo "$j" | jq -r --arg c "$comm" --arg r "$(case $kind in refuse) echo refused ;; *) echo ok ;; esac)" \
			'[.rows[] | select(.comm == $c) | .results[$r]] | add // 0')
		;;
	bt)
		# its map full (other processes' flows on a shared host): the
		# connects after that are not counted, and nothing says so
		DROPS=-
		[ "$(grep -c '^@c\[' "$TMP/bt.out")" -lt "$BT_KEYS" ] || DROPS=full
		[ "$STOP_KILLED" = 0 ] || DROPS=killed
		CAPT=$(awk -v k="@c[$comm, " 'index($0, k) == 1 {n += $NF} END {print n + 0}' "$TMP/bt.out")
		# the key's last field: connect()'s return (blocking connects:
		# -111 refused, 0 connected)
		GOOD=$(awk -v k="@c[$comm, " -v r="$(case $kind in refuse) echo -111 ;; *) echo 0 ;; esac)" '
			index($0, k) == 1 { s = $0; sub(/\]:.*/, "", s); n = split(s, f, ", "); if (f[n] == r) g += $NF }
			END { print g + 0 }' "$TMP/bt.out")
		;;
	rb)
		DROPS=$(awk '$1 == "lost" {print $2}' "$TMP/rb.out")
		CAPT=$(awk -v c="$comm" '$1 == c {n += $2} END {print n + 0}' "$TMP/rb.out")
		;;
	ts)
		DROPS=$(grep -o 'lost [0-9]*' "$TMP/ts.err" | awk '{n += $2} END {print n + 0}')
		# one CLOSE -> SYN_SENT per connect, to the port
		CAPT=$(awk -v p="$port" '$7 == p && $10 == "SYN_SENT" {n++} END {print n + 0}' "$TMP/ts.out")
		rm -f "$TMP/ts.out"
		;;
	esac
	# the BPF run time and runs of each program during the load
	while read -r id name ns cnt; do
		read -r ns0 cnt0 < <(echo "$before" | awk -v i="$id" '$1 == i {print $3, $4}')
		local k="$kind/$tool/$name"
		case " ${BNAMES[$kind/$tool]:-} " in *" $name "*) ;; *) BNAMES[$kind/$tool]+=" $name" ;; esac
		BNS[$k]=$((${BNS[$k]:-0} + ns - ${ns0:-0}))
		BCNT[$k]=$((${BCNT[$k]:-0} + cnt - ${cnt0:-0}))
	done <<<"$after"
	BCONN[$kind/$tool]=$((${BCONN[$kind/$tool]:-0} + T_N))
}

# Each peer once before the rounds: one that cannot attach here is said,
# with its last error line, and left out rather than stopping the bench
# half-way; for tcpstates, the type of each of its programs as the kernel
# has it (a tracepoint, not a kprobe or fentry, which do not work on every
# host)
peer_try() { # NAME WAIT-ARGS... -- CMD...: 0 if CMD attached; sets TRY_PROGS, TRY_ERR
	local name=$1 pid args=()
	shift
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	"$@" >"$TMP/try.out" 2>"$TMP/try.err" &
	pid=$!
	track $pid
	TRY_PROGS="" TRY_ERR=""
	if tool_wait $pid "${args[@]}"; then
		TRY_PROGS=$(for id in $(prog_ids $pid); do
			bpftool prog show id "$id" -j 2>/dev/null | jq -r '"\(.type) \(.name)"'
		done | sort -u | paste -sd, - | sed 's/,/, /g')
		sleep 0.2 # tcpstates: its SIGINT handler comes after the attach
		tool_stop $pid
		return 0
	fi
	tool_stop $pid
	TRY_ERR=$(grep -v -e '^$' -e 'RLIMIT_MEMLOCK' "$TMP/try.err" | tail -n 1)
	echo "bench: $name did not attach here: ${TRY_ERR:-no message}" >&2
	return 1
}
BT_PROGS="" TS_PROGS="" RB_PROGS=""
if [ -n "$BT" ]; then
	if peer_try bpftrace "$TMP/try.out" '^ready' -- env BPFTRACE_MAP_KEYS_MAX=$BT_KEYS "$BT" "$TMP/peer.bt"; then
		BT_PROGS=$TRY_PROGS
	else
		BT_WHY="installed ($BT) but did not attach: ${TRY_ERR:-no message}" BT=""
	fi
fi
if [ -n "$TS" ]; then
	if peer_try tcpstates fd 'anon_inode:bpf_link' -- "$TS"; then
		TS_PROGS=$TRY_PROGS
	else
		TS_WHY="installed ($TS) but did not attach: ${TRY_ERR:-no message}" TS=""
	fi
fi
if [ -n "$RB" ]; then
	if peer_try rb-minimal "$TMP/try.out" '^ready' -- "$RB" "$RB.bpf.o"; then
		RB_PROGS=$TRY_PROGS
	else
		RB_WHY="did not attach: ${TRY_ERR:-no message}" RB=""
	fi
fi
peer_line() { # NAME PATH PROGS WHY
	if [ -n "$2" ]; then
		printf '  %-10s %s: %s\n' "$1" "$2" "${3:-(its programs not seen: no bpftool?)}"
	else
		printf '  %-10s %s\n' "$1" "$4"
	fi
}
echo "peers (the programs each one attached in a trial start, as the kernel lists them: type name):"
peer_line bpftrace "${BT:+$BT $("$BT" --version 2>/dev/null | awk '{print $2}')}" "$BT_PROGS" "$BT_WHY"
peer_line tcpstates "$TS" "$TS_PROGS" "$TS_WHY"
peer_line rb-minimal "${RB:+$RB}" "$RB_PROGS" "$RB_WHY"
echo

declare -A SUM_A SUM_T SUM_R SUM_DROPS SUM_CAPT SUM_N SUM_TICKS SUM_NS SUM_WALL SUM_EV SUM_FAIL BEST_RATE
declare -A BNS BCNT BNAMES BCONN RLIST TCAPT TGOOD TN TDROPS TTICKS TWALL
if on 1; then
	if [ "$BPF_STATS" = 1 ]; then
		STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
		sysctl -qw kernel.bpf_stats_enabled=1 || die "cannot enable kernel.bpf_stats_enabled"
	fi
	echo "== 1. Overhead: loopback connects/s of loadgen alone vs with a tracer attached, in the same rounds"
	echo "  tools: connecttop -b -o json -d 1 >FILE$([ -n "$BT" ] && echo ", bpftrace (count by comm, family, port, address, result; $BT_KEYS keys)")$([ -n "$TS" ] &&
		echo ", tcpstates >FILE (TCP loads)")$([ -n "$RB" ] && echo ", rb-minimal (tests/bench/rbpeer.c)")"
	[ -n "$BT" ] || echo "  bpftrace: left out: $BT_WHY"
	[ -n "$TS" ] || echo "  tcpstates: left out: $TS_WHY"
	[ -n "$RB" ] || echo "  rb-minimal: left out: $RB_WHY"
	echo "  each round: alone, then every tool in turn (the order rotates), each attached run divided by the round's alone run"
	[ "$BPF_STATS" = 1 ] && echo "  kernel.bpf_stats_enabled=1 during the section (every tool's programs pay for the two clock reads per run)"
	printf '  %-9s %5s %-10s %11s %11s %7s %6s %17s %12s %7s %6s\n' kind round tool alone/s attached/s ratio drops captured/made with-result cpu% others
	for kind in $KINDS; do
		SUM_A[$kind]="" SUM_T[$kind]="" SUM_R[$kind]="" SUM_WALL[$kind]=0 BEST_RATE[$kind]=0
		SUM_DROPS[$kind]=0 SUM_CAPT[$kind]=0 SUM_N[$kind]=0 SUM_TICKS[$kind]=0 SUM_NS[$kind]=0 SUM_EV[$kind]=0
		SUM_FAIL[$kind]=0
		read -ra tools <<<"$(tools_of "$kind")"
		for r in $(seq 1 "$ROUNDS"); do
			# other tracers' processes at the round's start (shared hosts)
			others=$(($(pgrep -xc connecttop) + $(pgrep -xc bpftrace) + $(pgrep -xc tcpstates)))
			lg_run "$kind" "$(port_of "$kind")" "ctb-$kind"
			A_RATE=$LG_RATE
			SUM_A[$kind]+=" $A_RATE"
			SUM_FAIL[$kind]=$((SUM_FAIL[$kind] + LG_FAIL))
			for i in $(seq 0 $((${#tools[@]} - 1))); do
				tool=${tools[$(((i + r - 1) % ${#tools[@]}))]}
				k=$kind/$tool
				attached "$tool" "$kind" "$(port_of "$kind")" "ctb-$kind"
				RATIO=$(calc "$T_RATE / $A_RATE")
				RLIST[$k]+=" $RATIO"
				TCAPT[$k]=$((${TCAPT[$k]:-0} + CAPT)) TN[$k]=$((${TN[$k]:-0} + T_N))
				[ "$GOOD" = - ] || TGOOD[$k]=$((${TGOOD[$k]:-0} + GOOD))
				case $DROPS in
				- | '') ;;
				full | killed) TDROPS[$k]=$DROPS ;;
				*) case ${TDROPS[$k]:-} in full | killed) ;; *) TDROPS[$k]=$((${TDROPS[$k]:-0} + DROPS)) ;; esac ;;
				esac
				TTICKS[$k]=$((${TTICKS[$k]:-0} + TICKS))
				TWALL[$k]=$(calc "${TWALL[$k]:-0} + $WALL_S")
				SUM_FAIL[$kind]=$((SUM_FAIL[$kind] + FAILS))
				printf '  %-9s %5s %-10s %11.0f %11.0f %7.3f %6s %17s %12s %7.1f %6s\n' "$kind" "$r" "$(tool_name "$tool")" \
					"$A_RATE" "$T_RATE" "$RATIO" "$DROPS" "$CAPT/$T_N" "$GOOD" "$(calc "100 * $TICKS / $HZ / $WALL_S")" "$others"
				[ "$tool" = ct ] || continue
				SUM_T[$kind]+=" $T_RATE" SUM_R[$kind]+=" $RATIO"
				SUM_DROPS[$kind]=$((SUM_DROPS[$kind] + DROPS))
				SUM_CAPT[$kind]=$((SUM_CAPT[$kind] + CAPT))
				SUM_N[$kind]=$((SUM_N[$kind] + T_N))
				SUM_TICKS[$kind]=$((SUM_TICKS[$kind] + TICKS))
				SUM_NS[$kind]=$((SUM_NS[$kind] + NS))
				SUM_WALL[$kind]=$(calc "${SUM_WALL[$kind]} + $WALL_S")
				SUM_EV[$kind]=$((SUM_EV[$kind] + EVENTS))
				# events/s of a round that lost nothing (section 3)
				if [ "$DROPS" = 0 ] && [ "$CAPT" = "$T_N" ]; then
					BEST_RATE[$kind]=$(calc "$CAPT / $LG_S > ${BEST_RATE[$kind]} ? $CAPT / $LG_S : ${BEST_RATE[$kind]}")
				fi
			done
		done
	done
	echo "  summary: attached/alone, median over the $ROUNDS rounds (1.000 = no slowdown)"
	printf '  %-9s %11s %11s %11s %11s %11s\n' kind alone/s connecttop bpftrace rb-minimal tcpstates
	for kind in $KINDS; do
		row=""
		for tool in ct bt rb ts; do
			if [ -n "${RLIST[$kind/$tool]:-}" ]; then
				row+=$(printf ' %11.3f' "$(median ${RLIST[$kind/$tool]})")
			else
				row+=$(printf ' %11s' -)
			fi
		done
		printf '  %-9s %11.0f%s\n' "$kind" "$(median ${SUM_A[$kind]})" "$row"
		[ "${SUM_FAIL[$kind]}" = 0 ] || echo "  ($kind: loadgen saw ${SUM_FAIL[$kind]} connects end otherwise than asked)"
	done
	echo "  what each tool got, summed over its attached runs:"
	printf '  %-9s %-10s %8s %19s %8s %12s %7s\n' kind tool drops captured/made missing with-result cpu%
	for kind in $KINDS; do
		for tool in $(tools_of "$kind"); do
			k=$kind/$tool
			printf '  %-9s %-10s %8s %19s %8s %12s %7.1f\n' "$kind" "$(tool_name "$tool")" "${TDROPS[$k]:--}" "${TCAPT[$k]}/${TN[$k]}" \
				$((TN[$k] - TCAPT[$k])) "${TGOOD[$k]:--}" "$(calc "100 * ${TTICKS[$k]} / $HZ / ${TWALL[$k]}")"
		done
	done
	echo "  alone/s, attached/s: loadgen's (-T $THREADS) loopback connect() calls per second without / with the tool attached"
	echo "  (udp: socket + connect + close per call; udp-reuse: connect() again and again on one UDP socket per thread)"
	echo "  drops: connecttop's JSON 'drops' (ring buffer full, map full); tcpstates, rb-minimal: the events it reported lost;"
	echo "  bpftrace: 'full' when its map held $BT_KEYS keys at the end (later new keys were not counted), 'killed'"
	echo "  when it had not printed its map 30 s after SIGINT (its counts are then cut short), else '-'"
	echo "  captured/made: connects the tool counted for loadgen's comm (tcpstates: CLOSE -> SYN_SENT lines to the port)"
	echo "  / connects loadgen reported; with-result: connecttop's count with the result the load gives (refused / ok);"
	echo "  bpftrace's with connect()'s return value that load gives (-111 / 0)"
	echo "  cpu%: the tool's own CPU during the load, % of one core (/proc/PID/stat, 1/$HZ s ticks); the BPF programs"
	echo "  run in the connecting threads and show in the ratio instead; others: other tracers' processes at the round's start"
	echo
	if [ "$BPF_STATS" = 1 ]; then
		echo "== 1b. BPF run time per program during the attached runs (bpftool prog show: run_time_ns / run_cnt)"
		printf '  %-9s %-10s %-16s %9s %12s %12s\n' kind tool program ns/run runs/connect ns/connect
		for kind in $KINDS; do
			for tool in $(tools_of "$kind"); do
				k=$kind/$tool tot=0
				for name in ${BNAMES[$k]:-}; do
					c=${BCNT[$k/$name]} n=${BNS[$k/$name]}
					[ "$c" -gt 0 ] || continue
					printf '  %-9s %-10s %-16s %9.0f %12.2f %12.0f\n' "$kind" "$(tool_name "$tool")" "$name" "$(calc "$n / $c")" \
						"$(calc "$c / ${BCONN[$k]}")" "$(calc "$n / ${BCONN[$k]}")"
					tot=$((tot + n))
				done
				printf '  %-9s %-10s %-16s %9s %12s %12.0f\n' "$kind" "$(tool_name "$tool")" "(all)" "" "" "$(calc "$tot / ${BCONN[$k]}")"
			done
		done
		echo "  ns/run: mean run time of one program run; runs/connect: its runs per connect loadgen made (above 1: other"
		echo "  processes' connects and state changes on the host, or a program that runs more than once per connect)"
		echo "  ns/connect: the program's run time over loadgen's connects; (all): the tool's programs together"
		echo
	fi
	if [ "$BPF_STATS" = 1 ]; then
		sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"
		STATS_WAS=""
	fi
fi

# ---- 2. connecttop's CPU ---------------------------------------------------

if on 1 && on 2; then
	echo "== 2. connecttop's own CPU during the attached rounds' load (section 1)"
	printf '  %-9s %10s %10s %8s %11s %15s %15s\n' kind cpu-s/stat cpu-s/sched %core events/s ms/M-ev/stat ms/M-ev/sched
	tt=0 tn=0 tw=0 te=0
	row2() { # NAME TICKS NS WALL EVENTS
		local cs cn
		cs=$(calc "$2 / $HZ") cn=$(calc "$3 / 1e9")
		printf '  %-9s %10.2f %10.3f %8.1f %11.0f %15.1f %15.1f\n' "$1" "$cs" "$cn" "$(calc "100 * $cs / $4")" \
			"$(calc "$5 / $4")" "$(calc "$5 > 0 ? 1000 * $cs / ($5 / 1e6) : 0")" \
			"$(calc "$5 > 0 ? 1000 * $cn / ($5 / 1e6) : 0")"
	}
	for kind in $KINDS; do
		row2 "$kind" "${SUM_TICKS[$kind]}" "${SUM_NS[$kind]}" "${SUM_WALL[$kind]}" "${SUM_EV[$kind]}"
		tt=$((tt + SUM_TICKS[$kind])) tn=$((tn + SUM_NS[$kind])) te=$((te + SUM_EV[$kind]))
		tw=$(calc "$tw + ${SUM_WALL[$kind]}")
	done
	row2 all "$tt" "$tn" "$tw" "$te"
	echo "  cpu-s/stat: utime+stime from /proc/PID/stat over the attached rounds' load (ticks of 1/$HZ s: coarse);"
	echo "  cpu-s/sched: the same from /proc/PID/schedstat (ns); %core: cpu-s/stat over the wall time (100 = one core)"
	echo "  events/s: events connecttop received (from any process on the host) per second of load"
	echo "  ms/M-ev: connecttop's CPU milliseconds per million events received (user space only: the BPF programs"
	echo "  run in the connecting threads and show up in section 1's ratio instead)"
	echo
fi

# ---- 3. highest event rate with zero drops ----------------------------------

if on 3; then
	echo "== 3. Event rate without drops, and ring buffer size / wake-up batching at that load"
	top_kind=udp
	if on 1; then
		for kind in $KINDS; do
			[ "$(calc "${BEST_RATE[$kind]} > ${BEST_RATE[$top_kind]}")" = 1 ] && top_kind=$kind
		done
		printf '  highest events/s in a section 1 round with zero drops and every connect captured: %.0f (%s)\n' \
			"${BEST_RATE[$top_kind]}" "$top_kind"
	fi
	echo "  the same load ($top_kind, one alone/attached pair per setting):"
	printf '  %-38s %11s %11s %7s %7s %15s %8s %8s\n' "connecttop -b -o json -d 1 ..." alone/s attached/s ratio drops \
		captured/made missing ct-cpu%
	variant() {
		pair "$top_kind" "$(port_of $top_kind)" "ctb-$top_kind" "$@"
		printf '  %-38s %11.0f %11.0f %7.3f %7s %15s %8s %8.1f\n' "${*:-(defaults: 8M ring, 64K wake-up)}" "$A_RATE" \
			"$T_RATE" "$RATIO" "$DROPS" "$CAPT/$T_N" $((T_N - CAPT)) "$(pct "$NS" "$WALL_S")"
	}
	on 1 || variant
	variant --ringbuf-size "$SMALL_RB"
	for w in $WAKEUPS; do
		variant --wakeup-bytes "$w"
	done
	echo "  --ringbuf-size: the BPF ring buffer (default 8M); --wakeup-bytes: bytes queued before the BPF side wakes"
	echo "  user space (default 64K; below that, events wait for the next 1 s interval's drain)"
	echo "  (a small ring only overflows when user space falls behind: see section 4's last row)"
	echo
fi

# ---- 4. memory with many flows ----------------------------------------------

flows_run() { # MAXFLOWS RATE(0: unpaced) RINGBUF
	local max=$1 rate=$2 rb=$3 lines j h0 h1 ev=0 dr=0 ns idle flows evicted grate
	rm -f "$TMP/gate"
	mkfifo "$TMP/gate"
	if [ "$rate" = 0 ]; then
		"$FG" -s "$NFLOWS" <"$TMP/gate" >"$TMP/fg.out" 2>&1 &
	else
		"$FG" -s -r "$rate" "$NFLOWS" <"$TMP/gate" >"$TMP/fg.out" 2>&1 &
	fi
	local fgp=$!
	track $fgp
	ct_start "$TMP/fl.json" "$TMP/fl.err" -b -o json -d 1 -m 1 -p "$fgp" --max-flows "$max" --ringbuf-size "$rb"
	h0=$(vm_kb "$CT_PID" VmHWM)
	echo go >"$TMP/gate"
	wait $fgp
	untrack $fgp
	# until connecttop has taken in (or lost) every event, at most 30 s
	for _ in $(seq 1 300); do
		j=$(last_json "$TMP/fl.json")
		if [ -n "$j" ]; then
			ev=$(echo "$j" | jq -r '.events') dr=$(echo "$j" | jq -r '.drops')
			[ $((ev + dr)) -ge "$NFLOWS" ] && break
		fi
		sleep 0.1
	done
	# and one more interval, so that its snapshot of all the flows is in the peak
	lines=$(grep -c '^{' "$TMP/fl.json")
	for _ in $(seq 1 100); do
		[ "$(grep -c '^{' "$TMP/fl.json")" -gt "$lines" ] && break
		sleep 0.05
	done
	ns=$(cpu_ns "$CT_PID")
	# the cost of just holding the flows: CPU over IDLE_SECS without events
	sleep "$IDLE_SECS"
	idle=$(calc "100 * ($(cpu_ns "$CT_PID") - $ns) / 1e9 / $IDLE_SECS")
	h1=$(vm_kb "$CT_PID" VmHWM)
	ct_stop
	j=$(last_json "$TMP/fl.json")
	flows=$(echo "$j" | jq -r '.flows') evicted=$(echo "$j" | jq -r '.evicted')
	ev=$(echo "$j" | jq -r '.events') dr=$(echo "$j" | jq -r '.drops')
	grate=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' "$TMP/fg.out")
	FR_RATE=${grate:-0} FR_EV=$ev FR_DROPS=$dr FR_FLOWS=$flows FR_PEAK=$h1
	printf '  %-9s %5s %8s %9s %8s %9s %8s %10s %10s %7.0f %6.1f %7.1f\n' "$max" "$rb" "${grate:-?}" "$ev" "$dr" "$flows" "$evicted" \
		"$(mb "$h0")MB" "$(mb "$h1")MB" "$(calc "$flows > 0 ? ($h1 - $h0) * 1024 / $flows : 0")" "$(calc "$ns / 1e9")" "$idle"
}
if on 4; then
	echo "== 4. Peak RSS with $NFLOWS distinct flows (flowgen: UDP connect()s to 127.0.0.1.. x 1000 ports, no packets)"
	echo "  connecttop -b -o json -d 1 -m 1 -p FLOWGEN-PID --max-flows N (-p: only flowgen's connects are traced)"
	printf '  %-9s %5s %8s %9s %8s %9s %8s %10s %10s %7s %6s %7s\n' max-flows ring gen/s events drops flows evicted hwm-start hwm-peak \
		B/flow cpu-s idle%
	flows_run 32768 "$FLOW_RATE" 8M
	flows_run "$NFLOWS" "$FLOW_RATE" 8M
	S_FLOWS=$FR_FLOWS S_PEAK=$FR_PEAK
	if [ "$BURST" != 0 ]; then
		flows_run "$NFLOWS" 0 8M
		flows_run "$NFLOWS" 0 "$SMALL_RB"
		flows_run "$NFLOWS" "$NEWFLOW_RATE" 8M
	fi
	echo "  ring: --ringbuf-size; gen/s: flowgen's achieved connects/s, paced at $FLOW_RATE/s$([ "$BURST" = 0 ] ||
		echo ", unpaced in the last two rows (a burst of new flows)")"
	echo "  events, drops, flows, evicted: connecttop's last JSON line (flows: in the table; evicted: least recently seen, dropped)"
	echo "  hwm-start: VmHWM once attached, no flows yet; hwm-peak: VmHWM (peak RSS) after every flow and one more interval"
	echo "  B/flow: (hwm-peak - hwm-start) / flows, including the per-interval snapshot batch output takes of all flows"
	echo "  cpu-s: connecttop's CPU seconds from start until all flows were in (/proc/PID/schedstat)"
	echo "  idle%: then its CPU over $IDLE_SECS s with no new event, % of one core: the per-interval cost of the flows held"
	echo "  rss-at-flows: $(mb "$S_PEAK") MB peak RSS holding $S_FLOWS flows (--max-flows $NFLOWS, paced row)"
	[ "$BURST" = 0 ] || echo "  new-flow-burst: $FR_DROPS drops of $((FR_EV + FR_DROPS)) events at $FR_RATE new flows/s (default 8M ring; exact: events + drops = $NFLOWS)"
	# the same burst through the core code alone (no BPF, no ring): what
	# user space needs whatever rate flowgen reaches on this machine
	if [ "$BURST" != 0 ] && [ -x "$ROOT/.output/flowbench" ]; then
		echo "  core alone (tests/bench/flowbench.c, CPU time): $NFLOWS new flows at $NEWFLOW_RATE per 1 s interval, batch -m 1's work each interval"
		"$ROOT/.output/flowbench" "$NFLOWS" "$NEWFLOW_RATE" | sed 's/^/    /'
		echo "    (the 8M ring holds some 75,000 events: at ${NEWFLOW_RATE}/s the interval's work must stay below $((75000 * 1000 / NEWFLOW_RATE)) ms)"
	fi
	echo
fi

# ---- 5. start-up ------------------------------------------------------------

if on 5; then
	echo "== 5. Start-up: $STARTS starts of 'connecttop -v -b -o json -d $START_DELAY', a 'loadgen udp' connect every 10 ms"
	printf '  %6s %10s %15s %11s\n' start attach-ms first-capture-ms visible-ms
	A_MS="" F_MS="" V_MS="" mode=""
	for i in $(seq 1 "$STARTS"); do
		rm -f "$TMP/st.json" "$TMP/st.err"
		t0=$(now_us)
		"$CT" -v -b -o json -d "$START_DELAY" >"$TMP/st.json" 2>"$TMP/st.err" &
		CT_PID=$!
		track "$CT_PID"
		seen=0
		for _ in $(seq 1 500); do
			"$LG" -q -c ctb-start udp 127.0.0.1 "$P_START" 1
			if grep -q '"comm":"ctb-start"' "$TMP/st.json" 2>/dev/null; then
				seen=1
				break
			fi
			sleep 0.01
		done
		t1=$(now_us)
		ct_stop
		am=$(sed -n 's/^connecttop: attached (.*) in \([0-9.]*\) ms$/\1/p' "$TMP/st.err")
		mode=$(sed -n 's/^connecttop: attached (\(.*\)) in .*/\1/p' "$TMP/st.err")
		fm=nan vm=nan
		if [ "$seen" = 1 ]; then
			# first_seen: the kernel's time of the first captured connect (ms, UTC)
			fs=$(grep '"comm":"ctb-start"' "$TMP/st.json" | head -n 1 |
				jq -r '[.rows[] | select(.comm == "ctb-start")][0].first_seen |
					(.[0:19] + "Z" | fromdate) * 1000 + (.[20:23] | tonumber)')
			fm=$(calc "$fs - $t0 / 1000")
			vm=$(calc "($t1 - $t0) / 1000")
		fi
		A_MS+=" ${am:-nan}" F_MS+=" $fm" V_MS+=" $vm"
		printf '  %6s %10s %15.0f %11.0f\n' "$i" "${am:-?}" "$fm" "$vm"
	done
	printf '  %6s %10.1f %15.0f %11.0f   (mode: %s)\n' median "$(median $A_MS)" "$(median $F_MS)" "$(median $V_MS)" "${mode:-?}"
	echo "  attach-ms: connecttop's own 'attached (MODE) in X ms' on stderr (BPF open, load, attach, ring buffer mapped)"
	echo "  first-capture-ms: exec to the kernel time of the first loadgen connect captured (10 ms polling, 1 ms clock)"
	echo "  visible-ms: exec until that connect was in a JSON line (adds up to one -d $START_DELAY interval)"
	echo "  as a wrapper sees it (tests/bench/launch.c): fork+exec until attached, then 0.2 s, SIGINT until exit"
	printf '  %-10s %6s %10s %8s %s\n' tool starts ready-ms exit-ms statuses
	launch_row() { # NAME LAUNCH-ARGS...
		local name=$1 out rs="" es="" sts="" i
		shift
		for i in $(seq 1 "$STARTS"); do
			out=$("$LAUNCH" -h 200 "$@")
			rs+=" $(echo "$out" | sed -n 's/.*ready_ms=\([^ ]*\).*/\1/p')"
			es+=" $(echo "$out" | sed -n 's/.*exit_ms=\([^ ]*\).*/\1/p')"
			sts+=" $(echo "$out" | sed -n 's/.*status=\([^ ]*\).*/\1/p')"
		done
		printf '  %-10s %6s %10.1f %8.1f %s\n' "$name" "$STARTS" "$(median $rs)" "$(median $es)" "$(echo "$sts" | tr ' ' '\n' | grep . |
			sort | uniq -c | awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}')"
	}
	launch_row connecttop 'connecttop: attached' "$CT" -v -b -o json -d 1
	[ -z "$BT" ] || launch_row bpftrace ready env BPFTRACE_MAP_KEYS_MAX=$BT_KEYS "$BT" "$TMP/peer.bt"
	[ -z "$RB" ] || launch_row rb-minimal ready "$RB" "$RB.bpf.o"
	[ -z "$TS" ] || launch_row tcpstates -l anon_inode:bpf_link "$TS"
	echo "  ready-ms: connecttop: its 'attached' line; bpftrace: its BEGIN probe's line (after every probe is attached);"
	echo "  tcpstates: it holds its bpf_link (attached; its header is block-buffered); medians; statuses: exit codes"
	echo
fi

# ---- 6. view work with 100,000 flows ----------------------------------------
# The view's refresh (a snapshot of the table, once per interval) and the rows
# it derives when a key changes the sort, view or filter; drawing itself only
# touches the rows on screen.
if on 6; then
	echo "== 6. view work with 100,000 flows (tests/bench/viewbench.c, the real core code)"
	"$ROOT/.output/viewbench" 100000 | sed 's/^/  /'
	echo
fi

# ---- 7. the real screen with 100,000 flows -----------------------------------
# connecttop in a tmux pane (120x50, xterm-256color, UTF-8) holding
# SCREEN_FLOWS flows; the views are switched and sorted with keys while the
# intervals go by. The tool times each refresh itself (the hidden --timing-file):
# "tick" is an interval's refresh (snapshot brought up to date, rows
# derived, screen drawn and written to the terminal), "key" the redraw after
# a key. Once with the flows idle and a little traffic, once with flowgen
# making a connect to every flow again and again (every row changes).
TM() { tmux -S "$TMP/tmux.sock" -f /dev/null "$@"; }
screen_flows() { TM capture-pane -p -t bench 2>/dev/null | sed -n 's/.*flows [0-9]*\/\([0-9]*\).*/\1/p' | head -n 1; }
screen_run() { # LABEL BUSY(0: idle flows, 1: every flow keeps getting connects)
	local label=$1 busy=$2 i n busyp="" t
	rm -f "$TMP/timing"
	TM kill-server 2>/dev/null
	TM new-session -d -s bench -x 120 -y 50 env -i PATH="$PATH" TERM=xterm-256color LANG=C.UTF-8 \
		"$CT" --timing-file "$TMP/timing" -d 1 --max-flows $((SCREEN_FLOWS + 10000)) || die "tmux failed"
	for _ in $(seq 1 250); do [ -n "$(screen_flows)" ] && break; sleep 0.02; done
	"$FG" -p 40000 "$SCREEN_FLOWS" >"$TMP/fg.out" 2>&1
	for _ in $(seq 1 100); do
		n=$(screen_flows)
		[ "${n:-0}" -ge "$SCREEN_FLOWS" ] && break
		sleep 0.1
	done
	if [ "$busy" = 1 ]; then
		(while :; do "$FG" -p 40000 "$SCREEN_FLOWS" >/dev/null 2>&1; done) &
		busyp=$!
		track "$busyp"
	else
		(while :; do "$LG" -q -c ctb-screen refuse 127.0.0.1 "$P_REFUSE" 20; sleep 0.1; done) >/dev/null 2>&1 &
		busyp=$!
		track "$busyp"
	fi
	# the four views, each sorted a few ways, over about 12 intervals
	for k in 1 2 3 4; do
		TM send-keys -t bench "$k"
		sleep 1
		for t in '>' '>' '<' '<'; do
			TM send-keys -t bench "$t"
			sleep 0.4
		done
		TM send-keys -t bench Down Down Up
		sleep 0.5
	done
	TM send-keys -t bench q
	for _ in $(seq 1 250); do [ -s "$TMP/timing" ] && break; sleep 0.02; done
	if [ -n "$busyp" ]; then
		kill "$busyp" 2>/dev/null
		pkill -f "^$FG -p 40000" 2>/dev/null
		wait "$busyp" 2>/dev/null
		untrack "$busyp"
	fi
	TM kill-server 2>/dev/null
	[ -s "$TMP/timing" ] || { echo "  $label: no timing written"; return; }
	while read -r what cnt p50 p90 max rows; do
		printf '  %-22s %-5s %6s %8s %8s %8s %8s\n' "$label" "$what" "$cnt" "$p50" "$p90" "$max" "$rows"
	done <"$TMP/timing"
}
if on 7; then
	echo "== 7. The screen with $SCREEN_FLOWS flows: connecttop in tmux 120x50, views 1-4 and sorts switched by keys"
	printf '  %-22s %-5s %6s %8s %8s %8s %8s\n' flows refresh count p50-ms p90-ms max-ms flows
	screen_run "idle, light traffic" 0
	screen_run "all busy (flowgen loop)" 1
	echo "  tick: an interval's refresh (snapshot brought up to date, rows derived, screen drawn and"
	echo "  written to the terminal); key: the redraw after a key (rows derived again, screen drawn);"
	echo "  prep: after a tick's screen is out, a grouping not shown derived aside (one per tick, when it"
	echo "  is not up to date) so that switching to it only orders it: it delays a key typed meanwhile"
	echo "  flows: the most flows in a snapshot while timed; times measured by connecttop itself"
	echo
fi

# ---- 8. the ring buffer's cost -----------------------------------------------
# connecttop idle with each --ringbuf-size: the address space it maps, what
# of it is resident once attached, and the time from exec to attached
if on 8; then
	echo "== 8. --ringbuf-size costs: connecttop -v -b -o json -d 1 --ringbuf-size S, idle, 3 starts each"
	printf '  %-6s %10s %10s %10s\n' size mapped-MB rss-MB attach-ms
	for rb in $RINGBUFS; do
		ms="" vs="" rs=""
		for _ in 1 2 3; do
			t0=$(now_us)
			ct_start "$TMP/rb.json" "$TMP/rb.err" -b -o json -d 1 --ringbuf-size "$rb"
			t1=$(now_us)
			ms+=" $(calc "($t1 - $t0) / 1000")"
			vs+=" $(vm_kb "$CT_PID" VmSize)" rs+=" $(vm_kb "$CT_PID" VmRSS)"
			ct_stop
		done
		printf '  %-6s %10.1f %10.1f %10.0f\n' "$rb" "$(calc "$(median $vs) / 1024")" "$(calc "$(median $rs) / 1024")" "$(median $ms)"
	done
	echo "  mapped-MB: VmSize once attached (the ring is mapped twice over, for records that wrap);"
	echo "  rss-MB: VmRSS then; attach-ms: exec until its 'attached' line (20 ms polling), medians"
	echo
fi

# ---- 9. the DNS capture's cost on a host that does no DNS ---------------------
# Every received IPv4 packet passes connecttop's AF_PACKET filter (loopback's
# too): a recv-heavy server pays that per packet, nothing else
if on 9; then
	P_STORM=$((P_START + 1))
	echo "== 9. DNS capture on a host that does no DNS: a loopback UDP recv storm (udpstorm: one thread, $STORM_BYTES-byte datagrams to itself on port $P_STORM)"
	echo "  a) the capture's socket made by udpstorm itself every other 20 ms slice, armed (-c) or made and disarmed (-i:"
	echo "     bound to no protocol, as connecttop's idle capture), $ROUNDS runs of $((SECS * 2)) s each"
	printf '  %-6s %10s %10s %8s %9s   %10s %10s %8s %9s\n' run off-ns armed-ns +ns rate-a/off off-ns idle-ns +ns rate-i/off
	C_D="" RT="" I_D="" IT=""
	storm_ab() { # -c or -i: "OFF-NS ON-NS RATIO"
		"$STORM" "$1" "$P_STORM" $((SECS * 2)) "$STORM_BYTES" |
			sed -n 's/.*ratio=\([0-9.]*\) off_cpu_ns=\([0-9.]*\) on_cpu_ns=\([0-9.]*\).*/\2 \3 \1/p'
	}
	for i in $(seq 1 "$ROUNDS"); do
		read -r off on r <<<"$(storm_ab -c)"
		read -r ioff ion ir <<<"$(storm_ab -i)"
		C_D+=" $(calc "$on - $off")" RT+=" $r" I_D+=" $(calc "$ion - $ioff")" IT+=" $ir"
		printf '  %-6s %10.0f %10.0f %8.0f %9.3f   %10.0f %10.0f %8.0f %9.3f\n' "$i" "$off" "$on" \
			"$(calc "$on - $off")" "$r" "$ioff" "$ion" "$(calc "$ion - $ioff")" "$ir"
	done
	printf '  %-6s %10s %10s %8.0f %9.3f   %10s %10s %8.0f %9.3f\n' median "" "" "$(median $C_D)" "$(median $RT)" \
		"" "" "$(median $I_D)" "$(median $IT)"
	echo "  b) connecttop started around each run: alone, --no-dns, capturing (--dns-idle 0: always armed),"
	echo "     idle (--dns-idle 1, run once it says capturing false: the default 60 s after the last lookup); $ROUNDS rounds of $SECS s"
	printf '  %-6s %10s %10s %10s %10s %9s %9s %9s\n' round alone-ns no-dns-ns dns-ns idle-ns no-dns/a dns/a idle/a
	N_A="" N_N="" N_D="" N_I="" R_N="" R_D="" R_I="" dns_seen="" idle_seen=""
	# "CPU-NS-PER-DATAGRAM DATAGRAMS-PER-S"
	storm_run() { "$STORM" "$P_STORM" "$SECS" "$STORM_BYTES" | sed -n 's/.*per_s=\([0-9.]*\).*cpu_ns_each=\([0-9.]*\).*/\2 \1/p'; }
	st9_idle() { last_json "$TMP/st9.json" 2>/dev/null | jq -e '.dns.capturing == false' >/dev/null 2>&1; }
	for i in $(seq 1 "$ROUNDS"); do
		read -r a ra <<<"$(storm_run)"
		ct_start "$TMP/st9.json" "$TMP/st9.err" -b -o json -d 1 --no-dns
		read -r n rn <<<"$(storm_run)"
		ct_stop
		ct_start "$TMP/st9.json" "$TMP/st9.err" -b -o json -d 1 --dns-idle 0
		read -r d rd <<<"$(storm_run)"
		ct_stop
		dns_seen=$(last_json "$TMP/st9.json" | jq -r '.dns.capturing')
		ct_start "$TMP/st9.json" "$TMP/st9.err" -b -o json -d 0.2 --dns-idle 1
		for _ in $(seq 1 50); do st9_idle && break; sleep 0.1; done
		read -r k rk <<<"$(storm_run)"
		idle_seen=$(last_json "$TMP/st9.json" | jq -r '.dns.capturing')
		ct_stop
		N_A+=" $a" N_N+=" $n" N_D+=" $d" N_I+=" $k"
		R_N+=" $(calc "$rn / $ra")" R_D+=" $(calc "$rd / $ra")" R_I+=" $(calc "$rk / $ra")"
		printf '  %-6s %10.0f %10.0f %10.0f %10.0f %9.3f %9.3f %9.3f\n' "$i" "$a" "$n" "$d" "$k" \
			"$(calc "$rn / $ra")" "$(calc "$rd / $ra")" "$(calc "$rk / $ra")"
	done
	printf '  %-6s %10.0f %10.0f %10.0f %10.0f %9.3f %9.3f %9.3f\n' median "$(median $N_A)" "$(median $N_N)" \
		"$(median $N_D)" "$(median $N_I)" "$(median $R_N)" "$(median $R_D)" "$(median $R_I)"
	echo "  (capturing at the end of the dns runs: $dns_seen; of the idle runs: $idle_seen)"
	echo "  */a: datagrams per wall second over the same round's alone run"
	echo "  *-cpu-ns, *-ns: the storm thread's CPU time per datagram sent and received (CLOCK_THREAD_CPUTIME_ID; loopback's"
	echo "  receive path runs in its softirq); rate-on/off: datagrams per wall second, capture open over closed"
	echo "  kernel.bpf_stats_enabled=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null) (1 adds a clock read to every filter run)"
	echo
fi

echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); total $((SECONDS / 60))m$((SECONDS % 60))s"
