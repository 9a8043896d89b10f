#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# demo.sh - from a fresh clone to a running Atrium; the first command in the README.
#
# It runs scripts/setup.sh (packages, build, a private PostgreSQL in .state/pg unless
# ATRIUM_DATABASE_URL points elsewhere), applies the migrations, creates the operator `admin`
# the first time with a random password that is printed once and kept in
# .state/operator-password (mode 0600), starts `atriumd serve`, and sets up the school `demo`
# with every module enabled and four demo people (scripts/demo-school.py), printing their
# sign-ins once. Ctrl-C or SIGTERM stops the host. Set ATRIUM_LISTEN to serve elsewhere.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
export ATRIUM_BUILD_DIR=${ATRIUM_BUILD_DIR:-build}

# shellcheck source=scripts/setup.sh
source scripts/setup.sh

atriumd=$root/$ATRIUM_BUILD_DIR/core/atriumd
[[ $ATRIUM_BUILD_DIR == /* ]] && atriumd=$ATRIUM_BUILD_DIR/core/atriumd
[[ -x $atriumd ]] || { echo "demo: $atriumd was not built" >&2; exit 1; }

export ATRIUM_PLUGIN_DIR=${ATRIUM_PLUGIN_DIR:-$(dirname "$(dirname "$atriumd")")/plugins}
export ATRIUM_DATA_DIR=${ATRIUM_DATA_DIR:-$root/.state/data}
export ATRIUM_LISTEN=${ATRIUM_LISTEN:-127.0.0.1:8080}
mkdir -p "$ATRIUM_DATA_DIR"

# The key that seals videoconference backend secrets in the database: made once, kept in the
# git-ignored state folder (an installation keeps it in atrium.env, see docs/OPERATIONS.md).
key_file=$root/.state/conference-secret-key
if [[ ! -s $key_file ]]; then
        (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(32))' >"$key_file")
fi
export ATRIUM_CONFERENCE_SECRET_KEY=${ATRIUM_CONFERENCE_SECRET_KEY:-$(cat "$key_file")}

echo "demo: applying migrations" >&2
"$atriumd" migrate

# The operator is created once: the password file is written only after atriumd accepted it,
# so a failed attempt is simply tried again on the next run.
password_file=$root/.state/operator-password
if [[ ! -s $password_file ]]; then
        password=$(python3 -c 'import secrets, string
alphabet = string.ascii_letters + string.digits
print("".join(secrets.choice(alphabet) for _ in range(20)))')
        # atriumd reads the password as one line from stdin.
        if printf '%s\n' "$password" | "$atriumd" operator create admin; then
                (umask 077 && printf '%s\n' "$password" >"$password_file")
                echo
                echo "  Operator login:  admin / $password"
                echo "  (shown once; kept in .state/operator-password)"
                echo
        else
                echo "demo: warning: 'atriumd operator create admin' failed; continuing without" \
                        "an operator" >&2
        fi
        unset password
else
        echo "demo: operator 'admin' exists; its password is in .state/operator-password" >&2
fi

# Serve, then set up the demo school over REST once the host is ready. The host stays in the
# foreground of this script: Ctrl-C or SIGTERM is passed on and its exit status is ours.
"$atriumd" serve &
host_pid=$!
trap 'kill -TERM "$host_pid" 2>/dev/null' TERM INT
for _ in $(seq 1 100); do
        curl -fsS "http://$ATRIUM_LISTEN/readyz" >/dev/null 2>&1 && break
        kill -0 "$host_pid" 2>/dev/null || { wait "$host_pid"; exit $?; }
        sleep 0.2
done
if [[ -s $password_file ]]; then
        python3 scripts/demo-school.py "http://$ATRIUM_LISTEN" "$password_file" "$root/.state" ||
                echo "demo: warning: setting up the demo school failed (see above)" >&2
fi
echo "Atrium is serving on http://$ATRIUM_LISTEN/"
status=0
while kill -0 "$host_pid" 2>/dev/null; do
        wait "$host_pid"
        status=$?
done
exit "$status"
