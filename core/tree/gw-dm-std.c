/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwTree"

#include "config.h"

#include <string.h>

#include "gw-dm-ddf.h"
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
 * Their DDF (gw_dm_std_ddf below) is what the tree enforces for every node of them
 * (gw-dm-ddf.h).
 */

#define GW_DM_STD_MIME "text/plain"

/* ---- the DDF of the standard objects ---- */

/* DMAcc nodes other than the secrets: anything but Exec (the DDF gives Get as the minimum;
 * servers replace addresses and names and delete accounts) */
#define GW_DM_DDF_DMACC (GW_DM_ACCESS_ALL & ~GW_DM_ACCESS_EXEC)
/* DevInfo, DevDetail: read only, for the owner too (SetNode and bootstrap alike) */
#define GW_DM_DDF_READ GW_DM_ACCESS_GET

typedef struct {
	const gchar *path; /* below "./", "*" for an unnamed <X> segment */
	GwDmFormat format;
	GwDmAccess access; /* the most a node there may have */
	gboolean open;     /* Ext, Bearer: what is below is not described */
} GwDmDdfNode;

/*
 * DM 1.2 StdObj (../shared/spec/OMA-DM.md §1.2.6): DMAcc (urn:oma:mo:oma-dm-dmacc:1.0),
 * DevInfo (urn:oma:mo:oma-dm-devinfo:1.0), DevDetail (urn:oma:mo:oma-dm-devdetail:1.0).
 * AAuthSecret and AAuthData are "No Get": GW_DM_DDF_SECRET_ACCESS.
 */
static const GwDmDdfNode gw_dm_std_ddf[] = {
    {"DMAcc", GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD | GW_DM_ACCESS_REPLACE, FALSE},
    {"DMAcc/*", GW_DM_FORMAT_NODE, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/AppID", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/ServerID", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/Name", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/PrefConRef", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/ToConRef", GW_DM_FORMAT_NODE, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/ToConRef/*", GW_DM_FORMAT_NODE, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/ToConRef/*/ConRef", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/AppAddr", GW_DM_FORMAT_NODE, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/AppAddr/*", GW_DM_FORMAT_NODE, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/AppAddr/*/Addr", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/AppAddr/*/AddrType", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/AppAddr/*/Port", GW_DM_FORMAT_NODE, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/AppAddr/*/Port/*", GW_DM_FORMAT_NODE, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/AppAddr/*/Port/*/PortNbr", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/AAuthPref", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/AppAuth", GW_DM_FORMAT_NODE, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/AppAuth/*", GW_DM_FORMAT_NODE, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/AppAuth/*/AAuthLevel", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/AppAuth/*/AAuthType", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/AppAuth/*/AAuthName", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/AppAuth/*/AAuthSecret", GW_DM_FORMAT_CHR, GW_DM_DDF_SECRET_ACCESS, FALSE},
    {"DMAcc/*/AppAuth/*/AAuthData", GW_DM_FORMAT_BIN, GW_DM_DDF_SECRET_ACCESS, FALSE},
    {"DMAcc/*/Ext", GW_DM_FORMAT_NODE, GW_DM_DDF_DMACC, TRUE},
    /* DMAcc 2.0 (OMA-TS-DM_Protocol-V2_0 §11.2 "DM Account Management Object", as the public
     * transcription ../shared/spec/OMA-DM.md §1.3 cites gives it; Name and Ext are shared with
     * DM 1.x above). Its "No Get" nodes, and Auth/Noti/Secret (the Package #0 server secret,
     * "Get" in the transcription: a secret here like AAuthSecret), are
     * GW_DM_DDF_SECRET_ACCESS. */
    {"DMAcc/*/SrvID", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/SrvURI", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/Perm", GW_DM_FORMAT_NODE, GW_DM_DDF_SECRET_ACCESS, FALSE},
    {"DMAcc/*/Perm/*", GW_DM_FORMAT_NODE, GW_DM_DDF_SECRET_ACCESS, FALSE},
    {"DMAcc/*/Perm/*/MOID", GW_DM_FORMAT_CHR, GW_DM_DDF_SECRET_ACCESS, FALSE},
    {"DMAcc/*/Auth", GW_DM_FORMAT_NODE, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/Auth/Bootstrap", GW_DM_FORMAT_NODE, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/Auth/Bootstrap/ServerURI", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/Auth/Bootstrap/SecMode", GW_DM_FORMAT_BIN, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/Auth/Bootstrap/ClientPubKey", GW_DM_FORMAT_BIN, GW_DM_DDF_SECRET_ACCESS, FALSE},
    {"DMAcc/*/Auth/Bootstrap/ServerPubKey", GW_DM_FORMAT_BIN, GW_DM_DDF_SECRET_ACCESS, FALSE},
    {"DMAcc/*/Auth/Bootstrap/ClientSecretKey", GW_DM_FORMAT_BIN, GW_DM_DDF_SECRET_ACCESS, FALSE},
    {"DMAcc/*/Auth/Noti", GW_DM_FORMAT_NODE, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/Auth/Noti/Type", GW_DM_FORMAT_INT, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/Auth/Noti/Data", GW_DM_FORMAT_BIN, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/Auth/Noti/Secret", GW_DM_FORMAT_BIN, GW_DM_DDF_SECRET_ACCESS, FALSE},
    {"DMAcc/*/Auth/Trsp", GW_DM_FORMAT_NODE, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/Auth/Trsp/Data", GW_DM_FORMAT_BIN, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/Auth/Trsp/Secret", GW_DM_FORMAT_BIN, GW_DM_DDF_SECRET_ACCESS, FALSE},
    {"DMAcc/*/Push", GW_DM_FORMAT_NODE, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/Push/GCM", GW_DM_FORMAT_NODE, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/Push/GCM/SenderID", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/Push/GCM/RegURI", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/Push/GCM/UnRegURI", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/Push/GCM/RegParams", GW_DM_FORMAT_CHR, GW_DM_DDF_DMACC, FALSE},
    {"DMAcc/*/Push/GCM/Ext", GW_DM_FORMAT_NODE, GW_DM_DDF_DMACC, TRUE},
    {"DMAcc/*/Push/Ext", GW_DM_FORMAT_NODE, GW_DM_DDF_DMACC, TRUE},

    {"DevInfo", GW_DM_FORMAT_NODE, GW_DM_DDF_READ, FALSE},
    {"DevInfo/DevId", GW_DM_FORMAT_CHR, GW_DM_DDF_READ, FALSE},
    {"DevInfo/Man", GW_DM_FORMAT_CHR, GW_DM_DDF_READ, FALSE},
    {"DevInfo/Mod", GW_DM_FORMAT_CHR, GW_DM_DDF_READ, FALSE},
    {"DevInfo/DmV", GW_DM_FORMAT_CHR, GW_DM_DDF_READ, FALSE},
    {"DevInfo/Lang", GW_DM_FORMAT_CHR, GW_DM_DDF_READ, FALSE},
    {"DevInfo/Bearer", GW_DM_FORMAT_NODE, GW_DM_DDF_READ, TRUE},
    {"DevInfo/Ext", GW_DM_FORMAT_NODE, GW_DM_DDF_READ, TRUE},

    {"DevDetail", GW_DM_FORMAT_NODE, GW_DM_DDF_READ, FALSE},
    {"DevDetail/URI", GW_DM_FORMAT_NODE, GW_DM_DDF_READ, FALSE},
    {"DevDetail/URI/MaxDepth", GW_DM_FORMAT_CHR, GW_DM_DDF_READ, FALSE},
    {"DevDetail/URI/MaxTotLen", GW_DM_FORMAT_CHR, GW_DM_DDF_READ, FALSE},
    {"DevDetail/URI/MaxSegLen", GW_DM_FORMAT_CHR, GW_DM_DDF_READ, FALSE},
    {"DevDetail/DevTyp", GW_DM_FORMAT_CHR, GW_DM_DDF_READ, FALSE},
    {"DevDetail/OEM", GW_DM_FORMAT_CHR, GW_DM_DDF_READ, FALSE},
    {"DevDetail/FwV", GW_DM_FORMAT_CHR, GW_DM_DDF_READ, FALSE},
    {"DevDetail/SwV", GW_DM_FORMAT_CHR, GW_DM_DDF_READ, FALSE},
    {"DevDetail/HwV", GW_DM_FORMAT_CHR, GW_DM_DDF_READ, FALSE},
    {"DevDetail/LrgObj", GW_DM_FORMAT_BOOL, GW_DM_DDF_READ, FALSE},
    {"DevDetail/Bearer", GW_DM_FORMAT_NODE, GW_DM_DDF_READ, TRUE},
    {"DevDetail/Ext", GW_DM_FORMAT_NODE, GW_DM_DDF_READ, TRUE},
};

typedef enum {
	GW_DM_DDF_PATH_NONE,
	GW_DM_DDF_PATH_EXACT,
	GW_DM_DDF_PATH_BELOW, /* @path is below the node @pattern names */
} GwDmDdfPath;

/* @pattern and @path without "./"; "*" in @pattern matches one segment */
static GwDmDdfPath
gw_dm_ddf_path_match(const gchar *pattern, const gchar *path)
{
	const gchar *p = pattern;
	const gchar *s = path;

	for (;;) {
		const gchar *pe = strchr(p, '/');
		const gchar *se = strchr(s, '/');
		gsize plen = pe != NULL ? (gsize)(pe - p) : strlen(p);
		gsize slen = se != NULL ? (gsize)(se - s) : strlen(s);

		if (slen == 0)
			return GW_DM_DDF_PATH_NONE;
		if (!(plen == 1 && p[0] == '*') && (plen != slen || memcmp(p, s, plen) != 0))
			return GW_DM_DDF_PATH_NONE;
		if (pe == NULL)
			return se == NULL ? GW_DM_DDF_PATH_EXACT : GW_DM_DDF_PATH_BELOW;
		if (se == NULL)
			return GW_DM_DDF_PATH_NONE;
		p = pe + 1;
		s = se + 1;
	}
}

static const gchar *
gw_dm_ddf_strip(const gchar *uri)
{
	if (g_str_has_prefix(uri, "./"))
		return uri + 2;
	return strcmp(uri, ".") == 0 ? "" : uri;
}

gboolean
gw_dm_ddf_pattern_matches(const gchar *pattern, const gchar *uri)
{
	const gchar *path = gw_dm_ddf_strip(uri);

	return path[0] != '\0' &&
	       gw_dm_ddf_path_match(gw_dm_ddf_strip(pattern), path) == GW_DM_DDF_PATH_EXACT;
}

GwDmDdfMatch
gw_dm_std_ddf_match(const gchar *uri, GwDmFormat *format, GwDmAccess *access)
{
	const gchar *path = gw_dm_ddf_strip(uri);
	gsize root_len = strcspn(path, "/");

	/* the hot path: most nodes are not below a standard MO */
	if (!((root_len == 5 && memcmp(path, "DMAcc", 5) == 0) ||
	      (root_len == 7 && memcmp(path, "DevInfo", 7) == 0) ||
	      (root_len == 9 && memcmp(path, "DevDetail", 9) == 0)))
		return GW_DM_DDF_FREE;
	for (guint i = 0; i < G_N_ELEMENTS(gw_dm_std_ddf); i++) {
		GwDmDdfPath m = gw_dm_ddf_path_match(gw_dm_std_ddf[i].path, path);
		if (m == GW_DM_DDF_PATH_EXACT) {
			*format = gw_dm_std_ddf[i].format;
			*access = gw_dm_std_ddf[i].access;
			return GW_DM_DDF_DESCRIBED;
		}
		if (m == GW_DM_DDF_PATH_BELOW && gw_dm_std_ddf[i].open)
			return GW_DM_DDF_FREE;
	}
	return GW_DM_DDF_UNKNOWN;
}

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
