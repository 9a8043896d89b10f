/* SPDX-License-Identifier: Apache-2.0 */
/* abi-1.2-layout.h - what ABI 1.2 appended to 1.1 (abi-1.1-layout.h): eight AtriumHost slots
 * and two constants; the descriptor and AtriumRoute did not grow. frozen-layout.c built
 * against tests/abi/1.2 walks the 1.0, 1.1 and 1.2 lists in that order; offsets.c asserts
 * that api/ keeps every 1.2 member where 1.2 put it.
 *
 * Like tests/abi/1.2, this file never changes. */
#pragma once

#define ATRIUM_ABI_1_2_HOST(X)                                                                     \
        X (AtriumHost, request_body_stream)                                                        \
        X (AtriumHost, respond_stream)                                                             \
        X (AtriumHost, data_dir)                                                                   \
        X (AtriumHost, add_command)                                                                \
        X (AtriumHost, add_timer)                                                                  \
        X (AtriumHost, run_tx)                                                                     \
        X (AtriumHost, password_hash)                                                              \
        X (AtriumHost, password_verify)

/* A (member list) for each struct that 1.2 grew. */
#define ATRIUM_ABI_1_2_APPENDED(A) A (ATRIUM_ABI_1_2_HOST)

/* C (name) for each constant 1.2 added. */
#define ATRIUM_ABI_1_2_CONSTANTS(C)                                                                \
        C (ATRIUM_ROUTE_STREAM_BODY)                                                               \
        C (ATRIUM_ERROR_RANGE_NOT_SATISFIABLE)
