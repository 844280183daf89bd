# Sourced by run-in-l1.sh and run-in-l1-arm64.sh, which differ only in
# the machine they give QEMU: handing the command to L1's /init, starting
# QEMU with its console in a log file, watching the running L1 and turning
# its console into an exit status. The launchers set $name (for messages),
# $timeout, $boot_timeout, $idle_timeout, $interactive and $logdir.

die125() { echo "$name: $*" >&2; exit 125; }

# --- the command for L1's /init (see guest-images/l1/init) ---------------
# base64 per item, comma-separated; "-" stands for an empty string since
# a trailing empty field would vanish when /init splits the list.
b64() { if [ -z "$1" ]; then printf -- -; else printf '%s' "$1" | base64 -w0; fi; }
join_b64() {
	local out='' sep='' x
	for x in "$@"; do out+="$sep$(b64 "$x")"; sep=,; done
	printf '%s' "$out"
}

# l1_command_append ENV_ARRAY_NAME COMMAND...: the kernel command line
# words that carry cwd, the environment (ENV_ARRAY_NAME's entries, then the
# variables L1_ENV names) and the command. Kernels keep at most 2047 bytes
# of command line on both architectures, hence the check.
l1_command_append() {
	local -n base_env=$1
	local envs=("${base_env[@]}") var words
	shift
	[ -z "${VMM_CACHE:-}" ] || envs+=("VMM_CACHE=$VMM_CACHE")
	for var in ${L1_ENV:-}; do
		[ -n "${!var+set}" ] && envs+=("$var=${!var}")
	done
	words="l1.cwd=$(b64 "$PWD") l1.env=$(join_b64 "${envs[@]}") l1.argv=$(join_b64 "$@")"
	[ "$interactive" = 1 ] && words+=" l1.tty=1"
	printf '%s' "$words"
}
l1_check_append() {
	if [ ${#1} -gt 2000 ]; then
		die125 "command too long for the kernel command line (${#1} bytes encoded); put it in a script"
	fi
}

# l1_console_setup LOG_PREFIX: creates $log (a new file under $logdir) and
# puts the QEMU arguments of a console writing to it in the array l1_console.
l1_console_setup() {
	mkdir -p "$logdir" || die125 "cannot create $logdir"
	log="$logdir/$1-$(date +%Y%m%d-%H%M%S)-$$.log"
	: > "$log"
	if [ "$interactive" = 1 ]; then
		# Console and QEMU monitor multiplexed on this terminal; logfile=
		# keeps a copy for the marker parsing below.
		l1_console=(-chardev "stdio,id=con0,mux=on,signal=off,logfile=$log"
			-serial chardev:con0 -mon chardev=con0)
	else
		# Console straight into the log file, streamed by tail: QEMU never
		# touches stdin/stdout, so no TTY or open stdin is needed.
		l1_console=(-chardev "file,id=con0,path=$log" -serial chardev:con0)
	fi
}

# l1_run QEMU ARGS...: runs L1 to its end and exits with the command's
# status (see l1_exit). stderr of QEMU passes through l1_qemu_stderr when
# the launcher defines it (a filter), else straight.
l1_run() {
	local qemu=$1 qrc qpid tpid
	shift
	start=$(date +%s)
	reason=
	if [ "$interactive" = 1 ]; then
		"$qemu" "$@"
		qrc=$?
	else
		if declare -F l1_qemu_stderr >/dev/null; then
			"$qemu" "$@" </dev/null 2> >(l1_qemu_stderr >&2) &
		else
			"$qemu" "$@" </dev/null &
		fi
		qpid=$!
		# Ctrl-C / kill of this script must not leave a TCG VM burning CPU.
		trap 'kill "$qpid" 2>/dev/null' EXIT
		trap 'kill "$qpid" 2>/dev/null; exit 125' INT TERM HUP
		tail -n +1 -f --pid="$qpid" "$log" &
		tpid=$!
		l1_watch "$qpid"
		wait "$qpid"
		qrc=$?
		trap - EXIT INT TERM HUP
		wait "$tpid" 2>/dev/null
	fi
	l1_exit "$name" "$qrc"
}

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
