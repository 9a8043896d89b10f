# SPDX-License-Identifier: Apache-2.0
"""test_conference_rollup.py - the usage figures of closed days from the daily roll-ups
(schema/0006_rollup.sql, rollup.c): `atriumd conference rollup` (what the leader's timer runs)
rolls up closed days, and GET /stats answers from them exactly as from the visits.

Exactness is checked against the computation from the visits alone, which stays callable as
conference.stats_raw(): varied visits of several schools (crossing midnight and hour edges,
open ones, guests and users, rooms whose visits touch), rolled up, then every figure of
conference.stats() compared row by row with stats_raw() over ranges on and off day edges, by
day and by hour, per school and for all schools; and the HTTP answers compared with those
computed after the roll-ups were dropped. Then what may change a closed day afterwards: a late
leave, a deleted user, a row written by hand, a visit longer than a day, another typical
length.

The school, the TestCase base and the JWT verifier are conference_fixtures.py's; the other
conference route families are in the other test_conference_*.py files (conference_fixtures.py
lists them).
"""

from __future__ import annotations

import datetime
import os
import random
import re
import subprocess
import uuid

import fixtures
import harness
from conference_fixtures import ConferenceTestCase, School, UTC, iso, now

TYPICAL = "25 minutes"  # the host's [conference] typical_minutes (default)


def midnight() -> datetime.datetime:
    return now().replace(hour=0, minute=0, second=0, microsecond=0)


class Rollups(ConferenceTestCase):
    EXIT_CHECK = ConferenceTestCase.EXIT_CHECK + ("rollup.c",)

    # -- helpers -----------------------------------------------------------------------------

    def load(self, schools: list[School], days: int, seed: int) -> None:
        """Visits of the last `days` days (today included) in every school, at whole minutes
        so that joins and leaves meet at the same instants and on hour edges."""
        rng = random.Random(seed)
        rows = []
        start = midnight() - datetime.timedelta(days=days - 1)
        for s in schools:
            people = list(s.ids.values())
            rooms = [str(uuid.uuid4()) for _ in range(4)]
            guests = [str(uuid.uuid4()) for _ in range(3)]
            for _ in range(60 * days):
                joined = start + datetime.timedelta(minutes=rng.randrange(0, days * 1440, 5))
                if joined > now() - datetime.timedelta(minutes=5):
                    continue
                length = rng.choice((0, 5, 15, 25, 30, 45, 60, 90, 180, 600))
                left = joined + datetime.timedelta(minutes=length)
                if rng.random() < 0.2 or left > now():
                    left = None                               # open: estimated
                user, guest = (rng.choice(people), None) if rng.random() < 0.8 else \
                    (None, rng.choice(guests))
                rows.append((s.id, rng.choice(rooms), user, guest, joined, left))
            # Across midnight in one room, and a visit that begins where another ends.
            for d in range(1, days - 1):
                m = start + datetime.timedelta(days=d)
                rows.append((s.id, rooms[0], people[0], None,
                             m - datetime.timedelta(minutes=40), m + datetime.timedelta(minutes=20)))
                rows.append((s.id, rooms[0], people[1], None,
                             m + datetime.timedelta(minutes=20), m + datetime.timedelta(hours=1)))
                rows.append((s.id, rooms[1], None, guests[0],
                             m - datetime.timedelta(minutes=10), None))
        self.insert(rows)

    def insert(self, rows: list[tuple]) -> None:
        def lit(v: object) -> str:
            if v is None:
                return "NULL"
            if isinstance(v, datetime.datetime):
                return f"'{iso(v)}'::timestamptz"
            return f"'{v}'::uuid"
        for i in range(0, len(rows), 500):
            values = ",\n".join("(" + ", ".join(lit(v) for v in r) + ")" for r in rows[i:i + 500])
            self.sql("INSERT INTO conference.attendance (school_id, room_id, user_id, guest_id, "
                     f"joined_at, left_at) VALUES {values}")

    def rollup(self) -> int:
        proc = self.host.run(["conference", "rollup"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        m = re.search(r"rolled up (\d+) school days", proc.stdout)
        self.assertTrue(m, proc.stdout)
        return int(m.group(1))

    def ranges(self) -> list[tuple[str, str, str]]:
        """(from, to, step): on day edges, off them, a range ending now, one of a single day."""
        m = midnight()

        def at(days: int, hours: int = 0, minutes: int = 0) -> str:
            return iso(m + datetime.timedelta(days=days, hours=hours, minutes=minutes))
        return [(at(-9), at(-1), "1 day"), (at(-9), at(-1), "1 hour"),
                (at(-8, 7, 13), iso(now()), "1 day"), (at(-8, 7, 13), iso(now()), "1 hour"),
                (at(-7, 23), at(-3, 1), "1 hour"), (at(-6), at(-5), "1 hour"),
                (at(-12), at(1), "1 day"), (at(-5), at(-2, 12, 30), "1 day")]

    def differences_sql(self, label: int, school: str | None, f: str, t: str, step: str,
                        typical: str = TYPICAL) -> str:
        """SQL for the rows of conference.stats() and stats_raw() that differ, for one school
        (as the school's transaction sees it) or for all schools (as the operators' route),
        each row led by @label."""
        enter = (f"SELECT set_config('atrium.school_id', '{school}', false);" if school
                 else "")
        args = f"{'false' if school else 'true'}, '{f}', '{t}', '{step}', '{typical}'"
        return (f"{enter} SELECT {label}, 'rolled', * FROM (SELECT * FROM "
                f"conference.stats({args}) EXCEPT ALL SELECT * FROM conference.stats_raw({args})) a "
                f"UNION ALL SELECT {label}, 'raw', * FROM (SELECT * FROM "
                f"conference.stats_raw({args}) EXCEPT ALL SELECT * FROM conference.stats({args})) b;")

    def assertExact(self, schools: list[School], typical: str = TYPICAL) -> None:
        # One psql for every range and view (a process each made this file take minutes):
        # the operators' view first, while no school is set in the session.
        checks = [(school, f, t, step) for school in [None] + [s.id for s in schools]
                  for f, t, step in self.ranges()]
        out = self.sql("\n".join(self.differences_sql(i, *c, typical)
                                  for i, c in enumerate(checks)))
        found: dict[int, list[str]] = {}
        for line in out.splitlines():
            label, _, rest = line.partition("|")
            if rest:
                found.setdefault(int(label), []).append(rest)
        for i, (school, f, t, step) in enumerate(checks):
            with self.subTest(school=school, start=f, end=t, step=step):
                self.assertEqual(found.get(i, []), [])

    def rolled_days(self, s: School) -> dict[str, bool]:
        """{day: dirty} of the school's roll-up rows."""
        rows = self.sql(f"SELECT day, dirty FROM conference.rollup_days "
                        f"WHERE school_id = '{s.id}' ORDER BY day").splitlines()
        return {d: dirty == "t" for d, dirty in (r.split("|") for r in rows)}

    def answer(self, s: School | None, query: str) -> dict:
        if s is None:
            resp = self.host.request("GET", f"/api/v1/conference/stats?{query}",
                                     token=self.op_token)
        else:
            resp = s.req("ada", "GET", f"/stats?{query}")
        return fixtures.check(resp, 200, what=f"stats {query}").json()

    # -- tests -------------------------------------------------------------------------------

    def test_rolled_up_figures_are_exact(self) -> None:
        schools = [self.school(), self.school(), self.school()]
        self.load(schools, days=10, seed=16)
        self.assertGreater(self.rollup(), 0)
        # Closed days are rolled up, today is not (nor yesterday before its leaves are in).
        days = self.rolled_days(schools[0])
        today = midnight().date().isoformat()
        last_closed = (now() - datetime.timedelta(hours=13)).date() - datetime.timedelta(days=1)
        clean = sorted(d for d, dirty in days.items() if not dirty)
        self.assertEqual(clean[-1], last_closed.isoformat(), days)
        self.assertNotIn(today, clean)
        self.assertGreaterEqual(len(clean), 8, days)
        for table in ("rollup_hours", "rollup_spans", "rollup_people"):
            self.assertNotEqual(self.sql(f"SELECT count(*) FROM conference.{table}"), "0", table)
        self.assertExact(schools)

        # The same answers over HTTP as with no roll-ups at all (everything from the visits).
        queries = [f"from={f}&to={t}&granularity={'day' if step == '1 day' else 'hour'}"
                   for f, t, step in self.ranges()[:6]]
        before = {(i, q): self.answer(s, q) for q in queries
                  for i, s in enumerate([None, schools[0]])}
        self.assertGreater(before[(0, queries[0])]["totals"]["joins"], 0)
        # ... and they do come from the roll-ups: a figure changed there shows.
        a_day = clean[-3]
        self.sql(f"UPDATE conference.rollup_days SET joins = joins + 1000 "
                 f"WHERE school_id = '{schools[0].id}' AND day = '{a_day}'")
        self.assertEqual(self.answer(schools[0], queries[0])["totals"]["joins"],
                         before[(1, queries[0])]["totals"]["joins"] + 1000)
        self.sql("DELETE FROM conference.rollup_days")
        for (i, q), want in before.items():
            with self.subTest(query=q, all_schools=i == 0):
                got = self.answer([None, schools[0]][i], q)
                self.assertEqual(got, want)

        # Again from nothing: the same roll-ups; and once more: nothing to do, nothing changes.
        self.assertGreater(self.rollup(), 0)
        dump = {t: sorted(self.dump(t).splitlines())
                for t in ("rollup_hours", "rollup_spans", "rollup_people")}
        days_before = self.sql("SELECT school_id, day, dirty, typical, rolled_at, joins, "
                               "distinct_users, usage_seconds, estimated_seconds "
                               "FROM conference.rollup_days ORDER BY 1, 2")
        self.assertEqual(self.rollup(), 0)
        self.assertEqual({t: sorted(self.dump(t).splitlines()) for t in dump}, dump)
        self.assertEqual(self.sql("SELECT school_id, day, dirty, typical, rolled_at, joins, "
                                  "distinct_users, usage_seconds, estimated_seconds "
                                  "FROM conference.rollup_days ORDER BY 1, 2"), days_before)
        self.assertExact(schools)

    def test_late_changes_are_rolled_up_again(self) -> None:
        schools = [self.school(), self.school()]
        self.load(schools, days=8, seed=1216)
        self.rollup()
        s = schools[0]
        clean = sorted(d for d, dirty in self.rolled_days(s).items() if not dirty)
        self.assertGreaterEqual(len(clean), 5)

        # A leave that comes late, for a visit of four days ago that was still open.
        four = (midnight() - datetime.timedelta(days=4))
        aid = self.sql(f"SELECT id FROM conference.attendance WHERE school_id = '{s.id}' "
                       f"AND left_at IS NULL AND joined_at >= '{iso(four)}' "
                       f"AND joined_at < '{iso(four + datetime.timedelta(hours=22))}' "
                       f"ORDER BY id LIMIT 1")
        self.assertTrue(aid)
        self.sql(f"UPDATE conference.attendance SET left_at = joined_at + interval '95 minutes' "
                 f"WHERE id = {aid}")
        days = self.rolled_days(s)
        d4, d3 = four.date().isoformat(), (four + datetime.timedelta(days=1)).date().isoformat()
        self.assertTrue(days[d4] and days[d3], days)
        self.assertFalse(self.rolled_days(schools[1])[d4], "another school's day went dirty")
        self.assertExact(schools)   # the dirty days from the visits meanwhile
        self.assertEqual(self.rollup(), 2)
        self.assertFalse(any(self.rolled_days(s)[d] for d in (d4, d3)))
        self.assertExact(schools)

        # A deleted user's visits lose the person: distinct people of closed days change.
        sam = s.ids["sam"]
        had = self.sql(f"SELECT count(DISTINCT joined_at::date) FROM conference.attendance "
                       f"WHERE school_id = '{s.id}' AND user_id = '{sam}'")
        self.assertNotEqual(had, "0")
        fixtures.check(s.raw("ada", "DELETE", f"/users/{sam}"), 204, what="delete sam")
        self.assertTrue(any(self.rolled_days(s).values()))
        self.assertExact(schools)
        self.assertGreater(self.rollup(), 0)
        self.assertEqual(self.sql(f"SELECT count(*) FROM conference.rollup_people "
                                  f"WHERE who = '{sam}'"), "0")
        self.assertExact(schools)

        # A row written by hand into a closed day, and a visit that lasted two days: the
        # figures of a range that holds it come from the visits alone, and stay exact.
        two = midnight() - datetime.timedelta(days=2, hours=-3)
        self.insert([(s.id, str(uuid.uuid4()), s.ids["tina"], None,
                      midnight() - datetime.timedelta(days=5, hours=-9),
                      midnight() - datetime.timedelta(days=5, hours=-10)),
                     (s.id, str(uuid.uuid4()), s.ids["tom"], None,
                      two - datetime.timedelta(days=2), two)])
        self.assertExact(schools)
        self.rollup()
        self.assertExact(schools)

        # Another typical length: the roll-ups made with 25 minutes are not used for 30, and
        # rolling up with 30 makes them current for 30 (the figures of both stay exact).
        self.assertExact(schools, typical="30 minutes")
        rolled = int(self.sql("SELECT conference.rollup('30 minutes', 100000)"))
        self.assertGreater(rolled, 0)
        self.assertEqual(self.sql("SELECT DISTINCT typical FROM conference.rollup_days "
                                  "WHERE NOT dirty"), "00:30:00")
        self.assertExact(schools, typical="30 minutes")
        self.assertExact(schools)
        self.assertEqual(int(self.sql(f"SELECT conference.rollup('{TYPICAL}', 100000)")), rolled)

    def test_batches_and_refusals(self) -> None:
        schools = [self.school(), self.school()]
        self.load(schools, days=6, seed=7)
        # Bounded batches, oldest day first; each commits on its own.
        first = int(self.sql(f"SELECT conference.rollup('{TYPICAL}', 3)"))
        self.assertEqual(first, 3)
        clean = self.sql("SELECT count(*) FROM conference.rollup_days WHERE NOT dirty")
        self.assertGreaterEqual(int(clean), 3)
        self.assertExact(schools)
        self.assertGreater(self.rollup(), 0)
        self.assertExact(schools)
        # One run at a time: while another session holds the lock (a run on another host), a
        # run does nothing and says so; afterwards it does the work.
        self.sql("UPDATE conference.rollup_days SET dirty = true")
        holder = subprocess.Popen(
            [os.path.join(self.pg.bindir, "psql"), "-X", "-q", "-A", "-t", "-v",
             "ON_ERROR_STOP=1", "-d", self.pg.url_for("atrium")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            holder.stdin.write("BEGIN;\nSELECT pg_advisory_xact_lock(hashtext("
                               "'conference.rollup')), 'locked';\n")
            holder.stdin.flush()
            self.assertIn("locked", holder.stdout.readline())
            self.assertEqual(self.rollup(), 0)
            self.assertNotEqual(self.sql("SELECT count(*) FROM conference.rollup_days "
                                         "WHERE dirty AND typical IS NOT NULL"), "0")
        finally:
            holder.communicate("ROLLBACK;\n", timeout=60)
        self.assertGreater(self.rollup(), 0)
        self.assertExact(schools)
        # Not inside a school's transaction; not with a batch of nothing.
        for bad in (f"SELECT set_config('atrium.school_id', '{schools[0].id}', true), "
                    f"conference.rollup('{TYPICAL}', 10)",
                    f"SELECT conference.rollup('{TYPICAL}', 0)",
                    "SELECT conference.rollup('0 minutes', 10)"):
            with self.subTest(sql=bad):
                with self.assertRaises(harness.HarnessError):
                    self.sql(bad)
        # A stray argument is refused.
        self.assertEqual(self.host.run(["conference", "rollup", "now"]).returncode, 2)


if __name__ == "__main__":
    harness.main()
