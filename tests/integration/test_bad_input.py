# SPDX-License-Identifier: Apache-2.0
"""test_bad_input.py - every route of the OpenAPI document, refusing what a client gets wrong.

A school with every module the host offers, its admin and an operator. For each operation the
document lists (so plugin routes added later are swept too): without a token a protected route
answers 401; a JSON body that does not parse, a body of the wrong JSON type, a member its schema
does not know, the wrong media type and a body over the host's limit each get their RFC 9457
problem (400, 400, 400, 415, 413) from a caller who may use the route; odd path values (not an
id, 600 characters, escapes, dots, NUL) are the caller's problem (4xx), never the host's (5xx);
and none of it changes anything stored, as the database's superuser sees every table. A student
and a parent calling everything meet 403s and 404s, never a 5xx; HEAD answers as GET without a
body; a method a path does not take is 405 with Allow; a declared query parameter of the wrong
kind is 400 naming it; the same write eight times at once never fails the host. The route families' own tests
have the failures only a handler can judge (unknown ids, conflicts, another school's ids:
test_isolation.py).
"""

import json
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402

SLUG = "sweep"
ZERO_UUID = fixtures.ZERO_UUID
MAX_BODY = 8192
METHODS = ("get", "post", "put", "patch", "delete")
# Path parameters that are names, not ids.
NAMED = {"school": SLUG, "module": "noticeboard", "role": "teacher"}
# Valid values for the members whose schema has a pattern or a minimum of items, which
# fixtures.sample_body cannot make up: the unknown member must be a body's only fault.
VALID = {"code": "123456", "domain": "school.example", "url": "https://bbb.example/",
         "redirect_uris": ["https://app.example/callback"]}


class EveryRoute(fixtures.SharedHost):
    HOST_ENV = {"ATRIUM_MAX_BODY": str(MAX_BODY)}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            modules = cls.host.request("GET", "/api/v1/modules").json()
            names = [m["name"] for m in (modules.get("items", modules)
                                         if isinstance(modules, dict) else modules)]
            fixtures.make_school(cls.host, cls.op_token, SLUG, modules=names)
            fixtures.make_user(cls.host, cls.op_token, SLUG, "ada", roles=["admin"])
            cls.admin = fixtures.login(cls.host, "ada", school=SLUG)
            cls.others = {}
            for role in ("student", "parent"):
                fixtures.make_user(cls.host, cls.op_token, SLUG, f"a-{role}", roles=[role])
                cls.others[role] = fixtures.login(cls.host, f"a-{role}", school=SLUG)
            cls.doc = cls.host.request("GET", "/api/v1/openapi.json").json()
        except BaseException:
            cls._stop_shared()
            raise

    # -- helpers -----------------------------------------------------------------------------

    def operations(self):
        """(METHOD, template, path, operation) for every operation of the document."""
        for template, ops in sorted(self.doc["paths"].items()):
            for method, op in sorted(ops.items()):
                if method not in METHODS:
                    continue
                path = template
                for param in re.findall(r"\{([^}]+)\}", template):
                    path = path.replace("{" + param + "}", NAMED.get(param, ZERO_UUID))
                # The query parameters a route requires, so that what is swept is the body.
                query = [(p["name"], fixtures.sample_body(p.get("schema", {})))
                         for p in op.get("parameters", [])
                         if p.get("in") == "query" and p.get("required")]
                if query:
                    path += "?" + urllib.parse.urlencode(query)
                yield method.upper(), template, path, op

    def json_operations(self):
        """The operations that take a JSON body: (METHOD, template, path, its schema)."""
        for method, template, path, op in self.operations():
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                yield method, template, path, content["application/json"].get("schema", {})

    def token_for(self, template: str) -> str:
        """A caller who may use the route: the school's admin under the school, else the
        operator."""
        return self.admin if template.startswith("/api/v1/schools/{school}") else self.op_token

    def stored(self) -> dict:
        """Every row of every table outside PostgreSQL's own schemas, as text, but for the
        sessions' last use (the identity check notes it)."""
        tables = self.pg.psql(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1").split()
        parts = []
        for table in tables:
            row = "t::text"
            if table == "core.sessions":
                row = "(t.id, t.token_hash, t.expires_at)::text"
            parts.append(f"SELECT '{table}', md5(coalesce(string_agg({row}, ',' ORDER BY "
                         f"{row}), '')) || ' ' || count(*) FROM {table} t")
        lines = self.pg.psql(" UNION ALL ".join(parts)).splitlines()
        return dict(line.split("|", 1) for line in lines if line)

    def sweep(self, name: str, send) -> int:
        """Calls send(method, template, path, schema) for every JSON operation, each in a
        subTest, and checks that nothing stored changed; returns how many it swept."""
        before = self.stored()
        count = 0
        for method, template, path, schema in self.json_operations():
            with self.subTest(name, method=method, path=template):
                count += 1
                send(method, template, path, schema)
        after = self.stored()
        changed = [t for t in before if before[t] != after.get(t)]
        self.assertEqual(changed, [], f"{name} changed what is stored")
        return count

    # -- the sweeps --------------------------------------------------------------------------

    def test_protected_routes_answer_401_without_a_token(self):
        before = self.stored()
        protected = 0
        for method, template, path, op in self.operations():
            if op.get("security", self.doc.get("security")) == []:
                continue
            protected += 1
            with self.subTest(method=method, path=template):
                body = {} if method in ("POST", "PUT", "PATCH") else None
                resp = self.host.request(method, path, body)
                harness.assert_problem(resp, 401, "/unauthenticated")
                self.assertIn("Bearer", resp.headers.get("www-authenticate", ""))
        self.assertGreater(protected, 100)
        self.assertEqual(self.stored(), before)

    def test_a_body_that_is_not_json_is_400(self):
        def send(method, template, path, schema):
            for raw in (b'{"name": ', b"\xff\xfe{}", b"{} {}", b"nul", b"{'a': 1}"):
                resp = self.host.request(method, path, raw, token=self.token_for(template),
                                         headers={"Content-Type": "application/json"})
                harness.assert_problem(resp, 400)
        self.assertGreater(self.sweep("not JSON", send), 40)

    def test_a_body_of_the_wrong_type_is_400(self):
        def send(method, template, path, schema):
            wrong = {"object": ["a list"], "array": {"an": "object"}}.get(schema.get("type"))
            self.assertIsNotNone(wrong, f"a body schema of type {schema.get('type')!r}")
            for body in (wrong, "a string", 42, None):
                resp = self.host.request(method, path, json.dumps(body).encode(),
                                         token=self.token_for(template),
                                         headers={"Content-Type": "application/json"})
                problem = harness.assert_problem(resp, 400)
                self.assertTrue(problem.get("detail"), problem)
        self.sweep("wrong type", send)

    def test_members_the_schema_does_not_know_are_400(self):
        closed = 0

        def send(method, template, path, schema):
            nonlocal closed
            if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
                return
            closed += 1
            body = fixtures.sample_body(schema)
            body.update({k: v for k, v in VALID.items() if k in body})
            body["no_such_member_zz"] = 1
            resp = self.host.request(method, path, body, token=self.token_for(template))
            problem = harness.assert_problem(resp, 400)
            self.assertIn("no_such_member_zz", problem.get("detail", ""), problem)
        self.sweep("unknown member", send)
        self.assertGreater(closed, 40)

    def test_a_json_route_refuses_other_media_types_with_415(self):
        def send(method, template, path, schema):
            for ctype in ("text/plain", "application/x-www-form-urlencoded"):
                resp = self.host.request(method, path, b"{}", token=self.token_for(template),
                                         headers={"Content-Type": ctype})
                harness.assert_problem(resp, 415)
        self.sweep("media type", send)

    def test_odd_path_values_are_refused_not_failed(self):
        # Each path parameter in turn given what a hand-typed or hostile URL holds: not an id,
        # too long, escapes, dots, a NUL, another script. The answer is the caller's problem
        # (4xx, RFC 9457), never the host's (5xx), and nothing changes.
        odd = ["not-an-id", "x" * 600, "%00", "%2e%2e", "..", "%25", "%C3%BC%E2%82%AC",
               "12345678-1234-1234-1234-12345678901z", "-1", "%20"]
        before = self.stored()
        swept = 0
        for method, template, path, op in self.operations():
            params = re.findall(r"\{([^}]+)\}", template)
            if not params or method == "DELETE" and template.endswith("/me"):
                continue
            content = op.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            body = fixtures.sample_body(schema) if schema else None
            for param in params:
                # A file's path takes any name: PUT and POST there make what they name.
                if param == "school" or param == "path" and method in ("PUT", "POST"):
                    continue
                for value in odd:
                    swept += 1
                    odd_path = template
                    for other in params:
                        odd_path = odd_path.replace(
                            "{" + other + "}",
                            value if other == param else NAMED.get(other, ZERO_UUID))
                    if "?" in path:
                        odd_path += path[path.index("?"):]
                    with self.subTest(method=method, path=template, param=param, value=value):
                        resp = self.host.request(method, odd_path, body,
                                                 token=self.token_for(template))
                        self.assertLess(resp.status, 500, resp)
                        if resp.status >= 400:
                            harness.assert_problem(resp, resp.status)
        self.assertGreater(swept, 500)
        after = self.stored()
        self.assertEqual([t for t in before if before[t] != after.get(t)], [],
                         "odd path values changed what is stored")
        self.assertEqual(self.host.request("GET", "/healthz").status, 200)

    def test_the_least_privileged_never_fail_the_host(self):
        # A student and a parent call every operation with a body its schema accepts: what
        # they may not do is 403 (or 404 where the object is not theirs to know of), what
        # they may do answers; nothing is the host's failure.
        for role, token in self.others.items():
            for method, template, path, op in self.operations():
                if template.startswith(("/oidc/", "/api/v1/auth/", "/api/v1/me")):
                    # The OpenID forms, and what acts on the caller's own session and account
                    # (signing out ends the token this sweep uses), have tests of their own.
                    continue
                content = op.get("requestBody", {}).get("content", {})
                schema = content.get("application/json", {}).get("schema")
                body = fixtures.sample_body(schema) if schema else None
                with self.subTest(role=role, method=method, path=template):
                    resp = self.host.request(method, path, body, token=token)
                    self.assertLess(resp.status, 500, resp)
                    if resp.status >= 400:
                        harness.assert_problem(resp, resp.status)
                    if op.get("security", self.doc.get("security")) != []:
                        self.assertNotEqual(resp.status, 401, resp)  # the token stays good
        self.assertEqual(self.host.request("GET", "/healthz").status, 200)

    def test_head_answers_as_get_without_a_body(self):
        heads = 0
        for method, template, path, op in self.operations():
            if method != "GET":
                continue
            heads += 1
            with self.subTest(path=template):
                get = self.host.request("GET", path, token=self.token_for(template))
                head = self.host.request("HEAD", path, token=self.token_for(template))
                self.assertEqual(head.status, get.status, (head, get))
                self.assertEqual(head.body, b"")
                self.assertEqual(head.headers.get("content-type"),
                                 get.headers.get("content-type"))
        self.assertGreater(heads, 60)

    def test_a_method_a_path_does_not_take_is_405_with_allow(self):
        def pattern(template: str) -> re.Pattern:
            out = re.sub(r"\\\{[^}]+\\\*\\\}", ".+", re.escape(template))
            return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", out) + "$")
        routes = [(m, pattern(t)) for m, t, _, _ in self.operations()]
        for template, ops in sorted(self.doc["paths"].items()):
            taken = {m.upper() for m in ops if m in METHODS}
            path = next(p for m, t, p, _ in self.operations() if t == template)
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                # Another template may take the method on this very path ("import" is also
                # a possible {id}).
                if method in taken or any(m == method and r.match(path.split("?")[0])
                                          for m, r in routes):
                    continue
                with self.subTest(method=method, path=template):
                    resp = self.host.request(method, path, {} if method != "GET" else None,
                                             token=self.token_for(template))
                    harness.assert_problem(resp, 405, "/method-not-allowed")
                    allow = {m.strip() for m in resp.headers.get("allow", "").split(",")}
                    self.assertTrue(taken <= allow, (taken, allow))

    def test_query_parameters_of_the_wrong_kind_are_400_naming_them(self):
        # Every declared query parameter that is not free text, given a value of the wrong
        # kind: 400 whose detail names it (as "?name"), before anything reads it.
        def wrong(schema: dict) -> list[str]:
            if schema.get("type") == "integer":
                out = ["ten", "1.5"]
                if "minimum" in schema:
                    out.append(str(schema["minimum"] - 1))
                if "maximum" in schema:
                    out.append(str(schema["maximum"] + 1))
                return out
            if schema.get("type") == "boolean":
                return ["maybe"]
            if "enum" in schema:
                return ["no-such-value"]
            if schema.get("format") in ("date-time", "uuid"):
                return ["yesterday"]
            return []
        before = self.stored()
        swept = 0
        for method, template, path, op in self.operations():
            base = path.split("?")[0]
            required = [(p["name"], fixtures.sample_body(p.get("schema", {})))
                        for p in op.get("parameters", [])
                        if p.get("in") == "query" and p.get("required")]
            for param in op.get("parameters", []):
                if param.get("in") != "query":
                    continue
                for value in wrong(param.get("schema", {})):
                    swept += 1
                    query = [(n, v) for n, v in required if n != param["name"]]
                    query.append((param["name"], value))
                    with self.subTest(method=method, path=template, param=param["name"],
                                      value=value):
                        resp = self.host.request(
                            method, base + "?" + urllib.parse.urlencode(query), None,
                            token=self.token_for(template))
                        problem = harness.assert_problem(resp, 400)
                        self.assertRegex(problem.get("detail", ""),
                                         rf"^\??{re.escape(param['name'])}\b", problem)
        self.assertGreater(swept, 40)
        after = self.stored()
        self.assertEqual([t for t in before if before[t] != after.get(t)], [])

    def test_the_same_write_eight_times_at_once_never_fails_the_host(self):
        # An app that retries, a double click, two tabs: the same write arrives several times
        # at once. Each answer is a success or the caller's problem (a 409 for the duplicate),
        # never a 5xx from a unique violation or a deadlock between them.
        writes = 0
        for method, template, path, op in self.operations():
            if method not in ("POST", "PUT", "PATCH", "DELETE") or template.startswith(
                    ("/oidc/", "/api/v1/auth/", "/api/v1/me")):
                continue
            content = op.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            body = fixtures.sample_body(schema) if schema else None
            if isinstance(body, dict):
                body.update({k: v for k, v in VALID.items() if k in body})
            answers = fixtures.at_once(8, lambda: self.host.request(
                method, path, body, token=self.token_for(template)))
            writes += 1
            with self.subTest(method=method, path=template):
                for resp in answers:
                    self.assertLess(resp.status, 500, resp)
        self.assertGreater(writes, 60)
        self.assertEqual(self.host.request("GET", "/healthz").status, 200)

    def test_a_body_over_the_limit_is_413(self):
        def send(method, template, path, schema):
            big = b'{"x": "' + b"a" * MAX_BODY + b'"}'
            resp = self.host.request(method, path, big, token=self.token_for(template),
                                     headers={"Content-Type": "application/json"})
            harness.assert_problem(resp, 413)
        self.sweep("too large", send)


if __name__ == "__main__":
    harness.main()
