# SPDX-License-Identifier: Apache-2.0
"""test_calendar_ical.py - iCalendar in and out of the calendar module: .ics import (the real-
world files of ../shared/testdata/ical and hand-made bad ones), export, the round trip
import -> export -> import with the same occurrences, and secret subscription feeds.

The import rule under test (plugins/calendar/README.md): all or nothing. A file libical cannot
read as a calendar, one nested too deep, with too many events or over the body limit is refused
(400/413); if any event in it is invalid (a value libical cannot read, a bad RRULE, an unknown
time zone, an end before the start) the answer is 422 naming it and nothing is imported. An
event without UID gets one derived from its content (a warning says so), and lines libical
cannot read outside any event are ignored with a warning. Re-importing matches events by UID.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import uuid
from typing import Any

import fixtures
import harness
from test_calendar import CalendarTestCase, School

TESTDATA = os.path.join(os.path.dirname(harness.SOURCE_DIR.rstrip("/")), "shared", "testdata",
                        "ical")
if not os.path.isdir(TESTDATA):
    TESTDATA = "/work/shared/testdata/ical"

ICS = {"Content-Type": "text/calendar"}


def unfold(data: bytes) -> str:
    return data.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").decode("utf-8")


def occurrence_keys(items: list[dict]) -> list[tuple]:
    return sorted((o["start"], o["end"], o["all_day"], o["summary"], o["recurrence_id"] or "",
                   o["status"] or "") for o in items)


def vcal(*events: str, extra: str = "") -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{extra}{body}"
            "END:VCALENDAR\r\n").encode()


def simple(uid: str, start: str = "20260504T080000Z", end: str = "20260504T090000Z",
           extra: str = "") -> str:
    return (f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\n"
            f"SUMMARY:{uid}\r\n{extra}")


class IcalTestCase(CalendarTestCase):
    def import_ics(self, s: School, cal: str, data: bytes, who: str = "tina",
                   status: int = 200) -> Any:
        resp = s.req(who, "POST", f"/calendars/{cal}/import", data, headers=ICS)
        if status != 200:
            return self.assertProblem(resp, status)
        fixtures.check(resp, 200, what="import")
        return resp.json()

    def count(self, cal: str) -> int:
        return int(self.sql(f"SELECT count(*) FROM calendar.events WHERE calendar_id = '{cal}'"))


class RealWorldFiles(IcalTestCase):
    def window_of(self, cal: str) -> tuple[str, str]:
        """A year from the calendar's first event (the files span 1989 to 2026)."""
        start = self.sql(f"SELECT to_char(min(range_start) - interval '1 day', "
                         f"'YYYY-MM-DD') FROM calendar.events WHERE calendar_id = '{cal}'")
        end = self.sql(f"SELECT to_char(min(range_start) + interval '366 days', "
                       f"'YYYY-MM-DD') FROM calendar.events WHERE calendar_id = '{cal}'")
        return start, end

    def test_round_trip(self) -> None:
        s = School(self.host, self.op_token)
        files = sorted(f for f in glob.glob(os.path.join(TESTDATA, "*.ics"))
                       if not os.path.basename(f).startswith("malformed-"))
        self.assertGreaterEqual(len(files), 16, TESTDATA)
        for path in files:
            name = os.path.basename(path)
            with self.subTest(file=name):
                with open(path, "rb") as f:
                    data = f.read()
                first = s.calendar(name=name[:60])["id"]
                out = self.import_ics(s, first, data)
                vevents = data.count(b"BEGIN:VEVENT")
                self.assertGreater(out["created"], 0)
                self.assertEqual(out["updated"] + out["unchanged"], 0)
                again = self.import_ics(s, first, data)
                self.assertEqual((again["created"], again["updated"]), (0, 0), "not idempotent")
                start, end = self.window_of(first)
                before = s.window("tina", f"/calendars/{first}/events", start, end)
                self.assertTrue(before, "no occurrence in the first year")

                resp = s.req("tina", "GET", f"/calendars/{first}/export.ics")
                fixtures.check(resp, 200, what="export")
                self.assertTrue(resp.headers["Content-Type"].startswith("text/calendar"))
                self.assertTrue(resp.body.startswith(b"BEGIN:VCALENDAR\r\n"))
                self.assertTrue(resp.body.endswith(b"END:VCALENDAR\r\n"))
                self.assertTrue(all(len(line) <= 75 for line in resp.body.split(b"\r\n")),
                                "lines not folded at 75 octets")
                self.assertNotIn(b"\nX-LIC-ERROR", resp.body)
                self.assertEqual(resp.body.count(b"BEGIN:VEVENT"), vevents)
                # Every TZID the events use has its VTIMEZONE (or is UTC). The TZID property is
                # TEXT, so its commas come back escaped (RFC 5545 3.3.11).
                text = unfold(resp.body)
                defined = {v.replace("\\,", ",").replace("\\;", ";")
                           for v in re.findall(r"\r\nTZID:([^\r]*)\r\n", text)}
                for tzid in set(re.findall(r';TZID="?([^":;]+)"?[:;]', text)):
                    if tzid not in ("UTC", "GMT"):
                        self.assertIn(tzid, defined, f"no VTIMEZONE for {tzid}")

                second = s.calendar(name=f"{name[:50]} again")["id"]
                back = self.import_ics(s, second, resp.body)
                self.assertEqual(back["created"], out["created"])
                after = s.window("tina", f"/calendars/{second}/events", start, end)
                self.assertEqual(occurrence_keys(after), occurrence_keys(before))
                export2 = s.req("tina", "GET", f"/calendars/{second}/export.ics").body
                self.assertEqual(export2.count(b"BEGIN:VEVENT"), vevents)

    def test_nothing_lost(self) -> None:
        s = School(self.host, self.op_token)
        checks = {
            "apple-ios26-structured-location.ics": ["X-APPLE-STRUCTURED-LOCATION",
                                                   "Hauptstraße"],
            "google-x_location.ics": ["Röadstar", "X-APPLE-STRUCTURED-LOCATION"],
            "nextcloud-maritz.ics": ["RELATED-TO;RELTYPE=SIBLING", "TRIGGER:-P1W6DT15H"],
            "outlook11-Standup.ics": ['TZID="Canberra, Melbourne, Sydney"', "BEGIN:VALARM"],
            "outlook15-TZ-no-description.ics": ["转注字", "TZID:(no TZ description)"],
            "mozilla-EstoniaHolidays.ics": ["ülestõusmispüha"],
        }
        for name, needles in checks.items():
            with self.subTest(file=name):
                cal = s.calendar(name=name[:60])["id"]
                with open(os.path.join(TESTDATA, name), "rb") as f:
                    self.import_ics(s, cal, f.read())
                text = unfold(s.req("tina", "GET", f"/calendars/{cal}/export.ics").body)
                for needle in needles:
                    self.assertIn(needle, text)
        cal = s.calendar(name="alarms")["id"]
        with open(os.path.join(TESTDATA, "nextcloud-maritz.ics"), "rb") as f:
            self.import_ics(s, cal, f.read())
        self.assertEqual(s.req("tina", "GET", f"/calendars/{cal}/export.ics").body
                         .count(b"BEGIN:VALARM"), 4)

    def test_specific_semantics(self) -> None:
        s = School(self.host, self.op_token)

        def load(name: str) -> str:
            cal = s.calendar(name=name[:60])["id"]
            with open(os.path.join(TESTDATA, name), "rb") as f:
                self.import_ics(s, cal, f.read())
            return cal

        # Thunderbird: a daily series of 3 with the second occurrence cancelled by override.
        cal = load("thunderbird-issue_18_cancel_status.ics")
        occ = s.window("tina", f"/calendars/{cal}/events", "2020-01-01", "2020-03-01")
        self.assertEqual([(o["start"], o["status"], o["modified"]) for o in occ], [
            ("2020-01-28T21:00:00Z", None, False), ("2020-01-29T21:00:00Z", "cancelled", True),
            ("2020-01-30T21:00:00Z", None, False)])
        # Exchange 2010: TZID=Europe/Berlin without its VTIMEZONE (the built-in zone is used),
        # daily until the 29th with the 27th excluded by a UTC EXDATE.
        cal = load("exchange2010-issue_27_t2.ics")
        occ = s.window("tina", f"/calendars/{cal}/events", "2020-04-01", "2020-05-01")
        self.assertEqual([o["start"] for o in occ],
                         ["2020-04-26T12:00:00Z", "2020-04-28T12:00:00Z"])
        # Outlook 11: a Windows zone name with commas, defined by the file's VTIMEZONE
        # (Sydney, +11:00 in March 2009), weekdays only.
        cal = load("outlook11-Standup.ics")
        occ = s.window("tina", f"/calendars/{cal}/events", "2009-03-09", "2009-03-16")
        self.assertEqual([o["start"] for o in occ][:3], ["2009-03-09T22:30:00Z",
                                                         "2009-03-10T22:30:00Z",
                                                         "2009-03-11T22:30:00Z"])
        self.assertEqual(len(occ), 5)
        # Apple iCal: two EXDATEs that coincide with two overrides: the moved occurrences show.
        cal = load("apple-ical15-blalor.ics")
        items = s.window("tina", f"/calendars/{cal}/events", "2000-01-01", "2010-01-01")
        self.assertEqual(sum(1 for o in items if o["modified"]), 2)
        # SabreDAV: an endless daily all-day series is stored without an end and expands in any
        # window.
        cal = load("sabredav-one_day_event_repeat_every_day.ics")
        self.assertEqual(self.sql(f"SELECT range_end IS NULL FROM calendar.events "
                                  f"WHERE calendar_id = '{cal}'"), "t")
        occ = s.window("tina", f"/calendars/{cal}/events", "2030-02-01", "2030-02-04")
        self.assertEqual([(o["start"], o["all_day"]) for o in occ],
                         [("2030-02-01", True), ("2030-02-02", True), ("2030-02-03", True)])


class MalformedAndLimits(IcalTestCase):
    def test_malformed_testdata(self) -> None:
        s = School(self.host, self.op_token)
        for name, status, needle in (
                ("malformed-issue_1081_invalid_rrule_freq.ics", 422, "RRULE"),
                ("malformed-issue_1081_invalid_start_and_end.ics", 422, "DTSTART")):
            with self.subTest(file=name):
                cal = s.calendar(name=name[:60])["id"]
                with open(os.path.join(TESTDATA, name), "rb") as f:
                    problem = self.import_ics(s, cal, f.read(), status=status)
                self.assertIn(needle, problem["detail"])
                self.assertIn("nothing was imported", problem["detail"])
                self.assertEqual(self.count(cal), 0)
        # A stray line outside any event and a missing UID: imported, with warnings, and the
        # derived UID makes a second import find the same event.
        cal = s.calendar(name="broken")["id"]
        with open(os.path.join(TESTDATA, "malformed-issue_104_broken_calendar.ics"), "rb") as f:
            data = f.read()
        out = self.import_ics(s, cal, data)
        self.assertEqual(out["created"], 1)
        self.assertEqual(len(out["warnings"]), 2, out["warnings"])
        self.assertTrue(any("without UID" in w for w in out["warnings"]))
        self.assertEqual(self.import_ics(s, cal, data)["unchanged"], 1)

    def test_all_or_nothing(self) -> None:
        s = School(self.host, self.op_token)
        cal = s.calendar()["id"]
        self.import_ics(s, cal, vcal(simple("keep")))
        bad_ones = {
            "rrule": simple("b1", extra="RRULE:FREQ=FORTNIGHTLY"),
            "order": simple("b2", start="20260504T100000Z", end="20260504T090000Z"),
            "zone": simple("b3", start="20260504T100000", end="20260504T110000").replace(
                "DTSTART:", "DTSTART;TZID=Mars/Olympus:").replace("DTEND:", "DTEND;TZID=Mars/Olympus:"),
            "never": simple("b4", extra="RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"),
            "secondly": simple("b5", extra="RRULE:FREQ=SECONDLY"),
            "nostart": "UID:b6\r\nSUMMARY:no start\r\n",
            "twomasters": simple("b7") + "\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\n" + simple("b7"),
            "year": simple("b8", start="30260504T080000Z", end="30260504T090000Z"),
        }
        for what, bad in bad_ones.items():
            with self.subTest(bad=what):
                problem = self.import_ics(s, cal, vcal(simple("new1"), bad, simple("new2")),
                                          status=422)
                self.assertIn("nothing was imported", problem["detail"])
                self.assertIn("UID b", problem["detail"])
                self.assertEqual(self.count(cal), 1)
        # Many bad events: the message lists a few and counts the rest.
        many = vcal(*[simple(f"x{i}", extra="RRULE:FREQ=NOPE") for i in range(8)])
        problem = self.import_ics(s, cal, many, status=422)
        self.assertIn("8 of 8", problem["detail"])
        self.assertIn("and 3 more", problem["detail"])

    def test_update_by_uid(self) -> None:
        s = School(self.host, self.op_token)
        cal = s.calendar()["id"]
        first = self.import_ics(s, cal, vcal(simple("a"), simple("b")))
        self.assertEqual((first["created"], [e["result"] for e in first["events"]]),
                         (2, ["created", "created"]))
        changed = vcal(simple("a").replace("SUMMARY:a", "SUMMARY:a2"), simple("b"), simple("c"))
        out = self.import_ics(s, cal, changed)
        self.assertEqual([(e["uid"], e["result"]) for e in out["events"]],
                         [("a", "updated"), ("b", "unchanged"), ("c", "created")])
        occ = s.window("tina", f"/calendars/{cal}/events", "2026-05-01", "2026-06-01")
        self.assertEqual(sorted(o["summary"] for o in occ), ["a2", "b", "c"])
        ids = {e["uid"]: e["id"] for e in out["events"]}
        self.assertEqual(s.ok("tina", "GET", f"/calendars/{cal}/events/{ids['a']}")["uid"], "a")
        # Other components are counted, not imported.
        todo = vcal(simple("d")).replace(b"END:VCALENDAR", b"BEGIN:VTODO\r\nUID:t\r\n"
                                         b"SUMMARY:todo\r\nEND:VTODO\r\nEND:VCALENDAR")
        self.assertEqual(self.import_ics(s, cal, todo)["ignored"], 1)

    def test_refusals(self) -> None:
        s = School(self.host, self.op_token)
        cal = s.calendar()["id"]
        path = f"/calendars/{cal}/import"
        good = vcal(simple("ok"))
        for body, status in ((b"hello, not a calendar", 400), (b"BEGIN:VEVENT\r\nUID:x\r\n"
                                                                 b"END:VEVENT\r\n", 400),
                             (b"\xff\xfeB\x00E\x00", 400), (b"BEGIN:VCALENDAR\r\n" +
                                                            b"BEGIN:X-A\r\n" * 20000 +
                                                            b"END:X-A\r\n" * 20000 +
                                                            b"END:VCALENDAR\r\n", 400)):
            with self.subTest(body=body[:20]):
                self.assertProblem(s.req("tina", "POST", path, body, headers=ICS), status)
        self.assertProblem(s.req("tina", "POST", path, b"", headers=ICS), 400)
        self.assertProblem(s.req("tina", "POST", path, good,
                                 headers={"Content-Type": "application/json"}), 415)
        many = vcal(*[simple(f"e{i}") for i in range(5001)])
        self.assertLess(len(many), 1 << 20)
        self.assertProblem(s.req("tina", "POST", path, many, headers=ICS), 413)
        huge = vcal(*[simple(f"e{i}", extra="DESCRIPTION:" + "x" * 1800) for i in range(4800)])
        self.assertGreater(len(huge), 8 << 20)
        self.assertProblem(s.req("tina", "POST", path, huge, headers=ICS), 413)
        self.assertEqual(self.count(cal), 0)
        # 5,000 events are more than the host's 1 MiB body limit: the import streams its body.
        full = vcal(*[simple(f"f{i}", extra="DESCRIPTION:" + "x" * 70) for i in range(5000)])
        self.assertGreater(len(full), 1 << 20)
        got = fixtures.check(s.req("tina", "POST", path, full, headers=ICS), 200,
                             what="5,000-event import")
        self.assertEqual(self.count(cal), 5000)
        del got
        # Who may import: only those who may change the calendar.
        school = s.calendar("ada", "Schule", owner={"type": "school"})["id"]
        self.assertProblem(s.req("tina", "POST", f"/calendars/{school}/import", good,
                                 headers=ICS), 403)
        self.assertProblem(s.req("sam", "POST", path, good, headers=ICS), 404)
        self.assertProblem(s.req(None, "POST", path, good, headers=ICS), 401)
        self.assertProblem(s.req("tina", "POST", f"/calendars/{uuid.uuid4()}/import", good,
                                 headers=ICS), 404)
        other = School(self.host, self.op_token)
        self.assertProblem(other.req("tina", "POST", path, good, headers=ICS), 404)
        # Text without a Content-Type is accepted (curl --data-binary sends none useful).
        self.assertEqual(self.import_ics(s, cal, good)["created"], 1)

    def test_vtimezone_in_file(self) -> None:
        s = School(self.host, self.op_token)
        cal = s.calendar()["id"]
        tz = ("BEGIN:VTIMEZONE\r\nTZID:Schulzeit\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000"
              "\r\nTZOFFSETFROM:+0300\r\nTZOFFSETTO:+0300\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n")
        ev = simple("z", start="20260504T080000", end="20260504T090000").replace(
            "DTSTART:", "DTSTART;TZID=Schulzeit:").replace("DTEND:", "DTEND;TZID=Schulzeit:")
        self.import_ics(s, cal, vcal(ev, extra=tz))
        occ = s.window("tina", f"/calendars/{cal}/events", "2026-05-04", "2026-05-05")
        self.assertEqual((occ[0]["start"], occ[0]["timezone"]), ("2026-05-04T05:00:00Z",
                                                                 "Schulzeit"))
        text = unfold(s.req("tina", "GET", f"/calendars/{cal}/export.ics").body)
        self.assertIn("TZID:Schulzeit", text)


class Export(IcalTestCase):
    def test_export_routes(self) -> None:
        s = School(self.host, self.op_token)
        cal = s.calendar(name="Stundenplan")["id"]
        s.event(cal, summary="Physik", start="2026-03-02T08:00:00+01:00",
                end="2026-03-02T08:45:00+01:00", timezone="Europe/Berlin",
                rrule="FREQ=WEEKLY;UNTIL=20260701T000000Z", description="Raum 1; Aula, oben")
        a = s.req("tina", "GET", f"/calendars/{cal}/export.ics")
        b = s.req("tina", "GET", f"/calendars/{cal}.ics")
        fixtures.check(a, 200)
        fixtures.check(b, 200)
        self.assertEqual(a.body.replace(b"\r\n ", b"").split(b"DTSTAMP")[0],
                         b.body.replace(b"\r\n ", b"").split(b"DTSTAMP")[0])
        text = unfold(a.body)
        self.assertIn("X-WR-CALNAME:Stundenplan", text)
        self.assertIn("DTSTART;TZID=Europe/Berlin:20260302T080000", text)
        self.assertIn("\r\nTZID:Europe/Berlin\r\n", text)
        self.assertIn("DESCRIPTION:Raum 1\\; Aula\\, oben", text)
        # The zone's history is cut to the year before the first event.
        self.assertNotIn("DTSTART:1893", text)
        for who, status in (("sam", 404), (None, 401)):
            self.assertProblem(s.req(who, "GET", f"/calendars/{cal}/export.ics"), status)
            self.assertProblem(s.req(who, "GET", f"/calendars/{cal}.ics"), status)
        self.assertProblem(s.req("tina", "GET", f"/calendars/{uuid.uuid4()}.ics"), 404)
        self.assertProblem(s.req("tina", "GET", "/calendars/x.ics"), 404)


class Feeds(IcalTestCase):
    def feed(self, url_or_token: str) -> harness.Response:
        token = url_or_token.rsplit("/", 1)[-1]
        if not token.endswith(".ics"):
            token += ".ics"
        return self.host.request("GET", f"/api/v1/calendar/ical/{token}")

    def test_feed_lifecycle(self) -> None:
        s = School(self.host, self.op_token)
        cal = s.calendar(name="Mein Plan")["id"]
        s.event(cal, summary="Sport", start="2026-05-04T08:00:00Z", end="2026-05-04T09:00:00Z")
        sub = s.ok("tina", "POST", f"/calendars/{cal}/subscriptions", {"label": "iPhone"},
                   status=(201,))
        self.assertEqual(len(sub["token"]), 43)
        self.assertTrue(sub["url"].endswith(f"/api/v1/calendar/ical/{sub['token']}.ics"))
        self.assertTrue(sub["url"].startswith("http://127.0.0.1:"), sub["url"])
        resp = self.feed(sub["token"])
        fixtures.check(resp, 200, what="feed")
        self.assertTrue(resp.headers["Content-Type"].startswith("text/calendar"))
        self.assertIn("SUMMARY:Sport", unfold(resp.body))
        # the feed URL is exactly the documented one
        self.assertEqual(self.host.request("GET", f"/api/v1/calendar/ical/{sub['token']}")
                         .status, 404)
        # Only the hash is stored.
        digest = hashlib.sha256(sub["token"].encode()).hexdigest()
        self.assertEqual(self.sql(f"SELECT token_hash FROM calendar.subscriptions "
                                  f"WHERE id = '{sub['id']}'"), digest)
        self.assertEqual(self.sql(f"SELECT count(*) FROM calendar.subscriptions WHERE "
                                  f"token_hash LIKE '%{sub['token'][:20]}%'"), "0")
        listed = s.ok("tina", "GET", f"/calendars/{cal}/subscriptions")["items"]
        self.assertEqual([(x["id"], x["label"]) for x in listed], [(sub["id"], "iPhone")])
        self.assertNotIn("token", listed[0])
        # Wrong, malformed, and revoked tokens all look the same.
        for bad in ("A" * 43, "short", sub["token"][:-1] + "!", sub["token"] + "x"):
            self.assertEqual(self.feed(bad).status, 404, bad)
        s.ok("tina", "DELETE", f"/calendars/{cal}/subscriptions/{sub['id']}", status=(204,))
        self.assertProblem(self.feed(sub["token"]), 404)
        self.assertProblem(s.req("tina", "DELETE", f"/calendars/{cal}/subscriptions/{sub['id']}"),
                           404)

    def test_feed_rights(self) -> None:
        s = School(self.host, self.op_token)
        gid = s.group("Chor", owner="tina", members=["sam", "sue"])
        cal = s.calendar("tina", "Chor", owner={"type": "group", "id": gid})["id"]
        sam = s.ok("sam", "POST", f"/calendars/{cal}/subscriptions", {}, status=(201,))
        sue = s.ok("sue", "POST", f"/calendars/{cal}/subscriptions", {}, status=(201,))
        # Members list and revoke their own; the calendar's editors see and revoke all.
        self.assertEqual(len(s.ok("sam", "GET", f"/calendars/{cal}/subscriptions")["items"]), 1)
        self.assertEqual(len(s.ok("tina", "GET", f"/calendars/{cal}/subscriptions")["items"]), 2)
        self.assertProblem(s.req("sam", "DELETE", f"/calendars/{cal}/subscriptions/{sue['id']}"),
                           404)
        page = s.ok("tina", "GET", f"/calendars/{cal}/subscriptions?limit=1")
        self.assertEqual(len(page["items"]), 1)
        self.assertIsNotNone(page["next_cursor"])
        # Not a member: no subscription, even for an admin who sees the calendar.
        self.assertProblem(s.req("stan", "POST", f"/calendars/{cal}/subscriptions", {}), 404)
        self.assertProblem(s.req("ada", "POST", f"/calendars/{cal}/subscriptions", {}), 403)
        self.assertProblem(s.req("op", "POST", f"/calendars/{cal}/subscriptions", {}), 422)
        self.assertProblem(s.req("sam", "POST", f"/calendars/{cal}/subscriptions",
                                 {"label": 5}), 400)
        self.assertProblem(s.req("sam", "POST", f"/calendars/{cal}/subscriptions",
                                 {"name": "x"}), 400)
        self.assertProblem(s.req(None, "POST", f"/calendars/{cal}/subscriptions", {}), 401)
        self.assertEqual(self.feed(sam["url"]).status, 200)
        # Leaving the group ends the feed; the other member's still works.
        fixtures.check(s.raw("tina", "DELETE", f"/groups/{gid}/members/{s.ids['sam']}"), 204,
                       what="remove sam")
        self.assertProblem(self.feed(sam["url"]), 404)
        self.assertEqual(self.feed(sue["url"]).status, 200)
        s.ok("tina", "DELETE", f"/calendars/{cal}/subscriptions/{sue['id']}", status=(204,))
        self.assertProblem(self.feed(sue["url"]), 404)

    def test_feed_follows_module_and_school(self) -> None:
        s = School(self.host, self.op_token)
        cal = s.calendar("ada", "Schule", owner={"type": "school"})["id"]
        sub = s.ok("pia", "POST", f"/calendars/{cal}/subscriptions", {}, status=(201,))
        self.assertEqual(self.feed(sub["token"]).status, 200)
        # A token of another school's feed never shows this school's data, signed in or not.
        other = School(self.host, self.op_token)
        self.assertEqual(self.host.request("GET", f"/api/v1/calendar/ical/{sub['token']}.ics",
                                           token=other.tokens["ada"]).status, 200)
        fixtures.check(s.raw("op", "DELETE", "/modules/calendar"), 204, what="disable")
        self.assertProblem(self.feed(sub["token"]), 404)
        fixtures.check(s.raw("op", "PUT", "/modules/calendar"), 200, 201, what="enable")
        self.assertEqual(self.feed(sub["token"]).status, 200)
        fixtures.check(s.raw("ada", "DELETE", f"/users/{s.ids['pia']}"), 204, what="delete pia")
        self.assertProblem(self.feed(sub["token"]), 404)


if __name__ == "__main__":
    harness.main()
