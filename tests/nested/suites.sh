#!/bin/bash
# Inside L1: every nested suite, in order (or those NESTED_SUITES names,
# e.g. "hostile faults"); fails if any fails.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rc=0
vmm=${VMM:-$(cd "$here/../.." && pwd)/build/vmm}
echo "VMM under test: $vmm, $("$vmm" --version), sha256 $(sha256sum "$vmm" | cut -d' ' -f1)"
for suite in ${NESTED_SUITES:-core virtio-misc virtio-blk virtio-net vfio vfio-bind hostile faults}; do
	echo "=== nested suite: $suite"
	bash "$here/$suite.sh" || rc=1
done
exit $rc
