# SPDX-License-Identifier: Apache-2.0
"""test_files_crash.py - kill -9 of the host in the middle of uploads.

The promise (plugins/files/README.md): a crash never leaves a visible partial file, nor a row
naming a missing or different blob. The test holds several uploads open mid-body (their
.part files on disk), keeps more uploads racing on other threads, kills the host with
SIGKILL, starts it again on the same database and data directory, and then checks every row
against the disk: each file row's blob exists, has the row's size and hashes to the row's
SHA-256. The half-sent files are not there; every upload that was answered 201 is, with its
bytes. "atriumd files gc" then removes the stale temporary files and the orphans, and the
check runs again.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time

import fixtures
import harness


def open_partial_upload(host: harness.Atriumd, path: str, token: str, total: int,
                        sent: int) -> socket.socket:
    """A PUT that announces `total` bytes and sends only `sent` of them, left open."""
    sock = socket.create_connection(("127.0.0.1", host.port), timeout=30)
    head = (f"PUT {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Length: {total}\r\nContent-Type: application/octet-stream\r\n\r\n")
    sock.sendall(head.encode())
    sock.sendall(os.urandom(sent))
    return sock


class Crash(harness.TestCase):
    def setUp(self) -> None:
        self.pg = harness.PgCluster(name="pg-files-crash").start()
        self.addCleanup(self.pg.cleanup)
        self.host = harness.Atriumd(self.pg, env={"ATRIUM_POOL_SIZE": "4"})
        self.addCleanup(self.host.cleanup)
        self.host.start()
        op = fixtures.make_operator(self.host)
        fixtures.make_school(self.host, op, "crash", modules=("groups", "files"))
        fixtures.make_user(self.host, op, "crash", "tina", roles=["teacher"])
        self.token = fixtures.login(self.host, "tina", school="crash")
        self.base = "/api/v1/schools/crash/files/home"

    def put(self, name: str, data: bytes) -> harness.Response:
        return self.host.request("PUT", f"{self.base}/{name}", data, token=self.token)

    def tmp_dir(self) -> str:
        return os.path.join(self.host.data_dir, "files", "tmp")

    def check_rows_against_disk(self) -> int:
        rows = self.pg.psql("SELECT sha256, size FROM files.nodes WHERE kind = 'file'")
        n = 0
        for line in rows.splitlines():
            sha, size = line.split("|")
            blob = os.path.join(self.host.data_dir, "files", "blobs", sha[:2], sha[2:4], sha)
            self.assertTrue(os.path.isfile(blob), f"a row names a missing blob {sha}")
            with open(blob, "rb") as f:
                content = f.read()
            self.assertEqual(len(content), int(size), f"blob {sha} has the wrong size")
            self.assertEqual(hashlib.sha256(content).hexdigest(), sha, f"blob {sha} differs")
            n += 1
        return n

    def test_kill_during_uploads(self) -> None:
        done = {}
        for i in range(3):
            data = os.urandom(200_000 + i)
            fixtures.check(self.put(f"done{i}.bin", data), 201, what="upload")
            done[f"done{i}.bin"] = data

        # Half-sent uploads, held open, and one missing only its last byte; they are over
        # 256 KiB, so streamed to .part files as they come. A smaller one missing its last byte
        # is collected in memory first (server-stream.c) and never reaches the disk.
        partial = [open_partial_upload(self.host, f"{self.base}/partial{i}.bin", self.token,
                                       8 << 20, 3 << 20) for i in range(3)]
        partial.append(open_partial_upload(self.host, f"{self.base}/almost.bin", self.token,
                                           2 << 20, (2 << 20) - 1))
        partial.append(open_partial_upload(self.host, f"{self.base}/collected.bin", self.token,
                                           200_000, 199_999))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            parts = [os.path.getsize(os.path.join(self.tmp_dir(), p))
                     for p in os.listdir(self.tmp_dir())]
            if len(parts) >= 4 and sum(parts) >= 9 << 20:
                break
            time.sleep(0.05)
        else:
            self.fail(f"the held uploads never reached the disk: {os.listdir(self.tmp_dir())}")

        # Uploads racing the kill: each either answered (then it must survive) or not.
        answered: dict[str, bytes] = {}
        attempted: dict[str, bytes] = {}
        stop = threading.Event()

        def racer(k: int) -> None:
            i = 0
            while not stop.is_set():
                name = f"race{k}-{i}.bin"
                data = os.urandom(50_000 + i)
                attempted[name] = data
                try:
                    if self.put(name, data).status == 201:
                        answered[name] = data
                except OSError:
                    return
                i += 1

        threads = [threading.Thread(target=racer, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        self.host.kill()
        stop.set()
        for t in threads:
            t.join(30)
        for sock in partial:
            sock.close()

        self.host.start()
        self.assertGreater(len(answered), 0, "no racing upload finished before the kill")
        # Every page: a fast machine uploads more than one page's 500 in the second.
        names: set[str] = set()
        cursor = None
        while True:
            listing = fixtures.check(self.host.request(
                "GET", f"{self.base}/?limit=500" + (f"&cursor={cursor}" if cursor else ""),
                token=self.token), 200, what="list").json()
            names |= {item["name"] for item in listing["items"]}
            cursor = listing["next_cursor"]
            if cursor is None:
                break
        for name in ("partial0.bin", "partial1.bin", "partial2.bin", "almost.bin",
                     "collected.bin"):
            self.assertNotIn(name, names)
            self.assertProblem(self.host.request("GET", f"{self.base}/{name}",
                                                 token=self.token), 404)
        for name, data in {**done, **answered}.items():
            got = self.host.request("GET", f"{self.base}/{name}", token=self.token)
            self.assertEqual((got.status, hashlib.sha256(got.body).hexdigest()),
                             (200, hashlib.sha256(data).hexdigest()), name)
        for name in names - set(done) - set(answered):
            # Committed but the answer was lost in the kill: then it is whole.
            self.assertIn(name, attempted)
            got = self.host.request("GET", f"{self.base}/{name}", token=self.token)
            self.assertEqual(got.body, attempted[name], name)
        rows = self.check_rows_against_disk()
        self.assertEqual(rows, len(names))

        # The sweep: stale temporary files (aged past the hour) and orphans go, rows stay.
        self.assertTrue(os.listdir(self.tmp_dir()), "the kill left no temporary files")
        for p in os.listdir(self.tmp_dir()):
            os.utime(os.path.join(self.tmp_dir(), p), (1, 1))
        proc = self.host.run(["files", "gc"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(os.listdir(self.tmp_dir()), [])
        self.assertEqual(self.check_rows_against_disk(), rows)
        blobs = [n for _, _, ns in os.walk(os.path.join(self.host.data_dir, "files", "blobs"))
                 for n in ns]
        self.assertEqual(len(blobs), len(set(
            self.pg.psql("SELECT DISTINCT sha256 FROM files.nodes WHERE kind = 'file'")
            .split())))


if __name__ == "__main__":
    harness.main()
