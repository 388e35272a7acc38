#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The SDK as a third party gets it: installs the gwmo build BUILDDIR into WORKDIR/destdir
# (meson install --destdir), checks the installed files (check-install.py), builds
# docs/plugin-example against that installation alone (PKG_CONFIG_PATH = its pkgconfig
# directory; nothing of the build tree), installs the example into the plugin directory the
# .pc names, and prints that directory on its last line.
#   tests/tools/build-plugin-example.sh BUILDDIR WORKDIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
mkdir -p "$2"
WORK=$(cd "$2" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DESTDIR=$WORK/destdir
EXAMPLE=$WORK/example-build

rm -rf "$DESTDIR" "$EXAMPLE"
meson install -C "$BUILD" --no-rebuild --destdir "$DESTDIR" --quiet >"$WORK/install.log" 2>&1 ||
  { cat "$WORK/install.log" >&2; exit 1; }
python3 "$SRC/tests/tools/check-install.py" "$DESTDIR" >"$WORK/installed.txt" ||
  { cat "$WORK/installed.txt" >&2; exit 1; }
PC=$(dirname "$(find "$DESTDIR" -name gwmo-plugin-1.pc -print -quit)")
export PKG_CONFIG_PATH=$PC
unset PKG_CONFIG_SYSROOT_DIR
# the example's compiler is the system's: a sanitizer build of gwmo loads it as it is
env -u CFLAGS -u LDFLAGS meson setup "$EXAMPLE" "$SRC/docs/plugin-example" -Dwerror=true \
  >"$WORK/example-setup.log" 2>&1 || { cat "$WORK/example-setup.log" >&2; exit 1; }
ninja -C "$EXAMPLE" >"$WORK/example-build.log" 2>&1 || { cat "$WORK/example-build.log" >&2; exit 1; }
meson install -C "$EXAMPLE" --quiet >>"$WORK/example-build.log" 2>&1 ||
  { cat "$WORK/example-build.log" >&2; exit 1; }
PLUGINDIR=$(pkg-config --variable plugindir gwmo-plugin-1)
test -f "$PLUGINDIR/libgw_plugin_example.so" ||
  { echo "the example is not in $PLUGINDIR" >&2; exit 1; }
echo "$PLUGINDIR"
