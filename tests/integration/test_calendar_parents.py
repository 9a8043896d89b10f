# SPDX-License-Identifier: Apache-2.0
"""test_calendar_parents.py - parents see their children's group calendars, read-only (issue
#19).

A parent linked to a student (core.parent_links, PUT /users/{id}/parents/{parent_id}) sees the
calendars of the groups the student belongs to: in the list, one by one, their events and
occurrences, in GET /events. They may not change them (403), nor subscribe to them. A parent of
another child, a parent whose link was removed, and another school's parent see nothing (404).
"""

from __future__ import annotations

import fixtures
import harness
from test_calendar import CalendarTestCase, School


class Parents(CalendarTestCase):
    def setup_school(self) -> tuple[School, str, str]:
        s = self.school()
        s.add_person("paul", ["parent"], display_name="Paul Parent")
        gid = s.group("7b", owner="tina", members=["sam"])
        other = s.group("8c", owner="tina", members=["sue"])
        cal = s.calendar("tina", "7b", owner={"type": "group", "id": gid})["id"]
        s.calendar("tina", "8c", owner={"type": "group", "id": other})
        s.event(cal, summary="Wandertag", start="2026-05-04T08:00:00Z",
                end="2026-05-04T14:00:00Z")
        # Pia is Sam's parent; Paul is Sue's.
        for student, parent in (("sam", "pia"), ("sue", "paul")):
            fixtures.check(s.raw("ada", "PUT", f"/users/{s.ids[student]}/parents/"
                                              f"{s.ids[parent]}"), 200, 204, what="link")
        return s, cal, gid

    def test_parent_sees_child_group_calendar(self) -> None:
        s, cal, _ = self.setup_school()
        seen = s.ok("pia", "GET", f"/calendars/{cal}")
        self.assertEqual(seen["name"], "7b")
        self.assertFalse(seen["can_edit"])
        names = {c["name"]: c["can_edit"] for c in s.ok("pia", "GET", "/calendars")["items"]}
        self.assertEqual(names.get("7b"), False)
        self.assertNotIn("8c", names)
        occ = s.window("pia", f"/calendars/{cal}/events", "2026-05-01", "2026-06-01")
        self.assertEqual([o["summary"] for o in occ], ["Wandertag"])
        self.assertIn("Wandertag", [o["summary"] for o in s.window(
            "pia", "/events", "2026-05-01", "2026-06-01")])
        ev = self.sql(f"SELECT id FROM calendar.events WHERE calendar_id = '{cal}'")
        self.assertEqual(s.ok("pia", "GET", f"/calendars/{cal}/events/{ev}")["summary"],
                         "Wandertag")
        resp = s.req("pia", "GET", f"/calendars/{cal}/export.ics")
        self.assertEqual(resp.status, 200)

    def test_parent_cannot_write(self) -> None:
        s, cal, gid = self.setup_school()
        ev = self.sql(f"SELECT id FROM calendar.events WHERE calendar_id = '{cal}'")
        path = f"/calendars/{cal}"
        for method, sub, body in (
                ("POST", "/events", {"summary": "x", "start": "2026-05-05T08:00:00Z",
                                     "end": "2026-05-05T09:00:00Z"}),
                ("PATCH", f"/events/{ev}", {"summary": "hacked"}),
                ("DELETE", f"/events/{ev}", None),
                ("PUT", f"/events/{ev}/occurrences/2026-05-04T08:00:00Z", {"summary": "x"}),
                ("PATCH", "", {"name": "hacked"}),
                ("DELETE", "", None)):
            with self.subTest(method=method, sub=sub):
                self.assertProblem(s.req("pia", method, path + sub, body), 403, "forbidden")
        self.assertProblem(s.req("pia", "POST", f"{path}/import", b"BEGIN:VCALENDAR\r\n"
                                 b"END:VCALENDAR\r\n", headers={"Content-Type": "text/calendar"}),
                           403)
        self.assertProblem(s.req("pia", "POST", f"{path}/subscriptions", {}), 403)
        # Nor may a parent make a calendar for the child's group.
        self.assertIn(s.req("pia", "POST", "/calendars", {
            "name": "x", "owner": {"type": "group", "id": gid}}).status, (403, 422))
        self.assertEqual(s.ok("tina", "GET", f"{path}/events/{ev}")["summary"], "Wandertag")

    def test_other_parents_see_nothing(self) -> None:
        s, cal, _ = self.setup_school()
        ev = self.sql(f"SELECT id FROM calendar.events WHERE calendar_id = '{cal}'")
        # Sue's parent: not Sam's group.
        self.assertProblem(s.req("paul", "GET", f"/calendars/{cal}"), 404, "not-found")
        self.assertProblem(s.req("paul", "GET", f"/calendars/{cal}/events/{ev}"), 404)
        self.assertProblem(s.req("paul", "GET", f"/calendars/{cal}/events?from=2026-05-01"
                                                f"&to=2026-06-01"), 404)
        self.assertNotIn("Wandertag", [o["summary"] for o in s.window(
            "paul", "/events", "2026-05-01", "2026-06-01")])
        self.assertEqual([c["name"] for c in s.ok("paul", "GET", "/calendars")["items"]
                          if c["owner"]["type"] == "group"], ["8c"])
        # Unlinked: gone again.
        fixtures.check(s.raw("ada", "DELETE", f"/users/{s.ids['sam']}/parents/{s.ids['pia']}"),
                       204, what="unlink")
        self.assertProblem(s.req("pia", "GET", f"/calendars/{cal}"), 404)
        # A parent in another school, linked there to a child of the same name, sees nothing
        # of this school's ids.
        t = self.school()
        t.group("7b", owner="tina", members=["sam"])
        fixtures.check(t.raw("ada", "PUT", f"/users/{t.ids['sam']}/parents/{t.ids['pia']}"),
                       200, 204, what="link")
        self.assertProblem(t.req("pia", "GET", f"/calendars/{cal}"), 404)
        self.assertProblem(t.req("pia", "GET", f"/calendars/{cal}/events/{ev}"), 404)
        self.assertNotIn("Wandertag", [o["summary"] for o in t.window(
            "pia", "/events", "2026-05-01", "2026-06-01")])

    def test_parent_is_not_a_member_elsewhere(self) -> None:
        """A parent's own rights stay theirs: no personal calendar of the child, no school
        calendar editing."""
        s, _, _ = self.setup_school()
        mine = s.calendar("sam", "Sams Kalender")["id"]
        self.assertProblem(s.req("pia", "GET", f"/calendars/{mine}"), 404)
        school_cal = s.calendar("ada", "Schule", owner={"type": "school"})["id"]
        self.assertFalse(s.ok("pia", "GET", f"/calendars/{school_cal}")["can_edit"])


if __name__ == "__main__":
    harness.main()
