# SPDX-License-Identifier: Apache-2.0
"""test_roles_audit.py - which permissions each role has, and the audit log.

Roles: GET /schools/{school}/roles/{role}/permissions shows the defaults the core and the
plugins declare (a teacher may post notices), PUT replaces a role's set for one school (a
teacher without noticeboard.post gets 403 on posting, at once, on the session they already
have; other schools keep the defaults), unknown permissions are 400 and change nothing, and
only holders of roles.manage (admins) and operators may look or change. GET
/api/v1/permissions lists every permission with its owner and default roles. Audit: a school's
log lists sign-in, people created, modules enabled, role changes, imports and token creation,
newest first and paginated (each entry exactly once); teachers get 403; the platform-wide GET
/api/v1/audit is for operators only.
"""

import itertools
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402

JSON = {"Content-Type": "application/json"}
ROLES = ("admin", "teacher", "student", "parent", "staff")
_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


class RolesHost(fixtures.SharedHost):
    def school(self, modules=("noticeboard",)):
        slug = unique("ra")
        school = fixtures.make_school(self.host, self.op_token, slug, modules=modules)
        people, tokens = {}, {}
        for role in ("admin", "teacher", "student"):
            name = unique(role[:3])
            people[role] = fixtures.make_user(self.host, self.op_token, slug, name, roles=[role])
            tokens[role] = fixtures.login(self.host, name, school=slug)
        return school, people, tokens

    def role_path(self, slug, role):
        return f"/api/v1/schools/{slug}/roles/{role}/permissions"

    def get_role(self, slug, role, tok):
        resp = self.host.request("GET", self.role_path(slug, role), token=tok)
        self.assertEqual(resp.status, 200, resp)
        return resp.json()

    def put_role(self, slug, role, perms, tok):
        return self.host.request("PUT", self.role_path(slug, role), {"permissions": perms},
                                 token=tok)


class Roles(RolesHost):
    def test_defaults(self):
        school, _, tokens = self.school()
        slug = school["slug"]
        known = self.host.request("GET", "/api/v1/permissions", token=tokens["admin"]).json()
        defaults = {p["name"]: set(p["default_roles"]) for p in known["items"]}
        for role in ROLES:
            with self.subTest(role):
                body = self.get_role(slug, role, tokens["admin"])
                self.assertEqual(body["role"], role)
                self.assertIs(body["customised"], False)
                self.assertEqual(body["permissions"], sorted(body["permissions"]))
                self.assertEqual(set(body["permissions"]),
                                 {p for p, roles in defaults.items() if role in roles})
        teacher = self.get_role(slug, "teacher", tokens["admin"])["permissions"]
        self.assertIn("noticeboard.post", teacher)
        self.assertIn("users.read", teacher)
        self.assertNotIn("users.manage", teacher)
        # students hold only read permissions by default (e.g. calendar.read): nothing that
        # manages people, roles or modules
        student = self.get_role(slug, "student", tokens["admin"])["permissions"]
        for p in ("users.read", "users.manage", "roles.manage", "modules.manage",
                  "noticeboard.post"):
            self.assertNotIn(p, student)
        admin = self.get_role(slug, "admin", tokens["admin"])["permissions"]
        for p in ("users.manage", "users.export", "modules.manage", "roles.manage",
                  "audit.read", "school.manage", "noticeboard.post"):
            self.assertIn(p, admin)

    def test_permission_catalogue(self):
        _, _, tokens = self.school()
        for tok in (tokens["student"], self.op_token):
            resp = self.host.request("GET", "/api/v1/permissions", token=tok)
            self.assertEqual(resp.status, 200, resp)
            items = {p["name"]: p for p in resp.json()["items"]}
            self.assertEqual(items["noticeboard.post"]["owner"], "noticeboard")
            self.assertEqual(items["noticeboard.post"]["default_roles"], ["admin", "teacher"])
            self.assertEqual(items["users.manage"]["owner"], "core")
            for p in items.values():
                self.assertTrue(p["description"])
        harness.assert_problem(self.host.request("GET", "/api/v1/permissions"), 401)

    def test_taking_noticeboard_post_from_teachers(self):
        school, _, tokens = self.school()
        other, _, other_tokens = self.school()
        slug = school["slug"]
        notices = f"/api/v1/schools/{slug}/noticeboard/notices"
        before = self.host.request("POST", notices, {"title": "Allowed", "body": "x"},
                                   token=tokens["teacher"])
        self.assertEqual(before.status, 201, before)

        current = self.get_role(slug, "teacher", tokens["admin"])["permissions"]
        reduced = [p for p in current if p != "noticeboard.post"]
        resp = self.put_role(slug, "teacher", reduced, tokens["admin"])
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json(), {"role": "teacher", "permissions": sorted(reduced),
                                       "customised": True})
        self.assertEqual(self.get_role(slug, "teacher", tokens["admin"])["permissions"],
                         sorted(reduced))

        # at once, on the session the teacher already has
        harness.assert_problem(self.host.request("POST", notices, {"title": "No", "body": "x"},
                                                 token=tokens["teacher"]), 403, "/forbidden")
        harness.assert_problem(self.host.request(
            "DELETE", f"{notices}/{before.json()['id']}", token=tokens["teacher"]), 403)
        me = self.host.request("GET", "/api/v1/me", token=tokens["teacher"]).json()
        self.assertNotIn("noticeboard.post", me["permissions"])
        # reading is not a permission: still fine
        self.assertEqual(self.host.request("GET", notices, token=tokens["teacher"]).status, 200)
        # admins keep it; the other school keeps the defaults
        self.assertEqual(self.host.request("POST", notices, {"title": "Admin", "body": "x"},
                                           token=tokens["admin"]).status, 201)
        self.assertEqual(self.host.request(
            "POST", f"/api/v1/schools/{other['slug']}/noticeboard/notices",
            {"title": "Elsewhere", "body": "x"}, token=other_tokens["teacher"]).status, 201)
        self.assertIn("noticeboard.post",
                      self.get_role(other["slug"], "teacher", other_tokens["admin"])[
                          "permissions"])

        # and back
        resp = self.put_role(slug, "teacher", current, tokens["admin"])
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.host.request("POST", notices, {"title": "Again", "body": "x"},
                                           token=tokens["teacher"]).status, 201)

    def test_granting_a_permission(self):
        school, people, tokens = self.school()
        slug = school["slug"]
        harness.assert_problem(self.host.request("GET", f"/api/v1/schools/{slug}/users",
                                                 token=tokens["student"]), 403)
        resp = self.put_role(slug, "student", ["users.read"], tokens["admin"])
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.host.request("GET", f"/api/v1/schools/{slug}/users",
                                           token=tokens["student"]).status, 200)

    def test_empty_set_means_nothing(self):
        school, _, tokens = self.school()
        slug = school["slug"]
        resp = self.put_role(slug, "teacher", [], tokens["admin"])
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json()["permissions"], [])
        self.assertIs(resp.json()["customised"], True)
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=tokens["teacher"]).json()[
            "permissions"], [])
        harness.assert_problem(self.host.request("GET", f"/api/v1/schools/{slug}/users",
                                                 token=tokens["teacher"]), 403)

    def test_unknown_permission_is_400_and_changes_nothing(self):
        school, _, tokens = self.school()
        slug = school["slug"]
        before = self.get_role(slug, "teacher", tokens["admin"])
        for perms in (["no.such.permission"], ["users.read", "nope.nope"], ["USERS.READ"],
                      [""]):
            with self.subTest(perms=perms):
                harness.assert_problem(self.put_role(slug, "teacher", perms, tokens["admin"]),
                                       400, "/invalid-request")
        self.assertEqual(self.get_role(slug, "teacher", tokens["admin"]), before)
        self.assertEqual(self.host.request("POST", f"/api/v1/schools/{slug}/noticeboard/notices",
                                           {"title": "Still", "body": "x"},
                                           token=tokens["teacher"]).status, 201)

    def test_bad_bodies_and_roles(self):
        school, _, tokens = self.school()
        slug = school["slug"]
        path = self.role_path(slug, "teacher")
        for label, body in {"no permissions": {}, "not an array": {"permissions": "users.read"},
                            "not strings": {"permissions": [1]},
                            "duplicates": {"permissions": ["users.read", "users.read"]},
                            "unknown field": {"permissions": [], "role": "admin"},
                            "not an object": ["users.read"]}.items():
            with self.subTest(label):
                harness.assert_problem(self.host.request("PUT", path, body,
                                                         token=tokens["admin"]), 400)
        harness.assert_problem(self.host.request("PUT", path, b"{", headers=JSON,
                                                 token=tokens["admin"]), 400)
        harness.assert_problem(self.host.request("PUT", path, b'{"permissions": []}',
                                                 headers={"Content-Type": "text/plain"},
                                                 token=tokens["admin"]), 415)
        for role in ("wizard", "Admin", "operator"):
            with self.subTest(role=role):
                harness.assert_problem(self.host.request(
                    "GET", self.role_path(slug, role), token=tokens["admin"]), 404)
                harness.assert_problem(self.put_role(slug, role, [], tokens["admin"]), 404)
        self.assertIs(self.get_role(slug, "teacher", tokens["admin"])["customised"], False)

    def test_who_may_see_and_change_roles(self):
        school, _, tokens = self.school()
        slug = school["slug"]
        for role in ("teacher", "student"):
            with self.subTest(role):
                harness.assert_problem(self.host.request(
                    "GET", self.role_path(slug, "teacher"), token=tokens[role]), 403, "/forbidden")
                harness.assert_problem(self.put_role(slug, "teacher", ["users.manage"],
                                                     tokens[role]), 403, "/forbidden")
                harness.assert_problem(self.put_role(slug, role, ["roles.manage"],
                                                     tokens[role]), 403, "/forbidden")
        harness.assert_problem(self.host.request("GET", self.role_path(slug, "teacher")), 401)
        harness.assert_problem(self.put_role(slug, "teacher", [], None), 401)
        self.assertIs(self.get_role(slug, "teacher", tokens["admin"])["customised"], False)
        # operators may
        resp = self.put_role(slug, "staff", ["users.read"], self.op_token)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.get_role(slug, "staff", self.op_token)["permissions"],
                         ["users.read"])


# ------------------------------------------------------------------------------------------
# Audit
# ------------------------------------------------------------------------------------------


class Audit(RolesHost):
    def walk(self, path, tok, limit):
        seen, cursor = [], None
        for _ in range(1000):
            sep = "&" if "?" in path else "?"
            url = f"{path}{sep}limit={limit}"
            if cursor:
                url += "&cursor=" + urllib.parse.quote(cursor, safe="")
            resp = self.host.request("GET", url, token=tok)
            self.assertEqual(resp.status, 200, resp)
            page = resp.json()
            self.assertLessEqual(len(page["items"]), limit)
            seen.extend(page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                break
        return seen

    def test_school_log_records_what_happened(self):
        school, people, tokens = self.school(modules=())
        slug = school["slug"]
        admin = tokens["admin"]
        fixtures.enable_module(self.host, admin, slug, "noticeboard")
        made = fixtures.make_user(self.host, admin, slug, unique("new"), roles=["student"])
        resp = self.put_role(slug, "teacher", ["users.read"], admin)
        self.assertEqual(resp.status, 200, resp)
        imp = self.host.request("POST", f"/api/v1/schools/{slug}/users/import",
                                b"Vorname;Nachname;Rolle\r\nIda;Import;Lehrer\r\n",
                                headers={"Content-Type": "text/csv"}, token=admin)
        self.assertEqual(imp.status, 200, imp)
        tok = self.host.request("POST", "/api/v1/auth/tokens", {"name": "audit-me"}, token=admin)
        self.assertEqual(tok.status, 201, tok)
        harness.assert_problem(self.host.request(
            "POST", "/api/v1/auth/login",
            {"school": slug, "username": people["student"]["username"],
             "password": "wrong-password"}), 401)

        entries = self.walk(f"/api/v1/schools/{slug}/audit", admin, 3)
        ids = [e["id"] for e in entries]
        self.assertEqual(len(ids), len(set(ids)), "an entry was listed twice")
        self.assertEqual(ids, sorted(ids, reverse=True), "not newest first")
        everything = self.walk(f"/api/v1/schools/{slug}/audit", admin, 500)
        self.assertEqual([e["id"] for e in everything], ids)
        self.assertEqual(len(ids), int(self.pg.psql(
            f"SELECT count(*) FROM core.audit_log WHERE school_id = '{school['id']}'")))

        def find(action, target=None):
            hits = [e for e in entries if e["action"] == action
                    and (target is None or e["target"] == target)]
            self.assertTrue(hits, f"no {action} ({target}) in {[e['action'] for e in entries]}")
            return hits[0]

        login = find("auth.login")
        self.assertIn(login["actor_id"], {p["id"] for p in people.values()})
        self.assertEqual(login["actor_kind"], "user")
        self.assertEqual(login["client"], "127.0.0.1")
        created = find("user.created", made["id"])
        self.assertEqual((created["actor_id"], created["actor_kind"]),
                         (people["admin"]["id"], "user"))
        self.assertEqual(find("module.enabled", "noticeboard")["actor_id"],
                         people["admin"]["id"])
        role_change = find("role.permissions_changed", "teacher")
        self.assertEqual(role_change["details"], ["users.read"])
        self.assertEqual(find("user.imported")["details"]["created"], 1)
        self.assertEqual(find("auth.token_created", tok.json()["id"])["details"],
                         {"name": "audit-me"})
        failed = find("auth.login_failed")
        self.assertEqual(failed["details"].get("username"), people["student"]["username"])
        self.assertEqual(failed["actor_kind"], "anonymous")
        for e in entries:
            self.assertEqual(e["school_id"], school["id"])
            for key in ("id", "at", "actor_kind", "action", "target", "details", "client"):
                self.assertIn(key, e)

    def test_failed_request_leaves_no_entry(self):
        school, _, tokens = self.school()
        slug = school["slug"]
        count = self.pg.psql(f"SELECT count(*) FROM core.audit_log "
                             f"WHERE school_id = '{school['id']}'")
        harness.assert_problem(self.put_role(slug, "teacher", ["nope.nope"], tokens["admin"]),
                               400)
        taken = self.host.request("GET", "/api/v1/me", token=tokens["student"]).json()
        harness.assert_problem(self.host.request(
            "POST", f"/api/v1/schools/{slug}/users",
            {"username": taken["username"], "display_name": "D", "roles": ["student"]},
            token=tokens["admin"]), 409)
        harness.assert_problem(self.host.request(
            "PUT", f"/api/v1/schools/{slug}/modules/no-such-module", token=tokens["admin"]), 404)
        self.assertEqual(self.pg.psql(f"SELECT count(*) FROM core.audit_log "
                                      f"WHERE school_id = '{school['id']}'"), count)

    def test_who_may_read_the_school_log(self):
        school, _, tokens = self.school()
        other, _, other_tokens = self.school()
        path = f"/api/v1/schools/{school['slug']}/audit"
        for role in ("teacher", "student"):
            with self.subTest(role):
                harness.assert_problem(self.host.request("GET", path, token=tokens[role]), 403,
                                       "/forbidden")
        harness.assert_problem(self.host.request("GET", path), 401)
        harness.assert_problem(self.host.request("GET", path, token=other_tokens["admin"]), 404)
        resp = self.host.request("GET", path, token=self.op_token)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual({e["school_id"] for e in resp.json()["items"]}, {school["id"]})

    def test_bad_page_parameters(self):
        school, _, tokens = self.school()
        path = f"/api/v1/schools/{school['slug']}/audit"
        for query in ("?limit=0", "?limit=501", "?limit=x", "?cursor=garbage"):
            with self.subTest(query):
                harness.assert_problem(self.host.request("GET", path + query,
                                                         token=tokens["admin"]), 400)

    def test_platform_log_is_for_operators(self):
        school, _, tokens = self.school()
        other, _, _ = self.school()
        for role in ("admin", "teacher", "student"):
            with self.subTest(role):
                harness.assert_problem(self.host.request("GET", "/api/v1/audit",
                                                         token=tokens[role]), 403, "/forbidden")
        harness.assert_problem(self.host.request("GET", "/api/v1/audit"), 401)
        entries = self.walk("/api/v1/audit", self.op_token, 50)
        ids = [e["id"] for e in entries]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(ids, sorted(ids, reverse=True))
        self.assertEqual(len(ids), int(self.pg.psql("SELECT count(*) FROM core.audit_log")))
        schools = {e["school_id"] for e in entries}
        self.assertTrue({school["id"], other["id"], None} <= schools, schools)
        actions = {e["action"] for e in entries}
        self.assertTrue({"school.created", "auth.login"} <= actions, actions)
        # (operator.created is checked in test_auth.py, OperatorCli)


if __name__ == "__main__":
    harness.main()
