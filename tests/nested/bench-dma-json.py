#!/usr/bin/env python3
"""Turns bench-dma-map.sh's "BENCH dma-map key=value ..." lines (stdin)
into build/bench/dma-map-<UTC time>.json, so runs can be compared: one
entry per measurement, and each backing's time against anon (4 KiB pages)
for the same size and IOMMU API."""
import json
import os
import sys
import time

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
runs = []
for line in sys.stdin:
    words = line.split()
    if words[:2] != ["BENCH", "dma-map"]:
        continue
    fields = dict(w.split("=", 1) for w in words[2:] if "=" in w)
    if {"backend", "size", "backing", "ms"} <= fields.keys():
        try:
            fields["ms"] = float(fields["ms"])
        except ValueError:
            fields["ms"] = None
        runs.append(fields)
anon = {(r["backend"], r["size"]): r["ms"] for r in runs if r["backing"] == "anon"}
for r in runs:
    base = anon.get((r["backend"], r["size"]))
    r["vs_anon"] = round(r["ms"] / base, 3) if r["ms"] and base else None
if not runs:
    print("bench-dma-json: no measurements", file=sys.stderr)
    sys.exit(1)
out = os.path.join(root, "build", "bench")
os.makedirs(out, exist_ok=True)
path = os.path.join(out, time.strftime("dma-map-%Y%m%dT%H%M%SZ.json", time.gmtime()))
with open(path, "w") as f:
    json.dump({"benchmark": "dma-map", "unit": "ms", "runs": runs}, f, indent=1)
    f.write("\n")
print("BENCH dma-map figures written to " + os.path.relpath(path, root))
