#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check.sh judges rightly: a recorded guest run on bullseye (5.10) passes
# as it is, and each wrong count, outcome, error, extra or doubled row,
# capture path (the raw syscall run's too) or broken output in a copy of it
# is a named FAIL.
set -u
VM=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$VM/lib.sh" # pass, fail (T_FAILED counts them), t_init
t_init ct-checktest
t=$T_TMP
# shellcheck disable=SC2034 # read by pass and fail (tests/lib.sh)
T_PREFIX=check/
FIX=$VM/fixtures/bullseye-5.10.out
REL=5.10.0-46-cloud-amd64

run_check() { # FILE: check.sh's output in $t/out, its status in $rc
	rc=0
	EXPECT_RELEASE=$REL bash "$VM/check.sh" fx "$1" >"$t/out" 2>"$t/err" || rc=$?
}

run_check "$FIX"
if [ "$rc" = 0 ] && ! grep -q '^FAIL' "$t/out" && [ "$(grep -c '^PASS' "$t/out")" = 31 ]; then
	pass "recorded-run ($(grep -c '^PASS' "$t/out") checks)"
else
	fail recorded-run "rc=$rc, $(grep '^FAIL' "$t/out" | head -n 3 | tr '\n' ' ')"
fi

# mutate NAME EXPECTED_FAIL HOW: HOW is "jq:FILTER" (applied to the last
# JSON line) or a sed script (on the whole file); check.sh must then report
# EXPECTED_FAIL and exit 1
mutate() {
	local name=$1 want=$2 how=$3 n
	case $how in
	jq:*)
		n=$(awk '/^### json$/ { on = 1; next } /^### end$/ { on = 0 } on && /^\{/ { last = NR } END { print last }' "$FIX")
		{
			head -n $((n - 1)) "$FIX"
			sed -n "${n}p" "$FIX" | jq -c "${how#jq:}"
			tail -n +$((n + 1)) "$FIX"
		} >"$t/m.out"
		;;
	*) sed "$how" "$FIX" >"$t/m.out" ;;
	esac
	if cmp -s "$FIX" "$t/m.out"; then
		fail "$name" "the mutation changed nothing (fixture out of date?)"
		return
	fi
	run_check "$t/m.out"
	if [ "$rc" = 1 ] && grep -q "^FAIL: fx/$want" "$t/out"; then
		pass "$name"
	else
		fail "$name" "expected 'FAIL: fx/$want' and status 1, got status $rc: $(grep '^FAIL' "$t/out" | head -n 3 | tr '\n' ' ')"
	fi
}
row() { echo ".rows |= map(if .comm == \"$1\" then $2 else . end)"; }

mutate count vmuacc "jq:$(row vmuacc '.count -= 1')"
mutate outcome vmref "jq:$(row vmref '.results.refused -= 1 | .results.other += 1')"
mutate error vmuabs "jq:$(row vmuabs '.errors = {"EACCES": 4}')"
mutate extra-error vmacc "jq:$(row vmacc '.errors.EINTR = 0')"
mutate extra-result vmnb "jq:$(row vmnb '.results.lost = 0')"
mutate proto vmudg "jq:$(row vmudg '.proto = "u_str"')"
mutate daddr vmuref "jq:$(row vmuref '.daddr = "@ct-other"')"
mutate pids vmudp "jq:$(row vmudp '.pids = 2')"
mutate unexpected-row no-unexpected-rows 'jq:.rows += [.rows[0] | .comm = "vmzz"]'
mutate loadgen-row no-unexpected-rows 'jq:.rows += [.rows[0] | .comm = "loadgen"]'
mutate doubled-row vmv6 'jq:.rows += [.rows[] | select(.comm == "vmv6") | .dport = 7006]'
mutate missing-row vmuacc 'jq:.rows |= map(select(.comm != "vmuacc"))'
mutate drops drops 'jq:.drops = 3'
mutate capture-mode capture-mode 's/^connecttop: attached (tracepoint, tid hash)/connecttop: attached (tracepoint, task storage)/'
mutate probe-path probe-path '/^### probe$/,/^### version$/s/^capture path: *tracepoint, tid hash/capture path:            raw_tp (no tracefs), tid hash/'
mutate probe-states probe-states 's/^socket states: *raw_tp/socket states:           tp_btf/'
mutate probe-errors probe-errors '/^### probe$/,/^### version$/s/^socket errors: .*/socket errors:           SO_ERROR reads, raw_tp inet_sk_error_report (Linux 5.14+)/'
mutate qname qname "jq:$(row vmdns 'if .dport == 7021 then del(.qname) else . end')"
mutate qname-hostwide qname "jq:$(row vmdns 'if .dport == 7021 then .qname_hostwide = true else . end')"
mutate probe-dns probe-dns 's/^DNS answers captured: .*/DNS answers captured:    no: a test answer sent over loopback was not captured/'
mutate version version-verbose '/^### version$/,/^### json$/{/^per-thread stash/d}'
mutate loadgen-rc loadgen 's/^vmudg rc=0 /vmudg rc=1 /'
mutate raw-mode raw-mode 's/^connecttop: attached (raw_tp (no tracefs), tid hash)/connecttop: attached (tracepoint, tid hash)/'
mutate raw-loadgen raw-loadgen 's/^vmrref rc=0 /vmrref rc=1 /'
mutate raw-rows raw-rows '/^### raw$/,/^### json$/s/"comm":"vmracc"\(.*\)"pending":0/"comm":"vmracc"\1"pending":1/'
mutate raw-drops raw-rows '/^### raw$/,/^### json$/s/"drops":0/"drops":2/'
mutate broken-json json '/^### end$/i {"version":'
mutate unfinished complete '/^### end$/d'
mutate kernel kernel '2s/.*/5.10.0-99-cloud-amd64/'
[ "$T_FAILED" = 0 ]
