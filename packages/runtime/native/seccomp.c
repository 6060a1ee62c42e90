/* seccomp.c: install a classic BPF program. The kernel verifies the program itself (bounds,
 * jumps, return values), so no check here could be stricter than its own. */
#define _GNU_SOURCE
#include "seccomp.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/syscall.h>

int berth_seccomp_load(const unsigned char *prog, size_t len, struct berth_err *err) {
  if (len == 0 || len % sizeof(struct sock_filter) != 0)
    return berth_error(err, EINVAL, "seccomp", "program of %zu bytes is not whole instructions", len);
  struct sock_filter *ins = malloc(len);
  if (!ins) return berth_error(err, ENOMEM, "seccomp", "program of %zu bytes", len);
  memcpy(ins, prog, len); /* aligned copy: the description's bytes are not */
  struct sock_fprog fprog = {.len = (unsigned short)(len / sizeof(struct sock_filter)), .filter = ins};
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog);
  int saved = errno;
  free(ins);
  if (r < 0) return berth_error(err, saved, "seccomp", "load filter of %u instructions", fprog.len);
  return 0;
}
