#!/usr/bin/env python3
"""Checks the layering of the tree from its #include lines.

Layers, bottom up (a file may include its own layer's files and those of
lower layers, never a higher one, and never a sibling at the same height):
    0 core/     KVM VM and vCPUs, guest memory, buses, routes, loop, planner
    1 devices/  emulated devices
    2 vfio/, arch/, sandbox/   passthrough; boards; seccomp filters
    3 vmm/      the composition: CLI, machine, device set, plan printing
Inside arch/, a board (arch/x86, arch/arm64) may use arch/ but not the
other board. Modules (x.c with x.h) must not include each other in a cycle.
Prints one PASS/FAIL line per rule and "tree-layers: N passed, N failed".
"""
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
RANK = {"core": 0, "devices": 1, "vfio": 2, "arch": 2, "sandbox": 2, "vmm": 3}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources():
    for top in RANK:
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(dirpath, f), ROOT)


def resolve(src, name):
    for base in (os.path.dirname(src), ""):
        path = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(os.path.join(ROOT, path)):
            return path
    return None


def board(path):
    parts = path.split("/")
    return parts[1] if parts[0] == "arch" and len(parts) > 2 else None


def main():
    upward, unresolved, edges = [], [], {}
    for src in sources():
        with open(os.path.join(ROOT, src), encoding="utf-8") as f:
            text = f.read()
        for name in INCLUDE.findall(text):
            dst = resolve(src, name)
            if dst is None:
                unresolved.append(f"{src}: #include \"{name}\"")
                continue
            s_top, d_top = src.split("/")[0], dst.split("/")[0]
            if d_top not in RANK:
                upward.append(f"{src} includes {dst}, outside the layers")
            elif RANK[d_top] > RANK[s_top]:
                upward.append(f"{src} ({s_top}) includes {dst} ({d_top}), a higher layer")
            elif RANK[d_top] == RANK[s_top] and d_top != s_top:
                upward.append(f"{src} ({s_top}) includes {dst} ({d_top}), a sibling layer")
            elif board(src) and board(dst) and board(src) != board(dst):
                upward.append(f"{src} includes {dst}: one board must not use another")
            a, b = os.path.splitext(src)[0], os.path.splitext(dst)[0]
            if a != b:
                edges.setdefault(a, set()).add(b)

    # Cycles between modules: depth-first search with colours.
    cycles, colour, stack = [], {}, []

    def visit(node):
        colour[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if colour.get(nxt, 0) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif colour.get(nxt, 0) == 0:
                visit(nxt)
        stack.pop()
        colour[node] = 2

    sys.setrecursionlimit(10000)
    for node in sorted(edges):
        if colour.get(node, 0) == 0:
            visit(node)

    passed = failed = 0
    for title, problems in (("every include resolves to a file of the tree", unresolved),
                            ("no include points up or sideways across layers", upward),
                            ("no include cycle between modules", cycles)):
        if problems:
            failed += 1
            print(f"FAIL {title}:")
            for p in problems[:30]:
                print(f"   {p}")
        else:
            passed += 1
            print(f"PASS {title}")
    print(f"tree-layers: {passed} passed, {failed} failed")
    results = os.environ.get("TEST_RESULTS_DIR")
    if results:
        os.makedirs(results, exist_ok=True)
        with open(os.path.join(results, "tree-layers"), "w") as f:
            f.write(f"{passed} {failed}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
