/* SPDX-License-Identifier: Apache-2.0 */
/* files-path.c - normalising and checking the paths and names users give the files plugin
 * (see files-path.h for the rules). The router already refuses NUL, "%2F" inside a segment,
 * dot segments and invalid UTF-8 in URLs, but paths also arrive in JSON bodies (a move target,
 * a new name), so nothing here relies on it: every rule is checked again on the bytes given.
 *
 * Each component is normalised to NFC on its own and every rule is checked on the NFC form,
 * the spelling that is stored and compared: a name that only becomes "..", too long or
 * otherwise bad after normalisation is caught, and the NFD spelling macOS clients send names
 * in lands on the same row as the NFC one. Normalising per component is the same as
 * normalising the whole path, because '/' is a starter that composes with nothing. */
#include <stdarg.h>
#include <string.h>

#include "files-path.h"

/* NFC shortens UTF-8 by at most about three times (three conjoining jamo, 9 bytes, compose
 * into one 3-byte Hangul syllable), so longer input can never normalise to within the limits.
 * Refusing it before normalising bounds the work a hostile body can cause; 4x leaves margin. */
#define RAW_PATH_MAX (4 * FILES_PATH_MAX + 2)
#define RAW_NAME_MAX (4 * FILES_NAME_MAX)

static char *
invalid (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static char *
invalid (GError **error, const char *format, ...)
{
        va_list ap;
        va_start (ap, format);
        g_autofree char *msg = g_strdup_vprintf (format, ap);
        va_end (ap);
        g_set_error_literal (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID, msg);
        return NULL;
}

/* Checks the encoding of @len bytes at @raw: no NUL (so the rest can use C strings) and valid
 * UTF-8. @what names the input in messages. */
static gboolean
check_bytes (const char *raw, gsize len, const char *what, GError **error)
{
        const char *nul = memchr (raw, '\0', len);
        if (nul) {
                invalid (error, "%s contains a NUL byte (at byte %" G_GSIZE_FORMAT ")", what,
                         (gsize) (nul - raw));
                return FALSE;
        }
        const char *end = NULL;
        if (!g_utf8_validate_len (raw, len, &end)) {
                invalid (error, "%s is not valid UTF-8 (at byte %" G_GSIZE_FORMAT ")", what,
                         (gsize) (end - raw));
                return FALSE;
        }
        return TRUE;
}

/* Normalises one component, @len bytes at @raw, already known to be valid UTF-8 without NUL
 * or '/'. @what names it in messages ("name", "path component 3"). Returns: (transfer full)
 * (nullable) */
static char *
component_normalize (const char *raw, gsize len, const char *what, GError **error)
{
        if (len == 0)
                return invalid (error, "%s is empty", what);
        g_autofree char *nfc = g_utf8_normalize (raw, (gssize) len, G_NORMALIZE_NFC);
        if (!nfc) /* cannot happen after check_bytes; refused all the same */
                return invalid (error, "%s is not valid UTF-8", what);

        /* Control characters (category Cc, exactly U+0000-U+001F and U+007F-U+009F) break
         * logs, headers and terminals; a backslash is a separator to Windows clients. */
        for (const char *p = nfc; *p; p = g_utf8_next_char (p)) {
                gunichar c = g_utf8_get_char (p);
                if (g_unichar_iscntrl (c))
                        return invalid (error, "%s contains the control character U+%04X", what,
                                        c);
                if (c == '\\')
                        return invalid (error, "%s contains a backslash", what);
        }
        if (g_str_equal (nfc, ".") || g_str_equal (nfc, ".."))
                return invalid (error, "%s is \"%s\"", what, nfc);
        gsize n = strlen (nfc);
        if (n > FILES_NAME_MAX)
                return invalid (error,
                                "%s is %" G_GSIZE_FORMAT " bytes long in NFC, more than %d",
                                what, n, FILES_NAME_MAX);
        /* Windows strips a trailing space or dot, so a client there could neither open nor
         * delete the file. This also refuses names made only of spaces or dots. */
        if (nfc[n - 1] == ' ' || nfc[n - 1] == '.')
                return invalid (error, "%s ends with %s, which Windows clients cannot open",
                                what, nfc[n - 1] == ' ' ? "a space" : "a '.'");
        return g_steal_pointer (&nfc);
}

char *
files_path_normalize (const char *raw, gsize raw_len, gboolean *out_dir, GError **error)
{
        g_return_val_if_fail (raw != NULL || raw_len == 0, NULL);
        g_return_val_if_fail (error == NULL || *error == NULL, NULL);

        if (raw_len > RAW_PATH_MAX)
                return invalid (error, "path is longer than %d bytes", FILES_PATH_MAX);
        if (raw_len > 0 && !check_bytes (raw, raw_len, "path", error))
                return NULL;

        /* (raw may be NULL when raw_len is 0: no pointer arithmetic on it then.) */
        const char *p = raw, *end = raw_len > 0 ? raw + raw_len : raw;
        if (raw_len > 0 && *p == '/')
                p++;
        if (p == end) { /* "" or "/": the root */
                if (out_dir)
                        *out_dir = TRUE;
                return g_strdup ("");
        }
        gboolean dir = FALSE;
        if (end[-1] == '/') {
                end--;
                dir = TRUE;
        }

        /* Depth first: it is cheap and bounds the loop below. "//" leaves one empty
         * component here and is refused in the loop. */
        guint depth = 1;
        for (const char *q = p; q < end; q++)
                depth += *q == '/';
        if (depth > FILES_DEPTH_MAX)
                return invalid (error, "path has %u components, more than %d", depth,
                                FILES_DEPTH_MAX);

        g_autoptr (GString) out = g_string_sized_new ((gsize) (end - p));
        for (guint i = 1;; i++) {
                const char *slash = memchr (p, '/', (gsize) (end - p));
                const char *stop = slash ? slash : end;
                char what[32];
                g_snprintf (what, sizeof what, "path component %u", i);
                g_autofree char *name = component_normalize (p, (gsize) (stop - p), what, error);
                if (!name)
                        return NULL;
                if (out->len > 0)
                        g_string_append_c (out, '/');
                g_string_append (out, name);
                if (out->len > FILES_PATH_MAX)
                        return invalid (error, "path is longer than %d bytes in NFC",
                                        FILES_PATH_MAX);
                if (!slash)
                        break;
                p = slash + 1;
        }
        if (out_dir)
                *out_dir = dir;
        return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
files_name_normalize (const char *raw, GError **error)
{
        g_return_val_if_fail (raw != NULL, NULL);
        g_return_val_if_fail (error == NULL || *error == NULL, NULL);

        gsize len = strlen (raw);
        if (len > RAW_NAME_MAX)
                return invalid (error, "name is longer than %d bytes", FILES_NAME_MAX);
        if (!check_bytes (raw, len, "name", error))
                return NULL;
        if (memchr (raw, '/', len))
                return invalid (error, "name contains '/'");
        return component_normalize (raw, len, "name", error);
}

void
files_path_split (const char *path, char **out_parent, char **out_name)
{
        g_return_if_fail (path != NULL);

        const char *slash = strrchr (path, '/');
        if (out_parent)
                *out_parent = slash ? g_strndup (path, (gsize) (slash - path)) : g_strdup ("");
        if (out_name)
                *out_name = g_strdup (slash ? slash + 1 : path);
}
