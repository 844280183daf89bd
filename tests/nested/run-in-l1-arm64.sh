#!/bin/bash
# tests/nested/run-in-l1-arm64.sh <command> [args...]
#
# The arm64 twin of run-in-l1.sh: runs <command> inside an arm64 "L1" Linux
# host booted under QEMU TCG (-M virt,virtualization=on,gic-version=3,
# iommu=smmuv3 -cpu max), where /dev/kvm (VHE, vGICv3 + ITS) and VFIO
# (SMMUv3, e1000e NIC) are real kernel drivers.
#
# WHAT RUNS: L1 is arm64 and this machine is x86-64, so this machine's
# binaries (bash, python, build/vmm, ...) do NOT run in L1. The command
# runs in L1's own initramfs root, with /bin/sh = arm64 busybox (ash) and
# the busybox applets on PATH; it must be a static aarch64 binary (e.g.
# build/vmm-arm64-static, or one built with aarch64-linux-gnu-gcc -static),
# a busybox applet, or a `#!/bin/sh` script (busybox ash: no bash, no
# arrays, no <(...)). This machine's files are at their real paths: every
# top-level directory of / except bin sbin lib* usr etc dev proc sys run is
# bind-mounted from a writable tmpfs overlay of this machine's / (shared
# read-only over 9p), and the whole of it is also at /host (e.g.
# /host/usr/share/...). cwd is the caller's cwd. Writes inside L1 are lost
# when it powers off: report results on stdout/stderr.
#   tests/nested/run-in-l1-arm64.sh build/vmm-arm64-static run -k "$KERNEL" ...
#   tests/nested/run-in-l1-arm64.sh sh -c 'ls /dev/kvm; cat /proc/cpuinfo'
#
# L1's console is streamed to stdout and saved to a log file. The exit
# status is the command's (from the "L1-EXIT=<n>" console marker), or 125
# if L1 did not boot, the command did not finish within the timeout, or no
# marker was seen. Needs no terminal: stdin is not used (see L1_INTERACTIVE).
#
# Inside L1 the environment has HOME, VMM_CACHE (if set), VMM_IN_L1=1,
# VMM_L1_ARCH=arm64, and the arm64 images from guest-images/build-arm64.sh
# both under their own names (KERNEL_ARM64, L2_INITRD_ARM64) and as KERNEL
# and L2_INITRD, so an L2 boot reads the same as on x86.
#
# Environment (all optional):
#   L1_MEM=3072           L1 RAM in MiB
#   L1_SMP=1              L1 vCPUs: -smp 2 booted no faster (3.5-4.9 s vs
#                         3.5-3.8 s to init) and used more host CPU; -smp 2
#                         flaked on x86 (tests/nested/README.md)
#   L1_TIMEOUT=1200       seconds until the whole run is abandoned
#   L1_BOOT_TIMEOUT=300   seconds until L1 must have reached its init
#   L1_IDLE_TIMEOUT=240   seconds of console silence after which L1 is hung
#   L1_ENV="A B"          names of variables of this environment to pass
#   L1_APPEND=...         extra L1 kernel command line arguments
#   L1_QEMU_ARGS=...      extra QEMU arguments (word-split)
#   L1_QEMU=qemu-system-aarch64
#   L1_CPU=max            QEMU -cpu (e.g. max,pauth-impdef=on; not faster
#                         here with QEMU 10)
#   L1_INTERACTIVE=1      console on this terminal (command gets it as
#                         stdin; Ctrl-A x quits QEMU); no timeouts
#   VMM_TEST_LOG_DIR=/tmp where the console log goes (path printed at the end)
#   VMM_CACHE             image cache root, see guest-images/build-arm64.sh
#   VMM_L1_KERNEL_ARM64=iommufd|swmsi  boot L1 on a self-built kernel (see
#                         guest-images/build-arm64.sh); exit 3 when swmsi
#                         cannot be built here (its patches are missing)
#   VMM_L1_KERNEL_META_ARM64=linux-image-6.12-arm64-16k
#                         boot L1 on another kernel flavour (16 KiB pages);
#                         the L2 guest keeps the 4 KiB kernel
set -uo pipefail

if [ $# -eq 0 ]; then
	sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
name=run-in-l1-arm64
. "$here/l1-launch.sh"

mem=${L1_MEM:-3072}
smp=${L1_SMP:-1}
timeout=${L1_TIMEOUT:-1200}
boot_timeout=${L1_BOOT_TIMEOUT:-300}
idle_timeout=${L1_IDLE_TIMEOUT:-240}
qemu=${L1_QEMU:-qemu-system-aarch64}
cpu=${L1_CPU:-max}
interactive=${L1_INTERACTIVE:-0}
logdir=${VMM_TEST_LOG_DIR:-/tmp}

images=$("$root/guest-images/build-arm64.sh" --print)
case $? in
0) ;;
3) exit 3 ;; # a test kernel this machine cannot build; build-host-kernel.sh said why
*) die125 "guest-images/build-arm64.sh failed" ;;
esac
eval "$images"

# The images are passed along so scripts in L1 need not run build.sh
# (apt-cache under TCG costs ~15 s).
envs=("HOME=$HOME" "KERNEL=$KERNEL_ARM64" "L2_INITRD=$L2_INITRD_ARM64"
	"KERNEL_ARM64=$KERNEL_ARM64" "L2_INITRD_ARM64=$L2_INITRD_ARM64")

# nohz=off highres=off: a periodic tick, as on x86 (run-in-l1.sh), where
# under host load TCG once left L1's one-shot timer interrupt pending while
# L2 ran and L1 never ran again. The arm64 path (generic timer via the GIC)
# is different code, but a periodic tick re-raises the interrupt every 4 ms
# whatever gets lost, and costs little: an idle L1 took ~5% of a host core
# with it vs ~1% without (QEMU 10, -smp 1). No arm64 wedge has been seen
# yet (no arm64 L2 boot has been run); kept because it is cheap.
append="console=ttyAMA0 panic=-1 quiet nohz=off highres=off ${L1_APPEND:-}"
append+=" $(l1_command_append envs "$@")"
l1_check_append "$append"
l1_console_setup l1-arm64

# --- QEMU ------------------------------------------------------------------
# Recipe: the shared nested-test recipe ("arm64 L1"). virtualization=on
# gives L1 EL2 (KVM runs in VHE mode); gic-version=3 an ITS for MSIs;
# iommu=smmuv3 puts the PCIe root complex, hence the e1000e, behind an SMMUv3.
# -nodefaults: no default NIC/monitor; the virt board's PL011 stays.
# shellcheck disable=SC2054 # commas belong to QEMU option values
args=(
	-accel "tcg,thread=${L1_TCG_THREAD:-multi}"
	-machine virt,virtualization=on,gic-version=3,iommu=smmuv3
	-cpu "$cpu" -m "$mem" -smp "$smp"
	-nodefaults -no-user-config -no-reboot -display none
	-device e1000e,netdev=n0 -netdev user,id=n0
	-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap
	-kernel "$L1_KERNEL_ARM64" -initrd "$L1_INITRD_ARM64" -append "$append"
)
args+=("${l1_console[@]}")
# shellcheck disable=SC2206 # word splitting of L1_QEMU_ARGS is the point
args+=(${L1_QEMU_ARGS:-})

l1_run "$qemu" "${args[@]}"
