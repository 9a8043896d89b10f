#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# check-exports.sh - plugins reach the host only through the AtriumHost table (ARCHITECTURE.md,
# "The plugin ABI"), so:
#   - atriumd exports no atrium_* symbol a plugin could link against. A host built with
#     -rdynamic/--export-dynamic and default visibility exports all of its functions, and a
#     plugin that calls one by mistake then works by accident, until the next host release.
#   - every plugin exports exactly one symbol, atrium_plugin_descriptor, and needs no atrium_*
#     symbol from anywhere.
#
#   check-exports.sh ATRIUMD PLUGIN_DIR        ($NM overrides nm)
set -eu

if [ $# -ne 2 ]; then
        echo "usage: $0 ATRIUMD PLUGIN_DIR" >&2
        exit 2
fi
host=$1
plugin_dir=$2
NM=${NM:-nm}
failed=0

# The symbol names only: the last field of nm's output.
names() { "$NM" -D "$@" | awk 'NF { print $NF }'; }

leaked=$(names --defined-only "$host" | grep -i '^atrium' || true)
if [ -n "$leaked" ]; then
        count=$(printf '%s\n' "$leaked" | wc -l)
        echo "FAIL: $host exports $count atrium_* symbol(s) plugins could link against:"
        printf '%s\n' "$leaked" | head -20 | sed 's/^/    /'
        [ "$count" -le 20 ] || echo "    ..."
        echo "  (build the host with hidden visibility and without --export-dynamic)"
        failed=1
else
        echo "ok: $host exports no atrium_* symbol"
fi

found=0
for so in "$plugin_dir"/*.so; do
        [ -e "$so" ] || continue
        found=$((found + 1))
        exported=$(names --defined-only "$so" | sort -u | tr '\n' ' ')
        if [ "$exported" != "atrium_plugin_descriptor " ]; then
                echo "FAIL: $so exports [ $exported] instead of just atrium_plugin_descriptor"
                failed=1
        else
                echo "ok: $so exports only atrium_plugin_descriptor"
        fi
        needs=$(names --undefined-only "$so" | grep -i '^atrium' || true)
        if [ -n "$needs" ]; then
                echo "FAIL: $so needs host symbols: $(printf '%s\n' "$needs" | tr '\n' ' ')"
                failed=1
        fi
done
if [ "$found" -eq 0 ]; then
        echo "FAIL: no plugin (*.so) in $plugin_dir"
        failed=1
fi
exit $failed
