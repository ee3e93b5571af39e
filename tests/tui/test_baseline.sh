#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What changed since a baseline, on the real screen at 80x24: b marks one;
# a flow that starts failing after it shows "worse 2%→40%" (49 accepted and
# 1 refused before, 6 and 4 since), one that appears shows "new", one with
# no connect since "silent"; the filter terms worse and new select them; B
# clears the baseline and the CHANGE column goes; FAIL stays shown at 80.
. "$(dirname "$0")/lib.sh"
need_bpf
if ! command -v tmux >/dev/null; then
	if [ "${CI:-}" = true ]; then fail "tmux installed" "not found (make test-deps)"; exit 1; fi
	echo "SKIP: tmux not installed (make test-deps)"
	exit 0
fi
T=$(tui_tag)
B=$(port_base)
P=$((B + 1)) N=$((B + 2)) Q=$((B + 3))

# change PORT: the CHANGE cell of the row of port PORT ("" if none), from
# where the title starts to the next column (it holds a space)
change() {
	local hdr line pre
	hdr=$(tui_header "$SCR")
	case "$hdr" in *CHANGE*) ;; *) echo "(no CHANGE column)"; return ;; esac
	pre=${hdr%%CHANGE*}
	line=$(tui_rows "$SCR" | grep -E -m1 " $1 ") || { echo "(no row)"; return; }
	line=${line:${#pre}:15}
	printf '%s\n' "${line%"${line##*[! ]}"}"
}
# wait_change PORT WANT: until the row of PORT shows WANT (refresh 0.5 s)
wait_change() {
	local i
	for ((i = 0; i < 60; i++)); do
		tui_settle
		[ "$(change "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
ports() { tui_colv "$SCR" PORT | sort -u | tr '\n' ' ' | sed 's/ $//'; }
wait_ports() {
	local i
	for ((i = 0; i < 60; i++)); do
		tui_settle
		[ "$(ports)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# total PORT WANT: until the row of PORT has TOTAL WANT
wait_total() {
	local i row
	for ((i = 0; i < 60; i++)); do
		tui_settle
		row=$(tui_rows "$SCR" | grep -E -m1 " $1 ")
		[ -n "$row" ] && [ "$(tui_col "$(tui_header "$SCR")" "$row" TOTAL)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

tui_session bl 80 24 || { fail "tmux session" "no shell prompt"; exit 1; }
tui_start -d 0.5 -f "$T" || exit 1
lg -c "$T" accept 127.0.0.1 $P 49
lg -c "$T" refuse 127.0.0.1 $P 1
lg -c "$T" accept 127.0.0.1 $Q 3
wait_total $P 50 || fail "the first 50 connects shown" "$(tui_rows "$SCR")"
wait_total $Q 3 || fail "the other flow shown" "$(tui_rows "$SCR")"
check "no baseline: no CHANGE column" "" "$(tui_header "$SCR" | grep -o CHANGE)"
tui_keys b
tui_wait_fixed "baseline:" 3 || fail "b: the status line says baseline" "$(tui_status "$SCR")"
check "b: the CHANGE column at 80 columns" CHANGE "$(tui_header "$SCR" | grep -o CHANGE)"
check "b: FAIL still shown at 80 columns" FAIL "$(tui_header "$SCR" | grep -o 'FAIL')"

lg -c "$T" accept 127.0.0.1 $P 6
lg -c "$T" refuse 127.0.0.1 $P 4
lg -c "$T" refuse 127.0.0.1 $N 2
if wait_change $P "worse 2%→40%"; then pass "a flow failing since b: worse 2%→40%"; else
	fail "a flow failing since b: worse 2%→40%" "got '$(change $P)'"; fi
if wait_change $N new; then pass "a flow appearing since b: new"; else
	fail "a flow appearing since b: new" "got '$(change $N)'"; fi
if wait_change $Q silent; then pass "a flow with no connect since b: silent"; else
	fail "a flow with no connect since b: silent" "got '$(change $Q)'"; fi

# the filter terms
tui_keys /
tui_wait_re '^filter:' 3 || fail "filter prompt" "no 'filter:' line"
tui_type " worse"
tui_keys Enter
if wait_ports "$P"; then pass "filter worse: the failing flow only"; else
	fail "filter worse: the failing flow only" "ports shown: $(ports)"; fi
tui_keys /
tui_wait_re '^filter:' 3 || fail "filter prompt" "no 'filter:' line"
tui_keys C-u
tui_type "$T new"
tui_keys Enter
if wait_ports "$N"; then pass "filter new: the new flow only"; else
	fail "filter new: the new flow only" "ports shown: $(ports)"; fi
tui_keys /
tui_wait_re '^filter:' 3 || fail "filter prompt" "no 'filter:' line"
tui_keys C-u
tui_type "$T new:1"
if tui_wait_fixed "takes no value" 3; then pass "new:1: a usage error on the prompt"; else
	fail "new:1: a usage error on the prompt" "$(tui_status "$SCR")"; fi
tui_keys C-u
tui_type "$T"
tui_keys Enter

# B: no baseline, no column
tui_keys B
tui_wait_fixed "baseline cleared" 3 || fail "B: the status line says so" "$(tui_status "$SCR")"
check "B: the CHANGE column goes" "" "$(tui_header "$SCR" | grep -o CHANGE)"
tui_keys q
check "q: exit 0, terminal restored" "CTEXIT rc=0 tty=same" "$(tui_wait_exit 5)"
