# SPDX-License-Identifier: Apache-2.0
"""test_webdav_clients.py - real WebDAV clients against a real atriumd (issue #18's checks):

- litmus, all five suites (basic, copymove, props, locks, http) with class 2 claimed, must
  report 0 failures (and no suite skipped: litmus skips the locks suite silently when OPTIONS
  does not claim class 2);
- rclone (WebDAV remote, the ownCloud flavour, so modification times travel as X-OC-MTime)
  syncs 1,000 files in nested folders up with an app token, back down into an empty folder,
  the contents are byte for byte the same, and a second sync up transfers nothing;
- cadaver, a second independent client, runs a scripted session (mkcol, put, get, propset,
  propget, lock, unlock, copy, move, delete) and every step does what it says.

The three clients are Debian packages (scripts/setup.sh installs them); a missing one fails
the test, it is never skipped.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import subprocess
import tempfile

import fixtures
import harness


class School(fixtures.School):
    AREA = "files"
    SLUG_PREFIX = "wc"
    MODULES = ("groups", "files")
    PEOPLE = ("tom",)


def need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise AssertionError(f"{tool} is not installed: run scripts/setup.sh --no-db")
    return path


class WebDavClientsTest(fixtures.SharedHost):
    EXIT_CHECK = ("dav", "files", "transfer.c", "tree.c")

    def setUp(self) -> None:
        self.s = School(self.host, self.op_token)
        self.tmp = tempfile.mkdtemp(prefix="webdav-clients-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.base = f"http://127.0.0.1:{self.host.port}/dav/{self.s.slug}/files/home/"

    def run_tool(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        return subprocess.run(args, capture_output=True, text=True, timeout=240, **kw)

    def test_litmus(self) -> None:
        litmus = need("litmus")
        self.assertEqual(self.host.request("MKCOL", "/dav/" + self.s.slug + "/files/home/lit",
                                           headers={"Authorization": self.basic()}).status, 201)
        proc = self.run_tool([litmus, self.base + "lit/", "tom", fixtures.PASSWORD],
                             cwd=self.tmp, env=dict(os.environ, TESTS="basic copymove props locks http"))
        out = proc.stdout
        summaries = re.findall(r"<- summary for `(\w+)': of (\d+) tests run: (\d+) passed, "
                               r"(\d+) failed", out)
        self.assertEqual([s[0] for s in summaries],
                         ["basic", "copymove", "props", "locks", "http"], out[-3000:])
        for name, run, passed, failed in summaries:
            self.assertEqual(failed, "0", f"litmus {name}:\n{out[-4000:]}")
            self.assertEqual(run, passed, name)
        # the locks suite really ran (not skipped for want of class 2)
        self.assertGreater(int(dict((s[0], s[1]) for s in summaries)["locks"]), 30)
        self.assertNotIn("SKIPPED", out)
        self.assertEqual(proc.returncode, 0, out[-2000:])

    def basic(self) -> str:
        import base64
        return "Basic " + base64.b64encode(f"tom:{fixtures.PASSWORD}".encode()).decode()

    def test_rclone_sync_up_and_down(self) -> None:
        rclone = need("rclone")
        token = fixtures.check(self.host.request("POST", "/api/v1/auth/tokens", {"name": "rclone"},
                                                 token=self.s.tokens["tom"]), 201).json()["token"]
        obscured = self.run_tool([rclone, "obscure", token]).stdout.strip()
        env = dict(os.environ,
                   RCLONE_CONFIG_ATRIUM_TYPE="webdav",
                   RCLONE_CONFIG_ATRIUM_URL=self.base,
                   RCLONE_CONFIG_ATRIUM_VENDOR="owncloud",
                   RCLONE_CONFIG_ATRIUM_USER="tom",
                   RCLONE_CONFIG_ATRIUM_PASS=obscured,
                   RCLONE_CONFIG=os.path.join(self.tmp, "rclone.conf"))
        up = os.path.join(self.tmp, "up")
        rng = random.Random(18)
        sums = {}
        for i in range(1000):
            rel = os.path.join(f"d{i % 10}", f"e{i % 7}", f"file {i} \u00e9.bin")
            path = os.path.join(up, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            data = rng.randbytes(rng.randrange(0, 3000))
            with open(path, "wb") as f:
                f.write(data)
            sums[rel] = hashlib.sha256(data).hexdigest()
        common = ["--transfers", "4", "--checkers", "4", "--retries", "1",
                  "--low-level-retries", "2", "-v"]
        proc = self.run_tool([rclone, "sync", up, "atrium:tree"] + common, env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        # down into an empty folder: the same bytes
        down = os.path.join(self.tmp, "down")
        proc = self.run_tool([rclone, "sync", "atrium:tree", down] + common, env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        got = {}
        for root, _, names in os.walk(down):
            for n in names:
                p = os.path.join(root, n)
                with open(p, "rb") as f:
                    got[os.path.relpath(p, down)] = hashlib.sha256(f.read()).hexdigest()
        self.assertEqual(len(got), 1000)
        self.assertEqual(got, sums)
        # the same files REST lists, with the same ETags
        listing = self.s.ok("tom", "GET", "/home/tree/d3/e3/")
        for item in listing["items"]:
            self.assertEqual(item["etag"], '"' + sums[os.path.join("d3", "e3", item["name"])] + '"')
        # a second sync transfers nothing
        proc = self.run_tool([rclone, "sync", up, "atrium:tree"] + common, env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        self.assertNotIn("Copied", proc.stderr)
        self.assertIn("There was nothing to transfer", proc.stderr)
        self.assertRegex(proc.stderr, r"Checks:\s+1000 / 1000")

    def test_cadaver_session(self) -> None:
        cadaver = need("cadaver")
        home = os.path.join(self.tmp, "home")
        os.makedirs(home)
        # An app token as the password, as docs/WEBDAV.md recommends (and .netrc takes no
        # spaces, which the test password has).
        token = fixtures.check(self.host.request("POST", "/api/v1/auth/tokens", {"name": "cadaver"},
                                                 token=self.s.tokens["tom"]), 201).json()["token"]
        with open(os.path.join(home, ".netrc"), "w") as f:
            f.write(f"machine 127.0.0.1 login tom password {token}\n")
        os.chmod(os.path.join(home, ".netrc"), 0o600)
        local = os.path.join(self.tmp, "note.txt")
        with open(local, "w") as f:
            f.write("written by cadaver\n")
        back = os.path.join(self.tmp, "back.txt")
        script = "\n".join([
            "mkcol cad",
            "cd cad",
            f"put {local} note.txt",
            "propset note.txt colour blue",
            "propget note.txt colour",
            "lock note.txt",
            "discover note.txt",
            "unlock note.txt",
            "copy note.txt copy.txt",
            "move copy.txt moved.txt",
            f"get moved.txt {back}",
            "ls",
            "delete note.txt",
            "ls",
            "quit",
        ]) + "\n"
        proc = self.run_tool([cadaver, self.base], input=script,
                             env=dict(os.environ, HOME=home))
        out = proc.stdout + proc.stderr
        self.assertNotIn("failed", out.lower(), out)
        self.assertIn("blue", out)
        with open(back) as f:
            self.assertEqual(f.read(), "written by cadaver\n")
        listing = self.s.ok("tom", "GET", "/home/cad/")
        self.assertEqual([i["name"] for i in listing["items"]], ["moved.txt"])


if __name__ == "__main__":
    harness.main()
