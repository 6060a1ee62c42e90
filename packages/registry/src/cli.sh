#!/bin/sh
# The `berth-registry-demo` bin (built to dist/berth-registry-demo): starts node on cli.cjs beside
# this file's real path. Node 20 parses every certificate of NODE_EXTRA_CA_CERTS when it starts
# (~50 ms of CPU on a system bundle), before any code runs; the demo needs them only for a
# registry's TLS. So the variable moves to BERTH_EXTRA_CA_CERTS, which the CLI hands to the
# client as `caFiles` (read on the first TLS connection); credential helpers get it back as
# NODE_EXTRA_CA_CERTS. An empty value makes node load none. The same launcher as berth's own
# (apps/cli/src/berth.sh), copied: packages may not import apps, and it is a dozen lines.
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
  BERTH_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS
  NODE_EXTRA_CA_CERTS=
  export BERTH_EXTRA_CA_CERTS NODE_EXTRA_CA_CERTS
fi
# a symlink (npm links the bin) is followed by readlink; run by its own path, the bin needs no
# readlink process (a fork and an exec on every command)
if [ -L "$0" ]; then
  self=$(readlink -f "$0") || exit 1
else
  case $0 in */*) self=$0 ;; *) self=./$0 ;; esac
fi
exec node "${self%/*}/cli.cjs" "$@"
