#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Install the Debian packages named on the command line that are missing.
# Uses sudo when not root. Quiet when everything is there already.
# A package of another architecture (libbpf-dev:arm64, for make cross) has
# that architecture added to dpkg first.
set -eu
missing=""
for p in "$@"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
for p in $missing; do
	case $p in
	*:*)
		a=${p#*:}
		if ! { dpkg --print-architecture; dpkg --print-foreign-architectures; } | grep -qx "$a"; then
			echo "adding the dpkg architecture $a (for $p)"
			$SUDO dpkg --add-architecture "$a"
		fi
		;;
	esac
done
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
