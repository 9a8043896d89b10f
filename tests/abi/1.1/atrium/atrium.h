/* SPDX-License-Identifier: Apache-2.0 */
/* atrium.h - the one header a plugin includes: the ABI version, its descriptor and the
 * host-services table. Installed with `pkg-config atrium-plugin`. */
#pragma once

#include "abi.h"
#include "helpers.h"
#include "host.h"
#include "plugin.h"
