/* ns.h: namespaces (new ones by clone flags, joined ones by setns) and the container's init
 * path, from clone to execve. */
#ifndef BERTH_NS_H
#define BERTH_NS_H

#include <sys/types.h>

#include "launch.h"

/* The fds the child gets from the shim. */
struct berth_child_fds {
  int go;              /* read end: one byte per "go on" from the shim */
  int msg;             /* write end, close-on-exec: `ready` or `error ...` lines; EOF = exec'd */
  int in, out, errfd;  /* stdio for the container, or -1 to keep the shim's */
};

/* berth_ns_join_pid enters a joined pid namespace for the shim's future children (setns
 * CLONE_NEWPID affects only children). Step "namespace". */
int berth_ns_join_pid(const struct berth_launch *l, struct berth_err *err);

/* berth_ns_clone forks with the new namespaces' CLONE_NEW* flags. Returns the child's pid in
 * the parent, 0 in the child, -1 on failure. Step "clone". */
pid_t berth_ns_clone(const struct berth_launch *l, struct berth_err *err);

/* berth_container_init runs in the child: waits for the first go byte, joins namespaces, sets
 * up the rootfs and the process, waits for a second go byte when start=wait, and execs. On
 * failure it writes `error <step> <errno> <exit-code> <message>` on fds->msg and exits with
 * that code (125, 126 or 127). Never returns. */
__attribute__((noreturn)) void berth_container_init(const struct berth_launch *l, const struct berth_child_fds *fds);

#endif
