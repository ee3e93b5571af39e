#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A short-lived process keeps the command line it had at its connect: two
# python processes each connect once (refused, on this run's port) and exit
# at once, and are reaped, before the view reads their events (it reads the
# ring buffer once per interval, -d 1); then the details pane (Enter on the
# row, tmux 100x30) lists both pids, each with its own command line, marker
# argument included. /proc has nothing left of them by then: the command
# line is the one BPF read in the process's context at its connect
# (CT_EV_CMDLINE).
. "$(dirname "$0")/lib.sh"
need_bpf
need_tools tmux python3
W=100 H=30
P=$(($(port_base) + 11))
T=$(tui_tag)
# the interpreter itself (not a wrapper script such as pyenv's shim), shown
# as "py" (exec -a) so that the whole command line fits the pane
PY=$(python3 -c 'import sys; print(sys.executable)')
cat >"$T_TMP/c.py" <<'EOF'
import socket, sys
socket.socket().connect_ex(("127.0.0.1", int(sys.argv[2])))
EOF

tui_session sl $W $H || { fail "tmux session" "no shell prompt"; exit 1; }
tui_start -d 1 -P "$P" || exit 1

# each: its pid to a file, then it becomes python, connects and exits
for m in 1 2; do
	bash -c 'echo $$ >"$0"; exec -a py "$1" "$2" "$3" "$4"' "$T_TMP/pid$m" \
		"$PY" "$T_TMP/c.py" "${T}mark$m" "$P"
done
PID1=$(cat "$T_TMP/pid1")
PID2=$(cat "$T_TMP/pid2")
check "the processes are gone (nothing left in /proc)" "no no" \
	"$([ -e "/proc/$PID1" ] && echo yes || echo no) $([ -e "/proc/$PID2" ] && echo yes || echo no)"

if tui_wait_re "^python3?[^ ]*/[0-9]+\(2\) +127\.0\.0\.1 +$P " 10; then
	pass "one row: 2 pids"
else
	fail "one row: 2 pids" "$(tui_rows "$SCR" | head -3)"
fi
tui_keys Enter
if tui_wait_fixed " details (Esc closes)" 5 && tui_wait_re '^ pids \(2\)' 3; then
	pass "Enter: the details pane"
	for m in 1 2; do
		pid=$(cat "$T_TMP/pid$m")
		line=$(grep -E "^ +$pid " <<<"$SCR" | head -1)
		check "details: pid $m listed" yes "$([ -n "$line" ] && echo yes)"
		check "details: pid $m: its command line, marker argument included" \
			"py $T_TMP/c.py ${T}mark$m $P" "$(sed -E 's/^ +[0-9]+ +[^ ]+ +//; s/ *$//' <<<"$line")"
	done
else
	fail "Enter: the details pane" "$(head -3 <<<"$SCR")"
fi
tui_keys Escape q
check "q: exit 0, terminal restored" "CTEXIT rc=0 tty=same" "$(tui_wait_exit 5)"
t_finish "tui/test_shortlived.sh"
