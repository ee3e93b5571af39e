#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test_inflight.sh again the way kernels before 5.11 run (the tid hash stash,
# raw_tp with probe reads for the socket states), on this kernel
set -o pipefail
CT_INFLIGHT_ARGS=--no-task-storage bash "$(dirname "$0")/test_inflight.sh" | sed -u 's/^\(PASS\|FAIL\): /\1: no-task-storage: /'
