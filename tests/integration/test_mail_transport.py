# SPDX-License-Identifier: Apache-2.0
"""test_mail_transport.py - the mail module's ways in and out: the LMTP listener (lmtp.c) with
a real LMTP client (Python's smtplib.LMTP) and a raw socket, and the sendmail bridge
(outbox.c) with a stand-in sendmail that records its argv and stdin and exits as the test
says.

One PostgreSQL and one atriumd for the class, started with ATRIUM_MAIL_LMTP_LISTEN on a free
port, ATRIUM_MAIL_SENDMAIL pointing at the stand-in and a pass every second. Inbound: a user,
a group address (every member, each once), unknown users and domains (550 for that RCPT, the
others still delivered), the size limit (552 at MAIL from SIZE=, and after DATA for a client
that sends no SIZE=), protocol errors, pipelining, and every message in
../shared/testdata/mail/ read back byte-identical through GET /messages/{id}/raw. Outbound:
sent, deferred on 75 and retried, failed on 69 with a bounce carrying the original (also
into a full mailbox: a bounce is never refused), a sendmail that hangs killed after [mail]
sendmail_timeout with the message deferred and sent later, and a host killed with -9 while
sendmail runs still sends the message after the restart. Group addresses take mail from outside as
their setting says (7b: anyone; the setting itself is test_mail_groups.py).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import smtplib
import socket
import tempfile
import time
import uuid
from typing import Any, Sequence

import fixtures
import harness

TESTDATA = os.path.join(os.path.dirname(harness.SOURCE_DIR.rstrip("/")), "shared", "testdata",
                        "mail")
if not os.path.isdir(TESTDATA):
    TESTDATA = "/work/shared/testdata/mail"
MAX_BYTES = 200_000  # [mail] lmtp_max_bytes for this host: small, so oversize is quick

# The stand-in sendmail. Each run gets a directory under calls/ (named by its start time, in
# nanoseconds) with its argv (one per line),
# its stdin and its pid; "sleep" in the control directory makes it sleep before exiting,
# "exit-once" is the exit status of the next run only (then removed), "exit" of every run.
STAND_IN = r"""#!/bin/sh
dir='@DIR@'
call=$(mktemp -d "$dir/calls/$(date +%s%N).XXXXXX")
echo $$ > "$call/pid"
for a in "$@"; do printf '%s\n' "$a"; done > "$call/argv"
cat > "$call/stdin"
if [ -f "$dir/sleep" ]; then sleep "$(cat "$dir/sleep")"; fi
code=0
if [ -f "$dir/exit" ]; then code=$(cat "$dir/exit"); fi
if [ -f "$dir/exit-once" ]; then code=$(cat "$dir/exit-once"); rm -f "$dir/exit-once"; fi
if [ "$code" != 0 ]; then echo "stand-in says no ($code)" >&2; fi
echo "$code" > "$call/done"
exit "$code"
"""


def wire_message(data: bytes) -> bytes:
    """What smtplib's data() puts on the wire for `data`, after the server undoes the
    dot-stuffing: the bytes as they are (smtplib converts line endings only for str
    messages, and these are bytes), plus a CRLF when they do not already end in one, because
    the terminating "." must start a line. So an LF-only file arrives LF-only with "\\r\\n"
    at its end: that is the LMTP client, not us. Dot-stuffing itself is undone exactly."""
    return data if data.endswith(b"\r\n") else data + b"\r\n"


class Reply:
    """Reads SMTP-style replies (multi-line "250-...") from a raw socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; pending {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self) -> tuple[int, list[bytes]]:
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line[3:4] != b"-":
                return int(line[:3]), lines


class Transport(harness.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.ctl = tempfile.mkdtemp(prefix="atrium-sendmail-")
        os.mkdir(os.path.join(cls.ctl, "calls"))
        cls.sendmail = os.path.join(cls.ctl, "sendmail")
        with open(cls.sendmail, "w", encoding="utf-8") as f:
            f.write(STAND_IN.replace("@DIR@", cls.ctl))
        os.chmod(cls.sendmail, 0o755)
        cls.pg = harness.PgCluster(name="pg-mail-transport").start()
        cls.lmtp_port = harness.free_port()
        cls.host = harness.Atriumd(cls.pg, env={
            "ATRIUM_MAIL_LMTP_LISTEN": f"127.0.0.1:{cls.lmtp_port}",
            "ATRIUM_MAIL_LMTP_MAX_BYTES": str(MAX_BYTES),
            "ATRIUM_MAIL_SENDMAIL": cls.sendmail,
            "ATRIUM_MAIL_SENDMAIL_TIMEOUT": "30",
            "ATRIUM_MAIL_OUTBOX_INTERVAL": "1",
        })
        try:
            cls.host.start()
            cls.op = fixtures.make_operator(cls.host)
            cls.slug = "tr"
            cls.domain = "tr.example.org"
            fixtures.make_school(cls.host, cls.op, cls.slug, modules=("groups", "mail"))
            cls.ids: dict[str, str] = {}
            cls.tokens: dict[str, str] = {}
            for name, roles in {"ada": ["admin"], "tina": ["teacher"], "sam": ["student"],
                                "sue": ["student"], "max": ["student"]}.items():
                cls.ids[name] = fixtures.make_user(cls.host, cls.op, cls.slug, name,
                                                   roles=roles)["id"]
                cls.tokens[name] = fixtures.login(cls.host, name, school=cls.slug)
            fixtures.check(cls.host.request("PUT", f"/api/v1/schools/{cls.slug}/mail/settings",
                                            {"domain": cls.domain}, token=cls.tokens["ada"]),
                           200, 201, 204, what="mail domain")
            group = fixtures.check(cls.host.request(
                "POST", f"/api/v1/schools/{cls.slug}/groups",
                {"name": "7b", "slug": "7b", "type": "class"}, token=cls.tokens["tina"]),
                201, what="group").json()
            for m in ("sam", "sue"):
                fixtures.check(cls.host.request(
                    "PUT", f"/api/v1/schools/{cls.slug}/groups/{group['id']}/members/"
                    f"{cls.ids[m]}", {"role": "member"}, token=cls.tokens["tina"]),
                    200, 201, what="member")
            # 7b takes mail from anyone outside (the default is nobody: test_mail_groups.py).
            fixtures.check(cls.host.request(
                "PUT", f"/api/v1/schools/{cls.slug}/mail/groups/{group['id']}",
                {"external_senders": "anyone"}, token=cls.tokens["tina"]), 200,
                what="7b's external senders")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        problem = None
        host = getattr(cls, "host", None)
        if host is not None and host.proc is not None and host.proc.poll() is None:
            # A clean stop with an LMTP client idle in a read (mail_lmtp_stop must wake it),
            # and nothing from the sanitizers that names the transport.
            idle = socket.create_connection(("127.0.0.1", cls.lmtp_port), timeout=10)
            rc = host.stop(60)
            idle.close()
            log = host.log_text()
            leak = log[log.find("LeakSanitizer"):] if "LeakSanitizer" in log else ""
            if (rc != 0 or "ERROR: AddressSanitizer" in log or "runtime error:" in log
                    or any(k in leak for k in ("lmtp", "outbox", "mail"))
                    or "CRITICAL" in log):
                problem = (f"atriumd exited with status {rc}:\n"
                           + "\n".join(log.splitlines()[-80:]))
        # Stand-ins left sleeping (the kill test) are ours to end.
        for pidfile in glob.glob(os.path.join(cls.ctl, "calls", "*", "pid")):
            try:
                with open(pidfile, encoding="ascii") as f:
                    os.killpg(int(f.read()), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        if host is not None:
            host.cleanup()
        if getattr(cls, "pg", None) is not None:
            cls.pg.cleanup()
        shutil.rmtree(cls.ctl, ignore_errors=True)
        if problem:
            raise AssertionError(problem)

    def setUp(self) -> None:
        for name in ("sleep", "exit", "exit-once"):
            self.control(name, None)
        # Nothing queued from an earlier test.
        self.wait(lambda: self.sql("SELECT count(*) FROM mail.outbox WHERE state = 'queued'")
                  == "0", what="an empty queue")

    # -- helpers -------------------------------------------------------------------------

    def sql(self, query: str) -> str:
        return self.pg.psql(query).strip()

    def control(self, name: str, value: str | None) -> None:
        path = os.path.join(self.ctl, name)
        if value is None:
            if os.path.exists(path):
                os.unlink(path)
        else:
            with open(path, "w", encoding="ascii") as f:
                f.write(value)

    def wait(self, cond: Any, what: str, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = cond()
            if got:
                return got
            time.sleep(0.1)
        self.fail(f"timed out waiting for {what}; host log tail:\n"
                  + "\n".join(self.host.log_text().splitlines()[-30:]))

    def calls(self) -> list[str]:
        return sorted(glob.glob(os.path.join(self.ctl, "calls", "*.*")))  # by start time

    def read(self, call: str, name: str) -> bytes:
        with open(os.path.join(call, name), "rb") as f:
            return f.read()

    def api(self, who: str, method: str, path: str, body: Any = None,
            status: Sequence[int] = (200,)) -> harness.Response:
        return fixtures.check(self.host.request(method,
                                                f"/api/v1/schools/{self.slug}/mail{path}",
                                                body, token=self.tokens[who]),
                              *status, what=f"{who}: {method} {path}")

    def inbox(self, who: str) -> list[dict]:
        return self.api(who, "GET", "/folders/INBOX/messages?limit=500").json()["items"]

    def raw(self, who: str, message_id: str) -> bytes:
        return self.api(who, "GET", f"/messages/{message_id}/raw").body

    def addr(self, who: str) -> str:
        return f"{who}@{self.domain}"

    def lmtp(self) -> smtplib.LMTP:
        client = smtplib.LMTP("127.0.0.1", self.lmtp_port, timeout=30)
        self.addCleanup(client.close)
        code, _ = client.ehlo()  # LMTP's ehlo() sends LHLO
        self.assertEqual(code, 250)
        return client

    def new_in_inbox(self, who: str, before: set[str]) -> list[dict]:
        return [m for m in self.inbox(who) if m["id"] not in before]

    def ids_in(self, who: str) -> set[str]:
        return {m["id"] for m in self.inbox(who)}

    # -- inbound ---------------------------------------------------------------------------

    def test_lmtp_recipients(self) -> None:
        before = {who: self.ids_in(who) for who in ("sam", "sue", "max", "tina")}
        tag = uuid.uuid4().hex
        msg = (f"From: someone@outside.example\r\nTo: 7b@{self.domain}\r\n"
               f"Subject: recipients {tag}\r\nMessage-ID: <{tag}@outside.example>\r\n\r\n"
               f"Hello class.\r\n.leading dot\r\n").encode()
        client = self.lmtp()
        self.assertEqual(client.mail("someone@outside.example")[0], 250)
        self.assertEqual(client.rcpt(self.addr("sam"))[0], 250)
        code, text = client.rcpt(f"nobody@{self.domain}")
        self.assertEqual((code, text[:5]), (550, b"5.1.1"))
        code, text = client.rcpt("sam@not-ours.example")
        self.assertEqual((code, text[:5]), (550, b"5.1.2"))
        self.assertEqual(client.rcpt(f"7B@{self.domain.upper()}")[0], 250)  # case-blind
        # RFC 2033: one reply per accepted RCPT after the final ".". smtplib's data() reads
        # only the first; the second is read by hand.
        self.assertEqual(client.data(msg)[0], 250)
        self.assertEqual(client.getreply()[0], 250)
        self.assertEqual(client.noop()[0], 250)  # the session is in step
        client.quit()

        # 7b is sam, sue and tina (who made the group: its owner, so a member); sam is
        # addressed directly as well and still gets one copy, not two.
        for who in ("sam", "sue", "tina"):
            got = self.new_in_inbox(who, before[who])
            self.assertEqual([m["subject"] for m in got], [f"recipients {tag}"], who)
            self.assertEqual(self.raw(who, got[0]["id"]), msg)
        self.assertEqual(self.new_in_inbox("max", before["max"]), [])

    def test_testdata_byte_identical(self) -> None:
        files = sorted(glob.glob(os.path.join(TESTDATA, "*.eml")))
        self.assertGreater(len(files), 5, f"no test messages in {TESTDATA}")
        client = self.lmtp()
        for path in files:
            with self.subTest(os.path.basename(path)):
                with open(path, "rb") as f:
                    data = f.read()
                before = self.ids_in("tina")
                refused = client.sendmail("sender@outside.example", [self.addr("tina")], data)
                self.assertEqual(refused, {})
                got = self.new_in_inbox("tina", before)
                self.assertEqual(len(got), 1)
                self.assertEqual(self.raw("tina", got[0]["id"]), wire_message(data))
        client.quit()

    def test_oversize(self) -> None:
        before = self.ids_in("sam")
        big = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * (MAX_BYTES // 1000 + 10)
        client = self.lmtp()
        # smtplib announces SIZE= (we advertise SIZE): refused at MAIL.
        with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
            client.sendmail("a@outside.example", [self.addr("sam")], big)
        self.assertEqual(cm.exception.smtp_code, 552)
        client.rset()
        # Without SIZE=: read to the end and refused after DATA, once per RCPT.
        self.assertEqual(client.mail("a@outside.example")[0], 250)
        self.assertEqual(client.rcpt(self.addr("sam"))[0], 250)
        self.assertEqual(client.rcpt(self.addr("sue"))[0], 250)
        code, text = client.data(big)
        self.assertEqual((code, text[:5]), (552, b"5.3.4"))
        self.assertEqual(client.getreply()[0], 552)
        # Just under the limit is fine.
        fits = b"Subject: fits\r\n\r\n" + b"y" * (MAX_BYTES - 100) + b"\r\n"
        self.assertEqual(client.sendmail("a@outside.example", [self.addr("sam")], fits), {})
        client.quit()
        got = self.new_in_inbox("sam", before)
        self.assertEqual([m["subject"] for m in got], ["fits"])
        self.assertEqual(self.raw("sam", got[0]["id"]), fits)

    def test_mailbox_full(self) -> None:
        # The school's mailbox quota (shared by the class: restored afterwards), set so that
        # one of two students has room for the message and the other has not.
        self.addCleanup(self.api, "ada", "PUT", "/settings",
                        {"domain": self.domain, "mailbox_quota_bytes": 1 << 30})

        def used(who: str) -> int:
            return self.api(who, "GET", "/usage").json()["used"]

        full, room = sorted(("max", "sam"), key=used, reverse=True)
        if used(full) < used(room) + 10_000:
            filler = b"Subject: filler\r\n\r\n" + b"f" * 20_000 + b"\r\n"
            client = self.lmtp()
            self.assertEqual(client.sendmail("a@outside.example", [self.addr(full)], filler), {})
            client.quit()
        self.api("ada", "PUT", "/settings", {"domain": self.domain,
                                            "mailbox_quota_bytes": used(room) + 5000})
        before = {who: self.ids_in(who) for who in (full, room)}
        msg = b"Subject: full\r\n\r\n" + b"z" * 3000 + b"\r\n"
        client = self.lmtp()
        self.assertEqual(client.mail("a@outside.example")[0], 250)
        self.assertEqual(client.rcpt(self.addr(full))[0], 250)
        self.assertEqual(client.rcpt(self.addr(room))[0], 250)
        # One reply per recipient after DATA (smtplib reads the first).
        code, text = client.data(msg)
        self.assertEqual((code, text[:5]), (452, b"4.2.2"))
        self.assertEqual(client.getreply()[0], 250)
        client.quit()
        self.assertEqual(self.new_in_inbox(full, before[full]), [])
        self.assertEqual([m["subject"] for m in self.new_in_inbox(room, before[room])],
                         ["full"])

    def test_protocol(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.lmtp_port), timeout=30)
        self.addCleanup(sock.close)
        r = Reply(sock)
        code, lines = r.reply()
        self.assertEqual(code, 220)
        self.assertIn(b"LMTP", lines[0])

        def cmd(line: bytes) -> tuple[int, list[bytes]]:
            sock.sendall(line + b"\r\n")
            return r.reply()

        self.assertEqual(cmd(b"MAIL FROM:<a@b.example>")[0], 503)  # before LHLO
        self.assertEqual(cmd(b"HELO x")[0], 500)
        self.assertEqual(cmd(b"EHLO x")[0], 500)
        code, lines = cmd(b"LHLO client.example")
        self.assertEqual(code, 250)
        self.assertIn(b"250-PIPELINING", lines)
        self.assertIn(b"250-ENHANCEDSTATUSCODES", lines)
        self.assertIn(f"250 SIZE {MAX_BYTES}".encode(), lines)
        self.assertEqual(cmd(b"RCPT TO:<sam@" + self.domain.encode() + b">")[0], 503)
        self.assertEqual(cmd(b"DATA")[0], 503)
        self.assertEqual(cmd(b"VRFY sam")[0], 252)
        self.assertEqual(cmd(b"FROB")[0], 500)
        self.assertEqual(cmd(b"NOOP " + b"x" * 2000)[0], 500)  # too long
        self.assertEqual(cmd(b"MAIL FROM:<a@b.example> SIZE=12 BODY=8BITMIME")[0], 250)
        self.assertEqual(cmd(b"MAIL FROM:<a@b.example>")[0], 503)  # nested
        self.assertEqual(cmd(b"RCPT TO:<not an address>")[0], 501)
        self.assertEqual(cmd(b"RCPT TO:<nobody@" + self.domain.encode() + b">")[0], 550)
        self.assertEqual(cmd(b"DATA")[0], 503)  # no valid recipient
        self.assertEqual(cmd(b"RSET")[0], 250)
        self.assertEqual(cmd(b"NOOP")[0], 250)

        # Pipelined: everything in one write; raw dot-stuffing and LF-only lines.
        before = self.ids_in("max")
        body = (b"Subject: piped\r\n\r\n..one dot\n...two dots\r\nlast line no dot.\r\n"
                b"\r\n.\r\n")
        sock.sendall(b"MAIL FROM:<>\r\nRCPT TO:<max@" + self.domain.encode() + b">\r\n"
                     b"DATA\r\n")
        self.assertEqual([r.reply()[0] for _ in range(3)], [250, 250, 354])
        sock.sendall(body + b"NOOP\r\nQUIT\r\n")
        self.assertEqual([r.reply()[0] for _ in range(3)], [250, 250, 221])
        got = self.new_in_inbox("max", before)
        self.assertEqual(len(got), 1)
        self.assertEqual(self.raw("max", got[0]["id"]),
                         b"Subject: piped\r\n\r\n.one dot\n..two dots\r\nlast line no dot.\r\n"
                         b"\r\n")

    def test_too_many_connections(self) -> None:
        """Sixteen sessions at once (lmtp.c MAX_CONNECTIONS); the next is told 421 4.3.2 and
        closed, and once one session ends a new one is served again."""
        def greet() -> tuple[socket.socket, Reply]:
            sock = socket.create_connection(("127.0.0.1", self.lmtp_port), timeout=30)
            self.addCleanup(sock.close)
            return sock, Reply(sock)

        held = [greet() for _ in range(16)]
        self.assertEqual([r.reply()[0] for _, r in held], [220] * 16)
        _, extra = greet()
        code, lines = extra.reply()
        self.assertEqual(code, 421)
        self.assertIn(b"4.3.2 Too many connections", lines[0])
        with self.assertRaises(EOFError):
            extra.line()
        # The sixteen still work.
        sock, r = held[0]
        sock.sendall(b"LHLO client.example\r\n")
        self.assertEqual(r.reply()[0], 250)
        sock.sendall(b"QUIT\r\n")
        self.assertEqual(r.reply()[0], 221)

        def served() -> bool | None:
            _, again = greet()
            return again.reply()[0] == 220 or None

        self.wait(served, what="a new session after one ended")

    # -- outbound --------------------------------------------------------------------------

    def send_out(self, subject: str, to: str = "someone@elsewhere.example") -> dict:
        return self.api("tina", "POST", "/messages",
                        {"to": [to], "subject": subject, "text": "Hallo draußen."},
                        status=(201,)).json()

    def wait_call(self, after: int, done: bool = True) -> str:
        def ready() -> str | None:
            calls = self.calls()[after:]
            for c in calls:
                if not done or os.path.exists(os.path.join(c, "done")):
                    return c
            return None
        return self.wait(ready, what="a sendmail run")

    def test_outbound_sent(self) -> None:
        n = len(self.calls())
        sent = self.send_out("out and away")
        call = self.wait_call(n)
        self.assertEqual(self.read(call, "argv").decode().splitlines(),
                         ["-i", "-f", self.addr("tina"), "--", "someone@elsewhere.example"])
        self.assertEqual(self.read(call, "stdin"), self.raw("tina", sent["id"]))
        self.wait(lambda: self.sql("SELECT count(*) FROM mail.outbox") == "0",
                  what="the outbox row to go")
        # The command runs a pass too, beside the serving host (whose LMTP port it cannot
        # have: it says so and goes on).
        proc = self.host.run(["mail", "flush"])
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("sent: 0", proc.stdout)

    def test_outbound_tempfail_then_retry(self) -> None:
        self.control("exit-once", "75")
        n = len(self.calls())
        self.send_out("try again")
        first = self.wait_call(n)
        self.assertEqual(self.read(first, "done").strip(), b"75")
        row = self.wait(lambda: self.sql(
            "SELECT state, attempts, last_error, next_attempt_at > now() + interval '50 s' "
            "FROM mail.outbox WHERE attempts = 1"), what="the deferral")
        state, attempts, last_error, later = row.split("|")
        self.assertEqual((state, attempts, later), ("queued", "1", "t"))
        self.assertIn("sendmail exit 75", last_error)
        self.assertIn("stand-in says no (75)", last_error)
        # Instead of waiting a minute.
        self.sql("UPDATE mail.outbox SET next_attempt_at = now()")
        second = self.wait_call(n + 1)
        self.assertEqual(self.read(second, "done").strip(), b"0")
        self.assertEqual(self.read(second, "stdin"), self.read(first, "stdin"))
        self.wait(lambda: self.sql("SELECT count(*) FROM mail.outbox") == "0",
                  what="the outbox row to go")

    def test_outbound_permanent_bounce(self) -> None:
        self.control("exit-once", "69")
        before = self.ids_in("tina")
        n = len(self.calls())
        sent = self.send_out("will bounce", to="nobody@elsewhere.example")
        self.wait_call(n)
        row = self.wait(lambda: self.sql(
            "SELECT state, last_error FROM mail.outbox WHERE state = 'failed' "
            "AND 'nobody@elsewhere.example' = ANY (recipients)"), what="the failure")
        self.assertIn("sendmail exit 69", row)
        bounces = [m for m in self.new_in_inbox("tina", before)
                   if m["id"] != sent["id"]]
        self.assertEqual([m["subject"] for m in bounces],
                         ["Undelivered Mail Returned to Sender"])
        detail = self.api("tina", "GET", f"/messages/{bounces[0]['id']}").json()
        self.assertIn("nobody@elsewhere.example", detail["text"])
        self.assertIn("sendmail exit 69", detail["text"])
        atts = detail["attachments"]
        self.assertEqual([(a["filename"], a["content_type"]) for a in atts],
                         [("original.eml", "message/rfc822")])
        original = self.raw("tina", sent["id"])
        got = self.api("tina", "GET", f"/messages/{bounces[0]['id']}/attachments/"
                       f"{atts[0]['index']}").body
        self.assertEqual(got, original)
        self.sql("DELETE FROM mail.outbox WHERE state = 'failed'")

    def test_outbound_bounce_into_a_full_mailbox(self) -> None:
        # A bounce is never refused for want of room: refusing it would roll the failure
        # back, and sendmail would get the failed message again on every pass.
        self.addCleanup(self.api, "ada", "PUT", "/settings",
                        {"domain": self.domain, "mailbox_quota_bytes": 1 << 30})
        rcpt = "full@elsewhere.example"
        queued = f"FROM mail.outbox WHERE '{rcpt}' = ANY (recipients)"
        self.addCleanup(self.sql, f"DELETE {queued}")
        self.control("exit", "75")
        n = len(self.calls())
        self.api("tina", "POST", "/messages", {"to": [rcpt], "subject": "into a full mailbox",
                                               "text": "k" * 2000}, status=(201,))
        self.wait_call(n)
        self.wait(lambda: self.sql(f"SELECT attempts {queued}") == "1", what="the deferral")
        # Now tina's mailbox is full to the byte, and the next attempt fails for good.
        used = self.api("tina", "GET", "/usage").json()["used"]
        self.api("ada", "PUT", "/settings", {"domain": self.domain, "mailbox_quota_bytes": used})
        before = self.ids_in("tina")
        self.control("exit", "69")
        self.sql(f"UPDATE mail.outbox SET next_attempt_at = now() WHERE '{rcpt}' = ANY "
                 f"(recipients)")
        self.wait(lambda: self.sql(f"SELECT state {queued}") == "failed", what="the failure")
        self.assertEqual([m["subject"] for m in self.new_in_inbox("tina", before)],
                         ["Undelivered Mail Returned to Sender"])
        self.assertGreater(self.api("tina", "GET", "/usage").json()["used"], used)

    def restart_with_sendmail_timeout(self, seconds: str) -> None:
        self.host.stop(60)
        self.host.extra_env["ATRIUM_MAIL_SENDMAIL_TIMEOUT"] = seconds
        self.host.start()

    def test_outbound_sendmail_that_hangs_is_killed_and_retried(self) -> None:
        # [mail] sendmail_timeout bounds one run of the queue's sendmail: a run that hangs is
        # killed (its process group: the stand-in's own `sleep` too), the message deferred as
        # a temporary failure, and sent by a later pass.
        self.restart_with_sendmail_timeout("2")
        self.addCleanup(self.restart_with_sendmail_timeout, "30")
        self.control("sleep", "30")
        n = len(self.calls())
        self.send_out("the sendmail that hangs")
        hung = self.wait_call(n, done=False)
        row = self.wait(lambda: self.sql(
            "SELECT state, attempts, last_error FROM mail.outbox WHERE attempts = 1"),
            what="the deferral")
        state, attempts, last_error = row.split("|")
        self.assertEqual((state, attempts), ("queued", "1"))
        self.assertIn("did not finish within 2 s", last_error)
        self.assertFalse(os.path.exists(os.path.join(hung, "done")), "it was not killed")
        with open(os.path.join(hung, "pid"), encoding="ascii") as f:
            pid = int(f.read())
        self.wait(lambda: fixtures.process_gone(pid), what="the stand-in to be gone")
        self.control("sleep", None)
        self.sql("UPDATE mail.outbox SET next_attempt_at = now()")
        again = self.wait_call(n + 1)
        self.assertEqual(self.read(again, "done").strip(), b"0")
        self.assertEqual(self.read(again, "stdin"), self.read(hung, "stdin"))
        self.wait(lambda: self.sql("SELECT count(*) FROM mail.outbox") == "0",
                  what="the outbox row to go")

    def test_outbound_host_killed_while_sending(self) -> None:
        self.control("sleep", "60")
        n = len(self.calls())
        self.send_out("survives a crash")
        running = self.wait_call(n, done=False)
        self.wait(lambda: os.path.exists(os.path.join(running, "stdin"))
                  and os.path.getsize(os.path.join(running, "stdin")) > 0,
                  what="the stand-in to have the message")
        self.host.kill()
        with open(os.path.join(running, "pid"), encoding="ascii") as f:
            os.killpg(int(f.read()), signal.SIGKILL)
        self.control("sleep", None)
        self.assertEqual(self.sql("SELECT state, attempts FROM mail.outbox"), "queued|0")
        self.host.start()
        again = self.wait_call(n + 1)
        self.assertEqual(self.read(again, "done").strip(), b"0")
        self.assertEqual(self.read(again, "stdin"), self.read(running, "stdin"))
        self.wait(lambda: self.sql("SELECT count(*) FROM mail.outbox") == "0",
                  what="the outbox row to go")


if __name__ == "__main__":
    harness.main()
