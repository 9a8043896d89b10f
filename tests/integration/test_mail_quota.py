# SPDX-License-Identifier: Apache-2.0
"""test_mail_quota.py - how much a mailbox may hold (plugins/mail/quota.c): the school's cap
on a mailbox, and the person's home quota that the files module counts for files and mail
together (atrium/files.h version 2, set_mail_usage), over REST (507) and LMTP (452 4.2.2),
for sends, appends, drafts, expunges and a person's erasure, with the files module enabled,
disabled and enabled again; and the counters behind /usage and /folders, kept by triggers
(schema/0004_counters.sql), including the migration's backfill.

One PostgreSQL and one atriumd for the file, with the LMTP listener on a free port.
"""

from __future__ import annotations

import os
import re
import smtplib

import fixtures
import harness
from test_mail import MailTestCase, School

LMTP_PORT = harness.free_port()
COUNTERS_SQL = os.path.join(harness.SOURCE_DIR, "plugins", "mail", "schema",
                            "0004_counters.sql")


class Quota(MailTestCase):
    HOST_ENV = {"ATRIUM_MAIL_LMTP_LISTEN": f"127.0.0.1:{LMTP_PORT}"}

    def files(self, s: School, who: str, method: str, path: str, body: object = None,
              status: tuple[int, ...] = (200, 201, 204)) -> harness.Response:
        return fixtures.check(self.host.request(method, f"/api/v1/schools/{s.slug}/files{path}",
                                                body, token=s.tokens[who]),
                              *status, what=f"{who}: {method} files{path}")

    def lmtp_one(self, rcpts: list[str], msg: bytes) -> list[tuple[int, bytes]]:
        """One LMTP transaction from outside; the replies after DATA, one per RCPT."""
        client = smtplib.LMTP("127.0.0.1", LMTP_PORT, timeout=30)
        self.addCleanup(client.close)
        self.assertEqual(client.ehlo()[0], 250)
        self.assertEqual(client.mail("someone@outside.example")[0], 250)
        for r in rcpts:
            self.assertEqual(client.rcpt(r)[0], 250)
        replies = [client.data(msg)] + [client.getreply() for _ in rcpts[1:]]
        client.quit()
        return replies

    def mail_used(self, s: School, who: str) -> int:
        return s.ok(who, "GET", "/usage")["used"]

    def test_home_quota_counts_files_and_mail(self) -> None:
        s = self.school(modules=("groups", "files", "mail"))
        self.files(s, "ada", "PUT", f"/quotas/users/{s.ids['sue']}", {"bytes": 40_000})
        self.files(s, "sue", "PUT", "/home/referat.bin", b"r" * 30_000, status=(201,))
        self.assertEqual(s.ok("sue", "GET", "/usage"), {
            "used": 0, "limit": 1 << 30,
            "home": {"used": 30_000, "mail": 0, "limit": 40_000}})

        # A message that fits: the files module's figure for the home includes it.
        s.send("tina", [s.addr("sue")], "passt", text="a" * 6_000)
        m1 = self.mail_used(s, "sue")
        self.assertGreater(m1, 6_000)
        self.assertEqual(self.files(s, "sue", "GET", "/usage").json()["home"],
                         {"used": 30_000 + m1, "limit": 40_000, "mail": m1})
        self.assertEqual(s.ok("sue", "GET", "/usage")["home"],
                         {"used": 30_000 + m1, "mail": m1, "limit": 40_000})

        # One that does not: refused everywhere mail comes in. Sent to her alone, the send
        # fails (507) and leaves nothing; sent to her and others, they get it and the answer
        # names her.
        big = "b" * 5_000
        resp = s.req("tina", "POST", "/messages", {"to": [s.addr("sue")],
                                                   "subject": "zu groß", "text": big})
        self.assertIn("home quota", self.assertProblem(resp, 507, "insufficient-storage")["detail"])
        self.assertEqual(s.ok("tina", "GET", "/folders/Sent/messages")["items"][0]["subject"],
                         "passt")
        answer = s.ok("tina", "POST", "/messages", {"to": [s.addr("sue"), s.addr("pia")],
                                                    "subject": "zu groß", "text": big},
                      status=(201,))
        self.assertEqual(answer["not_delivered"], [s.ids["sue"]])
        self.assertEqual([m["subject"] for m in s.inbox("pia")], ["zu groß"])
        raw = b"Subject: angehaengt\r\n\r\n" + big.encode() + b"\r\n"
        self.assertProblem(s.req("sue", "POST", "/folders/INBOX/messages", raw,
                                 headers={"Content-Type": "message/rfc822"}), 507)
        self.assertProblem(s.req("sue", "POST", "/drafts", {"subject": "Entwurf", "text": big}),
                           507)
        replies = self.lmtp_one([s.addr("sue"), s.addr("pia")], raw)
        self.assertEqual([(code, text[:5]) for code, text in replies],
                         [(452, b"4.2.2"), (250, b"2.0.0")])
        self.assertEqual(self.mail_used(s, "sue"), m1)
        # Files see the mail too: an upload that would pass the shared quota is refused.
        self.assertProblem(self.host.request("PUT", f"/api/v1/schools/{s.slug}/files/home/x.bin",
                                             b"x" * 5_000, token=s.tokens["sue"]), 507)

        # Expunging frees the room (moving to the Trash does not).
        (msg,) = s.inbox("sue")
        s.ok("sue", "DELETE", f"/messages/{msg['id']}")
        self.assertEqual(self.mail_used(s, "sue"), m1)
        s.ok("sue", "DELETE", f"/messages/{msg['id']}", status=(204,))
        self.assertEqual(s.ok("sue", "GET", "/usage")["home"],
                         {"used": 30_000, "mail": 0, "limit": 40_000})
        s.send("tina", [s.addr("sue")], "jetzt passt es", text=big)

        # Without the files module for the school only the mailbox cap applies; the figure
        # is still kept, so enabling the module again counts the mail at once.
        self.assertEqual(self.host.request("DELETE", f"/api/v1/schools/{s.slug}/modules/files",
                                           token=self.op_token).status, 204)
        s.send("tina", [s.addr("sue")], "ohne Dateien", text="c" * 20_000)
        self.assertNotIn("home", s.ok("sue", "GET", "/usage"))
        self.assert_counters()
        fixtures.enable_module(self.host, self.op_token, s.slug, "files")
        home = s.ok("sue", "GET", "/usage")["home"]
        self.assertEqual(home["mail"], self.mail_used(s, "sue"))
        self.assertGreater(home["used"], home["limit"])
        self.assertProblem(s.req("tina", "POST", "/messages",
                                 {"to": [s.addr("sue")], "subject": "voll", "text": "d"}), 507)
        # The mailbox's own cap still binds on its own, named as such.
        s.ok("ada", "PUT", "/settings", {"domain": s.domain, "mailbox_quota_bytes": 4096})
        detail = self.assertProblem(s.req("tina", "POST", "/messages", {
            "to": [s.addr("pia")], "subject": "x", "text": "e" * 5_000}), 507)["detail"]
        self.assertIn("mailbox", detail)

        # Erasing the person erases both figures; neither comes back.
        self.assertEqual(self.host.request("DELETE", f"/api/v1/schools/{s.slug}/users/"
                                           f"{s.ids['sue']}", token=self.op_token).status, 204)
        for table, column in (("mail.usage", "user_id"), ("files.usage", "space_id")):
            self.assertEqual(self.sql(f"SELECT count(*) FROM {table} WHERE {column} = "
                                      f"'{s.ids['sue']}'"), "0", table)
        self.assert_counters()

    def test_usage_refusals(self) -> None:
        s = self.school(modules=("groups", "files", "mail"))
        self.assertProblem(s.req(None, "GET", "/usage"), 401)
        self.assertProblem(s.req("op", "GET", "/usage"), 404)  # operators have no mailbox
        # Another school's people do not reach this one's figures.
        other = self.school(modules=("groups", "mail"))
        self.assertProblem(self.host.request("GET", f"/api/v1/schools/{s.slug}/mail/usage",
                                             token=other.tokens["sam"]), 404)
        # Without the mail module for the school, there is no route for it.
        bare = self.school(modules=("groups", "files"), domain=None)
        self.assertProblem(bare.req("sam", "GET", "/usage"), 404)
        self.assertEqual(set(s.ok("sam", "GET", "/usage")), {"used", "limit", "home"})
        self.assertEqual(set(other.ok("sam", "GET", "/usage")), {"used", "limit"})

    def test_counters_follow_every_change(self) -> None:
        s = self.school()
        for i in range(3):
            s.send("tina", [s.addr("pia")], f"m{i}", text="h" * (100 * (i + 1)))

        def folders() -> dict[str, tuple[int, int]]:
            return {f["name"]: (f["total"], f["unread"])
                    for f in s.ok("pia", "GET", "/folders")["items"]}

        self.assertEqual(folders(), {"INBOX": (3, 3), "Drafts": (0, 0), "Sent": (0, 0),
                                     "Trash": (0, 0)})
        m0, m1, m2 = reversed(s.inbox("pia"))
        s.ok("pia", "PATCH", f"/messages/{m0['id']}", {"seen": True})
        s.ok("pia", "PATCH", f"/messages/{m0['id']}", {"seen": True})  # no change
        s.ok("pia", "POST", "/folders", {"name": "Archiv"}, status=(201,))
        s.ok("pia", "PATCH", f"/messages/{m1['id']}", {"folder": "Archiv", "flagged": True})
        self.assertEqual(folders()["INBOX"], (2, 1))
        self.assertEqual(folders()["Archiv"], (1, 1))
        s.ok("pia", "PATCH", f"/messages/{m1['id']}", {"seen": True})
        s.ok("pia", "DELETE", f"/messages/{m2['id']}")
        self.assertEqual(folders(), {"INBOX": (1, 0), "Drafts": (0, 0), "Sent": (0, 0),
                                     "Trash": (1, 1), "Archiv": (1, 0)})
        used = self.mail_used(s, "pia")
        s.ok("pia", "DELETE", f"/messages/{m2['id']}", status=(204,))
        self.assertEqual(self.mail_used(s, "pia"), used - m2["size"])
        draft = s.ok("pia", "POST", "/drafts", {"subject": "d", "text": "i" * 500}, status=(201,))
        s.ok("pia", "PUT", f"/drafts/{draft['id']}", {"subject": "d2"})
        self.assertEqual(folders()["Drafts"], (1, 0))
        self.assertEqual(folders()["Trash"], (0, 0))
        self.assert_counters()

    def test_migration_backfill(self) -> None:
        # 0004's backfill, run again over counters wiped by hand, gives what the triggers
        # kept: the migration computes the same figures for mail that arrived before it.
        s = self.school()
        s.send("tina", [s.addr("sam"), s.addr("sue")], "vorher", text="j" * 700)
        (msg,) = s.inbox("sam")
        s.ok("sam", "PATCH", f"/messages/{msg['id']}", {"seen": True})
        with open(COUNTERS_SQL, encoding="utf-8") as f:
            text = f.read()
        backfill = text[text.index("-- Backfill"):]
        self.assertTrue(re.search(r"INSERT INTO usage", backfill), backfill)
        before = self.sql("SELECT string_agg(format('%s %s %s', f.id, f.total, f.unread), ',' "
                          "ORDER BY f.id) FROM mail.folders f") + "|" + self.sql(
            "SELECT string_agg(format('%s %s', user_id, bytes), ',' ORDER BY user_id) "
            "FROM mail.usage WHERE bytes > 0")
        self.sql("BEGIN; SET LOCAL search_path = mail; DELETE FROM usage; "
                 "UPDATE folders SET total = 0, unread = 0; " + backfill + "; COMMIT")
        after = self.sql("SELECT string_agg(format('%s %s %s', f.id, f.total, f.unread), ',' "
                         "ORDER BY f.id) FROM mail.folders f") + "|" + self.sql(
            "SELECT string_agg(format('%s %s', user_id, bytes), ',' ORDER BY user_id) "
            "FROM mail.usage WHERE bytes > 0")
        self.assertEqual(after, before)
        self.assert_counters()


if __name__ == "__main__":
    harness.main()
