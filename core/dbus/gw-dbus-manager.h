/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-dm-tree.h"

G_BEGIN_DECLS

typedef struct _GwDaemon GwDaemon;

#define GW_TYPE_DBUS_MANAGER (gw_dbus_manager_get_type())
G_DECLARE_FINAL_TYPE(GwDbusManager, gw_dbus_manager, GW, DBUS_MANAGER, GObject)

/* exports org.gwmo.Gateway1.Manager and the ObjectManager at /org/gwmo/Gateway1 */
GwDbusManager *
gw_dbus_manager_new(GwDaemon *daemon, GDBusConnection *connection, GError **error);

/* value <-> variant mapping of GetNode/SetNode (see data/org.gwmo.Gateway1.Manager.xml) */
GVariant *
gw_dbus_value_to_variant(GwDmFormat format, GBytes *value, gchar **children);
GBytes *
gw_dbus_value_from_variant(GwDmFormat format, GVariant *value, GError **error);

/* every D-Bus error reply goes through here: foreign domains become GW_ERROR_FAILED */
void
gw_dbus_return_error(GDBusMethodInvocation *invocation, const GError *error);

G_END_DECLS
