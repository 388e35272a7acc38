/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Zigbee adapter end to end (issue 13 §1; GwMO-AMoDe-001, GwMO-IOP-001, use case B.10): the
 * real gwmod loads libgw_plugin_zigbee2mqtt.so alone from --plugin-dir, a real mosquitto
 * broker listens on 127.0.0.1 (a private configuration), tests/peers/gwmo-test-zigbee-bridge
 * is the zigbee2mqtt bridge on it (a bulb, a plug, a temperature sensor), and the reference DM
 * Server (tests/peers/gwmo-test-server) is the gateway's northbound server:
 *  - /zigbee/e2e/found: the three devices become inventory records (Protocol Zigbee, DeviceID
 *    the IEEE address, Mode 3, Attached, DevInfo Man/Mod from the definition) and the DM Server
 *    receives a DeviceAttached alert for each;
 *  - /zigbee/e2e/fanout: the DM Server's Fanout jobs to a group of the three and an OMA DM
 *    Proxy device (tests/peers/gwmo-test-device): one aggregated result each, with every
 *    device's status: Get ./DevInfo/Man (4 x 200), Get ./Zigbee/Exposes/linkquality (3 x 200,
 *    404 from the OMA DM device, whose tree has no such node), Replace of the bulb's and the
 *    plug's state (200 once their state confirms it; read back in the next session), Replace
 *    of the read-only linkquality expose: 405 Command not allowed (its DDF access type is Get
 *    only: the gateway answers it from the tree the adapter declared, nothing is published);
 *  - /zigbee/e2e/ota: Exec ./Zigbee/Operations/OTAUpdate from the DM Server: the bulb's bridge
 *    response "ok" is 200, the plug's "No image currently available" is 500 with that text as
 *    the result's Data, the sensor (no OTA in its definition) 404;
 *  - /zigbee/e2e/broker-away: mosquitto is killed while a Get waits for a muted bulb: the job
 *    ends with 408 at once (not at its 20 s timeout), the log says the broker was lost, the
 *    records are Detached, gwmod answers D-Bus and a job to the OMA DM device (200) while the
 *    Zigbee devices answer 410; mosquitto restarted on the same port: the adapter reconnects
 *    (back-off 50-300 ms), the same records are Attached again and a Get answers 200;
 *  - /zigbee/e2e/malformed: the bridge publishes on every topic the adapter reads a payload
 *    over max-message-size, 256 KiB of nesting, truncated JSON and JSON of the wrong types:
 *    gwmod keeps serving, no record changes Status, the devices answer jobs, the drops are
 *    logged.
 * The cases share one gateway, broker and bridge, built by the first that runs (each runs alone
 * too). Everything waits for events (D-Bus signals, the children's lines, the log, the server's
 * record), bounded. Skipped when mosquitto is not installed.
 *
 * Arguments: the reference DM Server, the reference End Device.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "gw-e2e.h"

#define DEVICE_IFACE "org.gwmo.Gateway1.Device"
#define ATTACHED "urn:oma:at:gwmo:1.0:DeviceAttached"
#define OMA_ID "live-01"

#define BULB "0x00124b0000000001"
#define PLUG "0x00124b0000000002"
#define SENSOR "0x00124b0000000003"

static const gchar *const ieees[] = {BULB, PLUG, SENSOR};
static const gchar *const vendors[] = {"IKEA", "Innr", "Aqara"};
static const gchar *const models[] = {"LED1545G12", "SP 120", "WSDCGQ11LM"};
static const gchar *const lqis[] = {"120", "90", "60"};

static gchar *skip_reason;

/* ---- waiting ---- */

/* ---- child processes whose stdout lines are collected: mosquitto, the bridge ---- */

typedef struct {
	GSubprocess *process;
	GDataInputStream *out;
	GOutputStream *in;
	GCancellable *cancellable;
	GPtrArray *lines;
} Child;

static void
child_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Child *child = user_data;
	gchar *line =
	    g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(source), res, NULL, NULL);

	if (line == NULL)
		return; /* EOF or cancelled: the child may be freed already */
	g_ptr_array_add(child->lines, line);
	g_data_input_stream_read_line_async(
	    child->out, G_PRIORITY_DEFAULT, child->cancellable, child_read_cb, child);
}

static Child *
child_spawn(const gchar *const *argv, gboolean pipes, const gchar *log)
{
	g_autoptr(GError) error = NULL;
	Child *child = g_new0(Child, 1);
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
	    pipes ? G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDIN_PIPE
	          : G_SUBPROCESS_FLAGS_STDOUT_SILENCE);

	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	if (log != NULL)
		g_subprocess_launcher_set_stderr_file_path(launcher, log);
	child->process = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	child->cancellable = g_cancellable_new();
	child->lines = g_ptr_array_new_with_free_func(g_free);
	if (pipes) {
		child->in = g_subprocess_get_stdin_pipe(child->process);
		child->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(child->process));
		g_data_input_stream_read_line_async(
		    child->out, G_PRIORITY_DEFAULT, child->cancellable, child_read_cb, child);
	}
	return child;
}

static void
child_stop(Child *child, gint signum)
{
	if (child == NULL)
		return;
	g_cancellable_cancel(child->cancellable);
	g_subprocess_send_signal(child->process, signum);
	g_subprocess_wait(child->process, NULL, NULL);
	g_clear_object(&child->out);
	g_object_unref(child->process);
	g_object_unref(child->cancellable);
	g_ptr_array_unref(child->lines);
	g_free(child);
}

typedef struct {
	Child *child;
	guint from;
	const gchar *line;
} LineWait;

static gboolean
line_seen(gpointer data)
{
	LineWait *w = data;

	for (guint i = w->from; i < w->child->lines->len; i++) {
		if (g_strcmp0(g_ptr_array_index(w->child->lines, i), w->line) == 0)
			return TRUE;
	}
	return FALSE;
}

static void
wait_line(Child *child, guint from, const gchar *line, guint timeout_s)
{
	LineWait w = {child, from, line};

	if (!e2e_wait(line_seen, &w, timeout_s))
		g_error("no line \"%s\" in %u s", line, timeout_s);
}

/* sends @cmd to the bridge and waits for its "ok" */
static void
bridge_command(Child *bridge, const gchar *cmd)
{
	g_autofree gchar *line = g_strdup_printf("%s\n", cmd);
	g_autofree gchar *verb = g_strndup(cmd, strcspn(cmd, " "));
	g_autofree gchar *ok = g_strdup_printf("ok %s", verb);
	guint from = bridge->lines->len;

	g_assert_true(g_output_stream_write_all(bridge->in, line, strlen(line), NULL, NULL, NULL));
	wait_line(bridge, from, ok, 10);
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

/* ---- the world: broker, bridge, gwmod with the Zigbee adapter alone, an OMA DM device ---- */

typedef struct {
	Env *e;
	gchar *plugins; /* the --plugin-dir: a symlink to the built module */
	GDBusObjectManager *objects;
	guint status_changes; /* PropertiesChanged of a Device's Status, ever */
	guint16 mqtt_port;
	gchar *mqtt_conf;
	gchar *mqtt_log;
	Child *broker;
	Child *bridge;
	gchar *records[3];      /* of bulb, plug, sensor */
	gchar *attached_record; /* the DM Server's record of the sessions DeviceAttached brought */
	GSubprocess *oma;
	gchar *oma_record;
} World;

static World *world;

static void
broker_start(World *w)
{
	const gchar *argv[] = {"mosquitto", "-c", w->mqtt_conf, NULL};
	PortWait p = {w->mqtt_port};

	w->broker = child_spawn(argv, FALSE, w->mqtt_log);
	if (!e2e_wait(port_open, &p, 10))
		g_error("mosquitto does not listen on %u", w->mqtt_port);
}

static void
on_properties_changed(GDBusObjectManagerClient *manager,
                      GDBusObjectProxy *object,
                      GDBusProxy *proxy,
                      GVariant *changed,
                      GStrv invalidated,
                      gpointer user_data)
{
	World *w = user_data;
	g_autoptr(GVariant) status = g_variant_lookup_value(changed, "Status", NULL);

	if (status != NULL && g_strcmp0(g_dbus_proxy_get_interface_name(proxy), DEVICE_IFACE) == 0)
		w->status_changes++;
}

typedef struct {
	World *w;
	const gchar *status;
	gchar *found[3];
} RecordsWait;

static gboolean
records_seen(gpointer data)
{
	RecordsWait *r = data;
	gboolean all = TRUE;

	for (guint i = 0; i < G_N_ELEMENTS(ieees); i++) {
		if (r->found[i] == NULL)
			r->found[i] =
			    e2e_device_record(r->w->objects, "DeviceID", ieees[i], r->status);
		all = all && r->found[i] != NULL;
	}
	return all;
}

/* waits (InterfacesAdded, PropertiesChanged) until the three Zigbee devices have Status
 * @status; their records in @out (nullable) */
static void
wait_records(World *w, const gchar *status, gchar **out)
{
	RecordsWait r = {w, status, {NULL}};
	gint64 t0 = g_get_monotonic_time();

	if (!e2e_wait(records_seen, &r, 30))
		g_error("the Zigbee devices are not all %s in 30 s", status);
	g_test_message("all three %s after %" G_GINT64_FORMAT " ms",
	               status,
	               (g_get_monotonic_time() - t0) / 1000);
	for (guint i = 0; i < G_N_ELEMENTS(ieees); i++) {
		if (out != NULL)
			out[i] = r.found[i];
		else
			g_free(r.found[i]);
	}
}

typedef struct {
	const gchar *path;
	guint want;
} AlertsWait;

/* how many distinct Zigbee devices the DeviceAttached alerts of the record at @path name */
static guint
attached_alerts(const gchar *path)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonArray *sessions;
	gboolean seen[3] = {FALSE};
	guint n = 0;

	if (!json_parser_load_from_file(parser, path, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
		return 0;
	sessions = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)),
	                                        "sessions");
	for (guint s = 0; sessions != NULL && s < json_array_get_length(sessions); s++) {
		JsonArray *alerts = json_object_get_array_member(
		    json_array_get_object_element(sessions, s), "generic_alerts");
		for (guint i = 0; alerts != NULL && i < json_array_get_length(alerts); i++) {
			JsonObject *a = json_array_get_object_element(alerts, i);
			const gchar *data =
			    json_object_get_string_member_with_default(a, "data", "");
			if (g_strcmp0(json_object_get_string_member(a, "type"), ATTACHED) != 0)
				continue;
			for (guint k = 0; k < G_N_ELEMENTS(ieees); k++) {
				g_autofree gchar *id =
				    g_strdup_printf("<DeviceID>%s</DeviceID>", ieees[k]);
				if (!seen[k] && strstr(data, id) != NULL &&
				    strstr(data, "<Protocol>Zigbee</Protocol>") != NULL &&
				    strstr(data, "<Mode>3</Mode>") != NULL &&
				    strstr(data, "<Status>Attached</Status>") != NULL) {
					seen[k] = TRUE;
					n++;
				}
			}
		}
	}
	return n;
}

static gboolean
alerts_seen(gpointer data)
{
	AlertsWait *a = data;

	return attached_alerts(a->path) >= a->want;
}

static void
gateway_start(World *w)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *state = NULL;
	const gchar *args[] = {"--plugin-dir", w->plugins, NULL};

	gw_test_daemon_start(w->e->d, args);
	w->objects = e2e_object_manager(w->e->d);
	g_signal_connect(
	    w->objects, "interface-proxy-properties-changed", G_CALLBACK(on_properties_changed), w);
	state = get_value(w->e->d, "./GwMO/Config/Adapters/zigbee2mqtt/State", NULL);
	g_assert_cmpstr(state, ==, "Running");
}

/*
 * Builds the world once: mosquitto and the bridge; gwmod bootstrapped to the DM Server, then
 * restarted with the Zigbee adapter alone while the DM Server runs (it records the sessions
 * the DeviceAttached alerts bring); the three records Attached; then the alerts off (the
 * broker phases detach and attach the devices again) and the group "mixed": the three and an
 * OMA DM Proxy device.
 */
static World *
world_get(void)
{
	World *w;
	const gchar *module = g_getenv("GWMO_TEST_ZIGBEE_PLUGIN");
	g_autofree gchar *link = NULL;
	g_autofree gchar *conf = NULL;
	g_autofree gchar *gw_conf = NULL;
	g_autofree gchar *port = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GVariant) group = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *group_path = NULL;
	gint64 t0 = g_get_monotonic_time();

	if (world != NULL)
		return world;
	w = world = g_new0(World, 1);
	g_assert_nonnull(module);
	w->mqtt_port = free_port();
	gw_conf = g_strdup_printf("[fanout]\nsync-wait=30\n[zigbee2mqtt]\n"
	                          "broker=mqtt://127.0.0.1:%u\nreconnect-min-ms=50\n"
	                          "reconnect-max-ms=300\nmax-message-size=1048576\n",
	                          w->mqtt_port);
	w->e = env_new_with_config(gw_conf);
	gw_test_daemon_stop(w->e->d);

	/* mosquitto drops to its own user: its directory must be readable */
	g_chmod(w->e->dir, 0755);
	w->mqtt_conf = g_build_filename(w->e->dir, "mosquitto.conf", NULL);
	w->mqtt_log = g_build_filename(w->e->dir, "mosquitto.log", NULL);
	/* "user": as root it would switch to its own user, which clears the parent-death signal
	 * (child_setup) and leaves it running when the test aborts */
	conf = g_strdup_printf("listener %u 127.0.0.1\nallow_anonymous true\npersistence false\n"
	                       "log_dest stderr\nuser %s\n",
	                       w->mqtt_port,
	                       g_get_user_name());
	g_assert_true(g_file_set_contents(w->mqtt_conf, conf, -1, NULL));
	g_chmod(w->mqtt_conf, 0644);
	broker_start(w);
	port = g_strdup_printf("%u", w->mqtt_port);
	{
		const gchar *argv[] = {g_getenv("GWMO_TEST_ZIGBEE_BRIDGE"), "--port", port, NULL};
		w->bridge = child_spawn(argv, TRUE, NULL);
		wait_line(w->bridge, 0, "connected", 10);
	}

	w->plugins = g_build_filename(w->e->dir, "plugins", NULL);
	g_assert_cmpint(g_mkdir(w->plugins, 0700), ==, 0);
	link = g_build_filename(w->plugins, "libgw_plugin_zigbee2mqtt.so", NULL);
	g_assert_cmpint(symlink(module, link), ==, 0);

	w->attached_record = g_build_filename(w->e->dir, "attached.json", NULL);
	server = server_start(
	    w->e, "{\"sessions\":[{\"commands\":[]}]}", w->attached_record, CL_SECRET, NULL);
	gateway_start(w);
	wait_records(w, "Attached", w->records);
	{
		AlertsWait a = {w->attached_record, G_N_ELEMENTS(ieees)};
		if (!e2e_wait(alerts_seen, &a, 30))
			g_error("the DM Server got DeviceAttached for %u of the 3 devices",
			        attached_alerts(w->attached_record));
	}
	g_subprocess_send_signal(server, SIGTERM);
	g_subprocess_wait(server, NULL, NULL);
	e2e_set_node_bool(w->e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", FALSE);

	group =
	    gw_test_call(w->e->d, "CreateGroup", g_variant_new("(ss)", "mixed", ""), "(o)", &error);
	g_assert_no_error(error);
	g_variant_get(group, "(&o)", &group_path);
	w->oma = e2e_proxy_device_start(w->e, OMA_ID, "mixed", 1000, &w->oma_record);
	for (guint i = 0; i < G_N_ELEMENTS(ieees); i++)
		e2e_group_add_member(w->e->d, group_path, ieees[i]);
	e2e_wait_registered(w->e->d, w->oma_record);
	g_test_message("world ready in %" G_GINT64_FORMAT " ms",
	               (g_get_monotonic_time() - t0) / 1000);
	return w;
}

static void
world_free(void)
{
	World *w = world;

	if (w == NULL)
		return;
	g_clear_object(&w->objects);
	gw_test_daemon_stop(w->e->d);
	if (w->oma != NULL) {
		g_subprocess_force_exit(w->oma);
		g_subprocess_wait(w->oma, NULL, NULL);
		g_object_unref(w->oma);
	}
	child_stop(w->bridge, SIGTERM);
	child_stop(w->broker, SIGTERM);
	for (guint i = 0; i < G_N_ELEMENTS(w->records); i++)
		g_free(w->records[i]);
	g_free(w->oma_record);
	g_free(w->attached_record);
	g_free(w->plugins);
	g_free(w->mqtt_conf);
	g_free(w->mqtt_log);
	env_free(w->e);
	g_free(w);
	world = NULL;
}

static gchar *
record_value(World *w, const gchar *record, const gchar *leaf)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", record, leaf);

	return get_value(w->e->d, uri, NULL);
}

/* ---- the DM Server's script ---- */

/* Targets/Devices/1… of job @name: the NULL-terminated device IDs */
static gchar *
devices_target(const gchar *name, ...)
{
	GString *s = g_string_new(NULL);
	const gchar *id;
	guint n = 0;
	va_list ap;

	va_start(ap, name);
	while ((id = va_arg(ap, const gchar *)) != NULL)
		g_string_append_printf(s,
		                       "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Targets/"
		                       "Devices/%u\",\"data\":\"%s\"},",
		                       name,
		                       ++n,
		                       id);
	va_end(ap);
	return g_string_free(s, FALSE);
}

static void
assert_contains(const gchar *doc, const gchar *needle)
{
	if (strstr(doc, needle) == NULL)
		g_error("\"%s\" is not in %s", needle, doc);
}

/* the job's summary: @total devices, @ok succeeded (State Complete when all did, else
 * PartialFailure) */
static void
assert_summary(const gchar *doc, guint total, guint ok)
{
	g_autofree gchar *s =
	    g_strdup_printf("state=\"%s\" total=\"%u\" succeeded=\"%u\" failed=\"%u\"",
	                    ok == total ? "Complete" : "PartialFailure",
	                    total,
	                    ok,
	                    total - ok);

	assert_contains(doc, s);
}

/* @id's item: @status, with Data @format @data when @data is set */
static void
assert_item(const gchar *doc, const gchar *id, guint status, const gchar *format, const gchar *data)
{
	g_autofree gchar *item =
	    data != NULL
	        ? g_strdup_printf("<Device id=\"%s\" status=\"%u\"><Data format=\"%s\">%s</Data>",
	                          id,
	                          status,
	                          format,
	                          data)
	        : g_strdup_printf("<Device id=\"%s\" status=\"%u\"", id, status);

	assert_contains(doc, item);
}

/* runs the DM Server with @script (one entry per session), has the gateway open that many
 * sessions; the server's record */
static JsonArray *
run_server(World *w, const gchar *script, guint sessions, JsonParser **parser)
{
	g_autofree gchar *record = g_build_filename(w->e->dir, "record.json", NULL);
	g_autofree gchar *n = g_strdup_printf("--sessions=%u", sessions);
	g_autoptr(GSubprocess) server = server_start(w->e, script, record, CL_SECRET, n, NULL);
	JsonArray *all;

	for (guint i = 0; i < sessions; i++) {
		gint64 t = g_get_monotonic_time();
		e2e_start_session(w->e->d);
		g_test_message("session %u: %" G_GINT64_FORMAT " ms",
		               i + 1,
		               (g_get_monotonic_time() - t) / 1000);
	}
	server_wait(server);
	all = record_sessions(record, parser);
	g_assert_cmpuint(json_array_get_length(all), ==, sessions);
	g_unlink(record);
	return all;
}

/* ---- the same through D-Bus (Manager.Fanout, Job.Finished) ---- */

typedef struct {
	gchar *path;
	gchar *doc;
	gint64 started;
	gint64 finished;
} DbusJob;

static void
job_finished_cb(GDBusConnection *c,
                const gchar *sender,
                const gchar *path,
                const gchar *iface,
                const gchar *signal,
                GVariant *params,
                gpointer user_data)
{
	DbusJob *j = user_data;

	if (j->path == NULL || g_strcmp0(path, j->path) != 0 || j->doc != NULL)
		return;
	g_variant_get(params, "(s)", &j->doc);
	j->finished = g_get_monotonic_time();
}

static gboolean
job_done(gpointer data)
{
	return ((DbusJob *)data)->doc != NULL;
}

/* starts a Fanout of @command on @uri to @ids (NULL-terminated), Timeout 20 s */
static guint
dbus_job_start(World *w,
               DbusJob *j,
               const gchar *const *ids,
               const gchar *command,
               const gchar *uri,
               const gchar *format,
               const gchar *data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariantBuilder vb;
	guint sub = g_dbus_connection_signal_subscribe(w->e->d->connection,
	                                               "org.gwmo.Gateway1",
	                                               "org.gwmo.Gateway1.Job",
	                                               "Finished",
	                                               NULL,
	                                               NULL,
	                                               G_DBUS_SIGNAL_FLAGS_NONE,
	                                               job_finished_cb,
	                                               j,
	                                               NULL);

	g_variant_builder_init(&vb, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&vb, "{sv}", "Devices", g_variant_new_strv(ids, -1));
	g_variant_builder_add(&vb, "{sv}", "Command", g_variant_new_string(command));
	g_variant_builder_add(&vb, "{sv}", "TargetURI", g_variant_new_string(uri));
	if (format != NULL)
		g_variant_builder_add(&vb, "{sv}", "Format", g_variant_new_string(format));
	if (data != NULL)
		g_variant_builder_add(&vb, "{sv}", "Data", g_variant_new_string(data));
	g_variant_builder_add(&vb, "{sv}", "Timeout", g_variant_new_uint32(20));
	j->started = g_get_monotonic_time();
	reply = g_dbus_connection_call_sync(w->e->d->connection,
	                                    "org.gwmo.Gateway1",
	                                    "/org/gwmo/Gateway1",
	                                    "org.gwmo.Gateway1.Manager",
	                                    "Fanout",
	                                    g_variant_new("(a{sv})", &vb),
	                                    G_VARIANT_TYPE("(o)"),
	                                    G_DBUS_CALL_FLAGS_NONE,
	                                    30000,
	                                    NULL,
	                                    &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(o)", &j->path);
	return sub;
}

static void
dbus_job_wait(World *w, DbusJob *j, guint sub)
{
	if (!e2e_wait(job_done, j, 40))
		g_error("job %s did not finish in 40 s", j->path);
	g_dbus_connection_signal_unsubscribe(w->e->d->connection, sub);
	g_test_message(
	    "%s (%" G_GINT64_FORMAT " ms): %s", j->path, (j->finished - j->started) / 1000, j->doc);
}

/* a Fanout through D-Bus, waited for: its aggregated result (free it) */
static gchar *
dbus_job(World *w,
         const gchar *const *ids,
         const gchar *command,
         const gchar *uri,
         const gchar *format,
         const gchar *data)
{
	DbusJob j = {0};
	guint sub = dbus_job_start(w, &j, ids, command, uri, format, data);

	dbus_job_wait(w, &j, sub);
	g_free(j.path);
	return j.doc;
}

/* ---- the gateway's log ---- */

typedef struct {
	World *w;
	const gchar *needle;
	gsize from;
} LogWait;

static gboolean
log_seen(gpointer data)
{
	LogWait *l = data;
	g_autofree gchar *log = gw_test_daemon_read_log(l->w->e->d);

	return log != NULL && strlen(log) > l->from && strstr(log + l->from, l->needle) != NULL;
}

static gsize
log_mark(World *w)
{
	g_autofree gchar *log = gw_test_daemon_read_log(w->e->d);

	return log != NULL ? strlen(log) : 0;
}

static void
wait_log(World *w, gsize from, const gchar *needle)
{
	LogWait l = {w, needle, from};

	if (!e2e_wait(log_seen, &l, 20))
		g_error("gwmod did not log \"%s\" in 20 s", needle);
}

/* ---- the cases ---- */

#define SKIP_WITHOUT_MOSQUITTO()                  \
	G_STMT_START                              \
	{                                         \
		if (skip_reason != NULL) {        \
			g_test_skip(skip_reason); \
			return;                   \
		}                                 \
	}                                         \
	G_STMT_END

static void
test_found(void)
{
	World *w;

	SKIP_WITHOUT_MOSQUITTO();
	w = world_get();
	for (guint i = 0; i < G_N_ELEMENTS(ieees); i++) {
		const gchar *r = w->records[i];
		g_autofree gchar *id = record_value(w, r, "DeviceID");
		g_autofree gchar *protocol = record_value(w, r, "Protocol");
		g_autofree gchar *mode = record_value(w, r, "Mode");
		g_autofree gchar *status = record_value(w, r, "Status");
		g_autofree gchar *man = record_value(w, r, "DevInfo/Man");
		g_autofree gchar *mod = record_value(w, r, "DevInfo/Mod");

		g_test_message(
		    "%s: %s %s mode %s %s, %s / %s", r, protocol, id, mode, status, man, mod);
		g_assert_cmpstr(id, ==, ieees[i]);
		g_assert_cmpstr(protocol, ==, "Zigbee");
		g_assert_cmpstr(mode, ==, "3");
		g_assert_cmpstr(status, ==, "Attached");
		g_assert_cmpstr(man, ==, vendors[i]);
		g_assert_cmpstr(mod, ==, models[i]);
	}
	/* the Coordinator of bridge/devices is not a device of the gateway */
	g_assert_null(e2e_device_record(w->objects, "DeviceID", "0x00124b00000000ff", "Attached"));
	/* the DM Server heard of all three (Protocol Zigbee, Mode 3, Attached) */
	g_assert_cmpuint(attached_alerts(w->attached_record), ==, 3);
}

static void
test_fanout(void)
{
	World *w;
	g_autoptr(JsonParser) parser = NULL;
	g_autofree gchar *script = NULL;
	JsonArray *sessions;
	JsonObject *session;
	const gchar *doc;

	SKIP_WITHOUT_MOSQUITTO();
	w = world_get();
	{
		g_autofree gchar *m_t = e2e_fanout_group_target("m", "mixed");
		g_autofree gchar *x_t = e2e_fanout_group_target("x", "mixed");
		g_autofree gchar *r_t = devices_target("r", BULB, PLUG, NULL);
		g_autofree gchar *ro_t = devices_target("ro", BULB, PLUG, NULL);
		g_autofree gchar *s_t = devices_target("s", BULB, PLUG, NULL);
		g_autofree gchar *m =
		    e2e_fanout_job("m", m_t, "Get", "./DevInfo/Man", NULL, NULL, 20);
		g_autofree gchar *x =
		    e2e_fanout_job("x", x_t, "Get", "./Zigbee/Exposes/linkquality", NULL, NULL, 20);
		g_autofree gchar *r = e2e_fanout_job(
		    "r", r_t, "Replace", "./Zigbee/Exposes/state", "bool", "true", 20);
		g_autofree gchar *ro = e2e_fanout_job(
		    "ro", ro_t, "Replace", "./Zigbee/Exposes/linkquality", "int", "5", 20);
		g_autofree gchar *s =
		    e2e_fanout_job("s", s_t, "Get", "./Zigbee/Exposes/state", NULL, NULL, 20);
		script = g_strdup_printf("{\"sessions\":[{\"commands\":[%s,%s,%s,%s]},"
		                         "{\"commands\":[%s]}]}",
		                         m,
		                         x,
		                         r,
		                         ro,
		                         s);
	}
	sessions = run_server(w, script, 2, &parser);
	session = json_array_get_object_element(sessions, 0);

	/* one job, one aggregated result, every device's status in it */
	doc = e2e_fanout_document(session, "m");
	assert_summary(doc, 4, 4);
	for (guint i = 0; i < G_N_ELEMENTS(ieees); i++)
		assert_item(doc, ieees[i], 200, "chr", vendors[i]);
	assert_item(doc, OMA_ID, 200, "chr", "gwmo test device");

	/* an Exposes leaf: the OMA DM device's tree has none (404 from the device itself) */
	doc = e2e_fanout_document(session, "x");
	assert_summary(doc, 4, 3);
	for (guint i = 0; i < G_N_ELEMENTS(ieees); i++)
		assert_item(doc, ieees[i], 200, "int", lqis[i]);
	assert_item(doc, OMA_ID, 404, NULL, NULL);

	/* the bulb was off, the plug on: both 200 once their state says ON */
	doc = e2e_fanout_document(session, "r");
	assert_summary(doc, 2, 2);
	assert_item(doc, BULB, 200, NULL, NULL);
	assert_item(doc, PLUG, 200, NULL, NULL);

	/* linkquality's access is 1 (published only): its leaf is Get only, a Replace 405 */
	doc = e2e_fanout_document(session, "ro");
	assert_summary(doc, 2, 0);
	assert_item(doc, BULB, 405, NULL, NULL);
	assert_item(doc, PLUG, 405, NULL, NULL);

	/* the next session reads the state the Replace set */
	doc = e2e_fanout_document(json_array_get_object_element(sessions, 1), "s");
	assert_summary(doc, 2, 2);
	assert_item(doc, BULB, 200, "bool", "true");
	assert_item(doc, PLUG, 200, "bool", "true");
}

static void
test_ota(void)
{
	World *w;
	g_autoptr(JsonParser) parser = NULL;
	g_autofree gchar *script = NULL;
	JsonArray *sessions;
	const gchar *doc;

	SKIP_WITHOUT_MOSQUITTO();
	w = world_get();
	{
		g_autofree gchar *o_t = devices_target("o", BULB, PLUG, SENSOR, NULL);
		g_autofree gchar *o = e2e_fanout_job(
		    "o", o_t, "Exec", "./Zigbee/Operations/OTAUpdate", NULL, NULL, 20);
		script = g_strdup_printf("{\"sessions\":[{\"commands\":[%s]}]}", o);
	}
	sessions = run_server(w, script, 1, &parser);
	doc = e2e_fanout_document(json_array_get_object_element(sessions, 0), "o");
	assert_summary(doc, 3, 1);
	/* the bridge's responses: "ok" for the bulb, an error for the plug */
	assert_item(doc, BULB, 200, NULL, NULL);
	assert_item(doc,
	            PLUG,
	            500,
	            "chr",
	            "Update of &apos;plug&apos; failed (No image currently available)");
	/* the sensor's definition says supports_ota false: no such node */
	assert_item(doc, SENSOR, 404, NULL, NULL);
}

static void
test_broker_away(void)
{
	World *w;
	DbusJob inflight = {0};
	g_autofree gchar *state = NULL;
	g_autofree gchar *doc = NULL;
	gchar *again[3] = {NULL};
	const gchar *bulb[] = {BULB, NULL};
	const gchar *bulb_and_oma[] = {BULB, OMA_ID, NULL};
	gsize mark;
	guint sub;
	guint from;
	gint64 t;

	SKIP_WITHOUT_MOSQUITTO();
	w = world_get();
	mark = log_mark(w);

	/* a Get the muted bulb never answers is in flight (the bridge saw its /get) */
	bridge_command(w->bridge, "mute bulb");
	from = w->bridge->lines->len;
	sub = dbus_job_start(w, &inflight, bulb, "Get", "./Zigbee/Exposes/brightness", NULL, NULL);
	wait_line(w->bridge, from, "ignored bulb/get", 10);

	/* the broker goes */
	t = g_get_monotonic_time();
	child_stop(w->broker, SIGKILL);
	w->broker = NULL;
	dbus_job_wait(w, &inflight, sub);
	/* an error status at once, not the job's 20 s timeout */
	assert_summary(inflight.doc, 1, 0);
	assert_item(inflight.doc, BULB, 408, NULL, NULL);
	g_assert_cmpint(inflight.finished - t, <, 10 * G_USEC_PER_SEC);
	wait_log(w, mark, "lost the MQTT broker 127.0.0.1");
	wait_records(w, "Detached", NULL);

	/* gwmod serves: D-Bus, the adapter still Running (retrying), the OMA DM device's job;
	 * the Zigbee device, which its adapter no longer reports, answers 410 at once */
	g_assert_true(gw_test_daemon_is_running(w->e->d));
	state = get_value(w->e->d, "./GwMO/Config/Adapters/zigbee2mqtt/State", NULL);
	g_assert_cmpstr(state, ==, "Running");
	doc = dbus_job(w, bulb_and_oma, "Get", "./DevInfo/Man", NULL, NULL);
	assert_summary(doc, 2, 1);
	assert_item(doc, BULB, 410, NULL, NULL);
	assert_item(doc, OMA_ID, 200, "chr", "gwmo test device");
	g_clear_pointer(&doc, g_free);

	/* the broker comes back on the same port: the adapter reconnects by itself */
	bridge_command(w->bridge, "unmute bulb");
	from = w->bridge->lines->len;
	mark = log_mark(w);
	t = g_get_monotonic_time();
	broker_start(w);
	wait_records(w, "Attached", again);
	g_test_message("managed again %" G_GINT64_FORMAT " ms after the broker's restart",
	               (g_get_monotonic_time() - t) / 1000);
	wait_log(w, mark, "connected to the MQTT broker 127.0.0.1");
	/* the same records */
	for (guint i = 0; i < G_N_ELEMENTS(ieees); i++) {
		g_assert_cmpstr(again[i], ==, w->records[i]);
		g_free(again[i]);
	}
	wait_line(w->bridge, from, "connected", 10);
	doc = dbus_job(w, bulb, "Get", "./Zigbee/Exposes/brightness", NULL, NULL);
	assert_summary(doc, 1, 1);
	assert_item(doc, BULB, 200, "int", "128");
	g_free(inflight.path);
	g_free(inflight.doc);
}

typedef struct {
	World *w;
	gchar *doc;
} LqiWait;

/* the bulb's LinkQuality as a Get answers it: 77 once the bridge's last message was read */
static gboolean
lqi_seen(gpointer data)
{
	LqiWait *l = data;
	const gchar *bulb[] = {BULB, NULL};

	g_free(l->doc);
	l->doc = dbus_job(l->w, bulb, "Get", "./Zigbee/Info/LinkQuality", NULL, NULL);
	if (strstr(l->doc, "status=\"200\"") == NULL)
		g_error("the bulb no longer answers: %s", l->doc);
	return strstr(l->doc, "<Data format=\"int\">77</Data>") != NULL;
}

static void
test_malformed(void)
{
	World *w;
	LqiWait l = {NULL, NULL};
	g_autofree gchar *doc = NULL;
	const gchar *all[] = {BULB, PLUG, SENSOR, OMA_ID, NULL};
	guint changes;
	gsize mark;

	SKIP_WITHOUT_MOSQUITTO();
	w = world_get();
	/* the devices are there (after /zigbee/e2e/broker-away: again) */
	wait_records(w, "Attached", NULL);
	changes = w->status_changes;
	mark = log_mark(w);
	bridge_command(w->bridge, "garbage");
	bridge_command(w->bridge, "hostile");
	/* the bridge's last message, a valid state, is read: so was everything before it */
	l.w = w;
	g_assert_true(e2e_wait(lqi_seen, &l, 20));
	g_free(l.doc);

	g_assert_true(gw_test_daemon_is_running(w->e->d));
	/* no record changed its Status, not even for a moment */
	g_assert_cmpuint(w->status_changes, ==, changes);
	for (guint i = 0; i < G_N_ELEMENTS(ieees); i++) {
		g_autofree gchar *status = record_value(w, w->records[i], "Status");
		g_autofree gchar *mod = record_value(w, w->records[i], "DevInfo/Mod");
		g_assert_cmpstr(status, ==, "Attached");
		g_assert_cmpstr(mod, ==, models[i]);
	}
	g_assert_null(e2e_device_record(w->objects, "DeviceID", "0x00124b00000000aa", "Attached"));
	wait_log(w, mark, "dropped a message");
	/* and every device answers */
	doc = dbus_job(w, all, "Get", "./DevInfo/Man", NULL, NULL);
	assert_summary(doc, 4, 4);
	g_clear_pointer(&doc, g_free);
	doc = dbus_job(w, all, "Get", "./Zigbee/Info/IEEE", NULL, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(ieees); i++)
		assert_item(doc, ieees[i], 200, "chr", ieees[i]);
}

int
main(int argc, char **argv)
{
	g_autofree gchar *mosquitto = NULL;
	gint rc;

	g_test_init(&argc, &argv, NULL);
	if (argc < 3) {
		g_printerr("usage: %s PATH-TO-gwmo-test-server PATH-TO-gwmo-test-device\n",
		           argv[0]);
		return 2;
	}
	server_binary = argv[1];
	device_binary = argv[2];
	mosquitto = g_find_program_in_path("mosquitto");
	if (mosquitto == NULL) {
		skip_reason = g_strdup("no mosquitto broker installed");
		g_test_message("skipped: %s", skip_reason);
	}
	g_test_add_func("/zigbee/e2e/found", test_found);
	g_test_add_func("/zigbee/e2e/fanout", test_fanout);
	g_test_add_func("/zigbee/e2e/ota", test_ota);
	g_test_add_func("/zigbee/e2e/broker-away", test_broker_away);
	g_test_add_func("/zigbee/e2e/malformed", test_malformed);
	rc = g_test_run();
	world_free();
	g_free(skip_reason);
	return rc;
}
