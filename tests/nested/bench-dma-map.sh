#!/bin/bash
# Inside an L1 booted on the iommufd kernel (bench.sh starts it with
# VMM_L1_KERNEL=iommufd): the time to map guest RAM for DMA, legacy
# container (VFIO_IOMMU_MAP_DMA) against iommufd (IOMMU_IOAS_MAP), as the
# VMM logs it with -d ("guest RAM DMA-mapped: N MiB in B banks in T ms").
# Each run stops the guest after a second; the median of BENCH_RUNS (3).
# One "BENCH dma-map" line per backend and size.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${KERNEL:?}" "${L2_INITRD:?}"
vmm=${VMM:-$root/build/vmm}
nic=${VFIO_NIC:-0000:00:01.0}
runs=${BENCH_RUNS:-3}
"$vmm" vfio-bind "$nic" >/dev/null || exit 1
if [ ! -e /dev/iommu ]; then
	echo "BENCH dma-map skipped: this L1 kernel has no /dev/iommu"
	exit 0
fi

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for size in 512M 2G; do
	for backend in legacy iommufd; do
		times=$(for _ in $(seq "$runs"); do
			"$vmm" run -d -k "$KERNEL" -i "$L2_INITRD" -m "$size" --vfio "$nic" \
				--vfio-backend "$backend" --timeout 1 -p "vmmtest.action=hang" </dev/null 2>&1 |
				tr -d '\r' | sed -n 's/.*guest RAM DMA-mapped: .* in \([0-9.]*\) ms.*/\1/p'
		done | median)
		printf 'BENCH dma-map %-7s -m %-4s %8s ms (median of %s)\n' "$backend" "$size" "${times:-?}" "$runs"
	done
done
"$vmm" vfio-unbind "$nic" >/dev/null 2>&1
