/* What every board shares: the plan's limits, the PCI host bridge, the UART, the command line. */
#include "board.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "core/log.h"
#include "core/size.h"
#include "devices/serial_8250.h"

extern const struct board_layout x86_layout, arm64_layout;

static const struct board_layout *const layouts[] = { &x86_layout, &arm64_layout };

const struct board_layout *board_layout_find(const char *name)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(layouts); i++)
		if (!strcmp(layouts[i]->name, name))
			return layouts[i];
	return NULL;
}

const char *board_layout_names(void)
{
	return "x86_64, arm64";
}

/* Aligned, below the limit: else false with plan->error saying so. */
static bool msi_window_fits(const struct plan_request *req, u64 limit, const char *label,
			    struct memory_plan *plan)
{
	u64 addr = req->msi_window_addr, size = req->msi_window_size;

	if (!IS_ALIGNED(addr, PLAN_MSI_WINDOW_ALIGN) || !IS_ALIGNED(size, PLAN_MSI_WINDOW_ALIGN)) {
		snprintf(plan->error, sizeof(plan->error),
			 "--msi-window 0x%llx,0x%llx: start and size must be multiples of 1 MiB",
			 (unsigned long long)addr, (unsigned long long)size);
		return false;
	}
	if (addr >= limit || size > limit - addr) {
		snprintf(plan->error, sizeof(plan->error),
			 "--msi-window 0x%llx-0x%llx is beyond the %s at 0x%llx",
			 (unsigned long long)addr, (unsigned long long)(addr + size - 1), label,
			 (unsigned long long)limit);
		return false;
	}
	return true;
}

/* A placed MSI window overlaps nothing: else -EADDRINUSE naming what it meets. */
static int msi_window_alone(struct memory_plan *plan)
{
	const struct plan_region *w = plan_find(plan, PLAN_MSI_WINDOW);

	for (unsigned int i = 0; w && i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];

		if (r == w || !ranges_overlap(w->start, w->size, r->start, r->size))
			continue;
		snprintf(plan->error, sizeof(plan->error),
			 "the MSI IOVA window 0x%llx-0x%llx overlaps %s%s 0x%llx-0x%llx",
			 (unsigned long long)w->start, (unsigned long long)(w->start + w->size - 1),
			 r->kind == REGION_RAM ? "guest " : "", r->label,
			 (unsigned long long)r->start, (unsigned long long)(r->start + r->size - 1));
		return -EADDRINUSE;
	}
	return 0;
}

/*
 * An MSI window at the user's address: first the plan without it, which
 * must leave that range untouched (no RAM, no window, no hole there),
 * then the plan with it fixed there, which then changes nothing else.
 */
static int check_msi_window_at(const struct board_layout *layout, const struct plan_request *req,
			       u64 limit, const char *label, struct memory_plan *plan)
{
	struct plan_request without = *req;
	u64 addr = req->msi_window_addr, size = req->msi_window_size;
	int err;

	if (!msi_window_fits(req, limit, label, plan))
		return -EINVAL;
	without.msi_window = PLAN_MSI_HOST;
	err = layout->plan(&without, limit, label, plan);
	if (err)
		return err;
	for (unsigned int i = 0; i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];

		if (!ranges_overlap(addr, size, r->start, r->size))
			continue;
		snprintf(plan->error, sizeof(plan->error),
			 "--msi-window 0x%llx-0x%llx overlaps %s%s 0x%llx-0x%llx; choose a free 1 MiB-aligned range (see vmm plan)",
			 (unsigned long long)addr, (unsigned long long)(addr + size - 1),
			 r->kind == REGION_RAM ? "guest " : "", r->label,
			 (unsigned long long)r->start, (unsigned long long)(r->start + r->size - 1));
		return -EADDRINUSE;
	}
	return layout->plan(req, limit, label, plan);
}

/*
 * pci_place_bars packs 64-bit BARs largest first from the window's base:
 * aligned to the largest, the window needs exactly their sum.
 */
static void mmio64_need_from(const struct host_holes *host, struct mmio64_need *need)
{
	const struct host_bar *largest = NULL;
	unsigned int n = 0;
	u64 sum = 0;
	char sz[32], total[32];

	memset(need, 0, sizeof(*need));
	for (unsigned int i = 0; host && i < host->nbars; i++) {
		const struct host_bar *b = &host->bars[i];

		if (!b->is64)
			continue;
		n++;
		sum += b->size;
		if (!largest || b->size > largest->size)
			largest = b;
	}
	if (!largest)
		return;
	need->size = ALIGN_UP(sum, GiB);
	need->min_size = need->size;
	need->align = MAX(GiB, largest->size);
	snprintf(need->reason, sizeof(need->reason), "%s BAR%u (%s), the largest of %u 64-bit BAR%s passed through (%s in all)",
		 largest->bdf, largest->index, format_size(largest->size, sz, sizeof(sz)), n,
		 n == 1 ? "" : "s", format_size(sum, total, sizeof(total)));
}

void board_mmio64_window(const struct mmio64_need *need, u64 default_size,
			 struct plan_window_request *w)
{
	w->size = default_size;
	w->min_size = 1 * GiB;
	w->align = 1 * GiB;
	if (!need || !need->size)
		return;
	/* Never smaller than what the BARs need; the default when that is more. */
	w->size = MAX(default_size, need->size);
	w->min_size = need->min_size;
	w->align = need->align;
	w->reason = need->reason;
}

int board_plan(const struct board_layout *layout, const struct plan_request *req,
	       struct memory_plan *plan)
{
	struct mmio64_need need;
	unsigned int bits = req->addr_bits ? req->addr_bits : layout->default_addr_bits();
	const struct host_holes *host = req->host;
	struct plan_request aligned = *req;
	u64 limit, page = req->page_size ? req->page_size : host_page_size();
	char label[PLAN_LABEL_LEN];
	int err;

	memset(plan, 0, sizeof(*plan));
	if (!req->ncpus) {
		snprintf(plan->error, sizeof(plan->error), "a guest needs at least one vCPU");
		return -EINVAL;
	}
	if (bits < 32 || bits > 52 || page & (page - 1)) {
		snprintf(plan->error, sizeof(plan->error),
			 "cannot plan for a %u-bit guest physical address space with %llu-byte pages",
			 bits, (unsigned long long)page);
		return -EINVAL;
	}
	limit = 1ULL << bits;
	if (req->msi_window != PLAN_MSI_HOST && layout->msi_window_fixed) {
		snprintf(plan->error, sizeof(plan->error),
			 "--msi-window: the MSI window cannot move on %s: %s", layout->name,
			 layout->msi_window_fixed);
		return -EINVAL;
	}
	/* Memslots, guard pages and DMA maps work in host pages: banks align to them. */
	aligned.page_size = MAX(page, layout->ram_align);
	/* Huge-page backings: every bank but the first starts on one (see plan_policy.bank_align). */
	aligned.bank_align = MAX(req->bank_align, aligned.page_size);
	if (aligned.bank_align & (aligned.bank_align - 1)) {
		snprintf(plan->error, sizeof(plan->error),
			 "cannot align RAM banks to %llu bytes: not a power of two",
			 (unsigned long long)aligned.bank_align);
		return -EINVAL;
	}
	mmio64_need_from(host, &need);
	aligned.mmio64 = &need;
	/* The lower of the two limits wins, and the plan names it. */
	if (host && host->iova_limit && host->iova_limit < limit) {
		limit = host->iova_limit;
		snprintf(label, sizeof(label), "%s", host->iova_limit_source);
	} else {
		snprintf(label, sizeof(label), "guest physical address limit (%u bits)", bits);
	}
	if (!aligned.msi_window_size)
		aligned.msi_window_size = PLAN_MSI_WINDOW_ALIGN;
	if (!aligned.msi_window_label)
		aligned.msi_window_label = "MSI IOVA window (chosen by vmm)";
	if (req->msi_window == PLAN_MSI_AT)
		return check_msi_window_at(layout, &aligned, limit, label, plan);
	if (req->msi_window == PLAN_MSI_CHOSEN && !msi_window_fits(&aligned, limit, label, plan))
		return -EINVAL;
	err = layout->plan(&aligned, limit, label, plan);
	/* Chosen before, on other holes (the IOAS's came since): still clear of all? */
	return err ? err : msi_window_alone(plan);
}

int board_plan_boot(const struct board_layout *layout, const struct plan_request *req,
		    const struct boot_images *img, struct memory_plan *plan)
{
	int err = board_plan(layout, req, plan);

	return err ? err : layout->place_boot(plan, img);
}

/* One image: opened, sized, and its first bytes read. */
static int open_image(const char *path, const char *what, u8 **head, size_t *len, int *fd)
{
	u64 size;
	size_t n;
	int err;

	*fd = file_open_sized(path, what, FILE_MAX_IMAGE, &size);
	if (*fd < 0)
		return *fd;
	n = (size_t)MIN(size, (u64)BOARD_IMAGE_HEAD);
	*head = malloc(n ? n : 1);
	if (!*head)
		return -ENOMEM;
	err = file_read_at(*fd, 0, *head, n);
	if (err)
		pr_err("cannot read %s '%s': %s", what, path,
		       err == -EIO ? "it shrank while being read" : strerror(-err));
	*len = (size_t)size;
	return err;
}

int board_read_images(const char *kernel, const char *initrd, struct boot_images *img)
{
	int err = 0;

	memset(img, 0, sizeof(*img));
	img->kernel_fd = img->initrd_fd = -1;
	img->kernel_path = kernel;
	img->initrd_path = initrd;
	if (kernel)
		err = open_image(kernel, "kernel", &img->kernel, &img->kernel_len, &img->kernel_fd);
	if (!err && initrd)
		err = open_image(initrd, "initrd", &img->initrd, &img->initrd_len, &img->initrd_fd);
	if (err)
		board_free_images(img);
	return err;
}

void board_free_images(struct boot_images *img)
{
	free(img->kernel);
	free(img->initrd);
	img->kernel = img->initrd = NULL;
	if (img->kernel_fd >= 0)
		close(img->kernel_fd);
	if (img->initrd_fd >= 0)
		close(img->initrd_fd);
	img->kernel_fd = img->initrd_fd = -1;
}

int board_image_to_guest(struct vm *vm, const struct boot_images *img, bool initrd, u64 offset,
			 u64 len, u64 gpa)
{
	const char *what = initrd ? "initrd" : "kernel";
	const char *path = initrd ? img->initrd_path : img->kernel_path;
	const u8 *buf = initrd ? img->initrd : img->kernel;
	size_t size = initrd ? img->initrd_len : img->kernel_len;
	int fd = initrd ? img->initrd_fd : img->kernel_fd;
	int err;

	if (offset > size || len > size - offset) {
		err = -EINVAL;
	} else if (fd >= 0) {
		err = guest_mem_read_file(&vm->mem, gpa, fd, offset, len);
	} else {
		err = guest_mem_write(&vm->mem, gpa, buf + offset, len);
	}
	if (err == -EFAULT || err == -EINVAL)
		pr_err("the %s (0x%llx bytes at 0x%llx) is not inside guest RAM", what,
		       (unsigned long long)len, (unsigned long long)gpa);
	else if (err)
		pr_err("cannot read %s '%s': %s", what, path ? path : "?",
		       err == -EIO ? "it shrank while being loaded" : strerror(-err));
	return err;
}

int board_init(struct board *b, const struct board_ops *ops, struct vm *vm,
	       const struct memory_plan *plan, unsigned int ncpus, struct console *console)
{
	const struct plan_region *ecam = plan_find(plan, PLAN_PCI_ECAM);
	const struct plan_region *m32 = plan_find(plan, PLAN_PCI_MMIO32);
	const struct plan_region *m64 = plan_find(plan, PLAN_PCI_MMIO64);
	int err;

	b->ops = ops;
	b->vm = vm;
	b->plan = plan;
	b->ncpus = ncpus;
	b->console = console;
	pci_bus_init(&b->pci);
	err = ops->init(b);
	if (!err && ecam)
		err = io_bus_register(&vm->mmio, ecam->start, ecam->size, pci_ecam_io, &b->pci,
				      "PCI ECAM");
	if (!err)
		err = pci_bus_set_windows(&b->pci, &vm->mmio, m32 ? m32->start : 0,
					  m32 ? m32->size : 0, m64 ? m64->start : 0,
					  m64 ? m64->size : 0);
	return err;
}

void board_destroy(struct board *b)
{
	if (!b->ops)
		return;
	b->ops->destroy(b);
	serial_8250_destroy(b->uart);
	b->uart = NULL;
	b->ops = NULL;
}

static void uart_stop_batching(void *opaque)
{
	struct board *b = opaque;

	coalesced_io_set(&b->vm->coalesced, b->uart_batch_zone, false);
}

int board_add_uart(struct board *b, struct io_bus *bus, u64 base, void (*set_irq)(void *, int),
		   void *irq_opaque)
{
	int err;

	b->uart = serial_8250_create(set_irq, irq_opaque, b->console);
	if (!b->uart)
		return -ENOMEM;
	err = io_bus_register(bus, base, 8, serial_8250_io, b->uart, "UART");
	if (err)
		return err;
	/* THR alone: one byte, the access width of the 8250 driver's console writes. */
	b->uart_batch_zone = coalesced_io_add(&b->vm->coalesced, bus == &b->vm->pio, base, 1);
	if (b->uart_batch_zone >= 0) {
		coalesced_io_set(&b->vm->coalesced, b->uart_batch_zone, true);
		serial_8250_batch_until_tx_irq(b->uart, uart_stop_batching, b);
	}
	return 0;
}

int board_cmdline(const struct boot_config *boot, char *buf, size_t len)
{
	const char *params = boot->params ? boot->params : "";
	bool named = strstr(params, "console=") != NULL;
	int n;

	/* A console the user can see unless they chose one. */
	n = snprintf(buf, len, "%s%s%s", named ? "" : boot->console_param,
		     named || !*params ? "" : " ", params);
	return n < 0 || (size_t)n >= len ? -E2BIG : n;
}
