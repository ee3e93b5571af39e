#!/bin/bash
# Kernel-matrix test: boot Debian cloud kernels in qemu (TCG, no KVM) with a
# busybox initramfs holding the static binaries, run the guest test inside,
# and check its output on the host.
#
#   tests/vm/run.sh [--smoke] [-t GUEST_TEST.sh] [-c CHECK.sh] [NAME...]
#
# NAME: bullseye (5.10), bookworm (6.1), trixie (6.12), host (the guest test
# run on this machine in a fresh network namespace), the same kernels for
# arm64 (bullseye-arm64, bookworm-arm64, trixie-arm64: qemu-system-aarch64
# -M virt -cpu cortex-a57, running the arm64 binaries), arm64 (= those
# three), or all (= the three kernels, host and arm64).
# Default: $VM_KERNELS, else "bullseye bookworm trixie".
# --smoke: the stand-in guest-smoke.sh (no connecttop needed): proves each
# kernel boots, has BTF and bpf(), and loadgen runs in it.
#
# Environment:
#   CONNECTTOP, LOADGEN  the static binaries (default <repo>/.output/...;
#                        a missing default loadgen is built into the cache)
#   CONNECTTOP_ARM64, LOADGEN_ARM64  the same for the arm64 kernels (default
#                        <repo>/.output/arm64/..., from make cross)
#   CT_CACHE             cache folder (default <repo>/.cache/vm)
#   VM_TIMEOUT           seconds per boot before qemu is killed (default 180)
#   VM_VERBOSE=1         also show each serial console while it runs
#   VM_APPEND            extra kernel command line
#
# Prints "PASS: NAME/CHECK" or "FAIL: NAME/CHECK: REASON" per check, then
# "N passed, N failed"; exits 1 if any check failed. Serial logs are kept in
# $CT_CACHE/logs/NAME.log.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

smoke=0
test=$VM_DIR/guest-test.sh
check=$VM_DIR/check.sh
names=""
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) smoke=1 ;;
	-t)
		[ $# -ge 2 ] || die "-t needs a file"
		test=$2
		shift
		;;
	-c)
		[ $# -ge 2 ] || die "-c needs a file"
		check=$2
		shift
		;;
	-h | --help)
		sed -n '2,30p' "$0"
		exit 0
		;;
	-*) die "unknown option '$1' (see --help)" ;;
	all) names="$names bullseye bookworm trixie host bullseye-arm64 bookworm-arm64 trixie-arm64" ;;
	arm64) names="$names bullseye-arm64 bookworm-arm64 trixie-arm64" ;;
	*) names="$names $1" ;;
	esac
	shift
done
[ -n "$names" ] || names=$VM_KERNELS
[ "$smoke" = 0 ] || test=$VM_DIR/guest-smoke.sh
[ -r "$test" ] || die "guest test '$test' not found"
[ -r "$check" ] || die "checker '$check' not found"

vms="" arm64=0 amd64=0
for n in $names; do
	case $n in
	bullseye | bookworm | trixie) vms="$vms $n" amd64=1 ;;
	bullseye-arm64 | bookworm-arm64 | trixie-arm64) vms="$vms $n" arm64=1 ;;
	host) amd64=1 ;;
	*) die "unknown matrix entry '$n' (known: bullseye bookworm trixie host, each kernel with -arm64, arm64, all)" ;;
	esac
done

VM_TIMEOUT=${VM_TIMEOUT:-180}
mkdir -p "$CT_CACHE/logs"

# pass, fail, t_relay (the checker's lines counted as ours) and t_finish
# ("N passed, N failed"; exit status 1 if a check failed): tests/lib.sh
secs() { echo "$(($1 / 1000)).$(($1 % 1000 / 100))"; }

# --- cleanup ------------------------------------------------------------------
work="" netns="" qemu_pid="" tail_pid="" # qemu_pid: the running qemu or host test
# shellcheck disable=SC2317 # run from the trap
cleanup() {
	[ -z "$tail_pid" ] || kill "$tail_pid" 2>/dev/null || true
	if [ -n "$qemu_pid" ]; then
		kill "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	[ -z "$netns" ] || ip netns del "$netns" 2>/dev/null || true
	[ -z "$work" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "${0##*/}: interrupted" >&2; exit 130' INT TERM HUP

# --- the binaries -----------------------------------------------------------
t_all=$(now_ms)
# $1 arch (amd64, arm64), $2 connecttop, $3 loadgen (empty: the default);
# sets bins_ARCH to the binaries for that arch's guests, or fails setup
# shellcheck disable=SC2119 # t_finish's $1 is an optional prefix: none here
find_bins() {
	local arch=$1 ct=$2 lg=$3 out cc b
	out=$REPO_ROOT/.output
	cc=gcc
	if [ "$arch" = arm64 ]; then
		out=$out/arm64
		cc=aarch64-linux-gnu-gcc
	fi
	ct=${ct:-$out/connecttop}
	if [ -z "$lg" ]; then
		lg=$out/loadgen
		if [ ! -x "$lg" ]; then
			lg=$CT_CACHE/loadgen-$arch
			if [ ! -x "$lg" ] || [ "$REPO_ROOT/tests/loadgen.c" -nt "$lg" ]; then
				note "building $lg from tests/loadgen.c"
				$cc -O2 -static -pthread "$REPO_ROOT/tests/loadgen.c" -o "$lg" ||
					{ fail setup "cannot build loadgen ($cc -O2 -static -pthread tests/loadgen.c)"; t_finish; }
			fi
		fi
	fi
	[ -x "$lg" ] || { fail setup "loadgen not found at '$lg' (set LOADGEN=)"; t_finish; }
	b=$lg
	if [ "$smoke" = 0 ]; then
		[ -x "$ct" ] || { fail setup "connecttop for $arch not found at '$ct' (build it first: make$([ "$arch" = amd64 ] || echo " cross"), or set CONNECTTOP$([ "$arch" = amd64 ] || echo _ARM64)=; --smoke runs without it)"; t_finish; }
		b="$ct $lg"
	fi
	for f in $b; do
		if readelf -l "$f" 2>/dev/null | grep -q 'program interpreter'; then
			fail setup "'$f' is dynamically linked; the VMs need a static binary"
			t_finish
		fi
		# a binary of the wrong arch would only fail in the guest, as "not found"
		if ! readelf -h "$f" 2>/dev/null | grep -q "Machine: *$([ "$arch" = arm64 ] && echo AArch64 || echo 'Advanced Micro Devices X86-64')"; then
			fail setup "'$f' is not an $arch binary ($(readelf -h "$f" 2>/dev/null | sed -n 's/^ *Machine: *//p'))"
			t_finish
		fi
	done
	eval "bins_$arch=\$b"
}
bins_amd64="" bins_arm64=""
[ "$amd64" = 0 ] || find_bins amd64 "${CONNECTTOP:-}" "${LOADGEN:-}"
[ "$arm64" = 0 ] || find_bins arm64 "${CONNECTTOP_ARM64:-}" "${LOADGEN_ARM64:-}"
[ "$smoke" = 1 ] || need_cmd jq jq

# --- kernels, qemu, initramfs -----------------------------------------------
t_fetch=0
if [ -n "$vms" ]; then
	[ "$amd64" = 0 ] || need_cmd qemu-system-x86_64 qemu-system-x86
	[ "$arm64" = 0 ] || need_cmd qemu-system-aarch64 qemu-system-arm
	t0=$(now_ms)
	# shellcheck disable=SC2086
	if ! bash "$VM_DIR/fetch-kernels.sh" $vms >"$CT_CACHE/logs/fetch.log" 2>&1; then
		fail setup "fetching the kernels failed: $(grep -i error "$CT_CACHE/logs/fetch.log" | tail -n 2 | tr '\n' ' ')(log: $CT_CACHE/logs/fetch.log)"
		t_finish
	fi
	t_fetch=$(($(now_ms) - t0))
	grep -E '^(cached|fetched):' "$CT_CACHE/logs/fetch.log" | sed 's/^/kernel /' >&2
	grep '^WARNING' "$CT_CACHE/logs/fetch.log" >&2 || true
fi

work=$(mktemp -d "$CT_CACHE/run.XXXXXX")
t_initrd=0
# $1 output, $2 busybox, the rest: the binaries
initramfs() {
	local out=$1 bb=$2 t0
	shift 2
	t0=$(now_ms)
	if ! BUSYBOX=$bb bash "$VM_DIR/mkinitramfs.sh" -o "$out" -t "$test" "$@" >"$work/mkinitramfs.log" 2>&1; then
		fail setup "building the initramfs failed: $(tail -n 2 "$work/mkinitramfs.log" | tr '\n' ' ')"
		t_finish
	fi
	t_initrd=$((t_initrd + $(now_ms) - t0))
}
for n in $vms; do
	# one per arm64 kernel: each has the busybox of its release
	# shellcheck disable=SC2086
	case $n in
	*-arm64) initramfs "$work/initrd-$n.gz" "$CT_CACHE/kernels/$n/busybox" $bins_arm64 ;;
	*) [ -s "$work/initrd.gz" ] || initramfs "$work/initrd.gz" "${BUSYBOX:-/bin/busybox}" $bins_amd64 ;;
	esac
done
timings="fetch $(secs "$t_fetch")s, initramfs $(secs "$t_initrd")s"

# Judge one run: $1 name, $2 serial/console log, $3 seconds, $4 expected release
judge() {
	local name=$1 log=$2 dt=$3 rel=$4 out=$CT_CACHE/logs/$1.out endline rc="" last what=boot
	[ "$name" != host ] || what=run
	tr -d '\r' <"$log" >"$work/log"
	if ! grep -q '^===CT-TEST-BEGIN===$' "$work/log"; then
		last=$(grep -v '^$' "$work/log" | tail -n 4 | cut -c1-160 | tr '\n' '|')
		fail "$name/$what" "the test never started (no begin marker) after ${dt}s; last console lines: ${last:-<none>} (log: $log)"
		return
	fi
	sed -n '/^===CT-TEST-BEGIN===$/,/^===CT-TEST-END/{//!p}' "$work/log" >"$out"
	endline=$(grep -m1 '^===CT-TEST-END rc=' "$work/log" || true)
	if [ -z "$endline" ]; then
		fail "$name/$what" "the test did not finish within ${VM_TIMEOUT}s (no end marker; ${dt}s) (log: $log)"
	else
		rc=${endline#===CT-TEST-END rc=}
		rc=${rc%===}
		pass "$name/$what (${dt}s, guest test rc=$rc)"
	fi
	if [ "$smoke" = 1 ]; then
		judge_smoke "$name" "$out" "$rc" "$rel"
	else
		run_check "$name" "$out" "$rel"
	fi
}

# The checker's lines are counted; a checker that dies (a shell error under
# set -e, a jq crash, a usage error) is a FAIL, never a silent pass.
run_check() {
	local name=$1 out=$2 rel=$3 crc=0 nfail
	EXPECT_RELEASE=$rel bash "$check" "$name" "$out" >"$work/check.out" 2>"$work/check.err" || crc=$?
	t_relay <"$work/check.out"
	nfail=$(grep -c '^FAIL:' "$work/check.out" || true)
	if [ "$crc" != 0 ] && [ "$nfail" = 0 ]; then
		fail "$name/checker" "${check##*/} exited $crc without naming a failed check; stderr: $(tail -n 3 "$work/check.err" | tr '\n' ' ' | cut -c1-300)"
	elif [ "$crc" = 0 ] && [ "$nfail" != 0 ]; then
		fail "$name/checker" "${check##*/} exited 0 but reported $nfail failed check(s)"
	elif ! grep -q '^PASS:' "$work/check.out" && [ "$nfail" = 0 ]; then
		fail "$name/checker" "${check##*/} reported no check at all"
	fi
}

judge_smoke() {
	local name=$1 out=$2 rc=$3 rel=$4 got
	got=$(sed -n 's/^uname: //p' "$out")
	if [ -z "$rel" ] || [ "$got" = "$rel" ]; then pass "$name/kernel (${got:-?})"; else fail "$name/kernel" "uname -r is '$got', expected '$rel'"; fi
	if grep -q '^btf: yes' "$out"; then pass "$name/btf ($(sed -n 's/^btf: yes //p' "$out"))"; else fail "$name/btf" "no /sys/kernel/btf/vmlinux"; fi
	if grep -q '^bpf_syscall: yes' "$out"; then pass "$name/bpf-syscall"; else fail "$name/bpf-syscall" "no bpf() (CONFIG_BPF_SYSCALL)"; fi
	if grep -q '^loadgen: rc=0' "$out"; then
		pass "$name/loadgen ($(grep -c '^connects=' "$out") runs)"
	else
		fail "$name/loadgen" "loadgen failed in the guest: $(grep -E '^(connects=|loadgen)' "$out" | tr '\n' ' ')"
	fi
}

boot() {
	local name=$1 kdir=$CT_CACHE/kernels/$1 log=$CT_CACHE/logs/$1.log t0 dt rel qrc
	rel=$(sed -n 's/^release=//p' "$kdir/info")
	t0=$(now_ms)
	# -nodefaults: no NIC, no VGA: only the serial console (on stdout)
	case $name in
	*-arm64)
		# the board's PL011 UART is the serial console
		timeout -k 5 "$VM_TIMEOUT" qemu-system-aarch64 -M virt -cpu cortex-a57 -accel tcg -m 1G -smp 2 \
			-nographic -nodefaults -no-reboot -serial stdio \
			-kernel "$kdir/vmlinuz" -initrd "$work/initrd-$name.gz" \
			-append "console=ttyAMA0 panic=-1 oops=panic softlockup_all_cpu_backtrace=1 ${VM_APPEND:-}" \
			</dev/null >"$log" 2>&1 &
		;;
	*)
		timeout -k 5 "$VM_TIMEOUT" qemu-system-x86_64 -accel tcg -m 1G -smp 2 \
			-nographic -nodefaults -no-reboot -serial stdio \
			-kernel "$kdir/vmlinuz" -initrd "$work/initrd.gz" \
			-append "console=ttyS0 panic=-1 oops=panic softlockup_all_cpu_backtrace=1 ${VM_APPEND:-}" \
			</dev/null >"$log" 2>&1 &
		;;
	esac
	qemu_pid=$!
	if [ "${VM_VERBOSE:-0}" = 1 ]; then
		tail -n +1 -f "$log" >&2 &
		tail_pid=$!
	fi
	qrc=0
	wait "$qemu_pid" || qrc=$?
	qemu_pid=""
	if [ -n "$tail_pid" ]; then
		sleep 0.2
		kill "$tail_pid" 2>/dev/null || true
		wait "$tail_pid" 2>/dev/null || true
		tail_pid=""
	fi
	dt=$(secs $(($(now_ms) - t0)))
	timings="$timings, $name ${dt}s"
	[ "$qrc" = 0 ] || [ "$qrc" = 124 ] || note "$name: qemu exited $qrc (log: $log)"
	judge "$name" "$log" "$dt" "$rel"
}

run_host() {
	local log=$CT_CACHE/logs/host.log t0 dt sh rc
	if [ "$(id -u)" != 0 ]; then
		fail host/setup "needs root (ip netns, bpf)"
		return
	fi
	netns=ct-vmtest-$$
	ip netns add "$netns" || {
		fail host/setup "ip netns add $netns failed"
		netns=""
		return
	}
	ip -n "$netns" link set lo up
	mkdir -p "$work/hostbin" "$work/hostwork"
	for b in $bins_amd64; do ln -sf "$(cd "$(dirname "$b")" && pwd)/${b##*/}" "$work/hostbin/${b##*/}"; done
	# busybox sh, as in the guest, where it is available
	sh="sh"
	command -v busybox >/dev/null 2>&1 && sh="busybox sh"
	t0=$(now_ms)
	rc=0
	echo "===CT-TEST-BEGIN===" >"$log"
	# in the background, so that a signal to us is handled at once; GNU
	# timeout passes it on to its whole process group
	# shellcheck disable=SC2086
	(cd "$work/hostwork" && CT_WORKDIR=$work/hostwork PATH=$work/hostbin:$PATH \
		exec timeout -k 5 "$VM_TIMEOUT" ip netns exec "$netns" $sh "$test") </dev/null >>"$log" 2>&1 &
	qemu_pid=$!
	wait "$qemu_pid" || rc=$?
	qemu_pid=""
	echo "===CT-TEST-END rc=$rc===" >>"$log"
	ip netns del "$netns" || true
	netns=""
	dt=$(secs $(($(now_ms) - t0)))
	timings="$timings, host ${dt}s"
	judge host "$log" "$dt" "$(uname -r)"
}

for n in $names; do
	case $n in
	host) run_host ;;
	*) boot "$n" ;;
	esac
done

echo "timings: $timings, total $(secs $(($(now_ms) - t_all)))s" >&2
t_finish
