# SPDX-License-Identifier: Apache-2.0
"""test_conference_module.py - the conference module as a whole: its permissions and their default
roles, what happens to rooms and visits when people (user.deleted) and groups (group.deleted)
go, the GDPR export, the module switched off, and the routes in the OpenAPI document.

The school, the TestCase base and the JWT verifier are conference_fixtures.py's; the other
conference route families are in the other test_conference_*.py files (conference_fixtures.py
lists them).
"""

from __future__ import annotations

import re

import fixtures
import harness
from conference_fixtures import ConferenceTestCase, jitsi_destroyed


# ------------------------------------------------------------------------------------------
# Permissions
# ------------------------------------------------------------------------------------------


class Catalogue(ConferenceTestCase):
    def test_permissions_and_their_default_roles(self) -> None:
        s = self.school()
        got = fixtures.check(self.host.request("GET", "/api/v1/permissions",
                                               token=s.tokens["ada"]), 200).json()
        items = {p["name"]: p for p in got["items"]}
        want = {
            "conference.join": {"admin", "teacher", "student", "parent", "staff"},
            "conference.create": {"admin", "teacher", "staff"},
            "conference.moderate": {"admin"},
            "conference.stats": {"admin"},
            "conference.manage": {"admin"},
        }
        for name, roles in want.items():
            with self.subTest(name):
                self.assertIn(name, items)
                self.assertEqual(set(items[name]["default_roles"]), roles)
                self.assertEqual(items[name]["owner"], "conference")


# ------------------------------------------------------------------------------------------
# People and groups go; export; the module switched off
# ------------------------------------------------------------------------------------------


class Lifecycle(ConferenceTestCase):
    def test_deleted_user_keeps_visits_without_the_person(self) -> None:
        s = self.school()
        room = s.room("tina")["id"]
        first = s.visit("sam", room)
        fixtures.check(s.req("sam", "POST", f"/rooms/{room}/leave"), 204)
        second = s.visit("sam", room)
        kept = s.visit("sue", room)
        fixtures.check(s.raw("ada", "DELETE", f"/users/{s.ids['sam']}"), 204, what="delete sam")
        self.assertEqual(self.visits(room), {first: (None, True), second: (None, False),
                                             kept: (s.ids["sue"], False)})
        self.assertEqual(self.sql(f"SELECT count(*) FROM conference.attendance "
                                  f"WHERE user_id = '{s.ids['sam']}'"), "0")
        # A room the person made: whether it stays is not said; if it does, not with them.
        mine = s.room("tom", "Tom's")["id"]
        fixtures.check(s.raw("ada", "DELETE", f"/users/{s.ids['tom']}"), 204, what="delete tom")
        got = s.req("ada", "GET", f"/rooms/{mine}")
        if got.status != 404:
            self.assertEqual(got.status, 200, got)
            self.assertIsNone(got.json()["created_by"])

    def test_deleted_group_takes_its_rooms(self) -> None:
        s = self.school()
        gid = s.group("AG Theater", owner="tina", members=["sam"])
        room = s.room("tina", group_id=gid)["id"]
        keep = s.room("tina")["id"]
        link = s.ok("tina", "POST", f"/rooms/{room}/guests", {"name": "G"}, status=(201,))
        visit = s.visit("sam", room)
        fixtures.check(s.raw("tina", "DELETE", f"/groups/{gid}"), 204, what="delete group")
        self.assertProblem(s.req("ada", "GET", f"/rooms/{room}"), 404)
        self.assertEqual(self.sql(f"SELECT count(*) FROM conference.rooms WHERE id = '{room}'"),
                         "0")
        self.assertProblem(self.host.request("POST", link["join_path"]), 404)
        self.assertEqual(self.sql(f"SELECT count(*) FROM conference.attendance "
                                  f"WHERE id = '{visit}'"), "1")
        self.assertEqual(s.visible("ada"), [keep])

    def test_gdpr_export(self) -> None:
        s = self.school()
        gid = s.group("1a", owner="tina", members=["sam"])
        r1 = s.room("tina", "Aula")["id"]
        r2 = s.room("tina", "1a", group_id=gid)["id"]
        s.join("sam", r1)
        fixtures.check(s.req("sam", "POST", f"/rooms/{r1}/leave"), 204)
        s.join("sam", r2)
        s.join("tina", r1)   # another's visit, which must not be in sam's export
        for who in ("ada", "sam"):
            with self.subTest(exporter=who):
                out = fixtures.check(s.raw(who, "GET", f"/users/{s.ids['sam']}/export"), 200,
                                     what="export").json()
                part = out["modules"]["conference"] if "modules" in out else out["conference"]
                visits = part["attendance"]
                self.assertEqual(len(visits), 2, visits)
                self.assertEqual(sorted(v["room_id"] for v in visits), sorted([r1, r2]))
                self.assertEqual(sum(1 for v in visits if v.get("left_at")), 1, visits)
        tina = fixtures.check(s.raw("ada", "GET", f"/users/{s.ids['tina']}/export"), 200).json()
        part = tina["modules"]["conference"] if "modules" in tina else tina["conference"]
        self.assertEqual([v["room_id"] for v in part["attendance"]], [r1])

    def test_module_disabled(self) -> None:
        s = self.school()
        room = s.room("tina")["id"]
        link = s.ok("tina", "POST", f"/rooms/{room}/guests", {"name": "G"}, status=(201,))
        events = s.ok("ada", "GET", "/backend")["events_path"]
        fixtures.check(s.raw("op", "DELETE", "/modules/conference"), 204, what="disable")
        for method, path, body in (
                ("GET", "/backend", None), ("GET", "/rooms", None),
                ("POST", "/rooms", {"name": "x"}), ("GET", f"/rooms/{room}", None),
                ("POST", f"/rooms/{room}/join", None), ("GET", f"/rooms/{room}/guests", None),
                ("GET", "/stats", None)):
            with self.subTest(method=method, path=path):
                self.assertProblem(s.req("ada", method, path, body), 404, "not-found")
        self.assertProblem(self.host.request("POST", link["join_path"]), 404)
        self.assertProblem(self.host.request("POST", events, jitsi_destroyed(room)), 404)
        # A school that never had it.
        bare = self.school(modules=("groups",), backend=False)
        self.assertProblem(bare.req("ada", "GET", "/rooms"), 404)
        self.assertProblem(bare.req("tina", "POST", "/rooms", {"name": "x"}), 404)


# ------------------------------------------------------------------------------------------
# OpenAPI
# ------------------------------------------------------------------------------------------


class OpenApi(ConferenceTestCase):
    def test_routes_are_documented(self) -> None:
        doc = fixtures.check(self.host.request("GET", "/api/v1/openapi.json"), 200).json()
        paths = {re.sub(r"\{[^}]+\}", "{}", p): item for p, item in doc["paths"].items()}
        base = "/api/v1/schools/{}/conference"
        want = {
            f"{base}/backend": {"get", "put", "delete"},
            f"{base}/rooms": {"get", "post"},
            f"{base}/rooms/{{}}": {"get", "patch", "delete"},
            f"{base}/rooms/{{}}/join": {"post"},
            f"{base}/rooms/{{}}/leave": {"post"},
            f"{base}/rooms/{{}}/end": {"post"},
            f"{base}/rooms/{{}}/guests": {"get", "post"},
            f"{base}/rooms/{{}}/guests/{{}}": {"delete"},
            f"{base}/guest/{{}}/join": {"post"},
            f"{base}/callbacks/jitsi/{{}}": {"post"},
            f"{base}/callbacks/bbb-end/{{}}": {"get"},
            f"{base}/stats": {"get"},
            "/api/v1/conference/stats": {"get"},
        }
        for path, methods in want.items():
            with self.subTest(path):
                self.assertIn(path, paths)
                self.assertLessEqual(methods, set(paths[path]))
        self.assertEqual(paths[f"{base}/rooms"]["post"].get("x-atrium-permission"),
                         "conference.create")
        self.assertEqual(paths[f"{base}/backend"]["put"].get("x-atrium-permission"),
                         "conference.manage")
        self.assertEqual(paths[f"{base}/stats"]["get"].get("x-atrium-permission"),
                         "conference.stats")
        self.assertEqual(paths[f"{base}/rooms"]["get"]["tags"], ["conference"])
        for public in (f"{base}/guest/{{}}/join", f"{base}/callbacks/jitsi/{{}}"):
            self.assertEqual(paths[public]["post"].get("security"), [], public)
        rb = paths[f"{base}/rooms"]["post"].get("requestBody")
        self.assertIsNotNone(rb, "POST /rooms has no requestBody")
        schema = rb["content"]["application/json"]["schema"]
        self.assertLessEqual({"name", "description", "group_id", "starts_at", "ends_at",
                              "max_participants", "lobby", "locked"}, set(schema["properties"]))
        from test_metrics_openapi import validate_openapi
        proc = validate_openapi(doc)
        self.assertEqual(proc.returncode, 0, f"{proc.stdout}{proc.stderr}")


if __name__ == "__main__":
    harness.main()
