# SPDX-License-Identifier: Apache-2.0
"""test_calendar_outlook.py - real-world-shaped exports from Outlook and Exchange (issue #19):
Windows zone names, and RECURRENCE-ID;RANGE=THISANDFUTURE.

Windows zone names (plugins/calendar/README.md, "Time"): a TZID such as "W. Europe Standard
Time" is the file's own VTIMEZONE when the file defines it (also when only a RECURRENCE-ID
uses it), and otherwise CLDR's windowsZones mapping through ICU ("W. Europe Standard Time" ->
Europe/Berlin); a name neither defines is refused as an unknown time zone.
"""

from __future__ import annotations

import harness
from test_calendar import School
from test_calendar_ical import IcalTestCase

OUTLOOK_HEAD = (
    "BEGIN:VCALENDAR\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\n"
    "VERSION:2.0\r\nMETHOD:PUBLISH\r\nX-MS-OLK-FORCEINSPECTOROPEN:TRUE\r\n")

W_EUROPE = (
    "BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\n"
    "BEGIN:STANDARD\r\nDTSTART:16011028T030000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n"
    "BEGIN:DAYLIGHT\r\nDTSTART:16010325T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\n"
    "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n")

# A zone of the same name that a (made-up) server defines without DST at +03:00: the file's
# definition must win over the CLDR mapping.
W_EUROPE_ODD = (
    "BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\n"
    "BEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:+0300\r\nTZOFFSETTO:+0300\r\n"
    "END:STANDARD\r\nEND:VTIMEZONE\r\n")

UID = "040000008200E00074C5B7101A82E00800000000D0E3B1C4A1A9DC01000000000000000010000000"


def outlook_event(uid: str, *lines: str) -> str:
    return ("BEGIN:VEVENT\r\nCLASS:PUBLIC\r\nCREATED:20260210T101500Z\r\n"
            "DTSTAMP:20260210T101500Z\r\nPRIORITY:5\r\nSEQUENCE:0\r\n"
            "TRANSP:OPAQUE\r\nX-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\nX-MICROSOFT-CDO-IMPORTANCE:1\r\n"
            f"UID:{uid}\r\n" + "".join(f"{x}\r\n" for x in lines) + "END:VEVENT\r\n")


def outlook(*parts: str) -> bytes:
    return (OUTLOOK_HEAD + "".join(parts) + "END:VCALENDAR\r\n").encode()


WEEKLY = [
    'DTSTART;TZID="W. Europe Standard Time":20260302T080000',
    'DTEND;TZID="W. Europe Standard Time":20260302T090000',
    "RRULE:FREQ=WEEKLY;BYDAY=MO", "SUMMARY;LANGUAGE=de:Teambesprechung",
    "LOCATION:Lehrerzimmer"]


class WindowsZones(IcalTestCase):
    def load(self, s: School, data: bytes, status: int = 200) -> tuple[str, object]:
        cal = s.calendar(name="outlook")["id"]
        return cal, self.import_ics(s, cal, data, status=status)

    def starts(self, s: School, cal: str, a: str, b: str) -> list[tuple[str, bool]]:
        return [(o["start"], o["modified"])
                for o in s.window("tina", f"/calendars/{cal}/events", a, b)]

    def test_own_vtimezone_with_override(self) -> None:
        s = School(self.host, self.op_token)
        cal, _ = self.load(s, outlook(W_EUROPE, outlook_event(UID, *WEEKLY), outlook_event(
            UID, 'RECURRENCE-ID;TZID="W. Europe Standard Time":20260330T080000',
            'DTSTART;TZID="W. Europe Standard Time":20260331T100000',
            'DTEND;TZID="W. Europe Standard Time":20260331T110000',
            "SUMMARY;LANGUAGE=de:Teambesprechung (verschoben)")))
        self.assertEqual(self.starts(s, cal, "2026-03-20", "2026-04-10"), [
            ("2026-03-23T07:00:00Z", False), ("2026-03-31T08:00:00Z", True),
            ("2026-04-06T06:00:00Z", False)])
        # Edited through the API, the series keeps its zone.
        eid = self.sql(f"SELECT id FROM calendar.events WHERE calendar_id = '{cal}'")
        got = s.ok("tina", "GET", f"/calendars/{cal}/events/{eid}")
        self.assertEqual(got["timezone"], "W. Europe Standard Time")
        self.assertEqual(len(got["overrides"]), 1)
        s.ok("tina", "PUT", f"/calendars/{cal}/events/{eid}/occurrences/2026-04-06T06:00:00Z",
             {"summary": "Ausnahmsweise"})
        self.assertIn(("2026-04-06T06:00:00Z", True),
                      self.starts(s, cal, "2026-04-01", "2026-04-10"))

    def test_vtimezone_last_override_first(self) -> None:
        """Exchange writes the VTIMEZONE after the events, and the changed occurrence before
        its series."""
        s = School(self.host, self.op_token)
        cal, _ = self.load(s, outlook(outlook_event(
            UID, 'RECURRENCE-ID;TZID="W. Europe Standard Time":20260330T080000',
            'DTSTART;TZID="W. Europe Standard Time":20260331T100000',
            'DTEND;TZID="W. Europe Standard Time":20260331T110000', "SUMMARY:moved"),
            outlook_event(UID, *WEEKLY), W_EUROPE))
        self.assertEqual(self.starts(s, cal, "2026-03-20", "2026-04-10"), [
            ("2026-03-23T07:00:00Z", False), ("2026-03-31T08:00:00Z", True),
            ("2026-04-06T06:00:00Z", False)])

    def test_override_only_uses_the_zone(self) -> None:
        """Exchange sends a lone changed occurrence to an attendee: only RECURRENCE-ID and the
        moved times name the zone."""
        s = School(self.host, self.op_token)
        cal, _ = self.load(s, outlook(W_EUROPE, outlook_event(
            UID, 'RECURRENCE-ID;TZID="W. Europe Standard Time":20260330T080000',
            'DTSTART;TZID="W. Europe Standard Time":20260331T100000',
            'DTEND;TZID="W. Europe Standard Time":20260331T110000', "SUMMARY:moved")))
        self.assertEqual(self.starts(s, cal, "2026-03-01", "2026-05-01"),
                         [("2026-03-31T08:00:00Z", True)])

    def test_file_definition_wins(self) -> None:
        s = School(self.host, self.op_token)
        cal, _ = self.load(s, outlook(W_EUROPE_ODD, outlook_event(UID, *WEEKLY)))
        self.assertEqual(self.starts(s, cal, "2026-03-01", "2026-03-03"),
                         [("2026-03-02T05:00:00Z", False)])

    def test_cldr_mapping_without_vtimezone(self) -> None:
        s = School(self.host, self.op_token)
        cal, _ = self.load(s, outlook(outlook_event(UID, *WEEKLY), outlook_event(
            "pacific", 'DTSTART;TZID="Pacific Standard Time":20260305T090000',
            'DTEND;TZID="Pacific Standard Time":20260305T100000',
            "RRULE:FREQ=DAILY;COUNT=10", "SUMMARY:Call with Seattle"), outlook_event(
            "pacific", 'RECURRENCE-ID;TZID="Pacific Standard Time":20260309T090000',
            'DTSTART;TZID="Pacific Standard Time":20260309T110000',
            'DTEND;TZID="Pacific Standard Time":20260309T120000', "SUMMARY:moved")))
        occ = s.window("tina", f"/calendars/{cal}/events", "2026-03-02", "2026-03-11")
        weekly = [o["start"] for o in occ if o["summary"] == "Teambesprechung"]
        self.assertEqual(weekly, ["2026-03-02T07:00:00Z", "2026-03-09T07:00:00Z"])
        pacific = [(o["start"], o["modified"]) for o in occ if o["summary"] != "Teambesprechung"]
        # Los Angeles: -08:00 until 2026-03-08, then -07:00.
        self.assertEqual(pacific[:4], [
            ("2026-03-05T17:00:00Z", False), ("2026-03-06T17:00:00Z", False),
            ("2026-03-07T17:00:00Z", False), ("2026-03-08T16:00:00Z", False)])
        self.assertIn(("2026-03-09T18:00:00Z", True), pacific)
        self.assertNotIn(("2026-03-09T16:00:00Z", False), pacific)

    def test_unknown_windows_name(self) -> None:
        s = School(self.host, self.op_token)
        _, problem = self.load(s, outlook(outlook_event(
            UID, 'DTSTART;TZID="Atlantis Standard Time":20260302T080000',
            'DTEND;TZID="Atlantis Standard Time":20260302T090000', "SUMMARY:x")), status=422)
        self.assertIn("unknown time zone", problem["detail"])  # type: ignore[index]
        # ... and the API's own timezone field still wants an IANA name.
        cal = s.calendar(name="api")["id"]
        self.assertProblem(s.req("tina", "POST", f"/calendars/{cal}/events", {
            "summary": "x", "start": "2026-03-02T08:00:00Z", "end": "2026-03-02T09:00:00Z",
            "timezone": "Atlantis Standard Time"}), 422)


BERLIN = "TZID=Europe/Berlin"


class ThisAndFuture(IcalTestCase):
    """RECURRENCE-ID;RANGE=THISANDFUTURE (RFC 5545 3.8.4.4): the override changes the
    occurrence it names and every later one: they move by as much as it moved (in local time),
    last as long as it does and take its texts."""

    def series(self, s: School, rule: str, *overrides: str) -> str:
        cal = s.calendar(name="future")["id"]
        master = outlook_event("lesson", f"DTSTART;{BERLIN}:20260302T080000",
                               f"DTEND;{BERLIN}:20260302T090000", f"RRULE:{rule}",
                               "SUMMARY:Mathe", "LOCATION:Raum 101")
        self.import_ics(s, cal, outlook(master, *overrides))
        return cal

    def view(self, s: School, cal: str, a: str, b: str) -> list[tuple]:
        return [(o["start"], o["end"], o["summary"], o["location"], o["recurrence_id"],
                 o["modified"]) for o in s.window("tina", f"/calendars/{cal}/events", a, b)]

    MOVED = outlook_event(
        "lesson", f"RECURRENCE-ID;RANGE=THISANDFUTURE;{BERLIN}:20260316T080000",
        f"DTSTART;{BERLIN}:20260317T100000", f"DTEND;{BERLIN}:20260317T113000",
        "SUMMARY:Mathe (neu)", "LOCATION:Raum 202")

    def test_later_occurrences_move(self) -> None:
        s = School(self.host, self.op_token)
        cal = self.series(s, "FREQ=WEEKLY", self.MOVED)
        self.assertEqual(self.view(s, cal, "2026-03-01", "2026-04-01"), [
            ("2026-03-02T07:00:00Z", "2026-03-02T08:00:00Z", "Mathe", "Raum 101",
             "2026-03-02T07:00:00Z", False),
            ("2026-03-09T07:00:00Z", "2026-03-09T08:00:00Z", "Mathe", "Raum 101",
             "2026-03-09T07:00:00Z", False),
            ("2026-03-17T09:00:00Z", "2026-03-17T10:30:00Z", "Mathe (neu)", "Raum 202",
             "2026-03-16T07:00:00Z", True),
            ("2026-03-24T09:00:00Z", "2026-03-24T10:30:00Z", "Mathe (neu)", "Raum 202",
             "2026-03-23T07:00:00Z", True),
            # After the DST change still Tuesday 10:00 in Berlin.
            ("2026-03-31T08:00:00Z", "2026-03-31T09:30:00Z", "Mathe (neu)", "Raum 202",
             "2026-03-30T06:00:00Z", True)])
        # A window that only the moved occurrence reaches, and one it left.
        self.assertEqual([x[0] for x in self.view(s, cal, "2026-03-24T00:00:00Z",
                                                  "2026-03-24T23:00:00Z")],
                         ["2026-03-24T09:00:00Z"])
        self.assertEqual(self.view(s, cal, "2026-03-23T00:00:00Z", "2026-03-23T23:00:00Z"), [])
        # Far later, from what is stored and expanded on its own alike.
        far = self.view(s, cal, "2027-01-01", "2027-01-15")
        self.assertEqual([x[0] for x in far], ["2027-01-05T09:00:00Z", "2027-01-12T09:00:00Z"])
        self.pg.psql(f"DELETE FROM calendar.occurrences WHERE calendar_id = '{cal}'; "
                     "UPDATE calendar.events SET occ_from = 0, occ_to = 0 "
                     f"WHERE calendar_id = '{cal}'")
        self.assertEqual(self.view(s, cal, "2027-01-01", "2027-01-15"), far)
        self.assertEqual([x[0] for x in self.view(s, cal, "2026-03-24T00:00:00Z",
                                                  "2026-03-24T23:00:00Z")],
                         ["2026-03-24T09:00:00Z"])

    def test_single_and_later_overrides_win(self) -> None:
        s = School(self.host, self.op_token)
        cal = self.series(
            s, "FREQ=WEEKLY;COUNT=6", self.MOVED,
            # One occurrence after the move changed on its own ...
            outlook_event("lesson", f"RECURRENCE-ID;{BERLIN}:20260323T080000",
                          f"DTSTART;{BERLIN}:20260325T120000", f"DTEND;{BERLIN}:20260325T130000",
                          "SUMMARY:Vertretung"),
            # ... and a second THISANDFUTURE moving the rest back to Monday, 09:00.
            outlook_event("lesson",
                          f"RECURRENCE-ID;RANGE=THISANDFUTURE;{BERLIN}:20260330T080000",
                          f"DTSTART;{BERLIN}:20260330T090000", f"DTEND;{BERLIN}:20260330T100000",
                          "SUMMARY:Mathe (Montag)"))
        self.assertEqual([(x[0], x[2]) for x in self.view(s, cal, "2026-03-01", "2026-05-01")], [
            ("2026-03-02T07:00:00Z", "Mathe"), ("2026-03-09T07:00:00Z", "Mathe"),
            ("2026-03-17T09:00:00Z", "Mathe (neu)"), ("2026-03-25T11:00:00Z", "Vertretung"),
            ("2026-03-30T07:00:00Z", "Mathe (Montag)"),
            ("2026-04-06T07:00:00Z", "Mathe (Montag)")])
        # The stored bounds cover the moved occurrences of a COUNT series.
        self.assertEqual(self.sql("SELECT range_end >= '2026-04-06 08:00+00' FROM "
                                  f"calendar.events WHERE calendar_id = '{cal}'"), "t")

    def test_all_day_series(self) -> None:
        s = School(self.host, self.op_token)
        cal = s.calendar(name="days")["id"]
        self.import_ics(s, cal, outlook(
            outlook_event("days", "DTSTART;VALUE=DATE:20260302", "DTEND;VALUE=DATE:20260303",
                          "RRULE:FREQ=WEEKLY;COUNT=4", "SUMMARY:Wandertag"),
            outlook_event("days", "RECURRENCE-ID;RANGE=THISANDFUTURE;VALUE=DATE:20260316",
                          "DTSTART;VALUE=DATE:20260318", "DTEND;VALUE=DATE:20260320",
                          "SUMMARY:Projekttage")))
        self.assertEqual([(x[0], x[1], x[2]) for x in self.view(s, cal, "2026-03-01",
                                                                 "2026-04-01")], [
            ("2026-03-02", "2026-03-03", "Wandertag"), ("2026-03-09", "2026-03-10", "Wandertag"),
            ("2026-03-18", "2026-03-20", "Projekttage"),
            ("2026-03-25", "2026-03-27", "Projekttage")])


if __name__ == "__main__":
    harness.main()
