/* Boot images: only their heads in memory, the rest read from the file straight into guest RAM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/board.h"
#include "core/vm.h"

#define FILE_LEN (200 * KiB) /* larger than BOARD_IMAGE_HEAD */
#define RAM_START (1 * MiB)
#define RAM_LEN (1 * MiB)

struct fixture {
	struct vm vm;
	struct boot_images img;
	int file;          /* a memfd, named by its /proc/self/fd path */
	char path[64];
	u8 *pattern;
	u8 *ram;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->pattern = malloc(FILE_LEN);
	f->file = memfd_create("kernel", MFD_CLOEXEC);
	f->ram = mmap(NULL, RAM_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!f->pattern || f->file < 0 || f->ram == MAP_FAILED)
		return -1;
	for (size_t i = 0; i < FILE_LEN; i++)
		f->pattern[i] = (u8)(i * 7 + i / 251);
	if (write(f->file, f->pattern, FILE_LEN) != FILE_LEN)
		return -1;
	snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->file);
	vm_init(&f->vm);
	f->vm.mem.banks[0] = (struct guest_bank){ .gpa = RAM_START, .size = RAM_LEN, .hva = f->ram,
						  .dma = true };
	f->vm.mem.nbanks = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	board_free_images(&f->img);
	munmap(f->ram, RAM_LEN);
	close(f->file);
	free(f->pattern);
	free(f);
	return 0;
}

static void only_the_head_is_read_into_memory(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(board_read_images(f->path, f->path, &f->img), 0);
	assert_int_equal(f->img.kernel_len, FILE_LEN);
	assert_int_equal(f->img.initrd_len, FILE_LEN);
	assert_true(f->img.kernel_fd >= 0 && f->img.initrd_fd >= 0);
	assert_memory_equal(f->img.kernel, f->pattern, BOARD_IMAGE_HEAD);
	assert_memory_equal(f->img.initrd, f->pattern, BOARD_IMAGE_HEAD);
	board_free_images(&f->img);
	assert_null(f->img.kernel);
	assert_int_equal(f->img.kernel_fd, -1);
}

static void the_rest_goes_from_the_file_into_guest_ram(void **state)
{
	struct fixture *f = *state;
	const u64 at = RAM_START + 0x3000, offset = 1000, len = FILE_LEN - 1000;

	assert_int_equal(board_read_images(f->path, NULL, &f->img), 0);
	assert_int_equal(board_image_to_guest(&f->vm, &f->img, false, offset, len, at), 0);
	assert_memory_equal(f->ram + (at - RAM_START), f->pattern + offset, len);
	/* On THP memory the same bytes arrive (read into small pages). */
	memset(f->ram, 0, RAM_LEN);
	f->vm.mem.banks[0].thp_len = RAM_LEN;
	assert_int_equal(board_image_to_guest(&f->vm, &f->img, false, 0, FILE_LEN, RAM_START), 0);
	assert_memory_equal(f->ram, f->pattern, FILE_LEN);
}

static void an_image_that_shrank_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(board_read_images(f->path, NULL, &f->img), 0);
	assert_int_equal(ftruncate(f->file, FILE_LEN / 2), 0);
	assert_int_equal(board_image_to_guest(&f->vm, &f->img, false, 0, FILE_LEN, RAM_START),
			 -EIO);
}

static void a_place_outside_guest_ram_is_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(board_read_images(f->path, NULL, &f->img), 0);
	assert_int_equal(board_image_to_guest(&f->vm, &f->img, false, 0, FILE_LEN,
					      RAM_START + RAM_LEN - 4096), -EFAULT);
	assert_int_equal(board_image_to_guest(&f->vm, &f->img, false, FILE_LEN - 10, 11,
					      RAM_START), -EINVAL);
}

/* Tests and fuzzers hand whole images in memory: fd -1. */
static void an_image_held_in_memory_is_copied(void **state)
{
	struct fixture *f = *state;

	f->img = (struct boot_images){ .kernel = malloc(FILE_LEN), .kernel_len = FILE_LEN,
				       .kernel_fd = -1, .initrd_fd = -1 };
	assert_non_null(f->img.kernel);
	memcpy(f->img.kernel, f->pattern, FILE_LEN);
	assert_int_equal(board_image_to_guest(&f->vm, &f->img, false, 5, FILE_LEN - 5, RAM_START),
			 0);
	assert_memory_equal(f->ram, f->pattern + 5, FILE_LEN - 5);
}

static void a_fifo_is_refused_at_once(void **state)
{
	struct fixture *f = *state;
	char fifo[] = "/tmp/vmm-test-fifo-XXXXXX";
	int fd = mkstemp(fifo);

	(void)f;
	assert_true(fd >= 0);
	close(fd);
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(board_read_images(fifo, NULL, &f->img), -EINVAL);
	unlink(fifo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(only_the_head_is_read_into_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(the_rest_goes_from_the_file_into_guest_ram, setup,
						teardown),
		cmocka_unit_test_setup_teardown(an_image_that_shrank_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(a_place_outside_guest_ram_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(an_image_held_in_memory_is_copied, setup, teardown),
		cmocka_unit_test_setup_teardown(a_fifo_is_refused_at_once, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
