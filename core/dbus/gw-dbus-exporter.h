/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-dm-tree.h"

G_BEGIN_DECLS

/*
 * One D-Bus object per child of a DM tree node: the entries below @base_uri (for example
 * ./DMAcc/<x>) become objects @path_prefix/<x> (the node name escaped with
 * g_dbus_escape_object_path()) on an ObjectManager, once their @id_leaf has a non-empty value.
 * The exporter follows the tree's "changed" signal, whoever changed it (D-Bus, a DM Server, a
 * device): new entries are exported after the main-loop iteration that built them, changed ones
 * get their properties refreshed (PropertiesChanged), deleted ones are unexported
 * (InterfacesRemoved).
 */
#define GW_TYPE_DBUS_EXPORTER (gw_dbus_exporter_get_type())
G_DECLARE_FINAL_TYPE(GwDbusExporter, gw_dbus_exporter, GW, DBUS_EXPORTER, GObject)

typedef struct {
	/* creates the interface of a new object (properties are filled after it); connect the
	 * method handlers here */
	GDBusInterfaceSkeleton *(*create)(GwDbusExporter *exporter,
					  const gchar *uri,
					  gpointer user_data);
	/* sets the interface's properties from the tree; set only what changed, every set is a
	 * PropertiesChanged */
	void (*fill)(GwDbusExporter *exporter,
		     const gchar *uri,
		     GDBusInterfaceSkeleton *iface,
		     gpointer user_data);
} GwDbusExporterFuncs;

GwDbusExporter *
gw_dbus_exporter_new(GwDmTree *tree,
		     GDBusObjectManagerServer *object_manager,
		     const gchar *base_uri,
		     const gchar *path_prefix,
		     const gchar *id_leaf,
		     const GwDbusExporterFuncs *funcs,
		     gpointer user_data);

/* exports what the tree has and is not exported yet, drops what it no longer has */
void
gw_dbus_exporter_resync(GwDbusExporter *self);
/* fills every exported object again (when something outside @base_uri they show changed) */
void
gw_dbus_exporter_refresh_all(GwDbusExporter *self);

/* the entry URI ("./DMAcc/x") behind the object a method was called on, or NULL */
const gchar *
gw_dbus_exporter_invocation_uri(GwDbusExporter *self, GDBusMethodInvocation *invocation);
/* the object path of an entry URI, or NULL when @uri is not an entry of @base_uri */
gchar *
gw_dbus_exporter_path_for(GwDbusExporter *self, const gchar *uri);
/* (transfer container) (element-type utf8) the exported entry URIs */
GPtrArray *
gw_dbus_exporter_list(GwDbusExporter *self);

/* the value of @uri/@leaf as UTF-8, "" when absent */
gchar *
gw_dbus_exporter_dup_leaf(GwDbusExporter *self, const gchar *uri, const gchar *leaf);

G_END_DECLS
