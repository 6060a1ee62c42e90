/* ns.c: clone into new namespaces, setns into joined ones, and the container's init sequence.
 * The order follows runc's standard_init_linux.go: mounts, sysctls, masked and read-only
 * paths, rlimits, seccomp before dropping privileges unless no_new_privs is set, bounding set,
 * user, capabilities, cwd, then wait for start and exec. */
#define _GNU_SOURCE
#include "ns.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <grp.h>
#include <net/if.h>
#include <unistd.h>
#include <termios.h>

#include "caps.h"
#include "cgjoin.h"
#include "mounts.h"
#include "seccomp.h"
#include "userns.h"

static const int ns_flags[BERTH_NS_COUNT] = {CLONE_NEWPID, CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWCGROUP, CLONE_NEWUSER};

int berth_ns_join_pid(const struct berth_launch *l, struct berth_err *err) {
  if (l->ns[BERTH_NS_PID].mode != BERTH_NS_JOIN) return 0;
  cleanup_close int fd = open(l->ns[BERTH_NS_PID].path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return berth_error(err, errno, "namespace", "open pid namespace `%s`", l->ns[BERTH_NS_PID].path);
  if (setns(fd, CLONE_NEWPID) < 0) return berth_error(err, errno, "namespace", "join pid namespace `%s`", l->ns[BERTH_NS_PID].path);
  return 0;
}

pid_t berth_ns_clone(const struct berth_launch *l, struct berth_err *err) {
  unsigned long flags = SIGCHLD;
  /* not the cgroup namespace: the child unshares it once the parent has placed it in its
   * cgroup, so that cgroup is the namespace's root (runc does the same) */
  for (int t = 0; t < BERTH_NS_COUNT; t++)
    if (l->ns[t].mode == BERTH_NS_NEW && t != BERTH_NS_CGROUP) flags |= (unsigned long)ns_flags[t];
  /* clone(2) without a stack behaves as fork: the child continues on a copy of ours. The raw
   * syscall's argument order differs by arch, but with everything else 0 it does not matter. */
  pid_t pid = berth_cgjoin_clone(l, flags);
  if (pid < 0) pid = (pid_t)syscall(SYS_clone, flags, 0, 0, 0, 0);
  if (pid < 0) return berth_error(err, errno, "clone", "clone flags %#lx", flags);
  return pid;
}

static const struct berth_child_fds *child_fds;

__attribute__((noreturn)) static void fail(const struct berth_err *err, int code) {
  char enc[sizeof err->msg * 3 + 1];
  char line[sizeof enc + 128];
  if (pct_encode(err->msg, enc, sizeof enc) < 0) snprintf(enc, sizeof enc, "error");
  int n = snprintf(line, sizeof line, "error %s %d %d %s\n", err->step, err->errnum, code, enc);
  if (n > 0) (void)write_all(child_fds->msg, line, (size_t)n);
  _exit(code);
}

static int wait_go(int fd) {
  char b;
  for (;;) {
    ssize_t r = read(fd, &b, 1);
    if (r < 0 && errno == EINTR) continue;
    return r == 1 ? 0 : -1;
  }
}

static int join_namespaces(const struct berth_launch *l, struct berth_err *err) {
  /* user first: it owns the others, and joining it gives the capabilities to join them (setns
   * into a namespace needs CAP_SYS_ADMIN in its owner); mount last: once in another mount
   * namespace the other paths may no longer resolve */
  static const int order[] = {BERTH_NS_USER, BERTH_NS_NET, BERTH_NS_IPC, BERTH_NS_UTS, BERTH_NS_CGROUP, BERTH_NS_MOUNT};
  for (size_t i = 0; i < ARRAY_LEN(order); i++) {
    int t = order[i];
    if (l->ns[t].mode != BERTH_NS_JOIN) continue;
    cleanup_close int fd = open(l->ns[t].path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return berth_error(err, errno, "namespace", "open %s namespace `%s`", berth_ns_name(t), l->ns[t].path);
    if (setns(fd, ns_flags[t]) < 0)
      return berth_error(err, errno, "namespace", "join %s namespace `%s`", berth_ns_name(t), l->ns[t].path);
  }
  return 0;
}

static int write_file(const char *path, const char *value, const char *step, struct berth_err *err) {
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return berth_error(err, errno, step, "open `%s`", path);
  if (write_all(fd, value, strlen(value)) < 0) return berth_error(err, errno, step, "write `%s` to `%s`", value, path);
  return 0;
}

static int apply_sysctls(const struct berth_launch *l, struct berth_err *err) {
  for (size_t i = 0; i < l->n_sysctls; i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "/proc/sys/%s", l->sysctls[i].key);
    for (char *p = path + 10; *p; p++)
      if (*p == '.') *p = '/';
    if (write_file(path, l->sysctls[i].value, "sysctl", err) < 0) return -1;
  }
  return 0;
}

static int apply_rlimits(const struct berth_launch *l, struct berth_err *err) {
  for (size_t i = 0; i < l->n_rlimits; i++) {
    const struct berth_rlimit *r = &l->rlimits[i];
    struct rlimit cur, want = {.rlim_cur = r->soft, .rlim_max = r->hard};
    if (setrlimit(r->resource, &want) == 0) continue;
    int e = errno;
    if (e == EPERM && getrlimit(r->resource, &cur) == 0 && r->hard > cur.rlim_max)
      return berth_error(err, e, "rlimit",
                         "%s: cannot raise the hard limit to %llu above the shim's %llu without CAP_SYS_RESOURCE", r->name,
                         (unsigned long long)r->hard, (unsigned long long)cur.rlim_max);
    return berth_error(err, e, "rlimit", "%s: set soft %llu hard %llu", r->name, (unsigned long long)r->soft,
                       (unsigned long long)r->hard);
  }
  return 0;
}

static const char *env_get(const struct berth_launch *l, const char *name) {
  size_t n = strlen(name);
  for (size_t i = 0; i < l->n_env; i++)
    if (strncmp(l->env[i], name, n) == 0 && l->env[i][n] == '=') return l->env[i] + n + 1;
  return NULL;
}

/* Go's exec.LookPath as runc uses it, with docker's messages (exit 127 and 126). */
static int look_path(const struct berth_launch *l, char *out, size_t size, int *code, struct berth_err *err) {
  const char *name = l->args[0];
  struct stat st;
  if (strchr(name, '/')) {
    if (stat(name, &st) < 0) {
      *code = errno == ENOENT ? BERTH_EXIT_NOT_FOUND : BERTH_EXIT_CANNOT_EXEC;
      return berth_error(err, errno, "exec", "exec: \"%s\": stat %s", name, name);
    }
    if (S_ISDIR(st.st_mode) || !(st.st_mode & 0111)) {
      *code = BERTH_EXIT_CANNOT_EXEC;
      return berth_error(err, EACCES, "exec", "exec: \"%s\"", name);
    }
    snprintf(out, size, "%s", name);
    return 0;
  }
  const char *path = env_get(l, "PATH");
  if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const char *p = path;;) {
    const char *colon = strchr(p, ':');
    size_t dl = colon ? (size_t)(colon - p) : strlen(p);
    if (snprintf(out, size, "%.*s/%s", (int)dl, dl ? p : ".", name) < (int)size && stat(out, &st) == 0 &&
        S_ISREG(st.st_mode) && (st.st_mode & 0111))
      return 0;
    if (!colon) break;
    p = colon + 1;
  }
  *code = BERTH_EXIT_NOT_FOUND;
  return berth_error(err, 0, "exec", "exec: \"%s\": executable file not found in $PATH", name);
}

/* The pty, opened in the container's own devpts (its /dev/ptmx, after pivot_root or after
 * joining its mount namespace) so that `tty` names /dev/pts/N inside the container, as runc's
 * console socket does. The master goes to the shim with SCM_RIGHTS on the message socket
 * (one byte 'P'); the slave becomes our controlling terminal and stdio, and /dev/console. */
static int setup_terminal(const struct berth_launch *l, int msgfd, struct berth_err *err) {
  cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return berth_error(err, errno, "terminal", "open `/dev/ptmx` in the container");
  int unlock = 0, ptn = -1;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &ptn) < 0)
    return berth_error(err, errno, "terminal", "unlock the pty");
  cleanup_close int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) return berth_error(err, errno, "terminal", "open the pty slave /dev/pts/%d", ptn);
  struct winsize ws = {.ws_row = (unsigned short)l->rows, .ws_col = (unsigned short)l->cols};
  if ((l->rows || l->cols) && ioctl(slave, TIOCSWINSZ, &ws) < 0)
    return berth_error(err, errno, "terminal", "set the window size %ux%u", l->rows, l->cols);
  /* the process's own user owns its terminal (docker: crw--w---- <uid> tty) */
  if (fchown(slave, l->uid, (gid_t)-1) < 0) return berth_error(err, errno, "terminal", "chown /dev/pts/%d", ptn);
  if (l->rootfs) {
    char pts[64];
    snprintf(pts, sizeof pts, "/dev/pts/%d", ptn);
    int cfd = open("/dev/console", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (cfd < 0) return berth_error(err, errno, "terminal", "create `/dev/console`");
    close(cfd);
    if (mount(pts, "/dev/console", NULL, MS_BIND, NULL) < 0)
      return berth_error(err, errno, "terminal", "bind `%s` on `/dev/console`", pts);
  }
  char byte = 'P';
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &master, sizeof(int));
  if (sendmsg(msgfd, &mh, MSG_NOSIGNAL) != 1) return berth_error(err, errno, "terminal", "pass the pty master to the shim");
  if (setsid() < 0) return berth_error(err, errno, "terminal", "setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0) return berth_error(err, errno, "terminal", "make /dev/pts/%d the controlling terminal", ptn);
  for (int i = 0; i < 3; i++)
    if (dup2(slave, i) < 0) return berth_error(err, errno, "terminal", "dup2 the pty to fd %d", i);
  return 0;
}

/* `ip link set lo up` in the new network namespace: SIOCSIFFLAGS on any socket of the
 * namespace (netdevice(7)), without spawning ip(8) */
static int loopback_up(struct berth_err *err) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return berth_error(err, errno, "network", "socket for the loopback device");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, "lo", 3);
  int r = ioctl(fd, SIOCGIFFLAGS, &ifr);
  if (r == 0 && !(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP;
    r = ioctl(fd, SIOCSIFFLAGS, &ifr);
  }
  int saved = errno;
  close(fd);
  if (r < 0) return berth_error(err, saved, "network", "bring `lo` up");
  return 0;
}

void berth_container_init(const struct berth_launch *l, const struct berth_child_fds *fds) {
  struct berth_err err = {0};
  char exe[PATH_MAX];
  int code = BERTH_EXIT_FAILURE;
  child_fds = fds;
  /* if the shim dies during setup, so do we; cleared before execve */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (wait_go(fds->go) < 0) _exit(BERTH_EXIT_FAILURE);
  /* in its cgroups before anything else, as the host's root (no namespace joined yet) */
  if (berth_cgjoin_self(l, &err) < 0) fail(&err, code);
  int std[3] = {fds->in, fds->out, fds->errfd};
  for (int i = 0; i < 3; i++)
    if (std[i] >= 0 && dup2(std[i], i) < 0) {
      berth_error(&err, errno, "stdio", "dup2 fd %d", i);
      fail(&err, code);
    }
  if (join_namespaces(l, &err) < 0) fail(&err, code);
  if (berth_userns_become_root(l, &err) < 0) fail(&err, code);
  if (l->ns[BERTH_NS_CGROUP].mode == BERTH_NS_NEW && unshare(CLONE_NEWCGROUP) < 0) {
    berth_error(&err, errno, "namespace", "unshare the cgroup namespace");
    fail(&err, code);
  }
  if (l->hostname && sethostname(l->hostname, strlen(l->hostname)) < 0) {
    berth_error(&err, errno, "hostname", "sethostname `%s`", l->hostname);
    fail(&err, code);
  }
  if (l->net_loopback && loopback_up(&err) < 0) fail(&err, code);
  if (l->rootfs && berth_mounts_prepare(l, &err) < 0) fail(&err, code);
  if (l->terminal && setup_terminal(l, fds->msg, &err) < 0) fail(&err, code);
  if (apply_sysctls(l, &err) < 0) fail(&err, code);
  if (l->rootfs && berth_mounts_finish(l, &err) < 0) fail(&err, code);
  if (l->has_oom_score_adj) {
    char v[16];
    snprintf(v, sizeof v, "%d", l->oom_score_adj);
    if (write_file("/proc/self/oom_score_adj", v, "oom_score_adj", &err) < 0) fail(&err, code);
  }
  if (apply_rlimits(l, &err) < 0) fail(&err, code);
  umask(l->umask >= 0 ? (mode_t)l->umask : 022);
  if (l->seccomp && !l->no_new_privs && berth_seccomp_load(l->seccomp, l->seccomp_len, &err) < 0) fail(&err, code);
  if (l->has_caps && berth_caps_bound(l->cap_bounding, &err) < 0) fail(&err, code);
  if (setgroups(l->n_groups, l->groups) < 0) {
    berth_error(&err, errno, "user", "setgroups (%zu groups)", l->n_groups);
    fail(&err, code);
  }
  if (setresgid(l->gid, l->gid, l->gid) < 0) {
    berth_error(&err, errno, "user", "setgid %u", (unsigned)l->gid);
    fail(&err, code);
  }
  if (setresuid(l->uid, l->uid, l->uid) < 0) {
    berth_error(&err, errno, "user", "setuid %u", (unsigned)l->uid);
    fail(&err, code);
  }
  if (l->has_caps &&
      berth_caps_apply(l->cap_effective, l->cap_permitted, l->cap_inheritable, l->cap_ambient, &err) < 0)
    fail(&err, code);
  if (l->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    berth_error(&err, errno, "no_new_privs", "PR_SET_NO_NEW_PRIVS");
    fail(&err, code);
  }
  if (chdir(l->cwd) < 0) {
    berth_error(&err, errno, "cwd", "chdir to cwd `%s`", l->cwd);
    fail(&err, code);
  }
  if (look_path(l, exe, sizeof exe, &code, &err) < 0) fail(&err, code);
  if (l->start_wait) {
    if (write_all(fds->msg, "ready\n", 6) < 0 || wait_go(fds->go) < 0) _exit(BERTH_EXIT_FAILURE);
  }
  sigset_t mask;
  if (l->sigblock) sigfillset(&mask);
  else sigemptyset(&mask);
  sigprocmask(SIG_SETMASK, &mask, NULL);
  signal(SIGPIPE, SIG_DFL);
  prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  if (l->seccomp && l->no_new_privs && berth_seccomp_load(l->seccomp, l->seccomp_len, &err) < 0) fail(&err, code);
  close(fds->go);
  execve(exe, l->args, l->env);
  int e = errno;
  code = e == ENOENT ? BERTH_EXIT_NOT_FOUND : BERTH_EXIT_CANNOT_EXEC;
  berth_error(&err, e, "exec", "exec: \"%s\"", exe);
  fail(&err, code);
}
