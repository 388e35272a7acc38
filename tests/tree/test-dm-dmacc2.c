/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The DMAcc 2.0 layout's standard definition (OMA-TS-DM_Protocol-V2_0 §11.2, gw-dm-std.c):
 * what a DM Server's Add and an imported document may make of an account's SrvID, SrvURI,
 * Perm and Auth/{Bootstrap,Noti,Trsp} nodes. The secrets (Auth/Trsp/Secret, Auth/Noti/Secret,
 * the Bootstrap keys, Perm) are never readable, formats are the DDF's, unknown names refused.
 */

#include "config.h"

#include <string.h>

#include "gw-dm-ddf.h"
#include "gw-dm-tree.h"
#include "gw-error.h"
#include "gw-tnds.h"

static const GwDmDeviceInfo test_info = {
    .dev_id = "GW-TEST-0001",
    .man = "gwmo",
    .mod = "GW-1",
    .dmv = "2.0",
    .lang = "en-US",
    .dev_typ = "gateway",
    .oem = "Example OEM",
    .fwv = "1.0",
    .swv = "0.1.0",
    .hwv = "rev-b",
};

#define ACC "./DMAcc/srv2"
#define TRSP_SECRET "trsp-password-2"
#define NOTI_SECRET "noti-secret-2"

static GwDmTree *
new_account_tree(void)
{
	g_autoptr(GError) error = NULL;
	GwDmTree *tree = gw_dm_tree_new();

	g_assert_true(gw_dm_tree_install_standard_objects(tree, &test_info, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(gw_dm_tree_add(tree, NULL, ACC, GW_DM_FORMAT_NODE, NULL, NULL), ==, 200);
	g_assert_true(gw_dm_tree_set_properties(tree,
	                                        ACC,
	                                        GW_DM_ACCESS_NONE,
	                                        "Add=srv2&Delete=srv2&Get=srv2&Replace=srv2",
	                                        NULL,
	                                        NULL));
	return tree;
}

static guint
add(GwDmTree *tree, const gchar *server, const gchar *uri, GwDmFormat format, const gchar *v)
{
	g_autoptr(GBytes) data = v != NULL ? g_bytes_new(v, strlen(v)) : NULL;
	return gw_dm_tree_add(tree, server, uri, format, "text/plain", data);
}

static guint
get_status(GwDmTree *tree, const gchar *server, const gchar *uri, gchar **value)
{
	g_autoptr(GPtrArray) results = NULL;
	guint status = gw_dm_tree_get(tree, server, uri, &results);

	if (value != NULL && status == 200) {
		g_assert_cmpuint(results->len, ==, 1);
		*value = gw_dm_item_dup_string(g_ptr_array_index(results, 0));
	}
	return status;
}

/* a DM Server's Adds build the account leaf by leaf, as a DM 2.0 server would over DM 1.x or
 * the owner over D-Bus SetNode: the secrets are written, never read back */
static void
test_server_add(void)
{
	g_autoptr(GwDmTree) tree = new_account_tree();
	g_autoptr(GPtrArray) list = NULL;
	g_autofree gchar *v = NULL;
	const gchar *secrets[] = {ACC "/Auth/Trsp/Secret",
	                          ACC "/Auth/Noti/Secret",
	                          ACC "/Auth/Bootstrap/ClientSecretKey",
	                          ACC "/Perm/1/MOID",
	                          ACC "/Perm"};

	g_assert_cmpuint(add(tree, "srv2", ACC "/SrvID", GW_DM_FORMAT_CHR, "srv2"), ==, 200);
	g_assert_cmpuint(
	    add(tree, "srv2", ACC "/SrvURI", GW_DM_FORMAT_CHR, "https://dm2.example/dm"), ==, 200);
	g_assert_cmpuint(add(tree, "srv2", ACC "/Name", GW_DM_FORMAT_CHR, "DM 2.0"), ==, 200);
	g_assert_cmpuint(add(tree, "srv2", ACC "/Auth/Trsp/Data", GW_DM_FORMAT_BIN, "gw"), ==, 200);
	g_assert_cmpuint(
	    add(tree, "srv2", ACC "/Auth/Trsp/Secret", GW_DM_FORMAT_BIN, TRSP_SECRET), ==, 200);
	g_assert_cmpuint(add(tree, "srv2", ACC "/Auth/Noti/Type", GW_DM_FORMAT_INT, "1"), ==, 200);
	g_assert_cmpuint(
	    add(tree, "srv2", ACC "/Auth/Noti/Secret", GW_DM_FORMAT_BIN, NOTI_SECRET), ==, 200);
	g_assert_cmpuint(
	    add(tree, "srv2", ACC "/Auth/Bootstrap/ClientSecretKey", GW_DM_FORMAT_BIN, "k"),
	    ==,
	    200);
	g_assert_cmpuint(add(tree,
	                     "srv2",
	                     ACC "/Perm/1/MOID",
	                     GW_DM_FORMAT_CHR,
	                     "urn:oma:mo:oma-gwmo-gwconfig:1.0"),
	                 ==,
	                 200);
	/* the gateway has them */
	v = gw_dm_tree_dup_string(tree, ACC "/Auth/Trsp/Secret");
	g_assert_cmpstr(v, ==, TRSP_SECRET);
	g_clear_pointer(&v, g_free);

	/* what is not secret reads back */
	g_assert_cmpuint(get_status(tree, "srv2", ACC "/SrvURI", &v), ==, 200);
	g_assert_cmpstr(v, ==, "https://dm2.example/dm");
	g_clear_pointer(&v, g_free);
	g_assert_cmpuint(get_status(tree, "srv2", ACC "/Auth/Trsp/Data", &v), ==, 200);
	g_assert_cmpstr(v, ==, "gw");
	g_clear_pointer(&v, g_free);

	/* the secrets: 405 for the server and the owner (D-Bus GetNode), also ?prop=, and Copy */
	for (guint i = 0; i < G_N_ELEMENTS(secrets); i++) {
		g_autofree gchar *prop = g_strdup_printf("%s?prop=Size", secrets[i]);
		g_test_message("%s", secrets[i]);
		g_assert_cmpuint(get_status(tree, "srv2", secrets[i], NULL), ==, 405);
		g_assert_cmpuint(get_status(tree, NULL, secrets[i], NULL), ==, 405);
		g_assert_cmpint(gw_dm_node_get_access(gw_dm_tree_lookup(tree, secrets[i])) &
		                    GW_DM_ACCESS_GET,
		                ==,
		                0);
	}
	g_assert_cmpuint(
	    gw_dm_tree_get(tree, "srv2", ACC "/Auth/Trsp/Secret?prop=Size", NULL), ==, 405);
	g_assert_cmpuint(
	    gw_dm_tree_copy(tree, "srv2", ACC "/Auth/Trsp/Secret", ACC "/Ext/Copy"), ==, 405);
	/* a list query names the secret, without its value */
	g_assert_cmpuint(gw_dm_tree_get(tree, "srv2", ACC "?list=StructData", &list), ==, 200);
	for (guint i = 0; i < list->len; i++) {
		GwDmItem *item = g_ptr_array_index(list, i);
		g_autofree gchar *data = gw_dm_item_dup_string(item);
		g_assert_true(data == NULL || (strstr(data, TRSP_SECRET) == NULL &&
		                               strstr(data, NOTI_SECRET) == NULL));
	}

	/* the DDF's formats: 415, and nothing is created */
	g_assert_cmpuint(
	    add(tree, "srv2", ACC "/Auth/Trsp/Secret", GW_DM_FORMAT_CHR, "again"), ==, 418);
	g_assert_cmpuint(
	    add(tree, NULL, "./DMAcc/srv3/Auth/Trsp/Secret", GW_DM_FORMAT_CHR, "x"), ==, 415);
	g_assert_cmpuint(
	    add(tree, NULL, "./DMAcc/srv3/Auth/Noti/Type", GW_DM_FORMAT_CHR, "SHA256"), ==, 415);
	g_assert_cmpuint(add(tree, NULL, "./DMAcc/srv3/SrvURI", GW_DM_FORMAT_INT, "1"), ==, 415);
	g_assert_cmpuint(
	    add(tree, NULL, "./DMAcc/srv3/Auth/Trsp/Secret/X", GW_DM_FORMAT_CHR, "x"), ==, 415);
	g_assert_null(gw_dm_tree_lookup(tree, "./DMAcc/srv3"));
	/* names the DDF does not have: 405 (Auth/Trsp has Data and Secret, not Password) */
	g_assert_cmpuint(
	    add(tree, "srv2", ACC "/Auth/Trsp/Password", GW_DM_FORMAT_CHR, "x"), ==, 405);
	g_assert_cmpuint(
	    add(tree, "srv2", ACC "/Auth/Other/Secret", GW_DM_FORMAT_BIN, "x"), ==, 405);
	g_assert_null(gw_dm_tree_lookup(tree, ACC "/Auth/Trsp/Password"));
	/* the owner's SetNode of a new secret takes the DDF too */
	g_assert_cmpuint(
	    add(tree, NULL, "./DMAcc/srv4/Auth/Trsp/Secret", GW_DM_FORMAT_BIN, "owner"), ==, 200);
	g_assert_cmpuint(get_status(tree, NULL, "./DMAcc/srv4/Auth/Trsp/Secret", NULL), ==, 405);
}

#define HEAD "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>"
#define TAIL "</MgmtTree>"

/* a bootstrap document in the DMAcc 2.0 layout asking for Get on its secrets and giving no
 * <Format> for its bin leaves (their values base64, as TNDS has it) */
#define BOOT2                                                                                \
	HEAD "<Node><NodeName>srv2</NodeName><Path>./DMAcc</Path>"                           \
	     "<RTProperties><ACL>Get=srv2&amp;Replace=srv2</ACL></RTProperties>"             \
	     "<Node><NodeName>SrvID</NodeName><Value>srv2</Value></Node>"                    \
	     "<Node><NodeName>SrvURI</NodeName><Value>https://dm2.example/dm</Value></Node>" \
	     "<Node><NodeName>Name</NodeName><Value>DM 2.0</Value></Node>"                   \
	     "<Node><NodeName>Auth</NodeName>"                                               \
	     "<Node><NodeName>Trsp</NodeName>"                                               \
	     "<Node><NodeName>Data</NodeName><Value>Z2F0ZXdheQ==</Value></Node>"             \
	     "<Node><NodeName>Secret</NodeName><DFProperties><AccessType><Get/><Replace/>"   \
	     "</AccessType></DFProperties><Value>dHJzcC1wYXNzd29yZC0y</Value></Node></Node>" \
	     "<Node><NodeName>Noti</NodeName>"                                               \
	     "<Node><NodeName>Type</NodeName><Value>1</Value></Node>"                        \
	     "<Node><NodeName>Secret</NodeName><RTProperties><Format><bin/></Format>"        \
	     "</RTProperties><DFProperties><AccessType><Get/></AccessType></DFProperties>"   \
	     "<Value>bm90aS1zZWNyZXQtMg==</Value></Node></Node>"                             \
	     "</Node></Node>" TAIL

static void
test_import(void)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *plain = NULL;
	g_autofree gchar *v = NULL;
	GwDmNode *node;
	static const struct {
		const gchar *xml;
		gint code;
	} refused[] = {
	    /* a format the DDF does not give */
	    {HEAD "<Node><NodeName>b</NodeName><Path>./DMAcc</Path>"
	          "<Node><NodeName>SrvURI</NodeName><RTProperties><Format><int/></Format>"
	          "</RTProperties><Value>1</Value></Node></Node>" TAIL,
	     GW_ERROR_NOT_SUPPORTED},
	    {HEAD "<Node><NodeName>b</NodeName><Path>./DMAcc</Path>"
	          "<Node><NodeName>Auth</NodeName><Node><NodeName>Trsp</NodeName>"
	          "<Node><NodeName>Secret</NodeName><RTProperties><Format><chr/></Format>"
	          "</RTProperties><Value>pw</Value></Node></Node></Node></Node>" TAIL,
	     GW_ERROR_NOT_SUPPORTED},
	    /* a name it does not have */
	    {HEAD "<Node><NodeName>b</NodeName><Path>./DMAcc</Path>"
	          "<Node><NodeName>Auth</NodeName><Node><NodeName>Trsp</NodeName>"
	          "<Node><NodeName>Creds</NodeName><Node><NodeName>Password</NodeName>"
	          "<Value>pw</Value></Node></Node></Node></Node></Node>" TAIL,
	     GW_ERROR_NOT_ALLOWED},
	    /* a bin value that is not base64 */
	    {HEAD "<Node><NodeName>b</NodeName><Path>./DMAcc</Path>"
	          "<Node><NodeName>Auth</NodeName><Node><NodeName>Noti</NodeName>"
	          "<Node><NodeName>Secret</NodeName><Value>not base64!</Value></Node>"
	          "</Node></Node></Node>" TAIL,
	     GW_ERROR_PROTOCOL},
	};

	g_assert_true(gw_dm_tree_install_standard_objects(tree, &test_info, NULL));
	g_assert_true(
	    gw_tnds_import(tree, ".", BOOT2, strlen(BOOT2), GW_TNDS_IMPORT_REPLACE, &error));
	g_assert_no_error(error);
	/* bin as the DDF says, base64-decoded, and unreadable whatever the document asked */
	node = gw_dm_tree_lookup(tree, ACC "/Auth/Trsp/Secret");
	g_assert_nonnull(node);
	g_assert_cmpint(gw_dm_node_get_format(node), ==, GW_DM_FORMAT_BIN);
	v = gw_dm_tree_dup_string(tree, ACC "/Auth/Trsp/Secret");
	g_assert_cmpstr(v, ==, TRSP_SECRET);
	g_clear_pointer(&v, g_free);
	g_assert_cmpuint(get_status(tree, "srv2", ACC "/Auth/Trsp/Secret", NULL), ==, 405);
	g_assert_cmpuint(get_status(tree, NULL, ACC "/Auth/Trsp/Secret", NULL), ==, 405);
	g_assert_cmpuint(get_status(tree, "srv2", ACC "/Auth/Noti/Secret", NULL), ==, 405);
	g_assert_cmpint(gw_dm_node_get_format(gw_dm_tree_lookup(tree, ACC "/Auth/Noti/Type")),
	                ==,
	                GW_DM_FORMAT_INT);
	g_assert_cmpuint(get_status(tree, "srv2", ACC "/Auth/Trsp/Data", &v), ==, 200);
	g_assert_cmpstr(v, ==, "gateway");
	plain = gw_tnds_export(tree, ".", NULL, GW_TNDS_EXPORT_VALUES, NULL);
	g_assert_null(strstr(plain, "dHJzcC1wYXNzd29yZC0y"));
	g_assert_null(strstr(plain, TRSP_SECRET));
	g_assert_null(strstr(plain, "bm90aS1zZWNyZXQtMg=="));

	for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
		g_autoptr(GError) e = NULL;
		g_test_message("document %u", i);
		g_assert_false(gw_tnds_import(
		    tree, ".", refused[i].xml, strlen(refused[i].xml), GW_TNDS_IMPORT_REPLACE, &e));
		g_assert_error(e, GW_ERROR, refused[i].code);
		g_assert_null(gw_dm_tree_lookup(tree, "./DMAcc/b"));
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/dm-tree/dmacc2/server-add", test_server_add);
	g_test_add_func("/gw/dm-tree/dmacc2/import", test_import);
	return g_test_run();
}
