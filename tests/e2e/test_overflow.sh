#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The map of TCP sockets followed through their handshake ("socks", 65536 by
# default) made small (CONNECTTOP_INFLIGHT_MAX=16), then flooded with 48
# non-blocking connects left in SYN_SENT together: it stays within its bound,
# the sockets that found no room are counted as drops, and their connects as
# "other" (EINPROGRESS: outcome not followed) instead of pending for ever;
# those that found room get their real outcome; every connect counted once.
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
		tcp dport $P drop
	}
}" || exit 1
TAG=ov$(printf %04d $(($$ % 10000)))
OUT=$T_TMP/out.json ERR=$T_TMP/err
CONNECTTOP_INFLIGHT_MAX=$MAX ct_start "$OUT" "$ERR" -b -o json -d 0.5 -f "$TAG" || exit 1
SOCKS=$(map_id socks)
check "socks: max_entries as asked" $MAX "$(bpftool map show id "$SOCKS" -j | jq .max_entries)"

# N threads, one connect each, all in SYN_SENT together (timed out 3 s later)
lgns -c "${TAG}flood" -T $N -N -w 6000 timeout 127.0.0.1 $P $N &
T_PIDS="$T_PIDS $!"
lg_pid=$!
peak=0
for _ in $(seq 1 20); do
	n=$(bpftool map dump id "$SOCKS" -j 2>/dev/null | jq 'unique_by(.key) | length')
	[ "${n:-0}" -gt "$peak" ] && peak=$n
	sleep 0.1
done
wait "$lg_pid"
sleep 0.6
rc=0
ct_stop || rc=$?
check "exit status 0" 0 "$rc"
r() { rowsum "$OUT" "${TAG}flood" "$1"; }
check "socks never above its bound (peak sampled)" yes "$([ "$peak" -le $MAX ] && [ "$peak" -gt 0 ] && echo yes)"
check "every connect counted once" $N "$(r .count)"
check "none left pending" 0 "$(r .results.pending)"
check "timeout + other add up" $N "$(( $(r .results.timeout) + $(r .results.other) ))"
other=$(r .results.other)
check "some found no room (other)" yes "$([ "$other" -ge $((N - MAX)) ] && echo yes)"
check "those are EINPROGRESS: outcome not followed" "$other" "$(r .errors.EINPROGRESS)"
check "the others got their real outcome (ETIMEDOUT)" "$(r .results.timeout)" "$(r .errors.ETIMEDOUT)"
drops=$(last_json "$OUT" | jq .drops)
# drops are the host's: another process's connect that found no room in
# these 3 s would be one too; counted twice, they would reach 2 x other
check "each one that found no room is a drop, once" yes "$([ "$drops" -ge "$other" ] && [ "$drops" -lt $((2 * other)) ] && echo yes)"
echo "note: peak $peak of $MAX, timeout $(r .results.timeout), other $other, drops $drops"
