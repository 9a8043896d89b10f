#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/files/run.sh - issue #5: the files plugin on one machine, in one run:
#   1. one upload (curl -T, PUT) and one download (curl to /dev/null) of a BIG_BYTES (2 GiB)
#      file over loopback, in MB/s, with atriumd's peak RSS: VmHWM before and after each
#      transfer, and VmRSS sampled every 100 ms during it (the issue asks for < 64 MiB); a
#      second, unmeasured download goes through sha256sum and must give the source's hash;
#   2. wrk on GET .../files/home/small.bin, a 4 KiB file, with 64 connections, and in the same
#      run nginx serving the same 4 KiB file from disk with the same wrk;
#   3. wrk PUTting 4 KiB files (each body distinct) to distinct paths: all into one home, then
#      spread over PUT_HOMES people's homes; and the disk's own ceiling for small synchronous
#      writes (dd oflag=dsync), since every upload fsyncs its file and a directory;
#   4. the ceilings issue #14 names: Apache httpd with mod_dav_fs taking the same 4 KiB PUTs
#      (same wrk script, same connections) and the same 2 GiB file up and down (curl), and
#      bench/tools/fsync-rate.c, a C loop storing 4 KiB files with the writes and fsyncs an
#      upload does (Apache does not fsync: that loop is what the disk allows a durable store);
#   5. pgbench -S -M prepared on the same cluster, as the other bench scripts do.
# Every API request is authenticated (Authorization: Bearer). It builds if needed, starts a
# private PostgreSQL cluster, atriumd and nginx on free loopback ports in a temp dir, and tears
# all of it down on exit, also after a failure or Ctrl-C. Helpers, teardown and start-up are
# bench/lib.sh's. See bench/files/README.md.
#
# Knobs (environment): BIG_BYTES (2147483648; the big file's size), RSS_LIMIT_MIB (64),
# DURATION (10 s per wrk load), WARMUP (2 s, unmeasured), ATRIUM_POOL_SIZE (8), WRK_THREADS (2),
# WRK_CONNECTIONS (64, the GET load), PUT_CONNECTIONS (32), PUT_HOMES (16), WRK_TIMEOUT (10s),
# PGBENCH_CLIENTS (32), PGBENCH_JOBS (2), PGBENCH_SCALE (10), DSYNC_WRITES (1000),
# ATRIUM_BUILD_DIR (build), PG_BINDIR, BENCH_OUT (bench/files/out), KEEP_TMP=1 (keep the temp
# dir; it holds the big file and its blob).
#
# Not a test: it measures time, so it never runs from meson test or CI.

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIG_BYTES=${BIG_BYTES:-2147483648}
RSS_LIMIT_MIB=${RSS_LIMIT_MIB:-64}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
WRK_TIMEOUT=${WRK_TIMEOUT:-10s}
PUT_CONNECTIONS=${PUT_CONNECTIONS:-32}
PUT_HOMES=${PUT_HOMES:-16}
DSYNC_WRITES=${DSYNC_WRITES:-1000}
BENCH_OUT=${BENCH_OUT:-$repo/bench/files/out}
RATIO_DIGITS=3
SMALL_BYTES=4096

((BIG_BYTES >= 1048576 && BIG_BYTES <= 68719476736)) || { echo "bench: BIG_BYTES must be 1 MiB..64 GiB" >&2; exit 2; }
((DURATION >= 1 && DURATION <= 600)) || { echo "bench: DURATION must be 1..600" >&2; exit 2; }
((PUT_HOMES >= 1 && PUT_HOMES <= 200)) || { echo "bench: PUT_HOMES must be 1..200" >&2; exit 2; }
((PUT_CONNECTIONS >= 1 && PUT_CONNECTIONS <= 256)) || { echo "bench: PUT_CONNECTIONS must be 1..256" >&2; exit 2; }

# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"
# lib.sh's say, with the seconds since the start: the big transfer makes this script's phases
# uneven, and the log shows where the time went.
say() { printf '==> [%4ds] %s\n' "$SECONDS" "$*" >&2; }

# ---- memory of atriumd -----------------------------------------------------------------------

# status_kb FIELD: a field of atriumd's /proc/PID/status in kB (VmHWM, VmRSS, RssAnon, ...).
status_kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$atriumd_pid/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# atriumd's own CPU time (utime + stime) in clock ticks.
atriumd_ticks() { sed 's/^.*) //' "/proc/$atriumd_pid/stat" | awk '{ print $12 + $13 }'; }

# rss_watch_start / rss_watch_stop: samples atriumd's VmRSS and RssAnon and the bytes in
# data_dir/files/tmp/*.part (an upload being received) every 100 ms into $tmp/rss.samples
# ("epoch_s vmrss_kb rssanon_kb part_bytes" a line) while a transfer runs. stop waits for the
# sampler and sets t_rss t_anon (max kB), t_samples, and t_body: seconds from the start until
# the .part bytes reached their largest value (the whole body received and written; empty when
# no .part was seen). The sampler also ends by itself when the script or atriumd is gone, or
# the temp dir is removed.
rss_pid=""
rss_watch_start() {
        : >"$tmp/rss.samples"
        touch "$tmp/rss.on"
        t_start=$EPOCHREALTIME
        (
                while [[ -e $tmp/rss.on ]] && kill -0 "$$" 2>/dev/null; do
                        r="" a="" p=0
                        while read -r k v _; do
                                case $k in
                                VmRSS:) r=$v ;;
                                RssAnon:) a=$v ;;
                                esac
                        done <"/proc/$atriumd_pid/status" 2>/dev/null || break
                        for f in "$tmp"/data/files/tmp/*.part; do
                                [[ -e $f ]] && p=$((p + $(stat -c %s "$f" 2>/dev/null || echo 0)))
                        done
                        echo "$EPOCHREALTIME $r $a $p" >>"$tmp/rss.samples"
                        sleep 0.1
                done
        ) &
        rss_pid=$!
}
rss_watch_stop() {
        rm -f "$tmp/rss.on"
        if [[ -n $rss_pid ]]; then wait "$rss_pid" 2>/dev/null || true; fi
        rss_pid=""
        read -r t_rss t_anon t_samples t_body < <(awk -v t0="$t_start" '
                $2 > r { r = $2 } $3 > a { a = $3 } $4 > p { p = $4; tp = $1 }
                END { printf "%d %d %d %s\n", r, a, NR, (p > 0) ? sprintf("%.1f", tp - t0) : "" }' "$tmp/rss.samples")
}
# The sampler is one more child to stop on the way out; lib.sh's cleanup does the rest.
files_cleanup() {
        local rc=$?
        set +e
        if [[ -n $tmp ]]; then rm -f "$tmp/rss.on"; fi
        if [[ -n $rss_pid ]]; then kill "$rss_pid" 2>/dev/null; fi
        (exit "$rc")
        cleanup
}
trap files_cleanup EXIT

# ---- preflight, build, temp dir, disk --------------------------------------------------------

bench_preflight wrk nginx apache2 curl jq ss awk meson ninja timeout sha256sum dd findmnt cc
bench_build
[[ -f $BUILD_DIR/plugins/files.so ]] || die "no $BUILD_DIR/plugins/files.so after the build"
bench_tmp atrium-bench-files
mkdir -p "$tmp/nginx" "$tmp/www" "$tmp/src"

# The source file, the upload's .part (renamed to its blob on the same file system, so not a
# second copy) and some room for PostgreSQL and the small files: 2 x BIG_BYTES + 2 GiB free.
need_kb=$(((2 * BIG_BYTES + 2147483648) / 1024))
avail_kb=$(df -Pk "$tmp" | awk 'NR == 2 { print $4 }')
((avail_kb > need_kb)) ||
        die "$tmp has $((avail_kb / 1024)) MiB free; the big transfer needs $((need_kb / 1024)) MiB (BIG_BYTES=$BIG_BYTES)"
read -r disk_dev disk_fs < <(findmnt -no SOURCE,FSTYPE -T "$tmp")
disk_blk=$(basename "$disk_dev")
disk_rot=$(cat "/sys/block/$disk_blk/queue/rotational" 2>/dev/null || echo "?")
say "temp dir $tmp on $disk_dev ($disk_fs, rotational=$disk_rot), $((avail_kb / 1048576)) GiB free"

# ---- PostgreSQL and atriumd -------------------------------------------------------------------

start_pg "bench/files/run.sh (same settings as bench/run.sh)"
start_atriumd "(pool size $POOL_SIZE)"
sleep 1
hwm_start=$(status_kb VmHWM)
rss_start=$(status_kb VmRSS)

# ---- the school ------------------------------------------------------------------------------
#
# Modules groups and files; a teacher whose home gets the big file and the 4 KiB file, and
# PUT_HOMES more teachers whose homes share the spread PUT load (the teacher is the first of
# them). The operator raises the teacher's quota to 10 GiB (the default home quota is 1 GiB).
say "creating the school, the teacher and $((PUT_HOMES - 1)) more people"
pw=$(new_password)
bench_operator
# The first sign-in hashes a password with Argon2id (19 MiB) on a slow worker: atriumd's memory
# after it is recorded apart from the rest of the set-up.
hwm_login=$(status_kb VmHWM)
api POST /api/v1/schools "$op" '{"slug": "demo", "name": "Demo School"}' >/dev/null
api PUT /api/v1/schools/demo/modules/groups "$op" "" >/dev/null
api PUT /api/v1/schools/demo/modules/files "$op" "" >/dev/null
files=/api/v1/schools/demo/files
tokens=()
teacher_id=""
for ((u = 1; u <= PUT_HOMES; u++)); do
        name=teacher$u
        uid=$(api POST /api/v1/schools/demo/users "$op" "$(jq -nc --arg u "$name" --arg p "$pw" \
                '{username: $u, display_name: ("Bench " + $u), roles: ["teacher"], password: $p}')" |
                jq -r .id)
        tok=$(sign_in demo "$name" "$pw")
        tokens+=("$tok")
        [[ -z $teacher_id ]] && teacher_id=$uid
        # The folder the PUT loads write into.
        api PUT "$files/home/p/" "$tok" "" >/dev/null
done
teacher=${tokens[0]}
api PUT "$files/quotas/users/$teacher_id" "$op" '{"bytes": 10737418240}' >/dev/null
limit=$(api GET "$files/usage" "$teacher" "" | jq -r .home.limit)
[[ $limit == 10737418240 ]] || die "the teacher's home limit is $limit after setting the quota"
hwm_setup=$(status_kb VmHWM)
rss_setup=$(status_kb VmRSS)

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$BENCH_OUT/$stamp
mkdir -p "$out"

# ---- 1. the big file ---------------------------------------------------------------------------

big=$tmp/src/big.bin
say "generating $BIG_BYTES bytes of pseudo-random data"
t0=$(date +%s.%N)
if command -v openssl >/dev/null; then
        # AES-CTR over zeros: incompressible and fresh every run (a new key), at GB/s.
        openssl enc -aes-128-ctr -nosalt -K "$(openssl rand -hex 16)" -iv "$(openssl rand -hex 16)" \
                -in /dev/zero 2>/dev/null | head -c "$BIG_BYTES" >"$big" || true
else
        head -c 67108864 /dev/urandom >"$tmp/src/block"
        while (($(stat -c %s "$big" 2>/dev/null || echo 0) < BIG_BYTES)); do cat "$tmp/src/block"; done |
                head -c "$BIG_BYTES" >"$big" || true
        rm -f "$tmp/src/block"
fi
[[ $(stat -c %s "$big") == "$BIG_BYTES" ]] || die "generated $(stat -c %s "$big") bytes instead of $BIG_BYTES"
big_sha=$(sha256sum "$big" | cut -d' ' -f1)
# Written out now, so that the upload's fsync does not also wait for the source's dirty pages.
sync
say "source ready in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s, sha256 $big_sha"

# transfer NAME CURL_ARGS...: one timed curl with atriumd's memory and CPU around it; sets
# t_code t_bytes t_speed t_time (curl's -w), t_hwm0 t_hwm1 (VmHWM before/after, kB), t_rss
# t_anon (max sampled VmRSS/RssAnon, kB), t_samples, t_cpu t_other (cpu_report), t_ticks
# (atriumd's CPU ticks).
transfer() {
        local name=$1 m0 c0
        shift
        t_hwm0=$(status_kb VmHWM)
        rss_watch_start
        m0=$(cpu_mark)
        c0=$(atriumd_ticks)
        measure "$out/$name.curl.txt" curl -sS "$@" || die "$name: curl failed"
        t_ticks=$(($(atriumd_ticks) - c0))
        read -r t_cpu t_other < <(cpu_report "$m0" "$(cpu_mark)")
        rss_watch_stop
        t_hwm1=$(status_kb VmHWM)
        read -r t_code t_bytes t_speed t_time < <(tail -n 1 "$out/$name.curl.txt")
        t_time=$(awk -v t="$t_time" 'BEGIN { printf "%.1f", t }')
        cp "$tmp/rss.samples" "$out/$name.rss.txt"
}
mbps() { awk -v s="$1" 'BEGIN { printf "%.0f", s / 1e6 }'; }

auth=(-H "Authorization: Bearer $teacher")
say "upload: curl -T big.bin PUT $files/home/big.bin ($BIG_BYTES bytes)"
transfer upload -o "$out/upload.json" -w '%{http_code} %{size_upload} %{speed_upload} %{time_total}\n' \
        -T "$big" "${auth[@]}" -H "Content-Type: application/octet-stream" "$api_url$files/home/big.bin"
[[ $t_code == 201 ]] || die "upload answered $t_code: $(head -c 400 "$out/upload.json")"
((t_bytes == BIG_BYTES)) || die "curl sent $t_bytes bytes of $BIG_BYTES"
up_sha=$(jq -r '.etag // .sha256 // empty' "$out/upload.json" | tr -d '"')
[[ $up_sha == "$big_sha" ]] || die "upload's ETag $up_sha is not the source's sha256 $big_sha"
[[ $(jq -r .size "$out/upload.json") == "$BIG_BYTES" ]] || die "uploaded node has size $(jq -r .size "$out/upload.json")"
read -r up_code up_bytes up_speed up_time up_hwm0 up_hwm1 up_rss up_anon up_n up_cpu up_other up_ticks <<<"$t_code $t_bytes $t_speed $t_time $t_hwm0 $t_hwm1 $t_rss $t_anon $t_samples $t_cpu $t_other $t_ticks"
# When the whole body had reached the .part file, and what came after it (fsync of the .part,
# rename, fsync of the directory, commit) until curl had the answer.
up_body=${t_body:-?}
if [[ $up_body != "?" ]]; then
        up_body_mbps=$(awk -v b="$BIG_BYTES" -v t="$up_body" 'BEGIN { if (t > 0) printf "%.0f", b / t / 1e6; else print "?" }')
        up_tail=$(awk -v a="$up_time" -v b="$up_body" 'BEGIN { printf "%.1f", a - b }')
else
        up_body_mbps="?" up_tail="?"
fi
parts=$(find "$tmp/data/files/tmp" -type f 2>/dev/null | wc -l)
((parts == 0)) || say "warning: $parts .part file(s) left in data/files/tmp after the upload"

say "download: curl GET $files/home/big.bin > /dev/null"
transfer download -o /dev/null -D "$out/download.headers" \
        -w '%{http_code} %{size_download} %{speed_download} %{time_total}\n' \
        "${auth[@]}" "$api_url$files/home/big.bin"
[[ $t_code == 200 ]] || die "download answered $t_code"
((t_bytes == BIG_BYTES)) || die "downloaded $t_bytes bytes of $BIG_BYTES"
read -r dn_code dn_bytes dn_speed dn_time dn_hwm0 dn_hwm1 dn_rss dn_anon dn_n dn_cpu dn_other dn_ticks <<<"$t_code $t_bytes $t_speed $t_time $t_hwm0 $t_hwm1 $t_rss $t_anon $t_samples $t_cpu $t_other $t_ticks"

# The same file through Apache mod_dav (issue #14: atriumd >= 1.0 of it each way).
start_apache_dav "$tmp/dav"
mkdir -p "$tmp/dav/p" && chown --reference="$tmp/dav" "$tmp/dav/p"
dav_url="http://127.0.0.1:$apache_port"
say "apache: curl -T big.bin PUT /big.bin"
m0=$(cpu_mark)
measure "$out/apache-upload.curl.txt" curl -sS -o /dev/null -w '%{http_code} %{size_upload} %{speed_upload} %{time_total}\n' \
        -T "$big" "$dav_url/big.bin" || die "apache upload: curl failed"
read -r au_cpu au_other < <(cpu_report "$m0" "$(cpu_mark)")
read -r au_code au_bytes au_speed au_time < <(tail -n 1 "$out/apache-upload.curl.txt")
[[ $au_code == 201 || $au_code == 204 ]] || die "apache upload answered $au_code"
say "apache: curl GET /big.bin > /dev/null"
m0=$(cpu_mark)
measure "$out/apache-download.curl.txt" curl -sS -o /dev/null -w '%{http_code} %{size_download} %{speed_download} %{time_total}\n' \
        "$dav_url/big.bin" || die "apache download: curl failed"
read -r ad_cpu ad_other < <(cpu_report "$m0" "$(cpu_mark)")
read -r ad_code ad_bytes ad_speed ad_time < <(tail -n 1 "$out/apache-download.curl.txt")
((ad_bytes == BIG_BYTES)) || die "apache sent $ad_bytes bytes of $BIG_BYTES"
rm -f "$tmp/dav/big.bin"
au_time=$(awk -v t="$au_time" 'BEGIN { printf "%.1f", t }')
ad_time=$(awk -v t="$ad_time" 'BEGIN { printf "%.1f", t }')

say "download again through sha256sum (not measured)"
dl_sha=$(curl -sS "${auth[@]}" "$api_url$files/home/big.bin" | sha256sum | cut -d' ' -f1)
[[ $dl_sha == "$big_sha" ]] || die "downloaded content hashes to $dl_sha, the source to $big_sha"
rm -f "$big"
hwm_big=$(status_kb VmHWM)

hz=$(getconf CLK_TCK)
cpu_per_gib() { awk -v t="$1" -v hz="$hz" -v b="$BIG_BYTES" 'BEGIN { printf "%.2f", t / hz / (b / 1073741824) }'; }
up_cpu_gib=$(cpu_per_gib "$up_ticks")
dn_cpu_gib=$(cpu_per_gib "$dn_ticks")
peak_kb=$hwm_big
if ((peak_kb < RSS_LIMIT_MIB * 1024)); then rss_verdict="yes"; else rss_verdict="**no**"; fi

# ---- 2. GET of a 4 KiB file, and nginx with the same file ----------------------------------------

small_path=$files/home/small.bin
head -c "$SMALL_BYTES" /dev/urandom >"$tmp/small.bin"
code=$(curl -sS -o "$tmp/put-small.json" -w '%{http_code}' -T "$tmp/small.bin" "${auth[@]}" \
        -H "Content-Type: application/octet-stream" "$api_url$small_path")
[[ $code == 201 ]] || die "PUT small.bin answered $code: $(head -c 300 "$tmp/put-small.json")"
curl -sS -o "$tmp/api-small.bin" -D "$out/get-small.api.headers" "${auth[@]}" "$api_url$small_path"
cmp -s "$tmp/small.bin" "$tmp/api-small.bin" || die "GET small.bin does not return what was uploaded"

# nginx serves the same bytes at the same path, so both wrk runs send identical requests.
mkdir -p "$tmp/www$(dirname "$small_path")"
cp "$tmp/small.bin" "$tmp/www$small_path"
start_nginx "$tmp/www"
static_url="http://127.0.0.1:$nginx_port$small_path"
curl -sf -o "$tmp/static-small.bin" -D "$out/get-small.nginx.headers" "$static_url" || die "nginx does not answer"
cmp -s "$tmp/small.bin" "$tmp/static-small.bin" || die "nginx does not serve the same 4 KiB"

say "wrk: GET $small_path (4 KiB) as the teacher"
((WARMUP > 0)) && measure "$tmp/warmup.txt" wrk_run "$WARMUP" "$api_url$small_path" "${auth[@]}" 2>/dev/null
m0=$(cpu_mark)
measure "$out/get-small.api.wrk.txt" wrk_run "$DURATION" "$api_url$small_path" "${auth[@]}"
read -r ga_cpu ga_other < <(cpu_report "$m0" "$(cpu_mark)")

say "wrk: nginx, the same file from disk"
((WARMUP > 0)) && measure "$tmp/warmup.txt" wrk_run "$WARMUP" "$static_url" "${auth[@]}" 2>/dev/null
m0=$(cpu_mark)
measure "$out/get-small.nginx.wrk.txt" wrk_run "$DURATION" "$static_url" "${auth[@]}"
read -r gn_cpu gn_other < <(cpu_report "$m0" "$(cpu_mark)")

# ---- 3. PUT of 4 KiB files -------------------------------------------------------------------------

# Every request a new path (<thread>-<n>.bin in the home's folder p/) and a distinct body (the
# thread and counter in its first bytes), so each one stores a new blob: no deduplication.
# PUT_TOKENS lists the bearer tokens to rotate over, one request each.
cat >"$tmp/put.lua" <<'LUA'
local counter = 0
local next_tid = 0
function setup(thread)
        next_tid = next_tid + 1
        thread:set("tid", next_tid)
end
function init(args)
        prefix = os.getenv("PUT_PREFIX")
        tokens = {}
        for t in string.gmatch(os.getenv("PUT_TOKENS"), "%S+") do tokens[#tokens + 1] = t end
        math.randomseed(tid * 7919 + os.time())
        local b = {}
        for i = 1, tonumber(os.getenv("PUT_BYTES")) do b[i] = string.char(math.random(0, 255)) end
        base = table.concat(b)
end
function request()
        counter = counter + 1
        local tag = string.format("%04d-%012d|", tid, counter)
        local headers = {
                ["Authorization"] = "Bearer " .. tokens[(counter % #tokens) + 1],
                ["Content-Type"] = "application/octet-stream",
        }
        return wrk.format("PUT", prefix .. tid .. "-" .. counter .. ".bin", headers,
                          tag .. string.sub(base, #tag + 1))
end
LUA
export PUT_PREFIX=$files/home/p/ PUT_BYTES=$SMALL_BYTES

# put_load NAME TOKENS...: warm-up into p/warm-*, then the measured run; sets p_cpu p_other.
# PUT_BASE (atriumd's URL and the files' home folder) may point elsewhere: Apache's /p/.
put_load() {
        local name=$1 m0 base=${PUT_BASE:-$api_url$files/home/p/}
        shift
        export PUT_TOKENS="$*"
        if ((WARMUP > 0)); then
                PUT_PREFIX=${base#http://*/}
                PUT_PREFIX=/${PUT_PREFIX}warm-$name- WRK_CONNECTIONS=$PUT_CONNECTIONS \
                        measure "$tmp/warmup.txt" wrk_run "$WARMUP" "$base" -s "$tmp/put.lua" 2>/dev/null
        fi
        m0=$(cpu_mark)
        PUT_PREFIX=${base#http://*/}
        PUT_PREFIX=/${PUT_PREFIX}$name- WRK_CONNECTIONS=$PUT_CONNECTIONS \
                measure "$out/put-$name.wrk.txt" wrk_run "$DURATION" "$base" -s "$tmp/put.lua"
        read -r p_cpu p_other < <(cpu_report "$m0" "$(cpu_mark)")
}

say "wrk: PUT 4 KiB files, -c$PUT_CONNECTIONS, all into the teacher's home"
put_load one "$teacher"
read -r po_cpu po_other <<<"$p_cpu $p_other"
say "wrk: PUT 4 KiB files, -c$PUT_CONNECTIONS, spread over $PUT_HOMES homes"
put_load spread "${tokens[@]}"
read -r ps_cpu ps_other <<<"$p_cpu $p_other"
# Every answered PUT must be a stored file: count the rows (as the superuser, past RLS).
stored=$(psql_admin -d atrium -Atc "SELECT count(*) FROM files.nodes WHERE name LIKE 'one-%' OR name LIKE 'spread-%'" 2>/dev/null || echo "?")
parts=$(find "$tmp/data/files/tmp" -type f 2>/dev/null | wc -l)
hwm_end=$(status_kb VmHWM)

say "apache: PUT 4 KiB files, -c$PUT_CONNECTIONS, the same wrk script"
PUT_BASE=$dav_url/p/ put_load apache none
read -r pa_cpu pa_other <<<"$p_cpu $p_other"
stop_pid "$apache_pid" 5
apache_pid=""

say "disk ceiling for durable stores: bench/tools/fsync-rate, $PUT_CONNECTIONS threads, ${DURATION} s"
cc -O2 -o "$tmp/fsync-rate" "$repo/bench/tools/fsync-rate.c" -lpthread || die "cannot build fsync-rate"
mkdir -p "$tmp/fsr"
m0=$(cpu_mark)
fsr_rate=$("$tmp/fsync-rate" "$tmp/fsr" "$PUT_CONNECTIONS" "$DURATION" "$SMALL_BYTES" | awk '{ print $2 }')
read -r fsr_cpu fsr_other < <(cpu_report "$m0" "$(cpu_mark)")
rm -rf "$tmp/fsr"

say "disk ceiling: dd $DSYNC_WRITES x 4 KiB with oflag=dsync on $disk_dev"
dd if=/dev/zero of="$tmp/dsync.test" bs=4096 count="$DSYNC_WRITES" oflag=dsync 2>"$out/dsync.txt" ||
        die "dd failed: $(cat "$out/dsync.txt")"
rm -f "$tmp/dsync.test"
dsync_rate=$(awk -v n="$DSYNC_WRITES" '/copied/ { for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) s = $(i - 1); print int(n / s) }' "$out/dsync.txt")

# ---- 4. pgbench -S ---------------------------------------------------------------------------------

pgbench_init
pgbench_ceiling "$out/pgbench.txt"

# ---- results -----------------------------------------------------------------------------------------

read -r ga_rps ga_p50 ga_p99 ga_bad ga_err ga_n < <(wrk_parse "$out/get-small.api.wrk.txt")
read -r gn_rps gn_p50 gn_p99 gn_bad gn_err gn_n < <(wrk_parse "$out/get-small.nginx.wrk.txt")
read -r po_rps po_p50 po_p99 po_bad po_err po_n < <(wrk_parse "$out/put-one.wrk.txt")
read -r ps_rps ps_p50 ps_p99 ps_bad ps_err ps_n < <(wrk_parse "$out/put-spread.wrk.txt")
read -r pa_rps pa_p50 pa_p99 pa_bad pa_err pa_n < <(wrk_parse "$out/put-apache.wrk.txt")

describe_machine core api plugins
load_after=$(cut -d' ' -f1 /proc/loadavg)
big_h=$(awk -v b="$BIG_BYTES" 'BEGIN { if (b % 1073741824 == 0) printf "%d GiB", b / 1073741824; else printf "%.0f MiB", b / 1048576 }')

{
        row() { printf '%-40s %11s %10s %10s %7s %6s %6s\n' "$@"; }
        echo
        row "load" "MB/s|req/s" "time|p50" "p99 ms" "errors" "cpu%" "other%"
        row "upload $big_h (curl -T)" "$(mbps "$up_speed")" "${up_time}s" "-" 0 "$up_cpu" "$up_other"
        row "download $big_h (curl > /dev/null)" "$(mbps "$dn_speed")" "${dn_time}s" "-" 0 "$dn_cpu" "$dn_other"
        row "GET 4 KiB, atriumd (wrk -c$WRK_CONNECTIONS)" "$(fmt_int "$ga_rps")" "$ga_p50" "$ga_p99" "$((ga_bad + ga_err))" "$ga_cpu" "$ga_other"
        row "GET 4 KiB, nginx (wrk -c$WRK_CONNECTIONS)" "$(fmt_int "$gn_rps")" "$gn_p50" "$gn_p99" "$((gn_bad + gn_err))" "$gn_cpu" "$gn_other"
        row "PUT 4 KiB, one home (wrk -c$PUT_CONNECTIONS)" "$(fmt_int "$po_rps")" "$po_p50" "$po_p99" "$((po_bad + po_err))" "$po_cpu" "$po_other"
        row "PUT 4 KiB, $PUT_HOMES homes (wrk -c$PUT_CONNECTIONS)" "$(fmt_int "$ps_rps")" "$ps_p50" "$ps_p99" "$((ps_bad + ps_err))" "$ps_cpu" "$ps_other"
        row "PUT 4 KiB, Apache mod_dav (wrk -c$PUT_CONNECTIONS)" "$(fmt_int "$pa_rps")" "$pa_p50" "$pa_p99" "$((pa_bad + pa_err))" "$pa_cpu" "$pa_other"
        row "store 4 KiB durably, C loop ($PUT_CONNECTIONS threads)" "$(fmt_int "$fsr_rate")" "-" "-" "-" "$fsr_cpu" "$fsr_other"
        row "upload $big_h, Apache mod_dav" "$(mbps "$au_speed")" "${au_time}s" "-" 0 "$au_cpu" "$au_other"
        row "download $big_h, Apache mod_dav" "$(mbps "$ad_speed")" "${ad_time}s" "-" 0 "$ad_cpu" "$ad_other"
        row "dd 4 KiB oflag=dsync (disk)" "$(fmt_int "$dsync_rate")" "-" "-" "-" "" ""
        row "pgbench -S -M prepared" "$(fmt_int "$pg_tps")" "avg $pg_lat" "-" "$pg_failed" "$pg_cpu" "$pg_other"
        printf '(cpu%%: the bench'"'"'s own processes, other%%: everything else, in %% of all %s cores)\n' "$(nproc)"
        printf 'GET 4 KiB atriumd / nginx = %s\n' "$(ratio "$ga_rps" "$gn_rps")"
        printf 'PUT 4 KiB (%s homes) / Apache = %s (goal >= 0.5), / the C loop = %s (goal >= 0.8)\n' \
                "$PUT_HOMES" "$(ratio "$ps_rps" "$pa_rps")" "$(ratio "$ps_rps" "$fsr_rate")"
        printf '%s upload / Apache = %s, download / Apache = %s (goal >= 1.0 each, RSS < %s MiB: %s)\n' \
                "$big_h" "$(ratio "$up_speed" "$au_speed")" "$(ratio "$dn_speed" "$ad_speed")" "$RSS_LIMIT_MIB" "$rss_verdict"
        printf 'upload: whole body in the .part after %s s (%s MB/s), then %s s to the answer (fsync, rename, commit)\n' \
                "$up_body" "$up_body_mbps" "$up_tail"
        printf 'atriumd VmHWM: start %s MiB, after the first sign-in %s, after set-up %s, after upload %s, after download %s, at the end %s MiB\n' \
                "$(mib "$hwm_start")" "$(mib "$hwm_login")" "$(mib "$hwm_setup")" "$(mib "$up_hwm1")" "$(mib "$dn_hwm1")" "$(mib "$hwm_end")"
        printf 'sampled max VmRSS (RssAnon): upload %s (%s) MiB, %s samples; download %s (%s) MiB, %s samples\n' \
                "$(mib "$up_rss")" "$(mib "$up_anon")" "$up_n" "$(mib "$dn_rss")" "$(mib "$dn_anon")" "$dn_n"
        printf 'peak under %s MiB through both transfers: %s; atriumd CPU: upload %s s/GiB, download %s s/GiB\n' \
                "$RSS_LIMIT_MIB" "$rss_verdict" "$up_cpu_gib" "$dn_cpu_gib"
        printf 'PUT rows stored by the measured runs %s, answers wrk counted %s, .part files left %s\n' \
                "$stored" "$((po_n + ps_n))" "$parts"
        printf 'load average before %s, after %s\n\n' "$load_before" "$load_after"
} | tee "$out/table.txt"

disturbed=$(disturbed_note 5 "$up_other" "$dn_other" "$ga_other" "$gn_other" "$po_other" "$ps_other" "$pa_other" "$fsr_other" "$au_other" "$ad_other" "$pg_other")

cat >"$out/results.md" <<EOF
### $(date -u '+%Y-%m-%d %H:%M UTC') - files, atriumd $commit

\`$(printf 'BIG_BYTES=%s DURATION=%s ATRIUM_POOL_SIZE=%s bench/files/run.sh' "$BIG_BYTES" "$DURATION" "$POOL_SIZE")\` - the transfers one after the other, then each wrk load ${DURATION} s after a ${WARMUP} s warm-up, on one machine:
$(nproc) × $cpu, $mem RAM, Linux $(uname -r), PostgreSQL $pg_version, $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(wrk -v 2>&1 | head -n 1 | awk '{ print "wrk " $2 }'), $(curl -V | head -n 1 | awk '{ print "curl " $2 }'), atriumd build type \`$buildtype\`, pool size $POOL_SIZE. Load average before: $load_before, after: $load_after.
Temp dir (PostgreSQL, atriumd's \`data_dir\`, the source file) on $disk_dev, $disk_fs, rotational=$disk_rot. A teacher's home, bearer token; the source file is AES-CTR output (incompressible, new every run), read from the page cache.

| load | MB/s or req/s | time or p50 | p99 | errors | atriumd peak RSS (VmHWM) | CPU, bench | CPU, other |
|---|---:|---:|---:|---:|---:|---:|---:|
| upload $big_h, \`curl -T\` (PUT, Content-Length) | $(mbps "$up_speed") MB/s | $up_time s | - | 0 | $(mib "$up_hwm0") → $(mib "$up_hwm1") MiB (sampled max $(mib "$up_rss")) | $up_cpu % | $up_other % |
| download $big_h, \`curl -o /dev/null\` | $(mbps "$dn_speed") MB/s | $dn_time s | - | 0 | $(mib "$dn_hwm0") → $(mib "$dn_hwm1") MiB (sampled max $(mib "$dn_rss")) | $dn_cpu % | $dn_other % |
| atriumd \`GET .../files/home/small.bin\` (4 KiB), \`wrk -t$WRK_THREADS -c$WRK_CONNECTIONS\` | $(fmt_int "$ga_rps") | $ga_p50 ms | $ga_p99 ms | $((ga_bad + ga_err)) | | $ga_cpu % | $ga_other % |
| nginx, the same 4 KiB file from disk, same wrk | $(fmt_int "$gn_rps") | $gn_p50 ms | $gn_p99 ms | $((gn_bad + gn_err)) | | $gn_cpu % | $gn_other % |
| atriumd \`PUT\` 4 KiB, new path and content each, one home, \`wrk -c$PUT_CONNECTIONS\` | $(fmt_int "$po_rps") | $po_p50 ms | $po_p99 ms | $((po_bad + po_err)) | | $po_cpu % | $po_other % |
| the same spread over $PUT_HOMES people's homes | $(fmt_int "$ps_rps") | $ps_p50 ms | $ps_p99 ms | $((ps_bad + ps_err)) | | $ps_cpu % | $ps_other % |
| Apache $(/usr/sbin/apache2 -v | sed -n 's/^Server version: Apache\///p' | cut -d' ' -f1) mod_dav_fs: the same 4 KiB PUTs, same wrk script and connections | $(fmt_int "$pa_rps") | $pa_p50 ms | $pa_p99 ms | $((pa_bad + pa_err)) | | $pa_cpu % | $pa_other % |
| a C loop storing 4 KiB files durably as an upload does (\`bench/tools/fsync-rate.c\`: write, fsync, rename into a fan-out directory, fsync it), $PUT_CONNECTIONS threads | $(fmt_int "$fsr_rate") files/s | - | - | - | | $fsr_cpu % | $fsr_other % |
| Apache mod_dav: upload $big_h, \`curl -T\` | $(mbps "$au_speed") MB/s | $au_time s | - | 0 | | $au_cpu % | $au_other % |
| Apache mod_dav: download $big_h, \`curl -o /dev/null\` | $(mbps "$ad_speed") MB/s | $ad_time s | - | 0 | | $ad_cpu % | $ad_other % |
| the disk: \`dd bs=4096 oflag=dsync\`, $DSYNC_WRITES writes | $(fmt_int "$dsync_rate") writes/s | - | - | - | | | |
| PostgreSQL \`pgbench -S -M prepared -c$PGBENCH_CLIENTS -j$PGBENCH_JOBS\` (scale $PGBENCH_SCALE) | $(fmt_int "$pg_tps") tps | avg $pg_lat ms | - | $pg_failed | | $pg_cpu % | $pg_other % |

GET 4 KiB atriumd / nginx = **$(ratio "$ga_rps" "$gn_rps")**. Issue #14: PUT 4 KiB ($PUT_HOMES homes) / Apache = **$(ratio "$ps_rps" "$pa_rps")** (goal ≥ 0.5), / the durable C loop = **$(ratio "$ps_rps" "$fsr_rate")** (goal ≥ 0.8); $big_h upload / Apache = **$(ratio "$up_speed" "$au_speed")**, download / Apache = **$(ratio "$dn_speed" "$ad_speed")** (goal ≥ 1.0 each, with RSS under $RSS_LIMIT_MIB MiB). MB/s is curl's average over the whole transfer (10^6 bytes/s), the upload's including the server's fsync and commit: the whole body was in the \`.part\` file after $up_body s ($up_body_mbps MB/s), the answer came $up_tail s later (fsync of the \`.part\`'s pages still dirty in the page cache, rename, directory fsync, commit). The upload's ETag and a second download through \`sha256sum\` matched the source. atriumd's VmHWM: $(mib "$hwm_start") MiB after start-up, $(mib "$hwm_login") MiB after the first sign-in (Argon2id), $(mib "$hwm_setup") MiB after the set-up ($PUT_HOMES people created with a password and signed in, an Argon2id hash each time), $(mib "$hwm_big") MiB after both transfers, $(mib "$hwm_end") MiB at the end; **under $RSS_LIMIT_MIB MiB through the $big_h transfers: $rss_verdict**. atriumd's CPU: $up_cpu_gib s per GiB uploaded, $dn_cpu_gib s per GiB downloaded. PUT rows stored by the two measured runs: $stored, for $((po_n + ps_n)) answers wrk counted (requests still in flight when wrk stops are stored but not counted); \`.part\` files left: $parts. CPU columns: share of all $(nproc) cores' time used by the bench's own processes and by everything else, interrupts excluded.
${disturbed}
EOF
say "raw output and results.md in $out"
cat "$out/results.md"

if ((ga_bad + ga_err + gn_bad + gn_err + po_bad + po_err + ps_bad + ps_err + pa_bad + pa_err + pg_failed > 0)); then
        die "some requests failed (see the errors column): these figures are not valid"
fi
