/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * B.8 end to end: the reference DM Server (HTTPS, MD5) adds an ./GwMO/Images entry on the real
 * gwmod and Execs its Download (202); gwmod fetches the image from an upstream HTTP server and
 * tells the server with an ImageDownloadComplete Generic Alert (State, Hash, the Exec's
 * correlator) in a new session, where the server reads State and LocalURI. Then a reference
 * End Device, told by the server to Exec ./Ext/Fetch with that LocalURI, fetches the image
 * from gwmod with its own credentials and reports the right sha256 (GwMO-DCIS-001/002/003).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "gw-e2e.h"
#include "gw-upstream.h"

static GSubprocess *
device_spawn(Env *e, const gchar *record)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *log = g_build_filename(e->dir, "device.log", NULL);
	GSubprocess *proc;

	g_ptr_array_add(argv, g_strdup(device_binary));
	g_ptr_array_add(argv, g_strdup_printf("--server=https://127.0.0.1:%u/dm", e->port));
	g_ptr_array_add(argv, g_strdup_printf("--ca-file=%s", e->cert));
	g_ptr_array_add(argv, g_strdup("--dev-id=dev-fetch"));
	g_ptr_array_add(argv, g_strdup("--auth=md5"));
	/* the reference server knows one client: the device uses that name and secret, and the
	 * gateway's inventory holds the same ones for it */
	g_ptr_array_add(argv, g_strdup("--client-name=" CL_NAME));
	g_ptr_array_add(argv, g_strdup("--client-secret=" CL_SECRET));
	g_ptr_array_add(argv, g_strdup("--server-name=" SERVER_ID));
	g_ptr_array_add(argv, g_strdup("--server-secret=" SRV_SECRET));
	g_ptr_array_add(argv, g_strdup("--server-id=" SERVER_ID));
	g_ptr_array_add(argv, g_strdup_printf("--record=%s", record));
	g_ptr_array_add(argv, NULL);
	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	return proc;
}

static JsonObject *
find_alert(JsonArray *sessions, const gchar *type, guint *session_index)
{
	for (guint i = 0; i < json_array_get_length(sessions); i++) {
		JsonObject *s = json_array_get_object_element(sessions, i);
		JsonArray *alerts = json_object_get_array_member(s, "generic_alerts");
		for (guint j = 0; alerts != NULL && j < json_array_get_length(alerts); j++) {
			JsonObject *a = json_array_get_object_element(alerts, j);
			if (g_strcmp0(json_object_get_string_member(a, "type"), type) == 0) {
				*session_index = i;
				return a;
			}
		}
	}
	return NULL;
}

static const gchar *
item_data(JsonObject *result)
{
	JsonArray *items = json_object_get_array_member(result, "items");
	return json_object_get_string_member(json_array_get_object_element(items, 0), "data");
}

static void
test_server_drives_image(void)
{
	Env *e = env_new();
	g_autoptr(GRand) rand = g_rand_new_with_seed(42);
	gsize size = 1536 * 1024;
	guint32 *raw = g_malloc(size);
	g_autoptr(GBytes) blob = NULL;
	g_autofree gchar *sha = NULL;
	GwUpstream *up;
	g_autofree gchar *local = NULL;
	g_autofree gchar *image_file = NULL;
	g_autofree gchar *script = NULL;
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *dev_record = g_build_filename(e->dir, "device.json", NULL);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GSubprocess) device = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *dev_out = NULL;
	JsonArray *sessions;
	JsonObject *alert;
	JsonObject *s1;
	JsonObject *s2;
	JsonObject *s3;
	guint alert_session = G_MAXUINT;
	gint64 deadline;
	GVariantBuilder b;

	for (gsize i = 0; i < size / 4; i++)
		raw[i] = g_rand_int(rand);
	blob = g_bytes_new_take(raw, size);
	sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, blob);
	up = gw_upstream_new(blob);
	gw_upstream_set_throttle(up, 60); /* ≈1.5 s: the Exec's session is over before it ends */
	local = g_strdup_printf("http://127.0.0.1:%u/images/%s", e->south_port, sha);
	image_file = g_build_filename(e->d->state_dir, "images", sha, NULL);

	/* no DeviceAttached session in between: the script counts sessions */
	reply = gw_test_call(e->d,
	                     "SetNode",
	                     g_variant_new("(ssv)",
	                                   "./GwMO/Config/Servers/srv1/InventoryAlert",
	                                   "bool",
	                                   g_variant_new_boolean(FALSE)),
	                     "()",
	                     &error);
	g_assert_no_error(error);
	g_clear_pointer(&reply, g_variant_unref);
	/* the device, provisioned on the gateway with the credentials it will present */
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string("dev-fetch"));
	g_variant_builder_add(&b, "{sv}", "ClientName", g_variant_new_string(CL_NAME));
	g_variant_builder_add(&b, "{sv}", "ClientSecret", g_variant_new_string(CL_SECRET));
	reply = gw_test_call(e->d, "AddDevice", g_variant_new("(a{sv})", &b), "(o)", &error);
	g_assert_no_error(error);
	g_clear_pointer(&reply, g_variant_unref);

	script = g_strdup_printf(
	    "{\"sessions\":["
	    /* 1: the gateway's session: the entry and its Download (B.8) */
	    "{\"commands\":["
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw1\",\"format\":\"node\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw1/Name\",\"data\":\"lamp-fw\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw1/Version\",\"data\":\"2.1\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw1/ExternalURI\",\"data\":\"%s\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw1/Hash\",\"data\":\"sha256:%s\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw1/Targets/1\",\"data\":\"dev-fetch\"},"
	    "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/Images/fw1/Operations/"
	    "Download\",\"correlator\":\"dl-7\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Images/fw1/State\"}]},"
	    /* 2: the session the alert brings */
	    "{\"commands\":["
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Images/fw1/State\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Images/fw1/LocalURI\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Images/fw1/Size\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Images/fw1?prop=ACL\"}]},"
	    /* 3: the End Device fetches from the gateway */
	    "{\"commands\":["
	    "{\"cmd\":\"Exec\",\"uri\":\"./Ext/Fetch\",\"data\":\"%s\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./Ext/Fetched/SHA256\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./Ext/Fetched/Size\"}]},"
	    /* 4: the server deletes its entry; the image goes with it */
	    "{\"commands\":["
	    "{\"cmd\":\"Delete\",\"uri\":\"./GwMO/Images/fw1\"}]}]}",
	    gw_upstream_get_url(up),
	    sha,
	    local);
	server = server_start(e, script, record, CL_SECRET, "--sessions=4", NULL);

	reply = gw_test_call(e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
	g_assert_no_error(error);
	g_clear_pointer(&reply, g_variant_unref);

	/* the download ends; the alert goes in a session of its own and is acknowledged */
	deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
	for (;;) {
		g_autofree gchar *state = get_value(e->d, "./GwMO/Images/fw1/State", NULL);
		if (g_strcmp0(state, "Available") == 0 && pending_alerts(e->d) == 0)
			break;
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(50 * 1000);
	}
	g_usleep(500 * 1000); /* that session finishes */

	device = device_spawn(e, dev_record);
	g_subprocess_communicate_utf8(device, NULL, NULL, &dev_out, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(device));
	g_assert_cmpint(g_subprocess_get_exit_status(device), ==, 0);
	g_assert_true(g_file_test(image_file, G_FILE_TEST_EXISTS));
	reply = gw_test_call(e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
	g_assert_no_error(error);
	g_clear_pointer(&reply, g_variant_unref);
	server_wait(server);
	/* the DM Server's Delete of its entry evicted the image nobody else refers to */
	g_assert_false(g_file_test(image_file, G_FILE_TEST_EXISTS));

	sessions = record_sessions(record, &parser);
	if (json_array_get_length(sessions) != 4) {
		g_autofree gchar *text = NULL;
		g_file_get_contents(record, &text, NULL, NULL);
		g_printerr("server record:\n%s\n", text);
	}
	g_assert_cmpuint(json_array_get_length(sessions), ==, 4);
	s1 = json_array_get_object_element(sessions, 0);
	g_assert_cmpint(status_of(s1, "Add", "./GwMO/Images/fw1"), ==, 200);
	g_assert_cmpint(status_of(s1, "Add", "./GwMO/Images/fw1/Hash"), ==, 200);
	g_assert_cmpint(status_of(s1, "Add", "./GwMO/Images/fw1/Targets/1"), ==, 200);
	g_assert_cmpint(status_of(s1, "Exec", "./GwMO/Images/fw1/Operations/Download"), ==, 202);
	g_assert_cmpstr(
	    item_data(result_for(s1, "Get", "./GwMO/Images/fw1/State")), ==, "Downloading");

	/* GwMO-DCIS-001: ImageDownloadComplete with State and Hash, to the owning server */
	alert = find_alert(sessions, "urn:oma:at:gwmo:1.0:ImageDownloadComplete", &alert_session);
	g_assert_nonnull(alert);
	g_assert_cmpuint(alert_session, ==, 1);
	g_assert_cmpstr(json_object_get_string_member(alert, "source"), ==, "./GwMO/Images/fw1");
	g_assert_cmpstr(json_object_get_string_member(alert, "correlator"), ==, "dl-7");
	{
		const gchar *doc = json_object_get_string_member(alert, "data");
		g_autofree gchar *hash_el = g_strdup_printf("<Hash>sha256:%s</Hash>", sha);
		g_autofree gchar *local_el = g_strdup_printf("<LocalURI>%s</LocalURI>", local);
		g_assert_nonnull(strstr(doc, "<GwMOImage>"));
		g_assert_nonnull(strstr(doc, "<State>Available</State>"));
		g_assert_nonnull(strstr(doc, hash_el));
		g_assert_nonnull(strstr(doc, local_el));
	}
	s2 = json_array_get_object_element(sessions, 1);
	g_assert_cmpstr(
	    item_data(result_for(s2, "Get", "./GwMO/Images/fw1/State")), ==, "Available");
	g_assert_cmpstr(item_data(result_for(s2, "Get", "./GwMO/Images/fw1/LocalURI")), ==, local);
	/* the entry carries the ACL of the server that made it */
	g_assert_cmpstr(item_data(result_for(s2, "Get", "./GwMO/Images/fw1?prop=ACL")),
			==,
			"Add=" SERVER_ID "&Delete=" SERVER_ID "&Exec=" SERVER_ID "&Get=" SERVER_ID
			"&Replace=" SERVER_ID);

	/* the device's fetch from the gateway (GwMO-DCIS-003: it is in Targets, with its
	 * credentials) */
	s3 = json_array_get_object_element(sessions, 2);
	g_assert_cmpint(status_of(s3, "Exec", "./Ext/Fetch"), ==, 200);
	g_assert_cmpstr(item_data(result_for(s3, "Get", "./Ext/Fetched/SHA256")), ==, sha);
	g_assert_nonnull(strstr(dev_out, "FETCH 200"));
	g_assert_cmpint(status_of(json_array_get_object_element(sessions, 3), "Delete", "./GwMO/Images/fw1"),
			==,
			200);
	/* one upstream download served it all */
	g_assert_cmpuint(gw_upstream_get_requests(up), ==, 1);

	gw_test_daemon_stop(e->d);
	env_free(e);
	gw_upstream_free(up);
}

/* HTTPS ExternalURIs are verified ([northbound] ca-file): the right name gets through TLS
 * (and a 404 from the reference server, which has no /image), a name the certificate does
 * not carry is refused before any request */
static void
test_https_verification(void)
{
	Env *e = env_new();
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autoptr(GSubprocess) server = NULL;
	const gchar *hash =
	    "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	const gchar *names[] = {"127.0.0.1", "localhost"};
	g_autofree gchar *log = NULL;

	server = server_start(
	    e,
	    "{\"sessions\":[{\"commands\":[{\"cmd\":\"Get\",\"uri\":\"./DevInfo/DevId\"}]}]}",
	    record,
	    CL_SECRET,
	    NULL);
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree gchar *url = g_strdup_printf("https://%s:%u/image", names[i], e->port);
		g_autofree gchar *path = NULL;
		g_autofree gchar *entry = NULL;
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = NULL;
		gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
		GVariantBuilder b;

		g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
		g_variant_builder_add(&b, "{sv}", "Name", g_variant_new_string(names[i]));
		g_variant_builder_add(&b, "{sv}", "ExternalURI", g_variant_new_string(url));
		g_variant_builder_add(&b, "{sv}", "Hash", g_variant_new_string(hash));
		reply = gw_test_call(e->d, "AddImage", g_variant_new("(a{sv})", &b), "(o)", &error);
		g_assert_no_error(error);
		g_variant_get(reply, "(o)", &path);
		g_clear_pointer(&reply, g_variant_unref);
		reply = g_dbus_connection_call_sync(e->d->connection,
		                                    "org.gwmo.Gateway1",
		                                    path,
		                                    "org.gwmo.Gateway1.Image",
		                                    "Download",
		                                    NULL,
		                                    NULL,
		                                    G_DBUS_CALL_FLAGS_NONE,
		                                    -1,
		                                    NULL,
		                                    &error);
		g_assert_no_error(error);
		entry = g_strdup_printf("./GwMO/Images/%s", strrchr(path, '/') + 1);
		for (;;) {
			g_autofree gchar *uri = g_strdup_printf("%s/State", entry);
			g_autofree gchar *state = get_value(e->d, uri, NULL);
			if (g_strcmp0(state, "Failed") == 0)
				break;
			g_assert_cmpint(g_get_monotonic_time(), <, deadline);
			g_usleep(50 * 1000);
		}
	}
	log = gw_test_daemon_read_log(e->d);
	g_assert_nonnull(strstr(log, "HTTP 404"));
	g_assert_nonnull(strstr(log, "TLS with https://localhost:"));
	g_subprocess_force_exit(server);
	g_subprocess_wait(server, NULL, NULL);
	gw_test_daemon_stop(e->d);
	env_free(e);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (argc > 1)
		server_binary = argv[1];
	if (argc > 2)
		device_binary = argv[2];
	g_test_add_func("/e2e/images/server-drives-image", test_server_drives_image);
	g_test_add_func("/e2e/images/https-verification", test_https_verification);
	return g_test_run();
}
