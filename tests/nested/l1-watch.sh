# Sourced by run-in-l1.sh and run-in-l1-arm64.sh: watching a running L1
# and turning its console into an exit status. Both expect $log, $start,
# $boot_timeout, $idle_timeout, $timeout and die125().

# l1_watch QPID: waits for QEMU; kills it and sets $reason when L1 does not
# print L1-BOOTED within boot_timeout, goes silent for idle_timeout (a
# nested TCG host can wedge for good), or runs past timeout.
l1_watch() {
	local qpid=$1 booted=0 last_size=-1 last_change=0 now size
	reason=
	while kill -0 "$qpid" 2>/dev/null; do
		sleep 1
		now=$(($(date +%s) - start))
		if [ "$booted" = 0 ] && grep -q '^L1-BOOTED' "$log"; then
			booted=1
		fi
		size=$(stat -c %s "$log" 2>/dev/null || echo 0)
		if [ "$size" != "$last_size" ]; then
			last_size=$size last_change=$now
		fi
		if [ "$booted" = 1 ] && [ $((now - last_change)) -ge "$idle_timeout" ]; then
			reason="L1 console silent for ${idle_timeout}s (L1_IDLE_TIMEOUT): L1 hung"
		elif [ "$booted" = 0 ] && [ "$now" -ge "$boot_timeout" ]; then
			reason="L1 did not reach its init within ${boot_timeout}s (L1_BOOT_TIMEOUT)"
		elif [ "$now" -ge "$timeout" ]; then
			reason="no L1-EXIT marker within ${timeout}s (L1_TIMEOUT)"
		fi
		if [ -n "$reason" ]; then
			kill "$qpid" 2>/dev/null
			break
		fi
	done
}

# l1_exit NAME QEMU_STATUS: exits with the command's status from the
# console, or 125 when L1 itself failed. The serial console ends lines
# with \r\n; the last marker wins, since /init prints it right before
# powering off and earlier matches could only be the command's output.
l1_exit() {
	local name=$1 qrc=$2 clean status boot_line fail
	clean=$(tr -d '\r' < "$log")
	status=$(printf '%s\n' "$clean" | sed -n 's/^L1-EXIT=\([0-9]\{1,3\}\)$/\1/p' | tail -n1)
	boot_line=$(printf '%s\n' "$clean" | grep -m1 '^L1-BOOTED' || true)
	echo "$name: log $log; $(($(date +%s) - start))s; ${boot_line:-L1 never booted}" >&2
	[ -z "$reason" ] || die125 "$reason"
	fail=$(printf '%s\n' "$clean" | grep -m1 '^L1-INIT-FAILED' || true)
	[ -z "$fail" ] || die125 "$fail"
	[ -n "$status" ] || die125 "QEMU exited (status $qrc) without an L1-EXIT marker; see $log"
	exit "$status"
}
