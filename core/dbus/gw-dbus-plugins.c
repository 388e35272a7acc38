/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDbus"

#include "config.h"

#include "gw-dbus-authority.h"
#include "gw-dbus-manager.h"
#include "gw-dbus-plugins.h"
#include "gw-error.h"

struct _GwDbusPlugins {
	GObject parent_instance;
	GwPluginLoader *loader;
	GwDbusObjectManager *object_manager;
	GwDbusGenManager *manager;
	GwDbusAuthorizeFunc authorize;
	gpointer authorize_data;
	GHashTable *objects; /* name → GDBusObjectSkeleton */
	gulong changed_id;
};

G_DEFINE_TYPE(GwDbusPlugins, gw_dbus_plugins, G_TYPE_OBJECT)

/* only what changed: each set emits PropertiesChanged */
static void
gw_dbus_plugins_fill(GwDbusGenPlugin *iface, GwPluginRecord *record)
{
	const gchar *error = gw_plugin_record_get_error(record);
	const gchar *state = gw_plugin_state_to_string(gw_plugin_record_get_state(record));

	if (g_strcmp0(gw_dbus_gen_plugin_get_name(iface), gw_plugin_record_get_name(record)) != 0)
		gw_dbus_gen_plugin_set_name(iface, gw_plugin_record_get_name(record));
	if (g_strcmp0(gw_dbus_gen_plugin_get_path(iface), gw_plugin_record_get_path(record)) != 0)
		gw_dbus_gen_plugin_set_path(iface, gw_plugin_record_get_path(record));
	if (g_strcmp0(gw_dbus_gen_plugin_get_protocol(iface),
	              gw_plugin_record_get_protocol(record)) != 0)
		gw_dbus_gen_plugin_set_protocol(iface, gw_plugin_record_get_protocol(record));
	if (g_strcmp0(gw_dbus_gen_plugin_get_version(iface),
	              gw_plugin_record_get_version(record)) != 0)
		gw_dbus_gen_plugin_set_version(iface, gw_plugin_record_get_version(record));
	if (g_strcmp0(gw_dbus_gen_plugin_get_state(iface), state) != 0)
		gw_dbus_gen_plugin_set_state(iface, state);
	if (gw_dbus_gen_plugin_get_enabled(iface) != gw_plugin_record_get_enabled(record))
		gw_dbus_gen_plugin_set_enabled(iface, gw_plugin_record_get_enabled(record));
	if (g_strcmp0(gw_dbus_gen_plugin_get_error(iface), error != NULL ? error : "") != 0)
		gw_dbus_gen_plugin_set_error(iface, error != NULL ? error : "");
	if (gw_dbus_gen_plugin_get_shipped(iface) != gw_plugin_record_get_shipped(record))
		gw_dbus_gen_plugin_set_shipped(iface, gw_plugin_record_get_shipped(record));
}

static void
gw_dbus_plugins_refresh_tainted(GwDbusPlugins *self)
{
	gboolean tainted = gw_plugin_loader_get_tainted(self->loader);

	if (self->manager != NULL && gw_dbus_gen_manager_get_tainted(self->manager) != tainted)
		gw_dbus_gen_manager_set_tainted(self->manager, tainted);
}

static gboolean
gw_dbus_plugins_handle_reset(GwDbusGenPlugin *iface,
                             GDBusMethodInvocation *invocation,
                             gpointer user_data)
{
	GwDbusPlugins *self = GW_DBUS_PLUGINS(user_data);
	g_autoptr(GError) error = NULL;
	const gchar *name = gw_dbus_gen_plugin_get_name(iface);

	if (self->authorize != NULL &&
	    !self->authorize(invocation, GW_DBUS_ACTION_MANAGE_PLUGINS, self->authorize_data))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	g_message("plugin %s reset by %s", name, g_dbus_method_invocation_get_sender(invocation));
	if (!gw_plugin_loader_reset(self->loader, name, &error)) {
		gw_dbus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	gw_dbus_gen_plugin_complete_reset(iface, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
gw_dbus_plugins_update(GwDbusPlugins *self, GwPluginRecord *record)
{
	const gchar *name = gw_plugin_record_get_name(record);
	GDBusObjectSkeleton *object = g_hash_table_lookup(self->objects, name);
	g_autoptr(GwDbusGenPlugin) iface = NULL;
	g_autofree gchar *escaped = NULL;
	g_autofree gchar *path = NULL;

	if (object != NULL) {
		iface = GW_DBUS_GEN_PLUGIN(
		    g_dbus_object_get_interface(G_DBUS_OBJECT(object), "org.gwmo.Gateway1.Plugin"));
		gw_dbus_plugins_fill(iface, record);
		return;
	}
	escaped = g_dbus_escape_object_path(name);
	path = g_strdup_printf(GW_DBUS_PLUGINS_PATH "/%s", escaped);
	object = g_dbus_object_skeleton_new(path);
	iface = gw_dbus_gen_plugin_skeleton_new();
	gw_dbus_plugins_fill(iface, record);
	g_signal_connect(iface, "handle-reset", G_CALLBACK(gw_dbus_plugins_handle_reset), self);
	g_dbus_object_skeleton_add_interface(object, G_DBUS_INTERFACE_SKELETON(iface));
	gw_dbus_object_manager_export(self->object_manager, object);
	g_hash_table_insert(self->objects, g_strdup(name), object);
}

static void
gw_dbus_plugins_changed_cb(GwPluginLoader *loader, const gchar *name, gpointer user_data)
{
	GwDbusPlugins *self = GW_DBUS_PLUGINS(user_data);
	GwPluginRecord *record = gw_plugin_loader_lookup(loader, name);

	if (record != NULL)
		gw_dbus_plugins_update(self, record);
	gw_dbus_plugins_refresh_tainted(self);
}

static void
gw_dbus_plugins_dispose(GObject *object)
{
	GwDbusPlugins *self = GW_DBUS_PLUGINS(object);

	if (self->changed_id != 0) {
		g_signal_handler_disconnect(self->loader, self->changed_id);
		self->changed_id = 0;
	}
	if (self->objects != NULL) {
		GHashTableIter iter;
		gpointer value;

		g_hash_table_iter_init(&iter, self->objects);
		while (g_hash_table_iter_next(&iter, NULL, &value))
			gw_dbus_object_manager_unexport(
			    self->object_manager,
			    g_dbus_object_get_object_path(G_DBUS_OBJECT(value)));
		g_clear_pointer(&self->objects, g_hash_table_unref);
	}
	g_clear_object(&self->loader);
	g_clear_object(&self->object_manager);
	g_clear_object(&self->manager);
	G_OBJECT_CLASS(gw_dbus_plugins_parent_class)->dispose(object);
}

static void
gw_dbus_plugins_class_init(GwDbusPluginsClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = gw_dbus_plugins_dispose;
}

static void
gw_dbus_plugins_init(GwDbusPlugins *self)
{
	self->objects = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
}

GwDbusPlugins *
gw_dbus_plugins_new(GwPluginLoader *loader,
                    GwDbusObjectManager *object_manager,
                    GwDbusGenManager *manager,
                    GwDbusAuthorizeFunc authorize,
                    gpointer authorize_data)
{
	GwDbusPlugins *self;
	GPtrArray *records;

	g_return_val_if_fail(GW_IS_PLUGIN_LOADER(loader), NULL);
	g_return_val_if_fail(GW_IS_DBUS_OBJECT_MANAGER(object_manager), NULL);

	self = g_object_new(GW_TYPE_DBUS_PLUGINS, NULL);
	self->loader = g_object_ref(loader);
	self->object_manager = g_object_ref(object_manager);
	self->manager = manager != NULL ? g_object_ref(manager) : NULL;
	self->authorize = authorize;
	self->authorize_data = authorize_data;
	records = gw_plugin_loader_get_records(loader);
	for (guint i = 0; i < records->len; i++)
		gw_dbus_plugins_update(self, g_ptr_array_index(records, i));
	gw_dbus_plugins_refresh_tainted(self);
	self->changed_id = g_signal_connect(
	    loader, "plugin-changed", G_CALLBACK(gw_dbus_plugins_changed_cb), self);
	return self;
}
