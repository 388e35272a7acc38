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
	return g_test_run();
}
