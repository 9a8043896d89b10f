# SPDX-License-Identifier: Apache-2.0
"""test_conference_backend.py - a school's conference backend: PUT/GET/DELETE /backend (Jitsi
only: BigBlueButton is test_conference_bbb.py's), the secret sealed in the database, refusals
that change nothing, joining without a backend; the installation's backend from the
environment (with non-default join_ttl_seconds and early_minutes) until a school has its own;
and a host without the sealing key, which cannot store a secret.

Three hosts: the usual one (the sealing key, no installation backend), one with an
installation backend, one without the sealing key.

The school, the TestCase base and the JWT verifier are conference_fixtures.py's; the other
conference route families are in the other test_conference_*.py files (conference_fixtures.py
lists them).
"""

from __future__ import annotations

import base64
import datetime

import fixtures
import harness
from conference_fixtures import (
    ConferenceTestCase, JITSI_URL, SEALING_KEY, b64url, iso, jitsi_left, now, parse_time,
)


# ------------------------------------------------------------------------------------------
# The backend
# ------------------------------------------------------------------------------------------


class Backend(ConferenceTestCase):
    def test_put_get_delete_jitsi(self) -> None:
        s = self.school(backend=False)
        self.assertProblem(s.req("ada", "GET", "/backend"), 404)
        put = s.req("ada", "PUT", "/backend", {"type": "jitsi", "url": JITSI_URL,
                                               "app_id": s.app_id, "secret": s.secret})
        self.assertEqual(put.status, 200, put)
        self.assertNotIn(s.secret, put.text)
        got = s.req("ada", "GET", "/backend")
        self.assertEqual(got.status, 200, got)
        self.assertNotIn(s.secret, got.text, "GET /backend shows the secret")
        self.assertNotIn("secret", got.json())
        self.assertEqual(got.json(), put.json(), "PUT does not answer as GET")
        body = got.json()
        self.assertEqual((body["type"], body["url"], body["app_id"], body["source"]),
                         ("jitsi", JITSI_URL, s.app_id, "school"))
        self.assertLessEqual({"type", "url", "app_id", "source", "updated_at"}, set(body))
        self.assertLessEqual(abs((parse_time(body["updated_at"]) - now()).total_seconds()), 60)
        # The operator acts as the school's admin.
        self.assertEqual(s.ok("op", "GET", "/backend"), body)
        # Replacing it: a new secret takes effect for joins.
        s.secret = "second-" + s.secret
        s.app_id = "second-app"
        s.set_jitsi(url="https://video.example.net")
        room = s.room("tina")
        self.assertJitsiJoin(s, room["id"], s.join("tina", room["id"]), moderator=True,
                             user_id=s.ids["tina"], name="Tina Teacher",
                             url="https://video.example.net", host="video.example.net")
        self.assertNotIn(s.secret, self.host.log_text(), "the secret is in the log")
        # DELETE: 204, then none (no installation backend on this host) and joins are 503.
        resp = s.req("ada", "DELETE", "/backend")
        self.assertEqual((resp.status, resp.body), (204, b""), resp)
        self.assertProblem(s.req("ada", "GET", "/backend"), 404)
        self.assertProblem(s.req("tina", "POST", f"/rooms/{room['id']}/join"), 503,
                           "unavailable")

    def test_secret_is_sealed_in_the_database(self) -> None:
        s = self.school()
        self.assertIn("backends", self.tables())
        rows = self.dump("backends")
        self.assertIn(s.id, rows, "no backend row for the school")
        secret = s.secret.encode()
        for form in (s.secret, secret.hex(), base64.b64encode(secret).decode(),
                     b64url(secret)):
            self.assertNotIn(form, rows, "the backend secret is stored readable")
        # Nor anywhere else in the module's tables.
        for table in self.tables():
            self.assertNotIn(s.secret, self.dump(table), table)
        # And it still opens: a join signs with it.
        room = s.room("tina")
        self.assertJitsiJoin(s, room["id"], s.join("sam", room["id"]), moderator=False,
                             user_id=s.ids["sam"], name="Sam Schüler")

    def test_refusals_change_nothing(self) -> None:
        s = self.school()
        before = s.ok("ada", "GET", "/backend")
        good = {"type": "jitsi", "url": JITSI_URL, "app_id": "x", "secret": "y"}
        for who in ("tina", "stan", "sam", "pia"):
            with self.subTest(who=who):
                self.assertProblem(s.req(who, "GET", "/backend"), 403, "forbidden")
                self.assertProblem(s.req(who, "PUT", "/backend", good), 403, "forbidden")
                self.assertProblem(s.req(who, "DELETE", "/backend"), 403, "forbidden")
        for method in ("GET", "PUT", "DELETE"):
            self.assertProblem(s.req(None, method, "/backend", good if method == "PUT" else None),
                               401)
            self.assertProblem(self.host.request(method, s.base + "/backend",
                                                 good if method == "PUT" else None,
                                                 token="not-a-token"), 401)
        bad_bodies = [
            {},
            {"type": "zoom", "url": JITSI_URL, "app_id": "x", "secret": "y"},
            {"type": "jitsi", "url": "ftp://meet.example.org", "app_id": "x", "secret": "y"},
            {"type": "jitsi", "url": "javascript:alert(1)", "app_id": "x", "secret": "y"},
            {"type": "jitsi", "url": "meet.example.org", "app_id": "x", "secret": "y"},
            {"type": "jitsi", "url": "", "app_id": "x", "secret": "y"},
            {"type": "jitsi", "url": JITSI_URL, "secret": "y"},
            {"type": "jitsi", "url": JITSI_URL, "app_id": "", "secret": "y"},
            {"type": "jitsi", "url": JITSI_URL, "app_id": "x"},
            {"type": "jitsi", "url": JITSI_URL, "app_id": "x", "secret": ""},
            {"type": "jitsi", "url": 5, "app_id": "x", "secret": "y"},
            {"type": "jitsi", "url": JITSI_URL, "app_id": 1, "secret": "y"},
            {"type": "jitsi", "url": JITSI_URL, "app_id": "x", "secret": ["y"]},
            {"type": None, "url": JITSI_URL, "app_id": "x", "secret": "y"},
            {**good, "colour": "red"},
            {"type": "bigbluebutton", "url": "https://bbb.example.org/bigbluebutton/api",
             "secret": "y", "checksum": "md5"},
        ]
        for body in bad_bodies:
            with self.subTest(body=body):
                self.assertProblem(s.req("ada", "PUT", "/backend", body), 400, "invalid-request")
        for raw in (b'{"type": "jitsi", ', b"[1, 2]", b'"jitsi"', b"null"):
            with self.subTest(raw=raw):
                self.assertProblem(self.host.request(
                    "PUT", s.base + "/backend", raw, token=s.tokens["ada"],
                    headers={"Content-Type": "application/json"}), 400)
        self.assertEqual(s.ok("ada", "GET", "/backend"), before, "a refused PUT changed it")
        # Another school: its admin, on its own path and on ours.
        other = self.school(backend=False)
        self.assertProblem(other.req("ada", "GET", "/backend"), 404)
        for method in ("GET", "PUT", "DELETE"):
            with self.subTest(foreign_token=method):
                self.assertProblem(self.host.request(
                    method, s.base + "/backend", good if method == "PUT" else None,
                    token=other.tokens["ada"]), 404)
        self.assertEqual(s.ok("ada", "GET", "/backend"), before)
        room = s.room("tina")
        self.assertJitsiJoin(s, room["id"], s.join("tina", room["id"]), moderator=True,
                             user_id=s.ids["tina"], name="Tina Teacher")

    def test_join_without_backend_is_503(self) -> None:
        s = self.school(backend=False)
        room = s.room("tina")
        self.assertProblem(s.req("sam", "POST", f"/rooms/{room['id']}/join"), 503, "unavailable")
        self.assertProblem(s.req("tina", "POST", f"/rooms/{room['id']}/join"), 503,
                           "unavailable")
        self.assertEqual(self.visits(room["id"]), {}, "a join that failed left a visit")
        # Rooms work without a backend; only joining needs one.
        self.assertEqual(s.ok("sam", "GET", f"/rooms/{room['id']}")["id"], room["id"])
        # An engine's callback to a school without a backend cannot be signed by anyone: it is
        # refused as unsigned (401), not "try again later" (503), which an engine repeats.
        for method, path in (("GET", f"/callbacks/bbb-end/{room['id']}?sig=x"),
                             ("POST", "/callbacks/jitsi/x")):
            with self.subTest(method=method, path=path):
                body = ({"event_name": "muc-room-destroyed",
                         "room_name": room["id"].replace("-", "")} if method == "POST" else None)
                problem = self.assertProblem(s.req(None, method, path, body), 401,
                                             "unauthenticated")
                self.assertIn("no videoconference backend", problem["detail"])


# ------------------------------------------------------------------------------------------
# The installation's backend and configuration
# ------------------------------------------------------------------------------------------

INSTALL_URL = "https://jitsi.example.com"
INSTALL_APP = "atrium-installation"
INSTALL_SECRET = "installation-secret-" + "7" * 24


class InstallationBackend(ConferenceTestCase):
    HOST_ENV = {
        "ATRIUM_CONFERENCE_SECRET_KEY": SEALING_KEY,
        "ATRIUM_CONFERENCE_TYPE": "jitsi",
        "ATRIUM_CONFERENCE_URL": INSTALL_URL,
        "ATRIUM_CONFERENCE_APP_ID": INSTALL_APP,
        "ATRIUM_CONFERENCE_SECRET": INSTALL_SECRET,
        "ATRIUM_CONFERENCE_JOIN_TTL_SECONDS": "120",
        "ATRIUM_CONFERENCE_EARLY_MINUTES": "60",
    }

    def test_installation_backend_applies_until_a_school_has_its_own(self) -> None:
        s = self.school(backend=False)
        got = s.req("ada", "GET", "/backend")
        self.assertEqual(got.status, 200, got)
        self.assertNotIn(INSTALL_SECRET, got.text)
        body = got.json()
        self.assertEqual((body["type"], body["url"], body["app_id"], body["source"]),
                         ("jitsi", INSTALL_URL, INSTALL_APP, "installation"))
        room = s.room("tina")["id"]
        answer = s.join("sam", room)
        self.assertJitsiJoin(s, room, answer, moderator=False,
                             user_id=s.ids["sam"], name="Sam Schüler", secret=INSTALL_SECRET,
                             app_id=INSTALL_APP, url=INSTALL_URL, host="jitsi.example.com",
                             ttl=120)
        # Jitsi's events for this school, signed with the installation's secret.
        events = body.get("events_path")
        self.assertIsInstance(events, str, body)
        fixtures.check(self.host.request("POST", events, jitsi_left(room, s.ids["sam"])),
                       200, 204)
        self.assertEqual(self.visits(room), {str(answer["attendance_id"]): (s.ids["sam"], True)})
        # The school's own backend wins.
        s.set_jitsi()
        self.assertEqual(s.ok("ada", "GET", "/backend")["source"], "school")
        self.assertJitsiJoin(s, room, s.join("sam", room), moderator=False,
                             user_id=s.ids["sam"], name="Sam Schüler", ttl=120)
        # Deleted, the installation's applies again.
        fixtures.check(s.req("ada", "DELETE", "/backend"), 204)
        self.assertEqual(s.ok("ada", "GET", "/backend")["source"], "installation")
        self.assertJitsiJoin(s, room, s.join("tina", room), moderator=True,
                             user_id=s.ids["tina"], name="Tina Teacher", secret=INSTALL_SECRET,
                             app_id=INSTALL_APP, url=INSTALL_URL, host="jitsi.example.com",
                             ttl=120)
        self.assertNotIn(INSTALL_SECRET, self.host.log_text())

    def test_early_minutes_setting(self) -> None:
        s = self.school()
        start = now() + datetime.timedelta(minutes=45)
        room = s.room("tina", starts_at=iso(start))["id"]
        self.assertIs(s.join("sam", room)["moderator"], False)
        later = s.room("tina", starts_at=iso(now() + datetime.timedelta(minutes=75)))["id"]
        self.assertProblem(s.req("sam", "POST", f"/rooms/{later}/join"), 409)


class NoSealingKey(ConferenceTestCase):
    HOST_ENV: dict[str, str] = {}

    def test_a_secret_cannot_be_stored(self) -> None:
        s = self.school(backend=False)
        self.assertProblem(s.req("ada", "PUT", "/backend", {
            "type": "jitsi", "url": JITSI_URL, "app_id": s.app_id, "secret": s.secret}),
            503, "unavailable")
        self.assertProblem(s.req("ada", "GET", "/backend"), 404)
        self.assertEqual(self.sql("SELECT count(*) FROM conference.backends"), "0")
        room = s.room("tina")["id"]
        self.assertProblem(s.req("tina", "POST", f"/rooms/{room}/join"), 503)
        self.assertEqual(self.visits(room), {})


if __name__ == "__main__":
    harness.main()
