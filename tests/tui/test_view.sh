#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The interactive view, driven as a person would: the real tool, as root, on
# real loopback traffic, in a tmux pane of 140x40 (TERM=xterm-256color,
# LANG=C.UTF-8); keys typed with send-keys, the screen read back with
# capture-pane. Views, sort orders, filters, freeze, export, details, help,
# resizes, quitting (q, ^C, F10, SIGTERM) with the terminal restored, a hostile
# process name, and a monochrome vt100 run.
. "$(dirname "$0")/lib.sh"
need_bpf
for tool in tmux jq; do
	if ! command -v $tool >/dev/null; then
		if [ "${CI:-}" = true ]; then fail "$tool installed" "not found (make test-deps)"; exit 1; fi
		echo "SKIP: $tool not installed (make test-deps)"
		exit 0
	fi
done
T0=$SECONDS
W=140 H=40
T=$(tui_tag)                   # this run's process names all start with it
B=$(port_base)                 # ports B+1 .. B+8
N=$((20 + RANDOM % 200))       # destinations 127.N.0.1 .. 127.N.0.6
A=127.$N.0
EXPORT=$T_TMP/export
mkdir -p "$EXPORT"

# --- helpers of this test -------------------------------------------------
# is_sorted asc|desc: the numbers on stdin ("-" is no value: below any), in order
is_sorted() {
	awk -v d="$1" '{ v = $1; if (v == "-") v = -1; else if (v ~ /M$/) v *= 1e6; else if (v ~ /G$/) v *= 1e9;
		if (NR > 1 && ((d == "desc" && v > p) || (d == "asc" && v < p))) bad = 1; p = v } END { exit bad }'
}
# check_sorted NAME COLUMN asc|desc: that column of the rows of $SCR
check_sorted() {
	local vals
	vals=$(tui_colv "$SCR" "$2")
	if [ -z "$vals" ]; then fail "$1" "no rows"; elif is_sorted "$3" <<<"$vals"; then pass "$1"; else
		fail "$1" "$2 not $3: $(tr '\n' ' ' <<<"$vals")"; fi
}
# line index of the first row of $SCR that matches the ERE (999 if none)
row_index() {
	local i
	i=$(tui_rows "$SCR" | grep -nE -m1 -- "$1" | cut -d: -f1)
	echo "${i:-999}"
}
# value of COLUMN in the first row of $SCR that matches the ERE
val() { tui_col "$(tui_header "$SCR")" "$(tui_row_re "$SCR" "$1")" "$2"; }
# sort_by KEY NAME asc|desc: press KEY (again if the order comes out
# reversed). A key pressed is waited for (the view line changes): a frame
# drawn before it must not be taken for its answer (KEY on the sort in force
# reverses it).
sort_by() {
	local arrow=▼ other=▲ i before now
	[ "$3" = asc ] && arrow=▲ other=▼
	before=$(tui_line "$(tui_screen)" 2)
	case "$before" in *"sort $2 $arrow"*) tui_settle && return 0 ;; esac
	tui_keys "$1"
	for ((i = 0; i < 60; i++)); do
		SCR=$(tui_screen)
		now=$(tui_line "$SCR" 2)
		if [ "$now" != "$before" ]; then
			case "$now" in
			*"sort $2 $arrow"*) tui_settle && return 0 ;;
			*"sort $2 $other"*) before=$now && tui_keys "$1" ;;
			esac
		fi
		sleep 0.05
	done
	fail "sort key $1" "no 'sort $2 $arrow': $(tui_line "$SCR" 2)"
	return 1
}
# set_filter TEXT: '/', clear the line (^U), type TEXT, Enter
set_filter() {
	tui_keys /
	tui_wait_re '^filter:' 3 || fail "filter prompt" "no 'filter:' line"
	tui_keys C-u
	tui_type "$1"
	tui_keys Enter
	wait_filter "$1"
}
# wait until the view line ends with "filter TEXT"
wait_filter() {
	local i l
	for ((i = 0; i < 60; i++)); do
		SCR=$(tui_screen)
		l=$(tui_line "$SCR" 2 | sed 's/ *$//')
		[[ $l == *"filter $1" ]] && tui_settle && return 0
		sleep 0.05
	done
	return 1
}
# wait_val ERE COLUMN VALUE [SECS]: until the first row of $SCR that matches ERE has VALUE in COLUMN
wait_val() {
	local i
	for ((i = 0; i < ${4:-6} * 10; i++)); do
		SCR=$(tui_screen)
		[ "$(val "$1" "$2")" = "$3" ] && tui_settle && return 0
		sleep 0.1
	done
	return 1
}
wait_sort_line() { # TEXT: until the view line has it
	local i
	for ((i = 0; i < 60; i++)); do
		SCR=$(tui_screen)
		[[ $(tui_line "$SCR" 2) == *"$1"* ]] && tui_settle && return 0
		sleep 0.05
	done
	return 1
}
body() { sed -n "3,$((H - 2))p" <<<"$1"; } # the view line, titles and rows
# wcheck NAME LINE WAIT...: pass if the wait succeeds, else fail with the
# screen's line LINE (0-based, or "last": the last non-empty one)
wcheck() {
	local name=$1 l=$2
	shift 2
	if "$@"; then pass "$name"; elif [ "$l" = last ]; then fail "$name" "$(grep -v '^ *$' <<<"$SCR" | tail -1)"; else
		fail "$name" "$(tui_line "$SCR" "$l")"; fi
}

# --- the tool, then the traffic ------------------------------------------------
tui_session ct1 $W $H || { fail "tmux session" "no shell prompt"; exit 1; }
tui_start -d 0.5 --export-dir "$EXPORT" || exit 1
check "screen: title line" "connecttop" "$(tui_line "$SCR" 0 | awk '{print $1}')"
check "screen: counters line" "events/s" "$(tui_line "$SCR" 1 | awk '{print $1}')"
check "screen: view line" "view flow sort rate ▼ filter -" "$(tui_line "$SCR" 2 | awk '{$1=$1; print}')"
check "screen: column titles (flow view, 140 columns)" \
	"PROCESS DESTINATION PORT PROTO RATE/s↕ TOTAL FAIL FAIL% ERROR P50ms P99ms HISTORY" \
	"$(tui_header "$SCR" | awk '{$1=$1; print}')"
check "screen: key bar" "F1Help /Filter TabView F6Sort SpcFreeze eExport EntDetails nNames qQuit" \
	"$(tui_line "$SCR" $((H - 1)) | awk '{$1=$1; print}')"
check "screen: alternate screen on" 1 "$(tui_fmt '#{alternate_on}')"
check "screen: cursor hidden" 0 "$(tui_fmt '#{cursor_flag}')"

"$LOADGEN" -q -c "${T}acc" accept "$A.1" $((B + 1)) 300 &
ACC_PID=$!
wait $ACC_PID || fail "loadgen accept" "failed"
lg -c "${T}ref" refuse "$A.2" $((B + 2)) 200
lg -c "${T}udp" udp "$A.3" $((B + 3)) 100
lg -c "${T}udp" udp "$A.3" $((B + 4)) 40
lg -c "${T}six" -P 3 refuse ::1 $((B + 5)) 20
# live traffic: 5 refused connects every 0.2 s, for 100 s at most
(
	end=$((SECONDS + 100))
	while [ $SECONDS -lt $end ]; do
		"$LOADGEN" -q -c "${T}live" refuse "$A.4" $((B + 6)) 5
		sleep 0.2
	done
) &
T_PIDS="$T_PIDS $!"
disown $!
# a process that stays alive after its connects, so that its command line can
# be read: bash under a name of this run, 10 refused connects through /dev/tcp,
# then a wait of at most 100 s (a builtin: no child is left behind)
ln -s "$(command -v bash)" "$T_TMP/${T}sh"
mkfifo "$T_TMP/fifo"
# in a cgroup of its own, as a systemd unit would be
cg_make "ct-${T}.service" || exit 1
cg_exec "ct-${T}.service" "$T_TMP/${T}sh" -c "for i in 1 2 3 4 5 6 7 8 9 10; do : 3<>/dev/tcp/$A.5/$((B + 7)); done 2>/dev/null; read -t 100 <>$T_TMP/fifo" &
SH_PID=$!
T_PIDS="$T_PIDS $SH_PID"
disown $SH_PID

# --- rows appear, sorted by TOTAL (T) --------------------------------------------
# this run's rows only: other programs' connects on the host (other tests'
# connects in flight add a PENDING column) must not change the columns
set_filter "$T" || fail "filter $T" "not applied"
sort_by T count desc
for name in acc:300 ref:200 udp:100 six:60 sh:10; do
	wait_val "^${T}${name%%:*}/" TOTAL "${name#*:}" 6 || fail "row ${T}${name%%:*} appears" "TOTAL ${name#*:} not seen: $(tui_row "$SCR" "${T}${name%%:*}/")"
done
wait_val "^${T}live/" PROTO tcp 6 || fail "row ${T}live appears" "not seen"
check "row acc: process/pid" "${T}acc/$ACC_PID" "$(val "^${T}acc/" PROCESS)"
check "row acc: destination, port, proto" "$A.1 $((B + 1)) tcp" "$(val "^${T}acc/" DESTINATION) $(val "^${T}acc/" PORT) $(val "^${T}acc/" PROTO)"
check "row acc: TOTAL FAIL FAIL% ERROR" "300 0 0 " "$(val "^${T}acc/" TOTAL) $(val "^${T}acc/" FAIL) $(val "^${T}acc/" FAIL%) $(val "^${T}acc/" ERROR)"
check "row ref: TOTAL FAIL FAIL% ERROR" "200 200 100 ECONNREFUSED" "$(val "^${T}ref/" TOTAL) $(val "^${T}ref/" FAIL) $(val "^${T}ref/" FAIL%) $(val "^${T}ref/" ERROR)"
check "row udp: proto udp, no handshake latency" "udp - -" "$(val "^${T}udp/" PROTO) $(val "^${T}udp/" P50ms) $(val "^${T}udp/" P99ms)"
check "row acc: handshake latency shown" yes "$(val "^${T}acc/" P50ms | grep -qE '^[0-9]+(\.[0-9]+)?$' && echo yes)"
check "row six: ipv6, 3 pids" "::1 $((B + 5))" "$(val "^${T}six/" DESTINATION) $(val "^${T}six/" PORT)"
check "row six: pid count in the PROCESS column" yes "$(val "^${T}six/" PROCESS | grep -qE "^${T}six/[0-9]+\(3\)$" && echo yes)"
check "two udp flows of one process: two rows" 2 "$(tui_rows "$SCR" | grep -c "^${T}udp/")"
check_sorted "T: TOTAL descending (every row)" TOTAL desc
check "T: rows 300, 200, 100 in that order" yes "$([ "$(row_index "^${T}acc/")" -lt "$(row_index "^${T}ref/")" ] && [ "$(row_index "^${T}ref/")" -lt "$(row_index "^${T}udp/.* $((B + 3)) udp ")" ] && echo yes)"
check "T: sort mark on TOTAL" yes "$(tui_header "$SCR" | grep -q 'TOTAL↕' && echo yes)"

# --- filter in: only this run's rows (the filter set above) -------------------------
mine=$(tui_rows "$SCR" | wc -l)
check "filter TAG: the 7 flows of this run" 7 "$mine"
check "filter TAG: every row is one of them" 7 "$(tui_colv "$SCR" PROCESS | grep -c "^$T")"
check "filter TAG: header counts" "rows 7  flows" "$(tui_line "$SCR" 1 | grep -o 'rows 7  flows')"
check "header: the flows in the table, of its bound" yes "$(tui_line "$SCR" 1 | grep -qE 'flows [0-9]+ of max 32768$' && echo yes)"

# --- sort orders --------------------------------------------------------------------
tui_keys r
tui_wait_fixed "sort count ▲" 3
check_sorted "r: TOTAL ascending" TOTAL asc
check "r: rows 100, 200, 300 in that order" yes "$([ "$(row_index "^${T}udp/.* $((B + 3)) udp ")" -lt "$(row_index "^${T}ref/")" ] && [ "$(row_index "^${T}ref/")" -lt "$(row_index "^${T}acc/")" ] && echo yes)"
tui_keys r
tui_wait_fixed "sort count ▼" 3
check_sorted "r again: TOTAL descending" TOTAL desc

sort_by P comm asc
if tui_colv "$SCR" PROCESS | sed 's,/.*,,' | LC_ALL=C sort -c 2>/dev/null; then pass "P: process names ascending"; else
	fail "P: process names ascending" "$(tui_colv "$SCR" PROCESS | tr '\n' ' ')"; fi
check "P: sort mark on PROCESS" yes "$(tui_header "$SCR" | grep -q '^PROCESS↕' && echo yes)"
tui_keys P
tui_wait_fixed "sort comm ▼" 3
if tui_colv "$SCR" PROCESS | sed 's,/.*,,' | LC_ALL=C sort -c -r 2>/dev/null; then pass "P again: process names descending"; else
	fail "P again: process names descending" "$(tui_colv "$SCR" PROCESS | tr '\n' ' ')"; fi

sort_by F fail desc
check_sorted "F: FAIL descending" FAIL desc
sort_by L lat desc
check_sorted "L: P99ms descending, no latency (udp) last" P99ms desc
check "L: udp rows last" "- -" "$(tui_colv "$SCR" P99ms | tail -2 | tr '\n' ' ' | sed 's/ $//')"
sort_by D daddr asc
check "D: destinations ascending, IPv4 before IPv6" "$A.1 $A.2 $A.3 $A.3 $A.4 $A.5 ::1" "$(tui_colv "$SCR" DESTINATION | tr '\n' ' ' | sed 's/ $//')"
sort_by R rate desc
wait_val "^${T}live/" PROTO tcp 2
check_sorted "R: RATE/s descending" RATE/s desc
# 5 connects every 0.2 s: the live row has the one rate above 0 in this run
check "R: the live row first" "${T}live" "$(tui_colv "$SCR" PROCESS | head -1 | sed 's,/.*,,')"
tui_keys '>'
wcheck "> : the next column to the right (TOTAL)" 2 tui_wait_fixed "sort count ▼" 3
tui_keys '<'
wcheck "< : back to RATE/s" 2 tui_wait_fixed "sort rate ▼" 3
# a sort mark never cuts a title: PROTO and FAIL% stay whole
tui_keys '<'
wcheck "< again: PROTO" 2 tui_wait_fixed "sort proto ▲" 3
check "sort by PROTO: the title whole, with its mark" yes "$(tui_header "$SCR" | grep -q ' PROTO↕ ' && echo yes)"
tui_keys '>' '>' '>' '>'
wcheck "> 4 times: FAIL%" 2 tui_wait_fixed "sort failpct ▼" 3
check "sort by FAIL%: the title whole, with its mark" yes "$(tui_header "$SCR" | grep -q ' FAIL%↕ ' && echo yes)"
check "no title cut (~)" "" "$(tui_header "$SCR" | grep -o '[A-Z%/]*~')"
tui_keys '<' '<' '<'
wcheck "< 3 times: RATE/s" 2 tui_wait_fixed "sort rate ▼" 3
# s: the sort menu, Down (j) then Enter picks the next name of the menu
tui_keys s
if tui_wait_fixed " sort by" 3; then
	menu="" edges="" margin=""
	while IFS= read -r l; do
		menu="$menu$(awk '{print $1}' <<<"${l:3:20}") "
		edges="$edges${l:2:1}${l:23:1}"
		margin="$margin${l:1:1}${l:24:1}"
	done < <(sed -n '6,18p' <<<"$SCR")
	check "s: the sort menu lists the orders" "comm pid daddr dport proto rate count fail failpct lat last synrt Enter/Esc " "$menu"
	# a box, with a cleared column each side: the rows do not show through
	check "s: the menu's box" "┌─ sort by ┐│└┘" "$(l=$(tui_line "$SCR" 4); printf '%s' "${l:2:11}${l:23:1}")$(printf '%s' "$edges" | sed 's/││*/│/')$(l=$(tui_line "$SCR" 18); printf '%s' "${l:2:1}${l:23:1}")"
	check "s: the menu's margins are blank" "" "$(tr -d ' ' <<<"$margin")"
	tui_keys j Enter
	wcheck "s, j, Enter: the next order (count)" 2 tui_wait_fixed "sort count ▼" 3
	check "s: the menu closes" "" "$(grep -F ' sort by' <<<"$SCR")"
else
	fail "s: the sort menu opens" "$(tui_line "$SCR" 4)"
fi

# --- views ----------------------------------------------------------------------------
tui_keys Tab
tui_wait_fixed "view process" 3
check "Tab: process view titles" "PROCESS PIDS FLOWS RATE/s TOTAL↕ FAIL FAIL% ERROR P50ms P99ms MAXms HISTORY LAST" "$(tui_header "$SCR" | awk '{$1=$1; print}')"
check "process view: one row per process" "${T}acc ${T}live ${T}ref ${T}sh ${T}six ${T}udp " "$(tui_colv "$SCR" PROCESS | LC_ALL=C sort | tr '\n' ' ')"
check "process view: udp: 2 flows, TOTAL 140" "2 140" "$(val "^${T}udp " FLOWS) $(val "^${T}udp " TOTAL)"
check "process view: six: 3 pids" "3 1" "$(val "^${T}six " PIDS) $(val "^${T}six " FLOWS)"
check "process view: acc: TOTAL 300" 300 "$(val "^${T}acc " TOTAL)"
tui_keys Tab
tui_wait_fixed "view dest" 3
check "Tab: dest view titles" "DESTINATION FLOWS PIDS RATE/s TOTAL↕ FAIL FAIL% ERROR P50ms P99ms MAXms SYNRT HISTORY LAST" "$(tui_header "$SCR" | awk '{$1=$1; print}')"
check "dest view: one row per address" "$A.1 $A.2 $A.3 $A.4 $A.5 ::1 " "$(tui_colv "$SCR" DESTINATION | LC_ALL=C sort | tr '\n' ' ')"
check "dest view: 127.N.0.3: 2 flows, TOTAL 140" "2 140" "$(val "^$A.3 " FLOWS) $(val "^$A.3 " TOTAL)"
check "dest view: ::1: 3 pids, TOTAL 60" "3 60" "$(val "^::1 " PIDS) $(val "^::1 " TOTAL)"
tui_keys Tab
tui_wait_fixed "view port" 3
check "Tab: port view titles" "PORT PROTO FLOWS PIDS RATE/s TOTAL↕ FAIL FAIL% ERROR P50ms P99ms MAXms SYNRT HISTORY LAST" "$(tui_header "$SCR" | awk '{$1=$1; print}')"
check "port view: one row per port" "$(seq $((B + 1)) $((B + 7)) | tr '\n' ' ')" "$(tui_colv "$SCR" PORT | sort -n | tr '\n' ' ')"
check "port view: B+3 is udp, TOTAL 100" "udp 100" "$(val "^$((B + 3)) " PROTO) $(val "^$((B + 3)) " TOTAL)"
tui_keys Tab
wcheck "Tab: back to the flow view" 2 tui_wait_fixed "view flow" 3
for k in 2:process 3:dest 4:port 1:flow; do
	tui_keys "${k%%:*}"
	wcheck "key ${k%%:*}: ${k#*:} view" 2 tui_wait_fixed "view ${k#*:} " 3
done

# --- filters ----------------------------------------------------------------------------
tui_keys /
tui_wait_re '^filter:' 3
check "/: the prompt holds the filter in force" "filter: $T" "$(tui_status "$SCR" | sed 's/ *$//')"
tui_keys C-u
tui_type "$T port:$((B + 2))"
tui_keys Enter
wait_filter "$T port:$((B + 2))"
check "filter port:N: only that port" "$((B + 2))" "$(tui_colv "$SCR" PORT | sort -u | tr '\n' ' ' | sed 's/ $//')"
check "filter port:N: the one row" "${T}ref" "$(tui_colv "$SCR" PROCESS | sed 's,/.*,,' | tr '\n' ' ' | sed 's/ $//')"
set_filter "$T !${T}udp"
check "filter !name: the udp rows are out" 0 "$(tui_colv "$SCR" PROCESS | grep -c "^${T}udp")"
check "filter !name: the others stay" 5 "$(tui_rows "$SCR" | wc -l)"
set_filter "$T proto:udp"
check "filter proto:udp" "udp udp " "$(tui_colv "$SCR" PROTO | tr '\n' ' ')"
set_filter "$T fail"
check "filter fail: rows with failures only" "${T}live ${T}ref ${T}sh ${T}six " "$(tui_colv "$SCR" PROCESS | sed 's,/.*,,' | LC_ALL=C sort | tr '\n' ' ')"
# an invalid term: an error on the status line, the tool goes on
tui_keys /
tui_wait_re '^filter:' 3
tui_keys C-u
tui_type "$T port:99999"
tui_keys Enter
# Enter does not accept an invalid filter: the prompt stays, the error beside it
if tui_wait_fixed "bad port in 'port:99999'" 3 && tui_wait_re "^filter: $T port:99999" 1; then
	pass "invalid filter: the prompt stays open with the error"; else
	fail "invalid filter: the prompt stays open with the error" "$(tui_status "$SCR")"; fi
tui_keys BSpace BSpace
tui_keys Enter
tui_wait_gone "bad port in" 3
sleep 1.2
up1=$(tui_line "$SCR" 0)
SCR=$(tui_screen)
if kill -0 "$CT_PID" 2>/dev/null && [ "$(tui_line "$SCR" 0)" != "$up1" ]; then pass "invalid filter: the tool goes on"; else
	fail "invalid filter: the tool goes on" "$(tui_line "$SCR" 0)"; fi
tui_keys Escape
tui_wait_fixed "filter -" 3
check "Esc: filter cleared (header)" "filter -" "$(tui_line "$SCR" 2 | grep -o 'filter -')"
check "Esc: status says so" "filter cleared" "$(tui_status "$SCR" | sed 's/ *$//')"
check "Esc: every flow shown again" yes "$(tui_line "$SCR" 1 | grep -qE 'rows ([0-9]+)  flows \1 of max' && echo yes)"
# Esc while typing clears too
tui_keys /
tui_wait_re '^filter:' 3
tui_type "${T}acc"
wait_filter "${T}acc"
tui_keys Escape
wcheck "Esc while typing: filter cleared" 2 tui_wait_fixed "filter -" 3
check "Esc while typing: the prompt is gone" "" "$(tui_status "$SCR" | grep '^filter:')"
set_filter "$T"

# --- freeze and export -----------------------------------------------------------------
sort_by T count desc
wait_val "^${T}live/" PROTO tcp 2
t_freeze=$(date +%s)
tui_keys Space
wcheck "Space: FROZEN shown" 2 tui_wait_fixed " FROZEN" 3
check "Space: status line" "frozen: the display holds still, capture goes on" "$(tui_status "$SCR" | sed 's/ *$//')"
f1=$SCR
sleep 2.2
f2=$(tui_screen)
live1=$(SCR=$f1 val "^${T}live/" TOTAL)
live2=$(SCR=$f2 val "^${T}live/" TOTAL)
check "frozen: the live row's TOTAL holds still (2 s)" "$live1" "$live2"
# status line masked: it expires after 5 s
if [ "$(body "$f1")" = "$(body "$f2")" ]; then pass "frozen: every row holds still"; else
	fail "frozen: every row holds still" "$(diff <(body "$f1") <(body "$f2") | head -5 | tr '\n' '|')"; fi
ev1=$(tui_line "$f1" 1 | awk '{print $4}')
ev2=$(tui_line "$f2" 1 | awk '{print $4}')
# the header is of the frozen moment too (the live traffic goes on meanwhile)
check "frozen: the header's total holds still (2 s)" "$ev1" "$ev2"
tui_keys e
if tui_wait_re '^exported [0-9]+ rows \(frozen\) to ' 3; then
	st=$(tui_status "$SCR" | sed 's/ *$//')
	pass "e: the status line names the file"
	json=$(sed -E 's/^exported [0-9]+ rows \(frozen\) to (.*) and \.csv$/\1/' <<<"$st")
	nexp=$(sed -E 's/^exported ([0-9]+) rows.*/\1/' <<<"$st")
	check "e: the file is in --export-dir" "$EXPORT" "$(dirname "$json")"
	check "e: the name has the view and .json" yes "$(basename "$json" | grep -qE '^connecttop-[0-9]{8}-[0-9]{6}-flow\.json$' && echo yes)"
	check "e: the JSON file parses" flow "$(jq -r .group "$json" 2>&1)"
	check "e: as many rows as the screen and the message" "$(tui_rows "$SCR" | wc -l) $nexp" "$(jq '.rows | length' "$json") $(jq '.rows | length' "$json")"
	# the same rows in the same order: PROCESS (comm/pid or comm/pid(pids)) and TOTAL
	screen_rows=$(paste -d' ' <(tui_colv "$SCR" PROCESS) <(tui_colv "$SCR" TOTAL))
	json_rows=$(jq -r '.rows[] | "\(.comm)/\(.pid)\(if .pids > 1 then "(\(.pids))" else "" end) \(.count)"' "$json")
	check "e: JSON rows (comm, pid, count) = the screen's, in order" "$screen_rows" "$json_rows"
	check "e: the JSON has the frozen TOTAL of the live row" "$live1" "$(jq --arg c "${T}live" '[.rows[] | select(.comm == $c)][0].count' "$json")"
	# the file's counters and time are those of the frozen moment, not of the export (2 s later)
	check "e: the JSON's events = the frozen header's total" "$ev1" "$(jq .events "$json")"
	jt=$(date -d "$(jq -r .time "$json")" +%s 2>/dev/null)
	check "e: the JSON's time is the frozen moment's" yes "$([ -n "$jt" ] && [ "$jt" -le "$t_freeze" ] && [ "$jt" -ge $((t_freeze - 2)) ] && echo yes)"
	csv=${json%.json}.csv
	check "e: the CSV file: a header line and the rows" "$((nexp + 1))" "$(wc -l <"$csv" 2>/dev/null)"
else
	fail "e: the status line names the file" "$(tui_status "$SCR")"
fi
tui_keys Space
wcheck "Space again: FROZEN gone" 2 tui_wait_gone " FROZEN" 3
check "Space again: status line" "live" "$(tui_status "$SCR" | sed 's/ *$//')"
live3=$(val "^${T}live/" TOTAL)
check "unfreeze: the display jumps to live (TOTAL grew)" yes "$([ "${live3:-0}" -gt "${live1:-0}" ] 2>/dev/null && echo yes)"

# --- details ---------------------------------------------------------------------------------
set_filter "$T port:$((B + 1))"
tui_keys Enter
if tui_wait_fixed " details (Esc closes)" 3; then
	pass "Enter: the details pane"
	check "details: the flow" "process ${T}acc  ->  $A.1 port $((B + 1)) tcp   user root" "$(tui_line "$SCR" 1 | sed 's/^ //; s/ *$//')"
	check "details: connects and flows" "connects 300 flows 1" "$(tui_line "$SCR" 2 | awk '{print $1, $2, $(NF-1), $NF}')"
	check "details: result counts" "ok 300  refused 0  timeout 0  unreachable 0  pending 0  other 0  abandoned 0" "$(tui_line "$SCR" 3 | sed 's/^ //; s/ *$//')"
	check "details: latency summary" yes "$(grep -qE '^ TCP handshake \(ms\): p50 [0-9.]+  p99 [0-9.]+  max [0-9.]+  n 300$' <<<"$SCR" && echo yes)"
	hist=$(sed -n '/TCP handshake (ms)/,/^ *$/p' <<<"$SCR" | grep -E '^ +[0-9]+\.[0-9]{3}-[0-9]+\.[0-9]{3} +[0-9]+' )
	check "details: latency histogram buckets add up to 300" 300 "$(awk '{s += $2} END {print s + 0}' <<<"$hist")"
	check "details: histogram bars" yes "$(grep -q '█' <<<"$hist" && echo yes)"
	check "details: pids (1)" yes "$(grep -q '^ pids (1):$' <<<"$SCR" && echo yes)"
	check "details: the pid listed" "$ACC_PID" "$(grep -A1 '^ pids (1):$' <<<"$SCR" | tail -1 | awk '{print $1}')"
	tui_keys Escape
	wcheck "details: Esc closes" 0 tui_wait_fixed "view flow" 3
else
	fail "Enter: the details pane" "$(tui_line "$SCR" 0)"
fi
set_filter "$T ${T}sh"
tui_keys Enter
if tui_wait_fixed " details (Esc closes)" 3; then
	check "details (live process): refused 10" "ok 0  refused 10" "$(tui_line "$SCR" 3 | grep -oE 'ok [0-9]+  refused [0-9]+')"
	check "details (live process): errors" "errors: ECONNREFUSED 10" "$(tui_line "$SCR" 4 | sed 's/^ //; s/ *$//')"
	pl=$(grep -A1 '^ pids (1):$' <<<"$SCR" | tail -1)
	check "details (live process): its pid" "$SH_PID" "$(awk '{print $1}' <<<"$pl")"
	check "details (live process): its command line" yes "$(grep -qF "$T_TMP/${T}sh -c for i in 1 2 3" <<<"$pl" && echo yes)"
	tui_keys Enter
	wcheck "details: Enter closes too" 0 tui_wait_fixed "view flow" 3
else
	fail "Enter: the details pane (live process)" "$(tui_line "$SCR" 0)"
fi
set_filter "$T ${T}six"
tui_keys Enter
if tui_wait_fixed " details (Esc closes)" 3; then
	check "details (3 processes): flow" "process ${T}six  ->  ::1 port $((B + 5)) tcp" "$(tui_line "$SCR" 1 | sed 's/^ //; s/   user.*//')"
	check "details (3 processes): pids (3)" 3 "$(grep -A3 '^ pids (3):$' <<<"$SCR" | tail -3 | awk '$1 ~ /^[0-9]+$/' | sort -u | wc -l)"
	tui_keys Escape
	tui_wait_fixed "view flow" 3
else
	fail "Enter: the details pane (3 processes)" "$(tui_line "$SCR" 0)"
fi
# moving the selection: the keys choose the row the details pane shows
# det KEY...: close the pane (Esc, then the table is back), press the keys,
# Enter; prints the process the pane shows
close_details() {
	if [[ $(tui_line "$(tui_screen)" 0) == " details"* ]]; then
		tui_keys Escape # (only then: Esc on the table clears the filter)
		tui_wait_re '^ view ' 3
	fi
}
det() {
	local k
	close_details
	for k; do
		case $k in
		# tmux sends Home and End as ESC [1~ and ESC [4~ (screen's keys), which
		# xterm-256color's terminfo does not have: type what an xterm sends
		Home) tui_type $'\033OH' ;;
		End) tui_type $'\033OF' ;;
		*) tui_keys "$k" ;;
		esac
	done
	tui_keys Enter
	tui_wait_fixed " details (Esc closes)" 3
	tui_line "$SCR" 1 | awk '{print $2}'
}
set_filter "$T"
sort_by P comm asc
mapfile -t names < <(tui_colv "$SCR" PROCESS | sed 's,/.*,,')
[ ${#names[@]} -ge 3 ] || names=(none none none)
n_last=$((${#names[@]} - 1))
# the selection moves from where the previous keys left it
# (the selection follows its row across the sort: g puts it on the first)
for m in "g j:1" "G:$n_last" "g:0" "Down Down Up:1" "Down k:1" "End:$n_last" "Home:0" "NPage:$n_last" "PPage:0" "Down Down:2"; do
	# shellcheck disable=SC2086 # the keys, one word each
	check "${m%%:*}, Enter: details of row ${m#*:}" "${names[${m#*:}]}" "$(det ${m%%:*})"
done
close_details
# the selection follows its flow: a new row sorted above it moves it down one
# line, and Enter opens the row that was selected, not the one now at its place
tui_keys g Down
sleep 0.3
lg -c "${T}a0" refuse "$A.2" $((B + 2)) 3
wcheck "a new row sorted first" 4 wait_val "^${T}a0/" TOTAL 3 4
check "the selection follows its row (Enter)" "${names[1]}" "$(det)"
close_details

# --- help ----------------------------------------------------------------------------------
tui_keys h
if tui_wait_fixed " connecttop help: keys (any key returns)" 3; then
	pass "h: the help screen"
	# every named binding of tui/keys.c's bindings[] table, with its text
	missing=""
	nb=0
	while IFS=$'\t' read -r name help; do
		nb=$((nb + 1))
		want=$(printf ' %-14s%s' "$name" "$help")
		grep -qxF -- "$want" <<<"$SCR" || missing="$missing [$name]"
	# an entry (or a string) clang-format wrapped is joined first
	done < <(perl -0pe 's/,\n\t  ("|[-0-9A-Z])/, $1/g; s/"\n\t  "//g' "$ROOT/tui/keys.c" |
		sed -nE 's/^\t\{ [^,]+, "((\\.|[^"])*)", act_[a-z_]+, "([^"]*)"(, [-0-9A-Z_]+)* \},$/\1\t\3/p' | sed 's/\\\\/\\/g')
	check "help: all $nb keys of bindings[] listed with their text" "" "$missing"
	check "help: enough keys found in keys.c" yes "$([ "$nb" -ge 25 ] && echo yes)"
	check "help: the filter's terms, with pending" yes "$(grep -E '^ / \\ F4 +filter: ' <<<"$SCR" | grep -qw pending && echo yes)"
	tui_keys x
	wcheck "help: any key returns" 0 tui_wait_fixed "view flow" 3
else
	fail "h: the help screen" "$(tui_line "$SCR" 0)"
fi
for k in '?' F1; do
	tui_keys "$k"
	wcheck "$k: the help screen" 0 tui_wait_fixed " connecttop help: keys" 3
	tui_keys Escape
	tui_wait_fixed "view flow" 3
done

# --- resize ---------------------------------------------------------------------------------
rows_before=$(tui_colv "$SCR" PROCESS | sed 's,/.*,,' | tr '\n' ' ')
tui_resize 60 15
if tui_wait_re '^PROCESS' 3 && [ "$(tui_lines "$SCR")" = 15 ]; then
	pass "60x15: the table redrawn"
	check "60x15: title line" "connecttop" "$(tui_line "$SCR" 0 | awk '{print $1}')"
	check "60x15: no line wider than 60" yes "$(awk 'length > 60 { bad = 1 } END { if (!bad) print "yes" }' <<<"$SCR")"
	check "60x15: the rows (9 lines: all 8)" 8 "$(tui_rows "$SCR" | grep -c "^$T")"
	check "60x15: the key bar" "F1Help" "$(tui_line "$SCR" 14 | awk '{print $1}')"
else
	fail "60x15: the table redrawn" "$(head -4 <<<"$SCR")"
fi
tui_resize 200 50
if tui_wait_re '^PROCESS.*LAST' 3; then
	pass "200x50: the table redrawn"
	check "200x50: the wide columns" "PROCESS USER DESTINATION PORT PROTO RATE/s TOTAL FAIL FAIL% ERROR P50ms P99ms MAXms SYNRT HISTORY LAST" "$(tui_header "$SCR" | sed 's/↕//' | awk '{$1=$1; print}')"
	# SYN retransmits: none on loopback for TCP; UDP is not counted (-, not 0)
	check "200x50: SYNRT 0 for TCP, - for UDP" "0 -" "$(val "^${T}acc/" SYNRT) $(val "^${T}udp/" SYNRT)"
	check "200x50: the same rows" "$rows_before" "$(tui_colv "$SCR" PROCESS | sed 's,/.*,,' | tr '\n' ' ')"
	tui_keys C
	wcheck "C: the CGROUP column (200 columns)" 3 tui_wait_re '^PROCESS.? +USER +CGROUP +DESTINATION' 3
	check "C: the cgroup of the live bash" "ct-${T}.service" "$(val "^${T}sh/" CGROUP)"
	tui_keys C
	wcheck "C again: no CGROUP column" 3 tui_wait_re '^PROCESS.? +USER +DESTINATION' 3
else
	fail "200x50: the table redrawn" "$(head -4 <<<"$SCR")"
fi
# 80x24, the default ssh terminal: the failures show; a sort by a column that
# does not fit says so
tui_resize 80 24
if tui_wait_re '^PROCESS' 3 && [ "$(tui_lines "$SCR")" = 24 ]; then
	check "80x24: a failure column shown" yes "$(tui_header "$SCR" | grep -qE ' (FAIL|FAIL%|ERROR)( |$)' && echo yes)"
	check "80x24: the refused row's failures" 200 "$(val "^${T}ref/" FAIL)"
	tui_keys L
	wcheck "80x24, L: the sort column hidden, the status line says so" 22 tui_wait_fixed "sorted by P99ms (hidden at this width)" 3
	tui_keys P
	wcheck "80x24, P: PROCESS shown, no hint" 22 tui_wait_gone "hidden at this width" 3
else
	fail "80x24: the table redrawn" "$(head -4 <<<"$SCR")"
fi
tui_resize 30 8
wcheck "30x8: terminal too small" 0 tui_wait_fixed "terminal too small" 3
check "30x8: says the size and what it needs" "30x8, need 40x10" "$(tui_line "$(tui_screen)" 1 | sed 's/ *$//')"
tui_resize $W $H
if tui_wait_re '^PROCESS' 3; then
	pass "back to 140x40: the table"
	check "back to 140x40: the same rows" "$rows_before" "$(tui_colv "$SCR" PROCESS | sed 's,/.*,,' | tr '\n' ' ')"
else
	fail "back to 140x40: the table" "$(head -4 <<<"$SCR")"
fi

# --- connects in flight: a PENDING column while a row has one -----------------------------------
check "no row in flight: no PENDING column" "" "$(tui_header "$SCR" | grep -o PENDING)"
if command -v python3 >/dev/null; then
	# a listener with a backlog of 0 that never accepts: the first connect
	# completes, the SYNs of the 4 after it are dropped, in flight for 6 s
	cat >"$T_TMP/pend.py" <<'PY'
import ctypes, socket, sys, time
ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0)
l = socket.socket()
l.bind((sys.argv[2], int(sys.argv[3])))
l.listen(0)
held = []
for _ in range(5):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect((sys.argv[2], int(sys.argv[3])))
    except BlockingIOError:
        pass
    held.append(c)
    time.sleep(0.05)
time.sleep(6)
PY
	python3 "$T_TMP/pend.py" "${T}pend" "$A.7" $((B + 9)) &
	T_PIDS="$T_PIDS $!"
	if wait_val "^${T}pend/" PENDING 4 4; then
		pass "in flight: the PENDING column, 4 connects"
		check "in flight: TOTAL 5, FAIL 0" "5 0" "$(val "^${T}pend/" TOTAL) $(val "^${T}pend/" FAIL)"
		tui_resize 80 24
		tui_wait_re '^PROCESS' 3
		check "80x24: FAIL and PENDING both shown" yes "$(tui_header "$SCR" | grep -qE ' FAIL +PENDING' && echo yes)"
		tui_resize $W $H
		tui_wait_re '^PROCESS.*PENDING +FAIL%' 3
		set_filter "$T pending"
		check "filter pending: the row in flight only" "${T}pend" "$(tui_colv "$SCR" PROCESS | sed 's,/.*,,' | tr '\n' ' ' | sed 's/ $//')"
		set_filter "$T"
		# one long IPv6 address (a UDP connect() sends nothing; without a
		# route it fails, a row either way): it shows whole, and the
		# protocol, failure and P99 columns stay on a 140-column screen
		python3 -c "import ctypes, socket
ctypes.CDLL(None).prctl(15, b'${T}v6', 0, 0, 0)
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
try:
    s.connect(('2001:db8:1234:5678:9abc:def0:1234:5678', $((B + 9))))
except OSError:
    pass"
		if wait_val "^${T}v6/" PORT $((B + 9)) 4; then
			check "140, a long IPv6 address: shown whole" "2001:db8:1234:5678:9abc:def0:1234:5678" "$(val "^${T}v6/" DESTINATION)"
			check "140, a long IPv6 address: the other columns stay" yes "$(tui_header "$SCR" | grep -qE ' PORT +PROTO +RATE/s +TOTAL +FAIL +PENDING +FAIL% ERROR +P99ms' && echo yes)"
		else
			fail "140, a long IPv6 address: its row" "$(tui_rows "$SCR" | tr '\n' '|')"
		fi
	else
		fail "in flight: the PENDING column, 4 connects" "$(tui_header "$SCR") | $(tui_row "$SCR" "${T}pend/")"
	fi
else
	echo "# SKIP: the PENDING column (no python3)"
fi

# --- other keys: aliases, refresh interval, names, clearing ------------------------------------
tui_keys I
wcheck "I: reverse, like r" 2 tui_wait_fixed "sort comm ▼" 3
tui_keys I
tui_wait_fixed "sort comm ▲" 3
tui_keys Z
wcheck "Z: freeze, like Space" 2 tui_wait_fixed " FROZEN" 3
tui_keys Z
wcheck "Z again: live" 2 tui_wait_gone " FROZEN" 3
for k in "\\" F4; do
	tui_keys "$k"
	wcheck "$k: the filter prompt, with the filter in force" $((H - 2)) tui_wait_re "^filter: $T\$" 3
	tui_keys Enter
	wcheck "$k, Enter: the filter unchanged" 2 wait_filter "$T"
done
tui_keys F6
wcheck "F6: the sort menu" 4 tui_wait_fixed " sort by" 3
tui_keys Escape
wcheck "F6, Esc: menu closed, sort unchanged" 2 wait_sort_line "sort comm ▲"
check "header: the refresh interval" yes "$(tui_line "$SCR" 0 | grep -q '  refresh 0.5s' && echo yes)"
# + and - step, - down to 0.1 (-d's lowest)
for k in +:1 +:2 -:1 -:0.5 -:0.2 -:0.1 -:0.1; do
	tui_keys "${k%%:*}"
	wcheck "${k%%:*}: refresh every ${k#*:} s" $((H - 2)) tui_wait_re "^refresh every ${k#*:} s\$" 3
done
wcheck "header: refresh 0.1s" 0 tui_wait_fixed "  refresh 0.1s" 3
# d: a prompt, as in top: a number checked, Esc leaves it as it was
tui_keys d
wcheck "d: the interval prompt" $((H - 2)) tui_wait_re '^refresh interval in seconds: *$' 3
tui_type "abc"
tui_keys Enter
wcheck "d abc, Enter: refused, the prompt stays" $((H - 2)) tui_wait_fixed "refresh interval in seconds: abc  refresh interval 'abc': a number of seconds from 0.1 to 3600" 3
tui_keys BSpace BSpace BSpace
tui_type "0.5"
tui_keys Enter
wcheck "d 0.5, Enter: refresh every 0.5 s" $((H - 2)) tui_wait_re '^refresh every 0.5 s$' 3
check "d 0.5: the header says so" yes "$(tui_line "$SCR" 0 | grep -q '  refresh 0.5s' && echo yes)"
tui_keys d
tui_type "7"
tui_keys Escape
wcheck "d 7, Esc: unchanged" $((H - 2)) tui_wait_re '^refresh interval unchanged \(0.5 s\)$' 3
tui_keys n
wcheck "n: names on" $((H - 2)) tui_wait_fixed "names on (looked up in the background)" 3
check "n: the view line says names" yes "$(tui_line "$SCR" 2 | grep -qE ' names$' && echo yes)"
tui_keys n
wcheck "n again: names off" $((H - 2)) tui_wait_fixed "names off" 3
check "n again: no names on the view line" no "$(tui_line "$SCR" 2 | grep -qE ' names$' && echo yes || echo no)"
live_before=$(val "^${T}live/" TOTAL)
ev_before=$(tui_line "$SCR" 1 | awk '{print $4}')
tui_keys c
wcheck "c: counters cleared" $((H - 2)) tui_wait_fixed "counters cleared" 3
ev_after=$(tui_line "$SCR" 1 | awk '{print $4}')
check "c: the header's total counts from 0 again" yes "$([ "${ev_after:-x}" -lt "${ev_before:-0}" ] 2>/dev/null && echo yes)"
check "c: the finished flows are gone" 0 "$(tui_rows "$SCR" | grep -cE "^${T}(acc|ref|udp|six|sh)/")"
wait_val "^${T}live/" PROTO tcp 3
live_after=$(val "^${T}live/" TOTAL)
check "c: the live flow counts again from 0" yes "$([ "${live_after:-0}" -gt 0 ] && [ "${live_after:-0}" -lt "${live_before:-0}" ] && echo yes)"

# --- the details pane scrolls its pids when they run off the screen ----------------------------
lg -c "${T}many" -P 8 refuse "$A.2" $((B + 2)) 1
set_filter "$T ${T}many"
if wait_val "^${T}many/" TOTAL 8 4; then
	tui_resize $W 20
	tui_wait_re '^PROCESS' 3
	tui_keys Enter
	tui_wait_fixed " details (Esc closes)" 3
	pl() { grep -E '^ pids \(8\):' <<<"$SCR" | sed 's/^ //; s/ *$//'; }
	pids_shown() { grep -A20 -E '^ pids \(8\):' <<<"$SCR" | tail -n +2 | awk '$1 ~ /^[0-9]+$/ {print $1}' | tr '\n' ' '; }
	check "details, 8 pids on 20 lines: 3 shown, the pane says so" "pids (8):  1-3 shown, Up/Down PgUp/PgDn scroll" "$(pl)"
	first=$(pids_shown)
	tui_keys Down
	wcheck "details: Down scrolls one pid" 0 tui_wait_fixed "pids (8):  2-4 shown" 3
	check "details: Down: the list moved by one" "$(cut -d' ' -f2-3 <<<"$first")" "$(pids_shown | cut -d' ' -f1-2)"
	tui_type $'\033OF'
	wcheck "details: End: the last pids" 0 tui_wait_fixed "pids (8):  6-8 shown" 3
	tui_keys PPage
	wcheck "details: PgUp: up a page" 0 tui_wait_fixed "pids (8):  4-6 shown" 3
	tui_type $'\033OH'
	wcheck "details: Home: the first again" 0 tui_wait_fixed "pids (8):  1-3 shown" 3
	check "details: Home: the same pids as first" "$first" "$(pids_shown)"
	tui_keys Escape
	tui_wait_re '^ view ' 3
	tui_resize $W $H
	tui_wait_re '^PROCESS' 3
else
	fail "details scroll: the row of 8 pids" "$(tui_rows "$SCR" | tr '\n' '|')"
fi
set_filter "$T"

# --- a hostile process name: ESC [31m, a newline, U+202E (right-to-left override) --------------
# --- and one with invisible characters, U+200B and U+FEFF, and a backslash ---------------------
hostile=$(printf '%s\033[31m\n\342\200\256' "$T")
lg -c "$hostile" udp "$A.6" $((B + 8)) 7
inv=$(printf '%s\\\342\200\213z\357\273\277' "$T")
lg -c "$inv" udp "$A.6" $((B + 8)) 9
tui_keys 2
tui_wait_fixed "view process" 3
inv_name="$T\\\\\\u200bz\\ufeff"
if tui_wait_fixed "$inv_name" 4; then
	check "invisible name: escaped, one line, with its columns" "$inv_name 1 1 9" "$(tui_row "$SCR" "$inv_name" | awk '{print $1, $2, $3, $5}')"
	check "invisible name: no raw U+200B or U+FEFF on the screen" 0 "$(grep -c $'\342\200\213\\|\357\273\277' <<<"$SCR")"
else
	fail "invisible name: escaped" "$(tui_rows "$SCR" | grep -F "$T" | head -5 | tr '\n' '|')"
fi
esc_name="$T\\x1b[31m\\x0a\\u202e"
if tui_wait_fixed "$esc_name" 4; then
	pass "hostile name: shown escaped"
	hl=$(tui_row "$SCR" "$esc_name")
	check "hostile name: one line, with its columns" "$esc_name 1 1 7" "$(awk '{print $1, $2, $3, $5}' <<<"$hl")"
	check "hostile name: no raw ESC or U+202E on the screen" 0 "$(grep -c $'\033\|\342\200\256' <<<"$SCR")"
	check "hostile name: lines on the screen" $H "$(tui_lines "$SCR")"
	# with -e, tmux writes each cell's attributes as SGR sequences: the name's
	# ESC [31m, had it reached the terminal, would make that line red
	he=$(tui_screen_e | grep -F -- "$esc_name")
	sgr=$(grep -oE $'\033\\[[0-9;:]*m' <<<"$he" | tr -d '\033[m' | tr ';:' '\n' | sort -u | tr '\n' ' ')
	check "hostile name: the line is not red (SGR 31/91)" "" "$(tr ' ' '\n' <<<"$sgr" | grep -xE '31|91')"
	# in the flow view sorted by name, ESC sorts before the letters: the first row
	tui_keys 1
	tui_wait_fixed "view flow" 3
	sort_by P comm asc
	tui_keys g Enter
	tui_wait_fixed " details (Esc closes)" 3
	check "hostile name: details pane, escaped" "process $esc_name  ->  $A.6 port $((B + 8)) udp" "$(tui_line "$SCR" 1 | sed 's/^ //; s/   user.*//')"
	check "hostile name: details pane, no raw ESC" 0 "$(tui_screen_e | grep -F -- "$esc_name" | grep -oE $'\033\\[[0-9;]*31m' | wc -l)"
	tui_keys Escape
	tui_wait_fixed "view flow" 3
else
	fail "hostile name: shown escaped" "$(tui_rows "$SCR" | head -10 | tr '\n' '|')"
fi

# other traffic on this machine can fill the flow table (32768 flows) and evict this run's
ev=$(tui_line "$(tui_screen)" 1 | grep -oE 'evicted [0-9]+' | awk '{print $2}')
[ "${ev:-0}" -gt 0 ] && echo "# note: $ev flows were evicted during this run (other traffic on the machine): a row that went missing may come from that"

# --- quitting: q, the terminal restored ------------------------------------------------------
tui_keys q
if ex=$(tui_wait_exit 5); then
	SCR=$(tui_screen)
	check "q: exit status 0, terminal modes restored" "CTEXIT rc=0 tty=same" "$ex"
	check "q: alternate screen gone" 0 "$(tui_fmt '#{alternate_on}')"
	check "q: cursor visible again" 1 "$(tui_fmt '#{cursor_flag}')"
	check "q: the table is gone from the pane" 0 "$(grep -cE '^PROCESS|^ connecttop  ' <<<"$SCR")"
	check "q: the shell prompt follows" '$' "$(grep -A1 '^CTEXIT' <<<"$SCR" | tail -1 | sed 's/ *$//')"
	tui_type "echo marker-\$((6*7))"
	tui_keys Enter
	wcheck "q: the shell echoes typed input again" last tui_wait_fixed "marker-42" 3
else
	fail "q: the tool exits" "$(tail -3 <<<"$SCR")"
fi
kill -0 "$CT_PID" 2>/dev/null && fail "q: the process is gone" "pid $CT_PID alive"

# SIGTERM, ^C and F10 quit cleanly (status 0); a signal that ends the program
# (^\ = SIGQUIT, SIGUSR1, a crash) restores the terminal first, and the exit
# status stays 128 + the signal's number. HOW:STATUS each.
for hw in SIGTERM:0 C-c:0 F10:0 C-\\:131 SIGUSR1:138 SIGSEGV:139; do
	how=${hw%:*} want=${hw##*:}
	tui_start -d 0.5 || continue
	case $how in
	SIG*) kill -"${how#SIG}" "$CT_PID" ;;
	*) tui_keys "$how" ;;
	esac
	if ex=$(tui_wait_exit 5); then
		check "$how: exit status $want, terminal modes restored" "CTEXIT rc=$want tty=same" "$ex"
		check "$how: alternate screen gone, cursor visible" "0 1" "$(tui_fmt '#{alternate_on} #{cursor_flag}')"
	else
		fail "$how: the tool exits" "$(tail -3 <<<"$SCR")"
		kill -KILL "$CT_PID" 2>/dev/null
	fi
done

# --- TERM=vt100, NO_COLOR=1: monochrome, still readable --------------------------------------
tui_session ct2 $W $H TERM=vt100 NO_COLOR=1 || fail "tmux session (vt100)" "no prompt"
tui_start -d 0.5 -f "$T" -s count || true
lg -c "${T}acc" accept "$A.1" $((B + 1)) 300
lg -c "${T}ref" refuse "$A.2" $((B + 2)) 200
lg -c "${T}udp" udp "$A.3" $((B + 3)) 100
if wait_val "^${T}acc/" TOTAL 300 4; then
	pass "vt100: rows shown"
	check "vt100: column titles" "PROCESS DESTINATION PORT PROTO RATE/s TOTAL↕ FAIL FAIL% ERROR P50ms P99ms HISTORY" "$(tui_header "$SCR" | awk '{$1=$1; print}')"
	check "vt100: row acc" "$A.1 $((B + 1)) tcp 300 0" "$(val "^${T}acc/" DESTINATION) $(val "^${T}acc/" PORT) $(val "^${T}acc/" PROTO) $(val "^${T}acc/" TOTAL) $(val "^${T}acc/" FAIL)"
	check "vt100: row ref" "200 200 ECONNREFUSED" "$(val "^${T}ref/" TOTAL) $(val "^${T}ref/" FAIL) $(val "^${T}ref/" ERROR)"
	check_sorted "vt100: TOTAL descending" TOTAL desc
	codes=$(tui_screen_e | grep -oE $'\033\\[[0-9;:]*m' | tr -d '\033[m' | tr ';:' '\n' | sort -un | tr '\n' ' ')
	check "vt100: no colour at all (SGR colour codes)" "" "$(tr ' ' '\n' <<<"$codes" | grep -xE '3[0-8]|4[0-8]|9[0-7]|10[0-7]')"
	check "vt100: the titles stand out in reverse video" yes "$(tr ' ' '\n' <<<"$codes" | grep -qx 7 && echo yes)"
	tui_keys q
	check "vt100: q: exit 0, terminal restored" "CTEXIT rc=0 tty=same" "$(tui_wait_exit 5)"
else
	fail "vt100: rows shown" "$(head -6 <<<"$SCR" | tr '\n' '|')"
fi
# --- -d 5: the first screen has the connects of its first moments, not of 5 s later ---------------
tui_session ct5 80 24 || fail "tmux session (-d 5)" "no prompt"
tui_start -d 5 -f "$T" || true
check "-d 5: the header says refresh 5s" yes "$(tui_line "$SCR" 0 | grep -q '  refresh 5s' && echo yes)"
# (the live traffic of this run goes on: 5 connects every 0.2 s)
wcheck "-d 5: the live connects shown within 2 s" 1 tui_wait_re "^${T}live/" 2
tui_keys q
check "-d 5: q: exit 0" "CTEXIT rc=0 tty=same" "$(tui_wait_exit 5)"

# --- --unix: an AF_UNIX path as destination, no port in the details ----------------------------
tui_session ct3 $W $H || fail "tmux session (unix)" "no prompt"
tui_start -d 0.5 --unix -f "$T proto:unix" || true
lg -c "${T}ux" accept "unix:$T_TMP/${T}.sock" 0 12
lg -c "${T}uxtcp" refuse "$A.2" $((B + 2)) 5
if wait_val "^${T}ux/" TOTAL 12 4; then
	check "unix: the path as destination, the type as protocol" "$T_TMP/${T}.sock 0 u_str" "$(val "^${T}ux/" DESTINATION) $(val "^${T}ux/" PORT) $(val "^${T}ux/" PROTO)"
	check "unix: only AF_UNIX rows with proto:unix" 1 "$(tui_rows "$SCR" | grep -c .)"
	tui_keys Enter
	wcheck "unix: details" 0 tui_wait_fixed " details (Esc closes)" 3
	check "unix: details, the path and type" "process ${T}ux  ->  $T_TMP/${T}.sock u_str" "$(tui_line "$SCR" 1 | sed 's/^ //; s/   user.*//')"
	tui_keys Escape q
	check "unix: q: exit 0, terminal restored" "CTEXIT rc=0 tty=same" "$(tui_wait_exit 5)"
else
	fail "unix: row shown" "$(head -8 <<<"$SCR" | tr '\n' '|')"
fi
# --- no terminfo database at all (a container, an initramfs): the entries built in ---------
mkdir -p "$T_TMP/noterminfo"
# the command, in a mount namespace where every terminfo folder is empty
printf '%s\n' '#!/bin/sh' \
	"exec unshare -m sh -c 'for d in /etc/terminfo /lib/terminfo /usr/share/terminfo; do [ -d \"\$d\" ] && mount --bind \"$T_TMP/noterminfo\" \"\$d\"; done; exec \"\$@\"' sh \"\$@\"" \
	>"$T_TMP/noterminfo.sh"
chmod +x "$T_TMP/noterminfo.sh"
if tui_session ct4 $W $H "$T_TMP/noterminfo.sh"; then
	tui_type "ls /etc/terminfo /lib/terminfo /usr/share/terminfo 2>/dev/null | grep -c . ; infocmp xterm-256color >/dev/null 2>&1 || echo no-terminfo"
	tui_keys Enter
	wcheck "no terminfo: the host's database is out of sight" 0 tui_wait_re '^no-terminfo' 3
	if tui_start -d 0.5 -f "$T"; then
		pass "no terminfo: the view starts"
		lg -c "${T}noti" refuse "$A.2" $((B + 2)) 4
		wcheck "no terminfo: rows" 0 wait_val "^${T}noti/" TOTAL 4 4
		tui_keys q
		check "no terminfo: q: exit 0, terminal restored" "CTEXIT rc=0 tty=same" "$(tui_wait_exit 5)"
		check "no terminfo: the entries written for it are gone" "" "$(ls -d /tmp/connecttop-terminfo.* 2>/dev/null)"
	fi
else
	fail "tmux session (no terminfo)" "no prompt"
fi
echo "# $((SECONDS - T0)) s"
