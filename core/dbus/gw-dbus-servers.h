/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-dbus-inventory.h"
#include "gw-dbus-object-manager.h"

G_BEGIN_DECLS

#define GW_DBUS_SERVERS_PATH "/org/gwmo/Gateway1/Servers"

#define GW_TYPE_DBUS_SERVERS (gw_dbus_servers_get_type())
G_DECLARE_FINAL_TYPE(GwDbusServers, gw_dbus_servers, GW, DBUS_SERVERS, GObject)

/*
 * The DM Server accounts on D-Bus: one object per ./DMAcc/<x> with a ServerID
 * (/org/gwmo/Gateway1/Servers/<x>, org.gwmo.Gateway1.Server), exported through
 * @object_manager, following the tree and the northbound side's "session-finished".
 * @authorize guards StartSession.
 */
GwDbusServers *
gw_dbus_servers_new(GwGateway *gateway,
                    GwDbusObjectManager *object_manager,
                    GwDbusAuthorizeFunc authorize,
                    gpointer authorize_data);

G_END_DECLS
