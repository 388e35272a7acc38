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
 *  - alert-resend-once: a DM 2.0 alert whose acknowledgement a crash lost is sent again with
 *    the same identity (X-GwMO-Alert-ID) and the reference server accepts it once; more alerts
 *    than one Package #1's header has room for go in the sessions that follow at once;
 *  - server-initiated (seed 003 B.2): a DM 2.0 Package #0 on POST /notify → a session with
 *    ServerInitiatedMgmt and the NOTIFICATION-ID; forged/unknown/malformed/replayed ones start
 *    nothing;
 *  - a server refusing the account's credentials (HTTP 401): AuthFailed, nothing runs;
 *  - a malformed Package #2 ends the session with an error; gwmod keeps serving and the next
 *    session with the same server runs;
 *  - a DM 1.2 and a DM 2.0 server on one gwmod: both hear DeviceAttached, and each runs a
 *    fan-out to the same two Proxy devices in the same minute (the DM 2.0 job made by HGETs,
 *    started by an asynchronous EXEC, its result a DM 2.0 Generic Alert and a GET);
 *  - the HTTP-level authentication the CLCRED AAuthType chooses: HTTP-DIGEST against a server
 *    taking only RFC 7616 Digest (libsoup's SoupAuthDomainDigest), X509 against one pinning
 *    the gateway's TLS client certificate; a wrong secret or another pinned certificate is
 *    refused first (AuthFailed, nothing runs);
 *  - an account in the DMAcc 2.0 layout (SrvID, SrvURI, Auth/Trsp, Auth/Noti) and no
 *    dm2-servers: a client-initiated session at its SrvURI with Auth/Trsp's Basic credentials,
 *    a server-initiated one whose Package #0 digest takes Auth/Noti/Secret and Auth/Noti/Data
 *    (other secrets or no auth data: 401), Digest and the client certificate as its
 *    Ext/TrspAuthType says; its secrets are not readable over D-Bus.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "gw-crypto.h"
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

/* the Generic Alerts of @type in the record's sessions, in order */
static GPtrArray *
alerts_of_type(JsonArray *sessions, const gchar *type)
{
	GPtrArray *out = g_ptr_array_new();

	for (guint i = 0; i < json_array_get_length(sessions); i++) {
		JsonArray *alerts = json_object_get_array_member(
		    json_array_get_object_element(sessions, i), "alerts");
		for (guint j = 0; j < json_array_get_length(alerts); j++) {
			JsonObject *a = json_array_get_object_element(alerts, j);
			if (g_strcmp0(json_object_get_string_member(a, "AlertType"), type) == 0)
				g_ptr_array_add(out, a);
		}
	}
	return out;
}

/*
 * Issue 16 §2, exactly once as the server sees it, for DM 2.0: an alert the server received
 * (its Package #2 answered the Package #1 that carried it) whose acknowledgement a crash lost
 * before it was stored. The crash is made deterministic as in test-e2e-crash.c's
 * /alert-resend-once: gwmod is SIGKILLed after the session and the alert queue is put back as
 * it was stored before the acknowledgement. The restarted gateway sends the alert again (its
 * session for undelivered alerts) with the same identity in X-GwMO-Alert-ID; the reference
 * server accepts it once and records the resend as a suppressed duplicate. On main a DM 2.0
 * alert carried no identity and the server accepted it twice.
 */
static void
test_alert_resend_once(void)
{
	Env *e = env_new_clear_text(DM2_CONF);
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *queue = g_build_filename(e->d->state_dir, "alerts.json", NULL);
	g_autofree gchar *before = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GPtrArray) seen = NULL;
	JsonArray *sessions;
	JsonObject *first;
	JsonObject *second;
	gsize len = 0;
	guint accepted = 0;

	g_assert_cmpuint(queue_alert(e->d, "urn:gwmo:test:Once", "once"), >, 0);
	/* QueueAlert stores the alert before it answers: the queue before the acknowledgement */
	g_assert_true(g_file_get_contents(queue, &before, &len, &error));
	g_assert_no_error(error);

	server = dm2_server_start(e, "{\"sessions\":[]}", record, 2, CL_SECRET, NULL);
	reply = gw_test_call(e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(pending_alerts(e->d), ==, 0);

	/* the crash between the server's Package #2 and the stored acknowledgement */
	gw_test_daemon_kill(e->d);
	g_assert_true(g_file_set_contents(queue, before, (gssize)len, &error));
	g_assert_no_error(error);
	gw_test_daemon_start(e->d, NULL);
	/* the restarted gateway delivers what it believes undelivered: the server's 2nd session */
	server_wait(server);
	g_assert_cmpuint(pending_alerts(e->d), ==, 0);

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 2);
	seen = alerts_of_type(sessions, "urn:gwmo:test:Once");
	/* the same alert sent twice, with the same identity */
	g_assert_cmpuint(seen->len, ==, 2);
	first = g_ptr_array_index(seen, 0);
	second = g_ptr_array_index(seen, 1);
	g_assert_cmpstr(
	    json_object_get_string_member(json_object_get_object_member(second, "Data"), "DM1x"),
	    ==,
	    "once");
	g_assert_true(json_object_get_member(first, "identity") != NULL &&
	              !json_node_is_null(json_object_get_member(first, "identity")));
	g_assert_true(
	    g_str_has_prefix(json_object_get_string_member(first, "identity"), "gwmo-alert:"));
	g_assert_cmpstr(json_object_get_string_member(first, "identity"),
	                ==,
	                json_object_get_string_member(second, "identity"));
	/* exactly once as the server sees it: accepted, then suppressed by its identity */
	for (guint i = 0; i < seen->len; i++)
		accepted +=
		    !json_object_get_boolean_member(g_ptr_array_index(seen, i), "duplicate");
	g_assert_cmpuint(accepted, ==, 1);
	g_assert_false(json_object_get_boolean_member(first, "duplicate"));
	g_assert_true(json_object_get_boolean_member(second, "duplicate"));
	env_free(e);
}

/* more queued alerts than one Package #1's X-GwMO-Alert-ID has room for (about 100) */
#define MANY_ALERTS 130

/*
 * Alerts beyond one Package #1: the first session carries those whose identities fit its
 * header, the next session follows at once with the rest; every alert reaches the server once,
 * each with its own identity, none left pending.
 */
static void
test_alerts_beyond_one_package(void)
{
	Env *e = env_new_clear_text(DM2_CONF);
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GPtrArray) seen = NULL;
	g_autoptr(GHashTable) identities = g_hash_table_new(g_str_hash, g_str_equal);
	JsonArray *sessions;
	guint in_first;

	for (guint i = 0; i < MANY_ALERTS; i++) {
		g_autofree gchar *data = g_strdup_printf("alert %u", i);
		g_assert_cmpuint(queue_alert(e->d, "urn:gwmo:test:Many", data), >, 0);
	}
	g_assert_cmpuint(pending_alerts(e->d), ==, MANY_ALERTS);
	server = dm2_server_start(e, "{\"sessions\":[]}", record, 2, CL_SECRET, NULL);
	reply = gw_test_call(e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
	g_assert_no_error(error);
	/* the second session comes by itself */
	server_wait(server);
	g_assert_cmpuint(pending_alerts(e->d), ==, 0);

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 2);
	in_first = json_array_get_length(json_object_get_array_member(
	               json_array_get_object_element(sessions, 0), "alerts")) -
	           1;
	g_assert_cmpuint(in_first, >, 0);
	g_assert_cmpuint(in_first, <, MANY_ALERTS);
	seen = alerts_of_type(sessions, "urn:gwmo:test:Many");
	g_assert_cmpuint(seen->len, ==, MANY_ALERTS);
	for (guint i = 0; i < seen->len; i++) {
		JsonObject *a = g_ptr_array_index(seen, i);
		g_autofree gchar *want = g_strdup_printf("alert %u", i);
		const gchar *identity = json_object_get_string_member(a, "identity");

		/* in queue order, each once, each named */
		g_assert_cmpstr(
		    json_object_get_string_member(json_object_get_object_member(a, "Data"), "DM1x"),
		    ==,
		    want);
		g_assert_false(json_object_get_boolean_member(a, "duplicate"));
		g_assert_nonnull(identity);
		g_assert_false(g_hash_table_contains(identities, identity));
		g_hash_table_add(identities, (gpointer)identity);
	}
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

/* a DM 2.0 Package #0 of @server_id whose digest is SHA256(@secret | notification |
 * @auth_data) (@auth_data nullable: none) */
static GBytes *
make_dm2_pkg0_auth(const gchar *server_id,
                   const gchar *secret,
                   const gchar *auth_data,
                   guint16 notification_id)
{
	g_autoptr(GwDm2Pkg0) n = gw_dm2_pkg0_new();
	g_autoptr(GBytes) key = g_bytes_new(secret, strlen(secret));
	g_autoptr(GBytes) data =
	    auth_data != NULL ? g_bytes_new(auth_data, strlen(auth_data)) : NULL;

	n->server_id = g_strdup(server_id);
	n->has_notification_id = TRUE;
	n->notification_id = notification_id;
	return gw_dm2_pkg0_build(n, key, data);
}

/* a DM 2.0 Package #0 of @server_id signed with @secret (empty auth data) */
static GBytes *
make_dm2_pkg0(const gchar *server_id, const gchar *secret, guint16 notification_id)
{
	return make_dm2_pkg0_auth(server_id, secret, NULL, notification_id);
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
	g_assert_cmpint(e2e_device_wait(device, 60), ==, 0);

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

/* ---- issue 15: a fan-out from each of the two servers ---- */

#define FANOUT_MO "urn:oma:mo:oma-gwmo-fanout:1.0/Fanout"
#define FANOUT_COMPLETE "urn:oma:at:gwmo:1.0:FanoutComplete"

/* the DM 1.2 reference server on @port with @script (text); @sessions 0: until SIGTERM */
static GSubprocess *
dm1_server_start(Env *e,
                 guint16 port,
                 const gchar *tag,
                 const gchar *script,
                 const gchar *record,
                 guint sessions)
{
	g_autofree gchar *script_path = g_strdup_printf("%s/script-%s.json", e->dir, tag);
	g_autofree gchar *ready = g_strdup_printf("%s/ready-%s", e->dir, tag);
	g_autofree gchar *log = g_strdup_printf("%s/server-%s.log", e->dir, tag);
	g_autofree gchar *listen = g_strdup_printf("--listen=http://127.0.0.1:%u", port);
	g_autofree gchar *script_arg = g_strdup_printf("--script=%s", script_path);
	g_autofree gchar *record_arg = g_strdup_printf("--record=%s", record);
	g_autofree gchar *ready_arg = g_strdup_printf("--ready-file=%s", ready);
	g_autofree gchar *sessions_arg = g_strdup_printf("--sessions=%u", sessions);
	GSubprocess *proc;

	g_assert_true(g_file_set_contents(script_path, script, -1, NULL));
	proc = spawn_logged(log,
	                    (const gchar *const[]){server_binary,
	                                           listen,
	                                           "--server-id=" SERVER_ID,
	                                           "--server-name=" SERVER_ID,
	                                           "--server-secret=" SRV_SECRET,
	                                           "--client-name=" CL_NAME,
	                                           "--client-secret=" CL_SECRET,
	                                           "--auth=md5",
	                                           script_arg,
	                                           record_arg,
	                                           ready_arg,
	                                           sessions_arg,
	                                           NULL});
	wait_file(ready, proc);
	return proc;
}

/* the DM 1.2 server's record: a DeviceAttached alert naming @dev */
static gboolean
dm1_record_attached(const gchar *record, const gchar *dev)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autofree gchar *needle = g_strdup_printf(">%s<", dev);
	JsonArray *sessions;

	if (!json_parser_load_from_file(parser, record, NULL))
		return FALSE;
	sessions = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)),
	                                        "sessions");
	for (guint i = 0; i < json_array_get_length(sessions); i++) {
		JsonArray *alerts = json_object_get_array_member(
		    json_array_get_object_element(sessions, i), "generic_alerts");
		for (guint j = 0; alerts != NULL && j < json_array_get_length(alerts); j++) {
			JsonObject *a = json_array_get_object_element(alerts, j);
			const gchar *data =
			    json_object_get_string_member_with_default(a, "data", "");
			if (g_strcmp0(json_object_get_string_member(a, "type"), ATTACHED) == 0 &&
			    strstr(data, needle) != NULL)
				return TRUE;
		}
	}
	return FALSE;
}

/* the DM 2.0 server's record: the first Generic Alert of @type (whose Data names @needle,
 * when set), or NULL */
static JsonObject *
dm2_record_alert(JsonArray *sessions, const gchar *type, const gchar *needle)
{
	for (guint i = 0; i < json_array_get_length(sessions); i++) {
		JsonArray *alerts = json_object_get_array_member(
		    json_array_get_object_element(sessions, i), "alerts");
		for (guint j = 0; alerts != NULL && j < json_array_get_length(alerts); j++) {
			JsonObject *a = json_array_get_object_element(alerts, j);
			JsonObject *data = json_object_get_object_member(a, "Data");
			const gchar *doc =
			    data != NULL
			        ? json_object_get_string_member_with_default(data, "DM1x", "")
			        : "";
			if (g_strcmp0(json_object_get_string_member(a, "AlertType"), type) == 0 &&
			    (needle == NULL || strstr(doc, needle) != NULL))
				return a;
		}
	}
	return NULL;
}

static gboolean
dm2_record_attached(const gchar *record, const gchar *dev)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autofree gchar *needle = g_strdup_printf(">%s<", dev);

	if (!json_parser_load_from_file(parser, record, NULL))
		return FALSE;
	return dm2_record_alert(json_object_get_array_member(
	                            json_node_get_object(json_parser_get_root(parser)), "sessions"),
	                        ATTACHED,
	                        needle) != NULL;
}

typedef struct {
	GwTestDaemon *d;
	const gchar *record1;
	const gchar *record2;
	const gchar *const *devs;
} AttachedWait;

static gboolean
both_heard_attached(gpointer data)
{
	AttachedWait *w = data;

	for (guint i = 0; w->devs[i] != NULL; i++) {
		if (!dm1_record_attached(w->record1, w->devs[i]) ||
		    !dm2_record_attached(w->record2, w->devs[i]))
			return FALSE;
	}
	return pending_alerts(w->d) == 0;
}

/* the aggregated document of a job over dev-F1 and dev-F2: both answered 200 with their own
 * DevInfo/DevId */
static void
check_fanout_document(const gchar *doc, const gchar *job_uri)
{
	g_autofree gchar *job = g_strdup_printf("job=\"%s\"", job_uri);

	g_assert_nonnull(doc);
	g_assert_nonnull(strstr(doc, job));
	g_assert_nonnull(
	    strstr(doc, "state=\"Complete\" total=\"2\" succeeded=\"2\" failed=\"0\""));
	g_assert_nonnull(strstr(doc,
	                        "<Device id=\"dev-F1\" status=\"200\"><Data "
	                        "format=\"chr\">dev-F1</Data></Device>"));
	g_assert_nonnull(strstr(doc,
	                        "<Device id=\"dev-F2\" status=\"200\"><Data "
	                        "format=\"chr\">dev-F2</Data></Device>"));
}

/*
 * issue 15 acceptance: one gwmod with a DM 1.2 server and a DM 2.0 server, two Proxy
 * devices. Each server hears DeviceAttached for both; then each runs a Fanout Get of
 * ./DevInfo/DevId over both devices, started together: the DM 1.2 one by Add + Exec (result in
 * a FanoutComplete Generic Alert), the DM 2.0 one by HGETs into a new job below
 * FANOUT_MO and an asynchronous EXEC of its Start (202; FanoutComplete as a DM 2.0 Generic
 * Alert addressed to the EXEC's ServerURI, then a GET of AggregatedResult). Both jobs end
 * within the same minute with 2 × 200 and each device's own answer; each device ran two
 * notified sessions.
 */
static void
test_mixed_fanout(void)
{
	static const gchar *const devs[] = {"dev-F1", "dev-F2", NULL};
	Env *e = g_new0(Env, 1);
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) tnds =
	    g_string_new("<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>");
	g_autofree gchar *tnds_path = NULL;
	g_autofree gchar *conf = NULL;
	g_autofree gchar *attach1 = NULL;
	g_autofree gchar *attach2 = NULL;
	g_autofree gchar *record1 = NULL;
	g_autofree gchar *record2 = NULL;
	g_autofree gchar *targets1 = e2e_fanout_device_target("j1", 1, "dev-F1");
	g_autofree gchar *targets2 = e2e_fanout_device_target("j1", 2, "dev-F2");
	g_autofree gchar *targets = g_strconcat(targets1, targets2, NULL);
	g_autofree gchar *job1 =
	    e2e_fanout_job("j1", targets, "Get", "./DevInfo/DevId", NULL, NULL, 30);
	g_autofree gchar *script1 = NULL;
	g_autofree gchar *result_url = NULL;
	g_autofree gchar *uri1 = NULL;
	g_autofree gchar *uri2 = NULL;
	g_autoptr(GSubprocess) dm1 = NULL;
	g_autoptr(GSubprocess) dm2 = NULL;
	g_autoptr(GSubprocess) dev1 = NULL;
	g_autoptr(GSubprocess) dev2 = NULL;
	g_autoptr(JsonParser) parser1 = NULL;
	g_autoptr(JsonParser) parser2 = NULL;
	const gchar *args[3] = {"--bootstrap", NULL, NULL};
	const gchar *script2 =
	    "{\"files\":{\"/files/cmd\":\"Get\",\"/files/uri\":\"./DevInfo/DevId\","
	    "\"/files/dev1\":\"dev-F1\",\"/files/dev2\":\"dev-F2\"},"
	    "\"sessions\":["
	    "{\"packages\":[["
	    "[\"HGET\",\"{base}/files/cmd\",\"" FANOUT_MO "/j2/Command\"],"
	    "[\"HGET\",\"{base}/files/uri\",\"" FANOUT_MO "/j2/TargetURI\"],"
	    "[\"HGET\",\"{base}/files/dev1\",\"" FANOUT_MO "/j2/Targets/Devices/1\"],"
	    "[\"HGET\",\"{base}/files/dev2\",\"" FANOUT_MO "/j2/Targets/Devices/2\"],"
	    "[\"EXEC\",\"" FANOUT_MO "/j2/Operations/Start\",\"{base}/results/j2\"]"
	    "]]},"
	    "{\"packages\":[[[\"GET\",\"" FANOUT_MO "/j2/AggregatedResult\"]]]}]}";
	guint16 port1 = free_port();
	AttachedWait w;
	JsonArray *sessions;
	JsonObject *s;
	JsonObject *alert;
	JsonArray *data;
	const gchar *doc;
	g_autofree gchar *via_get = NULL;
	gint64 t0;
	gint64 elapsed;

	e->dir = g_dir_make_tmp("gwmo-e2e-dm2-XXXXXX", &error);
	g_assert_no_error(error);
	e->port = free_port();
	e->south_port = free_port();
	append_account(tnds, "srv1", SERVER_ID, port1, CL_NAME, CL_SECRET);
	append_account(tnds, "srv2", SERVER_B_ID, e->port, CL_B_NAME, CL_B_SECRET);
	g_string_append(tnds, "</MgmtTree>");
	tnds_path = g_build_filename(e->dir, "bootstrap.xml", NULL);
	g_assert_true(g_file_set_contents(tnds_path, tnds->str, -1, NULL));
	/* sync-wait=0: each server hears of its job in a session of its own (flow Y') */
	conf = g_strdup_printf("[southbound]\nlisten=http://127.0.0.1:%u\n"
	                       "[northbound]\nlisten=https://127.0.0.1:0\nretries=1\ntimeout=20\n"
	                       "allow-insecure-http=true\ndm2-servers=" SERVER_B_ID "\n"
	                       "[fanout]\nsync-wait=0\n",
	                       e->south_port);
	e->d = gw_test_daemon_new_with_config(conf);
	args[1] = tnds_path;
	gw_test_daemon_start(e->d, args);

	/* 1. both servers hear DeviceAttached for both devices, each in its own protocol */
	attach1 = g_build_filename(e->dir, "attach-dm1.json", NULL);
	attach2 = g_build_filename(e->dir, "attach-dm2.json", NULL);
	dm1 = dm1_server_start(e, port1, "attach-dm1", "{\"sessions\":[]}", attach1, 0);
	dm2 = dm2_server_start(
	    e, "{\"sessions\":[]}", attach2, 0, CL_B_SECRET, "--client-name=" CL_B_NAME, NULL);
	dev1 = e2e_proxy_device_start(e, "dev-F1", NULL, 2, &uri1);
	dev2 = e2e_proxy_device_start(e, "dev-F2", NULL, 2, &uri2);
	e2e_wait_registered(e->d, uri1);
	e2e_wait_registered(e->d, uri2);
	w = (AttachedWait){e->d, attach1, attach2, devs};
	g_assert_true(e2e_wait(both_heard_attached, &w, 60));
	g_subprocess_send_signal(dm1, SIGTERM);
	g_subprocess_send_signal(dm2, SIGTERM);
	g_assert_true(g_subprocess_wait(dm1, NULL, NULL));
	g_assert_true(g_subprocess_wait(dm2, NULL, NULL));
	g_clear_object(&dm1);
	g_clear_object(&dm2);

	/* 2. the same servers, now scripted to run a fan-out each, started together */
	record1 = g_build_filename(e->dir, "record-dm1.json", NULL);
	record2 = g_build_filename(e->dir, "record-dm2.json", NULL);
	script1 = g_strdup_printf("{\"sessions\":[{\"commands\":[%s]},{\"commands\":[]}]}", job1);
	dm1 = dm1_server_start(e, port1, "fanout-dm1", script1, record1, 2);
	dm2 =
	    dm2_server_start(e, script2, record2, 2, CL_B_SECRET, "--client-name=" CL_B_NAME, NULL);
	t0 = g_get_monotonic_time();
	e2e_start_session_with(e->d, SERVER_ID);
	e2e_start_session_with(e->d, SERVER_B_ID);
	server_wait(dm1);
	server_wait(dm2);
	elapsed = g_get_monotonic_time() - t0;
	g_test_message("both fan-outs done in %.2f s", elapsed / 1e6);
	g_assert_cmpint(elapsed, <, 60 * G_USEC_PER_SEC);

	/* the DM 1.2 server: Add + Exec in its session, FanoutComplete in the next one */
	sessions = record_sessions(record1, &parser1);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 2);
	s = json_array_get_object_element(sessions, 0);
	g_assert_cmpint(status_of(s, "Exec", "./GwMO/Fanout/j1/Operations/Start"), ==, 202);
	alert = session_alert(json_array_get_object_element(sessions, 1), FANOUT_COMPLETE);
	g_assert_nonnull(alert);
	g_assert_cmpstr(json_object_get_string_member(alert, "correlator"), ==, "c-j1");
	check_fanout_document(json_object_get_string_member(alert, "data"), "./GwMO/Fanout/j1");

	/* the DM 2.0 server: the job made by HGETs and started by an asynchronous EXEC */
	sessions = record_sessions(record2, &parser2);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 2);
	s = json_array_get_object_element(sessions, 0);
	for (guint i = 0; i < 4; i++)
		g_assert_cmpint(sc_at(s, 0, i), ==, 200);
	g_assert_cmpint(sc_at(s, 0, 4), ==, 202);
	/* FanoutComplete as a DM 2.0 Generic Alert, addressed to the EXEC's ServerURI */
	s = json_array_get_object_element(sessions, 1);
	alert = dm2_record_alert(sessions, FANOUT_COMPLETE, NULL);
	g_assert_nonnull(alert);
	g_assert_cmpstr(json_object_get_string_member(alert, "SourceURI"), ==, FANOUT_MO "/j2");
	result_url = g_strdup_printf("http://127.0.0.1:%u/results/j2", e->port);
	g_assert_cmpstr(json_object_get_string_member(alert, "TargetURI"), ==, result_url);
	doc = json_object_get_string_member(json_object_get_object_member(alert, "Data"), "DM1x");
	check_fanout_document(doc, "./GwMO/Fanout/j2");
	/* and its GET of AggregatedResult in that later session: the same document */
	g_assert_cmpint(sc_at(s, 0, 0), ==, 200);
	data = json_object_get_array_member(
	    json_array_get_object_element(
	        json_array_get_array_element(json_object_get_array_member(s, "statuses"), 0), 0),
	    "Data");
	g_assert_nonnull(data);
	via_get = g_strdup(json_object_get_string_member(
	    json_object_get_object_member(json_array_get_object_element(data, 0), "MOData"),
	    "AggregatedResult"));
	g_assert_cmpstr(via_get, ==, doc);

	/* each device ran one notified session per job, then exited (bounded: a device still
	 * waiting for a session is a failure, not a hang) */
	g_assert_cmpint(e2e_device_wait(dev1, 60), ==, 0);
	g_assert_cmpint(e2e_device_wait(dev2, 60), ==, 0);
	g_assert_cmpuint(pending_alerts(e->d), ==, 0);
	env_free(e);
}

/* ---- HTTP-level authentication chosen by the CLCRED entry's AAuthType (issue 15) ---- */

#define CLCRED_TYPE "./DMAcc/srv1/AppAuth/1/AAuthType"

/* an HGET from @other_origin, a server that would take the account's credentials or
 * certificate: it must get neither, so it refuses */
static gchar *
script_auth(const gchar *other_origin)
{
	return g_strdup_printf("{\"files\":{\"/files/color\":\"green\"},"
	                       "\"sessions\":[{\"packages\":[["
	                       "[\"HGET\",\"{base}/files/color\",\"" CFG "/Ext/srv1/Color\"],"
	                       "[\"DELETE\",\"" CFG "/Ext/srv1/Old\"],"
	                       "[\"HGET\",\"%s/files/color\",\"" CFG "/Ext/srv1/Other\"]"
	                       "]]}]}",
	                       other_origin);
}

static void
set_chr(GwTestDaemon *d, const gchar *uri, const gchar *value)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r =
	    gw_test_call(d,
	                 "SetNode",
	                 g_variant_new("(ssv)", uri, "chr", g_variant_new_string(value)),
	                 "()",
	                 &error);
	g_assert_no_error(error);
}

/* StartSession is refused with AuthFailed and nothing of the script ran; the server stopped */
static void
assert_refused(Env *e, GSubprocess *server, const gchar *record)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autofree gchar *dbus_error = NULL;
	g_autofree gchar *v = NULL;

	reply = gw_test_call(e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
	g_assert_nonnull(error);
	dbus_error = g_dbus_error_get_remote_error(error);
	g_assert_cmpstr(dbus_error, ==, "org.gwmo.Gateway1.Error.AuthFailed");
	v = get_value(e->d, EXT "/Old", NULL);
	g_assert_cmpstr(v, ==, "to be deleted");
	g_subprocess_send_signal(server, SIGTERM);
	g_subprocess_wait(server, NULL, NULL);
	g_assert_cmpuint(json_array_get_length(record_sessions(record, &parser)), ==, 0);
}

/* the session ran: the HGET from the server's file and the DELETE */
static void
assert_ran(Env *e, GSubprocess *server, const gchar *record)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autofree gchar *v = NULL;
	g_autofree gchar *err = NULL;
	g_autofree gchar *gone = NULL;
	JsonArray *sessions;
	JsonObject *s1;

	reply = gw_test_call(e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
	if (error != NULL) {
		g_autofree gchar *log = g_build_filename(e->dir, "server.log", NULL);
		g_autofree gchar *text = NULL;
		g_file_get_contents(log, &text, NULL, NULL);
		g_printerr("the reference server's log:\n%s\n", text);
	}
	g_assert_no_error(error);
	server_wait(server);
	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 1);
	s1 = json_array_get_object_element(sessions, 0);
	g_assert_cmpstr(json_object_get_string_member(s1, "state"), ==, "finished");
	g_assert_true(json_object_get_boolean_member(s1, "authorized"));
	v = get_value(e->d, EXT "/Color", NULL);
	g_assert_cmpstr(v, ==, "green");
	gone = get_value(e->d, EXT "/Old", &err);
	g_assert_null(gone);
	/* the HGET from the other origin was refused by the server: no credentials went there */
	g_assert_cmpint(sc_at(s1, 0, 0), ==, 200);
	g_assert_cmpint(sc_at(s1, 0, 2), !=, 200);
	g_clear_pointer(&err, g_free);
	g_clear_pointer(&gone, g_free);
	gone = get_value(e->d, EXT "/Other", &err);
	g_assert_null(gone);
}

/* AAuthType HTTP-DIGEST: the server (libsoup's SoupAuthDomainDigest, --auth=digest) takes
 * only RFC 7616 Digest on /dm and /files/; a wrong secret is refused (AuthFailed, nothing
 * runs), the right one runs the session, its HGET answered a Digest challenge too */
static void
test_digest(void)
{
	Env *e = env_new_clear_text(DM2_CONF);
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	/* the same server under another origin (localhost, not 127.0.0.1) */
	g_autofree gchar *other = g_strdup_printf("http://localhost:%u", e->port);
	g_autofree gchar *script = script_auth(other);
	g_autoptr(GSubprocess) wrong = NULL;
	g_autoptr(GSubprocess) server = NULL;

	set_chr(e->d, CLCRED_TYPE, "HTTP-DIGEST");
	wrong = dm2_server_start(e, script, record, 1, "not-the-secret", "--auth=digest", NULL);
	assert_refused(e, wrong, record);
	server = dm2_server_start(e, script, record, 1, CL_SECRET, "--auth=digest", NULL);
	assert_ran(e, server, record);
	env_free(e);
}

/* AAuthType X509: over TLS the gateway presents its own identity (the listeners' tls.crt) as
 * client certificate; a server pinning another certificate refuses (403: AuthFailed, nothing
 * runs), the one pinning the gateway's runs the session */
static void
test_client_certificate(void)
{
	Env *e = env_new_with_config(DM2_CONF);
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *gw_crt = g_build_filename(e->d->state_dir, "tls.crt", NULL);
	g_autofree gchar *gw_key = g_build_filename(e->d->state_dir, "tls.key", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GTlsCertificate) gw_cert =
	    g_tls_certificate_new_from_files(gw_crt, gw_key, &error);
	g_autoptr(GTlsCertificate) other_cert = NULL;
	g_autofree gchar *gw_fp = NULL;
	g_autofree gchar *other_fp = NULL;
	g_autofree gchar *gw_pin = NULL;
	g_autofree gchar *other_pin = NULL;
	g_autofree gchar *listen = g_strdup_printf("--listen=https://127.0.0.1:%u", e->port);
	g_autofree gchar *tls_cert = g_strdup_printf("--tls-cert=%s", e->cert);
	g_autofree gchar *tls_key = g_strdup_printf("--tls-key=%s", e->key);
	/* a second server, pinning the gateway's certificate too, on another port */
	guint16 other_port = free_port();
	g_autofree gchar *other = g_strdup_printf("https://127.0.0.1:%u", other_port);
	g_autofree gchar *other_listen = g_strdup_printf("--listen=%s", other);
	g_autofree gchar *other_record = g_build_filename(e->dir, "other.json", NULL);
	g_autofree gchar *script = script_auth(other);
	g_autoptr(GSubprocess) wrong = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GSubprocess) other_server = NULL;
	g_autoptr(JsonParser) parser = NULL;

	g_assert_no_error(error);
	other_cert = g_tls_certificate_new_from_files(e->cert, e->key, &error);
	g_assert_no_error(error);
	gw_fp = gw_crypto_certificate_fingerprint(gw_cert);
	other_fp = gw_crypto_certificate_fingerprint(other_cert);
	g_assert_cmpstr(gw_fp, !=, other_fp);
	gw_pin = g_strdup_printf("--client-cert-sha256=%s", gw_fp);
	other_pin = g_strdup_printf("--client-cert-sha256=%s", other_fp);
	set_chr(e->d, CLCRED_TYPE, "X509");
	wrong = dm2_server_start(
	    e, script, record, 1, CL_SECRET, listen, tls_cert, tls_key, other_pin, NULL);
	assert_refused(e, wrong, record);
	other_server = dm2_server_start(
	    e, script, other_record, 1, CL_SECRET, other_listen, tls_cert, tls_key, gw_pin, NULL);
	server = dm2_server_start(
	    e, script, record, 1, CL_SECRET, listen, tls_cert, tls_key, gw_pin, NULL);
	assert_ran(e, server, record);
	g_subprocess_send_signal(other_server, SIGTERM);
	g_subprocess_wait(other_server, NULL, NULL);
	g_assert_cmpuint(json_array_get_length(record_sessions(other_record, &parser)), ==, 0);
	env_free(e);
}

/* ---- the DMAcc 2.0 layout (OMA-TS-DM_Protocol-V2_0 §11.2): no dm2-servers ---- */

#define NOTI_SECRET "noti-secret-2.0"
#define NOTI_DATA "noti-auth-data"

/* gwmod whose only account is written in the DMAcc 2.0 layout (SrvID, SrvURI, Name,
 * Auth/Trsp/{Data,Secret}, Auth/Noti/{Type,Data,Secret}; bin values base64 as TNDS has them;
 * @trsp_type: Ext/TrspAuthType, nullable) at @scheme://127.0.0.1:e->port/dm, and no
 * [northbound] dm2-servers */
static Env *
env_new_dmacc2(const gchar *scheme, const gchar *trsp_type)
{
	Env *e = g_new0(Env, 1);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *conf = NULL;
	g_autofree gchar *tnds = NULL;
	g_autofree gchar *tnds_path = NULL;
	g_autofree gchar *name64 = g_base64_encode((const guchar *)CL_NAME, strlen(CL_NAME));
	g_autofree gchar *secret64 = g_base64_encode((const guchar *)CL_SECRET, strlen(CL_SECRET));
	g_autofree gchar *noti64 =
	    g_base64_encode((const guchar *)NOTI_SECRET, strlen(NOTI_SECRET));
	g_autofree gchar *data64 = g_base64_encode((const guchar *)NOTI_DATA, strlen(NOTI_DATA));
	g_autofree gchar *ext = NULL;
	const gchar *args[3] = {"--bootstrap", NULL, NULL};

	e->dir = g_dir_make_tmp("gwmo-e2e-dmacc2-XXXXXX", &error);
	g_assert_no_error(error);
	e->cert = g_build_filename(e->dir, "server.crt", NULL);
	e->key = g_build_filename(e->dir, "server.key", NULL);
	g_assert_true(gw_crypto_generate_self_signed(e->cert,
	                                             e->key,
	                                             "dm-server",
	                                             NULL,
	                                             (const gchar *const[]){"127.0.0.1", NULL},
	                                             2,
	                                             &error));
	g_assert_no_error(error);
	e->port = free_port();
	e->south_port = free_port();
	e->dm_url = g_strdup_printf("%s://127.0.0.1:%u/dm", scheme, e->port);
	conf = g_strdup_printf("[southbound]\nlisten=http://127.0.0.1:%u\n[northbound]\n"
	                       "listen=https://127.0.0.1:0\nca-file=%s\nretries=1\ntimeout=20\n"
	                       "allow-insecure-http=true\n",
	                       e->south_port,
	                       e->cert);
	ext = trsp_type != NULL ? g_strdup_printf("<Node><NodeName>Ext</NodeName>"
	                                          "<Node><NodeName>TrspAuthType</NodeName>"
	                                          "<Value>%s</Value></Node></Node>",
	                                          trsp_type)
	                        : g_strdup("");
	tnds = g_strdup_printf(
	    "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>"
	    "<Node><NodeName>srv1</NodeName><Path>./DMAcc</Path>"
	    "<RTProperties><ACL>Get=" SERVER_ID "&amp;Replace=" SERVER_ID "</ACL>"
	    "<Format><node/></Format></RTProperties>"
	    "<Node><NodeName>SrvID</NodeName><Value>" SERVER_ID "</Value></Node>"
	    "<Node><NodeName>SrvURI</NodeName><Value>%s</Value></Node>"
	    "<Node><NodeName>Name</NodeName><Value>reference DM 2.0 server</Value></Node>"
	    "<Node><NodeName>Auth</NodeName>"
	    "<Node><NodeName>Trsp</NodeName>"
	    "<Node><NodeName>Data</NodeName><Value>%s</Value></Node>"
	    "<Node><NodeName>Secret</NodeName><DFProperties><AccessType><Get/><Replace/>"
	    "</AccessType></DFProperties><Value>%s</Value></Node></Node>"
	    "<Node><NodeName>Noti</NodeName>"
	    "<Node><NodeName>Type</NodeName><Value>1</Value></Node>"
	    "<Node><NodeName>Data</NodeName><Value>%s</Value></Node>"
	    "<Node><NodeName>Secret</NodeName><Value>%s</Value></Node></Node></Node>"
	    "%s</Node>"
	    "<Node><NodeName>srv1</NodeName><Path>./GwMO/Config/Ext</Path>"
	    "<RTProperties><ACL>Add=" SERVER_ID "&amp;Delete=" SERVER_ID "&amp;Exec=" SERVER_ID
	    "&amp;Get=" SERVER_ID "&amp;Replace=" SERVER_ID "</ACL><Format><node/></Format>"
	    "</RTProperties>"
	    "<Node><NodeName>Keep</NodeName><Value>kept</Value></Node>"
	    "<Node><NodeName>Old</NodeName><Value>to be deleted</Value></Node>"
	    "</Node></MgmtTree>",
	    e->dm_url,
	    name64,
	    secret64,
	    data64,
	    noti64,
	    ext);
	e->d = gw_test_daemon_new_with_config(conf);
	tnds_path = g_build_filename(e->dir, "bootstrap.xml", NULL);
	g_assert_true(g_file_set_contents(tnds_path, tnds, -1, NULL));
	args[1] = tnds_path;
	gw_test_daemon_start(e->d, args);
	return e;
}

/* the account's secrets are not readable over D-Bus either (GetNode: the DDF's No Get) */
static void
assert_dmacc2_secrets_hidden(Env *e)
{
	const gchar *secrets[] = {"./DMAcc/srv1/Auth/Trsp/Secret", "./DMAcc/srv1/Auth/Noti/Secret"};

	for (guint i = 0; i < G_N_ELEMENTS(secrets); i++) {
		g_autofree gchar *err = NULL;
		g_autofree gchar *v = get_value(e->d, secrets[i], &err);
		g_assert_null(v);
		g_assert_nonnull(err);
	}
}

/* a DMAcc 2.0 account without dm2-servers: StartSession with its SrvID runs a DM 2.0
 * session at its SrvURI, HTTP Basic with Auth/Trsp/Data and Auth/Trsp/Secret; the commands
 * and the CheckIn's second session as with a listed DM 1.x account */
static void
test_dmacc2_client_initiated(void)
{
	Env *e = env_new_dmacc2("http", NULL);
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autofree gchar *v = NULL;
	JsonArray *sessions;
	JsonObject *s1;
	JsonObject *alert;

	assert_dmacc2_secrets_hidden(e);
	server = dm2_server_start(e, SCRIPT_CLIENT, record, 2, CL_SECRET, NULL);
	reply = gw_test_call(e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
	g_assert_no_error(error);
	server_wait(server);
	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 2);
	s1 = json_array_get_object_element(sessions, 0);
	g_assert_cmpstr(json_object_get_string_member(s1, "state"), ==, "finished");
	g_assert_true(json_object_get_boolean_member(s1, "authorized"));
	alert = json_array_get_object_element(json_object_get_array_member(s1, "alerts"), 0);
	g_assert_cmpstr(json_object_get_string_member(alert, "AlertType"),
	                ==,
	                "urn:oma:at:dm:2.0:ClientInitiatedMgmt");
	g_assert_cmpint(sc_at(s1, 0, 0), ==, 200); /* HGET */
	g_assert_cmpint(sc_at(s1, 0, 1), ==, 200); /* HPUT */
	g_assert_cmpint(sc_at(s1, 0, 3), ==, 200); /* DELETE */
	g_assert_cmpint(sc_at(s1, 0, 4), ==, 202); /* EXEC CheckIn */
	g_assert_cmpint(sc_at(s1, 0, 5), ==, 404); /* GET of a missing node */
	g_assert_cmpint(sc_at(s1, 0, 6), ==, 405); /* DELETE of a permanent DevInfo leaf */
	g_assert_cmpstr(
	    json_object_get_string_member(json_array_get_object_element(sessions, 1), "state"),
	    ==,
	    "finished");
	v = get_value(e->d, EXT "/Color", NULL);
	g_assert_cmpstr(v, ==, "green");
	/* the account is a Server object like a DM 1.x one: its SrvID and SrvURI */
	{
		g_autoptr(GDBusObjectManager) objects = e2e_object_manager(e->d);
		GList *list = g_dbus_object_manager_get_objects(objects);
		guint found = 0;
		for (GList *l = list; l != NULL; l = l->next) {
			g_autoptr(GDBusInterface) iface = g_dbus_object_get_interface(
			    G_DBUS_OBJECT(l->data), "org.gwmo.Gateway1.Server");
			g_autofree gchar *id = NULL;
			g_autofree gchar *address = NULL;
			if (iface == NULL)
				continue;
			id = e2e_proxy_string(G_DBUS_PROXY(iface), "ServerID");
			address = e2e_proxy_string(G_DBUS_PROXY(iface), "Address");
			g_assert_cmpstr(id, ==, SERVER_ID);
			g_assert_cmpstr(address, ==, e->dm_url);
			found++;
		}
		g_list_free_full(list, g_object_unref);
		g_assert_cmpuint(found, ==, 1);
	}
	env_free(e);
}

/* seed 003 B.2 with a DMAcc 2.0 account: the digest is checked with Auth/Noti/Secret and
 * Auth/Noti/Data: the same notification signed with the transport password, or without the
 * auth data, starts nothing (401); the reference server's, signed with both, starts the
 * session */
static void
test_dmacc2_server_initiated(void)
{
	Env *e = env_new_dmacc2("http", NULL);
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *url = notify_url(e->d);
	g_autofree gchar *gw_cert = g_build_filename(e->d->state_dir, "tls.crt", NULL);
	g_autofree gchar *notify_arg = g_strdup_printf("--notify=%s", url);
	g_autofree gchar *ca_arg = g_strdup_printf("--ca-file=%s", gw_cert);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GBytes) other_secret = make_dm2_pkg0_auth(SERVER_ID, CL_SECRET, NOTI_DATA, 7);
	g_autoptr(GBytes) no_data = make_dm2_pkg0_auth(SERVER_ID, NOTI_SECRET, NULL, 8);
	g_autofree gchar *v = NULL;
	JsonArray *sessions;
	JsonObject *s1;
	JsonObject *alert;

	g_assert_cmpuint(
	    notify(url, gw_cert, other_secret, GW_DM2_CONTENT_TYPE_NOTIFICATION, NULL), ==, 401);
	g_assert_cmpuint(
	    notify(url, gw_cert, no_data, GW_DM2_CONTENT_TYPE_NOTIFICATION, NULL), ==, 401);
	v = get_value(e->d, EXT "/Old", NULL);
	g_assert_cmpstr(v, ==, "to be deleted");
	server = dm2_server_start(e,
	                          SCRIPT_CLIENT,
	                          record,
	                          2,
	                          CL_SECRET,
	                          "--server-id=" SERVER_ID,
	                          "--notify-secret=" NOTI_SECRET,
	                          "--notify-auth-data=" NOTI_DATA,
	                          "--notify-id=4661",
	                          notify_arg,
	                          ca_arg,
	                          NULL);
	server_wait(server);
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
	                4661);
	g_assert_cmpint(sc_at(s1, 0, 0), ==, 200); /* HGET */
	g_clear_pointer(&v, g_free);
	v = get_value(e->d, EXT "/Color", NULL);
	g_assert_cmpstr(v, ==, "green");
	env_free(e);
}

/* Ext/TrspAuthType HTTP-DIGEST: Digest with Auth/Trsp/Data and Auth/Trsp/Secret against the
 * server taking only Digest; a wrong secret is refused first */
static void
test_dmacc2_digest(void)
{
	Env *e = env_new_dmacc2("http", "HTTP-DIGEST");
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *other = g_strdup_printf("http://localhost:%u", e->port);
	g_autofree gchar *script = script_auth(other);
	g_autoptr(GSubprocess) wrong = NULL;
	g_autoptr(GSubprocess) server = NULL;

	wrong = dm2_server_start(e, script, record, 1, "not-the-secret", "--auth=digest", NULL);
	assert_refused(e, wrong, record);
	server = dm2_server_start(e, script, record, 1, CL_SECRET, "--auth=digest", NULL);
	assert_ran(e, server, record);
	env_free(e);
}

/* Ext/TrspAuthType X509 over https: the gateway's TLS identity as client certificate */
static void
test_dmacc2_client_certificate(void)
{
	Env *e = env_new_dmacc2("https", "X509");
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *gw_crt = g_build_filename(e->d->state_dir, "tls.crt", NULL);
	g_autofree gchar *gw_key = g_build_filename(e->d->state_dir, "tls.key", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GTlsCertificate) gw_cert =
	    g_tls_certificate_new_from_files(gw_crt, gw_key, &error);
	g_autofree gchar *gw_fp = NULL;
	g_autofree gchar *gw_pin = NULL;
	g_autofree gchar *listen = g_strdup_printf("--listen=https://127.0.0.1:%u", e->port);
	g_autofree gchar *tls_cert = g_strdup_printf("--tls-cert=%s", e->cert);
	g_autofree gchar *tls_key = g_strdup_printf("--tls-key=%s", e->key);
	g_autofree gchar *other = g_strdup_printf("https://localhost:%u", e->port);
	g_autofree gchar *script = script_auth(other);
	g_autoptr(GSubprocess) server = NULL;

	g_assert_no_error(error);
	gw_fp = gw_crypto_certificate_fingerprint(gw_cert);
	gw_pin = g_strdup_printf("--client-cert-sha256=%s", gw_fp);
	/* the password would open the server as well: the certificate alone must */
	server = dm2_server_start(
	    e, script, record, 1, "not-the-secret", listen, tls_cert, tls_key, gw_pin, NULL);
	assert_ran(e, server, record);
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
	g_test_add_func("/gw/e2e/dm2/alert-resend-once", test_alert_resend_once);
	g_test_add_func("/gw/e2e/dm2/alerts-beyond-one-package", test_alerts_beyond_one_package);
	g_test_add_func("/gw/e2e/dm2/server-initiated", test_server_initiated);
	g_test_add_func("/gw/e2e/dm2/malformed", test_malformed);
	g_test_add_func("/gw/e2e/dm2/wrong-password", test_wrong_password);
	g_test_add_func("/gw/e2e/dm2/digest", test_digest);
	g_test_add_func("/gw/e2e/dm2/client-certificate", test_client_certificate);
	g_test_add_func("/gw/e2e/dm2/mixed-servers", test_mixed_servers);
	g_test_add_func("/gw/e2e/dm2/mixed-fanout", test_mixed_fanout);
	g_test_add_func("/gw/e2e/dm2/dmacc2-client-initiated", test_dmacc2_client_initiated);
	g_test_add_func("/gw/e2e/dm2/dmacc2-server-initiated", test_dmacc2_server_initiated);
	g_test_add_func("/gw/e2e/dm2/dmacc2-digest", test_dmacc2_digest);
	g_test_add_func("/gw/e2e/dm2/dmacc2-client-certificate", test_dmacc2_client_certificate);
	return g_test_run();
}
