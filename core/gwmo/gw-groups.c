/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwInventory"

#include "config.h"

#include <string.h>

#include "gw-error.h"
#include "gw-groups.h"
#include "gw-gwmo-names.h"
#include "gw-inventory-private.h"

/*
 * Device groups. The DM tree is the only store; a small cache keeps, per group node name,
 * its GroupID and members, to keep each record's Groups/<n> list in step with the groups.
 */

#define ACCESS_GROUP \
	(GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD | GW_DM_ACCESS_DELETE | GW_DM_ACCESS_REPLACE)
#define ACCESS_MEMBER \
	(GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD | GW_DM_ACCESS_REPLACE | GW_DM_ACCESS_DELETE)

typedef struct {
	gchar *name; /* node name below Groups */
	gchar *group_id;
	GPtrArray *members;     /* (element-type utf8) DeviceIDs, no duplicates, tree order */
	GHashTable *member_set; /* the same DeviceIDs (borrowed), for lookups */
} GwGroup;

static void
gw_group_free(GwGroup *group)
{
	if (group == NULL)
		return;
	g_free(group->name);
	g_free(group->group_id);
	g_hash_table_unref(group->member_set);
	g_ptr_array_unref(group->members);
	g_free(group);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwGroup, gw_group_free)

struct _GwGroups {
	GObject parent_instance;
	GwDmTree *tree;         /* borrowed: the inventory's */
	GwInventory *inventory; /* borrowed: it owns us */
	GwDmOwner *owner;       /* the inventory's: its writes and ours are one */
	GHashTable *groups;     /* node name → GwGroup (owned) */
};

G_DEFINE_FINAL_TYPE(GwGroups, gw_groups, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

static gchar *
gw_groups_uri(const gchar *name)
{
	return g_strdup_printf(GW_GWMO_INVENTORY_GROUPS "/%s", name);
}

/* a group's: its creator's (GwMO-Group-001) */
static gchar *
gw_groups_owner_acl(const gchar *server_id)
{
	return gw_dm_acl_owner_text(server_id,
	                            GW_DM_ACCESS_ADD | GW_DM_ACCESS_DELETE | GW_DM_ACCESS_GET |
	                                GW_DM_ACCESS_REPLACE);
}

/* ---- groups ---- */

/* its GroupID leaf, NULL when missing or empty */
static gchar *
gw_groups_dup_group_id(GwGroups *self, const gchar *group_uri)
{
	g_autofree gchar *uri = g_strdup_printf("%s/" GW_GWMO_GROUP_GROUP_ID, group_uri);
	g_autofree gchar *value = gw_dm_tree_dup_string(self->tree, uri);

	if (value == NULL || value[0] == '\0')
		return NULL;
	return g_steal_pointer(&value);
}

static GwGroup *
gw_groups_load(GwGroups *self, const gchar *name)
{
	g_autofree gchar *uri = gw_groups_uri(name);
	g_autofree gchar *members_uri = g_strdup_printf("%s/" GW_GWMO_GROUP_MEMBERS, uri);
	g_autoptr(GPtrArray) values = NULL;
	GwDmNode *node = gw_dm_tree_lookup(self->tree, uri);
	GwGroup *group;
	gchar *group_id;

	if (node == NULL || gw_dm_node_is_leaf(node))
		return NULL;
	group = g_new0(GwGroup, 1);
	group->name = g_strdup(name);
	group_id = gw_groups_dup_group_id(self, uri);
	group->group_id = group_id != NULL ? group_id : g_strdup(name);
	group->members = g_ptr_array_new_with_free_func(g_free);
	group->member_set = g_hash_table_new(g_str_hash, g_str_equal);
	values = gw_inventory_dup_child_values(self->tree, members_uri, NULL);
	for (guint i = 0; i < values->len; i++) {
		gchar *member = g_ptr_array_index(values, i);
		if (member[0] == '\0' || g_hash_table_contains(group->member_set, member))
			continue;
		member = g_strdup(member);
		g_ptr_array_add(group->members, member);
		g_hash_table_add(group->member_set, member);
	}
	return group;
}

static gboolean
gw_groups_equal(const GwGroup *a, const GwGroup *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (g_strcmp0(a->group_id, b->group_id) != 0 || a->members->len != b->members->len)
		return FALSE;
	for (guint i = 0; i < a->members->len; i++) {
		if (g_strcmp0(g_ptr_array_index(a->members, i), g_ptr_array_index(b->members, i)) !=
		    0)
			return FALSE;
	}
	return TRUE;
}

static gboolean
gw_groups_has_member(const GwGroup *group, const gchar *device_id)
{
	return g_hash_table_contains(group->member_set, device_id);
}

/* (element-type GwGroup) borrowed, in tree order */
static GPtrArray *
gw_groups_sorted(GwGroups *self)
{
	GPtrArray *array = g_ptr_array_new();
	g_auto(GStrv) names = gw_dm_tree_list_children(self->tree, GW_GWMO_INVENTORY_GROUPS);

	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		GwGroup *group = g_hash_table_lookup(self->groups, names[i]);
		if (group != NULL)
			g_ptr_array_add(array, group);
	}
	return array;
}

static GwGroup *
gw_groups_lookup(GwGroups *self, const gchar *group_id)
{
	g_autoptr(GPtrArray) groups = gw_groups_sorted(self);

	for (guint i = 0; i < groups->len; i++) {
		GwGroup *group = g_ptr_array_index(groups, i);
		if (g_strcmp0(group->group_id, group_id) == 0)
			return group;
	}
	return NULL;
}

/* the record's Groups/<n>: the GroupIDs of the groups it is a member of, in group order */
gboolean
gw_groups_sync_record(GwGroups *self,
                      const gchar *device_id,
                      const gchar *record_uri,
                      GError **error)
{
	g_autoptr(GPtrArray) groups = NULL;
	g_autoptr(GPtrArray) wanted = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_GROUPS, record_uri);

	g_return_val_if_fail(GW_IS_GROUPS(self), FALSE);
	groups = gw_groups_sorted(self);
	for (guint i = 0; i < groups->len; i++) {
		GwGroup *group = g_ptr_array_index(groups, i);
		if (gw_groups_has_member(group, device_id) &&
		    !gw_inventory_strv_contains(wanted, group->group_id))
			g_ptr_array_add(wanted, g_strdup(group->group_id));
	}
	return gw_inventory_write_list(self->owner, uri, wanted, ACCESS_GET, error);
}

static void
gw_groups_sync_member(GwGroups *self, const gchar *device_id)
{
	g_autofree gchar *record_uri = gw_inventory_find(self->inventory, device_id);
	g_autoptr(GError) error = NULL;

	if (record_uri == NULL)
		return;
	if (!gw_groups_sync_record(self, device_id, record_uri, &error))
		g_warning("cannot update the groups of %s: %s", device_id, error->message);
}

/* re-reads group @name from the tree; when it changed, updates the Groups lists of the records
 * concerned and emits "group-changed". Returns TRUE when it changed. */
static gboolean
gw_groups_refresh(GwGroups *self, const gchar *name)
{
	g_autoptr(GwGroup) group = gw_groups_load(self, name);
	GwGroup *old = g_hash_table_lookup(self->groups, name);
	g_autoptr(GPtrArray) affected = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *uri = gw_groups_uri(name);
	gboolean all;

	if (gw_groups_equal(old, group))
		return FALSE;
	/* a group made, deleted or renamed concerns every member; else only the members that
	 * came or went */
	all = old == NULL || group == NULL || g_strcmp0(old->group_id, group->group_id) != 0;
	for (guint i = 0; old != NULL && i < old->members->len; i++) {
		const gchar *member = g_ptr_array_index(old->members, i);
		if (all || !gw_groups_has_member(group, member))
			g_ptr_array_add(affected, g_strdup(member));
	}
	for (guint i = 0; group != NULL && i < group->members->len; i++) {
		const gchar *member = g_ptr_array_index(group->members, i);
		if (old == NULL || !gw_groups_has_member(old, member))
			g_ptr_array_add(affected, g_strdup(member));
	}
	if (group != NULL) {
		GwGroup *owned = g_steal_pointer(&group);
		g_hash_table_replace(self->groups, owned->name, owned);
	} else {
		g_hash_table_remove(self->groups, name);
	}
	/* (old is gone now) */
	for (guint i = 0; i < affected->len; i++)
		gw_groups_sync_member(self, g_ptr_array_index(affected, i));
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0, uri);
	return TRUE;
}

/* every group read again; the Groups lists of the records concerned follow */
void
gw_groups_reload(GwGroups *self)
{
	g_auto(GStrv) names = gw_dm_tree_list_children(self->tree, GW_GWMO_INVENTORY_GROUPS);
	g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, self->groups);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (names == NULL || !g_strv_contains((const gchar *const *)names, key))
			g_ptr_array_add(gone, g_strdup(key));
	}
	for (guint i = 0; i < gone->len; i++)
		gw_groups_refresh(self, g_ptr_array_index(gone, i));
	for (guint i = 0; names != NULL && names[i] != NULL; i++)
		gw_groups_refresh(self, names[i]);
}

/* a node added below Groups by a DM command (or by an owner outside the inventory): the group
 * gets the ACL of the server that made it, the nodes the access types of spec §1 */
static void
gw_groups_node_added(GwGroups *self,
                     const gchar *uri,
                     gchar **segs,
                     guint depth,
                     const gchar *server_id)
{
	g_autoptr(GError) error = NULL;
	GwDmNode *node = gw_dm_tree_lookup(self->tree, uri);
	gboolean leaf;
	GwDmAccess access = GW_DM_ACCESS_NONE;
	g_autofree gchar *acl = NULL;

	if (node == NULL)
		return;
	leaf = gw_dm_node_is_leaf(node);
	if (depth == 1) {
		if (!leaf)
			access = ACCESS_GROUP;
		if (!gw_dm_node_has_acl(node) &&
		    (server_id == NULL || gw_dm_acl_server_id_is_valid(server_id)))
			acl = gw_groups_owner_acl(server_id);
	} else if (depth == 2 && leaf &&
	           (g_strcmp0(segs[1], GW_GWMO_GROUP_GROUP_ID) == 0 ||
	            g_strcmp0(segs[1], GW_GWMO_GROUP_DESCRIPTION) == 0)) {
		access = ACCESS_GET_REPLACE;
	} else if (depth == 2 && !leaf && g_strcmp0(segs[1], GW_GWMO_GROUP_MEMBERS) == 0) {
		access = ACCESS_GET_ADD;
	} else if (depth == 3 && leaf && g_strcmp0(segs[1], GW_GWMO_GROUP_MEMBERS) == 0) {
		access = ACCESS_MEMBER;
	}
	if (access == GW_DM_ACCESS_NONE && acl == NULL)
		return;
	if (!gw_dm_owner_set_properties(self->owner, uri, access, acl, &error))
		g_warning("cannot set the properties of %s: %s", uri, error->message);
}

/* ---- groups API ---- */

static gboolean
gw_groups_validate_id(const gchar *group_id, GError **error)
{
	if (group_id != NULL && group_id[0] != '\0' &&
	    gw_inventory_text_is_valid(group_id, GW_INVENTORY_MAX_ID_LEN))
		return TRUE;
	g_set_error_literal(error,
	                    GW_ERROR,
	                    GW_ERROR_INVALID_ARGS,
	                    "a GroupID is non-empty UTF-8 of at most 255 bytes");
	return FALSE;
}

static GwGroup *
gw_groups_find_or_error(GwGroups *self, const gchar *group_id, GError **error)
{
	GwGroup *group;

	if (!gw_groups_validate_id(group_id, error))
		return NULL;
	group = gw_groups_lookup(self, group_id);
	if (group == NULL)
		g_set_error(error, GW_ERROR, GW_ERROR_NOT_FOUND, "no group %s", group_id);
	return group;
}

/* the next free integer name among the children of @uri */
static gchar *
gw_groups_next_child_number(GwGroups *self, const gchar *uri)
{
	g_auto(GStrv) names = gw_dm_tree_list_children(self->tree, uri);
	guint64 max = 0;

	for (guint i = 0; names != NULL && names[i] != NULL; i++)
		max = MAX(max, gw_inventory_name_number(names[i]));
	return g_strdup_printf("%" G_GUINT64_FORMAT, max + 1);
}

static gboolean
gw_groups_write_group(GwGroups *self,
                      const gchar *uri,
                      const gchar *group_id,
                      const gchar *description,
                      const gchar *acl,
                      GError **error)
{
	g_autofree gchar *id_uri = g_strdup_printf("%s/" GW_GWMO_GROUP_GROUP_ID, uri);
	g_autofree gchar *desc_uri = g_strdup_printf("%s/" GW_GWMO_GROUP_DESCRIPTION, uri);
	g_autofree gchar *members_uri = g_strdup_printf("%s/" GW_GWMO_GROUP_MEMBERS, uri);

	return gw_dm_owner_ensure_interior(self->owner, uri, ACCESS_GROUP, acl, error) &&
	       gw_inventory_owner_set_leaf(
	           self->owner, id_uri, GW_DM_FORMAT_CHR, group_id, ACCESS_GET_REPLACE, error) &&
	       gw_inventory_owner_set_leaf(self->owner,
	                                   desc_uri,
	                                   GW_DM_FORMAT_CHR,
	                                   description,
	                                   ACCESS_GET_REPLACE,
	                                   error) &&
	       gw_dm_owner_ensure_interior(self->owner, members_uri, ACCESS_GET_ADD, NULL, error);
}

gchar *
gw_groups_create(GwGroups *self,
                 const gchar *group_id,
                 const gchar *description,
                 const gchar *owner_server_id,
                 GError **error)
{
	g_autofree gchar *name = NULL;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *acl = NULL;

	g_return_val_if_fail(GW_IS_GROUPS(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!gw_groups_validate_id(group_id, error) ||
	    !gw_inventory_validate_text(
	        "Description", description, GW_INVENTORY_MAX_VALUE_LEN, error))
		return NULL;
	if (owner_server_id != NULL && !gw_dm_acl_server_id_is_valid(owner_server_id)) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "invalid ServerID");
		return NULL;
	}
	if (gw_groups_lookup(self, group_id) != NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_ALREADY_EXISTS, "group %s exists", group_id);
		return NULL;
	}
	/* the GroupID itself when it is a safe node name still free, else a number */
	if (gw_inventory_name_is_safe(group_id)) {
		uri = gw_groups_uri(group_id);
		if (gw_dm_tree_lookup(self->tree, uri) == NULL)
			name = g_strdup(group_id);
		else
			g_clear_pointer(&uri, g_free);
	}
	if (name == NULL) {
		name = gw_groups_next_child_number(self, GW_GWMO_INVENTORY_GROUPS);
		uri = gw_groups_uri(name);
	}
	acl = gw_groups_owner_acl(owner_server_id);
	if (!gw_groups_write_group(self, uri, group_id, description, acl, error)) {
		g_autoptr(GError) error_local = NULL;
		if (gw_dm_tree_lookup(self->tree, uri) != NULL &&
		    !gw_dm_owner_remove(self->owner, uri, &error_local))
			g_warning(
			    "cannot remove the partial group %s: %s", uri, error_local->message);
		return NULL;
	}
	gw_groups_refresh(self, name);
	return g_steal_pointer(&uri);
}

gboolean
gw_groups_delete(GwGroups *self, const gchar *group_id, GError **error)
{
	GwGroup *group;
	g_autofree gchar *name = NULL;
	g_autofree gchar *uri = NULL;

	g_return_val_if_fail(GW_IS_GROUPS(self), FALSE);

	group = gw_groups_find_or_error(self, group_id, error);
	if (group == NULL)
		return FALSE;
	name = g_strdup(group->name);
	uri = gw_groups_uri(name);
	if (!gw_dm_owner_remove(self->owner, uri, error))
		return FALSE;
	gw_groups_refresh(self, name);
	return TRUE;
}

gboolean
gw_groups_add_member(GwGroups *self, const gchar *group_id, const gchar *device_id, GError **error)
{
	GwGroup *group;
	g_autofree gchar *name = NULL;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *members_uri = NULL;
	g_autofree gchar *member = NULL;
	g_autofree gchar *leaf = NULL;

	g_return_val_if_fail(GW_IS_GROUPS(self), FALSE);

	if (!gw_inventory_validate_device_id(device_id, error))
		return FALSE;
	group = gw_groups_find_or_error(self, group_id, error);
	if (group == NULL)
		return FALSE;
	if (gw_groups_has_member(group, device_id))
		return TRUE;
	name = g_strdup(group->name);
	uri = gw_groups_uri(name);
	members_uri = g_strdup_printf("%s/" GW_GWMO_GROUP_MEMBERS, uri);
	if (!gw_dm_owner_ensure_interior(self->owner, members_uri, ACCESS_GET_ADD, NULL, error))
		return FALSE;
	member = gw_groups_next_child_number(self, members_uri);
	leaf = g_strdup_printf("%s/%s", members_uri, member);
	if (!gw_inventory_owner_set_leaf(
	        self->owner, leaf, GW_DM_FORMAT_CHR, device_id, ACCESS_MEMBER, error))
		return FALSE;
	gw_groups_refresh(self, name);
	return TRUE;
}

gboolean
gw_groups_remove_member(GwGroups *self,
                        const gchar *group_id,
                        const gchar *device_id,
                        GError **error)
{
	GwGroup *group;
	g_autofree gchar *name = NULL;
	g_autofree gchar *members_uri = NULL;
	g_autoptr(GPtrArray) doomed = g_ptr_array_new_with_free_func(g_free);
	GwDmNode *members;

	g_return_val_if_fail(GW_IS_GROUPS(self), FALSE);

	if (!gw_inventory_validate_device_id(device_id, error))
		return FALSE;
	group = gw_groups_find_or_error(self, group_id, error);
	if (group == NULL)
		return FALSE;
	name = g_strdup(group->name);
	{
		g_autofree gchar *uri = gw_groups_uri(name);
		members_uri = g_strdup_printf("%s/" GW_GWMO_GROUP_MEMBERS, uri);
	}
	members = gw_dm_tree_lookup(self->tree, members_uri);
	if (members != NULL && !gw_dm_node_is_leaf(members)) {
		GPtrArray *children = gw_dm_node_get_children(members);
		for (guint i = 0; i < children->len; i++) {
			GwDmNode *child = g_ptr_array_index(children, i);
			g_autofree gchar *value = gw_inventory_node_dup_value(child);
			if (g_strcmp0(value, device_id) == 0)
				g_ptr_array_add(doomed, gw_dm_node_dup_uri(child));
		}
	}
	if (doomed->len == 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NOT_FOUND,
		            "%s is not a member of %s",
		            device_id,
		            group_id);
		return FALSE;
	}
	for (guint i = 0; i < doomed->len; i++) {
		if (!gw_dm_owner_remove(self->owner, g_ptr_array_index(doomed, i), error)) {
			gw_groups_refresh(self, name);
			return FALSE;
		}
	}
	gw_groups_refresh(self, name);
	return TRUE;
}

gchar *
gw_groups_find(GwGroups *self, const gchar *group_id)
{
	GwGroup *group;

	g_return_val_if_fail(GW_IS_GROUPS(self), NULL);

	if (group_id == NULL)
		return NULL;
	group = gw_groups_lookup(self, group_id);
	return group != NULL ? gw_groups_uri(group->name) : NULL;
}

GPtrArray *
gw_groups_list(GwGroups *self)
{
	g_autoptr(GPtrArray) groups = NULL;
	GPtrArray *uris;

	g_return_val_if_fail(GW_IS_GROUPS(self), NULL);

	groups = gw_groups_sorted(self);
	uris = g_ptr_array_new_full(groups->len, g_free);
	for (guint i = 0; i < groups->len; i++) {
		GwGroup *group = g_ptr_array_index(groups, i);
		g_ptr_array_add(uris, gw_groups_uri(group->name));
	}
	return uris;
}

gchar **
gw_groups_members(GwGroups *self, const gchar *group_id)
{
	GwGroup *group;
	GStrvBuilder *builder;
	gchar **members;

	g_return_val_if_fail(GW_IS_GROUPS(self), NULL);

	if (group_id == NULL)
		return NULL;
	group = gw_groups_lookup(self, group_id);
	if (group == NULL)
		return NULL;
	builder = g_strv_builder_new();
	for (guint i = 0; i < group->members->len; i++)
		g_strv_builder_add(builder, g_ptr_array_index(group->members, i));
	members = g_strv_builder_end(builder);
	g_strv_builder_unref(builder);
	return members;
}

void
gw_groups_tree_changed(GwGroups *self, const gchar *uri, GwDmChange change, const gchar *server_id)
{
	const gchar *rel;
	g_auto(GStrv) segs = NULL;
	guint depth;

	g_return_if_fail(GW_IS_GROUPS(self));
	if (!gw_dm_uri_is_below(uri, GW_GWMO_INVENTORY_GROUPS) ||
	    g_strcmp0(uri, GW_GWMO_INVENTORY_GROUPS) == 0)
		return;
	rel = uri + strlen(GW_GWMO_INVENTORY_GROUPS) + 1;
	segs = g_strsplit(rel, "/", 4);
	depth = g_strv_length(segs);
	if (depth == 0)
		return;
	if (change == GW_DM_CHANGE_ADDED)
		gw_groups_node_added(self, uri, segs, depth, server_id);
	gw_groups_refresh(self, segs[0]);
}

/* ---- GObject ---- */

static void
gw_groups_finalize(GObject *object)
{
	GwGroups *self = GW_GROUPS(object);
	g_hash_table_unref(self->groups);
	G_OBJECT_CLASS(gw_groups_parent_class)->finalize(object);
}

static void
gw_groups_class_init(GwGroupsClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = gw_groups_finalize;
	signals[SIGNAL_CHANGED] = g_signal_new("group-changed",
	                                       G_TYPE_FROM_CLASS(klass),
	                                       G_SIGNAL_RUN_LAST,
	                                       0,
	                                       NULL,
	                                       NULL,
	                                       NULL,
	                                       G_TYPE_NONE,
	                                       1,
	                                       G_TYPE_STRING);
}

static void
gw_groups_init(GwGroups *self)
{
	self->groups =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)gw_group_free);
}

GwGroups *
gw_groups_new(GwDmTree *tree, GwInventory *inventory, GwDmOwner *owner)
{
	GwGroups *self;
	g_auto(GStrv) names = NULL;

	g_return_val_if_fail(GW_IS_DM_TREE(tree), NULL);
	self = g_object_new(GW_TYPE_GROUPS, NULL);
	self->tree = tree;
	self->inventory = inventory;
	self->owner = owner;
	/* reading only: the records' Groups lists are brought in step by gw_inventory_start() */
	names = gw_dm_tree_list_children(tree, GW_GWMO_INVENTORY_GROUPS);
	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		GwGroup *group = gw_groups_load(self, names[i]);
		if (group != NULL)
			g_hash_table_replace(self->groups, group->name, group);
	}
	return self;
}
