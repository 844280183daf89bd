/*
 * Inside the sandbox module: how the policy files describe their
 * allow-lists, and what sandbox.c and the LOG supervisor (notify.c)
 * share.
 */
#ifndef SANDBOX_INTERNAL_H
#define SANDBOX_INTERNAL_H

#include <seccomp.h>
#include <stddef.h>

#include "core/vm.h"
#include <stdbool.h>

/*
 * One allow rule: the call by libseccomp name, and up to three argument
 * conditions that must all hold. Several rules for one call are OR-ed.
 * SCMP_SYS() of a call this architecture lacks (open, poll and epoll_wait
 * on arm64) is negative: such rules are skipped, so one table serves
 * x86-64 and arm64.
 */
struct sandbox_rule {
	int nr;
	unsigned int nargs;
	struct scmp_arg_cmp args[3];
	/* Argument 0 must be this process's PID (tgkill): filled in at load. */
	bool arg0_self_pid;
};

struct sandbox_policy {
	const char *name;
	const struct sandbox_rule *rules;
	size_t nrules;
};

#define SB_ARG(index, cmp, a, b) \
	{ .arg = (index), .op = (cmp), .datum_a = (scmp_datum_t)(a), .datum_b = (scmp_datum_t)(b) }
#define SB_ARG_EQ(index, value) SB_ARG(index, SCMP_CMP_EQ, value, 0)
/* None of bits is set in the argument. */
#define SB_ARG_CLEAR(index, bits) SB_ARG(index, SCMP_CMP_MASKED_EQ, bits, 0)

#define SB_ALLOW(name) { .nr = SCMP_SYS(name) }
#define SB_ALLOW_IF(name, ...)                                             \
	{ .nr = SCMP_SYS(name),                                            \
	  .nargs = sizeof((struct scmp_arg_cmp[]){ __VA_ARGS__ }) /        \
		   sizeof(struct scmp_arg_cmp),                             \
	  .args = { __VA_ARGS__ } }
/*
 * ioctl by request number. The kernel takes the request as an unsigned
 * int, so only the low 32 bits are compared: a sign-extended request is
 * the same request.
 */
#define SB_IOCTL_ARG(request) SB_ARG(1, SCMP_CMP_MASKED_EQ, 0xffffffffu, (request))
#define SB_IOCTL(request) SB_ALLOW_IF(ioctl, SB_IOCTL_ARG(request))

#define SB_POLICY(var, label)                                              \
	const struct sandbox_policy var = {                                \
		label, var##_rules, sizeof(var##_rules) / sizeof(var##_rules[0]) \
	}

extern const struct sandbox_policy sandbox_policy_common;
extern const struct sandbox_policy sandbox_policy_vcpu;
extern const struct sandbox_policy sandbox_policy_main;

/* The signal the main thread sends to kick a vCPU out of KVM_RUN (core/vcpu.c). */
#define SANDBOX_VCPU_KICK_SIGNAL VCPU_KICK_SIGNAL

/* System call names of the native ABI, resolved by sandbox_prepare(). */
#define SANDBOX_MAX_SYSCALL 512
#define SANDBOX_NAME_LEN 32
/* The name of nr, or NULL when unknown. Async-signal-safe. */
const char *sandbox_syscall_name(long nr);

/* The calling thread's name, as given to sandbox_enter(). */
extern __thread char sandbox_thread_name[16];

/*
 * LOG mode supervisor (notify.c). notify_start() runs in
 * sandbox_prepare(), before any thread exists; false: notifications are
 * not usable and the caller falls back to SCMP_ACT_LOG.
 */
bool sandbox_notify_start(void);
/*
 * A supervisor slot for a thread about to load its filter (-ENOSPC when
 * full), then either its listener fd (activate) or nothing (cancel).
 */
int sandbox_notify_reserve(const char *thread_name);
void sandbox_notify_activate(int slot, int listener_fd);
void sandbox_notify_cancel(int slot);

/* Writes the report line for a call seen in LOG mode (supervisor thread). */
void sandbox_report_logged(const char *thread_name, long nr);

#endif
