/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-gateway.h"

G_BEGIN_DECLS

#define GW_TYPE_DBUS_SERVICE (gw_dbus_service_get_type())
G_DECLARE_FINAL_TYPE(GwDbusService, gw_dbus_service, GW, DBUS_SERVICE, GObject)

/*
 * The D-Bus face of a GwGateway: owns org.gwmo.Gateway1 on a bus and exports the Manager and
 * the objects under its ObjectManager (GwDbusManager) once the bus is there.
 * Signals: "quit" when the bus name is lost or cannot be acquired, or the objects cannot be
 * exported.
 */
GwDbusService *
gw_dbus_service_new(GwGateway *gateway);
/* owns org.gwmo.Gateway1 on @bus_type and exports the objects */
void
gw_dbus_service_start(GwDbusService *self, GBusType bus_type);

G_END_DECLS
