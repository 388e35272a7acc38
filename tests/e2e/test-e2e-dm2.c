/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * End to end, OMA DM 2.0 (issue 15, seed 003 B.1): the real gwmod with its account's server
 * listed in [northbound] dm2-servers, against the reference DM Server in its --dm2 mode
 * (tests/peers/gw-test-server-dm2.c, written from the spec text through the codec).
 *  - client-initiated session (D-Bus StartSession): Package #1 with the MOS list, the
 *    ClientInitiatedMgmt alert and a queued Generic Alert (delivered, no longer pending);
 *    HGET (a new leaf from the server's file), HPUT (a leaf's value to the server), GET (data
 *    in the Status), DELETE, EXEC (CheckIn: 202 and a second session follows, DM 2.0 too), a
 *    GET of a missing node (404) and a DELETE the tree refuses, and the END; HTTP Basic with
 *    the account's CLCRED name/secret;
 *  - server-initiated (seed 003 B.2): a DM 2.0 Package #0 on POST /notify → a session with
 *    ServerInitiatedMgmt and the NOTIFICATION-ID; forged/unknown/malformed/replayed ones start
 *    nothing;
 *  - a server refusing the account's credentials (HTTP 401): AuthFailed, nothing runs;
 *  - a malformed Package #2 ends the session with an error; gwmod keeps serving and the next
 *    session with the same server runs.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "gw-dm2-pkg0.h"
#include "gw-dm2-session.h"
#include "gw-e2e.h"

#define CFG "urn:oma:mo:oma-gwmo-gwconfig:1.0/Config"
#define EXT "./GwMO/Config/Ext/srv1"
#define DM2_CONF "[northbound]\nallow-insecure-http=true\ndm2-servers=other;" SERVER_ID "\n"

/* the reference server in its DM 2.0 mode on e->port (the account's AppAddr), HTTP Basic
 * with the account's CLCRED; waits until it listens */
static GSubprocess *
dm2_server_start(Env *e,
                 const gchar *script,
                 const gchar *record,
                 guint sessions,
                 const gchar *client_secret,
                 ...)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *ready = g_build_filename(e->dir, "ready", NULL);
	g_autofree gchar *script_path = g_build_filename(e->dir, "script.json", NULL);
	g_autofree gchar *log = g_build_filename(e->dir, "server.log", NULL);
	g_autofree gchar *listen = g_strdup_printf("--listen=http://127.0.0.1:%u", e->port);
	g_autofree gchar *script_arg = g_strdup_printf("--script=%s", script_path);
	g_autofree gchar *record_arg = g_strdup_printf("--record=%s", record);
	g_autofree gchar *ready_arg = g_strdup_printf("--ready-file=%s", ready);
	g_autofree gchar *sessions_arg = g_strdup_printf("--sessions=%u", sessions);
	g_autofree gchar *secret_arg = g_strdup_printf("--client-secret=%s", client_secret);
	const gchar *fixed[] = {server_binary,
	                        "--dm2",
	                        listen,
	                        "--client-name=" CL_NAME,
	                        secret_arg,
	                        script_arg,
	                        record_arg,
	                        ready_arg,
	                        sessions_arg};
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	GSubprocess *proc;
	const gchar *arg;
	va_list ap;

	for (guint i = 0; i < G_N_ELEMENTS(fixed); i++)
		g_ptr_array_add(argv, (gpointer)fixed[i]);
	va_start(ap, client_secret);
	while ((arg = va_arg(ap, const gchar *)) != NULL)
		g_ptr_array_add(argv, (gpointer)arg);
	va_end(ap);
	g_ptr_array_add(argv, NULL);

	g_remove(ready);
	g_assert_true(g_file_set_contents(script_path, script, -1, NULL));
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
		g_printerr("reference DM 2.0 server did not start:\n%s\n", text);
		g_assert_not_reached();
	}
	return proc;
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
	reply =
	    gw_test_call(d, "QueueAlert", g_variant_new("(sa{sv})", SERVER_ID, &b), "(u)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(u)", &id);
	return id;
}

/* the sc of Status @i of Package #3 @pkg of session @s */
static gint64
sc_at(JsonObject *s, guint pkg, guint i)
{
	JsonArray *statuses = json_object_get_array_member(s, "statuses");
	JsonArray *p;

	g_assert_cmpuint(pkg, <, json_array_get_length(statuses));
	p = json_array_get_array_element(statuses, pkg);
	g_assert_cmpuint(i, <, json_array_get_length(p));
	return json_object_get_int_member(json_array_get_object_element(p, i), "sc");
}

static const gchar *SCRIPT_CLIENT = "{\"files\":{\"/files/color\":\"green\"},"
                                    "\"sessions\":["
                                    "{\"packages\":[["
                                    "[\"HGET\",\"{base}/files/color\",\"" CFG "/Ext/srv1/Color\"],"
                                    "[\"HPUT\",\"{base}/files/keep\",\"" CFG "/Ext/srv1/Keep\"],"
                                    "[\"GET\",\"" CFG "/Ext/srv1/Keep\"],"
                                    "[\"DELETE\",\"" CFG "/Ext/srv1/Old\"],"
                                    "[\"EXEC\",\"" CFG "/Operations/CheckIn\"],"
                                    "[\"GET\",\"" CFG "/Ext/srv1/NoSuchNode\"],"
                                    "[\"DELETE\",\"urn:oma:mo:oma-dm-devinfo:1.0/DevInfo/DevId\"],"
                                    "[\"HGET\",\"{base}/files/missing\",\"" CFG "/Ext/srv1/Keep\"]"
                                    "]]},"
                                    "{\"packages\":[[[\"GET\",\"" CFG "/Ext/srv1/Color\"]]]}"
                                    "]}";

static void
test_client_initiated(void)
{
	Env *e = env_new_clear_text(DM2_CONF);
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autofree gchar *v = NULL;
	g_autofree gchar *data = NULL;
	JsonArray *sessions;
	JsonObject *s1;
	JsonObject *s2;
	JsonObject *alert;
	JsonArray *transfers;
	JsonArray *p1;
	gboolean found_config = FALSE;

	g_assert_cmpuint(queue_alert(e->d, "urn:gwmo:test:Hello", "hello server"), >, 0);
	g_assert_cmpuint(pending_alerts(e->d), ==, 1);
	server = dm2_server_start(e, SCRIPT_CLIENT, record, 2, CL_SECRET, NULL);
	reply = gw_test_call(e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
	g_assert_no_error(error);
	/* the CheckIn EXEC makes the gateway come back for a second session */
	server_wait(server);

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 2);
	s1 = json_array_get_object_element(sessions, 0);
	g_assert_cmpstr(json_object_get_string_member(s1, "state"), ==, "finished");
	g_assert_cmpstr(json_object_get_string_member(s1, "dev_id"), ==, "GW-TEST-0001");
	/* Package #1: the MOs of the tree, the session alert, then the queued alert */
	for (guint i = 0; i < json_array_get_length(json_object_get_array_member(s1, "mos")); i++) {
		if (g_strcmp0(
		        json_array_get_string_element(json_object_get_array_member(s1, "mos"), i),
		        "urn:oma:mo:oma-gwmo-gwconfig:1.0") == 0)
			found_config = TRUE;
	}
	g_assert_true(found_config);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(s1, "alerts")), ==, 2);
	alert = json_array_get_object_element(json_object_get_array_member(s1, "alerts"), 0);
	g_assert_cmpstr(json_object_get_string_member(alert, "AlertType"),
	                ==,
	                "urn:oma:at:dm:2.0:ClientInitiatedMgmt");
	alert = json_array_get_object_element(json_object_get_array_member(s1, "alerts"), 1);
	g_assert_cmpstr(
	    json_object_get_string_member(alert, "AlertType"), ==, "urn:gwmo:test:Hello");
	g_assert_cmpstr(json_object_get_string_member(alert, "SourceURI"),
	                ==,
	                "urn:oma:mo:oma-dm-devinfo:1.0/DevInfo/DevId");
	g_assert_cmpstr(
	    json_object_get_string_member(json_object_get_object_member(alert, "Data"), "DM1x"),
	    ==,
	    "hello server");
	g_assert_cmpuint(pending_alerts(e->d), ==, 0);

	/* Package #3: one Status per command, in command order */
	g_assert_cmpuint(
	    json_array_get_length(json_object_get_array_member(s1, "statuses")), ==, 1);
	p1 = json_array_get_array_element(json_object_get_array_member(s1, "statuses"), 0);
	g_assert_cmpuint(json_array_get_length(p1), ==, 8);
	g_assert_cmpint(sc_at(s1, 0, 0), ==, 200); /* HGET */
	g_assert_cmpint(sc_at(s1, 0, 1), ==, 200); /* HPUT */
	g_assert_cmpint(sc_at(s1, 0, 2), ==, 200); /* GET */
	data = json_to_string(json_object_get_member(json_array_get_object_element(p1, 2), "Data"),
	                      FALSE);
	g_assert_nonnull(strstr(data, "\"MOData\":{\"Keep\":\"kept\"}"));
	g_assert_nonnull(strstr(data, "\"ClientURI\":\"" CFG "/Ext/srv1/Keep\""));
	g_assert_cmpint(sc_at(s1, 0, 3), ==, 200); /* DELETE */
	g_assert_cmpint(sc_at(s1, 0, 4), ==, 202); /* EXEC CheckIn: a session follows */
	g_assert_cmpint(sc_at(s1, 0, 5), ==, 404); /* GET of a missing node */
	g_assert_cmpint(sc_at(s1, 0, 6), ==, 405); /* DELETE of a permanent DevInfo leaf */
	g_assert_cmpint(sc_at(s1, 0, 7), ==, 404); /* HGET of a file the server lacks */
	/* the HPUT's body reached the server */
	transfers = json_object_get_array_member(s1, "transfers");
	g_assert_cmpuint(json_array_get_length(transfers), ==, 1);
	g_assert_cmpstr(
	    json_object_get_string_member(json_array_get_object_element(transfers, 0), "method"),
	    ==,
	    "PUT");
	g_assert_nonnull(strstr(
	    json_object_get_string_member(json_array_get_object_element(transfers, 0), "body"),
	    "\"kept\""));

	/* the tree as the commands left it, read over D-Bus */
	v = get_value(e->d, EXT "/Color", NULL);
	g_assert_cmpstr(v, ==, "green");
	g_clear_pointer(&v, g_free);
	v = get_value(e->d, EXT "/Keep", NULL);
	g_assert_cmpstr(v, ==, "kept");
	g_clear_pointer(&v, g_free);
	{
		g_autofree gchar *err = NULL;
		v = get_value(e->d, EXT "/Old", &err);
		g_assert_null(v);
		g_assert_nonnull(err);
	}

	/* the CheckIn's session: DM 2.0 as well, and it sees the HGET's value */
	s2 = json_array_get_object_element(sessions, 1);
	g_assert_cmpstr(json_object_get_string_member(s2, "state"), ==, "finished");
	g_assert_cmpint(sc_at(s2, 0, 0), ==, 200);
	g_clear_pointer(&data, g_free);
	data = json_to_string(
	    json_object_get_member(
	        json_array_get_object_element(
	            json_array_get_array_element(json_object_get_array_member(s2, "statuses"), 0),
	            0),
	        "Data"),
	    FALSE);
	g_assert_nonnull(strstr(data, "\"Color\":\"green\""));
	env_free(e);
}

static const gchar *SCRIPT_MALFORMED =
    "{\"sessions\":["
    "{\"raw\":\"{\\\"CMD\\\":[[\\\"DELETE\\\",\\\"" CFG "/Ext/srv1/Old\\\"]\"},"
    "{\"packages\":[[[\"DELETE\",\"" CFG "/Ext/srv1/Old\"]]]}"
    "]}";

static void
test_malformed(void)
{
	Env *e = env_new_clear_text(DM2_CONF);
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *log = g_build_filename(e->dir, "gwmod.log", NULL);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autofree gchar *v = NULL;
	g_autofree gchar *dbus_error = NULL;
	JsonArray *sessions;

	server = dm2_server_start(e, SCRIPT_MALFORMED, record, 2, CL_SECRET, NULL);
	reply = gw_test_call(e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
	g_assert_nonnull(error);
	dbus_error = g_dbus_error_get_remote_error(error);
	g_assert_cmpstr(dbus_error, ==, "org.gwmo.Gateway1.Error.Protocol");
	g_assert_nonnull(strstr(error->message, "Package #2"));
	g_clear_error(&error);
	/* nothing of the malformed package ran, and gwmod keeps serving */
	v = get_value(e->d, EXT "/Old", NULL);
	g_assert_cmpstr(v, ==, "to be deleted");
	g_clear_pointer(&reply, g_variant_unref);
	reply = gw_test_call(e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
	g_assert_no_error(error);
	server_wait(server);
	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 2);
	g_assert_cmpstr(
	    json_object_get_string_member(json_array_get_object_element(sessions, 0), "state"),
	    ==,
	    "failed");
	g_assert_cmpstr(
	    json_object_get_string_member(json_array_get_object_element(sessions, 1), "state"),
	    ==,
	    "finished");
	g_assert_cmpint(sc_at(json_array_get_object_element(sessions, 1), 0, 0), ==, 200);
	g_clear_pointer(&v, g_free);
	{
		g_autofree gchar *err = NULL;
		v = get_value(e->d, EXT "/Old", &err);
		g_assert_null(v);
	}
	env_free(e);
}

/* a server that does not take the account's HTTP Basic credentials: 401, AuthFailed, nothing
 * of the script reaches the tree */
static void
test_wrong_password(void)
{
	Env *e = env_new_clear_text(DM2_CONF);
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *dbus_error = NULL;
	g_autofree gchar *v = NULL;

	server = dm2_server_start(e, SCRIPT_MALFORMED, record, 1, "not-the-secret", NULL);
	reply = gw_test_call(e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
	g_assert_nonnull(error);
	dbus_error = g_dbus_error_get_remote_error(error);
	g_assert_cmpstr(dbus_error, ==, "org.gwmo.Gateway1.Error.AuthFailed");
	v = get_value(e->d, EXT "/Old", NULL);
	g_assert_cmpstr(v, ==, "to be deleted");
	g_subprocess_send_signal(server, SIGTERM);
	g_subprocess_wait(server, NULL, NULL);
	env_free(e);
}

/* a DM 2.0 Package #0 of @server_id signed with @secret (empty auth data) */
static GBytes *
make_dm2_pkg0(const gchar *server_id, const gchar *secret, guint16 notification_id)
{
	g_autoptr(GwDm2Pkg0) n = gw_dm2_pkg0_new();
	g_autoptr(GBytes) key = g_bytes_new(secret, strlen(secret));

	n->server_id = g_strdup(server_id);
	n->has_notification_id = TRUE;
	n->notification_id = notification_id;
	return gw_dm2_pkg0_build(n, key, NULL);
}

/* seed 003 B.2: the server's DM 2.0 Package #0 on POST /notify starts a session whose
 * Package #1 carries ServerInitiatedMgmt with its NOTIFICATION-ID; the same commands run;
 * forged, unknown-server, malformed and replayed notifications start nothing */
static void
test_server_initiated(void)
{
	Env *e = env_new_clear_text(DM2_CONF);
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *url = notify_url(e->d);
	g_autofree gchar *gw_cert = g_build_filename(e->d->state_dir, "tls.crt", NULL);
	g_autofree gchar *notify_arg = g_strdup_printf("--notify=%s", url);
	g_autofree gchar *ca_arg = g_strdup_printf("--ca-file=%s", gw_cert);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GBytes) forged = make_dm2_pkg0(SERVER_ID, "not-the-secret", 7);
	g_autoptr(GBytes) unknown = make_dm2_pkg0("nobody.example", SRV_SECRET, 7);
	g_autoptr(GBytes) garbage = g_bytes_new_static("\xff\xff\xff", 3);
	g_autoptr(GBytes) again = make_dm2_pkg0(SERVER_ID, SRV_SECRET, 4660);
	g_autofree gchar *v = NULL;
	JsonArray *sessions;
	JsonObject *s1;
	JsonObject *alert;

	g_assert_cmpuint(
	    notify(url, gw_cert, forged, GW_DM2_CONTENT_TYPE_NOTIFICATION, NULL), ==, 401);
	g_assert_cmpuint(
	    notify(url, gw_cert, unknown, GW_DM2_CONTENT_TYPE_NOTIFICATION, NULL), ==, 403);
	g_assert_cmpuint(
	    notify(url, gw_cert, garbage, GW_DM2_CONTENT_TYPE_NOTIFICATION, NULL), ==, 400);
	v = get_value(e->d, EXT "/Old", NULL);
	g_assert_cmpstr(v, ==, "to be deleted");
	server = dm2_server_start(e,
	                          SCRIPT_CLIENT,
	                          record,
	                          2,
	                          CL_SECRET,
	                          "--server-id=" SERVER_ID,
	                          "--notify-secret=" SRV_SECRET,
	                          "--notify-id=4660",
	                          notify_arg,
	                          ca_arg,
	                          NULL);
	server_wait(server);
	/* one session per notification */
	g_assert_cmpuint(
	    notify(url, gw_cert, again, GW_DM2_CONTENT_TYPE_NOTIFICATION, NULL), ==, 409);
	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 2);
	s1 = json_array_get_object_element(sessions, 0);
	g_assert_cmpstr(json_object_get_string_member(s1, "state"), ==, "finished");
	alert = json_array_get_object_element(json_object_get_array_member(s1, "alerts"), 0);
	g_assert_cmpstr(json_object_get_string_member(alert, "AlertType"),
	                ==,
	                "urn:oma:at:dm:2.0:ServerInitiatedMgmt");
	g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(alert, "Data"),
	                                           "NotificationID"),
	                ==,
	                4660);
	g_assert_cmpint(sc_at(s1, 0, 0), ==, 200); /* HGET */
	g_assert_cmpint(sc_at(s1, 0, 1), ==, 200); /* HPUT */
	g_assert_cmpint(sc_at(s1, 0, 2), ==, 200); /* GET */
	g_assert_cmpint(sc_at(s1, 0, 3), ==, 200); /* DELETE */
	g_assert_cmpint(sc_at(s1, 0, 4), ==, 202); /* EXEC */
	g_assert_cmpint(sc_at(s1, 0, 5), ==, 404); /* GET of a missing node */
	g_clear_pointer(&v, g_free);
	v = get_value(e->d, EXT "/Color", NULL);
	g_assert_cmpstr(v, ==, "green");
	/* the CheckIn's session is client-initiated */
	alert = json_array_get_object_element(
	    json_object_get_array_member(json_array_get_object_element(sessions, 1), "alerts"), 0);
	g_assert_cmpstr(json_object_get_string_member(alert, "AlertType"),
	                ==,
	                "urn:oma:at:dm:2.0:ClientInitiatedMgmt");
	env_free(e);
}

#define SERVER_B_ID "srv2.example"
#define CL_B_NAME "gateway-1-b"
#define CL_B_SECRET "client-secret-2"
#define ATTACHED "urn:oma:at:gwmo:1.0:DeviceAttached"

/* one DMAcc entry at http://127.0.0.1:@port/dm (CLCRED and SRVCRED DIGEST) */
static void
append_account(GString *s,
               const gchar *node,
               const gchar *server_id,
               guint16 port,
               const gchar *client_name,
               const gchar *client_secret)
{
	g_string_append_printf(
	    s,
	    "<Node><NodeName>%s</NodeName><Path>./DMAcc</Path>"
	    "<RTProperties><ACL>Get=%s&amp;Replace=%s</ACL><Format><node/></Format></RTProperties>"
	    "<Node><NodeName>AppID</NodeName><Value>w7</Value></Node>"
	    "<Node><NodeName>ServerID</NodeName><Value>%s</Value></Node>"
	    "<Node><NodeName>AppAddr</NodeName><Node><NodeName>1</NodeName>"
	    "<Node><NodeName>Addr</NodeName><Value>http://127.0.0.1:%u/dm</Value></Node>"
	    "<Node><NodeName>AddrType</NodeName><Value>URI</Value></Node></Node></Node>"
	    "<Node><NodeName>AppAuth</NodeName>"
	    "<Node><NodeName>1</NodeName>"
	    "<Node><NodeName>AAuthLevel</NodeName><Value>CLCRED</Value></Node>"
	    "<Node><NodeName>AAuthType</NodeName><Value>DIGEST</Value></Node>"
	    "<Node><NodeName>AAuthName</NodeName><Value>%s</Value></Node>"
	    "<Node><NodeName>AAuthSecret</NodeName><RTProperties><Format><chr/></Format>"
	    "</RTProperties><DFProperties><AccessType><Replace/></AccessType></DFProperties>"
	    "<Value>%s</Value></Node></Node>"
	    "<Node><NodeName>2</NodeName>"
	    "<Node><NodeName>AAuthLevel</NodeName><Value>SRVCRED</Value></Node>"
	    "<Node><NodeName>AAuthType</NodeName><Value>DIGEST</Value></Node>"
	    "<Node><NodeName>AAuthName</NodeName><Value>%s</Value></Node>"
	    "<Node><NodeName>AAuthSecret</NodeName><RTProperties><Format><chr/></Format>"
	    "</RTProperties><DFProperties><AccessType><Replace/></AccessType></DFProperties>"
	    "<Value>" SRV_SECRET "</Value></Node></Node></Node></Node>",
	    node,
	    server_id,
	    server_id,
	    server_id,
	    port,
	    client_name,
	    client_secret,
	    server_id);
}

static GSubprocess *
spawn_logged(const gchar *log, const gchar *const *argv)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_autoptr(GError) error = NULL;
	GSubprocess *proc;

	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	g_subprocess_launcher_set_flags(launcher, G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	return proc;
}

static void
wait_file(const gchar *path, GSubprocess *proc)
{
	for (guint i = 0; i < 400 && !g_file_test(path, G_FILE_TEST_EXISTS); i++) {
		if (g_subprocess_get_identifier(proc) == NULL)
			break;
		g_usleep(50 * 1000);
	}
	g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
}

/* the DM 1.2 server's record holds a session with a DeviceAttached alert */
static gboolean
dm1_record_has_attached(const gchar *record)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonArray *sessions;

	if (!json_parser_load_from_file(parser, record, NULL))
		return FALSE;
	sessions = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)),
	                                        "sessions");
	for (guint i = 0; i < json_array_get_length(sessions); i++) {
		if (session_alert(json_array_get_object_element(sessions, i), ATTACHED) != NULL)
			return TRUE;
	}
	return FALSE;
}

/* issue 15 acceptance: one gwmod with a DM 1.2 server and a DM 2.0 server; a device that
 * attaches is announced to each, in its own protocol, with the same <GwMODevice> document */
static void
test_mixed_servers(void)
{
	Env *e = g_new0(Env, 1);
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) tnds =
	    g_string_new("<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>");
	g_autofree gchar *tnds_path = NULL;
	g_autofree gchar *conf = NULL;
	g_autofree gchar *record1 = NULL;
	g_autofree gchar *record2 = NULL;
	g_autofree gchar *ready1 = NULL;
	g_autofree gchar *log1 = NULL;
	g_autofree gchar *script1 = NULL;
	g_autofree gchar *listen1 = NULL;
	g_autofree gchar *script1_arg = NULL;
	g_autofree gchar *record1_arg = NULL;
	g_autofree gchar *ready1_arg = NULL;
	g_autofree gchar *dev_log = NULL;
	g_autofree gchar *dev_server = NULL;
	g_autoptr(GSubprocess) dm1 = NULL;
	g_autoptr(GSubprocess) dm2 = NULL;
	g_autoptr(GSubprocess) device = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(JsonParser) parser = NULL;
	const gchar *args[3] = {"--bootstrap", NULL, NULL};
	guint16 port1 = free_port();
	GVariantBuilder b;
	JsonArray *sessions;
	JsonObject *alert = NULL;
	const gchar *doc;

	e->dir = g_dir_make_tmp("gwmo-e2e-dm2-XXXXXX", &error);
	g_assert_no_error(error);
	e->port = free_port();
	e->south_port = free_port();
	append_account(tnds, "srv1", SERVER_ID, port1, CL_NAME, CL_SECRET);
	append_account(tnds, "srv2", SERVER_B_ID, e->port, CL_B_NAME, CL_B_SECRET);
	g_string_append(tnds, "</MgmtTree>");
	tnds_path = g_build_filename(e->dir, "bootstrap.xml", NULL);
	g_assert_true(g_file_set_contents(tnds_path, tnds->str, -1, NULL));
	conf = g_strdup_printf("[southbound]\nlisten=http://127.0.0.1:%u\n"
	                       "[northbound]\nlisten=https://127.0.0.1:0\nretries=1\ntimeout=20\n"
	                       "allow-insecure-http=true\ndm2-servers=" SERVER_B_ID "\n",
	                       e->south_port);
	e->d = gw_test_daemon_new_with_config(conf);
	args[1] = tnds_path;
	gw_test_daemon_start(e->d, args);

	/* the DM 1.2 server (SyncML, MD5) and the DM 2.0 one (JSON, HTTP Basic) */
	record1 = g_build_filename(e->dir, "record-dm1.json", NULL);
	ready1 = g_build_filename(e->dir, "ready-dm1", NULL);
	log1 = g_build_filename(e->dir, "server-dm1.log", NULL);
	script1 = g_build_filename(e->dir, "script-dm1.json", NULL);
	g_assert_true(g_file_set_contents(script1, "{\"sessions\":[]}", -1, NULL));
	listen1 = g_strdup_printf("--listen=http://127.0.0.1:%u", port1);
	script1_arg = g_strdup_printf("--script=%s", script1);
	record1_arg = g_strdup_printf("--record=%s", record1);
	ready1_arg = g_strdup_printf("--ready-file=%s", ready1);
	dm1 = spawn_logged(log1,
	                   (const gchar *const[]){server_binary,
	                                          listen1,
	                                          "--server-id=" SERVER_ID,
	                                          "--server-name=" SERVER_ID,
	                                          "--server-secret=" SRV_SECRET,
	                                          "--client-name=" CL_NAME,
	                                          "--client-secret=" CL_SECRET,
	                                          "--auth=md5",
	                                          script1_arg,
	                                          record1_arg,
	                                          ready1_arg,
	                                          NULL});
	wait_file(ready1, dm1);
	record2 = g_build_filename(e->dir, "record-dm2.json", NULL);
	/* this account has its own client name (the last --client-name counts) */
	dm2 = dm2_server_start(
	    e, "{\"sessions\":[]}", record2, 1, CL_B_SECRET, "--client-name=" CL_B_NAME, NULL);

	/* a provisioned device opens its session with the gateway: it is Attached */
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string("dev-M"));
	g_variant_builder_add(&b, "{sv}", "Mode", g_variant_new_uint32(2));
	g_variant_builder_add(&b, "{sv}", "AuthType", g_variant_new_string("DIGEST"));
	g_variant_builder_add(&b, "{sv}", "ClientName", g_variant_new_string("dev-M"));
	g_variant_builder_add(&b, "{sv}", "ClientSecret", g_variant_new_string("dev-M-secret"));
	reply = gw_test_call(e->d, "AddDevice", g_variant_new("(a{sv})", &b), "(o)", &error);
	g_assert_no_error(error);
	dev_log = g_build_filename(e->dir, "device.log", NULL);
	dev_server = g_strdup_printf("--server=http://127.0.0.1:%u/dm", e->south_port);
	device = spawn_logged(dev_log,
	                      (const gchar *const[]){device_binary,
	                                             dev_server,
	                                             "--dev-id=dev-M",
	                                             "--auth=md5",
	                                             "--client-secret=dev-M-secret",
	                                             "--server-id=GW-TEST-0001",
	                                             "--notify-addr=udp://127.0.0.1:9",
	                                             NULL});
	g_assert_true(g_subprocess_wait(device, NULL, NULL));
	g_assert_cmpint(g_subprocess_get_exit_status(device), ==, 0);

	/* the DM 2.0 server: its session carried DeviceAttached as a DM 2.0 Generic Alert */
	server_wait(dm2);
	sessions = record_sessions(record2, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), >=, 1);
	for (guint i = 0; alert == NULL && i < json_array_get_length(sessions); i++) {
		JsonArray *alerts = json_object_get_array_member(
		    json_array_get_object_element(sessions, i), "alerts");
		for (guint j = 0; j < json_array_get_length(alerts); j++) {
			JsonObject *a = json_array_get_object_element(alerts, j);
			if (g_strcmp0(json_object_get_string_member(a, "AlertType"), ATTACHED) == 0)
				alert = a;
		}
	}
	g_assert_nonnull(alert);
	doc = json_object_get_string_member(json_object_get_object_member(alert, "Data"), "DM1x");
	g_assert_nonnull(strstr(doc, "dev-M"));
	g_assert_nonnull(strstr(doc, "Attached"));
	/* and the DM 1.2 server heard it too, in SyncML */
	/* (its record is written as each session ends) */
	for (guint i = 0; i < 1200 && !dm1_record_has_attached(record1); i++)
		g_usleep(50 * 1000);
	g_subprocess_send_signal(dm1, SIGTERM);
	g_subprocess_wait(dm1, NULL, NULL);
	g_assert_true(dm1_record_has_attached(record1));
	g_assert_cmpuint(pending_alerts(e->d), ==, 0);
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
	device_binary = argc > 2 ? argv[2] : NULL;
	g_test_add_func("/gw/e2e/dm2/client-initiated", test_client_initiated);
	g_test_add_func("/gw/e2e/dm2/server-initiated", test_server_initiated);
	g_test_add_func("/gw/e2e/dm2/malformed", test_malformed);
	g_test_add_func("/gw/e2e/dm2/wrong-password", test_wrong_password);
	g_test_add_func("/gw/e2e/dm2/mixed-servers", test_mixed_servers);
	return g_test_run();
}
