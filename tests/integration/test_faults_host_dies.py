#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A host dies behind the balancer (issue #16, "Faults"): a correctness check.

Three atriumd hosts on one PostgreSQL, behind deploy/'s nginx configuration (three upstream
lines). Keep-alive clients create groups (each publishes group.created and group.member_added,
which the test plugin groupsprobe records) and join a conference room, through nginx, while
the host that is the leader is killed with -9. Afterwards:
  - every answer was a success, 502 or 503 (nginx retries what it had not sent yet);
  - every acknowledged write is in the database;
  - every group in the database, acknowledged or not, had both its events delivered exactly
    once (the outbox rows of the dead host are delivered by the new leader);
  - another host leads.
"""
from __future__ import annotations

import json
import shutil
import threading
import time

import conference_fixtures
import fixtures
import harness
from nginx_front import NginxFront
from test_groups_service import plugin_dir


class Client(threading.Thread):
    """A keep-alive client through nginx: creates groups, or joins the room."""

    def __init__(self, front: NginxFront, n: int, token: str, path: str, kind: str) -> None:
        super().__init__(daemon=True)
        self.front, self.n, self.token, self.path, self.kind = front, n, token, path, kind
        self.stop = threading.Event()
        self.acked: list[str] = []
        self.statuses: dict[int, int] = {}
        self.bad: list[str] = []

    def run(self) -> None:
        conn = None
        i = 0
        while not self.stop.is_set():
            i += 1
            if conn is None:
                conn = self.front.connection()
            name = f"w{self.n}-{i}"
            headers = {"Host": "atrium.example.org", "Authorization": f"Bearer {self.token}"}
            body = None  # a join takes no body
            if self.kind == "group":
                body = json.dumps({"name": name, "type": "course"})
                headers["Content-Type"] = "application/json"
            try:
                conn.request("POST", self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except OSError as e:  # nginx itself must not fail a client
                self.bad.append(f"connection to nginx: {e!r}")
                conn.close()
                conn = None
                continue
            self.statuses[resp.status] = self.statuses.get(resp.status, 0) + 1
            if resp.status in (200, 201):
                answer = json.loads(data)
                self.acked.append(name if self.kind == "group"
                                  else str(answer["attendance_id"]))
            elif resp.status not in (502, 503):
                self.bad.append(f"{self.kind} {resp.status}: {data[:300]!r}")
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        if conn:
            conn.close()


def leader_of(hosts: list[harness.Atriumd]) -> list[harness.Atriumd]:
    out = []
    for h in hosts:
        if h.proc and h.proc.poll() is None:
            text = h.request("GET", "/metrics").text
            if "\natrium_leader 1\n" in text:
                out.append(h)
    return out


class HostDies(harness.TestCase):
    def test_kill_the_leader_of_three_behind_nginx(self):
        pdir = plugin_dir(with_groups=True)
        pg = harness.PgCluster(name="pg-host-dies")
        hosts: list[harness.Atriumd] = []
        front = None
        try:
            pg.start()
            for _ in range(3):
                h = harness.Atriumd(pg, plugin_dir=pdir, env={
                    "ATRIUM_CONFERENCE_SECRET_KEY": conference_fixtures.SEALING_KEY})
                h.start()
                hosts.append(h)
            front = NginxFront([h.port for h in hosts])
            op = fixtures.make_operator(hosts[0])
            school = conference_fixtures.School(
                hosts[0], op, modules=("groups", "conference", "groupsprobe"))
            room = school.room("tina")["id"]
            deadline = time.monotonic() + 10
            while len(leader_of(hosts)) != 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            leaders = leader_of(hosts)
            self.assertEqual(len(leaders), 1, "one leader among three hosts")
            victim = leaders[0]

            base = f"/api/v1/schools/{school.slug}"
            clients = [Client(front, n, school.tokens["tina"], f"{base}/groups", "group")
                       for n in range(3)]
            clients += [Client(front, 10 + n, school.tokens[who],
                               f"{base}/conference/rooms/{room}/join", "join")
                        for n, who in enumerate(("sam", "sue"))]
            for c in clients:
                c.start()
            try:
                time.sleep(1.5)
                victim.kill()
                time.sleep(3.0)
            finally:
                for c in clients:
                    c.stop.set()
                for c in clients:
                    c.join(60)

            for c in clients:
                print(f"client {c.n} ({c.kind}): {c.statuses}")
            bad = [b for c in clients for b in c.bad]
            self.assertEqual(bad, [], "only successes, 502 and 503")
            for c in clients:
                self.assertGreater(len(c.acked), 5, f"client {c.n} made progress: {c.statuses}")
            survivors = [h for h in hosts if h is not victim]
            deadline = time.monotonic() + 10
            while len(leader_of(survivors)) != 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertEqual(len(leader_of(survivors)), 1, "another host took over")

            scope = f"SET atrium.school_id = '{school.id}';"
            stored = set(pg.psql(scope + "SELECT name FROM groups.groups "
                                 "WHERE name LIKE 'w%'").split())
            acked = {n for c in clients if c.kind == "group" for n in c.acked}
            self.assertEqual(acked - stored, set(), "acknowledged groups lost")
            visits = set(pg.psql(scope + "SELECT id FROM conference.attendance").split())
            joined = {a for c in clients if c.kind == "join" for a in c.acked}
            self.assertEqual(joined - visits, set(), "acknowledged joins lost")

            # Every committed group's two events, delivered once each (the dead host's
            # undelivered rows go to the new leader after its grace period).
            def delivered() -> dict[str, list[str]]:
                rows = pg.psql(scope + "SELECT g.name, e.event FROM groups.groups g "
                               "LEFT JOIN groupsprobe.events e ON e.group_id = g.id "
                               "WHERE g.name LIKE 'w%' ORDER BY 1, 2").splitlines()
                got: dict[str, list[str]] = {}
                for line in rows:
                    name, event = line.split("|")
                    got.setdefault(name, []).append(event)
                return got

            want = ["group.created", "group.member_added"]
            deadline = time.monotonic() + 30
            got = delivered()
            while any(v != want for v in got.values()) and time.monotonic() < deadline:
                time.sleep(0.25)
                got = delivered()
            wrong = {k: v for k, v in got.items() if v != want}
            self.assertEqual(wrong, {}, "events lost or delivered twice")
            self.assertEqual(set(got), stored)
            self.assertEqual(pg.psql("SELECT pending, failed FROM core.event_outbox_counts()")
                             .strip(), "0|0")
            for h in survivors:
                text = h.request("GET", "/metrics").text
                print(f"host {h.port}:", [line for line in text.splitlines()
                                          if line.startswith("atrium_event_deliveries_total")])
        finally:
            if front:
                front.stop()
            for h in hosts:
                h.cleanup()
            pg.cleanup()
            shutil.rmtree(pdir, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
