# SPDX-License-Identifier: Apache-2.0
"""test_portal_areas_browser.py - the portal's areas beyond the first increment, in a real
browser (docs/PORTAL.md): the mail page, the start page's "today" and the calendar's views.

Starts PostgreSQL and atriumd (fixtures.SharedHost), makes a school with groups, files,
calendar, mail and conference, a mail domain, a class the teacher owns with two students, a
file in the teacher's home, an all-day event today, a room, and a mail from a student to the
teacher, all over REST. Then runs tests/browser/areas.mjs in Debian's Chromium (playwright-core
from tests/tools), which: shows the teacher's start page with today's event, the unread mail,
the recent file and the open room; reads the student's HTML mail (sanitised, rebuilt without
innerHTML); sends a mail to the class's address with a file attached from the teacher's home;
replies; searches; signs in as a member of the class and reads the mail and its attachment
(the issue's check); draws the calendar's month and day views, edits an event's title, time
and repeat rule, deletes it, and shows a subscription link. axe-core on every page (0 serious
or critical), German and a phone's width on the mail page, a screenshot of each page under
<build>/meson-logs/portal-areas-screenshots/. One cluster, one host, one browser.
"""

import datetime
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import browser_run  # noqa: E402
import fixtures  # noqa: E402
import harness  # noqa: E402



class PortalAreasBrowser(fixtures.SharedHost):
    SLUG = "areas"
    DOMAIN = "areas.example.org"
    EXIT_CHECK = ("browser-session", "portal.c", "assets.c", "mail", "html.c")

    @classmethod
    def setUpClass(cls):
        browser_run.require_tools()
        super().setUpClass()
        try:
            cls._make_school()
        except BaseException:
            cls._stop_shared()
            raise

    @classmethod
    def _make_school(cls):
        host, slug = cls.host, cls.SLUG
        fixtures.make_school(host, cls.op_token, slug,
                             modules=["groups", "files", "calendar", "mail", "conference"])
        people = {}
        for name, role in (("tessa", "teacher"), ("stella", "student"), ("sid", "student"),
                           ("ada", "admin")):
            people[name] = fixtures.make_user(host, cls.op_token, slug, name, roles=[role])
        tok = {n: fixtures.login(host, n, school=slug) for n in ("tessa", "stella", "ada")}
        base = f"/api/v1/schools/{slug}"

        def ok(who, method, path, body=None, *status, headers=None):
            return fixtures.check(host.request(method, base + path, body, headers=headers,
                                               token=tok[who]), *(status or (200, 201)),
                                  what=f"{who}: {method} {path}")

        ok("ada", "PUT", "/mail/settings", {"domain": cls.DOMAIN})
        # Class 7a: the teacher owns it, stella and sid are in it; its address is class-7a@.
        gid = ok("tessa", "POST", "/groups", {"name": "Class 7a", "type": "class",
                                              "slug": "class-7a"}).json()["id"]
        for name in ("stella", "sid"):
            ok("tessa", "PUT", f"/groups/{gid}/members/{people[name]['id']}", {"role": "member"})
        # A file in the teacher's home: the start page's recent files, and an attachment.
        ok("tessa", "PUT", "/files/home/worksheet.txt", b"Worksheet for the excursion\n",
           headers={"Content-Type": "text/plain"})
        # An all-day event today (the browser's day: Chromium runs in this process's zone).
        today = datetime.date.today()
        cal = ok("tessa", "POST", "/calendar/calendars",
                 {"name": "My calendar", "owner": {"type": "user"}}).json()["id"]
        ok("tessa", "POST", f"/calendar/calendars/{cal}/events",
           {"summary": "Parents' evening", "start": today.isoformat(),
            "end": (today + datetime.timedelta(days=1)).isoformat(), "all_day": True})
        # A room with no time window: open now.
        ok("tessa", "POST", "/conference/rooms", {"name": "Staff room"})
        # Mail from a student to the teacher, in HTML with what the sanitiser must remove.
        ok("stella", "POST", "/mail/messages", {
            "to": [f"tessa@{cls.DOMAIN}"], "subject": "Question about homework",
            "text": "Which page is the homework on?",
            "html": "<p>Which <b>page</b> is the homework on?</p>"
                    "<script>document.title='pwned'</script>"
                    "<img src=\"https://tracker.example/p.gif\" alt=\"[logo]\">"
                    "<p><a href=\"javascript:alert(1)\">click</a> "
                    "<a href=\"https://example.org/book\">the book</a></p>"}, 201)

    def test_areas_in_chromium(self):
        browser_run.run_script(self, "areas.mjs", self.host.url, "portal-areas-screenshots", 15,
                               ATRIUM_SCHOOL=self.SLUG,
                               ATRIUM_MAIL_DOMAIN=self.DOMAIN)
        # What the browser sent, checked on the server's side: the class's other member and
        # the copy's recipient got the mail with its attachment.
        for who in ("sid", "ada"):  # the class's other member, and the copy
            tok = fixtures.login(self.host, who, school=self.SLUG)
            inbox = fixtures.check(self.host.request(
                "GET", f"/api/v1/schools/{self.SLUG}/mail/folders/INBOX/messages", token=tok),
                200).json()["items"]
            got = [m for m in inbox if m["subject"] == "Excursion on Monday"]
            self.assertEqual(len(got), 1, inbox)
            self.assertTrue(got[0]["has_attachments"])
            self.assertIn(f"ada@{self.DOMAIN}", got[0]["cc"])


if __name__ == "__main__":
    harness.main()
