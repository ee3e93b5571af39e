// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The pid cache of names.c, against real processes: a command line is read
 * once per process and kept after it exits; a pid cached for another program
 * (reused, or exec) gives nothing rather than the wrong command line.
 */
#include <signal.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "names.h"

static void comm_of(pid_t pid, char out[16])
{
	char path[64];
	FILE *f;

	memset(out, 0, 16);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(out, 16, f))
			out[strcspn(out, "\n")] = 0;
		fclose(f);
	}
}

/* a process gone before it was seen gets its cgroup from the id its event
 * carries: this process's own cgroup v2 folder, by its inode number */
static void test_cgroup_id(struct names *r)
{
	char line[512], mnt[256] = "", path[1024], dev[64], type[32], me[16];
	FILE *f = fopen("/proc/mounts", "r");
	struct stat st;
	const char *want;

	while (f && fscanf(f, "%63s %255s %31s %*[^\n]", dev, mnt, type) == 3 &&
	       strcmp(type, "cgroup2"))
		mnt[0] = 0;
	if (f)
		fclose(f);
	f = fopen("/proc/self/cgroup", "r");
	path[0] = 0;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(path, sizeof(path), "%s%s", mnt, line + 3);
		}
	if (f)
		fclose(f);
	if (!mnt[0] || !path[0] || stat(path, &st)) {
		printf("SKIP: cgroup_id: no cgroup v2 here\n");
		return;
	}
	comm_of(getpid(), me);
	/* the name connecttop shows: the last part of the path ("/" for the root) */
	want = strrchr(path, '/')[1] ? strrchr(path, '/') + 1 : "/";
	names_pid_seen(r, 0x7ffffff0, "gone", st.st_ino);
	CHECK_S("cgroup_id.gone_process", want, names_cgroup(r, 0x7ffffff0, "gone"));
	CHECK_S("cgroup_id.no_cmdline", "", names_cmdline(r, 0x7ffffff0, "gone"));
	names_pid_seen(r, 0x7ffffff1, "gone2", 1ULL << 62);
	CHECK_S("cgroup_id.unknown_id", "-", names_cgroup(r, 0x7ffffff1, "gone2"));
}

int main(void)
{
	struct names *r = names_new();
	char me[16], comm[16] = "ctchild";
	int p[2];
	pid_t child;

	CHECK("names.new", r != NULL);
	if (!r)
		return ck_done();
	comm_of(getpid(), me);
	CHECK("self.cmdline", strstr(names_cmdline(r, getpid(), me), "test_names") != NULL);
	CHECK_S("self.other_comm_unknown", "", names_cmdline(r, getpid(), "someother"));
	names_pid_seen(r, getpid(), "someother", 0); /* /proc says otherwise: ignored */
	CHECK("self.still_known", strstr(names_cmdline(r, getpid(), me), "test_names") != NULL);
	CHECK("self.any_comm", strstr(names_cmdline(r, getpid(), ""), "test_names") != NULL);
	CHECK_S("user.root", "root", names_user(r, 0));

	/* a child that renames itself, is seen, then exits: it keeps its line */
	if (pipe(p))
		return 1;
	child = fork();
	if (child == 0) {
		/* renamed, it says so, and waits to be killed */
		prctl(PR_SET_NAME, comm, 0, 0, 0);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	{
		char c;

		if (read(p[0], &c, 1) != 1)
			return 1;
	}
	names_pid_seen(r, child, comm, 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	CHECK("child.kept_after_exit", strstr(names_cmdline(r, child, comm), "test_names") != NULL);
	CHECK_S("child.cgroup_kept", names_cgroup(r, getpid(), me), names_cgroup(r, child, comm));
	/* a new program at that pid, gone too: its cgroup from the event's
	 * id; what was read for the first one stays */
	names_pid_seen(r, child, "newprog", 0);
	CHECK_S("child.reused_pid_not_read", "", names_cmdline(r, child, "newprog"));
	CHECK("child.first_still_kept",
	      strstr(names_cmdline(r, child, comm), "test_names") != NULL);
	names_pid_seen(r, child, "newprog2", 12345);
	CHECK_S("child.reused_pid_with_id", "", names_cmdline(r, child, "newprog2"));
	CHECK("child.first_kept_beside_it",
	      strstr(names_cmdline(r, child, comm), "test_names") != NULL);
	/* the command line BPF read at its connect (CT_EV_CMDLINE), for a
	 * process gone by the time it is looked at: arguments NUL-ended,
	 * shown with spaces, control bytes escaped */
	names_pid_cmdline(r, child + 0x30000000, "shortlived", 0, "py\0c.py\0mark\nx\0", 15);
	CHECK_S("cmdline.bpf_gone", "py c.py mark\\x0ax",
		names_cmdline(r, child + 0x30000000, "shortlived"));
	CHECK_S("cmdline.bpf_gone_cgroup", "-", names_cgroup(r, child + 0x30000000, "shortlived"));
	/* ... and names_pid_seen for its connect keeps it */
	names_pid_seen(r, child + 0x30000000, "shortlived", 0);
	CHECK_S("cmdline.bpf_kept_at_connect", "py c.py mark\\x0ax",
		names_cmdline(r, child + 0x30000000, "shortlived"));
	/* another program at that pid later: its own */
	names_pid_cmdline(r, child + 0x30000000, "other", 0, "other\0", 6);
	CHECK_S("cmdline.bpf_other_prog", "other", names_cmdline(r, child + 0x30000000, "other"));
	CHECK_S("cmdline.bpf_first_kept", "py c.py mark\\x0ax",
		names_cmdline(r, child + 0x30000000, "shortlived"));
	/* never seen while it ran: nothing, and no guess */
	CHECK_S("gone.never_seen", "", names_cmdline(r, child + 0x40000000, "x"));
	CHECK_S("gone.cgroup_dash", "-", names_cgroup(r, child + 0x40000000, "x"));
	test_cgroup_id(r);
	names_free(r);
	return ck_done();
}
