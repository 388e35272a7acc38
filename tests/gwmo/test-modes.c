/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GwMO-MOO-001 in-process: what gw-gwmo-mo.c says about the operation modes, and the tree's
 * value checks that make a DM command (Replace, Add, Copy onto a leaf) refuse a Mode no
 * adapter can run, while owner writes are not checked. The end-to-end proof, from a DM
 * Server's session, is /gw/e2e/proofs/modes.
 */

#include "config.h"

#include <string.h>

#include "gw-gwmo-mo.h"
#include "gw-inventory.h"

static const GwDmDeviceInfo gw_info = {
    .dev_id = "gw-0001",
    .man = "gwmo",
    .mod = "unit",
    .dmv = "1.3",
    .lang = "en-US",
    .dev_typ = "gateway",
    .oem = "gwmo",
    .fwv = "1",
    .swv = "1",
    .hwv = "1",
};

/* the last warning logged (expected ones are checked; any other still shows) */
static gchar last_warning[512];

static GLogWriterOutput
warning_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	for (gsize i = 0; (level & G_LOG_LEVEL_WARNING) && i < n_fields; i++) {
		if (g_strcmp0(fields[i].key, "MESSAGE") == 0 && fields[i].length < 0)
			g_strlcpy(last_warning, fields[i].value, sizeof(last_warning));
	}
	return g_log_writer_default(level, fields, n_fields, user_data);
}

static GBytes *
b(const gchar *text)
{
	return g_bytes_new(text, strlen(text));
}

static GwDmTree *
new_tree(GwGwmoMode default_mode)
{
	g_autoptr(GError) error = NULL;
	GwDmTree *tree = gw_dm_tree_new();

	g_assert_true(gw_dm_tree_install_standard_objects(tree, &gw_info, &error));
	g_assert_no_error(error);
	g_assert_true(gw_gwmo_install_objects(tree, "gw-0001", default_mode, &error));
	g_assert_no_error(error);
	return tree;
}

static gchar *
value_of(GwDmTree *tree, const gchar *uri)
{
	return gw_dm_tree_dup_string(tree, uri);
}

/* which modes a protocol can run in, and SupportedModes */
static void
test_availability(void)
{
	g_autofree gchar *none = NULL;
	g_autofree gchar *some = NULL;

	g_assert_true(gw_gwmo_mode_is_available(NULL, GW_GWMO_MODE_TRANSPARENT));
	g_assert_true(gw_gwmo_mode_is_available("OMA-DM", GW_GWMO_MODE_PROXY));
	g_assert_false(gw_gwmo_mode_is_available(NULL, GW_GWMO_MODE_ADAPTATION));
	g_assert_false(gw_gwmo_mode_is_available("OMA-DM", GW_GWMO_MODE_ADAPTATION));
	g_assert_false(gw_gwmo_mode_is_available("UPnP", GW_GWMO_MODE_PROXY));
	g_assert_false(gw_gwmo_mode_is_available("UPnP", GW_GWMO_MODE_ADAPTATION));
	g_assert_false(gw_gwmo_mode_is_available(NULL, 0));
	g_assert_false(gw_gwmo_mode_is_available(NULL, 7));
	none = gw_gwmo_supported_modes();
	g_assert_cmpstr(none, ==, "1,2");

	/* an adapter for UPnP: Adaptation for UPnP devices only */
	gw_gwmo_adapter_register("UPnP");
	g_assert_true(gw_gwmo_protocol_has_adapter("UPnP"));
	g_assert_true(gw_gwmo_mode_is_available("UPnP", GW_GWMO_MODE_ADAPTATION));
	g_assert_false(gw_gwmo_mode_is_available("OMA-DM", GW_GWMO_MODE_ADAPTATION));
	some = gw_gwmo_supported_modes();
	g_assert_cmpstr(some, ==, "1,2,3");
	gw_gwmo_adapter_unregister("UPnP");
	g_assert_false(gw_gwmo_protocol_has_adapter("UPnP"));
}

/* SupportedModes is what works, whatever the state held; an unsupported default falls back */
static void
test_supported_modes_node(void)
{
	g_autoptr(GwDmTree) tree = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) all = b("1,2,3");
	g_autofree gchar *supported = NULL;
	g_autofree gchar *mode = NULL;
	g_autofree gchar *again = NULL;
	g_autofree gchar *mode_again = NULL;

	tree = new_tree(GW_GWMO_MODE_ADAPTATION);
	g_assert_nonnull(strstr(last_warning, "default-mode 3 is not supported"));
	supported = value_of(tree, "./GwMO/Config/SupportedModes");
	mode = value_of(tree, "./GwMO/Config/Mode");

	g_assert_cmpstr(supported, ==, "1,2");
	g_assert_cmpstr(mode, ==, "2");
	/* a state from before (SupportedModes 1,2,3, Mode 3) is corrected at the next start */
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./GwMO/Config/SupportedModes", GW_DM_FORMAT_CHR, "1,2,3", &error));
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./GwMO/Config/Mode", GW_DM_FORMAT_INT, "3", &error));
	g_assert_no_error(error);
	g_assert_true(gw_gwmo_install_objects(tree, "gw-0001", GW_GWMO_MODE_PROXY, &error));
	g_assert_nonnull(strstr(last_warning, "Mode was 3, which is not supported"));
	g_assert_no_error(error);
	again = value_of(tree, "./GwMO/Config/SupportedModes");
	mode_again = value_of(tree, "./GwMO/Config/Mode");
	g_assert_cmpstr(again, ==, "1,2");
	g_assert_cmpstr(mode_again, ==, "2");
	/* its access type: Get only */
	g_assert_cmpuint(
	    gw_dm_tree_replace(
	        tree, NULL, "./GwMO/Config/SupportedModes", GW_DM_FORMAT_CHR, NULL, all),
	    ==,
	    405);
}

/* the value checks: Replace, Copy and the owner's DM commands are refused, owner API writes
 * are not; the device's Protocol decides */
static void
test_value_checks(void)
{
	g_autoptr(GwDmTree) tree = new_tree(GW_GWMO_MODE_PROXY);
	g_autoptr(GwConfig) config = gw_config_new();
	g_autoptr(GwInventory) inv = gw_inventory_new(tree, config);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) one = b("1");
	g_autoptr(GBytes) three = b("3");
	g_autoptr(GBytes) seven = b("7");
	g_autofree gchar *uri = NULL;
	g_autofree gchar *mode_uri = NULL;
	g_autofree gchar *v = NULL;
	GwInventoryDevice info = {0};

	g_assert_true(gw_inventory_start(inv, &error));
	g_assert_no_error(error);
	/* the owner (server_id NULL) and a server with Replace both get 406 */
	g_assert_true(gw_dm_tree_set_properties(
	    tree, "./GwMO/Config/Mode", GW_DM_ACCESS_NONE, "Get=*&Replace=srvA", NULL, &error));
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, NULL, "./GwMO/Config/Mode", GW_DM_FORMAT_INT, NULL, three),
	    ==,
	    406);
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, "srvA", "./GwMO/Config/Mode", GW_DM_FORMAT_INT, NULL, three),
	    ==,
	    406);
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, "srvA", "./GwMO/Config/Mode", GW_DM_FORMAT_INT, NULL, seven),
	    ==,
	    406);
	/* a server without Replace learns nothing about the value: 425 first */
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, "srvB", "./GwMO/Config/Mode", GW_DM_FORMAT_INT, NULL, three),
	    ==,
	    425);
	v = value_of(tree, "./GwMO/Config/Mode");
	g_assert_cmpstr(v, ==, "2");
	g_clear_pointer(&v, g_free);
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, "srvA", "./GwMO/Config/Mode", GW_DM_FORMAT_INT, NULL, one),
	    ==,
	    200);
	/* Copy onto the leaf is checked too */
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./GwMO/Config/Ext/Three", GW_DM_FORMAT_INT, "3", &error));
	g_assert_no_error(error);
	g_assert_cmpuint(
	    gw_dm_tree_copy(tree, NULL, "./GwMO/Config/Ext/Three", "./GwMO/Config/Mode"), ==, 406);
	v = value_of(tree, "./GwMO/Config/Mode");
	g_assert_cmpstr(v, ==, "1");
	g_clear_pointer(&v, g_free);

	/* a device: OMA DM, so 1 and 2 only; one of a protocol with an adapter may be 3 */
	info.device_id = (gchar *)"dev-1";
	info.mode = GW_GWMO_MODE_PROXY;
	uri = gw_inventory_register(inv, &info, &error);
	g_assert_no_error(error);
	mode_uri = g_strdup_printf("%s/Mode", uri);
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, NULL, mode_uri, GW_DM_FORMAT_INT, NULL, three), ==, 406);
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, NULL, mode_uri, GW_DM_FORMAT_INT, NULL, one), ==, 200);
	v = value_of(tree, mode_uri);
	g_assert_cmpstr(v, ==, "1");
	g_clear_pointer(&v, g_free);
	/* registering one in Mode 3 is refused too */
	info.device_id = (gchar *)"dev-2";
	info.mode = GW_GWMO_MODE_ADAPTATION;
	g_assert_null(gw_inventory_register(inv, &info, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_SUPPORTED);
	g_clear_error(&error);
	gw_gwmo_adapter_register("Zigbee");
	info.protocol = (gchar *)"Zigbee";
	g_free(uri);
	uri = gw_inventory_register(inv, &info, &error);
	g_assert_no_error(error);
	g_free(mode_uri);
	mode_uri = g_strdup_printf("%s/Mode", uri);
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, NULL, mode_uri, GW_DM_FORMAT_INT, NULL, one), ==, 406);
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, NULL, mode_uri, GW_DM_FORMAT_INT, NULL, three), ==, 200);
	gw_gwmo_adapter_unregister("Zigbee");
	/* the owner API is not checked (the enabler's own writes) */
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./GwMO/Config/Mode", GW_DM_FORMAT_INT, "3", &error));
	g_assert_no_error(error);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* the warnings for an unsupported default mode are expected and checked */
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	g_log_set_writer_func(warning_writer, NULL, NULL);
	g_test_add_func("/gwmo/modes/availability", test_availability);
	g_test_add_func("/gwmo/modes/supported-modes-node", test_supported_modes_node);
	g_test_add_func("/gwmo/modes/value-checks", test_value_checks);
	return g_test_run();
}
