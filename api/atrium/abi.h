/* SPDX-License-Identifier: Apache-2.0 */
/* abi.h - version numbers, the common struct header and the written version policy of the
 * Atrium plugin ABI. Every public struct that crosses between host and plugin starts with an
 * AtriumStructHeader, so either side can tell how much of the struct the other one knows.
 *
 * VERSION POLICY
 *   - Appending a field to a public struct, a slot to AtriumHost, a value to an enum or a new
 *     flag bumps ATRIUM_ABI_MINOR.
 *   - Removing, reordering or retyping anything, or changing a signature, bumps
 *     ATRIUM_ABI_MAJOR. We avoid that: a major bump locks out every plugin built before it.
 *   - The host loads a plugin when magic matches, majors are equal, plugin minor <= host minor
 *     and struct_size >= the first released size of that struct. It copies
 *     min(struct_size, sizeof) into a zeroed struct, so fields a smaller, older plugin does not
 *     know read as NULL/0 ("absent").
 *   - A plugin built against newer headers must test a host slot with ATRIUM_HOST_HAS() before
 *     calling a slot appended after the minor it requires.
 *
 * BUMP LOG
 *   1.0  first release: descriptor (lifecycle, dependencies, permissions), AtriumHost with
 *        routes, migrations, transactions, results, events, services, config, logging.
 *   1.1  descriptor: school_enable, school_disable, user_export hooks.
 *        AtriumHost: request_is_operator, tx_user_id, add_permission_source.
 *        AtriumRouteFlags: ATRIUM_ROUTE_SLOW.
 *   1.2  AtriumHost: request_body_stream, respond_stream (streamed bodies both ways),
 *        data_dir, add_command, add_timer, run_tx, password_hash, password_verify.
 *        AtriumRouteFlags: ATRIUM_ROUTE_STREAM_BODY. AtriumErrorCode:
 *        ATRIUM_ERROR_RANGE_NOT_SATISFIABLE (416).
 *        Later, headers only (no ABI change, still 1.2): ATRIUM_ABI_AT_LEAST().
 *   1.3  AtriumHost: respond_result_page (a page answered from a result without a JsonNode
 *        per row).
 *   1.4  AtriumHost: request_tx_commit (commit so far and give the connection back before a
 *        call to another server). AtriumRouteFlags: ATRIUM_ROUTE_OUTSIDE, ATRIUM_ROUTE_REPLICA
 *        (a heavy read may read from the streaming replica).
 *   1.5  AtriumHost: add_dav_tree (a plugin's tree of resources served over WebDAV under
 *        /dav/{school}/<mount>/). New types: AtriumDavResource, AtriumDavTree (versioned,
 *        AtriumStructHeader first), AtriumDavEmitFunc, AtriumDavTransferFlags.
 *        AtriumHost: add_portal_page (a plugin's page of the browser portal: assets from its
 *        GResource and a navigation entry guarded by a permission). New type:
 *        AtriumPortalPage (versioned, AtriumStructHeader first).
 *        CardDAV: AtriumDavReportKind ADDRESSBOOK_QUERY and ADDRESSBOOK_MULTIGET;
 *        AtriumDavReport appends data_version, data_content_type, match_type.
 *        AtriumDavTree appends set_property (PROPPATCH of a tree's live properties).
 *        CalDAV VTODO: AtriumDavReport appends n_prop_filters, prop_filters (new type
 *        AtriumDavPropFilter: a VTODO comp-filter's prop-filters, is-not-defined and
 *        negated text-matches included).
 *        AtriumRoute appends query_schema (the query parameters a route reads: checked by
 *        the host, listed in OpenAPI); AtriumRouteFlags: ATRIUM_ROUTE_PAGED.
 *        AtriumRoute appends response_type (the media types of a success answer that is
 *        not JSON: listed in OpenAPI, held to the answers by [http] check_responses).
 *        Behaviour only: an ATRIUM_ROUTE_SLOW route's identity check is a transaction of its
 *        own, so its handler starts with no transaction open (no hash waits in one).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The first word of every AtriumStructHeader: "ATR1". Never changes. */
#define ATRIUM_MAGIC 0x41545231u /* "ATR1" */
/* The ABI these headers describe. A plugin declares it through ATRIUM_PLUGIN_DEFINE; the
 * host loads a plugin of the same major and an equal or older minor. */
#define ATRIUM_ABI_MAJOR 1
#define ATRIUM_ABI_MINOR 5

/**
 * ATRIUM_ABI_AT_LEAST:
 * @major: an ABI major
 * @minor: an ABI minor
 *
 * The compile-time version check (Apache's AP_MODULE_MAGIC_AT_LEAST): true when the headers
 * being compiled against are ABI @major.@minor or newer, that is, when they declare everything
 * @major.@minor added. Made of integer constants only, so it works in `#if`; a plugin that
 * builds against several releases of the headers keeps newer code out of older builds with it:
 *
 *   #if ATRIUM_ABI_AT_LEAST (1, 2)
 *           if (!host->add_timer (self, 3600, sweep, NULL, error))  // a 1.2 slot
 *                   return FALSE;
 *   #endif
 *
 * It answers for the headers, never for the host the plugin meets at run time; that is what
 * ATRIUM_HOST_HAS() (host.h) is for. The two agree for a plugin defined with
 * ATRIUM_PLUGIN_DEFINE, which declares the minor of its headers: the host refuses a plugin
 * newer than itself, so every slot those headers declare is there.
 *
 * Since: the 1.2 headers, after the 1.2 release (a macro: no ABI change, no minor bump); in
 * every header release from 1.3 on.
 * Headers older than that lack it; a plugin that must still build against them defines the
 * same thing first (docs/PLUGIN-GUIDE.md, "Versions"):
 *
 *   #ifndef ATRIUM_ABI_AT_LEAST
 *   #define ATRIUM_ABI_AT_LEAST(major, minor) \
 *           ((major) < ATRIUM_ABI_MAJOR ||    \
 *            ((major) == ATRIUM_ABI_MAJOR && (minor) <= ATRIUM_ABI_MINOR))
 *   #endif
 */
#define ATRIUM_ABI_AT_LEAST(major, minor)                                                          \
        ((major) < ATRIUM_ABI_MAJOR || ((major) == ATRIUM_ABI_MAJOR && (minor) <= ATRIUM_ABI_MINOR))

/**
 * AtriumStructHeader:
 * @magic: always %ATRIUM_MAGIC
 * @struct_size: sizeof the struct as the side that filled it knew it
 * @abi_major: ABI major of the headers the filling side was built against
 * @abi_minor: ABI minor of the headers the filling side was built against
 * @reserved: 0
 *
 * First member of every versioned public struct (the descriptor, AtriumRoute, AtriumHost):
 * the reader uses only the first struct_size bytes and reads the rest as 0/NULL. Fixed size
 * for the whole major.
 *
 * Since: 1.0
 */
typedef struct {
        uint32_t magic;
        uint32_t struct_size;
        uint16_t abi_major;
        uint16_t abi_minor;
        uint32_t reserved;
} AtriumStructHeader;

/* The initialiser of the header of a versioned struct @type, stamped with these headers'
 * version; ATRIUM_PLUGIN_DEFINE and ATRIUM_ROUTE_INIT use it. */
#define ATRIUM_STRUCT_HEADER(type)                                                              \
        {                                                                                      \
                ATRIUM_MAGIC, (uint32_t) sizeof (type), ATRIUM_ABI_MAJOR, ATRIUM_ABI_MINOR, 0  \
        }

/* Marks the one symbol a plugin exports (plugins build with -fvisibility=hidden). */
#if defined(__GNUC__)
#define ATRIUM_EXPORT __attribute__ ((visibility ("default")))
#else
#define ATRIUM_EXPORT
#endif
