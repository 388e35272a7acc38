#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The main job on loopback: a management round trip between the reference DM Server
# (tests/peers/gwmo-test-server) and the real gwmod, over HTTPS on 127.0.0.1 with MD5
# authentication both ways. gwmod runs on a private D-Bus bus with a fresh state directory; it
# is bootstrapped to the server, the server reads the gateway's DevInfo and changes its tree in a
# client-initiated session (gwmoctl session start) and again after a Package #0 (server-initiated),
# a forged Package #0 is refused. Then three End Devices (two Proxy, one Transparent) register,
# the server hears of them (DeviceAttached), reads the inventory summary, reads a node of both
# Proxy devices through a Fanout job (flow Y) and wakes the Transparent device through the
# gateway (X-GwMO-Target, flow Z'). Everything it starts is stopped at the end; nothing outside
# a temporary directory is touched (apart from apt-get installing missing build dependencies).
# GWMO_DEMO_KEEP=1 keeps the directory (logs, records, state); GWMO_SKIP_DEPS=1 skips apt-get.
#
# Every step checks that it did what it prints: the demo exits non-zero at the first step that
# did not, says which step and what was expected, and keeps its directory for a look.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
STEP="setup"
FAILED=0
say() { STEP=$*; printf '\n\033[1m==> %s\033[0m\n' "$*"; }
fail() {
  FAILED=1
  printf '\n\033[1;31mdemo FAILED in step "%s": %s\033[0m\n' "$STEP" "$*" >&2
  exit 1
}
trap 'fail "a command failed (line $LINENO)"' ERR
# check DESCRIPTION FILE: a python check reading FILE from stdin's script; it exits non-zero
# with the reason on stderr when the step did not do what it printed
check() { local what=$1; shift; python3 - "$@" || fail "$what"; }
# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.1 s, fails the step at the end
wait_for() {
  local secs=$1 what=$2; shift 2
  for _ in $(seq $((secs * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "timed out after ${secs}s waiting for $what"
}

if [ "${GWMO_SKIP_DEPS:-0}" != 1 ]; then
  say "Installing build dependencies (Debian packages)"
  bash tests/tools/install-deps.sh
fi

say "Building gwmo (meson + ninja) in _build-demo"
if [ -d _build-demo ]; then meson configure _build-demo -Dtests=true >/dev/null; else meson setup _build-demo >/dev/null; fi
ninja -C _build-demo core/gwmod core/cli/gwmoctl tests/peers/gwmo-test-server tests/peers/gwmo-test-device >/dev/null
GWMOD=$ROOT/_build-demo/core/gwmod
GWMOCTL=$ROOT/_build-demo/core/cli/gwmoctl
SERVER=$ROOT/_build-demo/tests/peers/gwmo-test-server
DEVICE=$ROOT/_build-demo/tests/peers/gwmo-test-device

RUN=$(mktemp -d /tmp/gwmo-demo.XXXXXX)
PIDS=()
cleanup() {
  trap - ERR
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${GWMO_DEMO_KEEP:-0}" = 1 ] || [ "$FAILED" = 1 ]; then
    echo "kept $RUN (logs, records, state)"
  else
    rm -rf "$RUN"
  fi
}
trap cleanup EXIT
ctl() { "$GWMOCTL" --session "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

say "Starting a private D-Bus bus"
dbus-daemon --session --nofork --print-address=3 3>"$RUN/bus.addr" 2>/dev/null &
PIDS+=($!)
wait_for 5 "the bus address" test -s "$RUN/bus.addr"
export DBUS_SESSION_BUS_ADDRESS=$(head -1 "$RUN/bus.addr")
echo "bus: $DBUS_SESSION_BUS_ADDRESS"

PORT=$(free_port)
SOUTH_PORT=$(free_port)
DM_URL="https://127.0.0.1:$PORT/dm"
SERVER_ARGS=(--listen "https://127.0.0.1:$PORT" --cert "$RUN/server.crt" --key "$RUN/server.key"
             --server-id dm.example --server-secret srv-secret --client-name gw-demo
             --client-secret cl-secret --auth md5)

# the server's scripts: the client-initiated session, then the one after a Package #0
cat > "$RUN/script.json" <<JSON
{"sessions": [
  {"commands": [
    {"cmd": "Get", "uri": "./DevInfo?list=StructData"},
    {"cmd": "Get", "uri": "./GwMO/Config/Mode"},
    {"cmd": "Add", "uri": "./GwMO/Config/Ext/dm/Greeting", "format": "chr", "data": "hello from the DM Server"},
    {"cmd": "Replace", "uri": "./GwMO/Config/Mode", "format": "int", "data": "1"},
    {"cmd": "Atomic", "commands": [
      {"cmd": "Add", "uri": "./GwMO/Config/Ext/dm/A", "format": "chr", "data": "1"},
      {"cmd": "Add", "uri": "./GwMO/Config/Ext/dm/Greeting", "format": "chr", "data": "duplicate"}]},
    {"cmd": "Replace", "uri": "./DevInfo/DevId", "format": "chr", "data": "not allowed"}]}
]}
JSON
cat > "$RUN/script2.json" <<JSON
{"sessions": [
  {"commands": [
    {"cmd": "Get", "uri": "./GwMO/Config/Ext/dm/Greeting"},
    {"cmd": "Delete", "uri": "./GwMO/Config/Ext/dm/Greeting"}]}
]}
JSON

say "Starting the reference DM Server (dm.example) on $DM_URL"
"$SERVER" "${SERVER_ARGS[@]}" --script "$RUN/script.json" --record "$RUN/record1.json" \
  --sessions 1 --ready-file "$RUN/ready1" 2>"$RUN/server1.log" >/dev/null &
SRV=$!
PIDS+=($SRV)
wait_for 10 "the DM Server to listen" test -s "$RUN/ready1"
echo "server certificate: $RUN/server.crt (gwmod trusts it through [northbound] ca-file)"

# the factory bootstrap: gwmod's account at dm.example (DMAcc) and a subtree the server may manage;
# the secrets carry no AccessType: the DMAcc DDF (AAuthSecret is No-Get) is the gateway's to apply
cat > "$RUN/bootstrap.xml" <<XML
<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
 <Node><NodeName>dm</NodeName><Path>./DMAcc</Path>
  <RTProperties><ACL>Get=dm.example</ACL><Format><node/></Format></RTProperties>
  <Node><NodeName>AppID</NodeName><Value>w7</Value></Node>
  <Node><NodeName>ServerID</NodeName><Value>dm.example</Value></Node>
  <Node><NodeName>AppAddr</NodeName><Node><NodeName>1</NodeName>
   <Node><NodeName>Addr</NodeName><Value>$DM_URL</Value></Node>
   <Node><NodeName>AddrType</NodeName><Value>URI</Value></Node></Node></Node>
  <Node><NodeName>AppAuth</NodeName>
   <Node><NodeName>1</NodeName>
    <Node><NodeName>AAuthLevel</NodeName><Value>CLCRED</Value></Node>
    <Node><NodeName>AAuthType</NodeName><Value>DIGEST</Value></Node>
    <Node><NodeName>AAuthName</NodeName><Value>gw-demo</Value></Node>
    <Node><NodeName>AAuthSecret</NodeName><Value>cl-secret</Value></Node></Node>
   <Node><NodeName>2</NodeName>
    <Node><NodeName>AAuthLevel</NodeName><Value>SRVCRED</Value></Node>
    <Node><NodeName>AAuthType</NodeName><Value>DIGEST</Value></Node>
    <Node><NodeName>AAuthName</NodeName><Value>dm.example</Value></Node>
    <Node><NodeName>AAuthSecret</NodeName><Value>srv-secret</Value></Node></Node>
  </Node></Node>
 <Node><NodeName>dm</NodeName><Path>./GwMO/Config/Ext</Path>
  <RTProperties><ACL>Add=dm.example&amp;Delete=dm.example&amp;Get=dm.example&amp;Replace=dm.example</ACL><Format><node/></Format></RTProperties></Node>
 <Node><NodeName>Mode</NodeName><Path>./GwMO/Config</Path>
  <RTProperties><ACL>Get=*&amp;Replace=dm.example</ACL><Format><int/></Format></RTProperties><Value>2</Value></Node>
</MgmtTree>
XML

cat > "$RUN/gwmod.conf" <<CONF
[device]
dev-id=GW-DEMO-0001
manufacturer=gwmo demo
[northbound]
listen=https://127.0.0.1:0
ca-file=$RUN/server.crt
[southbound]
listen=https://127.0.0.1:$SOUTH_PORT
# the demo stays on loopback: nothing announced on this machine's LAN over mDNS
[discovery]
enabled=false
CONF

say "Starting gwmod with the factory bootstrap (DMAcc for dm.example)"
"$GWMOD" --session --config "$RUN/gwmod.conf" --state-dir "$RUN/state" \
  --bootstrap "$RUN/bootstrap.xml" --verbose 2>"$RUN/gwmod.log" &
GWPID=$!
PIDS=("$GWPID" "${PIDS[@]}")
wait_for 10 "gwmod to own its bus name" ctl status
ctl status
echo
ctl tree ./DMAcc
if out=$(ctl get ./DMAcc/dm/AppAuth/1/AAuthSecret 2>&1); then
  fail "the gateway's secret was readable over D-Bus: $out"
fi
echo "gwmoctl get ./DMAcc/dm/AppAuth/1/AAuthSecret: $out"
if ctl tree ./DMAcc | grep -q -e cl-secret -e srv-secret; then
  fail "a secret value is printed by gwmoctl tree"
fi
echo "(neither secret value is in gwmoctl tree: the DMAcc DDF makes AAuthSecret No-Get)"

say "Client-initiated session: gwmoctl session start dm.example"
ctl session start dm.example
wait "$SRV" || fail "the DM Server did not finish its session cleanly"
echo "--- what the DM Server did (its log):"
sed -n 's/^.*\(session [0-9A-F]* from\)/  \1/p' "$RUN/server1.log"

say "What the DM Server read from the gateway (./DevInfo) and what changed"
python3 - "$RUN/record1.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["sessions"][0]
print(f"  session {s['session_id']} from {s['peer']}: alert {s['alert']}, authenticated {s['authenticated']}")
for k, v in sorted(s["devinfo"].items()):
    print(f"  {k:20} = {v}")
for r in s["results"]:
    what = r.get("uri") or "+".join(c["cmd"] for c in r.get("commands", []))
    print(f"  {r['cmd']:8} {what:40} -> {r['status']}")
PY
check "the session did not do what the DM Server asked" "$RUN/record1.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["sessions"][0]
want = [("Get", 200), ("Get", 200), ("Add", 200), ("Replace", 200), ("Atomic", 507), ("Replace", 405)]
got = [(r["cmd"], r["status"]) for r in s["results"]]
if s["alert"] != 1201 or not s["authenticated"] or got != want or \
   s["devinfo"].get("./DevInfo/DevId") != "GW-DEMO-0001":
    sys.exit(f"expected alert 1201, authenticated, DevId GW-DEMO-0001 and {want}; got alert "
             f"{s['alert']}, authenticated {s['authenticated']}, {s['devinfo']}, {got}")
PY
GREETING=$(ctl get ./GwMO/Config/Ext/dm/Greeting)
MODE=$(ctl get ./GwMO/Config/Mode)
echo "gateway: ./GwMO/Config/Ext/dm/Greeting = $GREETING"
echo "gateway: ./GwMO/Config/Mode             = $MODE  (DefaultMode on D-Bus follows)"
[ "$GREETING" = "hello from the DM Server" ] || fail "the server's Add is not in the tree"
[ "$MODE" = 1 ] || fail "the server's Replace of ./GwMO/Config/Mode is not in the tree"
if ctl get ./GwMO/Config/Ext/dm/A >/dev/null 2>&1; then
  fail "the rolled-back Atomic left ./GwMO/Config/Ext/dm/A in the tree"
fi

NOTIFY_URL="$(ctl --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["ListenURIs"][0])')notify"
say "A forged Package #0 to $NOTIFY_URL is refused"
"$SERVER" "${SERVER_ARGS[@]}" --notify "$NOTIFY_URL" --notify-secret wrong-secret \
  --ca-file "$RUN/state/tls.crt" --record "$RUN/forged.json" >"$RUN/forged.out" 2>/dev/null &
FORGED=$!
wait_for 10 "the gateway's answer to the forged Package #0" grep -q notified "$RUN/forged.out"
kill "$FORGED" 2>/dev/null || true; wait "$FORGED" 2>/dev/null || true
echo "  server: $(grep notified "$RUN/forged.out")"
grep -q "^notified 401" "$RUN/forged.out" || fail "the forged Package #0 was not refused with 401"
grep -h "forged" "$RUN/gwmod.log" | sed 's/^/  gwmod: /'

say "Server-initiated session: the DM Server sends a valid Package #0"
echo "  (a new server process on the same port, with the second script)"
"$SERVER" "${SERVER_ARGS[@]}" --script "$RUN/script2.json" --record "$RUN/record2.json" \
  --notify "$NOTIFY_URL" --notify-secret srv-secret --notify-session 1A2B \
  --ca-file "$RUN/state/tls.crt" --sessions 1 >"$RUN/server2.out" 2>"$RUN/server2.log" &
SRV=$!
PIDS+=($SRV)
wait "$SRV" || fail "the DM Server did not finish the server-initiated session cleanly"
sed -n 's/^notified/  server: notified/p' "$RUN/server2.out"
grep -q "^notified 202" "$RUN/server2.out" || fail "the valid Package #0 was not accepted (202)"
grep -h "Package #0" "$RUN/gwmod.log" | grep -v forged | sed 's/^/  gwmod: /'
python3 - "$RUN/record2.json" <<'PY'
import json, sys
for s in json.load(open(sys.argv[1]))["sessions"]:
    print(f"  session {s['session_id']} from {s['peer']}: alert {s['alert']} (1200 = server-initiated), state {s['state']}")
    for r in s["results"]:
        items = "; ".join(i.get("data") or "" for i in r.get("items", []))
        print(f"  {r['cmd']:8} {r.get('uri',''):40} -> {r['status']} {items}")
PY
check "the server-initiated session did not do what the DM Server asked" "$RUN/record2.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["sessions"][0]
got = [(r["cmd"], r["status"], "; ".join(i.get("data") or "" for i in r.get("items", [])))
       for r in s["results"]]
want = [("Get", 200, "hello from the DM Server"), ("Delete", 200, "")]
if s["alert"] != 1200 or s["session_id"] != "1A2B" or got != want:
    sys.exit(f"expected session 1A2B, alert 1200, {want}; got {s['session_id']}, alert "
             f"{s['alert']}, {got}")
PY
if out=$(ctl get ./GwMO/Config/Ext/dm/Greeting 2>&1); then
  fail "the server's Delete left ./GwMO/Config/Ext/dm/Greeting ('$out')"
fi
echo "gateway after it: $out"

say "Three End Devices join the gateway: sensor-1 and sensor-2 (Proxy), lamp-1 (Transparent)"
# the DM Server listens (no commands) and records the DeviceAttached alerts the gateway sends
echo '{"sessions": []}' > "$RUN/script3.json"
"$SERVER" "${SERVER_ARGS[@]}" --script "$RUN/script3.json" --record "$RUN/record3.json" \
  --sessions 0 2>"$RUN/server3.log" >/dev/null &
SRV=$!
PIDS+=($SRV)
wait_for 10 "the DM Server to listen" bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT"
# provisioned over D-Bus (B.6): what each device presents to the gateway and the reverse
for d in sensor-1 sensor-2; do
  echo "  gwmoctl device-add $d --mode 2: $(ctl device-add "$d" --mode 2 --client-name "$d" \
    --client-secret "$d-secret" --server-secret gateway-secret)"
done
echo "  gwmoctl device-add lamp-1 --mode 1: $(ctl device-add lamp-1 --mode 1 --client-name lamp-1 \
  --client-secret lamp-secret)"
# Proxy devices: a DM session with the gateway registers them (DeviceRegistration alert, their
# DevInfo with ./DevInfo/Ext/NotifyAddr); then they wait for the gateway's Package #0 and answer
# the commands it relays
# the devices talk HTTPS to the gateway, trusting its certificate (state/tls.crt); lamp-1 also
# trusts the DM Server's, which it reaches directly
cat "$RUN/state/tls.crt" "$RUN/server.crt" > "$RUN/trust.pem"
for d in sensor-1 sensor-2; do
  "$DEVICE" --server "https://127.0.0.1:$SOUTH_PORT/dm" --ca-file "$RUN/state/tls.crt" \
    --dev-id "$d" --auth md5 \
    --client-secret "$d-secret" --server-name GW-DEMO-0001 --server-secret gateway-secret \
    --server-id GW-DEMO-0001 --register --mode 2 --server-ids dm.example \
    --listen-notify http://127.0.0.1:0 --count 1 \
    --record "$RUN/$d.json" >"$RUN/$d.log" 2>&1 &
  PIDS+=($!)
done
# the Transparent device registers explicitly (DeviceRegistration alert); a Package #0 the
# gateway forwards to it makes it open its session with the DM Server directly
"$DEVICE" --server "https://127.0.0.1:$SOUTH_PORT/dm" --dev-id lamp-1 --auth md5 \
  --client-secret lamp-secret --server-name dm.example --notify-secret srv-secret \
  --server-id dm.example --register --mode 1 --server-ids dm.example \
  --listen-notify http://127.0.0.1:0 --notified-server "$DM_URL" --ca-file "$RUN/trust.pem" \
  --count 1 --record "$RUN/lamp-1.json" >"$RUN/lamp-1.log" 2>&1 &
LAMP=$!
PIDS+=($LAMP)
attached() {
  python3 - "$RUN/record3.json" <<'PY' 2>/dev/null || echo 0
import json, sys
print(sum(a["type"].endswith("DeviceAttached") for s in json.load(open(sys.argv[1]))["sessions"]
          for a in s["generic_alerts"]))
PY
}
three_attached() { [ "$(attached)" -ge 3 ]; }
wait_for 30 "DeviceAttached alerts for the three devices" three_attached
kill "$SRV" 2>/dev/null || true
wait "$SRV" 2>/dev/null || true
python3 - "$RUN/record3.json" <<'PY'
import json, re, sys
for s in json.load(open(sys.argv[1]))["sessions"]:
    for a in s["generic_alerts"]:
        doc = a.get("data") or ""
        f = lambda t: (re.search(f"<{t}>(.*?)</{t}>", doc) or [None, "?"])[1]
        mode = {"1": "Transparent", "2": "Proxy"}.get(f("Mode"), f("Mode"))
        print(f"  DM Server got {a['type'].rsplit(':', 1)[1]} for {f('DeviceID')} "
              f"({mode}, {f('Status')}, {f('InventoryURI')}) in session {s['session_id']}")
PY
check "the DM Server did not get one DeviceAttached per device" "$RUN/record3.json" <<'PY'
import json, re, sys
got = sorted(re.search("<DeviceID>(.*?)</DeviceID>", a.get("data") or "").group(1)
             for s in json.load(open(sys.argv[1]))["sessions"] for a in s["generic_alerts"]
             if a["type"].endswith("DeviceAttached"))
if got != ["lamp-1", "sensor-1", "sensor-2"]:
    sys.exit(f"expected DeviceAttached for lamp-1, sensor-1, sensor-2; got {got}")
PY
ctl devices
if [ "$(ctl devices | grep -c ' Attached ')" != 3 ]; then
  fail "gwmoctl devices does not show three Attached devices"
fi

say "The DM Server reads the inventory and, through the gateway, a node of both Proxy devices"
cat > "$RUN/script4.json" <<JSON
{"sessions": [{"commands": [
  {"cmd": "Get", "uri": "./GwMO/Inventory/Summary?list=StructData"},
  {"cmd": "Add", "uri": "./GwMO/Fanout/fw", "format": "node"},
  {"cmd": "Add", "uri": "./GwMO/Fanout/fw/Targets/Devices/1", "data": "sensor-1"},
  {"cmd": "Add", "uri": "./GwMO/Fanout/fw/Targets/Devices/2", "data": "sensor-2"},
  {"cmd": "Add", "uri": "./GwMO/Fanout/fw/Command", "data": "Get"},
  {"cmd": "Add", "uri": "./GwMO/Fanout/fw/TargetURI", "data": "./DevDetail/FwV"},
  {"cmd": "Add", "uri": "./GwMO/Fanout/fw/Timeout", "format": "int", "data": "10"},
  {"cmd": "Exec", "uri": "./GwMO/Fanout/fw/Operations/Start", "correlator": "demo-1"}]}
]}
JSON
"$SERVER" "${SERVER_ARGS[@]}" --script "$RUN/script4.json" --record "$RUN/record4.json" \
  --sessions 1 2>"$RUN/server4.log" >/dev/null &
SRV=$!
PIDS+=($SRV)
wait_for 10 "the DM Server to listen" bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT"
ctl session start dm.example
wait "$SRV" || fail "the DM Server did not finish its session cleanly"
python3 - "$RUN/record4.json" <<'PY'
import json, re, sys
s = json.load(open(sys.argv[1]))["sessions"][0]
for r in s["results"]:
    items = ", ".join(f"{(i.get('uri') or '').rsplit('/', 1)[-1]}={i.get('data')}"
                      for i in r.get("items", []) if i.get("data") is not None)
    print(f"  {r['cmd']:8} {r.get('uri',''):40} -> {r['status']} {items}")
for a in s["generic_alerts"]:
    print(f"  DM Server got {a['type'].rsplit(':', 1)[1]} (correlator {a.get('correlator')}) "
          f"in the same session {s['session_id']}:")
    for line in re.findall(r"<GwMOFanoutResult[^>]*>|<Device [^>]*>(?:<Data[^>]*>[^<]*</Data>)?",
                           a.get("data") or ""):
        print("    " + line)
PY
check "the fan-out did not read both Proxy devices in the server's session" "$RUN/record4.json" <<'PY'
import json, re, sys
s = json.load(open(sys.argv[1]))["sessions"][0]
bad = [(r["cmd"], r.get("uri"), r["status"]) for r in s["results"]
       if r["status"] != (202 if r["cmd"] == "Exec" else 200)]
alerts = [a for a in s["generic_alerts"] if a["type"].endswith("FanoutComplete")]
if bad or len(alerts) != 1 or alerts[0].get("correlator") != "demo-1":
    sys.exit(f"commands not answered as expected: {bad}; FanoutComplete alerts: {len(alerts)}")
doc = alerts[0].get("data") or ""
devs = sorted(re.findall(r'<Device id="([^"]+)" status="200"><Data[^>]*>[^<]+</Data>', doc))
if 'state="Complete"' not in doc or devs != ["sensor-1", "sensor-2"]:
    sys.exit(f"expected a Complete result with a value from sensor-1 and sensor-2; got {doc}")
PY

say "The DM Server wakes the Transparent device through the gateway (X-GwMO-Target)"
cat > "$RUN/script5.json" <<JSON
{"sessions": [{"commands": [{"cmd": "Get", "uri": "./DevInfo/DevId"}]}]}
JSON
"$SERVER" --listen "https://127.0.0.1:$PORT" --cert "$RUN/server.crt" --key "$RUN/server.key" \
  --server-id dm.example --client-secret lamp-secret --auth md5 --server-auth none \
  --script "$RUN/script5.json" --record "$RUN/record5.json" --sessions 1 \
  --notify "$NOTIFY_URL" --notify-secret srv-secret --notify-session 5A5A --notify-target lamp-1 \
  --ca-file "$RUN/state/tls.crt" >"$RUN/server5.out" 2>"$RUN/server5.log" &
SRV=$!
PIDS+=($SRV)
wait "$SRV" || fail "the DM Server did not finish the device's session cleanly"
sed -n 's/^notified/  server: notified the gateway for lamp-1, answered/p' "$RUN/server5.out"
grep -q "^notified 202" "$RUN/server5.out" || fail "the gateway did not accept the X-GwMO-Target Package #0"
grep -h "forward" "$RUN/gwmod.log" | tail -1 | sed 's/^/  gwmod: /'
python3 - "$RUN/record5.json" <<'PY'
import json, sys
for s in json.load(open(sys.argv[1]))["sessions"]:
    print(f"  the device {s['peer']} opened session {s['session_id']} with the DM Server directly "
          f"(alert {s['alert']}, authenticated {s['authenticated']})")
    for r in s["results"]:
        items = "; ".join(i.get("data") or "" for i in r.get("items", []))
        print(f"  {r['cmd']:8} {r.get('uri',''):40} -> {r['status']} {items}")
PY
check "the Transparent device did not open its session with the DM Server directly" "$RUN/record5.json" <<'PY'
import json, sys
ss = json.load(open(sys.argv[1]))["sessions"]
ok = [s for s in ss if s["session_id"] == "5A5A" and s["alert"] == 1200 and s["authenticated"]
      and [(r["cmd"], r["status"], [i.get("data") for i in r.get("items", [])])
           for r in s["results"]] == [("Get", 200, ["lamp-1"])]]
if len(ok) != 1:
    sys.exit(f"expected one authenticated session 5A5A (alert 1200) reading DevId lamp-1; got {ss}")
PY

say "Done: gwmod kept its state in $RUN/state (removed with the demo directory)"
