/*
 * A PCI function passed through with VFIO. The guest sees a virtualised
 * config space: BARs relocated into planner-placed windows, the expansion
 * ROM hidden, MSI and MSI-X capabilities emulated, everything else passed
 * to the hardware. BAR pages are KVM memslots onto the device's MMIO,
 * except the MSI-X table and PBA pages, which trap to the VMM.
 */
#ifndef VFIO_PCI_DEV_H
#define VFIO_PCI_DEV_H

#include <linux/vfio.h>
#include <pthread.h>

#include "core/irq_route.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "msix_layout.h"
#include "msix_vectors.h"
#include "sysfs.h"

struct vm;
struct vfio_iommu;

#define VFIO_BAR_MAX_SLOTS 3

/* The kind of interrupt VFIO has for a device: one at a time. */
enum vfio_irq_kind { VFIO_IRQ_NONE, VFIO_IRQ_INTX, VFIO_IRQ_MSI, VFIO_IRQ_MSIX };

struct vfio_pci_dev;

struct vfio_bar {
	struct vfio_pci_dev *owner;
	unsigned int index;
	u64 size;
	bool present;        /* a memory BAR the guest sees */
	bool is64, prefetch;
	u64 guest_addr;      /* where pci_place_bars put it */
	u64 region_offset;   /* in the device fd */
	u8 *map;             /* mmap of the region; NULL: all accesses trap */
	int slots[VFIO_BAR_MAX_SLOTS];
	bool slot_used[VFIO_BAR_MAX_SLOTS];
	u64 mapped_at;       /* guest address of the memslots; 0: not mapped */
	bool incomplete;     /* KVM refused a memslot at mapped_at: retried on the next update */
	bool warned;         /* a refusal was reported: later ones are debug messages */
};

struct vfio_pci_dev {
	struct vm *vm;
	struct pci_bus *bus;
	char bdf[BDF_LEN];
	int fd;
	u32 flags;                     /* VFIO_DEVICE_FLAGS_* */
	u64 config_offset;
	struct pci_device pci;         /* guest view: shadow config + write masks */
	u8 emulated[PCI_CONFIG_SIZE];  /* byte is served from the shadow */
	struct vfio_bar bars[PCI_NUM_BARS];

	/* MSI-X: table and PBA emulated, vectors wired on demand. */
	u8 msix_cap;                   /* 0: none */
	struct msix_layout msix_layout;
	struct msix msix;
	struct msix_vectors msix_vectors; /* which ones VFIO has armed */

	/* Power management (passed through): read to explain a refusal. */
	u8 pm_cap;

	/* MSI: 1-32 vectors, emulated, with per-vector masking when the device has it. */
	u8 msi_cap;
	bool msi_64bit, msi_maskable;
	unsigned int msi_max;          /* vectors the device can (Multiple Message Capable) */
	unsigned int msi_asked;        /* vectors the guest's Multiple Message Enable asked for */
	unsigned int msi_enabled;      /* vectors VFIO has enabled (fewer if the host cannot); 0: MSI off */
	struct irq_route msi[32];

	/* INTx: level-triggered through a resampling irqfd. */
	struct irq_route intx;

	/*
	 * VFIO refuses a second interrupt kind while one is set (EINVAL), and
	 * a guest may leave MSI and MSI-X enabled together (undefined by the
	 * spec; the one enabled last wins here). irq_kind is what VFIO has,
	 * set only once VFIO accepted it and changed only by
	 * vfio_irq_follow_guest(); the guest_* fields are what the guest
	 * wrote. irq_lock guards them all: config writes and MSI-X table
	 * writes come from any vCPU (taken after the MSI-X lock).
	 */
	pthread_mutex_t irq_lock;
	enum vfio_irq_kind irq_kind;
	bool guest_msi_on, guest_msix_on; /* the capabilities' Enable bits */
	bool guest_msi_latest;            /* both on: MSI's was set after MSI-X's */
	bool irq_started;                 /* INTx may be armed (vfio_intx_start) */

	/*
	 * VFIO_DEVICE_SET_IRQS refusals per interrupt index: a guest writing
	 * nonsense into its MSI or MSI-X controls can cause one per write, so
	 * the first is a warning and the rest are counted (said at close).
	 */
	unsigned int set_irqs_refused[VFIO_PCI_NUM_IRQS];
	bool msi_fallback_said;        /* "cannot enable N MSI vectors" was said */
};

int vfio_pci_dev_open(struct vfio_pci_dev *d, struct vm *vm, struct vfio_iommu *iommu,
		      const char *bdf);
/* Reads config space and BARs; the BARs' guest addresses are then placed for all devices at once. */
int vfio_pci_dev_probe(struct vfio_pci_dev *d, struct pci_bus *bus);
/* With every bars[].guest_addr set: interrupts, and onto the guest's bus. */
int vfio_pci_dev_add(struct vfio_pci_dev *d);
void vfio_pci_dev_close(struct vfio_pci_dev *d);

/* pci_config.c */
void vfio_config_access(struct pci_device *pci, u32 offset, u8 *data, u32 len, bool is_write);
int vfio_config_init(struct vfio_pci_dev *d);

/* pci_bars.c: sizes, mmaps and memslots; then the guest addresses */
int vfio_bars_probe(struct vfio_pci_dev *d);
int vfio_bars_assign(struct vfio_pci_dev *d);
/* Memslots follow the BARs' addresses and decoding; refused ones are retried here. */
void vfio_bars_update_mappings(struct vfio_pci_dev *d);
void vfio_bars_release(struct vfio_pci_dev *d);

/* pci_irq.c: VFIO_DEVICE_SET_IRQS (fds NULL: disable the index), INTx, the whole set */
int vfio_set_irqs(struct vfio_pci_dev *d, u32 index, u32 action, u32 start, u32 count,
		  const int *fds);
int vfio_irq_init(struct vfio_pci_dev *d);
int vfio_intx_init(struct vfio_pci_dev *d);
void vfio_intx_start(struct vfio_pci_dev *d);
/* irq_lock held: VFIO gets the kind the guest's Enable bits ask for. */
void vfio_irq_follow_guest(struct vfio_pci_dev *d);
void vfio_irq_release(struct vfio_pci_dev *d);

/* pci_msix.c */
int vfio_msix_init(struct vfio_pci_dev *d);
void vfio_msix_release(struct vfio_pci_dev *d);
/* A guest access on a trapped BAR page that hits the table or a PBA: true if handled. */
bool vfio_msix_access(struct vfio_pci_dev *d, unsigned int bar, u64 offset, u8 *data, u32 len,
		      bool is_write);

/* pci_msi.c */
void vfio_msi_setup_config(struct vfio_pci_dev *d);
void vfio_msi_config_written(struct vfio_pci_dev *d);
/* Before a config read: the emulated Pending Bits follow the vectors' eventfds. */
void vfio_msi_refresh_pending(struct vfio_pci_dev *d);
void vfio_msi_release(struct vfio_pci_dev *d);
/* For vfio_irq_follow_guest: MSI on in VFIO as the guest asks (0 or -errno), and off. */
int vfio_msi_on(struct vfio_pci_dev *d);
void vfio_msi_off(struct vfio_pci_dev *d);
/* MSI is on in VFIO with what the guest's Multiple Message Enable asks now. */
bool vfio_msi_current(const struct vfio_pci_dev *d);

#endif
