#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# connecttop --probe and --version -v on this machine: as root the capture
# path the kernel calls for, with tracefs mounted and (in a private mount
# namespace) without it, leaving no mount behind; unprivileged "unknown",
# never "no", for what only root can find out. The capture's own choice
# ("attached (...)") is compared with --probe by run.sh host / check.sh.
set -u
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh" # pass, fail (T_FAILED counts them)
CONNECTTOP=${CONNECTTOP:-$REPO_ROOT/.output/connecttop}
# shellcheck disable=SC2034 # read by pass and fail (tests/lib.sh)
T_PREFIX=probe/
field() { sed -n "s/^$1: *//p"; }

[ "$(id -u)" = 0 ] || {
	fail setup "needs root"
	exit 1
}
kv=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')
if [ "$kv" -ge 5011 ]; then want_stash="task storage" want_states=tp_btf; else want_stash="tid hash" want_states=raw_tp; fi
# the exits read connect()'s arguments from the saved registers (5.15+)
if [ "$kv" -ge 5015 ]; then want_stash+=", args at exit" want_args="at exit"; else want_args="at entry"; fi

out=$("$CONNECTTOP" --probe 2>&1)
rc=$?
path=$(echo "$out" | field "capture path")
if [ "$rc" = 0 ] && [ "$path" = "tracepoint, $want_stash (as -v prints it when attached)" ]; then
	pass "root ($path)"
else
	fail root "rc=$rc, capture path '$path', expected 'tracepoint, $want_stash'"
fi
args=$(echo "$out" | field "connect arguments")
case $args in "$want_args"*) pass "arguments ($args)" ;; *) fail arguments "'$args', expected $want_args" ;; esac
st=$(echo "$out" | field "socket states")
case $st in "$want_states "*) pass "states ($st)" ;; *) fail states "'$st', expected $want_states" ;; esac
n=$(echo "$out" | grep -c unknown)
if [ "$n" = 0 ]; then pass root-knows-all; else fail root-knows-all "$n 'unknown' line(s) as root"; fi

ver=$("$CONNECTTOP" --version -v 2>&1)
if echo "$ver" | head -n1 | grep -q '^connecttop [0-9.]* (BPF event schema [0-9]* bytes, JSON schema [0-9]*)$' &&
	[ "$(echo "$ver" | sed 1d)" = "$out" ]; then
	pass version-verbose
else
	fail version-verbose "not the version line plus --probe's output: $(echo "$ver" | head -n2 | tr '\n' ' ')"
fi
ver=$("$CONNECTTOP" --version 2>&1)
if [ "$(echo "$ver" | wc -l)" = 1 ]; then
	pass version-alone
else
	fail version-alone "--version without -v printed $(echo "$ver" | wc -l) lines"
fi

# tracefs not mounted: capture would mount it; --probe says so and leaves
# neither a mount nor its scratch folder behind
before=$(ls -d /tmp/connecttop-tracefs.* 2>/dev/null | wc -l)
res=$(unshare -m sh -c '
	umount -l /sys/kernel/debug/tracing 2>/dev/null
	umount -l /sys/kernel/tracing 2>/dev/null
	grep -c " tracefs " /proc/mounts
	"$0" --probe 2>&1 | sed -n "s/^connect syscalls: *//p"
	grep -c " tracefs " /proc/mounts' "$CONNECTTOP")
after=$(ls -d /tmp/connecttop-tracefs.* 2>/dev/null | wc -l)
if [ "$res" = "0
tracepoints syscalls:sys_{enter,exit}_connect in /sys/kernel/tracing (not mounted: connecttop mounts it)
0" ] && [ "$before" = "$after" ]; then
	pass unmounted-tracefs
else
	fail unmounted-tracefs "got '$(echo "$res" | tr '\n' '|')', scratch folders $before -> $after"
fi

# unprivileged: nothing that needs bpf() or tracefs is answered "no"
if command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$CONNECTTOP" --probe 2>&1)
	rc=$?
	bad=$(echo "$out" | grep -E '^(ring buffer map|hash map|raw tracepoints|tracepoint programs|connect syscalls|connect arguments|per-thread stash|socket states|capture path):' | grep -v ' unknown')
	if [ "$rc" = 0 ] && [ -z "$bad" ] && echo "$out" | grep -q '^BTF (/sys/kernel/btf): *yes$'; then
		pass unprivileged-unknown
	else
		fail unprivileged-unknown "rc=$rc; answered without privileges: $(echo "$bad" | tr '\n' '|')"
	fi
else
	fail unprivileged-unknown "setpriv (util-linux) is missing"
fi
[ "$T_FAILED" = 0 ]
