#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The man page renders without warnings and documents every option.
. "$(dirname "$0")/lib.sh"
MAN=$ROOT/man/connecttop.8
w=$(LC_ALL=C.UTF-8 groff -ww -man -Tutf8 "$MAN" 2>&1 >/dev/null)
check "groff -ww: no warnings" "" "$w"
l=$(mandoc -T lint -W warning "$MAN" 2>&1)
check "mandoc -T lint: no warnings" "" "$l"
text=$(LC_ALL=C.UTF-8 groff -man -Tutf8 "$MAN" 2>/dev/null | sed 's/.\x08//g')
missing=""
for o in $("$CONNECTTOP" --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
	grep -qF -- "$o" <<<"$text" || missing="$missing $o"
done
check "every option of --help is in the man page" "" "$missing"
missing=""
for k in Tab Space Enter Esc PgUp Home F10 F6 F4; do
	grep -qF -- "$k" <<<"$text" || missing="$missing $k"
done
check "the keys are in the man page" "" "$missing"
