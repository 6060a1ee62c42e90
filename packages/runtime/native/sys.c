/* sys.c: the few system calls berth makes on every container command (or every pull) and Node
 * has no binding for. Each was a child process (flock(1), mount(8), umount(8), sync -f, mknod(1),
 * chattr(1)) costing 5-25 ms of fork (of a process of a few hundred MB), exec and event-loop
 * turns; here each is one syscall. berth-shim's launch is here too: posix_spawn instead of
 * node's fork of the whole process and its socket streams. The policy (which options, which
 * paths, how to wait for a lock, the shim's sync lines) stays in TypeScript (src/sys/).
 *
 *   flock(fd, op)           op: LOCK_EX|LOCK_SH|LOCK_UN [|LOCK_NB]; returns 0, or the errno
 *                           (EWOULDBLOCK when LOCK_NB finds it taken)
 *   flockAsync(fd, op)      the blocking form on the libuv thread pool: a Promise of the errno
 *   mount(source, target, fstype, flags, data)
 *                           returns 0 or the errno; null strings pass NULL
 *   umount2(target, flags)  returns 0 or the errno
 *   umount2Async(target, flags)
 *                           umount2(2) on the libuv thread pool: a Promise of the errno. The
 *                           unmount of a non-volatile overlay syncs its upper filesystem (it waits
 *                           for the disk); an `rm -f` of many containers runs theirs side by side
 *   spawnDetached(file, args, stdin, stdout)
 *                           posix_spawn of file (argv[0] = file) in a new session, signals at
 *                           their defaults and unblocked (as child_process's detached spawn), with
 *                           stdin/stdout the given fds (-1: /dev/null), stderr a pipe and fd 3
 *                           one end of a socketpair; returns [pid, sync fd, stderr fd] (both
 *                           close-on-exec, the stderr end non-blocking), or the errno
 *   waitpid(pid)            reaps a child spawnDetached made; returns 0 or the errno
 *   shutdown(fd)            shutdown(SHUT_RDWR) of a socket: a read blocked on it returns EOF
 *   mknod(path, mode, major, minor)
 *                           mode holds the file type (S_IFCHR, S_IFBLK, S_IFIFO) and permission
 *                           bits (less the umask, as mknod(2)); returns 0 or the errno
 *   syncfsAsync(path)       open(path, O_RDONLY) and syncfs(2) on the libuv thread pool (it waits
 *                           for the disk): a Promise of the errno
 *   setInodeFlags(path, set)
 *                           FS_IOC_GETFLAGS, OR in `set`, FS_IOC_SETFLAGS (chattr(1)); the path
 *                           is opened O_NOFOLLOW; returns 0 or the errno
 *   controlAsync(path, request)
 *                           one request on a berth-shim control socket on the libuv thread pool:
 *                           connect(2) to the unix socket `path`, write `request` (its line, with
 *                           the newline), read up to the first newline, close. A Promise of the
 *                           reply line without its newline, null when the shim closed without
 *                           one (or sent more than CONTROL_REPLY_MAX bytes of it), or the errno.
 *                           For the short requests only (start, kill, resize): a pool thread waits
 *                           for the reply. node:net did the same at ~6 ms of CPU per command (its
 *                           socket and stream code compiled on first use).
 *   removeTreeAsync(path, last)
 *                           removes the directory tree `path` on the libuv thread pool, in one
 *                           job (openat/getdents/unlinkat, the listing's file types; a symlink is
 *                           unlinked, never followed): a Promise of the errno of the first step
 *                           that failed, 0 when the tree is gone (a missing `path` too). It stops
 *                           (EXDEV) at a directory on another file system (a mount left inside),
 *                           and at depth 256 (ELOOP); the caller removes what is left otherwise.
 *                           `last` (a name in `path`, or null) is unlinked after everything else,
 *                           just before `path` itself: a container's record, so that a removal
 *                           killed half-way leaves the container listed (and removable)
 *                           An `rm -f` of 50 containers removed 150 trees with Node's promise
 *                           rimraf, ~20 thread-pool round trips each.
 *   rmdirsAsync(paths)      rmdir(2) of each path of the array, in order, on the libuv thread pool
 *                           in one job (a container's cgroup directories, one per v1 hierarchy):
 *                           a Promise of the first errno other than ENOENT, 0 when all are gone
 *                           (it goes on past a failure)
 *   renameExchange(from, to)
 *                           renameat2(2) with RENAME_EXCHANGE: both names exist and swap their
 *                           files atomically (no inode allocated or freed); returns 0 or the
 *                           errno (ENOENT: either is missing; EINVAL: the file system cannot)
 *   attachDeviceFilter(dir, program)
 *                           loads the cgroup v2 device program (a Uint8Array of struct bpf_insn)
 *                           and attaches it to the cgroup directory, replacing the programs
 *                           attached before (devfilter.h); returns null, or "devices: <why>".
 *                           Was a berth-shim --device-filter process per container on v2 hosts.
 *   sha256(data)            the SHA-256 of a Uint8Array, a 32-byte Buffer, by OpenSSL's SHA-256
 *                           that the node binary carries (SHA256_Init/Update/Final, found with
 *                           dlsym at load: a node without them gets no `sha256` property). The
 *                           low-level calls, not OpenSSL 3's one-shot SHA256() or node:crypto:
 *                           those go through EVP and set up OpenSSL's providers first, and
 *                           node:crypto loads 17 stream modules with it (~2.5 ms of a `berth run`).
 *   randomFill(buf)         fills a Uint8Array from getrandom(2) (the kernel's CSPRNG, as
 *                           node:crypto's randomBytes is seeded from); returns 0 or the errno
 *
 * Errors of the calls are returned, never thrown, so TypeScript names the object in its own
 * error; a wrong argument type throws a TypeError naming the argument. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sys/random.h>
#include <unistd.h>

extern char **environ;

#include <node_api.h>

#include "devfilter.h"

#define CHECK(env, call)                                        \
  do {                                                          \
    if ((call) != napi_ok) {                                    \
      napi_throw_error((env), NULL, "berth-sys: " #call);        \
      return NULL;                                              \
    }                                                           \
  } while (0)

static int get_int(napi_env env, napi_value v, const char *what, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    char msg[96];
    snprintf(msg, sizeof msg, "berth-sys: %s must be a number", what);
    napi_throw_type_error(env, NULL, msg);
    return -1;
  }
  return 0;
}

/* a string argument, or NULL for null/undefined; *out is malloc'ed */
static int get_str(napi_env env, napi_value v, const char *what, char **out) {
  napi_valuetype t;
  *out = NULL;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_null || t == napi_undefined) return 0;
  size_t len = 0;
  if (t != napi_string || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    char msg[96];
    snprintf(msg, sizeof msg, "berth-sys: %s must be a string or null", what);
    napi_throw_type_error(env, NULL, msg);
    return -1;
  }
  *out = malloc(len + 1);
  if (!*out) {
    napi_throw_error(env, NULL, "berth-sys: out of memory");
    return -1;
  }
  if (napi_get_value_string_utf8(env, v, *out, len + 1, &len) != napi_ok || strlen(*out) != len) {
    free(*out);
    *out = NULL;
    napi_throw_type_error(env, NULL, "berth-sys: a string argument holds a NUL byte");
    return -1;
  }
  return 0;
}

/* a required string argument (a path): as get_str, and a TypeError naming it when null */
static int get_path(napi_env env, napi_value v, const char *what, char **out) {
  if (get_str(env, v, what, out) < 0) return -1;
  if (*out) return 0;
  char msg[96];
  snprintf(msg, sizeof msg, "berth-sys: %s must be a string", what);
  napi_throw_type_error(env, NULL, msg);
  return -1;
}

/* the call's first argument. N-API fills arguments the call lacks with undefined, which every
 * get_* refuses with a TypeError naming it: no `argc <` check (those returned undefined silently) */
static int first_arg(napi_env env, napi_callback_info info, napi_value *arg) {
  size_t argc = 1;
  if (napi_get_cb_info(env, info, &argc, arg, NULL, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "berth-sys: napi_get_cb_info");
    return -1;
  }
  return 0;
}

/* the call's first two arguments as paths (`a`, `b` name them in the TypeError; a missing one is
 * undefined, which get_path refuses); both freed on failure */
static int get_two_paths(napi_env env, napi_callback_info info, const char *a, const char *b, char **pa,
                         char **pb) {
  size_t argc = 2;
  napi_value argv[2];
  *pa = *pb = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "berth-sys: napi_get_cb_info");
    return -1;
  }
  if (get_path(env, argv[0], a, pa) < 0) return -1;
  if (get_path(env, argv[1], b, pb) < 0) {
    free(*pa);
    *pa = NULL;
    return -1;
  }
  return 0;
}

static napi_value ret_int(napi_env env, int v) {
  napi_value r;
  if (napi_create_int32(env, v, &r) != napi_ok) return NULL;
  return r;
}

static napi_value js_flock(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd, op;
  if (get_int(env, argv[0], "fd", &fd) < 0 || get_int(env, argv[1], "op", &op) < 0) return NULL;
  int r;
  do r = flock(fd, op); while (r < 0 && errno == EINTR);
  return ret_int(env, r < 0 ? errno : 0);
}

/* A call run on libuv's thread pool (it may wait: for a lock, for the disk), settling a Promise
 * with its errno (0 on success). */
struct pool_job {
  napi_async_work work;
  napi_deferred deferred;
  const char *what; /* names the call in an error */
  int (*run)(struct pool_job *);
  int fd, op;  /* flock; op: umount2's flags */
  char *path;  /* syncfs, umount2, control; freed with the job */
  char *request; /* control; freed with the job */
  int replies;   /* control: settles with `reply` (a string or null) when err is 0 */
  char *reply;   /* control; freed with the job */
  int err;
};

static void pool_job_free(struct pool_job *j) {
  free(j->path);
  free(j->request);
  free(j->reply);
  free(j);
}

static void pool_job_execute(napi_env env, void *data) {
  (void)env;
  struct pool_job *j = data;
  j->err = j->run(j);
}

static void pool_job_complete(napi_env env, napi_status status, void *data) {
  struct pool_job *j = data;
  napi_value v;
  napi_status made = napi_generic_failure;
  if (status == napi_ok) {
    if (j->replies && j->err == 0)
      made = j->reply ? napi_create_string_utf8(env, j->reply, NAPI_AUTO_LENGTH, &v) : napi_get_null(env, &v);
    else
      made = napi_create_int32(env, j->err, &v);
  }
  if (made == napi_ok) {
    napi_resolve_deferred(env, j->deferred, v);
  } else {
    char text[64];
    napi_value msg, e;
    snprintf(text, sizeof text, "berth-sys: %s work failed", j->what);
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &e);
    napi_reject_deferred(env, j->deferred, e);
  }
  napi_delete_async_work(env, j->work);
  pool_job_free(j);
}

/* Queues `j` (which it owns from here on, freed on failure too); returns its Promise, or NULL with
 * an error thrown. */
static napi_value pool_job_queue(napi_env env, struct pool_job *j) {
  napi_value promise, name;
  char text[64];
  snprintf(text, sizeof text, "berth-sys.%s", j->what);
  if (napi_create_promise(env, &j->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, pool_job_execute, pool_job_complete, j, &j->work) != napi_ok) {
    snprintf(text, sizeof text, "berth-sys: cannot queue %s", j->what);
    pool_job_free(j);
    napi_throw_error(env, NULL, text);
    return NULL;
  }
  if (napi_queue_async_work(env, j->work) != napi_ok) {
    napi_delete_async_work(env, j->work);
    snprintf(text, sizeof text, "berth-sys: cannot queue %s", j->what);
    pool_job_free(j);
    napi_throw_error(env, NULL, text);
    return NULL;
  }
  return promise;
}

static struct pool_job *pool_job_new(napi_env env, const char *what, int (*run)(struct pool_job *)) {
  struct pool_job *j = calloc(1, sizeof *j);
  if (!j) {
    napi_throw_error(env, NULL, "berth-sys: out of memory");
    return NULL;
  }
  j->what = what, j->run = run;
  return j;
}

static int flock_run(struct pool_job *j) {
  int r;
  do r = flock(j->fd, j->op); while (r < 0 && errno == EINTR);
  return r < 0 ? errno : 0;
}

static napi_value js_flock_async(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd, op;
  if (get_int(env, argv[0], "fd", &fd) < 0 || get_int(env, argv[1], "op", &op) < 0) return NULL;
  struct pool_job *j = pool_job_new(env, "flock", flock_run);
  if (!j) return NULL;
  j->fd = fd, j->op = op;
  return pool_job_queue(env, j);
}

static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "berth-sys: mount(source, target, fstype, flags, data)");
    return NULL;
  }
  char *source = NULL, *target = NULL, *fstype = NULL, *data = NULL;
  int32_t flags = 0;
  napi_value ret = NULL;
  if (get_str(env, argv[0], "source", &source) < 0 || get_path(env, argv[1], "target", &target) < 0 ||
      get_str(env, argv[2], "fstype", &fstype) < 0 || get_int(env, argv[3], "flags", &flags) < 0 ||
      get_str(env, argv[4], "data", &data) < 0)
    goto out;
  int r = mount(source, target, fstype, (unsigned long)(uint32_t)flags, data);
  ret = ret_int(env, r < 0 ? errno : 0);
out:
  free(source), free(target), free(fstype), free(data);
  return ret;
}

/* umount2's and umount2Async's (target, flags): 0, or -1 (an exception pending when one was
 * wrong; too few arguments return undefined, as before) */
static int umount2_args(napi_env env, napi_callback_info info, char **target, int32_t *flags) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "berth-sys: napi_get_cb_info");
    return -1;
  }
  *target = NULL;
  if (get_path(env, argv[0], "target", target) < 0 || get_int(env, argv[1], "flags", flags) < 0) {
    free(*target);
    *target = NULL;
    return -1;
  }
  return 0;
}

static napi_value js_umount2(napi_env env, napi_callback_info info) {
  char *target;
  int32_t flags;
  if (umount2_args(env, info, &target, &flags) < 0) return NULL;
  int r = umount2(target, flags);
  int e = errno;
  free(target);
  return ret_int(env, r < 0 ? e : 0);
}

static int umount2_run(struct pool_job *j) {
  return umount2(j->path, j->op) < 0 ? errno : 0;
}

static napi_value js_umount2_async(napi_env env, napi_callback_info info) {
  char *target;
  int32_t flags;
  if (umount2_args(env, info, &target, &flags) < 0) return NULL;
  struct pool_job *j = pool_job_new(env, "umount2", umount2_run);
  if (!j) {
    free(target);
    return NULL;
  }
  j->path = target, j->op = flags;
  return pool_job_queue(env, j);
}

/* an fd above the stdio range (and above 3), close-on-exec: the dup2 actions below never take a
 * source that an earlier action has already replaced */
static int high_fd(int fd) {
  int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  return h;
}

static int spawn_detached(const char *file, char **argv, int in, int out, int *pid_out, int *sync_out, int *err_out) {
  int sv[2] = {-1, -1}, pe[2] = {-1, -1}, fds[4] = {-1, -1, -1, -1}, null = -1, rc = 0;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  int fa_ok = 0, at_ok = 0;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
    rc = errno;
    goto out;
  }
  if ((in < 0 || out < 0) && (null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
    rc = errno;
    goto out;
  }
  /* the child's 0, 1, 2, 3 from fds that none of the four dup2s overwrites */
  int src[4] = {in < 0 ? null : in, out < 0 ? null : out, pe[1], sv[1]};
  for (int i = 0; i < 4; i++)
    if ((fds[i] = high_fd(src[i])) < 0) {
      rc = errno;
      goto out;
    }
  if ((rc = posix_spawn_file_actions_init(&fa)) != 0) goto out;
  fa_ok = 1;
  for (int i = 0; i < 4; i++)
    if ((rc = posix_spawn_file_actions_adddup2(&fa, fds[i], i)) != 0) goto out;
  if ((rc = posix_spawnattr_init(&at)) != 0) goto out;
  at_ok = 1;
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  /* node ignores SIGPIPE and may block signals on this thread: the child starts clean */
  if ((rc = posix_spawnattr_setsigdefault(&at, &all)) != 0 || (rc = posix_spawnattr_setsigmask(&at, &none)) != 0 ||
      (rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)) != 0)
    goto out;
  pid_t pid;
  if ((rc = posix_spawn(&pid, file, &fa, &at, argv, environ)) != 0) goto out;
  if (fcntl(pe[0], F_SETFL, O_NONBLOCK) < 0) {
    /* cannot happen on a fresh pipe; the caller would block reading stderr */
    rc = errno;
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR);
    goto out;
  }
  *pid_out = pid, *sync_out = sv[0], *err_out = pe[0];
  sv[0] = pe[0] = -1;
out:
  if (fa_ok) posix_spawn_file_actions_destroy(&fa);
  if (at_ok) posix_spawnattr_destroy(&at);
  for (int i = 0; i < 4; i++)
    if (fds[i] >= 0) close(fds[i]);
  int all_fds[] = {sv[0], sv[1], pe[0], pe[1], null};
  for (size_t i = 0; i < sizeof all_fds / sizeof all_fds[0]; i++)
    if (all_fds[i] >= 0) close(all_fds[i]);
  return rc;
}

static napi_value js_spawn_detached(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], ret = NULL;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "berth-sys: spawnDetached(file, args, stdin, stdout)");
    return NULL;
  }
  char *file = NULL, **cargv = NULL;
  uint32_t n = 0;
  int32_t in, out;
  bool is_array = false;
  if (get_str(env, argv[0], "file", &file) < 0 || get_int(env, argv[2], "stdin", &in) < 0 ||
      get_int(env, argv[3], "stdout", &out) < 0)
    goto done;
  if (!file || napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[1], &n) != napi_ok || n > 64) {
    napi_throw_type_error(env, NULL, "berth-sys: spawnDetached needs a file and an array of at most 64 args");
    goto done;
  }
  cargv = calloc(n + 2, sizeof *cargv);
  if (!cargv) {
    napi_throw_error(env, NULL, "berth-sys: out of memory");
    goto done;
  }
  cargv[0] = file;
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    if (napi_get_element(env, argv[1], i, &v) != napi_ok || get_str(env, v, "args[i]", &cargv[i + 1]) < 0) goto done;
    if (!cargv[i + 1]) {
      napi_throw_type_error(env, NULL, "berth-sys: spawnDetached args must be strings");
      goto done;
    }
  }
  int pid = -1, sync_fd = -1, err_fd = -1;
  int rc = spawn_detached(file, cargv, in, out, &pid, &sync_fd, &err_fd);
  if (rc != 0) {
    ret = ret_int(env, rc);
    goto done;
  }
  napi_value arr;
  if (napi_create_array_with_length(env, 3, &arr) != napi_ok || napi_set_element(env, arr, 0, ret_int(env, pid)) != napi_ok ||
      napi_set_element(env, arr, 1, ret_int(env, sync_fd)) != napi_ok ||
      napi_set_element(env, arr, 2, ret_int(env, err_fd)) != napi_ok) {
    close(sync_fd), close(err_fd);
    napi_throw_error(env, NULL, "berth-sys: spawnDetached result");
    goto done;
  }
  ret = arr;
done:
  if (cargv)
    for (uint32_t i = 1; i <= n; i++) free(cargv[i]);
  free(cargv);
  free(file);
  return ret;
}

static napi_value js_waitpid(napi_env env, napi_callback_info info) {
  napi_value arg;
  if (first_arg(env, info, &arg) < 0) return NULL;
  int32_t pid;
  if (get_int(env, arg, "pid", &pid) < 0) return NULL;
  if (pid <= 0) {
    napi_throw_type_error(env, NULL, "berth-sys: waitpid needs a child's pid");
    return NULL;
  }
  int r;
  do r = waitpid(pid, NULL, 0); while (r < 0 && errno == EINTR);
  return ret_int(env, r < 0 ? errno : 0);
}

static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  napi_value arg;
  if (first_arg(env, info, &arg) < 0) return NULL;
  int32_t fd;
  if (get_int(env, arg, "fd", &fd) < 0) return NULL;
  return ret_int(env, shutdown(fd, SHUT_RDWR) < 0 ? errno : 0);
}

static napi_value js_mknod(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *path = NULL;
  int32_t mode, major, minor;
  if (get_path(env, argv[0], "path", &path) < 0 || get_int(env, argv[1], "mode", &mode) < 0 ||
      get_int(env, argv[2], "major", &major) < 0 || get_int(env, argv[3], "minor", &minor) < 0) {
    free(path);
    return NULL;
  }
  int r = mknod(path, (mode_t)mode, makedev((unsigned)major, (unsigned)minor));
  int e = errno;
  free(path);
  return ret_int(env, r < 0 ? e : 0);
}

static int syncfs_run(struct pool_job *j) {
  int fd, e;
  do fd = open(j->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno;
  e = syncfs(fd) < 0 ? errno : 0;
  close(fd);
  return e;
}

static napi_value js_syncfs_async(napi_env env, napi_callback_info info) {
  napi_value arg;
  if (first_arg(env, info, &arg) < 0) return NULL;
  char *path = NULL;
  if (get_path(env, arg, "path", &path) < 0) return NULL;
  struct pool_job *j = pool_job_new(env, "syncfs", syncfs_run);
  if (!j) {
    free(path);
    return NULL;
  }
  j->path = path;
  return pool_job_queue(env, j);
}

#define CONTROL_REPLY_MAX 65536

static int control_run(struct pool_job *j) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  size_t n = strlen(j->path);
  if (n >= sizeof addr.sun_path) return ENAMETOOLONG;
  memcpy(addr.sun_path, j->path, n + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int e = 0, r;
  do r = connect(fd, (struct sockaddr *)&addr, sizeof addr); while (r < 0 && errno == EINTR);
  if (r < 0) {
    e = errno;
    goto out;
  }
  size_t len = strlen(j->request), off = 0;
  while (off < len) {
    ssize_t w = send(fd, j->request + off, len - off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      e = errno;
      goto out;
    }
    off += (size_t)w;
  }
  char *buf = malloc(CONTROL_REPLY_MAX + 1);
  if (!buf) {
    e = ENOMEM;
    goto out;
  }
  size_t got = 0;
  while (got < CONTROL_REPLY_MAX) {
    ssize_t rd = read(fd, buf + got, CONTROL_REPLY_MAX - got);
    if (rd < 0) {
      if (errno == EINTR) continue;
      e = errno;
      break;
    }
    if (rd == 0) break;
    char *nl = memchr(buf + got, '\n', (size_t)rd);
    got += (size_t)rd;
    if (nl) {
      *nl = 0;
      j->reply = buf;
      buf = NULL;
      break;
    }
  }
  free(buf);
out:
  close(fd);
  return e;
}

static napi_value js_control_async(napi_env env, napi_callback_info info) {
  char *path, *request;
  if (get_two_paths(env, info, "path", "request", &path, &request) < 0) return NULL;
  struct pool_job *j = pool_job_new(env, "control", control_run);
  if (!j) {
    free(path);
    free(request);
    return NULL;
  }
  j->path = path, j->request = request, j->replies = 1;
  return pool_job_queue(env, j);
}

#define REMOVE_TREE_DEPTH 256

/* Removes the directory `name` in `dirfd` (on device `dev`) and everything below it; `last`, an
 * entry of it, after the others. */
static int remove_dir_at(int dirfd, const char *name, dev_t dev, int depth, const char *last) {
  if (depth >= REMOVE_TREE_DEPTH) return ELOOP;
  int fd;
  do fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC); while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno == ENOENT ? 0 : errno;
  struct stat st;
  int e = fstat(fd, &st) < 0 ? errno : st.st_dev != dev ? EXDEV : 0;
  if (e) {
    close(fd);
    return e;
  }
  DIR *d = fdopendir(fd);
  if (!d) {
    e = errno;
    close(fd);
    return e;
  }
  struct dirent *ent;
  while (e == 0) {
    errno = 0;
    if (!(ent = readdir(d))) {
      e = errno;
      break;
    }
    const char *n = ent->d_name;
    if (n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0))) continue;
    if (last && strcmp(n, last) == 0) continue;
    if (ent->d_type == DT_DIR) {
      e = remove_dir_at(fd, n, dev, depth + 1, NULL);
      continue;
    }
    /* a file, symlink, socket, device or whiteout: unlink(2) never follows it */
    if (unlinkat(fd, n, 0) == 0 || errno == ENOENT) continue;
    /* a directory the listing did not type (DT_UNKNOWN) */
    if ((errno == EISDIR || errno == EPERM) && ent->d_type == DT_UNKNOWN) e = remove_dir_at(fd, n, dev, depth + 1, NULL);
    else e = errno;
  }
  if (e == 0 && last && unlinkat(fd, last, 0) < 0 && errno != ENOENT) e = errno;
  closedir(d);
  if (e == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) e = errno;
  return e;
}

static int remove_tree_run(struct pool_job *j) {
  struct stat st;
  if (lstat(j->path, &st) < 0) return errno == ENOENT ? 0 : errno;
  if (!S_ISDIR(st.st_mode)) return ENOTDIR;
  return remove_dir_at(AT_FDCWD, j->path, st.st_dev, 0, j->request);
}

static napi_value js_remove_tree_async(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *path = NULL, *last = NULL;
  if (get_path(env, argv[0], "path", &path) < 0) return NULL;
  if (argc >= 2 && get_str(env, argv[1], "last", &last) < 0) {
    free(path);
    return NULL;
  }
  if (last && (strchr(last, '/') || !strcmp(last, ".") || !strcmp(last, "..") || !*last)) {
    free(path);
    free(last);
    napi_throw_type_error(env, NULL, "berth-sys: last must be a name in path");
    return NULL;
  }
  struct pool_job *j = pool_job_new(env, "removeTree", remove_tree_run);
  if (!j) {
    free(path);
    free(last);
    return NULL;
  }
  j->path = path, j->request = last;
  return pool_job_queue(env, j);
}

/* rmdirsAsync: j->path holds j->op NUL-terminated paths one after the other */
static int rmdirs_run(struct pool_job *j) {
  int first = 0;
  const char *p = j->path;
  for (int i = 0; i < j->op; i++, p += strlen(p) + 1)
    if (rmdir(p) < 0 && errno != ENOENT && first == 0) first = errno;
  return first;
}

static napi_value js_rmdirs_async(napi_env env, napi_callback_info info) {
  napi_value arg;
  if (first_arg(env, info, &arg) < 0) return NULL;
  bool is_array = false;
  uint32_t n = 0;
  if (napi_is_array(env, arg, &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, arg, &n) != napi_ok || n > 1024) {
    napi_throw_type_error(env, NULL, "berth-sys: paths must be an array of at most 1024 strings");
    return NULL;
  }
  char *buf = NULL;
  size_t used = 0;
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    char *one = NULL;
    if (napi_get_element(env, arg, i, &v) != napi_ok || get_path(env, v, "paths[i]", &one) < 0) {
      free(buf);
      return NULL;
    }
    size_t len = strlen(one) + 1;
    char *grown = realloc(buf, used + len);
    if (!grown) {
      free(one);
      free(buf);
      napi_throw_error(env, NULL, "berth-sys: out of memory");
      return NULL;
    }
    buf = grown;
    memcpy(buf + used, one, len);
    used += len;
    free(one);
  }
  struct pool_job *j = pool_job_new(env, "rmdirs", rmdirs_run);
  if (!j) {
    free(buf);
    return NULL;
  }
  j->path = buf, j->op = (int)n;
  return pool_job_queue(env, j);
}

static napi_value js_rename_exchange(napi_env env, napi_callback_info info) {
  char *from, *to;
  if (get_two_paths(env, info, "from", "to", &from, &to) < 0) return NULL;
  int r = renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE);
  int e = r < 0 ? errno : 0;
  free(from);
  free(to);
  return ret_int(env, e);
}

static napi_value js_set_inode_flags(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *path = NULL;
  int32_t set;
  if (get_path(env, argv[0], "path", &path) < 0 || get_int(env, argv[1], "set", &set) < 0) {
    free(path);
    return NULL;
  }
  int fd, e = 0;
  do fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW); while (fd < 0 && errno == EINTR);
  free(path);
  if (fd < 0) return ret_int(env, errno);
  /* the ioctls take an int, whatever their declared type (chattr(1), e2fsprogs) */
  int flags = 0;
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0) {
    e = errno;
  } else if ((flags & set) != set) {
    flags |= set;
    if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0) e = errno;
  }
  close(fd);
  return ret_int(env, e);
}

/* attachDeviceFilter(dir, program): devfilter.h's load and attach, from this process */
static napi_value js_attach_device_filter(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *dir = NULL;
  if (get_path(env, argv[0], "dir", &dir) < 0) return NULL;
  bool is_typed = false;
  napi_typedarray_type type;
  size_t len = 0;
  void *data = NULL;
  if (napi_is_typedarray(env, argv[1], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[1], &type, &len, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    free(dir);
    napi_throw_type_error(env, NULL, "berth-sys: program must be a Uint8Array");
    return NULL;
  }
  struct berth_err err = {0};
  int r = berth_devfilter_attach(dir, data, len, &err);
  free(dir);
  napi_value out;
  if (r == 0) {
    CHECK(env, napi_get_null(env, &out));
    return out;
  }
  char msg[sizeof err.step + sizeof err.msg + 4];
  snprintf(msg, sizeof msg, "%s: %s", err.step, err.msg);
  CHECK(env, napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &out));
  return out;
}

/* a Uint8Array argument (any typed array of bytes or a Buffer): its bytes, or a TypeError */
static int get_bytes(napi_env env, napi_value v, const char *what, void **data, size_t *len) {
  bool is_typed = false;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &type, len, data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    char msg[96];
    snprintf(msg, sizeof msg, "berth-sys: %s must be a Uint8Array", what);
    napi_throw_type_error(env, NULL, msg);
    return -1;
  }
  return 0;
}

/* OpenSSL's low-level SHA-256 (openssl/sha.h), from the node binary; the context is opaque here:
 * SHA256_CTX is 112 bytes (its layout is public and has not changed since OpenSSL 0.9.8) */
typedef int (*sha256_init_fn)(void *ctx);
typedef int (*sha256_update_fn)(void *ctx, const void *data, size_t len);
typedef int (*sha256_final_fn)(unsigned char *md, void *ctx);
static sha256_init_fn ossl_sha256_init;
static sha256_update_fn ossl_sha256_update;
static sha256_final_fn ossl_sha256_final;

/* once per process: each worker thread that loads the addon runs NAPI_MODULE_INIT again */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void lookup_sha256(void) {
  /* dlsym returns data pointers; POSIX guarantees they convert to function pointers */
  void *i = dlsym(RTLD_DEFAULT, "SHA256_Init");
  void *u = dlsym(RTLD_DEFAULT, "SHA256_Update");
  void *f = dlsym(RTLD_DEFAULT, "SHA256_Final");
  if (!i || !u || !f) return;
  memcpy(&ossl_sha256_init, &i, sizeof i);
  memcpy(&ossl_sha256_update, &u, sizeof u);
  memcpy(&ossl_sha256_final, &f, sizeof f);
}

static bool find_sha256(void) {
  pthread_once(&sha256_once, lookup_sha256);
  return ossl_sha256_final != NULL;
}

static napi_value js_sha256(napi_env env, napi_callback_info info) {
  napi_value arg;
  if (first_arg(env, info, &arg) < 0) return NULL;
  void *data = NULL;
  size_t len = 0;
  if (get_bytes(env, arg, "data", &data, &len) < 0) return NULL;
  _Alignas(16) unsigned char ctx[256];
  void *md = NULL;
  napi_value out;
  CHECK(env, napi_create_buffer(env, 32, &md, &out));
  if (ossl_sha256_init(ctx) != 1 || ossl_sha256_update(ctx, data, len) != 1 ||
      ossl_sha256_final(md, ctx) != 1) {
    napi_throw_error(env, NULL, "berth-sys: SHA-256 failed");
    return NULL;
  }
  return out;
}

static napi_value js_random_fill(napi_env env, napi_callback_info info) {
  napi_value arg;
  if (first_arg(env, info, &arg) < 0) return NULL;
  void *data = NULL;
  size_t len = 0;
  if (get_bytes(env, arg, "buf", &data, &len) < 0) return NULL;
  size_t done = 0;
  while (done < len) {
    ssize_t n = getrandom((unsigned char *)data + done, len - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ret_int(env, errno);
    }
    done += (size_t)n;
  }
  return ret_int(env, 0);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"flock", NULL, js_flock, NULL, NULL, NULL, napi_enumerable, NULL},
      {"flockAsync", NULL, js_flock_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mount", NULL, js_mount, NULL, NULL, NULL, napi_enumerable, NULL},
      {"umount2", NULL, js_umount2, NULL, NULL, NULL, napi_enumerable, NULL},
      {"umount2Async", NULL, js_umount2_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"spawnDetached", NULL, js_spawn_detached, NULL, NULL, NULL, napi_enumerable, NULL},
      {"waitpid", NULL, js_waitpid, NULL, NULL, NULL, napi_enumerable, NULL},
      {"shutdown", NULL, js_shutdown, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mknod", NULL, js_mknod, NULL, NULL, NULL, napi_enumerable, NULL},
      {"syncfsAsync", NULL, js_syncfs_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setInodeFlags", NULL, js_set_inode_flags, NULL, NULL, NULL, napi_enumerable, NULL},
      {"controlAsync", NULL, js_control_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"removeTreeAsync", NULL, js_remove_tree_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"renameExchange", NULL, js_rename_exchange, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rmdirsAsync", NULL, js_rmdirs_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"attachDeviceFilter", NULL, js_attach_device_filter, NULL, NULL, NULL, napi_enumerable, NULL},
      {"randomFill", NULL, js_random_fill, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sha256", NULL, js_sha256, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  /* sha256 last: left out when this node carries no OpenSSL SHA-256 */
  size_t n = sizeof props / sizeof props[0] - (find_sha256() ? 0 : 1);
  if (napi_define_properties(env, exports, n, props) != napi_ok) return NULL;
  return exports;
}
