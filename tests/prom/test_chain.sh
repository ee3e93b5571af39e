#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# part of make test: installs Prometheus and node_exporter (Debian packages)
# if missing, then runs tests/prom/chain.sh (see it for what is checked)
set -u
d=$(dirname "$0")
bash "$d/setup.sh" || exit 1
exec bash "$d/chain.sh"
