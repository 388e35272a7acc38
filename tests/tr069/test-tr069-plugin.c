/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The built TR-069 adapter module (plugins/tr069), loaded as the loader loads it, driven by a
 * fake gateway (the plugin's signals and vfuncs, and the real southbound listener:
 * GwHttpServer with the SDK's HTTP seam, GwPluginHttpHost) against the reference CPE
 * (tests/peers/gwmo-test-cpe, a real process on 127.0.0.1).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "gw-crypto.h"
#include "gw-http-server.h"
#include "gw-plugin-http-host.h"
#include "gw-plugin-kit.h"

#define CPE_ID "00D09E-TestCPE-CPE0001"
/* a guard against a hung test, never a guessed wait: every wait ends on its event */
#define GUARD_S 30

static GType plugin_type;

/* ---- a fake gateway ---- */

typedef struct {
	GwPlugin *plugin;
	GHashTable *info;  /* DeviceID -> GwDeviceInfo */
	GHashTable *trees; /* DeviceID -> GwDeviceTree */
	guint found;
	gchar *url;     /* http://127.0.0.1:<port>/cwmp */
	gchar *tls_url; /* https://… */
	gchar *dir;
	GTlsCertificate *identity;
	GwHttpServer *server;
	GwPluginHttpHost *host;
} GwGateway;

static void
on_found(GwPlugin *plugin, GwDeviceInfo *info, GwDeviceTree *tree, gpointer user_data)
{
	GwGateway *gw = user_data;
	const gchar *id = gw_device_info_get_device_id(info);

	g_hash_table_insert(gw->info, g_strdup(id), gw_device_info_ref(info));
	g_hash_table_insert(gw->trees, g_strdup(id), gw_device_tree_ref(tree));
	gw->found++;
}

static GwGateway *
gateway_start(const gchar *const *config)
{
	GwGateway *gw = g_new0(GwGateway, 1);
	g_autoptr(GKeyFile) keyfile = g_key_file_new();
	g_autoptr(GError) error = NULL;

	g_key_file_set_string(keyfile, "tr069", "username", "cpe");
	g_key_file_set_string(keyfile, "tr069", "password", "cpe-secret");
	g_key_file_set_string(keyfile, "tr069", "connection-request-username", "acs");
	g_key_file_set_string(keyfile, "tr069", "connection-request-password", "acs-secret");
	gw_plugin_kit_set_config(keyfile, "tr069", config);
	gw->info = g_hash_table_new_full(
	    g_str_hash, g_str_equal, g_free, (GDestroyNotify)gw_device_info_unref);
	gw->trees = g_hash_table_new_full(
	    g_str_hash, g_str_equal, g_free, (GDestroyNotify)gw_device_tree_unref);
	gw->plugin = g_object_new(plugin_type, NULL);
	gw_plugin_set_name(gw->plugin, "tr069");
	gw_plugin_set_config(gw->plugin, keyfile);
	g_assert_cmpstr(gw_plugin_get_protocol(gw->plugin), ==, "TR-069");
	g_signal_connect(gw->plugin, "device-found", G_CALLBACK(on_found), gw);
	/* the gateway's side: the listener, its own path reserved, the plugin attached before
	 * its startup, the listener given after it (as gwmod does) */
	gw->dir = g_dir_make_tmp("gwmo-tr069-XXXXXX", &error);
	g_assert_no_error(error);
	{
		g_autofree gchar *cert = g_build_filename(gw->dir, "tls.crt", NULL);
		g_autofree gchar *key = g_build_filename(gw->dir, "tls.key", NULL);
		gw->identity = gw_crypto_load_or_create(cert, key, "gwmo-test", &error);
		g_assert_no_error(error);
	}
	gw->server = gw_http_server_new(gw->identity);
	gw->host = gw_plugin_http_host_new();
	gw_plugin_http_host_reserve(gw->host, "/dm");
	gw_plugin_http_host_attach(gw->host, gw->plugin);
	g_assert_true(gw_plugin_startup(gw->plugin, &error));
	g_assert_no_error(error);
	g_assert_true(gw_http_server_listen(gw->server, "http://127.0.0.1:0", &error));
	g_assert_no_error(error);
	g_assert_true(gw_http_server_listen(gw->server, "https://127.0.0.1:0", &error));
	g_assert_no_error(error);
	gw_plugin_http_host_set_server(gw->host, gw->server);
	gw->url =
	    g_strdup_printf("http://127.0.0.1:%u/cwmp", gw_http_server_get_port(gw->server, FALSE));
	gw->tls_url =
	    g_strdup_printf("https://127.0.0.1:%u/cwmp", gw_http_server_get_port(gw->server, TRUE));
	{
		g_auto(GStrv) uris = gw_plugin_get_http_uris(gw->plugin, "/cwmp");
		g_assert_cmpuint(g_strv_length(uris), ==, 2);
		g_assert_true(g_strv_contains((const gchar *const *)uris, gw->url));
		g_assert_true(g_strv_contains((const gchar *const *)uris, gw->tls_url));
	}
	return gw;
}

static void
gateway_stop(GwGateway *gw)
{
	gw_plugin_shutdown(gw->plugin);
	g_signal_handlers_disconnect_by_data(gw->plugin, gw);
	g_object_unref(gw->plugin);
	g_hash_table_unref(gw->info);
	g_hash_table_unref(gw->trees);
	gw_http_server_disconnect(gw->server);
	g_object_unref(gw->server);
	g_object_unref(gw->host);
	{
		g_autofree gchar *cert = g_build_filename(gw->dir, "tls.crt", NULL);
		g_autofree gchar *key = g_build_filename(gw->dir, "tls.key", NULL);
		g_remove(cert);
		g_remove(key);
		g_rmdir(gw->dir);
	}
	g_object_unref(gw->identity);
	g_free(gw->dir);
	g_free(gw->url);
	g_free(gw->tls_url);
	g_free(gw);
}

/* ---- the reference CPE, a real process ---- */

typedef struct {
	GSubprocess *proc;
	GDataInputStream *out;
	GPtrArray *lines;
	GCancellable *cancellable;
	gboolean eof;
} GwCpe;

static void
cpe_read(GwCpe *cpe);

static void
cpe_line_cb(GObject *source, GAsyncResult *res, gpointer data)
{
	GwCpe *cpe = data;
	g_autoptr(GError) error = NULL;
	gchar *line = g_data_input_stream_read_line_finish_utf8(
	    G_DATA_INPUT_STREAM(source), res, NULL, &error);

	if (line == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			cpe->eof = TRUE;
		return;
	}
	g_test_message("cpe: %s", line);
	g_ptr_array_add(cpe->lines, line);
	cpe_read(cpe);
}

static void
cpe_read(GwCpe *cpe)
{
	g_data_input_stream_read_line_async(
	    cpe->out, G_PRIORITY_DEFAULT, cpe->cancellable, cpe_line_cb, cpe);
}

static GwCpe *
cpe_start(GwGateway *gw, const gchar *const *extra)
{
	GwCpe *cpe = g_new0(GwCpe, 1);
	g_autoptr(GStrvBuilder) b = g_strv_builder_new();
	g_auto(GStrv) argv = NULL;
	g_autoptr(GError) error = NULL;

	g_strv_builder_add_many(b,
	                        g_getenv("GWMO_TEST_CPE"),
	                        "--acs",
	                        gw->url,
	                        "--username",
	                        "cpe",
	                        "--password",
	                        "cpe-secret",
	                        "--watch-stdin",
	                        NULL);
	if (extra != NULL)
		g_strv_builder_addv(b, (const gchar **)extra);
	argv = g_strv_builder_end(b);
	cpe->proc =
	    g_subprocess_newv((const gchar *const *)argv,
	                      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDIN_PIPE,
	                      &error);
	g_assert_no_error(error);
	cpe->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(cpe->proc));
	cpe->lines = g_ptr_array_new_with_free_func(g_free);
	cpe->cancellable = g_cancellable_new();
	cpe_read(cpe);
	return cpe;
}

static void
cpe_stop(GwCpe *cpe)
{
	g_autoptr(GError) error = NULL;

	g_cancellable_cancel(cpe->cancellable);
	g_subprocess_send_signal(cpe->proc, SIGTERM);
	g_subprocess_wait(cpe->proc, NULL, &error);
	g_assert_no_error(error);
	g_object_unref(cpe->proc);
	g_object_unref(cpe->out);
	g_object_unref(cpe->cancellable);
	g_ptr_array_unref(cpe->lines);
	g_free(cpe);
}

typedef struct {
	GwCpe *cpe;
	const gchar *prefix;
	guint from;
	guint at;
} GwLineWait;

static gboolean
line_seen(gpointer data)
{
	GwLineWait *w = data;

	for (guint i = w->from; i < w->cpe->lines->len; i++) {
		if (g_str_has_prefix(g_ptr_array_index(w->cpe->lines, i), w->prefix)) {
			w->at = i;
			return TRUE;
		}
	}
	return w->cpe->eof;
}

/* waits for a line of the CPE's starting with @prefix at or after line @from; its index */
static guint
cpe_wait(GwCpe *cpe, guint from, const gchar *prefix)
{
	GwLineWait w = {cpe, prefix, from, G_MAXUINT};

	g_assert_true(gw_plugin_kit_wait(line_seen, &w, GUARD_S));
	if (w.at == G_MAXUINT)
		g_error("the CPE exited before \"%s\"", prefix);
	return w.at;
}

static guint
cpe_count(GwCpe *cpe, const gchar *prefix)
{
	guint n = 0;

	for (guint i = 0; i < cpe->lines->len; i++)
		n += g_str_has_prefix(g_ptr_array_index(cpe->lines, i), prefix);
	return n;
}

/* ---- commands ---- */

static GwDeviceResult *
run(GwGateway *gw, GwDeviceOp op, const gchar *uri, const gchar *data, guint deadline_ms)
{
	g_autoptr(GBytes) bytes = data != NULL ? g_bytes_new(data, strlen(data)) : NULL;
	g_autoptr(GwDeviceCommand) cmd = gw_device_command_new(
	    op, uri, data != NULL ? "chr" : NULL, data != NULL ? "text/plain" : NULL, bytes);
	g_autoptr(GError) error = NULL;
	gint64 deadline =
	    g_get_monotonic_time() + (gint64)(deadline_ms > 0 ? deadline_ms : 20000) * 1000;
	GwDeviceResult *result =
	    gw_plugin_kit_run(gw->plugin, CPE_ID, cmd, deadline, NULL, GUARD_S, &error);

	g_assert_no_error(error);
	g_assert_nonnull(result);
	return result;
}

static gchar *
result_value(GwDeviceResult *result)
{
	GBytes *data = NULL;
	gsize len = 0;
	const gchar *p;

	g_assert_cmpuint(gw_device_result_get_n_items(result), >=, 1);
	gw_device_result_get_item(result, 0, NULL, NULL, NULL, &data);
	if (data == NULL)
		return g_strdup("");
	p = g_bytes_get_data(data, &len);
	return g_strndup(p, len);
}

static gboolean
found_cpe(gpointer data)
{
	return g_hash_table_contains(((GwGateway *)data)->info, CPE_ID);
}

/* ---- tests ---- */

/* a BOOT Inform registers the CPE: DeviceID, DevInfo, tree; the session ends with 204; a Get
 * answered from the Inform's cache sends no RPC */
static void
test_inform(void)
{
	const gchar *config[] = {"cache-seconds=60", NULL};
	GwGateway *gw = gateway_start(config);
	GwCpe *cpe = cpe_start(gw, NULL);
	GwDeviceInfo *info;
	GwDeviceTree *tree;
	GwDeviceAccess access = 0;
	g_autoptr(GwDeviceResult) result = NULL;
	g_autofree gchar *value = NULL;

	cpe_wait(cpe, 0, "SESSION-END");
	g_assert_true(gw_plugin_kit_wait(found_cpe, gw, GUARD_S));
	g_assert_cmpstr(cpe->lines->pdata[1], ==, "INFORM 1 BOOT");
	info = g_hash_table_lookup(gw->info, CPE_ID);
	g_assert_cmpstr(gw_device_info_get_devinfo(info, "Man"), ==, "gwmo test");
	g_assert_cmpstr(gw_device_info_get_devinfo(info, "Mod"), ==, "Test CPE");
	g_assert_cmpstr(gw_device_info_get_devinfo(info, "FwV"), ==, "1.0.0");
	g_assert_cmpstr(gw_device_info_get_devinfo(info, "HwV"), ==, "HW1");
	g_assert_true(g_str_has_suffix(gw_device_info_get_address(info), "/cr"));
	tree = g_hash_table_lookup(gw->trees, CPE_ID);
	g_assert_true(gw_device_tree_is_dynamic(tree, "./TR069/Device"));
	g_assert_false(gw_device_tree_is_dynamic(tree, "./TR069/InternetGatewayDevice"));
	g_assert_true(
	    gw_device_tree_lookup(tree, "./TR069/Operations/Reboot", NULL, &access, NULL));
	g_assert_cmpint(access, ==, GW_DEVICE_ACCESS_EXEC);

	result = run(gw, GW_DEVICE_OP_GET, "./TR069/Device/DeviceInfo/SoftwareVersion", NULL, 0);
	g_assert_cmpuint(gw_device_result_get_status(result), ==, 200);
	value = result_value(result);
	g_assert_cmpstr(value, ==, "1.0.0");
	g_assert_cmpuint(cpe_count(cpe, "RPC"), ==, 0);
	g_assert_cmpuint(gw->found, ==, 1);

	cpe_stop(cpe);
	gateway_stop(gw);
}

/* no fresh cache: a Connection Request wakes the CPE and each command runs in its session;
 * CWMP faults map to DM status codes */
static void
test_commands(void)
{
	const gchar *config[] = {"cache-seconds=0", NULL};
	GwGateway *gw = gateway_start(config);
	GwCpe *cpe = cpe_start(gw, NULL);
	guint mark;

	cpe_wait(cpe, 0, "SESSION-END");
	g_assert_true(gw_plugin_kit_wait(found_cpe, gw, GUARD_S));
	mark = cpe->lines->len;
	{
		g_autoptr(GwDeviceResult) r =
		    run(gw, GW_DEVICE_OP_GET, "./TR069/Device/DeviceInfo/SoftwareVersion", NULL, 0);
		g_autofree gchar *v = result_value(r);
		g_assert_cmpuint(gw_device_result_get_status(r), ==, 200);
		g_assert_cmpstr(v, ==, "1.0.0");
		g_assert_cmpuint(cpe_wait(cpe, mark, "INFORM 6 CONNECTION REQUEST"),
		                 <,
		                 cpe_wait(cpe, mark, "RPC GetParameterValues"));
	}
	cpe_wait(cpe, mark, "SESSION-END");
	{
		g_autoptr(GwDeviceResult) set = run(
		    gw, GW_DEVICE_OP_REPLACE, "./TR069/Device/Time/NTPServer1", "ntp.example", 0);
		g_autoptr(GwDeviceResult) get =
		    run(gw, GW_DEVICE_OP_GET, "./TR069/Device/Time/NTPServer1", NULL, 0);
		g_autofree gchar *v = result_value(get);
		g_assert_cmpuint(gw_device_result_get_status(set), ==, 200);
		g_assert_cmpstr(v, ==, "ntp.example");
	}
	{
		/* 9008 non-writable → 405, with the fault's text; 9005 unknown → 404 */
		g_autoptr(GwDeviceResult) ro = run(
		    gw, GW_DEVICE_OP_REPLACE, "./TR069/Device/DeviceInfo/SoftwareVersion", "9", 0);
		g_autoptr(GwDeviceResult) nope =
		    run(gw, GW_DEVICE_OP_GET, "./TR069/Device/DeviceInfo/Nope", NULL, 0);
		g_autofree gchar *text = result_value(ro);
		g_assert_cmpuint(gw_device_result_get_status(ro), ==, 405);
		g_assert_nonnull(strstr(text, "9008"));
		g_assert_cmpuint(gw_device_result_get_status(nope), ==, 404);
	}
	{
		/* a boolean reads as a DM bool; an interior node lists its children */
		g_autoptr(GwDeviceResult) b =
		    run(gw, GW_DEVICE_OP_GET, "./TR069/Device/Time/Enable", NULL, 0);
		g_autofree gchar *bv = result_value(b);
		g_autoptr(GwDeviceResult) node =
		    run(gw, GW_DEVICE_OP_GET, "./TR069/Device/Time", NULL, 0);
		g_autofree gchar *children = result_value(node);
		g_assert_cmpstr(bv, ==, "true");
		g_assert_cmpuint(gw_device_result_get_status(node), ==, 200);
		g_assert_true(g_str_equal(children, "Enable/NTPServer1") ||
		              g_str_equal(children, "NTPServer1/Enable"));
	}
	{
		g_autoptr(GwDeviceResult) add =
		    run(gw, GW_DEVICE_OP_ADD, "./TR069/Device/NAT/PortMapping", NULL, 0);
		const gchar *uri = NULL;
		g_autoptr(GwDeviceResult) del = NULL;
		g_autoptr(GwDeviceResult) again = NULL;
		g_assert_cmpuint(gw_device_result_get_status(add), ==, 200);
		gw_device_result_get_item(add, 0, &uri, NULL, NULL, NULL);
		g_assert_cmpstr(uri, ==, "./TR069/Device/NAT/PortMapping/2");
		del = run(gw, GW_DEVICE_OP_DELETE, uri, NULL, 0);
		g_assert_cmpuint(gw_device_result_get_status(del), ==, 200);
		again = run(gw, GW_DEVICE_OP_DELETE, "./TR069/Device/NAT/PortMapping/2", NULL, 0);
		g_assert_cmpuint(gw_device_result_get_status(again), ==, 404);
	}
	{
		g_autoptr(GwDeviceResult) other = run(gw, GW_DEVICE_OP_GET, "./UPnP/X", NULL, 0);
		g_assert_cmpuint(gw_device_result_get_status(other), ==, 404);
	}
	cpe_stop(cpe);
	gateway_stop(gw);
}

/* Exec Operations/Reboot: RebootResponse is 200; the CPE reboots and Informs 1 BOOT, M Reboot */
static void
test_reboot(void)
{
	GwGateway *gw = gateway_start(NULL);
	GwCpe *cpe = cpe_start(gw, NULL);
	g_autoptr(GwDeviceResult) r = NULL;
	guint mark;

	cpe_wait(cpe, 0, "SESSION-END");
	mark = cpe->lines->len;
	r = run(gw, GW_DEVICE_OP_EXEC, "./TR069/Operations/Reboot", NULL, 0);
	g_assert_cmpuint(gw_device_result_get_status(r), ==, 200);
	mark = cpe_wait(cpe, mark, "REBOOT");
	cpe_wait(cpe, mark, "INFORM 1 BOOT,M Reboot");
	cpe_stop(cpe);
	gateway_stop(gw);
}

/* a CPE that refuses Connection Requests: the command answers 408, before its deadline */
static void
test_unreachable(void)
{
	const gchar *config[] = {"cache-seconds=0", NULL};
	const gchar *extra[] = {"--silent", NULL};
	GwGateway *gw = gateway_start(config);
	GwCpe *cpe = cpe_start(gw, extra);
	g_autoptr(GwDeviceResult) r = NULL;
	gint64 start;

	cpe_wait(cpe, 0, "SESSION-END");
	start = g_get_monotonic_time();
	r = run(gw, GW_DEVICE_OP_GET, "./TR069/Device/DeviceInfo/SoftwareVersion", NULL, 15000);
	g_assert_cmpuint(gw_device_result_get_status(r), ==, 408);
	g_assert_cmpint(g_get_monotonic_time() - start, <, 15 * G_USEC_PER_SEC);
	cpe_stop(cpe);

	/* a CPE that is gone entirely (nothing listens at its URL): 408 by the deadline at most */
	g_clear_pointer(&r, gw_device_result_unref);
	r = run(gw, GW_DEVICE_OP_GET, "./TR069/Device/DeviceInfo/UpTime", NULL, 3000);
	g_assert_cmpuint(gw_device_result_get_status(r), ==, 408);
	gateway_stop(gw);
}

/* a TR-098 CPE speaking cwmp-1-0 and dropping cookies: its version and its root honoured */
static void
test_tr098(void)
{
	const gchar *config[] = {"cache-seconds=0", NULL};
	const gchar *extra[] = {"--model", "tr098", "--cwmp-version", "0", "--no-cookies", NULL};
	GwGateway *gw = gateway_start(config);
	GwCpe *cpe = cpe_start(gw, extra);
	g_autoptr(GwDeviceResult) r = NULL;
	g_autofree gchar *v = NULL;
	GwDeviceTree *tree;

	cpe_wait(cpe, 0, "SESSION-END");
	g_assert_true(gw_plugin_kit_wait(found_cpe, gw, GUARD_S));
	tree = g_hash_table_lookup(gw->trees, CPE_ID);
	g_assert_true(gw_device_tree_is_dynamic(tree, "./TR069/InternetGatewayDevice"));
	g_assert_false(gw_device_tree_is_dynamic(tree, "./TR069/Device"));
	r = run(gw,
	        GW_DEVICE_OP_GET,
	        "./TR069/InternetGatewayDevice/DeviceInfo/SoftwareVersion",
	        NULL,
	        0);
	v = result_value(r);
	g_assert_cmpuint(gw_device_result_get_status(r), ==, 200);
	g_assert_cmpstr(v, ==, "1.0.0");
	g_assert_cmpuint(cpe_count(cpe, "ERROR"), ==, 0);
	cpe_stop(cpe);
	gateway_stop(gw);
}

typedef struct {
	gboolean done;
	guint status;
} GwPost;

static void
post_cb(GObject *source, GAsyncResult *res, gpointer data)
{
	GwPost *post = data;
	SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), res);
	g_autoptr(GBytes) body = soup_session_send_and_read_finish(SOUP_SESSION(source), res, NULL);

	post->status = soup_message_get_status(msg);
	post->done = TRUE;
}

static gboolean
post_done(gpointer data)
{
	return ((GwPost *)data)->done;
}

static gboolean
gw_false_cb(void)
{
	return FALSE;
}

static gboolean
post_auth_cb(SoupMessage *msg, SoupAuth *auth, gboolean retrying, gpointer data)
{
	if (retrying)
		return FALSE;
	soup_auth_authenticate(auth, "cpe", data);
	return TRUE;
}

/* libsoup 3.2 resends a message restarted by a 401 with an empty body: give it its body again */
static void
post_restarted_cb(SoupMessage *msg, gpointer data)
{
	soup_message_set_request_body_from_bytes(msg, "text/xml", data);
}

static guint
post(GwGateway *gw, const gchar *password, const gchar *body)
{
	g_autoptr(SoupSession) session = soup_session_new();
	g_autoptr(SoupMessage) msg = soup_message_new(SOUP_METHOD_POST, gw->url);
	g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
	GwPost p = {0};

	soup_message_set_request_body_from_bytes(msg, "text/xml", bytes);
	g_signal_connect(msg, "authenticate", G_CALLBACK(post_auth_cb), (gpointer)password);
	g_signal_connect(msg, "restarted", G_CALLBACK(post_restarted_cb), bytes);
	soup_session_send_and_read_async(session, msg, G_PRIORITY_DEFAULT, NULL, post_cb, &p);
	g_assert_true(gw_plugin_kit_wait(post_done, &p, GUARD_S));
	return p.status;
}

/* wrong credentials: 401 and no record; malformed SOAP: 400; a response outside a session:
 * 403; the ACS keeps serving a good CPE after all of them */
static void
test_refusals(void)
{
	const gchar *extra[] = {"--password", "wrong", NULL};
	GwGateway *gw = gateway_start(NULL);
	GwCpe *bad = cpe_start(gw, extra);
	GwCpe *good;

	cpe_wait(bad, 0, "ERROR HTTP 401");
	g_assert_cmpuint(g_hash_table_size(gw->info), ==, 0);
	cpe_stop(bad);
	g_assert_cmpuint(post(gw, "cpe-secret", "<Envelope><Body><Inform>"), ==, 400);
	g_assert_cmpuint(post(gw, "cpe-secret", "<!DOCTYPE a><a/>"), ==, 400);
	g_assert_cmpuint(post(gw,
	                      "cpe-secret",
	                      "<Envelope><Body><RebootResponse xmlns='urn:dslforum-org:cwmp-1-0'/>"
	                      "</Body></Envelope>"),
	                 ==,
	                 403);
	g_assert_cmpuint(post(gw, "nope", "<Envelope/>"), ==, 401);
	good = cpe_start(gw, NULL);
	cpe_wait(good, 0, "SESSION-END");
	g_assert_true(gw_plugin_kit_wait(found_cpe, gw, GUARD_S));
	cpe_stop(good);
	gateway_stop(gw);
}

typedef struct {
	gboolean done;
	guint status;
	gchar *challenges;
} GwChallenge;

static void
challenge_cb(GObject *source, GAsyncResult *res, gpointer data)
{
	GwChallenge *c = data;
	SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), res);
	g_autoptr(GBytes) body = soup_session_send_and_read_finish(SOUP_SESSION(source), res, NULL);
	const gchar *list = soup_message_headers_get_list(soup_message_get_response_headers(msg),
	                                                  "WWW-Authenticate");

	c->status = soup_message_get_status(msg);
	c->challenges = g_strdup(list != NULL ? list : "");
	c->done = TRUE;
}

static gboolean
challenge_done(gpointer data)
{
	return ((GwChallenge *)data)->done;
}

static gboolean
accept_cert_cb(SoupMessage *msg, GTlsCertificate *cert, GTlsCertificateFlags errors, gpointer data)
{
	return TRUE; /* the test listener's self-signed identity */
}

/* what an unauthenticated POST is asked for: Digest always, Basic only when allowed */
static gchar *
challenges_at(const gchar *url)
{
	g_autoptr(SoupSession) session = soup_session_new();
	g_autoptr(SoupMessage) msg = soup_message_new(SOUP_METHOD_POST, url);
	GwChallenge c = {0};

	g_signal_connect(msg, "accept-certificate", G_CALLBACK(accept_cert_cb), NULL);
	soup_session_send_and_read_async(session, msg, G_PRIORITY_DEFAULT, NULL, challenge_cb, &c);
	g_assert_true(gw_plugin_kit_wait(challenge_done, &c, GUARD_S));
	g_assert_cmpuint(c.status, ==, 401);
	return c.challenges;
}

static gchar *
challenges_of(GwGateway *gw)
{
	return challenges_at(gw->url);
}

/* a POST with HTTP Basic sent up front (a CPE that knows its ACS wants it) */
static guint
post_basic(const gchar *url, const gchar *body)
{
	g_autoptr(SoupSession) session = soup_session_new();
	g_autoptr(SoupMessage) msg = soup_message_new(SOUP_METHOD_POST, url);
	g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
	g_autofree gchar *b64 = g_base64_encode((const guchar *)"cpe:cpe-secret", 14);
	g_autofree gchar *auth = g_strconcat("Basic ", b64, NULL);
	GwPost p = {0};

	soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", auth);
	soup_message_set_request_body_from_bytes(msg, "text/xml", bytes);
	g_signal_connect(msg, "accept-certificate", G_CALLBACK(accept_cert_cb), NULL);
	/* no second round: the status of the Basic attempt itself */
	g_signal_connect(msg, "authenticate", G_CALLBACK(gw_false_cb), NULL);
	soup_session_send_and_read_async(session, msg, G_PRIORITY_DEFAULT, NULL, post_cb, &p);
	g_assert_true(gw_plugin_kit_wait(post_done, &p, GUARD_S));
	return p.status;
}

/* /cwmp over the listener's TLS: Basic is offered and taken there (TR-069 3.2.2), while plain
 * HTTP still refuses it; the Inform it carried registers the CPE */
static void
test_basic_over_https(void)
{
	GwGateway *gw = gateway_start(NULL);
	g_autofree gchar *tls = challenges_at(gw->tls_url);
	g_autofree gchar *path =
	    g_build_filename(g_getenv("GWMO_TEST_DATA"), "tr069", "inform-boot.xml", NULL);
	g_autofree gchar *inform = NULL;

	g_assert_true(g_file_get_contents(path, &inform, NULL, NULL));
	g_assert_nonnull(strstr(tls, "Digest"));
	g_assert_nonnull(strstr(tls, "Basic"));
	g_assert_cmpuint(post_basic(gw->url, inform), ==, 401);
	g_assert_cmpuint(g_hash_table_size(gw->info), ==, 0);
	g_assert_cmpuint(post_basic(gw->tls_url, inform), ==, 200);
	g_assert_cmpuint(g_hash_table_size(gw->info), ==, 1);
	gateway_stop(gw);
}

static void
test_basic_over_http(void)
{
	const gchar *allow[] = {"allow-basic-over-http=true", NULL};
	GwGateway *gw = gateway_start(NULL);
	g_autofree gchar *strict = challenges_of(gw);
	g_autofree gchar *lab = NULL;

	g_assert_nonnull(strstr(strict, "Digest"));
	g_assert_null(strstr(strict, "Basic"));
	gateway_stop(gw);
	gw = gateway_start(allow);
	lab = challenges_of(gw);
	g_assert_nonnull(strstr(lab, "Digest"));
	g_assert_nonnull(strstr(lab, "Basic"));
	gateway_stop(gw);
}

/* ---- Digest replay (RFC 7616 3.4: the server checks the nonce count) ---- */

typedef struct {
	gboolean done;
	guint status;
	gchar *challenge; /* WWW-Authenticate, "" when none */
	gchar *cookie;    /* "gwmo_cwmp=…" from Set-Cookie, NULL when none */
} GwRaw;

static void
raw_cb(GObject *source, GAsyncResult *res, gpointer data)
{
	GwRaw *raw = data;
	SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), res);
	g_autoptr(GBytes) body = soup_session_send_and_read_finish(SOUP_SESSION(source), res, NULL);
	SoupMessageHeaders *headers = soup_message_get_response_headers(msg);
	const gchar *list = soup_message_headers_get_list(headers, "WWW-Authenticate");
	const gchar *cookie = soup_message_headers_get_one(headers, "Set-Cookie");

	raw->status = soup_message_get_status(msg);
	raw->challenge = g_strdup(list != NULL ? list : "");
	if (cookie != NULL)
		raw->cookie = g_strndup(cookie, strcspn(cookie, ";"));
	raw->done = TRUE;
}

static gboolean
raw_done(gpointer data)
{
	return ((GwRaw *)data)->done;
}

/* one request exactly as given (an Authorization and a Cookie header of the caller's, no
 * second round on a 401): what an attacker replaying a captured request sends */
static GwRaw
raw_request(GwGateway *gw,
            const gchar *method,
            const gchar *auth,
            const gchar *cookie,
            const gchar *body)
{
	g_autoptr(SoupSession) session = soup_session_new();
	g_autoptr(SoupMessage) msg = soup_message_new(method, gw->url);
	SoupMessageHeaders *headers = soup_message_get_request_headers(msg);
	GwRaw raw = {0};

	if (auth != NULL)
		soup_message_headers_replace(headers, "Authorization", auth);
	if (cookie != NULL)
		soup_message_headers_replace(headers, "Cookie", cookie);
	if (body != NULL) {
		g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
		soup_message_set_request_body_from_bytes(msg, "text/xml", bytes);
	}
	g_signal_connect(msg, "authenticate", G_CALLBACK(gw_false_cb), NULL);
	soup_session_send_and_read_async(session, msg, G_PRIORITY_DEFAULT, NULL, raw_cb, &raw);
	g_assert_true(gw_plugin_kit_wait(raw_done, &raw, GUARD_S));
	return raw;
}

static void
raw_clear(GwRaw *raw)
{
	g_clear_pointer(&raw->challenge, g_free);
	g_clear_pointer(&raw->cookie, g_free);
}

/* a fresh nonce: the one the ACS's challenge to an unauthenticated request carries */
static gchar *
fresh_nonce(GwGateway *gw)
{
	GwRaw raw = raw_request(gw, SOUP_METHOD_GET, NULL, NULL, NULL);
	const gchar *start = strstr(raw.challenge, "nonce=\"");
	gchar *nonce;

	g_assert_cmpuint(raw.status, ==, 401);
	g_assert_nonnull(start);
	start += strlen("nonce=\"");
	nonce = g_strndup(start, strcspn(start, "\""));
	raw_clear(&raw);
	return nonce;
}

/* the Authorization a client of user cpe (password cpe-secret) sends for @method /cwmp */
static gchar *
digest_auth(const gchar *method, const gchar *nonce, guint nc, const gchar *cnonce)
{
	g_autofree gchar *a1 = g_strdup("cpe:gwmo-cwmp:cpe-secret");
	g_autofree gchar *a2 = g_strdup_printf("%s:/cwmp", method);
	g_autofree gchar *ha1 = g_compute_checksum_for_string(G_CHECKSUM_MD5, a1, -1);
	g_autofree gchar *ha2 = g_compute_checksum_for_string(G_CHECKSUM_MD5, a2, -1);
	g_autofree gchar *ncs = g_strdup_printf("%08x", nc);
	g_autofree gchar *kd = g_strjoin(":", ha1, nonce, ncs, cnonce, "auth", ha2, NULL);
	g_autofree gchar *response = g_compute_checksum_for_string(G_CHECKSUM_MD5, kd, -1);

	return g_strdup_printf("Digest username=\"cpe\", realm=\"gwmo-cwmp\", nonce=\"%s\", "
	                       "uri=\"/cwmp\", response=\"%s\", qop=auth, nc=%s, cnonce=\"%s\", "
	                       "algorithm=MD5",
	                       nonce,
	                       response,
	                       ncs,
	                       cnonce);
}

/* the status of one request with @auth; *stale: its challenge said stale=true */
static guint
status_of(GwGateway *gw,
          const gchar *method,
          const gchar *auth,
          const gchar *cookie,
          const gchar *body,
          gboolean *stale)
{
	GwRaw raw = raw_request(gw, method, auth, cookie, body);
	guint status = raw.status;

	if (stale != NULL)
		*stale = strstr(raw.challenge, "stale=true") != NULL;
	raw_clear(&raw);
	return status;
}

static guint
digest_nonces(GwGateway *gw)
{
	guint n = G_MAXUINT;

	g_object_get(gw->plugin, "digest-nonces", &n, NULL);
	return n;
}

/* a captured Digest request replayed verbatim is refused (401, not stale: the client is not
 * told to retry) and does not disturb the CPE's session; the next nonce count on the same
 * nonce is taken, and counts that arrive out of order once each (a client's concurrent
 * requests); a flood of fresh nonces keeps the count table within [tr069] max-digest-nonces,
 * and a nonce it evicted is answered stale=true (a real client re-authenticates); libsoup's
 * client (it counts) still gets in */
static void
test_digest_replay(void)
{
	const gchar *config[] = {"max-digest-nonces=8", NULL};
	GwGateway *gw = gateway_start(config);
	g_autofree gchar *path =
	    g_build_filename(g_getenv("GWMO_TEST_DATA"), "tr069", "inform-boot.xml", NULL);
	g_autofree gchar *inform = NULL;
	g_autofree gchar *nonce = fresh_nonce(gw);
	g_autofree gchar *first = digest_auth(SOUP_METHOD_POST, nonce, 1, "c0ffee01");
	g_autofree gchar *cookie = NULL;
	gboolean stale = TRUE;
	GwRaw raw;

	g_assert_true(g_file_get_contents(path, &inform, NULL, NULL));
	/* the CPE's Inform: in, its session opens */
	raw = raw_request(gw, SOUP_METHOD_POST, first, NULL, inform);
	g_assert_cmpuint(raw.status, ==, 200);
	g_assert_nonnull(raw.cookie);
	cookie = g_strdup(raw.cookie);
	raw_clear(&raw);
	g_assert_cmpuint(g_hash_table_size(gw->info), ==, 1);

	/* the attacker's replay of it, with and without the session's cookie */
	g_assert_cmpuint(status_of(gw, SOUP_METHOD_POST, first, NULL, inform, &stale), ==, 401);
	g_assert_false(stale);
	g_assert_cmpuint(status_of(gw, SOUP_METHOD_POST, first, cookie, inform, &stale), ==, 401);
	g_assert_false(stale);

	/* the CPE's next request, nc 2 on the same nonce: its session is still there and ends */
	{
		g_autofree gchar *next = digest_auth(SOUP_METHOD_POST, nonce, 2, "c0ffee02");
		g_assert_cmpuint(status_of(gw, SOUP_METHOD_POST, next, cookie, "", NULL), ==, 204);
		g_assert_cmpuint(
		    status_of(gw, SOUP_METHOD_POST, next, cookie, "", &stale), ==, 401);
		g_assert_false(stale);
	}
	/* out of order (GET: authenticated is 405, refused is 401): 4, then 3 once */
	{
		g_autofree gchar *four = digest_auth(SOUP_METHOD_GET, nonce, 4, "c0ffee04");
		g_autofree gchar *three = digest_auth(SOUP_METHOD_GET, nonce, 3, "c0ffee03");
		g_assert_cmpuint(status_of(gw, SOUP_METHOD_GET, four, NULL, NULL, NULL), ==, 405);
		g_assert_cmpuint(status_of(gw, SOUP_METHOD_GET, three, NULL, NULL, NULL), ==, 405);
		g_assert_cmpuint(
		    status_of(gw, SOUP_METHOD_GET, three, NULL, NULL, &stale), ==, 401);
		g_assert_false(stale);
		g_assert_cmpuint(status_of(gw, SOUP_METHOD_GET, four, NULL, NULL, &stale), ==, 401);
		g_assert_false(stale);
	}
	g_assert_cmpuint(digest_nonces(gw), ==, 1);

	/* a flood of fresh nonces, each used once: the table stays within its cap */
	for (guint i = 0; i < 20; i++) {
		g_autofree gchar *n = fresh_nonce(gw);
		g_autofree gchar *auth = digest_auth(SOUP_METHOD_GET, n, 1, "f100d");
		g_assert_cmpuint(status_of(gw, SOUP_METHOD_GET, auth, NULL, NULL, NULL), ==, 405);
		g_assert_cmpuint(digest_nonces(gw), <=, 8);
	}
	g_assert_cmpuint(digest_nonces(gw), ==, 8);
	/* the first nonce was evicted: its next count is sent to re-authenticate (stale), and its
	 * first request replayed is still refused */
	{
		g_autofree gchar *five = digest_auth(SOUP_METHOD_GET, nonce, 5, "c0ffee05");
		g_assert_cmpuint(status_of(gw, SOUP_METHOD_GET, five, NULL, NULL, &stale), ==, 401);
		g_assert_true(stale);
	}
	g_assert_cmpuint(status_of(gw, SOUP_METHOD_POST, first, NULL, inform, NULL), ==, 401);

	/* libsoup's own client: challenged, then in; its second request goes on the same nonce
	 * with the next count */
	{
		g_autoptr(SoupSession) session = soup_session_new();
		g_autoptr(GBytes) bytes = g_bytes_new(inform, strlen(inform));

		for (guint i = 0; i < 2; i++) {
			g_autoptr(SoupMessage) msg = soup_message_new(SOUP_METHOD_POST, gw->url);
			GwPost p = {0};

			soup_message_set_request_body_from_bytes(msg, "text/xml", bytes);
			g_signal_connect(
			    msg, "authenticate", G_CALLBACK(post_auth_cb), (gpointer) "cpe-secret");
			g_signal_connect(msg, "restarted", G_CALLBACK(post_restarted_cb), bytes);
			soup_session_send_and_read_async(
			    session, msg, G_PRIORITY_DEFAULT, NULL, post_cb, &p);
			g_assert_true(gw_plugin_kit_wait(post_done, &p, GUARD_S));
			g_assert_cmpuint(p.status, ==, 200);
		}
	}
	gateway_stop(gw);
}

/* two CPEs behind one address (127.0.0.1) start their sessions at once, the second without a
 * cookie yet: its Inform starts a session of its own and never ends the first's (each CPE's
 * session runs to its end, no 403) */
static gboolean
two_found(gpointer data)
{
	return g_hash_table_size(((GwGateway *)data)->info) == 2;
}

static void
test_two_cpes(void)
{
	const gchar *second[] = {"--serial", "CPE0002", NULL};
	GwGateway *gw = gateway_start(NULL);
	GwCpe *one = cpe_start(gw, NULL);
	GwCpe *two = cpe_start(gw, second);

	cpe_wait(one, 0, "SESSION-END");
	cpe_wait(two, 0, "SESSION-END");
	g_assert_true(gw_plugin_kit_wait(two_found, gw, GUARD_S));
	g_assert_cmpuint(cpe_count(one, "ERROR"), ==, 0);
	g_assert_cmpuint(cpe_count(two, "ERROR"), ==, 0);
	cpe_stop(one);
	cpe_stop(two);
	gateway_stop(gw);
}

/* [tr069] credentials-file: a CPE with a user of its own gets in as that user; a user bound to
 * another DeviceID is refused (403, no record); a DeviceID bound to a user is refused with the
 * shared pair; CPEs with no binding still use the shared pair */
static void
test_per_cpe_credentials(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("gwmo-tr069-users-XXXXXX", &error);
	g_autofree gchar *path = g_build_filename(dir, "users", NULL);
	g_autofree gchar *config_line = g_strdup_printf("credentials-file=%s", path);
	const gchar *config[] = {config_line, NULL};
	const gchar *own[] = {"--username", "cpe-one", "--password", "one-secret", NULL};
	const gchar *other[] = {
	    "--username", "cpe-two", "--password", "two-secret", "--serial", "CPE0003", NULL};
	const gchar *free_cpe[] = {"--serial", "CPE0004", NULL};
	GwGateway *gw;
	GwCpe *cpe;

	g_assert_no_error(error);
	g_assert_true(g_file_set_contents(path,
	                                  "[cpe-one]\npassword=one-secret\n"
	                                  "device-id=" CPE_ID "\n"
	                                  "[cpe-two]\npassword=two-secret\n"
	                                  "device-id=00D09E-TestCPE-CPE0002\n",
	                                  -1,
	                                  NULL));
	gw = gateway_start(config);
	/* its own user: in, and a command runs in its session */
	cpe = cpe_start(gw, own);
	cpe_wait(cpe, 0, "SESSION-END");
	g_assert_true(gw_plugin_kit_wait(found_cpe, gw, GUARD_S));
	{
		g_autoptr(GwDeviceResult) r =
		    run(gw, GW_DEVICE_OP_GET, "./TR069/Device/DeviceInfo/UpTime", NULL, 0);
		g_assert_cmpuint(gw_device_result_get_status(r), ==, 200);
	}
	cpe_stop(cpe);
	g_hash_table_remove_all(gw->info);
	/* the shared pair for a DeviceID that has a user of its own: refused */
	cpe = cpe_start(gw, NULL);
	cpe_wait(cpe, 0, "ERROR HTTP 403");
	cpe_stop(cpe);
	/* a user bound to another CPE (CPE0002) speaking for CPE0003: refused */
	cpe = cpe_start(gw, other);
	cpe_wait(cpe, 0, "ERROR HTTP 403");
	cpe_stop(cpe);
	g_assert_cmpuint(g_hash_table_size(gw->info), ==, 0);
	/* a CPE with no binding: the shared pair, as before */
	cpe = cpe_start(gw, free_cpe);
	cpe_wait(cpe, 0, "SESSION-END");
	g_assert_cmpuint(cpe_count(cpe, "ERROR"), ==, 0);
	g_assert_cmpuint(g_hash_table_size(gw->info), ==, 1);
	cpe_stop(cpe);
	gateway_stop(gw);
	g_remove(path);
	g_rmdir(dir);
}

/* ---- Download ---- */

typedef struct {
	GBytes *blob;
	guint fetches;
} GwImage;

static void
image_handler(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	GwImage *image = user_data;
	image->fetches++;
	gw_http_request_respond(request, 200, "application/octet-stream", image->blob);
}

static void
deliver_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwPluginKitRun *run = user_data;

	run->result = gw_plugin_deliver_image_finish(GW_PLUGIN(source), res, &run->error);
	run->done = TRUE;
}

/* Exec ./TR069/Operations/Download with an image URL: the CPE takes the Download (Status 1),
 * fetches the file after the session and reports TransferComplete; the command answers 200
 * then, with the file fetched once and whole. The same through deliver_image_async(). A CPE
 * whose TransferComplete carries a fault: its status (9010 → 500, the fault as data). An
 * Exec without a URL: 400, nothing sent. */
static void
test_download(void)
{
	GwGateway *gw = gateway_start(NULL);
	const gchar *faulty[] = {"--download-fault", "9010", NULL};
	GwImage image = {0};
	g_autofree gchar *url = NULL;
	g_autofree gchar *sha = NULL;
	g_autofree gchar *want = NULL;
	g_autoptr(GwDeviceResult) r = NULL;
	g_autoptr(GwDeviceResult) bad = NULL;
	g_autoptr(GwDeviceResult) failed = NULL;
	g_autofree gchar *text = NULL;
	GwCpe *cpe;
	guint at;

	image.blob = g_bytes_new_take(g_strnfill(100000, 'f'), 100000);
	sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, image.blob);
	want = g_strdup_printf("DOWNLOADED 100000 %s", sha);
	gw_http_server_add_handler(gw->server, "/img/", image_handler, &image, NULL);
	url = g_strdup_printf("http://127.0.0.1:%u/img/fw.bin",
	                      gw_http_server_get_port(gw->server, FALSE));

	cpe = cpe_start(gw, NULL);
	cpe_wait(cpe, 0, "SESSION-END");
	g_assert_true(gw_plugin_kit_wait(found_cpe, gw, GUARD_S));
	g_assert_true(gw_device_tree_lookup(g_hash_table_lookup(gw->trees, CPE_ID),
	                                    "./TR069/Operations/Download",
	                                    NULL,
	                                    NULL,
	                                    NULL));
	bad = run(gw, GW_DEVICE_OP_EXEC, "./TR069/Operations/Download", "not a url", 0);
	g_assert_cmpuint(gw_device_result_get_status(bad), ==, 400);
	r = run(gw, GW_DEVICE_OP_EXEC, "./TR069/Operations/Download", url, 0);
	g_assert_cmpuint(gw_device_result_get_status(r), ==, 200);
	at = cpe_wait(cpe, 0, "RPC Download");
	at = cpe_wait(cpe, at, "DOWNLOADED");
	g_assert_cmpstr(cpe->lines->pdata[at], ==, want);
	cpe_wait(cpe, at, "TRANSFER-COMPLETE");
	g_assert_cmpuint(image.fetches, ==, 1);
	g_clear_pointer(&r, gw_device_result_unref);

	/* the image store's way in */
	{
		GwPluginKitRun d = {0};
		g_assert_true(gw_plugin_can_deliver_images(gw->plugin));
		gw_plugin_deliver_image_async(gw->plugin,
		                              CPE_ID,
		                              url,
		                              sha,
		                              100000,
		                              g_get_monotonic_time() + 20 * G_USEC_PER_SEC,
		                              NULL,
		                              deliver_cb,
		                              &d);
		g_assert_true(gw_plugin_kit_wait(gw_plugin_kit_run_done, &d, GUARD_S));
		g_assert_no_error(d.error);
		g_assert_cmpuint(gw_device_result_get_status(d.result), ==, 200);
		gw_device_result_unref(d.result);
		g_assert_cmpuint(image.fetches, ==, 2);
	}
	cpe_stop(cpe);

	cpe = cpe_start(gw, faulty);
	cpe_wait(cpe, 0, "SESSION-END");
	failed = run(gw, GW_DEVICE_OP_EXEC, "./TR069/Operations/Download", url, 0);
	g_assert_cmpuint(gw_device_result_get_status(failed), ==, 500);
	text = result_value(failed);
	g_assert_nonnull(strstr(text, "CWMP fault 9010"));
	g_assert_cmpuint(image.fetches, ==, 2);
	cpe_stop(cpe);
	gateway_stop(gw);
	g_bytes_unref(image.blob);
}

int
main(int argc, char **argv)
{
	g_autofree gchar *why_not = NULL;

	g_test_init(&argc, &argv, NULL);
	/* the adapter's warnings on bad peers are expected here; criticals stay fatal */
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	plugin_type = gw_plugin_kit_load("GWMO_TEST_TR069_PLUGIN", &why_not);
	if (plugin_type == G_TYPE_INVALID || g_getenv("GWMO_TEST_CPE") == NULL) {
		g_print("1..0 # SKIP no plugin or CPE: %s\n",
		        why_not != NULL ? why_not : "GWMO_TEST_CPE is not set");
		return 0;
	}
	g_test_add_func("/tr069/plugin/inform", test_inform);
	g_test_add_func("/tr069/plugin/commands", test_commands);
	g_test_add_func("/tr069/plugin/reboot", test_reboot);
	g_test_add_func("/tr069/plugin/unreachable", test_unreachable);
	g_test_add_func("/tr069/plugin/tr098", test_tr098);
	g_test_add_func("/tr069/plugin/refusals", test_refusals);
	g_test_add_func("/tr069/plugin/basic-over-http", test_basic_over_http);
	g_test_add_func("/tr069/plugin/basic-over-https", test_basic_over_https);
	g_test_add_func("/tr069/plugin/digest-replay", test_digest_replay);
	g_test_add_func("/tr069/plugin/download", test_download);
	g_test_add_func("/tr069/plugin/two-cpes", test_two_cpes);
	g_test_add_func("/tr069/plugin/per-cpe-credentials", test_per_cpe_credentials);
	return g_test_run();
}
