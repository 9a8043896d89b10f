# SPDX-License-Identifier: Apache-2.0
"""test_harness_smoke.py - the harness itself, then the smallest life of a host.

PgClusterTest checks the throwaway PostgreSQL that every integration test stands on: that it
starts, answers SQL, survives a restart, runs side by side with another, and leaves nothing
behind. HostTest starts atriumd against such a cluster, sees /healthz and /readyz answer 200,
and checks that SIGTERM makes it drain and exit 0.
"""

import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import harness  # noqa: E402


class PgClusterTest(harness.TestCase):
    def test_start_query_stop(self):
        pg = harness.PgCluster()
        with pg:
            self.assertTrue(pg.running)
            self.assertEqual(pg.psql("SELECT 1"), "1\n")
            self.assertEqual(pg.psql("SELECT current_user, current_database()"),
                             "atrium|atrium\n")
            self.assertEqual(pg.psql("SHOW fsync"), "off\n")
            self.assertEqual(pg.psql("SHOW max_connections"), "200\n")
            self.assertTrue(pg.url.startswith("postgresql://atrium@127.0.0.1:"))
            root = pg.root
        self.assertFalse(pg.running)
        self.assertFalse(os.path.exists(root), "cleanup left the cluster's files behind")

    def test_sql_errors_raise(self):
        with harness.PgCluster() as pg:
            with self.assertRaises(harness.HarnessError) as cm:
                pg.psql("SELECT 1; SELECT * FROM no_such_table; SELECT 2")
            self.assertIn("no_such_table", str(cm.exception))

    def test_migrated_cluster(self):
        # A copy of the build's migrated template: the schema is there before any host ran,
        # each copy is its own, and a host started on one finds nothing left to migrate.
        bare = harness.PgCluster(name="bare")
        with bare:
            self.assertEqual(bare.psql("SELECT to_regclass('core.migrations') IS NULL"), "t\n")
        first, second = harness.migrated_cluster("m1"), harness.migrated_cluster("m2")
        self.assertEqual(first.template, second.template)
        with first, second:
            count = "SELECT count(*) > 20 FROM core.migrations"
            self.assertEqual(first.psql(count), "t\n")
            first.psql("CREATE TABLE mine (x int)")
            self.assertEqual(second.psql("SELECT to_regclass('mine') IS NULL"), "t\n")
            with harness.Atriumd(second) as host:
                self.assertEqual(host.request("GET", "/readyz").status, 200)
                self.assertIn("migrations: database is current", host.log_text())
                self.assertNotIn("applied migration", host.log_text())

    def test_restart_keeps_data(self):
        with harness.PgCluster() as pg:
            pg.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (42);")
            pg.stop()
            self.assertFalse(pg.running)
            pg.restart()
            self.assertEqual(pg.psql("SELECT x FROM t"), "42\n")

    def test_two_clusters_at_once(self):
        # Started from two threads at the same moment, as parallel tests would.
        clusters = [harness.PgCluster(name=f"pg{i}") for i in range(2)]
        errors = []

        def start(pg):
            try:
                pg.start()
            except Exception as exc:  # reported below, on the main thread
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(pg,)) for pg in clusters]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(errors, [])
            a, b = clusters
            self.assertNotEqual(a.port, b.port)
            a.psql("CREATE TABLE only_in_a (x int)")
            self.assertEqual(a.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'"),
                             "1\n")
            self.assertEqual(b.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'"),
                             "0\n")
        finally:
            for pg in clusters:
                pg.cleanup()


class HostTest(harness.TestCase):
    def test_health_ready_and_clean_sigterm(self):
        with harness.PgCluster() as pg, harness.Atriumd(pg) as host:
            resp = host.request("GET", "/healthz")
            self.assertEqual(resp.status, 200, resp)
            resp = host.request("GET", "/readyz")
            self.assertEqual(resp.status, 200, resp)
            self.assertEqual(host.stop(), 0, host.log_text())


if __name__ == "__main__":
    harness.main()
