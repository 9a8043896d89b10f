# SPDX-License-Identifier: Apache-2.0
"""test_conference_stats.py - the usage figures: GET /stats of a school and the operator-wide
GET /api/v1/conference/stats. Visits are written straight into conference.attendance with known
times and the expected numbers are worked out by hand below; real joins give an estimate capped
at now.

The school, the TestCase base and the JWT verifier are conference_fixtures.py's; the other
conference route families are in the other test_conference_*.py files (conference_fixtures.py
lists them).
"""

from __future__ import annotations

import datetime
import json

import fixtures
import harness
from conference_fixtures import (
    BUCKET_KEYS, ConferenceTestCase, School, UTC, iso, lit, now, parse_time,
)


# ------------------------------------------------------------------------------------------
# Usage figures
# ------------------------------------------------------------------------------------------


def h(minutes: float) -> float:
    return minutes / 60.0


class Stats(ConferenceTestCase):
    def template(self, s: School) -> dict:
        """One real visit of school s as a JSON row of conference.attendance, to copy."""
        room = s.room("tina", "Vorlage")["id"]
        aid = s.visit("tina", room)
        row = json.loads(self.sql(f"SELECT to_jsonb(a) FROM conference.attendance a "
                                  f"WHERE id = '{aid}'"))
        for key in ("id", "room_id", "user_id", "joined_at", "left_at", "moderator"):
            self.assertIn(key, row, f"conference.attendance has no column {key}")
        return row

    def visit(self, template: dict, room: str, user: str, joined: datetime.datetime,
              left: datetime.datetime | None) -> None:
        row = {k: v for k, v in template.items() if k != "id"}  # the id is the table's
        row.update(room_id=room, user_id=user, joined_at=iso(joined),
                   left_at=iso(left) if left else None, moderator=False)
        if "guest_id" in row:
            row["guest_id"] = None
        cols = ", ".join(row)
        self.sql(f"INSERT INTO conference.attendance ({cols}) SELECT {cols} FROM "
                 f"jsonb_populate_record(NULL::conference.attendance, "
                 f"{lit(json.dumps(row))}::jsonb)")

    def stats(self, s: School | None, query: str, who: str = "ada") -> dict:
        if s is None:
            resp = self.host.request("GET", f"/api/v1/conference/stats?{query}",
                                     token=self.op_token)
        else:
            resp = s.req(who, "GET", f"/stats?{query}")
        body = fixtures.check(resp, 200, what=f"stats {query}").json()
        self.assertIn("buckets", body)
        self.assertIn("totals", body)
        for b in body["buckets"]:
            self.assertEqual(set(b), BUCKET_KEYS, b)
        self.assertLessEqual(BUCKET_KEYS - {"start"}, set(body["totals"]))
        return body

    def assertFigures(self, got: dict, joins: int, users: int, usage: float, estimated: float,
                      peak: int, where: str) -> None:
        self.assertEqual(got["joins"], joins, f"{where}: joins")
        self.assertEqual(got["distinct_users"], users, f"{where}: distinct_users")
        self.assertAlmostEqual(got["usage_hours"], usage, delta=0.01,
                               msg=f"{where}: usage_hours (the estimate included)")
        self.assertAlmostEqual(got["estimated_usage_hours"], estimated, delta=0.01,
                               msg=f"{where}: estimated_usage_hours")
        self.assertEqual(got["peak_concurrent_rooms"], peak, f"{where}: peak_concurrent_rooms")

    def test_exact_figures_by_day_and_hour(self) -> None:
        s = self.school()
        tpl = self.template(s)
        r1, r2, r3 = (s.room("tina", f"R{i}")["id"] for i in (1, 2, 3))
        d = datetime.datetime(2025, 3, 10, tzinfo=UTC)

        def at(day: int, hh: int, mm: int) -> datetime.datetime:
            return d + datetime.timedelta(days=day, hours=hh, minutes=mm)

        u = s.ids
        # (room, user, joined, left) - left None: unknown, assumed 25 minutes.
        rows = [
            (r1, u["tom"], at(-1, 23, 0), at(-1, 23, 30)),    # the day before: outside
            (r1, u["tina"], at(0, 8, 0), at(0, 8, 50)),       # 50 min
            (r1, u["sam"], at(0, 8, 10), at(0, 8, 40)),       # 30 min
            (r2, u["sue"], at(0, 8, 20), at(0, 8, 35)),       # 15 min; R1 and R2 at once
            (r1, u["sam"], at(0, 10, 0), at(0, 10, 30)),      # 30 min
            (r2, u["tom"], at(0, 10, 40), at(0, 10, 55)),     # 15 min, after R1 ended
            (r3, u["sue"], at(0, 13, 0), None),               # unknown: 25 min, estimated
            (r3, u["tina"], at(0, 13, 5), at(0, 13, 20)),     # 15 min
            (r2, u["tina"], at(1, 9, 0), at(1, 9, 30)),       # next day, 30 min
            (r1, u["sam"], at(2, 0, 10), at(2, 0, 40)),       # two days on: outside
        ]
        for row in rows:
            self.visit(tpl, *row)
        # By hour, 08:00-14:00 of day 0.
        got = self.stats(s, f"from={iso(at(0, 8, 0))}&to={iso(at(0, 14, 0))}&granularity=hour")
        self.assertEqual([parse_time(b["start"]) for b in got["buckets"]],
                         [at(0, hh, 0) for hh in range(8, 14)])
        b = {parse_time(x["start"]).hour: x for x in got["buckets"]}
        self.assertFigures(b[8], 3, 3, h(50 + 30 + 15), 0, 2, "08:00")
        self.assertFigures(b[9], 0, 0, 0, 0, 0, "09:00")
        self.assertFigures(b[10], 2, 2, h(30 + 15), 0, 1, "10:00")
        self.assertFigures(b[11], 0, 0, 0, 0, 0, "11:00")
        self.assertFigures(b[12], 0, 0, 0, 0, 0, "12:00")
        self.assertFigures(b[13], 2, 2, h(25 + 15), h(25), 1, "13:00")
        self.assertFigures(got["totals"], 7, 4, h(180), h(25), 2, "hour totals")
        # By day, days 0 and 1.
        got = self.stats(s, f"from={iso(at(0, 0, 0))}&to={iso(at(2, 0, 0))}&granularity=day")
        self.assertEqual([parse_time(x["start"]) for x in got["buckets"]],
                         [at(0, 0, 0), at(1, 0, 0)])
        self.assertFigures(got["buckets"][0], 7, 4, h(180), h(25), 2, "day 0")
        self.assertFigures(got["buckets"][1], 1, 1, h(30), 0, 1, "day 1")
        self.assertFigures(got["totals"], 8, 4, h(210), h(25), 2, "day totals")
        # The same through a time with an offset.
        got2 = self.stats(s, "from=2025-03-10T01:00:00%2B01:00&to=2025-03-12T01:00:00%2B01:00"
                             "&granularity=day")
        self.assertEqual(got2["totals"], got["totals"])

    def test_real_joins_and_an_estimate_capped_at_now(self) -> None:
        s = self.school()
        room = s.room("tina")["id"]
        s.join("tina", room)
        fixtures.check(s.req("tina", "POST", f"/rooms/{room}/leave"), 204)
        s.join("sam", room)            # still open: counted, estimated up to now
        got = self.stats(s, "granularity=day")   # the last 7 days by default
        self.assertEqual(got["totals"]["joins"], 2)
        self.assertEqual(got["totals"]["distinct_users"], 2)
        self.assertEqual(got["totals"]["peak_concurrent_rooms"], 1)
        self.assertLess(got["totals"]["usage_hours"], 0.01)
        first = parse_time(got["buckets"][0]["start"])
        self.assertLessEqual(abs((first - (now() - datetime.timedelta(days=7)))
                                 .total_seconds()), 86400 + 60, got["buckets"][0])
        # A visit that began ten minutes ago and whose leave is unknown: ten minutes, not 25.
        aid = self.sql(f"SELECT id FROM conference.attendance WHERE room_id = '{room}' "
                       f"AND user_id = '{s.ids['sam']}'")
        self.sql(f"UPDATE conference.attendance SET joined_at = now() - interval '10 minutes' "
                 f"WHERE id = '{aid}'")
        got = self.stats(s, "granularity=hour&from=" + iso(now() - datetime.timedelta(hours=3))
                         + "&to=" + iso(now() + datetime.timedelta(minutes=1)))
        self.assertAlmostEqual(got["totals"]["estimated_usage_hours"], h(10), delta=0.01)
        self.assertAlmostEqual(got["totals"]["usage_hours"], h(10), delta=0.01)
        # A visit of eight days ago is outside the default range.
        tpl = json.loads(self.sql(f"SELECT to_jsonb(a) FROM conference.attendance a "
                                  f"WHERE id = '{aid}'"))
        old = now() - datetime.timedelta(days=8)
        self.visit(tpl, room, s.ids["sue"], old, old + datetime.timedelta(minutes=5))
        self.assertEqual(self.stats(s, "granularity=day")["totals"]["joins"], 2)

    def test_refusals(self) -> None:
        s = self.school()
        q = "from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z&granularity=hour"
        for who in ("tina", "stan", "sam", "pia"):
            self.assertProblem(s.req(who, "GET", f"/stats?{q}"), 403, "forbidden")
        self.assertProblem(s.req(None, "GET", f"/stats?{q}"), 401)
        self.stats(s, q)
        self.assertEqual(len(self.stats(s, q, who="op")["buckets"]), 24)
        start = datetime.datetime(2025, 1, 1, tzinfo=UTC)
        limit = start + datetime.timedelta(hours=2000)
        self.assertEqual(len(self.stats(s, f"from={iso(start)}&to={iso(limit)}"
                                           f"&granularity=hour")["buckets"]), 2000)
        for bad in ("from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z&granularity=day",
                    f"from={iso(start)}&to={iso(limit + datetime.timedelta(hours=1))}"
                    "&granularity=hour",
                    f"from={iso(start)}&to={iso(start + datetime.timedelta(days=2001))}"
                    "&granularity=day",
                    "from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z&granularity=week",
                    "from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z&granularity=",
                    "from=yesterday&to=2025-01-02T00:00:00Z&granularity=day",
                    "from=2025-01-01T00:00:00Z&to=2025-99-02T00:00:00Z&granularity=day"):
            with self.subTest(query=bad):
                self.assertProblem(s.req("ada", "GET", f"/stats?{bad}"), 400, "invalid-request")

    def test_operator_wide(self) -> None:
        a, b = self.school(), self.school()
        ta, tb = self.template(a), self.template(b)
        d = datetime.datetime(2025, 4, 7, tzinfo=UTC)

        def at(hh: int, mm: int) -> datetime.datetime:
            return d + datetime.timedelta(hours=hh, minutes=mm)

        a1, a2 = a.room("tina", "A1")["id"], a.room("tina", "A2")["id"]
        b1 = b.room("tina", "B1")["id"]
        self.visit(ta, a1, a.ids["tina"], at(9, 0), at(10, 0))     # 60 min
        self.visit(ta, a2, a.ids["sam"], at(9, 30), at(9, 50))     # 20 min, with A1
        self.visit(tb, b1, b.ids["tina"], at(10, 15), at(10, 45))  # 30 min, alone
        self.visit(tb, b1, b.ids["sue"], at(10, 20), at(10, 40))   # 20 min, same room
        q = f"from={iso(d)}&to={iso(d + datetime.timedelta(days=1))}&granularity=day"
        got = self.stats(None, q)
        self.assertEqual(len(got["buckets"]), 1)
        # Peak: A1 and A2 at once (09:30-09:50); B1 alone later. Two, not the sum 2 + 1.
        self.assertFigures(got["totals"], 4, 4, h(60 + 20 + 30 + 20), 0, 2, "all schools")
        self.assertFigures(got["buckets"][0], 4, 4, h(130), 0, 2, "all schools, the day")
        self.assertFigures(self.stats(a, q)["totals"], 2, 2, h(80), 0, 2, "school A")
        self.assertFigures(self.stats(b, q)["totals"], 2, 2, h(50), 0, 1, "school B")
        hourly = self.stats(None, f"from={iso(at(9, 0))}&to={iso(at(11, 0))}&granularity=hour")
        self.assertFigures(hourly["buckets"][0], 2, 2, h(80), 0, 2, "all schools 09:00")
        self.assertFigures(hourly["buckets"][1], 2, 2, h(50), 0, 1, "all schools 10:00")
        # Only operators.
        for tok in (a.tokens["ada"], b.tokens["ada"], a.tokens["tina"]):
            self.assertProblem(self.host.request("GET", f"/api/v1/conference/stats?{q}",
                                                 token=tok), 403, "forbidden")
        self.assertProblem(self.host.request("GET", f"/api/v1/conference/stats?{q}"), 401)
        for bad in ("from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z&granularity=day",
                    "from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z&granularity=minute",
                    "from=2025-01-01T00:00:00Z&to=2025-06-01T00:00:00Z&granularity=hour"):
            with self.subTest(query=bad):
                self.assertProblem(self.host.request("GET", f"/api/v1/conference/stats?{bad}",
                                                     token=self.op_token), 400)


if __name__ == "__main__":
    harness.main()
