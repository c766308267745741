#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check: install what is missing, build the debug kernel (cached),
# build the modules for the debug and the stock Debian kernel, and run
# KUnit and the end-to-end tests in QEMU guests. Ends with one line
# "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# ivt.py prints the wall time since here just before its last line,
# which stays "N passed, N failed".
IVT_T0=$(date +%s)
export IVT_T0
./tests/deps.sh
kdir=$(./tests/kernel/build.sh)
exec python3 tests/harness/ivt.py --debug-kdir "$kdir" "$@"
