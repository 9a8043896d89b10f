/* SPDX-License-Identifier: Apache-2.0 */
/* abi-1.4-layout.h - what ABI 1.4 appended to 1.3 (abi-1.3-layout.h): one AtriumHost slot
 * and two route flags; the descriptor and AtriumRoute did not grow. frozen-layout.c built
 * against tests/abi/1.4 walks the 1.0 to 1.4 lists in that order; offsets.c asserts that api/
 * keeps every 1.4 member where 1.4 put it.
 *
 * Like tests/abi/1.4, this file never changes. */
#pragma once

#define ATRIUM_ABI_1_4_HOST(X) X (AtriumHost, request_tx_commit)

/* A (member list) for each struct that 1.4 grew. */
#define ATRIUM_ABI_1_4_APPENDED(A) A (ATRIUM_ABI_1_4_HOST)

/* C (name) for each constant 1.4 added. */
#define ATRIUM_ABI_1_4_CONSTANTS(C)                                                                \
        C (ATRIUM_ROUTE_OUTSIDE)                                                                   \
        C (ATRIUM_ROUTE_REPLICA)
