#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ivshmem-admin's scenario reader, on the build machine (pure userspace,
# no module): "load" with libxml2 against tests/host/scenarios/ and
# variants of hybrid_rt.xml broken one rule at a time. Each malformed
# file must be refused with exit 1 and a message naming the file, the
# line and the element, before the device is ever opened (the device
# node given is one that does not exist, so an open would show).
#
# The guest has no libxml2 (its ivshmem-admin is static, built without
# it: the shared libraries would add 18 MB to the initramfs, see
# Documentation/host.rst). So this script also writes, into OUT, what
# the guest phase of tests/host/e2e.sh feeds the same ioctl path with:
#   OUT/plan   "load -n" of hybrid_rt.xml: one create SPEC per line
#   OUT/vms    -V NAME=ID options for the scenario's VMs ("vms")
#
# Usage: admin_host.sh [--plan-only] OUT; prints "ok - ", "not ok - "
# lines. --plan-only writes OUT/plan and OUT/vms with the checks of the
# good scenario only (the harness runs the malformed files, 4 s, on one
# flavour: they do not depend on the kernel).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
plan_only=
if [ "${1:-}" = --plan-only ]; then
	plan_only=1
	shift
fi
OUT=${1:?usage: admin_host.sh [--plan-only] OUT}
SCN=$ROOT/tests/host/scenarios
mkdir -p "$OUT/bad"
ADM=$OUT/ivshmem-admin
export IVSHMEM_HOST_DEV=/nonexistent/ivshmem_host
fails=0

ok() { echo "ok - admin_host: $*"; }
nok() { echo "not ok - admin_host: $*"; fails=$((fails + 1)); }

# The dynamic build with libxml2, as samples/ivshmem-admin/Makefile and
# the Debian package make it (here into OUT, not the source tree).
if ! out=$(gcc -O2 -Wall -Wextra -Werror -I"$ROOT/uapi" -DIVSHMEM_ADMIN_XML \
		$(pkg-config --cflags libxml-2.0) -o "$ADM" \
		"$ROOT/samples/ivshmem-admin/ivshmem-admin.c" \
		$(pkg-config --libs libxml-2.0) 2>&1); then
	nok "ivshmem-admin builds with libxml2 (-Werror): $out"
	exit 1
fi
if ldd "$ADM" | grep -q 'libxml2\.so'; then
	ok "ivshmem-admin builds -Werror, linked to libxml2.so dynamically"
else
	nok "ivshmem-admin is not linked to libxml2.so: $(ldd "$ADM" | tr '\n' ' ')"
fi

# The good scenario: the regions as create SPECs, members by VM ID, RTVMs
# marked, hv:/ and dm:/ from PROVIDED_BY, no IVSHMEM_REGION_ID = 0.
want='hv:/shm_region_0,2,0=rt:2,1
dm:/shm_dm_rt,4,2:5=rt,2
dm:/data_path_3,16,1:2:5=rt,300
hv:/no_id,8,1:2,0'
got=$("$ADM" load -n "$SCN/hybrid_rt.xml" 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ "$got" = "$want" ]; then
	ok "load -n hybrid_rt.xml: 4 regions (IDs 1, 2, 300 and 0 by default, RTVMs 0 and 5)"
else
	nok "load -n hybrid_rt.xml: exit $rc, got '$got'"
fi
printf '%s\n' "$got" > "$OUT/plan"
got=$("$ADM" -s "$SCN/hybrid_rt.xml" vms 2>&1)
want='ID  NAME            RTVM
0   PRE_RT_VM0      yes
1   ACRN_Service_VM no
2   POST_STD_VM1    no
5   POST_RT_VM2     yes'
if [ "$got" = "$want" ]; then
	ok "-s hybrid_rt.xml vms: the <vm id> and <name> table, RTVMs marked"
else
	nok "-s hybrid_rt.xml vms: got '$got'"
fi
printf '%s\n' "$got" | awk 'NR > 1 { printf "-V %s=%s ", $2, $1 }' > "$OUT/vms"
if [ -n "$plan_only" ]; then
	echo "# admin_host.sh --plan-only: $fails failed"
	[ "$fails" -eq 0 ]
	exit
fi
got=$("$ADM" load -n "$SCN/shared_empty.xml" 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -z "$got" ]; then
	ok "load -n shared_empty.xml (<IVSHMEM/>): no regions, exit 0"
else
	nok "load -n shared_empty.xml: exit $rc, got '$got'"
fi
# A good file really tries the device, and only after reading it all.
got=$("$ADM" load "$SCN/hybrid_rt.xml" 2>&1)
rc=$?
if [ $rc -eq 1 ] && [ "$got" = "ivshmem-admin: $IVSHMEM_HOST_DEV: No such file or directory" ]; then
	ok "load hybrid_rt.xml opens the device after checking (exit 1 without one)"
else
	nok "load hybrid_rt.xml without a device: exit $rc, '$got'"
fi
# Members by name in create: resolved before the device is opened.
got=$("$ADM" -s "$SCN/hybrid_rt.xml" create dm:/x,2,POST_STD_VM1:NO_SUCH_VM 2>&1)
if [ $? -eq 1 ] && [ "$got" = 'ivshmem-admin: dm:/x,2,POST_STD_VM1:NO_SUCH_VM: no VM is named "NO_SUCH_VM"' ]; then
	ok "create with an unknown VM name: refused before the device is opened"
else
	nok "create with an unknown VM name: '$got'"
fi
got=$("$ADM" create dm:/x,2,1:POST_STD_VM1 2>&1)
case $got in
*'no VM is named "POST_STD_VM1" (name VMs with -s SCENARIO.xml or -V NAME=ID)') ok "create by VM name without -s or -V: refused, says how to name VMs" ;;
*) nok "create by VM name without -s or -V: '$got'" ;;
esac

# refused DESC FILE LINE ELEMENT TEXT: load FILE fails with exit 1 and
# exactly one message "FILE:LINE: ELEMENT: ...TEXT...", on stderr, before
# any open of the device; LINE "-" takes any line.
refused() {
	desc=$1 file=$2 line=$3 elem=$4 text=$5
	out=$("$ADM" load "$file" 2>"$OUT/err")
	rc=$?
	err=$(cat "$OUT/err")
	[ "$line" = - ] && line='[0-9]*'
	# shellcheck disable=SC2254
	case $err in
	"$file":$line": $elem: "*"$text"*) match=1 ;;
	*) match= ;;
	esac
	if [ $rc -ne 1 ]; then
		nok "refused: $desc: exit $rc ($err)"
	elif [ -n "$out" ]; then
		nok "refused: $desc: printed '$out'"
	elif [ -z "$match" ] || [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then
		nok "refused: $desc: '$err', want '$file:$3: $elem: ...$text...'"
	elif printf '%s' "$err" | grep -q nonexistent; then
		nok "refused: $desc: the device was opened ($err)"
	else
		ok "refused: $desc (${err#"$file":})"
	fi
}

# variant NAME PERL-EXPRESSION: hybrid_rt.xml with one change, in OUT/bad.
variant() {
	perl -0pe "$2" "$SCN/hybrid_rt.xml" > "$OUT/bad/$1.xml"
	if cmp -s "$SCN/hybrid_rt.xml" "$OUT/bad/$1.xml"; then
		nok "variant $1: the expression changed nothing"
	fi
	V=$OUT/bad/$1.xml
}

# lineof FILE PATTERN [N]: the line of the Nth match (default 1).
lineof() {
	grep -n -- "$2" "$1" | sed -n "${3:-1}p" | cut -d: -f1
}

# Not XML: the message names the file and line, no element.
err=$("$ADM" load "$SCN/not_xml.xml" 2>&1)
case $err in
"$SCN/not_xml.xml:1: not a well-formed XML file: Start tag expected"*) ok "refused: not XML: names the file and line 1" ;;
*) nok "refused: not XML: '$err'" ;;
esac

variant truncated 's/\s*<\/acrn-config>\s*$//'
err=$("$ADM" load "$V" 2>&1)
case $err in
"$V":*": not a well-formed XML file: "*) ok "refused: truncated file (${err#"$V":})" ;;
*) nok "refused: truncated file: '$err'" ;;
esac
variant unclosed 's/<NAME>shm_dm_rt<\/NAME>/<NAME>shm_dm_rt<\/NAMES>/'
err=$("$ADM" load "$V" 2>&1)
case $err in
"$V:$(lineof "$V" NAMES):"*"not a well-formed XML file: "*) ok "refused: mismatched end tag, at its line" ;;
*) nok "refused: mismatched end tag: '$err'" ;;
esac
variant root 's/acrn-config/acrn-configs/g'
refused "root element not acrn-config" "$V" "$(lineof "$V" '<acrn-configs ')" acrn-configs "not acrn-config"
variant no_ivshmem 's/<IVSHMEM>.*<\/IVSHMEM>//s'
refused "no IVSHMEM element" "$V" "$(lineof "$V" '<FEATURES>')" FEATURES "has no IVSHMEM element"
variant two_ivshmem 's/(<IVSHMEM>)/<IVSHMEM\/>\n$1/'
refused "IVSHMEM twice" "$V" "$(lineof "$V" '<IVSHMEM>')" IVSHMEM "given twice in FEATURES"
variant no_name 's/<NAME>shm_dm_rt<\/NAME>//'
refused "region without NAME" "$V" "$(lineof "$V" '<IVSHMEM_REGION>' 2)" IVSHMEM_REGION "has no NAME element"
variant name_twice 's/(<NAME>shm_dm_rt<\/NAME>)/$1<NAME>b<\/NAME>/'
refused "NAME twice" "$V" "$(lineof "$V" '<NAME>b<')" NAME "given twice in IVSHMEM_REGION (first at line $(lineof "$V" '<NAME>shm_dm_rt'))"
variant name_dash 's/shm_dm_rt/shm-dm-rt/'
refused "'-' in a name (ACRN's \\w{1,27})" "$V" "$(lineof "$V" shm-dm-rt)" NAME "\"shm-dm-rt\" may only hold letters, digits and '_'"
variant name_dot 's/shm_dm_rt/shm.dm/'
refused "'.' in a name" "$V" "$(lineof "$V" shm.dm)" NAME "may only hold letters, digits and '_'"
variant name_utf8 's/shm_dm_rt/shm_\x{c3}\x{a9}/'
refused "a non-ASCII letter in a name" "$V" "$(lineof "$V" '<NAME>shm_.*</NAME>' 2)" NAME "may only hold letters, digits and '_'"
variant name_28 's/shm_dm_rt/a234567890123456789012345678/'
refused "a 28-character name" "$V" "$(lineof "$V" a2345678901)" NAME "longer than 27 characters"
variant name_empty 's/<NAME>shm_dm_rt<\/NAME>/<NAME> <\/NAME>/'
refused "an empty name" "$V" "$(lineof "$V" '<NAME> </NAME>')" NAME "is empty"
variant name_dup 's/<NAME>data_path_3</<NAME>shm_dm_rt</'
refused "a name used twice (same provider)" "$V" "$(lineof "$V" '<NAME>shm_dm_rt' 2)" NAME "dm:/shm_dm_rt is also the name of the region at line $(lineof "$V" '<IVSHMEM_REGION>' 2)"
variant provider 's/Device Model/Device model/'
refused "PROVIDED_BY 'Device model' (ACRN #7234's typo)" "$V" "$(lineof "$V" 'Device model')" PROVIDED_BY "neither \"Hypervisor\" nor \"Device Model\""
variant size3 's/<IVSHMEM_SIZE>4</<IVSHMEM_SIZE>3</'
refused "size 3" "$V" "$(lineof "$V" '<IVSHMEM_SIZE>3')" IVSHMEM_SIZE "\"3\" is not a size in MiB: a power of 2 from 2 to 512"
variant size1024 's/<IVSHMEM_SIZE>4</<IVSHMEM_SIZE>1024</'
refused "size 1024" "$V" "$(lineof "$V" 1024)" IVSHMEM_SIZE "\"1024\" is not a size"
variant size_big 's/<IVSHMEM_SIZE>4</<IVSHMEM_SIZE>4294967298</'
refused "size 2^32 + 2" "$V" "$(lineof "$V" 4294967298)" IVSHMEM_SIZE "is not a size"
variant size_word 's/<IVSHMEM_SIZE>4</<IVSHMEM_SIZE>four</'
refused "size 'four'" "$V" "$(lineof "$V" '>four<')" IVSHMEM_SIZE "\"four\" is not a size"
variant size_missing 's/<IVSHMEM_SIZE>4<\/IVSHMEM_SIZE>//'
refused "region without IVSHMEM_SIZE" "$V" "$(lineof "$V" '<IVSHMEM_REGION>' 2)" IVSHMEM_REGION "has no IVSHMEM_SIZE element"
variant size_typo 's/<IVSHMEM_SIZE>4<\/IVSHMEM_SIZE>/<IVSHMEM_SIZES>4<\/IVSHMEM_SIZES>/'
refused "an unknown element (IVSHMEM_SIZES)" "$V" "$(lineof "$V" IVSHMEM_SIZES)" IVSHMEM_SIZES "is not an element of IVSHMEM_REGION"
variant id_dup 's/<IVSHMEM_REGION_ID>2</<IVSHMEM_REGION_ID>1</'
refused "a region ID used twice" "$V" "$(lineof "$V" '<IVSHMEM_REGION_ID>1<' 2)" IVSHMEM_REGION_ID "region ID 1 is also the ID of hv:/shm_region_0 (line $(lineof "$V" '<IVSHMEM_REGION>'))"
variant id_default_dup 's/<IVSHMEM_REGION_ID>2<\/IVSHMEM_REGION_ID>//'
refused "two regions without IVSHMEM_REGION_ID (both 0)" "$V" "$(lineof "$V" '<IVSHMEM_REGION>' 4)" IVSHMEM_REGION "region ID 0 is also the ID of dm:/shm_dm_rt (line $(lineof "$V" '<IVSHMEM_REGION>' 2)); without IVSHMEM_REGION_ID a region's ID is 0"
variant id_65536 's/<IVSHMEM_REGION_ID>2</<IVSHMEM_REGION_ID>65536</'
refused "region ID 65536" "$V" "$(lineof "$V" 65536)" IVSHMEM_REGION_ID "\"65536\" is not a region ID from 0 to 65535"
variant id_hex 's/<IVSHMEM_REGION_ID>2</<IVSHMEM_REGION_ID>0x2</'
refused "region ID 0x2" "$V" "$(lineof "$V" 0x2)" IVSHMEM_REGION_ID "\"0x2\" is not a region ID"
variant no_vms 's/(<IVSHMEM_REGION_ID>2<\/IVSHMEM_REGION_ID>).*?<\/IVSHMEM_VMS>/$1/s'
refused "region without IVSHMEM_VMS" "$V" "$(lineof "$V" '<IVSHMEM_REGION>' 2)" IVSHMEM_REGION "has no IVSHMEM_VMS element"
variant one_vm 's/<IVSHMEM_VM>\s*<VM_NAME>POST_RT_VM2<\/VM_NAME>\s*<VBDF>00:09.0<\/VBDF>\s*<\/IVSHMEM_VM>//'
refused "a region with one VM" "$V" "$(lineof "$V" '<IVSHMEM_VMS>' 2)" IVSHMEM_VMS "at least two VMs (has 1)"
variant vm_unknown 's/POST_RT_VM2<\/VM_NAME>/POST_RT_VM9<\/VM_NAME>/'
refused "an unknown VM name" "$V" "$(lineof "$V" POST_RT_VM9)" VM_NAME "no <vm> of the scenario is named \"POST_RT_VM9\""
variant vm_twice 's/POST_RT_VM2<\/VM_NAME>/POST_STD_VM1<\/VM_NAME>/'
refused "a VM twice in a region" "$V" "$(lineof "$V" '<VM_NAME>POST_STD_VM1' 3)" VM_NAME "POST_STD_VM1 is listed twice"
variant vm_no_name 's/<VM_NAME>POST_RT_VM2<\/VM_NAME>//'
refused "IVSHMEM_VM without VM_NAME" "$V" "$(lineof "$V" '<IVSHMEM_VM>' 4)" IVSHMEM_VM "has no VM_NAME element"
variant too_many 's/(<IVSHMEM_VMS>)/$1 . ("<IVSHMEM_VM><VM_NAME>PRE_RT_VM0<\/VM_NAME><\/IVSHMEM_VM>\n" x 65)/e'
refused "65 VMs in a region" "$V" "$(lineof "$V" '<IVSHMEM_VM><VM_NAME>' 65)" IVSHMEM_VM "too many VMs in one region (at most 64)"
variant vbdf 's/00:09.0/00:29.0/'
refused "a bad VBDF" "$V" "$(lineof "$V" 00:29.0)" VBDF "\"00:29.0\" is not a virtual BDF"
variant vm_id_64 's/<vm id="5">/<vm id="64">/'
refused "vm id 64" "$V" "$(lineof "$V" 'vm id="64"')" vm "id \"64\" is not a VM ID from 0 to 63"
variant vm_no_id 's/<vm id="5">/<vm>/'
refused "vm without id" "$V" "$(lineof "$V" '<vm>')" vm "has no id attribute"
variant vm_id_dup 's/<vm id="5">/<vm id="2">/'
refused "two vms with one id" "$V" "$(lineof "$V" '<vm id="2">' 2)" vm "id 2 is also the ID of POST_STD_VM1"
variant vm_name_dup 's/<name>POST_RT_VM2</<name>POST_STD_VM1</'
refused "two vms with one name" "$V" "$(lineof "$V" '<name>POST_STD_VM1' 2)" name "POST_STD_VM1 is also the name of VM 2"
variant vm_name_bad 's/<name>POST_RT_VM2</<name>POST RT VM2</'
refused "a VM name with blanks" "$V" "$(lineof "$V" 'POST RT VM2')" name "is not a VM name"
variant vm_no_name_el 's/<name>POST_RT_VM2<\/name>//'
refused "vm without name" "$V" "$(lineof "$V" '<vm id="5">')" vm "has no name element"
variant nested 's/<IVSHMEM_SIZE>4</<IVSHMEM_SIZE><x\/>4</'
refused "an element inside a value" "$V" "$(lineof "$V" '<x/>')" IVSHMEM_SIZE "holds an element (x)"
# Hostile: an external entity is neither fetched nor expanded.
variant xxe 's/^(<\?xml[^\n]*\n)/$1<!DOCTYPE acrn-config [ <!ENTITY x SYSTEM "file:\/\/\/etc\/hostname"> ]>\n/; s/<NAME>shm_dm_rt</<NAME>&x;</'
refused "an external entity in NAME (not expanded)" "$V" "$(lineof "$V" '&x;')" NAME "holds an entity reference"
# Nothing was added anywhere: with no device, nothing could be.
echo "# admin_host.sh: $fails failed"
[ "$fails" -eq 0 ]
