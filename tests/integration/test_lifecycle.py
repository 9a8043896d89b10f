# SPDX-License-Identifier: Apache-2.0
"""test_lifecycle.py - atriumd's life beyond single requests.

Drain: SIGTERM while a request is in flight (held up by a table lock the test holds in its
own psql session) lets that request finish with its real answer, refuses new connections,
and exits 0. Database outage: with PostgreSQL stopped a database route answers 503 and the
process lives on (/healthz 200, /readyz 503); once PostgreSQL is back the same route answers
200 again without restarting atriumd. Migrations: idempotent, safe to run concurrently, and
refusing to go on when an applied migration changed. The database URL: its own libpq
keywords win over what atriumd fills in (application_name), and GSSAPI encryption is used only
when the URL or PGGSSENCMODE asks. The command line: --help documents the environment, an
unknown subcommand exits 2.
"""

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402

NOTICES = "/api/v1/schools/{}/noticeboard/notices"


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    """Poll predicate() until it returns something truthy; AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class BackgroundRequest(threading.Thread):
    """One HTTP request on its own thread; .result is (status, body) or the exception."""

    def __init__(self, port, method, path, body=None, headers=None, timeout=60.0):
        super().__init__(daemon=True)
        self.args = (port, method, path, body, headers or {}, timeout)
        self.result = None

    def run(self):
        port, method, path, body, headers, timeout = self.args
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            self.result = (resp.status, resp.read())
        except Exception as exc:  # reported by the test
            self.result = exc
        finally:
            conn.close()


def lock_waiters(pg: harness.PgCluster, table: str) -> int:
    """How many sessions wait for a lock on `table`."""
    out = pg.psql(f"SELECT count(*) FROM pg_locks WHERE NOT granted "
                  f"AND relation = '{table}'::regclass")
    return int(out.strip() or 0)


def connection_refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def post_behind_lock(host: harness.Atriumd, pg: harness.PgCluster, slug: str,
                     title: str) -> tuple[fixtures.LockHolder, BackgroundRequest]:
    """The teacher of a new school `slug` POSTs the notice `title` on a thread of its own
    while a psql session holds the notices table: returns once the POST waits for the lock.
    The caller releases the lock."""
    op = fixtures.make_operator(host)
    tokens = fixtures.school_with_users(host, op, slug, {"tess": ["teacher"]},
                                        modules=["noticeboard"])
    auth = {"Authorization": f"Bearer {tokens['tess']}", "Content-Type": "application/json"}
    lock = fixtures.LockHolder(pg, "noticeboard.notices")
    try:
        body = ('{"title": "%s", "body": "held up"}' % title).encode()
        post = BackgroundRequest(host.port, "POST", NOTICES.format(slug), body=body,
                                 headers=auth)
        post.start()
        wait_for(lambda: lock_waiters(pg, "noticeboard.notices") >= 1, 30,
                 "the POST to wait for the table lock")
    except BaseException:
        lock.release()
        raise
    return lock, post


def notices_titled(pg: harness.PgCluster, title: str) -> str:
    return pg.psql(f"SELECT count(*) FROM noticeboard.notices WHERE title = '{title}'").strip()


class Drain(harness.TestCase):
    def exits_at_the_drain_timeout(self, host: harness.Atriumd, cancelled: int,
                                   cut: int) -> None:
        """SIGTERM to a host with drain_timeout 1 s and one request in flight: it exits 0
        within 20 s and logs what it ended."""
        host.proc.send_signal(signal.SIGTERM)
        try:
            rc = host.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.fail("atriumd did not exit within 20 s of SIGTERM, the drain timeout being 1 s")
        self.assertEqual(rc, 0, harness._tail(host.log_path))
        self.assertIn(f"drain timeout: 1 requests still in flight, exiting ({cancelled} "
                      f"statements cancelled, {cut} uploads cut)", host.log_text())

    def test_sigterm_lets_the_request_in_flight_finish(self):
        with harness.PgCluster() as pg, harness.Atriumd(pg) as host:
            lock, post = post_behind_lock(host, pg, "drain", "in flight")
            try:
                host.proc.send_signal(signal.SIGTERM)
                wait_for(lambda: connection_refused(host.port), 10,
                         "the listening socket to close after SIGTERM")
                self.assertIsNone(host.proc.poll(),
                                  "atriumd exited with a request still in flight")
            finally:
                lock.release()

            post.join(30)
            self.assertFalse(post.is_alive(), "the in-flight request never finished")
            self.assertNotIsInstance(post.result, Exception, post.result)
            status, body = post.result
            self.assertEqual(status, 201, body)
            try:
                rc = host.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.fail("atriumd did not exit within 20 s of SIGTERM after the drain")
            self.assertEqual(rc, 0, harness._tail(host.log_path))
            # the notice was committed, not lost in the shutdown
            self.assertEqual(notices_titled(pg, "in flight"), "1")
            self.assertTrue(connection_refused(host.port))

    def test_drain_timeout_ends_a_request_that_never_finishes(self):
        """A request still held up when [http] drain_timeout has passed does not keep the
        host alive: its statement is cancelled and the host exits (0, the warning in its
        log) with the request unanswered and nothing of it committed, though the lock it
        waited for is still held."""
        with harness.PgCluster() as pg, harness.Atriumd(
                pg, env={"ATRIUM_DRAIN_TIMEOUT": "1"}) as host:
            lock, post = post_behind_lock(host, pg, "stuck", "stuck")
            try:
                self.exits_at_the_drain_timeout(host, cancelled=1, cut=0)
                post.join(30)
                self.assertFalse(post.is_alive(), "the client was never let go")
                # The connection closed unanswered (or, were a front still there, a 5xx).
                if not isinstance(post.result, Exception):
                    self.assertGreaterEqual(post.result[0], 500, post.result)
            finally:
                lock.release()
            # The transaction went with the process's connection.
            wait_for(lambda: lock_waiters(pg, "noticeboard.notices") == 0, 30,
                     "the dead host's statement to leave PostgreSQL")
            self.assertEqual(notices_titled(pg, "stuck"), "0")

    def test_a_second_signal_ends_the_drain_at_once(self):
        """SIGTERM, then SIGINT (an operator's second Ctrl-C) while a request is held up:
        the host does not wait for drain_timeout (30 s by default)."""
        with harness.PgCluster() as pg, harness.Atriumd(pg) as host:
            lock, post = post_behind_lock(host, pg, "twice", "twice")
            try:
                host.proc.send_signal(signal.SIGTERM)
                wait_for(lambda: "draining 1 in-flight" in host.log_text(), 10,
                         "the drain to begin")
                self.assertIsNone(host.proc.poll())
                host.proc.send_signal(signal.SIGINT)
                try:
                    rc = host.proc.wait(15)
                except subprocess.TimeoutExpired:
                    self.fail("atriumd still waited for the drain after a second signal")
                self.assertEqual(rc, 0, harness._tail(host.log_path))
                self.assertIn("second signal: not waiting for the drain", host.log_text())
                post.join(30)
                self.assertFalse(post.is_alive(), "the client was never let go")
            finally:
                lock.release()
            self.assertEqual(notices_titled(pg, "twice"), "0")

    def test_drain_timeout_ends_an_upload_that_stalls(self):
        """An upload whose client stopped sending (its body half in) does not keep the host
        alive past [http] drain_timeout either."""
        with harness.PgCluster() as pg, harness.Atriumd(
                pg, env={"ATRIUM_DRAIN_TIMEOUT": "1"}) as host:
            op = fixtures.make_operator(host)
            tokens = fixtures.school_with_users(host, op, "stall", {"tess": ["teacher"]},
                                                modules=["groups", "files"])
            sock = socket.create_connection(("127.0.0.1", host.port), timeout=30)
            self.addCleanup(sock.close)
            sock.sendall(b"PUT /api/v1/schools/stall/files/home/half.bin HTTP/1.1\r\n"
                         b"Host: atrium\r\nAuthorization: Bearer " + tokens["tess"].encode()
                         + b"\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 70000)
            wait_for(lambda: len(os.listdir(os.path.join(host.data_dir, "files", "tmp"))) > 0,
                     30, "the upload to start writing its temporary file")
            self.exits_at_the_drain_timeout(host, cancelled=0, cut=1)
            self.assertEqual(pg.psql("SELECT count(*) FROM files.nodes "
                                     "WHERE name = 'half.bin'"), "0\n")

    def test_sigterm_when_idle_exits_0(self):
        with harness.PgCluster() as pg, harness.Atriumd(pg) as host:
            self.assertEqual(host.request("GET", "/readyz").status, 200)
            self.assertEqual(host.stop(), 0, host.log_text())
            self.assertTrue(connection_refused(host.port))


class StatementTimeout(harness.TestCase):
    def test_a_statement_stuck_behind_a_lock_is_cancelled(self):
        """[database] statement_timeout (1 s here): a request whose statement waits for a
        lock someone holds answers 503 after the timeout, rolled back, instead of holding
        its worker and connection for as long as the lock; the host serves on, and the same
        request succeeds once the lock is gone. Migrations are not bound by it."""
        with harness.PgCluster() as pg, harness.Atriumd(
                pg, env={"ATRIUM_DATABASE_STATEMENT_TIMEOUT": "1"}) as host:
            lock, first = post_behind_lock(host, pg, "slow", "behind a lock")
            _, _, _, body, auth, _ = first.args  # the same POST again, from more clients
            try:
                # More than the pool has connections.
                posts = [first] + [BackgroundRequest(host.port, "POST", NOTICES.format("slow"),
                                                     body=body, headers=auth)
                                   for _ in range(5)]
                for p in posts[1:]:
                    p.start()
                for p in posts:
                    p.join(30)
                    self.assertFalse(p.is_alive(), "a request still waits for the lock")
                    self.assertNotIsInstance(p.result, Exception, p.result)
                    status, answer = p.result
                    self.assertEqual(status, 503, answer)
                    self.assertIn(b"statement timeout", answer)
                self.assertEqual(lock_waiters(pg, "noticeboard.notices"), 0)
                # They came and went: the host serves on.
                self.assertEqual(host.request("GET", "/readyz").status, 200)
                self.assertEqual(host.request("GET", "/api/v1/me", headers=auth).status, 200)
            finally:
                lock.release()
            r = host.request("POST", NOTICES.format("slow"), body, headers=auth)
            self.assertEqual(r.status, 201, r)
            self.assertEqual(notices_titled(pg, "behind a lock"), "1")
            # A migration run by hand is the owner's connection, without the limit.
            self.assertEqual(host.run(["migrate"]).returncode, 0)

    def test_timers_and_commands_are_not_bound_by_it(self):
        """Background work (plugins' timers and commands, through run_tx) may take longer
        than a request may: `atriumd files gc` waits out a lock held longer than the 1 s
        limit and succeeds."""
        with harness.PgCluster() as pg, harness.Atriumd(
                pg, env={"ATRIUM_DATABASE_STATEMENT_TIMEOUT": "1"}) as host:
            lock = fixtures.LockHolder(pg, "files.trash")

            def release_later() -> None:
                try:
                    wait_for(lambda: lock_waiters(pg, "files.trash") >= 1, 30,
                             "gc to wait for the lock")
                    time.sleep(2)  # twice the limit
                finally:
                    lock.release()

            releaser = threading.Thread(target=release_later, daemon=True)
            releaser.start()
            proc = host.run(["files", "gc"])
            releaser.join(30)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("trash items expired: 0", proc.stdout)


class DatabaseOutage(harness.TestCase):
    def test_503_while_the_database_is_gone_and_recovery(self):
        with harness.PgCluster() as pg, harness.Atriumd(pg) as host:
            op = fixtures.make_operator(host)
            tokens = fixtures.school_with_users(host, op, "outage", {"olga": ["teacher"]},
                                                modules=["noticeboard"])
            path = NOTICES.format("outage")
            t = tokens["olga"]
            self.assertEqual(host.request("POST", path, {"title": "before", "body": "x"},
                                          token=t).status, 201)
            self.assertEqual(host.request("GET", path, token=t).status, 200)

            pg.stop()
            self.assertFalse(pg.running)
            for _ in range(3):  # a broken pooled connection, then failed reconnects
                harness.assert_problem(host.request("GET", path, token=t, timeout=30), 503,
                                       "/unavailable")
            harness.assert_problem(host.request("POST", path, {"title": "during", "body": "x"},
                                                token=t, timeout=30), 503, "/unavailable")
            harness.assert_problem(host.request("GET", "/readyz", timeout=30), 503)
            self.assertEqual(host.request("GET", "/healthz").status, 200)
            self.assertEqual(host.request("GET", "/metrics").status, 200)
            self.assertIsNone(host.proc.poll(), "atriumd died with the database")

            pg.start()

            def recovered():
                resp = host.request("GET", path, token=t, timeout=10)
                return resp if resp.status == 200 else None

            resp = wait_for(recovered, 30, "the notices route to answer 200 again",
                            interval=0.25)
            self.assertEqual([n["title"] for n in resp.json()["items"]], ["before"])
            self.assertEqual(host.request("GET", "/readyz").status, 200)
            self.assertEqual(host.request("POST", path, {"title": "after", "body": "x"},
                                          token=t).status, 201)
            self.assertIsNone(host.proc.poll())
            self.assertEqual(host.stop(), 0)

    def test_database_gone_at_first_request(self):
        # The pool has never connected for requests when PostgreSQL goes away.
        with harness.PgCluster() as pg, harness.Atriumd(pg) as host:
            pg.stop()
            harness.assert_problem(host.request("GET", "/readyz", timeout=30), 503)
            # A request that needs the database (signing in) says it is away ...
            harness.assert_problem(host.request("POST", "/api/v1/auth/login",
                                                {"username": "nobody", "password": "x" * 12},
                                                timeout=30), 503)
            # ... one that does not (the host's own modules, asked anonymously; liveness)
            # answers from memory.
            self.assertEqual(host.request("GET", "/api/v1/modules", timeout=30).status, 200)
            self.assertEqual(host.request("GET", "/healthz").status, 200)
            pg.start()
            wait_for(lambda: host.request("GET", "/readyz", timeout=10).status == 200, 30,
                     "/readyz to answer 200 again", interval=0.25)


class Migrations(harness.TestCase):
    def migrate(self, host):
        proc = host.run(["migrate"])
        return proc

    def test_migrate_twice_is_idempotent(self):
        with harness.PgCluster() as pg:
            host = harness.Atriumd(pg)
            try:
                first = self.migrate(host)
                self.assertEqual(first.returncode, 0, first.stdout + first.stderr)
                rows = pg.psql("SELECT owner, name, checksum FROM core.migrations "
                               "ORDER BY owner, name")
                self.assertIn("core|0001_schools.sql|", rows)
                self.assertIn("noticeboard|0001_notices.sql|", rows)
                second = self.migrate(host)
                self.assertEqual(second.returncode, 0, second.stdout + second.stderr)
                self.assertEqual(pg.psql("SELECT owner, name, checksum FROM core.migrations "
                                         "ORDER BY owner, name"), rows)
                self.assertNotIn("applied migration", second.stdout + second.stderr)
            finally:
                host.cleanup()

    def test_concurrent_migrate(self):
        # Hosts of one installation may start (and migrate) at the same moment. Several rounds
        # of concurrent runs: the first on an empty database, the rest on a current one.
        with harness.PgCluster() as pg:
            host = harness.Atriumd(pg)
            try:
                env = host.env()
                applied = 0
                for round_ in range(8):
                    procs = [subprocess.Popen([host.binary, "migrate"], env=env,
                                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                              stderr=subprocess.STDOUT, text=True)
                             for _ in range(4)]
                    for p in procs:
                        try:
                            out, _ = p.communicate(timeout=120)
                        except subprocess.TimeoutExpired:
                            p.kill()
                            out, _ = p.communicate()
                        self.assertEqual(p.returncode, 0,
                                         f"round {round_}: concurrent migrate failed:\n{out}")
                        applied += out.count("applied migration ")
                dupes = pg.psql("SELECT owner, name FROM core.migrations "
                                "GROUP BY owner, name HAVING count(*) > 1")
                self.assertEqual(dupes, "")
                total = int(pg.psql("SELECT count(*) FROM core.migrations").strip())
                self.assertEqual(applied, total, "each migration must be applied exactly once")
            finally:
                host.cleanup()

    def test_changed_applied_migration_stops_migrate(self):
        with harness.PgCluster() as pg:
            host = harness.Atriumd(pg)
            try:
                self.assertEqual(self.migrate(host).returncode, 0)
                pg.psql("UPDATE core.migrations SET checksum = 'x' "
                        "WHERE name = '0001_schools.sql'")
                proc = self.migrate(host)
                self.assertNotEqual(proc.returncode, 0, proc.stdout + proc.stderr)
                self.assertIn("0001_schools.sql", proc.stderr)
                self.assertRegex(proc.stderr, r"(?i)changed|checksum")
                # serve refuses to start on it as well
                with self.assertRaises(harness.HarnessError):
                    host.start()
                self.assertNotEqual(host.returncode, 0)
                self.assertIn("0001_schools.sql", host.log_text())
            finally:
                host.cleanup()


class DatabaseUrl(harness.TestCase):
    """What atriumd adds to the database URL only fills in what the URL leaves out
    (core/db/db.c, docs/OPERATIONS.md "Connection settings")."""

    def test_the_urls_own_keywords_win(self):
        with harness.PgCluster() as pg:
            host = harness.Atriumd(pg.url + "?application_name=school-east&connect_timeout=3")
            try:
                host.start()
                names = pg.psql("SELECT DISTINCT application_name FROM pg_stat_activity "
                                "WHERE usename = 'atrium' AND pid <> pg_backend_pid()")
                self.assertEqual(names.split(), ["school-east"])
            finally:
                host.cleanup()

    def test_gssapi_encryption_only_when_asked_for(self):
        # This cluster has no Kerberos: a URL (or PGGSSENCMODE) that requires GSSAPI
        # encryption cannot connect, which shows the operator's choice reaches libpq; without
        # one atriumd does not ask (gssencmode=disable) and connects.
        with harness.PgCluster() as pg:
            for url, env in ((pg.url + "?gssencmode=require", {}),
                             (pg.url, {"PGGSSENCMODE": "require"})):
                with self.subTest(url=url, env=env):
                    host = harness.Atriumd(url)
                    try:
                        proc = host.run(["migrate"], env=env)
                        self.assertNotEqual(proc.returncode, 0)
                        self.assertIn("GSSAPI encryption required", proc.stderr)
                    finally:
                        host.cleanup()
            host = harness.Atriumd(pg)
            try:
                proc = host.run(["migrate"])
                self.assertEqual(proc.returncode, 0, proc.stderr)
            finally:
                host.cleanup()


class AdvisoryLockHolder:
    """A psql session that holds the migration lock (pg_advisory_lock 727100) until release()."""

    def __init__(self, pg: harness.PgCluster) -> None:
        self.proc = subprocess.Popen(
            [os.path.join(pg.bindir, "psql"), "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
             "-d", pg.url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.proc.stdin.write("SELECT pg_advisory_lock(727100);\nSELECT 'locked';\n")
        self.proc.stdin.flush()
        for _ in range(2):
            line = self.proc.stdout.readline()
            if line.strip() == "locked":
                return
        self.release()
        raise AssertionError(f"psql did not take the migration lock: {line!r}")

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("\\q\n")
            self.proc.stdin.flush()
            self.proc.stdin.close()
            self.proc.wait(30)


class StartOnACurrentDatabase(harness.TestCase):
    """A host that starts against a database its code already migrated reads one row
    (core.migration_state) instead of taking the migration lock and granting everything again;
    `atriumd migrate` always does the whole run."""

    def test_a_current_database_is_not_locked_again(self):
        with harness.PgCluster() as pg:
            host = harness.Atriumd(pg)
            try:
                first = host.run(["migrate"])
                self.assertEqual(first.returncode, 0, first.stdout + first.stderr)
                lock = AdvisoryLockHolder(pg)
                try:
                    host.start()  # would wait for the lock if it took it
                    self.assertEqual(host.request("GET", "/readyz").status, 200)
                    self.assertIn("migrations: database is current", host.log_text())
                    self.assertNotIn("applied migration", host.log_text())
                finally:
                    lock.release()
            finally:
                host.cleanup()

    def test_migrate_repairs_grants_changed_by_hand(self):
        with harness.PgCluster() as pg:
            host = harness.Atriumd(pg)
            try:
                self.assertEqual(host.run(["migrate"]).returncode, 0)
                pg.psql("REVOKE SELECT ON core.schools FROM atrium_request")
                granted = ("SELECT has_table_privilege('atrium_request', 'core.schools', "
                           "'SELECT')")
                self.assertEqual(pg.psql(granted).strip(), "f")
                proc = host.run(["migrate"])
                self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
                self.assertEqual(pg.psql(granted).strip(), "t")
            finally:
                host.cleanup()

    def test_a_different_plugin_set_runs_the_whole_migration(self):
        # The fingerprint covers the plugins: a host with fewer plugins (here none) must not
        # take a database migrated for more as current, or it would keep their permission
        # defaults and grants of a set it does not run.
        with harness.PgCluster() as pg:
            host = harness.Atriumd(pg)
            try:
                self.assertEqual(host.run(["migrate"]).returncode, 0)
                before = pg.psql("SELECT fingerprint FROM core.migration_state")
                empty = os.path.join(host.dir, "no-plugins")
                os.makedirs(empty, exist_ok=True)
                core_only = harness.Atriumd(pg, plugin_dir=empty)
                try:
                    core_only.start()
                    self.assertNotIn("migrations: database is current", core_only.log_text())
                finally:
                    core_only.cleanup()
                self.assertNotEqual(pg.psql("SELECT fingerprint FROM core.migration_state"),
                                    before)
                self.assertEqual(pg.psql("SELECT count(*) FROM core.permission_defaults "
                                         "WHERE permission LIKE 'noticeboard.%'").strip(), "0")
            finally:
                host.cleanup()


class CommandLine(harness.TestCase):
    def test_help_documents_the_environment(self):
        host = harness.Atriumd(None)
        try:
            proc = host.run(["--help"])
            self.assertEqual(proc.returncode, 0, proc.stderr)
            text = proc.stdout + proc.stderr
            for var in ("ATRIUM_DATABASE_URL", "ATRIUM_LISTEN", "ATRIUM_PLUGIN_DIR",
                        "ATRIUM_DATA_DIR"):
                self.assertIn(var, text)
            for cmd in ("serve", "migrate", "operator create"):
                self.assertIn(cmd, text)
        finally:
            host.cleanup()

    def test_unknown_subcommand_exits_2(self):
        host = harness.Atriumd(None)
        try:
            for args in (["frobnicate"], ["migrate", "extra"], ["operator", "delete", "x"]):
                with self.subTest(args):
                    proc = host.run(args, timeout=30)
                    self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
                    self.assertIn("unknown command", proc.stderr)
            proc = host.run(["--no-such-option"], timeout=30)
            self.assertEqual(proc.returncode, 2, proc.stderr)
        finally:
            host.cleanup()

    def test_version(self):
        host = harness.Atriumd(None)
        try:
            proc = host.run(["--version"], timeout=30)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertRegex(proc.stdout, r"^atriumd \S+")
        finally:
            host.cleanup()


if __name__ == "__main__":
    harness.main()
