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

# the loads of a capture path's checks, the capture stopped, the counts
# checked: LABEL (of the checks) PREFIX (of the comms) PORT (and the next 3)
mix() {
	local l=$1 c=$2 p=$3 rc=0
	lg -c "${c}ref" refuse 127.0.0.1 "$p" 30
	lg -c "${c}acc" accept ::1 $((p + 1)) 20
	lg -c "${c}nb" -N refuse 127.0.0.1 $((p + 2)) 15
	lg -c "${c}udp" udp 127.0.0.1 $((p + 3)) 10
	sleep 0.2
	ct_stop || rc=$?
	check "$l: exit 0 on SIGINT" 0 "$rc"
	check "$l: refused" "30 30" "$(rowsum "$OUT" "${c}ref" .count) $(rowsum "$OUT" "${c}ref" .results.refused)"
	check "$l: accepted over ipv6" "20 20" "$(rowsum "$OUT" "${c}acc" .count) $(rowsum "$OUT" "${c}acc" .results.ok)"
	check "$l: non-blocking refused, once" "15 15 0" \
		"$(rowsum "$OUT" "${c}nb" .count) $(rowsum "$OUT" "${c}nb" .results.refused) $(rowsum "$OUT" "${c}nb" .results.pending)"
	check "$l: udp" 10 "$(rowsum "$OUT" "${c}udp" .results.ok)"
}

# the pre-5.11 way on this kernel: the tid hash stash and raw_tp for the
# socket states (probe reads instead of BTF loads)
ct_start "$OUT" "$ERR" -b -o json -d 1 --no-task-storage || exit 1
check "--no-task-storage: the tid hash" 1 "$(grep -c '^connecttop: attached (tracepoint, tid hash)' "$ERR")"
mix "--no-task-storage" hs $((B + 7))
check "--no-task-storage: destination" "127.0.0.1 $((B + 7)) tcp" \
	"$(last_json "$OUT" | jq -r '[.rows[] | select(.comm == "hsref")][0] | "\(.daddr) \(.dport) \(.proto)"')"

# 5.15+: no entry programs, the exits read connect()'s and getsockopt()'s
# arguments from the saved registers; --entry-args keeps the entry
# programs (the 5.11-5.14 way) on this kernel
kv=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')
progs_of() { # the names of the BPF programs process $1 holds
	local id
	for id in $(cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '$1 == "prog_id:" {print $2}' | sort -un); do
		bpftool prog show id "$id" -j 2>/dev/null | jq -r .name
	done | sort | tr '\n' ' '
}
if [ "$kv" -ge 5015 ]; then
	ct_start "$OUT" "$ERR" -b -o json -d 1 || exit 1
	check "args at exit: the path" 1 "$(grep -c '^connecttop: attached (tracepoint, task storage, args at exit)' "$ERR")"
	p=$(progs_of "$CT_PID")
	check "args at exit: no entry program held" "0 1 1" \
		"$(echo "$p" | grep -oc 'tp_enter_' || true) $(echo "$p" | grep -c 'tp_exit_connect') $(echo "$p" | grep -c 'tp_exit_getsockopt')"
	ct_stop || true
fi
ct_start "$OUT" "$ERR" -b -o json -d 1 --entry-args || exit 1
want="tracepoint, task storage"
[ "$kv" -ge 5011 ] || want="tracepoint, tid hash"
check "--entry-args: the path" 1 "$(grep -c "^connecttop: attached ($want)" "$ERR")"
check "--entry-args: the entry programs held" 2 "$(progs_of "$CT_PID" | grep -o 'tp_enter_[a-z]*' | sort -u | wc -l)"
mix "--entry-args" ea $((B + 11))
