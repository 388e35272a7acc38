/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Zigbee adapter as the gateway sees it: its built module loaded with GModule the way the
 * loader loads plugins, driven through the gateway's side of GwPlugin (gw-plugin-private.h)
 * against a real mosquitto broker on 127.0.0.1 (a private configuration, no persistence) and
 * tests/peers/gwmo-test-zigbee-bridge, the zigbee2mqtt bridge emulator.
 */

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "gw-plugin-kit.h"

#define BULB "0x00124b0000000001"
#define PLUG "0x00124b0000000002"
#define SENSOR "0x00124b0000000003"

static GType plugin_type;
static gchar *skip_reason;
/* iterates the main context until @done or @timeout_s, polling @done every 2 ms: for a
 * condition no main-loop event signals (a port opening); the others use gw_plugin_kit_wait() */
static gboolean
wait_polled(gboolean (*done)(gpointer data), gpointer data, guint timeout_s)
{
	gint64 end = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;

	while (!done(data)) {
		if (g_get_monotonic_time() > end)
			return FALSE;
		g_main_context_iteration(NULL, FALSE);
		if (!done(data))
			g_usleep(2000);
	}
	return TRUE;
}

/* a TCP port on 127.0.0.1 free now, below the ephemeral range (as gw_test_free_port()) */
static guint16
free_port(void)
{
	for (guint attempt = 0; attempt < 1000; attempt++) {
		guint16 port = (guint16)g_random_int_range(10000, 32000);
		g_autoptr(GSocket) s =
		    g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
		g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
		g_autoptr(GSocketAddress) a = g_inet_socket_address_new(lo, port);
		if (s != NULL && g_socket_bind(s, a, TRUE, NULL))
			return port;
	}
	g_assert_not_reached();
	return 0;
}

/* ---- child processes: the broker and the bridge ---- */

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
	g_autoptr(GError) error = NULL;
	gchar *line =
	    g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(source), res, NULL, &error);

	if (line == NULL)
		return; /* EOF or cancelled: child may be freed already */
	g_ptr_array_add(child->lines, line);
	g_data_input_stream_read_line_async(
	    child->out, G_PRIORITY_DEFAULT, child->cancellable, child_read_cb, child);
}

typedef enum {
	CHILD_SILENT, /* no pipes, stderr to /dev/null */
	CHILD_PIPES,  /* stdin and stdout (a peer driven by commands) */
	CHILD_LOG,    /* stderr read into lines (the broker's log) */
} ChildMode;

/* the child dies with the test, even when an assertion aborts it */
static void
child_setup(gpointer data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static Child *
child_spawn(const gchar *const *argv, ChildMode mode)
{
	g_autoptr(GError) error = NULL;
	Child *child = g_new0(Child, 1);
	GSubprocessFlags flags =
	    mode == CHILD_PIPES ? G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDIN_PIPE
	    : mode == CHILD_LOG ? G_SUBPROCESS_FLAGS_STDERR_PIPE
	                        : G_SUBPROCESS_FLAGS_STDERR_SILENCE;

	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(flags);

	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	child->process = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	child->cancellable = g_cancellable_new();
	child->lines = g_ptr_array_new_with_free_func(g_free);
	if (mode != CHILD_SILENT) {
		child->in =
		    mode == CHILD_PIPES ? g_subprocess_get_stdin_pipe(child->process) : NULL;
		child->out = g_data_input_stream_new(
		    mode == CHILD_PIPES ? g_subprocess_get_stdout_pipe(child->process)
		                        : g_subprocess_get_stderr_pipe(child->process));
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

/* the lines of @child that contain @needle */
static guint
child_count_lines(Child *child, const gchar *needle)
{
	guint n = 0;

	for (guint i = 0; i < child->lines->len; i++)
		n += strstr(g_ptr_array_index(child->lines, i), needle) != NULL;
	return n;
}

typedef struct {
	Child *child;
	const gchar *needle;
	guint n;
} LinesWait;

static gboolean
lines_seen(gpointer data)
{
	LinesWait *w = data;

	return child_count_lines(w->child, w->needle) >= w->n;
}

/* waits until @n lines of @child contain @needle */
static void
wait_child_lines(Child *child, const gchar *needle, guint n)
{
	LinesWait w = {child, needle, n};

	if (!gw_plugin_kit_wait(lines_seen, &w, 20))
		g_error(
		    "%u lines with \"%s\", not %u", child_count_lines(child, needle), needle, n);
}

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

/* sends @cmd to the bridge and waits for its "ok" */
static void
bridge_command(Child *bridge, const gchar *cmd)
{
	g_autofree gchar *line = g_strdup_printf("%s\n", cmd);
	g_autofree gchar *verb = g_strndup(cmd, strcspn(cmd, " "));
	g_autofree gchar *ok = g_strdup_printf("ok %s", verb);
	LineWait w = {bridge, bridge->lines->len, ok};

	g_assert_true(g_output_stream_write_all(bridge->in, line, strlen(line), NULL, NULL, NULL));
	g_assert_true(gw_plugin_kit_wait(line_seen, &w, 10));
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

/* ---- the fixture: a broker, the bridge, the module as a fake gateway loads it ---- */

typedef struct {
	gchar *dir;
	gchar *conf;
	guint16 port;
	guint16 tls_port; /* a TLS listener's (the tls cases) */
	Child *broker;
	Child *bridge;
	GwPlugin *plugin;
	GHashTable *info;     /* ieee -> GwDeviceInfo, the last reported */
	GHashTable *trees;    /* ieee -> GwDeviceTree */
	GHashTable *attached; /* ieee -> itself, while found and not lost */
	GPtrArray *events;    /* "found <ieee>", "lost <ieee>", in order */
} Fixture;

/* mosquitto.conf: a listener on f->port, then @extra (listeners, authentication) */
static void
broker_conf(Fixture *f, const gchar *extra)
{
	/* "user": as root it would switch to its own user, which clears the parent-death signal
	 * (child_setup) and leaves it running when the test aborts */
	g_autofree gchar *conf = g_strdup_printf("listener %u 127.0.0.1\n%spersistence false\n"
	                                         "log_dest stderr\nuser %s\n",
	                                         f->port,
	                                         extra,
	                                         g_get_user_name());

	g_assert_true(g_file_set_contents(f->conf, conf, -1, NULL));
}

/* @log: its log read into f->broker->lines */
static void
broker_start_full(Fixture *f, gboolean log)
{
	const gchar *argv[] = {"mosquitto", "-c", f->conf, NULL};
	PortWait w = {f->port};

	f->broker = child_spawn(argv, log ? CHILD_LOG : CHILD_SILENT);
	g_assert_true(wait_polled(port_open, &w, 10));
	if (f->tls_port != 0) {
		w.port = f->tls_port;
		g_assert_true(wait_polled(port_open, &w, 10));
	}
}

static void
broker_start(Fixture *f)
{
	broker_start_full(f, FALSE);
}

static void
on_found(GwPlugin *plugin, GwDeviceInfo *info, GwDeviceTree *tree, gpointer user_data)
{
	Fixture *f = user_data;
	const gchar *id = gw_device_info_get_device_id(info);

	g_assert_nonnull(tree);
	g_hash_table_insert(f->info, g_strdup(id), gw_device_info_ref(info));
	g_hash_table_insert(f->trees, g_strdup(id), gw_device_tree_ref(tree));
	g_hash_table_add(f->attached, g_strdup(id));
	g_ptr_array_add(f->events, g_strdup_printf("found %s", id));
}

static void
on_lost(GwPlugin *plugin, const gchar *id, gpointer user_data)
{
	Fixture *f = user_data;

	g_hash_table_remove(f->attached, id);
	g_ptr_array_add(f->events, g_strdup_printf("lost %s", id));
}

typedef struct {
	Fixture *f;
	guint n;
} CountWait;

static gboolean
attached_is(gpointer data)
{
	CountWait *w = data;

	return g_hash_table_size(w->f->attached) == w->n;
}

static void
wait_attached(Fixture *f, guint n)
{
	CountWait w = {f, n};

	if (!gw_plugin_kit_wait(attached_is, &w, 20))
		g_error("%u devices attached, not %u", g_hash_table_size(f->attached), n);
}

/* [zigbee2mqtt] broker=@url and the pairs of keys and values of @keys (NULL-terminated) */
static void
plugin_start_full(Fixture *f, const gchar *url, const gchar *const *keys)
{
	g_autoptr(GKeyFile) keyfile = g_key_file_new();
	g_autoptr(GError) error = NULL;

	g_key_file_set_string(keyfile, "zigbee2mqtt", "broker", url);
	g_key_file_set_string(keyfile, "zigbee2mqtt", "reconnect-min-ms", "50");
	g_key_file_set_string(keyfile, "zigbee2mqtt", "reconnect-max-ms", "300");
	for (guint i = 0; keys != NULL && keys[i] != NULL; i += 2)
		g_key_file_set_string(keyfile, "zigbee2mqtt", keys[i], keys[i + 1]);
	f->plugin = g_object_new(plugin_type, NULL);
	gw_plugin_set_name(f->plugin, "zigbee2mqtt");
	gw_plugin_set_config(f->plugin, keyfile);
	g_assert_cmpstr(gw_plugin_get_protocol(f->plugin), ==, "Zigbee");
	g_signal_connect(f->plugin, "device-found", G_CALLBACK(on_found), f);
	g_signal_connect(f->plugin, "device-lost", G_CALLBACK(on_lost), f);
	g_assert_true(gw_plugin_startup(f->plugin, &error));
	g_assert_no_error(error);
}

static void
plugin_start(Fixture *f)
{
	g_autofree gchar *url = g_strdup_printf("mqtt://127.0.0.1:%u", f->port);

	plugin_start_full(f, url, NULL);
}

/* @username, @password: how it authenticates to the broker (NULL: anonymous) */
static void
bridge_start_full(Fixture *f, const gchar *username, const gchar *password)
{
	g_autofree gchar *port = g_strdup_printf("%u", f->port);
	const gchar *argv[] = {g_getenv("GWMO_TEST_ZIGBEE_BRIDGE"),
	                       "--port",
	                       port,
	                       username != NULL ? "--username" : NULL,
	                       username,
	                       "--password",
	                       password,
	                       NULL};

	f->bridge = child_spawn(argv, CHILD_PIPES);
}

static void
bridge_start(Fixture *f)
{
	bridge_start_full(f, NULL, NULL);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	if (skip_reason != NULL)
		return;
	f->dir = g_dir_make_tmp("gwmo-zigbee-XXXXXX", &error);
	g_assert_no_error(error);
	g_chmod(f->dir, 0755); /* mosquitto drops to its own user */
	f->port = free_port();
	f->conf = g_build_filename(f->dir, "mosquitto.conf", NULL);
	broker_conf(f, "allow_anonymous true\n");
	f->info = g_hash_table_new_full(
	    g_str_hash, g_str_equal, g_free, (GDestroyNotify)gw_device_info_unref);
	f->trees = g_hash_table_new_full(
	    g_str_hash, g_str_equal, g_free, (GDestroyNotify)gw_device_tree_unref);
	f->attached = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	f->events = g_ptr_array_new_with_free_func(g_free);
	if (GPOINTER_TO_INT(data) == 1)
		return; /* the test starts them itself */
	broker_start(f);
	bridge_start(f);
	plugin_start(f);
	wait_attached(f, 3);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	if (skip_reason != NULL)
		return;
	if (f->plugin != NULL) {
		gw_plugin_shutdown(f->plugin);
		g_signal_handlers_disconnect_by_data(f->plugin, f);
		g_object_unref(f->plugin);
	}
	child_stop(f->bridge, SIGTERM);
	child_stop(f->broker, SIGTERM);
	g_hash_table_unref(f->info);
	g_hash_table_unref(f->trees);
	g_hash_table_unref(f->attached);
	g_ptr_array_unref(f->events);
	{
		/* the broker's configuration, passwords, certificates */
		g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
		const gchar *name;
		while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
			g_autofree gchar *path = g_build_filename(f->dir, name, NULL);
			g_unlink(path);
		}
	}
	g_rmdir(f->dir);
	g_free(f->conf);
	g_free(f->dir);
}

/* ---- commands ---- */

static GwDeviceResult *
run_full(Fixture *f,
         const gchar *id,
         GwDeviceOp op,
         const gchar *uri,
         const gchar *data,
         guint deadline_ms,
         GCancellable *cancellable,
         GError **error)
{
	g_autoptr(GBytes) bytes = data != NULL ? g_bytes_new(data, strlen(data)) : NULL;
	g_autoptr(GwDeviceCommand) cmd = gw_device_command_new(op, uri, NULL, NULL, bytes);
	gint64 deadline = g_get_monotonic_time() + (gint64)deadline_ms * 1000;

	return gw_plugin_kit_run(
	    f->plugin, id, cmd, deadline, cancellable, deadline_ms / 1000 + 10, error);
}

static GwDeviceResult *
run(Fixture *f, const gchar *id, GwDeviceOp op, const gchar *uri, const gchar *data)
{
	g_autoptr(GError) error = NULL;
	GwDeviceResult *result = run_full(f, id, op, uri, data, 10000, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(result);
	return result;
}

static void
assert_status(GwDeviceResult *result, guint status)
{
	if (gw_device_result_get_status(result) != status &&
	    gw_device_result_get_n_items(result) > 0) {
		GBytes *data = NULL;
		gw_device_result_get_item(result, 0, NULL, NULL, NULL, &data);
		g_test_message("answer: %.*s",
		               (int)g_bytes_get_size(data),
		               (const gchar *)g_bytes_get_data(data, NULL));
	}
	g_assert_cmpuint(gw_device_result_get_status(result), ==, status);
}

/* the value a Get answered (status 200, one item) */
static gchar *
get_value(Fixture *f, const gchar *id, const gchar *uri)
{
	g_autoptr(GwDeviceResult) result = run(f, id, GW_DEVICE_OP_GET, uri, NULL);
	GBytes *data = NULL;

	assert_status(result, 200);
	g_assert_cmpuint(gw_device_result_get_n_items(result), ==, 1);
	gw_device_result_get_item(result, 0, NULL, NULL, NULL, &data);
	return g_strndup(g_bytes_get_data(data, NULL), g_bytes_get_size(data));
}

static void
replace_ok(Fixture *f, const gchar *id, const gchar *uri, const gchar *value)
{
	g_autoptr(GwDeviceResult) result = run(f, id, GW_DEVICE_OP_REPLACE, uri, value);

	assert_status(result, 200);
}

static void
assert_leaf(GwDeviceTree *tree, const gchar *uri, const gchar *format, GwDeviceAccess access)
{
	const gchar *f = NULL;
	GwDeviceAccess a = 0;

	g_assert_true(gw_device_tree_lookup(tree, uri, &f, &a, NULL));
	g_assert_cmpstr(f, ==, format);
	g_assert_cmpuint(a, ==, access);
}

/* ---- the cases ---- */

/* every device of bridge/devices but the Coordinator, with the tree of GWMO.md §9 */
static void
test_devices(Fixture *f, gconstpointer data)
{
	GwDeviceTree *bulb, *plug, *sensor;
	GwDeviceInfo *info;
	const GwDeviceAccess rw = GW_DEVICE_ACCESS_GET | GW_DEVICE_ACCESS_REPLACE;

	if (skip_reason != NULL) {
		g_test_skip(skip_reason);
		return;
	}
	g_assert_cmpuint(g_hash_table_size(f->info), ==, 3);
	g_assert_false(g_hash_table_contains(f->info, "0x00124b00000000ff"));
	info = g_hash_table_lookup(f->info, BULB);
	g_assert_cmpstr(gw_device_info_get_devinfo(info, "Man"), ==, "IKEA");
	g_assert_cmpstr(gw_device_info_get_devinfo(info, "Mod"), ==, "LED1545G12");
	bulb = g_hash_table_lookup(f->trees, BULB);
	gw_plugin_kit_assert_static(bulb, "./Zigbee/Info/IEEE", BULB);
	gw_plugin_kit_assert_static(bulb, "./Zigbee/Info/FriendlyName", "bulb");
	gw_plugin_kit_assert_static(bulb, "./Zigbee/Info/Vendor", "IKEA");
	gw_plugin_kit_assert_static(bulb, "./Zigbee/Info/Model", "LED1545G12");
	gw_plugin_kit_assert_static(bulb, "./Zigbee/Info/PowerSource", "Mains (single phase)");
	assert_leaf(bulb, "./Zigbee/Info/LinkQuality", "int", GW_DEVICE_ACCESS_GET);
	assert_leaf(bulb, "./Zigbee/Exposes/state", "bool", rw);
	assert_leaf(bulb, "./Zigbee/Exposes/brightness", "int", rw);
	assert_leaf(bulb, "./Zigbee/Exposes/linkquality", "int", GW_DEVICE_ACCESS_GET);
	plug = g_hash_table_lookup(f->trees, PLUG);
	assert_leaf(plug, "./Zigbee/Exposes/state", "bool", rw);
	assert_leaf(plug, "./Zigbee/Exposes/power", "float", GW_DEVICE_ACCESS_GET);
	sensor = g_hash_table_lookup(f->trees, SENSOR);
	gw_plugin_kit_assert_static(sensor, "./Zigbee/Info/PowerSource", "Battery");
	assert_leaf(sensor, "./Zigbee/Exposes/temperature", "float", GW_DEVICE_ACCESS_GET);
	assert_leaf(sensor, "./Zigbee/Exposes/battery", "int", GW_DEVICE_ACCESS_GET);
	g_assert_false(gw_device_tree_lookup(sensor, "./Zigbee/Exposes/state", NULL, NULL, NULL));
}

/* Replace publishes /set and answers once the state confirms it; Get answers the last state
 * or asks with /get */
static void
test_commands(Fixture *f, gconstpointer data)
{
	g_autofree gchar *state = NULL;
	g_autofree gchar *brightness = NULL;
	g_autofree gchar *power = NULL;
	g_autofree gchar *temperature = NULL;
	g_autofree gchar *lqi = NULL;
	g_autoptr(GwDeviceResult) bad = NULL;

	if (skip_reason != NULL) {
		g_test_skip(skip_reason);
		return;
	}
	replace_ok(f, BULB, "./Zigbee/Exposes/state", "true");
	state = get_value(f, BULB, "./Zigbee/Exposes/state");
	g_assert_cmpstr(state, ==, "true");
	replace_ok(f, BULB, "./Zigbee/Exposes/brightness", "200");
	brightness = get_value(f, BULB, "./Zigbee/Exposes/brightness");
	g_assert_cmpstr(brightness, ==, "200");
	/* the plug's power (access 5: asked with /get) follows its state */
	replace_ok(f, PLUG, "./Zigbee/Exposes/state", "false");
	power = get_value(f, PLUG, "./Zigbee/Exposes/power");
	g_assert_cmpstr(power, ==, "0");
	/* the sensor's temperature (access 1): the last state message */
	bridge_command(f->bridge, "temperature 19.25");
	for (guint i = 0; i < 1000; i++) {
		g_clear_pointer(&temperature, g_free);
		temperature = get_value(f, SENSOR, "./Zigbee/Exposes/temperature");
		if (g_strcmp0(temperature, "19.25") == 0)
			break;
		g_main_context_iteration(NULL, FALSE);
	}
	g_assert_cmpstr(temperature, ==, "19.25");
	lqi = get_value(f, SENSOR, "./Zigbee/Info/LinkQuality");
	g_assert_cmpstr(lqi, ==, "60");
	/* values not of the leaf's format or range */
	bad = run(f, BULB, GW_DEVICE_OP_REPLACE, "./Zigbee/Exposes/state", "maybe");
	assert_status(bad, 400);
	g_clear_pointer(&bad, gw_device_result_unref);
	bad = run(f, BULB, GW_DEVICE_OP_REPLACE, "./Zigbee/Exposes/brightness", "255");
	assert_status(bad, 400);
}

/* a device that never confirms: 408 at the deadline; a cancelled command: cancelled */
static void
test_timeout_cancel(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDeviceResult) result = NULL;
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(GError) error = NULL;
	gint64 start;

	if (skip_reason != NULL) {
		g_test_skip(skip_reason);
		return;
	}
	bridge_command(f->bridge, "mute bulb");
	start = g_get_monotonic_time();
	result = run_full(
	    f, BULB, GW_DEVICE_OP_REPLACE, "./Zigbee/Exposes/state", "true", 500, NULL, &error);
	g_assert_no_error(error);
	assert_status(result, 408);
	g_assert_cmpint(g_get_monotonic_time() - start, >=, 450 * 1000);
	g_clear_pointer(&result, gw_device_result_unref);
	g_timeout_add_once(100, (GSourceOnceFunc)g_cancellable_cancel, cancellable);
	result = run_full(f,
	                  BULB,
	                  GW_DEVICE_OP_GET,
	                  "./Zigbee/Exposes/brightness",
	                  NULL,
	                  20000,
	                  cancellable,
	                  &error);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_null(result);
	bridge_command(f->bridge, "unmute bulb");
	replace_ok(f, BULB, "./Zigbee/Exposes/state", "false");
}

/* Operations/OTAUpdate: the bridge's OTA request, its response the Exec's result */
static void
test_ota(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDeviceResult) result = NULL;
	g_autoptr(GError) error = NULL;
	GBytes *text = NULL;

	if (skip_reason != NULL) {
		g_test_skip(skip_reason);
		return;
	}
	assert_leaf(g_hash_table_lookup(f->trees, BULB),
	            "./Zigbee/Operations/OTAUpdate",
	            "chr",
	            GW_DEVICE_ACCESS_EXEC);
	/* the sensor's definition says supports_ota false */
	g_assert_false(gw_device_tree_lookup(g_hash_table_lookup(f->trees, SENSOR),
	                                     "./Zigbee/Operations/OTAUpdate",
	                                     NULL,
	                                     NULL,
	                                     NULL));
	result = run(f, BULB, GW_DEVICE_OP_EXEC, "./Zigbee/Operations/OTAUpdate", NULL);
	assert_status(result, 200);
	g_clear_pointer(&result, gw_device_result_unref);
	result = run(f, PLUG, GW_DEVICE_OP_EXEC, "./Zigbee/Operations/OTAUpdate", NULL);
	assert_status(result, 500);
	g_assert_cmpuint(gw_device_result_get_n_items(result), ==, 1);
	gw_device_result_get_item(result, 0, NULL, NULL, NULL, &text);
	g_assert_nonnull(g_strstr_len(
	    g_bytes_get_data(text, NULL), g_bytes_get_size(text), "No image currently available"));
	g_clear_pointer(&result, gw_device_result_unref);
	bridge_command(f->bridge, "mute bulb");
	result = run_full(
	    f, BULB, GW_DEVICE_OP_EXEC, "./Zigbee/Operations/OTAUpdate", NULL, 300, NULL, &error);
	g_assert_no_error(error);
	assert_status(result, 408);
}

/* a rename keeps the record; a leave and an offline availability detach */
static void
test_rename_leave(Fixture *f, gconstpointer data)
{
	g_autofree gchar *found_bulb = g_strdup("found " BULB);
	guint mark = f->events->len;
	GwDeviceTree *tree;

	if (skip_reason != NULL) {
		g_test_skip(skip_reason);
		return;
	}
	bridge_command(f->bridge, "rename bulb lamp");
	for (guint i = 0; i < 5000; i++) {
		const gchar *v = NULL;
		tree = g_hash_table_lookup(f->trees, BULB);
		gw_device_tree_lookup(tree, "./Zigbee/Info/FriendlyName", NULL, NULL, &v);
		if (g_strcmp0(v, "lamp") == 0)
			break;
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
	}
	gw_plugin_kit_assert_static(
	    g_hash_table_lookup(f->trees, BULB), "./Zigbee/Info/FriendlyName", "lamp");
	for (guint i = mark; i < f->events->len; i++)
		g_assert_cmpstr(g_ptr_array_index(f->events, i), ==, found_bulb);
	replace_ok(f, BULB, "./Zigbee/Exposes/state", "true");

	bridge_command(f->bridge, "leave plug");
	wait_attached(f, 2);
	g_assert_false(g_hash_table_contains(f->attached, PLUG));
	bridge_command(f->bridge, "offline sensor");
	wait_attached(f, 1);
	g_assert_false(g_hash_table_contains(f->attached, SENSOR));
	bridge_command(f->bridge, "online sensor");
	wait_attached(f, 2);
	g_assert_true(g_hash_table_contains(f->attached, SENSOR));
}

/* the broker goes away: devices lost, the absence logged; it comes back: devices back */
static void
test_broker_restart(Fixture *f, gconstpointer data)
{
	g_autofree gchar *state = NULL;
	guint lost_logs;
	guint log_mark = gw_plugin_kit_log_mark();

	if (skip_reason != NULL) {
		g_test_skip(skip_reason);
		return;
	}
	child_stop(f->broker, SIGKILL);
	f->broker = NULL;
	wait_attached(f, 0);
	g_assert_cmpuint(gw_plugin_kit_count_logged(log_mark, "lost the MQTT broker"), ==, 1);
	/* a few reconnect attempts fail meanwhile: reported once, not each time */
	g_usleep(1000 * 1000);
	for (guint i = 0; i < 100; i++)
		g_main_context_iteration(NULL, FALSE);
	lost_logs = gw_plugin_kit_count_logged(log_mark, "is unreachable");
	g_assert_cmpuint(lost_logs, <=, 1);
	broker_start(f);
	wait_attached(f, 3);
	state = get_value(f, PLUG, "./Zigbee/Exposes/state");
	g_assert_cmpstr(state, ==, "true");
}

/* hostile payloads are dropped, logged (rate-limited), and change nothing */
static void
test_hostile(Fixture *f, gconstpointer data)
{
	guint mark = f->events->len;
	guint log_mark = gw_plugin_kit_log_mark();
	g_autofree gchar *state = NULL;

	if (skip_reason != NULL) {
		g_test_skip(skip_reason);
		return;
	}
	bridge_command(f->bridge, "garbage");
	bridge_command(f->bridge, "garbage");
	replace_ok(f, BULB, "./Zigbee/Exposes/state", "true");
	state = get_value(f, BULB, "./Zigbee/Exposes/state");
	g_assert_cmpstr(state, ==, "true");
	g_assert_cmpuint(f->events->len, ==, mark);
	g_assert_cmpuint(g_hash_table_size(f->attached), ==, 3);
	g_assert_cmpuint(gw_plugin_kit_count_logged(log_mark, "dropped a message"), ==, 1);
}

/* no broker at start: not fatal; it connects once the broker is there */
static void
test_no_broker(Fixture *f, gconstpointer data)
{
	guint log_mark = gw_plugin_kit_log_mark();

	if (skip_reason != NULL) {
		g_test_skip(skip_reason);
		return;
	}
	plugin_start(f);
	g_usleep(500 * 1000);
	for (guint i = 0; i < 100; i++)
		g_main_context_iteration(NULL, FALSE);
	g_assert_cmpuint(gw_plugin_kit_count_logged(log_mark, "is unreachable"), ==, 1);
	broker_start(f);
	bridge_start(f);
	wait_attached(f, 3);
}

/* ---- a broker that requires a password, a TLS listener ---- */

#define GW_PASSWORD "gw-Pa55-0f-the-gateway"
#define WRONG_PASSWORD "wr0ng-Pa55-n0t-the-one"
#define BRIDGE_PASSWORD "bridge-Pa55"

/* runs a tool (mosquitto_passwd, certtool) to its successful end */
static void
run_tool(const gchar *const *argv)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *err = NULL;
	gint status = 0;

	g_assert_true(g_spawn_sync(NULL,
	                           (gchar **)argv,
	                           NULL,
	                           G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
	                           NULL,
	                           NULL,
	                           NULL,
	                           &err,
	                           &status,
	                           &error));
	g_assert_no_error(error);
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("%s failed: %s", argv[0], err);
}

/* the tools a case needs are installed, or it is skipped */
static gboolean
have_tools(const gchar *tool)
{
	g_autofree gchar *path = NULL;

	if (skip_reason != NULL) {
		g_test_skip(skip_reason);
		return FALSE;
	}
	path = g_find_program_in_path(tool);
	if (path == NULL) {
		g_autofree gchar *why = g_strdup_printf("%s is not installed", tool);
		g_test_skip(why);
		return FALSE;
	}
	return TRUE;
}

/* sets @user's password in f->dir/passwd (made by mosquitto_passwd, as an admin would) */
static gchar *
set_password(Fixture *f, const gchar *user, const gchar *password)
{
	gchar *file = g_build_filename(f->dir, "passwd", NULL);
	const gchar *create[] = {"mosquitto_passwd", "-c", "-b", file, user, password, NULL};
	const gchar *update[] = {"mosquitto_passwd", "-b", file, user, password, NULL};

	run_tool(g_file_test(file, G_FILE_TEST_EXISTS) ? update : create);
	return file;
}

/* a broker that refuses anonymous clients; the bridge logs in as "bridge", the gateway's
 * user "gwmo" has the password GW_PASSWORD; its log read */
static void
auth_broker_start(Fixture *f)
{
	g_autofree gchar *passwd = set_password(f, "bridge", BRIDGE_PASSWORD);
	g_autofree gchar *extra = NULL;

	g_free(set_password(f, "gwmo", GW_PASSWORD));
	extra = g_strdup_printf("allow_anonymous false\npassword_file %s\n", passwd);
	broker_conf(f, extra);
	broker_start_full(f, TRUE);
	bridge_start_full(f, "bridge", BRIDGE_PASSWORD);
}

static void
assert_not_logged(const gchar *secret)
{
	g_assert_cmpuint(gw_plugin_kit_count_logged(0, secret), ==, 0);
}

/* the right user name and password: the bridge's devices are found, and answer */
static void
test_auth(Fixture *f, gconstpointer data)
{
	g_autofree gchar *url = NULL;
	const gchar *keys[] = {"username", "gwmo", "password", GW_PASSWORD, NULL};
	g_autofree gchar *state = NULL;

	if (!have_tools("mosquitto_passwd"))
		return;
	auth_broker_start(f);
	url = g_strdup_printf("mqtt://127.0.0.1:%u", f->port);
	plugin_start_full(f, url, keys);
	wait_attached(f, 3);
	replace_ok(f, BULB, "./Zigbee/Exposes/state", "true");
	state = get_value(f, BULB, "./Zigbee/Exposes/state");
	g_assert_cmpstr(state, ==, "true");
	g_assert_cmpuint(child_count_lines(f->broker, "not authorised"), ==, 0);
	assert_not_logged(GW_PASSWORD);
}

/* a wrong password: the refusal is reported once, with its reason and without the password;
 * the adapter keeps retrying, backing off, and connects once the broker accepts it */
static void
test_auth_refused(Fixture *f, gconstpointer data)
{
	g_autofree gchar *url = NULL;
	const gchar *keys[] = {
	    "username", "gwmo", "password", WRONG_PASSWORD, "reconnect-max-ms", "400", NULL};
	guint log_mark = gw_plugin_kit_log_mark();
	gint64 start;

	if (!have_tools("mosquitto_passwd"))
		return;
	auth_broker_start(f);
	url = g_strdup_printf("mqtt://127.0.0.1:%u", f->port);
	/* reconnect-min-ms 50, doubling to 400: the 5th attempt is >= 750 ms after the 1st */
	start = g_get_monotonic_time();
	plugin_start_full(f, url, keys);
	wait_child_lines(f->broker, "not authorised", 5);
	g_assert_cmpint(g_get_monotonic_time() - start, >=, 750 * 1000);
	/* the adapter says who refused and why, once (rate-limited) */
	g_assert_cmpuint(gw_plugin_kit_count_logged(log_mark, "refused the connection"), ==, 1);
	g_assert_cmpuint(gw_plugin_kit_count_logged(log_mark, "not authorised"), ==, 1);
	g_assert_cmpuint(gw_plugin_kit_count_logged(log_mark, "username"), ==, 1);
	g_assert_cmpuint(f->events->len, ==, 0);
	assert_not_logged(WRONG_PASSWORD);
	/* the administrator fixes the password file: the adapter's next attempt gets in */
	g_free(set_password(f, "gwmo", WRONG_PASSWORD));
	g_subprocess_send_signal(f->broker->process, SIGHUP);
	wait_attached(f, 3);
	assert_not_logged(WRONG_PASSWORD);
}

/* a CA, and a certificate for 127.0.0.1 it signs, in f->dir: @name.pem, @name.key */
static void
make_ca(Fixture *f, const gchar *name)
{
	g_autofree gchar *key = g_strdup_printf("%s/%s.key", f->dir, name);
	g_autofree gchar *pem = g_strdup_printf("%s/%s.pem", f->dir, name);
	g_autofree gchar *tmpl = g_strdup_printf("%s/%s.tmpl", f->dir, name);
	g_autofree gchar *text = g_strdup_printf(
	    "cn = \"gwmo test CA %s\"\nca\ncert_signing_key\nexpiration_days = 2\n", name);
	const gchar *gen_key[] = {
	    "certtool", "--generate-privkey", "--key-type", "ecdsa", "--outfile", key, NULL};
	const gchar *gen_cert[] = {"certtool",
	                           "--generate-self-signed",
	                           "--load-privkey",
	                           key,
	                           "--template",
	                           tmpl,
	                           "--outfile",
	                           pem,
	                           NULL};

	g_assert_true(g_file_set_contents(tmpl, text, -1, NULL));
	run_tool(gen_key);
	run_tool(gen_cert);
}

static void
make_server_cert(Fixture *f, const gchar *ca)
{
	g_autofree gchar *ca_key = g_strdup_printf("%s/%s.key", f->dir, ca);
	g_autofree gchar *ca_pem = g_strdup_printf("%s/%s.pem", f->dir, ca);
	g_autofree gchar *key = g_build_filename(f->dir, "server.key", NULL);
	g_autofree gchar *pem = g_build_filename(f->dir, "server.pem", NULL);
	g_autofree gchar *tmpl = g_build_filename(f->dir, "server.tmpl", NULL);
	const gchar *text = "cn = \"127.0.0.1\"\nip_address = \"127.0.0.1\"\ntls_www_server\n"
	                    "signing_key\nencryption_key\nexpiration_days = 2\n";
	const gchar *gen_key[] = {
	    "certtool", "--generate-privkey", "--key-type", "ecdsa", "--outfile", key, NULL};
	const gchar *gen_cert[] = {"certtool",
	                           "--generate-certificate",
	                           "--load-privkey",
	                           key,
	                           "--load-ca-certificate",
	                           ca_pem,
	                           "--load-ca-privkey",
	                           ca_key,
	                           "--template",
	                           tmpl,
	                           "--outfile",
	                           pem,
	                           NULL};

	g_assert_true(g_file_set_contents(tmpl, text, -1, NULL));
	run_tool(gen_key);
	run_tool(gen_cert);
}

/* a broker with a TLS listener (certificate of CA "ca") on f->tls_port, besides the plain
 * one the bridge uses; its log read */
static void
tls_broker_start(Fixture *f)
{
	g_autofree gchar *extra = NULL;

	make_ca(f, "ca");
	make_server_cert(f, "ca");
	f->tls_port = free_port();
	extra = g_strdup_printf("allow_anonymous true\nlistener %u 127.0.0.1\ncafile %s/ca.pem\n"
	                        "certfile %s/server.pem\nkeyfile %s/server.key\n",
	                        f->tls_port,
	                        f->dir,
	                        f->dir,
	                        f->dir);
	broker_conf(f, extra);
	broker_start_full(f, TRUE);
	bridge_start(f);
}

/* mqtts:// with tls-ca the CA that signed the broker's certificate: devices found, and they
 * answer over TLS, also after the broker restarted */
static void
test_tls(Fixture *f, gconstpointer data)
{
	g_autofree gchar *url = NULL;
	g_autofree gchar *ca = NULL;
	g_autofree gchar *state = NULL;
	g_autofree gchar *power = NULL;

	if (!have_tools("certtool"))
		return;
	tls_broker_start(f);
	url = g_strdup_printf("mqtts://127.0.0.1:%u", f->tls_port);
	ca = g_build_filename(f->dir, "ca.pem", NULL);
	{
		const gchar *keys[] = {"tls-ca", ca, NULL};
		plugin_start_full(f, url, keys);
	}
	wait_attached(f, 3);
	replace_ok(f, BULB, "./Zigbee/Exposes/state", "true");
	state = get_value(f, BULB, "./Zigbee/Exposes/state");
	g_assert_cmpstr(state, ==, "true");
	replace_ok(f, PLUG, "./Zigbee/Exposes/state", "false");
	power = get_value(f, PLUG, "./Zigbee/Exposes/power");
	g_assert_cmpstr(power, ==, "0");
	g_assert_cmpuint(child_count_lines(f->broker, "OpenSSL Error"), ==, 0);
	/* the broker goes away and comes back: a new TLS session, the devices again */
	child_stop(f->broker, SIGKILL);
	f->broker = NULL;
	wait_attached(f, 0);
	broker_start_full(f, TRUE);
	wait_attached(f, 3);
	g_clear_pointer(&state, g_free);
	state = get_value(f, BULB, "./Zigbee/Exposes/state");
	g_assert_cmpstr(state, ==, "true");
	g_assert_cmpuint(child_count_lines(f->broker, "OpenSSL Error"), ==, 0);
}

/* a tls-ca that did not sign the broker's certificate: refused, the reason logged once, no
 * device, retried, not fatal */
static void
test_tls_wrong_ca(Fixture *f, gconstpointer data)
{
	g_autofree gchar *url = NULL;
	g_autofree gchar *other = NULL;
	g_autofree gchar *on_port = NULL;
	guint log_mark = gw_plugin_kit_log_mark();

	if (!have_tools("certtool"))
		return;
	tls_broker_start(f);
	make_ca(f, "other");
	url = g_strdup_printf("mqtts://127.0.0.1:%u", f->tls_port);
	other = g_build_filename(f->dir, "other.pem", NULL);
	{
		const gchar *keys[] = {"tls-ca", other, NULL};
		plugin_start_full(f, url, keys);
	}
	/* three handshakes the broker saw fail: the adapter retries */
	on_port = g_strdup_printf("on port %u.", f->tls_port);
	wait_child_lines(f->broker, on_port, 3);
	wait_child_lines(f->broker, "OpenSSL Error", 3);
	g_assert_true(gw_plugin_kit_wait_logged(log_mark, "TLS error", NULL, 20));
	g_assert_cmpuint(gw_plugin_kit_count_logged(log_mark, "TLS error"), ==, 1);
	g_assert_cmpuint(gw_plugin_kit_count_logged(log_mark, "certificate verify failed"), ==, 1);
	g_assert_cmpuint(f->events->len, ==, 0);
	g_assert_cmpuint(g_hash_table_size(f->attached), ==, 0);
}

/* ---- loading the module as the loader does ---- */

static gboolean
load_plugin(gchar **why_not)
{
	g_autofree gchar *mosquitto = g_find_program_in_path("mosquitto");

	if (g_getenv("GWMO_TEST_ZIGBEE_PLUGIN") == NULL ||
	    g_getenv("GWMO_TEST_ZIGBEE_BRIDGE") == NULL) {
		*why_not =
		    g_strdup("GWMO_TEST_ZIGBEE_PLUGIN or GWMO_TEST_ZIGBEE_BRIDGE is not set");
		return FALSE;
	}
	if (mosquitto == NULL) {
		*why_not = g_strdup("no mosquitto broker installed");
		return FALSE;
	}
	plugin_type = gw_plugin_kit_load("GWMO_TEST_ZIGBEE_PLUGIN", why_not);
	return plugin_type != G_TYPE_INVALID;
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	gw_plugin_kit_log_capture();
	if (!load_plugin(&skip_reason))
		g_test_message("skipping: %s", skip_reason);
#define ADD(path, fn, mode) \
	g_test_add(path, Fixture, GINT_TO_POINTER(mode), fixture_setup, fn, fixture_teardown)
	ADD("/zigbee/devices", test_devices, 0);
	ADD("/zigbee/commands", test_commands, 0);
	ADD("/zigbee/timeout-cancel", test_timeout_cancel, 0);
	ADD("/zigbee/ota", test_ota, 0);
	ADD("/zigbee/rename-leave", test_rename_leave, 0);
	ADD("/zigbee/broker-restart", test_broker_restart, 0);
	ADD("/zigbee/hostile", test_hostile, 0);
	ADD("/zigbee/no-broker", test_no_broker, 1);
	ADD("/zigbee/auth", test_auth, 1);
	ADD("/zigbee/auth-refused", test_auth_refused, 1);
	ADD("/zigbee/tls", test_tls, 1);
	ADD("/zigbee/tls-wrong-ca", test_tls_wrong_ca, 1);
	return g_test_run();
}
