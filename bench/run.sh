#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/run.sh - one command, three loads on the same machine in the same run:
#   1. atriumd: wrk against one school route (a paginated JSON list read from PostgreSQL);
#   2. nginx:   wrk against a static file holding the very same JSON body (the ceiling of an
#               HTTP server on this box);
#   3. PostgreSQL: pgbench -S -M prepared (the ceiling of one-statement transactions).
# It builds atriumd if needed, starts a private PostgreSQL cluster, atriumd and nginx on free
# loopback ports in a temp dir, prints a table and a Markdown fragment for bench/RESULTS.md,
# and tears everything down on exit, also on failure or Ctrl-C. See bench/README.md.
#
# Knobs (environment): DURATION (15 s per load), WARMUP (3 s, unmeasured, before each load),
# ATRIUM_POOL_SIZE (8), WRK_THREADS (2), WRK_CONNECTIONS (64), PGBENCH_CLIENTS (32),
# PGBENCH_JOBS (2), PGBENCH_SCALE (10), NOTICES (1000), ATRIUM_BUILD_DIR (build),
# BENCH_OUT (bench/out), KEEP_TMP=1 (keep the temp dir and its logs).
#
# Not a test: it measures time, so it never runs from meson test or CI.

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
POOL_SIZE=${ATRIUM_POOL_SIZE:-8}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-32}
PGBENCH_JOBS=${PGBENCH_JOBS:-2}
PGBENCH_SCALE=${PGBENCH_SCALE:-10}
NOTICES=${NOTICES:-1000}
BUILD_DIR=$repo/${ATRIUM_BUILD_DIR:-build}
BENCH_OUT=${BENCH_OUT:-$repo/bench/out}
KEEP_TMP=${KEEP_TMP:-0}

# What the API load requests. setup_school_and_data() below sets both; wrk, curl and the
# nginx run all use them, so switching to an authenticated route changes nothing else.
API_PATH=""      # path and query, e.g. /api/v1/schools/demo/noticeboard/notices
API_HEADERS=()   # "Name: value" each, e.g. "Authorization: Bearer ..."
LOGIN_BODY=""    # JSON body of a valid sign-in, for the login load (Argon2id-bound)

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# ============================================================================================
# SETUP OF THE SCHOOL AND ITS DATA - the one place that decides what the API load requests.
#
# Runs after atriumd is ready and before any measurement, and must set API_PATH and
# API_HEADERS. Helpers: api (REST call, fails loudly), psql_admin (superuser `atrium`),
# atriumd_env "$atriumd" ... (a CLI command against the bench's database).
#
# The route is the noticeboard list as a signed-in student reads it: the session token from
# POST /api/v1/auth/login, sent as "Authorization: Bearer", so every measured request pays
# for authentication (token lookup, roles and permissions) inside its transaction. The
# school, its module and its user are created through the REST API as an operator would;
# the 1,000 notices go in with one SQL INSERT, since that many POSTs would only slow the
# set-up down.
# ============================================================================================
setup_school_and_data() {
        local op_pw user_pw op user
        op_pw=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
        user_pw=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')

        # atriumd reads the new operator's password as one line on stdin.
        printf '%s\n' "$op_pw" | atriumd_env "$atriumd" operator create bench >/dev/null 2>&1 ||
                die "atriumd operator create failed"
        op=$(api POST /api/v1/auth/login "" \
                "$(jq -nc --arg p "$op_pw" '{username: "bench", password: $p}')" | jq -r .token)

        api POST /api/v1/schools "$op" '{"slug": "demo", "name": "Demo School"}' >/dev/null
        api PUT /api/v1/schools/demo/modules/noticeboard "$op" "" >/dev/null
        api POST /api/v1/schools/demo/users "$op" "$(jq -nc --arg p "$user_pw" \
                '{username: "reader", display_name: "Bench Reader", roles: ["student"], password: $p}')" \
                >/dev/null

        psql_admin -d atrium <<SQL
-- Notices an hour apart, newest first in the list; bodies of ~300 characters.
INSERT INTO noticeboard.notices (school_id, title, body, pinned, created_at)
SELECT s.id,
       'Notice ' || g || ': timetable change for year ' || (g % 13 + 1),
       repeat('Lessons move to the main hall this week because of building works. ', 4) || g,
       g % 100 = 0,
       now() - g * interval '1 hour'
  FROM core.schools s, generate_series(1, $NOTICES) g
 WHERE s.slug = 'demo';
VACUUM ANALYZE;
SQL

        user=$(api POST /api/v1/auth/login "" "$(jq -nc --arg p "$user_pw" \
                '{school: "demo", username: "reader", password: $p}')" | jq -r .token)
        [[ -n $user && $user != null ]] || die "sign-in as the bench user gave no token"

        API_PATH="/api/v1/schools/demo/noticeboard/notices"
        API_HEADERS=("Authorization: Bearer $user")
        LOGIN_BODY=$(jq -nc --arg p "$user_pw" '{school: "demo", username: "reader", password: $p}')
}

# ---- helpers --------------------------------------------------------------------------------

# PostgreSQL refuses to run as root; as root the cluster belongs to Debian's `postgres` user.
as_pg() {
        if ((EUID == 0)); then
                (cd / && runuser -u postgres -- "$@")
        else
                "$@"
        fi
}

# A TCP port nobody listens on now. Each is taken right before its server starts; a lost race
# shows up as that server failing to start, with its log.
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

# The environment atriumd runs with. Only what the bench sets reaches it: a developer's
# ATRIUM_* exports (e.g. from scripts/setup.sh) must not point the run at another database.
# An array rather than a wrapper function, so that `env ... atriumd serve &` is a simple
# command and $! is atriumd itself, not a subshell that a SIGTERM would leave it behind.
atriumd_env_vars() {
        local v
        ATRIUMD_ENV=()
        for v in $(compgen -e); do [[ $v == ATRIUM_* ]] && ATRIUMD_ENV+=(-u "$v"); done
        ATRIUMD_ENV+=(
                ATRIUM_DATABASE_URL="postgresql://atrium@127.0.0.1:$pg_port/atrium"
                ATRIUM_LISTEN="127.0.0.1:$api_port"
                ATRIUM_PLUGIN_DIR="$BUILD_DIR/plugins"
                ATRIUM_DATA_DIR="$tmp/data"
                ATRIUM_POOL_SIZE="$POOL_SIZE"
                ATRIUM_DRAIN_TIMEOUT=5
        )
}
atriumd_env() { env "${ATRIUMD_ENV[@]}" "$@"; }

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

# wrk_run URL SECONDS: one wrk run with the bench's threads, connections and headers.
wrk_run() {
        local url=$1 seconds=$2 args=()
        for h in "${API_HEADERS[@]}"; do args+=(-H "$h"); done
        wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${seconds}s" --latency "${args[@]}" "$url"
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

# pgbench output -> "tps latency_avg_ms failed"
pgbench_parse() {
        awk '
        /^tps = /                           { tps = $3 }
        /^latency average = /               { lat = $4 }
        /^number of failed transactions: /  { failed = $5 }
        END { printf "%.0f %.2f %d\n", tps, lat, failed }' "$1"
}

fmt_int() { printf '%d' "$1" | sed -e :a -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e ta; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# ---- CPU accounting: is anyone else using these cores? -----------------------------------
#
# The three figures are only comparable if the loads had the machine to themselves. cpu_mark
# records the busy time (user + nice + system, in clock ticks) of the whole machine and of the
# bench's own processes: this script (whose cutime/cstime collect wrk, pgbench and curl once
# they are waited for), atriumd, nginx and the PostgreSQL cluster (the postmaster's cutime
# collects its exited backends). cpu_report turns two marks into "ours% other%" of all cores.
# Interrupt time is left out of both: loopback traffic is mostly softirq, charged to no process.
bench_pids() {
        local pm=""
        echo "$$"
        [[ -n $atriumd_pid ]] && echo "$atriumd_pid"
        if [[ -n $nginx_pid ]]; then
                echo "$nginx_pid"
                pgrep -P "$nginx_pid" || true
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

# ---- teardown: runs on every exit --------------------------------------------------------

tmp=""
pg_started=0
atriumd_pid=""
nginx_pid=""
cleanup() {
        local rc=$?
        set +e
        trap - EXIT INT TERM
        [[ -n $nginx_pid ]] && stop_pid "$nginx_pid" 5
        [[ -n $atriumd_pid ]] && stop_pid "$atriumd_pid" 10
        if ((pg_started)); then
                as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -m fast -w -t 30 stop >/dev/null 2>&1
        fi
        if ((rc != 0)) && [[ -n $tmp ]]; then
                for f in "$tmp/atriumd.log" "$tmp/pg/postgres.log" "$tmp/nginx/error.log"; do
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

# ---- preflight -------------------------------------------------------------------------------

for c in wrk nginx curl jq ss awk meson ninja; do
        command -v "$c" >/dev/null || die "$c not found (Debian: apt-get install wrk nginx-light curl jq iproute2 meson ninja-build)"
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

# ---- build -----------------------------------------------------------------------------------

if [[ ! -f $BUILD_DIR/build.ninja ]]; then
        say "configuring $BUILD_DIR"
        meson setup "$BUILD_DIR" "$repo" >/dev/null
fi
say "building (ninja -C $BUILD_DIR)"
ninja -C "$BUILD_DIR" >/dev/null || die "build failed: run ninja -C $BUILD_DIR to see why"
atriumd=$BUILD_DIR/core/atriumd
[[ -x $atriumd ]] || die "no $atriumd after the build"

tmp=$(mktemp -d /tmp/atrium-bench.XXXXXX)
# postgres and nginx's workers (nobody) must be able to enter it.
chmod 0755 "$tmp"
mkdir -p "$tmp/pg" "$tmp/data" "$tmp/nginx" "$tmp/www"
((EUID == 0)) && chown postgres: "$tmp/pg"

# ---- PostgreSQL ------------------------------------------------------------------------------

say "starting PostgreSQL ($pgbin)"
as_pg "$pgbin/initdb" -D "$tmp/pg/data" -A trust -U atrium -E UTF8 --locale=C >/dev/null
pg_port=$(free_port)
cat >>"$tmp/pg/data/postgresql.conf" <<EOF

# bench/run.sh
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$tmp/pg'
shared_buffers = 256MB
max_connections = 200
# fsync and synchronous_commit stay on: the API route only reads, and the one write load
# here is pgbench's initialisation, which is not measured.
EOF
as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/postgres.log" -w -t 60 start >/dev/null
pg_started=1
pg_version=$(psql_admin -d postgres -Atc 'SHOW server_version')
psql_admin -d postgres -c 'CREATE DATABASE atrium' -c 'CREATE DATABASE pgbench'

# ---- atriumd ---------------------------------------------------------------------------------

api_port=$(free_port)
api_url="http://127.0.0.1:$api_port"
say "starting atriumd on $api_url (pool size $POOL_SIZE)"
# Its one log line per request goes to a file, as it would go to the journal in production.
atriumd_env_vars
env "${ATRIUMD_ENV[@]}" "$atriumd" serve >"$tmp/atriumd.log" 2>&1 &
atriumd_pid=$!
for ((i = 0; ; i++)); do
        kill -0 "$atriumd_pid" 2>/dev/null || die "atriumd exited during start"
        [[ $(curl -s -o /dev/null -w '%{http_code}' "$api_url/readyz") == 200 ]] && break
        ((i < 300)) || die "atriumd not ready after 30 s"
        sleep 0.1
done

say "creating the school, its reader and $NOTICES notices"
setup_school_and_data
[[ -n $API_PATH ]] || die "setup_school_and_data set no API_PATH"

curl_hdr=()
for h in "${API_HEADERS[@]}"; do curl_hdr+=(-H "$h"); done
status=$(curl -sS -o "$tmp/api-body.json" -w '%{http_code}' "${curl_hdr[@]}" "$api_url$API_PATH")
case $status in
200) ;;
401 | 403) die "GET $API_PATH answered $status: the route wants other credentials; see setup_school_and_data()" ;;
*) die "GET $API_PATH answered $status: $(head -c 300 "$tmp/api-body.json")" ;;
esac
body_bytes=$(wc -c <"$tmp/api-body.json")
items=$(jq -r '.items | length' "$tmp/api-body.json" 2>/dev/null || echo "?")
# wrk would count a 4xx per request without stopping; a route that cannot answer is no result.
[[ $items =~ ^[1-9][0-9]*$ ]] || die "GET $API_PATH returned no items: $(head -c 300 "$tmp/api-body.json")"

say "initialising pgbench (scale $PGBENCH_SCALE)"
"$pgbin/pgbench" -h 127.0.0.1 -p "$pg_port" -U atrium -i -q -s "$PGBENCH_SCALE" pgbench \
        >"$tmp/pgbench-init.log" 2>&1 || die "pgbench -i failed: $(tail -n 3 "$tmp/pgbench-init.log")"
# Write out what the set-up dirtied now, not during a measurement.
psql_admin -d postgres -c 'CHECKPOINT'

# ---- nginx -----------------------------------------------------------------------------------

# The static file sits at the same path as the API route, so both wrk runs send identical
# requests; nginx ignores the query string.
static_path=${API_PATH%%\?*}
mkdir -p "$tmp/www$(dirname "$static_path")"
cp "$tmp/api-body.json" "$tmp/www$static_path"
chmod -R a+rX "$tmp/www"

nginx_port=$(free_port)
static_url="http://127.0.0.1:$nginx_port$API_PATH"
cat >"$tmp/nginx/nginx.conf" <<EOF
# bench/run.sh: nginx as a reference static-file server.
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
    # One log line per request, as atriumd writes one.
    access_log $tmp/nginx/access.log;
    sendfile on;
    tcp_nopush on;
    # wrk keeps its connections for the whole run, as it does with atriumd; nginx's default
    # (close after 1000 requests) would add reconnects atriumd does not have.
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$nginx_port;
        root $tmp/www;
        default_type application/json;
        location / { try_files \$uri =404; }
    }
}
EOF
say "starting nginx on 127.0.0.1:$nginx_port"
nginx -p "$tmp/nginx/" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" &
nginx_pid=$!
for ((i = 0; ; i++)); do
        kill -0 "$nginx_pid" 2>/dev/null || die "nginx exited during start"
        curl -s -o "$tmp/static-body.json" "${curl_hdr[@]}" "$static_url" && break
        ((i < 100)) || die "nginx not answering after 10 s"
        sleep 0.1
done
cmp -s "$tmp/api-body.json" "$tmp/static-body.json" || die "nginx does not serve the API's body"

# ---- the three loads, one after the other --------------------------------------------------

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$BENCH_OUT/$stamp
mkdir -p "$out"

say "API: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${DURATION}s $API_PATH (warm-up ${WARMUP}s)"
((WARMUP > 0)) && wrk_run "$api_url$API_PATH" "$WARMUP" >/dev/null
m0=$(cpu_mark)
wrk_run "$api_url$API_PATH" "$DURATION" | tee "$out/api.wrk.txt" >&2
read -r api_cpu api_other < <(cpu_report "$m0" "$(cpu_mark)")

# Sign-in: every request hashes a password with Argon2id (19 MiB, t=2) on the slow pool, so
# this measures how many people can sign in per second, not HTTP. 8 connections are plenty to
# keep the slow workers busy.
say "login: wrk -t$WRK_THREADS -c8 -d${DURATION}s POST /api/v1/auth/login"
cat >"$tmp/login.lua" <<'LUA'
wrk.method = "POST"
wrk.body = os.getenv("LOGIN_BODY")
wrk.headers["Content-Type"] = "application/json"
LUA
m0=$(cpu_mark)
LOGIN_BODY=$LOGIN_BODY wrk -t"$WRK_THREADS" -c8 -d"${DURATION}s" --latency -s "$tmp/login.lua" \
        "$api_url/api/v1/auth/login" | tee "$out/login.wrk.txt" >&2
read -r login_cpu login_other < <(cpu_report "$m0" "$(cpu_mark)")

say "PostgreSQL: pgbench -S -M prepared -c$PGBENCH_CLIENTS -j$PGBENCH_JOBS -T$DURATION (warm-up ${WARMUP}s)"
pgb=("$pgbin/pgbench" -h 127.0.0.1 -p "$pg_port" -U atrium -S -M prepared
     -c "$PGBENCH_CLIENTS" -j "$PGBENCH_JOBS" -n)
((WARMUP > 0)) && "${pgb[@]}" -T "$WARMUP" pgbench >/dev/null 2>&1
m0=$(cpu_mark)
"${pgb[@]}" -T "$DURATION" pgbench 2>&1 | tee "$out/pgbench.txt" >&2
read -r pg_cpu pg_other < <(cpu_report "$m0" "$(cpu_mark)")

say "nginx: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${DURATION}s static file (warm-up ${WARMUP}s)"
((WARMUP > 0)) && wrk_run "$static_url" "$WARMUP" >/dev/null
m0=$(cpu_mark)
wrk_run "$static_url" "$DURATION" | tee "$out/nginx.wrk.txt" >&2
read -r ngx_cpu ngx_other < <(cpu_report "$m0" "$(cpu_mark)")

# ---- results ---------------------------------------------------------------------------------

read -r api_rps api_p50 api_p99 api_bad api_err _ < <(wrk_parse "$out/api.wrk.txt")
read -r ngx_rps ngx_p50 ngx_p99 ngx_bad ngx_err _ < <(wrk_parse "$out/nginx.wrk.txt")
read -r login_rps login_p50 login_p99 login_bad login_err _ < <(wrk_parse "$out/login.wrk.txt")
read -r pg_tps pg_lat pg_failed < <(pgbench_parse "$out/pgbench.txt")
r_nginx=$(ratio "$api_rps" "$ngx_rps")
r_pg=$(ratio "$api_rps" "$pg_tps")

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -n $(git -C "$repo" status --porcelain -- core api plugins examples schema 2>/dev/null) ]] &&
        commit="$commit + uncommitted changes"
buildtype=$(jq -r '.[] | select(.name == "buildtype") | .value' \
        "$BUILD_DIR/meson-info/intro-buildoptions.json" 2>/dev/null || echo "?")

{
        printf '\n%-32s %10s %10s %10s %7s %6s %6s\n' "load" "req/s|tps" "p50 ms" "p99 ms" "errors" "cpu%" "other%"
        printf '%-32s %10s %10s %10s %7s %6s %6s\n' "atriumd API (wrk)" "$(fmt_int "$api_rps")" "$api_p50" "$api_p99" "$((api_bad + api_err))" "$api_cpu" "$api_other"
        printf '%-32s %10s %10s %10s %7s %6s %6s\n' "sign-in, Argon2id (wrk -c8)" "$(fmt_int "$login_rps")" "$login_p50" "$login_p99" "$((login_bad + login_err))" "$login_cpu" "$login_other"
        printf '%-32s %10s %10s %10s %7s %6s %6s\n' "nginx static, same body (wrk)" "$(fmt_int "$ngx_rps")" "$ngx_p50" "$ngx_p99" "$((ngx_bad + ngx_err))" "$ngx_cpu" "$ngx_other"
        printf '%-32s %10s %10s %10s %7s %6s %6s\n' "pgbench -S -M prepared" "$(fmt_int "$pg_tps")" "avg $pg_lat" "-" "$pg_failed" "$pg_cpu" "$pg_other"
        printf '(cpu%%: the bench'"'"'s own processes, other%%: everything else, both in %% of all %s cores)\n' "$(nproc)"
        printf '\nAPI / nginx static = %s    API / pgbench -S = %s\n\n' "$r_nginx" "$r_pg"
} | tee "$out/table.txt"

max_other=$(printf '%s\n' "$api_other" "$pg_other" "$ngx_other" | sort -n | tail -n 1)
disturbed=""
if ((max_other > 5)); then
        disturbed="**Disturbed run:** other processes used up to ${max_other}% of the cores during a measured load; these figures understate the machine."
        say "warning: other processes used up to ${max_other}% of the cores during the loads"
fi

cat >"$out/results.md" <<EOF
### $(date -u '+%Y-%m-%d %H:%M UTC') - atriumd $commit

\`$(printf 'DURATION=%s ATRIUM_POOL_SIZE=%s bench/run.sh' "$DURATION" "$POOL_SIZE")\` - each load ${DURATION} s after a ${WARMUP} s warm-up, one after the other, all on the same machine:
$(nproc) × $cpu, $mem RAM, Linux $(uname -r), PostgreSQL $pg_version, $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(wrk -v 2>&1 | head -n 1 | awk '{ print "wrk " $2 }'), atriumd build type \`$buildtype\`, pool size $POOL_SIZE. Load average before: $load_before.

| load | command | req/s or tps | p50 | p99 | errors | CPU, bench | CPU, other |
|---|---|---:|---:|---:|---:|---:|---:|
| atriumd \`GET $API_PATH\` ($items items, $body_bytes bytes) | \`wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${DURATION}s --latency\` | $(fmt_int "$api_rps") | $api_p50 ms | $api_p99 ms | $((api_bad + api_err)) | $api_cpu % | $api_other % |
| atriumd \`POST /api/v1/auth/login\` (Argon2id, slow pool) | \`wrk -t$WRK_THREADS -c8 -d${DURATION}s --latency\` | $(fmt_int "$login_rps") | $login_p50 ms | $login_p99 ms | $((login_bad + login_err)) | $login_cpu % | $login_other % |
| nginx, static file with the same body | \`wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${DURATION}s --latency\` | $(fmt_int "$ngx_rps") | $ngx_p50 ms | $ngx_p99 ms | $((ngx_bad + ngx_err)) | $ngx_cpu % | $ngx_other % |
| PostgreSQL, one \`SELECT\` per transaction | \`pgbench -S -M prepared -c$PGBENCH_CLIENTS -j$PGBENCH_JOBS -T$DURATION\` (scale $PGBENCH_SCALE) | $(fmt_int "$pg_tps") | avg $pg_lat ms | - | $pg_failed | $pg_cpu % | $pg_other % |

API / nginx static = **$r_nginx**; API / pgbench -S = **$r_pg**. CPU columns: share of all $(nproc) cores' time used by the bench's own processes and by everything else, interrupts excluded.
${disturbed}
EOF
say "raw output and results.md in $out"
cat "$out/results.md"

if ((api_bad + api_err + login_bad + login_err + ngx_bad + ngx_err + pg_failed > 0)); then
        die "some requests failed (see the errors column): these figures are not valid"
fi
