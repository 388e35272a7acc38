/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The UPnP adapter end to end (issue 12 §4; GwMO-AMoDe-001, GwMO-IOP-001, GwMO-MOO-001 mode 3,
 * use case B.10): in a network namespace of the test's own, the real gwmod loads
 * libgw_plugin_upnp.so from --plugin-dir ([upnp] interfaces=lo), the reference DM Server
 * (tests/peers/gwmo-test-server) is its northbound server, and UPnP devices live on lo:
 *  - /upnp/e2e/light: headless test lights (tests/peers/gwmo-test-light). A light becomes an
 *    inventory record (Protocol UPnP, DeviceID its UDN, Mode 3, DevInfo from its
 *    description); the DM Server's Fanout jobs switch it on (200 in the aggregated result,
 *    and the light itself prints that it was set), read Status and FriendlyName back, and
 *    Get ./DevInfo/Man from a group of an OMA DM Proxy device (tests/peers/gwmo-test-device)
 *    and the light in one job with one aggregated result; the light says ssdp:byebye: its
 *    record is Detached and the server gets DeviceDetached in a session the gateway opens; a
 *    second light is killed (no byebye): Detached once its max-age has run out, the same.
 *  - /upnp/e2e/network-light: the same found, Replace Target and Get Status against Debian's
 *    gupnp-network-light under Xvfb (skipped when either is not installed).
 *  - /upnp/e2e/restart: gwmod stops (its plugin's devices are Detached) and the light leaves
 *    while it is down: the DeviceDetached the stop queued still reaches the server after the
 *    next start.
 * Without root or namespaces both skip.
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
#define DETACHED "urn:oma:at:gwmo:1.0:DeviceDetached"

static gchar *skip_reason;

#define SKIP_WITHOUT_NETNS()                      \
	G_STMT_START                              \
	{                                         \
		if (skip_reason != NULL) {        \
			g_test_skip(skip_reason); \
			return;                   \
		}                                 \
	}                                         \
	G_STMT_END

static gchar *
new_udn(void)
{
	g_autofree gchar *uuid = g_uuid_string_random();

	return g_strdup_printf("uuid:%s", uuid);
}

/* ---- the gateway: gwmod bootstrapped to the DM Server, with the UPnP plugin alone ---- */

typedef struct {
	Env *e;
	gchar *plugins; /* the --plugin-dir: a symlink to the built module */
	GDBusObjectManager *objects;
} Gateway;

static void
gateway_stop(Gateway *gw);
static void
gateway_restart(Gateway *gw);

static Gateway *
gateway_start(void)
{
	Gateway *gw = g_new0(Gateway, 1);
	const gchar *module = g_getenv("GWMO_TEST_UPNP_PLUGIN");
	g_autofree gchar *link = NULL;

	g_assert_nonnull(module);
	/* short lost-delay: a byebye is final within the test's time */
	gw->e = env_new_with_config(
	    "[fanout]\nsync-wait=30\n[upnp]\ninterfaces=lo\nlost-delay-ms=300\n");
	/* no inventory alerts while the devices come: the server hears of the leaves only */
	e2e_set_node_bool(gw->e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", FALSE);
	gw_test_daemon_stop(gw->e->d);
	gw->plugins = g_build_filename(gw->e->dir, "plugins", NULL);
	g_assert_cmpint(g_mkdir(gw->plugins, 0700), ==, 0);
	link = g_build_filename(gw->plugins, "libgw_plugin_upnp.so", NULL);
	g_assert_cmpint(symlink(module, link), ==, 0);
	gateway_restart(gw);
	return gw;
}

/* gwmod stops; the D-Bus view of it goes */
static void
gateway_stop(Gateway *gw)
{
	g_clear_object(&gw->objects);
	gw_test_daemon_stop(gw->e->d);
}

/* gwmod starts (again) with the plugin; the UPnP adapter runs */
static void
gateway_restart(Gateway *gw)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *state = NULL;
	const gchar *args[] = {"--plugin-dir", gw->plugins, NULL};

	gw_test_daemon_start(gw->e->d, args);
	gw->objects = e2e_object_manager(gw->e->d);
	state = get_value(gw->e->d, "./GwMO/Config/Adapters/upnp/State", NULL);
	g_assert_cmpstr(state, ==, "Running");
}

static void
gateway_free(Gateway *gw)
{
	gateway_stop(gw);
	env_free(gw->e);
	g_free(gw->plugins);
	g_free(gw);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Gateway, gateway_free)

static gchar *
record_value(Gateway *gw, const gchar *record, const gchar *leaf)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", record, leaf);

	return get_value(gw->e->d, uri, NULL);
}

/* the record of a UPnP device as the adapter reported it: Mode 3, Attached, DevInfo */
static void
assert_upnp_record(Gateway *gw,
                   const gchar *record,
                   const gchar *udn,
                   const gchar *man,
                   const gchar *mod,
                   const gchar *location)
{
	g_autofree gchar *id = record_value(gw, record, "DeviceID");
	g_autofree gchar *protocol = record_value(gw, record, "Protocol");
	g_autofree gchar *mode = record_value(gw, record, "Mode");
	g_autofree gchar *status = record_value(gw, record, "Status");
	g_autofree gchar *address = record_value(gw, record, "Address");
	g_autofree gchar *dev_man = record_value(gw, record, "DevInfo/Man");
	g_autofree gchar *dev_mod = record_value(gw, record, "DevInfo/Mod");

	g_test_message("%s: %s %s mode %s %s at %s, %s / %s",
	               record,
	               protocol,
	               id,
	               mode,
	               status,
	               address,
	               dev_man,
	               dev_mod);
	g_assert_cmpstr(id, ==, udn);
	g_assert_cmpstr(protocol, ==, "UPnP");
	g_assert_cmpstr(mode, ==, "3");
	g_assert_cmpstr(status, ==, "Attached");
	g_assert_cmpstr(dev_man, ==, man);
	g_assert_cmpstr(dev_mod, ==, mod);
	if (location != NULL)
		g_assert_cmpstr(address, ==, location);
}

/* ---- the DM Server's script ---- */

/* the one DeviceDetached alert of @session: about @udn, Protocol UPnP, Mode 3, Detached */
static void
assert_detached_alert(JsonObject *session, const gchar *udn, const gchar *record)
{
	JsonObject *alert = session_alert(session, DETACHED);
	g_autofree gchar *id = g_strdup_printf("<DeviceID>%s</DeviceID>", udn);
	const gchar *data;

	g_assert_nonnull(alert);
	data = json_object_get_string_member(alert, "data");
	g_test_message("DeviceDetached: %s", data);
	g_assert_cmpstr(json_object_get_string_member(alert, "source"), ==, record);
	g_assert_nonnull(strstr(data, id));
	g_assert_nonnull(strstr(data, "<Protocol>UPnP</Protocol>"));
	g_assert_nonnull(strstr(data, "<Mode>3</Mode>"));
	g_assert_nonnull(strstr(data, "<Status>Detached</Status>"));
}

/* ---- an OMA DM Proxy device (tests/peers/gwmo-test-device) ---- */

static void
process_waited_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	gboolean *done = user_data;

	g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
	*done = TRUE;
}

static gboolean
flag_set(gpointer data)
{
	return *(gboolean *)data;
}

/* its exit status; it exits after its one notified session, which has ended already */
static gint
process_wait(GSubprocess *proc)
{
	gboolean done = FALSE;

	g_subprocess_wait_async(proc, NULL, process_waited_cb, &done);
	g_assert_true(gw_plugin_kit_wait(flag_set, &done, 30));
	return g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
}

/* ---- the headless test lights ---- */

/* what the DM Server reads of a test light's record (NULL: its UDN); DevInfo as the UPnP
 * README maps it from the description (FwV is modelNumber) */
static const gchar *const inventory_leaves[] = {"DeviceID",
                                                "Protocol",
                                                "Mode",
                                                "Status",
                                                "DevInfo/Man",
                                                "DevInfo/Mod",
                                                "DevInfo/FwV",
                                                "DevInfo/DevTyp"};
static const gchar *const inventory_values[] = {NULL,
                                                "UPnP",
                                                "3",
                                                "Attached",
                                                "gwmo test peers",
                                                "gwmo-test-light",
                                                "1.0",
                                                "urn:schemas-upnp-org:device:DimmableLight:1"};

static void
test_light(void)
{
	g_autofree gchar *udn = new_udn();
	g_autofree gchar *udn_killed = new_udn();
	g_autofree gchar *location = NULL;
	g_autofree gchar *record = NULL;
	g_autofree gchar *record_killed = NULL;
	g_autofree gchar *oma_record = NULL;
	g_autofree gchar *server_record = NULL;
	g_autofree gchar *server_record2 = NULL;
	g_autofree gchar *script = NULL;
	g_autofree gchar *set_line = NULL;
	g_autoptr(GwUpnpChild) light = NULL;
	g_autoptr(GwUpnpChild) killed = NULL;
	g_autoptr(Gateway) gw = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GSubprocess) oma = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(JsonParser) parser2 = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) group = NULL;
	const gchar *group_path = NULL;
	JsonArray *sessions;
	JsonObject *session;
	const gchar *doc;
	gint64 t0 = g_get_monotonic_time();
	gint64 t;

	SKIP_WITHOUT_NETNS();
	/* the lights first: gwmod's plugin finds them with its M-SEARCH at start */
	light = gw_upnp_test_light(udn, 1800, &location);
	killed = gw_upnp_test_light(udn_killed, 7, NULL);
	gw = gateway_start();

	/* found: inventory records, Adaptation mode, DevInfo from the description */
	record = e2e_wait_device_record(gw->objects, "DeviceID", udn, "Attached", 30);
	record_killed = e2e_wait_device_record(gw->objects, "DeviceID", udn_killed, "Attached", 30);
	g_test_message("found after %" G_GINT64_FORMAT " ms", (g_get_monotonic_time() - t0) / 1000);
	assert_upnp_record(gw, record, udn, "gwmo test peers", "gwmo-test-light", location);
	assert_upnp_record(
	    gw, record_killed, udn_killed, "gwmo test peers", "gwmo-test-light", NULL);

	/* the mixed group: an OMA DM Proxy device and the light */
	group = gw_test_call(
	    gw->e->d, "CreateGroup", g_variant_new("(ss)", "mixed", ""), "(o)", &error);
	g_assert_no_error(error);
	g_variant_get(group, "(&o)", &group_path);
	oma = e2e_proxy_device_start(gw->e, "live-01", "mixed", 1, &oma_record);
	{
		g_autoptr(GVariant) reply = g_dbus_connection_call_sync(gw->e->d->connection,
		                                                        "org.gwmo.Gateway1",
		                                                        group_path,
		                                                        "org.gwmo.Gateway1.Group",
		                                                        "AddMember",
		                                                        g_variant_new("(s)", udn),
		                                                        NULL,
		                                                        G_DBUS_CALL_FLAGS_NONE,
		                                                        -1,
		                                                        NULL,
		                                                        &error);
		g_assert_no_error(error);
	}
	e2e_wait_registered(gw->e->d, oma_record);

	/* the DM Server: the light switched on in its first session; Status, FriendlyName and
	 * the group's DevInfo/Man in its second; the gateway's session with DeviceDetached */
	{
		g_autofree gchar *r_targets = e2e_fanout_device_target("r", 1, udn);
		g_autofree gchar *s_targets = e2e_fanout_device_target("s", 1, udn);
		g_autofree gchar *f_targets = e2e_fanout_device_target("f", 1, udn);
		g_autofree gchar *m_targets = e2e_fanout_group_target("m", "mixed");
		g_autofree gchar *r = e2e_fanout_job(
		    "r", r_targets, "Replace", "./UPnP/SwitchPower/Target", "int", "1", 20);
		g_autofree gchar *s = e2e_fanout_job(
		    "s", s_targets, "Get", "./UPnP/SwitchPower/Status", NULL, NULL, 20);
		g_autofree gchar *f =
		    e2e_fanout_job("f", f_targets, "Get", "./UPnP/FriendlyName", NULL, NULL, 20);
		g_autofree gchar *m =
		    e2e_fanout_job("m", m_targets, "Get", "./DevInfo/Man", NULL, NULL, 20);
		GString *gets = g_string_new(NULL);
		for (guint i = 0; i < G_N_ELEMENTS(inventory_leaves); i++)
			g_string_append_printf(gets,
			                       ",{\"cmd\":\"Get\",\"uri\":\"%s/%s\"}",
			                       record,
			                       inventory_leaves[i]);
		script = g_strdup_printf("{\"sessions\":[{\"commands\":[%s]},"
		                         "{\"commands\":[%s,%s,%s%s]},{\"commands\":[]}]}",
		                         r,
		                         s,
		                         f,
		                         m,
		                         gets->str);
		g_string_free(gets, TRUE);
	}
	server_record = g_build_filename(gw->e->dir, "record.json", NULL);
	server = server_start(gw->e, script, server_record, CL_SECRET, "--sessions=3", NULL);
	t = g_get_monotonic_time();
	e2e_start_session(gw->e->d);
	g_test_message("session 1 (Replace Target): %" G_GINT64_FORMAT " ms",
	               (g_get_monotonic_time() - t) / 1000);
	/* the light's own word: its SetTarget ran */
	set_line = g_strdup_printf("SET %s Target 1", udn);
	g_assert_nonnull(gw_upnp_child_wait_line(light, 0, set_line, 10, NULL));
	g_assert_cmpuint(gw_upnp_child_count(killed, "SET "), ==, 0);
	t = g_get_monotonic_time();
	e2e_start_session(gw->e->d);
	g_test_message("session 2 (three Gets): %" G_GINT64_FORMAT " ms",
	               (g_get_monotonic_time() - t) / 1000);
	/* the OMA DM device ran its notified session and exits */
	g_assert_cmpint(process_wait(oma), ==, 0);

	/* the light says bye-bye: Detached, and DeviceDetached in a session the gateway opens */
	e2e_set_node_bool(gw->e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", TRUE);
	t = g_get_monotonic_time();
	g_assert_cmpint(gw_upnp_child_stop(light, SIGTERM), ==, 0);
	g_assert_cmpuint(gw_upnp_child_count(light, "BYEBYE"), ==, 1);
	g_free(e2e_wait_device_record(gw->objects, "DeviceID", udn, "Detached", 30));
	g_test_message("Detached %" G_GINT64_FORMAT " ms after SIGTERM",
	               (g_get_monotonic_time() - t) / 1000);
	server_wait(server);

	sessions = record_sessions(server_record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 3);
	session = json_array_get_object_element(sessions, 0);
	doc = e2e_fanout_document(session, "r");
	g_assert_nonnull(
	    strstr(doc, "state=\"Complete\" total=\"1\" succeeded=\"1\" failed=\"0\""));
	{
		g_autofree gchar *item = g_strdup_printf("<Device id=\"%s\" status=\"200\"/>", udn);
		g_assert_nonnull(strstr(doc, item));
	}
	session = json_array_get_object_element(sessions, 1);
	doc = e2e_fanout_document(session, "s");
	g_assert_nonnull(
	    strstr(doc, "state=\"Complete\" total=\"1\" succeeded=\"1\" failed=\"0\""));
	{
		g_autofree gchar *item = g_strdup_printf(
		    "<Device id=\"%s\" status=\"200\"><Data format=\"int\">1</Data></Device>", udn);
		g_assert_nonnull(strstr(doc, item));
	}
	doc = e2e_fanout_document(session, "f");
	{
		g_autofree gchar *item = g_strdup_printf(
		    "<Device id=\"%s\" status=\"200\"><Data format=\"chr\">gwmo test light</Data>",
		    udn);
		g_assert_nonnull(strstr(doc, item));
	}
	/* the DM Server reads the light's record itself */
	for (guint i = 0; i < G_N_ELEMENTS(inventory_leaves); i++) {
		g_autofree gchar *uri = g_strdup_printf("%s/%s", record, inventory_leaves[i]);
		JsonObject *get = result_for(session, "Get", uri);
		JsonArray *items = json_object_get_array_member(get, "items");
		const gchar *want = inventory_values[i] != NULL ? inventory_values[i] : udn;

		g_assert_cmpint(json_object_get_int_member(get, "status"), ==, 200);
		g_assert_cmpuint(json_array_get_length(items), ==, 1);
		g_assert_cmpstr(
		    json_object_get_string_member(json_array_get_object_element(items, 0), "data"),
		    ==,
		    want);
	}
	/* one job, one aggregated result, an item for each kind of device */
	doc = e2e_fanout_document(session, "m");
	g_assert_nonnull(
	    strstr(doc, "state=\"Complete\" total=\"2\" succeeded=\"2\" failed=\"0\""));
	{
		g_autofree gchar *item = g_strdup_printf(
		    "<Device id=\"%s\" status=\"200\"><Data format=\"chr\">gwmo test peers</Data>",
		    udn);
		g_assert_nonnull(strstr(doc, item));
		g_assert_nonnull(strstr(doc,
		                        "<Device id=\"live-01\" status=\"200\"><Data "
		                        "format=\"chr\">gwmo test device</Data>"));
	}
	assert_detached_alert(json_array_get_object_element(sessions, 2), udn, record);
	{
		/* the killed one is still there: only the light that left was reported */
		g_autofree gchar *still = record_value(gw, record_killed, "Status");
		g_assert_cmpstr(still, ==, "Attached");
		g_assert_cmpuint(
		    count_substr(
		        json_object_get_string_member(
		            session_alert(json_array_get_object_element(sessions, 2), DETACHED),
		            "data"),
		        udn_killed),
		    ==,
		    0);
	}

	/* a killed light says nothing: Detached once its max-age has run out (7 s, as
	 * /upnp/plugin/expire: short, and GSSDP re-announces every second within it) */
	server_record2 = g_build_filename(gw->e->dir, "record2.json", NULL);
	g_clear_object(&server);
	server = server_start(gw->e,
	                      "{\"sessions\":[{\"commands\":[]}]}",
	                      server_record2,
	                      CL_SECRET,
	                      "--sessions=1",
	                      NULL);
	t = g_get_monotonic_time();
	gw_upnp_child_stop(killed, SIGKILL);
	g_free(e2e_wait_device_record(gw->objects, "DeviceID", udn_killed, "Detached", 60));
	g_test_message("Detached %" G_GINT64_FORMAT " ms after SIGKILL",
	               (g_get_monotonic_time() - t) / 1000);
	g_assert_cmpuint(gw_upnp_child_count(killed, "BYEBYE"), ==, 0);
	server_wait(server);
	sessions = record_sessions(server_record2, &parser2);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 1);
	assert_detached_alert(
	    json_array_get_object_element(sessions, 0), udn_killed, record_killed);
	g_test_message("whole test: %" G_GINT64_FORMAT " ms", (g_get_monotonic_time() - t0) / 1000);
}

/* gwmod stops (its plugins with it: their devices are Detached) and, while it is down, the
 * light goes too: the server still gets DeviceDetached, from the queue the stop stored, in
 * the session the gateway opens after its next start; the record stays Detached */
static void
test_restart(void)
{
	g_autofree gchar *udn = new_udn();
	g_autoptr(GwUpnpChild) light = NULL;
	g_autoptr(Gateway) gw = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autofree gchar *record = NULL;
	g_autofree gchar *server_record = NULL;
	g_autofree gchar *status = NULL;
	JsonArray *sessions;

	SKIP_WITHOUT_NETNS();
	light = gw_upnp_test_light(udn, 1800, NULL);
	gw = gateway_start();
	record = e2e_wait_device_record(gw->objects, "DeviceID", udn, "Attached", 30);
	e2e_set_node_bool(gw->e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", TRUE);
	gateway_stop(gw);
	g_assert_cmpint(gw_upnp_child_stop(light, SIGTERM), ==, 0);

	server_record = g_build_filename(gw->e->dir, "record.json", NULL);
	server = server_start(gw->e,
	                      "{\"sessions\":[{\"commands\":[]}]}",
	                      server_record,
	                      CL_SECRET,
	                      "--sessions=1",
	                      NULL);
	gateway_restart(gw);
	server_wait(server);
	sessions = record_sessions(server_record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 1);
	assert_detached_alert(json_array_get_object_element(sessions, 0), udn, record);
	status = record_value(gw, record, "Status");
	g_assert_cmpstr(status, ==, "Detached");
}

/* ---- Debian's gupnp-network-light, an independent implementation, under Xvfb ---- */

static void
test_network_light(void)
{
	g_autofree gchar *why_not = NULL;
	g_autoptr(GwUpnpChild) xvfb = NULL;
	g_autoptr(GwUpnpChild) light = NULL;
	g_autoptr(Gateway) gw = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *display = NULL;
	g_autofree gchar *record = NULL;
	g_autofree gchar *udn = NULL;
	g_autofree gchar *leftover = NULL;
	g_autofree gchar *script = NULL;
	g_autofree gchar *server_record = NULL;
	JsonArray *sessions;
	const gchar *doc;

	SKIP_WITHOUT_NETNS();
	xvfb = gw_upnp_test_xvfb(&display, &why_not);
	if (xvfb == NULL) {
		g_test_skip(why_not);
		return;
	}
	gw = gateway_start();
	light = gw_upnp_test_network_light(display);
	/* its UDN is its own: the record is the one UPnP device there is */
	record = e2e_wait_device_record(gw->objects, "Protocol", "UPnP", "Attached", 60);
	udn = record_value(gw, record, "DeviceID");
	g_assert_true(g_str_has_prefix(udn, "uuid:"));
	assert_upnp_record(gw, record, udn, "GUPnP Developers", "Network Light", NULL);
	leftover = g_strdup_printf("/tmp/gupnp-network-light-%s.xml", udn + 5);

	{
		g_autofree gchar *r_targets = e2e_fanout_device_target("r", 1, udn);
		g_autofree gchar *s_targets = e2e_fanout_device_target("s", 1, udn);
		g_autofree gchar *r = e2e_fanout_job(
		    "r", r_targets, "Replace", "./UPnP/SwitchPower/Target", "int", "1", 20);
		g_autofree gchar *s = e2e_fanout_job(
		    "s", s_targets, "Get", "./UPnP/SwitchPower/Status", NULL, NULL, 20);
		script = g_strdup_printf(
		    "{\"sessions\":[{\"commands\":[%s]},{\"commands\":[%s]}]}", r, s);
	}
	server_record = g_build_filename(gw->e->dir, "record.json", NULL);
	server = server_start(gw->e, script, server_record, CL_SECRET, "--sessions=2", NULL);
	e2e_start_session(gw->e->d);
	e2e_start_session(gw->e->d);
	server_wait(server);
	sessions = record_sessions(server_record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 2);
	doc = e2e_fanout_document(json_array_get_object_element(sessions, 0), "r");
	{
		g_autofree gchar *item = g_strdup_printf("<Device id=\"%s\" status=\"200\"/>", udn);
		g_assert_nonnull(strstr(doc, item));
	}
	doc = e2e_fanout_document(json_array_get_object_element(sessions, 1), "s");
	{
		g_autofree gchar *item = g_strdup_printf(
		    "<Device id=\"%s\" status=\"200\"><Data format=\"int\">1</Data></Device>", udn);
		g_assert_nonnull(strstr(doc, item));
	}

	gw_upnp_child_stop(light, SIGTERM);
	g_unlink(leftover);
	/* Xvfb removes its lock file on SIGTERM */
	gw_upnp_child_stop(xvfb, SIGTERM);
}

int
main(int argc, char **argv)
{
	gchar *why_not = NULL;

	/* before anything makes a socket, a bus or a thread */
	if (!gw_upnp_test_enter_netns(&why_not))
		skip_reason = why_not;
	g_test_init(&argc, &argv, NULL);
	if (argc < 3) {
		g_printerr("usage: %s PATH-TO-gwmo-test-server PATH-TO-gwmo-test-device\n",
		           argv[0]);
		return 2;
	}
	server_binary = argv[1];
	device_binary = argv[2];
	if (skip_reason != NULL)
		g_test_message("skipped: %s", skip_reason);
	g_test_add_func("/upnp/e2e/light", test_light);
	g_test_add_func("/upnp/e2e/network-light", test_network_light);
	g_test_add_func("/upnp/e2e/restart", test_restart);
	return g_test_run();
}
