#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Write the BTF of a kernel image (an arm64 Image, whose vmlinuz is not
# compressed in Debian) to OUT: the same bytes as the booted kernel's
# /sys/kernel/btf/vmlinux, which is this .BTF section (kernel/bpf/sysfs_btf.c
# exposes __start_BTF..__stop_BTF). For a cross build's vmlinux.h, without
# booting the kernel.
#   btf-from-image.sh IMAGE OUT
set -eu
[ $# = 2 ] || { echo "usage: $0 IMAGE OUT" >&2; exit 2; }
img=$1 out=$2
# struct btf_header: magic 0xeb9f, version 1, flags 0, hdr_len 24 (all
# little-endian), then type_off, type_len, str_off, str_len
off=$(LC_ALL=C grep -obUaP '\x9f\xeb\x01\x00\x18\x00\x00\x00' "$img" | head -n1 | cut -d: -f1)
[ -n "$off" ] || { echo "btf-from-image.sh: no BTF header in $img (CONFIG_DEBUG_INFO_BTF?)" >&2; exit 1; }
# shellcheck disable=SC2046
set -- $(od -An -v -tu4 -j $((off + 8)) -N 16 "$img")
[ "$1" = 0 ] || { echo "btf-from-image.sh: the header at offset $off of $img is not BTF's (type_off $1)" >&2; exit 1; }
# the strings come after the types: the blob ends with them
size=$((24 + $3 + $4))
dd if="$img" of="$out" bs=4096 iflag=skip_bytes,count_bytes skip="$off" count="$size" status=none
echo "btf-from-image.sh: $size bytes of BTF at offset $off of $img" >&2
