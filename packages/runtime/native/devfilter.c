/* devfilter.c: load and attach a cgroup v2 device program (devfilter.h). The kernel's verifier
 * checks the program itself (bounds, jumps, return values), as for seccomp. */
#define _GNU_SOURCE
#include "devfilter.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#define MAX_INSNS 4096
#define MAX_OLD 64

static int sys_bpf(int cmd, union bpf_attr *attr) { return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr); }

/* The ids of the device programs attached to the cgroup now (BPF_PROG_QUERY, Linux 4.15). */
static int query(int cgfd, __u32 *ids, __u32 *n) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.query.target_fd = (__u32)cgfd;
  a.query.attach_type = BPF_CGROUP_DEVICE;
  a.query.prog_ids = (__u64)(uintptr_t)ids;
  a.query.prog_cnt = *n;
  if (sys_bpf(BPF_PROG_QUERY, &a) < 0) return -1;
  *n = a.query.prog_cnt < *n ? a.query.prog_cnt : *n;
  return 0;
}

int berth_devfilter_attach(const char *dir, const unsigned char *prog, size_t len, struct berth_err *err) {
  if (len == 0 || len % sizeof(struct bpf_insn) != 0 || len / sizeof(struct bpf_insn) > MAX_INSNS)
    return berth_error(err, EINVAL, "devices", "program of %zu bytes is not 1..%d whole instructions", len, MAX_INSNS);
  cleanup_close int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0) return berth_error(err, errno, "devices", "open cgroup `%s`", dir);
  __u32 old[MAX_OLD], n_old = MAX_OLD;
  if (query(cgfd, old, &n_old) < 0) return berth_error(err, errno, "devices", "query the device programs of `%s`", dir);

  cleanup_free struct bpf_insn *insns = malloc(len);
  if (!insns) return berth_error(err, ENOMEM, "devices", "program of %zu bytes", len);
  memcpy(insns, prog, len); /* aligned copy */
  char log[4096] = "";
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (__u64)(uintptr_t)insns;
  a.insn_cnt = (__u32)(len / sizeof(struct bpf_insn));
  a.license = (__u64)(uintptr_t) "GPL";
  a.log_buf = (__u64)(uintptr_t)log;
  a.log_size = sizeof log;
  a.log_level = 1;
  cleanup_close int pfd = sys_bpf(BPF_PROG_LOAD, &a);
  if (pfd < 0) {
    /* the verifier's last line says why */
    size_t l = strlen(log);
    while (l && log[l - 1] == '\n') log[--l] = '\0';
    const char *last = strrchr(log, '\n');
    return berth_error(err, errno, "devices", "load the device program (%u instructions)%s%s", a.insn_cnt, l ? ": " : "",
                       last ? last + 1 : log);
  }

  memset(&a, 0, sizeof a);
  a.target_fd = (__u32)cgfd;
  a.attach_bpf_fd = (__u32)pfd;
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf(BPF_PROG_ATTACH, &a) < 0) return berth_error(err, errno, "devices", "attach the device program to `%s`", dir);

  for (__u32 i = 0; i < n_old; i++) {
    union bpf_attr g;
    memset(&g, 0, sizeof g);
    g.prog_id = old[i];
    cleanup_close int ofd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &g);
    if (ofd < 0) {
      if (errno == ENOENT) continue; /* detached meanwhile */
      return berth_error(err, errno, "devices", "open device program %u of `%s`", old[i], dir);
    }
    memset(&a, 0, sizeof a);
    a.target_fd = (__u32)cgfd;
    a.attach_bpf_fd = (__u32)ofd;
    a.attach_type = BPF_CGROUP_DEVICE;
    if (sys_bpf(BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
      return berth_error(err, errno, "devices", "detach the previous device program %u of `%s`", old[i], dir);
  }
  return 0;
}

static int hexval(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

int berth_devfilter_main(const char *dir, const char *hex) {
  struct berth_err err = {0};
  size_t hl = strlen(hex);
  if (hl % 2 != 0 || hl / 2 > MAX_INSNS * sizeof(struct bpf_insn)) {
    fprintf(stderr, "berth-shim: devices: program of %zu hex digits is not whole bytes (at most %zu)\n", hl,
            MAX_INSNS * sizeof(struct bpf_insn) * 2);
    return 125;
  }
  cleanup_free unsigned char *prog = malloc(hl / 2 + 1);
  if (!prog) return 125;
  for (size_t i = 0; i < hl / 2; i++) {
    int h = hexval((unsigned char)hex[2 * i]), l = hexval((unsigned char)hex[2 * i + 1]);
    if (h < 0 || l < 0) {
      fprintf(stderr, "berth-shim: devices: program: bad hex digit at %zu\n", 2 * i);
      return 125;
    }
    prog[i] = (unsigned char)(h * 16 + l);
  }
  if (berth_devfilter_attach(dir, prog, hl / 2, &err) < 0) {
    fprintf(stderr, "berth-shim: %s: %s\n", err.step, err.msg);
    return 125;
  }
  return 0;
}
