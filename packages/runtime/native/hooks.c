/* hooks.c: running the launch's hooks (hooks.h). fork + execve, nothing resident: a hook costs
 * nothing between runs, which keeps the shim's idle footprint what it was. */
#define _GNU_SOURCE
#include "hooks.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "log.h"

extern char **environ;

/* In the child: never returns. Only async-signal-safe calls (we may have been forked from a
 * process with other threads in the future; today the shim is single-threaded). */
__attribute__((noreturn)) static void exec_hook(const struct berth_launch *l, char *const argv[]) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
  /* the shim's own log fd, not its path: the exit hook runs after waiters heard of the exit,
   * while one may be removing the container's directory, and an open with O_CREAT there put
   * shim.log back into it (rmdir ENOTEMPTY) */
  int out = berth_shim_log_fd();
  if (out < 0) out = nul;
  if (nul < 0 || dup2(nul, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(BERTH_EXIT_FAILURE);
  /* close_range(2), Linux 5.9: nothing of the shim's (control socket, log, pipes) leaks */
  if (syscall(SYS_close_range, 3u, ~0u, 0u) < 0)
    for (int fd = 3; fd < 1024; fd++) close(fd);
  if (chdir(l->hook_cwd ? l->hook_cwd : "/") < 0) _exit(BERTH_EXIT_FAILURE);
  execve(argv[0], argv, l->hook_env ? l->hook_env : environ);
  _exit(errno == ENOENT ? BERTH_EXIT_NOT_FOUND : BERTH_EXIT_CANNOT_EXEC);
}

pid_t berth_hook_spawn(const struct berth_launch *l, char *const argv[], int detach, struct berth_err *err) {
  pid_t pid = fork();
  if (pid < 0) return berth_error(err, errno, "hook", "fork for `%s`", argv[0]);
  if (pid == 0) {
    setsid();
    if (detach) {
      pid_t g = fork();
      if (g != 0) _exit(g < 0 ? BERTH_EXIT_FAILURE : 0);
    }
    exec_hook(l, argv);
  }
  if (!detach) return pid;
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return berth_error(err, errno, "hook", "wait for `%s`", argv[0]);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return berth_error(err, ECHILD, "hook", "fork for `%s` failed", argv[0]);
  return 0;
}
