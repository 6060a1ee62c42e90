/* userns.c: user namespace maps and idmapped mounts (userns.h). */
#define _GNU_SOURCE
#include "userns.h"

#include <fcntl.h>
#include <inttypes.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* One write of every line: the kernel takes a map in a single write(2) only. */
static int write_map(pid_t pid, const char *file, const struct berth_idmap *m, size_t n, struct berth_err *err) {
  char path[64], buf[BERTH_IDMAP_MAX * 36];
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(buf + len, sizeof buf - len, "%" PRIu32 " %" PRIu32 " %" PRIu32 "\n", m[i].container, m[i].host,
                            m[i].size);
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return berth_error(err, errno, "userns", "open `%s`", path);
  if (write(fd, buf, len) != (ssize_t)len) return berth_error(err, errno, "userns", "write %zu lines to `%s`", n, path);
  return 0;
}

/* newuidmap PID C H N ... (shadow's setuid helpers check /etc/subuid for a caller not root) */
static int run_helper(const char *helper, pid_t pid, const struct berth_idmap *m, size_t n, struct berth_err *err) {
  char *argv[2 + BERTH_IDMAP_MAX * 3 + 1];
  static char nums[BERTH_IDMAP_MAX * 3 + 1][12];
  size_t a = 0, k = 0;
  argv[a++] = (char *)helper;
  snprintf(nums[k], sizeof nums[k], "%d", (int)pid);
  argv[a++] = nums[k++];
  for (size_t i = 0; i < n; i++) {
    uint32_t v[3] = {m[i].container, m[i].host, m[i].size};
    for (int j = 0; j < 3; j++) {
      snprintf(nums[k], sizeof nums[k], "%" PRIu32, v[j]);
      argv[a++] = nums[k++];
    }
  }
  argv[a] = NULL;
  pid_t c = fork();
  if (c < 0) return berth_error(err, errno, "userns", "fork for %s", helper);
  if (c == 0) {
    execvp(helper, argv);
    _exit(127);
  }
  int st;
  while (waitpid(c, &st, 0) < 0)
    if (errno != EINTR) return berth_error(err, errno, "userns", "wait for %s", helper);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return berth_error(err, EPERM, "userns", "%s %d failed (status %d%s)", helper, (int)pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
                       WIFEXITED(st) && WEXITSTATUS(st) == 127 ? ", not installed" : "");
  return 0;
}

int berth_userns_write_maps(pid_t pid, const struct berth_idmap *uid, size_t n_uid, const struct berth_idmap *gid,
                            size_t n_gid, struct berth_err *err) {
  if (geteuid() == 0) {
    /* gid_map first is no rule; uid first is what runc does */
    if (write_map(pid, "uid_map", uid, n_uid, err) < 0) return -1;
    return write_map(pid, "gid_map", gid, n_gid, err);
  }
  if (run_helper("newuidmap", pid, uid, n_uid, err) < 0) return -1;
  return run_helper("newgidmap", pid, gid, n_gid, err);
}

static int mapped(const struct berth_idmap *m, size_t n, uint32_t id) {
  for (size_t i = 0; i < n; i++)
    if (id >= m[i].container && id - m[i].container < m[i].size) return 1;
  return 0;
}

int berth_userns_become_root(const struct berth_launch *l, struct berth_err *err) {
  enum berth_ns_mode mode = l->ns[BERTH_NS_USER].mode;
  if (mode == BERTH_NS_HOST) return 0;
  int gid0 = mode == BERTH_NS_JOIN || mapped(l->gid_maps, l->n_gid_maps, 0);
  int uid0 = mode == BERTH_NS_JOIN || mapped(l->uid_maps, l->n_uid_maps, 0);
  /* a joined namespace whose maps lack 0 refuses with EINVAL: the later setresuid decides */
  if (gid0 && setresgid(0, 0, 0) < 0 && !(mode == BERTH_NS_JOIN && errno == EINVAL))
    return berth_error(err, errno, "userns", "setgid 0 in the user namespace");
  if (uid0 && setresuid(0, 0, 0) < 0 && !(mode == BERTH_NS_JOIN && errno == EINVAL))
    return berth_error(err, errno, "userns", "setuid 0 in the user namespace");
  return 0;
}

/* u:C:H:N or g:C:H:N */
static int parse_map_arg(const char *s, char *kind, struct berth_idmap *m) {
  unsigned long long c, h, n;
  char k, tail;
  if (sscanf(s, "%c:%llu:%llu:%llu%c", &k, &c, &h, &n, &tail) != 4 || (k != 'u' && k != 'g')) return -1;
  if (n == 0 || c + n > UINT32_MAX || h + n > UINT32_MAX) return -1;
  *kind = k;
  *m = (struct berth_idmap){(uint32_t)c, (uint32_t)h, (uint32_t)n};
  return 0;
}

/* A user namespace holding the maps, as an fd: a child unshares one and waits while we write
 * its maps and open it, then exits. */
static int userns_fd(const struct berth_idmap *uid, size_t nu, const struct berth_idmap *gid, size_t ng, struct berth_err *err) {
  int ready[2], done[2];
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0) return berth_error(err, errno, "idmap", "pipe");
  pid_t c = fork();
  if (c < 0) return berth_error(err, errno, "idmap", "fork");
  if (c == 0) {
    close(ready[0]);
    close(done[1]);
    char b = unshare(CLONE_NEWUSER) == 0 ? 'k' : 'e';
    if (write(ready[1], &b, 1) != 1) _exit(1);
    (void)!read(done[0], &b, 1);
    _exit(0);
  }
  close(ready[1]);
  close(done[0]);
  char b = 0;
  int fd = -1;
  if (read(ready[0], &b, 1) != 1 || b != 'k')
    berth_error(err, EPERM, "idmap", "unshare a user namespace for the idmap");
  else if (berth_userns_write_maps(c, uid, nu, gid, ng, err) == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)c);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) berth_error(err, errno, "idmap", "open `%s`", path);
  }
  close(done[1]);
  close(ready[0]);
  while (waitpid(c, NULL, 0) < 0 && errno == EINTR) {
  }
  return fd;
}

static int idmap_mount(const char *src, const char *dst, const struct berth_idmap *uid, size_t nu, const struct berth_idmap *gid,
                       size_t ng, struct berth_err *err) {
  cleanup_close int ns = userns_fd(uid, nu, gid, ng, err);
  if (ns < 0) return -1;
  cleanup_close int tree = (int)syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) return berth_error(err, errno, "idmap", "open_tree `%s`", src);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)ns};
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    return berth_error(err, errno, "idmap", "idmap `%s` (its filesystem must support idmapped mounts)", src);
  if (syscall(SYS_move_mount, tree, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return berth_error(err, errno, "idmap", "attach the idmapped `%s` at `%s`", src, dst);
  return 0;
}

int berth_idmap_mount_main(int argc, char **argv) {
  struct berth_err err = {0};
  struct berth_idmap uid[BERTH_IDMAP_MAX], gid[BERTH_IDMAP_MAX];
  size_t nu = 0, ng = 0;
  if (argc < 4) {
    fprintf(stderr, "usage: berth-shim --idmap-mount SRC DST u:C:H:N... g:C:H:N...\n");
    return 125;
  }
  const char *src = argv[0], *dst = argv[1];
  for (int i = 2; i < argc; i++) {
    char k;
    struct berth_idmap m;
    if (parse_map_arg(argv[i], &k, &m) < 0 || (k == 'u' ? nu : ng) >= BERTH_IDMAP_MAX) {
      fprintf(stderr, "berth-shim: idmap: `%s` is not u:CONTAINER:HOST:SIZE or g:CONTAINER:HOST:SIZE\n", argv[i]);
      return 125;
    }
    if (k == 'u') uid[nu++] = m;
    else gid[ng++] = m;
  }
  if (!nu || !ng) {
    fprintf(stderr, "berth-shim: idmap: needs at least one u: and one g: map\n");
    return 125;
  }
  if (idmap_mount(src, dst, uid, nu, gid, ng, &err) == 0) return 0;
  fprintf(stderr, "berth-shim: %s: %s\n", err.step, err.msg);
  return 125;
}
