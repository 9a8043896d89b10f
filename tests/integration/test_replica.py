#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""test_replica.py - heavy reads from a streaming replica (issue #16): a real hot standby that
the harness makes with pg_basebackup (harness.PgReplica) next to the test's PostgreSQL, and a
host with ATRIUM_DATABASE_REPLICA_URL pointing at it.

Routes flagged ATRIUM_ROUTE_REPLICA (the conference usage figures, the GDPR export) read from
the replica while it is up and current; the identity check, every write and every other route
stay on the primary. The proof that a read came from the replica is what it does not see:
with replay paused on the replica, a join (or a change) made on the primary through the API is
missing from the figures until replay resumes, while the primary's own tables have it. Then:
a replica that is stopped, or falls further behind than [database] replica_max_lag, hands its
reads to the primary (atrium_replica_reads_total{result="fallback"}) and /readyz stays 200;
a statement that writes (the export's audit entry) lands on the primary; sessions begun or
ended while the replica is paused count at once; another school's data stays out of sight.

Every wait polls a condition with a deadline; nothing asserts how long anything took.
"""

from __future__ import annotations

import re
import time
from typing import Callable

import fixtures
import harness
from conference_fixtures import SEALING_KEY, School

WAIT = 30.0  # seconds any one condition may take to come true


def wait_until(what: str, check: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f}s: {what}")
        time.sleep(0.1)


def metric(host: harness.Atriumd, name: str, labels: str = "") -> float:
    text = fixtures.check(host.request("GET", "/metrics"), 200, what="/metrics").text
    m = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.M)
    if not m:
        raise AssertionError(f"/metrics has no {name}{labels}")
    return float(m.group(1))


def reads(host: harness.Atriumd, result: str) -> int:
    return int(metric(host, "atrium_replica_reads_total", f'{{result="{result}"}}'))


def replica_state(host: harness.Atriumd) -> str:
    resp = host.request("GET", "/readyz")
    fixtures.check(resp, 200, what="/readyz")  # never fails for the replica alone
    return resp.json()["replica"]


class Replica(harness.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.pg = cls.replica = cls.host = None
        try:
            cls.pg = harness.PgCluster(name="pg-primary").start()
            cls.replica = harness.PgReplica(cls.pg).start()
            # A bound no test reaches while replay is paused on purpose; the lag test starts
            # a host of its own with a small one.
            cls.host = harness.Atriumd(cls.pg, env=cls.env(max_lag=3600)).start()
            cls.op = fixtures.make_operator(cls.host)
        except BaseException:
            cls.stop_all()
            raise

    @classmethod
    def env(cls, max_lag: int) -> dict[str, str]:
        return {"ATRIUM_CONFERENCE_SECRET_KEY": SEALING_KEY,
                "ATRIUM_DATABASE_REPLICA_URL": cls.replica.url,
                "ATRIUM_DATABASE_REPLICA_MAX_LAG": str(max_lag),
                "ATRIUM_DATABASE_REPLICA_POOL_SIZE": "2"}

    @classmethod
    def stop_all(cls) -> None:
        for part in (cls.host, cls.replica, cls.pg):
            if part is not None:
                part.cleanup()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.stop_all()
        super().tearDownClass()

    def setUp(self) -> None:
        # Each test starts with a running, current replica that the host reads from.
        self.replica.start()
        self.replica.wait_caught_up()
        wait_until("the host reads from the replica", lambda: replica_state(self.host) == "ok")

    # -- helpers ----------------------------------------------------------------------------

    def sql(self, cluster: harness.PgCluster, query: str) -> str:
        return cluster.psql(query).strip()

    def joins(self, s: School, host: harness.Atriumd | None = None) -> int:
        resp = (host or self.host).request("GET", f"/api/v1/schools/{s.slug}/conference/stats",
                                           token=s.tokens["ada"])
        return fixtures.check(resp, 200, what="school stats").json()["totals"]["joins"]

    def all_joins(self) -> int:
        resp = self.host.request("GET", "/api/v1/conference/stats", token=self.op)
        return fixtures.check(resp, 200, what="installation stats").json()["totals"]["joins"]

    def visits_on(self, cluster: harness.PgCluster, s: School) -> int:
        return int(self.sql(cluster, "SELECT count(*) FROM conference.attendance "
                                     f"WHERE school_id = '{s.id}'"))

    def paused(self) -> "Paused":
        return Paused(self.replica)

    # -- the tests ----------------------------------------------------------------------------

    def test_figures_come_from_the_replica(self) -> None:
        s = School(self.host, self.op)
        room = s.room("tina")["id"]
        s.visit("tina", room)
        self.replica.wait_caught_up()
        self.assertEqual(self.joins(s), 1)
        everywhere = self.all_joins()
        served = reads(self.host, "replica")
        with self.paused():
            s.visit("tina", s.room("tina")["id"])  # a write: answered by the primary
            self.assertEqual(self.visits_on(self.pg, s), 2, "the join is on the primary")
            self.assertEqual(self.visits_on(self.replica, s), 1, "replay is paused")
            self.assertEqual(self.joins(s), 1, "the school's figures come from the replica")
            self.assertEqual(self.all_joins(), everywhere,
                             "the installation's figures come from the replica")
            self.assertGreaterEqual(reads(self.host, "replica"), served + 2)
        wait_until("the figures show the join once replayed", lambda: self.joins(s) == 2)
        self.assertEqual(self.all_joins(), everywhere + 1)

    def test_other_routes_and_writes_stay_on_the_primary(self) -> None:
        s = School(self.host, self.op)
        with self.paused():
            room = s.room("tina", "Neu")  # POST, and its room list: not flagged
            self.assertEqual(s.ok("tina", "GET", f"/rooms/{room['id']}")["name"], "Neu")
            self.assertIn(room["id"], s.visible("tina"))
            self.assertEqual(self.sql(self.replica, "SELECT count(*) FROM conference.rooms "
                                                    f"WHERE id = '{room['id']}'"), "0")
            s.visit("tina", room["id"])
            self.assertEqual(self.visits_on(self.pg, s), 1)

    def test_export_reads_the_replica_and_records_itself_on_the_primary(self) -> None:
        s = School(self.host, self.op)
        sam = s.ids["sam"]
        path = f"/users/{sam}/export"
        audited = (f"SELECT count(*) FROM core.audit_log WHERE action = 'user.exported' "
                   f"AND target = '{sam}'")
        self.replica.wait_caught_up()
        served = reads(self.host, "replica")
        with self.paused():
            fixtures.check(self.host.request(
                "PATCH", f"/api/v1/schools/{s.slug}/users/{sam}",
                {"display_name": "Sam Renamed"}, token=s.tokens["ada"]), 200, what="rename")
            resp = self.host.request("GET", f"/api/v1/schools/{s.slug}{path}",
                                     token=s.tokens["ada"])
            export = fixtures.check(resp, 200, what="export").json()
            self.assertEqual(export["core"]["user"]["display_name"], s.names["sam"],
                             "the export was read on the replica, which has not the new name")
            self.assertIn("conference", export, "the plugins' parts come along")
            self.assertEqual(self.sql(self.pg, audited), "1",
                             "the export's audit entry was written on the primary")
            self.assertEqual(self.sql(self.replica, audited), "0")
            self.assertGreater(reads(self.host, "replica"), served)
        self.replica.wait_caught_up()
        resp = self.host.request("GET", f"/api/v1/schools/{s.slug}{path}", token=s.tokens["sam"])
        export = fixtures.check(resp, 200, what="own export").json()
        self.assertEqual(export["core"]["user"]["display_name"], "Sam Renamed")
        self.assertEqual(self.sql(self.pg, audited), "2")

    def test_sign_in_and_out_count_at_once(self) -> None:
        s = School(self.host, self.op)
        stats = f"/api/v1/schools/{s.slug}/conference/stats"
        with self.paused():
            fresh = fixtures.login(self.host, "ada", school=s.slug)  # on the primary only
            fixtures.check(self.host.request("GET", stats, token=fresh), 200,
                           what="stats with a session the replica has not seen")
            fixtures.check(self.host.request("POST", "/api/v1/auth/logout", token=fresh),
                           200, 204, what="logout")
            harness.assert_problem(self.host.request("GET", stats, token=fresh), 401)
            harness.assert_problem(self.host.request("GET", stats), 401)
            harness.assert_problem(self.host.request("GET", stats, token="nonsense"), 401)
            harness.assert_problem(
                self.host.request("GET", "/api/v1/conference/stats",
                                        token=s.tokens["ada"]), 403)

    def test_another_school_stays_out_of_sight(self) -> None:
        a, b = School(self.host, self.op), School(self.host, self.op)
        for _ in range(2):
            b.visit("tina", b.room("tina")["id"])
        a.visit("tina", a.room("tina")["id"])
        self.replica.wait_caught_up()
        served = reads(self.host, "replica")
        self.assertEqual((self.joins(a), self.joins(b)), (1, 2))
        self.assertGreaterEqual(reads(self.host, "replica"), served + 2)
        # a's admin, through the replica: b's person is no one in a, b's figures no school.
        resp = self.host.request("GET", f"/api/v1/schools/{a.slug}/users/{b.ids['sam']}/export",
                                 token=a.tokens["ada"])
        harness.assert_problem(resp, 404)
        resp = self.host.request("GET", f"/api/v1/schools/{b.slug}/conference/stats",
                                 token=a.tokens["ada"])
        harness.assert_problem(resp, 404)

    def test_a_stopped_replica_hands_its_reads_to_the_primary(self) -> None:
        s = School(self.host, self.op)
        s.visit("tina", s.room("tina")["id"])
        self.replica.wait_caught_up()
        fell_back = reads(self.host, "fallback")
        self.replica.stop()
        try:
            s.visit("tina", s.room("tina")["id"])
            # Whether the host has noticed yet or finds out with this request: the primary
            # answers, with the join the replica never got.
            self.assertEqual(self.joins(s), 2)
            self.assertGreater(reads(self.host, "fallback"), fell_back)
            wait_until("/readyz says degraded", lambda: replica_state(self.host) == "degraded")
            self.assertEqual(metric(self.host, "atrium_replica_up"), 0)
            fell_back = reads(self.host, "fallback")
            self.assertEqual(self.joins(s), 2)
            self.assertEqual(reads(self.host, "fallback"), fell_back + 1)
        finally:
            self.replica.start()
        wait_until("the host reads from the replica again",
                   lambda: replica_state(self.host) == "ok")
        served = reads(self.host, "replica")
        self.assertEqual(self.joins(s), 2)
        self.assertEqual(reads(self.host, "replica"), served + 1)

    def test_a_replica_too_far_behind_hands_its_reads_to_the_primary(self) -> None:
        with harness.Atriumd(self.pg, env=self.env(max_lag=1)) as strict:
            s = School(strict, self.op)
            s.visit("tina", s.room("tina")["id"])
            self.replica.wait_caught_up()
            wait_until("the strict host reads from the replica",
                       lambda: replica_state(strict) == "ok")
            with self.paused():
                s.visit("tina", s.room("tina")["id"])
                # The patient host still reads the replica, which lacks the join; the strict
                # one turns to the primary once the replica is more than a second behind.
                self.assertEqual(self.joins(s), 1)
                wait_until("the strict host answers from the primary",
                           lambda: self.joins(s, strict) == 2)
                self.assertEqual(replica_state(strict), "degraded")
                self.assertGreater(reads(strict, "fallback"), 0)
                self.assertGreater(metric(strict, "atrium_replica_lag_seconds"), 1)
            wait_until("the strict host reads from the replica again",
                       lambda: replica_state(strict) == "ok")


class Paused:
    """`with Paused(replica):` replay stops for the block and resumes after, whatever
    happens."""

    def __init__(self, replica: harness.PgReplica) -> None:
        self.replica = replica

    def __enter__(self) -> "Paused":
        self.replica.pause_replay()
        wait_until("replay paused", lambda: self.replica.psql(
            "SELECT pg_get_wal_replay_pause_state()").strip() == "paused")
        return self

    def __exit__(self, *exc: object) -> None:
        self.replica.resume_replay()


if __name__ == "__main__":
    harness.main()
