#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""demo-school.py - give a fresh Atrium a demo school, the way an operator would: over REST.

Signs in as the operator, creates the school `demo` (once), enables every module the host has
loaded, and creates one admin, one teacher, one student and one parent with random passwords,
written to .state/demo-users (mode 0600) and printed the first time. Standard library only.

Usage: demo-school.py BASE_URL OPERATOR_PASSWORD_FILE STATE_DIR
"""

import json
import os
import secrets
import string
import sys
import urllib.error
import urllib.request

base, password_file, state = sys.argv[1:4]


def call(method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base.rstrip("/") + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, json.loads(raw) if raw else None


def must(result, *ok):
    status, body = result
    if status not in ok:
        sys.exit(f"demo: unexpected answer {status}: {body}")
    return body


op_password = open(password_file).read().strip()
op = must(call("POST", "/api/v1/auth/login", {"username": "admin", "password": op_password}),
          200)["token"]

status, _ = call("GET", "/api/v1/schools/demo", token=op)
if status == 404:
    must(call("POST", "/api/v1/schools", {"slug": "demo", "name": "Demo School"}, op), 201)

modules = must(call("GET", "/api/v1/schools/demo/modules", token=op), 200)["items"]
pending = [m for m in modules if not m["enabled"]]
# Enable in dependency order: a module whose dependencies are not on yet waits a round.
while pending:
    enabled = {m["name"] for m in modules if m["enabled"]}
    ready = [m for m in pending if set(m["dependencies"]) <= enabled]
    if not ready:
        sys.exit(f"demo: cannot enable {[m['name'] for m in pending]}: missing dependencies")
    for m in ready:
        must(call("PUT", f"/api/v1/schools/demo/modules/{m['name']}", token=op), 200, 201)
        m["enabled"] = True
    pending = [m for m in pending if not m["enabled"]]

# Contacts (CardDAV address books) and calendars need nothing more: every module above is on,
# and phones find them through /.well-known/carddav and /.well-known/caldav (docs/CALDAV.md).

# Mail needs the school's domain before anyone can send (a documentation domain: nothing leaves
# the machine unless a real sendmail is configured).
if any(m["name"] == "mail" for m in modules):
    must(call("PUT", "/api/v1/schools/demo/mail/settings", {"domain": "demo.example.org"}, op),
         200)

# Video lessons need an engine. The demo points at a placeholder Jitsi Meet (a documentation
# domain) with a random secret, so joins answer with real signed links; point it at your own
# Jitsi or BigBlueButton with PUT /api/v1/schools/demo/conference/backend.
if any(m["name"] == "conference" for m in modules):
    status, _ = call("GET", "/api/v1/schools/demo/conference/backend", token=op)
    if status == 404:
        must(call("PUT", "/api/v1/schools/demo/conference/backend",
                  {"type": "jitsi", "url": "https://meet.demo.example.org", "app_id": "atrium-demo",
                   "secret": secrets.token_urlsafe(32)}, op), 200)
        must(call("POST", "/api/v1/schools/demo/conference/rooms",
                  {"name": "Demo lesson", "description": "A school-wide room"}, op), 201)

users_file = os.path.join(state, "demo-users")
if not os.path.exists(users_file):
    alphabet = string.ascii_letters + string.digits
    people = [("admin", "Ada Admin", ["admin"]), ("teacher", "Tom Teacher", ["teacher"]),
              ("student", "Sam Student", ["student"]), ("parent", "Pat Parent", ["parent"])]
    lines = []
    for username, name, roles in people:
        pw = "".join(secrets.choice(alphabet) for _ in range(16))
        status, body = call("POST", "/api/v1/schools/demo/users",
                            {"username": username, "display_name": name, "password": pw,
                             "roles": roles}, op)
        if status == 409:
            continue
        must((status, body), 201)
        lines.append(f"{username} {pw}")
    old = os.umask(0o077)
    with open(users_file, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.umask(old)
    print("\n  Demo school 'demo' sign-ins (also in .state/demo-users):")
    for line in lines:
        print("    " + line)
    print()
else:
    print("demo: school 'demo' is set up; sign-ins are in .state/demo-users", file=sys.stderr)
