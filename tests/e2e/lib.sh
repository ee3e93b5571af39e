# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Helpers of the end-to-end tests (sourced): tests/lib.sh (checks, ct_start,
# lg, need_bpf, port_base, test cgroups, T_TMP and the exit trap) and what
# only these tests use: map_id, last_json, rowsum.
set -u
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
t_init ct-e2e

# the ids of this connecttop's own maps (other instances have maps of the same names)
map_id() { # NAME
	local fd id
	for fd in /proc/"$CT_PID"/fdinfo/*; do
		id=$(awk '/^map_id:/ { print $2 }' "$fd" 2>/dev/null)
		[ -n "$id" ] || continue
		[ "$(bpftool map show id "$id" -j 2>/dev/null | jq -r .name)" = "$1" ] && echo "$id" && return 0
	done
	return 1
}

# what connecttop -v wrote to stderr (files) beyond what it always writes:
# the attach line, libbpf's notes, and at exit how many reads of the ring
# buffer stopped on their budget and how many records were read during a
# snapshot with none refused (a busy host: nothing lost)
ct_stderr_extra() {
	cat "$@" | grep -v -e '^connecttop: attached' -e '^libbpf: ' \
		-e '^connecttop: [0-9]* reads of the ring buffer stopped on their budget$' \
		-e '^connecttop: [0-9]* records read while a snapshot was taken, at most [0-9]* at once, 0 refused$'
}

# --diff -o json's row of COMM's flow to PORT, as [change, before.completed,
# before.failures, since.completed, since.failures]: diff_row JSON COMM PORT
diff_row() {
	jq -c --arg c "$2" --argjson p "$3" '.rows[] | select(.comm == $c and .dport == $p) |
		[.change, .before.completed, .before.failures, .since.completed, .since.failures]' <<<"$1"
}

# jq on the last JSON line of a file
last_json() { tail -n 1 "$1"; }
# sum of a field over the rows of a comm in the last object: rowsum FILE COMM EXPR
rowsum() { last_json "$1" | jq -r --arg c "$2" "[.rows[] | select(.comm == \$c) | $3] | add // 0"; }
