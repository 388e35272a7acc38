/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GwServerLink against DM Servers that send what they should not (issue 11 §4): a package
 * over the MaxMsgSize the gateway announced (the 1.1 MB one with 100,000 attributes on its
 * root, which took libxml2 minutes) is refused before it is parsed; a WBXML package (decoded
 * in a worker thread: libwbxml2's cost grows with the square of an element's children) runs
 * to its end with its Replace in the tree; WBXML that does not decode ends the session with
 * GW_ERROR_PROTOCOL from the worker thread. The DM Server is a server-role GwDmSession behind a
 * GwHttpServer in this process.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "gw-crypto.h"
#include "gw-http-server.h"
#include "gw-server-link.h"
#include "gw-wbxml.h"

#define SERVER_ID "srv.example"
#define BIG_VALUE_SIZE (8 * 1024)

static const GwDmDeviceInfo test_info = {
    .dev_id = "GW-LINK-0001",
    .man = "gwmo",
    .mod = "unit",
    .dmv = "1.2",
    .lang = "en-US",
    .dev_typ = "gateway",
    .oem = "gwmo",
    .fwv = "1",
    .swv = "1",
    .hwv = "1",
};

typedef enum {
	SERVER_WBXML,   /* the session's replies, converted to WBXML */
	SERVER_HOSTILE, /* Package #2: 1.1 MB, 100,000 attributes on the root */
	SERVER_GARBAGE, /* Package #2: 2 KiB of WBXML that is not */
} ServerKind;

typedef struct {
	GwDmSession *server;
	gchar *value;
	ServerKind kind;
	guint wbxml_replies;
	GMainLoop *loop;
	gboolean done;
	gboolean ok;
	GError *error;
} Fixture;

static void
respond(GwHttpRequest *request, const gchar *content_type, GBytes *body)
{
	gw_http_request_respond(request, 200, content_type, body);
}

static void
dm_handler(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	Fixture *f = user_data;
	GBytes *body = gw_http_request_get_body(request);
	g_autoptr(GError) error = NULL;
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GBytes) xml = NULL;
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GBytes) wbxml = NULL;
	gsize len = 0;
	const gchar *data;

	if (f->kind == SERVER_HOSTILE) {
		GString *s = g_string_new("<SyncML xmlns=\"SYNCML:SYNCML1.2\"");
		for (guint i = 0; i < 100000; i++)
			g_string_append_printf(s, " a%u=\"v\"", i);
		g_string_append(s, "><SyncHdr/><SyncBody/></SyncML>");
		reply = g_string_free_to_bytes(s);
		respond(request, GW_SYNCML_DM_XML_TYPE, reply);
		return;
	}
	if (f->kind == SERVER_GARBAGE) {
		g_autofree gchar *junk = g_strnfill(2048, 'x');
		junk[0] = 0x02; /* WBXML 1.2, then nonsense */
		reply = g_bytes_new(junk, 2048);
		respond(request, GW_SYNCML_DM_WBXML_TYPE, reply);
		return;
	}
	/* the gateway speaks what it was spoken to: XML first, WBXML after */
	msg =
	    gw_syncml_message_decode(body, gw_http_request_get_content_type(request), NULL, &error);
	g_assert_no_error(error);
	xml = gw_syncml_message_to_xml(msg);
	reply = gw_dm_session_receive(f->server, xml, GW_SYNCML_DM_XML_TYPE, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(reply);
	data = g_bytes_get_data(reply, &len);
	wbxml = gw_wbxml_from_xml(data, len, &error);
	g_assert_no_error(error);
	if (gw_syncml_message_decode_is_slow(wbxml, GW_SYNCML_DM_WBXML_TYPE))
		f->wbxml_replies++;
	respond(request, GW_SYNCML_DM_WBXML_TYPE, wbxml);
}

static void
session_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Fixture *f = user_data;
	f->ok = gw_server_link_run_session_finish(GW_SERVER_LINK(source), res, NULL, &f->error);
	f->done = TRUE;
	g_main_loop_quit(f->loop);
}

static void
run(Fixture *f, ServerKind kind)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GwHttpServer) http = NULL;
	g_autoptr(GwHttpClient) client = NULL;
	g_autoptr(GTlsCertificate) identity = NULL;
	g_autofree gchar *dir = NULL;
	g_autofree gchar *cert = NULL;
	g_autofree gchar *key = NULL;
	g_autoptr(GwServerLink) link = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *addr = NULL;
	g_autofree gchar *got = NULL;
	GwDmSessionConfig cfg = {0};
	GwSyncmlCommand *replace;
	GwSyncmlItem *item;
	guint16 port;

	f->kind = kind;
	g_assert_true(gw_dm_tree_install_standard_objects(tree, &test_info, &error));
	/* HTTPS: the DM Server's certificate is the one the client trusts */
	dir = g_dir_make_tmp("gw-server-link-XXXXXX", &error);
	g_assert_no_error(error);
	cert = g_build_filename(dir, "tls.crt", NULL);
	key = g_build_filename(dir, "tls.key", NULL);
	identity = gw_crypto_load_or_create(cert, key, "gwmo-test", &error);
	g_assert_no_error(error);
	http = gw_http_server_new(identity);
	g_assert_true(gw_http_server_listen(http, "https://127.0.0.1:0", &error));
	g_assert_no_error(error);
	gw_http_server_add_handler(http, "/dm", dm_handler, f, NULL);
	port = gw_http_server_get_port(http, TRUE);
	addr = g_strdup_printf("https://127.0.0.1:%u/dm", port);
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./DMAcc/s/ServerID", GW_DM_FORMAT_CHR, SERVER_ID, &error));
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./DMAcc/s/AppAddr/1/Addr", GW_DM_FORMAT_CHR, addr, &error));
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./Test/big", GW_DM_FORMAT_CHR, "old", &error));
	g_assert_true(gw_dm_tree_set_properties(tree,
	                                        "./Test/big",
	                                        GW_DM_ACCESS_NONE,
	                                        "Get=" SERVER_ID "&Replace=" SERVER_ID,
	                                        NULL,
	                                        &error));
	g_assert_no_error(error);

	/* the DM Server: no credentials either way, one big Replace */
	cfg.role = GW_DM_SESSION_ROLE_SERVER;
	cfg.local_uri = g_strdup(SERVER_ID);
	f->server = gw_dm_session_new(&cfg, NULL);
	gw_dm_session_config_clear(&cfg);
	f->value = g_strnfill(BIG_VALUE_SIZE, 'v');
	replace = gw_syncml_command_new(GW_SYNCML_CMD_REPLACE);
	item = gw_syncml_item_new("./Test/big", NULL);
	gw_syncml_item_set_data(item, "chr", "text/plain", f->value);
	gw_syncml_command_add_item(replace, item);
	gw_dm_session_queue_command(f->server, replace);

	client = gw_http_client_new(cert, &error);
	g_assert_no_error(error);
	gw_http_client_set_retries(client, 0, 0);
	link = gw_server_link_new(tree, client, "./DMAcc/s");
	f->loop = g_main_loop_new(NULL, FALSE);
	gw_server_link_run_session_async(link, 1201, NULL, NULL, NULL, session_done, f);
	if (!f->done)
		g_main_loop_run(f->loop);
	g_main_loop_unref(f->loop);
	got = gw_dm_tree_dup_string(tree, "./Test/big");
	if (kind == SERVER_WBXML) {
		g_assert_no_error(f->error);
		g_assert_true(f->ok);
		/* WBXML packages, decoded in the worker thread, and the Replace ran */
		g_assert_cmpuint(f->wbxml_replies, >=, 1);
		g_assert_cmpstr(got, ==, f->value);
		g_assert_cmpint(
		    gw_dm_session_get_state(f->server), ==, GW_DM_SESSION_STATE_FINISHED);
	} else {
		g_assert_false(f->ok);
		g_assert_error(f->error, GW_ERROR, GW_ERROR_PROTOCOL);
		g_test_message("%s", f->error->message);
		if (kind == SERVER_HOSTILE)
			g_assert_nonnull(strstr(f->error->message, "MaxMsgSize"));
		g_assert_cmpstr(got, ==, "old");
	}
	g_clear_error(&f->error);
	g_clear_object(&f->server);
	g_free(f->value);
	gw_http_server_disconnect(http);
	g_remove(cert);
	g_remove(key);
	g_rmdir(dir);
}

static void
test_hostile(void)
{
	Fixture f = {0};
	run(&f, SERVER_HOSTILE);
}

static void
test_wbxml(void)
{
	Fixture f = {0};
	run(&f, SERVER_WBXML);
}

static void
test_garbage(void)
{
	Fixture f = {0};
	run(&f, SERVER_GARBAGE);
}

static void
set_leaf(GwDmTree *tree, const gchar *uri, GwDmFormat format, const void *data, gsize len)
{
	g_autoptr(GBytes) value = g_bytes_new(data, len);
	g_assert_cmpuint(gw_dm_tree_add(tree, NULL, uri, format, NULL, value), ==, 200);
}

/* the two DMAcc layouts (gw-server-link.h): an account's identity is its ServerID, else its
 * SrvID; only an account with a SrvID and no ServerID is a DMAcc 2.0 one; its Package #0
 * secret is Auth/Noti/Secret, byte for byte (bin: a NUL byte is part of it), and
 * Auth/Noti/Data its auth data; a DM 1.x account's is its SRVCRED secret */
static void
test_dmacc_layouts(void)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GwHttpClient) client = gw_http_client_new(NULL, NULL);
	g_autoptr(GwServerLink) dm1 = NULL;
	g_autoptr(GwServerLink) dm2 = NULL;
	g_autoptr(GBytes) secret = NULL;
	g_autoptr(GBytes) data = NULL;
	g_autofree gchar *sid = NULL;
	static const guint8 noti_secret[] = {'n', 0, 't', 'i'};

	g_assert_true(gw_dm_tree_install_standard_objects(tree, &test_info, NULL));
	set_leaf(tree, "./DMAcc/a/ServerID", GW_DM_FORMAT_CHR, "srv-a", 5);
	set_leaf(tree, "./DMAcc/a/AppAuth/1/AAuthLevel", GW_DM_FORMAT_CHR, "SRVCRED", 7);
	set_leaf(tree, "./DMAcc/a/AppAuth/1/AAuthSecret", GW_DM_FORMAT_CHR, "srvcred", 7);
	set_leaf(tree, "./DMAcc/b/SrvID", GW_DM_FORMAT_CHR, "srv-b", 5);
	set_leaf(tree, "./DMAcc/b/Auth/Noti/Secret", GW_DM_FORMAT_BIN, noti_secret, 4);
	set_leaf(tree, "./DMAcc/b/Auth/Noti/Data", GW_DM_FORMAT_BIN, "data", 4);
	set_leaf(tree, "./DMAcc/c/ServerID", GW_DM_FORMAT_CHR, "srv-c", 5);
	set_leaf(tree, "./DMAcc/c/SrvID", GW_DM_FORMAT_CHR, "srv-c2", 6);

	sid = gw_server_link_dup_account_server_id(tree, "./DMAcc/a");
	g_assert_cmpstr(sid, ==, "srv-a");
	g_clear_pointer(&sid, g_free);
	sid = gw_server_link_dup_account_server_id(tree, "./DMAcc/b");
	g_assert_cmpstr(sid, ==, "srv-b");
	g_clear_pointer(&sid, g_free);
	sid = gw_server_link_dup_account_server_id(tree, "./DMAcc/c");
	g_assert_cmpstr(sid, ==, "srv-c");
	g_assert_false(gw_server_link_account_is_dm2(tree, "./DMAcc/a"));
	g_assert_true(gw_server_link_account_is_dm2(tree, "./DMAcc/b"));
	g_assert_false(gw_server_link_account_is_dm2(tree, "./DMAcc/c"));

	dm2 = gw_server_link_new(tree, client, "./DMAcc/b");
	g_assert_true(gw_server_link_get_notification_credentials(dm2, &secret, &data));
	g_assert_cmpmem(g_bytes_get_data(secret, NULL), g_bytes_get_size(secret), noti_secret, 4);
	g_assert_cmpmem(g_bytes_get_data(data, NULL), g_bytes_get_size(data), "data", 4);
	g_clear_pointer(&secret, g_bytes_unref);
	g_clear_pointer(&data, g_bytes_unref);
	dm1 = gw_server_link_new(tree, client, "./DMAcc/a");
	g_assert_true(gw_server_link_get_notification_credentials(dm1, &secret, &data));
	g_assert_cmpmem(g_bytes_get_data(secret, NULL), g_bytes_get_size(secret), "srvcred", 7);
	g_assert_null(data);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/server-link/dmacc-layouts", test_dmacc_layouts);
	g_test_add_func("/gw/server-link/hostile", test_hostile);
	g_test_add_func("/gw/server-link/wbxml", test_wbxml);
	g_test_add_func("/gw/server-link/garbage", test_garbage);
	return g_test_run();
}
