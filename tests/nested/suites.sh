#!/bin/bash
# Inside L1: every nested suite, in order; fails if any fails.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rc=0
for suite in core virtio-misc virtio-blk virtio-net vfio vfio-bind; do
	echo "=== nested suite: $suite"
	bash "$here/$suite.sh" || rc=1
done
exit $rc
