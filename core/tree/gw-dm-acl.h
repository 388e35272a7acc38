/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-dm-types.h"

G_BEGIN_DECLS

/*
 * An OMA DM ACL: "Add=srv1+srv2&Get=*&Replace=srv1". Commands: Add, Delete, Exec, Get,
 * Replace; "*" means every server. An empty ACL ("") means "inherit from the parent".
 */
typedef struct _GwDmAcl GwDmAcl;

/* parses; "" gives an empty ACL. Unknown commands, empty server ids, stray separators → NULL +
 * GW_ERROR_INVALID_ARGS */
GwDmAcl *
gw_dm_acl_parse(const gchar *text, GError **error);
GwDmAcl *
gw_dm_acl_new(void);
GwDmAcl *
gw_dm_acl_copy(const GwDmAcl *acl);
void
gw_dm_acl_free(GwDmAcl *acl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwDmAcl, gw_dm_acl_free)

/* canonical text: commands in the order Add, Delete, Exec, Get, Replace; servers in insertion
 * order, duplicates removed. NULL stands for the empty ACL here and in gw_dm_acl_is_empty()
 * (a tree node without an ACL of its own has none) */
gchar *
gw_dm_acl_to_string(const GwDmAcl *acl);
gboolean
gw_dm_acl_is_empty(const GwDmAcl *acl);
/* @access is exactly one of ADD, DELETE, EXEC, GET, REPLACE */
gboolean
gw_dm_acl_allows(const GwDmAcl *acl, GwDmAccess access, const gchar *server_id);
void
gw_dm_acl_grant(GwDmAcl *acl, GwDmAccess access, const gchar *server_id);
void
gw_dm_acl_revoke(GwDmAcl *acl, GwDmAccess access, const gchar *server_id);

/* a ServerID that can stand in an ACL as itself: not empty, not "*", no separator */
gboolean
gw_dm_acl_server_id_is_valid(const gchar *server_id);
/* the ACL text of a node a DM Server made and owns alone (GwMO-SECARIZE-001): each command of
 * @rights for @server_id ("Add=s&Delete=s&Get=s&Replace=s"); for the local owner
 * (@server_id NULL) "Get=*", readable by every server */
gchar *
gw_dm_acl_owner_text(const gchar *server_id, GwDmAccess rights);

G_END_DECLS
