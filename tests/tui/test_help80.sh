#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The help screen at 80x24, the default ssh terminal: every key of
# tui/keys.c's bindings[] and its whole text can be read (long texts wrap
# at the screen's edge, the help scrolls when it is taller than the
# screen: Up/Down PgUp/PgDn Home/End, the header says which lines are
# shown); the filter's terms (timeout, pending, err:) are on it. Where it
# fits (140x40), any key returns, as before.
. "$(dirname "$0")/lib.sh"
need_bpf
need_tools tmux perl
# named bindings of keys.c: "NAMES<TAB>TEXT" (as test_view.sh reads them)
bindings() {
	perl -0pe 's/,\n\t  ("|[-0-9A-Z])/, $1/g; s/"\n\t  "//g' "$ROOT/tui/keys.c" |
		sed -nE 's/^\t\{ [^,]+, "((\\.|[^"])*)", act_[a-z_]+, "([^"]*)"(, [-0-9A-Z_]+)* \},$/\1\t\3/p' |
		sed 's/\\\\/\\/g'
}
# help_entries SCREEN: the help's lines as "NAMES<TAB>TEXT", a wrapped text
# joined again (a line with blank names continues the one before)
help_entries() {
	sed -n '2,$p' <<<"$1" | awk '
		substr($0, 1, 15) ~ /^ +$/ && substr($0, 16, 1) != " " { sub(/^ +/, ""); if (n) t[n] = t[n] " " $0; next }
		/^ [^ ]/ { n++; k[n] = substr($0, 2, 14); sub(/ +$/, "", k[n]); t[n] = substr($0, 16); next }
		END { for (i = 1; i <= n; i++) { sub(/ +$/, "", t[i]); print k[i] "\t" t[i] } }'
}

tui_session h80 80 24 || { fail "tmux session" "no shell prompt"; exit 1; }
tui_start -d 1 -P 9 || exit 1
tui_keys F1
if tui_wait_re '^ connecttop help: lines 1-22 of [0-9]+, Up/Down PgUp/PgDn scroll, other keys return' 3; then
	pass "80x24: the help says it scrolls"
else
	fail "80x24: the help says it scrolls" "$(head -1 <<<"$SCR")"
fi
first=$SCR
check "80x24: no line wider than the screen" 0 "$(awk 'length($0) > 80' <<<"$first" | wc -l)"
check "80x24: the first key first" " q F10 ^C      quit" "$(tui_line "$first" 1 | sed 's/ *$//')"
tui_keys End
tui_wait_re '^ connecttop help: lines [0-9]+-([0-9]+) of \1,' 3
last=$SCR
check "End: the last screenful ends with the column legend" yes \
	"$(tail -2 <<<"$last" | grep -q 'HISTORY one mark per interval' && echo yes)"
# everything between the first and the last screenful: PgDn from the top
tui_keys Home
tui_wait_re '^ connecttop help: lines 1-22 ' 3 || fail "Home: back to the top" "$(head -1 <<<"$SCR")"
tui_keys PgDn
if tui_wait_re '^ connecttop help: lines 22-43 |^ connecttop help: lines [0-9]+-([0-9]+) of \1,' 3; then
	pass "PgDn: a page down"
else
	fail "PgDn: a page down" "$(head -1 <<<"$SCR")"
fi
all=$(printf '%s\n%s\n' "$(help_entries "$first")" "$(help_entries "$last")" | sort -u)
missing="" nb=0
while IFS=$'\t' read -r name help; do
	nb=$((nb + 1))
	grep -qxF -- "$name"$'\t'"$help" <<<"$all" || missing="$missing [$name]"
done < <(bindings)
check "80x24: all $nb keys of bindings[] readable with their whole text" "" "$missing"
check "80x24: enough keys found in keys.c" yes "$([ "$nb" -ge 25 ] && echo yes)"
check "80x24: the filter's terms, timeout and pending among them" yes \
	"$(grep -E '^/ \\ F4'$'\t''filter: ' <<<"$all" | grep -w timeout | grep -qw pending && echo yes)"
top=$(head -1 <<<"$SCR" | sed -E 's/^ connecttop help: lines ([0-9]+)-.*/\1/')
tui_keys Up
check "Up: a line up" yes "$(tui_wait_re "^ connecttop help: lines $((top - 1))-" 3 && echo yes)"
tui_keys x
if tui_wait_fixed "view flow" 3; then pass "x: returns to the table"; else fail "x: returns to the table" "$(head -1 <<<"$SCR")"; fi

tui_resize 140 40
tui_wait_re '^PROCESS' 3
tui_keys h
if tui_wait_fixed " connecttop help: keys (any key returns)" 3; then
	pass "140x40: the help fits, says any key returns"
	check "140x40: no wrapped line" 0 "$(grep -cE '^               [^ ]' <<<"$SCR")"
else
	fail "140x40: the help fits, says any key returns" "$(head -1 <<<"$SCR")"
fi
tui_keys Down
if tui_wait_fixed "view flow" 3; then pass "140x40: Down returns (nothing to scroll)"; else fail "140x40: Down returns (nothing to scroll)" "$(head -1 <<<"$SCR")"; fi
tui_keys q
check "q: exit 0, terminal restored" "CTEXIT rc=0 tty=same" "$(tui_wait_exit 5)"
t_finish "tui/test_help80.sh"
