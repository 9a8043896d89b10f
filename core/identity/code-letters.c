/* SPDX-License-Identifier: Apache-2.0 */
/* code-letters.c - the activation codes of one request as the admin takes them away: JSON for
 * scripts, CSV for a spreadsheet or a mail merge, and a printable page of letters, one per
 * person (school, name, username, code, until when, where to go), in German and English.
 * activation.c issues the codes; this file only writes them out, once. */
#include "identity-private.h"
#include "pipeline-private.h"

#include <string.h>

JsonNode *
atrium_code_letters_json (const AtriumCodeLetters *l)
{
        JsonObject *o = json_object_new ();
        JsonObject *school = json_object_new ();
        json_object_set_string_member (school, "slug", l->school_slug);
        json_object_set_string_member (school, "name", l->school_name);
        json_object_set_object_member (o, "school", school);
        json_object_set_string_member (o, "expires_at", l->expires_at);
        JsonArray *items = json_array_new ();
        for (guint i = 0; i < l->codes->len; i++) {
                JsonObject *it = json_object_new ();
                json_object_set_string_member (it, "user_id",
                                               atrium_result_value (l->people, i, 0));
                json_object_set_string_member (it, "username",
                                               atrium_result_value (l->people, i, 1));
                json_object_set_string_member (it, "display_name",
                                               atrium_result_value (l->people, i, 2));
                const char *cls = atrium_result_value (l->people, i, 3);
                if (cls)
                        json_object_set_string_member (it, "class", cls);
                else
                        json_object_set_null_member (it, "class");
                json_object_set_string_member (it, "code", l->codes->pdata[i]);
                json_array_add_object_element (items, it);
        }
        json_object_set_array_member (o, "items", items);
        return atrium_json_object_node (o);
}

/* One CSV cell: quoted when it holds a separator, a quote or a line break; a cell a
 * spreadsheet would take for a formula (=, +, -, @, tab, CR) gets a leading apostrophe
 * (OWASP "CSV injection"): names come from imports, and imports from anywhere. */
static void
csv_cell (GString *out, const char *v, gboolean last)
{
        v = v ? v : "";
        gboolean formula = strchr ("=+-@\t\r", v[0]) && v[0];
        gboolean quote = formula || strpbrk (v, ",;\"\r\n") != NULL;
        if (quote)
                g_string_append_c (out, '"');
        if (formula)
                g_string_append_c (out, '\'');
        for (const char *p = v; *p; p++) {
                if (*p == '"')
                        g_string_append_c (out, '"');
                g_string_append_c (out, *p);
        }
        if (quote)
                g_string_append_c (out, '"');
        g_string_append (out, last ? "\r\n" : ",");
}

GBytes *
atrium_code_letters_csv (const AtriumCodeLetters *l)
{
        GString *out = g_string_new ("school,username,display_name,class,code,expires_at\r\n");
        for (guint i = 0; i < l->codes->len; i++) {
                csv_cell (out, l->school_slug, FALSE);
                csv_cell (out, atrium_result_value (l->people, i, 1), FALSE);
                csv_cell (out, atrium_result_value (l->people, i, 2), FALSE);
                csv_cell (out, atrium_result_value (l->people, i, 3), FALSE);
                csv_cell (out, l->codes->pdata[i], FALSE);
                csv_cell (out, l->expires_at, TRUE);
        }
        return g_string_free_to_bytes (out);
}

static const char page_head[] =
        "<!DOCTYPE html>\n<html lang=\"de\"><head><meta charset=\"utf-8\">"
        "<meta name=\"robots\" content=\"noindex\">"
        "<title>Aktivierungscodes / Activation codes</title><style>"
        "body{font-family:system-ui,sans-serif;margin:0;background:#eee;color:#111}"
        ".letter{background:#fff;max-width:40em;margin:1em auto;padding:2em;"
        "border:1px solid #ccc}"
        ".letter h1{font-size:1.3em;margin:0 0 1em}"
        ".code{font-family:ui-monospace,monospace;font-size:1.6em;letter-spacing:.1em;"
        "border:2px solid #111;padding:.3em .6em;display:inline-block}"
        "dl{display:grid;grid-template-columns:max-content 1fr;gap:.4em 1em}dt{font-weight:600}"
        "dd{margin:0}"
        "@media print{body{background:#fff}.letter{border:0;margin:0;max-width:none;"
        "break-after:page;page-break-after:always}.letter:last-child{break-after:auto}}"
        "</style></head><body>\n";

GBytes *
atrium_code_letters_html (const AtriumCodeLetters *l)
{
        GString *out = g_string_new (page_head);
        g_autofree char *school = g_markup_escape_text (l->school_name, -1);
        /* The date alone: "2026-12-20T09:12:06.5+00" -> "2026-12-20". */
        g_autofree char *until = g_strndup (l->expires_at, 10);
        g_autofree char *url = l->portal_url ? g_markup_escape_text (l->portal_url, -1) : NULL;
        g_autofree char *at = url ? g_strdup_printf (" (%s)", url) : g_strdup ("");
        for (guint i = 0; i < l->codes->len; i++) {
                g_autofree char *user =
                        g_markup_escape_text (atrium_result_value (l->people, i, 1), -1);
                g_autofree char *name =
                        g_markup_escape_text (atrium_result_value (l->people, i, 2), -1);
                const char *cls_raw = atrium_result_value (l->people, i, 3);
                g_autofree char *cls = cls_raw ? g_markup_escape_text (cls_raw, -1) : NULL;
                g_string_append_printf (
                        out,
                        "<section class=\"letter\"><h1>%s</h1>"
                        "<p>Hallo %s, hier ist dein Zugang. / Hello %s, here is your account.</p>"
                        "<dl><dt>Name</dt><dd>%s</dd>%s%s%s"
                        "<dt>Benutzername / Username</dt><dd><strong>%s</strong></dd>"
                        "<dt>Aktivierungscode / Activation code</dt>"
                        "<dd><span class=\"code\">%s</span></dd>"
                        "<dt>Gültig bis / Valid until</dt><dd>%s</dd></dl>"
                        "<p>Öffne die Anmeldeseite%s, wähle „Aktivierungscode“ und lege dein "
                        "eigenes Passwort fest. Der Code gilt nur einmal. / Open the sign-in "
                        "page%s, choose “Activation code” and set your own password. The code "
                        "works once.</p></section>\n",
                        school, name, name, name, cls ? "<dt>Klasse / Class</dt><dd>" : "",
                        cls ? cls : "", cls ? "</dd>" : "", user, (const char *) l->codes->pdata[i],
                        until, at, at);
        }
        g_string_append (out, "</body></html>\n");
        return g_string_free_to_bytes (out);
}
