# SPDX-License-Identifier: Apache-2.0
"""test_import.py - POST /api/v1/schools/{school}/users/import: people from CSV exports.

The German export layout (`Vorname;Nachname;Rolle;Schüler-ID`, ';' separated, CRLF) in UTF-8
and in Windows-1252, quoted fields holding ';' and '""'; ?dry_run=true reports the outcome and
writes nothing; a re-import is idempotent (all rows "unchanged") and updates changed rows
matched by external id; row errors (unknown role, a username twice in the file, a username
that belongs to someone else) leave the other rows to succeed; a header without name columns
and an unterminated quote are 400; a 5,000-row file imports completely (its duration is
printed, never asserted).
"""

import itertools
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fixtures  # noqa: E402
import harness  # noqa: E402

CSV = {"Content-Type": "text/csv"}
_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


def crlf(*lines: str) -> str:
    return "\r\n".join(lines) + "\r\n"


GERMAN = crlf(
    "Vorname;Nachname;Rolle;Schüler-ID",
    "Anna;Müller;Schüler;S-001",
    '"Hans ""Hansi""";"Meier; Schmidt";Lehrer;S-002',
    "Zoë;Öztürk;Eltern;S-003",
    "Jörg;Weiß;Lehrerin;S-004",
)
# display names and usernames the server derives from GERMAN
GERMAN_PEOPLE = {
    "S-001": ("Anna Müller", "anna.mueller", ["student"]),
    "S-002": ('Hans "Hansi" Meier; Schmidt', "hanshansi.meierschmidt", ["teacher"]),
    "S-003": ("Zoë Öztürk", "zoe.oeztuerk", ["parent"]),
    "S-004": ("Jörg Weiß", "joerg.weiss", ["teacher"]),
}


class Import(fixtures.SharedHost):
    def school(self):
        slug = unique("imp")
        school = fixtures.make_school(self.host, self.op_token, slug)
        name = unique("admin")
        fixtures.make_user(self.host, self.op_token, slug, name, roles=["admin"])
        return school, fixtures.login(self.host, name, school=slug)

    def post(self, slug, data, tok, query="", headers=CSV, timeout=300.0):
        # A generous timeout: the 5,000-row file may be slow under sanitizers or valgrind.
        if isinstance(data, str):
            data = data.encode("utf-8")
        return self.host.request("POST", f"/api/v1/schools/{slug}/users/import{query}", data,
                                 headers=headers, token=tok, timeout=timeout)

    def imported(self, slug, data, tok, query=""):
        resp = self.post(slug, data, tok, query)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.content_type, "application/json")
        return resp.json()

    def people(self, school_id):
        """{external_id: (display_name, username, roles)} straight from the database."""
        rows = self.pg.psql(
            "SELECT json_agg(json_build_object('e', external_id, 'd', display_name, "
            "'u', username, 'r', roles) ORDER BY username) FROM core.users "
            f"WHERE school_id = '{school_id}' AND external_id IS NOT NULL")
        data = json.loads(rows) or []
        return {r["e"]: (r["d"], r["u"], r["r"]) for r in data}

    def count(self, school_id):
        return int(self.pg.psql(f"SELECT count(*) FROM core.users WHERE school_id = "
                                f"'{school_id}'"))

    def check_german(self, school, report):
        self.assertEqual((report["created"], report["updated"], report["unchanged"],
                          report["errors"]), (4, 0, 0, 0), report)
        self.assertEqual(self.people(school["id"]), GERMAN_PEOPLE)
        self.assertEqual([r["line"] for r in report["rows"]], [2, 3, 4, 5])
        self.assertEqual({r["status"] for r in report["rows"]}, {"created"})
        for row in report["rows"]:
            self.assertRegex(row["id"], r"^[0-9a-f-]{36}$")

    def test_german_utf8(self):
        school, tok = self.school()
        report = self.imported(school["slug"], GERMAN, tok)
        self.assertIs(report["dry_run"], False)
        self.assertEqual(report["ignored_columns"], [])
        self.check_german(school, report)

    def test_german_windows_1252(self):
        school, tok = self.school()
        data = GERMAN.encode("cp1252")
        self.assertNotEqual(data, GERMAN.encode("utf-8"))
        self.check_german(school, self.imported(school["slug"], data, tok))

    def test_utf8_with_bom_and_lf_and_commas(self):
        school, tok = self.school()
        data = "\ufeffusername,display_name,roles,external_id\nkim.lee,\"Lee, Kim\",teacher," \
               "T-1\nbo,Bo,\"student, staff\",T-2\n"
        report = self.imported(school["slug"], data, tok)
        self.assertEqual((report["created"], report["errors"]), (2, 0), report)
        self.assertEqual(self.people(school["id"]), {
            "T-1": ("Lee, Kim", "kim.lee", ["teacher"]),
            "T-2": ("Bo", "bo", ["student", "staff"]),
        })

    def test_dry_run_writes_nothing(self):
        school, tok = self.school()
        before = self.count(school["id"])
        audit_before = self.pg.psql("SELECT count(*) FROM core.audit_log")
        report = self.imported(school["slug"], GERMAN, tok, "?dry_run=true")
        self.assertIs(report["dry_run"], True)
        self.assertEqual((report["created"], report["errors"]), (4, 0), report)
        self.assertEqual([r["status"] for r in report["rows"]], ["created"] * 4)
        self.assertEqual([r["username"] for r in report["rows"]],
                         [v[1] for v in GERMAN_PEOPLE.values()])
        self.assertEqual(self.count(school["id"]), before)
        self.assertEqual(self.pg.psql("SELECT count(*) FROM core.audit_log"), audit_before,
                         "a dry run left an audit entry")
        # a dry run of a change reports "updated" and changes nothing
        self.imported(school["slug"], GERMAN, tok)
        changed = GERMAN.replace("Anna;Müller;Schüler", "Anna;Müller-Lang;Schüler")
        report = self.imported(school["slug"], changed, tok, "?dry_run=1")
        self.assertEqual((report["updated"], report["unchanged"]), (1, 3), report)
        self.assertEqual(self.people(school["id"]), GERMAN_PEOPLE)

    def test_reimport_is_idempotent_and_updates_by_external_id(self):
        school, tok = self.school()
        first = self.imported(school["slug"], GERMAN, tok)
        ids = {r["username"]: r["id"] for r in first["rows"]}
        again = self.imported(school["slug"], GERMAN, tok)
        self.assertEqual((again["created"], again["updated"], again["unchanged"],
                          again["errors"]), (0, 0, 4, 0), again)
        self.assertEqual({r["username"]: r["id"] for r in again["rows"]}, ids)
        self.assertEqual(self.count(school["id"]), 1 + 4)
        # the same file in Windows-1252 is the same data
        win = self.imported(school["slug"], GERMAN.encode("cp1252"), tok)
        self.assertEqual(win["unchanged"], 4, win)

        # Anna married and became a teacher as well; Jörg left the file (stays).
        changed = crlf(
            "Vorname;Nachname;Rolle;Schüler-ID",
            "Anna;Schulz;Schüler, Lehrer;S-001",
            '"Hans ""Hansi""";"Meier; Schmidt";Lehrer;S-002',
            "Zoë;Öztürk;Eltern;S-003",
            "Neu;Ling;Schüler;S-005",
        )
        report = self.imported(school["slug"], changed, tok)
        self.assertEqual((report["created"], report["updated"], report["unchanged"],
                          report["errors"]), (1, 1, 2, 0), report)
        people = self.people(school["id"])
        # matched by external id: same person (same id, same username), new name and roles
        self.assertEqual(people["S-001"], ("Anna Schulz", "anna.mueller", ["student", "teacher"]))
        anna_row = next(r for r in report["rows"] if r["line"] == 2)
        self.assertEqual((anna_row["status"], anna_row["id"]), ("updated", ids["anna.mueller"]))
        self.assertEqual(people["S-004"], GERMAN_PEOPLE["S-004"])
        self.assertEqual(people["S-005"], ("Neu Ling", "neu.ling", ["student"]))
        self.assertEqual(self.count(school["id"]), 1 + 5)
        self.assertEqual(self.imported(school["slug"], changed, tok)["unchanged"], 4)

    def test_row_errors_do_not_stop_other_rows(self):
        school, tok = self.school()
        fixtures.make_user(self.host, tok, school["slug"], "taken.name", roles=["staff"],
                           password=None)
        data = crlf(
            "Benutzername;Vorname;Nachname;Rolle;Schüler-ID",
            "good.one;Good;One;Schüler;E-1",
            "bad.role;Bad;Role;Zauberer;E-2",
            "twice;First;Twice;Lehrer;E-3",
            "twice;Second;Twice;Lehrer;E-4",
            "taken.name;Not;Them;Schüler;E-5",
            "good.two;Good;Two;Eltern;E-6",
            "Bad Name!;Bad;Name;Schüler;E-7",
            "no.role;No;Role;;E-8",
            "dup.ext;Dup;Ext;Schüler;E-1",
        )
        report = self.imported(school["slug"], data, tok)
        by_line = {r["line"]: r for r in report["rows"]}
        self.assertEqual(len(by_line), 9, report)
        ok = {2: "good.one", 4: "twice", 7: "good.two"}
        for line, username in ok.items():
            self.assertEqual((by_line[line]["status"], by_line[line]["username"]),
                             ("created", username), by_line[line])
        errors = {3: "role", 5: "twice", 6: "another person", 8: "username", 9: "role",
                  10: "external_id"}
        for line, word in errors.items():
            with self.subTest(line=line):
                self.assertEqual(by_line[line]["status"], "error", by_line[line])
                self.assertIn(word, by_line[line]["error"])
        self.assertIn("Zauberer", by_line[3]["error"])
        self.assertEqual((report["created"], report["errors"]), (3, 6), report)
        names = set(self.pg.psql(f"SELECT username FROM core.users WHERE school_id = "
                                 f"'{school['id']}'").split())
        self.assertTrue({"good.one", "twice", "good.two", "taken.name"} <= names)
        self.assertFalse({"bad.role", "no.role", "dup.ext"} & names)
        # the existing person was left alone
        self.assertEqual(self.pg.psql(
            "SELECT display_name || '|' || coalesce(external_id, '-') FROM core.users "
            f"WHERE school_id = '{school['id']}' AND username = 'taken.name'").strip(),
            "Taken.Name|-")

    def test_unknown_columns_are_reported(self):
        school, tok = self.school()
        data = crlf("Vorname;Nachname;Rolle;Klasse;Geburtsdatum", "Ida;Iks;Schüler;5a;2014-01-01")
        report = self.imported(school["slug"], data, tok)
        # Klasse is a class now (#21); without the groups module it is recorded, not a group
        self.assertEqual(report["ignored_columns"], ["Geburtsdatum"])
        self.assertEqual(report["columns"]["class"], "Klasse")
        self.assertIsNone(report["groups"])
        self.assertIn("groups module", report["warnings"][0])
        self.assertEqual(report["created"], 1)
        # The birth date is stored nowhere (a UUID may contain "2014"; the date may not).
        self.assertNotIn("2014-01-01", self.pg.psql(
            f"SELECT u::text FROM core.users u WHERE school_id = '{school['id']}'"))

    def test_default_role(self):
        school, tok = self.school()
        data = crlf("Vorname;Nachname", "Dora;Default")
        harness.assert_problem(self.post(school["slug"], data, tok), 400)
        report = self.imported(school["slug"], data, tok, "?default_role=Lehrer")
        self.assertEqual(report["created"], 1, report)
        self.assertEqual(self.pg.psql("SELECT roles FROM core.users WHERE username = "
                                      "'dora.default'").strip(), "{teacher}")
        harness.assert_problem(self.post(school["slug"], data, tok, "?default_role=wizard"), 400)

    def test_bad_files_are_400(self):
        school, tok = self.school()
        before = self.count(school["id"])
        cases = {
            "no name columns": crlf("Rolle;Schüler-ID;Klasse", "Schüler;S-1;5a"),
            "only a first name": crlf("Vorname;Rolle", "Anna;Schüler"),
            "unterminated quote": crlf("Vorname;Nachname;Rolle", '"Anna;Müller;Schüler',
                                       "Bernd;Bau;Lehrer"),
            "text after a closing quote": crlf("Vorname;Nachname;Rolle",
                                               '"Anna"x;Müller;Schüler'),
            "empty": "",
            "only blank lines": "\r\n\r\n",
            "NUL byte": "Vorname;Nachname;Rolle\r\nA\x00;B;Schüler\r\n",
        }
        for label, data in cases.items():
            with self.subTest(label):
                harness.assert_problem(self.post(school["slug"], data, tok), 400,
                                       "/invalid-request")
        with self.subTest("neither UTF-8 nor Windows-1252"):
            # 0x81 is undefined in Windows-1252 and invalid as UTF-8
            harness.assert_problem(self.post(school["slug"],
                                             b"Vorname;Nachname;Rolle\r\nA\x81;B;Lehrer\r\n",
                                             tok), 400)
        self.assertEqual(self.count(school["id"]), before, "a refused file wrote people")

    def test_who_may_import(self):
        school, tok = self.school()
        slug = school["slug"]
        for role in ("teacher", "student"):
            name = unique(role)
            fixtures.make_user(self.host, tok, slug, name, roles=[role])
            with self.subTest(role):
                harness.assert_problem(
                    self.post(slug, GERMAN, fixtures.login(self.host, name, school=slug)), 403,
                    "/forbidden")
        harness.assert_problem(self.post(slug, GERMAN, None), 401)
        other, other_tok = self.school()
        harness.assert_problem(self.post(slug, GERMAN, other_tok), 404)
        self.assertEqual(self.count(school["id"]), 3)
        # operators may
        self.assertEqual(self.imported(slug, GERMAN, self.op_token)["created"], 4)

    def test_import_is_audited(self):
        school, tok = self.school()
        self.imported(school["slug"], GERMAN, tok)
        audit = self.host.request("GET", f"/api/v1/schools/{school['slug']}/audit?limit=500",
                                  token=tok).json()["items"]
        entry = next(e for e in audit if e["action"] == "user.imported")
        self.assertEqual(entry["details"]["created"], 4)

    def test_five_thousand_rows(self):
        school, tok = self.school()
        lines = ["Vorname;Nachname;Rolle;Schüler-ID"]
        for i in range(5000):
            role = ("Schüler", "Lehrer", "Eltern", "Mitarbeiter")[i % 4]
            lines.append(f"Vor{i:04d};Nach-Müller{i:04d};{role};BIG-{i:05d}")
        data = crlf(*lines).encode("utf-8")
        started = time.monotonic()
        resp = self.post(school["slug"], data, tok)
        elapsed = time.monotonic() - started
        print(f"\n  5,000-row import ({len(data)} bytes) took {elapsed:.2f} s", file=sys.stderr,
              flush=True)
        self.assertEqual(resp.status, 200, resp)
        report = resp.json()
        self.assertEqual((report["created"], report["errors"]), (5000, 0),
                         {k: v for k, v in report.items() if k != "rows"})
        self.assertEqual(len(report["rows"]), 5000)
        self.assertEqual(self.count(school["id"]), 1 + 5000)
        self.assertEqual(int(self.pg.psql(
            f"SELECT count(DISTINCT username) FROM core.users WHERE school_id = '{school['id']}' "
            "AND external_id LIKE 'BIG-%'")), 5000)
        # and through the API: the list walks all of them
        seen, cursor = 0, None
        for _ in range(100):
            path = f"/api/v1/schools/{school['slug']}/users?limit=500"
            if cursor:
                path += "&cursor=" + urllib.parse.quote(cursor, safe="")
            page = self.host.request("GET", path, token=tok).json()
            seen += len(page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen, 5001)
        # a second run of the same file changes nothing
        started = time.monotonic()
        again = self.imported(school["slug"], data, tok)
        print(f"  5,000-row re-import took {time.monotonic() - started:.2f} s", file=sys.stderr,
              flush=True)
        self.assertEqual(again["unchanged"], 5000)


if __name__ == "__main__":
    harness.main()
