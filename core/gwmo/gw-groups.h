/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-dm-owner.h"
#include "gw-dm-tree.h"

G_BEGIN_DECLS

typedef struct _GwInventory GwInventory;

/*
 * Device groups (./GwMO/Inventory/Groups/<x>, GwMO-Group-001), a part of the Device Inventory:
 * each group has GroupID, Description and Members/<n> (DeviceIDs), and each member's record
 * lists the GroupIDs of its groups in Groups/<n>, kept in step here. A group made by a DM
 * Server (its DM Add) carries that server's ACL (Add/Delete/Get/Replace for it alone); groups
 * made over D-Bus (@owner_server_id NULL) are "Get=*".
 *
 * Group node names: a group made through the API is stored under its GroupID when that is a
 * safe node name ([A-Za-z0-9._-], at most 64 bytes, not "." or "..") not used yet, else under
 * the next free integer. A group added by a DM Server has the name the server chose; its
 * GroupID is its GroupID leaf, or the node name while that leaf is missing or empty.
 *
 * The inventory makes it (gw_inventory_get_groups()) and tells it what changes: the tree
 * below Groups (gw_groups_tree_changed()), a record written (gw_groups_sync_record()), a
 * rollback (gw_groups_reload()). Its writes are the inventory's own (the same GwDmOwner).
 *
 * Signals: "group-changed" (const gchar *group_uri): created, deleted, members changed.
 */

#define GW_TYPE_GROUPS (gw_groups_get_type())
G_DECLARE_FINAL_TYPE(GwGroups, gw_groups, GW, GROUPS, GObject)

/* reads the groups from @tree; @inventory and @owner are borrowed (the inventory owns both) */
GwGroups *
gw_groups_new(GwDmTree *tree, GwInventory *inventory, GwDmOwner *owner);

/* groups API; @owner_server_id NULL = the local owner (D-Bus) */
gchar *
gw_groups_create(GwGroups *self,
                 const gchar *group_id,
                 const gchar *description,
                 const gchar *owner_server_id,
                 GError **error);
gboolean
gw_groups_delete(GwGroups *self, const gchar *group_id, GError **error);
gboolean
gw_groups_add_member(GwGroups *self, const gchar *group_id, const gchar *device_id, GError **error);
gboolean
gw_groups_remove_member(GwGroups *self,
                        const gchar *group_id,
                        const gchar *device_id,
                        GError **error);
/* group URI of a GroupID, or NULL */
gchar *
gw_groups_find(GwGroups *self, const gchar *group_id);
/* (element-type utf8) group URIs */
GPtrArray *
gw_groups_list(GwGroups *self);
/* DeviceIDs of a group's members */
gchar **
gw_groups_members(GwGroups *self, const gchar *group_id);

/* for the inventory: a record was written (@record_uri of @device_id): its Groups/<n> */
gboolean
gw_groups_sync_record(GwGroups *self,
                      const gchar *device_id,
                      const gchar *record_uri,
                      GError **error);
/* every group read again (a rollback); "group-changed" for those that changed */
void
gw_groups_reload(GwGroups *self);
/* a change below ./GwMO/Inventory/Groups by somebody else than the inventory */
void
gw_groups_tree_changed(GwGroups *self, const gchar *uri, GwDmChange change, const gchar *server_id);

G_END_DECLS
