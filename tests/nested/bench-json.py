#!/usr/bin/env python3
"""make bench's one table and its JSON. Reads the benchmarks'
"BENCH <name> key=value ..." lines (stdin): startup (kind=dynamic, static),
boot (kind=vmm, vmm-nosb,
microvm, q35, before), blk (kind=vmm, vmm_nosandbox, qemu), vfio
(kind=vmm, qemu), dma-map (backend, size, backing, ms, fault_ms). Prints every figure
against its reference measured in the same run (QEMU, or 4 KiB pages for
the DMA-map time) and writes build/bench/bench-<UTC time>.json and
build/bench/latest.json, so runs can be compared."""
import json
import os
import subprocess
import sys
import time

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


raw = {}
for line in sys.stdin:
    words = line.split()
    if len(words) < 3 or words[0] != "BENCH" or "=" not in words[2]:
        continue
    fields = dict(w.split("=", 1) for w in words[2:] if "=" in w)
    raw.setdefault(words[1], []).append(fields)


def by_kind(name):
    return {r.get("kind"): r for r in raw.get(name, [])}


rows = []


def row(metric, unit, value, ref_name, ref_value, lower_is_better=True):
    v, r = number(value), number(ref_value)
    rows.append({"metric": metric, "unit": unit, "vmm": v, "reference": ref_name,
                 "reference_value": r, "ratio": round(v / r, 3) if v is not None and r else None,
                 "lower_is_better": lower_is_better})


boot = by_kind("boot")
vmm = boot.get("vmm", {})
for ref in ("microvm", "q35"):
    if ref in boot:
        row("boot: wall time to userspace", "ms", vmm.get("wall_ms"), "QEMU " + ref, boot[ref].get("wall_ms"))
        row("boot: guest uptime at userspace", "ms", vmm.get("uptime_ms"), "QEMU " + ref, boot[ref].get("uptime_ms"))
        row("VMM memory outside guest RAM", "kB", vmm.get("rss_kb"), "QEMU " + ref, boot[ref].get("rss_kb"))
startup = by_kind("startup")
for kind in ("dynamic", "static"):
    if kind in startup:
        row("VMM CPU from exec to first KVM_RUN, this host (median of %s), %s binary"
            % (startup[kind].get("runs"), kind), "ms", startup[kind].get("median_ms"), "target", 10)
if vmm:
    row("VMM CPU from exec to first KVM_RUN, in L1 (TCG)", "ms", vmm.get("startup_cpu_ms"), "target", 10)
    for ref in ("microvm", "q35"):
        if ref in boot:
            row("VMM CPU from exec to first KVM_RUN, in L1 (TCG)", "ms", vmm.get("startup_cpu_ms"),
                "QEMU " + ref, boot[ref].get("startup_cpu_ms"))
if "vmm-nosb" in boot:
    row("boot: wall time, seccomp filters on", "ms", vmm.get("wall_ms"), "filters off", boot["vmm-nosb"].get("wall_ms"))
if "before" in boot:
    row("boot: wall time to userspace", "ms", vmm.get("wall_ms"), "VMM_BEFORE", boot["before"].get("wall_ms"))
    row("boot: guest uptime at userspace", "ms", vmm.get("uptime_ms"), "VMM_BEFORE", boot["before"].get("uptime_ms"))

blk = by_kind("blk")
if "vmm" in blk and "qemu" in blk:
    row("virtio-blk 4K random read", "IOPS", blk["vmm"].get("iops"), "QEMU aio=io_uring", blk["qemu"].get("iops"), False)
    row("virtio-blk sequential read", "MiB/s", blk["vmm"].get("mib_s"), "QEMU aio=io_uring", blk["qemu"].get("mib_s"), False)
    row("virtio-blk guest interrupts per request", "irq/req", blk["vmm"].get("irq_per_req"), "QEMU aio=io_uring",
        blk["qemu"].get("irq_per_req"))
if "vmm" in blk and "before" in blk:
    row("virtio-blk 4K random read", "IOPS", blk["vmm"].get("iops"), "VMM_BEFORE", blk["before"].get("iops"), False)
    row("virtio-blk guest interrupts per request", "irq/req", blk["vmm"].get("irq_per_req"), "VMM_BEFORE",
        blk["before"].get("irq_per_req"))
if "vmm" in blk and "vmm_nosandbox" in blk:
    row("virtio-blk IOPS, seccomp filters on", "IOPS", blk["vmm"].get("iops"), "filters off",
        blk["vmm_nosandbox"].get("iops"), False)

vfio = by_kind("vfio")
if "vmm" in vfio and "qemu" in vfio:
    row("VFIO: VMM CPU per 1k device interrupts", "ms", vfio["vmm"].get("cpu_ms_per_1k_irq"), "QEMU vfio-pci",
        vfio["qemu"].get("cpu_ms_per_1k_irq"))
    row("VFIO: ping round trip", "ms", vfio["vmm"].get("rtt_ms"), "QEMU vfio-pci", vfio["qemu"].get("rtt_ms"))

dma = [r for r in raw.get("dma-map", []) if {"backend", "size", "backing", "ms"} <= r.keys()]
anon = {(r["backend"], r["size"]): r["ms"] for r in dma if r["backing"] == "anon"}
for r in dma:
    if r["backing"] != "anon":
        row(f"DMA-map all RAM: {r['backend']} {r['size']} {r['backing']}", "ms", r["ms"],
            "4 KiB pages", anon.get((r["backend"], r["size"])))


def fault_and_map(r):
    f, m = number(r.get("fault_ms")), number(r.get("ms"))
    return None if f is None or m is None else round(f + m, 1)


# The RAM is faulted in (in parallel) before it is mapped: both together.
anon_total = {(r["backend"], r["size"]): fault_and_map(r) for r in dma if r["backing"] == "anon"}
for r in dma:
    if r["backing"] != "anon" and fault_and_map(r) is not None:
        row(f"fault in + DMA-map: {r['backend']} {r['size']} {r['backing']}", "ms", fault_and_map(r),
            "4 KiB pages", anon_total.get((r["backend"], r["size"])))

if not rows:
    print("bench-json: no measurements", file=sys.stderr)
    sys.exit(1)


def show(x):
    return "?" if x is None else f"{x:g}"


width = max(len(r["metric"]) for r in rows)
print(f"BENCH {'figure':<{width}} {'unit':>7} {'vmm':>10} {'reference':>10}  ratio  against")
for r in rows:
    ratio = "?" if r["ratio"] is None else f"{r['ratio']:.2f}"
    print(f"BENCH {r['metric']:<{width}} {r['unit']:>7} {show(r['vmm']):>10} "
          f"{show(r['reference_value']):>10} {ratio:>6}  {r['reference']}")

try:
    commit = subprocess.run(["git", "-C", root, "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip()
except OSError:
    commit = ""
stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
out = os.path.join(root, "build", "bench")
os.makedirs(out, exist_ok=True)
doc = {"time": stamp, "commit": commit, "figures": rows, "raw": raw}
path = os.path.join(out, f"bench-{stamp}.json")
for p in (path, os.path.join(out, "latest.json")):
    with open(p, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
print("BENCH written to " + os.path.relpath(path, root) + " and build/bench/latest.json")
