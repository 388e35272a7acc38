/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "gw-dm-types.h"

G_BEGIN_DECLS

/*
 * Standard definitions (DDF) the tree enforces (issue 11 §1).
 *
 * The DDFs of the OMA DM standard objects the gateway holds, ./DMAcc, ./DevInfo and ./DevDetail
 * (DM 1.2 StdObj, ../shared/spec/OMA-DM.md §1.2.6), are the gateway's, never those of an
 * imported document: every node created below them takes the format and at most the access
 * types of its DDF node. Upper layers add their own secret-bearing nodes with
 * gw_dm_tree_add_ddf_node() (the inventory's device credentials).
 *
 * Occurrence: a name the DDF does not have below a standard MO root is refused, except below
 * the Ext and Bearer nodes, which the DDF leaves open; unnamed <X> nodes take any name, named
 * ones exist at most once (a tree has one node per name). Required ("One") children are not
 * checked: a DM Server builds an account with one Add per node.
 */

typedef enum {
	GW_DM_DDF_FREE,      /* not described: outside the standard MOs, below Ext or Bearer */
	GW_DM_DDF_DESCRIBED, /* the DDF has this node: its format and access types */
	GW_DM_DDF_UNKNOWN,   /* below a standard MO root, but its DDF has no such node */
} GwDmDdfMatch;

/* the access types a secret keeps: it can be set and removed, never read or copied */
#define GW_DM_DDF_SECRET_ACCESS (GW_DM_ACCESS_ADD | GW_DM_ACCESS_REPLACE | GW_DM_ACCESS_DELETE)

/* the DDF of the standard objects (gw-dm-std.c) for the normalised @uri ("./DMAcc/x/AppID");
 * @format and @access are set when DESCRIBED (@access: the most a node there may have) */
GwDmDdfMatch
gw_dm_std_ddf_match(const gchar *uri, GwDmFormat *format, GwDmAccess *access);

/* TRUE when the normalised @uri matches @pattern (a normalised URI whose "*" segments stand
 * for any one segment) exactly */
gboolean
gw_dm_ddf_pattern_matches(const gchar *pattern, const gchar *uri);

G_END_DECLS
