/* seccomp.h: loading the classic BPF filter TypeScript compiled (the compiler is in TS). */
#ifndef BERTH_SECCOMP_H
#define BERTH_SECCOMP_H

#include <stddef.h>

#include "internal.h"

/* berth_seccomp_load installs prog (len bytes of struct sock_filter) with seccomp(2)
 * SECCOMP_SET_MODE_FILTER. Without no_new_privs this needs CAP_SYS_ADMIN, so the caller loads
 * it before dropping capabilities (runc's order). Step "seccomp". */
int berth_seccomp_load(const unsigned char *prog, size_t len, struct berth_err *err);

#endif
