#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/mail/run.sh - issue #7: the mail plugin on one machine, in one run, against the
# PostgreSQL ceiling measured in the same run:
#   1. POST /mail/messages to a group address (a class of GROUP_SIZE students, the teacher owns
#      it and is a member too, but their own mail goes to Sent only) with wrk: sends/s,
#      deliveries/s (GROUP_SIZE INBOX rows and the Sent copy per send);
#   2. a MAILBOX-message INBOX (filled over LMTP before the loads): the first page
#      GET /folders/INBOX/messages?limit=50, a page DEEP_PAGES pages in (its cursor taken by
#      walking there), GET /folders (the folders with their counts);
#   3. GET /search?q= for a word in 1 % of the messages and for one in all of them, and the
#      read SQL under EXPLAIN ANALYZE as the request role (the search's plans: its page
#      statement's custom and generic plans, mail.search_ids()'s own per word);
#   4. LMTP delivery (ATRIUM_MAIL_LMTP_LISTEN) of ~1 KB messages from LMTP_PROCS parallel
#      clients (bench/mail/lmtp_load.py, Python's smtplib.LMTP): to one user, to the group
#      (which the teacher opens to senders from outside: external_senders "anyone");
#   5. pgbench -S -M prepared, the ceiling.
# Each load reports the CPU time per request of atriumd and of PostgreSQL (from /proc, over
# the load) and the bench's and everyone else's share of the cores. Before each measured load
# it waits (up to QUIET_WAIT s, polling every 30 s) while another benchmark, `meson test` or
# ninja runs on the machine. Helpers, teardown and start-up are bench/lib.sh's. See
# bench/mail/README.md.
#
# Knobs (environment): DURATION (10 s per load), WARMUP (2 s, unmeasured), ATRIUM_POOL_SIZE
# (8), WRK_THREADS (2), WRK_CONNECTIONS (64, the read loads), SEND_CONNECTIONS (8, the send
# load), COMMON_CONNECTIONS (8, the common-word search), WRK_TIMEOUT (10s), PGBENCH_CLIENTS (32), PGBENCH_JOBS (2), PGBENCH_SCALE (10),
# GROUP_SIZE (30), MAILBOX (10000 messages), FILL_PROCS (4 LMTP clients filling it),
# LMTP_PROCS (4 LMTP clients in load 4, at most 16), MSG_BYTES (1024, text per message),
# DEEP_PAGES (100), QUIET_WAIT (900 s in all), ATRIUM_BUILD_DIR (build), PG_BINDIR, PYTHON (python3),
# BENCH_OUT (bench/mail/out), KEEP_TMP=1, EXPLAIN_ONLY=1 (stop after the plans: no loads).
#
# Not a test: it measures time, so it never runs from meson test or CI.

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
WRK_TIMEOUT=${WRK_TIMEOUT:-10s}
SEND_CONNECTIONS=${SEND_CONNECTIONS:-8}
# The common-word search costs PostgreSQL hundreds of ms per request (see README): 64
# connections would queue answers past wrk's timeout.
COMMON_CONNECTIONS=${COMMON_CONNECTIONS:-8}
GROUP_SIZE=${GROUP_SIZE:-30}
MAILBOX=${MAILBOX:-10000}
FILL_PROCS=${FILL_PROCS:-4}
LMTP_PROCS=${LMTP_PROCS:-4}
MSG_BYTES=${MSG_BYTES:-1024}
DEEP_PAGES=${DEEP_PAGES:-100}
QUIET_WAIT=${QUIET_WAIT:-900}
EXPLAIN_ONLY=${EXPLAIN_ONLY:-0}
PYTHON=${PYTHON:-python3}
BENCH_OUT=${BENCH_OUT:-$repo/bench/mail/out}
RATIO_DIGITS=4

((GROUP_SIZE >= 1 && GROUP_SIZE <= 1000)) || { echo "bench: GROUP_SIZE must be 1..1000" >&2; exit 2; }
((MAILBOX >= 200 && MAILBOX <= 200000)) || { echo "bench: MAILBOX must be 200..200000" >&2; exit 2; }
((LMTP_PROCS >= 1 && LMTP_PROCS <= 16)) || { echo "bench: LMTP_PROCS must be 1..16 (the listener takes 16 connections)" >&2; exit 2; }
((FILL_PROCS >= 1 && FILL_PROCS <= 16)) || { echo "bench: FILL_PROCS must be 1..16" >&2; exit 2; }
((DEEP_PAGES >= 1 && DEEP_PAGES * 50 < MAILBOX)) || { echo "bench: DEEP_PAGES must be 1..MAILBOX/50-1" >&2; exit 2; }
((DURATION >= 1 && DURATION <= 600)) || { echo "bench: DURATION must be 1..600" >&2; exit 2; }

# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"

DOMAIN=bench.example.org
RARE_WORD=zeugniskonferenz # in messages i % 100 == 7 (lmtp_load.py): 1 %
COMMON_WORD=schule         # in every message

# ---- preflight, build, temp dir --------------------------------------------------------------

bench_preflight wrk curl jq ss awk meson ninja timeout "$PYTHON"
"$PYTHON" -c 'import smtplib; smtplib.LMTP' 2>/dev/null || die "$PYTHON has no smtplib.LMTP"
bench_build
[[ -f $BUILD_DIR/plugins/mail.so ]] || die "no $BUILD_DIR/plugins/mail.so after the build (GMime missing at configure time?)"
[[ -f $BUILD_DIR/plugins/groups.so ]] || die "no $BUILD_DIR/plugins/groups.so after the build"
bench_tmp atrium-bench-mail

# ---- PostgreSQL and atriumd (with the LMTP listener) -----------------------------------------

start_pg "bench/mail/run.sh (same settings as bench/run.sh)"
lmtp_port=$(free_port)
ATRIUMD_EXTRA_ENV+=(ATRIUM_MAIL_LMTP_LISTEN="127.0.0.1:$lmtp_port")
start_atriumd "(pool size $POOL_SIZE, LMTP on 127.0.0.1:$lmtp_port)"
for ((i = 0; i < 50; i++)); do
        ss -Htln "sport = :$lmtp_port" | grep -q . && break
        sleep 0.1
done
ss -Htln "sport = :$lmtp_port" | grep -q . || die "the LMTP listener is not on port $lmtp_port (atriumd.log: $(grep -i lmtp "$tmp/atriumd.log" | tail -n 2))"

# ---- the school ------------------------------------------------------------------------------
#
# An operator creates the school, enables groups and mail and sets the mail domain (with a
# mailbox quota of 10 GiB, so that the 10,000-message mailbox and the sends' Sent folder fit).
# Through the API: a teacher (sends, owns the class), a student "reader" (the big mailbox,
# not in the class). By SQL as the superuser, like bench/groups: GROUP_SIZE students, who are
# then put into the class "7b" (created by the teacher, so the teacher owns it) through the
# API's batch route.
say "creating the school: a teacher, a class 7b of $GROUP_SIZE students, a reader"
mail=/api/v1/schools/demo/mail
pw=$(new_password)
bench_operator
api POST /api/v1/schools "$op" '{"slug": "demo", "name": "Demo School"}' >/dev/null
api PUT /api/v1/schools/demo/modules/groups "$op" "" >/dev/null
api PUT /api/v1/schools/demo/modules/mail "$op" "" >/dev/null
api PUT /api/v1/schools/demo/mail/settings "$op" \
        "{\"domain\": \"$DOMAIN\", \"mailbox_quota_bytes\": 10737418240}" >/dev/null
declare -A token id
for who in teacher:teacher reader:student; do
        name=${who%%:*} role=${who##*:}
        id[$name]=$(api POST /api/v1/schools/demo/users "$op" "$(jq -nc --arg u "$name" \
                --arg r "$role" --arg p "$pw" \
                '{username: $u, display_name: ("Bench " + $u), roles: [$r], password: $p}')" |
                jq -r .id)
        token[$name]=$(sign_in demo "$name" "$pw")
done
psql_admin -d atrium <<SQL
INSERT INTO core.users (school_id, username, display_name, roles)
SELECT s.id, 'schueler' || lpad(g::text, 2, '0'), 'Schüler ' || lpad(g::text, 2, '0'), '{student}'
  FROM core.schools s, generate_series(1, $GROUP_SIZE) g WHERE s.slug = 'demo';
SQL
group=$(api POST /api/v1/schools/demo/groups "${token[teacher]}" \
        '{"name": "Klasse 7b", "slug": "7b", "type": "class"}' | jq -r .id)
members=$(psql_admin -d atrium -Atc "SELECT json_agg(json_build_object('user_id', id))
        FROM core.users WHERE username LIKE 'schueler%'")
api POST "/api/v1/schools/demo/groups/$group/members:batch" "${token[teacher]}" \
        "{\"add\": $members}" >/dev/null
# The LMTP loads write to 7b from outside, which a group takes only when it says so.
api PUT "$mail/groups/$group" "${token[teacher]}" '{"external_senders": "anyone"}' >/dev/null
n_members=$(psql_admin -d atrium -Atc "SELECT count(*) FROM groups.members WHERE group_id = '$group' AND role = 'member'")
((n_members == GROUP_SIZE)) || die "class 7b has $n_members members, not $GROUP_SIZE"
first_pupil=schueler01
school_id=$(psql_admin -d atrium -Atc "SELECT id FROM core.schools WHERE slug = 'demo'")

# One send checks the route and the count of deliveries.
send_body() { jq -nc --arg to "7b@$DOMAIN" --arg s "$1" --arg t "$2" '{to: [$to], subject: $s, text: $t}'; }
letter=$(awk -v n="$MSG_BYTES" 'BEGIN { s = "Liebe Eltern der Klasse 7b, "; w = "am Donnerstag findet der Elternabend im Raum 104 statt, bitte bringen Sie die Unterlagen mit. ";
        while (length(s) < n) s = s w; print substr(s, 1, n) }')
r=$(api POST "$mail/messages" "${token[teacher]}" "$(send_body "Elternabend (check)" "$letter")")
# The class's members: the students and the teacher, whom creating the group made its owner
# (and a member). A send to 7b@ puts a copy into every member's INBOX but the sender's (their
# copy is in Sent); mail to 7b@ from outside (LMTP) reaches all GROUP_SIZE + 1.
rcpts=$(jq .delivered <<<"$r")
((rcpts == GROUP_SIZE)) || die "a send to 7b answered $r ($GROUP_SIZE deliveries expected)"
lmtp_rcpts=$((GROUP_SIZE + 1))

# ---- the big mailbox, over LMTP ------------------------------------------------------------

lmtp() { "$PYTHON" "$repo/bench/mail/lmtp_load.py" --port "$lmtp_port" --size "$MSG_BYTES" "$@"; }
say "filling reader's INBOX with $MAILBOX messages over LMTP ($FILL_PROCS clients)"
fill_t0=$(date +%s.%N)
lmtp --rcpt "reader@$DOMAIN" --procs "$FILL_PROCS" --count "$MAILBOX" >"$tmp/fill.json" ||
        die "filling the mailbox failed: $(cat "$tmp/fill.json")"
fill_s=$(awk -v a="$fill_t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
psql_admin -d atrium -c 'VACUUM ANALYZE'
read -r n_inbox n_rare n_common inbox_mb < <(psql_admin -d atrium -Atc "
        SELECT count(*), count(*) FILTER (WHERE search @@ to_tsquery('simple', '$RARE_WORD')),
               count(*) FILTER (WHERE search @@ to_tsquery('simple', '$COMMON_WORD')),
               round(sum(size) / 1048576.0, 1)
          FROM mail.messages WHERE user_id = '${id[reader]}'" | tr '|' ' ')
((n_inbox == MAILBOX && n_common == MAILBOX)) || die "reader's mailbox: $n_inbox messages, $n_common with '$COMMON_WORD'"
say "INBOX: $n_inbox messages ($inbox_mb MiB), $n_rare with '$RARE_WORD', loaded in $fill_s s"

# Every read route once; the deep page's cursor by walking there.
auth_r=(-H "Authorization: Bearer ${token[reader]}")
inbox_path="$mail/folders/INBOX/messages?limit=50"
folders_path="$mail/folders"
rare_path="$mail/search?q=$RARE_WORD"
common_path="$mail/search?q=$COMMON_WORD"
page=$(api GET "$inbox_path" "${token[reader]}" "")
[[ $(jq '.items | length' <<<"$page") == 50 ]] || die "INBOX first page has not 50 items"
inbox_bytes=${#page}
cursor=$(jq -r .next_cursor <<<"$page")
for ((p = 1; p < DEEP_PAGES; p++)); do
        page=$(api GET "$inbox_path&cursor=$cursor" "${token[reader]}" "")
        cursor=$(jq -r .next_cursor <<<"$page")
        [[ $cursor != null ]] || die "the INBOX ends before page $((p + 1))"
done
deep_path="$inbox_path&cursor=$cursor"
page=$(api GET "$deep_path" "${token[reader]}" "")
[[ $(jq '.items | length' <<<"$page") == 50 ]] || die "INBOX page $((DEEP_PAGES + 1)) has not 50 items"
folders=$(api GET "$folders_path" "${token[reader]}" "")
[[ $(jq '.items[] | select(.name == "INBOX") | .total' <<<"$folders") == "$MAILBOX" ]] ||
        die "GET /folders: $(jq -c . <<<"$folders")"
rare=$(api GET "$rare_path" "${token[reader]}" "")
rare_items=$(jq '.items | length' <<<"$rare")
((rare_items == (n_rare < 50 ? n_rare : 50))) || die "search $RARE_WORD: $rare_items items, $n_rare expected"
common=$(api GET "$common_path" "${token[reader]}" "")
[[ $(jq '.items | length' <<<"$common") == 50 ]] || die "search $COMMON_WORD has not 50 items"

((EXPLAIN_ONLY)) || pgbench_init

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$BENCH_OUT/$stamp
mkdir -p "$out"
cp "$tmp/fill.json" "$out/fill.json"

# ---- where the time goes: the read SQL under EXPLAIN ANALYZE, as the request role ------------
#
# atriumd runs a request as atrium_request (no BYPASSRLS) with atrium.school_id and
# atrium.user_id set; so does this, with the statements the plugin runs. The search page is
# the statement mail_respond_summary_page builds for /search (first page: no cursor, limit
# 51), whose ids come from mail.search_ids() (SECURITY DEFINER, schema/0003 and 0005): its
# custom and its generic plan (atriumd prepares statements per pool connection, and after
# five executions PostgreSQL may switch to the generic plan), and auto_explain's log of the
# plan the function itself ran (its own per call: plan_cache_mode = force_custom_plan).
# Then the INBOX page, GET /folders (counters since 0004) and the quota check each delivery
# makes (the mailbox's usage row, locked).
summary_sql() { # WHERE-clause with $1..$n, then the cursor and limit parameters' numbers
        echo "SELECT m.id, f.name AS folder, m.subject, m.from_addr AS \"from\", m.to_addrs AS \"to\", m.cc_addrs AS cc, to_char(m.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS date, to_char(m.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS received_at, m.seen, m.flagged, m.answered, m.has_attachments, m.preview, m.size, m.thread_id FROM mail.messages m JOIN mail.folders f ON f.school_id = m.school_id AND f.id = m.folder_id WHERE $1 AND (\$$2::timestamptz IS NULL OR (m.received_at, m.id) < (\$$2::timestamptz, \$$3::uuid)) ORDER BY m.received_at DESC, m.id DESC LIMIT \$$4::int"
}
search_sql=$(summary_sql "m.user_id = \$1::uuid AND m.id = ANY (ARRAY(SELECT mail.search_ids(\$1::uuid, \$2, \$3::timestamptz, \$4::uuid, \$5::int)))" 3 4 5)
inbox_sql=$(summary_sql "m.folder_id = \$1::uuid" 2 3 4)
folders_sql="SELECT name, special, total, unread FROM mail.folders WHERE user_id = \$1::uuid ORDER BY array_position(ARRAY['inbox','drafts','sent','trash'], special), name"
quota_sql="SELECT u.bytes, coalesce((SELECT mailbox_quota_bytes FROM mail.settings), 1073741824) FROM mail.usage u WHERE u.user_id = \$1::uuid FOR UPDATE OF u"
inbox_id=$(psql_admin -d atrium -Atc "SELECT id FROM mail.folders WHERE user_id = '${id[reader]}' AND special = 'inbox'")
prelude="SET LOCAL ROLE atrium_request; SELECT set_config('atrium.school_id', '$school_id', true), set_config('atrium.user_id', '${id[reader]}', true);"
explain() {
        psql_admin -d atrium -P pager=off <<SQL
BEGIN;
$prelude
PREPARE s(uuid, text, timestamptz, uuid, int) AS $search_sql;
PREPARE i(uuid, timestamptz, uuid, int) AS $inbox_sql;
PREPARE fo(uuid) AS $folders_sql;
PREPARE q(uuid) AS $quota_sql;
\\echo '---- search rare, request role, custom plan'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE s('${id[reader]}', '$RARE_WORD', NULL, NULL, 51);
\\echo '---- search common, request role, custom plan'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE s('${id[reader]}', '$COMMON_WORD', NULL, NULL, 51);
SET LOCAL plan_cache_mode = force_generic_plan;
\\echo '---- search rare, request role, generic plan'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE s('${id[reader]}', '$RARE_WORD', NULL, NULL, 51);
\\echo '---- search common, request role, generic plan'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE s('${id[reader]}', '$COMMON_WORD', NULL, NULL, 51);
RESET plan_cache_mode;
\\echo '---- INBOX first page, request role'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE i('$inbox_id', NULL, NULL, 51);
\\echo '---- folders, request role'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE fo('${id[reader]}');
\\echo '---- quota check of a delivery, request role'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE q('${id[reader]}');
ROLLBACK;
SQL
}
# The plan mail.search_ids() runs inside (a nested statement: auto_explain's log, which psql
# prints on stderr, so one call per psql with only that kept).
function_plan() {
        echo "---- mail.search_ids() for $1, its own plan (auto_explain)"
        psql_admin -d atrium -P pager=off 2>&1 >/dev/null <<SQL
BEGIN;
LOAD 'auto_explain';
SET LOCAL auto_explain.log_min_duration = 0;
SET LOCAL auto_explain.log_nested_statements = on;
SET LOCAL auto_explain.log_analyze = on;
SET LOCAL client_min_messages = log;
$prelude
SELECT count(*) FROM mail.search_ids('${id[reader]}', '$1', NULL, NULL, 51);
ROLLBACK;
SQL
}
{ explain && function_plan "$RARE_WORD" && function_plan "$COMMON_WORD"; } >"$out/explain.txt" 2>&1 ||
        die "EXPLAIN failed: $(tail -n 5 "$out/explain.txt")"
# section NAME: the plan under "---- NAME" in explain.txt
section() { awk -v h="---- $1" 'index($0, h) == 1 { f = 1; next } f && /^---- / { exit } f' "$out/explain.txt"; }
exec_ms() { section "$1" | awk '/Execution Time/ { print $3; exit }'; }
# fn_ms WORD: the time auto_explain logged for mail.search_ids()'s own statement
fn_ms() { section "mail.search_ids() for $1," | awk '/duration: .* plan:/ { d = $3 } /FROM mail.messages m/ { print d; exit }'; }
# fn_plan WORD: how the function found its rows: the GIN index, or the mailbox newest first
fn_plan() {
        section "mail.search_ids() for $1," | awk '/FROM mail.messages m/ { f = 1 } f && /Function Scan/ { exit } f' |
                awk '/messages_search/ { g = 1 } /messages_by_user_time/ { t = 1 } END { print (g ? "GIN index" : (t ? "mailbox newest first" : "other plan")) }'
}
ex_rare_ms=$(exec_ms "search rare, request role, custom plan")
ex_common_ms=$(exec_ms "search common, request role, custom plan")
ex_rare_generic_ms=$(exec_ms "search rare, request role, generic plan")
ex_common_generic_ms=$(exec_ms "search common, request role, generic plan")
ex_rare_fn_ms=$(fn_ms "$RARE_WORD")
ex_common_fn_ms=$(fn_ms "$COMMON_WORD")
ex_rare_fn=$(fn_plan "$RARE_WORD")
ex_common_fn=$(fn_plan "$COMMON_WORD")
ex_inbox_ms=$(exec_ms "INBOX first page")
ex_folders_ms=$(exec_ms "folders, request role")
ex_quota_ms=$(exec_ms "quota check of a delivery")
section "search rare, request role, custom plan" >&2
explain_line="Search SQL under \`EXPLAIN ANALYZE\` as the request role (first page, limit 51): \"$RARE_WORD\" $ex_rare_ms ms (mail.search_ids()'s own statement $ex_rare_fn_ms ms, $ex_rare_fn), \"$COMMON_WORD\" $ex_common_ms ms (the function's $ex_common_fn_ms ms, $ex_common_fn); the page statement's generic plans (what a statement prepared by atriumd's pool connections may switch to after five executions) $ex_rare_generic_ms ms and $ex_common_generic_ms ms. INBOX first page $ex_inbox_ms ms, \`/folders\` $ex_folders_ms ms, a delivery's quota check $ex_quota_ms ms (plans in \`explain.txt\` of the run)."
if ((EXPLAIN_ONLY)); then
        say "EXPLAIN_ONLY: plans in $out/explain.txt, no loads"
        echo "$explain_line"
        exit 0
fi

# ---- helpers for the loads -------------------------------------------------------------------

# wrk_load NAME CONNECTIONS PATH [wrk args]: warm-up, wait for quiet, the measured wrk run;
# sets NAME_{rps,p50,p99,bad,err,n,cpu,other,a_ms,pg_ms}.
wrk_load() {
        local name=$1 conns=$2 path=$3 m0 s0 s1 rps p50 p99 bad err n c o am pm
        shift 3
        wait_quiet "$name"
        ((WARMUP > 0)) && WRK_CONNECTIONS=$conns measure "$tmp/warmup.txt" wrk_run "$WARMUP" "$api_url$path" "$@" 2>/dev/null
        wait_idle
        say "wrk -c$conns: $name"
        m0=$(cpu_mark)
        s0=$(split_mark)
        WRK_CONNECTIONS=$conns measure "$out/$name.wrk.txt" wrk_run "$DURATION" "$api_url$path" "$@"
        s1=$(split_mark)
        read -r c o < <(cpu_report "$m0" "$(cpu_mark)")
        wait_idle
        read -r rps p50 p99 bad err n < <(wrk_parse "$out/$name.wrk.txt")
        # The requests that were answered after wrk's end (wait_idle) are not in n; their CPU
        # would be: split over the measured window only.
        read -r am pm < <(split_report "$s0" "$s1" "$n")
        printf -v "${name}_rps" '%s' "$rps"
        printf -v "${name}_p50" '%s' "$p50"
        printf -v "${name}_p99" '%s' "$p99"
        printf -v "${name}_bad" '%s' "$bad"
        printf -v "${name}_err" '%s' "$err"
        printf -v "${name}_n" '%s' "$n"
        printf -v "${name}_cpu" '%s' "$c"
        printf -v "${name}_other" '%s' "$o"
        printf -v "${name}_ams" '%s' "$am"
        printf -v "${name}_pgms" '%s' "$pm"
}

# lmtp_load NAME RCPT: LMTP_PROCS clients for DURATION s; sets NAME_{rate,n,failed,p50,p99,...}.
lmtp_run() {
        local name=$1 rcpt=$2 m0 s0 s1 c o am pm rate n failed
        wait_quiet "$name"
        ((WARMUP > 0)) && lmtp --rcpt "$rcpt" --procs "$LMTP_PROCS" --seconds "$WARMUP" >/dev/null
        wait_idle
        say "LMTP, $LMTP_PROCS clients: $name"
        m0=$(cpu_mark)
        s0=$(split_mark)
        measure "$out/$name.json" lmtp --rcpt "$rcpt" --procs "$LMTP_PROCS" --seconds "$DURATION" \
                --latencies "$out/$name-ms.txt" || true
        s1=$(split_mark)
        read -r c o < <(cpu_report "$m0" "$(cpu_mark)")
        read -r rate n failed < <(tail -n 1 "$out/$name.json" | jq -r '"\(.per_second) \(.sent) \(.failed)"')
        read -r am pm < <(split_report "$s0" "$s1" "$n")
        printf -v "${name}_rate" '%s' "$rate"
        printf -v "${name}_n" '%s' "$n"
        printf -v "${name}_failed" '%s' "$failed"
        printf -v "${name}_p50" '%s' "$(percentile 50 "$out/$name-ms.txt")"
        printf -v "${name}_p99" '%s' "$(percentile 99 "$out/$name-ms.txt")"
        printf -v "${name}_cpu" '%s' "$c"
        printf -v "${name}_other" '%s' "$o"
        printf -v "${name}_ams" '%s' "$am"
        printf -v "${name}_pgms" '%s' "$pm"
}

# ---- 1. sending to the class -----------------------------------------------------------------

cat >"$tmp/send.lua" <<'LUA'
-- POST /mail/messages to the class, a numbered subject per request (one Lua state per thread).
-- The header goes into wrk.headers: a table given to wrk.format would replace them (and with
-- them the Authorization header from -H).
wrk.headers["Content-Type"] = "application/json"
local body_text = os.getenv("SEND_TEXT")
local to = os.getenv("SEND_TO")
local n = 0
local function esc(s) return (s:gsub('[\\"]', '\\%0')) end
request = function()
        n = n + 1
        local body = '{"to":["' .. to .. '"],"subject":"Elternbrief ' .. n ..
                '","text":"' .. esc(body_text) .. '"}'
        return wrk.format("POST", nil, nil, body)
end
LUA
export SEND_TEXT=$letter SEND_TO="7b@$DOMAIN"
sent_count() { psql_admin -d atrium -Atc "SELECT count(*) FROM mail.messages m JOIN mail.folders f ON f.school_id = m.school_id AND f.id = m.folder_id WHERE f.user_id = '${id[teacher]}' AND f.special = 'sent'"; }
sent_before=$(sent_count)
wrk_load send "$SEND_CONNECTIONS" "$mail/messages" -H "Authorization: Bearer ${token[teacher]}" -s "$tmp/send.lua"
sent_after=$(sent_count)
send_rows=$((sent_after - sent_before)) # warm-up, load, and what was answered after wrk's end
deliv_per_s=$(awk -v r="$send_rps" -v g="$rcpts" 'BEGIN { printf "%.0f", r * g }')
rows_per_s=$(awk -v r="$send_rps" -v g="$rcpts" 'BEGIN { printf "%.0f", r * (g + 1) }')

# ---- 2. the INBOX of 10,000 --------------------------------------------------------------------

wrk_load inbox "$WRK_CONNECTIONS" "$inbox_path" "${auth_r[@]}"
wrk_load deep "$WRK_CONNECTIONS" "$deep_path" "${auth_r[@]}"
wrk_load folders "$WRK_CONNECTIONS" "$folders_path" "${auth_r[@]}"

# ---- 3. search ----------------------------------------------------------------------------------

wrk_load rare "$WRK_CONNECTIONS" "$rare_path" "${auth_r[@]}"
wrk_load common "$COMMON_CONNECTIONS" "$common_path" "${auth_r[@]}"

# ---- 4. LMTP delivery ----------------------------------------------------------------------------

lmtp_run lmtp1 "$first_pupil@$DOMAIN"
lmtp_run lmtpg "7b@$DOMAIN"
lmtpg_deliv=$(awk -v r="$lmtpg_rate" -v g="$lmtp_rcpts" 'BEGIN { printf "%.0f", r * g }')

# ---- 5. the ceiling ----------------------------------------------------------------------------

wait_quiet pgbench
pgbench_ceiling "$out/pgbench.txt"

# ---- results -----------------------------------------------------------------------------------

describe_machine core api plugins bench/mail
load_after=$(cut -d' ' -f1 /proc/loadavg)
lmtp1_box=$(psql_admin -d atrium -Atc "SELECT count(*) FROM mail.messages m JOIN core.users u ON u.id = m.user_id WHERE u.username = '$first_pupil'")

{
        row() { printf '%-46s %10s %9s %9s %6s %8s %14s %5s %6s\n' "$@"; }
        echo
        row "load" "req/s|tps" "p50 ms" "p99 ms" "errors" "/pgbench" "CPU/req a+pg ms" "cpu%" "other%"
        row "send to 7b (wrk -c$SEND_CONNECTIONS)" "$send_rps" "$send_p50" "$send_p99" "$((send_bad + send_err))" "$(ratio "$send_rps" "$pg_tps")" "$send_ams+$send_pgms" "$send_cpu" "$send_other"
        row "  = deliveries/s ($rcpts INBOX rows per send)" "$deliv_per_s" "" "" "" "$(ratio "$deliv_per_s" "$pg_tps")" "" "" ""
        row "INBOX first page of 50 (wrk -c$WRK_CONNECTIONS)" "$inbox_rps" "$inbox_p50" "$inbox_p99" "$((inbox_bad + inbox_err))" "$(ratio "$inbox_rps" "$pg_tps")" "$inbox_ams+$inbox_pgms" "$inbox_cpu" "$inbox_other"
        row "INBOX page $((DEEP_PAGES + 1))" "$deep_rps" "$deep_p50" "$deep_p99" "$((deep_bad + deep_err))" "$(ratio "$deep_rps" "$pg_tps")" "$deep_ams+$deep_pgms" "$deep_cpu" "$deep_other"
        row "GET /folders" "$folders_rps" "$folders_p50" "$folders_p99" "$((folders_bad + folders_err))" "$(ratio "$folders_rps" "$pg_tps")" "$folders_ams+$folders_pgms" "$folders_cpu" "$folders_other"
        row "search, word in $n_rare messages" "$rare_rps" "$rare_p50" "$rare_p99" "$((rare_bad + rare_err))" "$(ratio "$rare_rps" "$pg_tps")" "$rare_ams+$rare_pgms" "$rare_cpu" "$rare_other"
        row "search, word in all $n_common (-c$COMMON_CONNECTIONS)" "$common_rps" "$common_p50" "$common_p99" "$((common_bad + common_err))" "$(ratio "$common_rps" "$pg_tps")" "$common_ams+$common_pgms" "$common_cpu" "$common_other"
        row "LMTP to one user ($LMTP_PROCS clients), msg/s" "$lmtp1_rate" "$lmtp1_p50" "$lmtp1_p99" "$lmtp1_failed" "$(ratio "$lmtp1_rate" "$pg_tps")" "$lmtp1_ams+$lmtp1_pgms" "$lmtp1_cpu" "$lmtp1_other"
        row "LMTP to 7b ($LMTP_PROCS clients), msg/s" "$lmtpg_rate" "$lmtpg_p50" "$lmtpg_p99" "$lmtpg_failed" "$(ratio "$lmtpg_rate" "$pg_tps")" "$lmtpg_ams+$lmtpg_pgms" "$lmtpg_cpu" "$lmtpg_other"
        row "  = deliveries/s" "$lmtpg_deliv" "" "" "" "$(ratio "$lmtpg_deliv" "$pg_tps")" "" "" ""
        row "pgbench -S -M prepared" "$pg_tps" "avg $pg_lat" "-" "$pg_failed" "1" "" "$pg_cpu" "$pg_other"
        printf '(CPU/req: atriumd + PostgreSQL ms of CPU per request or message over the load; cpu%%: the bench'"'"'s own processes, other%%: everything else, in %% of all %s cores)\n' "$(nproc)"
        printf '%s\n' "$explain_line"
        printf 'mailbox filled over LMTP in %s s (%s); sends stored %s Sent copies (warm-up and tail included); %s ends with %s messages\n' \
                "$fill_s" "$(jq -c . "$out/fill.json")" "$send_rows" "$first_pupil" "$lmtp1_box"
        printf 'load average before %s, after %s; waited %s s for other work in all\n\n' "$load_before" "$load_after" "$waited_total"
} | tee "$out/table.txt"

disturbed=$(disturbed_note 5 "$send_other" "$inbox_other" "$deep_other" "$folders_other" "$rare_other" "$common_other" "$lmtp1_other" "$lmtpg_other" "$pg_other")
busy_note=""
[[ -s $out/quiet.txt ]] && grep -q 'measured while busy' "$out/quiet.txt" &&
        busy_note="Some loads were measured while other benchmarks or builds were still running after ${QUIET_WAIT} s of waiting (\`quiet.txt\` of the run)."

cat >"$out/results.md" <<EOF
### $(date -u '+%Y-%m-%d %H:%M UTC') - mail, atriumd $commit

\`DURATION=$DURATION ATRIUM_POOL_SIZE=$POOL_SIZE bench/mail/run.sh\` - each load ${DURATION} s after a ${WARMUP} s warm-up, one after the other, on one machine:
$(nproc) × $cpu, $mem RAM, Linux $(uname -r), PostgreSQL $pg_version, $(wrk -v 2>&1 | head -n 1 | awk '{ print "wrk " $2 }'), atriumd build type \`$buildtype\`, pool size $POOL_SIZE. Load average before: $load_before, after: $load_after.
School: domain \`$DOMAIN\`, a teacher who owns class 7b ($GROUP_SIZE students; the teacher, its owner, is a member too: a send of theirs to \`7b@\` is $rcpts deliveries and the Sent copy, a message from outside $lmtp_rcpts deliveries), a student whose INBOX holds $n_inbox messages ($inbox_mb MiB, ~$MSG_BYTES bytes of text each), delivered over LMTP by $FILL_PROCS clients in $fill_s s; "$RARE_WORD" is in $n_rare of them, "$COMMON_WORD" in all. wrk: \`-t$WRK_THREADS --timeout $WRK_TIMEOUT --latency\`, bearer tokens. LMTP: \`bench/mail/lmtp_load.py\`, $LMTP_PROCS processes with one \`smtplib.LMTP\` connection each, one RCPT per message.

| load | req/s, msg/s or tps | p50 | p99 | errors | ÷ pgbench tps | CPU per request: atriumd + PostgreSQL | CPU, bench | CPU, other |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
| \`POST /mail/messages\` to \`7b@\` (~$MSG_BYTES bytes of text), the teacher, \`wrk -c$SEND_CONNECTIONS\` | $(fmt_int "$send_rps") sends/s = $(fmt_int "$deliv_per_s") deliveries/s ($(fmt_int "$rows_per_s") rows/s with the Sent copy) | $send_p50 ms | $send_p99 ms | $((send_bad + send_err)) | $(ratio "$send_rps" "$pg_tps") (deliveries: $(ratio "$deliv_per_s" "$pg_tps")) | $send_ams + $send_pgms ms | $send_cpu % | $send_other % |
| \`GET /mail/folders/INBOX/messages?limit=50\`, first page ($inbox_bytes bytes), \`wrk -c$WRK_CONNECTIONS\` | $(fmt_int "$inbox_rps") | $inbox_p50 ms | $inbox_p99 ms | $((inbox_bad + inbox_err)) | $(ratio "$inbox_rps" "$pg_tps") | $inbox_ams + $inbox_pgms ms | $inbox_cpu % | $inbox_other % |
| the same, page $((DEEP_PAGES + 1)) (its cursor, $((DEEP_PAGES * 50)) messages in) | $(fmt_int "$deep_rps") | $deep_p50 ms | $deep_p99 ms | $((deep_bad + deep_err)) | $(ratio "$deep_rps" "$pg_tps") | $deep_ams + $deep_pgms ms | $deep_cpu % | $deep_other % |
| \`GET /mail/folders\` (the folders' counters; $n_inbox messages in the INBOX) | $(fmt_int "$folders_rps") | $folders_p50 ms | $folders_p99 ms | $((folders_bad + folders_err)) | $(ratio "$folders_rps" "$pg_tps") | $folders_ams + $folders_pgms ms | $folders_cpu % | $folders_other % |
| \`GET /mail/search?q=$RARE_WORD\` ($n_rare hits, first page) | $(fmt_int "$rare_rps") | $rare_p50 ms | $rare_p99 ms | $((rare_bad + rare_err)) | $(ratio "$rare_rps" "$pg_tps") | $rare_ams + $rare_pgms ms | $rare_cpu % | $rare_other % |
| \`GET /mail/search?q=$COMMON_WORD\` ($n_common hits, first page of 50), \`wrk -c$COMMON_CONNECTIONS\` | $(fmt_int "$common_rps") | $common_p50 ms | $common_p99 ms | $((common_bad + common_err)) | $(ratio "$common_rps" "$pg_tps") | $common_ams + $common_pgms ms | $common_cpu % | $common_other % |
| LMTP, ~1 KB messages to one user (\`$first_pupil@\`), $LMTP_PROCS clients | $lmtp1_rate msg/s | $lmtp1_p50 ms | $lmtp1_p99 ms | $lmtp1_failed | $(ratio "$lmtp1_rate" "$pg_tps") | $lmtp1_ams + $lmtp1_pgms ms | $lmtp1_cpu % | $lmtp1_other % |
| LMTP, ~1 KB messages to \`7b@\` ($lmtp_rcpts recipients), $LMTP_PROCS clients | $lmtpg_rate msg/s = $(fmt_int "$lmtpg_deliv") deliveries/s | $lmtpg_p50 ms | $lmtpg_p99 ms | $lmtpg_failed | $(ratio "$lmtpg_rate" "$pg_tps") (deliveries: $(ratio "$lmtpg_deliv" "$pg_tps")) | $lmtpg_ams + $lmtpg_pgms ms | $lmtpg_cpu % | $lmtpg_other % |
| \`pgbench -S -M prepared -c$PGBENCH_CLIENTS -j$PGBENCH_JOBS\` (scale $PGBENCH_SCALE) | $(fmt_int "$pg_tps") | avg $pg_lat ms | - | $pg_failed | 1 | | $pg_cpu % | $pg_other % |

$explain_line CPU per request: atriumd's and the PostgreSQL cluster's CPU time over the load divided by the requests (messages) wrk (the LMTP clients) counted. CPU columns: share of all $(nproc) cores' time used by the bench's own processes and by everything else on the machine during each load, interrupts excluded.
${disturbed}
${busy_note}
EOF
say "raw output and results.md in $out"
cat "$out/results.md"

fails=$((send_bad + send_err + inbox_bad + inbox_err + deep_bad + deep_err + folders_bad + folders_err + rare_bad + rare_err + common_bad + common_err + lmtp1_failed + lmtpg_failed + pg_failed))
((fails == 0)) || die "some requests failed (see the errors column): these figures are not valid"
((send_n > 0 && inbox_n > 0 && common_n > 0 && lmtp1_n > 0 && lmtpg_n > 0)) || die "a load completed nothing in ${DURATION} s: raise DURATION"
