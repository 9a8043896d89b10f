#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A host dies behind the balancer (issue #16, "Faults"): a correctness check.

Three atriumd hosts on one PostgreSQL, behind deploy/'s nginx configuration (three upstream
lines) or deploy/'s HAProxy configuration (which checks /readyz). Keep-alive clients create
groups (each publishes group.created and group.member_added, which the test plugin
groupsprobe records) and join a conference room through the balancer, while the host that is
the leader is killed with -9 (behind HAProxy, another host is first stopped with SIGTERM and
drains). Afterwards:
  - every answer was a success, 502 or 503 (nginx retries what it had not sent yet);
  - every acknowledged write is in the database;
  - every group in the database, acknowledged or not, had both its events delivered exactly
    once (the outbox rows of the dead host are delivered by the new leader);
  - another host leads.
"""
from __future__ import annotations

import http.client
import json
import shutil
import threading
import time

import conference_fixtures
import fixtures
import harness
from fronts import Front, HaproxyFront, NginxFront
from test_groups_service import plugin_dir


class Client(threading.Thread):
    """A keep-alive client through the balancer: creates groups, or joins the room.

    Like a browser, it sends a request again, once, on a new connection when a connection
    that had already served requests is closed without any answer: a balancer does that when
    the host behind a reused connection goes away (HAProxy's http-reuse), exactly as a server
    may close an idle keep-alive connection. The first try may have committed before its host
    died, so a group created again may answer 409 (its name is taken): the honest answer.
    Anything else that is not an answer is a failure.
    """

    def __init__(self, front: Front, n: int, token: str, path: str, kind: str) -> None:
        super().__init__(daemon=True)
        self.front, self.n, self.token, self.path, self.kind = front, n, token, path, kind
        self.stop = threading.Event()
        self.acked: list[str] = []
        self.statuses: dict[int, int] = {}
        self.resent = 0
        self.bad: list[str] = []

    def send(self, conn: http.client.HTTPSConnection, name: str) -> tuple[int, bytes, str]:
        headers = {"Host": "atrium.example.org", "Authorization": f"Bearer {self.token}"}
        body = None  # a join takes no body
        if self.kind == "group":
            body = json.dumps({"name": name, "type": "course"})
            headers["Content-Type"] = "application/json"
        conn.request("POST", self.path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read(), resp.getheader("Connection", "")

    def run(self) -> None:
        conn, served = None, 0
        i = 0
        while not self.stop.is_set():
            i += 1
            name = f"w{self.n}-{i}"
            if conn is None:
                conn, served = self.front.connection(), 0
            resent = False
            try:
                try:
                    status, data, connection = self.send(conn, name)
                except http.client.RemoteDisconnected:
                    if not served:
                        raise
                    self.resent += 1
                    resent = True
                    conn.close()
                    conn, served = self.front.connection(), 0
                    status, data, connection = self.send(conn, name)
            except OSError as e:  # the balancer itself must not fail a client
                self.bad.append(f"connection to the balancer: {e!r}")
                conn.close()
                conn = None
                continue
            served += 1
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status in (200, 201):
                answer = json.loads(data)
                self.acked.append(name if self.kind == "group"
                                  else str(answer["attendance_id"]))
            elif resent and status == 409 and self.kind == "group":
                pass  # the first try had committed before its host died: the name is taken
            elif status not in (502, 503):
                self.bad.append(f"{self.kind} {status}: {data[:300]!r}")
            if connection.lower() == "close":
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
        self.scenario(NginxFront, drain_one=False)

    def test_drain_one_and_kill_the_leader_behind_haproxy(self):
        self.scenario(HaproxyFront, drain_one=True)

    def scenario(self, front_class: type[Front], drain_one: bool) -> None:
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
            front = front_class([h.port for h in hosts])
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
                gone = [victim]
                time.sleep(1.5)
                if drain_one:  # SIGTERM: the host drains and leaves the rotation
                    drained = next(h for h in hosts if h is not victim)
                    self.assertEqual(drained.stop(), 0, "a drained host exits 0")
                    gone.append(drained)
                    time.sleep(1.5)
                victim.kill()
                time.sleep(3.0)
            finally:
                for c in clients:
                    c.stop.set()
                for c in clients:
                    c.join(60)

            for c in clients:
                print(f"client {c.n} ({c.kind}): {c.statuses}, sent again {c.resent}")
            bad = [b for c in clients for b in c.bad]
            if bad:  # the balancer's view of the failures (HAProxy logs each request)
                print("\n".join(line for line in front.log("stderr").splitlines()
                                if " 200 " not in line and " 201 " not in line)[-6000:])
            self.assertEqual(bad, [], "only successes, 502 and 503")
            for c in clients:
                self.assertGreater(len(c.acked), 5, f"client {c.n} made progress: {c.statuses}")
            survivors = [h for h in hosts if h not in gone]
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
                rows = pg.psql(scope + "SELECT g.id, e.event FROM groups.groups g "
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
            self.assertEqual(len(got), int(pg.psql(
                scope + "SELECT count(*) FROM groups.groups WHERE name LIKE 'w%'")))
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
