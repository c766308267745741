// SPDX-License-Identifier: GPL-2.0
/*
 * The region syntax of ACRN's IVSHMEM_REGION setting, as a pure parser.
 *
 *   list   := entry { ";" entry }          (empty entries are skipped)
 *   entry  := name "," size_mb "," vmid { ":" vmid } [ "," region_id ]
 *   name   := ("hv:/" | "dm:/") 1*27(ALPHA | DIGIT | "_")
 *
 * The name rule is ACRN 3.x's (misc/config_tools/schema/types.xsd,
 * IVSHMEMRegionType NAME: pattern \w{1,27}, "letters, digits and _", the
 * \w of the configurator's JavaScript check: ASCII only); the prefix is
 * what acrn-dm's -s N,ivshmem,NAME,SIZE[,REGION_ID] puts before it. The
 * optional region ID is ACRN 3.3's IVSHMEM_REGION_ID, the guest's PCI
 * subsystem ID, 0..65535; without it a region gets the lowest free ID.
 *
 * Blanks around each field are ignored (ACRN's own examples write
 * "hv:/shm_region_0, 2, 0:2"). Rules, each with its own errno:
 *   - the name has a prefix, and something after it         -EINVAL
 *   - after it only letters, digits and "_"                  -EINVAL
 *   - at most 27 of them                                     -ENAMETOOLONG
 *   - the size is from 2 to 512 MiB                          -ERANGE
 *   - the size is a power of two                             -EINVAL
 *   - VM IDs are 0..IVSHMEM_HOST_MAX_VMID                    -ERANGE
 *   - a region ID is a decimal number (-EINVAL) up to 65535  -ERANGE
 *   - numbers are decimal (-EINVAL); one of any length beyond
 *     a field's range (past U32_MAX too) is out of range     -ERANGE
 *   - no VM twice, at least two VMs                          -EINVAL
 *   - (ADD only) RT members are members                      -EINVAL
 *   - no name twice in one list                              -EEXIST
 *   - at most as many entries as the caller has room for    -ENOSPC
 *
 * A parsed list holds the entries with a region ID first, then those
 * without, each group in list order: added in that order, an entry
 * without an ID never takes the lowest free ID that a later entry names
 * ("dm:/a,2,1:2;dm:/b,2,1:2,0" gives b ID 0 and a ID 1).
 */

#include <linux/bitops.h>
#include <linux/ctype.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/string.h>

#include <kunit/visibility.h>

#include "../compat.h"
#include "ivshmem_host_drv.h"

#define IVH_PREFIX_LEN	4	/* "hv:/" and "dm:/" */
#define IVH_NAME_MAX	27	/* after the prefix: ACRN's \w{1,27} */

static bool ivh_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Trim blanks on both ends of [*s, *s + *len). */
static void ivh_trim(const char **s, size_t *len)
{
	while (*len && ivh_blank(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && ivh_blank((*s)[*len - 1]))
		(*len)--;
}

/**
 * ivh_parse_u32() - parse a decimal number, saturating at U32_MAX
 * @s:		the digits, not necessarily NUL-terminated.
 * @len:	their number.
 * @val:	the value, or U32_MAX for any larger number.
 *
 * A number too large for a u32 is not malformed, merely out of every
 * field's range: saturating lets each field's range check refuse it with
 * ERANGE, whatever its length (a u32 parse would make it EINVAL).
 *
 * Return: 0, or -EINVAL if @s is empty or holds a byte that is no digit.
 */
static int ivh_parse_u32(const char *s, size_t len, u32 *val)
{
	u64 v = 0;
	size_t i;

	if (!len)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (!isdigit(s[i]))
			return -EINVAL;
		v = min_t(u64, v * 10 + (s[i] - '0'), U32_MAX);
	}
	*val = v;
	return 0;
}

/**
 * ivh_name_check() - check a region name against the rules
 * @name:	the name, not necessarily NUL-terminated.
 * @len:	its length in bytes.
 * @why:	set to the rule broken on failure.
 *
 * Return: 0, -EINVAL (prefix, empty or bad character) or -ENAMETOOLONG
 * (more than 27 characters after the prefix).
 */
int ivh_name_check(const char *name, size_t len, const char **why)
{
	size_t i;

	if (len < IVH_PREFIX_LEN ||
	    (strncmp(name, "hv:/", IVH_PREFIX_LEN) &&
	     strncmp(name, "dm:/", IVH_PREFIX_LEN))) {
		*why = "name must start with hv:/ or dm:/";
		return -EINVAL;
	}
	if (len == IVH_PREFIX_LEN) {
		*why = "name is empty after its prefix";
		return -EINVAL;
	}
	for (i = IVH_PREFIX_LEN; i < len; i++) {
		/* ASCII only: isalnum() would take Latin-1 letters too. */
		if (!isascii(name[i]) || (!isalnum(name[i]) && name[i] != '_')) {
			*why = "name may only hold letters, digits and '_' after its prefix";
			return -EINVAL;
		}
	}
	if (len - IVH_PREFIX_LEN > IVH_NAME_MAX) {
		*why = "name is longer than 27 characters after its prefix";
		return -ENAMETOOLONG;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_name_check);

/**
 * ivh_spec_check() - check a complete region description
 * @spec:	the region; @spec->hv is set from the prefix on success.
 * @why:	set to the rule broken on failure.
 *
 * @spec->name must be NUL-terminated within IVSHMEM_HOST_NAME_LEN.
 *
 * Return: 0 or the errno of the first rule broken (see the file header).
 */
int ivh_spec_check(struct ivh_region_spec *spec, const char **why)
{
	size_t len = strnlen(spec->name, IVSHMEM_HOST_NAME_LEN);
	int ret;

	ret = ivh_name_check(spec->name, len, why);
	if (ret)
		return ret;
	if (spec->size_mb < IVSHMEM_HOST_MIN_SIZE_MB ||
	    spec->size_mb > IVSHMEM_HOST_MAX_SIZE_MB) {
		*why = "size must be from 2 to 512 MiB";
		return -ERANGE;
	}
	if (!is_power_of_2(spec->size_mb)) {
		*why = "size must be a power of two";
		return -EINVAL;
	}
	if (hweight64(spec->members) < 2) {
		*why = "a region needs at least two member VMs";
		return -EINVAL;
	}
	if (spec->rt_members & ~spec->members) {
		*why = "an RT member is not a member";
		return -EINVAL;
	}
	if (spec->has_id && spec->region_id > IVH_REGION_ID_MAX) {
		*why = "region ID is above 65535";
		return -ERANGE;
	}
	spec->hv = !strncmp(spec->name, "hv:/", IVH_PREFIX_LEN);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_spec_check);

static int ivh_parse_members(const char *s, size_t len, u64 *members,
			     const char **why)
{
	const char *end = s + len;

	*members = 0;
	for (;;) {
		const char *colon = memchr(s, ':', end - s);
		size_t flen = (colon ? colon : end) - s;
		const char *f = s;
		u32 vmid;

		ivh_trim(&f, &flen);
		if (ivh_parse_u32(f, flen, &vmid)) {
			*why = "a VM ID is not a decimal number";
			return -EINVAL;
		}
		if (vmid > IVSHMEM_HOST_MAX_VMID) {
			*why = "a VM ID is above 63";
			return -ERANGE;
		}
		if (*members & BIT_ULL(vmid)) {
			*why = "a VM ID is listed twice";
			return -EINVAL;
		}
		*members |= BIT_ULL(vmid);
		if (!colon)
			return 0;
		s = colon + 1;
	}
}

/**
 * ivh_parse_region() - parse one "name,size_mb,vmid:vmid[,region_id]" entry
 * @s:		the entry, not necessarily NUL-terminated.
 * @len:	its length.
 * @spec:	output, valid only on success.
 * @why:	set to the rule broken on failure.
 *
 * Return: 0 or a negative errno (see the file header).
 */
int ivh_parse_region(const char *s, size_t len, struct ivh_region_spec *spec,
		     const char **why)
{
	const char *end = s + len, *c1, *c2, *c3, *f;
	size_t flen;
	int ret;

	memset(spec, 0, sizeof(*spec));
	c1 = memchr(s, ',', len);
	c2 = c1 ? memchr(c1 + 1, ',', end - c1 - 1) : NULL;
	c3 = c2 ? memchr(c2 + 1, ',', end - c2 - 1) : NULL;
	if (!c1 || !c2 || (c3 && memchr(c3 + 1, ',', end - c3 - 1))) {
		*why = "expected name,size_mb,vmid:vmid[,region_id]";
		return -EINVAL;
	}

	f = s;
	flen = c1 - s;
	ivh_trim(&f, &flen);
	ret = ivh_name_check(f, flen, why);
	if (ret)
		return ret;
	memcpy(spec->name, f, flen);

	f = c1 + 1;
	flen = c2 - f;
	ivh_trim(&f, &flen);
	if (ivh_parse_u32(f, flen, &spec->size_mb)) {
		*why = "size is not a decimal number of MiB";
		return -EINVAL;
	}

	ret = ivh_parse_members(c2 + 1, (c3 ? c3 : end) - c2 - 1,
				&spec->members, why);
	if (ret)
		return ret;

	if (c3) {
		f = c3 + 1;
		flen = end - f;
		ivh_trim(&f, &flen);
		if (ivh_parse_u32(f, flen, &spec->region_id)) {
			*why = "region ID is not a decimal number";
			return -EINVAL;
		}
		spec->has_id = true;
	}

	return ivh_spec_check(spec, why);
}
EXPORT_SYMBOL_IF_KUNIT(ivh_parse_region);

/*
 * Stable partition of @specs: those with a region ID first. Insertion by
 * swaps, at most IVH_MAX_REGIONS^2 / 4 of them, at load only.
 */
static void ivh_ids_first(struct ivh_region_spec *specs, unsigned int nr)
{
	unsigned int done = 0, i, j;

	for (i = 0; i < nr; i++) {
		if (!specs[i].has_id)
			continue;
		for (j = i; j > done; j--)
			swap(specs[j], specs[j - 1]);
		done++;
	}
}

/**
 * ivh_parse_regions() - parse a ";"-separated list of regions
 * @list:	NUL-terminated list (a module parameter), may be NULL.
 * @specs:	output array.
 * @max:	entries in @specs.
 * @nr:		set to the number of regions parsed.
 * @err:	where and why it failed.
 *
 * On success @specs holds the entries with a region ID first, then those
 * without, each group in list order, so that adding them in that order
 * gives no entry without an ID the ID a later entry asks for.
 *
 * Context: any; does not sleep.
 * Return: 0 or the errno of the first failing entry (@err->entry counts
 * entries as written); @specs then holds nothing the caller should use.
 */
int ivh_parse_regions(const char *list, struct ivh_region_spec *specs,
		      unsigned int max, unsigned int *nr,
		      struct ivh_config_error *err)
{
	unsigned int entry = 0, i;
	const char *s = list;
	int ret;

	*nr = 0;
	if (!list)
		return 0;

	for (;; entry++) {
		const char *semi = strchr(s, ';');
		size_t len = semi ? (size_t)(semi - s) : strlen(s);
		const char *e = s;
		size_t elen = len;

		ivh_trim(&e, &elen);
		if (elen) {
			err->entry = entry;
			if (*nr == max) {
				err->why = "too many regions";
				return -ENOSPC;
			}
			ret = ivh_parse_region(e, elen, &specs[*nr], &err->why);
			if (ret)
				return ret;
			for (i = 0; i < *nr; i++) {
				if (!strcmp(specs[i].name, specs[*nr].name)) {
					err->why = "name is used twice";
					return -EEXIST;
				}
			}
			(*nr)++;
		}
		if (!semi)
			break;
		s = semi + 1;
	}
	ivh_ids_first(specs, *nr);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_parse_regions);
