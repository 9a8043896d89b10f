/* SPDX-License-Identifier: Apache-2.0 */
/* plugin.h - what a plugin exports: one function returning its descriptor.
 *
 * The host dlopen()s a plugin with RTLD_NOW|RTLD_LOCAL, looks up exactly one symbol,
 * ATRIUM_PLUGIN_SYMBOL, calls it and checks the returned descriptor's header before it
 * touches anything else (see abi.h for the rules). A function, not a data symbol, because
 * dlsym() is only guaranteed to work for functions (PostgreSQL's Pg_magic_func).
 *
 * Threads: init, start, stop and fini run on the host's main thread, in dependency order
 * (stop and fini in reverse). init registers routes, migrations, permissions, event handlers
 * and services through the AtriumHost table and does no I/O; start may begin background work;
 * stop cancels it; fini frees. Route handlers and event handlers run on worker threads.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "abi.h"

G_BEGIN_DECLS

typedef struct _AtriumPlugin AtriumPlugin; /* opaque: the host's record of one loaded plugin */
typedef struct _AtriumHost AtriumHost;
typedef struct _AtriumTx AtriumTx; /* opaque: one open database transaction (host.h) */

/**
 * AtriumDependency:
 * @name: plugin name depended on
 * @min_version: lowest acceptable semantic version ("1.2.0"), or %NULL for any
 *
 * Arrays of dependencies end with an element whose @name is %NULL.
 */
typedef struct {
        const char *name;
        const char *min_version;
} AtriumDependency;

/**
 * AtriumPermission:
 * @name: "<plugin>.<verb>", e.g. "noticeboard.post"
 * @description: one line for operators
 * @default_roles: comma-separated school roles granted it by default ("admin,teacher"), or
 *   %NULL for none
 *
 * Arrays of permissions end with an element whose @name is %NULL.
 */
typedef struct {
        const char *name;
        const char *description;
        const char *default_roles;
} AtriumPermission;

typedef struct {
        AtriumStructHeader header;
        const char *name;    /* [a-z][a-z0-9_]{1,30}: route prefix and SQL schema name */
        const char *version; /* semantic version, "1.0.0" */
        const char *description;
        const char *license;                  /* SPDX identifier */
        const AtriumDependency *dependencies; /* (nullable) NULL-name terminated */
        const AtriumPermission *permissions;  /* (nullable) NULL-name terminated */

        /* Lifecycle. @host stays valid until fini returns. Returning FALSE from init or
         * start refuses the plugin; everything it registered is dropped. */
        gboolean (*init) (AtriumPlugin *self, const AtriumHost *host, GError **error);
        gboolean (*start) (AtriumPlugin *self, GError **error);
        void (*stop) (AtriumPlugin *self);
        void (*fini) (AtriumPlugin *self);

        /* ---- ABI 1.1 ---- */

        /* Called in the transaction of PUT /api/v1/schools/{school}/modules/<name>, with the
         * school set: create the school's default rows. FALSE (with @error) refuses enabling. */
        gboolean (*school_enable) (AtriumPlugin *self, AtriumTx *tx, GError **error);
        /* Called in the transaction of DELETE .../modules/<name>. The plugin's data stays;
         * FALSE refuses disabling. */
        gboolean (*school_disable) (AtriumPlugin *self, AtriumTx *tx, GError **error);
        /* GDPR access request: add what the plugin holds about @user_id to @out (it becomes
         * the member named after the plugin in the export). Runs in the school's transaction. */
        gboolean (*user_export) (AtriumPlugin *self, AtriumTx *tx, const char *user_id,
                                 JsonObject *out, GError **error);
} AtriumPluginDescriptor;

/* The first released size of the descriptor; smaller ones are refused. */
#define ATRIUM_PLUGIN_DESCRIPTOR_SIZE_1_0                                                          \
        (offsetof (AtriumPluginDescriptor, fini) + sizeof (void *))

#define ATRIUM_PLUGIN_SYMBOL "atrium_plugin_descriptor"

typedef const AtriumPluginDescriptor *(*AtriumPluginDescriptorFunc) (void);

/**
 * ATRIUM_PLUGIN_DEFINE:
 * @...: designated initialisers for the AtriumPluginDescriptor fields after the header
 *
 * Defines the descriptor and the one exported function. Use it once per plugin:
 *
 *   ATRIUM_PLUGIN_DEFINE (.name = "noticeboard", .version = "1.0.0", ..., .init = nb_init)
 */
#define ATRIUM_PLUGIN_DEFINE(...)                                                                  \
        static const AtriumPluginDescriptor atrium_plugin_descriptor_data_ = {                     \
                .header = ATRIUM_STRUCT_HEADER (AtriumPluginDescriptor),                           \
                __VA_ARGS__};                                                                      \
        ATRIUM_EXPORT const AtriumPluginDescriptor *atrium_plugin_descriptor (void);               \
        ATRIUM_EXPORT const AtriumPluginDescriptor *atrium_plugin_descriptor (void)                \
        {                                                                                          \
                return &atrium_plugin_descriptor_data_;                                            \
        }

G_END_DECLS
