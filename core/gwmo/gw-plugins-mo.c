/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwMO"

#include "config.h"

#include <string.h>

#include "gw-gwmo-names.h"
#include "gw-plugins-mo.h"

struct _GwPluginsMo {
	GObject parent_instance;
	GwDmTree *tree;
	GwPluginLoader *loader;
	gulong plugin_changed_id;
	gulong tree_changed_id;
	guint check_id;
	gboolean writing; /* our own writes: not a Replace to act on */
};

G_DEFINE_TYPE(GwPluginsMo, gw_plugins_mo, G_TYPE_OBJECT)

#define GW_PLUGINS_MO_ENTRY GW_GWMO_CONFIG_ADAPTERS "/*"
#define GW_PLUGINS_MO_ENABLED GW_PLUGINS_MO_ENTRY "/Enabled"

/* a leaf of an entry, written only when it differs (every write is a journal record) */
static void
gw_plugins_mo_set_leaf(GwPluginsMo *self,
                       const gchar *entry,
                       const gchar *leaf,
                       GwDmFormat format,
                       GwDmAccess access,
                       const gchar *value)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", entry, leaf);
	g_autofree gchar *old = gw_dm_tree_dup_string(self->tree, uri);
	gboolean existed = gw_dm_tree_lookup(self->tree, uri) != NULL;
	g_autoptr(GError) error = NULL;

	if (existed && g_strcmp0(old, value) == 0)
		return;
	if (!gw_dm_tree_set_leaf_string(self->tree, uri, format, value, &error) ||
	    (!existed && (!gw_dm_tree_set_mime_type(self->tree, uri, "text/plain", &error) ||
	                  !gw_dm_tree_set_properties(self->tree, uri, access, NULL, NULL, &error))))
		g_warning("cannot write %s: %s", uri, error->message);
}

static void
gw_plugins_mo_write(GwPluginsMo *self, GwPluginRecord *record)
{
	g_autofree gchar *entry =
	    g_strdup_printf(GW_GWMO_CONFIG_ADAPTERS "/%s", gw_plugin_record_get_name(record));
	g_autoptr(GError) error = NULL;

	self->writing = TRUE;
	if (gw_dm_tree_lookup(self->tree, entry) == NULL) {
		if (!gw_dm_tree_ensure_interior(self->tree, entry, &error) ||
		    !gw_dm_tree_set_properties(
		        self->tree, entry, GW_DM_ACCESS_GET, NULL, NULL, &error)) {
			g_warning("cannot write %s: %s", entry, error->message);
			self->writing = FALSE;
			return;
		}
	}
	gw_plugins_mo_set_leaf(self,
	                       entry,
	                       "Name",
	                       GW_DM_FORMAT_CHR,
	                       GW_DM_ACCESS_GET,
	                       gw_plugin_record_get_name(record));
	gw_plugins_mo_set_leaf(self,
	                       entry,
	                       "Protocol",
	                       GW_DM_FORMAT_CHR,
	                       GW_DM_ACCESS_GET,
	                       gw_plugin_record_get_protocol(record));
	gw_plugins_mo_set_leaf(self,
	                       entry,
	                       "Version",
	                       GW_DM_FORMAT_CHR,
	                       GW_DM_ACCESS_GET,
	                       gw_plugin_record_get_version(record));
	gw_plugins_mo_set_leaf(self,
	                       entry,
	                       "Enabled",
	                       GW_DM_FORMAT_BOOL,
	                       GW_DM_ACCESS_GET | GW_DM_ACCESS_REPLACE,
	                       gw_plugin_record_get_enabled(record) ? "true" : "false");
	gw_plugins_mo_set_leaf(self,
	                       entry,
	                       "State",
	                       GW_DM_FORMAT_CHR,
	                       GW_DM_ACCESS_GET,
	                       gw_plugin_state_to_string(gw_plugin_record_get_state(record)));
	self->writing = FALSE;
}

static void
gw_plugins_mo_plugin_changed_cb(GwPluginLoader *loader, const gchar *name, gpointer user_data)
{
	GwPluginsMo *self = GW_PLUGINS_MO(user_data);
	GwPluginRecord *record = gw_plugin_loader_lookup(loader, name);

	if (record != NULL)
		gw_plugins_mo_write(self, record);
}

void
gw_plugins_mo_sync(GwPluginsMo *self)
{
	g_auto(GStrv) children = NULL;
	GPtrArray *records;

	g_return_if_fail(GW_IS_PLUGINS_MO(self));
	records = gw_plugin_loader_get_records(self->loader);
	for (guint i = 0; i < records->len; i++)
		gw_plugins_mo_write(self, g_ptr_array_index(records, i));
	children = gw_dm_tree_list_children(self->tree, GW_GWMO_CONFIG_ADAPTERS);
	self->writing = TRUE;
	for (guint i = 0; children != NULL && children[i] != NULL; i++) {
		g_autofree gchar *uri = NULL;
		g_autoptr(GError) error = NULL;

		if (gw_plugin_loader_lookup(self->loader, children[i]) != NULL)
			continue;
		uri = g_strdup_printf(GW_GWMO_CONFIG_ADAPTERS "/%s", children[i]);
		g_info("%s: plugin %s is no longer installed", uri, children[i]);
		if (!gw_dm_tree_remove(self->tree, uri, &error))
			g_warning("cannot remove %s: %s", uri, error->message);
	}
	self->writing = FALSE;
}

/* ./GwMO/Config/Adapters/<x>/Enabled → "<x>" */
static gchar *
gw_plugins_mo_name_of(const gchar *uri)
{
	const gchar *start = uri + strlen(GW_GWMO_CONFIG_ADAPTERS "/");
	const gchar *end = strchr(start, '/');
	return end != NULL ? g_strndup(start, end - start) : NULL;
}

/* a DM Replace of Enabled: what gwmod.conf disabled stays disabled */
static guint
gw_plugins_mo_check_enabled(GwDmTree *tree,
                            const gchar *server_id,
                            const gchar *uri,
                            GBytes *data,
                            gpointer user_data)
{
	GwPluginsMo *self = GW_PLUGINS_MO(user_data);
	g_autofree gchar *name = gw_plugins_mo_name_of(uri);
	GwPluginRecord *record = gw_plugin_loader_lookup(self->loader, name);

	if (record == NULL)
		return GW_DM_STATUS_NOT_FOUND;
	if (gw_plugin_record_get_locked(record) && data != NULL && g_bytes_get_size(data) == 4 &&
	    memcmp(g_bytes_get_data(data, NULL), "true", 4) == 0) {
		g_info("%s: refused for %s: disabled in gwmod.conf ([daemon] plugins-disabled)",
		       uri,
		       server_id != NULL ? server_id : "the local owner");
		return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
	}
	return GW_DM_STATUS_OK;
}

static void
gw_plugins_mo_tree_changed_cb(GwDmTree *tree,
                              const gchar *uri,
                              guint change,
                              const gchar *server_id,
                              gpointer user_data)
{
	GwPluginsMo *self = GW_PLUGINS_MO(user_data);
	g_autofree gchar *name = NULL;
	g_autofree gchar *value = NULL;
	g_autoptr(GError) error = NULL;
	GwPluginRecord *record;

	if (self->writing)
		return;
	/* a rollback (SyncML Atomic) or a restore: the tree shows the records again */
	if (g_strcmp0(uri, ".") == 0) {
		gw_plugins_mo_sync(self);
		return;
	}
	if (change != GW_DM_CHANGE_REPLACED || !gw_dm_uri_match(GW_PLUGINS_MO_ENABLED, uri))
		return;
	name = gw_plugins_mo_name_of(uri);
	record = gw_plugin_loader_lookup(self->loader, name);
	if (record == NULL)
		return;
	value = gw_dm_tree_dup_string(tree, uri);
	g_info("%s set to %s by %s", uri, value, server_id != NULL ? server_id : "the local owner");
	if (!gw_plugin_loader_set_enabled(
	        self->loader, name, g_strcmp0(value, "true") == 0, &error))
		g_warning("%s: %s", uri, error->message);
	/* what the record says now (a refusal leaves the old value) */
	gw_plugins_mo_write(self, record);
}

static void
gw_plugins_mo_dispose(GObject *object)
{
	GwPluginsMo *self = GW_PLUGINS_MO(object);

	if (self->plugin_changed_id != 0) {
		g_signal_handler_disconnect(self->loader, self->plugin_changed_id);
		self->plugin_changed_id = 0;
	}
	if (self->tree_changed_id != 0) {
		g_signal_handler_disconnect(self->tree, self->tree_changed_id);
		self->tree_changed_id = 0;
	}
	if (self->check_id != 0) {
		gw_dm_tree_remove_handler(self->tree, self->check_id);
		self->check_id = 0;
	}
	g_clear_object(&self->loader);
	g_clear_object(&self->tree);
	G_OBJECT_CLASS(gw_plugins_mo_parent_class)->dispose(object);
}

static void
gw_plugins_mo_class_init(GwPluginsMoClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = gw_plugins_mo_dispose;
}

static void
gw_plugins_mo_init(GwPluginsMo *self)
{
}

GwPluginsMo *
gw_plugins_mo_new(GwDmTree *tree, GwConfig *config, GwPluginLoader *loader)
{
	GwPluginsMo *self;
	g_autofree gchar *disabled_text = NULL;
	g_auto(GStrv) disabled = NULL;
	g_autoptr(GStrvBuilder) names = g_strv_builder_new();
	g_auto(GStrv) children = NULL;

	g_return_val_if_fail(GW_IS_DM_TREE(tree), NULL);
	g_return_val_if_fail(GW_IS_CONFIG(config), NULL);
	g_return_val_if_fail(GW_IS_PLUGIN_LOADER(loader), NULL);

	self = g_object_new(GW_TYPE_PLUGINS_MO, NULL);
	self->tree = g_object_ref(tree);
	self->loader = g_object_ref(loader);

	/* [daemon] plugins-disabled=a;b (or a,b) */
	disabled_text = gw_config_get_string(config, "daemon", "plugins-disabled");
	disabled = g_strsplit_set(disabled_text != NULL ? disabled_text : "", ";, ", -1);
	for (guint i = 0; disabled[i] != NULL; i++) {
		if (disabled[i][0] != '\0')
			g_strv_builder_add(names, disabled[i]);
	}
	{
		g_auto(GStrv) list = g_strv_builder_end(names);
		gw_plugin_loader_set_config(
		    loader, gw_config_get_key_file(config), (const gchar *const *)list);
	}
	/* what the tree kept: a plugin disabled through Enabled stays disabled */
	children = gw_dm_tree_list_children(tree, GW_GWMO_CONFIG_ADAPTERS);
	for (guint i = 0; children != NULL && children[i] != NULL; i++) {
		g_autofree gchar *uri =
		    g_strdup_printf(GW_GWMO_CONFIG_ADAPTERS "/%s/Enabled", children[i]);
		g_autofree gchar *value = gw_dm_tree_dup_string(tree, uri);
		if (g_strcmp0(value, "false") == 0)
			gw_plugin_loader_preset_enabled(loader, children[i], FALSE);
	}

	gw_dm_tree_add_ddf_node(tree, GW_PLUGINS_MO_ENTRY, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET);
	gw_dm_tree_add_ddf_node(
	    tree, GW_PLUGINS_MO_ENTRY "/Name", GW_DM_FORMAT_CHR, GW_DM_ACCESS_GET);
	gw_dm_tree_add_ddf_node(
	    tree, GW_PLUGINS_MO_ENTRY "/Protocol", GW_DM_FORMAT_CHR, GW_DM_ACCESS_GET);
	gw_dm_tree_add_ddf_node(
	    tree, GW_PLUGINS_MO_ENTRY "/Version", GW_DM_FORMAT_CHR, GW_DM_ACCESS_GET);
	gw_dm_tree_add_ddf_node(
	    tree, GW_PLUGINS_MO_ENTRY "/State", GW_DM_FORMAT_CHR, GW_DM_ACCESS_GET);
	gw_dm_tree_add_ddf_node(tree,
	                        GW_PLUGINS_MO_ENABLED,
	                        GW_DM_FORMAT_BOOL,
	                        GW_DM_ACCESS_GET | GW_DM_ACCESS_REPLACE);
	self->check_id = gw_dm_tree_add_value_check(
	    tree, GW_PLUGINS_MO_ENABLED, gw_plugins_mo_check_enabled, self, NULL);
	self->tree_changed_id =
	    g_signal_connect(tree, "changed", G_CALLBACK(gw_plugins_mo_tree_changed_cb), self);
	self->plugin_changed_id = g_signal_connect(
	    loader, "plugin-changed", G_CALLBACK(gw_plugins_mo_plugin_changed_cb), self);
	return self;
}
