#!/bin/bash
# The VMM under test with --mem-backing "$MEM_BACKING" added to run and
# plan, so that a whole suite runs on one backing: VMM=this script,
# VMM_REAL=the binary. exec keeps the PID the suite waits for and signals.
cmd=${1:-}
shift
case $cmd in
run | plan) exec "${VMM_REAL:?}" "$cmd" --mem-backing "${MEM_BACKING:?}" "$@" ;;
*) exec "${VMM_REAL:?}" "$cmd" "$@" ;;
esac
