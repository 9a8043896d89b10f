/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-bbb-xml.c - libFuzzer target for the conference plugin's reader of BigBlueButton's API
 * answers (plugins/conference/bbb-xml.c, conf_bbb_parse_answer). The input is an answer body,
 * any bytes. Besides crashes and sanitizer reports it checks the promises of bbb-xml.h:
 *
 *   - a refusal leaves the out-parameter untouched;
 *   - an accepted answer has a returncode, and every field it sets is non-empty, valid UTF-8
 *     and trimmed; success is exactly returncode == "SUCCESS";
 *   - the same input gives the same verdict and fields twice;
 *   - the fields, written back as a minimal answer of our own (escaped, CR as &#13; since XML
 *     turns a raw CR into LF), read back to the same fields;
 *   - the input placed inside <message> of a SUCCESS answer is either refused or read as a
 *     SUCCESS (the first returncode counts, so nothing inside a later element changes it).
 *
 * GLib criticals and warnings are fatal. Built only with -Dfuzzing=true (clang); see
 * tests/fuzz/README.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "bbb-xml.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char sentinel[] = "untouched";

static void
fail (const char *why, const char *field)
{
        fprintf (stderr, "fuzz-bbb-xml: %s: %s\n", why, field ? field : "(null)");
        abort ();
}

static void
check_field (const char *s, gboolean required)
{
        if (!s) {
                if (required)
                        fail ("returncode missing from an accepted answer", s);
                return;
        }
        if (!*s)
                fail ("empty field (should be NULL)", s);
        if (!g_utf8_validate (s, -1, NULL))
                fail ("field is not UTF-8", s);
        if (g_ascii_isspace (s[0]) || g_ascii_isspace (s[strlen (s) - 1]))
                fail ("field is not trimmed", s);
}

static gboolean
same (const char *a, const char *b)
{
        return g_strcmp0 (a, b) == 0;
}

static void
check_same (const ConfBbbAnswer *a, const ConfBbbAnswer *b, const char *what)
{
        if (a->success != b->success || !same (a->return_code, b->return_code) ||
            !same (a->message_key, b->message_key) || !same (a->message, b->message) ||
            !same (a->meeting_id, b->meeting_id))
                fail (what, a->return_code);
}

static void
put_element (GString *out, const char *name, const char *text)
{
        if (!text)
                return;
        g_string_append_printf (out, "<%s>", name);
        for (const char *p = text; *p; p++) {
                switch (*p) {
                case '&': g_string_append (out, "&amp;"); break;
                case '<': g_string_append (out, "&lt;"); break;
                case '>': g_string_append (out, "&gt;"); break;
                case '\r': g_string_append (out, "&#13;"); break;
                default: g_string_append_c (out, *p);
                }
        }
        g_string_append_printf (out, "</%s>", name);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
        const char *xml = (const char *) data;
        ConfBbbAnswer a = {.success = 7, .return_code = sentinel};
        gboolean ok = conf_bbb_parse_answer (xml, size, &a);
        ConfBbbAnswer again = {.success = 7, .return_code = sentinel};
        gboolean ok_again = conf_bbb_parse_answer (xml, size, &again);
        if (ok != ok_again)
                fail ("verdict changed on a second parse", NULL);

        if (!ok) {
                if (a.success != 7 || a.return_code != sentinel || a.message_key || a.message ||
                    a.meeting_id)
                        fail ("refusal touched the out-parameter", NULL);
        } else {
                check_field (a.return_code, TRUE);
                check_field (a.message_key, FALSE);
                check_field (a.message, FALSE);
                check_field (a.meeting_id, FALSE);
                if (a.success != g_str_equal (a.return_code, "SUCCESS"))
                        fail ("success does not match returncode", a.return_code);
                check_same (&a, &again, "fields changed on a second parse");

                GString *canon = g_string_new ("<response>");
                put_element (canon, "returncode", a.return_code);
                put_element (canon, "messageKey", a.message_key);
                put_element (canon, "message", a.message);
                put_element (canon, "meetingID", a.meeting_id);
                g_string_append (canon, "</response>");
                if (canon->len <= 64 * 1024) {
                        ConfBbbAnswer back = {0};
                        if (!conf_bbb_parse_answer (canon->str, canon->len, &back))
                                fail ("our own rendering of the fields was refused", canon->str);
                        check_same (&a, &back, "fields changed through our own rendering");
                        conf_bbb_answer_clear (&back);
                }
                g_string_free (canon, TRUE);
                conf_bbb_answer_clear (&a);
                conf_bbb_answer_clear (&again);
        }

        static const char head[] =
                "<response><returncode>SUCCESS</returncode><message>";
        static const char tail[] = "</message></response>";
        GString *wrapped = g_string_new (head);
        g_string_append_len (wrapped, xml, (gssize) size);
        g_string_append (wrapped, tail);
        ConfBbbAnswer w = {0};
        if (conf_bbb_parse_answer (wrapped->str, wrapped->len, &w)) {
                if (!w.success)
                        fail ("content of <message> changed the returncode", w.return_code);
                conf_bbb_answer_clear (&w);
        }
        g_string_free (wrapped, TRUE);
        return 0;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
        (void) argc;
        (void) argv;
        /* A critical from GLib (a g_return_if_fail hit) is a bug the fuzzer should stop at. */
        g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
        return 0;
}
