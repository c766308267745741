#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check: install what is missing, build the debug kernels (cached),
# build the modules for every kernel of the matrix (6.1 and 6.12: debug,
# Debian's stock and PREEMPT_RT), and run KUnit and the end-to-end tests
# in QEMU guests. Ends with one line
# "N passed, N failed, N skipped"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# ivt.py prints the wall time since here just before its last line,
# which stays "N passed, N failed, N skipped".
IVT_T0=$(date +%s)
export IVT_T0
./tests/deps.sh
# The harness builds (or reuses) the debug kernels its flavours need.
exec python3 tests/harness/ivt.py "$@"
