/* SPDX-License-Identifier: Apache-2.0 */
/* events.c - the event bus. Events are queued in the publishing transaction and, once it has
 * committed, delivered on the same worker to every subscriber, each in a transaction of its
 * own for the same school, before the HTTP answer goes out. So a client that got its answer
 * can rely on the subscribers having run (user.deleted erasure is complete when DELETE
 * returns). An event published by a subscriber is delivered in turn, up to a fixed depth.
 *
 * Delivery is in-process: an event whose subscribers fail is logged, not retried. A durable
 * outbox (for hosts that die between COMMIT and delivery) is future work (docs/ROADMAP.md). */
#include "core-private.h"
#include "plugin-host-private.h"

#define MAX_EVENT_DEPTH 4

static void
deliver (AtriumCore *core, const char *school_id, const char *user_id, GPtrArray *events,
         int depth)
{
        for (guint i = 0; i < events->len; i++) {
                AtriumQueuedEvent *ev = events->pdata[i];
                for (guint s = 0; s < core->subscriptions->len; s++) {
                        AtriumSubscription *sub = core->subscriptions->pdata[s];
                        if (!g_str_equal (sub->event, ev->name) ||
                            sub->owner->state != ATRIUM_PLUGIN_RUNNING)
                                continue;
                        g_autoptr (AtriumTx) tx = atrium_tx_new (core->pool, school_id, user_id);
                        g_autoptr (GError) error = NULL;
                        gboolean ok = sub->handler (tx, ev->name, ev->payload, sub->user_data,
                                                    &error) &&
                                      atrium_tx_commit (tx, &error);
                        if (!ok) {
                                atrium_tx_rollback (tx);
                                g_log_structured ("atrium", G_LOG_LEVEL_WARNING, "PLUGIN", sub->owner->desc.name, "MESSAGE",
                                                  "event %s: subscriber %s failed: %s", ev->name,
                                                  sub->owner->desc.name,
                                                  error ? error->message : "(no reason)");
                                continue;
                        }
                        g_autoptr (GPtrArray) more = atrium_tx_steal_events (tx);
                        if (more->len && depth < MAX_EVENT_DEPTH)
                                deliver (core, school_id, user_id, more, depth + 1);
                        else if (more->len)
                                g_warning ("event %s: chain deeper than %d dropped", ev->name,
                                           MAX_EVENT_DEPTH);
                }
        }
}

void
atrium_events_deliver (AtriumCore *core, const char *school_id, const char *user_id,
                       GPtrArray *events)
{
        deliver (core, school_id, user_id, events, 0);
}
