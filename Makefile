# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of the ivshmem module pair.
#
#   make                 build the modules against KDIR
#   make KDIR=/path      ... against another kernel build tree
#   make check           install what is missing, build, run all tests
#   make demo            boot a QEMU guest and show data crossing over
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
PWD  := $(shell pwd)

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(PWD) modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || true
	rm -rf build

check:
	./tests/check.sh $(ARGS)

demo:
	./tests/demo.sh

.PHONY: all modules clean check demo
