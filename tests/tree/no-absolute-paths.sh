#!/bin/bash
# Fails when a tracked file names an absolute path of this machine: the
# checkout's own folder, the folder that holds it, or the home directory.
# Paths inside a guest (an L1's /root) are marked "guest path" on their
# line. Every test must run the binary built in its own checkout, from any
# folder; a path of the machine the project was developed on would make a
# clone elsewhere test another program, or nothing.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1

paths=("$root")
# The folder holding the checkout, unless it is a standard one every
# machine has (a clone in /tmp must not forbid the word /tmp).
parent=$(dirname "$root")
case "$parent" in
/ | /tmp | /var/tmp | /home | /opt | /srv | /usr | /mnt | /media | /run) ;;
*) paths+=("$parent") ;;
esac
[ -n "${HOME:-}" ] && [ "$HOME" != / ] && paths+=("$HOME")
passed=0 failed=0
for p in "${paths[@]}"; do
	[ "$p" = / ] && continue
	# The path itself, not a longer name that ends with it ($tmp/root and
	# "$(dir)/root" are fine).
	re="(^|[^A-Za-z0-9_.\$})/])$(printf '%s' "$p" | sed 's/[.[\*^$]/\\&/g')(/|[^A-Za-z0-9_.-]|\$)"
	# A line about a path inside a guest says so with "guest path".
	hits=$(git ls-files -z | xargs -0 grep -nIE -- "$re" 2>/dev/null | grep -v 'guest path')
	if [ -n "$hits" ]; then
		echo "FAIL tracked files name the absolute path $p:"
		printf '%s\n' "$hits" | head -20
		failed=$((failed + 1))
	else
		echo "PASS no tracked file names $p"
		passed=$((passed + 1))
	fi
done
echo "tree-paths: $passed passed, $failed failed"
[ -n "${TEST_RESULTS_DIR:-}" ] && mkdir -p "$TEST_RESULTS_DIR" &&
	echo "$passed $failed" > "$TEST_RESULTS_DIR/tree-paths"
[ "$failed" = 0 ]
