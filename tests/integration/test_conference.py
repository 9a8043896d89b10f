# SPDX-License-Identifier: Apache-2.0
"""test_conference.py - the conference module over HTTP, against plugins/conference/README.md:
a school's backend, rooms, who may join and moderate, Jitsi joins, guest links, leave and end,
the Jitsi webhook, the usage figures, and what happens to rooms and visits when people and
groups go.

Covered route by route, each with its refusals (problem+json and status; for writes that fail,
that nothing changed): PUT/GET/DELETE /backend (Jitsi only: BigBlueButton joins and its end
callback are tested against tests/integration/bbb_double.py elsewhere), POST/GET /rooms, GET/PATCH/DELETE /rooms/{id},
POST /rooms/{id}/join|leave|end, POST/GET /rooms/{id}/guests, DELETE /rooms/{id}/guests/{id},
POST /guest/{token}/join, POST /callbacks/jitsi/{sig}, GET /stats and the operator-wide
GET /api/v1/conference/stats; also user.deleted, group.deleted, the GDPR export, a disabled
module, another school's ids and the OpenAPI document.

Jitsi tokens are checked with a JWT verifier written here from the standard library alone
(base64url, HMAC-SHA256), not with anything of the plugin's; the test shows that the verifier
refuses a token signed with another secret. The usage figures are checked against visits
written straight into conference.attendance with known times, the expected numbers worked
out by hand below.

Three hosts: the main one has the sealing key and no installation backend; one has an
installation backend (and non-default join_ttl_seconds and early_minutes); one has no
sealing key. Every test builds its own school.
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
# Permissions
# ------------------------------------------------------------------------------------------


class Catalogue(ConferenceTestCase):
    def test_permissions_and_their_default_roles(self) -> None:
        s = self.school()
        got = fixtures.check(self.host.request("GET", "/api/v1/permissions",
                                               token=s.tokens["ada"]), 200).json()
        items = {p["name"]: p for p in got["items"]}
        want = {
            "conference.join": {"admin", "teacher", "student", "parent", "staff"},
            "conference.create": {"admin", "teacher", "staff"},
            "conference.moderate": {"admin"},
            "conference.stats": {"admin"},
            "conference.manage": {"admin"},
        }
        for name, roles in want.items():
            with self.subTest(name):
                self.assertIn(name, items)
                self.assertEqual(set(items[name]["default_roles"]), roles)
                self.assertEqual(items[name]["owner"], "conference")


# ------------------------------------------------------------------------------------------
# The backend
# ------------------------------------------------------------------------------------------


class Backend(ConferenceTestCase):
    def test_put_get_delete_jitsi(self) -> None:
        s = self.school(backend=False)
        self.assertProblem(s.req("ada", "GET", "/backend"), 404)
        put = s.req("ada", "PUT", "/backend", {"type": "jitsi", "url": JITSI_URL,
                                               "app_id": s.app_id, "secret": s.secret})
        self.assertEqual(put.status, 200, put)
        self.assertNotIn(s.secret, put.text)
        got = s.req("ada", "GET", "/backend")
        self.assertEqual(got.status, 200, got)
        self.assertNotIn(s.secret, got.text, "GET /backend shows the secret")
        self.assertNotIn("secret", got.json())
        self.assertEqual(got.json(), put.json(), "PUT does not answer as GET")
        body = got.json()
        self.assertEqual((body["type"], body["url"], body["app_id"], body["source"]),
                         ("jitsi", JITSI_URL, s.app_id, "school"))
        self.assertLessEqual({"type", "url", "app_id", "source", "updated_at"}, set(body))
        self.assertLessEqual(abs((parse_time(body["updated_at"]) - now()).total_seconds()), 60)
        # The operator acts as the school's admin.
        self.assertEqual(s.ok("op", "GET", "/backend"), body)
        # Replacing it: a new secret takes effect for joins.
        s.secret = "second-" + s.secret
        s.app_id = "second-app"
        s.set_jitsi(url="https://video.example.net")
        room = s.room("tina")
        self.assertJitsiJoin(s, room["id"], s.join("tina", room["id"]), moderator=True,
                             user_id=s.ids["tina"], name="Tina Teacher",
                             url="https://video.example.net", host="video.example.net")
        self.assertNotIn(s.secret, self.host.log_text(), "the secret is in the log")
        # DELETE: 204, then none (no installation backend on this host) and joins are 503.
        resp = s.req("ada", "DELETE", "/backend")
        self.assertEqual((resp.status, resp.body), (204, b""), resp)
        self.assertProblem(s.req("ada", "GET", "/backend"), 404)
        self.assertProblem(s.req("tina", "POST", f"/rooms/{room['id']}/join"), 503,
                           "unavailable")

    def test_secret_is_sealed_in_the_database(self) -> None:
        s = self.school()
        self.assertIn("backends", self.tables())
        rows = self.dump("backends")
        self.assertIn(s.id, rows, "no backend row for the school")
        secret = s.secret.encode()
        for form in (s.secret, secret.hex(), base64.b64encode(secret).decode(),
                     b64url(secret)):
            self.assertNotIn(form, rows, "the backend secret is stored readable")
        # Nor anywhere else in the module's tables.
        for table in self.tables():
            self.assertNotIn(s.secret, self.dump(table), table)
        # And it still opens: a join signs with it.
        room = s.room("tina")
        self.assertJitsiJoin(s, room["id"], s.join("sam", room["id"]), moderator=False,
                             user_id=s.ids["sam"], name="Sam Schüler")

    def test_refusals_change_nothing(self) -> None:
        s = self.school()
        before = s.ok("ada", "GET", "/backend")
        good = {"type": "jitsi", "url": JITSI_URL, "app_id": "x", "secret": "y"}
        for who in ("tina", "stan", "sam", "pia"):
            with self.subTest(who=who):
                self.assertProblem(s.req(who, "GET", "/backend"), 403, "forbidden")
                self.assertProblem(s.req(who, "PUT", "/backend", good), 403, "forbidden")
                self.assertProblem(s.req(who, "DELETE", "/backend"), 403, "forbidden")
        for method in ("GET", "PUT", "DELETE"):
            self.assertProblem(s.req(None, method, "/backend", good if method == "PUT" else None),
                               401)
            self.assertProblem(self.host.request(method, s.base + "/backend",
                                                 good if method == "PUT" else None,
                                                 token="not-a-token"), 401)
        bad_bodies = [
            {},
            {"type": "zoom", "url": JITSI_URL, "app_id": "x", "secret": "y"},
            {"type": "jitsi", "url": "ftp://meet.example.org", "app_id": "x", "secret": "y"},
            {"type": "jitsi", "url": "javascript:alert(1)", "app_id": "x", "secret": "y"},
            {"type": "jitsi", "url": "meet.example.org", "app_id": "x", "secret": "y"},
            {"type": "jitsi", "url": "", "app_id": "x", "secret": "y"},
            {"type": "jitsi", "url": JITSI_URL, "secret": "y"},
            {"type": "jitsi", "url": JITSI_URL, "app_id": "", "secret": "y"},
            {"type": "jitsi", "url": JITSI_URL, "app_id": "x"},
            {"type": "jitsi", "url": JITSI_URL, "app_id": "x", "secret": ""},
            {"type": "jitsi", "url": 5, "app_id": "x", "secret": "y"},
            {"type": "jitsi", "url": JITSI_URL, "app_id": 1, "secret": "y"},
            {"type": "jitsi", "url": JITSI_URL, "app_id": "x", "secret": ["y"]},
            {"type": None, "url": JITSI_URL, "app_id": "x", "secret": "y"},
            {**good, "colour": "red"},
            {"type": "bigbluebutton", "url": "https://bbb.example.org/bigbluebutton/api",
             "secret": "y", "checksum": "md5"},
        ]
        for body in bad_bodies:
            with self.subTest(body=body):
                self.assertProblem(s.req("ada", "PUT", "/backend", body), 400, "invalid-request")
        for raw in (b'{"type": "jitsi", ', b"[1, 2]", b'"jitsi"', b"null"):
            with self.subTest(raw=raw):
                self.assertProblem(self.host.request(
                    "PUT", s.base + "/backend", raw, token=s.tokens["ada"],
                    headers={"Content-Type": "application/json"}), 400)
        self.assertEqual(s.ok("ada", "GET", "/backend"), before, "a refused PUT changed it")
        # Another school: its admin, on its own path and on ours.
        other = self.school(backend=False)
        self.assertProblem(other.req("ada", "GET", "/backend"), 404)
        for method in ("GET", "PUT", "DELETE"):
            with self.subTest(foreign_token=method):
                self.assertProblem(self.host.request(
                    method, s.base + "/backend", good if method == "PUT" else None,
                    token=other.tokens["ada"]), 404)
        self.assertEqual(s.ok("ada", "GET", "/backend"), before)
        room = s.room("tina")
        self.assertJitsiJoin(s, room["id"], s.join("tina", room["id"]), moderator=True,
                             user_id=s.ids["tina"], name="Tina Teacher")

    def test_join_without_backend_is_503(self) -> None:
        s = self.school(backend=False)
        room = s.room("tina")
        self.assertProblem(s.req("sam", "POST", f"/rooms/{room['id']}/join"), 503, "unavailable")
        self.assertProblem(s.req("tina", "POST", f"/rooms/{room['id']}/join"), 503,
                           "unavailable")
        self.assertEqual(self.visits(room["id"]), {}, "a join that failed left a visit")
        # Rooms work without a backend; only joining needs one.
        self.assertEqual(s.ok("sam", "GET", f"/rooms/{room['id']}")["id"], room["id"])


# ------------------------------------------------------------------------------------------
# Rooms
# ------------------------------------------------------------------------------------------


class Rooms(ConferenceTestCase):
    def test_create_read_patch_delete(self) -> None:
        s = self.school()
        start = (now() + datetime.timedelta(days=1)).replace(microsecond=0)
        room = self.assertRoom(s.room("tina", "Mathe 7b", description="Wurzeln",
                                      starts_at=iso(start),
                                      ends_at=iso(start + datetime.timedelta(minutes=45)),
                                      max_participants=30, lobby=True, locked=False))
        self.assertEqual((room["name"], room["description"], room["max_participants"],
                          room["lobby"], room["locked"], room["group_id"]),
                         ("Mathe 7b", "Wurzeln", 30, True, False, None))
        self.assertEqual(parse_time(room["starts_at"]), start)
        self.assertEqual(parse_time(room["ends_at"]), start + datetime.timedelta(minutes=45))
        self.assertEqual(room["created_by"], s.ids["tina"])
        self.assertIs(room["moderator"], True)
        self.assertEqual(room["created_at"], room["updated_at"])
        self.assertLessEqual(abs((parse_time(room["created_at"]) - now()).total_seconds()), 60)
        # Defaults of a room made with a name only.
        bare = self.assertRoom(s.room("stan", "Sprechstunde"))
        # No description: the contract does not say whether that is null or "".
        self.assertIn(bare["description"], (None, ""))
        self.assertEqual((bare["group_id"], bare["starts_at"],
                          bare["ends_at"], bare["max_participants"], bare["lobby"],
                          bare["locked"], bare["created_by"]),
                         (None, None, None, None, False, False, s.ids["stan"]))
        # Read: "moderator" says whether the caller moderates.
        self.assertEqual(s.ok("tina", "GET", f"/rooms/{room['id']}"), room)
        as_sam = self.assertRoom(s.ok("sam", "GET", f"/rooms/{room['id']}"))
        self.assertIs(as_sam["moderator"], False)
        self.assertEqual({k: v for k, v in as_sam.items() if k != "moderator"},
                         {k: v for k, v in room.items() if k != "moderator"})
        self.assertIs(s.ok("ada", "GET", f"/rooms/{room['id']}")["moderator"], True)
        self.assertIs(s.ok("op", "GET", f"/rooms/{room['id']}")["moderator"], True)
        self.assertIs(s.ok("tom", "GET", f"/rooms/{room['id']}")["moderator"], False)
        # PATCH: what is given changes; null clears an optional field.
        time.sleep(0.01)
        patched = self.assertRoom(s.ok("tina", "PATCH", f"/rooms/{room['id']}",
                                       {"name": "Mathe 7b (Vertretung)", "locked": True}))
        self.assertEqual((patched["name"], patched["locked"], patched["description"],
                          patched["lobby"], patched["max_participants"]),
                         ("Mathe 7b (Vertretung)", True, "Wurzeln", True, 30))
        self.assertEqual(patched["created_at"], room["created_at"])
        self.assertGreater(parse_time(patched["updated_at"]), parse_time(room["updated_at"]))
        cleared = self.assertRoom(s.ok("tina", "PATCH", f"/rooms/{room['id']}", {
            "description": None, "starts_at": None, "ends_at": None, "max_participants": None}))
        self.assertIn(cleared["description"], (None, ""))
        self.assertEqual((cleared["starts_at"], cleared["ends_at"],
                          cleared["max_participants"], cleared["name"]),
                         (None, None, None, "Mathe 7b (Vertretung)"))
        self.assertEqual(s.ok("sam", "GET", f"/rooms/{room['id']}")["description"],
                         cleared["description"])
        # DELETE: 204, then gone; its visits stay for the figures.
        s.ok("tina", "PATCH", f"/rooms/{room['id']}", {"locked": False})
        visit = s.visit("sam", room["id"])
        resp = s.req("tina", "DELETE", f"/rooms/{room['id']}")
        self.assertEqual((resp.status, resp.body), (204, b""), resp)
        self.assertProblem(s.req("tina", "GET", f"/rooms/{room['id']}"), 404, "not-found")
        self.assertProblem(s.req("ada", "GET", f"/rooms/{room['id']}"), 404, "not-found")
        self.assertProblem(s.req("tina", "DELETE", f"/rooms/{room['id']}"), 404)
        self.assertProblem(s.req("tina", "POST", f"/rooms/{room['id']}/join"), 404)
        self.assertEqual(self.sql(f"SELECT count(*) FROM conference.attendance "
                                  f"WHERE id = '{visit}'"), "1",
                         "deleting the room took its visits")
        self.assertNotIn(room["id"], s.visible("ada"))

    def test_create_refusals_change_nothing(self) -> None:
        s = self.school()
        other = self.school()
        foreign_group = other.group("fremd", owner="tina")
        start = now() + datetime.timedelta(days=1)
        bad = [
            {},
            {"name": ""},
            {"name": 5},
            {"name": None},
            {"name": "A", "colour": "red"},
            {"name": "A", "description": 5},
            {"name": "A", "group_id": "not-a-uuid"},
            {"name": "A", "group_id": 7},
            {"name": "A", "starts_at": "tomorrow"},
            {"name": "A", "starts_at": 1767225600},
            {"name": "A", "ends_at": "2026-13-01T00:00:00Z"},
            {"name": "A", "starts_at": iso(start),
             "ends_at": iso(start - datetime.timedelta(minutes=1))},
            {"name": "A", "max_participants": 0},
            {"name": "A", "max_participants": -1},
            {"name": "A", "max_participants": 2 ** 31},
            {"name": "A", "max_participants": 10 ** 12},
            {"name": "A", "max_participants": 1.5},
            {"name": "A", "max_participants": "10"},
            {"name": "A", "lobby": "yes"},
            {"name": "A", "lobby": 1},
            {"name": "A", "locked": "false"},
        ]
        for body in bad:
            with self.subTest(body=body):
                self.assertProblem(s.req("tina", "POST", "/rooms", body), 400, "invalid-request")
        for raw in (b'{"name": ', b"[1, 2]", b'"Raum"', b"null", b""):
            with self.subTest(raw=raw):
                self.assertProblem(self.host.request(
                    "POST", s.base + "/rooms", raw, token=s.tokens["tina"],
                    headers={"Content-Type": "application/json"}), 400)
        # Groups that do not exist here: 404 or 422 (the contract does not say which a group
        # named in a body gives; the calendar module answers 422), but the same for a group of
        # another school as for one that does not exist at all.
        statuses = set()
        for gid in (str(uuid.uuid4()), foreign_group):
            for who in ("tina", "ada"):
                with self.subTest(group=gid, who=who):
                    resp = s.req(who, "POST", "/rooms", {"name": "A", "group_id": gid})
                    self.assertIn(resp.status, (404, 422), resp)
                    self.assertProblem(resp, resp.status)
                    statuses.add(resp.status)
        self.assertEqual(len(statuses), 1, "another school's group is told apart from none")
        # Who may not create.
        for who in ("sam", "pia"):
            self.assertProblem(s.req(who, "POST", "/rooms", {"name": "A"}), 403, "forbidden")
        self.assertProblem(s.req(None, "POST", "/rooms", {"name": "A"}), 401)
        self.assertEqual(s.visible("ada"), [], "a refused POST made a room")
        self.assertEqual(self.sql(f"SELECT count(*) FROM conference.rooms "
                                  f"WHERE school_id = '{s.id}'"), "0")
        self.assertEqual(other.visible("ada"), [])

    def test_patch_refusals_change_nothing(self) -> None:
        s = self.school()
        gid = s.group("7b", owner="tina", members=["sam"])
        start = (now() + datetime.timedelta(days=1)).replace(microsecond=0)
        room = s.room("tina", "Physik", group_id=gid, starts_at=iso(start),
                      ends_at=iso(start + datetime.timedelta(hours=1)), max_participants=20)
        path = f"/rooms/{room['id']}"
        for body in ({"name": ""}, {"name": None}, {"name": 5}, {"colour": "red"},
                     {"ends_at": iso(start - datetime.timedelta(hours=1))},
                     {"starts_at": iso(start + datetime.timedelta(hours=2))},
                     {"max_participants": 0}, {"max_participants": "many"},
                     {"lobby": "no"}, {"locked": None, "name": 1},
                     {"group_id": "nope"}, {"starts_at": "soon"}):
            with self.subTest(body=body):
                self.assertProblem(s.req("tina", "PATCH", path, body), 400, "invalid-request")
        for raw in (b'{"name": ', b"[]", b"17"):
            with self.subTest(raw=raw):
                self.assertProblem(self.host.request(
                    "PATCH", s.base + path, raw, token=s.tokens["tina"],
                    headers={"Content-Type": "application/json"}), 400)
        resp = s.req("tina", "PATCH", path, {"group_id": str(uuid.uuid4())})
        self.assertIn(resp.status, (404, 422), resp)
        self.assertProblem(resp, resp.status)
        # A member who does not moderate; a teacher who is not in the group (cannot see it).
        self.assertProblem(s.req("sam", "PATCH", path, {"name": "x"}), 403, "forbidden")
        self.assertProblem(s.req("sam", "DELETE", path), 403, "forbidden")
        self.assertProblem(s.req("tom", "PATCH", path, {"name": "x"}), 404)
        self.assertProblem(s.req("tom", "DELETE", path), 404)
        self.assertProblem(s.req(None, "PATCH", path, {"name": "x"}), 401)
        self.assertProblem(s.req(None, "DELETE", path), 401)
        self.assertEqual(s.ok("tina", "GET", path), room, "a refused PATCH changed the room")
        # A school-wide room: another teacher sees it but does not moderate it.
        open_room = s.room("tina", "Offen")
        self.assertProblem(s.req("tom", "PATCH", f"/rooms/{open_room['id']}", {"name": "x"}),
                           403, "forbidden")
        self.assertProblem(s.req("tom", "DELETE", f"/rooms/{open_room['id']}"), 403)
        self.assertEqual(s.ok("tina", "GET", f"/rooms/{open_room['id']}"), open_room)
        # Clearing the group makes the room school-wide.
        moved = s.ok("tina", "PATCH", path, {"group_id": None})
        self.assertIsNone(moved["group_id"])
        self.assertEqual(s.ok("tom", "GET", path)["id"], room["id"])
        for missing in ("nope", str(uuid.uuid4())):
            self.assertProblem(s.req("ada", "GET", f"/rooms/{missing}"), 404)
            self.assertProblem(s.req("ada", "PATCH", f"/rooms/{missing}", {"name": "x"}), 404)
            self.assertProblem(s.req("ada", "DELETE", f"/rooms/{missing}"), 404)

    def test_list_newest_first_pages_and_group_filter(self) -> None:
        s = self.school()
        gid = s.group("AG Robotik", owner="tina", members=["sam"])
        made = [s.room("tina", f"R{i}")["id"] for i in range(5)]
        in_group = [s.room("tina", f"G{i}", group_id=gid)["id"] for i in range(2)]
        everything = list(reversed(made + in_group))
        # Pages of two, newest first, each page at most `limit`.
        seen, cursor = [], None
        for _ in range(10):
            page = s.ok("sam", "GET", "/rooms?limit=2" + (f"&cursor={cursor}" if cursor else ""))
            self.assertEqual(set(page), {"items", "next_cursor"})
            self.assertLessEqual(len(page["items"]), 2)
            for r in page["items"]:
                self.assertRoom(r)
            seen += [r["id"] for r in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen, everything)
        self.assertEqual(s.visible("sam", f"group_id={gid}"), list(reversed(in_group)))
        self.assertEqual(s.visible("tom", f"group_id={gid}"), [])
        moderator_flags = {r["id"]: r["moderator"]
                           for r in s.ok("tina", "GET", "/rooms?limit=100")["items"]}
        self.assertEqual(set(moderator_flags.values()), {True})
        self.assertEqual({r["moderator"] for r in s.ok("sam", "GET", "/rooms")["items"]},
                         {False})
        for bad in ("limit=0", "limit=-1", "limit=abc", "cursor=bm9wZQ", "cursor=%25%25"):
            with self.subTest(query=bad):
                self.assertProblem(s.req("sam", "GET", f"/rooms?{bad}"), 400)
        self.assertProblem(s.req(None, "GET", "/rooms"), 401)

    def test_other_school_ids_are_404_and_change_nothing(self) -> None:
        a, b = self.school(), self.school()
        room = a.room("tina", "Nur A")
        guest = a.ok("tina", "POST", f"/rooms/{room['id']}/guests", {"name": "Gast"},
                     status=(201,))
        visit = a.visit("sam", room["id"])
        routes = [
            ("GET", f"/rooms/{room['id']}", None),
            ("PATCH", f"/rooms/{room['id']}", {"name": "übernommen"}),
            ("DELETE", f"/rooms/{room['id']}", None),
            ("POST", f"/rooms/{room['id']}/join", None),
            ("POST", f"/rooms/{room['id']}/leave", None),
            ("POST", f"/rooms/{room['id']}/end", None),
            ("POST", f"/rooms/{room['id']}/guests", {"name": "Eindringling"}),
            ("GET", f"/rooms/{room['id']}/guests", None),
            ("DELETE", f"/rooms/{room['id']}/guests/{guest['id']}", None),
        ]
        for method, path, body in routes:
            with self.subTest(method=method, path=path):
                # B's admin asks B's school for A's ids.
                self.assertProblem(b.req("ada", method, path, body), 404)
                if not path.endswith("/join"):  # operators and joins: test_operator_...
                    self.assertProblem(b.req("op", method, path, body), 404)
                # A's admin on B's path.
                self.assertProblem(self.host.request(method, b.base + path, body,
                                                     token=a.tokens["ada"]), 404)
        # A's admin on B's school-wide routes.
        for method, path, body in (("GET", "/rooms", None), ("POST", "/rooms", {"name": "x"}),
                                   ("GET", "/stats", None), ("GET", "/backend", None)):
            with self.subTest(method=method, path=path, school="B"):
                self.assertProblem(self.host.request(method, b.base + path, body,
                                                     token=a.tokens["ada"]), 404)
        # The guest link of school A does not open through school B.
        self.assertProblem(self.host.request(
            "POST", f"{b.base}/guest/{guest['token']}/join"), 404)
        # Nothing in A changed.
        self.assertEqual(a.ok("tina", "GET", f"/rooms/{room['id']}"), room)
        self.assertEqual([g["id"] for g in a.ok("tina", "GET",
                                                f"/rooms/{room['id']}/guests")["items"]],
                         [guest["id"]])
        self.assertEqual(self.visits(room["id"]), {visit: (a.ids["sam"], False)})
        self.assertEqual(b.visible("ada"), [])

    def test_a_body_where_none_belongs(self) -> None:
        s = self.school()
        room = s.room("tina")["id"]
        link = s.ok("tina", "POST", f"/rooms/{room}/guests", {"name": "G"}, status=(201,))
        for who, path in (("sam", f"{s.base}/rooms/{room}/join"),
                          ("sam", f"{s.base}/rooms/{room}/leave"),
                          ("tina", f"{s.base}/rooms/{room}/end"),
                          (None, link["join_path"])):
            with self.subTest(path=path):
                self.assertProblem(self.host.request(
                    "POST", path, b'{"moderator": true}',
                    headers={"Content-Type": "application/json"},
                    token=s.tokens[who] if who else None), 400)
        self.assertEqual(self.visits(room), {})

    def test_no_token_on_every_member_route(self) -> None:
        s = self.school()
        room = s.room("tina")
        guest = s.ok("tina", "POST", f"/rooms/{room['id']}/guests", {"name": "G"},
                     status=(201,))
        for method, path, body in (
                ("GET", "/rooms", None), ("POST", "/rooms", {"name": "x"}),
                ("GET", f"/rooms/{room['id']}", None),
                ("PATCH", f"/rooms/{room['id']}", {"name": "x"}),
                ("DELETE", f"/rooms/{room['id']}", None),
                ("POST", f"/rooms/{room['id']}/join", None),
                ("POST", f"/rooms/{room['id']}/leave", None),
                ("POST", f"/rooms/{room['id']}/end", None),
                ("POST", f"/rooms/{room['id']}/guests", {"name": "x"}),
                ("GET", f"/rooms/{room['id']}/guests", None),
                ("DELETE", f"/rooms/{room['id']}/guests/{guest['id']}", None),
                ("GET", "/stats", None), ("GET", "/backend", None)):
            with self.subTest(method=method, path=path):
                self.assertProblem(s.req(None, method, path, body), 401)
                self.assertProblem(self.host.request(method, s.base + path, body,
                                                     token="garbage"), 401)
        self.assertEqual(s.ok("tina", "GET", f"/rooms/{room['id']}"), room)
        self.assertEqual(self.visits(room["id"]), {})


# ------------------------------------------------------------------------------------------
# Who may join and moderate
# ------------------------------------------------------------------------------------------


class Rights(ConferenceTestCase):
    def test_group_room_members_and_non_members(self) -> None:
        s = self.school()
        g1 = s.group("7b", owner="tina", members=["sam"])
        g2 = s.group("8a", owner="tom", members=["sue"])
        school_wide = s.room("tina", "Aula")["id"]
        r1 = s.room("tina", "7b Mathe", group_id=g1)["id"]
        r2 = s.room("tom", "8a Deutsch", group_id=g2)["id"]
        expect = {
            "sam": [r1, school_wide], "sue": [r2, school_wide], "tina": [r1, school_wide],
            "tom": [r2, school_wide], "stan": [school_wide], "pia": [school_wide],
            "ada": [r2, r1, school_wide], "op": [r2, r1, school_wide],
        }
        for who, rooms in expect.items():
            with self.subTest(who=who):
                self.assertEqual(s.visible(who), rooms)
        for who, rid in (("sam", r2), ("sue", r1), ("stan", r1), ("tom", r1), ("pia", r2)):
            with self.subTest(outsider=who, room=rid):
                self.assertProblem(s.req(who, "GET", f"/rooms/{rid}"), 404, "not-found")
                self.assertProblem(s.req(who, "POST", f"/rooms/{rid}/join"), 404, "not-found")
                self.assertProblem(s.req(who, "POST", f"/rooms/{rid}/leave"), 404)
                self.assertProblem(s.req(who, "POST", f"/rooms/{rid}/end"), 404)
                self.assertProblem(s.req(who, "GET", f"/rooms/{rid}/guests"), 404)
                self.assertProblem(s.req(who, "POST", f"/rooms/{rid}/guests", {"name": "x"}),
                                   404)
        self.assertEqual(self.visits(r1), {})
        self.assertEqual(self.visits(r2), {})
        joined = s.join("sam", r1)
        self.assertJitsiJoin(s, r1, joined, moderator=False, user_id=s.ids["sam"],
                             name="Sam Schüler")
        # Leaving the group takes the room away.
        fixtures.check(s.raw("tina", "DELETE", f"/groups/{g1}/members/{s.ids['sam']}"), 204,
                       what="remove sam")
        self.assertProblem(s.req("sam", "GET", f"/rooms/{r1}"), 404)
        self.assertProblem(s.req("sam", "POST", f"/rooms/{r1}/join"), 404)
        self.assertEqual(s.visible("sam"), [school_wide])

    def test_who_moderates(self) -> None:
        s = self.school()
        gid = s.group("9c", owner="tina", members=["sam", "stan"], owners=["tom"])
        room = s.room("tina", "9c Chemie", group_id=gid)["id"]
        # Creator, a co-owner of the group, conference.moderate (admin, operator).
        for who, name in (("tina", "Tina Teacher"), ("tom", "Tom Teacher"),
                          ("ada", "Ada Admin")):
            with self.subTest(moderator=who):
                self.assertIs(s.ok(who, "GET", f"/rooms/{room}")["moderator"], True)
                self.assertJitsiJoin(s, room, s.join(who, room), moderator=True,
                                     user_id=s.ids[who], name=name)
        for who in ("sam", "stan"):
            with self.subTest(member=who):
                self.assertIs(s.ok(who, "GET", f"/rooms/{room}")["moderator"], False)
                self.assertIs(s.join(who, room)["moderator"], False)
        # conference.moderate through a group grant, for a teacher outside the room's group.
        lead = s.group("Schulleitung", owner="ada", members=["pia"])
        fixtures.check(s.raw("ada", "PUT", f"/groups/{lead}/permissions",
                             {"permissions": ["conference.moderate"]}), 200, what="grant")
        pia_token = fixtures.login(self.host, "pia", school=s.slug)
        s.tokens["pia"] = pia_token
        self.assertIs(s.ok("pia", "GET", f"/rooms/{room}")["moderator"], True)
        self.assertJitsiJoin(s, room, s.join("pia", room), moderator=True,
                             user_id=s.ids["pia"], name="Pia Parent")
        # A room of the creator's own: a staff member who created a school-wide room.
        mine = s.room("stan", "Stan's")["id"]
        self.assertIs(s.join("stan", mine)["moderator"], True)
        self.assertIs(s.join("tina", mine)["moderator"], False)
        # The visit records whether one moderated.
        rows = self.sql(f"SELECT user_id, moderator FROM conference.attendance "
                        f"WHERE room_id = '{room}' ORDER BY joined_at")
        flags = {u: m for u, m in (line.split("|") for line in rows.splitlines()) if u}
        self.assertEqual(flags[s.ids["tina"]], "t")
        self.assertEqual(flags[s.ids["sam"]], "f")

    def test_operator_acts_as_school_admin(self) -> None:
        # README: operators act as school admins in managing rooms; a join is a person's (the
        # visit, the token's user), so an operator, who is nobody in the school, is refused.
        s = self.school()
        gid = s.group("2b", owner="tina", members=["sam"])
        room = s.room("tina", "2b", group_id=gid)["id"]
        self.assertIn(room, s.visible("op"))
        self.assertIs(s.ok("op", "GET", f"/rooms/{room}")["moderator"], True)
        s.ok("op", "PATCH", f"/rooms/{room}", {"description": "vom Betreiber"})
        s.ok("op", "POST", f"/rooms/{room}/guests", {"name": "G"}, status=(201,))
        fixtures.check(s.req("op", "POST", f"/rooms/{room}/end"), 204)
        made = s.room("op", "Betreiber-Raum")
        self.assertIs(made["moderator"], True)
        self.assertProblem(s.req("op", "POST", f"/rooms/{room}/join"), 403, "forbidden")
        self.assertEqual(self.visits(room), {}, "a refused join left a visit")

    def test_create_for_a_group_needs_owner_or_moderate(self) -> None:
        s = self.school()
        gid = s.group("10a", owner="tina", members=["tom", "sam"])
        # A member (not owner) teacher may not create the group's room; a non-member neither.
        self.assertProblem(s.req("tom", "POST", "/rooms", {"name": "x", "group_id": gid}), 403,
                           "forbidden")
        self.assertProblem(s.req("stan", "POST", "/rooms", {"name": "x", "group_id": gid}),
                           403)
        self.assertProblem(s.req("sam", "POST", "/rooms", {"name": "x", "group_id": gid}), 403)
        self.assertEqual(s.visible("ada"), [])
        self.assertEqual(s.room("tina", "own", group_id=gid)["group_id"], gid)
        self.assertEqual(s.room("ada", "admin's", group_id=gid)["group_id"], gid)
        self.assertEqual(len(s.visible("ada")), 2)

    def test_locked_room(self) -> None:
        s = self.school()
        gid = s.group("5a", owner="tina", members=["sam", "sue"])
        room = s.room("tina", "Klassenrat", group_id=gid, locked=True)["id"]
        self.assertEqual(s.visible("sam"), [room])
        self.assertIs(s.ok("sam", "GET", f"/rooms/{room}")["locked"], True)
        self.assertProblem(s.req("sam", "POST", f"/rooms/{room}/join"), 403, "forbidden")
        self.assertEqual(self.visits(room), {}, "a refused join left a visit")
        self.assertIs(s.join("tina", room)["moderator"], True)
        self.assertIs(s.join("ada", room)["moderator"], True)
        s.ok("tina", "PATCH", f"/rooms/{room}", {"locked": False})
        self.assertIs(s.join("sam", room)["moderator"], False)
        self.assertEqual(len(self.visits(room)), 3)

    def test_schedule(self) -> None:
        s = self.school()
        later = now() + datetime.timedelta(hours=2)
        room = s.room("tina", "Später", starts_at=iso(later),
                      ends_at=iso(later + datetime.timedelta(hours=1)))["id"]
        self.assertIn(room, s.visible("sam"))
        self.assertProblem(s.req("sam", "POST", f"/rooms/{room}/join"), 409, "conflict")
        self.assertEqual(self.visits(room), {})
        self.assertIs(s.join("tina", room)["moderator"], True)
        self.assertIs(s.join("ada", room)["moderator"], True)
        # Within early_minutes (15) before the start, it is open.
        soon = now() + datetime.timedelta(minutes=10)
        early = s.room("tina", "Gleich", starts_at=iso(soon),
                       ends_at=iso(soon + datetime.timedelta(hours=1)))["id"]
        self.assertIs(s.join("sam", early)["moderator"], False)
        # Just outside it, not yet.
        edge = now() + datetime.timedelta(minutes=17)
        closed = s.room("tina", "Noch nicht", starts_at=iso(edge))["id"]
        self.assertProblem(s.req("sam", "POST", f"/rooms/{closed}/join"), 409)
        # After ends_at it is closed again (the times moved into the past in the database).
        self.sql(f"UPDATE conference.rooms SET starts_at = now() - interval '3 hours', "
                 f"ends_at = now() - interval '1 hour' WHERE id = '{early}'")
        self.assertProblem(s.req("sam", "POST", f"/rooms/{early}/join"), 409, "conflict")
        self.assertIs(s.join("tina", early)["moderator"], True)
        # A room that has started and has no end is open.
        self.sql(f"UPDATE conference.rooms SET starts_at = now() - interval '3 hours', "
                 f"ends_at = NULL WHERE id = '{closed}'")
        self.assertIs(s.join("sam", closed)["moderator"], False)

    def test_without_conference_join(self) -> None:
        s = self.school()
        room = s.room("tina")["id"]
        role = fixtures.check(s.raw("ada", "GET", "/roles/student/permissions"), 200).json()
        self.assertIn("conference.join", role["permissions"])
        rest = [p for p in role["permissions"] if p != "conference.join"]
        fixtures.check(s.raw("ada", "PUT", "/roles/student/permissions", {"permissions": rest}),
                       200, what="take conference.join from students")
        for method, path in (("GET", "/rooms"), ("GET", f"/rooms/{room}"),
                             ("POST", f"/rooms/{room}/join"), ("POST", f"/rooms/{room}/leave")):
            with self.subTest(method=method, path=path):
                self.assertProblem(s.req("sam", method, path), 403, "forbidden")
        self.assertEqual(self.visits(room), {})
        self.assertIs(s.join("pia", room)["moderator"], False)


# ------------------------------------------------------------------------------------------
# Jitsi tokens
# ------------------------------------------------------------------------------------------


class JitsiTokens(ConferenceTestCase):
    def test_join_answer_and_token(self) -> None:
        s = self.school()
        room = s.room("tina", "Englisch")["id"]
        answer = s.join("sam", room)
        claims = self.assertJitsiJoin(s, room, answer, moderator=False, user_id=s.ids["sam"],
                                      name="Sam Schüler")
        self.assertEqual(claims["context"]["user"]["moderator"], False)
        self.assertEqual(self.visits(room), {str(answer["attendance_id"]): (s.ids["sam"], False)})
        mod = s.join("tina", room)
        self.assertJitsiJoin(s, room, mod, moderator=True, user_id=s.ids["tina"],
                             name="Tina Teacher")
        self.assertNotEqual(mod["attendance_id"], answer["attendance_id"])

    def test_the_verifier_can_fail(self) -> None:
        s = self.school()
        room = s.room("tina")["id"]
        answer = s.join("sam", room)
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(answer["url"]).query)["jwt"][0]
        verify_jwt(token, s.secret)
        with self.assertRaises(AssertionError):
            verify_jwt(token, s.secret + "x")
        with self.assertRaises(AssertionError):
            verify_jwt(token, "another secret")
        # A token of the same claims signed with another secret.
        _, claims = verify_jwt(token, s.secret)
        forged = make_jwt(claims, "not-the-backend-secret")
        with self.assertRaises(AssertionError):
            verify_jwt(forged, s.secret)
        with self.assertRaises(AssertionError):
            self.assertJitsiJoin(s, room, {**answer, "url": f"{JITSI_URL}/{room.replace('-', '')}"
                                           f"?jwt={forged}"}, moderator=False,
                                 user_id=s.ids["sam"], name="Sam Schüler")
        # A changed claim with the old signature.
        h, p, sig = token.split(".")
        changed = b64url(json.dumps({**claims, "moderator": True}).encode())
        with self.assertRaises(AssertionError):
            verify_jwt(f"{h}.{changed}.{sig}", s.secret)


# ------------------------------------------------------------------------------------------
# Leave and end
# ------------------------------------------------------------------------------------------


class LeaveAndEnd(ConferenceTestCase):
    def test_leave_closes_the_callers_visit(self) -> None:
        s = self.school()
        room = s.room("tina")["id"]
        t = s.visit("tina", room)
        m = s.visit("sam", room)
        resp = s.req("sam", "POST", f"/rooms/{room}/leave")
        self.assertEqual((resp.status, resp.body), (204, b""), resp)
        self.assertEqual(self.visits(room), {t: (s.ids["tina"], False), m: (s.ids["sam"], True)})
        self.assertEqual(self.sql(f"SELECT left_at >= joined_at AND left_at <= now() FROM "
                                  f"conference.attendance WHERE id = '{m}'"), "t")
        # Someone who never joined leaves (the status is not said): nothing of the others
        # changes.
        self.assertLess(s.req("sue", "POST", f"/rooms/{room}/leave").status, 500)
        self.assertEqual(self.visits(room), {t: (s.ids["tina"], False), m: (s.ids["sam"], True)})

    def test_old_open_visits_keep_their_estimate(self) -> None:
        """A visit whose leave never came is estimated at typical_minutes; a later reconnect,
        leave or end must not stretch it until now (the benchmark found 21-hour visits)."""
        s = self.school()
        room = s.room("tina")["id"]
        old = s.visit("sam", room)
        recent = s.visit("sue", room)
        self.sql("UPDATE conference.attendance SET joined_at = now() - interval '3 hours' "
                 f"WHERE id = '{old}'")
        self.sql("UPDATE conference.attendance SET joined_at = now() - interval '5 minutes' "
                 f"WHERE id = '{recent}'")
        # Reconnects: the 3-hour-old visit stays open (estimated), the 5-minute-old one ends.
        s.join("sam", room)
        s.join("sue", room)
        left = dict(line.split("|") for line in self.sql(
            f"SELECT id, coalesce(left_at::text, '') FROM conference.attendance "
            f"WHERE id IN ('{old}', '{recent}')").splitlines())
        self.assertEqual(left[old], "", "a reconnect closed a visit hours old")
        self.assertNotEqual(left[recent], "", "a reconnect left two overlapping visits")
        # A leave or an end closes what joined within a school day, never what is older.
        day_old = s.visit("tina", room)
        self.sql("UPDATE conference.attendance SET joined_at = now() - interval '20 hours' "
                 f"WHERE id = '{day_old}'")
        fixtures.check(s.req("tina", "POST", f"/rooms/{room}/end"), 204)
        self.assertEqual(self.sql("SELECT left_at IS NULL FROM conference.attendance "
                                  f"WHERE id = '{day_old}'"), "t")
        self.assertEqual(self.sql("SELECT left_at IS NULL FROM conference.attendance "
                                  f"WHERE id = '{old}'"), "f", "end left a 3-hour visit open")

    def test_end_closes_every_visit(self) -> None:
        s = self.school()
        gid = s.group("6b", owner="tina", members=["sam", "sue"])
        room = s.room("tina", group_id=gid)["id"]
        other = s.room("tina")["id"]
        for who in ("tina", "sam", "sue"):
            s.join(who, room)
        elsewhere = s.visit("sam", other)
        guest = s.ok("tina", "POST", f"/rooms/{room}/guests", {"name": "Gast"}, status=(201,))
        self.host.request("POST", guest["join_path"])
        self.assertEqual(len(self.visits(room)), 4)
        self.assertProblem(s.req("sam", "POST", f"/rooms/{room}/end"), 403, "forbidden")
        self.assertProblem(s.req("stan", "POST", f"/rooms/{room}/end"), 404)
        self.assertProblem(s.req(None, "POST", f"/rooms/{room}/end"), 401)
        self.assertEqual({closed for _, closed in self.visits(room).values()}, {False})
        resp = s.req("tina", "POST", f"/rooms/{room}/end")
        self.assertEqual((resp.status, resp.body), (204, b""), resp)
        self.assertEqual({closed for _, closed in self.visits(room).values()}, {True})
        self.assertEqual(self.visits(other), {elsewhere: (s.ids["sam"], False)})
        # The admin ends a room they did not make.
        s.join("sam", other)
        fixtures.check(s.req("ada", "POST", f"/rooms/{other}/end"), 204)
        self.assertEqual({closed for _, closed in self.visits(other).values()}, {True})


# ------------------------------------------------------------------------------------------
# Guest links
# ------------------------------------------------------------------------------------------


class Guests(ConferenceTestCase):
    def test_purge_deletes_links_long_ended_in_every_school(self) -> None:
        """Guest links name people without an account: `atriumd conference purge` (and the
        hourly timer) deletes those that ended more than guest_keep_days (30) ago, in every
        school, and keeps the rest and every visit."""
        rows = {}
        for s in (self.school(), self.school()):
            room = s.room("tina", "Elternabend")["id"]
            for name in ("old-expired", "old-revoked", "recently-revoked", "live"):
                rows[(s.slug, name)] = s.ok("tina", "POST", f"/rooms/{room}/guests",
                                            {"name": name}, status=(201,))
            live = rows[(s.slug, "live")]
            fixtures.check(self.host.request("POST", live["join_path"]), 200, what="guest join")
            ids = {n: rows[(s.slug, n)]["id"] for n in ("old-expired", "old-revoked",
                                                        "recently-revoked")}
            self.sql("UPDATE conference.guests SET expires_at = now() - interval '40 days' "
                     f"WHERE id = '{ids['old-expired']}'")
            self.sql("UPDATE conference.guests SET revoked_at = now() - interval '31 days' "
                     f"WHERE id = '{ids['old-revoked']}'")
            self.sql("UPDATE conference.guests SET revoked_at = now() - interval '5 days' "
                     f"WHERE id = '{ids['recently-revoked']}'")
        visits_before = self.sql("SELECT count(*) FROM conference.attendance "
                                 "WHERE guest_id IS NOT NULL")
        proc = self.host.run(["conference", "purge"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # (other tests of this class share the database: at least our four went)
        purged = re.search(r"purged (\d+) guest links", proc.stdout)
        self.assertTrue(purged, proc.stdout)
        self.assertGreaterEqual(int(purged.group(1)), 4)
        left = set(self.sql("SELECT name || '@' || id FROM conference.guests").split())
        for (slug, name), link in rows.items():
            kept = f"{name}@{link['id']}" in left
            self.assertEqual(kept, name in ("recently-revoked", "live"), (slug, name))
        self.assertEqual(self.sql("SELECT count(*) FROM conference.attendance "
                                  "WHERE guest_id IS NOT NULL"), visits_before)
        # Again: nothing more to do; a stray argument is refused.
        self.assertIn("purged 0 guest links", self.host.run(["conference", "purge"]).stdout)
        self.assertEqual(self.host.run(["conference", "purge", "now"]).returncode, 2)

    def test_link_lifecycle(self) -> None:
        s = self.school()
        room = s.room("tina", "Elternsprechtag")["id"]
        link = s.ok("tina", "POST", f"/rooms/{room}/guests", {"name": "Oma Erna"},
                    status=(201,))
        self.assertLessEqual(GUEST_KEYS, set(link))
        self.assertEqual(link["name"], "Oma Erna")
        self.assertGreaterEqual(len(link["token"]), 20)
        self.assertEqual(link["join_path"], f"{s.base}/guest/{link['token']}/join")
        week = now() + datetime.timedelta(days=7)
        self.assertLessEqual(abs((parse_time(link["expires_at"]) - week).total_seconds()), 120)
        # The guest joins without signing in.
        answer = fixtures.check(self.host.request("POST", link["join_path"]), 200,
                                what="guest join").json()
        claims = self.assertJitsiJoin(s, room, answer, moderator=False, user_id=None,
                                      name="Oma Erna")
        self.assertNotIn(claims["context"]["user"]["id"], s.ids.values())
        self.assertTrue(claims["context"]["user"]["id"])
        visits = self.visits(room)
        self.assertEqual(visits, {str(answer["attendance_id"]): (None, False)})
        # With an explicit expiry.
        soon = (now() + datetime.timedelta(days=1)).replace(microsecond=0)
        second = s.ok("ada", "POST", f"/rooms/{room}/guests",
                      {"name": "Herr Weber", "expires_at": iso(soon)}, status=(201,))
        self.assertEqual(parse_time(second["expires_at"]), soon)
        self.assertNotEqual(second["token"], link["token"])
        # The list: both links, no tokens.
        resp = s.req("tina", "GET", f"/rooms/{room}/guests")
        self.assertEqual(resp.status, 200, resp)
        items = resp.json()["items"]
        self.assertEqual(sorted(g["id"] for g in items), sorted([link["id"], second["id"]]))
        for g in items:
            self.assertNotIn("token", g)
        for token in (link["token"], second["token"]):
            self.assertNotIn(token, resp.text)
        self.assertEqual({g["id"]: g["name"] for g in items},
                         {link["id"]: "Oma Erna", second["id"]: "Herr Weber"})
        # Revoked: the link stops working.
        resp = s.req("tina", "DELETE", f"/rooms/{room}/guests/{link['id']}")
        self.assertEqual((resp.status, resp.body), (204, b""), resp)
        self.assertProblem(self.host.request("POST", link["join_path"]), 404, "not-found")
        self.assertProblem(s.req("tina", "DELETE", f"/rooms/{room}/guests/{link['id']}"), 404)
        # The contract does not say whether a revoked link leaves the list or stays marked.
        for g in s.ok("tina", "GET", f"/rooms/{room}/guests")["items"]:
            if g["id"] == link["id"]:
                self.assertTrue(g.get("revoked_at") or g.get("revoked"),
                                f"a revoked link is listed as if it worked: {g!r}")
        # Expired (the expiry moved into the past in the database).
        fixtures.check(self.host.request("POST", second["join_path"]), 200)
        guest_table = self.guest_table()
        self.sql(f"UPDATE conference.{guest_table} SET expires_at = now() - interval '1 second' "
                 f"WHERE id = '{second['id']}'")
        self.assertProblem(self.host.request("POST", second["join_path"]), 404, "not-found")
        # Unknown tokens.
        last = "B" if link["token"].endswith("A") else "A"
        for token in ("A" * 43, "x", uuid.uuid4().hex, link["token"][:-1] + last):
            with self.subTest(token=token):
                self.assertProblem(self.host.request("POST", f"{s.base}/guest/{token}/join"),
                                   404)
        self.assertEqual(len(self.visits(room)), 2)

    def guest_table(self) -> str:
        names = [t for t in self.tables() if "guest" in t]
        self.assertEqual(len(names), 1, f"which table holds guest links? {self.tables()}")
        return names[0]

    def test_token_is_stored_only_as_its_sha256(self) -> None:
        s = self.school()
        room = s.room("tina")["id"]
        link = s.ok("tina", "POST", f"/rooms/{room}/guests", {"name": "G"}, status=(201,))
        token = link["token"]
        for table in self.tables():
            self.assertNotIn(token, self.dump(table), f"the token is readable in {table}")
        rows = self.dump(self.guest_table())
        forms = set()
        for data in (token.encode(), ):
            digest = hashlib.sha256(data).digest()
            forms |= {digest.hex(), base64.b64encode(digest).decode().rstrip("="),
                      b64url(digest)}
        try:
            raw = b64url_decode(token)
            digest = hashlib.sha256(raw).digest()
            forms |= {digest.hex(), base64.b64encode(digest).decode().rstrip("="),
                      b64url(digest)}
        except (AssertionError, ValueError):
            pass
        self.assertTrue(any(f in rows for f in forms),
                        "no SHA-256 of the token is stored with the link")

    def test_refusals(self) -> None:
        s = self.school()
        gid = s.group("4c", owner="tina", members=["sam"])
        room = s.room("tina", group_id=gid)["id"]
        link = s.ok("tina", "POST", f"/rooms/{room}/guests", {"name": "G"}, status=(201,))
        path = f"/rooms/{room}/guests"
        # A member who does not moderate, a non-member, no token.
        self.assertProblem(s.req("sam", "POST", path, {"name": "x"}), 403, "forbidden")
        self.assertProblem(s.req("sam", "GET", path), 403, "forbidden")
        self.assertProblem(s.req("sam", "DELETE", f"{path}/{link['id']}"), 403, "forbidden")
        self.assertProblem(s.req("tom", "POST", path, {"name": "x"}), 404)
        self.assertProblem(s.req("tom", "DELETE", f"{path}/{link['id']}"), 404)
        self.assertProblem(s.req(None, "POST", path, {"name": "x"}), 401)
        # Bad bodies.
        for body in ({}, {"name": ""}, {"name": 5}, {"name": None}, {"name": "x", "role": "mod"},
                     {"name": "x", "expires_at": "tomorrow"},
                     {"name": "x", "expires_at": iso(now() - datetime.timedelta(hours=1))},
                     {"name": "x", "expires_at": iso(now() + datetime.timedelta(days=91))},
                     {"name": "x", "expires_at": 1767225600}):
            with self.subTest(body=body):
                self.assertProblem(s.req("tina", "POST", path, body), 400, "invalid-request")
        for raw in (b'{"name": ', b"[]", b'"x"'):
            with self.subTest(raw=raw):
                self.assertProblem(self.host.request(
                    "POST", s.base + path, raw, token=s.tokens["tina"],
                    headers={"Content-Type": "application/json"}), 400)
        # 90 days is allowed.
        far = now() + datetime.timedelta(days=89, hours=23)
        s.ok("tina", "POST", path, {"name": "lang", "expires_at": iso(far)}, status=(201,))
        # A guest link id of another room, through this room.
        other_room = s.room("tina")["id"]
        other = s.ok("tina", "POST", f"/rooms/{other_room}/guests", {"name": "O"}, status=(201,))
        self.assertProblem(s.req("tina", "DELETE", f"{path}/{other['id']}"), 404)
        self.assertProblem(s.req("tina", "DELETE", f"{path}/not-a-uuid"), 404)
        self.assertEqual(sorted(g["name"] for g in s.ok("tina", "GET", path)["items"]),
                         ["G", "lang"])
        fixtures.check(self.host.request("POST", other["join_path"]), 200)
        # A guest is no moderator: a locked room, or one outside its schedule, refuses them.
        s.ok("tina", "PATCH", f"/rooms/{room}", {"locked": True})
        self.assertProblem(self.host.request("POST", link["join_path"]), 403)
        s.ok("tina", "PATCH", f"/rooms/{room}", {
            "locked": False, "starts_at": iso(now() + datetime.timedelta(hours=3))})
        self.assertProblem(self.host.request("POST", link["join_path"]), 409)
        self.assertEqual(self.visits(room), {})
        # Deleting the room takes its links.
        s.ok("tina", "DELETE", f"/rooms/{other_room}", status=(204,))
        self.assertProblem(self.host.request("POST", other["join_path"]), 404)
        self.assertEqual(self.sql(f"SELECT count(*) FROM conference.{self.guest_table()} "
                                  f"WHERE id = '{other['id']}'"), "0")


# ------------------------------------------------------------------------------------------
# The Jitsi webhook
# ------------------------------------------------------------------------------------------


class JitsiWebhook(ConferenceTestCase):
    """Jitsi's event module posts to the signed events_path that GET /backend gives."""

    def events_path(self, s: School, who: str = "ada") -> str:
        path = s.ok(who, "GET", "/backend").get("events_path")
        self.assertIsInstance(path, str, "GET /backend of a Jitsi backend has no events_path")
        prefix = f"{s.base}/callbacks/jitsi/"
        self.assertTrue(path.startswith(prefix) and len(path) > len(prefix) + 16, path)
        self.assertNotIn(s.secret, path)
        return path

    def hook(self, path: str, body: Any) -> harness.Response:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.host.request("POST", path, data,
                                 headers={"Content-Type": "application/json"})

    @staticmethod
    def left(room_id: str, user_id: str) -> dict:
        """muc-occupant-left with the fields the README names."""
        return {"event_name": "muc-occupant-left", "room_name": room_id.replace("-", ""),
                "occupant": {"id": user_id}}

    @staticmethod
    def destroyed(room_id: str) -> dict:
        return {"event_name": "muc-room-destroyed", "room_name": room_id.replace("-", "")}

    @staticmethod
    def event_sync_left(room_id: str, user_id: str, name: str) -> dict:
        """muc-occupant-left as Jitsi's event_sync module really sends it (jitsi-contrib
        prosody-plugins/event_sync: room_jid, is_breakout, and the occupant's jid, name,
        email, joined_at, left_at besides what the README names)."""
        name_ = room_id.replace("-", "")
        t = int(time.time())
        return {"event_name": "muc-occupant-left", "room_name": name_,
                "room_jid": f"{name_}@conference.{JITSI_HOST}", "is_breakout": False,
                "occupant": {"occupant_jid": f"{name_}@conference.{JITSI_HOST}/a1b2c3",
                             "name": name, "email": None, "id": user_id,
                             "joined_at": t - 60, "left_at": t}}

    @staticmethod
    def event_sync_destroyed(room_id: str) -> dict:
        name_ = room_id.replace("-", "")
        t = int(time.time())
        return {"event_name": "muc-room-destroyed", "room_name": name_,
                "room_jid": f"{name_}@conference.{JITSI_HOST}", "is_breakout": False,
                "created_at": t - 600, "destroyed_at": t, "all_occupants": []}

    def test_occupant_left_and_room_destroyed(self) -> None:
        s = self.school()
        path = self.events_path(s)
        room = s.room("tina")["id"]
        t = s.visit("tina", room)
        m = s.visit("sam", room)
        other = s.room("tina")["id"]
        o = s.visit("sam", other)
        # Events it does not act on change nothing ("other events are ignored").
        resp = self.hook(path, {"event_name": "muc-room-created",
                                "room_name": room.replace("-", "")})
        self.assertIn(resp.status, (200, 204), resp)
        self.assertEqual(self.visits(room), {t: (s.ids["tina"], False),
                                             m: (s.ids["sam"], False)})
        resp = self.hook(path, self.left(room, s.ids["sam"]))
        self.assertIn(resp.status, (200, 204), resp)
        self.assertEqual(self.visits(room), {t: (s.ids["tina"], False), m: (s.ids["sam"], True)})
        self.assertEqual(self.visits(other), {o: (s.ids["sam"], False)})
        resp = self.hook(path, self.destroyed(room))
        self.assertIn(resp.status, (200, 204), resp)
        self.assertEqual(self.visits(room), {t: (s.ids["tina"], True), m: (s.ids["sam"], True)})
        self.assertEqual(self.visits(other), {o: (s.ids["sam"], False)})
        # A guest's visit closes by the id its token carried.
        link = s.ok("tina", "POST", f"/rooms/{other}/guests", {"name": "Gast"}, status=(201,))
        answer = fixtures.check(self.host.request("POST", link["join_path"]), 200).json()
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(answer["url"]).query)["jwt"][0]
        guest_id = verify_jwt(token, s.secret)[1]["context"]["user"]["id"]
        g = str(answer["attendance_id"])
        fixtures.check(self.hook(path, self.left(other, guest_id)), 200, 204)
        self.assertEqual(self.visits(other), {o: (s.ids["sam"], False), g: (None, True)})

    def test_what_jitsi_really_sends_is_taken(self) -> None:
        # Jitsi's event module sends more fields than the README names; the hook must take
        # them, or no real event ever closes a visit.
        s = self.school()
        path = self.events_path(s)
        room = s.room("tina")["id"]
        t = s.visit("tina", room)
        m = s.visit("sam", room)
        resp = self.hook(path, self.event_sync_left(room, s.ids["sam"], "Sam Schüler"))
        self.assertIn(resp.status, (200, 204), resp)
        self.assertEqual(self.visits(room), {t: (s.ids["tina"], False), m: (s.ids["sam"], True)})
        resp = self.hook(path, self.event_sync_destroyed(room))
        self.assertIn(resp.status, (200, 204), resp)
        self.assertEqual(self.visits(room), {t: (s.ids["tina"], True), m: (s.ids["sam"], True)})

    def test_refusals_close_nothing(self) -> None:
        s = self.school()
        path = self.events_path(s)
        room = s.room("tina")["id"]
        m = s.visit("sam", room)
        event = self.left(room, s.ids["sam"])
        prefix, sig = path.rsplit("/", 1)
        other = self.school()
        other_sig = self.events_path(other).rsplit("/", 1)[1]
        self.assertNotEqual(sig, other_sig)
        for label, bad in (("changed", sig[:-1] + ("0" if sig[-1] != "0" else "1")),
                           ("short", sig[:-2]), ("garbage", "x"),
                           ("another school's", other_sig)):
            with self.subTest(label):
                self.assertProblem(self.hook(f"{prefix}/{bad}", event), 401)
        # Another school's signed path does not close this school's visits either.
        fixtures.check(self.hook(self.events_path(other), event), 200, 204, 404)
        for garbage in (b"not json", b"[1,2]", b'{"event_name": 5}', b""):
            with self.subTest(garbage=garbage):
                self.assertProblem(self.hook(path, garbage), 400)
        self.assertEqual(self.visits(room), {m: (s.ids["sam"], False)})
        # A new secret makes a new URL; the old one stops working.
        s.secret = "rotated-" + s.secret
        s.set_jitsi()
        new_path = self.events_path(s)
        self.assertNotEqual(new_path, path)
        self.assertProblem(self.hook(path, event), 401)
        self.assertEqual(self.visits(room), {m: (s.ids["sam"], False)})
        fixtures.check(self.hook(new_path, event), 200, 204)
        self.assertEqual(self.visits(room), {m: (s.ids["sam"], True)})


# ------------------------------------------------------------------------------------------
# Usage figures
# ------------------------------------------------------------------------------------------


def h(minutes: float) -> float:
    return minutes / 60.0


class Stats(ConferenceTestCase):
    def template(self, s: School) -> dict:
        """One real visit of school s as a JSON row of conference.attendance, to copy."""
        room = s.room("tina", "Vorlage")["id"]
        aid = s.visit("tina", room)
        row = json.loads(self.sql(f"SELECT to_jsonb(a) FROM conference.attendance a "
                                  f"WHERE id = '{aid}'"))
        for key in ("id", "room_id", "user_id", "joined_at", "left_at", "moderator"):
            self.assertIn(key, row, f"conference.attendance has no column {key}")
        return row

    def visit(self, template: dict, room: str, user: str, joined: datetime.datetime,
              left: datetime.datetime | None) -> None:
        row = {k: v for k, v in template.items() if k != "id"}  # the id is the table's
        row.update(room_id=room, user_id=user, joined_at=iso(joined),
                   left_at=iso(left) if left else None, moderator=False)
        if "guest_id" in row:
            row["guest_id"] = None
        cols = ", ".join(row)
        self.sql(f"INSERT INTO conference.attendance ({cols}) SELECT {cols} FROM "
                 f"jsonb_populate_record(NULL::conference.attendance, "
                 f"{lit(json.dumps(row))}::jsonb)")

    def stats(self, s: School | None, query: str, who: str = "ada") -> dict:
        if s is None:
            resp = self.host.request("GET", f"/api/v1/conference/stats?{query}",
                                     token=self.op_token)
        else:
            resp = s.req(who, "GET", f"/stats?{query}")
        body = fixtures.check(resp, 200, what=f"stats {query}").json()
        self.assertIn("buckets", body)
        self.assertIn("totals", body)
        for b in body["buckets"]:
            self.assertEqual(set(b), BUCKET_KEYS, b)
        self.assertLessEqual(BUCKET_KEYS - {"start"}, set(body["totals"]))
        return body

    def assertFigures(self, got: dict, joins: int, users: int, usage: float, estimated: float,
                      peak: int, where: str) -> None:
        self.assertEqual(got["joins"], joins, f"{where}: joins")
        self.assertEqual(got["distinct_users"], users, f"{where}: distinct_users")
        self.assertAlmostEqual(got["usage_hours"], usage, delta=0.01,
                               msg=f"{where}: usage_hours (the estimate included)")
        self.assertAlmostEqual(got["estimated_usage_hours"], estimated, delta=0.01,
                               msg=f"{where}: estimated_usage_hours")
        self.assertEqual(got["peak_concurrent_rooms"], peak, f"{where}: peak_concurrent_rooms")

    def test_exact_figures_by_day_and_hour(self) -> None:
        s = self.school()
        tpl = self.template(s)
        r1, r2, r3 = (s.room("tina", f"R{i}")["id"] for i in (1, 2, 3))
        d = datetime.datetime(2025, 3, 10, tzinfo=UTC)

        def at(day: int, hh: int, mm: int) -> datetime.datetime:
            return d + datetime.timedelta(days=day, hours=hh, minutes=mm)

        u = s.ids
        # (room, user, joined, left) - left None: unknown, assumed 25 minutes.
        rows = [
            (r1, u["tom"], at(-1, 23, 0), at(-1, 23, 30)),    # the day before: outside
            (r1, u["tina"], at(0, 8, 0), at(0, 8, 50)),       # 50 min
            (r1, u["sam"], at(0, 8, 10), at(0, 8, 40)),       # 30 min
            (r2, u["sue"], at(0, 8, 20), at(0, 8, 35)),       # 15 min; R1 and R2 at once
            (r1, u["sam"], at(0, 10, 0), at(0, 10, 30)),      # 30 min
            (r2, u["tom"], at(0, 10, 40), at(0, 10, 55)),     # 15 min, after R1 ended
            (r3, u["sue"], at(0, 13, 0), None),               # unknown: 25 min, estimated
            (r3, u["tina"], at(0, 13, 5), at(0, 13, 20)),     # 15 min
            (r2, u["tina"], at(1, 9, 0), at(1, 9, 30)),       # next day, 30 min
            (r1, u["sam"], at(2, 0, 10), at(2, 0, 40)),       # two days on: outside
        ]
        for row in rows:
            self.visit(tpl, *row)
        # By hour, 08:00-14:00 of day 0.
        got = self.stats(s, f"from={iso(at(0, 8, 0))}&to={iso(at(0, 14, 0))}&granularity=hour")
        self.assertEqual([parse_time(b["start"]) for b in got["buckets"]],
                         [at(0, hh, 0) for hh in range(8, 14)])
        b = {parse_time(x["start"]).hour: x for x in got["buckets"]}
        self.assertFigures(b[8], 3, 3, h(50 + 30 + 15), 0, 2, "08:00")
        self.assertFigures(b[9], 0, 0, 0, 0, 0, "09:00")
        self.assertFigures(b[10], 2, 2, h(30 + 15), 0, 1, "10:00")
        self.assertFigures(b[11], 0, 0, 0, 0, 0, "11:00")
        self.assertFigures(b[12], 0, 0, 0, 0, 0, "12:00")
        self.assertFigures(b[13], 2, 2, h(25 + 15), h(25), 1, "13:00")
        self.assertFigures(got["totals"], 7, 4, h(180), h(25), 2, "hour totals")
        # By day, days 0 and 1.
        got = self.stats(s, f"from={iso(at(0, 0, 0))}&to={iso(at(2, 0, 0))}&granularity=day")
        self.assertEqual([parse_time(x["start"]) for x in got["buckets"]],
                         [at(0, 0, 0), at(1, 0, 0)])
        self.assertFigures(got["buckets"][0], 7, 4, h(180), h(25), 2, "day 0")
        self.assertFigures(got["buckets"][1], 1, 1, h(30), 0, 1, "day 1")
        self.assertFigures(got["totals"], 8, 4, h(210), h(25), 2, "day totals")
        # The same through a time with an offset.
        got2 = self.stats(s, "from=2025-03-10T01:00:00%2B01:00&to=2025-03-12T01:00:00%2B01:00"
                             "&granularity=day")
        self.assertEqual(got2["totals"], got["totals"])

    def test_real_joins_and_an_estimate_capped_at_now(self) -> None:
        s = self.school()
        room = s.room("tina")["id"]
        s.join("tina", room)
        fixtures.check(s.req("tina", "POST", f"/rooms/{room}/leave"), 204)
        s.join("sam", room)            # still open: counted, estimated up to now
        got = self.stats(s, "granularity=day")   # the last 7 days by default
        self.assertEqual(got["totals"]["joins"], 2)
        self.assertEqual(got["totals"]["distinct_users"], 2)
        self.assertEqual(got["totals"]["peak_concurrent_rooms"], 1)
        self.assertLess(got["totals"]["usage_hours"], 0.01)
        first = parse_time(got["buckets"][0]["start"])
        self.assertLessEqual(abs((first - (now() - datetime.timedelta(days=7)))
                                 .total_seconds()), 86400 + 60, got["buckets"][0])
        # A visit that began ten minutes ago and whose leave is unknown: ten minutes, not 25.
        aid = self.sql(f"SELECT id FROM conference.attendance WHERE room_id = '{room}' "
                       f"AND user_id = '{s.ids['sam']}'")
        self.sql(f"UPDATE conference.attendance SET joined_at = now() - interval '10 minutes' "
                 f"WHERE id = '{aid}'")
        got = self.stats(s, "granularity=hour&from=" + iso(now() - datetime.timedelta(hours=3))
                         + "&to=" + iso(now() + datetime.timedelta(minutes=1)))
        self.assertAlmostEqual(got["totals"]["estimated_usage_hours"], h(10), delta=0.01)
        self.assertAlmostEqual(got["totals"]["usage_hours"], h(10), delta=0.01)
        # A visit of eight days ago is outside the default range.
        tpl = json.loads(self.sql(f"SELECT to_jsonb(a) FROM conference.attendance a "
                                  f"WHERE id = '{aid}'"))
        old = now() - datetime.timedelta(days=8)
        self.visit(tpl, room, s.ids["sue"], old, old + datetime.timedelta(minutes=5))
        self.assertEqual(self.stats(s, "granularity=day")["totals"]["joins"], 2)

    def test_refusals(self) -> None:
        s = self.school()
        q = "from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z&granularity=hour"
        for who in ("tina", "stan", "sam", "pia"):
            self.assertProblem(s.req(who, "GET", f"/stats?{q}"), 403, "forbidden")
        self.assertProblem(s.req(None, "GET", f"/stats?{q}"), 401)
        self.stats(s, q)
        self.assertEqual(len(self.stats(s, q, who="op")["buckets"]), 24)
        start = datetime.datetime(2025, 1, 1, tzinfo=UTC)
        limit = start + datetime.timedelta(hours=2000)
        self.assertEqual(len(self.stats(s, f"from={iso(start)}&to={iso(limit)}"
                                           f"&granularity=hour")["buckets"]), 2000)
        for bad in ("from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z&granularity=day",
                    f"from={iso(start)}&to={iso(limit + datetime.timedelta(hours=1))}"
                    "&granularity=hour",
                    f"from={iso(start)}&to={iso(start + datetime.timedelta(days=2001))}"
                    "&granularity=day",
                    "from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z&granularity=week",
                    "from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z&granularity=",
                    "from=yesterday&to=2025-01-02T00:00:00Z&granularity=day",
                    "from=2025-01-01T00:00:00Z&to=2025-99-02T00:00:00Z&granularity=day"):
            with self.subTest(query=bad):
                self.assertProblem(s.req("ada", "GET", f"/stats?{bad}"), 400, "invalid-request")

    def test_operator_wide(self) -> None:
        a, b = self.school(), self.school()
        ta, tb = self.template(a), self.template(b)
        d = datetime.datetime(2025, 4, 7, tzinfo=UTC)

        def at(hh: int, mm: int) -> datetime.datetime:
            return d + datetime.timedelta(hours=hh, minutes=mm)

        a1, a2 = a.room("tina", "A1")["id"], a.room("tina", "A2")["id"]
        b1 = b.room("tina", "B1")["id"]
        self.visit(ta, a1, a.ids["tina"], at(9, 0), at(10, 0))     # 60 min
        self.visit(ta, a2, a.ids["sam"], at(9, 30), at(9, 50))     # 20 min, with A1
        self.visit(tb, b1, b.ids["tina"], at(10, 15), at(10, 45))  # 30 min, alone
        self.visit(tb, b1, b.ids["sue"], at(10, 20), at(10, 40))   # 20 min, same room
        q = f"from={iso(d)}&to={iso(d + datetime.timedelta(days=1))}&granularity=day"
        got = self.stats(None, q)
        self.assertEqual(len(got["buckets"]), 1)
        # Peak: A1 and A2 at once (09:30-09:50); B1 alone later. Two, not the sum 2 + 1.
        self.assertFigures(got["totals"], 4, 4, h(60 + 20 + 30 + 20), 0, 2, "all schools")
        self.assertFigures(got["buckets"][0], 4, 4, h(130), 0, 2, "all schools, the day")
        self.assertFigures(self.stats(a, q)["totals"], 2, 2, h(80), 0, 2, "school A")
        self.assertFigures(self.stats(b, q)["totals"], 2, 2, h(50), 0, 1, "school B")
        hourly = self.stats(None, f"from={iso(at(9, 0))}&to={iso(at(11, 0))}&granularity=hour")
        self.assertFigures(hourly["buckets"][0], 2, 2, h(80), 0, 2, "all schools 09:00")
        self.assertFigures(hourly["buckets"][1], 2, 2, h(50), 0, 1, "all schools 10:00")
        # Only operators.
        for tok in (a.tokens["ada"], b.tokens["ada"], a.tokens["tina"]):
            self.assertProblem(self.host.request("GET", f"/api/v1/conference/stats?{q}",
                                                 token=tok), 403, "forbidden")
        self.assertProblem(self.host.request("GET", f"/api/v1/conference/stats?{q}"), 401)
        for bad in ("from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z&granularity=day",
                    "from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z&granularity=minute",
                    "from=2025-01-01T00:00:00Z&to=2025-06-01T00:00:00Z&granularity=hour"):
            with self.subTest(query=bad):
                self.assertProblem(self.host.request("GET", f"/api/v1/conference/stats?{bad}",
                                                     token=self.op_token), 400)


# ------------------------------------------------------------------------------------------
# People and groups go; export; the module switched off
# ------------------------------------------------------------------------------------------


class Lifecycle(ConferenceTestCase):
    def test_deleted_user_keeps_visits_without_the_person(self) -> None:
        s = self.school()
        room = s.room("tina")["id"]
        first = s.visit("sam", room)
        fixtures.check(s.req("sam", "POST", f"/rooms/{room}/leave"), 204)
        second = s.visit("sam", room)
        kept = s.visit("sue", room)
        fixtures.check(s.raw("ada", "DELETE", f"/users/{s.ids['sam']}"), 204, what="delete sam")
        self.assertEqual(self.visits(room), {first: (None, True), second: (None, False),
                                             kept: (s.ids["sue"], False)})
        self.assertEqual(self.sql(f"SELECT count(*) FROM conference.attendance "
                                  f"WHERE user_id = '{s.ids['sam']}'"), "0")
        # A room the person made: whether it stays is not said; if it does, not with them.
        mine = s.room("tom", "Tom's")["id"]
        fixtures.check(s.raw("ada", "DELETE", f"/users/{s.ids['tom']}"), 204, what="delete tom")
        got = s.req("ada", "GET", f"/rooms/{mine}")
        if got.status != 404:
            self.assertEqual(got.status, 200, got)
            self.assertIsNone(got.json()["created_by"])

    def test_deleted_group_takes_its_rooms(self) -> None:
        s = self.school()
        gid = s.group("AG Theater", owner="tina", members=["sam"])
        room = s.room("tina", group_id=gid)["id"]
        keep = s.room("tina")["id"]
        link = s.ok("tina", "POST", f"/rooms/{room}/guests", {"name": "G"}, status=(201,))
        visit = s.visit("sam", room)
        fixtures.check(s.raw("tina", "DELETE", f"/groups/{gid}"), 204, what="delete group")
        self.assertProblem(s.req("ada", "GET", f"/rooms/{room}"), 404)
        self.assertEqual(self.sql(f"SELECT count(*) FROM conference.rooms WHERE id = '{room}'"),
                         "0")
        self.assertProblem(self.host.request("POST", link["join_path"]), 404)
        self.assertEqual(self.sql(f"SELECT count(*) FROM conference.attendance "
                                  f"WHERE id = '{visit}'"), "1")
        self.assertEqual(s.visible("ada"), [keep])

    def test_gdpr_export(self) -> None:
        s = self.school()
        gid = s.group("1a", owner="tina", members=["sam"])
        r1 = s.room("tina", "Aula")["id"]
        r2 = s.room("tina", "1a", group_id=gid)["id"]
        s.join("sam", r1)
        fixtures.check(s.req("sam", "POST", f"/rooms/{r1}/leave"), 204)
        s.join("sam", r2)
        s.join("tina", r1)   # another's visit, which must not be in sam's export
        for who in ("ada", "sam"):
            with self.subTest(exporter=who):
                out = fixtures.check(s.raw(who, "GET", f"/users/{s.ids['sam']}/export"), 200,
                                     what="export").json()
                part = out["modules"]["conference"] if "modules" in out else out["conference"]
                visits = part["attendance"]
                self.assertEqual(len(visits), 2, visits)
                self.assertEqual(sorted(v["room_id"] for v in visits), sorted([r1, r2]))
                self.assertEqual(sum(1 for v in visits if v.get("left_at")), 1, visits)
        tina = fixtures.check(s.raw("ada", "GET", f"/users/{s.ids['tina']}/export"), 200).json()
        part = tina["modules"]["conference"] if "modules" in tina else tina["conference"]
        self.assertEqual([v["room_id"] for v in part["attendance"]], [r1])

    def test_module_disabled(self) -> None:
        s = self.school()
        room = s.room("tina")["id"]
        link = s.ok("tina", "POST", f"/rooms/{room}/guests", {"name": "G"}, status=(201,))
        events = s.ok("ada", "GET", "/backend")["events_path"]
        fixtures.check(s.raw("op", "DELETE", "/modules/conference"), 204, what="disable")
        for method, path, body in (
                ("GET", "/backend", None), ("GET", "/rooms", None),
                ("POST", "/rooms", {"name": "x"}), ("GET", f"/rooms/{room}", None),
                ("POST", f"/rooms/{room}/join", None), ("GET", f"/rooms/{room}/guests", None),
                ("GET", "/stats", None)):
            with self.subTest(method=method, path=path):
                self.assertProblem(s.req("ada", method, path, body), 404, "not-found")
        self.assertProblem(self.host.request("POST", link["join_path"]), 404)
        self.assertProblem(self.host.request("POST", events, JitsiWebhook.destroyed(room)), 404)
        # A school that never had it.
        bare = self.school(modules=("groups",), backend=False)
        self.assertProblem(bare.req("ada", "GET", "/rooms"), 404)
        self.assertProblem(bare.req("tina", "POST", "/rooms", {"name": "x"}), 404)


# ------------------------------------------------------------------------------------------
# OpenAPI
# ------------------------------------------------------------------------------------------


class OpenApi(ConferenceTestCase):
    def test_routes_are_documented(self) -> None:
        doc = fixtures.check(self.host.request("GET", "/api/v1/openapi.json"), 200).json()
        paths = {re.sub(r"\{[^}]+\}", "{}", p): item for p, item in doc["paths"].items()}
        base = "/api/v1/schools/{}/conference"
        want = {
            f"{base}/backend": {"get", "put", "delete"},
            f"{base}/rooms": {"get", "post"},
            f"{base}/rooms/{{}}": {"get", "patch", "delete"},
            f"{base}/rooms/{{}}/join": {"post"},
            f"{base}/rooms/{{}}/leave": {"post"},
            f"{base}/rooms/{{}}/end": {"post"},
            f"{base}/rooms/{{}}/guests": {"get", "post"},
            f"{base}/rooms/{{}}/guests/{{}}": {"delete"},
            f"{base}/guest/{{}}/join": {"post"},
            f"{base}/callbacks/jitsi/{{}}": {"post"},
            f"{base}/callbacks/bbb-end/{{}}": {"get"},
            f"{base}/stats": {"get"},
            "/api/v1/conference/stats": {"get"},
        }
        for path, methods in want.items():
            with self.subTest(path):
                self.assertIn(path, paths)
                self.assertLessEqual(methods, set(paths[path]))
        self.assertEqual(paths[f"{base}/rooms"]["post"].get("x-atrium-permission"),
                         "conference.create")
        self.assertEqual(paths[f"{base}/backend"]["put"].get("x-atrium-permission"),
                         "conference.manage")
        self.assertEqual(paths[f"{base}/stats"]["get"].get("x-atrium-permission"),
                         "conference.stats")
        self.assertEqual(paths[f"{base}/rooms"]["get"]["tags"], ["conference"])
        for public in (f"{base}/guest/{{}}/join", f"{base}/callbacks/jitsi/{{}}"):
            self.assertEqual(paths[public]["post"].get("security"), [], public)
        rb = paths[f"{base}/rooms"]["post"].get("requestBody")
        self.assertIsNotNone(rb, "POST /rooms has no requestBody")
        schema = rb["content"]["application/json"]["schema"]
        self.assertLessEqual({"name", "description", "group_id", "starts_at", "ends_at",
                              "max_participants", "lobby", "locked"}, set(schema["properties"]))
        from test_metrics_openapi import validate_openapi
        proc = validate_openapi(doc)
        self.assertEqual(proc.returncode, 0, f"{proc.stdout}{proc.stderr}")


# ------------------------------------------------------------------------------------------
# The installation's backend and configuration
# ------------------------------------------------------------------------------------------

INSTALL_URL = "https://jitsi.example.com"
INSTALL_APP = "atrium-installation"
INSTALL_SECRET = "installation-secret-" + "7" * 24


class InstallationBackend(ConferenceTestCase):
    HOST_ENV = {
        "ATRIUM_CONFERENCE_SECRET_KEY": SEALING_KEY,
        "ATRIUM_CONFERENCE_TYPE": "jitsi",
        "ATRIUM_CONFERENCE_URL": INSTALL_URL,
        "ATRIUM_CONFERENCE_APP_ID": INSTALL_APP,
        "ATRIUM_CONFERENCE_SECRET": INSTALL_SECRET,
        "ATRIUM_CONFERENCE_JOIN_TTL_SECONDS": "120",
        "ATRIUM_CONFERENCE_EARLY_MINUTES": "60",
    }

    def test_installation_backend_applies_until_a_school_has_its_own(self) -> None:
        s = self.school(backend=False)
        got = s.req("ada", "GET", "/backend")
        self.assertEqual(got.status, 200, got)
        self.assertNotIn(INSTALL_SECRET, got.text)
        body = got.json()
        self.assertEqual((body["type"], body["url"], body["app_id"], body["source"]),
                         ("jitsi", INSTALL_URL, INSTALL_APP, "installation"))
        room = s.room("tina")["id"]
        answer = s.join("sam", room)
        self.assertJitsiJoin(s, room, answer, moderator=False,
                             user_id=s.ids["sam"], name="Sam Schüler", secret=INSTALL_SECRET,
                             app_id=INSTALL_APP, url=INSTALL_URL, host="jitsi.example.com",
                             ttl=120)
        # Jitsi's events for this school, signed with the installation's secret.
        events = body.get("events_path")
        self.assertIsInstance(events, str, body)
        fixtures.check(self.host.request("POST", events, JitsiWebhook.left(room, s.ids["sam"])),
                       200, 204)
        self.assertEqual(self.visits(room), {str(answer["attendance_id"]): (s.ids["sam"], True)})
        # The school's own backend wins.
        s.set_jitsi()
        self.assertEqual(s.ok("ada", "GET", "/backend")["source"], "school")
        self.assertJitsiJoin(s, room, s.join("sam", room), moderator=False,
                             user_id=s.ids["sam"], name="Sam Schüler", ttl=120)
        # Deleted, the installation's applies again.
        fixtures.check(s.req("ada", "DELETE", "/backend"), 204)
        self.assertEqual(s.ok("ada", "GET", "/backend")["source"], "installation")
        self.assertJitsiJoin(s, room, s.join("tina", room), moderator=True,
                             user_id=s.ids["tina"], name="Tina Teacher", secret=INSTALL_SECRET,
                             app_id=INSTALL_APP, url=INSTALL_URL, host="jitsi.example.com",
                             ttl=120)
        self.assertNotIn(INSTALL_SECRET, self.host.log_text())

    def test_early_minutes_setting(self) -> None:
        s = self.school()
        start = now() + datetime.timedelta(minutes=45)
        room = s.room("tina", starts_at=iso(start))["id"]
        self.assertIs(s.join("sam", room)["moderator"], False)
        later = s.room("tina", starts_at=iso(now() + datetime.timedelta(minutes=75)))["id"]
        self.assertProblem(s.req("sam", "POST", f"/rooms/{later}/join"), 409)


class NoSealingKey(ConferenceTestCase):
    HOST_ENV: dict[str, str] = {}

    def test_a_secret_cannot_be_stored(self) -> None:
        s = self.school(backend=False)
        self.assertProblem(s.req("ada", "PUT", "/backend", {
            "type": "jitsi", "url": JITSI_URL, "app_id": s.app_id, "secret": s.secret}),
            503, "unavailable")
        self.assertProblem(s.req("ada", "GET", "/backend"), 404)
        self.assertEqual(self.sql("SELECT count(*) FROM conference.backends"), "0")
        room = s.room("tina")["id"]
        self.assertProblem(s.req("tina", "POST", f"/rooms/{room}/join"), 503)
        self.assertEqual(self.visits(room), {})


if __name__ == "__main__":
    harness.main()
