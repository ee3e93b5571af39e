#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# -w with the screen (issue 15): the view records while it shows the live
# table; after q the file replays (-b, as nobody) with this run's connects,
# and the screen replay shows the process's command line as the capture read
# it. On a full disk (a tmpfs of 128K) the status line says the recording
# stopped, and the table goes on. ~15 s.
. "$(dirname "$0")/lib.sh"
need_bpf
if ! command -v tmux >/dev/null; then
	if [ "${CI:-}" = true ]; then fail "tmux installed" "not found (make test-deps)"; exit 1; fi
	echo "SKIP: tmux not installed (make test-deps)"
	exit 0
fi
T=$(tui_tag)
B=$(port_base)
P=$((B + 1)) U=$((B + 2))
REC=$T_TMP/view.ctr
chmod a+rx "$T_TMP"
# expect NAME CMD...: a wait that passes or fails by name
expect() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "$(tail -6 <<<"$SCR")"; fi
}

tui_session rec 100 30 || exit 1
tui_start -w "$REC" -f "$T" -d 0.5 || exit 1
lg -c "$T" accept 127.0.0.1 $P 30
expect "the view shows the 30 connects" tui_wait_re "^$T/[0-9]+ .* $P .* 30 " 10
tui_keys q
check "q: exit 0, terminal restored" "CTEXIT rc=0 tty=same" "$(tui_wait_exit)"
chmod a+r "$REC"
J=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$CONNECTTOP" --read "$REC" -b -o json -f "$T" | tail -n 1)
check "replay: the 30 connects" '[30,30]' "$(jq -c --argjson p $P '[.rows[] | select(.dport == $p) | .count, .results.ok]' <<<"$J")"
# the screen replay's details: loadgen's command line, as recorded
tui_start --read "$REC" -f "$T" --speed 100 || exit 1
expect "replay: the end reached" tui_wait_re '  end$' 10
tui_keys Enter
expect "replay details: the recorded command line" tui_wait_fixed "accept 127.0.0.1 $P 30" 5
tui_keys q
check "replay q: exit 0, terminal restored" "CTEXIT rc=0 tty=same" "$(tui_wait_exit)"

# a full disk: said on the status line, the table goes on
MNT=$T_TMP/full
mkdir "$MNT"
if mount -t tmpfs -o size=128k tmpfs "$MNT"; then
	t_on_exit "umount '$MNT'"
	tui_start -w "$MNT/r.ctr" -f "$T" -d 0.5 || exit 1
	for i in $(seq 1 30); do
		lg -c "$T$i" udp 127.0.0.1 $U 2000
		tui_has -F 'stopped: No space left' && break
	done
	expect "full disk: the status line says the recording stopped" \
		tui_wait_fixed 'stopped: No space left on device' 10
	lg -c "$T" accept 127.0.0.1 $P 9
	expect "full disk: the table goes on" tui_wait_re "^$T/[0-9]+ .* $P .* 9 " 10
	tui_keys q
	check "full disk: q: exit 0, terminal restored" "CTEXIT rc=0 tty=same" "$(tui_wait_exit)"
	check "full disk: said again at exit" 1 "$(grep -c 'recording to .* stopped: No space left' <<<"$SCR")"
else
	fail "full disk: a tmpfs of 128K" "mount failed"
fi
t_finish test_record_view
