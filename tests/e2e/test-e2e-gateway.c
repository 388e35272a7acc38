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
 *    through X-GwMO-Target; a forged one is refused and not forwarded (GwMO-TMode-001, Z');
 *  - issue 11 §4: thousands of Package #1s naming a provisioned DeviceID with wrong credentials
 *    fill no session slot: the real device's session succeeds at once after them.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "gw-crypto.h"
#include "gw-dm-auth.h"
#include "gw-e2e.h"
#include "gw-http-client.h"
#include "gw-log.h"
#include "gw-pkg0.h"
#include "gw-syncml.h"
#include "gw-wbxml.h"

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
	g_autofree gchar *server =
	    g_strdup_printf("--server=http://127.0.0.1:%u/dm", e->south_port);
	const gchar *prefix[] = {server, NULL};
	GSubprocess *proc;
	va_list ap;

	va_start(ap, log_name);
	proc = e2e_device_spawn_valist(e->dir, log_name, prefix, ap);
	va_end(ap);
	return proc;
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
	g_assert_cmpint(e2e_device_wait(device, 60), ==, 0);
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
		g_assert_cmpuint(notify(url, gw_cert, forged, GW_PKG0_CONTENT_TYPE, "dev-3"), ==, 401);
		g_assert_cmpuint(notify(url, gw_cert, unknown, GW_PKG0_CONTENT_TYPE, "no-such-device"), ==, 404);
	}
	/* Z': the server's Package #0 for dev-3 is verified and forwarded as it is */
	{
		g_autoptr(GBytes) pkg0 = make_pkg0(SERVER_ID, SRV_SECRET, 0x7E57);
		g_assert_cmpuint(notify(url, gw_cert, pkg0, GW_PKG0_CONTENT_TYPE, "dev-3"), ==, 202);
	}
	g_assert_cmpint(e2e_device_wait(device, 60), ==, 0);
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

/* VmRSS (kB) and open descriptors of gwmod */
static void
daemon_usage(GwTestDaemon *d, guint64 *rss_kb, guint *fds)
{
	const gchar *pid = g_subprocess_get_identifier(d->daemon);
	g_autofree gchar *status_path = g_strdup_printf("/proc/%s/status", pid);
	g_autofree gchar *fd_path = g_strdup_printf("/proc/%s/fd", pid);
	g_autofree gchar *status = NULL;
	g_autoptr(GDir) dir = NULL;
	const gchar *line;

	*rss_kb = 0;
	*fds = 0;
	g_assert_true(g_file_get_contents(status_path, &status, NULL, NULL));
	line = strstr(status, "VmRSS:");
	if (line != NULL)
		*rss_kb = g_ascii_strtoull(line + strlen("VmRSS:"), NULL, 10);
	dir = g_dir_open(fd_path, 0, NULL);
	while (dir != NULL && g_dir_read_name(dir) != NULL)
		(*fds)++;
}

/* the last "device sessions: …" line gwmod logged since @from (it logs one within a second of
 * a change), waiting up to @wait_ms for one to come */
static gchar *
session_count_line(GwTestDaemon *d, gsize from, guint wait_ms)
{
	for (guint i = 0; i <= wait_ms / 50; i++) {
		g_autofree gchar *log = gw_test_daemon_read_log(d);
		const gchar *last = NULL;
		const gchar *p = strlen(log) > from ? log + from : "";
		while ((p = strstr(p, "device sessions: ")) != NULL) {
			last = p;
			p += strlen("device sessions: ");
		}
		if (last != NULL)
			return g_strndup(last, strcspn(last, "\n"));
		g_usleep(50 * 1000);
	}
	return NULL;
}

/* the flood: FLOOD_MAX Package #1s, or what FLOOD_BUDGET_S allows (a sanitizer build is much
 * slower), never fewer than FLOOD_MIN (several times max-sessions) */
#define FLOOD_MAX 3000
#define FLOOD_MIN 500
#define FLOOD_BUDGET_S 10
#define FLOOD_IN_FLIGHT 32

typedef struct {
	GMainLoop *loop;
	GwHttpClient *client;
	const gchar *dm_url;
	gint64 start;
	guint sent;
	guint done;
	guint ok200;
	guint other;
	gboolean stopped;
} Flood;

static void
flood_send(Flood *fl);

static void
flood_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Flood *fl = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GwHttpResponse) r =
	    gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &error);
	if (r != NULL && r->status == 200)
		fl->ok200++;
	else
		fl->other++;
	fl->done++;
	flood_send(fl);
	if (fl->stopped && fl->done == fl->sent)
		g_main_loop_quit(fl->loop);
}

/* one Package #1 naming dev-f with wrong credentials and its own SessionID */
static void
flood_send(Flood *fl)
{
	g_autofree gchar *sid = NULL;
	g_autofree gchar *digest = NULL;
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GBytes) body = NULL;
	gint64 elapsed = g_get_monotonic_time() - fl->start;

	if (fl->sent >= FLOOD_MAX ||
	    (fl->sent >= FLOOD_MIN && elapsed > FLOOD_BUDGET_S * G_USEC_PER_SEC)) {
		fl->stopped = TRUE;
		return;
	}
	sid = g_strdup_printf("%X", fl->sent + 1);
	msg = gw_syncml_message_new(GW_SYNCML_VERSION_DM_1_2, sid, 1, fl->dm_url, "dev-f");
	digest = gw_dm_auth_md5_digest("dev-f", "guessed", NULL, 0);
	gw_syncml_message_add_command(msg,
	                              gw_syncml_alert_new(GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT));
	gw_syncml_message_set_cred(msg, "syncml:auth-md5", "b64", digest);
	msg->final = TRUE;
	body = gw_syncml_message_to_xml(msg);
	fl->sent++;
	gw_http_client_post_async(
	    fl->client, fl->dm_url, GW_SYNCML_DM_XML_TYPE, body, NULL, NULL, flood_cb, fl);
}

/* issue 11 §4: up to 3,000 Package #1s (at least 500) naming a provisioned DeviceID (not a secret)
 * with wrong credentials, each with its own SessionID, then the real device. On main each one held
 * a session until session-timeout and max-sessions (64 here) filled: the device got 503 for two
 * minutes. Now the unauthenticated ones are a few per address and take no slot. */
static void
test_credential_flood(void)
{
	Env *e = env_new_full("max-sessions=64\n", NULL);
	g_autofree gchar *path = add_device(e->d, "dev-f", 2, "dev-f-secret", "gw-f-secret");
	g_autofree gchar *dm_url = g_strdup_printf("http://127.0.0.1:%u/dm", e->south_port);
	g_autofree gchar *before_line = NULL;
	g_autofree gchar *after_line = NULL;
	g_autofree gchar *log = NULL;
	g_autoptr(GwHttpClient) client = gw_http_client_new(NULL, NULL);
	g_autoptr(GSubprocess) device = NULL;
	Flood fl = {0};
	guint64 rss_before, rss_after;
	guint fds_before, fds_after;
	gsize log_mark;
	gint64 start;
	gdouble flood_s, device_s;
	guint refusal_lines;
	const gchar *device_args[] = {"--dev-id=dev-f",
	                              "--auth=md5",
	                              "--client-secret=dev-f-secret",
	                              "--server-name=GW-TEST-0001",
	                              "--server-secret=gw-f-secret",
	                              "--server-id=GW-TEST-0001",
	                              "--notify-addr=udp://127.0.0.1:9"};

	/* the real device has had a session: device and gateway agree on their nonces */
	device = device_spawn(e,
	                      "device-f1.log",
	                      device_args[0],
	                      device_args[1],
	                      device_args[2],
	                      device_args[3],
	                      device_args[4],
	                      device_args[5],
	                      device_args[6],
	                      NULL);
	g_assert_cmpint(e2e_device_wait(device, 60), ==, 0);
	g_clear_object(&device);
	/* logged when the counts change: none since start means none running */
	before_line = session_count_line(e->d, 0, 0);
	if (before_line == NULL)
		before_line = g_strdup("device sessions: 0 running, 0 waiting for credentials");
	daemon_usage(e->d, &rss_before, &fds_before);
	g_test_message("before the flood: %s; gwmod RSS %" G_GUINT64_FORMAT " kB, %u fds",
	               before_line,
	               rss_before,
	               fds_before);

	{
		g_autofree gchar *text = gw_test_daemon_read_log(e->d);
		log_mark = strlen(text);
	}
	fl.loop = g_main_loop_new(NULL, FALSE);
	fl.client = client;
	fl.dm_url = dm_url;
	gw_http_client_set_max_in_flight(client, FLOOD_IN_FLIGHT);
	gw_http_client_set_retries(client, 0, 10);
	start = fl.start = g_get_monotonic_time();
	for (guint i = 0; i < FLOOD_IN_FLIGHT; i++)
		flood_send(&fl);
	g_main_loop_run(fl.loop);
	g_main_loop_unref(fl.loop);
	flood_s = (g_get_monotonic_time() - start) / 1e6;
	g_assert_cmpuint(fl.sent, >=, FLOOD_MIN);
	g_assert_cmpuint(fl.ok200, ==, fl.sent);

	/* the real device at once, no retry needed */
	start = g_get_monotonic_time();
	device = device_spawn(e,
	                      "device-f2.log",
	                      device_args[0],
	                      device_args[1],
	                      device_args[2],
	                      device_args[3],
	                      device_args[4],
	                      device_args[5],
	                      device_args[6],
	                      NULL);
	g_assert_cmpint(e2e_device_wait(device, 60), ==, 0);
	device_s = (g_get_monotonic_time() - start) / 1e6;
	after_line = session_count_line(e->d, log_mark, 5000);
	g_assert_nonnull(after_line);
	daemon_usage(e->d, &rss_after, &fds_after);
	g_test_message("%u wrong-credential Package #1s in %.2f s (%u answered 200); the real "
	               "device's session then took %.2f s; after: %s; gwmod RSS %" G_GUINT64_FORMAT
	               " kB, %u fds",
	               fl.sent,
	               flood_s,
	               fl.ok200,
	               device_s,
	               after_line,
	               rss_after,
	               fds_after);
	/* at once: not after the two minutes of session-timeout it waited on main */
	g_assert_cmpfloat(device_s, <, 30.0);
	g_assert_nonnull(strstr(after_line, "waiting for credentials"));
	{
		/* at most the per-address quota of unauthenticated sessions is held */
		const gchar *p = strstr(after_line, "running, ");
		g_assert_nonnull(p);
		g_assert_cmpuint(g_ascii_strtoull(p + strlen("running, "), NULL, 10), <=, 4);
	}
	/* the refused credentials are logged, rate-limited */
	log = gw_test_daemon_read_log(e->d);
	refusal_lines = count_substr(log + log_mark, "credentials of device dev-f from 127.0.0.1");
	g_assert_cmpuint(refusal_lines, >=, 1);
	/* a burst of GW_LOG_RATELIMIT_BURST per GW_LOG_RATELIMIT_INTERVAL s, and the line that
	 * reports the suppressed ones */
	g_assert_cmpuint(refusal_lines,
	                 <=,
	                 (GW_LOG_RATELIMIT_BURST + 1) *
	                     (1 + (guint)(flood_s / GW_LOG_RATELIMIT_INTERVAL)));
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
	g_test_add_func("/gw/e2e/gateway/credential-flood", test_credential_flood);
	return g_test_run();
}
