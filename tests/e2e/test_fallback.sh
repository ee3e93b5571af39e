#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The attachment that needs no tracefs (raw sys_enter/sys_exit tracepoints)
# counts the same connects exactly; the kernel-side filters work.
. "$(dirname "$0")/lib.sh"
need_bpf
B=$(port_base)
OUT=$T_TMP/out.json ERR=$T_TMP/err
ct_start "$OUT" "$ERR" -b -o json -d 1 --raw-syscalls || exit 1
check "attached through raw_tp" 1 "$(grep -c '^connecttop: attached (raw_tp' "$ERR")"
lg -c fbref refuse 127.0.0.1 $((B + 1)) 30
lg -c fbnb -N accept 127.0.0.1 $((B + 2)) 20
lg -c fbudp udp ::1 $((B + 3)) 10
sleep 0.2
rc=0; ct_stop || rc=$?
check "raw_tp: exit 0 on SIGINT" 0 "$rc"
check "raw_tp: refused" 30 "$(rowsum "$OUT" fbref .results.refused)"
check "raw_tp: non-blocking accepted, once" "20 20" "$(rowsum "$OUT" fbnb .count) $(rowsum "$OUT" fbnb .results.ok)"
check "raw_tp: udp over ipv6" 10 "$(rowsum "$OUT" fbudp .results.ok)"
check "raw_tp: drops" 0 "$(jq -s 'map(.drops) | max' "$OUT")"

# kernel-side filters: -P port and -6
ct_start "$OUT" "$ERR" -b -o json -d 1 -P $((B + 5)) -6 || exit 1
lg -c fbport refuse ::1 $((B + 5)) 7
lg -c fbport refuse ::1 $((B + 6)) 5
lg -c fbport refuse 127.0.0.1 $((B + 5)) 3
sleep 0.2
ct_stop || true
check "-P and -6: only that port and family" "7 $((B + 5)) ipv6" \
	"$(last_json "$OUT" | jq -r '[.rows[] | select(.comm == "fbport")] | "\(map(.count) | add) \(.[0].dport) \(.[0].family)"')"
check "-P and -6: nothing else seen" 1 "$(last_json "$OUT" | jq '.rows | length')"

# the pre-5.11 way on this kernel: the tid hash stash and raw_tp for the
# socket states (probe reads instead of BTF loads)
ct_start "$OUT" "$ERR" -b -o json -d 1 --no-task-storage || exit 1
check "--no-task-storage: the tid hash" 1 "$(grep -c '^connecttop: attached (tracepoint, tid hash)' "$ERR")"
lg -c hsref refuse 127.0.0.1 $((B + 7)) 30
lg -c hsacc accept ::1 $((B + 8)) 20
lg -c hsnb -N refuse 127.0.0.1 $((B + 9)) 15
lg -c hsudp udp 127.0.0.1 $((B + 10)) 10
sleep 0.2
rc=0; ct_stop || rc=$?
check "--no-task-storage: exit 0 on SIGINT" 0 "$rc"
check "--no-task-storage: refused" "30 30" "$(rowsum "$OUT" hsref .count) $(rowsum "$OUT" hsref .results.refused)"
check "--no-task-storage: accepted over ipv6" "20 20" "$(rowsum "$OUT" hsacc .count) $(rowsum "$OUT" hsacc .results.ok)"
check "--no-task-storage: non-blocking refused, once" "15 15 0" \
	"$(rowsum "$OUT" hsnb .count) $(rowsum "$OUT" hsnb .results.refused) $(rowsum "$OUT" hsnb .results.pending)"
check "--no-task-storage: udp" 10 "$(rowsum "$OUT" hsudp .results.ok)"
check "--no-task-storage: destination" "127.0.0.1 $((B + 7)) tcp" \
	"$(last_json "$OUT" | jq -r '[.rows[] | select(.comm == "hsref")][0] | "\(.daddr) \(.dport) \(.proto)"')"
