/*
 * Which interrupt kind a passed-through function has in VFIO, driven as a
 * guest drives it: through config space (the MSI and MSI-X Enable bits)
 * and the MSI-X table. VFIO holds one kind at a time and refuses another
 * while one is set; this test's ioctl() plays VFIO with exactly that rule
 * (drivers/vfio/pci/vfio_pci_intrs.c), so every request the VMM makes in
 * the wrong order shows as a refusal. Found by the hostile guest: MSI left
 * on beside MSI-X, then the same MSI control rewritten, took the device
 * from MSI-X and the NIC went quiet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/irq_routing.h"
#include "core/log.h"
#include "core/vm.h"
#include "vfio/pci_dev.h"
#include "tests/ioctl_shim.h"

#define FAKE_VM_FD 999
#define PM_CAP 0x40
#define MSI_CAP 0x50
#define MSIX_CAP 0x70
#define NVEC 8
#define PBA_OFFSET 0x800

/* VFIO's side: the kind it holds and what each vector has. */
static struct {
	int fd;
	enum vfio_irq_kind kind;
	unsigned int msi_count, msix_count, refused, refused_out_of_d0;
	int msix_fd[NVEC];
} vf;

static enum vfio_irq_kind kind_of(u32 index)
{
	return index == VFIO_PCI_INTX_IRQ_INDEX ? VFIO_IRQ_INTX :
	       index == VFIO_PCI_MSI_IRQ_INDEX	? VFIO_IRQ_MSI :
						  VFIO_IRQ_MSIX;
}

static int refuse(void)
{
	vf.refused++;
	errno = EINVAL;
	return -1;
}

static int fake_set_irqs(const struct vfio_irq_set *s)
{
	u32 action = s->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	bool none = s->flags & VFIO_IRQ_SET_DATA_NONE;
	bool eventfds = s->flags & VFIO_IRQ_SET_DATA_EVENTFD;
	enum vfio_irq_kind k = kind_of(s->index);
	const int *fds = (const int *)s->data;

	if (s->index > VFIO_PCI_MSIX_IRQ_INDEX)
		return 0;
	if (action != VFIO_IRQ_SET_ACTION_TRIGGER)
		return vf.kind == k ? 0 : refuse(); /* INTx unmask */
	if (vf.kind == k && !s->count && none) {
		vf.kind = VFIO_IRQ_NONE;
		vf.msi_count = vf.msix_count = 0;
		memset(vf.msix_fd, -1, sizeof(vf.msix_fd));
		return 0;
	}
	if (vf.kind != k && vf.kind != VFIO_IRQ_NONE)
		return refuse();
	if (!eventfds)
		return vf.kind == k ? 0 : refuse();
	if (k != VFIO_IRQ_INTX && vf.kind == VFIO_IRQ_NONE) {
		u16 pmcsr = 0;

		/* The PCI core enables no MSI or MSI-X on a function out of D0. */
		assert_int_equal(pread(vf.fd, &pmcsr, 2, PM_CAP + PCI_PM_CTRL), 2);
		if (pmcsr & PCI_PM_CTRL_STATE_MASK) {
			vf.refused_out_of_d0++;
			errno = EINVAL;
			return -1;
		}
	}
	if (k == VFIO_IRQ_INTX) {
		if (s->start || s->count != 1)
			return refuse();
		vf.kind = k;
		return 0;
	}
	if (k == VFIO_IRQ_MSI) {
		if (vf.kind != k)
			vf.msi_count = s->start + s->count;
		vf.kind = k;
		return 0;
	}
	if (s->start + s->count > NVEC)
		return refuse();
	vf.kind = k;
	vf.msix_count = MAX(vf.msix_count, s->start + s->count);
	for (u32 i = 0; i < s->count; i++)
		vf.msix_fd[s->start + i] = fds[i];
	return 0;
}

static int fake_ioctl(int fd, unsigned long request, void *arg)
{
	if (fd == vf.fd && request == VFIO_DEVICE_SET_IRQS)
		return fake_set_irqs(arg);
	if (fd == vf.fd && request == VFIO_DEVICE_GET_REGION_INFO) {
		struct vfio_region_info *info = arg;

		info->offset = 0;
		info->size = 256;
		return 0;
	}
	if (fd == vf.fd && request == VFIO_DEVICE_GET_IRQ_INFO) {
		struct vfio_irq_info *info = arg;

		info->flags = VFIO_IRQ_INFO_EVENTFD;
		info->count = info->index == VFIO_PCI_MSIX_IRQ_INDEX ? NVEC : 1;
		return 0;
	}
	if (fd != FAKE_VM_FD)
		return real_ioctl(fd, request, arg);
	return 0; /* KVM_IRQFD, KVM_SET_GSI_ROUTING and the rest */
}

struct fixture {
	struct vm vm;
	struct vfio_pci_dev d;
};

static void cfg_write(struct fixture *f, u32 offset, u32 value, u32 len)
{
	vfio_config_access(&f->d.pci, offset, (u8 *)&value, len, true);
}

static void table_write(struct fixture *f, unsigned int vector, unsigned int field, u32 value)
{
	vfio_msix_access(&f->d, 0, vector * 16 + field, (u8 *)&value, 4, true);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	u8 config[256] = { 0 };
	u16 msi_flags = PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | (2 << 1); /* 4 vectors */
	u16 msix_flags = NVEC - 1;
	u32 table = 0, pba = PBA_OFFSET; /* both in BAR0 */

	log_threshold = LOG_QUIET;
	memset(&vf, 0, sizeof(vf));
	memset(vf.msix_fd, -1, sizeof(vf.msix_fd));
	vm_init(&f->vm);
	f->vm.vm_fd = f->vm.routing.vm_fd = FAKE_VM_FD;
	vf.fd = memfd_create("config", 0);
	assert_true(vf.fd >= 0);
	config[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	config[PCI_CAPABILITY_LIST] = PM_CAP;
	config[PCI_INTERRUPT_PIN] = 1;
	config[PM_CAP] = PCI_CAP_ID_PM;
	config[PM_CAP + 1] = MSI_CAP;
	config[MSI_CAP] = PCI_CAP_ID_MSI;
	config[MSI_CAP + 1] = MSIX_CAP;
	memcpy(&config[MSI_CAP + PCI_MSI_FLAGS], &msi_flags, 2);
	config[MSIX_CAP] = PCI_CAP_ID_MSIX;
	memcpy(&config[MSIX_CAP + PCI_MSIX_FLAGS], &msix_flags, 2);
	memcpy(&config[MSIX_CAP + PCI_MSIX_TABLE], &table, 4);
	memcpy(&config[MSIX_CAP + PCI_MSIX_PBA], &pba, 4);
	assert_int_equal(pwrite(vf.fd, config, 256, 0), 256);

	pthread_mutex_init(&f->d.irq_lock, NULL);
	f->d.vm = &f->vm;
	f->d.fd = vf.fd;
	snprintf(f->d.bdf, sizeof(f->d.bdf), "0000:01:00.0");
	f->d.pci.opaque = &f->d;
	for (unsigned int i = 0; i < ARRAY_SIZE(f->d.msi); i++)
		irq_route_init(&f->d.msi[i], &f->vm);
	irq_route_init(&f->d.intx, &f->vm);
	assert_int_equal(vfio_config_init(&f->d), 0);
	assert_int_equal(f->d.msi_cap, MSI_CAP);
	assert_int_equal(f->d.msix_cap, MSIX_CAP);
	f->d.bars[0].present = true;
	f->d.bars[0].size = 4096;
	assert_int_equal(vfio_irq_init(&f->d), 0);
	assert_int_equal(irq_route_set_line(&f->d.intx, 5), 0);
	vfio_intx_start(&f->d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vfio_irq_release(&f->d);
	assert_int_equal(vf.kind, VFIO_IRQ_NONE);
	irq_routing_destroy(&f->vm.routing);
	close(vf.fd);
	free(f);
	return 0;
}

static void msi(struct fixture *f, bool on)
{
	cfg_write(f, MSI_CAP + PCI_MSI_ADDRESS_LO, 0xfee01000, 4);
	cfg_write(f, MSI_CAP + PCI_MSI_DATA_64, 0x4040, 2);
	cfg_write(f, MSI_CAP + PCI_MSI_FLAGS, on ? PCI_MSI_FLAGS_ENABLE | (2 << 4) : 0, 2);
}

static void msix(struct fixture *f, bool on)
{
	cfg_write(f, MSIX_CAP + PCI_MSIX_FLAGS, on ? PCI_MSIX_FLAGS_ENABLE : 0, 2);
}

static void unmask(struct fixture *f, unsigned int vector)
{
	table_write(f, vector, PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee00000);
	table_write(f, vector, PCI_MSIX_ENTRY_DATA, 0x50 + vector);
	table_write(f, vector, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
}

/* The VMM's record is VFIO's, and nothing it asked was refused. */
static void agree(const struct fixture *f)
{
	assert_int_equal(vf.refused, 0);
	assert_int_equal(f->d.irq_kind, vf.kind);
}

static void intx_until_the_guest_enables_msi_or_msix(void **state)
{
	struct fixture *f = *state;

	agree(f);
	assert_int_equal(vf.kind, VFIO_IRQ_INTX);
	msi(f, true);
	assert_int_equal(vf.kind, VFIO_IRQ_MSI);
	assert_int_equal(vf.msi_count, 4);
	msi(f, false);
	assert_int_equal(vf.kind, VFIO_IRQ_INTX);
	msix(f, true);
	assert_int_equal(vf.kind, VFIO_IRQ_MSIX);
	msix(f, false);
	assert_int_equal(vf.kind, VFIO_IRQ_INTX);
	agree(f);
}

/* The hostile guest's finding: config-same rewrote MSI's control as it was. */
static void rewriting_msi_on_beside_msix_leaves_msix_the_device(void **state)
{
	struct fixture *f = *state;

	msi(f, true);
	msix(f, true);
	unmask(f, 3);
	assert_int_equal(vf.kind, VFIO_IRQ_MSIX);
	assert_int_equal(vf.msix_fd[3], f->d.msix.vectors[3].route.fd);
	msi(f, true);
	cfg_write(f, MSI_CAP + PCI_MSI_MASK_64, 0, 4);
	assert_int_equal(vf.kind, VFIO_IRQ_MSIX);
	assert_true(vf.msix_fd[3] >= 0);
	agree(f);
}

static void msix_off_gives_the_device_back_to_msi_left_on(void **state)
{
	struct fixture *f = *state;

	msi(f, true);
	msix(f, true);
	msix(f, false);
	assert_int_equal(vf.kind, VFIO_IRQ_MSI);
	assert_int_equal(vf.msi_count, 4);
	assert_true(f->d.msi[0].attached);
	agree(f);
}

static void msix_vectors_armed_before_msi_took_over_come_back_with_those_armed_meanwhile(void **state)
{
	struct fixture *f = *state;

	msix(f, true);
	unmask(f, 2);
	unmask(f, 5);
	msi(f, true); /* set after MSI-X's: MSI has the device */
	assert_int_equal(vf.kind, VFIO_IRQ_MSI);
	unmask(f, 6);
	assert_int_equal(vf.kind, VFIO_IRQ_MSI);
	msi(f, false);
	assert_int_equal(vf.kind, VFIO_IRQ_MSIX);
	for (unsigned int i = 0; i < NVEC; i++) {
		int want = i == 2 || i == 5 || i == 6 ? f->d.msix.vectors[i].route.fd : -1;

		assert_int_equal(vf.msix_fd[i], want);
	}
	assert_true(vf.msix_fd[6] >= 0);
	agree(f);
}

/* Refused out of D0, MSI-X comes up with its vectors once the guest brings the device back. */
static void msix_refused_in_d3_arms_its_vectors_back_in_d0(void **state)
{
	struct fixture *f = *state;

	cfg_write(f, PM_CAP + PCI_PM_CTRL, 3, 2) /* D3hot */;
	msix(f, true);
	unmask(f, 1);
	assert_true(vf.refused_out_of_d0 > 0);
	assert_int_equal(vf.kind, VFIO_IRQ_NONE);
	agree(f);
	cfg_write(f, PM_CAP + PCI_PM_CTRL, 0, 2) /* D0 */;
	unmask(f, 2);
	assert_int_equal(vf.kind, VFIO_IRQ_MSIX);
	assert_int_equal(vf.msix_fd[1], f->d.msix.vectors[1].route.fd);
	assert_int_equal(vf.msix_fd[2], f->d.msix.vectors[2].route.fd);
	agree(f);
}

static u64 rng = 88172645463325252ull;

static unsigned int rnd(unsigned int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)(rng % n);
}

/*
 * Any order of the guest's writes: VFIO is never asked for a second kind,
 * the record stays VFIO's, and the device has the kind the Enable bits
 * ask for (the later one of two; INTx with neither).
 */
static void any_order_of_guest_writes_keeps_vfio_and_the_record_in_step(void **state)
{
	struct fixture *f = *state;
	bool msi_on = false, msix_on = false, msi_latest = false;

	for (unsigned int step = 0; step < 20000; step++) {
		unsigned int op = rnd(6);
		bool on = rnd(2);

		switch (op) {
		case 0:
			msi_latest = on && (!msi_on || msi_latest);
			msi_on = on;
			msi(f, on);
			/* Multiple Message Enable changed under an enabled MSI. */
			if (on && rnd(2)) {
				cfg_write(f, MSI_CAP + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | (rnd(3) << 4), 2);
			}
			break;
		case 1:
			if (on && !msix_on)
				msi_latest = false;
			msix_on = on;
			msix(f, on);
			break;
		case 2:
			unmask(f, rnd(NVEC));
			break;
		case 3:
			table_write(f, rnd(NVEC), PCI_MSIX_ENTRY_VECTOR_CTRL, 1);
			break;
		case 4:
			/* The same value again, as config-same does. */
			cfg_write(f, MSI_CAP + PCI_MSI_FLAGS, msi_on ? PCI_MSI_FLAGS_ENABLE | (2 << 4) : 0, 2);
			cfg_write(f, MSIX_CAP + PCI_MSIX_FLAGS, msix_on ? PCI_MSIX_FLAGS_ENABLE : 0, 2);
			break;
		default:
			cfg_write(f, MSI_CAP + PCI_MSI_MASK_64, rnd(16), 4);
			break;
		}
		agree(f);
		assert_int_equal(vf.kind, msix_on && !(msi_on && msi_latest) ? VFIO_IRQ_MSIX :
					  msi_on			     ? VFIO_IRQ_MSI :
									       VFIO_IRQ_INTX);
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(intx_until_the_guest_enables_msi_or_msix),
		T(rewriting_msi_on_beside_msix_leaves_msix_the_device),
		T(msix_off_gives_the_device_back_to_msi_left_on),
		T(msix_vectors_armed_before_msi_took_over_come_back_with_those_armed_meanwhile),
		T(msix_refused_in_d3_arms_its_vectors_back_in_d0),
		T(any_order_of_guest_writes_keeps_vfio_and_the_record_in_step),
	};

	return cmocka_run_group_tests_name("vfio-irq-kind", tests, NULL, NULL);
}
