#!/bin/sh
# The connecttop test run inside each VM (busybox sh, from the initramfs's
# /test.sh), or on the host in a fresh network namespace (run.sh host).
# It prints sections headed "### NAME" that tests/vm/check.sh reads:
#   ### uname        the kernel release
#   ### loadgen      one line per load: "COMM rc=N <loadgen's own line>"
#   ### connecttop   "rc=N" of the JSON run, the attach wait, "workdir=DIR"
#   ### stderr       connecttop's stderr during the JSON run (run with -v:
#                    its libbpf debug lines only when it failed)
#   ### probe        `connecttop --probe` output, then "rc=N"
#   ### version      `connecttop --version -v` output, then "rc=N"
#   ### raw          a second run, --raw-syscalls (the fallback without
#                    tracefs): "rc=N", its attached line, its loads' lines,
#                    its JSON lines
#   ### json         connecttop's stdout (one JSON object per line)
#   ### end
# Exits 0 when every program exited 0 (check.sh judges the output itself).
#
# CT_WORKDIR: where to keep the output files (default /tmp).
# CT_ATTACH_WAIT: seconds to wait at most for connecttop's first interval
# (its attach under TCG is slow); the loads start right after it.
W=${CT_WORKDIR:-/tmp}
out=$W/ct-out.json
err=$W/ct-err.txt
lg=$W/ct-loadgen.txt
: >"$lg"
rc=0

echo "### uname"
uname -r

# The tool mounts tracefs itself if it needs it: that is part of the test.
# -v: the "attached (MODE)" line says which capture path the kernel got
# --unix: AF_UNIX connects too (the BPF path that reads the socket's path)
timeout 60 connecttop -v --unix -b -o json -d 1 -n 5 >"$out" 2>"$err" &
ct=$!

# Wait until connecttop ($1: its pid, $2: its output) has attached: its
# first interval line shows that. Load made before that would be missed. At
# least 1.5 s, at most CT_ATTACH_WAIT; sets waited.
attach_wait() {
	sleep 1.5
	i=0
	max=$((${CT_ATTACH_WAIT:-30} * 10))
	while [ ! -s "$2" ] && kill -0 "$1" 2>/dev/null && [ "$i" -lt "$max" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	waited="$(((15 + i) / 10)).$(((15 + i) % 10))"
}
attach_wait "$ct" "$out"

# $1 pid, $2 what it runs: is connecttop still there to watch the loads?
watching() {
	kill -0 "$1" 2>/dev/null && return 0
	echo "guest: $2 exited before the load started" >>"$lg"
	return 1
}
# wait for connecttop ($1) to end; its status in ctrc, a failure in rc.
# Then for the child that closes its links after it (tui/release.c,
# "connecttop-exit"; on the host another instance's goes as fast), so that
# the next run does not attach to the tracepoints while they are detached:
# a guest stalled in a soft lockup of two connecttop tasks there about once
# in 30 VM runs (TCG emulation, 5.10 and 6.1; cause not found). At most 30 s.
ct_wait() {
	wait "$1"
	ctrc=$?
	[ "$ctrc" = 0 ] || rc=1
	i=0
	while grep -qx 'connecttop-exit' /proc/[0-9]*/comm 2>/dev/null && [ "$i" -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

load() {
	comm=$1
	shift
	line=$(loadgen -c "$comm" "$@" 2>&1)
	r=$?
	[ "$r" = 0 ] || rc=1
	echo "$comm rc=$r $line" | tr '\n' ' ' >>"$lg"
	echo >>"$lg"
}
if watching "$ct" connecttop; then
	load vmacc accept 127.0.0.1 7001 50
	load vmref refuse 127.0.0.1 7002 40
	load vmnb -N accept 127.0.0.1 7003 30
	load vmudp udp 127.0.0.1 7004 20
	load vmv6 refuse ::1 7005 10
	# AF_UNIX: a path with a listener, an abstract name bound without
	# listen(), a datagram socket, a path where nothing is bound
	load vmuacc accept "unix:$W/ct-uacc.sock" 0 12
	load vmuref refuse unix:@ct-uref 0 8
	load vmudg udp "unix:$W/ct-udg.sock" 0 6
	load vmuabs absent "unix:$W/ct-uabs.sock" 0 4
	# the name a process resolved: loadgen asks its own server on
	# 127.0.0.1:53 for vm.test (a UDP socket connected to port 53), then
	# connects to the address the answer gave
	load vmdns -D vm.test refuse 127.0.0.1 7021 5
fi
ct_wait "$ct"

echo "### loadgen"
cat "$lg"
echo "### connecttop"
echo "rc=$ctrc"
echo "attach_wait=${waited}s"
echo "workdir=$W"
echo "### stderr"
# -v makes libbpf's debug log hundreds of lines: shown only on failure
grep -v '^libbpf: ' "$err"
[ "$ctrc" = 0 ] || grep '^libbpf: ' "$err" | tail -n 40
echo "### probe"
timeout 30 connecttop --probe 2>&1
prc=$?
echo "rc=$prc"
[ "$prc" = 0 ] || rc=1
echo "### version"
timeout 30 connecttop --version -v 2>&1
vrc=$?
echo "rc=$vrc"
[ "$vrc" = 0 ] || rc=1
# The raw syscall fallback, which a host without tracefs gets: the arch's
# syscall numbers and argument registers in raw_tp sys_enter/sys_exit
# (connect's three, getsockopt's four: -N reads SO_ERROR)
: >"$lg"
rout=$W/ct-raw.json
rerr=$W/ct-raw-err.txt
timeout 60 connecttop -v --raw-syscalls -b -o json -d 1 -n 3 >"$rout" 2>"$rerr" &
ct=$!
attach_wait "$ct" "$rout"
if watching "$ct" "connecttop --raw-syscalls"; then
	load vmracc accept 127.0.0.1 7011 20
	load vmrref refuse 127.0.0.1 7012 10
	load vmrnb -N refuse 127.0.0.1 7013 10
fi
ct_wait "$ct"
echo "### raw"
echo "rc=$ctrc"
grep '^connecttop: attached' "$rerr"
[ "$ctrc" = 0 ] || grep -v '^connecttop: attached' "$rerr" | tail -n 40
cat "$lg" "$rout"
echo "### json"
cat "$out"
echo "### end"
rm -f "$out" "$err" "$lg" "$rout" "$rerr"
exit $rc
