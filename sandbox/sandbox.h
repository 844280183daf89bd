/*
 * Per-thread seccomp filters (libseccomp). After set-up, each VMM thread
 * loads the allow-list of its role: vCPU threads (sandbox/policy_vcpu.c),
 * the main thread's event loop and teardown (sandbox/policy_main.c), and
 * what both need (sandbox/policy_common.c). A filter is per thread, so
 * a vCPU thread cannot do what only the main thread needs, and the other
 * way round.
 *
 * Modes:
 *  - SANDBOX_KILL: a system call outside the list raises SIGSYS
 *    (SCMP_ACT_TRAP). The handler writes one line naming the thread and
 *    the call, "vmm: sandbox: thread vcpu0 made a forbidden system call:
 *    openat (257); exiting", and ends the whole process with
 *    SANDBOX_EXIT_STATUS. Trap rather than SCMP_ACT_KILL_PROCESS so that
 *    the user learns which call it was without reading the audit log.
 *  - SANDBOX_LOG: the call runs and the VMM's stderr names it once per
 *    (thread, system call): "vmm: sandbox: thread vcpu0 would be denied:
 *    openat". Decision: user notification (SCMP_ACT_NOTIFY) answered by a
 *    supervisor thread with SECCOMP_USER_NOTIF_FLAG_CONTINUE, because the
 *    point of this mode is to let a user try a policy and see its gaps in
 *    the VMM's own output. It needs libseccomp API level 6 (kernel 5.7,
 *    which has CONTINUE since 5.5); with less, or when an outer filter
 *    (a container runtime) already owns a listener, the filter falls back
 *    to SCMP_ACT_LOG and the calls appear in the kernel's audit log only
 *    (one warning says so). CONTINUE is not a security boundary (the
 *    kernel documents the race); LOG mode is a diagnostic, not a sandbox,
 *    and its supervisor thread runs without a filter.
 *  - SANDBOX_OFF: nothing is loaded.
 *
 * Order (the kernel makes a thread inherit its creator's filter, and
 * allows only one notification listener per thread):
 *  1. sandbox_prepare() once, before any thread exists;
 *  2. set-up, creating every thread the VMM will have;
 *  3. each thread calls sandbox_enter() for itself, main thread last.
 *
 * io_uring caveat: operations submitted through an io_uring ring are not
 * system calls and are not filtered. The policies allow io_uring_enter on
 * the rings that exist but never io_uring_setup, so restricting those
 * rings (IORING_REGISTER_RESTRICTIONS) completes the picture.
 */
#ifndef SANDBOX_SANDBOX_H
#define SANDBOX_SANDBOX_H

#include <stdbool.h>

enum sandbox_mode { SANDBOX_OFF, SANDBOX_LOG, SANDBOX_KILL };
enum sandbox_role { SANDBOX_ROLE_VCPU, SANDBOX_ROLE_MAIN };

/* 128 + SIGSYS: what a shell reports for a process killed by SIGSYS. */
#define SANDBOX_EXIT_STATUS 159

/* "kill" | "log" | "off" -> *mode; -EINVAL (and *mode untouched) otherwise. */
int sandbox_parse_mode(const char *text, enum sandbox_mode *mode);

/*
 * Called once, before any thread is created and before any filter is
 * loaded. Checks that the kernel and libseccomp support seccomp filters.
 * If not: -ENOSYS after one error line when KILL was asked for explicitly
 * (explicit_request), otherwise one warning and *mode = SANDBOX_OFF.
 * KILL: installs the SIGSYS handler. LOG: starts the supervisor thread
 * (or settles for SCMP_ACT_LOG, see above). Both resolve the system call
 * names the reports need, so that no report has to allocate.
 */
int sandbox_prepare(enum sandbox_mode *mode, bool explicit_request);

/*
 * Loads the filter of role into the calling thread: PR_SET_NO_NEW_PRIVS
 * first, then the filter. thread_name ("vcpu0", "main"; at most 15
 * characters are kept) names the thread in reports. mode must be the one
 * sandbox_prepare() returned. 0 or -errno; on error nothing is loaded.
 */
int sandbox_enter(enum sandbox_role role, enum sandbox_mode mode, const char *thread_name);

/*
 * The mode sandbox_prepare() settles for, given whether the kernel
 * supports filters at all: a pure function, for the unit tests.
 */
int sandbox_effective_mode(enum sandbox_mode requested, bool explicit_request,
			   bool kernel_support, enum sandbox_mode *effective);

#endif
