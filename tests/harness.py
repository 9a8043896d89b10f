# SPDX-License-Identifier: Apache-2.0
"""harness.py - throwaway PostgreSQL clusters and atriumd hosts for the integration tests.

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
port, with trust authentication for the superuser `atrium` and a database `atrium`. initdb is
slow (about a second), so the first cluster of a build initialises a template under
$ATRIUM_BUILD_DIR/pg-template/ and every later one copies it. When the server binaries are
missing the harness raises: an integration test never skips for want of PostgreSQL.

Clusters and hosts keep their files in /dev/shm when it has room (copying a data directory
there is ten times faster than to disk), else /tmp; ATRIUM_TEST_TMPDIR overrides. PostgreSQL
refuses to run as root, so under root (as in CI) the server runs as Debian's `postgres` user,
which owns its cluster's directory. The server is started directly rather
than through pg_ctl, which would put it in a session of its own: as our child it stays in the
test's process group, which meson kills on a timeout, so no server outlives a killed test.
Everything a test started is also stopped at interpreter exit, SIGTERM and SIGHUP included.

Only the standard library is used: the machines have no pip.
"""

from __future__ import annotations

import atexit
import glob
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from typing import Any, Mapping, Sequence

__all__ = [
    "PgCluster",
    "Atriumd",
    "Response",
    "HarnessError",
    "TestCase",
    "assert_problem",
    "free_port",
    "main",
]

# Bump when the recipe for the cached template changes, so old caches are not reused.
TEMPLATE_FORMAT = 1

SOURCE_DIR = os.environ.get("ATRIUM_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))
)


class HarnessError(RuntimeError):
    """Something the harness needs is missing or did not start; the message says what."""


# ------------------------------------------------------------------------------------------
# Process bookkeeping: everything started here is stopped at exit.
# ------------------------------------------------------------------------------------------

_live_lock = threading.Lock()
_live: list[Any] = []  # PgCluster and Atriumd objects with something to clean up
_started: list[Any] = []  # every Atriumd/PgCluster ever started, for logs on failure


def _register(obj: Any) -> None:
    with _live_lock:
        if obj not in _live:
            _live.append(obj)
        if obj not in _started:
            _started.append(obj)


def _unregister(obj: Any) -> None:
    with _live_lock:
        if obj in _live:
            _live.remove(obj)


@atexit.register
def _cleanup_all() -> None:
    # Hosts first: they hold connections that a fast shutdown would otherwise cut under them.
    with _live_lock:
        objs = list(reversed(_live))
    for obj in sorted(objs, key=lambda o: 0 if isinstance(o, Atriumd) else 1):
        try:
            obj.cleanup()
        except Exception as exc:  # keep going: the rest still has to be torn down
            print(f"harness: cleanup of {obj!r} failed: {exc}", file=sys.stderr)


def _exit_on_signal(signum: int, _frame: Any) -> None:
    # Raising SystemExit unwinds the test (its `with` blocks run) and then runs atexit.
    raise SystemExit(128 + signum)


def _install_signal_handlers() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) in (signal.SIG_DFL, None):
            signal.signal(sig, _exit_on_signal)


_install_signal_handlers()


# ------------------------------------------------------------------------------------------
# Small helpers
# ------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago.

    There is a window between closing the probe socket and the server binding it; callers
    that start servers retry on a bind failure instead of pretending the window is not there.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: str, lines: int = 40) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _scratch_base() -> str:
    """Where clusters live: fast, reachable by `postgres`, short enough for a socket path.

    /dev/shm when it has room: creating the thousand-odd files of a data directory there is an
    order of magnitude faster than on a disk-backed /tmp (1.3 s against 0.1 s per cluster,
    measured on the 2-core CI machine), and with fsync off nothing needs a disk anyway.
    $ATRIUM_TEST_TMPDIR overrides the choice.
    """
    override = os.environ.get("ATRIUM_TEST_TMPDIR")
    if override:
        return override
    try:
        st = os.statvfs("/dev/shm")
        if os.access("/dev/shm", os.W_OK | os.X_OK) and st.f_bavail * st.f_frsize > 2 << 30:
            return "/dev/shm"
    except OSError:
        pass
    tmp = tempfile.gettempdir()
    if _running_as_root() or len(tmp) > 60:
        return "/tmp"  # world-traversable, and short enough for the 107-byte socket limit
    return tmp


def _make_scratch(prefix: str) -> str:
    """A fresh private directory under _scratch_base(), marked with our pid.

    Teardown removes it; but a test killed with SIGKILL cannot clean up, and in /dev/shm a
    leftover costs memory until reboot. So each new directory first sweeps away the ones
    whose owner process is gone.
    """
    base = _scratch_base()
    for entry in glob.glob(os.path.join(base, "atrium-*")):
        try:
            with open(os.path.join(entry, ".owner"), encoding="ascii") as f:
                owner = int(f.read().strip())
            os.kill(owner, 0)
        except ProcessLookupError:
            _rmtree(entry)  # its owner died without cleaning up
        except (OSError, ValueError):
            pass  # not ours to judge: unreadable, half-written, or owned by another user
    path = tempfile.mkdtemp(prefix=prefix, dir=base)
    with open(os.path.join(path, ".owner"), "w", encoding="ascii") as f:
        f.write(f"{os.getpid()}\n")
    return path


def _rmtree(path: str | None) -> None:
    if path and os.path.exists(path):
        shutil.rmtree(path, ignore_errors=True)


# ------------------------------------------------------------------------------------------
# PostgreSQL
# ------------------------------------------------------------------------------------------


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
        proc = subprocess.Popen(
            [
                os.path.join(bindir, "postgres"),
                "-D", data,
                "-p", str(port),
                "-k", os.path.join(root, "sock"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            **user.popen_kwargs(),
        )
    # postmaster.pid's 8th line becomes "ready" once connections are accepted (PG >= 10).
    pidfile = os.path.join(data, "postmaster.pid")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        try:
            with open(pidfile, encoding="utf-8") as f:
                lines = f.read().splitlines()
            if len(lines) >= 8 and lines[0].strip() == str(proc.pid) and lines[7].strip() == "ready":
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


class PgCluster:
    """A private PostgreSQL server for one test (or one test module).

    `with PgCluster() as pg:` starts it and removes it afterwards. `url` is a libpq URI for the
    superuser `atrium` on database `atrium`; `psql()` runs SQL through it.
    """

    # Settings for a disposable server: durability off, small memory, room for many pools.
    SETTINGS = {
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "shared_buffers": "32MB",
        "max_connections": "200",
        "listen_addresses": "'127.0.0.1'",
        "log_min_messages": "warning",
        "log_line_prefix": "'%m [%p] %q%u@%d '",
        "timezone": "'UTC'",
        # Segments in the data directory, not /dev/shm: an immediate shutdown (the teardown,
        # and any killed test) would otherwise leave them behind in /dev/shm for good.
        "dynamic_shared_memory_type": "mmap",
    }

    def __init__(self, *, name: str = "pg", start_timeout: float = 60.0) -> None:
        self.name = name
        self.start_timeout = start_timeout
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
            _run_checked(
                [
                    os.path.join(self.bindir, "initdb"),
                    "-D", data,
                    "-A", "trust",
                    "-U", "atrium",
                    "-E", "UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                    "--wal-segsize=1",  # 1 MB WAL files instead of 16: less to copy
                ],
                "initdb",
                **self.user.popen_kwargs(),
            )
            with open(os.path.join(data, "postgresql.conf"), "a", encoding="utf-8") as f:
                f.write("\n# tests/harness.py: a disposable test server\n")
                for key, value in self.SETTINGS.items():
                    f.write(f"{key} = {value}\n")
            # Bring it up once to create the database, then stop it cleanly so that every
            # copy starts without crash recovery.
            os.mkdir(os.path.join(scratch, "sock"))
            self.user.chown_tree(scratch)
            proc, port = _postgres_start_any_port(self.bindir, self.user, scratch, None,
                                                  self.start_timeout)
            try:
                _run_checked(
                    [os.path.join(self.bindir, "createdb"), "-h", "127.0.0.1",
                     "-p", str(port), "-U", "atrium", "atrium"],
                    "createdb",
                )
            finally:
                if _postgres_stop(proc) != 0:
                    raise HarnessError("the template server did not shut down cleanly:\n"
                                       + _tail(os.path.join(scratch, "postgres.log")))

            staging = tempfile.mkdtemp(prefix=".staging-", dir=parent)
            os.rmdir(staging)
            _run_checked(["cp", "-a", data, staging], "copying the PostgreSQL template")
            try:
                os.rename(staging, template)
                staging = None
            except OSError:
                if not os.path.isfile(os.path.join(template, "PG_VERSION")):
                    raise
                # Another test won the race; its template is as good as ours.
        finally:
            _rmtree(scratch)
            _rmtree(staging)
        return template

    # -- lifecycle -------------------------------------------------------------------------

    def create(self) -> "PgCluster":
        """Make the data directory (from the template) without starting the server."""
        if self.root:
            return self
        template = self._ensure_template()
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


# ------------------------------------------------------------------------------------------
# HTTP responses
# ------------------------------------------------------------------------------------------


class Headers(dict):
    """A case-insensitive header dict; repeated headers are joined with ", "."""

    def __init__(self, items: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__()
        for k, v in items:
            key = k.lower()
            if key in self:
                super().__setitem__(key, super().__getitem__(key) + ", " + v)
            else:
                super().__setitem__(key, v)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key.lower(), value)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


class Response:
    """One HTTP response: status, headers (case-insensitive), body (bytes)."""

    def __init__(self, status: int, reason: str, headers: Headers, body: bytes) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-case ("" if absent)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise AssertionError(
                f"response body is not JSON ({exc}): {self.status} {self.body[:500]!r}"
            ) from None

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.content_type} {self.body[:200]!r}>"


# ------------------------------------------------------------------------------------------
# The host
# ------------------------------------------------------------------------------------------


def _atriumd_bin() -> str:
    path = os.environ.get("ATRIUM_BIN")
    if not path:
        build = os.environ.get("ATRIUM_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
        path = os.path.join(build, "core", "atriumd")
    if not os.access(path, os.X_OK):
        raise HarnessError(f"atriumd not found at {path} (set ATRIUM_BIN or build first)")
    return path


def _default_plugin_dir() -> str:
    return os.environ.get("ATRIUM_PLUGIN_DIR") or os.path.join(
        os.path.dirname(os.path.dirname(_atriumd_bin())), "plugins"
    )


class Atriumd:
    """One `atriumd serve` process on a free loopback port.

    db is a PgCluster (started if it is not), a libpq URL, or None to leave
    ATRIUM_DATABASE_URL unset. `args` go before the subcommand (`--strict`, `--config F`);
    `env` is added to, and overrides, the environment the harness builds. `nofile` limits
    the open file descriptors of `serve`, as `ulimit -n` would.
    """

    def __init__(
        self,
        db: PgCluster | str | None,
        *,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        plugin_dir: str | None = None,
        start_timeout: float = 20.0,
        binary: str | None = None,
        nofile: int | None = None,
    ) -> None:
        self.db = db
        self.nofile = nofile  # RLIMIT_NOFILE for serve, like `ulimit -n` (None: inherited)
        self.args = list(args)
        self.extra_env = dict(env or {})
        self.binary = binary or _atriumd_bin()
        self.plugin_dir = plugin_dir or _default_plugin_dir()
        self.start_timeout = start_timeout
        self.dir = _make_scratch("atrium-host-")
        self.data_dir = os.path.join(self.dir, "data")
        os.mkdir(self.data_dir)
        self.log_path = os.path.join(self.dir, "atriumd.log")
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None
        _register(self)

    def __repr__(self) -> str:
        return f"<Atriumd {self.url} pid={self.proc.pid if self.proc else None}>"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def env(self) -> dict[str, str]:
        """The environment atriumd runs with (serve and run() alike)."""
        env = dict(os.environ)
        if isinstance(self.db, PgCluster):
            self.db.start()
            env["ATRIUM_DATABASE_URL"] = self.db.url
        elif isinstance(self.db, str):
            env["ATRIUM_DATABASE_URL"] = self.db
        else:
            env.pop("ATRIUM_DATABASE_URL", None)
        env["ATRIUM_LISTEN"] = f"127.0.0.1:{self.port}"
        env["ATRIUM_PLUGIN_DIR"] = self.plugin_dir
        env["ATRIUM_DATA_DIR"] = self.data_dir
        env.update(self.extra_env)
        return env

    def log_text(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> "Atriumd":
        """Start `atriumd serve` and wait until GET /healthz answers 200."""
        if self.proc and self.proc.poll() is None:
            return self
        for attempt in range(3):
            if attempt:
                self.port = free_port()
            if self._try_start():
                return self
            # Retry only a lost race for the port; any other early exit is the test's news.
            if not re.search(r"address already in use|could not bind",
                             _tail(self.log_path, 20), re.I):
                break
        raise HarnessError(
            f"atriumd exited during startup with status {self.returncode}; log tail:\n"
            + _tail(self.log_path)
        )

    def _try_start(self) -> bool:
        with open(self.log_path, "ab") as log:
            log.write(f"--- harness: starting on port {self.port}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [self.binary, *self.args, "serve"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env(),
                preexec_fn=self._limit_fds if self.nofile else None,
            )
        self.returncode = None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.returncode = self.proc.returncode
                return False
            try:
                if self.request("GET", "/healthz", timeout=2).status == 200:
                    return True
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.05)
        self.kill()
        raise HarnessError(
            f"atriumd did not answer GET /healthz with 200 within {self.start_timeout:.0f}s;"
            f" log tail:\n{_tail(self.log_path)}"
        )

    def _limit_fds(self) -> None:
        import resource  # in the child, between fork and exec
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

    def resources(self) -> dict[str, int]:
        """What the serving process holds now: open descriptors, threads, resident KiB."""
        pid = self.pid
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        status = {}
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                key, _, value = line.partition(":")
                status[key] = value.split()
        return {"fds": fds, "threads": int(status["Threads"][0]),
                "rss_kib": int(status["VmRSS"][0])}

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then wait for the drain; returns the exit status (negative: a signal).

        Raises HarnessError (after SIGKILL) if the host does not exit within `timeout`.
        """
        proc = self.proc
        if proc is None:
            raise HarnessError("atriumd was never started")
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                self.returncode = proc.returncode
                raise HarnessError(
                    f"atriumd did not exit within {timeout:.0f}s of SIGTERM; killed. Log tail:\n"
                    + _tail(self.log_path)
                ) from None
        self.returncode = proc.returncode
        return proc.returncode

    def kill(self) -> int | None:
        """SIGKILL, no drain; returns the exit status."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        self.returncode = proc.returncode
        return proc.returncode

    def cleanup(self) -> None:
        """Stop the host (SIGTERM, then SIGKILL after 5 s) and remove its files."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            self.returncode = proc.returncode
        # The log is kept in memory for failure reports; the directory goes.
        self._final_log = "\n".join(self.log_text().splitlines()[-200:])
        _rmtree(self.dir)
        _unregister(self)

    def __enter__(self) -> "Atriumd":
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc: Any) -> None:
        self.cleanup()

    # -- talking to it ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
        timeout: float = 30.0,
    ) -> Response:
        """Send one request on a fresh connection and read the whole response.

        body: dict or list → JSON with Content-Type application/json; bytes or str → sent as
        they are. token → `Authorization: Bearer <token>`.
        """
        hdrs = dict(headers or {})
        lower = {k.lower() for k in hdrs}
        payload: bytes | None
        if body is None:
            payload = None
        elif isinstance(body, (bytes, bytearray)):
            payload = bytes(body)
        elif isinstance(body, str):
            payload = body.encode("utf-8")
        else:
            payload = json.dumps(body).encode("utf-8")
            if "content-type" not in lower:
                hdrs["Content-Type"] = "application/json"
        if token is not None and "authorization" not in lower:
            hdrs["Authorization"] = f"Bearer {token}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=payload, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, resp.reason, Headers(resp.getheaders()), data)
        finally:
            conn.close()

    def run(
        self,
        args: Sequence[str],
        input: str | bytes | None = None,
        timeout: float = 120.0,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess:
        """Run another subcommand (`["migrate"]`, `["operator", "create", "admin"]`) with the
        same environment and global arguments; returns the CompletedProcess (text mode)."""
        run_env = self.env()
        run_env.update(env or {})
        if isinstance(input, bytes):
            input = input.decode("utf-8")
        return subprocess.run(
            [self.binary, *self.args, *args],
            input=input,
            capture_output=True,
            text=True,
            env=run_env,
            timeout=timeout,
            stdin=None if input is not None else subprocess.DEVNULL,
        )


# ------------------------------------------------------------------------------------------
# Assertions and the runner
# ------------------------------------------------------------------------------------------


def assert_problem(resp: Response, status: int, type_suffix: str | None = None) -> dict:
    """Check that resp is an RFC 9457 problem with this status; return the parsed body."""
    where = f"{resp.status} {resp.headers.get('content-type')!r} {resp.body[:500]!r}"
    if resp.status != status:
        raise AssertionError(f"expected status {status}, got {where}")
    if resp.content_type != "application/problem+json":
        raise AssertionError(f"expected Content-Type application/problem+json, got {where}")
    problem = resp.json()
    if not isinstance(problem, dict):
        raise AssertionError(f"problem body is not a JSON object: {where}")
    for field in ("type", "title", "status"):
        if field not in problem:
            raise AssertionError(f"problem lacks {field!r}: {where}")
    if not isinstance(problem["type"], str) or not isinstance(problem["title"], str):
        raise AssertionError(f"problem type and title must be strings: {where}")
    if problem["status"] != status or isinstance(problem["status"], bool):
        raise AssertionError(f"problem status {problem['status']!r} != HTTP status {status}")
    if type_suffix is not None and not problem["type"].endswith(type_suffix):
        raise AssertionError(f"problem type {problem['type']!r} does not end in {type_suffix!r}")
    return problem


class TestCase(unittest.TestCase):
    """unittest.TestCase with the harness assertions as methods."""

    maxDiff = None

    def assertProblem(self, resp: Response, status: int, type_suffix: str | None = None) -> dict:
        return assert_problem(resp, status, type_suffix)


def _dump_logs(objs: Sequence[Any]) -> None:
    """Show what the servers said; meson prints it with --print-errorlogs."""
    for obj in objs:
        if isinstance(obj, Atriumd):
            text = getattr(obj, "_final_log", None) or obj.log_text()
            label = f"atriumd on port {obj.port}"
        else:
            text = getattr(obj, "_final_log", None) or obj.log_text()
            label = f"PostgreSQL {obj.name} on port {obj.port}"
        if text.strip():
            tail = "\n".join(text.splitlines()[-60:])
            print(f"\n----- {label} (last 60 lines) -----\n{tail}\n-----", file=sys.stderr)
    sys.stderr.flush()


class _Result(unittest.TextTestResult):
    """Prints, right after a failing test, the logs of the servers that test started."""

    _mark = 0

    def startTest(self, test: unittest.TestCase) -> None:
        with _live_lock:
            self._mark = len(_started)
        super().startTest(test)

    def _show_logs(self) -> None:
        with _live_lock:
            objs = _started[self._mark:]
            # A failing setUpClass has no startTest; the next test starts counting afresh.
            self._mark = len(_started)
        _dump_logs(objs)

    def addError(self, test: Any, err: Any) -> None:
        super().addError(test, err)
        self._show_logs()

    def addFailure(self, test: Any, err: Any) -> None:
        super().addFailure(test, err)
        self._show_logs()


def main() -> None:
    """Run the calling module's tests; exit 0 only if every test passed.

    A run with no test at all fails as well: a module that lost its tests should not pass.
    """
    runner = unittest.TextTestRunner(verbosity=2, resultclass=_Result)
    prog = unittest.main(module="__main__", testRunner=runner, exit=False)
    result = prog.result
    ok = result.wasSuccessful() and result.testsRun > 0
    if result.testsRun == 0:
        print("harness: no test ran", file=sys.stderr)
    sys.stdout.flush()
    sys.exit(0 if ok else 1)
