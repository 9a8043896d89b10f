# SPDX-License-Identifier: Apache-2.0
"""test_groups_rights.py - the permissions a group grants its members: GET / PUT
/{id}/permissions (who may grant, unknown permissions), end to end through another module
(noticeboard.post), /me, token scopes, rights kept in their school, the permission source
called statically in core.request_identity(), and membership as a way to hand out rights.

The school and the TestCase base are groups_fixtures.py's; the other groups route families are
in the other test_groups_*.py files (groups_fixtures.py lists them).
"""

from __future__ import annotations

import fixtures
import harness
from groups_fixtures import GroupsTestCase


# ------------------------------------------------------------------------------------------
# Permissions granted through groups
# ------------------------------------------------------------------------------------------


class GroupRights(GroupsTestCase):
    def test_members_get_the_groups_permissions(self):
        s = self.school(modules=("groups", "noticeboard"))
        editors = s.group("Schülerredaktion", "workgroup", who="ada")
        gid = editors["id"]
        notice = {"title": "Neue Ausgabe", "body": "Freitag"}

        def post_notice(who: str) -> harness.Response:
            return s.raw(who, "POST", "/noticeboard/notices", notice)

        self.assertEqual(s.ok("tina", "GET", f"/{gid}/permissions"),
                         {"group_id": gid, "permissions": []})
        # Granting needs roles.manage: the teacher (groups.manage) may not.
        p = self.assertProblem(s.req("tina", "PUT", f"/{gid}/permissions",
                                     {"permissions": ["noticeboard.post"]}), 403, "forbidden")
        self.assertIn("roles.manage", p["detail"])
        self.assertEqual(s.ok("ada", "GET", f"/{gid}/permissions")["permissions"], [])
        # Unknown permissions are refused, and nothing of the request stays.
        s.ok("ada", "PUT", f"/{gid}/permissions", {"permissions": ["groups.read"]})
        p = self.assertProblem(s.req("ada", "PUT", f"/{gid}/permissions",
                                     {"permissions": ["noticeboard.post", "noticeboard.fly"]}),
                               400, "invalid-request")
        self.assertIn("noticeboard.fly", p["detail"])
        self.assertEqual(s.ok("ada", "GET", f"/{gid}/permissions")["permissions"],
                         ["groups.read"])
        for body in ({}, {"permissions": "noticeboard.post"},
                     {"permissions": ["a.b", "a.b"]}):
            self.assertProblem(s.req("ada", "PUT", f"/{gid}/permissions", body), 400)

        got = s.ok("ada", "PUT", f"/{gid}/permissions", {"permissions": ["noticeboard.post"]})
        self.assertEqual(got, {"group_id": gid, "permissions": ["noticeboard.post"]})
        self.assertEqual(s.ok("tina", "GET", f"/{gid}/permissions"), got)

        # Before joining: students may not post.
        self.assertProblem(post_notice("sam"), 403, "forbidden")
        s.add(gid, "sam", who="ada")
        resp = post_notice("sam")
        self.assertEqual(resp.status, 201, resp.text)
        # A member sees the group's permissions; a non-member student does not even see it.
        self.assertEqual(s.ok("sam", "GET", f"/{gid}/permissions"), got)
        self.assertProblem(s.req("sue", "GET", f"/{gid}/permissions"), 404)
        self.assertProblem(post_notice("sue"), 403, "forbidden")
        # ... /me shows it too.
        me = self.host.request("GET", "/api/v1/me", token=s.tokens["sam"]).json()
        self.assertIn("noticeboard.post", me["permissions"])
        # Removed from the group: gone with the next request, same token.
        s.ok("ada", "DELETE", f"/{gid}/members/{s.ids['sam']}")
        self.assertProblem(post_notice("sam"), 403, "forbidden")
        # Back in, then the grant is withdrawn.
        s.add(gid, "sam", who="ada")
        self.assertEqual(post_notice("sam").status, 201)
        s.ok("ada", "PUT", f"/{gid}/permissions", {"permissions": []})
        self.assertProblem(post_notice("sam"), 403, "forbidden")
        # Back again, then the group is deleted.
        s.ok("ada", "PUT", f"/{gid}/permissions", {"permissions": ["noticeboard.post"]})
        self.assertEqual(post_notice("sam").status, 201)
        s.ok("ada", "DELETE", f"/{gid}")
        self.assertProblem(post_notice("sam"), 403, "forbidden")

    def test_the_permission_source_is_called_statically(self):
        # migrate writes core.plugin_grants() from the registered sources, and
        # core.request_identity() calls it: no EXECUTE planned anew on every request.
        grants = self.pg.psql("SELECT prosrc FROM pg_proc "
                              "WHERE oid = 'core.plugin_grants(uuid, uuid)'::regprocedure")
        self.assertIn('"groups"."member_permissions"(p_school, p_user)', grants)
        begin = self.pg.psql("SELECT prosrc FROM pg_proc "
                             "WHERE oid = 'core.request_identity(bytea, text, text, bigint)'::regprocedure")
        self.assertIn("core.plugin_grants(", begin)
        self.assertNotIn("EXECUTE", begin)

    def test_token_scopes_limit_group_rights_too(self):
        s = self.school(modules=("groups", "noticeboard"))
        g = s.group("Redaktion", "workgroup", who="ada")
        s.ok("ada", "PUT", f"/{g['id']}/permissions",
             {"permissions": ["noticeboard.post", "groups.read"]})
        s.add(g["id"], "sam", who="ada")
        notice = {"title": "t", "body": "b"}

        def token(scopes: list[str]) -> str:
            resp = self.host.request("POST", "/api/v1/auth/tokens",
                                     {"name": f"scoped {scopes}", "scopes": scopes},
                                     token=s.tokens["sam"])
            fixtures.check(resp, 201, what=f"token with scopes {scopes}")
            return resp.json()["token"]

        narrow = token(["groups.read"])
        resp = self.host.request("POST", f"/api/v1/schools/{s.slug}/noticeboard/notices",
                                 notice, token=narrow)
        self.assertProblem(resp, 403, "forbidden")
        wide = token(["noticeboard.post"])
        resp = self.host.request("POST", f"/api/v1/schools/{s.slug}/noticeboard/notices",
                                 notice, token=wide)
        self.assertEqual(resp.status, 201, resp.text)
        # A group-granted permission can be delegated like a role's; the scope is a ceiling,
        # not a grant: out of the group, the scoped token loses it.
        s.ok("ada", "DELETE", f"/{g['id']}/members/{s.ids['sam']}")
        resp = self.host.request("POST", f"/api/v1/schools/{s.slug}/noticeboard/notices",
                                 notice, token=wide)
        self.assertProblem(resp, 403, "forbidden")

    def test_rights_stay_in_their_school(self):
        north, south = self.school(), self.school(modules=("groups", "noticeboard"))
        g = north.group("N", who="ada")
        north.ok("ada", "PUT", f"/{g['id']}/permissions", {"permissions": ["noticeboard.post"]})
        north.add(g["id"], "sam", who="ada")
        # south's sam is another person: no rights from north's group.
        resp = south.raw("sam", "POST", "/noticeboard/notices", {"title": "t", "body": "b"})
        self.assertProblem(resp, 403)

    def test_teacher_cannot_hand_out_rights_by_membership(self):
        # The plugin's own rule (group-routes.c): "a teacher managing a course must not be
        # able to hand its members rights the teacher's role does not control". Granting a
        # group rights needs roles.manage; but once an admin has done so, adding people to
        # that group is the same act. BUG: a teacher (groups.manage, without users.manage)
        # can add themselves or anyone to a group that grants users.manage, and then create
        # users. Expected: adding members to a group that grants permissions needs
        # roles.manage (or at least every permission the group grants); 403 otherwise.
        s = self.school()
        office = s.group("Sekretariat", "staff", who="ada")
        s.ok("ada", "PUT", f"/{office['id']}/permissions", {"permissions": ["users.manage"]})
        new_user = {"username": "mallory", "display_name": "Mallory", "roles": ["admin"],
                    "password": fixtures.PASSWORD}
        self.assertProblem(s.raw("tina", "POST", "/users", new_user), 403)
        resp = s.req("tina", "PUT", f"/{office['id']}/members/{s.ids['tina']}",
                     {"role": "member"})
        escalated = s.raw("tina", "POST", "/users", new_user)
        self.assertEqual(
            resp.status, 403,
            "BUG: teacher tina (no users.manage) joined a group granting users.manage: "
            f"PUT members/{{tina}} -> {resp.status} {resp.text[:200]}; then POST /users "
            f"as tina -> {escalated.status} {escalated.text[:120]}")


if __name__ == "__main__":
    harness.main()
