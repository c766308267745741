# Helpers sourced by the guest-side test scripts (busybox sh).

# t DESCRIPTION COMMAND...: run COMMAND, print "ok - D" or "not ok - D".
t() {
	_d=$1
	shift
	if "$@"; then
		echo "ok - $_d"
	else
		echo "not ok - $_d"
	fi
}

# eq DESCRIPTION GOT WANT
eq() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1: got '$2', want '$3'"
	fi
}

# sha FILE-OR-STDIN: print only the hash
sha() {
	sha256sum "$@" | cut -d' ' -f1
}

# dev_by_size SIZE: the /dev node of the ivshmem device with that size
dev_by_size() {
	for _s in /sys/class/ivshmem/ivshmem*; do
		if [ "$(cat "$_s/size")" = "$1" ]; then
			echo "/dev/${_s##*/}"
			return 0
		fi
	done
	return 1
}

# pci_of DEV: the PCI address of /dev/ivshmemN
pci_of() {
	basename "$(readlink "/sys/class/ivshmem/${1##*/}/device")"
}
