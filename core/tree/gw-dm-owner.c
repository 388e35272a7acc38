/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDmTree"

#include "config.h"

#include <string.h>

#include "gw-dm-owner.h"

void
gw_dm_owner_init(GwDmOwner *owner, GwDmTree *tree)
{
	g_return_if_fail(owner != NULL);
	owner->tree = tree;
	owner->writing = 0;
}

gboolean
gw_dm_owner_is_writing(const GwDmOwner *owner)
{
	return owner->writing > 0;
}

gboolean
gw_dm_owner_set_leaf(GwDmOwner *owner,
                     const gchar *uri,
                     GwDmFormat format,
                     const gchar *mime_type,
                     const gchar *value,
                     GwDmAccess access,
                     GError **error)
{
	g_autoptr(GBytes) bytes = value != NULL ? g_bytes_new(value, strlen(value)) : NULL;
	gboolean ok;

	owner->writing++;
	ok = gw_dm_tree_set_leaf(owner->tree, uri, format, mime_type, bytes, error) &&
	     gw_dm_tree_set_properties(owner->tree, uri, access, NULL, NULL, error);
	owner->writing--;
	return ok;
}

gboolean
gw_dm_owner_ensure_interior(GwDmOwner *owner,
                            const gchar *uri,
                            GwDmAccess access,
                            const gchar *acl,
                            GError **error)
{
	gboolean ok;

	owner->writing++;
	ok = gw_dm_tree_ensure_interior(owner->tree, uri, error) &&
	     gw_dm_tree_set_properties(owner->tree, uri, access, acl, NULL, error);
	owner->writing--;
	return ok;
}

gboolean
gw_dm_owner_set_properties(GwDmOwner *owner,
                           const gchar *uri,
                           GwDmAccess access,
                           const gchar *acl,
                           GError **error)
{
	gboolean ok;

	owner->writing++;
	ok = gw_dm_tree_set_properties(owner->tree, uri, access, acl, NULL, error);
	owner->writing--;
	return ok;
}

gboolean
gw_dm_owner_remove(GwDmOwner *owner, const gchar *uri, GError **error)
{
	gboolean ok;

	owner->writing++;
	ok = gw_dm_tree_remove(owner->tree, uri, error);
	owner->writing--;
	return ok;
}
