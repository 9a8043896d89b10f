/* SPDX-License-Identifier: Apache-2.0 */
/* test-vcard.c - the contacts plugin's vCard reader and writer (plugins/contacts/vcard.c):
 * what it accepts and refuses, unfolding and folding, and the 3.0 <-> 4.0 conversion that
 * CardDAV clients depend on (PREF, inline photos, the N that 3.0 requires). */
#include <string.h>

#include <glib.h>

#include "vcard.h"

static ContactsVcard *
parse (const char *text, GError **error)
{
        return contacts_vcard_parse (text, strlen (text), error);
}

static void
test_accepts (void)
{
        g_autoptr (GError) error = NULL;
        g_autoptr (ContactsVcard) c =
                parse ("BEGIN:VCARD\nVERSION:3.0\nUID:u1\nFN:Erika\n  Mustermann\n"
                       "EMAIL;TYPE=work:a@example.org\nitem1.EMAIL:b\\,c@example.org\n"
                       "NOTE;X=\"a:b;c\":x\nEND:VCARD\n",
                       &error);
        g_assert_no_error (error);
        g_assert_cmpstr (c->version, ==, "3.0");
        g_assert_cmpstr (c->uid, ==, "u1");
        g_assert_cmpstr (c->fn, ==, "Erika Mustermann"); /* unfolded: one space dropped */
        g_assert_cmpuint (c->emails->len, ==, 2);
        g_assert_cmpstr (c->emails->pdata[1], ==, "b,c@example.org");
        g_assert_cmpuint (c->props->len, ==, 5);
        /* a byte order mark before BEGIN is not part of the card */
        g_autoptr (ContactsVcard) bom =
                parse ("\xef\xbb\xbf"
                       "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:b\r\nFN:B\r\nEND:VCARD\r\n",
                       &error);
        g_assert_no_error (error);
        g_assert_cmpstr (bom->uid, ==, "b");
}

static void
test_refuses (void)
{
        static const char *const bad[] = {
                "",
                "not a card",
                "BEGIN:VCARD\r\nVERSION:2.1\r\nUID:x\r\nFN:x\r\nEND:VCARD\r\n",
                "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nEND:VCARD\r\n",
                "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nEND:VCARD\r\n",
                "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:x\r\n",
                "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:x\r\nEND:VCARD\r\nBEGIN:VCARD\r\n"
                "VERSION:3.0\r\nUID:y\r\nFN:y\r\nEND:VCARD\r\n",
                "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:x\r\nno colon\r\nEND:VCARD\r\n",
                "BEGIN:VCARD\r\nVERSION:3.0\r\nVERSION:4.0\r\nUID:x\r\nFN:x\r\nEND:VCARD\r\n",
                "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:\xff\r\nEND:VCARD\r\n",
        };
        for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
                g_autoptr (GError) error = NULL;
                g_autoptr (ContactsVcard) c = parse (bad[i], &error);
                g_assert_null (c);
                g_assert_error (error, CONTACTS_VCARD_ERROR, CONTACTS_VCARD_ERROR_INVALID);
        }
        g_autoptr (GString) big = g_string_new ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:x\r\n");
        while (big->len <= CONTACTS_VCARD_MAX_BYTES)
                g_string_append (big, "NOTE:0123456789012345678901234567890123456789\r\n");
        g_string_append (big, "END:VCARD\r\n");
        g_autoptr (GError) error = NULL;
        g_assert_null (contacts_vcard_parse (big->str, big->len, &error));
        g_assert_error (error, CONTACTS_VCARD_ERROR, CONTACTS_VCARD_ERROR_TOO_LARGE);
}

static void
test_convert (void)
{
        g_autoptr (GError) error = NULL;
        g_autoptr (ContactsVcard) c3 =
                parse ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u\r\nFN:A\r\n"
                       "EMAIL;TYPE=INTERNET,pref:a@example.org\r\n"
                       "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ\r\nEND:VCARD\r\n",
                       &error);
        g_assert_no_error (error);
        g_autofree char *v4 = contacts_vcard_write (c3, "4.0");
        g_assert_cmpstr (v4, ==,
                         "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:u\r\nFN:A\r\n"
                         "EMAIL;TYPE=INTERNET;PREF=1:a@example.org\r\n"
                         "PHOTO:data:image/jpeg;base64,/9j/4AAQ\r\nEND:VCARD\r\n");
        g_autoptr (ContactsVcard) c4 = parse (v4, &error);
        g_assert_no_error (error);
        g_autofree char *back = contacts_vcard_write (c4, "3.0");
        g_assert_cmpstr (back, ==,
                         "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u\r\nFN:A\r\n"
                         "EMAIL;TYPE=INTERNET;TYPE=pref:a@example.org\r\n"
                         "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ\r\nN:A;;;;\r\nEND:VCARD\r\n");
}

static void
test_fold_and_make (void)
{
        g_autoptr (ContactsVcard) c = contacts_vcard_new ("3.0", "id-1", "Zoë; \"Q\", Ü\nX");
        g_autofree char *long_note = g_strnfill (200, 'x');
        contacts_vcard_add_text (c, "NOTE", NULL, long_note);
        g_autofree char *out = contacts_vcard_write (c, "3.0");
        g_assert_true (strstr (out, "FN:Zoë\\; \"Q\"\\, Ü\\nX\r\n") != NULL);
        g_auto (GStrv) lines = g_strsplit (out, "\r\n", -1);
        for (char **l = lines; *l; l++)
                g_assert_cmpuint (strlen (*l), <=, 75);
        g_autoptr (GError) error = NULL;
        g_autoptr (ContactsVcard) again = contacts_vcard_parse (out, strlen (out), &error);
        g_assert_no_error (error);
        g_assert_cmpstr (again->fn, ==, "Zoë; \"Q\", Ü\nX");
        g_autofree char *twice = contacts_vcard_write (again, "3.0");
        g_assert_cmpstr (twice, ==, out);
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);
        g_test_add_func ("/vcard/accepts", test_accepts);
        g_test_add_func ("/vcard/refuses", test_refuses);
        g_test_add_func ("/vcard/convert", test_convert);
        g_test_add_func ("/vcard/fold-and-make", test_fold_and_make);
        return g_test_run ();
}
