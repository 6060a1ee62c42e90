/* hooks.h: the programs the shim runs on the container's behalf (launch.h hook.*): the exit
 * hook once the exit is recorded, the health hook on its interval. */
#ifndef BERTH_HOOKS_H
#define BERTH_HOOKS_H

#include <sys/types.h>

#include "launch.h"

/* berth_hook_spawn runs argv with the launch's hook.cwd and hook.env, in a new session, stdin
 * /dev/null, stdout and stderr appended to the shim log (else /dev/null), no other descriptor
 * and an empty signal mask. With detach the program is a grandchild (double fork) that outlives
 * the shim and is nobody's child to reap here; the intermediate is reaped before returning.
 * Returns the child's pid (0 with detach), or -1 with err set. */
pid_t berth_hook_spawn(const struct berth_launch *l, char *const argv[], int detach, struct berth_err *err);

#endif
