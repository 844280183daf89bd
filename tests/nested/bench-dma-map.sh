#!/bin/bash
# Inside an L1 booted on the iommufd kernel (bench.sh starts it with
# VMM_L1_KERNEL=iommufd): the time to map all guest RAM for DMA, as the
# VMM logs it ("guest RAM DMA-mapped: N MiB in B banks in T ms"), and the
# time it took before that to fault the RAM in ("guest RAM faulted in for
# DMA: T ms with N threads"), for each size (BENCH_DMA_SIZES: 512M 2G
# 4G), guest RAM backing (anon: 4 KiB pages, thp, hugetlb with 2 MiB pages
# reserved here) and IOMMU API (legacy container VFIO_IOMMU_MAP_DMA,
# iommufd IOMMU_IOAS_MAP). Each run stops the guest after a second; the
# median of BENCH_RUNS (3), of each figure.
#
# Prints one line per measurement,
#   BENCH dma-map backend=legacy size=4G backing=anon ms=1234.5 fault_ms=2345.6 runs=3
# then the ratios against anon of the same size and backend, which
# bench-json.py turns into rows of make bench's table.
# L1 needs the largest size pinned plus its own memory: L1_MEM=6144.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${KERNEL:?}" "${L2_INITRD:?}"
vmm=${VMM:-$root/build/vmm}
nic=${VFIO_NIC:-0000:00:01.0}
runs=${BENCH_RUNS:-3}
sizes=${BENCH_DMA_SIZES:-512M 2G 4G}
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
"$vmm" vfio-bind "$nic" >/dev/null || exit 1
if [ ! -e /dev/iommu ]; then
	echo "BENCH dma-map skipped: this L1 kernel has no /dev/iommu"
	exit 0
fi

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mib() { case $1 in *G) echo $((${1%G} * 1024)) ;; *M) echo "${1%M}" ;; esac; }

declare -A ms
# hugetlb first, while L1's memory is not yet fragmented; the pages are
# given back before the others run (pinned anon RAM needs the room).
for backing in hugetlb thp anon; do
	if [ "$backing" = hugetlb ]; then
		max=0
		for size in $sizes; do [ "$(mib "$size")" -gt "$max" ] && max=$(mib "$size"); done
		echo $((max / 2 + 8)) > "$hp/nr_hugepages"
		echo "BENCH dma-map note: $(cat "$hp/nr_hugepages") huge pages of 2 MiB reserved for $max MiB"
	fi
	for size in $sizes; do
		for backend in legacy iommufd; do
			log=$(mktemp)
			for _ in $(seq "$runs"); do
				"$vmm" run -d -k "$KERNEL" -i "$L2_INITRD" -m "$size" --mem-backing "$backing" \
					--vfio "$nic" --vfio-backend "$backend" --timeout 1 -p "vmmtest.action=hang" \
					</dev/null 2>&1 | tr -d '\r' >> "$log"
			done
			t=$(sed -n 's/.*guest RAM DMA-mapped: .* in \([0-9.]*\) ms.*/\1/p' "$log" | median)
			f=$(sed -n 's/.*guest RAM faulted in for DMA: \([0-9.]*\) ms.*/\1/p' "$log" | median)
			rm -f "$log"
			ms[$backend,$size,$backing]=${t:-?}
			echo "BENCH dma-map backend=$backend size=$size backing=$backing ms=${t:-?} fault_ms=${f:-?} runs=$runs"
		done
	done
	[ "$backing" = hugetlb ] && echo 0 > "$hp/nr_hugepages"
done
"$vmm" vfio-unbind "$nic" >/dev/null 2>&1

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", b / a; else print "?" }'; }
echo "BENCH dma-map table: time to map all guest RAM, and against 4 KiB pages (anon)"
printf 'BENCH %-8s %-5s %12s %12s %7s %12s %7s\n' backend size "anon ms" "thp ms" ratio "hugetlb ms" ratio
for backend in legacy iommufd; do
	for size in $sizes; do
		a=${ms[$backend,$size,anon]} t=${ms[$backend,$size,thp]} h=${ms[$backend,$size,hugetlb]}
		printf 'BENCH %-8s %-5s %12s %12s %7s %12s %7s\n' "$backend" "$size" "$a" "$t" "$(ratio "$a" "$t")" \
			"$h" "$(ratio "$a" "$h")"
	done
done
