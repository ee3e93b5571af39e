#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The kernel matrix (bullseye 5.10, bookworm 6.1, trixie 6.12, and the host
# kernel in a network namespace; the same three kernels for arm64) as part of
# `make test`: the very same static binary of each arch in each of its
# kernels. See tests/vm/README.md.
exec bash "$(dirname "$0")/run.sh" all
