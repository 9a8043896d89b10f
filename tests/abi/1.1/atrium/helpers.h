/* SPDX-License-Identifier: Apache-2.0 */
/* helpers.h - small conveniences every plugin would otherwise write again, compiled into the
 * plugin (static inline: they use only the AtriumHost table, never a host symbol, so they add
 * nothing to the ABI). */
#pragma once

#include <stdarg.h>

#include "host.h"

/**
 * atrium_queryv:
 * @n: number of parameters that follow (at most 16), each a `const char *` or NULL for SQL NULL
 *
 * host->query with the parameters as arguments: `atrium_queryv (host, tx, error, "SELECT ...
 * WHERE id = $1::uuid", 1, id)`. Returns: (transfer full) (nullable)
 */
static inline AtriumResult *
atrium_queryv (const AtriumHost *host, AtriumTx *tx, GError **error, const char *sql, int n, ...)
{
        const char *params[16];
        g_return_val_if_fail (n >= 0 && n <= 16, NULL);
        va_list ap;
        va_start (ap, n);
        for (int i = 0; i < n; i++)
                params[i] = va_arg (ap, const char *);
        va_end (ap);
        return host->query (tx, sql, n, params, error);
}

/* Sets an ATRIUM_ERROR with a formatted message and returns FALSE: `return atrium_fail (error,
 * ATRIUM_ERROR_NOT_FOUND, "no group %s", id);` */
static inline gboolean atrium_fail (GError **error, AtriumErrorCode code, const char *fmt, ...)
        G_GNUC_PRINTF (3, 4);

static inline gboolean
atrium_fail (GError **error, AtriumErrorCode code, const char *fmt, ...)
{
        va_list ap;
        va_start (ap, fmt);
        char *msg = g_strdup_vprintf (fmt, ap);
        va_end (ap);
        g_set_error_literal (error, ATRIUM_ERROR, code, msg);
        g_free (msg);
        return FALSE;
}

/* Wraps @o (taken) in a JsonNode for respond_json and publish. Returns: (transfer full) */
static inline JsonNode *
atrium_object_node (JsonObject *o)
{
        JsonNode *n = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (n, o);
        return n;
}

/* Wraps @a (taken) in a JsonNode. Returns: (transfer full) */
static inline JsonNode *
atrium_array_node (JsonArray *a)
{
        JsonNode *n = json_node_new (JSON_NODE_ARRAY);
        json_node_take_array (n, a);
        return n;
}
