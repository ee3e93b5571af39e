#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The archive URIs fetch-kernels.sh takes from apt sources (fixtures in a
# temporary folder, read through CT_APT_ETC): deb822 and one-line formats,
# third-party repositories listed first, no security entry, none at all.
set -u
VM=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$VM/lib.sh" # pass, fail (T_FAILED counts them), t_init
t_init ct-mirrors
t=$T_TMP
# shellcheck disable=SC2034 # read by pass and fail (tests/lib.sh)
T_PREFIX=mirrors/

# case NAME EXPECTED_MIRROR EXPECTED_SECURITY: run on $t/NAME
case_ok() {
	local name=$1 want_m=$2 want_s=$3 out
	out=$(CT_APT_ETC=$t/$1 CT_CACHE=$t/cache CT_DEBIAN_MIRROR='' CT_DEBIAN_SECURITY_MIRROR='' \
		bash "$VM/fetch-kernels.sh" --mirrors 2>"$t/$1.err")
	if [ "$out" = "mirror=$want_m
security=$want_s" ]; then
		pass "$name"
	else
		fail "$name" "got '$(echo "$out" | tr '\n' ' ')' ($(head -c 200 "$t/$1.err")), expected mirror=$want_m security=$want_s"
	fi
}
src() { # NAME FILE: stdin into $t/NAME/FILE
	mkdir -p "$t/$1/sources.list.d"
	cat >"$t/$1/$2"
}

# a third-party repository whose file sorts first, deb822 for Debian
src thirdparty sources.list.d/aaa-vendor.list <<'S'
deb [arch=amd64 signed-by=/usr/share/keyrings/vendor.gpg] http://apt.vendor.example/repo nodistro main
deb https://apt.vendor.example/other stable-vendor main
S
src thirdparty sources.list.d/debian.sources <<'S'
# a comment
Types: deb deb-src
URIs: http://mirror.example.net/debian/
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://security.mirror.example.net/debian-security
Suites: bookworm-security
Components: main
S
case_ok thirdparty http://mirror.example.net/debian http://security.mirror.example.net/debian-security

# one-line format with options and comments; security first in the file
src oneline sources.list <<'S'
# deb http://commented.example/debian bookworm main
deb-src http://src.example/debian bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://sec.example/debian-security bookworm-security main
deb http://main.example/debian bookworm main contrib
S
case_ok oneline http://main.example/debian http://sec.example/debian-security

# no security entry: none is invented from the main URI
src nosec sources.list <<'S'
deb http://main.example/debian trixie main
S
case_ok nosec http://main.example/debian ""

# deb822: a disabled paragraph, a URI on a continuation line, only -updates
src deb822 sources.list.d/debian.sources <<'S'
Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Enabled: no

Types: deb
URIs:
 http://cont.example/debian
Suites: bookworm-updates
Components: main

Types: deb
URIs: http://old.example/debian-security
Suites: bullseye/updates
Components: main
S
case_ok deb822 http://cont.example/debian http://old.example/debian-security

# no Debian suite at all: an error that says what to set
src none sources.list <<'S'
deb http://archive.example/ubuntu jammy main
S
if CT_APT_ETC=$t/none CT_CACHE=$t/cache CT_DEBIAN_MIRROR='' bash "$VM/fetch-kernels.sh" --mirrors >/dev/null 2>"$t/none.err"; then
	fail none "succeeded with no Debian suite in the sources"
elif grep -q 'no Debian archive URI.*set CT_DEBIAN_MIRROR' "$t/none.err"; then
	pass none
else
	fail none "unclear message: $(head -c 200 "$t/none.err")"
fi

# the overrides win
out=$(CT_APT_ETC=$t/none CT_CACHE=$t/cache CT_DEBIAN_MIRROR=http://o.example/debian CT_DEBIAN_SECURITY_MIRROR=http://s.example/ds \
	bash "$VM/fetch-kernels.sh" --mirrors 2>/dev/null | tr '\n' ' ')
if [ "$out" = "mirror=http://o.example/debian security=http://s.example/ds " ]; then
	pass override
else
	fail override "got '$out'"
fi
[ "$T_FAILED" = 0 ]
