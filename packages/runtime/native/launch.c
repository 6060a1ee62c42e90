/* launch.c: decoder of the `berth.launch.v1` description (format documented in launch.h). The
 * input is hostile: every number is range checked, every path must be absolute, and every key
 * is from a closed set. */
#define _GNU_SOURCE
#include "launch.h"

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define MAX_FIELDS 4096

struct parse_ctx {
  const char *path;
  unsigned line;
  struct berth_err *err;
  uint64_t seen; /* bit per single-valued key */
};

static const char *ns_names[BERTH_NS_COUNT] = {"pid", "mount", "uts", "ipc", "net", "cgroup", "user"};

const char *berth_ns_name(enum berth_ns_type t) { return t < BERTH_NS_COUNT ? ns_names[t] : "?"; }

__attribute__((format(printf, 2, 3))) static int perr(struct parse_ctx *c, const char *fmt, ...) {
  char m[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m, sizeof m, fmt, ap);
  va_end(ap);
  return berth_error(c->err, EINVAL, "parse", "launch %s:%u: %s", c->path, c->line, m);
}

static int hexval(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* Decode one field in place. */
static int decode_field(struct parse_ctx *c, char *f) {
  char *w = f;
  for (char *r = f; *r; r++) {
    if (*r != '%') {
      *w++ = *r;
      continue;
    }
    int h = hexval((unsigned char)r[1]), l = h < 0 ? -1 : hexval((unsigned char)r[2]);
    if (h < 0 || l < 0) return perr(c, "bad %%-escape in field `%s`", f);
    if (h == 0 && l == 0) return perr(c, "%%00 is not allowed");
    *w++ = (char)(h * 16 + l);
    r += 2;
  }
  *w = '\0';
  return 0;
}

static int parse_u64(struct parse_ctx *c, const char *key, const char *s, int base, uint64_t max, uint64_t *out) {
  if (*s == '\0' || *s == '-' || *s == '+' || *s == ' ') return perr(c, "%s: `%s` is not a number", key, s);
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, base);
  if (errno || *end) return perr(c, "%s: `%s` is not a number", key, s);
  if (v > max) return perr(c, "%s: `%s` is out of range", key, s);
  *out = v;
  return 0;
}

static int parse_bool(struct parse_ctx *c, const char *key, const char *s, int *out) {
  if (strcmp(s, "0") == 0) *out = 0;
  else if (strcmp(s, "1") == 0) *out = 1;
  else return perr(c, "%s: `%s` is not 0 or 1", key, s);
  return 0;
}

static int check_abs(struct parse_ctx *c, const char *key, const char *p) {
  if (p[0] != '/') return perr(c, "%s: `%s` is not an absolute path", key, p);
  if (strlen(p) >= PATH_MAX) return perr(c, "%s: path too long", key);
  return 0;
}

static int grow(struct parse_ctx *c, void **arr, size_t *n, size_t size) {
  if (*n >= MAX_FIELDS) return perr(c, "too many entries");
  void *p = realloc(*arr, (*n + 1) * size);
  if (!p) return berth_error(c->err, ENOMEM, "parse", "launch %s: out of memory", c->path);
  *arr = p;
  memset((char *)p + *n * size, 0, size);
  (*n)++;
  return 0;
}

struct flag_opt {
  const char *name;
  int clear;
  unsigned long flag;
};

static const struct flag_opt mount_flags[] = {
    {"ro", 0, MS_RDONLY},          {"rw", 1, MS_RDONLY},         {"nosuid", 0, MS_NOSUID},
    {"suid", 1, MS_NOSUID},        {"nodev", 0, MS_NODEV},       {"dev", 1, MS_NODEV},
    {"noexec", 0, MS_NOEXEC},      {"exec", 1, MS_NOEXEC},       {"sync", 0, MS_SYNCHRONOUS},
    {"async", 1, MS_SYNCHRONOUS},  {"dirsync", 0, MS_DIRSYNC},   {"remount", 0, MS_REMOUNT},
    {"mand", 0, MS_MANDLOCK},      {"nomand", 1, MS_MANDLOCK},   {"atime", 1, MS_NOATIME},
    {"noatime", 0, MS_NOATIME},    {"diratime", 1, MS_NODIRATIME}, {"nodiratime", 0, MS_NODIRATIME},
    {"relatime", 0, MS_RELATIME},  {"norelatime", 1, MS_RELATIME}, {"strictatime", 0, MS_STRICTATIME},
    {"nostrictatime", 1, MS_STRICTATIME},
};

static const struct {
  const char *name;
  unsigned long flags;
} propagations[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},       {"slave", MS_SLAVE},
    {"rslave", MS_SLAVE | MS_REC}, {"shared", MS_SHARED},                   {"rshared", MS_SHARED | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

static int propagation_of(const char *s, unsigned long *out) {
  for (size_t i = 0; i < ARRAY_LEN(propagations); i++)
    if (strcmp(s, propagations[i].name) == 0) {
      *out = propagations[i].flags;
      return 1;
    }
  return 0;
}

static int parse_mount(struct parse_ctx *c, struct berth_launch *l, char **f, size_t n) {
  if (n < 3) return perr(c, "mount: expected <dest> <type> <source> [option...]");
  if (check_abs(c, "mount", f[0]) < 0) return -1;
  if (f[1][0] == '\0') return perr(c, "mount %s: empty type", f[0]);
  if (grow(c, (void **)&l->mounts, &l->n_mounts, sizeof *l->mounts) < 0) return -1;
  struct berth_mount *m = &l->mounts[l->n_mounts - 1];
  m->destination = f[0];
  m->type = f[1];
  m->source = f[2];
  size_t dlen = 0;
  for (size_t i = 3; i < n; i++) dlen += strlen(f[i]) + 1;
  m->data = calloc(1, dlen + 1);
  if (!m->data) return berth_error(c->err, ENOMEM, "parse", "out of memory");
  for (size_t i = 3; i < n; i++) {
    const char *o = f[i];
    int known = 0;
    if (strcmp(o, "bind") == 0) m->bind = m->bind ? m->bind : 1, known = 1;
    else if (strcmp(o, "rbind") == 0) m->bind = 2, known = 1;
    else if (propagation_of(o, &m->propagation)) known = 1;
    for (size_t j = 0; !known && j < ARRAY_LEN(mount_flags); j++)
      if (strcmp(o, mount_flags[j].name) == 0) {
        if (mount_flags[j].clear) m->flags &= ~mount_flags[j].flag;
        else m->flags |= mount_flags[j].flag;
        known = 1;
      }
    if (known) continue;
    if (o[0] == '\0' || strchr(o, ',')) return perr(c, "mount %s: bad option `%s`", f[0], o);
    if (m->data[0]) strcat(m->data, ",");
    strcat(m->data, o);
  }
  return 0;
}

static const struct {
  const char *name;
  int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},       {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},   {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},   {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_rlim_value(struct parse_ctx *c, const char *s, rlim_t *out) {
  if (strcmp(s, "unlimited") == 0) {
    *out = RLIM_INFINITY;
    return 0;
  }
  uint64_t v;
  if (parse_u64(c, "rlimit", s, 10, UINT64_MAX - 1, &v) < 0) return -1;
  *out = (rlim_t)v;
  return 0;
}

static int parse_hex_bytes(struct parse_ctx *c, const char *s, unsigned char **out, size_t *len) {
  size_t n = strlen(s);
  if (n == 0 || n % 16 != 0) return perr(c, "seccomp: program length %zu is not a multiple of 8 bytes", n / 2);
  if (n / 16 > 4096) return perr(c, "seccomp: program longer than 4096 instructions (BPF_MAXINSNS)");
  unsigned char *b = malloc(n / 2);
  if (!b) return berth_error(c->err, ENOMEM, "parse", "out of memory");
  for (size_t i = 0; i < n / 2; i++) {
    int h = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
    if (h < 0 || lo < 0) {
      free(b);
      return perr(c, "seccomp: not hex at offset %zu", 2 * i);
    }
    b[i] = (unsigned char)(h * 16 + lo);
  }
  *out = b;
  *len = n / 2;
  return 0;
}

enum key_id {
  K_ID, K_ROOTFS, K_ROOTFS_RO, K_ROOTFS_PROP, K_HOSTNAME, K_CAP_B, K_CAP_E, K_CAP_P, K_CAP_I, K_CAP_A,
  K_NNP, K_SECCOMP, K_USER, K_UMASK, K_CWD, K_ARGS, K_OOM, K_STDIO, K_LOG_PATH, K_LOG_SIZE, K_LOG_FILE,
  K_EXIT_FILE, K_EXIT_SYNC, K_PID_FILE, K_CONTROL, K_START, K_SYNC_FD, K_SYNC_CONTINUE, K_DAEMONIZE, K_SHIM_LOG, K_STDIN, K_TERMINAL,
  K_TERM_SIZE, K_OCI_RUNTIME, K_OCI_ROOT, K_OCI_BUNDLE, K_OCI_LOG, K_OCI_HIDE, K_NET_LO, K_HOOK_EXIT, K_HOOK_HEALTH,
  K_HOOK_INTERVAL, K_HOOK_CWD, K_SIGBLOCK, K_SINGLE_COUNT,
  K_NAMESPACE = 100, K_MOUNT, K_DEVICE, K_MASKED, K_READONLY, K_SYSCTL, K_RLIMIT, K_ENV, K_HOOK_ENV, K_UID_MAP, K_GID_MAP,
  K_CGROUP,
};

static const struct {
  const char *name;
  enum key_id id;
  int min, max; /* field counts */
} keys[] = {
    {"id", K_ID, 1, 1},
    {"rootfs", K_ROOTFS, 1, 1},
    {"rootfs.readonly", K_ROOTFS_RO, 1, 1},
    {"rootfs.propagation", K_ROOTFS_PROP, 1, 1},
    {"hostname", K_HOSTNAME, 1, 1},
    {"cap.bounding", K_CAP_B, 1, 1},
    {"cap.effective", K_CAP_E, 1, 1},
    {"cap.permitted", K_CAP_P, 1, 1},
    {"cap.inheritable", K_CAP_I, 1, 1},
    {"cap.ambient", K_CAP_A, 1, 1},
    {"no_new_privs", K_NNP, 1, 1},
    {"sigblock", K_SIGBLOCK, 1, 1},
    {"seccomp", K_SECCOMP, 1, 1},
    {"user", K_USER, 2, 65538},
    {"umask", K_UMASK, 1, 1},
    {"cwd", K_CWD, 1, 1},
    {"args", K_ARGS, 1, MAX_FIELDS},
    {"oom_score_adj", K_OOM, 1, 1},
    {"stdio", K_STDIO, 1, 1},
    {"log.path", K_LOG_PATH, 1, 1},
    {"log.max_size", K_LOG_SIZE, 1, 1},
    {"log.max_file", K_LOG_FILE, 1, 1},
    {"exit_file", K_EXIT_FILE, 1, 1},
    {"exit_file.sync", K_EXIT_SYNC, 1, 1},
    {"pid_file", K_PID_FILE, 1, 1},
    {"control_socket", K_CONTROL, 1, 1},
    {"start", K_START, 1, 1},
    {"sync_fd", K_SYNC_FD, 1, 1},
    {"sync.continue", K_SYNC_CONTINUE, 1, 1},
    {"daemonize", K_DAEMONIZE, 1, 1},
    {"shim.log", K_SHIM_LOG, 1, 1},
    {"stdin", K_STDIN, 1, 1},
    {"terminal", K_TERMINAL, 1, 1},
    {"terminal.size", K_TERM_SIZE, 2, 2},
    {"oci.runtime", K_OCI_RUNTIME, 1, 1},
    {"oci.root", K_OCI_ROOT, 1, 1},
    {"oci.bundle", K_OCI_BUNDLE, 1, 1},
    {"oci.log", K_OCI_LOG, 1, 1},
    {"oci.hide_cgroup2", K_OCI_HIDE, 1, 1},
    {"net.loopback", K_NET_LO, 1, 1},
    {"hook.exit", K_HOOK_EXIT, 1, MAX_FIELDS},
    {"hook.health", K_HOOK_HEALTH, 1, MAX_FIELDS},
    {"hook.health_interval", K_HOOK_INTERVAL, 1, 1},
    {"hook.cwd", K_HOOK_CWD, 1, 1},
    {"hook.env", K_HOOK_ENV, 1, 1},
    {"namespace", K_NAMESPACE, 1, 2},
    {"mount", K_MOUNT, 3, 64},
    {"device", K_DEVICE, 7, 7},
    {"masked", K_MASKED, 1, 1},
    {"readonly", K_READONLY, 1, 1},
    {"sysctl", K_SYSCTL, 2, 2},
    {"rlimit", K_RLIMIT, 3, 3},
    {"env", K_ENV, 1, 1},
    {"uid_map", K_UID_MAP, 3, 3},
    {"gid_map", K_GID_MAP, 3, 3},
    {"cgroup", K_CGROUP, 1, 1},
};

static int parse_line(struct parse_ctx *c, struct berth_launch *l, char *key, char *value) {
  static char *f[MAX_FIELDS];
  size_t n = 0;
  int k = -1;
  for (size_t i = 0; i < ARRAY_LEN(keys); i++)
    if (strcmp(key, keys[i].name) == 0) k = (int)i;
  if (k < 0) return perr(c, "unknown key `%.64s`", key);
  /* split on single spaces; an empty value is one empty field */
  for (char *p = value;;) {
    if (n >= MAX_FIELDS) return perr(c, "%s: too many fields", key);
    f[n++] = p;
    char *sp = strchr(p, ' ');
    if (!sp) break;
    *sp = '\0';
    p = sp + 1;
  }
  if ((int)n < keys[k].min || (int)n > keys[k].max)
    return perr(c, "%s: expected %d to %d fields, got %zu", key, keys[k].min, keys[k].max, n);
  for (size_t i = 0; i < n; i++)
    if (decode_field(c, f[i]) < 0) return -1;
  enum key_id id = keys[k].id;
  switch (id) {
  case K_ROOTFS: case K_ROOTFS_RO: case K_ROOTFS_PROP: case K_HOSTNAME: case K_CAP_B: case K_CAP_E:
  case K_CAP_P: case K_CAP_I: case K_CAP_A: case K_NNP: case K_SIGBLOCK: case K_SECCOMP: case K_USER: case K_UMASK:
  case K_CWD: case K_OOM: case K_NAMESPACE: case K_MOUNT: case K_DEVICE: case K_MASKED:
  case K_READONLY: case K_SYSCTL: case K_RLIMIT: case K_ENV: case K_NET_LO: case K_UID_MAP: case K_GID_MAP:
  case K_CGROUP:
    l->has_setup = 1;
    break;
  default:
    break;
  }
  if (id < K_SINGLE_COUNT) {
    if (c->seen & (1ull << id)) return perr(c, "%s: given twice", key);
    c->seen |= 1ull << id;
  }
  uint64_t v;
  switch (id) {
  case K_ID:
    if (f[0][0] == '\0' || strlen(f[0]) > 1024 || strchr(f[0], '/')) return perr(c, "id: `%s` is not a valid id", f[0]);
    l->id = f[0];
    return 0;
  case K_ROOTFS:
    l->rootfs = f[0];
    return check_abs(c, key, f[0]);
  case K_ROOTFS_RO:
    return parse_bool(c, key, f[0], &l->rootfs_readonly);
  case K_ROOTFS_PROP:
    if (!propagation_of(f[0], &l->rootfs_propagation)) return perr(c, "%s: unknown propagation `%s`", key, f[0]);
    return 0;
  case K_HOSTNAME:
    if (strlen(f[0]) > 64) return perr(c, "hostname: `%s` is longer than 64 bytes", f[0]);
    l->hostname = f[0];
    return 0;
  case K_CAP_B:
  case K_CAP_E:
  case K_CAP_P:
  case K_CAP_I:
  case K_CAP_A: {
    uint64_t *dst[] = {&l->cap_bounding, &l->cap_effective, &l->cap_permitted, &l->cap_inheritable, &l->cap_ambient};
    if (strlen(f[0]) > 16) return perr(c, "%s: `%s` is longer than 16 hex digits", key, f[0]);
    l->has_caps = 1;
    return parse_u64(c, key, f[0], 16, UINT64_MAX, dst[id - K_CAP_B]);
  }
  case K_NNP:
    return parse_bool(c, key, f[0], &l->no_new_privs);
  case K_SIGBLOCK:
    return parse_bool(c, key, f[0], &l->sigblock);
  case K_SECCOMP:
    return parse_hex_bytes(c, f[0], &l->seccomp, &l->seccomp_len);
  case K_USER:
    if (parse_u64(c, "user uid", f[0], 10, UINT32_MAX - 1, &v) < 0) return -1;
    l->uid = (uid_t)v;
    if (parse_u64(c, "user gid", f[1], 10, UINT32_MAX - 1, &v) < 0) return -1;
    l->gid = (gid_t)v;
    l->n_groups = n - 2;
    l->groups = calloc(n - 2 + 1, sizeof(gid_t));
    if (!l->groups) return berth_error(c->err, ENOMEM, "parse", "out of memory");
    for (size_t i = 2; i < n; i++) {
      if (parse_u64(c, "user group", f[i], 10, UINT32_MAX - 1, &v) < 0) return -1;
      l->groups[i - 2] = (gid_t)v;
    }
    return 0;
  case K_UMASK:
    if (parse_u64(c, key, f[0], 8, 0777, &v) < 0) return -1;
    l->umask = (int)v;
    return 0;
  case K_CWD:
    l->cwd = f[0];
    return check_abs(c, key, f[0]);
  case K_ARGS:
    if (f[0][0] == '\0') return perr(c, "args: empty executable name");
    l->args = calloc(n + 1, sizeof(char *));
    if (!l->args) return berth_error(c->err, ENOMEM, "parse", "out of memory");
    for (size_t i = 0; i < n; i++) l->args[i] = f[i];
    l->n_args = n;
    return 0;
  case K_HOOK_EXIT:
  case K_HOOK_HEALTH: {
    if (f[0][0] != '/') return perr(c, "%s: `%s` is not an absolute path", key, f[0]);
    char **argv = calloc(n + 1, sizeof(char *));
    if (!argv) return berth_error(c->err, ENOMEM, "parse", "out of memory");
    for (size_t i = 0; i < n; i++) argv[i] = f[i];
    if (id == K_HOOK_EXIT) l->hook_exit = argv;
    else l->hook_health = argv;
    return 0;
  }
  case K_HOOK_INTERVAL:
    if (parse_u64(c, key, f[0], 10, 86400000ull * 365, &v) < 0) return -1;
    if (v < 100) return perr(c, "hook.health_interval: %s ms is below 100", f[0]);
    l->hook_health_interval_ms = v;
    return 0;
  case K_HOOK_CWD:
    l->hook_cwd = f[0];
    return check_abs(c, key, f[0]);
  case K_HOOK_ENV:
    if (!strchr(f[0], '=') || f[0][0] == '=') return perr(c, "hook.env: `%.64s` is not NAME=value", f[0]);
    if (grow(c, (void **)&l->hook_env, &l->n_hook_env, sizeof(char *)) < 0) return -1;
    if (grow(c, (void **)&l->hook_env, &l->n_hook_env, sizeof(char *)) < 0) return -1;
    l->n_hook_env--; /* keep the NULL terminator */
    l->hook_env[l->n_hook_env - 1] = f[0];
    l->hook_env[l->n_hook_env] = NULL;
    return 0;
  case K_OOM: {
    char *end;
    errno = 0;
    long o = strtol(f[0], &end, 10);
    if (errno || *end || f[0][0] == '\0' || o < -1000 || o > 1000)
      return perr(c, "oom_score_adj: `%s` is not in -1000..1000", f[0]);
    l->has_oom_score_adj = 1;
    l->oom_score_adj = (int)o;
    return 0;
  }
  case K_STDIO:
    if (strcmp(f[0], "inherit") == 0) l->stdio = BERTH_STDIO_INHERIT;
    else if (strcmp(f[0], "null") == 0) l->stdio = BERTH_STDIO_NULL;
    else if (strcmp(f[0], "log") == 0) l->stdio = BERTH_STDIO_LOG;
    else return perr(c, "stdio: `%s` is not inherit, null or log", f[0]);
    return 0;
  case K_LOG_PATH:
    l->log_path = f[0];
    return check_abs(c, key, f[0]);
  case K_LOG_SIZE:
    return parse_u64(c, key, f[0], 10, UINT64_MAX / 2, &l->log_max_size);
  case K_LOG_FILE:
    if (parse_u64(c, key, f[0], 10, 1000, &v) < 0) return -1;
    if (v < 1) return perr(c, "log.max_file: must be at least 1");
    l->log_max_file = (unsigned)v;
    return 0;
  case K_EXIT_FILE:
    l->exit_file = f[0];
    return check_abs(c, key, f[0]);
  case K_EXIT_SYNC: {
    int sync = 1;
    if (parse_bool(c, key, f[0], &sync) < 0) return -1;
    l->exit_file_nosync = !sync;
    return 0;
  }
  case K_PID_FILE:
    l->pid_file = f[0];
    return check_abs(c, key, f[0]);
  case K_CONTROL:
    l->control_socket = f[0];
    if (check_abs(c, key, f[0]) < 0) return -1;
    if (strlen(f[0]) >= 108) return perr(c, "control_socket: `%s` is longer than 107 bytes (sun_path)", f[0]);
    return 0;
  case K_START:
    if (strcmp(f[0], "now") == 0) l->start_wait = 0;
    else if (strcmp(f[0], "wait") == 0) l->start_wait = 1;
    else return perr(c, "start: `%s` is not now or wait", f[0]);
    return 0;
  case K_SYNC_FD:
    if (parse_u64(c, key, f[0], 10, INT_MAX, &v) < 0) return -1;
    if (v < 3) return perr(c, "sync_fd: %s is a stdio fd", f[0]);
    l->sync_fd = (int)v;
    return 0;
  case K_SYNC_CONTINUE: {
    int wait = 1;
    if (parse_bool(c, key, f[0], &wait) < 0) return -1;
    l->sync_no_continue = !wait;
    return 0;
  }
  case K_DAEMONIZE:
    return parse_bool(c, key, f[0], &l->daemonize);
  case K_SHIM_LOG:
    l->shim_log = f[0];
    return check_abs(c, key, f[0]);
  case K_OCI_RUNTIME:
  case K_OCI_ROOT:
  case K_OCI_BUNDLE:
  case K_OCI_LOG: {
    const char **dst[] = {&l->oci_runtime, &l->oci_root, &l->oci_bundle, &l->oci_log};
    *dst[id - K_OCI_RUNTIME] = f[0];
    return check_abs(c, key, f[0]);
  }
  case K_OCI_HIDE:
    return parse_bool(c, key, f[0], &l->oci_hide_cgroup2);
  case K_NET_LO:
    return parse_bool(c, key, f[0], &l->net_loopback);
  case K_STDIN:
    return parse_bool(c, key, f[0], &l->open_stdin);
  case K_TERMINAL:
    return parse_bool(c, key, f[0], &l->terminal);
  case K_TERM_SIZE:
    if (parse_u64(c, "terminal.size rows", f[0], 10, 65535, &v) < 0) return -1;
    l->rows = (unsigned)v;
    if (parse_u64(c, "terminal.size cols", f[1], 10, 65535, &v) < 0) return -1;
    l->cols = (unsigned)v;
    return 0;
  case K_NAMESPACE: {
    int t = -1;
    for (int i = 0; i < BERTH_NS_COUNT; i++)
      if (strcmp(f[0], ns_names[i]) == 0) t = i;
    if (t < 0) return perr(c, "namespace: unknown type `%s`", f[0]);
    if (l->ns[t].mode != BERTH_NS_HOST) return perr(c, "namespace: %s given twice", f[0]);
    if (n == 2) {
      if (check_abs(c, "namespace path", f[1]) < 0) return -1;
      l->ns[t].mode = BERTH_NS_JOIN;
      l->ns[t].path = f[1];
    } else {
      l->ns[t].mode = BERTH_NS_NEW;
    }
    return 0;
  }
  case K_MOUNT:
    return parse_mount(c, l, f, n);
  case K_DEVICE: {
    if (check_abs(c, "device", f[0]) < 0) return -1;
    if (strncmp(f[0], "/dev/", 5) != 0) return perr(c, "device: `%s` is not under /dev", f[0]);
    if (strlen(f[1]) != 1 || !strchr("cbup", f[1][0])) return perr(c, "device %s: type `%s` is not c, b, u or p", f[0], f[1]);
    if (grow(c, (void **)&l->devices, &l->n_devices, sizeof *l->devices) < 0) return -1;
    struct berth_device *d = &l->devices[l->n_devices - 1];
    d->path = f[0];
    d->type = f[1][0];
    if (parse_u64(c, "device major", f[2], 10, 0xfff, &v) < 0) return -1;
    d->major = (unsigned)v;
    if (parse_u64(c, "device minor", f[3], 10, 0xfffff, &v) < 0) return -1;
    d->minor = (unsigned)v;
    if (parse_u64(c, "device mode", f[4], 8, 07777, &v) < 0) return -1;
    d->mode = (unsigned)v;
    if (parse_u64(c, "device uid", f[5], 10, UINT32_MAX - 1, &v) < 0) return -1;
    d->uid = (uid_t)v;
    if (parse_u64(c, "device gid", f[6], 10, UINT32_MAX - 1, &v) < 0) return -1;
    d->gid = (gid_t)v;
    return 0;
  }
  case K_CGROUP:
    if (check_abs(c, key, f[0]) < 0) return -1;
    if (grow(c, (void **)&l->cgroups, &l->n_cgroups, sizeof(char *)) < 0) return -1;
    l->cgroups[l->n_cgroups - 1] = f[0];
    return 0;
  case K_MASKED:
  case K_READONLY: {
    if (check_abs(c, key, f[0]) < 0) return -1;
    const char ***arr = id == K_MASKED ? &l->masked : &l->readonly;
    size_t *cnt = id == K_MASKED ? &l->n_masked : &l->n_readonly;
    if (grow(c, (void **)arr, cnt, sizeof(char *)) < 0) return -1;
    (*arr)[*cnt - 1] = f[0];
    return 0;
  }
  case K_SYSCTL:
    if (f[0][0] == '\0' || f[0][0] == '.' || strstr(f[0], "..") || strchr(f[0], '/'))
      return perr(c, "sysctl: `%s` is not a valid key", f[0]);
    if (grow(c, (void **)&l->sysctls, &l->n_sysctls, sizeof *l->sysctls) < 0) return -1;
    l->sysctls[l->n_sysctls - 1] = (struct berth_sysctl){f[0], f[1]};
    return 0;
  case K_UID_MAP:
  case K_GID_MAP: {
    struct berth_idmap m;
    uint64_t v;
    if (parse_u64(c, key, f[0], 10, UINT32_MAX - 1, &v) < 0) return -1;
    m.container = (uint32_t)v;
    if (parse_u64(c, key, f[1], 10, UINT32_MAX - 1, &v) < 0) return -1;
    m.host = (uint32_t)v;
    if (parse_u64(c, key, f[2], 10, UINT32_MAX, &v) < 0) return -1;
    m.size = (uint32_t)v;
    if (m.size == 0) return perr(c, "%s: size 0", key);
    if ((uint64_t)m.container + m.size > UINT32_MAX || (uint64_t)m.host + m.size > UINT32_MAX)
      return perr(c, "%s: %s %s %s goes past 4294967295", key, f[0], f[1], f[2]);
    struct berth_idmap **arr = id == K_UID_MAP ? &l->uid_maps : &l->gid_maps;
    size_t *cnt = id == K_UID_MAP ? &l->n_uid_maps : &l->n_gid_maps;
    if (*cnt >= BERTH_IDMAP_MAX) return perr(c, "%s: more than %d lines", key, BERTH_IDMAP_MAX);
    /* the kernel refuses overlapping ranges on either side (map_write) */
    for (size_t i = 0; i < *cnt; i++) {
      const struct berth_idmap *o = &(*arr)[i];
      if ((m.container < o->container + o->size && o->container < m.container + m.size) ||
          (m.host < o->host + o->size && o->host < m.host + m.size))
        return perr(c, "%s: %s %s %s overlaps %u %u %u", key, f[0], f[1], f[2], o->container, o->host, o->size);
    }
    if (grow(c, (void **)arr, cnt, sizeof **arr) < 0) return -1;
    (*arr)[*cnt - 1] = m;
    return 0;
  }
  case K_RLIMIT: {
    int r = -1;
    const char *name = NULL;
    for (size_t i = 0; i < ARRAY_LEN(rlimit_names); i++)
      if (strcmp(f[0], rlimit_names[i].name) == 0) r = rlimit_names[i].resource, name = rlimit_names[i].name;
    if (r < 0) return perr(c, "rlimit: unknown limit `%s`", f[0]);
    rlim_t soft, hard;
    if (parse_rlim_value(c, f[1], &soft) < 0 || parse_rlim_value(c, f[2], &hard) < 0) return -1;
    if (soft > hard) return perr(c, "rlimit %s: soft limit %s is above hard limit %s", name, f[1], f[2]);
    for (size_t i = 0; i < l->n_rlimits; i++)
      if (l->rlimits[i].resource == r) return perr(c, "rlimit %s: given twice", name);
    if (grow(c, (void **)&l->rlimits, &l->n_rlimits, sizeof *l->rlimits) < 0) return -1;
    l->rlimits[l->n_rlimits - 1] = (struct berth_rlimit){r, name, soft, hard};
    return 0;
  }
  case K_ENV:
    if (f[0][0] == '=' || !strchr(f[0], '=')) return perr(c, "env: `%s` is not NAME=value", f[0]);
    if (grow(c, (void **)&l->env, &l->n_env, sizeof(char *)) < 0) return -1;
    if (grow(c, (void **)&l->env, &l->n_env, sizeof(char *)) < 0) return -1;
    l->n_env--; /* keep the NULL terminator */
    l->env[l->n_env - 1] = f[0];
    return 0;
  default:
    return perr(c, "unhandled key `%s`", key);
  }
}

int berth_launch_parse(const char *path, struct berth_launch *l, struct berth_err *err) {
  memset(l, 0, sizeof *l);
  l->sync_fd = -1;
  l->umask = -1;
  l->log_max_file = 1;
  l->rootfs_propagation = MS_PRIVATE | MS_REC;
  struct parse_ctx c = {.path = path, .line = 0, .err = err};

  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return berth_error(err, errno, "parse", "launch `%s`: open", path);
  struct stat st;
  if (fstat(fd, &st) < 0) return berth_error(err, errno, "parse", "launch `%s`: stat", path);
  if (!S_ISREG(st.st_mode)) return berth_error(err, EINVAL, "parse", "launch `%s`: not a regular file", path);
  if (st.st_size > BERTH_LAUNCH_MAX_SIZE)
    return berth_error(err, EFBIG, "parse", "launch `%s`: larger than %d bytes", path, BERTH_LAUNCH_MAX_SIZE);
  l->buf_ = malloc((size_t)st.st_size + 1);
  if (!l->buf_) return berth_error(err, ENOMEM, "parse", "launch `%s`: out of memory", path);
  size_t got = 0;
  while (got < (size_t)st.st_size) {
    ssize_t r = read(fd, l->buf_ + got, (size_t)st.st_size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return berth_error(err, errno, "parse", "launch `%s`: read", path);
    if (r == 0) break;
    got += (size_t)r;
  }
  l->buf_[got] = '\0';
  if (memchr(l->buf_, '\0', got)) return berth_error(err, EINVAL, "parse", "launch `%s`: contains a NUL byte", path);

  char *save = NULL;
  char *p = l->buf_;
  int first = 1;
  while (p && *p) {
    char *nl = strchr(p, '\n');
    if (nl) *nl = '\0';
    char *line = p;
    p = nl ? nl + 1 : NULL;
    c.line++;
    size_t len = strlen(line);
    if (len && line[len - 1] == '\r') return perr(&c, "carriage return in line");
    if (first) {
      if (strcmp(line, BERTH_LAUNCH_VERSION) != 0) return perr(&c, "expected `%s` on the first line", BERTH_LAUNCH_VERSION);
      first = 0;
      continue;
    }
    if (len == 0 || line[0] == '#') continue;
    char *eq = strchr(line, '=');
    if (!eq) return perr(&c, "expected key=value");
    *eq = '\0';
    if (parse_line(&c, l, line, eq + 1) < 0) return -1;
  }
  (void)save;
  if (first) return perr(&c, "empty file, expected `%s`", BERTH_LAUNCH_VERSION);

  c.line = 0;
  if (!l->id) return perr(&c, "id is required");
  if (l->oci_runtime) {
    if (!l->oci_root || !l->oci_bundle || !l->pid_file) return perr(&c, "oci.runtime needs oci.root, oci.bundle and pid_file");
    if (l->has_setup) return perr(&c, "oci.runtime excludes the keys that set the container up (the runtime reads config.json)");
  } else if (l->oci_root || l->oci_bundle || l->oci_log || l->oci_hide_cgroup2) {
    return perr(&c, "oci.root, oci.bundle, oci.log and oci.hide_cgroup2 need oci.runtime");
  }
  if (!l->args && !l->oci_runtime) return perr(&c, "args is required");
  if (l->ns[BERTH_NS_MOUNT].mode == BERTH_NS_NEW && !l->rootfs) return perr(&c, "rootfs is required with a new mount namespace");
  if (l->rootfs && l->ns[BERTH_NS_MOUNT].mode != BERTH_NS_NEW) return perr(&c, "rootfs needs namespace=mount");
  if (l->hostname && l->ns[BERTH_NS_UTS].mode != BERTH_NS_NEW) return perr(&c, "hostname needs namespace=uts");
  if (l->net_loopback && l->ns[BERTH_NS_NET].mode != BERTH_NS_NEW) return perr(&c, "net.loopback needs a new namespace=net");
  if ((l->n_mounts || l->n_devices || l->n_masked || l->n_readonly || l->rootfs_readonly) && !l->rootfs)
    return perr(&c, "mounts, devices, masked and readonly paths need a rootfs");
  if (l->ns[BERTH_NS_USER].mode == BERTH_NS_NEW && (!l->n_uid_maps || !l->n_gid_maps))
    return perr(&c, "a new user namespace needs uid_map and gid_map");
  if (l->ns[BERTH_NS_USER].mode != BERTH_NS_NEW && (l->n_uid_maps || l->n_gid_maps))
    return perr(&c, "uid_map and gid_map need namespace=user (new)");
  if (l->stdio == BERTH_STDIO_LOG && !l->log_path) return perr(&c, "stdio=log needs log.path");
  if (l->start_wait && !l->control_socket) return perr(&c, "start=wait needs control_socket");
  if (l->sync_no_continue && l->sync_fd < 0) return perr(&c, "sync.continue=0 needs sync_fd");
  if ((l->rows || l->cols) && !l->terminal) return perr(&c, "terminal.size needs terminal=1");
  if (l->open_stdin && (l->stdio == BERTH_STDIO_INHERIT || l->terminal))
    return perr(&c, "stdin=1 needs stdio=log or stdio=null and no terminal (inherit passes the shim's own stdin)");
  if (l->hook_health && !l->hook_health_interval_ms) return perr(&c, "hook.health needs hook.health_interval");
  if (l->hook_health_interval_ms && !l->hook_health) return perr(&c, "hook.health_interval needs hook.health");
  if (!l->env) {
    l->env = calloc(1, sizeof(char *));
    if (!l->env) return berth_error(err, ENOMEM, "parse", "out of memory");
  }
  if (!l->groups) {
    l->groups = calloc(1, sizeof(gid_t));
    if (!l->groups) return berth_error(err, ENOMEM, "parse", "out of memory");
  }
  if (!l->cwd) l->cwd = "/";
  if (l->n_cgroups && !(l->cgroup_how = calloc(l->n_cgroups, 1))) return berth_error(err, ENOMEM, "parse", "out of memory");
  return 0;
}

void berth_launch_free(struct berth_launch *l) {
  for (size_t i = 0; i < l->n_mounts; i++) free(l->mounts[i].data);
  free(l->mounts);
  free(l->devices);
  free(l->masked);
  free(l->cgroups);
  free(l->cgroup_how);
  free(l->readonly);
  free(l->sysctls);
  free(l->rlimits);
  free(l->uid_maps);
  free(l->gid_maps);
  free(l->seccomp);
  free(l->groups);
  free(l->args);
  free(l->env);
  free(l->hook_exit);
  free(l->hook_health);
  free(l->hook_env);
  free(l->buf_);
  memset(l, 0, sizeof *l);
}
