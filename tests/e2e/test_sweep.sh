#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# In-flight TCP sockets whose resolution the BPF programs missed (a skipped
# run) would stay in the "socks" map for ever, and their connects pending.
# Such entries are made here by hand in this connecttop's own map: the sweep
# deletes those older than the SYN timeout allows, gives a counted one its
# outcome ("other", EINPROGRESS: not seen) and leaves a recent one alone.
# The age limit is set to 5 s (--test-sweep-age-secs): the default
# (314 s) is more than the uptime of a machine booted minutes ago, and no
# entry can be older than that (syn_ts is the kernel's monotonic clock).
. "$(dirname "$0")/lib.sh"
need_bpf
command -v bpftool >/dev/null && command -v perl >/dev/null || { fail "tools" "bpftool and perl needed"; exit 1; }
TAG=sw$(printf %04d $(($$ % 10000)))
OUT=$T_TMP/out.json ERR=$T_TMP/err
# the "old" entries went to SYN_SENT at 1 ns after boot: older than 5 s
# once the machine has been up for 5 s
until perl -MTime::HiRes=clock_gettime,CLOCK_MONOTONIC -e 'exit(clock_gettime(CLOCK_MONOTONIC) > 6 ? 0 : 1)'; do
	sleep 0.2
done
ct_start "$OUT" "$ERR" -b -o json -d 0.5 -f "$TAG" --test-sweep-secs 0.5 --test-sweep-age-secs 5 || exit 1
SOCKS=$(map_id socks) TOKENS=$(map_id tokens)
[ -n "$SOCKS" ] && [ -n "$TOKENS" ] || { fail "maps found" "socks='$SOCKS' tokens='$TOKENS'"; exit 1; }

# value KIND COMM SYN_TS: a struct ct_inflight (bpf/connecttop.h), as hex bytes
value() {
	perl -MTime::HiRes=clock_gettime,CLOCK_MONOTONIC -e '
my ($kind, $comm, $syn) = @ARGV;
$syn = int(clock_gettime(CLOCK_MONOTONIC) * 1e9) if $syn eq "now";
my $ev = pack("QQQQLLLlSSSCCa16a16a16", 0, 0, 0, 0, 4242, 4242, 0, -115, 7777, 2, 6, $kind, 1,
	pack("C4", 127, 0, 0, 1), $comm, $comm);
print join(" ", map { sprintf "%02x", $_ } unpack("C*", $ev . pack("QQlLQ", $syn, 0, 0, 0, 0))), "\n";
' "$@"
}
key() { printf "hex %02x 00 00 00 00 00 00 00" "$1"; }
ok=1
for e in "1 1 ${TAG}old 1" "2 0 ${TAG}unseen 1" "3 1 ${TAG}new now"; do
	set -- $e
	# shellcheck disable=SC2046
	bpftool map update id "$SOCKS" key $(key "$1") value hex $(value "$2" "$3" "$4") || ok=0
	# shellcheck disable=SC2046
	bpftool map update id "$TOKENS" key $(key "$1") value hex 01 || ok=0
done
check "entries put in the maps" 1 "$ok"
check "struct ct_inflight is 136 bytes, as the map's values" 136 "$(bpftool map show id "$SOCKS" -j | jq .bytes_value)"
# the sweep runs every 0.5 s here (the default is 10 s): until the old
# ones are gone (at most 10 s), while the recent one is less than 5 s old
has() { bpftool map lookup id "$1" key $(key "$2") >/dev/null 2>&1 && echo yes || echo no; }
for _ in $(seq 1 50); do
	# the sweep deletes an entry, then its token: wait for all three
	[ "$(has "$SOCKS" 1)$(has "$SOCKS" 2)$(has "$TOKENS" 1)" = nonono ] && break
	sleep 0.2
done
check "old counted entry: deleted" no "$(has "$SOCKS" 1)"
check "old counted entry: its token deleted" no "$(has "$TOKENS" 1)"
check "old entry never counted: deleted" no "$(has "$SOCKS" 2)"
check "recent entry: kept" yes "$(has "$SOCKS" 3)"
check "recent entry: its token kept" yes "$(has "$TOKENS" 3)"
bpftool map delete id "$SOCKS" key $(key 3) 2>/dev/null
bpftool map delete id "$TOKENS" key $(key 3) 2>/dev/null
ct_stop || fail "exit status" "not 0"
check "old counted entry: an outcome 'other' with EINPROGRESS" \
	'{"daddr":"127.0.0.1","dport":7777,"count":1,"results":{"ok":0,"refused":0,"timeout":0,"unreachable":0,"pending":0,"other":1,"abandoned":0},"errors":{"EINPROGRESS":1}}' \
	"$(last_json "$OUT" | jq -c --arg c "${TAG}old" '.rows[] | select(.comm == $c) | {daddr, dport, count, results, errors}')"
check "no row for the entries not swept or never counted" 0 \
	"$(last_json "$OUT" | jq --arg a "${TAG}new" --arg b "${TAG}unseen" '[.rows[] | select(.comm == $a or .comm == $b)] | length')"
