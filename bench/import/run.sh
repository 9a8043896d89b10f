#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/import/run.sh - issue #21: a new school year in one import, timed end to end:
#   1. the first import of PUPILS pupils in CLASSES classes (with two courses each) into an
#      empty school with the groups module: people created, class and course groups created
#      and filled;
#   2. the next year's file, with MOVES pupils in another class and LEAVERS pupils left out:
#      its dry run (?dry_run=true&remove_missing=disable: the whole diff, nothing written), then
#      the real import (?remove_missing=disable: moves through the groups service, leavers
#      disabled with their sessions revoked and one audit entry each);
#   3. the same file again: nothing changes (the cost of an idempotent re-import).
# Each import is one POST timed by curl, REPS times on fresh schools (median, min, max), with
# the CPU used by atriumd and PostgreSQL per import beside it. The names are real-world shaped
# (German, Turkish, Vietnamese, Polish, Arabic romanised) so the usernames go through the German
# rule and ICU. It builds if needed, starts a private PostgreSQL cluster and atriumd on free
# loopback ports in a temp dir and tears all of it down on exit, also after a failure or
# Ctrl-C. Helpers, teardown and start-up are bench/lib.sh's; results go to
# bench/import/out/<stamp>/results.md (copy them into bench/RESULTS.md by hand).
#
# Knobs (environment): PUPILS (2000), CLASSES (80), MOVES (200), LEAVERS (100), REPS (3),
# ATRIUM_POOL_SIZE (8), ATRIUM_BUILD_DIR (build), PG_BINDIR, BENCH_OUT (bench/import/out),
# QUIET_WAIT (900), KEEP_TMP=1.
#
# Not a test: it measures time, so it never runs from meson test or CI.

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PUPILS=${PUPILS:-2000}
CLASSES=${CLASSES:-80}
MOVES=${MOVES:-200}
LEAVERS=${LEAVERS:-100}
REPS=${REPS:-3}
BENCH_OUT=${BENCH_OUT:-$repo/bench/import/out}
DURATION=${DURATION:-0} # lib.sh's pgbench_ceiling is not used here
WARMUP=${WARMUP:-0}

((PUPILS >= 20 && PUPILS <= 100000)) || { echo "bench: PUPILS must be 20..100000" >&2; exit 2; }
((CLASSES >= 2 && CLASSES <= PUPILS)) || { echo "bench: CLASSES must be 2..PUPILS" >&2; exit 2; }
((MOVES + LEAVERS <= PUPILS)) || { echo "bench: MOVES + LEAVERS must not exceed PUPILS" >&2; exit 2; }
# A file that leaves out more than 10 % is refused as partial (409) unless force=true; the bench
# measures the ordinary case.
((LEAVERS * 10 <= PUPILS)) || { echo "bench: LEAVERS must be at most 10 % of PUPILS" >&2; exit 2; }
((REPS >= 1 && REPS <= 20)) || { echo "bench: REPS must be 1..20" >&2; exit 2; }

# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"

# gen_year YEAR: the export on stdout, as SchILD-like programs write it (UTF-8 with BOM, ';',
# CRLF): Externe ID;Vorname;Nachname;Klasse;Kurse. YEAR 1 is the first file; YEAR 2 moves
# pupils 0..MOVES-1 to the next class and leaves out the last LEAVERS pupils.
gen_year() {
        printf '\xef\xbb\xbf'
        awk -v year="$1" -v n="$PUPILS" -v nc="$CLASSES" -v moves="$MOVES" -v leavers="$LEAVERS" '
        BEGIN {
                ORS = "\r\n"
                nf = split("Jürgen Anna Şükrü Ayşe Thị Hương Minh Anh Łukasz Agnieszka Mohammed Layla Jörg Zoë Ömer Fatma Grzegorz Nguyệt Yusuf Mia", first, " ")
                nl = split("Müller Schmidt Yıldız Öztürk Nguyễn Trần Wójcik Kowalczyk Al-Hassan Abdel-Rahman Weiß Groß Aydın Phạm Haddad Schäfer Kaya Lê Zieliński Becker", last, " ")
                print "Externe ID;Vorname;Nachname;Klasse;Kurse"
                for (i = 0; i < n; i++) {
                        if (year == 2 && i >= n - leavers) continue
                        c = i % nc
                        if (year == 2 && i < moves) c = (c + 1) % nc
                        grade = 5 + int(c / 16); letter = substr("abcdefghijklmnop", c % 16 + 1, 1)
                        courses = "\"Kurs " (i % 40) ", AG " (i % 7) "\""
                        printf "S-%06d;%s;%s;%d%s;%s\r\n", i, first[i % nf + 1], last[int(i / nf) % nl + 1], grade, letter, courses
                }
        }'
}

# post_import SCHOOL FILE QUERY OUT: POSTs FILE as text/csv; the answer goes to OUT; prints
# "http_status seconds".
post_import() {
        curl -sS -o "$4" -w '%{http_code} %{time_total}\n' -X POST \
                -H "Authorization: Bearer $op" -H "Content-Type: text/csv" \
                --data-binary "@$2" "$api_url/api/v1/schools/$1/users/import$3"
}

# timed WHAT SCHOOL FILE QUERY OUT: one import, checked for 200, with its CPU split; appends
# "seconds atriumd_ms postgres_ms" to $tmp/WHAT.times.
timed() {
        local st secs m0 m1 split
        wait_quiet "$1"
        m0=$(split_mark)
        read -r st secs < <(post_import "$2" "$3" "$4" "$5")
        m1=$(split_mark)
        [[ $st == 200 ]] || die "$1 on $2 answered $st: $(head -c 400 "$5")"
        split=$(split_report "$m0" "$m1" 1)
        echo "$secs $split" >>"$tmp/$1.times"
        wait_idle
}

# stats WHAT: "median min max atriumd_ms postgres_ms" of $tmp/WHAT.times (CPU: medians)
column_median() { cut -d' ' -f"$1" "$2" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
stats() {
        local f=$tmp/$1.times
        printf '%.2f %.2f %.2f %.0f %.0f\n' "$(column_median 1 "$f")" \
                "$(cut -d' ' -f1 "$f" | sort -n | head -n 1)" "$(cut -d' ' -f1 "$f" | sort -n | tail -n 1)" \
                "$(column_median 2 "$f")" "$(column_median 3 "$f")"
}

# ---- preflight, build, temp dir --------------------------------------------------------------

bench_preflight curl jq ss awk meson ninja timeout
bench_build
[[ -f $BUILD_DIR/plugins/groups.so ]] || die "no $BUILD_DIR/plugins/groups.so after the build"
bench_tmp atrium-bench-import

start_pg "bench/import/run.sh (same settings as bench/run.sh)"
start_atriumd "(pool size $POOL_SIZE)"
bench_operator

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$BENCH_OUT/$stamp
mkdir -p "$out"

gen_year 1 >"$tmp/year1.csv"
gen_year 2 >"$tmp/year2.csv"
bytes1=$(wc -c <"$tmp/year1.csv")
bytes2=$(wc -c <"$tmp/year2.csv")
say "files: $PUPILS pupils in $CLASSES classes ($bytes1 bytes); next year $((PUPILS - LEAVERS)) with $MOVES moves ($bytes2 bytes)"

for ((rep = 1; rep <= REPS; rep++)); do
        school="year$rep"
        api POST /api/v1/schools "$op" "$(jq -nc --arg s "$school" '{slug: $s, name: ("School " + $s)}')" >/dev/null
        api PUT "/api/v1/schools/$school/modules/groups" "$op" "" >/dev/null
        q="?default_role=student"

        timed first "$school" "$tmp/year1.csv" "$q" "$out/first-$rep.json"
        read -r created errors classes < <(jq -r '"\(.created) \(.errors) \(.groups.classes_created | length)"' "$out/first-$rep.json")
        ((created == PUPILS && errors == 0 && classes == CLASSES)) ||
                die "first import: created $created, errors $errors, classes $classes (want $PUPILS, 0, $CLASSES)"

        timed dry "$school" "$tmp/year2.csv" "$q&remove_missing=disable&dry_run=true" "$out/dry-$rep.json"
        read -r moved missing < <(jq -r '"\(.moved) \(.missing | length)"' "$out/dry-$rep.json")
        ((moved == MOVES && missing == LEAVERS)) ||
                die "dry run: moved $moved, missing $missing (want $MOVES, $LEAVERS)"

        timed second "$school" "$tmp/year2.csv" "$q&remove_missing=disable" "$out/second-$rep.json"
        read -r moved disabled removed < <(jq -r '"\(.moved) \(.disabled) \(.groups.memberships_removed)"' "$out/second-$rep.json")
        ((moved == MOVES && disabled == LEAVERS)) ||
                die "second import: moved $moved, disabled $disabled (want $MOVES, $LEAVERS)"

        timed again "$school" "$tmp/year2.csv" "$q&remove_missing=disable" "$out/again-$rep.json"
        read -r unchanged < <(jq -r '.unchanged' "$out/again-$rep.json")
        ((unchanged == PUPILS - LEAVERS)) || die "re-import: $unchanged unchanged (want $((PUPILS - LEAVERS)))"
done
load_after=$(cut -d' ' -f1 /proc/loadavg)
describe_machine core plugins schema

read -r f_med f_min f_max f_a f_p < <(stats first)
read -r d_med d_min d_max d_a d_p < <(stats dry)
read -r s_med s_min s_max s_a s_p < <(stats second)
read -r a_med a_min a_max a_a a_p < <(stats again)
per_s() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%d", n / s; else print "-" }'; }

cat >"$out/results.md" <<EOF
### $(date -u '+%Y-%m-%d %H:%M UTC') - a school year in one import, atriumd $commit

\`PUPILS=$PUPILS CLASSES=$CLASSES MOVES=$MOVES LEAVERS=$LEAVERS REPS=$REPS bench/import/run.sh\` - each import one \`POST /api/v1/schools/{school}/users/import\` (curl, end to end), $REPS times on fresh schools with the groups module, one after the other, on one machine:
$(nproc) × $cpu, $mem RAM, Linux $(uname -r), PostgreSQL $pg_version, atriumd build type \`$buildtype\`, pool size $POOL_SIZE. Load average before: $load_before, after: $load_after.
Files: UTF-8 with BOM, \`;\`, \`Externe ID;Vorname;Nachname;Klasse;Kurse\`, German, Turkish, Vietnamese, Polish and Arabic (romanised) names; $PUPILS pupils in $CLASSES classes with two courses each ($bytes1 bytes); the next year's file moves $MOVES pupils to another class and leaves $LEAVERS out ($bytes2 bytes).

| import | median | min | max | pupils/s (median) | CPU atriumd | CPU PostgreSQL |
|---|---:|---:|---:|---:|---:|---:|
| first: $PUPILS created, $CLASSES classes and $(jq '.groups.courses_created | length' "$out/first-1.json") courses created and filled | $f_med s | $f_min s | $f_max s | $(per_s "$PUPILS" "$f_med") | $f_a ms | $f_p ms |
| next year, dry run (\`dry_run=true&remove_missing=disable\`: the whole diff, nothing written) | $d_med s | $d_min s | $d_max s | $(per_s "$((PUPILS - LEAVERS))" "$d_med") | $d_a ms | $d_p ms |
| next year: $MOVES moved, $LEAVERS disabled (\`remove_missing=disable\`) | $s_med s | $s_min s | $s_max s | $(per_s "$((PUPILS - LEAVERS))" "$s_med") | $s_a ms | $s_p ms |
| the same file again (nothing changes) | $a_med s | $a_min s | $a_max s | $(per_s "$((PUPILS - LEAVERS))" "$a_med") | $a_a ms | $a_p ms |

CPU columns: clock ticks of atriumd and of the PostgreSQL cluster during the import (median), in milliseconds.
EOF
say "raw answers and results.md in $out"
cat "$out/results.md"
