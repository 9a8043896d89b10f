# SPDX-License-Identifier: Apache-2.0
"""test_portal_admin_browser.py - the portal's admin and operator pages (docs/PORTAL.md, "Admin
and operator pages"), end to end in a real browser, and the two REST additions they needed.

One PostgreSQL and one atriumd for the file (fixtures.SharedHost). The browser test makes a
school with an admin, a teacher, a student and 24 pupils (so the people list has two pages),
the groups, noticeboard and conference modules, a Jitsi backend and a room joined three times
today, then runs tests/browser/admin.mjs: Debian's Chromium, headless with a private profile,
driven by playwright-core from tests/tools, one browser for the file. It drives people (search,
paging, create, roles, disable), the CSV import through its dry-run preview, modules, groups,
the audit log, the operator's schools and the usage chart; axe-core on every page, a screenshot
of each under <build>/meson-logs/portal-admin-screenshots/.

The REST tests, in a school of their own: PATCH .../users/{id} with "disabled" (users.manage;
sessions end; not oneself; wrong types, another school's person) and GET /api/v1/portal/nav
(operators' pages; nobody else's) with the core's pages in the school's navigation.
"""

import datetime
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import browser_run  # noqa: E402
import fixtures  # noqa: E402
import harness  # noqa: E402

JOINS = 3


class PortalAdminBrowser(fixtures.SharedHost):
    SLUG = "admin-browser"
    HOST_ENV = {"ATRIUM_CONFERENCE_SECRET_KEY": "5e" * 32}
    EXIT_CHECK = ("portal.c", "users.c")

    @classmethod
    def setUpClass(cls):
        browser_run.require_tools()
        super().setUpClass()
        try:
            cls._make_browser_school()
            cls._make_rest_school()
        except BaseException:
            cls._stop_shared()
            raise

    @classmethod
    def _make_browser_school(cls):
        host, slug = cls.host, cls.SLUG
        fixtures.make_school(host, cls.op_token, slug,
                             modules=["noticeboard", "groups", "conference"])
        for name, role in (("ada", "admin"), ("tessa", "teacher"), ("stella", "student")):
            fixtures.make_user(host, cls.op_token, slug, name, roles=[role])
        for i in range(24):  # without passwords: no hashing, quick
            fixtures.make_user(host, cls.op_token, slug, f"pupil{i:02d}", roles=["student"],
                               password=None, display_name=f"Pupil {i:02d}")
        admin = fixtures.login(host, "ada", school=slug)
        fixtures.check(host.request(
            "PUT", f"/api/v1/schools/{slug}/conference/backend",
            {"type": "jitsi", "url": "https://meet.example.org", "app_id": "atrium-admin",
             "secret": "jitsi-secret-of-the-admin-test"}, token=admin), 200)
        teacher = fixtures.login(host, "tessa", school=slug)
        rooms = f"/api/v1/schools/{slug}/conference/rooms"
        room = fixtures.check(host.request("POST", rooms, {"name": "Staff room"},
                                           token=teacher), 201).json()
        for _ in range(JOINS):
            fixtures.check(host.request("POST", f"{rooms}/{room['id']}/join", token=teacher),
                           200)
        # What the page must draw for today, as the route counts it.
        today = datetime.datetime.now(datetime.timezone.utc).date()
        stats = fixtures.check(host.request(
            "GET", f"/api/v1/conference/stats?from={today}T00:00:00Z&granularity=day",
            token=cls.op_token), 200).json()
        cls.joins_today = stats["buckets"][0]["joins"]

    @classmethod
    def _make_rest_school(cls):
        fixtures.make_school(cls.host, cls.op_token, "admin-rest")
        fixtures.make_school(cls.host, cls.op_token, "admin-other")
        cls.rest = {}
        for name, role in (("amy", "admin"), ("tom", "teacher"), ("sam", "student")):
            cls.rest[name] = fixtures.make_user(cls.host, cls.op_token, "admin-rest", name,
                                                roles=[role])
        cls.other = fixtures.make_user(cls.host, cls.op_token, "admin-other", "olga",
                                       roles=["student"])

    # ---- the browser ----

    def test_admin_pages_in_chromium(self):
        self.assertEqual(self.joins_today, JOINS, "each join is one join in today's figures")
        browser_run.run_script(self, "admin.mjs", self.host.url, "portal-admin-screenshots", 14,
                               ATRIUM_SCHOOL=self.SLUG,
                               ATRIUM_JOINS=str(self.joins_today))

    # ---- REST: disabling a person ----

    def _req(self, who, method, path, body=None, **kw):
        token = fixtures.login(self.host, who, school="admin-rest") if who else None
        return self.host.request(method, f"/api/v1/schools/admin-rest{path}", body,
                                 token=token, **kw)

    def test_disable_and_enable(self):
        admin = fixtures.login(self.host, "amy", school="admin-rest")
        victim = fixtures.make_user(self.host, admin, "admin-rest", "dora", roles=["student"])
        session = fixtures.login(self.host, "dora", school="admin-rest")
        path = f"/api/v1/schools/admin-rest/users/{victim['id']}"
        out = fixtures.check(self.host.request("PATCH", path, {"disabled": True}, token=admin),
                             200).json()
        self.assertIsNotNone(out["disabled_at"])
        # Her session ended at once, and she cannot sign in again.
        harness.assert_problem(self.host.request("GET", "/api/v1/me", token=session), 401)
        resp = self.host.request("POST", "/api/v1/auth/login",
                                 {"school": "admin-rest", "username": "dora",
                                  "password": fixtures.PASSWORD})
        harness.assert_problem(resp, 401)
        self.assertIn("disabled", resp.json()["detail"])
        # Again: nothing changes, nothing more is audited.
        fixtures.check(self.host.request("PATCH", path, {"disabled": True}, token=admin), 200)
        out = fixtures.check(self.host.request("PATCH", path, {"disabled": False},
                                               token=admin), 200).json()
        self.assertIsNone(out["disabled_at"])
        fixtures.login(self.host, "dora", school="admin-rest")
        audit = fixtures.check(self.host.request(
            "GET", "/api/v1/schools/admin-rest/audit?limit=100", token=admin), 200).json()
        mine = [e["action"] for e in audit["items"] if e.get("target") == victim["id"]]
        self.assertEqual(mine.count("user.disabled"), 1, mine)
        self.assertEqual(mine.count("user.enabled"), 1, mine)

    def test_disable_refusals(self):
        admin = fixtures.login(self.host, "amy", school="admin-rest")
        base = "/api/v1/schools/admin-rest/users"
        sam = self.rest["sam"]["id"]
        # Not oneself; not without users.manage (a teacher, the person themself); no token.
        harness.assert_problem(self.host.request(
            "PATCH", f"{base}/{self.rest['amy']['id']}", {"disabled": True}, token=admin), 409)
        for who in ("tom", "sam"):
            token = fixtures.login(self.host, who, school="admin-rest")
            harness.assert_problem(self.host.request(
                "PATCH", f"{base}/{sam}", {"disabled": True}, token=token), 403)
        harness.assert_problem(self.host.request(
            "PATCH", f"{base}/{sam}", {"disabled": True}), 401)
        # Wrong types, malformed JSON, unknown fields, unknown or another school's person.
        for body in ({"disabled": "yes"}, {"disabled": 1}, {"disabled": None},
                     {"disabled": True, "banned": True}):
            harness.assert_problem(self.host.request(
                "PATCH", f"{base}/{sam}", body, token=admin), 400)
        harness.assert_problem(self.host.request(
            "PATCH", f"{base}/{sam}", b'{"disabled": tru', token=admin,
            headers={"Content-Type": "application/json"}), 400)
        harness.assert_problem(self.host.request(
            "PATCH", f"{base}/{self.other['id']}", {"disabled": True}, token=admin), 404)
        harness.assert_problem(self.host.request(
            "PATCH", f"{base}/00000000-0000-4000-8000-000000000000", {"disabled": True},
            token=admin), 404)
        # Nothing of it happened.
        for uid in (sam, self.rest["amy"]["id"]):
            got = fixtures.check(self.host.request("GET", f"{base}/{uid}", token=admin),
                                 200).json()
            self.assertIsNone(got["disabled_at"])
        op = fixtures.check(self.host.request(
            "GET", f"/api/v1/schools/admin-other/users/{self.other['id']}",
            token=self.op_token), 200).json()
        self.assertIsNone(op["disabled_at"])

    # ---- REST: the navigation of the core's pages ----

    def test_navigation(self):
        def ids(resp):
            return [i["id"] for i in fixtures.check(resp, 200).json()["items"]]

        nav = "/api/v1/schools/admin-rest/portal/nav"
        admin = fixtures.login(self.host, "amy", school="admin-rest")
        teacher = fixtures.login(self.host, "tom", school="admin-rest")
        # No groups module in this school: no groups admin page.
        self.assertEqual(ids(self.host.request("GET", nav, token=admin)),
                         ["people", "import", "access", "modules", "audit"])
        self.assertEqual(ids(self.host.request("GET", nav, token=teacher)), [])
        fixtures.enable_module(self.host, self.op_token, "admin-rest", "groups")
        try:
            got = fixtures.check(self.host.request("GET", nav, token=admin), 200).json()["items"]
            self.assertIn("admin-groups", [i["id"] for i in got])
            entry = next(i for i in got if i["id"] == "people")
            self.assertEqual(entry["module_name"], "core")
            self.assertEqual(entry["label"], {"en": "People", "de": "Personen"})
            self.assertRegex(entry["module"], r"^/portal/assets/[0-9a-f]+/admin-people\.js$")
            # The module is served from the shell's bundle.
            asset = self.host.request("GET", entry["module"])
            self.assertEqual(asset.status, 200)
            self.assertIn("javascript", asset.headers.get("content-type", ""))
        finally:
            fixtures.check(self.host.request(
                "DELETE", "/api/v1/schools/admin-rest/modules/groups", token=self.op_token), 204)
        # The installation's pages: operators only; nobody signed in gets 401.
        self.assertEqual(ids(self.host.request("GET", "/api/v1/portal/nav",
                                               token=self.op_token)), ["schools", "usage"])
        for token in (admin, teacher):
            self.assertEqual(ids(self.host.request("GET", "/api/v1/portal/nav", token=token)), [])
        harness.assert_problem(self.host.request("GET", "/api/v1/portal/nav"), 401)
        harness.assert_problem(self.host.request("GET", "/api/v1/portal/nav",
                                                       token="garbage"), 401)


if __name__ == "__main__":
    harness.main()
