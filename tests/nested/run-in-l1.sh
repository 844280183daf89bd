#!/bin/bash
# tests/nested/run-in-l1.sh <command> [args...]
#
# Runs <command> inside an "L1" Linux host booted under QEMU TCG, where
# /dev/kvm (on emulated AMD SVM+NPT) and VFIO (emulated intel-iommu,
# e1000e NIC) are real kernel drivers. Needed because this machine's own
# /dev/kvm cannot boot a Linux guest.
#
# Inside L1 the command runs chrooted in a writable (tmpfs overlay) view of
# this machine's / (shared read-only over 9p), so binaries built here, e.g.
# build/vmm, run unchanged; cwd is the caller's cwd. Writes inside L1 are
# lost when it powers off: report results on stdout/stderr.
#
# L1's console is streamed to stdout and saved to a log file. The exit
# status is the command's (from the "L1-EXIT=<n>" console marker), or 125
# if L1 did not boot, the command did not finish within the timeout, or no
# marker was seen. Needs no terminal: stdin is not used (see L1_INTERACTIVE).
#
# Environment (all optional):
#   L1_MEM=3072           L1 RAM in MiB
#   L1_SMP=2              L1 vCPUs (2 measured faster than 1 on a 2-core
#                         machine for an L2 boot, see tests/nested/README.md)
#   L1_TIMEOUT=1200       seconds until the whole run is abandoned
#   L1_BOOT_TIMEOUT=300   seconds until L1 must have reached its init
#   L1_IDLE_TIMEOUT=240   seconds of console silence after which L1 is hung
#   L1_ENV="A B"          names of variables of this environment to pass to
#                         the command (HOME, VMM_CACHE, and KERNEL and
#                         L2_INITRD from guest-images/build.sh always are)
#   L1_APPEND=...         extra L1 kernel command line arguments
#   L1_QEMU_ARGS=...      extra QEMU arguments (word-split), e.g.
#                         "-device igb,netdev=n1 -netdev user,id=n1"
#   L1_QEMU=qemu-system-x86_64
#   L1_INTERACTIVE=1      console on this terminal (command gets it as
#                         stdin; Ctrl-A x quits QEMU); no timeouts
#   VMM_TEST_LOG_DIR=/tmp where the console log goes (path printed at the end)
#   VMM_CACHE             image cache root, see guest-images/build.sh
#   VMM_L1_KERNEL=iommufd L1 boots the self-built kernel with iommufd and
#                         the VFIO cdev (guest-images/build.sh builds it
#                         once, ~11 min); L2 keeps the Debian kernel
set -uo pipefail

if [ $# -eq 0 ]; then
	sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
name=run-in-l1
. "$here/l1-launch.sh"

mem=${L1_MEM:-3072}
smp=${L1_SMP:-1}
timeout=${L1_TIMEOUT:-1200}
boot_timeout=${L1_BOOT_TIMEOUT:-300}
idle_timeout=${L1_IDLE_TIMEOUT:-240}
qemu=${L1_QEMU:-qemu-system-x86_64}
interactive=${L1_INTERACTIVE:-0}
logdir=${VMM_TEST_LOG_DIR:-/tmp}

images=$("$root/guest-images/build.sh" --print) || die125 "guest-images/build.sh failed"
eval "$images"

# The images are passed along so scripts in L1 need not run build.sh
# (apt-cache under TCG costs ~15 s).
envs=("HOME=$HOME" "KERNEL=$KERNEL" "L2_INITRD=$L2_INITRD")

# nohz=off highres=off: L1 ticks with a periodic LAPIC timer. Under host
# CPU load, QEMU's TCG can leave L1's one-shot timer interrupt pending in
# the LAPIC without forcing the #VMEXIT from L2, and L1 then never runs
# again while L2 spins waiting for its other vCPU (seen with QEMU 7.2 and
# 10.0; `info lapic` showed the timer vector stuck in IRR). A periodic
# timer re-raises the interrupt every tick, which un-wedges it.
append="console=ttyS0 panic=-1 intel_iommu=on iommu=pt quiet nohz=off highres=off ${L1_APPEND:-}"
append+=" $(l1_command_append envs "$@")"
l1_check_append "$append"
l1_console_setup l1

# --- QEMU ------------------------------------------------------------------
# Recipe: the shared nested-test recipe. -cpu host fails under TCG here
# (MSR 0x10a); EPYC+svm+npt gives kvm_amd a working SVM with nested paging.
# intel-iommu must come before the PCI devices it translates; caching-mode
# is what lets VFIO work with an emulated VT-d. -nodefaults: no VGA, no
# default NIC, no monitor; everything we need is listed.
# shellcheck disable=SC2054 # commas belong to QEMU option values
args=(
	-accel "tcg,thread=${L1_TCG_THREAD:-multi}"
	-machine q35,kernel-irqchip=split
	-cpu EPYC,+svm,+npt -m "$mem" -smp "$smp"
	-nodefaults -no-user-config -no-reboot -display none
	-device intel-iommu,intremap=on,caching-mode=on
	-device e1000e,netdev=n0 -netdev user,id=n0
	-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap
	-kernel "${L1_KERNEL:-$KERNEL}" -initrd "$L1_INITRD" -append "$append"
)
args+=("${l1_console[@]}")
# shellcheck disable=SC2206 # word splitting of L1_QEMU_ARGS is the point
args+=(${L1_QEMU_ARGS:-})

# -cpu EPYC asks for a few features TCG lacks; QEMU warns once per
# feature on every start. They are simply absent in L1 (as intended), so
# drop that noise and keep any other QEMU message.
l1_qemu_stderr() { grep -v --line-buffered "TCG doesn't support requested feature"; }
l1_run "$qemu" "${args[@]}"
