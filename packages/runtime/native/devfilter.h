/* devfilter.h: cgroup v2 device control. v2 has no devices.allow: the allow-list is an eBPF
 * program of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup, as runc and
 * crun do. TypeScript compiles the rules into the program (src/cgroups/v2/device-filter.ts);
 * Node cannot call bpf(2), so the shim loads and attaches it:
 *
 *   berth-shim --device-filter CGROUP_DIR PROGRAM_HEX
 *
 * PROGRAM_HEX is struct bpf_insn[] in host byte order, 8 bytes per instruction, as hex digits.
 * The program is attached with BPF_F_ALLOW_MULTI; programs attached to that cgroup before it
 * are detached afterwards, so a new set of rules replaces the old one with no window where
 * none applies (runc's devicefilter). An attachment outlives the process that made it: it
 * holds the program until it is detached or the cgroup is removed. Exit 0, or 125 with the
 * failing step on stderr. */
#ifndef BERTH_DEVFILTER_H
#define BERTH_DEVFILTER_H

#include "internal.h"

/* berth_devfilter_attach loads the program (len bytes) and attaches it to the cgroup directory
 * dir, replacing the programs attached there before. Step "devices". */
int berth_devfilter_attach(const char *dir, const unsigned char *prog, size_t len, struct berth_err *err);

/* berth_devfilter_main is `berth-shim --device-filter DIR HEX`; returns the exit code. */
int berth_devfilter_main(const char *dir, const char *hex);

#endif
