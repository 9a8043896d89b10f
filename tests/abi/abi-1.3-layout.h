/* SPDX-License-Identifier: Apache-2.0 */
/* abi-1.3-layout.h - what ABI 1.3 appended to 1.2 (abi-1.2-layout.h): one AtriumHost slot; the
 * descriptor and AtriumRoute did not grow, and no constant was added. frozen-layout.c built
 * against tests/abi/1.3 walks the 1.0 to 1.3 lists in that order; offsets.c asserts that api/
 * keeps every 1.3 member where 1.3 put it.
 *
 * Like tests/abi/1.3, this file never changes. */
#pragma once

#define ATRIUM_ABI_1_3_HOST(X) X (AtriumHost, respond_result_page)

/* A (member list) for each struct that 1.3 grew. */
#define ATRIUM_ABI_1_3_APPENDED(A) A (ATRIUM_ABI_1_3_HOST)

/* C (name) for each constant 1.3 added: none. */
#define ATRIUM_ABI_1_3_CONSTANTS(C)
