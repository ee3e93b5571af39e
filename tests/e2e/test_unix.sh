#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --unix: AF_UNIX connects by path, with exact counts and results, in both
# ways of stashing a call (task storage, hash by tid + raw syscalls); and
# none of them without --unix.
. "$(dirname "$0")/lib.sh"
need_bpf
D=$T_TMP/u
mkdir -p "$D"
HOSTILE=$D/$'q"uo\\te\nnl,x'
LONG=$D/$(printf 'p%.0s' $(seq 1 $((107 - ${#D} - 1))))

ct_start "$T_TMP/a.json" "$T_TMP/a.err" --unix -b -o json -d 1 -s daddr -r --max-flows 100000 || exit 1
A_PID=$CT_PID
ct_start "$T_TMP/b.json" "$T_TMP/b.err" --unix --no-task-storage --raw-syscalls -b -o json -d 1 || exit 1
B_PID=$CT_PID
ct_start "$T_TMP/c.json" "$T_TMP/c.err" -b -o json -d 1 || exit 1
C_PID=$CT_PID
ct_start "$T_TMP/d.csv" "$T_TMP/d.err" --unix -b -o csv -d 1 -f proto:u_dgr || exit 1
D_PID=$CT_PID

lg -c uxacc accept "unix:$D/acc.sock" 0 40
lg -c uxnbacc -N -T 2 accept "unix:$D/nb.sock" 0 30
lg -c uxref refuse "unix:$D/ref.sock" 0 7
lg -c uxabsent absent "unix:$D/none" 0 5
lg -c uxabs accept "unix:@ct-e2e-$$" 0 6
lg -c uxabsref absent "unix:@ct-e2e-none-$$" 0 4
lg -c uxdgram udp "unix:$D/dg" 0 9
lg -c uxhostile accept "unix:$HOSTILE" 0 3
lg -c uxlong accept "unix:$LONG" 0 2
lg -c uxprocs -P 3 accept "unix:$D/procs.sock" 0 10
lg -c uxtcp refuse 127.0.0.1 "$(port_base)" 5
sleep 0.3
for p in $A_PID $B_PID $C_PID $D_PID; do kill -INT "$p"; done
for p in $A_PID $B_PID $C_PID $D_PID; do wait "$p" || fail "exit status of $p" "not 0"; done

row() { last_json "$1" | jq -c --arg c "$2" '[.rows[] | select(.comm == $c) | {daddr, dport, proto, family, count, results, errors, lat_p50_us}]'; }
res() { # ok refused timeout unreachable pending other (abandoned: 0)
	printf '{"ok":%s,"refused":%s,"timeout":%s,"unreachable":%s,"pending":%s,"other":%s,"abandoned":0}' "$@"
}
for f in a b; do
	J=$T_TMP/$f.json
	check "$f: json parses" "$(wc -l <"$J")" "$(jq -c . "$J" | wc -l)"
	check "$f: no drops" 0 "$(jq -s 'map(.drops) | max' "$J")"
	check "$f: accepted" "[{\"daddr\":\"$D/acc.sock\",\"dport\":0,\"proto\":\"u_str\",\"family\":\"unix\",\"count\":40,\"results\":$(res 40 0 0 0 0 0),\"errors\":{},\"lat_p50_us\":null}]" "$(row "$J" uxacc)"
	check "$f: non-blocking accepted" "[{\"daddr\":\"$D/nb.sock\",\"dport\":0,\"proto\":\"u_str\",\"family\":\"unix\",\"count\":30,\"results\":$(res 30 0 0 0 0 0),\"errors\":{},\"lat_p50_us\":null}]" "$(row "$J" uxnbacc)"
	check "$f: no listener: refused" "[{\"daddr\":\"$D/ref.sock\",\"dport\":0,\"proto\":\"u_str\",\"family\":\"unix\",\"count\":7,\"results\":$(res 0 7 0 0 0 0),\"errors\":{\"ECONNREFUSED\":7},\"lat_p50_us\":null}]" "$(row "$J" uxref)"
	check "$f: no such path: ENOENT" "[{\"daddr\":\"$D/none\",\"dport\":0,\"proto\":\"u_str\",\"family\":\"unix\",\"count\":5,\"results\":$(res 0 0 0 0 0 5),\"errors\":{\"ENOENT\":5},\"lat_p50_us\":null}]" "$(row "$J" uxabsent)"
	check "$f: abstract name with @" "[{\"daddr\":\"@ct-e2e-$$\",\"dport\":0,\"proto\":\"u_str\",\"family\":\"unix\",\"count\":6,\"results\":$(res 6 0 0 0 0 0),\"errors\":{},\"lat_p50_us\":null}]" "$(row "$J" uxabs)"
	check "$f: abstract, nobody bound: refused" 4 "$(rowsum "$J" uxabsref .results.refused)"
	check "$f: datagram" "[{\"daddr\":\"$D/dg\",\"dport\":0,\"proto\":\"u_dgr\",\"family\":\"unix\",\"count\":9,\"results\":$(res 9 0 0 0 0 0),\"errors\":{},\"lat_p50_us\":null}]" "$(row "$J" uxdgram)"
	check "$f: hostile path escaped" "$D/q\"uo\\\\te\\x0anl,x 3" "$(last_json "$J" | jq -r '.rows[] | select(.comm == "uxhostile") | "\(.daddr) \(.count)"')"
	check "$f: 107-byte path whole" "$LONG 2" "$(last_json "$J" | jq -r '.rows[] | select(.comm == "uxlong") | "\(.daddr) \(.count)"')"
	check "$f: 3 processes, one flow" "1 30 3" "$(last_json "$J" | jq -r '[.rows[] | select(.comm == "uxprocs")] | "\(length) \(.[0].count) \(.[0].pids)"')"
	check "$f: TCP still traced beside" 5 "$(rowsum "$J" uxtcp .results.refused)"
done
check "sorted by destination, descending: paths in byte order" true "$(last_json "$T_TMP/a.json" | jq '[.rows[] | select(.family == "unix") | .daddr] as $d | $d == ($d | sort | reverse) and ($d | length) >= 9')"
check "without --unix: no AF_UNIX row" 0 "$(jq -s '[.[].rows[] | select(.family == "unix" or (.comm | startswith("ux")) and .comm != "uxtcp")] | length' "$T_TMP/c.json")"
check "without --unix: TCP traced" 5 "$(rowsum "$T_TMP/c.json" uxtcp .results.refused)"
check "csv: proto:u_dgr keeps only the datagram flow" "uxdgram,$D/dg,0,u_dgr,unix,9" "$(awk 'BEGIN{RS=""} END{print}' "$T_TMP/d.csv" | awk -F, 'NR > 1 && $2 ~ /^ux/ {print $2 "," $6 "," $7 "," $8 "," $9 "," $10}' | sort -u)"
check "stderr clean" "" "$(ct_stderr_extra "$T_TMP"/[abcd].err)"

# bad combinations are usage errors, said as such
"$CONNECTTOP" --unix --bogus >/dev/null 2>"$T_TMP/u.err"
check "unknown option next to --unix: exit 2" 2 $?
