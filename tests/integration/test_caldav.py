# SPDX-License-Identifier: Apache-2.0
"""test_caldav.py - CalDAV (RFC 4791, RFC 6578, RFC 6764) over raw HTTP: the protocol details
and the refusals. The real clients are in test_caldav_client.py (python3-caldav) and
test_caldav_clients.py (vdirsyncer).

Discovery (/.well-known/caldav, /dav/, the principal and its calendar-home-set), the calendar
home (every calendar the person sees, with displayname, calendar-color, getctag, sync-token,
supported-calendar-component-set and current-user-privilege-set), MKCALENDAR, PUT/GET/DELETE
with If-Match and If-None-Match, the same ETag and event as REST both ways, REPORT
calendar-query (time-range, expand), calendar-multiget, sync-collection with tokens counted in
the database. Refusals: 403 on read-only calendars, 412 on conflicts, another school's and
another person's calendars invisible, bad XML, an unknown REPORT, missing auth. (To-dos are
test_caldav_todos.py's.)
"""

from __future__ import annotations

import base64
import glob
import os
import urllib.parse
import xml.etree.ElementTree as ET

import fixtures
import harness
from test_calendar import CalendarTestCase, School

TESTDATA = os.path.join(os.path.dirname(harness.SOURCE_DIR.rstrip("/")), "shared", "testdata",
                        "ical")
if not os.path.isdir(TESTDATA):
    TESTDATA = "/work/shared/testdata/ical"

D = "{DAV:}"
C = "{urn:ietf:params:xml:ns:caldav}"
CS = "{http://calendarserver.org/ns/}"
A = "{http://apple.com/ns/ical/}"


def basic(user: str, password: str = fixtures.PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def ics(uid: str, summary: str = "Lesson", start: str = "20260504T080000Z",
        end: str = "20260504T090000Z", extra: str = "") -> str:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\n"
            f"SUMMARY:{summary}\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n")


def split_by_uid(data: str) -> dict[str, str]:
    """One calendar object resource per UID (RFC 4791 4.1), as a client splits a file before
    uploading it: the VCALENDAR's own properties and every VTIMEZONE go with each, the VEVENTs
    go with their UID (an event without UID alone, under "#<n>"). Lines stay as they are
    (folded); only the UID is read from the unfolded text."""
    lines = data.replace("\r\n", "\n").split("\n")
    head: list[str] = []
    zones: list[str] = []
    groups: dict[str, list[str]] = {}
    block: list[str] = []
    depth = 0
    kind = ""
    for line in lines:
        if not line:
            continue
        if line.startswith("BEGIN:"):
            depth += 1
            if depth == 2:
                kind, block = line[6:], []
        if depth >= 2:
            block.append(line)
        elif depth == 1 and not line.startswith(("BEGIN:VCALENDAR", "END:VCALENDAR")):
            head.append(line)
        if line.startswith("END:"):
            depth -= 1
            if depth == 1 and kind == "VTIMEZONE":
                zones += block
            elif depth == 1 and kind == "VEVENT":
                text = "\n".join(block).replace("\n ", "").replace("\n\t", "")
                uid = next((ln[4:] for ln in text.split("\n") if ln.startswith("UID:")),
                           f"#{len(groups)}")
                groups.setdefault(uid, []).extend(block)
    return {uid: "\r\n".join(["BEGIN:VCALENDAR", *head, *zones, *events, "END:VCALENDAR"])
            + "\r\n" for uid, events in groups.items()}


PROPS = """<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"
 xmlns:CS="http://calendarserver.org/ns/" xmlns:A="http://apple.com/ns/ical/"><D:prop>
 <D:resourcetype/><D:displayname/><A:calendar-color/><CS:getctag/><D:sync-token/>
 <C:supported-calendar-component-set/><D:current-user-privilege-set/>
 <D:current-user-principal/><C:calendar-home-set/><D:principal-URL/></D:prop></D:propfind>"""


def query(start: str, end: str, expand: bool = False) -> str:
    data = (f'<C:calendar-data><C:expand start="{start}" end="{end}"/></C:calendar-data>'
            if expand else "<C:calendar-data/>")
    return ('<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/>' + data +
            '</D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
            f'<C:time-range start="{start}" end="{end}"/></C:comp-filter></C:comp-filter>'
            '</C:filter></C:calendar-query>')


def sync(token: str = "") -> str:
    return ('<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>'
            f'{token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/>'
            '</D:prop></D:sync-collection>')


class CalDavTest(CalendarTestCase):
    def setUp(self) -> None:
        self.s = School(self.host, self.op_token)

    def dav(self, method: str, path: str, body: str | None = None, who: str | None = "tina",
            headers: dict[str, str] | None = None, school: str | None = None,
            auth: str | None = None,
            host: harness.Atriumd | None = None) -> harness.Response:
        hdrs = dict(headers or {})
        if auth is not None:
            hdrs["Authorization"] = auth
        elif who is not None:
            hdrs["Authorization"] = basic(who)
        if body is not None and "Content-Type" not in hdrs:
            hdrs["Content-Type"] = ("text/calendar" if body.startswith("BEGIN:")
                                    else "application/xml")
        return (host or self.host).request(method, f"/dav/{school or self.s.slug}/{path}",
                                           body, headers=hdrs)

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

    def home(self, who: str = "tina") -> str:
        return f"calendars/{who}/"

    # -- discovery ---------------------------------------------------------------------------

    def test_discovery(self) -> None:
        for wk in ("/.well-known/caldav", "/.well-known/carddav"):
            r = self.host.request("PROPFIND", wk, headers={"Depth": "0"})
            self.assertEqual((r.status, r.headers.get("location")), (301, "/dav/"))
        # /dav/ names the principal of "username@school" (and asks for one without it).
        r = self.host.request("PROPFIND", "/dav/", PROPS, headers={
            "Depth": "0", "Authorization": basic(f"tina@{self.s.slug}")})
        root = self.multistatus(r)["/dav/"]
        principal = f"/dav/{self.s.slug}/principals/tina/"
        self.assertEqual(self.prop(root, f"{D}current-user-principal")[0].text, principal)
        r = self.host.request("PROPFIND", "/dav/", PROPS, headers={"Depth": "0"})
        self.assertEqual(r.status, 401)
        self.assertIn("Basic", r.headers.get("www-authenticate", ""))
        # The principal: its homes, its URL; only one's own.
        got = self.multistatus(self.dav("PROPFIND", "principals/tina/", PROPS,
                                        headers={"Depth": "0"}))[principal]
        self.assertEqual(self.prop(got, f"{C}calendar-home-set")[0].text,
                         f"/dav/{self.s.slug}/calendars/tina/")
        self.assertEqual(self.prop(got, f"{D}principal-URL")[0].text, principal)
        self.assertIsNotNone(self.prop(got, f"{D}resourcetype").find(f"{D}principal"))
        self.assertEqual(self.dav("PROPFIND", "principals/tom/", PROPS,
                                  headers={"Depth": "0"}).status, 404)
        # The calendars tree's root lists one's own home only (clients that start there).
        root = f"/dav/{self.s.slug}/calendars/"
        self.assertEqual(set(self.multistatus(self.dav("PROPFIND", "calendars/", PROPS,
                                                       headers={"Depth": "1"}))),
                         {root, root + "tina/"})
        # Depth 1: the collection lists one's own principal only, a principal no members.
        listed = self.multistatus(self.dav("PROPFIND", "principals/", PROPS,
                                           headers={"Depth": "1"}))
        self.assertEqual(sorted(listed), [f"/dav/{self.s.slug}/principals/", principal])
        self.assertEqual(self.prop(listed[principal], f"{D}principal-URL")[0].text, principal)
        self.assertEqual(sorted(self.multistatus(self.dav("PROPFIND", "principals/tina/", PROPS,
                                                          headers={"Depth": "1"}))),
                         [principal])
        self.assertEqual(self.dav("PROPFIND", "principals/tom/", PROPS,
                                  headers={"Depth": "1"}).status, 404)
        # Where the school has mail, the principal names the school address
        # (calendar-user-address-set); without the module or a domain, nothing.
        ask = PROPS.replace("<D:principal-URL/>",
                            "<D:principal-URL/><C:calendar-user-address-set/>")

        def addresses() -> list[str] | None:
            got = self.multistatus(self.dav("PROPFIND", "principals/tina/", ask,
                                            headers={"Depth": "0"}))[principal]
            el = self.prop(got, f"{C}calendar-user-address-set")
            return None if el is None else [h.text for h in el.findall(f"{D}href")]

        self.assertIsNone(addresses())
        fixtures.enable_module(self.host, self.op_token, self.s.slug, "mail")
        self.assertIsNone(addresses())
        domain = f"{self.s.slug}.example.org"
        fixtures.check(self.host.request("PUT", f"/api/v1/schools/{self.s.slug}/mail/settings",
                                         {"domain": domain}, token=self.s.tokens["ada"]), 200, 201)
        self.assertEqual(addresses(), [f"mailto:tina@{domain}"])
        # Any resource answers current-user-principal.
        got = self.multistatus(self.dav("PROPFIND", self.home(), PROPS, headers={"Depth": "0"}))
        self.assertEqual(self.prop(got[f"/dav/{self.s.slug}/calendars/tina/"],
                                   f"{D}current-user-principal")[0].text, principal)
        opts = self.dav("OPTIONS", self.home(), who=None)
        self.assertIn("calendar-access", opts.headers.get("dav", ""))
        self.assertIn("REPORT", opts.headers.get("allow", ""))

    # -- the home ----------------------------------------------------------------------------

    def test_home_lists_what_the_person_sees(self) -> None:
        s = self.s
        mine = s.calendar("tina", "Mine", color="#112233")["id"]
        gid = s.group("7a", owner="tina", members=["sam"])
        group = s.calendar("tina", "7a", owner={"type": "group", "id": gid})["id"]
        school = s.calendar("ada", "Ferien", owner={"type": "school"})["id"]
        s.calendar("tom", "Tom's")
        base = f"/dav/{s.slug}/calendars/"
        got = self.multistatus(self.dav("PROPFIND", self.home("sam"), PROPS,
                                        who="sam", headers={"Depth": "1"}))
        self.assertEqual(set(got), {base + "sam/", base + f"sam/{group}/",
                                    base + f"sam/{school}/"})
        g = got[base + f"sam/{group}/"]
        self.assertEqual(self.prop(g, f"{D}displayname").text, "7a")
        self.assertIsNotNone(self.prop(g, f"{D}resourcetype").find(f"{C}calendar"))
        comps = [c.get("name") for c in self.prop(g, f"{C}supported-calendar-component-set")]
        self.assertEqual(comps, ["VEVENT", "VTODO"])
        privs = {p[0].tag for p in self.prop(g, f"{D}current-user-privilege-set")}
        self.assertEqual(privs, {f"{D}read"})  # a student in a group: read-only
        got = self.multistatus(self.dav("PROPFIND", self.home(), PROPS, headers={"Depth": "1"}))
        m = got[base + f"tina/{mine}/"]
        self.assertEqual(self.prop(m, f"{A}calendar-color").text, "#112233")
        self.assertIn(f"{D}write",
                      {p[0].tag for p in self.prop(m, f"{D}current-user-privilege-set")})
        self.assertTrue(self.prop(m, f"{D}sync-token").text.startswith("urn:atrium:sync:"))
        self.assertNotIn("Tom's", [self.prop(r, f"{D}displayname").text for r in got.values()])
        # PROPPATCH changes a calendar's name and colour (as REST's PATCH does) for those who
        # may change it; its other live properties are protected; it is all or nothing.
        def patch(path: str, inner: str, who: str = "tina") -> harness.Response:
            return self.dav("PROPPATCH", path, '<?xml version="1.0"?><D:propertyupdate '
                            'xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/" '
                            'xmlns:CS="http://calendarserver.org/ns/">' + inner +
                            "</D:propertyupdate>", who=who)

        def statuses(r: harness.Response) -> dict[str, str]:
            self.assertEqual(r.status, 207, r.body)
            out = {}
            for ps in ET.fromstring(r.body).iter(f"{D}propstat"):
                for el in ps.find(f"{D}prop"):
                    out[el.tag] = ps.find(f"{D}status").text.split()[1]
            return out

        def shown() -> tuple[str, str | None]:
            got = self.multistatus(self.dav("PROPFIND", self.home() + f"{mine}/", PROPS,
                                            headers={"Depth": "0"}))[base + f"tina/{mine}/"]
            color = self.prop(got, f"{A}calendar-color")
            return self.prop(got, f"{D}displayname").text, None if color is None else color.text

        mine_dav = self.home() + f"{mine}/"
        r = patch(mine_dav, "<D:set><D:prop><D:displayname>Meins \u00fc</D:displayname>"
                  "<A:calendar-color>#AABBCCFF</A:calendar-color></D:prop></D:set>")
        self.assertEqual(statuses(r), {f"{D}displayname": "200", f"{A}calendar-color": "200"})
        self.assertEqual(shown(), ("Meins \u00fc", "#aabbcc"))
        self.assertEqual(s.ok("tina", "GET", f"/calendars/{mine}")["name"], "Meins \u00fc")
        # a bad colour is 409 and undoes the name set beside it (424)
        r = patch(mine_dav, "<D:set><D:prop><D:displayname>Never</D:displayname>"
                  "<A:calendar-color>red</A:calendar-color></D:prop></D:set>")
        self.assertEqual(statuses(r), {f"{D}displayname": "424", f"{A}calendar-color": "409"})
        self.assertEqual(shown(), ("Meins \u00fc", "#aabbcc"))
        # a protected one is 403, and a dead property beside it is not kept (424)
        r = patch(mine_dav, "<D:set><D:prop><CS:getctag>1</CS:getctag><x xmlns=\"urn:x\">1</x>"
                  "</D:prop></D:set>")
        self.assertEqual(statuses(r), {f"{CS}getctag": "403", "{urn:x}x": "424"})
        # no name, an empty one: 409; the colour removed
        self.assertEqual(statuses(patch(mine_dav, "<D:set><D:prop><D:displayname/></D:prop>"
                                                  "</D:set>")), {f"{D}displayname": "409"})
        self.assertEqual(statuses(patch(mine_dav, "<D:remove><D:prop><A:calendar-color/>"
                                                  "</D:prop></D:remove>")),
                         {f"{A}calendar-color": "200"})
        self.assertEqual(shown(), ("Meins \u00fc", None))
        # a read-only calendar (a student in a group) and the home: 403
        r = patch(self.home("sam") + f"{group}/", "<D:set><D:prop><D:displayname>Mine now"
                  "</D:displayname></D:prop></D:set>", who="sam")
        self.assertEqual(statuses(r), {f"{D}displayname": "403"})
        self.assertEqual(s.ok("tina", "GET", f"/calendars/{group}")["name"], "7a")
        self.assertEqual(statuses(patch(self.home(), "<D:set><D:prop><D:displayname>Home"
                                                     "</D:displayname></D:prop></D:set>")),
                         {f"{D}displayname": "403"})
        # Another person's home, another person's calendar, another school: not found.
        self.assertEqual(self.dav("PROPFIND", self.home("tom"), headers={"Depth": "0"}).status,
                         404)
        self.assertEqual(self.dav("PROPFIND", f"calendars/sam/{mine}/", who="sam",
                                  headers={"Depth": "0"}).status, 404)
        other = School(self.host, self.op_token)
        self.assertEqual(self.dav("PROPFIND", f"calendars/tina/{mine}/", school=other.slug,
                                  headers={"Depth": "0"}).status, 404)
        # Without credentials, or a wrong password: 401 with a Basic challenge.
        for auth in ("", basic("tina", "wrong password")):
            r = self.dav("PROPFIND", self.home(), auth=auth, headers={"Depth": "0"})
            self.assertEqual(r.status, 401)
            self.assertIn("Basic", r.headers.get("www-authenticate", ""))
        # A school without the calendar module has no calendars tree.
        plain = School(self.host, self.op_token, modules=("groups",))
        self.assertEqual(self.dav("PROPFIND", "calendars/tina/", school=plain.slug,
                                  headers={"Depth": "0"}).status, 404)

    # -- writing -----------------------------------------------------------------------------

    def test_mkcalendar_put_get_delete_and_rest_both_ways(self) -> None:
        s = self.s
        body = ('<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" '
                'xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/">'
                '<D:set><D:prop><D:displayname>Privat</D:displayname>'
                '<A:calendar-color>#AA00CCFF</A:calendar-color></D:prop></D:set>'
                '</C:mkcalendar>')
        self.assertEqual(self.dav("MKCALENDAR", self.home() + "privat/", body).status, 201)
        self.assertEqual(self.dav("MKCALENDAR", self.home() + "privat/", body).status, 405)
        self.assertEqual(self.dav("MKCALENDAR", "calendars/tom/x/", body).status, 409)
        cal = [c for c in s.ok("tina", "GET", "/calendars")["items"] if c["name"] == "Privat"][0]
        self.assertEqual(cal["color"], "#aa00cc")
        path = self.home() + "privat/lesson-1.ics"
        created = self.dav("PUT", path, ics("lesson-1"), headers={"If-None-Match": "*"})
        self.assertEqual(created.status, 201, created.body)
        self.assertEqual(self.dav("PUT", path, ics("lesson-1"),
                                  headers={"If-None-Match": "*"}).status, 412)
        got = self.dav("GET", path)
        self.assertEqual(got.status, 200)
        self.assertIn("SUMMARY:Lesson", got.body.decode())
        tag = got.headers.get("etag")
        # A client's conditional GET: 304 with the ETag while it matches. The calendar
        # itself, opened in a browser: a plain list of its resources.
        same = self.dav("GET", path, headers={"If-None-Match": f'"x", {tag}'})
        self.assertEqual((same.status, same.body, same.headers.get("etag")), (304, b"", tag))
        self.assertEqual(self.dav("GET", path, headers={"If-None-Match": '"x"'}).status, 200)
        listing = self.dav("GET", self.home() + "privat/")
        self.assertEqual(listing.status, 200)
        self.assertTrue(listing.headers.get("content-type", "").startswith("text/html"))
        self.assertIn("lesson-1.ics", listing.body.decode())
        # REST shows the same event with the same ETag ...
        events = s.ok("tina", "GET", f"/calendars/{cal['id']}/events?from=2026-05-01&to=2026-06-01")
        self.assertEqual(len(events["items"]), 1)
        eid = events["items"][0]["event_id"]
        rest = s.req("tina", "GET", f"/calendars/{cal['id']}/events/{eid}")
        self.assertEqual(rest.headers.get("etag"), tag)
        # ... a REST edit is what CalDAV reads next, and the old ETag no longer matches.
        s.ok("tina", "PATCH", f"/calendars/{cal['id']}/events/{eid}", {"summary": "Edited"},
             headers={"If-Match": tag})
        self.assertIn("SUMMARY:Edited", self.dav("GET", path).body.decode())
        stale = self.dav("PUT", path, ics("lesson-1", "Lost"), headers={"If-Match": tag})
        self.assertEqual(stale.status, 412)
        new_tag = self.dav("GET", path).headers.get("etag")
        self.assertEqual(self.dav("PUT", path, ics("lesson-1", "CalDAV edit"),
                                  headers={"If-Match": new_tag}).status, 204)
        self.assertEqual(s.ok("tina", "GET", f"/calendars/{cal['id']}/events/{eid}")["summary"],
                         "CalDAV edit")
        # An event made over REST is a resource "<id>.ics".
        made = s.event(cal["id"], start="2026-05-05T08:00:00Z", end="2026-05-05T09:00:00Z")
        rest_path = self.home() + f"privat/{made['id']}.ics"
        self.assertEqual(self.dav("GET", rest_path).headers.get("etag"), made["etag"])
        # Refusals: another UID under the same name, a UID already used, two UIDs, not
        # iCalendar, an invalid event. (A VTODO is stored: test_caldav_todos.py.)
        self.assertEqual(self.dav("PUT", path, ics("other-uid")).status, 409)
        self.assertEqual(self.dav("PUT", self.home() + "privat/dup.ics", ics("lesson-1")).status,
                         409)
        two = ics("a").replace("END:VCALENDAR\r\n", "") + ics("b").split("VERSION:2.0\r\n", 1)[1]
        self.assertEqual(self.dav("PUT", self.home() + "privat/two.ics", two).status, 400)
        todo = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:t1\r\n"
                "SUMMARY:Korrigieren\r\nEND:VTODO\r\nEND:VCALENDAR\r\n")
        self.assertEqual(self.dav("PUT", self.home() + "privat/t1.ics", todo).status, 201)
        self.assertEqual(self.dav("PUT", self.home() + "privat/x.ics", "hello",
                                  headers={"Content-Type": "text/plain"}).status, 400)
        bad = ics("bad", start="20260504T090000Z", end="20260504T080000Z")
        self.assertIn(self.dav("PUT", self.home() + "privat/bad.ics", bad).status, (400, 422))
        self.assertEqual(self.dav("PUT", self.home() + "privat/x.ics", ics("x"),
                                  headers={"Content-Type": "application/json"}).status, 415)
        # DELETE with a stale If-Match: 412; with the right one: gone for REST too.
        self.assertEqual(self.dav("DELETE", path, headers={"If-Match": tag}).status, 412)
        cur = self.dav("GET", path).headers.get("etag")
        self.assertEqual(self.dav("DELETE", path, headers={"If-Match": cur}).status, 204)
        self.assertProblem(s.req("tina", "GET", f"/calendars/{cal['id']}/events/{eid}"), 404)
        self.assertEqual(self.dav("GET", path).status, 404)
        # A personal calendar is deleted with DELETE.
        self.assertEqual(self.dav("DELETE", self.home() + "privat/").status, 204)
        self.assertProblem(s.req("tina", "GET", f"/calendars/{cal['id']}"), 404)

    def test_read_only_calendars(self) -> None:
        s = self.s
        gid = s.group("8b", owner="tina", members=["sam"])
        cal = s.calendar("tina", "8b", owner={"type": "group", "id": gid})["id"]
        school = s.calendar("ada", "Schule", owner={"type": "school"})["id"]
        ev = s.event(cal, start="2026-05-04T08:00:00Z", end="2026-05-04T09:00:00Z")
        for target in (f"calendars/sam/{cal}/", f"calendars/sam/{school}/"):
            with self.subTest(target=target):
                self.assertEqual(self.dav("PUT", target + "new.ics", ics("n"), who="sam").status,
                                 403)
        self.assertEqual(self.dav("DELETE", f"calendars/sam/{cal}/{ev['id']}.ics",
                                  who="sam").status, 403)
        self.assertEqual(self.dav("GET", f"calendars/sam/{cal}/{ev['id']}.ics",
                                  who="sam").status, 200)
        # Group and school calendars are not deleted over CalDAV, even by who may edit them.
        self.assertEqual(self.dav("DELETE", f"calendars/tina/{cal}/").status, 403)
        self.assertEqual(self.dav("DELETE", "calendars/tina/").status, 403)

    # -- reports -----------------------------------------------------------------------------

    def test_reports(self) -> None:
        s = self.s
        cal = s.calendar("tina", "Reports")["id"]
        base = self.home() + f"{cal}/"
        href = f"/dav/{s.slug}/{base}"
        weekly = ics("weekly", "Mathe", extra="RRULE:FREQ=WEEKLY;COUNT=5\r\n")
        self.assertEqual(self.dav("PUT", base + "weekly.ics", weekly).status, 201)
        self.assertEqual(self.dav("PUT", base + "june.ics",
                                  ics("june", "Fest", "20260620T100000Z",
                                      "20260620T120000Z")).status, 201)
        # calendar-query: a week without the June event; the series has an instance in it.
        got = self.multistatus(self.dav("REPORT", base, query("20260511T000000Z",
                                                              "20260518T000000Z"),
                                        headers={"Depth": "1"}))
        self.assertEqual(set(got), {href + "weekly.ics"})
        data = self.prop(got[href + "weekly.ics"], f"{C}calendar-data").text
        self.assertIn("RRULE:FREQ=WEEKLY;COUNT=5", data)
        # ... after the series ends (June 1st): only June.
        got = self.multistatus(self.dav("REPORT", base, query("20260615T000000Z",
                                                              "20260701T000000Z")))
        self.assertEqual(set(got), {href + "june.ics"})
        # expand: the instances, in UTC, without the rule.
        got = self.multistatus(self.dav("REPORT", base, query("20260504T000000Z",
                                                              "20260519T000000Z", True)))
        data = self.prop(got[href + "weekly.ics"], f"{C}calendar-data").text
        self.assertNotIn("RRULE", data)
        self.assertEqual(data.count("BEGIN:VEVENT"), 3)
        self.assertIn("RECURRENCE-ID:20260511T080000Z", data)
        # calendar-multiget: two found, one missing.
        mg = ('<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" '
              'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/>'
              f'</D:prop><D:href>{href}weekly.ics</D:href><D:href>{href}june.ics</D:href>'
              f'<D:href>{href}missing.ics</D:href></C:calendar-multiget>')
        got = self.multistatus(self.dav("REPORT", base, mg))
        self.assertEqual(set(got), {href + n for n in ("weekly.ics", "june.ics", "missing.ics")})
        self.assertIn("404", got[href + "missing.ics"].find(f"{D}status").text)
        self.assertIn("SUMMARY:Fest",
                      self.prop(got[href + "june.ics"], f"{C}calendar-data").text)
        # Refusals: an unknown report, a filter we do not evaluate, bad XML, a DOCTYPE.
        unknown = '<?xml version="1.0"?><D:expand-property xmlns:D="DAV:"/>'
        r = self.dav("REPORT", base, unknown)
        self.assertEqual(r.status, 403)
        self.assertIn("supported-report", r.body.decode())
        undefined = query("20260501T000000Z", "20260601T000000Z").replace(
            "<C:time-range", '<C:prop-filter name="LOCATION"><C:is-not-defined/>'
            "</C:prop-filter><C:time-range")
        self.assertIn("supported-filter", self.dav("REPORT", base, undefined).body.decode())
        # A prop-filter on UID (how clients find an event by UID), case-insensitive.
        by_uid = query("20260501T000000Z", "20260701T000000Z").replace(
            "<C:time-range", '<C:prop-filter name="UID"><C:text-match>JUNE</C:text-match>'
            "</C:prop-filter><C:time-range")
        self.assertEqual(set(self.multistatus(self.dav("REPORT", base, by_uid))),
                         {href + "june.ics"})
        for body in ("<not-xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>',
                     query("2026", "20260601T000000Z"), ""):
            with self.subTest(body=body[:20]):
                self.assertEqual(self.dav("REPORT", base, body or None).status, 400)
        self.assertEqual(self.dav("REPORT", self.home(), query("20260501T000000Z",
                                                               "20260601T000000Z")).status, 403)

    def test_every_testdata_file_put_and_read_back(self) -> None:
        files = sorted(glob.glob(os.path.join(TESTDATA, "*.ics")))
        self.assertGreaterEqual(len(files), 19, TESTDATA)
        refused = {"malformed-issue_1081_invalid_rrule_freq.ics": "RRULE",
                   "malformed-issue_1081_invalid_start_and_end.ics": "DTSTART"}
        for n, path in enumerate(files):
            name = os.path.basename(path)
            with self.subTest(file=name):
                with open(path, encoding="utf-8") as f:
                    parts = split_by_uid(f.read())
                self.assertTrue(parts)
                cal = f"f{n}"
                self.assertEqual(self.dav("MKCALENDAR", self.home() + cal + "/").status, 201)
                sent = {}
                for i, (uid, text) in enumerate(sorted(parts.items())):
                    put = self.dav("PUT", self.home() + f"{cal}/{i}.ics", text,
                                   headers={"If-None-Match": "*"})
                    if name in refused:
                        self.assertEqual(put.status, 422, put.body)
                        self.assertIn(refused[name], put.json()["detail"])
                        continue
                    self.assertEqual(put.status, 201, (uid, put.body[:300]))
                    sent[f"{i}.ics"] = (uid, text.count("BEGIN:VEVENT"))
                # Read back in one calendar-multiget: every event, with as many VEVENTs
                # (master and overrides) as were sent, under its UID.
                href = f"/dav/{self.s.slug}/{self.home()}{cal}/"
                mg = ('<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" '
                      'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/>'
                      '<C:calendar-data/></D:prop>' +
                      "".join(f"<D:href>{href}{r}</D:href>" for r in sent) +
                      "</C:calendar-multiget>")
                got = self.multistatus(self.dav("REPORT", self.home() + cal + "/", mg)) \
                    if sent else {}
                self.assertEqual(set(got), {href + r for r in sent})
                for r, (uid, vevents) in sent.items():
                    data = self.prop(got[href + r], f"{C}calendar-data").text
                    self.assertEqual(data.count("BEGIN:VEVENT"), vevents, r)
                    if not uid.startswith("#"):
                        self.assertIn(uid[:40], data.replace("\r\n ", ""))

    def test_sync_collection_and_ctag(self) -> None:
        s = self.s
        cal = s.calendar("tina", "Sync")["id"]
        base = self.home() + f"{cal}/"
        href = f"/dav/{s.slug}/{base}"

        def state() -> tuple[str, str]:
            got = self.multistatus(self.dav("PROPFIND", base, PROPS, headers={"Depth": "0"}))
            r = got[href]
            return self.prop(r, f"{CS}getctag").text, self.prop(r, f"{D}sync-token").text

        ctag0, token0 = state()
        for n in ("a", "b"):
            self.assertEqual(self.dav("PUT", base + f"{n}.ics", ics(n)).status, 201)
        first = ET.fromstring(self.dav("REPORT", base, sync()).body)
        token1 = first.find(f"{D}sync-token").text
        self.assertEqual(len(first.findall(f"{D}response")), 2)
        self.assertNotEqual(state()[0], ctag0)
        # Nothing changed: nothing listed, the same token.
        same = ET.fromstring(self.dav("REPORT", base, sync(token1)).body)
        self.assertEqual((same.findall(f"{D}response"), same.find(f"{D}sync-token").text),
                         ([], token1))
        # A change over REST and a deletion over CalDAV, since token1.
        ev = s.event(cal, start="2026-05-07T08:00:00Z", end="2026-05-07T09:00:00Z")
        self.assertEqual(self.dav("DELETE", base + "a.ics").status, 204)
        got = self.multistatus(self.dav("REPORT", base, sync(token1)))
        self.assertEqual(set(got), {href + f"{ev['id']}.ics", href + "a.ics"})
        self.assertIn("404", got[href + "a.ics"].find(f"{D}status").text)
        # The tokens are the database's: a freshly started atriumd (as after a restart, or
        # another host behind the same balancer) knows them. (A second process rather than a
        # restart of the shared one, which the sanitizer build checks when the class ends.)
        token2 = state()[1]
        fresh = harness.Atriumd(self.pg)
        self.addCleanup(fresh.cleanup)
        fresh.start()
        got = self.multistatus(self.dav("REPORT", base, sync(token0), host=fresh))
        self.assertEqual(set(got), {href + "b.ics", href + f"{ev['id']}.ics", href + "a.ics"})
        self.assertEqual(self.multistatus(self.dav("REPORT", base, sync(token2), host=fresh)),
                         {})
        # A token of another calendar, from the future or made up: 403 valid-sync-token.
        other = s.calendar("tina", "Other")["id"]
        for bad in (token2.replace(cal, other), token2 + "9", "urn:atrium:sync:x"):
            with self.subTest(token=bad):
                r = self.dav("REPORT", base, sync(bad))
                self.assertEqual(r.status, 403)
                self.assertIn("valid-sync-token", r.body.decode())
        # The calendar is looked up with the identity check, in one round trip: a token that
        # is no longer valid, or one under another person's name, gets 401 and nothing of it;
        # another person's path gets 404 for someone whose token is valid.
        app = fixtures.check(self.host.request("POST", "/api/v1/auth/tokens", {"name": "phone"},
                                               token=s.tokens["tina"]), 201).json()
        same = self.dav("REPORT", base, sync(token2), auth=basic("tina", app["token"]))
        self.assertEqual(self.multistatus(same), {})
        r = self.dav("REPORT", base, sync(token0), auth=basic("sam", app["token"]))
        self.assertEqual(r.status, 401)
        self.assertNotIn(b".ics", r.body)
        self.assertEqual(self.dav("REPORT", base, sync(token0), who="sam").status, 404)
        fixtures.check(self.host.request("DELETE", f"/api/v1/auth/sessions/{app['id']}",
                                         token=s.tokens["tina"]), 204)
        r = self.dav("REPORT", base, sync(token0), auth=basic("tina", app["token"]))
        self.assertEqual(r.status, 401)
        self.assertNotIn(b".ics", r.body)
        self.assertIn("Basic", r.headers.get("www-authenticate", ""))

    def test_one_change_number_per_transaction(self) -> None:
        # Every row one transaction writes shares one change number (calendar 0007): an
        # import of many events moves the calendar's number once, not once per event (each
        # move was a new version of the calendar's row, which made bulk writes quadratic).
        s = self.s
        cal = s.calendar("tina", "Bulk")["id"]
        base = self.home() + f"{cal}/"
        href = f"/dav/{s.slug}/{base}"

        def seq() -> int:
            return int(self.pg.psql(
                f"SELECT sync_seq FROM calendar.calendars WHERE id = '{cal}'").strip())

        def token() -> str:
            return ET.fromstring(self.dav("REPORT", base, sync()).body).find(
                f"{D}sync-token").text

        before, seq0 = token(), seq()
        body = "".join(ics(f"bulk-{n}").replace("END:VCALENDAR\r\n", "")
                       .replace("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n", "")
                       for n in range(5))
        body = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + body
                + "END:VCALENDAR\r\n")
        resp = s.req("tina", "POST", f"/calendars/{cal}/import", body.encode(),
                     headers={"Content-Type": "text/calendar"})
        self.assertEqual(fixtures.check(resp, 200).json()["created"], 5)
        self.assertEqual(seq(), seq0 + 1)
        got = self.multistatus(self.dav("REPORT", base, sync(before)))
        self.assertEqual(len(got), 5)
        after = token()
        self.assertEqual(self.multistatus(self.dav("REPORT", base, sync(after))), {})
        # A deletion of all of them in one statement: one step, five tombstones.
        self.pg.psql(f"DELETE FROM calendar.events WHERE calendar_id = '{cal}'")
        self.assertEqual(seq(), seq0 + 2)
        got = self.multistatus(self.dav("REPORT", base, sync(after)))
        self.assertEqual(len(got), 5)
        for r in got.values():
            self.assertIn("404", r.find(f"{D}status").text)
        # Another change to the calendar's row in the same transaction (a rename) does not
        # count as the transaction's step: the event written after it still gets a new number
        # and is listed.
        after = token()
        self.pg.psql(
            "BEGIN; UPDATE calendar.calendars SET name = 'Bulk renamed' "
            f"WHERE id = '{cal}'; INSERT INTO calendar.events (school_id, calendar_id, uid, "
            f"ical, range_start, range_end) SELECT school_id, id, 'late', '', now(), now() "
            f"FROM calendar.calendars WHERE id = '{cal}'; COMMIT;")
        self.assertEqual(seq(), seq0 + 3)
        got = self.multistatus(self.dav("REPORT", base, sync(after)))
        self.assertEqual(len(got), 1)
        # A savepoint rolled back takes its step with it; the next write steps again.
        self.pg.psql(
            "BEGIN; SAVEPOINT a; DELETE FROM calendar.events WHERE uid = 'late'; "
            "ROLLBACK TO a; UPDATE calendar.events SET ical = 'x' WHERE uid = 'late'; COMMIT;")
        self.assertEqual(seq(), seq0 + 4)
        self.assertEqual(self.pg.psql(
            "SELECT count(*) FROM calendar.dav_tombstones t JOIN calendar.events e "
            "ON e.calendar_id = t.calendar_id AND t.name = e.id::text || '.ics' "
            "WHERE e.uid = 'late'").strip(), "0")
        self.assertIn(href, self.multistatus(self.dav("PROPFIND", base, PROPS,
                                                      headers={"Depth": "0"})))

    def test_old_tombstones_are_pruned(self) -> None:
        s = self.s
        cal = s.calendar("tina", "Pruned")["id"]
        base = self.home() + f"{cal}/"
        href = f"/dav/{s.slug}/{base}"
        for n in ("x", "y", "z"):
            self.assertEqual(self.dav("PUT", base + f"{n}.ics", ics(n)).status, 201)
        before = ET.fromstring(self.dav("REPORT", base, sync()).body).find(f"{D}sync-token").text
        self.assertEqual(self.dav("DELETE", base + "x.ics").status, 204)
        after = ET.fromstring(self.dav("REPORT", base, sync()).body).find(f"{D}sync-token").text
        self.assertEqual(self.dav("DELETE", base + "y.ics").status, 204)
        # x was deleted long ago (as if), y just now: only x's tombstone goes
        self.pg.psql("UPDATE calendar.dav_tombstones SET gone_at = now() - interval '91 days' "
                     f"WHERE calendar_id = '{cal}' AND name = 'x.ics'")
        proc = self.host.run(["calendar", "prune"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("pruned 1 tombstones", proc.stdout)
        self.assertEqual(self.pg.psql("SELECT string_agg(name, ',') FROM calendar.dav_tombstones "
                                      f"WHERE calendar_id = '{cal}'").strip(), "y.ics")
        # a token from before the pruned deletion may have missed it: sync afresh
        r = self.dav("REPORT", base, sync(before))
        self.assertEqual(r.status, 403)
        self.assertIn("valid-sync-token", r.body.decode())
        # one from after it still learns of what came since, y's deletion included
        got = self.multistatus(self.dav("REPORT", base, sync(after)))
        self.assertEqual(set(got), {href + "y.ics"})
        self.assertIn("404", got[href + "y.ics"].find(f"{D}status").text)
        # ... and a fresh sync lists what is there
        got = self.multistatus(self.dav("REPORT", base, sync()))
        self.assertEqual(set(got), {href + "z.ics"})
        # nothing older left: nothing more to prune; bad arguments
        self.assertIn("pruned 0 tombstones", self.host.run(["calendar", "prune"]).stdout)
        self.assertEqual(self.host.run(["calendar", "prune", "now"]).returncode, 2)


if __name__ == "__main__":
    harness.main()
