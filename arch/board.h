/*
 * One board interface per architecture. A board is the platform the
 * guest sees: its map policy (portable, so `vmm plan --arch` works on any
 * host), its interrupt controller and platform devices, how a kernel is
 * loaded, and how vCPUs start. arch/x86 and arch/arm64 each export one
 * const struct board_ops; what both share (the PCI host bridge and its
 * windows, the UART and console wiring, the command line, the INTx
 * swizzle, turning host holes into the planner's limits) is in board.c.
 */
#ifndef ARCH_BOARD_H
#define ARCH_BOARD_H

#include "core/host_holes.h"
#include "core/planner.h"
#include "core/vm.h"
#include "devices/pci.h"

struct boot_images;
struct console;
struct serial_8250;

/* Window names every board's plan has, for plan_find(). */
#define PLAN_PCI_ECAM "pci-ecam"
#define PLAN_PCI_MMIO32 "pci-mmio32"
#define PLAN_PCI_MMIO64 "pci-mmio64"
/* The MSI IOVA window the VMM chose (see enum plan_msi_window). */
#define PLAN_MSI_WINDOW "msi-window"

/* The MSI window's granule: iommufd takes its start and size in whole MiB. */
#define PLAN_MSI_WINDOW_ALIGN (1 * MiB)

/*
 * Where the kernel's MSI IOVA window goes (the address range a passed-
 * through device's MSI writes go to, mapped by the host IOMMU onto the
 * interrupt controller's doorbell; guest RAM cannot be there).
 */
enum plan_msi_window {
	PLAN_MSI_HOST, /* the host's default windows, among the holes, if any */
	PLAN_MSI_AUTO, /* the board places one, outside RAM, where devices live */
	PLAN_MSI_AT,   /* exactly at msi_window_addr: checked against everything else */
	PLAN_MSI_CHOSEN, /* at msi_window_addr, where PLAN_MSI_AUTO or _AT put it before */
};

/*
 * The 64-bit PCI window a plan needs: the board's default, or more to
 * hold every 64-bit BAR of the devices passed through (board_plan fills
 * it from host->bars).
 */
struct mmio64_need {
	u64 size, min_size, align;
	char reason[PLAN_LABEL_LEN * 2]; /* "0000:01:00.0 BAR2 (64 GiB), of 64 GiB in 3 BARs" */
};

/* What a plan is made from. */
struct plan_request {
	u64 ram_size;
	unsigned int ncpus;
	const struct host_holes *host; /* NULL: none */
	unsigned int addr_bits;        /* guest physical address width; 0: the board's default */
	u64 page_size;                 /* host page size banks align to; 0: this host's */
	u64 bank_align;                /* the RAM backing's page banks start on; 0: page_size */
	enum plan_msi_window msi_window;
	u64 msi_window_addr;           /* PLAN_MSI_AT */
	u64 msi_window_size;           /* AUTO and AT; 0: 1 MiB */
	const char *msi_window_label;  /* "MSI IOVA window (chosen by vmm)" */
	const struct mmio64_need *mmio64; /* set by board_plan for the layouts */
};

/* The 64-bit window's request from need (when given) or the board's default size. */
void board_mmio64_window(const struct mmio64_need *need, u64 default_size,
			 struct plan_window_request *w);

/* The map policy: plain data and arithmetic, built into every binary. */
struct board_layout {
	const char *name;              /* "x86_64", "arm64" */
	/* The guest physical address width when the request does not give one. */
	unsigned int (*default_addr_bits)(void);
	/* The smallest RAM bank alignment the board's guests need. */
	u64 ram_align;
	/*
	 * Why the MSI window cannot move on this board ("0xfee00000-0xfeefffff
	 * is architectural ..."); NULL: the board places PLAN_MSI_WINDOW.
	 */
	const char *msi_window_fixed;
	/* Fills policy (windows) for the request; plan_build() does the rest. */
	int (*plan)(const struct plan_request *req, u64 addr_limit, const char *limit_label,
		    struct memory_plan *plan);
	/*
	 * Places, inside the plan's RAM, everything the VMM writes before the
	 * guest starts: boot tables, and the kernel and initrd when img has
	 * them. Errors go to plan->error.
	 */
	int (*place_boot)(struct memory_plan *plan, const struct boot_images *img);
};

/*
 * The guest's images, read before anything is planned: the planner
 * places them, and a path that is not a regular file is refused before
 * any guest memory exists.
 */
/*
 * The kernel and the initrd. Only each file's first bytes are read into
 * memory, for the headers the planner and the loaders parse; the rest
 * goes from the file straight into guest RAM when it is loaded
 * (board_image_to_guest): one copy out of the page cache, none through
 * the heap. An fd of -1 means the buffer holds the whole image (tests).
 */
#define BOARD_IMAGE_HEAD (64 * KiB)

struct boot_images {
	const char *kernel_path;
	u8 *kernel;                    /* its first bytes; NULL: none (vmm plan without -k) */
	size_t kernel_len;             /* the whole file */
	int kernel_fd;
	const char *initrd_path;
	u8 *initrd;                    /* its first bytes; NULL: none */
	size_t initrd_len;
	int initrd_fd;
};

/* Opens the kernel and initrd named by paths (either may be NULL), reading their heads. */
int board_read_images(const char *kernel, const char *initrd, struct boot_images *img);
void board_free_images(struct boot_images *img);

/*
 * Bytes [offset, offset + len) of the kernel (or the initrd) into guest
 * RAM at gpa; -errno after one line naming the file and the range.
 */
int board_image_to_guest(struct vm *vm, const struct boot_images *img, bool initrd, u64 offset,
			 u64 len, u64 gpa);

/* What the guest boots. */
struct boot_config {
	const char *kernel;
	const char *initrd;
	const char *params;
	const char *console_param;     /* "console=ttyS0", unless params name one */
};

struct board;

struct board_ops {
	const struct board_layout *layout;
	/*
	 * The guest physical address width this host's KVM can give a VM
	 * (x86: the CPU's; arm64: KVM_CAP_ARM_VM_IPA_SIZE).
	 */
	unsigned int (*host_addr_bits)(void);
	/* KVM_CREATE_VM's machine type for this plan. */
	unsigned long (*vm_type)(const struct memory_plan *plan);
	/* Interrupt controller, its routes, the UART and the board's own devices. */
	int (*init)(struct board *b);
	/* After every vCPU exists (arm64 initialises its vGIC here). */
	int (*vcpus_created)(struct board *b);
	/* Writes the planned images, command line and firmware tables into guest memory. */
	int (*load)(struct board *b, const struct boot_config *boot,
		    const struct boot_images *img);
	int (*vcpu_init)(struct board *b, struct vcpu *vcpu);
	void (*vcpu_dump)(struct board *b, struct vcpu *vcpu);
	/* Optional, at -d when a vCPU stops: its interrupt controller's state. */
	void (*vcpu_report)(struct board *b, struct vcpu *vcpu);
	void (*destroy)(struct board *b);
};

struct board {
	const struct board_ops *ops;
	struct vm *vm;
	const struct memory_plan *plan;
	unsigned int ncpus;
	struct console *console;
	struct pci_bus pci;            /* bus 0 behind the host bridge */
	struct serial_8250 *uart;      /* the board's 16550A */
	int uart_batch_zone;           /* its THR in core/coalesced_io.h, or -1 */
	struct vcpu_ops vcpu_ops;      /* what core/vcpu.c calls, bound to this board */
	void *priv;                    /* the architecture's own state */
};

/* The board this binary runs guests on, and any board's layout by name. */
extern const struct board_ops board_native;
const struct board_layout *board_layout_find(const char *name);
/* "x86_64, arm64": for messages. */
const char *board_layout_names(void);

/*
 * The guest map for req on layout: the address limit is the lower of the
 * address width and the host IOMMU's IOVA limit, labelled with its source.
 * An MSI window at a given address must be 1 MiB aligned, below the limit,
 * and clear of RAM, every window and every hole: -EADDRINUSE (or -EINVAL)
 * with plan->error naming the conflict. A board whose window is fixed
 * refuses any but PLAN_MSI_HOST.
 */
int board_plan(const struct board_layout *layout, const struct plan_request *req,
	       struct memory_plan *plan);

/* Runs ops->init, then puts the PCI host bridge (ECAM, windows) on the buses. */
int board_init(struct board *b, const struct board_ops *ops, struct vm *vm,
	       const struct memory_plan *plan, unsigned int ncpus, struct console *console);
void board_destroy(struct board *b);

/* The UART at base on bus, raising its interrupt through set_irq. */
int board_add_uart(struct board *b, struct io_bus *bus, u64 base, void (*set_irq)(void *, int),
		   void *irq_opaque);

/* board_plan(), then layout->place_boot() for img (which may hold no images). */
int board_plan_boot(const struct board_layout *layout, const struct plan_request *req,
		    const struct boot_images *img, struct memory_plan *plan);

/* The kernel command line: the console parameter unless the user named one. */
int board_cmdline(const struct boot_config *boot, char *buf, size_t len);

#endif
