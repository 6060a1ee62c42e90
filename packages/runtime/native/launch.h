/* launch.h: the berth launch description (format `berth.launch.v1`), its decoder, the sync
 * messages exchanged with the TypeScript parent, the exit file, and berth-shim's exit codes.
 *
 * This file and src/launch-spec.ts are the whole contract between TypeScript and C (STYLE.md,
 * Native code). Golden fixtures in testdata/launch/ are read by both sides' tests.
 *
 * FORMAT
 *   The first line is exactly `berth.launch.v1`. Every further line is `key=value`; empty lines
 *   and lines starting with '#' are ignored. A value is a list of fields separated by single
 *   spaces. In a field, every byte <= 0x20, 0x7f and '%' is written as %XX (two hex digits);
 *   %00 is rejected. Unknown keys, repeated single-valued keys and wrong field counts are
 *   errors naming the line. At most 1 MiB.
 *
 * KEYS (one line each unless marked "repeated")
 *   id=<id>                        container id (required)
 *   rootfs=<abs path>              root filesystem on the host (required when namespace=mount)
 *   rootfs.readonly=0|1            remount / read-only after setup
 *   rootfs.propagation=<p>         private rprivate slave rslave shared rshared unbindable
 *                                  runbindable; the propagation of / before pivot_root
 *                                  (default rprivate)
 *   namespace=<type> [path]        repeated; type: pid mount uts ipc net cgroup user. Without
 *                                  a path the namespace is new, with one it is joined (setns).
 *                                  Types not listed are shared with the shim (docker's "host").
 *                                  A new user namespace is created in the same clone, so it
 *                                  owns every other new namespace (sysfs, proc and mqueue can
 *                                  be mounted in it); a joined one is entered first
 *   uid_map=<container> <host> <size>
 *   gid_map=<container> <host> <size>
 *                                  repeated (1..340 each, the kernel's limit); required with,
 *                                  and only with, a new user namespace. The shim writes them
 *                                  to /proc/<pid>/{uid,gid}_map after the clone, before
 *                                  `created` (as root; otherwise through newuidmap and
 *                                  newgidmap, which check /etc/subuid and /etc/subgid)
 *   hostname=<name>                needs a new uts namespace
 *   net.loopback=0|1               1: bring `lo` up in the new network namespace (docker's
 *                                  `--network none`); needs namespace=net without a path
 *   mount=<dest> <type> <source> [option...]
 *                                  repeated, in order; options are the OCI runtime-spec mount
 *                                  options (ro nosuid nodev noexec bind rbind rprivate ...);
 *                                  unknown options are passed as mount data. type `cgroup`
 *                                  mounts the v2 hierarchy or, on v1 and hybrid hosts, a
 *                                  tmpfs holding one mount per v1 hierarchy
 *   device=<path> <c|b|u|p> <major> <minor> <mode> <uid> <gid>
 *                                  repeated; mode is octal permission bits
 *   masked=<path>                  repeated; /dev/null bound over a file, ro tmpfs over a dir
 *   readonly=<path>                repeated; bound onto itself read-only
 *   sysctl=<key> <value>           repeated; key in dotted form (net.ipv4.ip_forward)
 *   rlimit=<RLIMIT_NAME> <soft> <hard>
 *                                  repeated; decimal or `unlimited`. Unlisted limits inherit
 *   cap.bounding=<hex>  cap.effective=<hex>  cap.permitted=<hex>  cap.inheritable=<hex>
 *   cap.ambient=<hex>              capability masks (bit n = capability n). When none is
 *                                  given the capabilities are left as the shim has them
 *   no_new_privs=0|1
 *   sigblock=0|1                   1: the process starts with every signal blocked (berth-init,
 *                                  which unblocks them for its child: a PID 1 drops a signal it
 *                                  has no handler for, so one sent before it blocks them is lost)
 *   seccomp=<hex>                  a classic BPF program: struct sock_filter[] in host byte
 *                                  order, 8 bytes per instruction, as hex digits
 *   user=<uid> <gid> [gid...]      user, group and supplementary groups (default 0 0)
 *   umask=<octal>
 *   cwd=<abs path>                 default /
 *   args=<arg0> [arg...]           required; arg0 without '/' is searched in PATH from env
 *   env=<NAME=value>               repeated
 *   oom_score_adj=<int>            -1000..1000
 *   cgroup=<abs path>              repeated; a cgroup directory (one per hierarchy) the
 *                                  engine made and applied the resources to. The container's
 *                                  init is in every one before anything runs in it: cloned
 *                                  into a cgroup2 one (clone3 CLONE_INTO_CGROUP), writing 0 to
 *                                  a v1 one's `tasks` itself, else by the shim writing its pid
 *                                  to `cgroup.procs` (cgjoin.h). Without the key the parent
 *                                  places it while the shim waits after `created`
 *   stdio=inherit|null|log         the container's stdio: the shim's own, /dev/null, or pipes
 *                                  written to the json-file log (default inherit)
 *   stdin=0|1                      1: the container's stdin is a pipe the shim holds, fed by
 *                                  attached clients (docker's -i); without it stdin is
 *                                  /dev/null (log, null) or the shim's own (inherit).
 *                                  Refused with stdio=inherit or terminal=1
 *   terminal=0|1                   1: the container's stdio is a pty allocated in its own
 *                                  devpts (it opens /dev/ptmx after pivot_root, or after
 *                                  joining a mount namespace, and passes the master to the
 *                                  shim with SCM_RIGHTS, as runc's console socket does). The
 *                                  slave is its controlling terminal and, with a rootfs, is
 *                                  bound onto /dev/console. The shim reads the master: to the
 *                                  json-file log (stdio=log), to its own stdout (inherit, its
 *                                  stdin going to the master) and to attached clients
 *   terminal.size=<rows> <cols>    initial window size (0..65535 each)
 *   log.path=<path>                json-file log (required with stdio=log)
 *   log.max_size=<bytes>           rotate when the file reaches this size (0: never)
 *   log.max_file=<n>               files kept, including the current one (default 1)
 *   exit_file=<path>               the exit record, written atomically (write, fsync, rename)
 *   exit_file.sync=0|1             0: no fsyncs of the exit record (still atomic), for a
 *                                  container removed once it exits (default 1)
 *   pid_file=<path>                the container's host pid, written atomically
 *   control_socket=<path>          a unix socket the shim serves (CONTROL below)
 *   start=now|wait                 wait: after setup, wait for `start` on the control socket
 *                                  before execve (OCI create/start). Needs control_socket
 *   sync_fd=<n>                    inherited fd (pipe or socket) for the SYNC messages
 *   sync.continue=0|1              0: after `created` the shim goes on at once instead of
 *                                  waiting for `continue` or `abort`, for a parent with
 *                                  nothing to do in that window (default 1). Needs sync_fd
 *   daemonize=0|1                  fork, setsid and leave the caller before cloning
 *   shim.log=<path>                the shim's own log (one line per event), appended
 *   oci.runtime=<abs path>         another OCI runtime (runc, crun) creates the container from
 *                                  oci.bundle: the shim runs `<runtime> --root <oci.root>
 *                                  [--log <oci.log> --log-format json] create --bundle
 *                                  <oci.bundle> --pid-file <pid_file> [--console-socket
 *                                  <pid_file>.console] <id>` with the container's stdio, is
 *                                  the child subreaper its init is reparented to, runs
 *                                  `start <id>` on start and `delete --force <id>` after the
 *                                  exit. Needs oci.root, oci.bundle and pid_file; excludes
 *                                  rootfs, namespace, mount, device and every other key that
 *                                  sets the container up (the runtime reads config.json);
 *                                  args are optional. Failures are step `runtime` with the
 *                                  runtime's own last log message
 *   hook.exit=<abs path> [arg...]  run once the exit is recorded (exit file written, waiters
 *                                  told), detached in its own session: the engine's cleanup
 *                                  (restart policy, --rm, events) with no daemon, as conmon's
 *                                  `podman container cleanup`. Not run after a failed launch
 *   hook.health=<abs path> [arg...]
 *                                  run every hook.health_interval ms while the container runs
 *                                  (the first one interval after the start); never two at a
 *                                  time: a run still going when the next is due is skipped
 *   hook.health_interval=<ms>      100 or more; needed with hook.health and only with it
 *   hook.cwd=<abs path>            the hooks' working directory (default /)
 *   hook.env=<NAME=value>          repeated; the hooks' environment (default the shim's own)
 *                                  Hooks get stdin /dev/null, stdout and stderr appended to
 *                                  shim.log (else /dev/null), no other fds, no blocked signals
 *   oci.root=<abs path>  oci.bundle=<abs path>  oci.log=<abs path>
 *   oci.hide_cgroup2=0|1           run the runtime in a private mount namespace without
 *                                  /sys/fs/cgroup/unified (crun 1.8 refuses hybrid hosts)
 *
 * SYNC (on sync_fd, one line per message, fields as in the FORMAT)
 *   shim -> parent  created <pid> <shim-pid>  child cloned into its namespaces and waiting; the
 *                                             parent now places <pid> in its cgroup and sets
 *                                             up the network, then answers:
 *   parent -> shim  continue                  go on with the setup
 *   parent -> shim  abort                     kill the child, record exit 125, exit
 *   shim -> parent  ready                     setup done, waiting for start (start=wait)
 *   shim -> parent  started <pid>             execve succeeded
 *   shim -> parent  error <step> <errno> <exit-code> <message>
 *                                             the launch failed at <step>
 *   shim -> parent  exited <exit-code> <signal>
 *                                             the container exited (signal 0 if none)
 *   EOF from the parent before `continue` is `abort`; after it, the shim carries on alone.
 *   With sync.continue=0 the parent sends nothing; an EOF or `abort` already there when the
 *   shim has sent `created` (a look, without waiting) still aborts.
 *
 * CONTROL (control_socket, one request line per connection, one reply line)
 *   start        -> started <pid> | error <step> <errno> <exit-code> <message>
 *   kill <signo> -> ok | error kill <errno> 125 <message>
 *   wait         -> exited <exit-code> <signal>, sent when the container exits (after the exit
 *                   file is written); at most 16 connections at a time
 *   hooks off    -> ok: no further hook runs (neither the exit hook nor the health hook); the
 *                   engine sends it before it kills a container it is removing
 *   delete <signo>
 *                -> exited <exit-code> <signal> at the exit, as `wait`, after `hooks off` and
 *                   `kill <signo>` (none once the container has exited) | error kill <errno> 125
 *                   <message>: what delete --force asks, in one connection instead of three
 *   resize <rows> <cols>
 *                -> ok | error resize <errno> 125 <message>   (TIOCSWINSZ on the master; the
 *                   kernel sends SIGWINCH to the terminal's foreground process group)
 *   attach <stdin> <close-stdin>
 *                -> ok, then the connection is a stream until the container exits: the shim
 *                   sends frames `<stream:1 byte> 0 0 0 <length:4 bytes big-endian> <data>`
 *                   (docker's stdcopy header; 1 stdout, 2 stderr; with a terminal all is 1),
 *                   and with <stdin>=1 the client's bytes go to the container's stdin (the
 *                   master, or the stdin pipe). At the client's EOF, <close-stdin>=1 closes the
 *                   stdin pipe (docker's StdinOnce). A client that cannot take a frame within
 *                   2 s is dropped rather than stall the container. Errors: no stdin to feed
 *                   (`attach` step, EBADF)
 *
 * EXIT FILE (exit_file): `berth.exit.v1` then `exit_code=<n>`, `signal=<n>`,
 *   `exited_at=<RFC 3339 nano UTC>`, and after a failed launch `step=<step>`,
 *   `errno=<n>`, `error=<message field>`.
 */
#ifndef BERTH_LAUNCH_H
#define BERTH_LAUNCH_H

#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "internal.h"

#define BERTH_LAUNCH_VERSION "berth.launch.v1"
#define BERTH_EXIT_VERSION "berth.exit.v1"
#define BERTH_LAUNCH_MAX_SIZE (1024 * 1024)

/* Exit codes, docker's (daemon/start.go translateContainerdStartErr, cli/command/container):
 * 125 the launch failed for a reason of berth's own (bad description, mount, capabilities...),
 * 126 the executable could not be run (permission denied, is a directory),
 * 127 the executable was not found. Otherwise `berth-shim FILE` exits with the container's
 * status: its exit code, or 128 + the signal that killed it. `--check` exits 0 or 125. */
#define BERTH_EXIT_FAILURE 125
#define BERTH_EXIT_CANNOT_EXEC 126
#define BERTH_EXIT_NOT_FOUND 127

/* Sync messages (closed set; mirrored as a union in src/shim-protocol.ts). */
#define BERTH_SYNC_CREATED "created"
#define BERTH_SYNC_CONTINUE "continue"
#define BERTH_SYNC_ABORT "abort"
#define BERTH_SYNC_READY "ready"
#define BERTH_SYNC_STARTED "started"
#define BERTH_SYNC_ERROR "error"
#define BERTH_SYNC_EXITED "exited"

enum berth_ns_type { BERTH_NS_PID, BERTH_NS_MOUNT, BERTH_NS_UTS, BERTH_NS_IPC, BERTH_NS_NET, BERTH_NS_CGROUP, BERTH_NS_USER, BERTH_NS_COUNT };
enum berth_ns_mode { BERTH_NS_HOST = 0, BERTH_NS_NEW, BERTH_NS_JOIN };
enum berth_stdio { BERTH_STDIO_INHERIT = 0, BERTH_STDIO_NULL, BERTH_STDIO_LOG };

struct berth_namespace {
  enum berth_ns_mode mode;
  const char *path;
};

struct berth_mount {
  const char *destination;
  const char *type;
  const char *source;
  unsigned long flags;       /* MS_* applied at mount time */
  unsigned long propagation; /* MS_PRIVATE|MS_SLAVE|MS_SHARED|MS_UNBINDABLE [|MS_REC], or 0 */
  int bind;                  /* 1 bind, 2 rbind */
  char *data;                /* unknown options joined with ',' */
};

struct berth_device {
  const char *path;
  char type;
  unsigned major, minor;
  unsigned mode;
  uid_t uid;
  gid_t gid;
};

/* One line of /proc/<pid>/uid_map or gid_map. */
struct berth_idmap {
  uint32_t container, host, size;
};
#define BERTH_IDMAP_MAX 340

struct berth_rlimit {
  int resource;
  const char *name;
  rlim_t soft, hard;
};

struct berth_sysctl {
  const char *key;
  const char *value;
};

struct berth_launch {
  const char *id;
  const char *rootfs;
  int rootfs_readonly;
  unsigned long rootfs_propagation;
  struct berth_namespace ns[BERTH_NS_COUNT];
  const char *hostname;
  int net_loopback;
  struct berth_mount *mounts;
  size_t n_mounts;
  struct berth_device *devices;
  size_t n_devices;
  const char **masked;
  size_t n_masked;
  const char **readonly;
  size_t n_readonly;
  struct berth_sysctl *sysctls;
  size_t n_sysctls;
  struct berth_rlimit *rlimits;
  size_t n_rlimits;
  struct berth_idmap *uid_maps, *gid_maps;
  size_t n_uid_maps, n_gid_maps;
  int has_caps;
  uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
  int no_new_privs;
  int sigblock;
  unsigned char *seccomp;
  size_t seccomp_len;
  uid_t uid;
  gid_t gid;
  gid_t *groups;
  size_t n_groups;
  int umask; /* -1: unset */
  const char *cwd;
  char **args; /* NULL-terminated */
  size_t n_args;
  char **env; /* NULL-terminated */
  size_t n_env;
  int has_oom_score_adj;
  int oom_score_adj;
  const char **cgroups;
  size_t n_cgroups;
  unsigned char *cgroup_how; /* n_cgroups entries: enum berth_cgjoin_how (cgjoin.h) */
  enum berth_stdio stdio;
  int open_stdin;
  int terminal;
  unsigned rows, cols;
  const char *log_path;
  uint64_t log_max_size;
  unsigned log_max_file;
  const char *exit_file;
  int exit_file_nosync; /* exit_file.sync=0 */
  const char *pid_file;
  const char *control_socket;
  int start_wait;
  int sync_fd; /* -1: none */
  int sync_no_continue; /* sync.continue=0 */
  int daemonize;
  const char *shim_log;
  const char *oci_runtime, *oci_root, *oci_bundle, *oci_log;
  int oci_hide_cgroup2;
  char **hook_exit;   /* NULL-terminated, or NULL */
  char **hook_health; /* NULL-terminated, or NULL */
  uint64_t hook_health_interval_ms;
  const char *hook_cwd;
  char **hook_env; /* NULL-terminated, or NULL: the shim's environment */
  size_t n_hook_env;
  int has_setup; /* a key that sets the container up was given (refused with oci.runtime) */

  char *buf_; /* owns the decoded strings */
};

/* berth_launch_parse decodes the description in the file at path into l (which it zeroes
 * first). Errors name the file and line (`launch FILE:LINE: ...`), step "parse". */
int berth_launch_parse(const char *path, struct berth_launch *l, struct berth_err *err);

/* berth_launch_free releases what berth_launch_parse allocated. */
void berth_launch_free(struct berth_launch *l);

/* berth_ns_name returns the key word of a namespace type (`pid`, `net`...). */
const char *berth_ns_name(enum berth_ns_type t);

#endif
