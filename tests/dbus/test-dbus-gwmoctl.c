/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gwmoctl against the real gwmod on a private bus, with the test adapter's devices
 * (plugins/test: TEST-DEV-1…3, answering at once, Operations/Fail failing, Operations/Hang
 * never answering): --json of every listing holds what the D-Bus API says, monitor --json
 * sees the events in the order they happen, fanout --wait shows progress and says by its exit
 * status how the job ended (Ctrl-C leaves it running), a terminal gets one redrawn bar, the
 * bash completion completes commands and live names, and a German locale gets German text.
 *
 * argv[1]: the test adapter (libgw_plugin_test.so), argv[2]: data/gwmoctl.bash-completion,
 * argv[3]: the build tree's catalogs (po/, with de/LC_MESSAGES/gwmo.mo).
 */

#define _GNU_SOURCE /* posix_openpt, grantpt, unlockpt, ptsname */

#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw-test-daemon.h"

#define GW_NAME "org.gwmo.Gateway1"
#define GW_PATH "/org/gwmo/Gateway1"

static const gchar *plugin_path;
static const gchar *completion_path;
static const gchar *localedir;

/* ---- helpers ---- */

/* gwmod with the test adapter's three devices, all three reported */
static GwTestDaemon *
daemon_start(void)
{
	GwTestDaemon *d = gw_test_daemon_new_with_config(
	    "[northbound]\nlisten=\n[southbound]\nlisten=\n[test]\ndevices=3\n");
	g_autofree gchar *plugin_dir = g_path_get_dirname(plugin_path);
	const gchar *args[] = {"--plugin-dir", plugin_dir, NULL};
	g_autofree gchar *want = g_strdup_printf("TEST-DEV-%u", 3);

	gw_test_daemon_start(d, args);
	/* the adapter reports its devices from an idle after startup */
	for (guint i = 0; i < 2400; i++) {
		g_autoptr(GVariant) reply =
		    gw_test_call(d,
		                 "GetNode",
		                 g_variant_new("(s)", "./GwMO/Inventory/Devices/3/DeviceID"),
		                 "(ssv)",
		                 NULL);
		g_autoptr(GVariant) value = NULL;
		if (reply != NULL) {
			g_variant_get(reply, "(&s&s@v)", NULL, NULL, &value);
			{
				g_autoptr(GVariant) inner = g_variant_get_variant(value);
				if (g_strcmp0(g_variant_get_string(inner, NULL), want) == 0)
					return d;
			}
		}
		g_usleep(25 * 1000);
	}
	g_error("the test adapter's devices did not appear");
	return NULL;
}

static void
daemon_stop(GwTestDaemon *d)
{
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

/* a launcher for gwmoctl on @d's bus, C locale unless @env says otherwise (NAME=VALUE…) */
static GSubprocessLauncher *
ctl_launcher(GwTestDaemon *d, GSubprocessFlags flags, const gchar *const *env)
{
	GSubprocessLauncher *launcher = g_subprocess_launcher_new(flags);
	g_subprocess_launcher_setenv(
	    launcher, "DBUS_SESSION_BUS_ADDRESS", g_test_dbus_get_bus_address(d->bus), TRUE);
	g_subprocess_launcher_setenv(launcher, "LC_ALL", "C.UTF-8", TRUE);
	g_subprocess_launcher_unsetenv(launcher, "LANGUAGE");
	for (guint i = 0; env != NULL && env[i] != NULL; i++) {
		g_auto(GStrv) kv = g_strsplit(env[i], "=", 2);
		g_subprocess_launcher_setenv(launcher, kv[0], kv[1], TRUE);
	}
	return launcher;
}

/* gwmoctl --session ARGS (NULL-terminated) with @env; its exit status, output in @out/@err */
static gint
run_ctl(GwTestDaemon *d, const gchar *const *env, gchar **out, gchar **err, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *arg;
	va_list ap;

	g_ptr_array_add(argv, (gpointer)g_getenv("GWMO_TEST_GWMOCTL"));
	g_ptr_array_add(argv, (gpointer) "--session");
	va_start(ap, err);
	while ((arg = va_arg(ap, const gchar *)) != NULL)
		g_ptr_array_add(argv, (gpointer)arg);
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	launcher =
	    ctl_launcher(d, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, env);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(proc, NULL, NULL, out, err, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(proc));
	return g_subprocess_get_exit_status(proc);
}

typedef struct {
	gboolean done;
	gboolean timed_out;
	gchar *line;
	GError *error;
} LineRead;

static void
line_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	LineRead *r = user_data;
	r->line = g_data_input_stream_read_line_finish_utf8(
	    G_DATA_INPUT_STREAM(source), res, NULL, &r->error);
	r->done = TRUE;
}

static gboolean
line_timeout_cb(gpointer user_data)
{
	LineRead *r = user_data;
	r->timed_out = TRUE;
	return G_SOURCE_REMOVE;
}

/* the next line of @in; a test failure when none comes within 60 s (NULL at EOF) */
static gchar *
read_line(GDataInputStream *in)
{
	LineRead r = {0};
	guint timeout = g_timeout_add_seconds(60, line_timeout_cb, &r);

	g_data_input_stream_read_line_async(in, G_PRIORITY_DEFAULT, NULL, line_read_cb, &r);
	while (!r.done && !r.timed_out)
		g_main_context_iteration(NULL, TRUE);
	if (!r.done)
		g_error("no line from gwmoctl within 60 s");
	g_source_remove(timeout);
	g_assert_no_error(r.error);
	return r.line;
}


/*
 * `gwmoctl --json COMMAND…` prints one array of objects, one per object implementing @iface,
 * each with "ObjectPath" and every D-Bus property under its own name with its value (and
 * "Path", the object path again, when no property has that name); nothing else.
 * Returns how many objects there were.
 */
static guint
assert_listing_matches(GwTestDaemon *d, const gchar *iface, const gchar *command, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GHashTable) objects = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	const gchar *arg;
	JsonArray *array;
	va_list ap;

	g_ptr_array_add(argv, (gpointer)g_getenv("GWMO_TEST_GWMOCTL"));
	g_ptr_array_add(argv, (gpointer) "--session");
	g_ptr_array_add(argv, (gpointer) "--json");
	g_ptr_array_add(argv, (gpointer)command);
	va_start(ap, command);
	while ((arg = va_arg(ap, const gchar *)) != NULL)
		g_ptr_array_add(argv, (gpointer)arg);
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	launcher =
	    ctl_launcher(d, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, NULL);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 0);

	/* read after the listing: nothing changes in between (no job runs, no device moves) */
	objects = gw_test_managed_objects(d, iface);
	json_parser_load_from_data(parser, out, -1, &error);
	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_ARRAY(json_parser_get_root(parser)));
	array = json_node_get_array(json_parser_get_root(parser));
	g_assert_cmpuint(json_array_get_length(array), ==, g_hash_table_size(objects));
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonObject *obj = json_array_get_object_element(array, i);
		const gchar *path = json_object_get_string_member(obj, "ObjectPath");
		GVariant *props = g_hash_table_lookup(objects, path);
		gboolean own_path = FALSE;
		GVariantIter iter;
		const gchar *key;
		GVariant *value_raw;

		if (props == NULL)
			g_error("%s: %s is not an object of %s:\n%s", command, path, iface, out);
		/* ObjectPath, Path (the object's, unless a property has that name) and the
		 * properties, nothing else */
		own_path = g_variant_lookup(props, "Path", "&s", NULL);
		if (!own_path)
			g_assert_cmpstr(json_object_get_string_member(obj, "Path"), ==, path);
		g_assert_cmpuint(json_object_get_size(obj),
		                 ==,
		                 g_variant_n_children(props) + (own_path ? 1 : 2));
		g_variant_iter_init(&iter, props);
		while (g_variant_iter_next(&iter, "{&sv}", &key, &value_raw)) {
			g_autoptr(GVariant) value = value_raw;
			g_autoptr(JsonNode) want = json_gvariant_serialize(value);
			JsonNode *got = json_object_get_member(obj, key);
			if (got == NULL || !json_node_equal(got, want)) {
				g_autofree gchar *w = json_to_string(want, FALSE);
				g_autofree gchar *g =
				    got != NULL ? json_to_string(got, FALSE) : NULL;
				g_error("%s %s: %s is %s in JSON, %s on D-Bus",
				        command,
				        path,
				        key,
				        g,
				        w);
			}
		}
		g_hash_table_remove(objects, path);
	}
	g_assert_cmpuint(g_hash_table_size(objects), ==, 0);
	return json_array_get_length(array);
}

static gchar *
job_state(GwTestDaemon *d, const gchar *path)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) value = NULL;

	reply = g_dbus_connection_call_sync(d->connection,
	                                    GW_NAME,
	                                    path,
	                                    "org.freedesktop.DBus.Properties",
	                                    "Get",
	                                    g_variant_new("(ss)", "org.gwmo.Gateway1.Job", "State"),
	                                    G_VARIANT_TYPE("(v)"),
	                                    G_DBUS_CALL_FLAGS_NONE,
	                                    -1,
	                                    NULL,
	                                    &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(v)", &value);
	return g_variant_dup_string(value, NULL);
}

/* ---- --json of every listing ---- */

static void
test_json_listings(void)
{
	GwTestDaemon *d = daemon_start();
	g_autofree gchar *bootstrap =
	    g_build_filename(g_getenv("GWMO_TEST_DATA"), "dbus", "bootstrap-dmacc.xml", NULL);
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GVariant) children_reply = NULL;
	g_autofree const gchar **children = NULL;
	JsonArray *array;
	GVariantBuilder b;

	/* one of everything: a server account, a group with a provisioned device, an image,
	 * a finished job */
	g_assert_cmpint(run_ctl(d, NULL, &out, &err, "bootstrap", bootstrap, NULL), ==, 0);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run_ctl(d, NULL, &out, &err, "group-add", "lights", "Hall", NULL), ==, 0);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(
	    run_ctl(d, NULL, &out, &err, "device-add", "lamp-1", "--group", "lights", NULL), ==, 0);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Name", g_variant_new_string("fw"));
	g_variant_builder_add(
	    &b, "{sv}", "ExternalURI", g_variant_new_string("http://127.0.0.1:9/fw.bin"));
	g_variant_builder_add(
	    &b,
	    "{sv}",
	    "Hash",
	    g_variant_new_string(
	        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
	reply = gw_test_call(d, "AddImage", g_variant_new("(a{sv})", &b), "(o)", &error);
	g_assert_no_error(error);
	g_assert_cmpint(run_ctl(d,
	                        NULL,
	                        &out,
	                        &err,
	                        "fanout",
	                        "--device",
	                        "TEST-DEV-1",
	                        "--get",
	                        "./Test/Switch",
	                        "--wait",
	                        NULL),
	                ==,
	                0);

	g_assert_cmpuint(
	    assert_listing_matches(d, "org.gwmo.Gateway1.Device", "devices", NULL), ==, 4);
	g_assert_cmpuint(
	    assert_listing_matches(d, "org.gwmo.Gateway1.Group", "groups", NULL), ==, 1);
	g_assert_cmpuint(
	    assert_listing_matches(d, "org.gwmo.Gateway1.Server", "servers", NULL), ==, 1);
	g_assert_cmpuint(assert_listing_matches(d, "org.gwmo.Gateway1.Job", "jobs", NULL), ==, 1);
	g_assert_cmpuint(
	    assert_listing_matches(d, "org.gwmo.Gateway1.Image", "images", NULL), ==, 1);
	g_assert_cmpuint(
	    assert_listing_matches(d, "org.gwmo.Gateway1.Plugin", "plugins", NULL), >=, 1);

	/* ls: one object per child, Name and URI, as ListChildren says */
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(
	    run_ctl(d, NULL, &out, &err, "--json", "ls", "./GwMO/Inventory/Devices", NULL), ==, 0);
	children_reply = gw_test_call(
	    d, "ListChildren", g_variant_new("(s)", "./GwMO/Inventory/Devices"), "(as)", &error);
	g_assert_no_error(error);
	g_variant_get(children_reply, "(^a&s)", &children);
	json_parser_load_from_data(parser, out, -1, &error);
	g_assert_no_error(error);
	array = json_node_get_array(json_parser_get_root(parser));
	g_assert_cmpuint(json_array_get_length(array), ==, g_strv_length((gchar **)children));
	g_assert_cmpuint(json_array_get_length(array), ==, 4);
	for (guint i = 0; children[i] != NULL; i++) {
		JsonObject *obj = json_array_get_object_element(array, i);
		g_autofree gchar *uri = g_strdup_printf("./GwMO/Inventory/Devices/%s", children[i]);
		g_assert_cmpuint(json_object_get_size(obj), ==, 2);
		g_assert_cmpstr(json_object_get_string_member(obj, "Name"), ==, children[i]);
		g_assert_cmpstr(json_object_get_string_member(obj, "URI"), ==, uri);
	}
	daemon_stop(d);
}

/* ---- monitor ---- */

typedef struct {
	gchar *event;
	gchar *path;
	JsonObject *obj; /* owned by parser */
	JsonParser *parser;
} Event;

static void
event_free(Event *e)
{
	g_free(e->event);
	g_free(e->path);
	g_object_unref(e->parser);
	g_free(e);
}

static Event *
event_parse(const gchar *line)
{
	Event *e = g_new0(Event, 1);
	g_autoptr(GError) error = NULL;

	e->parser = json_parser_new();
	json_parser_load_from_data(e->parser, line, -1, &error);
	g_assert_no_error(error);
	e->obj = json_node_get_object(json_parser_get_root(e->parser));
	g_assert_true(json_object_has_member(e->obj, "Time"));
	e->event = g_strdup(json_object_get_string_member(e->obj, "Event"));
	if (json_object_has_member(e->obj, "ObjectPath"))
		e->path = g_strdup(json_object_get_string_member(e->obj, "ObjectPath"));
	return e;
}

/*
 * monitor --json: one JSON object per line for a device AddDevice made, then for a job
 * Manager.Fanout made: job-added, its progress (Progress 100 at last) and job-finished
 * (Complete), in that order; Ctrl-C ends it with status 0.
 */
static void
test_monitor(void)
{
	GwTestDaemon *d = daemon_start();
	const gchar *argv[] = {
	    g_getenv("GWMO_TEST_GWMOCTL"), "--session", "--json", "monitor", NULL};
	g_autoptr(GSubprocessLauncher) launcher =
	    ctl_launcher(d, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, NULL);
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GDataInputStream) out = NULL;
	g_autoptr(GDataInputStream) err = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) device = NULL;
	g_autoptr(GVariant) job = NULL;
	g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)event_free);
	g_autofree gchar *ready = NULL;
	const gchar *device_path = NULL;
	const gchar *job_path = NULL;
	const gchar *devices[] = {"TEST-DEV-1", "TEST-DEV-2", "TEST-DEV-3", NULL};
	gint device_added = -1;
	gint job_added = -1;
	gint first_progress = -1;
	gint last_progress = -1;
	gint job_finished = -1;
	GVariantBuilder b;

	proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(proc));
	err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(proc));
	/* it says so once its match rules are in place */
	ready = read_line(err);
	g_assert_nonnull(ready);
	g_assert_nonnull(strstr(ready, "monitoring"));

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string("lamp-1"));
	g_variant_builder_add(&b, "{sv}", "Mode", g_variant_new_uint32(2));
	device = gw_test_call(d, "AddDevice", g_variant_new("(a{sv})", &b), "(o)", &error);
	g_assert_no_error(error);
	g_variant_get(device, "(&o)", &device_path);

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Devices", g_variant_new_strv(devices, -1));
	g_variant_builder_add(&b, "{sv}", "Command", g_variant_new_string("Get"));
	g_variant_builder_add(&b, "{sv}", "TargetURI", g_variant_new_string("./Test/Switch"));
	job = gw_test_call(d, "Fanout", g_variant_new("(a{sv})", &b), "(o)", &error);
	g_assert_no_error(error);
	g_variant_get(job, "(&o)", &job_path);

	while (job_finished < 0) {
		g_autofree gchar *line = read_line(out);
		Event *e;
		g_assert_nonnull(line);
		e = event_parse(line);
		g_ptr_array_add(events, e);
		if (g_strcmp0(e->event, "device-added") == 0 &&
		    g_strcmp0(e->path, device_path) == 0) {
			JsonObject *props = json_object_get_object_member(e->obj, "Properties");
			g_assert_cmpstr(
			    json_object_get_string_member(props, "DeviceID"), ==, "lamp-1");
			g_assert_cmpint(json_object_get_int_member(props, "Mode"), ==, 2);
			g_assert_cmpstr(json_object_get_string_member(e->obj, "Interface"),
			                ==,
			                "org.gwmo.Gateway1.Device");
			device_added = (gint)events->len - 1;
		} else if (g_strcmp0(e->path, job_path) == 0) {
			if (g_strcmp0(e->event, "job-added") == 0)
				job_added = (gint)events->len - 1;
			else if (g_strcmp0(e->event, "job-progress") == 0) {
				JsonObject *props =
				    json_object_get_object_member(e->obj, "Properties");
				if (first_progress < 0)
					first_progress = (gint)events->len - 1;
				last_progress = (gint)events->len - 1;
				g_assert_true(json_object_has_member(props, "Progress"));
			} else if (g_strcmp0(e->event, "job-finished") == 0) {
				g_assert_cmpstr(
				    json_object_get_string_member(e->obj, "State"), ==, "Complete");
				job_finished = (gint)events->len - 1;
			}
		}
	}
	g_assert_cmpint(device_added, >=, 0);
	g_assert_cmpint(device_added, <, job_added);
	g_assert_cmpint(job_added, <, first_progress);
	g_assert_cmpint(last_progress, <, job_finished);
	{
		Event *e = g_ptr_array_index(events, last_progress);
		JsonObject *props = json_object_get_object_member(e->obj, "Properties");
		g_assert_cmpint(json_object_get_int_member(props, "Progress"), ==, 100);
	}

	/* Ctrl-C: a clean end */
	g_subprocess_send_signal(proc, SIGINT);
	g_subprocess_wait(proc, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(proc));
	g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 0);
	daemon_stop(d);
}

/*
 * monitor (text): a session with a DM Server, here one that cannot be reached on a free
 * port, shows as session-finished with the server's new LastSession and LastSessionResult
 */
static void
test_monitor_session(void)
{
	GwTestDaemon *d = daemon_start();
	const gchar *argv[] = {g_getenv("GWMO_TEST_GWMOCTL"), "--session", "monitor", NULL};
	g_autoptr(GSubprocessLauncher) launcher =
	    ctl_launcher(d, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, NULL);
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GDataInputStream) out = NULL;
	g_autoptr(GDataInputStream) err = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *src =
	    g_build_filename(g_getenv("GWMO_TEST_DATA"), "dbus", "bootstrap-dmacc.xml", NULL);
	g_autofree gchar *tnds = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("gwmoctl-test-XXXXXX", &error);
	g_autofree gchar *file = NULL;
	g_autofree gchar *addr = g_strdup_printf("127.0.0.1:%u", gw_test_free_port());
	g_autofree gchar *ready = NULL;
	g_autofree gchar *o = NULL;
	g_autofree gchar *e = NULL;
	g_auto(GStrv) parts = NULL;
	gboolean seen = FALSE;

	g_assert_no_error(error);
	/* the account's server on a port where nobody listens */
	g_file_get_contents(src, &tnds, NULL, &error);
	g_assert_no_error(error);
	parts = g_strsplit(tnds, "127.0.0.1:7443", -1);
	g_clear_pointer(&tnds, g_free);
	tnds = g_strjoinv(addr, parts);
	file = g_build_filename(dir, "dmacc.xml", NULL);
	g_file_set_contents(file, tnds, -1, &error);
	g_assert_no_error(error);

	proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(proc));
	err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(proc));
	ready = read_line(err);
	g_assert_nonnull(strstr(ready, "monitoring"));

	g_assert_cmpint(run_ctl(d, NULL, &o, &e, "bootstrap", file, NULL), ==, 0);
	g_clear_pointer(&o, g_free);
	g_clear_pointer(&e, g_free);
	g_assert_cmpint(run_ctl(d, NULL, &o, &e, "session", "start", "srv1.example", NULL), ==, 1);
	while (!seen) {
		g_autofree gchar *line = read_line(out);
		g_assert_nonnull(line);
		/* "2026-…Z EVENT PATH KEY=VALUE…" */
		g_assert_true(g_ascii_isdigit(line[0]));
		if (strstr(line, " session-finished ") == NULL)
			continue;
		g_assert_nonnull(strstr(line, " /org/gwmo/Gateway1/Servers/"));
		g_assert_nonnull(strstr(line, " LastSession=20"));
		g_assert_nonnull(strstr(line, " LastSessionResult=\""));
		g_assert_nonnull(strstr(line, addr));
		seen = TRUE;
	}
	g_subprocess_send_signal(proc, SIGINT);
	g_subprocess_wait(proc, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 0);
	g_unlink(file);
	g_rmdir(dir);
	daemon_stop(d);
}

/* ---- fanout --wait ---- */

/*
 * Not on a terminal: the job's path, one "N%  k of n devices done" line per change ending at
 * 100%, the results and the state; exit status 0 for Complete, 1 otherwise. --json prints
 * nothing but the outcome. Ctrl-C (SIGINT) while waiting leaves the job running in gwmod
 * and says so, exit status 130.
 */
static void
test_wait(void)
{
	GwTestDaemon *d = daemon_start();
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	gint rc;

	rc = run_ctl(d,
	             NULL,
	             &out,
	             &err,
	             "fanout",
	             "--device",
	             "TEST-DEV-1",
	             "--device",
	             "TEST-DEV-2",
	             "--get",
	             "./Test/Switch",
	             "--wait",
	             NULL);
	g_assert_cmpint(rc, ==, 0);
	g_assert_true(g_str_has_prefix(out, "/org/gwmo/Gateway1/Jobs/"));
	g_assert_nonnull(strstr(out, "\n100%  2 of 2 devices done (2 succeeded, 0 failed)\n"));
	g_assert_nonnull(strstr(out, ": Complete, 2 of 2 succeeded\n"));
	g_assert_null(strchr(out, '\r'));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	/* a device that refuses: PartialFailure, exit status 1 */
	rc = run_ctl(d,
	             NULL,
	             &out,
	             &err,
	             "fanout",
	             "--device",
	             "TEST-DEV-1",
	             "--device",
	             "TEST-DEV-2",
	             "--exec",
	             "./Test/Operations/Fail",
	             "--wait",
	             NULL);
	g_assert_cmpint(rc, ==, 1);
	g_assert_nonnull(strstr(out, "\n100%  2 of 2 devices done (0 succeeded, 2 failed)\n"));
	g_assert_nonnull(strstr(out, ": PartialFailure, 0 of 2 succeeded\n"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	/* --json: the outcome alone, so it parses */
	rc = run_ctl(d,
	             NULL,
	             &out,
	             &err,
	             "--json",
	             "fanout",
	             "--device",
	             "TEST-DEV-3",
	             "--get",
	             "./Test/Switch",
	             "--wait",
	             NULL);
	g_assert_cmpint(rc, ==, 0);
	json_parser_load_from_data(parser, out, -1, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(json_object_get_string_member(
	                    json_node_get_object(json_parser_get_root(parser)), "State"),
	                ==,
	                "Complete");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	/* Ctrl-C while a device never answers */
	{
		const gchar *argv[] = {g_getenv("GWMO_TEST_GWMOCTL"),
		                       "--session",
		                       "fanout",
		                       "--device",
		                       "TEST-DEV-1",
		                       "--exec",
		                       "./Test/Operations/Hang",
		                       "--timeout",
		                       "120",
		                       "--wait",
		                       NULL};
		g_autoptr(GSubprocessLauncher) launcher = ctl_launcher(
		    d, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, NULL);
		g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
		g_autoptr(GDataInputStream) stdout_in = NULL;
		g_autoptr(GVariant) cancel = NULL;
		g_autofree gchar *path = NULL;
		g_autofree gchar *progress = NULL;
		g_autofree gchar *state = NULL;
		g_autofree gchar *rest = NULL;
		g_autofree gchar *errout = NULL;

		g_assert_no_error(error);
		stdout_in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(proc));
		path = read_line(stdout_in);
		g_assert_true(g_str_has_prefix(path, "/org/gwmo/Gateway1/Jobs/"));
		/* the first progress line: it waits now */
		progress = read_line(stdout_in);
		g_assert_cmpstr(progress, ==, "0%  0 of 1 device done (0 succeeded, 0 failed)");
		g_subprocess_send_signal(proc, SIGINT);
		g_subprocess_communicate_utf8(proc, NULL, NULL, &rest, &errout, &error);
		g_assert_no_error(error);
		g_assert_true(g_subprocess_get_if_exited(proc));
		g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 130);
		g_assert_nonnull(strstr(errout, "interrupted"));
		g_assert_nonnull(strstr(errout, path));
		/* the job did not notice */
		state = job_state(d, path);
		g_assert_cmpstr(state, ==, "InProgress");
		cancel = g_dbus_connection_call_sync(d->connection,
		                                     GW_NAME,
		                                     path,
		                                     "org.gwmo.Gateway1.Job",
		                                     "Cancel",
		                                     NULL,
		                                     NULL,
		                                     G_DBUS_CALL_FLAGS_NONE,
		                                     -1,
		                                     NULL,
		                                     &error);
		g_assert_no_error(error);
	}
	daemon_stop(d);
}

/* an HTTP server that sends half of a 100,000-byte body and then nothing; written
 * asynchronously, so the test's main context never waits for gwmod to read */
static gboolean
stall_incoming_cb(GSocketService *service,
                  GSocketConnection *connection,
                  GObject *source,
                  gpointer user_data)
{
	GPtrArray *held = user_data;
	GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(connection));
	const gchar *head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
	                    "Content-Length: 100000\r\n\r\n";
	gsize head_len = strlen(head);
	gchar *data = g_malloc0(head_len + 50000);

	/* the request is not read: whatever gwmod asks, this is the answer */
	memcpy(data, head, head_len);
	g_ptr_array_add(held, g_object_ref(connection));
	g_ptr_array_add(held, g_bytes_new_take(data, head_len + 50000));
	g_output_stream_write_all_async(
	    out, data, head_len + 50000, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
	return TRUE;
}

/*
 * images download --wait, not on a terminal: an "N%" line while it downloads; Ctrl-C leaves
 * the download running in gwmod and says so, exit status 130
 */
static void
test_wait_download_interrupted(void)
{
	GwTestDaemon *d = daemon_start();
	g_autoptr(GSocketService) service = g_socket_service_new();
	/* the connections (GSocketConnection) and what is written to them (GBytes) */
	g_autoptr(GPtrArray) held = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) image = NULL;
	g_autoptr(GVariant) state = NULL;
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GDataInputStream) out = NULL;
	g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
	g_autoptr(GSocketAddress) bound = NULL;
	g_autofree gchar *url = NULL;
	g_autofree gchar *rest = NULL;
	g_autofree gchar *errout = NULL;
	const gchar *path = NULL;
	const gchar *argv[] = {
	    g_getenv("GWMO_TEST_GWMOCTL"), "--session", "images", "download", NULL, "--wait", NULL};
	g_autofree gchar *first = NULL;
	GVariantBuilder b;

	g_socket_listener_add_address(G_SOCKET_LISTENER(service),
	                              any,
	                              G_SOCKET_TYPE_STREAM,
	                              G_SOCKET_PROTOCOL_TCP,
	                              NULL,
	                              &bound,
	                              &error);
	g_assert_no_error(error);
	g_signal_connect(service, "incoming", G_CALLBACK(stall_incoming_cb), held);
	g_socket_service_start(service);
	url = g_strdup_printf("http://127.0.0.1:%u/fw.bin",
	                      g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound)));

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Name", g_variant_new_string("fw"));
	g_variant_builder_add(&b, "{sv}", "ExternalURI", g_variant_new_string(url));
	g_variant_builder_add(
	    &b,
	    "{sv}",
	    "Hash",
	    g_variant_new_string(
	        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
	image = gw_test_call(d, "AddImage", g_variant_new("(a{sv})", &b), "(o)", &error);
	g_assert_no_error(error);
	g_variant_get(image, "(&o)", &path);
	argv[4] = path;

	launcher =
	    ctl_launcher(d, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, NULL);
	proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(proc));
	/* the main context runs while gwmoctl's lines are awaited: the server serves; the
	 * first line says that gwmoctl waits (half the body may or may not be counted yet) */
	first = read_line(out);
	g_assert_nonnull(first);
	g_assert_true(g_str_has_suffix(first, "%"));
	g_subprocess_send_signal(proc, SIGINT);
	g_subprocess_communicate_utf8(proc, NULL, NULL, &rest, &errout, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(proc));
	g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 130);
	g_assert_nonnull(strstr(errout, "interrupted"));
	g_assert_nonnull(strstr(errout, path));
	/* gwmod goes on downloading */
	state =
	    g_dbus_connection_call_sync(d->connection,
	                                GW_NAME,
	                                path,
	                                "org.freedesktop.DBus.Properties",
	                                "Get",
	                                g_variant_new("(ss)", "org.gwmo.Gateway1.Image", "State"),
	                                G_VARIANT_TYPE("(v)"),
	                                G_DBUS_CALL_FLAGS_NONE,
	                                -1,
	                                NULL,
	                                &error);
	g_assert_no_error(error);
	{
		g_autoptr(GVariant) v = NULL;
		g_variant_get(state, "(v)", &v);
		g_assert_cmpstr(g_variant_get_string(v, NULL), ==, "Downloading");
	}
	g_socket_service_stop(service);
	g_socket_listener_close(G_SOCKET_LISTENER(service));
	for (guint i = 0; i + 1 < held->len; i += 2) {
		GIOStream *connection = g_ptr_array_index(held, i);
		g_io_stream_close(connection, NULL, NULL);
		g_object_unref(connection);
		g_bytes_unref(g_ptr_array_index(held, i + 1));
	}
	daemon_stop(d);
}

/*
 * On a terminal (a pty): one line redrawn with \r, a bar and the counts, ending at 100%,
 * then a newline before the results.
 */
static void
test_wait_tty(void)
{
	GwTestDaemon *d = daemon_start();
	const gchar *argv[] = {g_getenv("GWMO_TEST_GWMOCTL"),
	                       "--session",
	                       "fanout",
	                       "--device",
	                       "TEST-DEV-1",
	                       "--device",
	                       "TEST-DEV-2",
	                       "--get",
	                       "./Test/Switch",
	                       "--wait",
	                       NULL};
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) text = g_string_new(NULL);
	g_autofree gchar *bar_line = NULL;
	const gchar *nl;
	gint master;
	gint slave;
	gchar buf[4096];
	gssize n;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	g_assert_cmpint(master, >=, 0);
	g_assert_cmpint(grantpt(master), ==, 0);
	g_assert_cmpint(unlockpt(master), ==, 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	g_assert_cmpint(slave, >=, 0);
	launcher = ctl_launcher(d, G_SUBPROCESS_FLAGS_STDERR_PIPE, NULL);
	g_subprocess_launcher_take_stdout_fd(launcher, slave);
	proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	/* the parent's copy of the slave went with the launcher: EOF (EIO) once gwmoctl exits */
	g_clear_object(&launcher);
	while ((n = read(master, buf, sizeof(buf))) > 0)
		g_string_append_len(text, buf, n);
	close(master);
	g_subprocess_wait(proc, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 0);

	/* the first line (the pty turns \n into \r\n) is the bar, redrawn in place */
	nl = strstr(text->str, "\r\n");
	g_assert_nonnull(nl);
	bar_line = g_strndup(text->str, (gsize)(nl - text->str));
	g_assert_true(g_str_has_prefix(bar_line, "\r["));
	g_assert_nonnull(strstr(bar_line, "] 100%  2 of 2 devices done (2 succeeded, 0 failed)"));
	g_assert_true(g_str_has_suffix(bar_line, "(2 succeeded, 0 failed)") ||
	              strstr(bar_line, "(2 succeeded, 0 failed) ") != NULL);
	/* the results follow on their own lines */
	g_assert_nonnull(strstr(nl, "\r\nDEVICEID"));
	g_assert_nonnull(strstr(nl, ": Complete, 2 of 2 succeeded\r\n"));
	daemon_stop(d);
}

/* ---- bash completion ---- */

/* what _gwmoctl offers for the words (the last one is being completed), one per line */
static gchar *
complete(GwTestDaemon *d, const gchar *words)
{
	g_autofree gchar *script = g_strdup_printf("source '%s' || exit 1\n"
	                                           "COMP_WORDS=(%s)\n"
	                                           "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
	                                           "COMP_LINE=\"${COMP_WORDS[*]}\"\n"
	                                           "COMP_POINT=${#COMP_LINE}\n"
	                                           "_gwmoctl\n"
	                                           "printf '%%s\\n' \"${COMPREPLY[@]}\"\n",
	                                           completion_path,
	                                           words);
	const gchar *argv[] = {"bash", "--norc", "--noprofile", "-c", script, NULL};
	g_autoptr(GSubprocessLauncher) launcher =
	    ctl_launcher(d, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, NULL);
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *err = NULL;
	gchar *out = NULL;

	proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, &error);
	g_assert_no_error(error);
	if (g_subprocess_get_exit_status(proc) != 0)
		g_error("completion of %s failed: %s", words, err);
	return out;
}

static void
test_completion(void)
{
	GwTestDaemon *d = daemon_start();
	const gchar *syntax[] = {"bash", "-n", completion_path, NULL};
	g_autoptr(GSubprocess) check = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	g_autofree gchar *ctl = g_shell_quote(g_getenv("GWMO_TEST_GWMOCTL"));
	g_autofree gchar *words = NULL;
	g_autofree gchar *reply = NULL;

	check = g_subprocess_newv(syntax, G_SUBPROCESS_FLAGS_NONE, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_wait_check(check, NULL, &error));
	g_assert_no_error(error);

	/* a command */
	reply = complete(d, "gwmoctl mon");
	g_assert_cmpstr(reply, ==, "monitor\n");
	g_clear_pointer(&reply, g_free);
	reply = complete(d, "gwmoctl --json gro");
	g_assert_cmpstr(reply, ==, "groups\ngroup-add\ngroup-member\n");
	g_clear_pointer(&reply, g_free);
	/* an option of that command, and its values */
	reply = complete(d, "gwmoctl fanout --max");
	g_assert_cmpstr(reply, ==, "--max-in-flight\n");
	g_clear_pointer(&reply, g_free);
	reply = complete(d, "gwmoctl device-add x --auth ''");
	g_assert_cmpstr(reply, ==, "BASIC\nDIGEST\nHMAC\n");
	g_clear_pointer(&reply, g_free);

	/* live: DeviceIDs and URIs from gwmod, through the gwmoctl being completed */
	g_assert_cmpint(run_ctl(d, NULL, &out, &err, "device-add", "lamp-1", NULL), ==, 0);
	words = g_strdup_printf("%s --session device ''", ctl);
	reply = complete(d, words);
	g_assert_cmpstr(reply, ==, "TEST-DEV-1\nTEST-DEV-2\nTEST-DEV-3\nlamp-1\n");
	g_clear_pointer(&reply, g_free);
	g_clear_pointer(&words, g_free);
	words = g_strdup_printf("%s --session fanout --device TEST-DEV-1 --device lam", ctl);
	reply = complete(d, words);
	g_assert_cmpstr(reply, ==, "lamp-1\n");
	g_clear_pointer(&reply, g_free);
	g_clear_pointer(&words, g_free);
	words = g_strdup_printf("%s --session get ./GwMO/Inv", ctl);
	reply = complete(d, words);
	g_assert_cmpstr(reply, ==, "./GwMO/Inventory\n");
	daemon_stop(d);
}

/* ---- translations ---- */

/* LANGUAGE=de with the build tree's catalog: gwmoctl's messages, old and new, in German */
static void
test_german(void)
{
	GwTestDaemon *d = daemon_start();
	g_autofree gchar *dir_env = g_strdup_printf("GWMO_LOCALEDIR=%s", localedir);
	const gchar *env[] = {"LANGUAGE=de", dir_env, NULL};
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;

	g_assert_cmpint(run_ctl(d, env, &out, &err, "device", "nosuch", NULL), ==, 4);
	g_assert_cmpstr(err, ==, "gwmoctl: unbekanntes Gerät nosuch\n");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run_ctl(d,
	                        env,
	                        &out,
	                        &err,
	                        "fanout",
	                        "--device",
	                        "TEST-DEV-1",
	                        "--get",
	                        "./Test/Switch",
	                        "--wait",
	                        NULL),
	                ==,
	                0);
	g_assert_nonnull(
	    strstr(out, "\n100%  1 von 1 Gerät fertig (1 erfolgreich, 0 fehlgeschlagen)\n"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	/* the same without the catalog: English */
	g_assert_cmpint(run_ctl(d, NULL, &out, &err, "device", "nosuch", NULL), ==, 4);
	g_assert_cmpstr(err, ==, "gwmoctl: no device nosuch\n");
	daemon_stop(d);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_assert_cmpint(argc, ==, 4);
	plugin_path = argv[1];
	completion_path = argv[2];
	localedir = argv[3];
	g_test_add_func("/gw/dbus/gwmoctl/json-listings", test_json_listings);
	g_test_add_func("/gw/dbus/gwmoctl/monitor", test_monitor);
	g_test_add_func("/gw/dbus/gwmoctl/monitor-session", test_monitor_session);
	g_test_add_func("/gw/dbus/gwmoctl/wait", test_wait);
	g_test_add_func("/gw/dbus/gwmoctl/wait-download-interrupted",
	                test_wait_download_interrupted);
	g_test_add_func("/gw/dbus/gwmoctl/wait-tty", test_wait_tty);
	g_test_add_func("/gw/dbus/gwmoctl/completion", test_completion);
	g_test_add_func("/gw/dbus/gwmoctl/german", test_german);
	return g_test_run();
}
