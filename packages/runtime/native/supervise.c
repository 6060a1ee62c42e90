/* supervise.c: the shim's loop after the launch. One poll(2) over a signalfd, the container's
 * stdout/stderr pipes, the control socket and its clients, and the parent's sync fd. */
#define _GNU_SOURCE
#include "supervise.h"

#include "hooks.h"
#include "oci.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <termios.h>
#include <sys/wait.h>

#define MAX_CLIENTS 16

void berth_sync_send(struct berth_supervisor *s, const char *fmt, ...) {
  if (s->sync < 0) return;
  char line[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n > sizeof line - 2) n = (int)sizeof line - 2;
  line[n++] = '\n';
  if (write_all(s->sync, line, (size_t)n) < 0) {
    berth_shim_log("warn", "sync fd: %s; carrying on without the parent", strerror(errno));
    close(s->sync);
    s->sync = -1;
  }
}

static int decode_field(char *f) {
  char *w = f;
  for (char *r = f; *r; r++) {
    if (*r == '%' && r[1] && r[2]) {
      char hex[3] = {r[1], r[2], 0};
      *w++ = (char)strtol(hex, NULL, 16);
      r += 2;
    } else {
      *w++ = *r;
    }
  }
  *w = '\0';
  return 0;
}

/* The child's first message with a terminal: one byte 'P' carrying the master (SCM_RIGHTS).
 * Anything else (an `error` line from a failure before the pty) is kept for read_line. */
static int take_pty(struct berth_supervisor *s) {
  char byte;
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  ssize_t n;
  do n = recvmsg(s->msg, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return (int)n;
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  if (byte == 'P' && cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
      cm->cmsg_len == CMSG_LEN(sizeof(int))) {
    memcpy(&s->pty, CMSG_DATA(cm), sizeof(int));
    fcntl(s->pty, F_SETFL, O_NONBLOCK);
    return 1;
  }
  s->pending = (unsigned char)byte;
  return 1;
}

int berth_launch_result(struct berth_supervisor *s, int *code) {
  char line[4096];
  ssize_t n;
  if (s->l->terminal && s->pty < 0 && s->pending < 0 && take_pty(s) == 0) return 0;
  if (s->pending >= 0) {
    line[0] = (char)s->pending;
    s->pending = -1;
    n = line[0] == '\n' ? 0 : read_line(s->msg, line + 1, sizeof line - 1);
    if (n == 0) line[1] = '\0';
    if (n >= 0) n += 1;
    if (line[0] == '\n') line[0] = '\0';
  } else {
    n = read_line(s->msg, line, sizeof line);
  }
  if (n == 0) return 0;
  if (n > 0 && strcmp(line, "ready") == 0) return 1;
  *code = BERTH_EXIT_FAILURE;
  s->failed = 1;
  if (n < 0) {
    berth_error(&s->launch_err, errno, "sync", "read the child's message");
    return -1;
  }
  /* error <step> <errno> <code> <message> */
  char step[32] = "", msg[sizeof line];
  int e = 0, c = BERTH_EXIT_FAILURE;
  if (sscanf(line, "error %31s %d %d %4095s", step, &e, &c, msg) != 4) {
    berth_error(&s->launch_err, EPROTO, "sync", "unexpected message from the child `%.64s`", line);
    return -1;
  }
  decode_field(msg);
  s->launch_err.errnum = e;
  snprintf(s->launch_err.step, sizeof s->launch_err.step, "%s", step);
  snprintf(s->launch_err.msg, sizeof s->launch_err.msg, "%.511s", msg);
  *code = c == BERTH_EXIT_CANNOT_EXEC || c == BERTH_EXIT_NOT_FOUND ? c : BERTH_EXIT_FAILURE;
  return -1;
}

int berth_write_atomic(const char *path, const char *data, size_t len, int durable, struct berth_err *err) {
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return berth_error(err, ENAMETOOLONG, "exit", "`%s`", path);
  cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return berth_error(err, errno, "exit", "open `%s`", tmp);
  if (write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0)) return berth_error(err, errno, "exit", "write `%s`", tmp);
  if (rename(tmp, path) < 0) return berth_error(err, errno, "exit", "rename `%s`", tmp);
  if (!durable) return 0;
  /* the rename is durable once the directory is synced */
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash) {
    *(slash == dir ? slash + 1 : slash) = '\0';
    cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) (void)fsync(dfd);
  }
  return 0;
}

int berth_write_exit_file(struct berth_supervisor *s, int status, int sig, struct berth_err *err) {
  if (!s->l->exit_file) return 0;
  char buf[4096], ts[64], enc[sizeof s->launch_err.msg * 3 + 1];
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  berth_format_time(&now, ts, sizeof ts);
  int n = snprintf(buf, sizeof buf, "%s\nexit_code=%d\nsignal=%d\nexited_at=%s\n", BERTH_EXIT_VERSION, status, sig, ts);
  if (s->failed && pct_encode(s->launch_err.msg, enc, sizeof enc) >= 0)
    n += snprintf(buf + n, sizeof buf - (size_t)n, "step=%s\nerrno=%d\nerror=%s\n", s->launch_err.step,
                  s->launch_err.errnum, enc);
  if (n < 0 || (size_t)n >= sizeof buf) return berth_error(err, EOVERFLOW, "exit", "exit record too long");
  return berth_write_atomic(s->l->exit_file, buf, (size_t)n, !s->l->exit_file_nosync, err);
}

/* Clients of the control socket: a request, a `wait` (answered at the exit) or an attach. */
enum client_mode { CLIENT_REQUEST, CLIENT_WAITING, CLIENT_ATTACHED };

struct client {
  int fd;
  enum client_mode mode;
  int feed_stdin, close_stdin, in_eof;
  size_t len;
  char buf[128];
};

static struct client clients[MAX_CLIENTS];

static void drop_client(struct client *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
}

/* Output of the container: to the json-file log, our own stdout (a terminal relayed in
 * stdio=inherit) and every attached client as a stdcopy frame. */
static void emit(struct berth_supervisor *s, int stream, const char *data, size_t len) {
  struct berth_err err;
  if (s->log && berth_jsonlog_write(s->log, stream, data, len, &err) < 0) berth_shim_log("error", "%s", err.msg);
  if (s->l->terminal && s->l->stdio == BERTH_STDIO_INHERIT) (void)write_all(1, data, len);
  unsigned char hdr[8] = {(unsigned char)(stream + 1), 0, 0, 0, (unsigned char)(len >> 24), (unsigned char)(len >> 16),
                          (unsigned char)(len >> 8), (unsigned char)len};
  for (int c = 0; c < MAX_CLIENTS; c++) {
    if (clients[c].fd < 0 || clients[c].mode != CLIENT_ATTACHED) continue;
    if (write_all(clients[c].fd, hdr, sizeof hdr) < 0 || write_all(clients[c].fd, data, len) < 0) {
      berth_shim_log("warn", "attach client dropped: %s", strerror(errno));
      drop_client(&clients[c]);
    }
  }
}

/* Input for the container: the master or the stdin pipe, both non-blocking. A container that
 * does not read for a second loses the bytes rather than stall the shim. */
static void feed(struct berth_supervisor *s, const char *data, size_t len) {
  int fd = s->pty >= 0 ? s->pty : s->in;
  while (fd >= 0 && len > 0) {
    ssize_t w = write(fd, data, len);
    if (w > 0) {
      data += w, len -= (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      struct pollfd p = {fd, POLLOUT, 0};
      if (poll(&p, 1, 1000) > 0) continue;
    }
    berth_shim_log("warn", "container stdin: %s; %zu bytes dropped", w < 0 ? strerror(errno) : "short write", len);
    return;
  }
}

static void close_stdin(struct berth_supervisor *s) {
  if (s->in < 0) return;
  close(s->in);
  s->in = -1;
}

static int drain(struct berth_supervisor *s, int *fd, int stream, int until_eof) {
  char buf[16384];
  struct berth_err err;
  for (;;) {
    ssize_t r = read(*fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN && !until_eof) return 0;
    /* a pty master reads EIO once no slave is open; EAGAIN after the exit means an orphan
     * still holds the slave: stop rather than wait for it */
    if (r <= 0) {
      if (s->log && berth_jsonlog_flush(s->log, stream, &err) < 0) berth_shim_log("error", "%s", err.msg);
      close(*fd);
      *fd = -1;
      return 0;
    }
    emit(s, stream, buf, (size_t)r);
    if (!until_eof) return 0;
  }
}

static void reply(int fd, const char *line) {
  (void)write_all(fd, line, strlen(line));
}

static void reply_error(int fd, const struct berth_err *e, int code) {
  char enc[sizeof e->msg * 3 + 1], line[sizeof enc + 96];
  if (pct_encode(e->msg, enc, sizeof enc) < 0) snprintf(enc, sizeof enc, "error");
  snprintf(line, sizeof line, "error %s %d %d %s\n", e->step, e->errnum, code, enc);
  reply(fd, line);
}

/* Returns the client's mode after the request: CLIENT_REQUEST when it is answered (closed). */
static enum client_mode handle_request(struct berth_supervisor *s, struct client *cl, char *req, int exited) {
  char line[128];
  int sig, a, b, fd = cl->fd;
  unsigned rows, cols;
  struct berth_err e = {0};
  if (strcmp(req, "start") == 0) {
    if (!s->waiting_start) {
      berth_error(&e, 0, "start", "container %s is not waiting to start", s->l->id);
      reply_error(fd, &e, BERTH_EXIT_FAILURE);
      return CLIENT_REQUEST;
    }
    s->waiting_start = 0;
    int code = 0;
    if (s->l->oci_runtime) {
      if (berth_oci_command(s->l, "start", &e) < 0) {
        reply_error(fd, &e, BERTH_EXIT_FAILURE);
        return CLIENT_REQUEST;
      }
      snprintf(line, sizeof line, "started %d\n", (int)s->pid);
      reply(fd, line);
      s->started = 1;
      berth_sync_send(s, "started %d", (int)s->pid);
      return CLIENT_REQUEST;
    }
    if (write_all(s->go, "g", 1) < 0) {
      berth_error(&e, errno, "start", "wake container %s", s->l->id);
      reply_error(fd, &e, BERTH_EXIT_FAILURE);
      return CLIENT_REQUEST;
    }
    close(s->go);
    s->go = -1;
    if (berth_launch_result(s, &code) < 0) {
      reply_error(fd, &s->launch_err, code);
      char enc[sizeof s->launch_err.msg * 3 + 1];
      pct_encode(s->launch_err.msg, enc, sizeof enc);
      berth_sync_send(s, "error %s %d %d %s", s->launch_err.step, s->launch_err.errnum, code, enc);
      return CLIENT_REQUEST;
    }
    snprintf(line, sizeof line, "started %d\n", (int)s->pid);
    reply(fd, line);
    s->started = 1;
      berth_sync_send(s, "started %d", (int)s->pid);
    berth_shim_log("info", "container %s started, pid %d", s->l->id, (int)s->pid);
    return CLIENT_REQUEST;
  }
  if (strcmp(req, "wait") == 0) return CLIENT_WAITING;
  if (strcmp(req, "hooks off") == 0) {
    s->hooks_off = 1;
    reply(fd, "ok\n");
    return CLIENT_REQUEST;
  }
  if (sscanf(req, "delete %d", &sig) == 1 && sig > 0 && sig < 65) {
    /* delete --force in one request: no further hook, the signal (none once the child is
     * reaped: its pid may be another process's by now), and the answer at the exit as `wait` */
    s->hooks_off = 1;
    if (!exited && kill(s->pid, sig) < 0) {
      berth_error(&e, errno, "kill", "signal %d to container %s", sig, s->l->id);
      reply_error(fd, &e, BERTH_EXIT_FAILURE);
      return CLIENT_REQUEST;
    }
    return CLIENT_WAITING;
  }
  if (sscanf(req, "kill %d", &sig) == 1 && sig > 0 && sig < 65) {
    if (exited) {
      berth_error(&e, ESRCH, "kill", "container %s has exited", s->l->id);
      reply_error(fd, &e, BERTH_EXIT_FAILURE);
    } else if (kill(s->pid, sig) < 0) {
      berth_error(&e, errno, "kill", "signal %d to container %s", sig, s->l->id);
      reply_error(fd, &e, BERTH_EXIT_FAILURE);
    } else {
      reply(fd, "ok\n");
    }
    return CLIENT_REQUEST;
  }
  if (sscanf(req, "resize %u %u", &rows, &cols) == 2 && rows <= 65535 && cols <= 65535) {
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    if (s->pty < 0) {
      berth_error(&e, ENOTTY, "resize", "container %s has no terminal", s->l->id);
      reply_error(fd, &e, BERTH_EXIT_FAILURE);
    } else if (ioctl(s->pty, TIOCSWINSZ, &ws) < 0) {
      berth_error(&e, errno, "resize", "container %s: window size %ux%u", s->l->id, rows, cols);
      reply_error(fd, &e, BERTH_EXIT_FAILURE);
    } else {
      reply(fd, "ok\n");
    }
    return CLIENT_REQUEST;
  }
  if (sscanf(req, "attach %d %d", &a, &b) == 2 && (a == 0 || a == 1) && (b == 0 || b == 1)) {
    if (exited) {
      berth_error(&e, ESRCH, "attach", "container %s has exited", s->l->id);
      reply_error(fd, &e, BERTH_EXIT_FAILURE);
      return CLIENT_REQUEST;
    }
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    cl->feed_stdin = a, cl->close_stdin = b, cl->in_eof = !a;
    reply(fd, "ok\n");
    return CLIENT_ATTACHED;
  }
  berth_error(&e, EINVAL, "control", "unknown request `%.32s`", req);
  reply_error(fd, &e, BERTH_EXIT_FAILURE);
  return CLIENT_REQUEST;
}

static void client_input(struct berth_supervisor *s, struct client *cl, int exited) {
  if (cl->mode == CLIENT_WAITING) { /* POLLHUP: the waiter went away */
    drop_client(cl);
    return;
  }
  if (cl->mode == CLIENT_ATTACHED) {
    char buf[16384];
    ssize_t r = cl->in_eof ? 0 : read(cl->fd, buf, sizeof buf);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (r > 0) {
      if (cl->feed_stdin) feed(s, buf, (size_t)r);
      return;
    }
    if (cl->in_eof || r < 0) { /* POLLHUP after EOF, or an error: gone */
      drop_client(cl);
      return;
    }
    cl->in_eof = 1;
    if (cl->close_stdin && s->pty < 0) close_stdin(s);
    return;
  }
  ssize_t r = read(cl->fd, cl->buf + cl->len, sizeof cl->buf - 1 - cl->len);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (r > 0) cl->len += (size_t)r;
  cl->buf[cl->len] = '\0';
  char *nl = memchr(cl->buf, '\n', cl->len);
  if (nl) {
    *nl = '\0';
    int fl = fcntl(cl->fd, F_GETFL);
    fcntl(cl->fd, F_SETFL, fl & ~O_NONBLOCK);
    cl->mode = handle_request(s, cl, cl->buf, exited);
    if (cl->mode == CLIENT_WAITING) return;
    if (cl->mode == CLIENT_ATTACHED) {
      /* bytes sent right behind the request are already stdin */
      size_t rest = cl->len - (size_t)(nl + 1 - cl->buf);
      if (rest && cl->feed_stdin) feed(s, nl + 1, rest);
      return;
    }
  }
  if (nl || r <= 0 || cl->len >= sizeof cl->buf - 1) drop_client(cl);
}

static long long monotonic_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The health hook (launch.h hook.health): due every interval once the container runs, never
 * two at a time. Returns the poll timeout until the next one (-1: none). */
static int health_tick(struct berth_supervisor *s) {
  const struct berth_launch *l = s->l;
  if (!l->hook_health || !s->started || s->hooks_off) return -1;
  long long now = monotonic_ms(), iv = (long long)l->hook_health_interval_ms;
  if (s->next_health_ms == 0) s->next_health_ms = now + iv;
  if (now >= s->next_health_ms) {
    if (s->health_pid <= 0) {
      struct berth_err err;
      pid_t p = berth_hook_spawn(l, l->hook_health, 0, &err);
      if (p < 0) berth_shim_log("warn", "%s", err.msg);
      else s->health_pid = p;
    }
    s->next_health_ms = now + iv;
  }
  long long left = s->next_health_ms - now;
  return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

int berth_supervise(struct berth_supervisor *s) {
  for (int i = 0; i < MAX_CLIENTS; i++) clients[i].fd = -1;
  int exited = 0, status = 0, sig = 0;
  if (s->out >= 0) fcntl(s->out, F_SETFL, O_NONBLOCK);
  if (s->err >= 0) fcntl(s->err, F_SETFL, O_NONBLOCK);
  if (s->in >= 0) fcntl(s->in, F_SETFL, O_NONBLOCK);
  while (!exited) {
    struct pollfd p[8 + MAX_CLIENTS];
    int np = 0, i_sfd = -1, i_out = -1, i_err = -1, i_pty = -1, i_rin = -1, i_ctrl = -1, i_sync = -1, i_cl[MAX_CLIENTS];
    p[i_sfd = np++] = (struct pollfd){s->sfd, POLLIN, 0};
    if (s->out >= 0) p[i_out = np++] = (struct pollfd){s->out, POLLIN, 0};
    if (s->err >= 0) p[i_err = np++] = (struct pollfd){s->err, POLLIN, 0};
    if (s->pty >= 0) p[i_pty = np++] = (struct pollfd){s->pty, POLLIN, 0};
    if (s->relay_in >= 0) p[i_rin = np++] = (struct pollfd){s->relay_in, POLLIN, 0};
    if (s->ctrl >= 0) p[i_ctrl = np++] = (struct pollfd){s->ctrl, POLLIN, 0};
    if (s->sync >= 0) p[i_sync = np++] = (struct pollfd){s->sync, POLLIN, 0};
    for (int c = 0; c < MAX_CLIENTS; c++) {
      i_cl[c] = -1;
      struct client *cl = &clients[c];
      int want = cl->mode == CLIENT_WAITING || (cl->mode == CLIENT_ATTACHED && cl->in_eof) ? 0 : POLLIN;
      if (cl->fd >= 0) p[i_cl[c] = np++] = (struct pollfd){cl->fd, (short)want, 0};
    }
    if (poll(p, (nfds_t)np, health_tick(s)) < 0) {
      if (errno == EINTR) continue;
      berth_shim_log("error", "poll: %s", strerror(errno));
      break;
    }
    if (p[i_sfd].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(s->sfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo != SIGCHLD) {
          /* relay: docker's sig-proxy forwards what the CLI receives */
          if (kill(s->pid, (int)si.ssi_signo) < 0) berth_shim_log("warn", "relay signal %u: %s", si.ssi_signo, strerror(errno));
          continue;
        }
        int st;
        pid_t r;
        while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
          if (r == s->health_pid) s->health_pid = 0;
          if (r != s->pid) continue;
          exited = 1;
          if (WIFEXITED(st)) status = WEXITSTATUS(st);
          else if (WIFSIGNALED(st)) sig = WTERMSIG(st), status = 128 + sig;
        }
      }
    }
    if (i_out >= 0 && p[i_out].revents) drain(s, &s->out, 0, 0);
    if (i_err >= 0 && p[i_err].revents) drain(s, &s->err, 1, 0);
    if (i_pty >= 0 && p[i_pty].revents) drain(s, &s->pty, 0, 0);
    if (i_rin >= 0 && p[i_rin].revents) {
      char buf[16384];
      ssize_t r = read(s->relay_in, buf, sizeof buf);
      if (r > 0) feed(s, buf, (size_t)r);
      else if (r == 0 || (errno != EINTR && errno != EAGAIN)) s->relay_in = -1; /* our stdin ended */
    }
    if (i_sync >= 0 && p[i_sync].revents) {
      char b[256];
      ssize_t r = read(s->sync, b, sizeof b);
      if (r <= 0 && !(r < 0 && (errno == EINTR || errno == EAGAIN))) {
        berth_shim_log("info", "parent closed the sync fd; carrying on alone");
        close(s->sync);
        s->sync = -1;
      }
    }
    if (i_ctrl >= 0 && (p[i_ctrl].revents & POLLIN)) {
      int fd = accept4(s->ctrl, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      int placed = 0;
      for (int c = 0; fd >= 0 && c < MAX_CLIENTS && !placed; c++)
        if (clients[c].fd < 0) clients[c] = (struct client){.fd = fd, .mode = CLIENT_REQUEST}, placed = 1;
      if (fd >= 0 && !placed) close(fd);
    }
    for (int c = 0; c < MAX_CLIENTS; c++)
      if (i_cl[c] >= 0 && p[i_cl[c]].revents && clients[c].fd >= 0) client_input(s, &clients[c], exited);
  }
  /* the pid namespace is gone with its init, so the pipes reach EOF: log everything */
  if (s->out >= 0) drain(s, &s->out, 0, 1);
  if (s->err >= 0) drain(s, &s->err, 1, 1);
  if (s->pty >= 0) drain(s, &s->pty, 0, 1);
  close_stdin(s);
  struct berth_err err;
  /* the runtime's state and cgroups go before the exit is recorded */
  if (s->l->oci_runtime && berth_oci_command(s->l, "delete", &err) < 0) berth_shim_log("warn", "%s", err.msg);
  if (berth_write_exit_file(s, status, sig, &err) < 0) berth_shim_log("error", "%s", err.msg);
  /* waiters hear after the exit file is written (durable unless exit_file.sync=0), so they may
     read it at once */
  char line[64];
  snprintf(line, sizeof line, "exited %d %d\n", status, sig);
  for (int c = 0; c < MAX_CLIENTS; c++) {
    if (clients[c].fd < 0) continue;
    if (clients[c].mode == CLIENT_WAITING) reply(clients[c].fd, line);
    drop_client(&clients[c]);
  }
  berth_shim_log("info", "container %s exited with status %d", s->l->id, status);
  berth_sync_send(s, "exited %d %d", status, sig);
  return status;
}
