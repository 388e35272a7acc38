/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Discovered records end to end (issue 14 §4, contract points 3 and 4): the real gwmod,
 * bootstrapped to the reference DM Server, against a real avahi-daemon on a private system bus
 * in a network namespace of the test's own (tests/dbus/gw-test-avahi.h), with avahi-publish and
 * the reference End Device (gwmo-test-device --announce / --discover) as the peers:
 *  - a device announced with avahi-publish, and one announced by gwmo-test-device --announce,
 *    each become a record with Status Discovered (D-Bus Device object, the tree, Summary,
 *    gwmoctl devices); the DM Server receives one DeviceDiscovered alert for each
 *    ([southbound] auto-bootstrap false), with the <GwMODevice> document; a device that
 *    withdraws its announcement loses its record ([discovery] forget-after=0);
 *  - with auto-bootstrap true the record is made and no alert is queued;
 *  - a flood of announcements (more than [discovery] max-discovered, some with invalid TXT)
 *    leaves at most max-discovered Discovered records, none from an invalid TXT, and gwmod
 *    serving (14 devices announced by one gwmo-test-device --announce --count, bound 5;
 *    GWMO_TEST_DISCOVERED_FLOOD=DEVICES:MAX for a bigger one, e.g. 300:256);
 *  - gwmo-test-device --discover prints the bootstrap URL built from gwmod's real
 *    _gwmo._tcp announcement;
 *  - server-decision (GwMO-HLF-005, GwMO-HLF-006): the DM Server that heard DeviceDiscovered
 *    approves the device (it becomes its ServerID) and asks for its own account on it; the
 *    device's GET carries both accounts; a server naming another ServerID, and a second
 *    server later, get 425.
 * Skips without root, network namespaces, avahi-daemon, avahi-utils or dbus-daemon.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "gw-e2e.h"
#include "gw-test-avahi.h"

/* the DM Server's first session: the gateway opens it for the first alert */
#define EMPTY_SCRIPT "{\"sessions\":[{\"commands\":[]},{\"commands\":[]}]}"

static GwTestAvahi *
services_up(void)
{
	GwTestAvahi *s = gw_test_avahi_new();
	gw_test_avahi_start_bus(s);
	gw_test_avahi_start_daemon(s);
	return s;
}

static gchar *
wait_log_for(GwTestDaemon *d, const gchar *needle, guint times, guint timeout_s)
{
	for (guint i = 0; i < timeout_s * 20; i++) {
		gchar *log = gw_test_daemon_read_log(d);
		if (count_substr(log, needle) >= times)
			return log;
		g_free(log);
		g_usleep(50 * 1000);
	}
	{
		g_autofree gchar *log = gw_test_daemon_read_log(d);
		g_printerr("no \"%s\" (x%u) in gwmod's log:\n%s\n", needle, times, log);
	}
	g_assert_not_reached();
}

static gchar *
wait_log(GwTestDaemon *d, const gchar *needle, guint times)
{
	return wait_log_for(d, needle, times, GW_TEST_AVAHI_WAIT_S);
}

/* the reference device with mDNS options only (no --server); stdout into @out_path */
static GSubprocess *
device_mdns(Env *e, const gchar *out_path, const gchar *dev_id, const gchar *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *log = g_build_filename(e->dir, "device-mdns.log", NULL);
	GSubprocess *proc;

	g_ptr_array_add(argv, g_strdup(device_binary));
	g_ptr_array_add(argv, g_strdup_printf("--dev-id=%s", dev_id));
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, g_strdup(args[i]));
	g_ptr_array_add(argv, NULL);
	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stdout_file_path(launcher, out_path);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	return proc;
}

/* waits until @path holds @needle (or the process ended) */
static gchar *
wait_output(GSubprocess *proc, const gchar *path, const gchar *needle)
{
	for (guint i = 0; i < GW_TEST_AVAHI_WAIT_S * 20; i++) {
		gchar *text = NULL;
		if (g_file_get_contents(path, &text, NULL, NULL) && strstr(text, needle) != NULL)
			return text;
		g_free(text);
		if (g_subprocess_get_identifier(proc) == NULL && i > 0)
			break;
		g_usleep(50 * 1000);
	}
	g_printerr("no \"%s\" in %s\n", needle, path);
	g_assert_not_reached();
}

static void
wait_record_gone(GwTestDaemon *d, const gchar *record)
{
	g_autofree gchar *uri = g_strdup_printf("%s/Status", record);
	for (guint i = 0; i < GW_TEST_AVAHI_WAIT_S * 20; i++) {
		g_autofree gchar *error_name = NULL;
		g_autofree gchar *v = get_value(d, uri, &error_name);
		if (v == NULL)
			return;
		g_usleep(50 * 1000);
	}
	g_printerr("%s is still there\n", record);
	g_assert_not_reached();
}

static void
assert_discovered_alert(JsonObject *session, const gchar *dev_id, const gchar *address)
{
	JsonArray *alerts = json_object_get_array_member(session, "generic_alerts");
	g_autofree gchar *want_id = g_strdup_printf("<DeviceID>%s</DeviceID>", dev_id);
	g_autofree gchar *want_addr = g_strdup_printf("<DeviceAddress>%s</DeviceAddress>", address);
	guint n = 0;

	for (guint i = 0; alerts != NULL && i < json_array_get_length(alerts); i++) {
		JsonObject *a = json_array_get_object_element(alerts, i);
		const gchar *doc = json_object_get_string_member(a, "data");
		if (g_strcmp0(json_object_get_string_member(a, "type"),
		              "urn:oma:at:gwmo:1.0:DeviceDiscovered") != 0 ||
		    strstr(doc, want_id) == NULL)
			continue;
		n++;
		g_assert_nonnull(strstr(doc, "<GwMODevice>"));
		g_assert_nonnull(strstr(doc, "<Status>Discovered</Status>"));
		g_assert_nonnull(strstr(doc, "<Protocol>OMA-DM</Protocol>"));
		g_assert_nonnull(strstr(doc, "<GatewayID>GW-TEST-0001</GatewayID>"));
		g_assert_nonnull(strstr(doc, want_addr));
	}
	/* one alert for the record, not one per resolution */
	g_assert_cmpuint(n, ==, 1);
}

/* gwmod's resident memory (kB) and open descriptors, for the log */
static void
report_daemon(GwTestDaemon *d, const gchar *when)
{
	const gchar *pid = g_subprocess_get_identifier(d->daemon);
	g_autofree gchar *status_path = g_strdup_printf("/proc/%s/status", pid);
	g_autofree gchar *fd_path = g_strdup_printf("/proc/%s/fd", pid);
	g_autofree gchar *status = NULL;
	g_autoptr(GDir) dir = g_dir_open(fd_path, 0, NULL);
	const gchar *rss = NULL;
	guint fds = 0;

	if (g_file_get_contents(status_path, &status, NULL, NULL))
		rss = strstr(status, "VmRSS:");
	while (dir != NULL && g_dir_read_name(dir) != NULL)
		fds++;
	g_test_message("gwmod %s: %.*s, %u fds",
	               when,
	               rss != NULL ? (int)strcspn(rss, "\n") : 0,
	               rss != NULL ? rss : "",
	               fds);
}

static void
test_discovered_alert(void)
{
	GwTestAvahi *s;
	Env *e;
	g_autofree gchar *record = NULL;
	g_autofree gchar *server_record = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *text = NULL;
	g_autofree gchar *v = NULL;
	g_autofree gchar *rec1 = NULL;
	g_autofree gchar *rec2 = NULL;
	g_autofree gchar *port_arg = NULL;
	g_autofree gchar *address2 = NULL;
	g_autofree gchar *ctl_out = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GSubprocess) peer = NULL;
	g_autoptr(GSubprocess) device = NULL;
	g_autoptr(GDBusObjectManager) objects = NULL;
	g_autoptr(JsonParser) parser = NULL;
	JsonArray *sessions;
	guint16 port2 = gw_test_free_port();

	if (!gw_test_avahi_available(TRUE))
		return;
	s = services_up();
	e = env_new_with_config("[discovery]\nforget-after=0\n");
	objects = e2e_object_manager(e->d);
	server_record = g_build_filename(e->dir, "server.json", NULL);
	server = server_start(e, EMPTY_SCRIPT, server_record, CL_SECRET, "--sessions=2", NULL);

	/* an independent peer announces a DM-capable device */
	peer = gw_test_avahi_publish(
	    "omadm-dev-1", "_omadm._tcp", "4443", "devid=DEV-MDNS-1", "path=/dm", NULL);
	rec1 = e2e_wait_device_record(
	    objects, "DeviceID", "DEV-MDNS-1", "Discovered", GW_TEST_AVAHI_WAIT_S);
	record = g_strdup_printf("%s/Address", rec1);
	v = get_value(e->d, record, NULL);
	g_assert_cmpstr(v, ==, "127.0.0.1:4443/dm");
	g_clear_pointer(&v, g_free);
	g_free(record);
	record = g_strdup_printf("%s/Protocol", rec1);
	v = get_value(e->d, record, NULL);
	g_assert_cmpstr(v, ==, "OMA-DM");
	g_clear_pointer(&v, g_free);

	/* the reference device announces itself (its own avahi-client) */
	out = g_build_filename(e->dir, "device-announce.out", NULL);
	port_arg = g_strdup_printf("--announce-port=%u", (guint)port2);
	device =
	    device_mdns(e, out, "DEV-MDNS-2", (const gchar *const[]){"--announce", port_arg, NULL});
	text = wait_output(device, out, "announced _omadm._tcp");
	rec2 = e2e_wait_device_record(
	    objects, "DeviceID", "DEV-MDNS-2", "Discovered", GW_TEST_AVAHI_WAIT_S);
	g_free(record);
	record = g_strdup_printf("%s/Address", rec2);
	v = get_value(e->d, record, NULL);
	address2 = g_strdup_printf("127.0.0.1:%u/dm", (guint)port2);
	g_assert_cmpstr(v, ==, address2);
	g_clear_pointer(&v, g_free);

	/* counted as Discovered, not Attached or Detached; gwmoctl shows the status */
	v = get_value(e->d, "./GwMO/Inventory/Summary/Discovered", NULL);
	g_assert_cmpstr(v, ==, "2");
	g_clear_pointer(&v, g_free);
	v = get_value(e->d, "./GwMO/Inventory/Summary/Attached", NULL);
	g_assert_cmpstr(v, ==, "0");
	g_clear_pointer(&v, g_free);
	v = get_value(e->d, "./GwMO/Inventory/Summary/Detached", NULL);
	g_assert_cmpstr(v, ==, "0");
	g_clear_pointer(&v, g_free);
	g_assert_cmpint(gw_test_run_gwmoctl(e->d, &ctl_out, NULL, "devices", NULL), ==, 0);
	g_assert_nonnull(strstr(ctl_out, "DEV-MDNS-2"));
	g_assert_cmpuint(count_substr(ctl_out, "Discovered"), >=, 2);

	/* queued for the DM Server, durably, at once */
	g_free(text);
	text = wait_log(e->d, "recorded as Discovered", 2);
	g_assert_cmpuint(
	    count_substr(text, "(urn:oma:at:gwmo:1.0:DeviceDiscovered) queued for " SERVER_ID),
	    ==,
	    2);

	/* the DM Server heard of each once (two sessions, or one carrying both) */
	server_wait(server);
	sessions = record_sessions(server_record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), >=, 1);
	{
		/* every alert of every session, in one list */
		g_autoptr(JsonObject) all = json_object_new();
		JsonArray *alerts = json_array_new();
		for (guint i = 0; i < json_array_get_length(sessions); i++) {
			JsonArray *a = json_object_get_array_member(
			    json_array_get_object_element(sessions, i), "generic_alerts");
			for (guint j = 0; a != NULL && j < json_array_get_length(a); j++)
				json_array_add_element(
				    alerts, json_node_copy(json_array_get_element(a, j)));
		}
		json_object_set_array_member(all, "generic_alerts", alerts);
		assert_discovered_alert(all, "DEV-MDNS-1", "127.0.0.1:4443/dm");
		assert_discovered_alert(all, "DEV-MDNS-2", address2);
	}

	/* the device withdraws its announcement when it exits: its record goes */
	g_subprocess_send_signal(device, SIGTERM);
	g_assert_true(g_subprocess_wait(device, NULL, NULL));
	g_assert_cmpint(g_subprocess_get_exit_status(device), ==, 0);
	wait_record_gone(e->d, rec2);
	gw_test_avahi_stop_child(&peer);
	wait_record_gone(e->d, rec1);
	g_assert_true(gw_test_daemon_is_running(e->d));

	gw_test_daemon_stop(e->d);
	env_free(e);
	gw_test_avahi_free(s);
}

static void
test_auto_bootstrap(void)
{
	GwTestAvahi *s;
	Env *e;
	g_autoptr(GSubprocess) peer = NULL;
	g_autoptr(GDBusObjectManager) objects = NULL;
	g_autofree gchar *rec = NULL;
	g_autofree gchar *log = NULL;

	if (!gw_test_avahi_available(TRUE))
		return;
	s = services_up();
	e = env_new_full("auto-bootstrap=true\n", NULL);
	objects = e2e_object_manager(e->d);
	peer =
	    gw_test_avahi_publish("omadm-dev-3", "_omadm._tcp", "4443", "devid=DEV-MDNS-3", NULL);
	rec = e2e_wait_device_record(
	    objects, "DeviceID", "DEV-MDNS-3", "Discovered", GW_TEST_AVAHI_WAIT_S);
	/* the alert would have been queued (and logged) in the same signal emission that made
	 * the record, before "recorded as Discovered" was logged */
	log = wait_log(e->d, "recorded as Discovered", 1);
	g_assert_null(strstr(log, "DeviceDiscovered) queued"));
	g_assert_cmpuint(pending_alerts(e->d), ==, 0);
	gw_test_avahi_stop_child(&peer);
	gw_test_daemon_stop(e->d);
	env_free(e);
	gw_test_avahi_free(s);
}

static void
test_flood_and_discover(void)
{
	GwTestAvahi *s;
	Env *e;
	g_autoptr(GPtrArray) peers = g_ptr_array_new();
	g_autoptr(GSubprocess) device = NULL;
	g_autoptr(GSubprocess) flood = NULL;
	g_autofree gchar *flood_out = NULL;
	g_autofree gchar *count_arg = NULL;
	g_autofree gchar *v = NULL;
	g_autofree gchar *log = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *text = NULL;
	g_autofree gchar *want = NULL;
	guint n_valid = 14;
	guint max = 5;
	const gchar *invalid[][2] = {
	    {"bad-none", "path=/dm"},
	    {"bad-space", "devid=a b"},
	    {"bad-path", "devid=BAD-PATH"},
	    {"bad-long", NULL},
	};
	g_autofree gchar *long_devid = NULL;
	g_autofree gchar *long_x = NULL;
	g_autofree gchar *conf = NULL;
	g_autofree gchar *want_count = NULL;
	g_autofree gchar *want_refused = NULL;
	const gchar *size = g_getenv("GWMO_TEST_DISCOVERED_FLOOD");

	if (!gw_test_avahi_available(TRUE))
		return;
	/* the full-size form on demand: GWMO_TEST_DISCOVERED_FLOOD=DEVICES:MAX (e.g. 300:256;
	 * announced by one gwmo-test-device process) */
	if (size != NULL && sscanf(size, "%u:%u", &n_valid, &max) != 2)
		g_error("GWMO_TEST_DISCOVERED_FLOOD is DEVICES:MAX, not %s", size);
	g_assert_cmpuint(max, <, n_valid);
	conf = g_strdup_printf("[discovery]\nmax-discovered=%u\n", max);
	want_count = g_strdup_printf("%u", max);
	want_refused = g_strdup_printf("not recorded: %u Discovered records already", max);
	s = services_up();
	e = env_new_with_config(conf);

	report_daemon(e->d, "before the flood");
	/* a hostile LAN: more devices than the bound (one avahi client announcing them all: the
	 * private bus takes 256 connections of a user), and invalid TXT records */
	flood_out = g_build_filename(e->dir, "device-flood.out", NULL);
	count_arg = g_strdup_printf("--count=%u", n_valid);
	flood = device_mdns(
	    e,
	    flood_out,
	    "FLOOD-%03u",
	    (const gchar *const[]){"--announce", "--announce-port=4443", count_arg, NULL});
	g_free(wait_output(flood, flood_out, "announced _omadm._tcp"));
	long_x = g_strnfill(200, 'x');
	long_devid = g_strconcat("devid=", long_x, NULL);
	invalid[3][1] = long_devid;
	for (guint i = 0; i < G_N_ELEMENTS(invalid); i++)
		g_ptr_array_add(peers,
		                gw_test_avahi_publish(invalid[i][0],
		                                      "_omadm._tcp",
		                                      "4443",
		                                      invalid[i][1],
		                                      i == 2 ? "path=dm?x" : NULL,
		                                      NULL));
	/* every one resolved by gwmod (GwDiscovery logs each once); avahi-daemon probes each
	 * name before it announces it */
	g_free(wait_log_for(e->d,
	                    "announced at",
	                    n_valid + G_N_ELEMENTS(invalid),
	                    GW_TEST_AVAHI_WAIT_S + n_valid / 5));
	v = get_value(e->d, "./GwMO/Inventory/Summary/Discovered", NULL);
	g_assert_cmpstr(v, ==, want_count);
	g_clear_pointer(&v, g_free);
	v = get_value(e->d, "./GwMO/Inventory/Summary/Total", NULL);
	g_assert_cmpstr(v, ==, want_count);
	g_clear_pointer(&v, g_free);
	/* read after the bus calls: what the last announcement caused is in */
	log = gw_test_daemon_read_log(e->d);
	g_assert_nonnull(strstr(log, "ignored: no devid= in its TXT"));
	g_assert_nonnull(strstr(log, "ignored: devid= is not"));
	g_assert_nonnull(strstr(log, "ignored: path= is not"));
	g_assert_nonnull(strstr(log, want_refused));
	/* none of the invalid ones is in the tree */
	for (guint i = 1; i <= max; i++) {
		g_autofree gchar *uri = g_strdup_printf("./GwMO/Inventory/Devices/%u/DeviceID", i);
		g_autofree gchar *id = get_value(e->d, uri, NULL);
		g_assert_nonnull(id);
		g_assert_true(g_str_has_prefix(id, "FLOOD-"));
	}
	g_assert_true(gw_test_daemon_is_running(e->d));
	report_daemon(e->d, "after the flood");

	/* the reference device finds the gateway's local bootstrap server */
	out = g_build_filename(e->dir, "device-discover.out", NULL);
	device = device_mdns(e, out, "DEV-X", (const gchar *const[]){"--discover", NULL});
	g_assert_true(g_subprocess_wait(device, NULL, NULL));
	g_assert_cmpint(g_subprocess_get_exit_status(device), ==, 0);
	g_assert_true(g_file_get_contents(out, &text, NULL, NULL));
	want = g_strdup_printf("bootstrap-url http://127.0.0.1:%u/bootstrap?dev=DEV-X\n",
	                       (guint)e->south_port);
	g_assert_cmpstr(text, ==, want);

	for (guint i = 0; i < peers->len; i++) {
		GSubprocess *p = g_ptr_array_index(peers, i);
		gw_test_avahi_stop_child(&p);
	}
	gw_test_avahi_stop_child(&flood);
	gw_test_daemon_stop(e->d);
	env_free(e);
	gw_test_avahi_free(s);
}

/* ---- a DM Server's decision (issue 14 §4) and GwMO-HLF-006 before the device's GET ---- */

#define SERVER2_ID "srv2.example"
#define EXEC_1 "./GwMO/Inventory/Devices/1/Operations/Bootstrap"

/* the gateway gets an account of a second DM Server (the owner's D-Bus Bootstrap) */
static void
add_second_server(Env *e, guint16 port)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *tnds = g_strdup_printf(
	    "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>"
	    "<Node><NodeName>srv2</NodeName><Path>./DMAcc</Path>"
	    "<RTProperties><ACL>Get=" SERVER2_ID "&amp;Replace=" SERVER2_ID
	    "</ACL><Format><node/></Format></RTProperties>"
	    "<Node><NodeName>AppID</NodeName><Value>w7</Value></Node>"
	    "<Node><NodeName>ServerID</NodeName><Value>" SERVER2_ID "</Value></Node>"
	    "<Node><NodeName>AppAddr</NodeName><Node><NodeName>1</NodeName>"
	    "<Node><NodeName>Addr</NodeName><Value>https://127.0.0.1:%u/dm</Value></Node>"
	    "<Node><NodeName>AddrType</NodeName><Value>URI</Value></Node></Node></Node>"
	    "<Node><NodeName>AppAuth</NodeName>"
	    "<Node><NodeName>1</NodeName>"
	    "<Node><NodeName>AAuthLevel</NodeName><Value>CLCRED</Value></Node>"
	    "<Node><NodeName>AAuthType</NodeName><Value>DIGEST</Value></Node>"
	    "<Node><NodeName>AAuthName</NodeName><Value>gateway-2</Value></Node>"
	    "<Node><NodeName>AAuthSecret</NodeName><Value>client-secret-2</Value></Node></Node>"
	    "<Node><NodeName>2</NodeName>"
	    "<Node><NodeName>AAuthLevel</NodeName><Value>SRVCRED</Value></Node>"
	    "<Node><NodeName>AAuthType</NodeName><Value>DIGEST</Value></Node>"
	    "<Node><NodeName>AAuthName</NodeName><Value>" SERVER2_ID "</Value></Node>"
	    "<Node><NodeName>AAuthSecret</NodeName><Value>srv-secret-2</Value></Node>"
	    "</Node></Node></Node></MgmtTree>",
	    (guint)port);
	reply =
	    gw_test_call(e->d, "Bootstrap", g_variant_new("(sss)", tnds, ".", ""), "()", &error);
	g_assert_no_error(error);
}

/* the reference DM Server as that second server */
static GSubprocess *
server2_start(Env *e, guint16 port, const gchar *script, const gchar *record)
{
	const gchar *identity[] = {"--server-id=" SERVER2_ID,
	                           "--server-name=" SERVER2_ID,
	                           "--server-secret=srv-secret-2",
	                           "--client-name=gateway-2",
	                           "--client-secret=client-secret-2",
	                           "--auth=md5",
	                           "--sessions=1",
	                           NULL};
	return e2e_server_start_as(e, "2", port, script, record, identity);
}

/* the statuses of @session's commands @cmd on @uri, in order ("425,200") */
static gchar *
statuses(JsonObject *session, const gchar *cmd, const gchar *uri)
{
	JsonArray *results = json_object_get_array_member(session, "results");
	GString *out = g_string_new(NULL);

	for (guint i = 0; results != NULL && i < json_array_get_length(results); i++) {
		JsonObject *r = json_array_get_object_element(results, i);
		if (g_strcmp0(json_object_get_string_member(r, "cmd"), cmd) != 0 ||
		    g_strcmp0(json_object_get_string_member(r, "uri"), uri) != 0)
			continue;
		g_string_append_printf(out,
		                       "%s%" G_GINT64_FORMAT,
		                       out->len > 0 ? "," : "",
		                       json_object_get_int_member(r, "status"));
	}
	return g_string_free(out, FALSE);
}

static void
wait_value(GwTestDaemon *d, const gchar *uri, const gchar *want)
{
	for (guint i = 0; i < GW_TEST_AVAHI_WAIT_S * 20; i++) {
		g_autofree gchar *v = get_value(d, uri, NULL);
		if (g_strcmp0(v, want) == 0)
			return;
		g_usleep(50 * 1000);
	}
	{
		g_autofree gchar *log = gw_test_daemon_read_log(d);
		g_printerr("%s never became %s; gwmod's log:\n%s\n", uri, want, log);
	}
	g_assert_not_reached();
}

/*
 * GwMO-HLF-005 and GwMO-HLF-006, auto-bootstrap off: a device announced over mDNS →
 * DeviceDiscovered at srv1 → srv1's Exec of Operations/Bootstrap in that session (naming another
 * server first: 425, nothing changed) approves it, makes srv1 its ServerID and asks for srv1's
 * account on the device → the device's GET is answered trusted with two Adds (the gateway's,
 * srv1's), it registers, srv1 hears DeviceAttached; a second server's Exec afterwards: 425
 */
static void
test_server_decision(void)
{
	GwTestAvahi *s;
	Env *e;
	g_autoptr(GSubprocess) peer = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GSubprocess) server2 = NULL;
	g_autoptr(GSubprocess) device = NULL;
	g_autoptr(GDBusObjectManager) objects = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(JsonParser) parser2 = NULL;
	g_autofree gchar *rec = NULL;
	g_autofree gchar *script = NULL;
	g_autofree gchar *server_record = NULL;
	g_autofree gchar *server2_record = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *url = NULL;
	g_autofree gchar *boot_arg = NULL;
	g_autofree gchar *got = NULL;
	g_autofree gchar *v = NULL;
	g_autofree gchar *err = NULL;
	g_autofree gchar *log = NULL;
	g_autofree gchar *want = NULL;
	JsonArray *sessions;
	JsonObject *first = NULL;
	gboolean attached = FALSE;
	guint16 port2 = gw_test_free_port();

	if (!gw_test_avahi_available(TRUE))
		return;
	s = services_up();
	e = env_new();
	objects = e2e_object_manager(e->d);
	e2e_set_node_bool(e->d, "./GwMO/Config/Bootstrap/EDBootstrap", TRUE);
	/* srv1's session of the DeviceDiscovered alert decides; its next one is DeviceAttached's */
	script = g_strdup(
	    "{\"sessions\":[{\"commands\":["
	    "{\"cmd\":\"Exec\",\"uri\":\"" EXEC_1 "\",\"data\":\"server=" SERVER2_ID
	    "&name=n&secret=s&server-secret=t\"},"
	    "{\"cmd\":\"Exec\",\"uri\":\"" EXEC_1 "\",\"data\":\"server=" SERVER_ID
	    "&name=dec-at-srv1&secret=dec-dev-secret-1&server-secret=dec-srv-secret-1\"}]},"
	    "{\"commands\":[]}]}");
	server_record = g_build_filename(e->dir, "server.json", NULL);
	server = server_start(e, script, server_record, CL_SECRET, "--sessions=2", NULL);

	peer = gw_test_avahi_publish(
	    "omadm-dec-1", "_omadm._tcp", "4443", "devid=DEV-DEC-1", "path=/dm", NULL);
	rec = e2e_wait_device_record(
	    objects, "DeviceID", "DEV-DEC-1", "Discovered", GW_TEST_AVAHI_WAIT_S);
	g_assert_cmpstr(rec, ==, "./GwMO/Inventory/Devices/1");
	/* srv1 decided: it manages the record now */
	wait_value(e->d, "./GwMO/Inventory/Devices/1/ServerIDs/1", SERVER_ID);

	/* the device's GET: trusted, with srv1's account beside the gateway's */
	url = g_strdup_printf("http://127.0.0.1:%u/bootstrap?dev=DEV-DEC-1", (guint)e->south_port);
	boot_arg = g_strdup_printf("--bootstrap=%s", url);
	out = g_build_filename(e->dir, "device-dec.out", NULL);
	device =
	    device_mdns(e, out, "DEV-DEC-1", (const gchar *const[]){boot_arg, "--register", NULL});
	g_assert_true(g_subprocess_wait(device, NULL, NULL));
	g_assert_true(g_file_get_contents(out, &got, NULL, NULL));
	g_test_message("the device: %s", got);
	g_assert_cmpint(g_subprocess_get_exit_status(device), ==, 0);
	g_assert_nonnull(strstr(got, "BOOTSTRAP 200 "));
	g_assert_nonnull(strstr(got, ", trusted"));
	g_assert_nonnull(strstr(got, "DMACC gwmo-GW-TEST-0001 ServerID GW-TEST-0001 Addr http://"));
	/* no addr= in the Data: the AppAddr of the gateway's own account of srv1 */
	want = g_strdup_printf(
	    "DMACC " SERVER_ID " ServerID " SERVER_ID " Addr %s Name dec-at-srv1", e->dm_url);
	g_assert_nonnull(strstr(got, want));
	wait_value(e->d, "./GwMO/Inventory/Devices/1/Status", "Attached");
	v = get_value(e->d, "./GwMO/Inventory/Devices/1/Trusted", NULL);
	g_assert_cmpstr(v, ==, "true");
	g_clear_pointer(&v, g_free);
	/* the request is gone from the record once the message carried it */
	v = get_value(e->d, "./GwMO/Inventory/Devices/1/Credentials/ServerAccounts", &err);
	g_assert_cmpstr(err, ==, "org.gwmo.Gateway1.Error.NotFound");
	g_clear_pointer(&err, g_free);

	/* srv1: DeviceDiscovered, its Execs (425 for another server, then 200), DeviceAttached */
	server_wait(server);
	sessions = record_sessions(server_record, &parser);
	for (guint i = 0; i < json_array_get_length(sessions); i++) {
		JsonObject *session = json_array_get_object_element(sessions, i);
		JsonObject *a = session_alert(session, "urn:oma:at:gwmo:1.0:DeviceAttached");
		if (first == NULL && session_alert(session, "urn:oma:at:gwmo:1.0:DeviceDiscovered"))
			first = session;
		if (a != NULL && strstr(json_object_get_string_member(a, "data"),
		                        "<DeviceID>DEV-DEC-1<") != NULL)
			attached = TRUE;
	}
	g_assert_nonnull(first);
	g_free(v);
	v = statuses(first, "Exec", EXEC_1);
	g_assert_cmpstr(v, ==, "425,200");
	g_assert_true(attached);

	/* a second server, later: the device is srv1's; its Exec is refused */
	add_second_server(e, port2);
	server2_record = g_build_filename(e->dir, "server2.json", NULL);
	server2 = server2_start(e,
	                        port2,
	                        "{\"sessions\":[{\"commands\":[{\"cmd\":\"Exec\",\"uri\":\"" EXEC_1
	                        "\"}]}]}",
	                        server2_record);
	e2e_start_session_with(e->d, SERVER2_ID);
	server_wait(server2);
	sessions = record_sessions(server2_record, &parser2);
	g_clear_pointer(&v, g_free);
	v = statuses(json_array_get_object_element(sessions, 0), "Exec", EXEC_1);
	g_assert_cmpstr(v, ==, "425");
	g_clear_pointer(&v, g_free);
	v = get_value(e->d, "./GwMO/Inventory/Devices/1/ServerIDs/2", &err);
	g_assert_cmpstr(err, ==, "org.gwmo.Gateway1.Error.NotFound");

	log = gw_test_daemon_read_log(e->d);
	g_assert_nonnull(strstr(log, SERVER_ID " approved the bootstrap of device DEV-DEC-1"));
	g_assert_nonnull(strstr(log, "a Discovered device, and manages it"));
	g_assert_null(strstr(log, "dec-dev-secret-1"));
	g_assert_null(strstr(log, "dec-srv-secret-1"));
	gw_test_avahi_stop_child(&peer);
	gw_test_daemon_stop(e->d);
	env_free(e);
	gw_test_avahi_free(s);
}

int
main(int argc, char **argv)
{
	g_autofree gchar *why_not = NULL;

	g_test_init(&argc, &argv, NULL);
	/* before any thread; gw_test_avahi_available() says whether it worked */
	gw_test_avahi_enter_netns(&why_not);
	if (argc < 3) {
		g_printerr("usage: %s PATH-TO-gwmo-test-server PATH-TO-gwmo-test-device\n",
		           argv[0]);
		return 2;
	}
	server_binary = argv[1];
	device_binary = argv[2];
	g_test_add_func("/gw/e2e/discovered/alert", test_discovered_alert);
	g_test_add_func("/gw/e2e/discovered/auto-bootstrap", test_auto_bootstrap);
	g_test_add_func("/gw/e2e/discovered/flood-and-discover", test_flood_and_discover);
	g_test_add_func("/gw/e2e/discovered/server-decision", test_server_decision);
	return g_test_run();
}
