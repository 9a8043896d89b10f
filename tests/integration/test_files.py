# SPDX-License-Identifier: Apache-2.0
"""test_files.py - the files module over HTTP: homes and group folders, streamed uploads and
downloads, ranges and conditional requests, folders, move and copy, the trash, quotas, share
links, and who may do what.

Every route is covered with its refusals (problem+json and status): PUT/GET/HEAD/POST/DELETE
on /files/home/{path} and /files/groups/{group_id}/{path}, GET /files/trash,
POST /files/trash/{id}/restore, DELETE /files/trash/{id}, GET /files/usage,
GET|PUT|DELETE /files/quotas..., GET /files/shares, DELETE /files/shares/{id} and the public
GET /api/v1/files/share/{token}. Also: path traversal in its encodings, another school's ids,
a member vs a non-member of a group, user.deleted and group.deleted, the GDPR export, dedup of
identical contents on disk and "atriumd files gc". The crash test (kill -9 during uploads) is
test_files_crash.py. One PostgreSQL and one atriumd serve the file; each test builds its own
school.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.client
import os
import uuid
from typing import Any, Iterator, Sequence

import fixtures
import harness

class School(fixtures.School):
    """A test school with the files module (fixtures.School) and files helpers."""

    AREA = "files"
    SLUG_PREFIX = "f"
    MODULES = ("groups", "files")
    PEOPLE = ("ada", "tina", "tom", "sam", "sue", "pia")

    def ok(self, who: str, method: str, path: str, body: Any = None,
           status: Sequence[int] = (200, 201, 204), headers: dict[str, str] | None = None) -> Any:
        """Like fixtures.School.ok, but a body that is not JSON (a download) comes back as the
        Response."""
        resp = fixtures.check(self.req(who, method, path, body, headers), *status,
                              what=f"{who}: {method} files{path}")
        return resp.json() if resp.body and resp.content_type.endswith("json") else resp

    def put(self, who: str, path: str, data: bytes, **kw: Any) -> dict:
        return self.ok(who, "PUT", path, data, status=(200, 201), **kw)

    def group(self, name: str, owner: str = "tina", members: Sequence[str] = ()) -> str:
        return self.make_group(name, owner, members)


def chunks(data: bytes, size: int = 1000) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


class FilesTestCase(fixtures.SharedHost):
    EXIT_CHECK = ("files", "blobstore", "body-pipe", "server-stream", "plugin-tasks",
                  "transfer.c", "tree.c")

    def school(self, **kw: Any) -> School:
        return School(self.host, self.op_token, **kw)

    def sql(self, query: str) -> str:
        return self.pg.psql(query).strip()

    def blob_files(self) -> list[str]:
        root = os.path.join(self.host.data_dir, "files", "blobs")
        return [name for _, _, names in os.walk(root) for name in names]

    def part_files(self) -> list[str]:
        return os.listdir(os.path.join(self.host.data_dir, "files", "tmp"))

    def chunked_put(self, s: School, who: str, path: str, data: bytes,
                    headers: dict[str, str] | None = None) -> harness.Response:
        """PUT with Transfer-Encoding: chunked (no Content-Length)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.host.port, timeout=60)
        try:
            hdrs = {"Authorization": f"Bearer {s.tokens[who]}", **(headers or {})}
            conn.request("PUT", f"/api/v1/schools/{s.slug}/files{path}", body=chunks(data),
                         headers=hdrs, encode_chunked=True)
            resp = conn.getresponse()
            return harness.Response(resp.status, resp.reason,
                                    harness.Headers(resp.getheaders()), resp.read())
        finally:
            conn.close()


class Transfers(FilesTestCase):
    def test_upload_download_head(self) -> None:
        s = self.school()
        data = b"Arbeitsblatt 1\n" * 100
        node = s.put("sam", "/home/blatt.txt", data)
        self.assertEqual(node["name"], "blatt.txt")
        self.assertEqual(node["path"], "blatt.txt")
        self.assertEqual(node["kind"], "file")
        self.assertEqual(node["size"], len(data))
        self.assertEqual(node["etag"], '"' + hashlib.sha256(data).hexdigest() + '"')
        self.assertEqual(node["content_type"], "text/plain")
        resp = s.req("sam", "GET", "/home/blatt.txt")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body, data)
        self.assertEqual(resp.headers["ETag"], node["etag"])
        self.assertEqual(resp.headers["Content-Type"], "text/plain")
        self.assertEqual(resp.headers["Accept-Ranges"], "bytes")
        self.assertEqual(resp.headers["X-Content-Type-Options"], "nosniff")
        self.assertIn("GMT", resp.headers["Last-Modified"])
        head = s.req("sam", "HEAD", "/home/blatt.txt")
        self.assertEqual(head.status, 200)
        self.assertEqual(head.body, b"")
        self.assertEqual(head.headers["Content-Length"], str(len(data)))
        self.assertEqual(head.headers["ETag"], node["etag"])
        # Magic bytes decide when the name says nothing.
        png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
        self.assertEqual(s.put("sam", "/home/bild", png)["content_type"], "image/png")
        # An empty file is a file.
        empty = s.put("sam", "/home/leer.txt", b"")
        self.assertEqual(empty["size"], 0)
        resp = s.req("sam", "GET", "/home/leer.txt")
        self.assertEqual((resp.status, resp.body), (200, b""))

    def test_replace_and_lost_update_guards(self) -> None:
        s = self.school()
        first = s.put("tina", "/home/plan.txt", b"v1")
        self.assertProblem(s.req("tina", "PUT", "/home/plan.txt", b"x",
                                 headers={"If-None-Match": "*"}), 412, "precondition-failed")
        self.assertProblem(s.req("tina", "PUT", "/home/plan.txt", b"x",
                                 headers={"If-Match": '"' + "0" * 64 + '"'}), 412)
        self.assertProblem(s.req("tina", "PUT", "/home/nothing.txt", b"x",
                                 headers={"If-Match": "*"}), 412)
        second = s.ok("tina", "PUT", "/home/plan.txt", b"v2", status=(200,),
                      headers={"If-Match": first["etag"]})
        self.assertEqual(second["id"], first["id"])
        self.assertNotEqual(second["etag"], first["etag"])
        # The old ETag no longer matches: the second writer loses, nothing changes.
        self.assertProblem(s.req("tina", "PUT", "/home/plan.txt", b"v3",
                                 headers={"If-Match": first["etag"]}), 412)
        self.assertEqual(s.req("tina", "GET", "/home/plan.txt").body, b"v2")
        created = s.ok("tina", "PUT", "/home/neu.txt", b"n", status=(201,),
                       headers={"If-None-Match": "*"})
        self.assertEqual(created["size"], 1)

    def test_parents_and_folders(self) -> None:
        s = self.school()
        self.assertProblem(s.req("sam", "PUT", "/home/a/b/c.txt", b"x"), 404, "not-found")
        s.ok("sam", "PUT", "/home/a/b/c.txt?parents=true", b"x", status=(201,))
        self.assertEqual([i["name"] for i in s.ok("sam", "GET", "/home/")["items"]], ["a"])
        self.assertEqual(s.ok("sam", "GET", "/home/a/")["items"][0]["kind"], "folder")
        self.assertEqual(s.ok("sam", "GET", "/home/a/b")["items"][0]["name"], "c.txt")
        # A folder by PUT on "name/" and by POST ?action=mkdir.
        made = s.ok("sam", "PUT", "/home/Mathe/", b"", status=(201,))
        self.assertEqual((made["kind"], made["etag"]), ("folder", None))
        self.assertProblem(s.req("sam", "PUT", "/home/Mathe/"), 409, "conflict")
        self.assertProblem(s.req("sam", "PUT", "/home/Physik/", b"body"), 400)
        s.ok("sam", "POST", "/home/Deutsch/?action=mkdir", status=(201,))
        s.ok("sam", "POST", "/home/x/y/z?action=mkdir&parents=true", status=(201,))
        self.assertProblem(s.req("sam", "POST", "/home/q/r?action=mkdir"), 404)
        self.assertProblem(s.req("sam", "POST", "/home/E/?action=mkdir", {"x": 1}), 400)
        self.assertProblem(s.req("sam", "POST", "/home/E/?action=explode"), 400)
        # A file is not a folder and a folder is not a file.
        self.assertProblem(s.req("sam", "PUT", "/home/Mathe", b"x"), 409)
        self.assertProblem(s.req("sam", "PUT", "/home/a/b/c.txt/d", b"x"), 409)
        self.assertProblem(s.req("sam", "GET", "/home/a/b/c.txt/"), 404)
        self.assertProblem(s.req("sam", "GET", "/home/nope.txt"), 404)
        self.assertProblem(s.req("sam", "PUT", "/home/", b""), 409)

    def test_the_same_folder_made_at_once(self) -> None:
        # Eight requests make the same folder at once: one makes it (201), the others find it
        # there, as a request after it would (409), and there is one folder.
        s = self.school()
        answers = fixtures.at_once(8, lambda: s.req("sam", "POST", "/home/Kunst?action=mkdir"))
        self.assertEqual(sorted(r.status for r in answers), [201] + [409] * 7)
        for resp in answers:
            if resp.status == 409:
                self.assertProblem(resp, 409, "conflict")
        self.assertEqual([i["name"] for i in s.ok("sam", "GET", "/home/")["items"]], ["Kunst"])

    def test_listing_pages(self) -> None:
        s = self.school()
        names = [f"f{i:02}.txt" for i in range(7)]
        for n in names:
            s.put("sue", f"/home/{n}", n.encode())
        seen, cursor = [], None
        for _ in range(10):
            page = s.ok("sue", "GET", "/home/?limit=3" + (f"&cursor={cursor}" if cursor else ""))
            self.assertLessEqual(len(page["items"]), 3)
            seen += [i["name"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen, names)
        item = s.ok("sue", "GET", "/home/")["items"][0]
        self.assertEqual(set(item), {"id", "name", "path", "kind", "size", "modified", "etag",
                                     "content_type"})
        self.assertProblem(s.req("sue", "GET", "/home/?limit=0"), 400)
        self.assertProblem(s.req("sue", "GET", "/home/?limit=x"), 400)

    def test_ranges_and_conditional_requests(self) -> None:
        s = self.school()
        data = bytes(range(256)) * 40  # 10240 bytes
        node = s.put("tina", "/home/data.bin", data)
        etag = node["etag"]

        def get(**headers: str) -> harness.Response:
            return s.req("tina", "GET", "/home/data.bin", headers=headers)

        r = get(Range="bytes=0-99")
        self.assertEqual((r.status, r.body), (206, data[:100]))
        self.assertEqual(r.headers["Content-Range"], f"bytes 0-99/{len(data)}")
        r = get(Range="bytes=-10")
        self.assertEqual((r.status, r.body), (206, data[-10:]))
        r = get(Range="bytes=10000-")
        self.assertEqual((r.status, r.body), (206, data[10000:]))
        r = get(Range="bytes=9000-99999")
        self.assertEqual((r.status, r.body), (206, data[9000:]))
        r = get(Range=f"bytes={len(data)}-")
        self.assertProblem(r, 416, "range-not-satisfiable")
        self.assertEqual(r.headers["Content-Range"], f"bytes */{len(data)}")
        # Several ranges, or nonsense: the whole file.
        self.assertEqual(get(Range="bytes=0-1,5-6").body, data)
        self.assertEqual(get(Range="pages=1-2").body, data)
        # If-Range: the range only while the file is unchanged.
        self.assertEqual(get(Range="bytes=0-9", **{"If-Range": etag}).status, 206)
        r = get(Range="bytes=0-9", **{"If-Range": '"' + "1" * 64 + '"'})
        self.assertEqual((r.status, r.body), (200, data))
        # Conditional GET.
        r = get(**{"If-None-Match": etag})
        self.assertEqual((r.status, r.body), (304, b""))
        self.assertEqual(r.headers["ETag"], etag)
        self.assertEqual(get(**{"If-None-Match": f'"x", W/{etag}'}).status, 304)
        self.assertEqual(get(**{"If-None-Match": '"other"'}).status, 200)
        last = get().headers["Last-Modified"]
        self.assertEqual(get(**{"If-Modified-Since": last}).status, 304)
        self.assertProblem(get(**{"If-Match": '"other"'}), 412)
        self.assertEqual(get(**{"If-Match": etag}).status, 200)
        head = s.req("tina", "HEAD", "/home/data.bin", headers={"Range": "bytes=0-9"})
        self.assertEqual((head.status, head.headers["Content-Length"], head.body),
                         (206, "10", b""))

    def test_big_upload_streams_and_dedups(self) -> None:
        s = self.school()
        s.ok("op", "PUT", f"/quotas/users/{s.ids['tina']}", {"bytes": 1 << 30})
        data = os.urandom(1 << 20) * 48  # 48 MiB, chunked and with Content-Length
        digest = hashlib.sha256(data).hexdigest()
        before = len(self.blob_files())
        node = s.put("tina", "/home/video.mp4", data)
        self.assertEqual((node["size"], node["etag"]), (len(data), f'"{digest}"'))
        resp = self.chunked_put(s, "tina", "/home/copy.mp4", data)
        self.assertEqual(resp.status, 201, resp.body[:300])
        # One blob on disk for both.
        self.assertEqual(len(self.blob_files()), before + 1)
        got = s.req("tina", "GET", "/home/copy.mp4", )
        self.assertEqual(hashlib.sha256(got.body).hexdigest(), digest)
        self.assertEqual(self.part_files(), [])

    def test_bad_paths(self) -> None:
        s = self.school()
        s.put("sam", "/home/ok.txt", b"x")
        for path in ("/home/a%2Fb", "/home/a%00b", "/home/a%01b", "/home/a%5Cb",
                     "/home/" + "n" * 256, "/home/a//b", "/home/trailing%20",
                     "/home/%ff%fe"):
            with self.subTest(path):
                self.assertProblem(s.req("sam", "PUT", path, b"x"), 400, "invalid-request")
                self.assertProblem(s.req("sam", "GET", path), 400)
        # Dot segments, literal or percent-encoded, are resolved by the URL parser before any
        # routing (RFC 3986 5.2.4): they never reach a file path, whatever they spell.
        self.assertProblem(s.req("sam", "PUT", "/home/%2e%2e/%2E%2E/%2e%2e/etc/passwd", b"x"),
                           404)
        self.assertProblem(s.req("sam", "GET", "/home/../../../users"), 404)
        s.put("sam", "/home/a/%2e%2e/b.txt", b"b")  # = /home/b.txt
        self.assertEqual(s.req("sam", "GET", "/home/b.txt").body, b"b")
        self.assertEqual(sorted(i["name"] for i in s.ok("sam", "GET", "/home/.")["items"]),
                         ["b.txt", "ok.txt"])
        # Literal "%2e%2e" (escaped percent) is a legal name, NFC is applied.
        s.put("sam", "/home/%252e%252e", b"x")
        nfd = s.put("sam", "/home/a%CC%88.txt", b"x")  # "a" + combining diaeresis
        self.assertEqual(nfd["name"], "\u00e4.txt")
        self.assertEqual(s.req("sam", "GET", "/home/%C3%A4.txt").status, 200)
        # Move targets are checked the same way.
        for to in ("../x", "a/../../b", "/", "x\\y", "a\x00b"):
            with self.subTest(to=to):
                self.assertProblem(s.req("sam", "POST", "/home/ok.txt?action=move",
                                         {"to": to}), 400)
        self.assertProblem(s.req("sam", "POST", "/home/ok.txt?action=move", {"to": 5}), 400)
        json_type = {"Content-Type": "application/json"}
        for bad in ("{", "{} {}", "{'to': 'y'}", '{"to": "a\\u0000b"}'):
            with self.subTest(body=bad):
                self.assertProblem(s.req("sam", "POST", "/home/ok.txt?action=move", bad,
                                         headers=json_type), 400)
        # A body that is not sent as JSON is refused before anything reads it.
        self.assertProblem(s.req("sam", "POST", "/home/ok.txt?action=move", '{"to": "y"}',
                                 headers={"Content-Type": "text/plain"}), 415)
        self.assertProblem(s.req("sam", "POST", "/home/ok.txt?action=move",
                                 {"to": "y", "extra": 1}), 400)


class Trees(FilesTestCase):
    def test_move_and_copy(self) -> None:
        s = self.school()
        s.put("tina", "/home/A/one.txt?parents=true", b"1")
        s.put("tina", "/home/A/sub/two.txt?parents=true", b"22")
        moved = s.ok("tina", "POST", "/home/A?action=move", {"to": "B"})
        self.assertEqual((moved["path"], moved["kind"]), ("B", "folder"))
        self.assertEqual(s.req("tina", "GET", "/home/B/sub/two.txt").body, b"22")
        self.assertProblem(s.req("tina", "GET", "/home/A/one.txt"), 404)
        s.ok("tina", "POST", "/home/B/one.txt?action=move", {"to": "B/eins.txt"})
        copied = s.ok("tina", "POST", "/home/B?action=copy", {"to": "C"}, status=(201,))
        self.assertEqual(copied["path"], "C")
        self.assertEqual(s.req("tina", "GET", "/home/C/sub/two.txt").body, b"22")
        self.assertEqual(s.req("tina", "GET", "/home/B/eins.txt").body, b"1")
        usage = s.ok("tina", "GET", "/usage")["home"]["used"]
        self.assertEqual(usage, 6)  # copies count, though they share the blobs
        self.assertProblem(s.req("tina", "POST", "/home/B?action=copy", {"to": "C"}), 409)
        self.assertProblem(s.req("tina", "POST", "/home/B?action=move", {"to": "B/sub/x"}), 409)
        self.assertProblem(s.req("tina", "POST", "/home/B?action=move", {"to": "Z/B"}), 404)
        s.ok("tina", "POST", "/home/B?action=move&parents=true", {"to": "Z/B"})
        self.assertProblem(s.req("tina", "POST", "/home/missing?action=move", {"to": "x"}), 404)
        self.assertProblem(s.req("tina", "POST", "/home/C?action=move", {}), 400)
        self.assertProblem(s.req("tina", "POST", "/home/?action=move", {"to": "x"}), 400)

    def test_move_between_spaces_moves_the_bytes(self) -> None:
        s = self.school()
        gid = s.group("5a", owner="tina", members=["sam"])
        s.put("tina", "/home/Blatt.pdf", b"%PDF-1.4 worksheet")
        s.ok("tina", "POST", "/home/Blatt.pdf?action=copy",
             {"to": "Blatt.pdf", "space": f"groups/{gid}"}, status=(201,))
        self.assertEqual(s.req("sam", "GET", f"/groups/{gid}/Blatt.pdf").body,
                         b"%PDF-1.4 worksheet")
        s.ok("tina", "POST", "/home/Blatt.pdf?action=move",
             {"to": "Alt.pdf", "space": f"groups/{gid}"})
        usage = s.ok("tina", "GET", "/usage")
        self.assertEqual(usage["home"]["used"], 0)
        self.assertEqual(usage["groups"], [{"group_id": gid, "used": 36,
                                            "limit": usage["groups"][0]["limit"]}])
        # A student may read the class folder, not write to it or move things into it.
        s.put("sam", "/home/mine.txt", b"m")
        self.assertProblem(s.req("sam", "POST", "/home/mine.txt?action=copy",
                                 {"to": "mine.txt", "space": f"groups/{gid}"}), 403)
        self.assertProblem(s.req("sam", "POST", "/home/mine.txt?action=copy",
                                 {"to": "m", "space": "groups/nope"}), 404)
        self.assertProblem(s.req("sam", "POST", "/home/mine.txt?action=copy",
                                 {"to": "m", "space": "elsewhere"}), 400)

    def test_trash_restore_purge(self) -> None:
        s = self.school()
        s.put("sue", "/home/Hausaufgabe/text.txt?parents=true", b"hello")
        item = s.ok("sue", "DELETE", "/home/Hausaufgabe")
        self.assertEqual((item["path"], item["kind"], item["size"], item["space"]),
                         ("Hausaufgabe", "folder", 5, "home"))
        self.assertProblem(s.req("sue", "GET", "/home/Hausaufgabe/text.txt"), 404)
        self.assertEqual(s.ok("sue", "GET", "/home/")["items"], [])
        trash = s.ok("sue", "GET", "/trash")
        self.assertEqual([t["id"] for t in trash["items"]], [item["id"]])
        self.assertEqual(s.ok("sue", "GET", "/trash/"), trash)
        # The trash still counts against the quota.
        self.assertEqual(s.ok("sue", "GET", "/usage")["home"]["used"], 5)
        # Someone else's trash does not exist for you.
        self.assertProblem(s.req("sam", "POST", f"/trash/{item['id']}/restore"), 404)
        self.assertProblem(s.req("sam", "DELETE", f"/trash/{item['id']}"), 404)
        s.ok("sue", "POST", f"/trash/{item['id']}/restore")
        self.assertEqual(s.req("sue", "GET", "/home/Hausaufgabe/text.txt").body, b"hello")
        self.assertProblem(s.req("sue", "POST", f"/trash/{item['id']}/restore"), 404)
        # Restoring onto a taken path is a conflict.
        first = s.ok("sue", "DELETE", "/home/Hausaufgabe/text.txt")
        s.put("sue", "/home/Hausaufgabe/text.txt", b"new")
        self.assertProblem(s.req("sue", "POST", f"/trash/{first['id']}/restore"), 409)
        s.ok("sue", "DELETE", f"/trash/{first['id']}", status=(204,))
        self.assertEqual(s.ok("sue", "GET", "/usage")["home"]["used"], 3)
        self.assertProblem(s.req("sue", "DELETE", f"/trash/{first['id']}"), 404)
        self.assertProblem(s.req("sue", "DELETE", "/trash/not-a-uuid"), 404)
        self.assertProblem(s.req("sue", "DELETE", "/home/"), 400)
        self.assertProblem(s.req("sue", "DELETE", "/home/none"), 404)
        node = s.ok("sue", "GET", "/home/Hausaufgabe/")["items"][0]
        self.assertProblem(s.req("sue", "DELETE", "/home/Hausaufgabe/text.txt",
                                 headers={"If-Match": '"' + "0" * 64 + '"'}), 412)
        s.ok("sue", "DELETE", "/home/Hausaufgabe/text.txt", headers={"If-Match": node["etag"]})
        # Pages of the trash.
        for i in range(3):
            s.put("sue", f"/home/t{i}", b"t")
            s.ok("sue", "DELETE", f"/home/t{i}")
        page = s.ok("sue", "GET", "/trash?limit=2")
        self.assertEqual(len(page["items"]), 2)
        rest = s.ok("sue", "GET", f"/trash?limit=2&cursor={page['next_cursor']}")
        self.assertEqual(len(rest["items"]), 2)
        self.assertProblem(s.req("sue", "GET", "/trash?space=groups/x"), 404)


class Quotas(FilesTestCase):
    def test_content_length_over_quota_is_refused_before_writing(self) -> None:
        s = self.school()
        s.ok("ada", "PUT", f"/quotas/users/{s.ids['sam']}", {"bytes": 1000})
        parts_before = len(self.part_files())
        resp = s.req("sam", "PUT", "/home/big.bin", b"x" * 2000)
        self.assertProblem(resp, 507, "insufficient-storage")
        self.assertEqual(len(self.part_files()), parts_before)
        s.put("sam", "/home/a.bin", b"x" * 600)
        self.assertProblem(s.req("sam", "PUT", "/home/b.bin", b"x" * 600), 507)
        # Replacing a file counts only the difference.
        s.put("sam", "/home/a.bin", b"y" * 1000)
        # "mail": the mailbox's share of "used" (the mail module counts against the home).
        self.assertEqual(s.ok("sam", "GET", "/usage")["home"],
                         {"used": 1000, "limit": 1000, "mail": 0})
        self.assertProblem(s.req("sam", "GET", "/home/b.bin"), 404)

    def test_chunked_upload_is_cut_off_and_cleaned_up(self) -> None:
        s = self.school()
        s.ok("ada", "PUT", f"/quotas/users/{s.ids['sue']}", {"bytes": 5000})
        resp = self.chunked_put(s, "sue", "/home/stream.bin", os.urandom(20000))
        self.assertProblem(resp, 507)
        self.assertEqual(self.part_files(), [])
        self.assertProblem(s.req("sue", "GET", "/home/stream.bin"), 404)
        self.assertEqual(s.ok("sue", "GET", "/usage")["home"]["used"], 0)
        ok = self.chunked_put(s, "sue", "/home/small.bin", b"s" * 4000)
        self.assertEqual(ok.status, 201, ok.body)

    def test_quota_settings(self) -> None:
        s = self.school()
        gid = s.group("7b", owner="tina")
        s.ok("ada", "PUT", "/quotas/defaults/user", {"bytes": 123})
        s.ok("ada", "PUT", f"/quotas/groups/{gid}", {"bytes": 456})
        self.assertEqual(s.ok("pia", "GET", "/usage")["home"]["limit"], 123)
        got = s.ok("ada", "GET", "/quotas")
        self.assertEqual(got["defaults"]["user"], 123)
        self.assertEqual(got["overrides"], [{"space_type": "group", "space_id": gid,
                                             "bytes": 456}])
        self.assertEqual(s.ok("tina", "GET", "/usage")["groups"][0]["limit"], 456)
        s.ok("ada", "DELETE", "/quotas/defaults/user", status=(204,))
        self.assertEqual(s.ok("pia", "GET", "/usage")["home"]["limit"], 1 << 30)
        self.assertProblem(s.req("ada", "DELETE", "/quotas/defaults/user"), 404)
        self.assertProblem(s.req("tina", "PUT", "/quotas/defaults/user", {"bytes": 1}), 403)
        self.assertProblem(s.req("ada", "PUT", "/quotas/defaults/teachers", {"bytes": 1}), 404)
        self.assertProblem(s.req("ada", "PUT", "/quotas/planets/x", {"bytes": 1}), 404)
        self.assertProblem(s.req("ada", "PUT", f"/quotas/users/{uuid.uuid4()}", {"bytes": 1}),
                           404)
        self.assertProblem(s.req("ada", "PUT", f"/quotas/groups/{uuid.uuid4()}", {"bytes": 1}),
                           404)
        self.assertProblem(s.req("ada", "PUT", "/quotas/defaults/user", {"bytes": -1}), 400)
        self.assertProblem(s.req("ada", "PUT", "/quotas/defaults/user", {"bytes": "1"}), 400)
        self.assertProblem(s.req("ada", "PUT", "/quotas/defaults/user", {}), 400)


class Access(FilesTestCase):
    def test_member_non_member_owner_admin(self) -> None:
        s = self.school()
        gid = s.group("5a", owner="tina", members=["sam", "pia"])
        base = f"/groups/{gid}"
        s.put("tina", f"{base}/Blatt1.txt", b"Aufgabe")
        # Members read.
        self.assertEqual(s.req("sam", "GET", f"{base}/Blatt1.txt").body, b"Aufgabe")
        self.assertEqual(s.req("pia", "GET", f"{base}/")
                         .json()["items"][0]["name"], "Blatt1.txt")
        # A student member has no files.write: no writing.
        self.assertProblem(s.req("sam", "PUT", f"{base}/x.txt", b"x"), 403, "forbidden")
        self.assertProblem(s.req("sam", "DELETE", f"{base}/Blatt1.txt"), 403)
        self.assertProblem(s.req("sam", "POST", f"{base}/neu/?action=mkdir"), 403)
        # Non-members do not see the group's files at all.
        for who in ("sue", "tom"):
            with self.subTest(who):
                self.assertProblem(s.req(who, "GET", f"{base}/Blatt1.txt"), 404)
                self.assertProblem(s.req(who, "PUT", f"{base}/x.txt", b"x"), 404)
                self.assertProblem(s.req(who, "GET", f"/trash?space=groups/{gid}"), 404)
        # A teacher member holding files.write writes; the admin (files.manage) too.
        fixtures.check(s.host.request(
            "PUT", f"/api/v1/schools/{s.slug}/groups/{gid}/members/{s.ids['tom']}",
            {"role": "member"}, token=s.tokens["tina"]), 200, 201, what="member")
        s.put("tom", f"{base}/tom.txt", b"t")
        s.put("ada", f"{base}/ada.txt", b"a")
        item = s.ok("tom", "DELETE", f"{base}/tom.txt")
        self.assertEqual(item["space"], f"groups/{gid}")
        self.assertProblem(s.req("sam", "POST", f"/trash/{item['id']}/restore"), 403)
        s.ok("tina", "POST", f"/trash/{item['id']}/restore")
        # Homes are private, even from admins.
        s.put("sam", "/home/secret.txt", b"s")
        self.assertProblem(s.req("ada", "GET", f"/groups/{s.ids['sam']}/secret.txt"), 404)
        self.assertProblem(s.req("sam", "GET", f"/groups/{uuid.uuid4()}/x"), 404)
        self.assertProblem(s.req("sam", "GET", "/groups/not-a-uuid/x"), 404)

    def test_no_token_operator_disabled_module_other_school(self) -> None:
        s = self.school()
        other = self.school()
        gid = other.group("fremd", owner="tina")
        other.put("tina", f"/groups/{gid}/x.txt", b"x")
        self.assertProblem(s.req(None, "GET", "/home/"), 401)
        self.assertProblem(s.req(None, "PUT", "/home/x", b"x"), 401)
        self.assertProblem(s.req("op", "GET", "/home/"), 404)
        # Another school's group is no group here, for its members too.
        self.assertProblem(s.req("tina", "GET", f"/groups/{gid}/x.txt"), 404)
        self.assertProblem(s.req("ada", "PUT", f"/groups/{gid}/y.txt", b"y"), 404)
        item = other.ok("tina", "DELETE", f"/groups/{gid}/x.txt")
        self.assertProblem(s.req("tina", "POST", f"/trash/{item['id']}/restore"), 404)
        self.assertProblem(s.req("ada", "PUT", f"/quotas/groups/{gid}", {"bytes": 1}), 404)
        self.assertProblem(s.req("ada", "PUT", f"/quotas/users/{other.ids['sam']}",
                                 {"bytes": 1}), 404)
        bare = self.school(modules=("groups",))
        self.assertProblem(bare.req("tina", "GET", "/home/"), 404)
        self.assertProblem(bare.req("tina", "PUT", "/home/x", b"x"), 404)


class Shares(FilesTestCase):
    def test_share_link_lifecycle(self) -> None:
        s = self.school()
        data = b"Elternbrief " * 50
        s.put("tina", "/home/Brief.txt", data)
        link = s.ok("tina", "POST", "/home/Brief.txt?action=share", {"expires_in": 3600},
                    status=(201,))
        self.assertEqual(set(link), {"id", "token", "url", "expires_at", "has_password",
                                     "space", "path"})
        resp = self.host.request("GET", link["url"])
        self.assertEqual((resp.status, resp.body), (200, data))
        self.assertEqual(resp.headers["Content-Disposition"],
                         "attachment; filename*=UTF-8''Brief.txt")
        part = self.host.request("GET", link["url"], headers={"Range": "bytes=0-9"})
        self.assertEqual((part.status, part.body), (206, data[:10]))
        self.assertEqual(self.host.request("HEAD", link["url"]).status, 200)
        mine = s.ok("tina", "GET", "/shares")["items"]
        self.assertEqual([(m["id"], m["path"], m["expired"]) for m in mine],
                         [(link["id"], "Brief.txt", False)])
        self.assertNotIn(link["token"], self.sql("SELECT string_agg(token_hash, ',') "
                                                 "FROM files.shares"))
        # Only its creator (or files.manage) revokes it.
        self.assertProblem(s.req("tom", "DELETE", f"/shares/{link['id']}"), 404)
        s.ok("tina", "DELETE", f"/shares/{link['id']}", status=(204,))
        self.assertProblem(self.host.request("GET", link["url"]), 404, "not-found")
        self.assertProblem(self.host.request("GET", "/api/v1/files/share/" + "A" * 43), 404)
        self.assertProblem(self.host.request("GET", "/api/v1/files/share/short"), 404)

    def test_password_expiry_trash_and_refusals(self) -> None:
        s = self.school()
        s.put("tina", "/home/Noten.txt", b"geheim")
        soon = (datetime.datetime.now(datetime.timezone.utc)
                + datetime.timedelta(days=2)).replace(microsecond=0).isoformat()
        link = s.ok("tina", "POST", "/home/Noten.txt?action=share",
                    {"password": "sesam", "expires_at": soon}, status=(201,))
        self.assertTrue(link["has_password"])
        resp = self.host.request("GET", link["url"])
        self.assertProblem(resp, 401)
        self.assertIn("Basic", resp.headers["WWW-Authenticate"])
        wrong = base64.b64encode(b"x:nope").decode()
        right = base64.b64encode(b"anyone:sesam").decode()
        self.assertProblem(self.host.request("GET", link["url"],
                                             headers={"Authorization": f"Basic {wrong}"}), 401)
        resp = self.host.request("GET", link["url"], headers={"Authorization": f"Basic {right}"})
        self.assertEqual((resp.status, resp.body), (200, b"geheim"))
        # Expired links and links to trashed files stop working.
        self.sql(f"UPDATE files.shares SET expires_at = now() - interval '1 second' "
                 f"WHERE id = '{link['id']}'")
        self.assertProblem(self.host.request("GET", link["url"],
                                              headers={"Authorization": f"Basic {right}"}), 404)
        other = s.ok("tina", "POST", "/home/Noten.txt?action=share", {}, status=(201,))
        s.ok("tina", "DELETE", "/home/Noten.txt")
        self.assertProblem(self.host.request("GET", other["url"]), 404)
        # Refusals.
        s.put("tina", "/home/f/x.txt?parents=true", b"x")
        self.assertProblem(s.req("tina", "POST", "/home/f?action=share", {}), 400)
        self.assertProblem(s.req("sam", "POST", "/home/f?action=share", {}), 404)
        s.put("sam", "/home/s.txt", b"s")
        self.assertProblem(s.req("sam", "POST", "/home/s.txt?action=share", {}), 403)
        for body in ({"expires_in": 10}, {"expires_in": 400 * 86400}, {"expires_in": "1"},
                     {"expires_at": "tomorrow"}, {"expires_in": 100, "expires_at": "x"},
                     {"password": "ab"}, {"password": 1}, {"color": "red"}):
            with self.subTest(body):
                self.assertProblem(s.req("tina", "POST", "/home/f/x.txt?action=share", body),
                                   400)
        # Disabled module: its links stop.
        live = s.ok("tina", "POST", "/home/f/x.txt?action=share", {}, status=(201,))
        self.assertEqual(self.host.request("GET", live["url"]).status, 200)
        fixtures.check(self.host.request("DELETE",
                                         f"/api/v1/schools/{s.slug}/modules/files",
                                         token=self.op_token), 204, what="disable files")
        self.assertProblem(self.host.request("GET", live["url"]), 404)

    def test_wrong_link_passwords_are_throttled_per_link(self) -> None:
        s = self.school()
        s.put("tina", "/home/Klausur.txt", b"loesung")
        link = s.ok("tina", "POST", "/home/Klausur.txt?action=share", {"password": "sesam"},
                    status=(201,))
        other = s.ok("tina", "POST", "/home/Klausur.txt?action=share", {"password": "sesam"},
                     status=(201,))
        right = {"Authorization": "Basic " + base64.b64encode(b"x:sesam").decode()}
        # Asking without a password (a browser's first try) counts nothing.
        for _ in range(12):
            self.assertProblem(self.host.request("GET", link["url"]), 401)
        for i in range(10):
            wrong = {"Authorization": "Basic " + base64.b64encode(f"x:guess{i}".encode()).decode()}
            self.assertProblem(self.host.request("GET", link["url"], headers=wrong), 401)
        # The eleventh try is refused before any hashing, the right password too.
        resp = self.host.request("GET", link["url"], headers=right)
        self.assertProblem(resp, 429)
        self.assertGreater(int(resp.headers["Retry-After"]), 0)
        # Only that link: another link to the same file still opens.
        resp = self.host.request("GET", other["url"], headers=right)
        self.assertEqual((resp.status, resp.body), (200, b"loesung"))
        key = "share:" + hashlib.sha256(link["token"].encode()).hexdigest()
        self.assertEqual(self.sql(
            f"SELECT failures FROM core.login_throttle WHERE key = '{key}'"), "10")

    def test_malformed_basic_and_share_ids(self) -> None:
        """Basic headers that carry no password (not base64, no colon, a NUL byte, nothing)
        are a 401 asking for one and count nothing against the link; a
        share id that is no UUID is a 404, as is another person's link."""
        s = self.school()
        s.put("tina", "/home/Arbeitsblatt.txt", b"blatt")
        link = s.ok("tina", "POST", "/home/Arbeitsblatt.txt?action=share",
                    {"password": "sesam"}, status=(201,))
        for auth in ("Basic !!!not-base64!!!", "Basic " + base64.b64encode(b"nocolon").decode(),
                     "Basic " + base64.b64encode(b"x:ses\x00am").decode(), "Basic "):
            with self.subTest(auth=auth):
                resp = self.host.request("GET", link["url"], headers={"Authorization": auth})
                self.assertProblem(resp, 401)
                self.assertIn("Basic", resp.headers["WWW-Authenticate"])
        key = "share:" + hashlib.sha256(link["token"].encode()).hexdigest()
        self.assertEqual(self.sql(
            f"SELECT count(*) FROM core.login_throttle WHERE key = '{key}'"), "0")
        right = {"Authorization": "Basic " + base64.b64encode(b"anyone:sesam").decode()}
        self.assertEqual(self.host.request("GET", link["url"], headers=right).body, b"blatt")
        self.assertProblem(s.req("tina", "DELETE", "/shares/not-a-uuid"), 404)
        self.assertProblem(s.req("sam", "DELETE", f"/shares/{link['id']}"), 404)
        self.assertEqual(self.host.request("GET", link["url"], headers=right).status, 200)


class Lifecycle(FilesTestCase):
    def test_user_deleted_erases_the_home_and_export_lists_files(self) -> None:
        s = self.school()
        gid = s.group("g", owner="tina", members=["sue"])
        s.put("sue", "/home/tagebuch.txt", b"liebes Tagebuch")
        s.put("tina", f"/groups/{gid}/from-tina.txt", b"x")
        export = fixtures.check(self.host.request(
            "GET", f"/api/v1/schools/{s.slug}/users/{s.ids['sue']}/export",
            token=self.op_token), 200, what="export").json()
        files = export["modules"]["files"] if "modules" in export else export["files"]
        self.assertEqual([f["path"] for f in files["home"]], ["tagebuch.txt"])
        fixtures.check(self.host.request("DELETE",
                                         f"/api/v1/schools/{s.slug}/users/{s.ids['sue']}",
                                         token=self.op_token), 204, what="delete user")
        self.assertEqual(self.sql(f"SELECT count(*) FROM files.nodes WHERE space_id = "
                                  f"'{s.ids['sue']}'"), "0")
        self.assertEqual(self.sql(f"SELECT count(*) FROM files.usage WHERE space_id = "
                                  f"'{s.ids['sue']}'"), "0")

    def test_group_deleted_moves_the_tree_to_the_trash(self) -> None:
        s = self.school()
        gid = s.group("weg", owner="tina")
        s.put("tina", f"/groups/{gid}/a/b.txt?parents=true", b"b")
        s.put("tina", f"/groups/{gid}/c.txt", b"c")
        fixtures.check(self.host.request("DELETE", f"/api/v1/schools/{s.slug}/groups/{gid}",
                                         token=s.tokens["tina"]), 204, what="delete group")
        self.assertEqual(self.sql(f"SELECT string_agg(path, ',' ORDER BY path) FROM files.trash "
                                  f"WHERE space_id = '{gid}'"), "a,c.txt")
        self.assertEqual(self.sql(f"SELECT count(*) FROM files.nodes WHERE space_id = '{gid}' "
                                  f"AND trash_id IS NULL"), "0")

    def test_gc_removes_orphans_and_keeps_what_rows_name(self) -> None:
        s = self.school()
        keep = os.urandom(5000)
        drop = os.urandom(5000)
        s.put("tina", "/home/keep.bin", keep)
        s.put("tina", "/home/drop.bin", drop)
        item = s.ok("tina", "DELETE", "/home/drop.bin")
        keep_path = os.path.join(self.host.data_dir, "files", "blobs",
                                 hashlib.sha256(keep).hexdigest()[:2])
        drop_hash = hashlib.sha256(drop).hexdigest()
        self.assertIn(drop_hash, self.blob_files())  # in the trash: still named by a row
        s.ok("tina", "DELETE", f"/trash/{item['id']}", status=(204,))
        stale = os.path.join(self.host.data_dir, "files", "tmp", "dead.part")
        with open(stale, "wb") as f:
            f.write(b"half an upload")
        os.utime(stale, (1, 1))
        proc = self.host.run(["files", "gc"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("temporary files removed: 1", proc.stdout)
        self.assertNotIn(drop_hash, self.blob_files())
        self.assertTrue(os.path.isdir(keep_path))
        self.assertEqual(s.req("tina", "GET", "/home/keep.bin").body, keep)
        self.assertFalse(os.path.exists(stale))
        proc = self.host.run(["files", "nope"])
        self.assertEqual(proc.returncode, 2)
        self.assertIn("files gc", proc.stderr)

    def test_gc_expires_old_trash_batch_after_batch(self) -> None:
        """Trash older than [files] trash_days (30) is purged by gc, its bytes leave the
        usage and its blob the disk; newer trash stays. More items than one transaction
        takes (1,000) all go in the same run."""
        s = self.school()
        old_body, new_body = os.urandom(3000), os.urandom(2000)
        s.put("sam", "/home/old.bin", old_body)
        s.put("sam", "/home/new.bin", new_body)
        old_item = s.ok("sam", "DELETE", "/home/old.bin")
        new_item = s.ok("sam", "DELETE", "/home/new.bin")
        self.assertEqual(s.ok("sam", "GET", "/usage")["home"]["used"], 5000)
        self.sql(f"UPDATE files.trash SET deleted_at = now() - interval '31 days' "
                 f"WHERE id = '{old_item['id']}'")
        # 1,100 more expired items (empty folders) of the same person, made directly.
        self.sql(f"INSERT INTO files.trash (school_id, space_type, space_id, path, kind, "
                 f"deleted_at) SELECT school_id, 'user', '{s.ids['sam']}', 'f' || i, 'folder', "
                 f"now() - interval '40 days' FROM files.trash, generate_series(1, 1100) i "
                 f"WHERE id = '{old_item['id']}'")
        proc = self.host.run(["files", "gc"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("trash items expired: 1101", proc.stdout)
        self.assertEqual([i["id"] for i in s.ok("sam", "GET", "/trash")["items"]],
                         [new_item["id"]])
        self.assertProblem(s.req("sam", "POST", f"/trash/{old_item['id']}/restore"), 404)
        self.assertEqual(s.ok("sam", "GET", "/usage")["home"]["used"], 2000)
        self.assertNotIn(hashlib.sha256(old_body).hexdigest(), self.blob_files())
        self.assertIn(hashlib.sha256(new_body).hexdigest(), self.blob_files())
        s.ok("sam", "POST", f"/trash/{new_item['id']}/restore")
        self.assertEqual(s.req("sam", "GET", "/home/new.bin").body, new_body)
        proc = self.host.run(["files", "gc"])
        self.assertIn("trash items expired: 0", proc.stdout)


if __name__ == "__main__":
    harness.main()
