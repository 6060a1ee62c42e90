#!/usr/bin/env bash
# Installs everything berth needs on a fresh Debian 12 machine with Node 20, then builds it.
# Idempotent: a second run only checks. Run as root (apt packages, namespaces, mounts).
# Used by the README's two commands (tools/demo.sh and tools/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")

# Debian packages: busybox-static and zstd make the offline test images; docker-registry,
# skopeo and umoci are the real registry and the independent OCI tools the tests check
# against; runc and crun run berth's bundles as the reference runtimes; docker.io is the
# engine we compare with; apache2-utils gives htpasswd, openssl makes the test CA, attr
# (getfattr) reads xattrs back in the fixture checks; golang-go builds a small program on Go's
# archive/tar (what docker and containerd untar with) that the tar reader's tests compare with;
# libisal-dev is ISA-L, whose gzip decoder @berth/runtime's berth-inflate.node binds (pulls).
APT_PACKAGES=(
  build-essential busybox-static zstd docker-registry skopeo umoci runc crun docker.io
  apache2-utils openssl iproute2 iptables tmux jq ca-certificates attr golang-go libisal-dev
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  echo "setup: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  echo "setup: npm install -g pnpm@$PNPM_VERSION"
  npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null
fi

pnpm install --frozen-lockfile --reporter=append-only
pnpm build
