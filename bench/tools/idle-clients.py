#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""idle-clients.py - hold many client connections to one HTTP server, for bench/idle/run.sh.

  idle-clients.py idle PORT N [tls]        N keep-alive connections: each sends one
                                           GET /healthz, reads the answer, then says nothing
  idle-clients.py slowloris PORT N [tls]   N connections that send a request's headers one
                                           byte a second and never finish them (slowloris)

With "tls" the connections are HTTPS (deploy/'s nginx in front; the certificate is not
checked).

Connections the server closes are opened again, and counted. Once all N are open (and, for
idle, answered) it prints "ready N" on stdout; on SIGTERM or SIGINT it prints
"done open=N reopened=R failed=F" and exits. Raise `ulimit -n` above N first.
"""
from __future__ import annotations

import asyncio
import signal
import ssl
import sys

HOST = b"Host: atrium.example.org\r\n"  # deploy/'s server_name
REQUEST = b"GET /healthz HTTP/1.1\r\n" + HOST + b"\r\n"
BATCH = 250  # connections opened at once (the listen backlog is finite)


class Holder:
    def __init__(self, port: int, mode: str, tls: ssl.SSLContext | None) -> None:
        self.port = port
        self.mode = mode
        self.tls = tls
        self.open = 0
        self.reopened = 0
        self.failed = 0

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", self.port, ssl=self.tls,
                server_hostname="atrium.example.org" if self.tls else None)
        except (OSError, ssl.SSLError):
            self.failed += 1
            return None
        if self.mode == "idle":
            writer.write(REQUEST)
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                writer.close()
                self.failed += 1
                return None
        else:
            writer.write(b"GET /healthz HTTP/1.1\r\n" + HOST)
        return reader, writer

    async def hold(self, first: asyncio.Event, ready: list[int], total: int) -> None:
        """One connection, forever: opened again whenever the server closes it."""
        opened_before = False
        while True:
            conn = await self.connect()
            if conn is None:
                await asyncio.sleep(1.0)
                continue
            reader, writer = conn
            if opened_before:
                self.reopened += 1
            opened_before = True
            self.open += 1
            if not first.is_set():
                ready[0] += 1
                if ready[0] == total:
                    first.set()
            try:
                if self.mode == "idle":
                    await reader.read(1)  # returns at the server's close
                else:
                    while True:
                        writer.write(b"X")
                        await writer.drain()
                        await asyncio.sleep(1.0)
            except (OSError, ssl.SSLError):
                pass
            self.open -= 1
            writer.close()


async def main() -> None:
    mode, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if mode not in ("idle", "slowloris"):
        sys.exit("mode: idle or slowloris")
    tls = None
    if sys.argv[4:] == ["tls"]:
        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    holder = Holder(port, mode, tls)
    first = asyncio.Event()
    ready = [0]
    tasks = []
    for i in range(0, n, BATCH):
        batch = [asyncio.ensure_future(holder.hold(first, ready, n))
                 for _ in range(min(BATCH, n - i))]
        tasks += batch
        while ready[0] < min(i + BATCH, n) and holder.failed < n:
            await asyncio.sleep(0.01)
    await first.wait()
    print(f"ready {n}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print(f"done open={holder.open} reopened={holder.reopened} failed={holder.failed}",
          flush=True)
    for t in tasks:
        t.cancel()


if __name__ == "__main__":
    asyncio.run(main())
