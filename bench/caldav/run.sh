#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/caldav/run.sh - issue #19's CalDAV goals, on one machine, in one run:
#   1. REPORT calendar-query for one month (2026-11) of a calendar of EVENTS (500) events, with
#      calendar-data, on atriumd and on Radicale (the Debian package, filesystem storage, no
#      authentication) holding the same events, PUT the same way (goal: atriumd >= 100 x);
#   2. REPORT sync-collection with the current token (nothing changed) on atriumd, against
#      pgbench -S -M prepared of the same run (goal >= 0.3 x).
# (The month-window goal, 0.05 x pgbench -S, is bench/calendar/run.sh's.) atriumd is asked as
# DAVx5 asks it: HTTP Basic with an app token on every request. It builds if needed, starts a
# private PostgreSQL cluster, atriumd and Radicale on free loopback ports in a temp dir and
# tears all of it down on exit (bench/lib.sh).
#
# Knobs (environment): DURATION (10 s per load), WARMUP (2 s), EVENTS (500: one in ten a weekly
# series over the school year, the rest single events spread over it), WRK_THREADS (2),
# WRK_CONNECTIONS (8), WRK_TIMEOUT (10s), PGBENCH_CLIENTS, PGBENCH_JOBS, PGBENCH_SCALE,
# ATRIUM_BUILD_DIR (build), PG_BINDIR, BENCH_OUT (bench/caldav/out), KEEP_TMP=1.
#
# Not a test: it measures time, so it never runs from meson test or CI. Written with the
# CalDAV work (2026-12-06) and not run yet: the machine it was written on is shared, and the
# brief forbade benchmarks there. Expect to fix small things on its first run.

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
EVENTS=${EVENTS:-500}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-8}
WRK_TIMEOUT=${WRK_TIMEOUT:-10s}
BENCH_OUT=${BENCH_OUT:-$repo/bench/caldav/out}
RATIO_DIGITS=3

((EVENTS >= 10 && EVENTS <= 5000)) || { echo "bench: EVENTS must be 10..5000" >&2; exit 2; }
((DURATION >= 1 && DURATION <= 600)) || { echo "bench: DURATION must be 1..600" >&2; exit 2; }

# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"
trap cleanup EXIT

bench_preflight wrk curl jq awk meson ninja timeout python3
# Debian's python3 (the package's modules are there; a python3 earlier on PATH, a pyenv's say,
# may not see them).
py=/usr/bin/python3
[[ -x $py ]] || py=python3
"$py" -c 'import radicale' 2>/dev/null || die "Radicale is missing: apt-get install radicale"
bench_build
bench_tmp atrium-bench-caldav
start_pg "bench/caldav/run.sh"
start_atriumd "(pool size $POOL_SIZE)"

# ---- Radicale ---------------------------------------------------------------------------------

radicale_port=$(free_port)
say "starting Radicale on 127.0.0.1:$radicale_port"
# No authentication, and rights that let anyone do anything (Radicale 3 has no "none" rights).
printf '[all]\nuser: .*\ncollection: .*\npermissions: RrWw\n' >"$tmp/radicale-rights"
"$py" -m radicale --server-hosts "127.0.0.1:$radicale_port" --auth-type none \
        --rights-type from_file --rights-file "$tmp/radicale-rights" \
        --storage-filesystem-folder "$tmp/radicale" \
        --logging-level warning >"$tmp/radicale.log" 2>&1 &
radicale_pid=$!
extra_pids+=("$radicale_pid") # stopped by cleanup, and its CPU counted as the bench's
for ((i = 0; i < 300; i++)); do
        curl -s -o /dev/null "http://127.0.0.1:$radicale_port/" && break
        sleep 0.1
done
radicale_cal="http://127.0.0.1:$radicale_port/bench/school/"
curl -sf -X MKCOL "http://127.0.0.1:$radicale_port/bench/" >/dev/null || die "Radicale: MKCOL failed"
curl -sf -X MKCALENDAR "$radicale_cal" >/dev/null || die "Radicale: MKCALENDAR failed"

# ---- atriumd: a school, a teacher, an app token, a calendar -----------------------------------

say "creating the school, a teacher and an app token"
pw=$(new_password)
bench_operator
api POST /api/v1/schools "$op" '{"slug": "demo", "name": "Demo School"}' >/dev/null
api PUT /api/v1/schools/demo/modules/groups "$op" "" >/dev/null
api PUT /api/v1/schools/demo/modules/calendar "$op" "" >/dev/null
api POST /api/v1/schools/demo/users "$op" "$(jq -nc --arg p "$pw" \
        '{username: "teacher", display_name: "Bench Teacher", roles: ["teacher"], password: $p}')" >/dev/null
tok=$(sign_in demo teacher "$pw")
app=$(api POST /api/v1/auth/tokens "$tok" '{"name": "bench caldav"}' | jq -r .token)
basic="Authorization: Basic $(printf 'teacher:%s' "$app" | base64 -w0)"
atrium_cal="$api_url/dav/demo/calendars/teacher/school/"
curl -sf -X MKCALENDAR -H "$basic" "$atrium_cal" >/dev/null || die "atriumd: MKCALENDAR failed"

# ---- the same events into both ----------------------------------------------------------------

# event N: one in ten a weekly series from 2026-08-31 to the end of the school year, the others
# single one-hour events spread over the year (Europe/Berlin by TZID, UTC for singles).
event() {
        local n=$1 day
        if ((n % 10 == 0)); then
                printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:bench-%d\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20260831T%02d0000\r\nDTEND;TZID=Europe/Berlin:20260831T%02d4500\r\nRRULE:FREQ=WEEKLY;UNTIL=20270716T000000Z\r\nSUMMARY:Lesson %d\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n' \
                        "$n" $((8 + n % 8)) $((8 + n % 8)) "$n"
        else
                day=$(date -u -d "2026-08-01 + $((n * 7 % 350)) days" +%Y%m%d)
                printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:bench-%d\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:%sT%02d0000Z\r\nDTEND:%sT%02d0000Z\r\nSUMMARY:Event %d\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n' \
                        "$n" "$day" $((7 + n % 9)) "$day" $((8 + n % 9)) "$n"
        fi
}

say "PUT $EVENTS events into atriumd and into Radicale"
for ((n = 0; n < EVENTS; n++)); do
        event "$n" >"$tmp/e.ics"
        curl -sf -X PUT -H "$basic" -H 'Content-Type: text/calendar' --data-binary @"$tmp/e.ics" \
                "${atrium_cal}bench-$n.ics" >/dev/null || die "atriumd: PUT $n failed"
        curl -sf -X PUT -H 'Content-Type: text/calendar' --data-binary @"$tmp/e.ics" \
                "${radicale_cal}bench-$n.ics" >/dev/null || die "Radicale: PUT $n failed"
done
# Statistics as a running system has them (autovacuum's analyze), not the plans the first
# requests made while the tables were nearly empty (bench/webdav/run.sh says more).
psql_admin -d atrium -c 'VACUUM ANALYZE' >/dev/null

# ---- the loads ---------------------------------------------------------------------------------

query='<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20261101T000000Z" end="20261201T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>'
token=$(curl -sf -X REPORT -H "$basic" -H 'Content-Type: application/xml' --data-binary \
        '<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>' \
        "$atrium_cal" | sed -n 's:.*<D\:sync-token>\([^<]*\)</D\:sync-token>.*:\1:p')
[[ -n $token ]] || die "atriumd: no sync token"
sync='<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>'"$token"'</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>'

# report.lua: REPORT with the body in $REPORT_BODY and $REPORT_AUTH (may be empty).
cat >"$tmp/report.lua" <<'LUA'
wrk.method = "REPORT"
wrk.body = os.getenv("REPORT_BODY")
wrk.headers["Content-Type"] = "application/xml; charset=utf-8"
wrk.headers["Depth"] = "1"
local auth = os.getenv("REPORT_AUTH")
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
LUA

out=$BENCH_OUT/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
# run NAME URL ARGS...: warm-up, then the measured wrk run into $out/NAME.wrk.txt; sets r_cpu
# and r_other (the CPU shares of the bench's processes and of everything else).
run() {
        local name=$1 url=$2 m0
        shift 2
        ((WARMUP > 0)) && measure "$tmp/warmup.txt" wrk_run "$WARMUP" "$url" "$@" 2>/dev/null
        m0=$(cpu_mark)
        measure "$out/$name.wrk.txt" wrk_run "$DURATION" "$url" "$@"
        read -r r_cpu r_other < <(cpu_report "$m0" "$(cpu_mark)")
}
say "calendar-query, one month, on atriumd and on Radicale"
REPORT_BODY=$query REPORT_AUTH=${basic#Authorization: } run query.atriumd "$atrium_cal" -s "$tmp/report.lua"
qa_cpu=$r_cpu qa_other=$r_other
REPORT_BODY=$query REPORT_AUTH="" run query.radicale "$radicale_cal" -s "$tmp/report.lua"
qr_cpu=$r_cpu qr_other=$r_other
say "sync-collection, nothing changed, on atriumd"
REPORT_BODY=$sync REPORT_AUTH=${basic#Authorization: } run sync.atriumd "$atrium_cal" -s "$tmp/report.lua"
sa_cpu=$r_cpu sa_other=$r_other
pgbench_init
pgbench_ceiling "$out/pgbench.txt"

read -r qa_rps qa_p50 qa_p99 qa_bad _ < <(wrk_parse "$out/query.atriumd.wrk.txt")
read -r qr_rps qr_p50 qr_p99 qr_bad _ < <(wrk_parse "$out/query.radicale.wrk.txt")
read -r sa_rps sa_p50 sa_p99 sa_bad _ < <(wrk_parse "$out/sync.atriumd.wrk.txt")
describe_machine core plugins
cat <<EOF | tee "$out/RESULTS.md"
### CalDAV (bench/caldav/run.sh), $(date -u +%Y-%m-%d), $commit, $cpu, $mem, $buildtype

| load | req/s | p50 / p99 ms | non-2xx | vs | ratio | goal |
|---|---:|---:|---:|---|---:|---:|
| calendar-query, Nov 2026, $EVENTS events, atriumd | $(fmt_int "$qa_rps") | $qa_p50 / $qa_p99 | $qa_bad | Radicale $(fmt_int "$qr_rps") req/s ($qr_p50 / $qr_p99 ms, $qr_bad non-2xx) | **$(ratio "$qa_rps" "$qr_rps")** | ≥ 100 |
| sync-collection, no changes, atriumd | $(fmt_int "$sa_rps") | $sa_p50 / $sa_p99 | $sa_bad | pgbench -S $(fmt_int "$pg_tps") tps | **$(ratio "$sa_rps" "$pg_tps")** | ≥ 0.3 |

CPU shares (bench / other): calendar-query on atriumd $qa_cpu / $qa_other %, on Radicale $qr_cpu / $qr_other %; sync-collection $sa_cpu / $sa_other %; pgbench $pg_cpu / $pg_other %.
$(disturbed_note 5 "$qa_other" "$qr_other" "$sa_other" "$pg_other")
EOF
