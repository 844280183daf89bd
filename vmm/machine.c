/*
 * The life of a machine, as a table of named phases, each with its undo.
 * Bring-up runs them in order; at exit, or when one fails, the phases
 * that ran are undone in reverse, so whatever a phase creates is
 * destroyed by that same phase. The phase that failed is undone too: an
 * undo must cope with a half-done run (every one here does).
 */
#include "machine.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/size.h"
#include "device_set.h"
#include "sandbox/sandbox.h"
#include "devices/serial_8250.h"
#include "vfio/host_collect.h"
#include "vfio/vfio.h"

/*
 * The request for cfg on the board called arch (NULL: this binary's). The
 * MSI window: where passthrough moved it, else where the user asked, else
 * the host's.
 */
static int plan_request_for(const struct vm_config *cfg, const char *arch,
			    const struct host_holes *host, const struct board_layout **out,
			    struct plan_request *req_out, struct memory_plan *plan)
{
	const struct board_layout *layout = arch ? board_layout_find(arch) : board_native.layout;
	struct plan_request req = {
		.ram_size = cfg->ram_size, .ncpus = cfg->ncpus, .host = host,
		.addr_bits = cfg->addr_bits, .bank_align = cfg->mem_backing.page_size,
	};
	bool native = layout == board_native.layout;

	if (host && host->msi_window_placed) {
		/* The devices have it: the plan keeps it where the planner chose it. */
		req.msi_window = PLAN_MSI_CHOSEN;
		req.msi_window_addr = host->msi_window_start;
		req.msi_window_size = host->msi_window_placed_size;
	} else if (cfg->msi_window == VFIO_MSI_AT) {
		req.msi_window = PLAN_MSI_AT;
		req.msi_window_addr = cfg->msi_window_addr;
		req.msi_window_size = cfg->msi_window_size;
	}

	/* This host's KVM sets the limit of its own guests; another board's plan uses its default. */
	if (native && !req.addr_bits)
		req.addr_bits = board_native.host_addr_bits();
	if (native && cfg->command == CMD_RUN && cfg->addr_bits > board_native.host_addr_bits()) {
		snprintf(plan->error, sizeof(plan->error),
			 "--addr-bits %u is more than this host's KVM offers (%u bits)", cfg->addr_bits,
			 board_native.host_addr_bits());
		return -EINVAL;
	}
	if (!layout) {
		snprintf(plan->error, sizeof(plan->error), "no board '%s'; this build knows %s", arch ? arch : "",
			 board_layout_names());
		return -EINVAL;
	}
	*out = layout;
	*req_out = req;
	return 0;
}

int machine_plan(const struct vm_config *cfg, const char *arch, const struct host_holes *host,
		 const struct boot_images *img, struct memory_plan *plan)
{
	const struct board_layout *layout;
	struct plan_request req;
	int err = plan_request_for(cfg, arch, host, &layout, &req, plan);

	return err ? err : board_plan_boot(layout, &req, img, plan);
}

/*
 * The planner chooses the MSI window for passthrough (vfio_msi_chooser):
 * the plan of this configuration on host (its default windows gone), with
 * the window placed by the board or checked where the user put it.
 */
static int choose_msi_window(void *opaque, const struct host_holes *host, u64 size, u64 *start,
			     u64 *size_out)
{
	const struct machine_msi *c = opaque;
	const struct board_layout *layout;
	const struct plan_region *window;
	struct plan_request req;
	struct memory_plan *plan = malloc(sizeof(*plan));
	int err;

	if (!plan)
		return -ENOMEM;
	err = plan_request_for(c->cfg, c->arch, host, &layout, &req, plan);
	if (!err) {
		if (c->cfg->msi_window != VFIO_MSI_AT) {
			req.msi_window = PLAN_MSI_AUTO;
			req.msi_window_size = ALIGN_UP(MAX(size, PLAN_MSI_WINDOW_ALIGN),
						       PLAN_MSI_WINDOW_ALIGN);
		} else if (!req.msi_window_size) {
			req.msi_window_size = ALIGN_UP(MAX(size, PLAN_MSI_WINDOW_ALIGN),
						       PLAN_MSI_WINDOW_ALIGN);
		}
		err = board_plan(layout, &req, plan);
	}
	window = err ? NULL : plan_find(plan, PLAN_MSI_WINDOW);
	if (err)
		pr_err("%s", plan->error);
	else if (!window)
		err = -ENOSPC; /* the board places one whenever asked */
	if (window) {
		*start = window->start;
		*size_out = window->size;
	}
	free(plan);
	return err;
}

void machine_msi_chooser(const struct vm_config *cfg, const char *arch, struct machine_msi *ctx,
			 struct vfio_msi_chooser *out)
{
	const struct board_layout *layout = arch ? board_layout_find(arch) : board_native.layout;

	ctx->cfg = cfg;
	ctx->arch = arch;
	*out = (struct vfio_msi_chooser){ .mode = cfg->msi_window, .choose = choose_msi_window,
					  .opaque = ctx };
	/* auto keeps a window the architecture fixes (x86); an address is refused by the plan. */
	if (cfg->msi_window == VFIO_MSI_AUTO && (!layout || layout->msi_window_fixed))
		out->mode = VFIO_MSI_HOST;
}

/* Before any thread exists: the SIGSYS reporter, or the LOG supervisor. */
static int prepare_sandbox(struct machine *m)
{
	m->sandbox = m->cfg->sandbox;
	return sandbox_prepare(&m->sandbox, m->cfg->sandbox_explicit);
}

/* The host's holes come first: sysfs and --reserved files, then the IOMMU backend. */
static int collect_host_holes(struct machine *m)
{
	const struct vm_config *cfg = m->cfg;

	return vfio_collect_host_holes(cfg->reserved_files, cfg->nreserved, cfg->vfio, cfg->nvfio,
				       "/sys", &m->host);
}

static int open_passthrough(struct machine *m)
{
	struct vfio_msi_chooser msi;

	machine_msi_chooser(m->cfg, NULL, &m->msi, &msi);
	return vfio_open(m->cfg->vfio, m->cfg->nvfio, m->cfg->vfio_backend, &msi, &m->host,
			 &m->vfio);
}

static void close_passthrough(struct machine *m)
{
	vfio_close(m->vfio);
	m->vfio = NULL;
}

/* Read before anything is planned or allocated: a bad path fails early. */
static int read_images(struct machine *m)
{
	return board_read_images(m->cfg->kernel, m->cfg->initrd, &m->images);
}

static void free_images(struct machine *m)
{
	board_free_images(&m->images);
}

static int plan_memory(struct machine *m)
{
	int err = machine_plan(m->cfg, NULL, &m->host, &m->images, &m->plan);

	if (err)
		pr_err("%s", m->plan.error);
	return err;
}

/* Refuses RAM beyond what the host has: MAP_NORESERVE would defer the failure to an OOM kill. */
static int check_host_memory(struct machine *m)
{
	long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
	u64 ram_size = m->cfg->ram_size;
	char want[32], have[32];

	if (pages <= 0 || page_size <= 0)
		return 0;
	if (ram_size > (u64)pages * (u64)page_size) {
		pr_err("-m %s is more than this host's memory (%s); use a smaller -m",
		       format_size(ram_size, want, sizeof(want)),
		       format_size((u64)pages * (u64)page_size, have, sizeof(have)));
		return -ENOMEM;
	}
	return 0;
}

static int alloc_memory(struct machine *m)
{
	char how[128];

	pr_debug("guest RAM: %s", mem_backing_describe(&m->cfg->mem_backing, how, sizeof(how)));
	return guest_mem_alloc(&m->vm.mem, &m->plan, &m->cfg->mem_backing);
}

static void free_memory(struct machine *m)
{
	guest_mem_free(&m->vm.mem);
}

static int create_vm(struct machine *m)
{
	int err = vm_create(&m->vm, board_native.vm_type(&m->plan), m->cfg->ncpus);

	return err ? err : kvm_map_memory(&m->vm);
}

static void destroy_vm(struct machine *m)
{
	vm_destroy(&m->vm);
}

static void on_signal(void *opaque, uint32_t events)
{
	struct machine *m = opaque;
	struct signalfd_siginfo info;

	(void)events;
	if (read(m->signal_fd, &info, sizeof(info)) != sizeof(info))
		return;
	pr_info("stopping the guest on signal %u", info.ssi_signo);
	vm_request_stop(&m->vm, 128 + (int)info.ssi_signo);
}

static void on_timeout(void *opaque, uint32_t events)
{
	struct machine *m = opaque;

	(void)events;
	pr_info("--timeout of %u s reached: stopping the guest", m->cfg->timeout_sec);
	vm_request_stop(&m->vm, EXIT_TIMEOUT);
}

static int open_stop_sources(struct machine *m)
{
	sigset_t stop_signals;
	int err;

	/* Blocked in every thread (vCPU threads inherit the mask); read via signalfd. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	m->signal_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
	if (m->signal_fd < 0)
		return -errno;
	err = event_loop_add(&m->vm.loop, m->signal_fd, EPOLLIN, on_signal, m);
	if (err || !m->cfg->timeout_sec)
		return err;

	struct itimerspec when = { .it_value.tv_sec = m->cfg->timeout_sec };

	m->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (m->timer_fd < 0 || timerfd_settime(m->timer_fd, 0, &when, NULL) < 0)
		return -errno;
	return event_loop_add(&m->vm.loop, m->timer_fd, EPOLLIN, on_timeout, m);
}

static void close_stop_sources(struct machine *m)
{
	if (m->timer_fd >= 0)
		close(m->timer_fd);
	if (m->signal_fd >= 0)
		close(m->signal_fd);
	m->timer_fd = m->signal_fd = -1;
}

/* Each vCPU thread confines itself before its first KVM_RUN. */
static void vcpu_thread_start(void *opaque, struct vcpu *vcpu)
{
	struct machine *m = opaque;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", vcpu->index);
	if (sandbox_enter(SANDBOX_ROLE_VCPU, m->sandbox, name)) {
		pr_err("vCPU %u: cannot enter the sandbox", vcpu->index);
		vm_request_stop(&m->vm, EXIT_FAILURE_VMM);
		atomic_store(&m->vm.stopping, true);
	}
}

static int vcpu_init(void *opaque, struct vcpu *vcpu)
{
	struct board *b = opaque;

	return b->ops->vcpu_init(b, vcpu);
}

static void vcpu_dump(void *opaque, struct vcpu *vcpu)
{
	struct board *b = opaque;

	b->ops->vcpu_dump(b, vcpu);
}

static void vcpu_report(void *opaque, struct vcpu *vcpu)
{
	struct board *b = opaque;

	if (b->ops->vcpu_report)
		b->ops->vcpu_report(b, vcpu);
}

static int init_board(struct machine *m)
{
	struct board *b = &m->board;
	int err;

	err = board_init(b, &board_native, &m->vm, &m->plan, m->cfg->ncpus, &m->console);
	b->vcpu_ops = (struct vcpu_ops){ .init = vcpu_init, .dump = vcpu_dump,
					 .report = vcpu_report, .opaque = b,
					 .thread_start = vcpu_thread_start, .thread_opaque = m };
	if (!err && m->cfg->console == CONSOLE_SERIAL)
		err = console_attach_input(&m->console, serial_8250_receive, b->uart);
	return err;
}

static void destroy_board(struct machine *m)
{
	board_destroy(&m->board);
}

static int add_devices(struct machine *m)
{
	return device_set_create(&m->vm, &m->board.pci, &m->console, m->cfg, &m->devices);
}

static void remove_devices(struct machine *m)
{
	device_set_destroy(m->devices);
	m->devices = NULL;
}

/* Guest RAM mapped for DMA, the KVM-VFIO device, the devices on the bus. */
static int attach_passthrough(struct machine *m)
{
	return vfio_attach(m->vfio, &m->vm, &m->board.pci);
}

static void detach_passthrough(struct machine *m)
{
	vfio_detach(m->vfio);
}

static int load_guest(struct machine *m)
{
	const struct vm_config *cfg = m->cfg;
	const struct boot_config boot = {
		.kernel = cfg->kernel,
		.initrd = cfg->initrd,
		.params = cfg->params,
		.console_param = cfg->console == CONSOLE_VIRTIO ? "console=hvc0" : "console=ttyS0",
	};
	int err = m->board.ops->load(&m->board, &boot, &m->images);

	/* In guest memory now: the copies would stay resident for the whole run. */
	board_free_images(&m->images);
	return err;
}

static int create_vcpus(struct machine *m)
{
	return vcpus_create(&m->vm, m->cfg->ncpus, &m->board.vcpu_ops);
}

static void destroy_vcpus(struct machine *m)
{
	vcpus_destroy(&m->vm);
}

/* The interrupt controller is complete once every vCPU exists (arm64 vGIC). */
static int finish_board(struct machine *m)
{
	return m->board.ops->vcpus_created(&m->board);
}

/* INTx is armed only now: an arm64 vGIC refuses irqfds before its init. */
static int start_passthrough(struct machine *m)
{
	vfio_start(m->vfio);
	return 0;
}

static int start_console(struct machine *m)
{
	return console_start(&m->console, &m->vm.loop);
}

static void restore_console(struct machine *m)
{
	console_restore(&m->console);
}

static int start_vcpus(struct machine *m)
{
	return vcpus_start(&m->vm);
}

static void stop_vcpus(struct machine *m)
{
	vcpus_kick_and_join(&m->vm);
}

/*
 * Last: the main thread confines itself once every thread exists (a
 * thread inherits its creator's filter). /dev/kvm is not needed any more.
 */
static int enter_sandbox(struct machine *m)
{
	if (m->vm.kvm_fd >= 0)
		close(m->vm.kvm_fd);
	m->vm.kvm_fd = -1;
	return sandbox_enter(SANDBOX_ROLE_MAIN, m->sandbox, "main");
}

struct phase {
	const char *name;
	int (*run)(struct machine *m);
	void (*undo)(struct machine *m); /* NULL: nothing to undo */
};

static const struct phase phases[] = {
	{ "sandbox preparation", prepare_sandbox, NULL },
	{ "host holes", collect_host_holes, NULL },
	{ "passthrough devices", open_passthrough, close_passthrough },
	{ "guest images", read_images, free_images },
	{ "memory plan", plan_memory, NULL },
	{ "host memory check", check_host_memory, NULL },
	{ "guest memory", alloc_memory, free_memory },
	{ "KVM VM", create_vm, destroy_vm },
	{ "stop signals and timeout", open_stop_sources, close_stop_sources },
	{ "board", init_board, destroy_board },
	{ "virtio devices", add_devices, remove_devices },
	{ "passthrough attach", attach_passthrough, detach_passthrough },
	{ "guest image", load_guest, NULL },
	{ "vCPUs", create_vcpus, destroy_vcpus },
	{ "interrupt controller", finish_board, NULL },
	{ "passthrough INTx", start_passthrough, NULL },
	{ "console", start_console, restore_console },
	{ "vCPU threads", start_vcpus, stop_vcpus },
	{ "sandbox", enter_sandbox, NULL },
};

static void quit_from_console(void *opaque)
{
	vm_request_stop(opaque, EXIT_POWEROFF);
}

int machine_run(const struct vm_config *cfg)
{
	struct machine m = { .cfg = cfg, .signal_fd = -1, .timer_fd = -1 };
	unsigned int ran = 0;
	int err = 0, status;

	vm_init(&m.vm);
	console_init(&m.console, quit_from_console, &m.vm);
	for (; ran < ARRAY_SIZE(phases) && !err; ran++) {
		double cpu_ms = log_process_cpu_ms();

		err = phases[ran].run(&m);
		pr_debug("phase '%s': %.2f ms CPU", phases[ran].name, log_process_cpu_ms() - cpu_ms);
		if (err)
			pr_debug("bring-up failed in phase '%s': %s", phases[ran].name,
				 strerror(err < 0 ? -err : err));
	}
	if (!err)
		err = event_loop_run(&m.vm.loop);

	/*
	 * The phases that ran, undone in reverse: vCPUs stop first, then
	 * devices go before the bus, the board and the VM they hang on.
	 */
	while (ran-- > 0)
		if (phases[ran].undo)
			phases[ran].undo(&m);
	status = atomic_load(&m.vm.exit_status);
	return err || status < 0 ? EXIT_FAILURE_VMM : status;
}
