# SPDX-License-Identifier: Apache-2.0
"""test_bbb_double.py - the BigBlueButton test double (bbb_double.py) checked on its own.

A double that waves everything through would let the conference plugin's integration tests
pass against a BigBlueButton that does not exist, so this checks that it refuses what the real
server refuses (checksums, missing or malformed parameters, another meeting's passwords), that
it notices what the plugin must never send (loose encoding, equal passwords, stray
parameters), that its failure modes do what they say, and that verify_join_url() catches a
tampered or wrong join URL. Requests are signed here with hashlib and urllib.parse.quote,
independently of the double's own signing code. Needs no atriumd and no PostgreSQL; runs
standalone (python3 tests/integration/test_bbb_double.py) or in meson's integration suite.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import harness  # noqa: E402
from bbb_double import BbbDouble  # noqa: E402

SECRET = "639259d4-9dd8-4b25-bf01-95f9567eaf4b"
MEETING = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
ATT_PW = "28f685b9900fd4d98190b6afe6ee8705"
MOD_PW = "9e4c367a776398ae1274f4dc30a743bf"


def encode(params: list[tuple[str, str]]) -> str:
    return "&".join(f"{k}={urllib.parse.quote(v, safe='')}" for k, v in params)


def sign(base: str, call: str, query: str, secret: str = SECRET, alg: str = "sha256") -> str:
    checksum = hashlib.new(alg, (call + query + secret).encode()).hexdigest()
    return f"{base}/{call}?{query}&checksum={checksum}"


# No proxy from the environment between the test and 127.0.0.1.
urlopen = urllib.request.build_opener(urllib.request.ProxyHandler({})).open


def get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def answer(body: str) -> dict[str, str]:
    """The top-level fields of a BigBlueButton answer."""
    root = ET.fromstring(body)
    assert root.tag == "response", body
    return {child.tag: (child.text or "").strip() for child in root}


def create_params(name: str = "Maths 7b", meeting: str = MEETING, att: str = ATT_PW,
                  mod: str = MOD_PW, **extra: str) -> list[tuple[str, str]]:
    p = [("name", name), ("meetingID", meeting), ("attendeePW", att), ("moderatorPW", mod),
         ("record", "false")]
    return p + list(extra.items())


class Protocol(harness.TestCase):
    def setUp(self) -> None:
        self.bbb = BbbDouble(secret=SECRET).start()
        self.addCleanup(self.bbb.stop)

    def call(self, call: str, params: list[tuple[str, str]], **kw: str) -> tuple[int, dict]:
        status, body = get(sign(self.bbb.url, call, encode(params), **kw))
        return status, answer(body) if status == 200 else {}

    def test_create_info_join_end(self) -> None:
        cb = "https://atrium.example.org/api/v1/schools/north/conference/callbacks/bbb-end/x?sig=a"
        status, a = self.call("create", create_params(
            name="Zoë's class & co", maxParticipants="30", guestPolicy="ASK_MODERATOR",
            meta_endCallbackUrl=cb))
        self.assertEqual(status, 200)
        self.assertEqual(a["returncode"], "SUCCESS")
        self.assertEqual(a["meetingID"], MEETING)
        self.assertEqual(a["messageKey"], "")
        create = self.bbb.calls_to("create")
        self.assertEqual(len(create), 1)
        self.assertTrue(create[0].checksum_ok)
        self.assertEqual(create[0].params["name"], "Zoë's class & co")
        self.assertEqual(create[0].params["meta_endCallbackUrl"], cb)
        self.assertEqual((create[0].status, create[0].returncode), (200, "SUCCESS"))

        status, a = self.call("create", create_params(name="Zoë's class & co"))
        self.assertEqual((a["returncode"], a["messageKey"]), ("SUCCESS", "duplicateWarning"))
        self.assertEqual(self.bbb.meetings[MEETING].creates, 2)

        status, a = self.call("getMeetingInfo", [("meetingID", MEETING)])
        self.assertEqual((a["returncode"], a["meetingName"]), ("SUCCESS", "Zoë's class & co"))

        for role, pw in (("MODERATOR", MOD_PW), ("VIEWER", ATT_PW)):
            url = sign(self.bbb.url, "join", encode([
                ("fullName", "Ann Lee"), ("meetingID", MEETING), ("role", role),
                ("password", pw), ("userID", "u1"), ("redirect", "true")]))
            params = self.bbb.verify_join_url(url)
            self.assertEqual(params["role"], role)
            self.assertEqual(params["fullName"], "Ann Lee")

        status, a = self.call("end", [("meetingID", MEETING), ("password", MOD_PW)])
        self.assertEqual((a["returncode"], a["messageKey"]), ("SUCCESS", "sentEndMeetingRequest"))
        status, a = self.call("end", [("meetingID", MEETING), ("password", MOD_PW)])
        self.assertEqual((a["returncode"], a["messageKey"]), ("FAILED", "notFound"))
        status, a = self.call("getMeetingInfo", [("meetingID", MEETING)])
        self.assertEqual((a["returncode"], a["messageKey"]), ("FAILED", "notFound"))
        self.assertEqual([c.name for c in self.bbb.calls],
                         ["create", "create", "getMeetingInfo", "end", "end", "getMeetingInfo"])
        self.bbb.assert_clean()

    def test_other_passwords_are_id_not_unique(self) -> None:
        self.call("create", create_params())
        status, a = self.call("create", create_params(att="another-attendee", mod="another-mod"))
        self.assertEqual((a["returncode"], a["messageKey"]), ("FAILED", "idNotUnique"))
        self.bbb.assert_clean()

    def test_wrong_checksum(self) -> None:
        status, a = self.call("create", create_params(), secret="not the secret")
        self.assertEqual((a["returncode"], a["messageKey"]), ("FAILED", "checksumError"))
        self.assertFalse(self.bbb.calls[0].checksum_ok)
        self.assertEqual(self.bbb.meetings, {})
        # Tampering with a signed query is the same.
        url = sign(self.bbb.url, "create", encode(create_params()))
        status, body = get(url.replace("Maths", "Mathz"))
        self.assertEqual(answer(body)["messageKey"], "checksumError")
        # No checksum at all: refused and noted.
        status, body = get(f"{self.bbb.url}/create?{encode(create_params())}")
        self.assertEqual(answer(body)["messageKey"], "checksumError")
        self.assertIn("create: no checksum", self.bbb.violations)

    def test_sha1(self) -> None:
        bbb = BbbDouble(secret=SECRET, algorithm="sha1").start()
        self.addCleanup(bbb.stop)
        status, body = get(sign(bbb.url, "create", encode(create_params()), alg="sha1"))
        self.assertEqual(answer(body)["returncode"], "SUCCESS")
        bbb.assert_clean()
        # SHA-256 against a server that only takes SHA-1.
        status, body = get(sign(bbb.url, "end", encode([("meetingID", MEETING)])))
        self.assertEqual(answer(body)["messageKey"], "checksumError")
        self.assertTrue(any("40 lower-case hex" in v for v in bbb.violations), bbb.violations)

    def test_loose_encoding_is_noted(self) -> None:
        # Signed correctly, but '+' for a space and lower-case escapes: BigBlueButton would
        # take them (it hashes what it gets); the plugin must not send them.
        query = "name=Maths+7b&meetingID=" + MEETING + f"&attendeePW={ATT_PW}" \
                f"&moderatorPW={MOD_PW}&record=false"
        status, body = get(sign(self.bbb.url, "create", query))
        self.assertEqual(answer(body)["returncode"], "SUCCESS")
        self.assertTrue(any("strictly percent-encoded" in v for v in self.bbb.violations))
        self.assertRaises(AssertionError, self.bbb.assert_clean)
        # The checksum not last: accepted as BigBlueButton does, but noted.
        bbb = BbbDouble(secret=SECRET).start()
        self.addCleanup(bbb.stop)
        q = encode([("meetingID", MEETING)])
        cs = hashlib.sha256(("end" + q + SECRET).encode()).hexdigest()
        status, body = get(f"{bbb.url}/end?checksum={cs}&{q}")
        self.assertEqual(answer(body)["messageKey"], "notFound")
        self.assertIn("end: checksum is not the last parameter", bbb.violations)

    def test_create_rules(self) -> None:
        bad = {
            "name missing": [p for p in create_params() if p[0] != "name"],
            "name too long": create_params(name="x" * 65),
            "name too short": create_params(name="x"),
            "meetingID with comma": create_params(meeting="a,b"),
            "equal passwords": create_params(att=MOD_PW),
            "password too short": create_params(att="x"),
            "record not boolean": create_params()[:-1] + [("record", "yes")],
            "maxParticipants zero": create_params(maxParticipants="0"),
            "maxParticipants negative": create_params(maxParticipants="-1"),
            "guestPolicy unknown": create_params(guestPolicy="LET_IN"),
            "callback not http": create_params(meta_endCallbackUrl="javascript:alert(1)"),
        }
        for what, params in bad.items():
            with self.subTest(what):
                before = len(self.bbb.violations)
                status, a = self.call("create", params)
                self.assertEqual(a["returncode"], "FAILED")
                self.assertEqual(a["messageKey"], "validationError")
                self.assertGreater(len(self.bbb.violations), before)
        self.assertEqual(self.bbb.meetings, {})
        status, a = self.call("create", [("name", "Maths"), ("record", "false")])
        self.assertEqual(a["messageKey"], "missingParamMeetingID")
        # Accepted by BigBlueButton, but not something the plugin sends.
        before = len(self.bbb.violations)
        status, a = self.call("create", create_params(welcome="hi", meta_other="x"))
        self.assertEqual(a["returncode"], "SUCCESS")
        self.assertEqual(len(self.bbb.violations), before + 2)

    def test_end_with_wrong_password(self) -> None:
        self.call("create", create_params())
        status, a = self.call("end", [("meetingID", MEETING), ("password", ATT_PW)])
        self.assertEqual((a["returncode"], a["messageKey"]), ("FAILED", "invalidPassword"))
        self.assertIn(MEETING, self.bbb.meetings)
        self.assertRaises(AssertionError, self.bbb.assert_clean)

    def test_verify_join_url_refuses(self) -> None:
        self.call("create", create_params())
        good = [("fullName", "Ann Lee"), ("meetingID", MEETING), ("role", "VIEWER"),
                ("password", ATT_PW), ("userID", "u1"), ("redirect", "true"), ("guest", "true")]
        self.assertEqual(self.bbb.verify_join_url(sign(self.bbb.url, "join", encode(good)))
                         ["guest"], "true")

        def variant(**changes: str | None) -> list[tuple[str, str]]:
            out = [(k, changes.get(k, v)) for k, v in good if changes.get(k, v) is not None]
            return out + [(k, v) for k, v in changes.items()
                          if v is not None and k not in dict(good)]

        cases = {
            "moderator role, attendee password": variant(role="MODERATOR"),
            "viewer role, moderator password": variant(password=MOD_PW),
            "lower-case role": variant(role="viewer"),
            "no userID": variant(userID=None),
            "blank name": variant(fullName="  "),
            "redirect false": variant(redirect="false"),
            "guest false": variant(guest="false"),
            "stray parameter": variant(avatarURL="https://x.example/a.png"),
            "unknown meeting": variant(meetingID="11111111-2222-3333-4444-555555555555"),
        }
        for what, params in cases.items():
            with self.subTest(what):
                with self.assertRaises(AssertionError):
                    self.bbb.verify_join_url(sign(self.bbb.url, "join", encode(params)))
        url = sign(self.bbb.url, "join", encode(good))
        for what, bad_url in {
            "tampered": url.replace("Ann", "Bob"),
            "other secret": sign(self.bbb.url, "join", encode(good), secret="x"),
            "other host": url.replace("127.0.0.1", "localhost"),
            "not join": url.replace("/join?", "/create?"),
        }.items():
            with self.subTest(what):
                with self.assertRaises(AssertionError):
                    self.bbb.verify_join_url(bad_url)
        # A meeting that need not exist (yet).
        self.bbb.verify_join_url(sign(self.bbb.url, "join", encode(
            variant(meetingID="11111111-2222-3333-4444-555555555555"))),
            meeting_must_exist=False)

    def test_other_requests(self) -> None:
        status, body = get(sign(self.bbb.url, "getMeetings", encode([("meetingID", MEETING)])))
        self.assertEqual(status, 404)
        req = urllib.request.Request(sign(self.bbb.url, "create", encode(create_params())),
                                     method="POST", data=b"")
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urlopen(req, timeout=5)
        self.assertEqual(cm.exception.code, 405)
        self.assertEqual(len(self.bbb.violations), 2, self.bbb.violations)


class Modes(harness.TestCase):
    def setUp(self) -> None:
        self.bbb = BbbDouble(secret=SECRET).start()
        self.addCleanup(self.bbb.stop)
        self.create_url = sign(self.bbb.url, "create", encode(create_params()))

    def test_down_and_up_again(self) -> None:
        port = self.bbb.port
        self.bbb.set_mode("down")
        with self.assertRaises(urllib.error.URLError) as cm:
            urlopen(self.create_url, timeout=5)
        self.assertIsInstance(cm.exception.reason, ConnectionRefusedError)
        self.assertEqual(self.bbb.calls, [])
        self.bbb.set_mode("normal")
        self.assertEqual(self.bbb.port, port)
        self.assertEqual(answer(get(self.create_url)[1])["returncode"], "SUCCESS")

    def test_http500(self) -> None:
        self.bbb.set_mode("http500")
        self.assertEqual(get(self.create_url)[0], 500)
        self.assertEqual(self.bbb.calls[0].status, 500)

    def test_slow(self) -> None:
        self.bbb.set_mode("slow", slow_seconds=60)
        with self.assertRaises((socket.timeout, urllib.error.URLError, TimeoutError)):
            urlopen(self.create_url, timeout=0.5).read()
        self.assertEqual(len(self.bbb.calls), 1)
        # Stopping does not wait for the sleeping request (a hang check, not a timing one).
        t0 = time.monotonic()
        self.bbb.stop()
        self.assertLess(time.monotonic() - t0, 30)

    def test_slow_answers_eventually(self) -> None:
        self.bbb.set_mode("slow", slow_seconds=0.3)
        status, body = get(self.create_url, timeout=5)
        self.assertEqual(answer(body)["returncode"], "SUCCESS")

    def test_garbage(self) -> None:
        self.bbb.set_mode("garbage")
        status, body = get(self.create_url)
        self.assertEqual(status, 200)
        with self.assertRaises(ET.ParseError):
            ET.fromstring(body)

    def test_failed(self) -> None:
        self.bbb.set_mode("failed")
        a = answer(get(self.create_url)[1])
        self.assertEqual((a["returncode"], a["messageKey"]), ("FAILED", "checksumError"))
        self.bbb.set_mode("failed", message_key="idNotUnique")
        self.assertEqual(answer(get(self.create_url)[1])["messageKey"], "idNotUnique")
        self.assertEqual(self.bbb.meetings, {})

    def test_flaky(self) -> None:
        self.bbb.set_mode("flaky", failures=2)
        self.assertEqual(get(self.create_url)[0], 503)
        self.assertEqual(get(self.create_url)[0], 503)
        self.assertEqual(answer(get(self.create_url)[1])["returncode"], "SUCCESS")
        self.assertEqual([c.status for c in self.bbb.calls], [503, 503, 200])
        self.bbb.assert_clean()

    def test_end_callback(self) -> None:
        got: list[str] = []

        class Receiver(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                got.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        cb = f"http://127.0.0.1:{server.server_address[1]}/cb/{MEETING}?sig=abc"
        get(sign(self.bbb.url, "create", encode(create_params(meta_endCallbackUrl=cb))))
        self.assertEqual(self.bbb.fire_end_callback(MEETING), 204)
        self.assertEqual(got, [f"/cb/{MEETING}?sig=abc&recordingmarks=false"])
        self.assertNotIn(MEETING, self.bbb.meetings)

    def test_reset(self) -> None:
        get(self.create_url)
        self.bbb.set_mode("down")
        self.bbb.reset()
        self.assertEqual((self.bbb.calls, self.bbb.meetings, self.bbb.mode), ([], {}, "normal"))
        self.assertEqual(answer(get(self.create_url)[1])["messageKey"], "")


if __name__ == "__main__":
    harness.main()
