# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# bench/lib.sh - what the bench scripts share: sourced (never run) by bench/run.sh and
# bench/<module>/run.sh (groups, calendar, files, mail, conference) after they have set `repo`
# and their own knobs.
# It defines helpers and installs the teardown trap; it starts nothing by itself. A script
# uses it in this order:
#
#   source "$repo/bench/lib.sh"
#   bench_preflight wrk curl ...        # tools, PostgreSQL binaries, the postgres user, load
#   bench_build                         # meson/ninja in $BUILD_DIR, sets $atriumd
#   bench_tmp atrium-bench-foo          # the private temp dir $tmp (pg/, data/)
#   start_pg "bench/foo/run.sh"         # cluster on a free port, databases atrium + pgbench
#   start_atriumd "(pool size ...)"     # atriumd on a free port, sets $api_url, $atriumd_pid
#   bench_operator                      # operator "bench", signed in: $op
#   ... set-up (api, sign_in, psql_admin), loads (wait_quiet, measure, wrk_run, wait_idle,
#       cpu_mark/cpu_report, split_mark/split_report), start_nginx ROOT, pgbench_init,
#       pgbench_ceiling FILE ...
#   describe_machine core api plugins   # $cpu, $mem, $commit, $buildtype for the fragment
#
# Knobs it reads (each script documents its own defaults where they differ):
#   ATRIUM_POOL_SIZE (2 per core, atriumd's default) -> POOL_SIZE, WRK_THREADS (2), WRK_CONNECTIONS (64), WRK_TIMEOUT
#   (unset: wrk's own 2 s), PGBENCH_CLIENTS (32), PGBENCH_JOBS (2), PGBENCH_SCALE (10),
#   DURATION and WARMUP (pgbench_ceiling: set by every script), QUIET_WAIT (900, wait_quiet),
#   ATRIUM_BUILD_DIR (build, relative to the repository), PG_BINDIR (newest
#   /usr/lib/postgresql/*/bin), KEEP_TMP=1 (keep the temp dir and its logs).
# Variables a script may set before start_atriumd: plugin_dir (default $BUILD_DIR/plugins),
# ATRIUMD_EXTRA_ENV (more NAME=value pairs for atriumd, e.g. ATRIUM_MAX_BODY=...).
#
# Not a test: the scripts measure time, so none of them runs from meson test or CI.

[[ -n ${repo:-} ]] || { echo "bench/lib.sh: set repo before sourcing" >&2; exit 2; }

POOL_SIZE=${ATRIUM_POOL_SIZE:-$((2 * $(nproc)))} # atriumd's own default
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
WRK_TIMEOUT=${WRK_TIMEOUT:-}
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-32}
PGBENCH_JOBS=${PGBENCH_JOBS:-2}
PGBENCH_SCALE=${PGBENCH_SCALE:-10}
BUILD_DIR=$repo/${ATRIUM_BUILD_DIR:-build}
KEEP_TMP=${KEEP_TMP:-0}
QUIET_WAIT=${QUIET_WAIT:-900}
# Decimals of ratio(); bench/run.sh prints 2, the module scripts 3.
RATIO_DIGITS=${RATIO_DIGITS:-2}

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# ---- helpers --------------------------------------------------------------------------------

# pg_cluster CMD DIR ...: scripts/pg-cluster.sh, the one PostgreSQL bootstrap (the test harness
# and scripts/setup.sh use it too), with the bench's choice of server binaries. It runs the
# server programs as Debian's `postgres` user when we are root (PostgreSQL refuses root).
pg_cluster() { ATRIUM_PG_BINDIR=$pgbin "$repo/scripts/pg-cluster.sh" "$@"; }

# A TCP port nobody listens on now. Each is taken right before its server starts; a lost race
# shows up as that server failing to start, with its log (start_atriumd retries it).
free_port() {
        local p
        for _ in $(seq 200); do
                p=$((20000 + RANDOM % 40000))
                if ! ss -Htln "sport = :$p" | grep -q .; then
                        echo "$p"
                        return 0
                fi
        done
        die "no free TCP port found"
}

psql_admin() {
        "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U atrium "$@"
}

# api METHOD PATH TOKEN BODY: one REST call to atriumd; prints the response body, or dies
# with the status and body if the answer is not 2xx. TOKEN and BODY may be empty.
api() {
        local method=$1 path=$2 token=$3 body=$4 args=() status
        [[ -n $token ]] && args+=(-H "Authorization: Bearer $token")
        [[ -n $body ]] && args+=(-H "Content-Type: application/json" --data-binary "$body")
        status=$(curl -sS -o "$tmp/api-out" -w '%{http_code}' -X "$method" "${args[@]}" \
                "$api_url$path") || die "$method $path: curl failed"
        [[ $status == 2?? ]] || die "$method $path answered $status: $(head -c 400 "$tmp/api-out")"
        cat "$tmp/api-out"
}

# new_password: 24 random URL-safe characters (a password for the bench's accounts).
new_password() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }

# sign_in SCHOOL USERNAME PASSWORD: POST /api/v1/auth/login (SCHOOL empty: an operator's
# sign-in); prints the bearer token, dies if the answer has none. Each one is an Argon2id
# hash on atriumd's slow pool: ~50 per second on two cores.
sign_in() {
        local body tok
        if [[ -n $1 ]]; then
                body=$(jq -nc --arg s "$1" --arg u "$2" --arg p "$3" '{school: $s, username: $u, password: $p}')
        else
                body=$(jq -nc --arg u "$2" --arg p "$3" '{username: $u, password: $p}')
        fi
        tok=$(api POST /api/v1/auth/login "" "$body" | jq -r .token)
        [[ -n $tok && $tok != null ]] || die "sign-in of ${1:+$1/}$2 gave no token"
        printf '%s\n' "$tok"
}

# atriumd_env CMD...: runs CMD (atriumd serve, atriumd operator create, ...) with the bench's
# environment and nothing else: a developer's ATRIUM_* exports (e.g. from scripts/setup.sh)
# must not point the run at another database. ATRIUMD_EXEC=1 execs: a function started with
# `&` runs in a subshell, and without exec $! would be that subshell, not atriumd, so teardown
# would signal the wrong process and leave atriumd running.
plugin_dir=""
ATRIUMD_EXTRA_ENV=()
atriumd_env() {
        local v drop=()
        for v in $(compgen -e); do [[ $v == ATRIUM_* ]] && drop+=(-u "$v"); done
        ${ATRIUMD_EXEC:+exec} env "${drop[@]}" \
                ATRIUM_DATABASE_URL="postgresql://atrium@127.0.0.1:$pg_port/atrium" \
                ATRIUM_LISTEN="127.0.0.1:$api_port" \
                ATRIUM_PLUGIN_DIR="${plugin_dir:-$BUILD_DIR/plugins}" \
                ATRIUM_DATA_DIR="$tmp/data" \
                ATRIUM_POOL_SIZE="$POOL_SIZE" \
                ATRIUM_DRAIN_TIMEOUT=5 \
                "${ATRIUMD_EXTRA_ENV[@]}" \
                "$@"
}

# http_ok PORT PATH: whether GET PATH on 127.0.0.1:PORT answers 200, without starting a
# process (bash's /dev/tcp), for polls whose own cost must not count (the start-up figure).
http_ok() {
        local fd line=
        { exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
        printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&"$fd"
        IFS= read -r -t 2 line <&"$fd" || true
        exec {fd}>&-
        [[ $line == "HTTP/1.1 200"* ]]
}

# nap SECONDS: sleep without starting a process (read's timeout on a FIFO nobody writes).
nap() {
        if [[ -z ${nap_fd:-} ]]; then
                mkfifo "$tmp/nap.fifo"
                exec {nap_fd}<>"$tmp/nap.fifo"
        fi
        read -r -t "$1" -u "$nap_fd" _ || true
}

# Waits up to $2 seconds for process $1 to end; then SIGKILL.
stop_pid() {
        local pid=$1 grace=$2 i
        kill -TERM "$pid" 2>/dev/null || return 0
        for ((i = 0; i < grace * 10; i++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
}

# wrk_run SECONDS URL [wrk args...]: one wrk run with the bench's threads, connections
# (WRK_CONNECTIONS=8 wrk_run ... for fewer), --latency and, if set, --timeout WRK_TIMEOUT;
# headers and scripts go in the extra args (-H "Authorization: Bearer ...", -s file.lua).
# Under `timeout`, so a stuck wrk cannot hang the bench. In a subshell (measure's background
# job, the left side of a pipe) it execs, so that the pid measure waits for and teardown signals
# is timeout's own, which passes a TERM on to wrk.
wrk_run() {
        local seconds=$1 url=$2 cmd
        shift 2
        cmd=(timeout $((seconds + 30)) wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${seconds}s"
             ${WRK_TIMEOUT:+--timeout "$WRK_TIMEOUT"} --latency "$@" "$url")
        if [[ $BASHPID != "$$" ]]; then exec "${cmd[@]}"; else "${cmd[@]}"; fi
}

# measure FILE CMD...: runs a load in the background and waits for it, so that a TERM or INT
# reaches the trap at once (bash runs traps only between foreground commands, which would let
# a 10-minute wrk run finish first); the output goes to FILE and then to stderr.
child=""
measure() {
        local file=$1 rc=0
        shift
        "$@" >"$file" 2>&1 &
        child=$!
        wait "$child" || rc=$?
        child=""
        cat "$file" >&2
        return "$rc"
}

# wrk --latency output -> "req/s p50_ms p99_ms non2xx socket_errors requests"
wrk_parse() {
        awk '
        function ms(v) {
                if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
                if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
                if (v ~ /m$/)  return substr(v, 1, length(v) - 1) * 60000
                if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
                return v + 0
        }
        /^ *50% /                   { p50 = ms($2) }
        /^ *99% /                   { p99 = ms($2) }
        /^ *[0-9]+ requests in /    { n = $1 }
        /^Requests\/sec:/           { rps = $2 }
        /Non-2xx or 3xx responses:/ { bad = $NF }
        /Socket errors:/            { gsub(/,/, ""); err = $4 + $6 + $8 + $10 }
        END { printf "%.0f %.2f %.2f %d %d %d\n", rps, p50, p99, bad, err, n }' "$1"
}

# pgbench_args: sets the array pgb to the ceiling's command, pgbench -S -M prepared with the
# bench's clients and jobs, without -T and the database name.
# pgbench_args [tpcb]: pgbench's command line in $pgb: -S (one SELECT per transaction), or
# with "tpcb" its default TPC-B-like script (three UPDATEs, a SELECT and an INSERT per
# transaction, committed with fsync on: the ceiling for loads that write).
pgbench_args() {
        pgb=("$pgbin/pgbench" -h 127.0.0.1 -p "$pg_port" -U atrium -M prepared
             -c "$PGBENCH_CLIENTS" -j "$PGBENCH_JOBS" -n)
        [[ ${1:-} == tpcb ]] || pgb+=(-S)
}

# pgbench output -> "tps latency_avg_ms failed"
pgbench_parse() {
        awk '
        /^tps = /                           { tps = $3 }
        /^latency average = /               { lat = $4 }
        /^number of failed transactions: /  { failed = $5 }
        END { printf "%.0f %.2f %d\n", tps, lat, failed }' "$1"
}

fmt_int() { printf '%d' "$1" | sed -e :a -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e ta; }
ratio() {
        awk -v a="$1" -v b="$2" -v d="$RATIO_DIGITS" \
                'BEGIN { if (b > 0) printf "%." d "f", a / b; else print "n/a" }'
}

# percentile P FILE: the P-th percentile (nearest rank) of the numbers in FILE, one a line.
percentile() {
        sort -g "$2" | awk -v p="$1" '{ v[NR] = $1 } END {
                if (NR == 0) { print "n/a"; exit }
                r = int((p / 100) * NR + 0.999999); if (r < 1) r = 1; if (r > NR) r = NR
                print v[r] }'
}

# ---- CPU accounting: is anyone else using these cores? -----------------------------------
#
# The figures of one run are only comparable if the loads had the machine to themselves.
# cpu_mark records the busy time (user + nice + system, in clock ticks) of the whole machine and
# of the bench's own processes: the script (whose cutime/cstime collect wrk, pgbench and curl
# once they are waited for), atriumd, nginx and its workers, the PostgreSQL cluster (the
# postmaster's cutime collects its exited backends) and its live children. cpu_report turns two
# marks into "ours% other%" of all cores. Interrupt time is left out of both: loopback traffic
# is mostly softirq, charged to no process.
bench_pids() {
        local pm=""
        echo "$$"
        [[ -n $atriumd_pid ]] && echo "$atriumd_pid"
        ((${#extra_pids[@]})) && printf '%s\n' "${extra_pids[@]}"
        if [[ -n $nginx_pid ]]; then
                echo "$nginx_pid"
                pgrep -P "$nginx_pid" || true
        fi
        if [[ -n $apache_pid ]]; then
                echo "$apache_pid"
                pgrep -P "$apache_pid" || true
        fi
        [[ -r $tmp/pg/data/postmaster.pid ]] && pm=$(head -n 1 "$tmp/pg/data/postmaster.pid")
        if [[ -n $pm ]]; then
                echo "$pm"
                pgrep -P "$pm" || true
        fi
}

cpu_mark() {
        local pid ours=0 t
        for pid in $(bench_pids); do
                # Fields after "pid (comm) ": 12-15 are utime, stime, cutime, cstime.
                t=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }')
                ours=$((ours + ${t:-0}))
        done
        echo "$(date +%s%N) $(awk '/^cpu / { print $2 + $3 + $4 }' /proc/stat) $ours"
}

# cpu_report "MARK_BEFORE" "MARK_AFTER" -> "ours_pct other_pct" of all cores' time
cpu_report() {
        awk -v a="$1" -v b="$2" -v hz="$(getconf CLK_TCK)" -v n="$(nproc)" 'BEGIN {
                split(a, x, " "); split(b, y, " ")
                avail = (y[1] - x[1]) / 1e9 * hz * n
                ours = y[3] - x[3]; all = y[2] - x[2]; other = all - ours
                if (other < 0) other = 0
                printf "%.0f %.0f\n", 100 * ours / avail, 100 * other / avail }'
}

# disturbed_note LIMIT OTHER%...: prints the "Disturbed run" sentence for results.md (and warns)
# when any load's "other" share exceeds LIMIT %; prints nothing otherwise.
disturbed_note() {
        local limit=$1 max
        shift
        max=$(printf '%s\n' "$@" | sort -n | tail -n 1)
        if ((max > limit)); then
                say "warning: other processes used up to ${max}% of the cores during the loads"
                echo "**Disturbed run:** other processes used up to ${max}% of the cores during a measured load; these figures understate the machine."
        fi
}

# wait_quiet WHAT: before a measured load, waits while another benchmark (bench/run.sh or a
# bench/<module>/run.sh other than this one), meson test or ninja runs on this machine (polling
# every 30 s; QUIET_WAIT s in all for the whole run, so a busy machine delays the run by at
# most that much); records what it saw in $out/quiet.txt (a script sets out first).
others() {
        local me
        me=$(basename "$(dirname "$0")")/$(basename "$0")
        pgrep -af 'bench/([a-z]+/)?run\.sh|meson test|ninja' | grep -v -e "^$$ " -e "$me" || true
}
waited_total=0
wait_quiet() {
        local t0 found
        t0=$(date +%s)
        while found=$(others) && [[ -n $found ]]; do
                if ((waited_total + $(date +%s) - t0 >= QUIET_WAIT)); then
                        say "measuring $1 while busy (waited ${QUIET_WAIT}s in all): $(head -n 1 <<<"$found" | cut -c1-120)"
                        echo "$(date -u +%T) $1: measured while busy: $(tr '\n' ';' <<<"$found")" >>"$out/quiet.txt"
                        waited_total=$((waited_total + $(date +%s) - t0))
                        return 0
                fi
                say "waiting for other work to finish before $1: $(head -n 1 <<<"$found" | cut -c1-120)"
                sleep 30
        done
        waited_total=$((waited_total + $(date +%s) - t0))
        echo "$(date -u +%T) $1: quiet after $(($(date +%s) - t0)) s" >>"$out/quiet.txt"
}

# split_mark: "atriumd_ticks postgres_ticks", the CPU clock ticks (user + system) atriumd and
# the PostgreSQL cluster (the postmaster with its exited children, and its live children) have
# used so far.
split_mark() {
        local pm pid t pg=0 a
        pm=$(head -n 1 "$tmp/pg/data/postmaster.pid")
        for pid in "$pm" $(pgrep -P "$pm"); do
                t=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }')
                pg=$((pg + ${t:-0}))
        done
        a=0
        [[ -n ${atriumd_pid:-} ]] &&
                a=$(sed 's/^.*) //' "/proc/$atriumd_pid/stat" 2>/dev/null | awk '{ print $12 + $13 }')
        echo "${a:-0} $pg"
}

# split_report "BEFORE" "AFTER" N -> "atriumd_ms postgres_ms" of CPU per one of N requests
split_report() {
        awk -v a="$1" -v b="$2" -v n="$3" -v hz="$(getconf CLK_TCK)" 'BEGIN {
                split(a, x, " "); split(b, y, " ")
                if (n <= 0) { print "n/a n/a"; exit }
                printf "%.3f %.3f\n", (y[1] - x[1]) / hz * 1000 / n, (y[2] - x[2]) / hz * 1000 / n }'
}

# wait_idle: after wrk stops, atriumd still answers what it had queued, and its queries keep
# PostgreSQL busy while atriumd itself waits; the next measurement starts once atriumd and the
# cluster together have used no more than 2 % of a core for half a second (at most 120 s).
wait_idle() {
        local i a b
        for ((i = 0; i < 240; i++)); do
                a=$(split_mark | awk '{ print $1 + $2 }')
                sleep 0.5
                b=$(split_mark | awk '{ print $1 + $2 }')
                ((b - a <= 1)) && return 0
        done
        say "warning: atriumd or PostgreSQL still busy 120 s after a load"
}

# ---- teardown: runs on every exit --------------------------------------------------------

tmp=""
pg_started=0
extra_pids=() # a script's own processes: more hosts (bench/capacity), bench/idle's holder
atriumd_pid=""
nginx_pid=""
apache_pid=""
cleanup() {
        local rc=$?
        set +e
        trap - EXIT INT TERM
        [[ -n $child ]] && stop_pid "$child" 5
        for p in "${extra_pids[@]}"; do stop_pid "$p" 5; done
        [[ -n $nginx_pid ]] && stop_pid "$nginx_pid" 5
        [[ -n $apache_pid ]] && stop_pid "$apache_pid" 5
        [[ -n $atriumd_pid ]] && stop_pid "$atriumd_pid" 10
        if ((pg_started)); then
                pg_cluster stop "$tmp/pg" fast >/dev/null 2>&1
        fi
        if ((rc != 0)) && [[ -n $tmp ]]; then
                for f in "$tmp/atriumd.log" "$tmp/pg/postgres.log" "$tmp/nginx/error.log" "$tmp/apache/error.log"; do
                        [[ -s $f ]] || continue
                        printf '\n---- last lines of %s ----\n' "$f" >&2
                        tail -n 20 "$f" >&2
                done
        fi
        if [[ -n $tmp ]]; then
                if [[ $KEEP_TMP == 1 ]]; then say "kept $tmp"; else rm -rf "$tmp"; fi
        fi
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- start-up ----------------------------------------------------------------------------

# bench_preflight TOOL...: dies unless every TOOL and PostgreSQL's initdb, pg_ctl, psql and
# pgbench are there (sets pgbin), and, as root, the postgres user; records the 1-minute load
# average in load_before and warns when it is above 0.5.
bench_preflight() {
        local c b
        for c in "$@"; do
                command -v "$c" >/dev/null || die "$c not found (Debian: apt-get install wrk nginx-light apache2 curl jq iproute2 meson ninja-build coreutils gcc)"
        done
        pgbin=${PG_BINDIR:-}
        if [[ -z $pgbin ]]; then
                pgbin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
                [[ -d $pgbin ]] || pgbin=""
        fi
        [[ -n $pgbin ]] || pgbin=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
        for b in initdb pg_ctl psql pgbench; do
                [[ -x $pgbin/$b ]] || die "$b not found in ${pgbin:-/usr/lib/postgresql/*/bin} (Debian: postgresql, postgresql-contrib)"
        done
        if ((EUID == 0)); then
                id postgres >/dev/null 2>&1 || die "running as root but there is no postgres user to run the cluster"
        fi
        load_before=$(cut -d' ' -f1 /proc/loadavg)
        if awk -v l="$load_before" 'BEGIN { exit !(l > 0.5) }'; then
                say "warning: 1-minute load average is $load_before; other work on these cores skews the figures"
        fi
}

# bench_build: configures $BUILD_DIR if needed, runs ninja in it, sets atriumd.
bench_build() {
        if [[ ! -f $BUILD_DIR/build.ninja ]]; then
                say "configuring $BUILD_DIR"
                meson setup "$BUILD_DIR" "$repo" >/dev/null
        fi
        say "building (ninja -C $BUILD_DIR)"
        ninja -C "$BUILD_DIR" >/dev/null || die "build failed: run ninja -C $BUILD_DIR to see why"
        atriumd=$BUILD_DIR/core/atriumd
        [[ -x $atriumd ]] || die "no $atriumd after the build"
}

# bench_tmp PREFIX: the run's temp dir /tmp/PREFIX.XXXXXX in $tmp, with data/ (start_pg adds
# pg/, the postgres user's).
bench_tmp() {
        tmp=$(mktemp -d "/tmp/$1.XXXXXX")
        # postgres and nginx's workers (nobody) must be able to enter it.
        chmod 0755 "$tmp"
        mkdir -p "$tmp/data" # $tmp/pg is made by start_pg (scripts/pg-cluster.sh init)
}

# start_pg NAME: a private cluster in $tmp/pg (scripts/pg-cluster.sh: data/, sock/,
# postgres.log) on a free loopback port (pg_port), trust authentication for the superuser
# `atrium`; databases atrium and pgbench; sets pg_version. NAME goes into postgresql.conf as a
# comment.
start_pg() {
        say "starting PostgreSQL ($pgbin)"
        # Unlike the test harness's clusters, durability stays as in production: fsync and
        # synchronous_commit stay on. The C locale, as the figures so far were measured with.
        pg_cluster init "$tmp/pg" --initdb --locale=C \
                --comment "$1 (fsync and synchronous_commit stay on)" \
                shared_buffers=256MB max_connections=200 >/dev/null
        pg_port=$(pg_cluster start "$tmp/pg")
        pg_started=1
        pg_version=$(psql_admin -d postgres -Atc 'SHOW server_version')
        psql_admin -d postgres -c 'CREATE DATABASE atrium' -c 'CREATE DATABASE pgbench'
}

# start_atriumd WHAT: atriumd serve on a free port (api_port, api_url, atriumd_pid), its log in
# $tmp/atriumd.log (one line per request, as it would go to the journal in production); waits
# for /readyz. A port taken between free_port and the bind (other servers on the machine) is
# retried with another, anything else is fatal. WHAT ends the "starting atriumd" line.
start_atriumd() {
        local attempt i
        for attempt in 1 2 3; do
                api_port=$(free_port)
                api_url="http://127.0.0.1:$api_port"
                say "starting atriumd on $api_url $1"
                ATRIUMD_EXEC=1 atriumd_env "$atriumd" serve >>"$tmp/atriumd.log" 2>&1 &
                atriumd_pid=$!
                for ((i = 0; ; i++)); do
                        if ! kill -0 "$atriumd_pid" 2>/dev/null; then
                                wait "$atriumd_pid" 2>/dev/null || true
                                atriumd_pid=""
                                break
                        fi
                        [[ $(curl -s -o /dev/null -w '%{http_code}' "$api_url/readyz") == 200 ]] && break
                        ((i < 300)) || die "atriumd not ready after 30 s"
                        sleep 0.1
                done
                [[ -n $atriumd_pid ]] && return 0
                tail -n 3 "$tmp/atriumd.log" | grep -qi "address already in use" || die "atriumd exited during start"
        done
        die "atriumd could not bind a port in 3 attempts"
}

# bench_operator: the operator "bench" with a random password (atriumd operator create reads it
# as one line on stdin), signed in: sets op, its bearer token. Operators act as every school's
# admin, so the scripts create schools, people and modules' settings with it.
bench_operator() {
        local pw
        pw=$(new_password)
        printf '%s\n' "$pw" | atriumd_env "$atriumd" operator create bench >/dev/null 2>&1 ||
                die "atriumd operator create failed"
        op=$(sign_in "" bench "$pw")
}

# start_nginx ROOT [TYPE]: nginx as the reference static-file server on a free loopback port
# (nginx_port, nginx_pid; its files in $tmp/nginx), serving ROOT with default_type TYPE
# (application/octet-stream), one access-log line per request as atriumd writes one, and
# keep-alive for the whole run: wrk keeps its connections, as it does with atriumd, and
# nginx's default (close after 1000 requests) would add reconnects atriumd does not have.
# Returns once nginx listens.
start_nginx() {
        local root=$1 type=${2:-application/octet-stream} i
        mkdir -p "$tmp/nginx"
        chmod -R a+rX "$root"
        nginx_port=$(free_port)
        cat >"$tmp/nginx/nginx.conf" <<EOF
# $(basename "$0"): nginx as a reference static-file server.
daemon off;
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    access_log $tmp/nginx/access.log;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$nginx_port;
        root $root;
        default_type $type;
        location / { try_files \$uri =404; }
    }
}
EOF
        say "starting nginx on 127.0.0.1:$nginx_port"
        nginx -p "$tmp/nginx/" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" &
        nginx_pid=$!
        for ((i = 0; ; i++)); do
                kill -0 "$nginx_pid" 2>/dev/null || die "nginx exited during start"
                ss -Htln "sport = :$nginx_port" | grep -q . && break
                ((i < 100)) || die "nginx not listening after 10 s"
                sleep 0.1
        done
}

# start_apache_dav ROOT: Apache httpd with mod_dav_fs as the reference WebDAV server on a free
# loopback port (apache_port, apache_pid; its files in $tmp/apache), serving ROOT for PUT and
# GET without authentication, keep-alive for the whole run, no access log (errors only), the
# event MPM with Debian's defaults. As root its workers run as www-data, which then owns ROOT.
# Apache writes a PUT's body to a temporary file and renames it; it does not fsync.
start_apache_dav() {
        local root=$1 i user="" mods=/usr/lib/apache2/modules
        mkdir -p "$tmp/apache/lock" "$root"
        apache_port=$(free_port)
        if ((EUID == 0)); then
                user=$'User www-data\nGroup www-data'
                chown -R www-data: "$root" "$tmp/apache/lock"
        fi
        cat >"$tmp/apache/httpd.conf" <<EOF
# $(basename "$0"): Apache httpd + mod_dav_fs as a reference WebDAV server.
ServerRoot $tmp/apache
ServerName 127.0.0.1
Listen 127.0.0.1:$apache_port
PidFile $tmp/apache/httpd.pid
ErrorLog $tmp/apache/error.log
LogLevel warn
$user
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule dav_module $mods/mod_dav.so
LoadModule dav_fs_module $mods/mod_dav_fs.so
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 60
LimitRequestBody 0
DavLockDB $tmp/apache/lock/DavLock
DocumentRoot $root
<Directory $root>
        Dav On
        Require all granted
</Directory>
EOF
        /usr/sbin/apache2 -f "$tmp/apache/httpd.conf" -DFOREGROUND >>"$tmp/apache/error.log" 2>&1 &
        apache_pid=$!
        for ((i = 0; i < 100; i++)); do
                kill -0 "$apache_pid" 2>/dev/null ||
                        die "apache2 exited during start: $(tail -n 3 "$tmp/apache/error.log")"
                curl -s -o /dev/null "http://127.0.0.1:$apache_port/" && return 0
                sleep 0.1
        done
        die "apache2 not listening after 10 s"
}

# pgbench_init: pgbench's tables at PGBENCH_SCALE, then a CHECKPOINT, so that what the set-up
# dirtied is written out now and not during a measurement.
pgbench_init() {
        say "initialising pgbench (scale $PGBENCH_SCALE)"
        "$pgbin/pgbench" -h 127.0.0.1 -p "$pg_port" -U atrium -i -q -s "$PGBENCH_SCALE" pgbench \
                >"$tmp/pgbench-init.log" 2>&1 || die "pgbench -i failed: $(tail -n 3 "$tmp/pgbench-init.log")"
        psql_admin -d postgres -c 'CHECKPOINT'
}

# pgbench_ceiling FILE: the ceiling the scripts compare with, pgbench -S -M prepared
# (pgbench_args) on the pgbench database for DURATION s after an unmeasured WARMUP s, its
# output in FILE (and on stderr); sets pg_tps pg_lat pg_failed and the CPU shares pg_cpu
# pg_other (cpu_report). Needs pgbench_init first.
# pgbench_ceiling FILE [tpcb]: pgbench (-S, or the TPC-B-like script) for DURATION s after
# WARMUP s; sets pg_tps, pg_lat, pg_failed, pg_cpu, pg_other, and pg_split0, pg_split1 (split_mark
# before and after) and pg_n (transactions) for split_report.
pgbench_ceiling() {
        local m0
        say "pgbench ${2:--S} -M prepared -c$PGBENCH_CLIENTS -j$PGBENCH_JOBS -T$DURATION (warm-up ${WARMUP}s)"
        pgbench_args "${2:-}"
        if ((WARMUP > 0)); then
                measure "$tmp/warmup.txt" timeout $((WARMUP + 30)) "${pgb[@]}" -T "$WARMUP" pgbench 2>/dev/null
        fi
        m0=$(cpu_mark)
        pg_split0=$(split_mark)
        measure "$1" timeout $((DURATION + 60)) "${pgb[@]}" -T "$DURATION" pgbench
        pg_split1=$(split_mark)
        read -r pg_cpu pg_other < <(cpu_report "$m0" "$(cpu_mark)")
        read -r pg_tps pg_lat pg_failed < <(pgbench_parse "$1")
        pg_n=$(awk '/^number of transactions actually processed: / { print $NF }' "$1")
}

# describe_machine DIR...: cpu, mem, buildtype and commit (with "+ uncommitted changes" when any
# of the repository's DIRs has them) for the results fragment.
describe_machine() {
        cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
        mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
        commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
        [[ -n $(git -C "$repo" status --porcelain -- "$@" 2>/dev/null) ]] &&
                commit="$commit + uncommitted changes"
        buildtype=$(jq -r '.[] | select(.name == "buildtype") | .value' \
                "$BUILD_DIR/meson-info/intro-buildoptions.json" 2>/dev/null || echo "?")
}
