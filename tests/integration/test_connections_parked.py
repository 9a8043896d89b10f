# SPDX-License-Identifier: Apache-2.0
"""test_connections_parked.py - connections that wait for a request outside the main loop.

A host keeps the connections that have no request in progress out of GLib's main loop, in
each front's park (core/http/park.c): new connections until their request head is in, and
kept-alive ones once they were idle for 2 s. Nothing a client sends may be lost on the way in
or out of the park, and a parked connection must cost no more than its descriptor:

- 600 keep-alive clients idle past the parking time are all parked
  (`atrium_http_connections_waiting`), then each sends its next request on the same
  connection: a GET, a JSON sign-in, or a file upload (collected and streamed sizes) whose
  bytes come back whole;
- request heads that arrive a few bytes at a time, on a new and on a parked connection, a
  head longer than the park reads, and pipelined requests sent to a parked connection, are
  answered;
- parked connections that their clients close or reset give their descriptors back;
- the idle limit (header_timeout) closes parked connections as it closes the others.

Each check is about what is answered and what comes back, never about how fast.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402
from test_connections import (connect, head, metric, read_answer, reset,  # noqa: E402
                              settle, warm_baseline)

# header_timeout: longer than the walk through MANY connections one after the other, which under
# ASan on a busy machine takes over a minute (200 sign-ins); a connection that waits longer is
# closed by the idle limit, which ParkedPastTheIdleLimit tests.
IDLE = 300
PARKED_BY = 10   # seconds by which an idle connection must be parked (2 s + the sweep)
SLACK = 16       # descriptors the host may hold above its warm baseline afterwards
MANY = 600


def wait_for(what: str, check, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {within} s: {what}")


def raise_nofile(want: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))


class ParkedConnections(fixtures.SharedHost):
    """A host with a 30-second idle limit, one school with the files module, a teacher."""

    HOST_NOFILE = 4096
    HOST_ENV = {"ATRIUM_HEADER_TIMEOUT": str(IDLE)}
    EXIT_CHECK = ("listener", "connection.c", "park.c", "server", "body-pipe")

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        raise_nofile(MANY * 2 + 256)
        host, op = cls.host, cls.op_token
        fixtures.make_school(host, op, "park", modules=["groups", "files"])
        cls.user = fixtures.make_user(host, op, "park", "pia", roles=["teacher"])
        cls.token = fixtures.login(host, "pia", school="park")

    def parked(self) -> float:
        return metric(self.host, "atrium_http_connections_waiting")

    def upload(self, sock, name: str, data: bytes) -> None:
        sock.sendall(head("PUT", f"/api/v1/schools/park/files/home/{name}", self.token,
                          f"Content-Length: {len(data)}\r\nContent-Type: "
                          "application/octet-stream\r\n") + data)
        status, body = read_answer(sock)
        self.assertEqual(status, 201, f"upload of {name} on a parked connection: {body[:300]!r}")
        sock.sendall(head("GET", f"/api/v1/schools/park/files/home/{name}", self.token))
        status, back = read_answer(sock)
        self.assertEqual(status, 200, f"download of {name}")
        self.assertEqual(hashlib.sha256(back).hexdigest(), hashlib.sha256(data).hexdigest(),
                         f"{name} came back different")

    def test_idle_connections_are_parked_and_lose_nothing(self) -> None:
        base = warm_baseline(self.host, self.token)
        socks = []
        try:
            for _ in range(MANY):
                s = connect(self.host.port)
                s.sendall(head("GET", "/healthz"))
                self.assertEqual(read_answer(s)[0], 200)
                socks.append(s)
            wait_for(f"{MANY} idle connections parked", lambda: self.parked() >= MANY, PARKED_BY)
            self.assertGreaterEqual(metric(self.host, "atrium_http_connections"), MANY)

            small = os.urandom(100_000)  # collected by the front
            large = os.urandom(1 << 20)  # streamed
            for i, s in enumerate(socks):
                if i % 100 == 0:
                    self.upload(s, f"small-{i}.bin", small)
                elif i % 100 == 1:
                    self.upload(s, f"large-{i}.bin", large)
                elif i % 3 == 0:
                    body = json.dumps({"school": "park", "username": "pia",
                                       "password": fixtures.PASSWORD}).encode()
                    s.sendall(head("POST", "/api/v1/auth/login", None,
                                   f"Content-Type: application/json\r\n"
                                   f"Content-Length: {len(body)}\r\n") + body)
                    status, answer = read_answer(s)
                    self.assertEqual(status, 200, f"sign-in on parked connection {i}: {answer!r}")
                    self.assertIn("token", json.loads(answer))
                else:
                    s.sendall(head("GET", "/api/v1/me", self.token))
                    status, answer = read_answer(s)
                    self.assertEqual(status, 200, f"/me on parked connection {i}")
                    self.assertEqual(json.loads(answer)["username"], "pia")
        finally:
            for i, s in enumerate(socks):
                if i % 2:
                    s.close()
                else:
                    reset(s)
        wait_for("every connection closed", lambda: metric(self.host, "atrium_http_connections") <= 2,
                 20)
        self.assertEqual(self.parked(), 0)
        now = settle(self.host, base + SLACK)
        self.assertLessEqual(now, base + SLACK, f"{now} descriptors open, {base} before")

    def test_heads_that_come_slowly(self) -> None:
        request = head("GET", "/api/v1/me", self.token)
        # A new connection whose head arrives in pieces: it waits parked, then is answered.
        s = connect(self.host.port)
        try:
            for i in range(0, len(request), 16):
                s.sendall(request[i:i + 16])
                time.sleep(0.05)
            status, answer = read_answer(s)
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(answer)["username"], "pia")

            # The same connection, parked after its answer, gets the next head byte by byte
            # at first; then three pipelined requests at once.
            wait_for("the connection parked", lambda: self.parked() >= 1, PARKED_BY)
            for i in range(0, 24):
                s.sendall(request[i:i + 1])
                time.sleep(0.02)
            s.sendall(request[24:])
            self.assertEqual(read_answer(s)[0], 200)
            wait_for("the connection parked again", lambda: self.parked() >= 1, PARKED_BY)
            s.sendall(head("GET", "/healthz") + request + head("GET", "/no/such/route"))
            self.assertEqual([read_answer(s)[0] for _ in range(3)], [200, 200, 404])
        finally:
            s.close()

    def test_a_head_longer_than_the_park_reads(self) -> None:
        # The park hands a connection over after 16 KiB even without the head's end; the
        # rest comes from the socket.
        s = connect(self.host.port)
        try:
            pad = "x" * 20000
            request = head("GET", "/api/v1/me", self.token, f"X-Pad: {pad}\r\n")
            s.sendall(request[:9000])
            time.sleep(0.2)
            s.sendall(request[9000:])
            status, answer = read_answer(s)
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(answer)["username"], "pia")
        finally:
            s.close()

    def test_an_empty_line_before_a_parked_request(self) -> None:
        # RFC 9112 section 2.2: a server ignores an empty line before a request line (some
        # clients send CRLF after a body).
        s = connect(self.host.port)
        try:
            s.sendall(head("GET", "/healthz"))
            self.assertEqual(read_answer(s)[0], 200)
            wait_for("the connection parked", lambda: self.parked() >= 1, PARKED_BY)
            s.sendall(b"\r\n" + head("GET", "/api/v1/me", self.token))
            self.assertEqual(read_answer(s)[0], 200)
        finally:
            s.close()

    def test_clients_that_leave_while_parked(self) -> None:
        base = warm_baseline(self.host, self.token)
        socks = []
        for i in range(300):
            s = connect(self.host.port)
            if i % 3:  # the others never send anything: parked from their accept
                s.sendall(head("GET", "/healthz"))
                self.assertEqual(read_answer(s)[0], 200)
            socks.append(s)
        wait_for("300 connections parked", lambda: self.parked() >= 300, PARKED_BY)
        for i, s in enumerate(socks):
            if i % 2:
                s.close()
            else:
                reset(s)
        wait_for("the parked connections closed", lambda: self.parked() == 0, 20)
        self.assertLessEqual(metric(self.host, "atrium_http_connections"), 2)
        now = settle(self.host, base + SLACK)
        self.assertLessEqual(now, base + SLACK, f"{now} descriptors open, {base} before")


class ParkedPastTheIdleLimit(fixtures.SharedHost):
    """A 4-second idle limit: connections are parked after 2 s, then closed at 4 s."""

    HOST_ENV = {"ATRIUM_HEADER_TIMEOUT": "4"}
    EXIT_CHECK = ("listener", "connection.c", "park.c", "server")

    def test_idle_limit_closes_parked_connections(self) -> None:
        socks = []
        for i in range(20):
            s = connect(self.host.port, timeout=20)
            if i % 2:
                s.sendall(head("GET", "/healthz"))
                self.assertEqual(read_answer(s)[0], 200)
            socks.append(s)
        wait_for("20 connections parked", lambda: metric(self.host,
                 "atrium_http_connections_waiting") >= 20, PARKED_BY)
        started = time.monotonic()
        for s in socks:
            try:
                self.assertEqual(s.recv(1), b"", "the host sent something unasked")
            except ConnectionResetError:
                pass
            s.close()
        self.assertLess(time.monotonic() - started, 15)
        self.assertEqual(metric(self.host, "atrium_http_connections_waiting"), 0)


if __name__ == "__main__":
    harness.main()
