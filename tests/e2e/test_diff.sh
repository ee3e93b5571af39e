#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --diff A B on two real exports of one run (-b -o json): a flow with 49
# accepted and 1 refused connects at A, 6 and 4 more by B, is worse with
# those numbers; a flow only in B is new; one with no connect since A is
# silent; the three output formats agree; the other way round, the new
# flow is gone with its numbers; --diff needs no root (run as nobody); a
# process named as a spreadsheet formula ("=cmd|' /C calc'!A0") is written
# by --diff -o csv as -o csv writes it, made text; bad files and usage are
# refused with exit 2 and a reason.
. "$(dirname "$0")/lib.sh"
need_bpf
TAG=tdf$RANDOM
B=$(port_base)
P=$((B + 1)) N=$((B + 2)) Q=$((B + 3))
A_F=$T_TMP/a.json B_F=$T_TMP/b.json OUT=$T_TMP/out.json ERR=$T_TMP/err
# count PORT: the TOTAL of this run's flow to PORT in the last line
count() { last_json "$OUT" | jq -r --arg c "$TAG" --argjson p "$1" '[.rows[] | select(.comm == $c and .dport == $p) | .count] | add // 0'; }
wait_count() { t_wait 15 eval "[ \"\$(count $1)\" = $2 ]"; }

ct_start "$OUT" "$ERR" -b -o json -d 0.5 -f "$TAG" || exit 1
lg -c "$TAG" accept 127.0.0.1 $P 49
lg -c "$TAG" refuse 127.0.0.1 $P 1
lg -c "$TAG" accept 127.0.0.1 $Q 3
if ! { wait_count $P 50 && wait_count $Q 3; }; then fail "A: the first connects exported" "$(count $P) $(count $Q)"; fi
last_json "$OUT" >"$A_F"
lg -c "$TAG" accept 127.0.0.1 $P 6
lg -c "$TAG" refuse 127.0.0.1 $P 4
lg -c "$TAG" refuse 127.0.0.1 $N 2
if ! { wait_count $P 60 && wait_count $N 2; }; then fail "B: the later connects exported" "$(count $P) $(count $N)"; fi
# the whole file: --diff reads its last line
cp "$OUT" "$B_F"
rc=0; ct_stop || rc=$?
check "connecttop: clean exit on SIGINT" 0 "$rc"

# as nobody: no root, no BPF
chmod a+r "$A_F" "$B_F"
chmod a+x "$T_TMP"
J=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$CONNECTTOP" --diff "$A_F" "$B_F" -o json)
check "--diff as nobody: exit 0" 0 $?
row() { diff_row "$J" "$TAG" "$1"; }
check "worse: 50 and 1 before, 10 and 4 since" '["worse",50,1,10,4]' "$(row $P)"
check "new: 2 refused since" '["new",0,0,2,2]' "$(row $N)"
check "silent: 3 before, none since" '["silent",3,0,0,0]' "$(row $Q)"
T=$("$CONNECTTOP" --diff "$A_F" "$B_F")
check "table: the worse cell" 1 "$(grep -c "^$TAG .* $P tcp   worse 2%→40%" <<<"$T")"
C=$("$CONNECTTOP" --diff "$A_F" "$B_F" -o csv)
check "csv: the worse row" 1 "$(grep -c "^worse,$TAG,127.0.0.1,$P,tcp,50,1,10,4," <<<"$C")"
# B to A: the flow new in B is gone, with B's numbers before
J=$("$CONNECTTOP" --diff "$B_F" "$A_F" -o json)
check "reversed: the new flow gone, 2 and 2 before" '["gone",2,2,0,0]' "$(row $N)"
T=$("$CONNECTTOP" --diff "$B_F" "$A_F")
check "reversed, table: the gone cell" 1 "$(grep -c "^$TAG .* $N tcp   gone " <<<"$T")"

# a formula for a name: -o csv and --diff -o csv write the same field
H=$((B + 4)) HOSTILE="=cmd|' /C calc'!A0"
COMM=${HOSTILE:0:15} # what the kernel keeps of a name
ct_start "$T_TMP/h.json" "$T_TMP/h.err" -b -o json -d 0.5 -f "port:$H" || exit 1
HJ=$CT_PID
ct_start "$T_TMP/h.csv" "$T_TMP/hc.err" -b -o csv -d 0.5 -f "port:$H" || exit 1
HC=$CT_PID
lg -c "$HOSTILE" refuse 127.0.0.1 $H 2
hj_done() { [ "$(last_json "$T_TMP/h.json" | jq --argjson p $H '[.rows[] | select(.dport == $p) | .count] | add // 0')" = 2 ]; }
hc_done() { grep -qF ",$H,tcp," "$T_TMP/h.csv"; }
if ! { t_wait 15 hj_done && t_wait 15 hc_done; }; then fail "the formula-named flow exported" "$(tail -n 2 "$T_TMP/h.csv")"; fi
for pid in $HJ $HC; do
	kill -INT "$pid"
	wait "$pid" || fail "connecttop $pid: clean exit on SIGINT" "exit status $?"
done
check "json: the name as it is" "$COMM" "$(last_json "$T_TMP/h.json" | jq -r --argjson p $H '.rows[] | select(.dport == $p) | .comm')"
FIELD="\"'$COMM\""
check "-o csv: the name made text and quoted" 1 "$(grep -F ",$H,tcp," "$T_TMP/h.csv" | tail -n 1 | grep -cF ",$FIELD,")"
HD=$("$CONNECTTOP" --diff "$A_F" "$T_TMP/h.json" -o csv)
check "--diff -o csv: the same field" 1 "$(grep -cF "new,$FIELD,127.0.0.1,$H,tcp,0,0,2,2," <<<"$HD")"
check "--diff -o csv: no field starts with = (quoted or not)" 0 "$(grep -cE '(^|,)"?=' <<<"$HD")"
check "-o csv: no field starts with = (quoted or not)" 0 "$(grep -cE '(^|,)"?=' "$T_TMP/h.csv")"

# bad input: exit 2, the file named, the reason given
bad() { # WANT ARGS...
	local want=$1 rc=0
	shift
	"$CONNECTTOP" "$@" >"$T_TMP/o" 2>"$T_TMP/e" || rc=$?
	if [ "$rc" = 2 ] && grep -qF -- "$want" "$T_TMP/e" && [ ! -s "$T_TMP/o" ]; then
		pass "refused: $*"
	else
		fail "refused: $*" "rc $rc, stderr: $(head -c 300 "$T_TMP/e")"
	fi
}
head -c 100 "$A_F" >"$T_TMP/trunc.json"
printf '{"version":9,"group":"flow","rows":[]}\n' >"$T_TMP/v9.json"
bad "B missing" --diff "$A_F"
bad "$T_TMP/nope.json: No such file" --diff "$T_TMP/nope.json" "$B_F"
bad "trunc.json: at byte" --diff "$T_TMP/trunc.json" "$B_F"
bad "schema version 9" --diff "$A_F" "$T_TMP/v9.json"
bad "not a regular file" --diff "$T_TMP" "$B_F"
bad "prom is not a diff format" --diff "$A_F" "$B_F" -o prom
bad "unexpected argument" --diff "$A_F" "$B_F" extra
bad "takes -o only" --diff "$A_F" "$B_F" -f x
