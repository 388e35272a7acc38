#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The SDK's exports, the linker map and the installed headers say the same thing (the model:
# fwupd's fwupd-exported-api test):
#  - every function declared in an installed header is in GW_PLUGIN_1.0, and nothing else is;
#  - every function declared in a private header (gwmod's side) is in GW_PLUGIN_PRIVATE, and
#    nothing else is;
#  - libgwmo-plugin exports exactly the map's symbols, each in its node;
#  - an installed header includes only installed headers and system headers, and the umbrella
#    header reaches every installed header.
# Prints each difference; exit status 1 when there is one.

import argparse
import os
import re
import subprocess
import sys


def strip_c(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    lines = []
    in_macro = False
    for line in text.splitlines():
        stripped = line.strip()
        if in_macro or stripped.startswith("#"):
            in_macro = stripped.endswith("\\")
            continue
        lines.append(line)
    return "\n".join(lines)


def declared_functions(path):
    text = strip_c(open(path, encoding="utf-8").read())
    names = set(re.findall(r"\b(gw_[a-z0-9_]+)\s*\(", text))
    for m in re.finditer(r"G_DECLARE_(?:FINAL|DERIVABLE)_TYPE\s*\(\s*\w+\s*,\s*(\w+)", text):
        names.add(m.group(1) + "_get_type")
    return names


def local_includes(path):
    text = open(path, encoding="utf-8").read()
    return re.findall(r'^\s*#\s*include\s+"([^"]+)"', text, flags=re.M)


def map_nodes(path):
    text = re.sub(r"#.*", "", open(path, encoding="utf-8").read())
    nodes = {}
    for m in re.finditer(r"(\w+(?:\.\w+)*)\s*\{(.*?)\}", text, flags=re.S):
        body = m.group(2)
        glob = re.search(r"global:(.*?)(?:local:|$)", body, flags=re.S)
        symbols = set()
        if glob:
            symbols = {s.strip() for s in glob.group(1).split(";") if s.strip()}
        nodes[m.group(1)] = symbols
    return nodes


def library_exports(path):
    out = subprocess.run(["objdump", "-T", path], check=True, capture_output=True,
                         text=True).stdout
    exports = {}
    for line in out.splitlines():
        parts = line.split()
        # 0000000000012345 g    DF .text  0000000000000042  GW_PLUGIN_1.0 gw_foo
        if len(parts) < 6 or parts[1] != "g" or "*UND*" in parts:
            continue
        name, version = parts[-1], parts[-2]
        if name == version:
            continue  # the version node's own symbol
        exports[name] = version
    return exports


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--map", required=True)
    parser.add_argument("--lib", required=True)
    parser.add_argument("--umbrella", required=True)
    parser.add_argument("--headers", nargs="+", required=True)
    parser.add_argument("--private", nargs="+", required=True)
    args = parser.parse_args()

    problems = []
    nodes = map_nodes(args.map)
    public_map = nodes.get("GW_PLUGIN_1.0", set())
    private_map = nodes.get("GW_PLUGIN_PRIVATE", set())
    if not public_map:
        problems.append("%s has no GW_PLUGIN_1.0 node" % args.map)

    public = set()
    for h in args.headers:
        public |= declared_functions(h)
    private = set()
    for h in args.private:
        private |= declared_functions(h)
    private -= public  # a private header may repeat a public declaration

    for name in sorted(public - public_map):
        problems.append("%s is declared in an installed header but not in GW_PLUGIN_1.0" % name)
    for name in sorted(public_map - public):
        problems.append("%s is in GW_PLUGIN_1.0 but no installed header declares it" % name)
    for name in sorted(private - private_map):
        problems.append("%s is declared in a private header but not in GW_PLUGIN_PRIVATE" % name)
    for name in sorted(private_map - private):
        problems.append("%s is in GW_PLUGIN_PRIVATE but no private header declares it" % name)
    for name in sorted(public_map & private_map):
        problems.append("%s is in both GW_PLUGIN_1.0 and GW_PLUGIN_PRIVATE" % name)

    exports = library_exports(args.lib)
    wanted = {n: "GW_PLUGIN_1.0" for n in public_map}
    wanted.update({n: "GW_PLUGIN_PRIVATE" for n in private_map})
    for name in sorted(set(exports) - set(wanted)):
        problems.append("%s exports %s, which the map does not list" % (args.lib, name))
    for name in sorted(set(wanted) - set(exports)):
        problems.append("the map lists %s, which %s does not define" % (name, args.lib))
    for name in sorted(set(wanted) & set(exports)):
        if exports[name] != wanted[name]:
            problems.append("%s is exported in %s, the map says %s" % (name, exports[name],
                                                                      wanted[name]))

    installed = {os.path.basename(h): h for h in args.headers}
    for h in args.headers:
        for inc in local_includes(h):
            if inc not in installed:
                problems.append("%s includes \"%s\", which is not installed" %
                                (os.path.basename(h), inc))
    reached = set()
    todo = [os.path.basename(args.umbrella)]
    while todo:
        name = todo.pop()
        if name in reached or name not in installed:
            continue
        reached.add(name)
        todo.extend(local_includes(installed[name]))
    for name in sorted(set(installed) - reached):
        problems.append("%s is installed but %s does not include it" %
                        (name, os.path.basename(args.umbrella)))

    for p in problems:
        print("not ok:", p)
    print("%d public, %d private symbols checked; %d problem%s" %
          (len(public_map), len(private_map), len(problems), "" if len(problems) == 1 else "s"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
