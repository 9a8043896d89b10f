/* SPDX-License-Identifier: Apache-2.0 */
/* abi-1.0-layout.h - the ABI 1.0 surface as lists (X-macros): every member of every public
 * struct, in declaration order, and every public constant. Two programs expand them:
 * frozen-layout.c against the frozen headers (tests/abi/1.0), printing where 1.0 put each
 * member, and offsets.c against the current headers (api/), asserting at compile time that
 * every member is still there. frozen-layout.c also proves the member lists cover every byte
 * of the frozen structs, so a member left out here cannot go unchecked.
 *
 * This file describes 1.0 and, like tests/abi/1.0, never changes. The next release that
 * wants the same protection for its appended members adds an abi-1.1-layout.h beside it. */
#pragma once

/* X (struct, member) for each member, in order; a list per struct. */
#define ATRIUM_ABI_1_0_STRUCT_HEADER(X)                                                         \
        X (AtriumStructHeader, magic)                                                          \
        X (AtriumStructHeader, struct_size)                                                    \
        X (AtriumStructHeader, abi_major)                                                      \
        X (AtriumStructHeader, abi_minor)                                                      \
        X (AtriumStructHeader, reserved)

#define ATRIUM_ABI_1_0_DEPENDENCY(X)                                                            \
        X (AtriumDependency, name)                                                             \
        X (AtriumDependency, min_version)

#define ATRIUM_ABI_1_0_PERMISSION(X)                                                            \
        X (AtriumPermission, name)                                                             \
        X (AtriumPermission, description)                                                      \
        X (AtriumPermission, default_roles)

#define ATRIUM_ABI_1_0_PLUGIN_DESCRIPTOR(X)                                                     \
        X (AtriumPluginDescriptor, header)                                                     \
        X (AtriumPluginDescriptor, name)                                                       \
        X (AtriumPluginDescriptor, version)                                                    \
        X (AtriumPluginDescriptor, description)                                                \
        X (AtriumPluginDescriptor, license)                                                    \
        X (AtriumPluginDescriptor, dependencies)                                               \
        X (AtriumPluginDescriptor, permissions)                                                \
        X (AtriumPluginDescriptor, init)                                                       \
        X (AtriumPluginDescriptor, start)                                                      \
        X (AtriumPluginDescriptor, stop)                                                       \
        X (AtriumPluginDescriptor, fini)

#define ATRIUM_ABI_1_0_ROUTE(X)                                                                 \
        X (AtriumRoute, header)                                                                \
        X (AtriumRoute, method)                                                                \
        X (AtriumRoute, path)                                                                  \
        X (AtriumRoute, scope)                                                                 \
        X (AtriumRoute, flags)                                                                 \
        X (AtriumRoute, permission)                                                            \
        X (AtriumRoute, summary)                                                               \
        X (AtriumRoute, request_schema)                                                        \
        X (AtriumRoute, response_schema)                                                       \
        X (AtriumRoute, success_status)                                                        \
        X (AtriumRoute, handler)                                                               \
        X (AtriumRoute, user_data)

#define ATRIUM_ABI_1_0_HOST(X)                                                                  \
        X (AtriumHost, header)                                                                 \
        X (AtriumHost, add_route)                                                              \
        X (AtriumHost, add_migration)                                                          \
        X (AtriumHost, subscribe)                                                              \
        X (AtriumHost, provide_service)                                                        \
        X (AtriumHost, lookup_service)                                                         \
        X (AtriumHost, config_get)                                                             \
        X (AtriumHost, log)                                                                    \
        X (AtriumHost, request_method)                                                         \
        X (AtriumHost, request_param)                                                          \
        X (AtriumHost, request_query)                                                          \
        X (AtriumHost, request_header)                                                         \
        X (AtriumHost, request_json)                                                           \
        X (AtriumHost, request_body)                                                           \
        X (AtriumHost, request_school_id)                                                      \
        X (AtriumHost, request_school_slug)                                                    \
        X (AtriumHost, request_user_id)                                                        \
        X (AtriumHost, request_has_permission)                                                 \
        X (AtriumHost, request_tx)                                                             \
        X (AtriumHost, request_page)                                                           \
        X (AtriumHost, respond_json)                                                           \
        X (AtriumHost, respond_bytes)                                                          \
        X (AtriumHost, respond_page)                                                           \
        X (AtriumHost, response_header)                                                        \
        X (AtriumHost, query)                                                                  \
        X (AtriumHost, result_n_rows)                                                          \
        X (AtriumHost, result_n_cols)                                                          \
        X (AtriumHost, result_col_name)                                                        \
        X (AtriumHost, result_value)                                                           \
        X (AtriumHost, result_row_json)                                                        \
        X (AtriumHost, result_rows_json)                                                       \
        X (AtriumHost, result_affected)                                                        \
        X (AtriumHost, result_free)                                                            \
        X (AtriumHost, tx_school_id)                                                           \
        X (AtriumHost, publish)

/* S (struct, member list, growable). Growable structs start with an AtriumStructHeader and
 * are read only up to the writer's struct_size, so members may be appended. The others have
 * no header: plugins hand them over in arrays (dependencies, permissions) or embed them
 * (the header itself), so their size is fixed for the whole major. */
#define ATRIUM_ABI_1_0_STRUCTS(S)                                                               \
        S (AtriumStructHeader, ATRIUM_ABI_1_0_STRUCT_HEADER, 0)                                \
        S (AtriumDependency, ATRIUM_ABI_1_0_DEPENDENCY, 0)                                     \
        S (AtriumPermission, ATRIUM_ABI_1_0_PERMISSION, 0)                                     \
        S (AtriumPluginDescriptor, ATRIUM_ABI_1_0_PLUGIN_DESCRIPTOR, 1)                        \
        S (AtriumRoute, ATRIUM_ABI_1_0_ROUTE, 1)                                               \
        S (AtriumHost, ATRIUM_ABI_1_0_HOST, 1)

/* C (name) for each constant whose value is part of the ABI. */
#define ATRIUM_ABI_1_0_CONSTANTS(C)                                                             \
        C (ATRIUM_MAGIC)                                                                       \
        C (ATRIUM_ABI_MAJOR)                                                                   \
        C (ATRIUM_PLUGIN_DESCRIPTOR_SIZE_1_0)                                                  \
        C (ATRIUM_ERROR_INVALID)                                                               \
        C (ATRIUM_ERROR_UNAUTHENTICATED)                                                       \
        C (ATRIUM_ERROR_FORBIDDEN)                                                             \
        C (ATRIUM_ERROR_NOT_FOUND)                                                             \
        C (ATRIUM_ERROR_CONFLICT)                                                              \
        C (ATRIUM_ERROR_PRECONDITION_FAILED)                                                   \
        C (ATRIUM_ERROR_TOO_LARGE)                                                             \
        C (ATRIUM_ERROR_UNSUPPORTED_MEDIA)                                                     \
        C (ATRIUM_ERROR_UNPROCESSABLE)                                                         \
        C (ATRIUM_ERROR_RATE_LIMITED)                                                          \
        C (ATRIUM_ERROR_INTERNAL)                                                              \
        C (ATRIUM_ERROR_BAD_GATEWAY)                                                           \
        C (ATRIUM_ERROR_UNAVAILABLE)                                                           \
        C (ATRIUM_ERROR_INSUFFICIENT_STORAGE)                                                  \
        C (ATRIUM_ERROR_METHOD_NOT_ALLOWED)                                                    \
        C (ATRIUM_SCOPE_SCHOOL)                                                                \
        C (ATRIUM_SCOPE_GLOBAL)                                                                \
        C (ATRIUM_ROUTE_PUBLIC)                                                                \
        C (ATRIUM_ROUTE_RAW_BODY)
