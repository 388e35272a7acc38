/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "gw-test-daemon.h"

#define GW_TEST_NAME "org.gwmo.Gateway1"
#define GW_TEST_PATH "/org/gwmo/Gateway1"

static void
gw_test_rm_rf(const gchar *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const gchar *name;
	if (dir != NULL) {
		while ((name = g_dir_read_name(dir)) != NULL) {
			g_autofree gchar *child = g_build_filename(path, name, NULL);
			gw_test_rm_rf(child);
		}
	}
	g_remove(path);
}

GwTestDaemon *
gw_test_daemon_new(void)
{
	return gw_test_daemon_new_with_config("[northbound]\nlisten=\n[southbound]\nlisten=\n");
}

GwTestDaemon *
gw_test_daemon_new_with_config(const gchar *extra)
{
	return gw_test_daemon_new_with_dev_id("GW-TEST-0001", extra);
}

GwTestDaemon *
gw_test_daemon_new_with_dev_id(const gchar *dev_id, const gchar *extra)
{
	GwTestDaemon *self = g_new0(GwTestDaemon, 1);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *conf = NULL;
	g_autofree gchar *base = g_strdup_printf("[device]\n"
						 "dev-id=%s\n"
						 "manufacturer=gwmo tests\n"
						 "[gateway]\n"
						 "default-mode=2\n",
						 dev_id);

	conf = g_strconcat(base, extra != NULL ? extra : "", NULL);
	self->tmpdir = g_dir_make_tmp("gwmo-test-XXXXXX", &error);
	g_assert_no_error(error);
	self->state_dir = g_build_filename(self->tmpdir, "state", NULL);
	self->config_path = g_build_filename(self->tmpdir, "gwmod.conf", NULL);
	self->log_path = g_build_filename(self->tmpdir, "gwmod.log", NULL);
	g_file_set_contents(self->config_path, conf, -1, &error);
	g_assert_no_error(error);

	self->bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(self->bus);
	self->connection = g_dbus_connection_new_for_address_sync(
	    g_test_dbus_get_bus_address(self->bus),
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL,
	    NULL,
	    &error);
	g_assert_no_error(error);
	return self;
}

static gboolean
gw_test_name_has_owner(GwTestDaemon *self)
{
	g_autoptr(GVariant) reply = NULL;
	gboolean has_owner = FALSE;
	reply = g_dbus_connection_call_sync(self->connection,
					    "org.freedesktop.DBus",
					    "/org/freedesktop/DBus",
					    "org.freedesktop.DBus",
					    "NameHasOwner",
					    g_variant_new("(s)", GW_TEST_NAME),
					    G_VARIANT_TYPE("(b)"),
					    G_DBUS_CALL_FLAGS_NONE,
					    -1,
					    NULL,
					    NULL);
	if (reply != NULL)
		g_variant_get(reply, "(b)", &has_owner);
	return has_owner;
}

/* the daemon dies with the test, even when an assertion aborts it */
static void
gw_test_child_setup(gpointer user_data)
{
	GwTestDaemon *self = user_data;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (self->nofile_hard > 0) {
		struct rlimit rl = {(rlim_t)self->nofile_soft, (rlim_t)self->nofile_hard};
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

void
gw_test_daemon_start(GwTestDaemon *self, const gchar *const *extra_args)
{
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	const gchar *gwmod = g_getenv("GWMO_TEST_GWMOD");

	g_assert_nonnull(gwmod);
	g_assert_null(self->daemon);
	g_ptr_array_add(argv, (gpointer)gwmod);
	g_ptr_array_add(argv, (gpointer) "--session");
	if (!self->quiet)
		g_ptr_array_add(argv, (gpointer) "--verbose");
	g_ptr_array_add(argv, (gpointer) "--config");
	g_ptr_array_add(argv, self->config_path);
	g_ptr_array_add(argv, (gpointer) "--state-dir");
	g_ptr_array_add(argv, self->state_dir);
	for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)extra_args[i]);
	g_ptr_array_add(argv, NULL);

	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_subprocess_launcher_setenv(launcher,
				     "DBUS_SESSION_BUS_ADDRESS",
				     g_test_dbus_get_bus_address(self->bus),
				     TRUE);
	g_subprocess_launcher_unsetenv(launcher, "STATE_DIRECTORY");
	/* mDNS ([discovery] is on by default) only on a system bus the test made: never on the
	 * machine's (its avahi-daemon would announce test gateways on the real network) */
	if (g_getenv("DBUS_SYSTEM_BUS_ADDRESS") == NULL) {
		g_autofree gchar *none = g_build_filename(self->tmpdir, "no-system-bus", NULL);
		g_autofree gchar *address = g_strconcat("unix:path=", none, NULL);
		g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS", address, TRUE);
	}
	g_subprocess_launcher_set_stderr_file_path(launcher, self->log_path);
	g_subprocess_launcher_set_child_setup(launcher, gw_test_child_setup, self, NULL);
	g_subprocess_launcher_set_flags(launcher, G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	self->daemon =
	    g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	self->starts++;

	/* up to 60 s: sanitizer builds start slowly on a loaded 2-core machine */
	for (guint i = 0; i < 1200; i++) {
		if (gw_test_name_has_owner(self))
			return;
		/* the identifier goes away once the child has exited and was reaped */
		if (g_subprocess_get_identifier(self->daemon) == NULL)
			break;
		g_usleep(50 * 1000);
	}
	{
		g_autofree gchar *log = gw_test_daemon_read_log(self);
		g_printerr("gwmod did not come up; its log:\n%s\n", log);
	}
	g_assert_not_reached();
}

gboolean
gw_test_daemon_is_running(GwTestDaemon *self)
{
	return self->daemon != NULL && g_subprocess_get_identifier(self->daemon) != NULL &&
	       gw_test_name_has_owner(self);
}

void
gw_test_daemon_stop(GwTestDaemon *self)
{
	g_autoptr(GError) error = NULL;
	g_assert_nonnull(self->daemon);
	g_subprocess_send_signal(self->daemon, SIGTERM);
	g_subprocess_wait(self->daemon, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(self->daemon));
	g_assert_cmpint(g_subprocess_get_exit_status(self->daemon), ==, 0);
	g_clear_object(&self->daemon);
	/* the bus forgets the name asynchronously */
	for (guint i = 0; i < 200 && gw_test_name_has_owner(self); i++)
		g_usleep(10 * 1000);
}

void
gw_test_daemon_kill(GwTestDaemon *self)
{
	g_assert_nonnull(self->daemon);
	g_subprocess_force_exit(self->daemon);
	g_subprocess_wait(self->daemon, NULL, NULL);
	g_clear_object(&self->daemon);
	for (guint i = 0; i < 200 && gw_test_name_has_owner(self); i++)
		g_usleep(10 * 1000);
}

gchar *
gw_test_daemon_read_log(GwTestDaemon *self)
{
	gchar *log = NULL;
	if (!g_file_get_contents(self->log_path, &log, NULL, NULL))
		return g_strdup("");
	return log;
}

void
gw_test_daemon_free(GwTestDaemon *self)
{
	if (self->daemon != NULL)
		gw_test_daemon_kill(self);
	g_clear_object(&self->connection);
	g_test_dbus_down(self->bus);
	g_object_unref(self->bus);
	gw_test_rm_rf(self->tmpdir);
	g_free(self->tmpdir);
	g_free(self->state_dir);
	g_free(self->config_path);
	g_free(self->log_path);
	g_free(self);
}

GVariant *
gw_test_call(GwTestDaemon *self,
	     const gchar *method,
	     GVariant *parameters,
	     const gchar *reply_type,
	     GError **error)
{
	return g_dbus_connection_call_sync(self->connection,
					   GW_TEST_NAME,
					   GW_TEST_PATH,
					   "org.gwmo.Gateway1.Manager",
					   method,
					   parameters,
					   reply_type != NULL ? G_VARIANT_TYPE(reply_type) : NULL,
					   G_DBUS_CALL_FLAGS_NONE,
					   60000,
					   NULL,
					   error);
}

void
gw_test_assert_dbus_error(GwTestDaemon *self,
			  const gchar *method,
			  GVariant *parameters,
			  const gchar *error_name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = gw_test_call(self, method, parameters, NULL, &error);
	g_autofree gchar *remote = NULL;

	if (reply != NULL)
		g_printerr("%s unexpectedly succeeded (expected %s)\n", method, error_name);
	g_assert_null(reply);
	g_assert_nonnull(error);
	remote = g_dbus_error_get_remote_error(error);
	if (g_strcmp0(remote, error_name) != 0)
		g_printerr("%s: expected %s, got %s (%s)\n", method, error_name, remote, error->message);
	g_assert_cmpstr(remote, ==, error_name);
}

gint
gw_test_run_gwmoctl(GwTestDaemon *self, gchar **out, gchar **err, ...)
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

	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
					     G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_subprocess_launcher_setenv(launcher,
				     "DBUS_SESSION_BUS_ADDRESS",
				     g_test_dbus_get_bus_address(self->bus),
				     TRUE);
	g_subprocess_launcher_setenv(launcher, "LC_ALL", "C.UTF-8", TRUE);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(proc, NULL, NULL, out, err, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(proc));
	return g_subprocess_get_exit_status(proc);
}

guint16
gw_test_free_port(void)
{
	guint low = 32768;
	g_autofree gchar *range = NULL;

	/* the ephemeral range starts at "low"; our ports are taken from [10000, low) */
	if (g_file_get_contents("/proc/sys/net/ipv4/ip_local_port_range", &range, NULL, NULL)) {
		guint64 v = g_ascii_strtoull(range, NULL, 10);
		if (v > 11000 && v <= 65535)
			low = (guint)v;
	}
	for (guint attempt = 0; attempt < 1000; attempt++) {
		guint16 port = (guint16)g_random_int_range(10000, (gint32)low);
		g_autoptr(GSocket) s =
		    g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
		g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
		g_autoptr(GSocketAddress) a = g_inet_socket_address_new(lo, port);
		if (s != NULL && g_socket_bind(s, a, TRUE, NULL))
			return port;
	}
	g_error("no free TCP port on 127.0.0.1 in [10000, %u)", low);
	return 0;
}

GHashTable *
gw_test_managed_objects(GwTestDaemon *self, const gchar *iface)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) objects = NULL;
	GHashTable *result =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
	GVariantIter iter;
	const gchar *path;
	GVariant *ifaces_raw;

	reply = g_dbus_connection_call_sync(self->connection,
	                                    "org.gwmo.Gateway1",
	                                    "/org/gwmo/Gateway1",
	                                    "org.freedesktop.DBus.ObjectManager",
	                                    "GetManagedObjects",
	                                    NULL,
	                                    G_VARIANT_TYPE("(a{oa{sa{sv}}})"),
	                                    G_DBUS_CALL_FLAGS_NONE,
	                                    60000,
	                                    NULL,
	                                    &error);
	g_assert_no_error(error);
	objects = g_variant_get_child_value(reply, 0);
	g_variant_iter_init(&iter, objects);
	while (g_variant_iter_next(&iter, "{&o@a{sa{sv}}}", &path, &ifaces_raw)) {
		g_autoptr(GVariant) ifaces = ifaces_raw;
		GVariant *props = g_variant_lookup_value(ifaces, iface, G_VARIANT_TYPE_VARDICT);
		if (props != NULL)
			g_hash_table_insert(result, g_strdup(path), props);
	}
	return result;
}
