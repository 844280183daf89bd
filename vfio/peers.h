/*
 * What sysfs says about the PCI neighbourhood of the devices passed
 * through, before the guest is planned:
 *  - each device's own memory BARs (their sizes set the guest's 64-bit
 *    PCI window);
 *  - the peers in its IOMMU group. The kernel puts devices in one group
 *    when the path between them lacks ACS isolation (drivers/pci/
 *    search.c, pci_acs_path_enabled): a DMA from one to an address inside
 *    another's BAR, or inside the window of a bridge between them, is
 *    routed peer-to-peer and never reaches the IOMMU. Guest RAM there
 *    would silently not be RAM for the device, so those ranges become
 *    host holes: "peer BAR 0000:01:00.1 BAR0", "bridge window
 *    0000:00:1c.0". A device alone in its group (ACS, or nothing else
 *    behind the bridge) adds none. (Alex Williamson, "IOMMU groups,
 *    inside and out", 2014; the VFIO docs on groups.)
 * root is "/sys" except in tests, which build fake trees.
 */
#ifndef VFIO_PEERS_H
#define VFIO_PEERS_H

#include "core/host_holes.h"
#include "sysfs.h"

/*
 * Adds bdf's memory BARs to out->bars. A device without a resource file
 * adds nothing (the window keeps its default size); a malformed one is an
 * error line naming the device and the line.
 */
int vfio_collect_device_bars(const char *root, const char *bdf, struct host_holes *out);

/*
 * Adds the holes that group's members other than assigned[] devices' own
 * selves put in their way: every member's memory BARs where another member
 * is assigned, and the memory windows of every bridge in the group.
 */
int vfio_collect_peer_holes(const char *root, int group, const char (*assigned)[BDF_LEN],
			    unsigned int nassigned, struct host_holes *out);

#endif
