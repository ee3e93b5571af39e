#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What README.md says of the Makefile holds: `make install` puts the binary
# in /usr/local/sbin and the man page in /usr/local/share/man/man8, PREFIX=
# and DESTDIR= as usual; `make run ARGS='-f fail -s fail'` passes the options
# to connecttop. The install goes to a DESTDIR under the test's folder; make
# is told the build is done (-o all, -o deps), so nothing is rebuilt or
# installed from the package registry, and the binary installed is the one
# built.
. "$(dirname "$0")/lib.sh"
need_tools make cmp
README=$ROOT/README.md
BIN=$ROOT/.output/connecttop
if [ ! -x "$BIN" ]; then
	fail "built" "$BIN missing (make first)"
	t_finish test_readme
fi

# the README's own words, so that a change of either side shows here
check "README: make install, /usr/local/sbin" yes \
	"$(tr '\n' ' ' <"$README" | grep -qE '`make install`[^.]*`/usr/local/sbin`' && echo yes)"
check "README: the man page in /usr/local/share/man/man8" yes \
	"$(grep -qF '`/usr/local/share/man/man8`' "$README" && echo yes)"
check "README: PREFIX= and DESTDIR=" yes "$(grep -qF '(`PREFIX=` and `DESTDIR=` as usual)' "$README" && echo yes)"
check "README: make run ARGS=..." yes "$(grep -qF "\`make run ARGS='-f fail -s fail'\` passes options to it" "$README" && echo yes)"

# make install, the default PREFIX
D=$T_TMP/dest
rc=0
make -s -C "$ROOT" -o all install DESTDIR="$D" >"$T_TMP/out" 2>&1 || rc=$?
check "make install DESTDIR=...: exit 0" 0 "$rc"
check "make install: the binary in /usr/local/sbin, mode 755" 755 "$(stat -c %a "$D/usr/local/sbin/connecttop" 2>/dev/null)"
check "make install: the binary built" same "$(cmp -s "$BIN" "$D/usr/local/sbin/connecttop" && echo same)"
check "make install: the man page in /usr/local/share/man/man8, mode 644" 644 \
	"$(stat -c %a "$D/usr/local/share/man/man8/connecttop.8" 2>/dev/null)"
check "make install: the man page" same "$(cmp -s "$ROOT/man/connecttop.8" "$D/usr/local/share/man/man8/connecttop.8" && echo same)"
check "make install: nothing else" 2 "$(find "$D" -type f | wc -l)"

# PREFIX=
D2=$T_TMP/dest2
rc=0
make -s -C "$ROOT" -o all install DESTDIR="$D2" PREFIX=/opt/ct >"$T_TMP/out" 2>&1 || rc=$?
check "make install PREFIX=/opt/ct: exit 0" 0 "$rc"
check "make install PREFIX=/opt/ct: where it says" "$D2/opt/ct/sbin/connecttop $D2/opt/ct/share/man/man8/connecttop.8" \
	"$(find "$D2" -type f | sort | tr '\n' ' ' | sed 's/ $//')"

# make run ARGS=...: the command make runs (-n: printed, not run), with the
# README's options, as root and through sudo otherwise
run=$(make -n -C "$ROOT" -o deps -o all run ARGS='-f fail -s fail' 2>/dev/null | grep -F 'connecttop -f fail -s fail' || true)
check "make run ARGS='-f fail -s fail': connecttop gets them" yes \
	"$(grep -qE '(^|[ /])\.output/connecttop -f fail -s fail;.*sudo \.output/connecttop -f fail -s fail' <<<"$run" && echo yes)"

# flags_as_built: 0 when .output was built with make's default flags (as
# make test builds it), so that make run has nothing to rebuild: the
# Makefile writes the flags of each build to .output/*-flags
flags_as_built() {
	local f want
	for f in cc-flags bpf-flags ld-flags; do
		want=$(make -n -C "$ROOT" all 2>/dev/null |
			sed -n "s/^echo '\(.*\)' | cmp -s - \.output\/$f .*/\1/p" | head -1)
		[ -n "$want" ] && [ "$want" = "$(cat "$ROOT/.output/$f" 2>/dev/null)" ] || return 1
	done
}

# and for real: make run with batch options (a root shell: no sudo), unless
# it would rebuild the binary other tests use (built with other flags)
if ! flags_as_built; then
	echo "note: .output was built with other flags than make's defaults (WERROR=1?): make run not run, not to rebuild it"
elif [ "$(id -u)" = 0 ]; then
	need_bpf
	rc=0
	timeout -k 5 60 make -s -C "$ROOT" -o deps -o all run ARGS='-b -o json -n 1 -d 0.1 -P 9 -f fail' \
		>"$T_TMP/run.out" 2>"$T_TMP/run.err" </dev/null || rc=$?
	check "make run ARGS='-b -o json -n 1 ...': exit 0" 0 "$rc"
	check "make run ARGS=...: one JSON document" "1 0" \
		"$(grep '^{' "$T_TMP/run.out" | tail -1 | jq -r '"\(.version) \(.rows | length)"' 2>/dev/null)"
	# connecttop's own answer to an option it refuses: they reach it
	timeout -k 5 60 make -s -C "$ROOT" -o deps -o all run ARGS='-b -f nosuch:1' \
		>"$T_TMP/run.out" 2>"$T_TMP/run.err" </dev/null || true
	check "make run ARGS='-b -f nosuch:1': connecttop's message" yes \
		"$(grep -q "^connecttop: -f: .*nosuch" "$T_TMP/run.err" && echo yes)"
fi
t_finish test_readme
