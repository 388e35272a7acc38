/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * The org.freedesktop.DBus.ObjectManager of the daemon's root path, for two kinds of objects:
 *
 * - skeleton objects (a GDBusObjectSkeleton with its GDBusInterfaceSkeletons), exported and
 *   unexported one by one, as with GDBusObjectManagerServer;
 * - objects served on demand (a g_dbus_connection_register_subtree() of their owner) that
 *   exist only as rows of the owner's data: a provider appends them to GetManagedObjects, and
 *   their owner announces them with gw_dbus_object_manager_emit_interfaces_added()/_removed().
 *
 * The second kind is why this is not a GDBusObjectManagerServer: one skeleton object costs
 * about 3 kB of memory, and an inventory of 10,000 devices would cost 30 MB for objects no
 * client looks at (issue 16). NetworkManager implements its ObjectManager the same way.
 *
 * It implements GDBusObjectManager for the skeleton objects (the in-process view), and works
 * without a connection (then nothing goes on a bus).
 */
#define GW_TYPE_DBUS_OBJECT_MANAGER (gw_dbus_object_manager_get_type())
G_DECLARE_FINAL_TYPE(GwDbusObjectManager, gw_dbus_object_manager, GW, DBUS_OBJECT_MANAGER, GObject)

/* appends the provider's objects to a GetManagedObjects reply: entries of type
 * {oa{sa{sv}}} to @builder (of type a{oa{sa{sv}}}) */
typedef void (*GwDbusObjectManagerProviderFunc)(GVariantBuilder *builder, gpointer user_data);

/* @connection NULL: objects are only kept, not put on a bus */
GwDbusObjectManager *
gw_dbus_object_manager_new(GDBusConnection *connection, const gchar *object_path, GError **error);

/* exports the object and its interfaces (InterfacesAdded), replacing an object at its path */
void
gw_dbus_object_manager_export(GwDbusObjectManager *self, GDBusObjectSkeleton *object);
/* unexports the object at @object_path (InterfacesRemoved); FALSE when there was none */
gboolean
gw_dbus_object_manager_unexport(GwDbusObjectManager *self, const gchar *object_path);

/* objects served on demand */
void
gw_dbus_object_manager_add_provider(GwDbusObjectManager *self,
                                    GwDbusObjectManagerProviderFunc func,
                                    gpointer user_data);
void
gw_dbus_object_manager_remove_provider(GwDbusObjectManager *self,
                                       GwDbusObjectManagerProviderFunc func,
                                       gpointer user_data);
/* @interfaces: (transfer floating) a{sa{sv}} */
void
gw_dbus_object_manager_emit_interfaces_added(GwDbusObjectManager *self,
                                             const gchar *object_path,
                                             GVariant *interfaces);
void
gw_dbus_object_manager_emit_interfaces_removed(GwDbusObjectManager *self,
                                               const gchar *object_path,
                                               const gchar *const *interfaces);

/* (transfer none) (nullable) */
GDBusConnection *
gw_dbus_object_manager_get_connection(GwDbusObjectManager *self);

/* the largest reply (bytes) GetManagedObjects sends: a bus disconnects a client whose message
 * is over its max_message_size (32 MiB by default), and gwmod without its bus stops */
void
gw_dbus_object_manager_set_max_reply(GwDbusObjectManager *self, gsize max_reply);
gsize
gw_dbus_object_manager_get_max_reply(GwDbusObjectManager *self);

/* when @size is over @max_reply: answers @invocation with LimitsExceeded, logs (at most one
 * line per 10 s) and returns TRUE */
gboolean
gw_dbus_refuse_large_reply(GDBusMethodInvocation *invocation, gsize size, gsize max_reply);

G_END_DECLS
