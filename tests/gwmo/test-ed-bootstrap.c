/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The bootstrap message the gateway gives its End Devices (gw-ed-bootstrap.h, seed 004): its
 * SyncML DM 1.2 form (one Add of ./DMAcc/gwmo-<GwID> with the DM 1.2 DMAcc leaves), parsed
 * back by the engine, applied to a fresh DM tree as a device applies it (the DMAcc DDF
 * enforced: every item 200), its WBXML form read back by Debian's wbxml2xml; and the request
 * checks (dev, Host, Accept).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "gw-dm-tree.h"
#include "gw-ed-bootstrap.h"
#include "gw-error.h"
#include "gw-wbxml.h"

static const GwEdBootstrapAccount account = {
    .gw_id = "GW-1",
    .device_id = "dev <&> 1",
    .dm_url = "https://192.0.2.1:7444/dm",
    .client_secret = "0123456789abcdef0123456789abcdef",
    .server_secret = "fedcba9876543210fedcba9876543210",
    .lapse_timer = 600,
};

static const GwDmDeviceInfo device_info = {
    .dev_id = "dev <&> 1",
    .man = "test",
    .mod = "test",
    .dmv = "1.2",
    .lang = "en-US",
    .dev_typ = "test",
    .oem = "test",
    .fwv = "1",
    .swv = "1",
    .hwv = "1",
};

static const gchar *
item_value(GwSyncmlMessage *msg, const gchar *uri)
{
	const GwSyncmlCommand *add = g_ptr_array_index(msg->commands, 0);
	for (guint i = 0; i < add->items->len; i++) {
		const GwSyncmlItem *item = g_ptr_array_index(add->items, i);
		if (g_strcmp0(item->target_uri, uri) == 0)
			return item->data != NULL ? item->data : "";
	}
	return NULL;
}

static void
test_message(void)
{
	g_autoptr(GwSyncmlMessage) msg = gw_ed_bootstrap_build_message(&account);
	g_autoptr(GBytes) xml = gw_ed_bootstrap_encode(msg, FALSE, NULL);
	g_autoptr(GwSyncmlMessage) back = NULL;
	g_autoptr(GError) error = NULL;
	const GwSyncmlCommand *add;
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(xml, &len);

	back = gw_syncml_message_parse_xml(data, len, &error);
	g_assert_no_error(error);
	g_assert_true(gw_syncml_message_equal(msg, back));
	g_assert_cmpint(back->hdr.version, ==, GW_SYNCML_VERSION_DM_1_2);
	g_assert_cmpstr(back->hdr.target_uri, ==, "dev <&> 1");
	g_assert_cmpstr(back->hdr.source_uri, ==, "GW-1");
	g_assert_true(back->final);
	g_assert_cmpuint(back->commands->len, ==, 1);
	add = g_ptr_array_index(back->commands, 0);
	g_assert_cmpint(add->type, ==, GW_SYNCML_CMD_ADD);
	/* the account node first, its leaves after their parents */
	g_assert_cmpstr(((GwSyncmlItem *)g_ptr_array_index(add->items, 0))->target_uri,
	                ==,
	                "./DMAcc/gwmo-GW-1");
	g_assert_cmpstr(item_value(back, "./DMAcc/gwmo-GW-1/AppID"), ==, "w7");
	g_assert_cmpstr(item_value(back, "./DMAcc/gwmo-GW-1/ServerID"), ==, "GW-1");
	g_assert_cmpstr(
	    item_value(back, "./DMAcc/gwmo-GW-1/AppAddr/1/Addr"), ==, "https://192.0.2.1:7444/dm");
	g_assert_cmpstr(item_value(back, "./DMAcc/gwmo-GW-1/AppAddr/1/AddrType"), ==, "URI");
	g_assert_cmpstr(item_value(back, "./DMAcc/gwmo-GW-1/AAuthPref"), ==, "syncml:auth-md5");
	g_assert_cmpstr(item_value(back, "./DMAcc/gwmo-GW-1/AppAuth/1/AAuthLevel"), ==, "CLCRED");
	g_assert_cmpstr(item_value(back, "./DMAcc/gwmo-GW-1/AppAuth/1/AAuthType"), ==, "DIGEST");
	g_assert_cmpstr(item_value(back, "./DMAcc/gwmo-GW-1/AppAuth/1/AAuthName"), ==, "dev <&> 1");
	g_assert_cmpstr(item_value(back, "./DMAcc/gwmo-GW-1/AppAuth/1/AAuthSecret"),
	                ==,
	                account.client_secret);
	g_assert_cmpstr(item_value(back, "./DMAcc/gwmo-GW-1/AppAuth/2/AAuthLevel"), ==, "SRVCRED");
	g_assert_cmpstr(item_value(back, "./DMAcc/gwmo-GW-1/AppAuth/2/AAuthName"), ==, "GW-1");
	g_assert_cmpstr(item_value(back, "./DMAcc/gwmo-GW-1/AppAuth/2/AAuthSecret"),
	                ==,
	                account.server_secret);
	g_assert_cmpstr(item_value(back, "./DMAcc/gwmo-GW-1/Ext/LapseTimer"), ==, "600");

	/* trusted: no lapse timer */
	{
		GwEdBootstrapAccount trusted = account;
		g_autoptr(GwSyncmlMessage) t = NULL;
		trusted.lapse_timer = 0;
		t = gw_ed_bootstrap_build_message(&trusted);
		g_assert_null(item_value(t, "./DMAcc/gwmo-GW-1/Ext/LapseTimer"));
		g_assert_null(item_value(t, "./DMAcc/gwmo-GW-1/Ext"));
	}
}

/* a device applies it: the DMAcc DDF of DM 1.2 takes every node */
static void
test_applies_to_device_tree(void)
{
	g_autoptr(GwSyncmlMessage) msg = gw_ed_bootstrap_build_message(&account);
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GPtrArray) results = NULL;
	const GwSyncmlCommand *add = g_ptr_array_index(msg->commands, 0);

	g_assert_true(gw_dm_tree_install_standard_objects(tree, &device_info, NULL));
	for (guint i = 0; i < add->items->len; i++) {
		const GwSyncmlItem *item = g_ptr_array_index(add->items, i);
		g_autoptr(GBytes) data =
		    item->data != NULL ? g_bytes_new(item->data, strlen(item->data)) : NULL;
		guint status = gw_dm_tree_add(tree,
		                              NULL,
		                              item->target_uri,
		                              gw_syncml_item_get_format(item),
		                              item->meta.type,
		                              data);
		if (status != GW_DM_STATUS_OK)
			g_printerr("%s: %u\n", item->target_uri, status);
		g_assert_cmpuint(status, ==, GW_DM_STATUS_OK);
	}
	g_assert_cmpuint(
	    gw_dm_tree_get(tree, NULL, "./DMAcc/gwmo-GW-1/AppAddr/1/Addr", &results), ==, 200);
	/* the secrets are the device's alone */
	g_assert_cmpuint(gw_dm_tree_get(tree, NULL, "./DMAcc/gwmo-GW-1/AppAuth/1/AAuthSecret", NULL),
	                 ==,
	                 GW_DM_STATUS_COMMAND_NOT_ALLOWED);
}

/* WBXML: read back by the engine and by Debian's wbxml2xml */
static void
test_wbxml(void)
{
	g_autoptr(GwSyncmlMessage) msg = gw_ed_bootstrap_build_message(&account);
	g_autoptr(GBytes) wbxml = NULL;
	g_autoptr(GwSyncmlMessage) back = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *tool = g_find_program_in_path("wbxml2xml");

	wbxml = gw_ed_bootstrap_encode(msg, TRUE, &error);
	g_assert_no_error(error);
	back = gw_syncml_message_decode(wbxml, GW_SYNCML_DM_WBXML_TYPE, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(gw_syncml_message_equal(msg, back));
	if (tool == NULL) {
		g_test_skip("wbxml2xml (libwbxml2-utils) not installed");
		return;
	}
	{
		g_autofree gchar *dir = g_dir_make_tmp("gw-test-edboot-XXXXXX", &error);
		g_autofree gchar *in = g_build_filename(dir, "boot.wbxml", NULL);
		g_autofree gchar *out = g_build_filename(dir, "boot.xml", NULL);
		g_autofree gchar *text = NULL;
		g_autofree gchar *stdout_text = NULL;
		g_autofree gchar *stderr_text = NULL;
		gint status = 0;
		const gchar *argv[] = {tool, "-o", out, in, NULL};
		gsize len = 0;
		const gchar *bytes = g_bytes_get_data(wbxml, &len);

		g_assert_no_error(error);
		g_assert_true(g_file_set_contents(in, bytes, (gssize)len, NULL));
		g_assert_true(g_spawn_sync(NULL,
		                           (gchar **)argv,
		                           NULL,
		                           G_SPAWN_DEFAULT,
		                           NULL,
		                           NULL,
		                           &stdout_text,
		                           &stderr_text,
		                           &status,
		                           &error));
		g_assert_no_error(error);
		g_assert_true(g_spawn_check_wait_status(status, NULL));
		g_assert_true(g_file_get_contents(out, &text, NULL, NULL));
		g_assert_nonnull(strstr(text, "<VerProto>DM/1.2</VerProto>"));
		g_assert_nonnull(strstr(text, "./DMAcc/gwmo-GW-1/AppAuth/2/AAuthName"));
		g_assert_nonnull(strstr(text, "SRVCRED"));
		g_assert_nonnull(strstr(text, "syncml:auth-md5"));
		g_unlink(in);
		g_unlink(out);
		g_rmdir(dir);
	}
}

static void
test_request_checks(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *long_id = g_strnfill(256, 'a');
	g_autofree gchar *name = gw_ed_bootstrap_account_name("GW 1/../x");
	g_autofree gchar *url = gw_ed_bootstrap_dm_url("192.0.2.1:7444", TRUE);
	g_autofree gchar *url6 = gw_ed_bootstrap_dm_url("[::1]:80", FALSE);
	g_autofree gchar *bad = gw_ed_bootstrap_dm_url("evil.example/x?y", FALSE);
	g_autofree gchar *none = gw_ed_bootstrap_dm_url("", FALSE);

	g_assert_cmpstr(name, ==, "gwmo-GW_1_.._x");
	g_assert_cmpstr(url, ==, "https://192.0.2.1:7444/dm");
	g_assert_cmpstr(url6, ==, "http://[::1]:80/dm");
	g_assert_null(bad);
	g_assert_null(none);

	g_assert_true(gw_ed_bootstrap_validate_device_id("dev-1", NULL));
	g_assert_true(gw_ed_bootstrap_validate_device_id("IMEI:490154203237518", NULL));
	g_assert_false(gw_ed_bootstrap_validate_device_id(NULL, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	g_clear_error(&error);
	g_assert_false(gw_ed_bootstrap_validate_device_id("", NULL));
	g_assert_false(gw_ed_bootstrap_validate_device_id("a\nb", NULL));
	g_assert_false(gw_ed_bootstrap_validate_device_id("\xff\xfe", NULL));
	g_assert_false(gw_ed_bootstrap_validate_device_id(long_id, NULL));

	g_assert_false(gw_ed_bootstrap_accept_prefers_wbxml(NULL));
	g_assert_false(gw_ed_bootstrap_accept_prefers_wbxml("*/*"));
	g_assert_true(gw_ed_bootstrap_accept_prefers_wbxml("application/vnd.syncml.dm+wbxml"));
	g_assert_true(gw_ed_bootstrap_accept_prefers_wbxml(
	    "application/vnd.syncml.dm+wbxml, application/vnd.syncml.dm+xml"));
	g_assert_false(gw_ed_bootstrap_accept_prefers_wbxml(
	    "application/vnd.syncml.dm+xml, application/vnd.syncml.dm+wbxml"));
	g_assert_true(gw_ed_bootstrap_accept_prefers_wbxml(
	    "application/vnd.syncml.dm+xml;q=0.5, application/vnd.syncml.dm+wbxml;q=0.9"));
	g_assert_false(gw_ed_bootstrap_accept_prefers_wbxml("application/vnd.syncml.dm+wbxml;q=0"));
}

/* GwMO-HLF-006: the Exec's Data, and the DM Server's account it makes on the device */
static void
test_server_request(void)
{
	g_auto(GwEdServerAccount) a = {0};
	g_autoptr(GError) error = NULL;
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GwSyncmlCommand) add = NULL;
	g_autofree gchar *name = gw_ed_bootstrap_server_account_name("srv 1/..");
	g_autofree gchar *dots = gw_ed_bootstrap_server_account_name("..");
	const gchar *ok = "server=srv1.example&name=dev%201&secret=s%26cret&server-secret=t"
	                  "&addr=https%3A%2F%2Fdm.example%2Fdm";
	const gchar *bad[] = {
	    "",                                                          /* empty */
	    "server=srv1&name=n&secret=QQ",                              /* server-secret missing */
	    "server=srv1&name=n&secret=QQ&server-secret=QQ&bogus=1",     /* unknown field */
	    "server=srv1&server=srv2&name=n&secret=QQ&server-secret=QQ", /* twice */
	    "server=srv1&name=n&secret=&server-secret=QQ",               /* empty value */
	    "server=srv1&name=a%0Ab&secret=QQ&server-secret=QQ",         /* control character */
	    "server=srv1&name=n&secret=QQ&server-secret=QQ&addr=ftp://x", /* not http(s) */
	    "server=srv1&name&secret=QQ&server-secret=QQ",                /* no '=' */
	};

	g_assert_true(gw_ed_bootstrap_parse_server_request(ok, strlen(ok), &a, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(a.server_id, ==, "srv1.example");
	g_assert_cmpstr(a.name, ==, "dev 1");
	g_assert_cmpstr(a.secret, ==, "s&cret");
	g_assert_cmpstr(a.server_secret, ==, "t");
	g_assert_cmpstr(a.addr, ==, "https://dm.example/dm");
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_auto(GwEdServerAccount) b = {0};
		g_assert_false(
		    gw_ed_bootstrap_parse_server_request(bad[i], strlen(bad[i]), &b, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
		/* the message never holds a value (a secret) */
		g_assert_null(strstr(error->message, "QQ"));
		g_clear_error(&error);
		g_assert_null(b.server_id);
	}
	g_assert_cmpstr(name, ==, "srv_1_..");
	g_assert_cmpstr(dots, ==, ".._");

	/* a device applies it beside nothing else: the DMAcc DDF takes every node */
	add = gw_ed_bootstrap_build_server_add(&a);
	g_assert_true(gw_dm_tree_install_standard_objects(tree, &device_info, NULL));
	for (guint i = 0; i < add->items->len; i++) {
		const GwSyncmlItem *item = g_ptr_array_index(add->items, i);
		g_autoptr(GBytes) data =
		    item->data != NULL ? g_bytes_new(item->data, strlen(item->data)) : NULL;
		g_assert_cmpuint(gw_dm_tree_add(tree,
		                                NULL,
		                                item->target_uri,
		                                gw_syncml_item_get_format(item),
		                                item->meta.type,
		                                data),
		                 ==,
		                 GW_DM_STATUS_OK);
	}
	{
		g_autofree gchar *sid =
		    gw_dm_tree_dup_string(tree, "./DMAcc/srv1.example/ServerID");
		g_autofree gchar *addr =
		    gw_dm_tree_dup_string(tree, "./DMAcc/srv1.example/AppAddr/1/Addr");
		g_autofree gchar *srv_name =
		    gw_dm_tree_dup_string(tree, "./DMAcc/srv1.example/AppAuth/2/AAuthName");
		g_assert_cmpstr(sid, ==, "srv1.example");
		g_assert_cmpstr(addr, ==, "https://dm.example/dm");
		g_assert_cmpstr(srv_name, ==, "srv1.example");
		/* trusted: no lapse */
		g_assert_null(gw_dm_tree_lookup(tree, "./DMAcc/srv1.example/Ext/LapseTimer"));
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/ed-bootstrap/message", test_message);
	g_test_add_func("/gw/ed-bootstrap/device-tree", test_applies_to_device_tree);
	g_test_add_func("/gw/ed-bootstrap/wbxml", test_wbxml);
	g_test_add_func("/gw/ed-bootstrap/request", test_request_checks);
	g_test_add_func("/gw/ed-bootstrap/server-request", test_server_request);
	return g_test_run();
}
