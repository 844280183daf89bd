/*
 * Guest RAM backings (--mem-backing): the option's spellings, the
 * planner starting banks on the backing's page (x86: RAM above 1 MiB at
 * 2 MiB; arm64 around the SMMU's MSI window), mappings on huge-page
 * addresses, and a hugetlb request the host cannot meet refused with the
 * number of pages and how to reserve them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/board.h"
#include "core/guest_mem.h"
#include "core/log.h"
#include "core/mem_backing.h"

static void spellings_parse_and_typos_do_not(void **state)
{
	struct mem_backing b;

	(void)state;
	assert_int_equal(mem_backing_parse("anon", &b), 0);
	assert_int_equal(b.kind, MEM_BACKING_ANON);
	assert_int_equal(mem_backing_parse("thp", &b), 0);
	assert_int_equal(b.kind, MEM_BACKING_THP);
	assert_int_equal(mem_backing_parse("hugetlb", &b), 0);
	assert_int_equal(b.kind, MEM_BACKING_HUGETLB);
	assert_int_equal(b.page_size, 2 * MiB);
	assert_int_equal(mem_backing_parse("hugetlb=2M", &b), 0);
	assert_int_equal(b.page_size, 2 * MiB);
	assert_int_equal(mem_backing_parse("hugetlb=1G", &b), 0);
	assert_int_equal(b.page_size, 1 * GiB);
	assert_int_equal(mem_backing_parse("hugetlb=4M", &b), -EINVAL);
	assert_int_equal(mem_backing_parse("hugetlb=", &b), -EINVAL);
	assert_int_equal(mem_backing_parse("THP", &b), -EINVAL);
	assert_int_equal(mem_backing_parse("", &b), -EINVAL);
}

static void resolving_fills_a_page_size_and_a_concrete_kind(void **state)
{
	struct mem_backing b = { .kind = MEM_BACKING_DEFAULT };
	char text[128];

	(void)state;
	mem_backing_resolve(&b);
	assert_true(b.kind == MEM_BACKING_THP || b.kind == MEM_BACKING_ANON);
	assert_true(b.page_size >= host_page_size());
	assert_int_equal(b.page_size & (b.page_size - 1), 0);
	b = (struct mem_backing){ .kind = MEM_BACKING_ANON };
	mem_backing_resolve(&b);
	assert_int_equal(b.page_size, host_page_size());
	assert_string_equal(mem_backing_describe(&b, text, sizeof(text)), "anon (4 KiB pages)");
	assert_int_equal(mem_backing_parse("hugetlb=1G", &b), 0);
	mem_backing_resolve(&b);
	assert_int_equal(b.page_size, 1 * GiB);
	assert_string_equal(mem_backing_describe(&b, text, sizeof(text)),
			    "hugetlb (memfd, 1 GiB pages)");
}

static int plan(const char *board, u64 ram, u64 bank_align, const struct host_holes *host,
		struct memory_plan *p)
{
	struct plan_request req = { .ram_size = ram, .ncpus = 1, .addr_bits = 40,
				    .page_size = 4 * KiB, .bank_align = bank_align, .host = host };

	return board_plan(board_layout_find(board), &req, p);
}

static void x86_ram_above_1m_starts_at_2m_with_huge_pages(void **state)
{
	static struct memory_plan p;
	const struct plan_region *b0, *b1;

	(void)state;
	assert_int_equal(plan("x86_64", 512 * MiB, 2 * MiB, NULL, &p), 0);
	b0 = plan_ram_bank(&p, 0);
	b1 = plan_ram_bank(&p, 1);
	/* The 640 KiB below the BIOS area stay (Linux's trampoline needs them). */
	assert_int_equal(b0->start, 0);
	assert_int_equal(b0->size, 640 * KiB);
	assert_int_equal(b1->start, 2 * MiB);
	assert_int_equal(b0->size + b1->size, 512 * MiB);
	/* 4 KiB pages: RAM resumes right after the BIOS area, as before. */
	assert_int_equal(plan("x86_64", 512 * MiB, 0, NULL, &p), 0);
	assert_int_equal(plan_ram_bank(&p, 1)->start, 1 * MiB);
	/* 1 GiB pages: the second bank starts at 1 GiB. */
	assert_int_equal(plan("x86_64", 512 * MiB, 1 * GiB, NULL, &p), 0);
	assert_int_equal(plan_ram_bank(&p, 1)->start, 1 * GiB);
}

/* Holes under the boot data: the first MiB is still cut on 4 KiB pages, so it all fits. */
static void x86_first_mib_keeps_small_banks_between_holes(void **state)
{
	static struct memory_plan p;
	static struct host_holes host;
	static const u64 holes[][2] = { { 0x7000, 0x1000 }, { 0x9000, 0x3000 },
					{ 0x20000, 0x1000 }, { 0x1000000, 0x1000000 } };

	(void)state;
	memset(&host, 0, sizeof(host));
	for (unsigned int i = 0; i < 4; i++)
		host.holes[host.n++] = (struct plan_forbidden){ .start = holes[i][0],
								.size = holes[i][1],
								.label = "hole" };
	assert_int_equal(plan("x86_64", 256 * MiB, 1 * GiB, &host, &p), 0);
	assert_int_equal(plan_ram_bank(&p, 0)->start, 0);
	assert_int_equal(plan_ram_bank(&p, 1)->start, 0x8000);
	assert_int_equal(plan_ram_bank(&p, 2)->start, 0xc000);
	assert_int_equal(plan_ram_bank(&p, 3)->start, 0x21000);
	assert_int_equal(plan_ram_bank(&p, 3)->size, 0xa0000 - 0x21000);
	assert_int_equal(plan_ram_bank(&p, 4)->start, 1 * GiB);
	/* And the boot data finds its room there, trampoline included. */
	assert_int_equal(board_plan_boot(board_layout_find("x86_64"),
					 &(struct plan_request){ .ram_size = 256 * MiB, .ncpus = 1,
								 .addr_bits = 40, .page_size = 4 * KiB,
								 .bank_align = 1 * GiB, .host = &host },
					 NULL, &p),
			 0);
}

static void x86_banks_around_the_pci_hole_are_whole_huge_pages(void **state)
{
	static struct memory_plan p;
	const struct plan_region *r;
	u64 total = 0;

	(void)state;
	assert_int_equal(plan("x86_64", 6 * GiB, 2 * MiB, NULL, &p), 0);
	for (unsigned int i = 0; (r = plan_ram_bank(&p, i)); i++) {
		total += r->size;
		if (i > 0)
			assert_true(IS_ALIGNED(r->start, 2 * MiB));
		if (i > 0 && r->start + r->size != plan_ram_end(&p))
			assert_true(IS_ALIGNED(r->size, 2 * MiB));
	}
	assert_int_equal(total, 6 * GiB);
	assert_true(plan_ram_end(&p) > 4 * GiB);
}

static void arm64_ram_resumes_on_a_huge_page_after_the_msi_window(void **state)
{
	static struct memory_plan p;
	static struct host_holes host;

	(void)state;
	memset(&host, 0, sizeof(host));
	host.holes[0] = (struct plan_forbidden){ .start = 0x8000000, .size = 0x100000,
						 .label = "host msi" };
	host.n = 1;
	assert_int_equal(plan("arm64", 512 * MiB, 2 * MiB, &host, &p), 0);
	assert_int_equal(plan_ram_bank(&p, 0)->start, 0);
	assert_int_equal(plan_ram_bank(&p, 0)->size, 0x8000000);
	/* Not at 0x8100000, where the hole ends: at the next 2 MiB. */
	assert_int_equal(plan_ram_bank(&p, 1)->start, 0x8200000);
}

static void a_bank_alignment_that_is_no_power_of_two_is_refused(void **state)
{
	static struct memory_plan p;

	(void)state;
	assert_int_equal(plan("x86_64", 512 * MiB, 3 * MiB, NULL, &p), -EINVAL);
	assert_non_null(strstr(p.error, "power of two"));
}

static void huge_banks_are_mapped_on_huge_page_addresses(void **state)
{
	static struct memory_plan p;
	struct mem_backing b = { .kind = MEM_BACKING_THP };
	struct guest_mem mem;

	(void)state;
	mem_backing_resolve(&b);
	assert_int_equal(plan("x86_64", 64 * MiB, b.page_size, NULL, &p), 0);
	assert_int_equal(guest_mem_alloc(&mem, &p, &b), 0);
	for (unsigned int i = 0; i < mem.nbanks; i++) {
		if (mem.banks[i].gpa && mem.banks[i].dma)
			assert_true(IS_ALIGNED((u64)(uintptr_t)mem.banks[i].hva, b.page_size));
		/* Usable from end to end. */
		mem.banks[i].hva[0] = 1;
		mem.banks[i].hva[mem.banks[i].size - 1] = 1;
	}
	guest_mem_free(&mem);
	assert_int_equal(mem.nbanks, 0);
}

static void anon_banks_are_mapped_and_freed(void **state)
{
	static struct memory_plan p;
	struct mem_backing b = { .kind = MEM_BACKING_ANON };
	struct guest_mem mem;

	(void)state;
	mem_backing_resolve(&b);
	assert_int_equal(plan("x86_64", 64 * MiB, b.page_size, NULL, &p), 0);
	assert_int_equal(guest_mem_alloc(&mem, &p, &b), 0);
	/* Low RAM, the BIOS area (firmware), then RAM right at 1 MiB. */
	assert_int_equal(mem.nbanks, 3);
	assert_false(mem.banks[1].dma);
	assert_int_equal(mem.banks[2].gpa, 1 * MiB);
	mem.banks[2].hva[mem.banks[2].size - 1] = 1;
	guest_mem_free(&mem);
}

/* How many host pages of [hva, hva + len) are resident. */
static u64 resident_pages(const u8 *hva, u64 len)
{
	u64 n = len / host_page_size(), count = 0;
	unsigned char *vec = malloc(n);

	assert_non_null(vec);
	assert_int_equal(mincore((void *)hva, len, vec), 0);
	for (u64 i = 0; i < n; i++)
		count += vec[i] & 1;
	free(vec);
	return count;
}

static void populating_faults_in_every_dma_page_and_nothing_else(void **state)
{
	static struct memory_plan p;
	struct mem_backing b = { .kind = MEM_BACKING_ANON };
	struct guest_mem mem;
	int threads;

	(void)state;
	mem_backing_resolve(&b);
	/* More chunks than threads, and banks of several sizes. */
	assert_int_equal(plan("x86_64", 200 * MiB, b.page_size, NULL, &p), 0);
	assert_int_equal(guest_mem_alloc(&mem, &p, &b), 0);
	for (unsigned int i = 0; i < mem.nbanks; i++)
		assert_int_equal(resident_pages(mem.banks[i].hva, mem.banks[i].size), 0);
	threads = guest_mem_populate_dma(&mem, 3);
	if (threads == 0)
		skip(); /* a kernel before MADV_POPULATE_WRITE */
	assert_in_range(threads, 1, 3);
	for (unsigned int i = 0; i < mem.nbanks; i++)
		assert_int_equal(resident_pages(mem.banks[i].hva, mem.banks[i].size),
				 mem.banks[i].dma ? mem.banks[i].size / host_page_size() : 0);
	/* One thread does it alone. */
	assert_int_equal(guest_mem_populate_dma(&mem, 1), 1);
	guest_mem_free(&mem);
}

static void free_huge_blocks_are_counted_from_buddyinfo(void **state)
{
	/* 4 KiB pages: order 9 is 2 MiB, order 10 is 4 MiB. */
	const char *text =
		"Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3 \n"
		"Node 0, zone    DMA32      2      4      2      2      1      2      0      3      3      1    753 \n"
		"Node 0, zone   Normal   5679   7091   3140   1959   2293   2268   1067    488    215    269   1091 \n";
	u64 kib = 1024;

	(void)state;
	/* DMA is left out; DMA32 and Normal count. */
	assert_int_equal(buddyinfo_free_bytes(text, 4 * kib, 2 * MiB),
			 (1 + 269) * 2 * MiB + (753 + 1091) * 4 * MiB);
	assert_int_equal(buddyinfo_free_bytes(text, 4 * kib, 4 * MiB), (753 + 1091) * 4 * MiB);
	assert_int_equal(buddyinfo_free_bytes(text, 4 * kib, 8 * MiB), 0);
	/* 16 KiB pages: the same counts are blocks four times larger. */
	assert_int_equal(buddyinfo_free_bytes(text, 16 * kib, 16 * MiB), (753 + 1091) * 16 * MiB);
	/* What is not a count ends the line; what is not a line counts nothing. */
	assert_int_equal(buddyinfo_free_bytes("Node 0, zone Normal 0 0 0 0 0 0 0 0 0 -5 7\n", 4 * kib, 2 * MiB), 0);
	assert_int_equal(buddyinfo_free_bytes("Node 0, zone Normal 0 0 0 0 0 0 0 0 0 2 x 7", 4 * kib, 2 * MiB),
			 4 * MiB);
	assert_int_equal(buddyinfo_free_bytes("garbage\n\nNode x, zone Normal 1 1\n", 4 * kib, 4 * kib), 0);
	assert_int_equal(buddyinfo_free_bytes("", 4 * kib, 2 * MiB), 0);
	/* Counts that would overflow saturate. */
	assert_true(buddyinfo_free_bytes("Node 0, zone Normal 0 0 0 0 0 0 0 0 0 18446744073709551615 1\n",
					 4 * kib, 2 * MiB) == UINT64_MAX);
	/* This host's own file reads, whatever it holds. */
	(void)host_has_free_huge_blocks(2 * MiB, 2 * MiB);
}

static void missing_huge_pages_are_refused_with_the_count_to_reserve(void **state)
{
	struct mem_backing b;

	(void)state;
	log_threshold = LOG_QUIET;
	assert_int_equal(mem_backing_parse("hugetlb", &b), 0);
	mem_backing_resolve(&b);
	/* 2 TiB of 2 MiB pages: no test host has them free. */
	assert_int_equal(mem_backing_check(&b, 2 * TiB), -ENOMEM);
	assert_int_equal(mem_backing_check(&b, 0), 0);
	b.kind = MEM_BACKING_THP;
	assert_int_equal(mem_backing_check(&b, 2 * TiB), 0);
	log_threshold = LOG_WARN;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spellings_parse_and_typos_do_not),
		cmocka_unit_test(resolving_fills_a_page_size_and_a_concrete_kind),
		cmocka_unit_test(x86_ram_above_1m_starts_at_2m_with_huge_pages),
		cmocka_unit_test(x86_first_mib_keeps_small_banks_between_holes),
		cmocka_unit_test(x86_banks_around_the_pci_hole_are_whole_huge_pages),
		cmocka_unit_test(arm64_ram_resumes_on_a_huge_page_after_the_msi_window),
		cmocka_unit_test(a_bank_alignment_that_is_no_power_of_two_is_refused),
		cmocka_unit_test(huge_banks_are_mapped_on_huge_page_addresses),
		cmocka_unit_test(anon_banks_are_mapped_and_freed),
		cmocka_unit_test(populating_faults_in_every_dma_page_and_nothing_else),
		cmocka_unit_test(free_huge_blocks_are_counted_from_buddyinfo),
		cmocka_unit_test(missing_huge_pages_are_refused_with_the_count_to_reserve),
	};

	return cmocka_run_group_tests_name("memory backing", tests, NULL, NULL);
}
