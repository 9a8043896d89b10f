# SPDX-License-Identifier: Apache-2.0
"""test_portal_account_browser.py - the portal's account pages end to end in a real browser
(docs/PORTAL.md, "My account" and "Admin and operator pages"): the forced password change
after a reload, "My account" (changing one's password, enrolling TOTP with its QR code,
signing in with a code and with a recovery code, turning the factor off), the enrolment a
school's policy forces, and a school admin managing one person (name, username, a one-time
password, removing a second factor, parent links, erasing).

One PostgreSQL, one atriumd and one browser for the file (fixtures.SharedHost). The school is
made here over REST; tests/browser/account.mjs only uses the pages (Debian's Chromium driven by
playwright-core from tests/tools, axe-core and a screenshot of every page under
<build>/meson-logs/portal-account-screenshots/), computes TOTP codes itself (RFC 6238, from the
key read off the page) and decodes the QR code's screenshot with zbarimg. Afterwards the
server is asked whether what the pages said happened did happen.
"""

import base64
import hashlib
import hmac
import os
import shutil
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import browser_run  # noqa: E402
import fixtures  # noqa: E402
import harness  # noqa: E402

SLUG = "account-browser"
TEMP = "Temp-Pass-4711"  # what the admin sets for rita before the browser starts


def totp(secret_b32: str, step: int) -> str:
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[19] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


class PortalAccountBrowser(fixtures.SharedHost):
    EXIT_CHECK = ("portal.c", "users.c", "totp.c")

    @classmethod
    def setUpClass(cls):
        browser_run.require_tools()
        if not shutil.which("zbarimg"):
            raise AssertionError("zbarimg is missing: run scripts/setup.sh (zbar-tools)")
        super().setUpClass()
        try:
            cls._make_school()
        except BaseException:
            cls._stop_shared()
            raise

    @classmethod
    def _make_school(cls):
        host, op = cls.host, cls.op_token
        fixtures.make_school(host, op, SLUG)
        cls.people = {}
        for name, role, pw in (("ada", "admin", True), ("rita", "student", True),
                               ("tina", "teacher", True), ("paul", "student", True),
                               ("sam", "student", False), ("eric", "student", False),
                               ("petra", "parent", False)):
            cls.people[name] = fixtures.make_user(
                host, op, SLUG, name, roles=[role],
                password=fixtures.PASSWORD if pw else None,
                display_name={"sam": "Sam Sommer", "eric": "Eric Erase",
                              "petra": "Petra Parent", "paul": "Paul Factor"}.get(name))
        admin = fixtures.login(host, "ada", school=SLUG)
        users = f"/api/v1/schools/{SLUG}/users"
        # Rita's password is set by the admin: she must change it at her next sign-in.
        fixtures.check(host.request("PATCH", f"{users}/{cls.people['rita']['id']}",
                                    {"password": TEMP}, token=admin), 200)
        # Paul has a second factor (enrolled over REST), which the admin removes in the page.
        paul = fixtures.login(host, "paul", school=SLUG)
        made = fixtures.check(host.request("POST", "/api/v1/me/totp", token=paul),
                              201).json()
        code = totp(made["secret"], int(time.time()) // 30 - 1)
        fixtures.check(host.request("POST", "/api/v1/me/totp/confirm", {"code": code},
                                    token=paul), 200)
        # Teachers must use a second factor: tina's next sign-in is marked must_enrol_totp.
        fixtures.check(host.request("PUT", f"/api/v1/schools/{SLUG}/account-policy",
                                    {"totp_roles": ["teacher"], "remember_days": 0},
                                    token=admin), 200)

    def _user(self, name):
        admin = fixtures.login(self.host, "ada", school=SLUG)
        return self.host.request("GET", f"/api/v1/schools/{SLUG}/users/"
                                 f"{self.people[name]['id']}", token=admin)

    def test_account_pages_in_chromium(self):
        self.assertTrue(self._user("paul").json()["totp_enabled"], "paul starts with TOTP")
        self.assertTrue(self._user("rita").json()["must_change_password"])
        out = browser_run.run_script(self, "account.mjs", self.host.url,
                                     "portal-account-screenshots", 12, ATRIUM_SCHOOL=SLUG,
                                     ATRIUM_TEMP=TEMP)
        # What the pages said, as the server has it now.
        rita = self._user("rita").json()
        self.assertFalse(rita["must_change_password"])
        self.assertFalse(rita["totp_enabled"], "rita turned her second factor off again")
        paul = self._user("paul").json()
        self.assertFalse(paul["totp_enabled"], "the admin removed paul's second factor")
        tina = self._user("tina").json()
        self.assertTrue(tina["totp_enabled"], "tina enrolled as her school requires")
        self.assertFalse(tina["must_enrol_totp"])
        self.assertEqual(paul["parents"], [], "linked, then unlinked")
        sam = self._user("sam").json()
        self.assertEqual(sam["display_name"], "Samuel Sommer")
        self.assertEqual(sam["username"], "samuel")
        self.assertFalse(sam["must_change_password"], "sam changed the one-time password")
        harness.assert_problem(self._user("eric"), 404)
        admin = fixtures.login(self.host, "ada", school=SLUG)
        audit = fixtures.check(self.host.request(
            "GET", f"/api/v1/schools/{SLUG}/audit?limit=200", token=admin), 200).json()
        actions = [e["action"] for e in audit["items"]]
        for action in ("user.totp_enabled", "user.totp_disabled", "user.totp_removed",
                       "user.parent_linked", "user.parent_unlinked", "user.password_reset"):
            self.assertIn(action, actions)
        self.assertIn("auth.totp_passed", actions, out)

    def test_user_object_says_whether_totp_is_on(self):
        # The page's state of the second factor comes from the user object; nobody else's
        # school can see it (another school's id is a 404, as every users route answers).
        fixtures.make_school(self.host, self.op_token, "account-other")
        other = fixtures.make_user(self.host, self.op_token, "account-other", "olga",
                                   roles=["admin"])
        olga = fixtures.login(self.host, "olga", school="account-other")
        me = fixtures.check(self.host.request("GET", "/api/v1/me", token=olga), 200).json()
        self.assertIs(me["totp_enabled"], False)
        self.assertIs(fixtures.check(self.host.request(
            "GET", f"/api/v1/schools/account-other/users/{other['id']}", token=olga),
            200).json()["totp_enabled"], False)
        listed = fixtures.check(self.host.request(
            "GET", "/api/v1/schools/account-other/users?q=olga", token=olga), 200).json()
        self.assertIs(listed["items"][0]["totp_enabled"], False)
        resp = self.host.request(
            "GET", f"/api/v1/schools/{SLUG}/users/{self.people['paul']['id']}", token=olga)
        self.assertIn(resp.status, (403, 404), resp.body[:300])
        self.assertNotIn(b"totp_enabled", resp.body)


if __name__ == "__main__":
    harness.main()
