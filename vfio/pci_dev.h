/*
 * A PCI function passed through with VFIO. The guest sees a virtualised
 * config space: BARs relocated into planner-placed windows, the expansion
 * ROM hidden, MSI and MSI-X capabilities emulated, everything else passed
 * to the hardware. BAR pages are KVM memslots onto the device's MMIO,
 * except the MSI-X table and PBA pages, which trap to the VMM.
 */
#ifndef VFIO_PCI_DEV_H
#define VFIO_PCI_DEV_H

#include "core/irq_route.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "sysfs.h"

struct vm;
struct vfio_iommu;

#define VFIO_BAR_MAX_SLOTS 3

struct vfio_pci_dev;

struct vfio_bar {
	struct vfio_pci_dev *owner;
	unsigned int index;
	u64 size;
	bool present;        /* a memory BAR the guest sees */
	bool is64;
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
	u8 msix_bar;
	u32 msix_table_offset, msix_pba_offset;
	struct msix msix;
	unsigned int vfio_msix_count;  /* vectors VFIO currently has enabled */
	u64 msix_armed;                /* bitmap of vectors given to VFIO (first 64) */
	bool msix_noresize;

	/* MSI: one vector, emulated. */
	u8 msi_cap;
	bool msi_64bit, msi_enabled;
	struct irq_route msi;

	/* INTx: level-triggered through a resampling irqfd. */
	struct irq_route intx;
	bool intx_on;
};

int vfio_pci_dev_open(struct vfio_pci_dev *d, struct vm *vm, struct vfio_iommu *iommu,
		      const char *bdf);
int vfio_pci_dev_add(struct vfio_pci_dev *d, struct pci_bus *bus);
void vfio_pci_dev_close(struct vfio_pci_dev *d);

/* pci_config.c */
void vfio_config_access(struct pci_device *pci, u32 offset, u8 *data, u32 len, bool is_write);
int vfio_config_init(struct vfio_pci_dev *d);

/* pci_bars.c */
int vfio_bars_init(struct vfio_pci_dev *d);
/* Memslots follow the BARs' addresses and decoding; refused ones are retried here. */
void vfio_bars_update_mappings(struct vfio_pci_dev *d);
void vfio_bars_release(struct vfio_pci_dev *d);

/* pci_irq.c */
int vfio_irq_init(struct vfio_pci_dev *d);
int vfio_intx_init(struct vfio_pci_dev *d);
void vfio_intx_start(struct vfio_pci_dev *d);
void vfio_msi_config_written(struct vfio_pci_dev *d);
void vfio_irq_release(struct vfio_pci_dev *d);

#endif
