#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The outcome real clients saw, in a private network namespace:
#  - ICMP errors (nftables "reject with icmpx"): node, an epoll client, is
#    told of the error, reads it with getsockopt(SO_ERROR) and closes the
#    socket itself; connecttop must show the error node reported
#    (EHOSTUNREACH, ENETUNREACH), not ECONNABORTED
#  - application timeouts on a port that drops SYNs: node (setTimeout,
#    destroy), python (settimeout, asyncio.wait_for) and the load generator
#    (closed 300 ms after EINPROGRESS) give up and close the socket while it
#    is in SYN_SENT: results.abandoned, no errno, "app timeout" in the
#    ERROR column with the wait; the kernel's own SYN timeout stays
#    ETIMEDOUT
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
need_bpf
need_tools ip nft jq node python3
ns_create || exit 1
P_HOST=81 P_NET=82 P_DROP=83
ns_nft "
table inet cttest {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport $P_HOST reject with icmpx type host-unreachable
		tcp dport $P_NET reject with icmpx type no-route
		tcp dport $P_DROP drop
	}
}" || exit 1
TAG=ac$(printf %04d $(($$ % 10000)))
OUT=$T_TMP/out.json ERR=$T_TMP/err TXT=$T_TMP/out.txt
ct_start "$TXT" "$ERR.table" -b -o table -d 0.5 -f "$TAG" || exit 1
CT_TABLE=$CT_PID
ct_start "$OUT" "$ERR" -b -o json -d 0.5 -f "$TAG" || exit 1
ct_stop_pid() { # PID: SIGINT, wait, its exit status
	kill -INT "$1"
	local rc=0
	wait "$1" || rc=$?
	return $rc
}

# node NAME N PORT TIMEOUT_MS: N connects, one after the other, printing
# each one's error code; TIMEOUT_MS > 0: destroyed after that long
# ("ABANDONED"). process.title sets the comm (prctl PR_SET_NAME).
node_run() { ns_exec node -e '
const [name, n, port, ms] = process.argv.slice(1);
process.title = name;
let left = Number(n);
const next = () => {
	if (!left--) return;
	const s = require("net").connect(Number(port), "127.0.0.1");
	const t = Number(ms) ? setTimeout(() => { console.log("ABANDONED"); s.destroy(); next(); }, Number(ms)) : null;
	s.on("error", (e) => { if (t) clearTimeout(t); console.log(e.code); next(); });
};
next();' "$@"; }
# py NAME MODE N PORT: N connects with a 0.4 s timeout of the application's
# (MODE settimeout: socket.settimeout; asyncio: asyncio.wait_for)
py_run() { ns_exec python3 -c '
import asyncio, ctypes, socket, sys
name, mode, n, port = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)
for _ in range(n):
	if mode == "settimeout":
		s = socket.socket()
		s.settimeout(0.4)
		try:
			s.connect(("127.0.0.1", port))
			print("CONNECTED")
		except socket.timeout:
			print("ABANDONED")
		s.close()
	else:
		async def one():
			try:
				await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 0.4)
				print("CONNECTED")
			except asyncio.TimeoutError:
				print("ABANDONED")
		asyncio.run(one())
' "$@"; }

check "node, host unreachable: what node saw" "EHOSTUNREACH EHOSTUNREACH EHOSTUNREACH" \
	"$(node_run "${TAG}nhost" 3 $P_HOST 0 | xargs)"
check "node, no route: what node saw" "ENETUNREACH ENETUNREACH" "$(node_run "${TAG}nnet" 2 $P_NET 0 | xargs)"
check "node, setTimeout 300 ms: what node did" "ABANDONED ABANDONED" "$(node_run "${TAG}nto" 2 $P_DROP 300 | xargs)"
check "python settimeout 0.4 s" "ABANDONED ABANDONED" "$(py_run "${TAG}pyto" settimeout 2 $P_DROP | xargs)"
check "python asyncio wait_for 0.4 s" "ABANDONED ABANDONED" "$(py_run "${TAG}pyaio" asyncio 2 $P_DROP | xargs)"
lgns -c "${TAG}lg" -T 4 -N -w 300 timeout 127.0.0.1 $P_DROP 40

# until every one is counted and none pending (at most 10 s)
settled() { last_json "$OUT" | jq --arg t "$TAG" '[.rows[] | select(.comm | startswith($t))] |
	(map(.count) | add // 0) == 51 and (map(.results.pending) | add // 0) == 0' 2>/dev/null; }
for _ in $(seq 1 50); do
	[ "$(settled)" = true ] && break
	sleep 0.2
done
rc=0
ct_stop || rc=$?
check "exit status 0 on SIGINT" 0 "$rc"
row() { last_json "$OUT" | jq -c --arg c "$TAG$1" '[.rows[] | select(.comm == $c)] |
	{count: (map(.count) | add), results: (map(.results | with_entries(select(.value > 0))) | add),
	 errors: (map(.errors) | add)}'; }
check "node, host unreachable" '{"count":3,"results":{"unreachable":3},"errors":{"EHOSTUNREACH":3}}' "$(row nhost)"
check "node, no route" '{"count":2,"results":{"unreachable":2},"errors":{"ENETUNREACH":2}}' "$(row nnet)"
check "node setTimeout: abandoned, no errno" '{"count":2,"results":{"abandoned":2},"errors":{}}' "$(row nto)"
check "python settimeout: abandoned, no errno" '{"count":2,"results":{"abandoned":2},"errors":{}}' "$(row pyto)"
check "python asyncio: abandoned, no errno" '{"count":2,"results":{"abandoned":2},"errors":{}}' "$(row pyaio)"
check "loadgen, closed 300 ms after EINPROGRESS: abandoned" '{"count":40,"results":{"abandoned":40},"errors":{}}' "$(row lg)"
check "drops == 0" 0 "$(jq -s 'map(.drops) | max' "$OUT")"

# the ERROR column (table output): the application's timeout, the wait
# (the SYN_SENT to close time: 300 ms and a little)
rc=0
ct_stop_pid "$CT_TABLE" || rc=$?
check "table run: exit status 0 on SIGINT" 0 "$rc"
line=$(awk -v c="${TAG}nto" '$1 == c { l = $0 } END { print l }' "$TXT")
case $line in *" app timeout 3"??"ms "*) pass "table: node's ERROR column 'app timeout 3xxms'" ;;
*) fail "table: node's ERROR column 'app timeout 3xxms'" "row: '$line'" ;; esac
