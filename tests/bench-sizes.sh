#!/bin/bash
# Prints the sizes of the binaries `make bench` built: the dynamic one, the
# stripped static ones (x86-64 and arm64, the embedded targets) and the
# debug info kept beside them. A line per binary, "BENCH size ...".
root=$(cd "$(dirname "$0")/.." && pwd)
for f in build/vmm build/vmm-static build/arm64/vmm-static; do
	[ -f "$root/$f" ] || continue
	bytes=$(stat -c %s "$root/$f")
	debug=$( [ -f "$root/$f.debug" ] && stat -c %s "$root/$f.debug" || echo 0)
	printf 'BENCH size %-22s %8d bytes (%.2f MiB), debug info beside it: %d bytes\n' \
		"$f" "$bytes" "$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')" "$debug"
done
