# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Shared helpers for the tests/vm scripts. Sourced, not run: tests/lib.sh
# (pass, fail, t_relay, t_finish, now_ms; REPO_ROOT) and the kernel matrix's
# own: die, note, need_cmd.

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$VM_DIR/../lib.sh"
CT_CACHE=${CT_CACHE:-$REPO_ROOT/.cache/vm}

# The kernel matrix: name and the suites its kernel is looked for in.
# The newest linux-image-cloud-amd64 (-arm64 for NAME-arm64) across those
# suites that the archive serves is taken.
VM_KERNELS=${VM_KERNELS:-"bullseye bookworm trixie"}

die() {
	echo "${0##*/}: error: $*" >&2
	exit 1
}

note() {
	echo "${0##*/}: $*" >&2
}

# Run apt-get install for missing commands (non-interactive). $1 = command to
# look for, the rest = packages that bring it.
need_cmd() {
	local cmd=$1
	shift
	command -v "$cmd" >/dev/null 2>&1 && return 0
	[ "$(id -u)" = 0 ] || die "'$cmd' is missing; install: apt-get install $*"
	note "installing $* (for $cmd)"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >"$CT_CACHE/apt-install.log" 2>&1; then
		# the package lists may be missing or stale: update once and retry
		DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$CT_CACHE/apt-install.log" 2>&1 || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >>"$CT_CACHE/apt-install.log" 2>&1 ||
			die "apt-get install $* failed; see $CT_CACHE/apt-install.log"
	fi
	command -v "$cmd" >/dev/null 2>&1 || die "installed $* but '$cmd' is still not found"
}
