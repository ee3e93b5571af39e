#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The real binary with the real BPF programs against known loopback traffic:
# exact counts, result classes, drops == 0, a clean exit on SIGINT.
. "$(dirname "$0")/lib.sh"
need_bpf
B=$(port_base)
OUT=$T_TMP/out.json ERR=$T_TMP/err
ct_start "$OUT" "$ERR" -b -o json -d 1 --max-flows 100000 || exit 1

lg -c e2eacc accept 127.0.0.1 $((B + 1)) 50
lg -c e2eref refuse 127.0.0.1 $((B + 2)) 40
lg -c e2enbacc -N accept 127.0.0.1 $((B + 3)) 30
lg -c e2enbref -N refuse 127.0.0.1 $((B + 4)) 30
lg -c e2eudp udp 127.0.0.1 $((B + 5)) 20
lg -c e2ev6 refuse ::1 $((B + 6)) 10
lg -c e2ev6acc -N accept ::1 $((B + 7)) 15
lg -c e2emapped refuse ::ffff:127.0.0.1 $((B + 8)) 12
lg -c e2eprocs -P 4 refuse 127.0.0.1 $((B + 9)) 25
lg -c e2emany -T 2 refuse 127.0.0.1 $((B + 10)) 5000
sleep 0.2
rc=0
ct_stop || rc=$?
check "exit status 0 on SIGINT (started in the background)" 0 "$rc"
check "nothing on stderr but the attach line" "" "$(ct_stderr_extra "$ERR")"

if ! last_json "$OUT" | jq -e . >/dev/null 2>&1; then
	fail "last line is JSON" "$(last_json "$OUT" | head -c 300)"
	exit 1
fi
check "schema version" 1 "$(last_json "$OUT" | jq .version)"
check "every JSON line parses" "$(wc -l <"$OUT")" "$(jq -c . "$OUT" | wc -l)"
check "drops == 0 on every line" "0" "$(jq -s 'map(.drops) | max' "$OUT")"

check "tcp accepted: count" 50 "$(rowsum "$OUT" e2eacc .count)"
check "tcp accepted: ok" 50 "$(rowsum "$OUT" e2eacc .results.ok)"
check "tcp accepted: latency measured" true "$(last_json "$OUT" | jq '[.rows[]|select(.comm=="e2eacc")][0] | (.lat_p50_us != null and .lat_max_us >= .lat_p50_us)')"
check "tcp refused: count" 40 "$(rowsum "$OUT" e2eref .count)"
check "tcp refused: refused" 40 "$(rowsum "$OUT" e2eref .results.refused)"
check "tcp refused: errors.ECONNREFUSED" 40 "$(rowsum "$OUT" e2eref '.errors.ECONNREFUSED')"
check "tcp refused: port" $((B + 2)) "$(last_json "$OUT" | jq '[.rows[]|select(.comm=="e2eref")][0].dport')"
check "non-blocking accepted: counted once" 30 "$(rowsum "$OUT" e2enbacc .count)"
check "non-blocking accepted: final outcome ok" 30 "$(rowsum "$OUT" e2enbacc .results.ok)"
check "non-blocking accepted: none left pending" 0 "$(rowsum "$OUT" e2enbacc .results.pending)"
check "non-blocking refused: counted once" 30 "$(rowsum "$OUT" e2enbref .count)"
check "non-blocking refused: refused" 30 "$(rowsum "$OUT" e2enbref .results.refused)"
check "udp: ok" 20 "$(rowsum "$OUT" e2eudp .results.ok)"
check "udp: proto" '"udp"' "$(last_json "$OUT" | jq '[.rows[]|select(.comm=="e2eudp")][0].proto')"
check "udp: no handshake latency" null "$(last_json "$OUT" | jq '[.rows[]|select(.comm=="e2eudp")][0].lat_p50_us')"
check "ipv6 refused" 10 "$(rowsum "$OUT" e2ev6 .results.refused)"
check "ipv6 address and family" '"::1" "ipv6"' "$(last_json "$OUT" | jq -r '[.rows[]|select(.comm=="e2ev6")][0] | "\"\(.daddr)\" \"\(.family)\""')"
check "ipv6 non-blocking accepted" 15 "$(rowsum "$OUT" e2ev6acc .results.ok)"
check "v4-mapped IPv6 shown as IPv4" '127.0.0.1 ipv4 12' "$(last_json "$OUT" | jq -r '[.rows[]|select(.comm=="e2emapped")][0] | "\(.daddr) \(.family) \(.count)"')"
check "4 processes: one flow" 1 "$(last_json "$OUT" | jq '[.rows[]|select(.comm=="e2eprocs")] | length')"
check "4 processes: count" 100 "$(rowsum "$OUT" e2eprocs .count)"
check "4 processes: distinct pids" 4 "$(rowsum "$OUT" e2eprocs .pids)"
check "5000 connects: exact count" 5000 "$(rowsum "$OUT" e2emany .count)"
check "5000 connects: all refused" 5000 "$(rowsum "$OUT" e2emany .results.refused)"
check "events counts every connect" true "$(last_json "$OUT" | jq ".events >= 5307")" || last_json "$OUT" | jq -c ".events, .outcomes, (.rows[] | select(.comm | startswith(\"e2e\")) | [.comm, .count, .results])"
check "time is RFC 3339" true "$(last_json "$OUT" | jq '.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$")')"
