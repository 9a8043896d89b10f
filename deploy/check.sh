#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# deploy/check.sh - static checks of the files in deploy/, touching nothing on the system:
#   1. nginx -t on nginx/atrium.conf, wrapped in a minimal main config in a temp dir, with the
#      certificate and log paths pointed at a throwaway self-signed certificate and temp files;
#   1b. haproxy -c on haproxy/atrium.cfg, with a throwaway certificate;
#   2. systemd-analyze verify on systemd/atriumd.service (skipped without systemd-analyze),
#      with ExecStart pointed at a built atriumd;
#   3. every setting `atriumd --help` lists appears in atrium.conf.example.
# Usage: deploy/check.sh [path/to/atriumd]   (default: $ATRIUM_BUILD_DIR/core/atriumd, build/)
# Checks 2 and 3 are skipped with a note when there is no built atriumd.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
atriumd=${1:-$repo/${ATRIUM_BUILD_DIR:-build}/core/atriumd}
# systemd wants an absolute path.
[[ -e $atriumd ]] && atriumd=$(realpath "$atriumd")
tmp=$(mktemp -d /tmp/atrium-deploy-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failed=0

# ---- 1. nginx ----
if command -v nginx >/dev/null && command -v openssl >/dev/null; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=atrium.example.org \
                -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
        # The same file, with only the paths that name the live system redirected into $tmp.
        sed -e "s#/etc/letsencrypt/live/atrium.example.org/fullchain.pem#$tmp/cert.pem#" \
            -e "s#/etc/letsencrypt/live/atrium.example.org/privkey.pem#$tmp/key.pem#" \
            -e "s#/var/log/nginx/#$tmp/#g" \
            "$here/nginx/atrium.conf" >"$tmp/atrium.conf"
        cat >"$tmp/nginx.conf" <<EOF
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 64; }
http {
    client_body_temp_path $tmp/body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    access_log $tmp/access.log;
    include $tmp/atrium.conf;
}
EOF
        if nginx -t -q -p "$tmp/" -e "$tmp/error.log" -c "$tmp/nginx.conf"; then
                echo "ok    nginx/atrium.conf (nginx -t)"
        else
                echo "FAIL  nginx/atrium.conf (nginx -t)"
                failed=1
        fi
else
        echo "FAIL  nginx/atrium.conf: nginx or openssl not installed"
        failed=1
fi

# ---- 1b. HAProxy ----
if command -v haproxy >/dev/null && command -v openssl >/dev/null; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=atrium.example.org \
                -keyout "$tmp/hkey.pem" -out "$tmp/hcert.pem" 2>/dev/null
        cat "$tmp/hcert.pem" "$tmp/hkey.pem" >"$tmp/atrium.pem"
        sed -e "s#/etc/haproxy/atrium.pem#$tmp/atrium.pem#" "$here/haproxy/atrium.cfg" \
                >"$tmp/haproxy.cfg"
        if haproxy -q -c -f "$tmp/haproxy.cfg"; then
                echo "ok    haproxy/atrium.cfg (haproxy -c)"
        else
                echo "FAIL  haproxy/atrium.cfg (haproxy -c)"
                failed=1
        fi
else
        echo "FAIL  haproxy/atrium.cfg: haproxy or openssl not installed"
        failed=1
fi

# ---- 2. systemd ----
if ! command -v systemd-analyze >/dev/null; then
        echo "skip  systemd/atriumd.service: no systemd-analyze"
elif [[ ! -x $atriumd ]]; then
        echo "skip  systemd/atriumd.service: no atriumd at $atriumd (build first)"
else
        # verify insists that ExecStart exists; the unit names the installed path.
        sed "s#/usr/local/bin/atriumd#$atriumd#" "$here/systemd/atriumd.service" \
                >"$tmp/atriumd.service"
        if systemd-analyze verify "$tmp/atriumd.service"; then
                echo "ok    systemd/atriumd.service (systemd-analyze verify)"
        else
                echo "FAIL  systemd/atriumd.service (systemd-analyze verify)"
                failed=1
        fi
fi

# ---- 3. example configuration ----
if [[ ! -x $atriumd ]]; then
        echo "skip  atrium.conf.example: no atriumd at $atriumd (build first)"
else
        missing=0
        # Lines of the form "  [group] key   ENV ..." in the help text.
        while read -r group key; do
                [[ $group == "[plugin.NAME]" || $group == "[NAME]" ]] && continue # plugin settings
                g=${group#[}
                g=${g%]}
                # The key must appear, set or commented out, inside its [group].
                if ! awk -v g="[$g]" -v k="$key" '
                        /^\[/ { in_g = ($0 == g) }
                        in_g && $0 ~ "^#?" k " *=" { found = 1 }
                        END { exit !found }' "$here/atrium.conf.example"; then
                        echo "FAIL  atrium.conf.example lacks [$g] $key"
                        missing=1
                fi
        done < <("$atriumd" --help 2>&1 | sed -n 's/^ *\(\[[a-z.A-Z]*\]\) \([a-z_A-Z]*\) .*/\1 \2/p')
        if ((missing)); then
                failed=1
        else
                echo "ok    atrium.conf.example has every setting of atriumd --help"
        fi
fi

exit "$failed"
