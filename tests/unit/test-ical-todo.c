/* SPDX-License-Identifier: Apache-2.0 */
/* test-ical-todo.c - the calendar plugin's VTODO reader and editor (plugins/calendar/
 * ical-todo.c): the columns calendar.todos keeps, read from a CalDAV body (dates, zones,
 * DURATION, status, priority), the refusals, and REST's edits of a stored to-do keeping what
 * they do not touch. libical runs for real (ical*.c are compiled in). */
#include <string.h>

#include <glib.h>

#include <atrium/host.h>

#include "ical.h"

#define HEAD "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
#define TAIL "END:VCALENDAR\r\n"

static CalTodo *
parse (const char *body, GError **error)
{
        g_autofree char *text =
                g_strconcat (HEAD "BEGIN:VTODO\r\nUID:u1\r\nDTSTAMP:20260101T000000Z\r\n", body,
                             "END:VTODO\r\n" TAIL, NULL);
        return cal_todo_parse (text, error);
}

static void
test_columns (void)
{
        g_autoptr (GError) error = NULL;
        g_autoptr (CalTodo) t = parse ("SUMMARY:Noten\r\nDESCRIPTION:7b\r\nPRIORITY:2\r\n"
                                       "PERCENT-COMPLETE:40\r\nSTATUS:IN-PROCESS\r\n"
                                       "DTSTART;TZID=Europe/Berlin:20260504T080000\r\n"
                                       "DUE;TZID=Europe/Berlin:20260505T080000\r\n"
                                       "X-KEEP:yes\r\n",
                                       &error);
        g_assert_no_error (error);
        g_assert_cmpstr (t->uid, ==, "u1");
        g_assert_cmpstr (t->summary, ==, "Noten");
        g_assert_cmpstr (t->description, ==, "7b");
        g_assert_cmpstr (t->status, ==, "in-process");
        g_assert_cmpint (t->priority, ==, 2);
        g_assert_cmpint (t->percent, ==, 40);
        g_assert_true (t->has_start && t->has_due && !t->has_completed && !t->is_date);
        g_assert_cmpint (t->start, ==, 1777874400); /* 2026-05-04T06:00:00Z */
        g_assert_cmpint (t->due, ==, 1777874400 + 86400);
        g_assert_false (t->recurring);
        g_assert_nonnull (strstr (t->ical, "X-KEEP:yes"));
}

static void
test_dates_duration_and_none (void)
{
        g_autoptr (GError) error = NULL;
        g_autoptr (CalTodo) d = parse ("DUE;VALUE=DATE:20260515\r\n", &error);
        g_assert_no_error (error);
        g_assert_true (d->is_date && d->has_due && !d->has_start);
        g_assert_cmpint (d->due, ==, 1778803200); /* 2026-05-15 */
        g_assert_cmpint (d->percent, ==, -1);
        g_assert_null (d->status);
        g_assert_cmpstr (d->summary, ==, "");
        g_autoptr (CalTodo) u = parse ("DTSTART:20260504T080000Z\r\nDURATION:PT2H\r\n"
                                       "RRULE:FREQ=WEEKLY\r\nCOMPLETED:20260504T090000Z\r\n",
                                       &error);
        g_assert_no_error (error);
        g_assert_true (u->has_due && u->recurring && u->has_completed);
        g_assert_cmpint (u->due - u->start, ==, 7200);
        g_assert_true (u->due_is_duration);
        g_assert_cmpint (u->completed, ==, u->start + 3600);
        g_autoptr (CalTodo) n = parse ("", &error);
        g_assert_no_error (error);
        g_assert_false (n->has_start || n->has_due || n->has_completed);
}

static void
test_refusals (void)
{
        static const struct {
                const char *body;
                int code;
        } bad[] = {
                {"STATUS:CONFIRMED\r\n", ATRIUM_ERROR_UNPROCESSABLE},
                {"PRIORITY:12\r\n", ATRIUM_ERROR_UNPROCESSABLE},
                {"PERCENT-COMPLETE:140\r\n", ATRIUM_ERROR_UNPROCESSABLE},
                {"DTSTART:20260510T000000Z\r\nDUE:20260501T000000Z\r\n",
                 ATRIUM_ERROR_UNPROCESSABLE},
                {"DTSTART;VALUE=DATE:20260510\r\nDUE:20260511T000000Z\r\n",
                 ATRIUM_ERROR_UNPROCESSABLE},
                {"DUE:20260510T000000Z\r\nDURATION:PT1H\r\n", ATRIUM_ERROR_UNPROCESSABLE},
                {"DURATION:PT1H\r\n", ATRIUM_ERROR_UNPROCESSABLE},
                {"DUE;TZID=Mars/Olympus:20260510T000000\r\n", ATRIUM_ERROR_UNPROCESSABLE},
                {"DUE:INVALID\r\n", ATRIUM_ERROR_UNPROCESSABLE},
                {"DUE:18000101T000000Z\r\n", ATRIUM_ERROR_UNPROCESSABLE},
        };
        for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
                g_autoptr (GError) error = NULL;
                g_autoptr (CalTodo) t = parse (bad[i].body, &error);
                g_assert_null (t);
                g_assert_error (error, ATRIUM_ERROR, bad[i].code);
        }
        static const char *const whole[] = {
                HEAD TAIL,
                "not icalendar",
                HEAD
                "BEGIN:VTODO\r\nUID:a\r\nEND:VTODO\r\nBEGIN:VTODO\r\nUID:b\r\nEND:VTODO\r\n" TAIL,
                HEAD "BEGIN:VTODO\r\nUID:a\r\nEND:VTODO\r\nBEGIN:VEVENT\r\nUID:a\r\n"
                     "DTSTART:20260101T000000Z\r\nEND:VEVENT\r\n" TAIL,
                HEAD "BEGIN:VTODO\r\nSUMMARY:no uid\r\nEND:VTODO\r\n" TAIL,
                HEAD "BEGIN:X\r\nBEGIN:X\r\nBEGIN:X\r\nBEGIN:X\r\nBEGIN:X\r\nBEGIN:X\r\nBEGIN:X\r\n"
                     "BEGIN:X\r\nBEGIN:X\r\n" TAIL,
        };
        for (guint i = 0; i < G_N_ELEMENTS (whole); i++) {
                g_autoptr (GError) error = NULL;
                g_autoptr (CalTodo) t = cal_todo_parse (whole[i], &error);
                g_assert_null (t);
                g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID);
        }
        /* Two masters of one UID; an override without its master. */
        g_autoptr (GError) error = NULL;
        g_autoptr (CalTodo) t = cal_todo_parse (
                HEAD
                "BEGIN:VTODO\r\nUID:a\r\nEND:VTODO\r\nBEGIN:VTODO\r\nUID:a\r\nEND:VTODO\r\n" TAIL,
                &error);
        g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNPROCESSABLE);
        g_clear_error (&error);
        g_autoptr (CalTodo) o = cal_todo_parse (HEAD "BEGIN:VTODO\r\nUID:a\r\n"
                                                     "RECURRENCE-ID:20260101T000000Z\r\n"
                                                     "END:VTODO\r\n" TAIL,
                                                &error);
        g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNPROCESSABLE);
}

static JsonObject *
json (const char *text)
{
        g_autoptr (JsonParser) p = json_parser_new ();
        g_assert_true (json_parser_load_from_data (p, text, -1, NULL));
        return json_object_ref (json_node_get_object (json_parser_get_root (p)));
}

static void
test_edit (void)
{
        g_autoptr (GError) error = NULL;
        g_autoptr (JsonObject) made = json ("{\"summary\":\"Briefe\",\"due\":\"2026-05-04\","
                                            "\"priority\":3,\"status\":\"needs-action\"}");
        g_autoptr (CalTodo) t = cal_todo_edit (NULL, "new-uid", made, &error);
        g_assert_no_error (error);
        g_assert_cmpstr (t->uid, ==, "new-uid");
        g_assert_cmpstr (t->summary, ==, "Briefe");
        g_assert_true (t->is_date && t->has_due);
        g_assert_cmpint (t->priority, ==, 3);
        g_assert_cmpstr (t->status, ==, "needs-action");
        /* A stored to-do with what REST does not know: kept through an edit. */
        g_autofree char *stored = g_strconcat (t->ical, NULL);
        char *end = strstr (stored, "END:VTODO");
        g_assert_nonnull (end);
        g_autofree char *with =
                g_strdup_printf ("%.*sX-KEEP:yes\r\n%s", (int) (end - stored), stored, end);
        g_autoptr (JsonObject) done = json ("{\"status\":\"completed\",\"due\":null,"
                                            "\"percent_complete\":100,\"priority\":0}");
        g_autoptr (CalTodo) d = cal_todo_edit (with, "ignored", done, &error);
        g_assert_no_error (error);
        g_assert_cmpstr (d->uid, ==, "new-uid");
        g_assert_cmpstr (d->summary, ==, "Briefe");
        g_assert_cmpstr (d->status, ==, "completed");
        g_assert_true (d->has_completed); /* completing sets the time */
        g_assert_false (d->has_due);
        g_assert_cmpint (d->percent, ==, 100);
        g_assert_cmpint (d->priority, ==, 0);
        g_assert_nonnull (strstr (d->ical, "X-KEEP:yes"));
        /* A start after the due date is refused, as from CalDAV. */
        g_autoptr (JsonObject) bad = json ("{\"start\":\"2026-05-10T00:00:00Z\","
                                           "\"due\":\"2026-05-01T00:00:00Z\"}");
        g_autoptr (CalTodo) b = cal_todo_edit (with, "x", bad, &error);
        g_assert_null (b);
        g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNPROCESSABLE);
}

static void
test_scan (void)
{
        gboolean todo, event;
        g_assert_true (
                cal_ics_scan (HEAD "BEGIN:VTODO\r\nEND:VTODO\r\n" TAIL, &todo, &event, NULL));
        g_assert_true (todo && !event);
        g_assert_true (cal_ics_scan (HEAD "BEGIN:VEVENT\nEND:VEVENT\n" TAIL, &todo, &event, NULL));
        g_assert_true (!todo && event);
        g_assert_true (cal_ics_scan ("", &todo, &event, NULL));
        g_assert_true (!todo && !event);
}

/* UIDs that would not come back the same from the stored text (cal_uid_unkeepable): libical
 * reads "\\B" as a backspace and "\\a" as a space, and drops both when it reads back. */
static void
test_unkeepable_uids (void)
{
        static const char *const uids[] = {"a\\Bb", "Bb\\a"};
        for (guint i = 0; i < G_N_ELEMENTS (uids); i++) {
                g_autofree char *text = g_strdup_printf (
                        HEAD "BEGIN:VTODO\r\nUID:%s\r\nSUMMARY:x\r\nEND:VTODO\r\n" TAIL, uids[i]);
                g_autoptr (GError) error = NULL;
                g_autoptr (CalTodo) t = cal_todo_parse (text, &error);
                g_assert_null (t);
                g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNPROCESSABLE);
                g_assert_nonnull (strstr (error->message, "UID"));
        }
        /* A backslash the file escapes properly stays, as Apple's exports have them. */
        g_autoptr (GError) error = NULL;
        g_autoptr (CalTodo) ok = cal_todo_parse (
                HEAD "BEGIN:VTODO\r\nUID:a\\\\b \\a z\r\nSUMMARY:x\r\nEND:VTODO\r\n" TAIL, &error);
        g_assert_no_error (error);
        g_assert_nonnull (ok);
        g_assert_cmpstr (ok->uid, ==, "a\\b   z"); /* the "\\a" inside reads as a space */
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);
        g_assert_true (cal_ical_init (NULL));
        g_test_add_func ("/ical-todo/columns", test_columns);
        g_test_add_func ("/ical-todo/dates-duration-none", test_dates_duration_and_none);
        g_test_add_func ("/ical-todo/refusals", test_refusals);
        g_test_add_func ("/ical-todo/edit", test_edit);
        g_test_add_func ("/ical-todo/scan", test_scan);
        g_test_add_func ("/ical-todo/unkeepable-uids", test_unkeepable_uids);
        int rc = g_test_run ();
        cal_ical_fini ();
        return rc;
}
