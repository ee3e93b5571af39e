#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Outcomes that find the ring buffer full. connecttop is stopped (SIGSTOP)
# while non-blocking connects to a port that drops SYNs are closed 30 ms
# later (each one's outcome: the application gave up): the small ring buffer
# fills with the connects, so later connects are dropped (counted) and the
# outcomes of the connects counted find no room. Such an outcome stays in
# the BPF map for user space to deliver; before, it was deleted and its
# connect stayed pending for ever, counted in the drops besides. Checked
# once connecttop runs again: events + drops == calls, every counted connect
# settled as abandoned, none pending, late outcomes reported.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
need_bpf
need_tools ip nft jq
ns_create || exit 1
PORT=5555 N=2000
ns_nft "
table inet cttest {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport $PORT drop
	}
}" || exit 1
TAG=lo$(printf %04d $(($$ % 10000)))
OUT=$T_TMP/out.json ERR=$T_TMP/err
ct_start "$OUT" "$ERR" -b -o json -d 0.2 --ringbuf-size 64K --wakeup-bytes 32K -P $PORT -f "$TAG" || exit 1

kill -STOP "$CT_PID"
# 16 threads; the ring buffer (64 KiB, 104-byte records) holds ~580
lgns -c "$TAG" -T 16 -N -w 30 timeout 127.0.0.1 $PORT $N
kill -CONT "$CT_PID"

# until each counted connect is settled (or 10 s)
state() { last_json "$OUT" | jq -c --arg c "$TAG" '{events, drops, outcomes_late,
	count: ([.rows[] | select(.comm == $c) | .count] | add // 0),
	pending: ([.rows[] | select(.comm == $c) | .results.pending] | add // 0),
	abandoned: ([.rows[] | select(.comm == $c) | .results.abandoned] | add // 0),
	errors: ([.rows[] | select(.comm == $c) | .errors | keys[]] | unique)}' 2>/dev/null; }
for _ in $(seq 1 100); do
	s=$(state)
	[ -n "$s" ] && [ "$(jq .pending <<<"$s")" = 0 ] && [ "$(jq .count <<<"$s")" != 0 ] && break
	sleep 0.1
done
rc=0
ct_stop || rc=$?
s=$(state)
echo "note: $s"
check "exit status 0 on SIGINT" 0 "$rc"
check "counted + dropped == calls" $N "$(jq '.count + .drops' <<<"$s")"
check "events == counted (only this test's port is traced)" "$(jq .count <<<"$s")" "$(jq .events <<<"$s")"
check "none left pending" 0 "$(jq .pending <<<"$s")"
check "each counted connect: abandoned" "$(jq .count <<<"$s")" "$(jq .abandoned <<<"$s")"
check "no errno shown for them" '[]' "$(jq -c .errors <<<"$s")"
check "the ring buffer was full (drops > 0: the case is made)" true "$(jq '.drops > 0' <<<"$s")"
check "late outcomes reported" true "$(jq '.outcomes_late > 0' <<<"$s")"
