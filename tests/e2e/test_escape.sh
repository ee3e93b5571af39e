#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile names from real processes, in every batch output (text, CSV,
# JSON, Prometheus): invisible characters (U+200B zero width space, U+FEFF
# byte order mark) shown escaped, never as they are; a newline and the text
# \x0a told apart; an AF_UNIX path "@NAME" and the abstract name "\0NAME"
# two destinations. Process names are set with prctl(PR_SET_NAME), by the
# load generator and by python through ctypes.
. "$(dirname "$0")/lib.sh"
need_bpf
need_tools jq python3
TAG=$(printf 'e%04x' $((RANDOM % 65536))) # this run's names start with it
P=$(($(port_base) + 37))
D=$T_TMP/u
mkdir -p "$D"
ZWSP=$'\xe2\x80\x8b'
BOM=$'\xef\xbb\xbf'

# -f: only this run's processes, so that a flood of other flows on the host
# (a benchmark's millions) does not make the outputs grow without bound
ARGS=(--unix -d 1 --max-flows 100000 -f "$TAG")
ct_start "$T_TMP/a.json" "$T_TMP/a.err" "${ARGS[@]}" -b -o json || exit 1
J_PID=$CT_PID
ct_start "$T_TMP/a.csv" "$T_TMP/c.err" "${ARGS[@]}" -b -o csv || exit 1
C_PID=$CT_PID
ct_start "$T_TMP/a.prom" "$T_TMP/p.err" "${ARGS[@]}" -b -o prom --prometheus-max-series 100000 || exit 1
P_PID=$CT_PID
ct_start "$T_TMP/a.txt" "$T_TMP/t.err" "${ARGS[@]}" -b || exit 1
T_PID=$CT_PID

# a newline, the six characters a\x0ab, U+200B, U+FEFF, a backslash: each
# a count of its own to tell the rows apart
lg -c "${TAG}a"$'\n'"b" refuse 127.0.0.1 "$P" 3
lg -c "${TAG}a\\x0ab" refuse 127.0.0.1 "$P" 4
lg -c "$TAG${ZWSP}zw" refuse 127.0.0.1 "$P" 5
lg -c "$TAG${BOM}zw" refuse 127.0.0.1 "$P" 6
lg -c "${TAG}b\\s" refuse 127.0.0.1 "$P" 7
# AF_UNIX, from a process named TAG U+200B "ux": the path "@TAG" (relative,
# in D) twice, the abstract name "\0TAG" three times, both listening
python3 - "$D" "$TAG" <<'EOF' || fail "python AF_UNIX client" "exit status $?"
import ctypes, os, socket, sys

d, tag = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(15, (tag + "\u200bux").encode(), 0, 0, 0):  # PR_SET_NAME
    sys.exit("prctl: " + os.strerror(ctypes.get_errno()))
os.chdir(d)
for addr, n in (("@" + tag, 2), ("\0" + tag, 3)):
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(addr)
    srv.listen(8)
    for _ in range(n):
        c = socket.socket(socket.AF_UNIX)
        c.connect(addr)
        srv.accept()[0].close()
        c.close()
    srv.close()
EOF
# every output ends with what it has when SIGINT comes: wait until the
# JSON has seen the last connect (on a machine so slow that it has not
# after 10 s, the checks say what is missing)
t_wait 10 grep -q "\"comm\":\"$TAG\\\\\\\\u200bux\",[^}]*\"count\":3," "$T_TMP/a.json"
for p in $J_PID $C_PID $P_PID $T_PID; do kill -INT "$p"; done
for p in $J_PID $C_PID $P_PID $T_PID; do wait "$p" || fail "exit status of connecttop $p" "not 0"; done
for p in $J_PID $C_PID $P_PID $T_PID; do t_untrack "$p"; done

# what each output must show, a line a row: name, destination, count (the
# JSON as jq decodes it, which is the text the other outputs show)
WANT=$(
	cat <<EOF
${TAG}\\u200bux @$TAG 3
${TAG}\\u200bux \\x40$TAG 2
${TAG}\\u200bzw 127.0.0.1 5
${TAG}\\ufeffzw 127.0.0.1 6
${TAG}a\\\\x0ab 127.0.0.1 4
${TAG}a\\x0ab 127.0.0.1 3
${TAG}b\\\\s 127.0.0.1 7
EOF
)
WANT=$(LC_ALL=C sort <<<"$WANT")

# JSON: the last object
J=$(last_json "$T_TMP/a.json")
check "json: parses" 1 "$(jq -c . <<<"$J" | wc -l)"
check "json: no drops" 0 "$(jq .drops <<<"$J")"
check "json: rows escaped, one each" "$WANT" "$(jq -r --arg t "$TAG" '.rows[] | select(.comm | startswith($t)) | "\(.comm) \(.daddr) \(.count)"' <<<"$J" | LC_ALL=C sort)"
check "json: no raw U+200B or U+FEFF in any name" 0 "$(jq '[.rows[] | .comm, .daddr | select(test("[\u200b\ufeff]"))] | length' <<<"$J")"
check "json: the escaped text as written" 1 "$(grep -cF "\"comm\":\"${TAG}a\\\\\\\\x0ab\"" <<<"$J")"

# CSV: the last interval (the lines of the last line's time); time,comm,
# ...,daddr (6),...,count (10); an abstract name starts with '@': quoted,
# as text
CSV=$(awk -F, -v t="$(tail -n 1 "$T_TMP/a.csv" | cut -d, -f1)" '$1 == t' "$T_TMP/a.csv")
check "csv: header as documented" "comm daddr count" "$(head -n 1 "$T_TMP/a.csv" | awk -F, '{print $2, $6, $10}')"
Q="\"'@$TAG\""
check "csv: rows escaped, one each" "${WANT// @$TAG / $Q }" \
	"$(awk -F, -v t="$TAG" 'index($2, t) == 1 { print $2, $6, $10 }' <<<"$CSV" | LC_ALL=C sort)"
check "csv: no raw U+200B or U+FEFF" 0 "$(grep -c "$ZWSP\|$BOM" "$T_TMP/a.csv")"

# the text table: the last interval (from its last header line); PROCESS
# (1), DESTINATION (4), TOTAL (8)
TXT=$(awk '/^PROCESS / { n = 0; next } { l[n++] = $0 } END { for (i = 0; i < n; i++) print l[i] }' "$T_TMP/a.txt")
check "text: rows escaped, one each" "$WANT" "$(awk -v t="$TAG" 'index($1, t) == 1 { print $1, $4, $8 }' <<<"$TXT" | LC_ALL=C sort)"
check "text: no raw U+200B or U+FEFF" 0 "$(grep -c "$ZWSP\|$BOM" "$T_TMP/a.txt")"

# Prometheus: the last exposition; label values are the escaped text with
# \ and " escaped once more
PROM=$(awk '/^# HELP connecttop_connects_total / { n = 0 } { l[n++] = $0 } END { for (i = 0; i < n; i++) print l[i] }' "$T_TMP/a.prom")
PWANT=$(
	cat <<EOF
${TAG}\\\\u200bux @$TAG 0 u_str ok 3
${TAG}\\\\u200bux \\\\x40$TAG 0 u_str ok 2
${TAG}\\\\u200bzw 127.0.0.1 $P tcp refused 5
${TAG}\\\\ufeffzw 127.0.0.1 $P tcp refused 6
${TAG}a\\\\\\\\x0ab 127.0.0.1 $P tcp refused 4
${TAG}a\\\\x0ab 127.0.0.1 $P tcp refused 3
${TAG}b\\\\\\\\s 127.0.0.1 $P tcp refused 7
EOF
)
check "prom: series escaped, one each" "$(LC_ALL=C sort <<<"$PWANT")" \
	"$(sed -n "s/^connecttop_connects_total{comm=\"\(${TAG}[^\"]*\)\",daddr=\"\([^\"]*\)\",dport=\"\([0-9]*\)\",proto=\"\([a-z_]*\)\",result=\"\([a-z]*\)\"} \([0-9]*\)$/\1 \2 \3 \4 \5 \6/p" <<<"$PROM" | LC_ALL=C sort)"
check "prom: no raw U+200B or U+FEFF" 0 "$(grep -c "$ZWSP\|$BOM" "$T_TMP/a.prom")"
check "prom: no two samples with the same labels" "" "$(grep -v '^#' <<<"$PROM" | sed 's/ [^ ]*$//' | sort | uniq -d | head -3)"

check "stderr clean" "" "$(ct_stderr_extra "$T_TMP"/[acpt].err)"
t_finish test_escape
