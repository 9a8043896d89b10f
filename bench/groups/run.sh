#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/groups/run.sh - one command that measures the groups module on one machine, in one run:
#   1. is_member through the service table, in-process: the groupsprobe test plugin's bench
#      route calls it N times inside one request's transaction (calls per second);
#   2. wrk on GET /groups/{big}/members?limit=500, the first page of a 1,000-member group,
#      and wrk walking both pages (page 1, then page 2 with the cursor page 1 handed out),
#      plus the unloaded time of one walk (page 1 + page 2, one client, curl);
#   3. wrk on GET /groups?member=me for a student in 10 groups;
#   4. pgbench -S -M prepared on the same PostgreSQL cluster, the ceiling the others are
#      compared with.
# Every HTTP load is authenticated (Authorization: Bearer). It builds if needed, starts a
# private PostgreSQL cluster and atriumd on free loopback ports in a temp dir, and tears all of
# it down on exit, also after a failure or Ctrl-C. See bench/groups/README.md.
#
# The helpers (as_pg, free_port, api, wrk_parse, ...), the teardown and the start-up of the
# cluster and atriumd are shared with the other bench scripts in bench/lib.sh.
#
# Knobs (environment): DURATION (10 s per load), WARMUP (2 s, unmeasured), ATRIUM_POOL_SIZE
# (8), WRK_THREADS (2), WRK_CONNECTIONS (64), WRK_TIMEOUT (10s), PGBENCH_CLIENTS (32),
# PGBENCH_JOBS (2), PGBENCH_SCALE (10), USERS (1000), GROUP_COUNT (60), CALLS (is_member calls
# per bench request, 50000, at most 1,000,000), WALKS (unloaded walks timed, 200),
# ATRIUM_BUILD_DIR (build), PG_BINDIR, BENCH_OUT (bench/groups/out), KEEP_TMP=1 (keep the temp
# dir).
#
# Not a test: it measures time, so it never runs from meson test or CI.

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
# wrk's default of 2 s counts a slow answer as a socket error and reconnects; a 1,000-member
# page under 64 connections can take longer on a small machine without anything being wrong.
WRK_TIMEOUT=${WRK_TIMEOUT:-10s}
USERS=${USERS:-1000}
GROUP_COUNT=${GROUP_COUNT:-60}
CALLS=${CALLS:-50000}
WALKS=${WALKS:-200}
BENCH_OUT=${BENCH_OUT:-$repo/bench/groups/out}
RATIO_DIGITS=3

((USERS >= 10 && USERS <= 100000)) || { echo "bench: USERS must be 10..100000" >&2; exit 2; }
((GROUP_COUNT >= 11 && GROUP_COUNT <= 10000)) || { echo "bench: GROUP_COUNT must be 11..10000" >&2; exit 2; }
((CALLS >= 1 && CALLS <= 1000000)) || { echo "bench: CALLS must be 1..1000000" >&2; exit 2; }
((DURATION >= 1 && DURATION <= 600)) || { echo "bench: DURATION must be 1..600" >&2; exit 2; }

# Helpers, teardown and start-up shared with the other bench scripts; it reads the other knobs.
# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"

# ---- preflight, build, temp dir --------------------------------------------------------------

bench_preflight wrk curl jq ss awk meson ninja timeout
bench_build
probe_so=$BUILD_DIR/tests/plugins/groupsprobe/groupsprobe.so
[[ -f $BUILD_DIR/plugins/groups.so ]] || die "no $BUILD_DIR/plugins/groups.so after the build"
[[ -f $probe_so ]] || die "no $probe_so after the build (tests/plugins/groupsprobe)"

bench_tmp atrium-bench-groups
mkdir -p "$tmp/plugins"
# The host's plugin directory: the build's plugins plus the probe (test tree only).
for so in "$BUILD_DIR"/plugins/*.so "$probe_so"; do
        ln -s "$so" "$tmp/plugins/$(basename "$so")"
done
plugin_dir=$tmp/plugins

# ---- PostgreSQL and atriumd -------------------------------------------------------------------

start_pg "bench/groups/run.sh (same settings as bench/run.sh)"
start_atriumd "(pool size $POOL_SIZE, plugins: $(ls "$tmp/plugins" | tr '\n' ' '))"
state=$(curl -s "$api_url/api/v1/modules" | jq -r '.items[] | select(.name == "groupsprobe") | .state')
[[ $state == loaded ]] || die "groupsprobe not loaded: $(curl -s "$api_url/api/v1/modules" | jq -c '.items[] | select(.name == "groupsprobe")')"

# ---- the school ------------------------------------------------------------------------------
#
# Three people through the API (they sign in): an admin (the probe's bench route needs
# groupsprobe.use), a teacher (groups.read: lists the big group) and the student whose groups
# are listed. The other USERS - 3 people, the GROUP_COUNT groups and the memberships go in by SQL as
# the superuser: a few statements instead of thousands of requests.
#   - group "Alle" (all USERS people; the teacher is its owner);
#   - GROUP_COUNT - 1 class groups; person n is in class (n mod (GROUP_COUNT-1)) + 1 and
#     (7n mod (GROUP_COUNT-1)) + 1, the teacher owns them all;
#   - the student is in "Alle" and in classes 1..9: 10 groups.
say "creating a school with $USERS people and $GROUP_COUNT groups"
pw=$(new_password)
bench_operator
api POST /api/v1/schools "$op" '{"slug": "demo", "name": "Demo School"}' >/dev/null
api PUT /api/v1/schools/demo/modules/groups "$op" "" >/dev/null
api PUT /api/v1/schools/demo/modules/groupsprobe "$op" "" >/dev/null
declare -A token id
for who in admin:admin teacher:teacher reader:student; do
        name=${who%%:*} role=${who##*:}
        id[$name]=$(api POST /api/v1/schools/demo/users "$op" "$(jq -nc --arg u "$name" \
                --arg r "$role" --arg p "$pw" \
                '{username: $u, display_name: ("Bench " + $u), roles: [$r], password: $p}')" |
                jq -r .id)
        token[$name]=$(sign_in demo "$name" "$pw")
done

psql_admin -d atrium <<SQL
BEGIN;
CREATE TEMP TABLE people AS
SELECT row_number() OVER (ORDER BY u.id) AS n, u.id
  FROM core.users u JOIN core.schools s ON s.id = u.school_id WHERE s.slug = 'demo';
INSERT INTO core.users (school_id, username, display_name, roles)
SELECT s.id, 'pupil' || g, 'Pupil ' || lpad(g::text, 5, '0'), '{student}'
  FROM core.schools s, generate_series(1, $USERS - 3) g WHERE s.slug = 'demo';
-- Number everyone except the three API users 4..USERS, so n is stable.
INSERT INTO people
SELECT 3 + row_number() OVER (ORDER BY u.username), u.id
  FROM core.users u JOIN core.schools s ON s.id = u.school_id
 WHERE s.slug = 'demo' AND u.username LIKE 'pupil%';
INSERT INTO groups.groups (school_id, name, slug, type)
SELECT s.id, 'Alle', 'alle', 'custom' FROM core.schools s WHERE s.slug = 'demo';
INSERT INTO groups.groups (school_id, name, slug, type)
SELECT s.id, 'Klasse ' || lpad(g::text, 3, '0'), 'klasse-' || g, 'class'
  FROM core.schools s, generate_series(1, $GROUP_COUNT - 1) g WHERE s.slug = 'demo';
CREATE TEMP TABLE numbered AS
SELECT g.id, g.school_id, CASE WHEN g.slug = 'alle' THEN 0
                               ELSE substr(g.slug, 8)::int END AS k
  FROM groups.groups g JOIN core.schools s ON s.id = g.school_id WHERE s.slug = 'demo';
-- Everyone in "Alle"; the teacher owns it.
INSERT INTO groups.members (school_id, group_id, user_id, role)
SELECT g.school_id, g.id, p.id,
       CASE WHEN p.id = '${id[teacher]}' THEN 'owner' ELSE 'member' END
  FROM numbered g, people p WHERE g.k = 0;
-- Two classes per pupil; the teacher owns every class; the student is in classes 1..9.
INSERT INTO groups.members (school_id, group_id, user_id, role)
SELECT DISTINCT g.school_id, g.id, p.id, 'member'
  FROM numbered g JOIN people p
    ON p.n > 3 AND (g.k = (p.n % ($GROUP_COUNT - 1)) + 1 OR g.k = ((7 * p.n) % ($GROUP_COUNT - 1)) + 1)
UNION
SELECT g.school_id, g.id, '${id[reader]}'::uuid, 'member' FROM numbered g WHERE g.k BETWEEN 1 AND 9
UNION
SELECT g.school_id, g.id, '${id[teacher]}'::uuid, 'owner' FROM numbered g WHERE g.k > 0;
COMMIT;
VACUUM ANALYZE;
SQL

big=$(psql_admin -d atrium -Atc "SELECT id FROM groups.groups WHERE slug = 'alle'")
read -r n_users n_groups n_big n_members n_reader < <(psql_admin -d atrium -Atc "
        SELECT (SELECT count(*) FROM core.users), (SELECT count(*) FROM groups.groups),
               (SELECT count(*) FROM groups.members WHERE group_id = '$big'),
               (SELECT count(*) FROM groups.members),
               (SELECT count(*) FROM groups.members WHERE user_id = '${id[reader]}')" |
        tr '|' ' ')
say "school: $n_users people, $n_groups groups, $n_members memberships; big group $n_big, student in $n_reader"
((n_users == USERS && n_groups == GROUP_COUNT && n_big == USERS && n_reader == 10)) ||
        die "unexpected data set (users $n_users, groups $n_groups, big $n_big, student in $n_reader)"

base=/api/v1/schools/demo/groups
page1_path="$base/$big/members?limit=500"
mine_path="$base?member=me"
# Check every measured route once, and find page 2's cursor (the data does not change, so the
# same cursor is valid for the whole run).
page1=$(api GET "$page1_path" "${token[teacher]}" "")
[[ $(jq '.items | length' <<<"$page1") == 500 ]] || die "page 1 has not 500 items"
cursor=$(jq -r .next_cursor <<<"$page1")
[[ $cursor != null ]] || die "page 1 has no next_cursor"
page2_path="$base/$big/members?limit=500&cursor=$cursor"
page2=$(api GET "$page2_path" "${token[teacher]}" "")
p2_items=$(jq '.items | length' <<<"$page2")
[[ $(jq -r .next_cursor <<<"$page2") == null && $p2_items == $((USERS - 500)) ]] ||
        die "page 2: $p2_items items, next_cursor $(jq -r .next_cursor <<<"$page2")"
page1_bytes=${#page1}
mine=$(api GET "$mine_path" "${token[reader]}" "")
[[ $(jq '.items | length' <<<"$mine") == 10 ]] || die "the student's list has not 10 groups"
mine_bytes=${#mine}

pgbench_init

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$BENCH_OUT/$stamp
mkdir -p "$out"

# ---- 1. is_member in-process -----------------------------------------------------------------

say "is_member in-process: 5 x $CALLS calls (groupsprobe bench route, one request each)"
bench_q="group=$big&user=${id[reader]}&n=$CALLS"
api GET "/api/v1/schools/demo/groupsprobe/bench?group=$big&user=${id[reader]}&n=1000" \
        "${token[admin]}" "" >/dev/null # warm-up
: >"$out/is_member.txt"
m0=$(cpu_mark)
for _ in 1 2 3 4 5; do
        api GET "/api/v1/schools/demo/groupsprobe/bench?$bench_q" "${token[admin]}" "" |
                tee -a "$out/is_member.txt" | jq -c . >&2
        echo >>"$out/is_member.txt"
done
read -r im_cpu im_other < <(cpu_report "$m0" "$(cpu_mark)")
read -r im_rate im_us < <(jq -s -r 'map(.per_second) | sort | .[length / 2 | floor] as $m |
        "\($m | floor) \(1e6 / $m * 100 | round / 100)"' "$out/is_member.txt")
im_role=$(jq -s -r '.[0].role' "$out/is_member.txt")
[[ $im_role == member ]] || die "is_member answered $im_role for the student in the big group"

# ---- 2. the big group's members --------------------------------------------------------------

say "wrk: GET $page1_path (first page of $USERS members, as the teacher)"
((WARMUP > 0)) && measure "$tmp/warmup.txt" wrk_run "$WARMUP" "$api_url$page1_path" -H "Authorization: Bearer ${token[teacher]}" 2>/dev/null
m0=$(cpu_mark)
measure "$out/members-page1.wrk.txt" wrk_run "$DURATION" "$api_url$page1_path" -H "Authorization: Bearer ${token[teacher]}"
read -r p1_cpu p1_other < <(cpu_report "$m0" "$(cpu_mark)")

say "wrk: walking both pages (page 1 and page 2 alternately, as the teacher)"
cat >"$tmp/walk.lua" <<'LUA'
-- Alternate between the two pages of the member list: every two requests are one walk.
local paths = { os.getenv("PAGE1_PATH"), os.getenv("PAGE2_PATH") }
local i = 0
request = function()
        i = i + 1
        return wrk.format("GET", paths[(i % 2) + 1])
end
LUA
export PAGE1_PATH=$page1_path PAGE2_PATH=$page2_path
((WARMUP > 0)) && measure "$tmp/warmup.txt" wrk_run "$WARMUP" "$api_url$page1_path" -H "Authorization: Bearer ${token[teacher]}" -s "$tmp/walk.lua" 2>/dev/null
m0=$(cpu_mark)
measure "$out/members-walk.wrk.txt" wrk_run "$DURATION" "$api_url$page1_path" -H "Authorization: Bearer ${token[teacher]}" -s "$tmp/walk.lua"
read -r wk_cpu wk_other < <(cpu_report "$m0" "$(cpu_mark)")

say "unloaded walk time: $WALKS walks of page 1 + page 2, one client"
: >"$tmp/walks.txt"
for ((w = 0; w < WALKS; w++)); do
        t1=$(curl -sS -o "$tmp/p1.json" -w '%{time_total}' -H "Authorization: Bearer ${token[teacher]}" "$api_url$page1_path")
        c=$(jq -r .next_cursor "$tmp/p1.json")
        t2=$(curl -sS -o /dev/null -w '%{time_total}' -H "Authorization: Bearer ${token[teacher]}" \
                "$api_url$base/$big/members?limit=500&cursor=$c")
        awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.3f\n", (a + b) * 1000 }' >>"$tmp/walks.txt"
done
cp "$tmp/walks.txt" "$out/walks-ms.txt"
walk_p50=$(percentile 50 "$tmp/walks.txt")
walk_p99=$(percentile 99 "$tmp/walks.txt")

# ---- 3. a student's groups -------------------------------------------------------------------

say "wrk: GET $mine_path (a student in 10 groups)"
((WARMUP > 0)) && measure "$tmp/warmup.txt" wrk_run "$WARMUP" "$api_url$mine_path" -H "Authorization: Bearer ${token[reader]}" 2>/dev/null
m0=$(cpu_mark)
measure "$out/mine.wrk.txt" wrk_run "$DURATION" "$api_url$mine_path" -H "Authorization: Bearer ${token[reader]}"
read -r me_cpu me_other < <(cpu_report "$m0" "$(cpu_mark)")

# ---- 4. the ceiling --------------------------------------------------------------------------

pgbench_ceiling "$out/pgbench.txt"

# ---- results ---------------------------------------------------------------------------------

read -r p1_rps p1_p50 p1_p99 p1_bad p1_err _ < <(wrk_parse "$out/members-page1.wrk.txt")
read -r wk_rps wk_p50 wk_p99 wk_bad wk_err _ < <(wrk_parse "$out/members-walk.wrk.txt")
read -r me_rps me_p50 me_p99 me_bad me_err _ < <(wrk_parse "$out/mine.wrk.txt")
walks_per_s=$((wk_rps / 2))

describe_machine core api plugins tests/plugins
load_after=$(cut -d' ' -f1 /proc/loadavg)

{
        row() { printf '%-42s %11s %9s %9s %6s %8s %5s %6s\n' "$@"; }
        echo
        row "load" "req/s|tps" "p50 ms" "p99 ms" "errors" "/pgbench" "cpu%" "other%"
        row "is_member in-process (calls/s; us/call)" "$(fmt_int "$im_rate")" "${im_us}us" "-" 0 "$(ratio "$im_rate" "$pg_tps")" "$im_cpu" "$im_other"
        row "members?limit=500, first page (wrk)" "$(fmt_int "$p1_rps")" "$p1_p50" "$p1_p99" "$((p1_bad + p1_err))" "$(ratio "$p1_rps" "$pg_tps")" "$p1_cpu" "$p1_other"
        row "members, both pages alternately (wrk)" "$(fmt_int "$wk_rps")" "$wk_p50" "$wk_p99" "$((wk_bad + wk_err))" "$(ratio "$wk_rps" "$pg_tps")" "$wk_cpu" "$wk_other"
        row "  = walks of 1,000 members per second" "$(fmt_int "$walks_per_s")" "-" "-" "-" "$(ratio "$walks_per_s" "$pg_tps")" "" ""
        row "  one walk, unloaded, 1 client (curl)" "-" "$walk_p50" "$walk_p99" 0 "-" "" ""
        row "groups?member=me, student in 10 (wrk)" "$(fmt_int "$me_rps")" "$me_p50" "$me_p99" "$((me_bad + me_err))" "$(ratio "$me_rps" "$pg_tps")" "$me_cpu" "$me_other"
        row "pgbench -S -M prepared" "$(fmt_int "$pg_tps")" "avg $pg_lat" "-" "$pg_failed" "1" "$pg_cpu" "$pg_other"
        printf '(cpu%%: the bench'"'"'s own processes, other%%: everything else, in %% of all %s cores)\n' "$(nproc)"
        printf 'load average before %s, after %s\n\n' "$load_before" "$load_after"
} | tee "$out/table.txt"

disturbed=$(disturbed_note 5 "$im_other" "$p1_other" "$wk_other" "$me_other" "$pg_other")

cat >"$out/results.md" <<EOF
### $(date -u '+%Y-%m-%d %H:%M UTC') - groups, atriumd $commit

\`DURATION=$DURATION ATRIUM_POOL_SIZE=$POOL_SIZE bench/groups/run.sh\` - each load ${DURATION} s after a ${WARMUP} s warm-up, one after the other, on one machine:
$(nproc) × $cpu, $mem RAM, Linux $(uname -r), PostgreSQL $pg_version, $(wrk -v 2>&1 | head -n 1 | awk '{ print "wrk " $2 }'), atriumd build type \`$buildtype\`, pool size $POOL_SIZE. Load average before: $load_before, after: $load_after.
School: $n_users people, $n_groups groups, $n_members memberships; the big group has $n_big members; the student is in $n_reader groups. wrk: \`-t$WRK_THREADS -c$WRK_CONNECTIONS --timeout $WRK_TIMEOUT --latency\`, bearer token of a teacher (members) or the student (\`member=me\`).

| load | req/s or tps | p50 | p99 | errors | ÷ pgbench tps | CPU, bench | CPU, other |
|---|---:|---:|---:|---:|---:|---:|---:|
| \`is_member\` in-process, $CALLS calls in one request (median of 5; groupsprobe bench route) | $(fmt_int "$im_rate") calls/s | $im_us µs/call | - | 0 | $(ratio "$im_rate" "$pg_tps") | $im_cpu % | $im_other % |
| \`GET /groups/{big}/members?limit=500\`, first page (500 items, $page1_bytes bytes) | $(fmt_int "$p1_rps") | $p1_p50 ms | $p1_p99 ms | $((p1_bad + p1_err)) | $(ratio "$p1_rps" "$pg_tps") | $p1_cpu % | $p1_other % |
| the same, page 1 and page 2 alternately | $(fmt_int "$wk_rps") (= $(fmt_int "$walks_per_s") walks/s) | $wk_p50 ms | $wk_p99 ms | $((wk_bad + wk_err)) | $(ratio "$wk_rps" "$pg_tps") | $wk_cpu % | $wk_other % |
| one walk of both pages, unloaded, one client (curl, $WALKS walks) | - | $walk_p50 ms | $walk_p99 ms | 0 | - | | |
| \`GET /groups?member=me\`, student in 10 groups ($mine_bytes bytes) | $(fmt_int "$me_rps") | $me_p50 ms | $me_p99 ms | $((me_bad + me_err)) | $(ratio "$me_rps" "$pg_tps") | $me_cpu % | $me_other % |
| \`pgbench -S -M prepared -c$PGBENCH_CLIENTS -j$PGBENCH_JOBS\` (scale $PGBENCH_SCALE) | $(fmt_int "$pg_tps") | avg $pg_lat ms | - | $pg_failed | 1 | $pg_cpu % | $pg_other % |

CPU columns: share of all $(nproc) cores' time used by the bench's own processes and by everything else on the machine during each load, interrupts excluded.
${disturbed}
EOF
say "raw output and results.md in $out"
cat "$out/results.md"

if ((p1_bad + p1_err + wk_bad + wk_err + me_bad + me_err + pg_failed > 0)); then
        die "some requests failed (see the errors column): these figures are not valid"
fi
