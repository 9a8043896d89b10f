#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# check-banned.sh - fails when C sources under core/ api/ plugins/ examples/ call one of the
# libc functions the house style bans (sprintf strcpy strcat strtok atoi system gets): each has
# a bounded or error-reporting GLib replacement (g_strdup_printf / g_snprintf, g_strlcpy,
# g_strconcat / GString, g_strsplit, g_ascii_string_to_signed, GSubprocess, fgets). Comments and
# string literals are blanked first, so a comment that names a banned call is fine, and the
# match is on whole identifiers, so g_snprintf or fgets do not count. Run by meson as the unit
# test "banned-calls"; by hand: tests/unit/check-banned.sh [SOURCE_ROOT].
set -eu

root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root"

dirs=
for d in core api plugins examples; do
        [ -d "$d" ] && dirs="$dirs $d"
done
if [ -z "$dirs" ]; then
        echo "check-banned: no source directories under $root" >&2
        exit 1
fi

# shellcheck disable=SC2086 # $dirs is a list of plain directory names
files=$(find $dirs -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
if [ -z "$files" ]; then
        echo "check-banned: no C sources under$dirs" >&2
        exit 1
fi

# shellcheck disable=SC2086 # file names in this tree have no blanks
hits=$(LC_ALL=C awk '
        FNR == 1 { in_comment = 0 }
        {
                line = $0
                out = ""
                i = 1
                n = length (line)
                while (i <= n) {
                        c = substr (line, i, 1)
                        two = substr (line, i, 2)
                        if (in_comment) {
                                if (two == "*/") { in_comment = 0; i += 2 } else i++
                                out = out " "
                                continue
                        }
                        if (two == "/*") { in_comment = 1; i += 2; out = out "  "; continue }
                        if (two == "//") break
                        if (c == "\"" || c == "\047") {
                                q = c
                                out = out " "
                                i++
                                while (i <= n) {
                                        c = substr (line, i, 1)
                                        if (c == "\\") { i += 2; out = out "  "; continue }
                                        i++
                                        out = out " "
                                        if (c == q) break
                                }
                                continue
                        }
                        out = out c
                        i++
                }
                if (out ~ /(^|[^A-Za-z0-9_])(sprintf|strcpy|strcat|strtok|atoi|system|gets)[ \t]*\(/)
                        printf "%s:%d: %s\n", FILENAME, FNR, line
        }
' $files)

if [ -n "$hits" ]; then
        echo "Banned calls (see tests/unit/check-banned.sh for the replacements):"
        echo "$hits"
        exit 1
fi
echo "check-banned: no banned calls in $(echo "$files" | wc -l) files under$dirs"
