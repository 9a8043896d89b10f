# SPDX-License-Identifier: Apache-2.0
"""test_metrics_openapi.py - the two machine-readable descriptions atriumd gives of itself.

/metrics is Prometheus text: request counters by method, route template and status that
count exactly what this test sent, a latency histogram per route, pool and plugin gauges.
/api/v1/openapi.json is an OpenAPI 3.1 document of every registered route, the noticeboard
plugin's included, and it must pass the standard validator
(tests/tools/validate-openapi.mjs with @seriousme/openapi-schema-validator). A missing
node or validator fails the test: scripts/test.sh installs them.
"""

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402

POOL_SIZE = 3
SLOW_WORKERS = 2

SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)'
    r'(?:\{(?P<labels>(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})?'
    r' (?P<value>\S+)$'
)
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"')


def parse_metrics(text: str):
    """Prometheus text format -> ({(name, frozenset(labels)): value}, {name: type}).

    Raises AssertionError on a line that is neither a comment nor a valid sample."""
    samples = {}
    types = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 4 and parts[1] == "TYPE":
                types[parts[2]] = parts[3]
            continue
        m = SAMPLE.match(line)
        if not m:
            raise AssertionError(f"line {n} is not a Prometheus sample: {line!r}")
        labels = frozenset(LABEL.findall(m.group("labels") or ""))
        value = float(m.group("value"))  # raises on garbage
        key = (m.group("name"), labels)
        if key in samples:
            raise AssertionError(f"line {n} repeats a series: {line!r}")
        samples[key] = value
    return samples, types


def series(samples, name, **labels):
    """The value of one series, 0 when it is absent (a counter not yet incremented)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


class Metrics(fixtures.SharedHost):
    HOST_ENV = {"ATRIUM_POOL_SIZE": str(POOL_SIZE), "ATRIUM_SLOW_WORKERS": str(SLOW_WORKERS)}

    def scrape(self):
        resp = self.host.request("GET", "/metrics")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.content_type, "text/plain")
        self.assertIn("version=0.0.4", resp.headers.get("content-type", ""))
        return parse_metrics(resp.text)

    def test_counts_the_requests_made(self):
        before, _ = self.scrape()
        for _ in range(3):
            self.assertEqual(self.host.request("GET", "/api/v1/modules").status, 200)
        for path in ("/metrics-test-no-such-route", "/another/unknown/route"):
            harness.assert_problem(self.host.request("GET", path), 404)
        harness.assert_problem(self.host.request("GET", "/api/v1/schools/metrics-x"), 401)
        harness.assert_problem(self.host.request("POST", "/api/v1/modules"), 405)
        after, types = self.scrape()

        self.assertEqual(types.get("atrium_http_requests_total"), "counter")
        name = "atrium_http_requests_total"

        def delta(**labels):
            return series(after, name, **labels) - series(before, name, **labels)

        def delta_where(**want):
            """Sum of the increments of every series whose labels include `want`."""
            keys = {k for k in after if k[0] == name and set(want.items()) <= k[1]}
            return sum(after[k] - before.get(k, 0.0) for k in keys)

        self.assertEqual(delta(method="GET", route="/api/v1/modules", status="200"), 3)
        self.assertEqual(delta(method="GET", route="/api/v1/schools/{school}", status="401"), 1)
        # unmatched paths are counted under one placeholder route, whatever it is called
        self.assertEqual(delta_where(method="GET", status="404"), 2)
        self.assertEqual(delta_where(method="POST", status="405"), 1)

    def test_labels_are_templates_never_raw_paths(self):
        self.host.request("GET", "/api/v1/schools/raw-path-slug-1234")
        self.host.request("GET", "/scanner/probe/raw-path-5678")
        resp = self.host.request("GET", "/metrics")
        self.assertNotIn("raw-path-slug-1234", resp.text)
        self.assertNotIn("raw-path-5678", resp.text)
        samples, _ = parse_metrics(resp.text)
        for (name, labels) in samples:
            for key, value in labels:
                if key == "route":
                    self.assertTrue(value.startswith("/") or value.startswith("("), value)
                    self.assertNotIn("raw-path", value)
                if key == "method":
                    self.assertIn(value, {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
                if key == "status":
                    self.assertRegex(value, r"^[1-5]\d\d$")

    def test_histogram(self):
        for _ in range(4):
            self.host.request("GET", "/healthz")
        samples, types = self.scrape()
        h = "atrium_http_request_duration_seconds"
        self.assertEqual(types.get(h), "histogram")
        buckets = sorted(
            ((math.inf if dict(labels)["le"] == "+Inf" else float(dict(labels)["le"]), value)
             for (name, labels), value in samples.items()
             if name == h + "_bucket" and dict(labels).get("route") == "/healthz"),
        )
        self.assertGreaterEqual(len(buckets), 2, "no buckets for /healthz")
        self.assertEqual(buckets[-1][0], math.inf, "the last bucket must be +Inf")
        counts = [c for _, c in buckets]
        self.assertEqual(counts, sorted(counts), "bucket counts must be cumulative")
        total = series(samples, h + "_count", route="/healthz")
        self.assertGreaterEqual(total, 4)
        self.assertEqual(buckets[-1][1], total, "+Inf bucket != _count")
        self.assertGreaterEqual(series(samples, h + "_sum", route="/healthz"), 0.0)
        self.assertIn((h + "_sum", frozenset({("route", "/healthz")})), samples)
        # every route with a histogram has the same bucket boundaries
        bounds = {}
        for (name, labels), _ in samples.items():
            if name == h + "_bucket":
                d = dict(labels)
                bounds.setdefault(d["route"], set()).add(d["le"])
        self.assertEqual(len({frozenset(b) for b in bounds.values()}), 1, bounds)

    def test_pool_and_plugin_gauges(self):
        # one request that uses the database, so the pool has opened a connection
        self.assertEqual(self.host.request("GET", "/readyz").status, 200)
        samples, types = self.scrape()
        self.assertEqual(types.get("atrium_db_pool_connections"), "gauge")
        self.assertEqual(types.get("atrium_db_pool_size"), "gauge")
        self.assertEqual(types.get("atrium_plugins"), "gauge")
        # one connection per worker, fast and slow
        self.assertEqual(series(samples, "atrium_db_pool_size"), POOL_SIZE + SLOW_WORKERS)
        in_use = samples[("atrium_db_pool_connections", frozenset({("state", "in_use")}))]
        idle = samples[("atrium_db_pool_connections", frozenset({("state", "idle")}))]
        self.assertGreaterEqual(idle, 1)
        self.assertGreaterEqual(in_use, 0)
        # the plugin gauges agree with the module list (noticeboard among them)
        modules = self.host.request("GET", "/api/v1/modules").json()["items"]
        states = [m["state"] for m in modules]
        self.assertIn("noticeboard", [m["name"] for m in modules if m["state"] == "loaded"])
        self.assertEqual(samples[("atrium_plugins", frozenset({("state", "running")}))],
                         states.count("loaded"))
        self.assertEqual(samples[("atrium_plugins", frozenset({("state", "failed")}))],
                         states.count("failed"))

    def test_every_family_has_help_and_type(self):
        text = self.host.request("GET", "/metrics").text
        samples, types = parse_metrics(text)
        helps = set(re.findall(r"^# HELP (\S+) ", text, re.M))
        for name, _ in samples:
            family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
            self.assertIn(family, types, f"{name} has no # TYPE")
            self.assertIn(family, helps, f"{name} has no # HELP")


def validator_command():
    """The argv that validates an OpenAPI file; fails (never skips) when a tool is missing."""
    source = harness.SOURCE_DIR
    script = os.path.join(source, "tests", "tools", "validate-openapi.mjs")
    module = os.path.join(source, "tests", "tools", "node_modules", "@seriousme",
                          "openapi-schema-validator", "package.json")
    node = shutil.which("node")
    if not node:
        raise AssertionError("node is not on PATH; the OpenAPI validator needs it "
                             "(scripts/setup.sh installs Node.js)")
    if not os.path.isfile(script):
        raise AssertionError(f"{script} is missing")
    if not os.path.isfile(module):
        raise AssertionError("@seriousme/openapi-schema-validator is not installed; run "
                             "`npm ci --prefix tests/tools` (scripts/test.sh does)")
    return [node, script]


def validate_openapi(document) -> subprocess.CompletedProcess:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(document, f)
        path = f.name
    try:
        return subprocess.run(validator_command() + [path], capture_output=True, text=True,
                              timeout=120)
    finally:
        os.unlink(path)


class OpenApi(fixtures.SharedHost):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        resp = cls.host.request("GET", "/api/v1/openapi.json")
        cls.status = resp.status
        cls.content_type = resp.content_type
        cls.doc = resp.json() if resp.status == 200 else None

    def setUp(self):
        self.assertEqual(self.status, 200)
        self.assertEqual(self.content_type, "application/json")

    def operations(self):
        for path, item in self.doc["paths"].items():
            for method, op in item.items():
                if method in ("get", "put", "post", "delete", "patch", "head", "options",
                              "trace"):
                    yield path, method, op

    def test_version_and_info(self):
        self.assertEqual(self.doc["openapi"], "3.1.0")
        self.assertTrue(self.doc["info"]["title"])
        self.assertTrue(self.doc["info"]["version"])

    def test_core_and_plugin_paths(self):
        paths = self.doc["paths"]
        expected = {
            "/healthz": {"get"},
            "/readyz": {"get"},
            "/metrics": {"get"},
            "/api/v1/modules": {"get"},
            "/api/v1/openapi.json": {"get"},
            "/api/v1/auth/login": {"post"},
            "/api/v1/schools": {"get", "post"},
            "/api/v1/schools/{school}": {"get"},
            "/api/v1/schools/{school}/modules/{module}": {"put", "delete"},
            "/api/v1/schools/{school}/noticeboard/notices": {"get", "post"},
            "/api/v1/schools/{school}/noticeboard/notices/{id}": {"get", "delete"},
        }
        for path, methods in expected.items():
            with self.subTest(path):
                self.assertIn(path, paths)
                self.assertLessEqual(methods, set(paths[path]))
        self.assertEqual(paths["/api/v1/schools/{school}/noticeboard/notices"]["post"]
                         .get("x-atrium-permission"), "noticeboard.post")
        self.assertEqual(paths["/api/v1/schools/{school}/noticeboard/notices"]["get"]["tags"],
                         ["noticeboard"])

    def test_path_parameters_are_declared(self):
        for path, method, op in self.operations():
            names = re.findall(r"\{([^}]+)\}", path)
            declared = {(p["name"], p["in"]): p for p in op.get("parameters", [])}
            for name in names:
                with self.subTest(f"{method} {path} {{{name}}}"):
                    p = declared.get((name, "path"))
                    self.assertIsNotNone(p, f"{method} {path}: {{{name}}} is not declared")
                    self.assertIs(p.get("required"), True)
                    self.assertEqual(p["schema"].get("type"), "string")
        notices = self.doc["paths"]["/api/v1/schools/{school}/noticeboard/notices/{id}"]["get"]
        self.assertEqual([p["name"] for p in notices["parameters"]], ["school", "id"])

    def query_parameters(self, path, method="get"):
        op = self.doc["paths"][path][method]
        return {p["name"]: p for p in op["parameters"] if p["in"] == "query"}

    def test_query_parameters_are_declared(self):
        # What a route reads from the query string is in the document (AtriumRoute.query_schema;
        # the host checks the very same schemas: test_query_parameters.py).
        users = self.query_parameters("/api/v1/schools/{school}/users")
        self.assertEqual(list(users), ["role", "q", "limit", "cursor"])
        self.assertEqual(users["role"]["schema"]["enum"],
                         ["admin", "teacher", "student", "parent", "staff"])
        self.assertIs(users["role"]["required"], False)
        self.assertTrue(users["q"]["description"])
        window = self.query_parameters("/api/v1/schools/{school}/calendar/events")
        self.assertIs(window["from"]["required"], True)
        self.assertIs(window["to"]["required"], True)
        stats = self.query_parameters("/api/v1/schools/{school}/conference/stats")
        self.assertEqual(stats["granularity"]["schema"]["enum"], ["day", "hour"])
        self.assertEqual(stats["from"]["schema"]["format"], "date-time")
        post = self.query_parameters("/api/v1/schools/{school}/files/home/{path}", "post")
        self.assertIs(post["action"]["required"], True)
        self.assertEqual(post["parents"]["schema"]["type"], "boolean")
        self.assertIs(self.query_parameters("/api/v1/schools/{school}/mail/search")["q"]
                      ["required"], True)
        # A route that reads nothing from the query declares nothing.
        self.assertEqual(self.query_parameters("/api/v1/me"), {})
        # Every summary that names a ?parameter= has it declared.
        for path, method, op in self.operations():
            declared = {p["name"] for p in op["parameters"] if p["in"] == "query"}
            for name in re.findall(r"\?([a-z_]+)=", op.get("summary", "")):
                with self.subTest(f"{method} {path} ?{name}="):
                    self.assertIn(name, declared)

    def test_openid_endpoints_list_their_parameters(self):
        # Declared for the document, each a plain optional string: the protocol answers a
        # bad or missing one itself (an error page or an error redirect), not the host's 400.
        for path, names in (("/oidc/{school}/authorize",
                             {"response_type", "client_id", "redirect_uri", "scope", "state",
                              "nonce", "code_challenge", "code_challenge_method", "prompt",
                              "max_age", "login_hint"}),
                            ("/oidc/{school}/end_session",
                             {"id_token_hint", "client_id", "post_logout_redirect_uri",
                              "state"})):
            with self.subTest(path):
                q = self.query_parameters(path)
                self.assertEqual(set(q), names)
                for name, p in q.items():
                    self.assertFalse(p["required"], name)
                    self.assertEqual(p["schema"]["type"], "string", name)

    def test_lists_that_page_say_so(self):
        # ATRIUM_ROUTE_PAGED: ?limit= and ?cursor=, and the answer is a page.
        for path in ("/api/v1/schools", "/api/v1/schools/{school}/noticeboard/notices",
                     "/api/v1/schools/{school}/groups/{id}/members",
                     "/api/v1/schools/{school}/calendar/calendars/{id}/todos"):
            with self.subTest(path):
                q = self.query_parameters(path)
                self.assertEqual(q["limit"]["schema"],
                                 {"type": "integer", "minimum": 1, "maximum": 500, "default": 50,
                                  "description": "items per page"})
                self.assertEqual(q["cursor"]["schema"]["type"], "string")
                page = (self.doc["paths"][path]["get"]["responses"]["200"]["content"]
                        ["application/json"]["schema"])
                self.assertEqual(page["required"], ["items", "next_cursor"])
                self.assertEqual(page["properties"]["items"]["type"], "array")
                self.assertEqual(page["properties"]["next_cursor"]["type"], ["string", "null"])
                self.assertIn("400", self.doc["paths"][path]["get"]["responses"])
        # Every summary that says it pages takes ?limit=.
        for path, method, op in self.operations():
            if "paginated" in op.get("summary", ""):
                with self.subTest(f"{method} {path}"):
                    self.assertIn("limit", {p["name"] for p in op["parameters"]})

    def test_main_answers_are_described(self):
        # The success bodies of the main resources are in the document; the harness runs
        # every host with [http] check_responses, so each schema is also held to the answers
        # the whole suite gets.
        described = {
            ("post", "/api/v1/auth/login"): "token",
            ("get", "/api/v1/me"): "permissions",
            ("get", "/api/v1/schools/{school}"): "slug",
            ("get", "/api/v1/schools/{school}/users/{id}"): "display_name",
            ("get", "/api/v1/schools/{school}/groups/{id}"): "member_count",
            ("get", "/api/v1/schools/{school}/calendar/calendars/{id}"): "can_edit",
            ("get", "/api/v1/schools/{school}/calendar/calendars/{id}/events/{event_id}"): "rrule",
            ("get", "/api/v1/schools/{school}/conference/rooms/{id}"): "moderator",
            ("get", "/api/v1/schools/{school}/noticeboard/notices/{id}"): "pinned",
        }
        for (method, path), field in described.items():
            with self.subTest(f"{method} {path}"):
                ok = [r for code, r in self.doc["paths"][path][method]["responses"].items()
                      if code.startswith("2")][0]
                schema = ok["content"]["application/json"]["schema"]
                self.assertIn(field, schema["properties"])
        pages = {
            "/api/v1/schools/{school}/users": "username",
            "/api/v1/schools/{school}/groups": "my_role",
            "/api/v1/schools/{school}/groups/{id}/members": "role",
            "/api/v1/schools/{school}/calendar/calendars": "owner",
            "/api/v1/schools/{school}/mail/search": "subject",
            "/api/v1/schools/{school}/files/trash": "deleted_at",
        }
        for path, field in pages.items():
            with self.subTest(path):
                page = (self.doc["paths"][path]["get"]["responses"]["200"]["content"]
                        ["application/json"]["schema"])
                self.assertIn(field, page["properties"]["items"]["items"]["properties"])

    def test_every_answer_with_a_body_says_what_it_is(self):
        # Every success answer that has a body names its media type (response_type, ABI
        # 1.5): JSON with a schema, or another type such as text/calendar. Only answers
        # without a body say nothing: 204, password-reset's 202, the token revocation's 200.
        bodiless = {("post", "/api/v1/auth/password-reset"), ("post", "/oidc/{school}/revoke")}
        for path, method, op in self.operations():
            for code, answer in op["responses"].items():
                if not code.startswith("2") or code == "204" or (method, path) in bodiless:
                    continue
                with self.subTest(f"{method} {path} {code}"):
                    self.assertIn("content", answer, "a body the document does not describe")
                    for media, described in answer["content"].items():
                        if media == "application/json":
                            self.assertIn("schema", described)
        answers = {
            ("get", "/metrics"): {"text/plain; version=0.0.4"},
            ("get", "/"): {"text/html"},
            ("get", "/oidc/{school}/authorize"): {"text/html"},
            ("get", "/api/v1/schools/{school}/calendar/calendars/{id}.ics"): {"text/calendar"},
            ("get", "/api/v1/calendar/ical/{token}.ics"): {"text/calendar"},
            ("get", "/api/v1/schools/{school}/mail/messages/{id}/raw"): {"message/rfc822"},
            ("get", "/api/v1/schools/{school}/mail/messages/{id}/attachments/{n}"): {"*/*"},
            ("get", "/api/v1/schools/{school}/files/home/{path}"): {"*/*", "application/json"},
            ("get", "/api/v1/files/share/{token}"): {"*/*"},
            ("post", "/oidc/{school}/token"): {"application/json"},
            ("get", "/api/v1/schools/{school}/users/{id}/export"): {"application/json"},
        }
        for (method, path), media in answers.items():
            with self.subTest(f"{method} {path}"):
                self.assertEqual(set(self.doc["paths"][path][method]["responses"]["200"]
                                     ["content"]), media)
        ics = (self.doc["paths"]["/api/v1/calendar/ical/{token}.ics"]["get"]["responses"]
               ["200"]["content"]["text/calendar"])
        self.assertEqual(ics, {"schema": {"type": "string"}})
        raw = (self.doc["paths"]["/api/v1/schools/{school}/mail/messages/{id}/raw"]["get"]
               ["responses"]["200"]["content"]["message/rfc822"])
        self.assertEqual(raw, {}, "bytes: no schema")
        token = (self.doc["paths"]["/oidc/{school}/token"]["post"]["responses"]["200"]["content"]
                 ["application/json"]["schema"])
        self.assertIn("id_token", token["properties"])
        export = (self.doc["paths"]["/api/v1/schools/{school}/users/{id}/export"]["get"]
                  ["responses"]["200"]["content"]["application/json"]["schema"])
        self.assertEqual(export["required"], ["core", "exported_at"])
        self.assertEqual(export["additionalProperties"]["type"], "object")

    def test_request_bodies_have_schemas(self):
        posts_with_bodies = {
            "/api/v1/auth/login", "/api/v1/schools",
            "/api/v1/schools/{school}/noticeboard/notices", "/api/v1/schools/{school}/users",
        }
        for path in posts_with_bodies:
            with self.subTest(path):
                rb = self.doc["paths"][path]["post"].get("requestBody")
                self.assertIsNotNone(rb, f"POST {path} has no requestBody")
                schema = rb["content"]["application/json"]["schema"]
                self.assertEqual(schema.get("type"), "object")
                self.assertIsInstance(schema.get("properties"), dict)
        notice = (self.doc["paths"]["/api/v1/schools/{school}/noticeboard/notices"]["post"]
                  ["requestBody"]["content"]["application/json"]["schema"])
        self.assertEqual(set(notice["required"]), {"title", "body"})
        self.assertEqual(set(notice["properties"]), {"title", "body", "pinned"})
        self.assertIs(notice.get("additionalProperties"), False)
        # routes without a body declare none
        self.assertNotIn("requestBody", self.doc["paths"]["/healthz"]["get"])

    def test_problem_responses_reference_problem_schema(self):
        problem = self.doc["components"]["schemas"]["Problem"]
        self.assertEqual(problem["type"], "object")
        self.assertLessEqual({"type", "title", "status"}, set(problem["required"]))
        ref = "#/components/schemas/Problem"
        for path, method, op in self.operations():
            responses = op["responses"]
            errors = {code: r for code, r in responses.items()
                      if code == "default" or code[0] in "45"}
            with self.subTest(f"{method} {path}"):
                self.assertTrue(errors, "no problem responses")
                for code, r in errors.items():
                    media = r.get("content", {}).get("application/problem+json")
                    self.assertIsNotNone(media, f"{code} is not application/problem+json")
                    self.assertEqual(media["schema"], {"$ref": ref}, code)
        post = self.doc["paths"]["/api/v1/schools/{school}/noticeboard/notices"]["post"]
        self.assertLessEqual({"201", "400", "401", "403", "404", "413"},
                             set(post["responses"]))

    def test_operation_ids_are_unique(self):
        ids = [op["operationId"] for _, _, op in self.operations()]
        self.assertEqual(len(ids), len(set(ids)))

    def test_public_routes_need_no_token(self):
        for path in ("/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"):
            self.assertEqual(self.doc["paths"][path]["get"].get("security"), [], path)
        self.assertIn("bearer", self.doc["components"]["securitySchemes"])

    def test_document_validates(self):
        proc = validate_openapi(self.doc)
        self.assertEqual(proc.returncode, 0,
                         f"validate-openapi.mjs exited {proc.returncode}:\n"
                         f"{proc.stdout}{proc.stderr}")

    def test_validator_rejects_a_broken_document(self):
        # The validator must actually look: a document without info is not OpenAPI.
        broken = dict(self.doc)
        del broken["info"]
        proc = validate_openapi(broken)
        self.assertEqual(proc.returncode, 1, f"{proc.stdout}{proc.stderr}")


if __name__ == "__main__":
    harness.main()
