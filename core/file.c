#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define MAX_FILE_SIZE (1 * GiB)

int file_read_all(const char *path, const char *what, u8 **buf, size_t *len)
{
	struct stat st;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		pr_err("cannot open %s '%s': %s", what, path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		pr_err("%s '%s' is not a regular file", what, path);
		close(fd);
		return -EINVAL;
	}
	if ((u64)st.st_size > MAX_FILE_SIZE) {
		pr_err("%s '%s' is larger than 1 GiB", what, path);
		close(fd);
		return -EFBIG;
	}
	*len = (size_t)st.st_size;
	*buf = malloc(*len ? *len : 1);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	while (done < *len) {
		ssize_t n = read(fd, *buf + done, *len - done);

		if (n <= 0) {
			pr_err("cannot read %s '%s': %s", what, path, n ? strerror(errno) : "short read");
			free(*buf);
			close(fd);
			return -EIO;
		}
		done += (size_t)n;
	}
	close(fd);
	return 0;
}
