#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The event loop reads the ring buffer in bounded steps (issue 12, bug 10):
# with ring_buffer__consume() left to run, a flood kept it inside one call for
# as long as records came in, and signals, keys and the interval timer waited
# (306 s for SIGTERM once). Here connecttop is stopped (SIGSTOP) while a UDP
# flood fills its ring buffer with far more records than one read may take,
# then resumed: the queued records are read over several steps (the count of
# reads stopped on their budget, printed with -v at exit, is above 0), every
# connect is still counted exactly once, nothing is dropped, and SIGINT ends
# it with status 0. -P keeps other connects on the host out of it.
. "$(dirname "$0")/lib.sh"
need_bpf
need_tools jq
P=$(port_base)
N=300000 # 300,000 records of 112 bytes (header included): 34 MB, in a 64 MB ring buffer
TAG=dr$(printf %04d $(($$ % 10000)))
ct_start "$T_TMP/out.json" "$T_TMP/err" -b -o json -d 0.5 -f "$TAG" -P "$P" --ringbuf-size 64M || exit 1
kill -STOP "$CT_PID"
lg -c "${TAG}udp" -T 2 -r udp 127.0.0.1 "$P" $N
kill -CONT "$CT_PID"
# the records are read within a few intervals; the loop ends when they are
t_wait 10 eval '[ "$(rowsum "$T_TMP/out.json" "${TAG}udp" .count 2>/dev/null)" = $N ]'
ct_stop
check "SIGINT after the flood: exit status" 0 "$?"
check "every connect counted once" $N "$(rowsum "$T_TMP/out.json" "${TAG}udp" .count)"
check "no drops" 0 "$(jq -s 'map(.drops) | max' "$T_TMP/out.json")"
cut=$(sed -n 's/^connecttop: \([0-9]*\) reads of the ring buffer stopped on their budget$/\1/p' "$T_TMP/err")
echo "note: $N records read with $cut reads stopped on their budget"
check_num "the queued records were read in bounded steps (reads stopped on the budget)" '. >= 1' "${cut:-none}"
