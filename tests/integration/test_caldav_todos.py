# SPDX-License-Identifier: Apache-2.0
"""test_caldav_todos.py - to-dos (VTODO) over CalDAV and REST (issue #19; docs/CALDAV.md).

Raw HTTP: supported-calendar-component-set, PUT/GET/DELETE of a to-do with If-Match and
If-None-Match, its ETag and REST's, calendar-query with comp-filter VTODO and a time-range
(RFC 4791 9.9), pending to-dos (is-not-defined, negated text-matches, RFC 4791 7.8.9) and
the 403 supported-filter for what is not evaluated, calendar-multiget, sync-collection naming changed and deleted to-dos, the ctag
moving; one namespace of names and UIDs for events and to-dos; a to-do never in the event
window, the REST event routes, the export or a feed. python3-caldav (caldav_todo_client.py)
saves, searches, completes and deletes to-dos with sync tokens. REST: the to-do routes and their
refusals (bad JSON, wrong types, unknown fields, no auth, wrong role, another school's ids,
oversized input, stale If-Match). One host for the file.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET

import fixtures
import harness
from test_calendar import CalendarTestCase, School

D = "{DAV:}"
C = "{urn:ietf:params:xml:ns:caldav}"
CS = "{http://calendarserver.org/ns/}"
CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "caldav_todo_client.py")
PYTHON = "/usr/bin/python3"


def basic(user: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{fixtures.PASSWORD}".encode()).decode()


def vtodo(uid: str, summary: str = "Korrigieren", extra: str = "") -> str:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\n"
            f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:{summary}\r\n{extra}"
            "END:VTODO\r\nEND:VCALENDAR\r\n")


def vevent(uid: str) -> str:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260504T080000Z\r\n"
            "DTEND:20260504T090000Z\r\nSUMMARY:Lesson\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def todo_query(start: str | None = None, end: str | None = None, comp: str = "VTODO") -> str:
    rng = f'<C:time-range start="{start}" end="{end}"/>' if start else ""
    return ('<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/>'
            f'</D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="{comp}">'
            f'{rng}</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>')


def sync(token: str = "") -> str:
    return ('<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>'
            f'{token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/>'
            '</D:prop></D:sync-collection>')


PROPS = ('<?xml version="1.0"?><D:propfind xmlns:D="DAV:" '
         'xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/">'
         '<D:prop><C:supported-calendar-component-set/><CS:getctag/><D:sync-token/></D:prop>'
         '</D:propfind>')


class Small(School):
    """Another school with one person (every person costs a password hash)."""

    PEOPLE = ("tina",)


class Todos(CalendarTestCase):
    def setUp(self) -> None:
        self.s = School(self.host, self.op_token)

    # -- helpers ---------------------------------------------------------------------------

    def dav(self, method: str, path: str, body: str | None = None, who: str | None = "tina",
            headers: dict[str, str] | None = None, school: str | None = None
            ) -> harness.Response:
        hdrs = dict(headers or {})
        if who is not None:
            hdrs["Authorization"] = basic(who)
        if body is not None and "Content-Type" not in hdrs:
            hdrs["Content-Type"] = ("text/calendar" if body.startswith("BEGIN:")
                                    else "application/xml")
        return self.host.request(method, f"/dav/{school or self.s.slug}/{path}", body,
                                 headers=hdrs)

    def multistatus(self, resp: harness.Response) -> dict[str, ET.Element]:
        self.assertEqual(resp.status, 207, resp.body)
        return {urllib.parse.unquote(r.find(f"{D}href").text): r
                for r in ET.fromstring(resp.body).findall(f"{D}response")}

    @staticmethod
    def status_of(r: ET.Element) -> str:
        st = r.find(f"{D}status")
        return st.text if st is not None else r.find(f"{D}propstat/{D}status").text

    def names(self, resp: harness.Response) -> dict[str, str]:
        """name -> "200" or "404" of a multistatus."""
        out = {}
        for href, r in self.multistatus(resp).items():
            out[href.rsplit("/", 1)[1]] = "404" if "404" in self.status_of(r) else "200"
        return out

    def collection(self, path: str) -> tuple[list[str], str, str]:
        r = self.multistatus(self.dav("PROPFIND", path, PROPS, headers={"Depth": "0"}))
        el = next(iter(r.values())).find(f"{D}propstat/{D}prop")
        return ([c.get("name") for c in el.find(f"{C}supported-calendar-component-set")],
                el.find(f"{CS}getctag").text, el.find(f"{D}sync-token").text)

    # -- CalDAV ----------------------------------------------------------------------------

    def test_caldav_todo_resource(self) -> None:
        s = self.s
        cal = s.calendar("tina", "Aufgaben")["id"]
        home = f"calendars/tina/{cal}/"
        comps, ctag0, _ = self.collection(home)
        self.assertEqual(comps, ["VEVENT", "VTODO"])
        body = vtodo("todo-1", extra="DUE;VALUE=DATE:20260515\r\nPRIORITY:1\r\n"
                     "STATUS:NEEDS-ACTION\r\nX-ATRIUM-TEST:kept\r\nBEGIN:VALARM\r\n"
                     "ACTION:DISPLAY\r\nDESCRIPTION:Bald\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n")
        path = home + "todo-1.ics"
        r = self.dav("PUT", path, body, headers={"If-None-Match": "*"})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(self.dav("PUT", path, body, headers={"If-None-Match": "*"}).status, 412)
        got = self.dav("GET", path)
        self.assertEqual(got.status, 200)
        for kept in ("BEGIN:VTODO", "X-ATRIUM-TEST:kept", "BEGIN:VALARM", "PRIORITY:1"):
            self.assertIn(kept, got.text)
        etag = got.headers.get("etag")
        _, ctag1, _ = self.collection(home)
        self.assertGreater(int(ctag1), int(ctag0))
        # The one REST shows, with the same ETag.
        items = s.ok("tina", "GET", f"/calendars/{cal}/todos")["items"]
        self.assertEqual(len(items), 1)
        t = items[0]
        self.assertEqual((t["uid"], t["summary"], t["due"], t["all_day"], t["priority"],
                          t["status"], t["etag"], t["dav_name"]),
                         ("todo-1", "Korrigieren", "2026-05-15", True, 1, "needs-action", etag,
                          "todo-1.ics"))
        # Never an event: not in the window, the event routes, the export or a feed.
        window = "from=2026-05-01T00:00:00Z&to=2026-06-01T00:00:00Z"
        self.assertEqual(s.ok("tina", "GET", f"/calendars/{cal}/events?{window}")["items"], [])
        self.assertEqual(s.ok("tina", "GET", f"/events?{window}")["items"], [])
        self.assertProblem(s.req("tina", "GET", f"/calendars/{cal}/events/{t['id']}"), 404)
        self.assertNotIn("VTODO", s.req("tina", "GET", f"/calendars/{cal}/export.ics").text)
        feed = s.ok("tina", "POST", f"/calendars/{cal}/subscriptions", {}, status=(201,))
        feed_path = urllib.parse.urlparse(feed["url"]).path
        self.assertNotIn("VTODO", self.host.request("GET", feed_path).text)
        # Changed with If-Match: the right tag, then a stale one.
        done = body.replace("STATUS:NEEDS-ACTION", "STATUS:COMPLETED\r\nCOMPLETED:20260510T120000Z"
                            "\r\nPERCENT-COMPLETE:100")
        self.assertEqual(self.dav("PUT", path, done, headers={"If-Match": '"stale"'}).status, 412)
        self.assertEqual(self.dav("PUT", path, done, headers={"If-Match": etag}).status, 204)
        t = s.ok("tina", "GET", f"/calendars/{cal}/todos/{t['id']}")
        self.assertEqual((t["status"], t["completed"], t["percent_complete"]),
                         ("completed", "2026-05-10T12:00:00Z", 100))
        # One namespace for events and to-dos: names and UIDs.
        self.assertEqual(self.dav("PUT", home + "ev.ics", vevent("ev-1")).status, 201)
        self.assertEqual(self.dav("PUT", home + "ev.ics", vtodo("todo-2")).status, 409)
        self.assertEqual(self.dav("PUT", home + "x.ics", vtodo("ev-1")).status, 409)
        self.assertEqual(self.dav("PUT", home + "y.ics", vevent("todo-1")).status, 409)
        self.assertEqual(self.dav("PUT", home + "z.ics", vtodo("todo-1")).status, 409)
        self.assertEqual(self.dav("PUT", path, vtodo("other-uid")).status, 409)
        # Bad to-dos: mixed components, a VEVENT's STATUS, DUE before DTSTART, bad DURATION.
        mixed = vtodo("m").replace("END:VCALENDAR", vevent("m2").split("VERSION:2.0\r\n")[1]
                                   .split("PRODID:-//test//EN\r\n")[1].replace(
                                       "END:VCALENDAR\r\n", "") + "END:VCALENDAR")
        self.assertEqual(self.dav("PUT", home + "m.ics", mixed).status, 400)
        self.assertEqual(self.dav("PUT", home + "b.ics",
                                  vtodo("b", extra="STATUS:CONFIRMED\r\n")).status, 422)
        self.assertEqual(self.dav("PUT", home + "b.ics", vtodo(
            "b", extra="DTSTART:20260510T000000Z\r\nDUE:20260501T000000Z\r\n")).status, 422)
        self.assertEqual(self.dav("PUT", home + "b.ics", vtodo(
            "b", extra="DTSTART;TZID=Mars/Olympus:20260510T000000\r\n")).status, 422)
        self.assertEqual(self.dav("PUT", home + "b.ics", vtodo(
            "b", extra="DUE:20260510T000000Z\r\nDURATION:PT1H\r\n")).status, 422)
        self.assertEqual(self.dav("GET", home + "b.ics").status, 404)
        # Read-only: a student on the school's calendar; another school's: 404.
        school_cal = s.calendar("ada", "Schule", owner={"type": "school"})["id"]
        self.assertEqual(self.dav("PUT", f"calendars/sam/{school_cal}/t.ics", vtodo("s1"),
                                  who="sam").status, 403)
        # Another school's tina (same name and password) does not see this school's ids.
        other = Small(self.host, self.op_token)
        self.assertEqual(self.dav("GET", path, school=other.slug).status, 404)
        self.assertEqual(self.dav("PUT", f"calendars/tina/{cal}/o.ics", vtodo("o1"),
                                  school=other.slug).status, 404)
        ocal = other.calendar("tina", "Fremd")["id"]
        self.assertEqual(self.dav("PROPFIND", f"calendars/tina/{ocal}/",
                                  headers={"Depth": "0"}).status, 404)
        # DELETE: stale If-Match 412, then gone for REST too.
        etag = self.dav("GET", path).headers.get("etag")
        self.assertEqual(self.dav("DELETE", path, headers={"If-Match": '"stale"'}).status, 412)
        self.assertEqual(self.dav("DELETE", path, headers={"If-Match": etag}).status, 204)
        self.assertEqual(self.dav("GET", path).status, 404)
        self.assertEqual(self.dav("DELETE", path).status, 404)
        self.assertEqual(s.ok("tina", "GET", f"/calendars/{cal}/todos")["items"], [])
        # The event stays.
        self.assertEqual(self.dav("GET", home + "ev.ics").status, 200)

    def test_caldav_todo_reports(self) -> None:
        s = self.s
        cal = s.calendar("tina", "Berichte")["id"]
        home = f"calendars/tina/{cal}/"
        todos = {
            "due-may": "DUE:20260515T100000Z\r\n",
            "due-june": "DUE:20260615T100000Z\r\n",
            "start-may": "DTSTART:20260520T100000Z\r\n",
            "span": "DTSTART:20260401T000000Z\r\nDUE:20260701T000000Z\r\n",
            "done-may": "COMPLETED:20260503T100000Z\r\n",
            "undated": "",
            "duration": "DTSTART:20260430T230000Z\r\nDURATION:PT2H\r\n",
        }
        for uid, extra in todos.items():
            self.assertEqual(self.dav("PUT", home + f"{uid}.ics", vtodo(uid, extra=extra)).status,
                             201)
        self.assertEqual(self.dav("PUT", home + "ev.ics", vevent("ev")).status, 201)
        _, _, token = self.collection(home)
        # calendar-query: to-dos only, and by RFC 4791 9.9's table for VTODO.
        got = self.names(self.dav("REPORT", home, todo_query(), headers={"Depth": "1"}))
        self.assertEqual(sorted(got), sorted(f"{u}.ics" for u in todos))
        got = self.names(self.dav("REPORT", home, todo_query("20260501T000000Z",
                                                             "20260601T000000Z"),
                                  headers={"Depth": "1"}))
        self.assertEqual(sorted(got), ["done-may.ics", "due-may.ics", "duration.ics",
                                       "span.ics", "start-may.ics", "undated.ics"])
        got = self.names(self.dav("REPORT", home, todo_query("20260601T000000Z",
                                                             "20260602T000000Z"),
                                  headers={"Depth": "1"}))
        self.assertEqual(sorted(got), ["span.ics", "undated.ics"])
        # Events are not to-dos, and the reverse.
        got = self.names(self.dav("REPORT", home, todo_query("20260501T000000Z",
                                                             "20260601T000000Z", "VEVENT"),
                                  headers={"Depth": "1"}))
        self.assertEqual(list(got), ["ev.ics"])
        # Pending to-dos as RFC 4791 7.8.9 asks for them: no COMPLETED, STATUS neither
        # COMPLETED nor CANCELLED (an absent STATUS fails a text-match, negated or not).
        self.assertEqual(self.dav("PUT", home + "open.ics", vtodo(
            "open", extra="STATUS:NEEDS-ACTION\r\n")).status, 201)
        self.assertEqual(self.dav("PUT", home + "gone.ics", vtodo(
            "gone", extra="STATUS:CANCELLED\r\n")).status, 201)
        pending = todo_query().replace(
            '<C:comp-filter name="VTODO">',
            '<C:comp-filter name="VTODO"><C:prop-filter name="COMPLETED"><C:is-not-defined/>'
            '</C:prop-filter><C:prop-filter name="STATUS"><C:text-match '
            'negate-condition="yes">COMPLETED</C:text-match></C:prop-filter>'
            '<C:prop-filter name="STATUS"><C:text-match negate-condition="yes">CANCELLED'
            '</C:text-match></C:prop-filter>')
        got = self.names(self.dav("REPORT", home, pending, headers={"Depth": "1"}))
        self.assertEqual(list(got), ["open.ics"])
        no_status = todo_query().replace(
            '<C:comp-filter name="VTODO">',
            '<C:comp-filter name="VTODO"><C:prop-filter name="STATUS"><C:is-not-defined/>'
            '</C:prop-filter><C:prop-filter name="summary"><C:text-match>KORRIG</C:text-match>'
            '</C:prop-filter><C:prop-filter name="DUE"><C:is-not-defined/></C:prop-filter>')
        got = self.names(self.dav("REPORT", home, no_status, headers={"Depth": "1"}))
        self.assertEqual(sorted(got), ["done-may.ics", "duration.ics", "start-may.ics",
                                       "undated.ics"])
        # What is not evaluated is said so (RFC 4791 7.8.9's supported-filter), not ignored.
        for unknown in ('<C:prop-filter name="LOCATION"><C:is-not-defined/></C:prop-filter>',
                        '<C:prop-filter name="DUE"><C:text-match>2026</C:text-match>'
                        '</C:prop-filter>',
                        '<C:prop-filter name="UID"><C:param-filter name="X"/></C:prop-filter>'):
            with self.subTest(filter=unknown):
                body = todo_query().replace('<C:comp-filter name="VTODO">',
                                            f'<C:comp-filter name="VTODO">{unknown}')
                r = self.dav("REPORT", home, body, headers={"Depth": "1"})
                self.assertEqual(r.status, 403)
                self.assertIn("supported-filter", r.text)
        for n in ("open", "gone"):
            self.assertEqual(self.dav("DELETE", home + f"{n}.ics").status, 204)
        _, _, token = self.collection(home)
        # calendar-multiget: a to-do, an event and one that is not there.
        body = ('<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" '
                'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/>'
                '<C:calendar-data/></D:prop>' + "".join(
                    f"<D:href>/dav/{s.slug}/{home}{n}</D:href>"
                    for n in ("due-may.ics", "ev.ics", "nope.ics")) + "</C:calendar-multiget>")
        resp = self.dav("REPORT", home, body, headers={"Depth": "1"})
        self.assertEqual(self.names(resp), {"due-may.ics": "200", "ev.ics": "200",
                                            "nope.ics": "404"})
        self.assertIn("BEGIN:VTODO", resp.text)
        # sync-collection: a REST edit and a CalDAV deletion of to-dos since the token.
        t = next(i for i in s.ok("tina", "GET", f"/calendars/{cal}/todos?limit=100")["items"]
                 if i["uid"] == "undated")
        s.ok("tina", "PATCH", f"/calendars/{cal}/todos/{t['id']}", {"priority": 5})
        self.assertEqual(self.dav("DELETE", home + "due-june.ics").status, 204)
        got = self.names(self.dav("REPORT", home, sync(token)))
        self.assertEqual(got, {"undated.ics": "200", "due-june.ics": "404"})
        # A name used again after a deletion is no longer gone.
        self.assertEqual(self.dav("PUT", home + "due-june.ics", vtodo("due-june-2")).status, 201)
        _, _, token2 = self.collection(home)
        self.assertEqual(self.names(self.dav("REPORT", home, sync(token2))), {})

    def test_python_caldav_todos(self) -> None:
        probe = subprocess.run([PYTHON, "-c", "import caldav"], capture_output=True)
        self.assertEqual(probe.returncode, 0,
                         "python3-caldav is missing: bash scripts/setup.sh installs it")
        s = self.s
        url = f"http://127.0.0.1:{self.host.port}/.well-known/caldav"
        run = subprocess.run([PYTHON, CLIENT, url, f"tina@{s.slug}", fixtures.PASSWORD],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr[-3000:])
        got = json.loads(run.stdout)
        self.assertEqual(got["components"], ["VEVENT", "VTODO"])
        self.assertEqual(got["all"], ["Noten eintragen", "Zeugnisse"])
        self.assertEqual(got["in_may"], ["Noten eintragen"])
        self.assertEqual(got["by_uid"], "Zeugnisse")
        self.assertEqual(got["pending_before"], ["Noten eintragen", "Zeugnisse"])
        self.assertEqual(got["pending_after"], ["Zeugnisse"])
        self.assertEqual(got["changed_since_token"], ["noten.ics"])
        self.assertEqual(got["completed_status"], "COMPLETED")
        self.assertEqual(got["after_delete"], ["zeugnisse.ics"])
        self.assertEqual(got["left"], ["noten"])
        # What the client wrote is what REST shows: completed, with its time.
        cal = next(c for c in s.ok("tina", "GET", "/calendars")["items"]
                   if c["name"] == "Aufgaben")
        items = s.ok("tina", "GET", f"/calendars/{cal['id']}/todos")["items"]
        self.assertEqual([(i["summary"], i["status"]) for i in items],
                         [("Noten eintragen", "completed")])
        self.assertIsNotNone(items[0]["completed"])

    # -- REST ------------------------------------------------------------------------------

    def test_rest_todos(self) -> None:
        s = self.s
        cal = s.calendar("tina", "REST")["id"]
        base = f"/calendars/{cal}/todos"
        t = s.ok("tina", "POST", base, {"summary": "Elternbriefe", "due": "2026-05-04T08:00:00Z",
                                        "start": "2026-05-01T08:00:00+02:00", "priority": 3,
                                        "description": "Klasse 7b"}, status=(201,))
        self.assertEqual((t["summary"], t["due"], t["start"], t["all_day"], t["priority"],
                          t["status"], t["completed"], t["description"]),
                         ("Elternbriefe", "2026-05-04T08:00:00Z", "2026-05-01T06:00:00Z", False,
                          3, None, None, "Klasse 7b"))
        path = f"{base}/{t['id']}"
        # The same to-do over CalDAV, with the same ETag.
        dav = self.dav("GET", f"calendars/tina/{cal}/{t['dav_name']}")
        self.assertEqual(dav.status, 200)
        self.assertEqual(dav.headers.get("etag"), t["etag"])
        self.assertIn("SUMMARY:Elternbriefe", dav.text)
        # PATCH with If-Match; completing sets the time; a stale tag is 412 and changes nothing.
        r = s.req("tina", "PATCH", path, {"status": "completed", "percent_complete": 100},
                  headers={"If-Match": t["etag"]})
        fixtures.check(r, 200, what="patch")
        done = r.json()
        self.assertEqual((done["status"], done["percent_complete"]), ("completed", 100))
        self.assertIsNotNone(done["completed"])
        self.assertEqual(r.headers.get("etag"), done["etag"])
        self.assertProblem(s.req("tina", "PATCH", path, {"summary": "x"},
                                 headers={"If-Match": t["etag"]}), 412)
        self.assertProblem(s.req("tina", "DELETE", path, headers={"If-Match": t["etag"]}), 412)
        self.assertEqual(s.ok("tina", "GET", path)["summary"], "Elternbriefe")
        # An all-day to-do; clearing fields with null.
        d = s.ok("tina", "POST", base, {"summary": "Ausflug", "due": "2026-06-01"},
                 status=(201,))
        self.assertEqual((d["due"], d["all_day"]), ("2026-06-01", True))
        d = s.ok("tina", "PATCH", f"{base}/{d['id']}", {"due": None, "description": None})
        self.assertEqual((d["due"], d["description"]), (None, None))
        # A CalDAV edit keeps what REST does not know, and the reverse.
        name = f"calendars/tina/{cal}/{d['dav_name']}"
        text = self.dav("GET", name).text.replace("END:VTODO", "X-KEEP:yes\r\nEND:VTODO")
        self.assertEqual(self.dav("PUT", name, text).status, 204)
        s.ok("tina", "PATCH", f"{base}/{d['id']}", {"summary": "Ausflug 7b"})
        self.assertIn("X-KEEP:yes", self.dav("GET", name).text)
        # Pagination walks every to-do once.
        seen, cursor = [], None
        for _ in range(5):
            page = s.ok("tina", "GET", f"{base}?limit=1" + (f"&cursor={cursor}" if cursor
                                                              else ""))
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(sorted(seen), sorted([t["id"], d["id"]]))
        self.assertProblem(s.req("tina", "GET", f"{base}?cursor=bm9wZQ"), 400)
        # DELETE with the right tag; then 404.
        etag = s.ok("tina", "GET", path)["etag"]
        fixtures.check(s.req("tina", "DELETE", path, headers={"If-Match": etag}), 204,
                       what="delete")
        self.assertProblem(s.req("tina", "GET", path), 404)
        self.assertProblem(s.req("tina", "DELETE", path), 404)

    def test_rest_todo_refusals(self) -> None:
        s = self.s
        cal = s.calendar("tina", "Refusals")["id"]
        base = f"/calendars/{cal}/todos"
        t = s.ok("tina", "POST", base, {"summary": "Kept"}, status=(201,))
        path = f"{base}/{t['id']}"
        url = f"{s.base}{base}"
        json_ct = {"Content-Type": "application/json"}
        for method, u in (("POST", url), ("PATCH", f"{s.base}{path}")):
            with self.subTest(method=method):
                def send(data: bytes) -> harness.Response:
                    return self.host.request(method, u, data, headers=json_ct,
                                             token=s.tokens["tina"])
                self.assertProblem(send(b'{"summary": '), 400, "invalid-request")
                self.assertProblem(send(b"[1]"), 400)
                self.assertProblem(send(b'{"summary": "x", "zzz_unknown": 1}'), 400)
                self.assertProblem(send(b'{"summary": 5}'), 400)
                self.assertProblem(send(b'{"summary": "x", "priority": "high"}'), 400)
                self.assertProblem(send(b'{"summary": "x", "priority": 10}'), 400)
                self.assertProblem(send(b'{"summary": "x", "percent_complete": 101}'), 400)
                self.assertProblem(send(b'{"summary": "x", "status": "done"}'), 400)
                self.assertProblem(send(json.dumps({"summary": "x" * 1001}).encode()), 400)
                self.assertProblem(send(b'{"summary": "x", "due": "tomorrow"}'), 400, None)
                self.assertIn(send(b'{"summary": "x", "start": "2026-05-02", '
                                   b'"due": "2026-05-01"}').status, (400, 422))
                self.assertIn(send(b'{"summary": "x", "start": "2026-05-02T00:00:00Z", '
                                   b'"due": "2026-05-03"}').status, (400, 422))
        self.assertProblem(s.req("tina", "POST", base, {}), 400)  # summary required
        # Missing auth, another school's ids, wrong role, a read-only calendar.
        other = Small(self.host, self.op_token)
        for method, p, body in (("GET", base, None), ("POST", base, {"summary": "x"}),
                                ("GET", path, None), ("PATCH", path, {"summary": "x"}),
                                ("DELETE", path, None)):
            with self.subTest(method=method, path=p):
                self.assertProblem(s.req(None, method, p, body), 401)
                self.assertProblem(s.req("tom", method, p, body), 404)  # not his calendar
                self.assertProblem(other.req("tina", method, p, body), 404)
                self.assertProblem(self.host.request(method, f"/api/v1/schools/{other.slug}"
                                                     f"/calendar{p}", body,
                                                     token=s.tokens["tina"]), 404)
        school_cal = s.calendar("ada", "Schule", owner={"type": "school"})["id"]
        st = s.ok("ada", "POST", f"/calendars/{school_cal}/todos", {"summary": "Konferenz"},
                  status=(201,))
        self.assertEqual(len(s.ok("sam", "GET", f"/calendars/{school_cal}/todos")["items"]), 1)
        self.assertEqual(s.ok("sam", "GET", f"/calendars/{school_cal}/todos/{st['id']}")
                         ["summary"], "Konferenz")
        self.assertProblem(s.req("sam", "POST", f"/calendars/{school_cal}/todos",
                                 {"summary": "x"}), 403, "forbidden")
        self.assertProblem(s.req("sam", "PATCH", f"/calendars/{school_cal}/todos/{st['id']}",
                                 {"summary": "x"}), 403, "forbidden")
        self.assertProblem(s.req("sam", "DELETE", f"/calendars/{school_cal}/todos/{st['id']}"),
                           403, "forbidden")
        # A to-do id of one calendar under another: 404; not a uuid: 404.
        self.assertProblem(s.req("ada", "GET", f"/calendars/{school_cal}/todos/{t['id']}"), 404)
        self.assertProblem(s.req("tina", "GET", f"{base}/not-a-uuid"), 404)
        # Nothing of the above changed the to-do.
        self.assertEqual(s.ok("tina", "GET", path)["etag"], t["etag"])
        self.assertEqual([i["summary"] for i in s.ok("tina", "GET", base)["items"]], ["Kept"])

    def test_export_and_deleted_person(self) -> None:
        """A person's to-dos are in their GDPR export; when they are deleted, their personal
        calendar's to-dos go and those they wrote elsewhere stay without their name."""
        s = self.s
        own = s.calendar("tom", "Toms")["id"]
        s.ok("tom", "POST", f"/calendars/{own}/todos", {"summary": "Eigenes"}, status=(201,))
        school_cal = s.calendar("ada", "Schule", owner={"type": "school"})["id"]
        t = s.ok("ada", "POST", f"/calendars/{school_cal}/todos", {"summary": "Geteilt"},
                 status=(201,))
        # As if tom had changed it (teachers may not change the school's calendar).
        self.sql(f"UPDATE calendar.todos SET updated_by = '{s.ids['tom']}' "
                 f"WHERE id = '{t['id']}'")
        part = fixtures.check(s.raw("ada", "GET", f"/users/{s.ids['tom']}/export"), 200,
                              what="export").json()["calendar"]
        mine = next(c for c in part["calendars"] if c["name"] == "Toms")
        self.assertEqual([x["summary"] for x in mine["todos"]], ["Eigenes"])
        self.assertIn("BEGIN:VTODO", mine["todos"][0]["ical"])
        self.assertEqual([(x["summary"], x["created"], x["last_changed"])
                          for x in part["todos_written"]], [("Geteilt", False, True)])
        fixtures.check(s.raw("ada", "DELETE", f"/users/{s.ids['tom']}"), 204, what="delete tom")
        self.assertEqual(self.sql(f"SELECT count(*) FROM calendar.todos "
                                  f"WHERE calendar_id = '{own}'"), "0")
        self.assertEqual(self.sql(f"SELECT coalesce(updated_by::text, 'none') "
                                  f"FROM calendar.todos WHERE id = '{t['id']}'"), "none")
        self.assertEqual(s.ok("ada", "GET", f"/calendars/{school_cal}/todos/{t['id']}")
                         ["summary"], "Geteilt")


if __name__ == "__main__":
    harness.main()
