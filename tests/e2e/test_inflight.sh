#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Connects in flight, seen while they wait, in a private network namespace
# where nftables drops the SYNs to some ports:
#  - blocking connects to a black-holed port (loadgen, one per thread, and
#    python's socket.connect): every interval while they wait shows exactly
#    that many pending, with the age of the oldest growing by the interval;
#    then each is counted once, with its ETIMEDOUT, and none left pending
#  - non-blocking ones to the same port, the same
#  - TCP Fast Open by sendto(MSG_FASTOPEN) (python, to a python server):
#    counted once each, ok; to a closed port, refused
#  - TCP_FASTOPEN_CONNECT with a cookie to a dropped port: connect()
#    returns 0 before any SYN: pending, then timed out (not ok)
#  - connect(AF_UNSPEC) on a UDP socket (a "disconnect"): not counted
# ~12 s. CT_INFLIGHT_ARGS: more options (test_inflight_hash.sh:
# --no-task-storage). CT_TEST_KEEP=FILE keeps connecttop's JSON output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
need_bpf
need_tools ip nft jq python3

ns_create || exit 1
P_BH=7101 P_TFO=7102 P_CLOSED=7103 P_BH2=7104
ns_nft "
table inet cttest {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport { $P_BH, $P_BH2 } drop
	}
}" || exit 1
# TFO client and server (bits 1 and 2): the namespace's own sysctl
ns_exec sysctl -qw net.ipv4.tcp_fastopen=3 || { fail "tcp_fastopen=3 in the namespace" "sysctl failed"; exit 1; }

TAG=if$(printf %04d $(($$ % 10000)))
N_BLK=4 N_NB=3 N_PY=3 N_TFO=5 N_TFOREF=2 N_FOC=2 N_UNS=5
SYNCNT=2 # SYNs at 0, 1 and 3 s: given up 7 s after connect()

OUT=$T_TMP/out.json ERR=$T_TMP/err
# shellcheck disable=SC2086
ct_start "$OUT" "$ERR" -b -o json -d 1 -f "$TAG" ${CT_INFLIGHT_ARGS:-} || exit 1

# the TFO server: answers each request with an HTTP 200
ns_exec python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_TCP, 23, 16) # TCP_FASTOPEN
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
open(sys.argv[2], "w").close()
while True:
    c, _ = s.accept()
    c.recv(1024)
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
    c.close()
' $P_TFO "$T_TMP/tfo-ready" &
SERVER=$!
T_PIDS="$T_PIDS $SERVER"
for _ in $(seq 1 100); do [ -e "$T_TMP/tfo-ready" ] && break; sleep 0.05; done

# py NAME SCRIPT ARGS...: python in the namespace under the process name NAME
py() {
	local name=$1
	shift
	ns_exec python3 -c "import ctypes; ctypes.CDLL(None).prctl(15, b'$name', 0, 0, 0)
$1" "${@:2}"
}

pids=()
bg() {
	"$@" &
	pids+=($!)
	T_PIDS="$T_PIDS $!"
}
t0=$(date +%s%N)
bg lgns -c "${TAG}blk" -T $N_BLK -S $SYNCNT timeout 127.0.0.1 $P_BH $N_BLK
bg lgns -c "${TAG}nb" -T $N_NB -N -w 10000 -S $SYNCNT timeout 127.0.0.1 $P_BH $N_NB
# python: blocking connects (no timeout), one thread each
bg py "${TAG}py" '
import socket, sys, threading
bad = []
def one():
    s = socket.socket()
    s.setsockopt(socket.IPPROTO_TCP, 7, int(sys.argv[3])) # TCP_SYNCNT
    try:
        s.connect(("127.0.0.1", int(sys.argv[1])))
        bad.append("connected")
    except TimeoutError:
        pass
    except OSError as e:
        bad.append(str(e))
th = [threading.Thread(target=one) for _ in range(int(sys.argv[2]))]
[t.start() for t in th]
[t.join() for t in th]
sys.exit("python blocking connects: %s" % bad if bad else 0)
' $P_BH $N_PY $SYNCNT || fail "python blocking connects" "helper failed"
# TCP Fast Open: requests by sendto(MSG_FASTOPEN), one after the other (the
# first gets the cookie, the others send their data in the SYN); then to a
# closed port; then TCP_FASTOPEN_CONNECT (the cookie of 127.0.0.1 is known
# by then) to a dropped port: connect() returns 0, the SYN goes with send()
tfo() {
	py "${TAG}tfo" '
import socket, sys
port, n, closed, nref = map(int, sys.argv[1:5])
for _ in range(n):
    s = socket.socket()
    s.sendto(b"GET / HTTP/1.0\r\n\r\n", socket.MSG_FASTOPEN, ("127.0.0.1", port))
    r = s.recv(100)
    assert r.startswith(b"HTTP/1.0 200"), r
    s.close()
for _ in range(nref):
    s = socket.socket()
    try:
        s.sendto(b"x", socket.MSG_FASTOPEN, ("127.0.0.1", closed))
        sys.exit("TFO to a closed port: sent")
    except ConnectionRefusedError:
        pass
    s.close()
' $P_TFO $N_TFO $P_CLOSED $N_TFOREF || fail "TFO requests" "helper failed"
	py "${TAG}foc" '
import socket, sys
port, n = map(int, sys.argv[1:3])
for _ in range(n):
    s = socket.socket()
    s.setsockopt(socket.IPPROTO_TCP, 30, 1) # TCP_FASTOPEN_CONNECT
    s.setsockopt(socket.IPPROTO_TCP, 7, 1) # TCP_SYNCNT: 3 s
    s.connect(("127.0.0.1", port)) # 0 at once: the SYN waits for data
    try:
        s.send(b"x")
        sys.exit("TFO connect to a dropped port: sent")
    except TimeoutError:
        pass
    s.close()
' $P_BH2 $N_FOC || fail "TFO connects" "helper failed"
}
bg tfo
bg lgns -c "${TAG}uns" -U udp 127.0.0.1 9 $N_UNS
wait "${pids[@]}"
kill "$SERVER"
wait "$SERVER" 2>/dev/null
sleep 1.2 # one more interval: the last outcomes are in it
rc=0
ct_stop || rc=$?
check "exit status 0 on SIGINT" 0 "$rc"
check "nothing on stderr but the attach line" "" "$(ct_stderr_extra "$ERR")"

# waits COMM N: the lines while COMM's connects were in flight show exactly
# N pending (never more), at least 4 of them (7 s of waiting, 1 s lines),
# the age of the oldest growing by about an interval from one to the next
waits() {
	local c=$TAG$1 n=$2 lines
	lines=$(jq -c --arg c "$c" '[.rows[] | select(.comm == $c)] | select(length > 0) |
		{p: (map(.results.pending) | add), age: (map(.pending_oldest_s // empty) | min)}' "$OUT")
	check_num "$1: intervals with all $n in flight, each with its age" ". >= 4" \
		"$(jq -s --argjson n "$n" '[.[] | select(.p == $n and .age != null)] | length' <<<"$lines")"
	check "$1: never more than $n in flight" true "$(jq -s --argjson n "$n" 'map(.p) | max <= $n' <<<"$lines")"
	check "$1: a pending row always has its age" true "$(jq -s 'all(.[]; .p == 0 or .age != null)' <<<"$lines")"
	check "$1: the age grows by about an interval" true "$(jq -s --argjson n "$n" '[.[] | select(.p == $n) | .age] |
		. as $a | [range(1; length) | $a[.] - $a[. - 1]] | all(. > 0.5 and . < 1.6)' <<<"$lines")"
	check_num "$1: the oldest age seen is below the 7 s wait" ". < 7.5" \
		"$(jq -s 'map(.age // 0) | max' <<<"$lines")"
	echo "note: $1: pending/age per interval: $(jq -s -c 'map([.p, .age])' <<<"$lines")"
}
row() { rowsum "$OUT" "$TAG$2" "$1"; }
outcome() { # CASE N CLASS [ERRNO]
	local c=$1 n=$2 cls=$3 e=${4:-}
	check "$c: counted once" "$n" "$(row .count "$c")"
	check "$c: results.$cls" "$n" "$(row ".results.$cls" "$c")"
	check "$c: none left pending" 0 "$(row .results.pending "$c")"
	check "$c: no age once none is in flight" null "$(last_json "$OUT" | jq --arg c "$TAG$c" '[.rows[] | select(.comm == $c) | .pending_oldest_s] | first')"
	if [ -n "$e" ]; then check "$c: errors.$e" "$n" "$(row ".errors.$e" "$c")"; fi
}
waits blk $N_BLK
waits nb $N_NB
waits py $N_PY
outcome blk $N_BLK timeout ETIMEDOUT
outcome nb $N_NB timeout ETIMEDOUT
outcome py $N_PY timeout ETIMEDOUT
# a blocking connect keeps its handshake time: 7 s in SYN_SENT, not shown
# (a timeout's), and its pid
check "blk: the pid of the connect" true "$(last_json "$OUT" | jq --arg c "${TAG}blk" '[.rows[] | select(.comm == $c) | .pid > 0] | all')"
# TFO by sendto: counted once each, with its outcome
check "tfo: counted once (ok + refused)" $((N_TFO + N_TFOREF)) "$(row .count tfo)"
check "tfo: results.ok" $N_TFO "$(last_json "$OUT" | jq --arg c "${TAG}tfo" "[.rows[] | select(.comm == \$c and .dport == $P_TFO) | .results.ok] | add // 0")"
check "tfo: results.refused" $N_TFOREF "$(last_json "$OUT" | jq --arg c "${TAG}tfo" "[.rows[] | select(.comm == \$c and .dport == $P_CLOSED) | .results.refused] | add // 0")"
check "tfo: none left pending" 0 "$(row .results.pending tfo)"
check "tfo: with its handshake time" true "$(last_json "$OUT" | jq --arg c "${TAG}tfo" "[.rows[] | select(.comm == \$c and .dport == $P_TFO) | .lat_max_us != null] | length > 0 and all")"
outcome foc $N_FOC timeout ETIMEDOUT
outcome uns $N_UNS ok
check "uns: the AF_UNSPEC calls make no row of their own" 1 "$(last_json "$OUT" | jq --arg c "${TAG}uns" '[.rows[] | select(.comm == $c)] | length')"
check "drops == 0 on every line" 0 "$(jq -s 'map(.drops) | max' "$OUT")"
echo "note: $(awk -v ns=$(($(date +%s%N) - t0)) 'BEGIN { printf "%.1f", ns / 1e9 }') s of load"
if [ -n "${CT_TEST_KEEP:-}" ]; then cp "$OUT" "$CT_TEST_KEEP"; fi
