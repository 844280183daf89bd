# Sourced (POSIX sh: the arm64 L1 runs busybox) by vfio-nvme.sh and
# arm64-nvme.sh: L1's side of the more-than-64-vectors check that
# nvme-vectors.guest.sh drives in the guest. Expects $out (the guest's
# console in $out/nvme.log), $pid (the VMM), $nvme (the controller's BDF)
# and the suite's check/expect_eq.

# at MARKER: waits until the guest printed MARKER (status 1 if the VMM
# exited first); the guest sleeps after each marker while L1 looks.
at() {
	while ! grep -q "$1" "$out/nvme.log"; do
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.2
	done
}
# L1's host interrupts for the controller, and the count of one of them.
host_vectors() { grep -c "vfio-msix\[[0-9]*\]($nvme)" /proc/interrupts; }
host_count() {
	# Only the per-CPU columns: on arm64 the next one is the hardware IRQ number.
	awk -v name="vfio-msix[$1]($nvme)" 'NR == 1 { cpus = NF } $NF == name { for (i = 2; i <= cpus + 1; i++) n += $i } END { print n + 0 }' /proc/interrupts
}

# nvme_vectors_watch: follows the guest through its steps, noting L1's
# host interrupts at each: io_vectors (after the O_DIRECT I/O), then
# armed_vectors, fired_count (vector 100), masked_vectors, off_vectors.
nvme_vectors_watch() {
	io_vectors= armed_vectors= fired_count= masked_vectors= off_vectors=
	at IO_DONE && io_vectors=$(host_vectors)
	at VEC_AT_ARMED && armed_vectors=$(host_vectors) && grep "vfio-msix" /proc/interrupts | sed -n '1p;$p'
	at VEC_AT_FIRED && fired_count=$(host_count 100)
	at VEC_AT_MASKED && masked_vectors=$(host_vectors)
	at VEC_AT_OFF && off_vectors=$(host_vectors)
}

# nvme_vectors_check: what the guest reported and L1 saw, once the VMM is gone.
nvme_vectors_check() {
	tr -d '\r' < "$out/nvme.log" > "$out/nvme.vec"
	vec_has() { grep -q -- "$1" "$out/nvme.vec"; }
	vec_value() { v=$(sed -n "s/^$1=//p" "$out/nvme.vec" | head -n1); echo "${v:-none}"; }
	vec_at_least() { [ "$2" -ge "$1" ] 2>/dev/null; } # MIN VALUE
	grep "^NVME-MSIX\|^MASKED\|^UNMASKED\|^VEC_.*=" "$out/nvme.vec"
	unmasked=$(sed -n 's/^NVME-MSIX unmasked=\([0-9]*\) of=128$/\1/p' "$out/nvme.vec" | head -n1)
	expect_eq "the guest unmasks all 128 entries of the controller's MSI-X table" 128 "${unmasked:-none}"
	expect_eq "L1 has a host interrupt for each of the 128 vectors the guest unmasked" "${unmasked:-x}" "${armed_vectors:-none}"
	check "the controller completes a command on a queue that signals vector 100" \
		vec_has "^NVME-MSIX fired vector=100 status=0 pending=0"
	check "L1's host interrupt for vector 100 counts it (${fired_count:-none})" vec_at_least 1 "$fired_count"
	check "the guest counts it on nvme0q1, whose message vector 100 carries ($(vec_value VEC_FIRE_Q1))" \
		vec_at_least 1 "$(vec_value VEC_FIRE_Q1)"
	check "masked, vector 100's interrupt is pending in the PBA" \
		vec_has "^MASKED NVME-MSIX fired vector=100 status=0 pending=1"
	expect_eq "masked, the guest does not get it" 0 "$(vec_value VEC_MASKED_FIRE_Q1)"
	check "unmasking delivers the pending interrupt ($(vec_value VEC_UNMASK_Q1))" vec_at_least 1 "$(vec_value VEC_UNMASK_Q1)"
	check "after delivery the PBA bit is clear" vec_has "^UNMASKED NVME-MSIX pending=0"
	expect_eq "masking the 125 entries again keeps their host interrupts (the PBA needs them)" 128 "${masked_vectors:-none}"
	expect_eq "unbinding the guest's driver disables MSI-X and releases every host interrupt" 0 "${off_vectors:-none}"
}
