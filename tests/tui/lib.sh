# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Shared helpers of the terminal tests and of screenshots.sh (sourced).
# The real tool runs in a shell inside a tmux pane of a pinned size, on a
# private tmux server (its own socket) that is killed on exit; keys go in with
# send-keys, the screen comes back with capture-pane.
# Checks, need_bpf, port_base, lg, test cgroups, T_TMP, T_PIDS and the exit
# trap: tests/lib.sh.
set -u
TUI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# bash counts string lengths and offsets in characters only in a UTF-8 locale:
# the column helpers below rely on it (the screen has ▼, ↕ and block marks)
export LC_ALL=C.UTF-8
# shellcheck source=SCRIPTDIR/../lib.sh
. "$TUI_DIR/../lib.sh"
t_init ct-tui

TM_SOCK=$T_TMP/tmux.sock # a private server, its socket removed with T_TMP
TUI_S=""                 # the current session
tm() { tmux -S "$TM_SOCK" -f /dev/null "$@"; }
t_on_exit 'tm kill-server 2>/dev/null'

# A tag of letters g..z only (never hex, so that a text filter on it does not
# also match an IPv6 address), to name this run's processes.
tui_tag() {
	local l=ghijklmnopqrstuvwxyz t=""
	for _ in 1 2; do t=$t${l:RANDOM%20:1}; done
	echo "tv$t"
}

# tui_session NAME COLS LINES [VAR=VALUE...]: start a session whose pane runs
# an interactive bash with a clean environment (TERM=xterm-256color,
# LANG=C.UTF-8, the prompt '$ '), then the variables given, which override.
tui_session() {
	local name=$1 w=$2 h=$3
	shift 3
	TUI_S=$name
	tm new-session -d -s "$name" -x "$w" -y "$h" \
		env -i PATH="$PATH" HOME="$T_TMP" HISTFILE= TERM=xterm-256color LANG=C.UTF-8 PS1='$ ' "$@" \
		bash --norc --noprofile -i || return 1
	tm set -g status off >/dev/null
	tm set -g remain-on-exit on >/dev/null
	tui_wait_re '^\$' 5
}

tui_keys() { tm send-keys -t "$TUI_S" "$@"; }   # tmux key names: Enter Tab Space Escape C-u F1
tui_type() { tm send-keys -t "$TUI_S" -l "$1"; } # literal text
tui_screen() { tm capture-pane -p -t "$TUI_S"; }
tui_screen_e() { tm capture-pane -p -e -t "$TUI_S"; } # with the SGR attributes
tui_fmt() { tm display -p -t "$TUI_S" "$1"; }         # e.g. '#{alternate_on}'
tui_resize() { tm resize-window -t "$TUI_S" -x "$1" -y "$2"; }

# tui_settle: SCR = the screen once two captures 30 ms apart agree. A capture
# can catch a frame half written (the tool's output reaches tmux in pieces):
# after a wait has seen what it waited for, the rest of that frame follows.
tui_settle() {
	local a b i
	a=$(tui_screen)
	for ((i = 0; i < 15; i++)); do
		sleep 0.03
		b=$(tui_screen)
		[ "$a" = "$b" ] && break
		a=$b
	done
	SCR=$b
}

# tui_wait_re REGEX [SECS]: wait until a line of the screen matches (grep -E);
# leaves the screen (settled) in SCR. Status 1 on time-out.
tui_wait_re() { t_wait "${2:-5}" tui_has -E "$1" && tui_settle; }
# tui_wait_fixed TEXT [SECS]: the same with a fixed string
tui_wait_fixed() { t_wait "${2:-5}" tui_has -F "$1" && tui_settle; }
# tui_wait_gone TEXT [SECS]: until no line has TEXT
tui_wait_gone() { t_wait "${2:-5}" tui_lacks "$1" && tui_settle; }
# tui_has -E|-F PATTERN, tui_lacks TEXT: SCR = the screen, then the test
tui_has() { SCR=$(tui_screen) && grep -q "$1" -- "$2" <<<"$SCR"; }
tui_lacks() { SCR=$(tui_screen) && ! grep -qF -- "$1" <<<"$SCR"; }

# tui_start ARGS...: type, at the pane's shell prompt, the command that runs
# connecttop with ARGS and then prints "CTEXIT rc=N tty=same|changed" (the
# terminal modes compared with those before); its pid goes to $T_TMP/ct.pid.
# Waits for the first frame. tui_wait_exit waits for that line (in $SCR) and
# prints it.
tui_start() {
	local args="" a
	for a in "$@"; do args="$args $(printf '%q' "$a")"; done
	rm -f "$T_TMP/ct.pid"
	tui_keys C-l
	tui_type "s0=\$(stty -g); bash -c 'echo \$\$ >$T_TMP/ct.pid; exec \"\$0\" \"\$@\"' $(printf '%q' "$CONNECTTOP")$args; rc=\$?; [ \"\$(stty -g)\" = \"\$s0\" ] && t=same || t=changed; echo \"CTEXIT rc=\$rc tty=\$t\""
	tui_keys Enter
	tui_wait_re '^ connecttop  ' 10 || { fail "connecttop starts in the pane" "$(tail -5 <<<"$SCR")"; return 1; }
	# shellcheck disable=SC2034 # for the tests: the tool's pid
	CT_PID=$(cat "$T_TMP/ct.pid")
}
tui_wait_exit() {
	tui_wait_re '^CTEXIT rc=[0-9]+ tty=(same|changed)' "${1:-5}" || return 1
	grep -oE '^CTEXIT rc=[0-9]+ tty=(same|changed)' <<<"$SCR"
}

# Screen geometry: line 3 (0-based) holds the column titles, rows are lines
# 4 .. LINES-3, LINES-2 is the status line, LINES-1 the key bar.
tui_lines() { # SCREEN: the number of lines
	local n
	n=$(printf '%s\n' "$1" | wc -l)
	echo "$n"
}
tui_line() { sed -n "$(($2 + 1))p" <<<"$1"; } # SCREEN N (0-based)
tui_header() { tui_line "$1" 3; }
tui_status() { local n; n=$(tui_fmt '#{pane_height}'); tui_line "$1" $((n - 2)); }
tui_rows() { # SCREEN: the non-empty table rows
	local n
	n=$(tui_fmt '#{pane_height}')
	sed -n "5,$((n - 2))p" <<<"$1" | grep -v '^ *$' | grep -v '^  no row matches' | grep -v '^  no connect() seen'
}

# tui_col HEADER LINE TITLE: the value in LINE under the column TITLE. Numeric
# columns are right-aligned (the value ends where the title, with its sort mark,
# ends), text columns left-aligned (the value starts where the title starts).
# Status 1 if the column is not shown.
tui_col() {
	local hdr=$1 line=$2 t=$3 pre start end next v
	case "$hdr" in *"$t"*) ;; *) return 1 ;; esac
	pre=${hdr%%"$t"*}
	start=${#pre}
	end=$((start + ${#t}))
	next=${hdr:end:1}
	if [ "$next" = "↕" ] || [ "$next" = "*" ]; then end=$((end + 1)); fi
	case "$t" in
	PROCESS | DESTINATION | PROTO | ERROR | USER | CGROUP | HISTORY)
		v=${line:start}
		v=${v%% *}
		;;
	*)
		v=${line:0:end}
		v=${v##* }
		;;
	esac
	printf '%s\n' "$v"
}
# tui_colv SCREEN TITLE: that column of every row, one a line
tui_colv() {
	local hdr line
	hdr=$(tui_header "$1")
	while IFS= read -r line; do tui_col "$hdr" "$line" "$2"; done < <(tui_rows "$1")
}
# tui_row SCREEN TEXT: the first row that has TEXT; tui_row_re: matches the ERE
tui_row() { tui_rows "$1" | grep -F -m1 -- "$2"; }
tui_row_re() { tui_rows "$1" | grep -E -m1 -- "$2"; }
# comm of a flow view's PROCESS value: "name/pid" or "name/pid(n)"
tui_comm() { printf '%s\n' "${1%/*}"; }
