/*
 * The MSI-X layout a device claims, and the vectors a guest arms: for any
 * capability and BAR sizes, msix_layout_parse either refuses with a
 * message or returns a table and PBA inside their BARs, and the trapped
 * page ranges cover both, page-aligned (or at the BAR's end), within the
 * BAR. Then vectors are armed in any order against a fake VFIO that keeps
 * per-vector eventfds: every vector reported armed holds its eventfd, no
 * other does.
 *
 * Input: control (u16), table (u32), PBA (u32), six BAR size shifts (u8;
 * 0: no BAR, else 1 << (shift % 40)), a page shift (u8: 12, 14 or 16),
 * flags (u8: bit 0 NORESIZE), then vectors to arm (u16 each; 0xffff
 * disables MSI-X, 0xfffe enables it).
 */
#include "vfio/msix_layout.h"
#include "vfio/msix_vectors.h"
#include "fuzz_input.h"

struct fake_vfio {
	int fd[MSIX_MAX_VECTORS];
	unsigned int allocated;
	bool dynamic;
};

static int fake_set_irqs(void *opaque, unsigned int start, unsigned int count, const int *fds)
{
	struct fake_vfio *f = opaque;

	if (!count) {
		f->allocated = 0;
		memset(f->fd, -1, sizeof(f->fd));
		return 0;
	}
	FUZZ_CHECK(start + count <= MSIX_MAX_VECTORS);
	if (!f->allocated)
		f->allocated = start + count;
	else if (start + count > f->allocated && !f->dynamic)
		return -EINVAL;
	f->allocated = MAX(f->allocated, start + count);
	for (unsigned int i = 0; i < count; i++)
		f->fd[start + i] = fds[i];
	return 0;
}

static int fake_vector_fd(void *opaque, unsigned int vector)
{
	return 100 + (int)vector;
}

static void check_trapped(const struct msix_layout *l, unsigned int bar, u64 bar_size, u64 page)
{
	u64 s[2], e[2];
	unsigned int n = msix_layout_trapped(l, bar, bar_size, page, s, e);

	for (unsigned int i = 0; i < n; i++) {
		FUZZ_CHECK(s[i] < e[i] && e[i] <= bar_size && s[i] % page == 0);
		FUZZ_CHECK(e[i] % page == 0 || e[i] == bar_size);
		FUZZ_CHECK(i == 0 || s[i] > e[i - 1]);
	}
	/* Each structure in this BAR lies in one trapped range. */
	for (unsigned int k = 0; k < 2; k++) {
		unsigned int b = k ? l->pba_bar : l->table_bar;
		u64 off = k ? l->pba_offset : l->table_offset, size = k ? l->pba_size : l->table_size;
		bool covered = false;

		if (b != bar)
			continue;
		for (unsigned int i = 0; i < n; i++)
			covered |= s[i] <= off && off + size <= e[i];
		FUZZ_CHECK(covered);
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	u16 control = fuzz_u16(&in);
	u32 table = fuzz_u32(&in), pba = fuzz_u32(&in);
	u64 bars[MSIX_LAYOUT_BARS], page;
	static struct fake_vfio f;
	struct msix_vectors v;
	struct msix_layout l;
	char why[160];
	u8 flags;

	for (unsigned int i = 0; i < MSIX_LAYOUT_BARS; i++) {
		u8 shift = fuzz_u8(&in);

		bars[i] = shift ? 1ULL << (shift % 40) : 0;
	}
	page = 1ULL << (12 + 2 * (fuzz_u8(&in) % 3));
	flags = fuzz_u8(&in);
	if (msix_layout_parse(control, table, pba, bars, &l, why, sizeof(why))) {
		FUZZ_CHECK(why[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(l.nvectors >= 1 && l.nvectors <= MSIX_MAX_VECTORS);
	FUZZ_CHECK(l.table_offset + l.table_size <= bars[l.table_bar]);
	FUZZ_CHECK(l.pba_offset + l.pba_size <= bars[l.pba_bar]);
	for (unsigned int b = 0; b < MSIX_LAYOUT_BARS; b++)
		check_trapped(&l, b, bars[b], page);

	memset(&f, 0, sizeof(f));
	memset(f.fd, -1, sizeof(f.fd));
	f.dynamic = !(flags & 1);
	FUZZ_CHECK(msix_vectors_init(&v, l.nvectors, flags & 1, fake_set_irqs, fake_vector_fd, &f) == 0);
	while (fuzz_more(&in)) {
		u16 vector = fuzz_u16(&in);

		if (vector == 0xffff)
			msix_vectors_disarm_all(&v);
		else if (vector == 0xfffe)
			msix_vectors_enable(&v);
		else
			msix_vectors_arm(&v, vector % (l.nvectors + 1));
		for (unsigned int i = 0; i < l.nvectors; i++)
			FUZZ_CHECK(f.fd[i] == (msix_vectors_is_armed(&v, i) ? 100 + (int)i : -1));
	}
	msix_vectors_destroy(&v);
	return 0;
}
