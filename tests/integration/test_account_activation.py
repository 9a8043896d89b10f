# SPDX-License-Identifier: Apache-2.0
"""test_account_activation.py - activation codes (issue #20; docs/ACCOUNTS.md).

POST /api/v1/schools/{school}/activation-codes (users.manage) for a list of people, a class
(the import's class column) and a group (by id and by slug), answered once as JSON, as CSV
(Accept: text/csv; formula cells defused) and as printable letters (Accept: text/html; names
escaped, @media print); codes stored only as SHA-256; a new code replaces an unused one.

POST /api/v1/auth/activate: sets the first password and signs in (typed in lower case and
without dashes too); refused when reused, superseded, expired, for a disabled person, a wrong
school, and a password the policy refuses (422: the code still works afterwards); five wrong
codes for one account are 429 with Retry-After.

Refusals of the issuing route: no token, a teacher, another school's ids, unknown class and
group, no or two selectors, unknown fields, wrong types, malformed JSON, too many ids.
"""

import csv
import hashlib
import io
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402

ACTIVATE = "/api/v1/auth/activate"
CODE = re.compile(r"^[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){3}$")


class ActivationSchool(fixtures.School):
    SLUG_PREFIX = "act"
    MODULES = ("groups",)
    PEOPLE = ("ada", "tina")


class OtherSchool(ActivationSchool):
    PEOPLE = ("ada",)


class Activation(fixtures.SharedHost):
    # Under the sanitizers, a leak or memory error in the sign-in code fails the class.
    EXIT_CHECK = ("identity/", "oidc/")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.s = ActivationSchool(cls.host, cls.op_token)
            cls.other = OtherSchool(cls.host, cls.op_token)
        except BaseException:
            cls._stop_shared()
            raise

    def new_pupil(self, name, display=None):
        """A person without a password (as an import makes them); returns the id."""
        return self.s.add_person(name, ["student"], login=False, display_name=display)

    def issue(self, body, who="ada", accept=None, school=None):
        return self.host.request(
            "POST", f"/api/v1/schools/{school or self.s.slug}/activation-codes", body,
            headers={"Accept": accept} if accept else None,
            token=self.s.tokens.get(who, who))

    def codes_for(self, *ids, **extra):
        r = self.issue({"users": list(ids), **extra})
        self.assertEqual(r.status, 201, r)
        return {it["user_id"]: it["code"] for it in r.json()["items"]}

    def activate(self, username, code, password="my first password", school=None):
        return self.host.request("POST", ACTIVATE, {"school": school or self.s.slug,
                                                    "username": username, "code": code,
                                                    "new_password": password})

    # -- issuing ---------------------------------------------------------------------------

    def audited(self):
        return int(self.pg.psql(
            "SELECT count(*) FROM core.audit_log WHERE action = 'activation_codes.created' "
            "AND details->>'count' = '2' AND details->>'valid_days' = '7'"))

    def test_json_answer_and_storage(self):
        a, b = self.new_pupil("ana"), self.new_pupil("ben")
        before = self.audited()
        r = self.issue({"users": [a, b], "valid_days": 7})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        body = r.json()
        self.assertEqual(body["school"]["slug"], self.s.slug)
        self.assertEqual(sorted(it["username"] for it in body["items"]), ["ana", "ben"])
        for it in body["items"]:
            self.assertRegex(it["code"], CODE)
        code = body["items"][0]["code"]
        plain = code.replace("-", "")
        # Only the SHA-256 of the code (without dashes) is in the database.
        rows = self.pg.psql(
            f"SELECT count(*) FILTER (WHERE code_hash = sha256('{plain}'::bytea)), "
            f"count(*) FILTER (WHERE expires_at BETWEEN now() + interval '6 days 23 hours' "
            f"AND now() + interval '7 days 1 hour') FROM core.activation_codes "
            f"WHERE user_id IN ('{a}', '{b}')").strip()
        self.assertEqual(rows, "1|2")
        dump = self.pg.psql("SELECT string_agg(t::text, '') FROM core.activation_codes t")
        self.assertNotIn(plain, dump)
        self.assertNotIn(code, dump)
        self.assertEqual(self.audited(), before + 1)

    def test_csv_answer(self):
        a = self.new_pupil("cleo", display='=HYPERLINK("http://x")')
        b = self.new_pupil("carl", display="Carl, the Second")
        r = self.issue({"users": [a, b]}, accept="text/csv")
        self.assertEqual(r.status, 201, r)
        self.assertTrue(r.headers["Content-Type"].startswith("text/csv"), r.headers)
        rows = list(csv.reader(io.StringIO(r.text)))
        self.assertEqual(rows[0], ["school", "username", "display_name", "class", "code",
                                   "expires_at"])
        by_name = {row[1]: row for row in rows[1:]}
        self.assertEqual(by_name["cleo"][2], "'=HYPERLINK(\"http://x\")")
        self.assertEqual(by_name["carl"][2], "Carl, the Second")
        self.assertRegex(by_name["carl"][4], CODE)
        self.assertEqual(self.activate("carl", by_name["carl"][4]).status, 200)

    def test_html_letters(self):
        a = self.new_pupil("dana", display="Dana <b>Bold</b>")
        b = self.new_pupil("dirk")
        r = self.issue({"users": [a, b]}, accept="text/html")
        self.assertEqual(r.status, 201, r)
        self.assertTrue(r.headers["Content-Type"].startswith("text/html"), r.headers)
        page = r.text
        self.assertEqual(page.count('<section class="letter">'), 2)
        self.assertIn("@media print", page)
        self.assertIn("Dana &lt;b&gt;Bold&lt;/b&gt;", page)
        self.assertNotIn("<b>Bold", page)
        self.assertIn(f"School {self.s.slug}", page)
        codes = re.findall(r'<span class="code">([^<]+)</span>', page)
        self.assertEqual(len(codes), 2)
        self.assertIn("<strong>dirk</strong>", page)

    def test_class_and_group_selectors(self):
        imp = self.host.request(
            "POST", f"/api/v1/schools/{self.s.slug}/users/import",
            "Vorname;Nachname;Rolle;Klasse\r\nEva;Erste;Schüler;5c\r\n"
            "Emil;Zweiter;Schüler;5c\r\nElla;Dritte;Schüler;6a\r\n".encode(),
            headers={"Content-Type": "text/csv"}, token=self.s.tokens["ada"])
        self.assertEqual(imp.status, 200, imp)
        r = self.issue({"class": "5C"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(sorted(it["display_name"] for it in r.json()["items"]),
                         ["Emil Zweiter", "Eva Erste"])
        self.assertTrue(all(it["class"] == "5c" for it in r.json()["items"]))
        p1 = self.new_pupil("gwen")
        gid = self.s.make_group("Reading club", owner="tina", members=("gwen",))
        slug = self.s.raw("tina", "GET", f"/groups/{gid}").json()["slug"]
        for sel in (gid, slug):
            r = self.issue({"group": sel})
            self.assertEqual(r.status, 201, r)
            names = sorted(it["username"] for it in r.json()["items"])
            self.assertEqual(names, ["gwen", "tina"])
        self.assertIn(p1, [it["user_id"] for it in r.json()["items"]])

    # -- redeeming -------------------------------------------------------------------------

    def test_redeem_once(self):
        uid = self.new_pupil("hugo")
        code = self.codes_for(uid)[uid]
        typed = code.replace("-", "").lower()
        r = self.activate("hugo", typed)
        self.assertEqual(r.status, 200, r)
        tok = r.json()["token"]
        me = self.host.request("GET", "/api/v1/me", token=tok)
        self.assertEqual((me.status, me.json()["username"]), (200, "hugo"))
        self.assertFalse(me.json()["must_change_password"])
        self.assertEqual(self.host.request("GET", "/api/v1/auth/sessions", token=tok).status,
                         200)
        fixtures.login(self.host, "hugo", "my first password", school=self.s.slug)
        self.assertProblem(self.activate("hugo", code, "another password"), 401,
                           "unauthenticated")
        self.assertEqual(int(self.pg.psql(
            f"SELECT count(*) FROM core.audit_log WHERE action = 'auth.activated' "
            f"AND target = '{uid}'")), 1)

    def test_superseded_expired_disabled_wrong_school(self):
        a, b, c = self.new_pupil("ida"), self.new_pupil("ivo"), self.new_pupil("iris")
        old = self.codes_for(a)[a]
        new = self.codes_for(a)[a]
        self.assertProblem(self.activate("ida", old), 401)
        code_b = self.codes_for(b)[b]
        self.pg.psql(f"UPDATE core.activation_codes SET expires_at = now() - interval '1 second' "
                     f"WHERE user_id = '{b}'")
        self.assertProblem(self.activate("ivo", code_b), 401)
        code_c = self.codes_for(c)[c]
        self.pg.psql(f"UPDATE core.users SET disabled_at = now() WHERE id = '{c}'")
        p = self.assertProblem(self.activate("iris", code_c), 401)
        self.assertIn("disabled", p["detail"])
        self.assertProblem(self.activate("ida", new, school=self.other.slug), 401)
        self.assertProblem(self.activate("ida", new, school="no-such-school"), 401)
        self.assertEqual(self.activate("ida", new).status, 200)

    def test_policy_refusal_keeps_the_code(self):
        uid = self.new_pupil("jonas")
        code = self.codes_for(uid)[uid]
        self.assertProblem(self.activate("jonas", code, "short"), 422, "unprocessable")
        self.assertProblem(self.activate("jonas", code, "i am jonas!"), 422)
        self.assertEqual(self.activate("jonas", code).status, 200)

    def test_wrong_codes_are_throttled(self):
        uid = self.new_pupil("kim")
        code = self.codes_for(uid)[uid]
        for _ in range(5):
            self.assertProblem(self.activate("kim", "AAAA-BBBB-CCCC-DDDD"), 401)
        r = self.activate("kim", code)
        self.assertProblem(r, 429, "rate-limited")
        self.assertGreater(int(r.headers["Retry-After"]), 0)
        self.assertEqual(int(self.pg.psql(
            "SELECT count(*) FROM core.audit_log WHERE action = 'auth.activation_failed' "
            "AND details->>'username' = 'kim'")), 5)
        # The right code was not spent by the refusal.
        self.assertEqual(self.pg.psql(
            f"SELECT count(*) FROM core.activation_codes WHERE user_id = '{uid}' "
            f"AND used_at IS NULL").strip(), "1")

    def test_activate_bad_bodies(self):
        h = self.host
        good = {"school": self.s.slug, "username": "x", "code": "AAAA",
                "new_password": "long enough pw"}
        for bad in ({**good, "extra": 1}, {**good, "code": 5}, {"school": self.s.slug},
                    {**good, "code": "A" * 65}):
            self.assertProblem(h.request("POST", ACTIVATE, bad), 400)
        self.assertProblem(h.request("POST", ACTIVATE, b"{", headers={
            "Content-Type": "application/json"}), 400)

    # -- refusals of the issuing route -----------------------------------------------------

    def test_issue_refusals(self):
        uid = self.new_pupil("lena")
        self.assertProblem(self.issue({"users": [uid]}, who=None), 401)
        self.assertProblem(self.host.request(
            "POST", f"/api/v1/schools/{self.s.slug}/activation-codes", {"users": [uid]}), 401)
        self.assertProblem(self.issue({"users": [uid]}, who="tina"), 403, "forbidden")
        self.assertProblem(self.issue({"users": [self.other.ids["ada"]]}), 404)
        self.assertProblem(self.issue({"users": [uid]}, school=self.other.slug), 404)
        self.assertProblem(self.issue({"class": "no such class"}), 404)
        self.assertProblem(self.issue({"group": "no-such-group"}), 404)
        self.assertProblem(self.issue({"group": "6a000000-0000-4000-8000-000000000000"}), 404)
        self.assertProblem(self.issue({}), 400)
        self.assertProblem(self.issue({"users": [uid], "class": "5c"}), 400)
        self.assertProblem(self.issue({"users": [uid], "pin": True}), 400)
        self.assertProblem(self.issue({"users": uid}), 400)
        self.assertProblem(self.issue({"users": ["not-a-uuid"]}), 400)
        self.assertProblem(self.issue({"users": [uid], "valid_days": 0}), 400)
        many = [f"6a000000-0000-4000-8000-{i:012d}" for i in range(1001)]
        self.assertProblem(self.issue({"users": many}), 400)
        self.assertProblem(self.host.request(
            "POST", f"/api/v1/schools/{self.s.slug}/activation-codes", b"[1,",
            headers={"Content-Type": "application/json"}, token=self.s.tokens["ada"]), 400)
        # Nothing was issued by any of these.
        self.assertEqual(self.pg.psql(
            f"SELECT count(*) FROM core.activation_codes WHERE user_id = '{uid}'").strip(), "0")


if __name__ == "__main__":
    harness.main()
