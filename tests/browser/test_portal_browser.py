# SPDX-License-Identifier: Apache-2.0
"""test_portal_browser.py - the portal end to end in a real browser (docs/PORTAL.md).

Starts PostgreSQL and atriumd (fixtures.SharedHost), makes a school with the noticeboard,
groups, files and calendar, one person per role and a class, then runs
tests/browser/portal.mjs: Debian's Chromium, headless with a private profile, driven by
playwright-core from tests/tools (pinned by its lock file). It signs in as every role (and as
an operator), shows a wrong password and throttling, switches languages, posts a notice with
the cookie and the CSRF token, uploads, downloads, renames, trashes and restores a file,
removes a member from a class (and a student cannot), creates a video room and joins it (the
signed Jitsi URL is checked, not opened), creates a weekly event and sees it in
this week's and next week's view (and not after the series ends), checks a phone's width,
runs axe-core on every page and keeps a screenshot of each under
<build>/meson-logs/portal-screenshots/. One browser for the whole file: Chromium is slow on
two shared cores.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import browser_run  # noqa: E402
import fixtures  # noqa: E402
import harness  # noqa: E402



class PortalBrowser(fixtures.SharedHost):
    SLUG = "browser"
    # The conference module seals its backends' secrets with this key (any 64 hex digits).
    HOST_ENV = {"ATRIUM_CONFERENCE_SECRET_KEY": "5e" * 32}
    EXIT_CHECK = ("browser-session", "portal.c", "assets.c")

    @classmethod
    def setUpClass(cls):
        browser_run.require_tools()
        super().setUpClass()
        try:
            fixtures.make_school(cls.host, cls.op_token, cls.SLUG,
                                 modules=["noticeboard", "groups", "files", "calendar",
                                          "conference"])
            people = {}
            for name, role in (("tessa", "teacher"), ("stella", "student"), ("paul", "parent"),
                               ("ada", "admin"), ("sid", "student"), ("stefan", "staff"),
                               ("sina", "student")):
                people[name] = fixtures.make_user(cls.host, cls.op_token, cls.SLUG, name,
                                                  roles=[role])
            # The school's Jitsi: joining signs a URL for it, nothing is contacted.
            admin = fixtures.login(cls.host, "ada", school=cls.SLUG)
            fixtures.check(cls.host.request(
                "PUT", f"/api/v1/schools/{cls.SLUG}/conference/backend",
                {"type": "jitsi", "url": "https://meet.example.org", "app_id": "atrium-browser",
                 "secret": "jitsi-secret-of-the-browser-test"}, token=admin), 200)
            # A class the teacher owns, with two students in it (the groups page).
            teacher = fixtures.login(cls.host, "tessa", school=cls.SLUG)
            base = f"/api/v1/schools/{cls.SLUG}/groups"
            group = fixtures.check(cls.host.request("POST", base, {"name": "Class 7a",
                                                                   "type": "class"},
                                                    token=teacher), 201).json()
            for name in ("stella", "sid", "sina"):
                fixtures.check(cls.host.request(
                    "PUT", f"{base}/{group['id']}/members/{people[name]['id']}",
                    {"role": "member"}, token=teacher), 200, 201)
            # The sign-in lifecycle (docs/ACCOUNTS.md): a pupil with an activation code, and
            # one whose password the admin set (a forced change).
            new = fixtures.make_user(cls.host, cls.op_token, cls.SLUG, "neo", roles=["student"],
                                     password=None)
            cls.activation_code = fixtures.check(cls.host.request(
                "POST", f"/api/v1/schools/{cls.SLUG}/activation-codes", {"users": [new["id"]]},
                token=admin), 201).json()["items"][0]["code"]
            fixtures.check(cls.host.request(
                "PATCH", f"/api/v1/schools/{cls.SLUG}/users/{people['sid']['id']}",
                {"password": "set by the admin"}, token=admin), 200)
        except BaseException:
            cls._stop_shared()
            raise

    def test_portal_in_chromium(self):
        browser_run.run_script(self, "portal.mjs", self.host.url, "portal-screenshots", 22,
                               ATRIUM_SCHOOL=self.SLUG,
                               ATRIUM_ACTIVATION_CODE=self.activation_code)


if __name__ == "__main__":
    harness.main()
