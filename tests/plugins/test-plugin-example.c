/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The example plugin (docs/plugin-example) as a third party builds it: against gwmo installed
 * into a DESTDIR, with pkg-config gwmo-plugin-1 alone (tests/tools/build-plugin-example.sh,
 * which also checks what the install put there). The real gwmod loads the built module from
 * --plugin-dir and runs it.
 *
 * $GWMO_TEST_EXAMPLE_PLUGIN_DIR names the plugin directory where CI installed the example
 * (tests/tools/run-tests.sh); without it the test builds it itself.
 *
 * Arguments: the build-plugin-example.sh script, gwmo's build directory.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "gw-test-daemon.h"

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

static void
test_example(void)
{
	g_autofree gchar *workdir = NULL;
	g_autofree gchar *installed = example_plugin_dir(&workdir);
	g_autofree gchar *module = g_build_filename(installed, "libgw_plugin_example.so", NULL);
	g_autofree gchar *devices = NULL;
	g_autofree gchar *plugins = NULL;
	g_autofree gchar *link = NULL;
	g_autofree gchar *lamp = NULL;
	g_autofree gchar *config = NULL;
	g_autofree gchar *state = NULL;
	g_autofree gchar *shipped = NULL;
	g_autofree gchar *protocol = NULL;
	g_autofree gchar *tainted = NULL;
	g_autofree gchar *path = NULL;
	GwTestDaemon *d;

	g_assert_true(g_file_test(module, G_FILE_TEST_IS_REGULAR));
	{
		g_autofree gchar *tmp = g_dir_make_tmp("gwmo-example-devices-XXXXXX", NULL);
		devices = g_build_filename(tmp, "devices", NULL);
		plugins = g_build_filename(tmp, "plugins", NULL);
		g_assert_cmpint(g_mkdir(devices, 0755), ==, 0);
		g_assert_cmpint(g_mkdir(plugins, 0755), ==, 0);
		/* the installed module alone (a plugin directory of gwmo's may hold others) */
		link = g_build_filename(plugins, "libgw_plugin_example.so", NULL);
		g_assert_cmpint(symlink(module, link), ==, 0);
		config = g_strdup_printf("[northbound]\nlisten=\n[southbound]\nlisten=\n"
		                         "[example]\ndirectory=%s\n",
		                         devices);
		d = gw_test_daemon_new_with_config(config);
		lamp = g_build_filename(devices, "lamp.device", NULL);
		g_assert_true(g_file_set_contents(lamp,
		                                  "[device]\nid=lamp-1\nmanufacturer=ACME\n"
		                                  "model=Lamp 2000\nfirmware=1.0.4\n"
		                                  "[values]\npower=off\nbrightness=40\n",
		                                  -1,
		                                  NULL));
		{
			const gchar *args[] = {"--plugin-dir", plugins, NULL};
			gw_test_daemon_start(d, args);
		}
		path = g_strdup("/org/gwmo/Gateway1/Plugins/example");
		state = get_string(d, path, "org.gwmo.Gateway1.Plugin", "State");
		shipped = get_string(d, path, "org.gwmo.Gateway1.Plugin", "Shipped");
		protocol = get_string(d, path, "org.gwmo.Gateway1.Plugin", "Protocol");
		tainted =
		    get_string(d, "/org/gwmo/Gateway1", "org.gwmo.Gateway1.Manager", "Tainted");
		g_assert_cmpstr(state, ==, "Running");
		g_assert_cmpstr(protocol, ==, "Example-Files");
		/* built outside gwmo's tree: it taints */
		g_assert_cmpstr(shipped, ==, "false");
		g_assert_cmpstr(tainted, ==, "true");
		{
			g_autofree gchar *log = gw_test_daemon_read_log(d);
			g_assert_nonnull(strstr(log, "watching "));
			g_assert_nonnull(strstr(log, ": 1 device"));
		}
		gw_test_daemon_stop(d);
		gw_test_daemon_free(d);
		rm_rf(tmp);
	}
	if (workdir != NULL)
		rm_rf(workdir);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_assert_cmpint(argc, ==, 3);
	build_script = argv[1];
	build_root = argv[2];
	g_test_add_func("/plugin-example/installed-and-loaded", test_example);
	return g_test_run();
}
