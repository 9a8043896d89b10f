# SPDX-License-Identifier: Apache-2.0
"""test_mail_quota.py - how much a mailbox holds (plugins/mail/quota.c): the counters behind
/usage, /folders and each delivery's quota check, kept by triggers
(schema/0004_counters.sql) through deliveries, flags, moves, expunges and drafts, including
the migration's backfill.

One PostgreSQL and one atriumd for the file.
"""

from __future__ import annotations

import os
import re

import harness
from test_mail import MailTestCase, School

COUNTERS_SQL = os.path.join(harness.SOURCE_DIR, "plugins", "mail", "schema",
                            "0004_counters.sql")


class Quota(MailTestCase):
    def mail_used(self, s: School, who: str) -> int:
        return s.ok(who, "GET", "/usage")["used"]

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
