/* mounts.h: the container's filesystem, done in the child inside its new mount namespace. */
#ifndef BERTH_MOUNTS_H
#define BERTH_MOUNTS_H

#include "launch.h"

/* berth_mounts_prepare makes / private (rootfs.propagation), binds the rootfs onto itself, does
 * the listed mounts and devices inside it (paths resolved inside the rootfs: hostile symlinks
 * cannot escape it), the /dev symlinks, and pivot_root. Steps "mount", "device", "pivot_root". */
int berth_mounts_prepare(const struct berth_launch *l, struct berth_err *err);

/* berth_mounts_finish, after pivot_root and sysctls: / read-only, masked and read-only paths.
 * Steps "mount", "masked_path", "readonly_path". */
int berth_mounts_finish(const struct berth_launch *l, struct berth_err *err);

#endif
