#!/bin/busybox sh
# /init of the test initramfs: mount the basics, run /test.sh, dump the
# kernel log between markers for the harness, then power off.
# The busybox applet links are in /bin already (the harness made them).
export PATH=/usr/bin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# Only errors on the console while tests print; the full log is dumped at
# the end and scanned by the harness.
echo 4 > /proc/sys/kernel/printk
[ -w /sys/kernel/debug/kmemleak ] && echo clear > /sys/kernel/debug/kmemleak
up() { cut -d' ' -f1 /proc/uptime; }
echo "IVT-BOOTED $(uname -r) at $(up) s"
sh /test.sh
rc=$?
t_script=$(up)
if [ -w /sys/kernel/debug/kmemleak ]; then
	# kmemleak reports an object only when a scan finds it unreferenced
	# with the same checksum as the scan before and older than 5 s: two
	# scans, the second at least 6 s after the script ended. The first
	# scan (about 5 s in a 256 MiB guest under TCG) counts towards the
	# 6 s; sleep only what is left. It cannot start before the script
	# ends: a scan records the checksum only of objects it finds
	# unreferenced, so an object leaked after it would look changed to
	# the second scan and go unreported. (Checked: a kmalloc leaked by
	# the script's last rmmod fails the boot on both debug kernels.)
	t0=$(cut -d. -f1 /proc/uptime)
	echo scan > /sys/kernel/debug/kmemleak
	left=$((t0 + 6 - $(cut -d. -f1 /proc/uptime)))
	[ "$left" -gt 0 ] && sleep "$left"
	echo scan > /sys/kernel/debug/kmemleak
	echo "IVT-KMEMLEAK-BEGIN"
	cat /sys/kernel/debug/kmemleak
	echo "IVT-KMEMLEAK-END"
fi
echo "IVT-TIMES script ended at $t_script s, kmemleak done at $(up) s"
echo "IVT-DMESG-BEGIN"
dmesg
echo "IVT-DMESG-END"
echo "IVT-EXIT $rc"
sync
reboot -f
