#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# SYN retransmits per connect (issue 14), with real traffic in a private
# network namespace where nftables drops first SYNs, so that those
# handshakes finish on the SYN retransmit ~1 s later:
#  - blocking connects to a port that drops every other first SYN: half of
#    them need exactly one retransmit, the others none (the socket is not
#    tracked in "socks": counted in synrt, taken at connect()'s exit)
#  - non-blocking connects to a port that drops every first SYN: each needs
#    exactly one (counted in the socket's "socks" entry)
#  - blocking connects to a port that drops nothing: none
#  - UDP connects: not counted at all (absent, not 0)
# Checked in the JSON and CSV batch output and the Prometheus file. ~8 s.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
need_bpf
need_tools ip nft jq awk

ns_create || exit 1
base=$((20000 + $$ % 20000))
P_HALF=$base P_ALL=$((base + 1)) P_FAST=$((base + 2)) P_UDP=$((base + 3))
# a first SYN that was dropped leaves its source port in @retx, and the
# retransmit from that port is let through
ns_nft "
table inet ctretx {
	set retx { type inet_service; flags dynamic, timeout; timeout 20s; }
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport { $P_HALF, $P_ALL } tcp flags & (syn | ack) == syn tcp sport @retx accept
		tcp dport $P_HALF tcp flags & (syn | ack) == syn numgen inc mod 2 == 0 add @retx { tcp sport } drop
		tcp dport $P_ALL tcp flags & (syn | ack) == syn add @retx { tcp sport } drop
	}
}" || exit 1

TAG=rt$(printf %04d $(($$ % 10000)))
JSON=$T_TMP/out.json CSV=$T_TMP/out.csv PROM=$T_TMP/out.prom
ct_start "$JSON" "$T_TMP/err.json" -b -o json -d 1 -f "$TAG" --prometheus "$PROM" || exit 1
PID_JSON=$CT_PID
ct_start "$CSV" "$T_TMP/err.csv" -b -o csv -d 1 -f "$TAG" || exit 1
PID_CSV=$CT_PID

N_HALF=10 N_ALL=4 N_FAST=10 N_UDP=3
pids=()
bg() {
	"$@" &
	pids+=($!)
	T_PIDS="$T_PIDS $!"
}
bg lgns -c "${TAG}half" accept 127.0.0.1 $P_HALF $N_HALF
bg lgns -c "${TAG}all" -N -T 4 accept 127.0.0.1 $P_ALL $N_ALL
bg lgns -c "${TAG}fast" accept 127.0.0.1 $P_FAST $N_FAST
bg lgns -c "${TAG}udp" udp 127.0.0.1 $P_UDP $N_UDP
wait_rc=0
for p in "${pids[@]}"; do wait "$p" || wait_rc=1; done
check "load generators" 0 "$wait_rc"
# the last outcomes reach user space, then one more interval is written
sleep 2.2
CT_PID=$PID_JSON
rc=0
ct_stop || rc=$?
check "exit status 0 on SIGINT (json)" 0 "$rc"
CT_PID=$PID_CSV
rc=0
ct_stop || rc=$?
check "exit status 0 on SIGINT (csv)" 0 "$rc"

if ! last_json "$JSON" | jq -e . >/dev/null 2>&1; then
	fail "last line is JSON" "$(last_json "$JSON" | head -c 300)"
	exit 1
fi
# jrow COMM EXPR: EXPR of the row of COMM in the last JSON object
jrow() { last_json "$JSON" | jq -c --arg c "$TAG$1" "[.rows[] | select(.comm == \$c)][0] | $2"; }
check "drops == 0 on every line" 0 "$(jq -s 'map(.drops) | max' "$JSON")"
check "json half: count" "$N_HALF" "$(jrow half .count)"
check "json half: all established" "$N_HALF" "$(jrow half .results.ok)"
check "json half: one retransmit for every other connect" \
	'{"connects":5,"total":5,"hist":[5,5,0,0]}' "$(jrow half .syn_retrans)"
check "json all: one retransmit each (non-blocking)" \
	"{\"connects\":$N_ALL,\"total\":$N_ALL,\"hist\":[0,$N_ALL,0,0]}" "$(jrow all .syn_retrans)"
check "json fast: none" "{\"connects\":0,\"total\":0,\"hist\":[$N_FAST,0,0,0]}" "$(jrow fast .syn_retrans)"
check "json udp: count" "$N_UDP" "$(jrow udp .count)"
check "json udp: syn_retrans absent" false "$(jrow udp 'has("syn_retrans")')"
# the handshakes that needed the retransmit took ~1 s (the initial RTO)
check "json half: max handshake ~1 s" yes "$(jrow half '.lat_max_us >= 900000 and .lat_max_us < 2000000' |
	sed 's/true/yes/')"

# CSV: the columns by the header's names, on the last line of each comm
csv_field() { # COMM FIELD
	awk -F, -v c="$TAG$1" -v f="$2" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$2 == c { v = (f in col) ? $(col[f]) : "no such column" } END { print v }' "$CSV"
}
check "csv half: connects" 5 "$(csv_field half syn_retrans.connects)"
check "csv half: total" 5 "$(csv_field half syn_retrans.total)"
check "csv all: connects" "$N_ALL" "$(csv_field all syn_retrans.connects)"
check "csv all: total" "$N_ALL" "$(csv_field all syn_retrans.total)"
check "csv fast: connects" 0 "$(csv_field fast syn_retrans.connects)"
check "csv fast: total" 0 "$(csv_field fast syn_retrans.total)"
check "csv udp: empty, not 0" "" "$(csv_field udp syn_retrans.total)"

# Prometheus: one counter per (comm, daddr, dport)
prom_val() { # COMM
	awk -v c="connecttop_syn_retransmits_total{comm=\"$TAG$1\"," 'index($0, c) == 1 { print $2 }' "$PROM"
}
check "prom: TYPE counter" 1 "$(grep -c '^# TYPE connecttop_syn_retransmits_total counter$' "$PROM")"
check "prom half" 5 "$(prom_val half)"
check "prom all" "$N_ALL" "$(prom_val all)"
check "prom fast" 0 "$(prom_val fast)"
check "prom udp: no series" "" "$(prom_val udp)"
t_finish retrans
