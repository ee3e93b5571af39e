#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Dependencies (Debian packages; installed here when missing, through
# tests/install-deps.sh): tmux python3 python3-pil fonts-dejavu-core iproute2
#
# `make screenshots`: pictures of the real tool, as root, on real loopback
# traffic, taken from the terminal's real contents: the tool runs in a tmux
# pane of 140x40 (LANG=C.UTF-8, TERM=tmux-256color: the right one inside tmux;
# with xterm-256color's bce, ncurses paints the coloured ends of lines with
# "erase to end of line", which tmux shows but capture-pane leaves out),
# `tmux capture-pane -e` gives the screen with its colours (SGR sequences) and
# tests/tui/ansi2png.py draws those cells into a PNG. Writes screenshots/*.png:
#   main.png           the flow view, sorted by rate, with live traffic
#   process.png        the process view
#   filter.png         the filter "fail" applied
#   frozen-export.png  the display frozen and exported (the status line names the file)
#   details.png        the details pane of a TCP flow: results, rate history,
#                      handshake latency histogram, pid and command line
#   help.png           the help screen
# The traffic: long-lived bash processes under service names connecting through
# /dev/tcp and /dev/udp (accepted by a small python3 listener, refused, UDP),
# loadgen bursts from 4 processes, and loadgen timeouts against a listener
# whose accept queue is full. Loopback only, everything stops within 90 s.
set -u
DEPS="tmux python3 python3-pil fonts-dejavu-core iproute2"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck disable=SC2086
"$ROOT/tests/install-deps.sh" $DEPS || exit 1
. "$ROOT/tests/tui/lib.sh"
PY=/usr/bin/python3 # Debian's, the one python3-pil is for
OUT=$ROOT/screenshots
W=140 H=40
if [ "$(id -u)" != 0 ]; then
	echo "screenshots: connecttop needs root: run 'sudo make screenshots'" >&2
	exit 1
fi
for f in "$CONNECTTOP" "$LOADGEN"; do
	[ -x "$f" ] || { echo "screenshots: $f missing: run make first" >&2; exit 1; }
done
mkdir -p "$OUT"
BIN=$(mktemp -d /tmp/svc.XXXXXX) # short: it shows in the command lines
t_on_exit 'rm -rf "$BIN"'
mkdir -p "$T_TMP/exports"
failed=0

# a port nothing listens on (TCP), the one asked for if it is free
free_port() {
	local p=$1
	while [ -n "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; do p=$((p + 10000)); done
	echo "$p"
}
HTTP=$(free_port 8080) HTTPS=$(free_port 8443) PG=$(free_port 5432) REDIS=$(free_port 6379) RSYNC=$(free_port 8730)

bg() { "$@" & T_PIDS="$T_PIDS $!"; disown $!; }

# listeners: accepting on HTTP (127.0.0.1) and HTTPS (::1); on RSYNC one
# that never accepts, with a backlog of 0: once its queue is full, SYNs to it
# are dropped and connects time out
bg "$PY" -c '
import socket, sys, threading, time
def serve(fam, addr, port, accept):
    s = socket.socket(fam)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(0 if not accept else 1024)
    while accept:
        c, _ = s.accept()
        c.close()
    time.sleep(1e6)
for a in [(socket.AF_INET, "127.0.0.1", int(sys.argv[1]), 1), (socket.AF_INET6, "::1", int(sys.argv[2]), 1),
          (socket.AF_INET, "127.0.0.1", int(sys.argv[3]), 0)]:
    threading.Thread(target=serve, args=a, daemon=True).start()
time.sleep(90)
' "$HTTP" "$HTTPS" "$RSYNC"

# a service: bash under the service's name, connecting in bursts whose sizes
# cycle through the pattern given, one burst every 0.25 s, for 90 s at most
cat >"$BIN/loop" <<'EOF'
end=$((SECONDS + 90)) proto=$1 host=$2 port=$3
shift 3
while [ $SECONDS -lt $end ]; do
	for n in "$@"; do
		for ((i = 0; i < n; i++)); do : 3<>"/dev/$proto/$host/$port"; done 2>/dev/null
		sleep 0.25
	done
done
EOF
service() { # NAME PROTO HOST PORT PATTERN...
	local name=$1
	shift
	ln -sf "$(command -v bash)" "$BIN/$name"
	# shellcheck disable=SC2016 # expanded by that bash
	bg bash -c 'exec -a "$0" "$@"' "$name" "$BIN/$name" "$BIN/loop" "$@"
}

tui_session shots $W $H TERM=tmux-256color || { echo "screenshots: no tmux session" >&2; exit 1; }
tui_start --export-dir "$T_TMP/exports" || exit 1
sleep 0.5 # the listeners
service api-gateway tcp 127.0.0.1 "$HTTP" 6 9 14 20 26 20 14 9 6 4
service web-frontend tcp ::1 "$HTTPS" 2 3 5 3 2 1
service checkout-svc tcp 127.0.0.1 "$PG" 3 3 4 6 3 2
service resolver udp 127.0.0.53 53 1 2 1 4 1 1
service metrics-agent udp 127.0.0.1 8125 5
# shellcheck disable=SC2016 # expanded by that bash
bg bash -c 'for i in $(seq 1 30); do "$0" -q -c worker -P 4 refuse 127.0.0.2 "$1" 12; sleep 2; done' "$LOADGEN" "$REDIS"
bg "$LOADGEN" -q -c backup-agent -T 3 -w 60000 timeout 127.0.0.1 "$RSYNC" 12
# a local database reached through its AF_UNIX socket (--unix)
mkdir -p "$T_TMP/run"
# shellcheck disable=SC2016 # expanded by that bash
bg bash -c 'for i in $(seq 1 45); do "$0" -q -c psql accept "unix:$1" 0 3; sleep 1; done' "$LOADGEN" "$T_TMP/run/.s.PGSQL.5432"

# shot NAME TITLE: the pane, as it is, to screenshots/NAME.png
shot() {
	local txt=$T_TMP/$1.ansi
	tui_settle # a whole frame
	tm capture-pane -p -e -N -t "$TUI_S" >"$txt" # -N: the coloured spaces at the ends of lines too
	if "$PY" "$TUI_DIR/ansi2png.py" $W $H "$txt" "$OUT/$1.png" "$2"; then
		echo "screenshots: $OUT/$1.png"
	else
		echo "screenshots: $1.png failed" >&2
		failed=1
	fi
}
# the next refresh: wait until the up time on the title line changes
tick() {
	local l
	l=$(tui_screen | head -1)
	for _ in $(seq 1 40); do
		[ "$(tui_screen | head -1)" != "$l" ] && break
		sleep 0.05
	done
	sleep 0.1
}

echo "screenshots: 16 s of traffic first, for the history column"
sleep 16
tick
shot main "connecttop: the flow view, sorted by rate"

others=$(tui_colv "$(tui_screen)" PROCESS | sed 's,/.*,,' | grep -vxE 'api-gateway|web-frontend|checkout-svc|resolver|metrics-agent|worker|backup-agent' | sort -u | tr '\n' ' ')
[ -n "$others" ] && echo "screenshots: warning: other traffic on this machine shows in the pictures: $others" >&2

tui_keys 2
tick
shot process "connecttop: the process view (key 2)"

tui_keys 1 /
tui_type "fail"
tui_keys Enter
tick
shot filter "connecttop: the filter 'fail' (key /)"

tui_keys Escape
tick
tui_keys Space
sleep 0.3
tui_keys e
tui_wait_re '^exported ' 3 || echo "screenshots: no export message" >&2
shot frozen-export "connecttop: frozen (Space) and exported (e)"

tui_keys Space /
tui_keys C-u
tui_type "api-gateway"
tui_keys Enter
sleep 0.3
tui_keys Enter
tui_wait_fixed " details (Esc closes)" 3 || echo "screenshots: no details pane" >&2
tick
shot details "connecttop: the details pane (Enter)"

tui_keys Escape Escape h
tui_wait_fixed " connecttop help" 3 || echo "screenshots: no help screen" >&2
shot help "connecttop: the help screen (h)"

tui_keys Escape q
tui_wait_exit 5 >/dev/null || echo "screenshots: connecttop did not exit" >&2

# --unix, only the AF_UNIX rows: the database above, and what else this
# machine's processes dial locally (glibc asking nscd, tmux's own socket)
tui_start --unix -f proto:unix || exit 1
sleep 4
tick
shot unix "connecttop --unix -f proto:unix: local sockets by path"
tui_keys q
tui_wait_exit 5 >/dev/null || echo "screenshots: connecttop did not exit" >&2
exit $failed
