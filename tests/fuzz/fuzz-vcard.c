/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-vcard.c - libFuzzer target for the contacts plugin's vCard reader and writer
 * (plugins/contacts/vcard.c). The input is a PUT body, any bytes:
 *
 *   - contacts_vcard_parse accepts it or refuses it with a CONTACTS_VCARD_ERROR; an accepted
 *     card has VERSION 3.0 or 4.0, a non-empty UID and an FN;
 *   - an accepted card written as 3.0 and as 4.0 parses again, with the same UID and FN and
 *     the version asked for, and writing that again in the same version gives the same bytes
 *     (the writer's folding and conversion are stable).
 * GLib criticals and warnings are fatal. Built only with -Dfuzzing=true (clang); see
 * tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "vcard.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
        (void) argc;
        (void) argv;
        g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
        return 0;
}

static void
round_trip (const ContactsVcard *card, const char *version)
{
        g_autofree char *out = contacts_vcard_write (card, version);
        g_autoptr (GError) error = NULL;
        g_autoptr (ContactsVcard) again = contacts_vcard_parse (out, strlen (out), &error);
        if (!again) {
                /* a card grown past the limit by conversion is the only excuse */
                if (!g_error_matches (error, CONTACTS_VCARD_ERROR, CONTACTS_VCARD_ERROR_TOO_LARGE))
                        abort ();
                return;
        }
        if (!g_str_equal (again->version, version) || !g_str_equal (again->uid, card->uid) ||
            !g_str_equal (again->fn, card->fn))
                abort ();
        g_autofree char *twice = contacts_vcard_write (again, version);
        if (!g_str_equal (out, twice))
                abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
        g_autoptr (GError) error = NULL;
        g_autoptr (ContactsVcard) card = contacts_vcard_parse ((const char *) data, size, &error);
        if (!card) {
                if (!error || error->domain != CONTACTS_VCARD_ERROR)
                        abort ();
                return 0;
        }
        if (error || !card->uid || !*card->uid || !card->fn ||
            (!g_str_equal (card->version, "3.0") && !g_str_equal (card->version, "4.0")))
                abort ();
        round_trip (card, "3.0");
        round_trip (card, "4.0");
        return 0;
}
