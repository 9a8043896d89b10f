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

# The OpenAPI validator. Reinstall when the pinned version changed since the last install;
# `npm ci` when the lock file is there, so every machine gets the same tree.
tools=tests/tools
validator=$tools/node_modules/@seriousme/openapi-schema-validator/package.json
if ! node -e '
        const want = require(process.argv[1]).dependencies["@seriousme/openapi-schema-validator"];
        const have = require(process.argv[2]).version;
        process.exit(want === have ? 0 : 1);' "$PWD/$tools/package.json" "$PWD/$validator" \
        2>/dev/null; then
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
