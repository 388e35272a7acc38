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
#define GET_ADD (GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD)
#define GET_ADD_DEL (GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD | GW_DM_ACCESS_DELETE)

/* interior nodes and fixed leaves; per-instance <x> nodes are made by the enabler modules */
static const GwMoNodeDef gwmo_nodes[] = {
    {GW_GWMO_ROOT, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET, NULL, NULL},
    {GW_GWMO_CONFIG, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET, GW_GWMO_CONFIG_URN, NULL},
    {GW_GWMO_CONFIG_GWID, GW_DM_FORMAT_CHR, GW_DM_ACCESS_GET, "text/plain", NULL},
    {GW_GWMO_CONFIG_MODE, GW_DM_FORMAT_INT, GET_REPLACE, "text/plain", NULL},
    /* written at every start from what works (gw_gwmo_supported_modes()) */
    {GW_GWMO_CONFIG_SUPPORTED_MODES, GW_DM_FORMAT_CHR, GW_DM_ACCESS_GET, "text/plain", NULL},
    {GW_GWMO_CONFIG_SERVERS, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET, NULL, NULL},
    {GW_GWMO_CONFIG_BOOTSTRAP, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET, NULL, NULL},
    {GW_GWMO_CONFIG_ED_BOOTSTRAP, GW_DM_FORMAT_BOOL, GET_REPLACE, "text/plain", "false"},
    {GW_GWMO_CONFIG_LAPSE_TIMER, GW_DM_FORMAT_INT, GET_REPLACE, "text/plain", "3600"},
    {GW_GWMO_CONFIG_ADAPTERS, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET, NULL, NULL},
    {GW_GWMO_CONFIG_EXT, GW_DM_FORMAT_NODE, GET_ADD_DEL | GW_DM_ACCESS_REPLACE, NULL, NULL},
    {GW_GWMO_CONFIG_OPERATIONS, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET, NULL, NULL},
    {GW_GWMO_CONFIG_CHECKIN, GW_DM_FORMAT_NULL, GW_DM_ACCESS_GET | GW_DM_ACCESS_EXEC, NULL, NULL},
    {GW_GWMO_INVENTORY, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET, GW_GWMO_INVENTORY_URN, NULL},
    {GW_GWMO_INVENTORY_DEVICES, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET, NULL, NULL},
    {GW_GWMO_INVENTORY_GROUPS, GW_DM_FORMAT_NODE, GET_ADD, NULL, NULL},
    {GW_GWMO_INVENTORY_SUMMARY, GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET, NULL, NULL},
    {GW_GWMO_FANOUT, GW_DM_FORMAT_NODE, GET_ADD, GW_GWMO_FANOUT_URN, NULL},
    {GW_GWMO_IMAGES, GW_DM_FORMAT_NODE, GET_ADD, GW_GWMO_IMAGES_URN, NULL},
    {GW_GWMO_EDTRIGGER, GW_DM_FORMAT_NODE, GET_ADD, GW_GWMO_EDTRIGGER_URN, NULL},
};

static const gchar *summary_leaves[] =
    {"Total", "Attached", "Detached", "Transparent", "Proxy", "Adaptation", "Discovered"};

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

/* ---- operation modes (GwMO-MOO-001) ---- */

/* protocols an adapter other than OMA DM is registered for (main thread only): GwAdapters
 * fills it as adapters come and go */
static GHashTable *gw_gwmo_adapters = NULL;

void
gw_gwmo_adapter_register(const gchar *protocol)
{
	g_return_if_fail(protocol != NULL && protocol[0] != '\0');
	if (gw_gwmo_adapters == NULL)
		gw_gwmo_adapters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_hash_table_add(gw_gwmo_adapters, g_strdup(protocol));
}

void
gw_gwmo_adapter_unregister(const gchar *protocol)
{
	if (gw_gwmo_adapters != NULL && protocol != NULL)
		g_hash_table_remove(gw_gwmo_adapters, protocol);
}

gboolean
gw_gwmo_protocol_has_adapter(const gchar *protocol)
{
	return gw_gwmo_adapters != NULL && protocol != NULL &&
	       g_hash_table_contains(gw_gwmo_adapters, protocol);
}

gboolean
gw_gwmo_mode_is_available(const gchar *protocol, guint mode)
{
	gboolean oma_dm = protocol == NULL || protocol[0] == '\0' ||
	                  g_strcmp0(protocol, GW_GWMO_PROTOCOL_OMA_DM) == 0;

	switch (mode) {
	case GW_GWMO_MODE_TRANSPARENT:
	case GW_GWMO_MODE_PROXY:
		return oma_dm;
	case GW_GWMO_MODE_ADAPTATION:
		return gw_gwmo_protocol_has_adapter(protocol);
	default:
		return FALSE;
	}
}

gchar *
gw_gwmo_supported_modes(void)
{
	/* Adaptation as soon as some protocol has an adapter */
	if (gw_gwmo_adapters != NULL && g_hash_table_size(gw_gwmo_adapters) > 0)
		return g_strdup("1,2,3");
	return g_strdup("1,2");
}

gboolean
gw_gwmo_refresh_supported_modes(GwDmTree *tree, GError **error)
{
	g_autofree gchar *supported = gw_gwmo_supported_modes();
	g_autofree gchar *current = gw_dm_tree_dup_string(tree, GW_GWMO_CONFIG_SUPPORTED_MODES);

	g_return_val_if_fail(GW_IS_DM_TREE(tree), FALSE);
	if (current == NULL || g_strcmp0(current, supported) == 0)
		return TRUE;
	return install_leaf(tree,
	                    GW_GWMO_CONFIG_SUPPORTED_MODES,
	                    GW_DM_FORMAT_CHR,
	                    "text/plain",
	                    supported,
	                    FALSE,
	                    error);
}

static gboolean
gw_gwmo_mode_is_supported(guint mode)
{
	g_autofree gchar *supported = gw_gwmo_supported_modes();
	g_auto(GStrv) modes = g_strsplit(supported, ",", -1);
	g_autofree gchar *text = g_strdup_printf("%u", mode);
	return g_strv_contains((const gchar *const *)modes, text);
}

static guint
gw_gwmo_parse_mode(GBytes *data)
{
	g_autofree gchar *text = NULL;
	guint64 mode = 0;

	if (data == NULL)
		return 0;
	text = g_strndup(g_bytes_get_data(data, NULL), g_bytes_get_size(data));
	if (!g_ascii_string_to_unsigned(g_strstrip(text), 10, 0, G_MAXUINT, &mode, NULL))
		return 0;
	return (guint)mode;
}

/* Replace of ./GwMO/Config/Mode: a default mode must be one the gateway supports */
static guint
gw_gwmo_check_default_mode(GwDmTree *tree,
                           const gchar *server_id,
                           const gchar *uri,
                           GBytes *data,
                           gpointer user_data)
{
	guint mode = gw_gwmo_parse_mode(data);

	if (gw_gwmo_mode_is_supported(mode))
		return GW_DM_STATUS_OK;
	g_info("%s: mode %u refused for %s: not among the supported modes",
	       uri,
	       mode,
	       server_id != NULL ? server_id : "the local owner");
	return GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED;
}

/* Replace of ./GwMO/Inventory/Devices/<x>/Mode: only a mode the device's Protocol can run */
static guint
gw_gwmo_check_device_mode(GwDmTree *tree,
                          const gchar *server_id,
                          const gchar *uri,
                          GBytes *data,
                          gpointer user_data)
{
	guint mode = gw_gwmo_parse_mode(data);
	g_autofree gchar *record = g_strndup(uri, strrchr(uri, '/') - uri);
	g_autofree gchar *protocol_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_PROTOCOL, record);
	g_autofree gchar *protocol = gw_dm_tree_dup_string(tree, protocol_uri);

	if (gw_gwmo_mode_is_available(protocol, mode))
		return GW_DM_STATUS_OK;
	g_info("%s: mode %u refused for %s: no adapter runs protocol %s in that mode",
	       uri,
	       mode,
	       server_id != NULL ? server_id : "the local owner",
	       protocol != NULL ? protocol : GW_GWMO_PROTOCOL_OMA_DM);
	return GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED;
}

/* once per tree (install_objects may run again on the same tree) */
static void
gw_gwmo_install_mode_checks(GwDmTree *tree)
{
	static const gchar *key = "gw-gwmo-mode-checks";

	if (g_object_get_data(G_OBJECT(tree), key) != NULL)
		return;
	g_object_set_data(G_OBJECT(tree), key, GINT_TO_POINTER(1));
	gw_dm_tree_add_value_check(
	    tree, GW_GWMO_CONFIG_MODE, gw_gwmo_check_default_mode, NULL, NULL);
	gw_dm_tree_add_value_check(tree,
	                           GW_GWMO_INVENTORY_DEVICES "/*/" GW_GWMO_DEVICE_MODE,
	                           gw_gwmo_check_device_mode,
	                           NULL,
	                           NULL);
}

gboolean
gw_gwmo_install_objects(GwDmTree *tree, const gchar *gw_id, GwGwmoMode default_mode, GError **error)
{
	g_autofree gchar *mode_str = NULL;
	g_autofree gchar *supported = gw_gwmo_supported_modes();
	guint current;

	g_return_val_if_fail(GW_IS_DM_TREE(tree), FALSE);
	g_return_val_if_fail(gw_id != NULL, FALSE);

	if (!gw_gwmo_mode_is_supported((guint)default_mode)) {
		g_warning("[gateway] default-mode %u is not supported (supported: %s): using %u",
		          (guint)default_mode,
		          supported,
		          (guint)GW_GWMO_MODE_PROXY);
		default_mode = GW_GWMO_MODE_PROXY;
	}
	mode_str = g_strdup_printf("%u", (guint)default_mode);
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
	if (!gw_dm_tree_set_properties(
	        tree, GW_GWMO_CONFIG_CHECKIN, GW_DM_ACCESS_NONE, "Exec=*&Get=*", NULL, error))
		return FALSE;

	/* GwID always mirrors DevInfo/DevId */
	if (!install_leaf(
	        tree, GW_GWMO_CONFIG_GWID, GW_DM_FORMAT_CHR, "text/plain", gw_id, FALSE, error))
		return FALSE;
	/* what works, not what the state remembers (GwMO-MOO-001) */
	if (!install_leaf(tree,
	                  GW_GWMO_CONFIG_SUPPORTED_MODES,
	                  GW_DM_FORMAT_CHR,
	                  "text/plain",
	                  supported,
	                  FALSE,
	                  error))
		return FALSE;
	current = gw_gwmo_get_default_mode(tree);
	if (current != 0 && !gw_gwmo_mode_is_supported(current))
		g_warning("%s was %u, which is not supported (supported: %s): now %s",
		          GW_GWMO_CONFIG_MODE,
		          current,
		          supported,
		          mode_str);
	if (current == 0 || !gw_gwmo_mode_is_supported(current)) {
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
	gw_gwmo_install_mode_checks(tree);
	return TRUE;
}

guint
gw_gwmo_get_default_mode(GwDmTree *tree)
{
	g_autofree gchar *value = gw_dm_tree_dup_string(tree, GW_GWMO_CONFIG_MODE);
	guint64 mode = 0;

	if (value == NULL)
		return 0;
	if (!g_ascii_string_to_unsigned(
	        value, 10, GW_GWMO_MODE_TRANSPARENT, GW_GWMO_MODE_ADAPTATION, &mode, NULL))
		return 0;
	return (guint)mode;
}
