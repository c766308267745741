#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Test input of "ivshmem-admin check": a hand-written acrn-dm line for
# POST_RT_VM2 of tests/host/scenarios/hybrid_rt.xml, continued over
# lines, with its VM name as acrn-dm's last argument (redirections
# after it). Agrees with it.
# (A comment's -s 9,ivshmem,dm:/nothing,2 is not a device.)
exec /usr/bin/acrn-dm --rtvm --lapic_pt -m 512M \
	-s 0:0,hostbridge \
	-s 9,ivshmem,dm:/shm_dm_rt,4,2 \
	-s 10,ivshmem,dm:/data_path_3,16,300 \
	--virtio_poll 1000000 \
	POST_RT_VM2 >> /tmp/post_rt_vm2.log 2>&1
