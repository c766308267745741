#!/bin/bash
# Launch script for VM name: POST_STD_VM1
# SPDX-License-Identifier: GPL-2.0
# Test input of "ivshmem-admin check": a launch script in the shape of
# ACRN's generated ones (launch_cfg_gen.py: a dm_params array of
# add_virtual_device calls, acrn-dm "${dm_params[@]}", the VM name last),
# for POST_STD_VM1 of tests/host/scenarios/hybrid_rt.xml. Agrees with it.

function add_virtual_device() {
    echo -n "-s ${1},${2}"
    [ -n "${3}" ] && echo -n ",${3}"
}

dm_params=(
    `add_cpus                                 3 4`
    -m 1024M
    `add_virtual_device                       1:0 lpc`
    `add_virtual_device                       0:0 hostbridge`
    `add_virtual_device                       8 ivshmem hv:/shm_region_0,2,1`
    `add_virtual_device                       9 ivshmem dm:/shm_dm_rt,4,2`
    `add_virtual_device                       10 ivshmem dm:/data_path_3,16,300`
    `add_virtual_device                       11 ivshmem hv:/no_id,8,0`
    `add_virtual_device                       12 virtio-blk /home/acrn/uos.img`
    POST_STD_VM1
)

echo "Launch device model with parameters: ${dm_params[@]}"
acrn-dm "${dm_params[@]}"
