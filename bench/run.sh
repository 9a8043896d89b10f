#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/run.sh - one command for the request path's loads of issue #14, each next to a ceiling
# measured in the same run on the same machine, one line per load with its ratio beside its
# goal:
#   GET /healthz (-c64)            over nginx serving a 100-byte static file    goal >= 0.6
#   GET /api/v1/me, student (-c32) over pgbench -S -M prepared -c32             goal >= 0.5
#   the 50-notice list (-c64)      over pgbench -S -M prepared -c64             goal >= 0.3
#   PostgreSQL's CPU per /me       over its CPU per pgbench -S transaction      goal <= 2
# plus nginx serving the list's very bytes, sign-in and the sign-in storm over raw Argon2id,
# and a second host's start-up and idle RSS. The other loads of the issue have their own
# scripts (bench/conference, bench/files).
# It builds atriumd if needed, starts a private PostgreSQL cluster, atriumd and nginx on free
# loopback ports in a temp dir, prints a table and a Markdown fragment for bench/RESULTS.md,
# and tears everything down on exit, also on failure or Ctrl-C. See bench/README.md.
#
# Knobs (environment): DURATION (15 s per load), WARMUP (3 s, unmeasured, before each load),
# ATRIUM_POOL_SIZE (2 per core), WRK_THREADS (2), WRK_CONNECTIONS (64), WRK_TIMEOUT (unset: wrk's 2 s),
# PGBENCH_CLIENTS (32), PGBENCH_JOBS (2), PGBENCH_SCALE (10), NOTICES (1000), ATRIUM_BUILD_DIR
# (build), PG_BINDIR, BENCH_OUT (bench/out), KEEP_TMP=1 (keep the temp dir and its logs),
# BENCH_HOLD=1 (set everything up, write $tmp/hold.env, measure nothing and wait: for perf).
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

# BENCH_HOLD=1: stop here with everything running, for profiling by hand (perf, pg_stat_statements).
if [[ ${BENCH_HOLD:-0} == 1 ]]; then
        {
                printf 'api_url=%q\npg_port=%q\napi_path=%q\natriumd_pid=%q\n' "$api_url" "$pg_port" \
                        "$API_PATH" "$atriumd_pid"
                printf 'auth=%q\n' "${API_HEADERS[0]}"
                printf 'login_body=%q\n' "$LOGIN_BODY"
        } >"$tmp/hold.env"
        say "holding: source $tmp/hold.env; Ctrl-C (or kill $$) tears everything down"
        while :; do sleep 3600; done
fi

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

# ---- the loads, one after the other -------------------------------------------------------

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$BENCH_OUT/$stamp
mkdir -p "$out"

# A 100-byte static file for the /healthz ceiling (issue #14: nginx, 2 workers, 100 B).
head -c 100 /dev/zero | tr '\0' 'x' >"$tmp/www/hundred.txt"
me_hdr=("${curl_hdr[@]}")

# us MS: milliseconds (split_report) as whole microseconds.
us() { awk -v m="$1" 'BEGIN { printf "%.0f", m * 1000 }'; }

# load NAME SECONDS URL [wrk args]: warm-up, then one measured wrk run into $out/NAME.wrk.txt;
# sets NAME_rps NAME_p50 NAME_p99 NAME_errors NAME_cpu NAME_other, and NAME_at_ms NAME_pg_ms
# (atriumd's and PostgreSQL's CPU per request, split_report).
load() {
        local name=$1 url=$3 m0 s0 s1 rps p50 p99 bad err n
        shift 3
        wait_quiet "$name"
        say "$name: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${DURATION}s $url"
        ((WARMUP > 0)) && wrk_run "$WARMUP" "$url" "$@" >/dev/null
        m0=$(cpu_mark)
        s0=$(split_mark)
        measure "$out/$name.wrk.txt" wrk_run "$DURATION" "$url" "$@"
        s1=$(split_mark)
        read -r "${name}_cpu" "${name}_other" < <(cpu_report "$m0" "$(cpu_mark)")
        read -r rps p50 p99 bad err n < <(wrk_parse "$out/$name.wrk.txt")
        read -r "${name}_at_ms" "${name}_pg_ms" < <(split_report "$s0" "$s1" "$n")
        printf -v "${name}_rps" '%s' "$rps"
        printf -v "${name}_p50" '%s' "$p50"
        printf -v "${name}_p99" '%s' "$p99"
        printf -v "${name}_errors" '%s' "$((bad + err))"
}

# pg_load NAME CLIENTS: the pgbench -S -M prepared ceiling with CLIENTS clients over TCP.
pg_load() {
        local name=$1
        wait_quiet "$name"
        PGBENCH_CLIENTS=$2 pgbench_ceiling "$out/$name.txt"
        printf -v "${name}_rps" '%s' "$pg_tps"
        printf -v "${name}_p50" '%s' "avg $pg_lat"
        printf -v "${name}_p99" '%s' "-"
        printf -v "${name}_errors" '%s' "$pg_failed"
        printf -v "${name}_cpu" '%s' "$pg_cpu"
        printf -v "${name}_other" '%s' "$pg_other"
        read -r _ "${name}_pg_ms" < <(split_report "$pg_split0" "$pg_split1" "$pg_n")
}

# Each ceiling is measured right before its load and again right after it, and the ratio is
# taken over the mean of the two: this VM's speed drifts by tens of percent within minutes
# (RESULTS), and a ceiling from one side only put that drift into the ratio. How far the two
# sides differ is printed with the table; past 10 % the run is called unsteady.
WRK_CONNECTIONS=64 load nginx100 "$DURATION" "http://127.0.0.1:$nginx_port/hundred.txt"
WRK_CONNECTIONS=64 load healthz "$DURATION" "$api_url/healthz"
WRK_CONNECTIONS=64 load nginx100b "$DURATION" "http://127.0.0.1:$nginx_port/hundred.txt"
pg_load pg32 32
WRK_CONNECTIONS=32 load me "$DURATION" "$api_url/api/v1/me" "${me_hdr[@]}"
pg_load pg32b 32
pg_load pg64 64
WRK_CONNECTIONS=64 load list "$DURATION" "$api_url$API_PATH" "${curl_hdr[@]}"
pg_load pg64b 64
WRK_CONNECTIONS=64 load nginxlist "$DURATION" "$static_url" "${curl_hdr[@]}"

# Sign-in's ceiling: Argon2id's raw rate on the same cores (bench/tools/argon2-rate.c:
# atriumd's parameters, one thread per core), measured right before the sign-in load, so
# that this VM's drift from minute to minute (57-116 hashes/s over the runs in RESULTS) does
# not enter the ratio as it did while the storm ran between the two.
wait_quiet "argon2"
cc -O2 -o "$tmp/argon2-rate" "$repo/bench/tools/argon2-rate.c" \
        $(pkg-config --cflags --libs libgcrypt) -lpthread || die "cannot build argon2-rate"
# argon2_raw NAME: the raw rate into NAME_rps (and its CPU columns).
argon2_raw() {
        local m0
        wait_quiet "argon2"
        m0=$(cpu_mark)
        printf -v "${1}_rps" '%s' "$("$tmp/argon2-rate" "$DURATION" "$(nproc)")"
        read -r "${1}_cpu" "${1}_other" < <(cpu_report "$m0" "$(cpu_mark)")
        printf -v "${1}_p50" '%s' "-"
        printf -v "${1}_p99" '%s' "-"
        printf -v "${1}_errors" '%s' 0
        local rps=${1}_rps
        say "argon2id raw: ${!rps} hashes/s on $(nproc) threads"
}
argon2_raw argon2

# Sign-in: every request hashes a password with Argon2id (19 MiB, t=2) on the slow pool, so
# this measures how many people can sign in per second, not HTTP. 8 connections are plenty to
# keep the slow workers busy.
cat >"$tmp/login.lua" <<'LUA'
wrk.method = "POST"
wrk.body = os.getenv("LOGIN_BODY")
wrk.headers["Content-Type"] = "application/json"
LUA
LOGIN_BODY=$LOGIN_BODY WRK_CONNECTIONS=8 load login "$DURATION" "$api_url/api/v1/auth/login" \
        -s "$tmp/login.lua"
argon2_raw argon2b

# The sign-in storm: the same sign-ins while students read /me, against the raw rate above.
wait_quiet "storm"
say "storm: sign-ins (-c8) and /me reads (-c32) at once, ${DURATION}s"
m0=$(cpu_mark)
LOGIN_BODY=$LOGIN_BODY WRK_CONNECTIONS=8 wrk_run "$DURATION" "$api_url/api/v1/auth/login" \
        -s "$tmp/login.lua" >"$out/storm-login.wrk.txt" 2>&1 &
storm_pid=$!
WRK_CONNECTIONS=32 wrk_run "$DURATION" "$api_url/api/v1/me" "${me_hdr[@]}" >"$out/storm-me.wrk.txt" 2>&1
wait "$storm_pid" || true
read -r storm_cpu storm_other < <(cpu_report "$m0" "$(cpu_mark)")
read -r storm_rps _ storm_login_p99 sb se _ < <(wrk_parse "$out/storm-login.wrk.txt")
read -r storm_me_rps _ storm_p99 mb me_err _ < <(wrk_parse "$out/storm-me.wrk.txt")
storm_p99_ratio=$(RATIO_DIGITS=2 ratio "$storm_p99" "$me_p99")
# The storm runs after the sign-in load: its ceiling is the raw rate measured just before it.
argon2b_rps_for_storm=$argon2b_rps
storm_errors=$((sb + se + mb + me_err))

# Start-up: a second host on the migrated database, every in-tree plugin, from exec to
# /readyz answering 200, then its resident memory after a second idle. The poll (every 2 ms)
# starts no process (http_ok, nap): a curl started every few milliseconds costs about as much
# CPU as atriumd's own start-up on these two cores, and was counted in the figure until
# 2026-12-05.
startup_port=$(free_port)
t0=${EPOCHREALTIME/./}
ATRIUMD_EXTRA_ENV=(ATRIUM_LISTEN="127.0.0.1:$startup_port")
ATRIUMD_EXEC=1 atriumd_env "$atriumd" serve >>"$tmp/atriumd-startup.log" 2>&1 &
startup_pid=$!
ATRIUMD_EXTRA_ENV=()
for ((i = 0; i < 15000; i++)); do
        http_ok "$startup_port" /readyz && break
        kill -0 "$startup_pid" 2>/dev/null || die "the second atriumd exited: $(tail -n 3 "$tmp/atriumd-startup.log")"
        nap 0.002
done
startup_ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
sleep 1
startup_rss_kib=$(awk '/^VmRSS/ { print $2 }' "/proc/$startup_pid/status")
stop_pid "$startup_pid" 10
say "start-up: ready after $startup_ms ms, idle RSS $startup_rss_kib KiB"

# ---- results ---------------------------------------------------------------------------------

describe_machine core api plugins examples schema
RATIO_DIGITS=3

# bracket NAME: NAMEm_rps, the mean of the ceiling before (NAME) and after (NAMEb) its load,
# the one the ratio is taken over; NAME_drift the change from before to after, in %.
unsteady=()
bracket() {
        local a=${1}_rps b=${1}b_rps
        printf -v "${1}m_rps" '%s' "$(awk -v a="${!a}" -v b="${!b}" 'BEGIN { printf "%.0f", (a + b) / 2 }')"
        printf -v "${1}_drift" '%s' "$(awk -v a="${!a}" -v b="${!b}" 'BEGIN { printf "%+.0f", (a > 0 ? 100 * (b - a) / a : 0) }')"
        local d=${1}_drift
        if awk -v d="${!d}" 'BEGIN { exit !(d > 10 || d < -10) }'; then
                unsteady+=("$1 ${!a} -> ${!b} (${!d} %)")
        fi
}
for c in nginx100 pg32 pg64 argon2; do bracket "$c"; done

# line LABEL NAME CEILING GOAL: one row of the table, its ratio to CEILING beside GOAL.
rows=()
line() {
        local label=$1 name=$2 ceiling=$3 goal=$4 r met="-" rps p99 err cpu other
        rps=${name}_rps p99=${name}_p99 err=${name}_errors cpu=${name}_cpu other=${name}_other
        r="-"
        if [[ -n $ceiling ]]; then
                local c=${ceiling}_rps
                r=$(ratio "${!rps}" "${!c}")
                met=$(awk -v r="$r" -v g="$goal" 'BEGIN { print (r + 0 >= g + 0) ? "yes" : "no" }')
        fi
        printf '%-34s %10s %9s %8s %6s %6s %6s %6s %6s\n' "$label" "$(fmt_int "${!rps}")" "${!p99}" \
                "${!err}" "$r" "${goal:--}" "$met" "${!cpu}" "${!other}"
        rows+=("| $label | $(fmt_int "${!rps}") | ${!p99} ms | ${!err} | ${ceiling:+**$r**} | ${goal:--} | $met | ${!cpu} % | ${!other} % |")
}

{
        printf '\n%-34s %10s %9s %8s %6s %6s %6s %6s %6s\n' "load" "req/s|tps" "p99 ms" "errors" \
                "ratio" "goal" "met" "cpu%" "other%"
        line "nginx, 100 B static (-c64)" nginx100 "" ""
        line "GET /healthz (-c64)" healthz nginx100m 0.6
        line "nginx, 100 B static, after" nginx100b "" ""
        line "pgbench -S -M prepared -c32" pg32 "" ""
        line "GET /api/v1/me, student (-c32)" me pg32m 0.5
        line "pgbench -S -M prepared -c32, after" pg32b "" ""
        # Issue #14: a /me should cost PostgreSQL within 2x of one pgbench -S transaction.
        me_pg_ratio=$(RATIO_DIGITS=2 ratio "$me_pg_ms" "$pg32_pg_ms")
        me_pg_met=$(awk -v r="$me_pg_ratio" 'BEGIN { print (r + 0 > 0 && r + 0 <= 2) ? "yes" : "no" }')
        printf '%-34s %10s %9s %8s %6s %6s %6s\n' "  PostgreSQL CPU, /me over -S tx" \
                "$(us "$me_pg_ms")/$(us "$pg32_pg_ms")" "" "" "$me_pg_ratio" "<= 2" "$me_pg_met"
        printf '%-34s %10s\n' "  atriumd CPU per /me, us" "$(us "$me_at_ms")"
        line "pgbench -S -M prepared -c64" pg64 "" ""
        line "GET 50-notice list (-c64)" list pg64m 0.3
        line "pgbench -S -M prepared -c64, after" pg64b "" ""
        line "nginx, the list's bytes (-c64)" nginxlist "" ""
        line "argon2id raw, one thread per core" argon2 "" ""
        line "sign-in, Argon2id (-c8)" login argon2m 0.9
        line "argon2id raw, after" argon2b "" ""
        storm_ratio=$(ratio "$storm_rps" "$argon2b_rps_for_storm")
        storm_met=$(awk -v r="$storm_ratio" -v p="$storm_p99_ratio" 'BEGIN { print (r >= 0.9 && p < 2) ? "yes" : "no" }')
        printf '%-34s %10s %9s %8s %6s %6s %6s %6s %6s\n' "sign-in storm with /me reads" \
                "$(fmt_int "$storm_rps")" "$storm_login_p99" "$storm_errors" "$storm_ratio" 0.9 "$storm_met" \
                "$storm_cpu" "$storm_other"
        printf '%-34s %10s %9s %8s %6s %6s\n' "  its reads' p99 / unloaded p99" "$(fmt_int "$storm_me_rps")" \
                "$storm_p99" "" "$storm_p99_ratio" "< 2"
        printf '%-34s %10s %9s %8s %6s %6s %6s\n' "start-up to /readyz, ms" "$startup_ms" "" "" "" "< 100" \
                "$( ((startup_ms < 100)) && echo yes || echo no)"
        printf '%-34s %10s %9s %8s %6s %6s %6s\n' "idle RSS after start-up, KiB" "$startup_rss_kib" "" "" "" \
                "< 20480" "$( ((startup_rss_kib < 20480)) && echo yes || echo no)"
        printf '(ratio: req/s over the mean of the ceiling named in bench/README.md before and after the load; cpu%%: the bench'"'"'s own processes, other%%: everything else, in %% of all %s cores)\n' "$(nproc)"
        printf 'ceilings before -> after their load: nginx %s%%, pgbench -c32 %s%%, -c64 %s%%, Argon2id %s%%\n' \
                "$nginx100_drift" "$pg32_drift" "$pg64_drift" "$argon2_drift"
} >"$out/table.txt" # not a pipe: line() collects the Markdown rows in this shell
cat "$out/table.txt" >&2

disturbed=$(disturbed_note 5 "$nginx100_other" "$healthz_other" "$pg32_other" "$me_other" \
        "$pg64_other" "$list_other" "$nginxlist_other" "$login_other" "$storm_other" "$argon2_other" \
        "$nginx100b_other" "$pg32b_other" "$pg64b_other" "$argon2b_other")

{
        echo "### $(date -u '+%Y-%m-%d %H:%M UTC') - atriumd $commit"
        echo
        echo "\`$(printf 'DURATION=%s ATRIUM_POOL_SIZE=%s bench/run.sh' "$DURATION" "$POOL_SIZE")\` - each load ${DURATION} s after a ${WARMUP} s warm-up, one after the other, wrk -t$WRK_THREADS, all on the same machine:"
        echo "$(nproc) × $cpu, $mem RAM, Linux $(uname -r), PostgreSQL $pg_version, $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(wrk -v 2>&1 | head -n 1 | awk '{ print "wrk " $2 }'), atriumd build type \`$buildtype\`, pool size $POOL_SIZE. Load average before: $load_before."
        echo
        echo "| load | req/s or tps | p99 | errors | ratio | goal | met | CPU, bench | CPU, other |"
        echo "|---|---:|---:|---:|---:|---:|---|---:|---:|"
        printf '%s\n' "${rows[@]}"
        echo "| PostgreSQL's CPU per /me over its CPU per \`pgbench -S\` transaction (µs; atriumd's per /me: $(us "$me_at_ms")) | $(us "$me_pg_ms") / $(us "$pg32_pg_ms") | | | **$me_pg_ratio** | ≤ 2 | $me_pg_met | | |"
        echo "| sign-in storm (-c8) while /me reads run (-c32), over Argon2id raw | $(fmt_int "$storm_rps") | $storm_login_p99 ms | $storm_errors | **$storm_ratio** | 0.9 | $storm_met | $storm_cpu % | $storm_other % |"
        echo "| the storm's /me reads: p99 over the unloaded /me p99 | $(fmt_int "$storm_me_rps") | $storm_p99 ms | | **$storm_p99_ratio** | < 2 | | | |"
        echo "| start-up with every in-tree plugin to /readyz | $startup_ms ms | | | | < 100 ms | $( ((startup_ms < 100)) && echo yes || echo no) | | |"
        echo "| idle RSS after start-up | $(awk -v k="$startup_rss_kib" 'BEGIN { printf "%.1f", k / 1024 }') MiB | | | | < 20 MiB | $( ((startup_rss_kib < 20480)) && echo yes || echo no) | | |"
        echo
        echo "The list is \`GET $API_PATH\` ($items items, $body_bytes bytes) as a signed-in student; /me is the same student's. Ceilings: /healthz over nginx serving a 100-byte file, /me over \`pgbench -S -M prepared -c32 -j2\`, the list over the same with -c64 (scale $PGBENCH_SCALE, TCP)."
        echo "Each ratio is over the mean of its ceiling measured right before and right after the load (the rows marked \"after\"): nginx ${nginx100_drift} %, pgbench -c32 ${pg32_drift} %, -c64 ${pg64_drift} %, Argon2id ${argon2_drift} % from before to after."
        if ((${#unsteady[@]})); then
                echo "**Unsteady run:** a ceiling moved by more than 10 % across its load ($(IFS=';'; echo "${unsteady[*]}")): the machine's speed changed while measuring, so the ratios beside it are uncertain by as much."
        fi
        echo "$disturbed"
} >"$out/results.md"
say "raw output and results.md in $out"
cat "$out/results.md"

total_errors=$((healthz_errors + me_errors + list_errors + login_errors + nginx100_errors + nginxlist_errors + pg32_errors + pg64_errors + storm_errors + nginx100b_errors + pg32b_errors + pg64b_errors))
((total_errors == 0)) || die "some requests failed (see the errors column): these figures are not valid"
