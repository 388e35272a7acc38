/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fuzz target: the bootstrap message import of POST /bootstrap (gw-bootstrap.h). The bytes are
 * decoded as the listener decodes them (XML, or WBXML when they do not look like XML),
 * authenticated against one configured bootstrap server, then applied to a fresh tree holding
 * the standard objects and one account, whatever the authentication said (the import must be
 * safe on its own). Invariants: all or nothing (anything but APPLIED leaves the tree as it
 * was); nothing outside ./DMAcc changes; no secret becomes readable.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "gw-bootstrap.h"
#include "gw-tnds.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const GwDmDeviceInfo fuzz_info = {
    .dev_id = "fuzz",
    .man = "fuzz",
    .mod = "fuzz",
    .dmv = "1.3",
    .lang = "en-US",
    .dev_typ = "gateway",
    .oem = "fuzz",
    .fwv = "1",
    .swv = "1",
    .hwv = "1",
};

#define ALL_FLAGS (GW_TNDS_EXPORT_VALUES | GW_TNDS_EXPORT_SECRETS | GW_TNDS_EXPORT_DF_PROPERTIES)

static GwDmTree *
fresh_tree(void)
{
	GwDmTree *tree = gw_dm_tree_new();
	g_assert(gw_dm_tree_install_standard_objects(tree, &fuzz_info, NULL));
	g_assert(gw_dm_tree_set_leaf_string(
	    tree, "./DMAcc/srv1/ServerID", GW_DM_FORMAT_CHR, "srv1.example", NULL));
	g_assert(gw_dm_tree_set_leaf_string(
	    tree, "./DMAcc/srv1/AppAuth/1/AAuthSecret", GW_DM_FORMAT_CHR, "s3cret", NULL));
	g_assert(gw_dm_tree_ensure_interior(tree, "./Other", NULL));
	return tree;
}

/* no leaf named AAuthSecret or AAuthData below ./DMAcc may be read */
static void
assert_secrets_hidden(GwDmTree *tree)
{
	g_auto(GStrv) accounts = gw_dm_tree_list_children(tree, "./DMAcc");
	for (guint i = 0; accounts != NULL && accounts[i] != NULL; i++) {
		g_autofree gchar *auth = g_strdup_printf("./DMAcc/%s/AppAuth", accounts[i]);
		g_auto(GStrv) entries = gw_dm_tree_list_children(tree, auth);
		for (guint j = 0; entries != NULL && entries[j] != NULL; j++) {
			const gchar *names[] = {"AAuthSecret", "AAuthData"};
			for (guint k = 0; k < G_N_ELEMENTS(names); k++) {
				g_autofree gchar *uri =
				    g_strdup_printf("%s/%s/%s", auth, entries[j], names[k]);
				g_autoptr(GPtrArray) results = NULL;
				GwDmNode *node = gw_dm_tree_lookup(tree, uri);
				if (node == NULL || !gw_dm_node_is_leaf(node))
					continue;
				g_assert(gw_dm_tree_get(tree, NULL, uri, &results) ==
				         GW_DM_STATUS_COMMAND_NOT_ALLOWED);
			}
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GwDmTree) tree = fresh_tree();
	g_autoptr(GBytes) body = g_bytes_new(data, size);
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GHashTable) servers =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *before = NULL;
	g_autofree gchar *after = NULL;
	g_autofree gchar *others_before = NULL;
	g_autofree gchar *others_after = NULL;
	g_autofree gchar *server_id = NULL;
	GwBootstrapOutcome outcome;
	guint n_items = 0;

	msg = gw_syncml_message_decode(body, NULL, NULL, &error);
	if (msg == NULL)
		return 0;
	g_hash_table_insert(servers, g_strdup("bs.example"), g_strdup("bs-secret"));
	outcome = gw_bootstrap_authenticate(servers, msg, NULL, body, TRUE, &server_id, NULL);
	g_assert(outcome != GW_BOOTSTRAP_APPLIED || g_strcmp0(server_id, "bs.example") == 0);

	before = gw_tnds_export(tree, ".", NULL, ALL_FLAGS, NULL);
	others_before = gw_tnds_export(tree, "./Other", NULL, ALL_FLAGS, NULL);
	g_assert(before != NULL && others_before != NULL);
	outcome = gw_bootstrap_apply(tree, msg, &n_items, &error);
	after = gw_tnds_export(tree, ".", NULL, ALL_FLAGS, NULL);
	g_assert(after != NULL);
	g_debug("outcome %u, %u items: %s",
	        gw_bootstrap_outcome_to_http(outcome),
	        n_items,
	        error != NULL ? error->message : "applied");
	if (outcome != GW_BOOTSTRAP_APPLIED) {
		g_assert(error != NULL);
		g_assert(n_items == 0);
		g_assert(g_strcmp0(before, after) == 0);
		return 0;
	}
	g_assert(error == NULL && n_items > 0);
	others_after = gw_tnds_export(tree, "./Other", NULL, ALL_FLAGS, NULL);
	g_assert(g_strcmp0(others_before, others_after) == 0);
	{
		g_autofree gchar *devinfo = gw_dm_tree_dup_string(tree, "./DevInfo/DevId");
		g_assert(g_strcmp0(devinfo, "fuzz") == 0);
	}
	assert_secrets_hidden(tree);
	return 0;
}
