# SPDX-License-Identifier: Apache-2.0
"""harness - throwaway PostgreSQL clusters and atriumd hosts for the integration tests.

Integration tests are plain `unittest` modules that meson runs as
`python3 tests/integration/test_x.py` with ATRIUM_BIN, ATRIUM_PLUGIN_DIR, ATRIUM_BUILD_DIR and
ATRIUM_SOURCE_DIR in the environment. Each test starts what it needs and nothing is shared
between test processes, so meson can run them in parallel:

    import harness

    class Health(harness.TestCase):
        def test_healthz(self):
            with harness.PgCluster() as pg, harness.Atriumd(pg) as host:
                self.assertEqual(host.request("GET", "/healthz").status, 200)

    if __name__ == "__main__":
        harness.main()

A cluster is a real PostgreSQL server from Debian's packages, listening on a free loopback
port, with trust authentication for the superuser `atrium` and a database `atrium`, made by
scripts/pg-cluster.sh (the bootstrap bench/lib.sh and scripts/setup.sh use as well). initdb is
slow (about a second), so the first cluster of a build initialises a template under
$ATRIUM_BUILD_DIR/pg-template/ and every later one copies it. When the server binaries are
missing the harness raises: an integration test never skips for want of PostgreSQL.

Clusters and hosts keep their files in /dev/shm when it has room (copying a data directory
there is ten times faster than to disk), else /tmp; ATRIUM_TEST_TMPDIR overrides. PostgreSQL
refuses to run as root, so under root (as in CI) the server runs as Debian's `postgres` user,
which owns its cluster's directory. The server is started in the foreground (pg-cluster.sh
run, which execs the postmaster) rather than through pg_ctl, which would put it in a session
of its own: as our child it stays in the test's process group, which meson kills on a
timeout, so no server outlives a killed test. Everything a test started is also stopped at
interpreter exit, SIGTERM and SIGHUP included.

The pieces, each importable on its own but meant to be used through this package's names:
common.py (errors, process bookkeeping, ports, scratch directories), pg.py (PgCluster, and
PgReplica, a streaming replica of one),
host.py (Atriumd, Response, Headers; migrated_cluster(), a PgCluster copied from a template
this build's atriumd has migrated, cached like the base template) and runner.py (assert_problem, TestCase, main). The
underscored names re-exported below are used by a few test files; keep them.

Only the standard library is used: the machines have no pip.
"""

from __future__ import annotations

from .common import (
    SOURCE_DIR,
    HarnessError,
    _make_scratch,
    _rmtree,
    _running_as_root,
    _scratch_base,
    _tail,
    free_port,
)
from .host import (
    DEFAULT_ARGON2,
    WEAK_ARGON2,
    Atriumd,
    Headers,
    Response,
    _atriumd_bin,
    _default_plugin_dir,
    migrated_cluster,
)
from .pg import TEMPLATE_FORMAT, PgCluster, PgReplica
from .runner import TestCase, assert_problem, main

__all__ = [
    "PgCluster",
    "migrated_cluster",
    "PgReplica",
    "Atriumd",
    "Response",
    "HarnessError",
    "TestCase",
    "assert_problem",
    "free_port",
    "main",
]
