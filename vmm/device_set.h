/* Which virtio devices a VM gets, from its configuration. */
#ifndef VMM_DEVICE_SET_H
#define VMM_DEVICE_SET_H

#include "config.h"

struct console;
struct pci_bus;
struct vm;
struct device_set;

/*
 * Creates every virtio device cfg asks for on bus; virtio-console, when
 * chosen, takes the console's input. *out is set even on failure.
 */
int device_set_create(struct vm *vm, struct pci_bus *bus, struct console *con,
		      const struct vm_config *cfg, struct device_set **out);

/* Removes them all, after the vCPUs have stopped. */
void device_set_destroy(struct device_set *set);

#endif
