# SPDX-License-Identifier: Apache-2.0
"""test_caldav_clients.py - vdirsyncer (the Debian package) syncing a person's calendars with
a local folder both ways: discovery from the server's root (/.well-known/caldav), an event
made over REST arrives in the folder, a file added and one edited in the folder arrive in
Atrium (REST shows them), a deletion on either side is carried over.

Contacts (CardDAV) are not served yet, so only calendars are synced.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile

import fixtures
import harness
from test_calendar import CalendarTestCase, School

EVENT = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:{uid}\r
DTSTAMP:20260101T000000Z\r
DTSTART:20260506T080000Z\r
DTEND:20260506T090000Z\r
SUMMARY:{summary}\r
END:VEVENT\r
END:VCALENDAR\r
"""


class VdirSyncer(CalendarTestCase):
    def vdirsyncer(self, *args: str) -> str:
        run = subprocess.run([self.bin, "-c", self.config, *args], capture_output=True,
                             text=True, timeout=120, input="y\n" * 20)
        self.assertEqual(run.returncode, 0, run.stdout[-2000:] + run.stderr[-3000:])
        return run.stdout + run.stderr

    def test_two_way_sync(self) -> None:
        self.bin = shutil.which("vdirsyncer")
        self.assertIsNotNone(self.bin, "vdirsyncer is missing: bash scripts/setup.sh installs it")
        s = School(self.host, self.op_token)
        cal = s.calendar("tina", "Unterricht")["id"]
        made = s.event(cal, summary="From Atrium", start="2026-05-04T08:00:00Z",
                       end="2026-05-04T09:00:00Z")
        work = tempfile.mkdtemp(prefix="vdirsyncer-")
        self.addCleanup(shutil.rmtree, work, True)
        folder = os.path.join(work, "calendars")
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
fileext = ".ics"

[storage server]
type = "caldav"
url = "http://127.0.0.1:{self.host.port}/"
username = "tina@{s.slug}"
password = "{fixtures.PASSWORD}"
""")
        self.vdirsyncer("discover", "atrium")
        self.vdirsyncer("sync", "atrium")
        local = os.path.join(folder, cal)
        self.assertTrue(os.path.isdir(local), os.listdir(folder))
        files = glob.glob(os.path.join(local, "*.ics"))
        self.assertEqual(len(files), 1)
        with open(files[0], encoding="utf-8") as f:
            self.assertIn("SUMMARY:From Atrium", f.read())
        # Local changes go up: a new file, and the synced one edited.
        with open(os.path.join(local, "local-1.ics"), "w", encoding="utf-8") as f:
            f.write(EVENT.format(uid="local-1", summary="From the folder"))
        with open(files[0], encoding="utf-8") as f:
            text = f.read()
        with open(files[0], "w", encoding="utf-8") as f:
            f.write(text.replace("SUMMARY:From Atrium", "SUMMARY:Edited in the folder"))
        self.vdirsyncer("sync", "atrium")
        items = s.ok("tina", "GET",
                     f"/calendars/{cal}/events?from=2026-05-01&to=2026-06-01")["items"]
        self.assertEqual(sorted(i["summary"] for i in items),
                         ["Edited in the folder", "From the folder"])
        # A deletion in Atrium reaches the folder; one in the folder reaches Atrium.
        s.ok("tina", "DELETE", f"/calendars/{cal}/events/{made['id']}")
        os.remove(os.path.join(local, "local-1.ics"))
        self.vdirsyncer("sync", "atrium")
        self.assertEqual(glob.glob(os.path.join(local, "*.ics")), [])
        self.assertEqual(s.ok("tina", "GET", f"/calendars/{cal}/events?from=2026-05-01"
                                             "&to=2026-06-01")["items"], [])


if __name__ == "__main__":
    harness.main()
