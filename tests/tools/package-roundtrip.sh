#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Debian package round trip (issue 16 §1), as root on a Debian 12 machine without systemd:
#  1. builds the packages of a copy of this tree with dpkg-buildpackage -b -uc -us (nocheck: CI
#     runs the suites on the tree itself);
#  2. checks that `meson install --destdir` of that same build lists exactly the files the
#     packages hold (debhelper's /usr/share/doc and lintian overrides aside; man pages compared
#     without .gz);
#  3. installs them with apt-get and checks the gwmo system user, its state directory and the
#     configuration's owner and mode;
#  4. starts a private system-type bus (the installed policy in /usr/share/dbus-1/system.d, the
#     standard system service directories, dbus-daemon-launch-helper, the default-deny policy of
#     Debian's system.conf) in a loopback-only network namespace, and starts gwmod by D-Bus
#     activation: the bus spawns it through the launch helper, as the gwmo user;
#  5. runs a DM session between the installed gwmod, configured through /etc/gwmo/gwmod.conf, and
#     the reference DM Server (tests/peers/gwmo-test-server of BUILDDIR);
#  6. apt-get remove (state in /var/lib/gwmo kept, the user kept), apt-get purge (state and
#     configuration gone; the user stays, as Debian leaves system users).
# Every process it starts is stopped by its PID. Prints its time; exit 0 when every step did what
# it says, 77 when it cannot run here (not root, no dpkg-buildpackage, gwmo already installed).
#
# Usage: package-roundtrip.sh BUILDDIR   (a built tree with tests/peers/gwmo-test-server)
# GWMO_PKG_KEEP=1 keeps the temporary directory (logs, packages).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${1:?usage: package-roundtrip.sh BUILDDIR}
SERVER=$BUILD/tests/peers/gwmo-test-server
T0=$(date +%s.%N)
since() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }
log() { printf '[pkg %6ss] %s\n' "$(since "$T0")" "$*"; }
STEP=setup
fail() {
  printf '[pkg] FAILED in step "%s": %s\n' "$STEP" "$*" >&2
  FAILED=1
  exit 1
}

if [ "$(id -u)" != 0 ]; then echo "package-roundtrip: needs root (apt-get, a system bus)"; exit 77; fi
for tool in dpkg-buildpackage dh dbus-daemon gdbus ip; do
  command -v "$tool" >/dev/null || { echo "package-roundtrip: $tool missing"; exit 77; }
done
if dpkg-query -W -f='${db:Status-Status}' gwmo 2>/dev/null | grep -qv not-installed ||
   [ -e /var/lib/gwmo ]; then
  echo "package-roundtrip: gwmo is (or was) installed here (dpkg, /var/lib/gwmo); not touching it"
  exit 77
fi
[ -x "$SERVER" ] || fail "no $SERVER (build the tree first)"

RUN=$(mktemp -d /tmp/gwmo-pkg.XXXXXX)
chmod 755 "$RUN"   # gwmod (user gwmo) reads the DM Server's certificate here
NS=gwmo-pkg-$$
PIDS=()
FAILED=0
INSTALLED=0
PKGS=(gwmo gwmoctl gwmo-plugin-tr069 gwmo-plugin-upnp gwmo-plugin-zigbee2mqtt libgwmo-plugin1
      libgwmo-plugin-dev)
# a process the bus spawned is not our child: wait for it to go by polling its PID
wait_gone() { for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; return 1; }
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait_gone "$p" || kill -9 "$p" 2>/dev/null; done
  if [ "$INSTALLED" = 1 ]; then
    dpkg --purge "${PKGS[@]}" >/dev/null 2>&1
  fi
  ip netns del "$NS" 2>/dev/null
  if [ "${GWMO_PKG_KEEP:-0}" = 1 ] || [ "$FAILED" = 1 ]; then
    echo "kept $RUN"
  else
    rm -rf "$RUN"
  fi
}
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive

# ---- 1. build ----
STEP="dpkg-buildpackage -b -uc -us"
SRC=$RUN/src/gwmo
mkdir -p "$SRC"
tar -C "$ROOT" --exclude='./_build*' --exclude=./.git --exclude='./obj-*' -cf - . | tar -C "$SRC" -xf -
if ! (cd "$SRC" && DEB_BUILD_OPTIONS="nocheck noddebs parallel=$(nproc)" \
      dpkg-buildpackage -b -uc -us) >"$RUN/build.log" 2>&1; then
  tail -40 "$RUN/build.log"
  fail "the package build failed (log: $RUN/build.log)"
fi
DEBS=()
for p in "${PKGS[@]}"; do
  f=$(ls "$RUN/src/${p}_"*.deb 2>/dev/null) || fail "no package $p was built"
  DEBS+=("$f")
done
log "built ${#DEBS[@]} packages: $(cd "$RUN/src" && ls ./*.deb | xargs -n1 basename | tr '\n' ' ')"

# ---- 2. meson install --destdir lists what the packages hold ----
STEP="DESTDIR against the packages"
OBJ=$(ls -d "$SRC"/obj-*/ | head -1)
meson install -C "$OBJ" --no-rebuild --destdir "$RUN/destdir" >"$RUN/destdir.log" 2>&1 \
  || fail "meson install --destdir failed (log: $RUN/destdir.log)"
(cd "$RUN/destdir" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort) >"$RUN/destdir.list"
for f in "${DEBS[@]}"; do
  dpkg-deb --fsys-tarfile "$f" | tar -t | sed 's|^\.||' | grep -v '/$'
done | grep -v -e '^/usr/share/doc/' -e '^/usr/share/lintian/overrides/' | sed -E 's|^(/usr/share/man/.*)\.gz$|\1|' | sort >"$RUN/packages.list"
if ! diff -u --label "meson install --destdir" --label "the packages" \
     "$RUN/destdir.list" "$RUN/packages.list"; then
  fail "meson install and the packages differ (above: - only installed, + only packaged)"
fi
log "meson install --destdir and the packages: the same $(wc -l <"$RUN/destdir.list") files"

# ---- 3. install ----
STEP="apt-get install"
INSTALLED=1
apt-get install -y -qq "${DEBS[@]}" >"$RUN/install.log" 2>&1 \
  || { cat "$RUN/install.log"; fail "apt-get install failed"; }
GWMO_UID=$(id -u gwmo 2>/dev/null) || fail "no user gwmo after the install"
id -Gn gwmo | grep -qw gwmo || fail "user gwmo is not in group gwmo"
[ "$(stat -c '%U:%G %a' /var/lib/gwmo)" = "gwmo:gwmo 700" ] \
  || fail "/var/lib/gwmo is $(stat -c '%U:%G %a' /var/lib/gwmo), not gwmo:gwmo 700"
[ "$(stat -c '%U:%G %a' /etc/gwmo/gwmod.conf)" = "root:gwmo 640" ] \
  || fail "/etc/gwmo/gwmod.conf is $(stat -c '%U:%G %a' /etc/gwmo/gwmod.conf), not root:gwmo 640"
# the installed unit: systemd-analyze verify (no systemd runs here: it reads the files) and
# the exposure figure of systemd-analyze security
UNIT=/lib/systemd/system/gwmod.service
command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (package systemd)"
VERIFY=$(systemd-analyze verify "$UNIT" 2>&1) && [ -z "$VERIFY" ] \
  || fail "systemd-analyze verify $UNIT: $VERIFY"
EXPOSURE=$(systemd-analyze security --offline=yes --no-pager "$UNIT" 2>&1 | sed -n 's/^→ Overall exposure level for [^:]*: //p')
[ -n "$EXPOSURE" ] || fail "no figure from systemd-analyze security --offline=yes $UNIT"
log "systemd-analyze verify $UNIT: clean; systemd-analyze security: exposure $EXPOSURE"
log "installed; user gwmo (uid $GWMO_UID), /var/lib/gwmo gwmo:gwmo 700, gwmod.conf root:gwmo 640"

# ---- 4. a private system bus in a loopback-only namespace; gwmod by activation ----
STEP="D-Bus activation on a private system bus"
ip netns add "$NS" || fail "cannot make a network namespace"
ip -n "$NS" link set lo up
# dbus-daemon-launch-helper clears the environment of what it starts and points
# DBUS_STARTER_ADDRESS at the default system bus socket, /run/dbus/system_bus_socket: the private
# bus listens there in a mount namespace of its own, where $RUN/dbus is bound onto /run/dbus, so
# the gwmod it starts finds it there and this script through $RUN/dbus/system_bus_socket. Its
# configuration is Debian's system.conf (the default-deny policy, the installed policy files,
# the standard service directories, the launch helper, user messagebus) in the foreground,
# without pid file and syslog; the launch helper reads /usr/share/dbus-1/system.conf itself.
mkdir -m 755 "$RUN/dbus"
cat >"$RUN/system-bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <user>messagebus</user>
  <standard_system_servicedirs/>
  <servicehelper>/usr/lib/dbus-1.0/dbus-daemon-launch-helper</servicehelper>
  <auth>EXTERNAL</auth>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
  </policy>
  <includedir>/usr/share/dbus-1/system.d</includedir>
  <includedir>/etc/dbus-1/system.d</includedir>
</busconfig>
CONF
# ip netns exec and unshare keep the PID: $! is the bus
ip netns exec "$NS" unshare --mount --propagation private sh -c \
  'mount --bind "$1/dbus" /run/dbus && exec dbus-daemon --config-file="$1/system-bus.conf" --nofork' \
  sh "$RUN" 2>"$RUN/bus.log" &
PIDS+=($!)
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$RUN/dbus/system_bus_socket
for _ in $(seq 50); do
  gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.GetId >/dev/null 2>&1 && break
  sleep 0.1
done
bus() { gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
          --method "org.freedesktop.DBus.$1" "${@:2}"; }
bus GetId >/dev/null 2>&1 || { cat "$RUN/bus.log"; fail "the bus did not start"; }
bus NameHasOwner org.gwmo.Gateway1 | grep -q false || fail "something owns org.gwmo.Gateway1 already"
log "private system bus $DBUS_SYSTEM_BUS_ADDRESS (user messagebus, installed policy)"

# the reference DM Server, in the namespace; gwmod's configuration is the installed file
PORT=$(ip netns exec "$NS" python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DM_URL="https://127.0.0.1:$PORT/dm"
cat >"$RUN/script.json" <<JSON
{"sessions": [{"commands": [
  {"cmd": "Get", "uri": "./DevInfo?list=StructData"},
  {"cmd": "Add", "uri": "./GwMO/Config/Ext/dm/Greeting", "format": "chr", "data": "from the package test"}]}]}
JSON
ip netns exec "$NS" "$SERVER" --listen "https://127.0.0.1:$PORT" --cert "$RUN/server.crt" \
  --key "$RUN/server.key" --server-id dm.example --server-secret srv-secret \
  --client-name gw-pkg --client-secret cl-secret --auth md5 --script "$RUN/script.json" \
  --record "$RUN/record.json" --sessions 1 --ready-file "$RUN/ready" 2>"$RUN/server.log" >/dev/null &
SRV=$!
PIDS+=($SRV)
for _ in $(seq 100); do [ -s "$RUN/ready" ] && break; sleep 0.1; done
[ -s "$RUN/ready" ] || { cat "$RUN/server.log"; fail "the DM Server did not start"; }
cat >/etc/gwmo/gwmod.conf <<CONF
# written by tests/tools/package-roundtrip.sh
[device]
dev-id=GW-PKG-0001
manufacturer=gwmo package test
[northbound]
listen=https://127.0.0.1:0
ca-file=$RUN/server.crt
[southbound]
listen=https://127.0.0.1:0
[discovery]
enabled=false
# the ACS the TR-069 plugin needs to start (its listener is in the namespace too)
[tr069]
username=acs
password=acs-secret
CONF

# no gwmod runs: the call makes the bus start it (activation file, launch helper, User=gwmo)
T_ACT=$(date +%s.%N)
gdbus call --system --dest org.gwmo.Gateway1 --object-path /org/gwmo/Gateway1 \
  --method org.freedesktop.DBus.Peer.Ping >/dev/null 2>"$RUN/activation.err" \
  || { cat "$RUN/activation.err" "$RUN/bus.log"; fail "activating org.gwmo.Gateway1 failed"; }
GWPID=$(bus GetConnectionUnixProcessID org.gwmo.Gateway1 | tr -dc '0-9 ' | awk '{print $NF}')
[ -n "$GWPID" ] || fail "no process owns org.gwmo.Gateway1"
PIDS=("$GWPID" "${PIDS[@]}")
EXE=$(readlink "/proc/$GWPID/exe")
RUID=$(awk '/^Uid:/ {print $2, $3}' "/proc/$GWPID/status")
[ "$EXE" = /usr/sbin/gwmod ] || fail "the name's owner is $EXE, not the installed /usr/sbin/gwmod"
[ "$RUID" = "$GWMO_UID $GWMO_UID" ] || fail "gwmod runs as uid $RUID, not gwmo ($GWMO_UID)"
# started by the launch helper: the environment it set, nothing of the bus's or ours
ENVIRON=$(tr '\0' '\n' <"/proc/$GWPID/environ" | sort | tr '\n' ' ')
[ "$ENVIRON" = "DBUS_STARTER_ADDRESS=unix:path=/run/dbus/system_bus_socket DBUS_STARTER_BUS_TYPE=system " ] \
  || fail "gwmod's environment is not the launch helper's: $ENVIRON"
log "activated in $(since "$T_ACT") s: $EXE pid $GWPID, uid gwmo (real and effective)"

# ---- 5. a DM session against the reference DM Server ----
STEP="a DM session of the installed gwmod"
cat >"$RUN/bootstrap.xml" <<XML
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
    <Node><NodeName>AAuthName</NodeName><Value>gw-pkg</Value></Node>
    <Node><NodeName>AAuthSecret</NodeName><Value>cl-secret</Value></Node></Node>
   <Node><NodeName>2</NodeName>
    <Node><NodeName>AAuthLevel</NodeName><Value>SRVCRED</Value></Node>
    <Node><NodeName>AAuthType</NodeName><Value>DIGEST</Value></Node>
    <Node><NodeName>AAuthName</NodeName><Value>dm.example</Value></Node>
    <Node><NodeName>AAuthSecret</NodeName><Value>srv-secret</Value></Node></Node>
  </Node></Node>
 <Node><NodeName>dm</NodeName><Path>./GwMO/Config/Ext</Path>
  <RTProperties><ACL>Add=dm.example&amp;Delete=dm.example&amp;Get=dm.example&amp;Replace=dm.example</ACL><Format><node/></Format></RTProperties></Node>
</MgmtTree>
XML
gwmoctl --system bootstrap "$RUN/bootstrap.xml" >/dev/null || fail "gwmoctl bootstrap failed"
gwmoctl --system session start dm.example >"$RUN/session.out" 2>&1 \
  || { cat "$RUN/session.out"; fail "gwmoctl session start failed"; }
for _ in $(seq 300); do kill -0 "$SRV" 2>/dev/null || break; sleep 0.1; done
wait "$SRV" || { cat "$RUN/server.log"; fail "the DM Server did not finish its session cleanly"; }
python3 - "$RUN/record.json" <<'PY' || fail "the session did not do what the DM Server asked"
import json, sys
s = json.load(open(sys.argv[1]))["sessions"][0]
got = [(r["cmd"], r["status"]) for r in s["results"]]
if s["alert"] != 1201 or not s["authenticated"] or got != [("Get", 200), ("Add", 200)] or \
   s["devinfo"].get("./DevInfo/DevId") != "GW-PKG-0001":
    sys.exit(f"expected alert 1201, authenticated, DevId GW-PKG-0001, Get 200 and Add 200; got "
             f"{s['alert']}, {s['authenticated']}, {s['devinfo']}, {got}")
print(f"[pkg] session {s['session_id']}: alert {s['alert']}, authenticated, DevId "
      f"{s['devinfo']['./DevInfo/DevId']}, {got}")
PY
[ "$(gwmoctl --system get ./GwMO/Config/Ext/dm/Greeting)" = "from the package test" ] \
  || fail "the DM Server's Add is not in the installed gwmod's tree"
gwmoctl --system plugins >"$RUN/plugins.out" 2>&1 || fail "gwmoctl plugins failed"
PLUGINS=$(awk 'NR > 1 {printf "%s=%s ", $1, $2}' "$RUN/plugins.out")
[ "$PLUGINS" = "tr069=Running upnp=Running zigbee2mqtt=Running " ] \
  || { cat "$RUN/plugins.out"; fail "the installed plugins do not all run in gwmod as gwmo"; }
log "DM session done; the installed plugins run in gwmod as user gwmo: $PLUGINS"
# the installed bus policy: another local user reads, and may not change
STEP="the installed bus and polkit policy"
runuser -u nobody -- gwmoctl --system get ./DevInfo/DevId >"$RUN/nobody.out" 2>&1 \
  || { cat "$RUN/nobody.out"; fail "user nobody cannot read the tree"; }
if runuser -u nobody -- gwmoctl --system bootstrap "$RUN/bootstrap.xml" --replace \
     >"$RUN/nobody.out" 2>&1; then
  fail "user nobody changed the tree"
fi
# the bus lets the change through by name; polkitd, activated on this bus with the installed
# actions and rules, says no ("not authorized" is polkitd's answer, not gwmod's fallback)
grep -q "org.gwmo.gateway1.bootstrap (not authorized).*PermissionDenied" "$RUN/nobody.out" \
  || { cat "$RUN/nobody.out"; fail "not refused by polkit"; }
log "installed policy: user nobody reads (DevId $(runuser -u nobody -- gwmoctl --system get ./DevInfo/DevId)), polkit refuses its Bootstrap: $(grep -o 'Bootstrap needs.*' "$RUN/nobody.out")"
# polkitd, which the bus activated for that check, is stopped by its PID too
PKPID=$(bus GetConnectionUnixProcessID org.freedesktop.PolicyKit1 2>/dev/null | tr -dc '0-9 ' | awk '{print $NF}')
[ -n "$PKPID" ] && PIDS+=("$PKPID")
kill "$GWPID"
wait_gone "$GWPID" || fail "gwmod did not stop on SIGTERM"
[ "$(stat -c %U /var/lib/gwmo/tree.state 2>/dev/null)" = gwmo ] \
  || fail "no /var/lib/gwmo/tree.state owned by gwmo after the stop"

# ---- 6. remove keeps the state, purge removes it ----
STEP="apt-get remove"
apt-get remove -y -qq "${PKGS[@]}" >"$RUN/remove.log" 2>&1 || { cat "$RUN/remove.log"; fail "apt-get remove failed"; }
[ ! -e /usr/sbin/gwmod ] || fail "/usr/sbin/gwmod is still there after remove"
[ -f /var/lib/gwmo/tree.state ] || fail "remove deleted the state in /var/lib/gwmo"
[ -f /etc/gwmo/gwmod.conf ] || fail "remove deleted the configuration (a conffile)"
log "removed: /var/lib/gwmo/tree.state and /etc/gwmo/gwmod.conf kept"
STEP="apt-get purge"
# what remove left (packages with conffiles, state config-files); apt knows them from dpkg
LEFT=$(dpkg-query -W -f='${db:Status-Status} ${Package}\n' "${PKGS[@]}" 2>/dev/null | awk '$1 == "config-files" {print $2}')
[ "$LEFT" = gwmo ] || fail "expected gwmo alone in state config-files after remove, got: $LEFT"
apt-get purge -y -qq $LEFT >"$RUN/purge.log" 2>&1 || { cat "$RUN/purge.log"; fail "apt-get purge failed"; }
INSTALLED=0
for d in /var/lib/gwmo /var/cache/gwmo /etc/gwmo; do
  [ ! -e "$d" ] || fail "$d is still there after purge"
done
if dpkg-query -W -f='${Status}' gwmo 2>/dev/null | grep -qv not-installed; then
  fail "dpkg still knows gwmo after purge: $(dpkg-query -W -f='${Status}' gwmo)"
fi
log "purged: /var/lib/gwmo, /var/cache/gwmo and /etc/gwmo gone; user gwmo kept ($(getent passwd gwmo | cut -d: -f1,3))"
times >"$RUN/times"   # in this shell: its children's CPU time is the second line
CPU=$(awk 'NR == 2 {print $1 " user, " $2 " sys"}' "$RUN/times")
log "package round trip passed (CPU time of what it ran: $CPU)"
exit 0
