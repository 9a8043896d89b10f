# SPDX-License-Identifier: Apache-2.0
"""test_out_of_tree.py - a third party's view: install Atrium, build the example plugin OUT of
the tree against the installed headers with `pkg-config atrium-plugin`, check it with
`atriumd check-plugin`, load it into a running host and call its routes and its portal page.

The install goes to a scratch prefix (`meson install --destdir`); the installed .pc file is
copied with its prefix pointed at that scratch tree, which is exactly what a distribution
package's file would say about its own prefix.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import fixtures  # noqa: E402
import harness  # noqa: E402

BUILD = os.path.abspath(os.environ["ATRIUM_BUILD_DIR"])
SOURCE = os.path.abspath(os.environ["ATRIUM_SOURCE_DIR"])


def run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res


class OutOfTree(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="atrium-oot-")
        dest = os.path.join(cls.tmp, "dest")
        run(["meson", "install", "-C", BUILD, "--destdir", dest, "--quiet"])
        pcs = []
        for root, _dirs, files in os.walk(dest):
            pcs += [os.path.join(root, f) for f in files if f == "atrium-plugin.pc"]
        assert len(pcs) == 1, f"installed atrium-plugin.pc not found once: {pcs}"
        text = open(pcs[0]).read()
        prefix = re.search(r"^prefix=(.*)$", text, re.M).group(1)
        pcdir = os.path.join(cls.tmp, "pkgconfig")
        os.makedirs(pcdir)
        with open(os.path.join(pcdir, "atrium-plugin.pc"), "w") as f:
            f.write(re.sub(r"^prefix=.*$", "prefix=" + dest + prefix, text, flags=re.M))
        cls.env = dict(os.environ, PKG_CONFIG_PATH=pcdir)
        # A copy of the example alone, so nothing of the Atrium tree is reachable from it.
        cls.src = os.path.join(cls.tmp, "noticeboard")
        shutil.copytree(os.path.join(SOURCE, "examples", "noticeboard"), cls.src)
        cls.build = os.path.join(cls.tmp, "build")
        run(["meson", "setup", cls.build, cls.src, "-Dwerror=true"], env=cls.env)
        run(["ninja", "-C", cls.build], env=cls.env)
        cls.plugin = os.path.join(cls.build, "noticeboard.so")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_uses_installed_headers_only(self):
        cflags = run(["pkg-config", "--cflags", "atrium-plugin"], env=self.env).stdout
        self.assertIn(self.tmp, cflags)
        self.assertNotIn(os.path.join(SOURCE, "api"), cflags)
        ninja_log = run(["ninja", "-C", self.build, "-t", "commands"], env=self.env).stdout
        self.assertNotIn(os.path.join(SOURCE, "api"), ninja_log)

    def test_exports_only_the_descriptor(self):
        out = run(["nm", "-D", "--defined-only", self.plugin]).stdout
        symbols = [line.split()[-1] for line in out.splitlines() if line.strip()]
        self.assertEqual([s for s in symbols if not s.startswith("_")],
                         ["atrium_plugin_descriptor"])

    def test_check_plugin(self):
        res = subprocess.run([os.environ["ATRIUM_BIN"], "check-plugin", self.plugin],
                             capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("name:         noticeboard", res.stdout)
        self.assertIn("noticeboard.post", res.stdout)

    def test_loads_and_answers(self):
        plugins = os.path.join(self.tmp, "plugins")
        os.makedirs(plugins, exist_ok=True)
        shutil.copy(self.plugin, plugins)
        with harness.PgCluster() as pg, harness.Atriumd(pg, plugin_dir=plugins,
                                                        args=["--strict"]) as host:
            mods = host.request("GET", "/api/v1/modules").json()["items"]
            self.assertEqual([(m["name"], m["state"]) for m in mods], [("noticeboard", "loaded")])
            op = fixtures.make_operator(host)
            fixtures.make_school(host, op, "oot", modules=["noticeboard"])
            fixtures.make_user(host, op, "oot", "tina", roles=["teacher"])
            tina = fixtures.login(host, "tina", fixtures.PASSWORD, school="oot")
            made = host.request("POST", "/api/v1/schools/oot/noticeboard/notices",
                                {"title": "Out of tree", "body": "built elsewhere"}, token=tina)
            self.assertEqual(made.status, 201, made.body)
            listed = host.request("GET", "/api/v1/schools/oot/noticeboard/notices", token=tina)
            self.assertEqual([n["title"] for n in listed.json()["items"]], ["Out of tree"])
            # Its page in the portal (docs/PORTAL.md), from the .so built here: listed in the
            # navigation, its module served under a content-hashed prefix.
            nav = host.request("GET", "/api/v1/schools/oot/portal/nav", token=tina)
            self.assertEqual(nav.status, 200, nav)
            items = nav.json()["items"]
            self.assertEqual([i["id"] for i in items], ["noticeboard"])
            page = host.request("GET", items[0]["module"])
            self.assertEqual(page.status, 200, page)
            self.assertIn("export async function render", page.text)
            self.assertIn("immutable", page.headers.get("Cache-Control"))


if __name__ == "__main__":
    harness.main()
