#!/usr/bin/env python3
"""Reads tests/nested/boot-trace.sh's "TRACE <kind> ..." lines (stdin, e.g.
an L1 console log) and prints, per boot: wall time and guest uptime at
userspace, the slowest initcalls and the largest gaps between consecutive
kernel messages (where the guest spent time outside initcalls too).
Usage: boot-trace-summary.py [N] < log   (N: rows per list, default 12)"""
import re
import sys

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 12
stamp = re.compile(r"^\[\s*(\d+\.\d+)\] (.*)")
initcall = re.compile(r"initcall (\S+?)\+\S* returned \S+ after (\d+) usecs")
boots = []  # (kind, {"wall":, "uptime":, "vmm":, "lines": [(t, text)]})
for raw in sys.stdin:
    words = raw.rstrip("\r\n").split(" ", 3)
    if len(words) < 4 or words[0] != "TRACE":
        continue
    kind, tag, rest = words[1], words[2], words[3]
    if not boots or boots[-1][0] != kind or "done" in boots[-1][1]:
        boots.append((kind, {"wall": "?", "lines": []}))
    boot = boots[-1][1]
    if tag == "WALL_MS":
        boot["wall"] = rest
    elif tag == "DMESG":
        m = stamp.match(rest)
        if m:
            boot["lines"].append((float(m.group(1)), m.group(2)))
    elif tag == "UPTIME":
        boot["uptime"] = rest
        boot["done"] = True
    elif tag == "VMM":
        boot.setdefault("vmm", []).append(rest)

for kind, b in boots:
    lines = b["lines"]
    print(f"== {kind}: {b['wall']} ms wall to userspace; guest UPTIME {b.get('uptime', '?')}")
    for line in b.get("vmm", []):
        print("   " + line)
    calls = sorted(((int(m.group(2)), m.group(1), t) for t, text in lines
                    for m in [initcall.search(text)] if m), reverse=True)
    print("   slowest initcalls (ms, at guest time):")
    for us, name, t in calls[:rows]:
        print(f"   {us / 1000:8.1f}  {name}  @{t:.3f}")
    gaps = sorted(((b2[0] - a[0], a, b2) for a, b2 in zip(lines, lines[1:])), reverse=True)
    print("   largest gaps between kernel messages (ms: before -> after):")
    for d, a, b2 in gaps[:rows]:
        print(f"   {d * 1000:8.1f}  @{a[0]:.3f} {a[1][:60]}  ->  {b2[1][:60]}")
