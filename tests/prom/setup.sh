#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/prom/setup.sh: install what the Prometheus exposition tests need, from
# Debian's packages, only where it is missing:
#   prometheus                (prometheus, promtool)
#   prometheus-node-exporter  (prometheus-node-exporter, textfile collector)
#   curl, jq                  (querying Prometheus' HTTP API on 127.0.0.1)
#   iproute2                  (ss: free ports, what listens where)
#
# The tests start their own instances on loopback ports, so the packages'
# services must never be started: while installing, a policy-rc.d that denies
# every service start is put in place (unless one is already there), and
# afterwards any daemon that a maintainer script still managed to start is
# stopped. No systemd is needed (CI has none running).
#
# Exits 0 when everything is installed and answers --version, 1 otherwise.
set -eu
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh" # pass, fail

PKGS_WANTED="prometheus prometheus-node-exporter curl jq iproute2"
POLICY=/usr/sbin/policy-rc.d
made_policy=0

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	if [ "$made_policy" = 1 ]; then
		rm -f "$POLICY"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" != 0 ]; then
	fail setup "must run as root (apt-get install)"
	exit 1
fi

pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing=""
for p in $PKGS_WANTED; do
	pkg_installed "$p" || missing="$missing $p"
done

# daemon_pids: pids running /usr/bin/prometheus or /usr/bin/prometheus-node-exporter
daemon_pids() {
	local d exe

	for d in /proc/[0-9]*; do
		exe=$(readlink "$d/exe" 2>/dev/null) || continue
		case "$exe" in
		/usr/bin/prometheus | /usr/bin/prometheus-node-exporter) echo "${d#/proc/}" ;;
		esac
	done
}

pids_before=" $(daemon_pids | tr '\n' ' ')"
if [ -n "$missing" ]; then
	echo "setup: installing:$missing"
	if [ ! -e "$POLICY" ]; then
		# invoke-rc.d asks this script before starting any service: 101 = "action forbidden"
		printf '#!/bin/sh\n# tests/prom/setup.sh: no service starts while installing\nexit 101\n' >"$POLICY"
		chmod 0755 "$POLICY"
		made_policy=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	# the package lists may be missing or stale on a new machine
	apt-get update -qq || echo "setup: warning: apt-get update failed, trying the install anyway" >&2
	# --no-install-recommends: prometheus-node-exporter recommends the
	# -collectors package (systemd timers, smartmontools, ...), not needed here
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $missing
fi

# Whatever a maintainer script of this install started anyway (a system
# where policy-rc.d is not consulted, or an init script that ignores it) is
# stopped, and on a host running systemd the services are disabled: the tests
# start their own instances, and daemons on the default ports 9090/9100 are
# not wanted. Only what this install brought is touched: daemons running
# before it, and services of packages that were already installed, are left
# alone.
if [ -n "$missing" ]; then
	for pid in $(daemon_pids); do
		case "$pids_before " in
		*" $pid "*) continue ;;
		esac
		echo "setup: stopping $(readlink "/proc/$pid/exe" 2>/dev/null) (pid $pid), started by the packages' install"
		kill "$pid" 2>/dev/null || true
	done
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
		for svc in $missing; do
			case "$svc" in
			prometheus | prometheus-node-exporter)
				systemctl stop "$svc" 2>/dev/null || true
				systemctl disable "$svc" 2>/dev/null || true
				echo "setup: systemd service $svc stopped and disabled"
				;;
			esac
		done
	fi
fi

rc=0
for p in $PKGS_WANTED; do
	if pkg_installed "$p"; then
		echo "setup: package $p $(dpkg-query -W -f='${Version}' "$p")"
	else
		fail setup "package $p is not installed"
		rc=1
	fi
done
for b in prometheus promtool prometheus-node-exporter curl jq; do
	if ! command -v "$b" >/dev/null; then
		fail setup "$b not found in PATH"
		rc=1
		continue
	fi
	case "$b" in
	curl) v=$(curl --version 2>&1 | head -n1) ;;
	jq) v=$(jq --version 2>&1) ;;
	*) v=$("$b" --version 2>&1 | head -n1) ;;
	esac
	echo "setup: $b: $v"
done
if [ "$rc" = 0 ]; then
	pass setup
fi
exit "$rc"
