# vmm: build, unit tests, nested integration tests, demo and benchmark.
# `make` builds build/vmm; `make test` installs what it needs and runs
# everything; see README.md.

ARCH ?= x86_64
CC ?= gcc
BUILD := build
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)

CPPFLAGS += -I. -D_GNU_SOURCE -DVMM_VERSION='"$(VERSION)"'
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -pthread -MMD -MP
LDFLAGS += -pthread
LIBS := -luring -lfdt -lseccomp

# Layers, bottom up: core/ (KVM, memory, buses, routes, loop, planner),
# devices/, then vfio/, arch/ and sandbox/ side by side, and vmm/ (the composition)
# on top; tests/tree/layers.py checks that includes only point down.
#
# Both boards' map policies, the arm64 Image parser and device tree
# builder are plain code, built everywhere: `vmm plan --arch` works on
# any host, and their unit tests run here.
PORTABLE := arch/board.c arch/x86/layout.c arch/x86/boot_plan.c arch/x86/bzimage.c \
	    arch/arm64/layout.c arch/arm64/boot_plan.c arch/arm64/image.c arch/arm64/fdt.c
COMMON_SRCS := $(wildcard core/*.c devices/*.c devices/virtio/*.c vfio/*.c sandbox/*.c vmm/*.c) \
	       $(PORTABLE)

ifeq ($(ARCH),arm64)
# Cross build of a static aarch64 binary (make deps fetches the arm64 libraries).
CC := aarch64-linux-gnu-gcc
OBJCOPY := aarch64-linux-gnu-objcopy
SYSROOT ?= $(or $(VMM_CACHE),$(HOME)/.cache/vmm)/arm64-sysroot-v2
# The sysroot's linux/ and asm/ UAPI headers (6.12: iommufd, the VFIO
# cdev) come before the cross toolchain's 6.1 ones.
CPPFLAGS += -isystem $(SYSROOT)/usr/include -isystem $(SYSROOT)/usr/include/aarch64-linux-gnu
LDFLAGS += -L$(SYSROOT)/usr/lib/aarch64-linux-gnu
BUILD := build/arm64
ARCH_SRCS := $(filter-out $(PORTABLE),$(wildcard arch/arm64/*.c))
DEFAULT_TARGET := $(BUILD)/vmm-static
else
ARCH_SRCS := $(filter-out $(PORTABLE),$(wildcard arch/x86/*.c))
OBJCOPY := objcopy
DEFAULT_TARGET := $(BUILD)/vmm
endif

SRCS := $(COMMON_SRCS) $(ARCH_SRCS)
LIB_SRCS := $(filter-out vmm/main.c,$(SRCS))

OBJS := $(SRCS:%.c=$(BUILD)/obj/%.o)
STATIC_OBJS := $(SRCS:%.c=$(BUILD)/obj-static/%.o)

.PHONY: all static arm64 deps test tree-test unit-test cli-test integration-test integration-hostile integration-faults integration-test-iommufd integration-test-mem-backing integration-test-passthrough integration-test-passthrough-arm64 integration-test-arm64 integration-test-arm64-swmsi demo bench clean fuzz fuzz-build fuzz-replay

all: $(DEFAULT_TARGET)

$(BUILD)/vmm: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

static: $(BUILD)/vmm-static

# The static binary (embedded products, the arm64 L1) ships stripped; its
# debug info stays beside it in vmm-static.debug, linked by name for gdb.
STATIC_SECTIONS := -ffunction-sections -fdata-sections
$(BUILD)/vmm-static: $(STATIC_OBJS)
	$(CC) -static $(LDFLAGS) -Wl,--gc-sections -o $@.full $^ $(LIBS)
	$(OBJCOPY) --only-keep-debug $@.full $@.debug
	$(OBJCOPY) --strip-all --add-gnu-debuglink=$@.debug $@.full $@
	rm -f $@.full

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj-static/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(STATIC_SECTIONS) -c -o $@ $<

# Unit tests: cmocka, built with ASan and UBSan.
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
UNIT_LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj-san/%.o)

$(BUILD)/obj-san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O1 $(SAN_FLAGS) -c -o $@ $<

# Compiled apart from linking, so that -MMD lists the headers each test includes.
UNIT_TEST_OBJS := $(UNIT_TESTS:$(BUILD)/tests/%=$(BUILD)/obj-san/tests/unit/%.o)

$(BUILD)/tests/%: $(BUILD)/obj-san/tests/unit/%.o $(UNIT_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ -lcmocka $(LIBS)

# Fuzz targets (tests/fuzz/): libFuzzer with ASan and UBSan, built by clang
# against an archive of the VMM's objects (the linker takes what a target
# needs; a target may replace a whole file, e.g. a fake tap).
FUZZ_CC := clang
FUZZ_BUILD := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter -pthread -MMD -MP $(FUZZ_SAN)
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libvmm.a: $(FUZZ_LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

FUZZ_TARGET_OBJS := $(FUZZ_TARGETS:$(FUZZ_BUILD)/%=$(FUZZ_BUILD)/obj/tests/fuzz/%.o)

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_BUILD)/libvmm.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

fuzz-build: deps
	$(MAKE) $(FUZZ_TARGETS)

# Each target for FUZZ_SECONDS, one at a time; corpora in build/fuzz/corpus.
fuzz: fuzz-build
	bash tests/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Every seed and reproducer through every target, once: seconds.
fuzz-replay: fuzz-build
	bash tests/fuzz/run.sh replay 0 $(FUZZ_TARGETS)

deps:
	sh scripts/install-deps.sh

export TEST_RESULTS_DIR := $(abspath $(BUILD))/test-results

unit-test: deps
	$(MAKE) $(UNIT_TESTS)
	bash tests/unit/run.sh $(UNIT_TESTS)

# The tree itself: no machine's absolute path in a tracked file, and
# includes that follow the layers without cycles.
tree-test:
	-bash tests/tree/no-absolute-paths.sh
	python3 tests/tree/layers.py

cli-test: deps all
	bash tests/cli/bad-input.sh

integration-test: deps all
	bash tests/nested/run-integration.sh

# One nested suite alone, in its own L1 (make test runs them with the rest).
integration-hostile: deps all
	NESTED_SUITES=hostile bash tests/nested/run-integration.sh

integration-faults: deps all
	NESTED_SUITES=faults bash tests/nested/run-integration.sh

# Passthrough under iommufd (the e1000e, NVMe, igb and e1000 in one L1),
# on an L1 kernel built from linux-source-6.12 (once, ~11 min, then
# cached: build-host-kernel.sh).
integration-test-iommufd: deps all
	bash tests/nested/run-integration-iommufd.sh

# The core suite on hugetlb (2 MiB pages reserved in L1) and the backings' checks.
integration-test-mem-backing: deps all
	bash tests/nested/run-integration-mem-backing.sh

# Passthrough beyond NICs: NVMe with >64 vectors, a 64 GiB BAR, a
# group of two e1000s behind a bridge, on one L1 of their own.
integration-test-passthrough: deps all
	bash tests/nested/run-integration-passthrough.sh

# The same NVMe on an arm64 L1, its MSI-X through the ITS.
integration-test-passthrough-arm64: deps arm64
	bash tests/nested/run-integration-passthrough-arm64.sh

arm64: deps
	$(MAKE) ARCH=arm64

integration-test-arm64: deps arm64
	bash tests/nested/run-integration-arm64.sh

# arm64 passthrough with the MSI window chosen by the VMM: an L1 on
# linux-source-7.3 with ../shared/kernel-patches/iommufd-sw-msi (built once,
# ~14 min; skipped in one line without the patches). make test runs it too
# (second lane) where the patches are.
integration-test-arm64-swmsi: deps arm64
	ARM64_PAGES= ARM64_IOMMUFD=0 ARM64_SWMSI=1 bash tests/nested/run-integration-arm64.sh

# Every suite runs even when an earlier one fails; the summary decides.
test: deps
	rm -rf $(TEST_RESULTS_DIR)
	$(MAKE) all static arm64
	-$(MAKE) tree-test
	-$(MAKE) unit-test
	-$(MAKE) cli-test
	-$(MAKE) fuzz-replay
	bash tests/nested/run-lanes.sh
	@bash tests/summary.sh tree-paths tree-layers unit cli-bad-input fuzz-replay integration-core integration-virtio-misc integration-virtio-blk integration-virtio-net integration-vfio integration-vfio-bind integration-hostile integration-faults integration-vfio-iommufd integration-vfio-nvme-iommufd integration-vfio-nics-iommufd integration-core-hugetlb-2m integration-mem-backing integration-vfio-nvme integration-vfio-bar integration-arm64 integration-arm64-16k integration-arm64-iommufd integration-arm64-nvme

demo: deps all
	bash tests/nested/demo.sh

bench: deps all static arm64
	bash tests/bench-sizes.sh
	bash tests/nested/bench.sh

clean:
	rm -rf $(BUILD)

# Objects of the test builds are kept between runs, not deleted as intermediates.
.SECONDARY: $(UNIT_LIB_OBJS) $(FUZZ_LIB_OBJS) $(UNIT_TEST_OBJS) $(FUZZ_TARGET_OBJS)

-include $(OBJS:.o=.d) $(STATIC_OBJS:.o=.d) $(UNIT_LIB_OBJS:.o=.d) $(FUZZ_LIB_OBJS:.o=.d)
-include $(UNIT_TEST_OBJS:.o=.d) $(FUZZ_TARGET_OBJS:.o=.d)
