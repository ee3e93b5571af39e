#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The flows you watch outlive a flood of one-off flows (issue 12, bug 5).
# A table of 1000 flows (--max-flows 1000) is flooded by two other
# processes scanning 10,000 destinations each (UDP connect()s to
# 127.0.0.2 and 127.0.0.3, ports P..P+9999: no packet is sent), ten times
# over, while a watched flow makes a known number of connects in bursts
# between them. With pure LRU the watched flow was evicted between two
# bursts, its TOTAL restarting each time. Now: its count is exact, with and
# without a filter that shows it (-f port:N); what the flood evicted is
# folded into the scanners' (process, *) row, so that their rows still add
# up to every connect they made. The scan stays within 20,000 distinct
# destinations: other tests' tables (32768 by default) are not flooded.
. "$(dirname "$0")/lib.sh"
need_bpf
need_tools jq
TAG=ev$(printf %04d $((RANDOM % 10000)))
WP=$(($(port_base) + 7)) SP=$((40000 + (RANDOM % 100) * 100))
SCAN=10000 ROUNDS=10 BURSTS=20 BURST=5 FIRST=10
ct_start "$T_TMP/all.json" "$T_TMP/all.err" -b -o json -d 0.5 --max-flows 1000 || exit 1
C1=$CT_PID
ct_start "$T_TMP/port.json" "$T_TMP/port.err" -b -o json -d 0.5 --max-flows 1000 -f "port:$WP" || exit 1
C2=$CT_PID

# the watched flow first makes a few connects, as a busy client does
lg -c "${TAG}w" udp 127.0.0.1 "$WP" $FIRST
scan() { # ADDR
	for _ in $(seq 1 $ROUNDS); do lg -c "${TAG}s" -s $SCAN udp "$1" $SP $SCAN; done
}
scan 127.0.0.2 &
S1=$!
scan 127.0.0.3 &
S2=$!
t_track $S1 $S2
for _ in $(seq 1 $BURSTS); do
	lg -c "${TAG}w" udp 127.0.0.1 "$WP" $BURST
	sleep 0.05
done
wait $S1 $S2
t_untrack $S1
t_untrack $S2
WANT=$((FIRST + BURSTS * BURST)) SCANNED=$((2 * ROUNDS * SCAN))
sleep 1.2 # two intervals: the last one ended has every connect
for c in $C1 $C2; do
	kill -INT "$c"
	wait "$c" || fail "exit status of connecttop $c" "not 0"
done
t_untrack $C1
t_untrack $C2

# the count of the watched flow's own row (not its process's (process, *) row)
watched() { last_json "$1" | jq -r --arg c "${TAG}w" --argjson p "$WP" \
	"[.rows[] | select(.comm == \$c and .dport == \$p) | $2] | add // 0"; }
for k in all port; do
	OUT=$T_TMP/$k.json
	check "$k: the flood evicted flows" yes "$([ "$(last_json "$OUT" | jq .evicted)" -gt $((SCANNED / 2)) ] && echo yes)"
	check "$k: no event lost" 0 "$(last_json "$OUT" | jq .drops)"
	check "$k: the watched flow's TOTAL is exact" $WANT "$(watched "$OUT" .count)"
	check "$k: ... all of them ok" $WANT "$(watched "$OUT" .results.ok)"
	check "$k: ... in one row" 1 "$(watched "$OUT" 1)"
	check "$k: the watched process has no folded row" 0 \
		"$(last_json "$OUT" | jq --arg c "${TAG}w" '[.rows[] | select(.comm == $c and .daddr == "*")] | length')"
done
OUT=$T_TMP/all.json
check "all: the scanners' rows add up to every connect" $SCANNED "$(rowsum "$OUT" "${TAG}s" .count)"
check "all: ... every one ok" $SCANNED "$(rowsum "$OUT" "${TAG}s" .results.ok)"
check "all: the scanners' evicted flows are in one (process, *) row" 1 \
	"$(last_json "$OUT" | jq --arg c "${TAG}s" '[.rows[] | select(.comm == $c and .daddr == "*" and .family == "*" and .folded > 0)] | length')"
folded_sum() { last_json "$OUT" | jq --arg c "${TAG}s" "[.rows[] | select(.comm == \$c and .daddr == \"*\") | $1] | add // 0"; }
own=$(last_json "$OUT" | jq --arg c "${TAG}s" '[.rows[] | select(.comm == $c and .daddr != "*") | .count] | add // 0')
check "all: the folded row holds every connect not in the scanners' own rows" $((SCANNED - own)) "$(folded_sum .count)"
check "all: the header counts what was folded" yes \
	"$([ "$(last_json "$OUT" | jq .folded)" -ge "$(folded_sum .folded)" ] && echo yes)"
check "port: only the watched flow is shown" 1 "$(last_json "$T_TMP/port.json" | jq '.rows | length')"
echo "note: all: evicted $(last_json "$OUT" | jq .evicted), folded $(last_json "$OUT" | jq .folded), flows $(last_json "$OUT" | jq .flows)"
t_finish
