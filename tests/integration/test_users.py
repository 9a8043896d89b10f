# SPDX-License-Identifier: Apache-2.0
"""test_users.py - a school's people: create, list, search, read, change, parents, GDPR.

Creating (201 with id and roles; duplicates 409; schema violations 400; who may), listing
(pages walked with limit/cursor see everyone exactly once, ?role=, ?q= with LIKE wildcards
taken literally), reading (oneself always; a student reading someone else 403), changing
(admins change roles; people change their own display name and, with the current password,
their password; a new password ends every session of that person), parent links (roles
checked, shown on both sides, removable; another school's ids are 404), the GDPR export
(oneself or users.export) and the GDPR erasure: after DELETE, nothing of the person is left in
any table of any schema, checked as the database superuser (which bypasses row-level
security) after giving the person sessions, a token, a notice, audit entries, failed sign-ins
and a parent link.
"""

import itertools
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402

PASSWORD = fixtures.PASSWORD
JSON = {"Content-Type": "application/json"}
ZERO_UUID = "00000000-0000-0000-0000-000000000000"
_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def leftovers(pg: harness.PgCluster, needles) -> dict:
    """{(table, needle): [row text, ...]} for every row of every table in every non-system
    schema whose text form contains a needle (case-insensitively). Runs as the superuser, so
    row-level security hides nothing."""
    tables = pg.psql(
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1").split()
    assert "core.users" in tables and "core.audit_log" in tables, tables
    # One psql for every table and needle (a process for each made this take many seconds),
    # each row led by the number of its (table, needle) pair.
    pairs = [(table, needle) for table in tables for needle in needles]
    script = []
    for i, (table, needle) in enumerate(pairs):
        pattern = sql_literal("%" + needle.replace("\\", "\\\\").replace("%", "\\%")
                              .replace("_", "\\_") + "%")
        script.append(f"SELECT {i}, t::text FROM {table} t WHERE t::text ILIKE {pattern};")
    found: dict = {}
    for line in pg.psql("\n".join(script)).splitlines():
        label, sep, row = line.partition("|")
        if sep and label.isdigit():
            found.setdefault(pairs[int(label)], []).append(row)
    return found


class UsersHost(fixtures.SharedHost):
    """A shared host; each test makes its own school with make_school_with_people()."""

    def make_school_with_people(self, modules=("noticeboard",)):
        slug = unique("u")
        school = fixtures.make_school(self.host, self.op_token, slug, modules=modules)
        people, tokens = {}, {}
        for role in ("admin", "teacher", "student", "parent"):
            name = unique(role[:3])
            people[role] = fixtures.make_user(self.host, self.op_token, slug, name, roles=[role])
            tokens[role] = fixtures.login(self.host, name, school=slug)
        return school, people, tokens

    def users_path(self, slug, rest=""):
        return f"/api/v1/schools/{slug}/users{rest}"


# ------------------------------------------------------------------------------------------
# Create
# ------------------------------------------------------------------------------------------


class CreateUsers(UsersHost):
    def test_create(self):
        school, _, tokens = self.make_school_with_people()
        body = {"username": "new.person", "display_name": "Neue Person",
                "roles": ["teacher", "staff"], "password": "a-long-password",
                "external_id": "ASV-0001"}
        resp = self.host.request("POST", self.users_path(school["slug"]), body,
                                 token=tokens["admin"])
        self.assertEqual(resp.status, 201, resp)
        user = resp.json()
        self.assertRegex(user["id"], r"^[0-9a-f-]{36}$")
        self.assertEqual(user["username"], "new.person")
        self.assertEqual(user["display_name"], "Neue Person")
        self.assertEqual(user["roles"], ["teacher", "staff"])
        self.assertEqual(user["external_id"], "ASV-0001")
        self.assertEqual(user["parents"], [])
        self.assertEqual(user["children"], [])
        # Never the password or its hash (must_change_password is only a flag).
        self.assertEqual([k for k in user if "password" in k], ["must_change_password"])
        self.assertFalse(user["must_change_password"])
        self.assertNotIn("a-long-password", json.dumps(user))
        self.assertNotIn("$argon2", json.dumps(user))
        # the password works
        fixtures.login(self.host, "new.person", "a-long-password", school=school["slug"])
        # without a password the person exists but cannot sign in
        resp = self.host.request("POST", self.users_path(school["slug"]),
                                 {"username": "no.password", "display_name": "No Password",
                                  "roles": ["student"]}, token=self.op_token)
        self.assertEqual(resp.status, 201, resp)
        harness.assert_problem(self.host.request(
            "POST", "/api/v1/auth/login",
            {"school": school["slug"], "username": "no.password", "password": "anything-at-all"}),
            401)

    def test_duplicates_are_409(self):
        school, people, tokens = self.make_school_with_people()
        path = self.users_path(school["slug"])
        harness.assert_problem(self.host.request(
            "POST", path, {"username": people["teacher"]["username"], "display_name": "Twin",
                           "roles": ["teacher"]}, token=tokens["admin"]), 409, "/conflict")
        ok = self.host.request("POST", path, {"username": "ext.one", "display_name": "E",
                                              "roles": ["student"], "external_id": "X-1"},
                               token=tokens["admin"])
        self.assertEqual(ok.status, 201, ok)
        harness.assert_problem(self.host.request(
            "POST", path, {"username": "ext.two", "display_name": "E", "roles": ["student"],
                           "external_id": "X-1"}, token=tokens["admin"]), 409)
        # the same username in another school is fine
        other, _, _ = self.make_school_with_people()
        again = self.host.request("POST", self.users_path(other["slug"]),
                                  {"username": "ext.one", "display_name": "E",
                                   "roles": ["student"]}, token=self.op_token)
        self.assertEqual(again.status, 201, again)

    def test_bad_requests_are_400(self):
        school, _, tokens = self.make_school_with_people()
        path = self.users_path(school["slug"])
        good = {"username": "valid.name", "display_name": "Valid", "roles": ["student"]}
        cases = {
            "uppercase username": {**good, "username": "Valid.Name"},
            "one-character username": {**good, "username": "v"},
            "65-character username": {**good, "username": "v" * 65},
            "username with space": {**good, "username": "valid name"},
            "username not a string": {**good, "username": 12},
            "unknown role": {**good, "roles": ["wizard"]},
            "roles not an array": {**good, "roles": "student"},
            "role not a string": {**good, "roles": [1]},
            "duplicate roles": {**good, "roles": ["student", "student"]},
            "empty display name": {**good, "display_name": ""},
            "display name too long": {**good, "display_name": "d" * 201},
            "display name not a string": {**good, "display_name": None},
            "short password": {**good, "password": "short"},
            "password not a string": {**good, "password": 12345678},
            "external_id empty": {**good, "external_id": ""},
            "unknown field": {**good, "nickname": "v"},
            "no username": {k: v for k, v in good.items() if k != "username"},
            "no roles": {k: v for k, v in good.items() if k != "roles"},
            "no display name": {k: v for k, v in good.items() if k != "display_name"},
            "not an object": [good],
        }
        for label, body in cases.items():
            with self.subTest(label):
                harness.assert_problem(self.host.request("POST", path, body,
                                                         token=tokens["admin"]),
                                       400, "/invalid-request")
        harness.assert_problem(self.host.request("POST", path, b'{"username": ', headers=JSON,
                                                 token=tokens["admin"]), 400)
        harness.assert_problem(self.host.request("POST", path, json.dumps(good),
                                                 headers={"Content-Type": "text/plain"},
                                                 token=tokens["admin"]), 415)
        self.assertEqual(self.pg.psql(
            "SELECT count(*) FROM core.users WHERE username = 'valid.name'"), "0\n")

    def test_who_may_create(self):
        school, _, tokens = self.make_school_with_people()
        path = self.users_path(school["slug"])
        for role in ("teacher", "student", "parent"):
            with self.subTest(role):
                harness.assert_problem(self.host.request(
                    "POST", path, {"username": f"by.{role}", "display_name": "X",
                                   "roles": ["admin"]}, token=tokens[role]), 403, "/forbidden")
        harness.assert_problem(self.host.request(
            "POST", path, {"username": "by.nobody", "display_name": "X", "roles": ["admin"]}),
            401)
        harness.assert_problem(self.host.request(
            "POST", "/api/v1/schools/no-such-school/users",
            {"username": "lost", "display_name": "X", "roles": ["admin"]}, token=self.op_token),
            404)
        self.assertEqual(self.pg.psql(
            "SELECT count(*) FROM core.users WHERE username LIKE 'by.%' OR username = 'lost'"),
            "0\n")


# ------------------------------------------------------------------------------------------
# List, search, read
# ------------------------------------------------------------------------------------------


class ListUsers(UsersHost):
    def walk(self, slug, tok, limit, query=""):
        seen, cursor, pages = [], None, 0
        for _ in range(1000):
            path = self.users_path(slug, f"?limit={limit}{query}")
            if cursor:
                path += "&cursor=" + urllib.parse.quote(cursor, safe="")
            resp = self.host.request("GET", path, token=tok)
            self.assertEqual(resp.status, 200, resp)
            page = resp.json()
            self.assertLessEqual(len(page["items"]), limit)
            seen.extend(page["items"])
            pages += 1
            cursor = page["next_cursor"]
            if not cursor:
                break
        return seen, pages

    def test_pages_see_everyone_exactly_once(self):
        school, people, tokens = self.make_school_with_people()
        slug = school["slug"]
        # Ties on the sort key (same display name, different case) and non-ASCII names.
        names = ["Same Name", "same name", "SAME NAME", "Ärger Ämter", "Zoë", "adam", "Bea",
                 "bea", "Émile", "Ω Omega", "x", "Yusuf"]
        made = [fixtures.make_user(self.host, tokens["admin"], slug, unique("list"),
                                   roles=["student"], display_name=n, password=None)
                for n in names]
        expected = {p["id"] for p in people.values()} | {m["id"] for m in made}
        for limit in (1, 3, 5, 50):
            with self.subTest(limit=limit):
                seen, pages = self.walk(slug, tokens["admin"], limit)
                ids = [u["id"] for u in seen]
                self.assertEqual(len(ids), len(set(ids)), "someone was listed twice")
                self.assertEqual(set(ids), expected)
                self.assertEqual(pages, -(-len(expected) // limit) or 1)
                keys = [(u["display_name"].lower(), u["id"]) for u in seen]
                self.assertEqual(keys, sorted(keys))
        # users.read is enough; a student lacks it
        self.assertEqual(len(self.walk(slug, tokens["teacher"], 500)[0]), len(expected))
        for role in ("student", "parent"):
            harness.assert_problem(self.host.request("GET", self.users_path(slug),
                                                     token=tokens[role]), 403, "/forbidden")

    def test_inserts_while_paging_do_not_repeat(self):
        school, _, tokens = self.make_school_with_people()
        slug = school["slug"]
        for i in range(6):
            fixtures.make_user(self.host, tokens["admin"], slug, unique("pg"), roles=["staff"],
                               display_name=f"M{i}", password=None)
        first = self.host.request("GET", self.users_path(slug, "?limit=3"), token=tokens["admin"])
        page = first.json()
        # someone sorting before the cursor arrives between the pages
        fixtures.make_user(self.host, tokens["admin"], slug, unique("pg"), roles=["staff"],
                           display_name="A newcomer", password=None)
        rest = self.host.request(
            "GET", self.users_path(slug, "?limit=500&cursor=" +
                                   urllib.parse.quote(page["next_cursor"], safe="")),
            token=tokens["admin"]).json()["items"]
        ids = [u["id"] for u in page["items"] + rest]
        self.assertEqual(len(ids), len(set(ids)))

    def test_filter_by_role(self):
        school, people, tokens = self.make_school_with_people()
        slug = school["slug"]
        extra = fixtures.make_user(self.host, tokens["admin"], slug, unique("multi"),
                                   roles=["teacher", "parent"], password=None)
        for role, expected in {
            "teacher": {people["teacher"]["id"], extra["id"]},
            "parent": {people["parent"]["id"], extra["id"]},
            "student": {people["student"]["id"]},
            "admin": {people["admin"]["id"]},
            "staff": set(),
        }.items():
            with self.subTest(role):
                seen, _ = self.walk(slug, tokens["admin"], 2, f"&role={role}")
                self.assertEqual({u["id"] for u in seen}, expected)
                for u in seen:
                    self.assertIn(role, u["roles"])
        harness.assert_problem(self.host.request("GET", self.users_path(slug, "?role=wizard"),
                                                 token=tokens["admin"]), 400)

    def test_search(self):
        school, _, tokens = self.make_school_with_people()
        slug = school["slug"]
        made = {}
        for key, display in {"pct": "Hundred 100% Sure", "under": "Under_Score",
                             "plain": "Plain Person", "umlaut": "Jürgen Größe",
                             "back": "Back\\Slash"}.items():
            made[key] = fixtures.make_user(self.host, tokens["admin"], slug, f"{key}.{slug}",
                                           roles=["student"], display_name=display,
                                           password=None)

        def search(q, **kw):
            path = self.users_path(slug, "?limit=500&q=" + urllib.parse.quote(q, safe=""))
            resp = self.host.request("GET", path, token=tokens["admin"])
            self.assertEqual(resp.status, 200, resp)
            return {u["id"] for u in resp.json()["items"]}

        self.assertEqual(search("%"), {made["pct"]["id"]}, "% must match only a percent sign")
        # "_" is in the display name "Under_Score"; no username here has one
        self.assertEqual(search("_"), {made["under"]["id"]}, "_ must match only an underscore")
        self.assertEqual(search("0%"), {made["pct"]["id"]})
        self.assertEqual(search("\\"), {made["back"]["id"]})
        self.assertEqual(search("plain"), {made["plain"]["id"]})
        self.assertEqual(search("PLAIN PER"), {made["plain"]["id"]}, "search is case-blind")
        self.assertEqual(search("größe"), {made["umlaut"]["id"]})
        self.assertEqual(search(f"under.{slug}"), {made["under"]["id"]}, "usernames are searched")
        self.assertEqual(search("no such person anywhere"), set())
        harness.assert_problem(self.host.request(
            "GET", self.users_path(slug, "?q=" + "q" * 201), token=tokens["admin"]), 400)

    def test_list_failures(self):
        school, _, tokens = self.make_school_with_people()
        slug = school["slug"]
        for query in ("?limit=0", "?limit=501", "?limit=abc", "?cursor=not-a-cursor"):
            with self.subTest(query):
                harness.assert_problem(self.host.request("GET", self.users_path(slug, query),
                                                         token=tokens["admin"]), 400)
        harness.assert_problem(self.host.request("GET", self.users_path(slug)), 401)

    def test_get_one(self):
        school, people, tokens = self.make_school_with_people()
        slug = school["slug"]
        for role in ("admin", "teacher", "student", "parent"):
            with self.subTest(self_read=role):
                resp = self.host.request("GET", self.users_path(slug, f"/{people[role]['id']}"),
                                         token=tokens[role])
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(resp.json()["username"], people[role]["username"])
                self.assertNotIn("password_hash", resp.json())
        for reader in ("admin", "teacher"):
            with self.subTest(reader=reader):
                resp = self.host.request("GET",
                                         self.users_path(slug, f"/{people['student']['id']}"),
                                         token=tokens[reader])
                self.assertEqual(resp.status, 200, resp)
        for reader in ("student", "parent"):
            with self.subTest(forbidden=reader):
                harness.assert_problem(self.host.request(
                    "GET", self.users_path(slug, f"/{people['teacher']['id']}"),
                    token=tokens[reader]), 403, "/forbidden")
        for bad in (ZERO_UUID, "not-a-uuid"):
            with self.subTest(missing=bad):
                harness.assert_problem(self.host.request("GET", self.users_path(slug, f"/{bad}"),
                                                         token=tokens["admin"]), 404)
        harness.assert_problem(self.host.request(
            "GET", self.users_path(slug, f"/{people['admin']['id']}")), 401)


# ------------------------------------------------------------------------------------------
# Change
# ------------------------------------------------------------------------------------------


class PatchUsers(UsersHost):
    def patch(self, slug, user_id, body, tok):
        return self.host.request("PATCH", self.users_path(slug, f"/{user_id}"), body, token=tok)

    def test_admin_changes_roles(self):
        school, people, tokens = self.make_school_with_people()
        slug, teacher = school["slug"], people["teacher"]
        resp = self.patch(slug, teacher["id"], {"roles": ["teacher", "admin"]}, tokens["admin"])
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(sorted(resp.json()["roles"]), ["admin", "teacher"])
        # effective at once, on the teacher's existing session
        me = self.host.request("GET", "/api/v1/me", token=tokens["teacher"]).json()
        self.assertIn("users.manage", me["permissions"])
        audit = self.host.request("GET", f"/api/v1/schools/{slug}/audit?limit=500",
                                  token=tokens["admin"]).json()["items"]
        self.assertIn(("user.roles_changed", teacher["id"]),
                      {(e["action"], e["target"]) for e in audit})

    def test_admin_changes_other_fields(self):
        school, people, tokens = self.make_school_with_people()
        slug, student = school["slug"], people["student"]
        resp = self.patch(slug, student["id"], {"display_name": "Renamed Student",
                                                "username": "renamed.student",
                                                "external_id": "EXT-9"}, tokens["admin"])
        self.assertEqual(resp.status, 200, resp)
        body = resp.json()
        self.assertEqual((body["display_name"], body["username"], body["external_id"]),
                         ("Renamed Student", "renamed.student", "EXT-9"))
        resp = self.patch(slug, student["id"], {"external_id": None}, tokens["admin"])
        self.assertEqual(resp.status, 200, resp)
        self.assertIsNone(resp.json()["external_id"])
        # the new username signs in
        fixtures.login(self.host, "renamed.student", school=slug)

    def test_self_changes_display_name(self):
        school, people, tokens = self.make_school_with_people()
        for role in ("student", "teacher", "parent"):
            with self.subTest(role):
                resp = self.patch(school["slug"], people[role]["id"],
                                  {"display_name": f"My New {role.title()} Name"}, tokens[role])
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(resp.json()["display_name"], f"My New {role.title()} Name")

    def test_self_changes_password_and_every_session_ends(self):
        school, people, tokens = self.make_school_with_people()
        slug, student = school["slug"], people["student"]
        second = fixtures.login(self.host, student["username"], school=slug)
        pat = self.host.request("POST", "/api/v1/auth/tokens", {"name": "mine"},
                                token=tokens["student"])
        self.assertEqual(pat.status, 201, pat)
        resp = self.patch(slug, student["id"], {"password": "brand-new-password",
                                                "current_password": PASSWORD},
                          tokens["student"])
        self.assertEqual(resp.status, 200, resp)
        for tok in (tokens["student"], second, pat.json()["token"]):
            harness.assert_problem(self.host.request("GET", "/api/v1/me", token=tok), 401)
        harness.assert_problem(self.host.request(
            "POST", "/api/v1/auth/login",
            {"school": slug, "username": student["username"], "password": PASSWORD}), 401)
        fixtures.login(self.host, student["username"], "brand-new-password", school=slug)
        # other people's sessions are untouched
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=tokens["teacher"]).status,
                         200)

    def test_admin_sets_password_and_the_persons_sessions_end(self):
        school, people, tokens = self.make_school_with_people()
        slug, teacher = school["slug"], people["teacher"]
        resp = self.patch(slug, teacher["id"], {"password": "set-by-the-admin"},
                          tokens["admin"])
        self.assertEqual(resp.status, 200, resp)
        harness.assert_problem(self.host.request("GET", "/api/v1/me", token=tokens["teacher"]),
                               401)
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=tokens["admin"]).status,
                         200)
        fixtures.login(self.host, teacher["username"], "set-by-the-admin", school=slug)

    def test_self_may_not_change_the_rest(self):
        school, people, tokens = self.make_school_with_people()
        slug, student = school["slug"], people["student"]
        for label, body in {"roles": {"roles": ["admin"]},
                            "roles with name": {"roles": ["admin"], "display_name": "Boss"},
                            "username": {"username": "boss"},
                            "external_id": {"external_id": "X"}}.items():
            with self.subTest(label):
                harness.assert_problem(self.patch(slug, student["id"], body, tokens["student"]),
                                       403, "/forbidden")
        got = self.host.request("GET", self.users_path(slug, f"/{student['id']}"),
                                token=tokens["student"]).json()
        self.assertEqual(got["roles"], ["student"])
        self.assertEqual(got["username"], student["username"])

    def test_wrong_or_missing_current_password_is_403(self):
        school, people, tokens = self.make_school_with_people()
        slug, student = school["slug"], people["student"]
        for label, body in {"wrong": {"password": "another-password",
                                      "current_password": "not-my-password"},
                            "missing": {"password": "another-password"},
                            "empty": {"password": "another-password",
                                      "current_password": ""}}.items():
            with self.subTest(label):
                harness.assert_problem(self.patch(slug, student["id"], body, tokens["student"]),
                                       403, "/forbidden")
        # nothing changed: the old password and the session still work
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=tokens["student"]).status,
                         200)
        fixtures.login(self.host, student["username"], school=slug)

    def test_others_may_not_change_someone(self):
        school, people, tokens = self.make_school_with_people()
        slug = school["slug"]
        for role in ("teacher", "student", "parent"):
            with self.subTest(role):
                harness.assert_problem(self.patch(slug, people["admin"]["id"],
                                                  {"display_name": "Hacked"}, tokens[role]),
                                       403, "/forbidden")
        harness.assert_problem(self.patch(slug, people["admin"]["id"], {"display_name": "H"},
                                          None), 401)

    def test_patch_failures(self):
        school, people, tokens = self.make_school_with_people()
        slug, sid = school["slug"], people["student"]["id"]
        for label, body in {
            "bad role": {"roles": ["wizard"]},
            "roles not an array": {"roles": "admin"},
            "empty display name": {"display_name": ""},
            "short password": {"password": "short"},
            "bad username": {"username": "Not Valid"},
            "unknown field": {"nickname": "x"},
            "not an object": ["x"],
        }.items():
            with self.subTest(label):
                harness.assert_problem(self.patch(slug, sid, body, tokens["admin"]), 400,
                                       "/invalid-request")
        harness.assert_problem(self.host.request("PATCH", self.users_path(slug, f"/{sid}"),
                                                 b"{", headers=JSON, token=tokens["admin"]), 400)
        for missing in (ZERO_UUID, "not-a-uuid"):
            with self.subTest(missing=missing):
                harness.assert_problem(self.patch(slug, missing, {"display_name": "Nobody"},
                                                  tokens["admin"]), 404)
        harness.assert_problem(self.patch(slug, sid, {"username": people["teacher"]["username"]},
                                          tokens["admin"]), 409)


# ------------------------------------------------------------------------------------------
# Parents
# ------------------------------------------------------------------------------------------


class Parents(UsersHost):
    def link(self, method, slug, student, parent, tok):
        return self.host.request(method, self.users_path(slug, f"/{student}/parents/{parent}"),
                                 token=tok)

    def test_link_show_unlink(self):
        school, people, tokens = self.make_school_with_people()
        slug, kid, mum = school["slug"], people["student"]["id"], people["parent"]["id"]
        resp = self.link("PUT", slug, kid, mum, tokens["admin"])
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json()["parents"], [mum])
        # idempotent
        self.assertEqual(self.link("PUT", slug, kid, mum, tokens["admin"]).status, 200)
        parent_view = self.host.request("GET", self.users_path(slug, f"/{mum}"),
                                        token=tokens["parent"]).json()
        self.assertEqual(parent_view["children"], [kid])
        student_view = self.host.request("GET", self.users_path(slug, f"/{kid}"),
                                         token=tokens["student"]).json()
        self.assertEqual(student_view["parents"], [mum])
        # a second parent
        dad = fixtures.make_user(self.host, tokens["admin"], slug, unique("dad"),
                                 roles=["parent"], password=None)
        self.assertEqual(self.link("PUT", slug, kid, dad["id"], tokens["admin"]).status, 200)
        got = self.host.request("GET", self.users_path(slug, f"/{kid}"),
                                token=tokens["admin"]).json()
        self.assertEqual(sorted(got["parents"]), sorted([mum, dad["id"]]))

        resp = self.link("DELETE", slug, kid, mum, tokens["admin"])
        self.assertEqual(resp.status, 204, resp)
        got = self.host.request("GET", self.users_path(slug, f"/{kid}"),
                                token=tokens["admin"]).json()
        self.assertEqual(got["parents"], [dad["id"]])
        self.assertEqual(self.host.request("GET", self.users_path(slug, f"/{mum}"),
                                           token=tokens["admin"]).json()["children"], [])
        harness.assert_problem(self.link("DELETE", slug, kid, mum, tokens["admin"]), 404)

    def test_roles_are_checked(self):
        school, people, tokens = self.make_school_with_people()
        slug = school["slug"]
        p = {r: people[r]["id"] for r in people}
        for label, (student, parent) in {
            "parent is a teacher": (p["student"], p["teacher"]),
            "student is a teacher": (p["teacher"], p["parent"]),
            "swapped": (p["parent"], p["student"]),
            "oneself": (p["student"], p["student"]),
        }.items():
            with self.subTest(label):
                harness.assert_problem(self.link("PUT", slug, student, parent, tokens["admin"]),
                                       409, "/conflict")
        self.assertEqual(self.pg.psql(
            f"SELECT count(*) FROM core.parent_links WHERE school_id = '{school['id']}'"), "0\n")

    def test_who_may_link(self):
        school, people, tokens = self.make_school_with_people()
        slug, kid, mum = school["slug"], people["student"]["id"], people["parent"]["id"]
        for role in ("teacher", "student", "parent"):
            with self.subTest(role):
                harness.assert_problem(self.link("PUT", slug, kid, mum, tokens[role]), 403)
        harness.assert_problem(self.link("PUT", slug, kid, mum, None), 401)
        self.assertEqual(self.link("PUT", slug, kid, mum, self.op_token).status, 200)
        for role in ("teacher", "student", "parent"):
            with self.subTest(unlink=role):
                harness.assert_problem(self.link("DELETE", slug, kid, mum, tokens[role]), 403)

    def test_other_schools_ids_are_404(self):
        school, people, tokens = self.make_school_with_people()
        other, other_people, _ = self.make_school_with_people()
        slug = school["slug"]
        kid, mum = people["student"]["id"], people["parent"]["id"]
        their_kid, their_mum = other_people["student"]["id"], other_people["parent"]["id"]
        for label, (student, parent) in {
            "their parent": (kid, their_mum),
            "their student": (their_kid, mum),
            "both theirs": (their_kid, their_mum),
            "unknown ids": (ZERO_UUID, mum),
            "not uuids": ("x", "y"),
        }.items():
            with self.subTest(label):
                harness.assert_problem(self.link("PUT", slug, student, parent, tokens["admin"]),
                                       404, "/not-found")
                harness.assert_problem(self.link("PUT", slug, student, parent, self.op_token),
                                       404, "/not-found")
        self.assertEqual(self.pg.psql(
            "SELECT count(*) FROM core.parent_links "
            f"WHERE parent_id IN ('{their_mum}', '{mum}')"), "0\n")
        # linking the other school's own people through this school's path does not work
        harness.assert_problem(self.link("PUT", other["slug"], kid, mum, tokens["admin"]), 404)

    def test_link_takes_no_body(self):
        school, people, tokens = self.make_school_with_people()
        resp = self.host.request(
            "PUT", self.users_path(school["slug"], f"/{people['student']['id']}/parents/"
                                                   f"{people['parent']['id']}"),
            {"relation": "mother"}, token=tokens["admin"])
        harness.assert_problem(resp, 400)


# ------------------------------------------------------------------------------------------
# GDPR: export and erasure
# ------------------------------------------------------------------------------------------


class Gdpr(UsersHost):
    def test_delete_leaves_nothing_of_the_person(self):
        school, people, tokens = self.make_school_with_people()
        slug = school["slug"]
        username, display = f"zed.erasable.{slug}", "Zebediah Erasmus-Quill"
        zed = fixtures.make_user(self.host, tokens["admin"], slug, username,
                                 roles=["teacher", "parent"], display_name=display)
        zid = zed["id"]
        # failed sign-ins with the username (throttle counter, audit entries)
        for _ in range(2):
            harness.assert_problem(self.host.request(
                "POST", "/api/v1/auth/login",
                {"school": slug, "username": username, "password": "wrong-password"}), 401)
        # sessions and a personal access token
        zt = fixtures.login(self.host, username, school=slug)
        fixtures.login(self.host, username, school=slug)
        pat = self.host.request("POST", "/api/v1/auth/tokens", {"name": "zed's laptop"},
                                token=zt)
        self.assertEqual(pat.status, 201, pat)
        # a notice they wrote
        notice = self.host.request("POST", f"/api/v1/schools/{slug}/noticeboard/notices",
                                   {"title": "Sports day", "body": "Bring water"}, token=zt)
        self.assertEqual(notice.status, 201, notice)
        self.assertEqual(notice.json()["author_id"], zid)
        # a parent link (both directions of interest: zed as a parent)
        link = self.host.request(
            "PUT", self.users_path(slug, f"/{people['student']['id']}/parents/{zid}"),
            token=tokens["admin"])
        self.assertEqual(link.status, 200, link)
        # audit entries about and by them
        self.host.request("GET", self.users_path(slug, f"/{zid}/export"), token=zt)
        self.host.request("GET", "/api/v1/me", token=zt)
        self.assertTrue(leftovers(self.pg, [zid, username]), "the set-up left no traces at all")

        resp = self.host.request("DELETE", self.users_path(slug, f"/{zid}"),
                                 token=tokens["admin"])
        self.assertEqual(resp.status, 204, resp)
        self.assertEqual(resp.body, b"")

        left = leftovers(self.pg, [zid, username, display])
        report = "\n".join(f"  {t} contains {n!r}: {rows}" for (t, n), rows in left.items())
        self.assertEqual(left, {}, "after DELETE, the person is still in:\n" + report)

        # what stays: the notice (without author), the student, the audit of the deletion
        got = self.host.request("GET", f"/api/v1/schools/{slug}/noticeboard/notices/"
                                       f"{notice.json()['id']}", token=tokens["admin"])
        self.assertEqual(got.status, 200, got)
        self.assertIsNone(got.json()["author_id"])
        kid = self.host.request("GET", self.users_path(slug, f"/{people['student']['id']}"),
                                token=tokens["admin"]).json()
        self.assertEqual(kid["parents"], [])
        audit = self.host.request("GET", f"/api/v1/schools/{slug}/audit?limit=500",
                                  token=tokens["admin"]).json()["items"]
        self.assertIn("user.deleted", [e["action"] for e in audit])
        # and the person is gone for the API
        harness.assert_problem(self.host.request("GET", self.users_path(slug, f"/{zid}"),
                                                 token=tokens["admin"]), 404)
        for tok in (zt, pat.json()["token"]):
            harness.assert_problem(self.host.request("GET", "/api/v1/me", token=tok), 401)
        harness.assert_problem(self.host.request("DELETE", self.users_path(slug, f"/{zid}"),
                                                 token=tokens["admin"]), 404)
        # the username is free again
        again = fixtures.make_user(self.host, tokens["admin"], slug, username, roles=["staff"])
        self.assertNotEqual(again["id"], zid)

    def test_delete_leaves_nothing_in_any_module(self):
        # The same for a person who used every module of a school that has them all: their
        # home, a file in a class folder, a calendar and an event, a to-do, a room and a
        # visit, mail sent and received, a contact card, a group they own, a notice. Then
        # every table is searched for their id, username and name.
        names = [m["name"] for m in self.host.request("GET", "/api/v1/modules").json()["items"]]
        school, people, tokens = self.make_school_with_people(modules=names)
        slug = school["slug"]
        base = f"/api/v1/schools/{slug}"
        admin = tokens["admin"]
        username, display = f"yara.erasable.{slug}", "Yarrow Erasmus-Quill"
        yid = fixtures.make_user(self.host, admin, slug, username, roles=["teacher"],
                                 display_name=display)["id"]
        yt = fixtures.login(self.host, username, school=slug)
        domain = f"{slug}.example.org"

        def ok(method, path, body=None, token=yt, status=(200, 201, 204)):
            resp = self.host.request(method, base + path, body, token=token)
            self.assertIn(resp.status, status, (method, path, resp))
            return resp.json() if resp.body and resp.content_type.endswith("json") else None

        ok("PUT", "/mail/settings", {"domain": domain}, token=admin)
        group = ok("POST", "/groups", {"name": "Class 7y", "type": "class"})["id"]
        ok("PUT", f"/groups/{group}/members/{people['student']['id']}", {"role": "member"})
        ok("PUT", "/files/home/notes.txt", b"notes")
        ok("PUT", f"/files/groups/{group}/worksheet.txt", b"worksheet")
        cal = ok("POST", "/calendar/calendars",
                 {"name": "Lessons", "owner": {"type": "user"}})["id"]
        ok("POST", f"/calendar/calendars/{cal}/events",
           {"summary": "Lesson", "start": "2026-12-08T08:00:00Z",
            "end": "2026-12-08T08:45:00Z"})
        ok("POST", f"/calendar/calendars/{cal}/todos", {"summary": "Marking"})
        room = ok("POST", "/conference/rooms", {"name": "Room 7y"})["id"]
        ok("POST", "/mail/messages", {"to": [f"{people['student']['username']}@{domain}"],
                                      "subject": "Homework", "text": "Read"})
        self.host.request("POST", base + "/mail/messages",
                          {"to": [f"{username}@{domain}"], "subject": "To you", "text": "Hi"},
                          token=tokens["teacher"])
        ok("POST", "/mail/drafts", {"subject": "Draft", "text": "..."})
        ok("POST", "/noticeboard/notices", {"title": "Notice", "body": "Hello"})
        ok("POST", f"/conference/rooms/{room}/join", status=(200, 503))
        self.assertTrue(leftovers(self.pg, [yid]), "the set-up left no traces at all")

        resp = self.host.request("DELETE", self.users_path(slug, f"/{yid}"), token=admin)
        self.assertEqual(resp.status, 204, resp)
        left = leftovers(self.pg, [yid, username, display])
        # What stays is the mail they sent, in the mailbox of the pupil who received it (its
        # From: names them): the pupil's, like a letter received.
        sent = [row for row in left.pop(("mail.messages", username), [])
                if "stu-" in row and "Homework" in row]
        self.assertEqual(len(sent), 1, sent)
        left.pop(("mail.messages", display), None)
        report = "\n".join(f"  {t} contains {n!r}: {rows[:3]}" for (t, n), rows in left.items())
        self.assertEqual(left, {}, "after DELETE, the person is still in:\n" + report)

    def test_deleting_oneself_leaves_nothing_either(self):
        # An admin who erases their own account is the actor of the erasure: the audit entry
        # of the deletion must not name them.
        school, _, tokens = self.make_school_with_people()
        slug = school["slug"]
        username = f"self.eraser.{slug}"
        me = fixtures.make_user(self.host, tokens["admin"], slug, username, roles=["admin"],
                                display_name="Selma Selbstlösch")
        tok = fixtures.login(self.host, username, school=slug)
        resp = self.host.request("DELETE", self.users_path(slug, f"/{me['id']}"), token=tok)
        self.assertEqual(resp.status, 204, resp)
        harness.assert_problem(self.host.request("GET", "/api/v1/me", token=tok), 401)
        left = leftovers(self.pg, [me["id"], username, "Selma Selbstlösch"])
        report = "\n".join(f"  {t} contains {n!r}: {rows}" for (t, n), rows in left.items())
        self.assertEqual(left, {}, "after deleting oneself, the person is still in:\n" + report)

    def test_delete_failures(self):
        school, people, tokens = self.make_school_with_people()
        slug = school["slug"]
        other, other_people, _ = self.make_school_with_people()
        for role in ("teacher", "student", "parent"):
            with self.subTest(role):
                harness.assert_problem(self.host.request(
                    "DELETE", self.users_path(slug, f"/{people['student']['id']}"),
                    token=tokens[role]), 403, "/forbidden")
        harness.assert_problem(self.host.request(
            "DELETE", self.users_path(slug, f"/{people['student']['id']}")), 401)
        for bad in (ZERO_UUID, "not-a-uuid", other_people["student"]["id"]):
            with self.subTest(missing=bad):
                harness.assert_problem(self.host.request(
                    "DELETE", self.users_path(slug, f"/{bad}"), token=tokens["admin"]), 404)
        self.assertEqual(self.pg.psql(
            f"SELECT count(*) FROM core.users WHERE id IN ('{people['student']['id']}', "
            f"'{other_people['student']['id']}')"), "2\n")

    def test_export_of_oneself(self):
        school, people, tokens = self.make_school_with_people()
        slug, teacher = school["slug"], people["teacher"]
        notice = self.host.request("POST", f"/api/v1/schools/{slug}/noticeboard/notices",
                                   {"title": "Mine", "body": "text"}, token=tokens["teacher"])
        self.assertEqual(notice.status, 201, notice)
        resp = self.host.request("GET", self.users_path(slug, f"/{teacher['id']}/export"),
                                 token=tokens["teacher"])
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.content_type, "application/json")
        out = resp.json()
        core = out["core"]
        self.assertEqual(core["user"]["id"], teacher["id"])
        self.assertEqual(core["user"]["username"], teacher["username"])
        self.assertNotIn("password_hash", json.dumps(out))
        self.assertGreaterEqual(len(core["sessions"]), 1)
        for s in core["sessions"]:
            self.assertNotIn("token_hash", s)
        self.assertIn("auth.login", [e["action"] for e in core["audit"]])
        self.assertIn("noticeboard", out)
        self.assertEqual([n["id"] for n in out["noticeboard"]["notices"]],
                         [notice.json()["id"]])
        self.assertIn("exported_at", out)

    def test_export_by_permission(self):
        school, people, tokens = self.make_school_with_people()
        slug, student = school["slug"], people["student"]
        resp = self.host.request("GET", self.users_path(slug, f"/{student['id']}/export"),
                                 token=tokens["admin"])
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json()["core"]["user"]["id"], student["id"])
        resp = self.host.request("GET", self.users_path(slug, f"/{student['id']}/export"),
                                 token=self.op_token)
        self.assertEqual(resp.status, 200, resp)

    def test_export_of_someone_else_without_permission(self):
        school, people, tokens = self.make_school_with_people()
        slug = school["slug"]
        for role, victim in (("teacher", "student"), ("student", "teacher"),
                             ("parent", "student"), ("teacher", "admin")):
            with self.subTest(reader=role, of=victim):
                harness.assert_problem(self.host.request(
                    "GET", self.users_path(slug, f"/{people[victim]['id']}/export"),
                    token=tokens[role]), 403, "/forbidden")
        harness.assert_problem(self.host.request(
            "GET", self.users_path(slug, f"/{people['student']['id']}/export")), 401)
        for bad in (ZERO_UUID, "not-a-uuid"):
            with self.subTest(missing=bad):
                harness.assert_problem(self.host.request(
                    "GET", self.users_path(slug, f"/{bad}/export"), token=tokens["admin"]), 404)


if __name__ == "__main__":
    harness.main()
