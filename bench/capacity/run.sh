#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/capacity/run.sh - the capacity model's figures (issue #16, "Capacity model"): reads and
# joins per second with 1, 2 and 3 stateless hosts against one PostgreSQL on this machine, and
# the CPU each costs on the hosts and in PostgreSQL, which is what docs/OPERATIONS.md scales
# to the 08:00 peak of 4,500 schools.
#   reads: a signed-in student's GET /api/v1/me, READ_CONNECTIONS (32) in all;
#   joins: POST /conference/rooms/{id}/join (a Jitsi room: no outside call) rotating over the
#          students, JOIN_CONNECTIONS (64) in all; a student's next join ends their open visit
#          first, as a reconnect does.
# With N hosts the connections are split evenly, one wrk per host (-t1), as a balancer would.
# Every host and PostgreSQL share the same cores, so more hosts cannot add throughput here; the
# CPU milliseconds per request (hosts, PostgreSQL) are the figures that carry over to bigger
# machines, and "per core" is req/s over the cores the hosts and PostgreSQL used.
#
# Knobs (environment): HOSTS_LIST ("1 2 3"), SCHOOLS (10), USERS_PER_SCHOOL (50),
# READ_CONNECTIONS (32), JOIN_CONNECTIONS (64), DURATION (15 s), WARMUP (3 s), SIGNIN_PARALLEL
# (8), ATRIUM_POOL_SIZE (per host), ATRIUM_BUILD_DIR, PG_BINDIR, BENCH_OUT
# (bench/capacity/out), KEEP_TMP=1. Helpers, teardown and start-up are bench/lib.sh's.
# Not a test: it measures time, so it never runs from meson test or CI.

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HOSTS_LIST=${HOSTS_LIST:-"1 2 3"}
SCHOOLS=${SCHOOLS:-10}
USERS_PER_SCHOOL=${USERS_PER_SCHOOL:-50}
READ_CONNECTIONS=${READ_CONNECTIONS:-32}
JOIN_CONNECTIONS=${JOIN_CONNECTIONS:-64}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
SIGNIN_PARALLEL=${SIGNIN_PARALLEL:-8}
BENCH_OUT=${BENCH_OUT:-$repo/bench/capacity/out}
# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"
USERS=$((SCHOOLS * USERS_PER_SCHOOL))

bench_preflight wrk curl jq awk meson ninja timeout shuf
bench_build
bench_tmp atrium-bench-capacity
mkdir -p "$tmp/tok"
start_pg "bench/capacity/run.sh"
# Every host unseals the schools' backend secrets with the same key.
ATRIUMD_EXTRA_ENV=(ATRIUM_CONFERENCE_SECRET_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')")
start_atriumd "(host 1, pool size $POOL_SIZE)"
bench_operator
sql() { psql_admin -d atrium -Atc "$1"; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$BENCH_OUT/$stamp
mkdir -p "$out"

# ---- schools, students, rooms, sign-ins (through the API, as in bench/conference) -----------
say "creating $SCHOOLS schools with $USERS_PER_SCHOOL students and a room each"
secret=$(new_password)
: >"$tmp/people.csv" # slug,username,user id,room id
for ((s = 1; s <= SCHOOLS; s++)); do
        slug=$(printf 'c%02d' "$s")
        api POST /api/v1/schools "$op" "{\"slug\": \"$slug\", \"name\": \"Schule $slug\"}" >/dev/null
        api PUT "/api/v1/schools/$slug/modules/groups" "$op" "" >/dev/null
        api PUT "/api/v1/schools/$slug/modules/conference" "$op" "" >/dev/null
        api PUT "/api/v1/schools/$slug/conference/backend" "$op" "$(jq -nc --arg s "$secret" \
                '{type: "jitsi", url: "https://meet.bench.invalid", app_id: "atrium-bench", secret: $s}')" >/dev/null
        room=$(api POST "/api/v1/schools/$slug/conference/rooms" "$op" '{"name": "Aula"}' | jq -r .id)
        {
                echo "username,display_name,roles"
                for ((i = 1; i <= USERS_PER_SCHOOL; i++)); do printf '%s-p%03d,Schüler %03d,student\n' "$slug" "$i" "$i"; done
        } >"$tmp/import.csv"
        code=$(curl -sS -o "$tmp/import.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $op" \
                -H "Content-Type: text/csv" --data-binary "@$tmp/import.csv" "$api_url/api/v1/schools/$slug/users/import")
        [[ $code == 200 && $(jq .created "$tmp/import.json") == "$USERS_PER_SCHOOL" ]] ||
                die "import into $slug answered $code: $(head -c 300 "$tmp/import.json")"
        jq -r --arg s "$slug" --arg r "$room" '.rows[] | [$s, .username, .id, $r] | @csv' "$tmp/import.json" |
                tr -d '"' >>"$tmp/people.csv"
done

# Activation codes (one request per school) and activations (a password chosen and a sign-in,
# Argon2id each), SIGNIN_PARALLEL at a time in one curl, as in bench/conference. (A password the
# operator set would have to be changed at the first sign-in, docs/ACCOUNTS.md.)
say "activating $USERS students (Argon2id, ~$((USERS / 40)) s)"
pw=$(new_password)
parallel_ok() { # CONFIG: runs its transfers; dies unless all USERS answered 2xx
        sed -i '$ { /^next$/d }' "$1"
        curl -sS --parallel --parallel-max "$SIGNIN_PARALLEL" --config "$1" >"$1.status" || die "curl --parallel failed"
        [[ $(grep -c '^2' "$1.status") == "$USERS" ]] || die "$1: $(sort "$1.status" | uniq -c | tr '\n' ' ')"
}
: >"$tmp/codes.csv"
for ((s = 1; s <= SCHOOLS; s++)); do
        slug=$(printf 'c%02d' "$s")
        ids=$(awk -F, -v s="$slug" '$1 == s { print $3 }' "$tmp/people.csv" | jq -Rsc 'split("\n") | map(select(. != ""))')
        api POST "/api/v1/schools/$slug/activation-codes" "$op" "{\"users\": $ids, \"valid_days\": 1}" |
                jq -r --arg slug "$slug" '.items[] | [$slug, .username, .code] | @csv' | tr -d '"' >>"$tmp/codes.csv"
done
[[ $(wc -l <"$tmp/codes.csv") == "$USERS" ]] || die "codes.csv has $(wc -l <"$tmp/codes.csv") lines, not $USERS"
while IFS=, read -r slug user code; do
        printf 'url = "%s/api/v1/auth/activate"\nheader = "Content-Type: application/json"\ndata = "{\\"school\\": \\"%s\\", \\"username\\": \\"%s\\", \\"code\\": \\"%s\\", \\"new_password\\": \\"%s\\"}"\noutput = "%s/tok/%s.json"\nwrite-out = "%%{http_code}\\n"\nnext\n' \
                "$api_url" "$slug" "$user" "$code" "$pw" "$tmp" "$user"
done <"$tmp/codes.csv" >"$tmp/logins.curl"
parallel_ok "$tmp/logins.curl"
while IFS=, read -r slug user _ room; do
        printf '%s /api/v1/schools/%s/conference/rooms/%s/join\n' "$(jq -r .token "$tmp/tok/$user.json")" "$slug" "$room"
done <"$tmp/people.csv" | shuf --random-source=<(yes) >"$tmp/pairs.txt"
read_token=$(head -n 1 "$tmp/pairs.txt" | cut -d' ' -f1)
first_join=$(head -n 1 "$tmp/pairs.txt" | cut -d' ' -f2)
[[ $(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $read_token" "$api_url$first_join") == 200 ]] ||
        die "a join does not answer 200"

# ---- hosts ------------------------------------------------------------------------------------
ports=("$api_port")
pids=("$atriumd_pid")
add_host() {
        local port i
        port=$(free_port)
        ATRIUMD_EXTRA_ENV+=(ATRIUM_LISTEN="127.0.0.1:$port")
        ATRIUMD_EXEC=1 atriumd_env "$atriumd" serve >>"$tmp/atriumd-$((${#ports[@]} + 1)).log" 2>&1 &
        extra_pids+=($!)
        unset 'ATRIUMD_EXTRA_ENV[-1]'
        for ((i = 0; i < 300; i++)); do
                [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz") == 200 ]] && break
                sleep 0.1
        done
        ((i < 300)) || die "host $((${#ports[@]} + 1)) not ready"
        ports+=("$port")
        pids+=("${extra_pids[-1]}")
}

# cpu_split: "hosts_ticks postgres_ticks" of CPU so far (all hosts; the cluster as split_mark).
cpu_split() {
        local t a=0 pid
        for pid in "${pids[@]}"; do
                t=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')
                a=$((a + t))
        done
        echo "$a $(split_mark | cut -d' ' -f2)"
}

# run_load NAME N CONNECTIONS METHOD: one wrk -t1 per host, CONNECTIONS split evenly, for
# DURATION; sets NAME_{rps,p99,errors,hms,pgms,cores,other}.
run_load() {
        local name=$1 n=$2 conns=$3 method=$4 i m0 s0 s1 c o total=0 p99=0 bad=0 r p x err wpids=()
        wait_quiet "$name"
        wait_idle
        say "$name: $n host(s), $conns connections, $method"
        # Each host's wrk gets its own students, so no two join as the same person at once.
        for ((i = 0; i < n; i++)); do awk -v n="$n" -v i="$i" 'NR % n == i' "$tmp/pairs.txt" >"$tmp/pairs.$n.$i"; done
        for ((i = 0; i < n; i++)); do
                if [[ $method == read ]]; then
                        WRK_THREADS=1 WRK_CONNECTIONS=$((conns / n)) wrk_run "$WARMUP" "http://127.0.0.1:${ports[i]}/api/v1/me" \
                                -H "Authorization: Bearer $read_token" >/dev/null 2>&1 &
                else
                        RUSH_PAIRS=$tmp/pairs.$n.$i RUSH_THREADS=1 RUSH_ONCE=0 RUSH_METHOD=POST WRK_THREADS=1 \
                                WRK_CONNECTIONS=$((conns / n)) wrk_run "$WARMUP" "http://127.0.0.1:${ports[i]}" \
                                -s "$repo/bench/conference/rush.lua" >/dev/null 2>&1 &
                fi
                wpids+=($!)
        done
        wait "${wpids[@]}" || true
        wpids=()
        m0=$(cpu_mark)
        s0=$(cpu_split)
        for ((i = 0; i < n; i++)); do
                if [[ $method == read ]]; then
                        WRK_THREADS=1 WRK_CONNECTIONS=$((conns / n)) wrk_run "$DURATION" "http://127.0.0.1:${ports[i]}/api/v1/me" \
                                -H "Authorization: Bearer $read_token" >"$out/$name.$i.wrk.txt" 2>&1 &
                else
                        RUSH_PAIRS=$tmp/pairs.$n.$i RUSH_THREADS=1 RUSH_ONCE=0 RUSH_METHOD=POST WRK_THREADS=1 \
                                WRK_CONNECTIONS=$((conns / n)) wrk_run "$DURATION" "http://127.0.0.1:${ports[i]}" \
                                -s "$repo/bench/conference/rush.lua" >"$out/$name.$i.wrk.txt" 2>&1 &
                fi
                wpids+=($!)
        done
        wait "${wpids[@]}" || true
        s1=$(cpu_split)
        read -r c o < <(cpu_report "$m0" "$(cpu_mark)")
        local n_req=0
        for ((i = 0; i < n; i++)); do
                read -r r _ p x err nr < <(wrk_parse "$out/$name.$i.wrk.txt")
                total=$((total + r))
                n_req=$((n_req + nr))
                bad=$((bad + x + err))
                p99=$(awk -v a="$p99" -v b="$p" 'BEGIN { print (b > a) ? b : a }')
        done
        read -r hms pgms < <(split_report "$s0" "$s1" "$n_req")
        printf -v "${name}_rps" '%s' "$total"
        printf -v "${name}_p99" '%s' "$p99"
        printf -v "${name}_errors" '%s' "$bad"
        printf -v "${name}_hms" '%s' "$hms"
        printf -v "${name}_pgms" '%s' "$pgms"
        printf -v "${name}_cpu" '%s' "$c"
        printf -v "${name}_other" '%s' "$o"
        say "$name: $total/s, p99 $p99 ms (slowest host), host CPU $hms ms and PostgreSQL $pgms ms per request, errors $bad"
}

rows=()
others_seen=()
for n in $HOSTS_LIST; do
        while ((${#ports[@]} < n)); do add_host; done
        run_load "read$n" "$n" "$READ_CONNECTIONS" read
        run_load "join$n" "$n" "$JOIN_CONNECTIONS" join
        for kind in read join; do
                v=$kind$n
                rps=${v}_rps p99=${v}_p99 err=${v}_errors hms=${v}_hms pgms=${v}_pgms cpu=${v}_cpu other=${v}_other
                per_core=$(awk -v h="${!hms}" -v p="${!pgms}" 'BEGIN { if (h + p > 0) printf "%.0f", 1000 / (h + p); else print "n/a" }')
                rows+=("| $n | $kind | $(fmt_int "${!rps}") | ${!p99} ms | ${!hms} ms | ${!pgms} ms | $per_core | ${!err} | ${!cpu} % | ${!other} % |")
                others_seen+=("${!other}")
        done
done

describe_machine core api plugins
disturbed=$(disturbed_note 5 "${others_seen[@]}")
{
        echo "### $(date -u '+%Y-%m-%d %H:%M UTC') - capacity, atriumd $commit"
        echo
        echo "\`DURATION=$DURATION bench/capacity/run.sh\` - $USERS students in $SCHOOLS schools; reads: GET /api/v1/me (-c$READ_CONNECTIONS in all), joins: POST .../join of a Jitsi room rotating over the students (-c$JOIN_CONNECTIONS in all); one wrk -t1 per host. Hosts and PostgreSQL share the machine:"
        echo "$(nproc) × $cpu, $mem RAM, Linux $(uname -r), PostgreSQL $pg_version, atriumd build type \`$buildtype\`, pool size $POOL_SIZE per host. Load average before: $load_before."
        echo
        echo "| hosts | load | req/s | p99 (slowest host) | host CPU per request | PostgreSQL CPU per request | req/s per core used | errors | CPU, bench | CPU, other |"
        echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        printf '%s\n' "${rows[@]}"
        echo
        echo "req/s per core used: 1000 / (host ms + PostgreSQL ms), what one core (hosts and database together) serves of that request."
        echo "$disturbed"
} >"$out/results.md"
say "raw output and results.md in $out"
cat "$out/results.md"
