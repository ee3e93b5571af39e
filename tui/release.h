/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel objects whose last close is slow, released after this process has
 * exited. The last close of a BPF link to a syscall tracepoint's perf
 * event waits for RCU grace periods twice: the program's detach
 * (synchronize_rcu_tasks_trace() on 6.18), then the event's own release
 * (tracepoint_synchronize_unregister() in perf_trace_destroy(), under the
 * kernel's event_mutex: one event after the other however many threads
 * close them, 30-40 ms each on the 2-core test VM). The four took 109-198
 * ms of connecttop's exit.
 */
#ifndef CT_RELEASE_H
#define CT_RELEASE_H

#include <stddef.h>

/* the most fds one call takes */
#define RELEASE_MAX_FDS 16

/*
 * Start a child (named "connecttop-exit") that holds a copy of each of the
 * n fds and of nothing else, and that exits once this process is gone
 * (its end of a socket pair, left open here, closes at this process's
 * exit). The caller then closes its own copies, which is quick: the last
 * close, and its wait, is the child's. The child shares this process's
 * memory (CLONE_VM, as posix_spawn's child does) and makes raw system
 * calls only: the memory is not copied, and its teardown is the child's
 * too. For the exit path: the child lives as long as this process.
 * Returns the child's pid, or -errno (then nothing was started: close the
 * fds as usual). Once per process (-EALREADY after that).
 */
int release_after_exit(const int *fds, size_t n);

#endif
