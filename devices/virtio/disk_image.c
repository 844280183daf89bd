/* Opening the raw image behind a virtio-blk disk. */
#include "disk_image.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

static const char *open_hint(int err, bool readonly)
{
	switch (err) {
	case ENOENT:
		return " (create a raw image first, e.g. truncate -s 1G PATH)";
	case EACCES:
	case EPERM:
	case EROFS:
	case ETXTBSY:
		return readonly ? " (check its permissions)" :
				  " (check its permissions, or add ',ro' to attach it read-only)";
	case EISDIR:
		return " (--disk needs a raw disk image file or a block device)";
	default:
		return "";
	}
}

static int image_size(const char *path, int fd, u64 *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*size = (u64)st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	pr_err("virtio-blk: %s is not a regular file or a block device: --disk needs a raw disk image",
	       path);
	return -EINVAL;
}

/*
 * O_NONBLOCK only for open(), so that a FIFO given by mistake is refused
 * instead of blocking; io_uring would fail buffered I/O with -EAGAIN if it
 * stayed set.
 */
int disk_image_open(const char *path, bool readonly, int *fd, u64 *size)
{
	int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK;
	int err;

	*fd = open(path, flags);
	if (*fd < 0) {
		err = errno;
		pr_err("virtio-blk: cannot open disk image %s%s: %s%s", path,
		       readonly ? " read-only" : "", strerror(err), open_hint(err, readonly));
		return -err;
	}
	err = image_size(path, *fd, size);
	if (err == -EINVAL)
		return err;
	if (!err && fcntl(*fd, F_SETFL, 0) < 0)
		err = -errno;
	if (err)
		pr_err("virtio-blk: %s: cannot read its size: %s", path, strerror(-err));
	return err;
}
