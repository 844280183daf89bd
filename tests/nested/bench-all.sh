#!/bin/bash
# Inside L1: every benchmark, one after the other.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bash "$here/bench-boot.sh"
bash "$here/bench-blk.sh"
bash "$here/bench-vfio.sh"
