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
 *  - an undelivered alert survives kill -9 and is delivered after the restart;
 *  - issue 11 §3: a NextNonce the gateway would give in an answer it never sends is not
 *    issued, so the server's next session authenticates at its first message and its Package
 *    #0, signed with the nonce it has, verifies; POST /notify takes the stored nonce, then the
 *    all-zero one (logged), never an empty one;
 *  - issue 11 §4: an http:// DM Server address is refused unless [northbound]
 *    allow-insecure-http, which logs a warning each time.
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
#include "gw-e2e.h"

#define EXT	   "./GwMO/Config/Ext/srv1"

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
		g_assert_cmpuint(notify(url, gw_cert, forged, GW_PKG0_CONTENT_TYPE, NULL), ==, 401);
		g_assert_cmpuint(notify(url, gw_cert, unknown, GW_PKG0_CONTENT_TYPE, NULL), ==, 403);
		g_assert_cmpuint(notify(url, gw_cert, garbage, GW_PKG0_CONTENT_TYPE, NULL), ==, 400);
		g_assert_cmpuint(notify(url, gw_cert, forged, "text/plain", NULL), ==, 415);
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
		g_assert_cmpuint(notify(url, gw_cert, again, GW_PKG0_CONTENT_TYPE, NULL), ==, 409);
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

/* the status codes of an int array member */
static gchar *
int_array_text(JsonObject *o, const gchar *member)
{
	JsonArray *a = json_object_get_array_member(o, member);
	GString *text = g_string_new("[");
	for (guint i = 0; a != NULL && i < json_array_get_length(a); i++)
		g_string_append_printf(text,
		                       "%s%" G_GINT64_FORMAT,
		                       i > 0 ? "," : "",
		                       json_array_get_int_element(a, i));
	g_string_append_c(text, ']');
	return g_string_free(text, FALSE);
}

/* issue 11 §3 (GwMO-SECACATE-001): session 1 exchanges nonces (the server's Get needs an
 * answer, which carries the gateway's NextNonce); in session 2 the server asks nothing, so the
 * gateway's answer (and the NextNonce it would carry) is never sent and the gateway keeps the
 * nonce the server has. The server then wakes the gateway with a Package #0 signed with that
 * nonce: it verifies without the all-zero fallback, and in session 3 the gateway accepts the
 * server's credentials at its first message (212, no 401 and retry). */
static void
test_nonce_next_session(void)
{
	Env *e = env_new();
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *url = notify_url(e->d);
	g_autofree gchar *gw_cert = g_build_filename(e->d->state_dir, "tls.crt", NULL);
	g_autofree gchar *notify_arg = g_strdup_printf("--notify=%s", url);
	g_autofree gchar *ca_arg = g_strdup_printf("--ca-file=%s", gw_cert);
	g_autofree gchar *server_log_path = g_build_filename(e->dir, "server.log", NULL);
	g_autofree gchar *server_log = NULL;
	g_autofree gchar *log = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	JsonArray *sessions;
	JsonObject *s1;
	JsonObject *s3;

	server = server_start(
	    e,
	    "{\"sessions\":[{\"commands\":[{\"cmd\":\"Get\",\"uri\":\"./DevInfo/Mod\"}]},"
	    "{\"commands\":[]},"
	    "{\"commands\":[{\"cmd\":\"Get\",\"uri\":\"./DevInfo/Man\"}]}]}",
	    record,
	    CL_SECRET,
	    "--sessions=3",
	    notify_arg,
	    "--notify-after=2",
	    "--notify-secret=" SRV_SECRET,
	    "--notify-session=3C",
	    ca_arg,
	    NULL);
	for (guint i = 0; i < 2; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = gw_test_call(
		    e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
		g_assert_no_error(error);
	}
	/* session 3 is the one the Package #0 starts */
	server_wait(server);
	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 3);
	s1 = json_array_get_object_element(sessions, 0);
	s3 = json_array_get_object_element(sessions, 2);
	{
		g_autofree gchar *c1 = int_array_text(s1, "cred_statuses");
		g_autofree gchar *c3 = int_array_text(s3, "cred_statuses");
		g_test_message("the gateway's Status for the server's SyncHdr: session 1 %s, "
		               "session 3 %s",
		               c1,
		               c3);
		g_assert_cmpstr(c1, ==, "[212]");
		/* authenticated at its first message: no 401, no second attempt */
		g_assert_cmpstr(c3, ==, "[212]");
	}
	g_assert_cmpint(json_object_get_int_member(s3, "alert"), ==, 1200);
	g_assert_cmpstr(json_object_get_string_member(s3, "session_id"), ==, "3C");
	g_assert_cmpstr(json_object_get_string_member(s3, "state"), ==, "finished");
	g_assert_cmpint(status_of(s3, "Get", "./DevInfo/Man"), ==, 200);
	g_assert_true(g_file_get_contents(server_log_path, &server_log, NULL, NULL));
	g_assert_nonnull(strstr(server_log, "the peer's NextNonce"));
	g_assert_nonnull(strstr(server_log, "answered 202"));
	log = gw_test_daemon_read_log(e->d);
	g_assert_null(strstr(log, "verified with the all-zero nonce"));
	gw_test_daemon_stop(e->d);
	env_free(e);
}

/* issue 11 §3: POST /notify takes the all-zero nonce as the documented fallback (and logs it),
 * never the empty nonce */
static void
test_notify_nonces(void)
{
	Env *e = env_new();
	g_autofree gchar *url = notify_url(e->d);
	g_autofree gchar *gw_cert = g_build_filename(e->d->state_dir, "tls.crt", NULL);
	g_autofree gchar *log = NULL;
	g_autoptr(GwPkg0) n = gw_pkg0_new();
	g_autoptr(GBytes) empty = NULL;
	g_autoptr(GBytes) zero = NULL;

	n->server_id = g_strdup(SERVER_ID);
	n->server_initiated = TRUE;
	n->ui_mode = GW_PKG0_UI_MODE_BACKGROUND;
	n->session_id = 0x0E0E;
	empty = gw_pkg0_build(n, SRV_SECRET, NULL, 0);
	g_assert_cmpuint(notify(url, gw_cert, empty, GW_PKG0_CONTENT_TYPE, NULL), ==, 401);
	log = gw_test_daemon_read_log(e->d);
	g_assert_nonnull(strstr(log, "refused (401): forged or stale Package #0"));
	g_assert_null(strstr(log, "verified with the all-zero nonce"));
	g_clear_pointer(&log, g_free);

	/* the session it starts finds no server: that is not what this test looks at */
	n->session_id = 0x0E0F;
	zero = gw_pkg0_build(n, SRV_SECRET, gw_pkg0_zero_nonce, GW_PKG0_ZERO_NONCE_LEN);
	g_assert_cmpuint(notify(url, gw_cert, zero, GW_PKG0_CONTENT_TYPE, NULL), ==, 202);
	log = gw_test_daemon_read_log(e->d);
	g_assert_nonnull(
	    strstr(log, "Package #0 of ./DMAcc/srv1 verified with the all-zero nonce"));
	gw_test_daemon_stop(e->d);
	env_free(e);
}

/* issue 11 §4 (DM-SECONF-001): an http:// DM Server address would carry the credentials in
 * clear: the session is refused with an error naming the account, the server hears nothing;
 * with [northbound] allow-insecure-http=true it runs, and each use logs a warning */
static void
test_insecure_http(void)
{
	for (guint allowed = 0; allowed < 2; allowed++) {
		Env *e =
		    env_new_clear_text(allowed ? "[northbound]\nallow-insecure-http=true\n" : NULL);
		g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
		g_autoptr(GSubprocess) server = NULL;
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = NULL;
		g_autofree gchar *log = NULL;

		g_assert_true(g_str_has_prefix(e->dm_url, "http://"));
		server = server_start(e,
		                      "{\"sessions\":[{\"commands\":[{\"cmd\":\"Get\",\"uri\":"
		                      "\"./DevInfo/Mod\"}]}]}",
		                      record,
		                      CL_SECRET,
		                      "--sessions=1",
		                      NULL);
		reply = gw_test_call(
		    e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
		log = gw_test_daemon_read_log(e->d);
		if (!allowed) {
			g_autofree gchar *name = NULL;
			g_assert_null(reply);
			name = g_dbus_error_get_remote_error(error);
			g_assert_cmpstr(name, ==, "org.gwmo.Gateway1.Error.PermissionDenied");
			g_assert_nonnull(strstr(error->message, "./DMAcc/srv1"));
			g_assert_nonnull(strstr(error->message, "allow-insecure-http"));
			/* nothing reached the server */
			g_subprocess_send_signal(server, SIGTERM);
			g_assert_true(g_subprocess_wait(server, NULL, NULL));
			{
				g_autoptr(JsonParser) parser = NULL;
				JsonArray *sessions = record_sessions(record, &parser);
				g_assert_cmpuint(json_array_get_length(sessions), ==, 0);
			}
		} else {
			g_autoptr(JsonParser) parser = NULL;
			JsonArray *sessions;
			g_assert_no_error(error);
			server_wait(server);
			sessions = record_sessions(record, &parser);
			g_assert_cmpuint(json_array_get_length(sessions), ==, 1);
			g_assert_true(json_object_get_boolean_member(
			    json_array_get_object_element(sessions, 0), "authenticated"));
			g_assert_nonnull(strstr(
			    log, "is clear text (http://, [northbound] allow-insecure-http)"));
		}
		gw_test_daemon_stop(e->d);
		env_free(e);
	}
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
	g_test_add_func("/gw/e2e/client-initiated", test_client_initiated);
	g_test_add_func("/gw/e2e/server-initiated", test_server_initiated);
	g_test_add_func("/gw/e2e/wrong-password", test_wrong_password);
	g_test_add_func("/gw/e2e/alert-survives-kill", test_alert_survives_kill);
	g_test_add_func("/gw/e2e/nonce-next-session", test_nonce_next_session);
	g_test_add_func("/gw/e2e/notify-nonces", test_notify_nonces);
	g_test_add_func("/gw/e2e/insecure-http", test_insecure_http);
	return g_test_run();
}
