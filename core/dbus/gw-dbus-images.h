/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-dbus-inventory.h"
#include "gw-dbus-object-manager.h"

G_BEGIN_DECLS

#define GW_DBUS_IMAGES_PATH "/org/gwmo/Gateway1/Images"

/*
 * The org.gwmo.Gateway1.Image objects (/org/gwmo/Gateway1/Images/N for ./GwMO/Images/N),
 * kept in step with the tree (entries made by DM Servers included), and Manager.AddImage.
 * A thin adapter: every change goes through GwImageStore, the path a DM Server's Exec takes.
 */

#define GW_TYPE_DBUS_IMAGES (gw_dbus_images_get_type())
G_DECLARE_FINAL_TYPE(GwDbusImages, gw_dbus_images, GW, DBUS_IMAGES, GObject)

GwDbusImages *
gw_dbus_images_new(GwGateway *gateway,
                   GwDbusObjectManager *object_manager,
                   GwDbusAuthorizeFunc authorize,
                   gpointer authorize_data);

/* Manager.AddImage(a{sv}) → o; connect to the Manager skeleton's "handle-add-image" */
gboolean
gw_dbus_images_handle_add_image(GObject *skeleton,
                                GDBusMethodInvocation *invocation,
                                GVariant *image,
                                gpointer user_data);

G_END_DECLS
