# SPDX-License-Identifier: Apache-2.0
"""test_conference_figures_edges.py - the usage figures at the open edges of a range, where
they come from the hourly roll-ups of conference 0008 (plugins/conference/README.md, "Usage
figures"): a range's partial first day (its first, partial hour from the visits, the rest of
that rolled-up day from its hours), the day that is not closed yet (its closed hours rolled
up by `atriumd conference rollup`, the rest from the visits), the current hour, a visit that
lasts over midnight and visits that cross or touch the end of the rolled-up hours, and a late
leave after the roll-up.

Every answer of GET /stats (a school's) and GET /api/v1/conference/stats (the operators') is
compared with a computation written here, in Python, from the visits this test wrote: joins,
distinct people, usage and estimated hours and peak open rooms of each bucket and of the
whole range. The same ranges are also compared row by row with conference.stats_raw() in SQL.

Which hours are closed depends on the clock (an hour is closed max(typical, 12 h) + 1 h after
its end). So that the not-closed day always has closed hours and open ones, whatever the time
of the run, the host's typical visit length is chosen at start between 12 and 23 hours such
that the closing hour falls between 05:00 and 20:00 UTC (the open day's visits reach back
three hours and more before it). The rules are the same as with the
default 25 minutes; only the estimates are longer.
"""

from __future__ import annotations

import bisect
import datetime
import math
import random
import re
import uuid

import fixtures
import harness
from conference_fixtures import ConferenceTestCase, School, UTC, iso, now

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
MIN = datetime.timedelta(minutes=1)


def floor(t: datetime.datetime, step: datetime.timedelta) -> datetime.datetime:
    base = datetime.datetime(2000, 1, 1, tzinfo=UTC)
    return base + ((t - base) // step) * step


def pick_typical_hours(at: datetime.datetime) -> int:
    """A typical length in [12, 23] hours whose closing hour (at - typical - 1 h, floored)
    lies between 05:00 and 20:00 UTC. The 12 candidates are 12 consecutive hours of the day,
    and only 8 hours (21:00-04:00) lie outside, so one always fits. (A band of 08:00-16:00,
    as this had, left none from 17:00 to 20:59 UTC.)"""
    for h in range(12, 24):
        if 5 <= (at - datetime.timedelta(hours=h + 1)).hour <= 20:
            return h
    raise AssertionError("no typical length fits")


TYPICAL_HOURS = pick_typical_hours(now())
TYPICAL = datetime.timedelta(hours=TYPICAL_HOURS)


def hours_of(seconds: float) -> float:
    """As stats.c rounds: to 0.001 h, halves away from zero."""
    return math.floor(seconds / 3.6 + 0.5) / 1000.0


def expected(visits: list[tuple], frm: datetime.datetime, to: datetime.datetime,
             step: datetime.timedelta) -> dict:
    """The figures of the README, from the visits: (school, room, who, joined, left)."""
    vs = []
    for school, room, who, s, left in visits:
        if frm - DAY <= s < to:
            vs.append(((school, room), who, s, left if left else s + TYPICAL, left is None))
    starts = []
    b = floor(frm, step)
    while b < to:
        starts.append(b)
        b += step
    # A room is open at t while one of its visits is, its end excluded (s <= t < e): per room
    # the visits merged where they overlap or touch, then counted with bisect.
    merged: list[list[datetime.datetime]] = []
    by_room: dict[tuple, list] = {}
    for room, _, s, e, _ in vs:
        if e > s:
            by_room.setdefault(room, []).append((s, e))
    for spans in by_room.values():
        spans.sort()
        cur = list(spans[0])
        for s, e in spans[1:]:
            if s <= cur[1]:
                cur[1] = max(cur[1], e)
            else:
                merged.append(cur)
                cur = [s, e]
        merged.append(cur)
    opens = sorted(m[0] for m in merged)
    ends = sorted(m[1] for m in merged)
    edges = sorted(set(opens) | set(ends))

    def open_at(t: datetime.datetime) -> int:
        return bisect.bisect_right(opens, t) - bisect.bisect_right(ends, t)

    def open_before(t: datetime.datetime) -> int:
        return bisect.bisect_left(opens, t) - bisect.bisect_left(ends, t)
    buckets, seconds, estimated, people = [], 0.0, 0.0, set()
    for b in starts:
        lo, hi = max(b, frm), min(b + step, to)
        joined = [v for v in vs if lo <= v[2] < hi]
        who = {v[1] for v in joined if v[1]}
        people |= who
        sec = est = 0.0
        for _, _, s, e, is_est in vs:
            part = (min(e, hi) - max(s, lo)).total_seconds()
            if e > s and part > 0:
                sec += part
                est += part if is_est else 0.0
        inside = edges[bisect.bisect_right(edges, lo):bisect.bisect_left(edges, hi)]
        peak = max([open_at(lo)] + [open_at(t) for t in inside]
                   + ([open_before(lo)] if lo > frm else []))
        seconds += sec
        estimated += est
        buckets.append({"start": b.strftime("%Y-%m-%dT%H:%M:%SZ"), "joins": len(joined),
                        "distinct_users": len(who), "usage_hours": hours_of(sec),
                        "estimated_usage_hours": hours_of(est),
                        "peak_concurrent_rooms": peak})
    totals = {"joins": sum(x["joins"] for x in buckets), "distinct_users": len(people),
              "usage_hours": hours_of(seconds), "estimated_usage_hours": hours_of(estimated),
              "peak_concurrent_rooms": max(x["peak_concurrent_rooms"] for x in buckets)}
    return {"totals": totals, "buckets": buckets}


class FiguresAtTheEdges(ConferenceTestCase):
    HOST_ENV = dict(ConferenceTestCase.HOST_ENV,
                    ATRIUM_CONFERENCE_TYPICAL_MINUTES=str(TYPICAL_HOURS * 60))
    EXIT_CHECK = ConferenceTestCase.EXIT_CHECK + ("rollup.c",)

    # -- helpers -----------------------------------------------------------------------------

    def insert(self, rows: list[tuple]) -> None:
        def lit(v: object) -> str:
            if v is None:
                return "NULL"
            if isinstance(v, datetime.datetime):
                return f"'{iso(v)}'::timestamptz"
            return f"'{v}'::uuid"
        values = ",\n".join("(" + ", ".join(lit(v) for v in r) + ")" for r in rows)
        self.sql("INSERT INTO conference.attendance (school_id, room_id, user_id, guest_id, "
                 f"joined_at, left_at) VALUES {values}")

    def rollup(self) -> int:
        proc = self.host.run(["conference", "rollup"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        m = re.search(r"rolled up (\d+) school days", proc.stdout)
        self.assertTrue(m, proc.stdout)
        return int(m.group(1))

    def answer(self, s: School | None, frm: datetime.datetime, to: datetime.datetime,
               gran: str) -> dict:
        q = f"from={iso(frm)}&to={iso(to)}&granularity={gran}"
        if s is None:
            resp = self.host.request("GET", f"/api/v1/conference/stats?{q}", token=self.op_token)
        else:
            resp = s.req("ada", "GET", f"/stats?{q}")
        got = fixtures.check(resp, 200, what=f"stats {q}").json()
        self.assertEqual(got["typical_minutes"], TYPICAL_HOURS * 60)
        return {"totals": got["totals"], "buckets": got["buckets"]}

    def assertFigures(self, ranges: list[tuple], rows: bool = True, http: bool = True) -> None:
        """Every range, by day and by hour, for each school and for all: (http) the answer
        equals the computation from the visits, and (rows) stats() equals stats_raw() row by
        row."""
        sql = []
        for i, (frm, to) in enumerate(ranges):
            for gran, step in (("day", DAY), ("hour", HOUR)):
                for s in [None] + self.schools:
                    mine = [v for v in self.visits if s is None or v[0] == s.id]
                    with self.subTest(school=s and s.id, start=iso(frm), end=iso(to), gran=gran):
                        if http:
                            self.assertEqual(self.answer(s, frm, to, gran),
                                             expected(mine, frm, to, step))
                    enter = (f"SELECT set_config('atrium.school_id', '{s.id}', false);" if s
                             else "SELECT set_config('atrium.school_id', '', false);")
                    args = (f"{'false' if s else 'true'}, '{iso(frm)}', '{iso(to)}', "
                            f"'1 {gran}', '{TYPICAL_HOURS} hours'")
                    sql.append(f"{enter} WITH a AS (SELECT * FROM conference.stats({args})), "
                               f"b AS (SELECT * FROM conference.stats_raw({args})) "
                               f"SELECT {i}, 'fast', * FROM (SELECT * FROM a EXCEPT ALL "
                               f"SELECT * FROM b) x UNION ALL SELECT {i}, 'raw', * FROM "
                               f"(SELECT * FROM b EXCEPT ALL SELECT * FROM a) y;")
        if not rows:
            return
        out = self.sql("\n".join(sql)).splitlines()   # (set_config's lines have no "|")
        self.assertEqual([line for line in out if "|" in line], [])

    # -- the test ----------------------------------------------------------------------------

    def test_open_edges_equal_the_visits(self) -> None:
        t = now().replace(second=0, microsecond=0)
        closing = floor(t - TYPICAL - HOUR, HOUR)       # the end of the closed hours
        open_day = floor(closing, DAY)                  # the day that is not closed yet
        self.assertTrue(closing > open_day, (t, closing))
        closed_day = open_day - DAY                     # the last closed day
        rng = random.Random(808)
        self.schools = [self.school(), self.school()]
        self.visits = []
        for s in self.schools:
            people = list(s.ids.values())
            rooms = [str(uuid.uuid4()) for _ in range(3)]
            guest = str(uuid.uuid4())
            start = closed_day - DAY
            # ordinary visits over three days up to now, at whole minutes
            for _ in range(90):
                j = start + MIN * rng.randrange(0, int((t - start) / MIN) - 60, 7)
                left = j + MIN * rng.choice((0, 10, 25, 45, 70, 200))
                if rng.random() < 0.25:
                    left = None                                   # estimated
                who = guest if rng.random() < 0.2 else rng.choice(people)
                self.visits.append((s.id, rng.choice(rooms), who, j, left))
            m = open_day
            self.visits += [
                # over midnight into the open day, and one that begins where it ends
                (s.id, rooms[0], people[0], m - 40 * MIN, m + 20 * MIN),
                (s.id, rooms[0], people[1], m + 20 * MIN, m + HOUR),
                # across the end of the rolled-up hours, and two that touch there
                (s.id, rooms[1], people[2], closing - 30 * MIN, closing + 20 * MIN),
                (s.id, rooms[2], people[0], closing - 20 * MIN, closing),
                (s.id, rooms[2], people[1], closing, closing + 15 * MIN),
                # the same person in two hours of the open day: once in its people
                (s.id, rooms[1], people[3], closing - 3 * HOUR, closing - 170 * MIN),
                (s.id, rooms[1], people[3], closing - HOUR, closing - 50 * MIN),
                # an open visit of the open day's rolled-up hours, left late below
                (s.id, rooms[0], people[2], closing - 2 * HOUR, None),
                # the current hour: joined at its start, one still open
                (s.id, rooms[2], people[2], floor(t, HOUR), None),
                # an open visit of the closed day, left late below
                (s.id, rooms[1], people[4], closed_day + 10 * HOUR + 3 * MIN, None),
                # the partial first day's first hour and the hour after it
                (s.id, rooms[0], people[1], closed_day + 7 * HOUR + 20 * MIN,
                 closed_day + 8 * HOUR + 10 * MIN),
            ]
        rows = [(v[0], v[1], None if v[2] not in s_ids else v[2],
                 v[2] if v[2] not in s_ids else None, v[3], v[4])
                for s_ids in [{p for s in self.schools for p in s.ids.values()}]
                for v in self.visits]
        self.insert(rows)

        ranges = [(closed_day + 7 * HOUR + 13 * MIN, t),     # partial first day, up to now
                  (closed_day + 9 * HOUR, t),                 # from on an hour
                  (closed_day + 30 * MIN, closed_day + 15 * HOUR + 30 * MIN),  # ends inside
                  (open_day - 2 * HOUR, closing - 70 * MIN),  # ends in the open day's hours
                  (closed_day - DAY, closing)]                 # ends where the hours do
        self.assertFigures(ranges, rows=False)                  # nothing rolled up yet

        self.assertGreater(self.rollup(), 0)
        for s in self.schools:
            # (closing, or the next hour if one began since t)
            row = self.sql(f"SELECT dirty, hours_upto IN ('{iso(closing)}', "
                           f"'{iso(closing + HOUR)}'), hours_dirty "
                           f"FROM conference.rollup_days "
                           f"WHERE school_id = '{s.id}' AND day = '{open_day.date()}'")
            self.assertEqual(row, "t|t|f", "the open day's closed hours are rolled up")
            self.assertEqual(self.sql(f"SELECT dirty FROM conference.rollup_days WHERE "
                                      f"school_id = '{s.id}' AND day = '{closed_day.date()}'"),
                             "f")
        self.assertEqual(self.rollup(), 0)                      # idempotent: nothing left
        self.assertFigures(ranges)

        # The answers do come from the hours: a figure changed there shows (then rolled again).
        s = self.schools[0]
        hour = floor(closing - 3 * HOUR, HOUR)
        self.sql(f"UPDATE conference.rollup_hours SET joins = joins + 1000 "
                 f"WHERE school_id = '{s.id}' AND hour = '{iso(hour)}'")
        got = self.answer(s, ranges[0][0], t, "hour")
        want = expected([v for v in self.visits if v[0] == s.id], ranges[0][0], t, HOUR)
        self.assertEqual(got["totals"]["joins"], want["totals"]["joins"] + 1000)
        self.sql(f"UPDATE conference.rollup_days SET hours_dirty = true "
                 f"WHERE school_id = '{s.id}' AND day = '{open_day.date()}'")
        self.assertEqual(self.answer(s, ranges[0][0], t, "hour"), want)   # from the visits
        self.assertEqual(self.rollup(), 1)

        # Rolled-up hours that fell behind (the timer rolls the open day again only once three
        # more hours have closed): the hours after them come from the rows.
        upto = f"school_id = '{s.id}' AND day = '{open_day.date()}'"
        self.sql(f"UPDATE conference.rollup_days SET hours_upto = hours_upto - interval "
                 f"'2 hours' WHERE {upto}")
        self.assertEqual(self.rollup(), 0)
        self.assertFigures(ranges, http=False)
        self.sql(f"UPDATE conference.rollup_days SET hours_upto = hours_upto - interval "
                 f"'1 hour' WHERE {upto}")
        self.assertEqual(self.rollup(), 1)

        # A late leave of a visit in the rolled-up hours, and of one of the closed day: their
        # days go dirty, the answers stay exact, and the next roll-up makes them current.
        late = []
        for s in self.schools:
            for j in (closing - 2 * HOUR, None):
                if j is None:   # the closed day's first open visit
                    j = min(v[3] for v in self.visits if v[0] == s.id and v[4] is None
                            and closed_day + HOUR <= v[3] < open_day - HOUR)
                self.sql(f"UPDATE conference.attendance SET left_at = joined_at + "
                         f"interval '95 minutes' WHERE school_id = '{s.id}' "
                         f"AND joined_at = '{iso(j)}' AND left_at IS NULL")
                late.append((s.id, j))
        self.visits = [(a, b, c, d, d + 95 * MIN if (a, d) in late and e is None else e)
                       for a, b, c, d, e in self.visits]
        self.assertEqual(self.sql(f"SELECT count(*) FROM conference.rollup_days "
                                  f"WHERE hours_dirty AND day = '{open_day.date()}'"), "2")
        self.assertFigures(ranges)
        self.assertGreaterEqual(self.rollup(), 4)
        self.assertFigures(ranges)


if __name__ == "__main__":
    harness.main()
