/*
 * blkbench: a tiny block benchmark for the L2 guest, which has no fio.
 *
 *   blkbench [-d DEVICE] [-t SECONDS] [-j THREADS]
 *
 * Two phases on DEVICE (default /dev/vda), each SECONDS long (default 5),
 * both with O_DIRECT so that the guest page cache measures nothing:
 *   randread: 4 KiB reads at random 4 KiB-aligned offsets, THREADS
 *             threads each with one read in flight (queue depth THREADS);
 *   seqread:  1 MiB reads from offset 0 onwards, wrapping at the end.
 * Prints one greppable line per phase:
 *   BLKBENCH randread_4k_iops=N threads=T
 *   BLKBENCH seqread_mib_s=N.N
 *
 * Read-only: it never writes to the device.
 * Build: gcc -static -O2 -Wall -Wextra -pthread -o blkbench blkbench.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define RAND_BS 4096
#define SEQ_BS (1024 * 1024)
#define MAX_THREADS 64

struct job {
	const char *dev;
	uint64_t size;
	double seconds;
	unsigned int seed;
	uint64_t ios;
	int err;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* O_DIRECT needs buffers aligned to the logical block size; 4 KiB covers it. */
static int open_direct(const char *dev, void **buf, size_t len)
{
	int fd = open(dev, O_RDONLY | O_DIRECT | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (posix_memalign(buf, 4096, len)) {
		close(fd);
		return -ENOMEM;
	}
	return fd;
}

static void *randread(void *arg)
{
	struct job *j = arg;
	uint64_t blocks = j->size / RAND_BS, state = 0x9e3779b97f4a7c15ULL ^ j->seed;
	void *buf;
	double end;
	int fd = open_direct(j->dev, &buf, RAND_BS);

	if (fd < 0) {
		j->err = -fd;
		return NULL;
	}
	end = now() + j->seconds;
	while (now() < end) {
		off_t off = (off_t)(xorshift64(&state) % blocks) * RAND_BS;

		if (pread(fd, buf, RAND_BS, off) != RAND_BS) {
			j->err = errno ? errno : EIO;
			break;
		}
		j->ios++;
	}
	free(buf);
	close(fd);
	return NULL;
}

static int run_randread(const char *dev, uint64_t size, double seconds, unsigned int threads)
{
	struct job jobs[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	uint64_t total = 0;
	double t0 = now(), elapsed;

	for (unsigned int i = 0; i < threads; i++) {
		jobs[i] = (struct job){ dev, size, seconds, i + 1, 0, 0 };
		if (pthread_create(&tid[i], NULL, randread, &jobs[i])) {
			fprintf(stderr, "blkbench: cannot start thread %u\n", i);
			return -1;
		}
	}
	for (unsigned int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		if (jobs[i].err) {
			fprintf(stderr, "blkbench: random read on %s: %s\n", dev, strerror(jobs[i].err));
			return -1;
		}
		total += jobs[i].ios;
	}
	elapsed = now() - t0;
	printf("BLKBENCH randread_4k_iops=%.0f threads=%u\n", total / elapsed, threads);
	return 0;
}

static int run_seqread(const char *dev, uint64_t size, double seconds)
{
	uint64_t bytes = 0, off = 0;
	double t0, elapsed;
	void *buf;
	int fd = open_direct(dev, &buf, SEQ_BS);

	if (fd < 0) {
		fprintf(stderr, "blkbench: %s: %s\n", dev, strerror(-fd));
		return -1;
	}
	t0 = now();
	while (now() - t0 < seconds) {
		ssize_t n;

		if (off + SEQ_BS > size)
			off = 0;
		n = pread(fd, buf, SEQ_BS, off);
		if (n <= 0) {
			fprintf(stderr, "blkbench: sequential read on %s: %s\n", dev,
				n ? strerror(errno) : "end of device");
			free(buf);
			close(fd);
			return -1;
		}
		bytes += n;
		off += n;
	}
	elapsed = now() - t0;
	printf("BLKBENCH seqread_mib_s=%.1f\n", bytes / elapsed / (1024 * 1024));
	free(buf);
	close(fd);
	return 0;
}

static int device_size(const char *dev, uint64_t *size)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, BLKGETSIZE64, size) < 0) {
		off_t end = lseek(fd, 0, SEEK_END); /* a plain file, for testing */

		err = end < 0 ? -errno : 0;
		*size = end < 0 ? 0 : (uint64_t)end;
	}
	close(fd);
	return err;
}

static void usage(void)
{
	fprintf(stderr, "usage: blkbench [-d DEVICE] [-t SECONDS] [-j THREADS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *dev = "/dev/vda";
	double seconds = 5;
	unsigned int threads = 1;
	uint64_t size;
	int opt, err;

	while ((opt = getopt(argc, argv, "d:t:j:")) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'j':
			threads = (unsigned int)atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || seconds <= 0 || threads < 1 || threads > MAX_THREADS)
		usage();
	err = device_size(dev, &size);
	if (err || size < SEQ_BS) {
		fprintf(stderr, "blkbench: %s: %s\n", dev,
			err ? strerror(-err) : "smaller than 1 MiB");
		return 1;
	}
	if (run_randread(dev, size, seconds, threads) || run_seqread(dev, size, seconds))
		return 1;
	return 0;
}
