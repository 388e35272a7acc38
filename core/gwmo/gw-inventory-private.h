/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-dm-owner.h"
#include "gw-inventory.h"

G_BEGIN_DECLS

/* What the inventory (gw-inventory.c) and its groups (gw-groups.c) share; not for others. */

#define GW_INVENTORY_MIME "text/plain"
#define GW_INVENTORY_MAX_ID_LEN 255
#define GW_INVENTORY_MAX_VALUE_LEN 2048
#define GW_INVENTORY_MAX_NAME_LEN 64
/* DM Servers a device may name in its registration */
#define GW_INVENTORY_MAX_SERVER_IDS 16

#define ACCESS_GET GW_DM_ACCESS_GET
#define ACCESS_GET_REPLACE (GW_DM_ACCESS_GET | GW_DM_ACCESS_REPLACE)
#define ACCESS_GET_ADD (GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD)

/* UTF-8 that an XML document can carry, at most @max_len bytes */
gboolean
gw_inventory_text_is_valid(const gchar *text, gsize max_len);
/* a node name made of [A-Za-z0-9._-], at most 64 bytes, not "." or ".." */
gboolean
gw_inventory_name_is_safe(const gchar *name);
/* the name as a number (1 …), 0 when it is not one */
guint64
gw_inventory_name_number(const gchar *name);
/* GW_ERROR_INVALID_ARGS naming @what when @value (nullable) is not valid text */
gboolean
gw_inventory_validate_text(const gchar *what, const gchar *value, gsize max_len, GError **error);
gboolean
gw_inventory_validate_device_id(const gchar *device_id, GError **error);
/* a leaf's value as a string ("" without value), NULL for an interior node */
gchar *
gw_inventory_node_dup_value(GwDmNode *node);
/* (element-type utf8) values of the leaf children of @uri, in order; interior children are
 * skipped; *@n_children (optional) counts every child */
GPtrArray *
gw_inventory_dup_child_values(GwDmTree *tree, const gchar *uri, guint *n_children);
gboolean
gw_inventory_strv_contains(GPtrArray *array, const gchar *value);
/* a text/plain leaf (NULL: "") written by @owner */
gboolean
gw_inventory_owner_set_leaf(GwDmOwner *owner,
                            const gchar *uri,
                            GwDmFormat format,
                            const gchar *value,
                            GwDmAccess access,
                            GError **error);
/* makes the leaves below @uri exactly @values (names 1..n, chr); an unchanged list is not
 * rewritten */
gboolean
gw_inventory_write_list(GwDmOwner *owner,
                        const gchar *uri,
                        GPtrArray *values,
                        GwDmAccess leaf_access,
                        GError **error);

G_END_DECLS
