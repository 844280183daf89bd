#!/bin/bash
# The nested part of `make test`: every L1 host the suites need, two at a
# time. An L1 is one TCG vCPU thread, so two of them keep the two cores of
# a small machine busy without starving each other; NESTED_LANES=1 runs
# them one after the other. The images (kernels, initrds) are built first,
# one at a time: a kernel build beside a running L1 would starve it.
# Lane one prints as it goes; lane two's output is held in a file and
# printed when both are done, so the two never interleave.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
export TEST_RESULTS_DIR=${TEST_RESULTS_DIR:-$root/build/test-results}
mkdir -p "$TEST_RESULTS_DIR"
lanes=${NESTED_LANES:-2}

# Every runner records its own failures in TEST_RESULTS_DIR; a failed
# image build shows up there as the failure of the runner that needed it.
"$root/guest-images/build.sh" --print >/dev/null
VMM_L1_KERNEL=iommufd "$root/guest-images/build.sh" --print >/dev/null
"$root/guest-images/build-arm64.sh" --print >/dev/null
VMM_L1_KERNEL_META_ARM64=linux-image-6.12-arm64-16k "$root/guest-images/build-arm64.sh" --print >/dev/null
VMM_L1_KERNEL_ARM64=iommufd "$root/guest-images/build-arm64.sh" --print >/dev/null
# The L1 whose kernel lets the VMM choose the MSI window, where its patches
# are (status 3: not here; integration-arm64-swmsi then says it is skipped).
VMM_L1_KERNEL_ARM64=swmsi "$root/guest-images/build-arm64.sh" --print >/dev/null 2>&1

# Balanced by measured length, side by side on a fresh clone: the x86
# integration and iommufd L1s took 1150 s, the rest 1441 s with the arm64
# NVMe L1 (109 s), which now ends the first lane.
lane_x86() {
	bash "$here/run-integration.sh"
	bash "$here/run-integration-iommufd.sh"
	bash "$here/run-integration-passthrough-arm64.sh"
}
lane_mixed() {
	bash "$here/run-integration-passthrough.sh"
	bash "$here/run-integration-mem-backing.sh"
	ARM64_SWMSI=${ARM64_SWMSI:-1} bash "$here/run-integration-arm64.sh"
}

start=$(date +%s)
if [ "$lanes" -ge 2 ]; then
	held=$(mktemp)
	lane_mixed >"$held" 2>&1 &
	mixed=$!
	lane_x86
	echo "run-lanes: the first lane is done after $(($(date +%s) - start)) s; waiting for the second"
	wait "$mixed"
	echo "=== the second lane's output (run beside the first):"
	cat "$held"
	rm -f "$held"
else
	lane_x86
	lane_mixed
fi
echo "run-lanes: nested suites took $(($(date +%s) - start)) s ($lanes lane(s))"
# Pass or fail is the summary's to say, from the counts the runners wrote.
exit 0
