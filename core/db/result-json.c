/* SPDX-License-Identifier: Apache-2.0 */
/* result-json.c - query results as JSON: one mapping from PostgreSQL's column types to JSON,
 * written two ways. As a JsonNode tree (atrium_result_row_json / _rows_json) for handlers that
 * change the rows before answering, and straight to text (atrium_result_page_body) for a page
 * answered as it came from the database: no node, object or hash table per row, which is
 * what a 50-row list spent most of its allocations on.
 *
 * The mapping: NULL -> null; bool -> true/false; int2/4/8 -> number; float4/8 -> number
 * (NaN and the infinities, which JSON cannot hold, -> null); json/jsonb -> the value itself;
 * timestamptz -> RFC 3339 string in UTC ("2026-11-26T08:00:00.5Z"); anything else -> string.
 * tests/unit/test-result-json.c checks that both ways give the same document. */
#include "db-private.h"

#include <string.h>

#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_JSON 114
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_TIMESTAMPTZ 1184
#define OID_JSONB 3802

/* "2026-11-26 08:00:00.5+00" (ISO DateStyle, UTC session) -> "2026-11-26T08:00:00.5Z",
 * appended to @s. */
static void
append_rfc3339 (GString *s, const char *v)
{
        gsize start = s->len;
        g_string_append (s, v);
        if (s->len - start > 10 && s->str[start + 10] == ' ')
                s->str[start + 10] = 'T';
        if (g_str_has_suffix (s->str + start, "+00")) {
                g_string_truncate (s, s->len - 3);
                g_string_append_c (s, 'Z');
        }
}

static gboolean
finite_number (const char *v)
{
        /* PostgreSQL writes the non-finite floats as words; every finite one starts with a
         * digit or a sign followed by one. */
        return g_ascii_isdigit (v[0]) || (v[0] == '-' && g_ascii_isdigit (v[1]));
}

static JsonNode *
value_node (const PGresult *res, int row, int col)
{
        if (PQgetisnull (res, row, col))
                return json_node_new (JSON_NODE_NULL);
        const char *v = PQgetvalue (res, row, col);
        JsonNode *n = json_node_new (JSON_NODE_VALUE);
        switch (PQftype (res, col)) {
        case OID_BOOL:
                json_node_set_boolean (n, v[0] == 't');
                break;
        case OID_INT2:
        case OID_INT4:
        case OID_INT8:
                json_node_set_int (n, g_ascii_strtoll (v, NULL, 10));
                break;
        case OID_FLOAT4:
        case OID_FLOAT8:
                if (!finite_number (v)) {
                        json_node_unref (n);
                        return json_node_new (JSON_NODE_NULL);
                }
                json_node_set_double (n, g_ascii_strtod (v, NULL));
                break;
        case OID_JSON:
        case OID_JSONB: {
                json_node_unref (n);
                g_autoptr (JsonParser) p = json_parser_new_immutable ();
                if (json_parser_load_from_data (p, v, -1, NULL) && json_parser_get_root (p))
                        return json_node_copy (json_parser_get_root (p));
                return json_node_new (JSON_NODE_NULL);
        }
        case OID_TIMESTAMPTZ: {
                g_autoptr (GString) ts = g_string_sized_new (32);
                append_rfc3339 (ts, v);
                json_node_set_string (n, ts->str);
                break;
        }
        default:
                json_node_set_string (n, v);
        }
        return n;
}

char *
atrium_result_time (const AtriumResult *r, int row, int col)
{
        const char *v = atrium_result_value (r, row, col);
        if (!v)
                return NULL;
        GString *s = g_string_sized_new (32);
        append_rfc3339 (s, v);
        return g_string_free (s, FALSE);
}

JsonNode *
atrium_result_row_json (const AtriumResult *r, int row)
{
        if (!r || row < 0 || row >= PQntuples (r->res))
                return json_node_new (JSON_NODE_NULL);
        JsonObject *o = json_object_new ();
        int cols = PQnfields (r->res);
        for (int c = 0; c < cols; c++)
                json_object_set_member (o, PQfname (r->res, c), value_node (r->res, row, c));
        JsonNode *n = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (n, o);
        return n;
}

JsonNode *
atrium_result_rows_json (const AtriumResult *r)
{
        JsonArray *a = json_array_new ();
        int rows = r ? PQntuples (r->res) : 0;
        for (int i = 0; i < rows; i++)
                json_array_add_element (a, atrium_result_row_json (r, i));
        JsonNode *n = json_node_new (JSON_NODE_ARRAY);
        json_node_take_array (n, a);
        return n;
}

/* ---- straight to text ---- */

void
atrium_json_append_string (GString *out, const char *s)
{
        static const char hex[] = "0123456789abcdef";
        g_string_append_c (out, '"');
        const char *run = s;
        for (const char *p = s; *p; p++) {
                guchar ch = (guchar) *p;
                if (ch >= 0x20 && ch != '"' && ch != '\\')
                        continue;
                g_string_append_len (out, run, p - run);
                run = p + 1;
                switch (ch) {
                case '"': g_string_append (out, "\\\""); break;
                case '\\': g_string_append (out, "\\\\"); break;
                case '\n': g_string_append (out, "\\n"); break;
                case '\r': g_string_append (out, "\\r"); break;
                case '\t': g_string_append (out, "\\t"); break;
                case '\b': g_string_append (out, "\\b"); break;
                case '\f': g_string_append (out, "\\f"); break;
                default: {
                        char u[7] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15], 0};
                        g_string_append (out, u);
                }
                }
        }
        g_string_append (out, run);
        g_string_append_c (out, '"');
}

static void
append_value (GString *out, const PGresult *res, int row, int col)
{
        if (PQgetisnull (res, row, col)) {
                g_string_append (out, "null");
                return;
        }
        const char *v = PQgetvalue (res, row, col);
        switch (PQftype (res, col)) {
        case OID_BOOL:
                g_string_append (out, v[0] == 't' ? "true" : "false");
                break;
        case OID_INT2:
        case OID_INT4:
        case OID_INT8:
                g_string_append (out, v); /* PostgreSQL's integer text is a JSON number */
                break;
        case OID_FLOAT4:
        case OID_FLOAT8:
                /* Shortest text that reads back exactly (PostgreSQL 12 and later); JSON's
                 * grammar takes it as it is ("1e+20" included). */
                g_string_append (out, finite_number (v) ? v : "null");
                break;
        case OID_JSON:
        case OID_JSONB:
                /* PostgreSQL checked it on the way in: valid JSON text. */
                g_string_append (out, v);
                break;
        case OID_TIMESTAMPTZ:
                g_string_append_c (out, '"');
                append_rfc3339 (out, v);
                g_string_append_c (out, '"');
                break;
        default:
                atrium_json_append_string (out, v);
        }
}

void
atrium_result_append_row (GString *out, const AtriumResult *r, int row)
{
        int cols = PQnfields (r->res);
        g_string_append_c (out, '{');
        for (int c = 0; c < cols; c++) {
                if (c)
                        g_string_append_c (out, ',');
                atrium_json_append_string (out, PQfname (r->res, c));
                g_string_append_c (out, ':');
                append_value (out, r->res, row, c);
        }
        g_string_append_c (out, '}');
}

GBytes *
atrium_result_page_body (const AtriumResult *r, int n_rows, const char *next_cursor)
{
        int rows = r ? MIN (n_rows, PQntuples (r->res)) : 0;
        /* One allocation for most pages: rows rarely exceed the first row's length much. */
        gsize guess = 64;
        for (int c = 0; rows > 0 && c < PQnfields (r->res); c++)
                guess += PQgetlength (r->res, 0, c) + strlen (PQfname (r->res, c)) + 8;
        GString *out = g_string_sized_new (MIN (guess * (rows + 1), 4u << 20));
        g_string_append (out, "{\"items\":[");
        for (int i = 0; i < rows; i++) {
                if (i)
                        g_string_append_c (out, ',');
                atrium_result_append_row (out, r, i);
        }
        g_string_append (out, "],\"next_cursor\":");
        if (next_cursor)
                atrium_json_append_string (out, next_cursor);
        else
                g_string_append (out, "null");
        g_string_append_c (out, '}');
        return g_string_free_to_bytes (out);
}
