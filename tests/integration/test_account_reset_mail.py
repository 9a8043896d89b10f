# SPDX-License-Identifier: Apache-2.0
"""test_account_reset_mail.py - a forgotten password reset by a mailed link (issue #20;
docs/ACCOUNTS.md).

POST /api/v1/auth/password-reset mails a link to an account's external address (set by an
admin: `email` on POST/PATCH .../users) through the host's sendmail ([sendmail] command; here
a stand-in that records its argv and stdin); the link's token sets a new password once at
POST /api/v1/auth/password-reset/confirm, which ends every session of the person. One address
shared by brothers and sisters names each account in its own mail.

Nothing is revealed: an unknown login, a person without an address, a disabled person and an
unknown school all answer 202 and send nothing. Refusals: a wrong, used, expired or another
school's token (401), a password the policy refuses (422, and the link still works), unknown
fields, wrong types and malformed JSON (400), more than three requests for one login in 15
minutes (429 with Retry-After, and no mail), an address that is not one (400), a person
setting their own address (403). A sendmail that fails still answers 202. In Chromium
(tests/browser/reset.mjs): the sign-in page's "Forgot your password?", the mailed link's page
(the token gone from the address bar), a new password and signing in with it, the used link.
"""

import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import browser_run  # noqa: E402
import fixtures  # noqa: E402

ASK = "/api/v1/auth/password-reset"
CONFIRM = "/api/v1/auth/password-reset/confirm"
LINK = re.compile(r"(http://[^\s]+)/#/reset/([a-z0-9-]+)/([A-Za-z0-9_-]{43})\r?$", re.M)

# The stand-in sendmail: each run writes its argv (a line each) and its stdin into a new
# directory under calls/; a file "exit" in the control directory is its exit status, and with
# a file "hang" it starts a child that sleeps (its pid in the call's "child") and waits for it.
STAND_IN = r"""#!/bin/sh
dir='@DIR@'
call=$(mktemp -d "$dir/calls/$(date +%s%N).XXXXXX")
for a in "$@"; do printf '%s\n' "$a"; done > "$call/argv"
cat > "$call/stdin"
if [ -f "$dir/hang" ]; then sleep 600 & echo $! > "$call/child"; wait; fi
code=0
if [ -f "$dir/exit" ]; then code=$(cat "$dir/exit"); fi
if [ "$code" != 0 ]; then echo "stand-in says no ($code)" >&2; fi
exit "$code"
"""

CTL = tempfile.mkdtemp(prefix="atrium-reset-sendmail-")
os.mkdir(os.path.join(CTL, "calls"))
SENDMAIL = os.path.join(CTL, "sendmail")
with open(SENDMAIL, "w", encoding="utf-8") as f:
    f.write(STAND_IN.replace("@DIR@", CTL))
os.chmod(SENDMAIL, 0o755)


class ResetSchool(fixtures.School):
    SLUG_PREFIX = "rst"
    MODULES = ()
    PEOPLE = ("ada", "tina", "sam")


class ResetMail(fixtures.SharedHost):
    HOST_ENV = {"ATRIUM_SENDMAIL_COMMAND": SENDMAIL, "ATRIUM_RESET_FROM": "noreply@school.test",
                "ATRIUM_SENDMAIL_TIMEOUT": "2"}
    EXIT_CHECK = ("identity/", "ops/sendmail")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.s = ResetSchool(cls.host, cls.op_token)
            cls.other = ResetSchool(cls.host, cls.op_token)
        except BaseException:
            cls._stop_shared()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(CTL, ignore_errors=True)

    def setUp(self):
        # Every request counts against the client address (20 in 15 minutes): each test
        # starts afresh, so that the tests do not depend on each other's order.
        self.pg.psql("DELETE FROM core.login_throttle WHERE key LIKE 'reset%'")
        for name in os.listdir(os.path.join(CTL, "calls")):
            shutil.rmtree(os.path.join(CTL, "calls", name))
        for control in ("exit", "hang"):
            if os.path.exists(os.path.join(CTL, control)):
                os.remove(os.path.join(CTL, control))

    # -- helpers ---------------------------------------------------------------------------

    def set_email(self, name, email, school=None):
        school = school or self.s
        r = self.host.request("PATCH", f"/api/v1/schools/{school.slug}/users/{school.ids[name]}",
                              {"email": email}, token=school.tokens["ada"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["email"], email)

    def ask(self, login, school=None):
        return self.host.request("POST", ASK, {"school": school or self.s.slug, "login": login})

    def confirm(self, token, password="a brand new password", school=None):
        return self.host.request("POST", CONFIRM, {"school": school or self.s.slug,
                                                   "token": token, "new_password": password})

    def mails(self):
        """What the stand-in sendmail got, oldest first: (argv lines, message text)."""
        calls = sorted(os.listdir(os.path.join(CTL, "calls")))
        out = []
        for c in calls:
            d = os.path.join(CTL, "calls", c)
            with open(os.path.join(d, "argv"), encoding="utf-8") as f:
                argv = f.read().splitlines()
            with open(os.path.join(d, "stdin"), encoding="utf-8", newline="") as f:
                out.append((argv, f.read()))
        return out

    def token_of(self, message):
        m = LINK.search(message)
        self.assertIsNotNone(m, message)
        self.assertEqual(m.group(1), self.host.url)
        return m.group(2), m.group(3)

    def new_person(self, name, email=None, roles=("student",)):
        self.s.add_person(name, list(roles))
        if email:
            self.set_email(name, email)

    # -- the way it should go --------------------------------------------------------------

    def test_a_mailed_link_sets_a_new_password_once_and_ends_every_session(self):
        self.new_person("rita", "Rita.Parent@example.net", roles=("teacher",))
        old_token = self.s.tokens["rita"]
        r = self.ask("rita")
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.headers.get("cache-control"), "no-store")
        (argv, msg), = self.mails()
        self.assertEqual(argv, ["-i", "-f", "noreply@school.test", "--",
                                "Rita.Parent@example.net"])
        self.assertIn("To: Rita.Parent@example.net\r\n", msg)
        self.assertIn("From: noreply@school.test\r\n", msg)
        self.assertIn("Auto-Submitted: auto-generated\r\n", msg)
        self.assertIn('"rita"', msg)
        self.assertIn("Minuten", msg)  # German first, then English
        self.assertIn("It works for 60 minutes", msg)
        slug, token = self.token_of(msg)
        self.assertEqual(slug, self.s.slug)
        # Only the token's SHA-256 is stored.
        stored = self.pg.psql("SELECT encode(token_hash, 'hex') FROM core.reset_links "
                              f"WHERE user_id = '{self.s.ids['rita']}'").split()
        import hashlib
        self.assertEqual(stored, [hashlib.sha256(token.encode()).hexdigest()])
        self.assertNotIn(token, self.pg.psql("SELECT * FROM core.reset_links"))

        # Asking changed nothing yet: the old password and session still work.
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=old_token).status, 200)
        r = self.confirm(token)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=old_token).status, 401)
        fresh = fixtures.login(self.host, "rita", password="a brand new password",
                               school=self.s.slug)
        me = self.host.request("GET", "/api/v1/me", token=fresh).json()
        self.assertFalse(me["must_change_password"])
        # Once only.
        r = self.confirm(token, password="yet another password")
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.headers.get("content-type"), "application/problem+json")
        audit = self.pg.psql("SELECT action FROM core.audit_log WHERE target = "
                             f"'{self.s.ids['rita']}' ORDER BY at").split()
        self.assertIn("auth.reset_link_sent", audit)
        self.assertIn("auth.password_reset_by_link", audit)

    def test_one_address_of_brothers_and_sisters_names_each_account(self):
        self.new_person("ben", "family.k@example.net")
        self.new_person("bea", "family.k@example.net")
        r = self.ask("FAMILY.K@example.net")  # an address, in other letters
        self.assertEqual(r.status, 202, r)
        mails = self.mails()
        self.assertEqual(len(mails), 2)
        by_name = {}
        for argv, msg in mails:
            self.assertEqual(argv[-1], "family.k@example.net")
            name = "ben" if '"ben"' in msg else "bea"
            self.assertNotIn('"bea"' if name == "ben" else '"ben"', msg)
            by_name[name] = self.token_of(msg)[1]
        self.assertEqual(set(by_name), {"ben", "bea"})
        self.assertEqual(self.confirm(by_name["bea"], "a sister's password").status, 204)
        fixtures.login(self.host, "bea", password="a sister's password", school=self.s.slug)
        # Ben's password is untouched, and his own link still works.
        fixtures.login(self.host, "ben", school=self.s.slug)
        self.assertEqual(self.confirm(by_name["ben"], "a brother's password").status, 204)
        # A second request replaces nothing of the first: each link is its own, and the
        # first one used forgets the person's other unused links.
        self.ask("ben")
        self.ask("ben")
        t1, t2 = (self.token_of(m)[1] for _, m in self.mails()[2:])
        self.assertEqual(self.confirm(t2, "a brother's 2nd password").status, 204)
        self.assertEqual(self.confirm(t1, "a brother's 3rd password").status, 401)

    def test_the_portal_asks_for_a_link_and_follows_it(self):
        """In Chromium (tests/browser/reset.mjs): the sign-in page's "Forgot your password?",
        the mailed link's page, the new password, signing in with it, the used link."""
        browser_run.require_tools()
        self.new_person("pia", "pia.parent@example.net", roles=("parent",))
        browser_run.run_script(self, "reset.mjs", self.host.url, "reset-screenshots", 4,
                               ATRIUM_SCHOOL=self.s.slug, ATRIUM_LOGIN="pia.parent@example.net",
                               ATRIUM_USER="pia", ATRIUM_MAILDIR=CTL)
        self.assertEqual(self.host.request("GET", "/api/v1/me",
                                           token=self.s.tokens["pia"]).status, 401)
        fixtures.login(self.host, "pia", password="my own new secret", school=self.s.slug)

    # -- nothing revealed ------------------------------------------------------------------

    def test_nobody_learns_who_has_an_account_or_an_address(self):
        self.new_person("nora")  # no address
        self.new_person("dirk", "dirk@example.net")
        r = self.host.request("PATCH", f"/api/v1/schools/{self.s.slug}/users/{self.s.ids['dirk']}",
                              {"disabled": True}, token=self.s.tokens["ada"])
        self.assertEqual(r.status, 200, r)
        for login, school in (("nobody-here", None), ("nora", None), ("dirk", None),
                              ("dirk@example.net", None), ("rita", "no-such-school")):
            r = self.ask(login, school=school)
            self.assertEqual(r.status, 202, (login, r))
            self.assertEqual(r.body, b"", login)
        self.assertEqual(self.mails(), [])

    def test_a_failing_sendmail_still_answers_202(self):
        self.new_person("fay", "fay@example.net")
        with open(os.path.join(CTL, "exit"), "w", encoding="utf-8") as f:
            f.write("75")
        r = self.ask("fay")
        self.assertEqual(r.status, 202, r)
        self.assertEqual(len(self.mails()), 1)  # it was tried
        self.assertIn("was not sent", self.host.log_text())

    def test_a_sendmail_that_hangs_is_killed_with_what_it_started(self):
        """[sendmail] timeout (2 s here): the run is killed, the children it started too (its
        own process group), and the asker still gets 202."""
        self.new_person("hal", "hal@example.net")
        open(os.path.join(CTL, "hang"), "w", encoding="utf-8").close()
        r = self.ask("hal")
        self.assertEqual(r.status, 202, r)
        self.assertIn("did not finish within 2 s", self.host.log_text())
        [call] = os.listdir(os.path.join(CTL, "calls"))
        with open(os.path.join(CTL, "calls", call, "child"), encoding="ascii") as f:
            child = int(f.read())
        deadline = time.monotonic() + 10
        while not fixtures.process_gone(child):
            self.assertLess(time.monotonic(), deadline, "the stand-in's child still runs")
            time.sleep(0.05)

    # -- refusals --------------------------------------------------------------------------

    def test_wrong_expired_and_other_schools_tokens_are_refused(self):
        self.new_person("otto", "otto@example.net")
        self.assertEqual(self.ask("otto").status, 202)
        token = self.token_of(self.mails()[0][1])[1]
        self.assertEqual(self.confirm("x" * 43).status, 401)
        self.assertEqual(self.confirm(token, school=self.other.slug).status, 401)
        self.assertEqual(self.confirm(token, school="no-such-school").status, 401)
        # A password the policy refuses: 422, and the link still works afterwards.
        r = self.confirm(token, password="otto")
        self.assertEqual(r.status, 422, r)
        self.pg.psql("UPDATE core.reset_links SET expires_at = now() - interval '1 second' "
                     f"WHERE user_id = '{self.s.ids['otto']}'")
        self.assertEqual(self.confirm(token).status, 401)
        self.pg.psql("UPDATE core.reset_links SET expires_at = now() + interval '1 hour' "
                     f"WHERE user_id = '{self.s.ids['otto']}'")
        self.assertEqual(self.confirm(token).status, 204)

    def test_bodies_that_are_not_right(self):
        for path, body in (
                (ASK, {"school": self.s.slug, "login": "sam", "extra": 1}),
                (ASK, {"school": self.s.slug}),
                (ASK, {"school": self.s.slug, "login": 7}),
                (ASK, {"school": self.s.slug, "login": ""}),
                (ASK, b"{not json"),
                (CONFIRM, {"school": self.s.slug, "token": "t"}),
                (CONFIRM, {"school": self.s.slug, "token": ["t"], "new_password": "p" * 12}),
                (CONFIRM, {"school": self.s.slug, "token": "t", "new_password": "p" * 12,
                           "also": True}),
                (CONFIRM, b"[]")):
            r = self.host.request("POST", path, body,
                                  headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, 400, (path, body, r))
            self.assertEqual(r.headers.get("content-type"), "application/problem+json")
        self.assertEqual(self.mails(), [])

    def test_too_many_requests_for_one_login(self):
        self.new_person("tom", "tom@example.net")
        for _ in range(3):
            self.assertEqual(self.ask("tom").status, 202)
        r = self.ask("TOM")
        self.assertEqual(r.status, 429, r)
        self.assertTrue(r.headers.get("retry-after"))
        self.assertEqual(len(self.mails()), 3)

    def test_only_admins_set_the_address_and_it_must_be_one(self):
        r = self.host.request("PATCH", f"/api/v1/schools/{self.s.slug}/users/{self.s.ids['sam']}",
                              {"email": "me@example.net"}, token=self.s.tokens["sam"])
        self.assertEqual(r.status, 403, r)
        for bad in ("no-at-sign", "two@@example.net", "with space@example.net", 5):
            r = self.host.request(
                "PATCH", f"/api/v1/schools/{self.s.slug}/users/{self.s.ids['sam']}",
                {"email": bad}, token=self.s.tokens["ada"])
            self.assertEqual(r.status, 400, (bad, r))
        # Another school's admin cannot touch this school's people.
        r = self.host.request("PATCH", f"/api/v1/schools/{self.s.slug}/users/{self.s.ids['sam']}",
                              {"email": "x@example.net"}, token=self.other.tokens["ada"])
        self.assertIn(r.status, (403, 404), r)
        # Created with an address, and cleared again.
        r = self.host.request("POST", f"/api/v1/schools/{self.s.slug}/users",
                              {"username": "uli", "display_name": "Uli", "roles": ["parent"],
                               "email": "uli@example.net"}, token=self.s.tokens["ada"])
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["email"], "uli@example.net")
        self.s.ids["uli"] = r.json()["id"]
        self.set_email("uli", None)


if __name__ == "__main__":
    import unittest
    unittest.main()
