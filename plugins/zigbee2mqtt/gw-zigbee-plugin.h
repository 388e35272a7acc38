/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gw-plugin-sdk.h>

G_BEGIN_DECLS

/*
 * GwZigbeePlugin: the Zigbee adapter (protocol "Zigbee"). A client of a zigbee2mqtt bridge's
 * MQTT API (libmosquitto, driven from the GLib main loop): it reports every device the bridge
 * lists with the tree of plugins/zigbee2mqtt/README.md and runs the DM Server's commands as
 * /get and /set messages, confirmed by the device's state messages.
 */
#define GW_TYPE_ZIGBEE_PLUGIN (gw_zigbee_plugin_get_type())
G_DECLARE_FINAL_TYPE(GwZigbeePlugin, gw_zigbee_plugin, GW, ZIGBEE_PLUGIN, GwPlugin)

G_END_DECLS
