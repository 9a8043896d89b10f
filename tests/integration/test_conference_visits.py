# SPDX-License-Identifier: Apache-2.0
"""test_conference_visits.py - how visits (conference.attendance) close: POST /rooms/{id}/leave
and /end, old open visits keeping their estimate, and Jitsi's events posted to the signed
/callbacks/jitsi/{sig} (the README's fields and what Jitsi's event_sync module really sends),
with the refusals that must close nothing.

The school, the TestCase base and the JWT verifier are conference_fixtures.py's; the other
conference route families are in the other test_conference_*.py files (conference_fixtures.py
lists them).
"""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

import fixtures
import harness
from conference_fixtures import (
    ConferenceTestCase, JITSI_HOST, School, jitsi_destroyed, jitsi_left, now, verify_jwt,
)


# ------------------------------------------------------------------------------------------
# Leave and end
# ------------------------------------------------------------------------------------------


class LeaveAndEnd(ConferenceTestCase):
    def test_leave_closes_the_callers_visit(self) -> None:
        s = self.school()
        room = s.room("tina")["id"]
        t = s.visit("tina", room)
        m = s.visit("sam", room)
        resp = s.req("sam", "POST", f"/rooms/{room}/leave")
        self.assertEqual((resp.status, resp.body), (204, b""), resp)
        self.assertEqual(self.visits(room), {t: (s.ids["tina"], False), m: (s.ids["sam"], True)})
        self.assertEqual(self.sql(f"SELECT left_at >= joined_at AND left_at <= now() FROM "
                                  f"conference.attendance WHERE id = '{m}'"), "t")
        # Someone who never joined leaves (the status is not said): nothing of the others
        # changes.
        self.assertLess(s.req("sue", "POST", f"/rooms/{room}/leave").status, 500)
        self.assertEqual(self.visits(room), {t: (s.ids["tina"], False), m: (s.ids["sam"], True)})

    def test_old_open_visits_keep_their_estimate(self) -> None:
        """A visit whose leave never came is estimated at typical_minutes; a later reconnect,
        leave or end must not stretch it until now (the benchmark found 21-hour visits)."""
        s = self.school()
        room = s.room("tina")["id"]
        old = s.visit("sam", room)
        recent = s.visit("sue", room)
        self.sql("UPDATE conference.attendance SET joined_at = now() - interval '3 hours' "
                 f"WHERE id = '{old}'")
        self.sql("UPDATE conference.attendance SET joined_at = now() - interval '5 minutes' "
                 f"WHERE id = '{recent}'")
        # Reconnects: the 3-hour-old visit stays open (estimated), the 5-minute-old one ends.
        s.join("sam", room)
        s.join("sue", room)
        left = dict(line.split("|") for line in self.sql(
            f"SELECT id, coalesce(left_at::text, '') FROM conference.attendance "
            f"WHERE id IN ('{old}', '{recent}')").splitlines())
        self.assertEqual(left[old], "", "a reconnect closed a visit hours old")
        self.assertNotEqual(left[recent], "", "a reconnect left two overlapping visits")
        # A leave or an end closes what joined within a school day, never what is older.
        day_old = s.visit("tina", room)
        self.sql("UPDATE conference.attendance SET joined_at = now() - interval '20 hours' "
                 f"WHERE id = '{day_old}'")
        fixtures.check(s.req("tina", "POST", f"/rooms/{room}/end"), 204)
        self.assertEqual(self.sql("SELECT left_at IS NULL FROM conference.attendance "
                                  f"WHERE id = '{day_old}'"), "t")
        self.assertEqual(self.sql("SELECT left_at IS NULL FROM conference.attendance "
                                  f"WHERE id = '{old}'"), "f", "end left a 3-hour visit open")

    def test_end_closes_every_visit(self) -> None:
        s = self.school()
        gid = s.group("6b", owner="tina", members=["sam", "sue"])
        room = s.room("tina", group_id=gid)["id"]
        other = s.room("tina")["id"]
        for who in ("tina", "sam", "sue"):
            s.join(who, room)
        elsewhere = s.visit("sam", other)
        guest = s.ok("tina", "POST", f"/rooms/{room}/guests", {"name": "Gast"}, status=(201,))
        self.host.request("POST", guest["join_path"])
        self.assertEqual(len(self.visits(room)), 4)
        self.assertProblem(s.req("sam", "POST", f"/rooms/{room}/end"), 403, "forbidden")
        self.assertProblem(s.req("stan", "POST", f"/rooms/{room}/end"), 404)
        self.assertProblem(s.req(None, "POST", f"/rooms/{room}/end"), 401)
        self.assertEqual({closed for _, closed in self.visits(room).values()}, {False})
        resp = s.req("tina", "POST", f"/rooms/{room}/end")
        self.assertEqual((resp.status, resp.body), (204, b""), resp)
        self.assertEqual({closed for _, closed in self.visits(room).values()}, {True})
        self.assertEqual(self.visits(other), {elsewhere: (s.ids["sam"], False)})
        # The admin ends a room they did not make.
        s.join("sam", other)
        fixtures.check(s.req("ada", "POST", f"/rooms/{other}/end"), 204)
        self.assertEqual({closed for _, closed in self.visits(other).values()}, {True})


# ------------------------------------------------------------------------------------------
# The Jitsi webhook
# ------------------------------------------------------------------------------------------


class JitsiWebhook(ConferenceTestCase):
    """Jitsi's event module posts to the signed events_path that GET /backend gives."""

    def events_path(self, s: School, who: str = "ada") -> str:
        path = s.ok(who, "GET", "/backend").get("events_path")
        self.assertIsInstance(path, str, "GET /backend of a Jitsi backend has no events_path")
        prefix = f"{s.base}/callbacks/jitsi/"
        self.assertTrue(path.startswith(prefix) and len(path) > len(prefix) + 16, path)
        self.assertNotIn(s.secret, path)
        return path

    def hook(self, path: str, body: Any) -> harness.Response:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.host.request("POST", path, data,
                                 headers={"Content-Type": "application/json"})

    left = staticmethod(jitsi_left)
    destroyed = staticmethod(jitsi_destroyed)

    @staticmethod
    def event_sync_left(room_id: str, user_id: str, name: str) -> dict:
        """muc-occupant-left as Jitsi's event_sync module really sends it (jitsi-contrib
        prosody-plugins/event_sync: room_jid, is_breakout, and the occupant's jid, name,
        email, joined_at, left_at besides what the README names)."""
        name_ = room_id.replace("-", "")
        t = int(time.time())
        return {"event_name": "muc-occupant-left", "room_name": name_,
                "room_jid": f"{name_}@conference.{JITSI_HOST}", "is_breakout": False,
                "occupant": {"occupant_jid": f"{name_}@conference.{JITSI_HOST}/a1b2c3",
                             "name": name, "email": None, "id": user_id,
                             "joined_at": t - 60, "left_at": t}}

    @staticmethod
    def event_sync_destroyed(room_id: str) -> dict:
        name_ = room_id.replace("-", "")
        t = int(time.time())
        return {"event_name": "muc-room-destroyed", "room_name": name_,
                "room_jid": f"{name_}@conference.{JITSI_HOST}", "is_breakout": False,
                "created_at": t - 600, "destroyed_at": t, "all_occupants": []}

    def test_occupant_left_and_room_destroyed(self) -> None:
        s = self.school()
        path = self.events_path(s)
        room = s.room("tina")["id"]
        t = s.visit("tina", room)
        m = s.visit("sam", room)
        other = s.room("tina")["id"]
        o = s.visit("sam", other)
        # Events it does not act on change nothing ("other events are ignored").
        resp = self.hook(path, {"event_name": "muc-room-created",
                                "room_name": room.replace("-", "")})
        self.assertIn(resp.status, (200, 204), resp)
        self.assertEqual(self.visits(room), {t: (s.ids["tina"], False),
                                             m: (s.ids["sam"], False)})
        resp = self.hook(path, self.left(room, s.ids["sam"]))
        self.assertIn(resp.status, (200, 204), resp)
        self.assertEqual(self.visits(room), {t: (s.ids["tina"], False), m: (s.ids["sam"], True)})
        self.assertEqual(self.visits(other), {o: (s.ids["sam"], False)})
        resp = self.hook(path, self.destroyed(room))
        self.assertIn(resp.status, (200, 204), resp)
        self.assertEqual(self.visits(room), {t: (s.ids["tina"], True), m: (s.ids["sam"], True)})
        self.assertEqual(self.visits(other), {o: (s.ids["sam"], False)})
        # A guest's visit closes by the id its token carried.
        link = s.ok("tina", "POST", f"/rooms/{other}/guests", {"name": "Gast"}, status=(201,))
        answer = fixtures.check(self.host.request("POST", link["join_path"]), 200).json()
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(answer["url"]).query)["jwt"][0]
        guest_id = verify_jwt(token, s.secret)[1]["context"]["user"]["id"]
        g = str(answer["attendance_id"])
        fixtures.check(self.hook(path, self.left(other, guest_id)), 200, 204)
        self.assertEqual(self.visits(other), {o: (s.ids["sam"], False), g: (None, True)})

    def test_what_jitsi_really_sends_is_taken(self) -> None:
        # Jitsi's event module sends more fields than the README names; the hook must take
        # them, or no real event ever closes a visit.
        s = self.school()
        path = self.events_path(s)
        room = s.room("tina")["id"]
        t = s.visit("tina", room)
        m = s.visit("sam", room)
        resp = self.hook(path, self.event_sync_left(room, s.ids["sam"], "Sam Schüler"))
        self.assertIn(resp.status, (200, 204), resp)
        self.assertEqual(self.visits(room), {t: (s.ids["tina"], False), m: (s.ids["sam"], True)})
        resp = self.hook(path, self.event_sync_destroyed(room))
        self.assertIn(resp.status, (200, 204), resp)
        self.assertEqual(self.visits(room), {t: (s.ids["tina"], True), m: (s.ids["sam"], True)})

    def test_refusals_close_nothing(self) -> None:
        s = self.school()
        path = self.events_path(s)
        room = s.room("tina")["id"]
        m = s.visit("sam", room)
        event = self.left(room, s.ids["sam"])
        prefix, sig = path.rsplit("/", 1)
        other = self.school()
        other_sig = self.events_path(other).rsplit("/", 1)[1]
        self.assertNotEqual(sig, other_sig)
        for label, bad in (("changed", sig[:-1] + ("0" if sig[-1] != "0" else "1")),
                           ("short", sig[:-2]), ("garbage", "x"),
                           ("another school's", other_sig)):
            with self.subTest(label):
                self.assertProblem(self.hook(f"{prefix}/{bad}", event), 401)
        # Another school's signed path does not close this school's visits either.
        fixtures.check(self.hook(self.events_path(other), event), 200, 204, 404)
        for garbage in (b"not json", b"[1,2]", b'{"event_name": 5}', b""):
            with self.subTest(garbage=garbage):
                self.assertProblem(self.hook(path, garbage), 400)
        self.assertEqual(self.visits(room), {m: (s.ids["sam"], False)})
        # A new secret makes a new URL; the old one stops working.
        s.secret = "rotated-" + s.secret
        s.set_jitsi()
        new_path = self.events_path(s)
        self.assertNotEqual(new_path, path)
        self.assertProblem(self.hook(path, event), 401)
        self.assertEqual(self.visits(room), {m: (s.ids["sam"], False)})
        fixtures.check(self.hook(new_path, event), 200, 204)
        self.assertEqual(self.visits(room), {m: (s.ids["sam"], True)})


if __name__ == "__main__":
    harness.main()
