/* oci.c: the OCI runtime mode (oci.h). */
#define _GNU_SOURCE
#include "oci.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

/* The runtime's last error, from its json log: the "msg" of the last line that has one. */
static void last_log_msg(const struct berth_launch *l, char *out, size_t size) {
  snprintf(out, size, "no message");
  if (!l->oci_log) return;
  FILE *f = fopen(l->oci_log, "re");
  if (!f) return;
  char line[2048];
  while (fgets(line, sizeof line, f)) {
    char *m = strstr(line, "\"msg\":\"");
    if (!m) continue;
    m += 7;
    size_t n = 0;
    for (char *p = m; *p && n + 1 < size; p++) {
      if (*p == '\\' && p[1]) {
        p++;
        out[n++] = *p == 'n' ? ' ' : *p;
        continue;
      }
      if (*p == '"') break;
      out[n++] = *p;
    }
    out[n] = '\0';
  }
  fclose(f);
}

/* Runs the runtime with argv (after the global options) and waits for it. stdio: -1 keeps
 * /dev/null. Returns 0 on exit 0, else -1 with err naming the command and the runtime's own
 * message. */
static int run_runtime(const struct berth_launch *l, const char *const *cmd, int in, int out, int errfd, struct berth_err *err) {
  const char *argv[32];
  size_t n = 0;
  argv[n++] = l->oci_runtime;
  argv[n++] = "--root";
  argv[n++] = l->oci_root;
  if (l->oci_log) {
    argv[n++] = "--log";
    argv[n++] = l->oci_log;
    argv[n++] = "--log-format";
    argv[n++] = "json";
  }
  for (size_t i = 0; cmd[i] && n < ARRAY_LEN(argv) - 1; i++) argv[n++] = cmd[i];
  argv[n] = NULL;
  pid_t pid = fork();
  if (pid < 0) return berth_error(err, errno, "runtime", "fork for `%s %s`", l->oci_runtime, cmd[0]);
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    int std[3] = {in >= 0 ? in : null, out >= 0 ? out : null, errfd >= 0 ? errfd : null};
    for (int i = 0; i < 3; i++)
      if (std[i] >= 0) dup2(std[i], i);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (l->oci_hide_cgroup2) {
      /* crun 1.8 refuses hybrid cgroups: give it a mount namespace without the v2 mount */
      if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
          (umount2("/sys/fs/cgroup/unified", MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT))
        _exit(125);
    }
    execv(l->oci_runtime, (char *const *)argv);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return berth_error(err, errno, "runtime", "wait for `%s %s`", l->oci_runtime, cmd[0]);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
  char msg[400];
  last_log_msg(l, msg, sizeof msg);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 127) snprintf(msg, sizeof msg, "cannot execute the runtime");
  return berth_error(err, 0, "runtime", "%s %s %s: exit %d: %s", l->oci_runtime, cmd[0], l->id,
                     WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), msg);
}

int berth_oci_command(const struct berth_launch *l, const char *cmd, struct berth_err *err) {
  const char *argv[] = {cmd, strcmp(cmd, "delete") == 0 ? "--force" : l->id, strcmp(cmd, "delete") == 0 ? l->id : NULL, NULL};
  return run_runtime(l, argv, -1, -1, -1, err);
}

static int recv_fd(int sock) {
  char byte[256];
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = {.iov_base = byte, .iov_len = sizeof byte};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  ssize_t r;
  do r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  struct cmsghdr *cm = r > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
  if (!cm || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int))) {
    errno = EPROTO;
    return -1;
  }
  int fd;
  memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  return fd;
}

pid_t berth_oci_create(const struct berth_launch *l, const struct berth_child_fds *fds, int *pty, struct berth_err *err) {
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) return berth_error(err, errno, "runtime", "PR_SET_CHILD_SUBREAPER");
  char console[PATH_MAX] = "";
  cleanup_close int lsock = -1;
  if (l->terminal) {
    /* the runtime connects to this socket and passes the pty master (runc's console socket) */
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (snprintf(console, sizeof console, "%s.console", l->pid_file) >= (int)sizeof addr.sun_path)
      return berth_error(err, ENAMETOOLONG, "runtime", "console socket `%s`", console);
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", console);
    (void)unlink(console);
    lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lsock < 0 || bind(lsock, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lsock, 1) < 0)
      return berth_error(err, errno, "runtime", "console socket `%s`", console);
  }
  const char *argv[] = {"create", "--bundle", l->oci_bundle, "--pid-file", l->pid_file,
                        l->terminal ? "--console-socket" : l->id, l->terminal ? console : NULL, l->terminal ? l->id : NULL, NULL};
  int rc = run_runtime(l, argv, fds->in, fds->out, fds->errfd, err);
  if (rc == 0 && l->terminal) {
    int c = accept4(lsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) rc = berth_error(err, errno, "runtime", "accept on the console socket");
    else {
      fcntl(c, F_SETFL, 0);
      *pty = recv_fd(c);
      close(c);
      if (*pty < 0) rc = berth_error(err, errno, "runtime", "receive the pty master");
      else fcntl(*pty, F_SETFL, O_NONBLOCK);
    }
  }
  if (console[0]) (void)unlink(console);
  if (rc < 0) return -1;
  char buf[32] = "";
  cleanup_close int pf = open(l->pid_file, O_RDONLY | O_CLOEXEC);
  ssize_t n = pf < 0 ? -1 : read(pf, buf, sizeof buf - 1);
  long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
  if (pid <= 0) return berth_error(err, pf < 0 ? errno : EPROTO, "runtime", "pid file `%s`", l->pid_file);
  return (pid_t)pid;
}
