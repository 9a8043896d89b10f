#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/conference/run.sh - the conference plugin's benchmark (the "08:00 rush" issue), on one
# machine, in one run, against ceilings measured in the same run:
#   1. the rush: SCHOOLS x USERS_PER_SCHOOL students (50 x 100) each call
#      POST /conference/rooms/{id}/join once - wave 1, their first join - and then all of them
#      once more - wave 2, the reconnect, which ends each one's open visit first. wrk with
#      bench/conference/rush.lua rotates over the 5,000 (bearer token, room path) pairs, with
#      RUSH_CONNECTIONS connections: joins/s over the wave, p50/p99, non-2xx, CPU per join;
#   2. the ceilings: nginx serving a join answer as a static file at the very same 300 paths
#      with the same tokens and connections (GET: nginx cannot POST to a file), and pgbench
#      with as many clients as wrk has connections, -S -M prepared and its default TPC-B-like
#      script (fsync on): a join writes, so TPC-B is its ceiling (issue #14: >= 0.5);
#   3. the figures: STATS_ROWS (10,000,000) attendance rows over STATS_DAYS (30) days, rolled
#      up as the leader's timer does it (conference.rollup() in batches; its time is reported),
#      then GET /stats?granularity=day and =hour of one school over those days and the operators'
#      GET /api/v1/conference/stats (all schools), several times each (median), with the plan
#      of conference.stats() (auto_explain: EXPLAIN ANALYZE, BUFFERS of its statement);
#   4. one more wave of first joins on top of those 30 days (HISTORY_WAVES): what a join costs
#      when the room has a day of history, and what it does to that history.
# Set-up goes through the REST API (schools, modules, Jitsi backends, users by CSV import,
# passwords, sign-ins, groups, members, rooms); only the 10,000,000 attendance rows go in by
# SQL, as bulk test data behind the API (5,000 sign-ins take ~100 s; 10,000,000 joins would
# take hours and measure nothing the rush does not). Helpers, teardown and start-up are
# bench/lib.sh's. See bench/conference/README.md.
#
# Knobs (environment): SCHOOLS (50), USERS_PER_SCHOOL (100), CLASSES (4 class groups per
# school, each with a room), SCHOOL_ROOMS (2 school-wide rooms; every 5th student joins one),
# RUSH_CONNECTIONS (64), WAVES (2), HISTORY_WAVES (1), RUSH_MAX_SECONDS (300, a wave's limit),
# SIGNIN_PARALLEL (8), DURATION (10 s, the ceilings), WARMUP (2 s), QUIET_WAIT (600 s in all:
# before each wave, ceiling and figures the script waits while another benchmark, meson test or
# ninja runs on the machine; wait_quiet in lib.sh), STATS_ROWS (10000000),
# STATS_DAYS (30), STATS_RUNS (5, per school call, after one warm-up), STATS_ALL_RUNS (3, per
# operator-wide call), ROLLUP_BATCH (500 school days per roll-up run, [conference]
# rollup_batch_days), STATS_TIMEOUT (1800 s per call), ATRIUM_POOL_SIZE (8), WRK_THREADS (2),
# WRK_TIMEOUT (10s), PGBENCH_CLIENTS (RUSH_CONNECTIONS), PGBENCH_JOBS (2), PGBENCH_SCALE (10),
# ATRIUM_BUILD_DIR (build), PG_BINDIR, BENCH_OUT (bench/conference/out), KEEP_TMP=1.
#
# Not a test: it measures time, so it never runs from meson test or CI.

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SCHOOLS=${SCHOOLS:-50}
USERS_PER_SCHOOL=${USERS_PER_SCHOOL:-100}
CLASSES=${CLASSES:-4}
SCHOOL_ROOMS=${SCHOOL_ROOMS:-2}
RUSH_CONNECTIONS=${RUSH_CONNECTIONS:-64}
WAVES=${WAVES:-2}
HISTORY_WAVES=${HISTORY_WAVES:-1}
RUSH_MAX_SECONDS=${RUSH_MAX_SECONDS:-300}
SIGNIN_PARALLEL=${SIGNIN_PARALLEL:-8}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
STATS_ROWS=${STATS_ROWS:-10000000}
STATS_DAYS=${STATS_DAYS:-30}
STATS_RUNS=${STATS_RUNS:-5}
STATS_ALL_RUNS=${STATS_ALL_RUNS:-3}
STATS_TIMEOUT=${STATS_TIMEOUT:-1800}
ROLLUP_BATCH=${ROLLUP_BATCH:-500}
QUIET_WAIT=${QUIET_WAIT:-600}
WRK_TIMEOUT=${WRK_TIMEOUT:-10s}
WRK_CONNECTIONS=$RUSH_CONNECTIONS
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-$RUSH_CONNECTIONS}
BENCH_OUT=${BENCH_OUT:-$repo/bench/conference/out}
RATIO_DIGITS=3

((SCHOOLS >= 1 && SCHOOLS <= 99)) || { echo "bench: SCHOOLS must be 1..99" >&2; exit 2; }
((USERS_PER_SCHOOL >= 10 && USERS_PER_SCHOOL <= 999)) || { echo "bench: USERS_PER_SCHOOL must be 10..999" >&2; exit 2; }
((CLASSES >= 1 && CLASSES <= 9 && SCHOOL_ROOMS >= 1 && SCHOOL_ROOMS <= 9)) || { echo "bench: CLASSES and SCHOOL_ROOMS must be 1..9" >&2; exit 2; }
((WAVES >= 1 && WAVES <= 5 && HISTORY_WAVES >= 0 && HISTORY_WAVES <= 5)) || { echo "bench: WAVES must be 1..5, HISTORY_WAVES 0..5" >&2; exit 2; }
((STATS_ROWS >= 0 && STATS_DAYS >= 1 && STATS_DAYS <= 80)) || { echo "bench: STATS_DAYS must be 1..80 (hourly buckets: at most 2,000)" >&2; exit 2; }
((DURATION >= 1 && DURATION <= 600)) || { echo "bench: DURATION must be 1..600" >&2; exit 2; }

# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"
say() { printf '==> [%4ds] %s\n' "$SECONDS" "$*" >&2; }

USERS=$((SCHOOLS * USERS_PER_SCHOOL))
JITSI_URL=https://meet.bench.invalid
JITSI_APP=atrium-bench

# ---- preflight, build, temp dir --------------------------------------------------------------

bench_preflight wrk nginx curl jq ss awk meson ninja timeout shuf
bench_build
for so in groups conference; do
        [[ -f $BUILD_DIR/plugins/$so.so ]] || die "no $BUILD_DIR/plugins/$so.so after the build"
done
bench_tmp atrium-bench-conference
mkdir -p "$tmp/www" "$tmp/tok"

# ---- PostgreSQL and atriumd -------------------------------------------------------------------

start_pg "bench/conference/run.sh (same settings as bench/run.sh)"
# The key that seals the schools' backend secrets (64 hex digits), new every run.
ATRIUMD_EXTRA_ENV+=(ATRIUM_CONFERENCE_SECRET_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')")
start_atriumd "(pool size $POOL_SIZE)"
bench_operator

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$BENCH_OUT/$stamp
mkdir -p "$out"

# status_kb FIELD: atriumd's VmRSS, VmHWM, ... in kB; mib KB.
status_kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$atriumd_pid/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
sql() { psql_admin -d atrium -Atc "$1"; }
rss_start=$(status_kb VmRSS)

# ---- the schools -------------------------------------------------------------------------------
#
# Per school, through the API as the operator: the school, modules groups and conference, a
# Jitsi backend (HS256 secret), USERS_PER_SCHOOL students by CSV import (POST /users/import),
# CLASSES class groups with their students as members (student i is in class (i-1) % CLASSES)
# and a room each, and SCHOOL_ROOMS rooms without a group (every holder of conference.join may
# join them). Student i joins the room of their class, or, when i is a multiple of 5, the
# school room i/5 % SCHOOL_ROOMS. $tmp/assign.csv: school number, student number, user id,
# room id, school slug, username.
say "creating $SCHOOLS schools with $USERS_PER_SCHOOL students, $CLASSES class rooms and $SCHOOL_ROOMS school rooms each"
jitsi_secret=$(new_password)
: >"$tmp/assign.csv"
for ((s = 1; s <= SCHOOLS; s++)); do
        slug=$(printf 's%02d' "$s")
        api POST /api/v1/schools "$op" "{\"slug\": \"$slug\", \"name\": \"Schule $slug\"}" >/dev/null
        api PUT "/api/v1/schools/$slug/modules/groups" "$op" "" >/dev/null
        api PUT "/api/v1/schools/$slug/modules/conference" "$op" "" >/dev/null
        api PUT "/api/v1/schools/$slug/conference/backend" "$op" "$(jq -nc --arg u "$JITSI_URL" \
                --arg a "$JITSI_APP" --arg s "$jitsi_secret" '{type: "jitsi", url: $u, app_id: $a, secret: $s}')" >/dev/null
        {
                echo "username,display_name,roles"
                for ((i = 1; i <= USERS_PER_SCHOOL; i++)); do
                        printf '%s-p%03d,Schüler %03d (%s),student\n' "$slug" "$i" "$i" "$slug"
                done
        } >"$tmp/import.csv"
        code=$(curl -sS -o "$tmp/import.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $op" \
                -H "Content-Type: text/csv" --data-binary "@$tmp/import.csv" \
                "$api_url/api/v1/schools/$slug/users/import")
        [[ $code == 200 && $(jq .created "$tmp/import.json") == "$USERS_PER_SCHOOL" ]] ||
                die "import into $slug answered $code: $(head -c 400 "$tmp/import.json")"
        # username -> id, in student order
        mapfile -t uid < <(jq -r '.rows | sort_by(.username) | .[].id' "$tmp/import.json")
        class_room=()
        for ((c = 1; c <= CLASSES; c++)); do
                gid=$(api POST "/api/v1/schools/$slug/groups" "$op" \
                        "{\"name\": \"Klasse $c ($slug)\", \"slug\": \"k$c\", \"type\": \"class\"}" | jq -r .id)
                members=$(for ((i = c; i <= USERS_PER_SCHOOL; i += CLASSES)); do echo "${uid[i - 1]}"; done |
                        jq -R . | jq -sc '{add: map({user_id: .})}')
                added=$(api POST "/api/v1/schools/$slug/groups/$gid/members:batch" "$op" "$members" | jq .added)
                ((added == (USERS_PER_SCHOOL - c) / CLASSES + 1)) || die "class $c of $slug got $added members"
                class_room[c]=$(api POST "/api/v1/schools/$slug/conference/rooms" "$op" \
                        "{\"name\": \"Klasse $c: Videostunde\", \"group_id\": \"$gid\"}" | jq -r .id)
        done
        school_room=()
        for ((r = 0; r < SCHOOL_ROOMS; r++)); do
                school_room[r]=$(api POST "/api/v1/schools/$slug/conference/rooms" "$op" \
                        "{\"name\": \"Aula $((r + 1))\"}" | jq -r .id)
        done
        for ((i = 1; i <= USERS_PER_SCHOOL; i++)); do
                if ((i % 5 == 0)); then room=${school_room[(i / 5) % SCHOOL_ROOMS]}; else room=${class_room[(i - 1) % CLASSES + 1]}; fi
                printf '%d,%d,%s,%s,%s,%s-p%03d\n' "$s" "$i" "${uid[i - 1]}" "$room" "$slug" "$slug" "$i" >>"$tmp/assign.csv"
        done
done
[[ $(wc -l <"$tmp/assign.csv") == "$USERS" ]] || die "assign.csv has $(wc -l <"$tmp/assign.csv") lines, not $USERS"
n_rooms=$(sql "SELECT count(*) FROM conference.rooms")
say "set-up: $(sql "SELECT count(*) FROM core.users") people, $(sql "SELECT count(*) FROM groups.groups") groups, $n_rooms rooms"

# ---- activation and sign-ins -----------------------------------------------------------------
#
# Imported accounts have no password. As at a school's first day: the admin (here the
# operator) issues one activation code per student (POST /activation-codes, one request per
# school), and every student redeems theirs, choosing a password and signing in at once
# (POST /auth/activate). Each redemption hashes with Argon2id (~50/s on two cores), so this is
# the slow part of the set-up; one curl runs them SIGNIN_PARALLEL at a time (--parallel).
student_pw=$(new_password)
say "issuing $USERS activation codes and activating $USERS students ($USERS Argon2id hashes, ~$((USERS / 50)) s)"
# curl_many CONFIG LOG: the transfers in CONFIG (curl's config file syntax, "next" between
# them), SIGNIN_PARALLEL at a time; each writes its status to LOG. Dies unless all are 2xx.
curl_many() {
        local n bad
        # no "next" after the last transfer: an empty one would abort them all
        sed -i '$ { /^next$/d }' "$1"
        curl -sS --no-progress-meter --parallel --parallel-max "$SIGNIN_PARALLEL" --config "$1" >"$2" ||
                die "curl --parallel failed ($1)"
        n=$(wc -l <"$2")
        bad=$(grep -cv '^2' "$2" || true)
        ((n == USERS && bad == 0)) || die "$1: $n answers, $bad not 2xx ($(sort "$2" | uniq -c | tr '\n' ' '))"
}
t_pw=$SECONDS
: >"$tmp/codes.csv"
for ((s = 1; s <= SCHOOLS; s++)); do
        slug=$(printf 's%02d' "$s")
        ids=$(awk -F, -v s="$s" '$1 == s { print $3 }' "$tmp/assign.csv" | jq -Rsc 'split("\n") | map(select(. != ""))')
        api POST "/api/v1/schools/$slug/activation-codes" "$op" "{\"users\": $ids, \"valid_days\": 1}" |
                jq -r --arg slug "$slug" '.items[] | [$slug, .username, .code] | @csv' | tr -d '"' >>"$tmp/codes.csv"
done
[[ $(wc -l <"$tmp/codes.csv") == "$USERS" ]] || die "codes.csv has $(wc -l <"$tmp/codes.csv") lines, not $USERS"
t_pw=$((SECONDS - t_pw))
t_login=$SECONDS
while IFS=, read -r slug user code; do
        printf 'url = "%s/api/v1/auth/activate"\nheader = "Content-Type: application/json"\ndata = "{\\"school\\": \\"%s\\", \\"username\\": \\"%s\\", \\"code\\": \\"%s\\", \\"new_password\\": \\"%s\\"}"\noutput = "%s/tok/%s.json"\nwrite-out = "%%{http_code}\\n"\nnext\n' \
                "$api_url" "$slug" "$user" "$code" "$student_pw" "$tmp" "$user"
done <"$tmp/codes.csv" >"$tmp/logins.curl"
curl_many "$tmp/logins.curl" "$tmp/logins.status"
t_login=$((SECONDS - t_login))
say "activation codes issued in $t_pw s, $USERS activations (password and sign-in) in $t_login s"
rss_setup=$(status_kb VmRSS)

# The (token, path) pairs, shuffled (with a fixed seed) so that the schools and rooms mix.
(cd "$tmp/tok" && jq -r '[input_filename, .token] | @tsv' ./*.json) >"$tmp/tokens.tsv"
awk -F'\t' 'FNR == NR { sub(/^\.\//, "", $1); sub(/\.json$/, "", $1); tok[$1] = $2; next }
        { split($0, a, ","); t = tok[a[6]]
          if (t == "" || t == "null") { print "no token for " a[6] > "/dev/stderr"; exit 1 }
          printf "%s /api/v1/schools/%s/conference/rooms/%s/join\n", t, a[5], a[4] }' \
        "$tmp/tokens.tsv" "$tmp/assign.csv" | shuf --random-source=<(yes) >"$tmp/pairs.txt"
[[ $(wc -l <"$tmp/pairs.txt") == "$USERS" ]] || die "$(wc -l <"$tmp/pairs.txt") (token, room) pairs, not $USERS"

# ---- one join, checked -----------------------------------------------------------------------
#
# The first student joins (200, a Jitsi URL whose HS256 token verifies with the school's secret
# and names the room) and leaves again (204, the visit is closed), so their first wave's join
# is a first join like everyone else's.
IFS=, read -r _ _ c_uid c_room c_slug c_user <"$tmp/assign.csv"
c_tok=$(jq -r .token "$tmp/tok/$c_user.json")
c_path=/api/v1/schools/$c_slug/conference/rooms/$c_room
api POST "$c_path/join" "$c_tok" "" >"$tmp/join-answer.json"
jq -e '.backend == "jitsi" and (.url | contains("?jwt=")) and .moderator == false and (.attendance_id | type) == "number"' \
        "$tmp/join-answer.json" >/dev/null || die "join answered $(head -c 400 "$tmp/join-answer.json")"
jwt=$(jq -r '.url | sub(".*\\?jwt="; "")' "$tmp/join-answer.json")
b64url_json() { local s=${1//-/+}; s=${s//_//}; while ((${#s} % 4)); do s+="="; done; base64 -d <<<"$s"; }
claims=$(b64url_json "$(cut -d. -f2 <<<"$jwt")")
jq -e --arg r "${c_room//-/}" --arg u "$c_uid" --arg a "$JITSI_APP" \
        '.room == $r and .aud == "jitsi" and .iss == $a and .context.user.id == $u and .exp > .iat' <<<"$claims" >/dev/null ||
        die "the join token's claims are not as the contract says: $claims"
jwt_ok="not checked (no openssl)"
if command -v openssl >/dev/null; then
        sig=$(printf '%s' "${jwt%.*}" | openssl dgst -sha256 -hmac "$jitsi_secret" -binary | base64 | tr '+/' '-_' | tr -d '=\n')
        [[ $sig == "${jwt##*.}" ]] || die "the join token's HS256 signature does not verify with the school's secret"
        jwt_ok="verified"
fi
api POST "$c_path/leave" "$c_tok" "" >/dev/null
[[ $(sql "SELECT count(*) FROM conference.attendance WHERE left_at IS NULL") == 0 ]] || die "the leave left an open visit"
join_bytes=$(wc -c <"$tmp/join-answer.json")

pgbench_init

# ---- the rush -------------------------------------------------------------------------------------

# rush_wave NAME: every pair once (rush.lua with RUSH_ONCE=1); sets NAME_{n,rps,p50,p99,bad,err,
# rows,users,span_rps,wall,cpu,other,ams,pgms,rss}. The wave's rate is its joins over the wall
# time from wrk's start until the last thread has its last answer; the rows it added to
# conference.attendance (their joined_at is each join's transaction start) give a second one.
rush_wave() {
        local name=$1 id0 t0 t1 pid m0 s0 s1 c o am pm rps p50 p99 bad err n rows users span wall span_rps i
        id0=$(sql "SELECT coalesce(max(id), 0) FROM conference.attendance")
        wait_quiet "wave $name"
        wait_idle
        rm -f "$tmp/mark".*
        say "wave $name: $USERS joins, wrk -t$WRK_THREADS -c$WRK_CONNECTIONS"
        m0=$(cpu_mark)
        s0=$(split_mark)
        t0=$EPOCHREALTIME
        RUSH_PAIRS=$tmp/pairs.txt RUSH_THREADS=$WRK_THREADS RUSH_ONCE=1 RUSH_METHOD=POST RUSH_MARKER=$tmp/mark \
                wrk_run "$RUSH_MAX_SECONDS" "$api_url" -s "$repo/bench/conference/rush.lua" >"$out/$name.wrk.txt" 2>&1 &
        pid=$!
        child=$pid
        for ((i = 0; ; i++)); do
                [[ $(compgen -G "$tmp/mark.*" | wc -l) == "$WRK_THREADS" ]] && break
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.02
        done
        t1=$EPOCHREALTIME
        kill -INT "$pid" 2>/dev/null || true
        wait "$pid" || true
        child=""
        s1=$(split_mark)
        read -r c o < <(cpu_report "$m0" "$(cpu_mark)")
        cat "$out/$name.wrk.txt" >&2
        read -r rps p50 p99 bad err n < <(wrk_parse "$out/$name.wrk.txt")
        wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        read -r rows users span < <(sql "SELECT count(*), count(DISTINCT user_id),
                coalesce(extract(epoch FROM max(joined_at) - min(joined_at)), 0)
                FROM conference.attendance WHERE id > $id0" | tr '|' ' ')
        span_rps=$(awk -v n="$rows" -v s="$span" 'BEGIN { if (s > 0) printf "%.0f", (n - 1) / s; else print "n/a" }')
        read -r am pm < <(split_report "$s0" "$s1" "$n")
        printf -v "${name}_n" '%s' "$n"
        printf -v "${name}_rps" '%s' "$(awk -v n="$n" -v w="$wall" 'BEGIN { printf "%.0f", n / w }')"
        printf -v "${name}_p50" '%s' "$p50"
        printf -v "${name}_p99" '%s' "$p99"
        printf -v "${name}_bad" '%s' "$bad"
        printf -v "${name}_err" '%s' "$err"
        printf -v "${name}_rows" '%s' "$rows"
        printf -v "${name}_users" '%s' "$users"
        printf -v "${name}_span_rps" '%s' "$span_rps"
        printf -v "${name}_wall" '%s' "$wall"
        printf -v "${name}_cpu" '%s' "$c"
        printf -v "${name}_other" '%s' "$o"
        printf -v "${name}_ams" '%s' "$am"
        printf -v "${name}_pgms" '%s' "$pm"
        printf -v "${name}_rss" '%s' "$(status_kb VmRSS)"
        kill -0 "$atriumd_pid" 2>/dev/null || die "atriumd died during wave $name"
        say "wave $name: $n answers in $wall s = $(awk -v n="$n" -v w="$wall" 'BEGIN { printf "%.0f", n / w }')/s; $rows rows for $users people; p99 $p99 ms; non-2xx $bad, socket errors $err"
}

waves=()
for ((w = 1; w <= WAVES; w++)); do
        rush_wave "w$w"
        waves+=("w$w")
done
open_after=$(sql "SELECT count(*) FROM conference.attendance WHERE left_at IS NULL")
closed_by_reconnect=$(sql "SELECT count(*) FROM conference.attendance WHERE left_at IS NOT NULL") # incl. the checked join

# ---- the ceilings ------------------------------------------------------------------------------

# nginx: the join answer as a static file at every room's join path, the same pairs (tokens
# and paths), the same connections, GET for DURATION s.
while read -r _ path; do
        [[ -e $tmp/www$path ]] && continue
        mkdir -p "$tmp/www$(dirname "$path")"
        cp "$tmp/join-answer.json" "$tmp/www$path"
done <"$tmp/pairs.txt"
wait_quiet nginx
start_nginx "$tmp/www" application/json
read -r _ n_path <"$tmp/pairs.txt"
cmp -s "$tmp/join-answer.json" <(curl -sS "http://127.0.0.1:$nginx_port$n_path") || die "nginx does not serve the join answer"
say "nginx: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${DURATION}s GET, the same $USERS (token, path) pairs in turn"
export RUSH_PAIRS=$tmp/pairs.txt RUSH_THREADS=$WRK_THREADS RUSH_ONCE=0 RUSH_METHOD=GET RUSH_MARKER=$tmp/mark
if ((WARMUP > 0)); then
        measure "$tmp/warmup.txt" wrk_run "$WARMUP" "http://127.0.0.1:$nginx_port" -s "$repo/bench/conference/rush.lua" 2>/dev/null
fi
m0=$(cpu_mark)
measure "$out/nginx.wrk.txt" wrk_run "$DURATION" "http://127.0.0.1:$nginx_port" -s "$repo/bench/conference/rush.lua"
read -r ngx_cpu ngx_other < <(cpu_report "$m0" "$(cpu_mark)")
read -r ngx_rps ngx_p50 ngx_p99 ngx_bad ngx_err _ < <(wrk_parse "$out/nginx.wrk.txt")
stop_pid "$nginx_pid" 5
nginx_pid=""

wait_quiet pgbench
wait_idle
pgbench_ceiling "$out/pgbench-tpcb.txt" tpcb
tpcb_tps=$pg_tps tpcb_lat=$pg_lat tpcb_failed=$pg_failed tpcb_cpu=$pg_cpu tpcb_other=$pg_other
wait_quiet pgbench
wait_idle
pgbench_ceiling "$out/pgbench.txt"

# ---- ten million recorded joins -----------------------------------------------------------------
#
# Behind the API, as bulk test data: STATS_ROWS rows in one INSERT ... SELECT generate_series,
# in time order as they would have arrived. The STATS_DAYS school days before this moment, as
# if the run started at 08:00: day d runs from now - d days for 7 lessons of an hour, 22 %, 16 %,
# 16 %, 15 %, 12 %, 11 % and 8 % of the day's joins, 60 % of each lesson's in its first ten
# minutes; each row is a random student of school (row mod SCHOOLS) in that student's room
# (assign.csv, as in the rush); a visit lasts 20-30 minutes, 20 % have no left_at. The rows'
# user ids are all existing students (the load skips the foreign-key triggers with
# session_replication_role = replica, which is why it is done as the superuser).
load_s=0
if ((STATS_ROWS > 0)); then
        say "loading $STATS_ROWS attendance rows over $STATS_DAYS days (SQL, bulk test data)"
        segs=$(awk 'BEGIN { split("22 16 16 15 12 11 8", w, " "); sep = ""
                for (h = 0; h < 7; h++) {
                        printf "%s(%d, %d, 10, %.4f)", sep, 2 * h, 60 * h, w[h + 1] * 0.6 / 100; sep = ", "
                        printf "%s(%d, %d, 50, %.4f)", sep, 2 * h + 1, 60 * h + 10, w[h + 1] * 0.4 / 100
                } }')
        read -r stats_from stats_to < <(sql "SELECT to_char(date_trunc('hour', date_trunc('minute', now()) - $STATS_DAYS * interval '1 day') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                to_char(date_trunc('minute', now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')" | tr '|' ' ')
        t0=$EPOCHREALTIME
        psql_admin -d atrium >"$out/load.txt" 2>&1 <<SQL || die "loading the attendance rows failed: $(tail -n 5 "$out/load.txt")"
BEGIN;
SET LOCAL session_replication_role = replica;
SET LOCAL work_mem = '64MB';
SELECT setseed(0.20261127);
CREATE TEMP TABLE assign (k int, ui int, user_id uuid, room_id uuid, slug text, username text) ON COMMIT DROP;
\\copy assign FROM '$tmp/assign.csv' WITH (FORMAT csv)
CREATE TEMP TABLE base ON COMMIT DROP AS SELECT timestamptz '$stats_to' AS t;
-- the slots of the school days, oldest first, and how many joins each holds (cumulative
-- rounding, so that they add up to STATS_ROWS exactly)
CREATE TEMP TABLE slots ON COMMIT DROP AS
WITH seg(j, off_min, len_min, w) AS (VALUES $segs),
s AS (
    SELECT d, seg.j, (SELECT t FROM base) - d * interval '1 day' + seg.off_min * interval '1 minute' AS start,
           seg.len_min, seg.w / $STATS_DAYS AS w,
           row_number() OVER (ORDER BY d DESC, seg.j) AS ord
      FROM generate_series(1, $STATS_DAYS) d, seg
),
c AS (SELECT *, sum(w) OVER (ORDER BY ord) AS cum FROM s)
SELECT ord, start, len_min,
       round($STATS_ROWS * cum / (SELECT sum(w) FROM s))::bigint
         - round($STATS_ROWS * (cum - w) / (SELECT sum(w) FROM s))::bigint AS n,
       round($STATS_ROWS * (cum - w) / (SELECT sum(w) FROM s))::bigint AS first
  FROM c;
INSERT INTO conference.attendance (school_id, room_id, user_id, moderator, joined_at, left_at)
SELECT sc.id, a.room_id, a.user_id, false, r.joined_at,
       CASE WHEN random() < 0.2 THEN NULL
            ELSE r.joined_at + (20 + 10 * random()) * interval '1 minute' END
  FROM (SELECT (sl.first + i) % $SCHOOLS + 1 AS k,
               1 + floor(random() * $USERS_PER_SCHOOL)::int AS ui,
               sl.start + (i::double precision / sl.n) * sl.len_min * interval '1 minute' AS joined_at,
               sl.first + i AS g
          FROM slots sl, generate_series(0, sl.n - 1) i) r
  JOIN assign a ON a.k = r.k AND a.ui = r.ui
  JOIN core.schools sc ON sc.slug = a.slug
 ORDER BY r.g;
COMMIT;
VACUUM ANALYZE conference.attendance;
CHECKPOINT;
SQL
        load_s=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
else
        stats_to=$(date -u +%Y-%m-%dT%H:%M:00Z)
        stats_from=$(date -u -d "$stats_to - $STATS_DAYS days" +%Y-%m-%dT%H:00:00Z)
fi
[[ -n ${stats_from:-} && -n ${stats_to:-} ]] || die "no stats range"

# ---- the roll-ups ---------------------------------------------------------------------------------
#
# What the leader's timer does every ten minutes (rollup.c), here until nothing is left: batches
# of ROLLUP_BATCH school days through conference.rollup(), each committed on its own, in one
# session that first waits for the lock a timer run may hold (advisory locks are re-entrant
# within a session, so the batches then never find it taken). The closed days come from these,
# and since conference 0008 also the closed hours of the day not closed yet (one more cell per
# school) and the whole hours of the range's partial first day; the rest (the first partial
# hour, the last ~13 hours) from the rows.
say "rolling up the closed days: conference.rollup('25 minutes', $ROLLUP_BATCH) until none is left"
rollup_runs=$((SCHOOLS * (STATS_DAYS + 2) / ROLLUP_BATCH + 2))
t0=$EPOCHREALTIME
{
        echo "SELECT pg_advisory_lock(hashtext('conference.rollup'));"
        for ((r = 0; r < rollup_runs; r++)); do echo "SELECT conference.rollup('25 minutes', $ROLLUP_BATCH);"; done
} | psql_admin -d atrium -At >"$out/rollup.txt" 2>&1 || die "the roll-up failed: $(tail -n 5 "$out/rollup.txt")"
rollup_s=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
rollup_days=$(awk 'NR > 1 { n += $1 } END { print n + 0 }' "$out/rollup.txt")
[[ $(tail -n 1 "$out/rollup.txt") == 0 ]] || die "the roll-up was not done after $rollup_runs runs ($out/rollup.txt)"
read -r rollup_mb rollup_rows < <(sql "SELECT (pg_total_relation_size('conference.rollup_days') + pg_total_relation_size('conference.rollup_hours')
        + pg_total_relation_size('conference.rollup_spans') + pg_total_relation_size('conference.rollup_people')
        + pg_total_relation_size('conference.rollup_hour_people')) / 1048576,
        (SELECT count(*) FROM conference.rollup_hours) + (SELECT count(*) FROM conference.rollup_spans) + (SELECT count(*) FROM conference.rollup_people)
        + (SELECT count(*) FROM conference.rollup_hour_people)" | tr '|' ' ')
say "rolled up $rollup_days school days in $rollup_s s ($rollup_rows rows, $rollup_mb MiB)"
read -r n_att att_mb idx_mb < <(sql "SELECT count(*), pg_relation_size('conference.attendance') / 1048576,
        pg_indexes_size('conference.attendance') / 1048576 FROM conference.attendance" | tr '|' ' ')
say "conference.attendance: $n_att rows, $att_mb MiB + $idx_mb MiB of indexes, loaded in $load_s s; range $stats_from .. $stats_to"

# ---- the figures ----------------------------------------------------------------------------------

school1=$(sql "SELECT id FROM core.schools WHERE slug = 's01'")
range="from=$stats_from&to=$stats_to"
expect_s01=$(sql "SELECT count(*) FROM conference.attendance WHERE school_id = '$school1' AND joined_at >= '$stats_from' AND joined_at < '$stats_to'")
expect_all=$(sql "SELECT count(*) FROM conference.attendance WHERE joined_at >= '$stats_from' AND joined_at < '$stats_to'")

# stats_calls NAME PATH RUNS WARM: WARM unmeasured calls, then RUNS timed ones (curl); sets
# NAME_{med,min,max,first,ams,pgms,joins,buckets,bytes,other}. Every answer must be 200 with as many
# joins in its totals as the table holds in the range.
stats_calls() {
        local name=$1 path=$2 runs=$3 warm=$4 expect=$5 r code secs m0 s0 s1 c o am pm joins
        wait_quiet "stats $name"
        wait_idle
        for ((r = 0; r < warm; r++)); do
                curl -sS -o /dev/null --max-time "$STATS_TIMEOUT" -H "Authorization: Bearer $op" "$api_url$path"
        done
        : >"$out/$name-seconds.txt"
        m0=$(cpu_mark)
        s0=$(split_mark)
        for ((r = 1; r <= runs; r++)); do
                read -r code secs < <(curl -sS -o "$tmp/stats.json" -w '%{http_code} %{time_total}\n' \
                        --max-time "$STATS_TIMEOUT" -H "Authorization: Bearer $op" "$api_url$path")
                [[ $code == 200 ]] || die "GET $path answered $code: $(head -c 400 "$tmp/stats.json")"
                joins=$(jq .totals.joins "$tmp/stats.json")
                ((joins == expect)) || die "GET $path: totals.joins $joins, the table holds $expect joins in the range"
                echo "$secs" >>"$out/$name-seconds.txt"
                say "  $name run $r: $secs s"
        done
        s1=$(split_mark)
        read -r c o < <(cpu_report "$m0" "$(cpu_mark)")
        cp "$tmp/stats.json" "$out/$name.json"
        read -r am pm < <(split_report "$s0" "$s1" "$runs")
        printf -v "${name}_med" '%s' "$(percentile 50 "$out/$name-seconds.txt")"
        printf -v "${name}_min" '%s' "$(sort -g "$out/$name-seconds.txt" | head -n 1)"
        printf -v "${name}_max" '%s' "$(sort -g "$out/$name-seconds.txt" | tail -n 1)"
        printf -v "${name}_first" '%s' "$(head -n 1 "$out/$name-seconds.txt")"
        printf -v "${name}_ams" '%s' "$am"
        printf -v "${name}_pgms" '%s' "$pm"
        printf -v "${name}_joins" '%s' "$joins"
        printf -v "${name}_buckets" '%s' "$(jq '.buckets | length' "$tmp/stats.json")"
        printf -v "${name}_bytes" '%s' "$(wc -c <"$tmp/stats.json")"
        printf -v "${name}_other" '%s' "$o"
}

say "GET /stats of school s01 ($expect_s01 joins in the range), $STATS_RUNS runs each after one warm-up"
stats_calls sday "/api/v1/schools/s01/conference/stats?$range&granularity=day" "$STATS_RUNS" 1 "$expect_s01"
stats_calls shour "/api/v1/schools/s01/conference/stats?$range&granularity=hour" "$STATS_RUNS" 1 "$expect_s01"
say "GET /api/v1/conference/stats, all schools ($expect_all joins in the range), $STATS_ALL_RUNS runs each"
stats_calls aday "/api/v1/conference/stats?$range&granularity=day" "$STATS_ALL_RUNS" 0 "$expect_all"
stats_calls ahour "/api/v1/conference/stats?$range&granularity=hour" "$STATS_ALL_RUNS" 0 "$expect_all"

# The statement inside conference.stats() under EXPLAIN (ANALYZE, BUFFERS), through
# auto_explain (the function is SECURITY DEFINER SQL, so a plain EXPLAIN shows only a Function
# Scan): the school's day figures as the request role, and the operators' day figures.
say "EXPLAIN (ANALYZE, BUFFERS) of conference.stats(): school s01 and all schools, day buckets"
explain_stats() { # ALL SCHOOL_ID
        psql_admin -d atrium -P pager=off <<SQL
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_analyze = on;
SET auto_explain.log_buffers = on;
SET auto_explain.log_nested_statements = on;
SET client_min_messages = log;
BEGIN;
SET LOCAL ROLE atrium_request;
SELECT set_config('atrium.school_id', '$2', true);
SELECT count(*) FROM conference.stats($1, '$stats_from', '$stats_to', '1 day', '25 minutes');
ROLLBACK;
SQL
}
explain_stats false "$school1" >"$out/explain-school.txt" 2>&1 || say "warning: EXPLAIN of the school's figures failed (see explain-school.txt)"
explain_stats true "" >"$out/explain-all.txt" 2>&1 || say "warning: EXPLAIN of the operators' figures failed (see explain-all.txt)"
# The plan of the statement inside the function (its block in the log has "CTE raw", the
# rows of the days not rolled up; "CTE visits" in stats_raw(), before the roll-ups):
# plan_block FILE prints that block; plan_summary FILE its duration, the scans of attendance,
# the sorts and the root node's buffers (which include the temp files of every node).
plan_block() {
        awk '/^LOG: +duration: / { if (b ~ /CTE (visits|raw)/) { printf "%s", b; done = 1; exit } b = "" }
             { b = b $0 "\n" } END { if (!done && b ~ /CTE (visits|raw)/) printf "%s", b }' "$1"
}
plan_summary() {
        plan_block "$1" | grep -E 'duration:|Scan on attendance|Index Scan|Index Only Scan|Heap Fetches|Heap Blocks|Index Recheck|Bitmap|Sort Method|Buffers:' |
                sed -E 's/^LOG: +//; s/  +/ /g; s/\(cost=[^)]*\) //' | cut -c1-160 | awk '!/Buffers:/ || !seen++' | head -n 30
}
plan_summary "$out/explain-school.txt" >"$out/plan-school.txt" || true
plan_summary "$out/explain-all.txt" >"$out/plan-all.txt" || true
# (Each prints something, "?" or 0, even when the plan lacks what it looks for: under set -e
# and pipefail a grep that finds nothing would end the script here.)
ex_ms() { plan_block "$1" | { grep -m1 -oE 'duration: [0-9.]+ ms' || echo "? ?"; } | awk '{ print $2 }'; }
ex_scan() { plan_block "$1" | { grep -m1 -oE '(Index Only Scan|Index Scan|Bitmap Index Scan) (Backward )?(using|on) [a-z_]+|Seq Scan on attendance' || echo "?"; }; }
ex_temp() { plan_block "$1" | { grep -m1 -oE 'temp( read=[0-9]+)? written=[0-9]+' || echo "written=0"; } | awk -F'written=' '{ printf "%.0f\n", $2 * 8 / 1024 }'; }
ex_sorts() { plan_block "$1" | { grep -c 'Sort Method: external' || true; }; }
ex_school_ms=$(ex_ms "$out/explain-school.txt")
ex_all_ms=$(ex_ms "$out/explain-all.txt")
ex_school_idx=$(ex_scan "$out/explain-school.txt")
ex_all_idx=$(ex_scan "$out/explain-all.txt")
ex_school_temp=$(ex_temp "$out/explain-school.txt")
ex_all_temp=$(ex_temp "$out/explain-all.txt")
ex_school_ext=$(ex_sorts "$out/explain-school.txt")
ex_all_ext=$(ex_sorts "$out/explain-all.txt")
say "plan of the school's figures ($ex_school_ms ms), in short:"
cat "$out/plan-school.txt" >&2

# ---- a wave on top of the history ------------------------------------------------------------------
#
# The same 5,000 first joins once more, now that every room has a day of visits behind it.
# A join first ends the person's open visits of the room of the last day (CLOSE_VISITS in
# join.c), which reads the room's rows of that day; and the history's visits without a known
# left_at (20 %) that it finds are closed at this moment.
for ((w = 1; w <= HISTORY_WAVES; w++)); do
        # a first join again: end every open visit of the rush (as leave would) before the wave
        sql "UPDATE conference.attendance SET left_at = now() WHERE left_at IS NULL AND joined_at > '$stats_to'" >/dev/null
        t_hist=$(sql "SELECT now()")
        open_hist=$(sql "SELECT count(*) FROM conference.attendance WHERE left_at IS NULL AND joined_at < '$stats_to' AND joined_at > now() - interval '1 day'")
        rush_wave "h$w"
        waves+=("h$w")
        read -r hist_closed hist_hours < <(sql "SELECT count(*), coalesce(round(avg(extract(epoch FROM left_at - joined_at)) / 3600, 1), 0)
                FROM conference.attendance WHERE joined_at < '$stats_to' AND left_at >= '$t_hist'" | tr '|' ' ')
done

# ---- results ---------------------------------------------------------------------------------------

describe_machine core api plugins bench/conference
load_after=$(cut -d' ' -f1 /proc/loadavg)
rss_end=$(status_kb VmRSS)
hwm_end=$(status_kb VmHWM)
log_problems=$(grep -ciE 'critical|error|warning' "$tmp/atriumd.log" || true)
grep -iE 'critical|error|warning' "$tmp/atriumd.log" | tail -n 20 >"$out/atriumd-problems.txt" || true
fmt_s() { awk -v s="$1" 'BEGIN { if (s < 10) printf "%.3f", s; else printf "%.1f", s }'; }

{
        row() { printf '%-50s %9s %9s %9s %6s %7s %7s %7s %15s %5s %6s\n' "$@"; }
        echo
        row "load" "req/s|tps" "p50 ms" "p99 ms" "errors" "/nginx" "/pgb-S" "/TPC-B" "CPU/req a+pg ms" "cpu%" "other%"
        for w in "${waves[@]}"; do
                n=${w}_n rps=${w}_rps p50=${w}_p50 p99=${w}_p99 bad=${w}_bad err=${w}_err ams=${w}_ams pgms=${w}_pgms wcpu=${w}_cpu wother=${w}_other
                case $w in
                w1) what="wave 1: $USERS first joins" ;;
                w*) what="wave ${w#w}: $USERS reconnects" ;;
                h*) what="after the load: $USERS first joins, rooms with history" ;;
                esac
                row "$what (-c$WRK_CONNECTIONS)" "${!rps}" "${!p50}" "${!p99}" "$((${!bad} + ${!err} + USERS - ${!n}))" \
                        "$(ratio "${!rps}" "$ngx_rps")" "$(ratio "${!rps}" "$pg_tps")" "$(ratio "${!rps}" "$tpcb_tps")" "${!ams}+${!pgms}" "${!wcpu}" "${!wother}"
        done
        row "nginx static, same paths and tokens (GET)" "$ngx_rps" "$ngx_p50" "$ngx_p99" "$((ngx_bad + ngx_err))" "1" "$(ratio "$ngx_rps" "$pg_tps")" "" "" "$ngx_cpu" "$ngx_other"
        row "pgbench -S -M prepared -c$PGBENCH_CLIENTS" "$pg_tps" "avg $pg_lat" "-" "$pg_failed" "$(ratio "$pg_tps" "$ngx_rps")" "1" "" "" "$pg_cpu" "$pg_other"
        row "pgbench TPC-B -M prepared -c$PGBENCH_CLIENTS (fsync on)" "$tpcb_tps" "avg $tpcb_lat" "-" "$tpcb_failed" "" "" "1" "" "$tpcb_cpu" "$tpcb_other"
        printf 'the rush over pgbench TPC-B, goal >= 0.5 (issue #14): %s\n' "$(for w in "${waves[@]}"; do r=${w}_rps; printf '%s %s  ' "$w" "$(ratio "${!r}" "$tpcb_tps")"; done)"
        printf '(errors: non-2xx + socket errors + joins not answered; CPU/req: atriumd + PostgreSQL CPU ms per join; cpu%%/other%%: the bench'"'"'s processes / everything else, %% of all %s cores)\n' "$(nproc)"
        for w in "${waves[@]}"; do
                rows=${w}_rows users=${w}_users span=${w}_span_rps wall=${w}_wall rss=${w}_rss
                printf '%s: %s rows for %s people in %s s of wall time; by joined_at %s joins/s; atriumd VmRSS after it %s MiB\n' \
                        "$w" "${!rows}" "${!users}" "${!wall}" "${!span}" "$(mib "${!rss}")"
        done
        printf 'open visits after the rush: %s (one per person expected), closed: %s\n' "$open_after" "$closed_by_reconnect"
        if ((HISTORY_WAVES > 0)); then
                printf 'history wave: %s open visits of the last day before it; it closed %s history visits, now %s h long on average\n' \
                        "$open_hist" "$hist_closed" "$hist_hours"
        fi
        echo
        row2() { printf '%-52s %9s %9s %9s %9s %17s %8s %6s\n' "$@"; }
        row2 "GET .../stats over $STATS_DAYS days ($n_att rows)" "median s" "min s" "max s" "first s" "CPU/call a+pg ms" "buckets" "other%"
        row2 "school s01, day ($expect_s01 joins), $STATS_RUNS runs" "$(fmt_s "$sday_med")" "$(fmt_s "$sday_min")" "$(fmt_s "$sday_max")" "$(fmt_s "$sday_first")" "$sday_ams+$sday_pgms" "$sday_buckets" "$sday_other"
        row2 "school s01, hour, $STATS_RUNS runs" "$(fmt_s "$shour_med")" "$(fmt_s "$shour_min")" "$(fmt_s "$shour_max")" "$(fmt_s "$shour_first")" "$shour_ams+$shour_pgms" "$shour_buckets" "$shour_other"
        row2 "all schools, day ($expect_all joins), $STATS_ALL_RUNS runs" "$(fmt_s "$aday_med")" "$(fmt_s "$aday_min")" "$(fmt_s "$aday_max")" "$(fmt_s "$aday_first")" "$aday_ams+$aday_pgms" "$aday_buckets" "$aday_other"
        row2 "all schools, hour, $STATS_ALL_RUNS runs" "$(fmt_s "$ahour_med")" "$(fmt_s "$ahour_min")" "$(fmt_s "$ahour_max")" "$(fmt_s "$ahour_first")" "$ahour_ams+$ahour_pgms" "$ahour_buckets" "$ahour_other"
        printf 'conference.stats() under auto_explain (ANALYZE, BUFFERS), day buckets: school %s ms (%s, %s sorts on disk, temp written %s MiB), all schools %s ms (%s, %s sorts on disk, temp written %s MiB); pgbench -S %s tps\n' \
                "$ex_school_ms" "$ex_school_idx" "$ex_school_ext" "$ex_school_temp" "$ex_all_ms" "$ex_all_idx" "$ex_all_ext" "$ex_all_temp" "$pg_tps"
        printf 'roll-up (conference.rollup(), batches of %s): %s school days in %s s, %s rows, %s MiB\n' \
                "$ROLLUP_BATCH" "$rollup_days" "$rollup_s" "$rollup_rows" "$rollup_mb"
        printf 'set-up: %s activation codes in %s s, %s activations in %s s; %s rows loaded in %s s (%s MiB + %s MiB indexes); atriumd VmRSS start %s, after set-up %s, end %s MiB (VmHWM %s); log lines with error/warning: %s\n' \
                "$USERS" "$t_pw" "$USERS" "$t_login" "$STATS_ROWS" "$load_s" "$att_mb" "$idx_mb" "$(mib "$rss_start")" "$(mib "$rss_setup")" "$(mib "$rss_end")" "$(mib "$hwm_end")" "$log_problems"
        printf 'load average before %s, after %s; waited %s s for other work in all\n\n' "$load_before" "$load_after" "$waited_total"
} | tee "$out/table.txt"

other_shares=()
for w in "${waves[@]}"; do o=${w}_other; other_shares+=("${!o}"); done
disturbed=$(disturbed_note 5 "${other_shares[@]}" "$ngx_other" "$pg_other" "$tpcb_other" "$sday_other" "$shour_other" "$aday_other" "$ahour_other")
if [[ -s $out/quiet.txt ]] && grep -q 'measured while busy' "$out/quiet.txt"; then
        disturbed+=" Some loads were measured while other benchmarks, tests or builds ran, after ${QUIET_WAIT} s of waiting in all (quiet.txt of the run)."
fi

{
        echo "### $(date -u '+%Y-%m-%d %H:%M UTC') - conference, atriumd $commit"
        echo
        echo "\`ATRIUM_POOL_SIZE=$POOL_SIZE bench/conference/run.sh\` (SCHOOLS=$SCHOOLS USERS_PER_SCHOOL=$USERS_PER_SCHOOL RUSH_CONNECTIONS=$RUSH_CONNECTIONS DURATION=$DURATION STATS_ROWS=$STATS_ROWS) - one machine:"
        echo "$(nproc) × $cpu, $mem RAM, Linux $(uname -r), PostgreSQL $pg_version, $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(wrk -v 2>&1 | head -n 1 | awk '{ print "wrk " $2 }'), atriumd build type \`$buildtype\`, pool size $POOL_SIZE. Load average before: $load_before, after: $load_after; waited $waited_total s for other work."
        echo "$SCHOOLS schools with a Jitsi backend, $USERS_PER_SCHOOL students each (CSV import), $CLASSES class groups with a room each and $SCHOOL_ROOMS school-wide rooms ($n_rooms rooms); every 5th student joins a school-wide room, the others their class's. Each student signed in (bearer token). A wave: \`wrk -t$WRK_THREADS -c$WRK_CONNECTIONS --timeout $WRK_TIMEOUT\` with \`bench/conference/rush.lua\`, every one of the $USERS (token, room) pairs once, shuffled; rate = answers / wall time from wrk's start to the last answer."
        echo
        echo "| load | joins/s, req/s or tps | p50 | p99 | errors | ÷ nginx | ÷ pgbench -S | ÷ pgbench TPC-B (goal ≥ 0.5) | CPU per join: atriumd + PostgreSQL | CPU, bench | CPU, other |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        for w in "${waves[@]}"; do
                n=${w}_n rps=${w}_rps p50=${w}_p50 p99=${w}_p99 bad=${w}_bad err=${w}_err ams=${w}_ams pgms=${w}_pgms wcpu=${w}_cpu wother=${w}_other wall=${w}_wall span=${w}_span_rps
                case $w in
                w1) what="wave 1: $USERS first joins" ;;
                w*) what="wave ${w#w}: the same $USERS again (reconnects: each ends the person's open visit first)" ;;
                h*) what="after the $STATS_ROWS rows were loaded: $USERS first joins into rooms with a day of history" ;;
                esac
                echo "| \`POST …/rooms/{id}/join\`, $what | $(fmt_int "${!rps}") ($USERS in ${!wall} s; by joined_at ${!span}/s) | ${!p50} ms | ${!p99} ms | $((${!bad} + ${!err} + USERS - ${!n})) | $(ratio "${!rps}" "$ngx_rps") | $(ratio "${!rps}" "$pg_tps") | **$(ratio "${!rps}" "$tpcb_tps")** | ${!ams} + ${!pgms} ms | ${!wcpu} % | ${!wother} % |"
        done
        echo "| nginx: the join answer ($join_bytes bytes) as a static file at the same paths, same tokens, GET, ${DURATION} s | $(fmt_int "$ngx_rps") | $ngx_p50 ms | $ngx_p99 ms | $((ngx_bad + ngx_err)) | 1 | $(ratio "$ngx_rps" "$pg_tps") | | | $ngx_cpu % | $ngx_other % |"
        echo "| \`pgbench -S -M prepared -c$PGBENCH_CLIENTS -j$PGBENCH_JOBS -T$DURATION\` (scale $PGBENCH_SCALE) | $(fmt_int "$pg_tps") | avg $pg_lat ms | - | $pg_failed | $(ratio "$pg_tps" "$ngx_rps") | 1 | | | $pg_cpu % | $pg_other % |"
        echo "| \`pgbench -M prepared -c$PGBENCH_CLIENTS -j$PGBENCH_JOBS -T$DURATION\`, its TPC-B-like script, fsync on (scale $PGBENCH_SCALE) | $(fmt_int "$tpcb_tps") | avg $tpcb_lat ms | - | $tpcb_failed | | | 1 | | $tpcb_cpu % | $tpcb_other % |"
        echo
        echo "Figures over $n_att attendance rows ($att_mb MiB + $idx_mb MiB of indexes; $STATS_ROWS loaded by SQL in $load_s s over the $STATS_DAYS days before the run), range \`$stats_from\` to \`$stats_to\`, curl as the operator. The closed days rolled up first as the timer does it (\`conference.rollup()\`, batches of $ROLLUP_BATCH school days): $rollup_days school days in $rollup_s s, $rollup_rows rows, $rollup_mb MiB:"
        echo
        echo "| call | median | min | max | first | CPU per call: atriumd + PostgreSQL | buckets, answer | CPU, other |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|"
        echo "| \`GET /api/v1/schools/s01/conference/stats?granularity=day\` ($expect_s01 joins; $STATS_RUNS runs after 1 warm-up) | $(fmt_s "$sday_med") s | $(fmt_s "$sday_min") s | $(fmt_s "$sday_max") s | $(fmt_s "$sday_first") s | $sday_ams + $sday_pgms ms | $sday_buckets, $sday_bytes bytes | $sday_other % |"
        echo "| the same, \`granularity=hour\` | $(fmt_s "$shour_med") s | $(fmt_s "$shour_min") s | $(fmt_s "$shour_max") s | $(fmt_s "$shour_first") s | $shour_ams + $shour_pgms ms | $shour_buckets, $shour_bytes bytes | $shour_other % |"
        echo "| \`GET /api/v1/conference/stats?granularity=day\`, all $SCHOOLS schools ($expect_all joins; $STATS_ALL_RUNS runs) | $(fmt_s "$aday_med") s | $(fmt_s "$aday_min") s | $(fmt_s "$aday_max") s | $(fmt_s "$aday_first") s | $aday_ams + $aday_pgms ms | $aday_buckets, $aday_bytes bytes | $aday_other % |"
        echo "| the same, \`granularity=hour\` | $(fmt_s "$ahour_med") s | $(fmt_s "$ahour_min") s | $(fmt_s "$ahour_max") s | $(fmt_s "$ahour_first") s | $ahour_ams + $ahour_pgms ms | $ahour_buckets, $ahour_bytes bytes | $ahour_other % |"
        echo
        echo "Every figures answer had the range's joins in its totals. \`conference.stats()\`'s statement under auto_explain (ANALYZE, BUFFERS), day buckets: school s01 $ex_school_ms ms ($ex_school_idx; $ex_school_ext sorts on disk, temp files written: $ex_school_temp MiB), all schools $ex_all_ms ms ($ex_all_idx; $ex_all_ext sorts on disk, temp written: $ex_all_temp MiB); plans in \`explain-*.txt\` of the run. The same run's \`pgbench -S\`: $(fmt_int "$pg_tps") tps."
        echo "Set-up: $USERS activation codes (one request per school) in $t_pw s and $USERS activations (a password chosen and a sign-in, Argon2id) in $t_login s. Open visits after the rush: $open_after. atriumd VmRSS: $(mib "$rss_start") MiB at start, $(mib "$rss_setup") after the set-up, $(for w in "${waves[@]}"; do r=${w}_rss; printf '%s after %s, ' "$(mib "${!r}")" "$w"; done)$(mib "$rss_end") at the end (VmHWM $(mib "$hwm_end")). Log lines with error/warning: $log_problems. Join token: claims as the contract says, HS256 signature $jwt_ok."
        if ((HISTORY_WAVES > 0)); then
                echo "History wave: $open_hist visits of the last day had no left_at before it; the wave closed $hist_closed of them, which now last $hist_hours h on average."
        fi
        echo "CPU columns: share of all $(nproc) cores' time used by the bench's own processes and by everything else, interrupts excluded."
        echo "$disturbed"
} >"$out/results.md"
cp "$tmp/atriumd.log" "$out/atriumd.log" 2>/dev/null || true
say "raw output and results.md in $out"
cat "$out/results.md"

fails=0
for w in "${waves[@]}"; do
        n=${w}_n bad=${w}_bad err=${w}_err rows=${w}_rows users=${w}_users
        fails=$((fails + ${!bad} + ${!err} + USERS - ${!n}))
        ((${!rows} == USERS && ${!users} == USERS)) || die "wave $w added ${!rows} rows for ${!users} people, not $USERS"
done
((fails + ngx_bad + ngx_err + pg_failed + tpcb_failed == 0)) || die "some requests failed (see the errors column): these figures are not valid"
