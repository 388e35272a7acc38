/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * End to end at scale (issue 4): the real gwmod, bootstrapped to the reference DM Server (one
 * DM account, HTTPS with MD5), and 1,000 End Devices simulated by two gwmo-test-device
 * processes (--parallel) registering at once on the southbound listener:
 *  - 500 register explicitly (DeviceRegistration alert, Transparent) and 500 implicitly
 *    (their Proxy-mode session's Package #1 DevInfo), both with [southbound]
 *    open-registration=true (nobody provisioned them: Trusted=false);
 *  - the inventory then holds exactly 1,000 records, all Attached, one per DeviceID
 *    (Summary/Total and Summary/Attached read with GetNode; the Device objects counted over
 *    the ObjectManager), and gwmod still answers (GwMO-DI-001/002/003);
 *  - the DM Server hears of every one of them through the gateway's one DM account: 1,000
 *    DeviceAttached alerts, one per DeviceID, in a few sessions the gateway authenticated
 *    once each (GwMO-HLF-004, GwMO-SECACATE-002);
 *  - gwmod killed with SIGKILL and started again still has exactly 1,000 records: every
 *    acknowledged registration was on disk (the southbound's group commit); the same devices
 *    registering again all at once add nothing.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#include "gw-e2e.h"

#define N_EACH 500
#define N_TOTAL (2 * N_EACH)
#define DEVICE_IFACE "org.gwmo.Gateway1.Device"

static GSubprocess *
devices_spawn(Env *e, const gchar *log_name, ...)
{
	g_autofree gchar *server =
	    g_strdup_printf("--server=http://127.0.0.1:%u/dm", e->south_port);
	const gchar *prefix[] = {server, "--quiet", NULL};
	GSubprocess *proc;
	va_list ap;

	va_start(ap, log_name);
	proc = e2e_device_spawn_valist(e->dir, log_name, prefix, ap);
	va_end(ap);
	return proc;
}

static JsonObject *
summary_load(const gchar *path, JsonParser **parser_out)
{
	JsonParser *parser = json_parser_new();
	g_autoptr(GError) error = NULL;

	g_assert_true(json_parser_load_from_file(parser, path, &error));
	g_assert_no_error(error);
	*parser_out = parser;
	return json_node_get_object(json_parser_get_root(parser));
}

static gint64
get_int(GwTestDaemon *d, const gchar *uri)
{
	g_autofree gchar *v = get_value(d, uri, NULL);
	g_assert_nonnull(v);
	return g_ascii_strtoll(v, NULL, 10);
}

/* DeviceID → Status of every exported Device object; asserts that no DeviceID repeats */
static GHashTable *
device_objects(GwTestDaemon *d)
{
	GHashTable *result = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GHashTable) objects = gw_test_managed_objects(d, DEVICE_IFACE);
	GHashTableIter iter;
	gpointer props;

	g_hash_table_iter_init(&iter, objects);
	while (g_hash_table_iter_next(&iter, NULL, &props)) {
		const gchar *id = NULL;
		const gchar *status = NULL;

		g_assert_true(g_variant_lookup(props, "DeviceID", "&s", &id));
		g_assert_true(g_variant_lookup(props, "Status", "&s", &status));
		if (g_hash_table_contains(result, id))
			g_error("DeviceID %s is exported twice", id);
		g_hash_table_insert(result, g_strdup(id), g_strdup(status));
	}
	return result;
}

/* the inventory holds exactly the N_TOTAL simulated devices, all Attached */
static void
assert_inventory(GwTestDaemon *d, const gchar *when)
{
	g_autoptr(GHashTable) objects = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree const gchar **names = NULL;
	guint attached = 0;

	/* GwMO-DI-002: the summary, computed on Get */
	g_assert_cmpint(get_int(d, "./GwMO/Inventory/Summary/Total"), ==, N_TOTAL);
	g_assert_cmpint(get_int(d, "./GwMO/Inventory/Summary/Attached"), ==, N_TOTAL);
	g_assert_cmpint(get_int(d, "./GwMO/Inventory/Summary/Detached"), ==, 0);
	g_assert_cmpint(get_int(d, "./GwMO/Inventory/Summary/Transparent"), ==, N_EACH);
	g_assert_cmpint(get_int(d, "./GwMO/Inventory/Summary/Proxy"), ==, N_EACH);
	/* one record node per device */
	reply = gw_test_call(
	    d, "ListChildren", g_variant_new("(s)", "./GwMO/Inventory/Devices"), "(as)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(^a&s)", &names);
	g_assert_cmpuint(g_strv_length((gchar **)names), ==, N_TOTAL);

	/* GwMO-DI-001/003: every device has its own object with its own DeviceID and Status */
	objects = device_objects(d);
	g_assert_cmpuint(g_hash_table_size(objects), ==, N_TOTAL);
	for (guint i = 1; i <= N_EACH; i++) {
		g_autofree gchar *a = g_strdup_printf("scale-t-%05u", i);
		g_autofree gchar *p = g_strdup_printf("scale-p-%05u", i);
		const gchar *sa = g_hash_table_lookup(objects, a);
		const gchar *sp = g_hash_table_lookup(objects, p);
		if (sa == NULL || sp == NULL)
			g_error("%s: %s or %s has no Device object", when, a, p);
		attached += g_strcmp0(sa, "Attached") == 0;
		attached += g_strcmp0(sp, "Attached") == 0;
	}
	g_assert_cmpuint(attached, ==, N_TOTAL);
	g_test_message("%s: %u records, all Attached", when, N_TOTAL);
}

/* GwMO-DI-001, GwMO-DI-002, GwMO-DI-003, GwMO-HLF-004, GwMO-SECACATE-002 */
static void
test_thousand_devices(void)
{
	Env *e = env_new_full("open-registration=true\n", NULL);
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *sum_t = g_build_filename(e->dir, "summary-t.json", NULL);
	g_autofree gchar *sum_p = g_build_filename(e->dir, "summary-p.json", NULL);
	g_autofree gchar *sum_t_arg = g_strdup_printf("--summary=%s", sum_t);
	g_autofree gchar *sum_p_arg = g_strdup_printf("--summary=%s", sum_p);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GSubprocess) transparent = NULL;
	g_autoptr(GSubprocess) proxy = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(JsonParser) parser_t = NULL;
	g_autoptr(JsonParser) parser_p = NULL;
	g_autoptr(GHashTable) alerted =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autofree gchar *v = NULL;
	JsonObject *summary;
	JsonArray *sessions;
	gint64 start;
	guint alert_sessions = 0;

	/* the DM Server takes every session the gateway opens, until told to stop */
	server = server_start(e, "{\"sessions\":[]}", record, CL_SECRET, "--sessions=0", NULL);

	/* 1,000 devices at once: two processes, 16 sessions in flight each */
	start = g_get_monotonic_time();
	transparent = devices_spawn(e,
	                            "devices-t.log",
	                            "--dev-id=scale-t-%05u",
	                            "--count=500",
	                            "--parallel=16",
	                            "--register",
	                            "--mode=1",
	                            "--server-ids=" SERVER_ID,
	                            "--notify-addr=udp://127.0.0.1:9",
	                            sum_t_arg,
	                            NULL);
	proxy = devices_spawn(e,
	                      "devices-p.log",
	                      "--dev-id=scale-p-%05u",
	                      "--count=500",
	                      "--parallel=16",
	                      "--notify-addr=http://127.0.0.1:9/notify/scale-p-%05u",
	                      sum_p_arg,
	                      NULL);
	g_assert_cmpint(e2e_device_wait(transparent, 120), ==, 0);
	g_assert_cmpint(e2e_device_wait(proxy, 120), ==, 0);
	g_test_message("%u registrations in %.2f s",
	               N_TOTAL,
	               (g_get_monotonic_time() - start) / (gdouble)G_USEC_PER_SEC);

	/* what the devices saw: every one registered (a retry would still count once) */
	summary = summary_load(sum_t, &parser_t);
	g_assert_cmpint(json_object_get_int_member(summary, "registered"), ==, N_EACH);
	g_assert_cmpint(json_object_get_int_member(summary, "failed"), ==, 0);
	summary = summary_load(sum_p, &parser_p);
	g_assert_cmpint(json_object_get_int_member(summary, "registered"), ==, N_EACH);
	g_assert_cmpint(json_object_get_int_member(summary, "failed"), ==, 0);

	/* what the gateway holds, and it still answers */
	g_assert_true(gw_test_daemon_is_running(e->d));
	assert_inventory(e->d, "after the burst");
	v = get_value(e->d, "./GwMO/Inventory/Devices/1/Trusted", NULL);
	g_assert_cmpstr(v, ==, "false"); /* open registration */
	g_clear_pointer(&v, g_free);

	/* GwMO-HLF-004, GwMO-SECACATE-002: the DM Server hears of all of them through the one
	 * account of the gateway, many devices per authenticated session */
	for (guint i = 0; i < 1200 && pending_alerts(e->d) > 0; i++)
		g_usleep(50 * 1000);
	g_assert_cmpuint(pending_alerts(e->d), ==, 0);
	g_subprocess_send_signal(server, SIGTERM);
	g_subprocess_wait(server, NULL, NULL);
	sessions = record_sessions(record, &parser);
	for (guint i = 0; i < json_array_get_length(sessions); i++) {
		JsonObject *s = json_array_get_object_element(sessions, i);
		JsonArray *alerts = json_object_get_array_member(s, "generic_alerts");
		guint n = 0;

		for (guint j = 0; alerts != NULL && j < json_array_get_length(alerts); j++) {
			JsonObject *a = json_array_get_object_element(alerts, j);
			const gchar *doc = json_object_get_string_member(a, "data");
			const gchar *id_start;
			const gchar *id_end;

			if (g_strcmp0(json_object_get_string_member(a, "type"),
			              "urn:oma:at:gwmo:1.0:DeviceAttached") != 0)
				continue;
			id_start = strstr(doc, "<DeviceID>");
			g_assert_nonnull(id_start);
			id_start += strlen("<DeviceID>");
			id_end = strstr(id_start, "</DeviceID>");
			g_assert_nonnull(id_end);
			/* no device is announced twice */
			g_assert_true(
			    g_hash_table_add(alerted, g_strndup(id_start, id_end - id_start)));
			n++;
		}
		if (n > 0) {
			alert_sessions++;
			/* the gateway authenticated itself once for the whole batch */
			g_assert_true(json_object_get_boolean_member(s, "authenticated"));
		}
	}
	g_assert_cmpuint(g_hash_table_size(alerted), ==, N_TOTAL);
	g_test_message(
	    "%u DeviceAttached alerts in %u sessions (all delivered %.2f s after the start)",
	    N_TOTAL,
	    alert_sessions,
	    (g_get_monotonic_time() - start) / (gdouble)G_USEC_PER_SEC);
	g_assert_cmpuint(alert_sessions, <, N_TOTAL / 10);

	/* SIGKILL: what was acknowledged is on disk */
	gw_test_daemon_kill(e->d);
	start = g_get_monotonic_time();
	gw_test_daemon_start(e->d, NULL);
	g_test_message("restarted in %.2f s",
	               (g_get_monotonic_time() - start) / (gdouble)G_USEC_PER_SEC);
	assert_inventory(e->d, "after kill -9 and restart");

	/* the same devices come back (all at once again, as after a power cut): their records
	 * are found by DeviceID, nothing is added twice */
	g_clear_object(&proxy);
	proxy = devices_spawn(e,
	                      "devices-p2.log",
	                      "--dev-id=scale-p-%05u",
	                      "--count=500",
	                      "--parallel=16",
	                      "--notify-addr=http://127.0.0.1:9/notify/scale-p-%05u",
	                      sum_p_arg,
	                      NULL);
	g_assert_cmpint(e2e_device_wait(proxy, 120), ==, 0);
	assert_inventory(e->d, "after the same devices registered again");
	gw_test_daemon_stop(e->d);
	env_free(e);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (argc < 3) {
		g_printerr("usage: %s PATH-TO-gwmo-test-server PATH-TO-gwmo-test-device\n",
		           argv[0]);
		return 2;
	}
	server_binary = argv[1];
	device_binary = argv[2];
	g_test_add_func("/gw/e2e/scale/thousand-devices", test_thousand_devices);
	return g_test_run();
}
