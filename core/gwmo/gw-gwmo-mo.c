/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwMO"

#include "config.h"

#include <string.h>

#include "gw-gwmo-mo.h"

typedef struct {
	const gchar *uri;
	GwDmFormat format;
	GwDmAccess access;
	const gchar *mime_or_urn; /* DDFName for MO roots, MIME type for leaves */
	const gchar *default_value;
} GwMoNodeDef;

#define GET_REPLACE (GW_DM_ACCESS_GET | GW_DM_ACCESS_REPLACE)
#define GET_ADD	    (GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD)
#define GET_ADD_DEL (GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD | GW_DM_ACCESS_DELETE)

/* interior nodes and fixed leaves; per-instance <x> nodes are made by the enabler modules */
static const GwMoNodeDef gwmo_nodes[] = {
    {GW_GWMO_ROOT, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET, NULL, NULL},
    {GW_GWMO_CONFIG, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET, GW_GWMO_CONFIG_URN, NULL},
    {GW_GWMO_CONFIG_GWID, GW_DM_FORMAT_CHR, GW_DM_ACCESS_GET, "text/plain", NULL},
    {GW_GWMO_CONFIG_MODE, GW_DM_FORMAT_INT, GET_REPLACE, "text/plain", NULL},
    {GW_GWMO_CONFIG_SUPPORTED_MODES,
     GW_DM_FORMAT_CHR,
     GW_DM_ACCESS_GET,
     "text/plain",
     GW_GWMO_SUPPORTED_MODES_DEFAULT},
    {GW_GWMO_CONFIG_SERVERS, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET, NULL, NULL},
    {GW_GWMO_CONFIG_BOOTSTRAP, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET, NULL, NULL},
    {GW_GWMO_CONFIG_ED_BOOTSTRAP, GW_DM_FORMAT_BOOL, GET_REPLACE, "text/plain", "false"},
    {GW_GWMO_CONFIG_LAPSE_TIMER, GW_DM_FORMAT_INT, GET_REPLACE, "text/plain", "3600"},
    {GW_GWMO_CONFIG_ADAPTERS, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET, NULL, NULL},
    {GW_GWMO_CONFIG_EXT, GW_DM_FORMAT_NODE, GET_ADD_DEL | GW_DM_ACCESS_REPLACE, NULL, NULL},
    {GW_GWMO_CONFIG_OPERATIONS, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET, NULL, NULL},
    {GW_GWMO_CONFIG_CHECKIN,
     GW_DM_FORMAT_NULL,
     GW_DM_ACCESS_GET | GW_DM_ACCESS_EXEC,
     NULL,
     NULL},
    {GW_GWMO_INVENTORY, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET, GW_GWMO_INVENTORY_URN, NULL},
    {GW_GWMO_INVENTORY_DEVICES, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET, NULL, NULL},
    {GW_GWMO_INVENTORY_GROUPS, GW_DM_FORMAT_NODE, GET_ADD, NULL, NULL},
    {GW_GWMO_INVENTORY_SUMMARY, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET, NULL, NULL},
    {GW_GWMO_FANOUT, GW_DM_FORMAT_NODE, GET_ADD, GW_GWMO_FANOUT_URN, NULL},
    {GW_GWMO_IMAGES, GW_DM_FORMAT_NODE, GET_ADD, GW_GWMO_IMAGES_URN, NULL},
    {GW_GWMO_EDTRIGGER, GW_DM_FORMAT_NODE, GET_ADD, GW_GWMO_EDTRIGGER_URN, NULL},
};

static const gchar *summary_leaves[] =
    {"Total", "Attached", "Detached", "Transparent", "Proxy", "Adaptation"};

static gboolean
install_leaf(GwDmTree *tree,
	     const gchar *uri,
	     GwDmFormat format,
	     const gchar *mime_type,
	     const gchar *value,
	     gboolean keep_existing,
	     GError **error)
{
	g_autoptr(GBytes) bytes = NULL;
	GwDmNode *node = gw_dm_tree_lookup(tree, uri);

	if (node != NULL && keep_existing)
		return TRUE;
	if (value != NULL)
		bytes = g_bytes_new(value, strlen(value));
	return gw_dm_tree_set_leaf(tree, uri, format, mime_type, bytes, error);
}

gboolean
gw_gwmo_install_objects(GwDmTree *tree, const gchar *gw_id, GwGwmoMode default_mode, GError **error)
{
	g_autofree gchar *mode_str = g_strdup_printf("%u", (guint)default_mode);

	g_return_val_if_fail(GW_IS_DM_TREE(tree), FALSE);
	g_return_val_if_fail(gw_id != NULL, FALSE);

	for (guint i = 0; i < G_N_ELEMENTS(gwmo_nodes); i++) {
		const GwMoNodeDef *def = &gwmo_nodes[i];
		if (def->format == GW_DM_FORMAT_NODE) {
			if (!gw_dm_tree_ensure_interior(tree, def->uri, error))
				return FALSE;
			/* an MO root's Type is its DDF identifier */
			if (def->mime_or_urn != NULL &&
			    !gw_dm_tree_set_mime_type(tree, def->uri, def->mime_or_urn, error))
				return FALSE;
		} else {
			if (!install_leaf(tree,
					  def->uri,
					  def->format,
					  def->mime_or_urn,
					  def->default_value,
					  TRUE,
					  error))
				return FALSE;
		}
		if (!gw_dm_tree_set_properties(tree, def->uri, def->access, NULL, NULL, error))
			return FALSE;
		if (!gw_dm_tree_set_permanent(tree, def->uri, TRUE, error))
			return FALSE;
	}

	/* the root of the GwMO MOs is readable by every DM Server; what lies below carries
	 * per-server ACLs set by the enabler (devices, groups, jobs, images) */
	if (!gw_dm_tree_set_properties(tree, GW_GWMO_ROOT, GW_DM_ACCESS_NONE, "Get=*", NULL, error))
		return FALSE;

	/* any DM Server may ask the gateway to check in with a server it has an account for */
	if (!gw_dm_tree_set_properties(tree,
				       GW_GWMO_CONFIG_CHECKIN,
				       GW_DM_ACCESS_NONE,
				       "Exec=*&Get=*",
				       NULL,
				       error))
		return FALSE;

	/* GwID always mirrors DevInfo/DevId */
	if (!install_leaf(tree, GW_GWMO_CONFIG_GWID, GW_DM_FORMAT_CHR, "text/plain", gw_id, FALSE, error))
		return FALSE;
	if (gw_gwmo_get_default_mode(tree) == 0) {
		if (!install_leaf(tree,
				  GW_GWMO_CONFIG_MODE,
				  GW_DM_FORMAT_INT,
				  "text/plain",
				  mode_str,
				  FALSE,
				  error))
			return FALSE;
	}
	for (guint i = 0; i < G_N_ELEMENTS(summary_leaves); i++) {
		g_autofree gchar *uri =
		    g_strdup_printf("%s/%s", GW_GWMO_INVENTORY_SUMMARY, summary_leaves[i]);
		if (!install_leaf(tree, uri, GW_DM_FORMAT_INT, "text/plain", "0", TRUE, error))
			return FALSE;
		if (!gw_dm_tree_set_properties(tree, uri, GW_DM_ACCESS_GET, NULL, NULL, error))
			return FALSE;
		if (!gw_dm_tree_set_permanent(tree, uri, TRUE, error))
			return FALSE;
	}
	return TRUE;
}

guint
gw_gwmo_get_default_mode(GwDmTree *tree)
{
	g_autofree gchar *value = gw_dm_tree_dup_string(tree, GW_GWMO_CONFIG_MODE);
	guint64 mode = 0;

	if (value == NULL)
		return 0;
	if (!g_ascii_string_to_unsigned(value,
					10,
					GW_GWMO_MODE_TRANSPARENT,
					GW_GWMO_MODE_ADAPTATION,
					&mode,
					NULL))
		return 0;
	return (guint)mode;
}
