/* sys.c: the few system calls berth makes on every container command and Node has no binding
 * for. Each was a child process (flock(1), mount(8), umount(8)) costing 5-15 ms of fork, exec
 * and event-loop turns; here each is one syscall. The surface is three functions; the policy
 * (which options, which paths, how to wait for a lock) stays in TypeScript (src/sys/).
 *
 *   flock(fd, op)           op: LOCK_EX|LOCK_SH|LOCK_UN [|LOCK_NB]; returns 0, or the errno
 *                           (EWOULDBLOCK when LOCK_NB finds it taken)
 *   flockAsync(fd, op)      the blocking form on the libuv thread pool: a Promise of the errno
 *   mount(source, target, fstype, flags, data)
 *                           returns 0 or the errno; null strings pass NULL
 *   umount2(target, flags)  returns 0 or the errno
 *
 * Errors of the calls are returned, never thrown, so TypeScript names the object in its own
 * error; a wrong argument type throws a TypeError naming the argument. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>

#include <node_api.h>

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
  if (argc < 2 || get_int(env, argv[0], "fd", &fd) < 0 || get_int(env, argv[1], "op", &op) < 0) return NULL;
  int r;
  do r = flock(fd, op); while (r < 0 && errno == EINTR);
  return ret_int(env, r < 0 ? errno : 0);
}

struct flock_work {
  napi_async_work work;
  napi_deferred deferred;
  int fd, op, err;
};

static void flock_execute(napi_env env, void *data) {
  (void)env;
  struct flock_work *w = data;
  int r;
  do r = flock(w->fd, w->op); while (r < 0 && errno == EINTR);
  w->err = r < 0 ? errno : 0;
}

static void flock_complete(napi_env env, napi_status status, void *data) {
  struct flock_work *w = data;
  napi_value v;
  if (status == napi_ok && napi_create_int32(env, w->err, &v) == napi_ok) {
    napi_resolve_deferred(env, w->deferred, v);
  } else {
    napi_value msg, e;
    napi_create_string_utf8(env, "berth-sys: flock work failed", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &e);
    napi_reject_deferred(env, w->deferred, e);
  }
  napi_delete_async_work(env, w->work);
  free(w);
}

static napi_value js_flock_async(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], promise, name;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd, op;
  if (argc < 2 || get_int(env, argv[0], "fd", &fd) < 0 || get_int(env, argv[1], "op", &op) < 0) return NULL;
  struct flock_work *w = calloc(1, sizeof *w);
  if (!w) {
    napi_throw_error(env, NULL, "berth-sys: out of memory");
    return NULL;
  }
  w->fd = fd, w->op = op;
  if (napi_create_promise(env, &w->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "berth-sys.flock", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, flock_execute, flock_complete, w, &w->work) != napi_ok) {
    free(w);
    napi_throw_error(env, NULL, "berth-sys: cannot queue flock");
    return NULL;
  }
  if (napi_queue_async_work(env, w->work) != napi_ok) {
    napi_delete_async_work(env, w->work);
    free(w);
    napi_throw_error(env, NULL, "berth-sys: cannot queue flock");
    return NULL;
  }
  return promise;
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
  if (get_str(env, argv[0], "source", &source) < 0 || get_str(env, argv[1], "target", &target) < 0 ||
      get_str(env, argv[2], "fstype", &fstype) < 0 || get_int(env, argv[3], "flags", &flags) < 0 ||
      get_str(env, argv[4], "data", &data) < 0)
    goto out;
  if (!target) {
    napi_throw_type_error(env, NULL, "berth-sys: mount needs a target");
    goto out;
  }
  int r = mount(source, target, fstype, (unsigned long)(uint32_t)flags, data);
  ret = ret_int(env, r < 0 ? errno : 0);
out:
  free(source), free(target), free(fstype), free(data);
  return ret;
}

static napi_value js_umount2(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *target = NULL;
  int32_t flags;
  if (argc < 2 || get_str(env, argv[0], "target", &target) < 0 || get_int(env, argv[1], "flags", &flags) < 0) {
    free(target);
    return NULL;
  }
  if (!target) {
    napi_throw_type_error(env, NULL, "berth-sys: umount2 needs a target");
    return NULL;
  }
  int r = umount2(target, flags);
  int e = errno;
  free(target);
  return ret_int(env, r < 0 ? e : 0);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"flock", NULL, js_flock, NULL, NULL, NULL, napi_enumerable, NULL},
      {"flockAsync", NULL, js_flock_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mount", NULL, js_mount, NULL, NULL, NULL, napi_enumerable, NULL},
      {"umount2", NULL, js_umount2, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
