# SPDX-License-Identifier: Apache-2.0
"""test_calendar_occurrences.py - the materialised occurrences (calendar.occurrences, issue #19)
against libical's expansion of one window at a time.

A series is expanded by libical when it is written and its occurrences are stored; a window
reads the rows. The reference here is the other way the plugin can answer the same window: with
nothing stored (as after the migration's backfill, events.occ_from = occ_to = 0) and the series
marked open-ended, the window makes the plugin expand that series from the window's start with
libical (icalrecur_iterator_set_start, the per-request expansion of before) and store that. Both
answers must be the same list, item for item, for every real-world file of
../shared/testdata/ical and for hand-made tricky series (DST changes in Europe/Berlin,
BYDAY/BYSETPOS, EXDATE, overridden and cancelled occurrences, all-day, UNTIL against COUNT).

Also: what is stored (complete series, the horizon of open-ended ones, extension beyond it),
edits replacing the stored rows, and concurrent windows extending the same series.
"""

from __future__ import annotations

import glob
import os
import threading
from typing import Any

import harness
from test_calendar import School
from test_calendar_ical import ICS, TESTDATA, IcalTestCase


def vcal(*events: str, extra: str = "") -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{extra}{body}"
            "END:VCALENDAR\r\n").encode()


def ev(uid: str, *lines: str) -> str:
    return "\r\n".join((f"UID:{uid}", "DTSTAMP:20260101T000000Z", f"SUMMARY:{uid}") + lines)


TRICKY = vcal(
    # Weekly in Berlin across both DST changes of 2026: 08:00 local is 07:00Z, then 06:00Z.
    ev("berlin", "DTSTART;TZID=Europe/Berlin:20260105T080000",
       "DTEND;TZID=Europe/Berlin:20260105T090000", "RRULE:FREQ=WEEKLY;BYDAY=MO,WE"),
    # 02:30 does not exist on 2026-03-29 and happens twice on 2026-10-25 in Berlin.
    ev("gap", "DTSTART;TZID=Europe/Berlin:20260320T023000",
       "DTEND;TZID=Europe/Berlin:20260320T030000", "RRULE:FREQ=DAILY;COUNT=230"),
    # The last weekday of each month.
    ev("lastweekday", "DTSTART;TZID=Europe/Berlin:20260130T140000",
       "DURATION:PT1H", "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"),
    # Second and last Saturday, with an EXDATE and a moved and a cancelled occurrence.
    ev("saturdays", "DTSTART;TZID=Europe/Berlin:20260110T100000",
       "DTEND;TZID=Europe/Berlin:20260110T120000", "RRULE:FREQ=MONTHLY;BYDAY=2SA,-1SA",
       "EXDATE;TZID=Europe/Berlin:20260314T100000"),
    ev("saturdays", "RECURRENCE-ID;TZID=Europe/Berlin:20260425T100000",
       "DTSTART;TZID=Europe/Berlin:20260426T150000", "DTEND;TZID=Europe/Berlin:20260426T160000"),
    ev("saturdays", "RECURRENCE-ID;TZID=Europe/Berlin:20260613T100000",
       "DTSTART;TZID=Europe/Berlin:20260613T100000", "DTEND;TZID=Europe/Berlin:20260613T120000",
       "STATUS:CANCELLED"),
    # All-day: yearly, and a three-day event every other week.
    ev("birthday", "DTSTART;VALUE=DATE:19890425", "RRULE:FREQ=YEARLY;BYMONTHDAY=25;BYMONTH=4"),
    ev("trip", "DTSTART;VALUE=DATE:20260102", "DTEND;VALUE=DATE:20260105",
       "RRULE:FREQ=WEEKLY;INTERVAL=2;UNTIL=20261231"),
    # The same ten occurrences by UNTIL and by COUNT.
    ev("until", "DTSTART:20260601T120000Z", "DTEND:20260601T123000Z",
       "RRULE:FREQ=DAILY;INTERVAL=3;UNTIL=20260628T120000Z"),
    ev("count", "DTSTART:20260601T120000Z", "DTEND:20260601T123000Z",
       "RRULE:FREQ=DAILY;INTERVAL=3;COUNT=10"),
    # Every fifth hour, open-ended; and a long event (two weeks) that overlaps windows from
    # well before them.
    ev("hourly", "DTSTART:20260101T100000Z", "DTEND:20260101T101000Z",
       "RRULE:FREQ=HOURLY;INTERVAL=5"),
    ev("long", "DTSTART:20260310T000000Z", "DTEND:20260324T000000Z"),
    ev("instant", "DTSTART:20260401T000000Z", "DTEND:20260401T000000Z"),
)


class Occurrences(IcalTestCase):
    def load(self, s: School, name: str, data: bytes) -> str:
        cal = s.calendar(name=name[:60])["id"]
        out = s.req("tina", "POST", f"/calendars/{cal}/import", data, headers=ICS)
        self.assertEqual(out.status, 200, out.body[:500])
        return cal

    def months(self, cal: str, limit: int = 18) -> list[tuple[str, str]]:
        """Monthly windows from the calendar's first event on (at most @limit)."""
        rows = self.sql(
            "SELECT string_agg(to_char(m, 'YYYY-MM-DD') || ' ' || "
            "to_char(m + interval '1 month', 'YYYY-MM-DD'), ',' ORDER BY m) FROM "
            "generate_series(date_trunc('month', (SELECT min(range_start) FROM calendar.events "
            f"WHERE calendar_id = '{cal}')) - interval '1 month', "
            "date_trunc('month', (SELECT min(range_start) FROM calendar.events "
            f"WHERE calendar_id = '{cal}')) + interval '{limit - 2} months', "
            "interval '1 month') m")
        return [tuple(w.split(" ")) for w in rows.split(",")]  # type: ignore[misc]

    def forget(self, cal: str) -> None:
        """Nothing stored, and every series open-ended: the next window expands it itself."""
        self.pg.psql(f"DELETE FROM calendar.occurrences WHERE calendar_id = '{cal}'; "
                     "UPDATE calendar.events SET occ_from = 0, occ_to = 0, range_end = NULL "
                     f"WHERE calendar_id = '{cal}'")

    def compare(self, s: School, cal: str, windows: list[tuple[str, str]]) -> int:
        path = f"/calendars/{cal}/events"
        stored = [s.window("tina", path, a, b) for a, b in windows]
        for (a, b), want in zip(windows, stored):
            with self.subTest(window=a):
                self.forget(cal)
                self.assertEqual(s.window("tina", path, a, b), want)
        return sum(len(w) for w in stored)

    def test_testdata_files(self) -> None:
        s = School(self.host, self.op_token)
        files = sorted(f for f in glob.glob(os.path.join(TESTDATA, "*.ics"))
                       if not os.path.basename(f).startswith("malformed-"))
        self.assertGreaterEqual(len(files), 16, TESTDATA)
        for path in files:
            name = os.path.basename(path)
            with self.subTest(file=name):
                with open(path, "rb") as f:
                    cal = self.load(s, name, f.read())
                # Eight months from the first event (each window costs a fresh expansion and
                # a psql; 18 made this the suite's slowest file), and a year from the last
                # event too, where the files' long series are.
                windows = self.months(cal, limit=8)
                last = self.sql("SELECT to_char(max(range_start), 'YYYY-MM-DD') || ' ' || "
                                "to_char(max(range_start) + interval '1 year', 'YYYY-MM-DD') "
                                f"FROM calendar.events WHERE calendar_id = '{cal}'")
                windows.append(tuple(last.split(" ")))  # type: ignore[arg-type]
                self.assertGreater(self.compare(s, cal, windows), 0, "nothing in any window")

    def test_tricky_series(self) -> None:
        s = School(self.host, self.op_token)
        cal = self.load(s, "tricky", TRICKY)
        path = f"/calendars/{cal}/events"
        year = s.window("tina", path, "2026-01-01", "2027-01-01")

        def starts(uid: str) -> list[str]:
            return [o["start"] for o in year if o["summary"] == uid]

        berlin = starts("berlin")
        self.assertEqual(berlin[:2], ["2026-01-05T07:00:00Z", "2026-01-07T07:00:00Z"])
        self.assertIn("2026-03-30T06:00:00Z", berlin)
        self.assertIn("2026-10-26T07:00:00Z", berlin)
        self.assertEqual(starts("lastweekday")[:5], [
            "2026-01-30T13:00:00Z", "2026-02-27T13:00:00Z", "2026-03-31T12:00:00Z",
            "2026-04-30T12:00:00Z", "2026-05-29T12:00:00Z"])
        sat = [(o["start"], o["status"], o["modified"]) for o in year
               if o["summary"] == "saturdays"][:12]
        self.assertNotIn("2026-03-14T09:00:00Z", [x[0] for x in sat])
        self.assertIn(("2026-04-26T13:00:00Z", None, True), sat)
        self.assertIn(("2026-06-13T08:00:00Z", "cancelled", True), sat)
        self.assertNotIn("2026-04-25T08:00:00Z", [x[0] for x in sat])
        self.assertEqual([o["start"] for o in year if o["summary"] == "birthday"],
                         ["2026-04-25"])
        self.assertEqual(starts("until"), starts("count"))
        self.assertEqual(len(starts("count")), 10)
        self.assertEqual(len(starts("trip")), 26)
        # The first and last stored rows of the complete and the open-ended series.
        self.assertEqual(self.sql(
            "SELECT string_agg(summary || ':' || (occ_from IS NULL), ',' ORDER BY summary) "
            f"FROM calendar.events WHERE calendar_id = '{cal}' AND summary IN "
            "('count', 'until', 'berlin', 'long')"), "berlin:false,count:true,long:true,"
            "until:true")
        # A window over the long event finds it from more than a week after it began.
        self.assertEqual([o["summary"] for o in s.window("tina", path, "2026-03-20",
                                                         "2026-03-21")
                          if o["summary"] in ("long", "instant")], ["long"])
        self.assertEqual([o["summary"] for o in s.window("tina", path, "2026-04-01",
                                                         "2026-04-02")
                          if o["summary"] in ("long", "instant")], ["instant"])
        windows = [("2026-01-01", "2026-02-01"), ("2026-03-01", "2026-04-01"),
                   ("2026-03-25", "2026-04-05"), ("2026-10-20", "2026-11-02"),
                   ("2026-06-01", "2026-07-01"), ("2030-04-01", "2030-05-01")]
        self.assertGreater(self.compare(s, cal, windows), 0)

    def test_pages_across_both_parts(self) -> None:
        """A window is read in two parts (window.c): occurrences starting at most a day before
        it, by their key, and longer ones that started earlier, by their end. Pages of any
        size walk both in one order, each occurrence once, on one calendar and on all."""
        s = School(self.host, self.op_token)
        cal = s.calendar(name="Edges")["id"]
        other = s.calendar(name="Other")["id"]
        for summary, start, end in (
                ("A: a day, ending as the window begins", "2026-05-09T00:00:00Z",
                 "2026-05-10T00:00:00Z"),
                ("B: a day and two seconds, from before the look-back", "2026-05-08T23:59:59Z",
                 "2026-05-10T00:00:01Z"),
                ("C: a day and a second, from the look-back's edge", "2026-05-09T00:00:00Z",
                 "2026-05-10T00:00:01Z"),
                ("D: a day, from inside the look-back", "2026-05-09T00:00:01Z",
                 "2026-05-10T00:00:01Z"),
                ("E: no length, as the window begins", "2026-05-10T00:00:00Z",
                 "2026-05-10T00:00:00Z"),
                ("F: no length, before it", "2026-05-09T23:59:59Z", "2026-05-09T23:59:59Z"),
                ("G: two months", "2026-04-01T00:00:00Z", "2026-06-01T00:00:00Z"),
                ("H: inside", "2026-05-11T08:00:00Z", "2026-05-11T09:00:00Z"),
                ("I: inside, same start", "2026-05-11T08:00:00Z", "2026-05-11T08:45:00Z"),
                ("J: inside, same start", "2026-05-11T08:00:00Z", "2026-05-11T10:00:00Z"),
                ("K: after it", "2026-05-12T00:00:00Z", "2026-05-12T01:00:00Z")):
            s.event(cal, summary=summary, start=start, end=end)
        s.event(other, summary="L: the other calendar, same start", start="2026-05-11T08:00:00Z",
                end="2026-05-11T08:30:00Z")
        s.event(other, summary="M: the other calendar, a week", start="2026-05-04T12:00:00Z",
                end="2026-05-11T12:00:00Z")
        for path, want in ((f"/calendars/{cal}/events", "BCDEGHIJ"), ("/events", "BCDEGHIJLM")):
            walks = [s.window("tina", path, "2026-05-10T00:00:00Z", "2026-05-12T00:00:00Z",
                              limit=n) for n in (1, 2, 3, 500)]
            keys = [[(o["start"], o["event_id"], o["recurrence_id"] or "") for o in walk]
                    for walk in walks]
            with self.subTest(path=path):
                self.assertEqual(keys[0], keys[-1])
                self.assertEqual(keys[1], keys[-1])
                self.assertEqual(keys[2], keys[-1])
                self.assertEqual(keys[-1], sorted(keys[-1]))
                self.assertEqual("".join(sorted(o["summary"][0] for o in walks[-1])), want)

    def test_horizon_and_extension(self) -> None:
        s = School(self.host, self.op_token)
        cal = s.calendar()["id"]
        path = f"/calendars/{cal}/events"
        ev_ = s.event(cal, summary="Weekly", start="2026-01-05T08:00:00+01:00",
                      end="2026-01-05T09:00:00+01:00", timezone="Europe/Berlin",
                      rrule="FREQ=WEEKLY")
        q = f"FROM calendar.events WHERE id = '{ev_['id']}'"
        self.assertEqual(self.sql(f"SELECT occ_from IS NOT NULL AND occ_to > occ_from {q}"), "t")
        before = int(self.sql(f"SELECT occ_to {q}"))
        # Far beyond the horizon: the window extends the series and stores what it found.
        far = s.window("tina", path, "2100-01-01", "2100-02-01")
        self.assertEqual(len(far), 4)
        self.assertEqual(far[0]["start"], "2100-01-04T07:00:00Z")
        self.assertGreater(int(self.sql(f"SELECT occ_to {q}")), before)
        self.assertEqual(self.sql(f"SELECT occ_from <= extract(epoch FROM "
                                  f"timestamptz '2100-01-01') {q}"), "t")
        # An edit replaces every stored occurrence.
        s.ok("tina", "PATCH", f"{path}/{ev_['id']}", {"rrule": "FREQ=WEEKLY;COUNT=2"})
        self.assertEqual(self.sql("SELECT count(*) FROM calendar.occurrences "
                                  f"WHERE event_id = '{ev_['id']}'"), "2")
        self.assertEqual(s.window("tina", path, "2100-01-01", "2100-02-01"), [])
        self.assertEqual(self.sql(f"SELECT occ_to IS NULL {q}"), "t")
        s.ok("tina", "DELETE", f"{path}/{ev_['id']}/occurrences/2026-01-12T07:00:00Z",
             status=(204,))
        self.assertEqual([o["start"] for o in s.window("tina", path, "2026-01-01", "2026-02-01")],
                         ["2026-01-05T07:00:00Z"])
        s.ok("tina", "DELETE", f"{path}/{ev_['id']}", status=(204,))
        self.assertEqual(self.sql("SELECT count(*) FROM calendar.occurrences "
                                  f"WHERE event_id = '{ev_['id']}'"), "0")

    def test_concurrent_extension(self) -> None:
        """Windows on several workers extending the same series at once agree and store each
        occurrence once."""
        s = School(self.host, self.op_token)
        cal = s.calendar()["id"]
        path = f"/calendars/{cal}/events"
        for z in ("Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"):
            s.event(cal, summary=z, start="2026-01-05T09:00:00Z", end="2026-01-05T10:00:00Z",
                    timezone=z, rrule="FREQ=DAILY")
        self.forget(cal)
        results: list[Any] = []
        errors: list[str] = []

        def run() -> None:
            try:
                results.append(s.window("tina", path, "2040-03-01", "2040-04-01"))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=run) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(results[0]), 4 * 31)
        self.assertTrue(all(r == results[0] for r in results))
        self.assertEqual(self.sql(
            "SELECT count(*) = count(DISTINCT (event_id, recurrence_id)) FROM "
            f"calendar.occurrences WHERE calendar_id = '{cal}'"), "t")

    def test_backfilled_rows(self) -> None:
        """Rows from before the migration (nothing stored) answer the same windows."""
        s = School(self.host, self.op_token)
        cal = self.load(s, "tricky", TRICKY)
        path = f"/calendars/{cal}/events"
        want = s.window("tina", path, "2026-03-01", "2026-05-01")
        self.pg.psql(f"DELETE FROM calendar.occurrences WHERE calendar_id = '{cal}'; "
                     f"UPDATE calendar.events SET occ_from = 0, occ_to = 0 "
                     f"WHERE calendar_id = '{cal}'")
        self.assertEqual(s.window("tina", path, "2026-03-01", "2026-05-01"), want)
        # Bounded series are stored whole again on the way.
        self.assertEqual(self.sql("SELECT occ_to IS NULL FROM calendar.events "
                                  f"WHERE calendar_id = '{cal}' AND uid = 'gap'"), "t")

    def test_window_uses_the_index(self) -> None:
        """The window's queries, as the request role under row-level security, read the
        occurrences through their index once the table is big enough to prefer it."""
        s = School(self.host, self.op_token)
        cal = s.calendar()["id"]
        ev_ = s.event(cal, summary="x", start="2026-01-05T08:00:00Z",
                      end="2026-01-05T09:00:00Z")
        self.pg.psql(
            "INSERT INTO calendar.occurrences (school_id, calendar_id, event_id, recurrence_id, "
            "starts_at, ends_at, all_day, modified, summary) SELECT e.school_id, e.calendar_id, "
            "e.id, 'bulk-' || g, 1700000000 + g * 3600, 1700000000 + g * 3600 + 1800, false, "
            f"false, 'bulk' FROM calendar.events e, generate_series(1, 50000) g "
            f"WHERE e.id = '{ev_['id']}'")
        # As autovacuum leaves a table this size: analysed, and all visible (index-only scans).
        self.pg.psql("VACUUM ANALYZE calendar.occurrences")
        school = self.sql(f"SELECT school_id FROM calendar.calendars WHERE id = '{cal}'")
        # A page's first part as window.c sends it: after the key of the previous page's last
        # row, in key order, from the index that carries the key, starting at that key (an
        # index condition, not a filter), with no sort of the window's rows.
        plan = self.pg.psql(
            f"BEGIN; SET LOCAL ROLE atrium_request; SELECT set_config('atrium.school_id', "
            f"'{school}', true); SET LOCAL plan_cache_mode = force_generic_plan; PREPARE p AS "
            "SELECT o.starts_at, o.event_id, o.recurrence_id FROM calendar.occurrences o "
            "WHERE o.school_id = core.current_school() AND o.calendar_id = $1::uuid AND "
            "(o.starts_at, o.event_id, o.recurrence_id) > ($4::bigint, $5::uuid, "
            "$6::text COLLATE \"C\") AND o.starts_at > $2::bigint - 86400 AND "
            "o.starts_at < $3::bigint AND (o.ends_at > $2::bigint OR (o.ends_at = o.starts_at "
            "AND o.starts_at >= $2::bigint)) ORDER BY o.starts_at, o.event_id, o.recurrence_id "
            f"LIMIT 51; EXPLAIN EXECUTE p('{cal}', 1780000000, 1782000000, 1780500000, "
            f"'{ev_['id']}', 'bulk-1'); COMMIT;")
        self.assertIn("Index Only Scan using occurrences_by_key", plan)
        self.assertRegex(plan, r"Index Cond: \(.*ROW\(starts_at, event_id, recurrence_id\) >")
        self.assertNotIn("Sort", plan)
        self.assertNotIn("Seq Scan", plan)
        self.assertEqual(len(s.window("tina", f"/calendars/{cal}/events", "2026-01-01",
                                      "2026-01-02")), 24)
        self.pg.psql("DELETE FROM calendar.occurrences WHERE recurrence_id LIKE 'bulk-%'")


if __name__ == "__main__":
    harness.main()
