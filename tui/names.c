// SPDX-License-Identifier: GPL-2.0-or-later
#include "names.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <nss.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "row.h"
#include "util.h"

#define PID_SETS 2048 /* of PID_WAYS entries: a pid goes in set pid % PID_SETS */
#define PID_WAYS 4
#define HOST_SLOTS 4096
#define CGID_SLOTS 256 /* cgroup ids: direct-mapped */
#define USER_SLOTS 256
#define SERV_MAX 2048

struct pid_entry {
	uint32_t pid;  /* 0: empty */
	char comm[16]; /* the process name it was read for */
	char cmdline[160];
	char cgroup[64];
};

struct cg_entry {
	uint64_t id; /* 0: empty */
	char name[64];
};

struct host_entry {
	uint8_t addr[16];
	int family; /* 0: empty */
	int state;  /* 0 queued, 1 done */
	char name[128];
};

struct serv {
	uint16_t port, proto;
	char name[24];
};

struct names {
	struct pid_entry *pids;	  /* PID_SETS x PID_WAYS */
	uint8_t *pid_next;	  /* by set: the way to replace next */
	struct pid_entry unknown; /* what a pid used by another process since gets */
	struct host_entry *hosts;
	struct cg_entry cgids[CGID_SLOTS];
	int cg2_fd;	   /* the cgroup2 mount, for cgroup ids; -1 */
	char cg2_mnt[256]; /* its path */
	struct {
		uint32_t uid;
		int used;
		char name[40];
	} users[USER_SLOTS];
	struct serv *servs;
	size_t nservs;
	char numbuf[16];
	pthread_t thread;
	int thread_ok, stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t queue[HOST_SLOTS], qhead, qtail; /* slots waiting for a lookup */
};

static void load_services(struct names *r)
{
	FILE *f = fopen("/etc/services", "re");
	char line[256], name[64], proto[16];
	unsigned port;

	r->servs = calloc(SERV_MAX, sizeof(*r->servs));
	if (!f || !r->servs) {
		if (f)
			fclose(f);
		return;
	}
	while (r->nservs < SERV_MAX && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %u/%15s", name, &port, proto) != 3 || name[0] == '#' ||
		    port > 65535)
			continue;
		struct serv *s = &r->servs[r->nservs++];
		long pr = ct_proto_of_name(proto);

		s->port = port;
		s->proto = pr > 0 ? pr : 0;
		ct_sanitize(name, strlen(name), s->name, sizeof(s->name));
	}
	fclose(f);
}

static void *host_thread(void *arg)
{
	struct names *r = arg;

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		if (r->qhead == r->qtail) {
			pthread_cond_wait(&r->cond, &r->lock);
			continue;
		}
		size_t slot = r->queue[r->qhead++ % HOST_SLOTS];
		struct host_entry e = r->hosts[slot];
		char host[NI_MAXHOST];
		struct sockaddr_storage ss = { 0 };
		socklen_t len;

		pthread_mutex_unlock(&r->lock);
		if (e.family == 4) {
			struct sockaddr_in *in = (void *)&ss;

			in->sin_family = AF_INET;
			memcpy(&in->sin_addr, e.addr, 4);
			len = sizeof(*in);
		} else {
			struct sockaddr_in6 *in6 = (void *)&ss;

			in6->sin6_family = AF_INET6;
			memcpy(&in6->sin6_addr, e.addr, 16);
			len = sizeof(*in6);
		}
		if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), NULL, 0,
				NI_NAMEREQD))
			host[0] = 0;
		pthread_mutex_lock(&r->lock);
		/* the slot may have been taken over by another address meanwhile */
		if (r->hosts[slot].family == e.family && !memcmp(r->hosts[slot].addr, e.addr, 16)) {
			ct_sanitize(host, strlen(host), r->hosts[slot].name,
				    sizeof(r->hosts[slot].name));
			r->hosts[slot].state = 1;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* the cgroup2 mount (on a hybrid host, the "unified" one) */
static void find_cgroup2(struct names *r)
{
	FILE *f = fopen("/proc/mounts", "re");
	char dev[64], dir[256], type[32];

	r->cg2_fd = -1;
	while (f && fscanf(f, "%63s %255s %31s %*[^\n]", dev, dir, type) == 3) {
		if (strcmp(type, "cgroup2"))
			continue;
		r->cg2_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		snprintf(r->cg2_mnt, sizeof(r->cg2_mnt), "%s", dir);
		break;
	}
	if (f)
		fclose(f);
}

struct names *names_new(void)
{
	struct names *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->cg2_fd = -1; /* names_free() closes it */
	r->pids = calloc(PID_SETS * PID_WAYS, sizeof(*r->pids));
	r->pid_next = calloc(PID_SETS, 1);
	r->hosts = calloc(HOST_SLOTS, sizeof(*r->hosts));
	snprintf(r->unknown.cgroup, sizeof(r->unknown.cgroup), "-");
	if (!r->pids || !r->pid_next || !r->hosts) {
		names_free(r);
		return NULL;
	}
	load_services(r);
	find_cgroup2(r);
#if defined(CT_STATIC) && defined(__GLIBC__) && \
	(__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	/* A static glibc still dlopen()s the NSS modules /etc/nsswitch.conf
	 * names for hosts (myhostname, mdns, resolve, ...) from the host, built
	 * for the host's glibc and not for the one linked in here: a mismatch
	 * can crash. files and dns are built into libc since 2.34: host names
	 * come from /etc/hosts and DNS alone. Before any lookup thread runs
	 * (the call is not thread-safe). */
	__nss_configure_lookup("hosts", "files dns");
#endif
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	return r;
}

void names_free(struct names *r)
{
	if (!r)
		return;
	if (r->cg2_fd >= 0)
		close(r->cg2_fd);
	r->cg2_fd = -1;
	if (r->thread_ok) {
		pthread_mutex_lock(&r->lock);
		r->stop = 1;
		pthread_cond_signal(&r->cond);
		pthread_mutex_unlock(&r->lock);
		/* a lookup in progress can take the resolver's timeout: do not
		 * make quitting wait for it */
		pthread_detach(r->thread);
	} else {
		free(r->pids);
		free(r->pid_next);
		free(r->hosts);
		free(r->servs);
		free(r);
	}
	/* with the thread detached the cache stays allocated until exit */
}

const char *names_user(struct names *r, uint32_t uid)
{
	size_t slot = uid % USER_SLOTS;

	if (!r->users[slot].used || r->users[slot].uid != uid) {
		FILE *f = fopen("/etc/passwd", "re");
		char line[512];

		r->users[slot].used = 1;
		r->users[slot].uid = uid;
		snprintf(r->users[slot].name, sizeof(r->users[slot].name), "%u", uid);
		while (f && fgets(line, sizeof(line), f)) {
			char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

			if (c2 && strtoul(c2 + 1, NULL, 10) == uid &&
			    isdigit((unsigned char)c2[1])) {
				ct_sanitize(line, c1 - line, r->users[slot].name,
					    sizeof(r->users[slot].name));
				break;
			}
		}
		if (f)
			fclose(f);
	}
	return r->users[slot].name;
}

const char *names_service(struct names *r, uint16_t port, uint16_t proto)
{
	for (size_t i = 0; i < r->nservs; i++)
		if (r->servs[i].port == port && r->servs[i].proto == proto)
			return r->servs[i].name;
	return NULL;
}

/* What a cgroup path shows: its last part ("nginx.service"), a container's
 * id cut to 12 ("docker:0123456789ab" from docker-<64 hex>.scope, and so on
 * for cri-containerd-, libpod-...), sanitized. path is changed. */
static void cgroup_name(char *path, char *out, size_t len)
{
	char *last = strrchr(path, '/'), *dash, id[13];
	char tmp[128];

	last = last ? last + 1 : path;
	if (!*last) {
		snprintf(out, len, "/");
		return;
	}
	if (strlen(last) == 64 && strspn(last, "0123456789abcdef") == 64 && last > path + 1) {
		/* docker's cgroupfs driver: /docker/<64 hex> */
		char *parent;

		last[-1] = 0;
		parent = strrchr(path, '/');
		parent = parent ? parent + 1 : path;
		snprintf(tmp, sizeof(tmp), "%.60s:%.12s", parent, last);
		ct_sanitize(tmp, strlen(tmp), out, len);
		return;
	}
	dash = strrchr(last, '-');
	if (dash && strlen(dash + 1) >= 64 + 6 && isxdigit((unsigned char)dash[1])) {
		memcpy(id, dash + 1, 12);
		id[12] = 0;
		*dash = 0;
		snprintf(tmp, sizeof(tmp), "%.100s:%s", last, id);
		last = tmp;
	}
	ct_sanitize(last, strlen(last), out, len);
}

static void read_cgroup(uint32_t pid, char *out, size_t len)
{
	char path[64], line[512], *p;
	FILE *f;

	snprintf(out, len, "-");
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	/* cgroup v2 line "0::/system.slice/nginx.service"; on v1 the name=systemd one */
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) && !strstr(line, ":name=systemd:"))
			continue;
		line[strcspn(line, "\n")] = 0;
		p = strstr(line, ":/");
		if (p && p[2])
			cgroup_name(p + 1, out, len);
		break;
	}
	fclose(f);
}

/* The cgroup v2 folder of a cgroup id (what bpf_get_current_cgroup_id()
 * gives: its inode number), found through a file handle of the cgroup2
 * file system: it outlives the processes in it. 0, or -1 if unknown. */
static int cgroup_of_id(struct names *r, uint64_t id, char *out, size_t len)
{
	struct cg_entry *c = &r->cgids[id % CGID_SLOTS];
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	char link[64], path[PATH_MAX];
	ssize_t n;
	int fd;

	if (c->id == id) {
		snprintf(out, len, "%s", c->name);
		return 0;
	}
	if (r->cg2_fd < 0 || !id)
		return -1;
	h.fh.handle_bytes = sizeof(uint64_t);
	h.fh.handle_type = 0xfe; /* FILEID_KERNFS */
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(r->cg2_fd, &h.fh, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	path[n] = 0;
	if (!strcmp(path, r->cg2_mnt))
		snprintf(path, sizeof(path), "/"); /* the root */
	cgroup_name(path, c->name, sizeof(c->name));
	c->id = id;
	snprintf(out, len, "%s", c->name);
	return 0;
}

/* the first len bytes of /proc/PID/NAME: how many, or -1 */
static ssize_t read_proc(uint32_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, len);
		close(fd);
	}
	return n;
}

/* 1 if /proc/PID/comm is comm (16 bytes, NUL-padded or not); an empty comm
 * (a row of a grouping without process names) takes it as it is */
static int pid_is(uint32_t pid, char *comm)
{
	char buf[32];
	ssize_t n = read_proc(pid, "comm", buf, sizeof(buf));

	if (n <= 0)
		return 0;
	if (buf[n - 1] == '\n')
		n--;
	if (!comm[0]) {
		memcpy(comm, buf, n < 16 ? n : 16);
		return 1;
	}
	return (size_t)n == strnlen(comm, 16) && !memcmp(buf, comm, n);
}

/* a command line as /proc/pid/cmdline gives it (arguments each ended by a
 * NUL; buf is changed): shown with spaces between them */
static void set_cmdline(struct pid_entry *e, char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	ct_sanitize(buf, n, e->cmdline, sizeof(e->cmdline));
}

/*
 * What was read of pid, running as comm. A pid seen for the first time is
 * read from /proc at once, if it still runs as comm (else its pid went to
 * another program since: nothing is known). A pid cached for another comm
 * was reused (or the process ran exec): `fresh` (the process connects right
 * now) reads it again; else (a row's old pid) nothing is known.
 */
static const struct pid_entry *pid_info(struct names *r, uint32_t pid, const char *comm_in,
					int fresh, uint64_t cgid)
{
	struct pid_entry *set = &r->pids[(size_t)(pid % PID_SETS) * PID_WAYS], *e;
	char buf[512], comm[16] = "";
	ssize_t n = 0;
	int alive, other = 0;

	memcpy(comm, comm_in, strnlen(comm_in, sizeof(comm)));
	/* every way: a pid reused by another program has an entry per
	 * program, so that the first one's rows keep what was read for it */
	for (int w = 0; w < PID_WAYS; w++) {
		if (set[w].pid != pid)
			continue;
		if (!comm[0] || !strncmp(set[w].comm, comm, sizeof(set[w].comm)))
			return &set[w];
		other = 1;
	}
	if (other && !fresh)
		return &r->unknown; /* an old row's: its program was not read */
	alive = pid && pid_is(pid, comm);
	if (!alive && !cgid)
		return &r->unknown;
	e = &set[r->pid_next[pid % PID_SETS]];
	r->pid_next[pid % PID_SETS] = (r->pid_next[pid % PID_SETS] + 1) % PID_WAYS;
	e->pid = pid;
	memcpy(e->comm, comm, sizeof(e->comm));
	if (!alive) {
		/* gone already (a short-lived process, seen when its
		 * connect is read): its cgroup from the id the event
		 * carries, no command line */
		e->cmdline[0] = 0;
		if (cgroup_of_id(r, cgid, e->cgroup, sizeof(e->cgroup)))
			snprintf(e->cgroup, sizeof(e->cgroup), "-");
		return e;
	}
	n = read_proc(pid, "cmdline", buf, sizeof(buf) - 1);
	set_cmdline(e, buf, n < 0 ? 0 : (size_t)n);
	read_cgroup(pid, e->cgroup, sizeof(e->cgroup));
	return e;
}

void names_pid_cmdline(struct names *r, uint32_t pid, const char *comm_in, uint64_t cgroup_id,
		       const char *cmd, size_t len)
{
	struct pid_entry *set = &r->pids[(size_t)(pid % PID_SETS) * PID_WAYS], *e = NULL;
	char comm[16] = "", buf[512];

	if (!pid)
		return;
	memcpy(comm, comm_in, strnlen(comm_in, sizeof(comm)));
	for (int w = 0; w < PID_WAYS && !e; w++)
		if (set[w].pid == pid && !strncmp(set[w].comm, comm, sizeof(comm)))
			e = &set[w];
	if (!e) {
		e = &set[r->pid_next[pid % PID_SETS]];
		r->pid_next[pid % PID_SETS] = (r->pid_next[pid % PID_SETS] + 1) % PID_WAYS;
		e->pid = pid;
		memcpy(e->comm, comm, sizeof(e->comm));
		/* its cgroup as pid_info() reads it: from /proc while it
		 * runs as comm, else from the id */
		if (pid_is(pid, comm))
			read_cgroup(pid, e->cgroup, sizeof(e->cgroup));
		else if (!cgroup_id || cgroup_of_id(r, cgroup_id, e->cgroup, sizeof(e->cgroup)))
			snprintf(e->cgroup, sizeof(e->cgroup), "-");
	}
	if (len > sizeof(buf))
		len = sizeof(buf);
	memcpy(buf, cmd, len);
	set_cmdline(e, buf, len);
}

void names_pid_seen(struct names *r, uint32_t pid, const char *comm, uint64_t cgroup_id)
{
	pid_info(r, pid, comm, 1, cgroup_id);
}

const char *names_cmdline(struct names *r, uint32_t pid, const char *comm)
{
	return pid_info(r, pid, comm, 0, 0)->cmdline;
}

const char *names_cgroup(struct names *r, uint32_t pid, const char *comm)
{
	return pid_info(r, pid, comm, 0, 0)->cgroup;
}

const char *names_cgroup_of(void *names, unsigned pid, const char *comm)
{
	return names ? names_cgroup(names, pid, comm) : NULL;
}

const char *names_host(struct names *r, int family, const uint8_t addr[16])
{
	size_t slot = ct_hash(addr, 16) % HOST_SLOTS;
	struct host_entry *e = &r->hosts[slot];
	const char *name = NULL;

	pthread_mutex_lock(&r->lock);
	if (e->family == family && !memcmp(e->addr, addr, 16)) {
		if (e->state == 1 && e->name[0])
			name = e->name;
	} else if (r->qtail - r->qhead < HOST_SLOTS) {
		if (!r->thread_ok)
			r->thread_ok = !pthread_create(&r->thread, NULL, host_thread, r);
		memcpy(e->addr, addr, 16);
		e->family = family;
		e->state = 0;
		e->name[0] = 0;
		r->queue[r->qtail++ % HOST_SLOTS] = slot;
		pthread_cond_signal(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
	return name;
}
