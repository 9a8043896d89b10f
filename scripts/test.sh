#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# test.sh - build Atrium and run its test suite; the second command in the README.
#
#   scripts/test.sh                         # every suite
#   scripts/test.sh --suite unit            # any `meson test` arguments pass through
#   ATRIUM_BUILD_DIR=build-asan ATRIUM_MESON_OPTIONS='-Db_sanitize=address,undefined' \
#           scripts/test.sh                 # a second, sanitized build directory
#
# It runs scripts/setup.sh without the development cluster (the integration tests start a
# throwaway PostgreSQL of their own, see tests/harness/), installs the Node tools pinned in
# tests/tools/package.json when they are missing or stale, then hands over to `meson test`,
# whose exit status is this script's.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export ATRIUM_BUILD_DIR=${ATRIUM_BUILD_DIR:-build}

# shellcheck source=scripts/setup.sh
source scripts/setup.sh --no-db

# The Node test tools (the OpenAPI validator; playwright-core and axe-core for the portal's
# browser test). Reinstall when a pinned version changed since the last install; `npm ci`
# when the lock file is there, so every machine gets the same tree.
tools=tests/tools
if ! node -e '
        const path = require("path");
        const deps = require(process.argv[1]).dependencies;
        for (const [name, want] of Object.entries(deps)) {
                const have = require(path.join(process.argv[2], name, "package.json")).version;
                if (want !== have) process.exit(1);
        }' "$PWD/$tools/package.json" "$PWD/$tools/node_modules" 2>/dev/null; then
        echo "test: installing the Node test tools into $tools/node_modules" >&2
        if [[ -f $tools/package-lock.json ]]; then
                npm ci --prefix "$tools" --no-audit --no-fund --loglevel=error >&2
        else
                npm install --prefix "$tools" --no-audit --no-fund --loglevel=error >&2
        fi
fi

status=0
meson test -C "$ATRIUM_BUILD_DIR" --print-errorlogs "$@" || status=$?
exit "$status"
