# Sourced by the nested suites (they run inside L1): the shared test
# helpers, the VMM under test, the L2 images, and a scratch folder that
# is removed on exit.
set -uo pipefail
nested_here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
root=$(cd "$nested_here/../.." && pwd)
. "$root/tests/lib.sh"
vmm=${VMM:-$root/build/vmm}
: "${KERNEL:?run inside L1 via run-in-l1.sh, which sets KERNEL}" "${L2_INITRD:?}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# guest_run SCRIPT: the kernel parameter that makes the L2 guest run SCRIPT.
guest_run() {
	printf 'vmmtest.run=%s' "$(printf '%s\n' "$1" | base64 -w0)"
}
