# SPDX-License-Identifier: Apache-2.0
"""test_isolation.py - one school never sees or touches another's data.

Two schools with people and notices. Through the API: a token of school A on any of school
B's routes (every route with {school} in the OpenAPI document, so plugin routes added later
are covered too) is a 404 indistinguishable from a school that does not exist, and changes
nothing of B; B's ids on A's own paths are 404 as well. In the database, checked as the
superuser: the noticeboard's list query has no `WHERE school_id` and still shows one school
only, because the request role `atrium_request` is subject to row-level security (with no
school set it sees nothing); every table in every schema that has a school_id column has
row-level security enabled AND forced and at least one policy; the request role is not a
superuser, has no BYPASSRLS, cannot log in, owns nothing, and cannot read password hashes,
operators, throttling state, or write the audit log.
"""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402

ROLE = "atrium_request"
ZERO_UUID = fixtures.ZERO_UUID
CSV = "Vorname;Nachname;Rolle\r\nIn;Truder;Admin\r\n".encode("utf-8")


# Bodies that pass validation, for the routes whose bodies we know (method, template).
KNOWN_BODIES = {
    ("POST", "/api/v1/schools/{school}/users"):
        {"username": "intruder", "display_name": "Intruder", "roles": ["admin"],
         "password": "intruder-password"},
    ("PATCH", "/api/v1/schools/{school}"): {"name": "Owned"},
    ("PATCH", "/api/v1/schools/{school}/users/{id}"): {"display_name": "Owned",
                                                       "roles": ["admin"]},
    ("PUT", "/api/v1/schools/{school}/roles/{role}/permissions"): {"permissions": []},
    ("POST", "/api/v1/schools/{school}/noticeboard/notices"): {"title": "Owned", "body": "x"},
    ("POST", "/api/v1/schools/{school}/users/import"): CSV,
}


def psql_error(pg: harness.PgCluster, sql: str) -> str:
    """Run sql expecting it to fail; return psql's error text ('' if it succeeded)."""
    try:
        pg.psql(sql)
    except harness.HarnessError as exc:
        return str(exc)
    return ""


class TwoSchools(fixtures.SharedHost):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.schools, cls.people, cls.tokens, cls.notices = {}, {}, {}, {}
            for key in ("a", "b"):
                slug = f"iso-{key}"
                cls.schools[key] = fixtures.make_school(cls.host, cls.op_token, slug,
                                                        modules=["noticeboard"])
                cls.people[key], cls.tokens[key] = {}, {}
                for role in ("admin", "teacher", "student", "parent"):
                    name = f"{key}.{role}"
                    cls.people[key][role] = fixtures.make_user(cls.host, cls.op_token, slug,
                                                               name, roles=[role])
                    cls.tokens[key][role] = fixtures.login(cls.host, name, school=slug)
                fixtures.check(cls.host.request(
                    "PUT", f"/api/v1/schools/{slug}/users/{cls.people[key]['student']['id']}"
                           f"/parents/{cls.people[key]['parent']['id']}",
                    token=cls.tokens[key]["admin"]), 200, what="parent link")
                cls.notices[key] = []
                for i in range(2 if key == "a" else 3):
                    resp = fixtures.check(cls.host.request(
                        "POST", f"/api/v1/schools/{slug}/noticeboard/notices",
                        {"title": f"{key} notice {i}", "body": f"only for {key}"},
                        token=cls.tokens[key]["teacher"]), 201, what="notice")
                    cls.notices[key].append(resp.json()["id"])
        except BaseException:
            cls._stop_shared()
            raise

    # -- helpers -----------------------------------------------------------------------------

    def school_tables(self) -> list[str]:
        """Every ordinary table, in every non-system schema, that has a school_id column."""
        return self.pg.psql(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'school_id' "
            "AND NOT a.attisdropped "
            "WHERE c.relkind IN ('r', 'p') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1").split()

    def snapshot(self, key: str) -> dict:
        """Everything stored for school `key`, as the superuser sees it."""
        sid = self.schools[key]["id"]
        out = {"core.schools": self.pg.psql(
            f"SELECT s::text FROM core.schools s WHERE id = '{sid}'")}
        for table in self.school_tables():
            out[table] = self.pg.psql(
                f"SELECT t::text FROM {table} t WHERE school_id = '{sid}' ORDER BY 1")
        return out

    def school_requests(self, slug: str, key: str):
        """(method, template, path, body, known) for every route with {school}."""
        doc = self.host.request("GET", "/api/v1/openapi.json").json()
        people, notices = self.people[key], self.notices[key]
        out = []
        for template, ops in sorted(doc["paths"].items()):
            if "{school}" not in template:
                continue
            path = template.replace("{school}", slug)
            if "/notices/{id}" in path:
                path = path.replace("{id}", notices[0])
            path = path.replace("{parent_id}", people["parent"]["id"])
            path = path.replace("{id}", people["student"]["id"])
            path = path.replace("{module}", "noticeboard").replace("{role}", "teacher")
            path = re.sub(r"\{[^}]+\}", people["student"]["id"], path)
            for method, op in sorted(ops.items()):
                method = method.upper()
                if method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                    continue
                known = (method, template) in KNOWN_BODIES
                body = KNOWN_BODIES.get((method, template))
                if body is None and op.get("requestBody"):
                    schema = op["requestBody"].get("content", {}).get(
                        "application/json", {}).get("schema")
                    body = fixtures.sample_body(schema) if schema else b"x"
                    known = False
                elif body is None:
                    known = True
                out.append((method, template, path, body, known))
        return out

    # -- through the API ---------------------------------------------------------------------

    def test_other_schools_routes_are_404(self):
        before = self.snapshot("b")
        slug_b = self.schools["b"]["slug"]
        requests = self.school_requests(slug_b, "b")
        ghost = {(m, t): (p, b) for m, t, p, b, _ in self.school_requests("no-such-school", "b")}
        templates = {t for _, t, _, _, _ in requests}
        for needed in ("/api/v1/schools/{school}/users", "/api/v1/schools/{school}/modules",
                       "/api/v1/schools/{school}/audit",
                       "/api/v1/schools/{school}/noticeboard/notices"):
            self.assertIn(needed, templates)
        for method, template, path, body, known in requests:
            if template.startswith("/oidc/"):
                # The OpenID provider's endpoints are every school's public issuer: they take
                # no Atrium token, only a client's credentials or the issuer's own access
                # tokens, and a client, code or token of another school does not exist there
                # (tests/integration/test_oidc_refusals.py).
                continue
            for role in ("admin", "teacher", "student", "parent"):
                with self.subTest(method=method, path=template, caller=f"a.{role}"):
                    resp = self.host.request(method, path, body,
                                             token=self.tokens["a"][role])
                    gpath, gbody = ghost[(method, template)]
                    other = self.host.request(method, gpath, gbody,
                                              token=self.tokens["a"][role])
                    if known or resp.status != 400:
                        problem = harness.assert_problem(resp, 404, "/not-found")
                    else:
                        problem = harness.assert_problem(resp, 400)
                    # indistinguishable from a school that does not exist
                    ghost_problem = harness.assert_problem(other, other.status)
                    self.assertEqual(resp.status, other.status)
                    self.assertEqual(problem.get("detail", "").replace(slug_b, "no-such-school"),
                                     ghost_problem.get("detail", ""))
                    for secret in (self.schools["b"]["id"], "b notice", "only for b"):
                        self.assertNotIn(secret, resp.text)
        self.assertEqual(self.snapshot("b"), before, "a request from school A changed school B")

    def test_other_schools_ids_on_own_paths_are_404(self):
        before = self.snapshot("b")
        a, tok = self.schools["a"]["slug"], self.tokens["a"]["admin"]
        pb, nb = self.people["b"], self.notices["b"]
        cases = [
            ("GET", f"/api/v1/schools/{a}/users/{pb['student']['id']}", None),
            ("GET", f"/api/v1/schools/{a}/users/{pb['student']['id']}/export", None),
            ("PATCH", f"/api/v1/schools/{a}/users/{pb['student']['id']}",
             {"display_name": "Owned"}),
            ("DELETE", f"/api/v1/schools/{a}/users/{pb['student']['id']}", None),
            ("PUT", f"/api/v1/schools/{a}/users/{pb['student']['id']}/parents/"
                    f"{pb['parent']['id']}", None),
            ("DELETE", f"/api/v1/schools/{a}/users/{pb['student']['id']}/parents/"
                       f"{pb['parent']['id']}", None),
            ("GET", f"/api/v1/schools/{a}/noticeboard/notices/{nb[0]}", None),
            ("DELETE", f"/api/v1/schools/{a}/noticeboard/notices/{nb[0]}", None),
        ]
        for method, path, body in cases:
            for caller in (tok, self.op_token):
                with self.subTest(method=method, path=path,
                                  caller="operator" if caller == self.op_token else "a.admin"):
                    harness.assert_problem(self.host.request(method, path, body, token=caller),
                                           404, "/not-found")
        self.assertEqual(self.snapshot("b"), before)
        # B's own people still see their data
        got = self.host.request("GET", f"/api/v1/schools/{self.schools['b']['slug']}/users/"
                                       f"{pb['student']['id']}", token=self.tokens["b"]["admin"])
        self.assertEqual(got.status, 200, got)

    def test_noticeboard_list_shows_only_own_school(self):
        for key in ("a", "b"):
            slug = self.schools[key]["slug"]
            for role in ("admin", "student"):
                with self.subTest(school=key, role=role):
                    resp = self.host.request("GET", f"/api/v1/schools/{slug}/noticeboard/notices"
                                                    "?limit=500", token=self.tokens[key][role])
                    self.assertEqual(resp.status, 200, resp)
                    ids = [n["id"] for n in resp.json()["items"]]
                    self.assertEqual(sorted(ids), sorted(self.notices[key]))
        # the operator, in either school, sees that school's notices only
        for key in ("a", "b"):
            resp = self.host.request(
                "GET", f"/api/v1/schools/{self.schools[key]['slug']}/noticeboard/notices",
                token=self.op_token)
            self.assertEqual(sorted(n["id"] for n in resp.json()["items"]),
                             sorted(self.notices[key]))

    def test_user_list_and_audit_show_only_own_school(self):
        for key in ("a", "b"):
            slug = self.schools[key]["slug"]
            users = self.host.request("GET", f"/api/v1/schools/{slug}/users?limit=500",
                                      token=self.tokens[key]["admin"]).json()["items"]
            self.assertEqual({u["id"] for u in users},
                             {p["id"] for p in self.people[key].values()})
            audit = self.host.request("GET", f"/api/v1/schools/{slug}/audit?limit=500",
                                      token=self.tokens[key]["admin"]).json()["items"]
            self.assertTrue(audit)
            self.assertEqual({e["school_id"] for e in audit}, {self.schools[key]["id"]})

    # -- in the database ---------------------------------------------------------------------

    def as_request_role(self, sql: str, school: str | None = None) -> str:
        setting = (f"SELECT set_config('atrium.school_id', '{school}', false) \\g /dev/null\n"
                   if school else "")
        return self.pg.psql(f"SET ROLE {ROLE};\n{setting}{sql}")

    def test_raw_sql_as_the_request_role(self):
        # The noticeboard's own list query, which has no WHERE school_id.
        query = ("SELECT id FROM noticeboard.notices ORDER BY created_at DESC, id DESC")
        total = int(self.pg.psql("SELECT count(*) FROM noticeboard.notices"))
        self.assertGreaterEqual(total, 5)
        self.assertEqual(self.as_request_role("SELECT count(*) FROM noticeboard.notices"), "0\n",
                         "with no school set the request role must see no notices")
        self.assertEqual(self.as_request_role("SELECT count(*) FROM core.users"), "0\n")
        for key in ("a", "b"):
            with self.subTest(school=key):
                ids = self.as_request_role(query, self.schools[key]["id"]).split()
                self.assertEqual(sorted(ids), sorted(self.notices[key]))
                users = self.as_request_role("SELECT id FROM core.users",
                                             self.schools[key]["id"]).split()
                self.assertEqual(sorted(users),
                                 sorted(p["id"] for p in self.people[key].values()))
        # an unknown school: nothing
        self.assertEqual(self.as_request_role("SELECT count(*) FROM noticeboard.notices",
                                              ZERO_UUID), "0\n")

    def test_request_role_cannot_write_into_another_school(self):
        a, b = self.schools["a"]["id"], self.schools["b"]["id"]
        err = psql_error(self.pg, f"SET ROLE {ROLE};\n"
                                  f"SELECT set_config('atrium.school_id', '{a}', false);\n"
                                  "INSERT INTO noticeboard.notices (school_id, title, body) "
                                  f"VALUES ('{b}', 'smuggled', 'x')")
        self.assertIn("row-level security", err)
        # updates and deletes of the other school's rows find nothing
        out = self.pg.psql(f"SET ROLE {ROLE};\n"
                           f"SELECT set_config('atrium.school_id', '{a}', false) \\g /dev/null\n"
                           "WITH d AS (DELETE FROM noticeboard.notices "
                           f"WHERE school_id = '{b}' RETURNING 1) SELECT count(*) FROM d;\n"
                           "WITH u AS (UPDATE core.users SET display_name = 'Owned' "
                           f"WHERE school_id = '{b}' RETURNING 1) SELECT count(*) FROM u;")
        self.assertEqual(out.split(), ["0", "0"])
        self.assertEqual(self.pg.psql("SELECT count(*) FROM noticeboard.notices "
                                      f"WHERE school_id = '{b}'"), "3\n")

    def test_every_school_table_has_forced_rls_and_a_policy(self):
        tables = self.school_tables()
        for needed in ("core.users", "core.parent_links", "core.sessions", "core.audit_log",
                       "core.school_modules", "core.role_permissions", "noticeboard.notices"):
            self.assertIn(needed, tables)
        for table in tables:
            schema, name = table.split(".", 1)
            with self.subTest(table):
                row = self.pg.psql(
                    "SELECT c.relrowsecurity, c.relforcerowsecurity, "
                    "(SELECT count(*) FROM pg_policies p WHERE p.schemaname = n.nspname "
                    "AND p.tablename = c.relname) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    f"WHERE n.nspname = '{schema}' AND c.relname = '{name}'").strip()
                enabled, forced, policies = row.split("|")
                self.assertEqual(enabled, "t", f"{table}: row-level security is not enabled")
                self.assertEqual(forced, "t", f"{table}: row-level security is not FORCEd")
                self.assertGreaterEqual(int(policies), 1, f"{table}: no policy")

    def test_request_role_has_no_privileges_beyond_its_grants(self):
        row = self.pg.psql("SELECT rolsuper, rolbypassrls, rolcanlogin, rolcreaterole, "
                           f"rolcreatedb FROM pg_roles WHERE rolname = '{ROLE}'").strip()
        self.assertEqual(row, "f|f|f|f|f", f"{ROLE}: super|bypassrls|login|createrole|createdb")
        owned = self.pg.psql(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE c.relowner = '{ROLE}'::regrole "
            "UNION ALL SELECT nspname FROM pg_namespace "
            f"WHERE nspowner = '{ROLE}'::regrole "
            "UNION ALL SELECT proname FROM pg_proc "
            f"WHERE proowner = '{ROLE}'::regrole")
        self.assertEqual(owned, "", f"{ROLE} owns: {owned}")
        # not a member of any role that could lift it (superuser, BYPASSRLS, the owner)
        member_of = self.pg.psql(
            "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
            f"WHERE m.member = '{ROLE}'::regrole")
        self.assertEqual(member_of, "", f"{ROLE} is a member of: {member_of}")

    def test_request_role_cannot_read_secrets(self):
        denied = {
            "password hashes": "SELECT password_hash FROM core.users",
            "whole user rows": "SELECT * FROM core.users",
            "operators": "SELECT * FROM core.operators",
            "operator names": "SELECT username FROM core.operators",
            "throttling": "SELECT * FROM core.login_throttle",
            "audit inserts": "INSERT INTO core.audit_log (actor_kind, action) "
                             "VALUES ('system', 'forged')",
            "audit updates": "UPDATE core.audit_log SET action = 'x'",
            "audit deletes": "DELETE FROM core.audit_log",
            "permission defaults": "DELETE FROM core.permission_defaults",
            "schema changes": "CREATE TABLE core.sneaky (x int)",
            "session tokens of others": "UPDATE core.sessions SET expires_at = now()",
        }
        for label, sql in denied.items():
            with self.subTest(label):
                err = psql_error(self.pg, f"SET ROLE {ROLE};\n{sql}")
                self.assertIn("permission denied", err, f"{label}: {sql!r} was allowed")
        # what it may read: people without their hashes
        out = self.as_request_role("SELECT count(*) FROM core.users WHERE username <> ''",
                                   self.schools["a"]["id"])
        self.assertEqual(out, "4\n")
        # sessions: none visible without a signed-in user
        self.assertEqual(self.as_request_role("SELECT count(*) FROM core.sessions",
                                              self.schools["a"]["id"]), "0\n")


if __name__ == "__main__":
    harness.main()
