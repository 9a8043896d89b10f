# SPDX-License-Identifier: Apache-2.0
"""test_calendar.py - the calendar module over HTTP: calendars of a person, a group and the
school, events and recurring series, single occurrences, the window views, and who may do what.

Covered route by route, each with its refusals (problem+json and status): POST/GET /calendars,
GET/PATCH/DELETE /calendars/{id}, POST/GET /calendars/{id}/events, GET/PATCH/DELETE
/calendars/{id}/events/{event_id}, PUT/DELETE .../occurrences/{recurrence_id}, GET /events.
Recurrence is checked in the event's own time zone across both DST changes of 2026, with
EXDATEs, overridden and cancelled occurrences, and the occurrence limit; the window query is
checked to use the GiST index. Also: user.deleted, group.deleted, the GDPR export, a disabled
module, another school's ids, and concurrent expansion on several workers.

.ics import/export and subscription feeds are in test_calendar_ical.py. One PostgreSQL and one
atriumd serve the file; every test builds its own school.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any, Sequence

import fixtures
import harness


class School(fixtures.School):
    """A test school with the calendar module (fixtures.School) and calendar helpers."""

    AREA = "calendar"
    SLUG_PREFIX = "c"
    MODULES = ("groups", "calendar")

    def calendar(self, who: str = "tina", name: str = "Mine", owner: dict | None = None,
                 **extra: Any) -> dict:
        return self.ok(who, "POST", "/calendars",
                       {"name": name, "owner": owner or {"type": "user"}, **extra},
                       status=(201,))

    def event(self, cal: str, who: str = "tina", **body: Any) -> dict:
        body.setdefault("summary", "Lesson")
        return self.ok(who, "POST", f"/calendars/{cal}/events", body, status=(201,))

    def group(self, name: str, owner: str = "tina", members: Sequence[str] = ()) -> str:
        return self.make_group(name, owner, members)

    def window(self, who: str, path: str, start: str, end: str, limit: int = 500) -> list[dict]:
        """Every occurrence in [start, end), walking all pages."""
        items: list[dict] = []
        cursor = None
        for _ in range(100):
            q = f"{path}?from={start}&to={end}&limit={limit}" + (
                f"&cursor={cursor}" if cursor else "")
            page = self.ok(who, "GET", q)
            assert set(page) == {"items", "next_cursor"}, page
            assert len(page["items"]) <= limit
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items
        raise AssertionError("pagination does not end")


class CalendarTestCase(fixtures.SharedHost):
    # Under the sanitizers, a leak through libical or this plugin fails the class at exit.
    EXIT_CHECK = ("libical", "calendar", "ical-", "ical.c")

    def school(self, **kw: Any) -> School:
        return School(self.host, self.op_token, **kw)

    def sql(self, query: str) -> str:
        return self.pg.psql(query).strip()


class Calendars(CalendarTestCase):
    def test_personal_calendar_is_private(self) -> None:
        s = self.school()
        cal = s.calendar("tina", "Tina's", color="#AABBCC")
        self.assertEqual(cal["owner"], {"type": "user", "id": s.ids["tina"]})
        self.assertEqual(cal["color"], "#aabbcc")
        self.assertTrue(cal["can_edit"])
        self.assertEqual(s.ok("tina", "GET", f"/calendars/{cal['id']}")["name"], "Tina's")
        for who in ("sam", "ada", "op"):
            self.assertProblem(s.req(who, "GET", f"/calendars/{cal['id']}"), 404, "not-found")
            names = [c["name"] for c in s.ok(who, "GET", "/calendars")["items"]]
            self.assertNotIn("Tina's", names)
        self.assertIn("Tina's", [c["name"] for c in s.ok("tina", "GET", "/calendars")["items"]])

    def test_personal_calendar_for_someone_else(self) -> None:
        s = self.school()
        cal = s.calendar("ada", "For Sam", owner={"type": "user", "id": s.ids["sam"]})
        self.assertEqual(cal["owner"]["id"], s.ids["sam"])
        self.assertTrue(s.ok("sam", "GET", f"/calendars/{cal['id']}")["can_edit"])
        self.assertProblem(s.req("ada", "GET", f"/calendars/{cal['id']}"), 404)
        self.assertProblem(s.req("tina", "POST", "/calendars", {
            "name": "x", "owner": {"type": "user", "id": s.ids["sam"]}}), 403, "forbidden")
        self.assertProblem(s.req("ada", "POST", "/calendars", {
            "name": "x", "owner": {"type": "user", "id": str(uuid.uuid4())}}), 422)
        # An operator has no personal calendar of its own.
        self.assertProblem(s.req("op", "POST", "/calendars",
                                 {"name": "x", "owner": {"type": "user"}}), 422)

    def test_group_calendar_rights(self) -> None:
        s = self.school()
        gid = s.group("7a", owner="tina", members=["sam", "tom"])
        cal = s.calendar("tina", "7a", owner={"type": "group", "id": gid})
        path = f"/calendars/{cal['id']}"
        # Members see it; the owner and members with calendar.write (teachers) change it.
        self.assertFalse(s.ok("sam", "GET", path)["can_edit"])
        self.assertTrue(s.ok("tom", "GET", path)["can_edit"])
        ev = s.event(cal["id"], "tom", start="2026-05-04T08:00:00Z", end="2026-05-04T09:00:00Z")
        self.assertProblem(s.req("sam", "POST", f"{path}/events", {
            "summary": "x", "start": "2026-05-04T08:00:00Z", "end": "2026-05-04T09:00:00Z"}),
            403, "forbidden")
        self.assertProblem(s.req("sam", "PATCH", path, {"name": "hacked"}), 403)
        self.assertProblem(s.req("sam", "DELETE", f"{path}/events/{ev['id']}"), 403)
        self.assertEqual(s.ok("sam", "GET", f"{path}/events/{ev['id']}")["summary"], "Lesson")
        # Not a member: not found, even for staff; calendar.manage (admin) sees and edits.
        self.assertProblem(s.req("stan", "GET", path), 404)
        self.assertProblem(s.req("stan", "GET", f"{path}/events/{ev['id']}"), 404)
        self.assertTrue(s.ok("ada", "GET", path)["can_edit"])
        s.ok("ada", "PATCH", path, {"name": "7a (Klasse)"})
        # Creating a group's calendar: members without calendar.write may not; non-members
        # cannot even learn that the group exists; unknown groups are the same.
        self.assertProblem(s.req("sam", "POST", "/calendars", {
            "name": "x", "owner": {"type": "group", "id": gid}}), 403)
        self.assertProblem(s.req("stan", "POST", "/calendars", {
            "name": "x", "owner": {"type": "group", "id": gid}}), 422, "unprocessable")
        self.assertProblem(s.req("tina", "POST", "/calendars", {
            "name": "x", "owner": {"type": "group", "id": str(uuid.uuid4())}}), 422)
        self.assertProblem(s.req("tina", "POST", "/calendars", {
            "name": "x", "owner": {"type": "group"}}), 400)
        s.calendar("ada", "by admin", owner={"type": "group", "id": gid})
        # Lists: members see the group's calendars, a non-member does not.
        self.assertIn("7a (Klasse)", [c["name"] for c in s.ok("sam", "GET", "/calendars")["items"]])
        self.assertNotIn("7a (Klasse)",
                         [c["name"] for c in s.ok("stan", "GET", "/calendars")["items"]])

    def test_school_calendar(self) -> None:
        s = self.school()
        cal = s.calendar("ada", "Termine", owner={"type": "school"})
        self.assertEqual(cal["owner"], {"type": "school"})
        for who in ("sam", "pia", "stan", "tina"):
            got = s.ok(who, "GET", f"/calendars/{cal['id']}")
            self.assertFalse(got["can_edit"], who)
        self.assertProblem(s.req("tina", "PATCH", f"/calendars/{cal['id']}", {"name": "x"}), 403)
        self.assertProblem(s.req("tina", "POST", "/calendars", {
            "name": "x", "owner": {"type": "school"}}), 403)
        self.assertProblem(s.req("ada", "POST", "/calendars", {
            "name": "x", "owner": {"type": "school", "id": s.ids["ada"]}}), 400)
        self.assertTrue(s.ok("op", "GET", f"/calendars/{cal['id']}")["can_edit"])

    def test_patch_and_delete(self) -> None:
        s = self.school()
        cal = s.calendar("tina", "Old", color="#000000")
        path = f"/calendars/{cal['id']}"
        got = s.ok("tina", "PATCH", path, {"name": "New"})
        self.assertEqual((got["name"], got["color"]), ("New", "#000000"))
        self.assertIsNone(s.ok("tina", "PATCH", path, {"color": None})["color"])
        self.assertProblem(s.req("tina", "PATCH", path, {"owner": {"type": "school"}}), 400)
        self.assertProblem(s.req("tina", "PATCH", path, {"name": 7}), 400)
        self.assertProblem(s.req("tina", "PATCH", path, {"color": "red"}), 400)
        self.assertProblem(s.req("tina", "PATCH", path, {"name": ""}), 400)
        s.event(cal["id"], start="2026-05-04T08:00:00Z", end="2026-05-04T09:00:00Z")
        self.assertProblem(s.req("sam", "DELETE", path), 404)
        s.ok("tina", "DELETE", path, status=(204,))
        self.assertProblem(s.req("tina", "GET", path), 404)
        self.assertEqual(self.sql(f"SELECT count(*) FROM calendar.events "
                                  f"WHERE calendar_id = '{cal['id']}'"), "0")

    def test_request_refusals(self) -> None:
        s = self.school()
        good = {"name": "x", "owner": {"type": "user"}}
        self.assertProblem(s.req(None, "POST", "/calendars", good), 401, "unauthenticated")
        self.assertProblem(s.req(None, "GET", "/calendars"), 401)
        self.assertProblem(s.req("tina", "POST", "/calendars", b"{not json",
                                 headers={"Content-Type": "application/json"}), 400)
        self.assertProblem(s.req("tina", "POST", "/calendars", json.dumps(good),
                                 headers={"Content-Type": "text/plain"}), 415)
        for bad in ({"owner": {"type": "user"}}, {"name": "x"},
                    {"name": "x", "owner": {"type": "class"}},
                    {"name": "x", "owner": {"type": "user"}, "extra": 1},
                    {"name": "x", "owner": {"type": "user", "id": "not-a-uuid"}},
                    {"name": ["x"], "owner": {"type": "user"}},
                    {"name": "x" * 201, "owner": {"type": "user"}}, [good]):
            self.assertProblem(s.req("tina", "POST", "/calendars", bad), 400, "invalid-request")
        for bad_id in ("nope", str(uuid.uuid4())):
            self.assertProblem(s.req("tina", "GET", f"/calendars/{bad_id}"), 404)
            self.assertProblem(s.req("tina", "PATCH", f"/calendars/{bad_id}", {"name": "y"}), 404)
            self.assertProblem(s.req("tina", "DELETE", f"/calendars/{bad_id}"), 404)
        self.assertProblem(s.req("tina", "GET", "/calendars?owner_type=class"), 400)
        self.assertProblem(s.req("tina", "GET", "/calendars?cursor=bm9wZQ"), 400)
        self.assertProblem(s.req("tina", "GET", "/calendars?limit=0"), 400)

    def test_other_school_and_disabled_module(self) -> None:
        a, b = self.school(), self.school()
        cal = a.calendar("ada", "A", owner={"type": "school"})
        ev = a.event(cal["id"], "ada", start="2026-05-04T08:00:00Z", end="2026-05-04T09:00:00Z")
        # B's admin asks B's school for A's ids: not found; A's token on B's path: not found.
        for path in (f"/calendars/{cal['id']}", f"/calendars/{cal['id']}/events/{ev['id']}",
                     f"/calendars/{cal['id']}/events?from=2026-05-01&to=2026-06-01"):
            self.assertProblem(b.req("ada", "GET", path), 404)
            self.assertProblem(self.host.request("GET", f"/api/v1/schools/{b.slug}/calendar{path}",
                                                 token=a.tokens["ada"]), 404)
        self.assertProblem(b.req("ada", "PATCH", f"/calendars/{cal['id']}", {"name": "x"}), 404)
        self.assertProblem(b.req("ada", "POST", f"/calendars/{cal['id']}/events", {
            "summary": "x", "start": "2026-05-04T08:00:00Z", "end": "2026-05-04T09:00:00Z"}), 404)
        # A school without the module has none of its routes.
        c = self.school(modules=("groups",))
        for method, path in (("GET", "/calendars"), ("GET", "/events?from=2026-01-01&to=2026-02-01"),
                             ("POST", "/calendars")):
            body = {"name": "x", "owner": {"type": "user"}} if method == "POST" else None
            self.assertProblem(c.req("tina", method, path, body), 404)
        fixtures.check(a.raw("op", "DELETE", "/modules/calendar"), 204, what="disable")
        self.assertProblem(a.req("ada", "GET", f"/calendars/{cal['id']}"), 404)

    def test_list_pagination(self) -> None:
        s = self.school()
        # The second page ends on a name with a line break (the cursor must survive it).
        names = [f"Cal {i:02d}" for i in range(5)] + ["Cal 05\nzweite Zeile", "Cal 06"]
        for n in names:
            s.calendar("ada", n, owner={"type": "school"})
        s.calendar("tina", "Zz mine")
        seen, cursor = [], None
        for _ in range(10):
            q = "/calendars?limit=3" + (f"&cursor={cursor}" if cursor else "")
            page = s.ok("tina", "GET", q)
            seen += [c["name"] for c in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen, names + ["Zz mine"])
        only = s.ok("tina", "GET", "/calendars?owner_type=user")["items"]
        self.assertEqual([c["name"] for c in only], ["Zz mine"])


ICS_BODY = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:r1\r\n"
            b"DTSTAMP:20260101T000000Z\r\nDTSTART:20260504T080000Z\r\nDTEND:20260504T090000Z"
            b"\r\nSUMMARY:r\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
EVENT = {"summary": "x", "start": "2026-05-04T08:00:00Z", "end": "2026-05-04T09:00:00Z"}
WINDOW = "from=2026-05-01T00:00:00Z&to=2026-06-01T00:00:00Z"


def every_route(cal: str, ev: str, rid: str, sub: str) -> list[tuple[str, str, Any, bool]]:
    """(method, path, body, writes) for every school-scoped route of the module."""
    return [
        ("POST", "/calendars", {"name": "x", "owner": {"type": "user"}}, False),
        ("GET", "/calendars", None, False),
        ("GET", f"/calendars/{cal}", None, False),
        ("GET", f"/calendars/{cal}.ics", None, False),
        ("PATCH", f"/calendars/{cal}", {"name": "y"}, True),
        ("DELETE", f"/calendars/{cal}", None, True),
        ("POST", f"/calendars/{cal}/events", EVENT, True),
        ("GET", f"/calendars/{cal}/events?{WINDOW}", None, False),
        ("GET", f"/calendars/{cal}/events/{ev}", None, False),
        ("PATCH", f"/calendars/{cal}/events/{ev}", {"summary": "z"}, True),
        ("DELETE", f"/calendars/{cal}/events/{ev}", None, True),
        ("PUT", f"/calendars/{cal}/events/{ev}/occurrences/{rid}", {"summary": "o"}, True),
        ("DELETE", f"/calendars/{cal}/events/{ev}/occurrences/{rid}", None, True),
        ("GET", f"/events?{WINDOW}", None, False),
        ("POST", f"/calendars/{cal}/import", ICS_BODY, True),
        ("GET", f"/calendars/{cal}/export.ics", None, False),
        ("POST", f"/calendars/{cal}/subscriptions", {}, False),
        ("GET", f"/calendars/{cal}/subscriptions", None, False),
        ("DELETE", f"/calendars/{cal}/subscriptions/{sub}", None, False),
    ]


class EveryRoute(CalendarTestCase):
    """The refusals every route shares, table-driven over all of them."""

    def fixture(self, s: School, owner: dict, who: str) -> tuple[str, str, str, str]:
        cal = s.calendar(who, "Target", owner=owner)["id"]
        ev = s.event(cal, who, start="2026-05-04T08:00:00Z", end="2026-05-04T09:00:00Z",
                     rrule="FREQ=DAILY;COUNT=5")["id"]
        subscriber = who if owner["type"] != "school" else "tina"
        sub = s.ok(subscriber, "POST", f"/calendars/{cal}/subscriptions", {}, status=(201,))["id"]
        return cal, ev, "2026-05-05T08:00:00Z", sub

    def send(self, s: School, who: str | None, method: str, path: str, body: Any,
             token: str | None = None) -> harness.Response:
        headers = {"Content-Type": "text/calendar"} if isinstance(body, bytes) else None
        if token is not None:
            return self.host.request(method, f"/api/v1/schools/{s.slug}/calendar{path}", body,
                                     headers=headers, token=token)
        return s.req(who, method, path, body, headers=headers)

    def test_unauthenticated_other_school_and_disabled(self) -> None:
        a, b = self.school(), self.school()
        routes = every_route(*self.fixture(a, {"type": "school"}, "ada"))
        for method, path, body, _ in routes:
            with self.subTest(method=method, path=path):
                self.assertProblem(self.send(a, None, method, path, body), 401)
                self.assertProblem(self.send(a, None, method, path, body,
                                             token="not-a-token"), 401)
                # A's admin on B's path, and B's admin asking B for A's ids.
                self.assertProblem(self.send(b, None, method, path, body,
                                             token=a.tokens["ada"]), 404)
                if "/calendars/" in path:
                    self.assertProblem(self.send(b, "ada", method, path, body), 404)
        fixtures.check(a.raw("op", "DELETE", "/modules/calendar"), 204, what="disable")
        for method, path, body, _ in routes:
            with self.subTest(method=method, path=path, module="disabled"):
                self.assertProblem(self.send(a, "ada", method, path, body), 404, "not-found")

    def test_bodies(self) -> None:
        """Bad JSON, a wrong type, an unknown field: 400 on every JSON route; a body where
        none belongs: 400 too. Nothing is changed by any of them."""
        s = self.school()
        routes = every_route(*self.fixture(s, {"type": "school"}, "ada"))
        json_ct = {"Content-Type": "application/json"}
        for method, path, body, _ in routes:
            url = f"/api/v1/schools/{s.slug}/calendar{path}"

            def send(data: bytes) -> harness.Response:
                return self.host.request(method, url, data, headers=json_ct,
                                         token=s.tokens["ada"])

            with self.subTest(method=method, path=path):
                if isinstance(body, dict):
                    self.assertProblem(send(b"{\"name\": "), 400, "invalid-request")
                    self.assertProblem(send(b"[1, 2]"), 400)
                    self.assertProblem(send(b'{"zzz_unknown": 1}'), 400)
                    self.assertProblem(send(b'"text"'), 400)
                elif body is None:
                    self.assertProblem(send(b'{"a": 1}'), 400)
        self.assertEqual(s.ok("ada", "GET", "/calendars")["items"][0]["name"], "Target")

    def test_wrong_role_on_school_calendar(self) -> None:
        s = self.school()
        routes = every_route(*self.fixture(s, {"type": "school"}, "ada"))
        for method, path, body, writes in routes:
            with self.subTest(method=method, path=path):
                resp = self.send(s, "sam", method, path, body)
                if writes:
                    self.assertProblem(resp, 403, "forbidden")
                elif path.startswith("/calendars/") and "/subscriptions/" in path:
                    self.assertProblem(resp, 404)  # someone else's feed
                else:
                    fixtures.check(resp, 200, 201, what=f"sam {method} {path}")

    def test_non_member_of_group(self) -> None:
        s = self.school()
        gid = s.group("7b", owner="tina", members=["sue"])
        routes = every_route(*self.fixture(s, {"type": "group", "id": gid}, "tina"))
        for method, path, body, _ in routes:
            if "/calendars/" not in path:
                continue
            with self.subTest(method=method, path=path):
                self.assertProblem(self.send(s, "stan", method, path, body), 404)
                if method != "GET" and "/subscriptions" not in path:
                    self.assertProblem(self.send(s, "sue", method, path, body), 403)


class Events(CalendarTestCase):
    def test_event_crud(self) -> None:
        s = self.school()
        cal = s.calendar()["id"]
        ev = s.event(cal, summary="Elternabend", description="Aula", location="Raum 1",
                     start="2026-05-04T18:00:00+02:00", end="2026-05-04T20:00:00+02:00",
                     timezone="Europe/Berlin", status="confirmed")
        self.assertEqual((ev["start"], ev["end"]), ("2026-05-04T16:00:00Z", "2026-05-04T18:00:00Z"))
        self.assertEqual((ev["timezone"], ev["all_day"], ev["rrule"]),
                         ("Europe/Berlin", False, None))
        self.assertEqual((ev["location"], ev["status"]), ("Raum 1", "confirmed"))
        path = f"/calendars/{cal}/events/{ev['id']}"
        got = s.ok("tina", "PATCH", path, {"summary": "Elternabend 7a", "description": None})
        self.assertEqual((got["summary"], got["description"], got["start"]),
                         ("Elternabend 7a", None, "2026-05-04T16:00:00Z"))
        got = s.ok("tina", "PATCH", path, {"start": "2026-05-05T17:00:00+02:00"})
        # The duration is kept when only the start moves.
        self.assertEqual((got["start"], got["end"]), ("2026-05-05T15:00:00Z", "2026-05-05T17:00:00Z"))
        self.assertEqual(s.ok("tina", "GET", path)["summary"], "Elternabend 7a")
        s.ok("tina", "DELETE", path, status=(204,))
        self.assertProblem(s.req("tina", "GET", path), 404)
        self.assertProblem(s.req("tina", "DELETE", path), 404)
        self.assertProblem(s.req("tina", "PATCH", path, {"summary": "x"}), 404)

    def test_weekly_lesson_keeps_local_time_across_dst(self) -> None:
        s = self.school()
        cal = s.calendar()["id"]
        # Mondays 08:00-08:45 Berlin; clocks go forward on 29 March and back on 25 October.
        s.event(cal, summary="Physik", start="2026-03-16T08:00:00+01:00",
                end="2026-03-16T08:45:00+01:00", timezone="Europe/Berlin",
                rrule="FREQ=WEEKLY;BYDAY=MO")
        spring = s.window("tina", f"/calendars/{cal}/events", "2026-03-16T00:00:00Z",
                          "2026-04-07T00:00:00Z")
        self.assertEqual([(o["start"], o["end"]) for o in spring], [
            ("2026-03-16T07:00:00Z", "2026-03-16T07:45:00Z"),
            ("2026-03-23T07:00:00Z", "2026-03-23T07:45:00Z"),
            ("2026-03-30T06:00:00Z", "2026-03-30T06:45:00Z"),
            ("2026-04-06T06:00:00Z", "2026-04-06T06:45:00Z")])
        autumn = s.window("tina", f"/calendars/{cal}/events", "2026-10-19T00:00:00Z",
                          "2026-11-03T00:00:00Z")
        self.assertEqual([o["start"] for o in autumn],
                         ["2026-10-19T06:00:00Z", "2026-10-26T07:00:00Z", "2026-11-02T07:00:00Z"])
        self.assertTrue(all(o["recurrence_id"] == o["start"] for o in spring + autumn))
        # Far ahead (the iterator starts near the window, not in 2026).
        far = s.window("tina", f"/calendars/{cal}/events", "2031-07-01T00:00:00Z",
                       "2031-07-15T00:00:00Z")
        self.assertEqual([o["start"] for o in far], ["2031-07-07T06:00:00Z", "2031-07-14T06:00:00Z"])

    def test_all_day_events(self) -> None:
        s = self.school()
        cal = s.calendar()["id"]
        ev = s.event(cal, summary="Ferien", all_day=True, start="2026-07-09", end="2026-08-20",
                     timezone="Europe/Berlin")
        self.assertEqual((ev["start"], ev["end"], ev["all_day"], ev["timezone"]),
                         ("2026-07-09", "2026-08-20", True, None))
        one = s.event(cal, summary="Tag", all_day=True, start="2026-05-01", end="2026-05-01",
                      rrule="FREQ=YEARLY;UNTIL=20280501")
        self.assertEqual(one["end"], "2026-05-02")
        occ = s.window("tina", f"/calendars/{cal}/events", "2026-08-19", "2028-12-31")
        self.assertEqual([(o["summary"], o["start"], o["end"]) for o in occ], [
            ("Ferien", "2026-07-09", "2026-08-20"), ("Tag", "2027-05-01", "2027-05-02"),
            ("Tag", "2028-05-01", "2028-05-02")])
        self.assertTrue(all(o["all_day"] for o in occ))
        self.assertProblem(s.req("tina", "POST", f"/calendars/{cal}/events", {
            "summary": "x", "all_day": True, "start": "2026-05-01T00:00:00Z",
            "end": "2026-05-02"}), 400)

    def test_occurrences_cancel_and_override(self) -> None:
        s = self.school()
        cal = s.calendar()["id"]
        ev = s.event(cal, summary="Chor", start="2026-03-02T15:00:00+01:00",
                     end="2026-03-02T16:00:00+01:00", timezone="Europe/Berlin",
                     rrule="FREQ=WEEKLY;COUNT=5")
        base = f"/calendars/{cal}/events/{ev['id']}"
        win = ("2026-03-01T00:00:00Z", "2026-04-30T00:00:00Z")
        # Cancel the second, move the third and rename it.
        s.ok("tina", "DELETE", f"{base}/occurrences/2026-03-09T14:00:00Z", status=(204,))
        got = s.ok("tina", "PUT", f"{base}/occurrences/2026-03-16T14:00:00Z",
                   {"summary": "Chor (Aula)", "start": "2026-03-17T16:00:00+01:00"})
        self.assertEqual(got["exdates"], ["2026-03-09T14:00:00Z"])
        self.assertEqual([(o["recurrence_id"], o["start"], o["end"], o["summary"])
                          for o in got["overrides"]],
                         [("2026-03-16T14:00:00Z", "2026-03-17T15:00:00Z", "2026-03-17T16:00:00Z",
                           "Chor (Aula)")])
        occ = s.window("tina", f"/calendars/{cal}/events", *win)
        self.assertEqual([(o["start"], o["summary"], o["modified"]) for o in occ], [
            ("2026-03-02T14:00:00Z", "Chor", False),
            ("2026-03-17T15:00:00Z", "Chor (Aula)", True),
            ("2026-03-23T14:00:00Z", "Chor", False),
            ("2026-03-30T13:00:00Z", "Chor", False)])
        # Changing the override again edits the same override.
        s.ok("tina", "PUT", f"{base}/occurrences/2026-03-16T14:00:00Z", {"location": "Aula"})
        self.assertEqual(len(s.ok("tina", "GET", base)["overrides"]), 1)
        # Cancelling an overridden occurrence removes the override too.
        s.ok("tina", "DELETE", f"{base}/occurrences/2026-03-16T14:00:00Z", status=(204,))
        occ = s.window("tina", f"/calendars/{cal}/events", *win)
        self.assertEqual(len(occ), 3)
        # No such occurrence / already cancelled / malformed id.
        for rid in ("2026-03-10T14:00:00Z", "2026-03-09T14:00:00Z", "2026-05-04T13:00:00Z"):
            self.assertProblem(s.req("tina", "PUT", f"{base}/occurrences/{rid}", {"summary": "x"}),
                               404)
            self.assertProblem(s.req("tina", "DELETE", f"{base}/occurrences/{rid}"), 404)
        self.assertProblem(s.req("tina", "PUT", f"{base}/occurrences/next-monday", {}), 400)
        self.assertProblem(s.req("tina", "PUT", f"{base}/occurrences/2026-03-23T14:00:00Z",
                                 {"rrule": "FREQ=DAILY"}), 400)
        self.assertProblem(s.req("tina", "PUT", f"{base}/occurrences/2026-03-23T14:00:00Z",
                                 {"end": "2026-03-23T13:00:00Z"}), 422)
        self.assertProblem(s.req("sam", "PUT", f"{base}/occurrences/2026-03-23T14:00:00Z", {}), 404)
        self.assertProblem(s.req(None, "DELETE", f"{base}/occurrences/2026-03-23T14:00:00Z"), 401)
        # Moving the whole series drops the exceptions that belonged to the old times.
        got = s.ok("tina", "PATCH", base, {"start": "2026-03-03T15:00:00+01:00"})
        self.assertEqual((got["exdates"], got["overrides"]), ([], []))
        self.assertEqual(len(s.window("tina", f"/calendars/{cal}/events", *win)), 5)
        # Exdates can be set directly, and the rule changed or removed.
        got = s.ok("tina", "PATCH", base, {"exdates": ["2026-03-10T14:00:00Z"]})
        self.assertEqual(len(s.window("tina", f"/calendars/{cal}/events", *win)), 4)
        got = s.ok("tina", "PATCH", base, {"rrule": None})
        self.assertIsNone(got["rrule"])
        self.assertEqual(len(s.window("tina", f"/calendars/{cal}/events", *win)), 1)

    def test_bad_event_input(self) -> None:
        s = self.school()
        cal = s.calendar()["id"]
        path = f"/calendars/{cal}/events"
        good = {"summary": "x", "start": "2026-05-04T08:00:00Z", "end": "2026-05-04T09:00:00Z"}
        cases = [
            (400, {"rrule": "FREQ=SOMETIMES"}),
            (400, {"rrule": "FREQ=WEEKLY;BYDAY=XX"}),
            (400, {"rrule": "FREQ=DAILY;COUNT=3;UNTIL=20260601T000000Z"}),
            (400, {"rrule": "FREQ=DAILY;UNTIL=20260601"}),
            (422, {"rrule": "FREQ=SECONDLY"}),
            (422, {"rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}),
            (422, {"end": "2026-05-04T07:00:00Z"}),
            (422, {"timezone": "Europe/Atlantis"}),
            (400, {"start": "2026-05-04T08:00:00"}),
            (400, {"start": "4 May 2026"}),
            (422, {"start": "3026-05-04T08:00:00Z", "end": "3026-05-04T09:00:00Z"}),
            (422, {"start": "1899-05-04T08:00:00Z", "end": "1899-05-04T09:00:00Z"}),
            (400, {"exdates": ["yesterday"]}),
            (400, {"summary": ""}),
            (400, {"summary": 5}),
            (400, {"all_day": "yes"}),
            (400, {"status": "maybe"}),
            (400, {"colour": "red"}),
            (400, {"exdates": "2026-05-04T08:00:00Z"}),
        ]
        for status, change in cases:
            with self.subTest(change=change):
                self.assertProblem(s.req("tina", "POST", path, {**good, **change}), status)
        for missing in ("summary", "start", "end"):
            body = dict(good)
            del body[missing]
            self.assertProblem(s.req("tina", "POST", path, body), 400)
        self.assertProblem(s.req("tina", "POST", path, b"[", headers={
            "Content-Type": "application/json"}), 400)
        self.assertProblem(s.req(None, "POST", path, good), 401)
        # Nothing of the refused requests was stored.
        self.assertEqual(s.window("tina", path, "2026-01-01", "2027-01-01"), [])
        ev = s.event(cal, **good)
        epath = f"{path}/{ev['id']}"
        self.assertProblem(s.req("tina", "PATCH", epath, {"rrule": "FREQ=NEVER"}), 400)
        self.assertProblem(s.req("tina", "PATCH", epath, {"all_day": True}), 400)
        self.assertProblem(s.req("tina", "PATCH", epath, {"end": "2026-05-04T07:00:00Z"}), 422)
        self.assertProblem(s.req("tina", "PATCH", epath, {"timezone": "Mars/Olympus"}), 422)
        self.assertProblem(s.req("tina", "PATCH", epath, {"uid": "mine"}), 400)
        self.assertEqual(s.ok("tina", "GET", epath)["end"], "2026-05-04T09:00:00Z")
        # A single event has no occurrences to change one by one.
        self.assertProblem(s.req("tina", "PUT", f"{epath}/occurrences/2026-05-04T08:00:00Z",
                                 {"summary": "y"}), 422)
        self.assertProblem(s.req("tina", "DELETE", f"{epath}/occurrences/2026-05-04T08:00:00Z"),
                           422)
        self.assertProblem(s.req("tina", "GET", f"{path}/not-an-id"), 404)
        other = s.calendar(name="Other")["id"]
        self.assertProblem(s.req("tina", "GET", f"/calendars/{other}/events/{ev['id']}"), 404)

    def test_window_limits_and_index(self) -> None:
        s = self.school()
        cal = s.calendar()["id"]
        path = f"/calendars/{cal}/events"
        s.event(cal, summary="Daily", start="2020-01-01T07:00:00Z", end="2020-01-01T07:30:00Z",
                rrule="FREQ=DAILY")
        for q in ("", "?from=2026-01-01", "?to=2026-01-01", "?from=2026-02-01&to=2026-01-01",
                  "?from=2026-01-01&to=2026-01-01", "?from=yesterday&to=2026-01-01",
                  "?from=2026-01-01T00:00:00&to=2026-02-01"):
            with self.subTest(q=q):
                self.assertProblem(s.req("tina", "GET", path + q), 400)
        # What is stored is read a page at a time, however many occurrences the window holds:
        # 13 and 14 years of a daily series (the second beyond 5000, the expansion limit, but
        # stored by the first window's extension, which reaches two years further).
        self.assertEqual(len(s.window("tina", path, "2026-01-01", "2039-01-01")), 4748)
        long_walk = s.window("tina", path, "2026-01-01", "2040-01-01")
        self.assertEqual(len(long_walk), 5113)
        self.assertEqual([o["start"] for o in long_walk[:2] + long_walk[-1:]],
                         ["2026-01-01T07:00:00Z", "2026-01-02T07:00:00Z", "2039-12-31T07:00:00Z"])
        self.assertEqual(len({o["recurrence_id"] for o in long_walk}), 5113)
        # An extension expands 5000 occurrences at most per window (after 20000 for the window
        # and two years beyond it, CAL_MAX_STORED, were too many), as a clear refusal rather
        # than a cut list: 60 years of it, far beyond what is stored.
        resp = s.req("tina", "GET", path + "?from=2100-01-01&to=2160-01-01")
        self.assertIn("5000", self.assertProblem(resp, 422)["detail"])
        self.assertEqual(self.sql(f"SELECT range_end IS NULL FROM calendar.events "
                                  f"WHERE calendar_id = '{cal}'"), "t")
        s.event(cal, summary="Counted", start="2026-01-05T07:00:00Z",
                end="2026-01-05T08:00:00Z", rrule="FREQ=WEEKLY;COUNT=3")
        self.assertEqual(self.sql(f"SELECT range_end FROM calendar.events "
                                  f"WHERE calendar_id = '{cal}' AND summary = 'Counted'"),
                         "2026-01-19 08:00:00+00")
        # A long COUNT is not walked to its end when stored: the series counts as open-ended.
        s.event(cal, summary="Long", start="2026-01-05T07:00:00Z", end="2026-01-05T08:00:00Z",
                rrule="FREQ=DAILY;COUNT=5000")
        self.assertEqual(self.sql(f"SELECT range_end IS NULL FROM calendar.events "
                                  f"WHERE calendar_id = '{cal}' AND summary = 'Long'"), "t")
        # Every fifth hour from 10:00 stays on that grid in a window weeks later.
        s.event(cal, summary="Hourly", start="2026-01-01T10:00:00Z", end="2026-01-01T10:10:00Z",
                rrule="FREQ=HOURLY;INTERVAL=5")
        occ = [o["start"] for o in s.window("tina", path, "2026-03-01T00:00:00Z",
                                            "2026-03-01T12:00:00Z") if o["summary"] == "Hourly"]
        self.assertEqual(occ, ["2026-03-01T04:00:00Z", "2026-03-01T09:00:00Z"])
        # An hourly series from 1903 would need over a million steps to reach 2026: refused.
        other = s.calendar(name="Hourly")["id"]
        s.event(other, summary="Old", start="1903-01-01T00:00:00Z", end="1903-01-01T00:10:00Z",
                rrule="FREQ=HOURLY")
        resp = s.req("tina", "GET", f"/calendars/{other}/events?from=2026-01-01&to=2026-01-02")
        self.assertIn("recurrence steps", self.assertProblem(resp, 422)["detail"])
        self.assertEqual(len(s.window("tina", f"/calendars/{other}/events", "1903-01-01",
                                      "1903-01-02")), 24)
        # The window runs in calendar.events_in_window() as the owner (row-level security
        # would keep the planner off the range index): its query, as the owner runs it, must
        # use the index once the table is big enough to prefer it over a scan.
        self.pg.psql(
            "INSERT INTO calendar.events (school_id, calendar_id, uid, ical, range_start, "
            "range_end) SELECT c.school_id, c.id, 'bulk-' || g, '', timestamptz '2000-01-01' + "
            f"g * interval '1 hour', timestamptz '2000-01-01' + g * interval '1 hour' FROM "
            f"calendar.calendars c, generate_series(1, 20000) g WHERE c.id = '{other}'; "
            "ANALYZE calendar.events")
        school = self.sql(f"SELECT school_id FROM calendar.calendars WHERE id = '{other}'")
        plan = self.pg.psql(
            f"BEGIN; SELECT set_config('atrium.school_id', '{school}', true); "
            "EXPLAIN SELECT e.id FROM calendar.events e WHERE e.school_id = "
            f"core.current_school() AND e.calendar_id = ANY (ARRAY['{other}'::uuid]) AND "
            "tstzrange(e.range_start, e.range_end, '[]') && "
            "tstzrange('2026-01-01', '2026-02-01', '[)'); COMMIT;")
        self.assertIn("events_window", plan)
        self.pg.psql("DELETE FROM calendar.events WHERE uid LIKE 'bulk-%'")
        # ... and the route goes through it, inside the caller's school.
        self.assertEqual(len(s.window("tina", f"/calendars/{other}/events", "1903-01-01",
                                      "1903-01-02")), 24)

    def test_window_pagination(self) -> None:
        s = self.school()
        cal = s.calendar()["id"]
        s.event(cal, summary="A", start="2026-06-01T08:00:00Z", end="2026-06-01T09:00:00Z",
                rrule="FREQ=DAILY;COUNT=7")
        s.event(cal, summary="B", start="2026-06-01T08:00:00Z", end="2026-06-01T08:30:00Z",
                rrule="FREQ=DAILY;COUNT=7")
        s.event(cal, summary="C", start="2026-06-03T12:00:00Z", end="2026-06-03T12:00:00Z")
        all_at_once = s.window("tina", f"/calendars/{cal}/events", "2026-06-01", "2026-06-08")
        paged = s.window("tina", f"/calendars/{cal}/events", "2026-06-01", "2026-06-08", limit=4)
        self.assertEqual(len(all_at_once), 15)
        self.assertEqual(paged, all_at_once)
        self.assertEqual([o["start"] for o in paged], sorted(o["start"] for o in paged))
        self.assertProblem(s.req("tina", "GET", f"/calendars/{cal}/events?from=2026-06-01&"
                                 "to=2026-06-08&cursor=eHl6"), 400)
        # An event that ends exactly when the window starts is not in it; a zero-length one
        # at the window's start is.
        occ = s.window("tina", f"/calendars/{cal}/events", "2026-06-03T12:00:00Z",
                       "2026-06-03T13:00:00Z")
        self.assertEqual([o["summary"] for o in occ], ["C"])

    def test_merged_view(self) -> None:
        s = self.school()
        gid = s.group("Chor", owner="tina", members=["sam"])
        mine = s.calendar("sam", "Sam's")["id"]
        group = s.calendar("tina", "Chor", owner={"type": "group", "id": gid})["id"]
        school = s.calendar("ada", "Schule", owner={"type": "school"})["id"]
        hidden = s.calendar("sue", "Sue's")["id"]
        for cal, who in ((mine, "sam"), (group, "tina"), (school, "ada"), (hidden, "sue")):
            s.event(cal, who, summary=f"in {cal}", start="2026-09-01T10:00:00Z",
                    end="2026-09-01T11:00:00Z")
        occ = s.window("sam", "/events", "2026-09-01", "2026-09-02")
        self.assertEqual(sorted(o["calendar_id"] for o in occ), sorted([mine, group, school]))
        self.assertEqual(len(s.window("stan", "/events", "2026-09-01", "2026-09-02")), 1)
        self.assertEqual(len(s.window("ada", "/events", "2026-09-01", "2026-09-02")), 2)
        self.assertProblem(s.req("sam", "GET", "/events"), 400)
        self.assertProblem(s.req(None, "GET", "/events?from=2026-09-01&to=2026-09-02"), 401)

    def test_concurrent_expansion(self) -> None:
        """Many workers expanding zoned series at once (libical's caches under the lock)."""
        s = self.school()
        cal = s.calendar()["id"]
        zones = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata",
                 "Europe/London", "America/Sao_Paulo"]
        for z in zones:
            s.event(cal, summary=z, start="2026-01-05T09:00:00Z", end="2026-01-05T10:00:00Z",
                    timezone=z, rrule="FREQ=DAILY")
        expected = len(s.window("tina", f"/calendars/{cal}/events", "2026-03-01", "2026-12-01"))
        self.assertEqual(expected, 6 * 275)
        errors: list[str] = []

        def run() -> None:
            for _ in range(5):
                try:
                    got = s.window("tina", f"/calendars/{cal}/events", "2026-03-01",
                                   "2026-12-01")
                    if len(got) != expected:
                        errors.append(f"{len(got)} occurrences")
                except Exception as exc:  # report, do not hide, anything a thread hit
                    errors.append(repr(exc))

        threads = [threading.Thread(target=run) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])


class Lifecycle(CalendarTestCase):
    def test_user_deleted(self) -> None:
        s = self.school()
        gid = s.group("Chor", owner="tina", members=["tom"])
        own = s.calendar("tom", "Tom's")["id"]
        s.event(own, "tom", start="2026-05-04T08:00:00Z", end="2026-05-04T09:00:00Z")
        group = s.calendar("tina", "Chor", owner={"type": "group", "id": gid})["id"]
        ev = s.event(group, "tom", start="2026-05-04T08:00:00Z", end="2026-05-04T09:00:00Z")
        feed = s.ok("tom", "POST", f"/calendars/{group}/subscriptions", {}, status=(201,))
        fixtures.check(s.raw("ada", "DELETE", f"/users/{s.ids['tom']}"), 204, what="delete tom")
        self.assertEqual(self.sql(f"SELECT count(*) FROM calendar.calendars WHERE id = '{own}'"),
                         "0")
        self.assertEqual(self.sql(f"SELECT count(*) FROM calendar.events e JOIN "
                                  f"calendar.calendars c ON c.id = e.calendar_id "
                                  f"WHERE c.owner_id = '{s.ids['tom']}'"), "0")
        self.assertEqual(self.sql(f"SELECT created_by IS NULL AND updated_by IS NULL FROM "
                                  f"calendar.events WHERE id = '{ev['id']}'"), "t")
        self.assertEqual(s.ok("tina", "GET", f"/calendars/{group}/events/{ev['id']}")["summary"],
                         "Lesson")
        self.assertEqual(self.sql(f"SELECT count(*) FROM calendar.subscriptions "
                                  f"WHERE id = '{feed['id']}'"), "0")

    def test_group_deleted(self) -> None:
        s = self.school()
        gid = s.group("AG", owner="tina")
        cal = s.calendar("tina", "AG", owner={"type": "group", "id": gid})["id"]
        s.event(cal, start="2026-05-04T08:00:00Z", end="2026-05-04T09:00:00Z")
        fixtures.check(s.raw("tina", "DELETE", f"/groups/{gid}"), 204, what="delete group")
        self.assertProblem(s.req("ada", "GET", f"/calendars/{cal}"), 404)
        self.assertEqual(self.sql(f"SELECT count(*) FROM calendar.events "
                                  f"WHERE calendar_id = '{cal}'"), "0")

    def test_gdpr_export(self) -> None:
        s = self.school()
        own = s.calendar("sam", "Hausaufgaben")["id"]
        s.event(own, "sam", summary="Mathe HA", start="2026-05-04T15:00:00Z",
                end="2026-05-04T16:00:00Z")
        school = s.calendar("ada", "Schule", owner={"type": "school"})["id"]
        s.ok("sam", "POST", f"/calendars/{school}/subscriptions", {"label": "phone"},
             status=(201,))
        out = fixtures.check(s.raw("ada", "GET", f"/users/{s.ids['sam']}/export"), 200,
                             what="export").json()
        part = out["calendar"]
        self.assertEqual([c["name"] for c in part["calendars"]], ["Hausaufgaben"])
        self.assertEqual(part["calendars"][0]["events"][0]["summary"], "Mathe HA")
        self.assertIn("BEGIN:VEVENT", part["calendars"][0]["events"][0]["ical"])
        self.assertEqual([x["label"] for x in part["subscriptions"]], ["phone"])
        self.assertNotIn("token", json.dumps(part["subscriptions"]))
        self.assertEqual(part["events_written"], [])


if __name__ == "__main__":
    harness.main()
