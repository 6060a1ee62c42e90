/* main.c: berth-shim's entry point.
 *
 *   berth-shim --check FILE   validate a launch description without cloning (exit 0 or 125)
 *   berth-shim --version
 *   berth-shim --device-filter DIR HEX   attach a cgroup v2 device program (devfilter.h)
 *   berth-shim --idmap-mount SRC DST MAP...   an idmapped mount (userns.h)
 *   berth-shim FILE           launch and supervise the container FILE describes
 *
 * The launch: parse, optionally daemonise, set up stdio, the control socket and the signalfd,
 * clone into the namespaces, let the parent place the child (sync `created` / `continue`), let
 * the child set itself up, then supervise (supervise.c). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgjoin.h"
#include "devfilter.h"
#include "launch.h"
#include "log.h"
#include "ns.h"
#include "hooks.h"
#include "oci.h"
#include "supervise.h"
#include "userns.h"

#ifndef BERTH_VERSION
#define BERTH_VERSION "0.0.0"
#endif

static const int relayed[] = {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGWINCH, SIGCONT, SIGALRM, SIGPWR};

/* A failure before or during the launch: tell the parent, record it, exit with its code. */
__attribute__((noreturn)) static void launch_failed(struct berth_supervisor *s, int code) {
  char enc[sizeof s->launch_err.msg * 3 + 1];
  struct berth_err e;
  s->failed = 1;
  berth_shim_log("error", "%s: %s", s->launch_err.step, s->launch_err.msg);
  if (pct_encode(s->launch_err.msg, enc, sizeof enc) < 0) snprintf(enc, sizeof enc, "error");
  berth_sync_send(s, "error %s %d %d %s", s->launch_err.step, s->launch_err.errnum, code, enc);
  if (s->l->exit_file && berth_write_exit_file(s, code, 0, &e) < 0) berth_shim_log("error", "%s", e.msg);
  if (s->l->control_socket) unlink(s->l->control_socket);
  /* with a sync fd the parent reports it; stderr may be the container's own (exec) */
  if (s->sync < 0) fprintf(stderr, "berth-shim: %s\n", s->launch_err.msg);
  _exit(code);
}

static int open_control(const char *path, struct berth_err *err) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return berth_error(err, errno, "control", "socket `%s`", path);
  (void)unlink(path);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 8) < 0) {
    int e = errno;
    close(fd);
    return berth_error(err, e, "control", "listen on `%s`", path);
  }
  return fd;
}

/* docker's translateContainerdStartErr: the runtime's message decides 127 and 126 */
static int runtime_exit_code(const char *msg) {
  /* runc: `exec: "x": executable file not found in $PATH`; crun: `executable file `x` not
   * found in $PATH: No such file or directory` */
  if (strstr(msg, "executable file not found") || strcasestr(msg, "no such file or directory") ||
      (strstr(msg, "executable file") && strstr(msg, "not found")))
    return BERTH_EXIT_NOT_FOUND;
  if (strcasestr(msg, "permission denied")) return BERTH_EXIT_CANNOT_EXEC;
  return BERTH_EXIT_FAILURE;
}

static void close_child_fds(struct berth_child_fds *cfd) {
  if (cfd->in >= 0) close(cfd->in);
  if (cfd->out >= 0 && cfd->out != cfd->in) close(cfd->out);
  if (cfd->errfd >= 0 && cfd->errfd != cfd->in && cfd->errfd != cfd->out) close(cfd->errfd);
}

/* After `created`: 0 to go on, -1 (launch_err set) when the parent aborted or went away. The
 * parent answers `continue`; with sync.continue=0 it sends nothing, and a look without blocking
 * still finds its EOF or `abort`: a parent gone before the container runs stops it either way. */
static int parent_continues(struct berth_supervisor *s) {
  const struct berth_launch *l = s->l;
  char line[64] = "";
  ssize_t n = 0;
  if (l->sync_fd < 0) return 0;
  if (s->sync >= 0 && l->sync_no_continue) {
    struct pollfd p = {s->sync, POLLIN, 0};
    int r = poll(&p, 1, 0);
    if (r == 0) return 0;
    n = r < 0 ? -1 : (p.revents & POLLIN) ? read_line(s->sync, line, sizeof line) : 0;
  } else if (s->sync >= 0) {
    n = read_line(s->sync, line, sizeof line);
  }
  if (n > 0 && strcmp(line, BERTH_SYNC_CONTINUE) == 0) return 0;
  return berth_error(&s->launch_err, n < 0 ? errno : ECANCELED, "sync", "parent %s before the container %s started",
                     n > 0 && strcmp(line, BERTH_SYNC_ABORT) == 0 ? "aborted" : "went away", l->id);
}

/* After the exit is recorded and every waiter told: the engine's cleanup (launch.h hook.exit). */
static void exit_hook(const struct berth_supervisor *s) {
  struct berth_err err;
  if (!s->l->hook_exit || !s->started || s->hooks_off) return;
  if (berth_hook_spawn(s->l, s->l->hook_exit, 1, &err) < 0) berth_shim_log("error", "exit hook: %s", err.msg);
}

/* The OCI runtime mode (oci.h): the runtime creates the container, the shim supervises it. */
static int run_oci(struct berth_supervisor *s, struct berth_child_fds *cfd) {
  const struct berth_launch *l = s->l;
  pid_t pid = berth_oci_create(l, cfd, &s->pty, &s->launch_err);
  close_child_fds(cfd);
  if (pid < 0) {
    struct berth_err e;
    (void)berth_oci_command(l, "delete", &e);
    launch_failed(s, runtime_exit_code(s->launch_err.msg));
  }
  s->pid = pid;
  berth_sync_send(s, "created %d %d", (int)pid, (int)getpid());
  if (parent_continues(s) < 0) {
    struct berth_err e;
    (void)berth_oci_command(l, "delete", &e);
    launch_failed(s, BERTH_EXIT_FAILURE);
  }
  if (l->start_wait) {
    s->waiting_start = 1;
    berth_sync_send(s, "ready");
  } else if (berth_oci_command(l, "start", &s->launch_err) < 0) {
    struct berth_err e;
    (void)berth_oci_command(l, "delete", &e);
    launch_failed(s, runtime_exit_code(s->launch_err.msg));
  } else {
    s->started = 1;
    berth_sync_send(s, "started %d", (int)pid);
    berth_shim_log("info", "container %s started by %s, pid %d", l->id, l->oci_runtime, (int)pid);
  }
  int status = berth_supervise(s);
  if (l->control_socket) unlink(l->control_socket);
  if (s->log) berth_jsonlog_close(s->log);
  exit_hook(s);
  return status;
}

/* glibc's posix_spawn (node's launch of this shim, native/sys.c) starts the new program with
 * glibc's two internal signals (32 and 33) ignored, and glibc's sigaction refuses to touch them.
 * An ignored signal survives exec: reset them with the system call itself, so nothing the
 * container runs inherits them ignored (as after node's fork-based spawn). */
static void default_internal_signals(void) {
  struct {
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long mask;
  } old, dfl = {SIG_DFL, 0, NULL, 0};
  for (int sig = 32; sig <= 33; sig++)
    if (syscall(SYS_rt_sigaction, sig, NULL, &old, sizeof old.mask) == 0 && old.handler == SIG_IGN)
      syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
}

static int run(const char *path) {
  static struct berth_launch l;
  struct berth_err err = {0};
  struct berth_jsonlog jlog;
  if (berth_launch_parse(path, &l, &err) < 0) {
    fprintf(stderr, "berth-shim: %s\n", err.msg);
    return BERTH_EXIT_FAILURE;
  }
  struct berth_supervisor s = {.l = &l, .pid = -1, .sfd = -1, .out = -1, .err = -1, .ctrl = -1, .sync = l.sync_fd, .go = -1, .msg = -1,
                            .in = -1, .pty = -1, .relay_in = -1, .pending = -1};
  if (s.sync >= 0 && fcntl(s.sync, F_SETFD, FD_CLOEXEC) < 0) {
    fprintf(stderr, "berth-shim: sync_fd %d: %s\n", s.sync, strerror(errno));
    return BERTH_EXIT_FAILURE;
  }
  berth_shim_log_open(l.shim_log);
  signal(SIGPIPE, SIG_IGN);

  if (l.daemonize) {
    /* leave the caller: it can exit, and we are nobody's session member (setsid) */
    pid_t d = fork();
    if (d < 0) {
      berth_error(&s.launch_err, errno, "daemonize", "fork");
      launch_failed(&s, BERTH_EXIT_FAILURE);
    }
    if (d > 0) _exit(0);
    setsid();
    if (chdir("/") < 0) berth_shim_log("warn", "chdir /: %s", strerror(errno));
  }
  berth_shim_log("info", "launching container %s", l.id);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  for (size_t i = 0; i < ARRAY_LEN(relayed); i++) sigaddset(&mask, relayed[i]);
  if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || (s.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
    berth_error(&s.launch_err, errno, "signals", "signalfd");
    launch_failed(&s, BERTH_EXIT_FAILURE);
  }

  struct berth_child_fds cfd = {.go = -1, .msg = -1, .in = -1, .out = -1, .errfd = -1};
  /* with a terminal the child's stdio is the pty it opens itself */
  if (l.terminal && l.stdio == BERTH_STDIO_INHERIT) s.relay_in = 0;
  if (l.stdio != BERTH_STDIO_INHERIT && !l.terminal) {
    cfd.in = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (cfd.in < 0) {
      berth_error(&s.launch_err, errno, "stdio", "open `/dev/null`");
      launch_failed(&s, BERTH_EXIT_FAILURE);
    }
    cfd.out = cfd.errfd = cfd.in;
  }
  if (l.open_stdin && l.stdio != BERTH_STDIO_INHERIT && !l.terminal) {
    int pi[2];
    if (pipe2(pi, O_CLOEXEC) < 0) {
      berth_error(&s.launch_err, errno, "stdio", "pipe");
      launch_failed(&s, BERTH_EXIT_FAILURE);
    }
    int devnull = cfd.in;
    cfd.in = pi[0], s.in = pi[1];
    if (l.stdio == BERTH_STDIO_LOG) close(devnull); /* out and err become pipes below */
  }
  if (l.stdio == BERTH_STDIO_LOG) {
    int po[2], pe[2];
    if (!l.terminal && (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)) {
      berth_error(&s.launch_err, errno, "stdio", "pipe");
      launch_failed(&s, BERTH_EXIT_FAILURE);
    }
    if (!l.terminal) {
      s.out = po[0], cfd.out = po[1];
      s.err = pe[0], cfd.errfd = pe[1];
    }
    if (berth_jsonlog_open(&jlog, l.log_path, l.log_max_size, l.log_max_file, &s.launch_err) < 0)
      launch_failed(&s, BERTH_EXIT_FAILURE);
    s.log = &jlog;
  }
  if (l.control_socket && (s.ctrl = open_control(l.control_socket, &s.launch_err)) < 0) launch_failed(&s, BERTH_EXIT_FAILURE);

  if (l.oci_runtime) return run_oci(&s, &cfd);

  /* msg is a socket: with a terminal the child passes the pty master on it (SCM_RIGHTS) */
  int go[2], msg[2];
  if (pipe2(go, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, msg) < 0) {
    berth_error(&s.launch_err, errno, "sync", "pipe");
    launch_failed(&s, BERTH_EXIT_FAILURE);
  }
  cfd.go = go[0], cfd.msg = msg[1];
  s.go = go[1], s.msg = msg[0];
  if (berth_ns_join_pid(&l, &s.launch_err) < 0) launch_failed(&s, BERTH_EXIT_FAILURE);

  pid_t pid = berth_ns_clone(&l, &s.launch_err);
  if (pid < 0) launch_failed(&s, BERTH_EXIT_FAILURE);
  if (pid == 0) {
    /* the child keeps only its own ends */
    if (s.sync >= 0) close(s.sync);
    close(go[1]);
    close(msg[0]);
    if (s.ctrl >= 0) close(s.ctrl);
    if (s.out >= 0) close(s.out);
    if (s.err >= 0) close(s.err);
    if (s.in >= 0) close(s.in);
    close(s.sfd);
    berth_container_init(&l, &cfd);
  }
  s.pid = pid;
  close(go[0]);
  close(msg[1]);
  close_child_fds(&cfd);

  /* the child waits for its go byte: its maps are in place before anything runs in it */
  if (l.ns[BERTH_NS_USER].mode == BERTH_NS_NEW &&
      berth_userns_write_maps(pid, l.uid_maps, l.n_uid_maps, l.gid_maps, l.n_gid_maps, &s.launch_err) < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    launch_failed(&s, BERTH_EXIT_FAILURE);
  }
  if (berth_cgjoin_parent(&l, pid, &s.launch_err) < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    launch_failed(&s, BERTH_EXIT_FAILURE);
  }
  char pidbuf[32];
  int pl = snprintf(pidbuf, sizeof pidbuf, "%d\n", (int)pid);
  if (l.pid_file && berth_write_atomic(l.pid_file, pidbuf, (size_t)pl, 0, &s.launch_err) < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    launch_failed(&s, BERTH_EXIT_FAILURE);
  }

  /* the parent places the child in its cgroup and network before anything runs */
  berth_sync_send(&s, "created %d %d", (int)pid, (int)getpid());
  if (parent_continues(&s) < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    launch_failed(&s, BERTH_EXIT_FAILURE);
  }
  if (write_all(s.go, "g", 1) < 0) {
    berth_error(&s.launch_err, errno, "sync", "wake the container %s", l.id);
    launch_failed(&s, BERTH_EXIT_FAILURE);
  }
  int code = 0;
  int r = berth_launch_result(&s, &code);
  if (r < 0) {
    waitpid(pid, NULL, 0);
    launch_failed(&s, code);
  }
  if (r == 1) {
    s.waiting_start = 1;
    berth_sync_send(&s, "ready");
  } else {
    close(s.go);
    s.go = -1;
    s.started = 1;
    berth_sync_send(&s, "started %d", (int)pid);
    berth_shim_log("info", "container %s started, pid %d", l.id, (int)pid);
  }
  int status = berth_supervise(&s);
  if (l.control_socket) unlink(l.control_socket);
  if (s.log) berth_jsonlog_close(s.log);
  exit_hook(&s);
  return status;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    printf("berth-shim %s (%s)\n", BERTH_VERSION, BERTH_LAUNCH_VERSION);
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "--check") == 0) {
    struct berth_launch l;
    struct berth_err err = {0};
    if (berth_launch_parse(argv[2], &l, &err) < 0) {
      fprintf(stderr, "berth-shim: %s\n", err.msg);
      return BERTH_EXIT_FAILURE;
    }
    berth_launch_free(&l);
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "--device-filter") == 0) return berth_devfilter_main(argv[2], argv[3]);
  if (argc >= 2 && strcmp(argv[1], "--idmap-mount") == 0) return berth_idmap_mount_main(argc - 2, argv + 2);
  if (argc == 2 && argv[1][0] != '-') {
    default_internal_signals();
    return run(argv[1]);
  }
  fprintf(stderr, "usage: berth-shim FILE | --check FILE | --device-filter DIR HEX | --idmap-mount SRC DST MAP... | --version\n");
  return BERTH_EXIT_FAILURE;
}
