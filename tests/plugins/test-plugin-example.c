/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The example plugin (docs/plugin-example) as a third party builds it: against gwmo installed
 * into a DESTDIR, with pkg-config gwmo-plugin-1 alone (tests/tools/build-plugin-example.sh,
 * which also checks what the install put there). The real gwmod loads the built module from
 * --plugin-dir, its device becomes an inventory record, and the reference DM Server drives it
 * through Fanout jobs in its sessions with the gateway: a Replace that the plugin writes into
 * the device's file, Gets of what it wrote and of ./DevInfo/Man. The device's file goes: the
 * record is Detached.
 *
 * $GWMO_TEST_EXAMPLE_PLUGIN_DIR names the plugin directory where CI installed the example
 * (tests/tools/run-tests.sh); without it the test builds it itself.
 *
 * Arguments: the build-plugin-example.sh script, gwmo's build directory, the reference DM
 * Server (tests/peers/gwmo-test-server).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "gw-e2e.h"

static const gchar *build_script;
static const gchar *build_root;

static void
rm_rf(const gchar *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const gchar *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *child = g_build_filename(path, name, NULL);
		rm_rf(child);
	}
	g_remove(path);
}

/* the plugin directory the example was installed into (built now when CI did not) */
static gchar *
example_plugin_dir(gchar **workdir)
{
	const gchar *env = g_getenv("GWMO_TEST_EXAMPLE_PLUGIN_DIR");
	g_autoptr(GError) error = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	g_auto(GStrv) lines = NULL;
	gint status = 0;
	guint n;

	*workdir = NULL;
	if (env != NULL && env[0] != '\0') {
		g_test_message("the example as CI built it: %s", env);
		return g_strdup(env);
	}
	*workdir = g_dir_make_tmp("gwmo-example-XXXXXX", &error);
	g_assert_no_error(error);
	{
		const gchar *argv[] = {build_script, build_root, *workdir, NULL};
		g_spawn_sync(NULL,
		             (gchar **)argv,
		             NULL,
		             G_SPAWN_DEFAULT,
		             NULL,
		             NULL,
		             &out,
		             &err,
		             &status,
		             &error);
	}
	g_assert_no_error(error);
	if (!g_spawn_check_wait_status(status, NULL))
		g_printerr("%s failed:\n%s\n%s\n", build_script, out, err);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	lines = g_strsplit(g_strstrip(out), "\n", -1);
	n = g_strv_length(lines);
	g_assert_cmpuint(n, >, 0);
	return g_strdup(lines[n - 1]);
}

static gchar *
get_string(GwTestDaemon *d, const gchar *path, const gchar *iface, const gchar *prop)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) value = NULL;

	reply = g_dbus_connection_call_sync(d->connection,
	                                    "org.gwmo.Gateway1",
	                                    path,
	                                    "org.freedesktop.DBus.Properties",
	                                    "Get",
	                                    g_variant_new("(ss)", iface, prop),
	                                    G_VARIANT_TYPE("(v)"),
	                                    G_DBUS_CALL_FLAGS_NONE,
	                                    30000,
	                                    NULL,
	                                    &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(v)", &value);
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN))
		return g_strdup(g_variant_get_boolean(value) ? "true" : "false");
	return g_variant_dup_string(value, NULL);
}

/* the Fanout job @name of one device: @command on @target (@data for a Replace) */
static gchar *
job_commands(const gchar *name, const gchar *command, const gchar *target, const gchar *data)
{
	GString *s = g_string_new(NULL);

	g_string_append_printf(
	    s, "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s\",\"format\":\"node\"},", name);
	g_string_append_printf(
	    s,
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Targets/Devices/1\",\"data\":\"lamp-1\"},",
	    name);
	g_string_append_printf(
	    s,
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Command\",\"data\":\"%s\"},",
	    name,
	    command);
	g_string_append_printf(
	    s,
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/TargetURI\",\"data\":\"%s\"},",
	    name,
	    target);
	if (data != NULL)
		g_string_append_printf(
		    s,
		    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Data\",\"data\":\"%s\"},",
		    name,
		    data);
	g_string_append_printf(s,
	                       "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Timeout\",\"format\":"
	                       "\"int\",\"data\":\"20\"},",
	                       name);
	g_string_append_printf(s,
	                       "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/Fanout/%s/Operations/Start\","
	                       "\"correlator\":\"c-%s\"}",
	                       name,
	                       name);
	return g_string_free(s, FALSE);
}

/* the aggregated result of job @name, as the FanoutComplete alert of @session carried it */
static const gchar *
job_document(JsonObject *session, const gchar *name)
{
	g_autofree gchar *source = g_strdup_printf("./GwMO/Fanout/%s", name);
	JsonObject *alert = session_alert(session, "urn:oma:at:gwmo:1.0:FanoutComplete");
	JsonArray *alerts = json_object_get_array_member(session, "generic_alerts");

	for (guint i = 0; alerts != NULL && i < json_array_get_length(alerts); i++) {
		JsonObject *a = json_array_get_object_element(alerts, i);
		if (g_strcmp0(json_object_get_string_member(a, "source"), source) == 0)
			alert = a;
	}
	g_assert_nonnull(alert);
	g_assert_cmpstr(json_object_get_string_member(alert, "source"), ==, source);
	return json_object_get_string_member(alert, "data");
}

/* the inventory's Status of @device, NULL when it has no record */
static gchar *
device_status(GwTestDaemon *d, const gchar *device, gchar **protocol)
{
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	JsonArray *array;

	g_assert_cmpint(gw_test_run_gwmoctl(d, &out, &err, "--json", "devices", NULL), ==, 0);
	json_parser_load_from_data(parser, out, -1, &error);
	g_assert_no_error(error);
	array = json_node_get_array(json_parser_get_root(parser));
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonObject *obj = json_array_get_object_element(array, i);
		if (g_strcmp0(json_object_get_string_member(obj, "DeviceID"), device) != 0)
			continue;
		if (protocol != NULL)
			*protocol = g_strdup(json_object_get_string_member(obj, "Protocol"));
		return g_strdup(json_object_get_string_member(obj, "Status"));
	}
	return NULL;
}

static void
test_example(void)
{
	g_autofree gchar *workdir = NULL;
	g_autofree gchar *installed = example_plugin_dir(&workdir);
	g_autofree gchar *module = g_build_filename(installed, "libgw_plugin_example.so", NULL);
	g_autofree gchar *tmp = g_dir_make_tmp("gwmo-example-devices-XXXXXX", NULL);
	g_autofree gchar *devices = g_build_filename(tmp, "devices", NULL);
	g_autofree gchar *plugins = g_build_filename(tmp, "plugins", NULL);
	g_autofree gchar *link = g_build_filename(plugins, "libgw_plugin_example.so", NULL);
	g_autofree gchar *lamp = g_build_filename(devices, "lamp.device", NULL);
	g_autofree gchar *config = NULL;
	g_autofree gchar *state = NULL;
	g_autofree gchar *shipped = NULL;
	g_autofree gchar *protocol = NULL;
	g_autofree gchar *tainted = NULL;
	g_autofree gchar *status = NULL;
	g_autofree gchar *record_protocol = NULL;
	g_autofree gchar *record = NULL;
	g_autofree gchar *script = NULL;
	g_autofree gchar *r = job_commands("r", "Replace", "./Example/Values/power", "on");
	g_autofree gchar *g = job_commands("g", "Get", "./Example/Values/power", NULL);
	g_autofree gchar *m = job_commands("m", "Get", "./DevInfo/Man", NULL);
	g_autofree gchar *file = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	const gchar *path = "/org/gwmo/Gateway1/Plugins/example";
	const gchar *doc;
	JsonArray *sessions;
	Env *e;

	g_assert_true(g_file_test(module, G_FILE_TEST_IS_REGULAR));
	g_assert_cmpint(g_mkdir(devices, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(plugins, 0755), ==, 0);
	/* the installed module alone (a plugin directory of gwmo's may hold others) */
	g_assert_cmpint(symlink(module, link), ==, 0);
	g_assert_true(g_file_set_contents(lamp,
	                                  "[device]\nid=lamp-1\nmanufacturer=ACME\n"
	                                  "model=Lamp 2000\nfirmware=1.0.4\n"
	                                  "[values]\npower=off\nbrightness=40\n",
	                                  -1,
	                                  NULL));

	/* the gateway bootstrapped to the reference DM Server, then with the plugin */
	config = g_strdup_printf("[fanout]\nsync-wait=30\n[example]\ndirectory=%s\n", devices);
	e = env_new_with_config(config);
	gw_test_daemon_stop(e->d);
	{
		const gchar *args[] = {"--plugin-dir", plugins, NULL};
		gw_test_daemon_start(e->d, args);
	}
	state = get_string(e->d, path, "org.gwmo.Gateway1.Plugin", "State");
	shipped = get_string(e->d, path, "org.gwmo.Gateway1.Plugin", "Shipped");
	protocol = get_string(e->d, path, "org.gwmo.Gateway1.Plugin", "Protocol");
	tainted = get_string(e->d, "/org/gwmo/Gateway1", "org.gwmo.Gateway1.Manager", "Tainted");
	g_assert_cmpstr(state, ==, "Running");
	g_assert_cmpstr(protocol, ==, "Example-Files");
	/* built outside gwmo's tree: it taints */
	g_assert_cmpstr(shipped, ==, "false");
	g_assert_cmpstr(tainted, ==, "true");
	status = device_status(e->d, "lamp-1", &record_protocol);
	g_assert_cmpstr(status, ==, "Attached");
	g_assert_cmpstr(record_protocol, ==, "Example-Files");

	/* the DM Server: a Replace in its first session, two Gets in its second, each job's
	 * aggregated result in the held reply */
	record = g_build_filename(e->dir, "record.json", NULL);
	script =
	    g_strdup_printf("{\"sessions\":[{\"commands\":[%s]},{\"commands\":[%s,%s]}]}", r, g, m);
	server = server_start(e, script, record, CL_SECRET, "--sessions=2", NULL);
	e2e_start_session(e->d);
	e2e_start_session(e->d);
	server_wait(server);
	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), >=, 2);
	doc = job_document(json_array_get_object_element(sessions, 0), "r");
	g_test_message("r: %s", doc);
	g_assert_nonnull(strstr(doc, "state=\"Complete\" total=\"1\" succeeded=\"1\""));
	g_assert_true(g_file_get_contents(lamp, &file, NULL, NULL));
	g_assert_nonnull(strstr(file, "power=on"));
	doc = job_document(json_array_get_object_element(sessions, 1), "g");
	g_test_message("g: %s", doc);
	g_assert_nonnull(
	    strstr(doc, "<Device id=\"lamp-1\" status=\"200\"><Data format=\"chr\">on</Data>"));
	doc = job_document(json_array_get_object_element(sessions, 1), "m");
	g_test_message("m: %s", doc);
	g_assert_nonnull(
	    strstr(doc, "<Device id=\"lamp-1\" status=\"200\"><Data format=\"chr\">ACME</Data>"));

	/* the device's file goes: lost, Detached */
	g_assert_cmpint(g_unlink(lamp), ==, 0);
	for (guint i = 0; i < 600; i++) {
		g_free(status);
		status = device_status(e->d, "lamp-1", NULL);
		if (g_strcmp0(status, "Detached") == 0)
			break;
		g_usleep(50 * 1000);
	}
	g_assert_cmpstr(status, ==, "Detached");

	gw_test_daemon_stop(e->d);
	env_free(e);
	rm_rf(tmp);
	if (workdir != NULL)
		rm_rf(workdir);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_assert_cmpint(argc, ==, 4);
	build_script = argv[1];
	build_root = argv[2];
	server_binary = argv[3];
	g_test_add_func("/plugin-example/installed-loaded-driven", test_example);
	return g_test_run();
}
