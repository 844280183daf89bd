#!/bin/bash
# make bench: runs the benchmarks inside one L1 host and prints figures,
# then the DMA-mapping one in an L1 on the iommufd kernel.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
L1_ENV="BENCH_RUNS" L1_MEM=${L1_MEM:-4096} bash "$here/run-in-l1.sh" bash "$here/bench-all.sh" |
	tr -d '\r' | grep -E '^(BENCH|run [0-9])'
rc=${PIPESTATUS[0]}
# DMA mapping, legacy against iommufd: an L1 on the self-built iommufd
# kernel (guest-images/build-host-kernel.sh; built once when not cached).
VMM_L1_KERNEL=iommufd L1_ENV="BENCH_RUNS" L1_MEM=${L1_MEM:-4096} \
	bash "$here/run-in-l1.sh" bash "$here/bench-dma-map.sh" | tr -d '\r' | grep -E '^BENCH'
[ "${PIPESTATUS[0]}" = 0 ] || rc=1
exit "$rc"
