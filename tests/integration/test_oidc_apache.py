# SPDX-License-Identifier: Apache-2.0
"""test_oidc_apache.py - a real relying party end to end (issue #20): Apache 2 with
mod_auth_openidc (Debian libapache2-mod-auth-openidc) protects a page; a person's browser
asks for it, is sent to Atrium's /authorize, signs in on the provider's form, comes back with
a code, and Apache redeems it at /token (client_secret_basic, PKCE S256), checks the ID token
against the JWKS, and serves the page as the person. Then RP-initiated logout through
Apache's logout URL reaches Atrium's end_session_endpoint and ends the Atrium session.

The test starts its own apache2 (private config, a free port, a child process it stops), as
the harness starts PostgreSQL. A missing apache2 or module fails the test, it is never skipped.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.parse

import fixtures
import harness
import oidc_fixtures
from oidc_fixtures import Browser

import requests  # noqa: E402

APACHE = "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"


class Apache:
    """apache2 -DFOREGROUND with a config of its own, protecting /protected with OIDC."""

    def __init__(self, issuer: str, client: dict, port: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.dir = tempfile.mkdtemp(prefix="atrium-apache-")
        os.chmod(self.dir, 0o755)
        docs = os.path.join(self.dir, "htdocs", "protected")
        os.makedirs(docs)
        with open(os.path.join(docs, "index.html"), "w") as f:
            f.write("<p>the protected page</p>\n")
        user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
        conf = f"""
ServerRoot {self.dir}
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile {self.dir}/httpd.pid
DefaultRuntimeDir {self.dir}
ErrorLog {self.dir}/error.log
LogLevel warn auth_openidc:info
{user}
LoadModule mpm_event_module {MODULES}/mod_mpm_event.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule authn_core_module {MODULES}/mod_authn_core.so
LoadModule authz_user_module {MODULES}/mod_authz_user.so
LoadModule auth_openidc_module {MODULES}/mod_auth_openidc.so
DocumentRoot {self.dir}/htdocs
OIDCProviderMetadataURL {issuer}/.well-known/openid-configuration
OIDCClientID {client["client_id"]}
OIDCClientSecret {client["client_secret"]}
OIDCRedirectURI {self.base}/protected/redirect_uri
OIDCCryptoPassphrase {secrets.token_hex(16)}
OIDCScope "openid profile roles"
OIDCPKCEMethod S256
OIDCRemoteUserClaim preferred_username
OIDCInfoHook iat id_token userinfo
<Location /protected>
    AuthType openid-connect
    Require valid-user
</Location>
"""
        self.conf = os.path.join(self.dir, "httpd.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(os.path.join(self.dir, "error.log"), "ab") as err:
            self.proc = subprocess.Popen([APACHE, "-f", self.conf, "-DFOREGROUND"],
                                         stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"apache2 exited at start:\n{self.log()}")
            try:
                requests.get(self.base + "/", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise AssertionError(f"apache2 is not listening after 20 s:\n{self.log()}")

    def log(self) -> str:
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class OidcApache(fixtures.SharedHost):
    EXIT_CHECK = ("oidc",)

    def test_mod_auth_openidc_signs_a_person_in(self) -> None:
        for path in (APACHE, f"{MODULES}/mod_auth_openidc.so"):
            self.assertTrue(os.path.exists(path), f"{path} is missing (scripts/setup.sh)")
        s = oidc_fixtures.OidcSchool(self.host, self.op_token)
        port = harness.free_port()
        base = f"http://127.0.0.1:{port}"
        client = s.client([f"{base}/protected/redirect_uri"], trusted=False,
                          scopes=["openid", "profile", "roles"], name="Apache",
                          post_logout_redirect_uris=[f"{base}/bye.html"])
        apache = Apache(s.issuer, client, port)
        try:
            apache.start()
            self.run_flow(s, apache)
        except BaseException:
            print(f"\n----- apache2 error.log -----\n{apache.log()}\n-----", flush=True)
            raise
        finally:
            apache.stop()

    def run_flow(self, s: oidc_fixtures.OidcSchool, apache: Apache) -> None:
        b = Browser()
        r = b.get(apache.base + "/protected/index.html")
        self.assertEqual(r.status_code, 302, r.text[:300])
        self.assertTrue(b.location.startswith(s.issuer + "/authorize?"), b.location)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(b.location).query))
        self.assertEqual(q["code_challenge_method"], "S256")
        b.get(b.location)
        b.sign_in("tina")
        b.consent("allow")  # Apache is not a trusted client
        back = b.location
        self.assertTrue(back.startswith(apache.base + "/protected/redirect_uri?"), back)
        r = b.get(back)  # Apache redeems the code and checks the ID token
        self.assertEqual(r.status_code, 302, apache.log())
        r = b.get(urllib.parse.urljoin(back, b.location))
        self.assertEqual(r.status_code, 200, apache.log())
        self.assertIn("the protected page", r.text)
        info = b.session.get(apache.base + "/protected/redirect_uri?info=json", timeout=30)
        self.assertEqual(info.status_code, 200, apache.log())
        claims = info.json()["id_token"]
        self.assertEqual(claims["iss"], s.issuer)
        self.assertEqual(claims["sub"], s.ids["tina"])
        self.assertEqual(claims["preferred_username"], "tina")
        self.assertEqual(info.json()["userinfo"]["roles"], ["teacher"])
        atrium_session = b.session.cookies.get("atrium_session")
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=atrium_session).status,
                         200)
        # Logout at Apache: it sends the browser to Atrium's end_session_endpoint.
        bye = f"{apache.base}/bye.html"
        r = b.get(f"{apache.base}/protected/redirect_uri?logout={urllib.parse.quote(bye)}")
        self.assertIn(r.status_code, (302, 303), r.text[:300])
        self.assertTrue(b.location.startswith(s.issuer + "/end_session?"), b.location)
        r = b.get(b.location)
        self.assertEqual(r.status_code, 303)
        self.assertTrue(r.headers["Location"].startswith(bye), r.headers["Location"])
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=atrium_session).status,
                         401)
        r = b.get(apache.base + "/protected/index.html")
        self.assertEqual(r.status_code, 302)  # signed out at Apache too


if __name__ == "__main__":
    harness.main()
