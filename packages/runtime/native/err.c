/* err.c: berth_error (internal.h), shared by berth-shim and the berth-sys.node addon, which
 * both report devfilter.c's errors. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

int berth_error(struct berth_err *err, int errnum, const char *step, const char *fmt, ...) {
  va_list ap;
  err->errnum = errnum;
  snprintf(err->step, sizeof err->step, "%s", step);
  va_start(ap, fmt);
  int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  if (errnum && n >= 0 && (size_t)n < sizeof err->msg) {
    /* lowercase, as Go's (and so docker's) errno texts are: "permission denied" */
    char e[128];
    snprintf(e, sizeof e, "%s", strerror(errnum));
    if (e[0] >= 'A' && e[0] <= 'Z' && !(e[1] >= 'A' && e[1] <= 'Z')) e[0] = (char)(e[0] - 'A' + 'a');
    snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", e);
  }
  errno = errnum;
  return -1;
}
