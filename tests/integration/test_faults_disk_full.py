#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The data directory fills up (issue #16, "Faults"): a correctness check.

atriumd's data directory is a 4 MiB tmpfs. An upload that does not fit answers 507 with a
problem, whether its length was announced or it came chunked; nothing of it becomes visible
(no file, no usage, no temporary file left), reads of what is there go on, and once space is
freed (the file deleted, its trash entry purged, `atriumd files gc`) uploads work again.
Needs a tmpfs mount, so root (CAP_SYS_ADMIN); the test says so and skips otherwise.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import subprocess

import fixtures
import harness
from test_files import School, chunks

MIB = 1024 * 1024


class DiskFull(harness.TestCase):
    def setUp(self) -> None:
        self.scratch = harness._make_scratch("atrium-diskfull-")
        self.data = os.path.join(self.scratch, "data")
        os.mkdir(self.data)
        mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs",
                                self.data], capture_output=True, text=True)
        if mount.returncode != 0:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.skipTest(f"cannot mount a tmpfs here: {mount.stderr.strip()}")

    def tearDown(self) -> None:
        subprocess.run(["umount", self.data], capture_output=True)
        shutil.rmtree(self.scratch, ignore_errors=True)

    def test_a_full_disk_answers_507_and_loses_nothing(self):
        with harness.PgCluster(name="pg-diskfull") as pg, \
                harness.Atriumd(pg, env={"ATRIUM_DATA_DIR": self.data}) as host:
            op = fixtures.make_operator(host)
            s = School(host, op)
            first = os.urandom(5 * MIB // 2)
            s.put("sam", "/home/first.bin", first)
            usage = s.ok("sam", "GET", "/usage")

            # Announced length, then chunked: neither fits next to the first file.
            second = os.urandom(5 * MIB // 2)
            self.assertProblem(s.req("sam", "PUT", "/home/second.bin", second), 507,
                               "/insufficient-storage")
            conn_resp = self.chunked_put(host, s, "/home/third.bin", second)
            self.assertProblem(conn_resp, 507, "/insufficient-storage")

            # Nothing half-written is visible, and nothing is left behind on disk.
            for name in ("second.bin", "third.bin"):
                self.assertProblem(s.req("sam", "GET", f"/home/{name}"), 404)
            listing = s.ok("sam", "GET", "/home/")
            self.assertEqual([i["name"] for i in listing["items"]], ["first.bin"])
            self.assertEqual(s.ok("sam", "GET", "/usage"), usage)
            self.assertEqual(os.listdir(os.path.join(self.data, "files", "tmp")), [])

            # Reads go on, and so does everything that does not need the disk.
            self.assertEqual(s.req("sam", "GET", "/home/first.bin").body, first)
            self.assertEqual(host.request("GET", "/readyz").status, 200)

            # Space freed: uploads work again.
            item = s.ok("sam", "DELETE", "/home/first.bin")
            s.ok("sam", "DELETE", f"/trash/{item['id']}", status=(204,))
            proc = host.run(["files", "gc"])
            self.assertEqual(proc.returncode, 0, proc.stderr)
            node = s.put("sam", "/home/second.bin", second)
            self.assertEqual(node["etag"], '"' + hashlib.sha256(second).hexdigest() + '"')
            self.assertEqual(s.req("sam", "GET", "/home/second.bin").body, second)

    @staticmethod
    def chunked_put(host: harness.Atriumd, s: School, path: str,
                    data: bytes) -> harness.Response:
        """PUT with Transfer-Encoding: chunked (no Content-Length)."""
        conn = http.client.HTTPConnection("127.0.0.1", host.port, timeout=60)
        try:
            conn.request("PUT", f"/api/v1/schools/{s.slug}/files{path}",
                         body=chunks(data, 64 * 1024),
                         headers={"Authorization": f"Bearer {s.tokens['sam']}"},
                         encode_chunked=True)
            resp = conn.getresponse()
            return harness.Response(resp.status, resp.reason,
                                    harness.Headers(resp.getheaders()), resp.read())
        finally:
            conn.close()


if __name__ == "__main__":
    harness.main()
