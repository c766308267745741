# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of the ivshmem module pair.
#
#   make                 build the modules against KDIR
#   make KDIR=/path      ... against another kernel build tree
#   make KERNELRELEASE=r ... against /lib/modules/r/build
#   make check           install what is missing, build, run all tests
#   make lint            checkpatch --strict, sparse, W=1: all at zero
#   make demo            boot a QEMU guest and show data crossing over
#   make docs            Documentation/ as HTML in build/docs/html (Sphinx,
#                        every warning an error)
#   make kernel-series   the drivers as a git format-patch series with a
#                        cover letter against Debian's linux-source-6.12,
#                        in build/series/ (tests/series/)
#   make bench           boot stock-kernel guests, print the benchmark
#                        table; JSON and plots in build/bench/
#   make install         modules (updates/), uapi headers, udev rules;
#                        DESTDIR=/stage for a staged install
#   make uninstall       remove what make install installed
#   make dkms-install    copy the source to /usr/src, dkms add/build/install
#   make dkms-remove     dkms remove --all, delete the copy in /usr/src
#   make deb             Debian packages ivshmem-dkms, ivshmem-tools and
#                        ivshmem-dev in build/deb/ (then make deb-lint)
#   make clean
#
# See Documentation/packaging.rst.

KDIR ?= /lib/modules/$(or $(KERNELRELEASE),$(shell uname -r))/build
PWD  := $(shell pwd)

# KUNIT=n leaves the KUnit modules out (make install and DKMS do): their
# Kbuild tests CONFIG_KUNIT, which this empties for the build only.
KUNIT ?= y
KBUILD_ARGS := $(if $(filter n,$(KUNIT)),CONFIG_KUNIT=)

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(PWD) $(KBUILD_ARGS) modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || true
	rm -rf build

check:
	./tests/check.sh $(ARGS)

lint:
	./tests/lint.sh

demo:
	./tests/demo.sh

# The patch series for a 6.12 tree, generated from these sources
# (tests/series/make-series.py; make lint checks it with
# tests/series/check.sh). KSRC: the kernel tree (default: Debian's
# linux-source-6.12, extracted in IVSHMEM_CACHE as tests/kernel/build.sh
# does).
IVSHMEM_CACHE ?= /var/cache/ivshmem-test
KSRC_VERSION   = $(shell dpkg-query -W -f='$${Version}' linux-source-6.12 2>/dev/null)
KSRC          ?= $(IVSHMEM_CACHE)/src-$(KSRC_VERSION)/linux-source-6.12

kernel-series:
	@test -f $(KSRC)/Makefile || { echo "no kernel tree at $(KSRC): tests/deps.sh, then tests/kernel/build.sh 6.12 extracts it (or KSRC=...)"; exit 1; }
	python3 tests/series/make-series.py --ksrc $(KSRC) --out build/series \
		--pkg "$(KSRC_VERSION)"

# Sphinx from Debian (python3-sphinx): -W turns warnings into errors,
# --keep-going reports all of them, -n also warns on references that
# resolve to nothing. -E rereads every file: no stale environment hides
# a warning. tests/lint.sh runs this too.
SPHINXBUILD ?= sphinx-build
DOCS_OUT    := build/docs

# Benchmarks on Debian's stock 6.1 kernel: one table on stdout, JSON and
# plots in build/bench/ (tests/bench.py). QEMU_ACCEL=kvm on a KVM host.
bench:
	./tests/deps.sh
	python3 tests/bench.py

docs:
	$(SPHINXBUILD) -b html -W --keep-going -n -E -q \
		-d $(DOCS_OUT)/doctrees Documentation $(DOCS_OUT)/html
	@echo "  DOCS    $(DOCS_OUT)/html/index.html"

# ---------------------------------------------------------------------------
# Installing. The release defaults to KDIR's; the modules go to
# $(INSTALL_MOD_PATH)/lib/modules/<release>/$(INSTALL_MOD_DIR)/{guest,host}/
# where modprobe finds them after depmod. depmod runs only for a live
# install (no DESTDIR/INSTALL_MOD_PATH); a package runs it on the target.

DESTDIR          ?=
INSTALL_MOD_PATH ?= $(DESTDIR)
INSTALL_MOD_DIR  ?= updates
PREFIX           ?= /usr
INCLUDEDIR       ?= $(PREFIX)/include
UDEVRULESDIR     ?= /lib/udev/rules.d
DEPMOD           ?= depmod

# The release the modules' vermagic names (UTS_RELEASE: Debian's headers
# answer "make kernelrelease" with the upstream version). Computed once.
release = $(eval release := $(or $(KERNELRELEASE),$(shell sed -n \
		's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
		$(KDIR)/include/generated/utsrelease.h 2>/dev/null)))$(release)
moddir  = $(INSTALL_MOD_PATH)/lib/modules/$(release)/$(INSTALL_MOD_DIR)
# What make install ships (never the KUnit modules).
INSTALL_MODULES := guest/ivshmem host/ivshmem_host net/ivshmem_net
UAPI_HEADERS    := $(notdir $(wildcard uapi/linux/*.h))
UDEV_RULES      := 90-ivshmem.rules

install: install-modules install-headers install-udev

install-modules:
	@test -n "$(release)" || { echo "no kernel release for KDIR=$(KDIR)"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(PWD) CONFIG_KUNIT= modules
	$(MAKE) -C $(KDIR) M=$(PWD) CONFIG_KUNIT= KERNELRELEASE=$(release) \
		INSTALL_MOD_PATH=$(INSTALL_MOD_PATH) \
		INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) DEPMOD=true modules_install
	$(if $(INSTALL_MOD_PATH),@echo "  DEPMOD  skipped for a staged install: run 'depmod -a $(release)' on the target",$(DEPMOD) -a $(release))

install-headers:
	install -d $(DESTDIR)$(INCLUDEDIR)/linux
	install -m 0644 $(addprefix uapi/linux/,$(UAPI_HEADERS)) \
		$(DESTDIR)$(INCLUDEDIR)/linux/

install-udev:
	install -d $(DESTDIR)$(UDEVRULESDIR)
	install -m 0644 $(addprefix udev/,$(UDEV_RULES)) $(DESTDIR)$(UDEVRULESDIR)/
	$(if $(DESTDIR),,-udevadm control --reload 2>/dev/null)

uninstall: uninstall-modules uninstall-headers uninstall-udev

uninstall-modules:
	@test -n "$(release)" || { echo "no kernel release for KDIR=$(KDIR)"; exit 1; }
	rm -f $(foreach m,$(INSTALL_MODULES),$(foreach s,.ko .ko.gz .ko.xz .ko.zst,$(moddir)/$(m)$(s)))
	rmdir $(addprefix $(moddir)/,$(sort $(dir $(INSTALL_MODULES)))) $(moddir) \
		2>/dev/null || true
	$(if $(INSTALL_MOD_PATH),,$(DEPMOD) -a $(release))

uninstall-headers:
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/linux/,$(UAPI_HEADERS))

uninstall-udev:
	rm -f $(addprefix $(DESTDIR)$(UDEVRULESDIR)/,$(UDEV_RULES))
	$(if $(DESTDIR),,-udevadm control --reload 2>/dev/null)

# ---------------------------------------------------------------------------
# DKMS: dkms.conf builds with KUNIT=n and installs ivshmem (and ivshmem_host
# on x86) to /updates/dkms. KERNELRELEASE picks the kernel (default: the
# running one).

# VERSION is the one place of the version: the modules' MODULE_VERSION
# (Kbuild), the DKMS source directory, the Debian packages (make deb
# generates debian/changelog from it). dkms.conf repeats it because dkms
# reads PACKAGE_VERSION literally: version-check (run by dkms-src and
# deb) fails when the two differ.
IVSHMEM_VERSION   := $(shell cat VERSION 2>/dev/null)
DKMS_CONF_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="*\([^"]*\)"*$$/\1/p' dkms.conf 2>/dev/null)

DKMS_NAME    := ivshmem
DKMS_VERSION := $(IVSHMEM_VERSION)
DKMS_SRC     := /usr/src/$(DKMS_NAME)-$(DKMS_VERSION)
DKMS_KERNEL  := $(if $(KERNELRELEASE),-k $(KERNELRELEASE))

version-check:
	@test -n "$(IVSHMEM_VERSION)" || { echo "VERSION: missing or empty"; exit 1; }
	@test "$(DKMS_CONF_VERSION)" = "$(IVSHMEM_VERSION)" || { echo \
		"dkms.conf: PACKAGE_VERSION=\"$(DKMS_CONF_VERSION)\", VERSION says $(IVSHMEM_VERSION)"; \
		exit 1; }

# The source DKMS builds from: build files and C sources only.
dkms-src: version-check
	rm -rf $(DKMS_SRC)
	install -d $(DKMS_SRC)
	rsync -a --prune-empty-dirs \
		--exclude '*.mod.c' --exclude '*.o' --exclude '*.ko' \
		--exclude '*.mod' --exclude '.*.cmd' --exclude modules.order \
		--exclude Module.symvers --exclude /build --exclude /.git \
		--exclude /tests --exclude /samples --include '*/' \
		--include '/dkms.conf' --include '/Makefile' --include '/Kbuild' \
		--include '/VERSION' \
		--include '/compat.h' --include '/guest/**' --include '/host/**' \
		--include '/kunit/**' --include '/net/**' --include '/uapi/**' \
		--exclude '*' \
		./ $(DKMS_SRC)/

dkms-install: dkms-src
	if dkms status $(DKMS_NAME)/$(DKMS_VERSION) | grep -q .; then \
		dkms remove $(DKMS_NAME)/$(DKMS_VERSION) --all; fi
	dkms add $(DKMS_NAME)/$(DKMS_VERSION)
	dkms build $(DKMS_NAME)/$(DKMS_VERSION) $(DKMS_KERNEL)
	dkms install $(DKMS_NAME)/$(DKMS_VERSION) $(DKMS_KERNEL)

dkms-remove:
	if dkms status $(DKMS_NAME)/$(DKMS_VERSION) | grep -q .; then \
		dkms remove $(DKMS_NAME)/$(DKMS_VERSION) --all; fi
	rm -rf $(DKMS_SRC)

# ---------------------------------------------------------------------------
# Debian packages (debian/, debhelper and dh-dkms): built in a copy of the
# tree under build/deb/ so the work tree stays clean, with debian/changelog
# generated from VERSION (dated by the last commit, or by VERSION's mtime
# outside git). The packages, .changes and lintian's report land in
# build/deb/. See Documentation/packaging.rst.

DEB_DIR    := $(PWD)/build/deb
DEB_SRC    := $(DEB_DIR)/ivshmem-$(IVSHMEM_VERSION)
DEB_EPOCH   = $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct 2>/dev/null),$(shell stat -c %Y VERSION))
DEB_MAINT   = $(shell sed -n 's/^Maintainer: //p' debian/control)
LINTIAN    ?= lintian

deb: version-check
	rm -rf $(DEB_DIR)
	install -d $(DEB_SRC)
	rsync -a --exclude /.git --exclude /build --filter=':- .gitignore' \
		./ $(DEB_SRC)/
	printf '%s\n' "ivshmem ($(IVSHMEM_VERSION)) unstable; urgency=medium" "" \
		"  * Version $(IVSHMEM_VERSION) (generated by make deb from VERSION)." "" \
		" -- $(DEB_MAINT)  $(shell date -R -u -d @$(DEB_EPOCH))" \
		> $(DEB_SRC)/debian/changelog
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc
	@ls $(DEB_DIR)/*.deb

# Default lintian level: no error, no warning (the overrides in debian/
# each say why).
deb-lint:
	$(LINTIAN) --fail-on error,warning $(DEB_DIR)/ivshmem_$(IVSHMEM_VERSION)_*.changes

.PHONY: all modules clean check lint demo docs bench kernel-series install install-modules \
	install-headers install-udev uninstall uninstall-modules \
	uninstall-headers uninstall-udev version-check dkms-src dkms-install \
	dkms-remove deb deb-lint
