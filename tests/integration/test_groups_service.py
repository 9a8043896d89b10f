# SPDX-License-Identifier: Apache-2.0
"""test_groups_service.py - the groups plugin as other plugins see it: its service table
(atrium/groups.h), its events, and the host's dependency handling, through the test-tree
plugin groupsprobe (tests/plugins/groupsprobe/), which depends on groups and exposes each
service call as a route.

The host runs with a plugin directory of its own, made of symlinks: every .so of
build/plugins/ plus the probe. The probe's link is named so that it sorts BEFORE groups.so;
the loader opens files in name order, so the probe's init finding the service proves that
init runs in dependency order, not file order. A second host gets a directory without
groups.so and must refuse the probe with a clear reason in /api/v1/modules.

Registered in tests/plugins/meson.build (its `depends` must name the probe), suite
integration; it finds the probe through $ATRIUM_GROUPSPROBE_SO.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import uuid
from typing import Any

import fixtures
import harness

BUILD = os.environ.get("ATRIUM_BUILD_DIR") or os.path.join(harness.SOURCE_DIR, "build")
PROBE = os.environ.get("ATRIUM_GROUPSPROBE_SO") or os.path.join(
    BUILD, "tests", "plugins", "groupsprobe", "groupsprobe.so")
PLUGINS = os.environ.get("ATRIUM_PLUGIN_DIR") or os.path.join(BUILD, "plugins")

# The probe's link name sorts before "groups.so" (see the module docstring).
PROBE_LINK = "00-groupsprobe.so"


def plugin_dir(with_groups: bool = True) -> str:
    """A temp plugin directory: symlinks to build/plugins/*.so (minus groups.so unless
    with_groups) and to the probe."""
    if not os.path.isfile(PROBE):
        raise harness.HarnessError(f"the probe plugin is not built: {PROBE} (ninja -C build)")
    d = tempfile.mkdtemp(prefix="atrium-groupsprobe-")
    sos = sorted(glob.glob(os.path.join(PLUGINS, "*.so")))
    if not any(os.path.basename(p) == "groups.so" for p in sos):
        raise harness.HarnessError(f"groups.so not found in {PLUGINS}")
    for so in sos:
        if with_groups or os.path.basename(so) != "groups.so":
            os.symlink(os.path.abspath(so), os.path.join(d, os.path.basename(so)))
    os.symlink(os.path.abspath(PROBE), os.path.join(d, PROBE_LINK))
    return d


def modules(host: harness.Atriumd) -> dict[str, dict]:
    resp = fixtures.check(host.request("GET", "/api/v1/modules"), 200, what="GET /api/v1/modules")
    return {m["name"]: m for m in resp.json()["items"]}


class Probe:
    """A school with groups and groupsprobe enabled and a few people, plus helpers."""

    def __init__(self, host: harness.Atriumd, op: str, slug: str) -> None:
        self.host, self.slug = host, slug
        fixtures.make_school(host, op, slug, modules=["groups", "groupsprobe"])
        self.ids: dict[str, str] = {}
        self.tokens: dict[str, str] = {"op": op}
        for name, roles in (("ada", ["admin"]), ("tina", ["teacher"]), ("sam", ["student"]),
                            ("sue", ["student"])):
            self.ids[name] = fixtures.make_user(host, op, slug, name, roles=roles)["id"]
            self.tokens[name] = fixtures.login(host, name, school=slug)

    def probe(self, route: str, who: str = "ada", status: int = 200, **query: str) -> Any:
        q = "&".join(f"{k}={v}" for k, v in query.items())
        resp = self.host.request("GET", f"/api/v1/schools/{self.slug}/groupsprobe/{route}"
                                 + (f"?{q}" if q else ""), token=self.tokens[who])
        fixtures.check(resp, status, what=f"GET groupsprobe/{route}?{q}")
        return resp.json()

    def groups(self, method: str, path: str, body: Any = None, who: str = "tina",
               status: tuple[int, ...] = (200, 201, 204)) -> Any:
        resp = self.host.request(method, f"/api/v1/schools/{self.slug}/groups{path}", body,
                                 token=self.tokens[who])
        fixtures.check(resp, *status, what=f"{method} groups{path}")
        return resp.json() if resp.body else None

    def role(self, group: str, user: str) -> str:
        return self.probe("is_member", group=group, user=user)["role"]

    def events(self) -> list[dict]:
        items, cursor = [], None
        while True:
            q = {"limit": "7"}
            if cursor:
                q["cursor"] = cursor
            page = self.probe("events", **q)
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items


class GroupsService(harness.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.dir = plugin_dir(with_groups=True)
        cls.pg = harness.PgCluster(name="pg-groups-service")
        cls.pg.start()
        cls.host = harness.Atriumd(cls.pg, plugin_dir=cls.dir)
        try:
            cls.host.start()
        except BaseException:
            cls.pg.cleanup()
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise
        cls.op = fixtures.make_operator(cls.host)
        cls.n = 0

    @classmethod
    def tearDownClass(cls) -> None:
        cls.host.cleanup()
        cls.pg.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def school(self) -> Probe:
        type(self).n += 1
        return Probe(self.host, self.op, f"probe{self.n}")

    # -- loading -------------------------------------------------------------------------

    def test_probe_loads_after_groups(self):
        mods = modules(self.host)
        self.assertEqual(mods["groups"]["state"], "loaded", mods["groups"])
        probe = mods["groupsprobe"]
        self.assertEqual(probe["state"], "loaded", probe)
        self.assertEqual(probe["file"], PROBE_LINK)
        self.assertIsNone(probe["error"])
        self.assertEqual(probe["dependencies"], [{"name": "groups", "min_version": "1.0.0"}])

    def test_enabling_needs_groups_first(self):
        s = self.school()
        slug = "probe-deps"
        fixtures.make_school(self.host, self.op, slug)
        resp = self.host.request("PUT", f"/api/v1/schools/{slug}/modules/groupsprobe",
                                 token=self.op)
        p = harness.assert_problem(resp, 409, "conflict")
        self.assertIn("groups", p["detail"])
        # ... and groups cannot go while the probe is on.
        resp = self.host.request("DELETE", f"/api/v1/schools/{s.slug}/modules/groups",
                                 token=self.op)
        p = harness.assert_problem(resp, 409, "conflict")
        self.assertIn("groupsprobe", p["detail"])

    def test_probe_table_is_isolated_by_school(self):
        out = self.pg.psql(
            "SELECT c.relrowsecurity, c.relforcerowsecurity, "
            "(SELECT count(*) FROM pg_policies p WHERE p.schemaname = 'groupsprobe' "
            " AND p.tablename = 'events') FROM pg_class c "
            "WHERE c.oid = 'groupsprobe.events'::regclass")
        self.assertEqual(out.strip(), "t|t|1")

    # -- the service table -----------------------------------------------------------------

    def test_lookups(self):
        s = self.school()
        other = self.school()
        a = s.groups("POST", "", {"name": "A", "type": "class"})
        b = s.groups("POST", "", {"name": "B", "type": "course"})
        empty = s.groups("POST", "", {"name": "Empty", "type": "custom"}, who="op")  # no owner
        s.groups("PUT", f"/{a['id']}/members/{s.ids['sam']}", {"role": "member"})
        s.groups("PUT", f"/{a['id']}/members/{s.ids['sue']}", {"role": "owner"})
        s.groups("PUT", f"/{b['id']}/members/{s.ids['sam']}", {"role": "member"})
        foreign = other.groups("POST", "", {"name": "Foreign", "type": "class"})
        other.groups("PUT", f"/{foreign['id']}/members/{other.ids['sam']}", {"role": "member"})
        ids = s.ids

        # is_member
        self.assertEqual(s.role(a["id"], ids["tina"]), "owner")
        self.assertEqual(s.role(a["id"], ids["sue"]), "owner")
        self.assertEqual(s.role(a["id"], ids["sam"]), "member")
        self.assertEqual(s.role(a["id"], ids["ada"]), "none")
        self.assertEqual(s.role(b["id"], ids["sue"]), "none")
        self.assertEqual(s.role(str(uuid.uuid4()), ids["sam"]), "none")
        self.assertEqual(s.role(a["id"], str(uuid.uuid4())), "none")
        self.assertEqual(s.role("not-a-uuid", ids["sam"]), "none")
        self.assertEqual(s.role(a["id"], "not-a-uuid"), "none")
        self.assertEqual(s.role("", ""), "none")
        # Another school's group and people do not exist here.
        self.assertEqual(s.role(foreign["id"], other.ids["sam"]), "none")
        self.assertEqual(s.role(a["id"], other.ids["sam"]), "none")
        self.assertEqual(other.role(foreign["id"], other.ids["sam"]), "member")

        # members_of: owners first, then by id
        got = s.probe("members_of", group=a["id"])["members"]
        owners = sorted([ids["tina"], ids["sue"]])
        self.assertEqual(got, owners + [ids["sam"]])
        self.assertEqual(s.probe("members_of", group=empty["id"])["members"], [])
        self.assertEqual(s.probe("members_of", group=str(uuid.uuid4()))["members"], [])
        self.assertEqual(s.probe("members_of", group="junk")["members"], [])
        self.assertEqual(s.probe("members_of", group=foreign["id"])["members"], [])

        # groups_of: sorted ids
        self.assertEqual(s.probe("groups_of", user=ids["sam"])["groups"],
                         sorted([a["id"], b["id"]]))
        self.assertEqual(s.probe("groups_of", user=ids["tina"])["groups"],
                         sorted([a["id"], b["id"]]))
        self.assertEqual(s.probe("groups_of", user=ids["ada"])["groups"], [])
        self.assertEqual(s.probe("groups_of", user="junk")["groups"], [])
        self.assertEqual(s.probe("groups_of", user=other.ids["sam"])["groups"], [])

        # group_exists
        self.assertEqual(s.probe("exists", group=a["id"]), {"exists": True})
        self.assertEqual(s.probe("exists", group=empty["id"]), {"exists": True})
        self.assertEqual(s.probe("exists", group=str(uuid.uuid4())), {"exists": False})
        self.assertEqual(s.probe("exists", group="junk"), {"exists": False})
        self.assertEqual(s.probe("exists", group=foreign["id"]), {"exists": False})

        # After changes, the answers follow at once.
        s.groups("DELETE", f"/{a['id']}/members/{ids['sam']}")
        self.assertEqual(s.role(a["id"], ids["sam"]), "none")
        s.groups("DELETE", f"/{b['id']}")
        self.assertEqual(s.probe("exists", group=b["id"]), {"exists": False})
        self.assertEqual(s.role(b["id"], ids["sam"]), "none")
        self.assertEqual(s.probe("groups_of", user=ids["sam"])["groups"], [])

    def test_probe_routes_are_guarded(self):
        s = self.school()
        g = s.groups("POST", "", {"name": "G", "type": "class"})
        # groupsprobe.use is an admin permission by default.
        resp = self.host.request(
            "GET", f"/api/v1/schools/{s.slug}/groupsprobe/is_member?group={g['id']}&user=x",
            token=s.tokens["tina"])
        harness.assert_problem(resp, 403, "forbidden")
        for route, query in (("is_member", "group=x"), ("is_member", "user=x"),
                             ("members_of", ""), ("groups_of", ""), ("exists", ""),
                             ("bench", f"group={g['id']}&user={s.ids['tina']}"),
                             ("bench", f"group={g['id']}&user={s.ids['tina']}&n=0"),
                             ("bench", f"group={g['id']}&user={s.ids['tina']}&n=1000001"),
                             ("bench", f"group={g['id']}&user={s.ids['tina']}&n=ten")):
            with self.subTest(route=route, query=query):
                resp = self.host.request(
                    "GET", f"/api/v1/schools/{s.slug}/groupsprobe/{route}?{query}",
                    token=s.tokens["ada"])
                harness.assert_problem(resp, 400, "invalid-request")

    def test_bench_helper(self):
        s = self.school()
        g = s.groups("POST", "", {"name": "G", "type": "class"})
        out = s.probe("bench", group=g["id"], user=s.ids["tina"], n="500")
        self.assertEqual(out["calls"], 500)
        self.assertEqual(out["role"], "owner")
        self.assertGreater(out["seconds"], 0)
        self.assertGreater(out["per_second"], 0)
        self.assertIn("test tree only", out["benchmark_helper"])

    # -- events ----------------------------------------------------------------------------

    def assertEvents(self, got: list[dict], want: list[tuple]) -> None:
        """want: (event, group_id, user_id, role_seen, group_seen) per event, in order."""
        self.assertEqual([(e["event"], e["group_id"], e["user_id"], e["role_seen"],
                           e["group_seen"]) for e in got], want)

    def test_events_arrive_after_commit(self):
        s = self.school()
        ids = s.ids
        self.assertEqual(s.events(), [])
        g = s.groups("POST", "", {"name": "Klasse 6a", "type": "class"})
        gid = g["id"]
        # Delivered before the answer: no waiting needed. The subscriber's own transaction
        # already sees the group and the creator's membership: it ran after the commit.
        self.assertEvents(s.events(), [
            ("group.created", gid, None, None, True),
            ("group.member_added", gid, ids["tina"], "owner", True),
        ])
        mark = len(s.events())

        s.groups("PUT", f"/{gid}/members/{ids['sam']}", {"role": "member"})
        s.groups("PUT", f"/{gid}/members/{ids['sam']}", {"role": "owner"})  # no event: re-role
        s.groups("DELETE", f"/{gid}/members/{ids['sam']}")
        s.groups("POST", f"/{gid}/members:batch",
                 {"add": [{"user_id": ids["sam"]}, {"user_id": ids["sue"]}]})
        s.groups("POST", f"/{gid}/members:batch",
                 {"add": [{"user_id": ids["ada"]}], "remove": [ids["sue"]]})
        self.assertEvents(s.events()[mark:], [
            ("group.member_added", gid, ids["sam"], "member", True),
            ("group.member_removed", gid, ids["sam"], "none", True),
            ("group.member_added", gid, ids["sam"], "member", True),
            ("group.member_added", gid, ids["sue"], "member", True),
            ("group.member_removed", gid, ids["sue"], "none", True),
            ("group.member_added", gid, ids["ada"], "member", True),
        ])
        mark = len(s.events())

        s.groups("DELETE", f"/{gid}")
        # The group is gone when its deletion is delivered.
        self.assertEvents(s.events()[mark:], [("group.deleted", gid, None, None, False)])
        seqs = [e["seq"] for e in s.events()]
        self.assertEqual(seqs, sorted(set(seqs)))

    def test_failed_requests_publish_nothing(self):
        s = self.school()
        ids = s.ids
        g = s.groups("POST", "", {"name": "G", "type": "class"})
        gid = g["id"]
        s.groups("PUT", f"/{gid}/members/{ids['sam']}", {"role": "member"})
        before = s.events()
        # A batch whose last entry is bad: the first ones published member_added inside the
        # transaction, which then rolled back; none of those events may arrive.
        resp = self.host.request(
            "POST", f"/api/v1/schools/{s.slug}/groups/{gid}/members:batch",
            {"add": [{"user_id": ids["sue"]}, {"user_id": ids["ada"]},
                     {"user_id": str(uuid.uuid4())}],
             "remove": [ids["sam"]]},
            token=s.tokens["tina"])
        harness.assert_problem(resp, 404)
        # The last owner may not leave: member_removed was published, then rolled back.
        resp = self.host.request(
            "DELETE", f"/api/v1/schools/{s.slug}/groups/{gid}/members/{ids['tina']}",
            token=s.tokens["tina"])
        harness.assert_problem(resp, 409)
        resp = self.host.request(
            "POST", f"/api/v1/schools/{s.slug}/groups/{gid}/members:batch",
            {"add": [{"user_id": ids["sue"]}, {"user_id": ids["tina"], "role": "member"}]},
            token=s.tokens["tina"])
        harness.assert_problem(resp, 409)
        self.assertEqual(s.events(), before)
        self.assertEqual(s.role(gid, ids["sue"]), "none")
        self.assertEqual(s.role(gid, ids["sam"]), "member")

    def test_events_stay_in_their_school(self):
        north, south = self.school(), self.school()
        north.groups("POST", "", {"name": "N", "type": "class"})
        self.assertEqual(south.events(), [])
        self.assertEqual(len(north.events()), 2)

    def test_user_deletion_takes_memberships_from_the_service(self):
        s = self.school()
        g = s.groups("POST", "", {"name": "G", "type": "class"})
        s.groups("PUT", f"/{g['id']}/members/{s.ids['sue']}", {"role": "member"})
        self.assertEqual(s.role(g["id"], s.ids["sue"]), "member")
        fixtures.check(self.host.request("DELETE", f"/api/v1/schools/{s.slug}/users/"
                                         f"{s.ids['sue']}", token=s.tokens["ada"]), 204)
        self.assertEqual(s.role(g["id"], s.ids["sue"]), "none")
        self.assertEqual(s.probe("members_of", group=g["id"])["members"], [s.ids["tina"]])

    # -- the query parameters a route declares (ABI 1.5) ---------------------------------

    def test_undeclared_query_parameters_are_reported_once(self):
        # groupsprobe's /undeclared reads ?x= without declaring it and pages without
        # ATRIUM_ROUTE_PAGED: it still works, and the host says so once per parameter.
        s = self.school()
        for _ in range(3):
            self.assertEqual(s.probe("undeclared", x="1", limit="5"), {"x": "1", "limit": 5})
        log = self.host.log_text()
        for name in ("x", "limit", "cursor"):
            said = [ln for ln in log.splitlines()
                    if "groupsprobe/undeclared reads the query parameter " f'"{name}"' in ln]
            self.assertEqual(len(said), 1, f"{name}: {said}")
            self.assertIn(harness.host.UNDECLARED_QUERY, said[0])
        # The declared ones of the other routes are not reported.
        g = s.groups("POST", "", {"name": "Q", "type": "class"})
        s.probe("is_member", group=g["id"], user=s.ids["tina"])
        s.probe("events", limit="2")
        self.assertNotIn("/groupsprobe/is_member reads", self.host.log_text())
        self.assertNotIn("/groupsprobe/events reads", self.host.log_text())

    def test_answers_are_checked_against_their_response_schema(self):
        # Test hosts run with [http] check_responses: groupsprobe's /misdescribed answers a
        # field its schema lacks; the client gets the answer, the log says what is wrong.
        s = self.school()
        self.assertEqual(s.probe("misdescribed"), {"said": "yes", "unsaid": 1})
        said = [ln for ln in self.host.log_text().splitlines()
                if harness.host.UNDESCRIBED_ANSWER in ln]
        self.assertEqual(len(said), 1, said)
        self.assertIn("GET /api/v1/schools/{school}/groupsprobe/misdescribed", said[0])
        self.assertIn("/unsaid: unknown field", said[0])

    def test_answers_are_checked_against_their_response_type(self):
        # /mistyped answers text/plain and names no response_type (so only JSON is said);
        # /typed answers the same and says so. The client gets both answers; the log names
        # the first only.
        s = self.school()
        for route in ("mistyped", "typed"):
            resp = self.host.request("GET", f"/api/v1/schools/{s.slug}/groupsprobe/{route}",
                                     token=s.tokens["ada"])
            fixtures.check(resp, 200, what=route)
            self.assertEqual((resp.headers.get("content-type"), resp.body),
                             ("text/plain; charset=utf-8", b"plain\n"))
        said = [ln for ln in self.host.log_text().splitlines()
                if harness.host.UNDESCRIBED_TYPE in ln]
        self.assertEqual(len(said), 1, said)
        self.assertIn("GET /api/v1/schools/{school}/groupsprobe/mistyped answered "
                      "text/plain; charset=utf-8", said[0])
        self.assertIn("(none: JSON only)", said[0])
        doc = self.host.request("GET", "/api/v1/openapi.json").json()
        typed = doc["paths"]["/api/v1/schools/{school}/groupsprobe/typed"]["get"]
        self.assertEqual(typed["responses"]["200"]["content"],
                         {"text/plain": {"schema": {"type": "string"}}})
        mistyped = doc["paths"]["/api/v1/schools/{school}/groupsprobe/mistyped"]["get"]
        self.assertNotIn("content", mistyped["responses"]["200"])

    def test_openapi_lists_the_probe_parameters(self):
        doc = self.host.request("GET", "/api/v1/openapi.json").json()
        ops = doc["paths"]["/api/v1/schools/{school}/groupsprobe/is_member"]["get"]
        query = {p["name"]: p for p in ops["parameters"] if p["in"] == "query"}
        self.assertEqual(sorted(query), ["group", "user"])
        self.assertFalse(query["group"]["required"])
        events = doc["paths"]["/api/v1/schools/{school}/groupsprobe/events"]["get"]
        self.assertEqual([p["name"] for p in events["parameters"] if p["in"] == "query"],
                         ["limit", "cursor"])


class DependencyMissing(harness.TestCase):
    def test_probe_is_refused_without_groups(self):
        d = plugin_dir(with_groups=False)
        try:
            with harness.PgCluster(name="pg-no-groups") as pg, \
                    harness.Atriumd(pg, plugin_dir=d) as host:
                mods = modules(host)
                self.assertNotIn("groups", mods)
                probe = mods["groupsprobe"]
                self.assertEqual(probe["state"], "failed", probe)
                self.assertIn("missing dependency groups", probe["error"] or "")
                # The rest of the host serves on without it.
                self.assertEqual(mods["noticeboard"]["state"], "loaded")
                op = fixtures.make_operator(host)
                fixtures.make_school(host, op, "nogroups")
                resp = host.request("PUT", "/api/v1/schools/nogroups/modules/groupsprobe",
                                    token=op)
                harness.assert_problem(resp, 404, "not-found")
                resp = host.request("GET", "/api/v1/schools/nogroups/groupsprobe/events",
                                    token=op)
                harness.assert_problem(resp, 404, "not-found")
                self.assertRegex(host.log_text(), r"groupsprobe.*missing dependency groups")

                # --strict turns the refusal into a failed start.
                proc = host.run(["--strict", "migrate"], timeout=60)
                self.assertNotEqual(proc.returncode, 0, proc.stdout + proc.stderr)
                self.assertIn("missing dependency groups", proc.stdout + proc.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
