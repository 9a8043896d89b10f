/* SPDX-License-Identifier: Apache-2.0 */
/* test-files-path.c - unit tests of the files plugin's path and name rules
 * (plugins/files/files-path.c): the normalised form, every refusal with its error, NFC, the
 * traversal attempts a path from a URL or a JSON body might carry, and each limit exactly at
 * and one past its boundary. Pure and in-process; tests/fuzz/fuzz-files-path.c throws random
 * bytes at the same code. */
#include <string.h>

#include <glib.h>

#include "files-path.h"

/* Asserts that @raw (@len bytes, -1 for strlen) normalises to @want with the dir flag @dir. */
static void
check_ok_len (const char *raw, gssize len, const char *want, gboolean want_dir)
{
        g_autoptr (GError) error = NULL;
        gboolean dir = !want_dir;
        gsize n = len < 0 ? strlen (raw) : (gsize) len;
        g_autofree char *got = files_path_normalize (raw, n, &dir, &error);
        if (!got)
                g_test_message ("raw: \"%s\"", raw);
        g_assert_no_error (error);
        g_assert_cmpstr (got, ==, want);
        g_assert_cmpint (dir, ==, want_dir);
}

static void
check_ok (const char *raw, const char *want, gboolean want_dir)
{
        check_ok_len (raw, -1, want, want_dir);
}

/* Asserts that @raw is refused as ATRIUM_ERROR_INVALID with a message containing @needle, and
 * that the out-parameter is left alone. */
static void
check_refused_len (const char *raw, gsize len, const char *needle)
{
        g_autoptr (GError) error = NULL;
        gboolean dir = 42;
        g_autofree char *got = files_path_normalize (raw, len, &dir, &error);
        if (got || !error || !strstr (error->message, needle))
                g_test_message ("raw: \"%.*s\" -> \"%s\" (%s)", (int) MIN (len, 200), raw,
                                got ? got : "NULL", error ? error->message : "no error");
        g_assert_null (got);
        g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID);
        g_assert_nonnull (strstr (error->message, needle));
        g_assert_cmpint (dir, ==, 42);
}

static void
check_refused (const char *raw, const char *needle)
{
        check_refused_len (raw, strlen (raw), needle);
}

static void
check_name_refused (const char *raw, const char *needle)
{
        g_autoptr (GError) error = NULL;
        g_autofree char *got = files_name_normalize (raw, &error);
        if (got || !error || !strstr (error->message, needle))
                g_test_message ("name: \"%s\" -> %s", raw, error ? error->message : "no error");
        g_assert_null (got);
        g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID);
        g_assert_nonnull (strstr (error->message, needle));
}

/* A string of @n copies of @c. */
static char *
repeat (char c, gsize n)
{
        char *s = g_malloc (n + 1);
        memset (s, c, n);
        s[n] = '\0';
        return s;
}

static void
test_forms (void)
{
        check_ok ("a", "a", FALSE);
        check_ok ("/a", "a", FALSE);
        check_ok ("a/", "a", TRUE);
        check_ok ("/a/", "a", TRUE);
        check_ok ("a/b/c", "a/b/c", FALSE);
        check_ok ("/a/b/c/", "a/b/c", TRUE);
        check_ok ("Hausaufgaben/Mathe 7b/Blatt 3.pdf", "Hausaufgaben/Mathe 7b/Blatt 3.pdf", FALSE);
        check_ok (".hidden/.x", ".hidden/.x", FALSE);
        check_ok ("...a/a..b", "...a/a..b", FALSE);
        check_ok (" leading space", " leading space", FALSE);
        check_ok ("emoji \xf0\x9f\x93\x81", "emoji \xf0\x9f\x93\x81", FALSE);
        check_ok ("a:b*c?\"<>|", "a:b*c?\"<>|", FALSE); /* only ' ' and '.' at the end are ruled */
        /* The root. */
        check_ok ("", "", TRUE);
        check_ok ("/", "", TRUE);
        /* Not NUL-terminated: only raw_len bytes count. */
        check_ok_len ("a/bcd", 3, "a/b", FALSE);
        check_ok_len ("a/", 1, "a", FALSE);
        g_autoptr (GError) error = NULL;
        g_autofree char *root = files_path_normalize (NULL, 0, NULL, &error);
        g_assert_no_error (error);
        g_assert_cmpstr (root, ==, "");
        /* out_dir is optional. */
        g_autofree char *p = files_path_normalize ("x/", 2, NULL, &error);
        g_assert_no_error (error);
        g_assert_cmpstr (p, ==, "x");
}

static void
test_empty_components (void)
{
        check_refused ("a//b", "path component 2 is empty");
        check_refused ("//", "path component 1 is empty");
        check_refused ("//a", "path component 1 is empty");
        check_refused ("a//", "path component 2 is empty");
        check_refused ("///", "is empty");
        check_refused ("a/b//", "path component 3 is empty");
}

static void
test_traversal (void)
{
        check_refused ("..", "path component 1 is \"..\"");
        check_refused ("../x", "path component 1 is \"..\"");
        check_refused ("/../x", "path component 1 is \"..\"");
        check_refused ("a/../../b", "path component 2 is \"..\"");
        check_refused ("a/..", "path component 2 is \"..\"");
        check_refused ("a/../", "path component 2 is \"..\"");
        check_refused (".", "path component 1 is \".\"");
        check_refused ("a/./b", "path component 2 is \".\"");
        check_refused ("./", "is \".\"");
        check_refused ("a\\..\\b", "backslash");
        check_refused ("..\\x", "backslash");
        /* Escapes are the router's business: a literal "%2e%2e" or "%2F" is an ordinary name. */
        check_ok ("%2e%2e", "%2e%2e", FALSE);
        check_ok ("a/%2e%2e/b", "a/%2e%2e/b", FALSE);
        check_ok ("a%2F..%2Fb", "a%2F..%2Fb", FALSE);
        /* Look-alikes are not dots. */
        check_ok ("\xe2\x80\xa4\xe2\x80\xa4", "\xe2\x80\xa4\xe2\x80\xa4", FALSE); /* U+2024 x2 */
        check_ok ("\xef\xbc\x8e\xef\xbc\x8e", "\xef\xbc\x8e\xef\xbc\x8e", FALSE); /* U+FF0E x2 */
        /* Overlong UTF-8 for '.' and '/' is invalid, never a dot or separator. */
        check_refused ("\xc0\xae\xc0\xae/x", "not valid UTF-8 (at byte 0)");
        check_refused ("a\xc0\xafx", "not valid UTF-8 (at byte 1)");
        check_refused ("a\xe0\x80\xaex", "not valid UTF-8");
}

static void
test_encoding (void)
{
        check_refused_len ("a\0b", 3, "NUL byte (at byte 1)");
        check_refused_len ("\0", 1, "NUL byte (at byte 0)");
        check_refused_len ("a/\0", 3, "NUL byte");
        check_refused ("\xff", "not valid UTF-8 (at byte 0)");
        check_refused ("ok/\xc3", "not valid UTF-8 (at byte 3)");         /* truncated */
        check_refused ("\xed\xa0\x80", "not valid UTF-8");                /* a surrogate */
        check_refused ("\xf4\x90\x80\x80", "not valid UTF-8");            /* > U+10FFFF */
        check_name_refused ("\xff", "name is not valid UTF-8");
}

static void
test_control (void)
{
        /* Every C0 control, DEL and every C1 control, alone and inside a name. */
        for (gunichar c = 1; c <= 0x9f; c++) {
                if (c == 0x20)
                        c = 0x7f;
                char buf[8] = {0};
                int n = g_unichar_to_utf8 (c, buf);
                g_autofree char *raw = g_strdup_printf ("dir/a%.*sb", n, buf);
                g_autofree char *want = g_strdup_printf ("control character U+%04X", c);
                check_refused (raw, want);
                check_refused (buf, want);
                g_autofree char *name = g_strdup_printf ("x%sy", buf);
                check_name_refused (name, want);
        }
        check_refused ("a\tb", "U+0009");
        check_refused ("a\nb", "path component 1 contains the control character U+000A");
        check_refused ("a\r\n", "U+000D");
        /* U+00A0 and U+200B are not category Cc. */
        check_ok ("a\xc2\xa0" "b", "a\xc2\xa0" "b", FALSE);
        check_ok ("a\xe2\x80\x8b" "b", "a\xe2\x80\x8b" "b", FALSE);
}

static void
test_trailing (void)
{
        check_refused ("a ", "ends with a space");
        check_refused ("a.", "ends with a '.'");
        check_refused ("a/b./c", "path component 2 ends with a '.'");
        check_refused ("a /b", "path component 1 ends with a space");
        check_refused (" ", "ends with a space");
        check_refused ("   ", "ends with a space");
        check_refused ("...", "ends with a '.'");
        check_refused ("x/ /", "path component 2 ends with a space");
        check_name_refused ("report.pdf ", "ends with a space");
        check_name_refused ("report.", "ends with a '.'");
        check_name_refused ("  ", "ends with a space");
        /* A trailing no-break space is not a space to Windows. */
        check_ok ("a\xc2\xa0", "a\xc2\xa0", FALSE);
}

static void
test_nfc (void)
{
        /* a + COMBINING DIAERESIS -> U+00E4 */
        check_ok ("a\xcc\x88", "\xc3\xa4", FALSE);
        check_ok ("Schu\xcc\x88ler/Gru\xcc\x88\xc3\x9f" "e.txt", "Sch\xc3\xbcler/Gr\xc3\xbc\xc3\x9f" "e.txt",
                  FALSE);
        /* The NFD and NFC spellings of one name land on the same bytes, as path and as name. */
        const char *nfd = "Caf\x65\xcc\x81 Me\xcc\x81nu";
        const char *nfc = "Caf\xc3\xa9 M\xc3\xa9nu";
        g_autoptr (GError) error = NULL;
        g_autofree char *a = files_path_normalize (nfd, strlen (nfd), NULL, &error);
        g_assert_no_error (error);
        g_autofree char *b = files_path_normalize (nfc, strlen (nfc), NULL, &error);
        g_assert_no_error (error);
        g_assert_cmpstr (a, ==, b);
        g_assert_cmpstr (a, ==, nfc);
        g_autofree char *c = files_name_normalize (nfd, &error);
        g_assert_no_error (error);
        g_assert_cmpstr (c, ==, nfc);
        /* Hangul jamo compose into a syllable: U+1100 U+1161 U+11A8 -> U+AC01. */
        check_ok ("\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8", "\xea\xb0\x81", FALSE);
        /* Canonical reordering of combining marks: dot below (ccc 220) before diaeresis (230). */
        check_ok ("a\xcc\x88\xcc\xa3", "\xe1\xba\xa1\xcc\x88", FALSE);
        /* A singleton: U+212B ANGSTROM SIGN -> U+00C5. */
        check_ok ("\xe2\x84\xab", "\xc3\x85", FALSE);
        /* NFC is not NFKC: the fi ligature and fullwidth letters stay. */
        check_ok ("\xef\xac\x81", "\xef\xac\x81", FALSE);
        /* A lone combining mark is a (strange) legal name, and composes with nothing across
         * a '/'. */
        check_ok ("a/\xcc\x88", "a/\xcc\x88", FALSE);
        /* Dots followed by a combining mark are not "..": U+0307 does not compose with '.'. */
        check_ok (".\xcc\x87", ".\xcc\x87", FALSE);
        check_ok ("..\xcc\x87", "..\xcc\x87", FALSE);
        /* After NFC "a." + U+0301 is still not a name ending in '.', but "a" + U+0301 + "." is. */
        check_refused ("a\xcc\x81.", "ends with a '.'");
        check_ok ("a.\xcc\x81", "a.\xcc\x81", FALSE);
}

static void
test_name_limit (void)
{
        g_autofree char *n255 = repeat ('x', FILES_NAME_MAX);
        g_autofree char *n256 = repeat ('x', FILES_NAME_MAX + 1);
        check_ok (n255, n255, FALSE);
        check_refused (n256, "path component 1 is 256 bytes long in NFC, more than 255");
        g_autofree char *deep = g_strconcat ("a/", n256, "/b", NULL);
        check_refused (deep, "path component 2 is 256 bytes long");

        /* The limit is on NFC bytes: 127 x "a"+U+0308 (381 bytes) is 127 x U+00E4 (254). */
        g_autoptr (GString) nfd = g_string_new (NULL);
        for (int i = 0; i < 127; i++)
                g_string_append (nfd, "a\xcc\x88");
        g_string_append (nfd, "z"); /* 255 bytes in NFC */
        g_autoptr (GError) error = NULL;
        g_autofree char *got = files_path_normalize (nfd->str, nfd->len, NULL, &error);
        g_assert_no_error (error);
        g_assert_cmpuint (strlen (got), ==, FILES_NAME_MAX);
        g_string_append (nfd, "z"); /* 256 */
        check_refused (nfd->str, "256 bytes long in NFC");

        /* A multi-byte character may not straddle the limit: 127 x U+00E4 + "\xe2\x82\xac". */
        g_autoptr (GString) s = g_string_new (NULL);
        for (int i = 0; i < 126; i++)
                g_string_append (s, "\xc3\xa4");
        g_string_append (s, "\xe2\x82\xac"); /* 252 + 3 = 255 */
        check_ok (s->str, s->str, FALSE);
        g_string_append (s, "\xc3\xa4"); /* 257 */
        check_refused (s->str, "257 bytes long");

        /* files_name_normalize: the same limit. */
        g_autofree char *a = files_name_normalize (n255, &error);
        g_assert_no_error (error);
        g_assert_cmpstr (a, ==, n255);
        check_name_refused (n256, "name is 256 bytes long in NFC, more than 255");
        g_autofree char *huge = repeat ('x', 100000);
        check_name_refused (huge, "name is longer than 255 bytes");
}

/* A path of @depth components "d/d/.../d". */
static char *
path_of_depth (guint depth)
{
        g_autoptr (GPtrArray) parts = g_ptr_array_new ();
        for (guint i = 0; i < depth; i++)
                g_ptr_array_add (parts, (gpointer) "d");
        g_ptr_array_add (parts, NULL);
        return g_strjoinv ("/", (char **) parts->pdata);
}

static void
test_depth_limit (void)
{
        g_autofree char *d64 = path_of_depth (FILES_DEPTH_MAX);
        g_autofree char *d65 = path_of_depth (FILES_DEPTH_MAX + 1);
        check_ok (d64, d64, FALSE);
        g_autofree char *d64_slashes = g_strconcat ("/", d64, "/", NULL);
        check_ok (d64_slashes, d64, TRUE);
        check_refused (d65, "path has 65 components, more than 64");
        g_autofree char *d65_dir = g_strconcat (d65, "/", NULL);
        check_refused (d65_dir, "65 components");
}

/* A path of exactly @len bytes, in components of at most 255 'x' (well under the depth
 * limit). */
static char *
path_of_length (gsize len)
{
        g_autoptr (GString) s = g_string_new (NULL);
        while (s->len < len) {
                if (s->len > 0)
                        g_string_append_c (s, '/');
                gsize n = MIN (FILES_NAME_MAX, len - s->len);
                if (len - s->len - n == 1) /* else the next component would be empty */
                        n--;
                for (gsize i = 0; i < n; i++)
                        g_string_append_c (s, 'x');
        }
        g_assert_cmpuint (s->len, ==, len);
        return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
test_path_limit (void)
{
        g_autofree char *p4096 = path_of_length (FILES_PATH_MAX);
        g_autofree char *p4097 = path_of_length (FILES_PATH_MAX + 1);
        check_ok (p4096, p4096, FALSE);
        /* The optional slashes do not count. */
        g_autofree char *p4096_slashes = g_strconcat ("/", p4096, "/", NULL);
        check_ok (p4096_slashes, p4096, TRUE);
        check_refused (p4097, "path is longer than 4096 bytes in NFC");

        /* Counted after NFC: 4096 bytes of U+00E4 written in NFD (6144 bytes) are accepted,
         * one more character is not. */
        g_autoptr (GString) nfd = g_string_new (NULL);
        for (int c = 0; c < 16; c++) {  /* 16 components of 127 x U+00E4 (254 bytes) + '/' */
                for (int i = 0; i < 127; i++)
                        g_string_append (nfd, "a\xcc\x88");
                g_string_append_c (nfd, '/');
        }
        /* 16 * 255 = 4080 bytes so far in NFC; 16 more: "y" + 7 x U+00E4 + "z" */
        g_string_append (nfd, "y");
        for (int i = 0; i < 7; i++)
                g_string_append (nfd, "a\xcc\x88");
        g_string_append (nfd, "z");
        g_autoptr (GError) error = NULL;
        g_autofree char *got = files_path_normalize (nfd->str, nfd->len, NULL, &error);
        g_assert_no_error (error);
        g_assert_cmpuint (strlen (got), ==, FILES_PATH_MAX);
        g_assert_cmpuint (nfd->len, >, FILES_PATH_MAX);
        g_string_append (nfd, "a\xcc\x88");
        check_refused (nfd->str, "longer than 4096 bytes in NFC");

        /* Raw input too long to ever fit is refused before any work. */
        g_autofree char *huge = repeat ('/', 1 << 20);
        check_refused (huge, "path is longer than 4096 bytes");
}

static void
test_name (void)
{
        g_autoptr (GError) error = NULL;
        g_autofree char *a = files_name_normalize ("Blatt 3.pdf", &error);
        g_assert_no_error (error);
        g_assert_cmpstr (a, ==, "Blatt 3.pdf");
        g_autofree char *b = files_name_normalize ("%2e%2e", &error);
        g_assert_no_error (error);
        g_assert_cmpstr (b, ==, "%2e%2e");

        check_name_refused ("", "name is empty");
        check_name_refused ("a/b", "name contains '/'");
        check_name_refused ("/", "name contains '/'");
        check_name_refused ("a/", "name contains '/'");
        check_name_refused (".", "name is \".\"");
        check_name_refused ("..", "name is \"..\"");
        check_name_refused ("a\\b", "name contains a backslash");
        check_name_refused ("a\x7f", "U+007F");
        check_name_refused ("\xc2\x85", "U+0085");
}

static void
test_split (void)
{
        const struct {
                const char *path, *parent, *name;
        } cases[] = {
                {"a/b/c", "a/b", "c"},
                {"c", "", "c"},
                {"a/b", "a", "b"},
                {"", "", ""},
                {"Sch\xc3\xbcler/Blatt 3.pdf", "Sch\xc3\xbcler", "Blatt 3.pdf"},
        };
        for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
                g_autofree char *parent = NULL, *name = NULL;
                files_path_split (cases[i].path, &parent, &name);
                g_assert_cmpstr (parent, ==, cases[i].parent);
                g_assert_cmpstr (name, ==, cases[i].name);
        }
        /* Either out-parameter may be NULL. */
        g_autofree char *only_name = NULL;
        files_path_split ("x/y", NULL, &only_name);
        g_assert_cmpstr (only_name, ==, "y");
        g_autofree char *only_parent = NULL;
        files_path_split ("x/y", &only_parent, NULL);
        g_assert_cmpstr (only_parent, ==, "x");
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);
        g_test_add_func ("/files-path/forms", test_forms);
        g_test_add_func ("/files-path/empty-components", test_empty_components);
        g_test_add_func ("/files-path/traversal", test_traversal);
        g_test_add_func ("/files-path/encoding", test_encoding);
        g_test_add_func ("/files-path/control", test_control);
        g_test_add_func ("/files-path/trailing", test_trailing);
        g_test_add_func ("/files-path/nfc", test_nfc);
        g_test_add_func ("/files-path/limit/name", test_name_limit);
        g_test_add_func ("/files-path/limit/depth", test_depth_limit);
        g_test_add_func ("/files-path/limit/path", test_path_limit);
        g_test_add_func ("/files-path/name", test_name);
        g_test_add_func ("/files-path/split", test_split);
        return g_test_run ();
}
