#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# pg-cluster.sh - the one way Atrium makes a private PostgreSQL cluster: the test harness
# (tests/harness/pg.py, for its cached template and every server it starts), the benchmarks
# (bench/lib.sh, start_pg) and the development cluster (scripts/setup.sh) all go through it.
#
#   scripts/pg-cluster.sh init DIR [--initdb OPT]... [--comment TEXT] [NAME=VALUE]...
#   scripts/pg-cluster.sh start DIR [PORT]      # pg_ctl start, waits; prints the port
#   scripts/pg-cluster.sh run DIR PORT          # exec the postmaster in the foreground
#   scripts/pg-cluster.sh stop DIR [fast|immediate]
#   scripts/pg-cluster.sh status DIR            # exit 0 and print the port if it is running
#   scripts/pg-cluster.sh bindir | free-port
#
# A cluster is a directory DIR holding data/ (PGDATA), sock/ (its Unix socket) and
# postgres.log. `init` runs initdb with trust authentication for the superuser `atrium`,
# UTF-8 and the C.UTF-8 locale (a later --initdb --locale=... wins), then appends to
# postgresql.conf `listen_addresses = '127.0.0.1'` and each NAME = VALUE as given (quote
# strings yourself: "timezone='UTC'"), under a "# TEXT" comment line. Loopback and trust
# only: a cluster made here holds test, bench or demo data, never anything real.
#
# The port and the socket directory are not written to postgresql.conf but given on every
# start (-p, -k), so a data directory can be copied elsewhere and started on another port (the
# harness copies one template per build directory). When DIR/sock is too long for a Unix
# socket path (107 bytes with the socket's own name) the server listens on TCP only.
#
# PostgreSQL refuses to run as root: as root, DIR and everything in it belong to Debian's
# `postgres` user and the server programs run as that user, from / (it may not be allowed
# into the caller's directory). `run` replaces this shell with the postmaster (through
# setpriv as root), so a caller that starts it as a child keeps the server in its own process
# group and can signal it directly: SIGINT is a fast shutdown, SIGQUIT an immediate one.
#
# Environment: ATRIUM_PG_BINDIR (or PG_BINDIR): the server programs; else the newest
# /usr/lib/postgresql/*/bin, else the directory of an initdb on PATH.

set -euo pipefail

pgc_die() {
        printf 'pg-cluster: %s\n' "$*" >&2
        exit 1
}

pgc_bindir() {
        local dir=${ATRIUM_PG_BINDIR:-${PG_BINDIR:-}}
        if [[ -z $dir ]]; then
                dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
                [[ -x $dir/initdb ]] || dir=$(dirname "$(command -v initdb 2>/dev/null ||
                        echo /nonexistent/initdb)")
        fi
        local b
        for b in initdb postgres pg_ctl psql; do
                [[ -x $dir/$b ]] || pgc_die "$b not found in ${dir:-/usr/lib/postgresql/*/bin}" \
                        "(Debian: apt-get install postgresql; scripts/setup.sh does)"
        done
        printf '%s\n' "$dir"
}

# Run a server program as the cluster's owner: `postgres` under root, else ourselves.
pgc_as_pg() {
        if ((EUID == 0)); then
                (cd / && runuser -u postgres -- "$@")
        else
                "$@"
        fi
}

pgc_need_user() {
        if ((EUID == 0)) && ! id postgres >/dev/null 2>&1; then
                pgc_die "running as root, but there is no postgres user to run the server as" \
                        "(PostgreSQL refuses to run as root); install Debian's postgresql package"
        fi
}

# A TCP port on 127.0.0.1 nobody listens on now. A lost race shows up as the server failing
# to bind, which `start` retries with another port.
pgc_free_port() {
        local p
        for _ in $(seq 200); do
                p=$((20000 + RANDOM % 40000))
                if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then
                        printf '%s\n' "$p"
                        return 0
                fi
        done
        pgc_die "no free TCP port found"
}

# The -k argument for DIR: its sock/ directory, or '' (TCP only) when the socket's path,
# sock/.s.PGSQL.<port>, would not fit the 107 bytes of a Unix socket address (PostgreSQL
# refuses to start rather than skip it).
pgc_sockets() {
        local sock=$1/sock
        if ((${#sock} > 90)); then printf '\n'; else printf '%s\n' "$sock"; fi
}

pgc_init() {
        local dir=$1 comment="scripts/pg-cluster.sh" bindir arg
        local -a initdb_opts=() settings=()
        shift
        while (($#)); do
                case $1 in
                --initdb) initdb_opts+=("$2"); shift 2 ;;
                --comment) comment=$2; shift 2 ;;
                *=*) settings+=("$1"); shift ;;
                *) pgc_die "init: unknown argument: $1" ;;
                esac
        done
        bindir=$(pgc_bindir)
        pgc_need_user
        [[ $dir == /* ]] || dir=$PWD/$dir
        [[ -e $dir/data/PG_VERSION ]] && pgc_die "init: $dir already holds a cluster"
        mkdir -p "$dir"
        if ((EUID == 0)); then chown postgres: "$dir"; fi
        chmod 0700 "$dir"
        # An earlier initdb that died half-way leaves a data dir initdb will not reuse.
        pgc_as_pg rm -rf "$dir/data"
        pgc_as_pg mkdir -p "$dir/sock"
        if ! pgc_as_pg "$bindir/initdb" -D "$dir/data" -A trust -U atrium -E UTF8 \
                --locale=C.UTF-8 "${initdb_opts[@]}" >"$dir/initdb.log" 2>&1; then
                cat "$dir/initdb.log" >&2
                pgc_die "initdb failed in $dir"
        fi
        {
                printf '\n# %s\n' "$comment"
                printf "listen_addresses = '127.0.0.1'\n"
                for arg in "${settings[@]}"; do
                        printf '%s = %s\n' "${arg%%=*}" "${arg#*=}"
                done
        } | pgc_as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
}

pgc_start() {
        local dir=$1 port=${2:-} bindir attempt
        bindir=$(pgc_bindir)
        pgc_need_user
        [[ -f $dir/data/PG_VERSION ]] || pgc_die "start: no cluster in $dir (run init first)"
        # A cluster made before sock/ was part of the layout (scripts/setup.sh's) lacks it.
        [[ -d $dir/sock ]] || pgc_as_pg mkdir -p "$dir/sock"
        for attempt in 1 2 3 4 5; do
                [[ -n $port ]] || port=$(pgc_free_port)
                if pgc_as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
                        -o "-p $port -k '$(pgc_sockets "$dir")'" start >/dev/null; then
                        printf '%s\n' "$port"
                        return 0
                fi
                # Only a port taken meanwhile is worth another try, and only on a port we chose.
                if [[ -n ${2:-} ]] || ! tail -n 5 "$dir/postgres.log" 2>/dev/null |
                        grep -Eq 'could not bind|Address already in use'; then
                        break
                fi
                port=""
        done
        tail -n 8 "$dir/postgres.log" >&2 2>/dev/null || true
        pgc_die "could not start PostgreSQL in $dir${2:+ on port $2}"
}

pgc_run() {
        local dir=$1 port=$2 bindir
        bindir=$(pgc_bindir)
        cd /
        if ((EUID == 0)); then
                pgc_need_user
                exec setpriv --reuid=postgres --regid=postgres --clear-groups -- \
                        "$bindir/postgres" -D "$dir/data" -p "$port" -k "$(pgc_sockets "$dir")"
        fi
        exec "$bindir/postgres" -D "$dir/data" -p "$port" -k "$(pgc_sockets "$dir")"
}

pgc_stop() {
        local dir=$1 mode=${2:-fast} bindir
        bindir=$(pgc_bindir)
        if [[ -f $dir/data/PG_VERSION ]] && pgc_as_pg "$bindir/pg_ctl" -D "$dir/data" status \
                >/dev/null 2>&1; then
                pgc_as_pg "$bindir/pg_ctl" -D "$dir/data" -m "$mode" -w -t 30 stop >/dev/null
        fi
}

pgc_status() {
        local dir=$1 bindir
        bindir=$(pgc_bindir)
        [[ -f $dir/data/PG_VERSION ]] || return 1
        pgc_as_pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 || return 1
        sed -n 4p "$dir/data/postmaster.pid"
}

cmd=${1:-}
(($#)) && shift
case $cmd in
init) (($# >= 1)) || pgc_die "usage: init DIR [--initdb OPT]... [NAME=VALUE]..."; pgc_init "$@" ;;
start) (($# >= 1)) || pgc_die "usage: start DIR [PORT]"; pgc_start "$@" ;;
run) (($# == 2)) || pgc_die "usage: run DIR PORT"; pgc_run "$@" ;;
stop) (($# >= 1)) || pgc_die "usage: stop DIR [fast|immediate]"; pgc_stop "$@" ;;
status) (($# == 1)) || pgc_die "usage: status DIR"; pgc_status "$@" ;;
bindir) pgc_bindir ;;
free-port) pgc_free_port ;;
*)
        awk 'NR > 3 && /^#/ { sub(/^# ?/, ""); print; next } NR > 3 { exit }' "${BASH_SOURCE[0]}" >&2
        exit 2
        ;;
esac
