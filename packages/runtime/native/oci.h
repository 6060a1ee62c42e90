/* oci.h: berth-shim supervising a container that another OCI runtime (runc, crun) creates,
 * as containerd-shim does: the runtime's `create`, `start` and `delete` run as our children,
 * we are the child subreaper the container's init is reparented to, and everything after
 * (logs, attach, exit record) is the shim's own loop. */
#ifndef BERTH_OCI_H
#define BERTH_OCI_H

#include <sys/types.h>

#include "launch.h"
#include "ns.h"

/* berth_oci_create runs `<runtime> --root R --log L --log-format json create --bundle B
 * --pid-file P [--console-socket S] <id>` with the container's stdio (fds, or with a terminal
 * the master received on the console socket into *pty), and returns the container's pid
 * read from the pid file. Step "runtime". */
pid_t berth_oci_create(const struct berth_launch *l, const struct berth_child_fds *fds, int *pty, struct berth_err *err);

/* berth_oci_command runs `<runtime> ... <cmd> [--force] <id>` (start, delete) and waits. */
int berth_oci_command(const struct berth_launch *l, const char *cmd, struct berth_err *err);

#endif
