#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The name a process resolved, on the screen: with names on (--names) the
# DESTINATION column shows what curl asked for, not the address nor its
# reverse name; the details pane's NAME line has the CNAME chain with
# arrows; an address nobody resolved gets none and the pane says why.
. "$(dirname "$0")/lib.sh"
# shellcheck source=../e2e/dnsenv.sh
. "$TUI_DIR/../e2e/dnsenv.sh"
need_bpf
T_TOOLS_HINT="make test-deps" need_tools tmux dnsmasq curl unshare ss
B=$(port_base)
P=$((B + 54))
N=127.$((100 + RANDOM % 150)).$((1 + B / 100 % 250))
dns_serve "$N" "$N.21 end.test" --cname=www.test,mid.test --cname=mid.test,end.test ||
	t_finish test_dns_view

tui_session dv 160 40 || { fail "tmux session" "no shell prompt"; exit 1; }
tui_start -d 0.5 --names -f "port:$P" || exit 1
timeout 20 bash -c "$(declare -f private); T_TMP=$T_TMP; private curl -s -m 5 http://www.test:$P/" >/dev/null 2>&1
lg -c dvnone refuse "$N.22" "$P" 1
dest_of() { tui_colv "$SCR" DESTINATION | sed -n "$1p"; }
shown() {
	tui_settle
	tui_row "$SCR" "curl/" >/dev/null && tui_row "$SCR" "dvnone/" >/dev/null
}
t_wait 10 shown || true
hdr=$(tui_header "$SCR")
check "names on: curl's row shows the name it asked for" "www.test" \
	"$(tui_col "$hdr" "$(tui_row "$SCR" "curl/")" DESTINATION)"
# (or what reverse DNS says of it, which the host's resolver may have for
# 127/8: not a name of the test zone, not one marked host-wide)
none_dest=$(tui_col "$hdr" "$(tui_row "$SCR" "dvnone/")" DESTINATION)
check "names on: an address nobody resolved gets no name of the answers" yes \
	"$(case $none_dest in *.test | "~"* | "") echo "no: '$none_dest'" ;; *) echo yes ;; esac)"
check "header: the DNS answers read" yes "$(tui_line "$SCR" 1 | grep -qE '  dns [1-9][0-9]*  ' && echo yes)"
# the details of curl's row: sort by process name, curl comes first
tui_keys P
tui_wait_fixed "sort comm" 3 || true
tui_settle
if tui_line "$SCR" 4 | grep -q '^curl/'; then :; else tui_keys P; tui_settle; fi
tui_keys g Enter
if tui_wait_fixed " details (Esc closes)" 3; then
	check "details: the NAME line with the CNAME chain" "NAME www.test → mid.test → end.test" \
		"$(grep -m1 '^ NAME ' <<<"$SCR" | sed 's/^ //; s/ *$//')"
else
	fail "details pane" "$(tui_line "$SCR" 0)"
fi
tui_keys Escape
tui_wait_fixed "view flow" 3 || true
tui_keys G Enter
if tui_wait_fixed " details (Esc closes)" 3; then
	check "details: no name, and why" "NAME - (no DNS answer seen for this address)" \
		"$(grep -m1 '^ NAME ' <<<"$SCR" | sed 's/^ //; s/ *$//')"
else
	fail "details pane (last row)" "$(tui_line "$SCR" 0)"
fi
tui_keys Escape q
check "q: exit 0, terminal restored" "CTEXIT rc=0 tty=same" "$(tui_wait_exit 5)"
t_finish test_dns_view
