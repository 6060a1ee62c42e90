/* init.c: berth-init, the `--init` process (docker's /sbin/docker-init, tini's job).
 *
 *   berth-init [--] COMMAND [ARG...]
 *
 * A separate, statically linked program, because it runs inside the container's filesystem
 * where no libc may exist (busybox images); the runtime binds it read-only at
 * /sbin/docker-init. As PID 1 it forks COMMAND into its own process group (the terminal's
 * foreground group when stdin is a tty, so Ctrl-C reaches it, as tini does), forwards every
 * signal it receives to it, reaps every zombie reparented to it, and exits with COMMAND's
 * status: its exit code, or 128 + the signal that killed it. When it is not PID 1 it makes
 * itself a child subreaper so orphans still come to it. Exec failures exit 127 (not found) or
 * 126, with a message on stderr. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int first = 1;
  if (argc > 1 && strcmp(argv[1], "--") == 0) first = 2;
  if (first >= argc) {
    fprintf(stderr, "usage: berth-init [--] COMMAND [ARG...]\n");
    return 125;
  }
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  if (sigprocmask(SIG_BLOCK, &all, NULL) < 0) {
    perror("berth-init: sigprocmask");
    return 125;
  }
  if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) perror("berth-init: PR_SET_CHILD_SUBREAPER");
  pid_t child = fork();
  if (child < 0) {
    perror("berth-init: fork");
    return 125;
  }
  if (child == 0) {
    setpgid(0, 0);
    if (isatty(STDIN_FILENO)) {
      signal(SIGTTOU, SIG_IGN);
      if (tcsetpgrp(STDIN_FILENO, getpgrp()) < 0 && errno != ENOTTY) perror("berth-init: tcsetpgrp");
      signal(SIGTTOU, SIG_DFL);
    }
    /* COMMAND starts with no signal blocked, as the shim starts a process without --init; the
     * shim started this init with all of them blocked (launch key sigblock) */
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(argv[first], argv + first);
    int e = errno;
    fprintf(stderr, "berth-init: exec %s: %s\n", argv[first], strerror(e));
    _exit(e == ENOENT ? 127 : 126);
  }
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0) {
      if (errno == EINTR) continue;
      perror("berth-init: sigwaitinfo");
      return 125;
    }
    if (sig != SIGCHLD) {
      /* forward; a child that is already gone is reaped below */
      if (kill(child, sig) < 0 && errno != ESRCH) perror("berth-init: kill");
      continue;
    }
    int status, code = -1;
    pid_t r;
    while ((r = waitpid(-1, &status, WNOHANG)) > 0) {
      if (r != child) continue;
      code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (code >= 0) return code;
  }
}
