// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem-admin: drive ivshmem_host.ko (/dev/ivshmem_host) from a shell.
 *
 *   ivshmem-admin [-s SCENARIO.xml] [-V NAME=ID]... COMMAND ...
 *   ivshmem-admin info | list | vms
 *   ivshmem-admin create SPEC [SPEC...]   SPEC: NAME,SIZE_MB,VM:VM[:...][,ID]
 *   ivshmem-admin load [-n] SCENARIO.xml  (ACRN 3.x FEATURES/IVSHMEM)
 *   ivshmem-admin check [--vm VM] LAUNCH-SCRIPT...
 *   ivshmem-admin remove NAME
 *   ivshmem-admin attach NAME VMID [-- COMMAND...]
 *   ivshmem-admin ring NAME SRC DST VECTOR
 *
 * Owns: the command line, the scenario reader (libxml2, only when built
 * with IVSHMEM_ADMIN_XML: "make XML=0" leaves it out, e.g. for a static
 * busybox initramfs), the launch-script reader of "check", and the
 * all-or-nothing application of several regions ("create" and "load"
 * share it: every region is checked before the first ADD, and when an ADD
 * fails the regions added before it are removed again).
 *
 * A VM is named by its ID or, given a scenario (-s) or -V NAME=ID, by its
 * name; a member "VM=rt" marks a VM no dm-land doorbell can reach (the
 * module's rt_members; "load" sets it for a scenario's RTVMs).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/ivshmem_host.h>

#ifdef IVSHMEM_ADMIN_XML
#include <libxml/parser.h>
#include <libxml/tree.h>
#endif

#define MAX_REGIONS	64	/* the module's registry (INFO max_regions) */
#define MAX_VMS		(IVSHMEM_HOST_MAX_VMID + 1)
#define VM_NAME_MAX	15	/* ACRN's VMNameType: [a-zA-Z0-9_-]{1,15} */
#define REGION_NAME_MAX	27	/* ACRN's NAME: \w{1,27} */

static const char *dev_path = "/dev/ivshmem_host";

/* The VMs known by name: from the scenario (-s) or -V NAME=ID. */
struct vm {
	char name[VM_NAME_MAX + 1];
	unsigned int id;
	int rt;			/* vm_type RTVM in the scenario */
	int line;		/* of its <vm> element, 0 for -V */
};

static struct vm vms[MAX_VMS];
static int nr_vms;
static const char *scenario;

/* A region to add, and where it was written (for messages). */
struct plan {
	struct ivshmem_host_region r;
	char where[96];
	long line;		/* of its IVSHMEM_REGION element, scenarios */
};

/* The --help text (stdout, exit 0); without a valid command, stderr, exit 2. */
static int print_help(FILE *f, int rc)
{
	fprintf(f,
		"Usage: ivshmem-admin [-s SCENARIO.xml] [-V NAME=ID]... COMMAND [ARGUMENT]...\n"
		"Manage the shared memory regions of ivshmem_host.ko, ACRN's Service VM\n"
		"module, through /dev/ivshmem_host.\n"
		"\n"
		"Commands:\n"
		"  info                  the module's mode, region and memory counts\n"
		"  list                  one line per region: ID, name, size, member VMs,\n"
		"                        attachments, folios\n"
		"  vms                   the VMs known by name (-s, -V): ID, name, RTVM\n"
		"  create SPEC [SPEC...] create regions, all or none; SPEC is\n"
		"                        NAME,SIZE_MB,VM:VM[:...][,REGION_ID] (the\n"
		"                        IVSHMEM_REGION syntax: the VMs that may attach, by\n"
		"                        ID or by name, VM=rt for one no dm-land doorbell\n"
		"                        reaches; REGION_ID, the guest's PCI subsystem ID,\n"
		"                        defaults to the lowest free one)\n"
		"  load [-n] SCENARIO.xml\n"
		"                        create the regions of an ACRN 3.x scenario's\n"
		"                        FEATURES/IVSHMEM section, all or none, members\n"
		"                        from its <vm id=\"N\"><name> elements; every rule\n"
		"                        is checked first and a refusal names the element\n"
		"                        and its line; -n (--dry-run) only checks and\n"
		"                        prints the regions as create SPECs\n"
		"  check [--vm VM] LAUNCH-SCRIPT...\n"
		"                        report every ivshmem device of acrn-dm in a launch\n"
		"                        script (-s N,ivshmem,NAME,SIZE[,REGION_ID] or the\n"
		"                        generated add_virtual_device N ivshmem ...) that\n"
		"                        disagrees with the registry: unknown name, size,\n"
		"                        region ID (none given is 0, as in acrn-dm), or\n"
		"                        the script's VM not a member. The VM is --vm, else\n"
		"                        acrn-dm's VM name argument, mapped to its ID by -s\n"
		"                        or -V\n"
		"  remove NAME           remove a region\n"
		"  attach NAME VMID [-- COMMAND...]\n"
		"                        attach VM VMID to region NAME and hold the\n"
		"                        attachment while COMMAND runs (default: until stdin\n"
		"                        closes); COMMAND finds the fd in $IVSHMEM_FD and the\n"
		"                        size in $IVSHMEM_SIZE\n"
		"  ring NAME SRC DST VECTOR\n"
		"                        ring VECTOR of peer DST from peer SRC in region NAME\n"
		"  --help                show this help and exit\n"
		"\n"
		"Options:\n"
		"  -s, --scenario FILE   read VM names and IDs from an ACRN scenario\n"
		"  -V, --vm-name NAME=ID a VM name (repeatable; without a scenario)\n"
		"\n"
		"Environment:\n"
		"  IVSHMEM_HOST_DEV      the device node (default /dev/ivshmem_host)\n"
		"\n"
		"Exit status: 0 on success, 1 when a file is refused, a launch script\n"
		"disagrees with the registry, or the device or an ioctl fails, 2 on a\n"
		"usage error.\n");
	return rc;
}

static int fail(const char *what)
{
	fprintf(stderr, "ivshmem-admin: %s: %s\n", what, strerror(errno));
	return 1;
}

static int open_dev(int write)
{
	int dev = open(dev_path, (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);

	if (dev < 0)
		fail(dev_path);
	return dev;
}

static int set_name(char *dst, const char *name)
{
	if (strlen(name) >= IVSHMEM_HOST_NAME_LEN) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(dst, 0, IVSHMEM_HOST_NAME_LEN);
	memcpy(dst, name, strlen(name));
	return 0;
}

/* Decimal, digits only (no sign, no blanks), at most UINT32_MAX. */
static int parse_u32(const char *s, unsigned int *v)
{
	unsigned long long n = 0;
	const char *p;

	if (!*s) {
		errno = EINVAL;
		return -1;
	}
	for (p = s; *p; p++) {
		if (!isdigit((unsigned char)*p)) {
			errno = EINVAL;
			return -1;
		}
		n = n * 10 + (*p - '0');
		if (n > UINT32_MAX) {
			errno = ERANGE;
			return -1;
		}
	}
	*v = n;
	return 0;
}

/* ACRN's VMNameType: 1 to 15 of [a-zA-Z0-9_-]. */
static int vm_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || n > VM_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isascii((unsigned char)s[i]) ||
		    (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-'))
			return 0;
	return 1;
}

static const struct vm *vm_by_name(const char *name)
{
	int i;

	for (i = 0; i < nr_vms; i++)
		if (!strcmp(vms[i].name, name))
			return &vms[i];
	return NULL;
}

static const struct vm *vm_by_id(unsigned int id)
{
	int i;

	for (i = 0; i < nr_vms; i++)
		if (vms[i].id == id)
			return &vms[i];
	return NULL;
}

/* -V NAME=ID */
static int add_vm_option(const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct vm v = {};

	if (!eq || (size_t)(eq - arg) > VM_NAME_MAX) {
		fprintf(stderr, "ivshmem-admin: -V %s: expected NAME=ID\n", arg);
		return -1;
	}
	memcpy(v.name, arg, eq - arg);
	if (!vm_name_ok(v.name) || parse_u32(eq + 1, &v.id) ||
	    v.id > IVSHMEM_HOST_MAX_VMID) {
		fprintf(stderr, "ivshmem-admin: -V %s: NAME is 1-15 of letters, digits, '_' and '-', ID 0..%d\n",
			arg, IVSHMEM_HOST_MAX_VMID);
		return -1;
	}
	if (vm_by_name(v.name) || vm_by_id(v.id) || nr_vms == MAX_VMS) {
		fprintf(stderr, "ivshmem-admin: -V %s: the name or the ID is taken\n",
			arg);
		return -1;
	}
	vms[nr_vms++] = v;
	return 0;
}

/*
 * One member: an ID, or a name known by -s/-V, optionally "=rt". Returns
 * 0, or -1 with the reason printed.
 */
static int parse_member(const char *tok, const char *where, __u64 *members,
			__u64 *rt)
{
	char buf[64];
	const struct vm *v;
	unsigned int id;
	char *eq;

	snprintf(buf, sizeof(buf), "%s", tok);
	eq = strchr(buf, '=');
	if (eq) {
		if (strcmp(eq, "=rt")) {
			fprintf(stderr, "ivshmem-admin: %s: member \"%s\": only \"=rt\" may follow a VM\n",
				where, tok);
			return -1;
		}
		*eq = '\0';
	}
	if (isdigit((unsigned char)buf[0])) {
		if (parse_u32(buf, &id) || id > IVSHMEM_HOST_MAX_VMID) {
			fprintf(stderr, "ivshmem-admin: %s: VM ID \"%s\" is not a number from 0 to %d\n",
				where, buf, IVSHMEM_HOST_MAX_VMID);
			return -1;
		}
	} else {
		v = vm_by_name(buf);
		if (!v) {
			fprintf(stderr, "ivshmem-admin: %s: no VM is named \"%s\"%s\n",
				where, buf, nr_vms ? "" :
				" (name VMs with -s SCENARIO.xml or -V NAME=ID)");
			return -1;
		}
		id = v->id;
	}
	if (*members & (1ULL << id)) {
		fprintf(stderr, "ivshmem-admin: %s: VM %u is listed twice\n",
			where, id);
		return -1;
	}
	*members |= 1ULL << id;
	if (eq)
		*rt |= 1ULL << id;
	return 0;
}

static void members_str(uint64_t m, uint64_t rt, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < 64 && off < len; i++)
		if (m & (1ULL << i))
			off += snprintf(buf + off, len - off, "%s%d%s",
					off ? ":" : "", i,
					rt & (1ULL << i) ? "=rt" : "");
}

static int list_regions(int dev, struct ivshmem_host_region *r,
			unsigned int *count)
{
	struct ivshmem_host_list l;

	memset(&l, 0, sizeof(l));
	l.capacity = MAX_REGIONS;
	l.regions = (uintptr_t)r;
	if (ioctl(dev, IVSHMEM_HOST_IOCTL_LIST, &l))
		return fail("LIST");
	*count = l.count < MAX_REGIONS ? l.count : MAX_REGIONS;
	return 0;
}

static int cmd_info(int dev)
{
	struct ivshmem_host_info i;

	memset(&i, 0, sizeof(i));
	if (ioctl(dev, IVSHMEM_HOST_IOCTL_INFO, &i))
		return fail("INFO");
	printf("%s, %u/%u regions, %llu bytes in %u dm-land memories\n",
	       i.flags & IVSHMEM_HOST_INFO_ACRN ?
	       "ACRN Service VM" : "not ACRN",
	       i.nr_regions, i.max_regions,
	       (unsigned long long)i.mem_bytes, i.nr_mems);
	return 0;
}

static int cmd_list(int dev)
{
	struct ivshmem_host_region r[MAX_REGIONS];
	unsigned int i, n;
	char m[400];

	if (list_regions(dev, r, &n))
		return 1;
	printf("%-4s %-32s %8s %-16s %8s %7s\n", "ID", "NAME", "SIZE_MB",
	       "VMS", "ATTACHED", "FOLIOS");
	for (i = 0; i < n; i++) {
		members_str(r[i].members, r[i].rt_members, m, sizeof(m));
		printf("%-4u %-32s %8u %-16s %8u %7u\n", r[i].region_id,
		       r[i].name, r[i].size_mb, m, r[i].nr_attached,
		       r[i].nr_folios);
	}
	return 0;
}

static int cmd_vms(void)
{
	int i;

	printf("%-3s %-15s %s\n", "ID", "NAME", "RTVM");
	for (i = 0; i < nr_vms; i++)
		printf("%-3u %-15s %s\n", vms[i].id, vms[i].name,
		       vms[i].rt ? "yes" : "no");
	return 0;
}

/* NAME,SIZE,VM:VM[,REGION_ID]; the module checks every rule again. */
static int parse_spec(const char *spec, struct plan *p)
{
	char *copy = strdup(spec), *f[5], *tok, *save;
	struct ivshmem_host_region *r = &p->r;
	int n = 0, ret = -1;

	memset(p, 0, sizeof(*p));
	snprintf(p->where, sizeof(p->where), "%s", spec);
	if (!copy)
		return -1;
	/* strsep, not strtok: an empty field is an error, not skipped. */
	for (tok = copy; n < 5 && (f[n] = strsep(&tok, ",")); n++)
		;
	if (n < 3 || n > 4) {
		fprintf(stderr, "ivshmem-admin: %s: expected NAME,SIZE_MB,VM:VM[,REGION_ID]\n",
			spec);
		goto out;
	}
	if (set_name(r->name, f[0])) {
		fprintf(stderr, "ivshmem-admin: %s: name too long\n", spec);
		goto out;
	}
	if (parse_u32(f[1], &r->size_mb)) {
		fprintf(stderr, "ivshmem-admin: %s: size \"%s\" is not a number of MiB\n",
			spec, f[1]);
		goto out;
	}
	if (n == 4) {
		if (parse_u32(f[3], &r->region_id)) {
			fprintf(stderr, "ivshmem-admin: %s: region ID \"%s\" is not a number\n",
				spec, f[3]);
			goto out;
		}
		r->flags = IVSHMEM_HOST_REGION_SET_ID;
	}
	for (tok = strtok_r(f[2], ":", &save); tok;
	     tok = strtok_r(NULL, ":", &save))
		if (parse_member(tok, spec, &r->members, &r->rt_members))
			goto out;
	ret = 0;
out:
	free(copy);
	return ret;
}

/*
 * Add every region of @p, those with a region ID first (so none without
 * takes an ID a later one names), or none: when an ADD fails, remove the
 * regions added before it. Returns the exit status.
 */
static int apply(int dev, struct plan *p, int n)
{
	int order[MAX_REGIONS], done, i, k = 0, err;
	struct ivshmem_host_name nm;

	for (i = 0; i < n; i++)
		if (p[i].r.flags & IVSHMEM_HOST_REGION_SET_ID)
			order[k++] = i;
	for (i = 0; i < n; i++)
		if (!(p[i].r.flags & IVSHMEM_HOST_REGION_SET_ID))
			order[k++] = i;
	for (done = 0; done < n; done++) {
		if (!ioctl(dev, IVSHMEM_HOST_IOCTL_ADD, &p[order[done]].r))
			continue;
		err = errno;
		fprintf(stderr, "ivshmem-admin: %s: ADD %s: %s (see dmesg for the rule)\n",
			p[order[done]].where, p[order[done]].r.name,
			strerror(err));
		for (i = done - 1; i >= 0; i--) {
			memset(&nm, 0, sizeof(nm));
			memcpy(nm.name, p[order[i]].r.name, sizeof(nm.name));
			if (ioctl(dev, IVSHMEM_HOST_IOCTL_REMOVE, &nm))
				fprintf(stderr, "ivshmem-admin: REMOVE %s again: %s\n",
					nm.name, strerror(errno));
		}
		fprintf(stderr, "ivshmem-admin: nothing added (%d region(s) added before were removed)\n",
			done);
		return 1;
	}
	return 0;
}

static int cmd_create(char **specs, int n)
{
	struct plan p[MAX_REGIONS];
	int i, dev, rc;

	if (n > MAX_REGIONS) {
		fprintf(stderr, "ivshmem-admin: more than %d regions\n",
			MAX_REGIONS);
		return 1;
	}
	for (i = 0; i < n; i++)
		if (parse_spec(specs[i], &p[i]))
			return 1;
	for (i = 0; i < n; i++) {
		int j;

		for (j = 0; j < i; j++)
			if (!strcmp(p[i].r.name, p[j].r.name)) {
				fprintf(stderr, "ivshmem-admin: %s: %s is given twice\n",
					specs[i], p[i].r.name);
				return 1;
			}
	}
	dev = open_dev(1);
	if (dev < 0)
		return 1;
	rc = apply(dev, p, n);
	close(dev);
	return rc;
}

#ifdef IVSHMEM_ADMIN_XML
/* ------------------------------------------------ the scenario (XML) -- */

static xmlDocPtr scn_doc;

/* ACRN's region NAME: 1 to 27 of [A-Za-z0-9_]; NULL if fine, else why. */
static const char *region_name_why(const char *s)
{
	size_t i, n = strlen(s);

	if (!n)
		return "is empty";
	for (i = 0; i < n; i++)
		if (!isascii((unsigned char)s[i]) ||
		    (!isalnum((unsigned char)s[i]) && s[i] != '_'))
			return "may only hold letters, digits and '_' (ACRN's \\w{1,27})";
	if (n > REGION_NAME_MAX)
		return "is longer than 27 characters (ACRN's \\w{1,27})";
	return NULL;
}

/* A region as a create SPEC (what "load -n" prints). */
static void print_spec(FILE *f, const struct ivshmem_host_region *r)
{
	char m[400];

	members_str(r->members, r->rt_members, m, sizeof(m));
	fprintf(f, "%s,%u,%s", r->name, r->size_mb, m);
	if (r->flags & IVSHMEM_HOST_REGION_SET_ID)
		fprintf(f, ",%u", r->region_id);
	fputc('\n', f);
}

static int scn_err(xmlNodePtr n, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%ld: %s: ", scenario, n ? xmlGetLineNo(n) : 0L,
		n ? (const char *)n->name : "?");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static int is_elem(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	       !strcmp((const char *)n->name, name);
}

/* The one child element @name of @n: NULL if none; *@dup set if several. */
static xmlNodePtr child(xmlNodePtr n, const char *name, xmlNodePtr *dup)
{
	xmlNodePtr c, found = NULL;

	*dup = NULL;
	for (c = n->children; c; c = c->next) {
		if (!is_elem(c, name))
			continue;
		if (found) {
			*dup = c;
			return found;
		}
		found = c;
	}
	return found;
}

/*
 * The text of a simple element, blanks trimmed (XSD's whitespace collapse
 * for these types), into @buf. -1 with a message if it holds elements or
 * is longer than @len - 1.
 */
static int text(xmlNodePtr n, char *buf, size_t len)
{
	xmlNodePtr c;
	xmlChar *t;
	char *s, *e;

	/* Text, CDATA and comments only: an entity is never expanded. */
	for (c = n->children; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE)
			return scn_err(n, "holds an element (%s), expected a value",
				       c->name);
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE &&
		    c->type != XML_COMMENT_NODE)
			return scn_err(n, "holds an entity reference or other markup, expected a value");
	}
	t = xmlNodeGetContent(n);
	s = (char *)(t ? t : (xmlChar *)"");
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if ((size_t)(e - s) >= len) {
		scn_err(n, "value \"%.*s...\" is too long", 20, s);
		xmlFree(t);
		return -1;
	}
	memcpy(buf, s, e - s);
	buf[e - s] = '\0';
	xmlFree(t);
	return 0;
}

/* The child @name of @n, required once; its text into @buf. */
static int need_text(xmlNodePtr n, const char *name, char *buf, size_t len,
		     xmlNodePtr *out)
{
	xmlNodePtr dup, c = child(n, name, &dup);

	if (!c)
		return scn_err(n, "has no %s element", name);
	if (dup)
		return scn_err(dup, "given twice in %s (first at line %ld)",
			       n->name, xmlGetLineNo(c));
	if (out)
		*out = c;
	return text(c, buf, len);
}

static int scn_open(const char *file)
{
	const xmlError *e;

	scenario = file;
	/* No network, no DTD, no entity expansion: data only. */
	scn_doc = xmlReadFile(file, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
			      XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES);
	if (!scn_doc) {
		e = xmlGetLastError();
		fprintf(stderr, "%s:%d: not a well-formed XML file: %s%s", file,
			e ? e->line : 0, e && e->message ? e->message : "?",
			e && e->message && strchr(e->message, '\n') ? "" : "\n");
		return -1;
	}
	if (!is_elem(xmlDocGetRootElement(scn_doc), "acrn-config"))
		return scn_err(xmlDocGetRootElement(scn_doc),
			       "the root element is not acrn-config (not an ACRN scenario)");
	return 0;
}

/* The scenario's <vm id="N"><name>NAME</name>...: into vms[]. */
static int scn_vms(void)
{
	xmlNodePtr root = xmlDocGetRootElement(scn_doc), n, c, dup;
	char name[VM_NAME_MAX + 2], type[32];
	const struct vm *o;
	struct vm v;
	xmlChar *id;
	int bad;

	nr_vms = 0;
	for (n = root->children; n; n = n->next) {
		if (!is_elem(n, "vm"))
			continue;
		memset(&v, 0, sizeof(v));
		v.line = xmlGetLineNo(n);
		id = xmlGetProp(n, (const xmlChar *)"id");
		if (!id)
			return scn_err(n, "has no id attribute");
		bad = parse_u32((char *)id, &v.id) || v.id > IVSHMEM_HOST_MAX_VMID;
		if (bad)
			scn_err(n, "id \"%s\" is not a VM ID from 0 to %d",
				id, IVSHMEM_HOST_MAX_VMID);
		xmlFree(id);
		if (bad)
			return -1;
		if (need_text(n, "name", name, sizeof(name), &c))
			return -1;
		if (!vm_name_ok(name))
			return scn_err(c, "\"%s\" is not a VM name (1-15 of letters, digits, '_' and '-')",
				       name);
		o = vm_by_name(name);
		if (o)
			return scn_err(c, "%s is also the name of VM %u (line %d)",
				       name, o->id, o->line);
		o = vm_by_id(v.id);
		if (o)
			return scn_err(n, "id %u is also the ID of %s (line %d)",
				       v.id, o->name, o->line);
		if (nr_vms == MAX_VMS)
			return scn_err(n, "more than %d VMs", MAX_VMS);
		strcpy(v.name, name);
		c = child(n, "vm_type", &dup);
		v.rt = c && !text(c, type, sizeof(type)) && !strcmp(type, "RTVM");
		vms[nr_vms++] = v;
	}
	return 0;
}

static int scn_region(xmlNodePtr n, struct plan *p)
{
	static const char * const known[] = { "NAME", "PROVIDED_BY",
		"IVSHMEM_SIZE", "IVSHMEM_REGION_ID", "IVSHMEM_VMS" };
	char name[REGION_NAME_MAX + 2], prov[32], num[32];
	struct ivshmem_host_region *r = &p->r;
	xmlNodePtr c, d, dup, vmsn;
	unsigned int i, nvm = 0;
	const struct vm *v;
	const char *why;

	memset(p, 0, sizeof(*p));
	for (c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (is_elem(c, known[i]))
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			return scn_err(c, "is not an element of IVSHMEM_REGION (NAME, PROVIDED_BY, IVSHMEM_SIZE, IVSHMEM_REGION_ID, IVSHMEM_VMS)");
	}
	if (need_text(n, "NAME", name, sizeof(name), &c))
		return -1;
	why = region_name_why(name);
	if (why)
		return scn_err(c, "\"%s\" %s", name, why);
	/* PROVIDED_BY: default Hypervisor (types.xsd). */
	strcpy(prov, "Hypervisor");
	c = child(n, "PROVIDED_BY", &d);
	if (d)
		return scn_err(d, "given twice in IVSHMEM_REGION");
	if (c && text(c, prov, sizeof(prov)))
		return -1;
	if (strcmp(prov, "Hypervisor") && strcmp(prov, "Device Model"))
		return scn_err(c, "\"%s\" is neither \"Hypervisor\" nor \"Device Model\"",
			       prov);
	snprintf(r->name, sizeof(r->name), "%s%s",
		 prov[0] == 'H' ? "hv:/" : "dm:/", name);
	p->line = xmlGetLineNo(n);
	snprintf(p->where, sizeof(p->where), "%s:%ld: IVSHMEM_REGION %s",
		 scenario, p->line, name);

	if (need_text(n, "IVSHMEM_SIZE", num, sizeof(num), &c))
		return -1;
	if (parse_u32(num, &r->size_mb) || r->size_mb < 2 ||
	    r->size_mb > 512 || (r->size_mb & (r->size_mb - 1)))
		return scn_err(c, "\"%s\" is not a size in MiB: a power of 2 from 2 to 512",
			       num);

	/*
	 * IVSHMEM_REGION_ID (ACRN 3.3): absent, it is 0, as ACRN's launch
	 * script generator and acrn-dm take it.
	 */
	r->flags = IVSHMEM_HOST_REGION_SET_ID;
	c = child(n, "IVSHMEM_REGION_ID", &d);
	if (d)
		return scn_err(d, "given twice in IVSHMEM_REGION");
	if (c) {
		if (text(c, num, sizeof(num)))
			return -1;
		if (parse_u32(num, &r->region_id) ||
		    r->region_id > IVSHMEM_HOST_MAX_REGION_ID)
			return scn_err(c, "\"%s\" is not a region ID from 0 to 65535",
				       num);
	}

	vmsn = child(n, "IVSHMEM_VMS", &d);
	if (!vmsn)
		return scn_err(n, "has no IVSHMEM_VMS element");
	if (d)
		return scn_err(d, "given twice in IVSHMEM_REGION");
	/* Counted first: too many is refused whatever the names are. */
	for (c = vmsn->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!is_elem(c, "IVSHMEM_VM"))
			return scn_err(c, "is not an element of IVSHMEM_VMS (IVSHMEM_VM)");
		if (++nvm > MAX_VMS)
			return scn_err(c, "too many VMs in one region (at most %d)",
				       MAX_VMS);
	}
	for (c = vmsn->children; c; c = c->next) {
		char vm[VM_NAME_MAX + 2], vbdf[16];

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (need_text(c, "VM_NAME", vm, sizeof(vm), &d))
			return -1;
		v = vm_by_name(vm);
		if (!v)
			return scn_err(d, "no <vm> of the scenario is named \"%s\"",
				       vm);
		if (r->members & (1ULL << v->id))
			return scn_err(d, "%s is listed twice in this region",
				       vm);
		r->members |= 1ULL << v->id;
		if (v->rt)
			r->rt_members |= 1ULL << v->id;
		/* VBDF: optional here (acrn-dm's slot), but well-formed. */
		d = child(c, "VBDF", &dup);
		if (d) {
			unsigned int b, dv, fn;
			char end;

			if (text(d, vbdf, sizeof(vbdf)))
				return -1;
			if (sscanf(vbdf, "%2x:%2x.%1u%c", &b, &dv, &fn, &end) != 3 ||
			    dv > 0x1f || fn > 7 || !isxdigit((unsigned char)vbdf[0]))
				return scn_err(d, "\"%s\" is not a virtual BDF (BB:DD.F)",
					       vbdf);
		}
	}
	if (nvm < 2)
		return scn_err(vmsn, "a region needs at least two VMs (has %u)",
			       nvm);
	return 0;
}

/* The regions of FEATURES/IVSHMEM, every rule checked. */
static int scn_regions(struct plan *p, int *np)
{
	xmlNodePtr root = xmlDocGetRootElement(scn_doc), hv, feat, ivs, n, d;
	int i, k = 0;

	hv = child(root, "hv", &d);
	if (!hv)
		return scn_err(root, "has no hv element");
	feat = child(hv, "FEATURES", &d);
	if (!feat)
		return scn_err(hv, "has no FEATURES element");
	ivs = child(feat, "IVSHMEM", &d);
	if (!ivs)
		return scn_err(feat, "has no IVSHMEM element");
	if (d)
		return scn_err(d, "given twice in FEATURES");
	for (n = ivs->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		/* ACRN 2.x's IVSHMEM_ENABLED: not a region, ignored. */
		if (is_elem(n, "IVSHMEM_ENABLED"))
			continue;
		if (!is_elem(n, "IVSHMEM_REGION"))
			return scn_err(n, "is not an element of IVSHMEM (IVSHMEM_REGION)");
		if (k == MAX_REGIONS)
			return scn_err(n, "more than %d regions (the module's registry)",
				       MAX_REGIONS);
		if (scn_region(n, &p[k]))
			return -1;
		for (i = 0; i < k; i++) {
			if (!strcmp(p[i].r.name, p[k].r.name))
				return scn_err(child(n, "NAME", &d),
					       "%s is also the name of the region at line %ld",
					       p[k].r.name, p[i].line);
			if (p[i].r.region_id == p[k].r.region_id) {
				xmlNodePtr c = child(n, "IVSHMEM_REGION_ID", &d);

				return scn_err(c ? c : n,
					       "region ID %u is also the ID of %s (line %ld)%s",
					       p[k].r.region_id, p[i].r.name, p[i].line,
					       c ? "" : "; without IVSHMEM_REGION_ID a region's ID is 0");
			}
		}
		k++;
	}
	*np = k;
	return 0;
}

static int scn_load(const char *file)
{
	if (scn_open(file) || scn_vms())
		return -1;
	return 0;
}

static int cmd_load(const char *file, int dry)
{
	struct plan p[MAX_REGIONS];
	int i, n = 0, dev, rc;

	if (scn_load(file) || scn_regions(p, &n))
		return 1;
	if (dry) {
		for (i = 0; i < n; i++)
			print_spec(stdout, &p[i].r);
		return 0;
	}
	dev = open_dev(1);
	if (dev < 0)
		return 1;
	rc = apply(dev, p, n);
	close(dev);
	if (!rc)
		printf("%d region(s) from %s\n", n, file);
	return rc;
}
#else
static int scn_load(const char *file)
{
	fprintf(stderr, "ivshmem-admin: %s: this ivshmem-admin was built without libxml2 (make XML=1) and reads no scenario\n",
		file);
	return -1;
}

static int cmd_load(const char *file, int dry)
{
	(void)dry;
	return scn_load(file) ? 1 : 0;
}
#endif

/* ------------------------------------------- the launch script (check) -- */

struct tok {
	char *s;
	int line;
	int eol;		/* last word of a (continued) command line */
};

/*
 * Split a shell script into words: blanks separate, quotes and backticks
 * are dropped, "\" + newline continues a line, "#" starts a comment.
 * Enough for launch scripts (ACRN's generated ones and hand-written
 * acrn-dm lines), not a shell. @vm_comment gets the name of the
 * generator's "# Launch script for VM name: NAME" line.
 */
static struct tok *tokenize(const char *text, int *ntok, char *vm_comment,
			    size_t vlen)
{
	static const char gen[] = "# Launch script for VM name:";
	struct tok *t = NULL;
	const char *p = text;
	int n = 0, cap = 0, line = 1;
	char word[4096];
	size_t wl;

	vm_comment[0] = '\0';
	while (*p) {
		if (*p == '\\' && p[1] == '\n') {
			p += 2;
			line++;
			continue;
		}
		if (*p == '\n') {
			if (n)
				t[n - 1].eol = 1;
			line++;
			p++;
			continue;
		}
		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		if (*p == '#') {
			if (!strncmp(p, gen, sizeof(gen) - 1) && !vm_comment[0])
				sscanf(p + sizeof(gen) - 1, " %15[A-Za-z0-9_-]",
				       vm_comment);
			(void)vlen;
			while (*p && *p != '\n')
				p++;
			continue;
		}
		wl = 0;
		while (*p && !isspace((unsigned char)*p) &&
		       !(*p == '\\' && p[1] == '\n')) {
			if (*p != '"' && *p != '\'' && *p != '`' &&
			    wl < sizeof(word) - 1)
				word[wl++] = *p;
			p++;
		}
		word[wl] = '\0';
		if (!wl)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			t = realloc(t, cap * sizeof(*t));
			if (!t)
				return NULL;
		}
		t[n].s = strdup(word);
		t[n].line = line;
		t[n].eol = 0;
		n++;
	}
	if (n)
		t[n - 1].eol = 1;
	*ntok = n;
	return t;
}

static int is_acrn_dm(const char *s)
{
	size_t n = strlen(s);

	return !strcmp(s, "acrn-dm") ||
	       (n > 8 && !strcmp(s + n - 8, "/acrn-dm"));
}

/* A word that ends a simple command: | || && ; & */
static int is_op(const char *s)
{
	return !strcmp(s, "|") || !strcmp(s, "||") || !strcmp(s, "&&") ||
	       !strcmp(s, ";") || !strcmp(s, "&");
}

/* A redirection: [N]>FILE, [N]<FILE, N>&M; 2 if its target is the next word. */
static int redir_words(const char *s)
{
	const char *p = s;

	while (isdigit((unsigned char)*p))
		p++;
	if (*p != '>' && *p != '<')
		return 0;
	while (*p == '>' || *p == '<' || *p == '&')
		p++;
	return *p ? 1 : 2;
}

/*
 * acrn-dm's VM name, its one positional argument and so the last word of
 * its command (up to an operator, redirections skipped); for a generated
 * script, whose acrn-dm line passes "${dm_params[@]}", the last word of
 * the dm_params=( ... ) array.
 */
static const char *script_vm(struct tok *t, int n)
{
	const char *vm = NULL, *last;
	int i, j, r;

	for (i = 0; i < n; i++) {
		if (!is_acrn_dm(t[i].s) || t[i].eol)
			continue;
		last = NULL;
		for (j = i + 1; j < n && !is_op(t[j].s); j++) {
			r = redir_words(t[j].s);
			if (r == 2 && !t[j].eol)
				j++;
			else if (!r)
				last = t[j].s;
			if (t[j].eol)
				break;
		}
		if (!last)
			continue;
		if (!strstr(last, "dm_params[@]")) {
			vm = last;
			continue;
		}
		for (j = 0; j < n; j++) {
			if (strcmp(t[j].s, "dm_params=("))
				continue;
			while (j + 1 < n && strcmp(t[j + 1].s, ")"))
				j++;
			if (j + 1 < n && strcmp(t[j].s, "dm_params=("))
				vm = t[j].s;
			break;
		}
	}
	return vm;
}

static int check_one(const char *file, const char *vm_opt,
		     const struct ivshmem_host_region *reg, unsigned int nreg,
		     int *ndev)
{
	const struct ivshmem_host_region *r;
	char vmc[VM_NAME_MAX + 1], *text = NULL, what[512];
	unsigned int i, size, id, vmid = 0;
	const char *vm, *opts;
	int n = 0, k, bad = 0, have_vm = 0;
	struct tok *t;
	size_t len = 0;
	FILE *f;

	f = fopen(file, "r");
	if (!f)
		return fail(file);
	if (getdelim(&text, &len, '\0', f) < 0 && ferror(f)) {
		fclose(f);
		return fail(file);
	}
	fclose(f);
	t = tokenize(text ? text : "", &n, vmc, sizeof(vmc));
	free(text);
	if (!t && n) {
		errno = ENOMEM;
		return fail(file);
	}

	/* Which VM this script starts: --vm, acrn-dm's name, the comment. */
	vm = vm_opt ? vm_opt : script_vm(t, n);
	if (!vm && vmc[0])
		vm = vmc;
	if (!vm) {
		printf("%s: cannot tell which VM the script starts (no acrn-dm VM name): give --vm\n",
		       file);
		bad++;
	} else if (isdigit((unsigned char)vm[0])) {
		have_vm = !parse_u32(vm, &vmid) && vmid <= IVSHMEM_HOST_MAX_VMID;
		if (!have_vm) {
			printf("%s: VM \"%s\" is not a VM ID\n", file, vm);
			bad++;
		}
	} else {
		const struct vm *v = vm_by_name(vm);

		if (v) {
			vmid = v->id;
			have_vm = 1;
		} else {
			printf("%s: VM \"%s\" is not a VM of %s%s\n", file, vm,
			       scenario ? scenario : "the -V names",
			       nr_vms ? "" : " (none given: -s SCENARIO.xml or -V NAME=ID)");
			bad++;
		}
	}

	for (k = 0; k < n; k++) {
		const char *arg = NULL;
		char *f2[6], *copy, *tok;
		int nf = 0;

		/* -s SLOT,ivshmem,OPTS | -sSLOT,ivshmem,OPTS */
		if (!strcmp(t[k].s, "-s") && k + 1 < n)
			arg = t[k + 1].s;
		else if (!strncmp(t[k].s, "-s", 2) && strchr(t[k].s, ','))
			arg = t[k].s + 2;
		if (arg) {
			const char *c = strchr(arg, ',');

			if (!c || strncmp(c + 1, "ivshmem", 7) ||
			    (c[8] && c[8] != ','))
				continue;
			opts = c[8] ? c + 9 : "";
		} else if (!strcmp(t[k].s, "add_virtual_device") && k + 2 < n &&
			   !strcmp(t[k + 2].s, "ivshmem")) {
			arg = t[k + 1].s;
			opts = k + 3 < n && !t[k + 2].eol ? t[k + 3].s : "";
		} else {
			continue;
		}
		(*ndev)++;
		snprintf(what, sizeof(what), "%s:%d: ivshmem %s", file,
			 t[k].line, opts);
		copy = strdup(opts);
		for (tok = copy; nf < 6 && (f2[nf] = strsep(&tok, ",")); nf++)
			;
		if (nf < 2 || nf > 3 || !f2[0][0]) {
			printf("%s: expected NAME,SIZE[,REGION_ID]\n", what);
			bad++;
			free(copy);
			continue;
		}
		if (strncmp(f2[0], "hv:/", 4) && strncmp(f2[0], "dm:/", 4)) {
			printf("%s: name %s has no hv:/ or dm:/ prefix (acrn-dm refuses it)\n",
			       what, f2[0]);
			bad++;
			free(copy);
			continue;
		}
		for (r = NULL, i = 0; i < nreg; i++)
			if (!strcmp(reg[i].name, f2[0]))
				r = &reg[i];
		if (!r) {
			const char *other = NULL;

			for (i = 0; i < nreg; i++)
				if (!strcmp(reg[i].name + 4, f2[0] + 4))
					other = reg[i].name;
			printf("%s: %s is not in the registry%s%s%s\n", what,
			       f2[0], other ? " (" : "", other ? other : "",
			       other ? " is)" : "");
			bad++;
			free(copy);
			continue;
		}
		if (parse_u32(f2[1], &size) || size != r->size_mb) {
			printf("%s: size %s MiB, the registry's %s has %u\n",
			       what, f2[1], r->name, r->size_mb);
			bad++;
		}
		/* acrn-dm: no region ID, or one it cannot parse, is 0. */
		id = 0;
		if (nf == 3 && parse_u32(f2[2], &id)) {
			printf("%s: region ID \"%s\" is not a number (acrn-dm takes 0)\n",
			       what, f2[2]);
			bad++;
		} else if (id != r->region_id) {
			printf("%s: region ID %u%s, the registry's %s has %u\n",
			       what, id, nf == 3 ? "" :
			       " (none given: acrn-dm's default)", r->name,
			       r->region_id);
			bad++;
		}
		if (have_vm && !(r->members & (1ULL << vmid))) {
			char m[400];

			members_str(r->members, 0, m, sizeof(m));
			printf("%s: the script's VM %s (ID %u) is not a member of %s (VMs %s)\n",
			       what, vm, vmid, r->name, m);
			bad++;
		}
		free(copy);
	}
	for (k = 0; k < n; k++)
		free(t[k].s);
	free(t);
	return bad;
}

static int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vm", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 }
	};
	struct ivshmem_host_region r[MAX_REGIONS];
	const char *vm = NULL;
	int c, i, dev, bad = 0, ndev;
	unsigned int nreg;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+m:", opts, NULL)) != -1) {
		if (c != 'm')
			return print_help(stderr, 2);
		vm = optarg;
	}
	if (optind == argc)
		return print_help(stderr, 2);
	dev = open_dev(0);
	if (dev < 0)
		return 1;
	if (list_regions(dev, r, &nreg)) {
		close(dev);
		return 1;
	}
	close(dev);
	for (i = optind; i < argc; i++) {
		int b;

		ndev = 0;
		b = check_one(argv[i], vm, r, nreg, &ndev);
		printf("%s: %d ivshmem device(s), %d mismatch(es)\n", argv[i],
		       ndev, b);
		bad += b;
	}
	return bad ? 1 : 0;
}

static int cmd_remove(int dev, const char *name)
{
	struct ivshmem_host_name n;

	memset(&n, 0, sizeof(n));
	if (set_name(n.name, name))
		return fail(name);
	if (ioctl(dev, IVSHMEM_HOST_IOCTL_REMOVE, &n))
		return fail("REMOVE");
	return 0;
}

static int cmd_attach(int dev, char **argv, int argc)
{
	struct ivshmem_host_attach a;
	char buf[32];
	int status;
	pid_t pid;

	memset(&a, 0, sizeof(a));
	if (set_name(a.name, argv[0]) || parse_u32(argv[1], &a.vmid))
		return fail(argv[0]);
	if (ioctl(dev, IVSHMEM_HOST_IOCTL_ATTACH, &a))
		return fail("ATTACH");
	printf("attached VM %u to %s: fd %d, %llu bytes\n", a.vmid, a.name,
	       a.fd, (unsigned long long)a.size);
	fflush(stdout);
	if (argc < 4 || strcmp(argv[2], "--")) {
		/* Hold the attachment until stdin closes. */
		while (read(0, buf, sizeof(buf)) > 0)
			;
		return 0;
	}
	pid = fork();
	if (pid == 0) {
		/* Hand the fd to the command (it was opened O_CLOEXEC). */
		fcntl(a.fd, F_SETFD, 0);
		snprintf(buf, sizeof(buf), "%d", a.fd);
		setenv("IVSHMEM_FD", buf, 1);
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)a.size);
		setenv("IVSHMEM_SIZE", buf, 1);
		execvp(argv[3], &argv[3]);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return fail("fork");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int cmd_ring(int dev, char **argv)
{
	struct ivshmem_host_ring r;

	memset(&r, 0, sizeof(r));
	if (set_name(r.name, argv[0]) || parse_u32(argv[1], &r.src) ||
	    parse_u32(argv[2], &r.dst) || parse_u32(argv[3], &r.vector))
		return fail(argv[0]);
	if (ioctl(dev, IVSHMEM_HOST_IOCTL_RING, &r))
		return fail("RING");
	return 0;
}

/* The commands that need the device: it is opened here, read-only if enough. */
static int run_dev_cmd(const char *cmd, char **argv, int argc)
{
	int ro = !strcmp(cmd, "info") || !strcmp(cmd, "list");
	int dev, rc;

	dev = open_dev(!ro);
	if (dev < 0)
		return 1;
	if (!strcmp(cmd, "info"))
		rc = cmd_info(dev);
	else if (!strcmp(cmd, "list"))
		rc = cmd_list(dev);
	else if (!strcmp(cmd, "remove"))
		rc = cmd_remove(dev, argv[0]);
	else if (!strcmp(cmd, "attach"))
		rc = cmd_attach(dev, argv, argc);
	else
		rc = cmd_ring(dev, argv);
	close(dev);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scenario", required_argument, NULL, 's' },
		{ "vm-name", required_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *env = getenv("IVSHMEM_HOST_DEV"), *cmd;
	int c, n;

	if (env)
		dev_path = env;
	while ((c = getopt_long(argc, argv, "+s:V:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (scenario) {
				fprintf(stderr, "ivshmem-admin: one scenario only\n");
				return 2;
			}
			if (scn_load(optarg))
				return 1;
			break;
		case 'V':
			if (add_vm_option(optarg))
				return 2;
			break;
		case 'h':
			return print_help(stdout, 0);
		default:
			return print_help(stderr, 2);
		}
	}
	if (optind == argc)
		return print_help(stderr, 2);
	cmd = argv[optind];
	argv += optind + 1;
	n = argc - optind - 1;
	if (!strcmp(cmd, "vms") && n == 0)
		return cmd_vms();
	if (!strcmp(cmd, "create") && n >= 1)
		return cmd_create(argv, n);
	if (!strcmp(cmd, "load") && n == 1)
		return cmd_load(argv[0], 0);
	if (!strcmp(cmd, "load") && n == 2 &&
	    (!strcmp(argv[0], "-n") || !strcmp(argv[0], "--dry-run")))
		return cmd_load(argv[1], 1);
	if (!strcmp(cmd, "check") && n >= 1)
		return cmd_check(n + 1, argv - 1);
	if (((!strcmp(cmd, "info") || !strcmp(cmd, "list")) && n == 0) ||
	    (!strcmp(cmd, "remove") && n == 1) ||
	    (!strcmp(cmd, "attach") && n >= 2) ||
	    (!strcmp(cmd, "ring") && n == 4))
		return run_dev_cmd(cmd, argv, n);
	return print_help(stderr, 2);
}
