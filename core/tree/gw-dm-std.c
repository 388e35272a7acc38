/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwTree"

#include "config.h"

#include <string.h>

#include "gw-dm-tree.h"

/*
 * OMA DM standard objects (DM 1.2 StdObj, DM 1.3 DDFs):
 *  ./DevInfo   Get, permanent, ACL "Get=*"; DevId, Man, Mod, DmV, Lang (chr), Ext/
 *  ./DevDetail Get, permanent, ACL "Get=*"; URI/{MaxDepth,MaxTotLen,MaxSegLen} (chr, decimal),
 *              DevTyp, OEM, FwV, SwV, HwV (chr), LrgObj (bool, as in the DDF)
 *  ./DMAcc     Get|Add, permanent; accounts are added below it by bootstrap or the owner
 * Re-installing (restart after the state was loaded) re-applies access types, permanence and
 * types, keeps existing values, except DevInfo values which always reflect @info. ACLs are only
 * set when a node is created, so ACL changes made by servers survive a restart.
 */

#define GW_DM_STD_MIME "text/plain"

static gboolean
gw_dm_std_interior(GwDmTree *self,
                   const gchar *uri,
                   GwDmAccess access,
                   const gchar *acl,
                   const gchar *ddf_name,
                   GError **error)
{
	gboolean created = gw_dm_tree_lookup(self, uri) == NULL;

	if (!gw_dm_tree_ensure_interior(self, uri, error))
		return FALSE;
	if (!gw_dm_tree_set_properties(self, uri, access, created ? acl : NULL, NULL, error))
		return FALSE;
	if (ddf_name != NULL && !gw_dm_tree_set_mime_type(self, uri, ddf_name, error))
		return FALSE;
	return gw_dm_tree_set_permanent(self, uri, TRUE, error);
}

static gboolean
gw_dm_std_leaf(GwDmTree *self,
               const gchar *uri,
               GwDmFormat format,
               const gchar *value,
               gboolean overwrite,
               GError **error)
{
	GwDmNode *node = gw_dm_tree_lookup(self, uri);
	g_autoptr(GBytes) bytes = NULL;

	if (node == NULL || overwrite || !gw_dm_node_is_leaf(node) ||
	    gw_dm_node_get_format(node) != format) {
		if (node != NULL && !gw_dm_node_is_leaf(node) &&
		    !gw_dm_tree_remove(self, uri, error))
			return FALSE;
		bytes = g_bytes_new(value != NULL ? value : "", value != NULL ? strlen(value) : 0);
		if (!gw_dm_tree_set_leaf(self, uri, format, GW_DM_STD_MIME, bytes, error))
			return FALSE;
	} else if (!gw_dm_tree_set_mime_type(self, uri, GW_DM_STD_MIME, error)) {
		return FALSE;
	}
	if (!gw_dm_tree_set_properties(self, uri, GW_DM_ACCESS_GET, NULL, NULL, error))
		return FALSE;
	return gw_dm_tree_set_permanent(self, uri, TRUE, error);
}

gboolean
gw_dm_tree_install_standard_objects(GwDmTree *self, const GwDmDeviceInfo *info, GError **error)
{
	g_autofree gchar *max_depth = NULL;
	g_autofree gchar *max_tot_len = NULL;
	g_autofree gchar *max_seg_len = NULL;
	const struct {
		const gchar *uri;
		const gchar *value;
	} devinfo[] = {
	    {"./DevInfo/DevId", info->dev_id},
	    {"./DevInfo/Man", info->man},
	    {"./DevInfo/Mod", info->mod},
	    {"./DevInfo/DmV", info->dmv},
	    {"./DevInfo/Lang", info->lang},
	};
	const struct {
		const gchar *uri;
		const gchar *value;
	} devdetail[] = {
	    {"./DevDetail/DevTyp", info->dev_typ},
	    {"./DevDetail/OEM", info->oem},
	    {"./DevDetail/FwV", info->fwv},
	    {"./DevDetail/SwV", info->swv},
	    {"./DevDetail/HwV", info->hwv},
	};

	g_return_val_if_fail(GW_IS_DM_TREE(self), FALSE);
	g_return_val_if_fail(info != NULL, FALSE);

	/* DevInfo: values always reflect @info */
	if (!gw_dm_std_interior(self,
	                        "./DevInfo",
	                        GW_DM_ACCESS_GET,
	                        "Get=*",
	                        "urn:oma:mo:oma-dm-devinfo:1.0",
	                        error))
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(devinfo); i++) {
		if (!gw_dm_std_leaf(
		        self, devinfo[i].uri, GW_DM_FORMAT_CHR, devinfo[i].value, TRUE, error))
			return FALSE;
	}
	if (!gw_dm_std_interior(self, "./DevInfo/Ext", GW_DM_ACCESS_GET, NULL, NULL, error))
		return FALSE;

	/* DevDetail: existing values are kept */
	if (!gw_dm_std_interior(self,
	                        "./DevDetail",
	                        GW_DM_ACCESS_GET,
	                        "Get=*",
	                        "urn:oma:mo:oma-dm-devdetail:1.0",
	                        error))
		return FALSE;
	if (!gw_dm_std_interior(self, "./DevDetail/URI", GW_DM_ACCESS_GET, NULL, NULL, error))
		return FALSE;
	max_depth = g_strdup_printf("%u", info->max_depth);
	max_tot_len = g_strdup_printf("%u", info->max_tot_len);
	max_seg_len = g_strdup_printf("%u", info->max_seg_len);
	if (!gw_dm_std_leaf(
	        self, "./DevDetail/URI/MaxDepth", GW_DM_FORMAT_CHR, max_depth, FALSE, error))
		return FALSE;
	if (!gw_dm_std_leaf(
	        self, "./DevDetail/URI/MaxTotLen", GW_DM_FORMAT_CHR, max_tot_len, FALSE, error))
		return FALSE;
	if (!gw_dm_std_leaf(
	        self, "./DevDetail/URI/MaxSegLen", GW_DM_FORMAT_CHR, max_seg_len, FALSE, error))
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(devdetail); i++) {
		if (!gw_dm_std_leaf(
		        self, devdetail[i].uri, GW_DM_FORMAT_CHR, devdetail[i].value, FALSE, error))
			return FALSE;
	}
	if (!gw_dm_std_leaf(self, "./DevDetail/LrgObj", GW_DM_FORMAT_BOOL, "true", FALSE, error))
		return FALSE;

	/* DMAcc: accounts are added below it */
	if (!gw_dm_std_interior(
	        self, "./DMAcc", GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD, NULL, NULL, error))
		return FALSE;
	return TRUE;
}
