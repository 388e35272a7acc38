/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * End to end: the reference DM Server (tests/peers/gwmo-test-server) and the real gwmod over
 * HTTPS on 127.0.0.1 with MD5 authentication both ways.
 *  - client-initiated session (D-Bus StartSession): Get, Replace, Add, Delete, Copy, Exec,
 *    Atomic with rollback, ACL and access-type refusals, a Generic Alert delivered and
 *    acknowledged (GwMO-ADM-001, GwMO-SECARIZE-001, GwMO-SECACATE-001, DM-SECONF-001);
 *  - server-initiated session after a Package #0 on POST /notify; forged, unknown, malformed
 *    and replayed notifications start nothing (GwMO-SECACATE-001, GwMO-SECDI-001);
 *  - a wrong client password: 401, no command executed (GwMO-SECACATE-001);
 *  - an undelivered alert survives kill -9 and is delivered after the restart.
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
#define EXT	   "./GwMO/Config/Ext/srv1"

static const gchar *server_binary = NULL;

typedef struct {
	gchar *dir;
	gchar *cert;
	gchar *key;
	guint16 port;
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
	conf = g_strdup_printf("[southbound]\nlisten=\n[northbound]\nlisten=https://127.0.0.1:0\nca-file=%s\nretries=1\ntimeout=20\n",
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

static guint
queue_alert(GwTestDaemon *d, const gchar *type, const gchar *data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariantBuilder b;
	guint id = 0;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Type", g_variant_new_string(type));
	g_variant_builder_add(&b, "{sv}", "Source", g_variant_new_string("./DevInfo/DevId"));
	g_variant_builder_add(&b, "{sv}", "Data", g_variant_new_string(data));
	reply = gw_test_call(d, "QueueAlert", g_variant_new("(sa{sv})", SERVER_ID, &b), "(u)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(u)", &id);
	return id;
}

static const gchar *SCRIPT_FULL =
    "{\"sessions\":[{\"commands\":["
    "{\"cmd\":\"Get\",\"uri\":\"./DevInfo/DevId\"},"
    "{\"cmd\":\"Get\",\"uri\":\"./DevInfo?list=Struct\"},"
    "{\"cmd\":\"Add\",\"uri\":\"" EXT "/Color\",\"format\":\"chr\",\"data\":\"red\"},"
    "{\"cmd\":\"Replace\",\"uri\":\"" EXT "/Color\",\"format\":\"chr\",\"data\":\"blue\"},"
    "{\"cmd\":\"Delete\",\"uri\":\"" EXT "/Old\"},"
    "{\"cmd\":\"Copy\",\"source\":\"" EXT "/Keep\",\"uri\":\"" EXT "/KeepCopy\"},"
    "{\"cmd\":\"Atomic\",\"commands\":["
    "  {\"cmd\":\"Add\",\"uri\":\"" EXT "/A1\",\"format\":\"chr\",\"data\":\"1\"},"
    "  {\"cmd\":\"Add\",\"uri\":\"" EXT "/Keep\",\"format\":\"chr\",\"data\":\"dup\"}]},"
    "{\"cmd\":\"Replace\",\"uri\":\"./DevInfo/DevId\",\"format\":\"chr\",\"data\":\"evil\"},"
    "{\"cmd\":\"Get\",\"uri\":\"./DMAcc/srv1/AppAuth/1/AAuthSecret\"},"
    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Config/Ext/NotMine\",\"format\":\"chr\",\"data\":\"x\"},"
    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Config/Ext/NoSuchNode\"},"
    "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/Config/Operations/CheckIn\",\"data\":\"" SERVER_ID "\",\"correlator\":\"c-42\"}"
    "]},{\"commands\":[{\"cmd\":\"Get\",\"uri\":\"" EXT "/Color\"}]}]}";

static void
test_client_initiated(void)
{
	Env *e = env_new();
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autofree gchar *v = NULL;
	g_autofree gchar *err = NULL;
	JsonArray *sessions;
	JsonObject *s1;
	JsonObject *s2;
	JsonObject *get;
	JsonArray *alerts;
	guint messages = 0;
	guint commands = 0;
	guint id;

	id = queue_alert(e->d, "urn:gwmo:test:Hello", "hello server");
	g_assert_cmpuint(id, >, 0);
	g_assert_cmpuint(pending_alerts(e->d), ==, 1);
	server = server_start(e, SCRIPT_FULL, record, CL_SECRET, "--sessions=2", NULL);

	reply = gw_test_call(e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &messages, &commands);
	g_assert_cmpuint(messages, >=, 4);
	g_assert_cmpuint(commands, >=, 12);
	/* the CheckIn Exec makes the gateway come back for a second session */
	server_wait(server);

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 2);
	s1 = json_array_get_object_element(sessions, 0);
	g_assert_cmpint(json_object_get_int_member(s1, "alert"), ==, 1201);
	g_assert_true(json_object_get_boolean_member(s1, "authenticated"));
	g_assert_cmpstr(json_object_get_string_member(s1, "state"), ==, "finished");
	g_assert_cmpstr(json_object_get_string_member(s1, "peer"), ==, "GW-TEST-0001");
	g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(s1, "devinfo"),
						      "./DevInfo/Man"),
			==,
			"gwmo tests");
	get = result_for(s1, "Get", "./DevInfo/DevId");
	g_assert_cmpint(json_object_get_int_member(get, "status"), ==, 200);
	g_assert_cmpstr(json_object_get_string_member(
			    json_array_get_object_element(json_object_get_array_member(get, "items"), 0),
			    "data"),
			==,
			"GW-TEST-0001");
	g_assert_cmpint(json_array_get_length(json_object_get_array_member(
			    result_for(s1, "Get", "./DevInfo?list=Struct"), "items")),
			>=,
			6);
	g_assert_cmpint(status_of(s1, "Add", EXT "/Color"), ==, 200);
	g_assert_cmpint(status_of(s1, "Replace", EXT "/Color"), ==, 200);
	g_assert_cmpint(status_of(s1, "Delete", EXT "/Old"), ==, 200);
	g_assert_cmpint(status_of(s1, "Copy", EXT "/KeepCopy"), ==, 200);
	g_assert_cmpint(status_of(s1, "Atomic", NULL), ==, 507);
	g_assert_cmpint(status_of(s1, "Replace", "./DevInfo/DevId"), ==, 405);
	g_assert_cmpint(status_of(s1, "Get", "./DMAcc/srv1/AppAuth/1/AAuthSecret"), ==, 405);
	g_assert_cmpint(status_of(s1, "Add", "./GwMO/Config/Ext/NotMine"), ==, 425);
	g_assert_cmpint(status_of(s1, "Get", "./GwMO/Config/Ext/NoSuchNode"), ==, 404);
	g_assert_cmpint(status_of(s1, "Exec", "./GwMO/Config/Operations/CheckIn"), ==, 202);

	/* the Generic Alert arrived and was acknowledged */
	alerts = json_object_get_array_member(s1, "generic_alerts");
	g_assert_cmpuint(json_array_get_length(alerts), ==, 1);
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(alerts, 0), "type"),
			==,
			"urn:gwmo:test:Hello");
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(alerts, 0), "data"),
			==,
			"hello server");
	g_assert_cmpuint(pending_alerts(e->d), ==, 0);

	/* the second session came from the CheckIn and saw the first one's change */
	s2 = json_array_get_object_element(sessions, 1);
	g_assert_cmpint(json_object_get_int_member(s2, "alert"), ==, 1201);
	get = result_for(s2, "Get", EXT "/Color");
	g_assert_cmpstr(json_object_get_string_member(
			    json_array_get_object_element(json_object_get_array_member(get, "items"), 0),
			    "data"),
			==,
			"blue");

	/* the gateway's tree says the same over D-Bus; Atomic rolled back */
	v = get_value(e->d, EXT "/Color", NULL);
	g_assert_cmpstr(v, ==, "blue");
	g_free(v);
	v = get_value(e->d, EXT "/KeepCopy", NULL);
	g_assert_cmpstr(v, ==, "kept");
	g_free(v);
	v = get_value(e->d, EXT "/Old", &err);
	g_assert_null(v);
	g_assert_cmpstr(err, ==, "org.gwmo.Gateway1.Error.NotFound");
	g_free(err);
	err = NULL;
	v = get_value(e->d, EXT "/A1", &err);
	g_assert_null(v);
	g_assert_cmpstr(err, ==, "org.gwmo.Gateway1.Error.NotFound");
	v = get_value(e->d, "./DevInfo/DevId", NULL);
	g_assert_cmpstr(v, ==, "GW-TEST-0001");
	/* an unknown server is refused */
	{
		g_autoptr(GError) e2 = NULL;
		g_autoptr(GVariant) r2 = gw_test_call(e->d, "StartSession", g_variant_new("(s)", "nobody"), "(uu)", &e2);
		g_autofree gchar *name = NULL;
		g_assert_null(r2);
		name = g_dbus_error_get_remote_error(e2);
		g_assert_cmpstr(name, ==, "org.gwmo.Gateway1.Error.NotFound");
	}
	gw_test_daemon_stop(e->d);
	env_free(e);
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
notify(const gchar *url, const gchar *ca, GBytes *body, const gchar *content_type)
{
	g_autoptr(GwHttpClient) client = gw_http_client_new(ca, NULL);
	PostWait w = {0};
	guint status;

	gw_http_client_set_retries(client, 0, 10);
	w.loop = g_main_loop_new(NULL, FALSE);
	gw_http_client_post_async(client, url, content_type, body, NULL, NULL, post_cb, &w);
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

static void
test_server_initiated(void)
{
	Env *e = env_new();
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *url = notify_url(e->d);
	g_autofree gchar *gw_cert = g_build_filename(e->d->state_dir, "tls.crt", NULL);
	g_autofree gchar *notify_arg = g_strdup_printf("--notify=%s", url);
	g_autofree gchar *ca_arg = g_strdup_printf("--ca-file=%s", gw_cert);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autofree gchar *log = NULL;
	JsonArray *sessions;
	JsonObject *s1;

	/* forged digest, unknown server, malformed, wrong type: nothing starts */
	{
		g_autoptr(GBytes) forged = make_pkg0(SERVER_ID, "not-the-secret", 0x77);
		g_autoptr(GBytes) unknown = make_pkg0("nobody.example", SRV_SECRET, 0x78);
		g_autoptr(GBytes) garbage = g_bytes_new_static("\x01\x02\x03", 3);
		g_assert_cmpuint(notify(url, gw_cert, forged, GW_PKG0_CONTENT_TYPE), ==, 401);
		g_assert_cmpuint(notify(url, gw_cert, unknown, GW_PKG0_CONTENT_TYPE), ==, 403);
		g_assert_cmpuint(notify(url, gw_cert, garbage, GW_PKG0_CONTENT_TYPE), ==, 400);
		g_assert_cmpuint(notify(url, gw_cert, forged, "text/plain"), ==, 415);
	}
	log = gw_test_daemon_read_log(e->d);
	g_assert_nonnull(strstr(log, "forged or stale Package #0"));

	/* the reference server notifies with a valid digest; the gateway opens session 1A2B */
	server = server_start(e,
			      "{\"sessions\":[{\"commands\":[{\"cmd\":\"Get\",\"uri\":\"./DevInfo/Mod\"}]}]}",
			      record,
			      CL_SECRET,
			      "--sessions=1",
			      notify_arg,
			      "--notify-secret=" SRV_SECRET,
			      "--notify-session=1A2B",
			      ca_arg,
			      NULL);
	server_wait(server);
	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 1);
	s1 = json_array_get_object_element(sessions, 0);
	g_assert_cmpint(json_object_get_int_member(s1, "alert"), ==, 1200);
	g_assert_cmpstr(json_object_get_string_member(s1, "session_id"), ==, "1A2B");
	g_assert_true(json_object_get_boolean_member(s1, "authenticated"));
	g_assert_cmpint(status_of(s1, "Get", "./DevInfo/Mod"), ==, 200);

	/* the same notification again starts no second session */
	{
		g_autoptr(GBytes) again = make_pkg0(SERVER_ID, SRV_SECRET, 0x1A2B);
		g_assert_cmpuint(notify(url, gw_cert, again, GW_PKG0_CONTENT_TYPE), ==, 409);
	}
	g_assert_true(gw_test_daemon_is_running(e->d));
	gw_test_daemon_stop(e->d);
	env_free(e);
}

static void
test_wrong_password(void)
{
	Env *e = env_new();
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autofree gchar *name = NULL;
	g_autofree gchar *err = NULL;
	g_autofree gchar *v = NULL;
	JsonArray *sessions;
	JsonObject *s1;

	/* the server expects another client secret: 401 for every attempt, nothing runs */
	server = server_start(e,
			      "{\"sessions\":[{\"commands\":[{\"cmd\":\"Add\",\"uri\":\"" EXT
			      "/Intruder\",\"format\":\"chr\",\"data\":\"x\"}]}]}",
			      record,
			      "another-secret",
			      "--sessions=1",
			      NULL);
	reply = gw_test_call(e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
	g_assert_null(reply);
	name = g_dbus_error_get_remote_error(error);
	g_assert_cmpstr(name, ==, "org.gwmo.Gateway1.Error.AuthFailed");
	server_wait(server);
	sessions = record_sessions(record, &parser);
	s1 = json_array_get_object_element(sessions, 0);
	g_assert_false(json_object_get_boolean_member(s1, "authenticated"));
	g_assert_cmpint(json_object_get_int_member(s1, "auth_status"), ==, 401);
	v = get_value(e->d, EXT "/Intruder", &err);
	g_assert_null(v);
	g_assert_cmpstr(err, ==, "org.gwmo.Gateway1.Error.NotFound");
	gw_test_daemon_stop(e->d);
	env_free(e);
}

static void
test_alert_survives_kill(void)
{
	Env *e = env_new();
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(JsonParser) parser = NULL;
	JsonArray *sessions;
	JsonArray *alerts;

	queue_alert(e->d, "urn:gwmo:test:Kept", "survives kill -9");
	gw_test_daemon_kill(e->d);
	gw_test_daemon_start(e->d, NULL);
	g_assert_cmpuint(pending_alerts(e->d), ==, 1);
	server = server_start(e, "{\"sessions\":[{\"commands\":[]}]}", record, CL_SECRET, "--sessions=1", NULL);
	reply = gw_test_call(e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
	g_assert_no_error(error);
	server_wait(server);
	sessions = record_sessions(record, &parser);
	alerts = json_object_get_array_member(json_array_get_object_element(sessions, 0), "generic_alerts");
	g_assert_cmpuint(json_array_get_length(alerts), ==, 1);
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(alerts, 0), "data"),
			==,
			"survives kill -9");
	g_assert_cmpuint(pending_alerts(e->d), ==, 0);
	/* and it stays delivered after a restart */
	gw_test_daemon_stop(e->d);
	gw_test_daemon_start(e->d, NULL);
	g_assert_cmpuint(pending_alerts(e->d), ==, 0);
	gw_test_daemon_stop(e->d);
	env_free(e);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (argc < 2) {
		g_printerr("usage: %s PATH-TO-gwmo-test-server\n", argv[0]);
		return 2;
	}
	server_binary = argv[1];
	g_test_add_func("/gw/e2e/client-initiated", test_client_initiated);
	g_test_add_func("/gw/e2e/server-initiated", test_server_initiated);
	g_test_add_func("/gw/e2e/wrong-password", test_wrong_password);
	g_test_add_func("/gw/e2e/alert-survives-kill", test_alert_survives_kill);
	return g_test_run();
}
