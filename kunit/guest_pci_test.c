// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit test of the guest driver's PCI ID table: it binds 1af4:1110
 * devices of class 0x0500 (RAM: QEMU's and ACRN's ivshmem devices) and
 * leaves 1af4:1110 devices that declare a protocol in their class code
 * (PCI_CLASS_OTHERS with the protocol in the programming interface, as
 * virtio over ivshmem does) to the drivers of that protocol.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/pci.h>

#include "compat.h"
#include "ivshmem_drv.h"

struct ivshmem_pci_match_case {
	const char *desc;
	u16 vendor;
	u16 device;
	u32 class;
	bool match;
};

static const struct ivshmem_pci_match_case ivshmem_pci_match_cases[] = {
	{ "ivshmem RAM (QEMU, ACRN)", 0x1af4, 0x1110, 0x050000, true },
	{ "ivshmem RAM, programming interface 1", 0x1af4, 0x1110, 0x050001, true },
	{ "ivshmem, class other, no protocol", 0x1af4, 0x1110, 0xff0000, false },
	{ "ivshmem, class other, protocol 1", 0x1af4, 0x1110, 0xff0001, false },
	{ "ivshmem, memory controller other", 0x1af4, 0x1110, 0x058000, false },
	{ "ivshmem, flash memory", 0x1af4, 0x1110, 0x050100, false },
	{ "another Red Hat device of class RAM", 0x1af4, 0x1111, 0x050000, false },
	{ "another vendor's 1110 of class RAM", 0x8086, 0x1110, 0x050000, false },
};

static void ivshmem_pci_match_desc(const struct ivshmem_pci_match_case *c,
				   char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%04x:%04x class %06x: %s",
		 c->vendor, c->device, c->class, c->desc);
}

KUNIT_ARRAY_PARAM(ivshmem_pci_match, ivshmem_pci_match_cases,
		  ivshmem_pci_match_desc);

static void pci_match_test(struct kunit *test)
{
	const struct ivshmem_pci_match_case *c = test->param_value;
	const struct pci_device_id *id;
	struct pci_dev *pdev;

	pdev = kunit_kzalloc(test, sizeof(*pdev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pdev);
	pdev->vendor = c->vendor;
	pdev->device = c->device;
	pdev->subsystem_vendor = PCI_SUBVENDOR_ID_REDHAT_QUMRANET;
	pdev->subsystem_device = PCI_SUBDEVICE_ID_QEMU;
	pdev->class = c->class;

	id = pci_match_id(ivshmem_ids, pdev);
	if (c->match)
		KUNIT_EXPECT_PTR_EQ(test, id, &ivshmem_ids[0]);
	else
		KUNIT_EXPECT_NULL(test, id);
}

static struct kunit_case ivshmem_guest_pci_cases[] = {
	KUNIT_CASE_PARAM(pci_match_test, ivshmem_pci_match_gen_params),
	{}
};

static struct kunit_suite ivshmem_guest_pci_suite = {
	.name = "ivshmem_guest_pci",
	.test_cases = ivshmem_guest_pci_cases,
};

kunit_test_suite(ivshmem_guest_pci_suite);

MODULE_IMPORT_NS(IVSHMEM_NS_KUNIT);
