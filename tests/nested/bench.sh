#!/bin/bash
# make bench: runs the benchmarks inside one L1 host and prints figures,
# then the DMA-mapping one in an L1 on the iommufd kernel.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
L1_ENV="BENCH_RUNS" L1_MEM=${L1_MEM:-4096} bash "$here/run-in-l1.sh" bash "$here/bench-all.sh" |
	tr -d '\r' | grep -E '^(BENCH|run [0-9])'
rc=${PIPESTATUS[0]}
# DMA mapping per guest RAM backing, legacy against iommufd: an L1 on the
# self-built iommufd kernel (guest-images/build-host-kernel.sh; built once
# when not cached), with room for a pinned 4 GiB guest.
dma=$(mktemp)
VMM_L1_KERNEL=iommufd L1_ENV="BENCH_RUNS BENCH_DMA_SIZES" L1_MEM=${L1_DMA_MEM:-6144} L1_TIMEOUT=2400 \
	bash "$here/run-in-l1.sh" bash "$here/bench-dma-map.sh" | tr -d '\r' | grep -E '^BENCH' | tee "$dma"
[ "${PIPESTATUS[0]}" = 0 ] || rc=1
python3 "$here/bench-dma-json.py" < "$dma" || rc=1
rm -f "$dma"
exit "$rc"
