# SPDX-License-Identifier: Apache-2.0
"""test_auth.py - operators, sign-in, sessions, personal access tokens and throttling.

Covers `atriumd operator create` (create, then reset: the old password and the old sessions
stop working), POST /api/v1/auth/login (token, expiry, who; a wrong password and an unknown
person are indistinguishable), logout, GET /api/v1/me, the caller's own sessions (list,
revoke; another person's session is a 404), personal access tokens with scopes (they narrow,
never widen), expired/idle/garbage/missing tokens (401), sign-in throttling (5 failures per
account, 50 per address in 15 minutes: 429 with Retry-After), and how secrets are stored
(Argon2id PHC strings, tokens only as SHA-256), checked as the database superuser.

Every class has its own PostgreSQL and host (fixtures.SharedHost). All requests come from
127.0.0.1, so failed sign-ins count against one address per host: classes that are not about
throttling keep their failures far below the address limit of 50.
"""

import base64
import datetime
import hashlib
import itertools
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402

PASSWORD = fixtures.PASSWORD
LOGIN = "/api/v1/auth/login"
ARGON2_PHC = re.compile(
    r"^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{16,}\$[A-Za-z0-9+/]{32,}$")
JSON = {"Content-Type": "application/json"}

_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


def parse_time(text: str) -> datetime.datetime:
    """RFC 3339 with a Z (the API's format) -> aware datetime."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def token_hash_hex(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def all_tables(pg: harness.PgCluster) -> list[str]:
    return pg.psql(
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1").split()


def tables_containing(pg: harness.PgCluster, needle: str) -> dict[str, int]:
    """{table: rows whose text form contains needle (exactly, case-sensitive)}."""
    # One psql for all tables (a process each made this take seconds).
    tables = all_tables(pg)
    counts = pg.psql("\n".join(f"SELECT {i}, count(*) FROM {table} t "
                               f"WHERE strpos(t::text, {sql_literal(needle)}) > 0;"
                               for i, table in enumerate(tables)))
    found = {}
    for line in counts.splitlines():
        i, _, n = line.partition("|")
        if int(n):
            found[tables[int(i)]] = int(n)
    return found


class AuthHost(fixtures.SharedHost):
    """A shared host with one school "<slug>" holding an admin, a teacher and a student."""

    SLUG = "auth"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            fixtures.make_school(cls.host, cls.op_token, cls.SLUG, modules=["noticeboard"])
            cls.admin = fixtures.make_user(cls.host, cls.op_token, cls.SLUG, "adele",
                                           roles=["admin"])
            cls.teacher = fixtures.make_user(cls.host, cls.op_token, cls.SLUG, "theo",
                                             roles=["teacher"])
            cls.student = fixtures.make_user(cls.host, cls.op_token, cls.SLUG, "stan",
                                             roles=["student"])
        except BaseException:
            cls._stop_shared()
            raise

    def person(self, roles=("teacher",), prefix="p"):
        """A new person in the shared school and a token for them: (user, token)."""
        name = unique(prefix)
        user = fixtures.make_user(self.host, self.op_token, self.SLUG, name, roles=roles)
        return user, fixtures.login(self.host, name, school=self.SLUG)

    def login(self, body, **kw):
        return self.host.request("POST", LOGIN, body, **kw)


# ------------------------------------------------------------------------------------------
# Operators
# ------------------------------------------------------------------------------------------


class OperatorCli(fixtures.SharedHost):
    def test_create_then_reset_password(self):
        h = self.host
        proc = h.run(["operator", "create", "ops.alpha"], input="first-password\n")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("created", proc.stdout)
        first = fixtures.login(h, "ops.alpha", "first-password")
        second = fixtures.login(h, "ops.alpha", "first-password")
        me = h.request("GET", "/api/v1/me", token=first)
        self.assertEqual(me.status, 200, me)
        self.assertEqual(me.json()["kind"], "operator")

        # Running it again resets the password.
        proc = h.run(["operator", "create", "ops.alpha"], input="second-password\n")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("updated", proc.stdout)
        self.assertEqual(
            int(self.pg.psql("SELECT count(*) FROM core.operators WHERE username = 'ops.alpha'")),
            1, "a reset must not create a second operator")

        # The old password fails, the old sessions are revoked, the new password works.
        harness.assert_problem(self.host.request(
            "POST", LOGIN, {"username": "ops.alpha", "password": "first-password"}), 401)
        for tok in (first, second):
            harness.assert_problem(h.request("GET", "/api/v1/me", token=tok), 401)
        fresh = fixtures.login(h, "ops.alpha", "second-password")
        self.assertEqual(h.request("GET", "/api/v1/me", token=fresh).status, 200)

    def test_create_and_reset_are_audited(self):
        h = self.host
        for password in ("audited-password", "audited-again"):
            proc = h.run(["operator", "create", "ops.audited"], input=password + "\n")
            self.assertEqual(proc.returncode, 0, proc.stderr)
        op_id = self.pg.psql("SELECT id FROM core.operators WHERE username = 'ops.audited'")
        op_id = op_id.strip()
        resp = h.request("GET", "/api/v1/audit?limit=500", token=self.op_token)
        self.assertEqual(resp.status, 200, resp)
        entries = [(e["action"], e["actor_kind"], e["client"]) for e in resp.json()["items"]
                   if e["target"] == op_id or e["actor_id"] == op_id]
        self.assertEqual(sorted(entries), [("operator.created", "system", "cli"),
                                           ("operator.password_reset", "system", "cli")],
                         "atriumd operator create left no audit entry")

    def test_reset_leaves_other_operators_alone(self):
        h = self.host
        for name in ("ops.keep", "ops.reset"):
            proc = h.run(["operator", "create", name], input="a-long-password\n")
            self.assertEqual(proc.returncode, 0, proc.stderr)
        keep = fixtures.login(h, "ops.keep", "a-long-password")
        proc = h.run(["operator", "create", "ops.reset"], input="another-password\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(h.request("GET", "/api/v1/me", token=keep).status, 200)

    def test_bad_name_or_password_is_refused(self):
        for name in ("Ops", "o", "has space", "x" * 65):
            with self.subTest(name=name):
                proc = self.host.run(["operator", "create", name], input="a-long-password\n")
                self.assertNotEqual(proc.returncode, 0, proc.stdout)
        proc = self.host.run(["operator", "create", "ops.short"], input="short\n")
        self.assertNotEqual(proc.returncode, 0, proc.stdout)
        proc = self.host.run(["operator", "create", "ops.empty"], input="")
        self.assertNotEqual(proc.returncode, 0, proc.stdout)
        self.assertEqual(
            self.pg.psql("SELECT count(*) FROM core.operators "
                         "WHERE username IN ('ops.short', 'ops.empty')"), "0\n")

    def test_operator_signs_in_without_school(self):
        proc = self.host.run(["operator", "create", "ops.beta"], input="beta-password\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        resp = self.host.request("POST", LOGIN,
                                 {"username": "ops.beta", "password": "beta-password"})
        self.assertEqual(resp.status, 200, resp)
        body = resp.json()
        self.assertEqual(body["user"]["kind"], "operator")
        self.assertEqual(body["user"]["username"], "ops.beta")
        # With a school the same credentials are a school account that does not exist.
        fixtures.make_school(self.host, self.op_token, "opschool")
        harness.assert_problem(self.host.request(
            "POST", LOGIN, {"school": "opschool", "username": "ops.beta",
                            "password": "beta-password"}), 401)


# ------------------------------------------------------------------------------------------
# Sign-in, sign-out, who am I
# ------------------------------------------------------------------------------------------


class SignIn(AuthHost):
    def test_login_returns_token_expiry_and_user(self):
        before = datetime.datetime.now(datetime.timezone.utc)
        resp = self.login({"school": self.SLUG, "username": "theo", "password": PASSWORD})
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.content_type, "application/json")
        body = resp.json()
        self.assertIsInstance(body.get("token"), str)
        self.assertGreaterEqual(len(body["token"]), 32)
        expires = parse_time(body["expires_at"])
        self.assertGreater(expires, before + datetime.timedelta(minutes=5))
        self.assertLess(expires, before + datetime.timedelta(days=2))
        user = body["user"]
        self.assertEqual(user["id"], self.teacher["id"])
        self.assertEqual(user["username"], "theo")
        self.assertEqual(user["kind"], "user")
        self.assertEqual(user["roles"], ["teacher"])
        self.assertNotIn("password_hash", json.dumps(body))
        # Two sign-ins give two different tokens.
        again = fixtures.login(self.host, "theo", school=self.SLUG)
        self.assertNotEqual(again, body["token"])

    def test_wrong_password_and_unknown_user_look_the_same(self):
        wrong = self.login({"school": self.SLUG, "username": "theo", "password": "not-it-at-all"})
        unknown = self.login({"school": self.SLUG, "username": "nobody-here",
                              "password": "not-it-at-all"})
        no_school = self.login({"school": "no-such-school", "username": "theo",
                                "password": PASSWORD})
        a = harness.assert_problem(wrong, 401, "/unauthenticated")
        b = harness.assert_problem(unknown, 401, "/unauthenticated")
        c = harness.assert_problem(no_school, 401, "/unauthenticated")
        self.assertEqual(a, b)
        self.assertEqual(a, c)
        self.assertEqual(wrong.body, unknown.body)

    def test_school_account_needs_its_school(self):
        # Without "school" the name is looked up among operators.
        harness.assert_problem(self.login({"username": "theo", "password": PASSWORD}), 401)

    def test_login_bad_requests(self):
        cases = {
            "no password": {"school": self.SLUG, "username": "theo"},
            "no username": {"school": self.SLUG, "password": PASSWORD},
            "username not a string": {"school": self.SLUG, "username": 5, "password": PASSWORD},
            "password not a string": {"school": self.SLUG, "username": "theo",
                                      "password": ["x"]},
            "school not a string": {"school": True, "username": "theo", "password": PASSWORD},
            "empty password": {"school": self.SLUG, "username": "theo", "password": ""},
            "unknown field": {"school": self.SLUG, "username": "theo", "password": PASSWORD,
                              "remember": True},
            "array body": [],
        }
        for label, body in cases.items():
            with self.subTest(label):
                harness.assert_problem(self.login(body), 400, "/invalid-request")
        harness.assert_problem(self.login(b'{"username": "theo", ', headers=JSON), 400)
        harness.assert_problem(self.login(b"", headers=JSON), 400)
        harness.assert_problem(self.login(
            json.dumps({"school": self.SLUG, "username": "theo", "password": PASSWORD}),
            headers={"Content-Type": "text/plain"}), 415)

    def test_me(self):
        tok = fixtures.login(self.host, "adele", school=self.SLUG)
        resp = self.host.request("GET", "/api/v1/me", token=tok)
        self.assertEqual(resp.status, 200, resp)
        me = resp.json()
        self.assertEqual(me["id"], self.admin["id"])
        self.assertEqual(me["kind"], "user")
        self.assertEqual(me["username"], "adele")
        self.assertEqual(me["school"]["slug"], self.SLUG)
        self.assertIn("users.manage", me["permissions"])
        self.assertEqual(me["permissions"], sorted(me["permissions"]))

        student = self.host.request("GET", "/api/v1/me",
                                    token=fixtures.login(self.host, "stan", school=self.SLUG))
        self.assertEqual(student.status, 200, student)
        self.assertNotIn("users.manage", student.json()["permissions"])

        op = self.host.request("GET", "/api/v1/me", token=self.op_token)
        self.assertEqual(op.status, 200, op)
        self.assertEqual(op.json()["kind"], "operator")
        self.assertNotIn("school", op.json())

    def test_logout_revokes_only_that_token(self):
        user, tok = self.person()
        other = fixtures.login(self.host, user["username"], school=self.SLUG)
        resp = self.host.request("POST", "/api/v1/auth/logout", token=tok)
        self.assertEqual(resp.status, 204, resp)
        self.assertEqual(resp.body, b"")
        harness.assert_problem(self.host.request("GET", "/api/v1/me", token=tok), 401)
        harness.assert_problem(self.host.request("POST", "/api/v1/auth/logout", token=tok), 401)
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=other).status, 200)
        # logout takes no body and needs a token
        harness.assert_problem(self.host.request("POST", "/api/v1/auth/logout"), 401)
        harness.assert_problem(
            self.host.request("POST", "/api/v1/auth/logout", {"all": True}, token=other), 400)

    def test_missing_or_bad_credentials_are_401(self):
        paths = ["/api/v1/me", "/api/v1/auth/sessions", f"/api/v1/schools/{self.SLUG}/users",
                 f"/api/v1/schools/{self.SLUG}/noticeboard/notices", "/api/v1/schools"]
        headers = {
            "none": {},
            "garbage token": {"Authorization": "Bearer not-a-token-at-all"},
            "well-formed unknown": {"Authorization": "Bearer atr_" + "A" * 43},
            "empty bearer": {"Authorization": "Bearer "},
            "basic scheme": {"Authorization": "Basic YWRlbGU6cGFzc3dvcmQ="},
        }
        for path in paths:
            for label, hdrs in headers.items():
                with self.subTest(path=path, auth=label):
                    harness.assert_problem(self.host.request("GET", path, headers=hdrs), 401,
                                           "/unauthenticated")

    def test_unknown_school_path_still_wants_a_token(self):
        harness.assert_problem(self.host.request("GET", "/api/v1/schools/nowhere/users"), 401)

    def test_expired_token_is_401(self):
        _, tok = self.person()
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=tok).status, 200)
        self.pg.psql("UPDATE core.sessions SET expires_at = now() - interval '1 second' "
                     f"WHERE token_hash = decode('{token_hash_hex(tok)}', 'hex')")
        harness.assert_problem(self.host.request("GET", "/api/v1/me", token=tok), 401)

    def test_idle_session_is_401(self):
        _, tok = self.person()
        self.pg.psql("UPDATE core.sessions SET last_used_at = now() - interval '3 hours' "
                     f"WHERE token_hash = decode('{token_hash_hex(tok)}', 'hex')")
        harness.assert_problem(self.host.request("GET", "/api/v1/me", token=tok), 401)


# ------------------------------------------------------------------------------------------
# Own sessions
# ------------------------------------------------------------------------------------------


class Sessions(AuthHost):
    def sessions(self, tok):
        resp = self.host.request("GET", "/api/v1/auth/sessions", token=tok)
        self.assertEqual(resp.status, 200, resp)
        body = resp.json()
        self.assertIn("items", body)
        self.assertIn("next_cursor", body)
        return body["items"]

    def test_lists_own_sessions_only(self):
        user, first = self.person()
        second = fixtures.login(self.host, user["username"], school=self.SLUG)
        made = self.host.request("POST", "/api/v1/auth/tokens", {"name": "laptop"}, token=first)
        self.assertEqual(made.status, 201, made)
        _, stranger = self.person()  # someone else with sessions of their own

        items = self.sessions(first)
        self.assertEqual(len(items), 3, items)
        self.assertEqual(sorted(i["kind"] for i in items), ["session", "session", "token"])
        self.assertEqual([i["current"] for i in items].count(True), 1)
        ids = {i["id"] for i in items}
        self.assertIn(made.json()["id"], ids)
        for item in items:
            self.assertNotIn("token", item)
            self.assertNotIn("token_hash", item)
        stranger_ids = {i["id"] for i in self.sessions(stranger)}
        self.assertFalse(ids & stranger_ids)
        # Each sees the same set from either of their sessions.
        self.assertEqual({i["id"] for i in self.sessions(second)}, ids)

        # Operators see their own sessions, none of the school's.
        op_ids = {i["id"] for i in self.sessions(self.op_token)}
        self.assertFalse(op_ids & ids)

    def test_revoke_own_other_session(self):
        user, current = self.person()
        other = fixtures.login(self.host, user["username"], school=self.SLUG)
        other_id = next(i["id"] for i in self.sessions(other) if i["current"])
        resp = self.host.request("DELETE", f"/api/v1/auth/sessions/{other_id}", token=current)
        self.assertEqual(resp.status, 204, resp)
        harness.assert_problem(self.host.request("GET", "/api/v1/me", token=other), 401)
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=current).status, 200)
        # Gone: a second DELETE is a 404.
        harness.assert_problem(
            self.host.request("DELETE", f"/api/v1/auth/sessions/{other_id}", token=current), 404)

    def test_cannot_revoke_someone_elses_session(self):
        _, mine = self.person()
        _, theirs = self.person()
        their_id = next(i["id"] for i in self.sessions(theirs) if i["current"])
        harness.assert_problem(
            self.host.request("DELETE", f"/api/v1/auth/sessions/{their_id}", token=mine), 404,
            "/not-found")
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=theirs).status, 200)
        # Not even an admin can revoke another person's session through this route.
        admin = fixtures.login(self.host, "adele", school=self.SLUG)
        harness.assert_problem(
            self.host.request("DELETE", f"/api/v1/auth/sessions/{their_id}", token=admin), 404)
        harness.assert_problem(
            self.host.request("DELETE", f"/api/v1/auth/sessions/{their_id}",
                              token=self.op_token), 404)
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=theirs).status, 200)

    def test_session_route_failures(self):
        _, tok = self.person()
        harness.assert_problem(self.host.request("DELETE", "/api/v1/auth/sessions/not-a-uuid",
                                                 token=tok), 404)
        harness.assert_problem(self.host.request(
            "DELETE", "/api/v1/auth/sessions/00000000-0000-0000-0000-000000000000", token=tok),
            404)
        harness.assert_problem(self.host.request(
            "DELETE", "/api/v1/auth/sessions/00000000-0000-0000-0000-000000000000"), 401)
        harness.assert_problem(self.host.request("GET", "/api/v1/auth/sessions"), 401)


# ------------------------------------------------------------------------------------------
# Personal access tokens
# ------------------------------------------------------------------------------------------


class Tokens(AuthHost):
    def make_token(self, tok, body):
        return self.host.request("POST", "/api/v1/auth/tokens", body, token=tok)

    def test_unscoped_token_works_like_the_account(self):
        user, session = self.person(roles=("teacher",))
        resp = self.make_token(session, {"name": "ci"})
        self.assertEqual(resp.status, 201, resp)
        body = resp.json()
        self.assertEqual(body["name"], "ci")
        self.assertIsNone(body["scopes"])
        self.assertTrue(body["token"])
        expires = parse_time(body["expires_at"])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertGreater(expires, now + datetime.timedelta(days=80))  # default: 90 days
        self.assertLess(expires, now + datetime.timedelta(days=100))
        me = self.host.request("GET", "/api/v1/me", token=body["token"])
        self.assertEqual(me.status, 200, me)
        self.assertEqual(me.json()["id"], user["id"])
        self.assertEqual(me.json()["permissions"],
                         self.host.request("GET", "/api/v1/me", token=session).json()[
                             "permissions"])

    def test_expires_in_days(self):
        _, session = self.person()
        resp = self.make_token(session, {"name": "short", "expires_in_days": 1})
        self.assertEqual(resp.status, 201, resp)
        expires = parse_time(resp.json()["expires_at"])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertGreater(expires, now + datetime.timedelta(hours=23))
        self.assertLess(expires, now + datetime.timedelta(hours=25))

    def test_scoped_token_can_do_only_its_scopes(self):
        _, admin = self.person(roles=("admin",))
        resp = self.make_token(admin, {"name": "reader", "scopes": ["users.read"]})
        self.assertEqual(resp.status, 201, resp)
        self.assertEqual(resp.json()["scopes"], ["users.read"])
        scoped = resp.json()["token"]
        # The list of one's sessions shows the scopes the same way (it answered PostgreSQL's
        # "{users.read}" until 2026-12-07).
        listed = self.host.request("GET", "/api/v1/auth/sessions", token=admin).json()["items"]
        self.assertEqual([t["scopes"] for t in listed if t["id"] == resp.json()["id"]],
                         [["users.read"]])
        self.assertTrue(all(t["scopes"] is None for t in listed if t["id"] != resp.json()["id"]))
        me = self.host.request("GET", "/api/v1/me", token=scoped)
        self.assertEqual(me.status, 200, me)
        self.assertEqual(me.json()["permissions"], ["users.read"])

        # inside its scope
        self.assertEqual(self.host.request("GET", f"/api/v1/schools/{self.SLUG}/users",
                                           token=scoped).status, 200)
        # outside its scope, though the admin account may do all of these
        outside = [
            ("POST", f"/api/v1/schools/{self.SLUG}/users",
             {"username": unique("nope"), "display_name": "Nope", "roles": ["student"]}),
            ("PUT", f"/api/v1/schools/{self.SLUG}/modules/noticeboard", None),
            ("GET", f"/api/v1/schools/{self.SLUG}/audit", None),
            ("GET", f"/api/v1/schools/{self.SLUG}/roles/teacher/permissions", None),
            ("POST", f"/api/v1/schools/{self.SLUG}/noticeboard/notices",
             {"title": "t", "body": "b"}),
            ("PATCH", f"/api/v1/schools/{self.SLUG}", {"name": "Renamed by a reader"}),
            ("DELETE", f"/api/v1/schools/{self.SLUG}/users/{self.student['id']}", None),
        ]
        for method, path, body in outside:
            with self.subTest(method=method, path=path):
                harness.assert_problem(self.host.request(method, path, body, token=scoped), 403,
                                       "/forbidden")
        # and nothing happened
        self.assertEqual(self.host.request(
            "GET", f"/api/v1/schools/{self.SLUG}/users/{self.student['id']}",
            token=admin).status, 200)

    def test_scope_the_account_lacks_is_403(self):
        _, teacher = self.person(roles=("teacher",))
        for scopes in (["users.manage"], ["users.read", "audit.read"], ["roles.manage"]):
            with self.subTest(scopes=scopes):
                harness.assert_problem(self.make_token(teacher, {"name": "x", "scopes": scopes}),
                                       403, "/forbidden")
        n = self.host.request("GET", "/api/v1/auth/sessions", token=teacher).json()["items"]
        self.assertEqual([i["kind"] for i in n], ["session"], "a refused token was stored")

    def test_scoped_token_cannot_mint_a_wider_token(self):
        # A token narrowed to users.read must not be able to create a token without scopes
        # (which would carry every permission of the account).
        _, admin = self.person(roles=("admin",))
        scoped = self.make_token(admin, {"name": "reader", "scopes": ["users.read"]})
        self.assertEqual(scoped.status, 201, scoped)
        scoped = scoped.json()["token"]
        resp = self.make_token(scoped, {"name": "escalated"})
        if resp.status == 201:
            wider = resp.json()["token"]
            perms = self.host.request("GET", "/api/v1/me", token=wider).json()["permissions"]
            self.assertLessEqual(
                set(perms), {"users.read"},
                f"a token scoped to users.read created token {resp.json()['id']} with "
                f"permissions {perms}")
        else:
            harness.assert_problem(resp, 403)
        harness.assert_problem(self.make_token(scoped, {"name": "x", "scopes": ["users.manage"]}),
                               403)

    def test_scoped_operator_token_is_refused(self):
        # Operator rights are not permission names: a token "narrowed to users.read" would
        # still be an operator. Atrium refuses to issue one rather than hand out a token whose
        # scope means nothing.
        resp = self.make_token(self.op_token, {"name": "op-reader", "scopes": ["users.read"]})
        harness.assert_problem(resp, 400, "/invalid-request")
        sessions = self.host.request("GET", "/api/v1/auth/sessions", token=self.op_token).json()
        self.assertNotIn("op-reader", [s.get("name") for s in sessions["items"]])

    def test_token_request_failures(self):
        _, tok = self.person()
        cases = {
            "no name": {},
            "empty name": {"name": ""},
            "name too long": {"name": "n" * 101},
            "name not a string": {"name": 7},
            "scopes not an array": {"name": "x", "scopes": "users.read"},
            "scope not a string": {"name": "x", "scopes": [1]},
            "duplicate scopes": {"name": "x", "scopes": ["users.read", "users.read"]},
            "zero days": {"name": "x", "expires_in_days": 0},
            "too many days": {"name": "x", "expires_in_days": 367},
            "days not an integer": {"name": "x", "expires_in_days": 1.5},
            "days a string": {"name": "x", "expires_in_days": "30"},
            "unknown field": {"name": "x", "owner": "someone"},
        }
        for label, body in cases.items():
            with self.subTest(label):
                harness.assert_problem(self.make_token(tok, body), 400, "/invalid-request")
        harness.assert_problem(self.host.request("POST", "/api/v1/auth/tokens", b"{", headers=JSON,
                                                 token=tok), 400)
        harness.assert_problem(self.host.request("POST", "/api/v1/auth/tokens", {"name": "x"}),
                               401)
        harness.assert_problem(self.host.request("POST", "/api/v1/auth/tokens", b'{"name":"x"}',
                                                 headers={"Content-Type": "text/plain"},
                                                 token=tok), 415)

    def test_revoking_a_token(self):
        _, session = self.person()
        made = self.make_token(session, {"name": "temp"}).json()
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=made["token"]).status, 200)
        resp = self.host.request("DELETE", f"/api/v1/auth/sessions/{made['id']}", token=session)
        self.assertEqual(resp.status, 204, resp)
        harness.assert_problem(self.host.request("GET", "/api/v1/me", token=made["token"]), 401)


# ------------------------------------------------------------------------------------------
# Throttling
# ------------------------------------------------------------------------------------------


class AccountThrottle(AuthHost):
    def fail_login(self, username, school=None):
        resp = self.login({"school": school or self.SLUG, "username": username,
                           "password": "definitely-wrong"})
        harness.assert_problem(resp, 401)

    def test_sixth_attempt_is_429_even_with_the_right_password(self):
        user, _ = self.person(prefix="victim")
        for _ in range(5):
            self.fail_login(user["username"])
        resp = self.login({"school": self.SLUG, "username": user["username"],
                           "password": PASSWORD})
        harness.assert_problem(resp, 429, "/rate-limited")
        retry = resp.headers.get("retry-after")
        self.assertIsNotNone(retry, f"429 without Retry-After: {resp.headers}")
        self.assertRegex(retry, r"^[0-9]+$")
        self.assertGreaterEqual(int(retry), 1)
        self.assertLessEqual(int(retry), 15 * 60)
        # still throttled with a wrong password
        harness.assert_problem(self.login({"school": self.SLUG, "username": user["username"],
                                           "password": "definitely-wrong"}), 429)
        # other accounts are not affected
        self.assertEqual(self.login({"school": self.SLUG, "username": "adele",
                                     "password": PASSWORD}).status, 200)
        # the counter is in the database
        rows = self.pg.psql("SELECT failures FROM core.login_throttle "
                            f"WHERE key = 'user:{self.SLUG}/{user['username']}'").split()
        self.assertEqual(rows, ["5"])

    def test_success_resets_the_account_counter(self):
        user, _ = self.person(prefix="forgetful")
        for _ in range(4):
            self.fail_login(user["username"])
        fixtures.login(self.host, user["username"], school=self.SLUG)
        for _ in range(4):
            self.fail_login(user["username"])
        self.assertEqual(self.login({"school": self.SLUG, "username": user["username"],
                                     "password": PASSWORD}).status, 200)

    def test_unknown_accounts_are_throttled_alike(self):
        for _ in range(5):
            self.fail_login("ghost-account")
        harness.assert_problem(self.login({"school": self.SLUG, "username": "ghost-account",
                                           "password": "whatever-it-is"}), 429)

    def test_429_problem_has_a_proper_title(self):
        user, _ = self.person(prefix="titled")
        for _ in range(5):
            self.fail_login(user["username"])
        problem = harness.assert_problem(self.login(
            {"school": self.SLUG, "username": user["username"], "password": PASSWORD}), 429)
        self.assertEqual(problem["title"], "Too Many Requests")


class AddressThrottle(AuthHost):
    def test_fifty_failures_from_one_address_block_it(self):
        # 50 failures spread over 25 names (2 each: no account reaches its own limit of 5).
        for i in range(50):
            resp = self.login({"school": self.SLUG, "username": f"spray-{i % 25}",
                               "password": "definitely-wrong"})
            harness.assert_problem(resp, 401)
        resp = self.login({"school": self.SLUG, "username": "adele", "password": PASSWORD})
        harness.assert_problem(resp, 429, "/rate-limited")
        self.assertRegex(resp.headers.get("retry-after") or "", r"^[1-9][0-9]*$")
        # Tokens handed out before keep working: throttling is about sign-in only.
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=self.op_token).status, 200)


# ------------------------------------------------------------------------------------------
# How secrets are stored
# ------------------------------------------------------------------------------------------


class SecretStorage(AuthHost):
    # Test hosts hash at a token cost (harness.WEAK_ARGON2); this class checks the real one.
    HOST_ENV = harness.DEFAULT_ARGON2

    def test_passwords_are_argon2id_phc_strings(self):
        user, _ = self.person(prefix="hashed")
        rows = self.pg.psql(
            "SELECT username || ' ' || password_hash FROM core.users "
            f"WHERE username IN ('adele', '{user['username']}') "
            "UNION ALL SELECT username || ' ' || password_hash FROM core.operators").splitlines()
        self.assertEqual(len(rows), 3, rows)
        for row in rows:
            name, phc = row.split(" ", 1)
            with self.subTest(name):
                self.assertRegex(phc, ARGON2_PHC)
        hashes = [r.split(" ", 1)[1] for r in rows]
        self.assertEqual(len(set(hashes)), 3, "same password, same hash: salts are missing")
        # The password itself is nowhere in the database.
        self.assertEqual(tables_containing(self.pg, PASSWORD), {})

    def test_cheaper_hash_is_rehashed_at_sign_in(self):
        # A second host on the same database, configured with a lower cost, sets a password;
        # signing in through the host at the default cost upgrades the stored hash.
        with harness.Atriumd(self.pg, env=harness.WEAK_ARGON2) as cheap:
            name = unique("cheap")
            fixtures.make_user(cheap, self.op_token, self.SLUG, name, roles=["student"])
        query = f"SELECT password_hash FROM core.users WHERE username = '{name}'"
        self.assertTrue(self.pg.psql(query).strip().startswith("$argon2id$v=19$m=64,t=1,p=1$"))
        fixtures.login(self.host, name, school=self.SLUG)
        self.assertRegex(self.pg.psql(query).strip(), ARGON2_PHC)

    def test_cost_below_owasp_minimum_is_refused(self):
        for m, t in (("4096", "10"), ("19456", "1"), ("64", "1")):
            with self.subTest(m=m, t=t):
                proc = self.host.run(["migrate"], env={"ATRIUM_ARGON2_MEMORY_KIB": m,
                                                       "ATRIUM_ARGON2_ITERATIONS": t})
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn("below OWASP's minimum", proc.stderr)
        # A higher cost is the operator's to choose; OWASP's 46 MiB with one pass is as good.
        proc = self.host.run(["migrate"], env={"ATRIUM_ARGON2_MEMORY_KIB": "47104",
                                               "ATRIUM_ARGON2_ITERATIONS": "1"})
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_tokens_are_stored_only_as_sha256(self):
        _, session = self.person(prefix="tokened")
        pat = self.host.request("POST", "/api/v1/auth/tokens", {"name": "pat"}, token=session)
        self.assertEqual(pat.status, 201, pat)
        for tok in (session, pat.json()["token"]):
            with self.subTest(token=tok[:8]):
                stored = self.pg.psql(
                    "SELECT count(*) FROM core.sessions "
                    f"WHERE token_hash = decode('{token_hash_hex(tok)}', 'hex')").strip()
                self.assertEqual(stored, "1", "no session row carries the token's SHA-256")
                self.assertEqual(self.pg.psql(
                    "SELECT octet_length(token_hash) FROM core.sessions "
                    f"WHERE token_hash = decode('{token_hash_hex(tok)}', 'hex')").strip(), "32")
                self.assertEqual(tables_containing(self.pg, tok), {},
                                 "the token text is stored somewhere")


class HashHoldsNoConnection(fixtures.SharedHost):
    """A password's Argon2id hash runs with no database connection held: sign-ins at 08:00
    would otherwise keep the pool idle in transaction for the length of each hash while
    everyone else's requests wait for a connection (bench/RESULTS.md, the storm).

    PostgreSQL itself judges it: this database ends any session left idle in a transaction
    for longer than IDLE_LIMIT, and this host hashes at a cost that takes several times that
    (64 MiB, 20 passes: ~0.9 s on the two cores CI has), so a connection held across a hash
    is cut and the request fails. Nothing else in a request leaves its transaction idle
    for more than a few milliseconds."""

    IDLE_LIMIT = "300ms"
    SLUG = "hashpool"
    PG_SQL = f"ALTER DATABASE atrium SET idle_in_transaction_session_timeout = '{IDLE_LIMIT}'"
    HOST_ENV = {"ATRIUM_ARGON2_MEMORY_KIB": "65536", "ATRIUM_ARGON2_ITERATIONS": "20",
                "ATRIUM_ARGON2_ALLOW_WEAK": ""}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            fixtures.make_school(cls.host, cls.op_token, cls.SLUG, modules=["groups", "files"])
            fixtures.make_user(cls.host, cls.op_token, cls.SLUG, "hana", roles=["teacher"])
        except BaseException:
            cls._stop_shared()
            raise

    def test_the_database_cuts_a_connection_left_idle_in_a_transaction(self):
        # The premise: with this setting a transaction idle across a hash does not survive.
        self.assertEqual(self.pg.psql("SHOW idle_in_transaction_session_timeout").strip(),
                         self.IDLE_LIMIT)

    def test_sign_in_right_and_wrong(self):
        ok = self.host.request("POST", LOGIN, {"school": self.SLUG, "username": "hana",
                                               "password": PASSWORD})
        self.assertEqual(ok.status, 200, ok)
        wrong = self.host.request("POST", LOGIN, {"school": self.SLUG, "username": "hana",
                                                  "password": "not-the-password"})
        self.assertEqual(wrong.status, 401, wrong)
        unknown = self.host.request("POST", LOGIN, {"school": self.SLUG, "username": "nobody",
                                                    "password": PASSWORD})
        self.assertEqual(unknown.status, 401, unknown)
        # The failures were counted in the transaction after the hash.
        self.assertEqual(self.pg.psql(
            "SELECT count(*) FROM core.login_throttle WHERE key LIKE 'user:hashpool/%'").strip(),
            "2")

    def test_webdav_with_the_password(self):
        basic = "Basic " + base64.b64encode(f"hana:{PASSWORD}".encode()).decode()
        r = self.host.request("PROPFIND", f"/dav/{self.SLUG}/files/home/",
                              headers={"Authorization": basic, "Depth": "0"})
        self.assertEqual(r.status, 207, r)
        wrong = "Basic " + base64.b64encode(b"hana:wrong-password").decode()
        r = self.host.request("PROPFIND", f"/dav/{self.SLUG}/files/home/",
                              headers={"Authorization": wrong, "Depth": "0"})
        self.assertEqual(r.status, 401, r)

    def test_password_change(self):
        fixtures.make_user(self.host, self.op_token, self.SLUG, "pavel", roles=["student"])
        token = fixtures.login(self.host, "pavel", school=self.SLUG)
        r = self.host.request("POST", "/api/v1/me/password",
                              {"current_password": PASSWORD,
                               "new_password": "a new and long passphrase 7"}, token=token)
        self.assertEqual(r.status, 204, r)
        fixtures.login(self.host, "pavel", "a new and long passphrase 7", school=self.SLUG)

    def test_own_password_through_the_user_route(self):
        user = fixtures.make_user(self.host, self.op_token, self.SLUG, "petra",
                                  roles=["student"])
        token = fixtures.login(self.host, "petra", school=self.SLUG)
        r = self.host.request("PATCH", f"/api/v1/schools/{self.SLUG}/users/{user['id']}",
                              {"password": "another long passphrase 8",
                               "current_password": PASSWORD}, token=token)
        self.assertEqual(r.status, 200, r)
        fixtures.login(self.host, "petra", "another long passphrase 8", school=self.SLUG)

    def test_cheaper_hash_upgraded_at_sign_in(self):
        # A host hashing at a token cost sets the password; signing in here upgrades it.
        with harness.Atriumd(self.pg, env=harness.WEAK_ARGON2) as cheap:
            fixtures.make_user(cheap, self.op_token, self.SLUG, "cleo", roles=["student"])
        query = "SELECT password_hash FROM core.users WHERE username = 'cleo'"
        self.assertTrue(self.pg.psql(query).startswith("$argon2id$v=19$m=64,t=1,p=1$"))
        fixtures.login(self.host, "cleo", school=self.SLUG)
        self.assertTrue(self.pg.psql(query).startswith("$argon2id$v=19$m=65536,t=20,p=1$"))

    def test_activation_code(self):
        user = fixtures.make_user(self.host, self.op_token, self.SLUG, "ada", roles=["student"],
                                  password=None)
        r = self.host.request("POST", f"/api/v1/schools/{self.SLUG}/activation-codes",
                              {"users": [user["id"]]}, token=self.op_token)
        self.assertEqual(r.status, 201, r)
        code = r.json()["items"][0]["code"]
        r = self.host.request("POST", "/api/v1/auth/activate",
                              {"school": self.SLUG, "username": "ada", "code": code,
                               "new_password": "my very first password"})
        self.assertEqual(r.status, 200, r)
        fixtures.login(self.host, "ada", "my very first password", school=self.SLUG)
        # Spent: the same code again is refused.
        r = self.host.request("POST", "/api/v1/auth/activate",
                              {"school": self.SLUG, "username": "ada", "code": code,
                               "new_password": "my second password here"})
        self.assertEqual(r.status, 401, r)


if __name__ == "__main__":
    harness.main()
