# SPDX-License-Identifier: Apache-2.0
"""caldav_todo_client.py - python3-caldav (Debian's, run with /usr/bin/python3) with to-dos
against atriumd, as a task app would: test_caldav_todos.py runs it and checks what it prints.

    /usr/bin/python3 caldav_todo_client.py URL USER PASSWORD

It discovers the account from URL (/.well-known/caldav), makes a calendar, saves two to-dos,
searches them (all, by a time-range, by UID, the pending ones), completes one, follows the
changes with sync tokens and deletes the other, printing one JSON object of what it saw.
Failures raise (a traceback and exit status 1).
"""

import datetime
import json
import sys

import caldav
import requests

NOTEN = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//caldav_todo_client//EN
BEGIN:VTODO
UID:noten
DTSTAMP:20260101T000000Z
DUE:20260520T160000Z
SUMMARY:Noten eintragen
STATUS:NEEDS-ACTION
END:VTODO
END:VCALENDAR
"""

ZEUGNISSE = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//caldav_todo_client//EN
BEGIN:VTODO
UID:zeugnisse
DTSTAMP:20260101T000000Z
DUE;VALUE=DATE:20260701
SUMMARY:Zeugnisse
PRIORITY:1
END:VTODO
END:VCALENDAR
"""

UTC = datetime.timezone.utc


def summaries(objs) -> list:
    return sorted(str(o.icalendar_component["summary"]) for o in objs)


def main() -> None:
    url, user, password = sys.argv[1:4]
    out = {}
    client = caldav.DAVClient(url=url, username=user, password=password,
                              auth=requests.auth.HTTPBasicAuth(user, password))
    principal = client.principal()
    cal = principal.make_calendar(name="Aufgaben", cal_id="aufgaben")
    out["components"] = sorted(cal.get_supported_components())
    cal.save_todo(NOTEN)
    cal.save_todo(ZEUGNISSE)
    token = cal.objects_by_sync_token().sync_token
    out["all"] = summaries(cal.todos(include_completed=True))
    out["in_may"] = summaries(cal.search(todo=True, include_completed=True,
                                         start=datetime.datetime(2026, 5, 1, tzinfo=UTC),
                                         end=datetime.datetime(2026, 6, 1, tzinfo=UTC)))
    out["by_uid"] = str(cal.todo_by_uid("zeugnisse").icalendar_component["summary"])
    # Pending to-dos: this client asks with is-not-defined and negated text-matches.
    out["pending_before"] = summaries(cal.todos())
    noten = cal.todo_by_uid("noten")
    noten.complete(completion_timestamp=datetime.datetime(2026, 5, 19, 12, tzinfo=UTC))
    out["completed_status"] = str(cal.todo_by_uid("noten").icalendar_component["status"])
    out["pending_after"] = summaries(cal.todos())
    changed = cal.objects_by_sync_token(sync_token=token, load_objects=True)
    out["changed_since_token"] = sorted(str(o.url).rsplit("/", 1)[1] for o in changed)
    token = changed.sync_token
    cal.todo_by_uid("zeugnisse").delete()
    gone = cal.objects_by_sync_token(sync_token=token)
    out["after_delete"] = sorted(str(o.url).rsplit("/", 1)[1] for o in gone)
    out["left"] = sorted(str(o.icalendar_component["uid"])
                         for o in cal.todos(include_completed=True))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
