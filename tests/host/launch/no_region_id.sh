#!/bin/bash
# Launch script for VM name: POST_STD_VM1
# SPDX-License-Identifier: GPL-2.0
# Test input of "ivshmem-admin check": the launch script of a generator
# without region IDs (ACRN #8645, before #8646): acrn-dm then gives each
# device region ID 0. Against hybrid_rt.xml, dm:/shm_dm_rt (2) and
# dm:/data_path_3 (300) disagree; hv:/no_id's ID is 0 and agrees.
dm_params=(
    -m 1024M
    `add_virtual_device                       9 ivshmem dm:/shm_dm_rt,4`
    `add_virtual_device                       10 ivshmem dm:/data_path_3,16`
    `add_virtual_device                       11 ivshmem hv:/no_id,8`
    POST_STD_VM1
)
acrn-dm "${dm_params[@]}"
