/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-files-path.c - libFuzzer target for the files plugin's path and name rules
 * (plugins/files/files-path.c). The input is a raw path as it might arrive in a JSON body, any
 * bytes, NUL included, given to files_path_normalize with its length; the same bytes cut at the
 * first NUL go to files_name_normalize. Besides crashes and sanitizer reports it checks what
 * files-path.h promises of an accepted path: valid UTF-8 that is already NFC, no leading,
 * trailing or doubled '/', no "." or ".." component, no control character or backslash, no
 * component ending in ' ' or '.', and the byte and depth limits; that it normalises to itself;
 * that files_path_split takes it apart again; and that refusals are ATRIUM_ERROR_INVALID with a
 * message. A deliberately plain second implementation of the rules (g_strsplit, no pointer
 * arithmetic) must reach the same verdict and the same bytes, so a wrong refusal is caught as
 * well as a wrong acceptance.
 * Built only with -Dfuzzing=true (clang); see tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "files-path.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_error (const GError *error)
{
        if (!error || error->domain != ATRIUM_ERROR || error->code != ATRIUM_ERROR_INVALID ||
            !error->message || !error->message[0] || !g_utf8_validate (error->message, -1, NULL))
                abort ();
}

/* The reference: one component by the rules of files-path.h. Returns: (transfer full)
 * (nullable) */
static char *
ref_component (const char *raw)
{
        if (!raw[0])
                return NULL;
        g_autofree char *nfc = g_utf8_normalize (raw, -1, G_NORMALIZE_NFC);
        if (!nfc)
                return NULL;
        gsize n = strlen (nfc);
        if (n > FILES_NAME_MAX || g_str_equal (nfc, ".") || g_str_equal (nfc, "..") ||
            nfc[n - 1] == ' ' || nfc[n - 1] == '.' || strchr (nfc, '\\'))
                return NULL;
        for (const char *p = nfc; *p; p = g_utf8_next_char (p)) {
                gunichar c = g_utf8_get_char (p);
                if (c <= 0x1f || (c >= 0x7f && c <= 0x9f))
                        return NULL;
        }
        return g_steal_pointer (&nfc);
}

/* The reference for a whole path (@text: the input, known to be NUL-free UTF-8). */
static char *
ref_path (const char *text, gboolean *out_dir)
{
        const char *s = text[0] == '/' ? text + 1 : text;
        if (!s[0]) {
                *out_dir = TRUE;
                return g_strdup ("");
        }
        g_autofree char *body = g_strdup (s);
        gsize len = strlen (body);
        *out_dir = body[len - 1] == '/';
        if (*out_dir)
                body[len - 1] = '\0';
        if (!body[0]) /* "//": one empty component (g_strsplit would give none) */
                return NULL;
        g_auto (GStrv) parts = g_strsplit (body, "/", -1);
        if (g_strv_length (parts) > FILES_DEPTH_MAX)
                return NULL;
        for (guint i = 0; parts[i]; i++) {
                char *nfc = ref_component (parts[i]);
                if (!nfc)
                        return NULL;
                g_free (parts[i]);
                parts[i] = nfc;
        }
        char *out = g_strjoinv ("/", parts);
        if (strlen (out) > FILES_PATH_MAX)
                g_clear_pointer (&out, g_free);
        return out;
}

static gboolean
is_nfc (const char *s)
{
        g_autofree char *again = g_utf8_normalize (s, -1, G_NORMALIZE_NFC);
        return again && g_str_equal (again, s);
}

/* What files-path.h promises of an accepted path, checked without the reference. */
static void
check_path (const char *path)
{
        gsize len = strlen (path);
        if (len > FILES_PATH_MAX || !g_utf8_validate (path, -1, NULL) || !is_nfc (path))
                abort ();
        if (len == 0)
                return;
        if (path[0] == '/' || path[len - 1] == '/' || strstr (path, "//") || strchr (path, '\\'))
                abort ();
        g_auto (GStrv) parts = g_strsplit (path, "/", -1);
        if (g_strv_length (parts) > FILES_DEPTH_MAX)
                abort ();
        for (guint i = 0; parts[i]; i++) {
                const char *c = parts[i];
                gsize n = strlen (c);
                if (n == 0 || n > FILES_NAME_MAX || g_str_equal (c, ".") || g_str_equal (c, "..") ||
                    c[n - 1] == ' ' || c[n - 1] == '.')
                        abort ();
                for (const char *p = c; *p; p = g_utf8_next_char (p))
                        if (g_unichar_iscntrl (g_utf8_get_char (p)))
                                abort ();
                /* Each component is a valid name by itself, unchanged. */
                g_autoptr (GError) error = NULL;
                g_autofree char *name = files_name_normalize (c, &error);
                if (!name || error || !g_str_equal (name, c))
                        abort ();
        }

        /* Idempotent, with and without the slashes. */
        g_autoptr (GError) error = NULL;
        gboolean dir = TRUE;
        g_autofree char *again = files_path_normalize (path, len, &dir, &error);
        if (!again || error || !g_str_equal (again, path) || dir)
                abort ();
        g_autofree char *slashed = g_strconcat ("/", path, "/", NULL);
        g_autofree char *again2 = files_path_normalize (slashed, len + 2, &dir, &error);
        if (!again2 || error || !g_str_equal (again2, path) || !dir)
                abort ();

        /* split and join are inverses. */
        g_autofree char *parent = NULL, *name = NULL;
        files_path_split (path, &parent, &name);
        g_autofree char *joined = parent[0] ? g_strconcat (parent, "/", name, NULL)
                                            : g_strdup (name);
        if (!g_str_equal (joined, path) || !name[0] || strchr (name, '/'))
                abort ();
}

static void
fuzz_path (const char *raw, size_t size)
{
        g_autoptr (GError) error = NULL;
        gboolean dir = 42;
        g_autofree char *path = files_path_normalize (raw, size, &dir, &error);
        if (!path) {
                check_error (error);
                if (dir != 42)
                        abort (); /* out-parameters only on success */
        } else {
                if (error || (dir != TRUE && dir != FALSE))
                        abort ();
                if (dir != (size == 0 || raw[size - 1] == '/'))
                        abort ();
                check_path (path);
        }

        /* The reference agrees, verdict and bytes. */
        if (memchr (raw, '\0', size) || !g_utf8_validate_len (raw, size, NULL)) {
                if (path)
                        abort ();
                return;
        }
        g_autofree char *text = g_strndup (raw, size);
        gboolean ref_dir = FALSE;
        g_autofree char *ref = ref_path (text, &ref_dir);
        if (g_strcmp0 (ref, path) != 0 || (ref && ref_dir != dir))
                abort ();
}

static void
fuzz_name (const char *raw)
{
        g_autoptr (GError) error = NULL;
        g_autofree char *name = files_name_normalize (raw, &error);
        if (!name) {
                check_error (error);
        } else if (error || !name[0] || strchr (name, '/')) {
                abort ();
        }
        /* A name is a one-component path. */
        gboolean dir = FALSE;
        g_autoptr (GError) path_error = NULL;
        g_autofree char *path = files_path_normalize (raw, strlen (raw), &dir, &path_error);
        if (raw[0] && !strchr (raw, '/') && g_strcmp0 (name, path) != 0)
                abort ();
        if (name)
                check_path (name);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
        fuzz_path ((const char *) data, size);
        g_autofree char *cut = g_strndup ((const char *) data, size);
        fuzz_name (cut);
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
