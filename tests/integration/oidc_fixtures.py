# SPDX-License-Identifier: Apache-2.0
"""oidc_fixtures.py - what the OpenID provider's tests share (test_oidc_*.py).

- `relying_party_libs()` imports python3-authlib and python3-jwt (Debian packages,
  scripts/setup.sh). When the suite's python3 is not Debian's (a pyenv on a developer's
  machine), Debian's dist-packages directory is added to the path; a missing package fails
  the test, it is never skipped.
- `OidcSchool`: a test school with a few people and helpers to register clients over REST.
- `Browser`: a person's browser on the provider's pages (requests.Session with its cookie
  jar): it follows /authorize, fills in the sign-in form ("Username", "Password", "Sign in")
  and the consent page exactly as the HTML says, and stops at the redirect to the client.
"""

from __future__ import annotations

import html.parser
import sys
import urllib.parse
from typing import Any, Sequence

import fixtures
import harness


def relying_party_libs() -> None:
    """Make python3-authlib and python3-jwt importable (see the module's docstring)."""
    try:
        import authlib  # noqa: F401
        import jwt  # noqa: F401
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
    import authlib  # noqa: F401,F811
    import jwt  # noqa: F401,F811
    import requests  # noqa: F401


relying_party_libs()
import requests  # noqa: E402


class _Forms(html.parser.HTMLParser):
    """The forms of a page: [{action, fields: {name: value}, buttons: [(name, value, text)]}],
    and every label's text."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.labels: list[str] = []
        self.scripts = 0
        self._label: list[str] | None = None
        self._button: list[Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script":
            self.scripts += 1
        elif tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", ""),
                               "fields": {}, "buttons": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["fields"][a.get("name", "")] = a.get("value", "")
        elif tag == "button" and self.forms:
            self._button = [a.get("name"), a.get("value"), ""]
        elif tag == "label":
            self._label = []

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            self._label.append(data)
        if self._button is not None:
            self._button[2] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._label is not None:
            self.labels.append("".join(self._label).strip())
            self._label = None
        elif tag == "button" and self._button is not None and self.forms:
            self.forms[-1]["buttons"].append(tuple(self._button))
            self._button = None


def parse_forms(text: str) -> _Forms:
    p = _Forms()
    p.feed(text)
    return p


class Browser:
    """One person's browser. `start(url)` GETs an authorization URL; `sign_in()` and
    `consent()` answer the pages; each returns the last response (a 303 to the client, or a
    page)."""

    def __init__(self) -> None:
        self.session = requests.Session()
        self.last: requests.Response | None = None

    def get(self, url: str) -> requests.Response:
        self.last = self.session.get(url, allow_redirects=False, timeout=30)
        return self.last

    def _form(self, action: str) -> tuple[str, dict[str, str], _Forms]:
        assert self.last is not None
        page = parse_forms(self.last.text)
        forms = [f for f in page.forms if f["action"] == action]
        if not forms:
            raise AssertionError(f"no form '{action}' on the page ({self.last.status_code}): "
                                 f"{self.last.text[:800]}")
        url = urllib.parse.urljoin(self.last.url, action)
        return url, dict(forms[0]["fields"]), page

    def sign_in(self, username: str, password: str = fixtures.PASSWORD) -> requests.Response:
        url, fields, page = self._form("login")
        assert page.labels[:2] == ["Username", "Password"], page.labels
        assert ("Sign in" in [b[2] for f in page.forms for b in f["buttons"]])
        fields["username"] = username
        fields["password"] = password
        self.last = self.session.post(url, data=fields, allow_redirects=False, timeout=60)
        return self.last

    def consent(self, decision: str = "allow") -> requests.Response:
        url, fields, _ = self._form("consent")
        fields["decision"] = decision
        self.last = self.session.post(url, data=fields, allow_redirects=False, timeout=30)
        return self.last

    @property
    def location(self) -> str:
        assert self.last is not None
        if self.last.status_code not in (302, 303):
            raise AssertionError(f"expected a redirect, got {self.last.status_code}: "
                                 f"{self.last.text[:800]}")
        return self.last.headers["Location"]

    def redirect_params(self) -> dict[str, str]:
        q = urllib.parse.urlsplit(self.location).query
        return dict(urllib.parse.parse_qsl(q))


class OidcSchool(fixtures.School):
    """A school with the groups module and ada (admin), tina (teacher), sam and sue
    (students), each signed in to the REST API."""

    SLUG_PREFIX = "o"
    MODULES = ("groups",)
    PEOPLE = ("ada", "tina", "sam", "sue")

    @property
    def issuer(self) -> str:
        return f"{self.host.url}/oidc/{self.slug}"

    def client(self, redirect_uris: Sequence[str], public: bool = False, trusted: bool = True,
               scopes: Sequence[str] = ("openid", "profile", "email", "roles", "groups",
                                        "school"),
               **extra: Any) -> dict:
        body = {"name": extra.pop("name", "Test app"), "redirect_uris": list(redirect_uris),
                "public": public, "trusted": trusted, "scopes": list(scopes), **extra}
        return self.ok("ada", "POST", "/oidc/clients", body, status=(201,))

    def psql(self, pg: harness.PgCluster, sql: str) -> str:
        return pg.psql(sql)
