# SPDX-License-Identifier: Apache-2.0
"""test_school_cache.py - hosts keep which school a {school} names, and never a stale one.

A host keeps the school a slug names and that the route's module is on there, with the
school's epoch it saw, and sends both with the identity check; core.request_identity_at()
trusts them only while the epoch is still the school's (schema/0017_school_cache.sql,
core/pipeline/school-cache.c). These tests hold it to that, on two hosts sharing one
database: the kept school is used (the metrics say so); a module switched off, a school
deleted and a slug changed show on the very next request on both hosts; a person of
another school still finds no such school when the host keeps it; and WebDAV callers who
send a password (schema 0018) are held to the same.
"""

import base64
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402


def checks(host: harness.Atriumd) -> dict[str, float]:
    return fixtures.counts_by_result(host, "atrium_school_cache_checks_total",
                                     ("kept", "resolved"),
                                     "/metrics has no atrium_school_cache_checks_total")


class SchoolCache(fixtures.SharedHost):
    EXIT_CHECK = ("school-cache", "handle.c")
    other: harness.Atriumd | None = None

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.other = harness.Atriumd(cls.pg)
        cls.other.start()

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.other is not None:
            cls.other.cleanup()
            cls.other = None
        super().tearDownClass()

    def setUp(self) -> None:
        self.s = fixtures.School(self.host, self.op_token, modules=("noticeboard",))
        self.notices = f"/api/v1/schools/{self.s.slug}/noticeboard/notices"

    def get(self, host: harness.Atriumd, path: str, token: str) -> harness.Response:
        return host.request("GET", path, token=token)

    def warm(self, host: harness.Atriumd, path: str, token: str) -> None:
        """Two reads: the second must take the school the host kept (the metrics count it)."""
        self.assertEqual(self.get(host, path, token).status, 200)
        before = checks(host)
        self.assertEqual(self.get(host, path, token).status, 200)
        after = checks(host)
        self.assertEqual(after["kept"], before["kept"] + 1, "the kept school was not used")
        self.assertEqual(after["resolved"], before["resolved"])

    def test_the_kept_school_is_used_by_school_routes_only(self):
        self.warm(self.host, self.notices, self.s.tokens["sam"])
        before = checks(self.host)
        self.assertEqual(self.get(self.host, "/api/v1/me", self.s.tokens["sam"]).status, 200)
        self.assertEqual(checks(self.host), before, "/me has no school to keep")
        # A route of the school that belongs to no module (its people were made through it).
        self.warm(self.host, f"/api/v1/schools/{self.s.slug}/users", self.s.tokens["ada"])

    def test_a_module_switched_off_is_gone_on_the_next_request_on_every_host(self):
        for host in (self.host, self.other):
            self.warm(host, self.notices, self.s.tokens["sam"])
        module = f"/api/v1/schools/{self.s.slug}/modules/noticeboard"
        fixtures.check(self.host.request("DELETE", module, token=self.s.tokens["ada"]), 204)
        for host in (self.other, self.host):
            problem = harness.assert_problem(
                self.get(host, self.notices, self.s.tokens["sam"]), 404, "/not-found")
            self.assertIn("noticeboard", problem["detail"])
        fixtures.enable_module(self.host, self.s.tokens["ada"], self.s.slug, "noticeboard")
        for host in (self.other, self.host):
            self.assertEqual(self.get(host, self.notices, self.s.tokens["sam"]).status, 200)

    def test_a_school_deleted_is_gone_on_the_next_request_on_every_host(self):
        users = f"/api/v1/schools/{self.s.slug}/users"
        for host in (self.host, self.other):
            self.warm(host, users, self.op_token)
        fixtures.check(self.host.request("DELETE", f"/api/v1/schools/{self.s.slug}",
                                         token=self.op_token), 204)
        for host in (self.other, self.host):
            problem = harness.assert_problem(self.get(host, users, self.op_token), 404,
                                             "/not-found")
            self.assertIn(self.s.slug, problem["detail"])

    def test_a_changed_slug_names_the_school_no_more(self):
        # The API keeps a school's slug; the database may still change it (an operator's
        # rename by hand): the old slug must not lead to the school from a host's memory.
        for host in (self.host, self.other):
            self.warm(host, self.notices, self.s.tokens["sam"])
        renamed = self.s.slug + "-new"
        self.pg.psql(f"UPDATE core.schools SET slug = '{renamed}' WHERE id = '{self.s.id}'")
        for host in (self.other, self.host):
            harness.assert_problem(self.get(host, self.notices, self.s.tokens["sam"]), 404)
            self.assertEqual(self.get(host, f"/api/v1/schools/{renamed}/noticeboard/notices",
                                      self.s.tokens["sam"]).status, 200)

    def test_another_schools_person_finds_no_such_school(self):
        self.warm(self.host, self.notices, self.s.tokens["sam"])
        stranger = fixtures.School(self.host, self.op_token, modules=("noticeboard",))
        before = checks(self.host)
        problem = harness.assert_problem(
            self.get(self.host, self.notices, stranger.tokens["sam"]), 404, "/not-found")
        self.assertIn(self.s.slug, problem["detail"])
        self.assertEqual(checks(self.host)["kept"], before["kept"] + 1,
                         "the refusal came from the kept school")
        # An unknown token on a kept school is still no session.
        harness.assert_problem(self.get(self.host, self.notices, "atr_" + "x" * 43), 401)

    def test_a_webdav_password_caller_is_held_to_the_same(self):
        s = fixtures.School(self.host, self.op_token, modules=("groups", "files"))
        auth = "Basic " + base64.b64encode(f"tom:{fixtures.PASSWORD}".encode()).decode()
        home = f"/dav/{s.slug}/files/home/"

        def propfind(host: harness.Atriumd) -> harness.Response:
            return host.request("PROPFIND", home, headers={"Authorization": auth, "Depth": "0"})

        for host in (self.host, self.other):
            self.assertEqual(propfind(host).status, 207)
            before = checks(host)
            self.assertEqual(propfind(host).status, 207)
            self.assertEqual(checks(host)["kept"], before["kept"] + 1,
                             "the kept school was not used")
        module = f"/api/v1/schools/{s.slug}/modules/files"
        fixtures.check(self.host.request("DELETE", module, token=s.tokens["ada"]), 204)
        for host in (self.other, self.host):
            self.assertEqual(propfind(host).status, 404)
        fixtures.enable_module(self.host, s.tokens["ada"], s.slug, "files")
        self.assertEqual(propfind(self.other).status, 207)
        # A person disabled is no caller, whatever the host keeps about the school.
        fixtures.check(self.host.request("PATCH", f"/api/v1/schools/{s.slug}/users/{s.ids['tom']}",
                                         {"disabled": True}, token=s.tokens["ada"]), 200)
        for host in (self.other, self.host):
            self.assertEqual(propfind(host).status, 401)

    def test_every_school_has_an_epoch_and_a_module_change_moves_it(self):
        epoch = f"SELECT epoch FROM core.permission_epochs WHERE school_id = '{self.s.id}'"
        first = self.pg.psql(epoch).strip()
        self.assertRegex(first, r"^\d+$", "a new school has its epoch row")
        fixtures.enable_module(self.host, self.s.tokens["ada"], self.s.slug, "groups")
        second = self.pg.psql(epoch).strip()
        self.assertGreater(int(second), int(first))


if __name__ == "__main__":
    harness.main()
