/* supervise.h: the shim as the container's parent, after the launch. */
#ifndef BERTH_SUPERVISE_H
#define BERTH_SUPERVISE_H

#include <sys/types.h>

#include "launch.h"
#include "log.h"

struct berth_supervisor {
  const struct berth_launch *l;
  pid_t pid;          /* the container's init, in our pid namespace */
  int sfd;            /* signalfd: SIGCHLD and the relayed signals */
  int out, err;       /* read ends of the container's stdout/stderr pipes, or -1 */
  int in;             /* write end of the container's stdin pipe (stdin=1), or -1 */
  int pty;            /* the pty master (terminal=1), once the child has passed it, or -1 */
  int relay_in;       /* terminal with stdio=inherit: our stdin, copied to the master, or -1 */
  int pending;        /* a byte read from the message socket ahead of a line, or -1 */
  int ctrl;           /* listening control socket, or -1 */
  int sync;           /* the parent's sync fd, or -1 once it has gone */
  int go, msg;        /* the child's go pipe (write end) and message pipe (read end) */
  int waiting_start;  /* setup done, execve waits for `start` */
  int started;        /* the container's process runs (or ran): the exit hook applies */
  int hooks_off;      /* `hooks off` on the control socket: no more hooks (the container is being removed) */
  pid_t health_pid;   /* the health hook running now, or 0 */
  long long next_health_ms; /* CLOCK_MONOTONIC time of the next health hook, 0: not armed */
  struct berth_jsonlog *log;
  /* a failed launch: recorded in the exit file */
  int failed;
  struct berth_err launch_err;
};

/* berth_sync_send writes one sync line to the parent if it is still there; EPIPE drops it. */
void berth_sync_send(struct berth_supervisor *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* berth_launch_result reads the child's next message line: returns 1 for `ready`, 0 for EOF
 * (execve succeeded), -1 for `error ...` (s->launch_err filled, *code set). With a terminal it
 * first takes the pty master the child passes (s->pty). */
int berth_launch_result(struct berth_supervisor *s, int *code);

/* berth_supervise runs the loop until the container has exited and returns its status
 * (exit code, or 128 + signal): relays signals, writes the json-file log, serves the control
 * socket, reaps, and records the exit file atomically. */
int berth_supervise(struct berth_supervisor *s);

/* berth_write_exit_file records status (and the launch error, if any) in l->exit_file with
 * write-temp, fsync, rename. No-op without an exit file. */
int berth_write_exit_file(struct berth_supervisor *s, int status, int sig, struct berth_err *err);

/* berth_write_atomic writes data to path through path.tmp and rename; with durable, fsync of
 * the file before the rename and of the directory after (the exit record). Without it the
 * write is still atomic for readers and against a killed process (the pid file). */
int berth_write_atomic(const char *path, const char *data, size_t len, int durable, struct berth_err *err);

#endif
