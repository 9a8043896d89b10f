# SPDX-License-Identifier: Apache-2.0
"""test_schools_modules.py - schools (tenants) and the modules each school enables.

Schools: operators create them (slug rules, duplicates), list them (operators see all, a
school's people only their own), read, rename (operators and the school's admins) and delete
them (operators only; the school's people and sessions go with it). Modules: the list with
enabled flags, enabling (201, then 200), disabling (204), unknown modules (404), who may
change them, and that every route of a module answers 404 in a school that has not enabled
it (the routes are taken from the OpenAPI document, so new noticeboard routes are covered
without editing this file). A module whose dependency is not enabled is refused with 409 when
a fixture plugin with a satisfiable dependency exists in build/tests/fixtures.
"""

import glob
import itertools
import json
import os
import re
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402

JSON = {"Content-Type": "application/json"}
ZERO_UUID = fixtures.ZERO_UUID
_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


def module_requests(host: harness.Atriumd, module: str, slug: str):
    """(method, path, body) for every route of `module` under /api/v1/schools/{school}/."""
    doc = host.request("GET", "/api/v1/openapi.json").json()
    prefix = f"/api/v1/schools/{{school}}/{module}"
    out = []
    for template, ops in sorted(doc["paths"].items()):
        if not (template == prefix or template.startswith(prefix + "/")):
            continue
        path = template.replace("{school}", slug)
        path = re.sub(r"\{[^}]+\}", ZERO_UUID, path)
        for method, op in sorted(ops.items()):
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            body = None
            rb = op.get("requestBody")
            if rb:
                schema = rb.get("content", {}).get("application/json", {}).get("schema")
                body = fixtures.sample_body(schema) if schema else b"x"
            out.append((method.upper(), path, body))
    return out


class Schools(fixtures.SharedHost):
    def school(self, prefix="s", modules=()):
        slug = unique(prefix)
        return fixtures.make_school(self.host, self.op_token, slug, modules=modules)

    def people(self, slug):
        """An admin, a teacher and a student in `slug`: {role: token}."""
        out = {}
        for role in ("admin", "teacher", "student"):
            name = unique(role[:3])
            fixtures.make_user(self.host, self.op_token, slug, name, roles=[role])
            out[role] = fixtures.login(self.host, name, school=slug)
        return out

    def test_create(self):
        resp = self.host.request("POST", "/api/v1/schools",
                                 {"slug": "create-me", "name": "Gymnasium am Park"},
                                 token=self.op_token)
        self.assertEqual(resp.status, 201, resp)
        body = resp.json()
        self.assertEqual(body["slug"], "create-me")
        self.assertEqual(body["name"], "Gymnasium am Park")
        self.assertRegex(body["id"], r"^[0-9a-f-]{36}$")
        for key in ("created_at", "updated_at"):
            self.assertIn(key, body)
        got = self.host.request("GET", "/api/v1/schools/create-me", token=self.op_token)
        self.assertEqual(got.status, 200, got)
        self.assertEqual(got.json()["id"], body["id"])

    def test_slug_rules(self):
        good = ["ab", "a" * 63, "0-9", "with-dashes-1"]
        bad = ["North", "a", "a" * 64, "snake_case", "", "has space", "dot.ted", "ümlaut",
               "semi;colon"]
        for slug in good:
            with self.subTest(good=slug):
                resp = self.host.request("POST", "/api/v1/schools", {"slug": slug, "name": "N"},
                                         token=self.op_token)
                self.assertEqual(resp.status, 201, resp)
        for slug in bad:
            with self.subTest(bad=slug):
                harness.assert_problem(
                    self.host.request("POST", "/api/v1/schools", {"slug": slug, "name": "N"},
                                      token=self.op_token), 400, "/invalid-request")
        listed = {s["slug"] for s in self.all_schools(self.op_token)}
        self.assertFalse(listed & set(bad), "a refused slug was stored")

    def test_create_failures(self):
        op = self.op_token
        first = self.host.request("POST", "/api/v1/schools", {"slug": "dup-school", "name": "One"},
                                  token=op)
        self.assertEqual(first.status, 201, first)
        harness.assert_problem(self.host.request(
            "POST", "/api/v1/schools", {"slug": "dup-school", "name": "Two"}, token=op), 409,
            "/conflict")
        cases = {
            "no name": {"slug": "no-name"},
            "no slug": {"name": "No slug"},
            "empty name": {"slug": "empty-name", "name": ""},
            "long name": {"slug": "long-name", "name": "n" * 201},
            "slug not a string": {"slug": 42, "name": "N"},
            "name not a string": {"slug": "name-type", "name": ["N"]},
            "unknown field": {"slug": "extra-field", "name": "N", "modules": ["noticeboard"]},
            "not an object": ["extra-field"],
        }
        for label, body in cases.items():
            with self.subTest(label):
                harness.assert_problem(self.host.request("POST", "/api/v1/schools", body,
                                                         token=op), 400, "/invalid-request")
        harness.assert_problem(self.host.request("POST", "/api/v1/schools", b'{"slug": "x',
                                                 headers=JSON, token=op), 400)
        harness.assert_problem(self.host.request(
            "POST", "/api/v1/schools", json.dumps({"slug": "wrong-type", "name": "N"}),
            headers={"Content-Type": "text/plain"}, token=op), 415)
        harness.assert_problem(self.host.request(
            "POST", "/api/v1/schools", {"slug": "no-auth", "name": "N"}), 401)
        listed = {s["slug"] for s in self.all_schools(op)}
        for slug in ("no-auth", "wrong-type", "extra-field", "name-type", "empty-name"):
            self.assertNotIn(slug, listed)

    def test_only_operators_create(self):
        home = self.school("home")
        for role, tok in self.people(home["slug"]).items():
            with self.subTest(role):
                harness.assert_problem(self.host.request(
                    "POST", "/api/v1/schools", {"slug": f"by-{role}", "name": "N"}, token=tok),
                    403, "/forbidden")
        listed = {s["slug"] for s in self.all_schools(self.op_token)}
        self.assertFalse({"by-admin", "by-teacher", "by-student"} & listed)

    def all_schools(self, tok, limit=2):
        """Walk GET /api/v1/schools page by page; every school exactly once."""
        seen, cursor = [], None
        for _ in range(1000):
            path = f"/api/v1/schools?limit={limit}"
            if cursor:
                path += "&cursor=" + urllib.parse.quote(cursor, safe="")
            resp = self.host.request("GET", path, token=tok)
            self.assertEqual(resp.status, 200, resp)
            page = resp.json()
            self.assertLessEqual(len(page["items"]), limit)
            seen.extend(page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                break
        ids = [s["id"] for s in seen]
        self.assertEqual(len(ids), len(set(ids)), "a school was listed twice")
        return seen

    def test_list(self):
        mine = self.school("listed")
        other = self.school("listed")
        everyone = self.all_schools(self.op_token)
        slugs = [s["slug"] for s in everyone]
        self.assertIn(mine["slug"], slugs)
        self.assertIn(other["slug"], slugs)
        self.assertEqual(slugs, sorted(slugs))
        self.assertEqual(
            len(everyone),
            int(self.pg.psql("SELECT count(*) FROM core.schools")), "operator does not see all")
        for role, tok in self.people(mine["slug"]).items():
            with self.subTest(role):
                own = self.all_schools(tok)
                self.assertEqual([s["slug"] for s in own], [mine["slug"]])
        harness.assert_problem(self.host.request("GET", "/api/v1/schools"), 401)
        harness.assert_problem(self.host.request("GET", "/api/v1/schools?limit=0",
                                                 token=self.op_token), 400)
        harness.assert_problem(self.host.request("GET", "/api/v1/schools?cursor=bogus",
                                                 token=self.op_token), 400)

    def test_get_one(self):
        mine, other = self.school("get"), self.school("get")
        tokens = self.people(mine["slug"])
        for role, tok in tokens.items():
            with self.subTest(role):
                resp = self.host.request("GET", f"/api/v1/schools/{mine['slug']}", token=tok)
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(resp.json()["id"], mine["id"])
                harness.assert_problem(self.host.request(
                    "GET", f"/api/v1/schools/{other['slug']}", token=tok), 404, "/not-found")
        harness.assert_problem(self.host.request("GET", "/api/v1/schools/no-such-school",
                                                 token=self.op_token), 404)
        harness.assert_problem(self.host.request("GET", f"/api/v1/schools/{mine['slug']}"), 401)

    def test_rename(self):
        school, other = self.school("rename"), self.school("rename")
        tokens = self.people(school["slug"])
        path = f"/api/v1/schools/{school['slug']}"
        resp = self.host.request("PATCH", path, {"name": "Neuer Name"}, token=tokens["admin"])
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json()["name"], "Neuer Name")
        self.assertEqual(resp.json()["slug"], school["slug"])
        for role in ("teacher", "student"):
            with self.subTest(role):
                harness.assert_problem(self.host.request("PATCH", path, {"name": "Mine now"},
                                                         token=tokens[role]), 403, "/forbidden")
        # another school's admin does not even see it
        other_admin = self.people(other["slug"])["admin"]
        harness.assert_problem(self.host.request("PATCH", path, {"name": "Taken over"},
                                                 token=other_admin), 404)
        resp = self.host.request("PATCH", path, {"name": "Operator's choice"}, token=self.op_token)
        self.assertEqual(resp.status, 200, resp)
        for label, body in {"empty": {"name": ""}, "long": {"name": "n" * 201},
                            "type": {"name": 1}, "slug is not patchable": {"slug": "new-slug"},
                            "unknown": {"motto": "x"}}.items():
            with self.subTest(label):
                harness.assert_problem(self.host.request("PATCH", path, body,
                                                         token=tokens["admin"]), 400)
        harness.assert_problem(self.host.request("PATCH", path, b"{", headers=JSON,
                                                 token=tokens["admin"]), 400)
        harness.assert_problem(self.host.request("PATCH", path, {"name": "x"}), 401)
        got = self.host.request("GET", path, token=tokens["student"]).json()
        self.assertEqual(got["name"], "Operator's choice")
        self.assertEqual(got["slug"], school["slug"])
        # an unchanged request body changes nothing but is fine
        self.assertEqual(self.host.request("PATCH", path, {}, token=tokens["admin"]).status, 200)

    def test_delete(self):
        school = self.school("doomed", modules=["noticeboard"])
        tokens = self.people(school["slug"])
        path = f"/api/v1/schools/{school['slug']}"
        notice = self.host.request("POST", path + "/noticeboard/notices",
                                   {"title": "Bye", "body": "b"}, token=tokens["teacher"])
        self.assertEqual(notice.status, 201, notice)
        for role, tok in tokens.items():
            with self.subTest(role):
                harness.assert_problem(self.host.request("DELETE", path, token=tok), 403,
                                       "/forbidden")
        harness.assert_problem(self.host.request("DELETE", path), 401)
        resp = self.host.request("DELETE", path, token=self.op_token)
        self.assertEqual(resp.status, 204, resp)
        harness.assert_problem(self.host.request("GET", path, token=self.op_token), 404)
        harness.assert_problem(self.host.request("DELETE", path, token=self.op_token), 404)
        # its people and their sessions went with it
        for tok in tokens.values():
            harness.assert_problem(self.host.request("GET", "/api/v1/me", token=tok), 401)
        for table in ("core.users", "core.sessions", "core.school_modules",
                      "noticeboard.notices"):
            with self.subTest(table=table):
                self.assertEqual(self.pg.psql(
                    f"SELECT count(*) FROM {table} WHERE school_id = '{school['id']}'"), "0\n")
        # the slug is free again
        again = self.host.request("POST", "/api/v1/schools",
                                  {"slug": school["slug"], "name": "Reborn"}, token=self.op_token)
        self.assertEqual(again.status, 201, again)
        self.assertNotEqual(again.json()["id"], school["id"])

    def test_audit_of_school_changes(self):
        school = self.school("audited")
        self.host.request("PATCH", f"/api/v1/schools/{school['slug']}", {"name": "Renamed"},
                          token=self.op_token)
        resp = self.host.request("GET", "/api/v1/audit?limit=500", token=self.op_token)
        self.assertEqual(resp.status, 200, resp)
        actions = {(e["action"], e["target"]) for e in resp.json()["items"]}
        self.assertIn(("school.created", school["id"]), actions)
        self.assertIn(("school.updated", school["id"]), actions)


class Modules(fixtures.SharedHost):
    def setup_school(self, modules=()):
        slug = unique("mod")
        fixtures.make_school(self.host, self.op_token, slug, modules=modules)
        tokens = {}
        for role in ("admin", "teacher", "student"):
            name = unique(role[:3])
            fixtures.make_user(self.host, self.op_token, slug, name, roles=[role])
            tokens[role] = fixtures.login(self.host, name, school=slug)
        return slug, tokens

    def modules(self, slug, tok):
        resp = self.host.request("GET", f"/api/v1/schools/{slug}/modules", token=tok)
        self.assertEqual(resp.status, 200, resp)
        return {m["name"]: m for m in resp.json()["items"]}

    def test_list_with_enabled_flags(self):
        slug, tokens = self.setup_school()
        for role, tok in tokens.items():
            with self.subTest(role):
                mods = self.modules(slug, tok)
                self.assertIn("noticeboard", mods)
                self.assertIs(mods["noticeboard"]["enabled"], False)
                for m in mods.values():
                    self.assertIsInstance(m["version"], str)
                    self.assertIsInstance(m["dependencies"], list)
        fixtures.enable_module(self.host, tokens["admin"], slug, "noticeboard")
        self.assertIs(self.modules(slug, tokens["student"])["noticeboard"]["enabled"], True)
        harness.assert_problem(self.host.request("GET", f"/api/v1/schools/{slug}/modules"), 401)

    def test_enable_disable_cycle(self):
        slug, tokens = self.setup_school()
        path = f"/api/v1/schools/{slug}/modules/noticeboard"
        resp = self.host.request("PUT", path, token=tokens["admin"])
        self.assertEqual(resp.status, 201, resp)
        self.assertEqual(resp.json(), {"name": "noticeboard", "enabled": True})
        resp = self.host.request("PUT", path, token=tokens["admin"])
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json(), {"name": "noticeboard", "enabled": True})
        self.assertEqual(self.pg.psql(
            "SELECT count(*) FROM core.school_modules m JOIN core.schools s ON s.id = m.school_id "
            f"WHERE s.slug = '{slug}'"), "1\n")
        notices = f"/api/v1/schools/{slug}/noticeboard/notices"
        self.assertEqual(self.host.request("GET", notices, token=tokens["student"]).status, 200)

        resp = self.host.request("DELETE", path, token=tokens["admin"])
        self.assertEqual(resp.status, 204, resp)
        self.assertEqual(resp.body, b"")
        harness.assert_problem(self.host.request("GET", notices, token=tokens["student"]), 404)
        harness.assert_problem(self.host.request("DELETE", path, token=tokens["admin"]), 404,
                               "/not-found")
        self.assertIs(self.modules(slug, tokens["admin"])["noticeboard"]["enabled"], False)

        # operators may too
        self.assertEqual(self.host.request("PUT", path, token=self.op_token).status, 201)
        self.assertEqual(self.host.request("DELETE", path, token=self.op_token).status, 204)

    def test_enabling_and_disabling_at_once(self):
        # The same PUT eight times at once is enabled once (one 201, one audit entry) and
        # "already enabled" for the rest, never a conflict; the same DELETE is done once and
        # "not enabled" for the rest.
        slug, tokens = self.setup_school()
        path = f"/api/v1/schools/{slug}/modules/noticeboard"
        statuses = sorted(r.status for r in fixtures.at_once(
            8, lambda: self.host.request("PUT", path, token=tokens["admin"])))
        self.assertEqual(statuses, [200] * 7 + [201], statuses)
        answers = fixtures.at_once(
            8, lambda: self.host.request("DELETE", path, token=tokens["admin"]))
        self.assertEqual(sorted(r.status for r in answers), [204] + [404] * 7)
        for resp in answers:
            if resp.status == 404:
                harness.assert_problem(resp, 404, "/not-found")
        audit = self.pg.psql(
            "SELECT action, count(*) FROM core.audit_log a JOIN core.schools s "
            f"ON s.id = a.school_id WHERE s.slug = '{slug}' AND action LIKE 'module.%' "
            "GROUP BY 1 ORDER BY 1")
        self.assertEqual(audit, "module.disabled|1\nmodule.enabled|1\n")

    def test_who_may_change_modules(self):
        slug, tokens = self.setup_school()
        path = f"/api/v1/schools/{slug}/modules/noticeboard"
        for role in ("teacher", "student"):
            with self.subTest(role):
                harness.assert_problem(self.host.request("PUT", path, token=tokens[role]), 403,
                                       "/forbidden")
        harness.assert_problem(self.host.request("PUT", path), 401)
        self.assertIs(self.modules(slug, tokens["admin"])["noticeboard"]["enabled"], False)
        fixtures.enable_module(self.host, tokens["admin"], slug, "noticeboard")
        for role in ("teacher", "student"):
            with self.subTest(role):
                harness.assert_problem(self.host.request("DELETE", path, token=tokens[role]),
                                       403, "/forbidden")
        harness.assert_problem(self.host.request("DELETE", path), 401)
        self.assertIs(self.modules(slug, tokens["admin"])["noticeboard"]["enabled"], True)

    def test_unknown_module(self):
        slug, tokens = self.setup_school()
        for name in ("no-such-module", "core", "NOTICEBOARD"):
            with self.subTest(name):
                harness.assert_problem(self.host.request(
                    "PUT", f"/api/v1/schools/{slug}/modules/{name}", token=tokens["admin"]), 404,
                    "/not-found")
                harness.assert_problem(self.host.request(
                    "DELETE", f"/api/v1/schools/{slug}/modules/{name}", token=tokens["admin"]),
                    404)
        harness.assert_problem(self.host.request(
            "PUT", "/api/v1/schools/no-such-school/modules/noticeboard", token=self.op_token), 404)
        self.assertEqual(self.pg.psql(
            "SELECT count(*) FROM core.school_modules m JOIN core.schools s ON s.id = m.school_id "
            f"WHERE s.slug = '{slug}'"), "0\n")

    def test_module_routes_take_no_body(self):
        slug, tokens = self.setup_school()
        harness.assert_problem(self.host.request(
            "PUT", f"/api/v1/schools/{slug}/modules/noticeboard", {"enabled": True},
            token=tokens["admin"]), 400)

    def test_every_noticeboard_route_is_404_until_enabled(self):
        slug, tokens = self.setup_school()
        requests = module_requests(self.host, "noticeboard", slug)
        methods = {m for m, _, _ in requests}
        self.assertTrue({"GET", "POST", "DELETE"} <= methods, requests)

        def check_all_404(label):
            for method, path, body in requests:
                for who in ("admin", "teacher", "student", "operator"):
                    tok = self.op_token if who == "operator" else tokens[who]
                    with self.subTest(label, method=method, path=path, who=who):
                        resp = self.host.request(method, path, body, token=tok)
                        problem = harness.assert_problem(resp, 404, "/not-found")
                        self.assertNotIn("noticeboard.post", json.dumps(problem))

        check_all_404("before enabling")
        self.assertEqual(self.pg.psql(
            "SELECT count(*) FROM noticeboard.notices n JOIN core.schools s ON s.id = n.school_id "
            f"WHERE s.slug = '{slug}'"), "0\n", "a request to a disabled module wrote data")

        fixtures.enable_module(self.host, tokens["admin"], slug, "noticeboard")
        listed = self.host.request("GET", f"/api/v1/schools/{slug}/noticeboard/notices",
                                   token=tokens["student"])
        self.assertEqual(listed.status, 200, listed)
        posted = self.host.request("POST", f"/api/v1/schools/{slug}/noticeboard/notices",
                                   {"title": "Now", "body": "on"}, token=tokens["teacher"])
        self.assertEqual(posted.status, 201, posted)

        resp = self.host.request("DELETE", f"/api/v1/schools/{slug}/modules/noticeboard",
                                 token=tokens["admin"])
        self.assertEqual(resp.status, 204, resp)
        check_all_404("after disabling")

    def test_audit_of_module_changes(self):
        slug, tokens = self.setup_school()
        fixtures.enable_module(self.host, tokens["admin"], slug, "noticeboard")
        fixtures.enable_module(self.host, tokens["admin"], slug, "noticeboard")  # no-op
        self.host.request("DELETE", f"/api/v1/schools/{slug}/modules/noticeboard",
                          token=tokens["admin"])
        resp = self.host.request("GET", f"/api/v1/schools/{slug}/audit?limit=500",
                                 token=tokens["admin"])
        self.assertEqual(resp.status, 200, resp)
        actions = [e["action"] for e in resp.json()["items"]
                   if e["action"].startswith("module.")]
        self.assertEqual(actions, ["module.disabled", "module.enabled"])


# ------------------------------------------------------------------------------------------
# Dependencies between modules (needs a fixture plugin that depends on another)
# ------------------------------------------------------------------------------------------

# Fixture cases whose dependencies are broken on purpose (tests/fixtures/meson.build): in
# none of them does a plugin with a dependency run.
BROKEN_DEPENDENCY_CASES = {"missing-dep", "old-dep", "cycle", "dependent-of-failed"}


def fixtures_dir() -> str:
    return os.environ.get("ATRIUM_FIXTURES_DIR") or os.path.join(
        os.environ.get("ATRIUM_BUILD_DIR", "build"), "tests", "fixtures")


def plugin_dependencies(binary: str, so: str) -> list[str]:
    proc = subprocess.run([binary, "check-plugin", so], capture_output=True, text=True,
                          timeout=60)
    m = re.search(r"^dependencies:\s*(.*)$", proc.stdout, re.M)
    if proc.returncode != 0 or not m or m.group(1).strip() == "none":
        return []
    return [d.split(">=")[0] for d in m.group(1).split()]


def dependency_case() -> str | None:
    """A fixture folder in which some plugin depends on another one in the same folder."""
    binary = os.environ.get("ATRIUM_BIN") or os.path.join(
        os.environ.get("ATRIUM_BUILD_DIR", "build"), "core", "atriumd")
    for case in sorted(glob.glob(os.path.join(fixtures_dir(), "*"))):
        if os.path.basename(case) in BROKEN_DEPENDENCY_CASES or not os.path.isdir(case):
            continue
        sos = glob.glob(os.path.join(case, "*.so"))
        if len(sos) >= 2 and any(plugin_dependencies(binary, so) for so in sos):
            return case
    return None


class ModuleDependencies(harness.TestCase):
    def test_enabling_before_the_dependency_is_409(self):
        case = dependency_case()
        if case is None:
            self.skipTest(f"no fixture plugin with a satisfiable dependency in {fixtures_dir()}")
        with harness.PgCluster() as pg, harness.Atriumd(pg, plugin_dir=case) as host:
            op = fixtures.make_operator(host)
            fixtures.make_school(host, op, "deps")
            mods = host.request("GET", "/api/v1/schools/deps/modules", token=op).json()["items"]
            needy = [m for m in mods if m["dependencies"]
                     and all(d in {x["name"] for x in mods} for d in m["dependencies"])]
            if not needy:
                self.skipTest(f"{case}: no running plugin with running dependencies")
            m = needy[0]
            harness.assert_problem(host.request(
                "PUT", f"/api/v1/schools/deps/modules/{m['name']}", token=op), 409, "/conflict")
            for dep in m["dependencies"]:
                fixtures.enable_module(host, op, "deps", dep)
            self.assertEqual(host.request(
                "PUT", f"/api/v1/schools/deps/modules/{m['name']}", token=op).status, 201)
            # and the dependency cannot go while its dependent is enabled
            harness.assert_problem(host.request(
                "DELETE", f"/api/v1/schools/deps/modules/{m['dependencies'][0]}", token=op), 409)


if __name__ == "__main__":
    harness.main()
