/* cgjoin.h: placing the container's init in the cgroups the engine made for it (launch key
 * `cgroup`), before anything runs in it, without the global lock a pid write takes.
 *
 * Writing a pid to cgroup.procs takes the kernel's cgroup_threadgroup_rwsem for writing, and
 * its first writer waits for an RCU grace period (rcu_sync): ~15-20 ms per container start on a
 * hybrid host, whatever the number of hierarchies. Two ways in take no such lock:
 *   - cgroup v1: a single-threaded process writes `0` (itself) to <dir>/tasks, which moves only
 *     the calling thread (kernel cgroup_procs_write_start: no lock when pid is 0 and not a
 *     threadgroup write);
 *   - cgroup v2: clone3(CLONE_INTO_CGROUP) (Linux 5.7) creates the child in the cgroup.
 * The shim falls back to writing the pid to <dir>/cgroup.procs itself (the slow way) where
 * neither applies: a new user namespace (the child's writes would be those of an unmapped
 * user), a second cgroup2 directory, or a kernel that refuses clone3's cgroup. */
#ifndef BERTH_CGJOIN_H
#define BERTH_CGJOIN_H

#include <sys/types.h>

#include "launch.h"

/* Who places the child in l->cgroups[i] (l->cgroup_how[i]). */
enum berth_cgjoin_how { BERTH_CGJOIN_SELF = 0, BERTH_CGJOIN_PARENT, BERTH_CGJOIN_CLONE };

/* berth_cgjoin_clone forks with `flags` (CLONE_NEW* | SIGCHLD) into the first cgroup2 directory
 * of the launch with clone3(CLONE_INTO_CGROUP), and decides l->cgroup_how for every directory.
 * Returns the child's pid in the parent, 0 in the child, and -1 with errno when clone3 could
 * not be used (the caller clones as before; the decisions then stand without CLONE). */
pid_t berth_cgjoin_clone(const struct berth_launch *l, unsigned long flags);

/* berth_cgjoin_parent writes pid to cgroup.procs of every directory marked PARENT. Step
 * "cgroup". */
int berth_cgjoin_parent(const struct berth_launch *l, pid_t pid, struct berth_err *err);

/* berth_cgjoin_self, in the single-threaded child, writes 0 to tasks of every directory marked
 * SELF. Step "cgroup". */
int berth_cgjoin_self(const struct berth_launch *l, struct berth_err *err);

#endif
