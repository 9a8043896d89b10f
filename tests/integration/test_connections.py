# SPDX-License-Identifier: Apache-2.0
"""test_connections.py - connections as browsers, apps and proxies treat them.

Clients keep connections alive and close them whenever they like: after one answer, in the
middle of their headers, of an upload or of a download, with a FIN or with a reset. Whatever
they do, the host must answer every request it was sent, free the connection's descriptor
and memory, and keep serving. These tests run hosts under a low descriptor limit
(`ulimit -n`), so a leak of one descriptor per connection makes the host stop answering
within the test, and they check the process's descriptors, threads and memory afterwards:

- 2,000 keep-alive clients that each send one request and close their end;
- 500 that hang up after their headers (or halfway through a JSON body), 500 in the middle of
  a streamed upload, 200 in the middle of a 64 MiB download, and 20 that stop reading a
  download but never close;
- sign-ins whose clients left while they waited for a worker are not run;
- the keep-alive idle limit (header_timeout) between requests, also for connections that
  never send a second request or nothing at all; pipelined requests still work;
- running out of descriptors: accepting pauses (logged once per interval), open connections
  are served, and the host recovers when descriptors are freed;
- the same 2,000 clients through nginx with deploy/'s configuration (TLS, upstream
  keep-alive);
- a short soak of mixed, randomly closed connections (bench/soak keeps the long one).

Each check is about resources coming back, never about how fast: the waits are deadlines.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402
from fronts import NginxFront  # noqa: E402

IDLE = 3          # header_timeout of the hosts here: the keep-alive idle limit
BODY = 3          # body_timeout: how long a body (up or down) may make no progress
SLACK = 16        # descriptors the host may hold above its warm baseline afterwards
BIG = 64 << 20    # the download that clients abandon


# ------------------------------------------------------------------------------------------
# clients
# ------------------------------------------------------------------------------------------

def connect(port: int, timeout: float = 30.0) -> "Conn":
    sock = Conn(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(("127.0.0.1", port))
    except BaseException:
        sock.close()
        raise
    return sock


def reset(sock: socket.socket) -> None:
    """Close with a TCP reset instead of a FIN, as a killed app or a lost network does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def head(method: str, path: str, token: str | None = None, extra: str = "") -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"{method} {path} HTTP/1.1\r\nHost: atrium.test\r\n{auth}{extra}\r\n".encode()


class Conn(socket.socket):
    """A client socket that keeps one buffered reader for all its answers, so bytes read
    ahead (pipelined answers) are not lost between them, and closes it with itself."""

    rfile: Any = None

    def reader(self) -> Any:
        if self.rfile is None:
            self.rfile = self.makefile("rb")
        return self.rfile

    def close(self) -> None:
        if self.rfile is not None:
            self.rfile.close()
            self.rfile = None
        super().close()


class _Buffered:
    """What http.client.HTTPResponse reads from: the connection's own reader, which
    HTTPResponse must not close after one answer."""

    def __init__(self, sock: Conn) -> None:
        self.sock = sock

    def makefile(self, mode: str) -> Any:
        return _NoClose(self.sock.reader())


class _NoClose:
    def __init__(self, reader: Any) -> None:
        self._reader = reader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)

    def close(self) -> None:
        pass


def read_answer(sock: "Conn") -> tuple[int, bytes]:
    """Read one HTTP/1.1 answer from a keep-alive connection: (status, body)."""
    resp = http.client.HTTPResponse(_Buffered(sock))
    resp.begin()
    body = resp.read()
    return resp.status, body


def warm_baseline(host: harness.Atriumd, token: str, port: int | None = None) -> int:
    """Open the database pool and the worker threads (parallel requests), then return the
    host's descriptors: the level every later check must come back to."""
    def burst() -> None:
        for _ in range(5):
            host.request("GET", "/api/v1/me", token=token)

    threads = [threading.Thread(target=burst) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return settle(host, None)


def settle(host: harness.Atriumd, limit: int | None, within: float = IDLE + 17.0) -> int:
    """Wait until the host holds at most `limit` descriptors (or, with limit None, until the
    count stops changing) and return the count; it is the caller's to judge a late one."""
    deadline = time.monotonic() + within
    last = host.resources()["fds"]
    steady = 0
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = host.resources()["fds"]
        if limit is not None and now <= limit:
            return now
        steady = steady + 1 if now == last else 0
        if limit is None and steady >= 4:
            return now
        last = now
    return last


def metric(host: harness.Atriumd, name: str) -> float:
    text = host.request("GET", "/metrics").text
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    if not match:
        raise AssertionError(f"/metrics has no {name}")
    return float(match.group(1))


class ConnectionsCase(fixtures.SharedHost):
    """A host under `ulimit -n 512` with a 3-second idle limit, one school with the files
    module, a teacher, and a 64 MiB file in the teacher's home."""

    HOST_NOFILE = 512
    HOST_ENV = {"ATRIUM_HEADER_TIMEOUT": str(IDLE), "ATRIUM_BODY_TIMEOUT": str(BODY)}
    EXIT_CHECK = ("listener", "connection.c", "server", "body-pipe")

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        host, op = cls.host, cls.op_token
        fixtures.make_school(host, op, "conn", modules=["groups", "files"])
        user = fixtures.make_user(host, op, "conn", "tina", roles=["teacher"])
        cls.token = fixtures.login(host, "tina", school="conn")
        fixtures.check(host.request("PUT", f"/api/v1/schools/conn/files/quotas/users/{user['id']}",
                                    {"bytes": 4 << 30}, token=op), 200, 201, what="quota")
        fixtures.check(host.request("PUT", "/api/v1/schools/conn/files/home/big.bin",
                                    os.urandom(1 << 20) * (BIG >> 20), token=cls.token,
                                    timeout=300), 201, what="upload the big file")

    def files(self, path: str) -> str:
        return f"/api/v1/schools/conn/files/home/{path}"

    def assert_back_to(self, base: int, what: str) -> None:
        now = settle(self.host, base + SLACK)
        self.assertLessEqual(now, base + SLACK,
                             f"{what}: {now} descriptors open, {base} before; "
                             f"{self.host.resources()}")
        # And the host still answers, on a fresh connection.
        self.assertEqual(self.host.request("GET", "/healthz").status, 200)


# ------------------------------------------------------------------------------------------

class ClientsThatClose(ConnectionsCase):
    def test_two_thousand_keep_alive_clients_that_close(self) -> None:
        base = warm_baseline(self.host, self.token)
        asks = [("GET", "/healthz", None, 200), ("GET", "/api/v1/me", self.token, 200),
                ("GET", "/no/such/route", None, 404), ("HEAD", "/healthz", None, 200),
                ("GET", "/api/v1/me", None, 401)]
        answered = 0
        for i in range(2000):
            method, path, token, status = asks[i % len(asks)]
            conn = http.client.HTTPConnection("127.0.0.1", self.host.port, timeout=30)
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            conn.request(method, path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, status, f"client {i}: {method} {path}")
            # The answer kept the connection open: the client is the one that closes it.
            self.assertNotEqual((resp.getheader("Connection") or "").lower(), "close")
            answered += 1
            if i % 2:
                conn.close()
            else:
                reset(conn.sock)
        self.assertEqual(answered, 2000)
        self.assert_back_to(base, "after 2,000 closed keep-alive connections")
        self.assertLessEqual(metric(self.host, "atrium_http_connections"), 2)

    def test_idle_limit_between_requests(self) -> None:
        # Connections that got one answer and then say nothing more, and connections that
        # never say anything: all closed by the host after the idle limit.
        quiet = []
        for _ in range(40):
            s = connect(self.host.port)
            s.sendall(head("GET", "/healthz"))
            self.assertEqual(read_answer(s)[0], 200)
            quiet.append(s)
        silent = [connect(self.host.port) for _ in range(10)]
        started = time.monotonic()
        for s in quiet + silent:
            s.settimeout(IDLE + 10)
            try:
                self.assertEqual(s.recv(1), b"", "the host sent something unasked")
            except ConnectionResetError:
                pass
            s.close()
        self.assertLess(time.monotonic() - started, IDLE + 10)

        # A client that comes back within the limit keeps its connection, many times over.
        s = connect(self.host.port)
        for _ in range(3):
            s.sendall(head("GET", "/healthz"))
            self.assertEqual(read_answer(s)[0], 200)
            time.sleep(IDLE / 3)
        s.close()

    def test_pipelined_requests(self) -> None:
        s = connect(self.host.port)
        s.sendall(head("GET", "/healthz") + head("GET", "/api/v1/me", self.token)
                  + head("GET", "/no/such/route"))
        self.assertEqual([read_answer(s)[0] for _ in range(3)], [200, 200, 404])
        s.close()


class ClientsThatHangUpEarly(ConnectionsCase):
    def test_hang_ups_after_headers_mid_upload_and_mid_download(self) -> None:
        base = warm_baseline(self.host, self.token)
        port = self.host.port

        # 500 after their headers: complete GETs (the answer finds nobody), and POSTs and
        # PUTs whose promised body never comes or stops halfway (a buffered JSON body).
        for i in range(500):
            s = connect(port)
            if i % 4 == 0:
                s.sendall(head("GET", "/api/v1/me", self.token))
            elif i % 4 == 1:
                s.sendall(head("POST", "/api/v1/auth/logout", self.token,
                               "Content-Type: application/json\r\nContent-Length: 1000\r\n"))
            elif i % 4 == 2:
                s.sendall(head("POST", "/api/v1/schools/conn/users", self.token,
                               "Content-Type: application/json\r\nContent-Length: 1000\r\n")
                          + b'{"username": "half-' + str(i).encode() + b'", "display_n')
            else:
                s.sendall(head("PUT", self.files(f"never-{i}.bin"), self.token,
                               "Content-Length: 100000\r\n"))
            reset(s) if i % 2 else s.close()

        # 500 in the middle of a streamed upload.
        chunk = os.urandom(64 << 10)
        for i in range(500):
            s = connect(port)
            s.sendall(head("PUT", self.files(f"half-{i}.bin"), self.token,
                           "Content-Length: 1048576\r\n"))
            s.sendall(chunk)
            reset(s) if i % 2 else s.close()

        # 200 in the middle of a 64 MiB download.
        for i in range(200):
            s = connect(port)
            s.sendall(head("GET", self.files("big.bin"), self.token))
            got = 0
            while got < (256 << 10):
                data = s.recv(65536)
                self.assertTrue(data, "the download ended early")
                got += len(data)
            reset(s) if i % 2 else s.close()

        self.assert_back_to(base, "after 1,200 early hang-ups")
        # Nothing half-uploaded became a file, and no upload left its temporary file.
        listing = self.host.request("GET", self.files(""), token=self.token).json()
        names = {item["name"] for item in listing["items"]}
        self.assertEqual(names, {"big.bin"}, names)
        deadline = time.monotonic() + 10
        tmp = os.path.join(self.host.data_dir, "files", "tmp")
        while os.listdir(tmp) and time.monotonic() < deadline:
            time.sleep(0.25)
        self.assertEqual(os.listdir(tmp), [])
        # The whole file is still there, whole.
        resp = self.host.request("GET", self.files("big.bin"), token=self.token, timeout=120)
        self.assertEqual((resp.status, len(resp.body)), (200, BIG))


class ClientsThatStopReading(ConnectionsCase):
    def test_a_download_nobody_reads_is_cut(self) -> None:
        # Clients whose app hung (or whose network vanished without a reset) mid-download:
        # they keep the connection open and read nothing more. body_timeout (BODY s here) after
        # the last progress the host cuts them, although they never close.
        base = warm_baseline(self.host, self.token)
        stalled = []
        for _ in range(20):
            s = connect(self.host.port)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
            s.sendall(head("GET", self.files("big.bin"), self.token))
            self.assertTrue(s.recv(65536))
            stalled.append(s)
        try:
            now = settle(self.host, base + SLACK, within=30)
            self.assertLessEqual(now, base + SLACK, self.host.resources())
        finally:
            for s in stalled:
                s.close()
        # A client that reads slowly but steadily is not cut.
        s = connect(self.host.port)
        s.sendall(head("GET", self.files("big.bin"), self.token))
        got = 0
        deadline = time.monotonic() + 2 * BODY + 1  # more than two stall checks
        while time.monotonic() < deadline:
            data = s.recv(256 << 10)
            self.assertTrue(data, "a steady reader was cut")
            got += len(data)
            time.sleep(0.05)
        self.assertLess(got, BIG, "the test read it all before the checks ran")
        s.close()


class OutOfDescriptors(fixtures.SharedHost):
    """A host with very few descriptors and a long idle limit, so silent clients pile up."""

    HOST_NOFILE = 80
    HOST_ENV = {"ATRIUM_HEADER_TIMEOUT": "60"}

    def test_survives_running_out_and_recovers(self) -> None:
        host = self.host
        keeper = connect(host.port)  # a client the host must keep serving throughout
        keeper.sendall(head("GET", "/healthz"))
        self.assertEqual(read_answer(keeper)[0], 200)
        log_before = host.log_text().count("cannot accept connections")

        # More silent clients than the host has descriptors: the rest wait in the backlog.
        hoard = [connect(host.port) for _ in range(150)]
        deadline = time.monotonic() + 20
        while host.resources()["fds"] < 75 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2.5)  # well within one report interval, many paused accept rounds

        # Existing connections are served while accepting is paused.
        for _ in range(3):
            keeper.sendall(head("GET", "/healthz"))
            self.assertEqual(read_answer(keeper)[0], 200)
        reports = host.log_text().count("cannot accept connections") - log_before
        self.assertGreaterEqual(reports, 1, "the shortage was not logged")
        self.assertLessEqual(reports, 1, "the shortage is logged in a loop")
        self.assertGreater(host.resources()["threads"], 1)

        # Descriptors come back: waiting clients and new ones are served.
        for s in hoard:
            s.close()
        fresh = connect(host.port, timeout=30)
        fresh.sendall(head("GET", "/healthz"))
        self.assertEqual(read_answer(fresh)[0], 200)
        fresh.sendall(head("GET", "/metrics"))
        status, body = read_answer(fresh)
        self.assertEqual(status, 200)
        failures = re.search(rb"^atrium_http_accept_failures_total (\d+)$", body, re.M)
        self.assertTrue(failures and int(failures.group(1)) >= 1, body[:2000])
        fresh.close()
        keeper.close()


class AbandonedInTheQueue(fixtures.SharedHost):
    """One password worker: sign-ins queue behind each other. Clients that give up while
    their request waits (as clients do in a rush, before they retry) cost no worker time."""

    HOST_ENV = {"ATRIUM_SLOW_WORKERS": "1"}

    def test_requests_of_clients_that_left_are_not_run(self) -> None:
        fixtures.make_school(self.host, self.op_token, "queue")
        fixtures.make_user(self.host, self.op_token, "queue", "una", roles=["student"])
        body = ('{"school":"queue","username":"una","password":"%s"}' % fixtures.PASSWORD
                ).encode()
        login = head("POST", "/api/v1/auth/login", None,
                     f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n") + body
        before = self.host.log_text().count("/api/v1/auth/login 499")
        stayer = connect(self.host.port)
        stayer.sendall(login)
        leavers = []
        for _ in range(20):
            s = connect(self.host.port)
            s.sendall(login)
            leavers.append(s)
        for s in leavers:
            s.close()
        # The one that waited gets its answer; the ones that left were skipped, not run.
        self.assertEqual(read_answer(stayer)[0], 200)
        stayer.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            skipped = self.host.log_text().count("/api/v1/auth/login 499") - before
            if skipped >= 15:
                break
            time.sleep(0.2)
        self.assertGreaterEqual(skipped, 15, self.host.log_text()[-3000:])
        self.assertEqual(self.host.request("GET", "/healthz").status, 200)


# ------------------------------------------------------------------------------------------
# through nginx
# ------------------------------------------------------------------------------------------

class ThroughNginx(fixtures.SharedHost):
    """The same clients, in front of deploy/'s nginx configuration (upstream keep-alive 10 s,
    shorter than atriumd's default 15 s idle limit, which this host keeps)."""

    HOST_NOFILE = 512

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.front = NginxFront([cls.host.port])

    @classmethod
    def tearDownClass(cls) -> None:
        if getattr(cls, "front", None):
            cls.front.stop()
        super().tearDownClass()

    @classmethod
    def https(cls, method: str, path: str, token: str | None = None,
              body: bytes | None = None, hang_up: bool = False) -> int:
        return cls.front.request(method, path, token, body, hang_up)

    def test_two_thousand_clients_through_nginx(self) -> None:
        fixtures.make_school(self.host, self.op_token, "edge")
        fixtures.make_user(self.host, self.op_token, "edge", "tom", roles=["student"])
        token = fixtures.login(self.host, "tom", school="edge")
        base = warm_baseline(self.host, token)
        for i in range(2000):
            if i % 4 == 0:
                status = self.https("GET", "/api/v1/me", token)
            elif i % 4 == 1:
                status = self.https("GET", "/healthz", hang_up=True)
            elif i % 4 == 2:
                status = self.https("GET", "/no/such/route")
            else:
                status = self.https("POST", "/api/v1/auth/logout", body=b"{}")
            self.assertEqual(status, [200, 200, 404, 401][i % 4], f"client {i}")
        # nginx keeps idle upstream connections for 10 s and then closes them; atriumd
        # must free each one it is left with.
        now = settle(self.host, base + SLACK, within=25)
        self.assertLessEqual(now, base + SLACK, self.host.resources())
        errors = [line for line in self.front.log("error.log").splitlines()
                  if "upstream" in line]
        self.assertEqual(errors, [], "nginx saw atriumd fail a connection")


# ------------------------------------------------------------------------------------------
# a short soak
# ------------------------------------------------------------------------------------------

def asan_build() -> bool:
    out = subprocess.run(["ldd", harness._atriumd_bin()], capture_output=True, text=True).stdout
    return "libasan" in out


class Soak(ConnectionsCase):
    SECONDS = float(os.environ.get("ATRIUM_SOAK_SECONDS", "15"))
    CLIENTS = 6

    def client(self, seed: int, stop: float, errors: list) -> None:
        rnd = random.Random(seed)
        port = self.host.port
        while time.monotonic() < stop:
            s = None
            try:
                kind = rnd.randrange(6)
                s = connect(port)
                if kind == 0:  # a keep-alive session of a few requests, then gone
                    for _ in range(rnd.randint(1, 8)):
                        s.sendall(head("GET", rnd.choice(["/healthz", "/api/v1/me"]),
                                       self.token))
                        if read_answer(s)[0] != 200:
                            errors.append("session answer")
                elif kind == 1:  # half a request line
                    s.sendall(b"GET /api/v1/m")
                elif kind == 2:  # part of an upload
                    s.sendall(head("PUT", self.files(f"soak-{seed}.bin"), self.token,
                                   "Content-Length: 300000\r\n") + os.urandom(rnd.randint(0, 200000)))
                elif kind == 3:  # part of a download
                    s.sendall(head("GET", self.files("big.bin"), self.token))
                    s.recv(rnd.randint(1, 1 << 20))
                elif kind == 4:  # a whole small upload
                    body = os.urandom(rnd.randint(0, 8192))
                    s.sendall(head("PUT", self.files(f"small-{seed}.bin"), self.token,
                                   f"Content-Length: {len(body)}\r\n") + body)
                    if read_answer(s)[0] not in (200, 201):
                        errors.append("small upload")
                else:  # open, wait a little, leave
                    time.sleep(rnd.random() / 5)
                reset(s) if rnd.random() < 0.5 else s.close()
            except OSError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                if s is not None:
                    s.close()

    def test_soak(self) -> None:
        base = warm_baseline(self.host, self.token)
        start = self.host.resources()
        stop = time.monotonic() + self.SECONDS
        errors: list[str] = []
        threads = [threading.Thread(target=self.client, args=(i, stop, errors))
                   for i in range(self.CLIENTS)]
        for t in threads:
            t.start()
        samples = []
        while any(t.is_alive() for t in threads):
            samples.append(self.host.resources())
            time.sleep(1)
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assert_back_to(base, "after the soak")
        end = self.host.resources()
        report = os.environ.get("ATRIUM_SOAK_REPORT")  # bench/soak/run.sh reads it
        with open(report, "w") if report else open(os.devnull, "w") as out:
            print("second fds threads rss_kib", file=out)
            for i, sample in enumerate([start, *samples, end]):
                print(i, sample["fds"], sample["threads"], sample["rss_kib"], file=out)
        print(f"soak: {self.SECONDS:.0f} s, {self.CLIENTS} clients; start {start}, "
              f"peak fds {max(x['fds'] for x in samples)}, "
              f"peak threads {max(x['threads'] for x in samples)}, end {end}", file=sys.stderr)
        # Threads: the pools' own, never one per connection.
        peak_threads = max(s["threads"] for s in samples)
        self.assertLessEqual(peak_threads, start["threads"] + 16 + 2, samples[-5:])
        self.assertLessEqual(max(s["fds"] for s in samples), 512)
        if not asan_build():  # ASan's quarantine holds freed memory on purpose
            self.assertLess(end["rss_kib"] - start["rss_kib"], 32 << 10,
                            f"RSS grew from {start['rss_kib']} to {end['rss_kib']} KiB")


if __name__ == "__main__":
    harness.main()
