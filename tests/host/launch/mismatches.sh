#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Test input of "ivshmem-admin check": one launch line for POST_RT_VM2
# (VM 5) of tests/host/scenarios/hybrid_rt.xml with six mismatches:
#   8:  hv:/shm_region_0 is VMs 0 and 2 only (VM 5 not a member)
#   9:  dm:/shm_dm_rt is 4 MiB, not 8
#   10: dm:/shm_region_9 does not exist
#   11: hv:/data_path_3 does not exist (dm:/data_path_3 does)
#   12: shm_region_0 without hv:/ or dm:/
#   13: region ID "x" (acrn-dm would take 0; the registry has 2)
acrn-dm -m 512M \
	-s 8,ivshmem,hv:/shm_region_0,2,1 \
	-s 9,ivshmem,dm:/shm_dm_rt,8,2 \
	-s 10,ivshmem,dm:/shm_region_9,2,9 \
	-s 11,ivshmem,hv:/data_path_3,16,300 \
	-s 12,ivshmem,shm_region_0,2 \
	-s13,ivshmem,dm:/shm_dm_rt,4,x \
	POST_RT_VM2
