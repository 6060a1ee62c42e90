#!/usr/bin/env bash
# The README's first command: installs and builds everything (tools/setup.sh), then builds the
# busybox image offline from Debian's busybox-static and runs it with berth. No network.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh

berth() { node apps/cli/dist/berth.js "$@"; }
# A demo state root of its own, so the demo never touches /var/lib/berth.
export BERTH_ROOT=${BERTH_ROOT:-$PWD/.cache/demo-root}

step() { if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then printf '\n\033[1m$ %s\033[0m\n' "$*"; else printf '\n$ %s\n' "$*"; fi; }

step "build the busybox test image offline (tools/fixtures)"
archive=$(node tools/fixtures/dist/cli.js build --json | jq -r '.images.busybox.dockerArchive.path')
echo "$archive"

step "berth version --format '{{.Client.Version}}'"
berth version --format '{{.Client.Version}}'

step "berth load -i busybox.tar"
berth load -i "$archive"

step "berth images"
berth images

step "berth run --rm busybox echo hello from berth"
berth run --rm busybox echo hello from berth
