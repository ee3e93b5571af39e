#!/bin/bash
# Build a gzip'd cpio initramfs for the VM tests: busybox, an /init, the test
# script (as /test.sh) and the given (static) binaries in /bin. BUSYBOX: the
# static busybox to use (default /bin/busybox; of the guest's arch).
#
#   tests/vm/mkinitramfs.sh -o OUT.cpio.gz -t TEST.sh [FILE...]
#
# /init mounts proc, sysfs and devtmpfs (NOT tracefs, bpffs or debugfs: the
# tool under test mounts what it needs itself), brings up lo, then runs
# /test.sh with busybox sh, its output (stdout+stderr) on the serial console
# between the lines
#   ===CT-TEST-BEGIN===
#   ===CT-TEST-END rc=N===
# then prints the kernel messages logged during the test and powers off.
# Kernel modules are not available (none are needed for loopback).
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

out="" test=""
while getopts o:t:h opt; do
	case $opt in
	o) out=$OPTARG ;;
	t) test=$OPTARG ;;
	h)
		sed -n '2,14p' "$0"
		exit 0
		;;
	*) die "usage: $0 -o OUT.cpio.gz -t TEST.sh [FILE...]" ;;
	esac
done
shift $((OPTIND - 1))
{ [ -n "$out" ] && [ -n "$test" ]; } || die "usage: $0 -o OUT.cpio.gz -t TEST.sh [FILE...]"
[ -r "$test" ] || die "test script '$test' not found"

mkdir -p "$CT_CACHE"
BUSYBOX=${BUSYBOX:-/bin/busybox}
if ! { [ -x "$BUSYBOX" ] && readelf -l "$BUSYBOX" 2>/dev/null | grep -q 'LOAD' &&
	! readelf -l "$BUSYBOX" | grep -q 'program interpreter'; }; then
	# busybox-static replaces a dynamic busybox, if one is installed
	BUSYBOX=/bin/busybox
	[ "$(id -u)" = 0 ] || die "a static busybox is needed: apt-get install busybox-static"
	note "installing busybox-static"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends busybox-static >"$CT_CACHE/apt-install.log" 2>&1 ||
		{ DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$CT_CACHE/apt-install.log" 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends busybox-static >>"$CT_CACHE/apt-install.log" 2>&1; } ||
		die "apt-get install busybox-static failed; see $CT_CACHE/apt-install.log"
fi
need_cmd cpio cpio
need_cmd gzip gzip

static_check() {
	if readelf -l "$1" 2>/dev/null | grep -q 'program interpreter'; then
		die "'$1' is dynamically linked; the initramfs has no libc: link it with -static"
	fi
}

root=$(mktemp -d "${TMPDIR:-/tmp}/ct-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
trap 'exit 130' INT TERM

mkdir -p "$root"/bin "$root"/sbin "$root"/dev "$root"/proc "$root"/sys "$root"/tmp "$root"/run "$root"/etc "$root"/root
cp "$BUSYBOX" "$root/bin/busybox"
# another arch's busybox (BUSYBOX=, for an arm64 guest) cannot run here to
# list its applets: /init makes their links in the guest then
if applets=$("$BUSYBOX" --list 2>/dev/null); then
	for a in $applets; do
		[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
	done
fi
# the kernel opens /dev/console for init before devtmpfs is mounted
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$root/dev/null" c 1 3 2>/dev/null || true

for f in "$@"; do
	[ -f "$f" ] || die "file '$f' not found"
	static_check "$f"
	cp "$f" "$root/bin/${f##*/}"
	chmod 755 "$root/bin/${f##*/}"
done
cp "$test" "$root/test.sh"
chmod 755 "$root/test.sh"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
echo '127.0.0.1 localhost' >"$root/etc/hosts"

cat >"$root/init" <<'EOF'
#!/bin/busybox sh
export PATH=/bin:/sbin HOME=/root
/bin/busybox mount -t proc proc /proc
# no applet links yet (a busybox of another arch than the build host's)
[ -e /bin/mount ] || /bin/busybox --install -s /bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev || echo "init: cannot mount devtmpfs"
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1
# keep kernel messages off the console while the test prints; they are
# shown after the test instead
echo "1 4 1 7" >/proc/sys/kernel/printk
ip link set lo up || echo "init: cannot bring up lo"
hostname ctvm
echo "init: kernel $(uname -r), up $(cut -d' ' -f1 /proc/uptime)s"
dmesg -c >/dev/null
cd /tmp
echo "===CT-TEST-BEGIN==="
sh /test.sh 2>&1
rc=$?
echo "===CT-TEST-END rc=$rc==="
echo "--- kernel messages during the test ---"
dmesg
echo "--- end of kernel messages ---"
sync
poweroff -f
# if poweroff failed: panic=-1 plus qemu -no-reboot ends the VM
echo o >/proc/sysrq-trigger
exit 1
EOF
chmod 755 "$root/init"

mkdir -p "$(dirname "$out")"
(cd "$root" && find . -print | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
echo "initramfs: $out ($(($(stat -c %s "$out") / 1024)) KiB: busybox${*:+ $(for f in "$@"; do printf '%s ' "${f##*/}"; done)}test=${test##*/})"
