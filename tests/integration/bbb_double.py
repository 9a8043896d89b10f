# SPDX-License-Identifier: Apache-2.0
"""bbb_double.py - a BigBlueButton test double for the conference plugin's integration tests.

BigBlueButton cannot run here, so the tests talk to this instead: a threading HTTP server on
127.0.0.1 (a port the kernel picks) serving `<url>/create`, `<url>/end` and
`<url>/getMeetingInfo` the way BigBlueButton's API does, that checks everything it receives
(tests/README.md: "a test double ... checks what it receives"):

- the checksum, recomputed as BigBlueButton does it (over the raw query string with the
  checksum parameter taken out, `sha256` or `sha1` of call + query + secret), and that it is
  the last parameter, lower-case hex of the configured algorithm; a wrong one is answered with
  FAILED checksumError, like the real server;
- that the query is strictly percent-encoded (only RFC 3986 unreserved characters raw,
  upper-case %XX, UTF-8), without repeated or unexpected parameters or control characters;
- each call's required parameters and their formats (create: name of 2-64 characters,
  meetingID of 2-256 without a comma, attendeePW and moderatorPW of 2-64 that differ,
  record true|false, maxParticipants a positive number, guestPolicy one of BigBlueButton's,
  meta_endCallbackUrl an http(s) URL; end: meetingID and, if given, the moderator password).

What breaks the rules is answered as BigBlueButton would (FAILED with its messageKey) where
BigBlueButton would refuse it, and is always recorded in `violations`; `assert_clean()` fails a
test that caused any. Every call is recorded (`calls`, `calls_to(name)`) with its decoded
parameters. Meetings are kept: create twice with the same passwords is SUCCESS with
duplicateWarning, with other passwords FAILED idNotUnique; end of an unknown meeting is FAILED
notFound.

Given an ssl.SSLContext (`tls=`), the double serves HTTPS and keeps each failed handshake's
reason in `tls_failures`: a client that refuses its certificate never reaches the API.

Failure modes (`set_mode`): "normal"; "down" (stops listening: connection refused, until
another mode is set, on the same port); "http500"; "slow" (answers after `slow_seconds`,
longer than any client timeout the tests use); "garbage" (200 with a body that is not XML);
"failed" (FAILED with `message_key`, default checksumError); "flaky" (HTTP 503 for the next
`failures` calls, then normal).

    with BbbDouble(secret="s3cret", algorithm="sha256") as bbb:
        ... configure atriumd with bbb.url and bbb.secret, make it join a room ...
        params = bbb.verify_join_url(url)          # checks the signature, returns the params
        assert bbb.calls_to("create")[0].params["meetingID"] == room_id
        bbb.set_mode("flaky", failures=2)
        bbb.assert_clean()

The server speaks HTTP/1.0 (one request per connection), so "down" takes effect at once.
Only the standard library is used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import http.server
import re
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any
from xml.sax.saxutils import escape

__all__ = ["BbbDouble", "Call", "Meeting", "MODES"]

MODES = ("normal", "down", "http500", "slow", "garbage", "failed", "flaky")
API_PATH = "/bigbluebutton/api"
GUEST_POLICIES = ("ALWAYS_ACCEPT", "ALWAYS_DENY", "ASK_MODERATOR")
_STRICT_QUERY = re.compile(r"^(?:[A-Za-z0-9\-._~&=]|%[0-9A-F]{2})*$")
_CREATE_PARAMS = {"name", "meetingID", "attendeePW", "moderatorPW", "record",
                  "maxParticipants", "guestPolicy"}
_END_PARAMS = {"meetingID", "password"}
_INFO_PARAMS = {"meetingID", "password"}
_JOIN_PARAMS = {"fullName", "meetingID", "role", "password", "userID", "redirect", "guest"}


@dataclasses.dataclass
class Call:
    """One request the double received."""
    name: str                  # "create", "end", "getMeetingInfo", or whatever the path said
    params: dict[str, str]     # decoded; the checksum left out
    raw_query: str             # as received, checksum included
    checksum_ok: bool
    mode: str                  # the mode it was answered in
    status: int = 0            # HTTP status sent (0: none, e.g. the client gave up)
    returncode: str | None = None
    message_key: str | None = None
    at: float = 0.0            # time.monotonic() when it arrived


@dataclasses.dataclass
class Meeting:
    meeting_id: str
    name: str
    attendee_pw: str
    moderator_pw: str
    params: dict[str, str]     # of the create that made it
    create_time: int           # milliseconds, as BigBlueButton reports it
    creates: int = 1           # create calls that found it (1 + duplicates)


def _utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


class BbbDouble:
    """A BigBlueButton API on 127.0.0.1 that checks what it is sent. See the module doc."""

    def __init__(self, secret: str = "atrium-bbb-test-secret", algorithm: str = "sha256", *,
                 slow_seconds: float = 30.0, port: int = 0,
                 tls: ssl.SSLContext | None = None) -> None:
        if algorithm not in ("sha256", "sha1"):
            raise ValueError("algorithm must be 'sha256' or 'sha1'")
        self.secret = secret
        self.algorithm = algorithm
        self.slow_seconds = slow_seconds
        self.mode = "normal"
        self.message_key = "checksumError"
        self._failures_left = 0
        self._lock = threading.RLock()  # _violation() is called with it held
        self._stopping = threading.Event()
        self._calls: list[Call] = []
        self._violations: list[str] = []
        self.meetings: dict[str, Meeting] = {}
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = port
        # With a server context the double speaks HTTPS; each handshake that fails is kept
        # here (the ssl module's reason), and its connection never reaches the API.
        self.tls = tls
        self.tls_failures: list[str] = []

    # ---- life cycle ----------------------------------------------------------------------

    def start(self) -> "BbbDouble":
        self._stopping.clear()
        self._listen()
        return self

    def stop(self) -> None:
        """Stop serving; requests still sleeping in "slow" are dropped unanswered."""
        self._stopping.set()
        self._unlisten()

    def __enter__(self) -> "BbbDouble":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The API base a backend is configured with: http://127.0.0.1:<port>/bigbluebutton/api
        (https:// with a TLS context)."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{API_PATH}"

    def _listen(self) -> None:
        if self._server is not None:
            return
        double = self

        class Handler(_Handler):
            bbb = double

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                # A client that gave up (its timeout, "slow") leaves a broken pipe behind.
                pass

            def get_request(self) -> tuple[socket.socket, Any]:
                sock, addr = super().get_request()
                if double.tls is None:
                    return sock, addr
                sock.settimeout(5)
                try:
                    return double.tls.wrap_socket(sock, server_side=True), addr
                except OSError as e:  # ssl.SSLError included; socketserver drops the request
                    with double._lock:
                        double.tls_failures.append(getattr(e, "reason", None) or str(e))
                    sock.close()
                    raise

        # Rebinding the same port after "down" can meet a socket in TIME_WAIT or a test
        # that grabbed the port meanwhile; retry briefly, then say so.
        deadline = time.monotonic() + 5
        while True:
            try:
                server = Server(("127.0.0.1", self.port), Handler)
                break
            except OSError:
                if self.port == 0 or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"bbb-double:{self.port}", daemon=True)
        self._thread.start()

    def _unlisten(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(5)

    # ---- what the tests switch and read --------------------------------------------------

    def set_mode(self, mode: str, *, failures: int = 1, message_key: str = "checksumError",
                 slow_seconds: float | None = None) -> None:
        """Switch the failure mode (see MODES). "flaky": the next `failures` calls get 503.
        "failed": FAILED with `message_key`. "slow": answers after `slow_seconds`."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        with self._lock:
            self.mode = mode
            self._failures_left = failures if mode == "flaky" else 0
            self.message_key = message_key
            if slow_seconds is not None:
                self.slow_seconds = slow_seconds
        if mode == "down":
            self._unlisten()
        else:
            self._listen()

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, name: str) -> list[Call]:
        return [c for c in self.calls if c.name == name]

    @property
    def violations(self) -> list[str]:
        with self._lock:
            return list(self._violations)

    def assert_clean(self) -> None:
        """Fail when any request broke the API's rules (all of them listed)."""
        v = self.violations
        if v:
            raise AssertionError("BigBlueButton double saw protocol violations:\n  " +
                                 "\n  ".join(v))

    def reset(self) -> None:
        """Forget calls, violations and meetings; back to "normal"."""
        with self._lock:
            self._calls.clear()
            self._violations.clear()
            self.meetings.clear()
        self.set_mode("normal")

    def wait_for_calls(self, n: int, timeout: float = 10.0) -> list[Call]:
        """The calls once at least `n` arrived (AssertionError after `timeout` s)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.calls
            if len(calls) >= n:
                return calls
            time.sleep(0.02)
        raise AssertionError(f"expected {n} calls to the BigBlueButton double, got "
                             f"{len(self.calls)}")

    # ---- signing (the same rules the plugin follows), for tests and verify_join_url ------

    def checksum(self, call: str, query: str) -> str:
        data = (call + query + self.secret).encode()
        return hashlib.new(self.algorithm, data).hexdigest()

    def signed_url(self, call: str, params: list[tuple[str, str]]) -> str:
        """A correctly signed URL for `call`, encoded as the plugin does (for self-tests)."""
        query = "&".join(f"{k}={urllib.parse.quote(v, safe='')}" for k, v in params)
        return f"{self.url}/{call}?{query}&checksum={self.checksum(call, query)}"

    def verify_join_url(self, url: str, *, meeting_must_exist: bool = True) -> dict[str, str]:
        """Check a join URL the plugin handed out and return its decoded parameters.

        AssertionError unless: it points at this double's `join`; the query is strictly
        encoded; the checksum is right and last; fullName, meetingID, role (MODERATOR or
        VIEWER), password, userID are there, redirect=true, guest (if any) is "true", nothing
        else; and, when the meeting exists here (it must, unless meeting_must_exist=False), the
        password is the meeting's moderator or attendee password as the role says."""
        prefix = self.url + "/join?"
        if not url.startswith(prefix):
            raise AssertionError(f"join URL does not start with {prefix}: {url}")
        raw = url[len(prefix):]
        problems: list[str] = []
        params, checksum_ok = self._check_query("join", raw, problems)
        if not checksum_ok:
            problems.append("join: the checksum does not match")
        for key in ("fullName", "meetingID", "role", "password", "userID"):
            if not params.get(key, "").strip():
                problems.append(f"join: {key} missing or blank")
        for key in params:
            if key not in _JOIN_PARAMS:
                problems.append(f"join: unexpected parameter {key}")
        role = params.get("role")
        if role not in ("MODERATOR", "VIEWER"):
            problems.append(f"join: role {role!r} is not MODERATOR or VIEWER")
        if params.get("redirect") != "true":
            problems.append(f"join: redirect is {params.get('redirect')!r}, not 'true'")
        if "guest" in params and params["guest"] != "true":
            problems.append(f"join: guest is {params['guest']!r} (send it as 'true' or not at all)")
        with self._lock:
            meeting = self.meetings.get(params.get("meetingID", ""))
        if meeting is None:
            if meeting_must_exist:
                problems.append(f"join: no meeting {params.get('meetingID')!r} was created")
        else:
            want = meeting.moderator_pw if role == "MODERATOR" else meeting.attendee_pw
            if params.get("password") != want:
                problems.append(f"join: the password is not the meeting's {role} password")
        if problems:
            raise AssertionError("bad join URL:\n  " + "\n  ".join(problems) + f"\n  {url}")
        return params

    def fire_end_callback(self, meeting_id: str, recordingmarks: bool = False,
                          timeout: float = 10.0) -> int:
        """End `meeting_id` as BigBlueButton does when a meeting finishes by itself: forget it
        and GET its meta_endCallbackUrl with recordingmarks=true|false appended. Returns the
        HTTP status the callback got (AssertionError when the meeting had no callback)."""
        with self._lock:
            meeting = self.meetings.pop(meeting_id, None)
        if meeting is None:
            raise AssertionError(f"no meeting {meeting_id!r} to end")
        cb = meeting.params.get("meta_endCallbackUrl")
        if not cb:
            raise AssertionError(f"meeting {meeting_id!r} was created without "
                                 "meta_endCallbackUrl")
        sep = "&" if "?" in cb else "?"
        target = f"{cb}{sep}recordingmarks={'true' if recordingmarks else 'false'}"
        try:
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(target, timeout=timeout) as resp:
                return resp.status
        except urllib.error.HTTPError as e:
            return e.code

    # ---- request handling ----------------------------------------------------------------

    def _violation(self, text: str) -> None:
        with self._lock:
            self._violations.append(text)

    def _check_query(self, call: str, raw: str,
                     problems: list[str]) -> tuple[dict[str, str], bool]:
        """Decode and check a raw query string; returns (params without checksum, checksum_ok)
        and appends what is wrong to `problems` (the checksum's mismatch excepted)."""
        if not _STRICT_QUERY.match(raw):
            problems.append(f"{call}: the query is not strictly percent-encoded "
                            f"(only A-Z a-z 0-9 - . _ ~ raw, %XX upper-case): {raw[:200]}")
        pairs: list[tuple[str, str]] = []
        for part in raw.split("&") if raw else []:
            key, eq, value = part.partition("=")
            if not eq:
                problems.append(f"{call}: parameter {key!r} without '='")
            try:
                decoded = urllib.parse.unquote_to_bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                problems.append(f"{call}: {key} is not UTF-8 once decoded")
                decoded = urllib.parse.unquote(value, errors="replace")
            if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in decoded):
                problems.append(f"{call}: {key} holds control characters")
            pairs.append((key, decoded))
        names = [k for k, _ in pairs]
        for key in set(names):
            if names.count(key) > 1:
                problems.append(f"{call}: parameter {key} repeated")
        checksums = [v for k, v in pairs if k == "checksum"]
        checksum_ok = False
        if not checksums:
            problems.append(f"{call}: no checksum")
        else:
            cs = checksums[0]
            if names[-1] != "checksum":
                problems.append(f"{call}: checksum is not the last parameter")
            want_len = 64 if self.algorithm == "sha256" else 40
            if len(cs) != want_len or not re.fullmatch(r"[0-9a-f]+", cs):
                problems.append(f"{call}: checksum is not {want_len} lower-case hex digits "
                                f"({self.algorithm})")
            # BigBlueButton's own way (ParamsProcessorUtil.isChecksumSame): cut the checksum
            # parameter out of the raw query string, hash call + rest + secret.
            rest = raw.replace("&checksum=" + cs, "").replace("checksum=" + cs + "&", "")
            rest = rest.replace("checksum=" + cs, "")
            checksum_ok = hmac.compare_digest(self.checksum(call, rest), cs)
        return {k: v for k, v in pairs if k != "checksum"}, checksum_ok

    def _handle(self, path: str, raw: str) -> tuple[int, str, Call]:
        """(status, body, call record) for one GET."""
        call_name = path[len(API_PATH) + 1:] if path.startswith(API_PATH + "/") else path
        problems: list[str] = []
        params, checksum_ok = self._check_query(call_name, raw, problems)
        with self._lock:
            mode = self.mode
            flaky = mode == "flaky" and self._failures_left > 0
            if flaky:
                self._failures_left -= 1
        call = Call(call_name, params, raw, checksum_ok, mode, at=time.monotonic())
        for p in problems:
            self._violation(p)

        if mode == "http500":
            return 500, "<html><body><h1>500 Internal Server Error</h1></body></html>", call
        if flaky:
            return 503, "<html><body><h1>503 Service Unavailable</h1></body></html>", call
        if mode == "garbage":
            return 200, "It works! <<< this is not XML", call
        if mode == "failed":
            return 200, _failed(self.message_key, "The BigBlueButton double was told to fail "
                                "this call."), call
        if call_name not in ("create", "end", "getMeetingInfo"):
            self._violation(f"{call_name}: not a call the plugin should make")
            return 404, "<html><body><h1>404 Not Found</h1></body></html>", call
        if not checksum_ok:
            return 200, _failed("checksumError", "You did not pass the checksum security "
                                "check"), call
        handler = {"create": self._create, "end": self._end, "getMeetingInfo": self._info}
        return 200, handler[call_name](params), call

    def _create(self, p: dict[str, str]) -> str:
        for key in p:
            if key not in _CREATE_PARAMS and not key.startswith("meta_"):
                self._violation(f"create: unexpected parameter {key}")
            elif key.startswith("meta_") and key != "meta_endCallbackUrl":
                self._violation(f"create: unexpected metadata {key}")
        mid = p.get("meetingID", "").strip()
        if not mid:
            self._violation("create: meetingID missing")
            return _failed("missingParamMeetingID", "You must specify a meeting ID for the "
                           "meeting.")
        errors: list[str] = []
        if not 2 <= len(mid) <= 256 or "," in mid:
            errors.append("Meeting ID must be between 2 and 256 characters and cannot "
                          "contain ','.")
        name = p.get("name")
        if name is None:
            errors.append("You must provide a meeting name.")
        elif not 2 <= _utf16_len(name) <= 64 or name != name.strip():
            errors.append("Meeting name must be between 2 and 64 characters.")
        for key in ("attendeePW", "moderatorPW"):
            pw = p.get(key)
            if pw is None:
                errors.append(f"{key} missing (the plugin always sends its derived one)")
            elif not 2 <= len(pw) <= 64:
                errors.append("Passwords must be between 2 and 64 character in length")
        if p.get("attendeePW") is not None and p.get("attendeePW") == p.get("moderatorPW"):
            errors.append("attendeePW equals moderatorPW: every attendee would moderate")
        if p.get("record", "false") not in ("true", "false"):
            errors.append("Record must be a boolean value (true or false)")
        mp = p.get("maxParticipants")
        if mp is not None and (not mp.isdigit() or not mp.isascii() or int(mp) == 0):
            errors.append("maxParticipants must be a positive number (leave it out for no "
                          "limit)")
        gp = p.get("guestPolicy")
        if gp is not None and gp not in GUEST_POLICIES:
            errors.append(f"guestPolicy must be one of {', '.join(GUEST_POLICIES)}")
        cb = p.get("meta_endCallbackUrl")
        if cb is not None:
            u = urllib.parse.urlsplit(cb)
            if u.scheme not in ("http", "https") or not u.hostname:
                errors.append("meta_endCallbackUrl is not an http(s) URL")
        if errors:
            for e in errors:
                self._violation(f"create: {e}")
            return _failed("validationError", " ".join(errors))
        with self._lock:
            m = self.meetings.get(mid)
            if m is not None:
                if m.attendee_pw != p["attendeePW"] or m.moderator_pw != p["moderatorPW"]:
                    return _failed("idNotUnique", "A meeting already exists with that "
                                   "meeting ID.  Please use a different meeting ID.")
                m.creates += 1
                return _meeting_xml(m, create=True, key="duplicateWarning",
                                    message="This conference was already in existence and "
                                    "may currently be in progress.")
            m = Meeting(mid, name or "", p["attendeePW"], p["moderatorPW"], dict(p),
                        int(time.time() * 1000))
            self.meetings[mid] = m
            return _meeting_xml(m, create=True)

    def _end(self, p: dict[str, str]) -> str:
        for key in p:
            if key not in _END_PARAMS:
                self._violation(f"end: unexpected parameter {key}")
        mid = p.get("meetingID", "").strip()
        if not mid:
            self._violation("end: meetingID missing")
            return _failed("missingParamMeetingID", "You must specify a meeting ID for the "
                           "meeting.")
        with self._lock:
            m = self.meetings.get(mid)
            if m is None:
                return _failed("notFound", "We could not find a meeting with that meeting ID "
                               "- perhaps the meeting is not yet running?")
            if "password" in p and p["password"] != m.moderator_pw:
                self._violation("end: the password is not the meeting's moderator password")
                return _failed("invalidPassword", "You must supply the moderator password for "
                               "this call.")
            del self.meetings[mid]
        return ("<response>\n<returncode>SUCCESS</returncode>\n"
                "<messageKey>sentEndMeetingRequest</messageKey>\n"
                "<message>A request to end the meeting was sent.  Please wait a few seconds, "
                "and then use the getMeetingInfo or isMeetingRunning API calls to verify that "
                "it was ended.</message>\n</response>\n")

    def _info(self, p: dict[str, str]) -> str:
        for key in p:
            if key not in _INFO_PARAMS:
                self._violation(f"getMeetingInfo: unexpected parameter {key}")
        mid = p.get("meetingID", "").strip()
        if not mid:
            self._violation("getMeetingInfo: meetingID missing")
            return _failed("missingParamMeetingID", "You must specify a meeting ID for the "
                           "meeting.")
        with self._lock:
            m = self.meetings.get(mid)
            if m is None:
                return _failed("notFound", "We could not find a meeting with that meeting ID")
            return _meeting_xml(m, create=False)


def _failed(key: str, message: str) -> str:
    return (f"<response>\n<returncode>FAILED</returncode>\n<messageKey>{escape(key)}"
            f"</messageKey>\n<message>{escape(message)}</message>\n</response>\n")


def _meeting_xml(m: Meeting, *, create: bool, key: str = "", message: str = "") -> str:
    e = escape
    internal = hashlib.sha1(m.meeting_id.encode()).hexdigest() + f"-{m.create_time}"
    parts = ["<response>", "<returncode>SUCCESS</returncode>"]
    if not create:
        parts.append(f"<meetingName>{e(m.name)}</meetingName>")
    parts += [
        f"<meetingID>{e(m.meeting_id)}</meetingID>",
        f"<internalMeetingID>{internal}</internalMeetingID>",
        "<parentMeetingID>bbb-none</parentMeetingID>",
        f"<attendeePW>{e(m.attendee_pw)}</attendeePW>",
        f"<moderatorPW>{e(m.moderator_pw)}</moderatorPW>",
        f"<createTime>{m.create_time}</createTime>",
        "<voiceBridge>70757</voiceBridge>",
        "<dialNumber>613-555-1234</dialNumber>",
        f"<createDate>{time.strftime('%a %b %d %H:%M:%S UTC %Y', time.gmtime(m.create_time / 1000))}"
        "</createDate>",
        "<hasUserJoined>false</hasUserJoined>",
        "<duration>0</duration>",
        "<hasBeenForciblyEnded>false</hasBeenForciblyEnded>",
    ]
    if not create:
        mp = m.params.get("maxParticipants", "0")
        parts += ["<running>false</running>", "<recording>false</recording>",
                  "<participantCount>0</participantCount>", f"<maxUsers>{e(mp)}</maxUsers>",
                  "<moderatorCount>0</moderatorCount>", "<attendees></attendees>",
                  "<metadata>"]
        for k, v in m.params.items():
            if k.startswith("meta_"):
                tag = k[len("meta_"):].lower()
                parts.append(f"<{tag}>{e(v)}</{tag}>")
        parts += ["</metadata>", "<isBreakout>false</isBreakout>"]
    parts += [f"<messageKey>{e(key)}</messageKey>", f"<message>{e(message)}</message>",
              "</response>"]
    return "\n".join(parts) + "\n"


class _Handler(http.server.BaseHTTPRequestHandler):
    bbb: BbbDouble
    server_version = "bbb-double/1.0"
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass

    def do_GET(self) -> None:  # noqa: N802 (the base's name)
        path, _, raw = self.path.partition("?")
        bbb = self.bbb
        status, body, call = bbb._handle(path, raw)
        with bbb._lock:
            bbb._calls.append(call)
            slow = call.mode == "slow"
            delay = bbb.slow_seconds
        if slow and bbb._stopping.wait(delay):
            return  # stopped meanwhile: drop the request unanswered
        call.status = status
        m = re.search(r"<returncode>(\w+)</returncode>", body)
        call.returncode = m.group(1) if m else None
        m = re.search(r"<messageKey>(\w*)</messageKey>", body)
        call.message_key = (m.group(1) or None) if m else None
        data = body.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/xml;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            call.status = 0

    def _not_allowed(self) -> None:
        self.bbb._violation(f"{self.command} {self.path.partition('?')[0]}: only GET is used")
        self.send_response(405)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_DELETE = do_HEAD = _not_allowed
