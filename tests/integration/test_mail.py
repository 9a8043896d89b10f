# SPDX-License-Identifier: Apache-2.0
"""test_mail.py - the mail module's REST API: settings and aliases, sending to users, groups,
aliases and outside addresses, folders, reading (headers, text, sanitised HTML, attachments,
the raw bytes), flags and moves, the Trash, search, threads, drafts, appending raw messages,
and who may do what. Every file in ../shared/testdata/mail/ is appended and read back
byte-identical and decoded. LMTP and the sendmail bridge are test_mail_transport.py.
"""

from __future__ import annotations

import base64
import os
import uuid
from typing import Any, Sequence

import fixtures
import harness

TESTDATA = os.path.join(os.path.dirname(harness.SOURCE_DIR.rstrip("/")), "shared", "testdata",
                        "mail")
if not os.path.isdir(TESTDATA):
    TESTDATA = "/work/shared/testdata/mail"


class School(fixtures.School):
    """A test school with the mail module (fixtures.School), its mail domain ("auto": one
    made from the slug; None: no domain set) and mail helpers."""

    AREA = "mail"
    SLUG_PREFIX = "m"
    MODULES = ("groups", "mail")
    PEOPLE = ("ada", "tina", "tom", "sam", "sue", "pia")

    def __init__(self, host: harness.Atriumd, op: str, domain: str | None = "auto",
                 modules: Sequence[str] | None = None) -> None:
        super().__init__(host, op, modules)
        self.domain = f"{self.slug}.example.org" if domain == "auto" else domain
        if self.domain:
            self.ok("ada", "PUT", "/settings", {"domain": self.domain})

    def ok(self, who: str, method: str, path: str, body: Any = None,
           status: Sequence[int] = (200, 201, 204), headers: dict[str, str] | None = None) -> Any:
        """Like fixtures.School.ok, but a body that is not JSON (a raw message) comes back as
        the Response."""
        resp = fixtures.check(self.req(who, method, path, body, headers), *status,
                              what=f"{who}: {method} mail{path}")
        return resp.json() if resp.body and resp.content_type.endswith("json") else resp

    def addr(self, who: str) -> str:
        return f"{who}@{self.domain}"

    def send(self, who: str, to: Sequence[str], subject: str = "Hallo", **extra: Any) -> dict:
        return self.ok(who, "POST", "/messages", {"to": list(to), "subject": subject,
                                                  "text": extra.pop("text", "Text"), **extra},
                       status=(201,))

    def inbox(self, who: str) -> list[dict]:
        return self.ok(who, "GET", "/folders/INBOX/messages?limit=500")["items"]

    def group(self, slug: str, owner: str = "tina", members: Sequence[str] = ()) -> str:
        return self.make_group(slug, owner, members, slug=slug)


class MailTestCase(fixtures.SharedHost):
    EXIT_CHECK = ("mail", "gmime", "libxml", "mime.c", "html.c", "deliver.c")

    def school(self, **kw: Any) -> School:
        return School(self.host, self.op_token, **kw)

    def sql(self, query: str) -> str:
        return self.pg.psql(query).strip()

    def assert_counters(self) -> None:
        """What the triggers on mail.messages keep (schema/0004_counters.sql) agrees with
        counting: every folder's total and unread, every mailbox's bytes, and the mailbox's
        share of the home quota wherever the files module has a row for the person."""
        self.assertEqual(self.sql(
            "SELECT count(*) FROM mail.folders f WHERE (total, unread) <> (SELECT count(*), "
            "count(*) FILTER (WHERE NOT seen) FROM mail.messages m WHERE m.school_id = "
            "f.school_id AND m.folder_id = f.id)"), "0", "folder counters")
        self.assertEqual(self.sql(
            "SELECT count(*) FROM (SELECT school_id, user_id, sum(size) AS s FROM mail.messages "
            "GROUP BY 1, 2) m FULL JOIN mail.usage u USING (school_id, user_id) "
            "WHERE coalesce(m.s, 0) <> coalesce(u.bytes, 0)"), "0", "mailbox usage")
        self.assertEqual(self.sql(
            "SELECT count(*) FROM files.usage f LEFT JOIN mail.usage u ON u.school_id = "
            "f.school_id AND u.user_id = f.space_id WHERE f.space_type = 'user' AND "
            "f.mail_bytes <> coalesce(u.bytes, 0)"), "0", "the mailbox's share of the home")


class Settings(MailTestCase):
    def test_domain_and_aliases(self) -> None:
        s = self.school(domain=None)
        self.assertProblem(s.req("tina", "GET", "/settings"), 404)
        self.assertProblem(s.req("tina", "POST", "/messages", {"to": ["sam@x.org"]}), 409)
        self.assertProblem(s.req("tina", "PUT", "/settings", {"domain": "a.org"}), 403)
        for bad in ({"domain": "no spaces.org"}, {"domain": "nodot"}, {"domain": 5}, {},
                    {"domain": "a.org", "extra": 1}):
            with self.subTest(bad):
                self.assertProblem(s.req("ada", "PUT", "/settings", bad), 400)
        got = s.ok("op", "PUT", "/settings", {"domain": "Schule-A.Example.org"})
        self.assertEqual(got["domain"], "schule-a.example.org")
        self.assertEqual(s.ok("sam", "GET", "/settings")["domain"], "schule-a.example.org")
        other = self.school(domain=None)
        self.assertProblem(other.req("ada", "PUT", "/settings",
                                     {"domain": "schule-a.example.org"}), 409)
        # Aliases.
        s.ok("ada", "PUT", "/aliases/sekretariat", {"target_type": "user",
                                                    "target_id": s.ids["tina"]})
        self.assertProblem(s.req("ada", "PUT", "/aliases/sam", {"target_type": "user",
                                                                "target_id": s.ids["tina"]}), 409)
        self.assertProblem(s.req("ada", "PUT", "/aliases/x", {"target_type": "user",
                                                              "target_id": str(uuid.uuid4())}),
                           404)
        self.assertProblem(s.req("ada", "PUT", "/aliases/x", {"target_type": "group",
                                                              "target_id": other.ids["sam"]}), 404)
        self.assertProblem(s.req("ada", "PUT", "/aliases/Bad!", {"target_type": "user",
                                                                 "target_id": s.ids["sam"]}), 400)
        self.assertProblem(s.req("tina", "GET", "/aliases"), 403)
        self.assertEqual([a["local_part"] for a in s.ok("ada", "GET", "/aliases")["items"]],
                         ["sekretariat"])
        s.send("sam", ["sekretariat@schule-a.example.org"], "an das Sekretariat")
        self.assertEqual([m["subject"] for m in s.inbox("tina")], ["an das Sekretariat"])
        s.ok("ada", "DELETE", "/aliases/sekretariat", status=(204,))
        self.assertProblem(s.req("ada", "DELETE", "/aliases/sekretariat"), 404)
        self.assertProblem(s.req("sam", "POST", "/messages",
                                 {"to": ["sekretariat@schule-a.example.org"]}), 404)


class Sending(MailTestCase):
    def test_users_groups_and_outside(self) -> None:
        s = self.school()
        gid = s.group("7b", owner="tina", members=["sam", "sue"])
        sent = s.send("tina", [s.addr("sam"), f"Tom Teacher <{s.addr('tom').upper()}>"],
                      "Elternabend", cc=[s.addr("pia")], bcc=[s.addr("ada")])
        self.assertEqual((sent["delivered"], sent["queued"]), (4, 0))
        for who in ("sam", "tom", "pia", "ada"):
            with self.subTest(who):
                (msg,) = s.inbox(who)
                self.assertEqual(msg["subject"], "Elternabend")
                self.assertFalse(msg["seen"])
                self.assertIn(s.addr("tina"), msg["from"])
        # Bcc is not in the headers anyone receives.
        raw = s.ok("sam", "GET", f"/messages/{s.inbox('sam')[0]['id']}/raw").body
        self.assertNotIn(b"ada@", raw)
        self.assertIn(b"message-id: <", raw.lower())
        (copy,) = s.ok("tina", "GET", "/folders/Sent/messages")["items"]
        self.assertEqual((copy["id"], copy["seen"]), (sent["id"], True))
        # A group address reaches every member once; its owner may write to it. The owner
        # is a member too, but their own mail is in Sent, not in their INBOX as well
        # (test_mail_groups.py has the rest of that rule).
        trip = s.send("tina", [f"7b@{s.domain}", s.addr("sam")], "Klassenfahrt")
        self.assertEqual(trip["delivered"], 2)
        self.assertEqual([m["subject"] for m in s.inbox("sam")], ["Klassenfahrt", "Elternabend"])
        self.assertEqual([m["subject"] for m in s.inbox("sue")], ["Klassenfahrt"])
        self.assertEqual(s.inbox("tina"), [])
        # A student may not write to the group, nor outside.
        self.assertProblem(s.req("sam", "POST", "/messages", {"to": [f"7b@{s.domain}"]}), 403)
        self.assertProblem(s.req("sam", "POST", "/messages", {"to": ["x@elsewhere.org"]}), 403)
        # Outside addresses are queued for sendmail in the same transaction.
        out = s.send("tom", ["friend@elsewhere.org", s.addr("sam")], "raus")
        self.assertEqual((out["delivered"], out["queued"]), (1, 1))
        self.assertEqual(self.sql(f"SELECT recipients, envelope_from, state FROM mail.outbox o "
                                  f"JOIN core.schools sc ON sc.id = o.school_id WHERE sc.slug = "
                                  f"'{s.slug}'"),
                         f"{{friend@elsewhere.org}}|tom@{s.domain}|queued")
        del gid

    def test_refusals(self) -> None:
        s = self.school()
        for body in ({}, {"to": []}, {"to": ["not an address"]}, {"to": ["a@b.org, c@d.org"]},
                     {"to": "sam@x"}, {"to": [5]}, {"to": [s.addr("sam")], "color": "red"},
                     {"to": [s.addr("sam")], "attachments": [{"filename": "a"}]},
                     {"to": [s.addr("sam")], "attachments": [
                         {"filename": "a", "content_base64": "!!!"}]}):
            with self.subTest(body):
                self.assertProblem(s.req("tina", "POST", "/messages", body), 400)
        self.assertProblem(s.req("tina", "POST", "/messages", {"to": [f"nobody@{s.domain}"]}),
                           404)
        self.assertProblem(s.req(None, "POST", "/messages", {"to": [s.addr("sam")]}), 401)
        self.assertProblem(s.req("op", "POST", "/messages", {"to": [s.addr("sam")]}), 404)
        other = self.school()
        # Another school's users are outside addresses of another domain: a student may not.
        self.assertProblem(s.req("sam", "POST", "/messages", {"to": [other.addr("sam")]}), 403)
        # Nothing half-sent: the refused send left no mail anywhere.
        self.assertEqual(s.inbox("sam"), [])
        self.assertEqual(s.ok("tina", "GET", "/folders/Sent/messages")["items"], [])
        s.ok("ada", "PUT", "/settings", {"domain": s.domain, "max_message_bytes": 2048})
        self.assertProblem(s.req("tina", "POST", "/messages",
                                 {"to": [s.addr("sam")], "text": "x" * 5000}), 413)
        # A full mailbox refuses the whole send (507), naming nobody else's mail.
        s.ok("ada", "PUT", "/settings", {"domain": s.domain, "max_message_bytes": 1 << 20,
                                         "mailbox_quota_bytes": 4096})
        s.send("tina", [s.addr("sue")], "fits", text="x" * 1000)
        self.assertEqual(s.ok("sue", "GET", "/usage")["limit"], 4096)
        used = s.ok("sue", "GET", "/usage")["used"]
        self.assertGreater(used, 1000)
        # Nobody can take it: the send fails with 507 and leaves nothing anywhere.
        resp = s.req("tom", "POST", "/messages", {"to": [s.addr("sue")], "text": "y" * 3500})
        self.assertIn("full", self.assertProblem(resp, 507, "insufficient-storage")["detail"])
        self.assertEqual(s.ok("sue", "GET", "/usage")["used"], used)
        self.assertEqual(s.ok("tom", "GET", "/folders/Sent/messages")["items"], [])
        # One full mailbox among several: the others get it, the answer names who did not.
        answer = s.ok("tom", "POST", "/messages", {"to": [s.addr("sue"), s.addr("pia")],
                                                   "subject": "partly", "text": "y" * 3500},
                      status=(201,))
        self.assertEqual((answer["delivered"], answer["not_delivered"]), (1, [s.ids["sue"]]))
        self.assertEqual(s.ok("sue", "GET", "/usage")["used"], used)
        self.assertEqual([m["subject"] for m in s.inbox("pia")], ["partly"])
        # The same for a class: one full mailbox does not keep the mail from the others (ada's
        # and sam's are empty; the sender's Sent copy counts against ada's own).
        s.group("voll-7b", owner="tina", members=["sue", "sam"])
        answer = s.ok("ada", "POST", "/messages", {"to": [s.addr("voll-7b")], "subject": "class",
                                                   "text": "z" * 3500}, status=(201,))
        # (tina, the group's owner, is a member too, and her mailbox is as full as sue's)
        self.assertEqual(sorted(answer["not_delivered"]), sorted([s.ids["sue"], s.ids["tina"]]))
        self.assertEqual(answer["delivered"], 1)
        self.assertIn("class", [m["subject"] for m in s.inbox("sam")])
        self.assertProblem(s.req("ada", "PUT", "/settings", {"domain": s.domain,
                                                             "mailbox_quota_bytes": 10}), 400)
        bare = self.school(modules=("groups",), domain=None)
        self.assertProblem(bare.req("tina", "GET", "/folders"), 404)


class Reading(MailTestCase):
    def test_message_parts_attachments_flags_and_trash(self) -> None:
        s = self.school()
        pdf = b"%PDF-1.4 " + os.urandom(3000)
        s.send("tina", [s.addr("sam")], "Arbeitsblatt \u00fcber Fr\u00f6sche",
               text="Bitte lesen.", html="<p>Bitte <b>lesen</b>.<script>alert(1)</script>"
                                         "<a href=\"javascript:x()\">x</a></p>",
               attachments=[{"filename": "blatt.pdf", "content_type": "application/pdf",
                             "content_base64": base64.b64encode(pdf).decode()}])
        (summary,) = s.inbox("sam")
        self.assertTrue(summary["has_attachments"])
        msg = s.ok("sam", "GET", f"/messages/{summary['id']}")
        self.assertEqual(msg["subject"], "Arbeitsblatt \u00fcber Fr\u00f6sche")
        self.assertEqual(msg["text"].strip(), "Bitte lesen.")
        self.assertIn("<b>lesen</b>", msg["html"])
        self.assertNotIn("script", msg["html"].lower())
        self.assertNotIn("javascript:", msg["html"].lower())
        self.assertEqual(msg["attachments"], [{"index": 0, "filename": "blatt.pdf",
                                               "content_type": "application/pdf",
                                               "size": len(pdf)}])
        att = s.ok("sam", "GET", f"/messages/{summary['id']}/attachments/0")
        self.assertEqual((att.body, att.headers["Content-Type"]), (pdf, "application/pdf"))
        self.assertIn("blatt.pdf", att.headers["Content-Disposition"])
        self.assertProblem(s.req("sam", "GET", f"/messages/{summary['id']}/attachments/1"), 404)
        self.assertProblem(s.req("sam", "GET", f"/messages/{summary['id']}/attachments/x"), 404)
        # Someone else's message does not exist for you.
        for who in ("sue", "tina"):
            self.assertProblem(s.req(who, "GET", f"/messages/{summary['id']}"), 404)
            self.assertProblem(s.req(who, "GET", f"/messages/{summary['id']}/raw"), 404)
            self.assertProblem(s.req(who, "PATCH", f"/messages/{summary['id']}", {"seen": True}),
                               404)
            self.assertProblem(s.req(who, "DELETE", f"/messages/{summary['id']}"), 404)
        self.assertProblem(s.req("sam", "GET", "/messages/nope"), 404)
        # Flags and folders.
        s.ok("sam", "POST", "/folders", {"name": "Schule"}, status=(201,))
        self.assertProblem(s.req("sam", "POST", "/folders", {"name": "Schule"}), 409)
        self.assertProblem(s.req("sam", "POST", "/folders", {"name": "a/b"}), 400)
        moved = s.ok("sam", "PATCH", f"/messages/{summary['id']}",
                     {"seen": True, "flagged": True, "folder": "Schule"})
        self.assertEqual((moved["seen"], moved["flagged"], moved["folder"]),
                         (True, True, "Schule"))
        self.assertProblem(s.req("sam", "PATCH", f"/messages/{summary['id']}",
                                 {"folder": "Nowhere"}), 404)
        self.assertProblem(s.req("sam", "PATCH", f"/messages/{summary['id']}", {"seen": 1}), 400)
        folders = {f["name"]: f for f in s.ok("sam", "GET", "/folders")["items"]}
        self.assertEqual(list(folders)[:4], ["INBOX", "Drafts", "Sent", "Trash"])
        self.assertEqual((folders["Schule"]["total"], folders["Schule"]["unread"]), (1, 0))
        self.assertProblem(s.req("sam", "DELETE", "/folders/Schule"), 409)
        self.assertProblem(s.req("sam", "DELETE", "/folders/INBOX"), 409)
        self.assertProblem(s.req("sam", "PATCH", "/folders/Sent", {"name": "x"}), 409)
        s.ok("sam", "PATCH", "/folders/Schule", {"name": "Unterricht"})
        # Delete: to the Trash, then for good.
        trashed = s.ok("sam", "DELETE", f"/messages/{summary['id']}")
        self.assertEqual(trashed["folder"], "Trash")
        s.ok("sam", "DELETE", f"/messages/{summary['id']}", status=(204,))
        self.assertProblem(s.req("sam", "GET", f"/messages/{summary['id']}"), 404)
        s.ok("sam", "DELETE", "/folders/Unterricht", status=(204,))
        self.assertProblem(s.req("sam", "DELETE", "/folders/Unterricht"), 404)
        # The sender's copy still has its bytes.
        sent = s.ok("tina", "GET", "/folders/Sent/messages")["items"][0]
        self.assertIn(b"blatt.pdf", s.ok("tina", "GET", f"/messages/{sent['id']}/raw").body)
        self.assert_counters()

    def test_attachments_from_folders(self) -> None:
        s = self.school(modules=("groups", "files", "mail"))
        gid = s.group("6c", owner="tina", members=["sam"])
        pdf = b"%PDF-1.4 " + os.urandom(5000)

        def upload(who: str, path: str, data: bytes) -> None:
            fixtures.check(self.host.request("PUT", f"/api/v1/schools/{s.slug}/files/{path}",
                                             data, token=s.tokens[who]), 201, what="upload")

        upload("tina", "home/Blatt.pdf", pdf)
        upload("tina", f"groups/{gid}/Plan.txt", b"Stundenplan")
        s.send("tina", [s.addr("sam")], "mit Anhang",
               attachments=[{"file": "home/Blatt.pdf"},
                            {"file": f"groups/{gid}/Plan.txt", "filename": "plan.txt"}])
        (got,) = s.inbox("sam")
        msg = s.ok("sam", "GET", f"/messages/{got['id']}")
        self.assertEqual([(a["filename"], a["content_type"], a["size"])
                          for a in msg["attachments"]],
                         [("Blatt.pdf", "application/pdf", len(pdf)),
                          ("plan.txt", "text/plain", 11)])
        self.assertEqual(s.ok("sam", "GET", f"/messages/{got['id']}/attachments/0").body, pdf)
        # Only what the sender may read: not another's home, not a group one is not in.
        upload("sam", "home/privat.txt", b"privat")
        for file in ("home/privat.txt", "home/missing.pdf", f"groups/{gid}/nope.txt"):
            with self.subTest(file):
                self.assertProblem(s.req("tina", "POST", "/messages", {
                    "to": [s.addr("sam")], "attachments": [{"file": file}]}), 404)
        self.assertProblem(s.req("sue", "POST", "/messages", {
            "to": [s.addr("sam")], "attachments": [{"file": f"groups/{gid}/Plan.txt"}]}), 404)
        for att in ({"file": "elsewhere/x"}, {"file": "home/../x"},
                    {"file": "home/Blatt.pdf", "content_base64": "AA=="},
                    {"content_base64": "AA=="}):
            with self.subTest(att):
                self.assertProblem(s.req("tina", "POST", "/messages", {
                    "to": [s.addr("sam")], "attachments": [att]}), 400)
        self.assertEqual(len(s.inbox("sam")), 1)

    def test_search_threads_drafts_pages(self) -> None:
        s = self.school()
        first = s.send("tina", [s.addr("sam")], "Wandertag am Freitag", text="Treffpunkt Bahnhof")
        (got,) = s.inbox("sam")
        reply = s.send("sam", [s.addr("tina")], "Re: Wandertag", text="Ich komme",
                       in_reply_to=got["id"])
        self.assertTrue(s.ok("sam", "GET", f"/messages/{got['id']}")["answered"])
        (answer,) = s.inbox("tina")
        detail = s.ok("tina", "GET", f"/messages/{answer['id']}")
        self.assertEqual(detail["in_reply_to"], s.ok("tina", "GET",
                                                     f"/messages/{first['id']}")["message_id"])
        thread = s.ok("tina", "GET", f"/threads/{answer['thread_id']}")
        self.assertEqual([m["subject"] for m in thread["messages"]],
                         ["Wandertag am Freitag", "Re: Wandertag"])
        self.assertProblem(s.req("sam", "GET", f"/threads/{answer['thread_id']}"), 404)
        self.assertProblem(s.req("tina", "POST", "/messages", {"to": [s.addr("sam")],
                                                               "in_reply_to": str(uuid.uuid4())}),
                           404)
        hits = s.ok("tina", "GET", "/search?q=bahnhof")["items"]
        self.assertEqual([h["subject"] for h in hits], ["Wandertag am Freitag"])
        self.assertEqual(s.ok("sam", "GET", "/search?q=komme")["items"][0]["id"], reply["id"])
        self.assertEqual(s.ok("sue", "GET", "/search?q=bahnhof")["items"], [])
        self.assertProblem(s.req("tina", "GET", "/search"), 400)
        # The search runs in mail.search_ids() as the owner (row-level security would keep the
        # planner off the GIN index): with a big mailbox, that query uses the index.
        mid = hits[0]["id"]
        # In transactions of 1,000: the counters of one mailbox are updated per message, and
        # row versions of one transaction cannot be pruned (schema/0004_counters.sql).
        self.sql(f"DO $$ BEGIN FOR b IN 0..19 LOOP INSERT INTO mail.messages (school_id, "
                 f"user_id, folder_id, raw_id, size, thread_id, search) SELECT school_id, "
                 f"user_id, folder_id, raw_id, size, gen_random_uuid(), to_tsvector('simple', "
                 f"'filler' || g) FROM mail.messages, generate_series(b * 1000 + 1, "
                 f"b * 1000 + 1000) g WHERE id = '{mid}'; COMMIT; END LOOP; END $$; "
                 f"ANALYZE mail.messages")
        school = self.sql(f"SELECT school_id FROM mail.messages WHERE id = '{mid}'")
        plan = self.pg.psql(
            f"BEGIN; SELECT set_config('atrium.school_id', '{school}', true); EXPLAIN SELECT "
            f"m.id FROM mail.messages m WHERE m.school_id = core.current_school() AND "
            f"m.user_id = '{s.ids['tina']}' AND m.search @@ websearch_to_tsquery('simple', "
            f"'bahnhof') ORDER BY m.received_at DESC, m.id DESC LIMIT 51; COMMIT;")
        self.assertIn("messages_search", plan)
        self.assertEqual([h["subject"] for h in s.ok("tina", "GET", "/search?q=bahnhof")["items"]],
                         ["Wandertag am Freitag"])
        # Each search is planned for its words (a common one walks the mailbox newest first,
        # a rare one reads the GIN index), not with one generic plan (schema/0005).
        self.assertIn("plan_cache_mode=force_custom_plan",
                      self.sql("SELECT proconfig FROM pg_proc WHERE proname = 'search_ids'"))
        for _ in range(7):  # past the five executions after which a generic plan may be used
            got = s.ok("tina", "GET", "/search?q=bahnhof&limit=5")["items"]
            self.assertEqual([h["subject"] for h in got], ["Wandertag am Freitag"])
        self.assertEqual(len(s.ok("tina", "GET", "/search?q=filler7&limit=5")["items"]), 1)
        self.sql("DELETE FROM mail.messages WHERE subject = '' AND preview = '' AND "
                 "search @@ to_tsquery('simple', 'filler:*')")
        self.assert_counters()
        # Drafts.
        draft = s.ok("tom", "POST", "/drafts", {"to": [s.addr("sam")], "subject": "Entwurf"},
                     status=(201,))
        again = s.ok("tom", "PUT", f"/drafts/{draft['id']}", {"subject": "Entwurf 2"})
        self.assertEqual([m["subject"] for m in
                          s.ok("tom", "GET", "/folders/Drafts/messages")["items"]], ["Entwurf 2"])
        self.assertProblem(s.req("tom", "PUT", f"/drafts/{draft['id']}", {}), 404)
        self.assertProblem(s.req("tom", "PUT", f"/drafts/{first['id']}", {}), 404)
        self.assertProblem(s.req("tina", "PUT", f"/drafts/{first['id']}", {}), 409)
        self.assertProblem(s.req("tom", "POST", "/drafts", {"to": ["broken"]}), 400)
        del again
        # Pages, newest first.
        for i in range(5):
            s.send("tom", [s.addr("pia")], f"n{i}")
        seen, cursor = [], None
        for _ in range(10):
            page = s.ok("pia", "GET", "/folders/INBOX/messages?limit=2" +
                        (f"&cursor={cursor}" if cursor else ""))
            seen += [m["subject"] for m in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen, ["n4", "n3", "n2", "n1", "n0"])
        self.assertProblem(s.req("pia", "GET", "/folders/INBOX/messages?cursor=eHh4"), 400)
        self.assertProblem(s.req("pia", "GET", "/folders/Nope/messages"), 404)

    def test_real_world_messages_round_trip(self) -> None:
        s = self.school()
        names = sorted(n for n in os.listdir(TESTDATA) if n.endswith(".eml"))
        self.assertGreaterEqual(len(names), 10)
        for name in names:
            with self.subTest(name):
                with open(os.path.join(TESTDATA, name), "rb") as f:
                    data = f.read()
                made = s.ok("sue", "POST", "/folders/INBOX/messages", data, status=(201,),
                            headers={"Content-Type": "message/rfc822"})
                self.assertEqual(s.ok("sue", "GET", f"/messages/{made['id']}/raw").body, data)
                msg = s.ok("sue", "GET", f"/messages/{made['id']}")
                for field in ("subject", "from", "to", "text", "html", "attachments"):
                    self.assertIn(field, msg)
                for a in msg["attachments"]:
                    att = s.req("sue", "GET", f"/messages/{made['id']}/attachments/{a['index']}")
                    self.assertEqual((att.status, len(att.body)), (200, a["size"]))
                if name.split("-")[1] in ("m0003", "m0004", "m0010", "m1002", "m2001"):
                    # Aesop's fable, decoded from whatever charset and encoding it came in.
                    self.assertIn("Fr\u00f6sche", msg["subject"] + (msg["text"] or ""))
        self.assertProblem(s.req("sue", "POST", "/folders/INBOX/messages", b"x",
                                 headers={"Content-Type": "text/plain"}), 415)
        self.assertProblem(s.req("sue", "POST", "/folders/INBOX/messages", b"",
                                 headers={"Content-Type": "message/rfc822"}), 400)
        hits = s.ok("sue", "GET", "/search?q=Hasen")["items"]
        self.assertGreater(len(hits), 3)


class Lifecycle(MailTestCase):
    def test_user_deleted_and_export(self) -> None:
        s = self.school()
        s.send("tina", [s.addr("sue")], "Zeugnis")
        s.send("sue", [s.addr("tina")], "Danke")
        export = fixtures.check(self.host.request(
            "GET", f"/api/v1/schools/{s.slug}/users/{s.ids['sue']}/export",
            token=self.op_token), 200, what="export").json()
        mail = export["modules"]["mail"] if "modules" in export else export["mail"]
        self.assertEqual(sorted(m["subject"] for m in mail["messages"]), ["Danke", "Zeugnis"])
        fixtures.check(self.host.request("DELETE",
                                         f"/api/v1/schools/{s.slug}/users/{s.ids['sue']}",
                                         token=self.op_token), 204, what="delete user")
        self.assertEqual(self.sql(f"SELECT count(*) FROM mail.messages WHERE user_id = "
                                  f"'{s.ids['sue']}'"), "0")
        self.assertEqual(self.sql(f"SELECT count(*) FROM mail.folders WHERE user_id = "
                                  f"'{s.ids['sue']}'"), "0")
        # Tina's copies stay.
        self.assertEqual([m["subject"] for m in s.inbox("tina")], ["Danke"])
        self.assertEqual(self.sql(f"SELECT count(*) FROM mail.usage WHERE user_id = "
                                  f"'{s.ids['sue']}'"), "0")
        self.assert_counters()


if __name__ == "__main__":
    harness.main()
