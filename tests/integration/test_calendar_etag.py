# SPDX-License-Identifier: Apache-2.0
"""test_calendar_etag.py - ETags and If-Match on the REST event routes (issue #19).

Every answer with one event carries its entity tag (the ETag header and "etag" in the body);
PATCH, DELETE and the occurrence routes honour If-Match: a tag that is no longer the event's
(someone changed it since) is 412 and nothing is written; "*" matches any existing event; weak
tags never match (If-Match compares strongly). POST always creates a new event under a new id,
so If-None-Match: * has nothing to guard there and is ignored. The OpenAPI document says so.
"""

from __future__ import annotations

import harness
from test_calendar import CalendarTestCase, School

SERIES = {"summary": "Mathe", "start": "2026-05-04T08:00:00+02:00",
          "end": "2026-05-04T09:00:00+02:00", "timezone": "Europe/Berlin",
          "rrule": "FREQ=WEEKLY;COUNT=5"}


class ETags(CalendarTestCase):
    def setup_event(self) -> tuple[School, str, str, str]:
        s = self.school()
        cal = s.calendar()["id"]
        resp = s.req("tina", "POST", f"/calendars/{cal}/events", SERIES,
                     headers={"If-None-Match": "*"})
        self.assertEqual(resp.status, 201, resp.body)
        body = resp.json()
        self.assertEqual(resp.headers.get("etag"), body["etag"])
        self.assertRegex(body["etag"], r'^"[0-9a-f]{32}"$')
        return s, cal, body["id"], body["etag"]

    def test_get_and_change(self) -> None:
        s, cal, eid, tag = self.setup_event()
        path = f"/calendars/{cal}/events/{eid}"
        got = s.req("tina", "GET", path)
        self.assertEqual((got.headers.get("etag"), got.json()["etag"]), (tag, tag))
        changed = s.req("tina", "PATCH", path, {"summary": "Mathe 7b"},
                        headers={"If-Match": tag})
        self.assertEqual(changed.status, 200, changed.body)
        new = changed.headers.get("etag")
        self.assertNotEqual(new, tag)
        self.assertEqual(changed.json()["etag"], new)
        # The old tag is stale now: 412, nothing written.
        stale = s.req("tina", "PATCH", path, {"summary": "lost update"},
                      headers={"If-Match": tag})
        self.assertIn("ETag", self.assertProblem(stale, 412, "precondition-failed")["detail"])
        self.assertEqual(s.ok("tina", "GET", path)["summary"], "Mathe 7b")
        # A list naming the current tag, and "*", match; a weak tag does not.
        for header, status in ((f'"0000", {new}', 200), ("*", 200), (f"W/{new}", 412)):
            with self.subTest(header=header):
                resp = s.req("tina", "PATCH", path, {"location": "Raum 1"},
                             headers={"If-Match": header})
                self.assertEqual(resp.status, status, resp.body)
        # Without If-Match, writes go through as before.
        s.ok("tina", "PATCH", path, {"location": "Raum 2"})

    def test_occurrences_and_delete(self) -> None:
        s, cal, eid, tag = self.setup_event()
        path = f"/calendars/{cal}/events/{eid}"
        occ = f"{path}/occurrences/2026-05-11T06:00:00Z"
        s.ok("tina", "PATCH", path, {"summary": "changed by Tom"})
        for method, p, body in (("PUT", occ, {"summary": "x"}), ("DELETE", occ, None),
                                ("DELETE", path, None)):
            with self.subTest(method=method, path=p):
                self.assertProblem(s.req("tina", method, p, body, headers={"If-Match": tag}),
                                   412)
        self.assertEqual(len(s.window("tina", f"/calendars/{cal}/events", "2026-05-01",
                                      "2026-07-01")), 5)
        tag = s.req("tina", "GET", path).headers.get("etag")
        put = s.req("tina", "PUT", occ, {"summary": "Vertretung"}, headers={"If-Match": tag})
        self.assertEqual(put.status, 200, put.body)
        tag = put.headers.get("etag")
        self.assertEqual(s.req("tina", "DELETE", f"{path}/occurrences/2026-05-18T06:00:00Z",
                               headers={"If-Match": tag}).status, 204)
        tag = s.req("tina", "GET", path).headers.get("etag")
        self.assertEqual(s.req("tina", "DELETE", path, headers={"If-Match": tag}).status, 204)
        self.assertProblem(s.req("tina", "GET", path), 404)
        # A tag for an event that is gone: 404, as without If-Match.
        self.assertProblem(s.req("tina", "DELETE", path, headers={"If-Match": tag}), 404)
        self.assertProblem(s.req("tina", "PATCH", path, {"summary": "x"},
                                 headers={"If-Match": "*"}), 404)

    def test_rights_before_preconditions(self) -> None:
        """Someone who may not change the calendar learns nothing from If-Match."""
        s, cal, eid, tag = self.setup_event()
        path = f"/calendars/{cal}/events/{eid}"
        self.assertProblem(s.req("sam", "PATCH", path, {"summary": "x"},
                                 headers={"If-Match": tag}), 404)
        self.assertProblem(s.req("sam", "DELETE", path, headers={"If-Match": '"stale"'}), 404)

    def test_openapi_documents_it(self) -> None:
        doc = self.host.request("GET", "/api/v1/openapi.json").json()
        item = doc["paths"]["/api/v1/schools/{school}/calendar/calendars/{id}/events/{event_id}"]
        self.assertIn("If-Match", item["patch"]["summary"])
        self.assertIn("If-Match", item["delete"]["summary"])
        self.assertIn("etag", str(item["get"]).lower())


if __name__ == "__main__":
    harness.main()
