/* SPDX-License-Identifier: Apache-2.0 */
/* events.c - the event bus, durable.
 *
 * Publishing queues an event in the transaction. Before it commits, atrium_events_persist()
 * writes one core.event_outbox row per subscribing plugin (schema/0005_event_outbox.sql), so
 * the event is stored exactly when the change that caused it is. After the commit the same
 * worker delivers it, before the HTTP answer goes out, so a client that got its answer can
 * rely on the subscribers having run (user.deleted erasure is complete when DELETE returns).
 * Each delivery is a transaction of the event's school that locks the subscriber's row (FOR
 * UPDATE SKIP LOCKED), runs the plugin's handlers with atrium.event_id set, and deletes the
 * row: the subscriber's writes and the end of the delivery commit together.
 *
 * A row still there later was not delivered: its host died between the commit and the
 * delivery, or the subscriber failed (then attempts, last_error and a backed-off
 * next_attempt_at are recorded, and a NOTIFY wakes the leader). The host holding the leader
 * lock (leader.c) delivers due rows again with atrium_events_retry_due(), with the same event
 * id, until the subscriber succeeds or max_attempts is reached. So every subscriber gets every
 * event at least once; subscribers must be idempotent for effects outside the database.
 *
 * An event published in a transaction with no school (an operator's, or run_tx without one)
 * has no outbox row: it is delivered in-process only, as before. An event published by a
 * subscriber is delivered in turn, up to a fixed depth. */
#include "core-private.h"
#include "plugin-host-private.h"

#include <string.h>

#define MAX_EVENT_DEPTH 4
/* How long after the commit a row waits for its publishing host before the leader takes it:
 * the in-process delivery claims it within milliseconds unless that host died. */
#define FAST_PATH_GRACE "5 seconds"

typedef struct {
        const char *school_id; /* (nullable) no school: in-process only */
        const char *actor_id;  /* (nullable) */
        const char *id;        /* (nullable) the outbox's event id */
        const char *name;      /* NULL: a retry, read from the outbox row when claimed */
        JsonNode *payload;
        int depth;
        /* a retry's event as read from its row, owned; delivery_clear() frees them */
        char *own_name, *own_actor;
        JsonNode *own_payload;
} Delivery;

static void
delivery_clear (Delivery *d)
{
        g_clear_pointer (&d->own_name, g_free);
        g_clear_pointer (&d->own_actor, g_free);
        g_clear_pointer (&d->own_payload, json_node_unref);
}

static void deliver (AtriumCore *core, const char *school_id, const char *actor_id,
                     GPtrArray *events, int depth);

/* Whether @plugin is running and subscribed to @event. */
static gboolean
subscribes (AtriumCore *core, AtriumPlugin *plugin, const char *event)
{
        if (!plugin || plugin->state != ATRIUM_PLUGIN_RUNNING)
                return FALSE;
        for (guint s = 0; s < core->subscriptions->len; s++) {
                AtriumSubscription *sub = core->subscriptions->pdata[s];
                if (sub->owner == plugin && g_str_equal (sub->event, event))
                        return TRUE;
        }
        return FALSE;
}

/* The running plugins subscribed to @event, each once, in subscription order. */
static GPtrArray *
subscribers_of (AtriumCore *core, const char *event)
{
        GPtrArray *plugins = g_ptr_array_new ();
        for (guint s = 0; s < core->subscriptions->len; s++) {
                AtriumSubscription *sub = core->subscriptions->pdata[s];
                if (g_str_equal (sub->event, event) && sub->owner->state == ATRIUM_PLUGIN_RUNNING &&
                    !g_ptr_array_find (plugins, sub->owner, NULL))
                        g_ptr_array_add (plugins, sub->owner);
        }
        return plugins;
}

/* A text[] literal of the plugins' names (which are [a-z0-9_-]: nothing to escape). */
static char *
names_array (GPtrArray *plugins)
{
        GString *s = g_string_new ("{");
        for (guint i = 0; i < plugins->len; i++)
                g_string_append_printf (s, "%s\"%s\"", i ? "," : "",
                                        ((AtriumPlugin *) plugins->pdata[i])->desc.name);
        g_string_append_c (s, '}');
        return g_string_free (s, FALSE);
}

gboolean
atrium_events_persist (AtriumCore *core, AtriumTx *tx, int depth, GError **error)
{
        if (!tx->events->len)
                return TRUE;
        if (depth > MAX_EVENT_DEPTH) {
                g_warning ("event %s: chain deeper than %d dropped",
                           ((AtriumQueuedEvent *) tx->events->pdata[0])->name, MAX_EVENT_DEPTH);
                g_ptr_array_set_size (tx->events, 0);
                return TRUE;
        }
        for (guint i = 0; i < tx->events->len && tx->school_id; i++) {
                AtriumQueuedEvent *ev = tx->events->pdata[i];
                g_autoptr (GPtrArray) subs = subscribers_of (core, ev->name);
                if (ev->id || !subs->len)
                        continue;
                g_autofree char *id = g_uuid_string_random ();
                g_autofree char *payload = json_to_string (ev->payload, FALSE);
                g_autofree char *depth_s = g_strdup_printf ("%d", depth);
                g_autofree char *names = names_array (subs);
                const char *params[] = {tx->school_id, id,      ev->name, payload,
                                        tx->user_id,   depth_s, names};
                AtriumResult *res = atrium_tx_query (
                        tx,
                        "INSERT INTO core.event_outbox (school_id, id, subscriber, name, payload, "
                        "actor_id, depth, next_attempt_at) SELECT $1::uuid, $2::uuid, s, $3, "
                        "$4::jsonb, $5::uuid, $6::integer, clock_timestamp() + interval '" FAST_PATH_GRACE
                        "' FROM unnest($7::text[]) s",
                        G_N_ELEMENTS (params), params, error);
                if (!res)
                        return FALSE;
                atrium_result_free (res);
                ev->id = g_steal_pointer (&id);
        }
        return TRUE;
}

/* Records a failed delivery of @d to @subscriber: another attempt later (backing off from 1 s
 * to 10 min), or given up after max_attempts. Wakes the leader. */
static void
record_failure (AtriumCore *core, const Delivery *d, const char *subscriber, const char *why)
{
        g_atomic_pointer_add (&core->event_failures, 1);
        if (!d->id)
                return;
        g_autofree char *max = g_strdup_printf ("%u", core->config->event_max_attempts);
        const char *params[] = {d->school_id, d->id, subscriber, why, max};
        g_autoptr (AtriumTx) tx = atrium_tx_new (core->pool, d->school_id, NULL);
        g_autoptr (GError) error = NULL;
        AtriumResult *res = atrium_tx_query (
                tx,
                "UPDATE core.event_outbox SET attempts = attempts + 1, last_error = left($4, 2000), "
                "next_attempt_at = clock_timestamp() + least(interval '1 second' * power(2, "
                "attempts), interval '10 minutes'), failed_at = CASE WHEN attempts + 1 >= "
                "$5::integer THEN clock_timestamp() END WHERE school_id = $1::uuid AND id = "
                "$2::uuid AND subscriber = $3 AND failed_at IS NULL RETURNING attempts, "
                "failed_at IS NOT NULL",
                G_N_ELEMENTS (params), params, &error);
        gboolean given_up = res && g_strcmp0 (atrium_result_value (res, 0, 1), "t") == 0;
        if (res && given_up)
                g_log_structured ("atrium", G_LOG_LEVEL_WARNING, "PLUGIN", subscriber, "MESSAGE",
                                  "event %s %s: subscriber %s given up after %s attempts: %s",
                                  d->name ? d->name : "", d->id, subscriber,
                                  atrium_result_value (res, 0, 0), why);
        if (given_up)
                g_atomic_pointer_add (&core->event_given_up, 1);
        if (res) {
                atrium_result_free (res);
                atrium_result_free (atrium_tx_query (tx, "SELECT pg_notify('atrium_events', '')", 0,
                                                     NULL, &error));
        }
        if (error || !atrium_tx_commit (tx, &error)) {
                atrium_tx_rollback (tx);
                g_warning ("event %s: cannot record the failed delivery to %s: %s", d->id,
                           subscriber, error ? error->message : "(no reason)");
        }
}

/* One delivery of @d to the handlers @plugin subscribed, in a transaction of the event's
 * school. With an outbox id, the row is claimed first (and, for a retry, the event read from
 * it: @d's name is NULL then) and deleted with the handlers' work. *out_ran: FALSE when the
 * row was taken or done by someone else. */
static gboolean
run_subscriber (AtriumCore *core, AtriumPlugin *plugin, Delivery *d, gboolean *out_ran,
                GError **error)
{
        *out_ran = FALSE;
        g_autoptr (AtriumTx) tx = atrium_tx_new (core->pool, d->school_id, d->actor_id);
        /* A subscriber's work (erasing a deleted person's mail and files, say) is not a
         * request's: [database] statement_timeout does not bound it, as for timers. */
        tx->unbounded = TRUE;
        g_autoptr (GPtrArray) more = NULL;
        if (d->id) {
                const char *params[] = {d->school_id, d->id, plugin->desc.name};
                AtriumResult *res = atrium_tx_query (
                        tx,
                        "SELECT set_config('atrium.event_id', id::text, true), "
                        "set_config('atrium.user_id', coalesce(actor_id::text, ''), true), name, "
                        "payload::text, actor_id, depth FROM core.event_outbox WHERE school_id = "
                        "$1::uuid AND id = $2::uuid AND subscriber = $3 AND failed_at IS NULL FOR "
                        "UPDATE SKIP LOCKED",
                        G_N_ELEMENTS (params), params, error);
                if (!res)
                        goto fail;
                gboolean claimed = atrium_result_n_rows (res) == 1;
                if (claimed && !d->name) {
                        d->own_payload = json_from_string (atrium_result_value (res, 0, 3), NULL);
                        if (!d->own_payload)
                                d->own_payload = json_node_new (JSON_NODE_NULL);
                        d->own_name = g_strdup (atrium_result_value (res, 0, 2));
                        d->own_actor = g_strdup (atrium_result_value (res, 0, 4));
                        d->name = d->own_name;
                        d->payload = d->own_payload;
                        d->actor_id = d->own_actor;
                        /* Events this delivery publishes name the same actor (as admit does
                         * for a request's transaction, pipeline/handle.c). */
                        g_free (tx->user_id);
                        tx->user_id = g_strdup (d->own_actor);
                        d->depth =
                                (int) g_ascii_strtoll (atrium_result_value (res, 0, 5), NULL, 10);
                }
                atrium_result_free (res);
                if (!claimed) {
                        atrium_tx_rollback (tx);
                        return TRUE;
                }
        }
        *out_ran = TRUE;
        if (!subscribes (core, plugin, d->name)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "plugin %s is not running on this host, or no longer subscribes",
                             plugin->desc.name);
                goto fail;
        }
        for (guint s = 0; s < core->subscriptions->len; s++) {
                AtriumSubscription *sub = core->subscriptions->pdata[s];
                if (sub->owner == plugin && g_str_equal (sub->event, d->name) &&
                    !sub->handler (tx, d->name, d->payload, sub->user_data, error)) {
                        if (error && !*error)
                                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                             "(no reason)");
                        goto fail;
                }
        }
        if (d->id) {
                const char *params[] = {d->school_id, d->id, plugin->desc.name};
                AtriumResult *res = atrium_tx_query (
                        tx,
                        "DELETE FROM core.event_outbox WHERE school_id = $1::uuid AND id = "
                        "$2::uuid AND subscriber = $3",
                        G_N_ELEMENTS (params), params, error);
                if (!res)
                        goto fail;
                atrium_result_free (res);
        }
        if (!atrium_events_persist (core, tx, d->depth + 1, error) || !atrium_tx_commit (tx, error))
                goto fail;
        g_atomic_pointer_add (&core->event_deliveries, 1);
        more = atrium_tx_steal_events (tx);
        if (more->len)
                deliver (core, d->school_id, d->actor_id, more, d->depth + 1);
        return TRUE;
fail:
        atrium_tx_rollback (tx);
        return FALSE;
}

static void
deliver_to (AtriumCore *core, AtriumPlugin *plugin, Delivery *d)
{
        g_autoptr (GError) error = NULL;
        gboolean ran;
        if (run_subscriber (core, plugin, d, &ran, &error))
                return;
        const char *why = error ? error->message : "(no reason)";
        g_log_structured ("atrium", G_LOG_LEVEL_WARNING, "PLUGIN", plugin->desc.name, "MESSAGE",
                          "event %s: subscriber %s failed: %s", d->name ? d->name : "",
                          plugin->desc.name, why);
        record_failure (core, d, plugin->desc.name, why);
}

static void
deliver (AtriumCore *core, const char *school_id, const char *actor_id, GPtrArray *events,
         int depth)
{
        for (guint i = 0; i < events->len; i++) {
                AtriumQueuedEvent *ev = events->pdata[i];
                g_autoptr (GPtrArray) subs = subscribers_of (core, ev->name);
                for (guint s = 0; s < subs->len; s++) {
                        Delivery d = {.school_id = school_id,
                                      .actor_id = actor_id,
                                      .id = ev->id,
                                      .name = ev->name,
                                      .payload = ev->payload,
                                      .depth = depth};
                        deliver_to (core, subs->pdata[s], &d);
                }
        }
}

void
atrium_events_deliver (AtriumCore *core, const char *school_id, const char *user_id,
                       GPtrArray *events)
{
        deliver (core, school_id, user_id, events, 0);
}

guint
atrium_events_retry_due (AtriumCore *core, PGconn *conn, guint limit)
{
        g_autofree char *lim = g_strdup_printf ("%u", limit);
        const char *params[] = {lim};
        g_autoptr (PGresult) due = PQexecParams (
                conn, "SELECT school_id, id, subscriber FROM core.event_outbox_due($1)", 1, NULL,
                params, NULL, NULL, 0);
        if (PQresultStatus (due) != PGRES_TUPLES_OK)
                return 0;
        int n = PQntuples (due);
        for (int i = 0; i < n; i++) {
                const char *subscriber = PQgetvalue (due, i, 2);
                Delivery d = {.school_id = PQgetvalue (due, i, 0), .id = PQgetvalue (due, i, 1)};
                AtriumPlugin *plugin = atrium_core_find_plugin (core, subscriber);
                if (!plugin) {
                        record_failure (core, &d, subscriber,
                                        "the subscribing plugin is not loaded on this host");
                        continue;
                }
                g_atomic_pointer_add (&core->event_retries, 1);
                deliver_to (core, plugin, &d);
                delivery_clear (&d);
        }
        return (guint) n;
}
