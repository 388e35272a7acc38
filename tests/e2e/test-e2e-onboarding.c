/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Zero-touch onboarding (issue 14, acceptance): nobody types anything between a device being
 * plugged in and a DM Server managing it. The real gwmod with [southbound] auto-bootstrap on,
 * a real avahi-daemon on a private system bus in a network namespace the test makes
 * (gw-test-avahi), the reference DM Server and the reference End Device
 * (tests/peers/gwmo-test-device), which only gets its DeviceID, its tree and --announce
 * --discover:
 *  1. the device announces _omadm._tcp (TXT devid=); gwmod makes a Discovered record;
 *  2. the device browses _gwmo._tcp, finds the gateway's local bootstrap server in its TXT,
 *     GETs its bootstrap (seed 004 §8.x.2: not trusted, lapses unless a session follows);
 *  3. it opens its DM session with the account it was given and registers: the record is
 *     Attached, Trusted false, and the DM Server hears DeviceAttached;
 *  4. the DM Server runs a Fanout job on it and gets the device's own answer;
 *  5. avahi-daemon is killed and started again: the gateway's publication comes back and a
 *     second device announced afterwards is onboarded the same way.
 * Needs root and network namespaces (skips otherwise, and where avahi-daemon, avahi-utils or
 * dbus-daemon are missing). Every wait is bounded and waits for the event.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "gw-e2e.h"
#include "gw-test-avahi.h"

#define DEVICE_MAN "gwmo test device" /* the reference device's ./DevInfo/Man */
#define ED_BOOTSTRAP "./GwMO/Config/Bootstrap/EDBootstrap"

/* the reference End Device knowing nothing but itself: it announces itself, discovers the
 * gateway, bootstraps, registers in Proxy mode with its notification listener, and answers
 * @notified sessions the gateway notifies it of (after its registration), then exits */
static GSubprocess *
onboarding_device_start(Env *e, const gchar *id, guint notified)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *log = g_strdup_printf("%s/%s.log", e->dir, id);
	g_autofree gchar *tree =
	    g_build_filename(g_getenv("GWMO_TEST_DATA"), "peers", "device-tree.xml", NULL);
	g_autofree gchar *dev_id = g_strdup_printf("--dev-id=%s", id);
	g_autofree gchar *record = g_strdup_printf("--record=%s/%s.json", e->dir, id);
	g_autofree gchar *tree_arg = g_strdup_printf("--tree=%s", tree);
	g_autofree gchar *count = g_strdup_printf("--count=%u", notified);
	const gchar *argv[] = {device_binary,
	                       dev_id,
	                       "--announce",
	                       "--discover",
	                       "--listen-notify=http://127.0.0.1:0",
	                       "--register",
	                       "--mode=2",
	                       count,
	                       record,
	                       tree_arg,
	                       "--verbose",
	                       NULL};
	GSubprocess *proc;

	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	return proc;
}

static gchar *
read_file(const gchar *dir, const gchar *name)
{
	g_autofree gchar *path = g_build_filename(dir, name, NULL);
	gchar *text = NULL;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

/* the record of @id, Attached, waited for; the device's log printed when it does not come */
static gchar *
wait_attached(Env *e, GDBusObjectManager *objects, const gchar *id, GSubprocess *device)
{
	gchar *record = NULL;
	for (guint i = 0; i < 60 * 20 && record == NULL; i++) {
		record = e2e_device_record(objects, "DeviceID", id, "Attached");
		if (record != NULL)
			break;
		/* the device gave up (it exits non-zero at its first failed step) */
		if (g_subprocess_get_identifier(device) == NULL &&
		    !g_subprocess_get_successful(device))
			break;
		g_main_context_iteration(NULL, FALSE);
		g_usleep(50 * 1000);
	}
	if (record == NULL) {
		g_autofree gchar *name = g_strdup_printf("%s.log", id);
		g_autofree gchar *dlog = read_file(e->dir, name);
		g_autofree gchar *glog = gw_test_daemon_read_log(e->d);
		g_printerr("device %s never Attached\n--- its log:\n%s\n--- gwmod's log:\n%s\n",
		           id,
		           dlog,
		           glog);
	}
	g_assert_nonnull(record);
	return record;
}

/* waits until gwmod's log holds @needle */
static void
wait_log(GwTestDaemon *d, const gchar *needle)
{
	for (guint i = 0; i < GW_TEST_AVAHI_WAIT_S * 20; i++) {
		g_autofree gchar *log = gw_test_daemon_read_log(d);
		if (strstr(log, needle) != NULL)
			return;
		g_usleep(50 * 1000);
	}
	{
		g_autofree gchar *log = gw_test_daemon_read_log(d);
		g_printerr("no \"%s\" in gwmod's log:\n%s\n", needle, log);
	}
	g_assert_not_reached();
}

static gchar *
leaf(GwTestDaemon *d, const gchar *record, const gchar *name)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", record, name);
	return get_value(d, uri, NULL);
}

static void
test_onboarding(void)
{
	GwTestAvahi *avahi;
	Env *e;
	g_autoptr(GDBusObjectManager) objects = NULL;
	g_autoptr(GSubprocess) device1 = NULL;
	g_autoptr(GSubprocess) device2 = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autofree gchar *record1 = NULL;
	g_autofree gchar *record2 = NULL;
	g_autofree gchar *server_record = NULL;
	g_autofree gchar *job = NULL;
	g_autofree gchar *targets = NULL;
	g_autofree gchar *script = NULL;
	g_autofree gchar *line = NULL;
	JsonArray *sessions;
	JsonObject *attached;
	const gchar *doc;

	if (!gw_test_avahi_available(TRUE))
		return;
	avahi = gw_test_avahi_new();
	gw_test_avahi_start_bus(avahi);
	gw_test_avahi_start_daemon(avahi);

	/* the gateway: bootstrapped to the DM Server, local bootstrap of announced devices at
	 * once ([southbound] auto-bootstrap) */
	e = env_new_full("auto-bootstrap=true\n", NULL);
	objects = e2e_object_manager(e->d);
	line = gw_test_avahi_browse_wait("_gwmo._tcp", "gwmo GW-TEST-0001");
	g_test_message("the gateway as avahi-browse sees it: %s", line);

	/* the owner's policy, once (D-Bus, as a home-hub app sets it): the gateway may bootstrap
	 * End Devices (EDBootstrap is false from the factory) */
	e2e_set_node_bool(e->d, ED_BOOTSTRAP, TRUE);
	/* the DM Server's next session is the one DEV-ONB-1's DeviceAttached brings, in which it
	 * manages the device through a Fanout job */
	targets = e2e_fanout_device_target("onb", 1, "DEV-ONB-1");
	job = e2e_fanout_job("onb", targets, "Get", "./DevInfo/Man", NULL, NULL, 30);
	script = g_strdup_printf("{\"sessions\":[{\"commands\":[%s]}]}", job);
	server_record = g_build_filename(e->dir, "server.json", NULL);
	server = server_start(e, script, server_record, CL_SECRET, "--sessions=1", NULL);

	/* 1–3: plugged in, nothing typed */
	device1 = onboarding_device_start(e, "DEV-ONB-1", 1);
	record1 = wait_attached(e, objects, "DEV-ONB-1", device1);
	/* gwmod saw its announcement (the record may have been Discovered first, or the device's
	 * GET /bootstrap came before the resolution: either way one record) */
	wait_log(e->d, "mDNS: device 'gwmo-test-device DEV-ONB-1' announced");
	{
		g_autofree gchar *trusted = leaf(e->d, record1, "Trusted");
		g_autofree gchar *mode = leaf(e->d, record1, "Mode");
		g_assert_cmpstr(trusted, ==, "false"); /* a local bootstrap (seed 004 §8.x.2) */
		g_assert_cmpstr(mode, ==, "2");
	}

	/* 4: the DM Server hears of it and manages it through a Fanout job */
	server_wait(server);
	sessions = record_sessions(server_record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 1);
	attached = session_alert(json_array_get_object_element(sessions, 0),
	                         "urn:oma:at:gwmo:1.0:DeviceAttached");
	g_assert_nonnull(attached);
	g_assert_nonnull(strstr(json_object_get_string_member(attached, "data"), "DEV-ONB-1"));
	doc = e2e_fanout_document(json_array_get_object_element(sessions, 0), "onb");
	g_test_message("onb: %s", doc);
	g_assert_nonnull(strstr(doc, "state=\"Complete\" total=\"1\" succeeded=\"1\""));
	g_assert_nonnull(strstr(doc, DEVICE_MAN));
	g_assert_true(g_subprocess_wait_check(device1, NULL, NULL));

	/* 5: avahi-daemon goes away and comes back: the publication returns, and browsing does
	 * (a device announced afterwards is onboarded) */
	gw_test_avahi_stop_daemon(avahi);
	gw_test_avahi_start_daemon(avahi);
	g_free(gw_test_avahi_browse_wait("_gwmo._tcp", "gwmo GW-TEST-0001"));
	device2 = onboarding_device_start(e, "DEV-ONB-2", 1);
	record2 = wait_attached(e, objects, "DEV-ONB-2", device2);
	{
		g_autofree gchar *trusted = leaf(e->d, record2, "Trusted");
		g_assert_cmpstr(trusted, ==, "false");
	}
	/* browsing came back too: gwmod saw the new announcement */
	wait_log(e->d, "mDNS: device 'gwmo-test-device DEV-ONB-2' announced");
	gw_test_avahi_stop_child(&device2);

	g_clear_object(&objects);
	env_free(e);
	gw_test_avahi_free(avahi);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* before any thread */
	gw_test_avahi_enter_netns(NULL);
	if (argc < 3) {
		g_printerr("usage: %s SERVER DEVICE\n", argv[0]);
		return 2;
	}
	server_binary = argv[1];
	device_binary = argv[2];
	g_test_add_func("/e2e/onboarding", test_onboarding);
	return g_test_run();
}
