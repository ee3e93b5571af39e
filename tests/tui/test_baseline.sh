#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What changed since a baseline, on the real screen at 80x24: b marks one;
# a flow that starts failing after it shows "worse 2%→40%" (49 accepted and
# 1 refused before, 6 and 4 since), one that appears shows "new", one with
# no connect since "silent"; a worse row is in the failure colour (red), a
# new one green; the filter terms worse and new select them; the process
# view compares the process's group: "worse 2%→50%" (1 failure in 53
# before, 6 in 12 since); after c, the flow that stops is listed as gone,
# with the baseline's TOTAL, dimmed, and the filter term gone selects it; B
# clears the baseline and the CHANGE column goes; FAIL stays shown at 80.
# The e key's files carry what the screen shows of the baseline: its time,
# each row's change with the numbers before and since (JSON and CSV), and
# after c the gone row.
# Without colours (--no-color) a worse row is bold, a new one underlined, a
# gone one dimmed.
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

# change_re ERE: the CHANGE cell of the first row matching ERE ("" if
# none), from where the title starts to the next column (it holds a space);
# change PORT: that of the row of port PORT
change_re() {
	local hdr line pre
	hdr=$(tui_header "$SCR")
	case "$hdr" in *CHANGE*) ;; *) echo "(no CHANGE column)"; return ;; esac
	pre=${hdr%%CHANGE*}
	line=$(tui_rows "$SCR" | grep -E -m1 -- "$1") || { echo "(no row)"; return; }
	line=${line:${#pre}:15}
	printf '%s\n' "${line%"${line##*[! ]}"}"
}
change() { change_re " $1 "; }
# wait_change_re ERE WANT: until the row matching ERE shows WANT (refresh
# 0.5 s); wait_change PORT WANT: the row of port PORT
wait_change_re() {
	local i
	for ((i = 0; i < 60; i++)); do
		tui_settle
		[ "$(change_re "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
wait_change() { wait_change_re " $1 " "$2"; }
# sgr PORT: how the port number of the table row of PORT is drawn: "fg=N
# bg=N dim=0|1 bold=0|1 ul=0|1 rev=0|1" (fg 1 red, 2 green; 9 the default), from the
# screen with its SGR codes (tmux writes a code where the attributes
# change, so they are followed from the top of the screen)
sgr() {
	tui_screen_e | python3 -c '
import re, sys
port, st = sys.argv[1], {"fg": 9, "bg": 9, "dim": 0, "bold": 0, "ul": 0, "rev": 0}
for n, line in enumerate(sys.stdin.read().split("\n")):
    text, at = "", []  # the line without its codes, the state of each character
    for part in re.split(r"(\x1b\[[0-9;:]*m)", line):
        if not part.startswith("\x1b["):
            text += part
            at += [dict(st)] * len(part)
            continue
        codes = [int(c) if c else 0 for c in re.split("[;:]", part[2:-1])]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                st = {"fg": 9, "bg": 9, "dim": 0, "bold": 0, "ul": 0, "rev": 0}
            elif c in (1, 2):
                st["bold" if c == 1 else "dim"] = 1
            elif c == 22:
                st["bold"] = st["dim"] = 0
            elif c in (4, 24):
                st["ul"] = int(c == 4)
            elif c in (7, 27):
                st["rev"] = int(c == 7)
            elif 30 <= c <= 37 or c == 39:
                st["fg"] = c - 30
            elif 40 <= c <= 47 or c == 49:
                st["bg"] = c - 40
            elif c in (38, 48):  # 38;5;N: one of 256 colours
                st["fg" if c == 38 else "bg"] = codes[i + 2] if i + 2 < len(codes) else 9
                i += 2
            i += 1
    k = text.find(" " + port + " ")
    if n >= 4 and k >= 0:
        print(" ".join("%s=%d" % kv for kv in at[k + 1].items()))
        sys.exit(0)
print("(no row)")' "$1"
}
sgr_is() { [ "$(sgr "$1")" = "$2" ]; } # PORT WANT
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

# export NAME: e, then the JSON file it wrote moved to $T_TMP/NAME.json
# (and the CSV to NAME.csv); 1 if the status line did not say so
EXP=$T_TMP/exports
mkdir -p "$EXP"
export_as() {
	rm -f "$EXP"/*
	tui_keys e
	tui_wait_re '^exported [0-9]+ rows' 3 || return 1
	mv "$EXP"/*.json "$T_TMP/$1.json" && mv "$EXP"/*.csv "$T_TMP/$1.csv" || return 1
	# the message goes (after 5 s): the rows' readers would take it for a row
	tui_wait_gone "exported" 8
}
# xrow NAME PORT JQ: JQ of the exported JSON row of port PORT
xrow() { jq -c --argjson p "$2" "[.rows[] | select(.dport == \$p) | $3]" "$T_TMP/$1.json"; }
# xcsv NAME PORT COLUMN: the CSV cell of the row of PORT under COLUMN
xcsv() {
	python3 -c 'import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(",".join(r.get(sys.argv[3], "(no column)") for r in rows if r["dport"] == sys.argv[2]))' "$T_TMP/$1.csv" "$2" "$3"
}

tui_session bl 80 24 || { fail "tmux session" "no shell prompt"; exit 1; }
tui_start -d 0.5 -s dport -f "$T" --export-dir "$EXP" || exit 1
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
if export_as b0; then pass "e with a baseline: exported"; else fail "e with a baseline: exported" "$(tui_status "$SCR")"; fi
check "e: the JSON says when the baseline was taken" true "$(jq '.baseline | test("^20[0-9-]+T")' "$T_TMP/b0.json")"
# no connect since b: silent, as the CHANGE column says
check "e: at b, the flow as the screen shows it" "[[\"$(change $P)\",50,1,0]]" \
	"$(xrow b0 $P '[.change, .before.completed, .before.failures, .since.completed]')"

lg -c "$T" accept 127.0.0.1 $P 6
lg -c "$T" refuse 127.0.0.1 $P 4
lg -c "$T" refuse 127.0.0.1 $N 2
if wait_change $P "worse 2%→40%"; then pass "a flow failing since b: worse 2%→40%"; else
	fail "a flow failing since b: worse 2%→40%" "got '$(change $P)'"; fi
if wait_change $N new; then pass "a flow appearing since b: new"; else
	fail "a flow appearing since b: new" "got '$(change $N)'"; fi
if wait_change $Q silent; then pass "a flow with no connect since b: silent"; else
	fail "a flow with no connect since b: silent" "got '$(change $Q)'"; fi
# the colours, the selection on the last row (sorted by port: Q's)
tui_keys End
if t_wait 3 sgr_is $Q "fg=0 bg=6 dim=0 bold=0 ul=0 rev=0"; then pass "End: the silent row selected"; else
	fail "End: the silent row selected" "$(sgr $Q)"; fi
check "the worse row: red" "fg=1 bg=9 dim=0 bold=0 ul=0 rev=0" "$(sgr $P)"
check "the new row: green" "fg=2 bg=9 dim=0 bold=0 ul=0 rev=0" "$(sgr $N)"
# the export of this screen: the marks it shows, with their numbers
if export_as b1; then pass "e: exported with the marks"; else fail "e: exported with the marks" "$(tui_status "$SCR")"; fi
check "e JSON: the worse flow, 1 of 50 failed before, 4 of 10 since" \
	'[["worse",["fail"],50,1,10,4,0.02,0.4]]' \
	"$(xrow b1 $P '[.change, .why, .before.completed, .before.failures, .since.completed, .since.failures, .before.fail_share, .since.fail_share]')"
check "e JSON: the new flow" '[["new",0,2,2]]' "$(xrow b1 $N '[.change, .before.completed, .since.completed, .since.failures]')"
check "e JSON: the silent flow" '[["silent",3,0]]' "$(xrow b1 $Q '[.change, .before.completed, .since.completed]')"
check "e CSV: the change column" "worse new silent" "$(xcsv b1 $P change) $(xcsv b1 $N change) $(xcsv b1 $Q change)"
check "e CSV: before and since of the worse flow" "50 1 10 4" \
	"$(xcsv b1 $P before_completed) $(xcsv b1 $P before_failures) $(xcsv b1 $P since_completed) $(xcsv b1 $P since_failures)"

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

# the process view: the group of this run's flows, by its totals
tui_keys 2
tui_wait_re '^ *view process' 3 || fail "2: the process view" "$(tui_line "$SCR" 2)"
if wait_change_re "^$T " "worse 2%→50%"; then pass "process view: the group worse 2%→50%"; else
	fail "process view: the group worse 2%→50%" "got '$(change_re "^$T ")'"; fi
tui_keys 1
tui_wait_re '^ *view flow' 3 || fail "1: the flow view" "$(tui_line "$SCR" 2)"

# c: the flows that stop are gone, with their numbers at the baseline
tui_keys c
tui_wait_fixed "counters cleared" 3 || fail "c: the status line says so" "$(tui_status "$SCR")"
lg -c "$T" accept 127.0.0.1 $P 2
wait_total $P 2 || fail "after c: the flow that goes on shown again" "$(tui_rows "$SCR")"
if wait_change $Q gone; then pass "a flow that stopped, after c: gone"; else
	fail "a flow that stopped, after c: gone" "got '$(change $Q)'"; fi
if wait_total $Q 3; then pass "the gone row: the baseline's TOTAL 3"; else
	fail "the gone row: the baseline's TOTAL 3" "$(tui_row_re "$SCR" " $Q ")"; fi
check "the new flow, not in the baseline: not listed" "(no row)" "$(change $N)"
if export_as b2; then pass "e after c: exported"; else fail "e after c: exported" "$(tui_status "$SCR")"; fi
check "e JSON: the gone row, with the baseline's numbers" '[["gone",3,3,0]]' \
	"$(xrow b2 $Q '[.change, .count, .before.completed, .since.completed]')"
check "e JSON: the rows as on the screen, the gone one last" "$(tui_colv "$SCR" PORT | tr '\n' ' ')" \
	"$(jq -r '.rows[].dport' "$T_TMP/b2.json" | tr '\n' ' ')"
check "e CSV: the gone row" gone "$(xcsv b2 $Q change)"
tui_keys Home
if t_wait 3 sgr_is $Q "fg=9 bg=9 dim=1 bold=0 ul=0 rev=0"; then pass "the gone row: dimmed"; else
	fail "the gone row: dimmed" "$(sgr $Q)"; fi
tui_keys /
tui_wait_re '^filter:' 3 || fail "filter prompt" "no 'filter:' line"
tui_keys C-u
tui_type "$T gone"
tui_keys Enter
if wait_ports "$Q"; then pass "filter gone: the gone flow only"; else
	fail "filter gone: the gone flow only" "ports shown: $(ports)"; fi
tui_keys /
tui_wait_re '^filter:' 3 || fail "filter prompt" "no 'filter:' line"
tui_keys C-u
tui_type "$T"
tui_keys Enter

# B: no baseline, no column
tui_keys B
tui_wait_fixed "baseline cleared" 3 || fail "B: the status line says so" "$(tui_status "$SCR")"
check "B: the CHANGE column goes" "" "$(tui_header "$SCR" | grep -o CHANGE)"
export_as b3 || fail "e after B: exported" "$(tui_status "$SCR")"
check "e after B: no baseline, no change" "null []" "$(jq -c '[.baseline, [.rows[] | select(has("change"))]] | .[]' "$T_TMP/b3.json" | tr '\n' ' ' | sed 's/ $//')"
if wait_ports "$P"; then pass "B: the gone row goes"; else fail "B: the gone row goes" "ports shown: $(ports)"; fi
tui_keys q
check "q: exit 0, terminal restored" "CTEXIT rc=0 tty=same" "$(tui_wait_exit 5)"

# without colours: worse bold, new underlined, gone dimmed
R=$((B + 5)) M=$((B + 6)) S=$((B + 7))
tui_start -d 0.5 -s dport --no-color -f "$T" || exit 1
lg -c "$T" accept 127.0.0.1 $R 20
lg -c "$T" accept 127.0.0.1 $S 3
wait_total $R 20 || fail "mono: the first connects shown" "$(tui_rows "$SCR")"
wait_total $S 3 || fail "mono: the other flow shown" "$(tui_rows "$SCR")"
tui_keys b
tui_wait_fixed "baseline:" 3 || fail "mono: b" "$(tui_status "$SCR")"
lg -c "$T" refuse 127.0.0.1 $R 5
lg -c "$T" refuse 127.0.0.1 $M 2
wait_change $R "worse 0%→100%" || fail "mono: worse" "got '$(change $R)'"
wait_change $M new || fail "mono: new" "got '$(change $M)'"
tui_keys End
if t_wait 3 sgr_is $S "fg=9 bg=9 dim=0 bold=0 ul=0 rev=1"; then pass "mono: End, the last row in reverse"; else
	fail "mono: End, the last row in reverse" "$(sgr $S)"; fi
check "mono: the worse row bold" "fg=9 bg=9 dim=0 bold=1 ul=0 rev=0" "$(sgr $R)"
check "mono: the new row underlined" "fg=9 bg=9 dim=0 bold=0 ul=1 rev=0" "$(sgr $M)"
tui_keys c
tui_wait_fixed "counters cleared" 3 || fail "mono: c" "$(tui_status "$SCR")"
lg -c "$T" accept 127.0.0.1 $R 1
wait_change $S gone || fail "mono: gone after c" "got '$(change $S)'"
tui_keys Home
if t_wait 3 sgr_is $S "fg=9 bg=9 dim=1 bold=0 ul=0 rev=0"; then pass "mono: the gone row dimmed"; else
	fail "mono: the gone row dimmed" "$(sgr $S)"; fi
tui_keys q
check "mono: q, exit 0" "CTEXIT rc=0 tty=same" "$(tui_wait_exit 5)"
