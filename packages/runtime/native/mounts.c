/* mounts.c: rootfs setup in the child. Targets inside the rootfs are resolved with openat2(2)
 * RESOLVE_IN_ROOT (Linux 5.6) and mounted through /proc/self/fd/N, as runc does with
 * securejoin, so a symlink in the image cannot send a mount outside the rootfs. */
#define _GNU_SOURCE
#include "mounts.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

static int open_in_root(int rootfd, const char *path, int flags) {
  while (*path == '/') path++;
  if (*path == '\0') path = ".";
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

/* mkdir -p inside the root; the last component is a directory, or a file when as_file. */
static int mkpath_in_root(int rootfd, const char *path, int as_file, struct berth_err *err) {
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return berth_error(err, ENAMETOOLONG, "mount", "`%s`", path);
  size_t len = strlen(buf);
  for (size_t i = 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    if (buf[i - 1] == '/') continue;
    int last = buf[i] == '\0' || (buf[i] == '/' && buf[i + 1] == '\0');
    char saved = buf[i];
    buf[i] = '\0';
    cleanup_close int fd = open_in_root(rootfd, buf, O_PATH);
    if (fd < 0 && errno != ENOENT) return berth_error(err, errno, "mount", "resolve `%s` in rootfs", buf);
    if (fd < 0) {
      char *slash = strrchr(buf, '/');
      const char *name = slash ? slash + 1 : buf;
      char parent[PATH_MAX];
      snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - buf) : 0, buf);
      cleanup_close int pfd = open_in_root(rootfd, parent[0] ? parent : "/", O_PATH | O_DIRECTORY);
      if (pfd < 0) return berth_error(err, errno, "mount", "resolve `%s` in rootfs", parent[0] ? parent : "/");
      int r = (last && as_file) ? mknodat(pfd, name, S_IFREG | 0644, 0) : mkdirat(pfd, name, 0755);
      if (r < 0 && errno != EEXIST) return berth_error(err, errno, "mount", "create `%s` in rootfs", buf);
    }
    buf[i] = saved;
  }
  return 0;
}

static int fd_path(int fd, char *out, size_t size) { return snprintf(out, size, "/proc/self/fd/%d", fd) < (int)size ? 0 : -1; }

/* Propagation and read-only flags need a second call (mount(2): MS_REMOUNT|MS_BIND). */
static int remount_target(int rootfd, const char *dest, unsigned long flags, const char *data, struct berth_err *err) {
  char p[64];
  cleanup_close int fd = open_in_root(rootfd, dest, O_PATH);
  if (fd < 0) return berth_error(err, errno, "mount", "resolve `%s` in rootfs", dest);
  fd_path(fd, p, sizeof p);
  if (mount(NULL, p, NULL, flags, data) < 0) return berth_error(err, errno, "mount", "remount `%s`", dest);
  return 0;
}

/* In a user namespace that may not mount cgroupfs (the host's cgroup namespace), the
 * container's own cgroup of hierarchy `dir` is bound from the host instead, as runc does. */
static int bind_host_cgroup(const char *dir, const char *path, const char *target, struct berth_err *err) {
  char src[PATH_MAX];
  if (snprintf(src, sizeof src, "/sys/fs/cgroup/%s%s", dir, path) >= (int)sizeof src)
    return berth_error(err, ENAMETOOLONG, "mount", "cgroup `%s`", dir);
  if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) < 0) return berth_error(err, errno, "mount", "bind cgroup `%s`", src);
  return 0;
}

/* sysfs needs a network namespace owned by the caller's user namespace, mqueue an ipc one:
 * with the host's, a user namespace binds the host's mount instead (runc's fallback). */
static int bind_host_fs(int rootfd, const struct berth_mount *m, struct berth_err *err) {
  const char *src = strcmp(m->type, "sysfs") == 0 ? "/sys" : "/dev/mqueue";
  char p[64];
  cleanup_close int fd = open_in_root(rootfd, m->destination, O_PATH);
  if (fd < 0) return berth_error(err, errno, "mount", "resolve `%s` in rootfs", m->destination);
  fd_path(fd, p, sizeof p);
  if (mount(src, p, NULL, MS_BIND | MS_REC, NULL) < 0) return berth_error(err, errno, "mount", "bind `%s` on `%s`", src, m->destination);
  unsigned long rf = m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  if (rf && remount_target(rootfd, m->destination, MS_BIND | MS_REMOUNT | rf, NULL, err) < 0) return -1;
  return 0;
}

static int mount_cgroup_v1(int rootfd, const struct berth_launch *l, const struct berth_mount *m, struct berth_err *err) {
  char p[64], sub[PATH_MAX], line[4096];
  cleanup_close int fd = open_in_root(rootfd, m->destination, O_PATH | O_DIRECTORY);
  if (fd < 0) return berth_error(err, errno, "mount", "resolve `%s` in rootfs", m->destination);
  fd_path(fd, p, sizeof p);
  unsigned long fl = (m->flags & ~MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (mount("tmpfs", p, "tmpfs", fl, "mode=755") < 0) return berth_error(err, errno, "mount", "tmpfs on `%s`", m->destination);
  FILE *f = fopen("/proc/self/cgroup", "re");
  if (!f) return berth_error(err, errno, "mount", "open `/proc/self/cgroup`");
  int rc = 0;
  while (rc == 0 && fgets(line, sizeof line, f)) {
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) continue;
    *c1 = *c2 = '\0';
    char *ctrls = c1 + 1, *path = c2 + 1;
    path[strcspn(path, "\n")] = '\0';
    if (ctrls[0] == '\0') continue; /* the v2 line of a hybrid host: not mounted, as runc */
    const char *dir = strncmp(ctrls, "name=", 5) == 0 ? ctrls + 5 : ctrls;
    if (strchr(dir, '/') || strstr(dir, "..")) continue;
    char data[512];
    snprintf(data, sizeof data, "%s%s", strncmp(ctrls, "name=", 5) == 0 ? "none," : "", ctrls);
    snprintf(sub, sizeof sub, "%s/%s", m->destination, dir);
    if (mkpath_in_root(rootfd, sub, 0, err) < 0) return fclose(f), -1;
    cleanup_close int sfd = open_in_root(rootfd, sub, O_PATH | O_DIRECTORY);
    if (sfd < 0) return fclose(f), berth_error(err, errno, "mount", "resolve `%s` in rootfs", sub);
    char sp[64];
    fd_path(sfd, sp, sizeof sp);
    int bound = 0;
    if (mount("cgroup", sp, "cgroup", fl, data) < 0) {
      int e = errno;
      /* a user namespace that does not own the cgroup namespace may not mount cgroupfs */
      if (e != EPERM || l->ns[BERTH_NS_USER].mode == BERTH_NS_HOST) {
        rc = berth_error(err, e, "mount", "cgroup `%s` on `%s`", ctrls, sub);
        break;
      }
      if ((rc = bind_host_cgroup(dir, path, sp, err)) < 0) break;
      bound = 1;
    }
    if (!bound && l->ns[BERTH_NS_CGROUP].mode == BERTH_NS_HOST && strcmp(path, "/") != 0) {
      /* host cgroup namespace: show only the container's own cgroup, as runc binds it */
      char inner[PATH_MAX];
      snprintf(inner, sizeof inner, "%s%s", sub, path);
      cleanup_close int ifd = open_in_root(rootfd, inner, O_PATH | O_DIRECTORY);
      cleanup_close int tfd = open_in_root(rootfd, sub, O_PATH | O_DIRECTORY);
      char ip[64], tp[64];
      if (ifd < 0 || tfd < 0) {
        rc = berth_error(err, errno, "mount", "resolve `%s` in rootfs", inner);
        break;
      }
      fd_path(ifd, ip, sizeof ip);
      fd_path(tfd, tp, sizeof tp);
      if (mount(ip, tp, NULL, MS_BIND, NULL) < 0) {
        rc = berth_error(err, errno, "mount", "bind `%s`", inner);
        break;
      }
    }
    if (m->flags & MS_RDONLY) rc = remount_target(rootfd, sub, MS_BIND | MS_REMOUNT | MS_RDONLY | fl, NULL, err);
    /* co-mounted controllers (cpu,cpuacct) get a symlink per name, as on the host */
    if (rc == 0 && strchr(dir, ',')) {
      char names[512];
      snprintf(names, sizeof names, "%s", dir);
      cleanup_close int dfd = open_in_root(rootfd, m->destination, O_PATH | O_DIRECTORY);
      for (char *s = NULL, *tok = strtok_r(names, ",", &s); dfd >= 0 && tok; tok = strtok_r(NULL, ",", &s))
        if (symlinkat(dir, dfd, tok) < 0 && errno != EEXIST) {
          rc = berth_error(err, errno, "mount", "symlink `%s/%s`", m->destination, tok);
          break;
        }
    }
  }
  fclose(f);
  /* the tmpfs holding the hierarchies stays rw, as under docker with runc 1.1 and crun: only
   * the hierarchies are read-only (oci-runtimes.int.test.ts compares) */
  return rc;
}

static int do_mount(int rootfd, const struct berth_launch *l, const struct berth_mount *m, struct berth_err *err) {
  char p[64];
  int src_is_file = 0;
  if (m->bind) {
    struct stat st;
    if (stat(m->source, &st) < 0) return berth_error(err, errno, "mount", "bind source `%s`", m->source);
    src_is_file = !S_ISDIR(st.st_mode);
  }
  if (mkpath_in_root(rootfd, m->destination, src_is_file, err) < 0) return -1;
  if (strcmp(m->type, "cgroup") == 0) {
    struct statfs sfs;
    if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) {
      cleanup_close int fd = open_in_root(rootfd, m->destination, O_PATH | O_DIRECTORY);
      if (fd < 0) return berth_error(err, errno, "mount", "resolve `%s` in rootfs", m->destination);
      fd_path(fd, p, sizeof p);
      if (mount("cgroup2", p, "cgroup2", m->flags, NULL) < 0) return berth_error(err, errno, "mount", "cgroup2 on `%s`", m->destination);
      return 0;
    }
    return mount_cgroup_v1(rootfd, l, m, err);
  }
  cleanup_close int fd = open_in_root(rootfd, m->destination, O_PATH);
  if (fd < 0) return berth_error(err, errno, "mount", "resolve `%s` in rootfs", m->destination);
  fd_path(fd, p, sizeof p);
  if (m->bind) {
    if (mount(m->source, p, NULL, MS_BIND | (m->bind == 2 ? MS_REC : 0), NULL) < 0)
      return berth_error(err, errno, "mount", "bind `%s` on `%s`", m->source, m->destination);
    unsigned long rf = m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME);
    if (rf && remount_target(rootfd, m->destination, MS_BIND | MS_REMOUNT | rf, NULL, err) < 0) return -1;
  } else {
    if (mount(m->source, p, m->type, m->flags, m->data[0] ? m->data : NULL) < 0) {
      int e = errno;
      if (!(e == EPERM && l->ns[BERTH_NS_USER].mode != BERTH_NS_HOST &&
            (strcmp(m->type, "sysfs") == 0 || strcmp(m->type, "mqueue") == 0)))
        return berth_error(err, e, "mount", "%s `%s` on `%s`", m->type, m->source, m->destination);
      if (bind_host_fs(rootfd, m, err) < 0) return -1;
    }
  }
  if (m->propagation && remount_target(rootfd, m->destination, m->propagation, NULL, err) < 0) return -1;
  return 0;
}

static int make_device(int rootfd, const struct berth_device *d, struct berth_err *err) {
  if (mkpath_in_root(rootfd, d->path, 1, err) < 0) return -1; /* parents, and a placeholder */
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%s", d->path);
  char *slash = strrchr(parent, '/');
  const char *name = d->path + (slash - parent) + 1;
  *slash = '\0';
  cleanup_close int pfd = open_in_root(rootfd, parent[0] ? parent : "/", O_PATH | O_DIRECTORY);
  if (pfd < 0) return berth_error(err, errno, "device", "resolve `%s` in rootfs", parent);
  mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
  if (unlinkat(pfd, name, 0) < 0 && errno != ENOENT) return berth_error(err, errno, "device", "replace `%s`", d->path);
  if (mknodat(pfd, name, type | (d->mode & 07777), makedev(d->major, d->minor)) < 0) {
    if (errno != EPERM) return berth_error(err, errno, "device", "mknod `%s`", d->path);
    /* no CAP_MKNOD (a user namespace): bind the host's node instead, as runc does */
    if (mknodat(pfd, name, S_IFREG | 0644, 0) < 0) return berth_error(err, errno, "device", "create `%s`", d->path);
    cleanup_close int fd = open_in_root(rootfd, d->path, O_PATH);
    char p[64];
    if (fd < 0) return berth_error(err, errno, "device", "resolve `%s`", d->path);
    fd_path(fd, p, sizeof p);
    if (mount(d->path, p, NULL, MS_BIND, NULL) < 0) return berth_error(err, errno, "device", "bind `%s`", d->path);
    return 0;
  }
  if (fchownat(pfd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0) return berth_error(err, errno, "device", "chown `%s`", d->path);
  return 0;
}

static int dev_symlinks(int rootfd, struct berth_err *err) {
  static const char *links[][2] = {
      {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
  };
  cleanup_close int dfd = open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
  if (dfd < 0) return berth_error(err, errno, "mount", "resolve `/dev` in rootfs");
  for (size_t i = 0; i < ARRAY_LEN(links); i++)
    if (symlinkat(links[i][0], dfd, links[i][1]) < 0 && errno != EEXIST)
      return berth_error(err, errno, "mount", "symlink `/dev/%s`", links[i][1]);
  /* devpts newinstance: /dev/ptmx points at the instance's ptmx (runc setupPtmx) */
  if (unlinkat(dfd, "ptmx", 0) < 0 && errno != ENOENT) return berth_error(err, errno, "mount", "remove `/dev/ptmx`");
  if (symlinkat("pts/ptmx", dfd, "ptmx") < 0) return berth_error(err, errno, "mount", "symlink `/dev/ptmx`");
  if (access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", dfd, "core") < 0 && errno != EEXIST)
    return berth_error(err, errno, "mount", "symlink `/dev/core`");
  return 0;
}

int berth_mounts_prepare(const struct berth_launch *l, struct berth_err *err) {
  if (mount(NULL, "/", NULL, l->rootfs_propagation, NULL) < 0) return berth_error(err, errno, "mount", "make `/` %s", "private");
  if (mount(l->rootfs, l->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return berth_error(err, errno, "mount", "bind rootfs `%s`", l->rootfs);
  cleanup_close int rootfd = open(l->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (rootfd < 0) return berth_error(err, errno, "mount", "open rootfs `%s`", l->rootfs);
  mode_t old = umask(0);
  int setup_dev = 0;
  for (size_t i = 0; i < l->n_mounts; i++) {
    if (do_mount(rootfd, l, &l->mounts[i], err) < 0) return umask(old), -1;
    if (strcmp(l->mounts[i].destination, "/dev") == 0) setup_dev = !l->mounts[i].bind;
  }
  for (size_t i = 0; i < l->n_devices; i++)
    if (make_device(rootfd, &l->devices[i], err) < 0) return umask(old), -1;
  umask(old);
  if (setup_dev && dev_symlinks(rootfd, err) < 0) return -1;
  /* pivot_root(".", ".") then detach the old root: runc's trick, no temporary directory */
  if (fchdir(rootfd) < 0) return berth_error(err, errno, "pivot_root", "chdir `%s`", l->rootfs);
  if (syscall(SYS_pivot_root, ".", ".") < 0) return berth_error(err, errno, "pivot_root", "`%s`", l->rootfs);
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) return berth_error(err, errno, "pivot_root", "make old root slave");
  if (umount2(".", MNT_DETACH) < 0) return berth_error(err, errno, "pivot_root", "detach old root");
  if (chdir("/") < 0) return berth_error(err, errno, "pivot_root", "chdir `/`");
  return 0;
}

static unsigned long vfs_flags(const char *path) {
  struct statvfs sv;
  unsigned long f = 0;
  if (statvfs(path, &sv) < 0) return 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  return f;
}

int berth_mounts_finish(const struct berth_launch *l, struct berth_err *err) {
  if (l->rootfs_readonly && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | vfs_flags("/"), NULL) < 0)
    return berth_error(err, errno, "mount", "remount `/` read-only");
  for (size_t i = 0; i < l->n_masked; i++) {
    const char *p = l->masked[i];
    struct stat st;
    if (lstat(p, &st) < 0) {
      if (errno == ENOENT) continue;
      return berth_error(err, errno, "masked_path", "`%s`", p);
    }
    int r = S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL) : mount("/dev/null", p, NULL, MS_BIND, NULL);
    if (r < 0) return berth_error(err, errno, "masked_path", "`%s`", p);
  }
  for (size_t i = 0; i < l->n_readonly; i++) {
    const char *p = l->readonly[i];
    if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
      if (errno == ENOENT) continue;
      return berth_error(err, errno, "readonly_path", "bind `%s`", p);
    }
    if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | vfs_flags(p), NULL) < 0)
      return berth_error(err, errno, "readonly_path", "remount `%s` read-only", p);
  }
  return 0;
}
