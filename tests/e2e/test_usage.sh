#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bad input: every option with a bad value is a usage error (exit 2) with a
# message naming the option; other refusals say what is missing.
. "$(dirname "$0")/lib.sh"

bad() { # expected-text args...
	local want=$1 rc=0
	shift
	# bounded: a usage error that is not seen runs until stopped
	timeout -k 5 20 "$CONNECTTOP" "$@" >"$T_TMP/o" 2>"$T_TMP/e" </dev/null || rc=$?
	if [ "$rc" != 2 ]; then
		fail "usage error: $*" "exit status $rc, expected 2"
	elif ! grep -qF -- "$want" "$T_TMP/e"; then
		fail "usage error: $*" "message lacks '$want': $(head -1 "$T_TMP/e")"
	elif [ -s "$T_TMP/o" ]; then
		fail "usage error: $*" "wrote to stdout"
	else
		pass "usage error: $*"
	fi
}
bad "compare with a baseline" -b -f "curl new"
bad "compare with a baseline" -b -f "!worse"
bad "takes no value" -b -f "silent:3"
bad "-d '0'" -b -d 0
bad "-d 'abc'" -b -d abc
bad "-d '1e9'" -b -d 1e9
bad "-d 'nan'" -b -d nan
bad "-n '0'" -b -n 0
bad "-n '-3'" -b -n -3
bad "-n '5x'" -b -n 5x
bad "-o 'xml'" -b -o xml
bad "-g 'user'" -b -g user
bad "-s 'speed'" -b -s speed
bad "-p '0'" -b -p 0
bad "-p '99999999'" -b -p 99999999
bad "-P '70000'" -b -P 70000
bad "-P 'http'" -b -P http
bad "-m '0'" -b -m 0
bad "-4 and -6" -b -4 -6
bad "--max-flows '0'" -b --max-flows 0
bad "--ringbuf-size '3M'" -b --ringbuf-size 3M
bad "--ringbuf-size '1k'" -b --ringbuf-size 1k
bad "--wakeup-bytes '8M': more than half of --ringbuf-size 8M: at most 4M" -b --wakeup-bytes 8M --ringbuf-size 8M
bad "--wakeup-bytes '5M': more than half of --ringbuf-size 8M (the default)" -b --wakeup-bytes 5M
# numbers: decimal digits only, for options and filter terms alike (strtol
# and strtod alone take leading space, '+', hex: -d 0x10 was 16 s)
bad "-n ' 5': not a number" -b -n ' 5'
bad "-n '+5': not a number" -b -n +5
bad "-n '5 ': not a number" -b -n '5 '
bad "-d '0x10'" -b -d 0x10
bad "-d ' 1'" -b -d ' 1'
bad "-d 'inf'" -b -d inf
bad "-P '+80'" -b -P +80
bad "-p '0x10'" -b -p 0x10
bad "--max-flows ' 100'" -b --max-flows ' 100'
bad "--ringbuf-size ' 8M'" -b --ringbuf-size ' 8M'
bad "--ringbuf-size '+8M'" -b --ringbuf-size +8M
bad "bad pid in 'pid:+5'" -b -f pid:+5
bad "bad uid in 'uid:-0'" -b -f uid:-0
bad "bad port in 'port:+80'" -b -f port:+80
bad "bad port in 'port:0x50'" -b -f port:0x50
bad "bad network in 'net:10.0.0.0/+8'" -b -f net:10.0.0.0/+8
# a flag given a value: said so, not "unknown option '-b'"
bad "option '--batch' takes no value" --batch=1
bad "option '--batch' takes no value" --bat=1
bad "option '--names' takes no value" -b --names=yes
bad "option '--pro' is ambiguous: --prometheus, --prometheus-max-series, --probe" --pro x
# -q alone would run forever showing nothing
bad "-q: nothing to show without --prometheus" -q
bad "-q: nothing to show without --prometheus" -b -q
# the tests' hidden options too
bad "--test-inflight-max '0'" -b -n 1 --test-inflight-max 0
bad "--test-inflight-max 'lots'" -b -n 1 --test-inflight-max lots
bad "--test-sweep-secs '0'" -b -n 1 --test-sweep-secs 0
bad "--test-sweep-secs 'x'" -b -n 1 --test-sweep-secs x
bad "--test-sweep-age-secs '0'" -b -n 1 --test-sweep-age-secs 0
bad "--test-hold-ms '0'" -b -n 1 --test-hold-ms 0
bad "--prometheus-max-series 'many'" -b --prometheus-max-series many
bad "--prometheus: directory '/nonexistent/dir'" --prometheus /nonexistent/dir/x.prom -q
bad "--export-dir: directory '/nonexistent'" --export-dir /nonexistent
bad "bad port in 'port:99999'" -b -f port:99999
bad "unknown filter 'foo:'" -b -f foo:bar
bad "bad network in 'net:10.0.0.0/33'" -b -f net:10.0.0.0/33
bad "unknown option '--frobnicate'" --frobnicate
bad "unknown option '--frob'" --frob=2
bad "unknown option '-x'" -x
bad "option '-d' needs a value" -b -d
bad "unexpected argument 'extra'" -b extra
bad "-n, -m and -o are batch options" -n 3
bad "not a terminal" # no -b, stdout is a file

# help and version go to stdout, exit 0
rc=0; "$CONNECTTOP" --help >"$T_TMP/o" 2>&1 || rc=$?
check "--help exits 0" 0 "$rc"
check "--help lists --prometheus" 1 "$(grep -c -- '--prometheus FILE' "$T_TMP/o")"
rc=0; "$CONNECTTOP" -V >"$T_TMP/o" 2>&1 || rc=$?
check "-V exits 0 and names the version" "0 1" "$rc $(grep -c '^connecttop [0-9]' "$T_TMP/o")"

# without privileges: one clear line, exit 1 (needs root to drop them)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$CONNECTTOP" -b -n 1 >"$T_TMP/o" 2>"$T_TMP/e" || rc=$?
	check "unprivileged: exit status 1" 1 "$rc"
	check "unprivileged: one line saying what to do" 1 "$(grep -c 'try sudo' "$T_TMP/e")"
	check "unprivileged: exactly one line" 1 "$(wc -l <"$T_TMP/e")"
fi

# | head must end quietly
need_bpf
# --ringbuf-size 64K, the documented minimum, alone: the default wake-up
# (64K) follows a small ring down instead of failing on an option not given
rc=0
"$CONNECTTOP" -b -n 1 -d 0.1 --ringbuf-size 64K >"$T_TMP/o" 2>"$T_TMP/e" </dev/null || rc=$?
check "--ringbuf-size 64K alone: exit status 0" 0 "$rc"
check "--ringbuf-size 64K alone: no message" "" "$(cat "$T_TMP/e")"
check "-q with --prometheus: headless, exit 0" 0 "$(
	rc=0
	"$CONNECTTOP" -q -n 1 -d 0.1 --prometheus "$T_TMP/q.prom" >"$T_TMP/o" 2>&1 </dev/null || rc=$?
	echo "$rc"
)"
check "-q with --prometheus: the file written, nothing on stdout" "1 0" \
	"$(grep -c '^connecttop_events_total ' "$T_TMP/q.prom") $(wc -c <"$T_TMP/o")"
rc=0
"$CONNECTTOP" -b -d 0.1 2>"$T_TMP/e" | head -n 1 >/dev/null || rc=$?
check "| head: no error message" "" "$(cat "$T_TMP/e")"
rc=0
( set -o pipefail; "$CONNECTTOP" -b -d 0.1 -o json 2>/dev/null | head -n 1 >/dev/null ) || rc=$?
check "| head: exit status 0" 0 "$rc"
# | head -c 10 with no rows to write: an interval that writes nothing must
# still notice the reader gone (CSV kept running, unread, for ever); every
# format ends within a few intervals, exit status 0, no message
for fmt in csv json table prom; do
	rc=0 t0=$(date +%s%N)
	( set -o pipefail; timeout -k 5 30 "$CONNECTTOP" -b -d 0.2 -o $fmt -P 9 2>"$T_TMP/e" </dev/null | head -c 10 >/dev/null ) || rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	check "-o $fmt, no rows, | head -c 10: exit status 0 (124: still running at 30 s)" 0 "$rc"
	check "-o $fmt, no rows, | head -c 10: ends within 10 s" yes "$([ $ms -le 10000 ] && echo yes || echo "no: $ms ms")"
	check "-o $fmt, no rows, | head -c 10: no message" "" "$(cat "$T_TMP/e")"
done
