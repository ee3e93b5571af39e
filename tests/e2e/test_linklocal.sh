#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# IPv6 link-local destinations keep their interface: the same fe80::1 behind
# two interfaces is two flows, fe80::1%c0 and fe80::1%c1, in JSON, CSV, the
# table and Prometheus; the scope comes from the caller's sin6_scope_id (UDP,
# a refused TCP connect) as python passes it. A client namespace holds c0
# and c1, veth pairs to a server namespace where fe80::1 is on both peers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
need_bpf
need_tools python3 jq ip
ns_create || exit 1
SRV=ct-test-srv-$$
srv_cleanup() { ip netns del "$SRV" 2>/dev/null; }
t_on_exit srv_cleanup
if ! err=$({ ip netns add "$SRV" &&
	ip -n "$SRV" link set lo up &&
	for i in 0 1; do
		ip -n "$CT_NS" link add "c$i" type veth peer name "s$i" netns "$SRV" &&
			ip -n "$CT_NS" link set "c$i" up &&
			ip -n "$SRV" link set "s$i" up &&
			ip -n "$CT_NS" -6 addr add "fe80::2/64" dev "c$i" nodad &&
			ip -n "$SRV" -6 addr add "fe80::1/64" dev "s$i" nodad || exit 1
	done; } 2>&1); then
	fail "two veth pairs between test namespaces" "$err"
	exit 1
fi
P=$(port_base)

# connecttop in the client's namespace: the names of c0 and c1 are its own
start_in_ns() { # OUT ERR ARGS...
	local out=$1 err=$2
	shift 2
	ip netns exec "$CT_NS" "$CONNECTTOP" -v "$@" >"$out" 2>"$err" &
	CT_PID=$!
	t_track "$CT_PID"
	ct_wait_attached "$err" "$CT_PID" 10 ||
		{ fail "connecttop attaches in the namespace" "$(tail -3 "$err")"; exit 1; }
}
start_in_ns "$T_TMP/ll.json" "$T_TMP/ll.err" -b -o json -d 1 -P "$P"
J_PID=$CT_PID
start_in_ns "$T_TMP/ll.csv" "$T_TMP/llc.err" -b -o csv -d 1 -P "$P"
C_PID=$CT_PID
start_in_ns "$T_TMP/ll.txt" "$T_TMP/llt.err" -b -o table -d 1 -P "$P"
X_PID=$CT_PID
start_in_ns "$T_TMP/ll.prom" "$T_TMP/llp.err" -b -o prom -d 1 -P "$P"
R_PID=$CT_PID
# the other way of stashing a call: a hash by tid and the raw syscalls
start_in_ns "$T_TMP/llh.json" "$T_TMP/llh.err" --no-task-storage --raw-syscalls -b -o json -d 1 -P "$P"
H_PID=$CT_PID

# a real client: python's socket module, its own comm, the scope by name
ns_exec python3 - "$P" <<'PY' || fail "python client" "a connect ended otherwise than expected"
import socket, sys
open("/proc/self/comm", "w").write("llclient")
port = int(sys.argv[1])
def addr(dev, kind):
    # as clients do: getaddrinfo() turns %c0 into the sockaddr's scope id
    return socket.getaddrinfo("fe80::1%" + dev, port, socket.AF_INET6, kind)[0][4]
def tcp(dev, n):
    for _ in range(n):
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            s.connect(addr(dev, socket.SOCK_STREAM))
            sys.exit("connected: nothing listens there")
        except ConnectionRefusedError:
            pass
        s.close()
tcp("c0", 3)
tcp("c1", 5)
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
for _ in range(4):
    u.connect(addr("c0", socket.SOCK_DGRAM))
PY
# each output has written an interval with all 12 connects
t_wait 10 sh -c "tail -n 1 '$T_TMP/ll.json' | jq -e '[.rows[] | select(.comm == \"llclient\") | .count] | add == 12' >/dev/null" ||
	fail "the 12 connects counted" "$(tail -n 1 "$T_TMP/ll.json" | head -c 600)"
sleep 1.2
for p in $J_PID $C_PID $X_PID $R_PID $H_PID; do kill -INT "$p"; done
for p in $J_PID $C_PID $X_PID $R_PID $H_PID; do wait "$p" || fail "exit status of $p" "not 0"; done

for f in ll llh; do
	rows=$(last_json "$T_TMP/$f.json" | jq -c '[.rows[] | select(.comm == "llclient") | {daddr, proto, count, refused: .results.refused}] | sort_by(.daddr, .proto)')
	check "JSON ($f): one flow per interface and protocol" \
		'[{"daddr":"fe80::1%c0","proto":"tcp","count":3,"refused":3},{"daddr":"fe80::1%c0","proto":"udp","count":4,"refused":0},{"daddr":"fe80::1%c1","proto":"tcp","count":5,"refused":5}]' \
		"$rows"
done
for d in c0 c1; do
	grep -q "llclient.*,fe80::1%$d," "$T_TMP/ll.csv" && pass "CSV: fe80::1%$d" ||
		fail "CSV: fe80::1%$d" "$(grep llclient "$T_TMP/ll.csv" | tail -3)"
done
grep -q 'fe80::1%c1' "$T_TMP/ll.txt" && pass "table: fe80::1%c1" || fail "table: fe80::1%c1" "$(tail -5 "$T_TMP/ll.txt")"
for d in c0 c1; do
	grep -q "comm=\"llclient\",daddr=\"fe80::1%$d\"" "$T_TMP/ll.prom" && pass "prom: a series for %$d" ||
		fail "prom: a series for %$d" "$(grep llclient "$T_TMP/ll.prom" | head -3)"
done
t_finish
