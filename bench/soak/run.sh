#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/soak/run.sh - the long soak of issue #13: SECONDS (300) of mixed client behaviour
# against one atriumd under `ulimit -n 512` (keep-alive sessions that end with a FIN or a
# reset, half request lines, abandoned uploads and downloads, pipelined and idle
# connections), sampling the host's open descriptors, threads and RSS once a second.
#
# It is the Soak class of tests/integration/test_connections.py run for longer (the suite runs
# it for 30 s): the same clients, the same assertions (descriptors back within 16 of the warm
# baseline, threads bounded by the pools, RSS growth under 32 MiB in a plain build), and the
# same private PostgreSQL bootstrap (tests/harness, through scripts/pg-cluster.sh). This is a
# resource check, not a speed measurement; it still waits for a quiet machine so that its
# clients get their share.
#
#   bench/soak/run.sh                 # 300 s, plain build in build/
#   SECONDS_TOTAL=60 bench/soak/run.sh
#
# Writes bench/out/soak-<time>/samples.txt (one line per second: fds threads rss_kib) and
# prints a summary.

set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
root=$repo
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

build=${ATRIUM_BUILD_DIR:-build}
seconds=${SECONDS_TOTAL:-300}
out="$root/bench/out/soak-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
report="$out/samples.txt"
QUIET_WAIT=${QUIET_WAIT:-600}

ninja -C "$root/$build" >&2
wait_quiet "the soak"
say "load average before: $(cut -d' ' -f1-3 /proc/loadavg); commit $(git -C "$root" rev-parse --short HEAD)"
ATRIUM_BIN="$root/$build/core/atriumd" ATRIUM_PLUGIN_DIR="$root/$build/plugins" \
        ATRIUM_BUILD_DIR="$root/$build" ATRIUM_SOURCE_DIR="$root" PYTHONPATH="$root/tests" \
        ATRIUM_SOAK_SECONDS="$seconds" ATRIUM_SOAK_REPORT="$report" \
        python3 "$root/tests/integration/test_connections.py" Soak

awk 'NR == 2 { f0 = $2; t0 = $3; r0 = $4 }
     NR > 1 { if ($2 > fmax) fmax = $2; if ($3 > tmax) tmax = $3; if ($4 > rmax) rmax = $4;
              f = $2; t = $3; r = $4 }
     END { printf "soak: start fds %d threads %d rss %.1f MiB; peak fds %d threads %d rss %.1f MiB; end fds %d threads %d rss %.1f MiB\n",
                  f0, t0, r0 / 1024, fmax, tmax, rmax / 1024, f, t, r / 1024 }' "$report"
echo "samples: $report"
