# SPDX-License-Identifier: Apache-2.0
"""test_core_http.py - the HTTP edge of atriumd, as a client sees it.

Liveness and readiness, the X-Request-Id every answer carries, the answers made before any
handler runs (404, 405, bad paths, body limit), request-body validation (JSON, media type,
schema, nesting depth, UTF-8), the request log line, and the header timeout that shuts
slow or silent connections. Every error must be an RFC 9457 problem.
"""

import http.client
import json
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402

MAX_BODY = 1024
GENERATED_ID = re.compile(r"^[0-9a-f]{24}$")
JSON = {"Content-Type": "application/json"}


def raw_exchange(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    """Send bytes as they are on a fresh connection and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def chunked_post(port: int, path: str, pieces, headers: dict, timeout: float = 30.0):
    """POST a body with Transfer-Encoding: chunked; return (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=iter(pieces), headers=headers, encode_chunked=True)
        resp = conn.getresponse()
        return resp.status, harness.Headers(resp.getheaders()), resp.read()
    finally:
        conn.close()


class Health(fixtures.SharedHost):
    def test_healthz(self):
        resp = self.host.request("GET", "/healthz")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.content_type, "application/json")
        self.assertEqual(resp.json(), {"status": "ok"})

    def test_readyz(self):
        resp = self.host.request("GET", "/readyz")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.content_type, "application/json")
        body = resp.json()
        self.assertIsInstance(body, dict)
        self.assertEqual(body.get("status"), "ready", body)

    def test_head_healthz(self):
        resp = self.host.request("HEAD", "/healthz")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.body, b"")


class AnswersStayPrivate(fixtures.SharedHost):
    """Every answer forbids type sniffing; an answer to a request with credentials may not be
    stored by any cache (it holds someone's data) unless its route says how to revalidate it."""

    def test_headers(self):
        op = self.op_token
        fixtures.make_school(self.host, op, "priv", modules=["groups", "files"])
        fixtures.make_user(self.host, op, "priv", "pia", roles=["teacher"])
        token = fixtures.login(self.host, "pia", school="priv")
        cases = [
            ("GET", "/healthz", None, None),
            ("GET", "/api/v1/me", token, "no-store"),
            ("GET", "/api/v1/me", "not-a-token", "no-store"),
            ("GET", "/api/v1/me", None, None),
            ("GET", "/api/v1/no/such/route", token, "no-store"),
        ]
        for method, path, tok, cache in cases:
            with self.subTest(path=path, token=bool(tok)):
                resp = self.host.request(method, path, token=tok)
                self.assertEqual(resp.headers.get("x-content-type-options"), "nosniff", resp)
                self.assertEqual(resp.headers.get("cache-control"), cache, resp)
        # A sign-in's answer carries a token: no cache keeps it either.
        signed_in = self.host.request("POST", "/api/v1/auth/login",
                                      {"school": "priv", "username": "pia",
                                       "password": fixtures.PASSWORD})
        self.assertEqual(signed_in.status, 200, signed_in)
        self.assertEqual(signed_in.headers.get("cache-control"), "no-store")
        # A download says itself how it may be kept: revalidated with its ETag.
        base = "/api/v1/schools/priv/files/home/a.txt"
        self.assertEqual(self.host.request("PUT", base, b"x", token=token).status, 201)
        got = self.host.request("GET", base, token=token)
        self.assertEqual(got.headers.get("cache-control"), "private, no-cache")
        self.assertEqual(got.headers.get("x-content-type-options"), "nosniff")


class AnswersLeaveWhole(fixtures.SharedHost):
    """An answer's head is held back to leave with its body in one send only when libsoup
    writes a body right after it (tests/unit/test-conn-output.c: sends the socket takes only
    in part). Answers whose body libsoup drops (HEAD, a Range it answers itself
    with 206 or 416) and error answers must still arrive at once, on a kept-alive connection
    where nothing else would push them out."""

    def test_every_kind_of_answer_arrives_on_one_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.host.port, timeout=5)
        try:
            cases = [
                ("GET", "/healthz", {}, 200, b'{"status":"ok"}'),
                ("HEAD", "/healthz", {}, 200, b""),
                ("GET", "/healthz", {"Range": "bytes=0-3"}, 206, b'{"st'),
                ("GET", "/healthz", {"Range": "bytes=500-600"}, 416, None),
                ("GET", "/api/v1/me", {}, 401, None),
                ("DELETE", "/healthz", {}, 405, None),
                ("GET", "/healthz", {}, 200, b'{"status":"ok"}'),
            ]
            for method, path, headers, status, body in cases * 3:
                conn.request(method, path, headers=headers)
                resp = conn.getresponse()  # a head held back would time out here
                data = resp.read()
                self.assertEqual(resp.status, status, (method, path, headers, data))
                if body is not None:
                    self.assertEqual(data, body, (method, path, headers))
                self.assertFalse(resp.will_close, (method, path, headers))
        finally:
            conn.close()


class EmptyAnswersKeepTheConnection(fixtures.SharedHost):
    """204 and 304 carry no body and no Content-Length; libsoup 3.2 then took the answer for
    one delimited by closing the connection and closed it after writing it, so a client that
    had sent its next request meanwhile met a reset. Browsers revalidate with If-None-Match
    (304) and apps delete (204) on kept-alive connections all day: the connection stays."""

    def test_204_and_304_keep_the_connection(self):
        op = self.op_token
        fixtures.make_school(self.host, op, "keep", modules=["groups", "files"])
        fixtures.make_user(self.host, op, "keep", "kim", roles=["teacher"])
        token = fixtures.login(self.host, "kim", school="keep")
        auth = {"Authorization": f"Bearer {token}"}
        base = "/api/v1/schools/keep/files"
        conn = http.client.HTTPConnection("127.0.0.1", self.host.port, timeout=10)
        try:
            def ask(method, path, headers=None, body=None):
                conn.request(method, path, body=body, headers={**auth, **(headers or {})})
                resp = conn.getresponse()
                data = resp.read()
                self.assertFalse(resp.will_close, (method, path, resp.status))
                return resp, data

            put, _ = ask("PUT", f"{base}/home/a.txt", body=b"hello")
            self.assertEqual(put.status, 201)
            etag = put.getheader("ETag")
            sock = conn.sock
            for _ in range(3):
                resp, data = ask("GET", f"{base}/home/a.txt", {"If-None-Match": etag})
                self.assertEqual((resp.status, data), (304, b""))
                self.assertIsNone(resp.getheader("Content-Length"))
                resp, data = ask("GET", f"{base}/home/a.txt")
                self.assertEqual((resp.status, data), (200, b"hello"))
            trashed, body = ask("DELETE", f"{base}/home/a.txt")
            self.assertEqual(trashed.status, 200, body)
            item = json.loads(body)["id"]
            resp, data = ask("DELETE", f"{base}/trash/{item}")
            self.assertEqual((resp.status, data), (204, b""))
            self.assertIsNone(resp.getheader("Content-Length"))
            resp, _ = ask("GET", "/healthz")
            self.assertEqual(resp.status, 200)
            # Every answer came on the one connection the test opened.
            self.assertIs(conn.sock, sock)
        finally:
            conn.close()


class RequestIds(fixtures.SharedHost):
    HOST_ENV = {"ATRIUM_MAX_BODY": str(MAX_BODY)}

    def answers(self):
        """(label, thunk) for answers of every kind: handlers, pipeline errors, early ones."""
        h, op = self.host, self.op_token
        return [
            ("200 healthz", lambda: h.request("GET", "/healthz")),
            ("200 with a token", lambda: h.request("GET", "/api/v1/me", token=op)),
            ("401 no token", lambda: h.request("GET", "/api/v1/me")),
            ("401 bad token", lambda: h.request("GET", "/api/v1/me", token="nonsense")),
            ("404 unknown route", lambda: h.request("GET", "/no/such/route")),
            ("404 unknown school",
             lambda: h.request("GET", "/api/v1/schools/no-such-school", token=op)),
            ("405", lambda: h.request("DELETE", "/healthz")),
            ("400 malformed JSON",
             lambda: h.request("POST", "/api/v1/schools", b"{", headers=JSON, token=op)),
            ("415", lambda: h.request("POST", "/api/v1/schools", b"{}",
                                      headers={"Content-Type": "text/plain"}, token=op)),
            ("413 Content-Length",
             lambda: h.request("POST", "/api/v1/schools", b" " * (MAX_BODY + 1), headers=JSON,
                               token=op)),
            ("413 chunked", lambda: self._chunked_413()),
            ("400 bad path", lambda: h.request("GET", "/api/v1/schools/a%00b")),
        ]

    def _chunked_413(self):
        status, headers, body = chunked_post(
            self.host.port, "/api/v1/schools", [b" " * 512] * 4,
            {**JSON, "Authorization": f"Bearer {self.op_token}"})
        return harness.Response(status, "", headers, body)

    def test_every_answer_has_a_request_id(self):
        seen = set()
        for label, thunk in self.answers():
            with self.subTest(label):
                resp = thunk()
                rid = resp.headers.get("x-request-id")
                self.assertIsNotNone(rid, f"{label}: no X-Request-Id on {resp!r}")
                self.assertRegex(rid, GENERATED_ID)
                self.assertNotIn(rid, seen, "request ids must not repeat")
                seen.add(rid)

    def test_valid_incoming_id_is_echoed(self):
        for rid in ("abcdefgh", "nginx-0123456789abcdef_XYZ", "A" * 64):
            with self.subTest(rid):
                resp = self.host.request("GET", "/healthz", headers={"X-Request-Id": rid})
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.headers.get("x-request-id"), rid)
        # on an error answer too
        resp = self.host.request("GET", "/no/such/route",
                                 headers={"X-Request-Id": "proxy-id-404-0001"})
        harness.assert_problem(resp, 404)
        self.assertEqual(resp.headers.get("x-request-id"), "proxy-id-404-0001")

    def test_invalid_incoming_id_is_replaced(self):
        for rid in ("short", "A" * 65, "has spaces in it", "semi;colon/slash", "ünïcödé-1234"):
            with self.subTest(rid):
                resp = self.host.request("GET", "/healthz",
                                         headers={"X-Request-Id": rid.encode("utf-8").decode(
                                             "latin-1")})
                self.assertEqual(resp.status, 200)
                got = resp.headers.get("x-request-id")
                self.assertNotEqual(got, rid)
                self.assertRegex(got or "", GENERATED_ID)


class Routing(fixtures.SharedHost):
    def test_unknown_route_is_404_problem(self):
        for path in ("/nope", "/api/v1/nope", "/api/v1/schools/x/no-such-module/things",
                     "/healthz/extra"):
            with self.subTest(path):
                problem = harness.assert_problem(self.host.request("GET", path), 404,
                                                 "/not-found")
                self.assertTrue(problem["type"].startswith("https://atrium.dev/problems/"))

    def test_wrong_method_is_405_with_allow(self):
        resp = self.host.request("POST", "/healthz")
        harness.assert_problem(resp, 405, "/method-not-allowed")
        self.assertEqual(resp.headers.get("allow"), "GET")

        resp = self.host.request("DELETE", "/api/v1/schools", token=self.op_token)
        harness.assert_problem(resp, 405, "/method-not-allowed")
        allow = {m.strip() for m in resp.headers.get("allow", "").split(",")}
        self.assertEqual(allow, {"GET", "POST"})

    def test_encoded_slash_in_a_segment_is_400(self):
        # %2F must not become a path separator: "a%2Fb" is one segment, and the router
        # refuses it rather than matching it against a longer template.
        for path in ("/api/v1/schools/a%2Fb", "/api/v1/schools/a%2fb/noticeboard/notices"):
            with self.subTest(path):
                harness.assert_problem(self.host.request("GET", path, token=self.op_token),
                                       400, "/invalid-request")

    def test_dot_segments_are_resolved_before_routing(self):
        # libsoup parses the request target with GLib's URI parser, which removes dot segments
        # (RFC 3986, 5.2.4) before atriumd sees the path, encoded ones included: ".." can never
        # reach a route or a handler, so it cannot walk out of a route's prefix.
        cases = {"/api/v1/..": "/api/", "/api/v1/schools/x/../y": "/api/v1/schools/y",
                 "/api/v1/%2e%2e/healthz": "/api/healthz"}
        for path, resolved in cases.items():
            with self.subTest(path):
                resp = self.host.request("GET", path, token=self.op_token)
                harness.assert_problem(resp, 404, "/not-found")
                self.assertEqual(resp.json()["instance"], resolved)

    def test_nul_escape_is_400_problem(self):
        resp = self.host.request("GET", "/api/v1/schools/a%00b", token=self.op_token)
        harness.assert_problem(resp, 400, "/invalid-request")
        self.assertIsNotNone(resp.headers.get("x-request-id"), resp)

    def test_malformed_escapes_are_400(self):
        # A request target with an invalid percent-escape fails in libsoup's request-line
        # parser, before any handler of ours runs: libsoup answers a bare 400 itself (no
        # problem body is possible at that point; docs/REST.md says so). The host must stay up.
        for path in ("/api/v1/schools/a%ZZb", "/healthz%", "/api/v1/schools?limit=%ZZ"):
            with self.subTest(path):
                self.assertEqual(self.host.request("GET", path, token=self.op_token).status, 400)
        self.assertEqual(self.host.request("GET", "/healthz").status, 200)

    def test_path_is_decoded_once(self):
        # "%2561b" is the segment "%61b" (no such school), never the school "ab".
        fixtures.make_school(self.host, self.op_token, "ab")
        self.assertEqual(
            self.host.request("GET", "/api/v1/schools/ab", token=self.op_token).status, 200)
        resp = self.host.request("GET", "/api/v1/schools/%2561b", token=self.op_token)
        self.assertIn(resp.status, (400, 404), f"double-decoded path reached school ab: {resp}")
        harness.assert_problem(resp, resp.status)


class BodyLimit(fixtures.SharedHost):
    HOST_ENV = {"ATRIUM_MAX_BODY": str(MAX_BODY)}

    def test_content_length_above_limit_is_413(self):
        body = json.dumps({"slug": "big", "name": "x" * (MAX_BODY + 10)}).encode()
        resp = self.host.request("POST", "/api/v1/schools", body, headers=JSON,
                                 token=self.op_token)
        problem = harness.assert_problem(resp, 413, "/payload-too-large")
        self.assertIn(str(MAX_BODY), problem.get("detail", ""))
        # nothing was created
        self.assertEqual(
            self.host.request("GET", "/api/v1/schools/big", token=self.op_token).status, 404)

    def test_chunked_body_above_limit_is_413(self):
        pieces = [b'{"slug": "chunky", "name": "'] + [b"x" * 200] * 10 + [b'"}']
        status, headers, body = chunked_post(
            self.host.port, "/api/v1/schools", pieces,
            {**JSON, "Authorization": f"Bearer {self.op_token}"})
        harness.assert_problem(harness.Response(status, "", headers, body), 413,
                               "/payload-too-large")
        self.assertEqual(
            self.host.request("GET", "/api/v1/schools/chunky", token=self.op_token).status, 404)

    def test_body_at_the_limit_is_read(self):
        # Exactly MAX_BODY bytes gets past the limit; the schema then refuses the padding.
        body = json.dumps({"slug": "edge", "name": "n", "pad": ""}).encode()
        body = body[:-2] + b" " * (MAX_BODY - len(body)) + body[-2:]
        self.assertEqual(len(body), MAX_BODY)
        resp = self.host.request("POST", "/api/v1/schools", body, headers=JSON,
                                 token=self.op_token)
        problem = harness.assert_problem(resp, 400, "/invalid-request")
        self.assertIn("/pad", problem.get("detail", ""))

    def test_small_chunked_body_is_accepted(self):
        pieces = [b'{"slug": "chunked-ok", ', b'"name": "Chunked"}']
        status, _, body = chunked_post(self.host.port, "/api/v1/schools", pieces,
                                       {**JSON, "Authorization": f"Bearer {self.op_token}"})
        self.assertEqual(status, 201, body)
        self.assertEqual(json.loads(body)["slug"], "chunked-ok")


class BodyValidation(fixtures.SharedHost):
    def post(self, body, headers=JSON):
        return self.host.request("POST", "/api/v1/schools", body, headers=headers,
                                 token=self.op_token)

    def detail(self, resp, status=400, suffix="/invalid-request"):
        return harness.assert_problem(resp, status, suffix).get("detail", "")

    def test_malformed_json(self):
        for body in (b"{", b'{"slug": "x",}', b"not json", b'{"slug": "ab", "name": "x"} x'):
            with self.subTest(body):
                self.detail(self.post(body))

    def test_wrong_content_type_is_415(self):
        good = b'{"slug": "ct", "name": "x"}'
        for ct in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
            with self.subTest(ct):
                self.detail(self.post(good, {"Content-Type": ct}), 415,
                            "/unsupported-media-type")
        # no Content-Type at all
        self.detail(self.post(good, {}), 415, "/unsupported-media-type")

    def test_json_content_type_with_parameters_is_accepted(self):
        resp = self.post(b'{"slug": "ct-param", "name": "x"}',
                         {"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(resp.status, 201, resp)

    def test_unknown_field_is_named(self):
        detail = self.detail(self.post({"slug": "uf", "name": "x", "colour": "red"}))
        self.assertIn("/colour", detail)

    def test_wrong_type_is_named(self):
        detail = self.detail(self.post({"slug": "wt", "name": 42}))
        self.assertIn("/name", detail)
        detail = self.detail(self.post(["slug", "name"]))
        self.assertIn("object", detail)

    def test_missing_required_field_is_named(self):
        detail = self.detail(self.post({"slug": "mr"}))
        self.assertIn("name", detail)

    def test_pattern_violation(self):
        detail = self.detail(self.post({"slug": "Not A Slug!", "name": "x"}))
        self.assertIn("/slug", detail)

    def test_missing_body_on_a_body_route(self):
        self.detail(self.host.request("POST", "/api/v1/schools", token=self.op_token))

    def test_body_on_a_get_route(self):
        resp = self.host.request("GET", "/api/v1/schools", {"slug": "x"}, token=self.op_token)
        self.detail(resp)
        resp = self.host.request("GET", "/healthz", b"hello",
                                 headers={"Content-Type": "text/plain"})
        self.detail(resp)

    def test_deep_nesting(self):
        deep = b'{"slug": "deep", "name": "x", "n": ' + b"[" * 70 + b"]" * 70 + b"}"
        self.detail(self.post(deep))
        # a million brackets must not take the worker down either
        huge = b"[" * 500_000
        self.assertIn(self.post(huge).status, (400, 413))
        self.assertEqual(self.host.request("GET", "/healthz").status, 200)

    def test_non_utf8(self):
        for body in (b'{"slug": "nu", "name": "\xff\xfe"}', b'{"slug": "nu", "name": "\xc3"}',
                     b'{"slug": "nu", "name": "\xed\xa0\x80"}'):
            with self.subTest(body):
                self.detail(self.post(body))

    def test_nothing_was_created_by_invalid_bodies(self):
        resp = self.host.request("GET", "/api/v1/schools?limit=500", token=self.op_token)
        self.assertEqual(resp.status, 200, resp)
        slugs = {s["slug"] for s in resp.json()["items"]}
        self.assertFalse(slugs & {"uf", "wt", "mr", "deep", "nu", "ct"}, slugs)


class ReadsCommitWithoutWaiting(fixtures.SharedHost):
    """A GET that wrote nothing sends its COMMIT without waiting for the answer, which the
    connection's next user reads: no transaction may stay open, and writes still commit."""

    HOST_ENV = {"ATRIUM_POOL_SIZE": "2"}

    def open_transactions(self) -> int:
        return int(self.pg.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'atriumd' "
            "AND (state LIKE 'idle in transaction%' OR xact_start IS NOT NULL "
            "AND state <> 'active')").strip())

    def test_reads_end_their_transactions(self):
        for i in range(40):
            self.assertEqual(self.host.request("GET", "/api/v1/me", token=self.op_token).status,
                             200)
            if i % 10 == 9:  # a write between reads, on the same two connections
                slug = f"rc{i}"
                self.assertEqual(self.host.request("POST", "/api/v1/schools",
                                                   {"slug": slug, "name": slug},
                                                   token=self.op_token).status, 201)
        deadline = time.monotonic() + 5
        while self.open_transactions() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.open_transactions(), 0)
        slugs = {s["slug"] for s in self.host.request(
            "GET", "/api/v1/schools?limit=500", token=self.op_token).json()["items"]}
        self.assertLessEqual({"rc9", "rc19", "rc29", "rc39"}, slugs)


class RequestLog(fixtures.SharedHost):
    def log_line(self, request_id: str) -> str:
        deadline = time.monotonic() + 10
        while True:
            for line in self.host.log_text().splitlines():
                if f"request_id={request_id}" in line:
                    return line
            if time.monotonic() > deadline:
                self.fail(f"no log line with request_id={request_id}")
            time.sleep(0.05)

    def fields(self, line: str) -> dict:
        return dict(m.groups() for m in re.finditer(r"(\w+)=(\S+)", line))

    def test_log_line_of_a_request(self):
        rid = "logtest-healthz-0001"
        self.assertEqual(
            self.host.request("GET", "/healthz", headers={"X-Request-Id": rid}).status, 200)
        f = self.fields(self.log_line(rid))
        self.assertEqual(f.get("method"), "GET")
        self.assertEqual(f.get("route"), "/healthz")
        self.assertEqual(f.get("status"), "200")
        self.assertRegex(f.get("duration_ms", ""), r"^\d+(\.\d+)?$")

    def test_log_line_names_the_route_template_not_the_path(self):
        rid = "logtest-template-0002"
        resp = self.host.request("GET", "/api/v1/schools/some-school-slug", token=self.op_token,
                                 headers={"X-Request-Id": rid})
        harness.assert_problem(resp, 404)
        line = self.log_line(rid)
        f = self.fields(line)
        self.assertEqual(f.get("method"), "GET")
        self.assertEqual(f.get("route"), "/api/v1/schools/{school}")
        self.assertEqual(f.get("status"), "404")
        self.assertIn("duration_ms", f)
        self.assertNotIn("some-school-slug", line)

    def test_answers_before_routing_are_logged(self):
        # 404 and 405 are answered before any handler; they get a log line all the same.
        for method, path, status in (("GET", "/no/such/route/logged", "404"),
                                     ("DELETE", "/healthz", "405")):
            with self.subTest(f"{method} {path}"):
                rid = f"logtest-early-{status}"
                resp = self.host.request(method, path, headers={"X-Request-Id": rid})
                harness.assert_problem(resp, int(status))
                line = self.log_line(rid)
                f = self.fields(line)
                self.assertEqual((f.get("method"), f.get("status")), (method, status))
                self.assertIn("route", f)
                self.assertIn("duration_ms", f)
                self.assertNotIn("/no/such/route/logged", f.get("route", ""))

    def test_generated_id_is_logged(self):
        resp = self.host.request("POST", "/api/v1/schools", b"{", headers=JSON,
                                 token=self.op_token)
        harness.assert_problem(resp, 400)
        rid = resp.headers.get("x-request-id")
        self.assertTrue(rid)
        f = self.fields(self.log_line(rid))
        self.assertEqual((f.get("method"), f.get("route"), f.get("status")),
                         ("POST", "/api/v1/schools", "400"))

    def test_no_secrets_in_the_log(self):
        self.host.request("GET", "/api/v1/me", token=self.op_token)
        text = self.host.log_text()
        self.assertNotIn(self.op_token, text)
        self.assertNotIn(fixtures.PASSWORD, text)


class HeaderTimeout(fixtures.SharedHost):
    HOST_ENV = {"ATRIUM_HEADER_TIMEOUT": "1"}

    def assert_closed_within(self, sock: socket.socket, seconds: float) -> bytes:
        """Read until the server closes the connection; fail if it is still open after
        `seconds`. Returns whatever the server sent before closing."""
        deadline = time.monotonic() + seconds
        got = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail(f"connection still open after {seconds:.0f} s (got {got!r})")
            sock.settimeout(left)
            try:
                chunk = sock.recv(4096)
            except ConnectionResetError:
                return got
            except socket.timeout:
                continue
            if not chunk:
                return got
            got += chunk

    def test_half_request_line_is_closed(self):
        with socket.create_connection(("127.0.0.1", self.host.port), timeout=10) as s:
            s.sendall(b"GET /heal")
            self.assert_closed_within(s, 10)

    def test_incomplete_headers_are_closed(self):
        with socket.create_connection(("127.0.0.1", self.host.port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            self.assert_closed_within(s, 10)

    def test_silent_connection_is_closed(self):
        with socket.create_connection(("127.0.0.1", self.host.port), timeout=10) as s:
            self.assert_closed_within(s, 10)

    def test_server_still_answers_afterwards(self):
        with socket.create_connection(("127.0.0.1", self.host.port), timeout=10) as s:
            s.sendall(b"GET /he")
            self.assert_closed_within(s, 10)
        self.assertEqual(self.host.request("GET", "/healthz").status, 200)

    def test_prompt_request_is_answered(self):
        reply = raw_exchange(self.host.port,
                             b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply[:200])


if __name__ == "__main__":
    harness.main()
