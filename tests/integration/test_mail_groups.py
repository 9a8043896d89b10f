# SPDX-License-Identifier: Apache-2.0
"""test_mail_groups.py - mail to group addresses: who may write to a group's address from
outside the school (GET|PUT /mail/groups/{group_id}, enforced at RCPT by the LMTP listener,
for the group's own address and for aliases of it), and the sender's own copy of a mail to a
group they belong to (Sent only, not the INBOX as well).

One PostgreSQL and one atriumd for the file, with the LMTP listener on a free port; LMTP
with Python's smtplib.LMTP, as a real MTA would speak it.
"""

from __future__ import annotations

import smtplib
import uuid

import harness
from test_mail import MailTestCase, School

LMTP_PORT = harness.free_port()


class GroupMail(MailTestCase):
    HOST_ENV = {"ATRIUM_MAIL_LMTP_LISTEN": f"127.0.0.1:{LMTP_PORT}"}

    def lmtp(self) -> smtplib.LMTP:
        client = smtplib.LMTP("127.0.0.1", LMTP_PORT, timeout=30)
        self.addCleanup(client.close)
        self.assertEqual(client.ehlo()[0], 250)  # LHLO
        return client

    def class_7b(self, s: School) -> str:
        """7b: tina owns it (and so is a member), sam and sue are members."""
        return s.group("7b", owner="tina", members=["sam", "sue"])

    def setting(self, s: School, who: str, gid: str, value: str | None = None) -> dict:
        if value is None:
            return s.ok(who, "GET", f"/groups/{gid}")
        return s.ok(who, "PUT", f"/groups/{gid}", {"external_senders": value})

    # -- the setting ---------------------------------------------------------------------

    def test_who_sees_and_changes_the_setting(self) -> None:
        s = self.school()
        gid = self.class_7b(s)
        got = self.setting(s, "sam", gid)
        self.assertEqual(got, {"group_id": gid, "external_senders": "nobody",
                               "updated_at": None})
        # The owner, holders of mail.send_to_group (tom: a teacher, not in 7b), mail.manage
        # (ada, and operators) may change it.
        for who, value in (("tina", "members"), ("tom", "anyone"), ("ada", "members"),
                           ("op", "nobody"), ("tina", "anyone")):
            with self.subTest(who=who):
                got = self.setting(s, who, gid, value)
                self.assertEqual(got["external_senders"], value)
                self.assertIsNotNone(got["updated_at"])
                self.assertEqual(self.setting(s, "sue", gid)["external_senders"], value)
        # A member without those rights reads it but may not change it; someone who cannot
        # see the group finds none.
        self.assertProblem(s.req("sam", "PUT", f"/groups/{gid}", {"external_senders": "nobody"}),
                           403, "forbidden")
        for method, body in (("GET", None), ("PUT", {"external_senders": "nobody"})):
            with self.subTest(method=method):
                self.assertProblem(s.req("pia", method, f"/groups/{gid}", body), 404)
                self.assertProblem(s.req(None, method, f"/groups/{gid}", body), 401)
        self.assertEqual(self.setting(s, "tom", gid)["external_senders"], "anyone")

    def test_refusals(self) -> None:
        s = self.school()
        gid = self.class_7b(s)
        for body in ({}, {"external_senders": "everyone"}, {"external_senders": 5},
                     {"external_senders": None}, {"external_senders": "anyone", "x": 1},
                     ["anyone"]):
            with self.subTest(body=body):
                self.assertProblem(s.req("tina", "PUT", f"/groups/{gid}", body), 400)
        self.assertProblem(s.req("tina", "PUT", f"/groups/{gid}", b"{not json",
                                 headers={"Content-Type": "application/json"}), 400)
        self.assertProblem(s.req("tina", "PUT", f"/groups/{gid}", b"external_senders=anyone",
                                 headers={"Content-Type": "text/plain"}), 415)
        # Unknown, malformed and another school's group ids do not exist here.
        other = self.school()
        theirs = self.class_7b(other)
        for bad in (str(uuid.uuid4()), "nope", theirs):
            with self.subTest(group=bad):
                self.assertProblem(s.req("ada", "GET", f"/groups/{bad}"), 404)
                self.assertProblem(s.req("ada", "PUT", f"/groups/{bad}",
                                         {"external_senders": "anyone"}), 404)
        self.assertEqual(self.setting(other, "sam", theirs)["external_senders"], "nobody")
        # Deleting the group deletes its setting.
        self.setting(s, "tina", gid, "anyone")
        resp = self.host.request("DELETE", f"/api/v1/schools/{s.slug}/groups/{gid}",
                                 token=s.tokens["tina"])
        self.assertEqual(resp.status, 204, resp.body)
        self.assertEqual(self.sql(f"SELECT count(*) FROM mail.group_settings WHERE group_id = "
                                  f"'{gid}'"), "0")
        self.assertProblem(s.req("tina", "GET", f"/groups/{gid}"), 404)

    # -- LMTP ----------------------------------------------------------------------------

    def test_lmtp_enforces_the_setting(self) -> None:
        s = self.school()
        gid = self.class_7b(s)
        s.ok("ada", "PUT", "/aliases/eltern-7b", {"target_type": "group", "target_id": gid})
        s.ok("ada", "PUT", "/aliases/sam.s", {"target_type": "user", "target_id": s.ids["sam"]})
        group, alias = f"7b@{s.domain}", f"eltern-7b@{s.domain}"
        n = iter(range(1000))

        def attempt(sender: str, rcpts: list[str]) -> dict[str, tuple[int, bytes]]:
            """MAIL FROM sender, RCPT each; DATA when one was taken. The RCPT replies."""
            client = self.lmtp()
            self.assertEqual(client.mail(sender)[0], 250)
            replies = {r: client.rcpt(r) for r in rcpts}
            taken = [r for r, (code, _) in replies.items() if code == 250]
            if taken:
                msg = f"Subject: lmtp {next(n)}\r\n\r\nHallo.\r\n".encode()
                self.assertEqual(client.data(msg)[0], 250)
                for _ in taken[1:]:
                    self.assertEqual(client.getreply()[0], 250)
            client.quit()
            return replies

        def subjects(who: str) -> int:
            return len(s.inbox(who))

        # nobody (the default): the group and its alias are refused at RCPT, with a reason;
        # a person's address in the same transaction is still taken.
        got = attempt("someone@outside.example", [group, alias, s.addr("tom")])
        for rcpt in (group, alias):
            code, text = got[rcpt]
            self.assertEqual((code, text[:5]), (550, b"5.7.1"), rcpt)
            self.assertIn(b"no mail from outside", text)
        self.assertEqual(got[s.addr("tom")][0], 250)
        self.assertEqual([subjects(w) for w in ("sam", "sue", "tina", "tom")], [0, 0, 0, 1])

        # members: a member's school address (username, or an alias of theirs) as the
        # envelope sender; not outsiders, not the null sender, not a non-member's address.
        self.setting(s, "tina", gid, "members")
        for sender in ("someone@outside.example", "", s.addr("tom"), f"sam@{s.slug}.other.org"):
            with self.subTest(sender=sender):
                code, text = attempt(sender, [group])[group]
                self.assertEqual((code, text[:5]), (550, b"5.7.1"))
                self.assertIn(b"members", text)
        for sender in (s.addr("sam"), f"SAM.S@{s.domain.upper()}", s.addr("tina")):
            with self.subTest(sender=sender):
                self.assertEqual(attempt(sender, [alias])[alias][0], 250)
        self.assertEqual([subjects(w) for w in ("sam", "sue", "tina")], [3, 3, 3])

        # anyone.
        self.setting(s, "tina", gid, "anyone")
        got = attempt("", [group, alias])
        self.assertEqual([got[group][0], got[alias][0]], [250, 250])
        # A person given the same message twice (through the group and its alias) has it once.
        self.assertEqual([subjects(w) for w in ("sam", "sue", "tina")], [4, 4, 4])

        # Back to nobody: refused again.
        self.setting(s, "ada", gid, "nobody")
        self.assertEqual(attempt("someone@outside.example", [group])[group][0], 550)

    # -- the sender's own copy -------------------------------------------------------------

    def test_sender_gets_only_the_sent_copy(self) -> None:
        s = self.school()
        gid = self.class_7b(s)
        # tom is a member of the staff group and may write to any group; tina owns it.
        staff = s.group("kollegium", owner="tina", members=["tom"])
        s.ok("ada", "PUT", "/aliases/lehrer", {"target_type": "group", "target_id": staff})
        s.ok("ada", "PUT", "/aliases/tom.t", {"target_type": "user", "target_id": s.ids["tom"]})
        sent = s.send("tom", [f"kollegium@{s.domain}"], "Konferenz")
        self.assertEqual(sent["delivered"], 1)  # tina, not tom himself
        self.assertEqual([m["subject"] for m in s.inbox("tina")], ["Konferenz"])
        self.assertEqual(s.inbox("tom"), [])
        (copy,) = s.ok("tom", "GET", "/folders/Sent/messages")["items"]
        self.assertEqual((copy["id"], copy["subject"], copy["seen"]),
                         (sent["id"], "Konferenz", True))
        # Through an alias of the group: the same.
        s.send("tom", [f"lehrer@{s.domain}"], "per Alias")
        self.assertEqual(s.inbox("tom"), [])
        # Addressed to himself as well (his address, or an alias of his): once, in the INBOX.
        for me in (s.addr("tom"), f"tom.t@{s.domain}"):
            with self.subTest(me=me):
                got = s.send("tom", [f"kollegium@{s.domain}", me], f"auch an mich {me}")
                self.assertEqual(got["delivered"], 2)
                self.assertEqual(s.inbox("tom")[0]["subject"], f"auch an mich {me}")
        self.assertEqual(len(s.inbox("tom")), 2)
        # The owner writing to their own class: the members get it, the owner's INBOX not.
        s.send("tina", [f"7b@{s.domain}"], "Wandertag")
        self.assertEqual([m["subject"] for m in s.inbox("sam")], ["Wandertag"])
        self.assertNotIn("Wandertag", [m["subject"] for m in s.inbox("tina")])
        del gid
        self.assert_counters()


if __name__ == "__main__":
    harness.main()
