/* SPDX-License-Identifier: Apache-2.0 */
/* portal-private.h - the browser portal at / (docs/PORTAL.md):
 *   assets.c  bundles of static files (the shell's, each plugin page's) read from GResources,
 *             content-hashed URLs, ETags, the security headers every portal answer carries
 *   portal.c  the routes: the shell page at /, /portal/assets/<hash>/..., the navigation over
 *             REST; the add_portal_page host slot (ABI 1.5) */
#pragma once

#include <gio/gio.h>
#include <glib.h>

#include "core-private.h"

/* ---- assets.c ---- */

typedef struct _AtriumPortalBundle AtriumPortalBundle;

/* Reads every file under @folder of @resource (recursively) into a bundle whose URL prefix is
 * /portal/assets/<hash of all of it>. */
AtriumPortalBundle *atrium_portal_bundle_new (GResource *resource, const char *folder,
                                              GError **error);
void atrium_portal_bundle_free (AtriumPortalBundle *bundle);
const char *atrium_portal_bundle_hash (const AtriumPortalBundle *bundle);
gboolean atrium_portal_bundle_has (const AtriumPortalBundle *bundle, const char *path);
/* Answers GET/HEAD of @path in @bundle: 200 with the body, or 304 when If-None-Match names
 * the file's ETag; FALSE (404) when there is no such file. */
gboolean atrium_portal_bundle_respond (const AtriumPortalBundle *bundle, AtriumRequest *req,
                                       const char *path, const char *cache_control);
/* Content-Security-Policy and the other headers of every portal answer. */
void atrium_portal_security_headers (AtriumRequest *req);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AtriumPortalBundle, atrium_portal_bundle_free)

/* ---- portal.c ---- */

void atrium_portal_init (AtriumCore *core);
void atrium_portal_clear (AtriumCore *core);
/* The shell's bundle and the routes (from startup, with the other core routes). */
void atrium_portal_routes (AtriumCore *core);
/* The add_portal_page host slot (ABI 1.5). */
gboolean atrium_portal_add_page (AtriumPlugin *self, const AtriumPortalPage *page, GError **error);
/* Forgets the pages of a plugin whose init failed. */
void atrium_portal_drop (AtriumCore *core, AtriumPlugin *owner);
