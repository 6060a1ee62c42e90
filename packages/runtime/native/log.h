/* log.h: docker's json-file log writer with rotation, the shim's own event log, and the small
 * I/O helpers (errors, line reads, field encoding, RFC 3339 time) the other files share. */
#ifndef BERTH_LOG_H
#define BERTH_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "internal.h"

/* docker's copier reads at most 16 KiB per message (daemon/logger/copier.go bufSize); a longer
 * line is written as several entries. */
#define BERTH_LOG_LINE_MAX (16 * 1024)

struct berth_log_stream {
  const char *name; /* "stdout" or "stderr" */
  char buf[BERTH_LOG_LINE_MAX];
  size_t len;
};

struct berth_jsonlog {
  const char *path;
  int fd;
  uint64_t size;
  uint64_t max_size; /* 0: never rotate */
  unsigned max_file;
  struct berth_log_stream streams[2];
};

/* berth_jsonlog_open opens (appending to) the json-file log at path. */
int berth_jsonlog_open(struct berth_jsonlog *j, const char *path, uint64_t max_size, unsigned max_file,
                       struct berth_err *err);
/* berth_jsonlog_write feeds bytes read from stream (0 stdout, 1 stderr); each complete line
 * becomes one entry `{"log":"...\n","stream":"stdout","time":"<RFC3339Nano>"}`. */
int berth_jsonlog_write(struct berth_jsonlog *j, int stream, const char *data, size_t len, struct berth_err *err);
/* berth_jsonlog_flush writes what is left of a stream's last line (at EOF), without "\n". */
int berth_jsonlog_flush(struct berth_jsonlog *j, int stream, struct berth_err *err);
void berth_jsonlog_close(struct berth_jsonlog *j);

/* berth_format_time writes t as Go's time.RFC3339Nano in UTC (fraction with trailing zeros
 * trimmed), as docker's json-file and inspect do. out needs 40 bytes. */
void berth_format_time(const struct timespec *t, char *out, size_t size);

/* The shim's own log: one line per event, `<time> <level> <message>`, to a file named in the
 * launch description (STYLE.md: never onto the container's stdio). Silent without one. */
void berth_shim_log_open(const char *path);
void berth_shim_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int berth_shim_log_fd(void);

#endif
