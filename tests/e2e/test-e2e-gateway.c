/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * End to end, the gateway at work: the real gwmod with the reference DM Server (HTTPS, MD5) north
 * and reference End Devices south (HTTP on 127.0.0.1):
 *  - a device provisioned over D-Bus (B.6) registers implicitly in its DM session; the DM
 *    Server receives the DeviceAttached alert with the <GwMODevice> document in a session the
 *    gateway opens, and reads the inventory summary (GwMO-DI-004, GwMO-DI-002, GwMO-HLF-003,
 *    GwMO-PMoDe-001, X.1-X.3);
 *  - a server with InventoryAlert off gets no alert (GwMO-DI-005);
 *  - a Transparent device registers explicitly and gets the DM Server's Package #0 forwarded
 *    through X-GwMO-Target; a forged one is refused and not forwarded (GwMO-TMode-001, Z').
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "gw-crypto.h"
#include "gw-dm-auth.h"
#include "gw-http-client.h"
#include "gw-pkg0.h"
#include "gw-test-daemon.h"

#define SERVER_ID  "srv1.example"
#define SRV_SECRET "srv-secret-1"
#define CL_NAME	   "gateway-1"
#define CL_SECRET  "client-secret-1"

static const gchar *server_binary = NULL;
static const gchar *device_binary = NULL;

typedef struct {
	gchar *dir;
	gchar *cert;
	gchar *key;
	guint16 port;
	guint16 south_port;
	gchar *dm_url;
	GwTestDaemon *d;
} Env;

static guint16
free_port(void)
{
	g_autoptr(GSocket) s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
	g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) a = g_inet_socket_address_new(lo, 0);
	g_autoptr(GSocketAddress) bound = NULL;
	g_assert_true(g_socket_bind(s, a, TRUE, NULL));
	bound = g_socket_get_local_address(s, NULL);
	return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

/* the gateway's account at the server: CLCRED and SRVCRED DIGEST, rights below EXT only */
static gchar *
bootstrap_tnds(const gchar *dm_url)
{
	return g_strdup_printf(
	    "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>"
	    "<Node><NodeName>srv1</NodeName><Path>./DMAcc</Path>"
	    "<RTProperties><ACL>Get=" SERVER_ID "&amp;Replace=" SERVER_ID "</ACL><Format><node/></Format></RTProperties>"
	    "<Node><NodeName>AppID</NodeName><Value>w7</Value></Node>"
	    "<Node><NodeName>ServerID</NodeName><Value>" SERVER_ID "</Value></Node>"
	    "<Node><NodeName>AppAddr</NodeName><Node><NodeName>1</NodeName>"
	    "<Node><NodeName>Addr</NodeName><Value>%s</Value></Node>"
	    "<Node><NodeName>AddrType</NodeName><Value>URI</Value></Node></Node></Node>"
	    "<Node><NodeName>AppAuth</NodeName>"
	    "<Node><NodeName>1</NodeName>"
	    "<Node><NodeName>AAuthLevel</NodeName><Value>CLCRED</Value></Node>"
	    "<Node><NodeName>AAuthType</NodeName><Value>DIGEST</Value></Node>"
	    "<Node><NodeName>AAuthName</NodeName><Value>" CL_NAME "</Value></Node>"
	    "<Node><NodeName>AAuthSecret</NodeName><RTProperties><Format><chr/></Format></RTProperties>"
	    "<DFProperties><AccessType><Replace/></AccessType></DFProperties><Value>" CL_SECRET "</Value></Node>"
	    "</Node>"
	    "<Node><NodeName>2</NodeName>"
	    "<Node><NodeName>AAuthLevel</NodeName><Value>SRVCRED</Value></Node>"
	    "<Node><NodeName>AAuthType</NodeName><Value>DIGEST</Value></Node>"
	    "<Node><NodeName>AAuthName</NodeName><Value>" SERVER_ID "</Value></Node>"
	    "<Node><NodeName>AAuthSecret</NodeName><RTProperties><Format><chr/></Format></RTProperties>"
	    "<DFProperties><AccessType><Replace/></AccessType></DFProperties><Value>" SRV_SECRET "</Value></Node>"
	    "</Node></Node></Node>"
	    "<Node><NodeName>srv1</NodeName><Path>./GwMO/Config/Ext</Path>"
	    "<RTProperties><ACL>Add=" SERVER_ID "&amp;Delete=" SERVER_ID "&amp;Exec=" SERVER_ID
	    "&amp;Get=" SERVER_ID "&amp;Replace=" SERVER_ID "</ACL><Format><node/></Format></RTProperties>"
	    "<Node><NodeName>Keep</NodeName><Value>kept</Value></Node>"
	    "<Node><NodeName>Old</NodeName><Value>to be deleted</Value></Node>"
	    "</Node>"
	    "</MgmtTree>",
	    dm_url);
}

static Env *
env_new(void)
{
	Env *e = g_new0(Env, 1);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *conf = NULL;
	g_autofree gchar *tnds = NULL;
	g_autofree gchar *tnds_path = NULL;
	const gchar *args[3] = {"--bootstrap", NULL, NULL};

	e->dir = g_dir_make_tmp("gwmo-e2e-XXXXXX", &error);
	g_assert_no_error(error);
	e->cert = g_build_filename(e->dir, "server.crt", NULL);
	e->key = g_build_filename(e->dir, "server.key", NULL);
	g_assert_true(gw_crypto_generate_self_signed(e->cert, e->key, "dm-server", NULL,
						     (const gchar *const[]){"127.0.0.1", NULL}, 2, &error));
	g_assert_no_error(error);
	e->port = free_port();
	e->dm_url = g_strdup_printf("https://127.0.0.1:%u/dm", e->port);
	e->south_port = free_port();
	conf = g_strdup_printf("[southbound]\nlisten=http://127.0.0.1:%u\n[northbound]\nlisten=https://127.0.0.1:0\nca-file=%s\nretries=1\ntimeout=20\n",
			       e->south_port,
			       e->cert);
	e->d = gw_test_daemon_new_with_config(conf);
	tnds = bootstrap_tnds(e->dm_url);
	tnds_path = g_build_filename(e->dir, "bootstrap.xml", NULL);
	g_assert_true(g_file_set_contents(tnds_path, tnds, -1, NULL));
	args[1] = tnds_path;
	gw_test_daemon_start(e->d, args);
	return e;
}

static void
rm_rf(const gchar *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const gchar *name;
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *child = g_build_filename(path, name, NULL);
		rm_rf(child);
	}
	g_remove(path);
}

static void
env_free(Env *e)
{
	gw_test_daemon_free(e->d);
	rm_rf(e->dir);
	g_free(e->dir);
	g_free(e->cert);
	g_free(e->key);
	g_free(e->dm_url);
	g_free(e);
}

static void
child_setup(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* starts the reference server; NULL-terminated extra args; waits until it listens */
static GSubprocess *
server_start(Env *e, const gchar *script, const gchar *record, const gchar *client_secret, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *ready = g_build_filename(e->dir, "ready", NULL);
	g_autofree gchar *script_path = g_build_filename(e->dir, "script.json", NULL);
	g_autofree gchar *log = g_build_filename(e->dir, "server.log", NULL);
	GSubprocess *proc;
	const gchar *arg;
	va_list ap;

	g_remove(ready);
	g_assert_true(g_file_set_contents(script_path, script, -1, NULL));
	g_ptr_array_add(argv, g_strdup(server_binary));
	g_ptr_array_add(argv, g_strdup_printf("--listen=https://127.0.0.1:%u", e->port));
	g_ptr_array_add(argv, g_strdup_printf("--cert=%s", e->cert));
	g_ptr_array_add(argv, g_strdup_printf("--key=%s", e->key));
	g_ptr_array_add(argv, g_strdup("--server-id=" SERVER_ID));
	g_ptr_array_add(argv, g_strdup("--server-name=" SERVER_ID));
	g_ptr_array_add(argv, g_strdup("--server-secret=" SRV_SECRET));
	g_ptr_array_add(argv, g_strdup("--client-name=" CL_NAME));
	g_ptr_array_add(argv, g_strdup_printf("--client-secret=%s", client_secret));
	g_ptr_array_add(argv, g_strdup("--auth=md5"));
	g_ptr_array_add(argv, g_strdup_printf("--script=%s", script_path));
	g_ptr_array_add(argv, g_strdup_printf("--record=%s", record));
	g_ptr_array_add(argv, g_strdup_printf("--ready-file=%s", ready));
	va_start(ap, client_secret);
	while ((arg = va_arg(ap, const gchar *)) != NULL)
		g_ptr_array_add(argv, g_strdup(arg));
	va_end(ap);
	g_ptr_array_add(argv, NULL);

	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	g_subprocess_launcher_set_flags(launcher, G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	for (guint i = 0; i < 400 && !g_file_test(ready, G_FILE_TEST_EXISTS); i++) {
		if (g_subprocess_get_identifier(proc) == NULL)
			break;
		g_usleep(50 * 1000);
	}
	if (!g_file_test(ready, G_FILE_TEST_EXISTS)) {
		g_autofree gchar *text = NULL;
		g_file_get_contents(log, &text, NULL, NULL);
		g_printerr("reference server did not start:\n%s\n", text);
		g_assert_not_reached();
	}
	return proc;
}

/* waits (up to 60 s) for the server to exit by itself after --sessions N */
static void
server_wait(GSubprocess *proc)
{
	for (guint i = 0; i < 1200 && g_subprocess_get_identifier(proc) != NULL; i++)
		g_usleep(50 * 1000);
	if (g_subprocess_get_identifier(proc) != NULL) {
		g_subprocess_send_signal(proc, SIGTERM);
		g_subprocess_wait(proc, NULL, NULL);
		g_assert_not_reached();
	}
	g_subprocess_wait(proc, NULL, NULL);
	g_assert_true(g_subprocess_get_if_exited(proc));
	g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 0);
}

static JsonArray *
record_sessions(const gchar *path, JsonParser **parser_out)
{
	JsonParser *parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	JsonObject *root;
	g_assert_true(json_parser_load_from_file(parser, path, &error));
	g_assert_no_error(error);
	root = json_node_get_object(json_parser_get_root(parser));
	*parser_out = parser;
	return json_object_get_array_member(root, "sessions");
}

static JsonObject *
result_for(JsonObject *session, const gchar *cmd, const gchar *uri)
{
	JsonArray *results = json_object_get_array_member(session, "results");
	for (guint i = 0; i < json_array_get_length(results); i++) {
		JsonObject *r = json_array_get_object_element(results, i);
		if (g_strcmp0(json_object_get_string_member(r, "cmd"), cmd) == 0 &&
		    (uri == NULL || (json_object_has_member(r, "uri") &&
				     g_strcmp0(json_object_get_string_member(r, "uri"), uri) == 0)))
			return r;
	}
	g_printerr("no result for %s %s\n", cmd, uri);
	g_assert_not_reached();
	return NULL;
}

static gint64
status_of(JsonObject *session, const gchar *cmd, const gchar *uri)
{
	return json_object_get_int_member(result_for(session, cmd, uri), "status");
}

static gchar *
get_value(GwTestDaemon *d, const gchar *uri, gchar **error_name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = gw_test_call(d, "GetNode", g_variant_new("(s)", uri), "(ssv)", &error);
	g_autoptr(GVariant) value = NULL;
	if (reply == NULL) {
		if (error_name != NULL)
			*error_name = g_dbus_error_get_remote_error(error);
		return NULL;
	}
	g_variant_get(reply, "(&s&sv)", NULL, NULL, &value);
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
		return g_variant_dup_string(value, NULL);
	return g_variant_print(value, FALSE);
}

static guint
pending_alerts(GwTestDaemon *d)
{
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) value = NULL;
	reply = g_dbus_connection_call_sync(d->connection,
					    "org.gwmo.Gateway1",
					    "/org/gwmo/Gateway1",
					    "org.freedesktop.DBus.Properties",
					    "Get",
					    g_variant_new("(ss)", "org.gwmo.Gateway1.Manager", "PendingAlerts"),
					    G_VARIANT_TYPE("(v)"),
					    G_DBUS_CALL_FLAGS_NONE,
					    -1,
					    NULL,
					    NULL);
	g_assert_nonnull(reply);
	g_variant_get(reply, "(v)", &value);
	return g_variant_get_uint32(value);
}

typedef struct {
	GMainLoop *loop;
	GwHttpResponse *response;
	GError *error;
} PostWait;

static void
post_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	PostWait *w = user_data;
	w->response = gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &w->error);
	g_main_loop_quit(w->loop);
}

static guint
notify_to(const gchar *url, const gchar *ca, GBytes *body, const gchar *target)
{
	g_autoptr(GwHttpClient) client = gw_http_client_new(ca, NULL);
	const gchar *headers[] = {"X-GwMO-Target", target, NULL};
	PostWait w = {0};
	guint status;

	gw_http_client_set_retries(client, 0, 10);
	w.loop = g_main_loop_new(NULL, FALSE);
	gw_http_client_post_async(client, url, GW_PKG0_CONTENT_TYPE, body, headers, NULL, post_cb, &w);
	g_main_loop_run(w.loop);
	g_main_loop_unref(w.loop);
	g_assert_no_error(w.error);
	status = w.response->status;
	gw_http_response_free(w.response);
	return status;
}

static GBytes *
make_pkg0(const gchar *server_id, const gchar *secret, guint16 session_id)
{
	g_autoptr(GwPkg0) n = gw_pkg0_new();
	n->server_id = g_strdup(server_id);
	n->session_id = session_id;
	n->server_initiated = TRUE;
	n->ui_mode = GW_PKG0_UI_MODE_BACKGROUND;
	return gw_pkg0_build(n, secret, NULL, 0);
}

static gchar *
notify_url(GwTestDaemon *d)
{
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) value = NULL;
	g_autofree const gchar **uris = NULL;
	reply = g_dbus_connection_call_sync(d->connection,
					    "org.gwmo.Gateway1",
					    "/org/gwmo/Gateway1",
					    "org.freedesktop.DBus.Properties",
					    "Get",
					    g_variant_new("(ss)", "org.gwmo.Gateway1.Manager", "ListenURIs"),
					    G_VARIANT_TYPE("(v)"),
					    G_DBUS_CALL_FLAGS_NONE,
					    -1,
					    NULL,
					    NULL);
	g_assert_nonnull(reply);
	g_variant_get(reply, "(v)", &value);
	uris = g_variant_get_strv(value, NULL);
	g_assert_nonnull(uris[0]);
	g_assert_true(g_str_has_prefix(uris[0], "https://127.0.0.1:"));
	return g_strdup_printf("%snotify", uris[0]);
}


static gchar *
add_device(GwTestDaemon *d, const gchar *device_id, guint mode, const gchar *secret, const gchar *server_secret)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariantBuilder b;
	gchar *path = NULL;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string(device_id));
	g_variant_builder_add(&b, "{sv}", "Mode", g_variant_new_uint32(mode));
	g_variant_builder_add(&b, "{sv}", "AuthType", g_variant_new_string("DIGEST"));
	g_variant_builder_add(&b, "{sv}", "ClientName", g_variant_new_string(device_id));
	g_variant_builder_add(&b, "{sv}", "ClientSecret", g_variant_new_string(secret));
	if (server_secret != NULL)
		g_variant_builder_add(&b, "{sv}", "ServerSecret", g_variant_new_string(server_secret));
	reply = gw_test_call(d, "AddDevice", g_variant_new("(a{sv})", &b), "(o)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(o)", &path);
	return path;
}

/* runs the reference device to completion (60 s at most); NULL-terminated extra args */
static GSubprocess *
device_spawn(Env *e, const gchar *log_name, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *log = g_build_filename(e->dir, log_name, NULL);
	GSubprocess *proc;
	const gchar *arg;
	va_list ap;

	g_ptr_array_add(argv, g_strdup(device_binary));
	g_ptr_array_add(argv, g_strdup_printf("--server=http://127.0.0.1:%u/dm", e->south_port));
	va_start(ap, log_name);
	while ((arg = va_arg(ap, const gchar *)) != NULL)
		g_ptr_array_add(argv, g_strdup(arg));
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	return proc;
}

static gint
device_wait(GSubprocess *proc)
{
	for (guint i = 0; i < 1200 && g_subprocess_get_identifier(proc) != NULL; i++)
		g_usleep(50 * 1000);
	if (g_subprocess_get_identifier(proc) != NULL) {
		g_subprocess_force_exit(proc);
		g_subprocess_wait(proc, NULL, NULL);
		return -1;
	}
	g_subprocess_wait(proc, NULL, NULL);
	return g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
}

static void
test_inventory_alert(void)
{
	Env *e = env_new();
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *dev_record = g_build_filename(e->dir, "device.json", NULL);
	g_autofree gchar *dev_record_arg = g_strdup_printf("--record=%s", dev_record);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GSubprocess) device = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *v = NULL;
	JsonArray *sessions;
	JsonObject *s1;
	JsonArray *alerts;
	JsonObject *alert;
	const gchar *doc;
	JsonObject *get;

	/* the server reads the inventory in the session the alert brings */
	server = server_start(e,
			      "{\"sessions\":[{\"commands\":["
			      "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Inventory/Summary/Total\"},"
			      "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Inventory/Devices?list=Struct\"}]}]}",
			      record,
			      CL_SECRET,
			      "--sessions=1",
			      NULL);
	/* B.6: provisioned with its credentials before it appears */
	path = add_device(e->d, "dev-1", 2, "dev-1-secret", "gw-secret-1");
	g_assert_true(g_str_has_prefix(path, "/org/gwmo/Gateway1/Devices/"));
	/* the device opens its own DM session with the gateway: implicit registration */
	device = device_spawn(e,
			      "device1.log",
			      "--dev-id=dev-1",
			      "--auth=md5",
			      "--client-secret=dev-1-secret",
			      "--server-name=GW-TEST-0001",
			      "--server-secret=gw-secret-1",
			      "--server-id=GW-TEST-0001",
			      "--notify-addr=udp://127.0.0.1:9",
			      dev_record_arg,
			      NULL);
	g_assert_cmpint(device_wait(device), ==, 0);
	server_wait(server);

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 1);
	s1 = json_array_get_object_element(sessions, 0);
	g_assert_cmpint(json_object_get_int_member(s1, "alert"), ==, 1201);
	alerts = json_object_get_array_member(s1, "generic_alerts");
	g_assert_cmpuint(json_array_get_length(alerts), >=, 1);
	alert = json_array_get_object_element(alerts, 0);
	g_assert_cmpstr(json_object_get_string_member(alert, "type"), ==, "urn:oma:at:gwmo:1.0:DeviceAttached");
	doc = json_object_get_string_member(alert, "data");
	g_assert_nonnull(strstr(doc, "<GwMODevice>"));
	g_assert_nonnull(strstr(doc, "<DeviceID>dev-1</DeviceID>"));
	g_assert_nonnull(strstr(doc, "<GatewayID>GW-TEST-0001</GatewayID>"));
	g_assert_nonnull(strstr(doc, "<Status>Attached</Status>"));
	get = result_for(s1, "Get", "./GwMO/Inventory/Summary/Total");
	g_assert_cmpint(json_object_get_int_member(get, "status"), ==, 200);
	g_assert_cmpstr(json_object_get_string_member(
			    json_array_get_object_element(json_object_get_array_member(get, "items"), 0),
			    "data"),
			==,
			"1");
	g_assert_cmpint(status_of(s1, "Get", "./GwMO/Inventory/Devices?list=Struct"), ==, 200);
	g_assert_cmpuint(pending_alerts(e->d), ==, 0);

	/* the device's own session registered it: DevInfo and NotifyAddr came from its Package #1 */
	v = get_value(e->d, "./GwMO/Inventory/Devices/1/DevInfo/Mod", NULL);
	g_assert_cmpstr(v, ==, "ref-device");
	g_free(v);
	v = get_value(e->d, "./GwMO/Inventory/Devices/1/NotifyAddr", NULL);
	g_assert_cmpstr(v, ==, "udp://127.0.0.1:9");
	g_free(v);
	v = get_value(e->d, "./GwMO/Inventory/Devices/1/Status", NULL);
	g_assert_cmpstr(v, ==, "Attached");
	g_clear_pointer(&v, g_free);

	/* GwMO-DI-005: with InventoryAlert off, a new device queues nothing for that server */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) r = gw_test_call(e->d,
						     "SetNode",
						     g_variant_new("(ssv)",
								   "./GwMO/Config/Servers/srv1/InventoryAlert",
								   "bool",
								   g_variant_new_boolean(FALSE)),
						     "()",
						     &error);
		g_autofree gchar *path2 = NULL;
		g_assert_no_error(error);
		path2 = add_device(e->d, "dev-2", 2, "dev-2-secret", NULL);
		g_assert_cmpuint(pending_alerts(e->d), ==, 0);
	}
	gw_test_daemon_stop(e->d);
	env_free(e);
}

static void
test_transparent_forwarding(void)
{
	Env *e = env_new();
	g_autofree gchar *url = notify_url(e->d);
	g_autofree gchar *gw_cert = g_build_filename(e->d->state_dir, "tls.crt", NULL);
	g_autofree gchar *ready = g_build_filename(e->dir, "device-ready", NULL);
	g_autofree gchar *ready_arg = g_strdup_printf("--ready-file=%s", ready);
	g_autofree gchar *dev_record = g_build_filename(e->dir, "device3.json", NULL);
	g_autofree gchar *dev_record_arg = g_strdup_printf("--record=%s", dev_record);
	g_autofree gchar *path = add_device(e->d, "dev-3", 1, "dev-3-secret", NULL);
	g_autoptr(GSubprocess) device = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autofree gchar *v = NULL;
	JsonArray *sessions;
	JsonObject *s2;

	/* a Transparent device: registers explicitly, then waits for one Package #0 */
	device = device_spawn(e,
			      "device3.log",
			      "--dev-id=dev-3",
			      "--auth=md5",
			      "--client-secret=dev-3-secret",
			      "--server-name=" SERVER_ID,
			      "--notify-secret=" SRV_SECRET,
			      "--server-id=" SERVER_ID,
			      "--listen-notify=http://127.0.0.1:0",
			      ready_arg,
			      "--register",
			      "--mode=1",
			      "--server-ids=" SERVER_ID,
			      "--count=1",
			      dev_record_arg,
			      NULL);
	for (guint i = 0; i < 400; i++) {
		v = get_value(e->d, "./GwMO/Inventory/Devices/1/NotifyAddr", NULL);
		if (v != NULL && g_str_has_prefix(v, "http://127.0.0.1:"))
			break;
		g_clear_pointer(&v, g_free);
		g_usleep(50 * 1000);
	}
	g_assert_nonnull(v);
	g_free(v);
	v = get_value(e->d, "./GwMO/Inventory/Devices/1/Mode", NULL);
	g_assert_cmpstr(v, ==, "1");

	/* a forged digest is refused and nothing reaches the device */
	{
		g_autoptr(GBytes) forged = make_pkg0(SERVER_ID, "not-the-secret", 0x0BAD);
		g_autoptr(GBytes) unknown = make_pkg0(SERVER_ID, SRV_SECRET, 0x0BAE);
		g_assert_cmpuint(notify_to(url, gw_cert, forged, "dev-3"), ==, 401);
		g_assert_cmpuint(notify_to(url, gw_cert, unknown, "no-such-device"), ==, 404);
	}
	/* Z': the server's Package #0 for dev-3 is verified and forwarded as it is */
	{
		g_autoptr(GBytes) pkg0 = make_pkg0(SERVER_ID, SRV_SECRET, 0x7E57);
		g_assert_cmpuint(notify_to(url, gw_cert, pkg0, "dev-3"), ==, 202);
	}
	g_assert_cmpint(device_wait(device), ==, 0);
	sessions = record_sessions(dev_record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 2);
	/* its second session was opened by the forwarded notification: same session id */
	s2 = json_array_get_object_element(sessions, 1);
	g_assert_cmpint(json_object_get_int_member(s2, "alert"), ==, 1200);
	g_assert_cmpstr(json_object_get_string_member(s2, "session_id"), ==, "7E57");
	g_assert_true(gw_test_daemon_is_running(e->d));
	gw_test_daemon_stop(e->d);
	env_free(e);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (argc < 3) {
		g_printerr("usage: %s PATH-TO-gwmo-test-server PATH-TO-gwmo-test-device\n", argv[0]);
		return 2;
	}
	server_binary = argv[1];
	device_binary = argv[2];
	g_test_add_func("/gw/e2e/gateway/inventory-alert", test_inventory_alert);
	g_test_add_func("/gw/e2e/gateway/transparent-forwarding", test_transparent_forwarding);
	return g_test_run();
}
