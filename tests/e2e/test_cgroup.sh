#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# cgroup: filter terms in batch mode, with short-lived processes (gone long
# before the interval ends) in cgroups made here: a systemd-like unit and a
# docker-like container scope, whose id is shown as docker:<12 hex>.
. "$(dirname "$0")/lib.sh"
need_bpf
TAG=cg$(printf %04d $(($$ % 10000)))
B=$(port_base)
UNIT=ct-$TAG.service
ID=$(printf %s "$TAG$$" | sha256sum | cut -c1-64)
SCOPE=docker-$ID.scope
ID2=$(printf %s "$TAG$$ 2" | sha256sum | cut -c1-64)
CGFS=ctdocker$TAG/$ID2 # docker's cgroupfs driver: /docker/<64 hex>
cg_make "$UNIT" && cg_make "$SCOPE" && cg_make "ctdocker$TAG" && cg_make "$CGFS" || exit 1
ct_start "$T_TMP/unit.json" "$T_TMP/unit.err" -b -o json -d 0.5 -f "cgroup:$UNIT" || exit 1
P1=$CT_PID
ct_start "$T_TMP/dock.json" "$T_TMP/dock.err" -b -o json -d 0.5 -f "cgroup:docker:${ID:0:12}" || exit 1
P2=$CT_PID
ct_start "$T_TMP/not.json" "$T_TMP/not.err" -b -o json -d 0.5 -f "$TAG !cgroup:$UNIT" || exit 1
P3=$CT_PID
ct_start "$T_TMP/cgfs.json" "$T_TMP/cgfs.err" -b -o json -d 0.5 -f "cgroup:ctdocker$TAG:${ID2:0:12}" || exit 1
P4=$CT_PID

cg_run "$UNIT" "$LOADGEN" -q -c "${TAG}in" refuse 127.0.0.1 $((B + 1)) 6 || fail "loadgen in $UNIT" "failed"
cg_run "$SCOPE" "$LOADGEN" -q -c "${TAG}dk" -P 2 refuse 127.0.0.1 $((B + 2)) 3 || fail "loadgen in $SCOPE" "failed"
cg_run "$CGFS" "$LOADGEN" -q -c "${TAG}fs" refuse 127.0.0.1 $((B + 4)) 2 || fail "loadgen in $CGFS" "failed"
lg -c "${TAG}out" refuse 127.0.0.1 $((B + 3)) 4
sleep 1.2
for p in $P1 $P2 $P3 $P4; do kill -INT "$p"; wait "$p" || fail "exit status of $p" "not 0"; done

rows() { last_json "$1" | jq -r --arg t "$TAG" '[.rows[] | select(.comm | startswith($t)) | "\(.comm)=\(.count)"] | sort | join(" ")'; }
check "cgroup:$UNIT: only the process in it (gone since)" "${TAG}in=6" "$(rows "$T_TMP/unit.json")"
check "cgroup:docker:<id>: only the container's processes" "${TAG}dk=6" "$(rows "$T_TMP/dock.json")"
check "!cgroup:$UNIT: the processes outside it" "${TAG}dk=6 ${TAG}fs=2 ${TAG}out=4" "$(rows "$T_TMP/not.json")"
check "cgroup:<parent>:<id> (docker's cgroupfs layout)" "${TAG}fs=2" "$(rows "$T_TMP/cgfs.json")"
