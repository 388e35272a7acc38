/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "gw-crypto.h"
#include "gw-e2e.h"
#include "gw-http-client.h"
#include "gw-pkg0.h"

const gchar *server_binary = NULL;
const gchar *device_binary = NULL;


guint16
free_port(void)
{
	return gw_test_free_port();
}

/* the gateway's account at the server: CLCRED and SRVCRED DIGEST, rights below EXT only */
gchar *
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

Env *
env_new(void)
{
	return env_new_full(NULL, NULL);
}

Env *
env_new_with_config(const gchar *extra)
{
	return env_new_full(NULL, extra);
}

gchar *
e2e_make_dir_with_cert(const gchar *tmpl, gchar **cert, gchar **key)
{
	g_autoptr(GError) error = NULL;
	gchar *dir = g_dir_make_tmp(tmpl, &error);

	g_assert_no_error(error);
	*cert = g_build_filename(dir, "server.crt", NULL);
	*key = g_build_filename(dir, "server.key", NULL);
	g_assert_true(gw_crypto_generate_self_signed(
	    *cert, *key, "dm-server", NULL, (const gchar *const[]){"127.0.0.1", NULL}, 2, &error));
	g_assert_no_error(error);
	return dir;
}

void
e2e_start_bootstrapped(Env *e, const gchar *tnds)
{
	g_autofree gchar *tnds_path = g_build_filename(e->dir, "bootstrap.xml", NULL);
	const gchar *args[3] = {"--bootstrap", tnds_path, NULL};

	g_assert_true(g_file_set_contents(tnds_path, tnds, -1, NULL));
	gw_test_daemon_start(e->d, args);
}

static Env *
env_new_scheme(const gchar *scheme, const gchar *southbound_extra, const gchar *extra)
{
	Env *e = g_new0(Env, 1);
	g_autofree gchar *conf = NULL;
	g_autofree gchar *tnds = NULL;

	e->dir = e2e_make_dir_with_cert("gwmo-e2e-XXXXXX", &e->cert, &e->key);
	e->port = free_port();
	e->dm_url = g_strdup_printf("%s://127.0.0.1:%u/dm", scheme, e->port);
	e->south_port = free_port();
	conf = g_strdup_printf("[southbound]\nlisten=http://127.0.0.1:%u\n%s[northbound]\nlisten=https://127.0.0.1:0\nca-file=%s\nretries=1\ntimeout=20\n",
			       e->south_port,
			       southbound_extra != NULL ? southbound_extra : "",
			       e->cert);
	if (extra != NULL) {
		gchar *more = g_strconcat(conf, extra, NULL);
		g_free(conf);
		conf = more;
	}
	e->d = gw_test_daemon_new_with_config(conf);
	tnds = bootstrap_tnds(e->dm_url);
	e2e_start_bootstrapped(e, tnds);
	return e;
}

Env *
env_new_full(const gchar *southbound_extra, const gchar *extra)
{
	return env_new_scheme("https", southbound_extra, extra);
}

Env *
env_new_clear_text(const gchar *extra)
{
	return env_new_scheme("http", NULL, extra);
}

void
e2e_rm_rf(const gchar *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const gchar *name;
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *child = g_build_filename(path, name, NULL);
		e2e_rm_rf(child);
	}
	g_remove(path);
}

void
env_free(Env *e)
{
	gw_test_daemon_free(e->d);
	e2e_rm_rf(e->dir);
	g_free(e->dir);
	g_free(e->cert);
	g_free(e->key);
	g_free(e->dm_url);
	g_free(e);
}

void
child_setup(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

GSubprocess *
e2e_device_spawn_valist(const gchar *dir,
                        const gchar *log_name,
                        const gchar *const *prefix,
                        va_list args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *log = g_build_filename(dir, log_name, NULL);
	GSubprocess *proc;
	const gchar *arg;

	g_ptr_array_add(argv, g_strdup(device_binary));
	for (guint i = 0; prefix != NULL && prefix[i] != NULL; i++)
		g_ptr_array_add(argv, g_strdup(prefix[i]));
	while ((arg = va_arg(args, const gchar *)) != NULL)
		g_ptr_array_add(argv, g_strdup(arg));
	g_ptr_array_add(argv, NULL);
	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	return proc;
}

gint
e2e_device_wait(GSubprocess *proc, guint timeout_s)
{
	for (guint i = 0; i < timeout_s * 20 && g_subprocess_get_identifier(proc) != NULL; i++)
		g_usleep(50 * 1000);
	if (g_subprocess_get_identifier(proc) != NULL) {
		g_subprocess_force_exit(proc);
		g_subprocess_wait(proc, NULL, NULL);
		return -1;
	}
	g_subprocess_wait(proc, NULL, NULL);
	return g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
}

/* starts the reference server as a DM Server named by @identity (its --server-id,
 * --client-name, secrets… arguments, NULL-terminated) on @port, with @script; its files carry
 * @tag ("" for the main server); waits until it listens */
GSubprocess *
e2e_server_start_as(Env *e,
                    const gchar *tag,
                    guint16 port,
                    const gchar *script,
                    const gchar *record,
                    const gchar *const *identity)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *ready_name = g_strdup_printf("ready%s", tag);
	g_autofree gchar *script_name = g_strdup_printf("script%s.json", tag);
	g_autofree gchar *log_name = g_strdup_printf("server%s.log", tag);
	g_autofree gchar *ready = g_build_filename(e->dir, ready_name, NULL);
	g_autofree gchar *script_path = g_build_filename(e->dir, script_name, NULL);
	g_autofree gchar *log = g_build_filename(e->dir, log_name, NULL);
	GSubprocess *proc;

	g_remove(ready);
	g_assert_true(g_file_set_contents(script_path, script, -1, NULL));
	g_ptr_array_add(argv, g_strdup(server_binary));
	g_ptr_array_add(argv,
	                g_strdup_printf("--listen=%s://127.0.0.1:%u",
	                                g_str_has_prefix(e->dm_url, "https:") ? "https" : "http",
	                                (guint)port));
	g_ptr_array_add(argv, g_strdup_printf("--cert=%s", e->cert));
	g_ptr_array_add(argv, g_strdup_printf("--key=%s", e->key));
	for (guint i = 0; identity[i] != NULL; i++)
		g_ptr_array_add(argv, g_strdup(identity[i]));
	g_ptr_array_add(argv, g_strdup_printf("--script=%s", script_path));
	g_ptr_array_add(argv, g_strdup_printf("--record=%s", record));
	g_ptr_array_add(argv, g_strdup_printf("--ready-file=%s", ready));
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
		g_printerr("reference server%s did not start:\n%s\n", tag, text);
		g_assert_not_reached();
	}
	return proc;
}

/* starts the reference server as SERVER_ID on the DMAcc's port; NULL-terminated extra args */
GSubprocess *
server_start(Env *e, const gchar *script, const gchar *record, const gchar *client_secret, ...)
{
	g_autoptr(GPtrArray) identity = g_ptr_array_new_with_free_func(g_free);
	const gchar *arg;
	va_list ap;

	g_ptr_array_add(identity, g_strdup("--server-id=" SERVER_ID));
	g_ptr_array_add(identity, g_strdup("--server-name=" SERVER_ID));
	g_ptr_array_add(identity, g_strdup("--server-secret=" SRV_SECRET));
	g_ptr_array_add(identity, g_strdup("--client-name=" CL_NAME));
	g_ptr_array_add(identity, g_strdup_printf("--client-secret=%s", client_secret));
	g_ptr_array_add(identity, g_strdup("--auth=md5"));
	va_start(ap, client_secret);
	while ((arg = va_arg(ap, const gchar *)) != NULL)
		g_ptr_array_add(identity, g_strdup(arg));
	va_end(ap);
	g_ptr_array_add(identity, NULL);
	return e2e_server_start_as(
	    e, "", e->port, script, record, (const gchar *const *)identity->pdata);
}

/* waits (up to 60 s) for the server to exit by itself after --sessions N */
void
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

JsonArray *
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

JsonObject *
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

gint64
status_of(JsonObject *session, const gchar *cmd, const gchar *uri)
{
	return json_object_get_int_member(result_for(session, cmd, uri), "status");
}

gchar *
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

guint
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

guint
notify(const gchar *url, const gchar *ca, GBytes *body, const gchar *content_type, const gchar *target)
{
	g_autoptr(GwHttpClient) client = gw_http_client_new(ca, NULL);
	const gchar *headers[] = {"X-GwMO-Target", target, NULL};
	PostWait w = {0};
	guint status;

	gw_http_client_set_retries(client, 0, 10);
	w.loop = g_main_loop_new(NULL, FALSE);
	gw_http_client_post_async(client,
				  url,
				  content_type,
				  body,
				  target != NULL ? headers : NULL,
				  NULL,
				  post_cb,
				  &w);
	g_main_loop_run(w.loop);
	g_main_loop_unref(w.loop);
	g_assert_no_error(w.error);
	status = w.response->status;
	gw_http_response_free(w.response);
	return status;
}

GBytes *
make_pkg0(const gchar *server_id, const gchar *secret, guint16 session_id)
{
	g_autoptr(GwPkg0) n = gw_pkg0_new();
	n->server_id = g_strdup(server_id);
	n->session_id = session_id;
	n->server_initiated = TRUE;
	n->ui_mode = GW_PKG0_UI_MODE_BACKGROUND;
	/* a server with no nonce from the gateway signs with the all-zero nonce */
	return gw_pkg0_build_with_nonce(n, secret, NULL);
}

gchar *
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



gboolean
record_executed(const gchar *path, const gchar *cmd, const gchar *uri, const gchar *data)
{
	g_autoptr(JsonParser) parser = NULL;
	JsonArray *sessions = record_sessions(path, &parser);

	for (guint s = 0; s < json_array_get_length(sessions); s++) {
		JsonArray *cmds = json_object_get_array_member(
		    json_array_get_object_element(sessions, s), "commands");
		for (guint i = 0; cmds != NULL && i < json_array_get_length(cmds); i++) {
			JsonObject *c = json_array_get_object_element(cmds, i);
			if (g_strcmp0(json_object_get_string_member(c, "cmd"), cmd) == 0 &&
			    g_strcmp0(json_object_get_string_member(c, "uri"), uri) == 0 &&
			    json_object_get_int_member(c, "status") == 200 &&
			    (data == NULL ||
			     g_strcmp0(json_object_get_string_member(c, "data"), data) == 0))
				return TRUE;
		}
	}
	return FALSE;
}

JsonObject *
session_alert(JsonObject *session, const gchar *type)
{
	JsonArray *alerts = json_object_get_array_member(session, "generic_alerts");

	for (guint i = 0; alerts != NULL && i < json_array_get_length(alerts); i++) {
		JsonObject *a = json_array_get_object_element(alerts, i);
		if (g_strcmp0(json_object_get_string_member(a, "type"), type) == 0)
			return a;
	}
	return NULL;
}

guint
count_substr(const gchar *haystack, const gchar *needle)
{
	guint n = 0;

	for (const gchar *p = haystack; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* ---- shared by the adapters' end-to-end tests ---- */

typedef struct {
	gboolean (*done)(gpointer data);
	gpointer data;
} E2eWait;

static gboolean
e2e_tick_cb(gpointer user_data)
{
	return G_SOURCE_CONTINUE; /* only wakes the loop up */
}

static gboolean
e2e_deadline_cb(gpointer user_data)
{
	*(gboolean *)user_data = TRUE;
	return G_SOURCE_REMOVE;
}

gboolean
e2e_wait(gboolean (*done)(gpointer data), gpointer data, guint timeout_s)
{
	gboolean expired = FALSE;
	guint tick = g_timeout_add(50, e2e_tick_cb, NULL);
	guint deadline = g_timeout_add_seconds(timeout_s, e2e_deadline_cb, &expired);
	gboolean ok;

	while (!(ok = done(data)) && !expired)
		g_main_context_iteration(NULL, TRUE);
	g_source_remove(tick);
	if (!expired)
		g_source_remove(deadline);
	return ok;
}

void
e2e_set_node_bool(GwTestDaemon *d, const gchar *uri, gboolean value)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r =
	    gw_test_call(d,
	                 "SetNode",
	                 g_variant_new("(ssv)", uri, "bool", g_variant_new_boolean(value)),
	                 "()",
	                 &error);
	g_assert_no_error(error);
}

void
e2e_start_session_with(GwTestDaemon *d, const gchar *server_id)
{
	/* while a session with that server runs, gwmod answers InProgress: the next one starts
	 * once it is over */
	for (guint i = 0; i < 1200; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) r =
		    gw_test_call(d, "StartSession", g_variant_new("(s)", server_id), NULL, &error);
		if (error == NULL)
			return;
		if (strstr(error->message, "Error.InProgress") == NULL)
			g_assert_no_error(error);
		g_usleep(50 * 1000);
	}
	g_assert_not_reached();
}

void
e2e_start_session(GwTestDaemon *d)
{
	e2e_start_session_with(d, SERVER_ID);
}

gchar *
e2e_fanout_job(const gchar *name,
               const gchar *targets,
               const gchar *command,
               const gchar *uri,
               const gchar *format,
               const gchar *data,
               guint timeout_s)
{
	GString *s = g_string_new(NULL);
	const gchar *base = "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/";

	g_string_append_printf(s, "%s%s\",\"format\":\"node\"},%s", base, name, targets);
	g_string_append_printf(s, "%s%s/Command\",\"data\":\"%s\"},", base, name, command);
	g_string_append_printf(s, "%s%s/TargetURI\",\"data\":\"%s\"},", base, name, uri);
	if (format != NULL)
		g_string_append_printf(s, "%s%s/Format\",\"data\":\"%s\"},", base, name, format);
	if (data != NULL)
		g_string_append_printf(s, "%s%s/Data\",\"data\":\"%s\"},", base, name, data);
	g_string_append_printf(
	    s, "%s%s/Timeout\",\"format\":\"int\",\"data\":\"%u\"},", base, name, timeout_s);
	g_string_append_printf(s,
	                       "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/Fanout/%s/Operations/Start\","
	                       "\"correlator\":\"c-%s\"}",
	                       name,
	                       name);
	return g_string_free(s, FALSE);
}

gchar *
e2e_fanout_group_target(const gchar *name, const gchar *group)
{
	return g_strdup_printf(
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Targets/Group\",\"data\":\"%s\"},",
	    name,
	    group);
}

gchar *
e2e_fanout_device_target(const gchar *name, guint n, const gchar *device)
{
	return g_strdup_printf(
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Targets/Devices/%u\",\"data\":\"%s\"},",
	    name,
	    n,
	    device);
}

const gchar *
e2e_fanout_document(JsonObject *session, const gchar *name)
{
	g_autofree gchar *source = g_strdup_printf("./GwMO/Fanout/%s", name);
	JsonArray *alerts = json_object_get_array_member(session, "generic_alerts");

	for (guint i = 0; alerts != NULL && i < json_array_get_length(alerts); i++) {
		JsonObject *a = json_array_get_object_element(alerts, i);
		if (g_strcmp0(json_object_get_string_member(a, "type"),
		              "urn:oma:at:gwmo:1.0:FanoutComplete") == 0 &&
		    g_strcmp0(json_object_get_string_member(a, "source"), source) == 0) {
			const gchar *doc = json_object_get_string_member(a, "data");
			g_test_message("%s: %s", name, doc);
			return doc;
		}
	}
	g_error("no FanoutComplete for %s in the session", source);
	return NULL;
}

gchar *
e2e_add_device(GwTestDaemon *d,
               const gchar *id,
               guint mode,
               const gchar *client_secret,
               const gchar *server_secret,
               const gchar *notify_addr,
               const gchar *group)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	const gchar *path = NULL;
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string(id));
	g_variant_builder_add(&b, "{sv}", "Mode", g_variant_new_uint32(mode));
	g_variant_builder_add(&b, "{sv}", "AuthType", g_variant_new_string("DIGEST"));
	g_variant_builder_add(&b, "{sv}", "ClientName", g_variant_new_string(id));
	g_variant_builder_add(&b, "{sv}", "ClientSecret", g_variant_new_string(client_secret));
	if (server_secret != NULL)
		g_variant_builder_add(
		    &b, "{sv}", "ServerSecret", g_variant_new_string(server_secret));
	if (notify_addr != NULL)
		g_variant_builder_add(&b, "{sv}", "NotifyAddr", g_variant_new_string(notify_addr));
	if (group != NULL) {
		const gchar *groups[] = {group, NULL};
		g_variant_builder_add(&b, "{sv}", "Groups", g_variant_new_strv(groups, -1));
	}
	reply = gw_test_call(d, "AddDevice", g_variant_new("(a{sv})", &b), "(o)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(&o)", &path);
	g_assert_true(g_str_has_prefix(path, "/org/gwmo/Gateway1/Devices/"));
	return g_strdup_printf("./GwMO/Inventory/Devices/%s",
	                       path + strlen("/org/gwmo/Gateway1/Devices/"));
}

gchar *
e2e_add_proxy_device(GwTestDaemon *d, const gchar *id, const gchar *notify_addr, const gchar *group)
{
	return e2e_add_device(d, id, 2, E2E_DEV_SECRET, E2E_GW_SECRET, notify_addr, group);
}

GSubprocess *
e2e_proxy_device_start(Env *e,
                       const gchar *id,
                       const gchar *group,
                       guint sessions,
                       gchar **record_uri)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *log = g_strdup_printf("%s/%s.log", e->dir, id);
	g_autofree gchar *tree =
	    g_build_filename(g_getenv("GWMO_TEST_DATA"), "peers", "device-tree.xml", NULL);
	g_autofree gchar *server =
	    g_strdup_printf("--server=http://127.0.0.1:%u/dm", e->south_port);
	g_autofree gchar *dev_id = g_strdup_printf("--dev-id=%s", id);
	g_autofree gchar *record = g_strdup_printf("--record=%s/%s.json", e->dir, id);
	g_autofree gchar *tree_arg = g_strdup_printf("--tree=%s", tree);
	g_autofree gchar *count = g_strdup_printf("--count=%u", sessions);
	GSubprocess *proc;

	*record_uri = e2e_add_proxy_device(e->d, id, NULL, group);
	{
		const gchar *argv[] = {device_binary,
		                       server,
		                       dev_id,
		                       "--auth=md5",
		                       "--client-secret=" E2E_DEV_SECRET,
		                       "--server-name=" E2E_GW_ID,
		                       "--server-secret=" E2E_GW_SECRET,
		                       "--server-id=" E2E_GW_ID,
		                       "--listen-notify=http://127.0.0.1:0",
		                       "--register",
		                       "--mode=2",
		                       count,
		                       record,
		                       tree_arg,
		                       NULL};
		g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
		g_subprocess_launcher_set_stderr_file_path(launcher, log);
		proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
	}
	g_assert_no_error(error);
	return proc;
}

typedef struct {
	GwTestDaemon *d;
	const gchar *uri;
} E2eNotifyAddr;

static gboolean
e2e_notify_addr_set(gpointer data)
{
	E2eNotifyAddr *w = data;
	g_autofree gchar *v = get_value(w->d, w->uri, NULL);

	return v != NULL && g_str_has_prefix(v, "http://127.0.0.1:");
}

void
e2e_wait_registered(GwTestDaemon *d, const gchar *record_uri)
{
	g_autofree gchar *uri = g_strdup_printf("%s/NotifyAddr", record_uri);
	E2eNotifyAddr w = {d, uri};

	if (!e2e_wait(e2e_notify_addr_set, &w, 60))
		g_error("%s never registered its notification address", record_uri);
}

void
e2e_group_add_member(GwTestDaemon *d, const gchar *group_path, const gchar *device_id)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_connection_call_sync(d->connection,
	                                                        "org.gwmo.Gateway1",
	                                                        group_path,
	                                                        "org.gwmo.Gateway1.Group",
	                                                        "AddMember",
	                                                        g_variant_new("(s)", device_id),
	                                                        NULL,
	                                                        G_DBUS_CALL_FLAGS_NONE,
	                                                        -1,
	                                                        NULL,
	                                                        &error);
	g_assert_no_error(error);
}

GDBusObjectManager *
e2e_object_manager(GwTestDaemon *d)
{
	g_autoptr(GError) error = NULL;
	GDBusObjectManager *objects =
	    g_dbus_object_manager_client_new_sync(d->connection,
	                                          G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE,
	                                          "org.gwmo.Gateway1",
	                                          "/org/gwmo/Gateway1",
	                                          NULL,
	                                          NULL,
	                                          NULL,
	                                          NULL,
	                                          &error);
	g_assert_no_error(error);
	return objects;
}

gchar *
e2e_proxy_string(GDBusProxy *proxy, const gchar *name)
{
	g_autoptr(GVariant) v = g_dbus_proxy_get_cached_property(proxy, name);

	return v != NULL && g_variant_is_of_type(v, G_VARIANT_TYPE_STRING)
	           ? g_variant_dup_string(v, NULL)
	           : NULL;
}

gchar *
e2e_device_record(GDBusObjectManager *objects,
                  const gchar *key,
                  const gchar *value,
                  const gchar *status)
{
	GList *list = g_dbus_object_manager_get_objects(objects);
	gchar *found = NULL;

	for (GList *l = list; l != NULL && found == NULL; l = l->next) {
		g_autoptr(GDBusInterface) iface =
		    g_dbus_object_get_interface(G_DBUS_OBJECT(l->data), "org.gwmo.Gateway1.Device");
		g_autofree gchar *v = NULL;
		g_autofree gchar *s = NULL;
		const gchar *path;

		if (iface == NULL)
			continue;
		v = e2e_proxy_string(G_DBUS_PROXY(iface), key);
		s = e2e_proxy_string(G_DBUS_PROXY(iface), "Status");
		if (g_strcmp0(v, value) != 0 || (status != NULL && g_strcmp0(s, status) != 0))
			continue;
		path = g_dbus_object_get_object_path(G_DBUS_OBJECT(l->data));
		found = g_strdup_printf("./GwMO/Inventory/Devices/%s", strrchr(path, '/') + 1);
	}
	g_list_free_full(list, g_object_unref);
	return found;
}

typedef struct {
	GDBusObjectManager *objects;
	const gchar *key;
	const gchar *value;
	const gchar *status;
	gchar *record;
} E2eRecordWait;

static gboolean
e2e_record_seen(gpointer data)
{
	E2eRecordWait *w = data;

	if (w->record == NULL)
		w->record = e2e_device_record(w->objects, w->key, w->value, w->status);
	return w->record != NULL;
}

gchar *
e2e_wait_device_record(GDBusObjectManager *objects,
                       const gchar *key,
                       const gchar *value,
                       const gchar *status,
                       guint timeout_s)
{
	E2eRecordWait w = {objects, key, value, status, NULL};

	if (!e2e_wait(e2e_record_seen, &w, timeout_s))
		g_error("no device with %s %s (Status %s) in %u s",
		        key,
		        value,
		        status != NULL ? status : "any",
		        timeout_s);
	return w.record;
}
