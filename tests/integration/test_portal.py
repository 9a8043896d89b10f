# SPDX-License-Identifier: Apache-2.0
"""test_portal.py - the browser portal at / over real HTTP (docs/PORTAL.md), without a browser
(tests/browser/ drives Chromium): the shell page and its assets (ETags, immutable hashed
URLs, no-cache shell, the security headers, no inline script or style, no third-party
origin), the navigation the plugins contribute (module enabled, school isolation), and the
browser session: the atrium_session cookie (same token as a bearer, HttpOnly, SameSite=Lax,
Secure only over TLS) and every refusal of its CSRF rule.

One PostgreSQL and one host for the class (fixtures.SharedHost), with two schools.
"""

import http.client
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402

SESSION = "/api/v1/auth/browser-session"
ASSET = re.compile(r'(?:src|href)="(/portal/assets/([0-9a-f]{20})/[^"]+)"')
IMPORT = re.compile(r"""(?:import|from)\s*(?:\{[^}]*\}\s*from\s*)?['"](\./[^'"]+)['"]""")


def cookie_of(resp) -> str:
    """The atrium_session value from the answer's Set-Cookie."""
    m = re.match(r"atrium_session=([^;]*)", resp.headers.get("Set-Cookie") or "")
    assert m, f"no atrium_session cookie in {resp.headers.get('Set-Cookie')!r}"
    return m.group(1)


class Portal(fixtures.SharedHost):
    SLUG = "portal"
    OTHER = "elsewhere"
    EXIT_CHECK = ("browser-session", "portal.c", "assets.c")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            fixtures.make_school(cls.host, cls.op_token, cls.SLUG, modules=["noticeboard"])
            fixtures.make_school(cls.host, cls.op_token, cls.OTHER, modules=["noticeboard"])
            fixtures.make_user(cls.host, cls.op_token, cls.SLUG, "tess", roles=["teacher"])
            fixtures.make_user(cls.host, cls.op_token, cls.SLUG, "sam", roles=["student"])
            fixtures.make_user(cls.host, cls.op_token, cls.OTHER, "olga", roles=["teacher"])
        except BaseException:
            cls._stop_shared()
            raise

    # -- helpers ---------------------------------------------------------------------------

    def sign_in(self, username="tess", school=None, **headers):
        r = self.host.request("POST", SESSION, {"school": school or self.SLUG,
                                                "username": username,
                                                "password": fixtures.PASSWORD},
                              headers=headers)
        self.assertEqual(r.status, 200, r)
        return cookie_of(r), r.json()["csrf_token"], r

    def as_browser(self, method, path, cookie, csrf=None, body=None, headers=None):
        h = dict(headers or {})
        h["Cookie"] = f"theme=dark; atrium_session={cookie}"
        if csrf is not None:
            h["X-CSRF-Token"] = csrf
        return self.host.request(method, path, body, headers=h)

    def notices(self, school=None):
        return f"/api/v1/schools/{school or self.SLUG}/noticeboard/notices"

    def count_notices(self, title):
        quoted = title.replace("'", "''")
        return int(self.pg.psql("SELECT count(*) FROM noticeboard.notices WHERE title = "
                                f"'{quoted}'").strip())

    def assert_security_headers(self, r):
        csp = r.headers.get("Content-Security-Policy") or ""
        self.assertIn("script-src 'self'", csp)
        self.assertIn("style-src 'self'", csp)
        self.assertIn("default-src 'none'", csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertNotIn("unsafe-eval", csp)
        self.assertNotRegex(csp, r"https?:", "no other origin is allowed")
        self.assertEqual(r.headers.get("X-Content-Type-Options"), "nosniff")
        self.assertEqual(r.headers.get("Referrer-Policy"), "same-origin")

    # -- the shell and its assets ----------------------------------------------------------

    def test_shell_page(self):
        r = self.host.request("GET", "/")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.content_type.startswith("text/html"), r.content_type)
        self.assertEqual(r.headers.get("Cache-Control"), "no-cache")
        self.assert_security_headers(r)
        html = r.text
        # No inline script, no inline style, nothing from elsewhere.
        for tag in re.findall(r"<script\b[^>]*>", html):
            self.assertIn("src=", tag, "inline script")
        self.assertNotRegex(html, r"<style|\sstyle=|\son[a-z]+=", "inline style or handler")
        self.assertNotRegex(html, r"(?:src|href)=\"(?:https?:)?//", "third-party origin")
        urls = ASSET.findall(html)
        self.assertTrue(any(u.endswith("/shell.js") for u, _ in urls), html)
        self.assertTrue(any(u.endswith("/style.css") for u, _ in urls), html)
        # Revalidation: the same ETag is a 304 without a body; another is a 200.
        etag = r.headers.get("ETag")
        self.assertRegex(etag or "", r'^"[0-9a-f]{32}"$')
        again = self.host.request("GET", "/", headers={"If-None-Match": etag})
        self.assertEqual(again.status, 304, again)
        self.assertEqual(again.body, b"")
        other = self.host.request("GET", "/", headers={"If-None-Match": '"0000"'})
        self.assertEqual(other.status, 200, other)
        head = self.host.request("HEAD", "/")
        self.assertEqual(head.status, 200, head)
        self.assertEqual(head.body, b"")

    def test_assets_hashed_immutable_and_complete(self):
        html = self.host.request("GET", "/").text
        shell_js = next(u for u, _ in ASSET.findall(html) if u.endswith("/shell.js"))
        prefix = shell_js.rsplit("/", 1)[0]
        seen, todo = set(), ["shell.js", "style.css"]
        while todo:  # every module the shell imports, transitively, is served
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            r = self.host.request("GET", f"{prefix}/{name}")
            self.assertEqual(r.status, 200, f"{name}: {r}")
            self.assertEqual(r.headers.get("Cache-Control"),
                             "public, max-age=31536000, immutable")
            self.assert_security_headers(r)
            want = "text/javascript" if name.endswith(".js") else "text/css"
            self.assertTrue(r.content_type.startswith(want), f"{name}: {r.content_type}")
            self.assertNotRegex(r.text, r"https?://(?!www\.w3\.org)", f"{name}: other origin")
            self.assertNotRegex(r.text, r"\.(?:inner|outer)HTML\b|insertAdjacentHTML",
                                f"{name}: HTML from strings")
            etag = r.headers.get("ETag")
            self.assertRegex(etag or "", r'^"[0-9a-f]{32}"$')
            self.assertEqual(self.host.request("GET", f"{prefix}/{name}",
                                               headers={"If-None-Match": etag}).status, 304)
            todo += [m[2:] for m in IMPORT.findall(r.text)]
        self.assertTrue({"api.js", "i18n.js", "signin.js", "dom.js"} <= seen, seen)
        # Only what is in a bundle, only under its own hash.
        for path in (f"{prefix}/nothing.js", "/portal/assets/0123456789abcdef0123/shell.js",
                     f"{prefix}/", "/portal/assets/shell.js"):
            r = self.host.request("GET", path)
            self.assertEqual(r.status, 404, f"{path}: {r}")
            self.assertEqual(r.content_type, "application/problem+json")
        for path in (f"{prefix}/../index.html", f"{prefix}/%2e%2e/index.html"):
            r = self.host.request("GET", path)
            self.assertIn(r.status, (400, 404), f"{path}: {r}")
        r = self.host.request("POST", f"{prefix}/shell.js")
        self.assertEqual(r.status, 405, r)

    def test_signin_page_strings(self):
        """The sign-in form's labels, in both languages (drawn by signin.js from i18n.js)."""
        html = self.host.request("GET", "/").text
        prefix = next(u for u, _ in ASSET.findall(html) if u.endswith("/shell.js"))[:-9]
        text = self.host.request("GET", prefix + "/i18n.js").text
        for word in ("'School'", "'Username'", "'Password'", "'Sign in'", "'Schule'",
                     "'Benutzername'", "'Passwort'", "'Anmelden'"):
            self.assertIn(word, text)

    # -- navigation ------------------------------------------------------------------------

    def test_nav_lists_plugin_pages(self):
        cookie, _csrf, _ = self.sign_in("sam")
        r = self.as_browser("GET", f"/api/v1/schools/{self.SLUG}/portal/nav", cookie)
        self.assertEqual(r.status, 200, r)
        items = r.json()["items"]
        nb = [i for i in items if i["id"] == "noticeboard"]
        self.assertEqual(len(nb), 1, items)
        self.assertEqual(nb[0]["label"], {"en": "Noticeboard", "de": "Schwarzes Brett"})
        self.assertEqual(nb[0]["module_name"], "noticeboard")
        self.assertRegex(nb[0]["module"], r"^/portal/assets/[0-9a-f]{20}/page\.js$")
        page = self.host.request("GET", nb[0]["module"])
        self.assertEqual(page.status, 200, page)
        self.assertIn("export async function render", page.text)
        css = self.host.request("GET", nb[0]["module"].replace("page.js", "noticeboard.css"))
        self.assertEqual(css.status, 200, css)

    def test_nav_follows_modules_and_schools(self):
        slug = "portal-nomod"
        fixtures.make_school(self.host, self.op_token, slug)
        fixtures.make_user(self.host, self.op_token, slug, "nora", roles=["teacher"])
        token = fixtures.login(self.host, "nora", school=slug)
        r = self.host.request("GET", f"/api/v1/schools/{slug}/portal/nav", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["items"], [], "a module the school has not enabled")
        fixtures.enable_module(self.host, self.op_token, slug, "noticeboard")
        r = self.host.request("GET", f"/api/v1/schools/{slug}/portal/nav", token=token)
        self.assertEqual([i["id"] for i in r.json()["items"]], ["noticeboard"])
        # Another school's navigation, an unknown school, no sign-in, a body.
        for path in (f"/api/v1/schools/{self.SLUG}/portal/nav", "/api/v1/schools/nope/portal/nav"):
            r = self.host.request("GET", path, token=token)
            self.assertEqual(r.status, 404, f"{path}: {r}")
        r = self.host.request("GET", f"/api/v1/schools/{slug}/portal/nav")
        self.assertEqual(r.status, 401, r)
        r = self.host.request("GET", f"/api/v1/schools/{slug}/portal/nav", token="atr_garbage")
        self.assertEqual(r.status, 401, r)

    def test_nav_follows_permissions(self):
        slug = "portal-perm"
        fixtures.make_school(self.host, self.op_token, slug,
                             modules=["groups", "files", "calendar", "noticeboard"])
        fixtures.make_user(self.host, self.op_token, slug, "stu", roles=["student"])
        token = fixtures.login(self.host, "stu", school=slug)
        nav = f"/api/v1/schools/{slug}/portal/nav"

        def ids():
            r = self.host.request("GET", nav, token=token)
            self.assertEqual(r.status, 200, r)
            return [i["id"] for i in r.json()["items"]]

        self.assertEqual(ids(), ["files", "calendar", "groups", "noticeboard"], "in order")
        # Without files.read (the files page's permission) the entry goes; the rest stays.
        roles = f"/api/v1/schools/{slug}/roles/student/permissions"
        perms = fixtures.check(self.host.request("GET", roles, token=self.op_token), 200).json()
        perms = perms["permissions"] if isinstance(perms, dict) else perms
        self.assertIn("files.read", perms)
        fixtures.check(self.host.request(
            "PUT", roles, {"permissions": [p for p in perms if p != "files.read"]},
            token=self.op_token), 200, 204)
        self.assertEqual(ids(), ["calendar", "groups", "noticeboard"])

    # -- the browser session ---------------------------------------------------------------

    def test_cookie_is_the_session_token(self):
        cookie, csrf, r = self.sign_in()
        set_cookie = r.headers.get("Set-Cookie")
        parts = [p.strip() for p in set_cookie.split(";")]
        self.assertIn("HttpOnly", parts)
        self.assertIn("SameSite=Lax", parts)
        self.assertIn("Path=/", parts)
        self.assertNotIn("Secure", parts, "plain HTTP without a trusted proxy")
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        body = r.json()
        self.assertNotIn("token", body, "the token is for the cookie only")
        self.assertEqual(body["user"]["username"], "tess")
        self.assertRegex(csrf, r"^[0-9a-f]{64}$")
        # The cookie's value is an ordinary session token: it works as a bearer token too,
        # and the session is listed among the person's sessions.
        me = self.host.request("GET", "/api/v1/me", token=cookie)
        self.assertEqual(me.status, 200, me)
        me = self.as_browser("GET", "/api/v1/me", cookie)
        self.assertEqual(me.status, 200, me)
        self.assertEqual(me.json()["username"], "tess")
        got = self.as_browser("GET", SESSION, cookie)
        self.assertEqual(got.status, 200, got)
        self.assertEqual(got.json()["csrf_token"], csrf)
        n = int(self.pg.psql("SELECT count(*) FROM core.sessions WHERE kind = 'session' AND "
                             f"id = '{got.json()['session_id']}'").strip())
        self.assertEqual(n, 1)

    def test_csrf_refusals(self):
        cookie, csrf, _ = self.sign_in()
        _other_cookie, other_csrf, _ = self.sign_in()
        url = self.notices()
        cases = [("missing", None), ("wrong", "0" * 64), ("another session's", other_csrf),
                 ("empty", ""), ("too long", csrf + "0")]
        for what, token in cases:
            title = f"csrf {what}"
            r = self.as_browser("POST", url, cookie, token, {"title": title, "body": "x"})
            self.assertEqual(r.status, 403, f"{what}: {r}")
            self.assertEqual(r.content_type, "application/problem+json")
            self.assertIn("CSRF", r.json()["detail"])
            self.assertEqual(self.count_notices(title), 0, f"{what}: nothing is written")
        r = self.as_browser("POST", url, cookie, csrf, {"title": "csrf ok", "body": "x"})
        self.assertEqual(r.status, 201, r)
        nid = r.json()["id"]
        for method in ("DELETE",):
            r = self.as_browser(method, f"{url}/{nid}", cookie)
            self.assertEqual(r.status, 403, r)
        self.assertEqual(self.count_notices("csrf ok"), 1)
        r = self.as_browser("DELETE", f"{url}/{nid}", cookie, csrf)
        self.assertEqual(r.status, 204, r)
        # Reads need no CSRF token.
        self.assertEqual(self.as_browser("GET", url, cookie).status, 200)

    def test_bearer_clients_unaffected(self):
        token = fixtures.login(self.host, "tess", school=self.SLUG)
        r = self.host.request("POST", self.notices(), {"title": "bearer", "body": "x"},
                              token=token)
        self.assertEqual(r.status, 201, r)
        # A bearer token wins over a cookie, which then needs no CSRF token either.
        r = self.host.request("POST", self.notices(), {"title": "bearer+cookie", "body": "x"},
                              token=token, headers={"Cookie": "atrium_session=atr_stale"})
        self.assertEqual(r.status, 201, r)
        r = self.host.request("GET", SESSION, token=token)
        self.assertEqual(r.status, 400, "no browser session to hand a CSRF token for")
        cookie, _csrf, _ = self.sign_in()
        r = self.host.request("GET", SESSION, token=token,
                              headers={"Cookie": f"atrium_session={cookie}"})
        self.assertEqual(r.status, 400, "the bearer asks: the cookie's CSRF token is not its")

    def test_cookie_on_another_school(self):
        cookie, csrf, _ = self.sign_in()
        for method, body in (("GET", None), ("POST", {"title": "elsewhere", "body": "x"})):
            r = self.as_browser(method, self.notices(self.OTHER), cookie, csrf, body)
            self.assertEqual(r.status, 404, f"{method}: {r}")
        self.assertEqual(self.count_notices("elsewhere"), 0)
        r = self.as_browser("GET", f"/api/v1/schools/{self.OTHER}/portal/nav", cookie)
        self.assertEqual(r.status, 404, r)

    def test_signed_out_cookie(self):
        cookie, csrf, _ = self.sign_in()
        r = self.as_browser("DELETE", SESSION, cookie)
        self.assertEqual(r.status, 403, "signing out with the cookie needs the CSRF token too")
        r = self.as_browser("DELETE", SESSION, cookie, csrf)
        self.assertEqual(r.status, 204, r)
        gone = r.headers.get("Set-Cookie")
        self.assertRegex(gone, r"^atrium_session=;")
        self.assertIn("Max-Age=0", gone)
        for method, body in (("GET", None), ("POST", {"title": "after", "body": "x"})):
            r = self.as_browser(method, self.notices(), cookie, csrf, body)
            self.assertEqual(r.status, 401, f"{method}: {r}")
        self.assertEqual(self.as_browser("GET", "/api/v1/me", cookie).status, 401)
        self.assertEqual(self.as_browser("GET", SESSION, cookie).status, 401)
        self.assertEqual(self.count_notices("after"), 0)
        # Garbage and oversized cookies are unknown sessions.
        for junk in ("x", "atr_" + "A" * 43, "A" * 300):
            r = self.as_browser("GET", "/api/v1/me", junk)
            self.assertEqual(r.status, 401, f"{junk[:10]}: {r}")
        # A stale cookie never stands in the way of signing in again (public routes ignore it).
        r = self.host.request("POST", SESSION, {"school": self.SLUG, "username": "tess",
                                                "password": fixtures.PASSWORD},
                              headers={"Cookie": f"atrium_session={cookie}"})
        self.assertEqual(r.status, 200, r)
        self.assertNotEqual(cookie_of(r), cookie)

    def test_sign_in_refusals(self):
        bad = [
            (b"{", "application/json", 400),
            ('{"username":"tess"}', "application/json", 400),
            ('{"school":"portal","username":7,"password":"x"}', "application/json", 400),
            ('{"username":"tess","password":"' + "p" * 2000 + '"}', "application/json", 400),
            ('{"username":"tess","password":"x"}', "text/plain", 415),
        ]
        for body, ctype, status in bad:
            r = self.host.request("POST", SESSION, body, headers={"Content-Type": ctype})
            self.assertIn(r.status, (status, 422), f"{body[:40]!r}: {r}")
            self.assertIsNone(r.headers.get("Set-Cookie"))
        r = self.host.request("POST", SESSION, {"school": self.SLUG, "username": "sam",
                                                "password": "wrong"})
        self.assertEqual(r.status, 401, r)
        self.assertIsNone(r.headers.get("Set-Cookie"))
        self.assertEqual(r.json()["detail"], "wrong username or password")

    def test_sign_in_throttled(self):
        fixtures.make_user(self.host, self.op_token, self.SLUG, "thea", roles=["student"])
        statuses = []
        for _ in range(6):
            r = self.host.request("POST", SESSION, {"school": self.SLUG, "username": "thea",
                                                    "password": "wrong"})
            statuses.append(r.status)
        self.assertEqual(statuses[:5], [401] * 5)
        self.assertEqual(statuses[5], 429, statuses)
        self.assertRegex(r.headers.get("Retry-After") or "", r"^[1-9][0-9]*$")
        # Even the right password waits now, and no cookie is set.
        r = self.host.request("POST", SESSION, {"school": self.SLUG, "username": "thea",
                                                "password": fixtures.PASSWORD})
        self.assertEqual(r.status, 429, r)
        self.assertIsNone(r.headers.get("Set-Cookie"))


class PortalBehindTls(fixtures.SharedHost):
    """Behind a trusted proxy that terminated TLS, the cookie is Secure."""

    HOST_ENV = {"ATRIUM_TRUST_PROXY": "1"}

    def test_secure_over_tls(self):
        fixtures.make_school(self.host, self.op_token, "tls")
        fixtures.make_user(self.host, self.op_token, "tls", "tim", roles=["teacher"])
        body = {"school": "tls", "username": "tim", "password": fixtures.PASSWORD}
        r = self.host.request("POST", SESSION, body, headers={"X-Forwarded-Proto": "https"})
        self.assertEqual(r.status, 200, r)
        self.assertIn("Secure", [p.strip() for p in r.headers.get("Set-Cookie").split(";")])
        r = self.host.request("POST", SESSION, body, headers={"X-Forwarded-Proto": "http"})
        self.assertNotIn("Secure", r.headers.get("Set-Cookie"))


if __name__ == "__main__":
    harness.main()
