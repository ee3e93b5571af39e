#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Record and replay (issue 15): live traffic from the load generator
# (accepted, refused and non-blocking connects) and from real clients (curl
# to a python http.server, a python socket connect) recorded with -w while
# the batch JSON and the Prometheus file are written; --read replays the
# file as nobody (no root, no BPF) into the same JSON, line for line and
# byte for byte, and the same Prometheus file. Then kill -9 during a
# recording: the file replays to within a second of the kill, each line as
# live. A full disk (a tmpfs of 256K) stops the recording with a message,
# not the capture. --max-file-size 64K rotates: --read of the first name
# replays the whole series as live; with --max-files 3 three files are kept
# within the bound, and the replay of what is left says what the deleted
# ones held, which with the replayed totals makes the live ones. Truncated,
# bit-flipped, foreign and newer files give
# their documented error and exit status; a python reader of the format as
# the man page documents it cuts a file in its last block and predicts the
# lines the replay prints. ~20 s.
. "$(dirname "$0")/lib.sh"
need_bpf
need_tools jq curl python3 setpriv
B=$(port_base)
P=$((B + 1)) Q=$((B + 2)) H=$((B + 3)) Y=$((B + 4)) K=$((B + 5)) U=$((B + 6))
TAG=trc$RANDOM
# this run's connects only: its ports, and its processes (other tests use
# ports in the same range): loadgen named TAG, curl a copy named TAGc,
# python renamed TAGp
F="port:$B-$((B + 9)) $TAG"
cp "$(command -v curl)" "$T_TMP/${TAG}c"
chmod a+rx "$T_TMP/${TAG}c"
REC=$T_TMP/rec.ctr OUT=$T_TMP/live.json ERR=$T_TMP/err PROM=$T_TMP/live.prom
chmod a+rx "$T_TMP"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
# flow count in the last live line: count FILE PORT
count() { last_json "$1" | jq -r --argjson p "$2" '[.rows[] | select(.dport == $p) | .count] | add // 0'; }
wait_count() { t_wait 20 eval "[ \"\$(count $1 $2)\" = $3 ]"; }

# --- 1. live and replayed output are the same ---
python3 -m http.server "$H" --bind 127.0.0.1 >/dev/null 2>&1 &
HTTP=$!
t_track "$HTTP"
t_wait 10 curl -s -o /dev/null "http://127.0.0.1:$H/" || fail "http.server is up" "no answer on $H"
# shellcheck disable=SC2016
# DNS answers are recorded: the live "dns" object is the replay's too
ct_start "$OUT" "$ERR" -b -o json -d 0.5 -f "$F" -w "$REC" --prometheus "$PROM" || exit 1
lg -c "$TAG" accept 127.0.0.1 $P 40
lg -c "$TAG" refuse 127.0.0.1 $Q 5
lg -c "$TAG" -N accept 127.0.0.1 $P 20
for _ in 1 2 3; do "$T_TMP/${TAG}c" -s -o /dev/null "http://127.0.0.1:$H/" || fail "curl" "no answer"; done
python3 -c 'import ctypes, socket, sys
ctypes.CDLL(None).prctl(15, sys.argv[2].encode(), 0, 0, 0)  # PR_SET_NAME
socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()' "$H" "${TAG}p"
if ! { wait_count "$OUT" $P 60 && wait_count "$OUT" $Q 5 && wait_count "$OUT" $H 4; }; then
	fail "live: the connects seen" "$(count "$OUT" $P) $(count "$OUT" $Q) $(count "$OUT" $H)"
fi
rc=0; ct_stop || rc=$?
check "live: clean exit on SIGINT" 0 "$rc"
check "live: no recording error" 0 "$(grep -c 'recording\|-w' "$ERR")"
chmod a+r "$REC"

NB=$T_TMP/nobody # where nobody may write
mkdir "$NB" && chmod 777 "$NB"
RP=$T_TMP/replay.json RPROM=$NB/replay.prom RERR=$T_TMP/rerr
rc=0; as_nobody "$CONNECTTOP" --read "$REC" -b -o json -f "$F" --prometheus "$RPROM" >"$RP" 2>"$RERR" || rc=$?
check "replay as nobody: exit 0" 0 "$rc"
check "replay: nothing on stderr" "" "$(cat "$RERR")"
check "replay: as many lines as live" "$(wc -l <"$OUT")" "$(wc -l <"$RP")"
if cmp -s "$OUT" "$RP"; then pass "replay: the JSON is byte for byte the live one"; else
	fail "replay: the JSON is byte for byte the live one" "$(diff "$OUT" "$RP" | head -c 600)"; fi
if cmp -s "$PROM" "$RPROM"; then pass "replay: the Prometheus file is the live one"; else
	fail "replay: the Prometheus file is the live one" "$(diff "$PROM" "$RPROM" | head -c 600)"; fi
# what they hold, so that two empty outputs could not pass
row() { last_json "$RP" | jq -c --argjson p "$1" "[.rows[] | select(.dport == \$p) | $2]"; }
check "replay: 60 accepted to $P" '[[60,60]]' "$(row $P '[.count, .results.ok]')"
check "replay: 5 refused to $Q" '[[5,5]]' "$(row $Q '[.count, .results.refused]')"
check "replay: curl and python to $H" "[[\"${TAG}c\",3],[\"${TAG}p\",1]]" \
	"$(last_json "$RP" | jq -c --argjson p $H '[.rows[] | select(.dport == $p) | [.comm, .count]] | sort')"
check_num "replay: a latency for $P" '. > 0' "$(row $P '.lat_p99_us' | jq '.[0]')"
# (drops as live, whatever other tests' storms made them: the capture's
# own tests assert drops 0)
check "replay: drops and missed as live" "$(last_json "$OUT" | jq -c '[.drops, .missed]')" "$(last_json "$RP" | jq -c '[.drops, .missed]')"
# another interval than recorded: the same totals
check "replay -d 2: the same totals" "$(last_json "$RP" | jq -c '[.events, .outcomes]')" \
	"$(as_nobody "$CONNECTTOP" --read "$REC" -b -o json -d 2 | tail -n 1 | jq -c '[.events, .outcomes]')"
check "replay -o csv: 60 to $P" 60 \
	"$(as_nobody "$CONNECTTOP" --read "$REC" -b -o csv -f "$F" | awk -F, -v p=$P '$7 == p { n = $10 } END { print n }')"
# --from: the intervals that end after the first live line's time (plus 1 ms,
# written with an offset of +01:00): every live line but the first
T1=$(head -n 1 "$OUT" | jq -r .time)
FROM=$(python3 -c 'import sys, datetime as d; t = d.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%fZ") + d.timedelta(milliseconds=1, hours=1); print(t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+01:00")' "$T1")
if cmp -s <(tail -n +2 "$OUT") <(as_nobody "$CONNECTTOP" --read "$REC" -b -o json -f "$F" --from "$FROM"); then
	pass "replay --from $FROM: the live lines after $T1"; else
	fail "replay --from $FROM: the live lines after $T1" "$(as_nobody "$CONNECTTOP" --read "$REC" -b -o json -f "$F" --from "$FROM" 2>&1 | head -c 300)"; fi
check "replay --to +0.1s: the intervals that ended by then" 0 \
	"$(as_nobody "$CONNECTTOP" --read "$REC" -b -o json -f "$F" --to +0.1s | wc -l)"

# --- 2. kill -9 loses at most the last second ---
REC2=$T_TMP/k9.ctr OUT2=$T_TMP/k9.json
ct_start "$OUT2" "$ERR" -b -o json -d 0.5 -f "$F" -w "$REC2" || exit 1
lg -c "$TAG" accept 127.0.0.1 $K 30
wait_count "$OUT2" $K 30 || fail "kill -9: the connects seen live" "$(count "$OUT2" $K)"
# a second after they were seen, their block is on disk
sleep 1.2
kill -KILL "$CT_PID"
wait "$CT_PID" 2>/dev/null
t_untrack "$CT_PID"
chmod a+r "$REC2"
R2=$T_TMP/k9r.json
rc=0; as_nobody "$CONNECTTOP" --read "$REC2" -b -o json -f "$F" >"$R2" 2>"$RERR" || rc=$?
check "kill -9: the file replays (exit 0)" 0 "$rc"
check "kill -9: cut short, said so" 1 "$(grep -c 'no end record: the recording was cut short' "$RERR")"
check "kill -9: all 30 connects replayed" 30 "$(count "$R2" $K)"
live_n=$(wc -l <"$OUT2") rep_n=$(wc -l <"$R2")
# at 0.5 s intervals a second is two lines (three with the one in flight)
check_num "kill -9: $rep_n of $live_n intervals replayed" ". >= $live_n - 3 and . <= $live_n" "$rep_n"
if cmp -s "$R2" <(head -n "$rep_n" "$OUT2"); then pass "kill -9: each replayed line is the live one"; else
	fail "kill -9: each replayed line is the live one" "$(diff "$R2" <(head -n "$rep_n" "$OUT2") | head -c 400)"; fi

# --- 3. a full disk stops the recording, not the capture ---
MNT=$T_TMP/full
mkdir "$MNT"
if mount -t tmpfs -o size=256k tmpfs "$MNT"; then
	t_on_exit "umount '$MNT'"
	OUT3=$T_TMP/full.json
	ct_start "$OUT3" "$ERR" -b -o json -d 0.5 -f "$F" -w "$MNT/rec.ctr" || exit 1
	# UDP connects with a process name each: incompressible enough to fill it
	for i in $(seq 1 40); do lg -c "$TAG$i" udp 127.0.0.1 $U 2000; done
	t_wait 20 grep -q 'stopped: No space left on device' "$ERR" ||
		fail "full disk: the recording stops with a message" "$(tail -c 300 "$ERR")"
	lg -c "$TAG" accept 127.0.0.1 $Y 7
	wait_count "$OUT3" $Y 7 || fail "full disk: the capture goes on" "$(count "$OUT3" $Y)"
	rc=0; ct_stop || rc=$?
	check "full disk: clean exit on SIGINT" 0 "$rc"
	check "full disk: said once" 1 "$(grep -c 'stopped: No space left' "$ERR")"
	rc=0; "$CONNECTTOP" --read "$MNT/rec.ctr" -b -o json >/dev/null 2>"$RERR" || rc=$?
	check "full disk: the file replays to its last whole block" 0 "$rc"
	check "full disk: and says it was cut short" 1 "$(grep -c 'no end record' "$RERR")"
	check_num "full disk: and it fills the disk" '. > 131072' "$(stat -c %s "$MNT/rec.ctr")"
else
	fail "full disk: a tmpfs of 256K" "mount failed"
fi

# --- 4. rotation: --max-file-size 64K, read back as one series ---
mkdir "$T_TMP/rot"
# UDP connects, a process name each: incompressible enough to rotate; the
# recording ends once file LAST is begun
rot_run() { # FILE LAST LIVE-JSON ARGS...
	local f=$1 last=$2 out=$3
	shift 3
	ct_start "$out" "$ERR" -b -o json -d 0.5 -f "$F" -w "$f" --max-file-size 64K "$@" || exit 1
	# (a 64K file holds 6,000-8,000 of these: 40 runs are room enough
	# for 5 files, a run ends the loop as soon as the file is there)
	for i in $(seq 1 40); do
		lg -c "$TAG$i" udp 127.0.0.1 $U 2000
		[ -e "$f.$last" ] && break
	done
	t_wait 10 test -e "$f.$last" || fail "rotation: file $last begun" "$(ls "$T_TMP/rot")"
	rc=0; ct_stop || rc=$?
	check "rotation $*: clean exit on SIGINT" 0 "$rc"
}
totals() { last_json "$1" | jq -c '[.events, .outcomes]'; }
ALL=$T_TMP/rot/all.ctr
rot_run "$ALL" 2 "$T_TMP/all.json"
rc=0; "$CONNECTTOP" --read "$ALL" -b -o json -f "$F" >"$T_TMP/all.rp" 2>"$RERR" || rc=$?
check "rotation: the series replays, exit 0, nothing on stderr" "0 " "$rc $(cat "$RERR")"
check "rotation: the series replayed: the live totals" "$(totals "$T_TMP/all.json")" "$(totals "$T_TMP/all.rp")"
if cmp -s "$T_TMP/all.json" "$T_TMP/all.rp"; then pass "rotation: the series replayed is byte for byte the live JSON"; else
	fail "rotation: the series replayed is byte for byte the live JSON" "$(diff "$T_TMP/all.json" "$T_TMP/all.rp" | head -c 400)"; fi
rc=0; "$CONNECTTOP" --read "$ALL.1" -b -o json >/dev/null 2>"$RERR" || rc=$?
check "rotation: from its second file: said" "0 1" "$rc $(grep -c 'starts at file 1 of the rotation' "$RERR")"

ROT=$T_TMP/rot/r.ctr
rot_run "$ROT" 5 "$T_TMP/rot.json" --max-files 3
n=$(find "$T_TMP/rot" -name 'r.ctr*' | wc -l)
check "rotation: the newest 3 files kept" 3 "$n"
check "rotation: the first one deleted" no "$([ -e "$ROT" ] && echo yes || echo no)"
for f in "$T_TMP"/rot/r.ctr*; do
	sz=$(stat -c %s "$f")
	check_num "rotation: ${f##*/} of $sz bytes, within the bound" '. <= 65536' "$sz"
done
rc=0; "$CONNECTTOP" --read "$ROT" -b -o json -f "$F" >"$T_TMP/rot.rp" 2>"$RERR" || rc=$?
check "rotation: what is left replays (exit 0)" 0 "$rc"
# "... files 0 to 2 are not read (...): their E events and O outcomes ..."
said=$(sed -n 's/.*starts at file \([0-9]*\) of the rotation.*their \([0-9]*\) events and \([0-9]*\) outcomes are not in the totals.*/\1 \2 \3/p' "$RERR")
# the oldest file left (3, or later if the ring's last events, written
# after the file 5 was seen, began a sixth)
oldest=$(find "$T_TMP/rot" -name 'r.ctr.*' | sed 's/.*\.//' | sort -n | head -n1)
check "rotation: the deleted files said (from the oldest left)" "${oldest:-?}" "${said%% *}"
read -r _ del_e del_o <<<"$said"
check_num "rotation: they held events" '. > 0' "${del_e:-0}"
check "rotation: replayed + deleted = the live totals" "$(totals "$T_TMP/rot.json")" \
	"$(last_json "$T_TMP/rot.rp" | jq -c --argjson e "${del_e:-0}" --argjson o "${del_o:-0}" '[.events + $e, .outcomes + $o]')"
check "rotation: the last line's stats past them as live" "$(last_json "$T_TMP/rot.json" | jq -c '[.drops, .missed, .time]')" \
	"$(last_json "$T_TMP/rot.rp" | jq -c '[.drops, .missed, .time]')"

# --- 5. damaged and foreign files ---
bad() { # WANT_RC WANT_TEXT FILE
	local rc=0
	as_nobody "$CONNECTTOP" --read "$3" -b -o json >"$T_TMP/o" 2>"$T_TMP/e" || rc=$?
	if [ "$rc" = "$1" ] && grep -qF -- "$2" "$T_TMP/e"; then pass "$(basename "$3"): exit $1, '$2'"; else
		fail "$(basename "$3"): exit $1, '$2'" "rc $rc: $(head -c 300 "$T_TMP/e")"; fi
}
size=$(stat -c %s "$REC")
head -c $((size - 7)) "$REC" >"$T_TMP/trunc.ctr"
head -c 100 "$REC" >"$T_TMP/header.ctr"
flip() { # FILE OFFSET OUT
	python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[int(sys.argv[2])] ^= 0x10; open(sys.argv[3], "wb").write(b)' "$@"
}
flip "$REC" $((size / 2)) "$T_TMP/flip.ctr"
flip "$REC" 8 "$T_TMP/v18.ctr" # the version: 2 -> 18
chmod a+r "$T_TMP"/*.ctr
bad 1 "truncated at byte $((size - 7))" "$T_TMP/trunc.ctr"
bad 1 "corrupt block at byte" "$T_TMP/flip.ctr"
bad 2 "truncated at byte 100, in its header" "$T_TMP/header.ctr"
bad 2 "recording format version 18 (byte 8)" "$T_TMP/v18.ctr"
bad 2 "not a connecttop recording" "$OUT"
bad 2 "No such file" "$T_TMP/nope.ctr"

# A reader of the format as the man page gives it (python's zlib): the
# blocks of the kill -9 file, the intervals that ended in each; the file is
# cut in the middle of the last block, and the replay prints exactly the
# intervals of the blocks before it, as live, and exits 1.
# shellcheck disable=SC2016
read -r cut_at want_lines < <(python3 -c '
import struct, sys, zlib
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89CTREC\r\n", "magic"
hlen = struct.unpack_from("<H", b, 10)[0]
assert zlib.crc32(b[:hlen - 4]) == struct.unpack_from("<I", b, hlen - 4)[0], "header crc"
off, ticks = hlen, []
while off < len(b):
    magic, stored, raw, crc = struct.unpack_from("<4sIII", b, off)
    assert magic == b"CTBK" and zlib.crc32(b[off + 16:off + 16 + stored], zlib.crc32(b[off:off + 12])) == crc
    data, p, n = zlib.decompress(b[off + 16:off + 16 + stored]), 0, 0
    assert len(data) == raw
    while p < len(data):
        ln, typ, fl = struct.unpack_from("<HBB", data, p)
        n += typ == 2 and fl & 1
        p += 4 + ln
    ticks.append((off, stored, n))
    off += 16 + stored
last = ticks[-1]
print(last[0] + 16 + last[1] // 2, sum(t[2] for t in ticks[:-1]))
' "$REC2")
head -c "$cut_at" "$REC2" >"$T_TMP/cut.ctr"
rc=0; "$CONNECTTOP" --read "$T_TMP/cut.ctr" -b -o json -f "$F" >"$T_TMP/cut.json" 2>"$RERR" || rc=$?
check "truncated in the last block: exit 1" 1 "$rc"
check "truncated in the last block: the offset named" 1 "$(grep -c "truncated at byte $cut_at" "$RERR")"
check "truncated in the last block: the $want_lines intervals before it printed" "$want_lines" "$(wc -l <"$T_TMP/cut.json")"
if cmp -s "$T_TMP/cut.json" <(head -n "$want_lines" "$OUT2"); then pass "truncated: each printed line is the live one"; else
	fail "truncated: each printed line is the live one" "$(diff "$T_TMP/cut.json" <(head -n "$want_lines" "$OUT2") | head -c 400)"; fi

usage() { # WANT ARGS...
	local want=$1 rc=0
	shift
	"$CONNECTTOP" "$@" >/dev/null 2>"$T_TMP/e" || rc=$?
	if [ "$rc" = 2 ] && grep -qF -- "$want" "$T_TMP/e"; then pass "usage: $*"; else
		fail "usage: $*" "rc $rc: $(head -c 300 "$T_TMP/e")"; fi
}
usage "capture options" --read "$REC" -b -P 80
usage "needs --max-file-size" -b -w "$T_TMP/x" --max-files 3
usage "are for -w FILE" -b --max-file-size 1M
usage "are for --read FILE" -b --speed 2
usage "exclude each other" --read "$REC" -w "$T_TMP/x" -b
usage "expected RFC 3339" --read "$REC" -b --from yesterday
t_finish test_record
