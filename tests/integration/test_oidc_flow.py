# SPDX-License-Identifier: Apache-2.0
"""test_oidc_flow.py - Atrium as an OpenID Connect provider, driven by python3-authlib as the
relying party (issue #20): discovery and JWKS, the code flow with PKCE through the real
sign-in form and consent page, the ID token verified against the JWKS (authlib and PyJWT, RS256
and ES256), userinfo by GET, POST header and POST body, refresh-token rotation, revocation
(RFC 7009), introspection (RFC 7662), RP-initiated logout, prompt=none|login|consent and
max_age, and the browser cookie's attributes (the portal's contract).

One cluster and one host for the file (fixtures.SharedHost); every test registers clients of
its own in one shared school.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import urllib.parse

import fixtures
import harness
import oidc_fixtures
from oidc_fixtures import Browser

import jwt as pyjwt  # noqa: E402  (python3-jwt, made importable by oidc_fixtures)
import requests  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402
from authlib.jose import JsonWebKey  # noqa: E402
from authlib.jose import jwt as authlib_jwt  # noqa: E402
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # noqa: E402

RP = "http://127.0.0.1:9/cb"  # never contacted: the browser stops at the redirect


class OidcFlow(fixtures.SharedHost):
    EXIT_CHECK = ("oidc",)
    # Signing keys refreshed every 2 s, so that rotation without a restart is seen quickly.
    HOST_ENV = {"ATRIUM_OIDC_KEY_REFRESH": "2"}

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.s = oidc_fixtures.OidcSchool(cls.host, cls.op_token)
        cls.meta = requests.get(f"{cls.s.issuer}/.well-known/openid-configuration",
                                timeout=30).json()

    # ---- helpers ----

    def session(self, client: dict, **kw) -> OAuth2Session:
        return OAuth2Session(client["client_id"], client.get("client_secret"),
                             scope=kw.pop("scope", "openid profile email roles groups school"),
                             redirect_uri=kw.pop("redirect_uri", RP),
                             code_challenge_method="S256", **kw)

    def code_flow(self, client: dict, user: str = "tina", browser: Browser | None = None,
                  extra: dict | None = None, scope: str | None = None,
                  meta: dict | None = None) -> tuple:
        """Signs `user` in through the provider's form; returns (token, verifier, nonce,
        browser). `meta`: another host's discovery document."""
        meta = meta or self.meta
        rp = self.session(client, **({"scope": scope} if scope else {}))
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(16)
        url, state = rp.create_authorization_url(meta["authorization_endpoint"],
                                                 code_verifier=verifier, nonce=nonce,
                                                 **(extra or {}))
        b = browser or Browser()
        r = b.get(url)
        if r.status_code == 200 and 'action="login"' in r.text:
            b.sign_in(user)
        if b.last.status_code == 200 and 'action="consent"' in b.last.text:
            b.consent("allow")
        params = b.redirect_params()
        self.assertEqual(params.get("state"), state, b.location)
        self.assertEqual(params.get("iss"), meta["issuer"])
        token = rp.fetch_token(meta["token_endpoint"], authorization_response=b.location,
                               code_verifier=verifier)
        return token, verifier, nonce, b

    def jwks(self):
        return JsonWebKey.import_key_set(requests.get(self.meta["jwks_uri"], timeout=30).json())

    def verify_id_token(self, id_token: str, client: dict, nonce: str | None):
        claims = authlib_jwt.decode(
            id_token, self.jwks(),
            claims_options={"iss": {"essential": True, "value": self.s.issuer},
                            "aud": {"essential": True, "value": client["client_id"]}})
        claims.validate()
        if nonce:
            self.assertEqual(claims["nonce"], nonce)
        return claims

    # ---- discovery and keys ----

    def test_discovery_and_jwks(self) -> None:
        m = self.meta
        self.assertEqual(m["issuer"], self.s.issuer)
        for ep in ("authorization", "token", "userinfo", "revocation", "introspection",
                   "end_session"):
            self.assertTrue(m[f"{ep}_endpoint"].startswith(self.s.issuer + "/"), ep)
        self.assertEqual(m["code_challenge_methods_supported"], ["S256"])
        self.assertIn("ES256", m["id_token_signing_alg_values_supported"])
        keys = requests.get(m["jwks_uri"], timeout=30).json()["keys"]
        self.assertEqual({k["kty"] for k in keys}, {"EC", "RSA"})
        for k in keys:
            self.assertNotIn("d", k)  # never a private part
            self.assertEqual(k["use"], "sig")
        # Another school has its own issuer with the same keys; an unknown one is a 404.
        other = requests.get(f"{self.host.url}/oidc/no-such-school/.well-known/"
                             "openid-configuration", timeout=30)
        self.assertEqual(other.status_code, 404)

    # ---- the code flow ----

    def test_code_flow_confidential_with_pkce(self) -> None:
        client = self.s.client([RP], trusted=True)
        token, _, nonce, _ = self.code_flow(client)
        self.assertEqual(token["token_type"], "Bearer")
        claims = self.verify_id_token(token["id_token"], client, nonce)
        self.assertEqual(claims["sub"], self.s.ids["tina"])
        self.assertEqual(claims["preferred_username"], "tina")
        self.assertEqual(claims["name"], "Tina Teacher")
        self.assertEqual(claims["roles"], ["teacher"])
        self.assertEqual(claims["school"]["slug"], self.s.slug)
        self.assertIn("auth_time", claims)
        # PyJWT agrees (a second, independent verifier).
        jwk = pyjwt.PyJWKClient(self.meta["jwks_uri"]).get_signing_key_from_jwt(
            token["id_token"])
        pyjwt.decode(token["id_token"], jwk.key, algorithms=["RS256"],
                     audience=client["client_id"], issuer=self.s.issuer)

    def test_email_is_the_school_mail_address_where_the_school_has_mail(self) -> None:
        client = self.s.client([RP], trusted=True)

        def claims() -> dict:
            token, _, nonce, _ = self.code_flow(client, scope="openid email")
            return dict(self.verify_id_token(token["id_token"], client, nonce))

        # no mail module: the address the school holds, if any, never as verified
        self.assertFalse(claims().get("email_verified", False))
        fixtures.enable_module(self.host, self.op_token, self.s.slug, "mail")
        domain = f"{self.s.slug}.example.org"
        fixtures.check(self.host.request("PUT", f"/api/v1/schools/{self.s.slug}/mail/settings",
                                         {"domain": domain}, token=self.s.tokens["ada"]),
                       200, 201)
        got = claims()
        self.assertEqual((got["email"], got["email_verified"]), (f"tina@{domain}", True))

    def test_public_client_es256_and_groups(self) -> None:
        gid = self.s.make_group("7b", owner="tina", members=["sam"])
        client = self.s.client([RP], public=True, trusted=True,
                               id_token_signed_response_alg="ES256")
        self.assertNotIn("client_secret", client)
        token, _, nonce, _ = self.code_flow(client, user="sam")
        header = json.loads(base64.urlsafe_b64decode(token["id_token"].split(".")[0] + "=="))
        self.assertEqual(header["alg"], "ES256")
        claims = self.verify_id_token(token["id_token"], client, nonce)
        self.assertEqual(claims["groups"], [{"id": gid, "name": "7b"}])
        jwk = pyjwt.PyJWKClient(self.meta["jwks_uri"]).get_signing_key_from_jwt(
            token["id_token"])
        pyjwt.decode(token["id_token"], jwk.key, algorithms=["ES256"],
                     audience=client["client_id"])

    def test_userinfo_get_post_header_post_body(self) -> None:
        client = self.s.client([RP])
        token, *_ = self.code_flow(client, scope="openid profile")
        at = token["access_token"]
        ui = self.meta["userinfo_endpoint"]
        got = [
            requests.get(ui, headers={"Authorization": f"Bearer {at}"}, timeout=30),
            requests.post(ui, headers={"Authorization": f"Bearer {at}"}, timeout=30),
            requests.post(ui, data={"access_token": at}, timeout=30),
        ]
        for r in got:
            self.assertEqual(r.status_code, 200, r.text)
            body = r.json()
            self.assertEqual(body["sub"], self.s.ids["tina"])
            self.assertEqual(body["preferred_username"], "tina")
            self.assertNotIn("roles", body)  # not granted
        bad = requests.get(ui, headers={"Authorization": "Bearer nope"}, timeout=30)
        self.assertEqual(bad.status_code, 401)
        self.assertIn("invalid_token", bad.headers.get("WWW-Authenticate", ""))
        both = requests.post(ui, headers={"Authorization": f"Bearer {at}"},
                             data={"access_token": at}, timeout=30)
        self.assertEqual(both.status_code, 400)
        # authlib's own client sends the header
        rp = self.session(client, token=token)
        self.assertEqual(rp.get(ui).json()["sub"], self.s.ids["tina"])

    def test_refresh_rotates_and_reuse_revokes(self) -> None:
        client = self.s.client([RP])
        token, *_ = self.code_flow(client)
        rp = self.session(client, token=token)
        fresh = rp.refresh_token(self.meta["token_endpoint"],
                                 refresh_token=token["refresh_token"])
        self.assertNotEqual(fresh["refresh_token"], token["refresh_token"])
        self.assertNotEqual(fresh["access_token"], token["access_token"])
        self.verify_id_token(fresh["id_token"], client, None)
        ui = self.meta["userinfo_endpoint"]
        ok = requests.get(ui, headers={"Authorization": f"Bearer {fresh['access_token']}"},
                          timeout=30)
        self.assertEqual(ok.status_code, 200)
        # The old refresh token again: refused, and the whole grant (the new pair) revoked.
        again = requests.post(self.meta["token_endpoint"],
                              data={"grant_type": "refresh_token",
                                    "refresh_token": token["refresh_token"]},
                              auth=(client["client_id"], client["client_secret"]), timeout=30)
        self.assertEqual(again.status_code, 400)
        self.assertEqual(again.json()["error"], "invalid_grant")
        gone = requests.get(ui, headers={"Authorization": f"Bearer {fresh['access_token']}"},
                            timeout=30)
        self.assertEqual(gone.status_code, 401)
        dead = requests.post(self.meta["token_endpoint"],
                             data={"grant_type": "refresh_token",
                                   "refresh_token": fresh["refresh_token"]},
                             auth=(client["client_id"], client["client_secret"]), timeout=30)
        self.assertEqual(dead.json()["error"], "invalid_grant")

    def introspect(self, client: dict, tok: str) -> dict:
        r = requests.post(self.meta["introspection_endpoint"], data={"token": tok},
                          auth=(client["client_id"], client["client_secret"]), timeout=30)
        self.assertEqual(r.status_code, 200, r.text)
        return r.json()

    def test_introspection_and_revocation(self) -> None:
        client = self.s.client([RP])
        resource_server = self.s.client(["https://rs.example/unused"], name="Resource server",
                                        scopes=["openid"])
        token, *_ = self.code_flow(client)
        info = self.introspect(resource_server, token["access_token"])
        self.assertTrue(info["active"])
        self.assertEqual(info["sub"], self.s.ids["tina"])
        self.assertEqual(info["client_id"], client["client_id"])
        self.assertEqual(info["username"], "tina")
        self.assertEqual(info["token_type"], "Bearer")
        self.assertFalse(self.introspect(resource_server, "not-a-token")["active"])
        # authlib revokes the access token: it alone goes.
        rp = self.session(client, token=token)
        r = rp.revoke_token(self.meta["revocation_endpoint"], token=token["access_token"],
                            token_type_hint="access_token")
        self.assertEqual(r.status_code, 200)
        self.assertFalse(self.introspect(resource_server, token["access_token"])["active"])
        self.assertTrue(self.introspect(resource_server, token["refresh_token"])["active"])
        # Another client cannot revoke it (200, but nothing happens: RFC 7009 2.2).
        other = requests.post(self.meta["revocation_endpoint"],
                              data={"token": token["refresh_token"]},
                              auth=(resource_server["client_id"],
                                    resource_server["client_secret"]), timeout=30)
        self.assertEqual(other.status_code, 200)
        self.assertTrue(self.introspect(resource_server, token["refresh_token"])["active"])
        # Revoking the refresh token ends the grant.
        r = rp.revoke_token(self.meta["revocation_endpoint"], token=token["refresh_token"],
                            token_type_hint="refresh_token")
        self.assertEqual(r.status_code, 200)
        self.assertFalse(self.introspect(resource_server, token["refresh_token"])["active"])
        # A public client may not introspect; a wrong secret is invalid_client.
        pub = self.s.client([RP], public=True)
        r = requests.post(self.meta["introspection_endpoint"],
                          data={"token": "x", "client_id": pub["client_id"]}, timeout=30)
        self.assertEqual(r.status_code, 401)
        r = requests.post(self.meta["introspection_endpoint"], data={"token": "x"},
                          auth=(resource_server["client_id"], "wrong"), timeout=30)
        self.assertEqual(r.status_code, 401)
        self.assertEqual(r.json()["error"], "invalid_client")

    def test_key_rotation_keeps_old_keys_published(self) -> None:
        client = self.s.client([RP])
        before, _, nonce, _ = self.code_flow(client)
        old_kid = self.kid(before["id_token"])
        # The keys are 91 days old: the next host to start makes new ones.
        self.pg.psql("UPDATE core.oidc_keys SET created_at = created_at - interval '91 days'")
        second = harness.Atriumd(self.pg)
        try:
            second.start()
            issuer2 = f"{second.url}/oidc/{self.s.slug}"
            meta2 = requests.get(f"{issuer2}/.well-known/openid-configuration",
                                 timeout=30).json()
            keys = requests.get(meta2["jwks_uri"], timeout=30).json()["keys"]
            self.assertEqual(len(keys), 4, keys)  # two new, two retired but still published
            self.assertIn(old_kid, [k["kid"] for k in keys])
            client2 = self.s.client([RP])
            after, _, nonce2, _ = self.code_flow(client2, meta=meta2)
            self.assertNotEqual(self.kid(after["id_token"]), old_kid)
            # Both tokens verify against the JWKS either host now publishes.
            for tok, c, iss, n in ((before, client, self.s.issuer, nonce),
                                   (after, client2, issuer2, nonce2)):
                claims = authlib_jwt.decode(
                    tok["id_token"], JsonWebKey.import_key_set({"keys": keys}),
                    claims_options={"iss": {"essential": True, "value": iss}})
                claims.validate()
                self.assertEqual(claims["nonce"], n)
            self.assertEqual(len(requests.get(self.meta["jwks_uri"], timeout=30)
                                 .json()["keys"]), 4)
            # The first host, still running, signs with the new key after its next refresh
            # (every 2 s here, [auth] oidc_key_refresh), without a restart.
            new_kid = self.kid(after["id_token"])
            deadline = time.monotonic() + 30
            while True:
                client3 = self.s.client([RP])
                third, *_ = self.code_flow(client3)
                if self.kid(third["id_token"]) == new_kid or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            self.assertEqual(self.kid(third["id_token"]), new_kid)
            # A key retired longer than it is published is deleted by the next refresh.
            self.pg.psql("UPDATE core.oidc_keys SET retired_at = now() - interval '92 days' "
                         f"WHERE kid = '{old_kid}'")
            deadline = time.monotonic() + 30
            while (self.pg.psql(f"SELECT count(*) FROM core.oidc_keys WHERE kid = '{old_kid}'")
                   .strip() != "0" and time.monotonic() < deadline):
                time.sleep(0.5)
            self.assertEqual(self.pg.psql(
                f"SELECT count(*) FROM core.oidc_keys WHERE kid = '{old_kid}'").strip(), "0")
            published = [k["kid"] for k in requests.get(self.meta["jwks_uri"], timeout=30)
                         .json()["keys"]]
            self.assertEqual(len(published), 3, published)
            self.assertNotIn(old_kid, published)
        finally:
            second.cleanup()

    @staticmethod
    def kid(id_token: str) -> str:
        return json.loads(base64.urlsafe_b64decode(id_token.split(".")[0] + "=="))["kid"]

    # ---- the browser: consent, prompt, max_age, cookie, logout ----

    def test_consent_once_then_remembered_and_deny(self) -> None:
        client = self.s.client([RP], trusted=False, name="Library")
        rp = self.session(client)
        b = Browser()
        b.get(rp.create_authorization_url(self.meta["authorization_endpoint"],
                                          code_verifier=secrets.token_urlsafe(48))[0])
        b.sign_in("sue")
        self.assertEqual(b.last.status_code, 200)
        self.assertIn("Library", b.last.text)
        csp = b.last.headers["Content-Security-Policy"]
        self.assertIn("default-src 'none'", csp)
        self.assertEqual(oidc_fixtures.parse_forms(b.last.text).scripts, 0)
        b.consent("deny")
        self.assertEqual(b.redirect_params()["error"], "access_denied")
        b.get(rp.create_authorization_url(self.meta["authorization_endpoint"],
                                          code_verifier=secrets.token_urlsafe(48),
                                          prompt="none")[0])
        self.assertEqual(b.redirect_params()["error"], "consent_required")
        # Allowed once, not asked again; prompt=consent asks anyway.
        token, _, _, b = self.code_flow(client, user="sue", browser=b)
        self.assertIn("access_token", token)
        r = b.get(rp.create_authorization_url(self.meta["authorization_endpoint"],
                                              code_verifier=secrets.token_urlsafe(48))[0])
        self.assertEqual(r.status_code, 303)
        r = b.get(rp.create_authorization_url(self.meta["authorization_endpoint"],
                                              code_verifier=secrets.token_urlsafe(48),
                                              prompt="consent")[0])
        self.assertIn('action="consent"', r.text)
        # A consent post without the page's CSRF token is refused.
        forged = b.session.post(f"{self.s.issuer}/consent",
                                data={"csrf": "x", "request": "client_id=y",
                                      "decision": "allow"}, allow_redirects=False, timeout=30)
        self.assertEqual(forged.status_code, 403)

    def test_prompt_none_login_and_max_age(self) -> None:
        client = self.s.client([RP])
        rp = self.session(client)
        auth = self.meta["authorization_endpoint"]
        b = Browser()
        b.get(rp.create_authorization_url(auth, code_verifier="v" * 43, prompt="none")[0])
        self.assertEqual(b.redirect_params()["error"], "login_required")
        _, _, _, b = self.code_flow(client, browser=b)
        # Signed in: prompt=none answers a code at once.
        b.get(rp.create_authorization_url(auth, code_verifier="v" * 43, prompt="none")[0])
        self.assertIn("code", b.redirect_params())
        # prompt=login and max_age=0 show the form again although signed in.
        r = b.get(rp.create_authorization_url(auth, code_verifier="v" * 43, prompt="login")[0])
        self.assertIn('action="login"', r.text)
        r = b.get(rp.create_authorization_url(auth, code_verifier="v" * 43, max_age="0",
                                              login_hint='tina"><b>')[0])
        self.assertIn('action="login"', r.text)
        self.assertIn('value="tina&quot;&gt;&lt;b&gt;"', r.text)  # filled in, escaped
        b.sign_in("tina")
        self.assertIn("code", b.redirect_params())

    def test_cookie_is_the_portal_session(self) -> None:
        client = self.s.client([RP])
        _, _, _, b = self.code_flow(client)
        set_cookie = [h for h in b.last.raw.headers.getlist("Set-Cookie")
                      if h.startswith("atrium_session=")]
        self.assertEqual(len(set_cookie), 1, b.last.raw.headers)
        attrs = [a.strip() for a in set_cookie[0].split(";")]
        for a in ("HttpOnly", "SameSite=Lax", "Path=/"):
            self.assertIn(a, attrs)
        self.assertNotIn("Secure", attrs)  # plain http here
        # The cookie's value is an ordinary Atrium session token: the REST API takes it.
        value = b.session.cookies.get("atrium_session")
        me = self.host.request("GET", "/api/v1/me", token=value)
        self.assertEqual(me.status, 200)
        self.assertEqual(me.json()["username"], "tina")

    def test_end_session_signs_out(self) -> None:
        logout = "http://127.0.0.1:9/bye"
        client = self.s.client([RP], post_logout_redirect_uris=[logout])
        token, _, _, b = self.code_flow(client)
        value = b.session.cookies.get("atrium_session")
        q = urllib.parse.urlencode({"id_token_hint": token["id_token"],
                                    "post_logout_redirect_uri": logout, "state": "s1"})
        r = b.get(f"{self.meta['end_session_endpoint']}?{q}")
        self.assertEqual(r.status_code, 303)
        self.assertEqual(r.headers["Location"], logout + "?state=s1")
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=value).status, 401)
        # Not a registered URI: no redirect, a page.
        q = urllib.parse.urlencode({"client_id": client["client_id"],
                                    "post_logout_redirect_uri": "https://evil.example/"})
        r = b.get(f"{self.meta['end_session_endpoint']}?{q}")
        self.assertEqual(r.status_code, 200)
        # Signed out: the next authorization shows the form.
        rp = self.session(client)
        r = b.get(rp.create_authorization_url(self.meta["authorization_endpoint"],
                                              code_verifier="v" * 43)[0])
        self.assertIn('action="login"', r.text)


if __name__ == "__main__":
    harness.main()
