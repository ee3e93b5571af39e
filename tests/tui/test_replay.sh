#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The headless path (issue 15): a recorded fixture (fixtures/replay.ctr: web
# 47 accepted, api 5 refused, db 20 non-blocking accepted, recorded with -P
# on a test host "vm") replayed into the real screen at 80x24, run as nobody
# (no root, no BPF), each screen compared with the expected text under
# expected/ (the status line apart: its messages last a few seconds of wall
# clock): the end of the recording, the process view, a pause with g +1.5s
# (the state 1.5 s into the recording), the details of a row, the resume to
# the end, --from/--to. The same keys twice give the same screens. q restores
# the terminal. UPDATE=1 rewrites the expected screens (then read them).
# The fixture is recorded again when the event record or the format changes
# (connecttop refuses a file whose events or ticks are not its own), as root:
#   connecttop -b -o json -d 1 -P 24300 -w replay.ctr &   # then, 0.5 s apart:
#   loadgen -c web accept 127.0.0.1 24300 40; sleep 1; loadgen -c api refuse
#   127.0.0.1 24300 5; sleep 1; loadgen -c db -N accept 127.0.0.1 24300 20;
#   loadgen -c web accept 127.0.0.1 24300 7; sleep 1.5; kill -INT %1
. "$(dirname "$0")/lib.sh"
if ! command -v tmux >/dev/null; then
	if [ "${CI:-}" = true ]; then fail "tmux installed" "not found (make test-deps)"; exit 1; fi
	echo "SKIP: tmux not installed (make test-deps)"
	exit 0
fi
FIX=$TUI_DIR/fixtures/replay.ctr
EXP=$TUI_DIR/expected
cp "$FIX" "$T_TMP/replay.ctr"
chmod a+rx "$T_TMP" && chmod a+r "$T_TMP/replay.ctr"
# as nobody: tui_start runs $CONNECTTOP, here a wrapper that drops root
if [ "$(id -u)" = 0 ]; then
	printf '#!/bin/sh\nexec setpriv --reuid=nobody --regid=nogroup --clear-groups %q "$@"\n' "$CONNECTTOP" >"$T_TMP/ct-nobody"
	chmod a+rx "$T_TMP/ct-nobody"
	CONNECTTOP=$T_TMP/ct-nobody
fi

# the screen without its status line (LINES-2)
masked() { sed '23s/.*/(status line)/' <<<"$SCR"; }
# shot NAME: the settled screen, kept in $T_TMP/RUN-NAME, against expected/NAME.txt
shot() {
	tui_settle
	masked >"$T_TMP/$RUN-$1"
	if [ -n "${UPDATE:-}" ] && [ "$RUN" = 1 ]; then cp "$T_TMP/$RUN-$1" "$EXP/$1.txt"; fi
	if cmp -s "$EXP/$1.txt" "$T_TMP/$RUN-$1"; then pass "run $RUN: $1 as expected"; else
		fail "run $RUN: $1 as expected" "$(diff "$EXP/$1.txt" "$T_TMP/$RUN-$1" | head -20)"; fi
}

run() {
	RUN=$1
	tui_session "replay$RUN" 80 24 || { fail "tmux session" "no prompt"; return 1; }
	# fast: each refresh moves the clock 50 s on, past the end at once
	tui_start --read "$T_TMP/replay.ctr" --speed 50 || return 1
	tui_wait_re '\+0:00:04  end$' 10 || fail "run $RUN: the end reached" "$(head -1 <<<"$SCR")"
	shot end
	tui_keys Tab
	tui_wait_fixed 'view process' || fail "run $RUN: Tab" "$(sed -n 3p <<<"$SCR")"
	shot process
	# paused, then 1.5 s into the recording: web's first 40 alone
	tui_keys Space
	tui_wait_fixed 'FROZEN' || fail "run $RUN: Space pauses" "$(sed -n 3p <<<"$SCR")"
	tui_keys g
	tui_wait_fixed 'jump to (' || fail "run $RUN: g asks for a time" "$(tail -2 <<<"$SCR")"
	tui_type "+1.5s"
	tui_keys Enter
	tui_wait_re '\+0:00:01  paused$' || fail "run $RUN: g +1.5s" "$(head -1 <<<"$SCR")"
	shot paused-1.5s
	tui_keys Enter
	tui_wait_fixed 'details (Esc closes)' || fail "run $RUN: details" "$(head -1 <<<"$SCR")"
	shot details
	tui_keys Escape
	tui_wait_gone 'details (Esc closes)'
	# a time that is none: said, nothing moves
	tui_keys g
	tui_type "yesterday"
	tui_keys Enter
	tui_wait_fixed "'yesterday': a time is" || fail "run $RUN: a bad time refused" "$(tail -2 <<<"$SCR")"
	check "run $RUN: still at +1.5s" 1 "$(head -1 <<<"$SCR" | grep -c '+0:00:01  paused$')"
	# resumed: on to the end, the same totals as before the jump
	tui_keys Space
	tui_wait_re '\+0:00:04  end$' 10 || fail "run $RUN: resumed to the end" "$(head -1 <<<"$SCR")"
	shot resumed-end
	tui_keys q
	check "run $RUN: exit 0, terminal restored" "CTEXIT rc=0 tty=same" "$(tui_wait_exit)"
	# --from/--to: the state 3 s in, held there
	tui_start --read "$T_TMP/replay.ctr" --from +2s --to +3s -g process || return 1
	tui_wait_re '\+0:00:03  end$' 10 || fail "run $RUN: --to +3s holds" "$(head -1 <<<"$SCR")"
	shot from-to
	tui_keys q
	check "run $RUN: exit 0 after --to" "CTEXIT rc=0 tty=same" "$(tui_wait_exit)"
}

run 1
run 2
for f in "$T_TMP"/1-*; do
	n=${f##*/1-}
	if cmp -s "$f" "$T_TMP/2-$n"; then pass "deterministic: $n the same both runs"; else
		fail "deterministic: $n the same both runs" "$(diff "$f" "$T_TMP/2-$n" | head -10)"; fi
done
t_finish test_replay
