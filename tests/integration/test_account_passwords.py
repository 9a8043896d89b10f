# SPDX-License-Identifier: Apache-2.0
"""test_account_passwords.py - one's own password, forced changes and teachers' resets
(issue #20, "The sign-in lifecycle"; docs/ACCOUNTS.md).

POST /api/v1/me/password: the change works, ends the person's other sessions and keeps this
one, is audited; the policy (8 characters, not the username) refuses with 422 and loses
nothing; a wrong current password is 403 and counts as a failed sign-in (429 after five),
through PATCH .../users/{id} of oneself as well;
bodies that are not JSON, wrong types, unknown fields, no token, an operator.

Forced change: a password someone else set (an admin's PATCH, a teacher's reset) marks the
account must_change_password; its sessions reach only GET /api/v1/me, the change and sign-out
(everything else 403 password-change-required) until the change.

POST /api/v1/schools/{school}/users/{id}/password-reset (users.reset_password): a teacher
resets a pupil of a class or course they share (one-time password, or an activation code), which ends
the pupil's sessions and forces a change; refused for a pupil of another class, a teacher,
oneself, a pupil (no permission), another school's id, a disabled person's wrong body.

One PostgreSQL and one host for the file; all requests come from 127.0.0.1, so the failures
here stay well below the address limit of 50.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402
import oidc_fixtures  # noqa: E402

PASSWORD = fixtures.PASSWORD
ME_PW = "/api/v1/me/password"


class AccountSchool(fixtures.School):
    SLUG_PREFIX = "acc"
    MODULES = ("groups",)
    PEOPLE = ("ada", "tina", "tom", "sam", "pia")


class OtherSchool(AccountSchool):
    PEOPLE = ("sam",)


class Passwords(fixtures.SharedHost):
    # Under the sanitizers, a leak or memory error in the sign-in code fails the class.
    EXIT_CHECK = ("identity/", "oidc/")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.s = AccountSchool(cls.host, cls.op_token)
            cls.other = OtherSchool(cls.host, cls.op_token)
        except BaseException:
            cls._stop_shared()
            raise

    def person(self, name, roles=("student",)):
        """A new person in the school, signed in: (id, token)."""
        uid = self.s.add_person(name, roles)
        return uid, self.s.tokens[name]

    def login(self, name, password=PASSWORD, school=None):
        return self.host.request("POST", "/api/v1/auth/login",
                                 {"school": school or self.s.slug, "username": name,
                                  "password": password})

    def change(self, token, current, new):
        return self.host.request("POST", ME_PW, {"current_password": current,
                                                 "new_password": new}, token=token)

    def audit_count(self, action, target):
        return int(self.pg.psql(
            f"SELECT count(*) FROM core.audit_log WHERE action = '{action}' "
            f"AND target = '{target}'"))

    # -- own change ------------------------------------------------------------------------

    def test_change_ends_other_sessions_keeps_this_one(self):
        uid, first = self.person("carla")
        second = fixtures.login(self.host, "carla", school=self.s.slug)
        r = self.change(first, PASSWORD, "a brand new secret")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=first).status, 200)
        self.assertProblem(self.host.request("GET", "/api/v1/me", token=second), 401)
        self.assertProblem(self.login("carla"), 401)
        self.assertEqual(self.login("carla", "a brand new secret").status, 200)
        self.assertEqual(self.audit_count("user.password_changed", uid), 1)
        hash_ = self.pg.psql(f"SELECT password_hash FROM core.users WHERE id = '{uid}'")
        self.assertTrue(hash_.startswith("$argon2id$"), hash_)

    def test_policy_refusals_lose_nothing(self):
        uid, tok = self.person("dora.policy")
        for bad, why in (("short", "8"), ("xxDora.Policyxx", "username")):
            p = self.assertProblem(self.change(tok, PASSWORD, bad), 422, "unprocessable")
            self.assertIn(why, p["detail"])
        self.assertEqual(self.login("dora.policy").status, 200)
        self.assertEqual(self.audit_count("user.password_changed", uid), 0)

    def test_wrong_current_password_is_throttled(self):
        uid, tok = self.person("egon")
        for _ in range(5):
            p = self.assertProblem(self.change(tok, "not my password", "fine new password"),
                                   403, "forbidden")
            self.assertIn("current_password", p["detail"])
        r = self.change(tok, PASSWORD, "fine new password")
        self.assertProblem(r, 429, "rate-limited")
        self.assertTrue(int(r.headers["Retry-After"]) > 0)
        # Counted as failed sign-ins of that account: the sign-in is throttled too.
        self.assertProblem(self.login("egon"), 429)
        self.assertEqual(self.audit_count("user.password_change_failed", uid), 5)

    def test_own_password_through_patch_users_is_checked_alike(self):
        # PATCH .../users/{id} of oneself with current_password takes the same check: the
        # policy, and a wrong current password counted and throttled like a sign-in.
        uid, tok = self.person("gerda")
        path = f"/api/v1/schools/{self.s.slug}/users/{uid}"
        p = self.assertProblem(self.host.request("PATCH", path, {
            "password": "xxGerdaxx long", "current_password": PASSWORD}, token=tok), 422)
        self.assertIn("username", p["detail"])
        for _ in range(5):
            self.assertProblem(self.host.request("PATCH", path, {
                "password": "fine new password", "current_password": "not mine"}, token=tok),
                403, "forbidden")
        r = self.host.request("PATCH", path, {"password": "fine new password",
                                              "current_password": PASSWORD}, token=tok)
        self.assertProblem(r, 429, "rate-limited")
        self.assertTrue(int(r.headers["Retry-After"]) > 0)
        self.assertProblem(self.login("gerda"), 429)
        self.assertEqual(self.audit_count("user.password_change_failed", uid), 5)

    def test_bad_bodies(self):
        _, tok = self.person("fritz")
        h = self.host
        self.assertProblem(h.request("POST", ME_PW, b"{not json", token=tok,
                                     headers={"Content-Type": "application/json"}), 400)
        self.assertProblem(h.request("POST", ME_PW, {"current_password": PASSWORD,
                                                     "new_password": 12345678}, token=tok), 400)
        self.assertProblem(h.request("POST", ME_PW, {"current_password": PASSWORD,
                                                     "new_password": "long enough pw",
                                                     "admin": True}, token=tok), 400)
        self.assertProblem(h.request("POST", ME_PW, {"new_password": "long enough pw"},
                                     token=tok), 400)
        self.assertProblem(h.request("POST", ME_PW, {"current_password": PASSWORD,
                                                     "new_password": "x" * 1025}, token=tok),
                           400)
        self.assertProblem(h.request("POST", ME_PW, {"current_password": PASSWORD,
                                                     "new_password": "long enough pw"}), 401)
        self.assertProblem(self.change(self.op_token, PASSWORD, "long enough pw"), 403)
        self.assertEqual(self.login("fritz").status, 200)

    # -- forced change ---------------------------------------------------------------------

    def assert_restricted(self, tok):
        me = self.host.request("GET", "/api/v1/me", token=tok)
        self.assertEqual(me.status, 200, me)
        self.assertTrue(me.json()["must_change_password"])
        for method, path in (("GET", f"/api/v1/schools/{self.s.slug}/users"),
                             ("GET", "/api/v1/auth/sessions"),
                             ("POST", "/api/v1/auth/tokens")):
            body = {"name": "x"} if method == "POST" else None
            p = self.assertProblem(self.host.request(method, path, body, token=tok), 403,
                                   "password-change-required")
            self.assertIn("/api/v1/me/password", p["detail"])

    def test_admin_set_password_forces_a_change(self):
        uid, _ = self.person("gina", roles=("teacher",))
        r = self.host.request("PATCH", f"/api/v1/schools/{self.s.slug}/users/{uid}",
                              {"password": "set by the admin"}, token=self.s.tokens["ada"])
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["must_change_password"])
        signin = self.login("gina", "set by the admin")
        self.assertEqual(signin.status, 200, signin)
        self.assertTrue(signin.json()["user"]["must_change_password"])
        tok = signin.json()["token"]
        self.assert_restricted(tok)
        # Policy still applies; the change lifts the restriction for this very session.
        self.assertProblem(self.change(tok, "set by the admin", "gina1234"), 422)
        self.assertEqual(self.change(tok, "set by the admin", "my own choice 1").status, 204)
        self.assertEqual(self.host.request("GET", "/api/v1/auth/sessions", token=tok).status,
                         200)
        self.assertFalse(self.host.request("GET", "/api/v1/me", token=tok)
                         .json()["must_change_password"])
        # Sign-out works while restricted too (checked on a fresh restricted session).
        self.host.request("PATCH", f"/api/v1/schools/{self.s.slug}/users/{uid}",
                          {"password": "set again by admin"}, token=self.s.tokens["ada"])
        tok2 = fixtures.login(self.host, "gina", "set again by admin", school=self.s.slug)
        self.assertEqual(self.host.request("POST", "/api/v1/auth/logout", token=tok2).status,
                         204)
        self.assertProblem(self.host.request("GET", "/api/v1/me", token=tok2), 401)

    def test_oidc_sign_in_sends_a_forced_change_to_the_portal(self):
        uid, _ = self.person("olga", roles=("teacher",))
        self.host.request("PATCH", f"/api/v1/schools/{self.s.slug}/users/{uid}",
                          {"password": "set by the admin"}, token=self.s.tokens["ada"])
        rp = "http://127.0.0.1:9/cb"
        client = self.s.ok("ada", "POST", "/oidc/clients",
                           {"name": "App", "redirect_uris": [rp], "public": False,
                            "trusted": True, "scopes": ["openid", "profile"]}, status=(201,))
        url = (f"{self.host.url}/oidc/{self.s.slug}/authorize?response_type=code&client_id="
               f"{client['client_id']}&redirect_uri={rp}&scope=openid&state=st")
        b = oidc_fixtures.Browser()
        b.get(url)
        r = b.sign_in("olga", "set by the admin")
        self.assertEqual(r.status_code, 403, r.text[:500])
        self.assertIn("school portal", r.text)
        self.assertIn('<a href="/">', r.text)
        # Changed in the portal (here: over REST), the provider lets the person through.
        tok = fixtures.login(self.host, "olga", "set by the admin", school=self.s.slug)
        self.assertEqual(self.change(tok, "set by the admin", "a secret of mine").status, 204)
        b = oidc_fixtures.Browser()
        b.get(url)
        b.sign_in("olga", "a secret of mine")
        self.assertIn("code", b.redirect_params())

    # -- teachers' resets ------------------------------------------------------------------

    def reset(self, who, uid, body=None, school=None):
        return self.host.request(
            "POST", f"/api/v1/schools/{school or self.s.slug}/users/{uid}/password-reset",
            {} if body is None else body, token=self.s.tokens.get(who, who))

    def test_teacher_resets_a_pupil_of_their_class(self):
        uid, pupil_tok = self.person("hans")
        self.s.make_group("7a-reset", owner="tina", members=("hans",))
        r = self.reset("tina", uid)
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual((body["username"], body["method"]), ("hans", "password"))
        self.assertRegex(body["password"], r"^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-"
                                           r"[2-9A-HJ-NP-Z]{4}$")
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        # The pupil's sessions ended, the old password is gone, the new one is one-time.
        self.assertProblem(self.host.request("GET", "/api/v1/me", token=pupil_tok), 401)
        self.assertProblem(self.login("hans"), 401)
        signin = self.login("hans", body["password"])
        self.assertEqual(signin.status, 200, signin)
        self.assert_restricted(signin.json()["token"])
        self.assertEqual(self.change(signin.json()["token"], body["password"],
                                     "my own choice 3").status, 204)
        self.assertEqual(self.audit_count("user.password_reset", uid), 1)

    def test_teacher_reset_by_activation_code(self):
        uid, _ = self.person("ines")
        # A course counts as a class (the import makes both).
        self.s.make_group("7b-reset", owner="tom", members=("ines",), type="course")
        r = self.reset("tom", uid, {"method": "activation_code", "valid_days": 3})
        self.assertEqual(r.status, 200, r)
        code = r.json()["code"]
        # The old password now only opens a session that must change it.
        old = self.login("ines")
        self.assertEqual(old.status, 200, old)
        self.assert_restricted(old.json()["token"])
        act = self.host.request("POST", "/api/v1/auth/activate",
                                {"school": self.s.slug, "username": "ines", "code": code,
                                 "new_password": "my own words 2"})
        self.assertEqual(act.status, 200, act)
        self.assertFalse(act.json()["user"]["must_change_password"])
        self.assertEqual(self.login("ines", "my own words 2").status, 200)

    def test_reset_refusals(self):
        pupil, _ = self.person("jan")
        stranger, _ = self.person("kai")
        self.s.make_group("8a-reset", owner="tina", members=("jan",))
        self.s.make_group("8b-reset", owner="tom", members=("kai",))
        # A pupil of another class.
        self.assertProblem(self.reset("tina", stranger), 403, "forbidden")
        # ...even when a workgroup or a whole-school group holds both: only classes and
        # courses make a pupil one's own.
        self.s.make_group("choir-reset", owner="tina", members=("kai",), type="workgroup")
        self.s.make_group("everyone-reset", owner="tina", members=("kai",), type="custom")
        self.assertProblem(self.reset("tina", stranger), 403, "forbidden")
        self.assertEqual(self.audit_count("user.password_reset", stranger), 0)
        # A teacher (in a shared group, still not a pupil).
        self.s.add_member(self.s.make_group("staffroom-reset", owner="tina"), "tom")
        self.assertProblem(self.reset("tina", self.s.ids["tom"]), 403, "forbidden")
        # Oneself, a pupil (no permission), a parent.
        self.assertProblem(self.reset("tina", self.s.ids["tina"]), 403)
        self.assertProblem(self.reset("sam", pupil), 403)
        self.assertProblem(self.reset("pia", pupil), 403)
        # Another school's id, an unknown id, another school's slug.
        self.assertProblem(self.reset("tina", self.other.ids["sam"]), 404)
        self.assertProblem(self.reset("tina", "6a000000-0000-4000-8000-000000000000"), 404)
        self.assertProblem(self.reset("tina", pupil, school=self.other.slug), 404)
        # Bodies: wrong method, wrong type, unknown field, not JSON; no token.
        self.assertProblem(self.reset("tina", pupil, {"method": "sms"}), 400)
        self.assertProblem(self.reset("tina", pupil, {"valid_days": "3"}), 400)
        self.assertProblem(self.reset("tina", pupil, {"valid_days": 91}), 400)
        self.assertProblem(self.reset("tina", pupil, {"pin": 1}), 400)
        self.assertProblem(self.host.request(
            "POST", f"/api/v1/schools/{self.s.slug}/users/{pupil}/password-reset", b"[",
            headers={"Content-Type": "application/json"}, token=self.s.tokens["tina"]), 400)
        self.assertProblem(self.host.request(
            "POST", f"/api/v1/schools/{self.s.slug}/users/{pupil}/password-reset", {}), 401)
        # None of that changed anything.
        self.assertEqual(self.login("jan").status, 200)
        self.assertEqual(self.login("kai").status, 200)
        self.assertEqual(self.audit_count("user.password_reset", pupil), 0)
        # An admin may reset a teacher (not in any shared group).
        r = self.reset("ada", self.s.ids["tom"])
        self.assertEqual(r.status, 200, r)
        self.s.tokens["tom"] = self.login("tom", r.json()["password"]).json()["token"]
        self.assertEqual(self.change(self.s.tokens["tom"], r.json()["password"],
                                     PASSWORD + "!").status, 204)


if __name__ == "__main__":
    harness.main()
