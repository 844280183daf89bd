/*
 * The sandbox mechanism: checking support, the SIGSYS report of KILL
 * mode, and building and loading a thread's filter from the policy
 * tables (policy_*.c). The LOG mode supervisor is in notify.c.
 */
#include "sandbox.h"
#include "internal.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

/* si_code of a seccomp SIGSYS (asm-generic/siginfo.h, which glibc does not export). */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

__thread char sandbox_thread_name[16];

/* Set by sandbox_prepare(), read by every thread after (and the handler). */
static char syscall_names[SANDBOX_MAX_SYSCALL][SANDBOX_NAME_LEN];
static uint32_t native_arch;
/* LOG mode: user notification (true) or SCMP_ACT_LOG (false). */
static bool log_via_notify;

int sandbox_parse_mode(const char *text, enum sandbox_mode *mode)
{
	static const struct { const char *name; enum sandbox_mode mode; } modes[] = {
		{ "kill", SANDBOX_KILL }, { "log", SANDBOX_LOG }, { "off", SANDBOX_OFF },
	};

	for (size_t i = 0; text && i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (!strcmp(text, modes[i].name)) {
			*mode = modes[i].mode;
			return 0;
		}
	}
	return -EINVAL;
}

int sandbox_effective_mode(enum sandbox_mode requested, bool explicit_request,
			   bool kernel_support, enum sandbox_mode *effective)
{
	if (requested == SANDBOX_OFF || kernel_support) {
		*effective = requested;
		return 0;
	}
	/* Whoever asked for kill by name would rather not run unconfined. */
	if (explicit_request && requested == SANDBOX_KILL)
		return -ENOSYS;
	*effective = SANDBOX_OFF;
	return 0;
}

const char *sandbox_syscall_name(long nr)
{
	if (nr < 0 || nr >= SANDBOX_MAX_SYSCALL || !syscall_names[nr][0])
		return NULL;
	return syscall_names[nr];
}

/*
 * seccomp_syscall_resolve_num_arch() returns a malloc'ed string, which a
 * signal handler must not ask for: the thread may have trapped inside
 * malloc, holding its lock. So every name is resolved here, once, before
 * any filter exists, and the handler only reads this table.
 */
static void resolve_names(void)
{
	for (int nr = 0; nr < SANDBOX_MAX_SYSCALL; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		if (name)
			snprintf(syscall_names[nr], SANDBOX_NAME_LEN, "%s", name);
		free(name);
	}
}

/* --- the KILL mode report ---------------------------------------------- */

static size_t put_str(char *buf, size_t at, size_t size, const char *s)
{
	while (*s && at + 1 < size)
		buf[at++] = *s++;
	return at;
}

static size_t put_num(char *buf, size_t at, size_t size, unsigned long v)
{
	char digits[24];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && at + 1 < size)
		buf[at++] = digits[--n];
	return at;
}

/*
 * Async-signal-safe: builds the line by hand on the stack, one write(2),
 * then exit_group(2). The names come from the table resolve_names()
 * filled, the thread name from a __thread array (static TLS, no
 * allocation). Both calls are in every role's allow-list. exit_group is
 * made with syscall() rather than _exit(): a sanitizer build instruments
 * calls to noreturn functions with a sigaltstack query, which would trap
 * again inside this handler (where SIGSYS is blocked, so the kernel would
 * kill the process without the status).
 */
static void on_sigsys(int sig, siginfo_t *info, void *ucontext)
{
	const char *thread = sandbox_thread_name[0] ? sandbox_thread_name : "?";
	char line[192];
	size_t n = 0;

	(void)sig;
	(void)ucontext;
	n = put_str(line, n, sizeof(line), "vmm: sandbox: thread ");
	n = put_str(line, n, sizeof(line), thread);
	if (info->si_code != SYS_SECCOMP) {
		n = put_str(line, n, sizeof(line), " got a SIGSYS the sandbox did not send; exiting\r\n");
	} else {
		const char *name = info->si_arch == native_arch ?
				   sandbox_syscall_name(info->si_syscall) : NULL;

		n = put_str(line, n, sizeof(line), " made a forbidden system call: ");
		n = put_str(line, n, sizeof(line), name ? name : "unknown");
		n = put_str(line, n, sizeof(line), " (");
		n = put_num(line, n, sizeof(line), (unsigned long)(unsigned int)info->si_syscall);
		if (info->si_arch != native_arch)
			n = put_str(line, n, sizeof(line), ", foreign system call ABI");
		n = put_str(line, n, sizeof(line), "); exiting\r\n");
	}
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nothing left to tell it to. */
	}
	syscall(SYS_exit_group, SANDBOX_EXIT_STATUS);
	for (;;)
		; /* exit_group does not return */
}

static int install_sigsys_handler(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

	sigfillset(&sa.sa_mask);
	return sigaction(SIGSYS, &sa, NULL) < 0 ? -errno : 0;
}

/* --- prepare ------------------------------------------------------------ */

/*
 * prctl(PR_GET_SECCOMP) fails with EINVAL on a kernel without
 * CONFIG_SECCOMP; 0 or 2 (already filtered, by a container runtime say:
 * filters stack) are fine. libseccomp must see filter support too, and
 * LOG mode needs SCMP_ACT_LOG (API level 3) at least.
 */
static bool kernel_supports(enum sandbox_mode mode)
{
	unsigned int api;

	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0)
		return false;
	api = seccomp_api_get();
	return mode == SANDBOX_LOG ? api >= 3 : api >= 1;
}

int sandbox_prepare(enum sandbox_mode *mode, bool explicit_request)
{
	static bool warned;
	enum sandbox_mode effective;
	int err;

	if (*mode == SANDBOX_OFF)
		return 0;
	err = sandbox_effective_mode(*mode, explicit_request, kernel_supports(*mode), &effective);
	if (err) {
		pr_err("sandbox: this kernel does not support seccomp filters, so kill mode cannot be enforced");
		return err;
	}
	if (effective == SANDBOX_OFF) {
		if (!warned)
			pr_warn("sandbox: this kernel does not support seccomp filters; running without the sandbox");
		warned = true;
		*mode = SANDBOX_OFF;
		return 0;
	}
	native_arch = seccomp_arch_native();
	resolve_names();
	if (effective == SANDBOX_KILL) {
		err = install_sigsys_handler();
		if (err) {
			pr_err("sandbox: cannot install the SIGSYS handler: %s", strerror(-err));
			return err;
		}
	} else {
		/* API level 6 is kernel 5.7: user notification with CONTINUE (5.5). */
		log_via_notify = seccomp_api_get() >= 6 && sandbox_notify_start();
		if (!log_via_notify)
			pr_warn("sandbox: log mode reports to the kernel's audit log only (no seccomp user notification here)");
	}
	*mode = effective;
	return 0;
}

/* --- building and loading a filter ------------------------------------- */

static int add_policy(scmp_filter_ctx ctx, const struct sandbox_policy *policy)
{
	for (size_t i = 0; i < policy->nrules; i++) {
		const struct sandbox_rule *r = &policy->rules[i];
		struct scmp_arg_cmp args[4];
		unsigned int nargs = r->nargs;
		int err;

		if (r->nr < 0)
			continue; /* not a system call of this architecture */
		memcpy(args, r->args, nargs * sizeof(args[0]));
		if (r->arg0_self_pid)
			args[nargs++] = (struct scmp_arg_cmp)SB_ARG_EQ(0, getpid());
		err = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, r->nr, nargs, args);
		if (err) {
			pr_err("sandbox: %s policy: cannot allow %s: %s", policy->name,
			       sandbox_syscall_name(r->nr) ?: "?", strerror(-err));
			return err;
		}
	}
	return 0;
}

/* What the event loop and the vCPUs call per request: checked first. */
static const int hot_calls[] = {
	SCMP_SYS(ioctl), SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_wait), SCMP_SYS(io_uring_enter), SCMP_SYS(futex), SCMP_SYS(readv),
	SCMP_SYS(writev),
};

static int build_filter(enum sandbox_role role, uint32_t deny, uint32_t bad_arch,
			scmp_filter_ctx *out)
{
	const struct sandbox_policy *policy =
		role == SANDBOX_ROLE_VCPU ? &sandbox_policy_vcpu : &sandbox_policy_main;
	scmp_filter_ctx ctx = seccomp_init(deny);
	int err;

	if (!ctx)
		return -EINVAL;
	/* sandbox_enter sets NO_NEW_PRIVS itself, before loading. */
	err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (!err)
		err = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, bad_arch);
	/*
	 * Every system call of the hot paths runs the filter: a binary tree
	 * over the call numbers (libseccomp 2.5) instead of a linear list, and
	 * the calls of the I/O paths first.
	 */
	if (!err && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2))
		pr_debug("sandbox: this libseccomp builds linear filters");
	for (unsigned int i = 0; !err && i < ARRAY_SIZE(hot_calls); i++)
		if (hot_calls[i] >= 0)
			seccomp_syscall_priority(ctx, hot_calls[i], 255);
	if (!err)
		err = add_policy(ctx, &sandbox_policy_common);
	if (!err)
		err = add_policy(ctx, policy);
	if (err) {
		seccomp_release(ctx);
		return err;
	}
	*out = ctx;
	return 0;
}

/*
 * Loads ctx with a new notification listener and returns its fd.
 * seccomp_load() cannot do it here: libseccomp 2.5 keeps one listener fd
 * per process and asks the kernel for none once it has one, while every
 * thread's filter needs its own. So the BPF is exported (into a memfd:
 * a pipe's capacity may be one page) and loaded with seccomp(2). *insns
 * is for the caller to free, once the listener is in the supervisor's
 * hands (free may make calls the filter reports).
 */
static int load_with_listener(scmp_filter_ctx ctx, struct sock_filter **insns)
{
	struct sock_fprog prog;
	ssize_t size;
	int fd, ret;

	*insns = NULL;
	fd = memfd_create("vmm-sandbox-bpf", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = seccomp_export_bpf(ctx, fd);
	size = ret ? -1 : lseek(fd, 0, SEEK_CUR);
	if (size <= 0 || (size_t)size % sizeof(**insns) ||
	    (size_t)size / sizeof(**insns) > BPF_MAXINSNS) {
		close(fd);
		return ret ? ret : -EINVAL;
	}
	*insns = malloc((size_t)size);
	ret = !*insns ? -ENOMEM : pread(fd, *insns, (size_t)size, 0) != size ? -EIO : 0;
	close(fd);
	if (ret)
		return ret;
	prog.len = (unsigned short)((size_t)size / sizeof(**insns));
	prog.filter = *insns;
	ret = (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			   &prog);
	return ret < 0 ? -errno : ret;
}

/*
 * LOG mode, user notification: a supervisor slot first (so that a full
 * table refuses the thread before anything is loaded), then the filter,
 * then its listener handed over. In between only allowed calls may be
 * made, since a notified one would wait for a supervisor that does not
 * know the listener yet: sandbox_notify_activate takes a mutex and
 * writes an eventfd, both allowed. Freeing comes after.
 */
static int enter_notify(enum sandbox_role role, const char *thread_name, bool *fall_back)
{
	struct sock_filter *insns;
	scmp_filter_ctx ctx;
	int err, fd, slot;

	err = build_filter(role, SCMP_ACT_NOTIFY, SCMP_ACT_LOG, &ctx);
	if (err)
		return err;
	slot = sandbox_notify_reserve(thread_name);
	if (slot < 0) {
		seccomp_release(ctx);
		return slot;
	}
	fd = load_with_listener(ctx, &insns);
	if (fd >= 0)
		sandbox_notify_activate(slot, fd);
	else
		sandbox_notify_cancel(slot);
	free(insns);
	seccomp_release(ctx);
	/* EBUSY: this thread already has a listener (an outer filter, its creator's). */
	*fall_back = fd == -EBUSY;
	return fd < 0 ? fd : 0;
}

static int load_filter(enum sandbox_role role, uint32_t deny, uint32_t bad_arch)
{
	scmp_filter_ctx ctx;
	int err = build_filter(role, deny, bad_arch, &ctx);

	if (err)
		return err;
	err = seccomp_load(ctx);
	seccomp_release(ctx);
	return err;
}

int sandbox_enter(enum sandbox_role role, enum sandbox_mode mode, const char *thread_name)
{
	bool fall_back = false;
	sigset_t sigsys;
	int err;

	if (mode == SANDBOX_OFF)
		return 0;
	snprintf(sandbox_thread_name, sizeof(sandbox_thread_name), "%s",
		 thread_name ? thread_name : "?");
	/*
	 * Without it an unprivileged thread may not load a filter; it also
	 * keeps any exec from gaining privileges.
	 */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		err = -errno;
		pr_err("sandbox: thread %s: PR_SET_NO_NEW_PRIVS: %s", sandbox_thread_name, strerror(-err));
		return err;
	}
	if (mode == SANDBOX_KILL) {
		/* A blocked SIGSYS would kill the process silently instead of reporting. */
		sigemptyset(&sigsys);
		sigaddset(&sigsys, SIGSYS);
		pthread_sigmask(SIG_UNBLOCK, &sigsys, NULL);
		err = load_filter(role, SCMP_ACT_TRAP, SCMP_ACT_TRAP);
	} else if (log_via_notify) {
		err = enter_notify(role, sandbox_thread_name, &fall_back);
		if (fall_back) {
			pr_warn("sandbox: thread %s already has a seccomp listener; its calls go to the kernel's audit log only",
				sandbox_thread_name);
			err = load_filter(role, SCMP_ACT_LOG, SCMP_ACT_LOG);
		}
	} else {
		err = load_filter(role, SCMP_ACT_LOG, SCMP_ACT_LOG);
	}
	if (err)
		pr_err("sandbox: thread %s: cannot load its filter: %s", sandbox_thread_name,
		       strerror(-err));
	return err;
}

/* --- LOG mode report ---------------------------------------------------- */

void sandbox_report_logged(const char *thread_name, long nr)
{
	const char *name = sandbox_syscall_name(nr);
	char line[160];
	int n;

	if (name)
		n = snprintf(line, sizeof(line), "vmm: sandbox: thread %s would be denied: %s\r\n",
			     thread_name, name);
	else
		n = snprintf(line, sizeof(line),
			     "vmm: sandbox: thread %s would be denied: system call %ld\r\n",
			     thread_name, nr);
	if (n > 0 && write(STDERR_FILENO, line, MIN((size_t)n, sizeof(line) - 1)) < 0) {
		/* stderr gone: nothing to report to */
	}
}
