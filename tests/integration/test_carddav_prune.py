# SPDX-License-Identifier: Apache-2.0
"""test_carddav_prune.py - the tombstones of deleted cards of a personal address book are
pruned after 90 days (contacts 0002, plugins/contacts/prune.c), as the calendar's are: by
`atriumd contacts prune` here (the hourly timer on the leader runs the same code); a sync
token from before a pruned deletion is refused with 403 valid-sync-token (the client syncs
afresh), one from after it still learns of later deletions. One host for the file.
"""

from __future__ import annotations

import urllib.parse
import xml.etree.ElementTree as ET

import fixtures
import harness
from test_carddav import School, basic, sync, vcard

D = "{DAV:}"


class Small(School):
    PEOPLE = ("tina",)


class CardDavPrune(fixtures.SharedHost):
    EXIT_CHECK = ("contacts", "prune.c")

    def dav(self, s: School, method: str, path: str, body: str | None = None
            ) -> harness.Response:
        hdrs = {"Authorization": basic("tina")}
        if body is not None:
            hdrs["Content-Type"] = "text/vcard" if body.startswith("BEGIN:") else "application/xml"
        return self.host.request(method, f"/dav/{s.slug}/contacts/tina/personal/{path}", body,
                                 headers=hdrs)

    def names(self, resp: harness.Response) -> dict[str, str]:
        self.assertEqual(resp.status, 207, resp.body)
        out = {}
        for r in ET.fromstring(resp.body).findall(f"{D}response"):
            name = urllib.parse.unquote(r.find(f"{D}href").text).rsplit("/", 1)[1]
            st = r.find(f"{D}status")
            out[name] = "404" if st is not None and "404" in st.text else "200"
        return out

    def token(self, s: School) -> str:
        r = self.dav(s, "REPORT", "", sync())
        return ET.fromstring(r.body).find(f"{D}sync-token").text

    def test_old_tombstones_are_pruned(self) -> None:
        s, other = Small(self.host, self.op_token), Small(self.host, self.op_token)
        for school in (s, other):
            for n in ("x", "y", "z"):
                self.assertEqual(self.dav(school, "PUT", f"{n}.vcf", vcard(n)).status, 201)
        before = self.token(s)
        self.assertEqual(self.dav(s, "DELETE", "x.vcf").status, 204)
        after = self.token(s)
        self.assertEqual(self.dav(s, "DELETE", "y.vcf").status, 204)
        self.assertEqual(self.dav(other, "DELETE", "x.vcf").status, 204)
        other_token = self.token(other)
        # x was deleted long ago (as if), y just now: only x's tombstone goes, in both schools
        # where it is old.
        self.pg.psql("UPDATE contacts.tombstones SET gone_at = now() - interval '91 days' "
                     "WHERE name = 'x.vcf'")
        proc = self.host.run(["contacts", "prune"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("pruned 2 tombstones", proc.stdout)
        self.assertEqual(self.pg.psql("SELECT string_agg(t.name, ',') FROM contacts.tombstones t "
                                      f"JOIN core.schools k ON k.id = t.school_id "
                                      f"WHERE k.slug = '{s.slug}'").strip(), "y.vcf")
        # A token from before the pruned deletion may have missed it: sync afresh.
        r = self.dav(s, "REPORT", "", sync(before))
        self.assertEqual(r.status, 403)
        self.assertIn("valid-sync-token", r.text)
        # One from after it still learns of what came since, y's deletion included; a fresh
        # sync lists what is there; the other school's book is its own.
        self.assertEqual(self.names(self.dav(s, "REPORT", "", sync(after))), {"y.vcf": "404"})
        self.assertEqual(self.names(self.dav(s, "REPORT", "", sync())), {"z.vcf": "200"})
        self.assertEqual(self.names(self.dav(other, "REPORT", "", sync(other_token))), {})
        # Nothing older left: nothing more to prune; bad arguments.
        self.assertIn("pruned 0 tombstones", self.host.run(["contacts", "prune"]).stdout)
        self.assertEqual(self.host.run(["contacts", "prune", "now"]).returncode, 2)


if __name__ == "__main__":
    harness.main()
