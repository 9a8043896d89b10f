# SPDX-License-Identifier: Apache-2.0
"""test_carddav_clients.py - vdirsyncer (the Debian package) syncing a person's address books
with a local folder both ways: discovery from the server's root (/.well-known/carddav), the
read-only people book arrives in the folder, and the personal book goes both ways (a card made
over HTTP arrives, a file added and one edited in the folder arrive in Atrium, a deletion on
either side is carried over).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import fixtures
import harness
from test_carddav import School, basic, vcard


class Staff(School):
    """Only the people the sync looks at (each person costs a password hash)."""

    PEOPLE = ("tina", "tom", "stan")


class VdirSyncer(fixtures.SharedHost):
    EXIT_CHECK = ("contacts", "vcard.c", "dav-report")

    def vdirsyncer(self, *args: str) -> str:
        run = subprocess.run([self.bin, "-c", self.config, *args], capture_output=True,
                             text=True, timeout=120, input="y\n" * 20)
        self.assertEqual(run.returncode, 0, run.stdout[-2000:] + run.stderr[-3000:])
        return run.stdout + run.stderr

    def dav(self, method: str, path: str, body: str | None = None) -> harness.Response:
        hdrs = {"Authorization": basic("tina"), "Depth": "1"}
        if body is not None:
            hdrs["Content-Type"] = "text/vcard"
        return self.host.request(method, f"/dav/{self.s.slug}/contacts/tina/{path}", body,
                                 headers=hdrs)

    def test_two_way_sync(self) -> None:
        self.bin = shutil.which("vdirsyncer")
        self.assertIsNotNone(self.bin, "vdirsyncer is missing: bash scripts/setup.sh installs it")
        self.s = s = Staff(self.host, self.op_token)
        self.assertEqual(self.dav("PUT", "personal/server-1.vcf",
                                  vcard("server-1", "From Atrium")).status, 201)
        work = tempfile.mkdtemp(prefix="vdirsyncer-")
        self.addCleanup(shutil.rmtree, work, True)
        folder = os.path.join(work, "contacts")
        self.config = os.path.join(work, "config")
        with open(self.config, "w") as f:
            f.write(f"""[general]
status_path = "{work}/status/"

[pair atrium]
a = "local"
b = "server"
collections = ["from b"]
conflict_resolution = "b wins"

[storage local]
type = "filesystem"
path = "{folder}/"
fileext = ".vcf"

[storage server]
type = "carddav"
url = "http://127.0.0.1:{self.host.port}/"
username = "tina@{s.slug}"
password = "{fixtures.PASSWORD}"
""")
        self.vdirsyncer("discover", "atrium")
        self.vdirsyncer("sync", "atrium")
        self.assertEqual(sorted(os.listdir(folder)), ["people", "personal"])
        people = glob.glob(os.path.join(folder, "people", "*.vcf"))
        fns = set()
        for path in people:
            with open(path, encoding="utf-8") as f:
                fns |= {ln[3:] for ln in f.read().splitlines() if ln.startswith("FN:")}
        self.assertEqual(fns, {"Tina Teacher", "Tom Teacher", "Stan Staff"})
        local = os.path.join(folder, "personal")
        files = glob.glob(os.path.join(local, "*.vcf"))
        self.assertEqual(len(files), 1)
        with open(files[0], encoding="utf-8") as f:
            text = f.read()
        self.assertIn("FN:From Atrium", text)
        # Local changes go up: a new file, and the synced one edited.
        with open(os.path.join(local, "local-1.vcf"), "w", encoding="utf-8") as f:
            f.write(vcard("local-1", "From the folder"))
        with open(files[0], "w", encoding="utf-8") as f:
            f.write(text.replace("FN:From Atrium", "FN:Edited in the folder"))
        self.vdirsyncer("sync", "atrium")
        self.assertEqual(self.fns(), {"Edited in the folder", "From the folder"})
        # A deletion in Atrium reaches the folder; one in the folder reaches Atrium.
        self.assertEqual(self.dav("DELETE", "personal/server-1.vcf").status, 204)
        for path in glob.glob(os.path.join(local, "*.vcf")):
            with open(path, encoding="utf-8") as f:
                if "local-1" in f.read():
                    os.remove(path)
        self.vdirsyncer("sync", "atrium")
        self.assertEqual(glob.glob(os.path.join(local, "*.vcf")), [])
        self.assertEqual(self.fns(), set())

    def fns(self) -> set[str]:
        """The FN of every card of tina's personal book, read over HTTP (vdirsyncer names the
        resources it makes itself)."""
        listing = self.dav("PROPFIND", "personal/")
        self.assertEqual(listing.status, 207, listing.body)
        out = set()
        for r in ET.fromstring(listing.body).findall("{DAV:}response"):
            href = r.find("{DAV:}href").text
            if href.endswith("/"):
                continue
            got = self.host.request("GET", href, headers={"Authorization": basic("tina")})
            self.assertEqual(got.status, 200, href)
            out |= {ln[3:] for ln in got.text.splitlines() if ln.startswith("FN:")}
        return out


if __name__ == "__main__":
    harness.main()
