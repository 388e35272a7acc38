/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* the polkit actions of data/org.gwmo.gateway1.policy.in, one per kind of change */
#define GW_DBUS_ACTION_MANAGE_DEVICES "org.gwmo.gateway1.manage-devices"
#define GW_DBUS_ACTION_RUN_JOBS "org.gwmo.gateway1.run-jobs"
#define GW_DBUS_ACTION_BOOTSTRAP "org.gwmo.gateway1.bootstrap"
#define GW_DBUS_ACTION_CHANGE_TREE "org.gwmo.gateway1.change-tree"
#define GW_DBUS_ACTION_MANAGE_IMAGES "org.gwmo.gateway1.manage-images"
#define GW_DBUS_ACTION_MANAGE_PLUGINS "org.gwmo.gateway1.manage-plugins"

#define GW_TYPE_DBUS_AUTHORITY (gw_dbus_authority_get_type())
G_DECLARE_FINAL_TYPE(GwDbusAuthority, gw_dbus_authority, GW, DBUS_AUTHORITY, GObject)

/* who may change what over D-Bus. With @use_polkit (the system bus) every change is checked
 * against polkit with the caller's bus name as subject; when polkitd is not on the bus (no
 * owner, cannot be activated) and without @use_polkit (the session bus) the rule is: root,
 * the daemon's own user and the members of the gwmo group */
GwDbusAuthority *
gw_dbus_authority_new(GDBusConnection *connection, gboolean use_polkit);

/*
 * Checks whether the caller of @invocation may do @action_id (a GW_DBUS_ACTION_*).
 *
 * TRUE: it may, go on now. FALSE: the invocation has been taken care of: either it was
 * refused (GW_ERROR_PERMISSION_DENIED naming @action_id), or an asynchronous polkit check
 * holds it and, once polkit allows it, dispatches the method call again to its skeleton;
 * the handler then runs again from its start and this check gives TRUE at once. So a
 * handler validates its arguments before the check (garbage never costs a polkit round
 * trip) and changes nothing before it.
 */
gboolean
gw_dbus_authority_check(GwDbusAuthority *self,
                        GDBusMethodInvocation *invocation,
                        const gchar *action_id);

G_END_DECLS
