/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDbus"

#include "config.h"

#include <string.h>

#include "gw-daemon.h"
#include "gw-dbus-generated.h"
#include "gw-dbus-inventory.h"
#include "gw-dbus-manager.h"
#include "gw-gwmo-names.h"
#include "gw-inventory.h"

/* one exported object: the record or group URI it shows and its skeletons */
typedef struct {
	gchar *uri;
	GwDbusGenObjectSkeleton *object;
	GwDbusGenDevice *device; /* for a device */
	GwDbusGenGroup *group;	 /* for a group */
} GwDbusInventoryEntry;

struct _GwDbusInventory {
	GObject parent_instance;
	GwDaemon *daemon; /* not owned: the daemon owns the manager that owns us */
	GwInventory *inventory;
	GwDmTree *tree;
	GDBusObjectManagerServer *object_manager;
	GwDbusAuthorizeFunc authorize;
	gpointer authorize_data;
	GHashTable *devices; /* object path → GwDbusInventoryEntry */
	GHashTable *groups;  /* object path → GwDbusInventoryEntry */
	gulong attached_id;
	gulong detached_id;
	gulong removed_id;
	gulong group_changed_id;
	gulong tree_changed_id;
	guint resync_id;
	/* records changed in the tree, looked at together once the change settles: a record is
	 * written leaf by leaf, and exporting or filling it per leaf (or re-listing every record
	 * for a new one) made a burst of registrations cost O(N²) */
	GHashTable *dirty_records; /* record URI (canonical) */
	guint dirty_id;
};

G_DEFINE_TYPE(GwDbusInventory, gw_dbus_inventory, G_TYPE_OBJECT)

static void
gw_dbus_inventory_entry_free(GwDbusInventoryEntry *entry)
{
	g_free(entry->uri);
	g_clear_object(&entry->device);
	g_clear_object(&entry->group);
	g_clear_object(&entry->object);
	g_free(entry);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwDbusInventoryEntry, gw_dbus_inventory_entry_free)

/* ---- URIs and paths ---- */

/* @uri without a leading "./" */
static const gchar *
gw_dbus_inventory_relative(const gchar *uri)
{
	return g_str_has_prefix(uri, "./") ? uri + 2 : uri;
}

/*
 * When @uri is @base/<x> or below it, returns <x> and sets @exact when @uri is @base/<x>
 * itself. @base is given without the leading "./"; @uri may have it or not.
 */
static gchar *
gw_dbus_inventory_split_uri(const gchar *uri, const gchar *base, gboolean *exact)
{
	gsize base_len = strlen(base);
	const gchar *name;
	const gchar *slash;

	if (uri == NULL)
		return NULL;
	uri = gw_dbus_inventory_relative(uri);
	if (strncmp(uri, base, base_len) != 0 || uri[base_len] != '/')
		return NULL;
	name = uri + base_len + 1;
	slash = strchr(name, '/');
	if (slash == name || name[0] == '\0')
		return NULL;
	if (exact != NULL)
		*exact = slash == NULL;
	return slash != NULL ? g_strndup(name, (gsize)(slash - name)) : g_strdup(name);
}

static const gchar *
gw_dbus_inventory_devices_base(void)
{
	return gw_dbus_inventory_relative(GW_GWMO_INVENTORY_DEVICES);
}

static const gchar *
gw_dbus_inventory_groups_base(void)
{
	return gw_dbus_inventory_relative(GW_GWMO_INVENTORY_GROUPS);
}

static gchar *
gw_dbus_inventory_path_for(const gchar *uri, const gchar *base, const gchar *path_prefix)
{
	gboolean exact = FALSE;
	g_autofree gchar *name = gw_dbus_inventory_split_uri(uri, base, &exact);
	g_autofree gchar *escaped = NULL;

	if (name == NULL || !exact)
		return NULL;
	escaped = g_dbus_escape_object_path(name);
	return g_strdup_printf("%s/%s", path_prefix, escaped);
}

gchar *
gw_dbus_inventory_device_path(const gchar *record_uri)
{
	return gw_dbus_inventory_path_for(record_uri,
					  gw_dbus_inventory_devices_base(),
					  GW_DBUS_DEVICES_PATH);
}

gchar *
gw_dbus_inventory_group_path(const gchar *group_uri)
{
	return gw_dbus_inventory_path_for(group_uri,
					  gw_dbus_inventory_groups_base(),
					  GW_DBUS_GROUPS_PATH);
}

/* the canonical "./GwMO/Inventory/…/<x>" form */
static gchar *
gw_dbus_inventory_canonical_uri(const gchar *base, const gchar *name)
{
	return g_strdup_printf("./%s/%s", base, name);
}

/* ---- reading records and groups from the tree ---- */

static gchar *
gw_dbus_inventory_dup_leaf(GwDbusInventory *self, const gchar *uri, const gchar *leaf)
{
	g_autofree gchar *leaf_uri = g_strdup_printf("%s/%s", uri, leaf);
	gchar *value = gw_dm_tree_dup_string(self->tree, leaf_uri);
	if (value == NULL || !g_utf8_validate(value, -1, NULL)) {
		g_free(value);
		return g_strdup("");
	}
	return value;
}

/* the values of the leaves below @uri/@interior (Members/<x>, Groups/<x>) */
static gchar **
gw_dbus_inventory_dup_values(GwDbusInventory *self, const gchar *uri, const gchar *interior)
{
	g_autofree gchar *parent = g_strdup_printf("%s/%s", uri, interior);
	g_auto(GStrv) children = gw_dm_tree_list_children(self->tree, parent);
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

	for (guint i = 0; children != NULL && children[i] != NULL; i++) {
		g_autofree gchar *child = g_strdup_printf("%s/%s", parent, children[i]);
		g_autofree gchar *value = gw_dm_tree_dup_string(self->tree, child);
		if (value == NULL || value[0] == '\0' || !g_utf8_validate(value, -1, NULL))
			continue;
		g_strv_builder_add(builder, value);
	}
	return g_strv_builder_end(builder);
}

static gboolean
gw_dbus_inventory_strv_equal(const gchar *const *a, const gchar *const *b)
{
	if (a == NULL || b == NULL)
		return (a == NULL || a[0] == NULL) && (b == NULL || b[0] == NULL);
	return g_strv_equal(a, b);
}

/* the record is complete enough to be shown: it has its DeviceID */
static gboolean
gw_dbus_inventory_record_exists(GwDbusInventory *self, const gchar *uri, const gchar *id_leaf)
{
	g_autofree gchar *leaf_uri = g_strdup_printf("%s/%s", uri, id_leaf);
	g_autofree gchar *value = gw_dm_tree_dup_string(self->tree, leaf_uri);
	return value != NULL && value[0] != '\0';
}

static void
gw_dbus_inventory_fill_device(GwDbusInventory *self, GwDbusInventoryEntry *entry)
{
	GwDbusGenDevice *device = entry->device;
	g_autofree gchar *device_id = gw_dbus_inventory_dup_leaf(self, entry->uri, "DeviceID");
	g_autofree gchar *protocol = gw_dbus_inventory_dup_leaf(self, entry->uri, "Protocol");
	g_autofree gchar *mode_str = gw_dbus_inventory_dup_leaf(self, entry->uri, "Mode");
	g_autofree gchar *status = gw_dbus_inventory_dup_leaf(self, entry->uri, "Status");
	g_autofree gchar *address = gw_dbus_inventory_dup_leaf(self, entry->uri, "Address");
	g_autofree gchar *last_seen = gw_dbus_inventory_dup_leaf(self, entry->uri, "LastSeen");
	g_autofree gchar *trusted = gw_dbus_inventory_dup_leaf(self, entry->uri, "Trusted");
	g_auto(GStrv) groups = gw_dbus_inventory_dup_values(self, entry->uri, "Groups");
	guint64 mode = 0;

	if (!g_ascii_string_to_unsigned(mode_str, 10, 0, G_MAXUINT32, &mode, NULL))
		mode = 0;

	/* set only what changed: every set is a PropertiesChanged */
	if (g_strcmp0(gw_dbus_gen_device_get_device_id(device), device_id) != 0)
		gw_dbus_gen_device_set_device_id(device, device_id);
	if (g_strcmp0(gw_dbus_gen_device_get_protocol(device), protocol) != 0)
		gw_dbus_gen_device_set_protocol(device, protocol);
	if (gw_dbus_gen_device_get_mode(device) != (guint)mode)
		gw_dbus_gen_device_set_mode(device, (guint)mode);
	if (g_strcmp0(gw_dbus_gen_device_get_status(device), status) != 0)
		gw_dbus_gen_device_set_status(device, status);
	if (g_strcmp0(gw_dbus_gen_device_get_address(device), address) != 0)
		gw_dbus_gen_device_set_address(device, address);
	if (g_strcmp0(gw_dbus_gen_device_get_last_seen(device), last_seen) != 0)
		gw_dbus_gen_device_set_last_seen(device, last_seen);
	if (gw_dbus_gen_device_get_trusted(device) != (g_strcmp0(trusted, "true") == 0))
		gw_dbus_gen_device_set_trusted(device, g_strcmp0(trusted, "true") == 0);
	if (!gw_dbus_inventory_strv_equal(gw_dbus_gen_device_get_groups(device),
					  (const gchar *const *)groups))
		gw_dbus_gen_device_set_groups(device, (const gchar *const *)groups);
}

static void
gw_dbus_inventory_fill_group(GwDbusInventory *self, GwDbusInventoryEntry *entry)
{
	GwDbusGenGroup *group = entry->group;
	g_autofree gchar *group_id = gw_dbus_inventory_dup_leaf(self, entry->uri, "GroupID");
	g_autofree gchar *description = gw_dbus_inventory_dup_leaf(self, entry->uri, "Description");
	g_auto(GStrv) members = gw_dbus_inventory_dup_values(self, entry->uri, "Members");

	if (g_strcmp0(gw_dbus_gen_group_get_group_id(group), group_id) != 0)
		gw_dbus_gen_group_set_group_id(group, group_id);
	if (g_strcmp0(gw_dbus_gen_group_get_description(group), description) != 0)
		gw_dbus_gen_group_set_description(group, description);
	if (!gw_dbus_inventory_strv_equal(gw_dbus_gen_group_get_members(group),
					  (const gchar *const *)members))
		gw_dbus_gen_group_set_members(group, (const gchar *const *)members);
}

/* ---- method handlers ---- */

static void
gw_dbus_inventory_commit_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GDBusMethodInvocation) invocation = user_data;
	g_autoptr(GError) error = NULL;

	if (!gw_daemon_commit_finish(GW_DAEMON(source), res, &error)) {
		gw_dbus_return_error(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static void
gw_dbus_inventory_commit_and_reply(GwDbusInventory *self, GDBusMethodInvocation *invocation)
{
	gw_daemon_commit_async(self->daemon, gw_dbus_inventory_commit_cb, g_object_ref(invocation));
}

/* the entry an invocation is addressed to; answers NotFound when it went away meanwhile */
static GwDbusInventoryEntry *
gw_dbus_inventory_invocation_entry(GHashTable *table, GDBusMethodInvocation *invocation)
{
	const gchar *path = g_dbus_method_invocation_get_object_path(invocation);
	GwDbusInventoryEntry *entry = g_hash_table_lookup(table, path);

	if (entry == NULL) {
		g_dbus_method_invocation_return_error(invocation,
						      GW_ERROR,
						      GW_ERROR_NOT_FOUND,
						      "%s is gone",
						      path);
	}
	return entry;
}

static gboolean
gw_dbus_inventory_handle_set_mode(GwDbusGenDevice *device,
				  GDBusMethodInvocation *invocation,
				  guint mode,
				  gpointer user_data)
{
	GwDbusInventory *self = GW_DBUS_INVENTORY(user_data);
	GwDbusInventoryEntry *entry;
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
	if (self->authorize != NULL && !self->authorize(invocation, self->authorize_data))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	entry = gw_dbus_inventory_invocation_entry(self->devices, invocation);
	if (entry == NULL)
		return G_DBUS_METHOD_INVOCATION_HANDLED;

	/* the same path a DM Server's Replace takes, as the local owner */
	mode_uri = g_strdup_printf("%s/Mode", entry->uri);
	mode_str = g_strdup_printf("%u", mode);
	bytes = g_bytes_new(mode_str, strlen(mode_str));
	status = gw_dm_tree_replace(self->tree, NULL, mode_uri, GW_DM_FORMAT_INT, NULL, bytes);
	if (!gw_dm_status_is_success(status)) {
		g_autoptr(GError) error = NULL;
		gw_dm_status_set_error(&error, status, mode_uri);
		gw_dbus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	g_info("SetMode %u on %s by %s",
	       mode,
	       entry->uri,
	       g_dbus_method_invocation_get_sender(invocation));
	gw_dbus_inventory_commit_and_reply(self, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
gw_dbus_inventory_handle_member(GwDbusInventory *self,
				GDBusMethodInvocation *invocation,
				const gchar *device_id,
				gboolean add)
{
	GwDbusInventoryEntry *entry;
	g_autofree gchar *group_id = NULL;
	g_autoptr(GError) error = NULL;
	gboolean ok;

	g_debug("%s(%s) on %s",
		add ? "AddMember" : "RemoveMember",
		device_id,
		g_dbus_method_invocation_get_object_path(invocation));
	if (device_id[0] == '\0') {
		g_dbus_method_invocation_return_error(invocation,
						      GW_ERROR,
						      GW_ERROR_INVALID_ARGS,
						      "the DeviceID is empty");
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	if (self->authorize != NULL && !self->authorize(invocation, self->authorize_data))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	entry = gw_dbus_inventory_invocation_entry(self->groups, invocation);
	if (entry == NULL)
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	group_id = gw_dbus_inventory_dup_leaf(self, entry->uri, "GroupID");
	if (add) {
		/* a DM Server may name a device that has not registered yet; over D-Bus a
		 * member is a device of the inventory (a typo is an error, not a member) */
		g_autofree gchar *record_uri = gw_inventory_find(self->inventory, device_id);
		if (record_uri == NULL) {
			g_dbus_method_invocation_return_error(invocation,
							      GW_ERROR,
							      GW_ERROR_NOT_FOUND,
							      "no device %s",
							      device_id);
			return G_DBUS_METHOD_INVOCATION_HANDLED;
		}
	}
	if (add)
		ok = gw_inventory_group_add_member(self->inventory, group_id, device_id, &error);
	else
		ok = gw_inventory_group_remove_member(self->inventory, group_id, device_id, &error);
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
	gw_dbus_inventory_commit_and_reply(self, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
gw_dbus_inventory_handle_add_member(GwDbusGenGroup *group,
				    GDBusMethodInvocation *invocation,
				    const gchar *device_id,
				    gpointer user_data)
{
	return gw_dbus_inventory_handle_member(GW_DBUS_INVENTORY(user_data),
					       invocation,
					       device_id,
					       TRUE);
}

static gboolean
gw_dbus_inventory_handle_remove_member(GwDbusGenGroup *group,
				       GDBusMethodInvocation *invocation,
				       const gchar *device_id,
				       gpointer user_data)
{
	return gw_dbus_inventory_handle_member(GW_DBUS_INVENTORY(user_data),
					       invocation,
					       device_id,
					       FALSE);
}

/* ---- exporting ---- */

static void
gw_dbus_inventory_unexport(GwDbusInventory *self, GHashTable *table, const gchar *path)
{
	GwDbusInventoryEntry *entry = g_hash_table_lookup(table, path);

	if (entry == NULL)
		return;
	g_debug("unexporting %s (%s)", path, entry->uri);
	if (entry->device != NULL)
		g_signal_handlers_disconnect_by_data(entry->device, self);
	if (entry->group != NULL)
		g_signal_handlers_disconnect_by_data(entry->group, self);
	g_dbus_object_manager_server_unexport(self->object_manager, path);
	g_hash_table_remove(table, path);
}

gchar *
gw_dbus_inventory_export_device(GwDbusInventory *self, const gchar *record_uri)
{
	g_autofree gchar *path = gw_dbus_inventory_device_path(record_uri);
	g_autofree gchar *name = NULL;
	g_autoptr(GwDbusInventoryEntry) entry = NULL;
	GwDbusInventoryEntry *existing;

	g_return_val_if_fail(GW_IS_DBUS_INVENTORY(self), NULL);
	if (path == NULL)
		return NULL;
	name = gw_dbus_inventory_split_uri(record_uri, gw_dbus_inventory_devices_base(), NULL);
	existing = g_hash_table_lookup(self->devices, path);
	if (!gw_dbus_inventory_record_exists(self, record_uri, "DeviceID")) {
		if (existing != NULL)
			gw_dbus_inventory_unexport(self, self->devices, path);
		return NULL;
	}
	if (existing != NULL) {
		gw_dbus_inventory_fill_device(self, existing);
		return g_steal_pointer(&path);
	}

	entry = g_new0(GwDbusInventoryEntry, 1);
	entry->uri = gw_dbus_inventory_canonical_uri(gw_dbus_inventory_devices_base(), name);
	entry->object = gw_dbus_gen_object_skeleton_new(path);
	entry->device = gw_dbus_gen_device_skeleton_new();
	/* the properties are right before InterfacesAdded announces them */
	gw_dbus_inventory_fill_device(self, entry);
	g_signal_connect(entry->device,
			 "handle-set-mode",
			 G_CALLBACK(gw_dbus_inventory_handle_set_mode),
			 self);
	gw_dbus_gen_object_skeleton_set_device(entry->object, entry->device);
	g_dbus_object_manager_server_export(self->object_manager,
					    G_DBUS_OBJECT_SKELETON(entry->object));
	g_debug("exported %s (%s)", path, entry->uri);
	g_hash_table_insert(self->devices, g_strdup(path), g_steal_pointer(&entry));
	return g_steal_pointer(&path);
}

gchar *
gw_dbus_inventory_export_group(GwDbusInventory *self, const gchar *group_uri)
{
	g_autofree gchar *path = gw_dbus_inventory_group_path(group_uri);
	g_autofree gchar *name = NULL;
	g_autoptr(GwDbusInventoryEntry) entry = NULL;
	GwDbusInventoryEntry *existing;

	g_return_val_if_fail(GW_IS_DBUS_INVENTORY(self), NULL);
	if (path == NULL)
		return NULL;
	name = gw_dbus_inventory_split_uri(group_uri, gw_dbus_inventory_groups_base(), NULL);
	existing = g_hash_table_lookup(self->groups, path);
	if (!gw_dbus_inventory_record_exists(self, group_uri, "GroupID")) {
		if (existing != NULL)
			gw_dbus_inventory_unexport(self, self->groups, path);
		return NULL;
	}
	if (existing != NULL) {
		gw_dbus_inventory_fill_group(self, existing);
		return g_steal_pointer(&path);
	}

	entry = g_new0(GwDbusInventoryEntry, 1);
	entry->uri = gw_dbus_inventory_canonical_uri(gw_dbus_inventory_groups_base(), name);
	entry->object = gw_dbus_gen_object_skeleton_new(path);
	entry->group = gw_dbus_gen_group_skeleton_new();
	gw_dbus_inventory_fill_group(self, entry);
	g_signal_connect(entry->group,
			 "handle-add-member",
			 G_CALLBACK(gw_dbus_inventory_handle_add_member),
			 self);
	g_signal_connect(entry->group,
			 "handle-remove-member",
			 G_CALLBACK(gw_dbus_inventory_handle_remove_member),
			 self);
	gw_dbus_gen_object_skeleton_set_group(entry->object, entry->group);
	g_dbus_object_manager_server_export(self->object_manager,
					    G_DBUS_OBJECT_SKELETON(entry->object));
	g_debug("exported %s (%s)", path, entry->uri);
	g_hash_table_insert(self->groups, g_strdup(path), g_steal_pointer(&entry));
	return g_steal_pointer(&path);
}

gchar *
gw_dbus_inventory_lookup_device(GwDbusInventory *self, const gchar *object_path)
{
	GwDbusInventoryEntry *entry;

	g_return_val_if_fail(GW_IS_DBUS_INVENTORY(self), NULL);
	entry = g_hash_table_lookup(self->devices, object_path);
	return entry != NULL ? g_strdup(entry->uri) : NULL;
}

/* exports what the inventory has and is not exported, drops what it no longer has */
static void
gw_dbus_inventory_resync_table(GwDbusInventory *self,
                               GHashTable *table,
                               GPtrArray *uris,
                               gboolean devices)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GPtrArray) stale = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter iter;
	gpointer key;

	for (guint i = 0; uris != NULL && i < uris->len; i++) {
		const gchar *uri = g_ptr_array_index(uris, i);
		gchar *path = devices ? gw_dbus_inventory_export_device(self, uri)
				      : gw_dbus_inventory_export_group(self, uri);
		if (path != NULL)
			g_hash_table_add(seen, path);
	}
	g_hash_table_iter_init(&iter, table);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (!g_hash_table_contains(seen, key))
			g_ptr_array_add(stale, g_strdup(key));
	}
	for (guint i = 0; i < stale->len; i++)
		gw_dbus_inventory_unexport(self, table, g_ptr_array_index(stale, i));
}

static void
gw_dbus_inventory_resync(GwDbusInventory *self)
{
	g_autoptr(GPtrArray) records = gw_inventory_list(self->inventory);
	g_autoptr(GPtrArray) groups = gw_inventory_list_groups(self->inventory);

	gw_dbus_inventory_resync_table(self, self->devices, records, TRUE);
	gw_dbus_inventory_resync_table(self, self->groups, groups, FALSE);
}

static gboolean
gw_dbus_inventory_resync_cb(gpointer user_data)
{
	GwDbusInventory *self = GW_DBUS_INVENTORY(user_data);
	self->resync_id = 0;
	gw_dbus_inventory_resync(self);
	return G_SOURCE_REMOVE;
}

/* structural changes settle within one main-loop iteration (a record is built leaf by
 * leaf); look at the result once they have */
static void
gw_dbus_inventory_schedule_resync(GwDbusInventory *self)
{
	if (self->resync_id != 0)
		return;
	self->resync_id = g_idle_add_full(G_PRIORITY_DEFAULT,
					  gw_dbus_inventory_resync_cb,
					  g_object_ref(self),
					  g_object_unref);
}

static gboolean
gw_dbus_inventory_dirty_cb(gpointer user_data)
{
	GwDbusInventory *self = GW_DBUS_INVENTORY(user_data);
	g_autoptr(GHashTable) dirty = g_steal_pointer(&self->dirty_records);
	GHashTableIter iter;
	gpointer key;

	self->dirty_id = 0;
	self->dirty_records = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_hash_table_iter_init(&iter, dirty);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		const gchar *record_uri = key;
		g_autofree gchar *path = gw_dbus_inventory_device_path(record_uri);
		GwDbusInventoryEntry *entry =
		    path != NULL ? g_hash_table_lookup(self->devices, path) : NULL;
		if (entry == NULL) {
			/* exports it when it is a record (has a DeviceID) */
			g_autofree gchar *exported = gw_dbus_inventory_export_device(self, record_uri);
		} else if (gw_dm_tree_lookup(self->tree, entry->uri) == NULL) {
			gw_dbus_inventory_unexport(self, self->devices, path);
		} else {
			gw_dbus_inventory_fill_device(self, entry);
		}
	}
	return G_SOURCE_REMOVE;
}

static void
gw_dbus_inventory_mark_dirty(GwDbusInventory *self, gchar *record_uri)
{
	g_hash_table_add(self->dirty_records, record_uri);
	if (self->dirty_id != 0)
		return;
	self->dirty_id = g_idle_add_full(G_PRIORITY_DEFAULT,
					 gw_dbus_inventory_dirty_cb,
					 g_object_ref(self),
					 g_object_unref);
}

/* ---- following the inventory and the tree ---- */

static void
gw_dbus_inventory_device_attached_cb(GwInventory *inventory,
				     const gchar *record_uri,
				     const gchar *device_id,
				     gboolean is_new,
				     gpointer user_data)
{
	g_autofree gchar *path = gw_dbus_inventory_export_device(GW_DBUS_INVENTORY(user_data),
								  record_uri);
}

static void
gw_dbus_inventory_device_detached_cb(GwInventory *inventory,
				     const gchar *record_uri,
				     const gchar *device_id,
				     gpointer user_data)
{
	g_autofree gchar *path = gw_dbus_inventory_export_device(GW_DBUS_INVENTORY(user_data),
								  record_uri);
}

static void
gw_dbus_inventory_device_removed_cb(GwInventory *inventory,
				    const gchar *record_uri,
				    const gchar *device_id,
				    gpointer user_data)
{
	GwDbusInventory *self = GW_DBUS_INVENTORY(user_data);
	g_autofree gchar *path = gw_dbus_inventory_device_path(record_uri);

	if (path != NULL)
		gw_dbus_inventory_unexport(self, self->devices, path);
}

static void
gw_dbus_inventory_group_changed_cb(GwInventory *inventory,
				   const gchar *group_uri,
				   gpointer user_data)
{
	GwDbusInventory *self = GW_DBUS_INVENTORY(user_data);
	/* exports, refreshes, or (when the group is gone) unexports */
	g_autofree gchar *path = gw_dbus_inventory_export_group(self, group_uri);
	GHashTableIter iter;
	gpointer value;

	/* the members' Groups may have changed with it */
	g_hash_table_iter_init(&iter, self->devices);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		gw_dbus_inventory_fill_device(self, value);
}

static void
gw_dbus_inventory_tree_changed_cb(GwDmTree *tree,
				  const gchar *uri,
				  guint change,
				  const gchar *server_id,
				  gpointer user_data)
{
	GwDbusInventory *self = GW_DBUS_INVENTORY(user_data);
	g_autofree gchar *name = NULL;
	g_autofree gchar *record_uri = NULL;
	g_autofree gchar *path = NULL;
	GwDbusInventoryEntry *entry;
	gboolean exact = FALSE;
	const gchar *rel;

	if (uri == NULL)
		return;
	name = gw_dbus_inventory_split_uri(uri, gw_dbus_inventory_devices_base(), &exact);
	if (name != NULL) {
		gw_dbus_inventory_mark_dirty(
		    self, gw_dbus_inventory_canonical_uri(gw_dbus_inventory_devices_base(), name));
		return;
	}
	name = gw_dbus_inventory_split_uri(uri, gw_dbus_inventory_groups_base(), &exact);
	if (name != NULL) {
		record_uri = gw_dbus_inventory_canonical_uri(gw_dbus_inventory_groups_base(), name);
		path = gw_dbus_inventory_group_path(record_uri);
		entry = g_hash_table_lookup(self->groups, path);
		if (entry == NULL) {
			gw_dbus_inventory_schedule_resync(self);
		} else if (gw_dm_tree_lookup(self->tree, entry->uri) == NULL) {
			gw_dbus_inventory_unexport(self, self->groups, path);
		} else {
			gw_dbus_inventory_fill_group(self, entry);
		}
		return;
	}
	/* a subtree above the records (a rollback of ".", a DM Server deleting Devices …) */
	rel = gw_dbus_inventory_relative(uri);
	if (g_strcmp0(uri, ".") == 0 || rel[0] == '\0' ||
	    g_strcmp0(rel, gw_dbus_inventory_relative(GW_GWMO_ROOT)) == 0 ||
	    g_strcmp0(rel, gw_dbus_inventory_relative(GW_GWMO_INVENTORY)) == 0 ||
	    g_strcmp0(rel, gw_dbus_inventory_devices_base()) == 0 ||
	    g_strcmp0(rel, gw_dbus_inventory_groups_base()) == 0)
		gw_dbus_inventory_schedule_resync(self);
}

/* ---- object ---- */

static void
gw_dbus_inventory_unexport_all(GwDbusInventory *self, GHashTable *table)
{
	g_autoptr(GList) paths = NULL;

	if (table == NULL)
		return;
	paths = g_hash_table_get_keys(table);
	for (GList *l = paths; l != NULL; l = l->next) {
		g_autofree gchar *path = g_strdup(l->data);
		gw_dbus_inventory_unexport(self, table, path);
	}
}

static void
gw_dbus_inventory_dispose(GObject *object)
{
	GwDbusInventory *self = GW_DBUS_INVENTORY(object);

	g_clear_handle_id(&self->resync_id, g_source_remove);
	g_clear_handle_id(&self->dirty_id, g_source_remove);
	if (self->inventory != NULL) {
		g_clear_signal_handler(&self->attached_id, self->inventory);
		g_clear_signal_handler(&self->detached_id, self->inventory);
		g_clear_signal_handler(&self->removed_id, self->inventory);
		g_clear_signal_handler(&self->group_changed_id, self->inventory);
	}
	if (self->tree != NULL)
		g_clear_signal_handler(&self->tree_changed_id, self->tree);
	if (self->object_manager != NULL) {
		gw_dbus_inventory_unexport_all(self, self->devices);
		gw_dbus_inventory_unexport_all(self, self->groups);
	}
	g_clear_pointer(&self->devices, g_hash_table_unref);
	g_clear_pointer(&self->groups, g_hash_table_unref);
	g_clear_pointer(&self->dirty_records, g_hash_table_unref);
	g_clear_object(&self->object_manager);
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
	self->devices = g_hash_table_new_full(g_str_hash,
					      g_str_equal,
					      g_free,
					      (GDestroyNotify)gw_dbus_inventory_entry_free);
	self->groups = g_hash_table_new_full(g_str_hash,
					     g_str_equal,
					     g_free,
					     (GDestroyNotify)gw_dbus_inventory_entry_free);
	self->dirty_records = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

GwDbusInventory *
gw_dbus_inventory_new(GwDaemon *daemon,
		      GDBusObjectManagerServer *object_manager,
		      GwDbusAuthorizeFunc authorize,
		      gpointer authorize_data)
{
	GwDbusInventory *self;

	g_return_val_if_fail(GW_IS_DAEMON(daemon), NULL);
	g_return_val_if_fail(G_IS_DBUS_OBJECT_MANAGER_SERVER(object_manager), NULL);
	g_return_val_if_fail(gw_daemon_get_inventory(daemon) != NULL, NULL);

	self = g_object_new(GW_TYPE_DBUS_INVENTORY, NULL);
	self->daemon = daemon;
	self->inventory = g_object_ref(gw_daemon_get_inventory(daemon));
	self->tree = g_object_ref(gw_daemon_get_tree(daemon));
	self->object_manager = g_object_ref(object_manager);
	self->authorize = authorize;
	self->authorize_data = authorize_data;

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
	self->group_changed_id = g_signal_connect(self->inventory,
						  "group-changed",
						  G_CALLBACK(gw_dbus_inventory_group_changed_cb),
						  self);
	self->tree_changed_id = g_signal_connect(self->tree,
						 "changed",
						 G_CALLBACK(gw_dbus_inventory_tree_changed_cb),
						 self);
	/* every record and group there is, persisted from earlier runs included */
	gw_dbus_inventory_resync(self);
	return self;
}
