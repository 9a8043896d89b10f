#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/webdav/run.sh - issue #18: atriumd's WebDAV (core/dav/, the files tree) against Apache
# httpd with mod_dav_fs on the same machine, in the same run, with the same wrk loads:
#   1. GET of a 4 KiB file (goal: atriumd >= 1.0 x Apache);
#   2. PUT of 4 KiB files, a new path and a new body each (goal >= 0.5 x);
#   3. PROPFIND Depth: 1 (allprop) of a folder of ENTRIES (1,000) files (goal >= 1.0 x).
# atriumd is asked as a sync client asks it: HTTP Basic with an app token on every request
# (the token is looked up by its hash each time); Apache without authentication. It builds if
# needed, starts a private PostgreSQL cluster, atriumd and Apache on free loopback ports in a
# temp dir, and tears all of it down on exit, also after a failure or Ctrl-C (bench/lib.sh).
#
# Knobs (environment): DURATION (10 s per wrk load), WARMUP (2 s, unmeasured), ENTRIES (1000),
# ATRIUM_POOL_SIZE, WRK_THREADS (2), WRK_CONNECTIONS (64: GET and PROPFIND), PUT_CONNECTIONS
# (32), WRK_TIMEOUT (10s), ATRIUM_BUILD_DIR (build), PG_BINDIR, BENCH_OUT (bench/webdav/out),
# KEEP_TMP=1.
#
# Not a test: it measures time, so it never runs from meson test or CI. On a shared machine
# the figures mean little; bench/README.md says how the published ones were made.

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
ENTRIES=${ENTRIES:-1000}
WRK_TIMEOUT=${WRK_TIMEOUT:-10s}
PUT_CONNECTIONS=${PUT_CONNECTIONS:-32}
BENCH_OUT=${BENCH_OUT:-$repo/bench/webdav/out}
RATIO_DIGITS=3
SMALL_BYTES=4096

((DURATION >= 1 && DURATION <= 600)) || { echo "bench: DURATION must be 1..600" >&2; exit 2; }
((ENTRIES >= 1 && ENTRIES <= 100000)) || { echo "bench: ENTRIES must be 1..100000" >&2; exit 2; }

# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"
trap cleanup EXIT

bench_preflight wrk apache2 curl jq ss awk meson ninja timeout
bench_build
[[ -f $BUILD_DIR/plugins/files.so ]] || die "no $BUILD_DIR/plugins/files.so after the build"
bench_tmp atrium-bench-webdav
start_pg "bench/webdav/run.sh"
start_atriumd "(pool size $POOL_SIZE)"
start_apache_dav "$tmp/www"

# ---- the school, the teacher, an app token ---------------------------------------------------

say "creating the school, a teacher and an app token"
pw=$(new_password)
bench_operator
api POST /api/v1/schools "$op" '{"slug": "demo", "name": "Demo School"}' >/dev/null
api PUT /api/v1/schools/demo/modules/groups "$op" "" >/dev/null
api PUT /api/v1/schools/demo/modules/files "$op" "" >/dev/null
api POST /api/v1/schools/demo/users "$op" "$(jq -nc --arg p "$pw" \
        '{username: "teacher", display_name: "Bench Teacher", roles: ["teacher"], password: $p}')" >/dev/null
tok=$(sign_in demo teacher "$pw")
app=$(api POST /api/v1/auth/tokens "$tok" '{"name": "bench webdav"}' | jq -r .token)
basic="Authorization: Basic $(printf 'teacher:%s' "$app" | base64 -w0)"
dav=$api_url/dav/demo/files/home
apache=http://127.0.0.1:$apache_port

# ---- the same content on both ------------------------------------------------------------------
#
# small.bin (4 KiB), a folder p/ for the PUTs, and a folder list/ of ENTRIES files of 4 KiB,
# uploaded with one curl each side (one connection, a PUT per file: curl -K).
head -c "$SMALL_BYTES" /dev/urandom >"$tmp/small.bin"
for base in "$dav" "$apache"; do
        auth=()
        [[ $base == "$dav" ]] && auth=(-H "$basic")
        for d in p list; do
                code=$(curl -sS -o /dev/null -w '%{http_code}' -X MKCOL "${auth[@]}" "$base/$d/")
                [[ $code == 201 ]] || die "MKCOL $base/$d/ answered $code"
        done
        code=$(curl -sS -o /dev/null -w '%{http_code}' -T "$tmp/small.bin" "${auth[@]}" "$base/small.bin")
        [[ $code == 201 ]] || die "PUT $base/small.bin answered $code"
        : >"$tmp/curl.cfg"
        for ((i = 0; i < ENTRIES; i++)); do
                printf 'upload-file = "%s"\nurl = "%s/list/entry-%05d.bin"\noutput = "/dev/null"\n' \
                        "$tmp/small.bin" "$base" "$i" >>"$tmp/curl.cfg"
        done
        say "uploading $ENTRIES files to $base/list/"
        curl -sS -f "${auth[@]}" -K "$tmp/curl.cfg" || die "uploading the listing to $base failed"
done
listed=$(curl -sS -X PROPFIND -H "$basic" -H "Depth: 1" "$dav/list/" | grep -o '<D:response>' | wc -l)
((listed == ENTRIES + 1)) || die "PROPFIND of $dav/list/ gave $listed responses, not $((ENTRIES + 1))"
# Statistics as a running system has them (autovacuum's analyze): without this, the plans the
# first requests made while the tables were nearly empty (sequential scans) stayed cached on
# atriumd's connections for part of the run, until autovacuum got round to the new rows.
psql_admin -d atrium -c 'VACUUM ANALYZE' >/dev/null

describe_machine core api plugins
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$BENCH_OUT/$stamp
mkdir -p "$out"

# ---- the loads -----------------------------------------------------------------------------------

cat >"$tmp/put.lua" <<'LUA'
local counter = 0
local next_tid = 0
function setup(thread)
        next_tid = next_tid + 1
        thread:set("tid", next_tid)
end
function init(args)
        prefix = os.getenv("PUT_PREFIX")
        auth = os.getenv("PUT_AUTH")
        math.randomseed(tid * 7919 + os.time())
        local b = {}
        for i = 1, 4096 do b[i] = string.char(math.random(0, 255)) end
        base = table.concat(b)
end
function request()
        counter = counter + 1
        local tag = string.format("%04d-%012d|", tid, counter)
        local headers = {["Content-Type"] = "application/octet-stream"}
        if auth ~= "" then headers["Authorization"] = auth end
        return wrk.format("PUT", prefix .. tid .. "-" .. counter .. ".bin", headers,
                          tag .. string.sub(base, #tag + 1))
end
LUA
cat >"$tmp/propfind.lua" <<'LUA'
wrk.method = "PROPFIND"
wrk.headers["Depth"] = "1"
wrk.headers["Content-Type"] = "application/xml"
wrk.body = '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'
if os.getenv("PF_AUTH") ~= "" then wrk.headers["Authorization"] = os.getenv("PF_AUTH") end
LUA

# run NAME URL ARGS...: warm-up, then the measured wrk run into $out/NAME.wrk.txt; sets r_rps
# r_p50 r_p99 r_bad (non-2xx plus socket errors) r_cpu r_other.
run() {
        local name=$1 url=$2 m0
        shift 2
        ((WARMUP > 0)) && measure "$tmp/warmup.txt" wrk_run "$WARMUP" "$url" "$@" 2>/dev/null
        m0=$(cpu_mark)
        measure "$out/$name.wrk.txt" wrk_run "$DURATION" "$url" "$@"
        read -r r_cpu r_other < <(cpu_report "$m0" "$(cpu_mark)")
        local bad err
        read -r r_rps r_p50 r_p99 bad err _ < <(wrk_parse "$out/$name.wrk.txt")
        r_bad=$((bad + err))
}

say "wrk: GET 4 KiB, atriumd then Apache"
run get.atriumd "$dav/small.bin" -H "$basic"
read -r ga_rps ga_p50 ga_p99 ga_bad ga_cpu ga_other <<<"$r_rps $r_p50 $r_p99 $r_bad $r_cpu $r_other"
run get.apache "$apache/small.bin"
read -r gp_rps gp_p50 gp_p99 gp_bad gp_cpu gp_other <<<"$r_rps $r_p50 $r_p99 $r_bad $r_cpu $r_other"

say "wrk: PUT 4 KiB, -c$PUT_CONNECTIONS, atriumd then Apache"
PUT_PREFIX=/dav/demo/files/home/p/ PUT_AUTH=${basic#Authorization: } WRK_CONNECTIONS=$PUT_CONNECTIONS \
        run put.atriumd "$dav/p/" -s "$tmp/put.lua"
read -r pa_rps pa_p50 pa_p99 pa_bad pa_cpu pa_other <<<"$r_rps $r_p50 $r_p99 $r_bad $r_cpu $r_other"
PUT_PREFIX=/p/ PUT_AUTH="" WRK_CONNECTIONS=$PUT_CONNECTIONS \
        run put.apache "$apache/p/" -s "$tmp/put.lua"
read -r pp_rps pp_p50 pp_p99 pp_bad pp_cpu pp_other <<<"$r_rps $r_p50 $r_p99 $r_bad $r_cpu $r_other"

say "wrk: PROPFIND Depth 1 of $ENTRIES entries, atriumd then Apache"
PF_AUTH=${basic#Authorization: } run propfind.atriumd "$dav/list/" -s "$tmp/propfind.lua"
read -r fa_rps fa_p50 fa_p99 fa_bad fa_cpu fa_other <<<"$r_rps $r_p50 $r_p99 $r_bad $r_cpu $r_other"
PF_AUTH="" run propfind.apache "$apache/list/" -s "$tmp/propfind.lua"
read -r fp_rps fp_p50 fp_p99 fp_bad fp_cpu fp_other <<<"$r_rps $r_p50 $r_p99 $r_bad $r_cpu $r_other"

load_after=$(cut -d' ' -f1 /proc/loadavg)
apache_version=$(/usr/sbin/apache2 -v | sed -n 's/^Server version: Apache\///p' | cut -d' ' -f1)
disturbed=$(disturbed_note 5 "$ga_other" "$gp_other" "$pa_other" "$pp_other" "$fa_other" "$fp_other")

cat >"$out/results.md" <<EOF
### $(date -u '+%Y-%m-%d %H:%M UTC') - WebDAV, atriumd $commit

\`$(printf 'DURATION=%s ENTRIES=%s ATRIUM_POOL_SIZE=%s bench/webdav/run.sh' "$DURATION" "$ENTRIES" "$POOL_SIZE")\` - each wrk load ${DURATION} s after a ${WARMUP} s warm-up, atriumd and Apache $apache_version (mod_dav_fs, no authentication, no fsync) one after the other on one machine:
$(nproc) × $cpu, $mem RAM, Linux $(uname -r), PostgreSQL $pg_version, atriumd build type \`$buildtype\`, pool size $POOL_SIZE; atriumd with HTTP Basic and an app token on every request. Load average before: $load_before, after: $load_after.

| load | atriumd req/s | p50 / p99 ms | errors | Apache req/s | p50 / p99 ms | errors | atriumd / Apache | goal |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
| GET 4 KiB, \`wrk -t$WRK_THREADS -c$WRK_CONNECTIONS\` | $(fmt_int "$ga_rps") | $ga_p50 / $ga_p99 | $ga_bad | $(fmt_int "$gp_rps") | $gp_p50 / $gp_p99 | $gp_bad | **$(ratio "$ga_rps" "$gp_rps")** | ≥ 1.0 |
| PUT 4 KiB, new path and body each, \`-c$PUT_CONNECTIONS\` | $(fmt_int "$pa_rps") | $pa_p50 / $pa_p99 | $pa_bad | $(fmt_int "$pp_rps") | $pp_p50 / $pp_p99 | $pp_bad | **$(ratio "$pa_rps" "$pp_rps")** | ≥ 0.5 |
| PROPFIND Depth 1, allprop, $ENTRIES entries, \`-c$WRK_CONNECTIONS\` | $(fmt_int "$fa_rps") | $fa_p50 / $fa_p99 | $fa_bad | $(fmt_int "$fp_rps") | $fp_p50 / $fp_p99 | $fp_bad | **$(ratio "$fa_rps" "$fp_rps")** | ≥ 1.0 |

CPU shares (bench / other) for atriumd's loads: GET $ga_cpu / $ga_other %, PUT $pa_cpu / $pa_other %, PROPFIND $fa_cpu / $fa_other %; Apache's: GET $gp_cpu / $gp_other %, PUT $pp_cpu / $pp_other %, PROPFIND $fp_cpu / $fp_other %. atriumd fsyncs every upload (file and directory) and commits it; Apache does neither.
${disturbed}
EOF
say "raw output and results.md in $out"
cat "$out/results.md"

if ((ga_bad + gp_bad + pa_bad + pp_bad + fa_bad + fp_bad > 0)); then
        die "some requests failed (see the errors columns): these figures are not valid"
fi
