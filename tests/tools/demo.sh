#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The main job on loopback: build gwmo, start gwmod on a private D-Bus bus with a fresh state
# directory, load a factory bootstrap (a DM Server account), and drive it with gwmoctl.
# Everything it starts is stopped at the end; nothing outside a temporary directory is touched
# (apart from apt-get installing the build dependencies when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

if [ "${GWMO_SKIP_DEPS:-0}" != 1 ]; then
  say "Installing build dependencies (Debian packages)"
  bash tests/tools/install-deps.sh
fi

say "Building gwmo (meson + ninja) in _build-demo"
[ -d _build-demo ] || meson setup _build-demo -Dtests=false >/dev/null
ninja -C _build-demo >/dev/null
GWMOD=$ROOT/_build-demo/core/gwmod
GWMOCTL=$ROOT/_build-demo/core/cli/gwmoctl

RUN=$(mktemp -d /tmp/gwmo-demo.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$RUN"
}
trap cleanup EXIT

say "Starting a private D-Bus bus"
dbus-daemon --session --nofork --print-address=3 3>"$RUN/bus.addr" &
PIDS+=($!)
for _ in $(seq 50); do [ -s "$RUN/bus.addr" ] && break; sleep 0.1; done
export DBUS_SESSION_BUS_ADDRESS=$(head -1 "$RUN/bus.addr")
echo "bus: $DBUS_SESSION_BUS_ADDRESS"

cat > "$RUN/gwmod.conf" <<CONF
[northbound]
listen=
[device]
dev-id=GW-DEMO-0001
manufacturer=gwmo demo
CONF

say "Starting gwmod with a factory bootstrap (tests/data/demo/bootstrap.xml)"
"$GWMOD" --session --config "$RUN/gwmod.conf" --state-dir "$RUN/state" \
  --bootstrap tests/data/demo/bootstrap.xml --verbose 2>"$RUN/gwmod.log" &
GWPID=$!
PIDS=("$GWPID" "${PIDS[@]}")
for _ in $(seq 100); do "$GWMOCTL" --session status >/dev/null 2>&1 && break; sleep 0.1; done
sed 's/^/  gwmod: /' "$RUN/gwmod.log"

say "gwmoctl status"
"$GWMOCTL" --session status

say "The gateway's DM tree (gwmoctl tree): DevInfo, DevDetail, DMAcc, the GwMO MOs"
"$GWMOCTL" --session tree

say "Reading single nodes"
echo "./DevInfo/DevId           = $("$GWMOCTL" --session get ./DevInfo/DevId)"
echo "./DMAcc/srv1/ServerID     = $("$GWMOCTL" --session get ./DMAcc/srv1/ServerID)"
echo "./GwMO/Config/Mode        = $("$GWMOCTL" --session get ./GwMO/Config/Mode)"
echo -n "the DM Server's secret    : "
"$GWMOCTL" --session get ./DMAcc/srv1/AppAuth/1/AAuthSecret 2>&1 || true

say "Changing the default mode to Transparent (1) and restarting gwmod"
"$GWMOCTL" --session set ./GwMO/Config/Mode 1 --format int
kill -TERM "$GWPID"; wait "$GWPID" || true
"$GWMOD" --session --config "$RUN/gwmod.conf" --state-dir "$RUN/state" 2>>"$RUN/gwmod.log" &
GWPID=$!
PIDS[0]=$GWPID
for _ in $(seq 100); do "$GWMOCTL" --session status >/dev/null 2>&1 && break; sleep 0.1; done
echo "after restart ./GwMO/Config/Mode = $("$GWMOCTL" --session get ./GwMO/Config/Mode)"

say "Bad input is refused with a clear error, and the daemon keeps running"
"$GWMOCTL" --session get './DevInfo//DevId' || true
"$GWMOCTL" --session set ./DevInfo/DevId evil || true
"$GWMOCTL" --session --json get ./DevInfo/Man

say "Done: the state file was $RUN/state/tree.state (removed with the demo directory)"
