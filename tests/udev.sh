#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# udev rules test on the host, without the hardware: in a private mount
# namespace, /sys, /dev, /run and the rules directories are replaced by
# tmpfs; a fake sysfs holds two ivshmem class devices under PCI parents,
# an ACRN one (region_id 5) and a QEMU one (no region_id), and
# "udevadm test" runs udev/90-ivshmem.rules (then with the group example
# 91-ivshmem-group.rules.example) on them for real: links and node
# permissions land in the private /dev. systemd's own udev tests use the
# same SYSTEMD_DEVICE_VERIFY_SYSFS=0 switch to accept a fake sysfs.
# The QEMU guest test (tests/harness/ivt_packaging.py) checks the rules
# against the real driver. Prints "ok"/"not ok" lines; needs root.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

if [ "${IVSHMEM_UDEV_NS:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ] || ! command -v udevadm >/dev/null; then
		echo "not ok - udev test needs root and udevadm"
		echo "# udev: 0 passed, 1 failed"
		exit 1
	fi
	IVSHMEM_UDEV_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi

. tests/tap.sh
# In the namespace from here on; nothing below is visible outside.
tmp=$(mktemp -d /tmp/ivshmem-udev.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp -a udev "$tmp/udev"
grep -v '^ivshmem:' /etc/group > "$tmp/group"
echo 'ivshmem:x:4242:' >> "$tmp/group"
for d in /sys /dev /run /etc/udev /usr/lib/udev/rules.d /lib/udev/rules.d \
	 /usr/local/lib/udev/rules.d; do
	[ -d "$d" ] && mount -t tmpfs ivshmem-udev-test "$d"
done
mount --bind "$tmp/group" /etc/group
mkdir -p /etc/udev/rules.d /sys/bus/pci /sys/class/ivshmem
cp "$tmp/udev/90-ivshmem.rules" /lib/udev/rules.d/

# fake_dev N BDF [REGION]: /sys/class/ivshmem/ivshmemN under PCI BDF,
# char device 240:N, with region_id only if REGION is given
fake_dev() {
	local pci=/sys/devices/pci0000:00/$2 d
	d=$pci/ivshmem/ivshmem$1
	mkdir -p "$d"
	[ -e /sys/devices/pci0000:00/uevent ] ||
		: > /sys/devices/pci0000:00/uevent
	printf 'PCI_CLASS=50000\nPCI_ID=1AF4:1110\nPCI_SLOT_NAME=%s\n' "$2" \
		> "$pci/uevent"
	ln -s ../../../bus/pci "$pci/subsystem"
	printf 'MAJOR=240\nMINOR=%s\nDEVNAME=ivshmem%s\n' "$1" "$1" \
		> "$d/uevent"
	echo "240:$1" > "$d/dev"
	echo 16777216 > "$d/size"
	ln -s ../../../../class/ivshmem "$d/subsystem"
	[ -n "${3:-}" ] && echo "$3" > "$d/region_id"
	ln -s "../../devices/pci0000:00/$2/ivshmem/ivshmem$1" \
		"/sys/class/ivshmem/ivshmem$1"
	mknod -m 0666 "/dev/ivshmem$1" c 240 "$1"
}

# run_udev N ACTION: udevadm test on ivshmemN; log in $tmp/udev-N-ACTION
run_udev() {
	SYSTEMD_DEVICE_VERIFY_SYSFS=0 SYSTEMD_LOG_LEVEL=debug \
		udevadm test --action="$2" "/sys/class/ivshmem/ivshmem$1" \
		> "$tmp/udev-$1-$2" 2>&1
}

# perms DEV: "mode owner:group" of a device node
perms() {
	stat -c '%a %U:%G' "$1" 2>&1
}

fake_dev 0 0000:00:04.0 5
fake_dev 1 0000:00:05.0

ok_if "udevadm test on the ACRN device (region 5)" run_udev 0 add
ok_if "udevadm test on the QEMU device (no region_id)" run_udev 1 add
bad=$(grep -hE '90-ivshmem\.rules:[0-9]+.*(Invalid|invalid|Unknown|unknown|ignoring|error)' \
	"$tmp"/udev-* | head -3)
eq "90-ivshmem.rules parses without complaints" "$bad" ""
eq "by-region/5 -> the ACRN device" \
	"$(readlink /dev/ivshmem/by-region/5)" ../../ivshmem0
eq "by-path/pci-0000:00:04.0 -> the ACRN device" \
	"$(readlink /dev/ivshmem/by-path/pci-0000:00:04.0)" ../../ivshmem0
eq "by-path/pci-0000:00:05.0 -> the QEMU device" \
	"$(readlink /dev/ivshmem/by-path/pci-0000:00:05.0)" ../../ivshmem1
eq "no by-region link for the QEMU device" \
	"$(ls /dev/ivshmem/by-region 2>/dev/null)" 5
eq "default permissions (ACRN device)" "$(perms /dev/ivshmem0)" "600 root:root"
eq "default permissions (QEMU device)" "$(perms /dev/ivshmem1)" "600 root:root"

cp "$tmp/udev/91-ivshmem-group.rules.example" \
	/etc/udev/rules.d/91-ivshmem-group.rules
ok_if "udevadm test with the group example installed" run_udev 0 add
eq "the group example grants group ivshmem 0660" \
	"$(perms /dev/ivshmem0)" "660 root:ivshmem"
eq "links unchanged with the group example" \
	"$(readlink /dev/ivshmem/by-region/5)" ../../ivshmem0

ok_if "udevadm test --action=remove on the ACRN device" run_udev 0 remove
ok_if "remove drops by-region/5" test ! -e /dev/ivshmem/by-region/5 -a \
	! -L /dev/ivshmem/by-region/5
ok_if "remove drops by-path/pci-0000:00:04.0" \
	test ! -L /dev/ivshmem/by-path/pci-0000:00:04.0
eq "the QEMU device's link stays" \
	"$(readlink /dev/ivshmem/by-path/pci-0000:00:05.0)" ../../ivshmem1

finish udev
