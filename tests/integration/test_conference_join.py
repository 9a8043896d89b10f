# SPDX-License-Identifier: Apache-2.0
"""test_conference_join.py - POST /rooms/{id}/join: who may join and who moderates (group rooms,
owners, the operator, locked rooms, the schedule, conference.join), and the Jitsi token in the
answer, checked with conference_fixtures' own verifier, which must refuse a changed token.

The school, the TestCase base and the JWT verifier are conference_fixtures.py's; the other
conference route families are in the other test_conference_*.py files (conference_fixtures.py
lists them).
"""

from __future__ import annotations

import datetime
import json
import urllib.parse

import fixtures
import harness
from conference_fixtures import (
    ConferenceTestCase, JITSI_URL, b64url, iso, make_jwt, now, verify_jwt,
)


# ------------------------------------------------------------------------------------------
# Who may join and moderate
# ------------------------------------------------------------------------------------------


class Rights(ConferenceTestCase):
    def test_group_room_members_and_non_members(self) -> None:
        s = self.school()
        g1 = s.group("7b", owner="tina", members=["sam"])
        g2 = s.group("8a", owner="tom", members=["sue"])
        school_wide = s.room("tina", "Aula")["id"]
        r1 = s.room("tina", "7b Mathe", group_id=g1)["id"]
        r2 = s.room("tom", "8a Deutsch", group_id=g2)["id"]
        expect = {
            "sam": [r1, school_wide], "sue": [r2, school_wide], "tina": [r1, school_wide],
            "tom": [r2, school_wide], "stan": [school_wide], "pia": [school_wide],
            "ada": [r2, r1, school_wide], "op": [r2, r1, school_wide],
        }
        for who, rooms in expect.items():
            with self.subTest(who=who):
                self.assertEqual(s.visible(who), rooms)
        for who, rid in (("sam", r2), ("sue", r1), ("stan", r1), ("tom", r1), ("pia", r2)):
            with self.subTest(outsider=who, room=rid):
                self.assertProblem(s.req(who, "GET", f"/rooms/{rid}"), 404, "not-found")
                self.assertProblem(s.req(who, "POST", f"/rooms/{rid}/join"), 404, "not-found")
                self.assertProblem(s.req(who, "POST", f"/rooms/{rid}/leave"), 404)
                self.assertProblem(s.req(who, "POST", f"/rooms/{rid}/end"), 404)
                self.assertProblem(s.req(who, "GET", f"/rooms/{rid}/guests"), 404)
                self.assertProblem(s.req(who, "POST", f"/rooms/{rid}/guests", {"name": "x"}),
                                   404)
        self.assertEqual(self.visits(r1), {})
        self.assertEqual(self.visits(r2), {})
        joined = s.join("sam", r1)
        self.assertJitsiJoin(s, r1, joined, moderator=False, user_id=s.ids["sam"],
                             name="Sam Schüler")
        # Leaving the group takes the room away.
        fixtures.check(s.raw("tina", "DELETE", f"/groups/{g1}/members/{s.ids['sam']}"), 204,
                       what="remove sam")
        self.assertProblem(s.req("sam", "GET", f"/rooms/{r1}"), 404)
        self.assertProblem(s.req("sam", "POST", f"/rooms/{r1}/join"), 404)
        self.assertEqual(s.visible("sam"), [school_wide])

    def test_who_moderates(self) -> None:
        s = self.school()
        gid = s.group("9c", owner="tina", members=["sam", "stan"], owners=["tom"])
        room = s.room("tina", "9c Chemie", group_id=gid)["id"]
        # Creator, a co-owner of the group, conference.moderate (admin, operator).
        for who, name in (("tina", "Tina Teacher"), ("tom", "Tom Teacher"),
                          ("ada", "Ada Admin")):
            with self.subTest(moderator=who):
                self.assertIs(s.ok(who, "GET", f"/rooms/{room}")["moderator"], True)
                self.assertJitsiJoin(s, room, s.join(who, room), moderator=True,
                                     user_id=s.ids[who], name=name)
        for who in ("sam", "stan"):
            with self.subTest(member=who):
                self.assertIs(s.ok(who, "GET", f"/rooms/{room}")["moderator"], False)
                self.assertIs(s.join(who, room)["moderator"], False)
        # conference.moderate through a group grant, for a teacher outside the room's group.
        lead = s.group("Schulleitung", owner="ada", members=["pia"])
        fixtures.check(s.raw("ada", "PUT", f"/groups/{lead}/permissions",
                             {"permissions": ["conference.moderate"]}), 200, what="grant")
        pia_token = fixtures.login(self.host, "pia", school=s.slug)
        s.tokens["pia"] = pia_token
        self.assertIs(s.ok("pia", "GET", f"/rooms/{room}")["moderator"], True)
        self.assertJitsiJoin(s, room, s.join("pia", room), moderator=True,
                             user_id=s.ids["pia"], name="Pia Parent")
        # A room of the creator's own: a staff member who created a school-wide room.
        mine = s.room("stan", "Stan's")["id"]
        self.assertIs(s.join("stan", mine)["moderator"], True)
        self.assertIs(s.join("tina", mine)["moderator"], False)
        # The visit records whether one moderated.
        rows = self.sql(f"SELECT user_id, moderator FROM conference.attendance "
                        f"WHERE room_id = '{room}' ORDER BY joined_at")
        flags = {u: m for u, m in (line.split("|") for line in rows.splitlines()) if u}
        self.assertEqual(flags[s.ids["tina"]], "t")
        self.assertEqual(flags[s.ids["sam"]], "f")

    def test_operator_acts_as_school_admin(self) -> None:
        # README: operators act as school admins in managing rooms; a join is a person's (the
        # visit, the token's user), so an operator, who is nobody in the school, is refused.
        s = self.school()
        gid = s.group("2b", owner="tina", members=["sam"])
        room = s.room("tina", "2b", group_id=gid)["id"]
        self.assertIn(room, s.visible("op"))
        self.assertIs(s.ok("op", "GET", f"/rooms/{room}")["moderator"], True)
        s.ok("op", "PATCH", f"/rooms/{room}", {"description": "vom Betreiber"})
        s.ok("op", "POST", f"/rooms/{room}/guests", {"name": "G"}, status=(201,))
        fixtures.check(s.req("op", "POST", f"/rooms/{room}/end"), 204)
        made = s.room("op", "Betreiber-Raum")
        self.assertIs(made["moderator"], True)
        self.assertProblem(s.req("op", "POST", f"/rooms/{room}/join"), 403, "forbidden")
        self.assertEqual(self.visits(room), {}, "a refused join left a visit")

    def test_create_for_a_group_needs_owner_or_moderate(self) -> None:
        s = self.school()
        gid = s.group("10a", owner="tina", members=["tom", "sam"])
        # A member (not owner) teacher may not create the group's room; a non-member neither.
        self.assertProblem(s.req("tom", "POST", "/rooms", {"name": "x", "group_id": gid}), 403,
                           "forbidden")
        self.assertProblem(s.req("stan", "POST", "/rooms", {"name": "x", "group_id": gid}),
                           403)
        self.assertProblem(s.req("sam", "POST", "/rooms", {"name": "x", "group_id": gid}), 403)
        self.assertEqual(s.visible("ada"), [])
        self.assertEqual(s.room("tina", "own", group_id=gid)["group_id"], gid)
        self.assertEqual(s.room("ada", "admin's", group_id=gid)["group_id"], gid)
        self.assertEqual(len(s.visible("ada")), 2)

    def test_locked_room(self) -> None:
        s = self.school()
        gid = s.group("5a", owner="tina", members=["sam", "sue"])
        room = s.room("tina", "Klassenrat", group_id=gid, locked=True)["id"]
        self.assertEqual(s.visible("sam"), [room])
        self.assertIs(s.ok("sam", "GET", f"/rooms/{room}")["locked"], True)
        self.assertProblem(s.req("sam", "POST", f"/rooms/{room}/join"), 403, "forbidden")
        self.assertEqual(self.visits(room), {}, "a refused join left a visit")
        self.assertIs(s.join("tina", room)["moderator"], True)
        self.assertIs(s.join("ada", room)["moderator"], True)
        s.ok("tina", "PATCH", f"/rooms/{room}", {"locked": False})
        self.assertIs(s.join("sam", room)["moderator"], False)
        self.assertEqual(len(self.visits(room)), 3)

    def test_schedule(self) -> None:
        s = self.school()
        later = now() + datetime.timedelta(hours=2)
        room = s.room("tina", "Später", starts_at=iso(later),
                      ends_at=iso(later + datetime.timedelta(hours=1)))["id"]
        self.assertIn(room, s.visible("sam"))
        self.assertProblem(s.req("sam", "POST", f"/rooms/{room}/join"), 409, "conflict")
        self.assertEqual(self.visits(room), {})
        self.assertIs(s.join("tina", room)["moderator"], True)
        self.assertIs(s.join("ada", room)["moderator"], True)
        # Within early_minutes (15) before the start, it is open.
        soon = now() + datetime.timedelta(minutes=10)
        early = s.room("tina", "Gleich", starts_at=iso(soon),
                       ends_at=iso(soon + datetime.timedelta(hours=1)))["id"]
        self.assertIs(s.join("sam", early)["moderator"], False)
        # Just outside it, not yet.
        edge = now() + datetime.timedelta(minutes=17)
        closed = s.room("tina", "Noch nicht", starts_at=iso(edge))["id"]
        self.assertProblem(s.req("sam", "POST", f"/rooms/{closed}/join"), 409)
        # After ends_at it is closed again (the times moved into the past in the database).
        self.sql(f"UPDATE conference.rooms SET starts_at = now() - interval '3 hours', "
                 f"ends_at = now() - interval '1 hour' WHERE id = '{early}'")
        self.assertProblem(s.req("sam", "POST", f"/rooms/{early}/join"), 409, "conflict")
        self.assertIs(s.join("tina", early)["moderator"], True)
        # A room that has started and has no end is open.
        self.sql(f"UPDATE conference.rooms SET starts_at = now() - interval '3 hours', "
                 f"ends_at = NULL WHERE id = '{closed}'")
        self.assertIs(s.join("sam", closed)["moderator"], False)

    def test_without_conference_join(self) -> None:
        s = self.school()
        room = s.room("tina")["id"]
        role = fixtures.check(s.raw("ada", "GET", "/roles/student/permissions"), 200).json()
        self.assertIn("conference.join", role["permissions"])
        rest = [p for p in role["permissions"] if p != "conference.join"]
        fixtures.check(s.raw("ada", "PUT", "/roles/student/permissions", {"permissions": rest}),
                       200, what="take conference.join from students")
        for method, path in (("GET", "/rooms"), ("GET", f"/rooms/{room}"),
                             ("POST", f"/rooms/{room}/join"), ("POST", f"/rooms/{room}/leave")):
            with self.subTest(method=method, path=path):
                self.assertProblem(s.req("sam", method, path), 403, "forbidden")
        self.assertEqual(self.visits(room), {})
        self.assertIs(s.join("pia", room)["moderator"], False)


# ------------------------------------------------------------------------------------------
# Jitsi tokens
# ------------------------------------------------------------------------------------------


class JitsiTokens(ConferenceTestCase):
    def test_join_answer_and_token(self) -> None:
        s = self.school()
        room = s.room("tina", "Englisch")["id"]
        answer = s.join("sam", room)
        claims = self.assertJitsiJoin(s, room, answer, moderator=False, user_id=s.ids["sam"],
                                      name="Sam Schüler")
        self.assertEqual(claims["context"]["user"]["moderator"], False)
        self.assertEqual(self.visits(room), {str(answer["attendance_id"]): (s.ids["sam"], False)})
        mod = s.join("tina", room)
        self.assertJitsiJoin(s, room, mod, moderator=True, user_id=s.ids["tina"],
                             name="Tina Teacher")
        self.assertNotEqual(mod["attendance_id"], answer["attendance_id"])

    def test_the_verifier_can_fail(self) -> None:
        s = self.school()
        room = s.room("tina")["id"]
        answer = s.join("sam", room)
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(answer["url"]).query)["jwt"][0]
        verify_jwt(token, s.secret)
        with self.assertRaises(AssertionError):
            verify_jwt(token, s.secret + "x")
        with self.assertRaises(AssertionError):
            verify_jwt(token, "another secret")
        # A token of the same claims signed with another secret.
        _, claims = verify_jwt(token, s.secret)
        forged = make_jwt(claims, "not-the-backend-secret")
        with self.assertRaises(AssertionError):
            verify_jwt(forged, s.secret)
        with self.assertRaises(AssertionError):
            self.assertJitsiJoin(s, room, {**answer, "url": f"{JITSI_URL}/{room.replace('-', '')}"
                                           f"?jwt={forged}"}, moderator=False,
                                 user_id=s.ids["sam"], name="Sam Schüler")
        # A changed claim with the old signature.
        h, p, sig = token.split(".")
        changed = b64url(json.dumps({**claims, "moderator": True}).encode())
        with self.assertRaises(AssertionError):
            verify_jwt(f"{h}.{changed}.{sig}", s.secret)


if __name__ == "__main__":
    harness.main()
