# SPDX-License-Identifier: Apache-2.0
"""test_caldav_client.py - python3-caldav, the Debian package, as a real client
(caldav_client.py, run with Debian's /usr/bin/python3): discovery from /.well-known/caldav,
make a calendar, save, search with expand, edit, sync tokens, delete; and the event it wrote
is the one REST shows.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import fixtures
import harness
from test_calendar import CalendarTestCase, School

CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "caldav_client.py")
PYTHON = "/usr/bin/python3"


class PythonCalDav(CalendarTestCase):
    def test_python_caldav(self) -> None:
        probe = subprocess.run([PYTHON, "-c", "import caldav"], capture_output=True)
        self.assertEqual(probe.returncode, 0,
                         "python3-caldav is missing: bash scripts/setup.sh installs it")
        s = School(self.host, self.op_token)
        gid = s.group("7b", owner="tom", members=["tina"])
        s.calendar("tom", "7b", owner={"type": "group", "id": gid})
        url = f"http://127.0.0.1:{self.host.port}/.well-known/caldav"
        run = subprocess.run([PYTHON, CLIENT, url, f"tina@{s.slug}", fixtures.PASSWORD],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr[-3000:])
        got = json.loads(run.stdout)
        base = f"http://127.0.0.1:{self.host.port}/dav/{s.slug}"
        self.assertEqual(got["principal"], f"{base}/principals/tina/")
        self.assertEqual(got["home"], f"{base}/calendars/tina/")
        self.assertEqual(got["calendars_before"], ["7b"])
        self.assertEqual(got["made"], f"{base}/calendars/tina/klassenarbeiten/")
        # May 2026: four Monday lessons at 08:00 Berlin (06:00 UTC) and the evening.
        self.assertEqual([tuple(e) for e in got["expanded"]], [
            ("Elternabend", "2026-05-20T10:00:00+00:00"),
            ("Mathe 7b", "2026-05-04T06:00:00+00:00"),
            ("Mathe 7b", "2026-05-11T06:00:00+00:00"),
            ("Mathe 7b", "2026-05-18T06:00:00+00:00"),
            ("Mathe 7b", "2026-05-25T06:00:00+00:00"),
        ])
        self.assertEqual(got["edited"], "Elternabend 7b")
        self.assertEqual(len(got["changed_since_token"]), 1)
        self.assertEqual(len(got["after_delete"]), 1)
        self.assertEqual(got["left"], ["single-1"])
        self.assertEqual(got["calendars_after"], ["7b", "Klassenarbeiten"])
        # What the client wrote is what REST shows.
        cal = [c for c in s.ok("tina", "GET", "/calendars")["items"]
               if c["name"] == "Klassenarbeiten"][0]
        items = s.ok("tina", "GET",
                     f"/calendars/{cal['id']}/events?from=2026-05-01&to=2026-06-01")["items"]
        self.assertEqual([i["summary"] for i in items], ["Elternabend 7b"])


if __name__ == "__main__":
    harness.main()
