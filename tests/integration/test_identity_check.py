# SPDX-License-Identifier: Apache-2.0
"""test_identity_check.py - who is asking is decided before anything is answered, also when the
check travels with the handler's first query.

A read (GET, HEAD) of a plugin route, and GET /api/v1/me, send the identity check
(core.request_identity()) and the handler's first query in one round trip
(pipeline/handle.c, db/tx.c): the query runs before the check has
been judged. These tests hold the host to what that must never change: a caller who may not
ask gets 401/403/404 even when the handler would have answered something else first (a 400
for a bad parameter), never the handler's data, never another school's rows; a revoked token
fails on the very next request; and a refused request leaves nothing behind on the pooled
database connection for the next caller (the settings are transaction-local, the transaction
is rolled back), which a keep-alive client mixing good and bad tokens would show.
"""

import http.client
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402


def notices(school: str) -> str:
    return f"/api/v1/schools/{school}/noticeboard/notices"


class IdentityCheck(fixtures.SharedHost):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        h, op = cls.host, cls.op_token
        cls.a = fixtures.school_with_users(
            h, op, "ic-a", {"tess": ["teacher"], "stu": ["student"], "ada": ["admin"]},
            modules=["noticeboard", "groups", "conference"])
        cls.b = fixtures.school_with_users(h, op, "ic-b", {"bea": ["teacher"]},
                                           modules=["noticeboard"])
        cls.c = fixtures.school_with_users(h, op, "ic-c", {"cid": ["teacher"]})
        for school, token, title in (("ic-a", cls.a["tess"], "secret-of-a"),
                                     ("ic-b", cls.b["bea"], "secret-of-b")):
            fixtures.check(h.request("POST", notices(school), {"title": title, "body": "x"},
                                     token=token), 201, what="post a notice")

    def test_refusal_comes_before_the_handlers_own_answer(self):
        # ?limit=0 is the handler's 400; a caller who may not ask never learns that.
        bad_limit = notices("ic-a") + "?limit=0"
        harness.assert_problem(self.host.request("GET", bad_limit), 401, "/unauthenticated")
        harness.assert_problem(self.host.request("GET", bad_limit, token="atr_not-a-token"), 401)
        harness.assert_problem(self.host.request("GET", bad_limit, token=self.b["bea"]), 404)
        harness.assert_problem(
            self.host.request("GET", notices("ic-c") + "?limit=0", token=self.c["cid"]), 404)
        # Let in, the same request gets the handler's answer.
        harness.assert_problem(self.host.request("GET", bad_limit, token=self.a["stu"]), 400)

    def test_a_refused_read_carries_none_of_the_handlers_data(self):
        for token in (None, "atr_not-a-token", self.b["bea"]):
            with self.subTest(token=token and token[:8]):
                resp = self.host.request("GET", notices("ic-a"), token=token)
                self.assertIn(resp.status, (401, 404))
                self.assertEqual(resp.content_type, "application/problem+json")
                self.assertNotIn(b"secret-of-a", resp.body)
        head = self.host.request("HEAD", notices("ic-a"), token="atr_not-a-token")
        self.assertEqual(head.status, 401)

    def test_a_permission_the_route_needs_is_checked(self):
        # The conference backend is for those with conference.manage: a student is refused,
        # an admin is not (whatever the handler then answers).
        path = "/api/v1/schools/ic-a/conference/backend"
        harness.assert_problem(self.host.request("GET", path, token=self.a["stu"]), 403,
                               "/forbidden")
        self.assertNotEqual(self.host.request("GET", path, token=self.a["ada"]).status, 403)

    def test_me_for_users_and_operators(self):
        me = fixtures.check(self.host.request("GET", "/api/v1/me", token=self.a["stu"]), 200)
        body = me.json()
        self.assertEqual((body["kind"], body["username"], body["school"]["slug"]),
                         ("user", "stu", "ic-a"))
        self.assertIn("conference.join", body["permissions"])
        op = fixtures.check(self.host.request("GET", "/api/v1/me", token=self.op_token), 200)
        self.assertEqual(op.json()["kind"], "operator")
        harness.assert_problem(self.host.request("GET", "/api/v1/me"), 401)
        harness.assert_problem(self.host.request("GET", "/api/v1/me", token="atr_x"), 401)

    def test_a_revoked_token_fails_on_the_next_request(self):
        fixtures.make_user(self.host, self.op_token, "ic-a", "leaver", roles=["student"])
        token = fixtures.login(self.host, "leaver", school="ic-a")
        fixtures.check(self.host.request("GET", notices("ic-a"), token=token), 200)
        fixtures.check(self.host.request("POST", "/api/v1/auth/logout", token=token), 204)
        # Fresh connections land on different pooled database connections: none may remember.
        for _ in range(12):
            harness.assert_problem(self.host.request("GET", notices("ic-a"), token=token), 401)
            harness.assert_problem(self.host.request("GET", "/api/v1/me", token=token), 401)

    def test_keep_alive_client_mixing_good_and_bad_tokens(self):
        """One connection, requests of three callers and two strangers in turn: each answer
        is the one its own token deserves, with its own school's rows only."""
        callers = [
            (self.a["stu"], notices("ic-a"), 200, b"secret-of-a", b"secret-of-b"),
            ("atr_not-a-token", notices("ic-a"), 401, None, b"secret-of-a"),
            (self.b["bea"], notices("ic-b"), 200, b"secret-of-b", b"secret-of-a"),
            (self.b["bea"], notices("ic-a"), 404, None, b"secret-of-a"),
            (None, notices("ic-b"), 401, None, b"secret-of-b"),
            (self.a["stu"], "/api/v1/me", 200, b'"ic-a"', b'"ic-b"'),
            (self.b["bea"], "/api/v1/me", 200, b'"ic-b"', b'"ic-a"'),
        ]
        conn = http.client.HTTPConnection("127.0.0.1", self.host.port, timeout=30)
        try:
            for round_ in range(40):
                for token, path, status, has, lacks in callers:
                    headers = {"Authorization": f"Bearer {token}"} if token else {}
                    conn.request("GET", path, headers=headers)
                    resp = conn.getresponse()
                    body = resp.read()
                    where = f"round {round_}, GET {path} as {token and token[:8]}"
                    self.assertEqual(resp.status, status, f"{where}: {body[:300]!r}")
                    if has:
                        self.assertIn(has, body, where)
                    self.assertNotIn(lacks, body, where)
                    json.loads(body)
        finally:
            conn.close()

    def test_reads_are_read_only_and_one_that_writes_runs_again(self):
        """A read's pipeline is a READ ONLY transaction; a GET that writes (the GDPR export
        records an audit entry) is refused there by PostgreSQL and run again read-write: the
        export answers and its audit entry is there, once."""
        fixtures.make_user(self.host, self.op_token, "ic-a", "exported", roles=["student"])
        uid = self.pg.psql("SELECT id FROM core.users WHERE username = 'exported'").strip()
        before = int(self.pg.psql("SELECT count(*) FROM core.audit_log "
                                  f"WHERE action = 'user.exported' AND target = '{uid}'"))
        refusal = "cannot execute INSERT in a read-only transaction"
        refused = self.pg.log_text().count(refusal)
        out = fixtures.check(self.host.request(
            "GET", f"/api/v1/schools/ic-a/users/{uid}/export", token=self.a["ada"]), 200,
            what="export").json()
        self.assertEqual(out["core"]["user"]["username"], "exported")
        after = int(self.pg.psql("SELECT count(*) FROM core.audit_log "
                                 f"WHERE action = 'user.exported' AND target = '{uid}'"))
        self.assertEqual(after, before + 1)
        self.assertEqual(self.pg.log_text().count(refusal), refused + 1,
                         "the export's audit write was not refused in a READ ONLY transaction")


if __name__ == "__main__":
    harness.main()
