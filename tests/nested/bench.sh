#!/bin/bash
# make bench: runs the benchmarks inside one L1 host and prints figures.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
L1_ENV="BENCH_RUNS" L1_MEM=${L1_MEM:-4096} bash "$here/run-in-l1.sh" bash "$here/bench-all.sh" |
	tr -d '\r' | grep -E '^(BENCH|run [0-9])'
exit "${PIPESTATUS[0]}"
