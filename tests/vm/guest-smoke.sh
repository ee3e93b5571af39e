#!/bin/sh
# Stand-in guest test (busybox sh): proves the boot pipeline without the tool.
# Prints the kernel release, whether BTF and bpf() are there, and runs loadgen.
echo "uname: $(uname -r)"
if [ -e /sys/kernel/btf/vmlinux ]; then
	echo "btf: yes $(wc -c </sys/kernel/btf/vmlinux) bytes"
else
	echo "btf: no"
fi
# bpf() exists if the kernel has CONFIG_BPF_SYSCALL; /proc/sys/kernel/unprivileged_bpf_disabled
# is only there with it
if [ -e /proc/sys/kernel/unprivileged_bpf_disabled ]; then echo "bpf_syscall: yes"; else echo "bpf_syscall: no"; fi
if grep -qw tracefs /proc/filesystems; then echo "tracefs: available (not mounted)"; fi
grep -q tracefs /proc/mounts && echo "tracefs: MOUNTED (unexpected)"
echo "ulimit -l: $(ulimit -l 2>/dev/null)" # busybox sh has -l
rc=0
loadgen -c vmacc accept 127.0.0.1 7001 50 || rc=1
loadgen -c vmref refuse 127.0.0.1 7002 40 || rc=1
loadgen -c vmnb -N accept 127.0.0.1 7003 30 || rc=1
loadgen -c vmudp udp 127.0.0.1 7004 20 || rc=1
loadgen -c vmv6 refuse ::1 7005 10 || rc=1
echo "loadgen: rc=$rc"
exit $rc
