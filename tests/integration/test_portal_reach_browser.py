# SPDX-License-Identifier: Apache-2.0
"""test_portal_reach_browser.py - the portal's areas of issue #17 that reach past one's own
things, in a real browser (docs/PORTAL.md): group folders, moves and share links on the files
page, adding members and changing roles on the groups page, guest links and ending on the
conference page, and one occurrence of a series on the calendar page.

Starts PostgreSQL and atriumd (fixtures.SharedHost) and makes a school over REST: a teacher
who owns the class 7a (two students in it, one of whom cannot sign in), a student outside the
class, two files in the teacher's home and a folder in the class's, a Jitsi backend and a room
the teacher moderates, a daily series of three (Monday to Wednesday of this week). Then runs
tests/browser/reach.mjs in Debian's Chromium (playwright-core from tests/tools). As the
teacher: moves a file into the class's folder and sees it there; makes a share link with a
password and one without, fetches both anonymously from Node (the password is asked for, the
bytes compared), lists them and revokes one (404 after); adds the outsider to the class from
a search, makes a member an owner; makes a guest link for the room (its URL checked with an
anonymous POST: a signed Jitsi URL for the guest, not opened), revokes it (404 after), ends
the meeting; moves one time of the series to another day and cancels another in the week
view. Then the pupil who was added signs in, sees the class and downloads the moved file from
its folder. axe-core on every page (0 serious or critical), German and a phone's width, a
screenshot of each page under <build>/meson-logs/portal-reach-screenshots/; afterwards the
server is asked what the pages did. One cluster, one host, one browser.
"""

import datetime
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import browser_run  # noqa: E402
import fixtures  # noqa: E402
import harness  # noqa: E402


class PortalReachBrowser(fixtures.SharedHost):
    SLUG = "reach"
    HOST_ENV = {"ATRIUM_CONFERENCE_SECRET_KEY": "7a" * 32}
    EXIT_CHECK = ("browser-session", "portal.c", "assets.c", "shares.c", "tree.c", "join.c",
                  "member-routes.c")

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
                             modules=["groups", "files", "calendar", "conference"])
        people = {}
        for name, role, pw in (("tessa", "teacher", True), ("stella", "student", True),
                               ("sid", "student", False), ("otto", "student", True),
                               ("paula", "student", False), ("ada", "admin", True)):
            people[name] = fixtures.make_user(
                host, cls.op_token, slug, name, roles=[role],
                display_name=name.capitalize(), **({} if pw else {"password": None}))
        cls.people = people
        tok = {n: fixtures.login(host, n, school=slug) for n in ("tessa", "ada")}
        base = f"/api/v1/schools/{slug}"

        def ok(who, method, path, body=None, *status, headers=None):
            return fixtures.check(host.request(method, base + path, body, headers=headers,
                                               token=tok[who]), *(status or (200, 201)),
                                  what=f"{who}: {method} {path}")

        # Class 7a: tessa owns it, stella and sid are members; otto is not in it.
        cls.class_id = ok("tessa", "POST", "/groups", {"name": "Class 7a", "type": "class",
                                                       "slug": "class-7a"}).json()["id"]
        for name in ("stella", "sid"):
            ok("tessa", "PUT", f"/groups/{cls.class_id}/members/{people[name]['id']}",
               {"role": "member"})
        # The teacher's home: a file to move, a folder, and a file to share.
        ok("tessa", "PUT", "/files/home/worksheet.txt", b"Worksheet for the excursion\n",
           headers={"Content-Type": "text/plain"})
        ok("tessa", "PUT", "/files/home/plans.txt", b"Plans for the term\n",
           headers={"Content-Type": "text/plain"})
        ok("tessa", "POST", "/files/groups/" + cls.class_id + "/Homework?action=mkdir")
        # A Jitsi backend and a room the teacher moderates.
        ok("ada", "PUT", "/conference/backend",
           {"type": "jitsi", "url": "https://meet.example.org", "app_id": "atrium-reach",
            "secret": "jitsi-secret-of-the-reach-test"})
        ok("tessa", "POST", "/conference/rooms", {"name": "Parents' consultation"})
        # A weekly series of three, Monday of this week at 10:00 (the browser's zone is this
        # process's zone).
        today = datetime.date.today()
        monday = today - datetime.timedelta(days=today.weekday())
        cls.monday = monday
        cal = ok("tessa", "POST", "/calendar/calendars",
                 {"name": "My calendar", "owner": {"type": "user"}}).json()["id"]
        cls.calendar_id = cal
        start = datetime.datetime.combine(monday, datetime.time(10, 0)).astimezone()
        cls.series = ok("tessa", "POST", f"/calendar/calendars/{cal}/events", {
            "summary": "Choir", "start": start.isoformat(),
            "end": (start + datetime.timedelta(hours=1)).isoformat(),
            "rrule": "FREQ=DAILY;COUNT=3"}).json()

    def test_reach_in_chromium(self):
        browser_run.run_script(self, "reach.mjs", self.host.url, "portal-reach-screenshots", 13,
                               ATRIUM_SCHOOL=self.SLUG, ATRIUM_MONDAY=self.monday.isoformat())
        # What the pages did, asked of the server.
        tessa = fixtures.login(self.host, "tessa", school=self.SLUG)
        base = f"/api/v1/schools/{self.SLUG}"

        def get(path):
            return fixtures.check(self.host.request("GET", base + path, token=tessa),
                                  200).json()

        members = {m["username"]: m["role"]
                   for m in get(f"/groups/{self.class_id}/members")["items"]}
        self.assertEqual(members, {"tessa": "owner", "stella": "owner", "sid": "member",
                                   "otto": "member", "paula": "member"})
        moved = get(f"/files/groups/{self.class_id}/Homework/")["items"]
        self.assertEqual([f["name"] for f in moved], ["worksheet.txt"])
        self.assertNotIn("worksheet.txt", [f["name"] for f in get("/files/home/")["items"]])
        series = get(f"/calendar/calendars/{self.calendar_id}/events/{self.series['id']}")
        self.assertEqual(len(series["overrides"]), 1, series)
        self.assertEqual(len(series["exdates"]), 1, series)
        moved = datetime.datetime.fromisoformat(series["overrides"][0]["start"]).astimezone()
        self.assertEqual((moved.date(), moved.hour),
                         (self.monday + datetime.timedelta(days=3), 14))
        links = get("/files/shares")["items"]
        self.assertEqual([(x["path"], x["has_password"]) for x in links], [("plans.txt", True)])
        # The link with a password lasts one day, as chosen on the page.
        left = (datetime.datetime.fromisoformat(links[0]["expires_at"]) -
                datetime.datetime.now(datetime.timezone.utc))
        self.assertTrue(datetime.timedelta(hours=23) < left <= datetime.timedelta(days=1), left)

    def test_add_member_by_username(self):
        """POST .../groups/{id}/members {username, role}: what the groups page uses for owners
        without users.read, and every refusal (each changing nothing)."""
        host, op = self.host, self.op_token
        fixtures.make_school(host, op, "reach-rest", modules=["groups"])
        fixtures.make_school(host, op, "reach-other", modules=["groups"])
        for name, role in (("olga", "student"), ("pia", "student"), ("quin", "student"),
                           ("ben", "student"), ("tim", "teacher")):
            fixtures.make_user(host, op, "reach-rest", name, roles=[role],
                               password=None if name == "ben" else fixtures.PASSWORD)
        fixtures.make_user(host, op, "reach-other", "zoe", roles=["teacher"])
        tok = {n: fixtures.login(host, n, school="reach-rest")
               for n in ("olga", "pia", "quin", "tim")}
        zoe = fixtures.login(host, "zoe", school="reach-other")
        base = "/api/v1/schools/reach-rest/groups"

        def req(who, method, path, body=None, headers=None):
            return host.request(method, base + path, body, headers=headers, token=tok.get(who))

        # A working group a pupil owns (a teacher made it and handed it over), another pupil
        # in it as a member.
        gid = fixtures.check(req("tim", "POST", "", {"name": "Chess club", "type": "workgroup"}),
                             201).json()["id"]
        for name, role in (("olga", "owner"), ("pia", "member"), ("tim", "member")):
            uid = self._user_id("reach-rest", name)
            fixtures.check(req("tim", "PUT", f"/{gid}/members/{uid}", {"role": role}), 200, 201)

        def members():
            return {m["username"]: m["role"] for m in fixtures.check(
                req("tim", "GET", f"/{gid}/members"), 200).json()["items"]}

        before = members()
        # Refusals first; none of them changes anything.
        bad = [
            ("malformed JSON", "olga", b'{"username": ', 400),
            ("not an object", "olga", ["ben"], 400),
            ("no username", "olga", {"role": "member"}, 400),
            ("a number", "olga", {"username": 5}, 400),
            ("a bad role", "olga", {"username": "ben", "role": "boss"}, 400),
            ("an unknown field", "olga", {"username": "ben", "user_id": "x"}, 400),
            ("too long", "olga", {"username": "b" * 65}, 400),
            ("empty", "olga", {"username": ""}, 400),
            ("nobody", "olga", {"username": "nobody"}, 404),
            ("another school's person", "olga", {"username": "zoe"}, 404),
            ("a plain member", "pia", {"username": "ben"}, 403),
            ("not in the group", "quin", {"username": "ben"}, 404),
            ("no sign-in", None, {"username": "ben"}, 401),
        ]
        for what, who, body, status in bad:
            with self.subTest(what):
                headers = {"Content-Type": "application/json"} if isinstance(body, bytes) else None
                self.assertProblem(req(who, "POST", f"/{gid}/members", body, headers), status)
        huge = b'{"username": "' + b"b" * 2_000_000 + b'"}'
        self.assertIn(req("olga", "POST", f"/{gid}/members", huge,
                          {"Content-Type": "application/json"}).status, (400, 413))
        # Another school's group, and this group from another school.
        other = fixtures.check(host.request(
            "POST", "/api/v1/schools/reach-other/groups", {"name": "Other", "type": "workgroup"},
            token=zoe), 201).json()["id"]
        self.assertProblem(req("olga", "POST", f"/{other}/members", {"username": "ben"}), 404)
        self.assertProblem(host.request("POST", f"/api/v1/schools/reach-other/groups/{gid}"
                                        "/members", {"username": "ben"}, token=zoe), 404)
        self.assertEqual(members(), before)

        # The pupil who owns the group adds someone by username (in any case), then again, then
        # changes the role; the last owner cannot step down this way either.
        resp = req("olga", "POST", f"/{gid}/members", {"username": "Ben"})
        self.assertEqual(resp.status, 201, resp.text)
        ben = self._user_id("reach-rest", "ben")
        self.assertEqual(resp.json(), {"group_id": gid, "user_id": ben, "role": "member"})
        self.assertEqual(req("olga", "POST", f"/{gid}/members", {"username": "ben"}).status, 200)
        self.assertEqual(req("olga", "POST", f"/{gid}/members",
                             {"username": "ben", "role": "owner"}).status, 200)
        self.assertEqual(members(), dict(before, ben="owner"))
        fixtures.check(req("olga", "DELETE", f"/{gid}/members/{ben}"), 204)
        self.assertProblem(req("olga", "POST", f"/{gid}/members",
                               {"username": "olga", "role": "member"}), 409)
        self.assertEqual(members(), before)

    def _user_id(self, school, name):
        users = fixtures.check(self.host.request(
            "GET", f"/api/v1/schools/{school}/users?q={name}", token=self.op_token), 200)
        return next(u["id"] for u in users.json()["items"] if u["username"] == name)


if __name__ == "__main__":
    harness.main()
