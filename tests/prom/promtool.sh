#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/prom/promtool.sh [--fixture]: connecttop's exposition file on its own
# (no Prometheus server), checked with `promtool check metrics` and the
# harness's own checks (lib.sh prom_file_problems), on 127.0.0.1 only.
#
#  1. hostile process names: loadgen -c 'a"b\c', $'x\ny' and $'u\xffv' (a
#     byte that is not UTF-8) make refused connects; the file must pass
#     promtool, stay UTF-8, hold comm="a\"b\\\\c" exactly (the name as
#     connecttop shows it, a"b\\c, then escaped for the label), the newline
#     name as comm="x\\x0ay" and the name x\x0ay as comm="x\\\\x0ay", two
#     series, and count all 12 connects.
#  2. counter monotonicity under eviction: connecttop --max-flows 4 while
#     loadgen connects to 20 destinations in turn (127.0.0.10 .. 127.0.0.29,
#     one port), 4 rounds (one hot destination first, then the 19 others
#     from a different start each round); the file is snapshotted every
#     0.5 s; no counter or histogram series present in two consecutive
#     snapshots may go down, every snapshot must be valid, and the counts are
#     exact: the file holds this section's connects and nothing else, the
#     hot flow's own series all of its connects, 3 series of their own and
#     one process's "other", 4 flows, and between 64 and 76 evictions (16 in
#     the first round, 16 to 20 in each other).
#     With --prometheus-max-series 3 flows are folded and demoted too:
#     a series may leave only when its process's total does not go down
#     (lib.sh counters_never_decrease).
#  3. the series cap: connecttop --prometheus-max-series 3 while loadgen
#     connects to 10 destinations (one port), 3 rounds; flows beyond the cap
#     are folded into daddr="other",dport="other", nothing is lost, no
#     counter goes down, exactly 3 series of their own and no eviction.
#
# Each section traces only its own port (-P, in the kernel; port_base picks
# them): other tests' and other programs' connects on the host change none
# of its numbers. Distinct flows are distinct loopback addresses.
#
#  4. batch: `-b -o prom -n 1` is one document that promtool accepts;
#     --prometheus with -b -o json: both outputs count the same connects.
#  5. write errors: the directory of FILE removed and made again: stderr
#     says so once when writes fail and once when they work again, and
#     connecttop_prometheus_write_errors_total counts them.
#
# --fixture: no connecttop; checks tests/prom/fixture.prom and proves the
# checkers themselves catch bad input (decreasing counters, duplicate series,
# an unescaped newline, a timestamp, non-UTF-8).
#
# Env: CONNECTTOP, LOADGEN, KEEP_TMP=1. Needs root (BPF) except with --fixture.
# Prints PASS:/FAIL: per check and "promtool.sh: N passed, N failed"; exits 1
# if any check failed.
set -eu

. "$(dirname "$0")/lib.sh"

parse_mode "$@"

need_tools promtool ss iconv od

BASE=$(port_base)
P_HOST=$BASE           # section 1
EV_PORT=$((BASE + 1))  # section 2: destinations 127.0.0.EV_HOST0 + 0 .. EV_FLOWS-1
EV_HOST0=10
EV_FLOWS=20
EV_ROUNDS=4
EV_HOT=40      # connects to the hot port per round
EV_MAX=3       # --prometheus-max-series: eviction and folding both happen
CAP_PORT=$((BASE + 2)) # section 3: destinations 127.0.0.CAP_HOST0 + 0 .. CAP_FLOWS-1
CAP_HOST0=40
CAP_FLOWS=10
P_BATCH=$((BASE + 3))  # section 4
CAP_ROUNDS=3
CAP_MAX=3      # --prometheus-max-series

# expect_grep NAME FILE LITERAL: FILE contains LITERAL (fixed string).
expect_grep() {
	if grep -qF -- "$3" "$2"; then
		pass "$1"
	else
		fail "$1" "$2 does not contain $3"
	fi
}

# expect_problem NAME FILE WHAT: the checkers (promtool + prom_file_problems)
# reject FILE; WHAT says what they should have found.
expect_rejected() {
	local name=$1 f=$2 what=$3 rc=0 extra

	promtool check metrics <"$f" >/dev/null 2>&1 || rc=$?
	extra=$(prom_file_problems "$f")
	if [ "$rc" != 0 ] || [ -n "$extra" ]; then
		pass "$name"
	else
		fail "$name" "a file with $what was accepted"
	fi
}

# expect_decrease NAME OLD NEW TEXT: the monotonicity checker reports a
# decrease from OLD to NEW on a series containing TEXT.
expect_decrease() {
	local out

	out=$(counters_never_decrease "$2" "$3")
	if echo "$out" | grep -qF "$4"; then
		pass "$1"
	else
		fail "$1" "not reported: '$out'"
	fi
}

# monotonic_check NAME SNAPDIR: every pair of consecutive snapshots.
monotonic_check() {
	local name=$1 dir=$2 prev="" s d bad="" n=0 pairs=0

	for s in "$dir"/*.prom; do
		[ -e "$s" ] || continue
		n=$((n + 1))
		if [ -n "$prev" ]; then
			pairs=$((pairs + 1))
			d=$(counters_never_decrease "$prev" "$s")
			[ -z "$d" ] || bad="$bad$d"$'\n'
		fi
		prev=$s
	done
	if [ "$pairs" -lt 1 ]; then
		fail "$name" "only $n snapshot(s) in $dir"
	elif [ -z "$bad" ]; then
		pass "$name"
		info "$name: $pairs consecutive snapshot pairs compared"
	else
		fail "$name" "$(echo "$bad" | grep -c .) decrease(s): $(echo "$bad" | head -n 5 | tr '\n' ';')"
	fi
}

# ------------------------------------------------------------------------------
if [ "$MODE" = fixture ]; then
	prom_file_check "fixture-promtool" "$FIXTURE"
	expect_grep "fixture-escaped-quote-backslash" "$FIXTURE" 'comm="a\"b\\c"'
	expect_grep "fixture-escaped-newline" "$FIXTURE" 'comm="x\ny"'
	v=$(prom_file_sum "$FIXTURE" connecttop_connects_total 'comm="promacc"')
	if [ "$v" = 25 ]; then
		pass "fixture-sum"
	else
		fail "fixture-sum" "prom_file_sum gave '$v', want 25"
	fi

	# the monotonicity checker: growth, a gauge going down and a series of
	# its own demoted into its process's "other" are fine ...
	mkdir -p "$TMP/snap"
	cp "$FIXTURE" "$TMP/snap/0001.prom"
	sed -e '/comm="promacc"/s/ 25$/ 30/' -e 's/^connecttop_flows 7$/connecttop_flows 2/' \
		-e 's/^connecttop_connects_total{comm="sshd",daddr="::1",dport="22",/connecttop_connects_total{comm="sshd",daddr="other",dport="other",/' \
		"$FIXTURE" >"$TMP/snap/0002.prom"
	monotonic_check "monotonic-checker-accepts-growth" "$TMP/snap"
	# ... and so is a process folded into comm="other" ...
	mkdir -p "$TMP/snap2"
	cp "$FIXTURE" "$TMP/snap2/0001.prom"
	sed -e 's/^connecttop_connects_total{comm="sshd",daddr="::1",dport="22",/connecttop_connects_total{comm="other",daddr="other",dport="other",/' \
		"$FIXTURE" >"$TMP/snap2/0002.prom"
	monotonic_check "monotonic-checker-accepts-fold-into-other" "$TMP/snap2"
	# ... a series that disappears with its count (or is reset to 0, which
	# is not written) is not, nor an "other" series that disappears
	mkdir -p "$TMP/snapgone"
	cp "$FIXTURE" "$TMP/snapgone/0001.prom"
	sed -e '/^connecttop_connects_total{comm="sshd"/d' "$FIXTURE" >"$TMP/snapgone/0002.prom"
	expect_decrease "monotonic-checker-catches-series-gone" "$TMP/snapgone/0001.prom" \
		"$TMP/snapgone/0002.prom" 'comm="sshd" total'
	sed -e '/^connecttop_connects_total{comm="resolver",daddr="other"/s/^connecttop_connects_total{comm="resolver",daddr="other",dport="other"/connecttop_connects_total{comm="resolver",daddr="10.0.0.53",dport="53"/' \
		"$FIXTURE" >"$TMP/snapgone/0003.prom"
	expect_decrease "monotonic-checker-catches-other-gone" "$TMP/snapgone/0001.prom" \
		"$TMP/snapgone/0003.prom" 'comm="resolver",daddr="other"'

	# ... a counter or a histogram bucket going down is not
	mkdir -p "$TMP/snapbad"
	cp "$FIXTURE" "$TMP/snapbad/0001.prom"
	sed -e '/comm="promref"/s/ 15$/ 14/' "$FIXTURE" >"$TMP/snapbad/0002.prom"
	expect_decrease "monotonic-checker-catches-counter-decrease" "$TMP/snapbad/0001.prom" \
		"$TMP/snapbad/0002.prom" 'comm="promref"'
	sed -e '/comm="a\\"b\\\\c".*le="0.0001"/s/ 3$/ 2/' "$FIXTURE" >"$TMP/snapbad/0003.prom"
	expect_decrease "monotonic-checker-catches-bucket-decrease" "$TMP/snapbad/0001.prom" \
		"$TMP/snapbad/0003.prom" 'le="0.0001"'

	# the file checkers reject broken files
	mkdir -p "$TMP/bad"
	{ cat "$FIXTURE"; grep '^connecttop_connects_total{comm="promref"' "$FIXTURE"; } >"$TMP/bad/dup.prom"
	expect_rejected "checker-rejects-duplicate-series" "$TMP/bad/dup.prom" "a duplicate series"
	sed -e 's/comm="x\\ny"/comm="x\ny"/' "$FIXTURE" >"$TMP/bad/nl.prom"
	expect_rejected "checker-rejects-raw-newline" "$TMP/bad/nl.prom" "an unescaped newline in a label value"
	sed -e 's/comm="promacc"/comm="pro\xffacc"/' "$FIXTURE" >"$TMP/bad/utf8.prom"
	expect_rejected "checker-rejects-non-utf8" "$TMP/bad/utf8.prom" "a label value that is not UTF-8"
	sed -e 's/^connecttop_drops_total 0$/connecttop_drops_total 0 1700000000000/' "$FIXTURE" >"$TMP/bad/ts.prom"
	expect_rejected "checker-rejects-timestamp" "$TMP/bad/ts.prom" "a sample timestamp"
	sed -e '/^# HELP connecttop_connects_total/d' "$FIXTURE" >"$TMP/bad/nohelp.prom"
	expect_rejected "checker-rejects-missing-help" "$TMP/bad/nohelp.prom" "no HELP line"
	finish
fi

# ------------------------------------------------------------------------------
if [ ! -x "$CONNECTTOP" ]; then
	fail "connecttop-binary" "$CONNECTTOP not found or not executable (build it, or run $0 --fixture)"
	finish
fi
if ! ensure_loadgen; then
	fail "loadgen-binary" "$LOADGEN not found and tests/loadgen.c did not build"
	finish
fi
for p in "$P_HOST" "$EV_PORT" "$CAP_PORT" "$P_BATCH"; do
	if port_listening "$p"; then
		fail "ports" "something already listens on 127.0.0.1:$p"
		finish
	fi
done

# wait_sum FILE LABELMATCH WANT TIMEOUT_S: polls until connecttop_connects_total
# over LABELMATCH reaches WANT; then waits 2.2 s (two intervals) for an overshoot.
wait_sum() {
	local f=$1 lm=$2 want=$3 deadline v

	deadline=$(($(now_ms) + $4 * 1000))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		v=$(prom_file_sum "$f" connecttop_connects_total "$lm" 2>/dev/null || true)
		if [ -n "$v" ] && [ "$v" -ge "$want" ] 2>/dev/null; then
			break
		fi
		sleep 0.2
	done
	sleep 2.2
}

# expect_sum NAME FILE LABELMATCH WANT
expect_sum() {
	local v

	v=$(prom_file_sum "$2" connecttop_connects_total "$3")
	if [ "$v" = "$4" ]; then
		pass "$1"
	else
		fail "$1" "connecttop_connects_total{$3} sums to '${v:-<no series>}' in $2, want $4"
	fi
}

# --- 1. hostile process names --------------------------------------------------
mkdir -p "$TMP/hostile"
HF=$TMP/hostile/connecttop.prom
# -P: only this port is traced, so no other process's connects (other
# tracers and tests run beside this one) add series or counts to the file
start_bg "$TMP/connecttop-hostile.log" "$CONNECTTOP" -P "$P_HOST" --prometheus "$HF" -q -d 1
CT_PID=$BG_PID
if wait_file "$HF" 20 "$CT_PID"; then
	lg_ok=1
	"$LOADGEN" -q -c 'a"b\c' refuse 127.0.0.1 "$P_HOST" 3 || lg_ok=0
	"$LOADGEN" -q -c $'x\ny' refuse 127.0.0.1 "$P_HOST" 3 || lg_ok=0
	"$LOADGEN" -q -c $'u\xffv' refuse 127.0.0.1 "$P_HOST" 3 || lg_ok=0
	# the text \x0a: shown \\x0a, apart from the newline (\x0a); never
	# two series with equal labels (a duplicate makes node_exporter drop
	# the file)
	"$LOADGEN" -q -c 'x\x0ay' refuse 127.0.0.1 "$P_HOST" 3 || lg_ok=0
	if [ "$lg_ok" = 1 ]; then
		pass "hostile-loadgen"
	else
		fail "hostile-loadgen" "a loadgen run did not end as expected"
	fi
	wait_sum "$HF" "dport=\"$P_HOST\"" 12 15
	cp "$HF" "$TMP/hostile.snapshot.prom"
	prom_file_check "hostile-promtool" "$TMP/hostile.snapshot.prom"
	expect_grep "hostile-escaped-quote-backslash" "$TMP/hostile.snapshot.prom" 'comm="a\"b\\\\c"'
	expect_sum "hostile-quote-backslash-count" "$TMP/hostile.snapshot.prom" 'comm="a\"b\\\\c"' 3
	# a newline is shown as the text \x0a (\\x0a in the label), the text
	# \x0a as \\x0a (\\\\x0a): two series, as in all connecttop's outputs
	expect_sum "hostile-newline-count" "$TMP/hostile.snapshot.prom" 'comm="x\\x0ay"' 3
	expect_sum "hostile-literal-x0a-count" "$TMP/hostile.snapshot.prom" 'comm="x\\\\x0ay"' 3
	# the non-UTF-8 name is sanitized somehow (the file stays UTF-8: checked
	# above); its connects must still be counted under some comm
	expect_sum "hostile-all-counted" "$TMP/hostile.snapshot.prom" "dport=\"$P_HOST\"" 12
else
	fail "connecttop-writes-file" "no $HF within 20 s; log: $(tail -n 5 "$TMP/connecttop-hostile.log" | tr '\n' ' ')"
fi
sigint_and_wait "hostile-sigint-exit-0" "$CT_PID" 10
prom_file_check "hostile-final-file-promtool" "$HF"

# --- snapshots -----------------------------------------------------------------
# snapshots_start FILE DIR: copies FILE into DIR every 0.5 s until
# snapshots_stop (the file is replaced by rename, so a cp reads one whole
# version).
snapshots_start() {
	local f=$1 dir=$2

	mkdir -p "$dir"
	rm -f "$dir.stop"
	(
		i=0
		while [ ! -e "$dir.stop" ] && [ "$i" -lt 200 ]; do
			i=$((i + 1))
			cp "$f" "$dir/$(printf %04d "$i").prom" 2>/dev/null || true
			sleep 0.5
		done
	) &
	SNAP_PID=$!
	t_track "$SNAP_PID"
}

# snapshots_stop FILE DIR: stops the copier, adds FILE as the last snapshot
# and drops copies equal to the one before (one version read twice).
snapshots_stop() {
	local f=$1 dir=$2 prev="" s

	touch "$dir.stop"
	wait "$SNAP_PID" || true
	t_untrack "$SNAP_PID"
	cp "$f" "$dir/9999.prom"
	NSNAP=$(find "$dir" -name '*.prom' | wc -l)
	for s in "$dir"/*.prom; do
		if [ -n "$prev" ] && cmp -s "$prev" "$s"; then
			rm -f "$s"
		else
			prev=$s
		fi
	done
	NDISTINCT=$(find "$dir" -name '*.prom' | wc -l)
}

# snapshots_check PREFIX DIR MIN_VERSIONS: enough versions, each one valid,
# no counter going down between consecutive ones.
snapshots_check() {
	local pre=$1 dir=$2 min=$3 s rc p bad=""

	info "$pre: $NSNAP snapshots, $NDISTINCT distinct versions"
	if [ "$NDISTINCT" -ge "$min" ]; then
		pass "$pre-snapshots"
	else
		fail "$pre-snapshots" "only $NDISTINCT distinct file versions seen (want >= $min: is the file rewritten every interval?)"
	fi
	for s in "$dir"/*.prom; do
		rc=0
		promtool check metrics <"$s" >/dev/null 2>&1 || rc=$?
		p=$(prom_file_problems "$s")
		if [ "$rc" != 0 ] || [ -n "$p" ]; then
			bad="$bad $(basename "$s")(promtool rc=$rc; $(echo "$p" | head -n 2 | tr '\n' ' '))"
		fi
	done
	if [ -z "$bad" ]; then
		pass "$pre-snapshots-valid"
	else
		fail "$pre-snapshots-valid" "$(echo "$bad" | cut -c1-600)"
	fi
	monotonic_check "$pre-counters-monotonic" "$dir"
}

# positive NAME VALUE WHAT: VALUE > 0
positive() {
	if [ -n "$2" ] && awk -v v="$2" 'BEGIN { exit !(v > 0) }'; then
		pass "$1"
	else
		fail "$1" "$3 is '${2:-<none>}', want > 0"
	fi
}

# expect_metric NAME FILE METRIC LABELMATCH WANT: the sum of METRIC's samples
# over LABELMATCH ("" for all) is WANT
expect_metric() {
	local v

	v=$(prom_file_sum "$2" "$3" "$4")
	if [ "$v" = "$5" ]; then
		pass "$1"
	else
		fail "$1" "$3${4:+{$4\}} is '${v:-<none>}' in $2, want $5"
	fi
}

# expect_between NAME VALUE LO HI WHAT: LO <= VALUE <= HI
expect_between() {
	if [ -n "$2" ] && [ "$2" -ge "$3" ] 2>/dev/null && [ "$2" -le "$4" ]; then
		pass "$1"
	else
		fail "$1" "$5 is '${2:-<none>}', want $3 to $4"
	fi
}

# own_series FILE: the (comm, daddr, dport) with series of their own, one a line
own_series() {
	grep -E '^connecttop_connects_total\{' "$1" | grep -vF 'daddr="other",dport="other"' |
		sed -E 's/,proto="[^"]*",result="[^"]*"\}.*//' | sort -u
}

# --- 2. monotonicity under eviction -------------------------------------------
mkdir -p "$TMP/evict"
EF=$TMP/evict/connecttop.prom
# -P: this section's port only (the counts below are exact)
start_bg "$TMP/connecttop-evict.log" "$CONNECTTOP" -P "$EV_PORT" --max-flows 4 \
	--prometheus-max-series "$EV_MAX" --prometheus "$EF" -q -d 1
CT_PID=$BG_PID
if wait_file "$EF" 20 "$CT_PID"; then
	snapshots_start "$EF" "$TMP/snap"
	total=0
	lg_ok=1
	hot=127.0.0.$EV_HOST0
	for r in $(seq "$EV_ROUNDS"); do
		# a round: one hot flow (to $hot, EV_HOT connects), held for an
		# interval, then the 19 other destinations (a different start
		# each round, unequal counts 1..4), held for an interval. With
		# --max-flows 4 the hot flow is pushed out by the others and
		# comes back at the next round: a table that forgets it, or
		# moves its count between its own series and its comm's "other"
		# series, shows as a counter going down between two consecutive
		# snapshots.
		"$LOADGEN" -q -c promevict refuse "$hot" "$EV_PORT" "$EV_HOT" || lg_ok=0
		total=$((total + EV_HOT))
		sleep 1.2
		for i in $(seq 0 $((EV_FLOWS - 2))); do
			a=127.0.0.$((EV_HOST0 + 1 + (i + r * 7) % (EV_FLOWS - 1)))
			n=$((1 + (i * 5 + r * 3) % 4))
			"$LOADGEN" -q -c promevict refuse "$a" "$EV_PORT" "$n" || lg_ok=0
			total=$((total + n))
			sleep 0.02
		done
		sleep 1.2
	done
	if [ "$lg_ok" = 1 ]; then
		pass "evict-loadgen"
	else
		fail "evict-loadgen" "a loadgen run did not end as expected"
	fi
	info "evict: $total connects from comm promevict to $EV_FLOWS destinations in $EV_ROUNDS rounds"
	wait_sum "$EF" 'comm="promevict"' "$total" 15
	snapshots_stop "$EF" "$TMP/snap"
	EFF=$TMP/evict.final.prom
	cp "$EF" "$EFF"
	snapshots_check evict "$TMP/snap" 6
	expect_sum "evict-sum-equals-connects" "$EFF" 'comm="promevict"' "$total"
	# only this section's connects were traced: all of the file's
	expect_sum "evict-only-own-connects" "$EFF" "" "$total"
	# the hot flow is the busiest by far: its series of its own holds
	# every one of its connects, through every eviction
	expect_sum "evict-hot-own-series-exact" "$EFF" \
		"comm=\"promevict\",daddr=\"$hot\",dport=\"$EV_PORT\"" $((EV_ROUNDS * EV_HOT))
	expect_metric "evict-series-exact" "$EFF" connecttop_series "" "$EV_MAX"
	expect_metric "evict-other-series-exact" "$EFF" connecttop_other_series "" 1
	expect_metric "evict-flows-exact" "$EFF" connecttop_flows "" 4
	# 20 flows through a table of 4: 16 evictions in the first round (4
	# fit), then 16 to 20 a round (at most 4 flows are still there)
	expect_between "evict-evictions-exact" \
		"$(prom_file_sum "$EFF" connecttop_evicted_flows_total)" \
		$((EV_FLOWS - 4 + (EV_ROUNDS - 1) * (EV_FLOWS - 4))) \
		$((EV_FLOWS - 4 + (EV_ROUNDS - 1) * EV_FLOWS)) \
		"connecttop_evicted_flows_total with --max-flows 4, $EV_FLOWS flows, $EV_ROUNDS rounds"
	positive "evict-folding-exercised" "$(prom_file_sum "$EFF" connecttop_connects_total 'comm="promevict",daddr="other"')" \
		"promevict's daddr=\"other\" series with --prometheus-max-series $EV_MAX and $EV_FLOWS destinations"
	info "evict: connecttop_evicted_flows_total $(prom_file_sum "$EFF" connecttop_evicted_flows_total), connecttop_series $(prom_file_sum "$EFF" connecttop_series), connecttop_folded_flows_total $(prom_file_sum "$EFF" connecttop_folded_flows_total), connecttop_demoted_series_total $(prom_file_sum "$EFF" connecttop_demoted_series_total), promevict's daddr=\"other\" series $(prom_file_sum "$EFF" connecttop_connects_total 'comm="promevict",daddr="other"'), connecttop_drops_total $(prom_file_sum "$EFF" connecttop_drops_total)"
else
	fail "evict-connecttop-writes-file" "no $EF within 20 s; log: $(tail -n 5 "$TMP/connecttop-evict.log" | tr '\n' ' ')"
fi
sigint_and_wait "evict-sigint-exit-0" "$CT_PID" 10
prom_file_check "evict-final-file-promtool" "$EF"

# --- 3. the series cap ----------------------------------------------------------
# --prometheus-max-series CAP_MAX and CAP_FLOWS flows: the flows beyond the cap
# are folded into comm's daddr="other",dport="other" series; no count is lost,
# no counter goes down, and never more than CAP_MAX series of their own.
mkdir -p "$TMP/cap"
CF=$TMP/cap/connecttop.prom
start_bg "$TMP/connecttop-cap.log" "$CONNECTTOP" -P "$CAP_PORT" \
	--prometheus-max-series "$CAP_MAX" --prometheus "$CF" -q -d 1
CT_PID=$BG_PID
if wait_file "$CF" 20 "$CT_PID"; then
	snapshots_start "$CF" "$TMP/capsnap"
	total=0
	lg_ok=1
	for r in $(seq "$CAP_ROUNDS"); do
		for i in $(seq 0 $((CAP_FLOWS - 1))); do
			a=127.0.0.$((CAP_HOST0 + (i + r * 3) % CAP_FLOWS))
			n=$((1 + (i + r) % 3))
			"$LOADGEN" -q -c promcap refuse "$a" "$CAP_PORT" "$n" || lg_ok=0
			total=$((total + n))
			sleep 0.05
		done
		sleep 1.2
	done
	if [ "$lg_ok" = 1 ]; then
		pass "cap-loadgen"
	else
		fail "cap-loadgen" "a loadgen run did not end as expected"
	fi
	info "cap: $total connects from comm promcap to $CAP_FLOWS destinations in $CAP_ROUNDS rounds, --prometheus-max-series $CAP_MAX"
	wait_sum "$CF" 'comm="promcap"' "$total" 15
	snapshots_stop "$CF" "$TMP/capsnap"
	CFF=$TMP/cap.final.prom
	cp "$CF" "$CFF"
	snapshots_check cap "$TMP/capsnap" 3
	expect_sum "cap-sum-equals-connects" "$CFF" 'comm="promcap"' "$total"
	expect_sum "cap-only-own-connects" "$CFF" "" "$total"
	positive "cap-folded-series" "$(prom_file_sum "$CFF" connecttop_connects_total 'comm="promcap",daddr="other",dport="other"')" \
		"connecttop_connects_total{comm=\"promcap\",daddr=\"other\",dport=\"other\"}"
	expect_metric "cap-series-exact" "$CFF" connecttop_series "" "$CAP_MAX"
	expect_metric "cap-other-series-exact" "$CFF" connecttop_other_series "" 1
	expect_metric "cap-flows-exact" "$CFF" connecttop_flows "" "$CAP_FLOWS"
	expect_metric "cap-no-eviction" "$CFF" connecttop_evicted_flows_total "" 0
	# each flow is placed once (nothing is evicted): the first CAP_MAX
	# take series of their own, each later one folds unless it takes a
	# demoted one's place: folded + demoted >= CAP_FLOWS - CAP_MAX, and
	# folded <= CAP_FLOWS - CAP_MAX
	fo=$(prom_file_sum "$CFF" connecttop_folded_flows_total)
	de=$(prom_file_sum "$CFF" connecttop_demoted_series_total)
	expect_between "cap-folded-flows-exact" "$fo" \
		$((CAP_FLOWS - CAP_MAX - ${de:-0})) $((CAP_FLOWS - CAP_MAX)) \
		"connecttop_folded_flows_total (connecttop_demoted_series_total ${de:-<none>})"
	n=$(own_series "$CFF" | grep -cF "comm=\"promcap\"" || true)
	check "cap-own-series-exact" "$CAP_MAX" "$n"
	over=""
	for s in "$TMP/capsnap"/*.prom; do
		n=$(own_series "$s" | wc -l)
		[ "$n" -le "$CAP_MAX" ] || over="$over $(basename "$s"):$n"
	done
	if [ -z "$over" ]; then
		pass "cap-own-series-within-cap"
	else
		fail "cap-own-series-within-cap" "more than $CAP_MAX (comm,daddr,dport) series of their own in:$over"
	fi
	info "cap: connecttop_series $(prom_file_sum "$CFF" connecttop_series), connecttop_folded_flows_total $fo, connecttop_demoted_series_total $de, promcap's folded series $(prom_file_sum "$CFF" connecttop_connects_total 'comm="promcap",daddr="other"')"
else
	fail "cap-connecttop-writes-file" "no $CF within 20 s; log: $(tail -n 5 "$TMP/connecttop-cap.log" | tr '\n' ' ')"
fi
sigint_and_wait "cap-sigint-exit-0" "$CT_PID" 10
prom_file_check "cap-final-file-promtool" "$CF"


# --- 4. batch mode ----------------------------------------------------------------
# (-P: this section's port only, as above)
BOUT=$TMP/batch.prom
rc=0
"$CONNECTTOP" -b -o prom -n 1 -d 1 -P "$P_BATCH" >"$BOUT" 2>"$TMP/batch.err" || rc=$?
if [ "$rc" = 0 ]; then
	pass "batch-prom-exit-0"
else
	fail "batch-prom-exit-0" "exit $rc: $(head -c 300 "$TMP/batch.err")"
fi
prom_file_check "batch-prom-n1-promtool" "$BOUT"
n=$(grep -c '^# TYPE connecttop_connects_total ' "$BOUT" || true)
if [ "$n" = 1 ]; then
	pass "batch-prom-n1-one-document"
else
	fail "batch-prom-n1-one-document" "$n TYPE lines for connecttop_connects_total, want 1"
fi

mkdir -p "$TMP/both"
BF=$TMP/both/connecttop.prom
start_bg "$TMP/both.json" "$CONNECTTOP" -b -o json -n 4 -d 1 -P "$P_BATCH" --prometheus "$BF"
CT_PID=$BG_PID
if wait_file "$BF" 20 "$CT_PID"; then
	"$LOADGEN" -q -c prombatch refuse 127.0.0.1 "$P_BATCH" 7 || fail "both-loadgen" "loadgen failed"
	wait_exit_0 "both-exit-0" "$CT_PID" 10 "after -n 4 intervals"
	j=$(grep '^{' "$TMP/both.json" | tail -n 1 | jq -r '[.rows[] | select(.comm == "prombatch") | .results.refused] | add // 0' 2>/dev/null || echo "bad json")
	if [ "$j" = 7 ]; then
		pass "both-json-counts"
	else
		fail "both-json-counts" "last JSON line: prombatch refused = '$j', want 7"
	fi
	prom_file_check "both-prom-promtool" "$BF"
	expect_sum "both-prom-counts" "$BF" 'comm="prombatch"' 7
	expect_sum "both-prom-only-own-connects" "$BF" "" 7
else
	fail "both-writes-file" "no $BF within 20 s; log: $(tail -n 5 "$TMP/both.json" | tr '\n' ' ')"
	t_stop "$CT_PID"
	t_untrack "$CT_PID"
fi

# --- 5. write errors ---------------------------------------------------------------
mkdir -p "$TMP/werr/d"
WF=$TMP/werr/d/connecttop.prom
start_bg "$TMP/werr.log" "$CONNECTTOP" --prometheus "$WF" -q -d 0.5
CT_PID=$BG_PID
if wait_file "$WF" 20 "$CT_PID"; then
	rm -rf "$TMP/werr/d"
	sleep 2.2 # 4 intervals, all failing
	mkdir -p "$TMP/werr/d"
	wait_file "$WF" 10 "$CT_PID" || true
	sleep 0.6
	sigint_and_wait "werr-sigint-exit-0" "$CT_PID" 10
	nfail=$(grep -c 'cannot write' "$TMP/werr.log" || true)
	nback=$(grep -c 'works again' "$TMP/werr.log" || true)
	if [ "$nfail" = 1 ] && [ "$nback" = 1 ]; then
		pass "werr-said-once"
	else
		fail "werr-said-once" "$nfail 'cannot write' and $nback 'works again' lines, want 1 and 1: $(head -n 5 "$TMP/werr.log" | tr '\n' ' ')"
	fi
	v=$(prom_file_sum "$WF" connecttop_prometheus_write_errors_total)
	if [ -n "$v" ] && [ "$v" -ge 3 ] 2>/dev/null; then
		pass "werr-counted"
		info "werr: connecttop_prometheus_write_errors_total $v"
	else
		fail "werr-counted" "connecttop_prometheus_write_errors_total is '${v:-<none>}', want >= 3"
	fi
else
	fail "werr-writes-file" "no $WF within 20 s"
	t_stop "$CT_PID"
	t_untrack "$CT_PID"
fi

finish
