#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-smoke.sh - a short fuzzing run of every target, for CI and for before a commit that
# touches core/pipeline/router.c or core/pipeline/json-schema.c. Each target starts from a throwaway copy of its seed
# corpus (new inputs it finds go there, never into the source tree), the committed regression
# inputs and its dictionary (<target>.dict), runs FUZZ_RUNS inputs (default 200000), and the
# script exits non-zero if any target crashed, leaked, hit a sanitizer report or broke one of
# its invariants. Failing inputs are kept in BUILD_DIR/fuzz-artifacts/; README.md says how one
# becomes a regression input.
#
# usage: tests/fuzz/run-smoke.sh BUILD_DIR [TARGET...]
#   BUILD_DIR  configured with CC=clang -Dfuzzing=true (see README.md)
#   FUZZ_RUNS  inputs per target (default 200000); FUZZ_ARGS  extra libFuzzer flags
set -eu

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
        echo "usage: $0 BUILD_DIR [TARGET...]" >&2
        exit 2
fi
build=$(cd "$1" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
runs=${FUZZ_RUNS:-200000}
targets=${*:-fuzz-router fuzz-json-body fuzz-csv fuzz-files-path fuzz-files-range}

# Undefined behaviour must stop the run, not scroll past in the log.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:intercept_tls_get_addr=0}"

artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
work=$(mktemp -d "${TMPDIR:-/tmp}/atrium-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

status=0
for t in $targets; do
        exe="$build/tests/fuzz/$t"
        if [ ! -x "$exe" ]; then
                echo "$t: $exe not built (configure with CC=clang -Dfuzzing=true)" >&2
                exit 2
        fi
        mkdir -p "$work/$t"
        cp "$here/corpus/$t/"* "$work/$t/"
        set -- -runs="$runs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
                -artifact_prefix="$artifacts/$t-"
        if [ -f "$here/$t.dict" ]; then
                set -- "$@" -dict="$here/$t.dict"
        fi
        log="$work/$t.log"
        touch "$work/$t.start"
        echo "== $t: $runs runs"
        # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
        if "$exe" "$@" ${FUZZ_ARGS:-} \
                "$work/$t" "$here/regressions/$t" >"$log" 2>&1; then
                grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
                grep -E '#[0-9]+ +DONE' "$log" || true
        else
                status=1
                echo "** $t FAILED; last lines of its log:"
                tail -n 60 "$log"
                echo "** inputs that failed (copy each into tests/fuzz/regressions/$t/):"
                find "$artifacts" -type f -name "$t-*" -newer "$work/$t.start" | sed 's/^/   /'
        fi
done
exit $status
