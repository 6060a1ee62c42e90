/* caps.c: bounding, effective, permitted, inheritable and ambient capability sets. Done with
 * raw capset(2) and prctl(2) rather than libcap: four calls, and one less library to load into
 * a process that must stay under 2 MB. */
#define _GNU_SOURCE
#include "caps.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

static int last_cap(void) {
  char buf[16] = "";
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 40; /* CAP_CHECKPOINT_RESTORE, Linux 5.9 */
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  int v = n > 0 ? atoi(buf) : 40;
  return v > 0 && v < 64 ? v : 40;
}

int berth_caps_bound(uint64_t keep, struct berth_err *err) {
  int last = last_cap();
  for (int c = 0; c <= last; c++) {
    if (keep & (1ULL << c)) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
      return berth_error(err, errno, "capabilities", "drop capability %d from the bounding set", c);
  }
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return berth_error(err, errno, "capabilities", "PR_SET_KEEPCAPS");
  return 0;
}

int berth_caps_apply(uint64_t eff, uint64_t perm, uint64_t inh, uint64_t amb, struct berth_err *err) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2] = {
      {.effective = (uint32_t)eff, .permitted = (uint32_t)perm, .inheritable = (uint32_t)inh},
      {.effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(perm >> 32), .inheritable = (uint32_t)(inh >> 32)},
  };
  if (syscall(SYS_capset, &hdr, data) < 0)
    return berth_error(err, errno, "capabilities", "capset effective %016llx permitted %016llx inheritable %016llx",
                       (unsigned long long)eff, (unsigned long long)perm, (unsigned long long)inh);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return berth_error(err, errno, "capabilities", "PR_SET_KEEPCAPS");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return berth_error(err, errno, "capabilities", "clear the ambient set");
  for (int c = 0; c < 64; c++)
    if ((amb & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      return berth_error(err, errno, "capabilities", "raise ambient capability %d", c);
  return 0;
}
