/* cgjoin.c: the container's init joins its cgroups (cgjoin.h). */
#define _GNU_SOURCE
#include "cgjoin.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/vfs.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* struct clone_args of <linux/sched.h>, up to `cgroup` (CLONE_ARGS_SIZE_VER2, Linux 5.7): declared
 * here because that header and glibc's <sched.h> do not mix on every distribution. */
struct berth_clone_args {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

static int is_cgroup2(const char *dir) {
  struct statfs s;
  return statfs(dir, &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC;
}

pid_t berth_cgjoin_clone(const struct berth_launch *l, unsigned long flags) {
  int userns = l->ns[BERTH_NS_USER].mode == BERTH_NS_NEW;
  size_t into = l->n_cgroups;
  for (size_t i = 0; i < l->n_cgroups; i++) {
    int v2 = is_cgroup2(l->cgroups[i]);
    l->cgroup_how[i] = v2 || userns ? BERTH_CGJOIN_PARENT : BERTH_CGJOIN_SELF;
    if (v2 && into == l->n_cgroups) into = i;
  }
#ifdef SYS_clone3
  if (into < l->n_cgroups) {
    int fd = open(l->cgroups[into], O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct berth_clone_args a;
    memset(&a, 0, sizeof a);
    a.flags = (flags & ~(unsigned long)0xff) | CLONE_INTO_CGROUP;
    a.exit_signal = flags & 0xff;
    a.cgroup = (uint64_t)fd;
    pid_t pid = (pid_t)syscall(SYS_clone3, &a, sizeof a);
    int e = errno;
    close(fd);
    if (pid >= 0) {
      l->cgroup_how[into] = BERTH_CGJOIN_CLONE;
      return pid;
    }
    errno = e;
    return -1;
  }
#endif
  errno = ENOSYS;
  return -1;
}

int berth_cgjoin_parent(const struct berth_launch *l, pid_t pid, struct berth_err *err) {
  char v[24];
  int n = snprintf(v, sizeof v, "%d", (int)pid);
  for (size_t i = 0; i < l->n_cgroups; i++) {
    if (l->cgroup_how[i] != BERTH_CGJOIN_PARENT) continue;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/cgroup.procs", l->cgroups[i]) >= (int)sizeof path)
      return berth_error(err, ENAMETOOLONG, "cgroup", "cgroup `%s`", l->cgroups[i]);
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write_all(fd, v, (size_t)n) < 0) return berth_error(err, errno, "cgroup", "join `%s`", path);
  }
  return 0;
}

int berth_cgjoin_self(const struct berth_launch *l, struct berth_err *err) {
  for (size_t i = 0; i < l->n_cgroups; i++) {
    if (l->cgroup_how[i] != BERTH_CGJOIN_SELF) continue;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/tasks", l->cgroups[i]) >= (int)sizeof path)
      return berth_error(err, ENAMETOOLONG, "cgroup", "cgroup `%s`", l->cgroups[i]);
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write_all(fd, "0", 1) < 0) return berth_error(err, errno, "cgroup", "join `%s`", path);
  }
  return 0;
}
