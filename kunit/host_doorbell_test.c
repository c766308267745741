// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of doorbell routing (host/doorbell.c) and of every
 * hypercall the ACRN implementation issues (host/hypercall_acrn.c): its
 * ID, its first parameter and the exact bytes of its argument, compared
 * against byte arrays written from ACRN's ABI (include/uapi/linux/acrn.h,
 * drivers/virt/acrn/hypercall.h), not from the structures the module uses.
 */
#include <kunit/test.h>
#include <asm/hypervisor.h>

#include "host_test.h"

static void ivh_put_le(u8 *p, u64 v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

static void ivh_msi(struct ivshmem_host_vector *v, u32 vector, u64 addr,
		    u64 data)
{
	memset(v, 0, sizeof(*v));
	v->vector = vector;
	v->type = IVSHMEM_HOST_VECTOR_MSI;
	v->msi_addr = addr;
	v->msi_data = data;
}

static void ring_routing_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	struct ivshmem_host_vector v;
	struct ivh_peer *a, *b;
	const char *why;
	u8 want[16];

	ivh_fixture_add(test, "dm:/d,2,1:2:3");
	a = ivh_att(fx, "dm:/d", 1, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	/* VM 2 is a guest, hypercall VM ID 7. */
	b = ivh_attach(&fx->host, "dm:/d", 2, 7, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));

	/* Nothing registered yet: refused, nothing issued. */
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 1, 2, 0), -ENXIO);
	ivh_msi(&v, 5, 0xfee01000ULL, 0x4041);
	KUNIT_ASSERT_EQ(test, ivh_set_vector(b, &v, NULL), 0);

	/* Bad tuples are refused before any hypercall. */
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 1, 2, 8), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 1, 2, U32_MAX),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 3, 2, 5), -ENOTCONN);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 1, 3, 5), -ENOTCONN);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 1, 2, 4), -ENXIO);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/e", 1, 2, 5), -ENOENT);
	KUNIT_EXPECT_EQ(test, fx->rec.n, 0);

	/* The ring reaches b's vector 5: HC_INJECT_MSI(7, &msi). */
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 1, 2, 5), 0);
	KUNIT_ASSERT_EQ(test, fx->rec.n, 1);
	KUNIT_EXPECT_EQ(test, fx->rec.id[0], 0x80000023UL);
	KUNIT_EXPECT_EQ(test, fx->rec.p1[0], 7);
	ivh_put_le(want, 0xfee01000ULL, 8);
	ivh_put_le(want + 8, 0x4041, 8);
	IVH_EXPECT_BYTES(test, fx->rec.arg[0], want, sizeof(want));
	KUNIT_EXPECT_EQ(test, b->vec[5].rings, 1);
	KUNIT_EXPECT_EQ(test, a->vec[5].rings, 0);

	/* A peer may ring itself only where it registered. */
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 1, 1, 5), -ENXIO);

	/* The hypervisor's error comes back and is not counted. */
	fx->rec.ret = -EINVAL;
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 2, 2, 5), -EINVAL);
	KUNIT_EXPECT_EQ(test, b->vec[5].rings, 1);
	fx->rec.ret = 0;

	/* Clearing the vector stops delivery. */
	memset(&v, 0, sizeof(v));
	v.vector = 5;
	KUNIT_ASSERT_EQ(test, ivh_set_vector(b, &v, NULL), 0);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 1, 2, 5), -ENXIO);

	/* After detach: nothing routes to or from b, its vectors are gone. */
	ivh_msi(&v, 0, 0xfee00000ULL, 0x30);
	KUNIT_ASSERT_EQ(test, ivh_set_vector(b, &v, NULL), 0);
	KUNIT_EXPECT_EQ(test, ivh_detach(b), 0);
	KUNIT_EXPECT_EQ(test, b->vec[0].type, IVSHMEM_HOST_VECTOR_NONE);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 1, 2, 0), -ENOTCONN);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 2, 1, 0), -ENOTCONN);
	KUNIT_EXPECT_EQ(test, ivh_set_vector(b, &v, NULL), -ENOTCONN);
	KUNIT_EXPECT_EQ(test, fx->rec.n, 2);

	ivh_peer_release(a);
	ivh_peer_release(b);
}

/* Off ACRN the table refuses guest-VM delivery; routing still checks. */
static void ring_none_ops_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	struct ivshmem_host_vector v;
	struct ivh_peer *a, *b;
	const char *why;

	fx->hc.ops = &ivh_none_hc_ops;
	ivh_fixture_add(test, "dm:/n,2,1:2");
	a = ivh_att(fx, "dm:/n", 1, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	b = ivh_attach(&fx->host, "dm:/n", 2, 2, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	ivh_msi(&v, 0, 0xfee00000ULL, 0x31);
	KUNIT_ASSERT_EQ(test, ivh_set_vector(b, &v, NULL), 0);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/n", 1, 2, 0),
			-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, b->vec[0].rings, 0);
	KUNIT_EXPECT_EQ(test, fx->rec.n, 0);
	ivh_peer_release(a);
	ivh_peer_release(b);
}

static void ivh_vdev_req(struct ivshmem_host_vdev *req, const char *name,
			 u32 vmid)
{
	memset(req, 0, sizeof(*req));
	strscpy(req->name, name, sizeof(req->name));
	req->vmid = vmid;
	req->hc_vmid = 4;
	req->bdf = 0x0028;		/* 00:05.0 */
	req->bar0 = 0xa0000000;
	req->bar1 = 0xa0001000;
	req->bar2 = 0x4000000000ULL;
}

static void msi_check_test(struct kunit *test)
{
	/* Accepted: the x86 MSI window, fixed or lowest priority. */
	KUNIT_EXPECT_EQ(test, ivh_msi_check(0xfee00000ULL, 0x0030), 0);
	KUNIT_EXPECT_EQ(test, ivh_msi_check(0xfeeffffcULL, 0xc1ff), 0);
	KUNIT_EXPECT_EQ(test, ivh_msi_check(0xfee0100cULL, 0x0110), 0);
	/* Address: outside the window, unaligned, high bits set. */
	KUNIT_EXPECT_EQ(test, ivh_msi_check(0, 0x30), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_msi_check(0xfedffffcULL, 0x30), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_msi_check(0xfef00000ULL, 0x30), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_msi_check(0xfee00002ULL, 0x30), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_msi_check(0x1fee00000ULL, 0x30), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_msi_check(~0ULL, 0x30), -EINVAL);
	/* Data: reserved bits, SMI, NMI, INIT, ExtINT, exception vectors. */
	KUNIT_EXPECT_EQ(test, ivh_msi_check(0xfee00000ULL, 0x10030), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_msi_check(0xfee00000ULL, 1ULL << 32),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_msi_check(0xfee00000ULL, 0x0230), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_msi_check(0xfee00000ULL, 0x0330), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_msi_check(0xfee00000ULL, 0x0400), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_msi_check(0xfee00000ULL, 0x0500), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_msi_check(0xfee00000ULL, 0x0700), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_msi_check(0xfee00000ULL, 0x000f), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_msi_check(0xfee00000ULL, 0x0002), -EINVAL);
}

/*
 * An attachment injects only into the VM bound to it at attach: no MSI
 * without a binding, bindings consistent across attachments and vdevs.
 */
static void msi_binding_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	struct ivshmem_host_vector v;
	struct ivshmem_host_vdev req;
	struct ivh_peer *a, *b, *c;
	const char *why;

	ivh_fixture_add(test, "dm:/b1,2,1:2:3");
	ivh_fixture_add(test, "dm:/b2,2,1:2:3");
	ivh_fixture_add(test, "hv:/h,2,1:2:3");
	a = ivh_att(fx, "dm:/b1", 1, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	b = ivh_attach(&fx->host, "dm:/b1", 2, 9, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));

	/* A Service-VM peer may not register MSI vectors at all. */
	ivh_msi(&v, 0, 0xfee00000ULL, 0x30);
	KUNIT_EXPECT_EQ(test, ivh_set_vector(a, &v, NULL), -EPERM);
	KUNIT_EXPECT_EQ(test, a->vec[0].type, IVSHMEM_HOST_VECTOR_NONE);
	/* A bad message is refused and changes nothing. */
	ivh_msi(&v, 0, 0xfec00000ULL, 0x30);
	KUNIT_EXPECT_EQ(test, ivh_set_vector(b, &v, NULL), -EINVAL);
	ivh_msi(&v, 0, 0xfee00000ULL, 0x0430);
	KUNIT_EXPECT_EQ(test, ivh_set_vector(b, &v, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, b->vec[0].type, IVSHMEM_HOST_VECTOR_NONE);
	/* The ring goes to the bound VM 9 and nowhere else. */
	ivh_msi(&v, 0, 0xfee00000ULL, 0x30);
	KUNIT_ASSERT_EQ(test, ivh_set_vector(b, &v, NULL), 0);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/b1", 1, 2, 0), 0);
	KUNIT_ASSERT_EQ(test, fx->rec.n, 1);
	KUNIT_EXPECT_EQ(test, fx->rec.p1[0], 9);

	/* Out of range, or disagreeing with the binding of VM 2 / ID 9. */
	KUNIT_EXPECT_EQ(test, PTR_ERR(ivh_attach(&fx->host, "dm:/b2", 3,
						 0xffff, &why)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(ivh_attach(&fx->host, "dm:/b2", 2, 8,
						 &why)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(ivh_attach(&fx->host, "dm:/b2", 3, 9,
						 &why)), -EINVAL);
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->host.nr_mems), 1);
	ivh_vdev_req(&req, "hv:/h", 2);
	req.hc_vmid = 8;
	KUNIT_EXPECT_EQ(test, ivh_vdev(&fx->host, &req, true, &why), -EINVAL);
	ivh_vdev_req(&req, "hv:/h", 3);
	req.hc_vmid = 9;
	KUNIT_EXPECT_EQ(test, ivh_vdev(&fx->host, &req, true, &why), -EINVAL);
	req.hc_vmid = 0x10000;
	KUNIT_EXPECT_EQ(test, ivh_vdev(&fx->host, &req, true, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, fx->rec.n, 1);
	/* Agreeing: allowed. */
	ivh_vdev_req(&req, "hv:/h", 2);
	req.hc_vmid = 9;
	KUNIT_EXPECT_EQ(test, ivh_vdev(&fx->host, &req, true, &why), 0);
	KUNIT_EXPECT_EQ(test, fx->rec.p1[1], 9);
	c = ivh_attach(&fx->host, "dm:/b2", 2, 9, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	ivh_peer_release(c);

	/* Once VM 2 has detached everywhere, ID 9 is free for VM 3. */
	ivh_peer_release(b);
	c = ivh_attach(&fx->host, "dm:/b2", 3, 9, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	ivh_peer_release(c);
	ivh_peer_release(a);
}

/* An eventfd is a vector's or a trigger's, never both (no ring loops). */
static void efd_claim_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	struct eventfd_ctx *x = (struct eventfd_ctx *)&fx->rec;
	struct eventfd_ctx *y = (struct eventfd_ctx *)&fx->hc;

	KUNIT_EXPECT_EQ(test, ivh_efd_claim(&fx->host, x, false), 0);
	KUNIT_EXPECT_EQ(test, ivh_efd_claim(&fx->host, x, false), 0);
	KUNIT_EXPECT_EQ(test, ivh_efd_claim(&fx->host, x, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_efd_claim(&fx->host, y, true), 0);
	KUNIT_EXPECT_EQ(test, ivh_efd_claim(&fx->host, y, false), -EINVAL);
	ivh_efd_unclaim(&fx->host, x, false);
	KUNIT_EXPECT_EQ(test, ivh_efd_claim(&fx->host, x, true), -EINVAL);
	ivh_efd_unclaim(&fx->host, x, false);
	/* No vector left on x: it may become a trigger. */
	KUNIT_EXPECT_EQ(test, ivh_efd_claim(&fx->host, x, true), 0);
	ivh_efd_unclaim(&fx->host, x, true);
	ivh_efd_unclaim(&fx->host, y, true);
	KUNIT_EXPECT_TRUE(test, list_empty(&fx->host.efds));
}

/* struct acrn_vdev for "hv:/shm_region_0", 2 MiB, as acrn-dm fills it. */
static void ivh_vdev_bytes(u8 *b)
{
	static const char name[] = "hv:/shm_region_0";

	memset(b, 0, 192);
	ivh_put_le(b + 0, 0x1af4, 2);		/* id.fields.vendor */
	ivh_put_le(b + 2, 0x1110, 2);		/* id.fields.device */
	ivh_put_le(b + 8, 0x0028, 8);		/* slot */
	ivh_put_le(b + 16, 0xa0000000, 4);	/* io_addr[0] */
	ivh_put_le(b + 20, 0xa0001000, 4);	/* io_addr[1] */
	ivh_put_le(b + 24, 0x0000000c, 4);	/* io_addr[2]: low, 64-bit pf */
	ivh_put_le(b + 28, 0x40, 4);		/* io_addr[3]: high */
	ivh_put_le(b + 40 + 2 * 4, 2 << 20, 4);	/* io_size[2] */
	memcpy(b + 64, name, sizeof(name) - 1);	/* args */
}

static void vdev_hypercall_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	struct ivshmem_host_vdev req;
	const char *why;
	u8 want[192];

	ivh_fixture_add(test, "hv:/shm_region_0,2,0:2");
	ivh_fixture_add(test, "dm:/x,2,0:2");

	/* Checks first: nothing reaches the hypervisor. */
	ivh_vdev_req(&req, "hv:/shm_region_0", 1);
	KUNIT_EXPECT_EQ(test, ivh_vdev(&fx->host, &req, true, &why), -EACCES);
	ivh_vdev_req(&req, "hv:/shm_region_0", 64);
	KUNIT_EXPECT_EQ(test, ivh_vdev(&fx->host, &req, true, &why), -EACCES);
	ivh_vdev_req(&req, "dm:/x", 2);
	KUNIT_EXPECT_EQ(test, ivh_vdev(&fx->host, &req, true, &why), -EINVAL);
	ivh_vdev_req(&req, "hv:/other", 2);
	KUNIT_EXPECT_EQ(test, ivh_vdev(&fx->host, &req, true, &why), -ENOENT);
	KUNIT_EXPECT_EQ(test, fx->rec.n, 0);

	ivh_vdev_bytes(want);
	ivh_vdev_req(&req, "hv:/shm_region_0", 2);
	KUNIT_EXPECT_EQ(test, ivh_vdev(&fx->host, &req, true, &why), 0);
	KUNIT_EXPECT_EQ(test, ivh_vdev(&fx->host, &req, false, &why), 0);
	KUNIT_ASSERT_EQ(test, fx->rec.n, 2);
	KUNIT_EXPECT_EQ(test, fx->rec.id[0], 0x80000059UL);
	KUNIT_EXPECT_EQ(test, fx->rec.p1[0], 4);
	IVH_EXPECT_BYTES(test, fx->rec.arg[0], want, sizeof(want));
	KUNIT_EXPECT_EQ(test, fx->rec.id[1], 0x8000005AUL);
	KUNIT_EXPECT_EQ(test, fx->rec.p1[1], 4);
	IVH_EXPECT_BYTES(test, fx->rec.arg[1], want, sizeof(want));

	/* The hypervisor refuses (wrong VM state, say): error passed on. */
	fx->rec.ret = -EINVAL;
	KUNIT_EXPECT_EQ(test, ivh_vdev(&fx->host, &req, true, &why), -EINVAL);
	fx->rec.ret = -4096 - 1;
	KUNIT_EXPECT_EQ(test, ivh_vdev(&fx->host, &req, true, &why), -EIO);
}

/* The largest region and a long name: size and args at their limits. */
static void vdev_build_test(struct kunit *test)
{
	static const char name[] = "hv:/123456789012345678901234567";
	struct acrn_vdev vdev;
	u8 want[192];

	memset(&vdev, 0xff, sizeof(vdev));
	ivh_build_vdev(&vdev, name, 512 << 20, 0xffff, 1, 2,
		       0xfedcba9876543210ULL);
	memset(want, 0, sizeof(want));
	ivh_put_le(want + 0, 0x1af4, 2);
	ivh_put_le(want + 2, 0x1110, 2);
	ivh_put_le(want + 8, 0xffff, 8);
	ivh_put_le(want + 16, 1, 4);
	ivh_put_le(want + 20, 2, 4);
	ivh_put_le(want + 24, 0x7654321c, 4);
	ivh_put_le(want + 28, 0xfedcba98, 4);
	ivh_put_le(want + 48, 0x20000000, 4);
	memcpy(want + 64, name, sizeof(name) - 1);
	IVH_EXPECT_BYTES(test, &vdev, want, sizeof(want));
	KUNIT_EXPECT_EQ(test, sizeof(vdev), 192);
	KUNIT_EXPECT_EQ(test, sizeof(struct acrn_msi_entry), 16);
}

static void hypercall_ids_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, IVH_HC_INJECT_MSI, 0x80000023UL);
	KUNIT_EXPECT_EQ(test, IVH_HC_CREATE_VDEV, 0x80000059UL);
	KUNIT_EXPECT_EQ(test, IVH_HC_DESTROY_VDEV, 0x8000005AUL);
}

/* The table is chosen at init: ACRN's only on ACRN's Service VM. */
static void hc_select_test(struct kunit *test)
{
	struct ivh_hc hc = {};

	ivh_hc_select(&hc);
	if (ivh_acrn_service_vm()) {
		KUNIT_EXPECT_PTR_EQ(test, hc.ops, &ivh_acrn_hc_ops);
		KUNIT_EXPECT_TRUE(test, hc.live);
		return;
	}
	KUNIT_EXPECT_PTR_EQ(test, hc.ops, &ivh_none_hc_ops);
	KUNIT_EXPECT_FALSE(test, hc.live);
	KUNIT_EXPECT_NULL(test, hc.raw);
	/* QEMU here is not ACRN. */
	KUNIT_EXPECT_FALSE(test, hypervisor_is_type(X86_HYPER_ACRN));
}

static struct kunit_case ivh_doorbell_cases[] = {
	KUNIT_CASE(ring_routing_test),
	KUNIT_CASE(ring_none_ops_test),
	KUNIT_CASE(msi_check_test),
	KUNIT_CASE(msi_binding_test),
	KUNIT_CASE(efd_claim_test),
	KUNIT_CASE(vdev_hypercall_test),
	KUNIT_CASE(vdev_build_test),
	KUNIT_CASE(hypercall_ids_test),
	KUNIT_CASE(hc_select_test),
	{}
};

static struct kunit_suite ivh_doorbell_suite = {
	.name = "ivshmem_host_hypercall",
	.init = ivh_fixture_init,
	.exit = ivh_fixture_exit,
	.test_cases = ivh_doorbell_cases,
};

kunit_test_suite(ivh_doorbell_suite);
