/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-dbus-generated.h"
#include "gw-dbus-inventory.h"
#include "gw-dbus-object-manager.h"
#include "gw-plugin-loader.h"

G_BEGIN_DECLS

#define GW_DBUS_PLUGINS_PATH "/org/gwmo/Gateway1/Plugins"

/*
 * The plugins' D-Bus face: one org.gwmo.Gateway1.Plugin object per record of the plugin host
 * (/org/gwmo/Gateway1/Plugins/<name>), exported through @object_manager and kept in step with
 * the host's "plugin-changed"; and the Manager's Tainted property on @manager. @authorize
 * guards Plugin.Reset.
 */
#define GW_TYPE_DBUS_PLUGINS (gw_dbus_plugins_get_type())
G_DECLARE_FINAL_TYPE(GwDbusPlugins, gw_dbus_plugins, GW, DBUS_PLUGINS, GObject)

GwDbusPlugins *
gw_dbus_plugins_new(GwPluginLoader *loader,
                    GwDbusObjectManager *object_manager,
                    GwDbusGenManager *manager,
                    GwDbusAuthorizeFunc authorize,
                    gpointer authorize_data);

G_END_DECLS
