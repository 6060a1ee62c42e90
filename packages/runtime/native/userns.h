/* userns.h: user namespaces. The container's maps are written by the shim right after the
 * clone, before the parent hears `created` (the child waits for its go byte meanwhile), and the
 * child then becomes root of its namespace (runc's nsexec order). `--idmap-mount` makes the
 * idmapped mounts a rootfs needs on the host side, so any OCI runtime sees it owned by the
 * container's root:
 *
 *   berth-shim --idmap-mount SRC DST u:CONTAINER:HOST:SIZE... g:CONTAINER:HOST:SIZE...
 *
 * clones SRC (open_tree OPEN_TREE_CLONE, not recursive), idmaps the clone with a user namespace
 * holding the maps (mount_setattr MOUNT_ATTR_IDMAP, Linux 5.12; the filesystem must support
 * idmapped mounts: ext4, xfs, btrfs, tmpfs do, overlayfs itself does not, but overlay accepts
 * idmapped layers since 5.19) and attaches it at DST (move_mount). Exit 0, or 125 with the
 * failing step on stderr. */
#ifndef BERTH_USERNS_H
#define BERTH_USERNS_H

#include <sys/types.h>

#include "launch.h"

/* berth_userns_write_maps writes the maps of pid's user namespace: directly as root, else via
 * newuidmap/newgidmap. Step "userns". */
int berth_userns_write_maps(pid_t pid, const struct berth_idmap *uid, size_t n_uid, const struct berth_idmap *gid,
                            size_t n_gid, struct berth_err *err);

/* berth_userns_become_root makes the calling process uid and gid 0 of the user namespace it
 * just created or joined, when 0 is mapped, so the setup that follows (mkdir, mknod, chown in
 * the rootfs) acts as the container's root. Step "userns". */
int berth_userns_become_root(const struct berth_launch *l, struct berth_err *err);

/* berth_idmap_mount_main is `berth-shim --idmap-mount SRC DST MAP...`; returns the exit code. */
int berth_idmap_mount_main(int argc, char **argv);

#endif
