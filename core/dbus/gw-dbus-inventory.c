/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDbus"

#include "config.h"

#include <string.h>

#include "gw-adapters.h"
#include "gw-dbus-authority.h"
#include "gw-dbus-exporter.h"
#include "gw-dbus-generated.h"
#include "gw-dbus-inventory.h"
#include "gw-dbus-manager.h"
#include "gw-gateway.h"
#include "gw-gwmo-names.h"
#include "gw-inventory.h"

struct _GwDbusInventory {
	GObject parent_instance;
	GwGateway *gateway; /* not owned: it outlives the D-Bus service that owns the manager that
	                       owns us */
	GwInventory *inventory;
	GwDmTree *tree;
	GwDbusAuthorizeFunc authorize;
	gpointer authorize_data;
	/* the Device objects: a burst of registrations writes many records leaf by leaf, so the
	 * changed records are looked at once per main-loop turn (GW_DBUS_EXPORTER_FLAGS_BATCH) */
	GwDbusExporter *devices;
	GwDbusExporter *groups;
	gulong adapters_changed_id;
	gulong attached_id;
	gulong detached_id;
	gulong removed_id;
	gulong group_changed_id;
};

G_DEFINE_TYPE(GwDbusInventory, gw_dbus_inventory, G_TYPE_OBJECT)

/* ---- URIs and paths ---- */

gchar *
gw_dbus_inventory_device_path(const gchar *record_uri)
{
	return gw_dbus_exporter_path_of(
	    GW_GWMO_INVENTORY_DEVICES, GW_DBUS_DEVICES_PATH, record_uri);
}

gchar *
gw_dbus_inventory_group_path(const gchar *group_uri)
{
	return gw_dbus_exporter_path_of(GW_GWMO_INVENTORY_GROUPS, GW_DBUS_GROUPS_PATH, group_uri);
}

/* ---- reading records and groups from the tree ---- */

static gboolean
gw_dbus_inventory_strv_equal(const gchar *const *a, const gchar *const *b)
{
	if (a == NULL || b == NULL)
		return (a == NULL || a[0] == NULL) && (b == NULL || b[0] == NULL);
	return g_strv_equal(a, b);
}

/* the name of the plugin adapting the record's Protocol ("omadm": the built-in OMA DM
 * adapter), "" when none is loaded */
static const gchar *
gw_dbus_inventory_adapter_name(GwDbusInventory *self, const gchar *protocol)
{
	GwAdapters *adapters = gw_gateway_get_adapters(self->gateway);
	GwPlugin *plugin;

	if (adapters == NULL)
		return "";
	plugin = gw_adapters_lookup(adapters, protocol);
	if (plugin == NULL || gw_plugin_get_name(plugin) == NULL)
		return "";
	return gw_plugin_get_name(plugin);
}

/* leaf → D-Bus property name (the objects are not skeletons) */
static const GwDbusExporterLeaf gw_dbus_inventory_device_leaves[] = {
    {"DeviceID", "DeviceID"},
    {"Protocol", "Protocol"},
    {"Status", "Status"},
    {"Address", "Address"},
    {"LastSeen", "LastSeen"},
};

static const GwDbusExporterLeaf gw_dbus_inventory_group_leaves[] = {
    {"GroupID", "group-id"},
    {"Description", "description"},
};

/* the UTF-8 value of the leaf @name below @record, "" when absent */
static gchar *
gw_dbus_inventory_node_dup_string(GwDmNode *record, const gchar *name)
{
	GwDmNode *leaf = record != NULL ? gw_dm_node_get_child(record, name) : NULL;
	GBytes *value =
	    leaf != NULL && gw_dm_node_is_leaf(leaf) ? gw_dm_node_get_value(leaf) : NULL;
	const gchar *data;
	gsize len = 0;

	if (value == NULL)
		return g_strdup("");
	data = g_bytes_get_data(value, &len);
	if (data == NULL || !g_utf8_validate(data, (gssize)len, NULL) || memchr(data, '\0', len))
		return g_strdup("");
	return g_strndup(data, len);
}

/* the non-empty values of the leaves below @uri/@interior (Members/<x>, Groups/<x>), in
 * order; the interior node is looked up once (a group of 10,000 members is read for every
 * change of it) */
static gchar **
gw_dbus_inventory_dup_values(GwDbusInventory *self, const gchar *uri, const gchar *interior)
{
	GwDmNode *entry = gw_dm_tree_lookup(self->tree, uri);
	GwDmNode *parent = entry != NULL ? gw_dm_node_get_child(entry, interior) : NULL;
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	GPtrArray *children;

	if (parent == NULL || gw_dm_node_is_leaf(parent))
		return g_strv_builder_end(builder);
	children = gw_dm_node_get_children(parent);
	for (guint i = 0; children != NULL && i < children->len; i++) {
		g_autofree gchar *value = gw_dbus_inventory_node_dup_string(
		    parent, gw_dm_node_get_name(g_ptr_array_index(children, i)));
		if (value[0] != '\0')
			g_strv_builder_add(builder, value);
	}
	return g_strv_builder_end(builder);
}

/* a Device object's properties, read from its record when a client asks (the objects are
 * served on demand: an inventory of 10,000 would cost 30 MB of skeletons); the record's node
 * is looked up once, its leaves read below it */
static GVariant *
gw_dbus_inventory_device_properties(GwDbusExporter *exporter, const gchar *uri, gpointer user_data)
{
	GwDbusInventory *self = GW_DBUS_INVENTORY(user_data);
	GwDmNode *record = gw_dm_tree_lookup(self->tree, uri);
	g_auto(GStrv) groups = gw_dbus_inventory_dup_values(self, uri, "Groups");
	g_autofree gchar *mode_str = gw_dbus_inventory_node_dup_string(record, "Mode");
	g_autofree gchar *trusted = gw_dbus_inventory_node_dup_string(record, "Trusted");
	g_autofree gchar *protocol = gw_dbus_inventory_node_dup_string(record, "Protocol");
	GVariantBuilder builder;
	guint64 mode = 0;

	if (!g_ascii_string_to_unsigned(mode_str, 10, 0, G_MAXUINT32, &mode, NULL))
		mode = 0;
	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	for (gsize i = 0; i < G_N_ELEMENTS(gw_dbus_inventory_device_leaves); i++) {
		const GwDbusExporterLeaf *leaf = &gw_dbus_inventory_device_leaves[i];
		g_autofree gchar *value = gw_dbus_inventory_node_dup_string(record, leaf->leaf);
		g_variant_builder_add(
		    &builder, "{sv}", leaf->property, g_variant_new_string(value));
	}
	g_variant_builder_add(&builder, "{sv}", "Mode", g_variant_new_uint32((guint32)mode));
	g_variant_builder_add(
	    &builder, "{sv}", "Trusted", g_variant_new_boolean(g_strcmp0(trusted, "true") == 0));
	g_variant_builder_add(
	    &builder, "{sv}", "Groups", g_variant_new_strv((const gchar *const *)groups, -1));
	g_variant_builder_add(&builder,
	                      "{sv}",
	                      "Adapter",
	                      g_variant_new_string(gw_dbus_inventory_adapter_name(self, protocol)));
	return g_variant_builder_end(&builder);
}

static void
gw_dbus_inventory_fill_group(GwDbusExporter *exporter,
                             const gchar *uri,
                             GDBusInterfaceSkeleton *iface,
                             gpointer user_data)
{
	GwDbusInventory *self = GW_DBUS_INVENTORY(user_data);
	GwDbusGenGroup *group = GW_DBUS_GEN_GROUP(iface);
	g_auto(GStrv) members = gw_dbus_inventory_dup_values(self, uri, "Members");

	gw_dbus_exporter_fill_strings(exporter,
	                              uri,
	                              iface,
	                              gw_dbus_inventory_group_leaves,
	                              G_N_ELEMENTS(gw_dbus_inventory_group_leaves));
	if (!gw_dbus_inventory_strv_equal(gw_dbus_gen_group_get_members(group),
	                                  (const gchar *const *)members))
		gw_dbus_gen_group_set_members(group, (const gchar *const *)members);
}

/* ---- method handlers ---- */

static gboolean
gw_dbus_inventory_handle_set_mode(GwDbusInventory *self,
                                  GDBusMethodInvocation *invocation,
                                  guint mode)
{
	const gchar *record_uri;
	g_autofree gchar *mode_uri = NULL;
	g_autofree gchar *mode_str = NULL;
	g_autoptr(GBytes) bytes = NULL;
	guint status;

	g_debug("SetMode(%u) on %s", mode, g_dbus_method_invocation_get_object_path(invocation));
	/* shape first, then who asks, then state */
	if (mode < GW_GWMO_MODE_TRANSPARENT || mode > GW_GWMO_MODE_ADAPTATION) {
		g_dbus_method_invocation_return_error(
		    invocation,
		    GW_ERROR,
		    GW_ERROR_INVALID_ARGS,
		    "mode %u is not 1 (Transparent), 2 (Proxy) or "
		    "3 (Adaptation)",
		    mode);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	if (self->authorize != NULL &&
	    !self->authorize(invocation, GW_DBUS_ACTION_MANAGE_DEVICES, self->authorize_data))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	record_uri = gw_dbus_exporter_invocation_target(self->devices, invocation);
	if (record_uri == NULL)
		return G_DBUS_METHOD_INVOCATION_HANDLED;

	/* the same path a DM Server's Replace takes, as the local owner */
	mode_uri = g_strdup_printf("%s/Mode", record_uri);
	mode_str = g_strdup_printf("%u", mode);
	bytes = g_bytes_new(mode_str, strlen(mode_str));
	status = gw_dm_tree_replace(self->tree, NULL, mode_uri, GW_DM_FORMAT_INT, NULL, bytes);
	if (gw_dbus_return_status(invocation, status, mode_uri))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	g_info("SetMode %u on %s by %s",
	       mode,
	       record_uri,
	       g_dbus_method_invocation_get_sender(invocation));
	gw_dbus_commit_and_reply(self->gateway, invocation, NULL);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
gw_dbus_inventory_handle_member(GwDbusInventory *self,
                                GDBusMethodInvocation *invocation,
                                const gchar *device_id,
                                gboolean add)
{
	const gchar *group_uri;
	g_autofree gchar *group_id = NULL;
	g_autoptr(GError) error = NULL;
	gboolean ok;

	g_debug("%s(%s) on %s",
	        add ? "AddMember" : "RemoveMember",
	        device_id,
	        g_dbus_method_invocation_get_object_path(invocation));
	if (device_id[0] == '\0') {
		g_dbus_method_invocation_return_error(
		    invocation, GW_ERROR, GW_ERROR_INVALID_ARGS, "the DeviceID is empty");
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	if (self->authorize != NULL &&
	    !self->authorize(invocation, GW_DBUS_ACTION_MANAGE_DEVICES, self->authorize_data))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	group_uri = gw_dbus_exporter_invocation_target(self->groups, invocation);
	if (group_uri == NULL)
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	group_id = gw_dbus_exporter_dup_leaf(self->groups, group_uri, "GroupID");
	if (add) {
		/* a DM Server may name a device that has not registered yet; over D-Bus a
		 * member is a device of the inventory (a typo is an error, not a member) */
		g_autofree gchar *record_uri = gw_inventory_find(self->inventory, device_id);
		if (record_uri == NULL) {
			g_dbus_method_invocation_return_error(
			    invocation, GW_ERROR, GW_ERROR_NOT_FOUND, "no device %s", device_id);
			return G_DBUS_METHOD_INVOCATION_HANDLED;
		}
	}
	if (add)
		ok = gw_groups_add_member(
		    gw_inventory_get_groups(self->inventory), group_id, device_id, &error);
	else
		ok = gw_groups_remove_member(
		    gw_inventory_get_groups(self->inventory), group_id, device_id, &error);
	if (!ok) {
		gw_dbus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	g_info("%s %s %s group %s by %s",
	       add ? "added" : "removed",
	       device_id,
	       add ? "to" : "from",
	       group_id,
	       g_dbus_method_invocation_get_sender(invocation));
	gw_dbus_commit_and_reply(self->gateway, invocation, NULL);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
gw_dbus_inventory_handle_add_member(GwDbusGenGroup *group,
                                    GDBusMethodInvocation *invocation,
                                    const gchar *device_id,
                                    gpointer user_data)
{
	return gw_dbus_inventory_handle_member(
	    GW_DBUS_INVENTORY(user_data), invocation, device_id, TRUE);
}

static gboolean
gw_dbus_inventory_handle_remove_member(GwDbusGenGroup *group,
                                       GDBusMethodInvocation *invocation,
                                       const gchar *device_id,
                                       gpointer user_data)
{
	return gw_dbus_inventory_handle_member(
	    GW_DBUS_INVENTORY(user_data), invocation, device_id, FALSE);
}

/* ---- exporting ---- */

static void
gw_dbus_inventory_device_method_call(GwDbusExporter *exporter,
                                     const gchar *uri,
                                     GDBusMethodInvocation *invocation,
                                     gpointer user_data)
{
	const gchar *method = g_dbus_method_invocation_get_method_name(invocation);
	GVariant *parameters = g_dbus_method_invocation_get_parameters(invocation);

	/* GDBus checked the arguments against the interface info */
	if (g_strcmp0(method, "SetMode") == 0) {
		guint32 mode = 0;
		g_variant_get(parameters, "(u)", &mode);
		gw_dbus_inventory_handle_set_mode(GW_DBUS_INVENTORY(user_data), invocation, mode);
		return;
	}
	g_dbus_method_invocation_return_error(
	    invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD, "no method %s", method);
}

static GDBusInterfaceSkeleton *
gw_dbus_inventory_create_group(GwDbusExporter *exporter, const gchar *uri, gpointer user_data)
{
	GwDbusGenGroup *group = gw_dbus_gen_group_skeleton_new();

	g_signal_connect(
	    group, "handle-add-member", G_CALLBACK(gw_dbus_inventory_handle_add_member), user_data);
	g_signal_connect(group,
	                 "handle-remove-member",
	                 G_CALLBACK(gw_dbus_inventory_handle_remove_member),
	                 user_data);
	return G_DBUS_INTERFACE_SKELETON(group);
}

/* a resync exports what the inventory has, in its order */
static GPtrArray *
gw_dbus_inventory_list_devices(GwDbusExporter *exporter, gpointer user_data)
{
	return gw_inventory_list(GW_DBUS_INVENTORY(user_data)->inventory);
}

static GPtrArray *
gw_dbus_inventory_list_groups(GwDbusExporter *exporter, gpointer user_data)
{
	return gw_groups_list(gw_inventory_get_groups(GW_DBUS_INVENTORY(user_data)->inventory));
}

static const GwDbusExporterFuncs gw_dbus_inventory_device_funcs = {
    .list = gw_dbus_inventory_list_devices,
    .interface_info = gw_dbus_gen_device_interface_info,
    .properties = gw_dbus_inventory_device_properties,
    .method_call = gw_dbus_inventory_device_method_call,
};

static const GwDbusExporterFuncs gw_dbus_inventory_group_funcs = {
    .create = gw_dbus_inventory_create_group,
    .fill = gw_dbus_inventory_fill_group,
    .list = gw_dbus_inventory_list_groups,
};

gchar *
gw_dbus_inventory_export_device(GwDbusInventory *self, const gchar *record_uri)
{
	g_return_val_if_fail(GW_IS_DBUS_INVENTORY(self), NULL);
	return gw_dbus_exporter_update(self->devices, record_uri);
}

gchar *
gw_dbus_inventory_export_group(GwDbusInventory *self, const gchar *group_uri)
{
	g_return_val_if_fail(GW_IS_DBUS_INVENTORY(self), NULL);
	return gw_dbus_exporter_update(self->groups, group_uri);
}

gchar *
gw_dbus_inventory_lookup_device(GwDbusInventory *self, const gchar *object_path)
{
	g_return_val_if_fail(GW_IS_DBUS_INVENTORY(self), NULL);
	return g_strdup(gw_dbus_exporter_lookup(self->devices, object_path));
}

/* ---- following the inventory (the tree's "changed" is the exporters') ---- */

static void
gw_dbus_inventory_device_attached_cb(GwInventory *inventory,
                                     const gchar *record_uri,
                                     const gchar *device_id,
                                     gboolean is_new,
                                     gpointer user_data)
{
	g_autofree gchar *path =
	    gw_dbus_inventory_export_device(GW_DBUS_INVENTORY(user_data), record_uri);
}

static void
gw_dbus_inventory_device_detached_cb(GwInventory *inventory,
                                     const gchar *record_uri,
                                     const gchar *device_id,
                                     gpointer user_data)
{
	g_autofree gchar *path =
	    gw_dbus_inventory_export_device(GW_DBUS_INVENTORY(user_data), record_uri);
}

static void
gw_dbus_inventory_device_removed_cb(GwInventory *inventory,
                                    const gchar *record_uri,
                                    const gchar *device_id,
                                    gpointer user_data)
{
	gw_dbus_exporter_remove(GW_DBUS_INVENTORY(user_data)->devices, record_uri);
}

static void
gw_dbus_inventory_group_changed_cb(GwGroups *groups, const gchar *group_uri, gpointer user_data)
{
	GwDbusInventory *self = GW_DBUS_INVENTORY(user_data);
	/* exports, refreshes, or (when the group is gone) unexports */
	g_autofree gchar *path = gw_dbus_inventory_export_group(self, group_uri);

	/* nothing to do for the members: GwGroups rewrites the Groups/<n> list of each record
	 * that came or went, and the device exporter follows those tree changes (refreshing every
	 * device here made a burst of N AddDevice calls with Groups cost O(N²): 10,000 devices
	 * joining one group took minutes) */
}

/* ---- object ---- */

/* a plugin came or went: every Device object's Adapter may change */
static void
gw_dbus_inventory_adapters_changed_cb(GwAdapters *adapters,
                                      const gchar *protocol,
                                      gpointer user_data)
{
	GwDbusInventory *self = GW_DBUS_INVENTORY(user_data);
	if (self->devices != NULL)
		gw_dbus_exporter_refresh_all(self->devices);
}

static void
gw_dbus_inventory_dispose(GObject *object)
{
	GwDbusInventory *self = GW_DBUS_INVENTORY(object);

	if (self->gateway != NULL && gw_gateway_get_adapters(self->gateway) != NULL)
		g_clear_signal_handler(&self->adapters_changed_id,
		                       gw_gateway_get_adapters(self->gateway));
	if (self->inventory != NULL) {
		g_clear_signal_handler(&self->attached_id, self->inventory);
		g_clear_signal_handler(&self->detached_id, self->inventory);
		g_clear_signal_handler(&self->removed_id, self->inventory);
		g_clear_signal_handler(&self->group_changed_id,
		                       gw_inventory_get_groups(self->inventory));
	}
	/* unexports every object */
	g_clear_object(&self->devices);
	g_clear_object(&self->groups);
	g_clear_object(&self->inventory);
	g_clear_object(&self->tree);
	G_OBJECT_CLASS(gw_dbus_inventory_parent_class)->dispose(object);
}

static void
gw_dbus_inventory_class_init(GwDbusInventoryClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = gw_dbus_inventory_dispose;
}

static void
gw_dbus_inventory_init(GwDbusInventory *self)
{
}

GwDbusInventory *
gw_dbus_inventory_new(GwGateway *gateway,
                      GwDbusObjectManager *object_manager,
                      GwDbusAuthorizeFunc authorize,
                      gpointer authorize_data)
{
	GwDbusInventory *self;

	g_return_val_if_fail(GW_IS_GATEWAY(gateway), NULL);
	g_return_val_if_fail(GW_IS_DBUS_OBJECT_MANAGER(object_manager), NULL);
	g_return_val_if_fail(gw_gateway_get_inventory(gateway) != NULL, NULL);

	self = g_object_new(GW_TYPE_DBUS_INVENTORY, NULL);
	self->gateway = gateway;
	self->inventory = g_object_ref(gw_gateway_get_inventory(gateway));
	self->tree = g_object_ref(gw_gateway_get_tree(gateway));
	self->authorize = authorize;
	self->authorize_data = authorize_data;

	/* every record and group there is, persisted from earlier runs included; then they
	 * follow the tree */
	self->devices = gw_dbus_exporter_new_full(self->tree,
	                                          object_manager,
	                                          GW_GWMO_INVENTORY_DEVICES,
	                                          GW_DBUS_DEVICES_PATH,
	                                          "DeviceID",
	                                          GW_DBUS_EXPORTER_FLAGS_BATCH |
	                                              GW_DBUS_EXPORTER_FLAGS_ON_DEMAND,
	                                          &gw_dbus_inventory_device_funcs,
	                                          self);
	/* a member added writes several leaves of its group: one fill per main-loop turn */
	self->groups = gw_dbus_exporter_new_full(self->tree,
	                                         object_manager,
	                                         GW_GWMO_INVENTORY_GROUPS,
	                                         GW_DBUS_GROUPS_PATH,
	                                         "GroupID",
	                                         GW_DBUS_EXPORTER_FLAGS_BATCH,
	                                         &gw_dbus_inventory_group_funcs,
	                                         self);
	if (gw_gateway_get_adapters(gateway) != NULL)
		self->adapters_changed_id =
		    g_signal_connect(gw_gateway_get_adapters(gateway),
		                     "changed",
		                     G_CALLBACK(gw_dbus_inventory_adapters_changed_cb),
		                     self);
	self->attached_id = g_signal_connect(self->inventory,
	                                     "device-attached",
	                                     G_CALLBACK(gw_dbus_inventory_device_attached_cb),
	                                     self);
	self->detached_id = g_signal_connect(self->inventory,
	                                     "device-detached",
	                                     G_CALLBACK(gw_dbus_inventory_device_detached_cb),
	                                     self);
	self->removed_id = g_signal_connect(self->inventory,
	                                    "device-removed",
	                                    G_CALLBACK(gw_dbus_inventory_device_removed_cb),
	                                    self);
	self->group_changed_id = g_signal_connect(gw_inventory_get_groups(self->inventory),
	                                          "group-changed",
	                                          G_CALLBACK(gw_dbus_inventory_group_changed_cb),
	                                          self);
	return self;
}
