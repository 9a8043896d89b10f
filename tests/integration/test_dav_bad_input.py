# SPDX-License-Identifier: Apache-2.0
"""test_dav_bad_input.py - the DAV trees refusing what a file manager or a hostile client gets
wrong, swept: every DAV method on every tree (files, calendars, contacts, principals, the
school's root) at odd paths (not an id, 600 characters, escapes, dots, another script) and with
broken bodies (not XML, not UTF-8, a DTD with an entity, XML nested 10,000 deep, the wrong root
element). Every answer is the client's problem (4xx) or an ordinary DAV answer, never the
host's failure (5xx); nothing stored changes where the request could not have been meant to
change anything; the host still answers. The clients' own suites (litmus, rclone, cadaver,
python-caldav, vdirsyncer) and test_webdav/test_caldav/test_carddav have the protocol itself.
"""

import base64
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402

SLUG = "davsweep"
METHODS = ("OPTIONS", "GET", "HEAD", "PROPFIND", "PROPPATCH", "REPORT", "MKCOL", "MKCALENDAR",
           "PUT", "DELETE", "COPY", "MOVE", "LOCK", "UNLOCK")
ODD = ["not-an-id", "x" * 600, "%00", "%2e%2e", "..", "%25", "%C3%BC%E2%82%AC", "a%2Fb", "%20",
       "-1"]
BODIES = {
    "not XML": b"{\"json\": true}",
    "not UTF-8": b"<?xml version=\"1.0\" encoding=\"utf-8\"?><d:propfind xmlns:d=\"DAV:\">\xff\xfe"
                 b"</d:propfind>",
    "an entity": b"<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x \"xxxxxxxxxx\">]>"
                 b"<d:propfind xmlns:d=\"DAV:\"><d:prop><d:displayname>&x;</d:displayname>"
                 b"</d:prop></d:propfind>",
    "10,000 deep": b"<a>" * 10000 + b"</a>" * 10000,
    "the wrong root": b"<?xml version=\"1.0\"?><d:nonsense xmlns:d=\"DAV:\"/>",
    "cut off": b"<?xml version=\"1.0\"?><d:propfind xmlns:d=\"DAV:\"><d:prop>",
}


class DavTrees(fixtures.SharedHost):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            fixtures.make_school(cls.host, cls.op_token, SLUG,
                                 modules=["groups", "files", "calendar", "contacts"])
            fixtures.make_user(cls.host, cls.op_token, SLUG, "dora", roles=["teacher"])
            cls.auth = "Basic " + base64.b64encode(
                f"dora:{fixtures.PASSWORD}".encode()).decode()
        except BaseException:
            cls._stop_shared()
            raise

    def bases(self):
        """A path in each tree, ending in a segment the sweep replaces."""
        return [f"/dav/{SLUG}/files/home/{{}}", f"/dav/{SLUG}/files/groups/{{}}/",
                f"/dav/{SLUG}/calendars/dora/{{}}/", f"/dav/{SLUG}/calendars/{{}}/",
                f"/dav/{SLUG}/contacts/dora/{{}}/", f"/dav/{SLUG}/contacts/{{}}/x.vcf",
                f"/dav/{SLUG}/principals/{{}}/", f"/dav/{{}}/"]

    def stored(self) -> str:
        return self.pg.psql(
            "SELECT (SELECT count(*) FROM files.nodes) || ' ' || "
            "(SELECT count(*) FROM calendar.calendars) || ' ' || "
            "(SELECT count(*) FROM calendar.events) || ' ' || "
            "(SELECT count(*) FROM contacts.cards) || ' ' || "
            "(SELECT count(*) FROM core.dav_locks)")

    def ask(self, method: str, path: str, body: bytes | None = None, headers=None):
        hdrs = {"Authorization": self.auth, "Depth": "1", **(headers or {})}
        if method in ("COPY", "MOVE"):
            hdrs["Destination"] = f"http://127.0.0.1:{self.host.port}/dav/{SLUG}/files/home/zz"
        return self.host.request(method, path, body, headers=hdrs)

    def assert_not_ours(self, resp, what):
        self.assertLess(resp.status, 500, (what, resp))

    def test_odd_paths_on_every_tree(self):
        # Methods that only read or refuse (PUT, MKCOL, MKCALENDAR and LOCK make what they
        # name, so they are swept with the broken bodies below instead).
        for base in self.bases():
            for value in ODD:
                path = base.format(value)
                for method in ("OPTIONS", "GET", "HEAD", "PROPFIND", "DELETE", "UNLOCK",
                               "COPY", "MOVE", "REPORT", "PROPPATCH"):
                    with self.subTest(method=method, path=base, value=value[:20]):
                        self.assert_not_ours(self.ask(method, path), (method, path))
        self.assertEqual(self.host.request("GET", "/healthz").status, 200)

    def test_broken_bodies_on_every_tree(self):
        before = self.stored()
        for base in self.bases():
            path = base.format("sweep-target")
            for method in ("PROPFIND", "PROPPATCH", "REPORT", "LOCK", "MKCALENDAR", "MKCOL"):
                for name, body in BODIES.items():
                    with self.subTest(method=method, path=base, body=name):
                        resp = self.ask(method, path, body,
                                        {"Content-Type": "application/xml; charset=utf-8"})
                        self.assert_not_ours(resp, (method, path, name))
                        if name != "the wrong root":
                            self.assertNotIn(resp.status, (200, 201, 207), (method, name, resp))
        self.assertEqual(self.stored(), before, "a broken body changed what is stored")
        self.assertEqual(self.host.request("GET", "/healthz").status, 200)

    def test_one_challenge_above_the_schools(self):
        # A name without its school at /dav/ is refused with one challenge, in the realm of
        # no school (it once came twice, the second for a school named "(null)").
        resp = self.host.request("PROPFIND", "/dav/", headers={
            "Authorization": "Basic " + base64.b64encode(b"dora:wrong").decode(),
            "Depth": "0"})
        self.assertEqual(resp.status, 401, resp)
        self.assertEqual(resp.headers.get("www-authenticate"),
                         'Basic realm="Atrium", charset="UTF-8"')

    def test_every_method_without_credentials_is_401_basic(self):
        for base in self.bases():
            path = base.format("x")
            for method in METHODS:
                if method == "OPTIONS":
                    continue  # answered to anyone: clients ask before they authenticate
                with self.subTest(method=method, path=base):
                    resp = self.host.request(method, path)
                    # 405 where the tree does not take the method at all (a school's root
                    # takes PROPFIND and OPTIONS), decided before who is asking.
                    self.assertIn(resp.status, (401, 404, 405), resp)
                    if resp.status == 401:
                        self.assertIn("Basic", resp.headers.get("www-authenticate", ""))
                    if resp.status == 405:
                        self.assertTrue(resp.headers.get("allow"), resp)


if __name__ == "__main__":
    harness.main()
