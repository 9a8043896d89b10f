#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Fails when the C files of one plugin call each other in a circle.

Each plugin has one shape: plugin.c (the wiring) calls the route files, the route files call
model.c and the leaf files (paths, MIME, the engines), and nothing calls back up. This check
reads every plugins/NAME/*.c, takes the functions each defines without `static`, and draws an
edge from file A to file B when A names a function B defines (comments and strings removed).
Any edge on a cycle is printed and the exit status is 1.

Usage: check-call-circles.py [SOURCE_ROOT]   (default: the repository this script is in)
"""
import pathlib
import re
import sys

DEFINITION = re.compile(r"^([a-z_][a-z0-9_]*) \(", re.M)


def strip(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', text)


def circles(folder: pathlib.Path) -> list[str]:
    sources = {p.name: strip(p.read_text()) for p in sorted(folder.glob("*.c"))}
    defined: dict[str, str] = {}
    for name, text in sources.items():
        for m in DEFINITION.finditer(text):
            line_before = text[text.rfind("\n", 0, m.start() - 1) + 1 : m.start()]
            if "static" not in line_before:
                defined[m.group(1)] = name
    edges: dict[str, dict[str, list[str]]] = {name: {} for name in sources}
    for name, text in sources.items():
        for fn, home in defined.items():
            if home != name and re.search(r"\b" + fn + r"\b", text):
                edges[name].setdefault(home, []).append(fn)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            for nxt in edges[node]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    return [
        f"{folder.name}/{a} -> {b} ({', '.join(sorted(fns))}) and back"
        for a in sources
        for b, fns in edges[a].items()
        if reaches(b, a)
    ]


def main() -> int:
    root = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).parents[1]
    found = []
    for folder in sorted((root / "plugins").iterdir()):
        if folder.is_dir() and any(folder.glob("*.c")):
            found += circles(folder)
    for line in found:
        print(line)
    print(f"{len(found)} call edges on a circle" if found else "no call circles in plugins/")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
