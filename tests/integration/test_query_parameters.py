"""test_query_parameters.py - the query parameters routes declare (AtriumRoute.query_schema,
ATRIUM_ROUTE_PAGED) are checked by the host before a handler runs, over real HTTP.

A value that is not of its declared type, not one of its values or not in its range answers
400 naming the parameter; a required one that is missing says what it is for; parameters a
route does not declare (a browser's cache buster) are ignored; who is asking is still decided
first. The OpenAPI side is in test_metrics_openapi.py, the rules themselves in
tests/unit/test-query-schema.c.
"""
from __future__ import annotations

import fixtures
import harness


class Query(fixtures.School):
    MODULES = ("groups", "calendar", "files", "mail", "conference")
    PEOPLE = ("ada", "tina", "sam")


class QueryParameters(fixtures.SharedHost):
    EXIT_CHECK = ("atriumd", "query-schema.c")

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.s = Query(cls.host, cls.op_token)

    def refused(self, who: str | None, method: str, path: str, detail: str,
                body: bytes | None = None) -> None:
        resp = self.host.request(method, f"/api/v1/schools/{self.s.slug}{path}", body,
                                 token=self.s.tokens[who] if who else None)
        problem = harness.assert_problem(resp, 400, "invalid-request")
        self.assertEqual(problem["detail"], detail, f"{method} {path}")

    def test_types_enums_and_ranges(self):
        self.refused("ada", "GET", "/users?role=king",
                     "?role: value is not one of the allowed values (admin, teacher, student, "
                     "parent, staff)")
        self.refused("ada", "GET", "/users?q=" + "x" * 201, "?q: longer than 200 characters")
        self.refused("tina", "GET", "/groups?type=club",
                     "?type: value is not one of the allowed values (class, course, workgroup, "
                     "staff, custom)")
        self.refused("tina", "GET", "/calendar/calendars?owner_type=pet",
                     "?owner_type: value is not one of the allowed values (user, group, school)")
        self.refused("ada", "GET", "/conference/stats?granularity=week",
                     "?granularity: value is not one of the allowed values (day, hour)")
        self.refused("ada", "GET", "/conference/stats?from=2026-13-01T00:00:00Z",
                     "?from: not a valid date-time")
        self.refused("tina", "GET", "/conference/rooms?group_id=7", "?group_id: not a valid uuid")
        self.refused("tina", "GET", "/files/home/?limit=0", "?limit: below the minimum 1")
        self.refused("tina", "GET", "/files/home/?limit=ten", "?limit: expected a whole number")
        self.refused("tina", "PUT", "/files/home/a.txt?parents=yes",
                     "?parents: expected true or false", body=b"a")
        self.refused("tina", "POST", "/files/home/new?action=mkdir&parents=1",
                     "?parents: expected true or false")
        self.refused("tina", "POST", "/files/home/new?action=rename",
                     "?action: value is not one of the allowed values (mkdir, move, copy, share)")
        self.refused("tina", "POST", "/mail/folders/INBOX/messages?seen=yes",
                     "?seen: expected true or false", body=b"Subject: x\r\n\r\nx\r\n")
        self.refused("ada", "POST", "/users/import?dry_run=maybe",
                     "?dry_run: value is not one of the allowed values (true, false, 1, 0)",
                     body=b"username\n")
        # Nothing was written by any of them.
        for path in ("/files/home/a.txt", "/files/home/new"):
            harness.assert_problem(self.s.raw("tina", "GET", path), 404)

    def test_required_parameters_say_what_they_are_for(self):
        self.refused("tina", "GET", "/calendar/events",
                     "?from: this query parameter is required (the window's start: an RFC 3339 "
                     "date-time, or a date (its midnight, UTC))")
        self.refused("tina", "GET", "/calendar/events?from=2026-09-01",
                     "?to: this query parameter is required (the window's end, after from (not "
                     "included))")
        self.refused("tina", "POST", "/files/home/new",
                     "?action: this query parameter is required (what to do with the path)")
        self.refused("tina", "GET", "/mail/search?q=", "?q: shorter than 1 characters")
        self.refused("tina", "GET", "/mail/search",
                     "?q: this query parameter is required (what to look for, in PostgreSQL's "
                     "websearch syntax (\"two words\", or, -not); at most 500 bytes)")

    def test_good_values_and_undeclared_parameters_pass(self):
        # A cache buster, an array-style name and a declared one that is well formed.
        page = fixtures.check(self.s.raw("ada", "GET", "/users?_=1733580000&ids[]=x&role=student"
                                         "&limit=1"), 200).json()
        self.assertEqual([u["username"] for u in page["items"]], ["sam"])
        self.assertIsNone(page["next_cursor"])
        fixtures.check(self.s.raw("tina", "GET", "/calendar/events?from=2026-09-01"
                                  "&to=2026-09-08T00:00:00Z&utm_source=mail"), 200)
        fixtures.check(self.s.raw("tina", "PUT", "/files/home/deep/a.txt?parents=true", b"a"),
                       201)
        fixtures.check(self.host.request(
            "POST", f"/api/v1/schools/{self.s.slug}/mail/folders/INBOX/messages?seen=true",
            b"Subject: kept\r\n\r\nkept\r\n", token=self.s.tokens["tina"],
            headers={"Content-Type": "message/rfc822"}), 201)

    def test_who_is_asking_comes_first(self):
        # An anonymous caller, another school's caller and one without the permission learn
        # nothing from the parameters' refusals: 401, 404 and 403 as without them.
        path = f"/api/v1/schools/{self.s.slug}/users?role=king"
        harness.assert_problem(self.host.request("GET", path), 401)
        harness.assert_problem(self.host.request("GET", path, token=self.s.tokens["sam"]), 403)
        other = Query(self.host, self.op_token, modules=())
        harness.assert_problem(self.host.request(
            "GET", f"/api/v1/schools/{other.slug}/calendar/events", token=other.tokens["tina"]),
            404)


if __name__ == "__main__":
    harness.main()
