# SPDX-License-Identifier: Apache-2.0
"""test_conference_bbb.py - the conference module's BigBlueButton path end to end: real HTTP
against a real atriumd and PostgreSQL, with BigBlueButton replaced by the checking double in
bbb_double.py (plugins/conference/README.md is the contract).

Covered: PUT/GET /backend for "bigbluebutton" with SHA-256 and SHA-1 checksums (the secret is
never answered); joins of a student (VIEWER), the room's creator (MODERATOR) and a guest link
(guest=true): the `create` the double saw (name, meetingID, passwords, record,
maxParticipants, guestPolicy, meta_endCallbackUrl), its idempotence (duplicateWarning) and the
signed join URL, checked by the double; a BigBlueButton that is down, slow, answers 500, is
flaky, answers garbage or FAILED, or holds another secret (503 or 502, no visit recorded, no
secret or signed URL in the problem); an https:// one whose certificate no authority signed
(refused at the handshake: 503, not one call reaches the API); one that is slow but answers (reads keep their workers,
no connection is held across the call); POST /rooms/{id}/end (the `end` call, closing visits,
notFound, down, a student); and the meeting-ended callback (fired by the double at the URL it
was given, refused with a wrong, missing or other school's signature).

One host for the class; every test makes its own school and its own double, and fails when
the double saw a protocol violation (assert_clean as a cleanup). The host learns its own base
URL as [conference] public_url, so the double's end callback reaches it over HTTP.
"""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import uuid
from typing import Any

import fixtures
import harness
from bbb_double import BbbDouble, Call
from conference_fixtures import JOIN_KEYS, SEALING_KEY, ConferenceTestCase, School, lit

TIMEOUT_S = 1   # ATRIUM_CONFERENCE_BBB_TIMEOUT_SECONDS
RETRIES = 1     # ATRIUM_CONFERENCE_BBB_RETRIES
COOLDOWN_S = 2  # ATRIUM_CONFERENCE_BBB_COOLDOWN_SECONDS: the breaker after no answer
ROOM_NAME = "Mathe 7b: Brüche & Dezimalzahlen"


def self_signed_tls() -> ssl.SSLContext:
    """A server context with a certificate for 127.0.0.1 that no authority signed."""
    tmp = tempfile.mkdtemp(prefix="bbb-tls-")
    try:
        key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                        "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        return ctx
    finally:
        shutil.rmtree(tmp, True)


class _SelfAwareHost(harness.Atriumd):
    """atriumd whose [conference] public_url is its own base URL, whatever port it ends up on
    (start() picks another one when it loses a race for the first)."""

    def env(self) -> dict[str, str]:
        env = super().env()
        env["ATRIUM_CONFERENCE_PUBLIC_URL"] = self.url
        return env


class BigBlueButton(ConferenceTestCase):
    HOST_ENV = {"ATRIUM_CONFERENCE_SECRET_KEY": SEALING_KEY,
                "ATRIUM_CONFERENCE_BBB_TIMEOUT_SECONDS": str(TIMEOUT_S),
                "ATRIUM_CONFERENCE_BBB_RETRIES": str(RETRIES),
                "ATRIUM_CONFERENCE_BBB_COOLDOWN_SECONDS": str(COOLDOWN_S)}
    EXIT_CHECK = ("conference", "bbb")
    _ports: set[int] = set()

    @classmethod
    def setUpClass(cls) -> None:
        # fixtures.SharedHost.setUpClass, with a host that knows its own URL.
        super(fixtures.SharedHost, cls).setUpClass()
        try:
            cls.pg = harness.PgCluster(name=f"pg-{cls.__name__.lower()}").start()
            cls.host = _SelfAwareHost(cls.pg, env=cls.HOST_ENV).start()
            cls.op_token = fixtures.make_operator(cls.host)
        except BaseException:
            cls._stop_shared()
            raise

    # -- set-up ------------------------------------------------------------------------------

    def double(self, algorithm: str = "sha256", secret: str | None = None,
               tls: ssl.SSLContext | None = None) -> BbbDouble:
        """A fresh double on a port no earlier test used: the breaker is kept per API URL,
        and one an earlier test left open must not meet this test's double."""
        while True:
            bbb = BbbDouble(secret=secret or f"bbb-{algorithm}-{uuid.uuid4().hex}",
                            algorithm=algorithm, slow_seconds=10.0, tls=tls).start()
            if bbb.port not in self._ports:
                break
            bbb.stop()
        self._ports.add(bbb.port)
        self.addCleanup(bbb.stop)
        self.addCleanup(bbb.assert_clean)  # runs first: no protocol violations in any test
        return bbb

    def bbb_school(self, bbb: BbbDouble, secret: str | None = None,
                   checksum: str | None = "sha256") -> School:
        s = self.school(backend=False)
        body = {"type": "bigbluebutton", "url": bbb.url, "secret": secret or bbb.secret}
        if checksum:
            body["checksum"] = checksum
        got = s.ok("ada", "PUT", "/backend", body, status=(200,))
        self.assertNotIn("secret", got)
        return s

    def callback_path(self, s: School, room: str, bbb: BbbDouble) -> str:
        """The path of the room's meta_endCallbackUrl as the double received it."""
        cb = bbb.calls_to("create")[-1].params["meta_endCallbackUrl"]
        self.assertTrue(cb.startswith(self.host.url + "/"), cb)
        return cb[len(self.host.url):]

    # -- checks ------------------------------------------------------------------------------

    def assertCreate(self, call: Call, s: School, room: str, *, name: str = ROOM_NAME,
                     max_participants: int | None = None, lobby: bool = False) -> dict:
        p = call.params
        self.assertTrue(call.checksum_ok, call)
        self.assertEqual((call.status, call.returncode), (200, "SUCCESS"), call)
        want = {"name", "meetingID", "attendeePW", "moderatorPW", "record", "guestPolicy",
                "meta_endCallbackUrl"} | ({"maxParticipants"} if max_participants else set())
        self.assertEqual(set(p), want, p)
        self.assertEqual(p["name"], name)
        self.assertEqual(p["meetingID"], room)
        self.assertNotEqual(p["attendeePW"], p["moderatorPW"])
        self.assertEqual(p["record"], "false")
        if max_participants:
            self.assertEqual(p["maxParticipants"], str(max_participants))
        self.assertEqual(p["guestPolicy"], "ASK_MODERATOR" if lobby else "ALWAYS_ACCEPT")
        self.assertRegex(p["meta_endCallbackUrl"],
                         "^" + re.escape(f"{self.host.url}/api/v1/schools/{s.slug}/conference/"
                                         f"callbacks/bbb-end/{room}?sig=")
                         + r"[A-Za-z0-9_-]{43,64}$")
        return p

    def assertBbbJoin(self, bbb: BbbDouble, room: str, answer: Any, *, moderator: bool,
                      user_id: str, name: str, guest: bool = False) -> dict:
        self.assertIsInstance(answer, dict)
        self.assertLessEqual(JOIN_KEYS, set(answer), answer)
        self.assertEqual(answer["backend"], "bigbluebutton")
        self.assertIsNone(answer["expires_at"])
        self.assertIs(answer["moderator"], moderator)
        self.assertIsInstance(answer["attendance_id"], int)
        p = bbb.verify_join_url(answer["url"])  # checksum, encoding, password for the role
        self.assertEqual(p["role"], "MODERATOR" if moderator else "VIEWER")
        self.assertEqual(p["meetingID"], room)
        self.assertEqual(p["userID"], user_id)
        self.assertEqual(p["fullName"], name)
        self.assertEqual(p.get("guest"), "true" if guest else None)
        self.assertEqual(bbb.calls_to("join"), [], "Atrium must not call join itself")
        return p

    def assertQuietFailure(self, resp: harness.Response, status: int, suffix: str,
                           bbb: BbbDouble, *secrets: str) -> dict:
        """A 502/503 problem that names neither a secret, a password nor the signed URL."""
        problem = self.assertProblem(resp, status, suffix)
        for c in bbb.calls:
            secrets += (c.params.get("attendeePW", ""), c.params.get("moderatorPW", ""),
                        c.raw_query)
        for bad in (bbb.secret, *secrets, "checksum=", bbb.url, f"127.0.0.1:{bbb.port}"):
            if bad:
                self.assertNotIn(bad, resp.text)
        return problem

    def assertNoSecretLogged(self, *secrets: str) -> None:
        log = self.host.log_text()
        for secret in secrets:
            self.assertNotIn(secret, log)

    # -- the backend and joins ---------------------------------------------------------------

    def test_backend_both_algorithms_secret_never_shown(self) -> None:
        for algorithm in ("sha256", "sha1"):
            with self.subTest(checksum=algorithm):
                bbb = self.double(algorithm)
                s = self.bbb_school(bbb, checksum=algorithm)
                resp = fixtures.check(s.req("ada", "GET", "/backend"), 200, what="GET /backend")
                self.assertNotIn(bbb.secret, resp.text)
                body = resp.json()
                self.assertEqual({k: body.get(k) for k in ("type", "url", "checksum", "source")},
                                 {"type": "bigbluebutton", "url": bbb.url,
                                  "checksum": algorithm, "source": "school"})
                self.assertLessEqual(set(body), {"type", "url", "checksum", "source",
                                                 "updated_at"}, body)
                self.assertEqual(self.sql(
                    f"SELECT position(convert_to({lit(bbb.secret)}, 'UTF8') in secret_sealed) "
                    f"FROM conference.backends WHERE school_id = '{s.id}'"), "0")
                room = s.room("tina", ROOM_NAME)["id"]
                answer = s.join("sam", room)
                self.assertBbbJoin(bbb, room, answer, moderator=False, user_id=s.ids["sam"],
                                   name="Sam Schüler")
                self.assertEqual(len(bbb.calls_to("create")), 1)
                self.assertNoSecretLogged(bbb.secret)
        # Without "checksum", SHA-256.
        bbb = self.double("sha256")
        s = self.bbb_school(bbb, checksum=None)
        self.assertEqual(s.ok("ada", "GET", "/backend")["checksum"], "sha256")

    def join_flow(self, algorithm: str) -> None:
        bbb = self.double(algorithm)
        s = self.bbb_school(bbb, checksum=algorithm)
        room = s.room("tina", ROOM_NAME, max_participants=30, lobby=True)["id"]

        sam = s.join("sam", room)
        self.assertBbbJoin(bbb, room, sam, moderator=False, user_id=s.ids["sam"],
                           name="Sam Schüler")
        [first] = bbb.calls_to("create")
        created = self.assertCreate(first, s, room, max_participants=30, lobby=True)
        self.assertEqual(first.message_key, None)

        tina = s.join("tina", room)  # the creator moderates; create again is idempotent
        self.assertBbbJoin(bbb, room, tina, moderator=True, user_id=s.ids["tina"],
                           name="Tina Teacher")
        second = bbb.calls_to("create")[1]
        self.assertEqual((second.returncode, second.message_key), ("SUCCESS", "duplicateWarning"))
        self.assertEqual(second.params, created)
        self.assertEqual(bbb.meetings[room].creates, 2)
        self.assertEqual(self.visits(room), {str(sam["attendance_id"]): (s.ids["sam"], False),
                                             str(tina["attendance_id"]): (s.ids["tina"], False)})
        self.assertEqual(self.sql(f"SELECT moderator FROM conference.attendance WHERE room_id "
                                  f"= '{room}' ORDER BY id"), "f\nt")

        # A room without limits or lobby.
        plain = s.room("tina", "Aula")["id"]
        self.assertBbbJoin(bbb, plain, s.join("sue", plain), moderator=False,
                           user_id=s.ids["sue"], name="Sue Student")
        self.assertCreate(bbb.calls_to("create")[2], s, plain, name="Aula")
        self.assertEqual([c.name for c in bbb.calls], ["create"] * 3)

    def test_join_sha256(self) -> None:
        self.join_flow("sha256")

    def test_join_sha1(self) -> None:
        self.join_flow("sha1")

    def test_guest_link_joins_as_guest(self) -> None:
        bbb = self.double()
        s = self.bbb_school(bbb)
        room = s.room("tina", ROOM_NAME, lobby=True)["id"]
        link = s.ok("tina", "POST", f"/rooms/{room}/guests", {"name": "Oma Erna"}, status=(201,))
        resp = fixtures.check(self.host.request("POST", link["join_path"]), 200,
                              what="guest join")
        self.assertBbbJoin(bbb, room, resp.json(), moderator=False, user_id=link["id"],
                           name="Oma Erna", guest=True)
        self.assertCreate(bbb.calls_to("create")[0], s, room, lobby=True)
        self.assertEqual(self.sql(f"SELECT guest_id, user_id IS NULL FROM conference.attendance "
                                  f"WHERE room_id = '{room}'"), f"{link['id']}|t")

    def test_https_certificate_no_authority_vouches_for_is_refused(self) -> None:
        """atriumd speaks TLS to an https:// BigBlueButton (GnuTLS through glib-networking,
        initialised when first used rather than when loaded: core/main.c) and checks the
        server's certificate: a self-signed one ends the handshake, the join is a quiet 503
        with no visit, and not one call reaches the API."""
        bbb = self.double(tls=self_signed_tls())
        s = self.bbb_school(bbb)
        self.assertTrue(bbb.url.startswith("https://"), bbb.url)
        room = s.room("tina", ROOM_NAME)["id"]
        resp = s.req("sam", "POST", f"/rooms/{room}/join")
        self.assertQuietFailure(resp, 503, "unavailable", bbb)
        self.assertIn("TLS failure", resp.json()["detail"])
        self.assertEqual((bbb.calls, self.visits(room)), ([], {}))
        self.assertEqual(len(bbb.tls_failures), RETRIES + 1, "a handshake per attempt")
        # The client read the certificate and refused it (glib-networking's words), which
        # takes a working GnuTLS: not a handshake that failed for want of one.
        self.assertIn("TLS failure: Unacceptable TLS certificate", self.host.log_text())

    # -- BigBlueButton failing -----------------------------------------------------------------

    def failing_join(self, mode: str, status: int, suffix: str, creates: int,
                     **kw: Any) -> tuple[School, BbbDouble, str, float]:
        """A join while the double is in `mode`: `status`, no visit, `creates` create calls.
        Returns the school, the double, the room and how long the join took (s)."""
        bbb = self.double()
        s = self.bbb_school(bbb)
        room = s.room("tina", ROOM_NAME)["id"]
        bbb.set_mode(mode, **kw)
        t0 = time.monotonic()
        resp = s.req("sam", "POST", f"/rooms/{room}/join")
        took = time.monotonic() - t0
        self.assertQuietFailure(resp, status, suffix, bbb)
        self.assertEqual(self.visits(room), {}, f"{mode}: a failed join left a visit")
        self.assertEqual([c.name for c in bbb.calls], ["create"] * creates, bbb.calls)
        self.assertNoSecretLogged(bbb.secret)
        return s, bbb, room, took

    def test_down_is_503_without_a_visit_then_the_breaker(self) -> None:
        s, bbb, room, _ = self.failing_join("down", 503, "unavailable", 0)
        gave_up = time.monotonic()
        bbb.set_mode("normal")  # listening again, on the same port
        # For bbb_cooldown_seconds the host does not try again: 503 at once, no call, no visit.
        t0 = time.monotonic()
        self.assertQuietFailure(s.req("sam", "POST", f"/rooms/{room}/join"), 503,
                                "unavailable", bbb)
        self.assertLess(time.monotonic() - t0, TIMEOUT_S)
        self.assertEqual((bbb.calls, self.visits(room)), ([], {}))
        # Then it does, and the server answers.
        time.sleep(max(0.0, gave_up + COOLDOWN_S + 0.2 - time.monotonic()))
        self.assertBbbJoin(bbb, room, s.join("sam", room), moderator=False,
                           user_id=s.ids["sam"], name="Sam Schüler")
        self.assertEqual(len(bbb.calls_to("create")), 1)

    def test_slow_is_503_after_the_timeout(self) -> None:
        *_, took = self.failing_join("slow", 503, "unavailable", RETRIES + 1, slow_seconds=10.0)
        # Every attempt waited for its timeout, and none for the answer, 10 s later.
        self.assertGreaterEqual(took, (RETRIES + 1) * TIMEOUT_S * 0.9)
        self.assertLess(took, 8.0)

    def test_slow_not_down_holds_no_worker_and_no_connection(self) -> None:
        # BigBlueButton answers every call, but only after SLOW_S (under the client's
        # timeout): joins wait for it on the host's outside pool with their database
        # connection given back, so reads keep their workers and connections meanwhile.
        slow_s = 0.6
        bbb = self.double()
        s = self.bbb_school(bbb)
        room = s.room("tina", ROOM_NAME)["id"]
        bbb.set_mode("slow", slow_seconds=slow_s)
        joiners = ("sam", "sue", "tom", "stan") * 6  # 24 joins: more than every pool's threads
        answers: list[int] = []

        def join(who: str) -> None:
            answers.append(s.req(who, "POST", f"/rooms/{room}/join").status)

        threads = [threading.Thread(target=join, args=(who,)) for who in joiners]
        for t in threads:
            t.start()
        reads, held = [], []
        try:
            while any(t.is_alive() for t in threads) and len(reads) < 40:
                t0, creates = time.monotonic(), len(bbb.calls_to("create"))
                status = s.req("ada", "GET", "/rooms").status
                reads.append((status, time.monotonic() - t0, creates))
                # A session idle inside its transaction for longer than a query takes: a
                # connection held across the call to BigBlueButton.
                held.append(int(self.sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE "
                    "'atriumd%' AND state = 'idle in transaction' AND "
                    "now() - state_change > interval '300 milliseconds'")))
        finally:
            for t in threads:
                t.join(60)
        self.assertEqual(answers, [200] * len(joiners), "slow is not down: every join works")
        during = [r for r in reads if r[2] < len(joiners)]  # sent while creates were pending
        self.assertTrue(during, reads)
        self.assertEqual({r[0] for r in during}, {200})
        self.assertLess(max(r[1] for r in during), slow_s,
                        "a read waited behind a call to BigBlueButton")
        self.assertEqual(max(held), 0, "a connection was held across a call to BigBlueButton")

    def test_http500_is_503_after_retries(self) -> None:
        _, bbb, _, _ = self.failing_join("http500", 503, "unavailable", RETRIES + 1)
        self.assertEqual([c.status for c in bbb.calls], [500] * (RETRIES + 1))

    def test_flaky_is_retried(self) -> None:
        bbb = self.double()
        s = self.bbb_school(bbb)
        room = s.room("tina", ROOM_NAME)["id"]
        bbb.set_mode("flaky", failures=1)
        answer = s.join("sam", room)
        self.assertBbbJoin(bbb, room, answer, moderator=False, user_id=s.ids["sam"],
                           name="Sam Schüler")
        creates = bbb.calls_to("create")
        self.assertEqual([c.status for c in creates], [503, 200])
        self.assertEqual(creates[0].raw_query, creates[1].raw_query)
        self.assertEqual(self.visits(room), {str(answer["attendance_id"]): (s.ids["sam"], False)})

    def test_garbage_is_502(self) -> None:
        self.failing_join("garbage", 502, "bad-gateway", 1)

    def test_failed_is_502(self) -> None:
        _, bbb, _, _ = self.failing_join("failed", 502, "bad-gateway", 1)
        self.assertEqual(bbb.calls[0].message_key, "checksumError")

    def test_another_secret_is_502(self) -> None:
        bbb = self.double()
        wrong = f"not-the-double-secret-{uuid.uuid4().hex}"
        s = self.bbb_school(bbb, secret=wrong)
        room = s.room("tina", ROOM_NAME)["id"]
        self.assertQuietFailure(s.req("tina", "POST", f"/rooms/{room}/join"), 502,
                                "bad-gateway", bbb, wrong)
        [call] = bbb.calls
        self.assertFalse(call.checksum_ok)
        self.assertEqual((call.returncode, call.message_key), ("FAILED", "checksumError"))
        self.assertEqual(bbb.meetings, {})
        self.assertEqual(self.visits(room), {})
        self.assertNoSecretLogged(wrong)

    # -- POST /rooms/{id}/end ------------------------------------------------------------------

    def test_end_by_a_moderator(self) -> None:
        bbb = self.double()
        s = self.bbb_school(bbb)
        room = s.room("tina", ROOM_NAME)["id"]
        other = s.room("tina", "Aula")["id"]
        visits = [s.visit(w, room) for w in ("sam", "sue", "tina")]
        keep = s.visit("sam", other)
        moderator_pw = bbb.meetings[room].moderator_pw
        fixtures.check(s.req("tina", "POST", f"/rooms/{room}/end"), 204, what="end")
        [end] = bbb.calls_to("end")
        self.assertTrue(end.checksum_ok)
        self.assertEqual(end.params, {"meetingID": room, "password": moderator_pw})
        self.assertEqual((end.returncode, end.message_key), ("SUCCESS", "sentEndMeetingRequest"))
        self.assertNotIn(room, bbb.meetings)
        self.assertIn(other, bbb.meetings)
        self.assertEqual({a: closed for a, (_, closed) in self.visits(room).items()},
                         dict.fromkeys(visits, True))
        self.assertEqual(self.visits(other), {keep: (s.ids["sam"], False)})

        # Once more, and a room never joined: BigBlueButton says notFound, which is fine.
        never = s.room("tina", "Leer")["id"]
        for r in (room, never):
            fixtures.check(s.req("tina", "POST", f"/rooms/{r}/end"), 204, what="end unknown")
            last = bbb.calls_to("end")[-1]
            self.assertEqual((last.params["meetingID"], last.returncode, last.message_key),
                             (r, "FAILED", "notFound"))

    def test_end_while_down_keeps_visits_open(self) -> None:
        bbb = self.double()
        s = self.bbb_school(bbb)
        room = s.room("tina", ROOM_NAME)["id"]
        before = {s.visit("sam", room): (s.ids["sam"], False),
                  s.visit("tina", room): (s.ids["tina"], False)}
        bbb.set_mode("down")
        self.assertQuietFailure(s.req("tina", "POST", f"/rooms/{room}/end"), 503,
                                "unavailable", bbb)
        self.assertEqual(self.visits(room), before)
        bbb.set_mode("normal")
        self.assertEqual(bbb.calls_to("end"), [])
        self.assertIn(room, bbb.meetings)

    def test_end_by_a_student_is_forbidden(self) -> None:
        bbb = self.double()
        s = self.bbb_school(bbb)
        room = s.room("tina", ROOM_NAME)["id"]
        before = {s.visit("sam", room): (s.ids["sam"], False)}
        calls = len(bbb.calls)
        self.assertProblem(s.req("sam", "POST", f"/rooms/{room}/end"), 403, "forbidden")
        self.assertEqual(len(bbb.calls), calls)
        self.assertEqual(self.visits(room), before)
        self.assertIn(room, bbb.meetings)

    # -- the meeting-ended callback --------------------------------------------------------------

    def test_end_callback_closes_the_visits(self) -> None:
        bbb = self.double()
        s = self.bbb_school(bbb)
        room = s.room("tina", ROOM_NAME)["id"]
        other = s.room("tina", "Aula")["id"]
        visits = [s.visit(w, room) for w in ("sam", "tina")]
        keep = s.visit("sue", other)
        self.assertEqual(bbb.fire_end_callback(room), 204)
        self.assertEqual(self.visits(room), {visits[0]: (s.ids["sam"], True),
                                             visits[1]: (s.ids["tina"], True)})
        self.assertEqual(self.sql(f"SELECT count(*) FROM conference.attendance WHERE room_id = "
                                  f"'{room}' AND left_at >= joined_at"), "2")
        self.assertEqual(self.visits(other), {keep: (s.ids["sue"], False)})

    def test_end_callback_refuses_bad_signatures(self) -> None:
        bbb = self.double()
        s = self.bbb_school(bbb)
        room = s.room("tina", ROOM_NAME)["id"]
        other = s.room("tina", "Aula")["id"]
        before = {s.visit("sam", room): (s.ids["sam"], False)}
        good = self.callback_path(s, room, bbb)
        s.visit("sam", other)
        other_path = self.callback_path(s, other, bbb)
        base, _, sig = good.partition("?sig=")
        flipped = sig[:-1] + ("A" if sig[-1] != "A" else "B")
        for path in (base, f"{base}?sig=", f"{base}?sig={flipped}",
                     f"{base}?recordingmarks=false",
                     f"{base}?sig={other_path.partition('?sig=')[2]}"):
            with self.subTest(path=path):
                self.assertProblem(self.host.request("GET", path), 401, "unauthenticated")
        self.assertEqual(self.visits(room), before)

    def test_end_callback_of_another_school(self) -> None:
        bbb = self.double()  # one BigBlueButton, one secret, for both schools
        a, b = self.bbb_school(bbb), self.bbb_school(bbb)
        room_a = a.room("tina", ROOM_NAME)["id"]
        a_visits = {a.visit("sam", room_a): (a.ids["sam"], False)}
        path_a = self.callback_path(a, room_a, bbb)
        room_b = b.room("tina", ROOM_NAME)["id"]
        b_visits = {b.visit("sam", room_b): (b.ids["sam"], False)}
        path_b = self.callback_path(b, room_b, bbb)
        sig_a, sig_b = path_a.partition("?sig=")[2], path_b.partition("?sig=")[2]
        # B's room and B's signature, but at A's address; A's room with B's signature.
        for path in (f"{a.base}/callbacks/bbb-end/{room_b}?sig={sig_b}",
                     f"{a.base}/callbacks/bbb-end/{room_a}?sig={sig_b}",
                     f"{b.base}/callbacks/bbb-end/{room_a}?sig={sig_a}"):
            with self.subTest(path=path):
                self.assertProblem(self.host.request("GET", path), 401, "unauthenticated")
        self.assertEqual(self.visits(room_a), a_visits)
        self.assertEqual(self.visits(room_b), b_visits)
        # Each school's own URL works for its own room only.
        self.assertEqual(bbb.fire_end_callback(room_b), 204)
        self.assertEqual(self.visits(room_b), {k: (u, True) for k, (u, _) in b_visits.items()})
        self.assertEqual(self.visits(room_a), a_visits)


if __name__ == "__main__":
    harness.main()
