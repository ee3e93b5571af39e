#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/prom/chain.sh [--fixture]: connecttop's Prometheus exposition through
# the real chain, on 127.0.0.1 only:
#
#   connecttop --prometheus $TMP/textfile/connecttop.prom -q -d 1
#     -> prometheus-node-exporter (textfile collector only)
#     -> prometheus (scrape_interval 1s)
#     -> /api/v1/query, asserted exactly
#
# --fixture: no connecttop and no loadgen; tests/prom/fixture.prom is put in
# the textfile directory instead and the same queries are asserted (a
# self-check of the harness itself).
#
# Env: CONNECTTOP, LOADGEN (default: REPO/.output/{connecttop,loadgen}),
# KEEP_TMP=1 keeps the temp dir. Needs root (BPF) except with --fixture.
# Prints PASS:/FAIL: per check and "chain.sh: N passed, N failed"; exits 1 if
# any check failed.
set -eu

. "$(dirname "$0")/lib.sh"

parse_mode "$@"

need_tools prometheus prometheus-node-exporter promtool curl jq ss shuf iconv

# the metrics besides connects_total and the latency histogram that must be
# there (names as tui/prom.c writes them)
PRESENT_METRICS="connecttop_events_total connecttop_drops_total connecttop_evicted_flows_total
connecttop_flows connecttop_series connecttop_folded_flows_total connecttop_connects_pending
connecttop_last_interval_seconds"

# loadgen's ports, fixed by the test plan (nothing may listen on the refused ones)
P_ACC=7101
P_REF=7102
P_HOST=7103
TEXTFILE=$TMP/textfile
PROMFILE=$TEXTFILE/connecttop.prom
mkdir -p "$TEXTFILE" "$TMP/data"

# --- node_exporter ---------------------------------------------------------
start_node_exporter() {
	local try t0

	for try in 1 2 3; do
		NE_PORT=$(free_port)
		t0=$(now_ms)
		if daemon_up "node_exporter (try $try)" "$TMP/node_exporter.log" "http://127.0.0.1:$NE_PORT/metrics" 20 \
			prometheus-node-exporter --web.listen-address="127.0.0.1:$NE_PORT" \
			--collector.disable-defaults --collector.textfile --collector.textfile.directory="$TEXTFILE"; then
			NE_PID=$BG_PID
			NE_MS=$(($(now_ms) - t0))
			return 0
		fi
	done
	return 1
}

# --- prometheus ------------------------------------------------------------
start_prometheus() {
	local try t0

	for try in 1 2 3; do
		PROM_PORT=$(free_port)
		PROM_URL=http://127.0.0.1:$PROM_PORT
		cat >"$TMP/prometheus.yml" <<-EOF
			global:
			  scrape_interval: 1s
			  scrape_timeout: 900ms
			  evaluation_interval: 1s
			scrape_configs:
			  - job_name: connecttop-node
			    static_configs:
			      - targets: ['127.0.0.1:$NE_PORT']
		EOF
		t0=$(now_ms)
		if daemon_up "prometheus (try $try)" "$TMP/prometheus.log" "$PROM_URL/-/ready" 60 \
			prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/data" \
			--web.listen-address="127.0.0.1:$PROM_PORT"; then
			PROM_PID=$BG_PID
			PROM_MS=$(($(now_ms) - t0))
			return 0
		fi
	done
	return 1
}

if start_node_exporter; then
	pass "node_exporter-start"
	info "node_exporter answered on 127.0.0.1:$NE_PORT after ${NE_MS} ms"
else
	fail "node_exporter-start" "no answer on loopback; log: $(tail -n 5 "$TMP/node_exporter.log" | tr '\n' ' ')"
	finish
fi

if start_prometheus; then
	pass "prometheus-start"
	info "prometheus ready on 127.0.0.1:$PROM_PORT after ${PROM_MS} ms"
else
	fail "prometheus-start" "not ready on loopback; log: $(tail -n 5 "$TMP/prometheus.log" | tr '\n' ' ')"
	finish
fi

# both listen on loopback only
for p in "$NE_PORT" "$PROM_PORT"; do
	bad=$(ss -Hltn "( sport = :$p )" | awk '$4 !~ /^127\.0\.0\.1:/' || true)
	if [ -n "$bad" ]; then
		fail "loopback-only-$p" "listening beyond loopback: $bad"
	fi
done

# the target is scraped and up (Prometheus hands new targets to its scrape
# manager a few seconds after start, so the first scrape comes late)
t0=$(now_ms)
deadline=$((t0 + 30000))
v=""
while [ "$(now_ms)" -lt "$deadline" ]; do
	v=$(prom_scalar 'up{job="connecttop-node"}' 2>/dev/null || true)
	[ "$v" = 1 ] && break
	sleep 0.2
done
if [ "$v" = 1 ]; then
	pass "up"
	info "first successful scrape seen $(($(now_ms) - t0)) ms after prometheus was ready"
else
	fail "up" "up{job=\"connecttop-node\"} = '${v:-<no data>}' 30 s after start"
	finish
fi

# --- the exposition --------------------------------------------------------
CT_PID=""
if [ "$MODE" = fixture ]; then
	# same-dir temp file + rename, as connecttop does
	cp "$FIXTURE" "$TEXTFILE/.fixture.tmp"
	mv "$TEXTFILE/.fixture.tmp" "$PROMFILE"
	info "fixture mode: $FIXTURE served as $PROMFILE"
else
	if [ ! -x "$CONNECTTOP" ]; then
		fail "connecttop-binary" "$CONNECTTOP not found or not executable (build it, or run $0 --fixture)"
		finish
	fi
	if ! ensure_loadgen; then
		fail "loadgen-binary" "$LOADGEN not found and tests/loadgen.c did not build"
		finish
	fi
	for p in "$P_ACC" "$P_REF" "$P_HOST"; do
		if port_listening "$p"; then
			fail "ports" "something already listens on 127.0.0.1:$p"
			finish
		fi
	done
	t0=$(now_ms)
	start_bg "$TMP/connecttop.log" "$CONNECTTOP" --prometheus "$PROMFILE" -q -d 1
	CT_PID=$BG_PID
	if wait_file "$PROMFILE" 20 "$CT_PID"; then
		pass "connecttop-writes-file"
		info "connecttop wrote its first file $(($(now_ms) - t0)) ms after start"
	else
		fail "connecttop-writes-file" "no $PROMFILE within 20 s; log: $(tail -n 5 "$TMP/connecttop.log" | tr '\n' ' ')"
		finish
	fi
	lg_ok=1
	"$LOADGEN" -q -c promacc accept 127.0.0.1 "$P_ACC" 25 || lg_ok=0
	"$LOADGEN" -q -c promref refuse 127.0.0.1 "$P_REF" 15 || lg_ok=0
	"$LOADGEN" -q -c 'a"b\c' refuse 127.0.0.1 "$P_HOST" 3 || lg_ok=0
	"$LOADGEN" -q -c $'x\ny' refuse 127.0.0.1 "$P_HOST" 3 || lg_ok=0
	if [ "$lg_ok" = 1 ]; then
		pass "loadgen"
	else
		fail "loadgen" "a loadgen run did not end as expected"
	fi
fi

# --- assertions through Prometheus ------------------------------------------
prom_expect_vector "promacc-ok-25" \
	'sum by (result) (connecttop_connects_total{comm="promacc"})' result '"ok" 25'
prom_expect_vector "promref-refused-15" \
	'sum by (result) (connecttop_connects_total{comm="promref"})' result '"refused" 15'
prom_expect "promacc-proto-tcp" 'sum(connecttop_connects_total{comm="promacc",proto="tcp",daddr="127.0.0.1",dport="7101"})' 25 5 0
# hostile process names survive file -> node_exporter -> Prometheus intact
# (the label value is the name as connecttop shows it: a"b\\c, the backslash
# escaped; "a\"b\\\\c" in PromQL, a\"b\\\\c in the file)
prom_expect "hostile-quote-backslash" 'sum(connecttop_connects_total{comm="a\"b\\\\c",result="refused"})' 3 5 0
# a newline in a name is shown as the text \x0a (label value x\x0ay,
# escaped x\\x0ay in the file), as connecttop does in all its outputs; the
# name x\x0ay itself would be x\\x0ay, another series
prom_expect "hostile-newline" 'sum(connecttop_connects_total{comm="x\\x0ay",result="refused"})' 3 5 0
# histogram: every accepted connect has a latency sample
prom_expect "latency-count" 'sum(connecttop_connect_latency_seconds_count{comm="promacc"})' 25 5 0
prom_expect "latency-inf-bucket" 'sum(connecttop_connect_latency_seconds_bucket{comm="promacc",le="+Inf"})' 25 5 0
prom_expect "drops-zero" 'sum(connecttop_drops_total)' 0 5 0
prom_expect "up-still" 'up{job="connecttop-node"}' 1 5 0
for g in $PRESENT_METRICS; do
	v=$(prom_scalar "$g" 2>/dev/null || true)
	if [ -n "$v" ]; then
		pass "present-$g"
	else
		fail "present-$g" "no sample for $g in Prometheus"
	fi
done
# node_exporter read the file without error on every scrape so far (a torn or
# invalid file makes it report node_textfile_scrape_error 1 and drop the file)
prom_expect "textfile-no-scrape-error" 'max_over_time(node_textfile_scrape_error[1m])' 0 5 0
# a file that parses but has a duplicate series is not a textfile error:
# node_exporter 1.5 logs "was collected before with the same name and label
# values", serves the first copy and counts a gathering error
prom_expect "node_exporter-no-gather-errors" 'sum(promhttp_metric_handler_errors_total{job="connecttop-node"})' 0 5 0
# and Prometheus itself rejected no sample of the scrapes
perr=$(http_get "$PROM_URL/metrics" 2>/dev/null |
	awk '/^prometheus_target_scrapes_(sample_duplicate_timestamp|sample_out_of_order|sample_out_of_bounds|exceeded_sample_limit)_total / && $2 != 0' || true)
if [ -z "$perr" ]; then
	pass "prometheus-no-rejected-samples"
else
	fail "prometheus-no-rejected-samples" "$(echo "$perr" | tr '\n' ' ')"
fi

# --- shutdown ----------------------------------------------------------------
if [ "$MODE" = fixture ]; then
	prom_file_check "fixture-promtool" "$PROMFILE"
else
	sigint_and_wait "connecttop-sigint-exit-0" "$CT_PID" 10
	prom_file_check "final-file-promtool" "$PROMFILE"
	stray=$(find "$TEXTFILE" -mindepth 1 ! -name connecttop.prom -printf '%f ')
	if [ -z "$stray" ]; then
		pass "no-stray-temp-files"
	else
		fail "no-stray-temp-files" "left in the textfile dir after exit: $stray"
	fi
	final=$(prom_file_sum "$PROMFILE" connecttop_connects_total 'comm="promacc"')
	if [ "$final" = 25 ]; then
		pass "final-file-promacc-25"
	else
		fail "final-file-promacc-25" "final file sums connecttop_connects_total{comm=\"promacc\"} to '${final:-<none>}'"
	fi
fi

info "versions: $(prometheus --version 2>&1 | head -n1); $(prometheus-node-exporter --version 2>&1 | head -n1)"
finish
