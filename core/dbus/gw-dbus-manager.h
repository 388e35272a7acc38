/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-dm-tree.h"
#include "gw-gateway.h"

G_BEGIN_DECLS

#define GW_DBUS_NAME "org.gwmo.Gateway1"
#define GW_DBUS_PATH "/org/gwmo/Gateway1"

#define GW_TYPE_DBUS_MANAGER (gw_dbus_manager_get_type())
G_DECLARE_FINAL_TYPE(GwDbusManager, gw_dbus_manager, GW, DBUS_MANAGER, GObject)

/* exports org.gwmo.Gateway1.Manager and the ObjectManager at /org/gwmo/Gateway1; with
 * @use_polkit (the system bus) polkit decides who may change what (GwDbusAuthority) */
GwDbusManager *
gw_dbus_manager_new(GwGateway *gateway,
                    GDBusConnection *connection,
                    gboolean use_polkit,
                    GError **error);

/* value <-> variant mapping of GetNode/SetNode (see data/org.gwmo.Gateway1.Manager.xml) */
GVariant *
gw_dbus_value_to_variant(GwDmFormat format, GBytes *value, gchar **children);
GBytes *
gw_dbus_value_from_variant(GwDmFormat format, GVariant *value, GError **error);

/* every D-Bus error reply goes through here: foreign domains become GW_ERROR_FAILED */
void
gw_dbus_return_error(GDBusMethodInvocation *invocation, const GError *error);

/* a DM status that is not a success answers @invocation with its error (on @uri) and gives
 * TRUE */
gboolean
gw_dbus_return_status(GDBusMethodInvocation *invocation, guint status, const gchar *uri);

/* one key a dictionary argument (a{sv}) may hold, and the type of its value */
typedef struct {
	const gchar *key;
	const gchar *type; /* a GVariant type string: "s", "as", "u" */
} GwDbusDictKey;

/* takes one checked entry of the dictionary; FALSE with @error refuses it */
typedef gboolean (*GwDbusDictFunc)(const gchar *key,
                                   GVariant *value,
                                   gpointer user_data,
                                   GError **error);

/* checks a dictionary argument entry by entry, in its order: a key not in @keys, a value of
 * another type or a key given twice is GW_ERROR_INVALID_ARGS; each entry that passes goes to
 * @func */
gboolean
gw_dbus_parse_dict(GVariant *dict,
                   const GwDbusDictKey *keys,
                   gsize n_keys,
                   GwDbusDictFunc func,
                   gpointer user_data,
                   GError **error);

/* stores the tree (gw_gateway_commit_async()), then answers @invocation with @reply (floating
 * or NULL: no value), or with the error when the store failed */
void
gw_dbus_commit_and_reply(GwGateway *gateway, GDBusMethodInvocation *invocation, GVariant *reply);

/* StartSession (Manager and Server): opens a session with @server_id and answers (uu) with
 * the messages exchanged and the commands executed */
void
gw_dbus_start_session_and_reply(GwGateway *gateway,
                                const gchar *server_id,
                                GDBusMethodInvocation *invocation);

G_END_DECLS
