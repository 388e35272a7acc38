#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs what gwmo needs to build, test and run its demo on Debian 12 (as root).
set -euo pipefail
PKGS=(build-essential pkg-config meson ninja-build gettext
      libglib2.0-dev libsoup-3.0-dev libjson-glib-dev libxml2-dev libgnutls28-dev
      libavahi-client-dev libavahi-glib-dev libwbxml2-dev libmosquitto-dev
      glib-networking ca-certificates gnutls-bin
      dbus dbus-daemon libwbxml2-utils iproute2 python3
      # mDNS discovery tests (tests/dbus/test-dbus-discovery.c): a real avahi-daemon and its tools
      avahi-daemon avahi-utils
      nginx-light   # the baseline of tests/bench/bench-images.c
      # the UPnP adapter (plugins/upnp) and its tests: Debian's gupnp-network-light under Xvfb
      libgupnp-1.6-dev libgssdp-1.6-dev gupnp-tools xvfb xauth
      # the Zigbee adapter (plugins/zigbee2mqtt) and its tests: a real broker on loopback
      mosquitto mosquitto-clients
      # polkit: gwmod asks polkitd (core/dbus/gw-dbus-authority.c), tests/dbus/test-dbus-polkit.c runs it
      libpolkit-gobject-1-dev polkitd
      # the Debian packages (debian/, tests/tools/package-roundtrip.sh): their build, man pages
      # (pandoc), systemd-analyze verify of the unit (PID 1 is no systemd: never booted)
      debhelper dpkg-dev fakeroot pandoc systemd)
if [ "$(id -u)" != 0 ]; then
  echo "install-deps.sh: run as root (it calls apt-get)" >&2
  exit 1
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
