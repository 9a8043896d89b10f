# SPDX-License-Identifier: Apache-2.0
"""test_account_totp.py - the second factor: TOTP (RFC 6238) with recovery codes (issue #20;
docs/ACCOUNTS.md). The codes are computed here with Python's hmac module from the secret the
server hands out, as an authenticator app would: no mocks.

Enrolment (POST /api/v1/me/totp, then /confirm with a first code: recovery codes once, stored
hashed); sign-in in two steps (the password gives a pending token that is no session; the code
gives the session), for bearer clients and for the browser's cookie; a replayed code and an
older one refused (the last used step is remembered); a recovery code works once; wrong codes
throttled (429); an expired pending sign-in; the OpenID provider's form sends such a person to
the portal; bad bodies, no token, an operator.
"""

import base64
import hashlib
import hmac
import os
import struct
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402
import oidc_fixtures  # noqa: E402

PASSWORD = fixtures.PASSWORD


def hotp(secret_b32: str, step: int) -> str:
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[19] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def now_step() -> int:
    return int(time.time()) // 30


class TotpSchool(fixtures.School):
    SLUG_PREFIX = "totp"
    MODULES = ("groups",)
    PEOPLE = ("ada",)


class Totp(fixtures.SharedHost):
    # Under the sanitizers, a leak or memory error in the sign-in code fails the class.
    EXIT_CHECK = ("identity/", "oidc/")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.s = TotpSchool(cls.host, cls.op_token)
        except BaseException:
            cls._stop_shared()
            raise

    def post(self, path, body=None, token=None, **kw):
        return self.host.request("POST", path, body, token=token, **kw)

    def enrolled(self, name):
        """A new person with TOTP on: (id, secret, recovery codes, token)."""
        uid = self.s.add_person(name, ["teacher"])
        tok = self.s.tokens[name]
        r = self.post("/api/v1/me/totp", token=tok)
        self.assertEqual(r.status, 201, r)
        secret = r.json()["secret"]
        self.confirmed_step = now_step()
        c = self.post("/api/v1/me/totp/confirm", {"code": hotp(secret, self.confirmed_step)},
                      token=tok)
        self.assertEqual(c.status, 200, c)
        return uid, secret, c.json()["recovery_codes"], tok

    def password_step(self, name, path="/api/v1/auth/login"):
        r = self.post(path, {"school": self.s.slug, "username": name, "password": PASSWORD})
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["second_factor"], "totp")
        self.assertNotIn("token", body)
        return body["pending_token"]

    def second(self, pending, code, path="/api/v1/auth/login/totp"):
        return self.post(path, {"pending_token": pending, "code": code})

    def test_enrol_and_confirm(self):
        uid = self.s.add_person("tara", ["teacher"])
        tok = self.s.tokens["tara"]
        r = self.post("/api/v1/me/totp", token=tok)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        secret, uri = r.json()["secret"], r.json()["otpauth_uri"]
        self.assertRegex(secret, r"^[A-Z2-7]{32}$")
        parts = urllib.parse.urlsplit(uri)
        self.assertEqual((parts.scheme, parts.netloc), ("otpauth", "totp"))
        self.assertEqual(urllib.parse.unquote(parts.path), f"/School {self.s.slug}:tara")
        q = dict(urllib.parse.parse_qsl(parts.query))
        self.assertEqual((q["secret"], q["digits"], q["period"], q["algorithm"]),
                         (secret, "6", "30", "SHA1"))
        # Off until confirmed: the password alone still signs in.
        self.assertIn("token", self.post("/api/v1/auth/login", {
            "school": self.s.slug, "username": "tara", "password": PASSWORD}).json())
        wrong = "%06d" % ((int(hotp(secret, now_step())) + 1) % 1000000)
        self.assertProblem(self.post("/api/v1/me/totp/confirm", {"code": wrong}, token=tok),
                           422)
        c = self.post("/api/v1/me/totp/confirm", {"code": hotp(secret, now_step())}, token=tok)
        self.assertEqual(c.status, 200, c)
        codes = c.json()["recovery_codes"]
        self.assertEqual(len(set(codes)), 10)
        self.assertProblem(self.post("/api/v1/me/totp", token=tok), 409)
        self.assertProblem(self.post("/api/v1/me/totp/confirm",
                                     {"code": hotp(secret, now_step())}, token=tok), 409)
        dump = self.pg.psql("SELECT string_agg(t::text, '') FROM core.totp_recovery t")
        for code in codes:
            self.assertNotIn(code.replace("-", ""), dump)
        self.assertEqual(self.pg.psql(
            f"SELECT count(*) FROM core.totp_recovery WHERE user_id = '{uid}'").strip(), "10")

    def test_two_steps_and_replay(self):
        uid, secret, _, _ = self.enrolled("udo")
        pending = self.password_step("udo")
        # The pending token is no session.
        self.assertProblem(self.host.request("GET", "/api/v1/me", token=pending), 401)
        # The confirming code again (a replay), and an older one: both refused.
        self.assertProblem(self.second(pending, hotp(secret, self.confirmed_step)), 401)
        self.assertProblem(self.second(pending, hotp(secret, self.confirmed_step - 1)), 401)
        step = now_step() + 1
        r = self.second(pending, hotp(secret, step))
        self.assertEqual(r.status, 200, r)
        me = self.host.request("GET", "/api/v1/me", token=r.json()["token"])
        self.assertEqual((me.status, me.json()["username"]), (200, "udo"))
        # The pending sign-in is spent, and the same code cannot open another one.
        self.assertProblem(self.second(pending, hotp(secret, step)), 401)
        again = self.password_step("udo")
        p = self.assertProblem(self.second(again, hotp(secret, step)), 401, "unauthenticated")
        self.assertIn("used", p["detail"])
        self.assertEqual(int(self.pg.psql(
            f"SELECT count(*) FROM core.audit_log WHERE action = 'auth.totp_passed' "
            f"AND target = '{uid}'")), 1)

    def test_recovery_code_once(self):
        _, _, codes, _ = self.enrolled("vera")
        r = self.second(self.password_step("vera"), codes[0].lower().replace("-", " "))
        self.assertEqual(r.status, 200, r)
        self.assertProblem(self.second(self.password_step("vera"), codes[0]), 401)
        self.assertEqual(self.second(self.password_step("vera"), codes[1]).status, 200)

    def test_wrong_codes_are_throttled(self):
        _, secret, _, _ = self.enrolled("wim")
        pending = self.password_step("wim")
        good = hotp(secret, now_step() + 1)
        bad = "%06d" % ((int(good) + 500000) % 1000000)
        for _ in range(5):
            self.assertProblem(self.second(pending, bad), 401)
        r = self.second(pending, good)
        self.assertProblem(r, 429, "rate-limited")
        self.assertGreater(int(r.headers["Retry-After"]), 0)

    def test_expired_pending_and_browser(self):
        uid, secret, codes, _ = self.enrolled("xena")
        pending = self.password_step("xena")
        self.pg.psql("UPDATE core.login_pending SET expires_at = now() - interval '1 second' "
                     f"WHERE user_id = '{uid}'")
        self.assertProblem(self.second(pending, codes[0]), 401)
        # The browser: no cookie for the password alone, the cookie after the code.
        first = self.post("/api/v1/auth/browser-session", {
            "school": self.s.slug, "username": "xena", "password": PASSWORD})
        self.assertEqual(first.status, 200, first)
        self.assertNotIn("set-cookie", first.headers)
        r = self.second(first.json()["pending_token"], codes[1],
                        path="/api/v1/auth/browser-session/totp")
        self.assertEqual(r.status, 200, r)
        self.assertIn("atrium_session=", r.headers["Set-Cookie"])
        self.assertIn("csrf_token", r.json())
        self.assertNotIn("token", r.json())

    def test_oidc_form_sends_to_the_portal(self):
        self.enrolled("yara")
        rp = "http://127.0.0.1:9/cb"
        client = self.s.ok("ada", "POST", "/oidc/clients",
                           {"name": "App", "redirect_uris": [rp], "public": False,
                            "trusted": True, "scopes": ["openid"]}, status=(201,))
        b = oidc_fixtures.Browser()
        b.get(f"{self.host.url}/oidc/{self.s.slug}/authorize?response_type=code&client_id="
              f"{client['client_id']}&redirect_uri={rp}&scope=openid&state=st")
        r = b.sign_in("yara")
        self.assertEqual(r.status_code, 403, r.text[:300])
        self.assertIn("second factor", r.text)
        self.assertIn('<a href="/">', r.text)

    def test_school_policy_per_role(self):
        s = TotpSchool(self.host, self.op_token)
        path = f"/api/v1/schools/{s.slug}/account-policy"
        ada = s.tokens["ada"]
        self.assertEqual(self.host.request("GET", path, token=ada).json(),
                         {"totp_roles": [], "remember_days": 0})
        r = self.host.request("PUT", path, {"totp_roles": ["teacher", "admin"]}, token=ada)
        self.assertEqual((r.status, r.json()),
                         (200, {"totp_roles": ["teacher", "admin"], "remember_days": 0}), r)
        s.add_person("zoe", ["teacher"])
        s.add_person("zack", ["student"])
        signin = self.post("/api/v1/auth/login", {"school": s.slug, "username": "zoe",
                                                  "password": PASSWORD})
        self.assertTrue(signin.json()["user"]["must_enrol_totp"])
        tok = signin.json()["token"]
        p = self.assertProblem(self.host.request("GET", f"/api/v1/schools/{s.slug}/users",
                                                 token=tok), 403, "second-factor-required")
        self.assertIn("/api/v1/me/totp", p["detail"])
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=tok).status, 200)
        secret = self.post("/api/v1/me/totp", token=tok).json()["secret"]
        c = self.post("/api/v1/me/totp/confirm", {"code": hotp(secret, now_step())}, token=tok)
        self.assertEqual(c.status, 200, c)
        self.assertEqual(self.host.request("GET", f"/api/v1/schools/{s.slug}/users",
                                           token=tok).status, 200)
        # A pupil is not covered.
        pupil = self.host.request("GET", "/api/v1/me", token=s.tokens["zack"]).json()
        self.assertFalse(pupil["must_enrol_totp"])
        # Refusals: a teacher, no token, unknown role, unknown field, wrong type, not JSON.
        self.assertProblem(self.host.request("PUT", path, {"totp_roles": []}, token=tok), 403)
        self.assertProblem(self.host.request("PUT", path, {"totp_roles": []}), 401)
        for bad in ({"totp_roles": ["king"]}, {"totp_roles": [], "x": 1}, {"totp_roles": "admin"},
                    {}, {"totp_roles": [], "remember_days": 91}):
            self.assertProblem(self.host.request("PUT", path, bad, token=ada), 400)
        self.assertProblem(self.host.request("PUT", path, b"{", token=ada, headers={
            "Content-Type": "application/json"}), 400)
        self.assertEqual(self.host.request("GET", path, token=ada).json()["totp_roles"],
                         ["teacher", "admin"])

    def test_remember_this_device(self):
        # The shared school does not allow remembering: no device token.
        _, secret, codes, _ = self.enrolled("abel")
        r = self.post("/api/v1/auth/login/totp", {"pending_token": self.password_step("abel"),
                                                  "code": codes[0], "remember_device": True})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("device_token", r.json())
        # A school that allows seven days.
        s = TotpSchool(self.host, self.op_token)
        path = f"/api/v1/schools/{s.slug}/account-policy"
        r = self.host.request("PUT", path, {"totp_roles": [], "remember_days": 7},
                              token=s.tokens["ada"])
        self.assertEqual(r.json()["remember_days"], 7, r)
        uid = s.add_person("bea", ["teacher"])
        tok = s.tokens["bea"]
        secret = self.post("/api/v1/me/totp", token=tok).json()["secret"]
        codes = self.post("/api/v1/me/totp/confirm", {"code": hotp(secret, now_step())},
                          token=tok).json()["recovery_codes"]

        def login(**extra):
            return self.post("/api/v1/auth/login", {"school": s.slug, "username": "bea",
                                                    "password": PASSWORD, **extra}).json()

        r = self.post("/api/v1/auth/login/totp", {"pending_token": login()["pending_token"],
                                                  "code": codes[0], "remember_device": True})
        device = r.json()["device_token"]
        self.assertIn("token", login(device_token=device))
        self.assertIn("pending_token", login())
        self.assertIn("pending_token", login(device_token="x" + device[1:]))
        # Only the hash is kept.
        self.assertNotIn(device, self.pg.psql("SELECT string_agg(t::text, '') "
                                              "FROM core.totp_devices t"))
        # The browser gets a lasting HttpOnly cookie, which its next sign-in sends.
        first = self.post("/api/v1/auth/browser-session", {
            "school": s.slug, "username": "bea", "password": PASSWORD})
        b = self.post("/api/v1/auth/browser-session/totp", {
            "pending_token": first.json()["pending_token"], "code": codes[1],
            "remember_device": True})
        cookies = b.headers["Set-Cookie"].split(", ")  # the harness joins repeated headers
        dev = [c for c in cookies if c.startswith("atrium_device=")]
        self.assertEqual(len(dev), 1, cookies)
        self.assertIn("Max-Age=604800", dev[0])
        self.assertIn("HttpOnly", dev[0])
        value = dev[0].split(";")[0].split("=", 1)[1]
        again = self.post("/api/v1/auth/browser-session", {
            "school": s.slug, "username": "bea", "password": PASSWORD},
            headers={"Cookie": f"atrium_device={value}"})
        self.assertIn("csrf_token", again.json())
        # Expired, or the school stops allowing it, or a new password: the code is asked again.
        self.pg.psql(f"UPDATE core.totp_devices SET expires_at = now() - interval '1 second' "
                     f"WHERE token_hash = sha256('{device}'::bytea)")
        self.assertIn("pending_token", login(device_token=device))
        self.host.request("PUT", path, {"totp_roles": [], "remember_days": 0},
                          token=s.tokens["ada"])
        self.assertIn("pending_token", self.post("/api/v1/auth/browser-session", {
            "school": s.slug, "username": "bea", "password": PASSWORD},
            headers={"Cookie": f"atrium_device={value}"}).json())
        self.assertEqual(self.pg.psql(
            f"SELECT count(*) FROM core.totp_devices WHERE user_id = '{uid}'").strip(), "2")
        self.host.request("PUT", path, {"totp_roles": []}, token=s.tokens["ada"])
        self.assertEqual(self.change_password(tok), 204)
        self.assertEqual(self.pg.psql(
            f"SELECT count(*) FROM core.totp_devices WHERE user_id = '{uid}'").strip(), "0")

    def change_password(self, tok):
        return self.post("/api/v1/me/password", {"current_password": PASSWORD,
                                                 "new_password": "a different secret"},
                         token=tok).status

    def test_admin_removes_a_lost_second_factor(self):
        uid, secret, codes, tok = self.enrolled("lars")
        path = f"/api/v1/schools/{self.s.slug}/users/{uid}/totp"
        self.assertProblem(self.host.request("DELETE", path, token=tok), 403)
        self.assertProblem(self.host.request("DELETE", path), 401)
        self.assertProblem(self.host.request(
            "DELETE", f"/api/v1/schools/{self.s.slug}/users/{self.s.ids['ada']}/totp",
            token=self.s.tokens["ada"]), 404)
        self.assertEqual(self.host.request("DELETE", path, token=self.s.tokens["ada"]).status,
                         204)
        self.assertIn("token", self.post("/api/v1/auth/login", {
            "school": self.s.slug, "username": "lars", "password": PASSWORD}).json())
        self.assertEqual(self.pg.psql(
            f"SELECT count(*) FROM core.totp_recovery WHERE user_id = '{uid}'").strip(), "0")
        self.assertEqual(int(self.pg.psql(
            f"SELECT count(*) FROM core.audit_log WHERE action = 'user.totp_removed' "
            f"AND target = '{uid}'")), 1)

    def test_turning_it_off_oneself(self):
        uid, secret, _, tok = self.enrolled("otto")
        later = hotp(secret, self.confirmed_step + 1)
        # a current code is needed: none, a wrong one, no sign-in
        self.assertProblem(self.host.request("DELETE", "/api/v1/me/totp", token=tok), 400)
        wrong = "000000" if later != "000000" else "111111"
        self.assertProblem(self.host.request("DELETE", "/api/v1/me/totp", {"code": wrong},
                                             token=tok), 422)
        self.assertProblem(self.host.request("DELETE", "/api/v1/me/totp", {"code": later}), 401)
        r = self.host.request("DELETE", "/api/v1/me/totp", {"code": later}, token=tok)
        self.assertEqual(r.status, 204, r)
        # the password alone signs in again; nothing of the factor is left; audited
        self.assertIn("token", self.post("/api/v1/auth/login", {
            "school": self.s.slug, "username": "otto", "password": PASSWORD}).json())
        self.assertEqual(self.pg.psql(
            f"SELECT (SELECT count(*) FROM core.totp WHERE user_id = '{uid}') + "
            f"(SELECT count(*) FROM core.totp_recovery WHERE user_id = '{uid}')").strip(), "0")
        self.assertEqual(int(self.pg.psql(
            "SELECT count(*) FROM core.audit_log WHERE action = 'user.totp_disabled' "
            f"AND target = '{uid}'")), 1)
        self.assertProblem(self.host.request("DELETE", "/api/v1/me/totp", {"code": later},
                                             token=tok), 404)
        # where the school's policy wants one for the role, it stays on
        s = TotpSchool(self.host, self.op_token)
        s.add_person("pia", ["teacher"])
        self.assertEqual(self.host.request("PUT", f"/api/v1/schools/{s.slug}/account-policy",
                                           {"totp_roles": ["teacher"]},
                                           token=s.tokens["ada"]).status, 200)
        pia = s.tokens["pia"]
        secret = self.post("/api/v1/me/totp", token=pia).json()["secret"]
        step = now_step()
        self.assertEqual(self.post("/api/v1/me/totp/confirm", {"code": hotp(secret, step)},
                                   token=pia).status, 200)
        self.assertProblem(self.host.request("DELETE", "/api/v1/me/totp",
                                             {"code": hotp(secret, step + 1)}, token=pia), 409)

    def test_refusals(self):
        tok = self.s.tokens["ada"]
        self.assertProblem(self.post("/api/v1/me/totp"), 401)
        self.assertProblem(self.post("/api/v1/me/totp", token=self.op_token), 403)
        self.assertProblem(self.post("/api/v1/me/totp", {"x": 1}, token=tok), 400)
        self.assertProblem(self.post("/api/v1/me/totp/confirm", {"code": "123456"}, token=tok),
                           409)
        for bad in ({"code": "12345"}, {"code": 123456}, {"code": "123456", "x": 1}, {}):
            self.assertProblem(self.post("/api/v1/me/totp/confirm", bad, token=tok), 400)
        self.assertProblem(self.post("/api/v1/auth/login/totp", b"{", headers={
            "Content-Type": "application/json"}), 400)
        self.assertProblem(self.second("x" * 201, "123456"), 400)
        self.assertProblem(self.second("not-a-pending-token", "123456"), 401)
        self.assertProblem(self.post("/api/v1/auth/login/totp", {"code": "123456"}), 400)


if __name__ == "__main__":
    harness.main()
