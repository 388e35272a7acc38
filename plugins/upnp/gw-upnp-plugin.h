/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gw-plugin-sdk.h>

G_BEGIN_DECLS

/*
 * GwUpnpPlugin: the UPnP adapter (protocol "UPnP"). A GUPnP 1.6 control point of its own
 * making: it finds UPnP root devices on the configured interfaces, reports each to the gateway
 * with the tree of plugins/upnp/README.md, and runs the DM Server's commands on them as SOAP
 * actions (and GENA-evented values).
 */
#define GW_TYPE_UPNP_PLUGIN (gw_upnp_plugin_get_type())
G_DECLARE_FINAL_TYPE(GwUpnpPlugin, gw_upnp_plugin, GW, UPNP_PLUGIN, GwPlugin)

G_END_DECLS
