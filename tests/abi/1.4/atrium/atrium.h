/* SPDX-License-Identifier: Apache-2.0 */
/* atrium.h - the one header a plugin includes: the ABI version, its descriptor and the
 * host-services table. Installed with `pkg-config atrium-plugin`.
 *
 * Where the documentation is: abi.h (version policy, bump log, ATRIUM_ABI_AT_LEAST), plugin.h
 * (the descriptor and its hooks), host.h (every AtriumHost slot, and at its top the thread
 * and ownership conventions all of these headers use), resources.h, helpers.h. */
#pragma once

#include "abi.h"
#include "helpers.h"
#include "host.h"
#include "plugin.h"
