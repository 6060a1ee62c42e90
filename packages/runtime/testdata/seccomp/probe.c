/* probe: calls the syscalls named on the command line and prints "<name>=<errno>" per line,
 * 0 on success, so berth, docker and unconfined runs of the same container compare directly.
 * Built statically into the test rootfs: cc -static -O2 -o probe probe.c */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <sched.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static long clone_flags(unsigned long flags) {
  /* raw clone: the child exits at once, the parent reaps it */
  long r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (r == 0) _exit(0);
  if (r > 0) waitpid((pid_t)r, 0, 0);
  return r;
}

static long probe(const char *n) {
  if (!strcmp(n, "getpid")) return syscall(SYS_getpid);
  if (!strcmp(n, "unshare_user")) return syscall(SYS_unshare, CLONE_NEWUSER);
  if (!strcmp(n, "unshare_ns")) return syscall(SYS_unshare, CLONE_NEWNS);
  if (!strcmp(n, "mount")) return syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, 0);
  if (!strcmp(n, "setns")) return syscall(SYS_setns, -1, 0);
  if (!strcmp(n, "ptrace_traceme")) return syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
  if (!strcmp(n, "personality_query")) return syscall(SYS_personality, 0xffffffffUL) < 0 ? -1 : 0;
  if (!strcmp(n, "personality_linux")) return syscall(SYS_personality, 0UL) < 0 ? -1 : 0;
  if (!strcmp(n, "personality_norandom")) return syscall(SYS_personality, 0x0040000UL) < 0 ? -1 : 0;
  if (!strcmp(n, "socket_unix")) {
    long fd = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0) close((int)fd);
    return fd < 0 ? -1 : 0;
  }
  if (!strcmp(n, "socket_vsock")) {
    long fd = syscall(SYS_socket, AF_VSOCK, SOCK_STREAM, 0);
    if (fd >= 0) close((int)fd);
    return fd < 0 ? -1 : 0;
  }
  if (!strcmp(n, "clone_fork")) return clone_flags(0) < 0 ? -1 : 0;
  if (!strcmp(n, "clone_newuser")) return clone_flags(CLONE_NEWUSER) < 0 ? -1 : 0;
  if (!strcmp(n, "clone3")) return syscall(435, 0, 0);
  if (!strcmp(n, "keyctl")) return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0) < 0 ? -1 : 0;
  if (!strcmp(n, "mkdir")) {
    long r = syscall(SYS_mkdirat, AT_FDCWD, "/tmp/probe-dir", 0755);
    if (r == 0) rmdir("/tmp/probe-dir");
    return r;
  }
  if (!strcmp(n, "reboot")) return syscall(SYS_reboot, 0, 0, 0, 0) ; /* bad magic: EINVAL when allowed */
  errno = EINVAL;
  return -2;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    /* each probe in its own child, so one that succeeds (a new user namespace, a trace, a
     * personality) cannot change what the next one sees; the errno comes back as exit status */
    pid_t c = fork();
    if (c == 0) {
      errno = 0;
      long r = probe(argv[i]);
      _exit(r == -2 ? 255 : r < 0 ? (errno & 0xff) : 0);
    }
    int st = 0;
    if (c < 0 || waitpid(c, &st, 0) < 0) return 1;
    printf("%s=%d\n", argv[i], WIFEXITED(st) ? (WEXITSTATUS(st) == 255 ? -1 : WEXITSTATUS(st)) : -WTERMSIG(st));
  }
  return 0;
}
