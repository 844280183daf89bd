# Shared helpers for the shell test suites: each check prints PASS/FAIL
# with its name, and finish() prints the "N passed, N failed" line and
# records the counts for `make test`'s summary.
passed=0
failed=0
failures=()

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); failures+=("$1"); }

# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "'$*' failed"; fi
}

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}

finish() {
	local suite=$1
	echo "$suite: $passed passed, $failed failed"
	if [ -n "${TEST_RESULTS_DIR:-}" ]; then
		mkdir -p "$TEST_RESULTS_DIR" && echo "$passed $failed" > "$TEST_RESULTS_DIR/$suite"
	fi
	[ "$failed" = 0 ]
}
