/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * All the adapters together (issue 13 §3; GwMO-AMoDe-001, GwMO-IOP-001, use case B.10): in a
 * network namespace of the test's own, the real gwmod loads the UPnP, Zigbee and TR-069
 * plugins from one --plugin-dir, and End Devices of four protocols live on lo:
 *  - an OMA DM Proxy device (tests/peers/gwmo-test-device),
 *  - a headless UPnP light (tests/peers/gwmo-test-light),
 *  - the zigbee2mqtt bridge emulator's bulb (tests/peers/gwmo-test-zigbee-bridge) behind a real
 *    mosquitto,
 *  - a reference TR-069 CPE (tests/peers/gwmo-test-cpe) whose ACS is gwmod's /cwmp.
 * /adapters/e2e/together: each is an inventory record whose D-Bus Device object and
 * `gwmoctl devices` name its Protocol and its adapter; the reference DM Server runs ONE Fanout
 * job (Get ./DevInfo/Man) over a group of the four and gets one aggregated result with each
 * device's own answer.
 * Without root or namespaces, or without mosquitto, it skips.
 *
 * Arguments: the reference DM Server, the reference End Device.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "gw-e2e.h"
#include "gw-upnp-test.h"

#define DEVICE_IFACE "org.gwmo.Gateway1.Device"
#define OMA_ID "mixed-oma-01"
#define BULB "0x00124b0000000001"
#define CPE_ID "00D09E-TestCPE-MIX1"

static gchar *skip_reason;

typedef struct {
	const gchar *id;
	const gchar *protocol;
	const gchar *adapter;
	const gchar *man; /* ./DevInfo/Man as the device's own protocol tells it */
} Member;

/* the Device object of @id (a new reference), as the ObjectManager signals told us so far */
static GDBusProxy *
device_proxy(GDBusObjectManager *objects, const gchar *id)
{
	GList *list = g_dbus_object_manager_get_objects(objects);
	GDBusProxy *found = NULL;

	for (GList *l = list; l != NULL && found == NULL; l = l->next) {
		GDBusInterface *iface =
		    g_dbus_object_get_interface(G_DBUS_OBJECT(l->data), DEVICE_IFACE);
		g_autofree gchar *v = NULL;

		if (iface == NULL)
			continue;
		v = e2e_proxy_string(G_DBUS_PROXY(iface), "DeviceID");
		if (g_strcmp0(v, id) == 0)
			found = G_DBUS_PROXY(iface);
		else
			g_object_unref(iface);
	}
	g_list_free_full(list, g_object_unref);
	return found;
}

typedef struct {
	guint16 port;
} PortWait;

static gboolean
port_open(gpointer data)
{
	PortWait *w = data;
	g_autoptr(GSocket) s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
	g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) a = g_inet_socket_address_new(lo, w->port);

	return g_socket_connect(s, a, NULL, NULL);
}

static void
link_module(const gchar *dir, const gchar *env, const gchar *file)
{
	const gchar *module = g_getenv(env);
	g_autofree gchar *link = g_build_filename(dir, file, NULL);

	g_assert_nonnull(module);
	g_assert_cmpint(symlink(module, link), ==, 0);
}

static void
test_together(void)
{
	g_autofree gchar *udn = NULL;
	g_autofree gchar *uuid = g_uuid_string_random();
	g_autofree gchar *location = NULL;
	g_autofree gchar *config = NULL;
	g_autofree gchar *mqtt_conf = NULL;
	g_autofree gchar *mqtt_text = NULL;
	g_autofree gchar *mqtt_port_s = NULL;
	g_autofree gchar *plugins = NULL;
	g_autofree gchar *acs = NULL;
	g_autofree gchar *oma_record = NULL;
	g_autofree gchar *server_record = NULL;
	g_autofree gchar *listing = NULL;
	g_autofree gchar *listing_err = NULL;
	g_autoptr(GwUpnpChild) broker = NULL;
	g_autoptr(GwUpnpChild) bridge = NULL;
	g_autoptr(GwUpnpChild) light = NULL;
	g_autoptr(GwUpnpChild) cpe = NULL;
	g_autoptr(GSubprocess) oma = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GDBusObjectManager) objects = NULL;
	g_autoptr(GVariant) group = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *group_path = NULL;
	const gchar *doc;
	JsonArray *sessions;
	guint16 mqtt_port = free_port();
	PortWait pw = {mqtt_port};
	Env *e;

	if (skip_reason != NULL) {
		g_test_skip(skip_reason);
		return;
	}
	udn = g_strdup_printf("uuid:%s", uuid);
	config = g_strdup_printf("[fanout]\nsync-wait=30\n"
	                         "[upnp]\ninterfaces=lo\n"
	                         "[zigbee2mqtt]\nbroker=mqtt://127.0.0.1:%u\n"
	                         "reconnect-min-ms=50\nreconnect-max-ms=300\n"
	                         "[tr069]\nusername=cpe\npassword=cpe-secret\n"
	                         "connection-request-username=acs\n"
	                         "connection-request-password=acs-secret\n",
	                         mqtt_port);
	e = env_new_with_config(config);
	/* the server's sessions are the test's: no inventory alerts */
	e2e_set_node_bool(e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", FALSE);
	gw_test_daemon_stop(e->d);

	/* the Zigbee network: a real broker (it drops to its own user: a readable directory),
	 * the bridge emulator publishing its devices */
	g_chmod(e->dir, 0755);
	mqtt_conf = g_build_filename(e->dir, "mosquitto.conf", NULL);
	mqtt_text = g_strdup_printf("listener %u 127.0.0.1\nallow_anonymous true\n"
	                            "persistence false\nlog_dest stderr\n",
	                            mqtt_port);
	g_assert_true(g_file_set_contents(mqtt_conf, mqtt_text, -1, NULL));
	g_chmod(mqtt_conf, 0644);
	{
		const gchar *argv[] = {"mosquitto", "-c", mqtt_conf, NULL};
		broker = gw_upnp_child_spawn(argv, NULL, &error);
		g_assert_no_error(error);
		if (!e2e_wait(port_open, &pw, 10))
			g_error("mosquitto does not listen on %u", mqtt_port);
	}
	mqtt_port_s = g_strdup_printf("%u", mqtt_port);
	{
		const gchar *argv[] = {
		    g_getenv("GWMO_TEST_ZIGBEE_BRIDGE"), "--port", mqtt_port_s, NULL};
		bridge = gw_upnp_child_spawn(argv, NULL, &error);
		g_assert_no_error(error);
		g_assert_nonnull(gw_upnp_child_wait_line(bridge, 0, "connected", 10, NULL));
	}
	/* the UPnP light */
	light = gw_upnp_test_light(udn, 1800, &location);

	/* gwmod with the three plugins */
	plugins = g_build_filename(e->dir, "plugins", NULL);
	g_assert_cmpint(g_mkdir(plugins, 0700), ==, 0);
	link_module(plugins, "GWMO_TEST_UPNP_PLUGIN", "libgw_plugin_upnp.so");
	link_module(plugins, "GWMO_TEST_ZIGBEE_PLUGIN", "libgw_plugin_zigbee2mqtt.so");
	link_module(plugins, "GWMO_TEST_TR069_PLUGIN", "libgw_plugin_tr069.so");
	{
		const gchar *args[] = {"--plugin-dir", plugins, NULL};
		gw_test_daemon_start(e->d, args);
	}
	objects = e2e_object_manager(e->d);
	for (guint i = 0; i < 3; i++) {
		const gchar *names[] = {"upnp", "zigbee2mqtt", "tr069"};
		g_autofree gchar *uri = g_strdup_printf("./GwMO/Config/Adapters/%s/State", names[i]);
		g_autofree gchar *state = get_value(e->d, uri, NULL);
		g_assert_cmpstr(state, ==, "Running");
	}

	/* the CPE: its ACS is gwmod's southbound listener, path /cwmp */
	acs = g_strdup_printf("http://127.0.0.1:%u/cwmp", e->south_port);
	{
		const gchar *argv[] = {g_getenv("GWMO_TEST_CPE"),
		                       "--acs",
		                       acs,
		                       "--username",
		                       "cpe",
		                       "--password",
		                       "cpe-secret",
		                       "--cr-username",
		                       "acs",
		                       "--cr-password",
		                       "acs-secret",
		                       "--serial",
		                       "MIX1",
		                       "--model",
		                       "tr181",
		                       NULL};
		cpe = gw_upnp_child_spawn(argv, NULL, &error);
		g_assert_no_error(error);
	}

	/* the four records */
	server_record = g_build_filename(e->dir, "record.json", NULL);
	group = gw_test_call(e->d, "CreateGroup", g_variant_new("(ss)", "mixed", ""), "(o)", &error);
	g_assert_no_error(error);
	g_variant_get(group, "(&o)", &group_path);
	oma = e2e_proxy_device_start(e, OMA_ID, "mixed", 1, &oma_record);
	g_free(e2e_wait_device_record(objects, "DeviceID", udn, "Attached", 30));
	g_free(e2e_wait_device_record(objects, "DeviceID", BULB, "Attached", 30));
	g_free(e2e_wait_device_record(objects, "DeviceID", CPE_ID, "Attached", 30));
	g_free(e2e_wait_device_record(objects, "DeviceID", OMA_ID, "Attached", 30));
	e2e_wait_registered(e->d, oma_record);
	e2e_group_add_member(e->d, group_path, udn);
	e2e_group_add_member(e->d, group_path, BULB);
	e2e_group_add_member(e->d, group_path, CPE_ID);

	{
		const Member members[] = {
		    {OMA_ID, "OMA-DM", "omadm", "gwmo test device"},
		    {udn, "UPnP", "upnp", "gwmo test peers"},
		    {BULB, "Zigbee", "zigbee2mqtt", "IKEA"},
		    {CPE_ID, "TR-069", "tr069", "gwmo test"},
		};
		g_autofree gchar *targets = e2e_fanout_group_target("all", "mixed");
		g_autofree gchar *job =
		    e2e_fanout_job("all", targets, "Get", "./DevInfo/Man", NULL, NULL, 20);
		g_autofree gchar *script = g_strdup_printf("{\"sessions\":[{\"commands\":[%s]}]}", job);
		JsonObject *session;

		g_assert_cmpint(
		    gw_test_run_gwmoctl(e->d, &listing, &listing_err, "devices", NULL), ==, 0);
		g_test_message("%s", listing);
		for (guint i = 0; i < G_N_ELEMENTS(members); i++) {
			g_autoptr(GDBusProxy) proxy = device_proxy(objects, members[i].id);
			g_autofree gchar *protocol = e2e_proxy_string(proxy, "Protocol");
			g_autofree gchar *adapter = e2e_proxy_string(proxy, "Adapter");
			g_autofree gchar *line = g_strdup(strstr(listing, members[i].id));
			g_autofree gchar *want_protocol = g_strdup_printf(" %s ", members[i].protocol);
			g_autofree gchar *want_adapter = g_strdup_printf(" %s ", members[i].adapter);

			/* the D-Bus Device object */
			g_assert_cmpstr(protocol, ==, members[i].protocol);
			g_assert_cmpstr(adapter, ==, members[i].adapter);
			/* gwmoctl devices: the device's line names both */
			g_assert_nonnull(line);
			if (strchr(line, '\n') != NULL)
				*strchr(line, '\n') = '\0';
			g_assert_nonnull(strstr(line, want_protocol));
			g_assert_nonnull(strstr(line, want_adapter));
		}

		/* one job over the four protocols, one aggregated result */
		server = server_start(e, script, server_record, CL_SECRET, "--sessions=1", NULL);
		e2e_start_session(e->d);
		server_wait(server);
		sessions = record_sessions(server_record, &parser);
		g_assert_cmpuint(json_array_get_length(sessions), ==, 1);
		session = json_array_get_object_element(sessions, 0);
		/* accepted, and the aggregated result comes as a FanoutComplete alert (within
		 * [fanout] sync-wait: in this same session) */
		g_assert_cmpint(status_of(session, "Exec", "./GwMO/Fanout/all/Operations/Start"),
		                ==,
		                202);
		doc = e2e_fanout_document(session, "all");
		g_assert_nonnull(doc);
		g_test_message("all: %s", doc);
		g_assert_nonnull(
		    strstr(doc, "state=\"Complete\" total=\"4\" succeeded=\"4\" failed=\"0\""));
		g_assert_cmpuint(count_substr(doc, "<Device id="), ==, 4);
		for (guint i = 0; i < G_N_ELEMENTS(members); i++) {
			g_autofree gchar *item = g_strdup_printf(
			    "<Device id=\"%s\" status=\"200\"><Data format=\"chr\">%s</Data>",
			    members[i].id,
			    members[i].man);
			g_assert_nonnull(strstr(doc, item));
		}
	}

	g_clear_object(&objects);
	gw_test_daemon_stop(e->d);
	g_subprocess_force_exit(oma);
	g_subprocess_wait(oma, NULL, NULL);
	gw_upnp_child_stop(cpe, SIGTERM);
	gw_upnp_child_stop(light, SIGTERM);
	gw_upnp_child_stop(bridge, SIGTERM);
	gw_upnp_child_stop(broker, SIGTERM);
	env_free(e);
}

int
main(int argc, char **argv)
{
	g_autofree gchar *mosquitto = g_find_program_in_path("mosquitto");
	gchar *why_not = NULL;

	/* before anything makes a socket, a bus or a thread */
	if (!gw_upnp_test_enter_netns(&why_not))
		skip_reason = why_not;
	else if (mosquitto == NULL)
		skip_reason = g_strdup("no mosquitto broker installed");
	g_test_init(&argc, &argv, NULL);
	if (argc < 3) {
		g_printerr("usage: %s PATH-TO-gwmo-test-server PATH-TO-gwmo-test-device\n", argv[0]);
		return 2;
	}
	server_binary = argv[1];
	device_binary = argv[2];
	if (skip_reason != NULL)
		g_test_message("skipped: %s", skip_reason);
	g_test_add_func("/adapters/e2e/together", test_together);
	return g_test_run();
}
