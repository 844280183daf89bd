#include "devices/virtio/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

#define TUN_DEV "/dev/net/tun"

static int tap_open_tun(void)
{
	int fd = open(TUN_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	fd = -errno;
	if (fd == -ENOENT || fd == -ENODEV || fd == -ENXIO)
		pr_err("tap: no %s: load the tun driver (modprobe tun)", TUN_DEV);
	else if (fd == -EACCES || fd == -EPERM)
		pr_err("tap: cannot open %s: %s (run as root or grant access to it)",
		       TUN_DEV, strerror(-fd));
	else
		pr_err("tap: open %s: %s", TUN_DEV, strerror(-fd));
	return fd;
}

/* Explains the errors tun_set_iff() returns for an attach or a create. */
static void tap_report_setiff_error(const char *name, int err)
{
	const char *shown = name && *name ? name : "(new tap)";

	switch (err) {
	case -EPERM:
		pr_err("tap %s: not permitted: creating a tap needs CAP_NET_ADMIN; "
		       "as a user, attach to one made with 'ip tuntap add NAME mode tap user USER'",
		       shown);
		break;
	case -EBUSY:
		pr_err("tap %s: busy: another process has it open", shown);
		break;
	case -EINVAL:
		/* tun refuses a name owned by a non-tap or multi-queue device. */
		pr_err("tap %s: the name belongs to a device that is not a single-queue tap",
		       shown);
		break;
	default:
		pr_err("tap %s: TUNSETIFF: %s", shown, strerror(-err));
	}
}

static int tap_attach(struct tap *tap, const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	unsigned int features = 0;

	/* Kernels before 2.6.27 lack IFF_VNET_HDR; without it we cannot work. */
	if (ioctl(tap->fd, TUNGETFEATURES, &features) == 0 && !(features & IFF_VNET_HDR)) {
		pr_err("tap: the tun driver has no IFF_VNET_HDR");
		return -EOPNOTSUPP;
	}
	if (name)
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(tap->fd, TUNSETIFF, &ifr) < 0) {
		int err = -errno;

		tap_report_setiff_error(name, err);
		return err;
	}
	snprintf(tap->name, sizeof(tap->name), "%s", ifr.ifr_name);
	return 0;
}

static int tap_set_vnet_header(struct tap *tap)
{
	/* virtio 1.x always has num_buffers (virtio 1.2, 5.1.6): 12 bytes. */
	int size = sizeof(struct virtio_net_hdr_v1);
	int le = 1;

	if (ioctl(tap->fd, TUNSETVNETHDRSZ, &size) < 0) {
		pr_err("tap %s: TUNSETVNETHDRSZ %d: %s", tap->name, size, strerror(errno));
		return -errno;
	}
	/*
	 * virtio 1.x headers are little-endian. tun defaults to native
	 * order, which differs only on big-endian hosts; old kernels lack the
	 * ioctl, which is fine on little-endian ones.
	 */
	if (ioctl(tap->fd, TUNSETVNETLE, &le) < 0 && errno != EINVAL && errno != ENOTTY)
		pr_warn("tap %s: TUNSETVNETLE: %s", tap->name, strerror(errno));
	return 0;
}

/*
 * Which receive offloads the tap accepts. tun's set_offload() refuses
 * unknown bits with EINVAL and TSO without CSUM, so try the largest set
 * first. Offloads stay off until the guest negotiates them.
 */
static void tap_probe_offloads(struct tap *tap)
{
	static const unsigned int sets[] = {
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
		TUN_F_CSUM,
	};

	tap->offloads_ok = 0;
	for (unsigned int i = 0; i < ARRAY_SIZE(sets); i++) {
		if (ioctl(tap->fd, TUNSETOFFLOAD, sets[i]) == 0) {
			tap->offloads_ok = sets[i];
			break;
		}
	}
	if (ioctl(tap->fd, TUNSETOFFLOAD, 0) < 0)
		pr_warn("tap %s: TUNSETOFFLOAD 0: %s", tap->name, strerror(errno));
}

/* The kernel only queues frames to an up interface; a persistent tap is down. */
static int tap_link_up(struct tap *tap)
{
	struct ifreq ifr = { 0 };
	int sock, err = 0;

	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		pr_err("tap %s: socket: %s", tap->name, strerror(errno));
		return -errno;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tap->name);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) {
		err = -errno;
		pr_err("tap %s: SIOCGIFFLAGS: %s", tap->name, strerror(errno));
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) {
			err = -errno;
			pr_err("tap %s: cannot bring the link up: %s%s", tap->name,
			       strerror(errno),
			       errno == EPERM ? " (needs CAP_NET_ADMIN, or 'ip link set NAME up' beforehand)" : "");
		}
	}
	close(sock);
	return err;
}

int tap_open(struct tap *tap, const char *name)
{
	int err;

	memset(tap, 0, sizeof(*tap));
	tap->fd = tap_open_tun();
	if (tap->fd < 0)
		return tap->fd;
	err = tap_attach(tap, name);
	if (!err)
		err = tap_set_vnet_header(tap);
	if (!err) {
		tap_probe_offloads(tap);
		err = tap_link_up(tap);
	}
	if (err)
		tap_close(tap);
	return err;
}

int tap_set_offload(struct tap *tap, unsigned int offloads)
{
	if (offloads & ~tap->offloads_ok)
		return -EINVAL;
	if (ioctl(tap->fd, TUNSETOFFLOAD, offloads) < 0) {
		pr_err("tap %s: TUNSETOFFLOAD 0x%x: %s", tap->name, offloads, strerror(errno));
		return -errno;
	}
	return 0;
}

void tap_close(struct tap *tap)
{
	if (tap->fd >= 0)
		close(tap->fd);
	tap->fd = -1;
}
