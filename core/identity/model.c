/* SPDX-License-Identifier: Apache-2.0 */
/* model.c - what the core's identity route files share: a query in the request's
 * transaction, the audit record, the operator check, uuid path checks, JSON and problem
 * helpers, a person's school mail address. identity.c is the wiring; nothing here calls a route
 * file. */
#include "identity-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

AtriumResult *
atrium_sql (AtriumRequest *req, GError **error, const char *sql, int n, ...)
{
        const char *params[16];
        g_return_val_if_fail (n >= 0 && n <= (int) G_N_ELEMENTS (params), NULL);
        va_list ap;
        va_start (ap, n);
        for (int i = 0; i < n; i++)
                params[i] = va_arg (ap, const char *);
        va_end (ap);
        return atrium_tx_query (req->tx, sql, n, params, error);
}

void
atrium_audit (AtriumRequest *req, const char *action, const char *target, JsonNode *details)
{
        g_autofree char *json = details ? json_to_string (details, FALSE) : NULL;
        if (details)
                json_node_unref (details);
        const char *actor = req->user_id ? req->user_id : req->operator_id;
        const char *kind = req->user_id ? "user" : req->operator_id ? "operator" : "anonymous";
        g_autoptr (GError) error = NULL;
        g_autoptr (AtriumResult) res = atrium_sql (
                req, &error, "SELECT core.audit($1::uuid, $2::uuid, $3, $4, $5, $6::jsonb, $7)", 7,
                req->school_id, actor, kind, action, target, json, req->client);
        /* A failed audit write fails the transaction, and with it the action: nothing
         * security-relevant happens unrecorded. */
        if (!res)
                g_warning ("audit %s: %s", action, error->message);
}

gboolean
atrium_require_operator (AtriumRequest *req, GError **error)
{
        if (req->operator_id)
                return TRUE;
        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                     "only platform operators may do this");
        return FALSE;
}

gboolean
atrium_valid_uuid_or_404 (const char *id, const char *what, GError **error)
{
        if (id && g_uuid_string_is_valid (id))
                return TRUE;
        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no %s %s", what, id ? id : "");
        return FALSE;
}

JsonNode *
atrium_json_object_node (JsonObject *o)
{
        JsonNode *n = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (n, o);
        return n;
}

void
atrium_respond_problem_commit (AtriumRequest *req, AtriumErrorCode code, const char *msg)
{
        g_autoptr (GError) e = g_error_new_literal (ATRIUM_ERROR, code, msg);
        atrium_request_set_problem (req, e);
}

gboolean
atrium_school_mail_address (AtriumRequest *req, const char *username, char **out, GError **error)
{
        *out = NULL;
        AtriumPlugin *mail = atrium_core_find_plugin (req->core, "mail");
        if (!mail || mail->state != ATRIUM_PLUGIN_RUNNING)
                return TRUE;
        g_autoptr (AtriumResult) res =
                atrium_sql (req, error,
                            "SELECT s.domain FROM mail.settings s "
                            "WHERE s.school_id = core.current_school() AND EXISTS (SELECT 1 FROM "
                            "core.school_modules m WHERE m.school_id = s.school_id "
                            "AND m.module = 'mail')",
                            0);
        if (!res)
                return FALSE;
        if (atrium_result_n_rows (res) == 1)
                *out = g_strdup_printf ("%s@%s", username, atrium_result_value (res, 0, 0));
        return TRUE;
}
