/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * B.8 end to end: the reference DM Server (HTTPS, MD5) adds an ./GwMO/Images entry on the real
 * gwmod and Execs its Download (202); gwmod fetches the image from an upstream HTTP server and
 * tells the server with an ImageDownloadComplete Generic Alert (State, Hash, the Exec's
 * correlator) in a new session, where the server reads State and LocalURI. Then a reference
 * End Device, told by the server to Exec ./Ext/Fetch with that LocalURI, fetches the image
 * from gwmod with its own credentials (HTTP Basic over https) and reports the right sha256
 * (GwMO-DCIS-001/002/003). Through a fan-out, each device gets the URL signed for it.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "gw-e2e.h"
#include "gw-upstream.h"

/* the device trusts @ca_file: the DM Server's certificate and the gateway's (it fetches the
 * image over https: its HTTP Basic never crosses in clear, DM-SECONF-001) */
static GSubprocess *
device_spawn(Env *e, const gchar *record, const gchar *ca_file)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *log = g_build_filename(e->dir, "device.log", NULL);
	GSubprocess *proc;

	g_ptr_array_add(argv, g_strdup(device_binary));
	g_ptr_array_add(argv, g_strdup_printf("--server=https://127.0.0.1:%u/dm", e->port));
	g_ptr_array_add(argv, g_strdup_printf("--ca-file=%s", ca_file));
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
	/* the image is served on https: the DM Server hands the device the plain LocalURI
	 * (not through the gateway), so the device presents HTTP Basic, over TLS only */
	guint16 https_port = free_port();
	g_autofree gchar *south = g_strdup_printf("listen=https://127.0.0.1:%u\n", https_port);
	Env *e = env_new_full(south, NULL);
	g_autofree gchar *trust = g_build_filename(e->dir, "trust.pem", NULL);
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
	local = g_strdup_printf("https://127.0.0.1:%u/images/%s", https_port, sha);
	image_file = g_build_filename(e->d->state_dir, "images", sha, NULL);
	{
		g_autofree gchar *gw_cert_path = g_build_filename(e->d->state_dir, "tls.crt", NULL);
		g_autofree gchar *server_pem = NULL;
		g_autofree gchar *gw_pem = NULL;
		g_autofree gchar *both = NULL;
		g_assert_true(g_file_get_contents(e->cert, &server_pem, NULL, NULL));
		g_assert_true(g_file_get_contents(gw_cert_path, &gw_pem, NULL, NULL));
		both = g_strconcat(server_pem, gw_pem, NULL);
		g_assert_true(g_file_set_contents(trust, both, -1, NULL));
	}

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

	device = device_spawn(e, dev_record, trust);
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

/* ---- B.8 with fan-out: one download, every device fetches from the gateway ---- */

#define FAN_GW_ID      "GW-TEST-0001"
#define FAN_GW_SECRET  "gw-secret-x"
#define FAN_DEV_SECRET "dev-secret-x"
#define FAN_GROUP      "lamps"
#define FAN_N          8
/* the per-device Timeout of the jobs: sanitizer builds run the devices instrumented */
#if defined(__SANITIZE_ADDRESS__)
#define FAN_TIMEOUT 60
#else
#define FAN_TIMEOUT 20
#endif

typedef struct {
	gchar *id;
	gchar *record;
	gchar *record_uri;
	GSubprocess *proc;
} FanDev;

static void
fan_dev_free(FanDev *dev)
{
	if (dev->proc != NULL) {
		if (g_subprocess_get_identifier(dev->proc) != NULL) {
			g_subprocess_force_exit(dev->proc);
			g_subprocess_wait(dev->proc, NULL, NULL);
		}
		g_object_unref(dev->proc);
	}
	g_free(dev->id);
	g_free(dev->record);
	g_free(dev->record_uri);
	g_free(dev);
}

/* a Proxy device provisioned with AddDevice (its ClientName/ClientSecret are what its image
 * GET presents), in FAN_GROUP; then its process: registers its notification listener and
 * answers @sessions Package #0s, one session each */
static FanDev *
fan_dev_spawn(Env *e, const gchar *id, guint sessions)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *log = g_strdup_printf("%s/%s.log", e->dir, id);
	g_autofree gchar *tree =
	    g_build_filename(g_getenv("GWMO_TEST_DATA"), "peers", "device-tree.xml", NULL);
	const gchar *groups[] = {FAN_GROUP, NULL};
	const gchar *path = NULL;
	FanDev *dev = g_new0(FanDev, 1);
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string(id));
	g_variant_builder_add(&b, "{sv}", "Mode", g_variant_new_uint32(2));
	g_variant_builder_add(&b, "{sv}", "AuthType", g_variant_new_string("DIGEST"));
	g_variant_builder_add(&b, "{sv}", "ClientName", g_variant_new_string(id));
	g_variant_builder_add(&b, "{sv}", "ClientSecret", g_variant_new_string(FAN_DEV_SECRET));
	g_variant_builder_add(&b, "{sv}", "ServerSecret", g_variant_new_string(FAN_GW_SECRET));
	g_variant_builder_add(&b, "{sv}", "Groups", g_variant_new_strv(groups, -1));
	reply = gw_test_call(e->d, "AddDevice", g_variant_new("(a{sv})", &b), "(o)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(&o)", &path);
	g_assert_true(g_str_has_prefix(path, "/org/gwmo/Gateway1/Devices/"));
	dev->id = g_strdup(id);
	dev->record = g_strdup_printf("%s/%s.json", e->dir, id);
	dev->record_uri = g_strdup_printf("./GwMO/Inventory/Devices/%s",
	                                  path + strlen("/org/gwmo/Gateway1/Devices/"));

	g_ptr_array_add(argv, g_strdup(device_binary));
	g_ptr_array_add(argv, g_strdup_printf("--server=http://127.0.0.1:%u/dm", e->south_port));
	g_ptr_array_add(argv, g_strdup_printf("--dev-id=%s", id));
	g_ptr_array_add(argv, g_strdup("--auth=md5"));
	g_ptr_array_add(argv, g_strdup("--client-secret=" FAN_DEV_SECRET));
	g_ptr_array_add(argv, g_strdup("--server-name=" FAN_GW_ID));
	g_ptr_array_add(argv, g_strdup("--server-secret=" FAN_GW_SECRET));
	g_ptr_array_add(argv, g_strdup("--server-id=" FAN_GW_ID));
	g_ptr_array_add(argv, g_strdup("--listen-notify=http://127.0.0.1:0"));
	g_ptr_array_add(argv, g_strdup("--register"));
	g_ptr_array_add(argv, g_strdup("--mode=2"));
	g_ptr_array_add(argv, g_strdup_printf("--count=%u", sessions));
	g_ptr_array_add(argv, g_strdup_printf("--record=%s", dev->record));
	g_ptr_array_add(argv, g_strdup_printf("--tree=%s", tree));
	g_ptr_array_add(argv, NULL);
	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	dev->proc =
	    g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	return dev;
}

/* the DM Server's commands that create fan-out job @name to FAN_GROUP and Exec its Start */
static gchar *
fan_job(const gchar *name,
        const gchar *command,
        const gchar *target_uri,
        const gchar *data,
        const gchar *aggregate,
        const gchar *correlator)
{
	GString *s = g_string_new(NULL);
	g_string_append_printf(
	    s, "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s\",\"format\":\"node\"},", name);
	g_string_append_printf(
	    s,
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Targets/Group\",\"data\":\"" FAN_GROUP
	    "\"},",
	    name);
	g_string_append_printf(
	    s, "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Command\",\"data\":\"%s\"},", name, command);
	g_string_append_printf(s,
	                       "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/TargetURI\",\"data\":\"%s\"},",
	                       name,
	                       target_uri);
	if (data != NULL)
		g_string_append_printf(
		    s, "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Data\",\"data\":\"%s\"},", name, data);
	g_string_append_printf(s,
	                       "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/"
	                       "Timeout\",\"format\":\"int\",\"data\":\"%u\"},",
	                       name,
	                       FAN_TIMEOUT);
	if (aggregate != NULL)
		g_string_append_printf(
		    s,
		    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Aggregate\",\"data\":\"%s\"},",
		    name,
		    aggregate);
	g_string_append_printf(s,
	                       "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/Fanout/%s/Operations/"
	                       "Start\",\"correlator\":\"%s\"}",
	                       name,
	                       correlator);
	return g_string_free(s, FALSE);
}

/* the data of the device's last Exec of ./Ext/Fetch, NULL if none */
static gchar *
fetch_data(const gchar *record)
{
	g_autoptr(JsonParser) parser = NULL;
	JsonArray *sessions = record_sessions(record, &parser);
	gchar *data = NULL;

	for (guint s = 0; s < json_array_get_length(sessions); s++) {
		JsonArray *cmds = json_object_get_array_member(
		    json_array_get_object_element(sessions, s), "commands");
		for (guint i = 0; cmds != NULL && i < json_array_get_length(cmds); i++) {
			JsonObject *c = json_array_get_object_element(cmds, i);
			if (g_strcmp0(json_object_get_string_member(c, "uri"), "./Ext/Fetch") != 0)
				continue;
			g_free(data);
			data = g_strdup(json_object_get_string_member(c, "data"));
		}
	}
	return data;
}

/* waits until @uri (if any) reads @value and the daemon has nothing left to tell the
 * server: the session that carried it is over */
static void
fan_wait_idle(Env *e, const gchar *uri, const gchar *value)
{
	gint64 deadline = g_get_monotonic_time() + 4 * FAN_TIMEOUT * G_USEC_PER_SEC;
	for (;;) {
		g_autofree gchar *v = uri != NULL ? get_value(e->d, uri, NULL) : NULL;
		if ((uri == NULL || g_strcmp0(v, value) == 0) && pending_alerts(e->d) == 0)
			break;
		if (g_get_monotonic_time() >= deadline) {
			g_autofree gchar *log = gw_test_daemon_read_log(e->d);
			g_printerr("%s = %s, %u alerts pending; gwmod log:\n%s\n",
			           uri,
			           v,
			           pending_alerts(e->d),
			           log);
		}
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(50 * 1000);
	}
	g_usleep(500 * 1000); /* that session finishes */
}

/* StartSession towards the DM Server, once the one before (if still finishing) is over */
static void
fan_start_session(Env *e)
{
	gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	for (;;) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = gw_test_call(
		    e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
		g_autofree gchar *name = NULL;
		if (reply != NULL)
			return;
		name = g_dbus_error_get_remote_error(error);
		if (g_strcmp0(name, "org.gwmo.Gateway1.Error.InProgress") != 0 ||
		    g_get_monotonic_time() >= deadline) {
			g_autofree gchar *log = gw_test_daemon_read_log(e->d);
			g_printerr("gwmod log:\n%s\n", log);
			g_assert_no_error(error);
		}
		g_usleep(100 * 1000);
	}
}

/*
 * GwMO-DCIS-001, GwMO-DCIS-002, GwMO-FORA-001 (use case B.8 with fan-out): the DM Server adds
 * an ./GwMO/Images entry for a group and Execs its Download: the gateway fetches the image
 * from upstream once and says ImageDownloadComplete; the server then fans an Exec of
 * ./Ext/Fetch out to the group with the LocalURI as its data: every device fetches the image
 * from the gateway with the URL signed for it (DM-SECONF-001) — FanoutComplete with
 * every device 200 — and a second fan-out Get of ./Ext/Fetched/SHA256 shows every device
 * holds the image's sha256. Upstream served exactly one download; the store holds one file.
 */
static void
test_fanout_fetch(void)
{
	Env *e = env_new_with_config("[fanout]\nsync-wait=120\n");
	g_autoptr(GRand) rand = g_rand_new_with_seed(8);
	gsize size = 256 * 1024;
	guint32 *raw = g_malloc(size);
	g_autoptr(GBytes) blob = NULL;
	g_autofree gchar *sha = NULL;
	g_autofree gchar *local = NULL;
	g_autofree gchar *images_dir = NULL;
	g_autofree gchar *fetch_job = NULL;
	g_autofree gchar *get_job = NULL;
	g_autofree gchar *script = NULL;
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autoptr(GPtrArray) devs = g_ptr_array_new_with_free_func((GDestroyNotify)fan_dev_free);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GDir) dir = NULL;
	GwUpstream *up;
	JsonArray *sessions;
	JsonObject *s;
	JsonObject *alert;
	const gchar *doc;
	const gchar *name;
	guint files = 0;

	for (gsize i = 0; i < size / 4; i++)
		raw[i] = g_rand_int(rand);
	blob = g_bytes_new_take(raw, size);
	sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, blob);
	up = gw_upstream_new(blob);
	gw_upstream_set_throttle(up, 100); /* ≈0.4 s: the Exec's session is over before it ends */
	local = g_strdup_printf("http://127.0.0.1:%u/images/%s", e->south_port, sha);
	images_dir = g_build_filename(e->d->state_dir, "images", NULL);

	/* no DeviceAttached sessions in between: the script counts sessions */
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
	reply = gw_test_call(
	    e->d, "CreateGroup", g_variant_new("(ss)", FAN_GROUP, ""), "(o)", &error);
	g_assert_no_error(error);
	g_clear_pointer(&reply, g_variant_unref);

	fetch_job = fan_job("fetch", "Exec", "./Ext/Fetch", local, NULL, "corr-fetch");
	get_job = fan_job("check", "Get", "./Ext/Fetched/SHA256", NULL, "count,distinct", "corr-check");
	script = g_strdup_printf(
	    "{\"sessions\":["
	    /* 1: the image entry, for the group, and its Download */
	    "{\"commands\":["
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw2\",\"format\":\"node\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw2/Name\",\"data\":\"lamp-fw\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw2/ExternalURI\",\"data\":\"%s\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw2/Hash\",\"data\":\"sha256:%s\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw2/Targets/1\",\"data\":\"" FAN_GROUP "\"},"
	    "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/Images/fw2/Operations/"
	    "Download\",\"correlator\":\"dl-fan\"}]},"
	    /* 2: the session ImageDownloadComplete brings */
	    "{\"commands\":["
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Images/fw2/LocalURI\"}]},"
	    /* 3: every device fetches the image from the gateway */
	    "{\"commands\":[%s]},"
	    /* 4: and holds it */
	    "{\"commands\":[%s]}]}",
	    gw_upstream_get_url(up),
	    sha,
	    fetch_job,
	    get_job);
	server = server_start(e, script, record, CL_SECRET, "--sessions=4", NULL);

	/* the devices: provisioned, registered with their listeners, two notified sessions each */
	for (guint i = 1; i <= FAN_N; i++) {
		g_autofree gchar *id = g_strdup_printf("lamp-%02u", i);
		g_ptr_array_add(devs, fan_dev_spawn(e, id, 2));
	}
	for (guint i = 0; i < devs->len; i++) {
		FanDev *dev = g_ptr_array_index(devs, i);
		g_autofree gchar *uri = g_strdup_printf("%s/NotifyAddr", dev->record_uri);
		gboolean ok = FALSE;
		for (guint k = 0; k < 1200 && !ok; k++) {
			g_autofree gchar *v = get_value(e->d, uri, NULL);
			ok = v != NULL && g_str_has_prefix(v, "http://127.0.0.1:");
			if (!ok)
				g_usleep(50 * 1000);
		}
		g_assert_true(ok);
	}

	/* 1 and 2: the download, then its alert in a session of its own */
	fan_start_session(e);
	fan_wait_idle(e, "./GwMO/Images/fw2/State", "Available");
	/* 3: the fetch job; its FanoutComplete comes in the same session */
	fan_start_session(e);
	fan_wait_idle(e, "./GwMO/Fanout/fetch/State", "Complete");
	/* 4: the check */
	fan_start_session(e);
	server_wait(server);

	sessions = record_sessions(record, &parser);
	if (json_array_get_length(sessions) != 4) {
		g_autofree gchar *text = NULL;
		g_file_get_contents(record, &text, NULL, NULL);
		g_printerr("server record:\n%s\n", text);
	}
	g_assert_cmpuint(json_array_get_length(sessions), ==, 4);

	/* GwMO-DCIS-001: downloaded once, ImageDownloadComplete with the LocalURI */
	s = json_array_get_object_element(sessions, 0);
	g_assert_cmpint(status_of(s, "Add", "./GwMO/Images/fw2/Targets/1"), ==, 200);
	g_assert_cmpint(status_of(s, "Exec", "./GwMO/Images/fw2/Operations/Download"), ==, 202);
	s = json_array_get_object_element(sessions, 1);
	alert = session_alert(s, "urn:oma:at:gwmo:1.0:ImageDownloadComplete");
	g_assert_nonnull(alert);
	g_assert_cmpstr(json_object_get_string_member(alert, "correlator"), ==, "dl-fan");
	{
		g_autofree gchar *local_el = g_strdup_printf("<LocalURI>%s</LocalURI>", local);
		doc = json_object_get_string_member(alert, "data");
		g_assert_nonnull(strstr(doc, "<State>Available</State>"));
		g_assert_nonnull(strstr(doc, local_el));
	}
	g_assert_cmpstr(item_data(result_for(s, "Get", "./GwMO/Images/fw2/LocalURI")), ==, local);

	/* GwMO-FORA-001, GwMO-DCIS-002: the Exec reached every device, each fetched from the
	 * gateway (200) */
	s = json_array_get_object_element(sessions, 2);
	g_assert_cmpint(status_of(s, "Exec", "./GwMO/Fanout/fetch/Operations/Start"), ==, 202);
	alert = session_alert(s, "urn:oma:at:gwmo:1.0:FanoutComplete");
	g_assert_nonnull(alert);
	g_assert_cmpstr(json_object_get_string_member(alert, "correlator"), ==, "corr-fetch");
	doc = json_object_get_string_member(alert, "data");
	{
		g_autofree gchar *head = g_strdup_printf(
		    "state=\"Complete\" total=\"%u\" succeeded=\"%u\" failed=\"0\">", FAN_N, FAN_N);
		if (strstr(doc, head) == NULL)
			g_printerr("aggregated result:\n%s\n", doc);
		g_assert_nonnull(strstr(doc, head));
	}
	for (guint i = 0; i < devs->len; i++) {
		FanDev *dev = g_ptr_array_index(devs, i);
		g_autofree gchar *el = g_strdup_printf("<Device id=\"%s\" status=\"200\"", dev->id);
		g_assert_nonnull(strstr(doc, el));
	}

	/* every device holds the image's sha256 */
	s = json_array_get_object_element(sessions, 3);
	alert = session_alert(s, "urn:oma:at:gwmo:1.0:FanoutComplete");
	g_assert_nonnull(alert);
	g_assert_cmpstr(json_object_get_string_member(alert, "correlator"), ==, "corr-check");
	doc = json_object_get_string_member(alert, "data");
	{
		g_autofree gchar *data_el = g_strdup_printf("<Data format=\"chr\">%s</Data>", sha);
		if (count_substr(doc, data_el) != FAN_N)
			g_printerr("aggregated result:\n%s\n", doc);
		g_assert_cmpuint(count_substr(doc, data_el), ==, FAN_N);
		g_assert_cmpuint(count_substr(doc, "status=\"200\""), ==, FAN_N);
		g_assert_nonnull(strstr(doc, "distinct=\"1\""));
	}
	for (guint i = 0; i < devs->len; i++) {
		FanDev *dev = g_ptr_array_index(devs, i);
		gint status = -1;
		for (guint k = 0; k < 600 && g_subprocess_get_identifier(dev->proc) != NULL; k++)
			g_usleep(50 * 1000);
		g_assert_true(g_subprocess_wait(dev->proc, NULL, NULL));
		if (g_subprocess_get_if_exited(dev->proc))
			status = g_subprocess_get_exit_status(dev->proc);
		g_assert_cmpint(status, ==, 0);
		/* the device's own record: the Exec it ran carried the LocalURI signed for it
		 * (DM-SECONF-001, spec/GWMO.md §9) */
		{
			g_autofree gchar *prefix =
			    g_strdup_printf("%s?dev=%s&exp=", local, dev->id);
			g_autofree gchar *data = fetch_data(dev->record);
			g_assert_nonnull(data);
			g_assert_true(g_str_has_prefix(data, prefix));
			g_assert_nonnull(strstr(data, "&sig="));
			g_assert_true(record_executed(dev->record, "Exec", "./Ext/Fetch", data));
		}
	}

	/* the upstream served exactly one download; the store holds one file, the image */
	g_assert_cmpuint(gw_upstream_get_requests(up), ==, 1);
	dir = g_dir_open(images_dir, 0, &error);
	g_assert_no_error(error);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_assert_cmpstr(name, ==, sha);
		files++;
	}
	g_assert_cmpuint(files, ==, 1);

	gw_test_daemon_stop(e->d);
	env_free(e);
	gw_upstream_free(up);
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
	g_test_add_func("/e2e/images/fanout-fetch", test_fanout_fetch);
	return g_test_run();
}
