#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/prom/soak.sh SECONDS: the Prometheus writer under flow churn for a
# long time, meant for a sanitizer build (not part of make test: minutes).
#
#   make STATIC=0 OUTPUT=/tmp/ct-asan CFLAGS='-O1 -g -fsanitize=address,undefined \
#        -fno-omit-frame-pointer' LDFLAGS=-fsanitize=address,undefined /tmp/ct-asan/connecttop
#   CONNECTTOP=/tmp/ct-asan/connecttop tests/prom/soak.sh 600
#
# Two daemons, `--prometheus FILE -q -d 1`: one with the default caps, one
# with --prometheus-max-series 5 and --max-flows 5000 (folding, demotion and
# eviction all the time), while udp_churn.py makes UDP connects to random
# 127.0.0.0/8 addresses and ports. Every 5 s each file is checked (promtool,
# lib.sh prom_file_problems) and against the one before (no counter goes
# down: lib.sh counters_never_decrease). At the end: SIGINT, exit 0, and no
# sanitizer report in their stderr. Prints the figures (connects made,
# writes seen, files checked) and PASS:/FAIL: lines. Needs root (BPF).
set -u

. "$(dirname "$0")/lib.sh"

SECS=${1:-600}
need_tools promtool python3 iconv od
ensure_loadgen >/dev/null 2>&1 || true

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

names=(default small)
args_default=()
args_small=(--prometheus-max-series 5 --max-flows 5000)
declare -A pid mtime writes checked bad
for n in "${names[@]}"; do
	a="args_$n[@]"
	start_bg "$TMP/$n.log" "$CONNECTTOP" --prometheus "$TMP/$n.prom" -q -d 1 "${!a}"
	pid[$n]=$BG_PID
	mtime[$n]=""
	writes[$n]=0
	checked[$n]=0
	bad[$n]=0
done
for n in "${names[@]}"; do
	if ! wait_file "$TMP/$n.prom" 60 "${pid[$n]}"; then
		fail "soak.$n.start" "no $TMP/$n.prom: $(tail -n 5 "$TMP/$n.log" | tr '\n' ' ')"
		finish
	fi
done

python3 "$PROM_DIR/udp_churn.py" random "$SECS" "${SOAK_SEED:-12}" >"$TMP/churn.out" 2>&1 &
churn=$!
BG_PIDS+=("$churn")
t0=$(now_ms)
last_check=0
while kill -0 "$churn" 2>/dev/null; do
	for n in "${names[@]}"; do
		# each write renames a new file over it (its inode may be the
		# one just freed): its modification time, to the nanosecond
		i=$(stat -c %y "$TMP/$n.prom" 2>/dev/null || true)
		if [ -n "$i" ] && [ "$i" != "${mtime[$n]}" ]; then
			mtime[$n]=$i
			writes[$n]=$((${writes[$n]} + 1))
		fi
	done
	if [ $(($(now_ms) - last_check)) -ge 5000 ]; then
		last_check=$(now_ms)
		for n in "${names[@]}"; do
			cp "$TMP/$n.prom" "$TMP/$n.new" 2>/dev/null || continue
			out=$(promtool check metrics <"$TMP/$n.new" 2>&1) || bad[$n]=$((${bad[$n]} + 1))
			extra=$(prom_file_problems "$TMP/$n.new")
			if [ -f "$TMP/$n.old" ]; then
				extra="$extra$(counters_never_decrease "$TMP/$n.old" "$TMP/$n.new")"
			fi
			if [ -n "$extra" ]; then
				bad[$n]=$((${bad[$n]} + 1))
				cp "$TMP/$n.old" "$TMP/$n.bad.old.${bad[$n]}" 2>/dev/null
				cp "$TMP/$n.new" "$TMP/$n.bad.new.${bad[$n]}"
				info "$n: $(printf '%s %s' "$out" "$extra" | head -c 600)"
			fi
			mv "$TMP/$n.new" "$TMP/$n.old"
			checked[$n]=$((${checked[$n]} + 1))
		done
	fi
	sleep 0.2
done
wait "$churn"
churn_rc=$?
forget_pid "$churn"
info "churn: $(cat "$TMP/churn.out") (exit $churn_rc) after $((($(now_ms) - t0) / 1000)) s"
for n in "${names[@]}"; do
	sigint_and_wait "soak.$n.exit_0" "${pid[$n]}" 60
	info "$n: writes seen (polled: at least) ${writes[$n]}, files checked ${checked[$n]}, bad ${bad[$n]}," \
		"events $(prom_file_sum "$TMP/$n.old" connecttop_events_total)," \
		"drops $(prom_file_sum "$TMP/$n.old" connecttop_drops_total)," \
		"evicted $(prom_file_sum "$TMP/$n.old" connecttop_evicted_flows_total)," \
		"folded $(prom_file_sum "$TMP/$n.old" connecttop_folded_flows_total)," \
		"demoted $(prom_file_sum "$TMP/$n.old" connecttop_demoted_series_total)," \
		"write errors $(prom_file_sum "$TMP/$n.old" connecttop_prometheus_write_errors_total)"
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP/$n.log"; then
		fail "soak.$n.sanitizers" "$(grep -m3 -E 'Sanitizer|runtime error' "$TMP/$n.log" | tr '\n' ' ')"
		KEEP_TMP=1
	else
		pass "soak.$n.sanitizers"
	fi
	if [ "${bad[$n]}" = 0 ] && [ "${checked[$n]}" -gt 0 ]; then
		pass "soak.$n.files_valid_and_monotonic"
	else
		fail "soak.$n.files_valid_and_monotonic" "${bad[$n]} of ${checked[$n]} checks failed"
		KEEP_TMP=1
	fi
done
[ "$churn_rc" = 0 ] && pass "soak.churn" || fail "soak.churn" "udp_churn.py exited $churn_rc"
finish
