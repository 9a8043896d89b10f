# SPDX-License-Identifier: Apache-2.0
"""browser_run.py - runs one of the portal's browser scripts (tests/browser/*.mjs) in Debian's
Chromium, driven by playwright-core from tests/tools, against a running host: what
test_portal_browser.py, test_portal_areas_browser.py and test_portal_admin_browser.py share.

The script gets the host's URL and a folder for its screenshots (under
<build>/meson-logs/<shots>/, emptied first) as arguments, and the school's password, the
tools' folder and Chromium's path (ATRIUM_CHROMIUM, /usr/bin/chromium by default) in its
environment, with whatever else the test passes. It runs in a process group of its own, so a
hung run takes Chromium with it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import unittest

import fixtures

SOURCE = os.path.abspath(os.environ["ATRIUM_SOURCE_DIR"])
BUILD = os.path.abspath(os.environ["ATRIUM_BUILD_DIR"])
TOOLS = os.path.join(SOURCE, "tests", "tools")
CHROMIUM = os.environ.get("ATRIUM_CHROMIUM", "/usr/bin/chromium")


def run_script(test: unittest.TestCase, script: str, url: str, shots: str, min_shots: int,
               **env: str) -> str:
    """Runs tests/browser/`script` against `url`; fails `test` unless it exits 0 and left at
    least `min_shots` screenshots. Returns its output."""
    folder = os.path.join(BUILD, "meson-logs", shots)
    shutil.rmtree(folder, ignore_errors=True)
    full_env = dict(os.environ, ATRIUM_PASSWORD=fixtures.PASSWORD, ATRIUM_TOOLS_DIR=TOOLS,
                    ATRIUM_CHROMIUM=CHROMIUM, **env)
    proc = subprocess.Popen(["node", os.path.join(SOURCE, "tests", "browser", script), url,
                             folder], env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, _ = proc.communicate()
        test.fail(f"the browser run did not finish:\n{out}")
    print(out)
    test.assertEqual(proc.returncode, 0, out)
    pngs = sorted(f for f in os.listdir(folder) if f.endswith(".png"))
    test.assertGreaterEqual(len(pngs), min_shots, pngs)
    return out


def require_tools() -> None:
    """Fails loudly (in setUpClass, before a host starts) when Chromium or the Node tools are
    missing: scripts/setup.sh installs Chromium, scripts/test.sh runs `npm ci`. Never a skip."""
    missing = [p for p in (CHROMIUM, os.path.join(TOOLS, "node_modules", "playwright-core"),
                           os.path.join(TOOLS, "node_modules", "axe-core"))
               if not os.path.exists(p)]
    if missing:
        raise AssertionError(f"missing {missing}: run scripts/setup.sh and "
                             "`npm ci --prefix tests/tools`")
