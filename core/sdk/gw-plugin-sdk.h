/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The gwmo plugin SDK: everything a third-party adapter plugin builds against
 * (pkg-config gwmo-plugin-1; docs/plugin-guide.md).
 */

#pragma once

#include "gw-device.h"
#include "gw-error.h"
#include "gw-log.h"
#include "gw-plugin-http.h"
#include "gw-plugin.h"
