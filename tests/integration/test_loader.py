# SPDX-License-Identifier: Apache-2.0
"""test_loader.py - the plugin loader as an operator meets it: a real atriumd over HTTP.

Each case of tests/fixtures (one folder per case, $ATRIUM_FIXTURES_DIR) is served together
with the `healthy` fixture. For every refused plugin GET /api/v1/modules must say "failed"
with a message naming the reason (both ABI versions where versions are the reason), the log
must carry exactly one line for the refusal, the healthy plugin must keep serving its route,
and `--strict` must turn the same folder into a clean exit 1. `atriumd check-plugin` must
reject each broken file on stderr and describe a good one. The plugins built against the
frozen 1.0, 1.1 and 1.2 headers must load and answer, and the 1.2 one's command must run
(tests/abi/ checks the rest of the ABI).

One PostgreSQL cluster serves the whole file; every host runs against it in turn.
"""

import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import harness  # noqa: E402

BUILD_DIR = os.environ.get("ATRIUM_BUILD_DIR") or os.path.join(harness.SOURCE_DIR, "build")
FIXTURES = os.environ.get("ATRIUM_FIXTURES_DIR") or os.path.join(BUILD_DIR, "tests", "fixtures")
PLUGIN_DIR = os.environ.get("ATRIUM_PLUGIN_DIR") or os.path.join(BUILD_DIR, "plugins")

# The descriptor of ABI 1.0: a 16-byte header, then six pointers and four function pointers.
POINTER = struct.calcsize("P")
DESCRIPTOR_SIZE_1_0 = 16 + 10 * POINTER


def atriumd() -> str:
    return os.environ.get("ATRIUM_BIN") or os.path.join(BUILD_DIR, "core", "atriumd")


def host_abi() -> tuple[int, int]:
    """(major, minor) of the host under test, from `atriumd --version`."""
    out = subprocess.run([atriumd(), "--version"], capture_output=True, text=True, check=True)
    m = re.search(r"plugin ABI (\d+)\.(\d+)", out.stdout)
    if not m:
        raise AssertionError(f"atriumd --version names no plugin ABI: {out.stdout!r}")
    return int(m.group(1)), int(m.group(2))


MAJOR, MINOR = host_abi()
HOST = f"host is {MAJOR}.{MINOR}"

# Cases refused at the gate, before any dependency is looked at: folder, file, and what the
# refusal must say.
GATE_CASES = {
    "wrong-magic": ("wrong_magic.so", ["wrong magic 0x0badc0de", "expected 0x41545231"]),
    "abi-major": ("abi_major.so", [f"built for ABI {MAJOR + 1}.0, {HOST}"]),
    "newer-minor": ("newer_minor.so", [f"built for ABI {MAJOR}.{MINOR + 1}, {HOST}"]),
    "too-small": ("too_small.so", [
        f"descriptor is {DESCRIPTOR_SIZE_1_0 - POINTER} bytes",
        f"smaller than any released ABI ({DESCRIPTOR_SIZE_1_0})",
    ]),
    "no-symbol": ("no_symbol.so", ["no atrium_plugin_descriptor() exported"]),
}


def fixture(case: str, file: str) -> str:
    path = os.path.join(FIXTURES, case, file)
    if not os.path.exists(path):
        raise harness.HarnessError(
            f"fixture {path} not built (ATRIUM_FIXTURES_DIR={FIXTURES}; build tests/fixtures)")
    return path


def check_plugin(path: str) -> subprocess.CompletedProcess:
    """`atriumd check-plugin PATH`: needs no database, so none is configured."""
    env = dict(os.environ)
    env.pop("ATRIUM_DATABASE_URL", None)
    return subprocess.run([atriumd(), "check-plugin", path], capture_output=True, text=True,
                          env=env, timeout=60, stdin=subprocess.DEVNULL)


class LoaderTest(harness.TestCase):
    pg: harness.PgCluster

    @classmethod
    def setUpClass(cls):
        cls.pg = harness.PgCluster(name="loader")
        cls.pg.start()

    @classmethod
    def tearDownClass(cls):
        cls.pg.cleanup()

    # -- helpers ---------------------------------------------------------------------------

    def plugin_dir(self, *cases: str, healthy: bool = True) -> str:
        """A fresh folder with symlinks to every .so of the given fixture folders, plus the
        healthy fixture unless told otherwise."""
        d = tempfile.mkdtemp(prefix="atrium-plugins-")
        self.addCleanup(shutil.rmtree, d, True)
        for case in cases + (("healthy",) if healthy else ()):
            src = os.path.join(FIXTURES, case)
            names = sorted(n for n in os.listdir(src) if n.endswith(".so")) \
                if os.path.isdir(src) else []
            if not names:
                raise harness.HarnessError(f"no fixture plugins in {src}; build tests/fixtures")
            for n in names:
                os.symlink(os.path.join(src, n), os.path.join(d, n))
        return d

    def modules(self, host: harness.Atriumd) -> dict:
        """GET /api/v1/modules as {file: entry}; every plugin must be listed exactly once."""
        resp = host.request("GET", "/api/v1/modules")
        self.assertEqual(resp.status, 200, resp)
        body = resp.json()
        self.assertEqual(body.get("abi_version"), f"{MAJOR}.{MINOR}")
        files = [m["file"] for m in body["items"]]
        self.assertEqual(len(files), len(set(files)),
                         f"a plugin is listed more than once: {files}")
        return {m["file"]: m for m in body["items"]}

    def assert_loaded(self, modules: dict, file: str) -> dict:
        self.assertIn(file, modules)
        m = modules[file]
        self.assertEqual((m["state"], m["error"]), ("loaded", None), m)
        return m

    def assert_failed(self, modules: dict, file: str, *reasons: str) -> dict:
        self.assertIn(file, modules)
        m = modules[file]
        self.assertEqual(m["state"], "failed", m)
        self.assertIsInstance(m["error"], str, m)
        for reason in reasons:
            self.assertIn(reason, m["error"], m)
        return m

    def assert_ping(self, host: harness.Atriumd, plugin: str, version: str = "1.0.0") -> dict:
        resp = host.request("GET", f"/api/v1/{plugin}/ping")
        self.assertEqual(resp.status, 200, resp)
        body = resp.json()
        self.assertEqual((body["plugin"], body["version"]), (plugin, version), body)
        return body

    def assert_no_route(self, host: harness.Atriumd, plugin: str) -> None:
        self.assertProblem(host.request("GET", f"/api/v1/{plugin}/ping"), 404)

    def assert_refusals_logged(self, host: harness.Atriumd, modules: dict) -> None:
        """One log line per refused plugin, carrying its reason; no other refusal lines."""
        lines = [ln for ln in host.log_text().splitlines() if " refused: " in ln]
        failed = [m for m in modules.values() if m["state"] == "failed"]
        for m in failed:
            # Two plugins may be refused in the same words ("dependency x was refused").
            same = sum(1 for f in failed if f["error"] == m["error"])
            mine = [ln for ln in lines if f"refused: {m['error']}" in ln]
            self.assertEqual(len(mine), same,
                             f"{m['file']}: expected one log line for the refusal, got {mine}")
        self.assertEqual(len(lines), len(failed), "\n".join(lines))

    def stop_cleanly(self, host: harness.Atriumd) -> None:
        """Refused plugins must not disturb the shutdown either."""
        self.assertEqual(host.stop(), 0, host.log_text()[-4000:])

    def assert_strict_refuses(self, plugin_dir: str) -> None:
        """`atriumd --strict serve` on the folder exits 1 (not a crash) before serving."""
        host = harness.Atriumd(self.pg, args=["--strict"], plugin_dir=plugin_dir)
        try:
            proc = host.run(["serve"], timeout=30)
        finally:
            host.cleanup()
        self.assertEqual(proc.returncode, 1, f"--strict serve: {proc.stdout}{proc.stderr}")
        self.assertIn("--strict", proc.stderr)

    def serve_case(self, *cases: str) -> tuple[harness.Atriumd, dict]:
        """Start a host on the cases' plugins plus healthy; return it with its modules."""
        host = harness.Atriumd(self.pg, plugin_dir=self.plugin_dir(*cases))
        host.start()
        self.addCleanup(host.cleanup)
        modules = self.modules(host)
        # The bystander keeps serving whatever else is refused.
        self.assert_loaded(modules, "healthy.so")
        self.assert_ping(host, "healthy")
        self.assert_refusals_logged(host, modules)
        return host, modules

    # -- refused at the gate ---------------------------------------------------------------

    def check_gate_case(self, case: str) -> None:
        file, reasons = GATE_CASES[case]
        host, modules = self.serve_case(case)
        m = self.assert_failed(modules, file, *reasons)
        self.assertEqual(len(modules), 2, modules)
        # Nothing of the plugin was believed: no version, no route.
        self.assertNotIn("version", m)
        self.stop_cleanly(host)
        self.assert_strict_refuses(self.plugin_dir(case))

        proc = check_plugin(fixture(case, file))
        self.assertEqual(proc.returncode, 1, proc)
        self.assertIn("unusable", proc.stderr)
        for reason in reasons:
            self.assertIn(reason, proc.stderr)
        self.assertEqual(proc.stdout, "", "a refused plugin's descriptor must not be printed")

    def test_wrong_magic(self):
        self.check_gate_case("wrong-magic")

    def test_abi_major(self):
        self.check_gate_case("abi-major")

    def test_newer_minor(self):
        self.check_gate_case("newer-minor")

    def test_too_small(self):
        self.check_gate_case("too-small")

    def test_no_symbol(self):
        self.check_gate_case("no-symbol")

    def test_not_a_shared_object(self):
        # A file that dlopen() cannot load at all is refused the same way, not fatal.
        d = self.plugin_dir()
        with open(os.path.join(d, "garbage.so"), "w", encoding="ascii") as f:
            f.write("not an ELF file\n")
        with harness.Atriumd(self.pg, plugin_dir=d) as host:
            modules = self.modules(host)
            self.assert_failed(modules, "garbage.so", "cannot load")
            self.assert_ping(host, "healthy")
            self.assert_refusals_logged(host, modules)
            self.stop_cleanly(host)
        proc = check_plugin(os.path.join(d, "garbage.so"))
        self.assertEqual(proc.returncode, 1, proc)
        self.assertIn("cannot load", proc.stderr)

    # -- refused for its dependencies ------------------------------------------------------

    def test_missing_dependency(self):
        host, modules = self.serve_case("missing-dep")
        m = self.assert_failed(modules, "missing_dep.so", "missing dependency nonexistent")
        self.assertEqual(m["dependencies"], [{"name": "nonexistent", "min_version": None}])
        self.assert_no_route(host, "missing_dep")
        self.stop_cleanly(host)
        self.assert_strict_refuses(self.plugin_dir("missing-dep"))
        # Alone, the file is a valid plugin: check-plugin cannot know the folder.
        proc = check_plugin(fixture("missing-dep", "missing_dep.so"))
        self.assertEqual(proc.returncode, 0, proc)
        self.assertRegex(proc.stdout, r"(?m)^dependencies: nonexistent$")

    def test_dependency_too_old(self):
        host, modules = self.serve_case("old-dep")
        self.assert_loaded(modules, "base.so")
        self.assert_ping(host, "base")
        self.assert_failed(modules, "needy.so", "needs base >= 2.0.0, found 1.0.0")
        self.assert_no_route(host, "needy")
        self.stop_cleanly(host)
        self.assert_strict_refuses(self.plugin_dir("old-dep"))
        proc = check_plugin(fixture("old-dep", "needy.so"))
        self.assertEqual(proc.returncode, 0, proc)
        self.assertRegex(proc.stdout, r"(?m)^dependencies: base>=2\.0\.0$")

    def test_dependency_cycle(self):
        host, modules = self.serve_case("cycle")
        a = self.assert_failed(modules, "cycle_a.so")
        b = self.assert_failed(modules, "cycle_b.so")
        # Between them the refusals must say it is a cycle, and one must name the other.
        self.assertIn("cycle", a["error"] + " " + b["error"])
        self.assertTrue("cycle_b" in a["error"] or "cycle_a" in b["error"], (a, b))
        self.assert_no_route(host, "cycle_a")
        self.assert_no_route(host, "cycle_b")
        self.assert_loaded(modules, "ok.so")
        self.assert_ping(host, "ok")
        self.assertEqual(len(modules), 4, modules)
        self.stop_cleanly(host)
        self.assert_strict_refuses(self.plugin_dir("cycle"))

    def test_two_cycles_through_one_plugin(self):
        # twice_a sits on two cycles; it is still one refusal, logged once.
        host, modules = self.serve_case("cycle-twice")
        self.assert_failed(modules, "twice_a.so", "cycle")
        self.assert_failed(modules, "twice_b.so", "twice_a")
        self.assert_failed(modules, "twice_c.so", "twice_a")
        self.assertEqual(len(modules), 4, modules)
        self.stop_cleanly(host)
        self.assert_strict_refuses(self.plugin_dir("cycle-twice"))

    def test_duplicate_name(self):
        host, modules = self.serve_case("duplicate")
        first = self.assert_loaded(modules, "twin_1.so")
        self.assertEqual((first["name"], first["version"]), ("twin", "1.0.0"))
        self.assert_failed(modules, "twin_2.so", "duplicate plugin name twin", "twin_1.so")
        # The first one in file-name order serves.
        self.assert_ping(host, "twin", "1.0.0")
        self.stop_cleanly(host)
        self.assert_strict_refuses(self.plugin_dir("duplicate"))

    # -- refused in init -------------------------------------------------------------------

    def assert_init_fails_left_nothing(self, host: harness.Atriumd) -> None:
        self.assert_no_route(host, "init_fails")
        openapi = host.request("GET", "/api/v1/openapi.json")
        self.assertEqual(openapi.status, 200, openapi)
        self.assertFalse([p for p in openapi.json().get("paths", {}) if "init_fails" in p],
                         "the failed plugin's route is still in the OpenAPI document")
        # Its migration neither ran nor was recorded.
        self.assertEqual(
            self.pg.psql("SELECT count(*) FROM core.migrations WHERE owner = 'init_fails'"),
            "0\n")
        self.assertEqual(
            self.pg.psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'init_fails'"),
            "0\n")
        self.assertEqual(self.pg.psql("SELECT to_regclass('init_fails_marker') IS NULL"), "t\n")

    def test_init_fails(self):
        host, modules = self.serve_case("init-fails")
        self.assert_failed(modules, "init_fails.so", "init failed: deliberate failure")
        self.assert_init_fails_left_nothing(host)
        self.stop_cleanly(host)
        self.assert_strict_refuses(self.plugin_dir("init-fails"))

    def test_dependent_of_failed_plugin(self):
        host, modules = self.serve_case("dependent-of-failed")
        self.assert_failed(modules, "init_fails.so", "init failed: deliberate failure")
        self.assert_failed(modules, "dependent.so", "dependency init_fails was refused")
        self.assert_no_route(host, "dependent")
        self.assert_init_fails_left_nothing(host)
        self.stop_cleanly(host)
        self.assert_strict_refuses(self.plugin_dir("dependent-of-failed"))

    # -- plugins that must load ------------------------------------------------------------

    def test_old_descriptor_loads_and_serves(self):
        # Built against the frozen 1.0 headers (tests/abi/1.0): a plugin released before this
        # host must keep working, under --strict too.
        d = self.plugin_dir("old-descriptor")
        with harness.Atriumd(self.pg, plugin_dir=d, args=["--strict"]) as host:
            modules = self.modules(host)
            m = self.assert_loaded(modules, "old_descriptor.so")
            self.assertEqual((m["name"], m["version"], m["abi_version"]),
                             ("old_descriptor", "1.0.0", f"{MAJOR}.0"))
            self.assertEqual([p["name"] for p in m["permissions"]], ["old_descriptor.read"])
            self.assertEqual(modules["healthy.so"]["abi_version"], f"{MAJOR}.{MINOR}")
            ping = self.assert_ping(host, "old_descriptor")
            self.assertEqual(ping["built_for_abi"], f"{MAJOR}.0")
            self.assertEqual(ping["host_abi_minor"], MINOR)
            # The host's table is at least as big as the plugin knows it; a newer host's is
            # bigger, and the 1.0 plugin simply does not look past its own end.
            self.assertGreaterEqual(ping["host_table_size"], ping["known_table_size"])
            self.assertEqual([ln for ln in host.log_text().splitlines() if "refused" in ln], [])
            self.stop_cleanly(host)
        proc = check_plugin(fixture("old-descriptor", "old_descriptor.so"))
        self.assertEqual(proc.returncode, 0, proc)
        self.assertRegex(proc.stdout, rf"(?m)^abi: +{MAJOR}\.0 \(host {MAJOR}\.{MINOR}\)$")

    def test_frozen_minors_load_and_serve(self):
        # tests/fixtures/frozen-minor.c built against the frozen 1.1 to 1.4 headers: plugins
        # released while those minors were current keep working, under --strict too.
        for minor in (1, 2, 3, 4):
            with self.subTest(minor=minor):
                name = f"frozen_1_{minor}"
                d = self.plugin_dir(f"frozen-1.{minor}")
                with harness.Atriumd(self.pg, plugin_dir=d, args=["--strict"]) as host:
                    modules = self.modules(host)
                    m = self.assert_loaded(modules, f"{name}.so")
                    self.assertEqual((m["name"], m["version"], m["abi_version"]),
                                     (name, "1.0.0", f"1.{minor}"))
                    ping = self.assert_ping(host, name)
                    self.assertEqual(ping["built_for_abi"], f"1.{minor}")
                    self.assertEqual(ping["host_abi_minor"], MINOR)
                    self.assertGreaterEqual(ping["host_table_size"], ping["known_table_size"])
                    # The 1.2 slot (add_command) is used only by the build whose headers
                    # have it; ATRIUM_ABI_AT_LEAST keeps it out of the 1.1 build.
                    proc = host.run([name, "abi"])
                    if minor >= 2:
                        self.assertEqual(proc.returncode, 0, proc)
                        self.assertIn(f"{name}: built for ABI 1.{minor}", proc.stdout)
                    else:
                        self.assertNotEqual(proc.returncode, 0, proc)
                    self.stop_cleanly(host)
                proc = check_plugin(fixture(f"frozen-1.{minor}", f"{name}.so"))
                self.assertEqual(proc.returncode, 0, proc)
                self.assertRegex(proc.stdout,
                                 rf"(?m)^abi: +1\.{minor} \(host {MAJOR}\.{MINOR}\)$")

    def test_check_plugin_describes_noticeboard(self):
        proc = check_plugin(os.path.join(PLUGIN_DIR, "noticeboard.so"))
        self.assertEqual(proc.returncode, 0, proc)
        out = proc.stdout
        self.assertRegex(out, r"(?m)^name: +noticeboard$")
        self.assertRegex(out, r"(?m)^version: +\d+\.\d+\.\d+")
        self.assertRegex(out, rf"(?m)^abi: +{MAJOR}\.{MINOR} \(host {MAJOR}\.{MINOR}\)$")
        self.assertRegex(out, r"(?m)^license: +\S+")
        self.assertRegex(out, r"(?m)^permissions:\n(  noticeboard\.\w+ - .+\n)+")

    def test_check_plugin_usage(self):
        # A path that does not exist is a refusal too, not a crash.
        proc = check_plugin(os.path.join(FIXTURES, "no-such-plugin.so"))
        self.assertEqual(proc.returncode, 1, proc)
        self.assertIn("no-such-plugin.so", proc.stderr)


if __name__ == "__main__":
    harness.main()
