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
 *
 * Ownership annotations ((transfer none), (nullable), ...) mean what the top of host.h says.
 * Everything a plugin hands over in its descriptor (strings, arrays, functions) is read in
 * place, never copied or freed: it must stay valid as long as the .so is loaded, which in
 * practice means static data.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "abi.h"

G_BEGIN_DECLS

/* opaque: the host's record of one loaded plugin; the "self" of every hook and slot */
typedef struct _AtriumPlugin AtriumPlugin;
typedef struct _AtriumHost AtriumHost; /* the host-services table (host.h) */
typedef struct _AtriumTx AtriumTx; /* opaque: one open database transaction (host.h) */

/**
 * AtriumDependency:
 * @name: plugin name depended on
 * @min_version: (nullable): lowest acceptable semantic version ("1.2.0"), or %NULL for any
 *
 * A plugin that must be loaded, initialised and started before this one. The host refuses
 * the plugin when a dependency is missing, too old, refused itself, or part of a cycle.
 * Arrays of dependencies end with an element whose @name is %NULL. Fixed size for the whole
 * major (no header: it is handed over in arrays).
 *
 * Since: 1.0
 */
typedef struct {
        const char *name;
        const char *min_version;
} AtriumDependency;

/**
 * AtriumPermission:
 * @name: "<plugin>.<verb>", e.g. "noticeboard.post"
 * @description: one line for operators
 * @default_roles: (nullable): comma-separated school roles granted it by default
 *   ("admin,teacher"), or %NULL for none
 *
 * A permission the plugin defines; routes and request_has_permission() name it. Schools can
 * change which roles hold it. Arrays of permissions end with an element whose @name is
 * %NULL. Fixed size for the whole major (no header: it is handed over in arrays).
 *
 * Since: 1.0
 */
typedef struct {
        const char *name;
        const char *description;
        const char *default_roles;
} AtriumPermission;

/**
 * AtriumPluginDescriptor:
 * @header: ATRIUM_PLUGIN_DEFINE fills it: magic, the size and the ABI version of the headers
 *   the plugin was built against. The host's gate reads it first (abi.h); fields past
 *   header.struct_size read as %NULL.
 * @name: [a-z][a-z0-9_]{1,30}, unique among the loaded plugins: the route prefix, the SQL
 *   schema, the config section and the permission prefix
 * @version: the plugin's semantic version ("1.0.0"), compared with dependents' min_version
 * @description: (nullable): one line for operators (/api/v1/modules, check-plugin)
 * @license: (nullable): SPDX identifier
 * @dependencies: (nullable): %NULL-name terminated array (#AtriumDependency)
 * @permissions: (nullable): %NULL-name terminated array (#AtriumPermission)
 * @init: required. Registers through @host and does no I/O (see the lifecycle comment
 *   below). Since: 1.0
 * @start: (nullable): after every plugin's init and the migrations; may begin background
 *   work. Since: 1.0
 * @stop: (nullable): at shutdown, in reverse order, after requests drained: stop what start
 *   began. Since: 1.0
 * @fini: (nullable): after every stop, in reverse order: free. Since: 1.0
 * @school_enable: (nullable): see below. Since: 1.1
 * @school_disable: (nullable): see below. Since: 1.1
 * @user_export: (nullable): see below. Since: 1.1
 *
 * What a plugin exports, through ATRIUM_PLUGIN_DEFINE. Read in place (it must be static),
 * copied by the host up to header.struct_size. Append-only like every versioned struct; a
 * plugin built for an older minor simply has none of the newer hooks.
 *
 * Since: 1.0 (fields: as marked)
 */
typedef struct {
        AtriumStructHeader header;
        const char *name;        /* [a-z][a-z0-9_]{1,30}: route prefix and SQL schema name */
        const char *version;     /* semantic version, "1.0.0" */
        const char *description;
        const char *license;     /* SPDX identifier */
        const AtriumDependency *dependencies; /* (nullable) NULL-name terminated */
        const AtriumPermission *permissions;  /* (nullable) NULL-name terminated */

        /* Lifecycle, all on the main thread (ABI 1.0). @host stays valid until fini returns.
         * Returning FALSE (with @error set) from init or start refuses the plugin; everything
         * it registered is dropped, and its dependents are refused. Errors: any GError; its
         * message becomes the refusal the operator reads. */
        gboolean (*init) (AtriumPlugin *self, const AtriumHost *host, GError **error);
        gboolean (*start) (AtriumPlugin *self, GError **error);
        void (*stop) (AtriumPlugin *self);
        void (*fini) (AtriumPlugin *self);

        /* ---- ABI 1.1 ---- */

        /**
         * school_enable:
         * @tx: (transfer none): the request's transaction, set to the school; valid during
         *   the call
         *
         * Called on the worker thread of PUT /api/v1/schools/{school}/modules/<name>, in its
         * transaction: create the school's default rows. Not called when the module was
         * enabled already.
         * Returns: %TRUE, or %FALSE with @error set to refuse enabling (the error's code
         *   makes the answer).
         * Since: 1.1
         */
        gboolean (*school_enable) (AtriumPlugin *self, AtriumTx *tx, GError **error);
        /**
         * school_disable:
         * @tx: (transfer none): the request's transaction, set to the school
         *
         * Called on the worker thread of DELETE .../modules/<name>, in its transaction. The
         * plugin's data stays.
         * Returns: %TRUE, or %FALSE with @error set to refuse disabling.
         * Since: 1.1
         */
        gboolean (*school_disable) (AtriumPlugin *self, AtriumTx *tx, GError **error);
        /**
         * user_export:
         * @tx: (transfer none): the request's transaction, set to the school
         * @user_id: (transfer none): the UUID of the person exported
         * @out: (transfer none): an empty object the host owns; it becomes the member named
         *   after the plugin in the export
         *
         * GDPR access request: add what the plugin holds about @user_id to @out. Runs on
         * the request's worker thread.
         * Returns: %TRUE, or %FALSE with @error set, which fails the whole export.
         * Since: 1.1
         */
        gboolean (*user_export) (AtriumPlugin *self, AtriumTx *tx, const char *user_id,
                                 JsonObject *out, GError **error);
} AtriumPluginDescriptor;

/* The first released (1.0) size of the descriptor; the host refuses smaller ones. */
#define ATRIUM_PLUGIN_DESCRIPTOR_SIZE_1_0 (offsetof (AtriumPluginDescriptor, fini) + sizeof (void *))

/* The one symbol the host looks up: a function, defined by ATRIUM_PLUGIN_DEFINE. */
#define ATRIUM_PLUGIN_SYMBOL "atrium_plugin_descriptor"

/* Its type. Returns: (transfer none): the plugin's static descriptor; called once, on the
 * main thread, right after dlopen(). */
typedef const AtriumPluginDescriptor *(*AtriumPluginDescriptorFunc) (void);

/**
 * ATRIUM_PLUGIN_DEFINE:
 * @...: designated initialisers for the AtriumPluginDescriptor fields after the header
 *
 * Defines the descriptor and the one exported function. Use it once per plugin:
 *
 *   ATRIUM_PLUGIN_DEFINE (.name = "noticeboard", .version = "1.0.0", ..., .init = nb_init)
 *
 * The header it writes declares the ABI of the headers the plugin is compiled against
 * (ATRIUM_ABI_MAJOR.ATRIUM_ABI_MINOR): the plugin loads on hosts of that major with the same
 * or a newer minor.
 */
#define ATRIUM_PLUGIN_DEFINE(...)                                                               \
        static const AtriumPluginDescriptor atrium_plugin_descriptor_data_ = {                  \
                .header = ATRIUM_STRUCT_HEADER (AtriumPluginDescriptor), __VA_ARGS__};          \
        ATRIUM_EXPORT const AtriumPluginDescriptor *atrium_plugin_descriptor (void);            \
        ATRIUM_EXPORT const AtriumPluginDescriptor *atrium_plugin_descriptor (void)             \
        {                                                                                       \
                return &atrium_plugin_descriptor_data_;                                         \
        }

G_END_DECLS
