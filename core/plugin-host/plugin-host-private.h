/* SPDX-License-Identifier: Apache-2.0 */
/* plugin-host-private.h - plugins inside the host: loading them through the ABI gate
 * (plugin-loader.c), what they register (registry.c), the start-up sequence (startup.c), their
 * commands, timers and transactions (plugin-tasks.c), event delivery (events.c) and the
 * AtriumHost table they call (host-services.c). */
#pragma once

#include "core-private.h"

/* host-services.c */
const AtriumHost *atrium_host_table (void);

/* plugin-loader.c */
AtriumPlugin *atrium_plugin_open (AtriumCore *core, const char *path, GError **error);
gboolean atrium_plugins_load_dir (AtriumCore *core, const char *dir, GError **error);
gboolean atrium_plugins_init_all (AtriumCore *core, GError **error);
gboolean atrium_plugins_start_all (AtriumCore *core, GError **error);
void atrium_plugins_stop_all (AtriumCore *core);
void atrium_plugin_fail (AtriumPlugin *plugin, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
void atrium_plugin_free (AtriumPlugin *plugin);
AtriumPlugin *atrium_core_find_plugin (AtriumCore *core, const char *name);
int atrium_version_compare (const char *a, const char *b);
gboolean atrium_version_valid (const char *v);

/* registry.c: every list of registrations but tasks; the AtriumHost registration slots. */
void atrium_registry_init (AtriumCore *core);
/* FALSE with an error outside the plugin's init: registrations are taken only then, so every
 * entry belongs to a plugin that can still be rolled back. */
gboolean atrium_registry_registering (AtriumPlugin *self, GError **error);
/* Copies a registration struct a plugin built against any minor into @out (of @out_size): what
 * the plugin knew, zeros after. FALSE with an error naming @what and its initialiser macro @init
 * when @in has no valid header or is shorter than @min_size (the members of its first minor). */
gboolean atrium_registry_copy_struct (const AtriumStructHeader *in, gsize min_size, void *out,
                                      gsize out_size, const char *what, const char *init,
                                      GError **error);
/* A registration's name (a DAV mount, a portal page): [a-z][a-z0-9-]*, at most 32 bytes. */
gboolean atrium_registry_name_ok (const char *s);
void atrium_migration_free (AtriumMigration *m);
void atrium_registry_clear (AtriumCore *core);
/* Frees the plugins' migration texts (names and checksums stay): start-up has applied them
 * and nothing in this process reads them again. */
void atrium_registry_release_migration_sql (AtriumCore *core);
gboolean atrium_core_add_route (AtriumCore *core, AtriumPlugin *owner, const AtriumRoute *route,
                                GError **error);
/* The core's own routes: user_data is set to @core; a bad table is a programming error. */
void atrium_core_add_routes (AtriumCore *core, const AtriumRoute *routes, gsize n);
/* The route's request schema as a tree, made from its text by the first body that needs it.
 * Returns: (transfer none) (nullable) %NULL when the route takes no JSON body. */
JsonNode *atrium_route_request_schema (const AtriumRouteEntry *e);
/* The route's query and response schemas as trees, made once (nullable). */
JsonNode *atrium_route_query_schema (const AtriumRouteEntry *e);
JsonNode *atrium_route_response_schema (const AtriumRouteEntry *e);
void atrium_core_drop_registrations (AtriumCore *core, AtriumPlugin *owner);
gboolean atrium_registry_add_route (AtriumPlugin *self, const AtriumRoute *route, GError **error);
gboolean atrium_registry_add_migration (AtriumPlugin *self, const char *name, const char *sql,
                                        GError **error);
gboolean atrium_registry_subscribe (AtriumPlugin *self, const char *event,
                                    AtriumEventHandler handler, gpointer user_data,
                                    GError **error);
gboolean atrium_registry_provide_service (AtriumPlugin *self, const char *name, guint version,
                                          gconstpointer table, GError **error);
gconstpointer atrium_registry_lookup_service (AtriumPlugin *self, const char *name,
                                              guint min_version);
/* The same lookup for the core's own code (the people import calls the groups service, see
 * core/identity/user-import.c): the core never links against a plugin, it uses the table a
 * running plugin published. NULL when no running plugin provides @name at @min_version. */
gconstpointer atrium_core_lookup_service (AtriumCore *core, const char *name, guint min_version);
gboolean atrium_registry_add_permission_source (AtriumPlugin *self, const char *sql_function,
                                                GError **error);

/* startup.c: load -> init -> migrate (with grants) -> start, from wherever the host is up to
 * @until; atrium_shutdown() stops what was started. */
gboolean atrium_startup (AtriumCore *core, AtriumStage until, GError **error);
void atrium_shutdown (AtriumCore *core);

/* plugin-tasks.c */
void atrium_task_free (AtriumTask *t);
void atrium_tasks_drop (AtriumCore *core, AtriumPlugin *owner);
gboolean atrium_host_add_command (AtriumPlugin *self, const char *name, const char *summary,
                                  AtriumCommandFunc func, gpointer user_data, GError **error);
gboolean atrium_host_add_timer (AtriumPlugin *self, guint interval_seconds,
                                AtriumTimerFunc func, gpointer user_data, GError **error);
gboolean atrium_host_run_tx (AtriumPlugin *self, const char *school_id, AtriumTxFunc func,
                             gpointer user_data, GError **error);
const char *atrium_host_data_dir (AtriumPlugin *self);
/* argv: plugin, command, args... has_command prints the known commands when it answers
 * FALSE. */
gboolean atrium_tasks_has_command (AtriumCore *core, int argc, char **argv);
int atrium_tasks_run_command (AtriumCore *core, int argc, char **argv);
void atrium_tasks_start_timers (AtriumCore *core, GMainContext *context);
void atrium_tasks_stop_timers (AtriumCore *core);

/* events.c: durable events. Before @tx commits, its events with subscribers go to
 * core.event_outbox (@depth: 0 for a request's or run_tx's own events); after it committed,
 * atrium_events_deliver delivers them in-process. */
gboolean atrium_events_persist (AtriumCore *core, AtriumTx *tx, int depth, GError **error);
void atrium_events_deliver (AtriumCore *core, const char *school_id, const char *user_id,
                            GPtrArray *events);
/* The leader's retry pass: delivers up to @limit due outbox rows, using @conn (the leader's
 * own connection) to find them. Returns how many were due. */
guint atrium_events_retry_due (AtriumCore *core, PGconn *conn, guint limit);

/* leader.c: one host of an installation holds a PostgreSQL advisory lock and runs what must
 * run once: plugin timers and event retries. Every serving host runs the election thread. */
void atrium_leader_start (AtriumCore *core);
void atrium_leader_stop (AtriumCore *core);
gboolean atrium_leader_is (AtriumCore *core);
