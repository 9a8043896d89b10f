# SPDX-License-Identifier: Apache-2.0
"""test_groups_visibility.py - who may see and do what: the defaults of each role, plain
members and owners, ?member=me|{id}; ids and users of another school (404, nothing changed);
the list (GET "": ?type=, ?q=, sorting, pagination of groups and of members while rows are
added, bad page parameters).

The school and the TestCase base are groups_fixtures.py's; the other groups route families are
in the other test_groups_*.py files (groups_fixtures.py lists them).
"""

from __future__ import annotations

import base64
import uuid

import harness
from groups_fixtures import GroupsTestCase


# ------------------------------------------------------------------------------------------
# Who may see and do what
# ------------------------------------------------------------------------------------------


class Visibility(GroupsTestCase):
    def test_defaults_for_each_role(self):
        s = self.school()
        mine = s.group("Sam's class")
        s.add(mine["id"], "sam")
        theirs = s.group("Sue's class")
        s.add(theirs["id"], "sue")
        everything = {mine["id"], theirs["id"]}

        # Admins and teachers manage; staff read; students neither.
        s.group("By the admin", who="ada")
        s.group("By the other teacher", who="tom")
        self.assertProblem(s.req("stan", "POST", "", {"name": "S", "type": "staff"}), 403,
                           "forbidden")
        self.assertProblem(s.req("sam", "POST", "", {"name": "S", "type": "class"}), 403,
                           "forbidden")
        everything |= {g["id"] for g in s.ok("ada", "GET", "")["items"]}
        self.assertEqual(len(everything), 4)

        for who in ("ada", "tina", "tom", "stan", "op"):
            with self.subTest(who=who):
                seen = {g["id"] for g in s.walk(who, "", limit=500)}
                self.assertEqual(seen, everything)
                self.assertEqual(s.ok(who, "GET", f"/{theirs['id']}")["id"], theirs["id"])

        # A student sees only their own groups; any other answers 404, never 403.
        self.assertEqual([g["id"] for g in s.ok("sam", "GET", "")["items"]], [mine["id"]])
        self.assertEqual(s.ok("sam", "GET", "")["items"][0]["my_role"], "member")
        self.assertEqual(s.ok("sam", "GET", f"/{mine['id']}")["id"], mine["id"])
        self.assertEqual(set(s.members(mine["id"], who="sam")),
                         {s.ids["tina"], s.ids["sam"]})
        s.ok("sam", "GET", f"/{mine['id']}/permissions")
        for method, path, body in (
            ("GET", f"/{theirs['id']}", None),
            ("GET", f"/{theirs['id']}/members", None),
            ("GET", f"/{theirs['id']}/permissions", None),
            ("PATCH", f"/{theirs['id']}", {"name": "mine now"}),
            ("DELETE", f"/{theirs['id']}", None),
            ("PUT", f"/{theirs['id']}/members/{s.ids['sam']}", {"role": "member"}),
            ("DELETE", f"/{theirs['id']}/members/{s.ids['sue']}", None),
            ("POST", f"/{theirs['id']}/members:batch", {"add": [{"user_id": s.ids["sam"]}]}),
        ):
            with self.subTest(method=method, path=path):
                self.assertProblem(s.req("sam", method, path, body), 404, "not-found")
        self.assertEqual(set(s.members(theirs["id"])), {s.ids["tina"], s.ids["sue"]})

    def test_plain_members_cannot_manage(self):
        s = self.school()
        g = s.group("G")
        s.add(g["id"], "sam")
        s.add(g["id"], "sue")
        before = s.members(g["id"])
        for method, path, body in (
            ("PATCH", f"/{g['id']}", {"name": "Sam's"}),
            ("DELETE", f"/{g['id']}", None),
            ("PUT", f"/{g['id']}/members/{s.ids['stan']}", {"role": "member"}),
            ("PUT", f"/{g['id']}/members/{s.ids['sam']}", {"role": "owner"}),
            ("DELETE", f"/{g['id']}/members/{s.ids['sue']}", None),
            ("POST", f"/{g['id']}/members:batch", {"remove": [s.ids["sue"]]}),
            ("PUT", f"/{g['id']}/permissions", {"permissions": []}),
        ):
            with self.subTest(method=method, path=path):
                self.assertProblem(s.req("sam", method, path, body), 403, "forbidden")
        self.assertUnchanged(s, g["id"], before)
        # Staff read every group but manage none.
        self.assertProblem(s.req("stan", "PATCH", f"/{g['id']}", {"name": "x"}), 403)
        self.assertProblem(s.req("stan", "PUT", f"/{g['id']}/members/{s.ids['stan']}",
                                 {"role": "member"}), 403)
        self.assertEqual(s.ok("tina", "GET", f"/{g['id']}")["name"], "G")

    def test_student_owner_manages_membership(self):
        s = self.school()
        g = s.group("Schülerzeitung", "workgroup")
        s.add(g["id"], "sam", "owner")
        s.add(g["id"], "sue", who="sam")
        self.assertEqual(s.members(g["id"], "sam")[s.ids["sue"]], "member")
        s.ok("sam", "PATCH", f"/{g['id']}", {"description": "jeden Freitag"})
        s.ok("sam", "DELETE", f"/{g['id']}/members/{s.ids['sue']}")
        # Owning a group grants nothing else.
        self.assertProblem(s.req("sam", "POST", "", {"name": "x", "type": "class"}), 403)
        self.assertProblem(s.req("sam", "PUT", f"/{g['id']}/permissions",
                                 {"permissions": ["noticeboard.post"]}), 403)

    def test_teacher_manages_groups_of_others(self):
        s = self.school()
        g = s.group("Tina's", who="tina")
        s.add(g["id"], "sam", who="tom")
        s.ok("tom", "PATCH", f"/{g['id']}", {"description": "by tom"})
        s.ok("tom", "DELETE", f"/{g['id']}")

    def test_member_query(self):
        s = self.school()
        a, b, c = s.group("A"), s.group("B"), s.group("C")
        s.add(a["id"], "sam")
        s.add(c["id"], "sam", "owner")
        s.add(b["id"], "sue")
        sam = s.ids["sam"]
        want = [a["id"], c["id"]]
        # me, for a student and for a teacher
        self.assertEqual([g["id"] for g in s.ok("sam", "GET", "?member=me")["items"]], want)
        self.assertEqual({g["id"] for g in s.ok("tina", "GET", "?member=me")["items"]},
                         {a["id"], b["id"], c["id"]})
        self.assertEqual(s.ok("tom", "GET", "?member=me")["items"], [])
        # Someone else's groups: admins, teachers, staff (groups.read), operators, oneself.
        for who in ("ada", "tina", "tom", "stan", "op", "sam"):
            with self.subTest(who=who):
                got = s.ok(who, "GET", f"?member={sam}")["items"]
                self.assertEqual([g["id"] for g in got], want)
        # ... and not another student.
        p = self.assertProblem(s.req("sue", "GET", f"?member={sam}"), 403, "forbidden")
        self.assertIn("groups.read", p["detail"])
        self.assertProblem(s.req("sam", "GET", "?member=somebody"), 400, "invalid-request")
        self.assertProblem(s.req("op", "GET", "?member=me"), 400, "invalid-request")
        # A user of another school, or nobody, is in no group here.
        other = self.school()
        self.assertEqual(s.ok("tina", "GET", f"?member={other.ids['sam']}")["items"], [])
        self.assertEqual(s.ok("tina", "GET", f"?member={uuid.uuid4()}")["items"], [])


class CrossSchool(GroupsTestCase):
    def test_ids_of_another_school_are_404(self):
        north, south = self.school(), self.school()
        ng = north.group("North group")
        north.add(ng["id"], "sam")
        sg = south.group("South group")
        gid = ng["id"]
        # South's teacher, on south's path, with north's group id.
        for method, path, body in (
            ("GET", f"/{gid}", None),
            ("PATCH", f"/{gid}", {"name": "stolen"}),
            ("DELETE", f"/{gid}", None),
            ("GET", f"/{gid}/members", None),
            ("GET", f"/{gid}/permissions", None),
            ("PUT", f"/{gid}/members/{south.ids['sam']}", {"role": "member"}),
            ("DELETE", f"/{gid}/members/{north.ids['sam']}", None),
            ("POST", f"/{gid}/members:batch", {"remove": [north.ids["sam"]]}),
        ):
            with self.subTest(method=method, path=path):
                self.assertProblem(south.req("tina", method, path, body), 404, "not-found")
        self.assertProblem(south.req("ada", "PUT", f"/{gid}/permissions",
                                     {"permissions": []}), 404)
        # South's people on north's path: the school itself does not exist for them.
        resp = self.host.request("GET", f"/api/v1/schools/{north.slug}/groups/{gid}",
                                 token=south.tokens["ada"])
        self.assertProblem(resp, 404, "not-found")
        resp = self.host.request("GET", f"/api/v1/schools/{north.slug}/groups",
                                 token=south.tokens["tina"])
        self.assertProblem(resp, 404, "not-found")
        # South's list does not contain north's group, even for admins.
        self.assertEqual([g["id"] for g in south.ok("ada", "GET", "")["items"]], [sg["id"]])
        # North's group is untouched.
        self.assertEqual(north.ok("tina", "GET", f"/{gid}")["name"], "North group")
        self.assertEqual(set(north.members(gid)), {north.ids["tina"], north.ids["sam"]})

    def test_users_of_another_school_cannot_be_added(self):
        north, south = self.school(), self.school()
        g = north.group("G")
        before = north.members(g["id"])
        stranger = south.ids["sam"]
        p = self.assertProblem(north.req("tina", "PUT", f"/{g['id']}/members/{stranger}",
                                         {"role": "member"}), 404, "not-found")
        self.assertIn(stranger, p["detail"])
        resp = north.req("tina", "POST", f"/{g['id']}/members:batch",
                         {"add": [{"user_id": north.ids["sam"]}, {"user_id": stranger}]})
        p = self.assertProblem(resp, 404, "not-found")
        self.assertIn("/add/1", p["detail"])
        self.assertUnchanged(north, g["id"], before)
        # Even the operator, who sees every school, cannot cross them.
        self.assertProblem(north.req("op", "PUT", f"/{g['id']}/members/{stranger}",
                                     {"role": "member"}), 404)
        self.assertUnchanged(north, g["id"], before)


# ------------------------------------------------------------------------------------------
# Listing and pagination
# ------------------------------------------------------------------------------------------


class Listing(GroupsTestCase):
    def test_filters(self):
        s = self.school()
        s.group("Mathe 5a", "course")
        s.group("Mathe-AG", "workgroup")
        s.group("Deutsch 5a", "course")
        s.group("Lehrerzimmer", "staff")
        s.group("100% Sport", "custom")
        s.group("Under_score", "custom")

        def names(q: str, who: str = "tina") -> list[str]:
            return [g["name"] for g in s.ok(who, "GET", q)["items"]]

        self.assertEqual(names("?type=course"), ["Deutsch 5a", "Mathe 5a"])
        self.assertEqual(names("?type=staff"), ["Lehrerzimmer"])
        self.assertEqual(names("?type=class"), [])
        self.assertEqual(names("?q=mathe"), ["Mathe 5a", "Mathe-AG"])
        self.assertEqual(names("?q=5A"), ["Deutsch 5a", "Mathe 5a"])
        self.assertEqual(names("?q=mathe&type=course"), ["Mathe 5a"])
        # LIKE wildcards in q are literal characters.
        self.assertEqual(names("?q=%25"), ["100% Sport"])
        self.assertEqual(names("?q=_"), ["Under_score"])
        self.assertEqual(names("?q=%5C"), [])
        self.assertEqual(names("?q=zzz"), [])
        # Sorted by name, case-insensitively.
        self.assertEqual(names(""), ["100% Sport", "Deutsch 5a", "Lehrerzimmer", "Mathe 5a",
                                     "Mathe-AG", "Under_score"])
        self.assertProblem(s.req("tina", "GET", "?q=" + "x" * 201), 400)
        # Filters never widen what a student sees.
        self.assertEqual(names("?type=course", who="sam"), [])
        self.assertEqual(names("?q=mathe", who="sam"), [])

    def test_group_pagination_walks_everything_once(self):
        s = self.school()
        made = set()
        for i in range(23):
            made.add(s.group(f"Gruppe {i % 7:02d}-{i:02d}", "custom")["id"])
        s.add(next(iter(made)), "sam")
        for limit in (1, 5, 7, 23, 50):
            with self.subTest(limit=limit):
                items = s.walk("tina", "", limit)
                ids = [g["id"] for g in items]
                self.assertEqual(len(ids), len(set(ids)), "an item came twice")
                self.assertEqual(set(ids), made)
                keys = [(g["name"].lower(), g["id"]) for g in items]
                self.assertEqual(keys, sorted(keys))
        page = s.ok("tina", "GET", "?limit=23")
        self.assertIsNone(page["next_cursor"])
        self.assertEqual(len(s.walk("sam", "", 1)), 1)
        # Pages with filters
        self.assertEqual(len(s.walk("tina", "?q=Gruppe%2000", 1)), 4)

    def test_inserts_while_paging_neither_repeat_nor_skip(self):
        s = self.school()
        for n in "bdfhj":
            s.group(n)
        first = s.ok("tina", "GET", "?limit=2")
        s.group("a")  # before the cursor
        s.group("i")  # after it
        rest = s.walk("tina", f"?cursor={first['next_cursor']}", 2)
        names = [g["name"] for g in first["items"] + rest]
        self.assertEqual(names, ["b", "d", "f", "h", "i", "j"])

    def test_bad_page_parameters(self):
        s = self.school()
        g = s.group("G")
        for path in ("", f"/{g['id']}/members"):
            # Cursors the server never handed out: not base64, NULs, no separator, and a
            # well-formed one whose id half is not a uuid.
            forged = base64.urlsafe_b64encode(b"x\nnot-a-uuid").decode().rstrip("=")
            for q in ("limit=0", "limit=501", "limit=x", "limit=-1", "cursor=%21%21%21",
                      "cursor=AAAA", "cursor=bm9uc2Vuc2U", f"cursor={forged}"):
                with self.subTest(path=path, q=q):
                    self.assertProblem(s.req("tina", "GET", f"{path}?{q}"), 400,
                                       "invalid-request")

    def test_member_pagination_walks_everything_once(self):
        s = self.school()
        g = s.group("Big")
        users = [s.add_person(f"kid{i:02d}", ["student"], login=False) for i in range(30)]
        s.ok("tina", "POST", f"/{g['id']}/members:batch",
             {"add": [{"user_id": u} for u in users]})
        want = set(users) | {s.ids["tina"]}
        for limit in (1, 7, 30, 31, 500):
            with self.subTest(limit=limit):
                items = s.walk("tina", f"/{g['id']}/members", limit)
                ids = [m["user_id"] for m in items]
                self.assertEqual(len(ids), len(set(ids)), "a member came twice")
                self.assertEqual(set(ids), want)
                for m in items:
                    self.assertEqual(set(m), {"user_id", "username", "display_name", "role",
                                              "added_at", "roles"})
                    self.assertIsInstance(m["roles"], list)
                keys = [(m["display_name"].lower(), m["user_id"]) for m in items]
                self.assertEqual(keys, sorted(keys))
        self.assertEqual(s.ok("tina", "GET", f"/{g['id']}")["member_count"], 31)


if __name__ == "__main__":
    harness.main()
