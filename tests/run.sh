#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every test. Each test program or script prints one line per check,
# "PASS: name" or "FAIL: name: why"; this runner counts them and ends with
# the line "N passed, N failed". Exit status 1 if anything failed.
#
# CI=true: a test that needs BPF and cannot load it fails (never skips).
# TESTS="unit e2e" limits the groups run (format, unit, e2e, tui, prom, vm).
set -u
cd "$(dirname "$0")/.."
export ROOT=$PWD
export CONNECTTOP=${CONNECTTOP:-$ROOT/.output/connecttop}
export LOADGEN=${LOADGEN:-$ROOT/.output/loadgen}
groups=${TESTS:-format unit e2e tui prom vm}
log=$(mktemp -d /tmp/connecttop-tests.XXXXXX)
trap 'rm -rf "$log"' EXIT
pass=0 fail=0

run() { # name seconds command...: a test that takes longer is stopped, a failure
	local name=$1 limit=$2 out=$log/out
	shift 2
	echo "== $name"
	timeout --kill-after=10 "$limit" "$@" >"$out" 2>&1
	local rc=$?
	cat "$out"
	local p f
	p=$(grep -c '^PASS: ' "$out")
	f=$(grep -c '^FAIL: ' "$out")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "FAIL: $name: stopped after $limit s (hung?)"
		f=$((f + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $name: exited with status $rc without naming a failed check"
		f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
}

for g in $groups; do
	case $g in
	format)
		run format 120 make -s --no-print-directory format-check
		;;
	unit)
		for t in .output/unit/test_*; do
			[ -x "$t" ] && run "unit/$(basename "$t")" 300 "$t"
		done
		;;
	e2e | tui | prom | vm)
		for t in tests/$g/test_*.sh; do
			# the kernel matrix may download kernels first (bounded in
			# tests/vm/run.sh); the others take seconds to a minute
			[ -f "$t" ] && run "$g/$(basename "$t")" "$([ "$g" = vm ] && echo 3000 || echo 600)" bash "$t"
		done
		;;
	esac
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
