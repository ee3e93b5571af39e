# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# A private network namespace for end-to-end tests that need traffic the
# host's loopback cannot give (SYNs that are dropped, handshakes that are
# slow). Sourced after lib.sh. Everything is confined to the namespace: its
# own loopback, its own nftables ruleset, its own sysctls; the host is not
# touched. connecttop, on the host, sees the connects made in it (BPF sees
# every network namespace).
#
#   ns_create          make ct-test-$$ (CT_NS) with lo up and
#                      net.ipv4.tcp_syn_retries=1 (a SYN that is never
#                      answered times out after ~3 s: sent at 0, again at 1 s,
#                      given up at 3 s); removed on exit, even on failure
#   ns_nft RULESET     load an nftables ruleset (nft -f syntax) in it
#   ns_exec CMD...     run a command in it
#   lgns ARGS...       the load generator in it (-x: its addresses are ours)

CT_NS=""

ns_cleanup() {
	[ -n "$CT_NS" ] || return 0
	# processes still inside keep the namespace alive: end them first
	local p
	for p in $(ip netns pids "$CT_NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	ip netns del "$CT_NS" 2>/dev/null
	CT_NS=""
}

# the exit trap (tests/lib.sh) ends T_PIDS (the test's background jobs too)
# before its hooks remove the namespace, so that none of them reports the end
# of its load generator as a failure
t_on_exit ns_cleanup

ns_create() {
	local name=ct-test-$$ err
	if ! err=$(ip netns add "$name" 2>&1); then
		fail "test network namespace" "ip netns add $name: $err"
		return 1
	fi
	CT_NS=$name
	if ! err=$({ ip -n "$CT_NS" link set lo up &&
		ip netns exec "$CT_NS" sysctl -qw net.ipv4.tcp_syn_retries=1; } 2>&1); then
		fail "test network namespace" "$err"
		return 1
	fi
}

ns_exec() { ip netns exec "$CT_NS" "$@"; }

ns_nft() {
	local err
	if ! err=$(ip netns exec "$CT_NS" nft -f - 2>&1 <<<"$1"); then
		fail "nftables ruleset in the test namespace" "$err"
		return 1
	fi
}

lgns() {
	ip netns exec "$CT_NS" "$LOADGEN" -q -x "$@" ||
		fail "loadgen $*" "loadgen saw connects end otherwise than asked"
}
