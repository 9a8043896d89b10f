# SPDX-License-Identifier: Apache-2.0
"""test_groups_crud.py - groups themselves: create, read, change and delete (POST "",
GET / PATCH / DELETE /{id}), every type, slugs, bad bodies, parents and cycles; and the module as
a whole: switched off and on, the GDPR export and erasure of a member, a school with groups
deleted, the OpenAPI document and the permission catalogue.

The school and the TestCase base are groups_fixtures.py's; the other groups route families are
in the other test_groups_*.py files (groups_fixtures.py lists them).
"""

from __future__ import annotations

import uuid

import fixtures
import harness
from groups_fixtures import GroupsTestCase


# ------------------------------------------------------------------------------------------
# Groups: create, read, change, delete
# ------------------------------------------------------------------------------------------


class GroupCrud(GroupsTestCase):
    def test_create_read_patch_delete(self):
        s = self.school()
        g = s.group("Physik 11 (Grundkurs)", "course", description="Mo 3./4. Stunde")
        self.assertTrue(uuid.UUID(g["id"]))
        self.assertEqual(g["name"], "Physik 11 (Grundkurs)")
        self.assertEqual(g["slug"], "physik-11-grundkurs")
        self.assertEqual(g["type"], "course")
        self.assertEqual(g["description"], "Mo 3./4. Stunde")
        self.assertIsNone(g["parent_id"])
        self.assertEqual(g["member_count"], 1)
        self.assertTrue(g["created_at"].endswith("Z"), g["created_at"])
        self.assertEqual(g["created_at"], g["updated_at"])
        # The creator owns the group.
        self.assertEqual(s.members(g["id"]), {s.ids["tina"]: "owner"})

        got = s.ok("tina", "GET", f"/{g['id']}")
        self.assertEqual(got, g)

        patched = s.ok("tina", "PATCH", f"/{g['id']}",
                       {"description": "Di 1./2. Stunde", "type": "workgroup", "slug": "phy-11"})
        self.assertEqual(patched["description"], "Di 1./2. Stunde")
        self.assertEqual(patched["type"], "workgroup")
        self.assertEqual(patched["slug"], "phy-11")
        self.assertEqual(patched["name"], g["name"], "PATCH changed a field it was not given")
        self.assertGreater(patched["updated_at"], g["updated_at"])
        self.assertEqual(patched["created_at"], g["created_at"])

        resp = s.req("tina", "DELETE", f"/{g['id']}")
        self.assertEqual(resp.status, 204, resp.text)
        self.assertEqual(resp.body, b"")
        self.assertProblem(s.req("tina", "GET", f"/{g['id']}"), 404, "not-found")
        self.assertProblem(s.req("tina", "DELETE", f"/{g['id']}"), 404, "not-found")
        self.assertProblem(s.req("tina", "GET", f"/{g['id']}/members"), 404, "not-found")

    def test_every_type(self):
        s = self.school()
        for t in ("class", "course", "workgroup", "staff", "custom"):
            self.assertEqual(s.group(f"Group of type {t}", t)["type"], t)
        self.assertProblem(s.req("tina", "POST", "", {"name": "X", "type": "club"}), 400)

    def test_explicit_slug_and_slug_of_odd_names(self):
        s = self.school()
        self.assertEqual(s.group("5b", slug="class-5b")["slug"], "class-5b")
        self.assertEqual(s.group("Ärger & Öl!")["slug"], "arger-ol")
        self.assertEqual(s.group("???")["slug"], "group")

    def test_bad_bodies_are_400_and_create_nothing(self):
        s = self.school()
        bad = [
            {"type": "class"},                                   # no name
            {"name": "A"},                                       # no type
            {"name": "", "type": "class"},                       # empty name
            {"name": "x" * 201, "type": "class"},                # too long
            {"name": "A", "type": "class", "colour": "red"},     # unknown field
            {"name": "A", "type": "class", "slug": "Not A Slug"},
            {"name": "A", "type": "class", "parent_id": "not-a-uuid"},
            {"name": "A", "type": "class", "description": "d" * 2001},
            {"name": 5, "type": "class"},
        ]
        for body in bad:
            with self.subTest(body=body):
                p = self.assertProblem(s.req("tina", "POST", "", body), 400, "invalid-request")
                self.assertTrue(p.get("detail"), p)
        self.assertProblem(s.req("tina", "POST", "", "not json",), 415)
        self.assertEqual(s.ok("ada", "GET", "")["items"], [])

    def test_duplicate_name_and_slug_are_409(self):
        s = self.school()
        a = s.group("Klasse 7a")
        p = self.assertProblem(s.req("tom", "POST", "", {"name": "KLASSE 7A", "type": "class"}),
                               409, "conflict")
        self.assertIn("name", p["detail"])
        p = self.assertProblem(
            s.req("tom", "POST", "", {"name": "Other", "type": "class", "slug": a["slug"]}),
            409, "conflict")
        self.assertIn("slug", p["detail"])
        b = s.group("Klasse 7b")
        self.assertProblem(s.req("tina", "PATCH", f"/{b['id']}", {"name": "klasse 7a"}), 409,
                           "conflict")
        self.assertProblem(s.req("tina", "PATCH", f"/{b['id']}", {"slug": a["slug"]}), 409,
                           "conflict")
        self.assertEqual(s.ok("tina", "GET", f"/{b['id']}")["name"], "Klasse 7b")
        names = sorted(g["name"] for g in s.ok("ada", "GET", "")["items"])
        self.assertEqual(names, ["Klasse 7a", "Klasse 7b"])
        # The same name in another school is fine.
        other = self.school()
        other.group("Klasse 7a")

    def test_patch_body_rules(self):
        s = self.school()
        g = s.group("G")
        self.assertProblem(s.req("tina", "PATCH", f"/{g['id']}", {"name": ""}), 400)
        self.assertProblem(s.req("tina", "PATCH", f"/{g['id']}", {"type": "club"}), 400)
        self.assertProblem(s.req("tina", "PATCH", f"/{g['id']}", {"owner": "me"}), 400)
        self.assertProblem(s.req("tina", "PATCH", f"/{g['id']}"), 400)  # body required
        same = s.ok("tina", "PATCH", f"/{g['id']}", {})
        self.assertEqual(same["name"], "G")

    def test_malformed_and_unknown_ids_are_404(self):
        s = self.school()
        for gid in ("not-a-uuid", str(uuid.uuid4()), "0"):
            with self.subTest(gid=gid):
                self.assertProblem(s.req("tina", "GET", f"/{gid}"), 404, "not-found")
                self.assertProblem(s.req("tina", "PATCH", f"/{gid}", {"name": "x"}), 404)
                self.assertProblem(s.req("tina", "DELETE", f"/{gid}"), 404)
                self.assertProblem(s.req("tina", "GET", f"/{gid}/members"), 404)
                self.assertProblem(s.req("tina", "GET", f"/{gid}/permissions"), 404)
                self.assertProblem(s.req("ada", "PUT", f"/{gid}/permissions",
                                         {"permissions": []}), 404)
                self.assertProblem(s.req("tina", "PUT", f"/{gid}/members/{s.ids['sam']}",
                                         {"role": "member"}), 404)
                self.assertProblem(s.req("tina", "POST", f"/{gid}/members:batch",
                                         {"add": [{"user_id": s.ids["sam"]}]}), 404)

    def test_unauthenticated_is_401(self):
        s = self.school()
        g = s.group("G")
        for method, path, body in (("GET", "", None), ("GET", f"/{g['id']}", None),
                                   ("POST", "", {"name": "X", "type": "class"}),
                                   ("POST", "", None),
                                   ("GET", f"/{g['id']}/members", None),
                                   ("DELETE", f"/{g['id']}", None)):
            with self.subTest(method=method, path=path):
                url = f"/api/v1/schools/{s.slug}/groups{path}"
                self.assertProblem(self.host.request(method, url, body), 401, "unauthenticated")
                self.assertProblem(self.host.request(method, url, body, token="not-a-token"),
                                   401, "unauthenticated")
        self.assertEqual(s.ok("tina", "GET", f"/{g['id']}")["name"], "G")

    def test_method_not_allowed(self):
        s = self.school()
        g = s.group("G")
        resp = s.req("tina", "PUT", f"/{g['id']}", {"name": "x"})
        self.assertProblem(resp, 405, "method-not-allowed")
        self.assertIn("PATCH", resp.headers.get("allow", ""))


class Parents(GroupsTestCase):
    def test_parent_child_and_clearing(self):
        s = self.school()
        year = s.group("Jahrgang 7", "custom")
        a = s.group("7a", parent_id=year["id"])
        self.assertEqual(a["parent_id"], year["id"])
        b = s.group("7b")
        b2 = s.ok("tina", "PATCH", f"/{b['id']}", {"parent_id": year["id"]})
        self.assertEqual(b2["parent_id"], year["id"])
        cleared = s.ok("tina", "PATCH", f"/{b['id']}", {"parent_id": None})
        self.assertIsNone(cleared["parent_id"])
        # PATCH without parent_id keeps it.
        kept = s.ok("tina", "PATCH", f"/{a['id']}", {"description": "x"})
        self.assertEqual(kept["parent_id"], year["id"])

    def test_self_parent_is_409(self):
        s = self.school()
        g = s.group("G")
        p = self.assertProblem(s.req("tina", "PATCH", f"/{g['id']}", {"parent_id": g["id"]}),
                               409, "conflict")
        self.assertIn("parent", p["detail"])
        self.assertIsNone(s.ok("tina", "GET", f"/{g['id']}")["parent_id"])

    def test_cycles_are_409_and_change_nothing(self):
        s = self.school()
        a = s.group("A")
        b = s.group("B", parent_id=a["id"])
        c = s.group("C", parent_id=b["id"])
        for child in (b, c):
            with self.subTest(child=child["name"]):
                resp = s.req("tina", "PATCH", f"/{a['id']}",
                             {"parent_id": child["id"], "name": "A renamed"})
                self.assertProblem(resp, 409, "conflict")
        got = s.ok("tina", "GET", f"/{a['id']}")
        self.assertIsNone(got["parent_id"])
        self.assertEqual(got["name"], "A", "the rest of a refused PATCH was applied")
        # Moving C under A directly is no cycle.
        self.assertEqual(s.ok("tina", "PATCH", f"/{c['id']}", {"parent_id": a["id"]})
                         ["parent_id"], a["id"])

    def test_unknown_or_foreign_parent_is_4xx(self):
        s = self.school()
        other = self.school()
        foreign = other.group("Foreign")
        for parent in (str(uuid.uuid4()), foreign["id"]):
            with self.subTest(parent=parent):
                resp = s.req("tina", "POST", "", {"name": "Child", "type": "class",
                                                  "parent_id": parent})
                self.assertProblem(resp, 422, "unprocessable")
        self.assertEqual(s.ok("ada", "GET", "")["items"], [])

    def test_deleting_a_parent_orphans_children(self):
        s = self.school()
        p = s.group("P")
        c = s.group("C", parent_id=p["id"])
        s.ok("tina", "DELETE", f"/{p['id']}")
        self.assertIsNone(s.ok("tina", "GET", f"/{c['id']}")["parent_id"])


# ------------------------------------------------------------------------------------------
# Module switch, GDPR, OpenAPI
# ------------------------------------------------------------------------------------------


class Lifecycle(GroupsTestCase):
    def test_module_disabled_is_404(self):
        s = self.school(modules=())
        for who in ("ada", "tina", "sam", "op"):
            with self.subTest(who=who):
                p = self.assertProblem(s.req(who, "GET", ""), 404, "not-found")
                self.assertIn("groups", p["detail"])
                self.assertProblem(s.req(who, "POST", "", {"name": "G", "type": "class"}), 404)
        fixtures.enable_module(self.host, self.op_token, s.slug, "groups")
        g = s.group("G")
        s.add(g["id"], "sam")
        resp = self.host.request("DELETE", f"/api/v1/schools/{s.slug}/modules/groups",
                                 token=self.op_token)
        self.assertEqual(resp.status, 204, resp.text)
        self.assertProblem(s.req("tina", "GET", ""), 404, "not-found")
        self.assertProblem(s.req("tina", "GET", f"/{g['id']}"), 404, "not-found")
        self.assertProblem(s.req("sam", "GET", f"/{g['id']}/members"), 404, "not-found")
        # Re-enabled: the data is still there.
        fixtures.enable_module(self.host, self.op_token, s.slug, "groups")
        self.assertEqual(set(s.members(g["id"])), {s.ids["tina"], s.ids["sam"]})

    def test_gdpr_export_has_the_memberships(self):
        s = self.school()
        a = s.group("Chor", "workgroup")
        b = s.group("Klasse 9b", "class")
        s.group("Not Sam's")
        s.add(a["id"], "sam", "owner")
        s.add(b["id"], "sam")
        sam = s.ids["sam"]
        for who in ("sam", "ada"):
            with self.subTest(who=who):
                resp = s.raw(who, "GET", f"/users/{sam}/export")
                self.assertEqual(resp.status, 200,
                                 f"GET /users/{{sam}}/export as {who}: {resp.text[:300]}")
                part = resp.json()["groups"]
                rows = part["memberships"]
                self.assertEqual([(m["id"], m["name"], m["type"], m["role"]) for m in rows],
                                 [(a["id"], "Chor", "workgroup", "owner"),
                                  (b["id"], "Klasse 9b", "class", "member")])
                for m in rows:
                    self.assertTrue(m["added_at"].endswith("Z"), m)
        # Another student may not export sam.
        self.assertProblem(s.raw("sue", "GET", f"/users/{sam}/export"), 403)
        # Someone in no group exports an empty list.
        resp = s.raw("sue", "GET", f"/users/{s.ids['sue']}/export")
        self.assertEqual(resp.status, 200, resp.text[:300])
        self.assertEqual(resp.json()["groups"], {"memberships": []})

    def test_gdpr_erasure_takes_the_memberships(self):
        s = self.school()
        a = s.group("Chor", "workgroup")
        b = s.group("Klasse 9b", "class")
        s.add(a["id"], "sam", "owner")
        s.add(b["id"], "sam")
        s.add(b["id"], "sue")
        sam = s.ids["sam"]
        resp = s.raw("ada", "DELETE", f"/users/{sam}")
        self.assertEqual(resp.status, 204, resp.text)
        # Gone in the same request: from every list, and from the table itself.
        self.assertEqual(s.members(b["id"]), {s.ids["tina"]: "owner", s.ids["sue"]: "member"})
        self.assertEqual(s.ok("tina", "GET", f"?member={sam}")["items"], [])
        self.assertEqual(s.ok("tina", "GET", f"/{b['id']}")["member_count"], 2)
        left = self.pg.psql(f"SELECT count(*) FROM groups.members WHERE user_id = '{sam}'")
        self.assertEqual(left.strip(), "0")
        # The group sam co-owned keeps its other owner.
        self.assertEqual(s.members(a["id"]), {s.ids["tina"]: "owner"})
        self.assertProblem(s.req("tina", "PUT", f"/{a['id']}/members/{sam}", {}), 404)

    def test_a_school_with_groups_can_be_deleted(self):
        s = self.school()
        g = s.group("G")
        s.add(g["id"], "sam")
        child = s.group("C", parent_id=g["id"])
        s.ok("ada", "PUT", f"/{child['id']}/permissions", {"permissions": ["groups.read"]})
        resp = self.host.request("DELETE", f"/api/v1/schools/{s.slug}", token=self.op_token)
        self.assertIn(resp.status, (200, 204), resp.text)
        # Superuser view (no row-level security): nothing of the school is left.
        for table, col in (("groups", "id"), ("members", "group_id"),
                           ("group_permissions", "group_id")):
            left = self.pg.psql(f"SELECT count(*) FROM groups.{table} "
                                f"WHERE {col} IN ('{g['id']}', '{child['id']}')")
            self.assertEqual(left.strip(), "0", table)

    def test_openapi_lists_the_routes(self):
        doc = self.host.request("GET", "/api/v1/openapi.json").json()
        paths = doc["paths"]
        base = "/api/v1/schools/{school}/groups"
        want = {
            base: {"get", "post"},
            base + "/{id}": {"get", "patch", "delete"},
            base + "/{id}/members": {"get"},
            base + "/{id}/members/{user_id}": {"put", "delete"},
            base + "/{id}/members:batch": {"post"},
            base + "/{id}/permissions": {"get", "put"},
        }
        for path, methods in want.items():
            with self.subTest(path=path):
                self.assertIn(path, paths)
                self.assertTrue(methods <= set(paths[path]), (path, set(paths[path])))

    def test_permissions_are_declared(self):
        mods = {m["name"]: m for m in self.host.request("GET", "/api/v1/modules").json()["items"]}
        self.assertEqual(mods["groups"]["state"], "loaded")
        self.assertEqual({p["name"] for p in mods["groups"]["permissions"]},
                         {"groups.read", "groups.manage"})
        perms = self.host.request("GET", "/api/v1/permissions", token=self.op_token).json()
        roles = {p["name"]: set(p["default_roles"]) for p in perms["items"]}
        self.assertEqual(roles["groups.manage"], {"admin", "teacher"})
        self.assertIn("admin", roles["groups.read"])
        self.assertIn("teacher", roles["groups.read"])
        self.assertNotIn("student", roles["groups.read"])


if __name__ == "__main__":
    harness.main()
