#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Slow uploaders (issue #16, "Faults"): a correctness check, bounded in time.

Pupils on mobile connections send their uploads at about 40 KB/s. Before, every upload body
in flight held one of the 16 stream workers, so 24 such uploads kept a 40-byte upload waiting
for 12.5 s. Now a body of up to 256 KiB is collected by the front and holds no thread while
it trickles in; larger bodies each hold a stream worker, a deliberate capacity
(`stream_workers`, docs/OPERATIONS.md): more of them wait, paused, and finish later.

- Through deploy/'s nginx (which streams upload bodies: proxy_request_buffering off): 200
  uploads at 40 KB/s, 24 of them larger than 256 KiB. Meanwhile small uploads and reads are
  answered while the slow uploads are still in flight (not queued behind them; the suite has
  no timing bounds), and afterwards every upload is stored whole.
- Straight to atriumd with stream_workers = 2: four large uploads, two wait for a worker
  (atrium_pool_waiting in /metrics) and still complete; small uploads go on meanwhile.
- A client that stops sending while its small body is collected is cut after body_timeout;
  its request is logged as 499 and nothing of it is stored.
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import re
import socket
import ssl
import sys
import time

import fixtures
import harness
from fronts import NginxFront
from test_files import School

KIB = 1024
RATE = 40_000  # bytes per second, per client
PIECE = 4_000  # sent every PIECE / RATE seconds


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    body = await reader.readexactly(int(m.group(1))) if m else b""
    return status, body


class Target:
    """Where the clients connect: atriumd itself, or the nginx front over TLS."""

    def __init__(self, port: int, tls: ssl.SSLContext | None = None) -> None:
        self.port = port
        self.tls = tls

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port, ssl=self.tls,
                                             server_hostname="atrium.example.org"
                                             if self.tls else None)

    async def request(self, method: str, path: str, token: str, body: bytes = b"",
                      rate: float | None = None) -> tuple[int, bytes]:
        """One request on a connection of its own; with @rate the body goes out at that many
        bytes per second."""
        reader, writer = await self.open()
        try:
            head = (f"{method} {path} HTTP/1.1\r\nHost: atrium.example.org\r\n"
                    f"Authorization: Bearer {token}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n")
            writer.write(head.encode())
            if rate is None:
                writer.write(body)
            else:
                for i in range(0, len(body), PIECE):
                    writer.write(body[i:i + PIECE])
                    await writer.drain()
                    await asyncio.sleep(PIECE / rate)
            await writer.drain()
            return await read_answer(reader)
        finally:
            writer.close()


class SlowUploads(harness.TestCase):
    def probe_meanwhile(self, target: Target, s: School, until: asyncio.Future,
                        probe_path: str) -> asyncio.Task:
        """Every second while @until is pending: a 40-byte upload and a read, each timed
        and marked with whether @until was still pending when it was answered."""
        async def probe() -> list[tuple[str, int, float]]:
            seen = []
            n = 0
            while not until.done():
                n += 1
                for what, method, path, body in (
                        ("upload", "PUT", f"{s.base}/home/probe-{n}.txt", b"p" * 40),
                        ("read", "GET", f"{s.base}{probe_path}", b"")):
                    t0 = time.monotonic()
                    status, _ = await target.request(method, path, s.tokens["sam"], body)
                    # Answered while the slow uploads were still in flight, or after?
                    seen.append((what, status, time.monotonic() - t0, not until.done()))
                await asyncio.sleep(1.0)
            return seen
        return asyncio.ensure_future(probe())

    def check_probes(self, seen: list[tuple[str, int, float, bool]]) -> None:
        self.assertGreaterEqual(len(seen), 6, "the probes ran while the uploads did")
        for what, status, seconds, _ in seen:
            self.assertIn(status, (200, 201), f"{what} under the load answered {status}")
        # Not queued behind the slow bodies: every probe but the round in flight when the
        # last upload finished was answered while uploads were still coming in.
        # How long they took is printed for the reader (issue #16 names a second), not judged:
        # the suite has no timing bounds, and the ordering above is what a queue would break.
        print(f"probes under the load: {len(seen)}, slowest {max(x[2] for x in seen):.2f} s",
              file=sys.stderr)
        late = [(what, round(seconds, 2)) for what, _, seconds, during in seen if not during]
        self.assertLessEqual(len(late), 2, f"probes answered only after the uploads: {late} "
                                           f"(all: {[round(x[2], 2) for x in seen]})")

    def gauges(self, host: harness.Atriumd, until: asyncio.Future) -> asyncio.Task:
        """/metrics' pool gauges every 0.2 s while @until is pending (from a thread: the
        harness's client blocks)."""
        names = ("atrium_uploads_collecting", 'atrium_pool_busy{pool="stream"}',
                 'atrium_pool_waiting{pool="stream"}', 'atrium_pool_threads{pool="stream"}')

        def sample() -> dict[str, float]:
            text = host.request("GET", "/metrics").text
            got = {}
            for name in names:
                m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
                self.assertIsNotNone(m, f"/metrics has no {name}")
                got[name] = float(m.group(1))
            return got

        async def watch() -> list[dict[str, float]]:
            seen = []
            while not until.done():
                seen.append(await asyncio.to_thread(sample))
                await asyncio.sleep(0.2)
            return seen
        return asyncio.ensure_future(watch())

    def uploads(self, host: harness.Atriumd, target: Target, s: School,
                payloads: dict[str, bytes], rate: float,
                probe_path: str) -> tuple[list, list, list]:
        async def main() -> tuple[list, list, list]:
            people = [p for p in s.PEOPLE]
            jobs = [target.request("PUT", f"{s.base}/home/{name}",
                                   s.tokens[people[i % len(people)]], data, rate=rate)
                    for i, (name, data) in enumerate(payloads.items())]
            together = asyncio.ensure_future(asyncio.gather(*jobs))
            gauges = self.gauges(host, together)
            await asyncio.sleep(1.0)  # every client has started sending
            probes = self.probe_meanwhile(target, s, together, probe_path)
            answers = await together
            return answers, await probes, await gauges
        return asyncio.run(main())

    def check_stored(self, s: School, payloads: dict[str, bytes], answers: list) -> None:
        people = [p for p in s.PEOPLE]
        for i, ((name, data), (status, body)) in enumerate(zip(payloads.items(), answers)):
            self.assertEqual(status, 201, f"{name}: {body[:200]!r}")
            got = s.ok(people[i % len(people)], "GET", f"/home/{name}")
            self.assertEqual(hashlib.sha256(got.body).hexdigest(),
                             hashlib.sha256(data).hexdigest(), name)

    def test_two_hundred_pupils_at_40_kb_s_through_nginx(self) -> None:
        with harness.PgCluster(name="pg-slowup") as pg, harness.Atriumd(pg) as host:
            op = fixtures.make_operator(host)
            s = School(host, op)
            s.put("sam", "/home/read-me.txt", b"r" * 2000)
            front = NginxFront([host.port])
            try:
                tls = ssl.create_default_context()
                tls.check_hostname = False
                tls.verify_mode = ssl.CERT_NONE
                target = Target(front.port, tls)
                # 176 documents of 60-249 KiB, 24 photos of 600 KiB (over the collecting
                # limit: each holds a stream worker, 24 > the old 16).
                sizes = [60 * KIB + (i * 997 % 190) * KIB for i in range(176)]
                sizes += [600 * KIB] * 24
                payloads = {f"slow-{i}.bin": os.urandom(n) for i, n in enumerate(sizes)}
                answers, seen, gauges = self.uploads(host, target, s, payloads, RATE,
                                                     "/home/read-me.txt")
                self.check_probes(seen)
                self.check_stored(s, payloads, answers)
                # The small bodies were collected by the front, not read by stream workers;
                # the large ones were all read at once (128 stream workers by default).
                self.assertGreater(max(g["atrium_uploads_collecting"] for g in gauges), 100)
                self.assertEqual(max(g['atrium_pool_busy{pool="stream"}'] for g in gauges), 24)
                self.assertEqual(gauges[0]['atrium_pool_threads{pool="stream"}'], 128)
            finally:
                front.stop()

    def test_large_uploads_beyond_stream_workers_wait_and_complete(self) -> None:
        with harness.PgCluster(name="pg-slowcap") as pg, \
                harness.Atriumd(pg, env={"ATRIUM_STREAM_WORKERS": "2"}) as host:
            op = fixtures.make_operator(host)
            s = School(host, op)
            s.put("sam", "/home/read-me.txt", b"r" * 2000)
            target = Target(host.port)
            # Four bodies over 256 KiB at 400 KB/s: two are read at once, two wait paused.
            payloads = {f"big-{i}.bin": os.urandom(1536 * KIB) for i in range(4)}
            answers, seen, gauges = self.uploads(host, target, s, payloads, 10 * RATE,
                                                 "/home/read-me.txt")
            self.check_probes(seen)
            self.check_stored(s, payloads, answers)
            # Never more than two read at once; the other two waited for a thread (the
            # probes' small uploads meanwhile were collected, not queued behind them).
            busy = [g['atrium_pool_busy{pool="stream"}'] for g in gauges]
            waiting = [g['atrium_pool_waiting{pool="stream"}'] for g in gauges]
            self.assertEqual(max(busy), 2, busy)
            self.assertIn(2, waiting)
            self.assertEqual(gauges[0]['atrium_pool_threads{pool="stream"}'], 2)

    def test_a_client_that_stalls_while_its_body_is_collected_is_cut(self) -> None:
        with harness.PgCluster(name="pg-slowstall") as pg, \
                harness.Atriumd(pg, env={"ATRIUM_BODY_TIMEOUT": "2"}) as host:
            op = fixtures.make_operator(host)
            s = School(host, op)
            sock = socket.create_connection(("127.0.0.1", host.port), timeout=30)
            try:
                sock.sendall((f"PUT {s.base}/home/stalled.bin HTTP/1.1\r\nHost: x\r\n"
                              f"Authorization: Bearer {s.tokens['sam']}\r\n"
                              "Content-Length: 1000\r\n\r\n").encode() + b"s" * 100)
                t0 = time.monotonic()
                self.assertEqual(sock.recv(100), b"", "the stalled client was cut")
                self.assertLess(time.monotonic() - t0, 15)
            finally:
                sock.close()
            self.assertProblem(s.req("sam", "GET", "/home/stalled.bin"), 404)
            self.assertEqual(s.ok("sam", "GET", "/usage")["home"]["used"], 0)
            logged = re.compile(r"method=PUT route=\S*/files/home/\S* status=499")
            deadline = time.monotonic() + 5
            while not logged.search(host.log_text()) and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertRegex(host.log_text(), logged)
            # The host goes on serving uploads.
            s.put("sam", "/home/after.bin", b"a" * 100)


if __name__ == "__main__":
    harness.main()
