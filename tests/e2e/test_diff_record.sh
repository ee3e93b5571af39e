#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --diff A B where a side is a recording (-w): it stands for its export at
# its end. Two recordings of two runs: in A a flow with 49 accepted and 1
# refused connects and one with 3 accepted; in B the first flow with 6
# accepted and 4 refused, and a flow only in B. So the first is worse
# (2% -> 40%: B is another run, all of it is since), the one only in B new,
# the one only in A gone; the same as --diff on the two runs' last JSON
# lines; an export against a recording too; as nobody; a recording cut in
# its header is refused with exit 2 and its name.
. "$(dirname "$0")/lib.sh"
need_bpf
TAG=tdr$RANDOM
B=$(port_base)
P=$((B + 1)) N=$((B + 2)) Q=$((B + 3))
count() { last_json "$1" | jq -r --arg c "$TAG" --argjson p "$2" '[.rows[] | select(.comm == $c and .dport == $p) | .count] | add // 0'; }

# record NAME: connecttop recording to NAME.ctr, its JSON lines in NAME.json
record() { ct_start "$T_TMP/$1.json" "$T_TMP/$1.err" -b -o json -d 0.5 -f "$TAG" -w "$T_TMP/$1.ctr"; }

record a || exit 1
lg -c "$TAG" accept 127.0.0.1 $P 49
lg -c "$TAG" refuse 127.0.0.1 $P 1
lg -c "$TAG" accept 127.0.0.1 $Q 3
t_wait 15 eval '[ "$(count "$T_TMP/a.json" $P)" = 50 ] && [ "$(count "$T_TMP/a.json" $Q)" = 3 ]' ||
	fail "A: the connects seen" "$(count "$T_TMP/a.json" $P) $(count "$T_TMP/a.json" $Q)"
ct_stop || fail "A: clean exit" "status $?"
record b || exit 1
lg -c "$TAG" accept 127.0.0.1 $P 6
lg -c "$TAG" refuse 127.0.0.1 $P 4
lg -c "$TAG" refuse 127.0.0.1 $N 2
t_wait 15 eval '[ "$(count "$T_TMP/b.json" $P)" = 10 ] && [ "$(count "$T_TMP/b.json" $N)" = 2 ]' ||
	fail "B: the connects seen" "$(count "$T_TMP/b.json" $P) $(count "$T_TMP/b.json" $N)"
ct_stop || fail "B: clean exit" "status $?"

chmod a+r "$T_TMP"/*.ctr "$T_TMP"/*.json
chmod a+x "$T_TMP"
J=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$CONNECTTOP" --diff "$T_TMP/a.ctr" "$T_TMP/b.ctr" -o json)
check "two recordings, as nobody: exit 0" 0 $?
row() { diff_row "$J" "$TAG" "$1"; }
check "worse: 50 and 1 in A, 10 and 4 in B" '["worse",50,1,10,4]' "$(row $P)"
check "new: 2 refused in B" '["new",0,0,2,2]' "$(row $N)"
check "gone: 3 in A, not in B" '["gone",3,0,0,0]' "$(row $Q)"
# the recordings' ends are the runs' last lines
last_json "$T_TMP/a.json" >"$T_TMP/a1.json"
last_json "$T_TMP/b.json" >"$T_TMP/b1.json"
mine() { jq -c --arg c "$TAG" '[.rows[] | select(.comm == $c)] | sort_by(.dport)'; }
check "the same as --diff on the runs' last JSON lines" \
	"$("$CONNECTTOP" --diff "$T_TMP/a1.json" "$T_TMP/b1.json" -o json | mine)" "$(mine <<<"$J")"
check "an export against a recording: the same" \
	"$("$CONNECTTOP" --diff "$T_TMP/a1.json" "$T_TMP/b1.json" -o json | mine)" \
	"$("$CONNECTTOP" --diff "$T_TMP/a1.json" "$T_TMP/b.ctr" -o json | mine)"
T=$("$CONNECTTOP" --diff "$T_TMP/a.ctr" "$T_TMP/b.ctr")
check "table: the worse cell" 1 "$(grep -c "^$TAG .* $P tcp   worse 2%→40%" <<<"$T")"

# a recording cut inside its header: refused, named
head -c 40 "$T_TMP/a.ctr" >"$T_TMP/cut.ctr"
rc=0; "$CONNECTTOP" --diff "$T_TMP/cut.ctr" "$T_TMP/b.ctr" >"$T_TMP/out" 2>"$T_TMP/err" || rc=$?
check "a cut recording: exit 2" 2 "$rc"
check "a cut recording: nothing on stdout" "" "$(cat "$T_TMP/out")"
check "a cut recording: the message names it" 1 "$(grep -c "cut.ctr" "$T_TMP/err" | awk '{ print ($1 > 0) }')"
