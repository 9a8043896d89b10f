#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# check-style.sh - the C style check of CI (meson test `style`, suite "unit"): every line of C
# changed since the style baseline must be as .clang-format writes it.
#
#   scripts/check-style.sh            # lines changed since .ci/style-base, committed or not
#   scripts/check-style.sh REV        # lines changed since REV
#
# The tree predates the check and is not formatted throughout, so the check looks at changed
# lines only (git clang-format), never at whole files: whoever touches a line formats it, and
# the code converges without one commit that rewrites everything. The base moves forward to a
# commit at which the check passes (it then still holds for every line changed before), so the
# check's time does not grow with the project's history. To fix what it reports, run
# `git clang-format $(cat .ci/style-base) -- core plugins api examples tests \
#  ':(exclude)tests/abi/[0-9]*' ':(exclude)tests/abi/abi-*-layout.h'` and commit the result. Needs a git checkout (skipped,
# status 77, in a tarball) and clang-format (installed by scripts/setup.sh).

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! git rev-parse --git-dir >/dev/null 2>&1; then
        echo "check-style: not a git checkout; skipped"
        exit 77
fi
command -v git-clang-format >/dev/null || { echo "check-style: git-clang-format is missing" >&2; exit 1; }
base=${1:-$(cat .ci/style-base)}
if ! git cat-file -e "$base^{commit}" 2>/dev/null; then
        echo "check-style: base $base is not in this clone (a shallow clone?); skipped"
        exit 77
fi
# The frozen copies of released headers and their layout lists are never edited, not even to
# format them (tests/abi/README.md).
diff=$(git clang-format --diff --extensions c,h "$base" -- core plugins api examples tests \
        ':(exclude)tests/abi/[0-9]*' ':(exclude)tests/abi/abi-*-layout.h' 2>&1 || true)
case $diff in
"" | *"no modified files to format"* | *"did not modify any files"*)
        echo "check-style: every C line changed since ${base:0:12} is formatted"
        exit 0 ;;
esac
printf '%s\n' "$diff"
echo "check-style: the lines above are not as .clang-format writes them; run" >&2
echo "  git clang-format $base -- core plugins api examples tests ':(exclude)tests/abi/[0-9]*' ':(exclude)tests/abi/abi-*-layout.h'" >&2
exit 1
