/* SPDX-License-Identifier: Apache-2.0 */
/* abi-1.1-layout.h - what ABI 1.1 appended to the 1.0 surface (abi-1.0-layout.h), as the same
 * kind of lists: the members added at the end of the growable structs, in declaration order,
 * and the constants added. frozen-layout.c built against tests/abi/1.1 walks the 1.0 lists
 * followed by these (proving together they cover every byte of the frozen 1.1 structs) and
 * prints where 1.1 put each member; offsets.c asserts that api/ keeps them there.
 *
 * Like tests/abi/1.1, this file never changes. */
#pragma once

#define ATRIUM_ABI_1_1_PLUGIN_DESCRIPTOR(X)                                                        \
        X (AtriumPluginDescriptor, school_enable)                                                  \
        X (AtriumPluginDescriptor, school_disable)                                                 \
        X (AtriumPluginDescriptor, user_export)

#define ATRIUM_ABI_1_1_HOST(X)                                                                     \
        X (AtriumHost, request_is_operator)                                                        \
        X (AtriumHost, tx_user_id)                                                                 \
        X (AtriumHost, add_permission_source)

/* A (member list) for each struct that 1.1 grew; the others kept their 1.0 members. */
#define ATRIUM_ABI_1_1_APPENDED(A)                                                                 \
        A (ATRIUM_ABI_1_1_PLUGIN_DESCRIPTOR)                                                       \
        A (ATRIUM_ABI_1_1_HOST)

/* C (name) for each constant 1.1 added. */
#define ATRIUM_ABI_1_1_CONSTANTS(C) C (ATRIUM_ROUTE_SLOW)
