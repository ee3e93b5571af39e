#!/bin/bash
# Host-side checker of the output of tests/vm/guest-test.sh.
#
#   tests/vm/check.sh NAME FILE
#
# FILE is either the block between the ===CT-TEST-BEGIN/END=== markers or a
# whole serial log (the block is taken from it). NAME prefixes each check.
# EXPECT_RELEASE (optional): the `uname -r` the guest must report.
# Prints "PASS: NAME/CHECK" or "FAIL: NAME/CHECK: REASON" per check; exits 1
# if any failed, 2 on usage errors.
set -eu

[ $# = 2 ] || {
	echo "usage: $0 NAME FILE" >&2
	exit 2
}
name=$1 file=$2
[ -r "$file" ] || {
	echo "check.sh: cannot read '$file'" >&2
	exit 2
}
command -v jq >/dev/null || {
	echo "check.sh: jq is missing (apt-get install jq)" >&2
	exit 2
}

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh" # pass, fail (T_FAILED counts them)
# shellcheck disable=SC2034 # read by pass and fail (tests/lib.sh)
T_PREFIX=$name/

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ct-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# the serial console adds \r; keep only the marked block if there is one
tr -d '\r' <"$file" >"$tmp/all"
if grep -q '^===CT-TEST-BEGIN===$' "$tmp/all"; then
	sed -n '/^===CT-TEST-BEGIN===$/,/^===CT-TEST-END/{//!p}' "$tmp/all" >"$tmp/block"
else
	cp "$tmp/all" "$tmp/block"
fi

# section NAME: the lines after "### NAME" up to the next "### " line
section() {
	awk -v s="### $1" '$0 == s { on = 1; next } /^### / { on = 0 } on' "$tmp/block"
}
# one line, shortened, for a reason
brief() {
	local s
	s=$(tr "\n" " " | sed "s/  */ /g; s/ $//" | cut -c1-300)
	echo "${s:-<empty>}"
}

# --- did the guest test run to its end ------------------------------------
if ! grep -q '^### end$' "$tmp/block"; then
	last=$(grep -v '^$' "$tmp/block" | tail -n 3 | brief)
	fail complete "the guest test did not finish (no '### end' line); last output: ${last:-<none>}"
	exit 1
fi
pass complete

# --- kernel -----------------------------------------------------------------
rel=$(section uname | head -n1)
if [ -n "${EXPECT_RELEASE:-}" ]; then
	if [ "$rel" = "$EXPECT_RELEASE" ]; then pass "kernel ($rel)"; else fail kernel "uname -r is '$rel', expected '$EXPECT_RELEASE'"; fi
fi

# --- the programs' exit codes -------------------------------------------------
section loadgen >"$tmp/loadgen"
bad=$(grep -v ' rc=0 ' "$tmp/loadgen" || true)
n=$(grep -c ' rc=0 ' "$tmp/loadgen" || true)
if [ -z "$bad" ] && [ "$n" = 10 ]; then
	pass loadgen
else
	fail loadgen "expected 10 loadgen runs with rc=0, got $n; others: $(echo "$bad" | brief)"
fi

ctrc=$(section connecttop | sed -n 's/^rc=//p')
if [ "$ctrc" = 0 ]; then
	pass connecttop-exit
else
	fail connecttop-exit "connecttop -v --unix -b -o json -d 1 -n 5 exited ${ctrc:-?}; stderr: $(section stderr | brief)"
fi

prc=$(section probe | sed -n 's/^rc=//p' | tail -n1)
probe_out=$(section probe | sed '$d')
if [ "$prc" = 0 ] && [ -n "$probe_out" ]; then
	pass probe
else
	fail probe "connecttop --probe exited ${prc:-?}; output: $(echo "$probe_out" | brief)"
fi
# the capture path connecttop took (-v: "attached (MODE) in N ms"): task
# storage and tp_btf from 5.11 on, else the tid hash and raw_tp; the syscall
# tracepoints through tracefs (it mounts tracefs itself in the guest). The
# captures below ran on whichever it is; --probe must name the same one.
kv=$(echo "$rel" | awk -F. '{ print $1 * 1000 + $2 }')
if [ "${kv:-0}" -ge 5015 ]; then
	# no entry programs: the exits read the arguments (bpf_task_pt_regs)
	want_mode="tracepoint, task storage, args at exit" want_states=tp_btf
elif [ "${kv:-0}" -ge 5011 ]; then
	want_mode="tracepoint, task storage" want_states=tp_btf
else
	want_mode="tracepoint, tid hash" want_states=raw_tp
fi
mode=$(section stderr | sed -n 's/^connecttop: attached (\(.*\)) in [0-9.]* ms$/\1/p')
if [ "$mode" = "$want_mode" ]; then
	pass "capture-mode ($mode)"
else
	fail capture-mode "connecttop -v says 'attached (${mode:-<no attached line>})' on $rel, expected '$want_mode'"
fi
ppath=$(echo "$probe_out" | sed -n 's/^capture path: *\(.*\) (as -v prints it when attached)$/\1/p')
if [ "$ppath" = "$want_mode" ] && [ "$ppath" = "$mode" ]; then
	pass "probe-path ($ppath)"
else
	fail probe-path "--probe says capture path '${ppath:-<none>}', connecttop attached with '${mode:-?}', expected '$want_mode' on $rel"
fi
states=$(echo "$probe_out" | sed -n 's/^socket states: *\([a-z_]*\) .*/\1/p')
unknown=$(echo "$probe_out" | grep -c 'unknown' || true)
if [ "$states" = "$want_states" ] && [ "$unknown" = 0 ]; then
	pass "probe-states ($states)"
else
	fail probe-states "--probe says socket states '${states:-<none>}' (expected $want_states) with $unknown 'unknown' line(s) as root"
fi
# the error reports: inet_sk_error_report from 5.14 (sock.h), else none
if [ "${kv:-0}" -ge 5014 ]; then want_err="SO_ERROR reads, raw_tp inet_sk_error_report"; else want_err="SO_ERROR reads, sk_err_soft"; fi
perr=$(echo "$probe_out" | sed -n 's/^socket errors: *\(.*\) (.*)$/\1/p')
if [ "$perr" = "$want_err" ]; then
	pass "probe-errors ($perr)"
else
	fail probe-errors "--probe says socket errors '${perr:-<none>}', expected '$want_err' on $rel"
fi
# SYN retransmits: tcp:tcp_retransmit_skb on every kernel of the matrix,
# (sk, skb) up to 6.12, (sk, skb, err) on 6.18
psynrt=$(echo "$probe_out" | sed -n 's/^SYN retransmits: *\(raw_tp tcp_retransmit_skb\) .*/\1/p')
if [ -n "$psynrt" ]; then
	pass "probe-synrt ($psynrt)"
else
	fail probe-synrt "--probe says '$(echo "$probe_out" | grep '^SYN retransmits' | brief)', expected raw_tp tcp_retransmit_skb on $rel"
fi

# DNS answers: the capture (one ETH_P_ALL socket receiving only:
# PACKET_IGNORE_OUTGOING, 4.20; a TPACKET_V2 ring; a filter on
# SKF_AD_PROTOCOL) sees its own test answer over loopback on every kernel
pdns=$(echo "$probe_out" | sed -n 's/^DNS answers captured: *//p')
case $pdns in
yes*) pass probe-dns ;;
*) fail probe-dns "--probe says DNS answers captured: '${pdns:-<no line>}' on $rel" ;;
esac

# --version -v: the version line, then the same features as --probe
vrc=$(section version | sed -n 's/^rc=//p' | tail -n1)
section version | sed '$d' >"$tmp/version"
echo "$probe_out" >"$tmp/probe"
if [ "$vrc" = 0 ] && head -n1 "$tmp/version" | grep -q '^connecttop [0-9][0-9.]* (BPF event schema [0-9]* bytes, JSON schema [0-9]*)$' &&
	diff <(sed 1d "$tmp/version") "$tmp/probe" >/dev/null; then
	pass version-verbose
else
	fail version-verbose "connecttop --version -v exited ${vrc:-?}, or its output is not the version line plus --probe's: $(brief <"$tmp/version")"
fi

# --- the raw syscall fallback (--raw-syscalls) ------------------------------
# the arch's syscall numbers and registers in raw_tp sys_enter/sys_exit:
# its own run, with the socket-state path of the kernel as above
section raw >"$tmp/raw"
rrc=$(sed -n 's/^rc=//p' "$tmp/raw" | head -n1)
rmode=$(sed -n 's/^connecttop: attached (\(.*\)) in [0-9.]* ms$/\1/p' "$tmp/raw")
want_raw="raw_tp (no tracefs), ${want_mode#tracepoint, }"
want_raw=${want_raw%, args at exit} # raw_tp sys_enter stays
if [ "$rrc" = 0 ] && [ "$rmode" = "$want_raw" ]; then
	pass "raw-mode ($rmode)"
else
	fail raw-mode "connecttop --raw-syscalls exited ${rrc:-?}, attached with '${rmode:-<no attached line>}', expected '$want_raw': $(grep -v '^[{]' "$tmp/raw" | brief)"
fi
n=$(grep -c '^vmr[a-z]* rc=0 ' "$tmp/raw" || true)
if [ "$n" = 3 ]; then pass raw-loadgen; else fail raw-loadgen "expected 3 loadgen runs with rc=0, got $n: $(grep '^vmr\|^guest' "$tmp/raw" | brief)"; fi
grep '^[{]' "$tmp/raw" >"$tmp/rawjson" || true
r=$(jq -rs '
	if length != 3 then "expected 3 JSON lines (-n 3), got \(length)"
	else
	  ([to_entries[] | select(.value.drops != 0) | "line \(.key + 1): drops=\(.value.drops)"]
	  + (.[-1] as $l
	     | [{"comm": "vmracc", "dport": 7011, "count": 20, "results": {"ok": 20}, "errors": {}},
		{"comm": "vmrref", "dport": 7012, "count": 10, "results": {"refused": 10}, "errors": {"ECONNREFUSED": 10}},
		{"comm": "vmrnb", "dport": 7013, "count": 10, "results": {"refused": 10}, "errors": {"ECONNREFUSED": 10}}]
	     | map(. as $e | [$l.rows[] | select(.comm == $e.comm)] as $rows
		| ($rows[0] // {}) as $r
		| if ($rows | length) != 1 then "\($e.comm): \($rows | length) rows, expected 1"
		  elif [$r.count, $r.dport, $r.daddr, $r.proto, $r.family, $r.results, $r.errors]
		       != [$e.count, $e.dport, "127.0.0.1", "tcp", "ipv4",
			   ({"ok": 0, "refused": 0, "timeout": 0, "unreachable": 0, "pending": 0, "other": 0, "abandoned": 0} + $e.results), $e.errors]
		  then "\($e.comm): count \($r.count) \($r.daddr):\($r.dport) \($r.proto) results \($r.results | tojson) errors \($r.errors | tojson)"
		  else empty end)))
	  | join("; ") end' "$tmp/rawjson" 2>&1) || r="jq could not read the JSON lines: $(echo "$r" | brief)"
if [ -z "$r" ]; then pass raw-rows; else fail raw-rows "$r"; fi
# --- the JSON lines -----------------------------------------------------------
section json | grep -v '^$' >"$tmp/json" || true
nl=$(wc -l <"$tmp/json")
i=0 badjson=""
while IFS= read -r line; do
	i=$((i + 1))
	if ! printf '%s\n' "$line" | jq -e 'type == "object"' >/dev/null 2>&1; then
		badjson="line $i is not a JSON object: $(printf '%s' "$line" | cut -c1-120)"
		break
	fi
done <"$tmp/json"
if [ "$nl" = 0 ]; then
	fail json "connecttop printed no JSON line; stderr: $(section stderr | brief)"
	echo "$name: $T_FAILED check(s) failed" >&2
	exit 1
elif [ -n "$badjson" ]; then
	fail json "$badjson"
	echo "$name: $T_FAILED check(s) failed" >&2
	exit 1
elif [ "$nl" != 5 ]; then
	fail json "expected 5 JSON lines (-n 5), got $nl"
else
	pass json
fi

# every line: the top-level keys, drops == 0
r=$(jq -rs '
	["version","time","interval_s","group","events","drops","evicted","flows","rows"] as $keys
	| [to_entries[] | .key as $i | .value as $o
	   | ($keys - ($o | keys)) as $miss
	   | select(($miss | length) > 0 or ($o.rows | type) != "array")
	   | "line \($i + 1): missing \($miss | join(",")) \(if ($o.rows | type) != "array" then "rows is not an array" else "" end)"]
	| join("; ")' "$tmp/json")
if [ -z "$r" ]; then pass top-level-keys; else fail top-level-keys "$r"; fi

r=$(jq -rs '[to_entries[] | select(.value.drops != 0) | "line \(.key + 1): drops=\(.value.drops)"] | join("; ")' "$tmp/json")
if [ -z "$r" ]; then pass drops; else fail drops "$r"; fi

tail -n 1 "$tmp/json" >"$tmp/last"

# every row of the last line: the contract's keys
r=$(jq -r '
	["comm","pid","pids","uid","daddr","dport","proto","family","count","interval_count","rate",
	 "results","errors","lat_p50_us","lat_p99_us","lat_max_us","first_seen","last_seen"] as $keys
	| ["ok","refused","timeout","unreachable","pending","other"] as $res
	| [.rows[] | . as $r
	   | (($keys - keys) + ($res - (.results // {} | keys) | map("results." + .))) as $miss
	   | select(($miss | length) > 0)
	   | "row comm=\($r.comm // "?") daddr=\($r.daddr // "?"):\($r.dport // "?") lacks \($miss | join(","))"]
	| .[:3] | join("; ")' "$tmp/last")
if [ -z "$r" ]; then pass row-keys; else fail row-keys "$r"; fi

# per-comm expectations, on the LAST line (counts are since start): one
# row per load, its results and errors objects compared whole
workdir=$(section connecttop | sed -n 's/^workdir=//p')
cat >"$tmp/expect.json" <<'EOF'
[
 {"comm": "vmacc", "count": 50, "proto": "tcp", "family": "ipv4", "daddr": "127.0.0.1", "dport": 7001,
  "results": {"ok": 50}, "errors": {}},
 {"comm": "vmref", "count": 40, "proto": "tcp", "family": "ipv4", "daddr": "127.0.0.1", "dport": 7002,
  "results": {"refused": 40}, "errors": {"ECONNREFUSED": 40}},
 {"comm": "vmnb", "count": 30, "proto": "tcp", "family": "ipv4", "daddr": "127.0.0.1", "dport": 7003,
  "results": {"ok": 30}, "errors": {}},
 {"comm": "vmudp", "count": 20, "proto": "udp", "family": "ipv4", "daddr": "127.0.0.1", "dport": 7004,
  "results": {"ok": 20}, "errors": {}},
 {"comm": "vmv6", "count": 10, "proto": "tcp", "family": "ipv6", "daddr": "::1", "dport": 7005,
  "results": {"refused": 10}, "errors": {"ECONNREFUSED": 10}},
 {"comm": "vmuacc", "count": 12, "proto": "u_str", "family": "unix", "daddr": "WORKDIR/ct-uacc.sock", "dport": 0,
  "results": {"ok": 12}, "errors": {}},
 {"comm": "vmuref", "count": 8, "proto": "u_str", "family": "unix", "daddr": "@ct-uref", "dport": 0,
  "results": {"refused": 8}, "errors": {"ECONNREFUSED": 8}},
 {"comm": "vmudg", "count": 6, "proto": "u_dgr", "family": "unix", "daddr": "WORKDIR/ct-udg.sock", "dport": 0,
  "results": {"ok": 6}, "errors": {}},
 {"comm": "vmuabs", "count": 4, "proto": "u_str", "family": "unix", "daddr": "WORKDIR/ct-uabs.sock", "dport": 0,
  "results": {"other": 4}, "errors": {"ENOENT": 4}}
]
EOF
# every outcome the JSON has, zero unless named above
jq -r --slurpfile exp "$tmp/expect.json" --arg w "$workdir" '
	. as $line
	| ($exp[0] | map(.daddr |= sub("^WORKDIR"; $w))
	   | map(.results = ({"ok": 0, "refused": 0, "timeout": 0, "unreachable": 0, "pending": 0, "other": 0, "abandoned": 0} + .results)))
	  as $e_all
	| ([$line.rows[].comm] | unique) as $seen
	| ($e_all[] as $e
	   | [$line.rows[] | select(.comm == $e.comm)] as $rows
	   | ($rows | length) as $n
	   | if $n == 0 then
		"FAIL: \($e.comm): no row with comm \"\($e.comm)\" in the last JSON line (comms seen: \($seen | join(",")))"
	     elif $n > 1 then
		"FAIL: \($e.comm): \($n) rows, expected 1: \($rows | map({daddr, dport, proto, family, count}) | tostring)"
	     else
		$rows[0] as $r
		| [ ("count", "proto", "family", "daddr", "dport", "results", "errors") as $f
		    | if $r[$f] != $e[$f] then "\($f) is \($r[$f] | tojson), expected \($e[$f] | tojson)" else empty end,
		    (if $r.pids != 1 then "pids is \($r.pids | tojson), expected 1 (one loadgen process)" else empty end)
		  ] as $problems
		| if ($problems | length) == 0 then "PASS: \($e.comm)"
		  else "FAIL: \($e.comm): \($problems | join("; "))" end
	     end),
	  # rows of the load generator (our vm* names, or its own name when
	  # -c failed) that no load above made
	  ([$line.rows[] | select((.comm | test("^vm")) or .comm == "loadgen") | select(.comm != "vmdns")
	    | select(.comm as $c | $e_all | map(.comm) | index($c) | not)
	    | "\(.comm) \(.daddr):\(.dport) \(.proto) count=\(.count)"] as $extra
	   | if ($extra | length) == 0 then "PASS: no-unexpected-rows"
	     else "FAIL: no-unexpected-rows: \($extra | join("; "))" end)
	' "$tmp/last" >"$tmp/results" || {
	fail comms "jq could not evaluate the last JSON line: $(cut -c1-200 "$tmp/last")"
	: >"$tmp/results"
}
while IFS= read -r l; do
	case $l in
	"PASS: "*) pass "${l#PASS: }" ;;
	"FAIL: "*)
		rest=${l#FAIL: }
		fail "${rest%%: *}" "${rest#*: }"
		;;
	esac
done <"$tmp/results"

# SYN retransmits counted (none on loopback), absent for UDP: the program
# loaded and runs on this kernel
r=$(jq -c '[.rows[] | select(.comm == "vmacc" or .comm == "vmnb" or .comm == "vmudp")
	| {comm, syn_retrans}] | sort_by(.comm)' "$tmp/last")
want='[{"comm":"vmacc","syn_retrans":{"connects":0,"total":0,"hist":[50,0,0,0]}},{"comm":"vmnb","syn_retrans":{"connects":0,"total":0,"hist":[30,0,0,0]}},{"comm":"vmudp","syn_retrans":null}]'
if [ "$r" = "$want" ]; then pass syn-retrans; else fail syn-retrans "got $r, expected $want"; fi

# the name a process resolved: vmdns's query to 127.0.0.1:53 (one UDP
# connect, its local port in the event), the answer captured and credited
# to its pid, then its 5 refused connects to the address with that name,
# its own (not host-wide)
r=$(jq -c '[.rows[] | select(.comm == "vmdns") | {proto, dport, count, qname, qname_hostwide}]
	| sort_by(.dport)' "$tmp/last")
want='[{"proto":"udp","dport":53,"count":1,"qname":null,"qname_hostwide":null},{"proto":"tcp","dport":7021,"count":5,"qname":"vm.test","qname_hostwide":null}]'
if [ "$r" = "$want" ]; then pass qname; else fail qname "got $r, expected $want"; fi

[ "$T_FAILED" = 0 ] || {
	echo "$name: $T_FAILED check(s) failed" >&2
	exit 1
}
exit 0
