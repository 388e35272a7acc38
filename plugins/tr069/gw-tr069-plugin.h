/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gw-plugin-sdk.h>

G_BEGIN_DECLS

/*
 * The TR-069 adapter: the gateway as the ACS of the CWMP devices (CPEs) on its LAN
 * (README.md). Property "url" (read-only): where CPEs reach it, "http://127.0.0.1:40123/cwmp",
 * set once started.
 */
#define GW_TYPE_TR069_PLUGIN (gw_tr069_plugin_get_type())
G_DECLARE_FINAL_TYPE(GwTr069Plugin, gw_tr069_plugin, GW, TR069_PLUGIN, GwPlugin)

G_END_DECLS
