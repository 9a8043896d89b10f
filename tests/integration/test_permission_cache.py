# SPDX-License-Identifier: Apache-2.0
"""test_permission_cache.py - hosts keep callers' permissions between requests, and never a
stale one.

A host keeps each session's permission list with the school's permission epoch it was
computed at, and sends that epoch with the identity check; core.request_identity() computes
the list again only when the epoch moved (schema/0004_permission_cache.sql,
core/pipeline/perm-cache.c). Every change to what grants a right takes a new epoch in the
changing transaction. These tests hold it to that: the kept list is used (the metrics say so),
and each way a right can change (a role's permissions, a person's roles, a group's rights, a
membership, the group itself) shows on the very next request of a session whose list is kept;
two tokens of one person never share a list; a revoked token fails at once; and the session's
last use is still recorded, at most once a minute.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402


def checks(host: harness.Atriumd) -> dict[str, float]:
    return fixtures.counts_by_result(host, "atrium_permission_cache_checks_total",
                                     ("current", "computed"),
                                     "/metrics has no atrium_permission_cache_checks_total: "
                                     "the cache is off")


class PermissionCache(fixtures.SharedHost):
    EXIT_CHECK = ("perm-cache", "handle.c")

    def setUp(self):
        self.s = fixtures.School(self.host, self.op_token, modules=("groups", "noticeboard"))

    def me(self, who: str, token: str | None = None) -> list[str]:
        resp = self.host.request("GET", "/api/v1/me", token=token or self.s.tokens[who])
        self.assertEqual(resp.status, 200, resp)
        return resp.json()["permissions"]

    def warm(self, who: str) -> list[str]:
        """Two reads: the second must use the kept list (the metrics count it)."""
        self.me(who)
        before = checks(self.host)
        perms = self.me(who)
        after = checks(self.host)
        self.assertEqual(after["current"], before["current"] + 1, "the kept list was not used")
        self.assertEqual(after["computed"], before["computed"])
        return perms

    def test_a_kept_list_is_used_and_equals_a_computed_one(self):
        kept = self.warm("sam")
        self.assertEqual(kept, sorted(kept))
        self.assertIn("mail.read", kept)
        # A new session of the same person computes its own list: the same one.
        fresh = fixtures.login(self.host, "sam", school=self.s.slug)
        before = checks(self.host)
        self.assertEqual(self.me("sam", fresh), kept)
        self.assertEqual(checks(self.host)["computed"], before["computed"] + 1)

    def test_a_roles_permissions_show_on_the_next_request(self):
        self.assertNotIn("noticeboard.post", self.warm("sam"))
        path = f"/roles/student/permissions"
        granted = self.s.raw("ada", "GET", path).json()["permissions"]
        self.s.raw("ada", "PUT", path, {"permissions": granted + ["noticeboard.post"]})
        self.assertIn("noticeboard.post", self.me("sam"))
        self.s.raw("ada", "PUT", path, {"permissions": granted})
        self.assertNotIn("noticeboard.post", self.me("sam"))
        self.assertEqual(sorted(self.me("sam")), sorted(granted))

    def test_a_persons_roles_show_on_the_next_request(self):
        self.assertNotIn("users.manage", self.warm("tom"))
        fixtures.check(self.s.raw("op", "PATCH", f"/users/{self.s.ids['tom']}",
                                  {"roles": ["teacher", "admin"]}), 200, what="make tom admin")
        self.assertIn("users.manage", self.me("tom"))
        fixtures.check(self.s.raw("op", "PATCH", f"/users/{self.s.ids['tom']}",
                                  {"roles": ["teacher"]}), 200, what="tom back to teacher")
        self.assertNotIn("users.manage", self.me("tom"))

    def test_a_groups_rights_and_members_show_on_the_next_request(self):
        gid = self.s.make_group("Redaktion", members=["sue"])
        self.assertNotIn("noticeboard.post", self.warm("sue"))
        fixtures.check(self.s.raw("ada", "PUT", f"/groups/{gid}/permissions",
                                  {"permissions": ["noticeboard.post"]}), 200,
                       what="grant the group noticeboard.post")
        self.assertIn("noticeboard.post", self.me("sue"))
        # Out of the group, back in, then the group goes.
        # (A group that grants rights takes members only from roles.manage: the admin.)
        fixtures.check(self.s.raw("ada", "DELETE", f"/groups/{gid}/members/{self.s.ids['sue']}"),
                       204, what="remove sue")
        self.assertNotIn("noticeboard.post", self.me("sue"))
        self.s.add_member(gid, "sue", who="ada")
        self.assertIn("noticeboard.post", self.me("sue"))
        fixtures.check(self.s.raw("ada", "DELETE", f"/groups/{gid}"), 204, what="delete group")
        self.assertNotIn("noticeboard.post", self.me("sue"))

    def test_the_epoch_moves_in_the_changing_transaction_only(self):
        def epoch() -> int:
            out = self.pg.psql("SELECT coalesce((SELECT epoch FROM core.permission_epochs "
                               f"WHERE school_id = '{self.s.id}'), 0)")
            return int(out)

        start = epoch()
        self.warm("sam")
        self.s.raw("ada", "GET", "/users")  # reads move nothing
        self.assertEqual(epoch(), start)
        gid = self.s.make_group("Chor", members=["sam", "sue"])
        moved = epoch()
        self.assertGreater(moved, start)
        # A change that fails (a member of no such person) takes no epoch.
        resp = self.s.raw("tina", "PUT", f"/groups/{gid}/members/{'0' * 8}-0000-0000-0000-"
                                         f"{'0' * 12}", {"role": "member"})
        self.assertGreaterEqual(resp.status, 400)
        self.assertEqual(epoch(), moved)
        # Another school's change leaves this one's lists alone.
        other = fixtures.School(self.host, self.op_token, modules=("groups",))
        other.make_group("Elsewhere", members=["sam"])
        self.assertEqual(epoch(), moved)

    def test_two_tokens_of_one_person_keep_their_own_lists(self):
        made = fixtures.check(self.host.request(
            "POST", "/api/v1/auth/tokens", {"name": "reader", "scopes": ["users.read"]},
            token=self.s.tokens["ada"]), 201, what="scoped token").json()
        scoped = made["token"]
        full = self.warm("ada")
        self.assertIn("users.manage", full)
        for _ in range(3):
            self.assertEqual(self.me("ada", scoped), ["users.read"])
            self.assertEqual(self.me("ada"), full)

    def test_a_revoked_token_fails_on_the_next_request(self):
        self.warm("stan")
        fixtures.check(self.host.request("POST", "/api/v1/auth/logout",
                                         token=self.s.tokens["stan"]), 204, what="logout")
        resp = self.host.request("GET", "/api/v1/me", token=self.s.tokens["stan"])
        harness.assert_problem(resp, 401, "/unauthenticated")
        # A school route too, where the list would have let it in.
        resp = self.host.request("GET", f"/api/v1/schools/{self.s.slug}/noticeboard/notices",
                                 token=self.s.tokens["stan"])
        harness.assert_problem(resp, 401, "/unauthenticated")

    def test_the_sessions_last_use_is_recorded_at_most_once_a_minute(self):
        token_sql = ("FROM core.sessions WHERE user_id = "
                     f"'{self.s.ids['pia']}'::uuid")
        self.pg.psql(f"UPDATE core.sessions SET last_used_at = now() - interval '5 minutes' "
                     f"WHERE user_id = '{self.s.ids['pia']}'::uuid")
        self.me("pia")
        age = float(self.pg.psql(f"SELECT extract(epoch FROM now() - max(last_used_at)) "
                                 f"{token_sql}"))
        self.assertLess(age, 60, "the use was not recorded")
        # Within the minute nothing is written again.
        self.pg.psql(f"UPDATE core.sessions SET last_used_at = now() - interval '30 seconds' "
                     f"WHERE user_id = '{self.s.ids['pia']}'::uuid")
        stamp = self.pg.psql(f"SELECT max(last_used_at) {token_sql}")
        self.me("pia")
        self.assertEqual(self.pg.psql(f"SELECT max(last_used_at) {token_sql}"), stamp)


if __name__ == "__main__":
    harness.main()
