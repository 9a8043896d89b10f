# SPDX-License-Identifier: Apache-2.0
"""caldav_client.py - python3-caldav (Debian's, run with /usr/bin/python3) against atriumd, as
a phone-calendar user would: test_caldav_client.py runs it and checks what it prints.

    /usr/bin/python3 caldav_client.py URL USER PASSWORD

It discovers the account from URL (/.well-known/caldav), makes a calendar, saves a weekly
series, searches a month with expand, edits an event, syncs with tokens and deletes, printing
one JSON object of what it saw. Failures raise (a traceback and exit status 1).
"""

import datetime
import json
import sys

import caldav
import requests

SERIES = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//caldav_client//EN
BEGIN:VEVENT
UID:series-1
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Berlin:20260504T080000
DTEND;TZID=Europe/Berlin:20260504T090000
RRULE:FREQ=WEEKLY;COUNT=4
SUMMARY:Mathe 7b
END:VEVENT
END:VCALENDAR
"""

SINGLE = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//caldav_client//EN
BEGIN:VEVENT
UID:single-1
DTSTAMP:20260101T000000Z
DTSTART:20260520T100000Z
DTEND:20260520T110000Z
SUMMARY:Elternabend
END:VEVENT
END:VCALENDAR
"""


def main() -> None:
    url, user, password = sys.argv[1:4]
    out = {}
    # Basic from the first request on, as DAVx5 and Thunderbird send it once asked: this
    # client's own way (an unauthenticated request first, then a GET when the connection is
    # cut) is not what is under test.
    client = caldav.DAVClient(url=url, username=user, password=password,
                              auth=requests.auth.HTTPBasicAuth(user, password))
    principal = client.principal()
    out["principal"] = str(principal.url)
    out["home"] = str(principal.calendar_home_set.url)
    out["calendars_before"] = sorted(c.name for c in principal.calendars())
    cal = principal.make_calendar(name="Klassenarbeiten", cal_id="klassenarbeiten")
    out["made"] = str(cal.url)
    cal.save_event(SERIES)
    cal.save_event(SINGLE)
    token = cal.objects_by_sync_token().sync_token
    found = cal.search(start=datetime.datetime(2026, 5, 1, tzinfo=datetime.timezone.utc),
                       end=datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc),
                       event=True, expand=True)
    out["expanded"] = sorted(
        (str(o.icalendar_instance.walk("vevent")[0]["summary"]),
         o.icalendar_instance.walk("vevent")[0]["dtstart"].dt.astimezone(
             datetime.timezone.utc).isoformat())
        for o in found)
    single = cal.event_by_uid("single-1")
    single.icalendar_instance.walk("vevent")[0]["summary"] = "Elternabend 7b"
    single.save()
    out["edited"] = str(cal.event_by_uid("single-1").icalendar_instance.walk(
        "vevent")[0]["summary"])
    changed = cal.objects_by_sync_token(sync_token=token, load_objects=True)
    out["changed_since_token"] = sorted(str(o.url).rsplit("/", 1)[1] for o in changed)
    token = changed.sync_token
    cal.event_by_uid("series-1").delete()
    gone = cal.objects_by_sync_token(sync_token=token)
    out["after_delete"] = sorted(str(o.url).rsplit("/", 1)[1] for o in gone)
    out["left"] = sorted(str(o.icalendar_instance.walk("vevent")[0]["uid"])
                         for o in cal.events())
    out["calendars_after"] = sorted(c.name for c in principal.calendars())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
