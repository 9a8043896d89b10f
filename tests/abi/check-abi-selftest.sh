#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# check-abi-selftest.sh - shows that check-abi.sh fails when it should. Each case copies the
# frozen 1.0 headers, edits them the way a careless change to api/ would, builds abi-probe.c
# against the copy and runs check-abi.sh on it: breaking edits must be refused, the edits the
# version policy allows (appending a slot or a field, adding an enumerator) accepted.
#
#   check-abi-selftest.sh CHECK_ABI BASELINE.abi ABI_PROBE.c FROZEN_PROBE.so FROZEN_DIR
#
# $CC compiles with $PROBE_CFLAGS (meson passes both, as it builds the real probes); GLib and
# json-glib flags come from pkg-config.
# The edits are sed expressions on the frozen copy, which never changes, so they keep
# applying; a case whose edit no longer changes anything fails instead of passing vacuously.
set -eu

if [ $# -ne 5 ]; then
        echo "usage: $0 CHECK_ABI BASELINE.abi ABI_PROBE.c FROZEN_PROBE.so FROZEN_DIR" >&2
        exit 2
fi
check_abi=$1
baseline=$2
probe_c=$3
frozen_probe=$4
frozen_dir=$5
CC=${CC:-cc}
PROBE_CFLAGS=${PROBE_CFLAGS:--g -O0 -fno-ipa-icf -fno-eliminate-unused-debug-types}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}

glib_cflags=$("$PKG_CONFIG" --cflags glib-2.0 gio-2.0 json-glib-1.0)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

# run_case NAME EXPECT FILE SED-SCRIPT: EXPECT is "refused" or "accepted".
run_case() {
        name=$1 expect=$2 file=$3 script=$4
        dir="$tmp/$name"
        mkdir -p "$dir"
        cp -R "$frozen_dir/atrium" "$dir/atrium"
        sed -e "$script" "$frozen_dir/atrium/$file" >"$dir/atrium/$file"
        if cmp -s "$frozen_dir/atrium/$file" "$dir/atrium/$file"; then
                echo "FAIL $name: the edit changed nothing in $file (fix the sed script)"
                failed=1
                return
        fi
        # shellcheck disable=SC2086 # CC and the flags are lists of words
        if ! $CC $PROBE_CFLAGS -shared -fPIC -fvisibility=hidden -I"$dir" $glib_cflags \
                "$probe_c" -o "$dir/probe.so" 2>"$dir/cc.log"; then
                echo "FAIL $name: the edited headers do not compile:"
                cat "$dir/cc.log"
                failed=1
                return
        fi
        if sh "$check_abi" "$baseline" "$frozen_probe" "$dir/probe.so" >"$dir/check.log" 2>&1; then
                got=accepted
        else
                got=refused
        fi
        if [ "$got" = "$expect" ]; then
                echo "ok   $name: $got"
        else
                echo "FAIL $name: $got, expected $expect; check-abi.sh said:"
                sed 's/^/    /' "$dir/check.log"
                failed=1
        fi
}

# Must be refused.
run_case reorder-host-slots refused host.h '
/gboolean (\*add_route)/d
/gboolean (\*subscribe)/i\
        gboolean (*add_route) (AtriumPlugin *self, const AtriumRoute *route, GError **error);'
run_case retype-route-member refused host.h \
        's/        guint success_status;/        guint64 success_status;/'
run_case remove-last-host-slot refused host.h \
        '/gboolean (\*publish)/,/GError \*\*error);/d'
# A changed slot together with an append to the same struct: a suppression file with
# has_data_member_inserted_at = end would let this one through.
run_case change-slot-signature-and-append refused plugin.h '
s/gboolean (\*start) (AtriumPlugin \*self, GError \*\*error);/gboolean (*start) (AtriumPlugin *self, int flags, GError **error);/
s/        void (\*fini) (AtriumPlugin \*self);/&\
        void (*later) (AtriumPlugin *self);/'
run_case insert-in-middle refused plugin.h \
        's/        const char \*license; .*/&\
        const char *homepage;/'
run_case grow-array-struct refused plugin.h \
        's/        const char \*min_version;/&\
        const char *max_version;/'
run_case retype-header refused abi.h \
        's/        uint32_t reserved;/        uint64_t reserved;/'
run_case change-enum-value refused host.h \
        's/ATRIUM_ERROR_NOT_FOUND = 4,/ATRIUM_ERROR_NOT_FOUND = 40,/'
run_case remove-enumerator refused host.h '/ATRIUM_ERROR_METHOD_NOT_ALLOWED = 15,/d'
run_case change-handler-typedef refused host.h \
        's/typedef gboolean (\*AtriumHandler) (AtriumRequest \*req, gpointer user_data,/typedef gboolean (*AtriumHandler) (AtriumRequest *req, int extra, gpointer user_data,/'

# Must be accepted: what abi.h allows within a major.
run_case append-host-slot accepted host.h '
/gboolean (\*publish)/,/GError \*\*error);/{
/GError \*\*error);/a\
        gboolean (*later_slot) (AtriumPlugin *self, GError **error);
}'
run_case append-route-field-and-enumerator accepted host.h '
s/^        gpointer user_data;$/&\
        guint later_field;/
s/        ATRIUM_ROUTE_RAW_BODY = 1 << 1, .*/&\
        ATRIUM_ROUTE_LATER = 1 << 2,/'

exit $failed
