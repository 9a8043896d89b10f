# SPDX-License-Identifier: Apache-2.0
"""harness/host.py - Atriumd, one real `atriumd serve` on a free loopback port, and the
Response (with case-insensitive Headers) its request() returns.
"""

from __future__ import annotations

import glob
import hashlib
import http.client
import json
import os
import re
import signal
import subprocess
import time
from typing import Any, Mapping, Sequence

from .common import (
    SOURCE_DIR,
    HarnessError,
    _make_scratch,
    _register,
    _rmtree,
    _tail,
    _unregister,
    free_port,
)
from .pg import PgCluster

#: The Argon2id cost test hosts hash passwords with (see Atriumd.env).
WEAK_ARGON2 = {"ATRIUM_ARGON2_MEMORY_KIB": "64", "ATRIUM_ARGON2_ITERATIONS": "1",
               "ATRIUM_ARGON2_ALLOW_WEAK": "1"}
#: Put in a host's env to hash at atriumd's own default cost (empty values count as unset).
DEFAULT_ARGON2 = {key: "" for key in WEAK_ARGON2}

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


def migrated_cluster(name: str = "pg") -> PgCluster:
    """A PgCluster (not started) whose database already holds the migrations of this build's
    atriumd and plugins: a copy of a template migrated once per build, so a test that only
    needs a host saves `atriumd migrate` (a few tenths of a second, more under the
    sanitizers). `serve` still checks and finds the database current. Tests of migrating
    itself take a plain PgCluster."""
    binary = _atriumd_bin()
    plugin_dir = _default_plugin_dir()
    h = hashlib.sha256()
    for path in [binary, *sorted(glob.glob(os.path.join(plugin_dir, "*.so")))]:
        st = os.stat(path)
        h.update(f"{path} {st.st_size} {st.st_mtime_ns}\n".encode())

    def migrate(pg: PgCluster) -> None:
        host = Atriumd(pg, binary=binary, plugin_dir=plugin_dir)
        try:
            proc = host.run(["migrate"])
        finally:
            host.cleanup()
        if proc.returncode != 0:
            raise HarnessError(f"atriumd migrate for the migrated template exited "
                               f"{proc.returncode}:\n{proc.stdout}{proc.stderr}")

    template = PgCluster(name=name).derived_template("m" + h.hexdigest()[:16], migrate)
    return PgCluster(name=name, template=template)


# What a host logs when a route breaks the contract the OpenAPI document states: it reads a
# query parameter it did not declare (core/pipeline/request.c), answers a body its
# response_schema does not describe, or a media type its response_type does not name
# (handle.c; test hosts run with ATRIUM_CHECK_RESPONSES=1). Every host's log is searched when
# it is cleaned up; runner.main() fails the run if any said one of them.
UNDECLARED_QUERY = "it does not declare"
UNDESCRIBED_ANSWER = "its response_schema does not describe"
UNDESCRIBED_TYPE = "its response_type does not describe"
# The routes that break the rules on purpose, to show the warnings (tests/plugins/groupsprobe).
ON_PURPOSE = ("/groupsprobe/undeclared ", "/groupsprobe/misdescribed ",
              "/groupsprobe/mistyped ")
contract_breaches: list[str] = []


def _note_breaches(log: str) -> None:
    for line in log.splitlines():
        if any(p in line for p in ON_PURPOSE):
            continue
        if ((UNDECLARED_QUERY in line or UNDESCRIBED_ANSWER in line or UNDESCRIBED_TYPE in line)
                and line not in contract_breaches):
            contract_breaches.append(line)


class Atriumd:
    """One `atriumd serve` process on a free loopback port.

    db is a PgCluster (started if it is not), a libpq URL, or None to leave
    ATRIUM_DATABASE_URL unset. `args` go before the subcommand (`--strict`, `--config F`);
    `env` is added to, and overrides, the environment the harness builds. `nofile` limits
    the open file descriptors of `serve`, as `ulimit -n` would.
    """

    CLEANUP_FIRST = True  # at exit, hosts go before the clusters they are connected to

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
        # Argon2id at OWASP's cost takes ~30 ms of a core per password, thousands of times per
        # suite run: test hosts hash with a token cost unless a test asks for the real one
        # (extra_env overrides; test_auth checks the default's PHC string).
        env.update(WEAK_ARGON2)
        # Every JSON answer is checked against its route's response_schema (a mismatch is a
        # warning that fails the run: contract_breaches).
        env["ATRIUM_CHECK_RESPONSES"] = "1"
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
        log = self.log_text()
        _note_breaches(log)
        self._final_log = "\n".join(log.splitlines()[-200:])
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
