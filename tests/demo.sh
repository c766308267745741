#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo: install what is missing, build the modules for Debian's stock
# kernel, and boot QEMU guests that show shared memory and a doorbell.
set -euo pipefail
cd "$(dirname "$0")/.."
./tests/deps.sh
exec python3 tests/harness/ivt.py --demo
