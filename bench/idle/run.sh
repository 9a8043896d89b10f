#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/idle/run.sh - other clients' p99 while many connections sit on the host (issue #16,
# "Idle connections"), in one run on one machine:
#   1. unloaded: a signed-in student's GET /api/v1/me, wrk -t2 -c32, DURATION s: p99 (the base);
#   2. IDLE (10,000) keep-alive connections that each made one request and now say nothing
#      (bench/tools/idle-clients.py idle), the same wrk: p99 over the base, goal < 2;
#   3. SLOWLORIS (2,000) connections sending a request's headers one byte a second
#      (idle-clients.py slowloris), the same wrk: p99 over the base, goal < 2.
# All three straight to atriumd, then again through deploy/'s nginx (HTTPS; the config made
# by tests/integration/fronts.py from deploy/nginx/atrium.conf, worker_connections raised to
# hold the clients), which is how production runs: nginx holds the clients' idle connections
# and keeps a few to the host. Also the host's RSS and connection count while they are held,
# and the CPU others used.
#
# atriumd cuts a connection that is idle (or still sending headers) header_timeout seconds after
# its last answer (or accept): 15 s by default, which would close the held connections during
# the measurement and turn this into a reconnect load. The bench sets ATRIUM_HEADER_TIMEOUT to
# HOLD_TIMEOUT (600 s) so they stay: the worst case for the host, which keeps them all. nginx
# gets the same (its client_header_timeout and keepalive_timeout), so that it too holds them
# instead of closing them and measuring the holders' TLS reconnects on the same two cores.
#
# Knobs (environment): DURATION (15 s per measurement), WARMUP (3 s), IDLE (10000),
# SLOWLORIS (2000), HOLD_TIMEOUT (600), ATRIUM_POOL_SIZE, WRK_THREADS (2), ATRIUM_BUILD_DIR
# (build), PG_BINDIR, BENCH_OUT (bench/idle/out), KEEP_TMP=1. Helpers, teardown and start-up
# are bench/lib.sh's. Not a test: it measures time, so it never runs from meson test or CI.

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
IDLE=${IDLE:-10000}
SLOWLORIS=${SLOWLORIS:-2000}
HOLD_TIMEOUT=${HOLD_TIMEOUT:-600}
BENCH_OUT=${BENCH_OUT:-$repo/bench/idle/out}
# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"

bench_preflight wrk curl jq awk python3 meson ninja timeout nginx openssl
bench_build
bench_tmp atrium-bench-idle

# Both atriumd and the holder keep a descriptor per connection.
need=$((IDLE + SLOWLORIS + 1024))
ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
(($(ulimit -n) >= need)) || die "ulimit -n is $(ulimit -n), the bench needs $need (run as root)"

start_pg "bench/idle/run.sh"
ATRIUMD_EXTRA_ENV=(ATRIUM_HEADER_TIMEOUT="$HOLD_TIMEOUT")
start_atriumd "(header_timeout $HOLD_TIMEOUT s)"

say "creating a school and a signed-in student"
bench_operator
pw=$(new_password)
api POST /api/v1/schools "$op" '{"slug": "demo", "name": "Demo School"}' >/dev/null
api POST /api/v1/schools/demo/users "$op" "$(jq -nc --arg p "$pw" \
        '{username: "reader", display_name: "Bench Reader", roles: ["student"], password: $p}')" >/dev/null
token=$(sign_in demo reader "$pw")
me_hdr=(-H "Authorization: Bearer $token")
[[ $(curl -sS -o /dev/null -w '%{http_code}' "${me_hdr[@]}" "$api_url/api/v1/me") == 200 ]] ||
        die "GET /api/v1/me does not answer 200"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$BENCH_OUT/$stamp
mkdir -p "$out"

status_kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$atriumd_pid/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
metric() { curl -sS "$api_url/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

# Where the load and the held connections go: atriumd itself, or nginx (set below).
target_url=$api_url
target_port=$api_port
target_tls=""

# me_load NAME: the measured /me load; sets NAME_{rps,p50,p99,errors,cpu,other}.
me_load() {
        local name=$1 m0 rps p50 p99 bad err
        wait_quiet "$name"
        say "$name: wrk -t$WRK_THREADS -c32 -d${DURATION}s GET $target_url/api/v1/me"
        ((WARMUP > 0)) && WRK_CONNECTIONS=32 wrk_run "$WARMUP" "$target_url/api/v1/me" "${me_hdr[@]}" >/dev/null
        m0=$(cpu_mark)
        WRK_CONNECTIONS=32 measure "$out/$name.wrk.txt" wrk_run "$DURATION" "$target_url/api/v1/me" "${me_hdr[@]}"
        read -r "${name}_cpu" "${name}_other" < <(cpu_report "$m0" "$(cpu_mark)")
        read -r rps p50 p99 bad err _ < <(wrk_parse "$out/$name.wrk.txt")
        printf -v "${name}_rps" '%s' "$rps"
        printf -v "${name}_p50" '%s' "$p50"
        printf -v "${name}_p99" '%s' "$p99"
        printf -v "${name}_errors" '%s' "$((bad + err))"
}

# hold NAME MODE N: starts the holder, waits for "ready", runs me_load NAME, stops the holder;
# sets NAME_{conns,rss_kb,held}.
# The holder is one of lib.sh's extra_pids: the teardown stops it too, and its CPU counts as
# the bench's.
stop_holder() {
        kill "${extra_pids[0]}" 2>/dev/null || true
        wait "${extra_pids[0]}" 2>/dev/null || true
        extra_pids=()
}
hold() {
        local name=$1 mode=$2 n=$3 i
        say "$name: opening $n $mode connections"
        python3 "$repo/bench/tools/idle-clients.py" "$mode" "$target_port" "$n" $target_tls >"$out/$name.holder.txt" 2>&1 &
        extra_pids=($!)
        for ((i = 0; i < 1200; i++)); do
                grep -q '^ready' "$out/$name.holder.txt" && break
                kill -0 "${extra_pids[0]}" 2>/dev/null || die "idle-clients.py exited: $(tail -n 3 "$out/$name.holder.txt")"
                sleep 0.1
        done
        grep -q '^ready' "$out/$name.holder.txt" || die "$n $mode connections not open after 120 s"
        printf -v "${name}_conns" '%s' "$(metric atrium_http_connections)"
        printf -v "${name}_rss_kb" '%s' "$(status_kb VmRSS)"
        me_load "$name"
        stop_holder
        printf -v "${name}_held" '%s' "$(grep '^done' "$out/$name.holder.txt" || echo "?")"
        sleep 2
}

base_rss_kb=$(status_kb VmRSS)
me_load base
hold idle idle "$IDLE"
hold slowloris slowloris "$SLOWLORIS"

# ---- again through deploy/'s nginx -----------------------------------------------------------
say "starting deploy/'s nginx in front of atriumd"
mkdir -p "$tmp/front"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=atrium.example.org \
        -keyout "$tmp/front/key.pem" -out "$tmp/front/cert.pem" 2>/dev/null || die "openssl req failed"
nginx_port=$(free_port)
PYTHONPATH="$repo/tests:$repo/tests/integration" ATRIUM_SOURCE_DIR=$repo python3 -c '
import sys, fronts
print(fronts.nginx_config(sys.argv[1], int(sys.argv[2]), [int(sys.argv[3])], int(sys.argv[4]),
                          int(sys.argv[5])))' \
        "$tmp/front" "$nginx_port" "$api_port" "$((IDLE + SLOWLORIS + 1024))" "$HOLD_TIMEOUT" \
        >"$tmp/front/nginx.conf" ||
        die "cannot make the nginx config from deploy/nginx/atrium.conf"
nginx -c "$tmp/front/nginx.conf" -p "$tmp/front" >"$tmp/front/stderr" 2>&1 &
nginx_pid=$!
target_url="https://127.0.0.1:$nginx_port"
target_port=$nginx_port
target_tls=tls
me_hdr+=(-H "Host: atrium.example.org")
for ((i = 0; i < 100; i++)); do
        [[ $(curl -sk -o /dev/null -w '%{http_code}' -H "Host: atrium.example.org" "$target_url/healthz") == 200 ]] && break
        sleep 0.1
done
((i < 100)) || die "nginx does not answer: $(cat "$tmp/front/stderr" "$tmp/front/error.log" 2>/dev/null | tail -n 5)"
me_load nbase
hold nidle idle "$IDLE"
hold nslowloris slowloris "$SLOWLORIS"

describe_machine core api plugins
RATIO_DIGITS=2
met() { awk -v r="$1" 'BEGIN { print (r + 0 < 2) ? "yes" : "no" }'; }
disturbed=$(disturbed_note 5 "$base_other" "$idle_other" "$slowloris_other" "$nbase_other" \
        "$nidle_other" "$nslowloris_other")
# row PATH BASE NAME LABEL: one table row, NAME's p99 over BASE's.
row() {
        local base=$2 name=$3 r
        local rps=${name}_rps p50=${name}_p50 p99=${name}_p99 conns=${name}_conns rss=${name}_rss_kb
        local err=${name}_errors cpu=${name}_cpu other=${name}_other bp99=${base}_p99
        if [[ $name == "$base" ]]; then
                echo "| $1 | $4 | $(fmt_int "${!rps}") | ${!p50} ms | ${!p99} ms | | | | | $(mib "$base_rss_kb") MiB | ${!err} | ${!cpu} % | ${!other} % |"
        else
                r=$(ratio "${!p99}" "${!bp99}")
                echo "| $1 | $4 | $(fmt_int "${!rps}") | ${!p50} ms | ${!p99} ms | **$r** | < 2 | $(met "$r") | ${!conns} | $(mib "${!rss}") MiB | ${!err} | ${!cpu} % | ${!other} % |"
        fi
}

{
        echo "### $(date -u '+%Y-%m-%d %H:%M UTC') - idle connections, atriumd $commit"
        echo
        echo "\`DURATION=$DURATION bench/idle/run.sh\` - GET /api/v1/me as a signed-in student, wrk -t$WRK_THREADS -c32, ${DURATION} s after a ${WARMUP} s warm-up, alone and while other connections are held (header_timeout $HOLD_TIMEOUT s so they stay):"
        echo "$(nproc) × $cpu, $mem RAM, Linux $(uname -r), PostgreSQL $pg_version, atriumd build type \`$buildtype\`, pool size $POOL_SIZE. Load average before: $load_before."
        echo
        echo "| clients reach | held meanwhile | /me req/s | p50 | p99 | p99 over unloaded | goal | met | host connections | host RSS | errors | CPU, bench | CPU, other |"
        echo "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"
        row "atriumd" base base "nothing"
        row "atriumd" base idle "$(fmt_int "$IDLE") idle keep-alive"
        row "atriumd" base slowloris "$(fmt_int "$SLOWLORIS") slowloris (a header byte a second)"
        row "deploy/'s nginx" nbase nbase "nothing"
        row "deploy/'s nginx" nbase nidle "$(fmt_int "$IDLE") idle keep-alive"
        row "deploy/'s nginx" nbase nslowloris "$(fmt_int "$SLOWLORIS") slowloris"
        echo
        echo "Holders at the end (reopened: connections closed by the server and opened again): straight, idle $idle_held, slowloris $slowloris_held; through nginx, idle $nidle_held, slowloris $nslowloris_held. Host connections through nginx are nginx's to the host."
        echo "$disturbed"
} >"$out/results.md"
say "raw output and results.md in $out"
cat "$out/results.md"
((base_errors + idle_errors + slowloris_errors + nbase_errors + nidle_errors + nslowloris_errors == 0)) || die "some requests failed: these figures are not valid"
