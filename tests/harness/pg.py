# SPDX-License-Identifier: Apache-2.0
"""harness/pg.py - PgCluster, a private PostgreSQL server for one test or one test module.

A cluster is made by scripts/pg-cluster.sh, the one PostgreSQL bootstrap that the benchmarks
(bench/lib.sh) and the development cluster (scripts/setup.sh) use too: `init` once per build
directory for a cached template, then each cluster is a copy of the template (copying is ten
times faster than initdb) started with `pg-cluster.sh run`, which execs the postmaster, so the
server is our child in our process group (see harness/__init__.py for why that matters).
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from typing import Any, Callable, Sequence

from .common import (
    SOURCE_DIR,
    HarnessError,
    _make_scratch,
    _register,
    _rmtree,
    _running_as_root,
    _tail,
    _unregister,
    free_port,
)

# ------------------------------------------------------------------------------------------
# PostgreSQL
# ------------------------------------------------------------------------------------------


# Bump when the recipe for the cached template changes, so old caches are not reused.
TEMPLATE_FORMAT = 3

#: The one PostgreSQL bootstrap (tests, bench and scripts/setup.sh share it).
PG_CLUSTER = os.path.join(SOURCE_DIR, "scripts", "pg-cluster.sh")


def _script_env(bindir: str) -> dict[str, str]:
    """The environment for pg-cluster.sh: ours, with the bin directory already chosen."""
    return {**os.environ, "ATRIUM_PG_BINDIR": bindir}


def _pg_bindir() -> str:
    """The newest PostgreSQL server bin directory, or $ATRIUM_PG_BINDIR when set."""
    override = os.environ.get("ATRIUM_PG_BINDIR")
    if override:
        candidates = [override]
    else:
        candidates = glob.glob("/usr/lib/postgresql/*/bin")
        candidates.sort(key=lambda p: [int(x) for x in re.findall(r"\d+", p)], reverse=True)
        # Not Debian's layout: take the directory of an initdb on PATH.
        initdb = shutil.which("initdb")
        if initdb:
            candidates.append(os.path.dirname(os.path.realpath(initdb)))
    for d in candidates:
        if all(os.access(os.path.join(d, b), os.X_OK) for b in ("initdb", "postgres", "psql")):
            return d
    raise HarnessError(
        "PostgreSQL server binaries (initdb, postgres, psql) not found in "
        + (override or "/usr/lib/postgresql/*/bin or on PATH")
        + "; install Debian's `postgresql` package (scripts/setup.sh does)"
    )


class _PgUser:
    """Who runs the server, and how to hand it files."""

    def __init__(self) -> None:
        if _running_as_root():
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise HarnessError(
                    "running as root, but there is no `postgres` user to run the server as "
                    "(PostgreSQL refuses to run as root); install Debian's `postgresql` package"
                ) from None
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
        else:
            self.uid, self.gid = os.geteuid(), os.getegid()

    def popen_kwargs(self) -> dict[str, Any]:
        if not _running_as_root():
            return {}
        # cwd=/ because postgres may not be allowed into the test's working directory.
        return {"user": self.uid, "group": self.gid, "extra_groups": [], "cwd": "/"}

    def chown_tree(self, path: str) -> None:
        if not _running_as_root():
            return
        for dirpath, dirnames, filenames in os.walk(path):
            os.chown(dirpath, self.uid, self.gid)
            for name in dirnames + filenames:
                os.lchown(os.path.join(dirpath, name), self.uid, self.gid)


def _run_checked(cmd: Sequence[str], what: str, **kwargs: Any) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise HarnessError(
            f"{what} failed with status {proc.returncode}: {' '.join(cmd)}\n"
            f"{proc.stdout}{proc.stderr}"
        )
    return proc


def _postgres_start(bindir: str, user: _PgUser, root: str, port: int,
                    timeout: float) -> subprocess.Popen | None:
    """Start the postmaster of the cluster in `root` on `port` and wait until it is ready.

    Returns the process, or None if it exited during startup (its log says why). The server
    runs as our child, in our process group; see the module docstring for why not pg_ctl.
    """
    data = os.path.join(root, "data")
    with open(os.path.join(root, "postgres.log"), "ab") as log:
        # `run` execs the postmaster: the pid is the server's, and it stays in our process group.
        proc = subprocess.Popen(
            [PG_CLUSTER, "run", root, str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_script_env(bindir),
            **user.popen_kwargs(),
        )
    # postmaster.pid's 8th line becomes "ready" once connections are accepted (PG >= 10);
    # "standby" for a hot standby that accepts read-only connections (PgReplica).
    pidfile = os.path.join(data, "postmaster.pid")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        try:
            with open(pidfile, encoding="utf-8") as f:
                lines = f.read().splitlines()
            if (len(lines) >= 8 and lines[0].strip() == str(proc.pid)
                    and lines[7].strip() in ("ready", "standby")):
                return proc
        except OSError:
            pass
        time.sleep(0.02)
    _postgres_stop(proc, signal.SIGQUIT)
    raise HarnessError(
        f"PostgreSQL in {root} not ready after {timeout:.0f}s; log tail:\n"
        + _tail(os.path.join(root, "postgres.log"))
    )


def _postgres_start_any_port(bindir: str, user: _PgUser, root: str, port: int | None,
                             timeout: float) -> tuple[subprocess.Popen, int]:
    """_postgres_start on `port` (or a free one), retrying on a lost race for the port."""
    last = ""
    for attempt in range(5):
        if port is None or attempt > 0:
            port = free_port()
        proc = _postgres_start(bindir, user, root, port, timeout)
        if proc is not None:
            return proc, port
        last = _tail(os.path.join(root, "postgres.log"))
        if "could not bind" not in last and "Address already in use" not in last:
            break
    raise HarnessError(f"PostgreSQL in {root} did not start; log tail:\n{last}")


def _postgres_stop(proc: subprocess.Popen | None, sig: int = signal.SIGINT,
                   timeout: float = 30.0) -> int | None:
    """Signal a postmaster (SIGINT = fast shutdown, SIGQUIT = immediate) and reap it."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def _publish(data: str, target: str) -> None:
    """Copy a stopped cluster's data directory to `target` atomically: copied next to it, then
    renamed, so concurrent tests see a whole template or none. When two race, the loser's
    rename fails on the now non-empty target and its copy goes; the winner's is as good."""
    staging = tempfile.mkdtemp(prefix=".staging-", dir=os.path.dirname(target))
    os.rmdir(staging)
    try:
        _run_checked(["cp", "-a", data, staging], "copying a PostgreSQL template")
        try:
            os.rename(staging, target)
            staging = None
        except OSError:
            if not os.path.isfile(os.path.join(target, "PG_VERSION")):
                raise
    finally:
        _rmtree(staging)


class PgCluster:
    """A private PostgreSQL server for one test (or one test module).

    `with PgCluster() as pg:` starts it and removes it afterwards. `url` is a libpq URI for the
    superuser `atrium` on database `atrium`; `psql()` runs SQL through it.
    """

    # Settings for a disposable server: durability off, small memory, room for many pools
    # (pg-cluster.sh adds listen_addresses, the port and the socket directory).
    SETTINGS = {
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "shared_buffers": "32MB",
        "max_connections": "200",
        "log_min_messages": "warning",
        "log_line_prefix": "'%m [%p] %q%u@%d '",
        "timezone": "'UTC'",
        # Segments in the data directory, not /dev/shm: an immediate shutdown (the teardown,
        # and any killed test) would otherwise leave them behind in /dev/shm for good.
        "dynamic_shared_memory_type": "mmap",
        # Two 1 MB WAL files kept for reuse rather than five or more: every copy of the
        # template carries them.
        "min_wal_size": "2MB",
    }

    def __init__(self, *, name: str = "pg", start_timeout: float = 60.0,
                 template: str | None = None) -> None:
        self.name = name
        self.start_timeout = start_timeout
        # A data directory to copy instead of the base template (derived_template()).
        self.template = template
        self.bindir = _pg_bindir()
        self.user = _PgUser()
        self.port: int | None = None
        self.root: str | None = None  # temp dir: data/, sock/, postgres.log
        self.proc: subprocess.Popen | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<PgCluster {self.name} port={self.port} {state} root={self.root}>"

    # -- paths and URLs --------------------------------------------------------------------

    @property
    def data_dir(self) -> str:
        assert self.root, "the cluster has not been created yet"
        return os.path.join(self.root, "data")

    @property
    def socket_dir(self) -> str:
        assert self.root, "the cluster has not been created yet"
        return os.path.join(self.root, "sock")

    @property
    def log_path(self) -> str:
        assert self.root, "the cluster has not been created yet"
        return os.path.join(self.root, "postgres.log")

    @property
    def url(self) -> str:
        if self.port is None:
            raise HarnessError("the cluster has no port until start()")
        return f"postgresql://atrium@127.0.0.1:{self.port}/atrium"

    def url_for(self, dbname: str, user: str = "atrium") -> str:
        """Like `url`, for another database or role."""
        if self.port is None:
            raise HarnessError("the cluster has no port until start()")
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except (OSError, AssertionError):
            return ""

    # -- the cached template ---------------------------------------------------------------

    def _version(self) -> str:
        out = _run_checked([os.path.join(self.bindir, "initdb"), "--version"], "initdb --version")
        m = re.search(r"(\d+)(?:\.(\d+))?", out.stdout)
        if not m:
            raise HarnessError(f"cannot read a version from {out.stdout!r}")
        return m.group(1)  # the on-disk format is fixed within a major version

    def _template_dir(self) -> str:
        cache = os.environ.get("ATRIUM_PG_TEMPLATE_DIR")
        if not cache:
            build = os.environ.get("ATRIUM_BUILD_DIR")
            if build:
                cache = os.path.join(build, "pg-template")
            else:
                cache = os.path.join(tempfile.gettempdir(), f"atrium-pg-template-{os.geteuid()}")
        return os.path.join(os.path.abspath(cache), f"{self._version()}-v{TEMPLATE_FORMAT}")

    def _ensure_template(self) -> str:
        """Return the template data directory, creating it if no test has yet.

        initdb runs in a scratch directory under /tmp (the only place `postgres` is sure to
        reach when we are root), the database `atrium` is created in it, the server is shut
        down cleanly, and the result is copied next to the final place and renamed into it.
        rename() is atomic, so concurrent tests either see a whole template or none; when two
        race, the loser's rename fails on the now non-empty target and it drops its copy.
        """
        template = self._template_dir()
        if os.path.isfile(os.path.join(template, "PG_VERSION")):
            return template
        parent = os.path.dirname(template)
        os.makedirs(parent, exist_ok=True)

        scratch = _make_scratch("atrium-pg-initdb-")
        staging = None
        try:
            os.chmod(scratch, 0o700)
            self.user.chown_tree(scratch)
            data = os.path.join(scratch, "data")
            settings = [f"{key}={value}" for key, value in self.SETTINGS.items()]
            _run_checked(
                [PG_CLUSTER, "init", scratch,
                 "--comment", "tests/harness: a disposable test server",
                 "--initdb", "--no-sync",
                 "--initdb", "--wal-segsize=1",  # 1 MB WAL files instead of 16: less to copy
                 *settings],
                "scripts/pg-cluster.sh init",
                env=_script_env(self.bindir),
            )
            # Bring it up once to create the database, then stop it cleanly so that every
            # copy starts without crash recovery.
            proc, port = _postgres_start_any_port(self.bindir, self.user, scratch, None,
                                                  self.start_timeout)
            try:
                _run_checked(
                    [os.path.join(self.bindir, "createdb"), "-h", "127.0.0.1",
                     "-p", str(port), "-U", "atrium", "atrium"],
                    "createdb",
                )
                # Every cluster is a copy of this one: the databases no test uses (postgres,
                # template0) are two fifths of it. template1 stays, for CREATE DATABASE.
                _run_checked(
                    [os.path.join(self.bindir, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                     "-h", "127.0.0.1", "-p", str(port), "-U", "atrium", "-d", "atrium",
                     "-c", "DROP DATABASE postgres",
                     "-c", "ALTER DATABASE template0 IS_TEMPLATE false",
                     "-c", "DROP DATABASE template0",
                     "-c", "CHECKPOINT"],
                    "dropping the unused databases",
                )
            finally:
                if _postgres_stop(proc) != 0:
                    raise HarnessError("the template server did not shut down cleanly:\n"
                                       + _tail(os.path.join(scratch, "postgres.log")))

            _publish(data, template)
        finally:
            _rmtree(scratch)
        return template

    def derived_template(self, key: str, prepare: Callable[["PgCluster"], None]) -> str:
        """Return a template made from the base one by `prepare(cluster)` on a running copy,
        cached beside it under `key` (which must change whenever what `prepare` does could),
        for `PgCluster(template=...)`. Made and published like the base template (a clean
        shutdown, then an atomic rename); older derivations are removed once a new one is in.
        """
        base = self._ensure_template()
        target = f"{base}-{key}"
        if os.path.isfile(os.path.join(target, "PG_VERSION")):
            return target
        seed = PgCluster(name=f"template-{key}", start_timeout=self.start_timeout)
        try:
            seed.start()
            prepare(seed)
            if seed._stop_server() != 0:
                raise HarnessError("the derived template's server did not shut down cleanly:\n"
                                   + _tail(seed.log_path))
            _publish(seed.data_dir, target)
        finally:
            seed.cleanup()
        # A rebuild made the others stale; one still being copied from is at least an hour
        # old only if a suite of an older build still runs, which then keeps its copy's data.
        for old in glob.glob(f"{base}-*"):
            if old != target and time.time() - os.path.getmtime(old) > 3600:
                _rmtree(old)
        return target

    # -- lifecycle -------------------------------------------------------------------------

    def create(self) -> "PgCluster":
        """Make the data directory (from the template) without starting the server."""
        if self.root:
            return self
        template = self.template or self._ensure_template()
        self.root = _make_scratch(f"atrium-{self.name}-")
        _register(self)
        os.chmod(self.root, 0o700)
        _run_checked(["cp", "-a", template, self.data_dir], "copying the PostgreSQL template")
        os.mkdir(self.socket_dir)
        self.user.chown_tree(self.root)
        return self

    def start(self) -> "PgCluster":
        """Create the cluster if needed and start the server; returns self."""
        if self.running:
            return self
        self.create()
        self._start_server()
        return self

    def allow_replication(self) -> None:
        """Let a streaming replica connect (PgReplica): a replication line for the loopback
        in pg_hba.conf (initdb's default has one; added when missing) and a WAL level that
        keeps what a standby needs (the default, `replica`; `minimal` would need a restart,
        so it is refused)."""
        level = self.psql("SHOW wal_level").strip()
        senders = int(self.psql("SHOW max_wal_senders").strip())
        if level == "minimal" or senders < 1:
            raise HarnessError(f"cannot stream from this cluster: wal_level={level}, "
                               f"max_wal_senders={senders}")
        hba = os.path.join(self.data_dir, "pg_hba.conf")
        with open(hba, encoding="utf-8") as f:
            lines = [line.split() for line in f if not line.lstrip().startswith("#")]
        if not any(len(w) >= 4 and w[0] == "host" and w[1] == "replication"
                   and w[3] in ("127.0.0.1/32", "all") for w in lines):
            with open(hba, "a", encoding="utf-8") as f:
                f.write("host replication all 127.0.0.1/32 trust\n")
            self.psql("SELECT pg_reload_conf()")

    def _start_server(self) -> None:
        _register(self)
        self.proc, self.port = _postgres_start_any_port(
            self.bindir, self.user, self.root, self.port, self.start_timeout)

    def _stop_server(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int | None:
        proc, self.proc = self.proc, None
        return _postgres_stop(proc, sig, timeout)

    def stop(self, *, immediate: bool = False) -> None:
        """Stop the server (fast shutdown: sessions are cut, data is kept). Keeps the files."""
        self._stop_server(signal.SIGQUIT if immediate else signal.SIGINT)

    def restart(self) -> "PgCluster":
        """Stop and start again on the same port (a different one if it was taken meanwhile)."""
        self.stop()
        self._start_server()
        return self

    def cleanup(self) -> None:
        """Stop the server at once and delete every file of the cluster."""
        self._stop_server(signal.SIGQUIT, timeout=10)
        # The log is kept in memory for failure reports; the directory goes.
        self._final_log = "\n".join(self.log_text().splitlines()[-200:])
        _rmtree(self.root)
        _unregister(self)

    def __enter__(self) -> "PgCluster":
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc: Any) -> None:
        self.cleanup()

    # -- SQL -------------------------------------------------------------------------------

    def psql(self, sql: str, *, dbname: str = "atrium", user: str = "atrium",
             check: bool = True) -> str:
        """Run SQL (one or more statements, psql meta-commands allowed) and return stdout.

        Unaligned, tuples only: `pg.psql("SELECT 1, 2")` returns "1|2\\n". Any error stops
        the script and raises HarnessError with psql's message, unless check=False.
        """
        cmd = [
            os.path.join(self.bindir, "psql"),
            "-X", "-A", "-t", "-q",
            "-v", "ON_ERROR_STOP=1",
            "-d", self.url_for(dbname, user),
            "-f", "-",
        ]
        env = dict(os.environ)
        for var in ("PGPASSWORD", "PGSERVICE", "PGOPTIONS", "PGHOST", "PGPORT"):
            env.pop(var, None)
        proc = subprocess.run(cmd, input=sql, capture_output=True, text=True, env=env,
                              timeout=120)
        if check and proc.returncode != 0:
            raise HarnessError(f"psql failed ({proc.returncode}):\n{proc.stderr}\nSQL:\n{sql}")
        return proc.stdout


class PgReplica(PgCluster):
    """A streaming physical replica (hot standby) of a running PgCluster, for one test.

    `PgReplica(primary).start()` takes a base backup of `primary` with pg_basebackup -R (as
    the user the servers run as, into a directory of its own), which leaves standby.signal and
    primary_conninfo behind, and starts it on a free port of its own; `url` and `psql()` reach
    it read-only. cleanup() stops it and deletes its files; stop() and start() keep them, so a
    test can take the replica away and bring it back. The primary must stay on its port.
    """

    def __init__(self, primary: PgCluster, *, name: str = "replica",
                 start_timeout: float = 60.0) -> None:
        super().__init__(name=name, start_timeout=start_timeout)
        if not primary.running:
            raise HarnessError("start the primary before its replica")
        self.primary = primary

    def create(self) -> "PgReplica":
        if self.root:
            return self
        self.primary.allow_replication()
        self.root = _make_scratch(f"atrium-{self.name}-")
        _register(self)
        os.chmod(self.root, 0o700)
        os.mkdir(self.socket_dir)
        self.user.chown_tree(self.root)
        _run_checked(
            [os.path.join(self.bindir, "pg_basebackup"), "-h", "127.0.0.1",
             "-p", str(self.primary.port), "-U", "atrium", "-D", self.data_dir,
             "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"],
            "pg_basebackup", timeout=120, **self.user.popen_kwargs())
        return self

    def start(self) -> "PgReplica":
        super().start()
        self.wait_caught_up()
        return self

    def pause_replay(self) -> None:
        """Stop applying the primary's WAL (it is still received): the replica's data stays
        as it is until resume_replay()."""
        self.psql("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        self.psql("SELECT pg_wal_replay_resume()")

    def wait_caught_up(self, timeout: float = 30.0) -> None:
        """Wait until the replica has replayed everything the primary had written when this
        was called. The insert position, not the write position: the test clusters commit
        asynchronously, so a commit can still sit in the primary's WAL buffers."""
        target = self.primary.psql("SELECT pg_current_wal_insert_lsn()").strip()
        deadline = time.monotonic() + timeout
        while True:
            done = self.psql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn",
                             check=False).strip()
            if done == "t":
                return
            if time.monotonic() > deadline:
                paused = self.psql("SELECT pg_is_wal_replay_paused()", check=False).strip()
                raise HarnessError(
                    f"the replica has not replayed up to {target} after {timeout:.0f}s "
                    f"(replay paused: {paused}); log tail:\n{_tail(self.log_path)}")
            time.sleep(0.05)
