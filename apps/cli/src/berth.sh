#!/bin/sh
# The `berth` command: starts node on berth.js beside this file's real path (npm links the bin;
# pnpm's shims run it with sh). Node 20 parses every certificate of NODE_EXTRA_CA_CERTS when it
# starts, ~45 ms of CPU per command; berth needs them only for a registry's TLS. So the variable
# moves to BERTH_EXTRA_CA_CERTS, which the registry client reads on its first TLS connection and
# which credential helpers get back as NODE_EXTRA_CA_CERTS. An empty value makes node load none.
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
  BERTH_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS
  NODE_EXTRA_CA_CERTS=
  export BERTH_EXTRA_CA_CERTS NODE_EXTRA_CA_CERTS
fi
# a symlink (npm links the bin) is followed by readlink; run by its own path, the bin needs no
# readlink process (a fork and an exec on every command)
if [ -L "$0" ]; then
  self=$(readlink -f "$0") || exit 125
else
  case $0 in */*) self=$0 ;; *) self=./$0 ;; esac
fi
exec node "${self%/*}/berth.js" "$@"
