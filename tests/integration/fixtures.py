# SPDX-License-Identifier: Apache-2.0
"""fixtures.py - set-up helpers shared by the integration tests: operators, schools, users.

Every helper talks to a running `harness.Atriumd` the way a client would (over HTTP, or
through `atriumd operator create` for the one thing only the command line can do), and
raises AssertionError with the server's answer when a step does not succeed, so a broken
set-up fails the test with a readable message instead of a KeyError three lines later.

    import fixtures

    op = fixtures.make_operator(host)                      # -> operator token
    fixtures.make_school(host, op, "north", modules=["noticeboard"])
    fixtures.make_user(host, op, "north", "tina", roles=["teacher"])
    tina = fixtures.login(host, "tina", fixtures.PASSWORD, school="north")

`SharedHost` is a TestCase base for test classes that share one cluster and one host (and
an operator token) between their tests, which saves a server start per test.

`School` is the test school the module tests (groups, calendar, files, mail, conference) are
written against: a fresh school with modules enabled and the people of `PEOPLE` in it, signed
in, and request helpers for one module's routes. A test file subclasses it for its module:

    class CalendarSchool(fixtures.School):
        AREA = "calendar"                      # req() goes to /api/v1/schools/{slug}/calendar
        SLUG_PREFIX = "c"
        MODULES = ("groups", "calendar")

    s = CalendarSchool(host, op)              # s.ids["tina"], s.tokens["tina"], s.names[...]
    s.ok("tina", "POST", "/calendars", {...}, status=(201,))

Names are free to choose but must be unique within what one host sees. Keep this module
small and its signatures stable: several test files import it.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import threading
import uuid
from typing import Any, Sequence

import harness

__all__ = [
    "PASSWORD",
    "check",
    "make_operator",
    "login",
    "make_school",
    "enable_module",
    "make_user",
    "school_with_users",
    "PEOPLE",
    "School",
    "SharedHost",
]

#: The password every helper uses unless told otherwise (the minimum is 8 characters).
PASSWORD = "correct horse battery"


def check(resp: harness.Response, *statuses: int, what: str = "request") -> harness.Response:
    """Return resp if its status is one of `statuses`, else fail with its body."""
    if resp.status not in statuses:
        raise AssertionError(
            f"{what}: expected {' or '.join(map(str, statuses))}, got {resp.status} "
            f"{resp.body[:500]!r}"
        )
    return resp


def process_gone(pid: int) -> bool:
    """Whether process `pid` has ended: no such process, or killed and not yet reaped by its
    parent (a zombie, which runs nothing)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(") ", 1)[1].startswith("Z")
    except FileNotFoundError:
        return True


def make_operator(host: harness.Atriumd, name: str = "root",
                  password: str = PASSWORD) -> str:
    """Create (or reset) operator `name` with `atriumd operator create`, sign in, return
    the bearer token."""
    proc = host.run(["operator", "create", name], input=password + "\n")
    if proc.returncode != 0:
        raise AssertionError(
            f"atriumd operator create {name} exited {proc.returncode}:\n"
            f"{proc.stdout}{proc.stderr}"
        )
    return login(host, name, password)


def login(host: harness.Atriumd, username: str, password: str = PASSWORD,
          school: str | None = None) -> str:
    """POST /api/v1/auth/login and return the token; school=None signs in an operator."""
    body: dict[str, Any] = {"username": username, "password": password}
    if school is not None:
        body["school"] = school
    resp = check(host.request("POST", "/api/v1/auth/login", body), 200,
                 what=f"login {school or '(operator)'}/{username}")
    return resp.json()["token"]


_login = login  # for School.add_person, whose `login` parameter hides the function


def enable_module(host: harness.Atriumd, token: str, school: str, module: str) -> None:
    """PUT /api/v1/schools/{school}/modules/{module} (201 when newly enabled, 200 if it was)."""
    check(host.request("PUT", f"/api/v1/schools/{school}/modules/{module}", token=token),
          200, 201, what=f"enable {module} in {school}")


def at_once(n: int, call) -> list:
    """call() from n threads started together (an app's retries, a double click, two tabs);
    the results, in the order they were started."""
    results: list = [None] * n
    start = threading.Barrier(n)

    def run(i: int) -> None:
        start.wait()
        results[i] = call()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


ZERO_UUID = "00000000-0000-0000-0000-000000000000"


def counts_by_result(host: harness.Atriumd, name: str, results: Sequence[str],
                     missing: str) -> dict[str, float]:
    """The counters of family @name on @host's /metrics by their `result` label, which must be
    exactly @results (else AssertionError(@missing))."""
    text = host.request("GET", "/metrics").text
    found = dict(re.findall(rf'^{re.escape(name)}\{{result="(\w+)"\}} (\S+)$', text, re.M))
    if set(found) != set(results):
        raise AssertionError(missing)
    return {k: float(v) for k, v in found.items()}


def sample_body(schema: dict) -> Any:
    """A small instance that satisfies a (simple) request schema of the OpenAPI document:
    required members only, each the first of its enum, the nil UUID, or a short string."""
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "null")
    if "enum" in schema:
        return schema["enum"][0]
    if t == "object":
        props = schema.get("properties", {})
        return {k: sample_body(props.get(k, {})) for k in schema.get("required", [])}
    if t == "array":
        return []
    if t == "boolean":
        return False
    if t in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    if t == "string":
        if schema.get("format") == "uuid":
            return ZERO_UUID
        if schema.get("format") == "date-time":
            return "2026-03-02T08:00:00+01:00"
        return "x" * max(2, schema.get("minLength", 2))
    return None


def make_school(host: harness.Atriumd, op_token: str, slug: str, name: str | None = None,
                modules: Sequence[str] = ()) -> dict:
    """Create a school as an operator, enable `modules` in it, return the school object
    (id, slug, name, ...)."""
    resp = check(host.request("POST", "/api/v1/schools",
                              {"slug": slug, "name": name or f"School {slug}"}, token=op_token),
                 201, what=f"create school {slug}")
    for module in modules:
        enable_module(host, op_token, slug, module)
    return resp.json()


def make_user(host: harness.Atriumd, token: str, school: str, username: str,
              roles: Sequence[str] = ("teacher",), password: str | None = PASSWORD,
              display_name: str | None = None) -> dict:
    """Create a person in `school` (token: an operator's or a school admin's) and return the
    user object (id, username, roles, ...). password=None creates one who cannot sign in."""
    body: dict[str, Any] = {
        "username": username,
        "display_name": display_name or username.title(),
        "roles": list(roles),
    }
    if password is not None:
        body["password"] = password
    resp = check(host.request("POST", f"/api/v1/schools/{school}/users", body, token=token),
                 201, what=f"create user {school}/{username}")
    return resp.json()


def school_with_users(host: harness.Atriumd, op_token: str, slug: str,
                      users: dict[str, Sequence[str]],
                      modules: Sequence[str] = ()) -> dict[str, str]:
    """Create a school with `modules` and one user per {username: roles}; sign each in and
    return {username: token}."""
    make_school(host, op_token, slug, modules=modules)
    tokens = {}
    for username, roles in users.items():
        make_user(host, op_token, slug, username, roles=roles)
        tokens[username] = login(host, username, school=slug)
    return tokens


#: The people of every test school: {username: (roles, display name)}. One of each role, two
#: of the roles that tests pit against each other (two teachers, two students). A School
#: subclass that needs fewer lists their names in its PEOPLE.
PEOPLE: dict[str, tuple[list[str], str]] = {
    "ada": (["admin"], "Ada Admin"),
    "tina": (["teacher"], "Tina Teacher"),
    "tom": (["teacher"], "Tom Teacher"),
    "stan": (["staff"], "Stan Staff"),
    "sam": (["student"], "Sam Schüler"),
    "sue": (["student"], "Sue Student"),
    "pia": (["parent"], "Pia Parent"),
}

_schools = itertools.count(1)


class School:
    """A fresh school with MODULES enabled and the people of PEOPLE in it, each signed in.

    `ids`, `names` and `tokens` map a username to the person's id, display name and bearer
    token; `tokens["op"]` is the operator's. The slug is SLUG_PREFIX, a counter and a random
    suffix, so schools of one host never collide. Subclasses set AREA (the module's path under
    the school, which req() and ok() address) and add their module's helpers.
    """

    AREA = ""
    SLUG_PREFIX = "s"
    MODULES: Sequence[str] = ("groups",)
    PEOPLE: Sequence[str] = tuple(PEOPLE)  # usernames, from the module-level table

    def __init__(self, host: harness.Atriumd, op: str,
                 modules: Sequence[str] | None = None) -> None:
        self.host = host
        self.op = op
        self.slug = f"{self.SLUG_PREFIX}{next(_schools)}-{uuid.uuid4().hex[:6]}"
        self.id = make_school(host, op, self.slug,
                              modules=self.MODULES if modules is None else modules)["id"]
        self.ids: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.tokens: dict[str, str] = {"op": op}
        for name in self.PEOPLE:
            roles, display = PEOPLE[name]
            self.add_person(name, roles, display_name=display)

    def add_person(self, name: str, roles: Sequence[str], login: bool = True,
                   display_name: str | None = None) -> str:
        """Create a person (signed in unless login=False: then without a password); return
        the id."""
        user = make_user(self.host, self.op, self.slug, name, roles=roles,
                         password=PASSWORD if login else None, display_name=display_name)
        self.ids[name] = user["id"]
        self.names[name] = display_name or name.title()
        if login:
            self.tokens[name] = _login(self.host, name, school=self.slug)
        return user["id"]

    @property
    def base(self) -> str:
        """The path req() prefixes: /api/v1/schools/{slug}/{AREA}."""
        return f"/api/v1/schools/{self.slug}" + (f"/{self.AREA}" if self.AREA else "")

    def req(self, who: str | None, method: str, path: str, body: Any = None,
            headers: dict[str, str] | None = None) -> harness.Response:
        """A request as `who` (None: no token) to the module's routes, base + path."""
        return self.host.request(method, self.base + path, body, headers=headers,
                                 token=self.tokens[who] if who else None)

    def raw(self, who: str, method: str, path: str, body: Any = None) -> harness.Response:
        """A request as `who` to /api/v1/schools/{slug}<path> (another module's routes)."""
        return self.host.request(method, f"/api/v1/schools/{self.slug}{path}", body,
                                 token=self.tokens[who])

    def ok(self, who: str, method: str, path: str, body: Any = None,
           status: Sequence[int] = (200, 201, 204),
           headers: dict[str, str] | None = None) -> Any:
        """req() that must answer one of `status`; returns the parsed JSON body (None when
        empty)."""
        resp = check(self.req(who, method, path, body, headers), *status,
                     what=f"{who}: {method} {self.AREA}{path}")
        return resp.json() if resp.body else None

    def make_group(self, name: str, owner: str = "tina", members: Sequence[str] = (),
                   owners: Sequence[str] = (), **extra: Any) -> str:
        """Create a class through the groups routes as `owner`, add `members` and `owners`;
        return the group id."""
        resp = check(self.raw(owner, "POST", "/groups", {"name": name, "type": "class", **extra}),
                     201, what="create group")
        gid = resp.json()["id"]
        for m in members:
            self.add_member(gid, m, "member", who=owner)
        for m in owners:
            self.add_member(gid, m, "owner", who=owner)
        return gid

    def add_member(self, gid: str, user: str, role: str = "member", who: str = "tina") -> None:
        """PUT a person into a group with `role` (201 new, 200 changed)."""
        check(self.raw(who, "PUT", f"/groups/{gid}/members/{self.ids[user]}", {"role": role}),
              200, 201, what="add member")


class SharedHost(harness.TestCase):
    """A TestCase base whose tests share one PostgreSQL and one atriumd, started once per
    class, and an operator token (`cls.op_token`, operator "root").

    Set HOST_ENV in the subclass for extra atriumd environment (ATRIUM_MAX_BODY, ...). Tests
    that share a host must not depend on each other's data: use names of their own. When a
    test fails, the tail of the shared host's log is printed after it (the harness only
    prints logs of servers the test itself started).
    """

    HOST_ENV: dict[str, str] = {}
    # SQL run as the database's owner once PostgreSQL is up, before the host starts (settings
    # its connections must be opened with, such as ALTER DATABASE ... SET).
    PG_SQL: str = ""
    HOST_NOFILE: int | None = None  # `ulimit -n` for the shared host
    # Set to words that name your code in a stack (file or library names): the shared host is
    # then stopped with SIGTERM at the end and must exit cleanly; under the sanitizers a memory
    # error, undefined behaviour, or a leak whose report names one of these fails the class.
    # (Leaks wholly inside other libraries, such as the Kerberos data libpq leaves, do not.)
    EXIT_CHECK: Sequence[str] = ()
    pg: harness.PgCluster | None = None
    host: harness.Atriumd | None = None
    op_token: str | None = None

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        try:
            cls.pg = harness.migrated_cluster(name=f"pg-{cls.__name__.lower()}")
            cls.pg.start()
            if cls.PG_SQL:
                cls.pg.psql(cls.PG_SQL)
            cls.host = harness.Atriumd(cls.pg, env=cls.HOST_ENV, nofile=cls.HOST_NOFILE)
            cls.host.start()
            cls.op_token = make_operator(cls.host)
        except BaseException:
            if cls.host is not None:
                _print_log_tail(cls.host)
            cls._stop_shared()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        problem = cls._exit_problem() if cls.EXIT_CHECK else None
        cls._stop_shared()
        super().tearDownClass()
        if problem:
            raise AssertionError(problem)

    @classmethod
    def _exit_problem(cls) -> str | None:
        host = cls.host
        if host is None or host.proc is None or host.proc.poll() is not None:
            return None
        rc = host.stop(120)
        log = host.log_text()
        leak = log[log.find("LeakSanitizer"):] if "LeakSanitizer" in log else ""
        # Only the report's stack frames ("    #3 0x... in fn file.c:12") say whose a leak is;
        # log lines written after the report must not.
        frames = "\n".join(ln for ln in leak.splitlines() if re.match(r"\s+#\d+ ", ln))
        ours = any(k in frames for k in cls.EXIT_CHECK)
        hard = "ERROR: AddressSanitizer" in log or "runtime error:" in log
        if hard or ours or (rc != 0 and not leak):
            return f"atriumd exited with status {rc}:\n{_why_it_stopped(log)}"
        return None

    @classmethod
    def _stop_shared(cls) -> None:
        if cls.host is not None:
            cls.host.cleanup()
            cls.host = None
        if cls.pg is not None:
            cls.pg.cleanup()
            cls.pg = None

    def run(self, result: Any = None) -> Any:
        bad_before = len(result.failures) + len(result.errors) if result is not None else 0
        out = super().run(result)
        if (result is not None and self.host is not None
                and len(result.failures) + len(result.errors) > bad_before):
            _print_log_tail(self.host)
        return out


def _why_it_stopped(log: str, tail_lines: int = 30, report_lines: int = 120) -> str:
    """The part of a host's log that says why it failed, first: a sanitizer's report (ASan,
    LeakSanitizer, UBSan's "runtime error:") and any CRITICAL or ERROR line, then the last
    lines. CI views keep only the head or the tail of a long failure, and a tail of access-log
    lines has hidden an abort's cause before (CI of 2026-12-07, webdav_clients under ASan)."""
    lines = log.splitlines()
    start = next((i for i, ln in enumerate(lines)
                  if "Sanitizer" in ln or "runtime error:" in ln), None)
    report = lines[start:start + report_lines] if start is not None else []
    loud = [ln for ln in lines if re.search(r"\b(CRITICAL|ERROR|WARNING)\b|\*\*", ln)
            and ln not in report][-20:]
    parts = []
    if report:
        parts.append("--- the sanitizer's report ---\n" + "\n".join(report))
    if loud:
        parts.append("--- the log's errors and warnings ---\n" + "\n".join(loud))
    parts.append(f"--- the log's last {tail_lines} lines ---\n" + "\n".join(lines[-tail_lines:]))
    return "\n".join(parts)


def _print_log_tail(host: harness.Atriumd, lines: int = 60) -> None:
    tail = "\n".join(host.log_text().splitlines()[-lines:])
    state = "running"
    if host.proc is not None and host.proc.poll() is not None:
        state = f"exited with status {host.proc.returncode}"
    print(f"\n----- shared atriumd on port {host.port}, {state} (last {lines} lines) -----\n"
          f"{tail}\n-----", file=sys.stderr, flush=True)


class LockHolder:
    """A psql session that holds ACCESS EXCLUSIVE on a table until release()."""

    def __init__(self, pg: harness.PgCluster, table: str) -> None:
        self.proc = subprocess.Popen(
            [os.path.join(pg.bindir, "psql"), "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
             "-d", pg.url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.proc.stdin.write(f"BEGIN;\nLOCK TABLE {table} IN ACCESS EXCLUSIVE MODE;\n"
                              "SELECT 'locked';\n")
        self.proc.stdin.flush()
        line = self._readline(30)
        if line.strip() != "locked":
            self.kill()
            raise AssertionError(f"psql did not take the lock: {line!r}")

    def _readline(self, timeout: float) -> str:
        out = []
        t = threading.Thread(target=lambda: out.append(self.proc.stdout.readline()),
                             daemon=True)
        t.start()
        t.join(timeout)
        if not out:
            raise AssertionError(f"psql did not answer within {timeout:.0f} s")
        return out[0]

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("COMMIT;\n\\q\n")
            self.proc.stdin.flush()
            self.proc.stdin.close()
            self.proc.wait(30)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
