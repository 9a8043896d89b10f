# SPDX-License-Identifier: Apache-2.0
"""test_conference_guests.py - guest links: POST/GET /rooms/{id}/guests, DELETE
/rooms/{id}/guests/{id}, POST /guest/{token}/join, the token stored only as its SHA-256, the
refusals, and the purge of links long ended, in every school.

The school, the TestCase base and the JWT verifier are conference_fixtures.py's; the other
conference route families are in the other test_conference_*.py files (conference_fixtures.py
lists them).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import re
import uuid

import fixtures
import harness
from conference_fixtures import (
    ConferenceTestCase, GUEST_KEYS, b64url, b64url_decode, iso, now, parse_time,
)


# ------------------------------------------------------------------------------------------
# Guest links
# ------------------------------------------------------------------------------------------


class Guests(ConferenceTestCase):
    def test_purge_deletes_links_long_ended_in_every_school(self) -> None:
        """Guest links name people without an account: `atriumd conference purge` (and the
        hourly timer) deletes those that ended more than guest_keep_days (30) ago, in every
        school, and keeps the rest and every visit."""
        rows = {}
        for s in (self.school(), self.school()):
            room = s.room("tina", "Elternabend")["id"]
            for name in ("old-expired", "old-revoked", "recently-revoked", "live"):
                rows[(s.slug, name)] = s.ok("tina", "POST", f"/rooms/{room}/guests",
                                            {"name": name}, status=(201,))
            live = rows[(s.slug, "live")]
            fixtures.check(self.host.request("POST", live["join_path"]), 200, what="guest join")
            ids = {n: rows[(s.slug, n)]["id"] for n in ("old-expired", "old-revoked",
                                                        "recently-revoked")}
            self.sql("UPDATE conference.guests SET expires_at = now() - interval '40 days' "
                     f"WHERE id = '{ids['old-expired']}'")
            self.sql("UPDATE conference.guests SET revoked_at = now() - interval '31 days' "
                     f"WHERE id = '{ids['old-revoked']}'")
            self.sql("UPDATE conference.guests SET revoked_at = now() - interval '5 days' "
                     f"WHERE id = '{ids['recently-revoked']}'")
        visits_before = self.sql("SELECT count(*) FROM conference.attendance "
                                 "WHERE guest_id IS NOT NULL")
        proc = self.host.run(["conference", "purge"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # (other tests of this class share the database: at least our four went)
        purged = re.search(r"purged (\d+) guest links", proc.stdout)
        self.assertTrue(purged, proc.stdout)
        self.assertGreaterEqual(int(purged.group(1)), 4)
        left = set(self.sql("SELECT name || '@' || id FROM conference.guests").split())
        for (slug, name), link in rows.items():
            kept = f"{name}@{link['id']}" in left
            self.assertEqual(kept, name in ("recently-revoked", "live"), (slug, name))
        self.assertEqual(self.sql("SELECT count(*) FROM conference.attendance "
                                  "WHERE guest_id IS NOT NULL"), visits_before)
        # Again: nothing more to do; a stray argument is refused.
        self.assertIn("purged 0 guest links", self.host.run(["conference", "purge"]).stdout)
        self.assertEqual(self.host.run(["conference", "purge", "now"]).returncode, 2)

    def test_link_lifecycle(self) -> None:
        s = self.school()
        room = s.room("tina", "Elternsprechtag")["id"]
        link = s.ok("tina", "POST", f"/rooms/{room}/guests", {"name": "Oma Erna"},
                    status=(201,))
        self.assertLessEqual(GUEST_KEYS, set(link))
        self.assertEqual(link["name"], "Oma Erna")
        self.assertGreaterEqual(len(link["token"]), 20)
        self.assertEqual(link["join_path"], f"{s.base}/guest/{link['token']}/join")
        week = now() + datetime.timedelta(days=7)
        self.assertLessEqual(abs((parse_time(link["expires_at"]) - week).total_seconds()), 120)
        # The guest joins without signing in.
        answer = fixtures.check(self.host.request("POST", link["join_path"]), 200,
                                what="guest join").json()
        claims = self.assertJitsiJoin(s, room, answer, moderator=False, user_id=None,
                                      name="Oma Erna")
        self.assertNotIn(claims["context"]["user"]["id"], s.ids.values())
        self.assertTrue(claims["context"]["user"]["id"])
        visits = self.visits(room)
        self.assertEqual(visits, {str(answer["attendance_id"]): (None, False)})
        # With an explicit expiry.
        soon = (now() + datetime.timedelta(days=1)).replace(microsecond=0)
        second = s.ok("ada", "POST", f"/rooms/{room}/guests",
                      {"name": "Herr Weber", "expires_at": iso(soon)}, status=(201,))
        self.assertEqual(parse_time(second["expires_at"]), soon)
        self.assertNotEqual(second["token"], link["token"])
        # The list: both links, no tokens.
        resp = s.req("tina", "GET", f"/rooms/{room}/guests")
        self.assertEqual(resp.status, 200, resp)
        items = resp.json()["items"]
        self.assertEqual(sorted(g["id"] for g in items), sorted([link["id"], second["id"]]))
        for g in items:
            self.assertNotIn("token", g)
        for token in (link["token"], second["token"]):
            self.assertNotIn(token, resp.text)
        self.assertEqual({g["id"]: g["name"] for g in items},
                         {link["id"]: "Oma Erna", second["id"]: "Herr Weber"})
        # Revoked: the link stops working.
        resp = s.req("tina", "DELETE", f"/rooms/{room}/guests/{link['id']}")
        self.assertEqual((resp.status, resp.body), (204, b""), resp)
        self.assertProblem(self.host.request("POST", link["join_path"]), 404, "not-found")
        self.assertProblem(s.req("tina", "DELETE", f"/rooms/{room}/guests/{link['id']}"), 404)
        # The contract does not say whether a revoked link leaves the list or stays marked.
        for g in s.ok("tina", "GET", f"/rooms/{room}/guests")["items"]:
            if g["id"] == link["id"]:
                self.assertTrue(g.get("revoked_at") or g.get("revoked"),
                                f"a revoked link is listed as if it worked: {g!r}")
        # Expired (the expiry moved into the past in the database).
        fixtures.check(self.host.request("POST", second["join_path"]), 200)
        guest_table = self.guest_table()
        self.sql(f"UPDATE conference.{guest_table} SET expires_at = now() - interval '1 second' "
                 f"WHERE id = '{second['id']}'")
        self.assertProblem(self.host.request("POST", second["join_path"]), 404, "not-found")
        # Unknown tokens.
        last = "B" if link["token"].endswith("A") else "A"
        for token in ("A" * 43, "x", uuid.uuid4().hex, link["token"][:-1] + last):
            with self.subTest(token=token):
                self.assertProblem(self.host.request("POST", f"{s.base}/guest/{token}/join"),
                                   404)
        self.assertEqual(len(self.visits(room)), 2)

    def guest_table(self) -> str:
        names = [t for t in self.tables() if "guest" in t]
        self.assertEqual(len(names), 1, f"which table holds guest links? {self.tables()}")
        return names[0]

    def test_token_is_stored_only_as_its_sha256(self) -> None:
        s = self.school()
        room = s.room("tina")["id"]
        link = s.ok("tina", "POST", f"/rooms/{room}/guests", {"name": "G"}, status=(201,))
        token = link["token"]
        for table in self.tables():
            self.assertNotIn(token, self.dump(table), f"the token is readable in {table}")
        rows = self.dump(self.guest_table())
        forms = set()
        for data in (token.encode(), ):
            digest = hashlib.sha256(data).digest()
            forms |= {digest.hex(), base64.b64encode(digest).decode().rstrip("="),
                      b64url(digest)}
        try:
            raw = b64url_decode(token)
            digest = hashlib.sha256(raw).digest()
            forms |= {digest.hex(), base64.b64encode(digest).decode().rstrip("="),
                      b64url(digest)}
        except (AssertionError, ValueError):
            pass
        self.assertTrue(any(f in rows for f in forms),
                        "no SHA-256 of the token is stored with the link")

    def test_refusals(self) -> None:
        s = self.school()
        gid = s.group("4c", owner="tina", members=["sam"])
        room = s.room("tina", group_id=gid)["id"]
        link = s.ok("tina", "POST", f"/rooms/{room}/guests", {"name": "G"}, status=(201,))
        path = f"/rooms/{room}/guests"
        # A member who does not moderate, a non-member, no token.
        self.assertProblem(s.req("sam", "POST", path, {"name": "x"}), 403, "forbidden")
        self.assertProblem(s.req("sam", "GET", path), 403, "forbidden")
        self.assertProblem(s.req("sam", "DELETE", f"{path}/{link['id']}"), 403, "forbidden")
        self.assertProblem(s.req("tom", "POST", path, {"name": "x"}), 404)
        self.assertProblem(s.req("tom", "DELETE", f"{path}/{link['id']}"), 404)
        self.assertProblem(s.req(None, "POST", path, {"name": "x"}), 401)
        # Bad bodies.
        for body in ({}, {"name": ""}, {"name": 5}, {"name": None}, {"name": "x", "role": "mod"},
                     {"name": "x", "expires_at": "tomorrow"},
                     {"name": "x", "expires_at": iso(now() - datetime.timedelta(hours=1))},
                     {"name": "x", "expires_at": iso(now() + datetime.timedelta(days=91))},
                     {"name": "x", "expires_at": 1767225600}):
            with self.subTest(body=body):
                self.assertProblem(s.req("tina", "POST", path, body), 400, "invalid-request")
        for raw in (b'{"name": ', b"[]", b'"x"'):
            with self.subTest(raw=raw):
                self.assertProblem(self.host.request(
                    "POST", s.base + path, raw, token=s.tokens["tina"],
                    headers={"Content-Type": "application/json"}), 400)
        # 90 days is allowed.
        far = now() + datetime.timedelta(days=89, hours=23)
        s.ok("tina", "POST", path, {"name": "lang", "expires_at": iso(far)}, status=(201,))
        # A guest link id of another room, through this room.
        other_room = s.room("tina")["id"]
        other = s.ok("tina", "POST", f"/rooms/{other_room}/guests", {"name": "O"}, status=(201,))
        self.assertProblem(s.req("tina", "DELETE", f"{path}/{other['id']}"), 404)
        self.assertProblem(s.req("tina", "DELETE", f"{path}/not-a-uuid"), 404)
        self.assertEqual(sorted(g["name"] for g in s.ok("tina", "GET", path)["items"]),
                         ["G", "lang"])
        fixtures.check(self.host.request("POST", other["join_path"]), 200)
        # A guest is no moderator: a locked room, or one outside its schedule, refuses them.
        s.ok("tina", "PATCH", f"/rooms/{room}", {"locked": True})
        self.assertProblem(self.host.request("POST", link["join_path"]), 403)
        s.ok("tina", "PATCH", f"/rooms/{room}", {
            "locked": False, "starts_at": iso(now() + datetime.timedelta(hours=3))})
        self.assertProblem(self.host.request("POST", link["join_path"]), 409)
        self.assertEqual(self.visits(room), {})
        # Deleting the room takes its links.
        s.ok("tina", "DELETE", f"/rooms/{other_room}", status=(204,))
        self.assertProblem(self.host.request("POST", other["join_path"]), 404)
        self.assertEqual(self.sql(f"SELECT count(*) FROM conference.{self.guest_table()} "
                                  f"WHERE id = '{other['id']}'"), "0")


if __name__ == "__main__":
    harness.main()
