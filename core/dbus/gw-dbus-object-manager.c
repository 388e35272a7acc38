/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDbus"

#include "config.h"

#include <string.h>

#include "gw-dbus-object-manager.h"

#define GW_DBUS_OBJECT_MANAGER_IFACE "org.freedesktop.DBus.ObjectManager"

typedef struct {
	GwDbusObjectManager *manager; /* not owned */
	GDBusObjectSkeleton *object;
	gulong added_id;
	gulong removed_id;
} GwDbusObjectManagerEntry;

typedef struct {
	GwDbusObjectManagerProviderFunc func;
	gpointer user_data;
} GwDbusObjectManagerProvider;

struct _GwDbusObjectManager {
	GObject parent_instance;
	GDBusConnection *connection;
	gchar *object_path;
	gchar *prefix; /* object_path + "/" */
	guint registration_id;
	GHashTable *entries; /* object path → GwDbusObjectManagerEntry */
	GArray *providers;   /* of GwDbusObjectManagerProvider */
	gsize max_reply;
};

static void
gw_dbus_object_manager_iface_init(GDBusObjectManagerIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(GwDbusObjectManager,
                              gw_dbus_object_manager,
                              G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(G_TYPE_DBUS_OBJECT_MANAGER,
                                                    gw_dbus_object_manager_iface_init))

/* ---- signals on the bus ---- */

static void
gw_dbus_object_manager_emit(GwDbusObjectManager *self, const gchar *signal, GVariant *parameters)
{
	g_autoptr(GError) error = NULL;

	g_variant_ref_sink(parameters);
	/* a closed connection (the bus went away, shutdown) has nobody to tell */
	if (self->connection != NULL && !g_dbus_connection_is_closed(self->connection) &&
	    !g_dbus_connection_emit_signal(self->connection,
	                                   NULL,
	                                   self->object_path,
	                                   GW_DBUS_OBJECT_MANAGER_IFACE,
	                                   signal,
	                                   parameters,
	                                   &error))
		g_warning("cannot emit %s: %s", signal, error->message);
	g_variant_unref(parameters);
}

void
gw_dbus_object_manager_emit_interfaces_added(GwDbusObjectManager *self,
                                             const gchar *object_path,
                                             GVariant *interfaces)
{
	g_return_if_fail(GW_IS_DBUS_OBJECT_MANAGER(self));
	g_return_if_fail(g_variant_is_object_path(object_path));
	gw_dbus_object_manager_emit(
	    self, "InterfacesAdded", g_variant_new("(o@a{sa{sv}})", object_path, interfaces));
}

void
gw_dbus_object_manager_emit_interfaces_removed(GwDbusObjectManager *self,
                                               const gchar *object_path,
                                               const gchar *const *interfaces)
{
	g_return_if_fail(GW_IS_DBUS_OBJECT_MANAGER(self));
	g_return_if_fail(g_variant_is_object_path(object_path));
	gw_dbus_object_manager_emit(
	    self, "InterfacesRemoved", g_variant_new("(o^as)", object_path, interfaces));
}

/* ---- skeleton objects ---- */

static const gchar *
gw_dbus_object_manager_iface_name(GDBusInterfaceSkeleton *iface)
{
	return g_dbus_interface_skeleton_get_info(iface)->name;
}

/* {sa{sv}}: @iface's name and its properties as a client sees them, to @builder */
static void
gw_dbus_object_manager_add_iface(GVariantBuilder *builder, GDBusInterfaceSkeleton *iface)
{
	/* (transfer full), not floating */
	g_autoptr(GVariant) properties = g_dbus_interface_skeleton_get_properties(iface);

	g_variant_builder_add(
	    builder, "{s@a{sv}}", gw_dbus_object_manager_iface_name(iface), properties);
}

static void
gw_dbus_object_manager_export_iface(GwDbusObjectManager *self,
                                    GDBusInterfaceSkeleton *iface,
                                    const gchar *path)
{
	g_autoptr(GError) error = NULL;

	if (self->connection == NULL)
		return;
	if (!g_dbus_interface_skeleton_export(iface, self->connection, path, &error))
		g_warning("cannot export %s on %s: %s",
		          gw_dbus_object_manager_iface_name(iface),
		          path,
		          error->message);
}

static void
gw_dbus_object_manager_interface_added_cb(GDBusObject *object,
                                          GDBusInterface *interface,
                                          gpointer user_data)
{
	GwDbusObjectManagerEntry *entry = user_data;
	GwDbusObjectManager *self = entry->manager;
	GDBusInterfaceSkeleton *iface = G_DBUS_INTERFACE_SKELETON(interface);
	const gchar *path = g_dbus_object_get_object_path(object);
	GVariantBuilder builder;

	gw_dbus_object_manager_export_iface(self, iface, path);
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{sa{sv}}"));
	gw_dbus_object_manager_add_iface(&builder, iface);
	gw_dbus_object_manager_emit_interfaces_added(self, path, g_variant_builder_end(&builder));
}

static void
gw_dbus_object_manager_interface_removed_cb(GDBusObject *object,
                                            GDBusInterface *interface,
                                            gpointer user_data)
{
	GwDbusObjectManagerEntry *entry = user_data;
	GDBusInterfaceSkeleton *iface = G_DBUS_INTERFACE_SKELETON(interface);
	const gchar *names[] = {gw_dbus_object_manager_iface_name(iface), NULL};

	if (entry->manager->connection != NULL)
		g_dbus_interface_skeleton_unexport_from_connection(iface,
		                                                   entry->manager->connection);
	gw_dbus_object_manager_emit_interfaces_removed(
	    entry->manager, g_dbus_object_get_object_path(object), names);
}

static void
gw_dbus_object_manager_entry_free(GwDbusObjectManagerEntry *entry)
{
	GList *ifaces = g_dbus_object_get_interfaces(G_DBUS_OBJECT(entry->object));

	g_clear_signal_handler(&entry->added_id, entry->object);
	g_clear_signal_handler(&entry->removed_id, entry->object);
	for (GList *l = ifaces; l != NULL; l = l->next) {
		GDBusInterfaceSkeleton *iface = l->data;
		if (entry->manager->connection != NULL &&
		    g_dbus_interface_skeleton_has_connection(iface, entry->manager->connection))
			g_dbus_interface_skeleton_unexport_from_connection(
			    iface, entry->manager->connection);
	}
	g_list_free_full(ifaces, g_object_unref);
	g_object_unref(entry->object);
	g_free(entry);
}

void
gw_dbus_object_manager_export(GwDbusObjectManager *self, GDBusObjectSkeleton *object)
{
	const gchar *path;
	GwDbusObjectManagerEntry *entry;
	GList *ifaces;
	GVariantBuilder builder;

	g_return_if_fail(GW_IS_DBUS_OBJECT_MANAGER(self));
	g_return_if_fail(G_IS_DBUS_OBJECT_SKELETON(object));
	path = g_dbus_object_get_object_path(G_DBUS_OBJECT(object));
	g_return_if_fail(g_str_has_prefix(path, self->prefix) &&
	                 path[strlen(self->prefix)] != '\0');

	gw_dbus_object_manager_unexport(self, path);
	entry = g_new0(GwDbusObjectManagerEntry, 1);
	entry->manager = self;
	entry->object = g_object_ref(object);
	entry->added_id = g_signal_connect(object,
	                                   "interface-added",
	                                   G_CALLBACK(gw_dbus_object_manager_interface_added_cb),
	                                   entry);
	entry->removed_id =
	    g_signal_connect(object,
	                     "interface-removed",
	                     G_CALLBACK(gw_dbus_object_manager_interface_removed_cb),
	                     entry);
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{sa{sv}}"));
	ifaces = g_dbus_object_get_interfaces(G_DBUS_OBJECT(object));
	for (GList *l = ifaces; l != NULL; l = l->next) {
		GDBusInterfaceSkeleton *iface = l->data;
		gw_dbus_object_manager_export_iface(self, iface, path);
		gw_dbus_object_manager_add_iface(&builder, iface);
	}
	g_list_free_full(ifaces, g_object_unref);
	g_hash_table_insert(self->entries, g_strdup(path), entry);
	gw_dbus_object_manager_emit_interfaces_added(self, path, g_variant_builder_end(&builder));
}

gboolean
gw_dbus_object_manager_unexport(GwDbusObjectManager *self, const gchar *object_path)
{
	GwDbusObjectManagerEntry *entry;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	GList *ifaces;

	g_return_val_if_fail(GW_IS_DBUS_OBJECT_MANAGER(self), FALSE);
	entry = g_hash_table_lookup(self->entries, object_path);
	if (entry == NULL)
		return FALSE;
	ifaces = g_dbus_object_get_interfaces(G_DBUS_OBJECT(entry->object));
	for (GList *l = ifaces; l != NULL; l = l->next)
		g_ptr_array_add(names,
		                g_strdup(gw_dbus_object_manager_iface_name(
		                    G_DBUS_INTERFACE_SKELETON(l->data))));
	g_list_free_full(ifaces, g_object_unref);
	g_ptr_array_add(names, NULL);
	{
		g_autofree gchar *path = g_strdup(object_path);
		g_hash_table_remove(self->entries, path);
		gw_dbus_object_manager_emit_interfaces_removed(
		    self, path, (const gchar *const *)names->pdata);
	}
	return TRUE;
}

/* ---- objects on demand ---- */

void
gw_dbus_object_manager_add_provider(GwDbusObjectManager *self,
                                    GwDbusObjectManagerProviderFunc func,
                                    gpointer user_data)
{
	GwDbusObjectManagerProvider provider = {func, user_data};

	g_return_if_fail(GW_IS_DBUS_OBJECT_MANAGER(self));
	g_return_if_fail(func != NULL);
	g_array_append_val(self->providers, provider);
}

void
gw_dbus_object_manager_remove_provider(GwDbusObjectManager *self,
                                       GwDbusObjectManagerProviderFunc func,
                                       gpointer user_data)
{
	g_return_if_fail(GW_IS_DBUS_OBJECT_MANAGER(self));
	for (guint i = 0; i < self->providers->len; i++) {
		GwDbusObjectManagerProvider *provider =
		    &g_array_index(self->providers, GwDbusObjectManagerProvider, i);
		if (provider->func == func && provider->user_data == user_data) {
			g_array_remove_index(self->providers, i);
			return;
		}
	}
}

void
gw_dbus_object_manager_set_max_reply(GwDbusObjectManager *self, gsize max_reply)
{
	g_return_if_fail(GW_IS_DBUS_OBJECT_MANAGER(self));
	self->max_reply = max_reply;
}

gsize
gw_dbus_object_manager_get_max_reply(GwDbusObjectManager *self)
{
	g_return_val_if_fail(GW_IS_DBUS_OBJECT_MANAGER(self), 0);
	return self->max_reply;
}

/* room for the message header and the reply's framing */
#define GW_DBUS_REPLY_OVERHEAD 4096

gboolean
gw_dbus_refuse_large_reply(GDBusMethodInvocation *invocation, gsize size, gsize max_reply)
{
	static gint64 last_logged = 0;
	static guint not_logged = 0;
	gint64 now = g_get_monotonic_time();

	if (max_reply == 0 || size + GW_DBUS_REPLY_OVERHEAD <= max_reply)
		return FALSE;
	if (last_logged == 0 || now - last_logged >= 10 * G_USEC_PER_SEC) {
		g_warning("refused %s of %s: the reply is %" G_GSIZE_FORMAT
		          " bytes, over [daemon] max-dbus-reply (%" G_GSIZE_FORMAT
		          "), for which a bus would disconnect us (%u more not logged)",
		          g_dbus_method_invocation_get_method_name(invocation),
		          g_dbus_method_invocation_get_sender(invocation),
		          size,
		          max_reply,
		          not_logged);
		last_logged = now;
		not_logged = 0;
	} else {
		not_logged++;
	}
	g_dbus_method_invocation_return_error(invocation,
	                                      G_DBUS_ERROR,
	                                      G_DBUS_ERROR_LIMITS_EXCEEDED,
	                                      "the reply would be %" G_GSIZE_FORMAT
	                                      " bytes, more than the %" G_GSIZE_FORMAT
	                                      " a D-Bus message of gwmod may hold: ask for less "
	                                      "(a smaller subtree)",
	                                      size,
	                                      max_reply);
	return TRUE;
}

GDBusConnection *
gw_dbus_object_manager_get_connection(GwDbusObjectManager *self)
{
	g_return_val_if_fail(GW_IS_DBUS_OBJECT_MANAGER(self), NULL);
	return self->connection;
}

/* ---- org.freedesktop.DBus.ObjectManager ---- */

static GVariant *
gw_dbus_object_manager_managed_objects(GwDbusObjectManager *self)
{
	GVariantBuilder builder;
	GHashTableIter iter;
	gpointer key;
	gpointer value;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{oa{sa{sv}}}"));
	g_hash_table_iter_init(&iter, self->entries);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		GwDbusObjectManagerEntry *entry = value;
		GList *ifaces = g_dbus_object_get_interfaces(G_DBUS_OBJECT(entry->object));

		g_variant_builder_open(&builder, G_VARIANT_TYPE("{oa{sa{sv}}}"));
		g_variant_builder_add(&builder, "o", key);
		g_variant_builder_open(&builder, G_VARIANT_TYPE("a{sa{sv}}"));
		for (GList *l = ifaces; l != NULL; l = l->next) {
			GDBusInterfaceSkeleton *iface = l->data;
			gw_dbus_object_manager_add_iface(&builder, iface);
		}
		g_variant_builder_close(&builder);
		g_variant_builder_close(&builder);
		g_list_free_full(ifaces, g_object_unref);
	}
	for (guint i = 0; i < self->providers->len; i++) {
		GwDbusObjectManagerProvider *provider =
		    &g_array_index(self->providers, GwDbusObjectManagerProvider, i);
		provider->func(&builder, provider->user_data);
	}
	return g_variant_builder_end(&builder);
}

static void
gw_dbus_object_manager_method_call(GDBusConnection *connection,
                                   const gchar *sender,
                                   const gchar *object_path,
                                   const gchar *interface_name,
                                   const gchar *method_name,
                                   GVariant *parameters,
                                   GDBusMethodInvocation *invocation,
                                   gpointer user_data)
{
	GwDbusObjectManager *self = GW_DBUS_OBJECT_MANAGER(user_data);

	if (g_strcmp0(method_name, "GetManagedObjects") == 0) {
		g_autoptr(GVariant) objects =
		    g_variant_ref_sink(gw_dbus_object_manager_managed_objects(self));

		if (gw_dbus_refuse_large_reply(
		        invocation, g_variant_get_size(objects), self->max_reply))
			return;
		g_dbus_method_invocation_return_value(invocation,
		                                      g_variant_new("(@a{oa{sa{sv}}})", objects));
		return;
	}
	g_dbus_method_invocation_return_error(
	    invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD, "no method %s", method_name);
}

static const GDBusInterfaceVTable gw_dbus_object_manager_vtable = {
    .method_call = gw_dbus_object_manager_method_call,
};

static const gchar gw_dbus_object_manager_xml[] =
    "<node>"
    "  <interface name='org.freedesktop.DBus.ObjectManager'>"
    "    <method name='GetManagedObjects'>"
    "      <arg type='a{oa{sa{sv}}}' name='object_paths_interfaces_and_properties' "
    "direction='out'/>"
    "    </method>"
    "    <signal name='InterfacesAdded'>"
    "      <arg type='o' name='object_path'/>"
    "      <arg type='a{sa{sv}}' name='interfaces_and_properties'/>"
    "    </signal>"
    "    <signal name='InterfacesRemoved'>"
    "      <arg type='o' name='object_path'/>"
    "      <arg type='as' name='interfaces'/>"
    "    </signal>"
    "  </interface>"
    "</node>";

/* ---- GDBusObjectManager (in-process, skeleton objects) ---- */

static const gchar *
gw_dbus_object_manager_get_object_path(GDBusObjectManager *manager)
{
	return GW_DBUS_OBJECT_MANAGER(manager)->object_path;
}

static GList *
gw_dbus_object_manager_get_objects(GDBusObjectManager *manager)
{
	GwDbusObjectManager *self = GW_DBUS_OBJECT_MANAGER(manager);
	GList *objects = NULL;
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, self->entries);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		objects = g_list_prepend(objects,
		                         g_object_ref(((GwDbusObjectManagerEntry *)value)->object));
	return objects;
}

static GDBusObject *
gw_dbus_object_manager_get_object(GDBusObjectManager *manager, const gchar *object_path)
{
	GwDbusObjectManagerEntry *entry =
	    g_hash_table_lookup(GW_DBUS_OBJECT_MANAGER(manager)->entries, object_path);
	return entry != NULL ? g_object_ref(G_DBUS_OBJECT(entry->object)) : NULL;
}

static GDBusInterface *
gw_dbus_object_manager_get_interface(GDBusObjectManager *manager,
                                     const gchar *object_path,
                                     const gchar *interface_name)
{
	GwDbusObjectManagerEntry *entry =
	    g_hash_table_lookup(GW_DBUS_OBJECT_MANAGER(manager)->entries, object_path);
	return entry != NULL
	           ? g_dbus_object_get_interface(G_DBUS_OBJECT(entry->object), interface_name)
	           : NULL;
}

static void
gw_dbus_object_manager_iface_init(GDBusObjectManagerIface *iface)
{
	iface->get_object_path = gw_dbus_object_manager_get_object_path;
	iface->get_objects = gw_dbus_object_manager_get_objects;
	iface->get_object = gw_dbus_object_manager_get_object;
	iface->get_interface = gw_dbus_object_manager_get_interface;
}

/* ---- object ---- */

static void
gw_dbus_object_manager_dispose(GObject *object)
{
	GwDbusObjectManager *self = GW_DBUS_OBJECT_MANAGER(object);

	if (self->entries != NULL)
		g_hash_table_remove_all(self->entries);
	if (self->registration_id != 0) {
		g_dbus_connection_unregister_object(self->connection, self->registration_id);
		self->registration_id = 0;
	}
	g_clear_object(&self->connection);
	G_OBJECT_CLASS(gw_dbus_object_manager_parent_class)->dispose(object);
}

static void
gw_dbus_object_manager_finalize(GObject *object)
{
	GwDbusObjectManager *self = GW_DBUS_OBJECT_MANAGER(object);

	g_hash_table_unref(self->entries);
	g_array_unref(self->providers);
	g_free(self->object_path);
	g_free(self->prefix);
	G_OBJECT_CLASS(gw_dbus_object_manager_parent_class)->finalize(object);
}

static void
gw_dbus_object_manager_class_init(GwDbusObjectManagerClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = gw_dbus_object_manager_dispose;
	object_class->finalize = gw_dbus_object_manager_finalize;
}

static void
gw_dbus_object_manager_init(GwDbusObjectManager *self)
{
	self->entries = g_hash_table_new_full(
	    g_str_hash, g_str_equal, g_free, (GDestroyNotify)gw_dbus_object_manager_entry_free);
	self->providers = g_array_new(FALSE, FALSE, sizeof(GwDbusObjectManagerProvider));
	self->max_reply = 30 * 1024 * 1024;
}

GwDbusObjectManager *
gw_dbus_object_manager_new(GDBusConnection *connection, const gchar *object_path, GError **error)
{
	g_autoptr(GwDbusObjectManager) self = NULL;

	g_return_val_if_fail(connection == NULL || G_IS_DBUS_CONNECTION(connection), NULL);
	g_return_val_if_fail(g_variant_is_object_path(object_path), NULL);

	self = g_object_new(GW_TYPE_DBUS_OBJECT_MANAGER, NULL);
	self->object_path = g_strdup(object_path);
	self->prefix =
	    g_str_equal(object_path, "/") ? g_strdup("/") : g_strconcat(object_path, "/", NULL);
	if (connection != NULL) {
		g_autoptr(GDBusNodeInfo) node =
		    g_dbus_node_info_new_for_xml(gw_dbus_object_manager_xml, NULL);

		g_assert(node != NULL);
		self->connection = g_object_ref(connection);
		self->registration_id =
		    g_dbus_connection_register_object(connection,
		                                      object_path,
		                                      node->interfaces[0],
		                                      &gw_dbus_object_manager_vtable,
		                                      self,
		                                      NULL,
		                                      error);
		if (self->registration_id == 0)
			return NULL;
	}
	return g_steal_pointer(&self);
}
