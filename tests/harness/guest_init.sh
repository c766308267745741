#!/bin/busybox sh
# /init of the test initramfs: mount the basics, run /test.sh, dump the
# kernel log between markers for the harness, then power off.
/bin/busybox --install -s /bin
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
echo "IVT-BOOTED $(uname -r)"
sh /test.sh
rc=$?
if [ -w /sys/kernel/debug/kmemleak ]; then
	# kmemleak reports only objects older than 5 s; scan after that.
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	echo scan > /sys/kernel/debug/kmemleak
	echo "IVT-KMEMLEAK-BEGIN"
	cat /sys/kernel/debug/kmemleak
	echo "IVT-KMEMLEAK-END"
fi
echo "IVT-DMESG-BEGIN"
dmesg
echo "IVT-DMESG-END"
echo "IVT-EXIT $rc"
sync
reboot -f
