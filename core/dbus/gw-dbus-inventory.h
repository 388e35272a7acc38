/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-dbus-object-manager.h"
#include "gw-gateway.h"

G_BEGIN_DECLS

#define GW_DBUS_DEVICES_PATH "/org/gwmo/Gateway1/Devices"
#define GW_DBUS_GROUPS_PATH "/org/gwmo/Gateway1/Groups"

/* checks the caller of a state-changing method; on FALSE the invocation has been answered */
/* may the caller of @invocation do @action_id (a GW_DBUS_ACTION_*)? See
 * gw_dbus_authority_check(): FALSE means the invocation has been taken care of */
typedef gboolean (*GwDbusAuthorizeFunc)(GDBusMethodInvocation *invocation,
                                        const gchar *action_id,
                                        gpointer user_data);

#define GW_TYPE_DBUS_INVENTORY (gw_dbus_inventory_get_type())
G_DECLARE_FINAL_TYPE(GwDbusInventory, gw_dbus_inventory, GW, DBUS_INVENTORY, GObject)

/*
 * The inventory's D-Bus face: one object per record ./GwMO/Inventory/Devices/<x>
 * (/org/gwmo/Gateway1/Devices/<x>, org.gwmo.Gateway1.Device) and per group
 * ./GwMO/Inventory/Groups/<x> (/org/gwmo/Gateway1/Groups/<x>, org.gwmo.Gateway1.Group),
 * exported through @object_manager. Every existing record and group is exported at once;
 * afterwards the objects follow the GwInventory signals and the DM tree's "changed" signal
 * (whoever changed it: D-Bus, a DM Server, a device). @authorize guards SetMode, AddMember
 * and RemoveMember.
 */
GwDbusInventory *
gw_dbus_inventory_new(GwGateway *gateway,
                      GwDbusObjectManager *object_manager,
                      GwDbusAuthorizeFunc authorize,
                      gpointer authorize_data);

/* exports (or refreshes) the object of a record / group URI and returns its object path;
 * NULL when the URI is not a complete record / group */
gchar *
gw_dbus_inventory_export_device(GwDbusInventory *self, const gchar *record_uri);
gchar *
gw_dbus_inventory_export_group(GwDbusInventory *self, const gchar *group_uri);

/* the record URI behind an exported Device object path, or NULL */
gchar *
gw_dbus_inventory_lookup_device(GwDbusInventory *self, const gchar *object_path);

/* object path of ./GwMO/Inventory/Devices/<x> or ./GwMO/Inventory/Groups/<x> (the node name
 * escaped with g_dbus_escape_object_path()); NULL for any other URI */
gchar *
gw_dbus_inventory_device_path(const gchar *record_uri);
gchar *
gw_dbus_inventory_group_path(const gchar *group_uri);

G_END_DECLS
