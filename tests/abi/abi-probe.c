/* SPDX-License-Identifier: Apache-2.0 */
/* abi-probe.c - a shared library that exists only to carry the public plugin ABI in its debug
 * information, for abidw/abidiff (check-abi.sh).
 *
 * abidw describes the types reachable from a library's exported functions, and the public
 * headers alone export nothing (plugins reach the host through a table, not symbols). So this
 * exports one function per public type, taking a pointer to it. The same file is built twice:
 * against tests/abi/1.0 (what baseline-1.0.abi was made from) and against api/ (what it is
 * compared with). The function names must therefore never change; a type added in a later
 * minor gets its probe under `#if ATRIUM_ABI_MINOR >= N`, so the 1.0 build still compiles. */
#include <atrium/atrium.h>

#define PROBE(name, T)                                                                          \
        ATRIUM_EXPORT void atrium_abi_probe_##name (T *v);                                     \
        ATRIUM_EXPORT void atrium_abi_probe_##name (T *v)                                      \
        {                                                                                       \
                (void) v;                                                                       \
        }

/* abi.h */
PROBE (struct_header, AtriumStructHeader)

/* plugin.h */
PROBE (dependency, AtriumDependency)
PROBE (permission, AtriumPermission)
PROBE (plugin_descriptor, AtriumPluginDescriptor)
PROBE (plugin_descriptor_func, AtriumPluginDescriptorFunc)

/* host.h */
PROBE (error_code, AtriumErrorCode)
PROBE (route_scope, AtriumRouteScope)
PROBE (route_flags, AtriumRouteFlags)
PROBE (handler, AtriumHandler)
PROBE (event_handler, AtriumEventHandler)
PROBE (route, AtriumRoute)
PROBE (host, AtriumHost)

#if ATRIUM_ABI_MINOR >= 5
/* host.h, 1.5: WebDAV trees */
PROBE (dav_resource, AtriumDavResource)
PROBE (dav_emit_func, AtriumDavEmitFunc)
PROBE (dav_transfer_flags, AtriumDavTransferFlags)
PROBE (dav_tree, AtriumDavTree)
/* host.h, 1.5: pages of the portal */
PROBE (portal_page, AtriumPortalPage)
#endif
