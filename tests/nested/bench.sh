#!/bin/bash
# make bench: runs the benchmarks inside one L1 host, then the DMA-mapping
# one in an L1 on the iommufd kernel, and prints one table of every figure
# against its reference from the same run (tests/nested/bench-json.py,
# which also writes it to build/bench/). Progress lines go to stderr.
# BENCH_DMA=0 leaves out the DMA-mapping L1 (the longest part);
# VMM_BEFORE=PATH also boots another build of the VMM for a before/after.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
figures=$(mktemp)
trap 'rm -f "$figures"' EXIT
# Start-up CPU on this host's own KVM first, while nothing else runs.
bash "$here/../bench-startup.sh" | tee -a "$figures" >&2
L1_ENV="BENCH_RUNS VMM_BEFORE" L1_MEM=${L1_MEM:-4096} bash "$here/run-in-l1.sh" bash "$here/bench-all.sh" |
	tr -d '\r' | grep -E '^(BENCH|run [0-9])' | tee -a "$figures" >&2
rc=${PIPESTATUS[0]}
# DMA mapping per guest RAM backing, legacy against iommufd: an L1 on the
# self-built iommufd kernel (guest-images/build-host-kernel.sh; built once
# when not cached), with room for a pinned 4 GiB guest.
if [ "${BENCH_DMA:-1}" != 0 ]; then
	VMM_L1_KERNEL=iommufd L1_ENV="BENCH_RUNS BENCH_DMA_SIZES" L1_MEM=${L1_DMA_MEM:-6144} L1_TIMEOUT=2400 \
		bash "$here/run-in-l1.sh" bash "$here/bench-dma-map.sh" | tr -d '\r' | grep -E '^BENCH' |
		tee -a "$figures" >&2
	[ "${PIPESTATUS[0]}" = 0 ] || rc=1
fi
python3 "$here/bench-json.py" < "$figures" || rc=1
exit "$rc"
