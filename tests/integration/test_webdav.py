# SPDX-License-Identifier: Apache-2.0
"""test_webdav.py - the DAV layer (core/dav/) and the files tree over real HTTP: HTTP Basic
with a password or an app token, Bearer, OPTIONS, PROPFIND Depth 0/1 (and infinity refused),
GET/HEAD with Range, PUT (plain, chunked, Expect: 100-continue, X-OC-MTime), MKCOL, DELETE
into the trash, COPY and MOVE with Overwrite and Destination checks, and the refusals: a wrong
password, a revoked token, the throttle, another school, another host, traversal, over-long
names, over quota, XML with a DOCTYPE, too deep or malformed. A file written over WebDAV is
the file REST lists, with the same ETag, and the reverse.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import urllib.parse
import xml.etree.ElementTree as ET
from typing import Any

import fixtures
import harness

D = "{DAV:}"


class School(fixtures.School):
    AREA = "files"
    SLUG_PREFIX = "w"
    MODULES = ("groups", "files")
    PEOPLE = ("ada", "tina", "tom", "sam", "sue")


def basic(user: str, password: str = fixtures.PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class WebDavTest(fixtures.SharedHost):
    EXIT_CHECK = ("dav", "files", "transfer.c", "tree.c")

    def setUp(self) -> None:
        self.s = School(self.host, self.op_token)

    # -- helpers --------------------------------------------------------------------------

    def dav(self, method: str, path: str, body: Any = None, who: str | None = "tom",
            headers: dict[str, str] | None = None, auth: str | None = None,
            school: str | None = None) -> harness.Response:
        hdrs = dict(headers or {})
        if auth is not None:
            hdrs["Authorization"] = auth
        elif who is not None:
            hdrs["Authorization"] = basic(who)
        url = f"/dav/{school or self.s.slug}/files/{urllib.parse.quote(path, safe='/%')}"
        return self.host.request(method, url, body, headers=hdrs)

    def propfind(self, path: str, depth: str = "1", body: str | None = None,
                 who: str = "tom") -> ET.Element:
        r = self.dav("PROPFIND", path, body, who=who, headers={"Depth": depth})
        self.assertEqual(r.status, 207, r.body)
        return ET.fromstring(r.body)

    @staticmethod
    def responses(ms: ET.Element) -> dict[str, ET.Element]:
        out = {}
        for resp in ms.findall(f"{D}response"):
            href = urllib.parse.unquote(resp.find(f"{D}href").text)
            out[href] = resp
        return out

    def prop(self, resp: ET.Element, name: str) -> ET.Element | None:
        for ps in resp.findall(f"{D}propstat"):
            if "200" in ps.find(f"{D}status").text:
                el = ps.find(f"{D}prop/{name}")
                if el is not None:
                    return el
        return None

    # -- authentication --------------------------------------------------------------------

    def test_basic_password_token_bearer_and_refusals(self) -> None:
        s = self.s
        self.assertEqual(self.dav("PROPFIND", "home/", who="tom", headers={"Depth": "0"}).status, 207)
        # user@school too
        r = self.dav("PROPFIND", "home/", auth=basic(f"tom@{s.slug}"), headers={"Depth": "0"})
        self.assertEqual(r.status, 207)
        # another school in the name
        r = self.dav("PROPFIND", "home/", auth=basic("tom@elsewhere"), headers={"Depth": "0"})
        self.assertEqual(r.status, 401)
        # no credentials: 401 with the realm
        r = self.dav("PROPFIND", "home/", who=None, headers={"Depth": "0"})
        self.assertEqual(r.status, 401)
        self.assertEqual(r.headers.get("WWW-Authenticate"),
                         f'Basic realm="Atrium {s.slug}", charset="UTF-8"')
        # a wrong password, an unknown user, garbage
        self.assertEqual(self.dav("GET", "home/", auth=basic("tom", "nope")).status, 401)
        self.assertEqual(self.dav("GET", "home/", auth=basic("nobody")).status, 401)
        self.assertEqual(self.dav("GET", "home/", auth="Basic !!!").status, 401)
        # Bearer works
        r = self.dav("PROPFIND", "home/", auth=f"Bearer {s.tokens['tom']}", headers={"Depth": "0"})
        self.assertEqual(r.status, 207)
        self.assertEqual(self.dav("GET", "home/", auth="Bearer nope").status, 401)
        # an app token as the password; revoked, it fails at once
        tok = fixtures.check(self.host.request("POST", "/api/v1/auth/tokens", {"name": "rclone"},
                                               token=s.tokens["tom"]), 201).json()
        r = self.dav("PROPFIND", "home/", auth=basic("tom", tok["token"]), headers={"Depth": "0"})
        self.assertEqual(r.status, 207, r.body)
        # another person's token under my name is no password of mine
        self.assertEqual(self.dav("GET", "home/", auth=basic("sam", tok["token"])).status, 401)
        fixtures.check(self.host.request("DELETE", f"/api/v1/auth/sessions/{tok['id']}",
                                         token=s.tokens["tom"]), 204)
        self.assertEqual(self.dav("GET", "home/", auth=basic("tom", tok["token"])).status, 401)
        # another school's slug in the path: that school does not know tom's password
        other = School(self.host, self.op_token)
        r = self.dav("PROPFIND", "home/", who="tom", school=other.slug, headers={"Depth": "0"})
        self.assertEqual(r.status, 207)  # other has its own tom, same password
        r = self.dav("PROPFIND", "home/", auth=f"Bearer {s.tokens['tom']}", school=other.slug,
                     headers={"Depth": "0"})
        self.assertEqual(r.status, 404)  # a token of one school does not open another

    def test_home_file_get_is_judged_before_its_row_is_used(self) -> None:
        # GET of a file in one's home looks the row up in the same round trip as the identity
        # check (the caller named in SQL): the row must be the caller's, and a refused check
        # must answer 401 with nothing of the file.
        s = self.s
        self.assertEqual(self.dav("PUT", "home/mine.txt", b"tom's words", who="tom").status, 201)
        self.assertEqual(self.dav("PUT", "home/mine.txt", b"sam's words", who="sam").status, 201)
        self.assertEqual(self.dav("GET", "home/mine.txt", who="tom").body, b"tom's words")
        self.assertEqual(self.dav("GET", "home/mine.txt", who="sam").body, b"sam's words")
        self.assertEqual(self.dav("PUT", "home/only-tom.txt", b"x", who="tom").status, 201)
        self.assertEqual(self.dav("GET", "home/only-tom.txt", who="sam").status, 404)
        tok = fixtures.check(self.host.request("POST", "/api/v1/auth/tokens", {"name": "sync"},
                                               token=s.tokens["tom"]), 201).json()
        r = self.dav("GET", "home/mine.txt", auth=basic("tom", tok["token"]))
        self.assertEqual((r.status, r.body), (200, b"tom's words"))
        r = self.dav("GET", "home/mine.txt", auth=basic("sam", tok["token"]))
        self.assertEqual(r.status, 401)
        self.assertNotIn(b"words", r.body)
        r = self.dav("GET", "home/mine.txt", auth=f"Bearer {tok['token']}")
        self.assertEqual((r.status, r.body), (200, b"tom's words"))
        fixtures.check(self.host.request("DELETE", f"/api/v1/auth/sessions/{tok['id']}",
                                         token=s.tokens["tom"]), 204)
        for auth in (basic("tom", tok["token"]), f"Bearer {tok['token']}"):
            r = self.dav("GET", "home/mine.txt", auth=auth)
            self.assertEqual(r.status, 401)
            self.assertNotIn(b"words", r.body)
            self.assertTrue(r.headers.get("WWW-Authenticate"))
        # an operator has no home, whatever the rows say
        r = self.host.request("GET", f"/dav/{s.slug}/files/home/mine.txt",
                              headers={"Authorization": f"Bearer {self.op_token}"})
        self.assertIn(r.status, (403, 404))
        self.assertNotIn(b"words", r.body)

    def test_throttle_and_changed_password(self) -> None:
        s = self.s
        for _ in range(5):
            self.assertEqual(self.dav("GET", "home/", auth=basic("sam", "wrong")).status, 401)
        r = self.dav("GET", "home/", who="sam")
        self.assertEqual(r.status, 429)
        self.assertTrue(r.headers.get("Retry-After"))
        # tom: verified once (cached), then the password changes: the old one fails at once
        self.assertEqual(self.dav("GET", "home/", who="tom").status, 200)
        fixtures.check(s.raw("op", "PATCH", f"/users/{s.ids['tom']}",
                             {"password": "a brand new secret"}), 200)
        self.assertEqual(self.dav("GET", "home/", who="tom").status, 401)
        # a password someone else set must be changed first (docs/ACCOUNTS.md): a file manager
        # cannot, so it is told so
        r = self.dav("GET", "home/", auth=basic("tom", "a brand new secret"))
        self.assertEqual(r.status, 403)
        self.assertIn("password-change-required", r.body.decode())
        login = fixtures.check(self.host.request("POST", "/api/v1/auth/login", {
            "school": s.slug, "username": "tom", "password": "a brand new secret"}), 200)
        fixtures.check(self.host.request("POST", "/api/v1/me/password", {
            "current_password": "a brand new secret", "new_password": "a secret of my own"},
            token=login.json()["token"]), 204)
        self.assertEqual(self.dav("GET", "home/", auth=basic("tom", "a secret of my own")).status,
                         200)

    # -- OPTIONS and PROPFIND ----------------------------------------------------------------

    def test_options_and_propfind(self) -> None:
        r = self.dav("OPTIONS", "", who=None)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers.get("DAV"), "1, 2")
        self.assertIn("LOCK", r.headers.get("Allow"))
        self.assertEqual(r.headers.get("MS-Author-Via"), "DAV")
        self.assertIn("PROPFIND", r.headers.get("Allow"))
        ms = self.propfind("")
        hrefs = self.responses(ms)
        base = f"/dav/{self.s.slug}/files/"
        self.assertEqual(set(hrefs), {base, base + "home/", base + "groups/"})
        # Depth: infinity (and none) is refused
        for depth in ("infinity", None):
            r = self.dav("PROPFIND", "", headers={"Depth": depth} if depth else {})
            self.assertEqual(r.status, 403)
            self.assertIn(b"propfind-finite-depth", r.body)
        self.assertEqual(self.dav("PROPFIND", "", headers={"Depth": "2"}).status, 400)
        # a file's live properties; quota on request
        self.assertEqual(self.dav("PUT", "home/a b ü.txt", b"hello").status, 201)
        ms = self.propfind("home/", body='<?xml version="1.0"?><D:propfind xmlns:D="DAV:">'
                           '<D:prop><D:getetag/><D:getcontentlength/><D:quota-used-bytes/>'
                           '<D:quota-available-bytes/><X:nope xmlns:X="urn:x"/></D:prop>'
                           '</D:propfind>')
        hrefs = self.responses(ms)
        f = hrefs[f"/dav/{self.s.slug}/files/home/a b ü.txt"]
        self.assertEqual(self.prop(f, f"{D}getcontentlength").text, "5")
        self.assertEqual(self.prop(f, f"{D}getetag").text,
                         '"' + hashlib.sha256(b"hello").hexdigest() + '"')
        self.assertEqual(self.prop(f, f"{D}quota-used-bytes").text, "5")
        self.assertIsNotNone(self.prop(f, f"{D}quota-available-bytes"))
        missing = [ps for ps in f.findall(f"{D}propstat") if "404" in ps.find(f"{D}status").text]
        self.assertEqual(len(missing), 1)
        self.assertIsNotNone(missing[0].find(f"{D}prop/{{urn:x}}nope"))
        # allprop and propname
        ms = self.propfind("home/a b ü.txt", depth="0",
                           body='<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>')
        f = list(self.responses(ms).values())[0]
        for p in ("getlastmodified", "getcontenttype", "resourcetype", "displayname"):
            self.assertIsNotNone(self.prop(f, D + p), p)
        ms = self.propfind("home/", depth="0",
                           body='<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>')
        f = list(self.responses(ms).values())[0]
        self.assertIsNotNone(self.prop(f, f"{D}resourcetype"))
        self.assertIsNotNone(self.prop(f, f"{D}resourcetype"))
        # PROPFIND on nothing
        self.assertEqual(self.dav("PROPFIND", "home/nothing", headers={"Depth": "0"}).status, 404)
        self.assertEqual(self.dav("PROPFIND", "elsewhere/", headers={"Depth": "0"}).status, 404)

    def test_bad_xml(self) -> None:
        bomb = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
                '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                '<D:propfind xmlns:D="DAV:"><D:prop>&b;</D:prop></D:propfind>')
        xxe = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
               '<D:propfind xmlns:D="DAV:"><D:prop><D:x>&x;</D:x></D:prop></D:propfind>')
        deep = '<D:propfind xmlns:D="DAV:"><D:prop>' + "<a>" * 100 + "</a>" * 100 + \
               "</D:prop></D:propfind>"
        for body in (bomb, xxe, deep, "<D:propfind xmlns:D='DAV:'>", "<nope/>", "\x00\x01"):
            r = self.dav("PROPFIND", "home/", body, headers={"Depth": "0"})
            self.assertEqual(r.status, 400, body[:40])
        big = '<D:propfind xmlns:D="DAV:"><D:prop>' + "<D:getetag/>" * 200000 + \
              "</D:prop></D:propfind>"
        self.assertIn(self.dav("PROPFIND", "home/", big, headers={"Depth": "0"}).status,
                      (400, 413))
        self.assertEqual(self.dav("OPTIONS", "", who=None).status, 200)  # still up

    # -- content ------------------------------------------------------------------------------

    def test_put_get_same_file_as_rest(self) -> None:
        s = self.s
        data = bytes(range(256)) * 40
        r = self.dav("PUT", "home/doc.bin", data)
        self.assertEqual(r.status, 201)
        etag = r.headers.get("ETag")
        self.assertEqual(etag, '"' + hashlib.sha256(data).hexdigest() + '"')
        # REST sees it with the same ETag
        listing = s.ok("tom", "GET", "/home/")
        item = [i for i in listing["items"] if i["name"] == "doc.bin"][0]
        self.assertEqual(item["etag"], etag)
        # replaced: 204
        self.assertEqual(self.dav("PUT", "home/doc.bin", data).status, 204)
        # REST upload, read over DAV
        fixtures.check(s.req("tom", "PUT", "/home/rest.txt", b"from rest"), 201)
        r = self.dav("GET", "home/rest.txt")
        self.assertEqual((r.status, r.body), (200, b"from rest"))
        r = self.dav("HEAD", "home/rest.txt")
        self.assertEqual((r.status, r.body, r.headers.get("Content-Length")), (200, b"", "9"))
        r = self.dav("GET", "home/doc.bin", headers={"Range": "bytes=10-19"})
        self.assertEqual((r.status, r.body), (206, data[10:20]))
        r = self.dav("GET", "home/doc.bin", headers={"If-None-Match": etag})
        self.assertEqual(r.status, 304)
        # a folder answers a small HTML list
        r = self.dav("GET", "home/")
        self.assertEqual(r.status, 200)
        self.assertIn(b"doc.bin", r.body)
        # PUT under a missing folder: 409; on a collection path: 405
        self.assertEqual(self.dav("PUT", "home/no/such.txt", b"x").status, 409)
        self.assertEqual(self.dav("PUT", "home/dir/", b"").status, 405)
        # PUT into the fixed folders
        self.assertEqual(self.dav("PUT", "groups/x.txt", b"x").status, 404)
        self.assertEqual(self.dav("PUT", "home", b"x").status, 403)
        # If-Match on PUT
        self.assertEqual(self.dav("PUT", "home/doc.bin", b"new",
                                  headers={"If-Match": '"nope"'}).status, 412)

    def test_chunked_expect_continue_and_mtime(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.host.port, timeout=30)
        try:
            conn.putrequest("PUT", f"/dav/{self.s.slug}/files/home/chunked.txt")
            conn.putheader("Authorization", basic("tom"))
            conn.putheader("Transfer-Encoding", "chunked")
            conn.putheader("Expect", "100-continue")
            conn.putheader("X-OC-MTime", "1000000000")
            conn.endheaders()
            for part in (b"one ", b"two ", b"three"):
                conn.send(b"%x\r\n%s\r\n" % (len(part), part))
            conn.send(b"0\r\n\r\n")
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 201)
            self.assertEqual(resp.getheader("X-OC-MTime"), "accepted")
        finally:
            conn.close()
        r = self.dav("GET", "home/chunked.txt")
        self.assertEqual(r.body, b"one two three")
        ms = self.propfind("home/chunked.txt", depth="0")
        f = list(self.responses(ms).values())[0]
        self.assertEqual(self.prop(f, f"{D}getlastmodified").text, "Sun, 09 Sep 2001 01:46:40 GMT")
        self.assertEqual(self.dav("PUT", "home/m.txt", b"x", headers={"X-OC-MTime": "soon"}).status,
                         400)
        # a refused PUT (unauthenticated) with Expect: 100-continue never sends the body
        conn = http.client.HTTPConnection("127.0.0.1", self.host.port, timeout=30)
        try:
            conn.putrequest("PUT", f"/dav/{self.s.slug}/files/home/x.txt")
            conn.putheader("Content-Length", "1000000")
            conn.putheader("Expect", "100-continue")
            conn.endheaders()
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 401)
        finally:
            conn.close()

    def test_quota_507(self) -> None:
        s = self.s
        fixtures.check(s.raw("op", "PUT", f"/files/quotas/users/{s.ids['tom']}", {"bytes": 100}),
                       200, 201, 204)
        r = self.dav("PUT", "home/big.bin", b"x" * 1000)
        self.assertEqual(r.status, 507)
        self.assertEqual(self.dav("PUT", "home/small.bin", b"x" * 10).status, 201)

    # -- names --------------------------------------------------------------------------------

    def test_names(self) -> None:
        # NFD in, NFC kept: one file, whichever form is used
        nfd = "Cafe\u0301.txt"
        nfc = "Caf\u00e9.txt"
        self.assertEqual(self.dav("PUT", "home/" + urllib.parse.quote(nfd), b"x").status, 201)
        self.assertEqual(self.dav("GET", "home/" + urllib.parse.quote(nfc)).status, 200)
        names = [i["name"] for i in self.s.ok("tom", "GET", "/home/")["items"]]
        self.assertIn(nfc, names)
        # traversal in its encodings, and an over-long name
        # (dot segments, also escaped, are resolved by the HTTP layer before routing, so they
        # never leave the tree: what is left names nothing writable)
        for bad in ("home/../../x", "home/%2e%2e/x", "home/a/%2E%2E/%2E%2E/x"):
            r = self.dav("PUT", bad, b"x")
            self.assertIn(r.status, (400, 403, 404), bad)
        for bad in ("home/a%00b", "home/a%5Cb", "home/a%01b", "home/x%2F..%2F..%2Fy"):
            r = self.dav("PUT", bad, b"x")
            self.assertEqual(r.status, 400, bad)
        self.assertEqual([i["name"] for i in self.s.ok("tom", "GET", "/home/")["items"]], [nfc])
        self.assertEqual(self.dav("PUT", "home/" + "n" * 300, b"x").status, 400)
        # Finder's files are stored like any other
        for name in ("._doc.txt", ".DS_Store"):
            self.assertEqual(self.dav("PUT", "home/" + name, b"mac").status, 201, name)

    # -- collections ----------------------------------------------------------------------------

    def test_mkcol_delete_copy_move(self) -> None:
        s = self.s
        self.assertEqual(self.dav("MKCOL", "home/dir").status, 201)
        self.assertEqual(self.dav("MKCOL", "home/dir").status, 405)
        self.assertEqual(self.dav("MKCOL", "home/no/dir").status, 409)
        self.assertEqual(self.dav("MKCOL", "home/body", "<x/>").status, 415)
        self.assertEqual(self.dav("PUT", "home/dir/f.txt", b"one").status, 201)
        dest = f"http://127.0.0.1:{self.host.port}/dav/{s.slug}/files/home/"
        # COPY a folder, then again without overwrite: 412; with: 204
        self.assertEqual(self.dav("COPY", "home/dir", headers={"Destination": dest + "dir2"}).status,
                         201)
        self.assertEqual(self.dav("GET", "home/dir2/f.txt").body, b"one")
        self.assertEqual(self.dav("COPY", "home/dir", headers={"Destination": dest + "dir2",
                                                               "Overwrite": "F"}).status, 412)
        self.assertEqual(self.dav("COPY", "home/dir", headers={"Destination": dest + "dir2",
                                                               "Overwrite": "T"}).status, 204)
        # MOVE renames; the source is gone
        self.assertEqual(self.dav("MOVE", "home/dir2/f.txt",
                                  headers={"Destination": dest + "moved.txt"}).status, 201)
        self.assertEqual(self.dav("GET", "home/dir2/f.txt").status, 404)
        self.assertEqual(self.dav("GET", "home/moved.txt").body, b"one")
        # a relative Destination path works too
        self.assertEqual(self.dav("MOVE", "home/moved.txt", headers={
            "Destination": f"/dav/{s.slug}/files/home/moved2.txt"}).status, 201)
        # into itself, onto itself, missing parent, another host, another school, no header
        self.assertEqual(self.dav("MOVE", "home/dir", headers={"Destination": dest + "dir/in"}).status,
                         403)
        self.assertEqual(self.dav("COPY", "home/dir", headers={"Destination": dest + "dir"}).status,
                         403)
        self.assertEqual(self.dav("COPY", "home/dir", headers={"Destination": dest + "x/y"}).status,
                         409)
        self.assertEqual(self.dav("COPY", "home/dir", headers={
            "Destination": f"http://elsewhere.example/dav/{s.slug}/files/home/z"}).status, 502)
        self.assertEqual(self.dav("COPY", "home/dir", headers={
            "Destination": f"{dest.replace(s.slug, 'other-school')}z"}).status, 403)
        self.assertEqual(self.dav("COPY", "home/dir").status, 400)
        self.assertEqual(self.dav("MOVE", "home/nothing", headers={"Destination": dest + "q"}).status,
                         404)
        # DELETE goes to the trash, where REST finds it
        self.assertEqual(self.dav("DELETE", "home/dir").status, 204)
        self.assertEqual(self.dav("DELETE", "home/dir").status, 404)
        trash = s.ok("tom", "GET", "/trash")
        self.assertIn("dir", [i["path"] for i in trash["items"]])
        self.assertEqual(self.dav("DELETE", "home").status, 403)
        self.assertEqual(self.dav("DELETE", "").status, 403)

    # -- dead properties -------------------------------------------------------------------

    def proppatch(self, path: str, inner: str, ns: str = "") -> harness.Response:
        body = (f'<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:"{ns}>'
                f"{inner}</D:propertyupdate>")
        return self.dav("PROPPATCH", path, body.encode())

    def test_proppatch_dead_properties(self) -> None:
        s = self.s
        self.assertEqual(self.dav("PUT", "home/p.txt", b"props").status, 201)
        high = "😀 é 中"
        r = self.proppatch("home/p.txt",
                           '<D:set><D:prop><Z:author xml:lang="de">Ada <Z:b>bold</Z:b></Z:author>'
                           f'<plain xmlns="">{high}</plain><Z:empty/></D:prop></D:set>',
                           ' xmlns:Z="http://example.com/ns/z"')
        self.assertEqual(r.status, 207, r.body)
        self.assertIn(b"HTTP/1.1 200", r.body)

        def dead(path: str) -> dict[str, ET.Element]:
            ms = self.propfind(path, depth="0", body='<D:propfind xmlns:D="DAV:"><D:prop>'
                               '<Z:author xmlns:Z="http://example.com/ns/z"/><plain xmlns=""/>'
                               '<Z:empty xmlns:Z="http://example.com/ns/z"/></D:prop>'
                               '</D:propfind>')
            resp = list(self.responses(ms).values())[0]
            found = {}
            for name in ("{http://example.com/ns/z}author", "plain",
                         "{http://example.com/ns/z}empty"):
                el = self.prop(resp, name)
                if el is not None:
                    found[name] = el
            return found

        got = dead("home/p.txt")
        author = got["{http://example.com/ns/z}author"]
        self.assertEqual(author.text, "Ada ")
        self.assertEqual(author.find("{http://example.com/ns/z}b").text, "bold")
        self.assertEqual(author.get("{http://www.w3.org/XML/1998/namespace}lang"), "de")
        self.assertEqual(got["plain"].text, high)
        # allprop lists them, propname names them
        ms = self.propfind("home/p.txt", depth="0",
                           body='<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>')
        self.assertIn(b"author", ms and ET.tostring(ms))
        # they survive COPY and MOVE
        dest = f"/dav/{s.slug}/files/home/"
        self.assertEqual(self.dav("COPY", "home/p.txt", headers={"Destination": dest + "c.txt"}).status,
                         201)
        self.assertEqual(len(dead("home/c.txt")), 3)
        self.assertEqual(self.dav("MKCOL", "home/sub").status, 201)
        self.assertEqual(self.dav("MOVE", "home/c.txt",
                                  headers={"Destination": dest + "sub/m.txt"}).status, 201)
        self.assertEqual(dead("home/sub/m.txt")["plain"].text, high)
        # remove and set in one request, in order
        r = self.proppatch("home/p.txt", '<D:remove><D:prop><plain xmlns=""/></D:prop></D:remove>'
                           '<D:set><D:prop><plain xmlns="">again</plain></D:prop></D:set>')
        self.assertEqual(r.status, 207)
        self.assertEqual(dead("home/p.txt")["plain"].text, "again")
        r = self.proppatch("home/p.txt", '<D:remove><D:prop><plain xmlns=""/></D:prop></D:remove>')
        self.assertNotIn("plain", dead("home/p.txt"))
        # a protected property fails the whole request: 403 for it, 424 for the rest
        r = self.proppatch("home/p.txt", '<D:set><D:prop><D:getetag>"x"</D:getetag>'
                           '<plain xmlns="">never</plain></D:prop></D:set>')
        self.assertEqual(r.status, 207)
        self.assertIn(b"HTTP/1.1 403", r.body)
        self.assertIn(b"HTTP/1.1 424", r.body)
        self.assertNotIn("plain", dead("home/p.txt"))
        # getlastmodified sets the modification time; a bad date is a 409 for it
        r = self.proppatch("home/p.txt", '<D:set><D:prop><D:getlastmodified>'
                           'Tue, 01 Jan 2002 10:00:00 GMT</D:getlastmodified></D:prop></D:set>')
        self.assertIn(b"HTTP/1.1 200", r.body)
        ms = self.propfind("home/p.txt", depth="0")
        self.assertEqual(self.prop(list(self.responses(ms).values())[0], f"{D}getlastmodified").text,
                         "Tue, 01 Jan 2002 10:00:00 GMT")
        r = self.proppatch("home/p.txt", '<D:set><D:prop><D:getlastmodified>yesterday'
                           '</D:getlastmodified></D:prop></D:set>')
        self.assertIn(b"HTTP/1.1 409", r.body)
        # the fixed folders keep no dead properties of their own but the top of a space does
        self.assertIn(b"HTTP/1.1 403", self.proppatch("", '<D:set><D:prop><x xmlns="">1</x>'
                                                          '</D:prop></D:set>').body)
        self.assertIn(b"HTTP/1.1 200", self.proppatch("home/", '<D:set><D:prop><x xmlns="">1</x>'
                                                               '</D:prop></D:set>').body)
        # refusals: no body, not a propertyupdate, bad namespace, nothing there, another's
        self.assertEqual(self.dav("PROPPATCH", "home/p.txt").status, 400)
        self.assertEqual(self.dav("PROPPATCH", "home/p.txt", b"<x/>").status, 400)
        self.assertEqual(self.proppatch("home/p.txt", '<D:set><D:prop><b:x xmlns:b=""/></D:prop>'
                                        '</D:set>').status, 400)
        self.assertEqual(self.proppatch("home/none", "").status, 404)
        r = self.dav("PROPPATCH", "home/p.txt", b'<D:propertyupdate xmlns:D="DAV:"/>', who="sam")
        self.assertEqual(r.status, 404)

    def test_folder_copies_and_purges_carry_their_properties(self) -> None:
        s = self.s
        for path in ("home/pd", "home/pd/in"):
            self.assertEqual(self.dav("MKCOL", path).status, 201)
        self.assertEqual(self.dav("PUT", "home/pd/in/f.txt", b"x").status, 201)
        ns = "urn:test:carry"
        for path, val in (("home/pd", "top"), ("home/pd/in", "mid"), ("home/pd/in/f.txt", "leaf")):
            r = self.proppatch(path, f'<D:set><D:prop><n xmlns="{ns}">{val}</n></D:prop></D:set>')
            self.assertIn(b"HTTP/1.1 200", r.body)

        def note(path: str) -> str | None:
            ms = self.propfind(path, depth="0", body='<D:propfind xmlns:D="DAV:"><D:prop>'
                               f'<n xmlns="{ns}"/></D:prop></D:propfind>')
            el = self.prop(list(self.responses(ms).values())[0], f"{{{ns}}}n")
            return el.text if el is not None else None

        def stored() -> int:
            return int(self.pg.psql("SELECT count(*) FROM core.dav_properties "
                                    f"WHERE value LIKE '%{ns}%'"))

        # COPY of a folder: every member's properties come along, to the member's copy
        dest = f"/dav/{s.slug}/files/home/"
        self.assertEqual(self.dav("COPY", "home/pd", headers={"Destination": dest + "pd2"}).status,
                         201)
        copies = ("home/pd2", "home/pd2/in", "home/pd2/in/f.txt")
        self.assertEqual([note(p) for p in copies], ["top", "mid", "leaf"])
        # ... as copies of their own
        self.proppatch("home/pd2/in/f.txt", f'<D:set><D:prop><n xmlns="{ns}">new</n></D:prop>'
                       '</D:set>')
        self.assertEqual((note("home/pd/in/f.txt"), note("home/pd2/in/f.txt")), ("leaf", "new"))
        # over an existing folder (Overwrite: T): the copy gets the source's; the folder it
        # replaced went to the trash, with its own
        self.assertEqual(self.dav("COPY", "home/pd", headers={"Destination": dest + "pd2"}).status,
                         204)
        self.assertEqual([note(p) for p in copies], ["top", "mid", "leaf"])
        self.assertEqual(stored(), 9)

        def trashed() -> list[str]:
            return [i["id"] for i in s.ok("tom", "GET", "/trash")["items"] if i["path"] == "pd2"]

        # in the trash they stay (a restore brings the files back as they were) ...
        self.assertEqual(self.dav("DELETE", "home/pd2").status, 204)
        self.assertEqual(stored(), 9)
        s.ok("tom", "POST", f"/trash/{trashed()[0]}/restore")  # the newest
        self.assertEqual(note("home/pd2/in/f.txt"), "leaf")
        # ... and go with the files when the trash is emptied
        self.assertEqual(self.dav("DELETE", "home/pd2").status, 204)
        for item in trashed():
            s.ok("tom", "DELETE", f"/trash/{item}")
        self.assertEqual(stored(), 3)
        self.assertEqual(note("home/pd/in/f.txt"), "leaf")

    # -- locks ---------------------------------------------------------------------------------

    LOCKINFO = ('<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:">'
                '<D:lockscope><D:{scope}/></D:lockscope><D:locktype><D:write/></D:locktype>'
                '<D:owner><D:href>mailto:{who}@example.com</D:href></D:owner></D:lockinfo>')

    def lock(self, path: str, who: str, scope: str = "exclusive", depth: str = "0",
             status: int = 200, **kw: Any) -> str | None:
        r = self.dav("LOCK", path, self.LOCKINFO.format(scope=scope, who=who), who=who,
                     headers={"Depth": depth, "Timeout": "Second-600", **kw})
        self.assertEqual(r.status, status, r.body)
        tok = r.headers.get("Lock-Token")
        return tok[1:-1] if tok else None

    def test_locks(self) -> None:
        s = self.s
        gid = s.make_group("Locked class", owner="tina", members=["tom"])
        slug = s.raw("tina", "GET", f"/groups/{gid}").json()["slug"]
        g = f"groups/{slug}"
        self.assertEqual(self.dav("PUT", f"{g}/doc.txt", b"v1", who="tina").status, 201)
        tok = self.lock(f"{g}/doc.txt", "tina")
        self.assertTrue(tok)
        # discovery, with the owner as sent
        ms = self.propfind(f"{g}/doc.txt", depth="0", who="tom",
                           body='<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/>'
                           '<D:supportedlock/></D:prop></D:propfind>')
        resp = list(self.responses(ms).values())[0]
        active = self.prop(resp, f"{D}lockdiscovery").find(f"{D}activelock")
        self.assertEqual(active.find(f"{D}locktoken/{D}href").text, tok)
        self.assertEqual(active.find(f"{D}owner/{D}href").text, "mailto:tina@example.com")
        self.assertIsNotNone(active.find(f"{D}lockscope/{D}exclusive"))
        self.assertEqual(len(self.prop(resp, f"{D}supportedlock").findall(f"{D}lockentry")), 2)
        # others are locked out: PUT, DELETE, PROPPATCH, MOVE, even with the stolen token
        for method, body, hdrs in (("PUT", b"v2", {}), ("DELETE", None, {}),
                                   ("PUT", b"v2", {"If": f"(<{tok}>)"}),
                                   ("PROPPATCH", '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>'
                                    '<x xmlns="">1</x></D:prop></D:set></D:propertyupdate>', {}),
                                   ("MOVE", None, {"Destination": f"/dav/{s.slug}/files/{g}/x"})):
            r = self.dav(method, f"{g}/doc.txt", body, who="tom", headers=hdrs)
            self.assertEqual(r.status, 423, (method, hdrs))
        self.assertIn(b"lock-token-submitted", r.body)
        # the owner needs the token too; with it, writes go through
        self.assertEqual(self.dav("PUT", f"{g}/doc.txt", b"v2", who="tina").status, 423)
        self.assertEqual(self.dav("PUT", f"{g}/doc.txt", b"v2", who="tina",
                                  headers={"If": f"(<{tok}>)"}).status, 204)
        # a second lock conflicts; a bad If is 412; a malformed one 400
        self.lock(f"{g}/doc.txt", "tom", status=423)
        self.lock(f"{g}/doc.txt", "tom", scope="shared", status=423)
        self.assertEqual(self.dav("PUT", f"{g}/doc.txt", b"v3", who="tina",
                                  headers={"If": f'(<{tok}> ["nope"])'}).status, 412)
        self.assertEqual(self.dav("PUT", f"{g}/doc.txt", b"v3", who="tina",
                                  headers={"If": "(<broken"}).status, 400)
        # refresh: the token in If, no body
        r = self.dav("LOCK", f"{g}/doc.txt", who="tina",
                     headers={"If": f"(<{tok}>)", "Timeout": "Second-1000"})
        self.assertEqual(r.status, 200, r.body)
        self.assertIn(b"Second-1000", r.body)
        self.assertEqual(self.dav("LOCK", f"{g}/doc.txt", who="tom",
                                  headers={"If": f"(<{tok}>)"}).status, 412)
        # the lock holds on another host of the installation too
        with harness.Atriumd(self.pg, env={"ATRIUM_DATA_DIR": self.host.data_dir}) as other:
            r = other.request("PUT", f"/dav/{s.slug}/files/{g}/doc.txt", b"v4",
                              headers={"Authorization": basic("tom")})
            self.assertEqual(r.status, 423)
        # the owner renames the locked file; the lock stays behind (RFC 4918 7.7)
        self.assertEqual(self.dav("MOVE", f"{g}/doc.txt", who="tina", headers={
            "Destination": f"/dav/{s.slug}/files/{g}/renamed.txt", "If": f"(<{tok}>)"}).status, 201)
        self.assertEqual(self.dav("PUT", f"{g}/renamed.txt", b"v5", who="tom").status, 204)
        # UNLOCK: wrong token 409, another's 403, the owner's 204
        tok2 = self.lock(f"{g}/renamed.txt", "tina")
        r = self.dav("UNLOCK", f"{g}/renamed.txt", who="tina", headers={"Lock-Token": "<x:y>"})
        self.assertEqual(r.status, 409)
        r = self.dav("UNLOCK", f"{g}/renamed.txt", who="tom", headers={"Lock-Token": f"<{tok2}>"})
        self.assertEqual(r.status, 403)
        self.assertEqual(self.dav("UNLOCK", f"{g}/renamed.txt", who="tina").status, 400)
        r = self.dav("UNLOCK", f"{g}/renamed.txt", who="tina", headers={"Lock-Token": f"<{tok2}>"})
        self.assertEqual(r.status, 204)
        self.assertEqual(self.dav("PUT", f"{g}/renamed.txt", b"v6", who="tom").status, 204)
        # bad LOCK bodies and depths
        self.assertEqual(self.dav("LOCK", f"{g}/renamed.txt", "<x/>", who="tina").status, 400)
        self.assertEqual(self.dav("LOCK", f"{g}/renamed.txt", self.LOCKINFO.format(
            scope="exclusive", who="tina"), who="tina", headers={"Depth": "1"}).status, 400)
        self.assertEqual(self.dav("LOCK", "groups/", self.LOCKINFO.format(
            scope="exclusive", who="tina"), who="tina").status, 403)

    def test_rest_respects_locks(self) -> None:
        # A REST client cannot send a lock token: what another person locked over WebDAV (an
        # Office user editing a group's file) is not changed over REST either: 423 locked. The
        # lock's owner may write; an unlocked file is as before.
        s = self.s
        gid = s.make_group("Rest and locks", owner="tina", members=["tom"])
        slug = s.raw("tina", "GET", f"/groups/{gid}").json()["slug"]
        g, rest = f"groups/{slug}", f"/groups/{gid}"
        for name in ("doc.txt", "other.txt"):
            fixtures.check(s.req("tina", "PUT", f"{rest}/{name}", b"v1"), 201)
        fixtures.check(s.req("tina", "PUT", f"{rest}/deep/"), 201)
        fixtures.check(s.req("tina", "PUT", f"{rest}/deep/inner.txt", b"v1"), 201)
        tok = self.lock(f"{g}/doc.txt", "tina")

        def locked(resp: harness.Response) -> None:
            problem = self.assertProblem(resp, 423)
            self.assertTrue(problem["type"].endswith("/locked"), problem)
            self.assertIn(f"/dav/{s.slug}/files/{g}/doc.txt", problem["detail"])

        locked(s.req("tom", "PUT", f"{rest}/doc.txt", b"tom's"))
        locked(s.req("tom", "DELETE", f"{rest}/doc.txt"))
        locked(s.req("tom", "POST", f"{rest}/doc.txt?action=move", {"to": "moved.txt"}))
        locked(s.req("tom", "POST", f"{rest}/other.txt?action=move", {"to": "doc.txt"}))
        locked(s.req("tom", "POST", f"{rest}/other.txt?action=copy", {"to": "doc.txt"}))
        # Nothing of it changed.
        r = self.dav("GET", f"{g}/doc.txt", who="tom")
        self.assertEqual((r.status, r.body), (200, b"v1"))
        self.assertEqual(self.dav("GET", f"{g}/moved.txt", who="tom").status, 404)
        # Copying the locked file elsewhere reads it only; the other file is not locked.
        fixtures.check(s.req("tom", "POST", f"{rest}/doc.txt?action=copy", {"to": "copy.txt"}),
                       201)
        fixtures.check(s.req("tom", "PUT", f"{rest}/other.txt", b"tom's"), 200)
        # The lock's owner writes over REST (her phone, while her laptop holds the lock).
        fixtures.check(s.req("tina", "PUT", f"{rest}/doc.txt", b"v2"), 200)
        # A depth-infinity lock on a folder covers what is in it, new members too, and a
        # folder with a lock below it is not deleted or moved by another.
        tok_deep = self.lock(f"{g}/deep", "tina", depth="infinity")
        locked_deep = [s.req("tom", "PUT", f"{rest}/deep/inner.txt", b"x"),
                       s.req("tom", "PUT", f"{rest}/deep/new.txt", b"x"),
                       s.req("tom", "POST", f"{rest}/deep/sub?action=mkdir")]
        for resp in locked_deep:
            self.assertEqual(resp.status, 423, resp.body)
        self.assertEqual(self.dav("UNLOCK", f"{g}/deep", who="tina",
                                  headers={"Lock-Token": f"<{tok_deep}>"}).status, 204)
        self.lock(f"{g}/deep/inner.txt", "tina")
        self.assertEqual(s.req("tom", "DELETE", f"{rest}/deep/").status, 423)
        self.assertEqual(s.req("tom", "POST", f"{rest}/deep/?action=move",
                               {"to": "elsewhere"}).status, 423)
        # Released, the file is everybody's again.
        self.assertEqual(self.dav("UNLOCK", f"{g}/doc.txt", who="tina",
                                  headers={"Lock-Token": f"<{tok}>"}).status, 204)
        fixtures.check(s.req("tom", "PUT", f"{rest}/doc.txt", b"v3"), 200)
        item = fixtures.check(s.req("tom", "DELETE", f"{rest}/doc.txt"), 200).json()
        # A trash item is not put back into a folder whose members another person locked.
        tok_folder = self.lock(g, "tina")
        self.assertEqual(s.req("tom", "POST", f"/trash/{item['id']}/restore").status, 423)
        self.assertEqual(self.dav("UNLOCK", g, who="tina",
                                  headers={"Lock-Token": f"<{tok_folder}>"}).status, 204)
        fixtures.check(s.req("tom", "POST", f"/trash/{item['id']}/restore"), 200)

    def test_lock_null_depth_and_expiry(self) -> None:
        s = self.s
        gid = s.make_group("Lock null", owner="tina", members=["tom"])
        slug = s.raw("tina", "GET", f"/groups/{gid}").json()["slug"]
        g = f"groups/{slug}"
        # a path that does not exist yet: 201, nothing made; the owner then creates it
        tok = self.lock(f"{g}/new.txt", "tina", status=201)
        self.assertEqual(self.dav("GET", f"{g}/new.txt", who="tina").status, 404)
        self.assertEqual(self.dav("PUT", f"{g}/new.txt", b"x", who="tom").status, 423)
        self.assertEqual(self.dav("PUT", f"{g}/new.txt", b"x", who="tina",
                                  headers={"If": f"(<{tok}>)"}).status, 201)
        # Windows' way: empty PUT, LOCK, PUT, PROPPATCH
        self.assertEqual(self.dav("PUT", f"{g}/win.docx", b"", who="tom").status, 201)
        wt = self.lock(f"{g}/win.docx", "tom")
        self.assertEqual(self.dav("PUT", f"{g}/win.docx", b"content", who="tom",
                                  headers={"If": f"(<{wt}>)"}).status, 204)
        r = self.dav("PROPPATCH", f"{g}/win.docx", '<D:propertyupdate xmlns:D="DAV:"><D:set>'
                     '<D:prop><Z:Win32LastModifiedTime xmlns:Z="urn:schemas-microsoft-com:">'
                     'Wed, 01 Jan 2025 10:00:00 GMT</Z:Win32LastModifiedTime></D:prop></D:set>'
                     '</D:propertyupdate>', who="tom", headers={"If": f"(<{wt}>)"})
        self.assertIn(b"HTTP/1.1 200", r.body)
        # a depth-infinity lock on a folder covers what is inside and what is added
        self.assertEqual(self.dav("MKCOL", f"{g}/dir", who="tina").status, 201)
        self.assertEqual(self.dav("PUT", f"{g}/dir/a.txt", b"a", who="tina").status, 201)
        dt = self.lock(f"{g}/dir", "tina", depth="infinity")
        self.assertEqual(self.dav("PUT", f"{g}/dir/a.txt", b"b", who="tom").status, 423)
        self.assertEqual(self.dav("PUT", f"{g}/dir/b.txt", b"b", who="tom").status, 423)
        self.assertEqual(self.dav("DELETE", f"{g}/dir", who="tom").status, 423)
        self.lock(f"{g}/dir/a.txt", "tom", status=423)
        # a depth-0 lock on a folder guards its membership, not its members' contents
        self.assertEqual(self.dav("UNLOCK", f"{g}/dir", who="tina",
                                  headers={"Lock-Token": f"<{dt}>"}).status, 204)
        zt = self.lock(f"{g}/dir", "tina", depth="0")
        self.assertEqual(self.dav("PUT", f"{g}/dir/a.txt", b"replaced", who="tom").status, 204)
        self.assertEqual(self.dav("PUT", f"{g}/dir/c.txt", b"new", who="tom").status, 423)
        self.assertEqual(self.dav("MKCOL", f"{g}/dir/sub", who="tom").status, 423)
        self.assertEqual(self.dav("DELETE", f"{g}/dir/a.txt", who="tom").status, 423)
        dt = zt
        # a lock inside blocks a deep lock and a DELETE of the folder above
        self.assertEqual(self.dav("UNLOCK", f"{g}/dir", who="tina",
                                  headers={"Lock-Token": f"<{dt}>"}).status, 204)
        at = self.lock(f"{g}/dir/a.txt", "tom")
        self.lock(f"{g}/dir", "tina", depth="infinity", status=423)
        self.assertEqual(self.dav("DELETE", f"{g}/dir", who="tina").status, 423)
        # expired locks count for nothing
        self.pg.psql("UPDATE core.dav_locks SET expires_at = now() - interval '1 second'")
        self.assertEqual(self.dav("PUT", f"{g}/dir/a.txt", b"c", who="tina").status, 204)
        self.assertEqual(self.dav("UNLOCK", f"{g}/dir/a.txt", who="tom",
                                  headers={"Lock-Token": f"<{at}>"}).status, 409)
        # DELETE, with the token of the lock below, takes that lock with it
        lt = self.lock(f"{g}/dir/a.txt", "tina")
        self.assertEqual(self.dav("DELETE", f"{g}/dir", who="tina",
                                  headers={"If": f"<http://127.0.0.1:{self.host.port}/dav/"
                                           f"{s.slug}/files/{g}/dir/a.txt> (<{lt}>)"}).status, 204)
        self.assertEqual(self.pg.psql("SELECT count(*) FROM core.dav_locks "
                                      "WHERE expires_at > now()").strip(), "0")

    def test_the_school_lists_its_trees(self) -> None:
        s = self.s
        root = f"/dav/{s.slug}/"

        def propfind(path: str, depth: str | None = "1",
                     who: str | None = "tom") -> harness.Response:
            hdrs = {"Authorization": basic(who)} if who else {}
            if depth:
                hdrs["Depth"] = depth
            return self.host.request("PROPFIND", path, '<D:propfind xmlns:D="DAV:"><D:prop>'
                                     "<D:resourcetype/><D:displayname/>"
                                     "<D:current-user-principal/></D:prop></D:propfind>",
                                     headers=hdrs)

        r = propfind(root)
        self.assertEqual(r.status, 207, r.body)
        hrefs = self.responses(ET.fromstring(r.body))
        # files (enabled here) and principals; not the calendars of a module the school lacks
        self.assertEqual(set(hrefs), {root, root + "files/", root + "principals/"})
        for href in hrefs:
            self.assertIsNotNone(self.prop(hrefs[href], f"{D}resourcetype/{D}collection"))
        principal = self.prop(hrefs[root], f"{D}current-user-principal")
        self.assertEqual(principal.find(f"{D}href").text, f"{root}principals/tom/")
        r = propfind(root.rstrip("/"), depth="0")
        self.assertEqual(r.status, 207)
        self.assertEqual(set(self.responses(ET.fromstring(r.body))), {root})
        # what a file manager walks into next answers too
        self.assertEqual(propfind(root + "files/").status, 207)
        # OPTIONS without credentials; refusals as for every tree
        r = self.host.request("OPTIONS", root)
        self.assertEqual(r.status, 200)
        self.assertIn("2", r.headers.get("DAV"))
        r = propfind(root, who=None)
        self.assertEqual(r.status, 401)
        self.assertIn("Basic", r.headers.get("WWW-Authenticate"))
        self.assertEqual(propfind(root, depth="infinity").status, 403)
        self.assertEqual(propfind(root, depth=None).status, 403)
        self.assertEqual(propfind(root, depth="2").status, 400)
        self.assertEqual(propfind("/dav/no-such-school/").status, 401)
        self.assertEqual(self.host.request("PROPFIND", root, b"<nope", headers={
            "Authorization": basic("tom"), "Depth": "0"}).status, 400)

    def test_groups_and_permissions(self) -> None:
        s = self.s
        gid = s.make_group("Class 7b", owner="tina", members=["tom", "sue"])
        slug = s.raw("tina", "GET", f"/groups/{gid}").json()["slug"]
        ms = self.propfind("groups/")
        hrefs = self.responses(ms)
        href = f"/dav/{s.slug}/files/groups/{slug}/"
        self.assertIn(href, hrefs)
        self.assertEqual(self.prop(hrefs[href], f"{D}displayname").text, "Class 7b")
        # the owner and a teacher member write, a student member reads only (no files.write),
        # a stranger sees nothing
        self.assertEqual(self.dav("PUT", f"groups/{slug}/sheet.txt", b"task", who="tina").status,
                         201)
        self.assertEqual(self.dav("GET", f"groups/{slug}/sheet.txt", who="sue").body, b"task")
        self.assertEqual(self.dav("PUT", f"groups/{slug}/mine.txt", b"x", who="sue").status, 403)
        self.assertEqual(self.dav("GET", f"groups/{slug}/sheet.txt", who="sam").status, 404)
        self.assertNotIn(href, self.responses(self.propfind("groups/", who="sam")))
        # the REST route sees the same file
        item = s.ok("tina", "GET", f"/groups/{gid}/")["items"][0]
        self.assertEqual(item["name"], "sheet.txt")
        # a COPY from a group into one's home, across spaces
        dest = f"http://127.0.0.1:{self.host.port}/dav/{s.slug}/files/home/copied.txt"
        self.assertEqual(self.dav("COPY", f"groups/{slug}/sheet.txt",
                                  headers={"Destination": dest}).status, 201)
        self.assertEqual(self.dav("GET", "home/copied.txt").body, b"task")
        # a home is private: nobody else's under home/
        self.assertEqual(self.dav("GET", "home/copied.txt", who="sam").status, 404)
        # the group folder's top keeps dead properties, until the group is deleted
        r = self.proppatch(f"groups/{slug}/", '<D:set><D:prop><x xmlns="urn:top">1</x></D:prop>'
                           "</D:set>")
        self.assertIn(b"HTTP/1.1 200", r.body)
        kept = f"SELECT count(*) FROM core.dav_properties WHERE resource_id = 'group:{gid}'"
        self.assertEqual(self.pg.psql(kept).strip(), "1")
        fixtures.check(s.raw("tina", "DELETE", f"/groups/{gid}"), 204, what="delete group")
        self.assertEqual(self.pg.psql(kept).strip(), "0")


if __name__ == "__main__":
    harness.main()
