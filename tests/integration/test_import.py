# SPDX-License-Identifier: Apache-2.0
"""test_import.py - POST /api/v1/schools/{school}/users/import: people from CSV exports, and
the school year (#21): classes and courses through the groups module, moves, leavers (missing,
remove_missing=disable, a partial file refused with 409 unless force=true), German usernames
(juergen.mueller, numbered on collision) and the saved profile (GET/PUT .../import/profile).

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
    # Under the sanitizers: the host must exit cleanly and leak nothing of the import's code.
    EXIT_CHECK = ("user-import.c", "import-columns.c", "groups/import.c", "csv.c")

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


# ------------------------------------------------------------------------------------------
# A school year (#21): classes and courses, moves, leavers, usernames, profiles
# ------------------------------------------------------------------------------------------

# A German class list as SchILD-like exports write it: UTF-8 with BOM, ';', a class and an id.
# Names from the families a German school has: German, Turkish, Vietnamese, Polish, Arabic
# (romanised the way the school office types them).
YEAR_PEOPLE = [
    # (external id, Vorname, Nachname, Klasse, Kurse)
    ("P-001", "Jürgen", "Müller", "7a", "Chor, Mathe-AG"),
    ("P-002", "Jürgen", "Müller", "7b", ""),
    ("P-003", "Şükrü", "Yıldız", "7a", "Chor"),
    ("P-004", "Thị Hương", "Nguyễn", "7b", ""),
    ("P-005", "Łukasz", "Wójcik", "7a", ""),
    ("P-006", "Mohammed", "Al-Hassan", "7b", "Mathe-AG"),
    ("P-007", "Ömer", "Aydın", "7a", ""),
    ("P-008", "Jens", "Groß", "7b", ""),
    ("P-009", "Fatma", "Öztürk", "7a", ""),
    ("P-010", "Minh Anh", "Trần", "7b", ""),
    ("P-011", "Agnieszka", "Kowalczyk", "7a", ""),
    ("P-012", "Layla", "Abdel-Rahman", "7b", ""),
]
YEAR_USERNAMES = {
    "P-001": "juergen.mueller", "P-002": "juergen.mueller2", "P-003": "suekrue.yildiz",
    "P-004": "thihuong.nguyen", "P-005": "lukasz.wojcik", "P-006": "mohammed.al-hassan",
    "P-007": "oemer.aydin", "P-008": "jens.gross", "P-009": "fatma.oeztuerk",
    "P-010": "minhanh.tran", "P-011": "agnieszka.kowalczyk", "P-012": "layla.abdel-rahman",
}


def year_csv(people=YEAR_PEOPLE, bom=True, sep=";") -> str:
    lines = [sep.join(["Externe ID", "Vorname", "Nachname", "Klasse", "Kurse"])]
    for ext, first, last, klass, courses in people:
        cells = [ext, first, last, klass, f'"{courses}"' if sep in courses or "," in courses
                 else courses]
        lines.append(sep.join(cells))
    return ("\ufeff" if bom else "") + crlf(*lines)


class SchoolYear(Import):
    def year_school(self, modules=("groups",)):
        slug = unique("year")
        school = fixtures.make_school(self.host, self.op_token, slug, modules=modules)
        name = unique("admin")
        fixtures.make_user(self.host, self.op_token, slug, name, roles=["admin"])
        return school, fixtures.login(self.host, name, school=slug)

    def memberships(self, school_id, type_="class"):
        """{group name: {username: role}} of the school's groups of this type."""
        rows = self.pg.psql(
            "SELECT coalesce(json_agg(json_build_object('g', g.name, 'u', u.username, "
            "'r', m.role)), '[]') FROM groups.groups g JOIN groups.members m "
            "ON m.group_id = g.id AND m.school_id = g.school_id JOIN core.users u "
            "ON u.id = m.user_id AND u.school_id = m.school_id "
            f"WHERE g.school_id = '{school_id}' AND g.type = '{type_}'")
        out: dict = {}
        for r in json.loads(rows):
            out.setdefault(r["g"], {})[r["u"]] = r["r"]
        return out

    def group_count(self, school_id):
        return int(self.pg.psql(f"SELECT count(*) FROM groups.groups WHERE school_id = "
                                f"'{school_id}'"))

    def audit_actions(self, school_id):
        return self.pg.psql(f"SELECT string_agg(action, ' ' ORDER BY id) FROM core.audit_log "
                            f"WHERE school_id = '{school_id}'").split()

    def set_password(self, slug, tok, user_id):
        fixtures.check(self.host.request("PATCH", f"/api/v1/schools/{slug}/users/{user_id}",
                                         {"password": fixtures.PASSWORD}, token=tok), 200)

    def test_first_import_creates_classes_courses_and_german_usernames(self):
        school, tok = self.year_school()
        report = self.imported(school["slug"], year_csv(), tok, "?default_role=Sch%C3%BCler")
        self.assertEqual((report["created"], report["errors"]), (12, 0), report)
        self.assertEqual(report["ignored_columns"], [])
        self.assertEqual(report["columns"], {"external_id": "Externe ID", "first_name": "Vorname",
                                             "last_name": "Nachname", "class": "Klasse",
                                             "courses": "Kurse"})
        self.assertEqual(sorted(report["groups"]["classes_created"]), ["7a", "7b"])
        self.assertEqual(sorted(report["groups"]["courses_created"]), ["Chor", "Mathe-AG"])
        self.assertEqual(report["groups"]["memberships_added"], 12 + 4)
        self.assertEqual({e: u for e, (_, u, _) in self.people(school["id"]).items()},
                         YEAR_USERNAMES)
        classes = self.memberships(school["id"])
        self.assertEqual(set(classes["7a"]), {YEAR_USERNAMES[p[0]] for p in YEAR_PEOPLE
                                              if p[3] == "7a"})
        self.assertEqual(set(classes["7a"].values()), {"member"})
        courses = self.memberships(school["id"], "course")
        self.assertEqual(set(courses["Chor"]), {"juergen.mueller", "suekrue.yildiz"})
        self.assertEqual(set(courses["Mathe-AG"]), {"juergen.mueller", "mohammed.al-hassan"})
        # the classes are ordinary groups of the module, visible through its API
        listed = self.host.request("GET", f"/api/v1/schools/{school['slug']}/groups?type=class",
                                   token=tok).json()["items"]
        self.assertEqual(sorted(g["name"] for g in listed), ["7a", "7b"])
        self.assertIn("user.imported", self.audit_actions(school["id"]))

    def test_reimport_that_changes_nothing(self):
        school, tok = self.year_school()
        self.imported(school["slug"], year_csv(), tok, "?default_role=student")
        groups_before = self.group_count(school["id"])
        again = self.imported(school["slug"], year_csv(bom=False), tok,
                              "?default_role=student&remove_missing=disable")
        self.assertEqual((again["created"], again["updated"], again["moved"], again["unchanged"],
                          again["errors"], again["disabled"]), (0, 0, 0, 12, 0, 0), again)
        self.assertEqual(again["missing"], [])
        self.assertEqual(again["groups"], {"classes_created": [], "courses_created": [],
                                           "memberships_added": 0, "memberships_removed": 0})
        self.assertEqual(self.group_count(school["id"]), groups_before)
        self.assertTrue(all("changes" not in r for r in again["rows"]))

    def test_move_keeps_username_and_class_teacher(self):
        school, tok = self.year_school()
        slug = school["slug"]
        first = self.imported(slug, year_csv(), tok, "?default_role=student")
        ids = {r["username"]: r["id"] for r in first["rows"]}
        # a class teacher owns 7b (set by hand); a hand-made class group holds Jürgen too
        teacher = fixtures.make_user(self.host, tok, slug, "frau.schmidt", roles=["teacher"])
        g7b = self.pg.psql(f"SELECT id FROM groups.groups WHERE school_id = '{school['id']}' "
                           "AND name = '7b'").strip()
        fixtures.check(self.host.request(
            "PUT", f"/api/v1/schools/{slug}/groups/{g7b}/members/{teacher['id']}",
            {"role": "owner"}, token=tok), 200, 201)
        hand = fixtures.check(self.host.request(
            "POST", f"/api/v1/schools/{slug}/groups", {"name": "Förderklasse", "type": "class"},
            token=tok), 201).json()
        fixtures.check(self.host.request(
            "PUT", f"/api/v1/schools/{slug}/groups/{hand['id']}/members/"
            f"{ids['juergen.mueller']}", {"role": "member"}, token=tok), 200, 201)

        # The new school year: Jürgen (7a) moves to 8b and is renamed; Thị Hương 7b -> 8b
        people = [list(p) for p in YEAR_PEOPLE]
        people[0][2], people[0][3] = "Müller-Yılmaz", "8b"
        people[3][3] = "8b"
        data = year_csv([tuple(p) for p in people])
        dry = self.imported(slug, data, tok, "?default_role=student&dry_run=true")
        self.assertEqual((dry["moved"], dry["updated"], dry["unchanged"]), (2, 0, 10), dry)
        self.assertEqual(dry["groups"]["classes_created"], ["8b"])
        self.assertIsNone(dry["groups"]["memberships_added"])
        self.assertEqual(self.memberships(school["id"])["7a"]["juergen.mueller"], "member",
                         "a dry run moved someone")
        report = self.imported(slug, data, tok, "?default_role=student")
        rows = {r["username"]: r for r in report["rows"]}
        moved = rows["juergen.mueller"]
        self.assertEqual((moved["status"], moved["id"], moved["class"]),
                         ("moved", ids["juergen.mueller"], {"old": "7a", "new": "8b"}))
        self.assertEqual(moved["changes"]["display_name"],
                         {"old": "Jürgen Müller", "new": "Jürgen Müller-Yılmaz"})
        self.assertEqual(rows["thihuong.nguyen"]["class"], {"old": "7b", "new": "8b"})
        self.assertEqual((report["groups"]["memberships_added"],
                          report["groups"]["memberships_removed"]), (2, 2), report["groups"])
        classes = self.memberships(school["id"])
        self.assertNotIn("juergen.mueller", classes["7a"])
        self.assertNotIn("thihuong.nguyen", classes["7b"])
        self.assertEqual(classes["8b"], {"juergen.mueller": "member", "thihuong.nguyen": "member"})
        self.assertEqual(classes["7b"]["frau.schmidt"], "owner", "the class teacher was dropped")
        self.assertEqual(classes["Förderklasse"].get("juergen.mueller"), "member",
                         "a hand-made group was emptied by the import")
        # the username stays on every later import
        self.assertEqual(self.people(school["id"])["P-001"][1], "juergen.mueller")

    def test_leaver_is_reported_and_disabled(self):
        school, tok = self.year_school()
        slug = school["slug"]
        first = self.imported(slug, year_csv(), tok, "?default_role=student")
        layla = next(r["id"] for r in first["rows"] if r["username"] == "layla.abdel-rahman")
        self.set_password(slug, tok, layla)
        layla_tok = fixtures.login(self.host, "layla.abdel-rahman", school=slug)
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=layla_tok).status, 200)

        data = year_csv(YEAR_PEOPLE[:-1])
        report = self.imported(slug, data, tok, "?default_role=student")
        self.assertEqual(report["missing"], [{"id": layla, "username": "layla.abdel-rahman",
                                              "display_name": "Layla Abdel-Rahman",
                                              "class": "7b"}])
        self.assertEqual(report["disabled"], 0)
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=layla_tok).status, 200,
                         "reporting a leaver disabled her")
        report = self.imported(slug, data, tok, "?default_role=student&remove_missing=disable")
        self.assertEqual((report["disabled"], report["partial_file"]), (1, False), report)
        # she cannot sign in, her token stopped working, her data stays
        harness.assert_problem(self.host.request("GET", "/api/v1/me", token=layla_tok), 401)
        resp = self.host.request("POST", "/api/v1/auth/login",
                                 {"school": slug, "username": "layla.abdel-rahman",
                                  "password": fixtures.PASSWORD})
        self.assertIn("disabled", harness.assert_problem(resp, 401)["detail"])
        user = self.host.request("GET", f"/api/v1/schools/{slug}/users/{layla}", token=tok).json()
        self.assertIsNotNone(user["disabled_at"])
        self.assertIn("layla.abdel-rahman", self.memberships(school["id"])["7b"])
        actions = self.audit_actions(school["id"])
        self.assertIn("user.disabled", actions)
        self.assertIn("auth.login_disabled", actions)
        # a disabled leaver is not missing again
        again = self.imported(slug, data, tok, "?default_role=student&remove_missing=disable")
        self.assertEqual((again["missing"], again["disabled"]), ([], 0))
        # and comes back when the file has her again
        back = self.imported(slug, year_csv(), tok, "?default_role=student")
        row = next(r for r in back["rows"] if r["username"] == "layla.abdel-rahman")
        self.assertEqual(row["changes"]["disabled"], {"old": True, "new": False})
        self.assertEqual(fixtures.login(self.host, "layla.abdel-rahman", school=slug) != "", True)
        self.assertIn("user.enabled", self.audit_actions(school["id"]))

    def test_a_disabled_persons_late_session_does_not_work(self):
        """A sign-in that read the account just before the disable committed creates its
        session just after the revocation: the identity check refuses it anyway."""
        school, tok = self.year_school()
        slug = school["slug"]
        first = self.imported(slug, year_csv(), tok, "?default_role=student")
        layla = next(r["id"] for r in first["rows"] if r["username"] == "layla.abdel-rahman")
        self.set_password(slug, tok, layla)
        late = fixtures.login(self.host, "layla.abdel-rahman", school=slug)
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=late).status, 200)
        # the disable, without the revocation the race slipped past
        self.pg.psql(f"UPDATE core.users SET disabled_at = now() WHERE id = '{layla}'")
        harness.assert_problem(self.host.request("GET", "/api/v1/me", token=late), 401)
        self.assertEqual(self.host.request("GET", f"/api/v1/schools/{slug}/users/{layla}",
                                           token=tok).status, 200, "the admin still sees her")
        self.pg.psql(f"UPDATE core.users SET disabled_at = NULL WHERE id = '{layla}'")
        self.assertEqual(self.host.request("GET", "/api/v1/me", token=late).status, 200,
                         "enabled again, the session works again")

    def test_partial_file_is_refused_unless_forced(self):
        school, tok = self.year_school()
        slug = school["slug"]
        self.imported(slug, year_csv(), tok, "?default_role=student")
        half = year_csv(YEAR_PEOPLE[:6])
        before = self.pg.psql(f"SELECT count(*) FROM core.users WHERE school_id = "
                              f"'{school['id']}' AND disabled_at IS NOT NULL")
        problem = harness.assert_problem(
            self.post(slug, half, tok, "?default_role=student&remove_missing=disable"), 409)
        self.assertIn("6 of the school's 12", problem["detail"])
        self.assertIn("partial", problem["detail"])
        self.assertEqual(self.pg.psql(f"SELECT count(*) FROM core.users WHERE school_id = "
                                      f"'{school['id']}' AND disabled_at IS NOT NULL"), before)
        dry = self.imported(slug, half, tok,
                            "?default_role=student&remove_missing=disable&dry_run=true")
        self.assertEqual((dry["partial_file"], len(dry["missing"])), (True, 6), dry)
        forced = self.imported(slug, half, tok,
                               "?default_role=student&remove_missing=disable&force=true")
        self.assertEqual((forced["disabled"], forced["partial_file"]), (6, True))
        audit = self.host.request("GET", f"/api/v1/schools/{slug}/audit?limit=500",
                                  token=tok).json()["items"]
        entry = next(e for e in audit if e["action"] == "user.imported")
        self.assertEqual((entry["details"]["disabled"], entry["details"]["forced"]), (6, True))
        self.assertEqual(sum(e["action"] == "user.disabled" for e in audit), 6)

    def test_encodings_separators_and_quotes(self):
        school, tok = self.year_school()
        slug = school["slug"]
        # Windows-1252 with ';' (umlauts and ß exist there; Turkish ı does not)
        cp = crlf("Nachname;Vorname;Klasse;Schüler-ID;E-Mail",
                  'Weiß;"Anna; Lena";5c;W-1;anna.weiss@example.org',
                  "Köhler;Jörg;5c;W-2;")
        report = self.imported(slug, cp.encode("cp1252"), tok, "?default_role=student")
        self.assertEqual((report["created"], report["errors"]), (2, 0), report)
        self.assertEqual({r["username"] for r in report["rows"]},
                         {"annalena.weiss", "joerg.koehler"})
        self.assertEqual(self.pg.psql("SELECT email FROM core.users WHERE external_id = 'W-1' "
                                      f"AND school_id = '{school['id']}'").strip(),
                         "anna.weiss@example.org")
        # the same people, UTF-8 with ',' and quoted fields: nothing changes
        comma = crlf('Nachname,Vorname,Klasse,Schüler-ID,E-Mail',
                     '"Weiß","Anna; Lena",5c,W-1,anna.weiss@example.org',
                     '"Köhler","Jörg","5c",W-2,""')
        again = self.imported(slug, comma, tok, "?default_role=student")
        self.assertEqual((again["unchanged"], again["errors"]), (2, 0), again)
        # and '|' as in SchILD-NRW's interface files (a ';' inside a field stays text)
        pipe = crlf("Nachname|Vorname|Klasse|Schüler-ID|E-Mail",
                    "Weiß|Anna; Lena|5c|W-1|anna.weiss@example.org",
                    "Köhler|Jörg|5c|W-2|")
        again = self.imported(slug, pipe, tok, "?default_role=student")
        self.assertEqual((again["unchanged"], again["errors"]), (2, 0), again)

    def test_row_errors_name_line_and_reason(self):
        school, tok = self.year_school()
        slug = school["slug"]
        fixtures.check(self.host.request("POST", f"/api/v1/schools/{slug}/groups",
                                         {"name": "Theater", "type": "workgroup"}, token=tok), 201)
        data = crlf("Externe ID;Vorname;Nachname;Klasse;Kurse;E-Mail",
                    "E-1;Emre;Demir;6a;;emre@example.org",
                    "E-2;Hanna;Nowak;Theater;;",
                    "E-3;Linh;Phạm;6a;Theater;",
                    "E-4;Yusuf;Haddad;6a;;not-an-address",
                    "E-5;Kim;Vu;" + "x" * 201 + ";;")
        report = self.imported(slug, data, tok, "?default_role=student&dry_run=true")
        errors = {r["line"]: r["error"] for r in report["rows"] if r["status"] == "error"}
        self.assertEqual(set(errors), {3, 4, 5, 6}, report)
        self.assertIn("another type", errors[3])
        self.assertIn("another type", errors[4])
        self.assertIn("e-mail", errors[5])
        self.assertIn("200", errors[6])
        self.assertEqual(report["created"], 1)

    def test_without_the_groups_module(self):
        school, tok = self.year_school(modules=())
        report = self.imported(school["slug"], year_csv(), tok, "?default_role=student")
        self.assertEqual(report["created"], 12)
        self.assertIsNone(report["groups"])
        self.assertIn("groups module", report["warnings"][0])
        self.assertEqual(self.group_count(school["id"]), 0)
        # moves and leavers are still reported from what the last import said
        people = [list(p) for p in YEAR_PEOPLE[:-1]]
        people[0][3] = "8a"
        report = self.imported(school["slug"], year_csv([tuple(p) for p in people]), tok,
                               "?default_role=student")
        self.assertEqual(report["moved"], 1)
        self.assertEqual([m["class"] for m in report["missing"]], ["7b"])

    def test_bad_query_parameters(self):
        school, tok = self.year_school()
        for query in ("?dry_run=yes", "?force=maybe", "?remove_missing=delete",
                      "?remove_missing=", "?default_role=wizard"):
            with self.subTest(query):
                harness.assert_problem(self.post(school["slug"], year_csv(), tok,
                                                 query + "&default_role=student"
                                                 if "default_role" not in query else query), 400)
        self.assertEqual(self.count(school["id"]), 1)


class ImportProfile(Import):
    def path(self, slug):
        return f"/api/v1/schools/{slug}/users/import/profile"

    def test_profile_roundtrip_and_untis_preset(self):
        school, tok = self.school()
        slug = school["slug"]
        empty = self.host.request("GET", self.path(slug), token=tok).json()
        self.assertEqual((empty["preset"], empty["columns"], empty["default_role"]),
                         (None, {}, None))
        self.assertEqual(set(empty["presets"]), {"schild-nrw", "lusd", "asv", "magellan",
                                                 "untis", "spreadsheet"})
        saved = fixtures.check(self.host.request(
            "PUT", self.path(slug), {"preset": "untis", "columns": {"Stammgruppe": "class",
                                                                    "Bemerkung": "ignore"},
                                     "default_role": "student"}, token=tok), 200).json()
        self.assertEqual((saved["preset"], saved["columns"]["Stammgruppe"]), ("untis", "class"))
        data = crlf("Name;Langname;Vorname;Stammgruppe;Schlüssel (extern);Bemerkung",
                    "NguyAn;Nguyễn;An;9c;U-77;nett")
        report = self.imported(slug, data, tok)
        self.assertEqual((report["created"], report["errors"]), (1, 0), report)
        self.assertEqual(report["columns"], {"first_name": "Vorname", "last_name": "Langname",
                                             "external_id": "Schlüssel (extern)",
                                             "class": "Stammgruppe"})
        self.assertEqual(sorted(report["ignored_columns"]), ["Bemerkung", "Name"])
        self.assertEqual(self.people(school["id"])["U-77"], ("An Nguyễn", "an.nguyen",
                                                             ["student"]))
        self.assertIn("user.import_profile_changed", self.pg.psql(
            f"SELECT string_agg(action, ' ') FROM core.audit_log WHERE school_id = "
            f"'{school['id']}'"))

    def test_profile_refusals(self):
        school, tok = self.school()
        slug = school["slug"]
        bad = {
            "unknown preset": {"preset": "iserv"},
            "unknown field": {"columns": {"Klasse": "klasse"}},
            "columns not an object": {"columns": ["Klasse"]},
            "wrong type": {"preset": 7},
            "unknown member": {"presets": {}},
            "bad role": {"default_role": "wizard"},
            "empty header": {"columns": {" - ": "class"}},
        }
        for label, body in bad.items():
            with self.subTest(label):
                harness.assert_problem(self.host.request("PUT", self.path(slug), body,
                                                         token=tok), 400)
        harness.assert_problem(self.host.request(
            "PUT", self.path(slug), b"{not json", headers={"Content-Type": "application/json"},
            token=tok), 400)
        for method in ("GET", "PUT"):
            with self.subTest(method):
                harness.assert_problem(self.host.request(method, self.path(slug), {}), 401)
                teacher = unique("teacher")
                fixtures.make_user(self.host, tok, slug, teacher, roles=["teacher"])
                harness.assert_problem(self.host.request(
                    method, self.path(slug), {}, token=fixtures.login(self.host, teacher,
                                                                      school=slug)), 403)
                _, other_tok = self.school()
                harness.assert_problem(self.host.request(method, self.path(slug), {},
                                                         token=other_tok), 404)
        self.assertEqual(self.pg.psql(f"SELECT count(*) FROM core.import_profiles WHERE "
                                      f"school_id = '{school['id']}'").strip(), "0")


if __name__ == "__main__":
    harness.main()
