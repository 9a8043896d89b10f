#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A schema that can be distributed by school (issue #16): checked from the catalog.

With every in-tree plugin migrated, every table that has a school_id column must:
  - have school_id NOT NULL;
  - have a primary key (or, without one, a unique key), and every primary key and unique
    index must include school_id (Citus requires the distribution column in each);
  - name school_id in every foreign key to another school-scoped table (so both rows live on
    the same node).
The few tables that break a rule on purpose are listed below, each with its reason; the test
fails both for a new violation and for an exception that no longer applies, so the list stays
true. docs/ARCHITECTURE.md ("Distributing by school") says the same.
"""
from __future__ import annotations

import harness

# The school-scoped tables: every table (not a partition) with a school_id column.
SCHOOL_COLUMNS = """
SELECT a.attrelid, a.attnum, a.attnotnull
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE a.attname = 'school_id' AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
   AND NOT c.relispartition AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
"""

SCHOOL_TABLES = f"SELECT s.attrelid::regclass::text FROM ({SCHOOL_COLUMNS}) s ORDER BY 1"

VIOLATIONS = f"""
WITH sid AS ({SCHOOL_COLUMNS})
SELECT c.relid::regclass::text, c.kind, c.what FROM (
  SELECT s.attrelid AS relid, 'nullable' AS kind, 'school_id' AS what FROM sid s
   WHERE NOT s.attnotnull
  UNION ALL
  SELECT s.attrelid, 'no key', '' FROM sid s
   WHERE NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = s.attrelid AND i.indisunique)
  UNION ALL
  SELECT s.attrelid, CASE WHEN i.indisprimary THEN 'primary key' ELSE 'unique' END,
         i.indexrelid::regclass::text
    FROM sid s JOIN pg_index i ON i.indrelid = s.attrelid AND i.indisunique
   WHERE NOT s.attnum = ANY (i.indkey::int2[])
  UNION ALL
  SELECT s.attrelid, 'foreign key', f.conname
    FROM sid s JOIN pg_constraint f ON f.conrelid = s.attrelid AND f.contype = 'f'
   WHERE f.confrelid IN (SELECT x.attrelid FROM sid x)
     AND NOT s.attnum = ANY (f.conkey)
) c ORDER BY 1, 2, 3
"""

# (table, rule, what) -> why it is so, on purpose.
EXCEPTIONS = {
    ("core.sessions", "nullable", "school_id"):
        "an operator's session belongs to no school",
    ("core.sessions", "primary key", "core.sessions_pkey"):
        "idem: sessions are keyed by id alone while operators' rows share the table",
    ("core.sessions", "unique", "core.sessions_token_hash_key"):
        "a bearer token is looked up before its school is known (/api/v1/me has none)",
    ("core.audit_log", "nullable", "school_id"):
        "operators' actions (creating a school) belong to no school",
    ("core.audit_log", "primary key", "core.audit_log_pkey"):
        "idem",
    ("calendar.subscriptions", "unique", "calendar.subscriptions_token_hash_key"):
        "a feed URL carries only its token (calendar apps subscribe to one URL)",
    ("files.shares", "unique", "files.shares_token_hash_key"):
        "a share link carries only its token",
    ("mail.settings", "unique", "mail.settings_domain"):
        "a mail domain belongs to one school installation-wide (LMTP routes by domain)",
}


class SchemaKeys(harness.TestCase):
    def test_every_school_table_keys_on_school_id(self):
        with harness.PgCluster(name="pg-schema-keys") as pg, harness.Atriumd(pg) as host:
            self.assertEqual(host.request("GET", "/readyz").status, 200)
            tables = pg.psql(SCHOOL_TABLES).split()
            # The check covers the modules, not only core.
            for schema in ("core", "groups", "calendar", "files", "mail", "conference",
                           "contacts"):
                self.assertTrue(any(t.startswith(schema + ".") for t in tables), schema)
            found = {tuple(line.split("|")) for line in pg.psql(VIOLATIONS).splitlines()
                     if line}
            unexpected = sorted(found - set(EXCEPTIONS))
            self.assertEqual(unexpected, [], "school-scoped tables keyed without school_id")
            gone = sorted(set(EXCEPTIONS) - found)
            self.assertEqual(gone, [], "exceptions that no longer apply: remove them")


if __name__ == "__main__":
    harness.main()
