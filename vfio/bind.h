/*
 * `vmm vfio-bind` / `vmm vfio-unbind`: hand a host PCI device to vfio-pci
 * and back through sysfs (driver_override, driver/unbind, drivers_probe),
 * so that users need not know the sequence.
 */
#ifndef VFIO_BIND_H
#define VFIO_BIND_H

/*
 * Binds bdf ("0000:01:00.0" or "01:00.0") to vfio-pci, loading the module
 * if needed, and prints the result with the device's IOMMU group and
 * /dev/vfio/N on stdout. Succeeds if it is already bound. root is "/sys"
 * except in tests. Returns 0 or -errno after printing one error line.
 */
int vfio_bind(const char *sysfs_root, const char *bdf);

/* Releases bdf from vfio-pci so that its host driver can take it back. */
int vfio_unbind(const char *sysfs_root, const char *bdf);

/*
 * The same with the host's reactions made explicit. On a real host the
 * kernel acts on sysfs writes by itself and modules load with modprobe;
 * a unit test on a fake sysfs tree models both with these hooks.
 */
struct vfio_bind_host {
	const char *sysfs_root;
	/* Called after each successful attribute write; NULL on a real host. */
	void (*wrote)(void *opaque, const char *path, const char *text);
	/* Loads a kernel module; 0 or -errno. */
	int (*load_module)(void *opaque, const char *module);
	void *opaque;
};

int vfio_bind_on(const struct vfio_bind_host *host, const char *bdf);
int vfio_unbind_on(const struct vfio_bind_host *host, const char *bdf);

/* runs `modprobe module` (the default load_module) */
int vfio_modprobe(void *opaque, const char *module);

#endif
