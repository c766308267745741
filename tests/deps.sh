#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the build and the tests need, if missing.
set -euo pipefail

pkgs=(
	build-essential bc bison flex libelf-dev libssl-dev cpio gzip kmod
	rsync python3 xz-utils
	linux-source-6.1 linux-headers-amd64 linux-image-amd64
	qemu-system-x86 busybox-static
	sparse coccinelle dkms udev
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "[deps] installing: ${missing[*]}"
	if [ "$(id -u)" != 0 ]; then
		echo "[deps] not root: run as root or install them yourself" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
