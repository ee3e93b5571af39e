#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One filter, one meaning: a -f expression longer than the view's old
# 128-byte copy (its terms past 127 bytes were dropped without a word) is
# applied whole on the screen, as in batch mode, and stays whole when the
# filter prompt edits it.
. "$(dirname "$0")/lib.sh"
need_bpf
if ! command -v tmux >/dev/null; then
	if [ "${CI:-}" = true ]; then fail "tmux installed" "not found (make test-deps)"; exit 1; fi
	echo "SKIP: tmux not installed (make test-deps)"
	exit 0
fi
T=$(tui_tag)
B=$(port_base)
# 300 bytes of terms every row matches, then the one that decides
pad=""
for i in $(seq 10 50); do pad="$pad!${T}pad$i "; done
expr="$pad port:$((B + 2))"
check "the expression is longer than 300 bytes" yes "$([ ${#expr} -gt 300 ] && echo yes)"

# ports: the rows of the flows shown with this run's process name
ports() { tui_colv "$SCR" PORT | sort -u | tr '\n' ' ' | sed 's/ $//'; }
# wait_rows WANT: until the ports shown are WANT (the refresh is 0.5 s)
wait_rows() {
	local i
	for ((i = 0; i < 60; i++)); do
		tui_settle
		[ "$(ports)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

tui_session lf 140 40 || { fail "tmux session" "no shell prompt"; exit 1; }
tui_start -d 0.5 -f "$expr" || exit 1
lg -c "${T}a" refuse 127.0.0.1 $((B + 1)) 3
lg -c "${T}b" refuse 127.0.0.1 $((B + 2)) 3
if wait_rows "$((B + 2))"; then pass "the last term of a long -f counts on the screen"; else
	fail "the last term of a long -f counts on the screen" "ports shown: $(ports)"; fi

# the prompt starts from the whole text: a term added at its end keeps the rest
tui_keys /
tui_wait_re '^filter:' 3 || fail "filter prompt" "no 'filter:' line"
tui_type " !${T}zz"
tui_keys Enter
lg -c "${T}a" refuse 127.0.0.1 $((B + 1)) 1
sleep 1.2 # two refreshes
if wait_rows "$((B + 2))"; then pass "edited in the prompt, the long filter is still whole"; else
	fail "edited in the prompt, the long filter is still whole" "ports shown: $(ports)"; fi
tui_keys q
check "q: exit 0, terminal restored" "CTEXIT rc=0 tty=same" "$(tui_wait_exit 5)"
