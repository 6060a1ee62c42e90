#!/bin/sh
# The `berth-registry-demo` bin (built to dist/berth-registry-demo): starts node on cli.cjs beside
# this file's real path. Node 20 parses every certificate of NODE_EXTRA_CA_CERTS when it starts
# (~50 ms of CPU on a system bundle), before any code runs; the demo needs them only for a
# registry's TLS. So the variable moves to BERTH_EXTRA_CA_CERTS, which the CLI hands to the
# client as `caFiles` (read on the first TLS connection); credential helpers get it back as
# NODE_EXTRA_CA_CERTS. An empty value makes node load none. The same launcher as berth's own
# (apps/cli/src/berth.sh), copied: packages may not import apps, and it is ten lines.
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
  BERTH_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS
  NODE_EXTRA_CA_CERTS=
  export BERTH_EXTRA_CA_CERTS NODE_EXTRA_CA_CERTS
fi
self=$(readlink -f "$0") || exit 1
exec node "${self%/*}/cli.cjs" "$@"
