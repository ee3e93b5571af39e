#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The name a process resolved (issue 14), with real resolvers: a dnsmasq on
# a loopback address of this run serves a test zone, and clients pointed
# at it through a private mount namespace's resolv.conf and nsswitch.conf
# (the host's are never touched) resolve and connect: curl (glibc
# getaddrinfo), Python's socket module, Go's pure resolver, node's
# dns.lookup (getaddrinfo) and dns.resolve4 (c-ares). Each flow's qname in
# connecttop -b -o json: two names for one address, each process its own;
# a CNAME chain; an answer with two addresses; an address nobody resolved
# has none. The run is recorded (-w) and its replay (--read) gives the same
# names and dns counters, line for line. --no-dns turns it all off;
# --probe says the capture works.
. "$(dirname "$0")/lib.sh"
# shellcheck source=dnsenv.sh
. "$(dirname "$0")/dnsenv.sh"
need_bpf
T_TOOLS_HINT="make test-deps" need_tools dnsmasq jq curl go node unshare ss
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
B=$(port_base)
P=$((B + 53)) # the port every client connects to (refused: nothing listens)
# an address block of this run in 127/8 (other runs pick others)
N=127.$((100 + RANDOM % 150)).$((1 + B / 100 % 250))

# dnsmasq: only this address, only the test zone, CNAMEs x -> y -> z
dns_serve "$N" "$N.10 a.test
$N.10 b.test
$N.11 z.test
$N.12 multi.test
$N.13 multi.test
$N.14 lookup.test
$N.15 resolve.test" --cname=x.test,y.test --cname=y.test,z.test || t_finish test_dns

# the Go client, built once (GOCACHE in the run's directory)
cat >"$T_TMP/gores.go" <<'EOG'
package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(os.Args[1], os.Args[2]), 5*time.Second)
	if err == nil {
		c.Close()
	}
	fmt.Println(err)
}
EOG
if ! (cd "$T_TMP" && HOME=$T_TMP GOCACHE=$T_TMP/gocache GOPATH=$T_TMP/go GOFLAGS=-mod=mod \
	go build -o "$T_TMP/gores" gores.go) >"$T_TMP/go.log" 2>&1; then
	fail "go build" "$(tail -3 "$T_TMP/go.log")"
	t_finish test_dns
fi

OUT=$T_TMP/out.json ERR=$T_TMP/err REC=$T_TMP/dns.ctr
ct_start "$OUT" "$ERR" -b -o json -d 1 -f "port:$P" -w "$REC" || exit 1

# each client resolves, then connects (refused); its own output says what
# it resolved, so that a client that failed to resolve is told apart
run() { # NAME CMD...: run a client in the private namespace, keep its output
	local name=$1
	shift
	timeout 20 bash -c "$(declare -f private); T_TMP=$T_TMP; private \"\$@\"" _ "$@" \
		>"$T_TMP/$name.out" 2>&1
	echo "$name rc=$?" >>"$T_TMP/clients.log"
}
run curl curl -s -m 5 "http://a.test:$P/"
run py_b "$PY" -c "
import socket
try:
    socket.create_connection(('b.test', $P), timeout=5)
except OSError as e:
    print(e)"
run py_multi "$PY" -c "
import socket
print(sorted({a[4][0] for a in socket.getaddrinfo('multi.test', $P, socket.AF_INET, socket.SOCK_STREAM)}))
try:
    socket.create_connection(('multi.test', $P), timeout=5)
except OSError as e:
    print(e)"
run go env GODEBUG=netdns=go "$T_TMP/gores" x.test "$P"
run node_lookup node -e "
const net = require('net');
net.connect({ host: 'lookup.test', port: $P, family: 4 }).on('error', e => console.log(e.code));"
run node_resolve node -e "
const dns = require('dns'), net = require('net');
dns.resolve4('resolve.test', (err, a) => {
	if (err) { console.log(err.code); return; }
	console.log(a);
	net.connect({ host: a[0], port: $P }).on('error', e => console.log(e.code));
});"
# an address nobody resolved: a literal, no DNS at all
lg -c dnsnone refuse "$N.16" "$P" 1

# the flows, once all are in (the interval's line comes each second)
flows_in() {
	local got
	got=$(last_json "$OUT" 2>/dev/null | jq --arg n "$N." '[.rows[] | select(.daddr | startswith($n))] | length' 2>/dev/null)
	[ "${got:-0}" -ge 8 ]
}
t_wait 15 flows_in || true
rc=0
ct_stop || rc=$?
check "exit status 0 on SIGINT" 0 "$rc"
check "nothing on stderr but the attach line" "" "$(ct_stderr_extra "$ERR")"

J=$(last_json "$OUT")
# qname of the flow (comm, address): "name" or "name hostwide", "-" without
qn() {
	jq -r --arg c "$1" --arg a "$2" '[.rows[] | select(.comm == $c and .daddr == $a)][0] |
		if . == null then "no flow" elif .qname == null then "-"
		else .qname + (if .qname_hostwide then " hostwide" else "" end) end' <<<"$J"
}
chain() {
	jq -r --arg c "$1" --arg a "$2" '[.rows[] | select(.comm == $c and .daddr == $a)][0].qname_chain // [] | join(">")' <<<"$J"
}
check "capture on: the dns object in the header" true "$(jq '.dns != null and .dns.drops == 0' <<<"$J")"
check "curl (getaddrinfo): a.test" "a.test" "$(qn curl "$N.10")"
check "python: b.test, the same address, its own name" "b.test" "$(qn python3 "$N.10")"
check "python: both addresses of multi.test resolved" "['$N.12', '$N.13']" "$(head -1 "$T_TMP/py_multi.out")"
check "several addresses: the first one's flow" "multi.test" "$(qn python3 "$N.12")"
check "several addresses: the second one's flow" "multi.test" "$(qn python3 "$N.13")"
check "go (pure resolver): the name asked for" "x.test" "$(qn gores "$N.11")"
check "go: the CNAME chain" "y.test>z.test" "$(chain gores "$N.11")"
check "node dns.lookup: lookup.test" "lookup.test" "$(qn node "$N.14")"
check "node dns.resolve4: resolve.test" "resolve.test" "$(qn node "$N.15")"
check "an address nobody resolved: no qname" "-" "$(qn dnsnone "$N.16")"
check "JSON: qname absent (not null) where unknown" false \
	"$(jq --arg a "$N.16" '[.rows[] | select(.daddr == $a)][0] | has("qname")' <<<"$J")"
check "no answer of the run taken for host-wide" 0 \
	"$(jq --arg n "$N." '[.rows[] | select((.daddr | startswith($n)) and .qname_hostwide)] | length' <<<"$J")"

# the recording: its replay has the same names and the same dns counters,
# in every interval (the answers replayed through the same attribution)
RP=$T_TMP/replay.json
rc=0; "$CONNECTTOP" --read "$REC" -b -o json -f "port:$P" >"$RP" 2>"$T_TMP/rerr" || rc=$?
check "replay: exit 0, nothing on stderr" "0 " "$rc $(cat "$T_TMP/rerr")"
names() { # FILE: each line's dns object and the rows' names, sorted
	jq -c '[.dns, ([.rows[] | [.comm, .daddr, .qname, .qname_hostwide, .qname_chain]] | sort)]' "$1"
}
check "replay: as many lines as live" "$(wc -l <"$OUT")" "$(wc -l <"$RP")"
check_num "replay: the names of the live run's 8 flows or more" '. >= 8' \
	"$(last_json "$RP" | jq --arg n "$N." '[.rows[] | select((.daddr | startswith($n)) and .qname)] | length')"
check "replay: the dns counters as live" "$(last_json "$OUT" | jq -c .dns)" "$(last_json "$RP" | jq -c .dns)"
if cmp -s <(names "$OUT") <(names "$RP"); then pass "replay: each line's names and dns counters as live"; else
	fail "replay: each line's names and dns counters as live" "$(diff <(names "$OUT") <(names "$RP") | head -c 600)"; fi
if cmp -s "$OUT" "$RP"; then pass "replay: the JSON is byte for byte the live one"; else
	fail "replay: the JSON is byte for byte the live one" "$(diff "$OUT" "$RP" | head -c 600)"; fi

# host: as a batch filter, on the same clients again
OUT2=$T_TMP/host.json
ct_start "$OUT2" "$ERR" -b -o json -d 1 -f "port:$P host:*.test !host:a.*" || exit 1
run curl2 curl -s -m 5 "http://a.test:$P/"
run py_b2 "$PY" -c "
import socket
try:
    socket.create_connection(('b.test', $P), timeout=5)
except OSError as e:
    print(e)"
lg -c dnsnone refuse "$N.16" "$P" 1
host_in() { [ "$(last_json "$OUT2" 2>/dev/null | jq '.rows | length' 2>/dev/null)" = 1 ]; }
t_wait 10 host_in || true
ct_stop || true
check "host:*.test !host:a.*: only python's b.test" "python3 b.test" \
	"$(last_json "$OUT2" | jq -r '[.rows[] | "\(.comm) \(.qname)"] | join(",")')"

# --no-dns: no capture, no names, no dns object; --probe says it works
OUT3=$T_TMP/nodns.json
ct_start "$OUT3" "$ERR" -b -o json -d 1 -f "port:$P" --no-dns || exit 1
run curl3 curl -s -m 5 "http://a.test:$P/"
curl_in() { last_json "$OUT3" 2>/dev/null | jq -e '.rows | map(select(.comm == "curl")) | length == 1' >/dev/null 2>&1; }
t_wait 10 curl_in || true
ct_stop || true
check "--no-dns: the flow, without a qname, no dns object" "curl - null" \
	"$(last_json "$OUT3" | jq -r '"\([.rows[] | select(.comm == "curl")][0] | "\(.comm) \(.qname // "-")") \(.dns)"')"
check "--probe: DNS answers captured" yes \
	"$("$CONNECTTOP" --probe | sed -n 's/^DNS answers captured: *\([a-z]*\).*/\1/p')"

if [ "$T_FAILED" -gt 0 ]; then
	echo "info: clients:" >&2
	cat "$T_TMP/clients.log" >&2
	for f in "$T_TMP"/*.out; do echo "--- $f" >&2; cat "$f" >&2; done
	tail -20 "$T_TMP/dnsmasq.log" >&2
	jq -c --arg n "$N." '.rows[] | select(.daddr | startswith($n)) | {comm, daddr, qname, qname_chain, qname_hostwide}' <<<"$J" >&2
fi
t_finish test_dns
