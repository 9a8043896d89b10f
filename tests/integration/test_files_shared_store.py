#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Two hosts, one files directory (issue #16, "Files on a shared store").

Both hosts use the same [storage] data_dir, as several hosts share one POSIX directory (NFS,
CephFS). People upload through both hosts, often the same contents (stored once), and delete
and purge some of them, while `atriumd files gc` sweeps the directory over and over. gc takes
each blob's advisory lock and asks in a fresh snapshot whether a row names it; an upload
places its blob first, then takes the same lock (shared), makes sure the blob is still there
(linking it again from its temporary file when a sweep removed it meanwhile) and holds the
lock until its row commits. So at the end every
file a row names reads back whole through either host, and one last sweep leaves no blob that
no row names.
"""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import threading

import fixtures
import harness
from test_files import School


class SharedStore(harness.TestCase):
    def test_uploads_on_two_hosts_while_gc_sweeps(self) -> None:
        data = harness._make_scratch("atrium-shared-store-")
        try:
            with harness.PgCluster(name="pg-shared-store") as pg, \
                    harness.Atriumd(pg, env={"ATRIUM_DATA_DIR": data}) as a, \
                    harness.Atriumd(pg, env={"ATRIUM_DATA_DIR": data}) as b:
                self.scenario(pg, a, b, data)
        finally:
            shutil.rmtree(data, ignore_errors=True)

    def scenario(self, pg: harness.PgCluster, a: harness.Atriumd, b: harness.Atriumd,
                 data: str) -> None:
        op = fixtures.make_operator(a)
        s = School(a, op)
        contents = [os.urandom(16 * 1024 + i) for i in range(6)]  # few: most uploads dedup
        kept: dict[str, tuple[str, bytes]] = {}  # path -> (who, bytes)
        errors: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def files(host: harness.Atriumd, who: str, method: str, path: str,
                  body: bytes | None = None) -> harness.Response:
            return host.request(method, f"/api/v1/schools/{s.slug}/files{path}", body,
                                token=s.tokens[who])

        def uploader(host: harness.Atriumd, who: str, seed: int) -> None:
            rnd = random.Random(seed)
            # 40 uploads at least, and on until gc has swept twice meanwhile (a sweep is a
            # process start and may outlast 40 quick uploads), at most 400.
            i = -1
            while True:
                i += 1
                if i >= 400 or (i >= 40 and len(sweeps) >= 2):
                    break
                purged = i % 3 == 2
                # Kept files share a few contents; a purged one has its own half the time, so
                # gc always has blobs to remove, some of them contents uploads are re-adding.
                body = (os.urandom(8 * 1024) if purged and rnd.random() < 0.5
                        else rnd.choice(contents))
                path = f"/home/{who}{seed}-{i}.bin"
                resp = files(host, who, "PUT", path, body)
                if resp.status not in (200, 201):
                    errors.append(f"PUT {path}: {resp.status} {resp.body[:200]!r}")
                    continue
                if purged:  # deleted and purged: its blob may go, unless shared
                    item = files(host, who, "DELETE", path)
                    purge = files(host, who, "DELETE", f"/trash/{item.json()['id']}")
                    if (item.status, purge.status) != (200, 204):
                        errors.append(f"delete {path}: {item.status} {purge.status}")
                    continue
                with lock:
                    kept[path] = (who, body)

        sweeps: list[str] = []

        def sweeper() -> None:
            while not stop.is_set():
                proc = b.run(["files", "gc"])
                if proc.returncode != 0:
                    errors.append(f"files gc: {proc.returncode} {proc.stderr[-500:]}")
                sweeps.append(proc.stdout)

        gc = threading.Thread(target=sweeper)
        gc.start()
        ups = [threading.Thread(target=uploader, args=(a, "sam", 1)),
               threading.Thread(target=uploader, args=(b, "sue", 2)),
               threading.Thread(target=uploader, args=(b, "sam", 3))]
        for t in ups:
            t.start()
        for t in ups:
            t.join(300)
        stop.set()
        gc.join(300)
        self.assertEqual(errors, [])
        self.assertGreater(len(kept), 50)
        self.assertGreaterEqual(len(sweeps), 2, "gc swept while uploads ran")
        self.assertRegex("".join(sweeps), r"blobs removed: [1-9]", "gc had garbage to remove")

        # Every kept file reads back whole, through the other host than it came from too.
        for path, (who, body) in kept.items():
            for host in (a, b):
                resp = files(host, who, "GET", path)
                self.assertEqual((resp.status, hashlib.sha256(resp.body).hexdigest()),
                                 (200, hashlib.sha256(body).hexdigest()), path)

        # One more sweep: exactly the blobs rows name remain.
        proc = a.run(["files", "gc"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        on_disk = {name for _, _, names in os.walk(os.path.join(data, "files", "blobs"))
                   for name in names}
        named = {hashlib.sha256(body).hexdigest() for _, body in kept.values()}
        self.assertEqual(on_disk, named)
        self.assertEqual(os.listdir(os.path.join(data, "files", "tmp")), [])


if __name__ == "__main__":
    harness.main()
