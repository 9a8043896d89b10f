#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Durable events and the leader (issue #16): core.event_outbox, retries, kill -9, one leader.

An event with subscribers is written to core.event_outbox in the publishing transaction, one
row per subscribing plugin, and deleted by the subscriber's delivery transaction. The test
plugin groupsprobe (tests/plugins/groupsprobe/) subscribes to the group events, records each
delivery with its event id, and obeys faults injected into groupsprobe.faults: 'fail' (the
subscriber fails) and 'block' (it waits while the fault exists). Real hosts, a real
PostgreSQL, over HTTP; the outbox is read through its SECURITY DEFINER functions or as the
owner with the school's setting, as the host itself does.
"""
from __future__ import annotations

import re
import shutil
import threading
import time

import fixtures
import harness
from test_groups_service import plugin_dir

MAX_ATTEMPTS = 3  # the hosts' [events] max_attempts: given up after 1 s + 2 s of backoff


def metric(host: harness.Atriumd, line: str) -> float:
    """The value of the /metrics sample whose name and labels are exactly `line`."""
    text = host.request("GET", "/metrics").text
    m = re.search(r"^" + re.escape(line) + r" (\S+)$", text, re.M)
    if not m:
        raise AssertionError(f"/metrics has no {line}")
    return float(m.group(1))


def wait_for(what: str, cond, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


class Installation:
    """A school with groups and groupsprobe enabled, on one cluster, with helpers."""

    def __init__(self, pg: harness.PgCluster, host: harness.Atriumd, slug: str) -> None:
        self.pg, self.host, self.slug = pg, host, slug
        self.op = fixtures.make_operator(host)
        self.school = fixtures.make_school(host, self.op, slug, modules=["groups", "groupsprobe"])
        fixtures.make_user(host, self.op, slug, "ada", roles=["admin"])
        fixtures.make_user(host, self.op, slug, "tina", roles=["teacher"])
        self.ada = fixtures.login(host, "ada", school=slug)
        self.tina = fixtures.login(host, "tina", school=slug)

    def fault(self, kind: str | None) -> None:
        self.pg.psql("DELETE FROM groupsprobe.faults;" +
                     (f"INSERT INTO groupsprobe.faults VALUES ('{kind}');" if kind else ""))

    def create_group(self, name: str, host: harness.Atriumd | None = None) -> str:
        resp = fixtures.check((host or self.host).request(
            "POST", f"/api/v1/schools/{self.slug}/groups", {"name": name, "type": "course"},
            token=self.tina),
            201, what="create group")
        return resp.json()["id"]

    def deliveries(self, group: str, host: harness.Atriumd | None = None) -> list[dict]:
        resp = fixtures.check((host or self.host).request(
            "GET", f"/api/v1/schools/{self.slug}/groupsprobe/events?limit=100",
            token=self.ada), 200, what="probe events")
        items = resp.json()["items"]
        while resp.json()["next_cursor"]:
            resp = fixtures.check((host or self.host).request(
                "GET", f"/api/v1/schools/{self.slug}/groupsprobe/events?limit=100&cursor="
                + resp.json()["next_cursor"], token=self.ada), 200, what="probe events")
            items += resp.json()["items"]
        return [e for e in items if e["group_id"] == group]

    def counts(self) -> tuple[int, int]:
        """(pending, given up) rows of the whole outbox."""
        out = self.pg.psql("SELECT pending, failed FROM core.event_outbox_counts()").strip()
        pending, failed = out.split("|")
        return int(pending), int(failed)

    def rows(self, group: str) -> list[list[str]]:
        """The outbox rows of @group's events: name, subscriber, attempts, failed, last_error."""
        out = self.pg.psql(
            f"SET atrium.school_id = '{self.school['id']}';"
            "SELECT name, subscriber, attempts, failed_at IS NOT NULL, coalesce(last_error, '') "
            f"FROM core.event_outbox WHERE payload->>'group_id' = '{group}' ORDER BY name")
        return [line.split("|") for line in out.splitlines() if line]

    def clear(self) -> None:
        self.fault(None)
        self.pg.psql(f"SET atrium.school_id = '{self.school['id']}';"
                     "DELETE FROM core.event_outbox")


def start_host(pg: harness.PgCluster, pdir: str) -> harness.Atriumd:
    host = harness.Atriumd(pg, plugin_dir=pdir,
                           env={"ATRIUM_EVENT_MAX_ATTEMPTS": str(MAX_ATTEMPTS)})
    host.start()
    return host


class DurableEvents(harness.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.dir = plugin_dir(with_groups=True)
        cls.pg = harness.PgCluster(name="pg-events")
        cls.pg.start()
        cls.host = start_host(cls.pg, cls.dir)
        cls.inst = Installation(cls.pg, cls.host, "evschool")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.host.cleanup()
        cls.pg.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def tearDown(self) -> None:
        self.inst.clear()

    def test_delivered_once_with_its_event_id_and_the_row_removed(self):
        group = self.inst.create_group("Outbox 1")
        got = self.inst.deliveries(group)
        self.assertEqual(sorted(e["event"] for e in got), ["group.created", "group.member_added"])
        ids = [e["event_id"] for e in got]
        self.assertTrue(all(re.fullmatch(r"[0-9a-f-]{36}", i or "") for i in ids), ids)
        self.assertEqual(len(set(ids)), 2, "each event has an id of its own")
        self.assertEqual(self.inst.rows(group), [], "delivered rows leave the outbox")

    def test_failed_delivery_is_retried_with_the_same_event_id(self):
        failed_before = metric(self.host, 'atrium_event_deliveries_total{result="failed"}')
        self.inst.fault("fail")
        group = self.inst.create_group("Outbox 2")  # the request itself succeeds
        self.assertEqual(self.inst.deliveries(group), [])
        rows = self.inst.rows(group)
        self.assertEqual([(r[0], r[1], r[2], r[3]) for r in rows],
                         [("group.created", "groupsprobe", "1", "f"),
                          ("group.member_added", "groupsprobe", "1", "f")])
        self.assertTrue(all("injected failure" in r[4] for r in rows), rows)
        self.assertGreaterEqual(
            metric(self.host, 'atrium_event_deliveries_total{result="failed"}'),
            failed_before + 2)
        stored_ids = self.pg.psql(
            f"SET atrium.school_id = '{self.inst.school['id']}';"
            f"SELECT id FROM core.event_outbox WHERE payload->>'group_id' = '{group}' "
            "ORDER BY name").split()
        self.inst.fault(None)
        got = wait_for("the retried deliveries",
                       lambda: (lambda d: d if len(d) == 2 else None)(self.inst.deliveries(group)),
                       timeout=20)
        self.assertEqual(sorted(e["event"] for e in got), ["group.created", "group.member_added"])
        self.assertEqual([e["event_id"] for e in sorted(got, key=lambda e: e["event"])],
                         stored_ids, "the retry carries the event id stored at the commit")
        self.assertTrue(all(e["group_seen"] for e in got))
        self.assertEqual(self.inst.rows(group), [])
        # Nothing is delivered twice afterwards.
        time.sleep(1.5)
        self.assertEqual(len(self.inst.deliveries(group)), 2)

    def test_a_subscriber_that_keeps_failing_is_given_up_after_max_attempts(self):
        given_up_before = metric(self.host, 'atrium_event_deliveries_total{result="given_up"}')
        self.inst.fault("fail")
        group = self.inst.create_group("Outbox 3")
        rows = wait_for("both rows given up",
                        lambda: (lambda r: r if len(r) == 2 and all(x[3] == "t" for x in r)
                                 else None)(self.inst.rows(group)), timeout=30)
        self.assertTrue(all(r[2] == str(MAX_ATTEMPTS) for r in rows), rows)
        self.assertEqual(metric(self.host, 'atrium_event_deliveries_total{result="given_up"}'),
                         given_up_before + 2)
        self.assertRegex(self.host.log_text(), r"subscriber groupsprobe given up after 3 attempts")
        # Given up means no more attempts, even once the subscriber would succeed.
        self.inst.fault(None)
        time.sleep(2.5)
        self.assertEqual(self.inst.deliveries(group), [])
        self.assertEqual(self.inst.counts()[0], 0)

    def test_a_failed_request_writes_no_event(self):
        before = self.inst.counts()
        resp = self.host.request("POST", f"/api/v1/schools/{self.inst.slug}/groups",
                                 {"name": "", "type": "course"}, token=self.inst.tina)
        self.assertEqual(resp.status, 400)
        self.assertEqual(self.inst.counts(), before)

    def test_one_leader(self):
        self.assertEqual(metric(self.host, "atrium_leader"), 1)


class HostsDie(harness.TestCase):
    """Two hosts on one database: one leader; kill -9 loses no event and no leadership."""

    def setUp(self) -> None:
        self.dir = plugin_dir(with_groups=True)
        self.pg = harness.PgCluster(name="pg-events-kill")
        self.pg.start()
        self.a = start_host(self.pg, self.dir)
        self.b = start_host(self.pg, self.dir)
        self.inst = Installation(self.pg, self.a, "killschool")

    def tearDown(self) -> None:
        self.a.cleanup()
        self.b.cleanup()
        self.pg.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def leaders(self) -> list[harness.Atriumd]:
        return [h for h in (self.a, self.b)
                if h.proc and h.proc.poll() is None and metric(h, "atrium_leader") == 1]

    def test_exactly_one_leader_and_another_takes_over(self):
        first = wait_for("a leader", lambda: self.leaders(), timeout=10)
        self.assertEqual(len(first), 1, "exactly one leader")
        time.sleep(2.5)  # a full election round later, still one
        self.assertEqual(self.leaders(), first)
        first[0].kill()
        other = self.b if first[0] is self.a else self.a
        wait_for("the other host to lead", lambda: metric(other, "atrium_leader") == 1,
                 timeout=10)
        self.assertRegex(other.log_text(), r"this host is the leader")

    def test_a_host_killed_right_after_the_commit_loses_no_event(self):
        self.inst.fault("block")
        result: dict = {}

        def post() -> None:
            try:
                result["resp"] = self.a.request(
                    "POST", f"/api/v1/schools/{self.inst.slug}/groups", {"name": "Killed", "type": "course"},
                    token=self.inst.tina, timeout=60)
            except Exception as e:  # the host dies under it
                result["error"] = e

        t = threading.Thread(target=post)
        t.start()
        # The publishing transaction has committed once its outbox rows are visible; the
        # delivery on host a is now blocked inside the subscriber.
        wait_for("the committed outbox rows", lambda: self.inst.counts()[0] == 2, timeout=20)
        time.sleep(0.3)
        self.a.kill()
        t.join(10)
        self.assertNotIn("resp", result, "the answer never went out")
        self.inst.fault(None)
        group = self.pg.psql(
            f"SET atrium.school_id = '{self.inst.school['id']}';"
            "SELECT id FROM groups.groups WHERE name = 'Killed'").strip()
        self.assertRegex(group, r"^[0-9a-f-]{36}$", "the group was committed")
        got = wait_for("host b to deliver both events",
                       lambda: (lambda d: d if len(d) == 2 else None)(
                           self.inst.deliveries(group, host=self.b)), timeout=30)
        self.assertEqual(sorted(e["event"] for e in got), ["group.created", "group.member_added"])
        self.assertEqual(len({e["event_id"] for e in got}), 2)
        self.assertEqual(self.inst.counts(), (0, 0))
        self.assertGreaterEqual(metric(self.b, 'atrium_event_deliveries_total{result="retried"}'),
                                2)
        time.sleep(1.5)
        self.assertEqual(len(self.inst.deliveries(group, host=self.b)), 2, "delivered once")


if __name__ == "__main__":
    harness.main()
