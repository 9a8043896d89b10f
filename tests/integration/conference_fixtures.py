# SPDX-License-Identifier: Apache-2.0
"""conference_fixtures.py - what the conference tests (test_conference_*.py) share: the test
school with groups and conference and a Jitsi backend, the TestCase base whose host has the
sealing key, and a JWT verifier written here from the standard library alone (base64url,
HMAC-SHA256), not with anything of the plugin's, so a token the plugin signs is checked
independently (test_conference_join.py shows the verifier refusing a token signed with another
secret).

The conference tests by route family, each against plugins/conference/README.md and each route
with its refusals (problem+json and status; for writes that fail, that nothing changed):

    test_conference_backend.py    PUT/GET/DELETE /backend, the installation's backend (and its
                                  join_ttl_seconds and early_minutes), a host without the
                                  sealing key
    test_conference_rooms.py      POST/GET /rooms, GET/PATCH/DELETE /rooms/{id}, another
                                  school's ids, missing tokens
    test_conference_join.py       POST /rooms/{id}/join: who may join and moderate, schedules,
                                  locked rooms; the Jitsi token
    test_conference_visits.py     POST /rooms/{id}/leave|end and POST /callbacks/jitsi/{sig}:
                                  how visits close
    test_conference_guests.py     POST/GET /rooms/{id}/guests, DELETE /rooms/{id}/guests/{id},
                                  POST /guest/{token}/join, the purge of ended links
    test_conference_stats.py      GET /stats and the operator-wide GET /api/v1/conference/stats,
                                  against visits written straight into conference.attendance
                                  with known times, the expected figures worked out by hand
    test_conference_rollup.py     the daily roll-ups (`atriumd conference rollup`, the timer's
                                  work): figures from them equal those from the visits; late
                                  changes, batches, one run at a time
    test_conference_figures_edges.py  the roll-ups per closed hour (0008) at a range's open
                                  edges, against a computation from the visits in Python
    test_conference_module.py     the permission catalogue, user.deleted, group.deleted, the
                                  GDPR export, the module switched off, the OpenAPI document
    test_conference_bbb.py        the BigBlueButton path, against bbb_double.py

Every test builds its own school (School below, a fixtures.School).
"""


from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import re
import time
import urllib.parse
import uuid
from typing import Any, Sequence

import fixtures
import harness

UTC = datetime.timezone.utc

#: 64 hex digits: the AES-256 key that seals backend secrets (ATRIUM_CONFERENCE_SECRET_KEY).
SEALING_KEY = "9f1c2b3a4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
JITSI_URL = "https://meet.example.org"
JITSI_HOST = "meet.example.org"

ROOM_KEYS = {"id", "name", "description", "group_id", "created_by", "starts_at", "ends_at",
             "max_participants", "lobby", "locked", "created_at", "updated_at", "moderator"}
JOIN_KEYS = {"url", "expires_at", "moderator", "backend", "attendance_id"}
GUEST_KEYS = {"id", "name", "expires_at", "token", "join_path"}
BUCKET_KEYS = {"start", "joins", "distinct_users", "usage_hours", "estimated_usage_hours",
               "peak_concurrent_rooms"}

# ------------------------------------------------------------------------------------------
# Time and JWT helpers (standard library only)
# ------------------------------------------------------------------------------------------


def now() -> datetime.datetime:
    return datetime.datetime.now(UTC)


def iso(t: datetime.datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(s: str) -> datetime.datetime:
    t = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise AssertionError(f"time without an offset: {s!r}")
    return t


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(part: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", part):
        raise AssertionError(f"not unpadded base64url: {part[:60]!r}")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def make_jwt(claims: dict, secret: str, header: dict | None = None) -> str:
    """An HS256 JWT signed with secret (or with the header given, e.g. alg none)."""
    h = b64url(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    p = b64url(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64url(sig)}"


def verify_jwt(token: str, secret: str) -> tuple[dict, dict]:
    """Check an HS256 JWT against secret; return (header, claims) or raise AssertionError."""
    parts = token.split(".")
    if len(parts) != 3:
        raise AssertionError(f"a JWT has three parts, this one {len(parts)}: {token[:80]!r}")
    h, p, s = parts
    header = json.loads(b64url_decode(h))
    if header.get("alg") != "HS256" or header.get("typ") != "JWT":
        raise AssertionError(f"JWT header is not HS256/JWT: {header!r}")
    want = hmac.new(secret.encode(), f"{h}.{p}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(b64url_decode(s), want):
        raise AssertionError("JWT signature does not match the secret")
    return header, json.loads(b64url_decode(p))


def lit(s: str) -> str:
    """An SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


# ------------------------------------------------------------------------------------------
# A test school
# ------------------------------------------------------------------------------------------


class School(fixtures.School):
    """A school with groups and conference (fixtures.School), its Jitsi credentials (set as
    its backend unless backend=False) and request helpers."""

    AREA = "conference"
    SLUG_PREFIX = "k"
    MODULES = ("groups", "conference")

    def __init__(self, host: harness.Atriumd, op: str, modules: Sequence[str] | None = None,
                 backend: bool = True) -> None:
        super().__init__(host, op, modules)
        self.app_id = f"atrium-{self.slug}"
        self.secret = f"jitsi-secret-{uuid.uuid4().hex}"
        if backend:
            self.set_jitsi()

    def set_jitsi(self, who: str = "ada", url: str = JITSI_URL) -> dict:
        return self.ok(who, "PUT", "/backend", {"type": "jitsi", "url": url,
                                                "app_id": self.app_id, "secret": self.secret},
                       status=(200,))

    def room(self, who: str = "tina", name: str | None = None, **extra: Any) -> dict:
        return self.ok(who, "POST", "/rooms", {"name": name or f"Raum {uuid.uuid4().hex[:6]}",
                                               **extra}, status=(201,))

    def join(self, who: str, room_id: str) -> dict:
        return self.ok(who, "POST", f"/rooms/{room_id}/join", status=(200,))

    def visit(self, who: str, room_id: str) -> str:
        """Join and return the attendance id (as text, the way SQL gives it)."""
        return str(self.join(who, room_id)["attendance_id"])

    def group(self, name: str, owner: str = "tina", members: Sequence[str] = (),
              owners: Sequence[str] = ()) -> str:
        return self.make_group(name, owner, members, owners)

    def add(self, gid: str, user: str, role: str = "member", who: str = "tina") -> None:
        self.add_member(gid, user, role, who)

    def visible(self, who: str, query: str = "") -> list[str]:
        """The ids of every room `who` lists, walking all pages."""
        ids: list[str] = []
        cursor = None
        for _ in range(100):
            sep = "&" if query else ""
            q = f"/rooms?{query}{sep}limit=50" + (f"&cursor={cursor}" if cursor else "")
            page = self.ok(who, "GET", q)
            if not isinstance(page, dict) or set(page) != {"items", "next_cursor"}:
                raise AssertionError(f"not a page: {page!r}")
            ids += [r["id"] for r in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return ids
        raise AssertionError("pagination of /rooms does not end")


class ConferenceTestCase(fixtures.SharedHost):
    HOST_ENV = {"ATRIUM_CONFERENCE_SECRET_KEY": SEALING_KEY}
    # Under the sanitizers, a leak through this plugin fails the class at exit.
    EXIT_CHECK = ("conference", "jitsi.c", "rooms.c", "join.c", "stats.c", "backend.c")

    def school(self, **kw: Any) -> School:
        return School(self.host, self.op_token, **kw)

    def sql(self, query: str) -> str:
        return self.pg.psql(query).strip()

    # -- checks shared by the tests ---------------------------------------------------------

    def assertRoom(self, room: Any) -> dict:
        self.assertIsInstance(room, dict)
        self.assertLessEqual(ROOM_KEYS, set(room), f"a room lacks fields: {room!r}")
        uuid.UUID(room["id"])
        return room

    def assertJitsiJoin(self, s: School, room_id: str, answer: Any, *, moderator: bool,
                        user_id: str | None, name: str, secret: str | None = None,
                        app_id: str | None = None, url: str = JITSI_URL,
                        host: str = JITSI_HOST, ttl: int = 300) -> dict:
        """Check a join answer for Jitsi Meet with the independent verifier; return the
        claims."""
        self.assertIsInstance(answer, dict)
        self.assertLessEqual(JOIN_KEYS, set(answer), f"a join answer lacks fields: {answer!r}")
        self.assertEqual(answer["backend"], "jitsi")
        self.assertIs(answer["moderator"], moderator)
        self.assertTrue(answer["attendance_id"])
        room_name = room_id.replace("-", "")
        self.assertRegex(room_name, r"^[0-9a-f]{32}$")
        parsed = urllib.parse.urlsplit(answer["url"])
        jwt = urllib.parse.parse_qs(parsed.query).get("jwt", [None])
        self.assertEqual(len(jwt), 1, answer["url"])
        token = jwt[0]
        self.assertEqual(answer["url"], f"{url}/{room_name}?jwt={token}")
        header, claims = verify_jwt(token, secret or s.secret)
        self.assertEqual(header["alg"], "HS256")
        self.assertEqual(header["typ"], "JWT")
        self.assertEqual(claims["iss"], app_id or s.app_id)
        self.assertEqual(claims["aud"], "jitsi")
        self.assertEqual(claims["sub"], host)
        self.assertEqual(claims["room"], room_name)
        t = time.time()
        for c in ("iat", "nbf", "exp"):
            self.assertIsInstance(claims[c], int, f"{c} is not an integer: {claims!r}")
        self.assertLessEqual(abs(claims["iat"] - t), 60, claims)
        self.assertLessEqual(claims["nbf"], t + 1, "the token is not valid yet")
        self.assertLessEqual(claims["nbf"], claims["iat"])
        self.assertLessEqual(claims["iat"] - claims["nbf"], 300)
        self.assertEqual(claims["exp"] - claims["iat"], ttl, "exp is not join_ttl after iat")
        self.assertGreater(claims["exp"], t)
        self.assertEqual(claims["exp"], int(parse_time(answer["expires_at"]).timestamp()),
                         "exp != expires_at")
        self.assertIs(claims["moderator"], moderator)
        user = claims["context"]["user"]
        self.assertEqual(set(user), {"id", "name", "moderator"}, user)
        if user_id is not None:
            self.assertEqual(user["id"], user_id)
        self.assertEqual(user["name"], name)
        self.assertIs(user["moderator"], moderator)
        self.assertNotIn("email", json.dumps(claims))
        return claims

    def visits(self, room_id: str) -> dict[str, tuple[str | None, bool]]:
        """{attendance id: (user_id, closed)} of a room's visits, from the database."""
        out = {}
        rows = self.sql(f"SELECT id, coalesce(user_id::text, ''), left_at IS NOT NULL "
                        f"FROM conference.attendance WHERE room_id = '{room_id}'")
        for line in rows.splitlines():
            aid, user, closed = line.split("|")
            out[aid] = (user or None, closed == "t")
        return out

    def tables(self) -> list[str]:
        return self.sql("SELECT table_name FROM information_schema.tables WHERE "
                        "table_schema = 'conference' AND table_type = 'BASE TABLE' "
                        "ORDER BY 1").split()

    def dump(self, table: str) -> str:
        """Every row of conference.<table> as PostgreSQL's text of the row."""
        return self.sql(f"SELECT t::text FROM conference.{table} t")


# ------------------------------------------------------------------------------------------
# Jitsi's events (the webhook's bodies)
# ------------------------------------------------------------------------------------------


def jitsi_left(room_id: str, user_id: str) -> dict:
    """muc-occupant-left with the fields the README names."""
    return {"event_name": "muc-occupant-left", "room_name": room_id.replace("-", ""),
            "occupant": {"id": user_id}}


def jitsi_destroyed(room_id: str) -> dict:
    """muc-room-destroyed with the fields the README names."""
    return {"event_name": "muc-room-destroyed", "room_name": room_id.replace("-", "")}
