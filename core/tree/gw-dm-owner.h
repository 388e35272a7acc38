/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-dm-tree.h"

G_BEGIN_DECLS

/*
 * The writes of a module that owns a part of the tree and also watches it (the inventory,
 * fan-out, the image store, EDTrigger): made as the local owner (ACLs do not apply, DDF access
 * types do), each node with the access types (and ACL) the module gives it, and marked while
 * they run, so that the module's "changed" handler tells them from what DM Servers do
 * (gw_dm_owner_is_writing()). Embed one per module; it borrows the tree.
 */
typedef struct {
	GwDmTree *tree;
	guint writing;
} GwDmOwner;

void
gw_dm_owner_init(GwDmOwner *owner, GwDmTree *tree);
/* TRUE while a write of @owner runs (its own "changed" signals) */
gboolean
gw_dm_owner_is_writing(const GwDmOwner *owner);

/* a leaf holding @value (NULL: no value), of @format and @mime_type (NULL keeps the node's),
 * with @access (GW_DM_ACCESS_NONE keeps) */
gboolean
gw_dm_owner_set_leaf(GwDmOwner *owner,
                     const gchar *uri,
                     GwDmFormat format,
                     const gchar *mime_type,
                     const gchar *value,
                     GwDmAccess access,
                     GError **error);
/* an interior node (made with its missing ancestors) with @access and @acl (NULL keeps) */
gboolean
gw_dm_owner_ensure_interior(GwDmOwner *owner,
                            const gchar *uri,
                            GwDmAccess access,
                            const gchar *acl,
                            GError **error);
/* @access (GW_DM_ACCESS_NONE keeps) and @acl (NULL keeps, "" clears) of an existing node */
gboolean
gw_dm_owner_set_properties(GwDmOwner *owner,
                           const gchar *uri,
                           GwDmAccess access,
                           const gchar *acl,
                           GError **error);
gboolean
gw_dm_owner_remove(GwDmOwner *owner, const gchar *uri, GError **error);

G_END_DECLS
