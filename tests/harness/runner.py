# SPDX-License-Identifier: Apache-2.0
"""harness/runner.py - the assertions (assert_problem, TestCase) and main(), the runner every
test file ends with, which prints the logs of the servers a failing test started.
"""

from __future__ import annotations

import sys
import time
import unittest
from typing import Any, Sequence

from .common import _live_lock, _started
from . import host as _host
from .host import Atriumd, Response

# ------------------------------------------------------------------------------------------
# Assertions and the runner
# ------------------------------------------------------------------------------------------


def assert_problem(resp: Response, status: int, type_suffix: str | None = None) -> dict:
    """Check that resp is an RFC 9457 problem with this status; return the parsed body."""
    where = f"{resp.status} {resp.headers.get('content-type')!r} {resp.body[:500]!r}"
    if resp.status != status:
        raise AssertionError(f"expected status {status}, got {where}")
    if resp.content_type != "application/problem+json":
        raise AssertionError(f"expected Content-Type application/problem+json, got {where}")
    problem = resp.json()
    if not isinstance(problem, dict):
        raise AssertionError(f"problem body is not a JSON object: {where}")
    for field in ("type", "title", "status"):
        if field not in problem:
            raise AssertionError(f"problem lacks {field!r}: {where}")
    if not isinstance(problem["type"], str) or not isinstance(problem["title"], str):
        raise AssertionError(f"problem type and title must be strings: {where}")
    if problem["status"] != status or isinstance(problem["status"], bool):
        raise AssertionError(f"problem status {problem['status']!r} != HTTP status {status}")
    if type_suffix is not None and not problem["type"].endswith(type_suffix):
        raise AssertionError(f"problem type {problem['type']!r} does not end in {type_suffix!r}")
    return problem


class TestCase(unittest.TestCase):
    """unittest.TestCase with the harness assertions as methods."""

    maxDiff = None

    def assertProblem(self, resp: Response, status: int, type_suffix: str | None = None) -> dict:
        return assert_problem(resp, status, type_suffix)


def _dump_logs(objs: Sequence[Any]) -> None:
    """Show what the servers said; meson prints it with --print-errorlogs."""
    for obj in objs:
        if isinstance(obj, Atriumd):
            text = getattr(obj, "_final_log", None) or obj.log_text()
            label = f"atriumd on port {obj.port}"
        else:
            text = getattr(obj, "_final_log", None) or obj.log_text()
            label = f"PostgreSQL {obj.name} on port {obj.port}"
        if text.strip():
            tail = "\n".join(text.splitlines()[-60:])
            print(f"\n----- {label} (last 60 lines) -----\n{tail}\n-----", file=sys.stderr)
    sys.stderr.flush()


class _Result(unittest.TextTestResult):
    """Prints, right after a failing test, the logs of the servers that test started."""

    _mark = 0
    _t0 = 0.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.durations: list[tuple[float, str]] = []

    def startTest(self, test: unittest.TestCase) -> None:
        with _live_lock:
            self._mark = len(_started)
        self._t0 = time.monotonic()
        super().startTest(test)

    def stopTest(self, test: unittest.TestCase) -> None:
        self.durations.append((time.monotonic() - self._t0, test.id()))
        super().stopTest(test)

    def _show_logs(self) -> None:
        with _live_lock:
            objs = _started[self._mark:]
            # A failing setUpClass has no startTest; the next test starts counting afresh.
            self._mark = len(_started)
        _dump_logs(objs)

    def addError(self, test: Any, err: Any) -> None:
        super().addError(test, err)
        self._show_logs()

    def addFailure(self, test: Any, err: Any) -> None:
        super().addFailure(test, err)
        self._show_logs()


def main() -> None:
    """Run the calling module's tests; exit 0 only if every test passed.

    A run with no test at all fails as well: a module that lost its tests should not pass.
    """
    runner = unittest.TextTestRunner(verbosity=2, resultclass=_Result)
    prog = unittest.main(module="__main__", testRunner=runner, exit=False)
    result = prog.result
    # Where the file's time went (set-up of classes not included): the suite must stay fast.
    slowest = sorted(getattr(result, "durations", []), reverse=True)[:5]
    for seconds, name in slowest:
        print(f"harness: {seconds:6.1f} s {name}")
    ok = result.wasSuccessful() and result.testsRun > 0
    if _host.contract_breaches:
        # A route read a query parameter it does not declare, or answered a body its
        # response_schema does not describe (tests/harness/host.py).
        print("harness: a host said a route breaks what OpenAPI says of it:\n  "
              + "\n  ".join(_host.contract_breaches), file=sys.stderr)
        ok = False
    if result.testsRun == 0:
        print("harness: no test ran", file=sys.stderr)
    sys.stdout.flush()
    sys.exit(0 if ok else 1)
