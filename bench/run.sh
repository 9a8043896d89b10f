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
# ATRIUM_POOL_SIZE (8), WRK_THREADS (2), WRK_CONNECTIONS (64), WRK_TIMEOUT (unset: wrk's 2 s),
# PGBENCH_CLIENTS (32), PGBENCH_JOBS (2), PGBENCH_SCALE (10), NOTICES (1000), ATRIUM_BUILD_DIR
# (build), PG_BINDIR, BENCH_OUT (bench/out), KEEP_TMP=1 (keep the temp dir and its logs).
# The helpers, the teardown and the start-up of the cluster and atriumd are bench/lib.sh's.
#
# Not a test: it measures time, so it never runs from meson test or CI.

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
NOTICES=${NOTICES:-1000}
BENCH_OUT=${BENCH_OUT:-$repo/bench/out}
# Helpers, teardown and start-up shared with the other bench scripts; it reads the other knobs.
# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"

# What the API load requests. setup_school_and_data() below sets both; wrk, curl and the
# nginx run all use them, so switching to an authenticated route changes nothing else.
API_PATH=""      # path and query, e.g. /api/v1/schools/demo/noticeboard/notices
API_HEADERS=()   # "Name: value" each, e.g. "Authorization: Bearer ..."
LOGIN_BODY=""    # JSON body of a valid sign-in, for the login load (Argon2id-bound)

# ============================================================================================
# SETUP OF THE SCHOOL AND ITS DATA - the one place that decides what the API load requests.
#
# Runs after atriumd is ready and before any measurement, and must set API_PATH and
# API_HEADERS. Helpers: bench_operator (sets op), sign_in, api (REST call, fails loudly),
# psql_admin (superuser `atrium`), atriumd_env "$atriumd" ... (a CLI command against the
# bench's database).
#
# The route is the noticeboard list as a signed-in student reads it: the session token from
# POST /api/v1/auth/login, sent as "Authorization: Bearer", so every measured request pays
# for authentication (token lookup, roles and permissions) inside its transaction. The
# school, its module and its user are created through the REST API as an operator would;
# the 1,000 notices go in with one SQL INSERT, since that many POSTs would only slow the
# set-up down.
# ============================================================================================
setup_school_and_data() {
        local user_pw user
        user_pw=$(new_password)
        bench_operator

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

        user=$(sign_in demo reader "$user_pw")

        API_PATH="/api/v1/schools/demo/noticeboard/notices"
        API_HEADERS=("Authorization: Bearer $user")
        LOGIN_BODY=$(jq -nc --arg p "$user_pw" '{school: "demo", username: "reader", password: $p}')
}

# ---- preflight, build, temp dir --------------------------------------------------------------

bench_preflight wrk nginx curl jq ss awk meson ninja timeout
bench_build
bench_tmp atrium-bench
mkdir -p "$tmp/nginx" "$tmp/www"

# ---- PostgreSQL and atriumd -------------------------------------------------------------------

# fsync and synchronous_commit stay on: the API route only reads, and the one write load here is
# pgbench's initialisation, which is not measured.
start_pg "bench/run.sh"
start_atriumd "(pool size $POOL_SIZE)"

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

pgbench_init

# ---- nginx -----------------------------------------------------------------------------------

# The static file sits at the same path as the API route, so both wrk runs send identical
# requests; nginx ignores the query string.
static_path=${API_PATH%%\?*}
mkdir -p "$tmp/www$(dirname "$static_path")"
cp "$tmp/api-body.json" "$tmp/www$static_path"

start_nginx "$tmp/www" application/json
static_url="http://127.0.0.1:$nginx_port$API_PATH"
curl -sS -o "$tmp/static-body.json" "${curl_hdr[@]}" "$static_url" || die "nginx does not answer"
cmp -s "$tmp/api-body.json" "$tmp/static-body.json" || die "nginx does not serve the API's body"

# ---- the three loads, one after the other --------------------------------------------------

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$BENCH_OUT/$stamp
mkdir -p "$out"

say "API: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${DURATION}s $API_PATH (warm-up ${WARMUP}s)"
((WARMUP > 0)) && wrk_run "$WARMUP" "$api_url$API_PATH" "${curl_hdr[@]}" >/dev/null
m0=$(cpu_mark)
wrk_run "$DURATION" "$api_url$API_PATH" "${curl_hdr[@]}" | tee "$out/api.wrk.txt" >&2
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
LOGIN_BODY=$LOGIN_BODY WRK_CONNECTIONS=8 wrk_run "$DURATION" "$api_url/api/v1/auth/login" \
        -s "$tmp/login.lua" | tee "$out/login.wrk.txt" >&2
read -r login_cpu login_other < <(cpu_report "$m0" "$(cpu_mark)")

pgbench_ceiling "$out/pgbench.txt"

say "nginx: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${DURATION}s static file (warm-up ${WARMUP}s)"
((WARMUP > 0)) && wrk_run "$WARMUP" "$static_url" "${curl_hdr[@]}" >/dev/null
m0=$(cpu_mark)
wrk_run "$DURATION" "$static_url" "${curl_hdr[@]}" | tee "$out/nginx.wrk.txt" >&2
read -r ngx_cpu ngx_other < <(cpu_report "$m0" "$(cpu_mark)")

# ---- results ---------------------------------------------------------------------------------

read -r api_rps api_p50 api_p99 api_bad api_err _ < <(wrk_parse "$out/api.wrk.txt")
read -r ngx_rps ngx_p50 ngx_p99 ngx_bad ngx_err _ < <(wrk_parse "$out/nginx.wrk.txt")
read -r login_rps login_p50 login_p99 login_bad login_err _ < <(wrk_parse "$out/login.wrk.txt")
r_nginx=$(ratio "$api_rps" "$ngx_rps")
r_pg=$(ratio "$api_rps" "$pg_tps")

describe_machine core api plugins examples schema

{
        printf '\n%-32s %10s %10s %10s %7s %6s %6s\n' "load" "req/s|tps" "p50 ms" "p99 ms" "errors" "cpu%" "other%"
        printf '%-32s %10s %10s %10s %7s %6s %6s\n' "atriumd API (wrk)" "$(fmt_int "$api_rps")" "$api_p50" "$api_p99" "$((api_bad + api_err))" "$api_cpu" "$api_other"
        printf '%-32s %10s %10s %10s %7s %6s %6s\n' "sign-in, Argon2id (wrk -c8)" "$(fmt_int "$login_rps")" "$login_p50" "$login_p99" "$((login_bad + login_err))" "$login_cpu" "$login_other"
        printf '%-32s %10s %10s %10s %7s %6s %6s\n' "nginx static, same body (wrk)" "$(fmt_int "$ngx_rps")" "$ngx_p50" "$ngx_p99" "$((ngx_bad + ngx_err))" "$ngx_cpu" "$ngx_other"
        printf '%-32s %10s %10s %10s %7s %6s %6s\n' "pgbench -S -M prepared" "$(fmt_int "$pg_tps")" "avg $pg_lat" "-" "$pg_failed" "$pg_cpu" "$pg_other"
        printf '(cpu%%: the bench'"'"'s own processes, other%%: everything else, both in %% of all %s cores)\n' "$(nproc)"
        printf '\nAPI / nginx static = %s    API / pgbench -S = %s\n\n' "$r_nginx" "$r_pg"
} | tee "$out/table.txt"

disturbed=$(disturbed_note 5 "$api_other" "$pg_other" "$ngx_other")

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
