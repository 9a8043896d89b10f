#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""PostgreSQL restarts under write load (issue #16, "Faults"): a correctness check.

Clients keep connections alive and write and read without pause while PostgreSQL is stopped
(a fast shutdown, then an immediate one, which needs crash recovery) and started again. Every
answer must be a success or a 503 problem with Retry-After: never a 500, never a dropped
connection. Once PostgreSQL is back, writes succeed again within 2 s, and every write that was
acknowledged (201) is in the database afterwards.
"""
from __future__ import annotations

import http.client
import json
import threading
import time

import fixtures
import harness

NOTICES = "/api/v1/schools/{}/noticeboard/notices"
RECOVERY_BOUND = 2.0  # seconds from PostgreSQL accepting connections to a write succeeding


class Client(threading.Thread):
    """One keep-alive client writing notices (and reading the list every few writes)."""

    def __init__(self, host: harness.Atriumd, token: str, path: str, n: int) -> None:
        super().__init__(daemon=True)
        self.host, self.token, self.path, self.n = host, token, path, n
        self.stop = threading.Event()
        self.acked: list[str] = []               # titles answered 201
        self.ok_times: list[float] = []          # monotonic times of 201s
        self.unavailable = 0                     # 503s, each with Retry-After
        self.bad: list[str] = []                 # anything else

    def run(self) -> None:
        conn = None
        i = 0
        while not self.stop.is_set():
            i += 1
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.host.port, timeout=30)
            title = f"c{self.n}-{i}"
            reading = i % 4 == 0
            try:
                if reading:
                    conn.request("GET", self.path + "?limit=5",
                                 headers={"Authorization": f"Bearer {self.token}"})
                else:
                    conn.request("POST", self.path,
                                 body=json.dumps({"title": title, "body": "x"}),
                                 headers={"Authorization": f"Bearer {self.token}",
                                          "Content-Type": "application/json"})
                resp = conn.getresponse()
                body = resp.read()
            except (OSError, http.client.HTTPException) as e:
                self.bad.append(f"{'GET' if reading else 'POST'}: connection error {e!r}")
                conn.close()
                conn = None
                continue
            status = resp.status
            if status in (200, 201):
                if not reading:
                    self.acked.append(title)
                    self.ok_times.append(time.monotonic())
            elif status == 503:
                problem = json.loads(body)
                if (resp.getheader("Retry-After") is None
                        or resp.getheader("Content-Type") != "application/problem+json"
                        or not problem.get("type", "").endswith("/unavailable")):
                    self.bad.append(f"503 without Retry-After or problem: "
                                    f"{dict(resp.getheaders())} {body[:200]!r}")
                self.unavailable += 1
            else:
                self.bad.append(f"{'GET' if reading else 'POST'} {status}: {body[:300]!r}")
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        if conn:
            conn.close()


class PostgresRestarts(harness.TestCase):
    def test_only_503_with_retry_after_and_no_acknowledged_write_lost(self):
        with harness.PgCluster(name="pg-restart") as pg, harness.Atriumd(pg) as host:
            # The harness turns durability off for speed; a crash test needs it on, as in
            # production (ALTER SYSTEM outlives the restarts).
            pg.psql("ALTER SYSTEM SET fsync = on; ALTER SYSTEM SET synchronous_commit = on;"
                    "ALTER SYSTEM SET full_page_writes = on; SELECT pg_reload_conf();")
            op = fixtures.make_operator(host)
            school = fixtures.make_school(host, op, "restart", modules=["noticeboard"])
            fixtures.make_user(host, op, "restart", "tess", roles=["teacher"])
            token = fixtures.login(host, "tess", school="restart")
            path = NOTICES.format("restart")
            clients = [Client(host, token, path, n) for n in range(6)]
            for c in clients:
                c.start()
            try:
                time.sleep(1.0)
                recoveries = []
                for immediate in (False, True):
                    pg.stop(immediate=immediate)
                    time.sleep(1.5)
                    pg.start()
                    back = time.monotonic()
                    deadline = back + 30
                    while time.monotonic() < deadline and not any(
                            t > back for c in clients for t in c.ok_times):
                        time.sleep(0.02)
                    first = min((t for c in clients for t in c.ok_times if t > back),
                                default=None)
                    self.assertIsNotNone(first, "no write succeeded within 30 s of the restart")
                    recoveries.append(first - back)
                    time.sleep(1.0)
            finally:
                for c in clients:
                    c.stop.set()
                for c in clients:
                    c.join(60)
            bad = [b for c in clients for b in c.bad]
            self.assertEqual(bad, [], "only successes and 503 with Retry-After")
            self.assertGreater(sum(c.unavailable for c in clients), 0,
                               "the outage was seen (503s were answered)")
            for i, r in enumerate(recoveries):
                self.assertLessEqual(r, RECOVERY_BOUND,
                                     f"restart {i}: first write {r:.2f} s after PostgreSQL")
            acked = {t for c in clients for t in c.acked}
            self.assertGreater(len(acked), 50)
            stored = set(pg.psql(f"SET atrium.school_id = '{school['id']}';"
                                 "SELECT title FROM noticeboard.notices").split())
            self.assertEqual(acked - stored, set(), "acknowledged writes lost")
            self.assertIsNone(host.proc.poll(), "atriumd lives on")


if __name__ == "__main__":
    harness.main()
