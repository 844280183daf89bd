/* What the user asked for, after parsing and before anything is built. */
#ifndef VMM_CONFIG_H
#define VMM_CONFIG_H

#include "core/mem_backing.h"
#include "core/util.h"
#include "devices/virtio/blk.h"
#include "devices/virtio/net.h"
#include "sandbox/sandbox.h"
#include "vfio/backend.h"
#include "vfio/host_collect.h"
#include "vfio/iommu.h"

enum vmm_command { CMD_RUN, CMD_PLAN, CMD_HELP, CMD_VERSION, CMD_VFIO_BIND, CMD_VFIO_UNBIND };

enum console_kind { CONSOLE_SERIAL, CONSOLE_VIRTIO };

#define MAX_DISKS 8
#define MAX_VFIO VFIO_MAX_DEVICES
#define MAX_RESERVED_FILES 8
#define MAX_NETS 4

struct vm_config {
	enum vmm_command command;
	const char *kernel;
	const char *initrd;
	const char *params;
	u64 ram_size;
	struct mem_backing mem_backing; /* --mem-backing; resolved by main before use */
	unsigned int ncpus;
	unsigned int timeout_sec;   /* 0: none */
	struct disk_config disks[MAX_DISKS];
	unsigned int ndisks;
	struct net_config nets[MAX_NETS];
	unsigned int nnets;
	const char *vfio[MAX_VFIO];          /* PCI addresses as given */
	unsigned int nvfio;
	enum vfio_backend vfio_backend;      /* --vfio-backend; default auto */
	enum vfio_msi_mode msi_window;       /* --msi-window; default auto */
	u64 msi_window_addr, msi_window_size; /* VFIO_MSI_AT; size 0: the host's */
	const char *reserved_files[MAX_RESERVED_FILES];
	unsigned int nreserved;
	bool no_rng;
	enum console_kind console;
	const char *bdf;            /* vfio-bind/vfio-unbind: the PCI address as given */
	bool json;                  /* plan --json */
	const char *arch;           /* plan --arch: NULL for this host's */
	unsigned int addr_bits;     /* --addr-bits/--ipa-bits: guest physical width; 0: the host's */
	bool debug;
	enum sandbox_mode sandbox;  /* --sandbox; default kill */
	bool sandbox_explicit;      /* given on the command line */
};

#define DEFAULT_RAM_SIZE (256 * MiB)
#define DEFAULT_NCPUS 1
#define MAX_NCPUS 255 /* xAPIC IDs in the MADT; x2APIC is not offered */

#endif
