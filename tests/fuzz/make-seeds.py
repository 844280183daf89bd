#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora and the generated reproducers.

usage: make-seeds.py SEEDS_DIR REPRODUCERS_DIR

Each target NAME gets SEEDS_DIR/NAME/* (well-formed inputs that reach deep
into the code) and, where a past bug needs binary input, REPRODUCERS_DIR/
NAME/* (text reproducers are committed in tests/fuzz/reproducers/NAME/).
The encodings follow the comments at the top of each tests/fuzz/fuzz_*.c
(little-endian values, read by tests/fuzz/fuzz_input.h). Nothing here is
random: the same files every time.
"""
import os
import struct
import sys


def u8(v): return struct.pack("<B", v & 0xff)
def u16(v): return struct.pack("<H", v & 0xffff)
def u32(v): return struct.pack("<I", v & 0xffffffff)
def u64(v): return struct.pack("<Q", v & 0xffffffffffffffff)


MiB, GiB = 1 << 20, 1 << 30


# --- planner -----------------------------------------------------------------

def plan(arm64, ram, ncpus=1, bits=40, iova_limit=0, holes=(), page_shift=0, msi=None):
    # msi: None (the host's window), ("auto", size_mib), (addr, size_mib) or
    # ("chosen", addr, size_mib): where the board placed it before
    board = 1 if arm64 else 0
    extra = b""
    if msi is not None and msi[0] == "chosen":
        board |= 6
        extra = u64(msi[1]) + u8(msi[2])
    elif msi is not None:
        board |= 2 if msi[0] == "auto" else 4
        extra = u64(0 if msi[0] == "auto" else msi[0]) + u8(msi[1])
    out = (u8(board) + extra + u64(ram) + u8(ncpus) + u8(bits) + u8(page_shift) +
           u64(iova_limit))
    for start, size, fw in holes:
        out += u64(start) + u64(size) + u8(fw)
    return out


def planner():
    seeds = {
        "x86-256m": plan(False, 256 * MiB),
        "x86-6g-msi": plan(False, 6 * GiB, 4, holes=[(0xfee00000, 0x100000, 1)]),
        "x86-vtd-39bit": plan(False, 16 * GiB, 2, iova_limit=0x8000000000,
                              holes=[(0xfee00000, 0x100000, 1), (0xe0000, 0x20000, 1)]),
        "x86-low-holes": plan(False, 1 * GiB, 1, holes=[(0x30000000, 0x400000, 1),
                                                         (0x10000000, 0x200000, 0),
                                                         (0x10100000, 0x200000, 1)]),
        "arm64-2g-smmu": plan(True, 2 * GiB, 2, holes=[(0x8000000, 0x100000, 1)]),
        "arm64-8cpu-48bit": plan(True, 8 * GiB, 8, bits=48),
        "arm64-16k-pages": plan(True, 4 * GiB, 2, page_shift=14,
                                holes=[(0x8000000, 0x100000, 1)]),
        "x86-64k-pages": plan(False, 2 * GiB, 1, page_shift=16),
        "x86-top-hole": plan(False, 6 * GiB, 1, holes=[(0x8000000000, 0xffffff8000000000, 1)]),
        # The MSI window the VMM chooses (holes' flag bit 1: a host default window).
        "arm64-msi-auto": plan(True, 1 * GiB, 2, msi=("auto", 1),
                               holes=[(0x50000000, 0x200000, 1)]),
        "arm64-msi-at": plan(True, 512 * MiB, 2, msi=(0x30000000, 2)),
        "arm64-msi-at-ram": plan(True, 1 * GiB, 2, msi=(0x8000000, 1)),
        "arm64-msi-host-default": plan(True, 1 * GiB, 2, holes=[(0x8000000, 0x100000, 3)]),
        "x86-msi-at": plan(False, 1 * GiB, 1, msi=(0x30000000, 1)),
        "arm64-msi-chosen-4g": plan(True, 4 * GiB, 2, msi=("chosen", 0xfee00000, 1)),
    }
    repro = {
        # No vCPU: the GIC redistributor window had size 0.
        "zero-cpus": plan(True, 0x310000, 0, 0),
        # A 64-bit address width: 1 << 64, and the 64-bit MMIO window wrapped past 2^64
        # (board_plan now refuses widths above 52 bits; the planner's searches cannot wrap).
        "64-bit-width": plan(True, 0xffffffff2ce00000, 1, 64),
        "huge-iova-limit": plan(True, 0xffffffff2ce00000, 1, 52, iova_limit=0xffffffffffffffff),
        # The whole space reserved: the plan fails.
        "whole-space-hole": plan(False, 256 * MiB, 1, holes=[(0, 0xffffffffffffffff, 1)]),
        # A window planned again where it was chosen, now under a host hole: it
        # was placed there anyway (fixed windows may share holes' addresses).
        "msi-chosen-under-a-hole": plan(True, 512 * MiB, 2, holes=[(0x1000003d, 0x9e000000, 0)],
                                        msi=("chosen", 0x30000000, 0)),
    }
    return seeds, repro


# --- reserved regions and IOVA ranges -------------------------------------------

def host_regions():
    seeds = {
        "sysfs-x86": b"0x00000000fee00000 0x00000000feefffff msi\n"
                     b"0x00000000000e0000 0x00000000000fffff direct\n"
                     b"0x0000000000000000 0x0000000000ffffff direct-relaxable\n",
        "arm64-smmu": b"0x0000000008000000 0x00000000080fffff msi\n",
        "mixed": b"0x0000000030000000 0x00000000303fffff direct\n\n  \n"
                 b"0x0000000010000000 0x00000000101fffff reserved\n"
                 b"0x2000 0x2fff future-type\n0x3000 0x3fff msi",
    }
    return seeds, {}


def iova_info(ranges, cap_offset=32, other_cap=True):
    """A VFIO_IOMMU_GET_INFO reply: header, optionally another capability, the IOVA ranges."""
    caps = 1 << 1  # VFIO_IOMMU_INFO_CAPS
    body = b""
    off = cap_offset
    if other_cap:
        body += u16(7) + u16(1) + u32(off + 8)
        off += 8
    body += u16(1) + u16(1) + u32(0)  # VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, last
    body += u32(len(ranges)) + u32(0)
    for start, end in ranges:
        body += u64(start) + u64(end)
    total = cap_offset + len(body)
    head = u32(total) + u32(caps) + u64(0x40201000) + u32(cap_offset) + u32(0)
    return head + b"\0" * (cap_offset - len(head)) + body


def iova_cap():
    seeds = {
        "vtd-39bit": iova_info([(0, 0xfedfffff), (0xfef00000, 0x7fffffffff)]),
        "one-range": iova_info([(0, 0xffffffffffffffff)], other_cap=False),
        "smmu": iova_info([(0, 0x7ffffff), (0x8100000, 0xffffffffffff)]),
    }
    repro = {
        # A capability at an odd offset: misaligned reads of its u64 fields.
        "misaligned-capability": iova_info([(0, 0xffff)], cap_offset=33, other_cap=False),
    }
    return seeds, repro


# --- kernel images -------------------------------------------------------------

def bzimage(pref=0x1000000, init_size=0x2000000, length=2048, setup_sects=1):
    img = bytearray(length)
    img[0x1f1] = setup_sects
    struct.pack_into("<I", img, 0x1f4, (length - (setup_sects + 1) * 512) // 16)
    struct.pack_into("<H", img, 0x1fe, 0xaa55)
    img[0x201] = 0x6a
    img[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", img, 0x206, 0x020f)
    img[0x211] = 0x01
    struct.pack_into("<I", img, 0x22c, 0x7fffffff)
    struct.pack_into("<I", img, 0x230, 0x200000)
    img[0x234] = 1
    struct.pack_into("<H", img, 0x236, 0x7f)
    struct.pack_into("<I", img, 0x238, 2047)
    struct.pack_into("<Q", img, 0x258, pref)
    struct.pack_into("<I", img, 0x260, init_size)
    return bytes(img)


def bzimage_seeds():
    seeds = {
        "linux-6": u32(10 * MiB) + bzimage(),
        "no-initrd": u32(0) + bzimage(pref=0x7000000, init_size=0x100000),
        "not-relocatable": u32(1 * MiB) + bzimage(pref=0x100000),
    }
    repro = {
        # pref_address + init_size wrapped: the kernel was "placed" outside RAM.
        "pref-address-wraps": u32(0) + bzimage(pref=0xfffffffffff00000),
    }
    return seeds, repro


def arm64_image(text_offset=0, image_size=0x1000000, flags=0x8, length=256):
    img = bytearray(length)
    struct.pack_into("<QQQ", img, 8, text_offset, image_size, flags)
    img[56:60] = b"ARM\x64"
    return bytes(img)


def arm64_image_seeds():
    seeds = {
        "linux-6": u64(0x40000000) + u64(256 * MiB) + arm64_image(),
        "old-kernel": u64(0) + u64(64 * MiB) + arm64_image(text_offset=0x80000, image_size=0),
        "odd-bank": u64(0x8100000) + u64(0x10000000) + arm64_image(text_offset=0x1000),
    }
    repro = {
        "bank-at-the-top": u64(0xffffffffffe00001) + u64(0x1fffff) + arm64_image(image_size=0x1000),
    }
    return seeds, repro


# --- command line ------------------------------------------------------------------

def argv(*args):
    return b"\0".join(a.encode() for a in args)


def cli():
    seeds = {
        "run": argv("run", "-k", "bz", "-i", "rd", "-p", "quiet", "-m", "512M", "-c", "4",
                    "--timeout", "30"),
        "run-devices": argv("run", "--kernel=bz", "--disk", "a.img,ro", "--disk", "b.img",
                            "--net", "tap=t0,mac=52:54:00:12:34:56", "--console", "virtio",
                            "--vfio", "01:00.0", "--reserved", "r.txt", "--no-rng", "-d"),
        "run-fast": argv("run", "-k", "bz", "--disk", "c.img,queues=4,ro", "--mem-backing",
                         "hugetlb=1G"),
        "plan": argv("plan", "-m", "2G", "--json", "--arch", "arm64"),
        "plan-msi-window": argv("plan", "--arch", "arm64", "--msi-window", "0x30000000,2M",
                                "--msi-window=host", "--msi-window", "auto"),
        "vfio-bind": argv("vfio-bind", "0000:01:00.0"),
        "help": argv("--help"),
        "version": argv("version"),
    }
    repro = {
        # The message named argv[0]; the parse after it resumed inside freed text.
        "short-option-cluster": argv("plan", "-zd"),
        "long-option-with-value": argv("plan", "--json=1"),
    }
    return seeds, repro


def size():
    seeds = {n: v.encode() for n, v in {
        "mib": "512M", "gib": "2GiB", "kib": "1024k", "bytes": "4096", "tib": "1T",
        "huge": "99999999999999999999", "suffix-b": "512MB"}.items()}
    return seeds, {}


def buddyinfo():
    x86 = (b"Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3 \n"
           b"Node 0, zone    DMA32      2      4      2      2      1      2      0      3      3      1    753 \n"
           b"Node 0, zone   Normal   5679   7091   3140   1959   2293   2268   1067    488    215    269   1091 \n")
    seeds = {
        "x86-4k-pages-2m-blocks": u8(2) + u8(9) + x86,
        "arm64-16k-pages-32m-blocks": u8(4) + u8(11) + x86.replace(b"DMA32", b"Normal"),
        "two-nodes-no-newline": u8(2) + u8(9) + b"Node 0, zone Normal 1 2 3\nNode 1, zone Movable 0 0 0 0 0 0 0 0 0 7",
        "huge-count": u8(2) + u8(9) + b"Node 0, zone Normal 0 0 0 0 0 0 0 0 0 18446744073709551615 99999999999999999999\n",
    }
    return seeds, {}


# --- buses and devices ---------------------------------------------------------------

def io_bus():
    ranges = [(0x3f8, 8), (0xcf8, 8), (0xc0000000, 0x1000), (0xfffffffffffff000, 0x1000)]
    out = u8(len(ranges))
    for base, length in ranges:
        out += u64(base) + u64(length)
    for addr, how in [(0x3f8, 0), (0x3ff, 1), (0xcfc, 6), (0xc0000ffc, 2), (0xc0000ffd, 2),
                      (0x1234, 3), (0xfffffffffffffff8, 3)]:
        out += u64(addr) + u8(how)
    return {"pc-ports": out}, {}


def uart_op(kind, reg, width=0):
    return u8(kind | reg << 2 | width << 5)


def serial():
    w = lambda reg, v: uart_op(0, reg) + u8(v)
    r = lambda reg: uart_op(1, reg)
    probe = (w(3, 0x80) + w(0, 0x01) + w(1, 0x00) + w(3, 0x03) + w(2, 0x07) + r(2) +
             w(4, 0x10) + r(6) + w(4, 0x0b) + w(1, 0x0f) + r(2) + w(0, 0x41) + r(5) + r(0))
    typed = uart_op(2, 0) + u8(5) + b"hello" + w(1, 0x01) + r(2) + r(0) + r(0) + r(5)
    wide = uart_op(0, 0, 2) + b"ABCD" + uart_op(1, 4, 3)
    return {"linux-probe": probe, "typed-input": typed, "wide-access": wide}, {}


def msix_op(kind, offset, width=2, value=b""):
    return u8(kind | width << 3) + u16(offset) + value


def msix():
    program = (u8(4) + u8(1) +
               msix_op(0, 0, 2, u32(0xfee00000)) + msix_op(0, 4, 2, u32(0)) +
               msix_op(0, 8, 2, u32(0x4021)) + msix_op(0, 12, 2, u32(0)) +
               msix_op(4, 1) + msix_op(5, 0) + msix_op(2, 0, 0) +
               msix_op(0, 12, 2, u32(1)) + msix_op(5, 0) + msix_op(2, 0, 3) +
               msix_op(0, 12, 2, u32(0)) + msix_op(4, 3) + msix_op(6, 0))
    qword = u8(2) + u8(0) + msix_op(0, 16, 3, u64(0xfee01000)) + msix_op(1, 16, 3) + msix_op(7, 1)
    return {"program-and-fire": program, "qword-entry": qword}, {}


def host_bars():
    unused = b"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
    seeds = {
        "nvme": b"0x00000000fea00000 0x00000000fea03fff 0x0000000000140204\n" + unused * 12,
        "bridge": unused * 13 + b"0x0000000000002000 0x0000000000002fff 0x0000000000000101\n"
                  b"0x00000000fe800000 0x00000000fe9fffff 0x0000000000000200\n" + unused * 2,
        "ivshmem-64g": b"0x00000000feb00000 0x00000000feb000ff 0x0000000000040200\n" + unused +
                       b"0x000000c000000000 0x000000cfffffffff 0x000000000014220c\n",
        "end-below-start": b"0x2000 0x1000 0x200\n",
        "to-the-top": b"0x0 0xffffffffffffffff 0x200\n0xfffffffffffff000 0xffffffffffffffff 0x200\n",
    }
    return seeds, {}


def msix_layout_seed(control, table, pba, bar_shifts, page=0, flags=0, arm=()):
    return (u16(control) + u32(table) + u32(pba) + b"".join(u8(s) for s in bar_shifts) +
            u8(page) + u8(flags) + b"".join(u16(v) for v in arm))


def msix_layout():
    seeds = {
        # QEMU nvme: 65 vectors, table 0x2000 and PBA 0x3000 in a 16 KiB BAR0.
        "nvme-shared-bar0": msix_layout_seed(64, 0x2000, 0x3000, [14, 0, 0, 0, 0, 0],
                                             arm=[0xfffe, 0, 1, 64, 2, 3]),
        # 2048 vectors, table in BAR0, PBA in BAR4, NORESIZE.
        "split-bars-2048": msix_layout_seed(2047, 0x10000, 0x1000 | 4, [17, 0, 0, 0, 13, 0],
                                            flags=1, arm=[0, 100, 2047, 5, 0xffff, 7]),
        "64k-pages": msix_layout_seed(7, 0x0, 0x800, [12, 0, 0, 0, 0, 0], page=2, arm=[3, 1]),
        "table-beyond-bar": msix_layout_seed(2047, 0x2000, 0x3000, [14, 0, 0, 0, 0, 0]),
        "overlap": msix_layout_seed(3, 0x1000, 0x1020, [14, 0, 0, 0, 0, 0]),
    }
    return seeds, {}


def pci_op(kind, where, width=2, write=False, value=0):
    return u8(kind | width << 3 | (0x20 if write else 0)) + u32(where) + u64(value)


def cam_address(slot, reg):
    return 0x80000000 | slot << 11 | reg


def pci_config():
    cam = (pci_op(0, 0, 2, True, cam_address(1, 0)) + pci_op(1, 0) +
           pci_op(0, 0, 2, True, cam_address(1, 0x10)) + pci_op(1, 0, 2, True, 0xffffffff) +
           pci_op(1, 0) + pci_op(1, 0, 2, True, 0xc0000000) +
           pci_op(0, 0, 2, True, cam_address(1, 4)) + pci_op(1, 0, 1, True, 6) +
           pci_op(3, 0x10, 2, True, 1) + pci_op(3, 0xfff, 2))
    ecam = (pci_op(2, 1 << 15) + pci_op(2, (1 << 15) | 0x14, 2, True, 0xffffffff) +
            pci_op(2, (1 << 15) | 0x18, 2, True, 0xffffffff) + pci_op(2, (1 << 15) | 0x14, 2) +
            pci_op(2, (1 << 15) | 4, 1, True, 2) + pci_op(4, 0, 3, True, 7) +
            pci_op(2, 31 << 15) + pci_op(5, (2 << 16) | 0x100, 2))
    return {"cam-bar-sizing": cam, "ecam-64bit-bar": ecam}, {}


# --- a passed-through function's config space ----------------------------------------

def vfio_bar(log2, mmap=True, odd=False):
    return (log2 & 63) | (0x40 if odd else 0) | (0x80 if mmap else 0)


def msi_cap(flags):
    return u8(0x05) + b"\0" + u16(flags) + bytes(20)


def msix_cap(nvectors, table, pba):
    return u8(0x11) + b"\0" + u16(nvectors - 1) + u32(table) + u32(pba)


def pcie_cap():
    return u8(0x10) + b"\0" + u16(2) + bytes(56)


def vfio_device(flags=0x0b, msi=1, msix=0, memslots=0, bars=(0,) * 6, raw_bars=(0,) * 6,
                caps=(), first_cap=None, ops=b"", command=0):
    """A device header (see fuzz_vfio_config.c), config space with caps [(offset, bytes)] chained."""
    cfg = bytearray(256)
    cfg[0:4] = u16(0x8086) + u16(0x10d3)
    cfg[4:6] = u16(command)
    cfg[6:8] = u16(0x10 if caps or first_cap else 0)  # Capabilities List
    cfg[0x0e] = 0x80                                  # multi-function: hidden from the guest
    for i, raw in enumerate(raw_bars):
        cfg[0x10 + 4 * i:0x14 + 4 * i] = u32(raw)
    cfg[0x30:0x34] = u32(0xfffe0001)                  # a ROM the guest must not see
    cfg[0x3d] = 1
    for i, (offset, body) in enumerate(caps):
        cfg[offset:offset + len(body)] = body
        cfg[offset + 1] = caps[i + 1][0] if i + 1 < len(caps) else 0
    cfg[0x34] = first_cap if first_cap is not None else (caps[0][0] if caps else 0)
    return (u8(flags) + u8(msi) + u16(msix) + u8(memslots) + b"".join(u8(b) for b in bars) +
            bytes(cfg) + ops)


def cfg_op(offset, width=2, write=False, value=0):
    return pci_op(0, offset, width, write, value)


def bar_op(bar, offset, width=2, write=False, value=0):
    return pci_op(3, bar << 28 | offset, width, write, value)


def msix_arm(bar, table, vector):
    entry = table + 16 * vector
    return (bar_op(bar, entry, 2, True, 0xfee00000) + bar_op(bar, entry + 4, 2, True, 0) +
            bar_op(bar, entry + 8, 2, True, 0x4020 + vector) + bar_op(bar, entry + 12, 2, True, 0))


def msi_enable(cap, log2_vectors, mask=0):
    return (cfg_op(cap + 4, 2, True, 0xfee01000) + cfg_op(cap + 8, 2, True, 0) +
            cfg_op(cap + 12, 1, True, 0x4023) + cfg_op(cap + 16, 2, True, mask) +
            cfg_op(cap + 2, 1, True, 1 | log2_vectors << 4))


def bar_sizing(reg):
    return cfg_op(reg) + cfg_op(reg, 2, True, 0xffffffff) + cfg_op(reg)


def vfio_config():
    nic_caps = [(0xc8, u8(1) + b"\0" + u16(3) + bytes(4)), (0xd0, msi_cap(0x80)),
                (0xe0, pcie_cap()), (0xa0, msix_cap(5, 3, 0x2000 | 3))]
    nic_ops = (cfg_op(0) + bar_sizing(0x10) + cfg_op(0x10, 2, True, 0xdf000000) +
               cfg_op(4, 1, True, 6) + cfg_op(0x30) + cfg_op(0x0c) +
               cfg_op(0xa3, 1, True, 0x80) + msix_arm(3, 0, 0) + msix_arm(3, 0, 4) +
               pci_op(6, 0, 0, False, 4) + bar_op(3, 0x2000, 3) +
               cfg_op(0x10, 2, True, 0xde000000) + bar_op(0, 0x100, 2, True, 7) +
               cfg_op(0xa3, 1, True, 0xc0) + cfg_op(0xa3, 1, True, 0) +
               msi_enable(0xd0, 0) + pci_op(6, 1, 0) + cfg_op(0xd2, 1, True, 0) +
               cfg_op(4, 2, True, 0) + bar_sizing(0x1c) + cfg_op(4, 2, True, 2))
    nvme_caps = [(0x40, u8(1) + b"\0" + u16(3) + bytes(4)), (0x50, msix_cap(65, 0x2000, 0x3000)),
                 (0x60, pcie_cap())]
    nvme_ops = (cfg_op(4, 2, True, 6) + cfg_op(0x53, 1, True, 0x80) + msix_arm(0, 0x2000, 0) +
                msix_arm(0, 0x2000, 64) + bar_op(0, 0x1000, 2, True, 1) + bar_op(0, 0x3000, 3) +
                bar_sizing(0x10) + bar_sizing(0x14) + cfg_op(0x14, 2, True, 0x80) +
                cfg_op(0x10, 2, True, 0x10000) + bar_op(0, 0x2010, 2) + cfg_op(0x53, 1, True, 0))
    # The device clears its own Memory Space Enable (a reset the guest started through
    # the PCIe capability); the guest reads the command register: the memslots go.
    reset_ops = cfg_op(4, 2, True, 6) + pci_op(5, 4, 1, True, 0) + cfg_op(4, 1)
    multi_msi_ops = (msi_enable(0x50, 2, 0x2) + cfg_op(0x52, 1, True, 0) + msi_enable(0x50, 3) +
                     cfg_op(0x50 + 20) + pci_op(6, 1, 0, False, 1) + cfg_op(0x50 + 20) +
                     cfg_op(0x50 + 16, 2, True, 0) + cfg_op(0x52, 1, True, 0))
    seeds = {
        "nic": vfio_device(0x0b, 1, 5, 0, (vfio_bar(17), 0, vfio_bar(5, False), vfio_bar(14), 0, 0),
                           (0, 0, 1, 0, 0, 0), nic_caps, ops=nic_ops),
        "nvme-64bit-shared-bar": vfio_device(0x03, 0, 65, 0, (vfio_bar(14), 0, 0, 0, 0, 0),
                                             (4, 0, 0, 0, 0, 0), nvme_caps, ops=nvme_ops),
        # 8 MSI vectors capable, per-vector masking; the host gives one.
        "msi-host-refuses-many": vfio_device(0x1b, 8, 0, 0, (vfio_bar(12),) + (0,) * 5,
                                             (0,) * 6, [(0x50, msi_cap(0x180 | 3 << 1))],
                                             ops=multi_msi_ops),
        "msix-refused": vfio_device(0x2b, 0, 4, 0, (vfio_bar(14),) + (0,) * 5, (0,) * 6,
                                    [(0x40, msix_cap(4, 0x1000, 0x1800))],
                                    ops=cfg_op(0x43, 1, True, 0x80) + msix_arm(0, 0x1000, 3) +
                                    msix_arm(0, 0x1000, 1) + cfg_op(0x43, 1, True, 0)),
        "capability-loop": vfio_device(0x08, 0, 0, 0, (vfio_bar(12),) + (0,) * 5, (0,) * 6,
                                       [(0x40, u8(5) + b"\0" + bytes(10))], first_cap=0x40,
                                       ops=b"".join(cfg_op(o, 2) for o in range(0x34, 0x60, 4))),
        "capability-past-the-end": vfio_device(0x08, 0, 0, 0, (vfio_bar(12),) + (0,) * 5,
                                               (0,) * 6, [(0xfc, u8(0x11) + b"\xff" + u16(0x7ff))],
                                               ops=cfg_op(0xfc) + cfg_op(0xff, 1, True, 0xc0)),
        "msix-table-past-bar": vfio_device(0x03, 0, 2048, 0, (vfio_bar(14),) + (0,) * 5, (0,) * 6,
                                           [(0x40, msix_cap(2048, 0x2000, 0x3000))]),
        "absurd-bars": vfio_device(0x03, 0, 0, 0, (vfio_bar(63), 0, vfio_bar(12, odd=True),
                                                   0, 0, vfio_bar(12)), (4, 0, 0, 0, 0, 4)),
        "huge-bar-no-mmap": vfio_device(0x03, 0, 0, 0, (vfio_bar(36), 0, vfio_bar(12), 0, 0, 0),
                                        (0xc, 0, 0, 0, 0, 0),
                                        ops=cfg_op(4, 1, True, 2) + bar_op(0, 0x10, 3, True, 1)),
        "kvm-refuses-memslots": vfio_device(0x43, 0, 0, 0, (vfio_bar(16),) + (0,) * 5, (0,) * 6,
                                            ops=cfg_op(4, 1, True, 2) + cfg_op(4, 1, True, 0) +
                                            pci_op(7, 0, 0, False, 0) + cfg_op(4, 1, True, 2) +
                                            cfg_op(0x10, 2, True, 0xc0000000)),
        "memslots-run-out": vfio_device(0x03, 0, 0, 2, (vfio_bar(16), vfio_bar(16)) + (0,) * 4),
        "config-too-short": vfio_device(0x83),
    }
    reproducers = {
        "decoding-off-by-the-device": vfio_device(0x03, 0, 65, 0, (vfio_bar(14),) + (0,) * 5,
                                                  (4, 0, 0, 0, 0, 0), nvme_caps, ops=reset_ops),
        # A QWORD write starting 4 bytes below the MSI-X table: it reached the device's table.
        "write-straddling-the-table": vfio_device(0x03, 0, 4, 0, (vfio_bar(14),) + (0,) * 5,
                                                  (0,) * 6, [(0x40, msix_cap(4, 0x1000, 0x1800))],
                                                  ops=cfg_op(4, 1, True, 2) +
                                                  bar_op(0, 0x1000 - 4, 3, True, 0x1122334455667788)),
        # The device comes up decoding: its BAR was not mapped until the guest wrote the command.
        "decoding-from-the-start": vfio_device(0x03, 0, 0, 0, (0,) * 5 + (vfio_bar(12),), command=2),
        # Refused with a message (was: refused without one, the BAR check failing later).
        "bar5-64bit": vfio_device(0x03, 0, 0, 0, (0, 0, 0, 0, 0, vfio_bar(12)), (0, 0, 0, 0, 0, 4)),
    }
    return seeds, reproducers


# --- virtqueues and virtio devices --------------------------------------------------

def vq_write(gpa, data):
    return u8(0) + u16(gpa - 0x1000) + u8(len(data)) + data


def desc(addr, length, flags=0, nxt=0):
    return struct.pack("<QIHH", addr, length, flags, nxt)


NEXT, WRITE, INDIRECT = 1, 2, 4


def virtqueue():
    head = u8(3) + u16(0) + u16(0x100) + u16(0x200) + u8(1)  # size 8: desc 0x1000, avail 0x1100, used 0x1200
    avail = lambda idx, ring: vq_write(0x1100, u16(0) + u16(idx) + b"".join(u16(h) for h in ring))
    direct = (head + vq_write(0x1000, desc(0x8000, 16, NEXT, 1) + desc(0x8100, 32, WRITE)) +
              avail(1, [0]) + u8(1) + u8(3) + u16(0) + u16(16) + u8(4) + u16(4) + u16(20) +
              u8(5) + u16(8) + u16(30) + u8(2) + u16(0) + u32(32))
    indirect = (head + vq_write(0x1000, desc(0x9000, 32, INDIRECT)) +
                vq_write(0x9000, desc(0x3ff0, 16, NEXT, 1) + desc(0x8200, 64, WRITE)) +
                avail(1, [0]) + u8(1) + u8(2) + u16(0) + u32(64))
    gap = (head + vq_write(0x1000, desc(0x3ff0, 0x20, NEXT, 1) + desc(0x4000, 16, WRITE, 0) +
                           desc(0x8000, 8, NEXT, 2)) +
           avail(3, [0, 2, 7]) + u8(1) + u8(1) + u8(1) + u8(6) + u16(0x40) + u16(0x140) + u16(0x240))
    return {"direct": direct, "indirect-across-banks": indirect, "into-the-gap": gap}, {}


BAR_NOTIFY, BAR_MSIX = 0x3000, 0x4000
CAP_MSIX = 0x84


def vp_bar_write(offset, value, width):
    return u8(0 | width << 3) + u16(offset) + value


RAM_SPAN = (1 << 20) + 0x2000  # fuzz_virtio_pci.c: where % (VG_RAM_SIZE + 0x2000)


def vp_chain(segs, writable=True):
    """Buffers at RAM offsets; bit 31 of 'where' makes one device-writable."""
    out = u8(7) + u8(len(segs) - 1)
    for offset, length in segs:
        where = offset + 0x1000
        if writable:
            where += -(-((1 << 31) - where) // RAM_SPAN) * RAM_SPAN
        out += u32(where) + u16(length)
    return out


def virtio_pci():
    rng_ram = 0x50000  # offsets in guest RAM, past the rings
    init = u8(6) + u16(0)
    enable_msix = u8(2 | 1 << 3) + u16(CAP_MSIX + 2) + u16(0x8000)
    program = (vp_bar_write(BAR_MSIX, u32(0xfee00000), 2) + vp_bar_write(BAR_MSIX + 8, u32(0x30), 2) +
               vp_bar_write(BAR_MSIX + 12, u32(0), 2))
    rng = (init + enable_msix + program + vp_chain([(rng_ram, 64)]) + vp_chain([(rng_ram + 0x100, 16)]) +
           vp_bar_write(BAR_NOTIFY, u16(0), 1) + u8(4) + u8(4) + u8(1 | 0 << 3) + u16(0x1000))
    registers = (u8(1 | 2 << 3) + u16(0x14) + u8(0 | 0 << 3) + u16(0x14) + u8(3) +
                 u8(0 | 2 << 3) + u16(0x16) + u32(0) + u8(1 | 1 << 3) + u16(0x18) +
                 u8(0 | 1 << 3) + u16(0x18) + u16(8) + u8(1 | 3 << 3) + u16(0x20) +
                 u8(1 | 0 << 3) + u16(0x2000) + u8(3 | 2 << 3) + u16(0x10) +
                 u8(2 | 2 << 3) + u16(0x10) + u32(0xffffffff) + u8(3 | 2 << 3) + u16(0x10))
    return {"rng-request": rng, "registers-and-bar-sizing": registers}, {}


VIRTIO_BLK = {"in": 0, "out": 1, "flush": 2, "get_id": 3, "discard": 4}


def blk_request(kind, sector=0, data_len=512, shape=0):
    return u8(0) + u8(shape) + u8(VIRTIO_BLK[kind]) + u8(sector) + u16(data_len)


def virtio_blk():
    turns = u8(1) + (u8(2 | 0x80)) * 4
    seeds = {
        "read-write": blk_request("out", 3) + blk_request("in", 3) + turns,
        "flush-get-id": blk_request("flush", data_len=0) + blk_request("get_id", data_len=20) + turns,
        "odd-shapes": (blk_request("in", 1, 100) + u8(0) + u8(0x40 | 0x20) + u8(0) + u8(0) + u8(8) +
                       u16(512) + u8(0) + blk_request("discard", 0, 16) + turns + u8(3) +
                       blk_request("in", 0, 512) + u8(1)),
        "reset-in-flight": blk_request("out", 10, 4096) * 8 + u8(1) + u8(3) + u8(4) + turns,
    }
    return seeds, {}


def net_post(queue_op, lens, header=b""):
    out = u8(queue_op) + u8(len(lens) - 1)
    for i, length in enumerate(lens):
        out += u16(length)
        if queue_op == 1 and i == 0:
            out += header[:min(length % 8192 + 1, 12)].ljust(min(length % 8192 + 1, 12), b"\0")
    return out


def virtio_net():
    rx_tx = (u64(0xffffffffffffffff) + net_post(0, [1535]) + net_post(0, [1535]) + u8(2) +
             u8(3) + u16(100) + b"\xff" * 64 + u8(4) + u8(4) +
             net_post(1, [11, 59 | 0x0], b"\0" * 12) + u8(2 | 0x80) + u8(4) + u8(5))
    small_buffers = (u64(1 << 15 | 1 << 32) + net_post(0, [99, 99, 99, 99]) * 3 + u8(2) +
                     u8(3 | 0x80) + u16(0) + b"\x01" * 64 + u8(4) + u8(4) + u8(6) + u64(0) +
                     net_post(0, [7]) + u8(2) + u8(3) + u16(20) + b"\x02" * 20 + u8(4))
    return {"rx-tx": rx_tx, "mergeable-small-buffers": small_buffers}, {}


TARGETS = {
    "fuzz_planner": planner,
    "fuzz_host_regions": host_regions,
    "fuzz_iova_cap": iova_cap,
    "fuzz_bzimage": bzimage_seeds,
    "fuzz_arm64_image": arm64_image_seeds,
    "fuzz_cli": cli,
    "fuzz_size": size,
    "fuzz_io_bus": io_bus,
    "fuzz_serial": serial,
    "fuzz_msix": msix,
    "fuzz_msix_layout": msix_layout,
    "fuzz_host_bars": host_bars,
    "fuzz_pci_config": pci_config,
    "fuzz_virtqueue": virtqueue,
    "fuzz_virtio_pci": virtio_pci,
    "fuzz_virtio_blk": virtio_blk,
    "fuzz_virtio_net": virtio_net,
    "fuzz_vfio_config": vfio_config,
    "fuzz_buddyinfo": buddyinfo,
}


def write_all(directory, files):
    os.makedirs(directory, exist_ok=True)
    for stale in set(os.listdir(directory)) - set(files):
        os.remove(os.path.join(directory, stale))
    for name, data in files.items():
        path = os.path.join(directory, name)
        try:
            with open(path, "rb") as f:
                if f.read() == data:
                    continue
        except FileNotFoundError:
            pass
        with open(path, "wb") as f:
            f.write(data)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    seeds_dir, repro_dir = sys.argv[1:]
    for target, make in TARGETS.items():
        seeds, repro = make()
        write_all(os.path.join(seeds_dir, target), seeds)
        if repro:
            write_all(os.path.join(repro_dir, target), repro)


if __name__ == "__main__":
    main()
