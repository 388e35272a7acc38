#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The whole test suite, as CI runs it: dependencies, a --werror build and its tests, then the
# same suite in an ASan+UBSan build. Before each build's tests, gwmo is installed into a DESTDIR
# and the out-of-tree example plugin (docs/plugin-example) built against that installation. Ends with the line "tests: N passed, N failed, N skipped".
# Environment: GWMO_SKIP_DEPS=1 skips apt-get; GWMO_SKIP_ASAN=1 skips the sanitizer run.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
T0=$(date +%s)
log() { printf '[tests %4ss] %s\n' $(( $(date +%s) - T0 )) "$*"; }

if [ "${GWMO_SKIP_DEPS:-0}" != 1 ]; then
  bash tests/tools/install-deps.sh || { echo "tests: 0 passed, 1 failed, 0 skipped"; exit 1; }
  log "dependencies ready"
fi

RESULTS=()
rc=0
run_suite() {   # name, builddir, meson setup args…
  local name=$1 dir=$2; shift 2
  rm -rf "$dir"
  if ! meson setup "$dir" "$@" >"$dir.setup.log" 2>&1; then
    cat "$dir.setup.log"; log "$name: meson setup failed"; rc=1; return
  fi
  if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
    tail -50 "$dir.build.log"; log "$name: build failed"; rc=1; return
  fi
  log "$name: built"
  # the SDK as a third party gets it: gwmo installed into a DESTDIR (and what it installed
  # checked), docs/plugin-example built with pkg-config gwmo-plugin-1 pointed there alone and
  # installed into its plugindir; test-plugin-example loads that module into gwmod
  local example
  if example=$(bash tests/tools/build-plugin-example.sh "$dir" "$dir-example"); then
    export GWMO_TEST_EXAMPLE_PLUGIN_DIR=${example##*$'\n'}
    cat "$dir-example/installed.txt"
    log "$name: installed into $dir-example/destdir, example plugin built against it"
  else
    unset GWMO_TEST_EXAMPLE_PLUGIN_DIR
    log "$name: install check or example plugin build failed"; rc=1
  fi
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 \
    --suite unit --suite dbus --suite fuzz-corpus --timeout-multiplier "${GWMO_TIMEOUT_MULTIPLIER:-3}" \
    || rc=1
  RESULTS+=("$dir/meson-logs/testlog.json")
  log "$name: tests done"
}

run_suite "gcc --werror" "$ROOT/_build-ci" -Dwerror=true -Dbuildtype=debugoptimized
# the Debian packages: built, installed, gwmod D-Bus activated as user gwmo, a DM session with
# the werror build's DM Server, removed and purged; one test in the closing line (77: skipped)
bash tests/tools/package-roundtrip.sh "$ROOT/_build-ci"
PKG_RC=$?
[ "$PKG_RC" = 0 ] || [ "$PKG_RC" = 77 ] || rc=1
if [ "${GWMO_SKIP_ASAN:-0}" != 1 ]; then
  run_suite "ASan+UBSan" "$ROOT/_build-ci-asan" -Dwerror=true -Db_sanitize=address,undefined \
    -Db_lundef=false -Dbuildtype=debug
fi

python3 - "${PKG_RC:-77}" "${RESULTS[@]}" <<'PY'
import json, sys
c = {"OK": 0, "FAIL": 0, "SKIP": 0}
c["OK" if sys.argv[1] == "0" else "SKIP" if sys.argv[1] == "77" else "FAIL"] += 1
for path in sys.argv[2:]:
    try:
        for line in open(path):
            r = json.loads(line)["result"]
            c["OK" if r in ("OK", "EXPECTEDFAIL") else "SKIP" if r == "SKIP" else "FAIL"] += 1
    except FileNotFoundError:
        c["FAIL"] += 1
print(f"tests: {c['OK']} passed, {c['FAIL']} failed, {c['SKIP']} skipped")
PY
exit $rc
