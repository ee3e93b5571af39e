#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The map of TCP sockets followed through their handshake ("socks", 65536 by
# default) made small (--test-inflight-max 16), then flooded with 48
# non-blocking connects left in SYN_SENT together: it stays within its bound,
# the sockets that found no room are counted as drops, and their connects as
# "other" (EINPROGRESS: outcome not followed) instead of pending for ever;
# those that found room get their real outcome; every connect counted once,
# also when the program asks for the result by calling connect() again
# (EALREADY while under way: a second instance, a second port). -P keeps the
# host's other connects out of these maps.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
need_bpf
need_tools ip nft bpftool jq
ns_create || exit 1
P=7100 N=48 MAX=16
ns_nft "
table inet ctover {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport { $P, $((P + 1)) } drop
	}
}" || exit 1
TAG=ov$(printf %04d $(($$ % 10000)))
ct_start "$T_TMP/poll.json" "$T_TMP/poll.err" -b -o json -d 0.5 -f "$TAG" -P $P --test-inflight-max $MAX || exit 1
C1=$CT_PID SOCKS=$(map_id socks)
ct_start "$T_TMP/again.json" "$T_TMP/again.err" -b -o json -d 0.5 -f "$TAG" -P $((P + 1)) --test-inflight-max $MAX || exit 1
C2=$CT_PID
check "socks: max_entries as asked" $MAX "$(bpftool map show id "$SOCKS" -j | jq .max_entries)"

# N threads, one connect each, all in SYN_SENT together (timed out 3 s later)
lgns -c "${TAG}poll" -T $N -N -w 6000 timeout 127.0.0.1 $P $N &
L1=$!
lgns -c "${TAG}again" -T $N -N -R -w 6000 timeout 127.0.0.1 $((P + 1)) $N &
L2=$!
T_PIDS="$T_PIDS $L1 $L2"
peak=0
for _ in $(seq 1 20); do
	n=$(bpftool map dump id "$SOCKS" -j 2>/dev/null | jq 'unique_by(.key) | length')
	[ "${n:-0}" -gt "$peak" ] && peak=$n
	sleep 0.1
done
wait "$L1" "$L2"
sleep 0.6
for c in $C1 $C2; do
	kill -INT "$c"
	wait "$c" || fail "exit status of connecttop $c" "not 0"
done
check "socks never above its bound (peak sampled)" yes "$([ "$peak" -le $MAX ] && [ "$peak" -gt 0 ] && echo yes)"
for k in poll again; do
	OUT=$T_TMP/$k.json
	r() { rowsum "$OUT" "${TAG}$k" "$1"; }
	check "$k: every connect counted once" $N "$(r .count)"
	check "$k: none left pending" 0 "$(r .results.pending)"
	check "$k: timeout + other add up" $N "$(($(r .results.timeout) + $(r .results.other)))"
	other=$(r .results.other)
	check "$k: some found no room (other)" yes "$([ "$other" -ge $((N - MAX)) ] && echo yes)"
	check "$k: those are EINPROGRESS: outcome not followed" "$other" "$(r .errors.EINPROGRESS)"
	check "$k: the others got their real outcome (ETIMEDOUT)" "$(r .results.timeout)" "$(r .errors.ETIMEDOUT)"
	check "$k: each one that found no room is a drop, once" "$other" "$(last_json "$OUT" | jq .drops)"
	echo "note: $k: timeout $(r .results.timeout), other $other, drops $(last_json "$OUT" | jq .drops)"
done
echo "note: peak $peak of $MAX"
