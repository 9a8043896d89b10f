# SPDX-License-Identifier: Apache-2.0
"""test_noticeboard.py - the example plugin end to end, through the host's pipeline.

A teacher posts, lists, reads and takes down notices; a student may read but not post; no
token is 401; a school's token never reaches another school (404, never its data); a school
that has not enabled the module does not have its routes (404). Listing pages with limit and
an opaque cursor that walks every notice exactly once. Isolation between schools comes from
row-level security alone: the plugin's queries have no WHERE school_id.
"""

import base64
import os
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402


def notices(school: str) -> str:
    return f"/api/v1/schools/{school}/noticeboard/notices"


def cursor_of(raw: str) -> str:
    """A cursor in the server's encoding (base64url, no padding) of arbitrary content."""
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


class Noticeboard(fixtures.SharedHost):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        h, op = cls.host, cls.op_token
        cls.a = fixtures.school_with_users(
            h, op, "school-a", {"anna": ["teacher"], "sam": ["student"], "ada": ["admin"]},
            modules=["noticeboard"])
        cls.b = fixtures.school_with_users(
            h, op, "school-b", {"bert": ["teacher"], "bo": ["student"]},
            modules=["noticeboard"])
        cls.c = fixtures.school_with_users(h, op, "school-c", {"carl": ["teacher"]})

    # -- helpers -------------------------------------------------------------------------

    def post(self, school, token, title, body="text", **extra):
        resp = self.host.request("POST", notices(school), {"title": title, "body": body, **extra},
                                 token=token)
        self.assertEqual(resp.status, 201, resp)
        self.assertEqual(resp.content_type, "application/json")
        return resp.json()

    def list_all(self, school, token, limit=None):
        """Walk every page; returns (items, number of pages)."""
        items, pages, cursor = [], 0, None
        while True:
            query = []
            if limit is not None:
                query.append(f"limit={limit}")
            if cursor is not None:
                query.append(f"cursor={cursor}")
            path = notices(school) + ("?" + "&".join(query) if query else "")
            resp = self.host.request("GET", path, token=token)
            self.assertEqual(resp.status, 200, resp)
            page = resp.json()
            self.assertEqual(set(page), {"items", "next_cursor"})
            if limit is not None:
                self.assertLessEqual(len(page["items"]), limit)
            items += page["items"]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                return items, pages
            self.assertIsInstance(cursor, str)
            self.assertLess(pages, 100, "pagination does not end")

    # -- the life of a notice ------------------------------------------------------------

    def test_create_list_get_delete(self):
        t = self.a["anna"]
        created = self.post("school-a", t, "Sports day", "Friday, bring shoes", pinned=True)
        self.assertEqual(created["title"], "Sports day")
        self.assertEqual(created["body"], "Friday, bring shoes")
        self.assertIs(created["pinned"], True)
        uuid.UUID(created["id"])
        self.assertRegex(created["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        me = self.host.request("GET", "/api/v1/me", token=t).json()
        self.assertEqual(created["author_id"], me["id"])

        unpinned = self.post("school-a", t, "Lunch menu")
        self.assertIs(unpinned["pinned"], False)

        listed, _ = self.list_all("school-a", t)
        ids = [n["id"] for n in listed]
        self.assertIn(created["id"], ids)
        self.assertIn(unpinned["id"], ids)
        # newest first
        self.assertLess(ids.index(unpinned["id"]), ids.index(created["id"]))

        resp = self.host.request("GET", f"{notices('school-a')}/{created['id']}", token=t)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json(), created)

        resp = self.host.request("DELETE", f"{notices('school-a')}/{created['id']}", token=t)
        self.assertEqual(resp.status, 204, resp)
        self.assertEqual(resp.body, b"")
        harness.assert_problem(
            self.host.request("GET", f"{notices('school-a')}/{created['id']}", token=t), 404,
            "/not-found")
        harness.assert_problem(
            self.host.request("DELETE", f"{notices('school-a')}/{created['id']}", token=t), 404)
        listed, _ = self.list_all("school-a", t)
        self.assertNotIn(created["id"], [n["id"] for n in listed])

    def test_posted_event_does_not_break_post(self):
        # noticeboard.posted has no subscriber in the tree; publishing it must still work.
        n = self.post("school-a", self.a["anna"], "Event check")
        resp = self.host.request("GET", f"{notices('school-a')}/{n['id']}",
                                 token=self.a["anna"])
        self.assertEqual(resp.status, 200)
        self.assertNotRegex(self.host.log_text(), r"event noticeboard\.posted.*failed")

    def test_admin_and_operator_may_post(self):
        self.post("school-a", self.a["ada"], "From the head")
        n = self.post("school-a", self.op_token, "From the operator")
        self.assertIsNone(n["author_id"])

    def test_invalid_notice_bodies(self):
        t = self.a["anna"]
        for body, where in (({"title": "x"}, "body"), ({"body": "x"}, "title"),
                            ({"title": "", "body": "x"}, "/title"),
                            ({"title": "x" * 201, "body": "x"}, "/title"),
                            ({"title": "x", "body": "y", "pinned": "yes"}, "/pinned"),
                            ({"title": "x", "body": "y", "author_id": "z"}, "/author_id")):
            with self.subTest(body=body):
                problem = harness.assert_problem(
                    self.host.request("POST", notices("school-a"), body, token=t), 400,
                    "/invalid-request")
                self.assertIn(where, problem.get("detail", ""))

    # -- who may do what -----------------------------------------------------------------

    def test_student_reads_but_may_not_post(self):
        t = self.a["sam"]
        problem = harness.assert_problem(
            self.host.request("POST", notices("school-a"), {"title": "hi", "body": "x"},
                              token=t), 403, "/forbidden")
        self.assertIn("noticeboard.post", problem.get("detail", ""))
        n = self.post("school-a", self.a["anna"], "For students")
        self.assertEqual(self.host.request("GET", notices("school-a"), token=t).status, 200)
        self.assertEqual(
            self.host.request("GET", f"{notices('school-a')}/{n['id']}", token=t).status, 200)
        harness.assert_problem(
            self.host.request("DELETE", f"{notices('school-a')}/{n['id']}", token=t), 403)
        self.assertEqual(
            self.host.request("GET", f"{notices('school-a')}/{n['id']}", token=t).status, 200)

    def test_no_token_is_401(self):
        n = self.post("school-a", self.a["anna"], "Private")
        for method, path, body in (("GET", notices("school-a"), None),
                                   ("POST", notices("school-a"), {"title": "x", "body": "y"}),
                                   ("GET", f"{notices('school-a')}/{n['id']}", None),
                                   ("DELETE", f"{notices('school-a')}/{n['id']}", None)):
            with self.subTest(f"{method} {path}"):
                harness.assert_problem(self.host.request(method, path, body), 401,
                                       "/unauthenticated")
        harness.assert_problem(
            self.host.request("GET", notices("school-a"), token="not-a-real-token"), 401)
        self.assertEqual(
            self.host.request("GET", f"{notices('school-a')}/{n['id']}",
                              token=self.a["anna"]).status, 200)

    def test_token_of_another_school_is_404(self):
        a_notice = self.post("school-a", self.a["anna"], "Only for A", "secret-of-a")
        bert = self.b["bert"]
        for method, path, body in (
                ("GET", notices("school-a"), None),
                ("POST", notices("school-a"), {"title": "from B", "body": "x"}),
                ("GET", f"{notices('school-a')}/{a_notice['id']}", None),
                ("DELETE", f"{notices('school-a')}/{a_notice['id']}", None),
                ("GET", "/api/v1/schools/school-a", None)):
            with self.subTest(f"{method} {path}"):
                resp = self.host.request(method, path, body, token=bert)
                harness.assert_problem(resp, 404, "/not-found")
                self.assertNotIn(b"secret-of-a", resp.body)
                self.assertNotIn(b"Only for A", resp.body)
        # the same answer as for a school that does not exist
        harness.assert_problem(self.host.request("GET", notices("no-such-school"), token=bert),
                               404)
        # and A's notice is untouched
        self.assertEqual(
            self.host.request("GET", f"{notices('school-a')}/{a_notice['id']}",
                              token=self.a["anna"]).status, 200)
        listed, _ = self.list_all("school-a", self.a["anna"])
        self.assertNotIn("from B", [n["title"] for n in listed])

    def test_module_not_enabled_is_404(self):
        carl = self.c["carl"]
        some_id = str(uuid.uuid4())
        for method, path, body in (("GET", notices("school-c"), None),
                                   ("POST", notices("school-c"), {"title": "x", "body": "y"}),
                                   ("GET", f"{notices('school-c')}/{some_id}", None),
                                   ("DELETE", f"{notices('school-c')}/{some_id}", None)):
            with self.subTest(f"{method} {path}"):
                harness.assert_problem(self.host.request(method, path, body, token=carl), 404,
                                       "/not-found")
                harness.assert_problem(self.host.request(method, path, body,
                                                         token=self.op_token), 404)
        # the school itself is there
        self.assertEqual(self.host.request("GET", "/api/v1/schools/school-c",
                                           token=carl).status, 200)

    # -- paging ----------------------------------------------------------------------------

    def test_pagination_walks_every_notice_once(self):
        fixtures.make_school(self.host, self.op_token, "paging", modules=["noticeboard"])
        fixtures.make_user(self.host, self.op_token, "paging", "pat", roles=["teacher"])
        t = fixtures.login(self.host, "pat", school="paging")
        made = [self.post("paging", t, f"Notice {i}")["id"] for i in range(5)]

        items, pages = self.list_all("paging", t, limit=2)
        ids = [n["id"] for n in items]
        self.assertEqual(pages, 3)
        self.assertEqual(len(ids), 5)
        self.assertEqual(sorted(ids), sorted(made), "each notice exactly once")
        self.assertEqual(ids, list(reversed(made)), "newest first")

        # the same walk with a limit equal to the count: one full page, then the end
        items, pages = self.list_all("paging", t, limit=5)
        self.assertEqual(len(items), 5)
        self.assertLessEqual(pages, 2)
        # default limit takes them all
        items, pages = self.list_all("paging", t)
        self.assertEqual((len(items), pages), (5, 1))

    def test_cursor_is_stable_under_new_notices(self):
        fixtures.make_school(self.host, self.op_token, "paging2", modules=["noticeboard"])
        fixtures.make_user(self.host, self.op_token, "paging2", "pia", roles=["teacher"])
        t = fixtures.login(self.host, "pia", school="paging2")
        made = [self.post("paging2", t, f"Old {i}")["id"] for i in range(4)]
        first = self.host.request("GET", notices("paging2") + "?limit=2", token=t).json()
        self.post("paging2", t, "Newer than the cursor")
        rest = self.host.request(
            "GET", notices("paging2") + f"?limit=2&cursor={first['next_cursor']}",
            token=t).json()
        self.assertEqual([n["id"] for n in first["items"] + rest["items"]],
                         list(reversed(made)))

    def test_bad_cursor_is_400(self):
        t = self.a["anna"]
        for cursor in ("garbage", "!!!!", "abc%00def", cursor_of("no separator"),
                       cursor_of("not a time|not a uuid"),
                       cursor_of("2026-01-01 00:00:00+00|not-a-uuid"),
                       cursor_of("x" * 600)):
            with self.subTest(cursor=cursor):
                harness.assert_problem(
                    self.host.request("GET", notices("school-a") + f"?cursor={cursor}",
                                      token=t), 400, "/invalid-request")

    def test_bad_limit_is_400(self):
        t = self.a["anna"]
        for limit in ("0", "501", "-1", "abc", "2.5", ""):
            with self.subTest(limit=limit):
                harness.assert_problem(
                    self.host.request("GET", notices("school-a") + f"?limit={limit}", token=t),
                    400, "/invalid-request")
        for limit in ("1", "500"):
            with self.subTest(limit=limit):
                self.assertEqual(
                    self.host.request("GET", notices("school-a") + f"?limit={limit}",
                                      token=t).status, 200)

    def test_non_uuid_id_is_404(self):
        t = self.a["anna"]
        for bad in ("123", "not-a-uuid", "0" * 40, "'; DROP TABLE x; --".replace(" ", "%20")):
            with self.subTest(bad):
                harness.assert_problem(
                    self.host.request("GET", f"{notices('school-a')}/{bad}", token=t), 404,
                    "/not-found")
                harness.assert_problem(
                    self.host.request("DELETE", f"{notices('school-a')}/{bad}", token=t), 404)
        harness.assert_problem(
            self.host.request("GET", f"{notices('school-a')}/{uuid.uuid4()}", token=t), 404)

    # -- isolation -----------------------------------------------------------------------

    def test_row_level_security_isolates_schools(self):
        a_ids = {self.post("school-a", self.a["anna"], f"A-only {i}")["id"] for i in range(3)}
        b_ids = {self.post("school-b", self.b["bert"], f"B-only {i}")["id"] for i in range(2)}

        b_items, _ = self.list_all("school-b", self.b["bert"], limit=1)
        b_seen = {n["id"] for n in b_items}
        self.assertFalse(b_seen & a_ids, "school B's list shows school A's notices")
        self.assertLessEqual(b_ids, b_seen)
        self.assertFalse([n for n in b_items if n["title"].startswith("A-only")])

        a_items, _ = self.list_all("school-a", self.a["anna"])
        a_seen = {n["id"] for n in a_items}
        self.assertFalse(a_seen & b_ids, "school A's list shows school B's notices")
        self.assertLessEqual(a_ids, a_seen)

        # an operator (who may enter any school) sees each school's own notices only
        op_b, _ = self.list_all("school-b", self.op_token)
        self.assertEqual({n["id"] for n in op_b}, b_seen)

        # by id, through the other school's path: not there, and not deletable
        some_a = next(iter(a_ids))
        for token in (self.b["bert"], self.op_token):
            harness.assert_problem(
                self.host.request("GET", f"{notices('school-b')}/{some_a}", token=token), 404)
            harness.assert_problem(
                self.host.request("DELETE", f"{notices('school-b')}/{some_a}", token=token),
                404)
        self.assertEqual(
            self.host.request("GET", f"{notices('school-a')}/{some_a}",
                              token=self.a["anna"]).status, 200)

        # the isolation really is the table's policy: forced RLS, and the rows are there
        self.assertEqual(self.pg.psql(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE oid = 'noticeboard.notices'::regclass"), "t|t\n")
        total = int(self.pg.psql(
            "SELECT count(*) FROM noticeboard.notices n JOIN core.schools s "
            "ON s.id = n.school_id WHERE s.slug IN ('school-a', 'school-b')").strip())
        self.assertGreaterEqual(total, len(a_seen) + len(b_seen))
        self.assertEqual(total, len(a_seen) + len(b_seen))


if __name__ == "__main__":
    harness.main()
