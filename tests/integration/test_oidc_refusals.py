# SPDX-License-Identifier: Apache-2.0
"""test_oidc_refusals.py - what the OpenID provider refuses (issue #20's list), each checked:

- a wrong redirect_uri (at /authorize: a page, never a redirect; at /token: invalid_grant);
- a reused code, and that the reuse revokes what the first use issued;
- a wrong (or missing) PKCE verifier, and a public client without PKCE;
- an expired code (made old in the database: no sleeping);
- a client of another school (its issuer does not know it, its codes and tokens neither);
- a disabled person (sign-in form, their codes, their tokens);
- a person outside the client's allowed roles or groups;
- the sign-in form without its CSRF token, a wrong password;
- the clients REST routes' failures: no sign-in, wrong role, malformed JSON, wrong types,
  unknown fields, oversized input, bad redirect URIs, another school's ids.

One cluster and one host for the file; schools and clients of its own per test.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import urllib.parse

import fixtures
import harness
import oidc_fixtures
from oidc_fixtures import Browser

import requests  # noqa: E402

RP = "http://127.0.0.1:9/cb"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


class OidcRefusals(fixtures.SharedHost):
    EXIT_CHECK = ("oidc",)

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.a = oidc_fixtures.OidcSchool(cls.host, cls.op_token)
        cls.b = oidc_fixtures.OidcSchool(cls.host, cls.op_token)

    # ---- helpers ----

    def auth_url(self, school, client: dict, challenge: str | None = None,
                 redirect_uri: str = RP, **extra) -> str:
        q = {"response_type": "code", "client_id": client["client_id"],
             "redirect_uri": redirect_uri, "scope": "openid profile", "state": "st", **extra}
        if challenge:
            q.update(code_challenge=challenge, code_challenge_method="S256")
        return f"{school.issuer}/authorize?{urllib.parse.urlencode(q)}"

    def get_code(self, school, client: dict, user: str = "tina",
                 challenge: str | None = None) -> str:
        b = Browser()
        b.get(self.auth_url(school, client, challenge))
        b.sign_in(user)
        params = b.redirect_params()
        self.assertIn("code", params, b.location)
        return params["code"]

    def token(self, school, client: dict, code: str, verifier: str | None = None,
              redirect_uri: str = RP) -> requests.Response:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if verifier:
            data["code_verifier"] = verifier
        auth = None
        if "client_secret" in client:
            auth = (client["client_id"], client["client_secret"])
        else:
            data["client_id"] = client["client_id"]
        return requests.post(f"{school.issuer}/token", data=data, auth=auth, timeout=30)

    def assert_grant_error(self, r: requests.Response, error: str = "invalid_grant",
                           why: str = "") -> None:
        self.assertEqual(r.status_code, 400, r.text)
        self.assertEqual(r.json()["error"], error, r.text)
        self.assertIn(why, r.json().get("error_description", ""))
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")

    def userinfo(self, school, access: str) -> int:
        return requests.get(f"{school.issuer}/userinfo",
                            headers={"Authorization": f"Bearer {access}"}, timeout=30).status_code

    # ---- the list ----

    def test_wrong_redirect_uri(self) -> None:
        client = self.a.client([RP])
        b = Browser()
        r = b.get(self.auth_url(self.a, client, redirect_uri="http://127.0.0.1:9/cb/other"))
        self.assertEqual(r.status_code, 400)
        self.assertNotIn("Location", r.headers)
        r = b.get(self.auth_url(self.a, client, redirect_uri=RP + "?x=1"))
        self.assertEqual(r.status_code, 400)
        # The token request must repeat the exact redirect_uri.
        verifier, challenge = pkce()
        code = self.get_code(self.a, client, challenge=challenge)
        self.assert_grant_error(self.token(self.a, client, code, verifier,
                                           redirect_uri="http://127.0.0.1:9/cb2"),
                                why="redirect_uri")

    def test_reused_code_revokes_what_it_issued(self) -> None:
        client = self.a.client([RP])
        verifier, challenge = pkce()
        code = self.get_code(self.a, client, challenge=challenge)
        first = self.token(self.a, client, code, verifier)
        self.assertEqual(first.status_code, 200, first.text)
        tok = first.json()
        self.assertEqual(self.userinfo(self.a, tok["access_token"]), 200)
        self.assert_grant_error(self.token(self.a, client, code, verifier), why="used already")
        self.assertEqual(self.userinfo(self.a, tok["access_token"]), 401)
        r = requests.post(f"{self.a.issuer}/token",
                          data={"grant_type": "refresh_token",
                                "refresh_token": tok["refresh_token"]},
                          auth=(client["client_id"], client["client_secret"]), timeout=30)
        self.assert_grant_error(r)

    def test_wrong_pkce_verifier(self) -> None:
        client = self.a.client([RP], public=True)
        verifier, challenge = pkce()
        code = self.get_code(self.a, client, challenge=challenge)
        self.assert_grant_error(self.token(self.a, client, code, secrets.token_urlsafe(48)),
                                why="PKCE")
        self.assert_grant_error(self.token(self.a, client, code), why="PKCE")  # none at all
        # The code is still good for the right verifier (failed attempts do not burn it).
        self.assertEqual(self.token(self.a, client, code, verifier).status_code, 200)
        # A public client must send a challenge; only S256 is accepted.
        b = Browser()
        b.get(self.auth_url(self.a, client))
        self.assertEqual(b.redirect_params()["error"], "invalid_request")
        b.get(self.auth_url(self.a, client, code_challenge=challenge,
                            code_challenge_method="plain"))
        self.assertEqual(b.redirect_params()["error"], "invalid_request")

    def test_expired_code(self) -> None:
        client = self.a.client([RP])
        verifier, challenge = pkce()
        code = self.get_code(self.a, client, challenge=challenge)
        digest = hashlib.sha256(code.encode()).hexdigest()
        self.pg.psql("UPDATE core.oidc_codes SET expires_at = now() - interval '1 second' "
                     f"WHERE code_hash = '\\x{digest}'::bytea")
        self.assert_grant_error(self.token(self.a, client, code, verifier), why="expired")

    def refresh(self, school, client: dict, refresh_token: str,
                scope: str | None = None) -> requests.Response:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if scope is not None:
            data["scope"] = scope
        return requests.post(f"{school.issuer}/token", data=data,
                             auth=(client["client_id"], client["client_secret"]), timeout=30)

    def test_another_client_of_the_same_school(self) -> None:
        """A code or a refresh token is good only for the client it was issued to, even
        where another client of the same school authenticates correctly; the failed try
        burns neither."""
        mine, other = self.a.client([RP]), self.a.client([RP])
        verifier, challenge = pkce()
        code = self.get_code(self.a, mine, challenge=challenge)
        self.assert_grant_error(self.token(self.a, other, code, verifier),
                                why="issued to another client")
        first = self.token(self.a, mine, code, verifier)
        self.assertEqual(first.status_code, 200, first.text)
        refresh = first.json()["refresh_token"]
        self.assert_grant_error(self.refresh(self.a, other, refresh),
                                why="issued to another client")
        self.assertEqual(self.refresh(self.a, mine, refresh).status_code, 200)

    def test_refresh_refusals(self) -> None:
        """An unknown or expired refresh token is refused; a refresh may narrow the scope,
        never widen it."""
        client = self.a.client([RP])
        self.assert_grant_error(self.refresh(self.a, client, "no-such-token"),
                                why="unknown refresh token")
        self.assert_grant_error(self.refresh(self.a, client, "x" * 101),
                                why="unknown refresh token")
        verifier, challenge = pkce()
        tok = self.token(self.a, client, self.get_code(self.a, client, challenge=challenge),
                         verifier).json()
        self.assertEqual(set(tok["scope"].split()), {"openid", "profile"})
        # Wider: refused, and the token is still good.
        self.assert_grant_error(self.refresh(self.a, client, tok["refresh_token"],
                                             scope="openid profile email"),
                                error="invalid_scope", why="cannot widen")
        narrow = self.refresh(self.a, client, tok["refresh_token"], scope="openid")
        self.assertEqual(narrow.status_code, 200, narrow.text)
        self.assertEqual(narrow.json()["scope"], "openid")
        # Expired (made old in the database).
        latest = narrow.json()["refresh_token"]
        digest = hashlib.sha256(latest.encode()).hexdigest()
        self.pg.psql("UPDATE core.oidc_tokens SET expires_at = now() - interval '1 second' "
                     f"WHERE token_hash = '\\x{digest}'::bytea")
        self.assert_grant_error(self.refresh(self.a, client, latest), why="expired")

    def test_client_of_another_school(self) -> None:
        theirs = self.b.client([RP])
        # Their client is unknown to this school's issuer: a page, no redirect.
        r = Browser().get(self.auth_url(self.a, theirs))
        self.assertEqual(r.status_code, 400)
        self.assertNotIn("Location", r.headers)
        # Their code, redeemed at this issuer with their credentials: invalid_client.
        verifier, challenge = pkce()
        code = self.get_code(self.b, theirs, challenge=challenge)
        r = self.token(self.a, theirs, code, verifier)
        self.assertEqual(r.status_code, 401)
        self.assertEqual(r.json()["error"], "invalid_client")
        # And this school's client cannot redeem it either (RLS hides the code).
        ours = self.a.client([RP])
        self.assert_grant_error(self.token(self.a, ours, code, verifier))
        # Their tokens mean nothing here.
        tok = self.token(self.b, theirs, code, verifier).json()
        self.assertEqual(self.userinfo(self.b, tok["access_token"]), 200)
        self.assertEqual(self.userinfo(self.a, tok["access_token"]), 401)
        r = requests.post(f"{self.a.issuer}/introspect", data={"token": tok["access_token"]},
                          auth=(ours["client_id"], ours["client_secret"]), timeout=30)
        self.assertFalse(r.json()["active"])
        # A person of school b cannot sign in at school a's issuer.
        self.b.add_person("bert", ["teacher"])
        b = Browser()
        b.get(self.auth_url(self.a, ours))
        self.assertEqual(b.sign_in("bert").status_code, 401)

    def test_disabled_person(self) -> None:
        self.a.add_person("dora", ["teacher"])
        client = self.a.client([RP])
        verifier, challenge = pkce()
        tok = self.token(self.a, client, self.get_code(self.a, client, "dora", challenge),
                         verifier).json()
        pending_v, pending_c = pkce()
        pending = self.get_code(self.a, client, "dora", pending_c)
        self.pg.psql(f"UPDATE core.users SET disabled_at = now() WHERE id = "
                     f"'{self.a.ids['dora']}'")
        self.assertEqual(self.userinfo(self.a, tok["access_token"]), 401)
        r = requests.post(f"{self.a.issuer}/token",
                          data={"grant_type": "refresh_token",
                                "refresh_token": tok["refresh_token"]},
                          auth=(client["client_id"], client["client_secret"]), timeout=30)
        self.assert_grant_error(r)
        self.assert_grant_error(self.token(self.a, client, pending, pending_v), why="disabled")
        b = Browser()
        b.get(self.auth_url(self.a, client))
        r = b.sign_in("dora")
        self.assertEqual(r.status_code, 403)
        self.assertIn("disabled", r.text)

    def test_outside_allowed_roles_or_groups(self) -> None:
        teachers = self.a.client([RP], allowed_roles=["teacher"])
        b = Browser()
        b.get(self.auth_url(self.a, teachers))
        b.sign_in("sam")
        self.assertEqual(b.redirect_params()["error"], "access_denied")
        self.get_code(self.a, teachers, "tina")
        gid = self.a.make_group("club", owner="tina", members=["sue"])
        club = self.a.client([RP], allowed_groups=[gid])
        b = Browser()
        b.get(self.auth_url(self.a, club))
        b.sign_in("sam")
        self.assertEqual(b.redirect_params()["error"], "access_denied")
        self.get_code(self.a, club, "sue")
        # Taken out of the group: the next refresh is refused.
        verifier, challenge = pkce()
        tok = self.token(self.a, club, self.get_code(self.a, club, "sue", challenge),
                         verifier).json()
        fixtures.check(self.a.raw("tina", "DELETE", f"/groups/{gid}/members/{self.a.ids['sue']}"),
                       200, 204, what="remove sue from the club")
        r = requests.post(f"{self.a.issuer}/token",
                          data={"grant_type": "refresh_token",
                                "refresh_token": tok["refresh_token"]},
                          auth=(club["client_id"], club["client_secret"]), timeout=30)
        self.assert_grant_error(r)

    def test_secrets_only_as_hashes_and_keys_out_of_reach(self) -> None:
        client = self.a.client([RP])
        verifier, challenge = pkce()
        code = self.get_code(self.a, client, challenge=challenge)
        tok = self.token(self.a, client, code, verifier).json()
        dump = self.pg.psql(
            "SELECT string_agg(t::text, ' ') FROM (SELECT c::text FROM core.oidc_clients c "
            "UNION ALL SELECT o::text FROM core.oidc_codes o "
            "UNION ALL SELECT k::text FROM core.oidc_tokens k) t")
        for secret in (client["client_secret"], code, tok["access_token"],
                       tok["refresh_token"]):
            self.assertNotIn(secret, dump)
        digest = hashlib.sha256(tok["access_token"].encode()).hexdigest()
        self.assertIn(digest, dump)
        self.assertEqual(self.pg.psql("SELECT has_table_privilege('atrium_request', "
                                      "'core.oidc_keys', 'SELECT')").strip(), "f")
        self.assertEqual(self.pg.psql("SELECT has_table_privilege('atrium_request', "
                                      "'core.oidc_clients', 'SELECT')").strip(), "t")

    # ---- the pages and the token endpoint's other refusals ----

    def test_sign_in_form_refusals(self) -> None:
        client = self.a.client([RP])
        b = Browser()
        b.get(self.auth_url(self.a, client))
        r = b.sign_in("tina", "wrong password")
        self.assertEqual(r.status_code, 401)
        self.assertIn("Wrong username or password", r.text)
        forged = requests.post(f"{self.a.issuer}/login",
                               data={"csrf": "x", "request": "a=b", "username": "tina",
                                     "password": fixtures.PASSWORD}, timeout=30)
        self.assertEqual(forged.status_code, 403)
        # The JSON body of a REST client is not a form.
        r = requests.post(f"{self.a.issuer}/token", json={"grant_type": "x"}, timeout=30)
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.json()["error"], "invalid_request")
        r = requests.post(f"{self.a.issuer}/token", data={"grant_type": "password"},
                          auth=(client["client_id"], client["client_secret"]), timeout=30)
        self.assert_grant_error(r, "unsupported_grant_type")
        r = requests.post(f"{self.a.issuer}/token", data={"grant_type": "authorization_code"},
                          auth=(client["client_id"], "wrong"), timeout=30)
        self.assertEqual(r.status_code, 401)
        self.assertEqual(r.json()["error"], "invalid_client")
        r = requests.post(f"{self.a.issuer}/token", data="code=a&code=b",
                          headers={"Content-Type": "application/x-www-form-urlencoded"},
                          auth=(client["client_id"], client["client_secret"]), timeout=30)
        self.assertEqual(r.json()["error"], "invalid_request")
        # Bytes that are not UTF-8, an oversized code, a token far too long: refused cleanly.
        r = requests.post(f"{self.a.issuer}/token", data=b"grant_type=\xff\xfe",
                          headers={"Content-Type": "application/x-www-form-urlencoded"},
                          auth=(client["client_id"], client["client_secret"]), timeout=30)
        self.assertEqual(r.json()["error"], "invalid_request")
        r = requests.post(f"{self.a.issuer}/token",
                          data={"grant_type": "authorization_code", "code": "c" * 5000,
                                "redirect_uri": RP},
                          auth=(client["client_id"], client["client_secret"]), timeout=30)
        self.assert_grant_error(r)
        self.assertEqual(self.userinfo(self.a, "t" * 5000), 401)
        big = requests.post(f"{self.a.issuer}/token", data={"code": "c" * 2_000_000},
                            timeout=30)
        self.assertEqual(big.status_code, 413)
        # A scope the client is not registered for.
        narrow = self.a.client([RP], scopes=["openid"])
        b = Browser()
        b.get(self.auth_url(self.a, narrow, scope="openid roles"))
        self.assertEqual(b.redirect_params()["error"], "invalid_scope")

    def test_authorization_request_refusals(self) -> None:
        """Once the redirect URI is known good, a bad request goes back to it as an error
        (with the state, except when the state itself is what is wrong)."""
        client = self.a.client([RP])
        _, challenge = pkce()
        cases = [
            ({"response_type": "token"}, "unsupported_response_type", "st"),
            ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported", "st"),
            ({"request_uri": "https://rp.example/req"}, "request_not_supported", "st"),
            ({"prompt": "none login"}, "invalid_request", "st"),
            ({"max_age": "-1"}, "invalid_request", "st"),
            ({"max_age": "soon"}, "invalid_request", "st"),
            ({"nonce": "n" * 513}, "invalid_request", "st"),
            ({"state": "s" * 2049}, "invalid_request", None),
            ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request",
             "st"),
        ]
        for extra, error, state in cases:
            with self.subTest(extra=list(extra)):
                b = Browser()
                own = "code_challenge" in extra
                b.get(self.auth_url(self.a, client, None if own else challenge, **extra))
                params = b.redirect_params()
                self.assertEqual(params.get("error"), error, b.location)
                self.assertEqual(params.get("state"), state)
                self.assertNotIn("code", params)

    def test_sign_in_form_throttle(self) -> None:
        """Five wrong passwords for one person within the window: the form answers 429 and
        takes no password for them, the right one neither, until the window passes; other
        people sign in as before."""
        self.a.add_person("theo", ["teacher"])
        client = self.a.client([RP])
        b = Browser()
        b.get(self.auth_url(self.a, client))
        for _ in range(5):
            self.assertEqual(b.sign_in("theo", "wrong password").status_code, 401)
        r = b.sign_in("theo")
        self.assertEqual(r.status_code, 429, r.text)
        self.assertIn("Too many failed sign-ins", r.text)
        self.assertNotIn("Location", r.headers)
        other = Browser()
        other.get(self.auth_url(self.a, client))
        other.sign_in("tina")
        self.assertIn("code", other.redirect_params())

    # ---- the clients REST routes ----

    def test_clients_rest_failures(self) -> None:
        path = f"/api/v1/schools/{self.a.slug}/oidc/clients"
        good = {"name": "App", "redirect_uris": [RP], "public": False, "trusted": False,
                "scopes": ["openid"]}
        h = self.host
        self.assertEqual(h.request("POST", path, good).status, 401)
        self.assertEqual(h.request("POST", path, good, token=self.a.tokens["tina"]).status, 403)
        self.assertEqual(h.request("GET", path, token=self.a.tokens["sam"]).status, 403)
        raw = h.request("POST", path, b"{not json", token=self.a.tokens["ada"],
                        headers={"Content-Type": "application/json"})
        self.assertEqual(raw.status, 400)
        for bad in ({**good, "public": "no"}, {**good, "unknown": 1},
                    {**good, "name": "x" * 201}, {**good, "redirect_uris": []},
                    {**good, "redirect_uris": [RP + str(i) for i in range(21)]},
                    {**good, "redirect_uris": ["http://app.example/cb"]},
                    {**good, "redirect_uris": ["https://app.example/cb#frag"]},
                    {**good, "redirect_uris": ["not a uri"]},
                    {**good, "scopes": ["openid", "admin"]},
                    {**good, "allowed_roles": ["wizard"]},
                    {**good, "allowed_groups": ["not-a-uuid"]},
                    {k: v for k, v in good.items() if k != "public"}):
            r = h.request("POST", path, bad, token=self.a.tokens["ada"])
            self.assertEqual(r.status, 400, (bad, r.body))
            self.assertEqual(r.content_type, "application/problem+json")
        big = h.request("POST", path, {**good, "name": "x" * 2_000_000},
                        token=self.a.tokens["ada"])
        self.assertEqual(big.status, 413)
        made = h.request("POST", path, good, token=self.a.tokens["ada"])
        self.assertEqual(made.status, 201)
        c = made.json()
        self.assertIn("client_secret", c)
        one = h.request("GET", f"{path}/{c['id']}", token=self.a.tokens["ada"]).json()
        self.assertNotIn("client_secret", one)
        self.assertNotIn("secret_hash", one)
        listed = h.request("GET", path, token=self.a.tokens["ada"]).json()["items"]
        self.assertIn(c["id"], [x["id"] for x in listed])
        self.assertTrue(all("client_secret" not in x for x in listed))
        # Another school's admin sees none of it.
        other = f"/api/v1/schools/{self.b.slug}/oidc/clients/{c['id']}"
        for method, body in (("GET", None), ("PATCH", {"name": "mine"}), ("DELETE", None)):
            r = h.request(method, other, body, token=self.b.tokens["ada"])
            self.assertEqual(r.status, 404, (method, r.body))
        r = h.request("GET", f"{path}/{c['id']}", token=self.b.tokens["ada"])
        self.assertEqual(r.status, 404)  # b's admin in a's school: no such school for them
        self.assertEqual(h.request("GET", f"{path}/nope", token=self.a.tokens["ada"]).status,
                         404)
        # PATCH: changes, rotation (the old secret stops working), refusals.
        r = h.request("PATCH", f"{path}/{c['id']}", {"trusted": True, "allowed_roles": None,
                                                     "name": "Renamed"},
                      token=self.a.tokens["ada"])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual((r.json()["name"], r.json()["trusted"]), ("Renamed", True))
        self.assertEqual(h.request("PATCH", f"{path}/{c['id']}", {"public": True},
                                   token=self.a.tokens["ada"]).status, 400)
        rot = h.request("PATCH", f"{path}/{c['id']}", {"rotate_secret": True},
                        token=self.a.tokens["ada"]).json()
        self.assertNotEqual(rot["client_secret"], c["client_secret"])
        for secret, status in ((c["client_secret"], 401), (rot["client_secret"], 400)):
            r = requests.post(f"{self.a.issuer}/token", data={"grant_type": "x"},
                              auth=(c["client_id"], secret), timeout=30)
            self.assertEqual(r.status_code, status, r.text)
        pub = self.a.client([RP], public=True)
        self.assertEqual(h.request("PATCH", f"{path}/{pub['id']}", {"rotate_secret": True},
                                   token=self.a.tokens["ada"]).status, 400)
        # DELETE: gone, and so is what it was given.
        self.assertEqual(h.request("DELETE", f"{path}/{c['id']}",
                                   token=self.a.tokens["ada"]).status, 204)
        self.assertEqual(h.request("DELETE", f"{path}/{c['id']}",
                                   token=self.a.tokens["ada"]).status, 404)
        audit = fixtures.check(h.request("GET", f"/api/v1/schools/{self.a.slug}/audit",
                                         token=self.a.tokens["ada"]), 200, what="audit")
        actions = {e.get("action") for e in audit.json()["items"]}
        self.assertTrue({"oidc.client_created", "oidc.client_secret_rotated",
                         "oidc.client_deleted"} <= actions, actions)


if __name__ == "__main__":
    harness.main()
