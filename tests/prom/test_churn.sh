#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/prom/test_churn.sh: the Prometheus writer under flow churn (issue
# 12: it died of SIGSEGV when thousands of flows new to it came in one
# interval). udp_churn.py makes 20,000 UDP connects (no packet is sent) to
# 127.0.0.99:10000 .. 29999 as process "ctchurn", each a flow of its own.
#
#  1. -b -o prom -d 1 -n 3 with the churn after its first document: exit 0,
#     three documents, each a valid exposition (promtool and lib.sh's
#     prom_file_problems), at least 1,000 connects seen after the first.
#  2. --prometheus FILE -q -d 1: the file counts exactly the 20,000
#     connects (own series and the folded daddr="other" one together), at
#     most 1,000 series of their own, no drops, a valid exposition, no
#     counter down from a file taken during the churn; exit 0 on SIGINT.
#
# Needs root (BPF), python3 and promtool (tests/prom/setup.sh installs it).
set -u

. "$(dirname "$0")/lib.sh"

need_tools promtool python3 iconv od
N=20000
NAME=ctchurn
churn() {
	python3 "$PROM_DIR/udp_churn.py" seq 127.0.0.99 10000 "$N" "$NAME" >"$TMP/churn.out" 2>&1
}

# --- 1. batch ---------------------------------------------------------------
start_bg "$TMP/batch.prom" "$CONNECTTOP" -b -o prom -d 1 -n 3
CT_PID=$BG_PID
if wait_file "$TMP/batch.prom" 30 "$CT_PID"; then
	churn || fail "batch.churn" "udp_churn.py: $(head -c 300 "$TMP/churn.out")"
	wait_exit_0 "batch.exit_0" "$CT_PID" 30 "after -n 3 intervals"
else
	wait "$CT_PID"
	rc=$?
	forget_pid "$CT_PID"
	fail "batch.first_document" "none within 30 s (exit $rc): $(head -c 300 "$TMP/batch.prom")"
fi
# one file per document: each starts with the HELP of connecttop_connects_total
awk -v d="$TMP/doc" '/^# HELP connecttop_connects_total / { n++ } { print > (d "." n) }' "$TMP/batch.prom"
docs=$(ls "$TMP"/doc.* 2>/dev/null | wc -l)
if [ "$docs" = 3 ]; then
	pass "batch.three_documents"
else
	fail "batch.three_documents" "$docs documents"
fi
for f in "$TMP"/doc.*; do
	[ -f "$f" ] && prom_file_check "batch.valid.${f##*.}" "$f"
done
# the writer had churn to handle: connects seen between the first document
# and the last (ours, and whatever else runs; a loaded machine may drain
# ours late, so the count of ctchurn is only reported)
ev1=$(prom_file_sum "$TMP/doc.1" connecttop_events_total 2>/dev/null)
ev3=$(prom_file_sum "$TMP/doc.3" connecttop_events_total 2>/dev/null)
if [ -n "$ev1" ] && [ -n "$ev3" ] && [ $((ev3 - ev1)) -ge 1000 ]; then
	pass "batch.churn_seen"
else
	fail "batch.churn_seen" "connecttop_events_total '${ev1:-none}' then '${ev3:-none}', want 1000 more"
fi
info "batch: $((${ev3:-0} - ${ev1:-0})) connects in the last two intervals," \
	"$(prom_file_sum "$TMP/doc.3" connecttop_connects_total "comm=\"$NAME\"") of $NAME's $N"

# --- 2. --prometheus FILE -q ------------------------------------------------
F=$TMP/f/connecttop.prom
mkdir -p "$TMP/f"
start_bg "$TMP/daemon.log" "$CONNECTTOP" --prometheus "$F" -q -d 1
CT_PID=$BG_PID
if ! wait_file "$F" 30 "$CT_PID"; then
	fail "file.first_write" "no $F within 30 s: $(head -c 300 "$TMP/daemon.log")"
	finish
fi
churn &
churn_pid=$!
BG_PIDS+=("$churn_pid")
# a file from during the churn, to compare the last one with
sleep 1
cp "$F" "$TMP/during.prom"
wait "$churn_pid" || fail "file.churn" "udp_churn.py: $(head -c 300 "$TMP/churn.out")"
forget_pid "$churn_pid"
deadline=$(($(now_ms) + 30000))
got=""
while [ "$(now_ms)" -lt "$deadline" ] && kill -0 "$CT_PID" 2>/dev/null; do
	cp "$F" "$TMP/last.prom"
	got=$(prom_file_sum "$TMP/last.prom" connecttop_connects_total "comm=\"$NAME\"" 2>/dev/null)
	[ "$got" = "$N" ] && break
	sleep 0.5
done
if [ "$got" = "$N" ]; then
	pass "file.counts_every_connect"
else
	fail "file.counts_every_connect" "comm=\"$NAME\" counts '${got:-none}', want $N"
fi
prom_file_check "file.valid" "$TMP/last.prom"
drops=$(prom_file_sum "$TMP/last.prom" connecttop_drops_total 2>/dev/null)
[ "$drops" = 0 ] && pass "file.no_drops" || fail "file.no_drops" "connecttop_drops_total $drops"
series=$(prom_file_sum "$TMP/last.prom" connecttop_series 2>/dev/null)
if [ -n "$series" ] && [ "$series" -le 1000 ]; then
	pass "file.series_capped"
else
	fail "file.series_capped" "connecttop_series '$series', want at most 1000"
fi
down=$(counters_never_decrease "$TMP/during.prom" "$TMP/last.prom")
[ -z "$down" ] && pass "file.never_down" || fail "file.never_down" "$(printf '%s' "$down" | head -c 400)"
sigint_and_wait "file.exit_0" "$CT_PID" 30
finish
