#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The DNS capture's arming and what it cannot read (issue 14). Idle for
# --dns-idle, connecttop's packet socket leaves the kernel's packet taps
# (/proc/net/packet: protocol 0, not running) and says so (dns.capturing);
# a lookup arms it again (dns.arms), and a later lookup's name is read.
# Answers it cannot read are counted: over TCP (dig +tcp: dns.tcp) and
# truncated over UDP (an answer of 60 addresses asked without EDNS, so
# dnsmasq sets TC: dns.truncated, in dns.unseen). A dnsmasq of the test's
# own on a loopback address, clients in a private mount namespace.
. "$(dirname "$0")/lib.sh"
# shellcheck source=dnsenv.sh
. "$(dirname "$0")/dnsenv.sh"
need_bpf
T_TOOLS_HINT="make test-deps" need_tools dnsmasq jq dig unshare ss
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
B=$(port_base)
P=$((B + 54)) # the port clients connect to (refused: nothing listens)
N=127.$((100 + RANDOM % 150)).$((1 + B / 100 % 250))

hosts="$N.10 a.test
$N.11 b.test"
for i in $(seq 1 60); do hosts="$hosts
$N.$((100 + i)) big.test"; done
dns_serve "$N" "$hosts" || t_finish test_dns_idle

OUT=$T_TMP/out.json ERR=$T_TMP/err
ct_start "$OUT" "$ERR" -b -o json -d 0.2 --dns-idle 2 -f "port:$P" || exit 1

# connecttop's packet sockets as /proc/net/packet has them: "PROTO RUNNING"
packet_socks() {
	local f l i
	for f in /proc/"$CT_PID"/fd/*; do
		l=$(readlink "$f") || continue
		case $l in socket:*) ;; *) continue ;; esac
		i=${l#socket:[}
		awk -v i="${i%]}" '$9 == i { print $4, $6 }' /proc/net/packet
	done
}
capturing() { last_json "$OUT" 2>/dev/null | jq -r '.dns.capturing' 2>/dev/null; }
idle() { [ "$(capturing)" = false ]; }
t_wait 10 idle || true
check "idle: dns.capturing false after --dns-idle" false "$(capturing)"
check "idle: its packet socket bound to no protocol, not running" "0000 0" "$(packet_socks)"

py() { # NAME HOST: resolve HOST in the private namespace and connect to it
	timeout 20 bash -c "$(declare -f private); T_TMP=$T_TMP; private \"\$@\"" _ "$PY" -c "
import socket
try:
    socket.create_connection(('$2', $P), timeout=5)
except OSError as e:
    print(e)" >"$T_TMP/$1.out" 2>&1
}
# the first lookup arms it; the one after is read whatever the race
py first a.test
py second b.test
armed() { [ "$(capturing)" = true ]; }
t_wait 5 armed || true
check "a lookup arms it again: dns.arms 1, capturing" "1 true" \
	"$(last_json "$OUT" | jq -r '"\(.dns.arms) \(.dns.capturing)"')"
check "armed: its packet socket on ETH_P_ALL, running" "0003 1" "$(packet_socks)"
qname_b() { last_json "$OUT" 2>/dev/null | jq -r --arg a "$N.11" '[.rows[] | select(.daddr == $a)][0].qname // "-"' 2>/dev/null; }
b_in() { [ "$(qname_b)" = b.test ]; }
t_wait 5 b_in || true
check "the lookup after: b.test read" b.test "$(qname_b)"
first=$(last_json "$OUT" | jq -r --arg a "$N.10" '[.rows[] | select(.daddr == $a)][0].qname // "-"')
echo "info: the lookup that armed the capture: qname '$first' (its answer races the bind)"

# over TCP: counted, not read; truncated over UDP: counted in unseen
dig +tcp +tries=1 +time=3 @"$DNS" a.test >"$T_TMP/dig_tcp.out" 2>&1
dig +noedns +ignore +tries=1 +time=3 @"$DNS" big.test >"$T_TMP/dig_tc.out" 2>&1
check "dig +noedns big.test: the answer has TC set" 1 "$(grep -c 'flags:.* tc' "$T_TMP/dig_tc.out")"
counted() { last_json "$OUT" 2>/dev/null | jq -e '.dns.tcp >= 1 and .dns.truncated >= 1' >/dev/null 2>&1; }
t_wait 5 counted || true
J=$(last_json "$OUT")
check "dig +tcp: a lookup over TCP counted (dns.tcp)" 1 "$(jq '.dns.tcp' <<<"$J")"
check "TC set: a truncated answer counted (dns.truncated)" 1 "$(jq '.dns.truncated' <<<"$J")"
check "truncated answers are in dns.unseen" true "$(jq '.dns.unseen >= .dns.truncated' <<<"$J")"
check "no answer dropped" 0 "$(jq '.dns.drops' <<<"$J")"
rc=0
ct_stop || rc=$?
check "exit status 0 on SIGINT" 0 "$rc"
check "nothing on stderr but the attach line" "" "$(ct_stderr_extra "$ERR")"
if [ "$T_FAILED" -gt 0 ]; then
	for f in "$T_TMP"/*.out; do echo "--- $f" >&2; cat "$f" >&2; done
	tail -5 "$OUT" | jq -c .dns >&2
fi
t_finish test_dns_idle
