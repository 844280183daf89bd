#!/bin/bash
# Inside L1: the core suite on each guest RAM backing, thp (memfd or
# anonymous, as L1's shmem_enabled allows) and hugetlb with 2 MiB pages
# reserved in L1; then checks of the backings themselves: the guest's RAM
# is in L1's huge pages while it runs, and a hugetlb guest without
# reserved pages is refused in one line that says how many to reserve.
# L1 needs room for the core suite's largest guest in huge pages:
# run-in-l1.sh with L1_MEM=7168 or more.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

real=$vmm
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
# The core suite's largest guest is 4608 MiB: 2304 pages, and a few spare.
pages=${CORE_HUGE_PAGES:-2320}

core_rc=0
run_core() {
	echo "=== core suite with --mem-backing $1"
	VMM="$here/vmm-with-backing.sh" VMM_REAL=$real MEM_BACKING=$1 CORE_SUITE_NAME="integration-core-$2" \
		bash "$here/core.sh" || core_rc=1
}
here=$nested_here

# thp is the default backing, so integration-core already runs the core
# suite on it; CORE_BACKINGS_THP=1 runs it here again, explicitly.
[ "${CORE_BACKINGS_THP:-0}" = 0 ] || run_core thp thp
echo "$pages" > "$hp/nr_hugepages"
expect_eq "L1 reserved $pages huge pages of 2 MiB" "$pages" "$(cat "$hp/nr_hugepages")"
run_core hugetlb hugetlb-2m

# While a hugetlb guest runs its RAM is L1's huge pages: 512 MiB = 256 taken.
"$real" run -k "$KERNEL" -i "$L2_INITRD" -m 512M --mem-backing hugetlb -d -p "vmmtest.action=hang" \
	</dev/null >"$out/huge.log" 2>&1 &
pid=$!
for _ in $(seq 120); do grep -q "VMMTEST userspace" "$out/huge.log" && break; sleep 1; done
taken=$(($(cat "$hp/nr_hugepages") - $(cat "$hp/free_hugepages") + $(cat "$hp/resv_hugepages")))
expect_eq "a 512 MiB hugetlb guest holds 256 huge pages of L1" 256 "$taken"
check "its RAM is a hugetlb memfd in the VMM's maps" grep -q "memfd:guest-ram.*(deleted)\|/memfd:guest-ram" "/proc/$pid/maps"
check "-d names the backing" grep -q "guest RAM: hugetlb (memfd, 2 MiB pages)" "$out/huge.log"
kill -TERM "$pid"
wait "$pid"
expect_eq "  ... and stops on SIGTERM with 143" 143 "$?"
expect_eq "  ... giving every page back" 0 "$(($(cat "$hp/nr_hugepages") - $(cat "$hp/free_hugepages")))"

# A thp guest: its RAM is where THP can back it (anonymous or memfd, per shmem_enabled).
"$real" run -k "$KERNEL" -i "$L2_INITRD" -m 512M --mem-backing thp -d -p "vmmtest.action=hang" \
	</dev/null >"$out/thp.log" 2>&1 &
pid=$!
for _ in $(seq 120); do grep -q "VMMTEST userspace" "$out/thp.log" && break; sleep 1; done
check "-d names the thp backing ($(grep -o 'guest RAM: thp ([^)]*)' "$out/thp.log"))" grep -q "guest RAM: thp (" "$out/thp.log"
thp_kb=$(awk '/^(AnonHugePages|ShmemPmdMapped|FilePmdMapped):/ { s += $2 } END { print s + 0 }' "/proc/$pid/smaps_rollup")
check "the booted guest's RAM has huge pages in L1 ($thp_kb kB)" test "$thp_kb" -gt 0
kill -TERM "$pid"
wait "$pid"

# No pages reserved: one line with the count and the command, exit 1.
echo 0 > "$hp/nr_hugepages"
"$real" run -k "$KERNEL" -i "$L2_INITRD" -m 512M --mem-backing hugetlb -p "vmmtest.action=poweroff" \
	</dev/null >"$out/nohuge.log" 2>&1
expect_eq "hugetlb without reserved pages exits 1" 1 "$?"
check "  ... saying how many pages to reserve and how" \
	grep -q "error: --mem-backing hugetlb: guest RAM needs 256 huge pages of 2048 KiB, the host has 0 free; reserve them as root, e.g. echo 256 > $hp/nr_hugepages" "$out/nohuge.log"
check "  ... in one line" test "$(grep -c . "$out/nohuge.log")" = 1

finish integration-mem-backing && exit "$core_rc"
