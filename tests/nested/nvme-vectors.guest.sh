# The L2 guest's half of the more-than-64-vectors check of vfio-nvme.sh
# and arm64-nvme.sh (busybox sh, the nvme driver bound, nothing else
# using the disk). The suite hands it over on a read-only virtio disk:
# the kernel command line has no room for it. After each VEC_AT_ line
# the guest sleeps while L1 reads its /proc/interrupts; VEC_*= lines and
# the tool's NVME-MSIX lines are the guest's own findings.
# The kernel's console messages could land inside a VEC_ line (one did:
# "VEC_MASKED_FIRE_Q1=0[   38.65] hrtimer: ..."), so they stay in the log
# while this runs; an nvme timeout among them is printed at the end for
# the suites' timeout check.
dmesg -n 1
bdf=$(for d in /sys/bus/pci/devices/*; do [ "$(cat "$d/class")" = 0x010802 ] && echo "${d##*/}"; done | head -n 1)
# The guest's count of nvme0q1, whose message the extra entries carry.
q1() { awk 'NR == 1 { cpus = NF } $NF == "nvme0q1" { for (i = 2; i <= cpus + 1; i++) n += $i } END { print n + 0 }' /proc/interrupts; }
nvme-msix arm "$bdf" 3 1
echo VEC_AT_ARMED
sleep 3
b=$(q1); nvme-msix fire "$bdf" 100; sleep 1; echo VEC_FIRE_Q1=$(($(q1) - b))
echo VEC_AT_FIRED
sleep 3
nvme-msix mask "$bdf" 100-100 >/dev/null
b=$(q1); nvme-msix fire "$bdf" 100 | sed 's/^/MASKED /'; sleep 1; echo VEC_MASKED_FIRE_Q1=$(($(q1) - b))
b=$(q1); nvme-msix arm "$bdf" 100-100 1 >/dev/null; sleep 1; echo VEC_UNMASK_Q1=$(($(q1) - b))
nvme-msix pending "$bdf" 100 | sed 's/^/UNMASKED /'
nvme-msix mask "$bdf" 3
echo VEC_AT_MASKED
sleep 3
echo "$bdf" > /sys/bus/pci/drivers/nvme/unbind
echo VEC_AT_OFF
sleep 3
echo VEC_AT_DONE
dmesg | grep 'nvme.*timeout'
