#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/calendar/run.sh - issue #6: the calendar plugin on one machine, in one run, against the
# PostgreSQL ceiling measured in the same run:
#   1. wrk on the one-month window GET /calendars/{id}/events?from=2026-11-01&to=2026-12-01 of
#      a calendar of 10,000 events (500 weekly series over a school year, 9,500 single events):
#      the first page as the issue writes the URL (the route pages, 50 occurrences by default),
#      and walking every page of the month at limit=500; both also timed unloaded (curl);
#   2. wrk on GET /calendars/{id}.ics, the export of the whole calendar (fewer connections);
#   3. POST /calendars/{id}/import of a 5,000-event .ics into a fresh calendar, timed end to end
#      with curl, IMPORT_REPS times, each into a new empty calendar;
#   4. pgbench -S -M prepared, the ceiling; and the window's and the export's SQL alone, run by
#      pgbench as the request role (1 client), to split HTTP + libical from SQL.
# The headline is issue #19's: the month-window first page as a ratio to pgbench -S of the same
# run (goal >= 0.05).
# Every HTTP load is authenticated (Authorization: Bearer, a teacher who owns the calendar). It
# builds if needed, starts a private PostgreSQL cluster and atriumd on free loopback ports in a
# temp dir and tears all of it down on exit, also after a failure or Ctrl-C. Helpers, teardown
# and start-up are bench/lib.sh's. See bench/calendar/README.md.
#
# Knobs (environment): DURATION (10 s per load), WARMUP (2 s, unmeasured), ATRIUM_POOL_SIZE
# (8), WRK_THREADS (2), WRK_CONNECTIONS (8, not 64: see below), WRK_TIMEOUT (10s), PGBENCH_CLIENTS (32), PGBENCH_JOBS (2), PGBENCH_SCALE (10), SERIES (500),
# SINGLES (9500), IMPORT_EVENTS (5000, of which one in 20 a weekly series), IMPORT_REPS (5),
# LOAD_PART (2500 events per import request while loading the calendar), ICS_VTIMEZONE (1: the
# generated files carry Berlin's VTIMEZONE, as clients' files do; 0: TZID only), UNLOADED (30
# timed unloaded requests each), MAX_BODY (atriumd's request body limit, 4194304: a 5,000-event file
# is ~1.1 MB even with short events, over atriumd's default of 1 MiB; empty: that default),
# ATRIUM_BUILD_DIR (build), PG_BINDIR, BENCH_OUT (bench/calendar/out), KEEP_TMP=1,
# ONLY_UNLOADED=1 (load the calendar, then only the CPU per first-page request, UNLOADED
# requests one at a time: no wrk, no pgbench; it reads no table a newer schema added, so it
# also measures an older build for a before/after), WINDOW_GOAL (0.05).
#
# Smoke test (checks the script, measures nothing): SERIES=5 SINGLES=100 IMPORT_EVENTS=20
# IMPORT_REPS=1 DURATION=1 WARMUP=0 UNLOADED=2 PGBENCH_SCALE=1 bench/calendar/run.sh
#
# Not a test: it measures time, so it never runs from meson test or CI.

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
# An export parses every event under the plugin's one libical mutex (a window page no longer
# does: it reads stored occurrences, issue #19). 8 connections (the pool size) keep atriumd
# busy; 64 would only queue exports past wrk's timeout and turn them into socket errors.
WRK_CONNECTIONS=${WRK_CONNECTIONS:-8}
WRK_TIMEOUT=${WRK_TIMEOUT:-10s}
SERIES=${SERIES:-500}
SINGLES=${SINGLES:-9500}
IMPORT_EVENTS=${IMPORT_EVENTS:-5000}
IMPORT_REPS=${IMPORT_REPS:-5}
LOAD_PART=${LOAD_PART:-2500}
ICS_VTIMEZONE=${ICS_VTIMEZONE:-1}
UNLOADED=${UNLOADED:-30}
MAX_BODY=${MAX_BODY-4194304}
BENCH_OUT=${BENCH_OUT:-$repo/bench/calendar/out}
ONLY_UNLOADED=${ONLY_UNLOADED:-0}
WINDOW_GOAL=${WINDOW_GOAL:-0.05}
RATIO_DIGITS=4

((SERIES >= 1 && SERIES <= 5000)) || { echo "bench: SERIES must be 1..5000" >&2; exit 2; }
((SINGLES >= 100 && SINGLES <= 200000)) || { echo "bench: SINGLES must be 100..200000" >&2; exit 2; }
((IMPORT_EVENTS >= 20 && IMPORT_EVENTS <= 5000)) || { echo "bench: IMPORT_EVENTS must be 20..5000 (the plugin's limit)" >&2; exit 2; }
((LOAD_PART >= 1 && LOAD_PART <= 5000)) || { echo "bench: LOAD_PART must be 1..5000" >&2; exit 2; }
((IMPORT_REPS >= 1 && IMPORT_REPS <= 100)) || { echo "bench: IMPORT_REPS must be 1..100" >&2; exit 2; }
((DURATION >= 1 && DURATION <= 600)) || { echo "bench: DURATION must be 1..600" >&2; exit 2; }

# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"

# The school year and the window. Times are local to Europe/Berlin; the year has 365 days
# from 2026-08-01 (a Saturday).
YEAR_FROM=2026-08-01
YEAR_UNTIL_UTC=20270731T215959Z # 2027-07-31 23:59:59 in Berlin (CEST)
WIN_FROM=2026-11-01T00:00:00Z
WIN_TO=2026-12-01T00:00:00Z

# gen_ics PREFIX N_SERIES N_SINGLES [FIRST LAST]: an .ics on stdout, CRLF lines, with Berlin's
# VTIMEZONE (as Google, Apple and Outlook send one) unless ICS_VTIMEZONE=0. Events are numbered 0..N-1, series first;
# FIRST..LAST (default all) selects a part, so a file too large for one import can be sent in
# parts with the same UIDs it would have had as one.
#   series k: weekly (RRULE:FREQ=WEEKLY;UNTIL=end of the year) on weekday k mod 5 (Mon..Fri),
#             at 08:00 + (k / 5 mod 8) hours, 45 minutes, from the first such day of the year;
#   single i: on day floor(i * 365 / N_SINGLES) of the year, 07:00 + (i mod 12) hours +
#             (i mod 4) * 15 minutes, one hour; every 20th an all-day event.
gen_ics() {
        awk -v prefix="$1" -v ns="$2" -v ne="$3" -v first="${4:-0}" -v last="${5:--1}" \
                -v until="$YEAR_UNTIL_UTC" -v vtz="$ICS_VTIMEZONE" '
        function ymd(d,   y, m, ml, i) {   # day d of the year from 2026-08-01 -> YYYYMMDD
                split("31 30 31 30 31 31 28 31 30 31 30 31 31 30 31", ml, " ")
                y = 2026; m = 8
                for (i = 1; d >= ml[i]; i++) { d -= ml[i]; m++; if (m > 12) { m = 1; y++ } }
                return sprintf("%04d%02d%02d", y, m, d + 1)
        }
        function hm(min) { return sprintf("T%02d%02d00", int(min / 60), min % 60) }
        BEGIN {
                ORS = "\r\n"
                if (last < 0) last = ns + ne - 1
                print "BEGIN:VCALENDAR"; print "VERSION:2.0"; print "PRODID:-//Atrium//bench//EN"
                if (vtz == 1) {
                        print "BEGIN:VTIMEZONE"; print "TZID:Europe/Berlin"
                        print "BEGIN:DAYLIGHT"; print "TZOFFSETFROM:+0100"; print "TZOFFSETTO:+0200"
                        print "TZNAME:CEST"; print "DTSTART:19700329T020000"
                        print "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"; print "END:DAYLIGHT"
                        print "BEGIN:STANDARD"; print "TZOFFSETFROM:+0200"; print "TZOFFSETTO:+0100"
                        print "TZNAME:CET"; print "DTSTART:19701025T030000"
                        print "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"; print "END:STANDARD"
                        print "END:VTIMEZONE"
                }
                split("Mathe Deutsch Englisch Physik Chemie Biologie Geschichte Sport Kunst Musik", subj, " ")
                for (n = first; n <= last; n++) {
                        print "BEGIN:VEVENT"
                        print "DTSTAMP:20260701T120000Z"
                        if (n < ns) {
                                k = n; wd = k % 5; d0 = (wd + 2) % 7; start = 480 + (int(k / 5) % 8) * 60
                                print "UID:" prefix "-series-" k "@bench.atrium.invalid"
                                print "SUMMARY:" subj[k % 10 + 1] " " (k % 9 + 5) substr("abcde", wd + 1, 1)
                                print "LOCATION:Raum " (100 + k % 50)
                                print "DTSTART;TZID=Europe/Berlin:" ymd(d0) hm(start)
                                print "DTEND;TZID=Europe/Berlin:" ymd(d0) hm(start + 45)
                                print "RRULE:FREQ=WEEKLY;UNTIL=" until
                        } else {
                                i = n - ns; d = int(i * 365 / ne)
                                print "UID:" prefix "-event-" i "@bench.atrium.invalid"
                                print "SUMMARY:" (i % 3 == 0 ? "Elternabend " : i % 3 == 1 ? "Klassenarbeit " : "AG ") subj[i % 10 + 1]
                                print "LOCATION:Raum " (100 + i % 50)
                                if (i % 20 == 0) {
                                        print "DTSTART;VALUE=DATE:" ymd(d)
                                        print "DTEND;VALUE=DATE:" ymd(d + 1)
                                } else {
                                        start = 420 + (i % 12) * 60 + (i % 4) * 15
                                        print "DTSTART;TZID=Europe/Berlin:" ymd(d) hm(start)
                                        print "DTEND;TZID=Europe/Berlin:" ymd(d) hm(start + 60)
                                }
                        }
                        print "END:VEVENT"
                }
                print "END:VCALENDAR"
        }'
}

# import_file CALENDAR FILE OUT: POSTs FILE as text/calendar; the answer goes to OUT; prints
# "http_status seconds".
import_file() {
        curl -sS -o "$3" -w '%{http_code} %{time_total}\n' -X POST \
                -H "Authorization: Bearer $teacher" -H "Content-Type: text/calendar" \
                --data-binary "@$2" "$api_url$cal_base/calendars/$1/import"
}

new_calendar() {
        api POST "$cal_base/calendars" "$teacher" "$(jq -nc --arg n "$1" '{name: $n, owner: {type: "user"}}')" |
                jq -r .id
}

# ---- preflight, build, temp dir --------------------------------------------------------------

bench_preflight wrk curl jq ss awk meson ninja timeout
bench_build
[[ -f $BUILD_DIR/plugins/calendar.so ]] || die "no $BUILD_DIR/plugins/calendar.so after the build (libical missing at configure time?)"
[[ -f $BUILD_DIR/plugins/groups.so ]] || die "no $BUILD_DIR/plugins/groups.so after the build"
bench_tmp atrium-bench-calendar
[[ -n $MAX_BODY ]] && ATRIUMD_EXTRA_ENV+=(ATRIUM_MAX_BODY="$MAX_BODY")

# ---- PostgreSQL and atriumd -------------------------------------------------------------------

start_pg "bench/calendar/run.sh (same settings as bench/run.sh)"
start_atriumd "(pool size $POOL_SIZE, max_body ${MAX_BODY:-default})"
max_body_used=${MAX_BODY:-1048576}

# ---- the school and its calendar ------------------------------------------------------------
#
# An operator creates the school and enables groups (calendar needs it) and calendar; a teacher
# signs in and keeps a personal calendar. Its events go in through the plugin's own import, in
# parts of LOAD_PART events (at most 5,000 VEVENTs and max_body bytes per request).
say "creating the school, a teacher and a calendar of $SERIES weekly series + $SINGLES events"
pw=$(new_password)
bench_operator
api POST /api/v1/schools "$op" '{"slug": "demo", "name": "Demo School"}' >/dev/null
api PUT /api/v1/schools/demo/modules/groups "$op" "" >/dev/null
api PUT /api/v1/schools/demo/modules/calendar "$op" "" >/dev/null
teacher_id=$(api POST /api/v1/schools/demo/users "$op" "$(jq -nc --arg p "$pw" \
        '{username: "teacher", display_name: "Bench Teacher", roles: ["teacher"], password: $p}')" | jq -r .id)
teacher=$(sign_in demo teacher "$pw")
cal_base=/api/v1/schools/demo/calendar
cal=$(new_calendar "Stundenplan 2026/27")

total=$((SERIES + SINGLES))
load_s=0
for ((first = 0; first < total; first += LOAD_PART)); do
        last=$((first + LOAD_PART - 1))
        ((last < total)) || last=$((total - 1))
        gen_ics year "$SERIES" "$SINGLES" "$first" "$last" >"$tmp/part.ics"
        read -r st secs < <(import_file "$cal" "$tmp/part.ics" "$tmp/part-answer.json")
        [[ $st == 200 ]] || die "import of events $first..$last ($(wc -c <"$tmp/part.ics") bytes) answered $st: $(head -c 400 "$tmp/part-answer.json")"
        [[ $(jq .created "$tmp/part-answer.json") == $((last - first + 1)) ]] ||
                die "import of events $first..$last: $(jq -c 'del(.events)' "$tmp/part-answer.json")"
        load_s=$(awk -v a="$load_s" -v b="$secs" 'BEGIN { printf "%.2f", a + b }')
done
psql_admin -d atrium -c 'VACUUM ANALYZE'
read -r n_events n_series < <(psql_admin -d atrium -Atc "
        SELECT count(*), count(*) FILTER (WHERE ical LIKE '%RRULE:FREQ=WEEKLY%')
          FROM calendar.events WHERE calendar_id = '$cal'" | tr '|' ' ')
((n_events == total && n_series == SERIES)) || die "calendar holds $n_events events, $n_series series"
say "calendar $cal: $n_events events ($n_series weekly series), loaded in $load_s s"

# The window, page by page (limit=500), to count its occurrences and collect the cursors (the
# data does not change during the run, so they stay valid).
win_q="from=$WIN_FROM&to=$WIN_TO"
win_path="$cal_base/calendars/$cal/events?$win_q"
page1=$(api GET "$win_path" "$teacher" "")
win_items=$(jq '.items | length' <<<"$page1")
win_bytes=${#page1}
walk_paths=()
occurrences=0
walk_bytes=0
cursor=""
while :; do
        p="$cal_base/calendars/$cal/events?$win_q&limit=500${cursor:+&cursor=$cursor}"
        walk_paths+=("$p")
        page=$(api GET "$p" "$teacher" "")
        occurrences=$((occurrences + $(jq '.items | length' <<<"$page")))
        walk_bytes=$((walk_bytes + ${#page}))
        series_occ=$((${series_occ:-0} + $(jq '[.items[] | select(.recurrence_id != null)] | length' <<<"$page")))
        cursor=$(jq -r '.next_cursor // empty' <<<"$page")
        [[ -n $cursor ]] || break
        ((${#walk_paths[@]} < 100)) || die "more than 100 pages in the window"
done
pages=${#walk_paths[@]}
say "window $WIN_FROM..$WIN_TO: $occurrences occurrences ($series_occ of series) in $pages pages of 500, $walk_bytes bytes"
((occurrences > 0)) || die "the window is empty"
((win_items == (occurrences < 50 ? occurrences : 50))) ||
        die "the window's first page has $win_items occurrences, not 50 (of $occurrences)"

export_path="$cal_base/calendars/$cal.ics"
status=$(curl -sS -o "$tmp/export.ics" -w '%{http_code}' -H "Authorization: Bearer $teacher" "$api_url$export_path")
[[ $status == 200 ]] || die "GET $export_path answered $status: $(head -c 300 "$tmp/export.ics")"
export_bytes=$(wc -c <"$tmp/export.ics")
export_vevents=$(grep -c '^BEGIN:VEVENT' "$tmp/export.ics" || true)
((export_vevents == total)) || die "the export has $export_vevents VEVENTs, not $total"

# The 5,000-event file for the import load.
gen_ics import $((IMPORT_EVENTS / 20)) $((IMPORT_EVENTS - IMPORT_EVENTS / 20)) >"$tmp/import.ics"
import_bytes=$(wc -c <"$tmp/import.ics")
((import_bytes <= max_body_used)) ||
        die "the $IMPORT_EVENTS-event file is $import_bytes bytes, over max_body ($max_body_used): set MAX_BODY"

# ticks PID...: the CPU clock ticks (user + system) the processes have used so far.
ticks() {
        local pid t sum=0
        for pid in "$@"; do
                t=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 }')
                sum=$((sum + ${t:-0}))
        done
        echo "$sum"
}

# unloaded FILE PATH...: UNLOADED times, one client, the PATHs one after another; their total
# time in ms, one line per round, into FILE. Also the CPU time per round of atriumd and of the
# PostgreSQL backends (ul_atriumd_ms, ul_pg_ms): unlike wall time, that does not grow when
# other work shares the cores, so it says which side a request's time is spent on.
unloaded() {
        local file=$1 r p t s a0 a1 g0 g1 backends
        shift
        : >"$file"
        backends=$(pgrep -P "$(head -n 1 "$tmp/pg/data/postmaster.pid")" | tr '\n' ' ')
        a0=$(ticks "$atriumd_pid")
        # shellcheck disable=SC2086
        g0=$(ticks $backends)
        for ((r = 0; r < UNLOADED; r++)); do
                t=0
                for p in "$@"; do
                        s=$(curl -sS -o /dev/null -w '%{time_total}' "${auth[@]}" "$api_url$p")
                        t=$(awk -v a="$t" -v b="$s" 'BEGIN { print a + b }')
                done
                awk -v t="$t" 'BEGIN { printf "%.3f\n", t * 1000 }' >>"$file"
        done
        a1=$(ticks "$atriumd_pid")
        # shellcheck disable=SC2086
        g1=$(ticks $backends)
        read -r ul_atriumd_ms ul_pg_ms < <(awk -v a="$((a1 - a0))" -v g="$((g1 - g0))" -v n="$UNLOADED" \
                -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f %.1f\n", a / hz * 1000 / n, g / hz * 1000 / n }')
}

auth=(-H "Authorization: Bearer $teacher")

if ((ONLY_UNLOADED)); then
        # One unmeasured round first: the first window may store occurrences (rows written
        # before schema 0003 have none) and fills the connections' plan caches.
        curl -sS -o /dev/null "${auth[@]}" "$api_url$win_path"
        unloaded "$tmp/only-unloaded-ms.txt" "$win_path"
        echo "window first page, $UNLOADED requests one at a time: CPU per request atriumd $ul_atriumd_ms ms, PostgreSQL $ul_pg_ms ms; wall p50 $(percentile 50 "$tmp/only-unloaded-ms.txt") ms (atriumd $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown))"
        exit 0
fi

pgbench_init

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$BENCH_OUT/$stamp
mkdir -p "$out"

# ---- where the time goes: the window's SQL under EXPLAIN ANALYZE, as the request role ---------
#
# atriumd runs each request as the role atrium_request (no BYPASSRLS) with atrium.school_id and
# atrium.user_id set; the superuser would skip the RLS policy, so EXPLAIN does the same. Both
# the custom plan (literal values) and the generic plan (what a statement prepared once per
# connection switches to after five executions; window.c writes the statement so that it does)
# are shown, and the window once more with sequential scans off. A window page is one statement
# (plugins/calendar/window.c): whether a series lacks occurrences (none here: every series of
# this calendar is stored whole) and the page, read in key order from the index
# occurrences_by_key. A copy of window.c's statement (the first page: no cursor, so the keys
# $4-$6 and $8-$10 are the lower bounds window.c sends then; $7 is the page size + 1).
school_id=$(psql_admin -d atrium -Atc "SELECT id FROM core.schools WHERE slug = 'demo'")
win_from_s=$(date -d "$WIN_FROM" +%s)
win_to_s=$(date -d "$WIN_TO" +%s)
request_prelude="SET ROLE atrium_request; SELECT set_config('atrium.school_id', '$school_id', true), set_config('atrium.user_id', '$teacher_id', true);"
window_sql="SELECT p.event_id, p.calendar_id, nullif(p.recurrence_id, '') AS recurrence_id, to_char(to_timestamp(p.starts_at) AT TIME ZONE 'UTC', CASE WHEN p.all_day THEN 'YYYY-MM-DD' ELSE 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"' END) AS start, to_char(to_timestamp(p.ends_at) AT TIME ZONE 'UTC', CASE WHEN p.all_day THEN 'YYYY-MM-DD' ELSE 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"' END) AS \"end\", p.all_day, p.summary, p.description, p.location, p.status, p.timezone, p.modified FROM (SELECT EXISTS (SELECT 1 FROM calendar.events e WHERE e.school_id = core.current_school() AND e.calendar_id = ANY (\$1::uuid[]) AND e.occ_to IS NOT NULL AND NOT (e.occ_from <= \$2::bigint AND e.occ_to >= \$3::bigint) AND e.range_start < to_timestamp(\$3::bigint) AND (e.range_end IS NULL OR e.range_end >= to_timestamp(\$2::bigint))) AS stale) w CROSS JOIN LATERAL ((SELECT k.* FROM unnest ((SELECT \$1::uuid[])) c (id) CROSS JOIN LATERAL ((SELECT o.event_id, o.calendar_id, o.recurrence_id, o.starts_at, o.ends_at, o.all_day, o.summary, o.description, o.location, o.status, o.timezone, o.modified FROM calendar.occurrences o WHERE o.school_id = core.current_school() AND o.calendar_id = c.id AND (o.starts_at, o.event_id, o.recurrence_id) > (\$4::bigint, \$5::uuid, \$6::text COLLATE \"C\") AND o.starts_at > \$2::bigint - 86400 AND o.starts_at < \$3::bigint AND (o.ends_at > \$2::bigint OR (o.ends_at = o.starts_at AND o.starts_at >= \$2::bigint)) ORDER BY o.starts_at, o.event_id, o.recurrence_id LIMIT (SELECT \$7::int)) UNION ALL (SELECT o.event_id, o.calendar_id, o.recurrence_id, o.starts_at, o.ends_at, o.all_day, o.summary, o.description, o.location, o.status, o.timezone, o.modified FROM calendar.occurrences o WHERE o.school_id = core.current_school() AND o.calendar_id = c.id AND o.ends_at - o.starts_at > 86400 AND o.ends_at > \$2::bigint AND o.starts_at <= \$2::bigint - 86400 AND (o.starts_at, o.event_id, o.recurrence_id) > (\$8::bigint, \$9::uuid, \$10::text COLLATE \"C\"))) k ORDER BY k.starts_at, k.event_id, k.recurrence_id LIMIT (SELECT \$7::int)) UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE w.stale) p ORDER BY p.starts_at, p.event_id, p.recurrence_id"
zero_uuid=00000000-0000-0000-0000-000000000000
window_args="'{$cal}', $win_from_s, $win_to_s, $((win_from_s - 86400)), '$zero_uuid', '', 51, '-9223372036854775808', '$zero_uuid', ''"
export_sql="SELECT ical FROM calendar.events WHERE calendar_id = \$1::uuid ORDER BY range_start, id"
explain() {
        psql_admin -d atrium -P pager=off <<SQL
BEGIN;
$request_prelude
PREPARE win AS $window_sql;
PREPARE exp(uuid) AS $export_sql;
\\echo '---- window, custom plan'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE win($window_args);
SET LOCAL plan_cache_mode = force_generic_plan;
\\echo '---- window, generic plan'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE win($window_args);
SET LOCAL enable_seqscan = off;
DEALLOCATE win;
PREPARE win AS $window_sql;
\\echo '---- window, generic plan, enable_seqscan = off'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE win($window_args);
RESET enable_seqscan;
\\echo '---- export, generic plan'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE exp('$cal');
ROLLBACK;
SQL
}
explain >"$out/explain.txt" 2>&1 || die "EXPLAIN failed: $(tail -n 5 "$out/explain.txt")"
sed -n '/^---- window, custom/,/^---- window, generic plan$/p' "$out/explain.txt" | grep -q 'occurrences_by_key' &&
        win_index=yes || win_index=no
read -r win_sql_ms < <(awk '/^---- window, custom/ { f = 1 } f && /Execution Time/ { print $3; exit }' "$out/explain.txt")
read -r win_sql_ms_generic < <(awk '/^---- window, generic/ { f = 1 } f && /Execution Time/ { print $3; exit }' "$out/explain.txt")
read -r win_sql_ms_gist < <(awk '/^---- window, generic plan, enable_seqscan/ { f = 1 } f && /Execution Time/ { print $3; exit }' "$out/explain.txt")
read -r win_rows < <(awk '/^---- window, custom/ { f = 1 } f && /actual time/ { sub(/.*rows=/, ""); print $1; exit }' "$out/explain.txt")
sed -n '/^---- window, custom/,/Execution Time/p' "$out/explain.txt" >&2

# The same statements alone, with their rows sent to the client, one client, as atriumd's
# transaction would run them (the request role, the settings, the query, COMMIT), each prepared
# once per connection as atriumd's are (-M prepared), so that planning is not counted.
for q in window export; do
        {
                echo "BEGIN;"
                echo "SET LOCAL ROLE atrium_request;"
                echo "SELECT set_config('atrium.school_id', '$school_id', true), set_config('atrium.user_id', '$teacher_id', true);"
                if [[ $q == window ]]; then
                        # The page's parameters as values ($10 before $1); and the colons of
                        # the time format apart from its letters (pgbench reads :MI as a variable).
                        sed -e "s/HH24:MI:SS/HH24' || ':' || 'MI' || ':' || 'SS/g" -e "s/\\\$10/''/g" -e "s/\\\$9/'$zero_uuid'/g" \
                                -e "s/\\\$8/'-9223372036854775808'/g" -e "s/\\\$7/51/g" \
                                -e "s/\\\$6/''/g" -e "s/\\\$5/'$zero_uuid'/g" \
                                -e "s/\\\$4/$((win_from_s - 86400))/g" -e "s/\\\$1/'{$cal}'/g" \
                                -e "s/\\\$2/$win_from_s/g" -e "s/\\\$3/$win_to_s/g" <<<"$window_sql;"
                else
                        sed -e "s/\\\$1/'$cal'/" <<<"$export_sql;"
                fi
                echo "COMMIT;"
        } >"$tmp/$q.sql"
done
sql_alone() {
        timeout $((DURATION + 30)) "$pgbin/pgbench" -h 127.0.0.1 -p "$pg_port" -U atrium -n -M prepared \
                -c 1 -j 1 -T "$1" -f "$tmp/$2.sql" atrium
}



# ---- 1. one request at a time, and the SQL alone ----------------------------------------------

say "unloaded, one client (curl): $UNLOADED first pages, $UNLOADED walks of the month, $UNLOADED exports"
unloaded "$out/window-unloaded-ms.txt" "$win_path"
win1_cpu="atriumd $ul_atriumd_ms ms, PostgreSQL $ul_pg_ms ms"
unloaded "$out/walk-unloaded-ms.txt" "${walk_paths[@]}"
walk1_cpu="atriumd $ul_atriumd_ms ms, PostgreSQL $ul_pg_ms ms"
unloaded "$out/export-unloaded-ms.txt" "$export_path"
ex1_cpu="atriumd $ul_atriumd_ms ms, PostgreSQL $ul_pg_ms ms"
win1_p50=$(percentile 50 "$out/window-unloaded-ms.txt")
win1_p99=$(percentile 99 "$out/window-unloaded-ms.txt")
walk1_p50=$(percentile 50 "$out/walk-unloaded-ms.txt")
walk1_p99=$(percentile 99 "$out/walk-unloaded-ms.txt")
ex1_p50=$(percentile 50 "$out/export-unloaded-ms.txt")
ex1_p99=$(percentile 99 "$out/export-unloaded-ms.txt")

say "the window's and the export's SQL alone: pgbench -M prepared -f -c1 -T$DURATION each"
measure "$out/window-sql.pgbench.txt" sql_alone "$DURATION" window
read -r _ win_sql_lat _ < <(pgbench_parse "$out/window-sql.pgbench.txt")
measure "$out/export-sql.pgbench.txt" sql_alone "$DURATION" export
read -r _ ex_sql_lat _ < <(pgbench_parse "$out/export-sql.pgbench.txt")

# ---- 2. the window under load -----------------------------------------------------------------

say "wrk: GET $win_path (first page of the month, default limit 50)"
((WARMUP > 0)) && measure "$tmp/warmup.txt" wrk_run "$WARMUP" "$api_url$win_path" "${auth[@]}" 2>/dev/null
wait_idle
m0=$(cpu_mark)
measure "$out/window.wrk.txt" wrk_run "$DURATION" "$api_url$win_path" "${auth[@]}"
read -r w_cpu w_other < <(cpu_report "$m0" "$(cpu_mark)")
wait_idle

say "wrk: walking all $pages pages of the month at limit=500"
cat >"$tmp/walk.lua" <<'LUA'
-- Cycle through the pages of one window: every #paths requests are one walk of the month.
local paths = {}
for p in string.gmatch(os.getenv("WALK_PATHS"), "[^\n]+") do paths[#paths + 1] = p end
local i = 0
request = function()
        i = i + 1
        return wrk.format("GET", paths[((i - 1) % #paths) + 1])
end
LUA
export WALK_PATHS
WALK_PATHS=$(printf '%s\n' "${walk_paths[@]}")
((WARMUP > 0)) && measure "$tmp/warmup.txt" wrk_run "$WARMUP" "$api_url${walk_paths[0]}" "${auth[@]}" -s "$tmp/walk.lua" 2>/dev/null
wait_idle
m0=$(cpu_mark)
measure "$out/walk.wrk.txt" wrk_run "$DURATION" "$api_url${walk_paths[0]}" "${auth[@]}" -s "$tmp/walk.lua"
read -r wk_cpu wk_other < <(cpu_report "$m0" "$(cpu_mark)")
wait_idle

# ---- 3. the export under load -------------------------------------------------------------

say "wrk: GET $export_path ($export_bytes bytes)"
((WARMUP > 0)) && measure "$tmp/warmup.txt" wrk_run "$WARMUP" "$api_url$export_path" "${auth[@]}" 2>/dev/null
wait_idle
m0=$(cpu_mark)
measure "$out/export.wrk.txt" wrk_run "$DURATION" "$api_url$export_path" "${auth[@]}"
read -r ex_cpu ex_other < <(cpu_report "$m0" "$(cpu_mark)")
wait_idle

# ---- 4. import -------------------------------------------------------------------------------

say "import: $IMPORT_REPS x $IMPORT_EVENTS events ($import_bytes bytes) into fresh calendars"
# One unmeasured import first (libical's zone cache, the statement's plan), then the reps. The
# calendars are deleted again afterwards so that they do not stay in the window index.
imp_cals=()
warm=$(new_calendar "import warm-up")
imp_cals+=("$warm")
read -r st _ < <(import_file "$warm" "$tmp/import.ics" "$tmp/import-answer.json")
[[ $st == 200 ]] || die "import answered $st: $(head -c 400 "$tmp/import-answer.json")"
: >"$out/import-seconds.txt"
m0=$(cpu_mark)
for ((r = 1; r <= IMPORT_REPS; r++)); do
        c=$(new_calendar "import $r")
        imp_cals+=("$c")
        read -r st secs < <(import_file "$c" "$tmp/import.ics" "$tmp/import-answer.json")
        [[ $st == 200 ]] || die "import $r answered $st: $(head -c 400 "$tmp/import-answer.json")"
        created=$(jq .created "$tmp/import-answer.json")
        ((created == IMPORT_EVENTS)) || die "import $r created $created events: $(jq -c 'del(.events)' "$tmp/import-answer.json")"
        echo "$secs" | tee -a "$out/import-seconds.txt" | awk -v r="$r" '{ printf "    import %d: %.3f s\n", r, $1 }' >&2
done
read -r im_cpu im_other < <(cpu_report "$m0" "$(cpu_mark)")
imp_med=$(percentile 50 "$out/import-seconds.txt" | awk '{ printf "%.3f", $1 }')
imp_min=$(sort -g "$out/import-seconds.txt" | head -n 1 | awk '{ printf "%.3f", $1 }')
imp_max=$(sort -g "$out/import-seconds.txt" | tail -n 1 | awk '{ printf "%.3f", $1 }')
imp_rate=$(awk -v n="$IMPORT_EVENTS" -v s="$imp_med" 'BEGIN { printf "%.0f", n / s }')
for c in "${imp_cals[@]}"; do api DELETE "$cal_base/calendars/$c" "$teacher" "" >/dev/null; done
psql_admin -d atrium -c 'VACUUM ANALYZE calendar.events'

# ---- 5. the ceiling --------------------------------------------------------------------------

pgbench_ceiling "$out/pgbench.txt"

# ---- results ---------------------------------------------------------------------------------

read -r w_rps w_p50 w_p99 w_bad w_err w_n < <(wrk_parse "$out/window.wrk.txt")
read -r wk_rps wk_p50 wk_p99 wk_bad wk_err wk_n < <(wrk_parse "$out/walk.wrk.txt")
read -r ex_rps ex_p50 ex_p99 ex_bad ex_err ex_n < <(wrk_parse "$out/export.wrk.txt")
walks_per_s=$(awk -v r="$wk_rps" -v p="$pages" 'BEGIN { printf "%.1f", r / p }')
goal_met=$(awk -v r="$w_rps" -v t="$pg_tps" -v g="$WINDOW_GOAL" 'BEGIN { print (t > 0 && r / t >= g) ? "met" : "not met" }')
stored=$(psql_admin -d atrium -Atc "SELECT count(*) FROM calendar.occurrences WHERE calendar_id = '$cal'")
imp_per_s=$(awk -v s="$imp_med" 'BEGIN { printf "%.2f", 1 / s }')

describe_machine core api plugins
load_after=$(cut -d' ' -f1 /proc/loadavg)

{
        row() { printf '%-44s %11s %10s %10s %6s %8s %5s %6s\n' "$@"; }
        echo
        row "load" "req/s|tps" "p50 ms" "p99 ms" "errors" "/pgbench" "cpu%" "other%"
        row "window, first page of 50 (wrk -c$WRK_CONNECTIONS)" "$(fmt_int "$w_rps")" "$w_p50" "$w_p99" "$((w_bad + w_err))" "$(ratio "$w_rps" "$pg_tps")" "$w_cpu" "$w_other"
        row "  one request, unloaded (curl)" "-" "$win1_p50" "$win1_p99" 0 "-" "" ""
        row "    CPU per request: $win1_cpu" "" "" "" "" "" "" ""
        row "  its SQL alone (pgbench -M prepared -f, 1 client)" "-" "avg $win_sql_lat" "-" "-" "-" "" ""
        row "window, all $pages pages at 500 (wrk -c$WRK_CONNECTIONS)" "$(fmt_int "$wk_rps")" "$wk_p50" "$wk_p99" "$((wk_bad + wk_err))" "$(ratio "$wk_rps" "$pg_tps")" "$wk_cpu" "$wk_other"
        row "  = walks of the month per second" "$walks_per_s" "-" "-" "-" "$(ratio "$walks_per_s" "$pg_tps")" "" ""
        row "  one walk, unloaded (curl)" "-" "$walk1_p50" "$walk1_p99" 0 "-" "" ""
        row "    CPU per walk: $walk1_cpu" "" "" "" "" "" "" ""
        row "export .ics (wrk -c$WRK_CONNECTIONS)" "$(fmt_int "$ex_rps")" "$ex_p50" "$ex_p99" "$((ex_bad + ex_err))" "$(ratio "$ex_rps" "$pg_tps")" "$ex_cpu" "$ex_other"
        row "  one export, unloaded (curl)" "-" "$ex1_p50" "$ex1_p99" 0 "-" "" ""
        row "    CPU per export: $ex1_cpu" "" "" "" "" "" "" ""
        row "  its SQL alone (pgbench -M prepared -f, 1 client)" "-" "avg $ex_sql_lat" "-" "-" "-" "" ""
        row "import $IMPORT_EVENTS events (s; median of $IMPORT_REPS)" "$imp_per_s" "${imp_med}s" "max ${imp_max}s" 0 "$(ratio "$imp_per_s" "$pg_tps")" "$im_cpu" "$im_other"
        row "  = events imported per second" "$(fmt_int "$imp_rate")" "min ${imp_min}s" "-" "-" "$(ratio "$imp_rate" "$pg_tps")" "" ""
        row "pgbench -S -M prepared" "$(fmt_int "$pg_tps")" "avg $pg_lat" "-" "$pg_failed" "1" "$pg_cpu" "$pg_other"
        printf '(cpu%%: the bench'"'"'s own processes, other%%: everything else, in %% of all %s cores)\n' "$(nproc)"
        printf 'window: %s occurrences (%s of series); first page %s bytes, all pages %s bytes\n' \
                "$occurrences" "$series_occ" "$win_bytes" "$walk_bytes"
        printf 'issue #19 headline: month-window first page = %s x pgbench -S (goal >= %s: %s)\n' \
                "$(ratio "$w_rps" "$pg_tps")" "$WINDOW_GOAL" "$goal_met"
        printf 'window SQL (EXPLAIN ANALYZE, request role): %s ms custom plan, %s ms generic, %s ms with enable_seqscan = off; index occurrences_by_key chosen: %s\n' \
                "$win_sql_ms" "$win_sql_ms_generic" "$win_sql_ms_gist" "$win_index"
        printf 'export: %s bytes, %s VEVENTs; import file: %s bytes; loading the calendar took %s s\n' \
                "$export_bytes" "$export_vevents" "$import_bytes" "$load_s"
        printf 'load average before %s, after %s\n\n' "$load_before" "$load_after"
} | tee "$out/table.txt"

disturbed=$(disturbed_note 5 "$w_other" "$wk_other" "$ex_other" "$im_other" "$pg_other")

cat >"$out/results.md" <<EOF
### $(date -u '+%Y-%m-%d %H:%M UTC') - calendar, atriumd $commit

\`DURATION=$DURATION ATRIUM_POOL_SIZE=$POOL_SIZE bench/calendar/run.sh\` - each load ${DURATION} s after a ${WARMUP} s warm-up, one after the other, on one machine:
$(nproc) × $cpu, $mem RAM, Linux $(uname -r), PostgreSQL $pg_version, $(wrk -v 2>&1 | head -n 1 | awk '{ print "wrk " $2 }'), atriumd build type \`$buildtype\`, pool size $POOL_SIZE, max_body $max_body_used bytes. Load average before: $load_before, after: $load_after.
Calendar: a teacher's personal calendar of $n_events events, $n_series of them weekly series (\`RRULE:FREQ=WEEKLY\`, Europe/Berlin, $YEAR_FROM to 2027-07-31) and $((n_events - n_series)) single events over the same year, loaded through the import route in $(( (total + LOAD_PART - 1) / LOAD_PART )) parts ($load_s s). Window $WIN_FROM to $WIN_TO: $occurrences occurrences ($series_occ of series), read from $stored stored occurrences. wrk: \`-t$WRK_THREADS --timeout $WRK_TIMEOUT --latency\`, the teacher's bearer token.

**Issue #19's headline: the month-window first page is $(ratio "$w_rps" "$pg_tps") × \`pgbench -S\` of this run (goal ≥ $WINDOW_GOAL: $goal_met).**

| load | req/s or tps | p50 | p99 | errors | ÷ pgbench tps | CPU, bench | CPU, other |
|---|---:|---:|---:|---:|---:|---:|---:|
| \`GET /calendars/{id}/events?from=…&to=…\`, one month, first page (50 occurrences, $win_bytes bytes), \`wrk -c$WRK_CONNECTIONS\` | $(fmt_int "$w_rps") | $w_p50 ms | $w_p99 ms | $((w_bad + w_err)) | $(ratio "$w_rps" "$pg_tps") | $w_cpu % | $w_other % |
| the same, one request unloaded (curl, $UNLOADED requests; CPU per request: $win1_cpu) | - | $win1_p50 ms | $win1_p99 ms | 0 | - | | |
| its SQL alone, as the request role (the page's one statement: series to extend, the page; pgbench \`-M prepared -f\`, 1 client) | - | avg $win_sql_lat ms | - | - | - | | |
| the whole month, $pages pages at \`limit=500\` in turn ($occurrences occurrences, $walk_bytes bytes), \`wrk -c$WRK_CONNECTIONS\` | $(fmt_int "$wk_rps") (= $walks_per_s walks/s) | $wk_p50 ms | $wk_p99 ms | $((wk_bad + wk_err)) | $(ratio "$wk_rps" "$pg_tps") | $wk_cpu % | $wk_other % |
| one walk of the month, unloaded (curl, $UNLOADED walks; CPU per walk: $walk1_cpu) | - | $walk1_p50 ms | $walk1_p99 ms | 0 | - | | |
| \`GET /calendars/{id}.ics\`, the whole calendar ($export_bytes bytes), \`wrk -c$WRK_CONNECTIONS\` | $(fmt_int "$ex_rps") | $ex_p50 ms | $ex_p99 ms | $((ex_bad + ex_err)) | $(ratio "$ex_rps" "$pg_tps") | $ex_cpu % | $ex_other % |
| the same, one export unloaded (curl, $UNLOADED exports; CPU per export: $ex1_cpu) | - | $ex1_p50 ms | $ex1_p99 ms | 0 | - | | |
| its SQL alone ($n_events rows; pgbench \`-M prepared -f\`, 1 client) | - | avg $ex_sql_lat ms | - | - | - | | |
| \`POST /calendars/{id}/import\`, $IMPORT_EVENTS events ($((IMPORT_EVENTS / 20)) weekly series; $import_bytes bytes) into an empty calendar, end to end (curl, median of $IMPORT_REPS; min $imp_min s, max $imp_max s) | $imp_per_s imports/s = $(fmt_int "$imp_rate") events/s | $imp_med s | - | 0 | $(ratio "$imp_per_s" "$pg_tps") | $im_cpu % | $im_other % |
| \`pgbench -S -M prepared -c$PGBENCH_CLIENTS -j$PGBENCH_JOBS\` (scale $PGBENCH_SCALE) | $(fmt_int "$pg_tps") | avg $pg_lat ms | - | $pg_failed | 1 | $pg_cpu % | $pg_other % |

Window SQL under \`EXPLAIN ANALYZE\` as the request role: $win_sql_ms ms (custom plan), $win_sql_ms_generic ms (generic plan), $win_sql_ms_gist ms with \`enable_seqscan = off\`; index \`occurrences_by_key\` chosen by the planner: $win_index (plans in \`explain.txt\` of the run). CPU columns: share of all $(nproc) cores' time used by the bench's own processes and by everything else on the machine during each load, interrupts excluded.
${disturbed}
EOF
say "raw output and results.md in $out"
cat "$out/results.md"

if ((w_bad + w_err + wk_bad + wk_err + ex_bad + ex_err + pg_failed > 0)); then
        die "some requests failed (see the errors column): these figures are not valid"
fi
if ((w_n == 0 || wk_n == 0 || ex_n == 0)); then
        die "a wrk load completed no request in ${DURATION} s: raise DURATION"
fi
