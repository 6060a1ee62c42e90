#!/usr/bin/env bash
# The README's test command: set up (idempotent), then lint, dependency arrows, typecheck,
# and every test: unit and integration (root, real kernel, real registry). CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
pnpm lint
pnpm typecheck
mkdir -p .cache
status=0
pnpm vitest run --reporter=default --reporter=json --outputFile.json=.cache/vitest.json || status=$?
node tools/testing/summary.mjs .cache/vitest.json || status=$((status ? status : 1))
exit "$status"
