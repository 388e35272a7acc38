/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-dbus-object-manager.h"
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
 *
 * The owner adds what the tree's signal does not tell: gw_dbus_exporter_update() for an entry
 * its own signals name, gw_dbus_exporter_refresh_all() when something outside the entries that
 * they show changed.
 */
#define GW_TYPE_DBUS_EXPORTER (gw_dbus_exporter_get_type())
G_DECLARE_FINAL_TYPE(GwDbusExporter, gw_dbus_exporter, GW, DBUS_EXPORTER, GObject)

typedef struct {
	/* skeleton objects (not GW_DBUS_EXPORTER_FLAGS_ON_DEMAND): */
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
	/* optional: (transfer full) (element-type utf8) the entry URIs a resync exports, in
	 * that order; by default the children of @base_uri */
	GPtrArray *(*list)(GwDbusExporter *exporter, gpointer user_data);
	/* optional: FALSE when a change of @uri, a node below an entry, cannot change what the
	 * entry's object shows (a nonce that rotates every session): no refresh then */
	gboolean (*concerns)(GwDbusExporter *exporter, const gchar *uri, gpointer user_data);

	/* objects served on demand (GW_DBUS_EXPORTER_FLAGS_ON_DEMAND): */
	/* the one interface every object has (a gdbus-codegen *_interface_info()) */
	GDBusInterfaceInfo *(*interface_info)(void);
	/* (transfer floating) the a{sv} of the entry's properties from the tree */
	GVariant *(*properties)(GwDbusExporter *exporter, const gchar *uri, gpointer user_data);
	/* a method call on an entry's object (the entry is there); answer @invocation */
	void (*method_call)(GwDbusExporter *exporter,
	                    const gchar *uri,
	                    GDBusMethodInvocation *invocation,
	                    gpointer user_data);
} GwDbusExporterFuncs;

typedef enum {
	GW_DBUS_EXPORTER_FLAGS_NONE = 0,
	/* the changes below entries are looked at together once per main-loop turn, each
	 * changed entry once (export, refresh or unexport): a burst that writes many entries
	 * leaf by leaf costs O(changed), not a refresh per leaf nor a re-listing per new entry */
	GW_DBUS_EXPORTER_FLAGS_BATCH = 1 << 0,
	/* property changes (ACL, Format, …) in the tree do not concern the objects */
	GW_DBUS_EXPORTER_FLAGS_IGNORE_PROPERTIES = 1 << 1,
	/* no skeleton per object: the objects are a D-Bus subtree below @path_prefix whose
	 * properties are read from the tree when a client asks, and the exporter keeps only a
	 * hash per property (to send PropertiesChanged for what changed). For entries by the
	 * thousand (the inventory): a skeleton object costs about 3 kB */
	GW_DBUS_EXPORTER_FLAGS_ON_DEMAND = 1 << 2,
} GwDbusExporterFlags;

GwDbusExporter *
gw_dbus_exporter_new(GwDmTree *tree,
                     GwDbusObjectManager *object_manager,
                     const gchar *base_uri,
                     const gchar *path_prefix,
                     const gchar *id_leaf,
                     const GwDbusExporterFuncs *funcs,
                     gpointer user_data);
/* an entry is exported once its @id_leaf has a value ("A|B": either leaf); @id_leaf NULL: as
 * soon as its node exists */
GwDbusExporter *
gw_dbus_exporter_new_full(GwDmTree *tree,
                          GwDbusObjectManager *object_manager,
                          const gchar *base_uri,
                          const gchar *path_prefix,
                          const gchar *id_leaf,
                          GwDbusExporterFlags flags,
                          const GwDbusExporterFuncs *funcs,
                          gpointer user_data);

/* exports what the tree has and is not exported yet, drops what it no longer has */
void
gw_dbus_exporter_resync(GwDbusExporter *self);
/* fills every exported object again (when something outside @base_uri they show changed) */
void
gw_dbus_exporter_refresh_all(GwDbusExporter *self);

/* now: exports the object of the entry @uri, refreshes it, or unexports it when the entry is
 * gone or incomplete; returns its object path, NULL when it is not (or no longer) exported */
gchar *
gw_dbus_exporter_update(GwDbusExporter *self, const gchar *uri);
/* now: unexports the object of the entry @uri, if any */
void
gw_dbus_exporter_remove(GwDbusExporter *self, const gchar *uri);

/* the entry URI ("./DMAcc/x") behind the object a method was called on, or NULL */
const gchar *
gw_dbus_exporter_invocation_uri(GwDbusExporter *self, GDBusMethodInvocation *invocation);
/* the same; when the object is gone, answers the invocation with GW_ERROR_NOT_FOUND and
 * returns NULL */
const gchar *
gw_dbus_exporter_invocation_target(GwDbusExporter *self, GDBusMethodInvocation *invocation);
/* the entry URI behind an exported object path, or NULL */
const gchar *
gw_dbus_exporter_lookup(GwDbusExporter *self, const gchar *object_path);
/* (transfer none) the interface of the object of the entry @uri, NULL when it is not exported
 * or served on demand (for the owner's own signals on it) */
GDBusInterfaceSkeleton *
gw_dbus_exporter_get_interface(GwDbusExporter *self, const gchar *uri);
/* the object path of an entry URI, or NULL when @uri is not an entry of @base_uri */
gchar *
gw_dbus_exporter_path_for(GwDbusExporter *self, const gchar *uri);
/* the same without an exporter: @uri = @base_uri/<x> → @path_prefix/<x escaped> */
gchar *
gw_dbus_exporter_path_of(const gchar *base_uri, const gchar *path_prefix, const gchar *uri);
/* (transfer container) (element-type utf8) the exported entry URIs */
GPtrArray *
gw_dbus_exporter_list(GwDbusExporter *self);

/* the value of @uri/@leaf as UTF-8, "" when absent */
gchar *
gw_dbus_exporter_dup_leaf(GwDbusExporter *self, const gchar *uri, const gchar *leaf);

/* a string property of the interface shown as it is from a leaf of the entry */
typedef struct {
	const gchar *leaf;     /* below the entry: "DeviceID" */
	const gchar *property; /* of the generated skeleton: "device-id" */
} GwDbusExporterLeaf;

/* for a fill: sets each @leaves[i].property of @iface from @uri/@leaves[i].leaf ("" when
 * absent), only where it differs (every set is a PropertiesChanged) */
void
gw_dbus_exporter_fill_strings(GwDbusExporter *self,
                              const gchar *uri,
                              GDBusInterfaceSkeleton *iface,
                              const GwDbusExporterLeaf *leaves,
                              gsize n_leaves);

/* the method table of objects served on demand, for a second dispatch of a call once it is
 * authorized (the invocation's user data is the exporter) */
const GDBusInterfaceVTable *
gw_dbus_exporter_get_method_vtable(void);

G_END_DECLS
