# SPDX-License-Identifier: Apache-2.0
"""groups_fixtures.py - what the groups tests (test_groups_*.py) share: the test school with
helpers for the groups routes, the page check and the TestCase base.

The groups module over HTTP, by route family: every route under
/api/v1/schools/{school}/groups, who may do what, and every refusal. Every refusal is checked as
problem+json with its status, and for writes that fail, that nothing was changed.

    test_groups_crud.py         create / read / change / delete groups (POST "", GET, PATCH,
                                DELETE /{id}), parents and cycles; the module disabled, the
                                GDPR export and erasure of a member, a school deleted, the
                                OpenAPI document and the permission catalogue
    test_groups_visibility.py   who sees and manages what, by role; ?member=me|{id}; ids and
                                users of another school; the list (?type=, ?q=, pagination of
                                groups and of members, bad page parameters)
    test_groups_members.py      PUT / DELETE /{id}/members/{user_id} (add, re-role, remove,
                                leave, the last owner) and POST /{id}/members:batch (a class
                                of 30 in one call, all or nothing); two requests racing each
                                other
    test_groups_rights.py       GET / PUT /{id}/permissions: the permissions a group grants
                                its members, end to end through another module
                                (noticeboard.post), token scopes, the permission source

The groups plugin as other plugins see it (its service table) is test_groups_service.py.

One PostgreSQL and one atriumd serve each test class (fixtures.SharedHost); every test builds
its own school, so tests do not see each other's data. Known defects are marked "BUG:" in the
test that shows them; those tests fail until the defect is fixed.
"""

from __future__ import annotations

from typing import Any

import fixtures


# ------------------------------------------------------------------------------------------
# A test school
# ------------------------------------------------------------------------------------------


class School(fixtures.School):
    """A test school (fixtures.School, without the parent) and helpers for the groups
    routes."""

    AREA = "groups"
    PEOPLE = ("ada", "tina", "tom", "stan", "sam", "sue")

    def group(self, name: str, type_: str = "class", who: str = "tina", **extra: Any) -> dict:
        return self.ok(who, "POST", "", {"name": name, "type": type_, **extra}, status=(201,))

    def add(self, group_id: str, user: str, role: str = "member", who: str = "tina") -> None:
        self.ok(who, "PUT", f"/{group_id}/members/{self.ids[user]}", {"role": role},
                status=(200, 201))

    def members(self, group_id: str, who: str = "tina") -> dict[str, str]:
        """{user_id: role}, walking every page."""
        out: dict[str, str] = {}
        for item in self.walk(who, f"/{group_id}/members", limit=500):
            out[item["user_id"]] = item["role"]
        return out

    def walk(self, who: str, path: str, limit: int) -> list[dict]:
        items: list[dict] = []
        cursor = None
        sep = "&" if "?" in path else "?"
        for _ in range(1000):
            q = f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
            page = self.ok(who, "GET", q)
            self_check_page(page, limit)
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items
        raise AssertionError(f"pagination of {path} does not end")


def self_check_page(page: Any, limit: int) -> None:
    if not isinstance(page, dict) or set(page) != {"items", "next_cursor"}:
        raise AssertionError(f"not a page: {page!r}")
    if len(page["items"]) > limit:
        raise AssertionError(f"page of {len(page['items'])} items with limit={limit}")


class GroupsTestCase(fixtures.SharedHost):
    def school(self, **kw: Any) -> School:
        return School(self.host, self.op_token, **kw)

    def assertUnchanged(self, s: School, group_id: str, before: dict, who: str = "tina") -> None:
        self.assertEqual(s.members(group_id, who), before, "a failed request changed members")
