#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# setup.sh - bring a Debian 12 machine from a fresh clone to a built atriumd and a running
# development database. It is the shared first step of scripts/demo.sh and scripts/test.sh, and
# is safe to run again at any time: it installs only the packages that are missing, configures
# the build directory only once, and leaves an already running development cluster alone.
#
# Usage:
#   scripts/setup.sh [--no-build] [--no-db] [--stop-db]
#   eval "$(scripts/setup.sh)"        # run it and take ATRIUM_DATABASE_URL into this shell
#   source scripts/setup.sh [...]     # from another bash script (demo.sh, test.sh)
#
# Environment:
#   ATRIUM_BUILD_DIR       build directory, relative to the repo root or absolute (build)
#   ATRIUM_MESON_OPTIONS   extra `meson setup` options, used only when the directory is new
#   ATRIUM_DATABASE_URL    when set, no development cluster is created or started
#   ATRIUM_PG_PORT         TCP port of the development cluster (5433)
#   ATRIUM_SETUP_BUILD=0   same as --no-build
#   ATRIUM_SETUP_DB=0      same as --no-db (the test suite starts clusters of its own)
#
# Everything it reports goes to stderr; stdout carries only the final `export` line, so the
# script can be eval'ed. When sourced it exports ATRIUM_DATABASE_URL into the caller instead.

set -euo pipefail

setup_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
setup_state="$setup_root/.state"

# Debian packages the build, the tests, the demo and the benchmarks need. The -dev packages
# match the libraries core/ and plugins/ link against (libicu-dev: the people import's
# transliterated usernames); clang-14 and libclang-rt-14-dev are for
# the fuzzers and LeakSanitizer, clang-format for the style check, abigail-tools for the ABI
# check, wrk and nginx-light for the benchmarks (nginx and openssl also for deploy/check.sh),
# haproxy for deploy/check.sh and the fault tests behind a balancer, pgbouncer for the
# transaction-pooler test,
# nodejs and npm for the OpenAPI validator in tests/tools, litmus, rclone and cadaver as the
# WebDAV clients of tests/integration/test_webdav_clients.py, apache2 (mod_dav) as the peer of
# bench/webdav, chromium as the real browser of the portal's end-to-end test
# (tests/browser/; playwright-core drives it, from tests/tools), python3-caldav and vdirsyncer
# as the CalDAV clients of tests/integration/test_caldav_client.py and test_caldav_clients.py,
# radicale as the peer of bench/caldav.
setup_packages=(
        meson ninja-build pkg-config gcc
        libglib2.0-dev libsoup-3.0-dev libjson-glib-dev libpq-dev libgcrypt20-dev
        libical-dev libgmime-3.0-dev libicu-dev
        postgresql postgresql-contrib
        clang-14 libclang-rt-14-dev clang-format abigail-tools
        wrk nginx-light haproxy pgbouncer openssl curl python3 nodejs npm
        litmus rclone cadaver apache2 chromium python3-caldav vdirsyncer radicale
        # the OpenID provider's relying parties in the suite (tests/integration/test_oidc_*.py):
        # Apache's mod_auth_openidc end to end, python3-authlib and python3-jwt as a client
        libapache2-mod-auth-openidc python3-authlib python3-jwt python3-requests
        # zbarimg reads back the QR code "My account" draws for a TOTP app
        # (tests/browser/account.mjs): the picture must say the otpauth:// URI
        zbar-tools
)

setup_say() {
        printf 'setup: %s\n' "$*" >&2
}

setup_die() {
        printf 'setup: error: %s\n' "$*" >&2
        exit 1
}

# Run a command as root: directly when we are root, through sudo otherwise.
setup_as_root() {
        if [[ $EUID -eq 0 ]]; then
                "$@"
        elif command -v sudo >/dev/null; then
                sudo "$@"
        else
                setup_die "need root to run '$*' and sudo is not installed"
        fi
}

setup_is_installed() {
        local pkg=$1
        # dpkg-query exits non-zero for a package it has never heard of; that means "missing".
        [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" == "install ok installed" ]] &&
                return 0
        # NodeSource's nodejs package ships npm itself and conflicts with Debian's npm package,
        # whose dependencies would try to replace it. A working npm command is what we need.
        [[ $pkg == npm ]] && command -v npm >/dev/null && return 0
        return 1
}

setup_install_packages() {
        local pkg missing=()
        for pkg in "${setup_packages[@]}"; do
                setup_is_installed "$pkg" || missing+=("$pkg")
        done
        if [[ ${#missing[@]} -eq 0 ]]; then
                return 0
        fi
        setup_say "installing missing packages: ${missing[*]}"
        setup_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        setup_as_root env DEBIAN_FRONTEND=noninteractive \
                apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

# Configure the build directory once, then build. A directory left behind by a failed
# `meson setup` has no coredata and is simply set up again; one that has coredata but no
# build.ninja (an interrupted reconfigure) is reconfigured.
setup_build() {
        local build=${ATRIUM_BUILD_DIR:-build}
        local -a extra=()
        read -r -a extra <<<"${ATRIUM_MESON_OPTIONS:-}"

        cd "$setup_root"
        if [[ ! -f $build/build.ninja ]]; then
                local -a how=()
                [[ -f $build/meson-private/coredata.dat ]] && how=(--reconfigure)
                setup_say "configuring $build${extra[*]:+ (${extra[*]})}"
                if ! meson setup "${how[@]}" "$build" -Dwerror=true --buildtype=debugoptimized \
                        "${extra[@]}" >&2; then
                        setup_die "BUILD FAILED: 'meson setup $build' did not succeed (see above," \
                                "and $build/meson-logs/meson-log.txt)"
                fi
        fi
        setup_say "building $build"
        if ! ninja -C "$build" >&2; then
                setup_die "BUILD FAILED: 'ninja -C $build' did not succeed (see above)"
        fi
}

# ---------------------------------------------------------------------------------------------
# The development cluster.
#
# A private PostgreSQL instance for the demo and for hand testing, kept in .state/pg (git
# ignored) and reachable over loopback TCP and its socket, with trust authentication: it holds
# demo data, never anything real. It is made, started and stopped by scripts/pg-cluster.sh,
# whose layout it has: $pg_root/data (PGDATA), $pg_root/sock (socket), $pg_root/postgres.log.
#
# PostgreSQL refuses to run as root, so as root the server runs as Debian's `postgres` user,
# which must be able to reach the data directory. When the repository sits below a directory
# postgres cannot enter (a 0700 home, say), the cluster lives in /var/tmp/atrium-pg-<hash of
# the repo path> instead and .state/pg is a symlink to it.
# ---------------------------------------------------------------------------------------------

# scripts/pg-cluster.sh, the PostgreSQL bootstrap the tests and the benchmarks use as well: it
# runs the server programs as `postgres` when we are root (PostgreSQL refuses root).
setup_pg() {
        "$setup_root/scripts/pg-cluster.sh" "$@"
}

setup_pg_root() {
        if [[ $EUID -ne 0 ]]; then
                printf '%s\n' "$setup_state/pg"
                return
        fi
        # A dangling or old symlink from an earlier fallback is followed as it is.
        if [[ -L $setup_state/pg ]]; then
                readlink -f "$setup_state/pg"
                return
        fi
        if runuser -u postgres -- test -x "$setup_state"; then
                printf '%s\n' "$setup_state/pg"
                return
        fi
        local hash
        hash=$(printf '%s' "$setup_root" | sha256sum | cut -c1-12)
        setup_say "postgres cannot enter $setup_state; keeping the cluster in /var/tmp/atrium-pg-$hash"
        ln -sfn "/var/tmp/atrium-pg-$hash" "$setup_state/pg"
        printf '%s\n' "/var/tmp/atrium-pg-$hash"
}

setup_start_db() {
        local port=${ATRIUM_PG_PORT:-5433}
        local bindir pg_root running
        bindir=$(setup_pg bindir) || setup_die "PostgreSQL server binaries not found"

        mkdir -p "$setup_state"
        chmod 0755 "$setup_state" # postgres has to pass through it; secrets inside are 0600
        pg_root=$(setup_pg_root)

        if [[ ! -f $pg_root/data/PG_VERSION ]]; then
                setup_say "creating the development cluster in $pg_root/data"
                setup_pg init "$pg_root" \
                        --comment "Added by scripts/setup.sh: a loopback-only development cluster." ||
                        setup_die "initdb failed"
        fi

        if running=$(setup_pg status "$pg_root"); then
                if [[ $running != "$port" ]]; then
                        setup_say "the development cluster is already running on port $running" \
                                "(not $port); using it"
                        port=$running
                fi
        else
                setup_say "starting the development cluster on 127.0.0.1:$port"
                setup_pg start "$pg_root" "$port" >/dev/null ||
                        setup_die "could not start PostgreSQL on port $port (set ATRIUM_PG_PORT" \
                                "to use another port)"
        fi

        # The database is created once; the server-side role `atrium` came from initdb -U.
        local exists
        exists=$("$bindir/psql" -X -A -t -h 127.0.0.1 -p "$port" -U atrium -d postgres \
                -c "SELECT 1 FROM pg_database WHERE datname = 'atrium'")
        if [[ $exists != 1 ]]; then
                "$bindir/createdb" -h 127.0.0.1 -p "$port" -U atrium atrium
        fi

        export ATRIUM_DATABASE_URL="postgresql://atrium@127.0.0.1:$port/atrium"
        setup_say "database: $ATRIUM_DATABASE_URL"
}

setup_stop_db() {
        local pg_root
        pg_root=$(readlink -f "$setup_state/pg" 2>/dev/null || true)
        if [[ -n $pg_root ]] && setup_pg status "$pg_root" >/dev/null; then
                setup_pg stop "$pg_root" fast
        else
                setup_say "the development cluster is not running"
        fi
}

setup_main() {
        local build=${ATRIUM_SETUP_BUILD:-1} db=${ATRIUM_SETUP_DB:-1} arg
        for arg in "$@"; do
                case $arg in
                --no-build) build=0 ;;
                --no-db) db=0 ;;
                --stop-db)
                        setup_stop_db
                        return 0
                        ;;
                -h | --help)
                        awk 'NR > 3 && /^#/ { sub(/^# ?/, ""); print; next } NR > 3 { exit }' \
                                "${BASH_SOURCE[0]}" >&2
                        return 0
                        ;;
                *) setup_die "unknown option: $arg (try --help)" ;;
                esac
        done

        setup_install_packages
        [[ $build == 1 ]] && setup_build
        if [[ $db == 1 ]]; then
                if [[ -n ${ATRIUM_DATABASE_URL:-} ]]; then
                        setup_say "ATRIUM_DATABASE_URL is set; not starting a development cluster"
                else
                        setup_start_db
                fi
        fi
        return 0
}

setup_main "$@"

# Run directly (not sourced): hand the database URL to the caller in eval-able form.
if [[ ${BASH_SOURCE[0]} == "$0" && -n ${ATRIUM_DATABASE_URL:-} ]]; then
        printf 'export ATRIUM_DATABASE_URL=%q\n' "$ATRIUM_DATABASE_URL"
fi
