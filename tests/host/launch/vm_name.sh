#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Test input of "ivshmem-admin check": the VM name of the launch script
# is not the scenario's (ACRN #8234: "POST_STD_VM_1" where the scenario
# says POST_STD_VM1), so no region of the scenario has it as a member.
# The pipe and the redirection after the name are not the name.
acrn-dm -m 1024M -s 0:0,hostbridge -s 8,ivshmem,hv:/shm_region_0,2,1 POST_STD_VM_1 2>&1 | logger -t acrn-dm
