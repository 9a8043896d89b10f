#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""atriumd behind PgBouncer in transaction mode (issue #16): a real PgBouncer (Debian's 1.18,
which has no protocol-level prepared statements) that the test starts in front of its
private PostgreSQL, with fewer server connections than atriumd has clients, so consecutive
transactions of one atriumd connection land on different server sessions.

With `ATRIUM_DATABASE_POOLER=transaction` requests go through PgBouncer: the request role
logs in itself (no SET ROLE), nothing is set for the session (no `options` startup parameter,
which PgBouncer refuses; the time zone and date style are set in each transaction), and no
statement is prepared by name. Migrations and the leader's session lock use the direct URL.
The test drives sign-in, reads (READ ONLY pipelines), writes, events and the identity check
through it, and checks PgBouncer's own figures: transactions passed, server connections
shared. Without the setting, the same host fails against PgBouncer (also checked).
"""
from __future__ import annotations

import concurrent.futures
import os
import shutil
import subprocess
import time

import fixtures
import harness
from harness.common import _make_scratch, free_port
from harness.pg import _PgUser

ROLE = "atrium_pooled"
SERVER_CONNECTIONS = 2  # PgBouncer's default_pool_size: fewer than atriumd's clients


class PgBouncer:
    """pgbouncer in transaction mode in front of @pg, as PostgreSQL's unprivileged user."""

    def __init__(self, pg: harness.PgCluster) -> None:
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        if not os.path.exists(binary):
            raise harness.HarnessError("pgbouncer is not installed (scripts/setup.sh installs it)")
        self.dir = _make_scratch("atrium-pgbouncer-")
        self.port = free_port()
        with open(os.path.join(self.dir, "users.txt"), "w") as f:
            f.write(f'"{ROLE}" ""\n')
        with open(os.path.join(self.dir, "pgbouncer.ini"), "w") as f:
            f.write(f"""[databases]
atrium = host=127.0.0.1 port={pg.port} dbname=atrium

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.dir}/users.txt
admin_users = {ROLE}
pool_mode = transaction
default_pool_size = {SERVER_CONNECTIONS}
max_client_conn = 200
stats_period = 1
logfile = {self.dir}/pgbouncer.log
pidfile = {self.dir}/pgbouncer.pid
""")
        user = _PgUser()
        user.chown_tree(self.dir)
        self.proc = subprocess.Popen([binary, os.path.join(self.dir, "pgbouncer.ini")],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, **user.popen_kwargs())
        self.pg = pg
        deadline = time.monotonic() + 20
        while True:
            try:
                self.admin("SHOW VERSION")
                return
            except harness.HarnessError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    log = self.log()
                    self.stop()
                    raise harness.HarnessError("pgbouncer did not start:\n" + log)
                time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/atrium"

    def log(self) -> str:
        try:
            with open(os.path.join(self.dir, "pgbouncer.log")) as f:
                return f.read()
        except OSError:
            return ""

    def admin(self, command: str) -> list[dict[str, str]]:
        """A command on PgBouncer's admin console, as rows of column -> value."""
        proc = subprocess.run(
            [os.path.join(self.pg.bindir, "psql"), "-X", "-A", "-F", "\t", "-P", "footer=off",
             "-h", "127.0.0.1", "-p", str(self.port), "-U", ROLE, "pgbouncer", "-c", command],
            capture_output=True, text=True, timeout=30)
        if proc.returncode != 0:
            raise harness.HarnessError(proc.stderr)
        lines = proc.stdout.splitlines()
        head = lines[0].split("\t")
        return [dict(zip(head, line.split("\t"))) for line in lines[1:]]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class ThroughPgBouncer(harness.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.pg = harness.PgCluster(name="pg-bouncer").start()
        cls.pg.psql(f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER NOBYPASSRLS")
        cls.bouncer = PgBouncer(cls.pg)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.bouncer.stop()
        cls.pg.cleanup()

    def host(self, pooler: bool, **extra: str) -> harness.Atriumd:
        env = {"ATRIUM_REQUEST_DATABASE_URL": self.bouncer.url, "ATRIUM_REQUEST_ROLE": ROLE,
               "ATRIUM_POOL_SIZE": "6", **extra}
        if pooler:
            env["ATRIUM_DATABASE_POOLER"] = "transaction"
        return harness.Atriumd(self.pg, env=env)

    def test_statement_timeout_is_set_in_each_transaction(self) -> None:
        """Behind the pooler the session is not the host's, so [database] statement_timeout
        goes into each transaction: a POST behind a table lock answers 503 after 1 s, and
        once the lock is gone the same POST is stored."""
        with self.host(pooler=True, ATRIUM_DATABASE_STATEMENT_TIMEOUT="1") as host:
            op = fixtures.make_operator(host)
            s = fixtures.School(host, op, modules=["groups", "noticeboard"])
            path = f"/api/v1/schools/{s.slug}/noticeboard/notices"
            lock = fixtures.LockHolder(self.pg, "noticeboard.notices")
            try:
                r = host.request("POST", path, {"title": "held", "body": "x"},
                                 token=s.tokens["tina"])
                self.assertEqual(r.status, 503, r)
                self.assertIn(b"statement timeout", r.body)
            finally:
                lock.release()
            r = host.request("POST", path, {"title": "held", "body": "x"},
                             token=s.tokens["tina"])
            self.assertEqual(r.status, 201, r)

    def test_requests_through_pgbouncer_in_transaction_mode(self) -> None:
        time.sleep(1.5)
        before = {r["database"]: int(r["total_xact_count"])
                  for r in self.bouncer.admin("SHOW STATS")}.get("atrium", 0)
        with self.host(pooler=True) as host:
            op = fixtures.make_operator(host)
            s = fixtures.School(host, op, modules=["groups", "noticeboard"])
            path = f"/api/v1/schools/{s.slug}/noticeboard/notices"

            def work(i: int) -> list[int]:
                who = ("tina", "sam", "ada")[i % 3]
                out = [host.request("GET", "/api/v1/me", token=s.tokens[who]).status,
                       host.request("GET", path, token=s.tokens[who]).status]
                if who == "tina":
                    out.append(host.request("POST", path, {"title": f"n{i}", "body": "x"},
                                            token=s.tokens[who]).status)
                    out.append(host.request("POST", f"/api/v1/schools/{s.slug}/groups",
                                            {"name": f"g{i}", "type": "course"},
                                            token=s.tokens[who]).status)
                return out

            with concurrent.futures.ThreadPoolExecutor(12) as pool:
                results = [st for r in pool.map(work, range(60)) for st in r]
            self.assertEqual(set(results), {200, 201}, results)
            notices = host.request("GET", path + "?limit=100", token=s.tokens["sam"]).json()
            self.assertEqual(len(notices["items"]), 20)
            # The identity check still refuses through the pooler, and the read that follows
            # a refusal is not confused by another client's session.
            self.assertEqual(host.request("GET", "/api/v1/me", token="nope").status, 401)
            self.assertEqual(host.request("GET", "/readyz").status, 200)
            self.assertNotRegex(host.log_text(), r"prepared statement|unsupported startup")

        time.sleep(2.5)  # PgBouncer's totals follow every stats_period (1 s here)
        stats = {r["database"]: r for r in self.bouncer.admin("SHOW STATS")}
        # The 160 requests of the work above, each at least one transaction.
        self.assertGreaterEqual(int(stats["atrium"]["total_xact_count"]) - before, 160,
                                "the requests went through PgBouncer")
        servers = [r for r in self.bouncer.admin("SHOW SERVERS") if r["database"] == "atrium"]
        self.assertLessEqual(len(servers), SERVER_CONNECTIONS,
                             "transactions shared PgBouncer's few server connections")

    def test_without_the_setting_pgbouncer_refuses_the_host(self) -> None:
        # Without it the host sends the `options` startup parameter (time zone, date style),
        # which PgBouncer refuses, so the pool never opens and /readyz answers 503; were it
        # let through, statements prepared by name would be missing on the next server
        # session. The setting is what makes the difference.
        with self.host(pooler=False) as host:
            self.assertEqual(host.request("GET", "/readyz", timeout=30).status, 503)
        self.assertRegex(self.bouncer.log(), r"unsupported startup parameter: options")


if __name__ == "__main__":
    harness.main()
