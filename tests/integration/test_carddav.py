# SPDX-License-Identifier: Apache-2.0
"""test_carddav.py - CardDAV (RFC 6352, RFC 6578, RFC 6764) over raw HTTP: the contacts
plugin's address books and the refusals. The real client is in test_carddav_clients.py
(vdirsyncer).

Discovery (/.well-known/carddav, /dav/, the principal's addressbook-home-set), the home (the
read-only people book and the personal book, with their properties), who is in the people book
(group mates, teachers and staff; never pupils outside one's groups) with the school mail
address, vCard 3.0 and 4.0 (Accept, address-data), PUT/GET/DELETE with If-Match and
If-None-Match, addressbook-query, addressbook-multiget, sync-collection (tokens across a restart
of the host), a deleted person's cards gone with them. Refusals: writes to
the people book (403 need-privileges), bad and oversized vCards, conflicts, another person's
home, another school, no credentials, unsupported filters and versions.
"""

from __future__ import annotations

import base64
import urllib.parse
import xml.etree.ElementTree as ET

import fixtures
import harness

D = "{DAV:}"
CR = "{urn:ietf:params:xml:ns:carddav}"
CS = "{http://calendarserver.org/ns/}"


def basic(user: str, password: str = fixtures.PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def vcard(uid: str, fn: str = "Erika Mustermann", email: str = "erika@example.org",
          version: str = "3.0", extra: str = "") -> str:
    return (f"BEGIN:VCARD\r\nVERSION:{version}\r\nUID:{uid}\r\nFN:{fn}\r\n"
            f"N:Mustermann;Erika;;;\r\nEMAIL;TYPE=INTERNET,pref:{email}\r\n{extra}END:VCARD\r\n")


PROPS = """<?xml version="1.0"?><D:propfind xmlns:D="DAV:"
 xmlns:CR="urn:ietf:params:xml:ns:carddav" xmlns:CS="http://calendarserver.org/ns/"><D:prop>
 <D:resourcetype/><D:displayname/><CS:getctag/><D:sync-token/><CR:supported-address-data/>
 <D:current-user-privilege-set/><D:current-user-principal/><CR:addressbook-home-set/>
 <D:getetag/></D:prop></D:propfind>"""


def multiget(hrefs: list[str], version: str | None = None) -> str:
    attr = f' content-type="text/vcard" version="{version}"' if version else ""
    return ('<?xml version="1.0"?><CR:addressbook-multiget xmlns:D="DAV:" '
            'xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/>'
            f'<CR:address-data{attr}/></D:prop>'
            + "".join(f"<D:href>{h}</D:href>" for h in hrefs) + "</CR:addressbook-multiget>")


def query(prop: str, text: str, match: str = "contains", more: str = "") -> str:
    return ('<?xml version="1.0"?><CR:addressbook-query xmlns:D="DAV:" '
            'xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><CR:address-data/>'
            f'</D:prop><CR:filter><CR:prop-filter name="{prop}"><CR:text-match '
            f'collation="i;unicode-casemap" match-type="{match}">{text}</CR:text-match>'
            f'</CR:prop-filter>{more}</CR:filter></CR:addressbook-query>')


def sync(token: str = "") -> str:
    return ('<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>'
            f'{token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/>'
            '</D:prop></D:sync-collection>')


class School(fixtures.School):
    """A school with groups, mail (domain set) and contacts."""

    SLUG_PREFIX = "k"
    MODULES = ("groups", "mail", "contacts")

    def __init__(self, host: harness.Atriumd, op: str, mail: bool = True,
                 modules: tuple[str, ...] | None = None) -> None:
        super().__init__(host, op, modules)
        self.domain = f"{self.slug}.example.org"
        if mail:
            fixtures.check(self.raw("op", "PUT", "/mail/settings", {"domain": self.domain}),
                           200, what="mail domain")


class Small(School):
    """Another school with one person (cheap: every person costs a password hash)."""

    PEOPLE = ("tina",)


class CardDavTest(fixtures.SharedHost):
    EXIT_CHECK = ("contacts", "vcard.c", "dav-report")

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.s = School(cls.host, cls.op_token)
        # 7a: tina (owner) and sam; sue is in no group of theirs.
        cls.gid = cls.s.make_group("7a", "tina", members=["sam"])
        # A person without any role has no contacts.read.
        cls.s.add_person("norole", [], display_name="No Role")
        # Another school with the contacts module but no mail; one without contacts.
        cls.other = Small(cls.host, cls.op_token, mail=False, modules=("groups", "contacts"))
        cls.plain = Small(cls.host, cls.op_token, mail=False, modules=("groups",))

    def dav(self, method: str, path: str, body: str | bytes | None = None,
            who: str | None = "tina", headers: dict[str, str] | None = None,
            school: str | None = None, auth: str | None = None) -> harness.Response:
        hdrs = dict(headers or {})
        if auth is not None:
            hdrs["Authorization"] = auth
        elif who is not None:
            hdrs["Authorization"] = basic(who)
        if body is not None and "Content-Type" not in hdrs:
            text = body if isinstance(body, str) else ""
            hdrs["Content-Type"] = ("text/vcard" if text.startswith("BEGIN:")
                                    else "application/xml")
        return self.host.request(method, f"/dav/{school or self.s.slug}/{path}", body,
                                 headers=hdrs)

    def multistatus(self, resp: harness.Response) -> dict[str, ET.Element]:
        self.assertEqual(resp.status, 207, resp.body)
        out = {}
        for r in ET.fromstring(resp.body).findall(f"{D}response"):
            out[urllib.parse.unquote(r.find(f"{D}href").text)] = r
        return out

    @staticmethod
    def prop(resp: ET.Element, name: str) -> ET.Element | None:
        for ps in resp.findall(f"{D}propstat"):
            if "200" in ps.find(f"{D}status").text:
                el = ps.find(f"{D}prop/{name}")
                if el is not None:
                    return el
        return None

    def base(self, who: str = "tina") -> str:
        return f"/dav/{self.s.slug}/contacts/{who}/"

    def people(self, who: str) -> dict[str, str]:
        """The people book of `who`: FN -> vCard text (addressbook-query without a filter)."""
        body = ('<?xml version="1.0"?><CR:addressbook-query xmlns:D="DAV:" '
                'xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><CR:address-data/>'
                '</D:prop></CR:addressbook-query>')
        got = self.multistatus(self.dav("REPORT", f"contacts/{who}/people/", body, who=who,
                                        headers={"Depth": "1"}))
        out = {}
        for r in got.values():
            text = self.prop(r, f"{CR}address-data").text
            fn = next(ln[3:] for ln in text.split("\r\n") if ln.startswith("FN:"))
            out[fn] = text
        return out

    def refusal(self, resp: harness.Response, status: int, condition: str) -> None:
        self.assertEqual(resp.status, status, resp.body)
        self.assertIn(condition, resp.text)
        ET.fromstring(resp.body)  # a DAV error body, well-formed

    # -- discovery and the home --------------------------------------------------------------

    def test_discovery_and_home(self) -> None:
        r = self.host.request("PROPFIND", "/.well-known/carddav", headers={"Depth": "0"})
        self.assertEqual((r.status, r.headers.get("location")), (301, "/dav/"))
        r = self.host.request("PROPFIND", "/dav/", PROPS, headers={
            "Depth": "0", "Authorization": basic(f"tina@{self.s.slug}")})
        principal = f"/dav/{self.s.slug}/principals/tina/"
        self.assertEqual(self.prop(self.multistatus(r)["/dav/"],
                                   f"{D}current-user-principal")[0].text, principal)
        got = self.multistatus(self.dav("PROPFIND", "principals/tina/", PROPS,
                                        headers={"Depth": "0"}))[principal]
        self.assertEqual(self.prop(got, f"{CR}addressbook-home-set")[0].text, self.base())
        got = self.multistatus(self.dav("PROPFIND", "contacts/tina/", PROPS,
                                        headers={"Depth": "1"}))
        self.assertEqual(set(got), {self.base(), self.base() + "people/",
                                    self.base() + "personal/"})
        # The tree's root lists one's own home only (clients that start from /contacts/).
        root = f"/dav/{self.s.slug}/contacts/"
        self.assertEqual(set(self.multistatus(self.dav("PROPFIND", "contacts/", PROPS,
                                                       headers={"Depth": "1"}))),
                         {root, self.base()})
        people, personal = got[self.base() + "people/"], got[self.base() + "personal/"]
        for book, name in ((people, "People"), (personal, "Personal")):
            self.assertIsNotNone(self.prop(book, f"{D}resourcetype").find(f"{CR}addressbook"))
            self.assertEqual(self.prop(book, f"{D}displayname").text, name)
            self.assertTrue(self.prop(book, f"{CS}getctag").text)
            self.assertTrue(self.prop(book, f"{D}sync-token").text.startswith(
                "urn:atrium:contacts:"))
            versions = {t.get("version") for t in self.prop(book, f"{CR}supported-address-data")}
            self.assertEqual(versions, {"3.0", "4.0"})
        privs = {p[0].tag for p in self.prop(people, f"{D}current-user-privilege-set")}
        self.assertEqual(privs, {f"{D}read"})
        privs = {p[0].tag for p in self.prop(personal, f"{D}current-user-privilege-set")}
        self.assertIn(f"{D}write", privs)
        opts = self.dav("OPTIONS", "contacts/tina/", who=None)
        self.assertIn("addressbook", opts.headers.get("dav", ""))
        self.assertIn("REPORT", opts.headers.get("allow", ""))

    # -- the people book ---------------------------------------------------------------------

    def test_people_book_holds_whom_one_may_see(self) -> None:
        s = self.s
        staff = {"Tina Teacher", "Tom Teacher", "Stan Staff"}
        # sam (pupil in 7a): tina's group, the teachers and staff, himself; not sue, not ada.
        self.assertEqual(set(self.people("sam")), staff | {"Sam Schüler"})
        # sue (a pupil in no group): never sam.
        self.assertEqual(set(self.people("sue")), staff | {"Sue Student"})
        # pia (a parent): not the pupils either; her own child once linked.
        self.assertEqual(set(self.people("pia")), staff | {"Pia Parent"})
        fixtures.check(s.raw("op", "PUT", f"/users/{s.ids['sue']}/parents/{s.ids['pia']}"),
                       200, 201, 204, what="link parent")
        self.addCleanup(s.raw, "op", "DELETE", f"/users/{s.ids['sue']}/parents/{s.ids['pia']}")
        self.assertEqual(set(self.people("pia")), staff | {"Pia Parent", "Sue Student"})
        # tina (owner of 7a): sam too.
        self.assertEqual(set(self.people("tina")), staff | {"Sam Schüler"})
        card = self.people("sam")["Tina Teacher"]
        self.assertIn("VERSION:3.0\r\n", card)
        self.assertIn(f"UID:{s.ids['tina']}\r\n", card)
        self.assertIn("N:Teacher;Tina;;;\r\n", card)
        self.assertIn(f"EMAIL;TYPE=INTERNET,WORK:tina@{s.domain}\r\n", card)
        # GET of one card; the same as 4.0 when asked.
        path = f"contacts/sam/people/{s.ids['tina']}.vcf"
        r = self.dav("GET", path, who="sam")
        self.assertEqual((r.status, r.content_type), (200, "text/vcard"))
        self.assertEqual(r.text, card)
        r4 = self.dav("GET", path, who="sam", headers={"Accept": "text/vcard; version=4.0"})
        self.assertIn("VERSION:4.0\r\n", r4.text)
        self.assertIn("FN:Tina Teacher\r\n", r4.text)
        # Someone sam may not see is not there.
        self.assertEqual(self.dav("GET", f"contacts/sam/people/{s.ids['sue']}.vcf",
                                  who="sam").status, 404)
        # Without the mail module, no EMAIL.
        r = self.dav("GET", f"contacts/tina/people/{self.other.ids['tina']}.vcf",
                     school=self.other.slug)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("FN:Tina Teacher", r.text)
        self.assertNotIn("EMAIL", r.text)

    def test_people_book_is_read_only(self) -> None:
        uid = self.s.ids["tom"]
        self.refusal(self.dav("PUT", f"contacts/sam/people/{uid}.vcf", vcard("x"), who="sam"),
                     403, "need-privileges")
        self.refusal(self.dav("PUT", "contacts/sam/people/new.vcf", vcard("y"), who="sam"),
                     403, "need-privileges")
        self.refusal(self.dav("DELETE", f"contacts/sam/people/{uid}.vcf", who="sam"),
                     403, "need-privileges")
        # A dead property cannot be hung on a shared card either (others would see it).
        patch = ('<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:x">'
                 '<D:set><D:prop><X:note>mine</X:note></D:prop></D:set></D:propertyupdate>')
        r = self.dav("PROPPATCH", f"contacts/sam/people/{uid}.vcf", patch, who="sam")
        self.assertEqual(r.status, 207, r.body)
        self.assertIn("403", r.text)
        self.assertEqual(self.dav("GET", f"contacts/sam/people/{uid}.vcf", who="sam").status,
                         200)

    # -- the personal book -------------------------------------------------------------------

    def test_personal_put_get_delete_with_preconditions(self) -> None:
        path = "contacts/tom/personal/erika.vcf"
        body = vcard("erika-1")
        r = self.dav("PUT", path, body, who="tom", headers={"If-None-Match": "*"})
        self.assertEqual(r.status, 201, r.body)
        etag = r.headers.get("etag")
        self.assertTrue(etag and etag.startswith('"'))
        self.assertEqual(self.dav("PUT", path, body, who="tom",
                                  headers={"If-None-Match": "*"}).status, 412)
        r = self.dav("GET", path, who="tom")
        self.assertEqual((r.status, r.text, r.headers.get("etag")), (200, body, etag))
        # A client's conditional GET: 304 with the ETag while it matches. The book itself,
        # opened in a browser: a plain list of its cards.
        r = self.dav("GET", path, who="tom", headers={"If-None-Match": etag})
        self.assertEqual((r.status, r.body, r.headers.get("etag")), (304, b"", etag))
        self.assertEqual(self.dav("GET", path, who="tom",
                                  headers={"If-None-Match": '"0000"'}).status, 200)
        listing = self.dav("GET", "contacts/tom/personal/", who="tom")
        self.assertEqual(listing.status, 200)
        self.assertTrue(listing.headers.get("content-type", "").startswith("text/html"))
        self.assertIn("erika.vcf", listing.text)
        # Another version on request: PREF moves from TYPE=pref to PREF=1.
        r = self.dav("GET", path, who="tom", headers={"Accept": "text/vcard;version=4.0"})
        self.assertIn("VERSION:4.0\r\n", r.text)
        self.assertIn("EMAIL;TYPE=INTERNET;PREF=1:erika@example.org\r\n", r.text)
        changed = vcard("erika-1", fn="Erika Musterfrau")
        self.assertEqual(self.dav("PUT", path, changed, who="tom",
                                  headers={"If-Match": '"0000"'}).status, 412)
        r = self.dav("PUT", path, changed, who="tom", headers={"If-Match": etag})
        self.assertEqual(r.status, 204, r.body)
        new = r.headers.get("etag")
        self.assertNotEqual(new, etag)
        # Another card may not take the UID; a card keeps its UID.
        self.refusal(self.dav("PUT", "contacts/tom/personal/copy.vcf", vcard("erika-1"),
                              who="tom"), 409, "no-uid-conflict")
        self.refusal(self.dav("PUT", path, vcard("erika-2"), who="tom"), 409, "no-uid-conflict")
        # Nobody else sees it.
        self.assertEqual(self.dav("GET", path, who="tina").status, 404)
        self.assertEqual(self.dav("GET", "contacts/tina/personal/erika.vcf").status, 404)
        self.assertEqual(self.dav("DELETE", path, who="tom",
                                  headers={"If-Match": etag}).status, 412)
        self.assertEqual(self.dav("DELETE", path, who="tom", headers={"If-Match": new}).status,
                         204)
        self.assertEqual(self.dav("GET", path, who="tom").status, 404)
        self.assertEqual(self.dav("DELETE", path, who="tom").status, 404)

    def test_bad_cards_are_refused_and_nothing_is_stored(self) -> None:
        p = "contacts/stan/personal/"
        cases = [
            ("not a card", 400, "valid-address-data"),
            (vcard("v21", version="2.1"), 400, "valid-address-data"),
            (vcard("no-uid").replace("UID:no-uid\r\n", ""), 400, "valid-address-data"),
            (vcard("no-fn").replace("FN:Erika Mustermann\r\n", ""), 400, "valid-address-data"),
            (vcard("two") + vcard("cards"), 400, "valid-address-data"),
            (vcard("bad-line", extra="no colon here\r\n"), 400, "valid-address-data"),
            (vcard("big", extra="NOTE:" + "x" * (300 * 1024) + "\r\n"), 413,
             "max-resource-size"),
        ]
        for body, status, cond in cases:
            with self.subTest(body=body[:40]):
                self.refusal(self.dav("PUT", p + "bad.vcf", body, who="stan",
                                      headers={"Content-Type": "text/vcard"}), status, cond)
        self.refusal(self.dav("PUT", p + "bad.vcf", b"\xff\xfe", who="stan",
                              headers={"Content-Type": "text/vcard"}), 400, "valid-address-data")
        self.refusal(self.dav("PUT", p + "bad.vcf", vcard("json"), who="stan",
                              headers={"Content-Type": "application/json"}), 415,
                     "supported-address-data")
        self.assertEqual(self.dav("PUT", p, vcard("book"), who="stan").status, 405)
        self.assertEqual(self.dav("PUT", "contacts/stan/elsewhere/a.vcf", vcard("e"),
                                  who="stan").status, 404)
        self.assertEqual(self.dav("DELETE", p, who="stan").status, 403)
        got = self.multistatus(self.dav("PROPFIND", p, who="stan", headers={"Depth": "1"}))
        self.assertEqual(set(got), {self.base("stan") + "personal/"})

    def test_refusals_of_others_and_strangers(self) -> None:
        # Another person's home and books: not found, read or written.
        for method, body in (("PROPFIND", None), ("GET", None), ("PUT", vcard("z"))):
            r = self.dav(method, "contacts/tom/personal/a.vcf", body, who="tina",
                         headers={"Depth": "0"})
            self.assertEqual(r.status, 404, (method, r.body))
        self.assertEqual(self.dav("PROPFIND", "contacts/tom/", headers={"Depth": "0"}).status,
                         404)
        # Another school's person, with their own valid password: not signed in here.
        other = self.other
        r = self.dav("PROPFIND", "contacts/tina/", auth=basic(f"tina@{other.slug}"),
                     headers={"Depth": "0"})
        self.assertEqual(r.status, 401)
        # Another school's path with this school's person: not signed in there either.
        r = self.dav("PROPFIND", "contacts/tina/", school=other.slug,
                     auth=basic(f"tina@{self.s.slug}"), headers={"Depth": "0"})
        self.assertEqual(r.status, 401)
        # Without contacts.read (no role at all): 403.
        r = self.dav("PROPFIND", "contacts/norole/", who="norole", headers={"Depth": "0"})
        self.assertEqual(r.status, 403, r.body)
        # No credentials, a wrong password: 401 with a Basic challenge.
        for auth in ("", basic("tina", "wrong password")):
            r = self.dav("PROPFIND", "contacts/tina/", auth=auth, headers={"Depth": "0"})
            self.assertEqual(r.status, 401)
            self.assertIn("Basic", r.headers.get("www-authenticate", ""))
        # A school without the contacts module has no contacts tree.
        r = self.dav("PROPFIND", "contacts/tina/", school=self.plain.slug,
                     headers={"Depth": "0"})
        self.assertEqual(r.status, 404, r.body)

    def test_a_deleted_person_takes_their_cards(self) -> None:
        s = self.s
        uid = s.add_person("leaver", ["teacher"], display_name="Lea Leaver")
        self.assertEqual(self.dav("PUT", "contacts/leaver/personal/a.vcf", vcard("leaver-a"),
                                  who="leaver").status, 201)
        self.dav("DELETE", "contacts/leaver/personal/a.vcf", who="leaver")
        self.assertEqual(self.dav("PUT", "contacts/leaver/personal/b.vcf", vcard("leaver-b"),
                                  who="leaver").status, 201)
        count = ("SELECT (SELECT count(*) FROM contacts.books WHERE owner_id = '{0}') + "
                 "(SELECT count(*) FROM contacts.cards WHERE owner_id = '{0}') + "
                 "(SELECT count(*) FROM contacts.tombstones WHERE owner_id = '{0}')")
        self.assertEqual(self.pg.psql(count.format(uid)).strip(), "3")
        self.assertIn("Lea Leaver", self.people("stan"))
        fixtures.check(s.raw("op", "DELETE", f"/users/{uid}"), 204, what="delete user")
        self.assertEqual(self.pg.psql(count.format(uid)).strip(), "0")
        self.assertNotIn("Lea Leaver", self.people("stan"))

    # -- reports -----------------------------------------------------------------------------

    def test_query_and_multiget(self) -> None:
        p = "contacts/ada/personal/"
        for uid, fn, mail in (("q1", "Anna Alpha", "anna@example.org"),
                              ("q2", "Bernd Beta", "bernd@example.org"),
                              ("q3", "Carla Gamma", "carla@example.net")):
            self.assertEqual(self.dav("PUT", p + f"{uid}.vcf", vcard(uid, fn, mail), who="ada",
                                      headers={"If-None-Match": "*"}).status, 201)

        def names(resp: harness.Response) -> set[str]:
            return {h.rsplit("/", 1)[1] for h in self.multistatus(resp)}

        hdr = {"Depth": "1"}
        self.assertEqual(names(self.dav("REPORT", p, query("FN", "BETA"), who="ada",
                                        headers=hdr)), {"q2.vcf"})
        self.assertEqual(names(self.dav("REPORT", p, query("EMAIL", "example.org", "ends-with"),
                                        who="ada", headers=hdr)), {"q1.vcf", "q2.vcf"})
        self.assertEqual(names(self.dav("REPORT", p, query("EMAIL", "carla@example.net",
                                                           "equals"), who="ada", headers=hdr)),
                         {"q3.vcf"})
        self.assertEqual(names(self.dav("REPORT", p, query("FN", "anna", "starts-with"),
                                        who="ada", headers=hdr)), {"q1.vcf"})
        # The people book answers the same filters.
        self.assertEqual(names(self.dav("REPORT", "contacts/ada/people/",
                                        query("FN", "stan"), who="ada", headers=hdr)),
                         {f"{self.s.ids['stan']}.vcf"})
        # What we do not evaluate is refused, not answered wrongly.
        two = query("FN", "a", more='<CR:prop-filter name="EMAIL"><CR:text-match>x'
                                    '</CR:text-match></CR:prop-filter>')
        self.refusal(self.dav("REPORT", p, two, who="ada", headers=hdr), 403,
                     "supported-filter")
        self.refusal(self.dav("REPORT", p, query("FN", "a", "sounds-like"), who="ada",
                              headers=hdr), 403, "supported-filter")
        self.assertEqual(self.dav("REPORT", p, query("TEL", "1"), who="ada",
                                  headers=hdr).status, 403)
        # multiget: each href, 4.0 when asked, 404 for what is not there or not ours.
        base = self.base("ada") + "personal/"
        hrefs = [base + "q1.vcf", base + "nope.vcf",
                 f"/dav/{self.s.slug}/contacts/tom/personal/x.vcf"]
        got = self.multistatus(self.dav("REPORT", p, multiget(hrefs, "4.0"), who="ada"))
        self.assertIn("VERSION:4.0", self.prop(got[base + "q1.vcf"], f"{CR}address-data").text)
        self.assertIn("404", ET.tostring(got[base + "nope.vcf"]).decode())
        self.assertIn("404", ET.tostring(got[hrefs[2]]).decode())
        self.refusal(self.dav("REPORT", p, multiget(hrefs, "2.1"), who="ada"), 403,
                     "supported-address-data")
        # A calendar report on an address book is refused.
        cq = ('<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" '
              'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter>'
              '<C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>')
        self.assertEqual(self.dav("REPORT", p, cq, who="ada", headers=hdr).status, 403)
        self.assertEqual(self.dav("REPORT", p, "<x", who="ada", headers=hdr).status, 400)

    def test_sync_collection(self) -> None:
        p = "contacts/pia/personal/"
        first = self.multistatus(self.dav("REPORT", p, sync(), who="pia"))
        self.assertEqual(first, {})
        r = self.dav("REPORT", p, sync(), who="pia")
        token = ET.fromstring(r.body).find(f"{D}sync-token").text
        self.dav("PUT", p + "a.vcf", vcard("sa"), who="pia")
        self.dav("PUT", p + "b.vcf", vcard("sb"), who="pia")
        r = self.dav("REPORT", p, sync(token), who="pia")
        self.assertEqual({h.rsplit("/", 1)[1] for h in self.multistatus(r)}, {"a.vcf", "b.vcf"})
        token2 = ET.fromstring(r.body).find(f"{D}sync-token").text
        pb = "contacts/sue/people/"
        r = self.dav("REPORT", pb, sync(), who="sue")
        self.assertEqual(len(self.multistatus(r)), 4)
        tok = ET.fromstring(r.body).find(f"{D}sync-token").text
        # Tokens survive a restart of the host: they are counted and hashed from the database.
        self.assertIsNone(self._exit_problem())
        self.host.start()
        self.assertEqual(self.dav("DELETE", p + "a.vcf", who="pia").status, 204)
        got = self.multistatus(self.dav("REPORT", p, sync(token2), who="pia"))
        self.assertEqual(set(got), {self.base("pia") + "personal/a.vcf"})
        self.assertIn("404", ET.tostring(got[self.base("pia") + "personal/a.vcf"]).decode())
        # getctag is the counter: it moved with each change.
        props = self.multistatus(self.dav("PROPFIND", p, PROPS, who="pia",
                                          headers={"Depth": "0"}))
        self.assertEqual(self.prop(props[self.base("pia") + "personal/"], f"{CS}getctag").text,
                         "3")
        for bad in ("urn:atrium:contacts:personal:99", "urn:atrium:contacts:people:x", "junk"):
            self.refusal(self.dav("REPORT", p, sync(bad), who="pia"), 403, "valid-sync-token")
        # The people book: the same token while nothing changes; after a change, sync afresh.
        self.assertEqual(self.multistatus(self.dav("REPORT", pb, sync(tok), who="sue")), {})
        self.s.add_member(self.gid, "sue", who="tina")
        self.addCleanup(lambda: self.s.raw("tina", "DELETE",
                                           f"/groups/{self.gid}/members/{self.s.ids['sue']}"))
        self.refusal(self.dav("REPORT", pb, sync(tok), who="sue"), 403, "valid-sync-token")
        self.assertIn("Sam Schüler", self.people("sue"))

    def test_one_change_number_per_transaction(self) -> None:
        # Every card one transaction writes or deletes shares one change number (contacts
        # 0003): a bulk write moves the book's number once, not once per card (each move was
        # a new version of the book's row, which made bulk writes quadratic).
        uid = self.s.add_person("bulk", ["student"], display_name="Bea Bulk")
        # Gone again afterwards: the people books of the other tests do not list her.
        self.addCleanup(lambda: fixtures.check(self.s.raw("op", "DELETE", f"/users/{uid}"), 204,
                                               what="delete user"))
        p = "contacts/bulk/personal/"
        self.assertEqual(self.dav("PUT", p + "a.vcf", vcard("bulk-a"), who="bulk").status, 201)

        def seq() -> int:
            return int(self.pg.psql(
                f"SELECT sync_seq FROM contacts.books WHERE owner_id = '{uid}'").strip())

        def token() -> str:
            r = self.dav("REPORT", p, sync(), who="bulk")
            return ET.fromstring(r.body).find(f"{D}sync-token").text

        def changed(since: str) -> dict[str, str]:
            got = self.multistatus(self.dav("REPORT", p, sync(since), who="bulk"))
            return {h.rsplit("/", 1)[1]: ET.tostring(r).decode() for h, r in got.items()}

        before, seq0 = token(), seq()
        self.pg.psql(
            "INSERT INTO contacts.cards (school_id, owner_id, name, uid, fn, vcard) "
            "SELECT c.school_id, c.owner_id, 'bulk-' || g || '.vcf', 'bulk-' || g, c.fn, "
            f"c.vcard FROM contacts.cards c, generate_series(1, 5) g WHERE c.owner_id = '{uid}'")
        self.assertEqual(seq(), seq0 + 1)
        self.assertEqual(set(changed(before)), {f"bulk-{g}.vcf" for g in range(1, 6)})
        after = token()
        self.assertEqual(changed(after), {})
        # A deletion of all six in one statement: one step, six tombstones.
        self.pg.psql(f"DELETE FROM contacts.cards WHERE owner_id = '{uid}'")
        self.assertEqual(seq(), seq0 + 2)
        gone = changed(after)
        self.assertEqual(set(gone), {"a.vcf"} | {f"bulk-{g}.vcf" for g in range(1, 6)})
        for r in gone.values():
            self.assertIn("404", r)
        # A savepoint rolled back takes its step with it; the next write steps again, and a
        # name written again is no longer gone.
        after = token()
        self.pg.psql(
            "BEGIN; SAVEPOINT a; INSERT INTO contacts.cards (school_id, owner_id, name, uid, fn, "
            "vcard) SELECT school_id, owner_id, 'x.vcf', 'x', 'X', 'BEGIN:VCARD' FROM "
            f"contacts.books WHERE owner_id = '{uid}'; ROLLBACK TO a; INSERT INTO contacts.cards "
            "(school_id, owner_id, name, uid, fn, vcard) SELECT school_id, owner_id, 'a.vcf', "
            f"'late', 'Late', 'BEGIN:VCARD' FROM contacts.books WHERE owner_id = '{uid}'; "
            "COMMIT;")
        self.assertEqual(seq(), seq0 + 3)
        self.assertEqual(set(changed(after)), {"a.vcf"})
        self.assertEqual(self.pg.psql(
            "SELECT count(*) FROM contacts.tombstones WHERE owner_id = "
            f"'{uid}' AND name = 'a.vcf'").strip(), "0")

if __name__ == "__main__":
    harness.main()
