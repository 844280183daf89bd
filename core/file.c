#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "size.h"

/*
 * O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
 * writer, forever. It changes nothing for the regular files we keep.
 */
static int open_regular(const char *path, const char *what, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int err;

	if (fd < 0) {
		err = -errno;
		if (what)
			pr_err("cannot open %s '%s': %s", what, path, strerror(-err));
		return err;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		if (what)
			pr_err("%s '%s' is not a regular file", what, path);
		close(fd);
		return -EINVAL;
	}
	return fd;
}

static int too_big(const char *path, const char *what, size_t max)
{
	char sz[32];

	if (what)
		pr_err("%s '%s' is larger than %s", what, path, format_size(max, sz, sizeof(sz)));
	return -EFBIG;
}

int file_read_all(const char *path, const char *what, size_t max, u8 **buf, size_t *len)
{
	struct stat st;
	size_t done = 0, cap;
	u8 *data = NULL;
	int fd = open_regular(path, what, &st), err = 0;

	if (fd < 0)
		return fd;
	if ((u64)st.st_size > max) {
		close(fd);
		return too_big(path, what, max);
	}
	/* The size is a hint: the file may grow, and sysfs always says 4096. */
	cap = (size_t)st.st_size + 1;
	for (;;) {
		ssize_t n;

		if (done + 1 >= cap || !data) {
			u8 *bigger;

			/* One byte past max tells a file that is too big; one more for the NUL. */
			if (data)
				cap = MIN(cap * 2, max + 2);
			bigger = realloc(data, cap);
			if (!bigger) {
				err = -ENOMEM;
				break;
			}
			data = bigger;
		}
		n = read(fd, data + done, cap - 1 - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			if (what)
				pr_err("cannot read %s '%s': %s", what, path, strerror(-err));
			break;
		}
		if (n == 0)
			break;
		done += (size_t)n;
		if (done > max) {
			err = too_big(path, what, max);
			break;
		}
	}
	close(fd);
	if (err) {
		free(data);
		return err;
	}
	data[done] = '\0';
	*buf = data;
	*len = done;
	return 0;
}

int file_open_sized(const char *path, const char *what, u64 max, u64 *size)
{
	struct stat st;
	int fd = open_regular(path, what, &st);

	if (fd < 0)
		return fd;
	if ((u64)st.st_size > max) {
		close(fd);
		return too_big(path, what, max);
	}
	*size = (u64)st.st_size;
	return fd;
}

int file_read_at(int fd, u64 offset, void *dst, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (u8 *)dst + done, len - done, (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}
