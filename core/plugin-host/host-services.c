/* SPDX-License-Identifier: Apache-2.0 */
/* host-services.c - the AtriumHost table: the only door between a plugin and the host.
 *
 * Each slot checks its preconditions with g_return_val_if_fail (a plugin bug, not a client
 * error) and never lets a host-internal type escape. The registration slots are registry.c's:
 * they refuse calls outside init, so every registration is tagged with a plugin that can
 * still be rolled back. */
#include "core-private.h"
#include "dav-private.h"
#include "portal-private.h"
#include "plugin-host-private.h"
#include "pipeline-private.h"
#include "identity-private.h"
#include "ops-private.h"

#include <string.h>

static char *
host_config_get (AtriumPlugin *self, const char *key)
{
        g_return_val_if_fail (self != NULL && key != NULL, NULL);
        return atrium_config_plugin_value (self->core->config, self->desc.name, key);
}

static void
host_log (AtriumPlugin *self, GLogLevelFlags level, const char *message)
{
        g_log_structured ("atrium", level, "PLUGIN", self ? self->desc.name : "?",
                          "MESSAGE", "%s: %s", self ? self->desc.name : "?",
                          message ? message : "");
}

/* ---- database ---- */

static AtriumResult *
db_query (AtriumTx *tx, const char *sql, int n_params, const char *const *params, GError **error)
{
        g_return_val_if_fail (tx != NULL && sql != NULL && n_params >= 0, NULL);
        return atrium_tx_query (tx, sql, n_params, params, error);
}

static const char *
tx_school (AtriumTx *tx)
{
        return atrium_tx_gate (tx, NULL) ? tx->school_id : NULL;
}

static gboolean
publish (AtriumTx *tx, const char *event, JsonNode *payload, GError **error)
{
        g_return_val_if_fail (tx != NULL, FALSE);
        return atrium_tx_publish (tx, event, payload, error);
}

static const char *
tx_user (AtriumTx *tx)
{
        return atrium_tx_gate (tx, NULL) ? tx->user_id : NULL;
}

/* ---- ABI 1.2 ---- */

static char *
host_password_hash (const char *password)
{
        g_return_val_if_fail (password != NULL, NULL);
        return atrium_password_hash (password);
}

/* A success is remembered for a minute (identity/verify-cache.c): a share link's password
 * comes with every download of it. */
static gboolean
host_password_verify (const char *phc, const char *password)
{
        if (!phc || !password)
                return FALSE;
        return atrium_password_verify_cached ("host", phc, password);
}

static const char *
request_username (AtriumRequest *req)
{
        return req->dav_username;
}

static const AtriumHost host_table = {
        .header = ATRIUM_STRUCT_HEADER (AtriumHost),
        .add_route = atrium_registry_add_route,
        .add_migration = atrium_registry_add_migration,
        .subscribe = atrium_registry_subscribe,
        .provide_service = atrium_registry_provide_service,
        .lookup_service = atrium_registry_lookup_service,
        .config_get = host_config_get,
        .log = host_log,
        .request_method = atrium_request_method,
        .request_param = atrium_request_param,
        .request_query = atrium_request_query,
        .request_header = atrium_request_header,
        .request_json = atrium_request_json,
        .request_body = atrium_request_body,
        .request_school_id = atrium_request_school_id,
        .request_school_slug = atrium_request_school_slug,
        .request_user_id = atrium_request_user_id,
        .request_has_permission = atrium_request_has_permission,
        .request_tx = atrium_request_tx,
        .request_page = atrium_request_page,
        .respond_json = atrium_request_respond_json,
        .respond_bytes = atrium_request_respond_bytes,
        .respond_page = atrium_request_respond_page,
        .response_header = atrium_request_add_header,
        .query = db_query,
        .result_n_rows = atrium_result_n_rows,
        .result_n_cols = atrium_result_n_cols,
        .result_col_name = atrium_result_col_name,
        .result_value = atrium_result_value,
        .result_row_json = atrium_result_row_json,
        .result_rows_json = atrium_result_rows_json,
        .result_affected = atrium_result_affected,
        .result_free = atrium_result_free,
        .tx_school_id = tx_school,
        .publish = publish,
        .request_is_operator = atrium_request_is_operator,
        .tx_user_id = tx_user,
        .add_permission_source = atrium_registry_add_permission_source,
        .request_body_stream = atrium_request_body_stream,
        .respond_stream = atrium_request_respond_stream,
        .data_dir = atrium_host_data_dir,
        .add_command = atrium_host_add_command,
        .add_timer = atrium_host_add_timer,
        .run_tx = atrium_host_run_tx,
        .password_hash = host_password_hash,
        .password_verify = host_password_verify,
        .respond_result_page = atrium_request_respond_result_page,
        .request_tx_commit = atrium_request_tx_commit,
        .add_dav_tree = atrium_dav_add_tree,
        .dav_lock_check = atrium_dav_lock_check,
        .add_portal_page = atrium_portal_add_page,
        .send_mail = atrium_sendmail,
        .request_username = request_username,
};

const AtriumHost *
atrium_host_table (void)
{
        return &host_table;
}
