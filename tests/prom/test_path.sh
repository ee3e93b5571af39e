#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/prom/test_path.sh: --prometheus FILE names that no write could use
# are refused at start (exit 2, a message saying what and why), not
# accepted to fail at every interval: an empty name, a name ending in '/',
# a name whose temporary file (.NAME.XXXXXX) passes NAME_MAX, a path whose
# temporary file passes PATH_MAX. The longest name that fits is accepted
# and written (needs root: BPF).
set -u

. "$(dirname "$0")/lib.sh"

# refused NAME EXPECTED_TEXT ARG: connecttop --prometheus ARG exits 2 and
# says EXPECTED_TEXT on stderr, without starting
refused() {
	local name=$1 want=$2 rc=0

	"$CONNECTTOP" --prometheus "$3" -q -n 1 -d 0.2 >"$TMP/out" 2>"$TMP/err" </dev/null || rc=$?
	if [ "$rc" != 2 ]; then
		fail "$name" "exit status $rc, want 2 ($(head -c 300 "$TMP/err"))"
	elif ! grep -q '^connecttop: --prometheus: ' "$TMP/err" || ! grep -qF -- "$want" "$TMP/err"; then
		fail "$name" "stderr lacks '$want': $(head -c 300 "$TMP/err")"
	else
		pass "$name"
	fi
}

mkdir -p "$TMP/d"
long248=$(printf 'x%.0s' $(seq 248))
long247=${long248%x}
refused "path.empty" "an empty file name" ""
refused "path.trailing_slash" "'$TMP/d/' ends in '/'" "$TMP/d/"
refused "path.name_max" "is 248 bytes, at most 247 are possible" "$TMP/d/$long248"
# "./" repeated: a path of 4088 bytes whose every directory exists
p=$(printf './%.0s' $(seq 2043))xy
refused "path.path_max" "is 4088 bytes, at most 4087 are possible" "$TMP/d/${p:${#TMP}+3}"
if [ -n "$(ls -A "$TMP/d")" ]; then
	fail "path.nothing_written" "$(ls -A "$TMP/d" | head -c 200)"
else
	pass "path.nothing_written"
fi

rc=0
timeout 60 "$CONNECTTOP" --prometheus "$TMP/d/$long247" -q -n 1 -d 0.2 >"$TMP/out" 2>"$TMP/err" </dev/null || rc=$?
if [ "$rc" = 0 ] && [ -s "$TMP/d/$long247" ]; then
	pass "path.name_247_written"
else
	fail "path.name_247_written" "exit status $rc, file $(ls -A "$TMP/d" | head -c 100): $(head -c 300 "$TMP/err")"
fi
finish
