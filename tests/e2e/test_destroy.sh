#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Nothing stays pending once its socket is gone. A connect counted as
# pending gets its outcome from its socket's state change out of SYN_SENT;
# when that run is skipped (the kernel does not nest a program in its own
# run on one CPU) or cannot take the entry, the socket's destruction
# (tcp:tcp_destroy_sock) settles it, and a connect() that returns the result
# on that very socket (restarted after a signal, or called again to poll)
# gives it. Here the resolution is made to miss on purpose for one port
# (--test-skip-resolution: the state changes and error reports of sockets to
# it are passed by), in a private namespace where SYNs to it go unanswered
# (each socket has TCP_SYNCNT 1: timed out after 3 s):
#  - "ab": 10 non-blocking connects closed in SYN_SENT: abandoned, no errno
#  - "to": 10 left to time out, closed without reading the error: the
#    kernel's ETIMEDOUT, still on the socket at its destroy
#  - "rd": 10 left to time out whose SO_ERROR is read, the sockets kept
#    open meanwhile: the ETIMEDOUT the application read, settled at the read
#    (a socket found closed there had its state change unseen)
#  - "rp": 5 non-blocking connects polled with connect() again until it
#    returns ETIMEDOUT, the sockets kept open meanwhile
#  - "rs": 5 blocking connects restarted by the kernel after a signal
#    (SA_RESTART), which return ETIMEDOUT, the sockets kept open meanwhile
# Each counted once with its result, none pending, none left in the map;
# outcomes_at_destroy counts the destroys and the reads that settled one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
need_bpf
need_tools ip nft bpftool python3 perl jq

ns_create || exit 1
P=7020
ns_nft "
table inet cttest {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport $P drop
	}
}" || exit 1

TAG=ds$(printf %04d $(($$ % 10000)))
OUT=$T_TMP/out.json ERR=$T_TMP/err
ct_start "$OUT" "$ERR" -b -o json -d 0.5 -f "$TAG" --test-skip-resolution $P || exit 1
SOCKS=$(map_id socks)
[ -n "$SOCKS" ] || { fail "map socks found" "no map socks in connecttop $CT_PID"; exit 1; }

# nb NAME MODE N: N non-blocking connects that stay in SYN_SENT, then
#   ab  closed at once
#   to  closed once timed out
#   rd  SO_ERROR read once timed out (ETIMEDOUT); closed once DONE exists
#   rp  connect() again every 50 ms until it returns ETIMEDOUT; closed once
#       DONE exists (at most 60 s)
nb() {
	# shellcheck disable=SC2016
	ip netns exec "$CT_NS" python3 -c '
import errno, os, socket, sys, time
name, mode, n, port, done = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
with open("/proc/self/comm", "w") as f:
    f.write(name)
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)
    if s.connect_ex(("127.0.0.1", port)) != errno.EINPROGRESS:
        sys.exit(name + ": connect did not return EINPROGRESS")
    socks.append(s)
if mode in ("to", "rd"):
    time.sleep(4.5)
for s in socks:
    if mode == "rd":
        e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if e != errno.ETIMEDOUT:
            sys.exit("%s: SO_ERROR %d, expected ETIMEDOUT" % (name, e))
    if mode == "rp":
        end = time.monotonic() + 10
        e = errno.EALREADY
        while e == errno.EALREADY and time.monotonic() < end:
            time.sleep(0.05)
            e = s.connect_ex(("127.0.0.1", port))
        if e != errno.ETIMEDOUT:
            sys.exit("%s: connect again: %d, expected ETIMEDOUT" % (name, e))
if mode in ("rp", "rd"):
    end = time.monotonic() + 60
    while not os.path.exists(done) and time.monotonic() < end:
        time.sleep(0.05)
for s in socks:
    s.close()
' "$1" "$2" "$3" "$P" "$T_TMP/done" || fail "client $2" "helper failed"
}
# rs NAME: one blocking connect, interrupted by SIGALRM after 0.2 s with a
# handler installed with SA_RESTART: the kernel restarts the connect(),
# which returns ETIMEDOUT; the socket closed once DONE exists
rs() {
	# shellcheck disable=SC2016
	ip netns exec "$CT_NS" perl -e '
use strict; use warnings;
use Socket qw(PF_INET SOCK_STREAM IPPROTO_TCP pack_sockaddr_in inet_aton);
use Errno qw(ETIMEDOUT);
use POSIX ();
use Time::HiRes qw(ualarm sleep time);
my ($name, $port, $done) = @ARGV;
$0 = $name;
POSIX::sigaction(POSIX::SIGALRM(), POSIX::SigAction->new(sub { }, POSIX::SigSet->new(),
	POSIX::SA_RESTART())) or die "$name: sigaction: $!\n";
socket(my $s, PF_INET, SOCK_STREAM, 0) or die "$name: socket: $!\n";
setsockopt($s, IPPROTO_TCP, 7, pack("i", 1)) or die "$name: TCP_SYNCNT: $!\n";
ualarm(200000);
connect($s, pack_sockaddr_in($port, inet_aton("127.0.0.1"))) and die "$name: connect succeeded\n";
$! == ETIMEDOUT or die "$name: restarted connect: $!, expected ETIMEDOUT\n";
my $end = time + 60;
sleep 0.05 while !-e $done && time < $end;
close $s;
' "$1" "$P" "$T_TMP/done" || fail "client rs" "helper failed"
}
pids=()
bgrun() {
	"$@" &
	pids+=($!)
	T_PIDS="$T_PIDS $!"
}
bgrun nb "${TAG}ab" ab 10
bgrun nb "${TAG}to" to 10
bgrun nb "${TAG}rd" rd 10
bgrun nb "${TAG}rp" rp 5
for _ in 1 2 3 4 5; do bgrun rs "${TAG}rs"; done

row() { rowsum "$OUT" "$TAG$2" "$1"; }
pending() { last_json "$OUT" | jq --arg c "$TAG$1" '[.rows[] | select(.comm == $c) | .results.pending] | add // "none"'; }
settled() { # CASE N: counted N times with none pending (at most 15 s)
	for _ in $(seq 1 75); do
		[ "$(row .count "$1")" = "$2" ] && [ "$(pending "$1")" = 0 ] && return 0
		sleep 0.2
	done
	return 1
}
# the connect()s of rp and rs have returned, their sockets are still open:
# what settled them is the connect() that returned the result
settled rp 5
settled rs 5
settled rd 10
check "rp: settled while its sockets are open, by the connect() that returned the result" 0 "$(pending rp)"
check "rs: settled while its sockets are open, by the restarted connect()" 0 "$(pending rs)"
check "rd: settled while its sockets are open, by the read of SO_ERROR" 0 "$(pending rd)"
touch "$T_TMP/done"
wait "${pids[@]}"
for c in ab to; do settled "$c" 10; done
sleep 0.6
left=$(bpftool map dump id "$SOCKS" -j 2>/dev/null | jq --arg p "$TAG" '[unique_by(.key) | .[] | select(.formatted.value.ev.comm // "" | startswith($p))] | length')
ct_stop
check "none of this test's entries left in the map" 0 "$left"

for c in ab:10 to:10 rd:10 rp:5 rs:5; do
	m=${c%:*} n=${c#*:}
	check "$m: counted once" "$n" "$(row .count "$m")"
	check "$m: none left pending" 0 "$(row .results.pending "$m")"
	[ "$m" = ab ] && continue
	check "$m: timeout" "$n" "$(row .results.timeout "$m")"
	check "$m: errors.ETIMEDOUT" "$n" "$(row .errors.ETIMEDOUT "$m")"
done
check "ab: abandoned" 10 "$(row .results.abandoned ab)"
check "ab: no errno" '{}' "$(last_json "$OUT" | jq -c --arg c "${TAG}ab" '[.rows[] | select(.comm == $c) | .errors] | add // {}')"
# (host-wide: another socket's missed resolution may add to it)
check_num "outcomes_at_destroy: ab, to and rd at least" '. >= 30' "$(last_json "$OUT" | jq .outcomes_at_destroy)"
