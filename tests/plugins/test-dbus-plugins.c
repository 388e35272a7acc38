/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The real gwmod and its plugins (issue 12 §3), on a private bus: each plugin reported on
 * D-Bus (org.gwmo.Gateway1.Plugin), in ./GwMO/Config/Adapters and by gwmoctl plugins; broken
 * plugins skipped with their reason while gwmod goes on; Manager.Tainted; Enabled at run time
 * and across a restart; plugins-disabled; and the crash guard: a plugin that kills gwmod in its
 * startup twice is quarantined at the third start, and gwmoctl plugins reset lifts it. With the
 * adapter registry: a plugin whose command hangs gets 408 at the job's deadline while gwmod
 * answers D-Bus; a plugin that crashes gwmod in a command twice is quarantined at the third
 * start and its device answers 503; a plugin disabled at run time takes its devices along.
 *
 * Argument: the directory of the built test modules (tests/plugins).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "gw-test-daemon.h"

#define PLUGIN_IFACE "org.gwmo.Gateway1.Plugin"

static gchar *modules_dir;

/* a plugin directory of the test's own, with @names' modules linked in */
static gchar *
make_plugin_dir(GwTestDaemon *d, const gchar *const *names)
{
	gchar *dir = g_build_filename(d->tmpdir, "plugins", NULL);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	for (guint i = 0; names[i] != NULL; i++) {
		g_autofree gchar *file = g_strdup_printf("libgw_plugin_%s.so", names[i]);
		g_autofree gchar *target = g_build_filename(modules_dir, file, NULL);
		g_autofree gchar *link = g_build_filename(dir, file, NULL);
		g_assert_cmpint(symlink(target, link), ==, 0);
	}
	return dir;
}

/* the module of @name is now @module's (a new release of the plugin) */
static void
replace_module(const gchar *dir, const gchar *name, const gchar *module)
{
	g_autofree gchar *file = g_strdup_printf("libgw_plugin_%s.so", name);
	g_autofree gchar *link = g_build_filename(dir, file, NULL);
	g_autofree gchar *target_file = g_strdup_printf("libgw_plugin_%s.so", module);
	g_autofree gchar *target = g_build_filename(modules_dir, target_file, NULL);

	g_assert_cmpint(g_unlink(link), ==, 0);
	g_assert_cmpint(symlink(target, link), ==, 0);
}

static GVariant *
get_property(GwTestDaemon *d, const gchar *path, const gchar *iface, const gchar *name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariant *value = NULL;

	reply = g_dbus_connection_call_sync(d->connection,
	                                    "org.gwmo.Gateway1",
	                                    path,
	                                    "org.freedesktop.DBus.Properties",
	                                    "Get",
	                                    g_variant_new("(ss)", iface, name),
	                                    G_VARIANT_TYPE("(v)"),
	                                    G_DBUS_CALL_FLAGS_NONE,
	                                    30000,
	                                    NULL,
	                                    &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(v)", &value);
	return value;
}

static gchar *
plugin_string(GwTestDaemon *d, const gchar *name, const gchar *prop)
{
	g_autofree gchar *path = g_strdup_printf("/org/gwmo/Gateway1/Plugins/%s", name);
	g_autoptr(GVariant) value = get_property(d, path, PLUGIN_IFACE, prop);
	return g_variant_dup_string(value, NULL);
}

static gboolean
plugin_bool(GwTestDaemon *d, const gchar *name, const gchar *prop)
{
	g_autofree gchar *path = g_strdup_printf("/org/gwmo/Gateway1/Plugins/%s", name);
	g_autoptr(GVariant) value = get_property(d, path, PLUGIN_IFACE, prop);
	return g_variant_get_boolean(value);
}

static gboolean
tainted(GwTestDaemon *d)
{
	g_autoptr(GVariant) value =
	    get_property(d, "/org/gwmo/Gateway1", "org.gwmo.Gateway1.Manager", "Tainted");
	return g_variant_get_boolean(value);
}

static gchar *
get_node(GwTestDaemon *d, const gchar *uri)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    gw_test_call(d, "GetNode", g_variant_new("(s)", uri), "(ssv)", &error);
	g_autoptr(GVariant) value = NULL;

	g_assert_no_error(error);
	g_variant_get(reply, "(&s&sv)", NULL, NULL, &value);
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN))
		return g_strdup(g_variant_get_boolean(value) ? "true" : "false");
	return g_variant_dup_string(value, NULL);
}

static void
assert_plugin(GwTestDaemon *d, const gchar *name, const gchar *state, const gchar *error_part)
{
	g_autofree gchar *got_state = plugin_string(d, name, "State");
	g_autofree gchar *got_error = plugin_string(d, name, "Error");
	g_autofree gchar *state_uri = g_strdup_printf("./GwMO/Config/Adapters/%s/State", name);
	g_autofree gchar *node_state = get_node(d, state_uri);

	if (g_strcmp0(got_state, state) != 0 ||
	    (error_part != NULL && strstr(got_error, error_part) == NULL))
		g_printerr("plugin %s: %s (%s), expected %s (%s)\n",
		           name,
		           got_state,
		           got_error,
		           state,
		           error_part != NULL ? error_part : "");
	g_assert_cmpstr(got_state, ==, state);
	g_assert_cmpstr(node_state, ==, state);
	if (error_part != NULL)
		g_assert_nonnull(strstr(got_error, error_part));
	else
		g_assert_cmpstr(got_error, ==, "");
}

/* the columns of @name's line of a gwmoctl table (columns are two spaces or more apart) */
static gchar **
table_row(const gchar *out, const gchar *name)
{
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		gchar **cols = g_regex_split_simple("  +", lines[i], 0, 0);
		if (g_strcmp0(cols[0], name) == 0)
			return cols;
		g_strfreev(cols);
	}
	g_printerr("no line for %s in:\n%s\n", name, out);
	g_assert_not_reached();
}

static void
start_with_plugins(GwTestDaemon *d, const gchar *dir)
{
	const gchar *args[] = {"--plugin-dir", dir, NULL};
	gw_test_daemon_start(d, args);
}

static void
child_setup(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* gwmod as gw_test_daemon_start() starts it, without waiting for its bus name; its log goes
 * to the test's */
static GSubprocess *
spawn_gwmod(GwTestDaemon *d, const gchar *dir)
{
	const gchar *gwmod = g_getenv("GWMO_TEST_GWMOD");
	const gchar *argv[] = {gwmod,
	                       "--session",
	                       "--verbose",
	                       "--config",
	                       d->config_path,
	                       "--state-dir",
	                       d->state_dir,
	                       "--plugin-dir",
	                       dir,
	                       NULL};
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GError) error = NULL;
	GSubprocess *proc;

	g_subprocess_launcher_setenv(
	    launcher, "DBUS_SESSION_BUS_ADDRESS", g_test_dbus_get_bus_address(d->bus), TRUE);
	g_subprocess_launcher_unsetenv(launcher, "STATE_DIRECTORY");
	g_subprocess_launcher_set_stderr_file_path(launcher, d->log_path);
	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	return proc;
}

/* @proc ended, killed by @signum */
static void
assert_died_of(GwTestDaemon *d, GSubprocess *proc, gint signum)
{
	if (!g_subprocess_get_if_signaled(proc) || g_subprocess_get_term_sig(proc) != signum) {
		g_autofree gchar *log = gw_test_daemon_read_log(d);
		g_printerr("gwmod did not die of signal %d; its log:\n%s\n", signum, log);
	}
	g_assert_true(g_subprocess_get_if_signaled(proc));
	g_assert_cmpint(g_subprocess_get_term_sig(proc), ==, signum);
}

/* starts gwmod and waits for it to die of @signum (before it owns its bus name) */
static void
start_expect_death(GwTestDaemon *d, const gchar *dir, gint signum)
{
	g_autoptr(GSubprocess) proc = spawn_gwmod(d, dir);
	g_autoptr(GError) error = NULL;

	g_subprocess_wait(proc, NULL, &error);
	g_assert_no_error(error);
	assert_died_of(d, proc, signum);
}

static gboolean
name_has_owner(GwTestDaemon *d)
{
	g_autoptr(GVariant) reply = NULL;
	gboolean owned = FALSE;

	reply = g_dbus_connection_call_sync(d->connection,
	                                    "org.freedesktop.DBus",
	                                    "/org/freedesktop/DBus",
	                                    "org.freedesktop.DBus",
	                                    "NameHasOwner",
	                                    g_variant_new("(s)", "org.gwmo.Gateway1"),
	                                    G_VARIANT_TYPE("(b)"),
	                                    G_DBUS_CALL_FLAGS_NONE,
	                                    -1,
	                                    NULL,
	                                    NULL);
	if (reply != NULL)
		g_variant_get(reply, "(b)", &owned);
	return owned;
}

/* the JSON object of `gwmoctl --json fanout … --wait`'s result for @device */
static JsonObject *
result_of(JsonParser *parser, const gchar *device)
{
	JsonArray *results = json_object_get_array_member(
	    json_node_get_object(json_parser_get_root(parser)), "Results");

	for (guint i = 0; i < json_array_get_length(results); i++) {
		JsonObject *r = json_array_get_object_element(results, i);
		if (g_strcmp0(json_object_get_string_member(r, "DeviceID"), device) == 0)
			return r;
	}
	g_printerr("no result for %s\n", device);
	g_assert_not_reached();
}

/* the Device object's @field of @device, as gwmoctl --json devices lists it */
static gchar *
device_field(GwTestDaemon *d, const gchar *device, const gchar *field)
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
		if (g_strcmp0(json_object_get_string_member(obj, "DeviceID"), device) == 0)
			return g_strdup(json_object_get_string_member(obj, field));
	}
	return NULL;
}

/* the inventory's Status of @device */
static gchar *
device_status(GwTestDaemon *d, const gchar *device)
{
	return device_field(d, device, "Status");
}

static gboolean
timeout_cb(gpointer user_data)
{
	*(gboolean *)user_data = TRUE;
	return G_SOURCE_REMOVE;
}

/* waits (at most @seconds) for @proc to end; TRUE when it did */
static gboolean
wait_exit(GSubprocess *proc, guint seconds)
{
	gboolean timed_out = FALSE;
	guint id = g_timeout_add_seconds(seconds, timeout_cb, &timed_out);

	while (!timed_out && g_subprocess_get_identifier(proc) != NULL)
		g_main_context_iteration(NULL, TRUE);
	if (!timed_out)
		g_source_remove(id);
	return !timed_out;
}

/* gwmoctl ARGS… started, not waited for */
static GSubprocess *
gwmoctl_spawn(GwTestDaemon *d, const gchar *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
	    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
	g_autoptr(GError) error = NULL;
	GSubprocess *proc;

	g_ptr_array_add(argv, (gpointer)g_getenv("GWMO_TEST_GWMOCTL"));
	g_ptr_array_add(argv, (gpointer) "--session");
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);
	g_subprocess_launcher_setenv(
	    launcher, "DBUS_SESSION_BUS_ADDRESS", g_test_dbus_get_bus_address(d->bus), TRUE);
	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	return proc;
}

/* every plugin found is reported with what became of it; the broken ones do not stop gwmod */
static void
test_report(void)
{
	GwTestDaemon *d = gw_test_daemon_new_with_config("[northbound]\nlisten=\n"
	                                                 "[southbound]\nlisten=\n"
	                                                 "[good]\ngreeting=hi\n");
	const gchar *names[] = {
	    "good", "foreign", "failstart", "wrongabi", "missingsym", "notaplugin", NULL};
	g_autofree gchar *dir = make_plugin_dir(d, names);
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	g_autofree gchar *log = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *version = NULL;
	g_autofree gchar *protocol = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	JsonArray *array;
	gboolean seen_good = FALSE;

	start_with_plugins(d, dir);
	assert_plugin(d, "good", "Running", NULL);
	assert_plugin(d, "foreign", "Running", NULL);
	assert_plugin(d, "failstart", "Failed", "startup failed: the test says no");
	assert_plugin(d, "wrongabi", "Failed", "built for plugin API 42; this gwmod has API 1");
	assert_plugin(d, "missingsym", "Failed", "undefined symbol: gw_plugin_set_something_new");
	assert_plugin(d, "notaplugin", "Failed", "not a subclass of GwPlugin");
	path = plugin_string(d, "good", "Path");
	g_assert_true(g_str_has_suffix(path, "/plugins/libgw_plugin_good.so"));
	version = plugin_string(d, "good", "Version");
	g_assert_cmpstr(version, ==, "1.2.3");
	protocol = plugin_string(d, "good", "Protocol");
	g_assert_cmpstr(protocol, ==, "TestGood");
	g_assert_true(plugin_bool(d, "good", "Enabled"));
	g_assert_true(plugin_bool(d, "good", "Shipped"));
	g_assert_false(plugin_bool(d, "foreign", "Shipped"));
	/* foreign was not built by this build */
	g_assert_true(tainted(d));
	{
		g_autofree gchar *name = get_node(d, "./GwMO/Config/Adapters/good/Name");
		g_autofree gchar *proto = get_node(d, "./GwMO/Config/Adapters/good/Protocol");
		g_autofree gchar *ver = get_node(d, "./GwMO/Config/Adapters/good/Version");
		g_autofree gchar *enabled = get_node(d, "./GwMO/Config/Adapters/good/Enabled");
		g_assert_cmpstr(name, ==, "good");
		g_assert_cmpstr(proto, ==, "TestGood");
		g_assert_cmpstr(ver, ==, "1.2.3");
		g_assert_cmpstr(enabled, ==, "true");
	}

	/* gwmoctl plugins: a table, and JSON */
	g_assert_cmpint(gw_test_run_gwmoctl(d, &out, &err, "plugins", NULL), ==, 0);
	{
		g_auto(GStrv) header = table_row(out, "NAME");
		g_auto(GStrv) good = table_row(out, "good");
		g_auto(GStrv) wrongabi = table_row(out, "wrongabi");
		g_auto(GStrv) foreign = table_row(out, "foreign");
		g_assert_cmpstrv(header,
		                 ((const gchar *const[]){"NAME",
		                                         "STATE",
		                                         "ENABLED",
		                                         "PROTOCOL",
		                                         "VERSION",
		                                         "SHIPPED",
		                                         "PATH OR ERROR",
		                                         NULL}));
		g_assert_cmpstr(good[1], ==, "Running");
		g_assert_cmpstr(good[2], ==, "yes");
		g_assert_cmpstr(good[3], ==, "TestGood");
		g_assert_cmpstr(good[4], ==, "1.2.3");
		g_assert_cmpstr(good[5], ==, "yes");
		g_assert_cmpstr(good[6], ==, path);
		g_assert_cmpstr(foreign[5], ==, "no");
		g_assert_cmpstr(wrongabi[1], ==, "Failed");
		/* never loaded: its protocol and origin are not known */
		g_assert_cmpstr(wrongabi[3], ==, "-");
		g_assert_cmpstr(wrongabi[5], ==, "-");
		g_assert_cmpstr(wrongabi[6], ==, "built for plugin API 42; this gwmod has API 1");
	}
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(gw_test_run_gwmoctl(d, &out, &err, "--json", "plugins", NULL), ==, 0);
	json_parser_load_from_data(parser, out, -1, &error);
	g_assert_no_error(error);
	array = json_node_get_array(json_parser_get_root(parser));
	g_assert_cmpuint(json_array_get_length(array), ==, 6);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonObject *obj = json_array_get_object_element(array, i);
		if (g_strcmp0(json_object_get_string_member(obj, "Name"), "good") != 0)
			continue;
		g_assert_cmpstr(json_object_get_string_member(obj, "State"), ==, "Running");
		g_assert_true(json_object_get_boolean_member(obj, "Enabled"));
		seen_good = TRUE;
	}
	g_assert_true(seen_good);

	/* each refusal is in the log with its reason */
	log = gw_test_daemon_read_log(d);
	g_assert_nonnull(strstr(log, "plugin wrongabi ("));
	g_assert_nonnull(strstr(log, "not loaded: built for plugin API 42"));
	g_assert_nonnull(strstr(log, "plugin failstart ("));
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

/* Enabled: off and on at run time, kept across a restart; plugins-disabled wins */
static void
test_enabled(void)
{
	GwTestDaemon *d = gw_test_daemon_new_with_config("[northbound]\nlisten=\n"
	                                                 "[southbound]\nlisten=\n"
	                                                 "[daemon]\nplugins-disabled=foreign\n");
	const gchar *names[] = {"good", "foreign", NULL};
	g_autofree gchar *dir = make_plugin_dir(d, names);
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;

	start_with_plugins(d, dir);
	assert_plugin(d, "good", "Running", NULL);
	assert_plugin(d, "foreign", "Disabled", "[daemon] plugins-disabled");
	g_assert_false(plugin_bool(d, "foreign", "Enabled"));
	/* the Device object names its Protocol and the plugin adapting it (issue 13 §3), and so
	 * does gwmoctl devices */
	{
		g_autofree gchar *protocol = device_field(d, "TestGood-dev-1", "Protocol");
		g_autofree gchar *adapter = device_field(d, "TestGood-dev-1", "Adapter");
		g_autofree gchar *listing = NULL;
		g_autofree gchar *listing_err = NULL;
		g_autofree gchar *line = NULL;
		g_assert_cmpstr(protocol, ==, "TestGood");
		g_assert_cmpstr(adapter, ==, "good");
		g_assert_cmpint(gw_test_run_gwmoctl(d, &listing, &listing_err, "devices", NULL), ==, 0);
		g_assert_nonnull(strstr(listing, "ADAPTER"));
		line = g_strdup(strstr(listing, "TestGood-dev-1"));
		g_assert_nonnull(line);
		if (strchr(line, '\n') != NULL)
			*strchr(line, '\n') = '\0';
		g_assert_nonnull(strstr(line, " TestGood "));
		g_assert_nonnull(strstr(line, " good "));
	}
	/* never opened: it does not taint */
	g_assert_false(tainted(d));
	g_assert_cmpint(
	    gw_test_run_gwmoctl(d, &out, &err, "plugins", "enable", "foreign", NULL), ==, 1);
	g_assert_nonnull(strstr(err, "disabled in gwmod.conf"));
	assert_plugin(d, "foreign", "Disabled", "[daemon] plugins-disabled");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	g_assert_cmpint(
	    gw_test_run_gwmoctl(d, &out, &err, "plugins", "disable", "good", NULL), ==, 0);
	assert_plugin(d, "good", "Disabled", "Adapters/good/Enabled");
	g_assert_false(plugin_bool(d, "good", "Enabled"));
	/* its device went with it, and no plugin adapts it any more */
	{
		g_autofree gchar *status = device_status(d, "TestGood-dev-1");
		g_autofree gchar *adapter = device_field(d, "TestGood-dev-1", "Adapter");
		g_assert_cmpstr(status, ==, "Detached");
		g_assert_cmpstr(adapter, ==, "");
	}
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(
	    gw_test_run_gwmoctl(d, &out, &err, "plugins", "disable", "nosuch", NULL), ==, 4);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	/* the tree keeps it */
	gw_test_daemon_stop(d);
	start_with_plugins(d, dir);
	assert_plugin(d, "good", "Disabled", "Adapters/good/Enabled");
	g_assert_cmpint(
	    gw_test_run_gwmoctl(d, &out, &err, "plugins", "enable", "good", NULL), ==, 0);
	assert_plugin(d, "good", "Running", NULL);
	g_assert_true(plugin_bool(d, "good", "Enabled"));
	{
		g_autofree gchar *status = device_status(d, "TestGood-dev-1");
		g_autofree gchar *adapter = device_field(d, "TestGood-dev-1", "Adapter");
		g_assert_cmpstr(status, ==, "Attached");
		g_assert_cmpstr(adapter, ==, "good");
	}
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

/* a plugin that kills gwmod in its startup, twice: quarantined at the third start, reported
 * with how to lift it; after a fixed module is installed, gwmoctl plugins reset runs it, and
 * the next start remembers nothing */
static void
test_quarantine(void)
{
	GwTestDaemon *d = gw_test_daemon_new();
	const gchar *names[] = {"good", "abortstart", NULL};
	g_autofree gchar *dir = make_plugin_dir(d, names);
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	g_autofree gchar *log = NULL;

	start_expect_death(d, dir, SIGABRT);
	start_expect_death(d, dir, SIGABRT);
	start_with_plugins(d, dir);
	assert_plugin(d, "abortstart", "Quarantined", "'gwmoctl plugins reset abortstart'");
	assert_plugin(d, "good", "Running", NULL);
	log = gw_test_daemon_read_log(d);
	g_assert_nonnull(
	    strstr(log, "call into plugin abortstart was in flight (2 times in a row)"));
	g_assert_cmpint(gw_test_run_gwmoctl(d, &out, &err, "plugins", NULL), ==, 0);
	{
		g_auto(GStrv) row = table_row(out, "abortstart");
		g_assert_cmpstr(row[1], ==, "Quarantined");
	}
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	/* a fixed release of the plugin */
	replace_module(dir, "abortstart", "foreign");
	g_assert_cmpint(
	    gw_test_run_gwmoctl(d, &out, &err, "plugins", "reset", "abortstart", NULL), ==, 0);
	assert_plugin(d, "abortstart", "Running", NULL);
	gw_test_daemon_stop(d);
	start_with_plugins(d, dir);
	assert_plugin(d, "abortstart", "Running", NULL);
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

/* a plugin whose command never completes: at the job's deadline the device gets 408, the
 * other device its answer, and all the while gwmod answers D-Bus at once (the main loop never
 * waits on a plugin); the call still in flight at a clean stop is no crash */
static void
test_hang(void)
{
	GwTestDaemon *d = gw_test_daemon_new();
	const gchar *names[] = {"good", "hang", NULL};
	g_autofree gchar *dir = make_plugin_dir(d, names);
	const gchar *args[] = {"--json",
	                       "fanout",
	                       "--device",
	                       "TestHang-dev-1",
	                       "--device",
	                       "TestGood-dev-1",
	                       "--get",
	                       "./Test/Value",
	                       "--timeout",
	                       "3",
	                       "--wait",
	                       NULL};
	g_autoptr(GSubprocess) job = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *log = NULL;
	JsonObject *hang;
	JsonObject *good;
	gint64 t0;
	gint64 elapsed;
	gint64 slowest = 0;
	guint calls = 0;

	start_with_plugins(d, dir);
	assert_plugin(d, "hang", "Running", NULL);
	t0 = g_get_monotonic_time();
	job = gwmoctl_spawn(d, args);
	while (g_subprocess_get_identifier(job) != NULL &&
	       g_get_monotonic_time() - t0 < 120 * G_USEC_PER_SEC) {
		gint64 c0 = g_get_monotonic_time();
		g_autofree gchar *dev_id = get_node(d, "./DevInfo/DevId");
		slowest = MAX(slowest, g_get_monotonic_time() - c0);
		calls++;
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_usleep(100 * 1000);
	}
	g_assert_true(wait_exit(job, 10));
	elapsed = g_get_monotonic_time() - t0;
	g_subprocess_communicate_utf8(job, NULL, NULL, &out, NULL, &error);
	g_assert_no_error(error);
	g_test_message("job done after %.1f s; %u D-Bus calls meanwhile, the slowest %.3f s",
	               (gdouble)elapsed / G_USEC_PER_SEC,
	               calls,
	               (gdouble)slowest / G_USEC_PER_SEC);
	/* not every device answered: exit status 1 */
	g_assert_cmpint(g_subprocess_get_exit_status(job), ==, 1);
	json_parser_load_from_data(parser, out, -1, &error);
	g_assert_no_error(error);
	hang = result_of(parser, "TestHang-dev-1");
	good = result_of(parser, "TestGood-dev-1");
	g_assert_cmpint(json_object_get_int_member(hang, "StatusCode"), ==, 408);
	g_assert_cmpint(json_object_get_int_member(good, "StatusCode"), ==, 200);
	/* 408 at the deadline (3 s), not before and not long after */
	g_assert_cmpint(elapsed, >=, 3 * G_USEC_PER_SEC);
	g_assert_cmpint(elapsed, <, 20 * G_USEC_PER_SEC);
	/* gwmod answered throughout */
	g_assert_cmpuint(calls, >=, 5);
	g_assert_cmpint(slowest, <, 2 * G_USEC_PER_SEC);
	log = gw_test_daemon_read_log(d);
	g_assert_nonnull(strstr(log, "plugin hang hangs on Get ./Test/Value"));

	/* the hung call is in flight at this clean stop: no death counted */
	gw_test_daemon_stop(d);
	start_with_plugins(d, dir);
	assert_plugin(d, "hang", "Running", NULL);
	g_clear_pointer(&log, g_free);
	log = gw_test_daemon_read_log(d);
	g_assert_null(strstr(log, "was in flight"));
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

/* a plugin that crashes gwmod in a command, twice: the third start quarantines it; gwmod runs
 * on, the device is Detached and commands for it get 503 (no adapter for its protocol) */
static void
test_crash(void)
{
	GwTestDaemon *d = gw_test_daemon_new();
	const gchar *names[] = {"good", "crash", NULL};
	g_autofree gchar *dir = make_plugin_dir(d, names);
	const gchar *crash_args[] = {
	    "fanout", "--device", "TestCrash-dev-1", "--get", "./Test/Value", NULL};
	g_autoptr(GSubprocess) second = NULL;
	g_autoptr(GSubprocess) job = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	g_autofree gchar *log = NULL;
	g_autofree gchar *status = NULL;
	gboolean asked = FALSE;
	gint64 t0;

	/* first run: a job for its device kills gwmod */
	start_with_plugins(d, dir);
	assert_plugin(d, "crash", "Running", NULL);
	/* gwmod may die before it answers: gwmoctl's exit status is of no interest */
	gw_test_run_gwmoctl(
	    d, &out, &err, "fanout", "--device", "TestCrash-dev-1", "--get", "./Test/Value", NULL);
	g_assert_true(wait_exit(d->daemon, 60));
	assert_died_of(d, d->daemon, SIGABRT);
	g_clear_object(&d->daemon);

	/* second run: the job resumes (or a new one is made once gwmod is up): dead again */
	second = spawn_gwmod(d, dir);
	t0 = g_get_monotonic_time();
	while (g_subprocess_get_identifier(second) != NULL &&
	       g_get_monotonic_time() - t0 < 120 * G_USEC_PER_SEC) {
		if (!asked && name_has_owner(d)) {
			job = gwmoctl_spawn(d, crash_args);
			asked = TRUE;
		}
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_usleep(50 * 1000);
	}
	g_assert_true(wait_exit(second, 10));
	assert_died_of(d, second, SIGABRT);

	/* third run: quarantined, and gwmod serves the rest */
	start_with_plugins(d, dir);
	assert_plugin(d, "crash", "Quarantined", "'gwmoctl plugins reset crash'");
	assert_plugin(d, "good", "Running", NULL);
	log = gw_test_daemon_read_log(d);
	g_assert_nonnull(strstr(log, "call into plugin crash was in flight (2 times in a row)"));
	status = device_status(d, "TestCrash-dev-1");
	g_assert_cmpstr(status, ==, "Detached");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	gw_test_run_gwmoctl(d,
	                    &out,
	                    &err,
	                    "--json",
	                    "fanout",
	                    "--device",
	                    "TestCrash-dev-1",
	                    "--device",
	                    "TestGood-dev-1",
	                    "--get",
	                    "./Test/Value",
	                    "--wait",
	                    NULL);
	json_parser_load_from_data(parser, out, -1, &error);
	g_assert_no_error(error);
	g_assert_cmpint(
	    json_object_get_int_member(result_of(parser, "TestCrash-dev-1"), "StatusCode"),
	    ==,
	    503);
	g_assert_cmpint(
	    json_object_get_int_member(result_of(parser, "TestGood-dev-1"), "StatusCode"), ==, 200);
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_assert_cmpint(argc, ==, 2);
	modules_dir = g_canonicalize_filename(argv[1], NULL);
	g_test_add_func("/dbus-plugins/report", test_report);
	g_test_add_func("/dbus-plugins/enabled", test_enabled);
	g_test_add_func("/dbus-plugins/quarantine", test_quarantine);
	g_test_add_func("/dbus-plugins/hang", test_hang);
	g_test_add_func("/dbus-plugins/crash", test_crash);
	return g_test_run();
}
