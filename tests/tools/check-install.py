#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What `meson install --destdir DESTDIR` put there is exactly what gwmo ships: gwmod, gwmoctl,
# libgwmo-plugin with its installed headers and gwmo-plugin-1.pc, the plugin directory and
# the plugins built in the tree, and the data files (configuration, D-Bus interfaces, policy
# and activation, systemd unit, sysusers, translations, man pages when built). Nothing else:
# no private header, no test module, no peer, no static library. Prints the list; exit
# status 1 when a file is not allowed or a required one is missing.

import os
import re
import sys

ALLOWED = [
    r".*/sbin/gwmod",
    r".*/bin/gwmoctl",
    r".*/include/gwmo-1/gw-(plugin-sdk|device|error|log|plugin|plugin-http)\.h",
    r".*/lib[^/]*(/[^/]+)?/libgwmo-plugin\.so(\.1(\.0\.0)?)?",
    r".*/pkgconfig/gwmo-plugin-1\.pc",
    r".*/gwmo/plugins-1/libgw_plugin_[A-Za-z0-9_-]+\.so",
    r".*/etc/gwmo/gwmod\.conf",
    r".*/systemd/system/gwmod\.service",
    r".*/sysusers\.d/gwmo\.conf",
    r".*/tmpfiles\.d/gwmo\.conf",
    r".*/dbus-1/interfaces/org\.gwmo\.Gateway1\.[A-Za-z]+\.xml",
    r".*/dbus-1/system-services/org\.gwmo\.Gateway1\.service",
    r".*/dbus-1/system\.d/org\.gwmo\.Gateway1\.conf",
    r".*/polkit-1/actions/org\.gwmo\.gateway1\.policy",
    r".*/polkit-1/rules\.d/org\.gwmo\.gateway1\.rules",
    r".*/locale/[^/]+/LC_MESSAGES/gwmo\.mo",
    r".*/man/man[158]/(gwmod\.8|gwmoctl\.1|gwmod\.conf\.5)",
    r".*/bash-completion/completions/gwmoctl",
]
REQUIRED = [
    r".*/sbin/gwmod",
    r".*/bin/gwmoctl",
    r".*/include/gwmo-1/gw-plugin-sdk\.h",
    r".*/include/gwmo-1/gw-plugin\.h",
    r".*/include/gwmo-1/gw-plugin-http\.h",
    r".*/include/gwmo-1/gw-device\.h",
    r".*/include/gwmo-1/gw-error\.h",
    r".*/include/gwmo-1/gw-log\.h",
    r".*/libgwmo-plugin\.so",
    r".*/libgwmo-plugin\.so\.1",
    r".*/libgwmo-plugin\.so\.1\.0\.0",
    r".*/pkgconfig/gwmo-plugin-1\.pc",
    r".*/etc/gwmo/gwmod\.conf",
    r".*/dbus-1/interfaces/org\.gwmo\.Gateway1\.Plugin\.xml",
    r".*/dbus-1/interfaces/org\.gwmo\.Gateway1\.Manager\.xml",
    r".*/dbus-1/system\.d/org\.gwmo\.Gateway1\.conf",
    r".*/dbus-1/system-services/org\.gwmo\.Gateway1\.service",
    r".*/systemd/system/gwmod\.service",
    r".*/polkit-1/actions/org\.gwmo\.gateway1\.policy",
    r".*/polkit-1/rules\.d/org\.gwmo\.gateway1\.rules",
]
# the loader's test modules (tests/plugins) are never installed
TEST_MODULES = {"good", "foreign", "failstart", "abortstart", "hang", "crash", "noproto",
                "wrongabi", "missingsym", "notaplugin", "abstract"}


def main():
    destdir = sys.argv[1]
    files = []
    dirs = []
    for root, dirnames, filenames in os.walk(destdir):
        for name in filenames:
            files.append("/" + os.path.relpath(os.path.join(root, name), destdir))
        for name in dirnames:
            dirs.append("/" + os.path.relpath(os.path.join(root, name), destdir))
    problems = []
    for path in sorted(files):
        print(path)
        if not any(re.fullmatch(p, path) for p in ALLOWED):
            problems.append("%s is installed but gwmo does not ship it" % path)
        m = re.fullmatch(r".*/libgw_plugin_([A-Za-z0-9_-]+)\.so", path)
        if m and m.group(1) in TEST_MODULES:
            problems.append("%s is a test module" % path)
    for pattern in REQUIRED:
        if not any(re.fullmatch(pattern, f) for f in files):
            problems.append("nothing installed matches %s" % pattern)
    if not any(re.fullmatch(r".*/gwmo/plugins-1", d) for d in dirs):
        problems.append("no plugin directory (.../gwmo/plugins-1)")
    for p in problems:
        print("not ok:", p)
    print("%d files installed; %d problem%s" % (len(files), len(problems),
                                                "" if len(problems) == 1 else "s"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
