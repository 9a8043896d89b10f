#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# check-abi.sh - fails when the public plugin ABI (api/atrium/) changed incompatibly since a
# released minor (meson runs it once per frozen copy: 1.0, 1.1, 1.2).
#
#   check-abi.sh BASELINE.abi FROZEN_PROBE.so CURRENT_PROBE.so
#
# BASELINE.abi is the committed abidw description of abi-probe.c built against the frozen
# headers of one release (tests/abi/baseline-1.N.abi); FROZEN_PROBE.so is the same probe
# built again, now; CURRENT_PROBE.so is the probe built against api/. abidw and abidiff come from Debian's
# abigail-tools ($ABIDW and $ABIDIFF override the names).
#
# What passes: nothing changed, or only what abi.h's version policy allows within a major:
#   - members appended to a struct that starts with an AtriumStructHeader (the descriptor,
#     AtriumRoute, AtriumHost): every inserted member lies at or beyond the old size, and the
#     size grew. A member squeezed into tail padding (size unchanged) is refused: struct_size
#     could not tell an old writer's padding from the new member.
#   - enumerators added (abidiff itself files those under "harmless" and does not list them).
# Everything else fails: a member moved, retyped, removed or inserted in the middle, a
# header-less struct (AtriumDependency, AtriumPermission, AtriumStructHeader) changing size,
# an enumerator changing value or vanishing, a removed type.
#
# Why the report is read here instead of trusting a suppression file: abidiff exits with bit 8
# (ABIDIFF_ABI_INCOMPATIBLE_CHANGE) only for removed symbols; a moved or retyped member sets
# just bit 4 (ABIDIFF_ABI_CHANGE), exactly like a harmless append. And a [suppress_type] with
# has_data_member_inserted_at = end, the documented way to allow appends, hides the whole diff
# of a struct that also had members reordered, retyped or removed (libabigail 2.2; the
# self-test check-abi-selftest.sh has those cases). So we let abidiff find the changes and
# accept only the two kinds above, line by line, from its leaf-change report.
set -eu

if [ $# -ne 3 ]; then
        echo "usage: $0 BASELINE.abi FROZEN_PROBE.so CURRENT_PROBE.so" >&2
        exit 2
fi
baseline=$1
frozen_probe=$2
current_probe=$3
ABIDW=${ABIDW:-abidw}
ABIDIFF=${ABIDIFF:-abidiff}

for tool in "$ABIDW" "$ABIDIFF"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
                echo "check-abi: $tool not found; install Debian's abigail-tools" >&2
                exit 1
        fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Paths and compile directories out, so the output is the same in every checkout.
abidw_flags="--no-corpus-path --no-comp-dir-path --short-locs"

# The structs that may grow at the end (first member an AtriumStructHeader), by the names
# abidiff reports them under.
growable="AtriumPluginDescriptor _AtriumHost AtriumRoute"

# policy OLD.abi NEW.abi: 0 when NEW keeps OLD's ABI (see the top of this file).
policy() {
        set +e
        "$ABIDIFF" --leaf-changes-only --no-added-syms --no-default-suppression "$1" "$2" \
                >"$tmp/report" 2>&1
        status=$?
        set -e
        if [ $((status & 3)) -ne 0 ]; then
                echo "check-abi: abidiff failed (status $status):" >&2
                cat "$tmp/report" >&2
                return 1
        fi
        if [ $((status & 8)) -ne 0 ]; then
                echo "check-abi: INCOMPATIBLE: abidiff reports a removed or changed interface:"
                cat "$tmp/report"
                return 1
        fi
        if [ "$status" -eq 0 ]; then
                echo "check-abi: no ABI change"
                return 0
        fi
        # Bit 4: something changed. Accept appends to growable structs, nothing else.
        if awk -v growable="$growable" '
                BEGIN { n = split(growable, g, " "); for (i = 1; i <= n; i++) ok[g[i]] = 1 }
                function bad(why) { printf "  not allowed (%s): %s\n", why, $0; failed = 1 }
                # The four summary lines before the first changed artifact.
                !started && /^(Leaf changes|Changed leaf types|Removed\/Changed\/Added) / { next }
                /^$/ { next }
                /^'\''[a-z]+ [^ ]+ at [^'\'']*'\'' changed:$/ {
                        started = 1
                        kind = $1; sub(/^'\''/, "", kind); name = $2
                        old_size = -1; in_insertions = 0
                        if (kind != "struct" || !(name in ok))
                                bad(kind " " name " is not a struct that may grow")
                        next
                }
                { started = 1 }
                /^  type size changed from [0-9]+ to [0-9]+ \(in bits\)$/ {
                        old_size = $5 + 0; new_size = $7 + 0
                        if (new_size <= old_size) bad("a struct may only grow")
                        next
                }
                /^  [0-9]+ data member insertions?:$/ {
                        if (old_size < 0) bad("members inserted but the size did not grow")
                        in_insertions = 1
                        next
                }
                in_insertions && /^    '\''.*'\'', at offset [0-9]+ \(in bits\)/ {
                        off = $0; sub(/.*, at offset /, "", off); sub(/ .*/, "", off)
                        if (off + 0 < old_size) bad("inserted before the old end")
                        next
                }
                { in_insertions = 0; bad("a change to existing ABI") }
                END { exit failed }
        ' "$tmp/report" >"$tmp/verdict"; then
                echo "check-abi: compatible: only members appended to growable structs"
                sed 's/^/  /' "$tmp/report"
                return 0
        fi
        echo "check-abi: INCOMPATIBLE change to the plugin ABI:"
        cat "$tmp/verdict"
        echo "abidiff's report:"
        sed 's/^/  /' "$tmp/report"
        return 1
}

# shellcheck disable=SC2086 # abidw_flags is a list of flags
"$ABIDW" $abidw_flags --out-file "$tmp/frozen.abi" "$frozen_probe"
# shellcheck disable=SC2086
"$ABIDW" $abidw_flags --out-file "$tmp/current.abi" "$current_probe"

# Every probe function must be described, with its type: a probe built with optimisation can
# have its identical functions folded into one, and abidw then silently drops the others.
for abi in "$baseline" "$tmp/frozen.abi" "$tmp/current.abi"; do
        symbols=$(grep -c "<elf-symbol name='atrium_abi_probe_" "$abi" || true)
        described=$(grep -c "<function-decl name='atrium_abi_probe_" "$abi" || true)
        if [ "$symbols" -eq 0 ] || [ "$symbols" -ne "$described" ]; then
                echo "check-abi: $abi describes $described of $symbols probe functions" \
                        "(was the probe built with -O0 -fno-ipa-icf?)" >&2
                exit 1
        fi
done

arch() { sed -n "s/^<abi-corpus [^>]*architecture='\([^']*\)'.*/\1/p" "$1"; }

if [ "$(arch "$baseline")" = "$(arch "$tmp/frozen.abi")" ]; then
        # The committed baseline must still describe the frozen headers: an edit to either, or
        # a probe that lost a type, shows here first.
        set +e
        "$ABIDIFF" --no-default-suppression "$baseline" "$tmp/frozen.abi" >"$tmp/self" 2>&1
        status=$?
        set -e
        if [ "$status" -ne 0 ]; then
                echo "check-abi: $baseline no longer matches the probe built from its frozen copy"
                echo "(the frozen copy or abi-probe.c changed; see tests/abi/README.md):"
                cat "$tmp/self"
                exit 1
        fi
        echo "== api/ against the committed baseline ($baseline)"
        policy "$baseline" "$tmp/current.abi"
else
        # The committed baseline was made on another architecture, where pointer sizes and
        # alignment may differ: compare with the frozen probe built on this machine instead.
        echo "== api/ against the frozen copy built here ($(arch "$tmp/frozen.abi");" \
                "the committed baseline is $(arch "$baseline"))"
        policy "$tmp/frozen.abi" "$tmp/current.abi"
fi
