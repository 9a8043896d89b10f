#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Definer functions keep their plans: checked from the catalog (issue #14, schema 0014).

PostgreSQL inlines a LANGUAGE sql function only when it is neither SECURITY DEFINER nor has a
SET clause; such a function is otherwise parsed and planned anew each time the statement that
calls it runs, which for the host's prepared statements is every request (the sign-in's
throttle checks cost 201-216 µs of PostgreSQL's CPU that way, 45 µs in PL/pgSQL). With every
in-tree plugin migrated, no function that is SECURITY DEFINER or has a SET clause may be
LANGUAGE sql, except the few below, each with its reason (none runs per request). The test
fails both for a new one and for an exception that no longer applies, so the list stays true.
schema/README.md says the same.
"""
from __future__ import annotations

import harness

NOT_INLINABLE_SQL = """
SELECT p.oid::regprocedure::text
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
 WHERE l.lanname = 'sql' AND (p.prosecdef OR p.proconfig IS NOT NULL)
   AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
 ORDER BY 1
"""

# Whose per-call planning does not matter: called by a timer, the garbage collector or a
# report, once per run, never on a request's path.
EXCEPTIONS = {
    "calendar.events_in_window(uuid[],timestamp with time zone,timestamp with time zone)":
        "unused since calendar 0003 (migrations are forward-only; a later one may drop it)",
    "calendar.prune_tombstones(timestamp with time zone,integer)": "the prune timer",
    "calendar.schools_with_old_tombstones(timestamp with time zone)": "the prune timer",
    "contacts.prune_tombstones(timestamp with time zone,integer)": "the prune timer",
    "contacts.schools_with_old_tombstones(timestamp with time zone)": "the prune timer",
    "conference.lookback(uuid,timestamp with time zone,interval)": "the statistics report",
    "conference.purge_guest_links(interval)": "the purge timer",
    "conference.rollup_mark(uuid,timestamp with time zone)":
        "the roll-up trigger, only for visits that began more than 12 hours ago",
    "conference.stats_raw(boolean,timestamp with time zone,timestamp with time zone,interval,interval)":
        "the statistics report; planning is small beside its scan",
    "files.blobs_unused(text[])": "the garbage collector",
    "files.schools_with_old_trash(timestamp with time zone)": "the trash timer",
    "mail.schools_with_due_mail()": "the delivery timer",
}


class SchemaFunctions(harness.TestCase):
    def test_definer_functions_are_not_planned_per_call(self):
        with harness.PgCluster(name="pg-schema-functions") as pg, harness.Atriumd(pg) as host:
            self.assertEqual(host.request("GET", "/readyz").status, 200)
            found = set(pg.psql(NOT_INLINABLE_SQL).splitlines()) - {""}
            # The query sees the functions at all: core's definer functions are there.
            self.assertIn("core.request_identity(bytea,text,text,bigint)",
                          pg.psql("SELECT 'core.request_identity'::regproc::regprocedure"))
            unexpected = sorted(found - set(EXCEPTIONS))
            self.assertEqual(unexpected, [],
                             "SECURITY DEFINER or SET functions in LANGUAGE sql: "
                             "write them in PL/pgSQL (schema/README.md)")
            gone = sorted(set(EXCEPTIONS) - found)
            self.assertEqual(gone, [], "exceptions that no longer apply: remove them")


if __name__ == "__main__":
    harness.main()
