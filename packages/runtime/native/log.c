/* log.c: docker's json-file format (moby daemon/logger/jsonfilelog), rotation by max-size and
 * max-file (daemon/logger/loggerutils/logfile.go), and the shim's own event log. */
#define _GNU_SOURCE
#include "log.h"

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

ssize_t read_line(int fd, char *buf, size_t size) {
  size_t n = 0;
  for (;;) {
    char ch;
    ssize_t r = read(fd, &ch, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) {
      if (n == 0) return 0;
      break;
    }
    if (ch == '\n') break;
    if (n + 1 >= size) {
      errno = E2BIG;
      return -1;
    }
    buf[n++] = ch;
  }
  buf[n] = '\0';
  return n == 0 ? 1 : (ssize_t)n; /* an empty line reads as length 1 so it is not EOF */
}

ssize_t pct_encode(const char *s, char *out, size_t size) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p <= 0x20 || *p == 0x7f || *p == '%') {
      if (n + 3 >= size) return -1;
      out[n++] = '%';
      out[n++] = hex[*p >> 4];
      out[n++] = hex[*p & 15];
    } else {
      if (n + 1 >= size) return -1;
      out[n++] = (char)*p;
    }
  }
  if (n >= size) return -1;
  out[n] = '\0';
  return (ssize_t)n;
}

void berth_format_time(const struct timespec *t, char *out, size_t size) {
  struct tm tm;
  gmtime_r(&t->tv_sec, &tm);
  char frac[16] = "";
  if (t->tv_nsec) {
    snprintf(frac, sizeof frac, ".%09ld", t->tv_nsec);
    size_t l = strlen(frac);
    while (l > 1 && frac[l - 1] == '0') frac[--l] = '\0';
  }
  snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, frac);
}

/* ---- json-file ---- */

int berth_jsonlog_open(struct berth_jsonlog *j, const char *path, uint64_t max_size, unsigned max_file,
                       struct berth_err *err) {
  memset(j, 0, sizeof *j);
  j->path = path;
  j->max_size = max_size;
  j->max_file = max_file ? max_file : 1;
  j->streams[0].name = "stdout";
  j->streams[1].name = "stderr";
  j->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (j->fd < 0) return berth_error(err, errno, "stdio", "json-file log `%s`: open", path);
  struct stat st;
  if (fstat(j->fd, &st) < 0) return berth_error(err, errno, "stdio", "json-file log `%s`: stat", path);
  j->size = (uint64_t)st.st_size;
  return 0;
}

static int rotate(struct berth_jsonlog *j, struct berth_err *err) {
  char from[PATH_MAX], to[PATH_MAX];
  if (j->max_file <= 1) {
    /* max-file=1: the one file is truncated (loggerutils: rotate with maxFiles < 2) */
    if (ftruncate(j->fd, 0) < 0) return berth_error(err, errno, "stdio", "json-file log `%s`: truncate", j->path);
    j->size = 0;
    return 0;
  }
  for (unsigned i = j->max_file - 1; i > 1; i--) {
    snprintf(from, sizeof from, "%s.%u", j->path, i - 1);
    snprintf(to, sizeof to, "%s.%u", j->path, i);
    if (rename(from, to) < 0 && errno != ENOENT)
      return berth_error(err, errno, "stdio", "json-file log: rename `%s`", from);
  }
  snprintf(to, sizeof to, "%s.1", j->path);
  if (rename(j->path, to) < 0) return berth_error(err, errno, "stdio", "json-file log: rename `%s`", j->path);
  close(j->fd);
  j->fd = open(j->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (j->fd < 0) return berth_error(err, errno, "stdio", "json-file log `%s`: open", j->path);
  j->size = 0;
  return 0;
}

/* Escape as moby's jsonlog does (ffjson-derived writer): Go's encoding/json rules, so <, > and &
 * become \u003c \u003e \u0026, invalid UTF-8 becomes \ufffd, U+2028/9 are escaped. */
static size_t json_escape(const unsigned char *s, size_t len, char *out) {
  static const char hex[] = "0123456789abcdef";
  size_t n = 0;
  for (size_t i = 0; i < len;) {
    unsigned char ch = s[i];
    if (ch < 0x80) {
      if (ch == '"' || ch == '\\') {
        out[n++] = '\\';
        out[n++] = (char)ch;
      } else if (ch == '\n') {
        out[n++] = '\\', out[n++] = 'n';
      } else if (ch == '\r') {
        out[n++] = '\\', out[n++] = 'r';
      } else if (ch == '\t') {
        out[n++] = '\\', out[n++] = 't';
      } else if (ch < 0x20 || ch == '<' || ch == '>' || ch == '&') {
        n += (size_t)sprintf(out + n, "\\u00%c%c", hex[ch >> 4], hex[ch & 15]);
      } else {
        out[n++] = (char)ch;
      }
      i++;
      continue;
    }
    /* decode one UTF-8 sequence; anything invalid is one replacement character per byte */
    size_t need = ch >= 0xf0 && ch < 0xf5 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc2 && ch < 0xe0 ? 2 : 0;
    uint32_t cp = need == 4 ? ch & 7u : need == 3 ? ch & 15u : ch & 31u;
    int ok = need != 0 && i + need <= len;
    for (size_t k = 1; ok && k < need; k++) {
      if ((s[i + k] & 0xc0) != 0x80) ok = 0;
      else cp = (cp << 6) | (s[i + k] & 0x3fu);
    }
    if (ok && ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff))))
      ok = 0;
    if (!ok) {
      memcpy(out + n, "\\ufffd", 6);
      n += 6;
      i++;
      continue;
    }
    if (cp == 0x2028 || cp == 0x2029) {
      n += (size_t)sprintf(out + n, "\\u202%c", cp == 0x2028 ? '8' : '9');
    } else {
      memcpy(out + n, s + i, need);
      n += need;
    }
    i += need;
  }
  return n;
}

static int emit(struct berth_jsonlog *j, int stream, const char *data, size_t len, struct berth_err *err) {
  static char line[BERTH_LOG_LINE_MAX * 6 + 128];
  struct timespec now;
  char ts[64];
  clock_gettime(CLOCK_REALTIME, &now);
  berth_format_time(&now, ts, sizeof ts);
  size_t n = 0;
  memcpy(line, "{\"log\":\"", 8);
  n = 8;
  n += json_escape((const unsigned char *)data, len, line + n);
  n += (size_t)snprintf(line + n, sizeof line - n, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", j->streams[stream].name, ts);
  if (j->max_size && j->size >= j->max_size && rotate(j, err) < 0) return -1;
  if (write_all(j->fd, line, n) < 0) return berth_error(err, errno, "stdio", "json-file log `%s`: write", j->path);
  j->size += n;
  return 0;
}

int berth_jsonlog_write(struct berth_jsonlog *j, int stream, const char *data, size_t len, struct berth_err *err) {
  struct berth_log_stream *s = &j->streams[stream];
  while (len) {
    size_t room = sizeof s->buf - s->len;
    size_t take = len < room ? len : room;
    const char *nl = memchr(data, '\n', take);
    if (nl) take = (size_t)(nl - data) + 1;
    memcpy(s->buf + s->len, data, take);
    s->len += take;
    data += take;
    len -= take;
    if (nl || s->len == sizeof s->buf) {
      if (emit(j, stream, s->buf, s->len, err) < 0) return -1;
      s->len = 0;
    }
  }
  return 0;
}

int berth_jsonlog_flush(struct berth_jsonlog *j, int stream, struct berth_err *err) {
  struct berth_log_stream *s = &j->streams[stream];
  if (!s->len) return 0;
  int r = emit(j, stream, s->buf, s->len, err);
  s->len = 0;
  return r;
}

void berth_jsonlog_close(struct berth_jsonlog *j) {
  if (j->fd >= 0) close(j->fd);
  j->fd = -1;
}

/* ---- the shim's own log ---- */

static int shim_log_fd = -1;

void berth_shim_log_open(const char *path) {
  if (path) shim_log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
}

int berth_shim_log_fd(void) { return shim_log_fd; }

void berth_shim_log(const char *level, const char *fmt, ...) {
  if (shim_log_fd < 0) return;
  char line[1024], ts[64];
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  berth_format_time(&now, ts, sizeof ts);
  int n = snprintf(line, sizeof line, "%s %s pid=%d ", ts, level, (int)getpid());
  va_list ap;
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof line) n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof line - 1) n = (int)sizeof line - 2;
  line[n++] = '\n';
  (void)write_all(shim_log_fd, line, (size_t)n);
}
