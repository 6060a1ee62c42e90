/* internal.h: private declarations shared by the berth-shim sources (crun's -internal.h
 * convention: nothing here is part of the launch contract, which lives in launch.h). */
#ifndef BERTH_INTERNAL_H
#define BERTH_INTERNAL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* An error: errno plus a message that names the object, crun style. */
struct berth_err {
  int errnum;
  char step[32];
  char msg[512];
};

/* berth_error sets err (errnum, step, formatted message) and returns -1. The caller's errno is
 * the errnum; pass 0 when no errno applies. */
int berth_error(struct berth_err *err, int errnum, const char *step, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static inline void berth_cleanup_free(void *p) { free(*(void **)p); }
static inline void berth_cleanup_close(int *fd) {
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}
#define cleanup_free __attribute__((cleanup(berth_cleanup_free)))
#define cleanup_close __attribute__((cleanup(berth_cleanup_close)))

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* write_all writes len bytes, retrying on EINTR and short writes. Returns 0 or -1/errno. */
int write_all(int fd, const void *buf, size_t len);
/* read_line reads one '\n'-terminated line (without the '\n') into buf, byte by byte so no
 * data past the line is consumed. Returns its length, 0 at EOF before any byte, -1/errno. */
ssize_t read_line(int fd, char *buf, size_t size);
/* pct_encode appends the launch-format encoding of s (bytes <= 0x20, 0x7f and '%' as %XX) to
 * out (of size size), NUL-terminated. Returns the length written or -1 when it does not fit. */
ssize_t pct_encode(const char *s, char *out, size_t size);

#endif
