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
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define ATRIUM_MAGIC 0x41545231u /* "ATR1" */
#define ATRIUM_ABI_MAJOR 1
#define ATRIUM_ABI_MINOR 2

/**
 * AtriumStructHeader:
 * @magic: always %ATRIUM_MAGIC
 * @struct_size: sizeof the struct as the side that filled it knew it
 * @abi_major: ABI major of the headers the filling side was built against
 * @abi_minor: ABI minor of the headers the filling side was built against
 *
 * First member of every versioned public struct.
 */
typedef struct {
        uint32_t magic;
        uint32_t struct_size;
        uint16_t abi_major;
        uint16_t abi_minor;
        uint32_t reserved;
} AtriumStructHeader;

#define ATRIUM_STRUCT_HEADER(type)                                                                 \
        {                                                                                          \
                ATRIUM_MAGIC, (uint32_t) sizeof (type), ATRIUM_ABI_MAJOR, ATRIUM_ABI_MINOR, 0      \
        }

#if defined(__GNUC__)
#define ATRIUM_EXPORT __attribute__ ((visibility ("default")))
#else
#define ATRIUM_EXPORT
#endif
