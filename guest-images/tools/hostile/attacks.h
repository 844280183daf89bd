/*
 * The attacks, one per invocation, that main() picks by name: on the
 * virtqueues and the device status (attacks_virtio.c), and on config
 * space, BARs, MSI-X and the vCPUs' MMIO and port I/O (attacks_pci.c).
 * Each works on the device vdev_open() opened, but config-same, which
 * only rewrites a device in use.
 */
#ifndef HOSTILE_ATTACKS_H
#define HOSTILE_ATTACKS_H

#include "pci_cfg.h"

void attack_vq_loops(void);
void attack_vq_addresses(void);
void attack_vq_indices(void);
void attack_vq_rings(void);
void attack_vq_random(void);
void attack_reset_mid_io(void);

void attack_config_sweep(void);
void attack_config_absent(void);
void attack_config_same(struct bdf d);
void attack_bar_moves(const char *other);
void attack_msix(void);
void attack_storm(void);

#endif
